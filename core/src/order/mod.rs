//! Orders (DESIGN §6, seed 004 §6): the record, its lines with their
//! allocations, and the one transition function of the status machine.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::coupon::{CouponKind, StackLayer};
use crate::ids::{
    CheckoutId, CouponTemplateId, MerchantId, OrderId, PaymentId, ProductId, SkuId, UserCouponId, UserId,
};
use crate::money::Money;

pub mod cancel;
pub mod commands;
pub mod error;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod queries;
pub mod store;
pub mod writes;

pub use error::OrderError;

/// Order status (seed 004 §6.3 codes 0–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// 待支付.
    PendingPayment,
    /// 待发货.
    AwaitingShipment,
    /// 待收货.
    Shipped,
    /// 已完成.
    Completed,
    /// 已取消.
    Cancelled,
    /// 已关闭.
    Closed,
}

impl OrderStatus {
    /// True once the order has been paid (and not ended unpaid).
    pub fn is_paid(self) -> bool {
        matches!(self, OrderStatus::AwaitingShipment | OrderStatus::Shipped | OrderStatus::Completed)
    }
}

/// A command that moves an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderCommand {
    /// Payment confirmed.
    ConfirmPayment,
    /// Merchant or admin ships.
    Ship,
    /// Buyer confirms receipt.
    ConfirmReceipt,
    /// The system confirms receipt after the auto-confirm period.
    AutoConfirm,
    /// Buyer or admin cancels (paid: full refund).
    Cancel,
    /// The payment deadline passed.
    CloseUnpaid,
    /// Every line fully refunded.
    CloseRefunded,
}

/// An illegal transition: the command does not apply in this status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("order {order} is {from:?}; {command:?} does not apply")]
pub struct IllegalTransition {
    /// Order.
    pub order: OrderId,
    /// Its status.
    pub from: OrderStatus,
    /// The refused command.
    pub command: OrderCommand,
}

/// The status machine (DESIGN §6): the status `command` leads to from `from`,
/// or `None` when it does not apply.
pub fn next_status(from: OrderStatus, command: OrderCommand) -> Option<OrderStatus> {
    use OrderCommand as C;
    use OrderStatus as S;
    match (from, command) {
        (S::PendingPayment, C::ConfirmPayment) => Some(S::AwaitingShipment),
        (S::AwaitingShipment, C::Ship) => Some(S::Shipped),
        (S::Shipped, C::ConfirmReceipt | C::AutoConfirm) => Some(S::Completed),
        (S::PendingPayment | S::AwaitingShipment, C::Cancel) => Some(S::Cancelled),
        (S::PendingPayment, C::CloseUnpaid) => Some(S::Closed),
        (S::AwaitingShipment | S::Shipped | S::Completed, C::CloseRefunded) => Some(S::Closed),
        _ => None,
    }
}

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// The buyer.
    Buyer(UserId),
    /// Merchant staff.
    Merchant(MerchantId),
    /// An admin.
    Admin(UserId),
    /// The system (scheduler, payment callback).
    System,
}

impl Actor {
    /// True when this actor may see a record owned by buyer `user` and sold
    /// by `merchant`: the buyer, that merchant, admins and the system.
    pub fn may_see(self, user: UserId, merchant: MerchantId) -> bool {
        match self {
            Actor::Buyer(u) => u == user,
            Actor::Merchant(m) => m == merchant,
            Actor::Admin(_) | Actor::System => true,
        }
    }
}

/// One row of an order's status history (seed 004 §6.4 `status_history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    /// Previous status; `None` for creation.
    pub from: Option<OrderStatus>,
    /// New status.
    pub to: OrderStatus,
    /// Who.
    pub actor: Actor,
    /// Note ("客户完成支付").
    pub remark: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A line of an order, with its share of every reduction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    /// Line number within the order, from 1.
    pub line_no: u32,
    /// SKU.
    pub sku: SkuId,
    /// Product.
    pub product: ProductId,
    /// Product name at the time of the order.
    pub name: String,
    /// Units bought.
    pub quantity: u32,
    /// SKU price per unit, yuan.
    pub list_unit_price: Money,
    /// Price per unit paid before order-level reductions, yuan.
    pub unit_price: Money,
    /// unit_price × quantity, yuan.
    pub subtotal: Money,
    /// Coupon discounts allocated here, yuan.
    pub coupon_discount: Money,
    /// Points allocated here.
    pub points_used: i64,
    /// Their value, yuan.
    pub points_deduction: Money,
    /// What the buyer pays for the line, yuan (excl. shipping).
    pub payable: Money,
    /// Units under an open or finished after-sales case.
    #[serde(default)]
    pub after_sales_quantity: u32,
    /// Units claimed by an open or finished refund (refund only, return and
    /// refund): the base of the pro-rata refundable amount.
    #[serde(default)]
    pub refund_claimed_quantity: u32,
    /// Units refunded.
    #[serde(default)]
    pub refunded_quantity: u32,
    /// Amount refunded, yuan (≤ payable).
    #[serde(default)]
    pub refunded_amount: Money,
    /// Redeemed points given back.
    #[serde(default)]
    pub points_returned: i64,
}

impl OrderLine {
    /// Every unit settled by after-sales and every fen of its payable
    /// refunded: a partial compensation (an amount below the payable) leaves
    /// the line open.
    pub fn fully_refunded(&self) -> bool {
        self.refunded_quantity >= self.quantity && self.refunded_amount >= self.payable
    }
}

/// A coupon an order used, with what it needs for clawback (DESIGN §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CouponUse {
    /// The user's coupon.
    pub coupon: UserCouponId,
    /// Its template.
    pub template: CouponTemplateId,
    /// Its rule, copied at checkout.
    pub kind: CouponKind,
    /// Its layer.
    pub layer: Option<StackLayer>,
    /// This order's lines in its scope: (line number, amount the coupon was
    /// measured on, discount allocated to the line), yuan.
    pub lines: Vec<(u32, Money, Money)>,
    /// Eligible subtotal it was measured on across the checkout, yuan.
    pub measured_on: Money,
    /// Its discount allocated to this order, yuan.
    pub discount: Money,
    /// Discount taken back by threshold clawback so far, yuan.
    #[serde(default)]
    pub clawed_back: Money,
}

/// Where an order goes: a snapshot of the buyer's address taken at checkout,
/// so later edits of the address book do not move a placed order (seed 001
/// §6 `address`, seed 004 §6.2 `address_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShippingAddress {
    /// Receiver's name.
    pub receiver: String,
    /// Receiver's mobile number.
    pub phone: String,
    /// Province.
    pub province: String,
    /// City.
    pub city: String,
    /// District.
    pub district: String,
    /// Street and number.
    pub detail: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
}

/// Shipment details (seed 003 ship, seed 004 dispatch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shipment {
    /// Carrier ("顺丰").
    pub carrier: String,
    /// Tracking number.
    pub tracking_no: String,
    /// When it shipped.
    pub at: DateTime<Utc>,
}

/// An order: one merchant's part of a checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    /// Id.
    pub id: OrderId,
    /// Order number ("ORD20261125000123").
    pub number: String,
    /// The checkout it came from.
    pub checkout: CheckoutId,
    /// Buyer.
    pub user: UserId,
    /// Seller.
    pub merchant: MerchantId,
    /// Status.
    pub status: OrderStatus,
    /// Lines.
    pub lines: Vec<OrderLine>,
    /// Σ line subtotals, yuan.
    pub goods_subtotal: Money,
    /// Σ coupon discounts, yuan.
    pub coupon_discount: Money,
    /// Points redeemed.
    pub points_used: i64,
    /// Their value, yuan.
    pub points_deduction: Money,
    /// Shipping fee, yuan.
    pub shipping_fee: Money,
    /// goods − coupons − points + shipping, yuan.
    pub payable: Money,
    /// Coupons used (their allocation to this order).
    pub coupons: Vec<CouponUse>,
    /// Buyer's remark.
    pub remark: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Closed if unpaid by then.
    pub pay_deadline: DateTime<Utc>,
    /// Paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// The payment that paid it.
    pub payment: Option<PaymentId>,
    /// Shipment.
    pub shipment: Option<Shipment>,
    /// Completed by the system if not confirmed by then.
    pub auto_confirm_at: Option<DateTime<Utc>>,
    /// Completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Cancelled or closed.
    pub ended_at: Option<DateTime<Utc>>,
    /// Points awarded on completion.
    pub points_earned: i64,
    /// The goods amount the points were earned on (paid less refunded at
    /// completion), yuan; later refunds take points back against it.
    #[serde(default)]
    pub points_earned_on: Money,
    /// Earned points taken back by refunds.
    pub points_reversed: i64,
    /// Σ refunds, yuan, shipping included.
    pub refunded_total: Money,
    /// Whether the shipping fee was refunded.
    pub shipping_refunded: bool,
    /// Where it ships (snapshot taken at checkout), when the checkout gave one.
    #[serde(default)]
    pub shipping_address: Option<ShippingAddress>,
    /// Status history, oldest first.
    pub history: Vec<StatusChange>,
    /// Optimistic-concurrency version, bumped by every stored update.
    pub version: u64,
}

impl Order {
    /// What the buyer has paid for this order and kept: the payable once
    /// paid, less refunds, yuan (zero while unpaid).
    pub fn net_paid(&self) -> Money {
        if self.paid_at.is_some() { self.payable - self.refunded_total } else { Money::ZERO }
    }

    /// Runs `command` through [`next_status`] and appends the history row.
    ///
    /// # Errors
    /// [`IllegalTransition`] when the command does not apply; the order is
    /// unchanged.
    pub fn transition(
        &mut self,
        command: OrderCommand,
        actor: Actor,
        remark: &str,
        at: DateTime<Utc>,
    ) -> Result<(), IllegalTransition> {
        let to = next_status(self.status, command).ok_or(IllegalTransition {
            order: self.id,
            from: self.status,
            command,
        })?;
        self.history.push(StatusChange { from: Some(self.status), to, actor, remark: remark.to_owned(), at });
        self.status = to;
        Ok(())
    }

    /// Payable of the goods actually kept: Σ (line payable − refunded), yuan.
    pub fn goods_paid(&self) -> Money {
        self.lines.iter().map(|l| l.payable - l.refunded_amount).sum()
    }

    /// True when every line is fully refunded ([`OrderLine::fully_refunded`]).
    pub fn fully_refunded(&self) -> bool {
        self.lines.iter().all(OrderLine::fully_refunded)
    }

    /// A line by number.
    pub fn line(&self, line_no: u32) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.line_no == line_no)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_table_moves() {
        use OrderCommand as C;
        use OrderStatus as S;
        assert_eq!(next_status(S::PendingPayment, C::ConfirmPayment), Some(S::AwaitingShipment));
        assert_eq!(next_status(S::Shipped, C::Cancel), None);
        assert_eq!(next_status(S::Completed, C::CloseRefunded), Some(S::Closed));
        assert_eq!(next_status(S::Closed, C::ConfirmPayment), None);
        assert_eq!(next_status(S::PendingPayment, C::Ship), None);
    }
}

/// Which orders a list shows (every field narrows it); lists are newest
/// first by creation time, then id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only this buyer's orders.
    pub user: Option<UserId>,
    /// Only this merchant's orders.
    pub merchant: Option<MerchantId>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
}

impl OrderFilter {
    /// The rule, row by row (what stores serve from their indexes).
    pub fn admits(&self, order: &Order) -> bool {
        self.user.is_none_or(|u| order.user == u)
            && self.merchant.is_none_or(|m| order.merchant == m)
            && self.status.is_none_or(|s| order.status == s)
    }
}

/// A buyer's orders in figures (the back office's customer list), computed
/// by the store as an aggregate over the buyer's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerStats {
    /// The buyer.
    pub user: UserId,
    /// Orders placed.
    pub orders: u32,
    /// Paid and kept over paid orders ([`Order::net_paid`] summed), yuan.
    pub spent: Money,
    /// Time of the latest order.
    pub last_order_at: Option<DateTime<Utc>>,
}

impl CustomerStats {
    /// The figures of `user` from its orders (the rule the stores' aggregates follow).
    pub fn of<'a>(user: UserId, orders: impl IntoIterator<Item = &'a Order>) -> CustomerStats {
        let mut stats = CustomerStats { user, orders: 0, spent: Money::ZERO, last_order_at: None };
        for o in orders {
            stats.orders = stats.orders.saturating_add(1);
            stats.spent += o.net_paid();
            stats.last_order_at = stats.last_order_at.max(Some(o.created_at));
        }
        stats
    }
}
