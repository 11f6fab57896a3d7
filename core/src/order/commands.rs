//! Order commands (seed 004 §6): read as a party, cancel, close on
//! timeout, ship, confirm receipt (by the buyer or automatically), each one
//! transition of [`crate::order::next_status`] with its writes in one batch.

use chrono::Duration;

use crate::coupon::UserCouponStatus;
use crate::engine::{Mall, retrying};
use crate::error::MallError;
use crate::error::{MAX_NOTE_CHARS, MAX_TRACKING_CHARS, check_text};
use crate::ids::{OrderId, UserId};
use crate::inventory::StockMove;
use crate::order::OrderError;
use crate::order::{Actor, Order, OrderCommand, OrderStatus, Shipment, cancel};
use crate::points::{PointsAction, PointsSource, tier_for};
use crate::storage::{CouponWrite, OrderWrite, PaymentWrite, StockWrite, Store, Write};

impl<S: Store> Mall<S> {
    /// An order as `actor` may see it: the buyer's own, the merchant's own,
    /// or any for an admin or the system.
    ///
    /// # Errors
    /// [`MallError::NotFound`] when it does not exist or is not the actor's.
    pub async fn order(&self, actor: Actor, id: OrderId) -> Result<Order, MallError> {
        let order = self.store.order(id).await?.ok_or_else(|| MallError::not_found("order", id))?;
        if actor.may_see(order.user, order.merchant) { Ok(order) } else { Err(MallError::not_found("order", id)) }
    }

    /// Writes that give back what an unpaid order held: stock, frozen points,
    /// and the checkout's coupons once no other order of it can still use them.
    pub(crate) async fn release_unpaid(&self, order: &Order) -> Result<Vec<Write>, MallError> {
        let mut writes: Vec<Write> = order
            .lines
            .iter()
            .map(|l| Write::Stock(StockWrite::Move { sku: l.sku, movement: StockMove::Release, quantity: l.quantity }))
            .collect();
        if order.points_used > 0 {
            writes.push(self.ledger_write(
                order.user,
                PointsSource::PaymentDeduction,
                PointsAction::Unfreeze,
                order.id.0,
                order.points_used,
                "订单取消解冻积分",
            ));
        }
        writes.extend(self.coupon_release(order, UserCouponStatus::Locked).await?);
        Ok(writes)
    }

    /// Gives back the coupons `order` used (those still in status `from`)
    /// once no other live order of its checkout carries them: a coupon split
    /// over several orders stays held while any of them can still be paid.
    pub(crate) async fn coupon_release(&self, order: &Order, from: UserCouponStatus) -> Result<Vec<Write>, MallError> {
        if order.coupons.is_empty() {
            return Ok(Vec::new());
        }
        let siblings = self.store.orders_of_checkout(order.checkout).await?;
        let now = self.now();
        let mut writes = Vec::new();
        for usage in &order.coupons {
            let still_carried = siblings.iter().any(|o| {
                o.id != order.id
                    && !matches!(o.status, OrderStatus::Cancelled | OrderStatus::Closed)
                    && o.coupons.iter().any(|u| u.coupon == usage.coupon)
            });
            if still_carried {
                continue;
            }
            let Some(c) = self.store.user_coupon(usage.coupon).await? else { continue };
            if c.status != from {
                continue;
            }
            let to = if now > c.valid_to { UserCouponStatus::Expired } else { UserCouponStatus::Unused };
            writes.push(Write::Coupon(CouponWrite::SetStatus { coupon: c.id, from, to, checkout: None, at: now }));
        }
        Ok(writes)
    }

    /// Cancels an order (seed 004 §6.5): unpaid, it releases stock, points and
    /// coupons; paid and not shipped, it refunds everything through the
    /// provider, restocks and returns the points.
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`OrderError::IllegalTransition`] once shipped,
    /// [`AfterSaleError::InProgress`](crate::after_sales::AfterSaleError::InProgress)
    /// while a case is open, [`PaymentError::Provider`](crate::payment::PaymentError::Provider).
    pub async fn cancel_order(&self, actor: Actor, id: OrderId, reason: &str) -> Result<Order, MallError> {
        check_text("reason", reason, 0, MAX_NOTE_CHARS)?;
        retrying!(self.try_cancel(actor, id, reason).await)
    }

    pub(crate) async fn try_cancel(&self, actor: Actor, id: OrderId, reason: &str) -> Result<Order, MallError> {
        let mut order = self.order(actor, id).await?;
        if matches!(actor, Actor::Merchant(_)) {
            return Err(MallError::not_found("order", id));
        }
        let was = order.status;
        let now = self.now();
        order.transition(OrderCommand::Cancel, actor, reason, now)?;
        order.ended_at = Some(now);
        let mut writes = Vec::new();
        if was == OrderStatus::PendingPayment {
            writes.extend(self.release_unpaid(&order).await?);
        } else {
            let plan = cancel::plan(&order)?;
            let payment_id = order.payment.ok_or_else(|| MallError::not_found("payment of order", id))?;
            let mut payment =
                self.store.payment(payment_id).await?.ok_or_else(|| MallError::not_found("payment", payment_id))?;
            writes.extend(plan.restock.iter().map(|&(sku, quantity)| {
                Write::Stock(StockWrite::Move { sku, movement: StockMove::Restock, quantity })
            }));
            self.refund_through_provider(&mut payment, &format!("CANCEL-{}", order.number), plan.amount).await?;
            writes.push(Write::Payment(PaymentWrite::Update(payment)));
            let points_back = plan.points_back;
            order = plan.order;
            if points_back > 0 {
                writes.push(self.ledger_write(
                    order.user,
                    PointsSource::RefundReturn,
                    PointsAction::Return,
                    id.0,
                    points_back,
                    "取消订单退回积分",
                ));
            }
            if self.policy.return_coupon_on_paid_cancel {
                writes.extend(self.coupon_release(&order, UserCouponStatus::Used).await?);
            }
        }
        writes.push(Write::Order(OrderWrite::Update(order.clone())));
        self.commit(actor, writes).await?;
        order.version += 1;
        Ok(order)
    }

    /// Closes every unpaid order whose payment deadline has passed (a
    /// scheduler calls this; seed 003 payment timeout). Returns the closed ids.
    ///
    /// # Errors
    /// [`MallError::Storage`]; orders that changed meanwhile are skipped.
    pub async fn close_expired_orders(&self) -> Result<Vec<OrderId>, MallError> {
        let mut closed = Vec::new();
        for id in self.store.orders_due(OrderStatus::PendingPayment, self.now()).await? {
            match retrying!(self.try_close_unpaid(id).await) {
                Ok(()) => closed.push(id),
                Err(MallError::Order(OrderError::IllegalTransition(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(closed)
    }

    pub(crate) async fn try_close_unpaid(&self, id: OrderId) -> Result<(), MallError> {
        let mut order = self.order(Actor::System, id).await?;
        let now = self.now();
        order.transition(OrderCommand::CloseUnpaid, Actor::System, "支付超时关闭", now)?;
        order.ended_at = Some(now);
        let mut writes = self.release_unpaid(&order).await?;
        writes.push(Write::Order(OrderWrite::Update(order)));
        self.commit(Actor::System, writes).await
    }

    /// Ships an order (merchant or admin) with a carrier and tracking number.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for empty carrier/tracking,
    /// [`MallError::NotFound`] (also for a buyer or another merchant),
    /// [`OrderError::IllegalTransition`].
    pub async fn ship(&self, actor: Actor, id: OrderId, carrier: &str, tracking_no: &str) -> Result<Order, MallError> {
        check_text("carrier", carrier, 1, 32)?;
        check_text("tracking_no", tracking_no, 1, MAX_TRACKING_CHARS)?;
        retrying!(
            async {
                if matches!(actor, Actor::Buyer(_)) {
                    return Err(MallError::not_found("order", id));
                }
                let mut order = self.order(actor, id).await?;
                let now = self.now();
                order.transition(OrderCommand::Ship, actor, &format!("{carrier} {tracking_no}"), now)?;
                order.shipment =
                    Some(Shipment { carrier: carrier.to_owned(), tracking_no: tracking_no.to_owned(), at: now });
                order.auto_confirm_at = Some(now + Duration::days(self.policy.auto_confirm_days));
                self.commit(actor, vec![Write::Order(OrderWrite::Update(order.clone()))]).await?;
                order.version += 1;
                Ok(order)
            }
            .await
        )
    }

    /// The buyer confirms receipt (seed 004 §6.6): the order completes and
    /// earns points. Returns the points earned.
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`OrderError::IllegalTransition`].
    pub async fn confirm_receipt(&self, user: UserId, id: OrderId) -> Result<i64, MallError> {
        retrying!(self.try_complete(Actor::Buyer(user), id, OrderCommand::ConfirmReceipt).await)
    }

    /// Completes every shipped order whose auto-confirm time has passed and
    /// that has no after-sales case open (those wait for a later run).
    /// Returns the completed ids.
    ///
    /// # Errors
    /// [`MallError::Storage`]; orders that changed meanwhile are skipped.
    pub async fn auto_confirm_due(&self) -> Result<Vec<OrderId>, MallError> {
        let mut done = Vec::new();
        for id in self.store.orders_due(OrderStatus::Shipped, self.now()).await? {
            let order = self.order(Actor::System, id).await?;
            if order.lines.iter().any(|l| l.after_sales_quantity > l.refunded_quantity) {
                continue;
            }
            match retrying!(self.try_complete(Actor::System, id, OrderCommand::AutoConfirm).await) {
                Ok(_) => done.push(id),
                Err(MallError::Order(OrderError::IllegalTransition(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    pub(crate) async fn try_complete(
        &self,
        actor: Actor,
        id: OrderId,
        command: OrderCommand,
    ) -> Result<i64, MallError> {
        let mut order = self.order(actor, id).await?;
        let now = self.now();
        let remark = if command == OrderCommand::AutoConfirm { "系统自动确认收货" } else { "确认收货" };
        order.transition(command, actor, remark, now)?;
        order.completed_at = Some(now);
        let account = self.store.points_account(order.user).await?;
        let tiers = self.store.tiers().await?;
        let multiplier =
            tier_for(&tiers, account.total_earned).map_or(crate::money::Rate::ONE, |t| t.points_multiplier);
        let earned = self.policy.pricing.points.earned_for(order.goods_paid(), multiplier);
        order.points_earned = earned;
        order.points_earned_on = order.goods_paid();
        let mut writes = Vec::new();
        if earned > 0 {
            writes.push(self.ledger_write(
                order.user,
                PointsSource::OrderReward,
                PointsAction::Earn,
                id.0,
                earned,
                "订单完成赠送",
            ));
        }
        writes.push(Write::Order(OrderWrite::Update(order)));
        self.commit(actor, writes).await?;
        Ok(earned)
    }
}
