//! Payments' writes.

use crate::event::{Aggregate, Event};
use crate::payment::Payment;

/// A write to payments.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentWrite {
    /// Inserts a new payment (version 0); refused when the id is taken.
    Insert(Payment),
    /// Replaces a payment whose stored version equals its `version`
    /// (optimistic concurrency); refused with `GuardFailure::VersionConflict`.
    Update(Payment),
}

impl PaymentWrite {
    /// The event this write makes: the payment created, or changed (status,
    /// refunds).
    pub fn event(&self) -> (Aggregate, u64, Event) {
        match self {
            PaymentWrite::Insert(p) => {
                (Aggregate::Payment, p.id.0, Event::PaymentCreated { number: p.number.clone(), amount: p.amount })
            }
            PaymentWrite::Update(p) => (
                Aggregate::Payment,
                p.id.0,
                Event::PaymentChanged {
                    status: p.status,
                    refunded_amount: p.refunded_amount,
                    refunds: p.refunds.clone(),
                },
            ),
        }
    }
}
