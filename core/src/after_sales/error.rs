//! After-sales' refusals (seed 001 §7).

use chrono::{DateTime, Utc};

use crate::after_sales::{AfterSaleAction, AfterSaleKind, AfterSaleStatus};
use crate::error::class::{AreaError, ErrorClass};
use crate::ids::{AfterSaleId, OrderId};
use crate::money::Money;
use crate::order::OrderStatus;

/// Why an after-sales request or step refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AfterSaleError {
    /// A step in the wrong status.
    #[error("after-sale {case} ({kind:?}) is {from:?}; {action:?} does not apply")]
    IllegalStep {
        /// Case.
        case: AfterSaleId,
        /// Its kind.
        kind: AfterSaleKind,
        /// Its status.
        from: AfterSaleStatus,
        /// The refused step.
        action: AfterSaleAction,
    },
    /// After-sales on an order that is not paid, or a return before shipping.
    #[error("order {order} is {status:?}; {kind:?} is not available")]
    NotAllowed {
        /// Order.
        order: OrderId,
        /// Its status.
        status: OrderStatus,
        /// Kind asked for.
        kind: AfterSaleKind,
    },
    /// The after-sales window after completion has passed.
    #[error("order {order}: the after-sales window closed at {closed_at}")]
    WindowClosed {
        /// Order.
        order: OrderId,
        /// End of the window.
        closed_at: DateTime<Utc>,
    },
    /// A paid order with a case still open cannot be cancelled.
    #[error("order {order} has an after-sales case in progress")]
    InProgress {
        /// Order.
        order: OrderId,
    },
    /// More units than are left for after-sales on a line.
    #[error("order line {line_no}: {requested} units asked, {available} left for after-sales")]
    QuantityExceeded {
        /// Line.
        line_no: u32,
        /// Units asked.
        requested: u32,
        /// Units left.
        available: u32,
    },
    /// More money than the line's refundable amount.
    #[error("order line {line_no}: {requested} asked, at most {max} refundable")]
    RefundExceedsRefundable {
        /// Line.
        line_no: u32,
        /// Amount asked, yuan.
        requested: Money,
        /// Refundable, yuan.
        max: Money,
    },
}

impl AreaError for AfterSaleError {
    fn kind(&self) -> &'static str {
        match self {
            AfterSaleError::IllegalStep { .. } => "illegal_after_sale_step",
            AfterSaleError::NotAllowed { .. } => "after_sale_not_allowed",
            AfterSaleError::WindowClosed { .. } => "after_sale_window_closed",
            AfterSaleError::InProgress { .. } => "after_sale_in_progress",
            AfterSaleError::QuantityExceeded { .. } => "after_sale_quantity_exceeded",
            AfterSaleError::RefundExceedsRefundable { .. } => "refund_exceeds_refundable",
        }
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::Conflict
    }

    fn message_zh(&self) -> &'static str {
        match self {
            AfterSaleError::IllegalStep { .. } => "售后状态不允许此操作",
            AfterSaleError::NotAllowed { .. } => "该订单不可申请此类售后",
            AfterSaleError::WindowClosed { .. } => "已超过售后期限",
            AfterSaleError::InProgress { .. } => "该订单有进行中的售后",
            AfterSaleError::QuantityExceeded { .. } => "售后数量超过可申请数量",
            AfterSaleError::RefundExceedsRefundable { .. } => "退款金额超过可退金额",
        }
    }
}
