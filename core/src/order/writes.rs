//! Orders' writes.

use crate::event::{Aggregate, Event};
use crate::order::Order;

/// A write to orders.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderWrite {
    /// Inserts a new order (version 0); refused when the id is taken.
    Insert(Order),
    /// Replaces a order whose stored version equals its `version`
    /// (optimistic concurrency); refused with `GuardFailure::VersionConflict`.
    Update(Order),
}

impl OrderWrite {
    /// The order written.
    pub fn order(&self) -> &Order {
        match self {
            OrderWrite::Insert(o) | OrderWrite::Update(o) => o,
        }
    }

    /// The event this write makes: the order placed, or moved (with the
    /// status it left and the remark of its last history row).
    pub fn event(&self) -> (Aggregate, u64, Event) {
        match self {
            OrderWrite::Insert(o) => (
                Aggregate::Order,
                o.id.0,
                Event::OrderPlaced { number: o.number.clone(), user: o.user, merchant: o.merchant, payable: o.payable },
            ),
            OrderWrite::Update(o) => {
                let last = o.history.last();
                let event = Event::OrderChanged {
                    from: last.and_then(|h| h.from),
                    to: o.status,
                    remark: last.map(|h| h.remark.clone()).unwrap_or_default(),
                    refunded_total: o.refunded_total,
                };
                (Aggregate::Order, o.id.0, event)
            }
        }
    }
}
