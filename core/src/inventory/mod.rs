//! Inventory (seed 002 §10.2 库存): a SKU's stock in three buckets and the
//! guarded moves between them. Both stores apply a move with
//! [`Stock::apply`] (the memory store on its rows; PostgreSQL as one
//! conditional `UPDATE` that this function describes), so the rule is
//! written once.

use serde::{Deserialize, Serialize};

use crate::ids::SkuId;

pub mod error;
pub mod writes;

pub use error::StockError;

/// A move refused because its source bucket holds fewer units than moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sku {sku}: {requested} requested, {available} available")]
pub struct StockShort {
    /// SKU.
    pub sku: SkuId,
    /// Units asked for.
    pub requested: u32,
    /// Units in the source bucket.
    pub available: u32,
}

/// Stock of one SKU, in units. `available + reserved + sold` only changes by
/// restocking or adjustment; checkout moves units from `available` to
/// `reserved`, payment from `reserved` to `sold`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stock {
    /// Units that can be ordered now.
    pub available: u32,
    /// Units held by unpaid orders.
    #[serde(default)]
    pub reserved: u32,
    /// Units paid for and not returned.
    #[serde(default)]
    pub sold: u32,
}

/// A stock movement; each maps to one guarded SQL `UPDATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StockMove {
    /// available → reserved (checkout). Guard: available ≥ n.
    Reserve,
    /// reserved → available (unpaid order cancelled or closed).
    Release,
    /// reserved → sold (payment confirmed).
    Commit,
    /// sold → available (paid order cancelled, returned goods received).
    Restock,
    /// outside → available (goods received into stock; seed 002 §10.2 调整库存).
    Receive,
    /// available → outside (stock written off). Guard: available ≥ n.
    WriteOff,
}

impl Stock {
    /// Applies `movement` of `quantity` units to this stock.
    ///
    /// # Errors
    /// [`StockShort`] when the source bucket holds fewer
    /// than `quantity` units; the stock is left unchanged.
    pub fn apply(&mut self, sku: SkuId, movement: StockMove, quantity: u32) -> Result<(), StockShort> {
        let (from, to) = match movement {
            StockMove::Receive => {
                self.available = self.available.saturating_add(quantity);
                return Ok(());
            }
            StockMove::WriteOff => {
                if self.available < quantity {
                    return Err(StockShort { sku, requested: quantity, available: self.available });
                }
                self.available -= quantity;
                return Ok(());
            }
            StockMove::Reserve => (self.available, self.reserved),
            StockMove::Release => (self.reserved, self.available),
            StockMove::Commit => (self.reserved, self.sold),
            StockMove::Restock => (self.sold, self.available),
        };
        if from < quantity {
            return Err(StockShort { sku, requested: quantity, available: from });
        }
        let (from, to) = (from - quantity, to.saturating_add(quantity));
        match movement {
            StockMove::Reserve => (self.available, self.reserved) = (from, to),
            StockMove::Release => (self.reserved, self.available) = (from, to),
            StockMove::Commit => (self.reserved, self.sold) = (from, to),
            StockMove::Restock => (self.sold, self.available) = (from, to),
            StockMove::Receive | StockMove::WriteOff => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_never_goes_below_zero() {
        let mut s = Stock { available: 2, reserved: 0, sold: 0 };
        assert!(s.apply(SkuId(1), StockMove::Reserve, 3).is_err());
        assert_eq!(s.available, 2);
        s.apply(SkuId(1), StockMove::Reserve, 2).expect("two units");
        s.apply(SkuId(1), StockMove::Commit, 2).expect("commit");
        assert_eq!(s, Stock { available: 0, reserved: 0, sold: 2 });
    }
}
