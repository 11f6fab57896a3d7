//! The checkout commands: load what a quote needs, price it, and write the
//! orders with their stock reservations, coupon locks and frozen points in
//! one batch.

use std::collections::HashMap;

use chrono::Duration;

use crate::cart::commands::check_quantity;
use crate::catalog::CategoryTree;
use crate::checkout::{Checkout, CheckoutItems, CheckoutRequest};
use crate::coupon::{CouponTemplate, UserCoupon, UserCouponStatus};
use crate::engine::{Mall, retrying};
use crate::error::MallError;
use crate::error::{MAX_NOTE_CHARS, check_text};
use crate::ids::{CheckoutId, CouponTemplateId, MerchantId, OrderId, SkuId, UserId};
use crate::inventory::StockMove;
use crate::money::Money;
use crate::order::{Actor, CouponUse, Order, OrderLine, OrderStatus, ShippingAddress, StatusChange};
use crate::points::{PointsAction, PointsSource, Tier, tier_for};
use crate::pricing::{
    AdjustmentSource, CouponCandidate, CouponChoice, PointsChoice, PricingLine, Quote, QuoteRequest, quote,
};
use crate::storage::{CartWrite, CouponWrite, OrderWrite, StockWrite, Store, Write};

/// The data a quote needs, loaded once.
struct PricingContext {
    lines: Vec<PricingLine>,
    names: HashMap<SkuId, String>,
    tier: Option<Tier>,
    coupons: Vec<UserCoupon>,
    templates: HashMap<CouponTemplateId, CouponTemplate>,
    balance: i64,
}

impl<S: Store> Mall<S> {
    async fn pricing_context(&self, user: UserId, items: &CheckoutItems) -> Result<PricingContext, MallError> {
        let wanted: Vec<(SkuId, u32)> = match items {
            CheckoutItems::Cart => self.store.cart(user).await?.selected().map(|i| (i.sku, i.quantity)).collect(),
            CheckoutItems::Lines { lines } => lines.clone(),
        };
        let tree = CategoryTree::new(&self.store.categories().await?)?;
        let mut lines = Vec::with_capacity(wanted.len());
        let mut names = HashMap::new();
        for (i, (sku, quantity)) in wanted.iter().enumerate() {
            check_quantity(&format!("items[{i}].quantity"), *quantity)?;
            let (s, p) = self.sellable(*sku).await?;
            names.insert(s.id, p.name.clone());
            lines.push(PricingLine {
                sku: s.id,
                product: p.id,
                merchant: p.merchant,
                category_path: tree.path(p.category),
                unit_price: s.price,
                quantity: *quantity,
                weight_grams: s.weight_grams.unwrap_or(0),
            });
        }
        let account = self.store.points_account(user).await?;
        let tiers = self.store.tiers().await?;
        let tier = tier_for(&tiers, account.total_earned).cloned();
        let coupons = self.store.user_coupons(user).await?;
        let mut templates = HashMap::new();
        for c in &coupons {
            if !templates.contains_key(&c.template)
                && let Some(t) = self.store.template(c.template).await?
            {
                templates.insert(t.id, t);
            }
        }
        Ok(PricingContext { lines, names, tier, coupons, templates, balance: account.balance })
    }

    fn price(&self, ctx: &PricingContext, coupons: &CouponChoice, points: PointsChoice) -> Result<Quote, MallError> {
        let candidates: Vec<CouponCandidate<'_>> = ctx
            .coupons
            .iter()
            .filter_map(|c| ctx.templates.get(&c.template).map(|t| CouponCandidate { coupon: c, template: t }))
            .collect();
        Ok(quote(&QuoteRequest {
            lines: &ctx.lines,
            tier: ctx.tier.as_ref(),
            coupons: &candidates,
            coupon_choice: coupons,
            points,
            points_balance: ctx.balance,
            policy: &self.policy.pricing,
            now: self.now(),
        })?)
    }

    /// Prices a checkout without writing anything (seed 004 §6.1 preview):
    /// the same function [`Mall::checkout`] charges with.
    ///
    /// # Errors
    /// [`MallError::Quote`] and the catalog errors of [`Mall::add_to_cart`].
    pub async fn preview(&self, user: UserId, request: &CheckoutRequest) -> Result<Quote, MallError> {
        check_text("remark", &request.remark, 0, MAX_NOTE_CHARS)?;
        let ctx = self.pricing_context(user, &request.items).await?;
        self.price(&ctx, &request.coupons, request.points)
    }

    /// Creates the orders of a checkout (seed 004 §6.2): re-prices with the
    /// preview's function, reserves stock, locks the coupons and freezes the
    /// points, all in one batch. Lines of several merchants make one order per
    /// merchant.
    ///
    /// # Errors
    /// [`MallError::Quote`], [`StockError::Insufficient`](crate::inventory::StockError::Insufficient),
    /// [`PointsError::Insufficient`](crate::points::PointsError::Insufficient), [`CouponError::Unavailable`](crate::coupon::CouponError::Unavailable).
    pub async fn checkout(&self, user: UserId, request: &CheckoutRequest) -> Result<Checkout, MallError> {
        self.checkout_to(user, request, None).await
    }

    /// [`Mall::checkout`] with the shipping address every order of the
    /// checkout keeps (a snapshot).
    ///
    /// # Errors
    /// As [`Mall::checkout`].
    pub async fn checkout_to(
        &self,
        user: UserId,
        request: &CheckoutRequest,
        address: Option<ShippingAddress>,
    ) -> Result<Checkout, MallError> {
        check_text("remark", &request.remark, 0, MAX_NOTE_CHARS)?;
        retrying!(self.try_checkout(user, request, address.as_ref()).await)
    }

    pub(crate) async fn try_checkout(
        &self,
        user: UserId,
        request: &CheckoutRequest,
        address: Option<&ShippingAddress>,
    ) -> Result<Checkout, MallError> {
        let ctx = self.pricing_context(user, &request.items).await?;
        let q = self.price(&ctx, &request.coupons, request.points)?;
        let now = self.now();
        let checkout = CheckoutId(self.ids.next_id());
        let mut writes = Vec::new();

        // Per quote line: the base each coupon was measured on (what the
        // earlier layers left).
        let mut base: Vec<Money> = q.lines.iter().map(|l| l.subtotal).collect();
        let mut usages: Vec<(usize, Vec<Money>, Vec<Money>)> = Vec::new(); // (adjustment, bases, allocation)
        for (ai, adj) in q.adjustments.iter().enumerate() {
            if let AdjustmentSource::Coupon { .. } = adj.source {
                usages.push((ai, base.clone(), adj.allocation.clone()));
                for (b, a) in base.iter_mut().zip(&adj.allocation) {
                    *b -= *a;
                }
            }
        }
        let mut merchants: Vec<MerchantId> = q.lines.iter().map(|l| l.merchant).collect();
        merchants.sort_unstable();
        merchants.dedup();
        let mut orders = Vec::with_capacity(merchants.len());
        for merchant in merchants {
            let id = OrderId(self.ids.next_id());
            let idx: Vec<usize> = (0..q.lines.len()).filter(|&i| q.lines[i].merchant == merchant).collect();
            let mut lines = Vec::with_capacity(idx.len());
            for (n, &i) in idx.iter().enumerate() {
                let l = &q.lines[i];
                writes.push(Write::Stock(StockWrite::Move {
                    sku: l.sku,
                    movement: StockMove::Reserve,
                    quantity: l.quantity,
                }));
                lines.push(OrderLine {
                    line_no: n as u32 + 1,
                    sku: l.sku,
                    product: l.product,
                    name: ctx.names.get(&l.sku).cloned().unwrap_or_default(),
                    quantity: l.quantity,
                    list_unit_price: l.list_unit_price,
                    unit_price: l.unit_price,
                    subtotal: l.subtotal,
                    coupon_discount: l.coupon_discount,
                    points_used: l.points_used,
                    points_deduction: l.points_deduction,
                    payable: l.payable,
                    after_sales_quantity: 0,
                    refund_claimed_quantity: 0,
                    refunded_quantity: 0,
                    refunded_amount: Money::ZERO,
                    points_returned: 0,
                });
            }
            let mut coupons = Vec::new();
            for (ai, bases, alloc) in &usages {
                let adj = &q.adjustments[*ai];
                let AdjustmentSource::Coupon { coupon, template, layer } = adj.source else { continue };
                let Some(t) = ctx.templates.get(&template) else { continue };
                let in_scope: Vec<(u32, Money, Money)> = idx
                    .iter()
                    .enumerate()
                    .filter(|&(_, &i)| {
                        let pl = ctx.lines.iter().find(|p| p.sku == q.lines[i].sku);
                        pl.is_some_and(|pl| {
                            t.scope.covers(crate::coupon::ScopeFacts {
                                sku: pl.sku,
                                product: pl.product,
                                merchant: pl.merchant,
                                category_path: &pl.category_path,
                            })
                        })
                    })
                    .map(|(n, &i)| (n as u32 + 1, bases[i], alloc[i]))
                    .collect();
                if in_scope.is_empty() {
                    continue;
                }
                coupons.push(CouponUse {
                    coupon,
                    template,
                    kind: t.kind.clone(),
                    layer,
                    discount: in_scope.iter().map(|x| x.2).sum(),
                    lines: in_scope,
                    measured_on: adj.measured_on,
                    clawed_back: Money::ZERO,
                });
            }
            let shipping_fee = q.shipping.iter().filter(|s| s.merchant == merchant).map(|s| s.fee).sum();
            let goods_subtotal: Money = lines.iter().map(|l| l.subtotal).sum();
            let coupon_discount: Money = lines.iter().map(|l| l.coupon_discount).sum();
            let points_used: i64 = lines.iter().map(|l| l.points_used).sum();
            let points_deduction: Money = lines.iter().map(|l| l.points_deduction).sum();
            let order = Order {
                id,
                number: self.number("ORD", id.0),
                checkout,
                user,
                merchant,
                status: OrderStatus::PendingPayment,
                goods_subtotal,
                coupon_discount,
                points_used,
                points_deduction,
                shipping_fee,
                payable: goods_subtotal - coupon_discount - points_deduction + shipping_fee,
                lines,
                coupons,
                remark: request.remark.clone(),
                created_at: now,
                pay_deadline: now + Duration::minutes(self.policy.payment_timeout_minutes),
                paid_at: None,
                payment: None,
                shipment: None,
                auto_confirm_at: None,
                completed_at: None,
                ended_at: None,
                points_earned: 0,
                points_earned_on: Money::ZERO,
                points_reversed: 0,
                refunded_total: Money::ZERO,
                shipping_refunded: false,
                shipping_address: address.cloned(),
                history: vec![StatusChange {
                    from: None,
                    to: OrderStatus::PendingPayment,
                    actor: Actor::Buyer(user),
                    remark: "下单".into(),
                    at: now,
                }],
                version: 0,
            };
            if points_used > 0 {
                writes.push(self.ledger_write(
                    user,
                    PointsSource::PaymentDeduction,
                    PointsAction::Freeze,
                    id.0,
                    points_used,
                    "下单冻结积分",
                ));
            }
            writes.push(Write::Order(OrderWrite::Insert(order.clone())));
            orders.push(order);
        }
        for coupon in &q.applied_coupons {
            writes.push(Write::Coupon(CouponWrite::SetStatus {
                coupon: *coupon,
                from: UserCouponStatus::Unused,
                to: UserCouponStatus::Locked,
                checkout: Some(checkout),
                at: now,
            }));
        }
        if matches!(request.items, CheckoutItems::Cart) {
            let mut cart = self.store.cart(user).await?;
            cart.items.retain(|i| !i.selected);
            writes.push(Write::Cart(CartWrite::Put(cart)));
        }
        self.commit(Actor::Buyer(user), writes).await?;
        Ok(Checkout { id: checkout, orders, quote: q })
    }
}
