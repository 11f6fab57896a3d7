//! End-to-end journeys through `Mall` on the in-memory store, with the seeds'
//! own numbers.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mallkit_core::after_sales::{AfterSaleAction, AfterSaleKind, AfterSaleStatus};
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::clock::{ManualClock, SequentialIds};
use mallkit_core::coupon::{CouponKind, CouponScope, CouponTemplate, TemplateStatus, Validity};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId, UserId};
use mallkit_core::order::{Actor, OrderStatus};
use mallkit_core::payment::{PaymentChannel, SimulatedProvider};
use mallkit_core::pricing::{CouponChoice, PointsChoice};
use mallkit_core::service::{AfterSaleRequestLine, CheckoutItems, CheckoutRequest};
use mallkit_core::storage::{CatalogStore, PointsStore};
use mallkit_core::{Mall, MallError, Money, Policy};
use mallkit_storage_memory::MemoryStore;

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time")
}

struct World {
    mall: Mall<MemoryStore>,
    clock: Arc<ManualClock>,
    provider: Arc<SimulatedProvider>,
}

const BUYER: UserId = UserId(1);
const MERCHANT: MerchantId = MerchantId(1);

async fn world() -> World {
    let clock = Arc::new(ManualClock::new(start()));
    let provider = Arc::new(SimulatedProvider::instant());
    let mall = Mall::new(
        MemoryStore::new(),
        clock.clone(),
        Arc::new(SequentialIds::starting_at(1000)),
        provider.clone(),
        Policy::default(),
    );
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

#[tokio::test]
async fn seed_004_preview_order_pay_ship_confirm_return() {
    let w = world().await;
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

#[tokio::test]
async fn unpaid_order_closes_after_timeout_and_gives_everything_back() {
    let w = world().await;
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
    assert!(matches!(late, Err(MallError::OrderNotPayable { .. })), "{late:?}");
}
