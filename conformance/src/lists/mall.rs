//! Paged lists (issue 8): on a mall built through `Mall`'s own commands,
//! every list of the store traits is walked page by page (page sizes 3 and
//! 7, until `has_more` is false) for each filter and sort, and the walk must
//! return every matching row exactly once, in the documented order, equal
//! to the core rule applied row by row to the whole table (read with the
//! unpaged reads), with `total` exact and a page past the end empty.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use mallkit_core::after_sales::{AfterSaleFilter, AfterSaleKind, AfterSaleRequestLine, AfterSaleStatus};
use mallkit_core::catalog::{
    Category, Keyword, Merchant, Product, ProductFilter, ProductSort, ProductStatus, Sku, Stock, StockMove, summarize,
};
use mallkit_core::checkout::{CheckoutItems, CheckoutRequest};
use mallkit_core::clock::{ManualClock, SequentialIds};
use mallkit_core::coupon::{CouponKind, CouponScope, CouponTemplate, TemplateStatus, UserCouponStatus, Validity};
use mallkit_core::identity::{Role, User, UserFilter, UserStatus};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, ProductId, SkuId, UserId};
use mallkit_core::order::{Actor, CustomerStats, OrderFilter, OrderStatus};
use mallkit_core::page::PageRequest;
use mallkit_core::payment::{PaymentChannel, SimulatedProvider};
use mallkit_core::points::PointsSource;
use mallkit_core::pricing::{CouponChoice, PointsChoice};
use mallkit_core::storage::{CatalogWrite, IdentityStore, StockWrite, Store, Write};
use mallkit_core::{Mall, Money, Policy};

/// Walks every page of `$fetch` (an expression using `$page`) and checks it
/// against `$expected` (the full list, in order).
macro_rules! walk {
    ($expected:expr, |$page:ident| $fetch:expr, $what:expr) => {{
        let expected = $expected;
        for size in [3u32, 7] {
            let mut got = Vec::new();
            let mut n = 1;
            loop {
                let $page = PageRequest::new(Some(n), Some(size)).expect("page");
                let page = $fetch.await.expect("read");
                assert_eq!(page.total, expected.len() as u64, "{}: total (size {size}, page {n})", $what);
                assert!(!page.total_capped, "{}", $what);
                assert_eq!((page.page, page.page_size), (n, size), "{}", $what);
                let full = page.items.len() == size as usize;
                got.extend(page.items);
                if !page.has_more {
                    break;
                }
                assert!(full, "{}: a page before the last is short", $what);
                n += 1;
            }
            assert_eq!(got, expected, "{}: walked with page size {size}", $what);
            let $page = PageRequest::new(Some(n + 1), Some(size)).expect("page");
            let past = $fetch.await.expect("read");
            assert!(past.items.is_empty() && !past.has_more, "{}: past the end", $what);
        }
    }};
}

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

const BRANDS: [&str; 4] = ["小米", "华为", "苹果", "荣耀"];
const NOUNS: [&str; 5] = ["手机", "耳机", "手表", "平板", "充电器"];

fn user(id: u64, role: Role, status: UserStatus, name: &str) -> User {
    User {
        id: UserId(id),
        username: name.to_owned(),
        phone: Some(format!("1380013{id:04}")),
        email: None,
        nickname: format!("{name} 昵称"),
        avatar: None,
        wechat_openid: None,
        password_hash: String::new(),
        role,
        merchant: None,
        status,
        created_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("time"),
        version: 0,
    }
}

/// Conformance case `every_list_walks_every_row_once`.
pub async fn every_list_walks_every_row_once<S: Store + IdentityStore + Clone + 'static>(store: S) {
    let start = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("time");
    let clock = Arc::new(ManualClock::new(start));
    let ids = Arc::new(SequentialIds::starting_at(100_000));
    let mall = Mall::new(store.clone(), clock.clone(), ids, Arc::new(SimulatedProvider::instant()), Policy::default());

    // ---- catalogue: a tree 1 > 2, and 3; two shops; 40 products ----
    for (id, parent) in [(1, None), (2, Some(1)), (3, None)] {
        let category = Category { id: CategoryId(id), parent: parent.map(CategoryId), name: format!("c{id}"), sort: 0 };
        mall.save_category(category).await.expect("category");
    }
    for id in [1, 2] {
        mall.save_merchant(Merchant { id: MerchantId(id), name: format!("shop {id}") }).await.expect("merchant");
    }
    let mut writes = Vec::new();
    for i in 0..40u64 {
        let name = format!(
            "{}{} {}",
            BRANDS[(i % 4) as usize],
            NOUNS[(i % 5) as usize],
            if i % 6 == 0 { "Pro" } else { "mini" }
        );
        let name = if i == 39 { "米手 手米".to_owned() } else { name };
        writes.push(Write::Catalog(CatalogWrite::PutProduct(Product {
            id: ProductId(i + 1),
            merchant: MerchantId(1 + i % 2),
            category: CategoryId([1, 2, 3][(i % 3) as usize]),
            name,
            status: if i % 7 == 3 { ProductStatus::OffSale } else { ProductStatus::OnSale },
        })));
        // Products 10, 20, … have no SKU; prices repeat so ties go to the id.
        for k in 0..(if i % 10 == 9 { 0 } else { 1 + i % 2 }) {
            writes.push(Write::Catalog(CatalogWrite::PutSku(Sku {
                id: SkuId((i + 1) * 10 + k),
                product: ProductId(i + 1),
                attributes: Default::default(),
                price: Money::from_fen(((i * 37) % 11 * 1000 + k * 250) as i64 + 990),
                original_price: None,
                weight_grams: None,
                stock: Stock { available: 50, reserved: 0, sold: 0 },
            })));
        }
    }
    store.apply(writes).await.expect("catalogue");
    // Units sold on some SKUs (a sales order), and one restock.
    for (sku, units) in [(10u64, 5u32), (21, 3), (30, 5), (110, 9), (250, 1)] {
        let moves = [StockMove::Reserve, StockMove::Commit]
            .map(|movement| Write::Stock(StockWrite::Move { sku: SkuId(sku), movement, quantity: units }));
        store.apply(moves.to_vec()).await.expect("sell");
    }
    store
        .apply(vec![Write::Stock(StockWrite::Move { sku: SkuId(30), movement: StockMove::Restock, quantity: 2 })])
        .await
        .expect("restock");

    // ---- people, coupons, orders, cases, points ----
    let buyers = [UserId(1), UserId(2), UserId(3)];
    for (i, b) in buyers.iter().enumerate() {
        let status = if i == 2 { UserStatus::Frozen } else { UserStatus::Active };
        store.insert_user(user(b.0, Role::Customer, status, &format!("buyer{}", b.0)), &[]).await.expect("user");
    }
    store.insert_user(user(9, Role::Admin, UserStatus::Active, "admin9"), &[]).await.expect("admin");
    for (id, days) in [(1u64, 30u32), (2, 1), (3, 30)] {
        mall.save_template(CouponTemplate {
            id: CouponTemplateId(id),
            title: format!("券{id}"),
            kind: CouponKind::Cash { amount: m("1") },
            scope: CouponScope::All,
            validity: Validity::DaysAfterClaim { days },
            total_limit: None,
            per_user_limit: 5,
            issued: 0,
            used: 0,
            status: TemplateStatus::Enabled,
            layer: None,
        })
        .await
        .expect("template");
    }
    let mut order_ids = Vec::new();
    for round in 0..3 {
        for (n, buyer) in buyers[..2].iter().enumerate() {
            clock.advance(Duration::minutes(1));
            mall.claim_coupon(*buyer, CouponTemplateId(1 + (round + n as u64) % 3)).await.expect("claim");
            mall.adjust_points(*buyer, 100 + round as i64, "补偿").await.expect("points");
            // SKUs of both shops: one checkout, two orders with the same creation time.
            let lines = vec![(SkuId(10), 1), (SkuId(21), 1 + round as u32)];
            let request = CheckoutRequest {
                items: CheckoutItems::Lines { lines },
                coupons: CouponChoice::None,
                points: PointsChoice::None,
                remark: String::new(),
            };
            let checkout = mall.checkout(*buyer, &request).await.expect("checkout");
            for order in &checkout.orders {
                order_ids.push((*buyer, order.id));
            }
            let first = checkout.orders[0].id;
            if round != 1 {
                mall.pay(*buyer, &[first], PaymentChannel::Simulated).await.expect("pay");
                let line = AfterSaleRequestLine { line_no: 1, quantity: 1, amount: None };
                mall.apply_after_sale(*buyer, first, AfterSaleKind::RefundOnly, &[line], "不想要了")
                    .await
                    .expect("case");
            } else {
                mall.cancel_order(Actor::Buyer(*buyer), first, "").await.expect("cancel");
            }
        }
    }
    clock.advance(Duration::days(2)); // template 2's coupons are now expired
    let now = mallkit_core::clock::Clock::now(clock.as_ref());

    // ---- products: every sort over several filters ----
    let products = store.products().await.expect("products");
    let mut skus: HashMap<ProductId, Vec<Sku>> = HashMap::new();
    for sku in store.skus().await.expect("skus") {
        skus.entry(sku.product).or_default().push(sku);
    }
    let kw = |k: &str| Keyword::parse(k).expect("keyword");
    let filters = [
        ProductFilter { status: Some(ProductStatus::OnSale), ..Default::default() },
        ProductFilter::default(),
        ProductFilter { categories: Some(vec![CategoryId(1), CategoryId(2)]), ..Default::default() },
        ProductFilter { merchant: Some(MerchantId(2)), status: Some(ProductStatus::OnSale), ..Default::default() },
        ProductFilter { min_price: Some(m("20")), max_price: Some(m("60")), ..Default::default() },
        ProductFilter { keyword: kw("手"), ..Default::default() },
        ProductFilter { keyword: kw("耳机"), status: Some(ProductStatus::OnSale), ..Default::default() },
        ProductFilter { keyword: kw("小米手机"), ..Default::default() },
        ProductFilter { keyword: kw("PRO"), categories: Some(vec![CategoryId(3)]), ..Default::default() },
        ProductFilter { keyword: kw("米手米"), ..Default::default() },
        ProductFilter { keyword: kw("无此商品"), ..Default::default() },
    ];
    for base in filters {
        for sort in ProductSort::ALL {
            let filter = ProductFilter { sort, ..base.clone() };
            let mut expected: Vec<_> = products
                .iter()
                .map(|p| (p, summarize(p, skus.get(&p.id).map_or(&[][..], Vec::as_slice))))
                .filter(|(p, s)| filter.admits(p, s))
                .map(|(_, s)| s)
                .collect();
            expected.sort_by(|a, b| sort.compare(a, b));
            walk!(expected, |page| store.search_products(&filter, page), format!("products {filter:?}"));
        }
    }

    // ---- orders ----
    let mut all_orders = Vec::new();
    for b in buyers {
        all_orders.extend(store.orders_of_user(b).await.expect("orders"));
    }
    all_orders.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    assert_eq!(all_orders.len(), order_ids.len());
    let order_filters = [
        OrderFilter::default(),
        OrderFilter { user: Some(buyers[0]), ..Default::default() },
        OrderFilter { user: Some(buyers[2]), ..Default::default() },
        OrderFilter { merchant: Some(MerchantId(2)), ..Default::default() },
        OrderFilter { status: Some(OrderStatus::PendingPayment), ..Default::default() },
        OrderFilter { user: Some(buyers[1]), merchant: Some(MerchantId(1)), status: Some(OrderStatus::Cancelled) },
    ];
    for filter in order_filters {
        let expected: Vec<_> = all_orders.iter().filter(|o| filter.admits(o)).cloned().collect();
        walk!(expected, |page| store.list_orders(&filter, page), format!("orders {filter:?}"));
    }
    let expected_stats: Vec<CustomerStats> =
        buyers.iter().map(|&u| CustomerStats::of(u, all_orders.iter().filter(|o| o.user == u))).collect();
    assert_eq!(store.customer_stats(&buyers).await.expect("stats"), expected_stats);
    assert!(expected_stats[0].spent.is_positive() && expected_stats[2].orders == 0);

    // ---- after-sales cases ----
    let mut cases = Vec::new();
    for o in &all_orders {
        cases.extend(store.after_sales_of_order(o.id).await.expect("cases"));
    }
    cases.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    assert_eq!(cases.len(), 4);
    let case_filters = [
        AfterSaleFilter::default(),
        AfterSaleFilter { user: Some(buyers[0]), ..Default::default() },
        AfterSaleFilter {
            merchant: Some(MerchantId(1)),
            status: Some(AfterSaleStatus::Requested),
            ..Default::default()
        },
        AfterSaleFilter { order: Some(cases[0].order), ..Default::default() },
        AfterSaleFilter { status: Some(AfterSaleStatus::Refunded), ..Default::default() },
    ];
    for filter in case_filters {
        let expected: Vec<_> = cases.iter().filter(|c| filter.admits(c)).cloned().collect();
        walk!(expected, |page| store.list_after_sales(&filter, page), format!("cases {filter:?}"));
    }

    // ---- coupons, claims, templates ----
    for b in buyers {
        for status in [None, Some(UserCouponStatus::Unused), Some(UserCouponStatus::Expired)] {
            let mut expected = store.user_coupons(b).await.expect("coupons");
            for c in &mut expected {
                c.status = c.status_at(now);
            }
            expected.retain(|c| status.is_none_or(|s| c.status == s));
            expected.sort_by(|a, b| b.claimed_at.cmp(&a.claimed_at).then(b.id.cmp(&a.id)));
            walk!(expected, |page| store.held_coupons(b, status, now, page), format!("held {b} {status:?}"));
        }
    }
    for t in 1..=3 {
        let t = CouponTemplateId(t);
        let expected = store.coupons_of_template(t).await.expect("claims");
        walk!(expected, |page| store.template_claims(t, page), format!("claims of {t}"));
    }
    walk!(store.templates().await.expect("templates"), |page| store.list_templates(page), "templates");

    // ---- ledger ----
    for b in buyers {
        for source in [None, Some(PointsSource::AdminAdjustment), Some(PointsSource::OrderReward)] {
            let mut expected = store.ledger(b).await.expect("ledger");
            expected.reverse();
            expected.retain(|r| source.is_none_or(|s| r.source == s));
            walk!(expected, |page| store.ledger_page(b, source, page), format!("ledger {b} {source:?}"));
        }
    }

    // ---- users ----
    let users = store.users().await.expect("users");
    let user_filters = [
        UserFilter::default(),
        UserFilter { role: Some(Role::Customer), ..Default::default() },
        UserFilter { status: Some(UserStatus::Frozen), ..Default::default() },
        UserFilter { keyword: Some("BUYER".into()), role: Some(Role::Customer), ..Default::default() },
        UserFilter { keyword: Some("0013000".into()), ..Default::default() },
    ];
    for filter in user_filters {
        let mut expected: Vec<_> = users.iter().filter(|u| filter.admits(u)).cloned().collect();
        expected.sort_by_key(|u| std::cmp::Reverse(u.id));
        walk!(expected, |page| store.list_users(&filter, page), format!("users {filter:?}"));
    }
}
