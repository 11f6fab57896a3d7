//! Runs a scenario on the in-memory store: sets up the world, walks the
//! steps, checks every expectation, and collects what failed. No business
//! rule lives here: every step is one `Mall` command.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mallkit_core::after_sales::AfterSaleRequestLine;
use mallkit_core::after_sales::{AfterSale, AfterSaleAction};
use mallkit_core::catalog::CategoryTree;
use mallkit_core::checkout::{Checkout, CheckoutItems, CheckoutRequest};
use mallkit_core::clock::{Clock, ManualClock, SequentialIds};
use mallkit_core::ids::{AfterSaleId, LedgerEntryId, OrderId, SkuId, UserCouponId, UserId};
use mallkit_core::order::Actor;
use mallkit_core::payment::{Payment, PaymentChannel, SimulatedProvider};
use mallkit_core::points::{LedgerEntry, PointsAction, PointsSource};
use mallkit_core::pricing::{CouponChoice, PointsChoice, Quote};
use mallkit_core::storage::{CatalogWrite, PointsWrite, Store, Write};
use mallkit_core::{Mall, MallError, Money};
use serde::Serialize;

use super::model::{Action, By, CouponSpec, Expect, PaymentMode, PointsSpec, ScenarioFile, Step};

/// The admin who acts in scenarios.
const ADMIN: UserId = UserId(0);

/// A scenario's world: the engine, its clock and provider, and the names
/// steps gave to what they created.
pub struct World<S> {
    /// The engine.
    pub mall: Mall<S>,
    clock: Arc<ManualClock>,
    provider: Arc<SimulatedProvider>,
    users: BTreeMap<String, UserId>,
    orders: BTreeMap<String, OrderId>,
    coupons: BTreeMap<String, UserCouponId>,
    cases: BTreeMap<String, AfterSaleId>,
    payments: BTreeMap<String, String>,
}

/// What a step produced, for its result expectations.
enum Outcome {
    Quote(Box<Quote>),
    Checkout(Box<Checkout>),
    Payment(Box<Payment>),
    Case(Box<AfterSale>),
    Earned(i64),
    Scheduler { closed: Vec<OrderId>, confirmed: Vec<OrderId> },
    Done,
}

/// Why a step could not run at all (a mistake in the file, not in mallkit).
enum StepError {
    Mall(MallError),
    Script(String),
}

impl From<MallError> for StepError {
    fn from(e: MallError) -> Self {
        StepError::Mall(e)
    }
}

/// The default start of a scenario's clock.
pub fn default_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Builds the world of a file on an empty `store`: catalog, tiers, templates,
/// users.
///
/// # Errors
/// A message naming what in the set-up was refused.
pub async fn setup<S: Store>(file: &ScenarioFile, store: S) -> Result<World<S>, String> {
    file.policy.validate().map_err(|e| e.to_string())?;
    let clock = Arc::new(ManualClock::new(file.start.unwrap_or_else(default_start)));
    let provider = Arc::new(match file.payment {
        PaymentMode::Instant => SimulatedProvider::instant(),
        PaymentMode::Callback => SimulatedProvider::awaiting_callback(),
    });
    let mall =
        Mall::new(store, clock.clone(), Arc::new(SequentialIds::starting_at(1_000_000)), provider.clone(), file.policy);
    // The tree is checked whole, so categories may come in any order.
    CategoryTree::new(&file.categories).map_err(|e| format!("categories: {e}"))?;
    let writes = file.categories.iter().cloned().map(|v| Write::Catalog(CatalogWrite::PutCategory(v))).collect();
    mall.store().apply(writes).await.map_err(|e| format!("categories: {e}"))?;
    for m in &file.merchants {
        mall.save_merchant(m.clone()).await.map_err(|e| format!("merchant {}: {e}", m.id))?;
    }
    for p in &file.products {
        mall.save_product(p.clone()).await.map_err(|e| format!("product {}: {e}", p.id))?;
    }
    for s in &file.skus {
        mall.save_sku(s.clone()).await.map_err(|e| format!("sku {}: {e}", s.id))?;
    }
    for t in &file.tiers {
        mall.save_tier(t.clone()).await.map_err(|e| format!("tier {}: {e}", t.level))?;
    }
    for t in &file.templates {
        mall.save_template(t.clone()).await.map_err(|e| format!("template {}: {e}", t.id))?;
    }
    let users = assign_user_ids(file)?;
    for (n, (name, u)) in file.users.iter().enumerate() {
        let id = users[name];
        if u.lifetime_points < 0 {
            return Err(format!("users.{name}.lifetime_points: must not be negative"));
        }
        if u.lifetime_points > 0 {
            // History from before the scenario: one row that earns the
            // points, so they count for the tier and can be spent.
            let entry = LedgerEntry {
                id: LedgerEntryId(n as u64 + 1),
                user: id,
                source: PointsSource::AdminAdjustment,
                action: PointsAction::Earn,
                reference: n as u64 + 1,
                points: u.lifetime_points,
                balance_delta: 0,
                frozen_delta: 0,
                balance_after: 0,
                remark: "场景初始累计积分".into(),
                at: clock.now(),
            };
            mall.store()
                .apply(vec![Write::Points(PointsWrite::Post(entry))])
                .await
                .map_err(|e| format!("users.{name}: {e}"))?;
        }
        if u.points != 0 {
            mall.adjust_points(id, u.points, "初始积分").await.map_err(|e| format!("users.{name}.points: {e}"))?;
        }
    }
    Ok(World {
        mall,
        clock,
        provider,
        users,
        orders: BTreeMap::new(),
        coupons: BTreeMap::new(),
        cases: BTreeMap::new(),
        payments: BTreeMap::new(),
    })
}

/// The id of every user of the file: the one it gives, or the smallest id
/// from 1 that no other user has, in name order.
fn assign_user_ids(file: &ScenarioFile) -> Result<BTreeMap<String, UserId>, String> {
    let mut taken = BTreeMap::new();
    for (name, u) in &file.users {
        if let Some(id) = u.id {
            if id == ADMIN.0 {
                return Err(format!("users.{name}.id: 0 is the scenario admin's id"));
            }
            if let Some(other) = taken.insert(id, name.clone()) {
                return Err(format!("users.{name}.id: {id} is also the id of \"{other}\""));
            }
        }
    }
    let mut next = 1;
    let mut users = BTreeMap::new();
    for (name, u) in &file.users {
        let id = match u.id {
            Some(id) => id,
            None => {
                while taken.contains_key(&next) {
                    next += 1;
                }
                taken.insert(next, name.clone());
                next
            }
        };
        users.insert(name.clone(), UserId(id));
    }
    Ok(users)
}

/// One failed expectation of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Step number, from 1.
    pub step: usize,
    /// The step's title and action, e.g. `(checkout "o1")` or
    /// `"return the tile" (apply_after_sale "r1")`.
    pub label: String,
    /// `key: expected X, got Y`.
    pub message: String,
}

/// The result of running one scenario.
#[derive(Debug, Default)]
pub struct Report {
    /// Steps run.
    pub steps: usize,
    /// Expectations checked.
    pub checks: usize,
    /// What failed.
    pub failures: Vec<Failure>,
}

/// Runs every step of `file` in `world`.
pub async fn run<S: Store>(world: &mut World<S>, steps: &[Step]) -> Report {
    let mut report = Report::default();
    for (i, step) in steps.iter().enumerate() {
        let label = match &step.name {
            Some(name) => format!("\"{name}\" ({})", label(&step.action)),
            None => format!("({})", label(&step.action)),
        };
        let mut checks = Checks::default();
        let result = world.step(&step.action).await;
        match (&step.expect.error, result) {
            (Some(kind), Ok(_)) => checks.fail(format!("error: expected {kind}, got success")),
            (Some(kind), Err(StepError::Mall(e))) => checks.eq("error", kind.as_str(), e.kind()),
            (_, Err(StepError::Script(message))) => checks.fail(format!("cannot run: {message}")),
            (None, Err(StepError::Mall(e))) => checks.fail(format!("unexpected error {}: {e}", e.kind())),
            (None, Ok(outcome)) => world.check_outcome(&step.expect, &outcome, &mut checks),
        }
        world.check_world(&step.expect, &mut checks).await;
        report.steps += 1;
        report.checks += checks.count;
        report.failures.extend(checks.failures.into_iter().map(|message| Failure {
            step: i + 1,
            label: label.clone(),
            message,
        }));
    }
    report
}

/// The step's action and the name it concerns, e.g. `checkout "o1"`.
fn label(action: &Action) -> String {
    let (name, subject) = match action {
        Action::ClaimCoupon { name, .. } => ("claim_coupon", name.as_deref()),
        Action::AddToCart { .. } => ("add_to_cart", None),
        Action::SetCartQuantity { .. } => ("set_cart_quantity", None),
        Action::Preview { .. } => ("preview", None),
        Action::Checkout { name, .. } => ("checkout", name.as_deref()),
        Action::Pay { name, .. } => ("pay", name.as_deref()),
        Action::PaymentCallback { payment, .. } => ("payment_callback", Some(payment.as_str())),
        Action::Cancel { order, .. } => ("cancel", Some(order.as_str())),
        Action::Ship { order, .. } => ("ship", Some(order.as_str())),
        Action::ConfirmReceipt { order } => ("confirm_receipt", Some(order.as_str())),
        Action::TimePasses { .. } => ("time_passes", None),
        Action::RunScheduler {} => ("run_scheduler", None),
        Action::ApplyAfterSale { name, .. } => ("apply_after_sale", name.as_deref()),
        Action::Approve { case } => ("approve", Some(case.as_str())),
        Action::Reject { case, .. } => ("reject", Some(case.as_str())),
        Action::ShipBack { case, .. } => ("ship_back", Some(case.as_str())),
        Action::Receive { case } => ("receive", Some(case.as_str())),
        Action::Refund { case } => ("refund", Some(case.as_str())),
        Action::Reship { case } => ("reship", Some(case.as_str())),
        Action::CancelAfterSale { case } => ("cancel_after_sale", Some(case.as_str())),
        Action::AdjustPoints { user, .. } => ("adjust_points", Some(user.as_str())),
        Action::SetTemplateStatus { .. } => ("set_template_status", None),
        Action::VoidCoupon { coupon } => ("void_coupon", Some(coupon.as_str())),
        Action::Check {} => ("check", None),
    };
    match subject {
        Some(s) => format!("{name} \"{s}\""),
        None => name.to_owned(),
    }
}

/// Collects checks of one step.
#[derive(Default)]
struct Checks {
    count: usize,
    failures: Vec<String>,
}

impl Checks {
    fn eq<T: PartialEq + Display + ?Sized>(&mut self, key: &str, expected: &T, got: &T) {
        self.count += 1;
        if expected != got {
            self.failures.push(format!("{key}: expected {expected}, got {got}"));
        }
    }

    fn opt<T: PartialEq + Display>(&mut self, key: &str, expected: &Option<T>, got: T) {
        if let Some(e) = expected {
            self.eq(key, e, &got);
        }
    }

    fn fail(&mut self, message: String) {
        self.count += 1;
        self.failures.push(message);
    }
}

/// Core's points choice for a spec.
pub fn points_choice(spec: PointsSpec) -> PointsChoice {
    match spec {
        PointsSpec::None => PointsChoice::None,
        PointsSpec::Max => PointsChoice::Max,
        PointsSpec::Exactly(n) => PointsChoice::Exactly(n),
    }
}

/// The snake_case name serde gives an enum value.
fn snake<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn names<T: Ord + Copy>(map: &BTreeMap<String, T>, ids: &[T], unknown: impl Fn(T) -> String) -> String {
    let list: Vec<String> = ids
        .iter()
        .map(|id| map.iter().find(|(_, v)| **v == *id).map_or_else(|| unknown(*id), |(k, _)| k.clone()))
        .collect();
    format!("[{}]", list.join(", "))
}

impl<S: Store> World<S> {
    fn user(&self, name: &str) -> Result<UserId, StepError> {
        self.users.get(name).copied().ok_or_else(|| StepError::Script(format!("no user named \"{name}\"")))
    }

    fn order_id(&self, name: &str) -> Result<OrderId, StepError> {
        self.orders.get(name).copied().ok_or_else(|| StepError::Script(format!("no order named \"{name}\"")))
    }

    fn case_id(&self, name: &str) -> Result<AfterSaleId, StepError> {
        self.cases.get(name).copied().ok_or_else(|| StepError::Script(format!("no after-sale named \"{name}\"")))
    }

    /// Turns a coupon spec into core's choice.
    fn coupon_choice(&self, spec: &CouponSpec) -> Result<CouponChoice, String> {
        match spec {
            CouponSpec::Best => Ok(CouponChoice::Best),
            CouponSpec::None => Ok(CouponChoice::None),
            CouponSpec::Chosen(names) => names
                .iter()
                .map(|n| self.coupons.get(n).copied().ok_or_else(|| format!("coupons: no coupon named \"{n}\"")))
                .collect::<Result<_, _>>()
                .map(CouponChoice::Chosen),
        }
    }

    /// Builds a checkout request.
    fn request(
        &self,
        lines: &Option<Vec<(u64, u32)>>,
        coupons: &CouponSpec,
        points: PointsSpec,
    ) -> Result<CheckoutRequest, String> {
        let items = match lines {
            None => CheckoutItems::Cart,
            Some(l) => CheckoutItems::Lines { lines: l.iter().map(|&(s, q)| (SkuId(s), q)).collect() },
        };
        Ok(CheckoutRequest {
            items,
            coupons: self.coupon_choice(coupons)?,
            points: points_choice(points),
            remark: String::new(),
        })
    }

    async fn order_actor(&self, name: &str, by: By) -> Result<(OrderId, Actor), StepError> {
        let id = self.order_id(name)?;
        let order = self.mall.order(Actor::System, id).await?;
        Ok((
            id,
            match by {
                By::Buyer => Actor::Buyer(order.user),
                By::Merchant => Actor::Merchant(order.merchant),
                By::Admin => Actor::Admin(ADMIN),
            },
        ))
    }

    async fn case_step(&self, name: &str, action: AfterSaleAction, note: &str) -> Result<Outcome, StepError> {
        let id = self.case_id(name)?;
        let case = self.mall.after_sale(Actor::System, id).await?;
        let actor = match action {
            AfterSaleAction::ShipBack | AfterSaleAction::Cancel => Actor::Buyer(case.user),
            _ => Actor::Merchant(case.merchant),
        };
        let case = match action {
            AfterSaleAction::Refund => self.mall.refund_after_sale(actor, id).await?,
            _ => self.mall.after_sale_step(actor, id, action, note).await?,
        };
        Ok(Outcome::Case(Box::new(case)))
    }

    async fn step(&mut self, action: &Action) -> Result<Outcome, StepError> {
        let script = StepError::Script;
        Ok(match action {
            Action::ClaimCoupon { user, template, name } => {
                let c = self.mall.claim_coupon(self.user(user)?, *template).await?;
                if let Some(n) = name {
                    self.coupons.insert(n.clone(), c.id);
                }
                Outcome::Done
            }
            Action::AddToCart { user, sku, quantity } => {
                self.mall.add_to_cart(self.user(user)?, *sku, *quantity).await?;
                Outcome::Done
            }
            Action::SetCartQuantity { user, sku, quantity } => {
                self.mall.set_cart_quantity(self.user(user)?, *sku, *quantity).await?;
                Outcome::Done
            }
            Action::Preview { user, lines, coupons, points } => {
                let request = self.request(lines, coupons, *points).map_err(script)?;
                Outcome::Quote(Box::new(self.mall.preview(self.user(user)?, &request).await?))
            }
            Action::Checkout { user, lines, coupons, points, name } => {
                let request = self.request(lines, coupons, *points).map_err(script)?;
                let checkout = self.mall.checkout(self.user(user)?, &request).await?;
                if let Some(n) = name {
                    match checkout.orders.as_slice() {
                        [one] => {
                            self.orders.insert(n.clone(), one.id);
                        }
                        many => {
                            for (i, o) in many.iter().enumerate() {
                                self.orders.insert(format!("{n}.{}", i + 1), o.id);
                            }
                        }
                    }
                }
                Outcome::Checkout(Box::new(checkout))
            }
            Action::Pay { orders, name } => {
                let ids: Vec<OrderId> = orders.iter().map(|o| self.order_id(o)).collect::<Result<_, _>>()?;
                let first = ids.first().ok_or_else(|| script("pay: name at least one order".into()))?;
                let buyer = self.mall.order(Actor::System, *first).await?.user;
                let payment = self.mall.pay(buyer, &ids, PaymentChannel::Simulated).await?;
                if let Some(n) = name {
                    self.payments.insert(n.clone(), payment.number.clone());
                }
                Outcome::Payment(Box::new(payment))
            }
            Action::PaymentCallback { payment, txn, amount } => {
                let number =
                    self.payments.get(payment).ok_or_else(|| script(format!("no payment named \"{payment}\"")))?;
                let stored = self.mall.store().payment_by_number(number).await.map_err(MallError::from)?;
                let amount = amount.or(stored.map(|p| p.amount)).unwrap_or(Money::ZERO);
                Outcome::Payment(Box::new(self.mall.confirm_payment(number, txn, amount).await?))
            }
            Action::Cancel { order, by } => {
                let (id, actor) = self.order_actor(order, *by).await?;
                self.mall.cancel_order(actor, id, "不想要了").await?;
                Outcome::Done
            }
            Action::Ship { order, by, carrier, tracking_no } => {
                let (id, actor) = self.order_actor(order, *by).await?;
                self.mall.ship(actor, id, carrier, tracking_no).await?;
                Outcome::Done
            }
            Action::ConfirmReceipt { order } => {
                let (id, actor) = self.order_actor(order, By::Buyer).await?;
                let Actor::Buyer(user) = actor else { return Err(script("confirm_receipt: no buyer".into())) };
                Outcome::Earned(self.mall.confirm_receipt(user, id).await?)
            }
            Action::TimePasses { minutes, hours, days } => {
                self.clock.advance(Duration::minutes(*minutes) + Duration::hours(*hours) + Duration::days(*days));
                Outcome::Done
            }
            Action::RunScheduler {} => {
                let closed = self.mall.close_expired_orders().await?;
                let confirmed = self.mall.auto_confirm_due().await?;
                Outcome::Scheduler { closed, confirmed }
            }
            Action::ApplyAfterSale { order, kind, lines, reason, name } => {
                let (id, actor) = self.order_actor(order, By::Buyer).await?;
                let Actor::Buyer(user) = actor else { return Err(script("apply_after_sale: no buyer".into())) };
                let request: Vec<AfterSaleRequestLine> = lines
                    .iter()
                    .map(|l| AfterSaleRequestLine { line_no: l.line, quantity: l.quantity, amount: l.amount })
                    .collect();
                let case = self.mall.apply_after_sale(user, id, *kind, &request, reason).await?;
                if let Some(n) = name {
                    self.cases.insert(n.clone(), case.id);
                }
                Outcome::Case(Box::new(case))
            }
            Action::Approve { case } => self.case_step(case, AfterSaleAction::Approve, "").await?,
            Action::Reject { case, note } => self.case_step(case, AfterSaleAction::Reject, note).await?,
            Action::ShipBack { case, tracking_no } => {
                self.case_step(case, AfterSaleAction::ShipBack, tracking_no).await?
            }
            Action::Receive { case } => self.case_step(case, AfterSaleAction::Receive, "").await?,
            Action::Refund { case } => self.case_step(case, AfterSaleAction::Refund, "").await?,
            Action::Reship { case } => self.case_step(case, AfterSaleAction::Reship, "").await?,
            Action::CancelAfterSale { case } => self.case_step(case, AfterSaleAction::Cancel, "").await?,
            Action::AdjustPoints { user, points } => {
                self.mall.adjust_points(self.user(user)?, *points, "管理员调整").await?;
                Outcome::Done
            }
            Action::SetTemplateStatus { template, status } => {
                self.mall.set_template_status(*template, *status).await?;
                Outcome::Done
            }
            Action::VoidCoupon { coupon } => {
                let id =
                    self.coupons.get(coupon).copied().ok_or_else(|| script(format!("no coupon named \"{coupon}\"")))?;
                self.mall.void_coupon(id).await?;
                Outcome::Done
            }
            Action::Check {} => Outcome::Done,
        })
    }

    fn check_quote(&self, e: &Expect, q: &Quote, c: &mut Checks) {
        c.opt("goods_subtotal", &e.goods_subtotal, q.goods_subtotal);
        c.opt("member_discount", &e.member_discount, q.member_discount);
        c.opt("coupon_discount", &e.coupon_discount, q.coupon_discount);
        c.opt("points_used", &e.points_used, q.points_used);
        c.opt("points_deduction", &e.points_deduction, q.points_deduction);
        c.opt("points_max", &e.points_max, q.points_max);
        c.opt("shipping_fee", &e.shipping_fee, q.shipping_fee);
        c.opt("goods_after_coupons", &e.goods_after_coupons, q.shipping.iter().map(|s| s.goods_after_coupons).sum());
        c.opt("payable", &e.payable, q.payable);
        for (sku, le) in &e.lines {
            let Some(l) = q.lines.iter().find(|l| l.sku.0.to_string() == *sku) else {
                c.fail(format!("lines.{sku}: no line for that SKU in the quote"));
                continue;
            };
            c.opt(&format!("lines.{sku}.unit_price"), &le.unit_price, l.unit_price);
            c.opt(&format!("lines.{sku}.subtotal"), &le.subtotal, l.subtotal);
            c.opt(&format!("lines.{sku}.coupon_discount"), &le.coupon_discount, l.coupon_discount);
            c.opt(&format!("lines.{sku}.points_used"), &le.points_used, l.points_used);
            c.opt(&format!("lines.{sku}.points_deduction"), &le.points_deduction, l.points_deduction);
            c.opt(&format!("lines.{sku}.payable"), &le.payable, l.payable);
        }
        for (name, reason) in &e.rejected_coupons {
            let Some(id) = self.coupons.get(name) else {
                c.fail(format!("rejected_coupons.{name}: no coupon by that name"));
                continue;
            };
            let got = q.rejected_coupons.iter().find(|r| r.coupon == *id).map_or_else(
                || "applied".to_owned(),
                |r| {
                    serde_json::to_value(r.reason)
                        .ok()
                        .and_then(|v| v["reason"].as_str().map(str::to_owned))
                        .unwrap_or_default()
                },
            );
            c.eq(&format!("rejected_coupons.{name}"), reason.as_str(), &got);
        }
        if let Some(expected) = &e.applied_coupons {
            let got = names(&self.coupons, &q.applied_coupons, |id| format!("#{id}"));
            c.eq("applied_coupons", &format!("[{}]", expected.join(", ")), &got);
        }
    }

    fn check_outcome(&self, e: &Expect, outcome: &Outcome, c: &mut Checks) {
        let quote_keys = [
            e.goods_subtotal.is_some(),
            e.member_discount.is_some(),
            e.coupon_discount.is_some(),
            e.points_used.is_some(),
            e.points_deduction.is_some(),
            e.points_max.is_some(),
            e.shipping_fee.is_some(),
            e.goods_after_coupons.is_some(),
            !e.lines.is_empty(),
            !e.rejected_coupons.is_empty(),
            e.applied_coupons.is_some(),
        ];
        let case_keys = [
            e.goods_amount.is_some(),
            e.clawback.is_some(),
            e.refund_amount.is_some(),
            e.shipping_refund.is_some(),
            e.points_returned.is_some(),
            e.points_reversed.is_some(),
        ];
        let not_here = |c: &mut Checks, what: &str| c.fail(format!("{what}: not produced by this step"));
        match outcome {
            Outcome::Quote(q) => self.check_quote(e, q, c),
            Outcome::Checkout(ch) => {
                self.check_quote(e, &ch.quote, c);
                c.opt("orders_created", &e.orders_created, ch.orders.len());
            }
            Outcome::Payment(p) => c.opt("payable", &e.payable, p.amount),
            Outcome::Case(case) => {
                c.opt("goods_amount", &e.goods_amount, case.goods_amount);
                c.opt("clawback", &e.clawback, case.clawback);
                c.opt("refund_amount", &e.refund_amount, case.refund_amount);
                c.opt("shipping_refund", &e.shipping_refund, case.shipping_refund);
                c.opt("points_returned", &e.points_returned, case.points_returned);
                c.opt("points_reversed", &e.points_reversed, case.points_reversed);
            }
            Outcome::Earned(points) => c.opt("points_earned", &e.points_earned, *points),
            Outcome::Scheduler { closed, confirmed } => {
                let unnamed = |id: OrderId| format!("#{id}");
                if let Some(x) = &e.closed {
                    c.eq("closed", &format!("[{}]", x.join(", ")), &names(&self.orders, closed, unnamed));
                }
                if let Some(x) = &e.confirmed {
                    c.eq("confirmed", &format!("[{}]", x.join(", ")), &names(&self.orders, confirmed, unnamed));
                }
            }
            Outcome::Done => {}
        }
        let is = |o: &Outcome, f: fn(&Outcome) -> bool| f(o);
        if quote_keys.iter().any(|k| *k) && !is(outcome, |o| matches!(o, Outcome::Quote(_) | Outcome::Checkout(_))) {
            not_here(c, "quote amounts");
        }
        if case_keys.iter().any(|k| *k) && !is(outcome, |o| matches!(o, Outcome::Case(_))) {
            not_here(c, "after-sale amounts");
        }
        if e.points_earned.is_some() && !is(outcome, |o| matches!(o, Outcome::Earned(_))) {
            not_here(c, "points_earned");
        }
        if (e.closed.is_some() || e.confirmed.is_some()) && !is(outcome, |o| matches!(o, Outcome::Scheduler { .. })) {
            not_here(c, "closed/confirmed");
        }
        if e.orders_created.is_some() && !is(outcome, |o| matches!(o, Outcome::Checkout(_))) {
            not_here(c, "orders_created");
        }
        if e.payable.is_some()
            && !is(outcome, |o| matches!(o, Outcome::Quote(_) | Outcome::Checkout(_) | Outcome::Payment(_)))
        {
            not_here(c, "payable");
        }
    }

    async fn named_order(&self, name: &str) -> Result<mallkit_core::order::Order, String> {
        let id = self.orders.get(name).ok_or("no order by that name")?;
        self.mall.store().order(*id).await.map_err(|e| e.to_string())?.ok_or_else(|| "gone".into())
    }

    async fn named_case(&self, name: &str) -> Result<AfterSale, String> {
        let id = self.cases.get(name).ok_or("no after-sale by that name")?;
        self.mall.store().after_sale(*id).await.map_err(|e| e.to_string())?.ok_or_else(|| "gone".into())
    }

    async fn named_coupon(&self, name: &str) -> Result<mallkit_core::coupon::UserCoupon, String> {
        let id = self.coupons.get(name).ok_or("no coupon by that name")?;
        self.mall.store().user_coupon(*id).await.map_err(|e| e.to_string())?.ok_or_else(|| "gone".into())
    }

    async fn named_payment(&self, name: &str) -> Result<Payment, String> {
        let number = self.payments.get(name).ok_or("no payment by that name")?;
        self.mall.store().payment_by_number(number).await.map_err(|e| e.to_string())?.ok_or_else(|| "gone".into())
    }

    async fn check_world(&self, e: &Expect, c: &mut Checks) {
        let store = self.mall.store();
        let now = self.clock_now();
        for (name, status) in &e.orders {
            match self.named_order(name).await {
                Ok(o) => c.eq(&format!("orders.{name}"), status.as_str(), &snake(&o.status)),
                Err(m) => c.fail(format!("orders.{name}: {m}")),
            }
        }
        for (name, payable) in &e.order_payables {
            match self.named_order(name).await {
                Ok(o) => c.eq(&format!("order_payables.{name}"), payable, &o.payable),
                Err(m) => c.fail(format!("order_payables.{name}: {m}")),
            }
        }
        for (name, amount) in &e.order_refunded {
            match self.named_order(name).await {
                Ok(o) => c.eq(&format!("order_refunded.{name}"), amount, &o.refunded_total),
                Err(m) => c.fail(format!("order_refunded.{name}: {m}")),
            }
        }
        for (name, points) in &e.order_points_earned {
            match self.named_order(name).await {
                Ok(o) => c.eq(&format!("order_points_earned.{name}"), points, &o.points_earned),
                Err(m) => c.fail(format!("order_points_earned.{name}: {m}")),
            }
        }
        for (name, status) in &e.cases {
            match self.named_case(name).await {
                Ok(a) => c.eq(&format!("cases.{name}"), status.as_str(), &snake(&a.status)),
                Err(m) => c.fail(format!("cases.{name}: {m}")),
            }
        }
        for (name, status) in &e.coupons {
            match self.named_coupon(name).await {
                Ok(uc) => c.eq(&format!("coupons.{name}"), status.as_str(), &snake(&uc.status_at(now))),
                Err(m) => c.fail(format!("coupons.{name}: {m}")),
            }
        }
        for (name, status) in &e.payments {
            match self.named_payment(name).await {
                Ok(p) => c.eq(&format!("payments.{name}"), status.as_str(), &snake(&p.status)),
                Err(m) => c.fail(format!("payments.{name}: {m}")),
            }
        }
        for (name, p) in &e.points {
            let Some(user) = self.users.get(name) else {
                c.fail(format!("points.{name}: no user by that name"));
                continue;
            };
            match store.points_account(*user).await {
                Ok(a) => {
                    c.opt(&format!("points.{name}.balance"), &p.balance, a.balance);
                    c.opt(&format!("points.{name}.frozen"), &p.frozen, a.frozen);
                    c.opt(&format!("points.{name}.total_earned"), &p.total_earned, a.total_earned);
                    c.opt(&format!("points.{name}.total_spent"), &p.total_spent, a.total_spent);
                }
                Err(err) => c.fail(format!("points.{name}: cannot read: {err}")),
            }
        }
        for (sku, s) in &e.stock {
            let Ok(id) = sku.parse::<u64>() else {
                c.fail(format!("stock.{sku}: not a SKU id"));
                continue;
            };
            match store.sku(SkuId(id)).await {
                Ok(Some(row)) => {
                    c.opt(&format!("stock.{sku}.available"), &s.available, row.stock.available);
                    c.opt(&format!("stock.{sku}.reserved"), &s.reserved, row.stock.reserved);
                    c.opt(&format!("stock.{sku}.sold"), &s.sold, row.stock.sold);
                }
                other => c.fail(format!("stock.{sku}: cannot read: {other:?}")),
            }
        }
        c.opt("provider_refunded", &e.provider_refunded, self.provider.refunded_total());
    }

    fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
