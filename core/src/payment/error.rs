//! Payments' refusals.

use crate::error::class::{AreaError, ErrorClass};
use crate::ids::{OrderId, PaymentId};
use crate::money::Money;
use crate::order::OrderStatus;
use crate::payment::ProviderError;

/// Why a payment step refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// A payment whose orders cannot be paid (not pending, or expired).
    #[error("order {order} is {status:?} and cannot be paid")]
    OrderNotPayable {
        /// Order.
        order: OrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// A callback whose amount differs from the payment's.
    #[error("payment {payment}: callback amount {got} differs from {expected}")]
    AmountMismatch {
        /// Payment.
        payment: PaymentId,
        /// Payment amount, yuan.
        expected: Money,
        /// Callback amount, yuan.
        got: Money,
    },
    /// A second success for a paid payment with another transaction number.
    #[error("payment {payment} was already paid by transaction {existing}")]
    AlreadyConfirmed {
        /// Payment.
        payment: PaymentId,
        /// The transaction that paid it.
        existing: String,
    },
    /// The payment provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl AreaError for PaymentError {
    fn kind(&self) -> &'static str {
        match self {
            PaymentError::OrderNotPayable { .. } => "order_not_payable",
            PaymentError::AmountMismatch { .. } => "payment_amount_mismatch",
            PaymentError::AlreadyConfirmed { .. } => "payment_already_confirmed",
            PaymentError::Provider(_) => "payment_provider_error",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            PaymentError::Provider(_) => ErrorClass::Unavailable,
            _ => ErrorClass::Conflict,
        }
    }

    fn message_zh(&self) -> &'static str {
        match self {
            PaymentError::OrderNotPayable { .. } => "订单不可支付",
            PaymentError::AmountMismatch { .. } => "支付金额不一致",
            PaymentError::AlreadyConfirmed { .. } => "支付已确认",
            PaymentError::Provider(_) => "支付服务暂不可用",
        }
    }
}
