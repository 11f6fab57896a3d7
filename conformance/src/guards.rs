//! The storage contract itself: every guard of `core::storage`, all-or-nothing
//! batches, and the reads, checked through `Store` directly.

use chrono::{Duration, TimeZone, Utc};
use mallkit_core::cart::{Cart, CartItem};
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock, StockMove};
use mallkit_core::coupon::{
    CouponKind, CouponScope, CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus, Validity,
};
use mallkit_core::ids::{
    CategoryId, CheckoutId, CouponTemplateId, LedgerEntryId, MerchantId, ProductId, SkuId, UserCouponId, UserId,
};
use mallkit_core::money::Money;
use mallkit_core::points::{LedgerEntry, PointsAction, PointsSource};
use mallkit_core::storage::{
    CartWrite, CatalogWrite, CouponWrite, GuardFailure, PointsWrite, StockWrite, Store, StoreError, Write,
};

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time")
}

async fn catalog<S: Store>(store: &S) {
    store
        .apply(vec![
            Write::Catalog(CatalogWrite::PutCategory(Category {
                id: CategoryId(1),
                parent: None,
                name: "root".into(),
                sort: 0,
            })),
            Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(1), name: "shop".into() })),
            Write::Catalog(CatalogWrite::PutProduct(Product {
                id: ProductId(1),
                merchant: MerchantId(1),
                category: CategoryId(1),
                name: "p".into(),
                status: ProductStatus::OnSale,
            })),
            Write::Catalog(CatalogWrite::PutSku(sku(1, 5))),
            Write::Catalog(CatalogWrite::PutSku(sku(2, 5))),
        ])
        .await
        .expect("catalog");
}

fn sku(id: u64, available: u32) -> Sku {
    Sku {
        id: SkuId(id),
        product: ProductId(1),
        attributes: [("颜色".to_owned(), "黑".to_owned())].into_iter().collect(),
        price: m("10.50"),
        original_price: Some(m("12.00")),
        weight_grams: Some(300),
        stock: Stock { available, reserved: 0, sold: 0 },
    }
}

fn template(id: u64, total: Option<u32>, per_user: u32) -> CouponTemplate {
    CouponTemplate {
        id: CouponTemplateId(id),
        title: "满100减10".into(),
        kind: CouponKind::Threshold { threshold: m("100"), amount: m("10") },
        scope: CouponScope::Categories(vec![CategoryId(1)]),
        validity: Validity::DaysAfterClaim { days: 7 },
        total_limit: total,
        per_user_limit: per_user,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer: None,
    }
}

fn coupon(id: u64, user: u64, template: u64) -> UserCoupon {
    UserCoupon {
        id: UserCouponId(id),
        template: CouponTemplateId(template),
        user: UserId(user),
        status: UserCouponStatus::Unused,
        valid_from: at(),
        valid_to: at() + Duration::days(7),
        claimed_at: at(),
        checkout: None,
        used_at: None,
    }
}

fn points(id: u64, user: u64, action: PointsAction, reference: u64, n: i64) -> Write {
    Write::Points(PointsWrite::Post(LedgerEntry {
        id: LedgerEntryId(id),
        user: UserId(user),
        source: PointsSource::AdminAdjustment,
        action,
        reference,
        points: n,
        balance_delta: 0,
        frozen_delta: 0,
        balance_after: 0,
        remark: "test".into(),
        at: at(),
    }))
}

fn guard(r: Result<(), StoreError>) -> GuardFailure {
    match r {
        Err(StoreError::Guard(g)) => g,
        other => panic!("expected a guard failure, got {other:?}"),
    }
}

/// Reads give back what was written, field for field.
pub async fn catalog_round_trips<S: Store + 'static>(store: S) {
    catalog(&store).await;
    assert_eq!(store.sku(SkuId(1)).await.expect("read"), Some(sku(1, 5)));
    assert_eq!(store.skus_of(ProductId(1)).await.expect("read"), vec![sku(1, 5), sku(2, 5)]);
    assert_eq!(store.skus().await.expect("read"), vec![sku(1, 5), sku(2, 5)]);
    assert_eq!(store.categories().await.expect("read").len(), 1);
    assert_eq!(store.products().await.expect("read")[0].name, "p");
    assert_eq!(store.merchant(MerchantId(1)).await.expect("read").map(|m| m.name), Some("shop".into()));
    assert_eq!(store.sku(SkuId(9)).await.expect("read"), None);
    assert_eq!(store.points_account(UserId(7)).await.expect("read").balance, 0);
    assert_eq!(store.cart(UserId(7)).await.expect("read").items, vec![]);
    let cart = Cart { user: UserId(7), items: vec![CartItem { sku: SkuId(1), quantity: 2, selected: true }] };
    store.apply(vec![Write::Cart(CartWrite::Put(cart.clone()))]).await.expect("cart");
    assert_eq!(store.cart(UserId(7)).await.expect("read"), cart);
}

/// A batch with one failing guard leaves nothing of itself behind.
pub async fn a_failed_guard_rolls_back_the_whole_batch<S: Store + 'static>(store: S) {
    catalog(&store).await;
    let batch = vec![
        Write::Stock(StockWrite::Move { sku: SkuId(1), movement: StockMove::Reserve, quantity: 2 }),
        Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(2),
            parent: Some(CategoryId(1)),
            name: "c".into(),
            sort: 1,
        })),
        points(1, 1, PointsAction::Adjust, 1, 100),
        Write::Stock(StockWrite::Move { sku: SkuId(2), movement: StockMove::Reserve, quantity: 6 }),
    ];
    let failure = guard(store.apply(batch).await);
    assert_eq!(failure, GuardFailure::InsufficientStock { sku: SkuId(2), requested: 6, available: 5 });
    assert_eq!(store.sku(SkuId(1)).await.expect("read").map(|s| s.stock.available), Some(5));
    assert_eq!(store.categories().await.expect("read").len(), 1);
    assert_eq!(store.ledger(UserId(1)).await.expect("read"), vec![]);
    assert_eq!(store.points_account(UserId(1)).await.expect("read").balance, 0);
}

/// Stock moves between buckets and never below zero; adjustments receive and
/// write off available units; re-saving a SKU keeps its stock.
pub async fn stock_moves_are_guarded<S: Store + 'static>(store: S) {
    catalog(&store).await;
    let mv = |movement, quantity| vec![Write::Stock(StockWrite::Move { sku: SkuId(1), movement, quantity })];
    store.apply(mv(StockMove::Reserve, 5)).await.expect("reserve all");
    assert_eq!(
        guard(store.apply(mv(StockMove::Reserve, 1)).await),
        GuardFailure::InsufficientStock { sku: SkuId(1), requested: 1, available: 0 }
    );
    store.apply(mv(StockMove::Commit, 3)).await.expect("commit");
    store.apply(mv(StockMove::Release, 2)).await.expect("release");
    store.apply(mv(StockMove::Restock, 1)).await.expect("restock");
    assert!(store.apply(mv(StockMove::Commit, 1)).await.is_err(), "nothing reserved is left");
    let stock = store.sku(SkuId(1)).await.expect("read").map(|s| s.stock);
    assert_eq!(stock, Some(Stock { available: 3, reserved: 0, sold: 2 }));
    assert_eq!(
        guard(
            store
                .apply(vec![Write::Stock(StockWrite::Move {
                    sku: SkuId(9),
                    movement: StockMove::Reserve,
                    quantity: 1
                })])
                .await
        ),
        GuardFailure::NotFound { entity: "sku", id: 9 }
    );
    // Stock adjustments: receive into available; write off only what is available.
    store.apply(mv(StockMove::Receive, 10)).await.expect("receive");
    assert_eq!(
        guard(store.apply(mv(StockMove::WriteOff, 14)).await),
        GuardFailure::InsufficientStock { sku: SkuId(1), requested: 14, available: 13 }
    );
    store.apply(mv(StockMove::WriteOff, 13)).await.expect("write off");
    // Re-saving a SKU changes its details but never its stock.
    store.apply(mv(StockMove::Receive, 4)).await.expect("receive");
    store.apply(mv(StockMove::Reserve, 1)).await.expect("reserve");
    let mut edited = sku(1, 999);
    edited.price = m("88.00");
    store.apply(vec![Write::Catalog(CatalogWrite::PutSku(edited))]).await.expect("edit");
    let stored = store.sku(SkuId(1)).await.expect("read").expect("sku");
    assert_eq!((stored.price, stored.stock), (m("88.00"), Stock { available: 3, reserved: 1, sold: 2 }));
}

/// Claims respect the total, the per-user limit and the template status; a
/// template's counters survive a re-save.
pub async fn coupon_claims_respect_every_limit<S: Store + 'static>(store: S) {
    store.apply(vec![Write::Coupon(CouponWrite::PutTemplate(template(1, Some(2), 1)))]).await.expect("template");
    store.apply(vec![Write::Coupon(CouponWrite::Issue(coupon(10, 1, 1)))]).await.expect("first");
    assert_eq!(
        guard(store.apply(vec![Write::Coupon(CouponWrite::Issue(coupon(11, 1, 1)))]).await),
        GuardFailure::ClaimLimitReached { template: CouponTemplateId(1), user: UserId(1), limit: 1 }
    );
    store.apply(vec![Write::Coupon(CouponWrite::Issue(coupon(12, 2, 1)))]).await.expect("second user");
    assert_eq!(
        guard(store.apply(vec![Write::Coupon(CouponWrite::Issue(coupon(13, 3, 1)))]).await),
        GuardFailure::TemplateExhausted { template: CouponTemplateId(1), limit: 2 }
    );
    let mut edited = template(1, Some(3), 1);
    edited.title = "满100减12".into();
    store.apply(vec![Write::Coupon(CouponWrite::PutTemplate(edited))]).await.expect("re-save");
    let t = store.template(CouponTemplateId(1)).await.expect("read").expect("template");
    assert_eq!((t.title.as_str(), t.issued, t.total_limit), ("满100减12", 2, Some(3)));
    store
        .apply(vec![Write::Coupon(CouponWrite::SetTemplateStatus {
            template: CouponTemplateId(1),
            status: TemplateStatus::Disabled,
        })])
        .await
        .expect("disable");
    assert_eq!(
        guard(store.apply(vec![Write::Coupon(CouponWrite::Issue(coupon(14, 3, 1)))]).await),
        GuardFailure::TemplateDisabled(CouponTemplateId(1))
    );
    assert_eq!(store.user_coupons(UserId(1)).await.expect("read"), vec![coupon(10, 1, 1)]);
}

/// A coupon moves only from the status the write expects; uses are counted.
pub async fn coupon_status_moves_are_guarded<S: Store + 'static>(store: S) {
    store.apply(vec![Write::Coupon(CouponWrite::PutTemplate(template(1, None, 5)))]).await.expect("template");
    store.apply(vec![Write::Coupon(CouponWrite::Issue(coupon(10, 1, 1)))]).await.expect("claim");
    let mv = |from, to| {
        Write::Coupon(CouponWrite::SetStatus {
            coupon: UserCouponId(10),
            from,
            to,
            checkout: Some(CheckoutId(5)),
            at: at(),
        })
    };
    store.apply(vec![mv(UserCouponStatus::Unused, UserCouponStatus::Locked)]).await.expect("lock");
    assert_eq!(
        guard(store.apply(vec![mv(UserCouponStatus::Unused, UserCouponStatus::Locked)]).await),
        GuardFailure::CouponStatusChanged {
            coupon: UserCouponId(10),
            expected: UserCouponStatus::Unused,
            actual: UserCouponStatus::Locked,
        }
    );
    store.apply(vec![mv(UserCouponStatus::Locked, UserCouponStatus::Used)]).await.expect("use");
    let c = store.user_coupon(UserCouponId(10)).await.expect("read").expect("coupon");
    assert_eq!((c.status, c.checkout, c.used_at), (UserCouponStatus::Used, Some(CheckoutId(5)), Some(at())));
    assert_eq!(store.template(CouponTemplateId(1)).await.expect("read").map(|t| t.used), Some(1));
}

/// The ledger moves the account, applies each source once and keeps
/// balance + frozen equal to its sum.
pub async fn points_ledger_applies_each_source_once<S: Store + 'static>(store: S) {
    store.apply(vec![points(1, 1, PointsAction::Adjust, 1, 500)]).await.expect("adjust");
    store.apply(vec![points(2, 1, PointsAction::Freeze, 9, 300)]).await.expect("freeze");
    assert_eq!(
        guard(store.apply(vec![points(3, 1, PointsAction::Freeze, 9, 100)]).await),
        GuardFailure::PointsSourceApplied {
            user: UserId(1),
            points_source: PointsSource::AdminAdjustment,
            action: PointsAction::Freeze,
            reference: 9,
        }
    );
    assert!(matches!(
        guard(store.apply(vec![points(4, 1, PointsAction::Freeze, 10, 201)]).await),
        GuardFailure::InsufficientPoints { needed: 201, balance: 200, .. }
    ));
    store.apply(vec![points(5, 1, PointsAction::Spend, 9, 300)]).await.expect("spend");
    assert!(matches!(
        guard(store.apply(vec![points(6, 1, PointsAction::Unfreeze, 9, 1)]).await),
        GuardFailure::InsufficientFrozen { .. }
    ));
    let account = store.points_account(UserId(1)).await.expect("read");
    assert_eq!((account.balance, account.frozen, account.total_spent), (200, 0, 300));
    let ledger = store.ledger(UserId(1)).await.expect("read");
    let after: Vec<i64> = ledger.iter().map(|e| e.balance_after).collect();
    assert_eq!(after, vec![500, 200, 200]);
    let sum: i64 = ledger.iter().map(|e| e.balance_delta + e.frozen_delta).sum();
    assert_eq!(sum, account.balance + account.frozen);
}

/// Every claim of a template, whoever holds it, by id, and nothing else.
pub async fn coupons_of_template_lists_every_claim<S: Store + 'static>(store: S) {
    let templates = vec![
        Write::Coupon(CouponWrite::PutTemplate(template(1, None, 2))),
        Write::Coupon(CouponWrite::PutTemplate(template(2, None, 2))),
    ];
    store.apply(templates).await.expect("templates");
    for c in [coupon(12, 2, 1), coupon(10, 1, 1), coupon(11, 1, 2)] {
        store.apply(vec![Write::Coupon(CouponWrite::Issue(c))]).await.expect("claim");
    }
    assert_eq!(
        store.coupons_of_template(CouponTemplateId(1)).await.expect("read"),
        vec![coupon(10, 1, 1), coupon(12, 2, 1)]
    );
    assert_eq!(store.coupons_of_template(CouponTemplateId(2)).await.expect("read"), vec![coupon(11, 1, 2)]);
    assert_eq!(store.coupons_of_template(CouponTemplateId(3)).await.expect("read"), vec![]);
}
