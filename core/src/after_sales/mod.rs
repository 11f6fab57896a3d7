//! After-sales (售后), DESIGN §8 and seed 000 §6: refund only, return and
//! refund, exchange; the status machine with its log; refundable amounts
//! from the order's allocations and the threshold clawback.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AfterSaleId, MerchantId, OrderId, UserId};
use crate::money::{Money, Rounding, allocate};
use crate::order::{Actor, Order, OrderLine};

pub mod commands;
pub mod error;
pub mod queries;
pub mod refund;
pub mod store;
pub mod writes;

pub use error::AfterSaleError;

pub use commands::AfterSaleRequestLine;

/// What the buyer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AfterSaleKind {
    /// 仅退款: money back, goods kept (or never shipped).
    RefundOnly,
    /// 退货退款: goods back, then money back.
    ReturnAndRefund,
    /// 换货: goods back, the same goods sent again.
    Exchange,
}

impl AfterSaleKind {
    /// True for the kinds that pay money back.
    pub fn refunds(self) -> bool {
        !matches!(self, AfterSaleKind::Exchange)
    }
}

/// After-sales status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AfterSaleStatus {
    /// 待审核.
    Requested,
    /// 同意: for returns and exchanges, waiting for the buyer to send goods back.
    Approved,
    /// 拒绝.
    Rejected,
    /// Goods on their way back.
    AwaitingReturn,
    /// Goods received by the merchant.
    Received,
    /// Money refunded.
    Refunded,
    /// Replacement shipped (exchange).
    Reshipped,
    /// 用户取消.
    Cancelled,
}

impl AfterSaleStatus {
    /// True once the case can no longer move.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Rejected | Self::Refunded | Self::Reshipped | Self::Cancelled)
    }

    /// True when the case no longer holds its quantities (rejected, cancelled).
    pub fn is_withdrawn(self) -> bool {
        matches!(self, Self::Rejected | Self::Cancelled)
    }
}

/// A step of an after-sales case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AfterSaleAction {
    /// Buyer applies.
    Apply,
    /// Merchant/admin approves.
    Approve,
    /// Merchant/admin rejects.
    Reject,
    /// Buyer sends goods back (tracking number).
    ShipBack,
    /// Merchant receives the goods.
    Receive,
    /// Money refunded through the payment provider.
    Refund,
    /// Exchange goods shipped again.
    Reship,
    /// Buyer withdraws.
    Cancel,
}

/// The status machine: where `action` leads a case of `kind` in `from`, or
/// `None` when it does not apply.
pub fn next_status(kind: AfterSaleKind, from: AfterSaleStatus, action: AfterSaleAction) -> Option<AfterSaleStatus> {
    use AfterSaleAction as A;
    use AfterSaleKind as K;
    use AfterSaleStatus as S;
    match (kind, from, action) {
        (_, S::Requested, A::Approve) => Some(S::Approved),
        (_, S::Requested, A::Reject) => Some(S::Rejected),
        (_, S::Requested, A::Cancel) => Some(S::Cancelled),
        (K::RefundOnly, S::Approved, A::Refund) => Some(S::Refunded),
        (K::ReturnAndRefund | K::Exchange, S::Approved, A::ShipBack) => Some(S::AwaitingReturn),
        (K::ReturnAndRefund | K::Exchange, S::AwaitingReturn, A::Receive) => Some(S::Received),
        (K::ReturnAndRefund, S::Received, A::Refund) => Some(S::Refunded),
        (K::Exchange, S::Received, A::Reship) => Some(S::Reshipped),
        _ => None,
    }
}

/// A line of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AfterSaleLine {
    /// Order line number.
    pub line_no: u32,
    /// Units.
    pub quantity: u32,
    /// Refundable amount for these units, yuan (zero for exchange).
    pub amount: Money,
    /// Refunded to this line, yuan, once refunded.
    #[serde(default)]
    pub refunded: Money,
}

/// One log row (seed 000 §6.2 progress logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AfterSaleLog {
    /// Step.
    pub action: AfterSaleAction,
    /// Who.
    pub operator: Actor,
    /// Status after the step.
    pub status: AfterSaleStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// Note.
    pub note: String,
}

/// An after-sales case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AfterSale {
    /// Id.
    pub id: AfterSaleId,
    /// Case number ("AS20261125000123").
    pub number: String,
    /// Order.
    pub order: OrderId,
    /// Buyer.
    pub user: UserId,
    /// Seller.
    pub merchant: MerchantId,
    /// Kind.
    pub kind: AfterSaleKind,
    /// Status.
    pub status: AfterSaleStatus,
    /// Lines.
    pub lines: Vec<AfterSaleLine>,
    /// Buyer's reason.
    pub reason: String,
    /// Σ line amounts, yuan.
    pub goods_amount: Money,
    /// Threshold clawback (DESIGN §8): discount the kept lines no longer earn,
    /// yuan; negative when an earlier clawback is given back because the
    /// rest of the scope came back too.
    pub clawback: Money,
    /// The clawback per coupon of the order (same order as `Order::coupons`),
    /// yuan; undone when the case is withdrawn.
    pub clawback_by_coupon: Vec<Money>,
    /// goods_amount − clawback, yuan: what the refund step pays (shipping
    /// may be added then).
    pub refund_amount: Money,
    /// Shipping refunded with it, yuan.
    pub shipping_refund: Money,
    /// Redeemed points given back.
    pub points_returned: i64,
    /// Earned points taken back.
    pub points_reversed: i64,
    /// The buyer's return tracking number.
    pub return_tracking_no: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Log, oldest first.
    pub logs: Vec<AfterSaleLog>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// `total × part / whole`, rounded by `rounding` (`whole` 0 gives 0).
pub fn pro_rata(total: Money, part: u32, whole: u32, rounding: Rounding) -> Money {
    rounding.scale(total, i64::from(part), i64::from(whole))
}

/// The refundable amount of `quantity` more units of `line`: the line's
/// payable pro rata by quantity, counted cumulatively over every refund
/// claim so that all units together come to the payable exactly.
pub fn refundable(line: &OrderLine, quantity: u32, rounding: Rounding) -> Money {
    let before = line.refund_claimed_quantity;
    let after = before.saturating_add(quantity).min(line.quantity);
    pro_rata(line.payable, after, line.quantity, rounding) - pro_rata(line.payable, before, line.quantity, rounding)
}

/// The threshold clawback of a case that claims `claims` (line number, units)
/// on `order` (DESIGN §8): for every threshold coupon the order used, when
/// the in-scope goods the buyer keeps fall below its threshold (and are not
/// zero), the discount allocated to the kept units is due back; the result
/// per coupon is what is due minus what was already clawed back. Returns one
/// delta per entry of `order.coupons`, yuan.
pub fn clawback(order: &Order, claims: &[(u32, u32)], rounding: Rounding) -> Vec<Money> {
    order
        .coupons
        .iter()
        .map(|usage| {
            let threshold = usage.kind.threshold();
            if threshold.is_zero() {
                return Money::ZERO;
            }
            let mut returned_base = Money::ZERO;
            let mut kept_discount = Money::ZERO;
            for &(line_no, base, discount) in &usage.lines {
                let Some(line) = order.line(line_no) else { continue };
                let extra: u32 = claims.iter().filter(|c| c.0 == line_no).map(|c| c.1).sum();
                let claimed = (line.refund_claimed_quantity + extra).min(line.quantity);
                returned_base += pro_rata(base, claimed, line.quantity, rounding);
                kept_discount += discount - pro_rata(discount, claimed, line.quantity, rounding);
            }
            let kept = usage.measured_on - returned_base;
            let due = if kept.fen() > 0 && kept < threshold { kept_discount } else { Money::ZERO };
            due - usage.clawed_back
        })
        .collect()
}

/// Splits a case's net refund over the order's lines: first over the case's
/// own lines in proportion to their amounts, each up to what it has left to
/// refund (payable − refunded); whatever does not fit there (a clawback given
/// back) goes to the order's other lines with room left, in line order.
/// Returns (line number, amount) for every line that gets something; the sum
/// is `min(net, room on all lines)`.
pub fn distribute_refund(order: &Order, case_lines: &[AfterSaleLine], net: Money) -> Vec<(u32, Money)> {
    let room = |line_no: u32| order.line(line_no).map_or(Money::ZERO, |l| l.payable - l.refunded_amount);
    let weights: Vec<Money> = case_lines.iter().map(|l| l.amount).collect();
    let shares = allocate(net.max(Money::ZERO), &weights);
    let mut out: Vec<(u32, Money)> = Vec::new();
    let mut left = Money::ZERO;
    for (cl, share) in case_lines.iter().zip(shares) {
        let give = share.min(room(cl.line_no)).max(Money::ZERO);
        left += share - give;
        out.push((cl.line_no, give));
    }
    for line in &order.lines {
        if left.fen() <= 0 {
            break;
        }
        let taken: Money = out.iter().filter(|(n, _)| *n == line.line_no).map(|(_, m)| *m).sum();
        let give = (room(line.line_no) - taken).min(left).max(Money::ZERO);
        if give.fen() > 0 {
            match out.iter_mut().find(|(n, _)| *n == line.line_no) {
                Some(entry) => entry.1 += give,
                None => out.push((line.line_no, give)),
            }
            left -= give;
        }
    }
    out.retain(|(_, m)| m.fen() > 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use AfterSaleAction as A;
    use AfterSaleKind as K;
    use AfterSaleStatus as S;

    #[test]
    fn return_walks_every_step() {
        let mut s = S::Requested;
        for a in [A::Approve, A::ShipBack, A::Receive, A::Refund] {
            s = next_status(K::ReturnAndRefund, s, a).expect("legal step");
        }
        assert_eq!(s, S::Refunded);
        assert_eq!(next_status(K::RefundOnly, S::Approved, A::ShipBack), None);
        assert_eq!(next_status(K::Exchange, S::Received, A::Refund), None);
        assert_eq!(next_status(K::Exchange, S::Received, A::Reship), Some(S::Reshipped));
    }
}

/// Which cases a list shows (every field narrows it); lists are newest
/// first by creation time, then id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AfterSaleFilter {
    /// Only this buyer's cases.
    pub user: Option<UserId>,
    /// Only cases of this merchant's orders.
    pub merchant: Option<MerchantId>,
    /// Only cases of this order.
    pub order: Option<OrderId>,
    /// Only cases in this status.
    pub status: Option<AfterSaleStatus>,
}

impl AfterSaleFilter {
    /// The rule, row by row (what stores serve from their indexes).
    pub fn admits(&self, case: &AfterSale) -> bool {
        self.user.is_none_or(|u| case.user == u)
            && self.merchant.is_none_or(|m| case.merchant == m)
            && self.order.is_none_or(|o| case.order == o)
            && self.status.is_none_or(|s| case.status == s)
    }
}
