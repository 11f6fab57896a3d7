//! Orders' refusals.

use crate::error::class::{AreaError, ErrorClass};
use crate::order::IllegalTransition;

/// Why an order command refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The command does not apply in the order's status (the table of
    /// [`crate::order::next_status`]).
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
}

impl AreaError for OrderError {
    fn kind(&self) -> &'static str {
        "illegal_order_transition"
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::Conflict
    }

    fn message_zh(&self) -> &'static str {
        "订单状态不允许此操作"
    }
}
