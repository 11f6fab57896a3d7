//! End-to-end journeys through `Mall`, with the seeds' own numbers: each case
//! takes a fresh, empty store.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mallkit_core::after_sales::AfterSaleRequestLine;
use mallkit_core::after_sales::{AfterSaleAction, AfterSaleKind, AfterSaleStatus};
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::checkout::{CheckoutItems, CheckoutRequest};
use mallkit_core::clock::{ManualClock, SequentialIds};
use mallkit_core::coupon::{CouponKind, CouponScope, CouponTemplate, TemplateStatus, Validity};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId, UserId};
use mallkit_core::order::{Actor, OrderStatus};
use mallkit_core::payment::PaymentError;
use mallkit_core::payment::{PaymentChannel, SimulatedProvider};
use mallkit_core::pricing::{CouponChoice, PointsChoice};
use mallkit_core::storage::Store;
use mallkit_core::{Mall, MallError, Money, Policy};

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time")
}

struct World<S> {
    mall: Mall<S>,
    clock: Arc<ManualClock>,
    provider: Arc<SimulatedProvider>,
}

const BUYER: UserId = UserId(1);
const MERCHANT: MerchantId = MerchantId(1);

/// An engine over `store` with a manual clock at `start()` and `provider`.
fn engine<S: Store>(store: S, provider: SimulatedProvider, policy: Policy) -> World<S> {
    let clock = Arc::new(ManualClock::new(start()));
    let provider = Arc::new(provider);
    let ids = Arc::new(SequentialIds::starting_at(1000));
    World { mall: Mall::new(store, clock.clone(), ids, provider.clone(), policy), clock, provider }
}

async fn world<S: Store>(store: S) -> World<S> {
    let World { mall, clock, provider } = engine(store, SimulatedProvider::instant(), Policy::default());
    mall.save_category(Category { id: CategoryId(1), parent: None, name: "瓷砖".into(), sort: 0 })
        .await
        .expect("category");
    mall.save_merchant(Merchant { id: MERCHANT, name: "LQZC".into() }).await.expect("merchant");
    mall.save_product(Product {
        id: ProductId(1),
        merchant: MERCHANT,
        category: CategoryId(1),
        name: "A8001".into(),
        status: ProductStatus::OnSale,
    })
    .await
    .expect("product");
    mall.save_sku(Sku {
        id: SkuId(1),
        product: ProductId(1),
        attributes: Default::default(),
        price: m("255.00"),
        original_price: None,
        weight_grams: None,
        stock: Stock { available: 100, reserved: 0, sold: 0 },
    })
    .await
    .expect("sku");
    mall.save_template(CouponTemplate {
        id: CouponTemplateId(1),
        title: "满299减30".into(),
        kind: CouponKind::Threshold { threshold: m("299"), amount: m("30") },
        scope: CouponScope::All,
        validity: Validity::DaysAfterClaim { days: 30 },
        total_limit: Some(100),
        per_user_limit: 1,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer: None,
    })
    .await
    .expect("template");
    World { mall, clock, provider }
}

fn ten_units() -> CheckoutRequest {
    CheckoutRequest {
        items: CheckoutItems::Lines { lines: vec![(SkuId(1), 10)] },
        coupons: CouponChoice::Best,
        points: PointsChoice::None,
        remark: String::new(),
    }
}

/// Conformance case `seed_004_preview_order_pay_ship_confirm_return`.
pub async fn seed_004_preview_order_pay_ship_confirm_return<S: Store + 'static>(store: S) {
    let w = world(store).await;
    let coupon = w.mall.claim_coupon(BUYER, CouponTemplateId(1)).await.expect("claim");
    let q = w.mall.preview(BUYER, &ten_units()).await.expect("preview");
    assert_eq!((q.goods_subtotal, q.coupon_discount, q.payable), (m("2550.00"), m("30.00"), m("2520.00")));
    assert_eq!(q.applied_coupons, vec![coupon.id]);

    let checkout = w.mall.checkout(BUYER, &ten_units()).await.expect("checkout");
    let order = &checkout.orders[0];
    assert_eq!(order.payable, m("2520.00"));
    let sku = w.mall.store().sku(SkuId(1)).await.expect("read").expect("sku");
    assert_eq!(sku.stock, Stock { available: 90, reserved: 10, sold: 0 });

    let payment = w.mall.pay(BUYER, &[order.id], PaymentChannel::Simulated).await.expect("pay");
    assert_eq!(payment.amount, m("2520.00"));
    w.mall.ship(Actor::Merchant(MERCHANT), order.id, "顺丰", "SF1").await.expect("ship");
    let earned = w.mall.confirm_receipt(BUYER, order.id).await.expect("confirm");
    assert_eq!(earned, 2520);

    // Return 2 of 10 units: kept 8 × 255 = 2040 ≥ 299, no clawback; 2 × 252 = 504.
    let case = w
        .mall
        .apply_after_sale(
            BUYER,
            order.id,
            AfterSaleKind::ReturnAndRefund,
            &[AfterSaleRequestLine { line_no: 1, quantity: 2, amount: None }],
            "破损",
        )
        .await
        .expect("apply");
    assert_eq!((case.goods_amount, case.clawback, case.refund_amount), (m("504.00"), m("0.00"), m("504.00")));
    let merchant = Actor::Merchant(MERCHANT);
    w.mall.after_sale_step(merchant, case.id, AfterSaleAction::Approve, "").await.expect("approve");
    w.mall.after_sale_step(Actor::Buyer(BUYER), case.id, AfterSaleAction::ShipBack, "SF2").await.expect("ship back");
    w.mall.after_sale_step(merchant, case.id, AfterSaleAction::Receive, "").await.expect("receive");
    let done = w.mall.refund_after_sale(merchant, case.id).await.expect("refund");
    assert_eq!(done.status, AfterSaleStatus::Refunded);
    assert_eq!(done.points_reversed, 504);
    assert_eq!(w.provider.refunded_total(), m("504.00"));
    let account = w.mall.store().points_account(BUYER).await.expect("account");
    assert_eq!(account.balance, 2520 - 504);
    let sku = w.mall.store().sku(SkuId(1)).await.expect("read").expect("sku");
    assert_eq!(sku.stock, Stock { available: 92, reserved: 0, sold: 8 });
}

/// Conformance case `unpaid_order_closes_after_timeout_and_gives_everything_back`.
pub async fn unpaid_order_closes_after_timeout_and_gives_everything_back<S: Store + 'static>(store: S) {
    let w = world(store).await;
    let coupon = w.mall.claim_coupon(BUYER, CouponTemplateId(1)).await.expect("claim");
    let checkout = w.mall.checkout(BUYER, &ten_units()).await.expect("checkout");
    w.clock.advance(Duration::minutes(31));
    let closed = w.mall.close_expired_orders().await.expect("close");
    assert_eq!(closed, vec![checkout.orders[0].id]);
    let order = w.mall.order(Actor::Buyer(BUYER), closed[0]).await.expect("order");
    assert_eq!(order.status, OrderStatus::Closed);
    let sku = w.mall.store().sku(SkuId(1)).await.expect("read").expect("sku");
    assert_eq!(sku.stock.available, 100);
    let again = w.mall.preview(BUYER, &ten_units()).await.expect("preview");
    assert_eq!(again.applied_coupons, vec![coupon.id]);
    let late = w.mall.pay(BUYER, &[order.id], PaymentChannel::Simulated).await;
    assert!(matches!(late, Err(MallError::Payment(PaymentError::OrderNotPayable { .. }))), "{late:?}");
}

async fn add_sku<S: Store>(w: &World<S>, merchant: MerchantId, product: u64, sku: u64, price: &str, stock: u32) {
    if w.mall.store().merchant(merchant).await.expect("read").is_none() {
        w.mall.save_merchant(Merchant { id: merchant, name: format!("shop {merchant}") }).await.expect("merchant");
    }
    w.mall
        .save_product(Product {
            id: ProductId(product),
            merchant,
            category: CategoryId(1),
            name: format!("product {product}"),
            status: ProductStatus::OnSale,
        })
        .await
        .expect("product");
    w.mall
        .save_sku(Sku {
            id: SkuId(sku),
            product: ProductId(product),
            attributes: Default::default(),
            price: m(price),
            original_price: None,
            weight_grams: None,
            stock: Stock { available: stock, reserved: 0, sold: 0 },
        })
        .await
        .expect("sku");
}

fn lines(lines: &[(u64, u32)]) -> CheckoutRequest {
    CheckoutRequest {
        items: CheckoutItems::Lines { lines: lines.iter().map(|&(s, q)| (SkuId(s), q)).collect() },
        coupons: CouponChoice::Best,
        points: PointsChoice::None,
        remark: String::new(),
    }
}

async fn callback_world<S: Store>(store: S) -> World<S> {
    let w = engine(store, SimulatedProvider::awaiting_callback(), Policy::default());
    w.mall
        .save_category(Category { id: CategoryId(1), parent: None, name: "数码".into(), sort: 0 })
        .await
        .expect("cat");
    add_sku(&w, MERCHANT, 1, 1, "4999.00", 10).await;
    w
}

/// Conformance case `duplicate_callbacks_confirm_once_and_a_late_one_is_refunded`.
pub async fn duplicate_callbacks_confirm_once_and_a_late_one_is_refunded<S: Store + 'static>(store: S) {
    let w = callback_world(store).await;
    let order = w.mall.checkout(BUYER, &lines(&[(1, 2)])).await.expect("checkout").orders.remove(0);
    assert_eq!(order.payable, m("9998.00")); // seed 002 §6.1: 2 × 4999.00
    let payment = w.mall.pay(BUYER, &[order.id], PaymentChannel::Wechat).await.expect("pay");
    assert_eq!(payment.status, mallkit_core::payment::PaymentStatus::Pending);

    let first = w.mall.confirm_payment(&payment.number, "WX1", m("9998.00")).await.expect("callback");
    let again = w.mall.confirm_payment(&payment.number, "WX1", m("9998.00")).await.expect("duplicate");
    assert_eq!(first.version, again.version, "the duplicate wrote nothing");
    let other = w.mall.confirm_payment(&payment.number, "WX2", m("9998.00")).await;
    assert_eq!(other.map_err(|e| e.kind()), Err("payment_already_confirmed"));
    let sku = w.mall.store().sku(SkuId(1)).await.expect("read").expect("sku");
    assert_eq!(sku.stock, Stock { available: 8, reserved: 0, sold: 2 });

    // A second order closes unpaid; its success arrives late and is refunded.
    let late = w.mall.checkout(BUYER, &lines(&[(1, 1)])).await.expect("checkout").orders.remove(0);
    let p2 = w.mall.pay(BUYER, &[late.id], PaymentChannel::Alipay).await.expect("pay");
    let wrong = w.mall.confirm_payment(&p2.number, "ALI1", m("1.00")).await;
    assert_eq!(wrong.map_err(|e| e.kind()), Err("payment_amount_mismatch"));
    w.clock.advance(Duration::minutes(30));
    assert_eq!(w.mall.close_expired_orders().await.expect("close"), vec![late.id]);
    let p2 = w.mall.confirm_payment(&p2.number, "ALI1", m("4999.00")).await.expect("late callback");
    assert_eq!(p2.status, mallkit_core::payment::PaymentStatus::Refunded);
    assert_eq!(w.provider.refunded_total(), m("4999.00"));
    let closed = w.mall.order(Actor::Buyer(BUYER), late.id).await.expect("order");
    assert_eq!(closed.status, OrderStatus::Closed, "a late success never resurrects an order");
}

/// Conformance case `two_merchants_split_into_two_orders_paid_by_one_payment`.
pub async fn two_merchants_split_into_two_orders_paid_by_one_payment<S: Store + 'static>(store: S) {
    let w = world(store).await;
    add_sku(&w, MerchantId(2), 2, 2, "100.00", 5).await;
    let coupon = w.mall.claim_coupon(BUYER, CouponTemplateId(1)).await.expect("claim");
    let checkout = w.mall.checkout(BUYER, &lines(&[(1, 1), (2, 1)])).await.expect("checkout");
    // 255 + 100 = 355 ≥ 299 → 30 off, split 255:100 → 21.55 + 8.45.
    assert_eq!(checkout.quote.payable, m("325.00"));
    let [a, b] = [&checkout.orders[0], &checkout.orders[1]];
    assert_eq!((a.merchant, a.coupon_discount, a.payable), (MERCHANT, m("21.55"), m("233.45")));
    assert_eq!((b.merchant, b.coupon_discount, b.payable), (MerchantId(2), m("8.45"), m("91.55")));

    // Cancelling one order keeps the coupon locked for the other; cancelling
    // both gives it back.
    w.mall.cancel_order(Actor::Buyer(BUYER), a.id, "不要了").await.expect("cancel a");
    let held = w.mall.store().user_coupons(BUYER).await.expect("coupons");
    assert_eq!(held[0].status, mallkit_core::coupon::UserCouponStatus::Locked);
    w.mall.cancel_order(Actor::Buyer(BUYER), b.id, "不要了").await.expect("cancel b");
    let held = w.mall.store().user_coupons(BUYER).await.expect("coupons");
    assert_eq!((held[0].id, held[0].status), (coupon.id, mallkit_core::coupon::UserCouponStatus::Unused));

    let again = w.mall.checkout(BUYER, &lines(&[(1, 1), (2, 1)])).await.expect("checkout");
    let ids: Vec<_> = again.orders.iter().map(|o| o.id).collect();
    let payment = w.mall.pay(BUYER, &ids, PaymentChannel::Simulated).await.expect("pay both");
    assert_eq!(payment.amount, m("325.00"));
    for id in &ids {
        assert_eq!(w.mall.order(Actor::Buyer(BUYER), *id).await.expect("order").status, OrderStatus::AwaitingShipment);
    }
    // Each merchant's list holds its own orders only, newest first.
    let mut lists = Vec::new();
    for merchant in [MERCHANT, MerchantId(2), MerchantId(99)] {
        let list = w.mall.store().orders_of_merchant(merchant).await.expect("list");
        lists.push(list.iter().map(|o| (o.id, o.status)).collect::<Vec<_>>());
    }
    let (paid, cancelled) = (OrderStatus::AwaitingShipment, OrderStatus::Cancelled);
    assert_eq!(lists, [vec![(ids[0], paid), (a.id, cancelled)], vec![(ids[1], paid), (b.id, cancelled)], vec![]]);
}

/// Conformance case `partial_return_below_threshold_claws_back_the_kept_units_discount`.
pub async fn partial_return_below_threshold_claws_back_the_kept_units_discount<S: Store + 'static>(store: S) {
    let w = world(store).await;
    add_sku(&w, MERCHANT, 2, 2, "100.00", 10).await;
    w.mall.claim_coupon(BUYER, CouponTemplateId(1)).await.expect("claim");
    // 255 + 100 = 355 → 30 off: 21.55 on the 255 line, 8.45 on the 100 line.
    let order = w.mall.checkout(BUYER, &lines(&[(1, 1), (2, 1)])).await.expect("checkout").orders.remove(0);
    w.mall.pay(BUYER, &[order.id], PaymentChannel::Simulated).await.expect("pay");
    w.mall.ship(Actor::Merchant(MERCHANT), order.id, "顺丰", "SF1").await.expect("ship");
    let line_255 = order.lines.iter().find(|l| l.sku == SkuId(1)).expect("line").line_no;
    let line_100 = order.lines.iter().find(|l| l.sku == SkuId(2)).expect("line").line_no;
    // Returning the 255 item keeps 100 < 299: the kept line's 8.45 is due back.
    let ask = |line_no| [AfterSaleRequestLine { line_no, quantity: 1, amount: None }];
    let case = w
        .mall
        .apply_after_sale(BUYER, order.id, AfterSaleKind::ReturnAndRefund, &ask(line_255), "不想要了")
        .await
        .expect("apply");
    assert_eq!((case.goods_amount, case.clawback, case.refund_amount), (m("233.45"), m("8.45"), m("225.00")));
    // Returning the rest too gives the clawback back: 91.55 + 8.45 = 100.00.
    let rest = w
        .mall
        .apply_after_sale(BUYER, order.id, AfterSaleKind::ReturnAndRefund, &ask(line_100), "不想要了")
        .await
        .expect("apply rest");
    assert_eq!((rest.goods_amount, rest.clawback, rest.refund_amount), (m("91.55"), m("-8.45"), m("100.00")));
    let merchant = Actor::Merchant(MERCHANT);
    for case in [case.id, rest.id] {
        w.mall.after_sale_step(merchant, case, AfterSaleAction::Approve, "").await.expect("approve");
        w.mall.after_sale_step(Actor::Buyer(BUYER), case, AfterSaleAction::ShipBack, "SF9").await.expect("back");
        w.mall.after_sale_step(merchant, case, AfterSaleAction::Receive, "").await.expect("receive");
        w.mall.refund_after_sale(merchant, case).await.expect("refund");
    }
    assert_eq!(w.provider.refunded_total(), m("325.00"), "everything paid came back, no line over its payable");
    let queue: Vec<_> =
        w.mall.store().after_sales_of_merchant(MERCHANT).await.expect("queue").iter().map(|c| c.id).collect();
    assert_eq!(queue, [rest.id, case.id], "the merchant's cases, newest first");
    assert!(w.mall.store().after_sales_of_merchant(MerchantId(2)).await.expect("queue").is_empty());
    let closed = w.mall.order(Actor::Buyer(BUYER), order.id).await.expect("order");
    assert_eq!(closed.status, OrderStatus::Closed);
    assert!(closed.lines.iter().all(|l| l.refunded_amount == l.payable));
}

/// Conformance case `refund_only_before_shipping_refunds_shipping_and_closes`.
pub async fn refund_only_before_shipping_refunds_shipping_and_closes<S: Store + 'static>(store: S) {
    let mut policy = Policy::default();
    policy.pricing.shipping.flat_fee = m("10.00");
    let w = engine(store, SimulatedProvider::instant(), policy);
    w.mall.save_category(Category { id: CategoryId(1), parent: None, name: "家居".into(), sort: 0 }).await.expect("c");
    add_sku(&w, MERCHANT, 1, 1, "99.99", 10).await;
    let order = w.mall.checkout(BUYER, &lines(&[(1, 2)])).await.expect("checkout").orders.remove(0);
    assert_eq!((order.goods_subtotal, order.payable), (m("199.98"), m("209.98"))); // seed 000 §3.1 + 10 shipping
    w.mall.pay(BUYER, &[order.id], PaymentChannel::Simulated).await.expect("pay");
    let case = w
        .mall
        .apply_after_sale(
            BUYER,
            order.id,
            AfterSaleKind::RefundOnly,
            &[AfterSaleRequestLine { line_no: 1, quantity: 2, amount: None }],
            "拍错了",
        )
        .await
        .expect("apply");
    let cancel = w.mall.cancel_order(Actor::Buyer(BUYER), order.id, "").await;
    assert_eq!(cancel.map_err(|e| e.kind()).err(), Some("after_sale_in_progress"));
    w.mall.after_sale_step(Actor::Admin(UserId(9)), case.id, AfterSaleAction::Approve, "").await.expect("approve");
    let done = w.mall.refund_after_sale(Actor::Admin(UserId(9)), case.id).await.expect("refund");
    assert_eq!((done.refund_amount, done.shipping_refund), (m("199.98"), m("10.00")));
    assert_eq!(w.provider.refunded_total(), m("209.98"));
    let order = w.mall.order(Actor::Buyer(BUYER), order.id).await.expect("order");
    assert_eq!(order.status, OrderStatus::Closed);
    let sku = w.mall.store().sku(SkuId(1)).await.expect("read").expect("sku");
    assert_eq!(sku.stock, Stock { available: 10, reserved: 0, sold: 0 });
}

/// Conformance case `cancel_after_payment_refunds_everything_and_returns_points`.
pub async fn cancel_after_payment_refunds_everything_and_returns_points<S: Store + 'static>(store: S) {
    let w = world(store).await;
    w.mall.adjust_points(BUYER, 10_000, "welcome").await.expect("points");
    let mut req = ten_units();
    req.points = PointsChoice::Exactly(5_000); // 50.00 yuan
    let order = w.mall.checkout(BUYER, &req).await.expect("checkout").orders.remove(0);
    assert_eq!(order.payable, m("2500.00"));
    let account = w.mall.store().points_account(BUYER).await.expect("account");
    assert_eq!((account.balance, account.frozen), (5_000, 5_000));
    w.mall.pay(BUYER, &[order.id], PaymentChannel::Simulated).await.expect("pay");
    let cancelled = w.mall.cancel_order(Actor::Buyer(BUYER), order.id, "不想要了").await.expect("cancel");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(w.provider.refunded_total(), m("2500.00"));
    let account = w.mall.store().points_account(BUYER).await.expect("account");
    assert_eq!((account.balance, account.frozen, account.total_spent), (10_000, 0, 0));
    let sku = w.mall.store().sku(SkuId(1)).await.expect("read").expect("sku");
    assert_eq!(sku.stock, Stock { available: 100, reserved: 0, sold: 0 });
    let shipped = w.mall.ship(Actor::Merchant(MERCHANT), order.id, "顺丰", "SF1").await;
    assert_eq!(shipped.map_err(|e| e.kind()).err(), Some("illegal_order_transition"));
}

/// Conformance case `sixty_four_buyers_for_the_last_hundred_units_never_oversell`.
pub async fn sixty_four_buyers_for_the_last_hundred_units_never_oversell<S: Store + 'static>(store: S) {
    let w = Arc::new(world(store).await);
    let mut tasks = Vec::new();
    for buyer in 0..64u64 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            w.mall.checkout(UserId(100 + buyer), &lines(&[(1, 2)])).await.map(|c| c.orders[0].lines[0].quantity)
        }));
    }
    let (mut sold, mut refused) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(units) => sold += units,
            Err(e) => {
                assert_eq!(e.kind(), "insufficient_stock");
                refused += 1;
            }
        }
    }
    assert_eq!((sold, refused), (100, 14));
    let sku = w.mall.store().sku(SkuId(1)).await.expect("read").expect("sku");
    assert_eq!(sku.stock, Stock { available: 0, reserved: 100, sold: 0 });
}

/// Conformance case `a_void_coupon_is_never_chosen_and_a_locked_one_cannot_be_voided`.
pub async fn a_void_coupon_is_never_chosen_and_a_locked_one_cannot_be_voided<S: Store + 'static>(store: S) {
    let w = world(store).await;
    let first = w.mall.claim_coupon(BUYER, CouponTemplateId(1)).await.expect("claim");
    let limit = w.mall.claim_coupon(BUYER, CouponTemplateId(1)).await;
    assert_eq!(limit.map_err(|e| e.kind()).err(), Some("coupon_claim_limit"));
    w.mall.void_coupon(first.id).await.expect("void");
    let q = w.mall.preview(BUYER, &ten_units()).await.expect("preview");
    assert_eq!(q.payable, m("2550.00"));
    assert_eq!(q.applied_coupons, vec![]);
    assert_eq!(
        q.rejected_coupons[0].reason,
        mallkit_core::pricing::CouponRejection::NotUsable { status: mallkit_core::coupon::UserCouponStatus::Void }
    );
    assert_eq!(w.mall.void_coupon(first.id).await.map_err(|e| e.kind()).err(), Some("coupon_unavailable"));
}

/// Conformance case `auto_confirm_waits_for_an_open_case_then_completes_with_tier_points`.
pub async fn auto_confirm_waits_for_an_open_case_then_completes_with_tier_points<S: Store + 'static>(store: S) {
    let w = world(store).await;
    w.mall
        .save_tier(mallkit_core::points::Tier {
            level: 0,
            name: "普通会员".into(),
            min_points: 0,
            points_multiplier: "1.5".parse().expect("rate"),
            free_shipping: false,
            member_discount: None,
            benefits: vec![],
        })
        .await
        .expect("tier");
    let order = w.mall.checkout(BUYER, &lines(&[(1, 1)])).await.expect("checkout").orders.remove(0);
    w.mall.pay(BUYER, &[order.id], PaymentChannel::Simulated).await.expect("pay");
    w.mall.ship(Actor::Admin(UserId(9)), order.id, "EMS", "E1").await.expect("ship");
    let case = w
        .mall
        .apply_after_sale(
            BUYER,
            order.id,
            AfterSaleKind::Exchange,
            &[AfterSaleRequestLine { line_no: 1, quantity: 1, amount: None }],
            "尺码不对",
        )
        .await
        .expect("apply");
    w.clock.advance(Duration::days(11));
    assert_eq!(w.mall.auto_confirm_due().await.expect("run"), vec![]);
    w.mall.after_sale_step(Actor::Buyer(BUYER), case.id, AfterSaleAction::Cancel, "算了").await.expect("cancel");
    assert_eq!(w.mall.auto_confirm_due().await.expect("run"), vec![order.id]);
    let done = w.mall.order(Actor::Buyer(BUYER), order.id).await.expect("order");
    // 255.00 paid × 1 point per yuan × 1.5 = 382.5 → 382.
    assert_eq!((done.status, done.points_earned), (OrderStatus::Completed, 382));
    assert_eq!(done.history.last().map(|h| h.actor), Some(Actor::System));
}
