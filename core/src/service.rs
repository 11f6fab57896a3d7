//! The commands of mallkit: [`Mall`] reads through the storage traits, decides
//! with the pure rules of the other modules, and writes each command as one
//! guarded batch ([`Store::apply`]). A version conflict (another command
//! changed the same order, payment or case in between) re-runs the command
//! from a fresh read, a bounded number of times.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::after_sales::{
    self, AfterSale, AfterSaleAction, AfterSaleKind, AfterSaleLine, AfterSaleLog, AfterSaleStatus,
};
use crate::cart::{Cart, MAX_LINE_QUANTITY};
use crate::catalog::{Category, CategoryTree, Merchant, Product, ProductStatus, Sku, StockMove};
use crate::clock::{Clock, IdGen};
use crate::coupon::{CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus, Validity};
use crate::error::MallError;
use crate::ids::{
    AfterSaleId, CheckoutId, CouponTemplateId, LedgerEntryId, MerchantId, OrderId, PaymentId, SkuId, UserCouponId,
    UserId,
};
use crate::money::{Money, Rounding};
use crate::order::{
    Actor, CouponUse, Order, OrderCommand, OrderLine, OrderStatus, Shipment, ShippingAddress, StatusChange,
};
use crate::payment::{Payment, PaymentChannel, PaymentProvider, PaymentStart, PaymentStatus};
use crate::points::{LedgerEntry, PointsAction, PointsSource, Tier, tier_for};
use crate::pricing::{
    AdjustmentSource, CouponCandidate, CouponChoice, PointsChoice, PricingLine, PricingPolicy, Quote, QuoteRequest,
    quote,
};
use crate::storage::{Store, Write};

/// The most points one admin adjustment may add or remove.
pub const MAX_POINTS_ADJUSTMENT: u64 = 1_000_000_000;

/// How many times a command re-runs after a version conflict.
pub const MAX_RETRIES: u32 = 8;

/// Every policy setting of the engine, with the defaults of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Policy {
    /// Rounding, points and shipping (the pricing pipeline's settings).
    pub pricing: PricingPolicy,
    /// Minutes an order waits for payment before it closes (default 30).
    pub payment_timeout_minutes: i64,
    /// Days after shipping before the system confirms receipt (default 10).
    pub auto_confirm_days: i64,
    /// Days after completion during which after-sales can be asked (default 15).
    pub after_sales_days: i64,
    /// Reduce a partial refund that leaves the kept goods below a coupon's
    /// threshold (DESIGN §8; default on).
    pub threshold_clawback: bool,
    /// Give the coupon back when a paid order is cancelled (default off).
    pub return_coupon_on_paid_cancel: bool,
}

impl Policy {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] naming the field: `redeem_points_per_yuan`
    /// not a positive multiple of 100, `redeem_cap` above 1, a negative fee,
    /// a zero weight step, or a period that is not positive.
    pub fn validate(&self) -> Result<(), MallError> {
        let points = &self.pricing.points;
        if points.redeem_points_per_yuan <= 0 || points.redeem_points_per_yuan % 100 != 0 {
            return Err(invalid("policy.pricing.points.redeem_points_per_yuan", "must be a positive multiple of 100"));
        }
        if points.redeem_cap > crate::money::Rate::ONE {
            return Err(invalid("policy.pricing.points.redeem_cap", "must be at most 1"));
        }
        let shipping = &self.pricing.shipping;
        let mut fees = vec![("flat_fee", shipping.flat_fee)];
        if let Some(t) = shipping.free_over {
            fees.push(("free_over", t));
        }
        if let Some(w) = shipping.by_weight {
            if w.step_grams == 0 {
                return Err(invalid("policy.pricing.shipping.by_weight.step_grams", "must be at least 1"));
            }
            fees.extend([("by_weight.first_fee", w.first_fee), ("by_weight.step_fee", w.step_fee)]);
        }
        if let Some((field, _)) = fees.iter().find(|(_, m)| m.is_negative()) {
            return Err(invalid(&format!("policy.pricing.shipping.{field}"), "must not be negative"));
        }
        for (field, value) in [
            ("payment_timeout_minutes", self.payment_timeout_minutes),
            ("auto_confirm_days", self.auto_confirm_days),
            ("after_sales_days", self.after_sales_days),
        ] {
            if value <= 0 {
                return Err(invalid(&format!("policy.{field}"), "must be positive"));
            }
        }
        Ok(())
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            pricing: PricingPolicy::default(),
            payment_timeout_minutes: 30,
            auto_confirm_days: 10,
            after_sales_days: 15,
            threshold_clawback: true,
            return_coupon_on_paid_cancel: false,
        }
    }
}

/// What to check out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum CheckoutItems {
    /// The selected items of the buyer's cart (bought items leave the cart).
    Cart,
    /// Explicit lines (seed 004 §6.1 `items`).
    Lines {
        /// (SKU, units).
        lines: Vec<(SkuId, u32)>,
    },
}

/// A preview or checkout request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutRequest {
    /// What to buy.
    pub items: CheckoutItems,
    /// Coupons.
    #[serde(default)]
    pub coupons: CouponChoice,
    /// Points.
    #[serde(default)]
    pub points: PointsChoice,
    /// Buyer's remark.
    #[serde(default)]
    pub remark: String,
}

/// The result of a checkout: one order per merchant, and the quote they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Checkout {
    /// Checkout id.
    pub id: CheckoutId,
    /// Orders, by merchant id.
    pub orders: Vec<Order>,
    /// The quote charged.
    pub quote: Quote,
}

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

/// The engine: rules over a store, a clock, an id source and a payment provider.
pub struct Mall<S> {
    store: S,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    provider: Arc<dyn PaymentProvider>,
    policy: Policy,
}

macro_rules! retrying {
    ($body:expr) => {{
        let mut attempt = 0;
        loop {
            match $body {
                Err(MallError::Conflict { .. }) if attempt < MAX_RETRIES => attempt += 1,
                other => break other,
            }
        }
    }};
}

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
    /// An engine over `store`.
    pub fn new(
        store: S,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
        provider: Arc<dyn PaymentProvider>,
        policy: Policy,
    ) -> Mall<S> {
        Mall { store, clock, ids, provider, policy }
    }

    /// The store, for reads.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The engine's clock reading (for the other command modules).
    pub(crate) fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A fresh id (for the other command modules).
    pub(crate) fn next_id(&self) -> u64 {
        self.ids.next_id()
    }

    fn rounding(&self) -> Rounding {
        self.policy.pricing.rounding
    }

    fn number(&self, prefix: &str, id: u64) -> String {
        format!("{prefix}{}{id:06}", self.now().format("%Y%m%d"))
    }

    fn ledger(
        &self,
        user: UserId,
        source: PointsSource,
        action: PointsAction,
        reference: u64,
        points: i64,
        remark: &str,
    ) -> Write {
        Write::Points(self.ledger_entry(user, source, action, reference, points, remark))
    }

    fn ledger_entry(
        &self,
        user: UserId,
        source: PointsSource,
        action: PointsAction,
        reference: u64,
        points: i64,
        remark: &str,
    ) -> LedgerEntry {
        LedgerEntry {
            id: LedgerEntryId(self.ids.next_id()),
            user,
            source,
            action,
            reference,
            points,
            balance_delta: 0,
            frozen_delta: 0,
            balance_after: 0,
            remark: remark.to_owned(),
            at: self.now(),
        }
    }

    // ---- catalog, tiers and templates (admin set-up) ----

    /// Saves a category after checking the whole tree.
    ///
    /// # Errors
    /// [`MallError::Catalog`] for an unknown parent or a cycle.
    pub async fn save_category(&self, category: Category) -> Result<(), MallError> {
        let mut all = self.store.categories().await?;
        all.retain(|c| c.id != category.id);
        all.push(category.clone());
        CategoryTree::new(&all)?;
        Ok(self.store.apply(vec![Write::PutCategory(category)]).await?)
    }

    /// Saves a merchant.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for an empty name.
    pub async fn save_merchant(&self, merchant: Merchant) -> Result<(), MallError> {
        non_empty("merchant.name", &merchant.name)?;
        Ok(self.store.apply(vec![Write::PutMerchant(merchant)]).await?)
    }

    /// Saves a product.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown merchant or category,
    /// [`MallError::InvalidInput`] for an empty name.
    pub async fn save_product(&self, product: Product) -> Result<(), MallError> {
        non_empty("product.name", &product.name)?;
        if self.store.merchant(product.merchant).await?.is_none() {
            return Err(MallError::not_found("merchant", product.merchant));
        }
        if !self.store.categories().await?.iter().any(|c| c.id == product.category) {
            return Err(MallError::not_found("category", product.category));
        }
        Ok(self.store.apply(vec![Write::PutProduct(product)]).await?)
    }

    /// Saves a SKU with its stock.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown product, [`MallError::Catalog`]
    /// for a negative price.
    pub async fn save_sku(&self, sku: Sku) -> Result<(), MallError> {
        if self.store.product(sku.product).await?.is_none() {
            return Err(MallError::not_found("product", sku.product));
        }
        sku.validate()?;
        Ok(self.store.apply(vec![Write::PutSku(sku)]).await?)
    }

    /// Saves a member tier.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for an empty name, a negative
    /// `min_points` or a member discount above 1.
    pub async fn save_tier(&self, tier: Tier) -> Result<(), MallError> {
        tier.validate().map_err(|(field, message)| invalid(&format!("tier.{field}"), message))?;
        Ok(self.store.apply(vec![Write::PutTier(tier)]).await?)
    }

    /// Creates a template under a fresh id (`template.id`, `issued` and
    /// `used` are ignored) and returns it as stored.
    ///
    /// # Errors
    /// As [`Mall::save_template`].
    pub async fn create_template(&self, mut template: CouponTemplate) -> Result<CouponTemplate, MallError> {
        template.id = CouponTemplateId(self.ids.next_id());
        template.issued = 0;
        template.used = 0;
        self.save_template(template.clone()).await?;
        Ok(template)
    }

    /// Saves a coupon template. An existing template keeps its `issued` and
    /// `used` counters, and its total may not drop below what it has issued.
    ///
    /// # Errors
    /// [`MallError::Template`] naming the bad field; [`MallError::InvalidInput`]
    /// on `template.total_limit` below the coupons already issued.
    pub async fn save_template(&self, template: CouponTemplate) -> Result<(), MallError> {
        template.validate()?;
        non_empty("template.title", &template.title)?;
        if let (Some(limit), Some(stored)) = (template.total_limit, self.store.template(template.id).await?)
            && limit < stored.issued
        {
            let message = format!("{limit} is below the {} coupons already issued", stored.issued);
            return Err(invalid("template.total_limit", &message));
        }
        Ok(self.store.apply(vec![Write::PutTemplate(template)]).await?)
    }

    /// Enables or disables a template.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown template.
    pub async fn set_template_status(
        &self,
        template: CouponTemplateId,
        status: TemplateStatus,
    ) -> Result<(), MallError> {
        Ok(self.store.apply(vec![Write::SetTemplateStatus { template, status }]).await?)
    }

    // ---- coupons ----

    /// Claims a coupon from a template (seed 004 §5.2). The store enforces
    /// the total and per-user limits, also under concurrent claims.
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`MallError::CouponNotClaimable`] (disabled
    /// or window over), [`MallError::CouponSoldOut`],
    /// [`MallError::CouponClaimLimit`].
    pub async fn claim_coupon(&self, user: UserId, template: CouponTemplateId) -> Result<UserCoupon, MallError> {
        let now = self.now();
        let t =
            self.store.template(template).await?.ok_or_else(|| MallError::not_found("coupon_template", template))?;
        let (valid_from, valid_to) = t.validity.window(now);
        if t.status == TemplateStatus::Disabled || matches!(t.validity, Validity::Window { .. }) && now > valid_to {
            return Err(MallError::CouponNotClaimable(template));
        }
        let coupon = UserCoupon {
            id: UserCouponId(self.ids.next_id()),
            template,
            user,
            status: UserCouponStatus::Unused,
            valid_from,
            valid_to,
            claimed_at: now,
            checkout: None,
            used_at: None,
        };
        self.store.apply(vec![Write::IssueCoupon(coupon.clone())]).await?;
        Ok(coupon)
    }

    /// Voids a coupon the user has not used (admin; seed 004 status 3 已作废).
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`MallError::CouponUnavailable`] when it is
    /// locked by a checkout, used or already void.
    pub async fn void_coupon(&self, coupon: UserCouponId) -> Result<(), MallError> {
        let c = self.store.user_coupon(coupon).await?.ok_or_else(|| MallError::not_found("user_coupon", coupon))?;
        if !matches!(c.status, UserCouponStatus::Unused | UserCouponStatus::Expired) {
            return Err(MallError::CouponUnavailable { coupon, actual: c.status });
        }
        let write = Write::SetCouponStatus {
            coupon,
            from: c.status,
            to: UserCouponStatus::Void,
            checkout: None,
            at: self.now(),
        };
        Ok(self.store.apply(vec![write]).await?)
    }

    // ---- cart ----

    /// Adds units of a SKU to the buyer's cart.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] on `quantity` for zero units or a line
    /// above [`MAX_LINE_QUANTITY`], [`MallError::NotFound`],
    /// [`MallError::ProductOffSale`].
    pub async fn add_to_cart(&self, user: UserId, sku: SkuId, quantity: u32) -> Result<Cart, MallError> {
        check_quantity("quantity", quantity)?;
        self.sellable(sku).await?;
        let mut cart = self.store.cart(user).await?;
        cart.user = user;
        cart.add(sku, quantity);
        if cart.items.iter().any(|i| i.quantity > MAX_LINE_QUANTITY) {
            return Err(invalid("quantity", &format!("the line would exceed {MAX_LINE_QUANTITY} units")));
        }
        self.store.apply(vec![Write::PutCart(cart.clone())]).await?;
        Ok(cart)
    }

    /// Sets the units of a SKU in the cart; zero removes it.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown SKU; [`MallError::InvalidInput`]
    /// on `quantity` above [`MAX_LINE_QUANTITY`].
    pub async fn set_cart_quantity(&self, user: UserId, sku: SkuId, quantity: u32) -> Result<Cart, MallError> {
        self.update_cart_item(user, sku, Some(quantity), None).await
    }

    /// Changes one cart line in one write: its units (zero removes it) and/or
    /// whether it is ticked for checkout. Nothing is saved when either part
    /// is refused.
    ///
    /// # Errors
    /// [`MallError::NotFound`] for an unknown SKU, or when ticking a SKU that
    /// is not (or no longer) in the cart; [`MallError::ProductOffSale`];
    /// [`MallError::InvalidInput`] on `quantity` above [`MAX_LINE_QUANTITY`].
    pub async fn update_cart_item(
        &self,
        user: UserId,
        sku: SkuId,
        quantity: Option<u32>,
        selected: Option<bool>,
    ) -> Result<Cart, MallError> {
        let mut cart = self.store.cart(user).await?;
        cart.user = user;
        if let Some(quantity) = quantity {
            if quantity > 0 {
                check_quantity("quantity", quantity)?;
                self.sellable(sku).await?;
            }
            cart.set_quantity(sku, quantity);
        }
        if let Some(selected) = selected
            && !cart.select(sku, selected)
        {
            return Err(MallError::not_found("cart_item", sku));
        }
        self.store.apply(vec![Write::PutCart(cart.clone())]).await?;
        Ok(cart)
    }

    /// Empties the buyer's cart.
    ///
    /// # Errors
    /// [`MallError::Storage`].
    pub async fn clear_cart(&self, user: UserId) -> Result<Cart, MallError> {
        let cart = Cart { user, items: Vec::new() };
        self.store.apply(vec![Write::PutCart(cart.clone())]).await?;
        Ok(cart)
    }

    async fn sellable(&self, sku: SkuId) -> Result<(Sku, Product), MallError> {
        let s = self.store.sku(sku).await?.ok_or_else(|| MallError::not_found("sku", sku))?;
        let p = self.store.product(s.product).await?.ok_or_else(|| MallError::not_found("product", s.product))?;
        if p.status != ProductStatus::OnSale {
            return Err(MallError::ProductOffSale(p.id));
        }
        Ok((s, p))
    }

    // ---- pricing ----

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
        let ctx = self.pricing_context(user, &request.items).await?;
        self.price(&ctx, &request.coupons, request.points)
    }

    // ---- orders ----

    /// Creates the orders of a checkout (seed 004 §6.2): re-prices with the
    /// preview's function, reserves stock, locks the coupons and freezes the
    /// points, all in one batch. Lines of several merchants make one order per
    /// merchant.
    ///
    /// # Errors
    /// [`MallError::Quote`], [`MallError::InsufficientStock`],
    /// [`MallError::InsufficientPoints`], [`MallError::CouponUnavailable`].
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
        retrying!(self.try_checkout(user, request, address.as_ref()).await)
    }

    async fn try_checkout(
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
                writes.push(Write::MoveStock { sku: l.sku, movement: StockMove::Reserve, quantity: l.quantity });
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
                writes.push(self.ledger(
                    user,
                    PointsSource::PaymentDeduction,
                    PointsAction::Freeze,
                    id.0,
                    points_used,
                    "下单冻结积分",
                ));
            }
            writes.push(Write::InsertOrder(order.clone()));
            orders.push(order);
        }
        for coupon in &q.applied_coupons {
            writes.push(Write::SetCouponStatus {
                coupon: *coupon,
                from: UserCouponStatus::Unused,
                to: UserCouponStatus::Locked,
                checkout: Some(checkout),
                at: now,
            });
        }
        if matches!(request.items, CheckoutItems::Cart) {
            let mut cart = self.store.cart(user).await?;
            cart.items.retain(|i| !i.selected);
            writes.push(Write::PutCart(cart));
        }
        self.store.apply(writes).await?;
        Ok(Checkout { id: checkout, orders, quote: q })
    }

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
    async fn release_unpaid(&self, order: &Order) -> Result<Vec<Write>, MallError> {
        let mut writes: Vec<Write> = order
            .lines
            .iter()
            .map(|l| Write::MoveStock { sku: l.sku, movement: StockMove::Release, quantity: l.quantity })
            .collect();
        if order.points_used > 0 {
            writes.push(self.ledger(
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
    async fn coupon_release(&self, order: &Order, from: UserCouponStatus) -> Result<Vec<Write>, MallError> {
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
            writes.push(Write::SetCouponStatus { coupon: c.id, from, to, checkout: None, at: now });
        }
        Ok(writes)
    }

    /// Cancels an order (seed 004 §6.5): unpaid, it releases stock, points and
    /// coupons; paid and not shipped, it refunds everything through the
    /// provider, restocks and returns the points.
    ///
    /// # Errors
    /// [`MallError::NotFound`], [`MallError::IllegalTransition`] once shipped,
    /// [`MallError::Provider`].
    pub async fn cancel_order(&self, actor: Actor, id: OrderId, reason: &str) -> Result<Order, MallError> {
        retrying!(self.try_cancel(actor, id, reason).await)
    }

    async fn try_cancel(&self, actor: Actor, id: OrderId, reason: &str) -> Result<Order, MallError> {
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
            if order.lines.iter().any(|l| l.after_sales_quantity > l.refunded_quantity) {
                return Err(MallError::AfterSaleInProgress { order: id });
            }
            let payment_id = order.payment.ok_or_else(|| MallError::not_found("payment of order", id))?;
            let mut payment =
                self.store.payment(payment_id).await?.ok_or_else(|| MallError::not_found("payment", payment_id))?;
            // Whatever earlier refunds left: the rest of every line, and the
            // shipping fee unless it went back already.
            let mut amount = if order.shipping_refunded { Money::ZERO } else { order.shipping_fee };
            let mut points_back = 0;
            for l in &mut order.lines {
                let units = l.quantity - l.refunded_quantity;
                if units > 0 {
                    writes.push(Write::MoveStock { sku: l.sku, movement: StockMove::Restock, quantity: units });
                }
                amount += l.payable - l.refunded_amount;
                points_back += l.points_used - l.points_returned;
                l.after_sales_quantity = l.quantity;
                l.refund_claimed_quantity = l.quantity;
                l.refunded_quantity = l.quantity;
                l.refunded_amount = l.payable;
                l.points_returned = l.points_used;
            }
            self.refund_through_provider(&mut payment, &format!("CANCEL-{}", order.number), amount).await?;
            writes.push(Write::UpdatePayment(payment));
            order.refunded_total += amount;
            order.shipping_refunded = true;
            if points_back > 0 {
                writes.push(self.ledger(
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
        writes.push(Write::UpdateOrder(order.clone()));
        self.store.apply(writes).await?;
        order.version += 1;
        Ok(order)
    }

    /// Refunds `amount` of `payment` once per `refund_no` and records it on
    /// the payment (the caller writes the payment in its batch).
    async fn refund_through_provider(
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
                Err(MallError::IllegalTransition(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(closed)
    }

    async fn try_close_unpaid(&self, id: OrderId) -> Result<(), MallError> {
        let mut order = self.order(Actor::System, id).await?;
        let now = self.now();
        order.transition(OrderCommand::CloseUnpaid, Actor::System, "支付超时关闭", now)?;
        order.ended_at = Some(now);
        let mut writes = self.release_unpaid(&order).await?;
        writes.push(Write::UpdateOrder(order));
        Ok(self.store.apply(writes).await?)
    }

    /// Ships an order (merchant or admin) with a carrier and tracking number.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for empty carrier/tracking,
    /// [`MallError::NotFound`] (also for a buyer or another merchant),
    /// [`MallError::IllegalTransition`].
    pub async fn ship(&self, actor: Actor, id: OrderId, carrier: &str, tracking_no: &str) -> Result<Order, MallError> {
        non_empty("carrier", carrier)?;
        non_empty("tracking_no", tracking_no)?;
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
                self.store.apply(vec![Write::UpdateOrder(order.clone())]).await?;
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
    /// [`MallError::NotFound`], [`MallError::IllegalTransition`].
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
                Err(MallError::IllegalTransition(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    async fn try_complete(&self, actor: Actor, id: OrderId, command: OrderCommand) -> Result<i64, MallError> {
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
            writes.push(self.ledger(
                order.user,
                PointsSource::OrderReward,
                PointsAction::Earn,
                id.0,
                earned,
                "订单完成赠送",
            ));
        }
        writes.push(Write::UpdateOrder(order));
        self.store.apply(writes).await?;
        Ok(earned)
    }

    // ---- payments ----

    /// Starts a payment for one or more of the buyer's unpaid orders (seed 004
    /// §7.1, seed 003 multi-order payment). With an instant provider the
    /// payment is confirmed at once.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for no orders or an order listed twice,
    /// [`MallError::NotFound`], [`MallError::OrderNotPayable`],
    /// [`MallError::Provider`].
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
                return Err(MallError::OrderNotPayable { order: o.id, status: o.status });
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
        self.store.apply(vec![Write::InsertPayment(payment.clone())]).await?;
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
    /// [`MallError::NotFound`], [`MallError::PaymentAmountMismatch`],
    /// [`MallError::PaymentAlreadyConfirmed`] for another transaction.
    pub async fn confirm_payment(&self, number: &str, provider_txn: &str, amount: Money) -> Result<Payment, MallError> {
        retrying!(self.try_confirm_payment(number, provider_txn, amount).await)
    }

    async fn try_confirm_payment(&self, number: &str, provider_txn: &str, amount: Money) -> Result<Payment, MallError> {
        let mut payment =
            self.store.payment_by_number(number).await?.ok_or_else(|| MallError::not_found("payment", number))?;
        if let Some(existing) = &payment.provider_txn {
            if existing == provider_txn {
                return Ok(payment);
            }
            return Err(MallError::PaymentAlreadyConfirmed { payment: payment.id, existing: existing.clone() });
        }
        if amount != payment.amount {
            return Err(MallError::PaymentAmountMismatch {
                payment: payment.id,
                expected: payment.amount,
                got: amount,
            });
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
                writes.push(Write::MoveStock { sku: l.sku, movement: StockMove::Commit, quantity: l.quantity });
            }
            if order.points_used > 0 {
                writes.push(self.ledger(
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
                    writes.push(Write::SetCouponStatus {
                        coupon: usage.coupon,
                        from: UserCouponStatus::Locked,
                        to: UserCouponStatus::Used,
                        checkout: Some(order.checkout),
                        at: now,
                    });
                }
            }
            writes.push(Write::UpdateOrder(order));
        }
        writes.push(Write::UpdatePayment(payment.clone()));
        self.store.apply(writes).await?;
        payment.version += 1;
        Ok(payment)
    }

    // ---- after-sales ----

    /// The buyer asks for after-sales on lines of a paid order (seed 000 §6).
    /// Amounts default to the whole refundable amount; the threshold clawback
    /// is computed now and shown on the case.
    ///
    /// # Errors
    /// [`MallError::AfterSaleNotAllowed`] (unpaid; return or exchange before
    /// shipping), [`MallError::AfterSaleWindowClosed`],
    /// [`MallError::InvalidInput`] (no lines, zero units, unknown or repeated
    /// line), [`MallError::AfterSaleQuantityExceeded`],
    /// [`MallError::RefundExceedsRefundable`].
    pub async fn apply_after_sale(
        &self,
        user: UserId,
        order: OrderId,
        kind: AfterSaleKind,
        lines: &[AfterSaleRequestLine],
        reason: &str,
    ) -> Result<AfterSale, MallError> {
        retrying!(self.try_apply_after_sale(user, order, kind, lines, reason).await)
    }

    async fn try_apply_after_sale(
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
            return Err(MallError::AfterSaleNotAllowed { order: order.id, status: order.status, kind });
        }
        if let Some(done) = order.completed_at {
            let closed_at = done + Duration::days(self.policy.after_sales_days);
            if now > closed_at {
                return Err(MallError::AfterSaleWindowClosed { order: order.id, closed_at });
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
                return Err(MallError::AfterSaleQuantityExceeded {
                    line_no: r.line_no,
                    requested: r.quantity,
                    available: left,
                });
            }
            let amount = if kind.refunds() {
                let max = after_sales::refundable(line, r.quantity, rounding);
                match r.amount {
                    Some(a) if a > max => {
                        return Err(MallError::RefundExceedsRefundable { line_no: r.line_no, requested: a, max });
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
        self.store.apply(vec![Write::InsertAfterSale(case.clone()), Write::UpdateOrder(order)]).await?;
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
    /// [`MallError::IllegalAfterSaleStep`].
    pub async fn after_sale_step(
        &self,
        actor: Actor,
        id: AfterSaleId,
        action: AfterSaleAction,
        note: &str,
    ) -> Result<AfterSale, MallError> {
        retrying!(self.try_after_sale_step(actor, id, action, note).await)
    }

    async fn try_after_sale_step(
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
                        writes.push(Write::MoveStock {
                            sku: ol.sku,
                            movement: StockMove::Restock,
                            quantity: l.quantity,
                        });
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
                writes.push(Write::UpdateOrder(order));
            }
            _ => {}
        }
        writes.push(Write::UpdateAfterSale(case.clone()));
        self.store.apply(writes).await?;
        case.version += 1;
        Ok(case)
    }

    fn advance(
        &self,
        case: &mut AfterSale,
        actor: Actor,
        action: AfterSaleAction,
        note: &str,
    ) -> Result<(), MallError> {
        let to = after_sales::next_status(case.kind, case.status, action).ok_or(MallError::IllegalAfterSaleStep {
            case: case.id,
            kind: case.kind,
            from: case.status,
            action,
        })?;
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
    /// [`MallError::NotFound`], [`MallError::IllegalAfterSaleStep`],
    /// [`MallError::Provider`].
    pub async fn refund_after_sale(&self, actor: Actor, id: AfterSaleId) -> Result<AfterSale, MallError> {
        retrying!(self.try_refund(actor, id).await)
    }

    async fn try_refund(&self, actor: Actor, id: AfterSaleId) -> Result<AfterSale, MallError> {
        if matches!(actor, Actor::Buyer(_)) {
            return Err(MallError::not_found("after_sale", id));
        }
        let mut case = self.after_sale(actor, id).await?;
        self.advance(&mut case, actor, AfterSaleAction::Refund, "退款")?;
        let mut order = self.order(Actor::System, case.order).await?;
        let mut writes = Vec::new();

        let parts = after_sales::distribute_refund(&order, &case.lines, case.refund_amount);
        let goods_refund: Money = parts.iter().map(|p| p.1).sum();
        for (line_no, amount) in parts {
            if let Some(ol) = order.lines.iter_mut().find(|l| l.line_no == line_no) {
                ol.refunded_amount += amount;
            }
            if let Some(cl) = case.lines.iter_mut().find(|l| l.line_no == line_no) {
                cl.refunded += amount;
            }
        }
        let unshipped = order.status == OrderStatus::AwaitingShipment;
        let mut points_back = 0;
        for cl in &case.lines {
            let Some(ol) = order.lines.iter_mut().find(|l| l.line_no == cl.line_no) else { continue };
            ol.refunded_quantity = (ol.refunded_quantity + cl.quantity).min(ol.quantity);
            // Redeemed points come back in proportion to the money refunded on
            // the line (DESIGN §5), all of them once the line is fully
            // refunded; a line paid wholly by coupon and points goes by units.
            let due = if ol.fully_refunded() {
                ol.points_used
            } else if ol.payable.is_positive() {
                rounding_down_share(ol.points_used, ol.refunded_amount.min(ol.payable), ol.payable)
            } else {
                Rounding::Down
                    .divide(i128::from(ol.points_used) * i128::from(ol.refunded_quantity), i128::from(ol.quantity))
                    as i64
            };
            points_back += due - ol.points_returned;
            ol.points_returned = due;
            if unshipped {
                writes.push(Write::MoveStock { sku: ol.sku, movement: StockMove::Restock, quantity: cl.quantity });
            }
        }
        let shipping = if unshipped && order.fully_refunded() && !order.shipping_refunded {
            order.shipping_refunded = true;
            order.shipping_fee
        } else {
            Money::ZERO
        };
        case.shipping_refund = shipping;
        let total = goods_refund + shipping;
        order.refunded_total += total;

        let payment_id = order.payment.ok_or_else(|| MallError::not_found("payment of order", order.id))?;
        let mut payment =
            self.store.payment(payment_id).await?.ok_or_else(|| MallError::not_found("payment", payment_id))?;
        self.refund_through_provider(&mut payment, &case.number, total).await?;
        writes.push(Write::UpdatePayment(payment));

        if points_back > 0 {
            case.points_returned = points_back;
            writes.push(self.ledger(
                order.user,
                PointsSource::RefundReturn,
                PointsAction::Return,
                id.0,
                points_back,
                "退款退回积分",
            ));
        }
        if order.points_earned > 0 {
            // Earned points were earned on the goods paid at completion; only
            // refunds made since then take them back (DESIGN §5).
            let payable: Money = order.lines.iter().map(|l| l.payable).sum();
            let refunded: Money = order.lines.iter().map(|l| l.refunded_amount).sum();
            let earned_on = if order.points_earned_on.is_positive() { order.points_earned_on } else { payable };
            let refunded_since = (refunded - (payable - earned_on)).max(Money::ZERO).min(earned_on);
            let due = rounding_down_share(order.points_earned, refunded_since, earned_on);
            let reverse = due - order.points_reversed;
            if reverse > 0 {
                case.points_reversed = reverse;
                order.points_reversed = due;
                writes.push(self.ledger(
                    order.user,
                    PointsSource::RefundReversal,
                    PointsAction::Reverse,
                    id.0,
                    reverse,
                    "退款扣回赠送积分",
                ));
            }
        }
        if order.fully_refunded() {
            let now = self.now();
            order.transition(OrderCommand::CloseRefunded, actor, "全部退款，订单关闭", now)?;
            order.ended_at = Some(now);
        }
        writes.push(Write::UpdateOrder(order));
        writes.push(Write::UpdateAfterSale(case.clone()));
        self.store.apply(writes).await?;
        case.version += 1;
        Ok(case)
    }

    // ---- points ----

    /// An admin adds (positive) or removes (negative) points (seed 004 admin
    /// points adjustment). Returns the ledger row's id.
    ///
    /// # Errors
    /// [`MallError::InvalidInput`] for zero points or more than
    /// [`MAX_POINTS_ADJUSTMENT`],
    /// [`MallError::InsufficientPoints`] when removing more than the balance.
    pub async fn adjust_points(&self, user: UserId, points: i64, remark: &str) -> Result<LedgerEntryId, MallError> {
        if points == 0 || points.unsigned_abs() > MAX_POINTS_ADJUSTMENT {
            return Err(invalid("points", &format!("must be non-zero and at most ±{MAX_POINTS_ADJUSTMENT}")));
        }
        let reference = self.ids.next_id();
        let entry =
            self.ledger_entry(user, PointsSource::AdminAdjustment, PointsAction::Adjust, reference, points, remark);
        let id = entry.id;
        self.store.apply(vec![Write::Points(entry)]).await?;
        Ok(id)
    }
}

/// ⌊points × part / whole⌋ (0 when `whole` is not positive).
fn rounding_down_share(points: i64, part: Money, whole: Money) -> i64 {
    Rounding::Down.divide(i128::from(points) * i128::from(part.fen()), i128::from(whole.fen())) as i64
}

fn check_quantity(field: &str, quantity: u32) -> Result<(), MallError> {
    if quantity == 0 {
        return Err(invalid(field, "must be at least 1"));
    }
    if quantity > MAX_LINE_QUANTITY {
        return Err(invalid(field, &format!("must be at most {MAX_LINE_QUANTITY}")));
    }
    Ok(())
}

/// [`MallError::InvalidInput`] naming `field`.
pub(crate) fn invalid(field: &str, message: &str) -> MallError {
    MallError::InvalidInput { field: field.to_owned(), message: message.to_owned() }
}

fn non_empty(field: &str, value: &str) -> Result<(), MallError> {
    if value.trim().is_empty() { Err(invalid(field, "must not be empty")) } else { Ok(()) }
}
