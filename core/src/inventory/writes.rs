//! Inventory's writes: guarded moves between a SKU's stock buckets.

use crate::event::{Aggregate, Event};
use crate::ids::OrderId;
use crate::ids::SkuId;
use crate::inventory::StockMove;

/// A write to stock.
#[derive(Debug, Clone, PartialEq)]
pub enum StockWrite {
    /// Moves `quantity` units of a SKU between stock buckets; refused with
    /// `GuardFailure::InsufficientStock` when the source bucket holds fewer
    /// ([`crate::inventory::Stock::apply`], the rule both stores run).
    Move {
        /// SKU.
        sku: SkuId,
        /// Movement.
        movement: StockMove,
        /// Units.
        quantity: u32,
    },
}

impl StockWrite {
    /// The event this write makes: stock moved, with the order of the batch
    /// that moved it (`order`, when the batch holds one with this SKU).
    pub fn event(&self, order: impl Fn(SkuId) -> Option<OrderId>) -> (Aggregate, u64, Event) {
        match self {
            StockWrite::Move { sku, movement, quantity } => (
                Aggregate::Sku,
                sku.0,
                Event::StockMoved { movement: *movement, quantity: *quantity, order: order(*sku) },
            ),
        }
    }
}
