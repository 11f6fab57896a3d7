//! The paged lists other than product search (orders, after-sales cases,
//! coupons, claims, templates, the points ledger, users, customer figures)
//! against a reference scan of the whole table, with creation times that do
//! not follow ids, after updates that move rows between indexes.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use mallkit_core::after_sales::{AfterSale, AfterSaleFilter, AfterSaleKind, AfterSaleStatus};
use mallkit_core::coupon::{
    CouponKind, CouponScope, CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus, Validity,
};
use mallkit_core::identity::{Role, User, UserFilter, UserStatus};
use mallkit_core::ids::{
    AfterSaleId, CheckoutId, CouponTemplateId, LedgerEntryId, MerchantId, OrderId, UserCouponId, UserId,
};
use mallkit_core::money::Money;
use mallkit_core::order::{CustomerStats, Order, OrderFilter, OrderStatus};
use mallkit_core::page::PageRequest;
use mallkit_core::points::{LedgerEntry, PointsAction, PointsSource};
use mallkit_core::storage::{
    AfterSaleWrite, AfterSalesStore, CouponStore, CouponWrite, IdentityStore, OrderStore, OrderWrite, PointsStore,
    PointsWrite, Store, Write,
};
use mallkit_storage_memory::MemoryStore;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap()
}

/// Creation times that do not follow ids (and tie often).
fn time(i: u64) -> DateTime<Utc> {
    t0() + Duration::minutes(((i * 7919) % 500) as i64)
}

fn pages() -> Vec<PageRequest> {
    [(1, 20), (2, 7), (1, 1), (3, 100), (40, 5), (9, 1)]
        .into_iter()
        .map(|(p, s)| PageRequest::new(Some(p), Some(s)).unwrap())
        .collect()
}

const ORDER_STATUSES: [OrderStatus; 6] = [
    OrderStatus::PendingPayment,
    OrderStatus::AwaitingShipment,
    OrderStatus::Shipped,
    OrderStatus::Completed,
    OrderStatus::Cancelled,
    OrderStatus::Closed,
];

fn order(i: u64) -> Order {
    let created_at = time(i);
    Order {
        id: OrderId(i),
        number: format!("O{i}"),
        checkout: CheckoutId(i / 2),
        user: UserId(1 + i % 7),
        merchant: MerchantId(1 + i % 3),
        status: ORDER_STATUSES[(i % 6) as usize],
        lines: Vec::new(),
        goods_subtotal: Money::from_yuan(10 + i as i64),
        coupon_discount: Money::ZERO,
        points_used: 0,
        points_deduction: Money::ZERO,
        shipping_fee: Money::ZERO,
        payable: Money::from_yuan(10 + i as i64),
        coupons: Vec::new(),
        remark: String::new(),
        created_at,
        pay_deadline: created_at + Duration::minutes(30),
        paid_at: (!i.is_multiple_of(3)).then_some(created_at),
        payment: None,
        shipment: None,
        auto_confirm_at: (i % 6 == 2).then_some(created_at + Duration::days(7)),
        completed_at: None,
        ended_at: None,
        points_earned: 0,
        points_earned_on: Money::ZERO,
        points_reversed: 0,
        refunded_total: Money::from_yuan((i % 4) as i64),
        shipping_refunded: false,
        shipping_address: None,
        history: Vec::new(),
        version: 0,
    }
}

const CASE_STATUSES: [AfterSaleStatus; 4] =
    [AfterSaleStatus::Requested, AfterSaleStatus::Approved, AfterSaleStatus::Refunded, AfterSaleStatus::Cancelled];

fn case(i: u64, of: &Order) -> AfterSale {
    AfterSale {
        id: AfterSaleId(i),
        number: format!("A{i}"),
        order: of.id,
        user: of.user,
        merchant: of.merchant,
        kind: AfterSaleKind::RefundOnly,
        status: CASE_STATUSES[(i % 4) as usize],
        lines: Vec::new(),
        reason: String::new(),
        goods_amount: Money::ZERO,
        clawback: Money::ZERO,
        clawback_by_coupon: Vec::new(),
        refund_amount: Money::ZERO,
        shipping_refund: Money::ZERO,
        points_returned: 0,
        points_reversed: 0,
        return_tracking_no: None,
        created_at: time(i * 3),
        logs: Vec::new(),
        version: 0,
    }
}

fn newest_orders(mut v: Vec<Order>) -> Vec<Order> {
    v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    v
}

fn newest_cases(mut v: Vec<AfterSale>) -> Vec<AfterSale> {
    v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    v
}

#[tokio::test]
async fn orders_and_cases_page_like_the_reference_scan() {
    let store = MemoryStore::new();
    let orders: Vec<Order> = (1..=400).map(order).collect();
    store.apply(orders.iter().cloned().map(|v| Write::Order(OrderWrite::Insert(v))).collect()).await.unwrap();
    let mut cases = Vec::new();
    for i in 1..=150 {
        cases.push(case(i, &orders[((i * 13) % 400) as usize]));
    }
    store.apply(cases.iter().cloned().map(|v| Write::AfterSale(AfterSaleWrite::Insert(v))).collect()).await.unwrap();
    // updates move rows between the status indexes (and bump versions)
    let mut updates = Vec::new();
    for o in orders.iter().step_by(5) {
        updates.push(Write::Order(OrderWrite::Update(Order { status: OrderStatus::Completed, ..o.clone() })));
    }
    for c in cases.iter().step_by(4) {
        updates.push(Write::AfterSale(AfterSaleWrite::Update(AfterSale {
            status: AfterSaleStatus::Refunded,
            ..c.clone()
        })));
    }
    store.apply(updates).await.unwrap();

    let all = store.all_orders();
    let mut statuses: Vec<Option<OrderStatus>> = ORDER_STATUSES.map(Some).to_vec();
    statuses.push(None);
    for user in [None, Some(UserId(3)), Some(UserId(99))] {
        for merchant in [None, Some(MerchantId(2)), Some(MerchantId(99))] {
            for &status in &statuses {
                let f = OrderFilter { user, merchant, status };
                let want = newest_orders(all.iter().filter(|o| f.admits(o)).cloned().collect());
                for p in pages() {
                    let got = store.list_orders(&f, p).await.unwrap();
                    assert_eq!(got, p.page_from_iter(want.clone().into_iter()), "{f:?} {p:?}");
                }
            }
        }
    }
    for u in 1..=7 {
        let want = newest_orders(all.iter().filter(|o| o.user == UserId(u)).cloned().collect());
        assert_eq!(store.orders_of_user(UserId(u)).await.unwrap(), want);
    }
    let want = newest_orders(all.iter().filter(|o| o.merchant == MerchantId(1)).cloned().collect());
    assert_eq!(store.orders_of_merchant(MerchantId(1)).await.unwrap(), want);
    let of_checkout: Vec<Order> = all.iter().filter(|o| o.checkout == CheckoutId(20)).cloned().collect();
    assert_eq!(store.orders_of_checkout(CheckoutId(20)).await.unwrap(), of_checkout);
    let now = t0() + Duration::minutes(200);
    let due: Vec<OrderId> =
        all.iter().filter(|o| o.status == OrderStatus::PendingPayment && o.pay_deadline <= now).map(|o| o.id).collect();
    assert_eq!(store.orders_due(OrderStatus::PendingPayment, now).await.unwrap(), due);

    let asked = [UserId(5), UserId(1), UserId(404), UserId(5)];
    let stats = store.customer_stats(&asked).await.unwrap();
    let want: Vec<CustomerStats> =
        asked.iter().map(|&u| CustomerStats::of(u, all.iter().filter(|o| o.user == u))).collect();
    assert_eq!(stats, want);
    assert_eq!(stats[2], CustomerStats { user: UserId(404), orders: 0, spent: Money::ZERO, last_order_at: None });

    let every_case: Vec<AfterSale> = {
        let mut v = Vec::new();
        for o in &all {
            v.extend(store.after_sales_of_order(o.id).await.unwrap());
        }
        v
    };
    assert_eq!(every_case.len(), 150);
    let mut case_statuses: Vec<Option<AfterSaleStatus>> = CASE_STATUSES.map(Some).to_vec();
    case_statuses.push(None);
    let some_order = cases[0].order;
    for user in [None, Some(cases[1].user)] {
        for merchant in [None, Some(MerchantId(3))] {
            for order in [None, Some(some_order)] {
                for &status in &case_statuses {
                    let f = AfterSaleFilter { user, merchant, order, status };
                    let want = newest_cases(every_case.iter().filter(|c| f.admits(c)).cloned().collect());
                    for p in pages() {
                        let got = store.list_after_sales(&f, p).await.unwrap();
                        assert_eq!(got, p.page_from_iter(want.clone().into_iter()), "{f:?} {p:?}");
                    }
                }
            }
        }
    }
    let want = newest_cases(every_case.iter().filter(|c| c.merchant == MerchantId(2)).cloned().collect());
    assert_eq!(store.after_sales_of_merchant(MerchantId(2)).await.unwrap(), want);
    let by_id = store.after_sales_of_order(some_order).await.unwrap();
    assert!(by_id.windows(2).all(|w| w[0].id < w[1].id));
}

fn template(id: u64) -> CouponTemplate {
    CouponTemplate {
        id: CouponTemplateId(id),
        title: format!("满100减{id}"),
        kind: CouponKind::Threshold { threshold: Money::from_yuan(100), amount: Money::from_yuan(10) },
        scope: CouponScope::All,
        validity: Validity::DaysAfterClaim { days: 7 },
        total_limit: None,
        per_user_limit: 1000,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer: None,
    }
}

#[tokio::test]
async fn coupons_claims_and_templates_page_like_the_reference_scan() {
    let store = MemoryStore::new();
    store.apply((1..=45).map(|i| Write::Coupon(CouponWrite::PutTemplate(template(i)))).collect()).await.unwrap();
    let mut issue = Vec::new();
    for i in 1..=600u64 {
        let claimed_at = time(i);
        issue.push(Write::Coupon(CouponWrite::Issue(UserCoupon {
            id: UserCouponId(i),
            template: CouponTemplateId(1 + i % 5),
            user: UserId(1 + i % 4),
            status: UserCouponStatus::Unused,
            valid_from: claimed_at,
            valid_to: claimed_at + Duration::minutes(((i * 31) % 400) as i64),
            claimed_at,
            checkout: None,
            used_at: None,
        })));
    }
    store.apply(issue).await.unwrap();
    let mut moves = Vec::new();
    for i in (1..=600u64).step_by(3) {
        let to = if i % 2 == 0 { UserCouponStatus::Used } else { UserCouponStatus::Locked };
        moves.push(Write::Coupon(CouponWrite::SetStatus {
            coupon: UserCouponId(i),
            from: UserCouponStatus::Unused,
            to,
            checkout: Some(CheckoutId(i)),
            at: t0(),
        }));
    }
    store.apply(moves).await.unwrap();

    let every = store.all_user_coupons();
    let now = t0() + Duration::minutes(450);
    let statuses = [
        None,
        Some(UserCouponStatus::Unused),
        Some(UserCouponStatus::Expired),
        Some(UserCouponStatus::Used),
        Some(UserCouponStatus::Locked),
    ];
    for user in [UserId(1), UserId(2), UserId(77)] {
        for status in statuses {
            let mut want: Vec<UserCoupon> = every
                .iter()
                .filter(|c| c.user == user)
                .map(|c| UserCoupon { status: c.status_at(now), ..c.clone() })
                .filter(|c| status.is_none_or(|s| c.status == s))
                .collect();
            want.sort_by(|a, b| b.claimed_at.cmp(&a.claimed_at).then(b.id.cmp(&a.id)));
            for p in pages() {
                let got = store.held_coupons(user, status, now, p).await.unwrap();
                assert_eq!(got, p.page_from_iter(want.clone().into_iter()), "{user:?} {status:?} {p:?}");
            }
        }
        let mine: Vec<UserCoupon> = every.iter().filter(|c| c.user == user).cloned().collect();
        assert_eq!(store.user_coupons(user).await.unwrap(), mine);
    }
    for template in [CouponTemplateId(2), CouponTemplateId(40)] {
        let want: Vec<UserCoupon> = every.iter().filter(|c| c.template == template).cloned().collect();
        assert_eq!(store.coupons_of_template(template).await.unwrap(), want);
        for p in pages() {
            let got = store.template_claims(template, p).await.unwrap();
            assert_eq!(got, p.page_from_iter(want.clone().into_iter()));
        }
    }
    let templates = store.templates().await.unwrap();
    for p in pages() {
        assert_eq!(store.list_templates(p).await.unwrap(), p.page_from_iter(templates.clone().into_iter()));
    }
}

#[tokio::test]
async fn the_ledger_pages_newest_first_per_user_and_source() {
    let store = MemoryStore::new();
    let sources = [PointsSource::OrderReward, PointsSource::AdminAdjustment, PointsSource::RefundReturn];
    let mut written = Vec::new();
    for batch in 0..10u64 {
        let mut writes = Vec::new();
        for k in 0..30u64 {
            let i = batch * 30 + k;
            let entry = LedgerEntry {
                id: LedgerEntryId(1000 - i),
                user: UserId(1 + i % 3),
                source: sources[(i % 3 / 2 + i % 2) as usize % 3],
                action: PointsAction::Earn,
                reference: i,
                points: 1 + i as i64,
                balance_delta: 0,
                frozen_delta: 0,
                balance_after: 0,
                remark: String::new(),
                at: time(i),
            };
            writes.push(Write::Points(PointsWrite::Post(entry)));
        }
        store.apply(writes).await.unwrap();
    }
    for user in [UserId(1), UserId(2), UserId(3)] {
        let ledger = store.ledger(user).await.unwrap();
        written.extend(ledger.clone());
        assert!(ledger.windows(2).all(|w| w[0].reference < w[1].reference), "oldest first");
        for source in [None, Some(PointsSource::OrderReward), Some(PointsSource::RefundReturn)] {
            let want: Vec<LedgerEntry> =
                ledger.iter().rev().filter(|e| source.is_none_or(|s| e.source == s)).cloned().collect();
            for p in pages() {
                let got = store.ledger_page(user, source, p).await.unwrap();
                assert_eq!(got, p.page_from_iter(want.clone().into_iter()), "{user:?} {source:?} {p:?}");
            }
        }
    }
    assert_eq!(written.len(), 300);
    assert!(store.ledger_page(UserId(9), None, PageRequest::FIRST).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn users_page_newest_first_with_every_filter() {
    let store = MemoryStore::new();
    for i in 1..=120u64 {
        let role = [Role::Customer, Role::Merchant, Role::Admin][(i % 3) as usize];
        let user = User {
            id: UserId(i),
            username: format!("user_{i}"),
            phone: (i % 2 == 0).then(|| format!("138{i:08}")),
            email: (i % 5 == 0).then(|| format!("U{i}@Example.com")),
            nickname: format!("买家{}", i % 11),
            avatar: None,
            wechat_openid: None,
            password_hash: String::new(),
            role,
            merchant: None,
            status: if i % 7 == 0 { UserStatus::Frozen } else { UserStatus::Active },
            created_at: time(i),
            version: 0,
        };
        store.insert_user(user, &[]).await.unwrap();
    }
    let users = store.users().await.unwrap();
    for role in [None, Some(Role::Merchant)] {
        for status in [None, Some(UserStatus::Frozen)] {
            for keyword in [None, Some("EXAMPLE"), Some("买家3"), Some("1380000001"), Some("nobody")] {
                let f = UserFilter { role, status, keyword: keyword.map(str::to_owned) };
                let want: Vec<User> = users.iter().rev().filter(|u| f.admits(u)).cloned().collect();
                for p in pages() {
                    let got = store.list_users(&f, p).await.unwrap();
                    assert_eq!(got, p.page_from_iter(want.clone().into_iter()), "{f:?} {p:?}");
                }
            }
        }
    }
}
