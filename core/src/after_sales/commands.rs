//! After-sales commands (seed 000 §6): apply, move a case one step, refund.

use chrono::Duration;

use crate::after_sales::AfterSaleError;
use crate::after_sales::refund;
use crate::after_sales::{
    self, AfterSale, AfterSaleAction, AfterSaleKind, AfterSaleLine, AfterSaleLog, AfterSaleStatus,
};
use crate::engine::{Mall, retrying};
use crate::error::{MAX_NOTE_CHARS, MAX_TRACKING_CHARS, check_text};
use crate::error::{MallError, invalid};
use crate::ids::{AfterSaleId, OrderId, UserId};
use crate::inventory::StockMove;
use crate::money::Money;
use crate::order::{Actor, OrderCommand, OrderStatus};
use crate::points::{PointsAction, PointsSource};
use crate::storage::{AfterSaleWrite, OrderWrite, PaymentWrite, StockWrite, Store, Write};
use serde::{Deserialize, Serialize};

/// A line of an after-sales request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AfterSaleRequestLine {
    /// Order line number.
    pub line_no: u32,
    /// Units.
    pub quantity: u32,
    /// Amount asked, yuan; `None` asks for the whole refundable amount.
    #[serde(default)]
    pub amount: Option<Money>,
}

impl<S: Store> Mall<S> {
    /// The buyer asks for after-sales on lines of a paid order (seed 000 §6).
    /// Amounts default to the whole refundable amount; the threshold clawback
    /// is computed now and shown on the case.
    ///
    /// # Errors
    /// [`AfterSaleError::NotAllowed`] (unpaid; return or exchange before
    /// shipping), [`AfterSaleError::WindowClosed`],
    /// [`MallError::InvalidInput`] (no lines, zero units, unknown or repeated
    /// line), [`AfterSaleError::QuantityExceeded`],
    /// [`AfterSaleError::RefundExceedsRefundable`].
    pub async fn apply_after_sale(
        &self,
        user: UserId,
        order: OrderId,
        kind: AfterSaleKind,
        lines: &[AfterSaleRequestLine],
        reason: &str,
    ) -> Result<AfterSale, MallError> {
        check_text("reason", reason, 1, MAX_NOTE_CHARS)?;
        retrying!(self.try_apply_after_sale(user, order, kind, lines, reason).await)
    }

    pub(crate) async fn try_apply_after_sale(
        &self,
        user: UserId,
        order_id: OrderId,
        kind: AfterSaleKind,
        request: &[AfterSaleRequestLine],
        reason: &str,
    ) -> Result<AfterSale, MallError> {
        let mut order = self.order(Actor::Buyer(user), order_id).await?;
        let now = self.now();
        let allowed = match kind {
            AfterSaleKind::RefundOnly => order.status.is_paid(),
            AfterSaleKind::ReturnAndRefund | AfterSaleKind::Exchange => {
                matches!(order.status, OrderStatus::Shipped | OrderStatus::Completed)
            }
        };
        if !allowed {
            return Err(MallError::AfterSale(AfterSaleError::NotAllowed {
                order: order.id,
                status: order.status,
                kind,
            }));
        }
        if let Some(done) = order.completed_at {
            let closed_at = done + Duration::days(self.policy.after_sales_days);
            if now > closed_at {
                return Err(MallError::AfterSale(AfterSaleError::WindowClosed { order: order.id, closed_at }));
            }
        }
        if request.is_empty() {
            return Err(invalid("lines", "name at least one order line"));
        }
        let rounding = self.rounding();
        let mut lines = Vec::with_capacity(request.len());
        for (i, r) in request.iter().enumerate() {
            if request[..i].iter().any(|p| p.line_no == r.line_no) {
                return Err(invalid(&format!("lines[{i}].line_no"), "repeats an earlier line"));
            }
            let line = order
                .line(r.line_no)
                .ok_or_else(|| invalid(&format!("lines[{i}].line_no"), &format!("order has no line {}", r.line_no)))?;
            if r.quantity == 0 {
                return Err(invalid(&format!("lines[{i}].quantity"), "must be at least 1"));
            }
            let left = line.quantity - line.after_sales_quantity;
            if r.quantity > left {
                return Err(MallError::AfterSale(AfterSaleError::QuantityExceeded {
                    line_no: r.line_no,
                    requested: r.quantity,
                    available: left,
                }));
            }
            let amount = if kind.refunds() {
                let max = after_sales::refundable(line, r.quantity, rounding);
                match r.amount {
                    Some(a) if a > max => {
                        return Err(MallError::AfterSale(AfterSaleError::RefundExceedsRefundable {
                            line_no: r.line_no,
                            requested: a,
                            max,
                        }));
                    }
                    Some(a) if a.is_negative() || (a.is_zero() && !max.is_zero()) => {
                        return Err(invalid(&format!("lines[{i}].amount"), "must be positive"));
                    }
                    Some(a) => a,
                    None => max,
                }
            } else {
                Money::ZERO
            };
            lines.push(AfterSaleLine { line_no: r.line_no, quantity: r.quantity, amount, refunded: Money::ZERO });
        }
        let claims: Vec<(u32, u32)> = lines.iter().map(|l| (l.line_no, l.quantity)).collect();
        let clawback_by_coupon = if kind.refunds() && self.policy.threshold_clawback {
            after_sales::clawback(&order, &claims, rounding)
        } else {
            vec![Money::ZERO; order.coupons.len()]
        };
        let goods_amount: Money = lines.iter().map(|l| l.amount).sum();
        let clawback: Money = clawback_by_coupon.iter().sum();
        for (usage, delta) in order.coupons.iter_mut().zip(&clawback_by_coupon) {
            usage.clawed_back += *delta;
        }
        for l in &lines {
            if let Some(ol) = order.lines.iter_mut().find(|ol| ol.line_no == l.line_no) {
                ol.after_sales_quantity += l.quantity;
                if kind.refunds() {
                    ol.refund_claimed_quantity += l.quantity;
                }
            }
        }
        let id = AfterSaleId(self.ids.next_id());
        let case = AfterSale {
            id,
            number: self.number("AS", id.0),
            order: order.id,
            user,
            merchant: order.merchant,
            kind,
            status: AfterSaleStatus::Requested,
            lines,
            reason: reason.to_owned(),
            goods_amount,
            clawback,
            clawback_by_coupon,
            refund_amount: (goods_amount - clawback).max(Money::ZERO),
            shipping_refund: Money::ZERO,
            points_returned: 0,
            points_reversed: 0,
            return_tracking_no: None,
            created_at: now,
            logs: vec![AfterSaleLog {
                action: AfterSaleAction::Apply,
                operator: Actor::Buyer(user),
                status: AfterSaleStatus::Requested,
                at: now,
                note: reason.to_owned(),
            }],
            version: 0,
        };
        self.commit(
            Actor::Buyer(user),
            vec![Write::AfterSale(AfterSaleWrite::Insert(case.clone())), Write::Order(OrderWrite::Update(order))],
        )
        .await?;
        Ok(case)
    }

    /// An after-sales case as `actor` may see it.
    ///
    /// # Errors
    /// [`MallError::NotFound`] when it does not exist or is not the actor's.
    pub async fn after_sale(&self, actor: Actor, id: AfterSaleId) -> Result<AfterSale, MallError> {
        let case = self.store.after_sale(id).await?.ok_or_else(|| MallError::not_found("after_sale", id))?;
        if actor.may_see(case.user, case.merchant) { Ok(case) } else { Err(MallError::not_found("after_sale", id)) }
    }

    /// Moves a case one step: approve, reject, ship back (buyer, with a
    /// tracking number as `note`), receive, reship or cancel (buyer). The
    /// refund step is [`Mall::refund_after_sale`].
    ///
    /// # Errors
    /// [`MallError::NotFound`] (also for the wrong party),
    /// [`AfterSaleError::IllegalStep`].
    pub async fn after_sale_step(
        &self,
        actor: Actor,
        id: AfterSaleId,
        action: AfterSaleAction,
        note: &str,
    ) -> Result<AfterSale, MallError> {
        if action == AfterSaleAction::ShipBack {
            check_text("tracking_no", note, 1, MAX_TRACKING_CHARS)?;
        } else {
            check_text("note", note, 0, MAX_NOTE_CHARS)?;
        }
        retrying!(self.try_after_sale_step(actor, id, action, note).await)
    }

    pub(crate) async fn try_after_sale_step(
        &self,
        actor: Actor,
        id: AfterSaleId,
        action: AfterSaleAction,
        note: &str,
    ) -> Result<AfterSale, MallError> {
        let mut case = self.after_sale(actor, id).await?;
        let buyer_step = matches!(action, AfterSaleAction::ShipBack | AfterSaleAction::Cancel);
        if buyer_step != matches!(actor, Actor::Buyer(_))
            || matches!(action, AfterSaleAction::Apply | AfterSaleAction::Refund)
        {
            return Err(MallError::not_found("after_sale", id));
        }
        self.advance(&mut case, actor, action, note)?;
        let mut writes = Vec::new();
        match action {
            AfterSaleAction::ShipBack => case.return_tracking_no = Some(note.to_owned()),
            AfterSaleAction::Receive if case.kind == AfterSaleKind::ReturnAndRefund => {
                let order = self.order(Actor::System, case.order).await?;
                for l in &case.lines {
                    if let Some(ol) = order.line(l.line_no) {
                        writes.push(Write::Stock(StockWrite::Move {
                            sku: ol.sku,
                            movement: StockMove::Restock,
                            quantity: l.quantity,
                        }));
                    }
                }
            }
            // A withdrawn case gives its units (and clawback) back; a finished
            // exchange leaves the replacement open to after-sales again.
            AfterSaleAction::Reject | AfterSaleAction::Cancel | AfterSaleAction::Reship => {
                let mut order = self.order(Actor::System, case.order).await?;
                for l in &case.lines {
                    if let Some(ol) = order.lines.iter_mut().find(|ol| ol.line_no == l.line_no) {
                        ol.after_sales_quantity -= l.quantity;
                        if case.kind.refunds() {
                            ol.refund_claimed_quantity -= l.quantity;
                        }
                    }
                }
                for (usage, delta) in order.coupons.iter_mut().zip(&case.clawback_by_coupon) {
                    usage.clawed_back -= *delta;
                }
                writes.push(Write::Order(OrderWrite::Update(order)));
            }
            _ => {}
        }
        writes.push(Write::AfterSale(AfterSaleWrite::Update(case.clone())));
        self.commit(actor, writes).await?;
        case.version += 1;
        Ok(case)
    }

    pub(crate) fn advance(
        &self,
        case: &mut AfterSale,
        actor: Actor,
        action: AfterSaleAction,
        note: &str,
    ) -> Result<(), MallError> {
        let to = after_sales::next_status(case.kind, case.status, action).ok_or(MallError::AfterSale(
            AfterSaleError::IllegalStep { case: case.id, kind: case.kind, from: case.status, action },
        ))?;
        case.status = to;
        case.logs.push(AfterSaleLog { action, operator: actor, status: to, at: self.now(), note: note.to_owned() });
        Ok(())
    }

    /// Refunds an approved refund-only case or a received return (merchant or
    /// admin): pays back through the provider exactly once, returns redeemed
    /// points and takes back earned points pro rata, restocks unshipped
    /// goods, refunds shipping when the whole order is refunded before it
    /// ships, and closes the order once every line is fully refunded.
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`AfterSaleError::IllegalStep`],
    /// [`PaymentError::Provider`](crate::payment::PaymentError::Provider).
    pub async fn refund_after_sale(&self, actor: Actor, id: AfterSaleId) -> Result<AfterSale, MallError> {
        retrying!(self.try_refund(actor, id).await)
    }

    pub(crate) async fn try_refund(&self, actor: Actor, id: AfterSaleId) -> Result<AfterSale, MallError> {
        if matches!(actor, Actor::Buyer(_)) {
            return Err(MallError::not_found("after_sale", id));
        }
        let mut case = self.after_sale(actor, id).await?;
        self.advance(&mut case, actor, AfterSaleAction::Refund, "退款")?;
        let order = self.order(Actor::System, case.order).await?;
        let plan = refund::plan(&case, &order);
        let (mut case, mut order) = (plan.case, plan.order);
        let mut writes: Vec<Write> = plan
            .restock
            .iter()
            .map(|&(sku, quantity)| Write::Stock(StockWrite::Move { sku, movement: StockMove::Restock, quantity }))
            .collect();
        let payment_id = order.payment.ok_or_else(|| MallError::not_found("payment of order", order.id))?;
        let mut payment =
            self.store.payment(payment_id).await?.ok_or_else(|| MallError::not_found("payment", payment_id))?;
        self.refund_through_provider(&mut payment, &case.number, plan.total).await?;
        writes.push(Write::Payment(PaymentWrite::Update(payment)));
        if plan.points_returned > 0 {
            let (source, action) = (PointsSource::RefundReturn, PointsAction::Return);
            writes.push(self.ledger_write(order.user, source, action, id.0, plan.points_returned, "退款退回积分"));
        }
        if plan.points_reversed > 0 {
            let (source, action) = (PointsSource::RefundReversal, PointsAction::Reverse);
            writes.push(self.ledger_write(order.user, source, action, id.0, plan.points_reversed, "退款扣回赠送积分"));
        }
        if plan.closes_order {
            let now = self.now();
            order.transition(OrderCommand::CloseRefunded, actor, "全部退款，订单关闭", now)?;
            order.ended_at = Some(now);
        }
        writes.push(Write::Order(OrderWrite::Update(order)));
        writes.push(Write::AfterSale(AfterSaleWrite::Update(case.clone())));
        self.commit(actor, writes).await?;
        case.version += 1;
        Ok(case)
    }
}
