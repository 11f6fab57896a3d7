//! Concurrent buyers on two pools over one database (as two `mallkit`
//! processes would be): stock, coupon limits and points hold under real
//! concurrency, and every refused buyer gets the domain's error.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::checkout::{CheckoutItems, CheckoutRequest};
use mallkit_core::clock::{ManualClock, SequentialIds};
use mallkit_core::coupon::{CouponKind, CouponScope, CouponTemplate, TemplateStatus, Validity};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId, UserId};
use mallkit_core::payment::SimulatedProvider;
use mallkit_core::pricing::{CouponChoice, PointsChoice};
use mallkit_core::storage::{CatalogStore, CouponStore, PointsStore};
use mallkit_core::{Mall, Money, Policy};
use mallkit_storage_postgres::PgStore;
use mallkit_storage_postgres::testing::{fresh_store, second_pool};

/// Two engines, one per pool, with disjoint id ranges.
async fn two_engines() -> (Arc<Mall<PgStore>>, Arc<Mall<PgStore>>) {
    let first = fresh_store().await;
    let second = second_pool(&first).await;
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("time")));
    let engine = |store, start| {
        Arc::new(Mall::new(
            store,
            clock.clone(),
            Arc::new(SequentialIds::starting_at(start)),
            Arc::new(SimulatedProvider::instant()),
            Policy::default(),
        ))
    };
    let a = engine(first, 1_000_000);
    let b = engine(second, 2_000_000);
    a.save_category(Category { id: CategoryId(1), parent: None, name: "限量".into(), sort: 0 }).await.expect("cat");
    a.save_merchant(Merchant { id: MerchantId(1), name: "shop".into() }).await.expect("merchant");
    a.save_product(Product {
        id: ProductId(1),
        merchant: MerchantId(1),
        category: CategoryId(1),
        name: "限量款".into(),
        status: ProductStatus::OnSale,
    })
    .await
    .expect("product");
    a.save_sku(Sku {
        id: SkuId(1),
        product: ProductId(1),
        attributes: Default::default(),
        price: Money::from_yuan(100),
        original_price: None,
        weight_grams: None,
        stock: Stock { available: 100, reserved: 0, sold: 0 },
    })
    .await
    .expect("sku");
    (a, b)
}

fn order(units: u32, points: PointsChoice) -> CheckoutRequest {
    CheckoutRequest {
        items: CheckoutItems::Lines { lines: vec![(SkuId(1), units)] },
        coupons: CouponChoice::None,
        points,
        remark: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_buyers_on_two_pools_buy_exactly_the_last_hundred_units() {
    let (a, b) = two_engines().await;
    let mut tasks = Vec::new();
    for buyer in 0..64u64 {
        let mall = if buyer % 2 == 0 { a.clone() } else { b.clone() };
        tasks
            .push(tokio::spawn(async move { mall.checkout(UserId(100 + buyer), &order(2, PointsChoice::None)).await }));
    }
    let (mut units, mut refused) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(c) => units += c.orders.iter().flat_map(|o| &o.lines).map(|l| l.quantity).sum::<u32>(),
            Err(e) => {
                assert_eq!(e.kind(), "insufficient_stock", "{e}");
                refused += 1;
            }
        }
    }
    assert_eq!((units, refused), (100, 14));
    let stock = a.store().sku(SkuId(1)).await.expect("read").expect("sku").stock;
    assert_eq!(stock, Stock { available: 0, reserved: 100, sold: 0 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_claimers_on_two_pools_get_exactly_twenty_coupons() {
    let (a, b) = two_engines().await;
    a.save_template(CouponTemplate {
        id: CouponTemplateId(1),
        title: "限量20张".into(),
        kind: CouponKind::Cash { amount: Money::from_yuan(5) },
        scope: CouponScope::All,
        validity: Validity::DaysAfterClaim { days: 7 },
        total_limit: Some(20),
        per_user_limit: 1,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer: None,
    })
    .await
    .expect("template");
    let mut tasks = Vec::new();
    for user in 0..50u64 {
        let mall = if user % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { mall.claim_coupon(UserId(100 + user), CouponTemplateId(1)).await }));
    }
    let mut claimed = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => claimed += 1,
            Err(e) => assert_eq!(e.kind(), "coupon_sold_out", "{e}"),
        }
    }
    assert_eq!(claimed, 20);
    assert_eq!(a.store().template(CouponTemplateId(1)).await.expect("read").map(|t| t.issued), Some(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_never_spend_more_than_the_balance() {
    let (a, b) = two_engines().await;
    let buyer = UserId(7);
    a.adjust_points(buyer, 10_000, "test").await.expect("points");
    // Each checkout of 100.00 may redeem up to 50.00 = 5 000 points; ten of
    // them ask for 3 000 each (30 000 in all) against a balance of 10 000.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let mall = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { mall.checkout(buyer, &order(1, PointsChoice::Exactly(3_000))).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.kind(), "insufficient_points", "{e}"),
        }
    }
    assert_eq!(ok, 3, "10 000 points pay for three redemptions of 3 000");
    let account = a.store().points_account(buyer).await.expect("account");
    assert_eq!((account.balance, account.frozen), (1_000, 9_000));
    let ledger = a.store().ledger(buyer).await.expect("ledger");
    let sum: i64 = ledger.iter().map(|e| e.balance_delta + e.frozen_delta).sum();
    assert_eq!(sum, account.balance + account.frozen);
}
