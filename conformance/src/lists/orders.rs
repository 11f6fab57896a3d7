//! Order, after-sales and customer pages (`OrderStore::list_orders`,
//! `OrderStore::customer_stats`, `AfterSalesStore::list_after_sales`) over
//! hand-made orders and cases: newest first by creation time, then id (two
//! orders and two cases share a creation time; one of each has the highest
//! id yet the earliest time), against `OrderFilter::admits`,
//! `AfterSaleFilter::admits` and `CustomerStats::of`.

use chrono::{DateTime, Duration, Utc};
use mallkit_core::after_sales::{
    AfterSale, AfterSaleAction, AfterSaleFilter, AfterSaleKind, AfterSaleLine, AfterSaleLog, AfterSaleStatus,
};
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::ids::{AfterSaleId, CategoryId, CheckoutId, MerchantId, OrderId, ProductId, SkuId, UserId};
use mallkit_core::money::Money;
use mallkit_core::order::{
    Actor, CustomerStats, Order, OrderFilter, OrderLine, OrderStatus, Shipment, ShippingAddress, StatusChange,
};
use mallkit_core::storage::{AfterSaleWrite, CatalogWrite, OrderWrite, Store, Write};

use super::{at, m, pages_equal};

/// Buyers with orders; 104 has none.
const BUYERS: [u64; 4] = [101, 102, 103, 105];
const NO_ORDERS: u64 = 104;
const MERCHANTS: [u64; 3] = [1, 2, 3];
const STATUSES: [OrderStatus; 6] = [
    OrderStatus::PendingPayment,
    OrderStatus::AwaitingShipment,
    OrderStatus::Shipped,
    OrderStatus::Completed,
    OrderStatus::Cancelled,
    OrderStatus::Closed,
];
const CASE_STATUSES: [AfterSaleStatus; 8] = [
    AfterSaleStatus::Requested,
    AfterSaleStatus::Approved,
    AfterSaleStatus::Rejected,
    AfterSaleStatus::AwaitingReturn,
    AfterSaleStatus::Received,
    AfterSaleStatus::Refunded,
    AfterSaleStatus::Reshipped,
    AfterSaleStatus::Cancelled,
];

/// The unit price of merchant `merchant`'s one SKU (its id is the merchant's).
fn unit_price(merchant: u64) -> Money {
    match merchant {
        1 => m("299.00"),
        2 => m("1499.00"),
        _ => m("39.90"),
    }
}

/// A store with one category, the three merchants and one product and SKU each.
async fn catalog<S: Store>(store: &S) {
    let mut writes = vec![Write::Catalog(CatalogWrite::PutCategory(Category {
        id: CategoryId(1),
        parent: None,
        name: "数码".into(),
        sort: 0,
    }))];
    for (id, name, product) in [
        (1, "小米官方旗舰店", "小米 Buds 4 Pro"),
        (2, "华为官方旗舰店", "华为 Watch GT 4"),
        (3, "绿联配件店", "绿联 数据线 1m"),
    ] {
        writes.push(Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(id), name: name.into() })));
        writes.push(Write::Catalog(CatalogWrite::PutProduct(Product {
            id: ProductId(id),
            merchant: MerchantId(id),
            category: CategoryId(1),
            name: product.into(),
            status: ProductStatus::OnSale,
        })));
        writes.push(Write::Catalog(CatalogWrite::PutSku(Sku {
            id: SkuId(id),
            product: ProductId(id),
            attributes: Default::default(),
            price: unit_price(id),
            original_price: None,
            weight_grams: Some(200),
            stock: Stock { available: 1000, reserved: 0, sold: 0 },
        })));
    }
    store.apply(writes).await.expect("catalog");
}

/// An order of `quantity` units from `merchant`'s SKU, created at `created`,
/// in `status`; `paid` sets the payment time, `refunded` the refunds (at most
/// the goods).
#[allow(clippy::too_many_arguments)]
fn order(
    id: u64,
    user: u64,
    merchant: u64,
    status: OrderStatus,
    created: DateTime<Utc>,
    quantity: u32,
    paid: bool,
    refunded: Money,
) -> Order {
    let price = unit_price(merchant);
    let subtotal = price.times(quantity);
    let shipping_fee = if subtotal >= m("99.00") { Money::ZERO } else { m("10.00") };
    let payable = subtotal + shipping_fee;
    let refunded_amount = refunded.min(subtotal);
    let shipped = matches!(status, OrderStatus::Shipped | OrderStatus::Completed);
    let ended = matches!(status, OrderStatus::Cancelled | OrderStatus::Closed);
    let completed = status == OrderStatus::Completed;
    let mut history = vec![StatusChange {
        from: None,
        to: OrderStatus::PendingPayment,
        actor: Actor::Buyer(UserId(user)),
        remark: "提交订单".into(),
        at: created,
    }];
    if status != OrderStatus::PendingPayment {
        history.push(StatusChange {
            from: Some(OrderStatus::PendingPayment),
            to: status,
            actor: Actor::System,
            remark: "状态变更".into(),
            at: created + Duration::minutes(5),
        });
    }
    Order {
        id: OrderId(id),
        number: format!("ORD20261125{id:06}"),
        checkout: CheckoutId(id),
        user: UserId(user),
        merchant: MerchantId(merchant),
        status,
        lines: vec![OrderLine {
            line_no: 1,
            sku: SkuId(merchant),
            product: ProductId(merchant),
            name: format!("商品{merchant}"),
            quantity,
            list_unit_price: price,
            unit_price: price,
            subtotal,
            coupon_discount: Money::ZERO,
            points_used: 0,
            points_deduction: Money::ZERO,
            payable: subtotal,
            after_sales_quantity: 0,
            refund_claimed_quantity: 0,
            refunded_quantity: if refunded_amount == subtotal { quantity } else { 0 },
            refunded_amount,
            points_returned: 0,
        }],
        goods_subtotal: subtotal,
        coupon_discount: Money::ZERO,
        points_used: 0,
        points_deduction: Money::ZERO,
        shipping_fee,
        payable,
        coupons: vec![],
        remark: if id.is_multiple_of(3) { "请尽快发货".into() } else { String::new() },
        created_at: created,
        pay_deadline: created + Duration::minutes(30),
        paid_at: paid.then(|| created + Duration::minutes(2)),
        payment: None,
        shipment: shipped.then(|| Shipment {
            carrier: "顺丰".into(),
            tracking_no: format!("SF{id}"),
            at: created + Duration::days(1),
        }),
        auto_confirm_at: (status == OrderStatus::Shipped).then(|| created + Duration::days(11)),
        completed_at: completed.then(|| created + Duration::days(3)),
        ended_at: ended.then(|| created + Duration::minutes(30)),
        points_earned: if completed { payable.fen() / 100 } else { 0 },
        points_earned_on: if completed { payable } else { Money::ZERO },
        points_reversed: 0,
        refunded_total: refunded,
        shipping_refunded: refunded == payable && !shipping_fee.is_zero(),
        shipping_address: (id.is_multiple_of(2)).then(|| ShippingAddress {
            receiver: "王芳".into(),
            phone: "13800138000".into(),
            province: "浙江省".into(),
            city: "杭州市".into(),
            district: "西湖区".into(),
            detail: format!("文三路{id}号"),
            postal_code: Some("310000".into()),
        }),
        history,
        version: 0,
    }
}

/// Thirty orders of four buyers at three merchants in every status: paid,
/// unpaid, refunded in part and in full; created 37 minutes apart in id
/// order, except 5029 and 5030 (same buyer, merchant and time); with
/// `late_id` also 5031, the highest id yet the earliest of all (as when
/// several processes hand out ids).
fn orders(late_id: bool) -> Vec<Order> {
    let mut orders: Vec<Order> = (0..28u64)
        .map(|i| {
            let status = STATUSES[(i as usize * 5) % 6];
            let (user, merchant, quantity) =
                (BUYERS[(i as usize * 3) % 4], MERCHANTS[i as usize % 3], 1 + i as u32 % 3);
            let paid = match status {
                OrderStatus::PendingPayment => false,
                // cancelled after payment (2, 14, 26) or before (8, 20); closed by refunds (1, 13, 25) or unpaid (7, 19)
                OrderStatus::Cancelled => i % 4 == 2,
                OrderStatus::Closed => i % 4 == 1,
                _ => true,
            };
            let mut o = order(5001 + i, user, merchant, status, at(i as i64 * 37), quantity, paid, Money::ZERO);
            if paid && matches!(status, OrderStatus::Cancelled | OrderStatus::Closed) {
                o = order(5001 + i, user, merchant, status, at(i as i64 * 37), quantity, true, o.payable);
            } else if status == OrderStatus::Completed && quantity > 1 {
                o = order(5001 + i, user, merchant, status, at(i as i64 * 37), quantity, true, unit_price(merchant));
            }
            o
        })
        .collect();
    orders.push(order(5029, 101, 2, OrderStatus::AwaitingShipment, at(2000), 1, true, Money::ZERO));
    orders.push(order(5030, 101, 2, OrderStatus::PendingPayment, at(2000), 2, false, Money::ZERO));
    if late_id {
        orders.push(order(5031, 102, 1, OrderStatus::Completed, at(-60), 3, true, Money::ZERO));
    }
    orders
}

/// Writes `orders` (in an order that is neither by id nor by time).
async fn write_orders<S: Store>(store: &S, orders: &[Order]) {
    let mut writes: Vec<Write> =
        orders.iter().rev().step_by(2).cloned().map(|v| Write::Order(OrderWrite::Insert(v))).collect();
    writes.extend(orders.iter().rev().skip(1).step_by(2).cloned().map(|v| Write::Order(OrderWrite::Insert(v))));
    store.apply(writes).await.expect("orders");
}

fn newest_first<T>(rows: &mut [T], key: impl Fn(&T) -> (DateTime<Utc>, u64)) {
    rows.sort_by_key(|r| std::cmp::Reverse(key(r)));
}

fn expected_orders(orders: &[Order], filter: &OrderFilter) -> Vec<Order> {
    let mut found: Vec<Order> = orders.iter().filter(|o| filter.admits(o)).cloned().collect();
    newest_first(&mut found, |o| (o.created_at, o.id.0));
    found
}

async fn order_walks<S: Store>(store: &S, orders: &[Order], filters: &[OrderFilter]) {
    for filter in filters {
        let expected = expected_orders(orders, filter);
        pages_equal(&format!("orders {filter:?}"), &expected, |p| store.list_orders(filter, p)).await;
    }
}

/// Filters with a buyer or a merchant: each alone, with a status, and both;
/// an unknown buyer and merchant.
fn user_and_merchant_filters() -> Vec<OrderFilter> {
    let mut filters = vec![];
    for user in BUYERS.into_iter().chain([NO_ORDERS, 999]) {
        filters.push(OrderFilter { user: Some(UserId(user)), ..OrderFilter::default() });
        for merchant in [1, 2] {
            filters.push(OrderFilter { user: Some(UserId(user)), merchant: Some(MerchantId(merchant)), status: None });
        }
        for status in [OrderStatus::PendingPayment, OrderStatus::Completed] {
            filters.push(OrderFilter { user: Some(UserId(user)), status: Some(status), ..OrderFilter::default() });
        }
    }
    for merchant in MERCHANTS.into_iter().chain([9]) {
        filters.push(OrderFilter { merchant: Some(MerchantId(merchant)), ..OrderFilter::default() });
        for status in STATUSES {
            filters.push(OrderFilter {
                merchant: Some(MerchantId(merchant)),
                status: Some(status),
                ..OrderFilter::default()
            });
        }
    }
    filters
}

/// Orders by buyer and by merchant (each alone, with a status, and both),
/// newest first, page by page; an unknown buyer or merchant has none.
pub async fn order_pages_by_user_and_merchant_newest_first<S: Store + 'static>(store: S) {
    catalog(&store).await;
    let orders = orders(false);
    write_orders(&store, &orders).await;
    order_walks(&store, &orders, &user_and_merchant_filters()).await;
    // the tie the data was built for: same time, higher id first
    let of_101 = expected_orders(&orders, &OrderFilter { user: Some(UserId(101)), ..OrderFilter::default() });
    assert_eq!(of_101.iter().take(2).map(|o| o.id.0).collect::<Vec<_>>(), vec![5030, 5029]);
}

/// Orders by status alone and every order (an admin's list), and every
/// list when the highest id is the earliest order (time decides, not the
/// id), newest first, page by page.
pub async fn order_pages_by_status_alone_unfiltered_and_by_time_over_ids<S: Store + 'static>(store: S) {
    catalog(&store).await;
    let orders = orders(true);
    write_orders(&store, &orders).await;
    let mut filters = vec![OrderFilter::default()];
    filters.extend(STATUSES.map(|s| OrderFilter { status: Some(s), ..OrderFilter::default() }));
    filters.extend(user_and_merchant_filters());
    order_walks(&store, &orders, &filters).await;
    let of_1 = expected_orders(&orders, &OrderFilter { merchant: Some(MerchantId(1)), ..OrderFilter::default() });
    assert_eq!(of_1.last().map(|o| o.id.0), Some(5031));
}

/// Sixteen cases on the paid orders, created after them in id order except
/// 7015 and 7016 (one order, one time), in every status; with `late_id`
/// also 7017, the highest id yet the earliest.
fn cases(orders: &[Order], late_id: bool) -> Vec<AfterSale> {
    let paid: Vec<&Order> = orders.iter().filter(|o| o.paid_at.is_some()).collect();
    let mut cases: Vec<AfterSale> = (0..14usize)
        .map(|k| {
            let o = paid[k % paid.len()];
            case(7001 + k as u64, o, CASE_STATUSES[k % 8], at(3000 + k as i64 * 13), k)
        })
        .collect();
    let o = paid[3];
    cases.push(case(7015, o, AfterSaleStatus::Rejected, at(4000), 15));
    cases.push(case(7016, o, AfterSaleStatus::Requested, at(4000), 16));
    if late_id {
        cases.push(case(7017, paid[5], AfterSaleStatus::Refunded, at(2900), 17));
    }
    cases
}

fn case(id: u64, order: &Order, status: AfterSaleStatus, created: DateTime<Utc>, k: usize) -> AfterSale {
    use AfterSaleStatus as S;
    let kind = match status {
        S::Reshipped => AfterSaleKind::Exchange,
        S::AwaitingReturn | S::Received if k.is_multiple_of(2) => AfterSaleKind::Exchange,
        S::AwaitingReturn | S::Received => AfterSaleKind::ReturnAndRefund,
        S::Refunded if k.is_multiple_of(2) => AfterSaleKind::RefundOnly,
        S::Refunded => AfterSaleKind::ReturnAndRefund,
        _ => [AfterSaleKind::RefundOnly, AfterSaleKind::ReturnAndRefund, AfterSaleKind::Exchange][k % 3],
    };
    let amount = if kind.refunds() { order.lines[0].unit_price } else { Money::ZERO };
    let mut logs = vec![AfterSaleLog {
        action: AfterSaleAction::Apply,
        operator: Actor::Buyer(order.user),
        status: S::Requested,
        at: created,
        note: "尺码不合适".into(),
    }];
    let step = match status {
        S::Requested => None,
        S::Approved | S::AwaitingReturn => Some(AfterSaleAction::Approve),
        S::Rejected => Some(AfterSaleAction::Reject),
        S::Received => Some(AfterSaleAction::Receive),
        S::Refunded => Some(AfterSaleAction::Refund),
        S::Reshipped => Some(AfterSaleAction::Reship),
        S::Cancelled => Some(AfterSaleAction::Cancel),
    };
    if let Some(action) = step {
        let operator =
            if action == AfterSaleAction::Cancel { Actor::Buyer(order.user) } else { Actor::Merchant(order.merchant) };
        logs.push(AfterSaleLog { action, operator, status, at: created + Duration::hours(2), note: "处理".into() });
    }
    AfterSale {
        id: AfterSaleId(id),
        number: format!("AS20261125{id:06}"),
        order: order.id,
        user: order.user,
        merchant: order.merchant,
        kind,
        status,
        lines: vec![AfterSaleLine {
            line_no: 1,
            quantity: 1,
            amount,
            refunded: if status == S::Refunded { amount } else { Money::ZERO },
        }],
        reason: "尺码不合适".into(),
        goods_amount: amount,
        clawback: Money::ZERO,
        clawback_by_coupon: vec![],
        refund_amount: amount,
        shipping_refund: Money::ZERO,
        points_returned: 0,
        points_reversed: 0,
        return_tracking_no: matches!(status, S::AwaitingReturn | S::Received).then(|| format!("YT{id}")),
        created_at: created,
        logs,
        version: 0,
    }
}

async fn write_cases<S: Store>(store: &S, orders: &[Order], late_id: bool) -> Vec<AfterSale> {
    catalog(store).await;
    write_orders(store, orders).await;
    let cases = cases(orders, late_id);
    let writes: Vec<Write> = cases.iter().rev().cloned().map(|v| Write::AfterSale(AfterSaleWrite::Insert(v))).collect();
    store.apply(writes).await.expect("cases");
    cases
}

async fn case_walks<S: Store>(store: &S, cases: &[AfterSale], filters: &[AfterSaleFilter]) {
    for filter in filters {
        let mut expected: Vec<AfterSale> = cases.iter().filter(|c| filter.admits(c)).cloned().collect();
        newest_first(&mut expected, |c| (c.created_at, c.id.0));
        pages_equal(&format!("after-sales {filter:?}"), &expected, |p| store.list_after_sales(filter, p)).await;
    }
}

/// Filters with an order (each, and one with a status) or a merchant
/// (alone, with a buyer, with a status; an unknown one).
fn order_and_merchant_filters(orders: &[Order], cases: &[AfterSale]) -> Vec<AfterSaleFilter> {
    let mut filters = vec![];
    for o in orders {
        filters.push(AfterSaleFilter { order: Some(o.id), ..AfterSaleFilter::default() });
    }
    filters.push(AfterSaleFilter {
        order: Some(cases[14].order),
        status: Some(AfterSaleStatus::Requested),
        ..AfterSaleFilter::default()
    });
    for merchant in MERCHANTS.into_iter().chain([9]) {
        let merchant = Some(MerchantId(merchant));
        filters.push(AfterSaleFilter { merchant, ..AfterSaleFilter::default() });
        for user in BUYERS {
            filters.push(AfterSaleFilter { merchant, user: Some(UserId(user)), ..AfterSaleFilter::default() });
        }
        for status in CASE_STATUSES {
            filters.push(AfterSaleFilter { merchant, status: Some(status), ..AfterSaleFilter::default() });
        }
    }
    filters
}

/// Cases by order (one with two cases at the same time, one without) and
/// by merchant (alone, with a buyer, with a status), newest first, page by
/// page.
pub async fn after_sale_pages_by_order_merchant_user_and_status<S: Store + 'static>(store: S) {
    let orders = orders(false);
    let cases = write_cases(&store, &orders, false).await;
    case_walks(&store, &cases, &order_and_merchant_filters(&orders, &cases)).await;
    let same_order: Vec<u64> = cases.iter().filter(|c| c.order == cases[14].order).map(|c| c.id.0).collect();
    assert!(same_order.len() >= 2, "the data holds an order with several cases");
}

/// Cases by buyer alone, by status alone, both, and every case (the
/// platform's queue), and every list when the highest id is the earliest
/// case (time decides, not the id), newest first, page by page.
pub async fn after_sale_pages_by_user_status_alone_and_by_time_over_ids<S: Store + 'static>(store: S) {
    let orders = orders(true);
    let cases = write_cases(&store, &orders, true).await;
    let mut filters = order_and_merchant_filters(&orders, &cases);
    filters.push(AfterSaleFilter::default());
    for user in BUYERS.into_iter().chain([NO_ORDERS]) {
        filters.push(AfterSaleFilter { user: Some(UserId(user)), ..AfterSaleFilter::default() });
        filters.push(AfterSaleFilter {
            user: Some(UserId(user)),
            status: Some(AfterSaleStatus::Requested),
            ..AfterSaleFilter::default()
        });
    }
    filters.extend(CASE_STATUSES.map(|s| AfterSaleFilter { status: Some(s), ..AfterSaleFilter::default() }));
    case_walks(&store, &cases, &filters).await;
}

/// Each buyer's figures in the order asked (a buyer without orders and an
/// unknown one have zero figures): orders placed, paid and kept (payable
/// less refunds, nothing for unpaid orders), the latest order's time.
pub async fn customer_stats_aggregate_each_buyers_orders<S: Store + 'static>(store: S) {
    catalog(&store).await;
    let orders = orders(true);
    write_orders(&store, &orders).await;
    let stats = |u: u64| CustomerStats::of(UserId(u), orders.iter().filter(|o| o.user == UserId(u)));
    for asked in [vec![103, 101, NO_ORDERS, 102, 105], vec![NO_ORDERS], vec![105, 999], vec![]] {
        let users: Vec<UserId> = asked.iter().copied().map(UserId).collect();
        let expected: Vec<CustomerStats> = asked.iter().map(|&u| stats(u)).collect();
        assert_eq!(store.customer_stats(&users).await.expect("stats"), expected, "{asked:?}");
    }
    assert_eq!(
        stats(NO_ORDERS),
        CustomerStats { user: UserId(NO_ORDERS), orders: 0, spent: Money::ZERO, last_order_at: None }
    );
    // the data exercises the rule: unpaid orders and refunds count for nothing
    for u in BUYERS {
        let payable: Money = orders.iter().filter(|o| o.user == UserId(u)).map(|o| o.payable).sum();
        assert!(stats(u).spent < payable && stats(u).orders > 0, "buyer {u}");
    }
    assert_eq!(stats(101).last_order_at, Some(at(2000)));
}
