//! Payment commands (seed 004 §7, seed 003 multi-order payment): start a
//! payment, confirm it from the provider's callback, refund through the
//! provider once per refund number.

use chrono::{DateTime, Utc};

use crate::coupon::UserCouponStatus;
use crate::engine::{Mall, retrying};
use crate::error::{MallError, invalid};
use crate::ids::{OrderId, PaymentId, UserCouponId, UserId};
use crate::inventory::StockMove;
use crate::money::Money;
use crate::order::{Actor, OrderCommand, OrderStatus};
use crate::payment::PaymentError;
use crate::payment::{Payment, PaymentChannel, PaymentStart, PaymentStatus};
use crate::points::{PointsAction, PointsSource};
use crate::storage::{CouponWrite, OrderWrite, PaymentWrite, StockWrite, Store, Write};

impl<S: Store> Mall<S> {
    /// Refunds `amount` of `payment` once per `refund_no` and records it on
    /// the payment (the caller writes the payment in its batch).
    pub(crate) async fn refund_through_provider(
        &self,
        payment: &mut Payment,
        refund_no: &str,
        amount: Money,
    ) -> Result<(), MallError> {
        if amount.fen() <= 0 || payment.refunds.iter().any(|r| r == refund_no) {
            return Ok(());
        }
        self.provider.refund(payment, refund_no, amount).await?;
        payment.refunds.push(refund_no.to_owned());
        payment.refunded_amount += amount;
        payment.status =
            if payment.refunded_amount >= payment.amount { PaymentStatus::Refunded } else { PaymentStatus::Succeeded };
        Ok(())
    }

    /// Starts a payment for one or more of the buyer's unpaid orders (seed 004
    /// §7.1, seed 003 multi-order payment). With an instant provider the
    /// payment is confirmed at once.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for no orders or an order listed twice,
    /// [`MallError::NotFound`], [`PaymentError::OrderNotPayable`],
    /// [`PaymentError::Provider`].
    pub async fn pay(&self, user: UserId, orders: &[OrderId], channel: PaymentChannel) -> Result<Payment, MallError> {
        if orders.is_empty() {
            return Err(invalid("orders", "name at least one order"));
        }
        if let Some(twice) = orders.iter().enumerate().find_map(|(i, o)| orders[..i].contains(o).then_some(o)) {
            return Err(invalid("orders", &format!("order {twice} is listed twice")));
        }
        let now = self.now();
        let mut amount = Money::ZERO;
        let mut expires_at = DateTime::<Utc>::MAX_UTC;
        for id in orders {
            let o = self.order(Actor::Buyer(user), *id).await?;
            if o.status != OrderStatus::PendingPayment || o.pay_deadline < now {
                return Err(MallError::Payment(PaymentError::OrderNotPayable { order: o.id, status: o.status }));
            }
            amount += o.payable;
            expires_at = expires_at.min(o.pay_deadline);
        }
        let id = PaymentId(self.ids.next_id());
        let payment = Payment {
            id,
            number: self.number("PAY", id.0),
            user,
            orders: orders.to_vec(),
            amount,
            channel,
            status: PaymentStatus::Pending,
            created_at: now,
            expires_at,
            provider_txn: None,
            paid_at: None,
            refunded_amount: Money::ZERO,
            refunds: Vec::new(),
            version: 0,
        };
        self.commit(Actor::Buyer(user), vec![Write::Payment(PaymentWrite::Insert(payment.clone()))]).await?;
        match self.provider.start(&payment).await? {
            PaymentStart::Succeeded { provider_txn } => {
                self.confirm_payment(&payment.number, &provider_txn, amount).await
            }
            PaymentStart::Pending => Ok(payment),
        }
    }

    /// The provider says a payment succeeded (callback). Idempotent: the same
    /// transaction again returns the payment unchanged. Orders still unpaid
    /// move to awaiting shipment (stock committed, coupons used, points
    /// spent); an order that closed meanwhile gets its share refunded
    /// automatically (DESIGN §7).
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`PaymentError::AmountMismatch`],
    /// [`PaymentError::AlreadyConfirmed`] for another transaction.
    pub async fn confirm_payment(&self, number: &str, provider_txn: &str, amount: Money) -> Result<Payment, MallError> {
        retrying!(self.try_confirm_payment(number, provider_txn, amount).await)
    }

    pub(crate) async fn try_confirm_payment(
        &self,
        number: &str,
        provider_txn: &str,
        amount: Money,
    ) -> Result<Payment, MallError> {
        let mut payment =
            self.store.payment_by_number(number).await?.ok_or_else(|| MallError::not_found("payment", number))?;
        if let Some(existing) = &payment.provider_txn {
            if existing == provider_txn {
                return Ok(payment);
            }
            return Err(MallError::Payment(PaymentError::AlreadyConfirmed {
                payment: payment.id,
                existing: existing.clone(),
            }));
        }
        if amount != payment.amount {
            return Err(MallError::Payment(PaymentError::AmountMismatch {
                payment: payment.id,
                expected: payment.amount,
                got: amount,
            }));
        }
        let now = self.now();
        payment.status = PaymentStatus::Succeeded;
        payment.provider_txn = Some(provider_txn.to_owned());
        payment.paid_at = Some(now);
        let mut writes = Vec::new();
        let mut coupons_used: Vec<UserCouponId> = Vec::new();
        for id in payment.orders.clone() {
            let mut order = self.order(Actor::System, id).await?;
            if order.status != OrderStatus::PendingPayment {
                // Paid after it closed or was cancelled: money goes back.
                self.refund_through_provider(&mut payment, &format!("AUTO-{}", order.number), order.payable).await?;
                continue;
            }
            order.transition(OrderCommand::ConfirmPayment, Actor::System, "支付成功", now)?;
            order.paid_at = Some(now);
            order.payment = Some(payment.id);
            for l in &order.lines {
                writes.push(Write::Stock(StockWrite::Move {
                    sku: l.sku,
                    movement: StockMove::Commit,
                    quantity: l.quantity,
                }));
            }
            if order.points_used > 0 {
                writes.push(self.ledger_write(
                    order.user,
                    PointsSource::PaymentDeduction,
                    PointsAction::Spend,
                    id.0,
                    order.points_used,
                    "支付抵扣",
                ));
            }
            for usage in &order.coupons {
                if coupons_used.contains(&usage.coupon) {
                    continue;
                }
                coupons_used.push(usage.coupon);
                let current = self.store.user_coupon(usage.coupon).await?;
                if current.is_some_and(|c| c.status == UserCouponStatus::Locked) {
                    writes.push(Write::Coupon(CouponWrite::SetStatus {
                        coupon: usage.coupon,
                        from: UserCouponStatus::Locked,
                        to: UserCouponStatus::Used,
                        checkout: Some(order.checkout),
                        at: now,
                    }));
                }
            }
            writes.push(Write::Order(OrderWrite::Update(order)));
        }
        writes.push(Write::Payment(PaymentWrite::Update(payment.clone())));
        self.commit(Actor::System, writes).await?;
        payment.version += 1;
        Ok(payment)
    }
}
