//! After-sales' writes.

use crate::after_sales::AfterSale;
use crate::event::{Aggregate, Event};

/// A write to after-sales cases.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterSaleWrite {
    /// Inserts a new after-sales case (version 0); refused when the id is taken.
    Insert(AfterSale),
    /// Replaces an after-sales case whose stored version equals its `version`
    /// (optimistic concurrency); refused with `GuardFailure::VersionConflict`.
    Update(AfterSale),
}

impl AfterSaleWrite {
    /// The event this write makes: the case applied, or stepped (none for an
    /// update without a log row).
    pub fn event(&self) -> Option<(Aggregate, u64, Event)> {
        Some(match self {
            AfterSaleWrite::Insert(a) => (
                Aggregate::AfterSale,
                a.id.0,
                Event::AfterSaleApplied { order: a.order, refund_amount: a.refund_amount },
            ),
            AfterSaleWrite::Update(a) => {
                let action = a.logs.last().map(|l| l.action)?;
                (Aggregate::AfterSale, a.id.0, Event::AfterSaleStepped { action, status: a.status })
            }
        })
    }
}
