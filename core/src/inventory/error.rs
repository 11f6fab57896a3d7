//! Inventory's refusals.

use crate::error::class::{AreaError, ErrorClass};
use crate::ids::SkuId;
use crate::inventory::StockShort;

/// Why stock cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// Fewer units available than asked for.
    #[error("sku {sku}: {requested} requested, only {available} available")]
    Insufficient {
        /// SKU.
        sku: SkuId,
        /// Units asked for.
        requested: u32,
        /// Units available.
        available: u32,
    },
}

impl From<StockShort> for StockError {
    fn from(s: StockShort) -> StockError {
        StockError::Insufficient { sku: s.sku, requested: s.requested, available: s.available }
    }
}

impl AreaError for StockError {
    fn kind(&self) -> &'static str {
        "insufficient_stock"
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::Conflict
    }

    fn message_zh(&self) -> &'static str {
        "库存不足"
    }
}
