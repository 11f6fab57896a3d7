//! PostgreSQL-specific checks, and the store side by side with the memory
//! reference store: the same commands (through `Mall`) and the same raw
//! writes (through `Store::apply`) must give the same answers and leave
//! the same reads behind, field for field.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mallkit_core::after_sales::AfterSaleRequestLine;
use mallkit_core::after_sales::{AfterSale, AfterSaleAction, AfterSaleFilter, AfterSaleKind, AfterSaleStatus};
use mallkit_core::cart::Cart;
use mallkit_core::catalog::{
    Category, Keyword, Merchant, Product, ProductFilter, ProductSort, ProductStatus, Sku, Stock, StockMove,
};
use mallkit_core::checkout::{CheckoutItems, CheckoutRequest};
use mallkit_core::clock::{ManualClock, SequentialIds};
use mallkit_core::coupon::{
    CouponKind, CouponScope, CouponTemplate, StackLayer, TemplateStatus, UserCoupon, UserCouponStatus, Validity,
};
use mallkit_core::ids::{
    CategoryId, CheckoutId, CouponTemplateId, LedgerEntryId, MerchantId, OrderId, PaymentId, ProductId, SkuId,
    UserCouponId, UserId,
};
use mallkit_core::order::{Actor, Order, OrderFilter, OrderStatus};
use mallkit_core::page::PageRequest;
use mallkit_core::payment::{Payment, PaymentChannel, SimulatedProvider};
use mallkit_core::points::{LedgerEntry, PointsAccount, PointsAction, PointsSource, Tier};
use mallkit_core::pricing::{CouponChoice, PointsChoice};
use mallkit_core::storage::{
    AfterSaleWrite, AfterSalesStore, CartWrite, CatalogStore, CatalogWrite, CouponWrite, GuardFailure, OrderStore,
    OrderWrite, PaymentStore, PaymentWrite, PointsWrite, StockWrite, Store, StoreError, Write,
};
use mallkit_core::{Mall, Money, Policy, Rate};
use mallkit_storage_memory::MemoryStore;
use mallkit_storage_postgres::testing::{fresh_empty_store, fresh_store};
use mallkit_storage_postgres::{PgSettings, PgStore};

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time")
}

struct World<S> {
    mall: Mall<S>,
    clock: Arc<ManualClock>,
}

/// An engine whose provider waits for callbacks, with ids from 1000.
fn world<S: Store>(store: S) -> World<S> {
    let clock = Arc::new(ManualClock::new(start()));
    let mut policy = Policy::default();
    policy.pricing.shipping.flat_fee = m("8.00");
    let mall = Mall::new(
        store,
        clock.clone(),
        Arc::new(SequentialIds::starting_at(1000)),
        Arc::new(SimulatedProvider::awaiting_callback()),
        policy,
    );
    World { mall, clock }
}

const B1: UserId = UserId(1);
const B2: UserId = UserId(2);
const M1: MerchantId = MerchantId(1);
const M2: MerchantId = MerchantId(2);

fn sku(id: u64, product: u64, price: &str, available: u32) -> Sku {
    Sku {
        id: SkuId(id),
        product: ProductId(product),
        attributes: [("颜色".to_owned(), "白".to_owned()), ("规格".to_owned(), format!("{id}号"))]
            .into_iter()
            .collect(),
        price: m(price),
        original_price: Some(m(price) + m("10.00")),
        weight_grams: Some(1200),
        stock: Stock { available, reserved: 0, sold: 0 },
    }
}

fn template(id: u64, kind: CouponKind, scope: CouponScope, total: Option<u32>, per_user: u32) -> CouponTemplate {
    CouponTemplate {
        id: CouponTemplateId(id),
        title: format!("券{id}"),
        kind,
        scope,
        validity: Validity::DaysAfterClaim { days: 30 },
        total_limit: total,
        per_user_limit: per_user,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer: None,
    }
}

/// Catalog, tiers and coupon templates.
async fn set_up<S: Store>(w: &World<S>, log: &mut Vec<String>) {
    let mall = &w.mall;
    let mut results = vec![
        mall.save_category(Category { id: CategoryId(1), parent: None, name: "家居".into(), sort: 0 }).await,
        mall.save_category(Category { id: CategoryId(2), parent: Some(CategoryId(1)), name: "瓷砖".into(), sort: 3 })
            .await,
        mall.save_merchant(Merchant { id: M1, name: "LQZC".into() }).await,
        mall.save_merchant(Merchant { id: M2, name: "数码城".into() }).await,
    ];
    for (id, merchant, category, status) in
        [(1, M1, 2, ProductStatus::OnSale), (2, M2, 1, ProductStatus::OnSale), (3, M1, 1, ProductStatus::OffSale)]
    {
        results.push(
            mall.save_product(Product {
                id: ProductId(id),
                merchant,
                category: CategoryId(category),
                name: format!("商品{id}"),
                status,
            })
            .await,
        );
    }
    for s in [sku(1, 1, "255.00", 100), sku(2, 2, "4999.00", 10), sku(3, 1, "99.99", 5), sku(4, 3, "1.00", 1)] {
        results.push(mall.save_sku(s).await);
    }
    results.push(
        mall.save_tier(Tier {
            level: 0,
            name: "普通会员".into(),
            min_points: 0,
            points_multiplier: Rate::ONE,
            free_shipping: false,
            member_discount: None,
            benefits: vec![],
        })
        .await,
    );
    results.push(
        mall.save_tier(Tier {
            level: 1,
            name: "银卡会员".into(),
            min_points: 100_000,
            points_multiplier: Rate::from_bp(15_000),
            free_shipping: true,
            member_discount: Some(Rate::from_bp(9_500)),
            benefits: vec!["生日礼".into(), "专属客服".into()],
        })
        .await,
    );
    let mut platform =
        template(1, CouponKind::Threshold { threshold: m("299"), amount: m("30") }, CouponScope::All, Some(100), 2);
    platform.layer = Some(StackLayer::Platform);
    let mut shop = template(
        2,
        CouponKind::Percentage { rate: Rate::from_bp(9_000), threshold: m("100"), max_discount: Some(m("20")) },
        CouponScope::Categories(vec![CategoryId(2)]),
        None,
        1,
    );
    shop.layer = Some(StackLayer::Merchant);
    let mut window = template(3, CouponKind::Cash { amount: m("5") }, CouponScope::Merchant(M2), Some(1), 1);
    window.validity = Validity::Window { from: start(), to: start() + Duration::days(3) };
    let skus = template(4, CouponKind::Cash { amount: m("1") }, CouponScope::Skus(vec![SkuId(3)]), Some(5), 1);
    for t in [platform, shop, window, skus] {
        results.push(mall.save_template(t).await);
    }
    log.extend(results.iter().map(|r| format!("{r:?}")));
}

/// A long journey through every command; returns what each step answered.
async fn journey<S: Store>(w: &World<S>) -> Vec<String> {
    let mut log = Vec::new();
    set_up(w, &mut log).await;
    let mall = &w.mall;
    macro_rules! step {
        ($e:expr) => {{
            let r = $e;
            log.push(format!("{}: {:?}", stringify!($e), r));
            r
        }};
    }

    // Claims: limits, sold out, disabled.
    let c1 = step!(mall.claim_coupon(B1, CouponTemplateId(1)).await).expect("claim");
    let spare = step!(mall.claim_coupon(B1, CouponTemplateId(1)).await).expect("second claim");
    let _ = step!(mall.claim_coupon(B1, CouponTemplateId(1)).await);
    let _ = step!(mall.claim_coupon(B1, CouponTemplateId(2)).await);
    let _ = step!(mall.claim_coupon(B2, CouponTemplateId(3)).await);
    let _ = step!(mall.claim_coupon(B1, CouponTemplateId(3)).await);
    let _ = step!(mall.set_template_status(CouponTemplateId(4), TemplateStatus::Disabled).await);
    let _ = step!(mall.claim_coupon(B1, CouponTemplateId(4)).await);
    let _ = step!(mall.set_template_status(CouponTemplateId(9), TemplateStatus::Disabled).await);
    let _ = step!(mall.adjust_points(B1, 20_000, "欢迎").await);
    let _ = step!(mall.adjust_points(B1, -30_000, "too much").await);

    // Cart, then a checkout from it over two merchants with coupons and points.
    let _ = step!(mall.add_to_cart(B1, SkuId(1), 2).await);
    let _ = step!(mall.add_to_cart(B1, SkuId(2), 1).await);
    let _ = step!(mall.add_to_cart(B1, SkuId(3), 1).await);
    let _ = step!(mall.add_to_cart(B1, SkuId(4), 1).await);
    let _ = step!(mall.set_cart_quantity(B1, SkuId(3), 0).await);
    let request = CheckoutRequest {
        items: CheckoutItems::Cart,
        coupons: CouponChoice::Best,
        points: PointsChoice::Exactly(3_000),
        remark: "尽快发货".into(),
    };
    let _ = step!(mall.preview(B1, &request).await);
    let checkout = step!(mall.checkout(B1, &request).await).expect("checkout");
    let ids: Vec<OrderId> = checkout.orders.iter().map(|o| o.id).collect();
    let payment = step!(mall.pay(B1, &ids, PaymentChannel::Wechat).await).expect("pay");
    let _ = step!(mall.confirm_payment(&payment.number, "WX1", m("1.00")).await);
    let _ = step!(mall.confirm_payment(&payment.number, "WX1", payment.amount).await);
    let _ = step!(mall.confirm_payment(&payment.number, "WX1", payment.amount).await);
    let _ = step!(mall.confirm_payment(&payment.number, "WX2", payment.amount).await);

    // The first merchant ships; the buyer confirms and returns one unit.
    let (first, second) = (ids[0], ids[1]);
    let _ = step!(mall.ship(Actor::Merchant(M2), first, "顺丰", "SF0").await);
    let _ = step!(mall.ship(Actor::Merchant(M1), first, "顺丰", "SF1").await);
    let _ = step!(mall.confirm_receipt(B1, first).await);
    let one = |line_no, amount| [AfterSaleRequestLine { line_no, quantity: 1, amount }];
    let case = step!(mall.apply_after_sale(B1, first, AfterSaleKind::ReturnAndRefund, &one(1, None), "破损").await)
        .expect("apply");
    let _ = step!(mall.after_sale_step(Actor::Merchant(M1), case.id, AfterSaleAction::Approve, "同意").await);
    let _ = step!(mall.after_sale_step(Actor::Buyer(B1), case.id, AfterSaleAction::ShipBack, "SF2").await);
    let _ = step!(mall.after_sale_step(Actor::Merchant(M1), case.id, AfterSaleAction::Receive, "").await);
    let _ = step!(mall.refund_after_sale(Actor::Merchant(M1), case.id).await);
    let _ = step!(mall.refund_after_sale(Actor::Merchant(M1), case.id).await);

    // The second order, unshipped: a partial refund-only, then the rest.
    let partial = step!(
        mall.apply_after_sale(B1, second, AfterSaleKind::RefundOnly, &one(1, Some(m("100.00"))), "少了配件").await
    );
    if let Ok(partial) = partial {
        let _ = step!(mall.after_sale_step(Actor::Admin(UserId(9)), partial.id, AfterSaleAction::Approve, "").await);
        let _ = step!(mall.refund_after_sale(Actor::Admin(UserId(9)), partial.id).await);
    }
    let _ = step!(mall.cancel_order(Actor::Buyer(B1), second, "不要了").await);

    // Another buyer's order closes unpaid and gives its coupon back.
    let lines = |lines: &[(u64, u32)]| CheckoutRequest {
        items: CheckoutItems::Lines { lines: lines.iter().map(|&(s, q)| (SkuId(s), q)).collect() },
        coupons: CouponChoice::Best,
        points: PointsChoice::None,
        remark: String::new(),
    };
    let unpaid = step!(mall.checkout(B2, &lines(&[(2, 1)])).await);
    w.clock.advance(Duration::minutes(31));
    let _ = step!(mall.close_expired_orders().await);
    if let Ok(unpaid) = unpaid {
        let _ = step!(mall.pay(B2, &[unpaid.orders[0].id], PaymentChannel::Alipay).await);
    }

    // An exchange, then auto-confirm.
    let third = step!(mall.checkout(B1, &lines(&[(3, 2)])).await).expect("checkout");
    let third = third.orders[0].id;
    let p3 = step!(mall.pay(B1, &[third], PaymentChannel::Simulated).await).expect("pay");
    let _ = step!(mall.confirm_payment(&p3.number, "SIM3", p3.amount).await);
    let _ = step!(mall.ship(Actor::Admin(UserId(9)), third, "EMS", "E1").await);
    let swap = step!(mall.apply_after_sale(B1, third, AfterSaleKind::Exchange, &one(1, None), "尺码").await)
        .expect("exchange");
    for (actor, action) in [
        (Actor::Merchant(M1), AfterSaleAction::Approve),
        (Actor::Buyer(B1), AfterSaleAction::ShipBack),
        (Actor::Merchant(M1), AfterSaleAction::Receive),
        (Actor::Merchant(M1), AfterSaleAction::Reship),
    ] {
        let _ = step!(mall.after_sale_step(actor, swap.id, action, "换货").await);
    }
    w.clock.advance(Duration::days(11));
    let _ = step!(mall.auto_confirm_due().await);

    // An unpaid order cancelled by the buyer; a coupon voided.
    let fourth = step!(mall.checkout(B1, &lines(&[(1, 1)])).await);
    if let Ok(fourth) = fourth {
        let _ = step!(mall.cancel_order(Actor::Buyer(B1), fourth.orders[0].id, "拍错").await);
    }
    let _ = step!(mall.void_coupon(spare.id).await);
    let _ = step!(mall.void_coupon(c1.id).await);
    log
}

/// Every read the traits offer, over what a journey touched.
#[derive(Debug, PartialEq)]
struct Snapshot {
    categories: Vec<Category>,
    products: Vec<(Option<Product>, Vec<Sku>)>,
    skus: Vec<Option<Sku>>,
    merchants: Vec<Option<Merchant>>,
    tiers: Vec<Tier>,
    templates: Vec<CouponTemplate>,
    one_template: Vec<Option<CouponTemplate>>,
    users: Vec<UserReads>,
    orders: Vec<OrderReads>,
    payments: Vec<(Option<Payment>, Option<Payment>)>,
    due: Vec<Vec<OrderId>>,
    pages: Vec<String>,
}

/// The reads of one user.
#[derive(Debug, PartialEq)]
struct UserReads {
    coupons: Vec<UserCoupon>,
    each_coupon: Vec<Option<UserCoupon>>,
    account: PointsAccount,
    ledger: Vec<LedgerEntry>,
    cart: Cart,
    orders: Vec<Order>,
}

/// The reads of one order.
#[derive(Debug, PartialEq)]
struct OrderReads {
    order: Option<Order>,
    checkout: Vec<Order>,
    cases: Vec<AfterSale>,
    each_case: Vec<Option<AfterSale>>,
}

async fn snapshot<S: Store>(s: &S, users: &[UserId], now: DateTime<Utc>) -> Snapshot {
    let products = s.products().await.expect("products");
    let mut per_product = Vec::new();
    for p in &products {
        per_product.push((s.product(p.id).await.expect("product"), s.skus_of(p.id).await.expect("skus")));
    }
    let mut skus = Vec::new();
    for id in 0..6 {
        skus.push(s.sku(SkuId(id)).await.expect("sku"));
    }
    let mut merchants = Vec::new();
    for id in 0..4 {
        merchants.push(s.merchant(MerchantId(id)).await.expect("merchant"));
    }
    let templates = s.templates().await.expect("templates");
    let mut one_template = Vec::new();
    for id in 0..6 {
        one_template.push(s.template(CouponTemplateId(id)).await.expect("template"));
    }
    let (mut per_user, mut orders, mut payments, mut payment_ids) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &user in users {
        let coupons = s.user_coupons(user).await.expect("coupons");
        let mut each = Vec::new();
        for c in &coupons {
            each.push(s.user_coupon(c.id).await.expect("coupon"));
        }
        let of_user = s.orders_of_user(user).await.expect("orders");
        for o in &of_user {
            let cases = s.after_sales_of_order(o.id).await.expect("cases");
            let mut each_case = Vec::new();
            for a in &cases {
                each_case.push(s.after_sale(a.id).await.expect("case"));
            }
            orders.push(OrderReads {
                order: s.order(o.id).await.expect("order"),
                checkout: s.orders_of_checkout(o.checkout).await.expect("checkout"),
                cases,
                each_case,
            });
            if let Some(p) = o.payment
                && !payment_ids.contains(&p)
            {
                payment_ids.push(p);
            }
        }
        per_user.push(UserReads {
            coupons,
            each_coupon: each,
            account: s.points_account(user).await.expect("account"),
            ledger: s.ledger(user).await.expect("ledger"),
            cart: s.cart(user).await.expect("cart"),
            orders: of_user,
        });
    }
    for id in payment_ids {
        let p = s.payment(id).await.expect("payment");
        let by_number = match &p {
            Some(p) => s.payment_by_number(&p.number).await.expect("by number"),
            None => None,
        };
        payments.push((p, by_number));
    }
    payments.push((s.payment(PaymentId(1)).await.expect("none"), s.payment_by_number("PAY0").await.expect("none")));
    let mut due = Vec::new();
    for at in [now - Duration::days(30), now, now + Duration::hours(1), now + Duration::days(30)] {
        for status in [OrderStatus::PendingPayment, OrderStatus::Shipped, OrderStatus::Completed] {
            due.push(s.orders_due(status, at).await.expect("due"));
        }
    }
    Snapshot {
        categories: s.categories().await.expect("categories"),
        products: per_product,
        skus,
        merchants,
        tiers: s.tiers().await.expect("tiers"),
        templates,
        one_template,
        users: per_user,
        orders,
        payments,
        due,
        pages: pages(s, users, now).await,
    }
}

/// Pages of every paged list over what a journey left (the memory store
/// answers them with the reference scans).
async fn pages<S: Store>(s: &S, users: &[UserId], now: DateTime<Utc>) -> Vec<String> {
    let sizes = |n: u32| {
        let mut v = vec![PageRequest::FIRST];
        for page in 1..=n {
            v.push(PageRequest::new(Some(page), Some(1)).expect("page"));
        }
        v
    };
    let mut out = Vec::new();
    let keyword = Keyword::parse("商品").expect("keyword");
    for filter in [
        ProductFilter::default(),
        ProductFilter { status: Some(ProductStatus::OnSale), ..Default::default() },
        ProductFilter { categories: Some(vec![CategoryId(1), CategoryId(2)]), keyword, ..Default::default() },
        ProductFilter { merchant: Some(M1), min_price: Some(m("100.00")), ..Default::default() },
    ] {
        for sort in ProductSort::ALL {
            let filter = ProductFilter { sort, ..filter.clone() };
            for page in sizes(4) {
                out.push(format!("{filter:?} {page:?}: {:?}", s.search_products(&filter, page).await));
            }
        }
    }
    for page in sizes(5) {
        out.push(format!("templates {page:?}: {:?}", s.list_templates(page).await));
        for t in 0..5 {
            out.push(format!("claims {t} {page:?}: {:?}", s.template_claims(CouponTemplateId(t), page).await));
        }
    }
    let coupon_statuses = [
        None,
        Some(UserCouponStatus::Unused),
        Some(UserCouponStatus::Locked),
        Some(UserCouponStatus::Used),
        Some(UserCouponStatus::Expired),
        Some(UserCouponStatus::Void),
    ];
    let sources = [
        None,
        Some(PointsSource::OrderReward),
        Some(PointsSource::RefundReversal),
        Some(PointsSource::PaymentDeduction),
        Some(PointsSource::RefundReturn),
        Some(PointsSource::AdminAdjustment),
    ];
    let order_statuses = [
        None,
        Some(OrderStatus::PendingPayment),
        Some(OrderStatus::AwaitingShipment),
        Some(OrderStatus::Shipped),
        Some(OrderStatus::Completed),
        Some(OrderStatus::Cancelled),
        Some(OrderStatus::Closed),
    ];
    for &user in users {
        for page in sizes(3) {
            for status in coupon_statuses {
                for at in [now, now + Duration::days(60)] {
                    out.push(format!(
                        "held {user} {status:?} {at} {page:?}: {:?}",
                        s.held_coupons(user, status, at, page).await
                    ));
                }
            }
            for source in sources {
                out.push(format!("ledger {user} {source:?} {page:?}: {:?}", s.ledger_page(user, source, page).await));
            }
            for status in order_statuses {
                for merchant in [None, Some(M1)] {
                    let filter = OrderFilter { user: Some(user), merchant, status };
                    out.push(format!("{filter:?} {page:?}: {:?}", s.list_orders(&filter, page).await));
                }
            }
            let filter = AfterSaleFilter { user: Some(user), merchant: Some(M1), order: None, status: None };
            out.push(format!("{filter:?} {page:?}: {:?}", s.list_after_sales(&filter, page).await));
        }
        for o in s.orders_of_user(user).await.expect("orders") {
            let filter = AfterSaleFilter { order: Some(o.id), ..Default::default() };
            out.push(format!("{filter:?}: {:?}", s.list_after_sales(&filter, PageRequest::FIRST).await));
        }
    }
    for merchant in [M1, M2, MerchantId(3)] {
        for page in sizes(4) {
            for status in order_statuses {
                let filter = OrderFilter { user: None, merchant: Some(merchant), status };
                out.push(format!("{filter:?} {page:?}: {:?}", s.list_orders(&filter, page).await));
            }
            for status in [None, Some(AfterSaleStatus::Refunded), Some(AfterSaleStatus::Reshipped)] {
                let filter = AfterSaleFilter { merchant: Some(merchant), status, ..Default::default() };
                out.push(format!("{filter:?} {page:?}: {:?}", s.list_after_sales(&filter, page).await));
            }
        }
    }
    let mut asked = users.to_vec();
    asked.push(users[0]);
    out.push(format!("stats: {:?}", s.customer_stats(&asked).await));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_journey_answers_and_reads_exactly_as_the_memory_store() {
    let (mem, pg) = (world(MemoryStore::new()), world(fresh_store().await));
    let (a, b) = (journey(&mem).await, journey(&pg).await);
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "step {i} differs");
    }
    assert_eq!(a.len(), b.len());
    // The journey must really go through the paths it names.
    let failed = a.iter().filter(|s| s.contains(": Err(")).count();
    assert!(failed <= 13, "more refused steps than the 13 meant ({failed}):\n{}", a.join("\n"));
    let users = [B1, B2, UserId(3)];
    let (x, y) = (snapshot(mem.mall.store(), &users, start()).await, snapshot(pg.mall.store(), &users, start()).await);
    assert_eq!(x, y);
    assert!(x.orders.len() >= 5 && x.payments.len() >= 3, "{x:#?}");
    assert!(x.orders.iter().any(|o| !o.cases.is_empty() && o.cases.iter().all(|a| a.logs.len() >= 2)));
    for list in ["ProductFilter", "templates", "claims", "held", "ledger", "OrderFilter", "AfterSaleFilter"] {
        let filled = x.pages.iter().filter(|p| p.starts_with(list) && !p.contains("items: []")).count();
        assert!(filled > 0, "no {list} page has rows");
    }
    assert!(!x.pages.iter().any(|p| p.contains("Err(")), "a paged read failed");
}

// ---- raw writes, side by side ----

struct Twins {
    mem: MemoryStore,
    pg: PgStore,
}

impl Twins {
    async fn new() -> Twins {
        Twins { mem: MemoryStore::new(), pg: fresh_store().await }
    }

    /// Applies `writes` to both stores; both must answer the same.
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let a = self.mem.apply(writes.clone()).await;
        let b = self.pg.apply(writes.clone()).await;
        assert_eq!(a, b, "memory vs postgres on {writes:#?}");
        a
    }

    async fn guard(&self, writes: Vec<Write>) -> GuardFailure {
        match self.apply(writes).await {
            Err(StoreError::Guard(g)) => g,
            other => panic!("expected a guard failure, got {other:?}"),
        }
    }

    async fn same_reads(&self, users: &[UserId]) -> Snapshot {
        let a = snapshot(&self.mem, users, start()).await;
        let b = snapshot(&self.pg, users, start()).await;
        assert_eq!(a, b);
        a
    }
}

fn coupon(id: u64, user: UserId, template: u64) -> UserCoupon {
    UserCoupon {
        id: UserCouponId(id),
        template: CouponTemplateId(template),
        user,
        status: UserCouponStatus::Unused,
        valid_from: start(),
        valid_to: start() + Duration::days(7),
        claimed_at: start(),
        checkout: None,
        used_at: None,
    }
}

fn points(id: u64, user: UserId, source: PointsSource, action: PointsAction, reference: u64, n: i64) -> Write {
    Write::Points(PointsWrite::Post(LedgerEntry {
        id: LedgerEntryId(id),
        user,
        source,
        action,
        reference,
        points: n,
        balance_delta: 0,
        frozen_delta: 0,
        balance_after: 0,
        remark: format!("{action:?} {n}"),
        at: start(),
    }))
}

fn catalog() -> Vec<Write> {
    vec![
        Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(1),
            parent: None,
            name: "root".into(),
            sort: 0,
        })),
        Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: M1, name: "shop".into() })),
        Write::Catalog(CatalogWrite::PutProduct(Product {
            id: ProductId(1),
            merchant: M1,
            category: CategoryId(1),
            name: "p".into(),
            status: ProductStatus::OnSale,
        })),
        Write::Catalog(CatalogWrite::PutSku(sku(1, 1, "10.00", 5))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_and_coupon_guards_fail_exactly_as_in_memory() {
    let t = Twins::new().await;
    t.apply(catalog()).await.expect("catalog");
    let mv = |movement, quantity| vec![Write::Stock(StockWrite::Move { sku: SkuId(1), movement, quantity })];
    t.apply(mv(StockMove::Reserve, 3)).await.expect("reserve");
    assert_eq!(
        t.guard(mv(StockMove::Release, 4)).await,
        GuardFailure::InsufficientStock { sku: SkuId(1), requested: 4, available: 3 }
    );
    t.guard(mv(StockMove::Restock, 1)).await;
    t.apply(mv(StockMove::Commit, 3)).await.expect("commit");
    t.apply(mv(StockMove::Restock, 3)).await.expect("restock");
    t.guard(vec![Write::Stock(StockWrite::Move { sku: SkuId(7), movement: StockMove::Commit, quantity: 1 })]).await;

    // Claims: the memory store's order of reasons (taken id before the rest).
    let put = |id, total, per_user| {
        Write::Coupon(CouponWrite::PutTemplate(template(
            id,
            CouponKind::Cash { amount: m("5") },
            CouponScope::All,
            total,
            per_user,
        )))
    };
    t.apply(vec![put(1, Some(1), 1), put(2, None, 2)]).await.expect("templates");
    t.apply(vec![Write::Coupon(CouponWrite::Issue(coupon(10, B1, 1)))]).await.expect("claim");
    assert_eq!(
        t.guard(vec![Write::Coupon(CouponWrite::Issue(coupon(10, B2, 1)))]).await,
        GuardFailure::AlreadyExists { entity: "user_coupon", id: 10 }
    );
    t.guard(vec![Write::Coupon(CouponWrite::Issue(coupon(11, B2, 1)))]).await;
    t.guard(vec![Write::Coupon(CouponWrite::Issue(coupon(12, B2, 9)))]).await;
    // Two claims in one batch count against the same limits.
    t.apply(vec![
        Write::Coupon(CouponWrite::Issue(coupon(13, B1, 2))),
        Write::Coupon(CouponWrite::Issue(coupon(14, B1, 2))),
    ])
    .await
    .expect("two");
    t.guard(vec![Write::Coupon(CouponWrite::Issue(coupon(15, B1, 2)))]).await;
    t.guard(vec![
        Write::Coupon(CouponWrite::Issue(coupon(16, B2, 2))),
        Write::Coupon(CouponWrite::Issue(coupon(16, B2, 2))),
    ])
    .await;
    // A re-save keeps the counters; a disabled template refuses first.
    t.apply(vec![put(1, Some(3), 1)]).await.expect("re-save");
    t.apply(vec![Write::Coupon(CouponWrite::SetTemplateStatus {
        template: CouponTemplateId(1),
        status: TemplateStatus::Disabled,
    })])
    .await
    .expect("disable");
    assert_eq!(
        t.guard(vec![Write::Coupon(CouponWrite::Issue(coupon(17, B1, 1)))]).await,
        GuardFailure::TemplateDisabled(CouponTemplateId(1))
    );
    t.guard(vec![Write::Coupon(CouponWrite::SetTemplateStatus {
        template: CouponTemplateId(8),
        status: TemplateStatus::Enabled,
    })])
    .await;

    // Status moves, the used counter, checkout and used_at handling.
    let mv = |coupon, from, to, checkout: Option<u64>| {
        Write::Coupon(CouponWrite::SetStatus {
            coupon: UserCouponId(coupon),
            from,
            to,
            checkout: checkout.map(CheckoutId),
            at: start() + Duration::hours(1),
        })
    };
    use UserCouponStatus as C;
    t.apply(vec![mv(13, C::Unused, C::Locked, Some(5))]).await.expect("lock");
    t.apply(vec![mv(13, C::Locked, C::Used, None)]).await.expect("use");
    t.apply(vec![mv(13, C::Used, C::Locked, None)]).await.expect("back to locked");
    t.apply(vec![mv(13, C::Locked, C::Unused, None)]).await.expect("release");
    t.apply(vec![mv(14, C::Unused, C::Used, Some(6))]).await.expect("use directly");
    t.apply(vec![mv(14, C::Used, C::Expired, None)]).await.expect("expire");
    t.guard(vec![mv(14, C::Unused, C::Void, None)]).await;
    t.guard(vec![mv(99, C::Unused, C::Void, None)]).await;
    let reads = t.same_reads(&[B1, B2]).await;
    assert_eq!(reads.templates[1].used, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_guards_fail_exactly_as_in_memory() {
    use PointsAction as A;
    use PointsSource as S;
    let t = Twins::new().await;
    t.apply(vec![points(1, B1, S::AdminAdjustment, A::Adjust, 1, 500)]).await.expect("adjust");
    t.apply(vec![points(2, B1, S::PaymentDeduction, A::Freeze, 7, 300)]).await.expect("freeze");
    // A repeated source wins over an insufficient balance, as in memory.
    assert!(matches!(
        t.guard(vec![points(3, B1, S::PaymentDeduction, A::Freeze, 7, 10_000)]).await,
        GuardFailure::PointsSourceApplied { .. }
    ));
    // The same source twice in one batch.
    t.guard(vec![points(4, B1, S::OrderReward, A::Earn, 8, 1), points(5, B1, S::OrderReward, A::Earn, 8, 1)]).await;
    t.guard(vec![points(6, B1, S::OrderReward, A::Earn, 9, 0)]).await;
    t.guard(vec![points(7, B1, S::AdminAdjustment, A::Adjust, 2, -201)]).await;
    t.guard(vec![points(8, B1, S::PaymentDeduction, A::Spend, 7, 301)]).await;
    t.apply(vec![points(9, B1, S::PaymentDeduction, A::Spend, 7, 300)]).await.expect("spend");
    t.apply(vec![points(10, B1, S::OrderReward, A::Earn, 8, 50)]).await.expect("earn");
    // A reversal may leave the balance negative; then nothing can be frozen.
    t.apply(vec![points(11, B1, S::RefundReversal, A::Reverse, 8, 400)]).await.expect("reverse");
    t.guard(vec![points(12, B1, S::PaymentDeduction, A::Freeze, 9, 1)]).await;
    t.apply(vec![points(13, B1, S::RefundReturn, A::Return, 7, 300)]).await.expect("return");
    // A new user's first row fails: no account is left behind.
    t.guard(vec![points(14, B2, S::PaymentDeduction, A::Freeze, 1, 1)]).await;
    let reads = t.same_reads(&[B1, B2]).await;
    let (account, ledger) = (reads.users[0].account, &reads.users[0].ledger);
    assert_eq!(account.balance + account.frozen, ledger.iter().map(|e| e.balance_delta + e.frozen_delta).sum::<i64>());
    assert_eq!(account.balance, 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioned_records_and_failed_batches_behave_as_in_memory() {
    // One order, payment and case made by the engine on each store.
    let (mem, pg) = (world(MemoryStore::new()), world(fresh_store().await));
    let (mut a, mut b) = (Vec::new(), Vec::new());
    set_up(&mem, &mut a).await;
    set_up(&pg, &mut b).await;
    assert_eq!(a, b);
    let request = CheckoutRequest {
        items: CheckoutItems::Lines { lines: vec![(SkuId(1), 2)] },
        coupons: CouponChoice::None,
        points: PointsChoice::None,
        remark: String::new(),
    };
    let order = mem.mall.checkout(B1, &request).await.expect("checkout").orders.remove(0);
    assert_eq!(pg.mall.checkout(B1, &request).await.expect("checkout").orders.remove(0), order);
    let payment = mem.mall.pay(B1, &[order.id], PaymentChannel::Simulated).await.expect("pay");
    assert_eq!(pg.mall.pay(B1, &[order.id], PaymentChannel::Simulated).await.expect("pay"), payment);
    let t = Twins { mem: mem.mall.store().clone(), pg: pg.mall.store().clone() };
    let stored = t.mem.order(order.id).await.expect("read").expect("order");

    // Inserts guarded by the key, updates by the version.
    assert_eq!(
        t.guard(vec![Write::Order(OrderWrite::Insert(stored.clone()))]).await,
        GuardFailure::AlreadyExists { entity: "order", id: order.id.0 }
    );
    let mut stale = stored.clone();
    stale.version = 0;
    stale.remark = "stale".into();
    t.apply(vec![Write::Order(OrderWrite::Update(stored.clone()))]).await.expect("update");
    assert_eq!(
        t.guard(vec![Write::Order(OrderWrite::Update(stale))]).await,
        GuardFailure::VersionConflict { entity: "order", id: order.id.0 }
    );
    let mut ghost = stored.clone();
    ghost.id = OrderId(77);
    t.guard(vec![Write::Order(OrderWrite::Update(ghost))]).await;
    let mut dup = payment.clone();
    dup.id = PaymentId(78);
    t.guard(vec![Write::Payment(PaymentWrite::Insert(dup))]).await;
    let paid = t.mem.payment(payment.id).await.expect("read").expect("payment");
    let mut stale_payment = paid.clone();
    stale_payment.version = paid.version + 5;
    t.guard(vec![Write::Payment(PaymentWrite::Update(stale_payment))]).await;

    // A case inserted and moved, through the store directly.
    let case = AfterSale {
        id: mallkit_core::ids::AfterSaleId(90),
        number: "AS90".into(),
        order: order.id,
        user: B1,
        merchant: M1,
        kind: AfterSaleKind::RefundOnly,
        status: mallkit_core::after_sales::AfterSaleStatus::Requested,
        lines: vec![mallkit_core::after_sales::AfterSaleLine {
            line_no: 1,
            quantity: 1,
            amount: m("255.00"),
            refunded: Money::ZERO,
        }],
        reason: "r".into(),
        goods_amount: m("255.00"),
        clawback: m("-1.50"),
        clawback_by_coupon: vec![m("-1.50"), Money::ZERO],
        refund_amount: m("256.50"),
        shipping_refund: Money::ZERO,
        points_returned: 0,
        points_reversed: 0,
        return_tracking_no: None,
        created_at: start(),
        logs: vec![mallkit_core::after_sales::AfterSaleLog {
            action: AfterSaleAction::Apply,
            operator: Actor::Buyer(B1),
            status: mallkit_core::after_sales::AfterSaleStatus::Requested,
            at: start(),
            note: "n".into(),
        }],
        version: 0,
    };
    t.apply(vec![Write::AfterSale(AfterSaleWrite::Insert(case.clone()))]).await.expect("case");
    t.guard(vec![Write::AfterSale(AfterSaleWrite::Insert(case.clone()))]).await;
    let mut moved = case.clone();
    moved.status = mallkit_core::after_sales::AfterSaleStatus::Approved;
    moved.return_tracking_no = Some("SF".into());
    moved.lines[0].refunded = m("256.50");
    moved.logs.push(mallkit_core::after_sales::AfterSaleLog {
        action: AfterSaleAction::Approve,
        operator: Actor::System,
        status: mallkit_core::after_sales::AfterSaleStatus::Approved,
        at: start() + Duration::minutes(5),
        note: String::new(),
    });
    t.apply(vec![Write::AfterSale(AfterSaleWrite::Update(moved.clone()))]).await.expect("move");
    t.guard(vec![Write::AfterSale(AfterSaleWrite::Update(moved))]).await;
    assert_eq!(t.pg.after_sale(case.id).await.expect("read").map(|a| a.logs.len()), Some(2));

    // A batch that fails at its last write leaves nothing of itself.
    t.apply(vec![Write::Coupon(CouponWrite::PutTemplate(template(
        20,
        CouponKind::Cash { amount: m("1") },
        CouponScope::All,
        None,
        1,
    )))])
    .await
    .expect("template");
    let before = t.same_reads(&[B1, B2]).await;
    let mut updated = t.mem.order(order.id).await.expect("read").expect("order");
    updated.remark = "changed".into();
    updated.history.push(updated.history[0].clone());
    let mut another = updated.clone();
    another.id = OrderId(5_000);
    another.number = "ORD5000".into();
    another.version = 0;
    let mut p2 = paid.clone();
    p2.id = PaymentId(5_001);
    p2.number = "PAY5001".into();
    p2.orders = vec![another.id];
    p2.version = 0;
    let mut case2 = case.clone();
    case2.id = mallkit_core::ids::AfterSaleId(5_002);
    case2.number = "AS5002".into();
    case2.order = another.id;
    let failing = vec![
        Write::Order(OrderWrite::Update(updated)),
        Write::Order(OrderWrite::Insert(another)),
        Write::Payment(PaymentWrite::Insert(p2)),
        Write::AfterSale(AfterSaleWrite::Insert(case2)),
        Write::Coupon(CouponWrite::Issue(coupon(5_003, B2, 20))),
        points(5_004, B2, PointsSource::AdminAdjustment, PointsAction::Adjust, 1, 10),
        Write::Cart(CartWrite::Put(Cart { user: B2, items: vec![] })),
        Write::Stock(StockWrite::Move { sku: SkuId(1), movement: StockMove::Reserve, quantity: 2 }),
        Write::Stock(StockWrite::Move { sku: SkuId(2), movement: StockMove::Reserve, quantity: 11 }),
    ];
    assert_eq!(t.guard(failing).await, GuardFailure::InsufficientStock { sku: SkuId(2), requested: 11, available: 10 });
    assert_eq!(t.same_reads(&[B1, B2]).await, before);
    assert_eq!(t.pg.payment(PaymentId(5_001)).await.expect("read"), None);
    assert_eq!(t.pg.after_sale(mallkit_core::ids::AfterSaleId(5_002)).await.expect("read"), None);
}

// ---- PostgreSQL only ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_reach_every_connection() {
    let store = fresh_store().await;
    let timeout: String =
        sqlx::query_scalar("SHOW statement_timeout").fetch_one(store.pool()).await.expect("show statement_timeout");
    assert_eq!(timeout, "30s");
    let url = mallkit_storage_postgres::testing::database_url();
    let off =
        PgStore::connect(&url, PgSettings { statement_timeout: None, ..PgSettings::default() }).await.expect("connect");
    let server: String = sqlx::query_scalar("SHOW statement_timeout").fetch_one(off.pool()).await.expect("show");
    assert_eq!(server, "0");
    let bad = PgStore::connect("mysql://nowhere", PgSettings::default()).await;
    assert!(matches!(bad, Err(StoreError::Backend(_))), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_upgrade_a_0001_database_with_its_data_and_run_twice() {
    let store = fresh_empty_store().await;
    sqlx::migrate!("./migrations").run_to(1, store.pool()).await.expect("0001");
    // Rows as the 0001 store wrote them (JSONB lines and logs, arrays).
    sqlx::raw_sql(
        "INSERT INTO categories VALUES (1, NULL, 'c', 0);
         INSERT INTO merchants VALUES (1, 'm');
         INSERT INTO products VALUES (1, 1, 1, 'p', 'on_sale');
         INSERT INTO skus VALUES (1, 1, '{}', 10, NULL, NULL, 5, 0, 0);
         INSERT INTO orders (id, number, checkout_id, user_id, merchant_id, status, goods_subtotal, coupon_discount,
             points_used, points_deduction, shipping_fee, payable, coupons, remark, created_at, pay_deadline,
             payment_id, points_earned, points_reversed, refunded_total, shipping_refunded, version)
         VALUES (10, 'O10', 9, 7, 1, 'awaiting_shipment', 40, 0, 0, 0, 0, 40, '[]', '', '2026-11-25T10:00:00Z',
             '2026-11-25T10:30:00Z', 20, 0, 0, 0, false, 2);
         INSERT INTO order_lines VALUES (10, 1, 1, 1, 'p', 2, 10, 10, 20, 0, 0, 0, 20, 1, 1, 0, 0, 0),
             (10, 2, 1, 1, 'p', 2, 10, 10, 20, 0, 0, 0, 20, 1, 1, 0, 0, 0);
         INSERT INTO order_status_history VALUES
             (10, 0, NULL, 'pending_payment', '{\"type\":\"buyer\",\"id\":7}', 'r', '2026-11-25T10:00:00Z'),
             (10, 1, 'pending_payment', 'awaiting_shipment', '{\"type\":\"system\"}', 'paid', '2026-11-25T10:01:00Z');
         INSERT INTO payments VALUES (20, 'PAY20', 7, '{10}', 40, 'simulated', 'succeeded', '2026-11-25T10:00:00Z',
             '2026-11-25T10:30:00Z', 'SIMPAY20', '2026-11-25T10:01:00Z', 0, '{R1,R2}', 1);
         INSERT INTO after_sales VALUES (30, 'AS30', 10, 7, 1, 'refund_only', 'requested',
             '[{\"line_no\":2,\"quantity\":1,\"amount\":\"10.00\",\"refunded\":\"0.00\"},
               {\"line_no\":1,\"quantity\":1,\"amount\":\"10.00\"}]',
             'why', 20, 0, '[\"1.50\",\"-0.25\"]', 20, 0, 0, 0, NULL, '2026-11-25T10:02:00Z',
             '[{\"action\":\"apply\",\"operator\":{\"type\":\"buyer\",\"id\":7},\"status\":\"requested\",
                \"at\":\"2026-11-25T10:02:00Z\",\"note\":\"why\"}]', 0);",
    )
    .execute(store.pool())
    .await
    .expect("0001 rows");
    store.migrate().await.expect("0002");
    store.migrate().await.expect("again: nothing to do");

    let order = store.order(OrderId(10)).await.expect("read").expect("order");
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.history.iter().map(|h| h.actor).collect::<Vec<_>>(), vec![Actor::Buyer(UserId(7)), Actor::System]);
    let payment = store.payment_by_number("PAY20").await.expect("read").expect("payment");
    assert_eq!((payment.orders, payment.refunds), (vec![OrderId(10)], vec!["R1".to_owned(), "R2".to_owned()]));
    let case = store.after_sale(mallkit_core::ids::AfterSaleId(30)).await.expect("read").expect("case");
    assert_eq!(case.lines.iter().map(|l| l.line_no).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(case.clawback_by_coupon, vec![m("1.50"), m("-0.25")]);
    assert_eq!((case.logs.len(), case.logs[0].operator), (1, Actor::Buyer(UserId(7))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_what_must_never_happen() {
    let store = fresh_store().await;
    store.apply(catalog()).await.expect("catalog");
    for (sql, constraint) in [
        ("UPDATE skus SET available = -1 WHERE id = 1", "skus_available_check"),
        ("UPDATE skus SET reserved = reserved - 1 WHERE id = 1", "skus_reserved_check"),
        (
            "INSERT INTO coupon_templates (id, title, kind, scope, validity, total_limit, per_user_limit, issued, status)
             VALUES (1, 't', '{}', '{}', '{}', 1, 1, 2, 'enabled')",
            "coupon_templates_issued_within_limit",
        ),
        (
            "INSERT INTO coupon_templates (id, title, kind, scope, validity, per_user_limit, status)
             VALUES (2, 't', '{}', '{}', '{}', 1, 'paused')",
            "coupon_templates_status_check",
        ),
        ("INSERT INTO points_accounts VALUES (1, 0, -1, 0, 0)", "points_accounts_frozen_check"),
    ] {
        let e = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(store.pool()).await.expect_err(sql);
        let db = e.as_database_error().expect("a database error");
        assert_eq!((db.is_check_violation(), db.constraint()), (true, Some(constraint)), "{sql}");
    }
    // Through the store, a guard answers before any CHECK could.
    let over = store
        .apply(vec![Write::Stock(StockWrite::Move { sku: SkuId(1), movement: StockMove::Release, quantity: 1 })])
        .await;
    assert_eq!(
        over,
        Err(StoreError::Guard(GuardFailure::InsufficientStock { sku: SkuId(1), requested: 1, available: 0 }))
    );
    // Lowering a template's total below what it issued is refused with a clear message.
    let t = template(3, CouponKind::Cash { amount: m("1") }, CouponScope::All, Some(2), 2);
    store.apply(vec![Write::Coupon(CouponWrite::PutTemplate(t.clone()))]).await.expect("template");
    store
        .apply(vec![
            Write::Coupon(CouponWrite::Issue(coupon(1, B1, 3))),
            Write::Coupon(CouponWrite::Issue(coupon(2, B1, 3))),
        ])
        .await
        .expect("two");
    let lowered =
        store.apply(vec![Write::Coupon(CouponWrite::PutTemplate(CouponTemplate { total_limit: Some(1), ..t }))]).await;
    assert!(matches!(&lowered, Err(StoreError::Backend(msg)) if msg.contains("below")), "{lowered:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadlock_between_two_batches_is_retried_not_reported() {
    let store = fresh_store().await;
    store.apply(catalog()).await.expect("catalog");
    store.apply(vec![Write::Catalog(CatalogWrite::PutSku(sku(2, 1, "10.00", 5)))]).await.expect("second sku");
    let reserve = |first: u64, second: u64| {
        vec![
            Write::Stock(StockWrite::Move { sku: SkuId(first), movement: StockMove::Reserve, quantity: 1 }),
            Write::Stock(StockWrite::Move { sku: SkuId(second), movement: StockMove::Reserve, quantity: 1 }),
        ]
    };
    for _ in 0..2 {
        // Hold both rows, let each batch take its first row as they are
        // released together, so each then waits for the other's.
        let mut holder = store.pool().begin().await.expect("begin");
        sqlx::query("SELECT id FROM skus WHERE id IN (1, 2) FOR UPDATE").execute(&mut *holder).await.expect("lock");
        let (a, b) = (store.clone(), store.clone());
        let one = tokio::spawn(async move { a.apply(reserve(1, 2)).await });
        let two = tokio::spawn(async move { b.apply(reserve(2, 1)).await });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        holder.commit().await.expect("release");
        assert_eq!(one.await.expect("task"), Ok(()));
        assert_eq!(two.await.expect("task"), Ok(()));
    }
    for id in [1, 2] {
        let stock = store.sku(SkuId(id)).await.expect("read").expect("sku").stock;
        assert_eq!((stock.available, stock.reserved), (1, 4));
    }
    // The server did see the deadlocks (and so the batches were re-run).
    // Backends report their counters when idle, within PostgreSQL's 10 s.
    let mut seen = 0;
    for _ in 0..60 {
        seen =
            sqlx::query_scalar::<_, i64>("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
                .fetch_one(store.pool())
                .await
                .expect("stats");
        if seen >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(seen >= 1, "no deadlock happened: the test did not test the retry");
}
