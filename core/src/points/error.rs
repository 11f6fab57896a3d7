//! Points' refusals.

use crate::error::class::{AreaError, ErrorClass};

/// Why points cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointsError {
    /// A freeze or deduction larger than the balance.
    #[error("{needed} points needed, balance is {balance}")]
    Insufficient {
        /// Points needed.
        needed: i64,
        /// Balance.
        balance: i64,
    },
}

impl AreaError for PointsError {
    fn kind(&self) -> &'static str {
        "insufficient_points"
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::Conflict
    }

    fn message_zh(&self) -> &'static str {
        "积分不足"
    }
}
