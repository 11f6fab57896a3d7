//! Random command sequences against `Mall` on the in-memory store (DESIGN
//! §4–§8): checkouts, payments, cancels, shipping, receipt, time passing with
//! the schedulers, after-sales in every kind and step, points adjustments and
//! coupon claims, by the right and the wrong parties. Refusals are expected;
//! panics, storage errors and conflicts (single-threaded) are not, and after
//! every command the stock, points, money and coupon invariants must hold.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use mallkit_core::after_sales::AfterSaleRequestLine;
use mallkit_core::after_sales::{self, AfterSale, AfterSaleAction, AfterSaleKind, AfterSaleStatus};
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::checkout::{CheckoutItems, CheckoutRequest};
use mallkit_core::clock::{Clock, ManualClock, SequentialIds};
use mallkit_core::coupon::{
    CouponKind, CouponScope, CouponTemplate, StackLayer, TemplateStatus, UserCouponStatus, Validity,
};
use mallkit_core::ids::{CategoryId, CouponTemplateId, MerchantId, OrderId, PaymentId, ProductId, SkuId, UserId};
use mallkit_core::inventory::StockError;
use mallkit_core::order::{Actor, Order, OrderStatus};
use mallkit_core::payment::{PaymentChannel, SimulatedProvider};
use mallkit_core::points::{PointsAction, Tier};
use mallkit_core::pricing::{CouponChoice, PointsChoice, ShippingRule};
use mallkit_core::storage::{AfterSalesStore, PaymentStore, PointsStore};
use mallkit_core::{Mall, MallError, Money, Policy, Rate};
use mallkit_storage_memory::MemoryStore;
use proptest::prelude::*;
use proptest::sample::select;

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("valid time")
}

const M1: MerchantId = MerchantId(1);
const M2: MerchantId = MerchantId(2);
const ADMIN: UserId = UserId(900);
const BUYERS: [UserId; 3] = [UserId(1), UserId(2), UserId(3)];
/// (sku, product, price, initial stock); products 1 and 2 are M1's, 3 is M2's.
const SKUS: [(u64, u64, &str, u32); 4] =
    [(1, 1, "99.00", 10), (2, 2, "255.00", 5), (3, 3, "19.90", 20), (4, 3, "1200.00", 8)];
const TEMPLATES: u64 = 5;

struct World {
    mall: Mall<MemoryStore>,
    clock: Arc<ManualClock>,
    provider: Arc<SimulatedProvider>,
}

/// A template; `limits` is (validity, total limit, per-user limit).
fn template(
    id: u64,
    title: &str,
    kind: CouponKind,
    scope: CouponScope,
    layer: Option<StackLayer>,
    (validity, total_limit, per_user_limit): (Validity, Option<u32>, u32),
) -> CouponTemplate {
    CouponTemplate {
        id: CouponTemplateId(id),
        title: title.into(),
        kind,
        scope,
        validity,
        total_limit,
        per_user_limit,
        issued: 0,
        used: 0,
        status: TemplateStatus::Enabled,
        layer,
    }
}

async fn world(points: &[i64], claims: &[(usize, u64)]) -> World {
    let clock = Arc::new(ManualClock::new(start()));
    let provider = Arc::new(SimulatedProvider::instant());
    let mut policy = Policy::default();
    policy.pricing.shipping = ShippingRule { flat_fee: m("10.00"), free_over: Some(m("299.00")), by_weight: None };
    let mall = Mall::new(
        MemoryStore::new(),
        clock.clone(),
        Arc::new(SequentialIds::starting_at(1_000)),
        provider.clone(),
        policy,
    );
    let category = |id, parent, name: &str| Category { id: CategoryId(id), parent, name: name.into(), sort: 0 };
    mall.save_category(category(1, None, "家居")).await.expect("category");
    mall.save_category(category(2, Some(CategoryId(1)), "瓷砖")).await.expect("category");
    for (id, name) in [(M1, "LQZC"), (M2, "小店")] {
        mall.save_merchant(Merchant { id, name: name.into() }).await.expect("merchant");
    }
    for (id, merchant, category) in [(1, M1, 2), (2, M1, 1), (3, M2, 2)] {
        mall.save_product(Product {
            id: ProductId(id),
            merchant,
            category: CategoryId(category),
            name: format!("product {id}"),
            status: ProductStatus::OnSale,
        })
        .await
        .expect("product");
    }
    for (sku, product, price, stock) in SKUS {
        mall.save_sku(Sku {
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
    let tier = |level, name: &str, min_points, multiplier, free_shipping, discount: Option<u32>| Tier {
        level,
        name: name.into(),
        min_points,
        points_multiplier: Rate::from_bp(multiplier),
        free_shipping,
        member_discount: discount.map(Rate::from_bp),
        benefits: Vec::new(),
    };
    for t in [
        tier(0, "普通会员", 0, 10_000, false, None),
        tier(1, "银卡会员", 300, 15_000, false, Some(9_500)),
        tier(2, "金卡会员", 2_000, 20_000, true, Some(9_000)),
    ] {
        mall.save_tier(t).await.expect("tier");
    }
    let days = |days| Validity::DaysAfterClaim { days };
    for t in [
        template(
            1,
            "满299减30",
            CouponKind::Threshold { threshold: m("299"), amount: m("30") },
            CouponScope::All,
            None,
            (days(30), Some(4), 2),
        ),
        template(
            2,
            "店铺满100减10",
            CouponKind::Threshold { threshold: m("100"), amount: m("10") },
            CouponScope::Merchant(M1),
            Some(StackLayer::Merchant),
            (days(7), Some(3), 1),
        ),
        template(
            3,
            "平台9折",
            CouponKind::Percentage { rate: Rate::from_bp(9_000), threshold: Money::ZERO, max_discount: Some(m("50")) },
            CouponScope::All,
            Some(StackLayer::Platform),
            (Validity::Window { from: start() - Duration::days(1), to: start() + Duration::days(2) }, None, 2),
        ),
        template(
            4,
            "小店无门槛5元",
            CouponKind::Cash { amount: m("5") },
            CouponScope::Skus(vec![SkuId(3)]),
            Some(StackLayer::Platform),
            (days(1), Some(5), 3),
        ),
        template(
            5,
            "瓷砖满1000减100",
            CouponKind::Threshold { threshold: m("1000"), amount: m("100") },
            CouponScope::Categories(vec![CategoryId(2)]),
            Some(StackLayer::Merchant),
            (days(30), Some(2), 1),
        ),
    ] {
        mall.save_template(t).await.expect("template");
    }
    for (user, points) in BUYERS.iter().zip(points) {
        if *points != 0 {
            mall.adjust_points(*user, *points, "开户赠送").await.expect("starting points");
        }
    }
    for &(user, t) in claims {
        // Limits make some of these fail; that is part of the set-up.
        let _ = mall.claim_coupon(BUYERS[user], CouponTemplateId(t)).await;
    }
    World { mall, clock, provider }
}

/// Who performs a command: the right party, an admin, or someone else.
#[derive(Debug, Clone, Copy)]
enum Who {
    Right,
    Admin,
    Wrong,
}

/// Which order or case a command acts on: mostly one in a state where the
/// command applies (`targeted`), otherwise any, so that illegal steps are
/// tried too.
#[derive(Debug, Clone, Copy)]
struct Pick {
    index: u32,
    targeted: bool,
}

/// Element `index mod len` of a non-empty slice.
fn nth<T>(all: &[T], index: u32) -> Option<&T> {
    (!all.is_empty()).then(|| &all[index as usize % all.len()])
}

impl Pick {
    fn among<'a, T>(&self, all: &'a [T], fits: impl Fn(&T) -> bool) -> Option<&'a T> {
        let fitting: Vec<&T> = all.iter().filter(|x| fits(x)).collect();
        match nth(&fitting, self.index) {
            Some(x) if self.targeted => Some(*x),
            _ => nth(all, self.index),
        }
    }
}

fn pick() -> impl Strategy<Value = Pick> {
    (any::<u32>(), prop::bool::weighted(0.8)).prop_map(|(index, targeted)| Pick { index, targeted })
}

#[derive(Debug, Clone)]
enum PointsPick {
    None,
    Max,
    Exactly(i64),
}

#[derive(Debug, Clone)]
enum Cmd {
    Checkout {
        user: usize,
        lines: Vec<(usize, u32)>,
        best: bool,
        points: PointsPick,
        from_cart: bool,
    },
    Pay {
        order: Pick,
        whole_checkout: bool,
        who: Who,
    },
    Cancel {
        order: Pick,
        who: Who,
    },
    Ship {
        order: Pick,
        who: Who,
    },
    Confirm {
        order: Pick,
        who: Who,
    },
    TimePasses {
        minutes: i64,
    },
    ApplyAfterSale {
        order: Pick,
        kind: AfterSaleKind,
        lines: Vec<(u32, u32, Option<i64>)>,
        who: Who,
    },
    Step {
        case: Pick,
        action: AfterSaleAction,
        who: Who,
    },
    Refund {
        case: Pick,
        who: Who,
    },
    /// The next happy-path step of a live order: pay, ship or confirm.
    AdvanceOrder {
        order: u32,
    },
    /// The next happy-path step of an open case: approve, ship back, receive, refund or reship.
    AdvanceCase {
        case: u32,
    },
    AdjustPoints {
        user: usize,
        points: i64,
    },
    Claim {
        user: usize,
        template: u64,
    },
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![8 => Just(Who::Right), 1 => Just(Who::Admin), 1 => Just(Who::Wrong)]
}

fn command() -> impl Strategy<Value = Cmd> {
    // Distinct SKUs, and now and then the first one again (refused as a duplicate line).
    let lines = (
        prop::collection::btree_map(0usize..SKUS.len(), prop_oneof![4 => 1u32..=3, 1 => 4u32..=12], 1..=3),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(lines, duplicate)| {
            let mut lines: Vec<(usize, u32)> = lines.into_iter().collect();
            if duplicate {
                lines.push(lines[0]);
            }
            lines
        });
    let points = prop_oneof![
        4 => Just(PointsPick::None),
        4 => Just(PointsPick::Max),
        1 => (0i64..=3_000).prop_map(PointsPick::Exactly),
        1 => (0i64..=60_000).prop_map(PointsPick::Exactly),
    ];
    let kind = prop_oneof![
        Just(AfterSaleKind::RefundOnly),
        Just(AfterSaleKind::ReturnAndRefund),
        Just(AfterSaleKind::Exchange)
    ];
    // Distinct line numbers (an order has one or two lines; 3 rarely exists),
    // and now and then the first line again (refused as repeated).
    let case_lines = (
        prop::collection::btree_map(
            prop_oneof![8 => Just(1u32), 2 => Just(2u32), 1 => Just(3u32)],
            (prop_oneof![6 => Just(1u32), 3 => 2u32..=3, 1 => 4u32..=13], prop::option::weighted(0.15, 0i64..=200_000)),
            1..=2,
        ),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(lines, repeat)| {
            let mut lines: Vec<(u32, u32, Option<i64>)> = lines.into_iter().map(|(n, (q, a))| (n, q, a)).collect();
            if repeat {
                lines.push(lines[0]);
            }
            lines
        });
    let step = |action| (pick(), who()).prop_map(move |(case, who)| Cmd::Step { case, action, who });
    prop_oneof![
        8 => (0usize..3, lines, prop::bool::weighted(0.8), points, prop::bool::weighted(0.15))
            .prop_map(|(user, lines, best, points, from_cart)| Cmd::Checkout { user, lines, best, points, from_cart }),
        7 => (pick(), prop::bool::weighted(0.3), who())
            .prop_map(|(order, whole_checkout, who)| Cmd::Pay { order, whole_checkout, who }),
        2 => (pick(), who()).prop_map(|(order, who)| Cmd::Cancel { order, who }),
        6 => (pick(), who()).prop_map(|(order, who)| Cmd::Ship { order, who }),
        3 => (pick(), who()).prop_map(|(order, who)| Cmd::Confirm { order, who }),
        1 => select(&[5i64, 31, 60 * 24 * 3, 60 * 24 * 11, 60 * 24 * 16][..])
            .prop_map(|minutes| Cmd::TimePasses { minutes }),
        6 => (pick(), kind, case_lines, who())
            .prop_map(|(order, kind, lines, who)| Cmd::ApplyAfterSale { order, kind, lines, who }),
        4 => step(AfterSaleAction::Approve),
        1 => step(AfterSaleAction::Reject),
        3 => step(AfterSaleAction::ShipBack),
        3 => step(AfterSaleAction::Receive),
        1 => step(AfterSaleAction::Reship),
        1 => step(AfterSaleAction::Cancel),
        4 => (pick(), who()).prop_map(|(case, who)| Cmd::Refund { case, who }),
        5 => any::<u32>().prop_map(|order| Cmd::AdvanceOrder { order }),
        6 => any::<u32>().prop_map(|case| Cmd::AdvanceCase { case }),
        1 => (0usize..3, prop_oneof![-3_000i64..=-1, 1i64..=3_000])
            .prop_map(|(user, points)| Cmd::AdjustPoints { user, points }),
        1 => (0usize..3, 1..=TEMPLATES).prop_map(|(user, template)| Cmd::Claim { user, template }),
    ]
}

fn other_buyer(user: UserId) -> UserId {
    BUYERS.iter().copied().find(|u| *u != user).expect("three buyers")
}

fn other_merchant(merchant: MerchantId) -> MerchantId {
    if merchant == M1 { M2 } else { M1 }
}

async fn all_cases(w: &World) -> Vec<AfterSale> {
    let mut cases = Vec::new();
    for o in w.mall.store().all_orders() {
        cases.extend(w.mall.store().after_sales_of_order(o.id).await.expect("read cases"));
    }
    cases.sort_by_key(|c| c.id);
    cases
}

/// Runs one command; `Ok(false)` when there was nothing to run it on.
async fn run(w: &World, cmd: &Cmd) -> Result<bool, MallError> {
    let mall = &w.mall;
    let orders = mall.store().all_orders();
    let buyer = |o: &Order, who: Who| match who {
        Who::Right | Who::Admin => o.user,
        Who::Wrong => other_buyer(o.user),
    };
    match cmd {
        Cmd::Checkout { user, lines, best, points, from_cart } => {
            let user = BUYERS[*user];
            let lines: Vec<(SkuId, u32)> = lines.iter().map(|&(s, q)| (SkuId(SKUS[s].0), q)).collect();
            let items = if *from_cart {
                for (sku, q) in &lines {
                    mall.add_to_cart(user, *sku, *q).await?;
                }
                CheckoutItems::Cart
            } else {
                CheckoutItems::Lines { lines }
            };
            let points = match points {
                PointsPick::None => PointsChoice::None,
                PointsPick::Max => PointsChoice::Max,
                PointsPick::Exactly(p) => PointsChoice::Exactly(*p),
            };
            let request = CheckoutRequest {
                items,
                coupons: if *best { CouponChoice::Best } else { CouponChoice::None },
                points,
                remark: String::new(),
            };
            let preview = mall.preview(user, &request).await;
            let checkout = mall.checkout(user, &request).await;
            // Preview and checkout run the same function on the same state.
            match (&preview, &checkout) {
                (Ok(p), Ok(c)) => assert_eq!(p, &c.quote, "preview and checkout disagree"),
                (Err(p), Err(c)) => assert_eq!(p.kind(), c.kind(), "preview and checkout refuse differently"),
                (Ok(_), Err(MallError::Stock(StockError::Insufficient { .. }))) => {}
                (p, c) => panic!("preview {p:?} but checkout {c:?}"),
            }
            checkout.map(|_| true)
        }
        Cmd::Pay { order, whole_checkout, who } => {
            let Some(o) = order.among(&orders, |o| o.status == OrderStatus::PendingPayment) else { return Ok(false) };
            let ids: Vec<OrderId> = if *whole_checkout {
                orders.iter().filter(|x| x.checkout == o.checkout).map(|x| x.id).collect()
            } else {
                vec![o.id]
            };
            mall.pay(buyer(o, *who), &ids, PaymentChannel::Simulated).await.map(|_| true)
        }
        Cmd::Cancel { order, who } => {
            let cancellable =
                |o: &Order| matches!(o.status, OrderStatus::PendingPayment | OrderStatus::AwaitingShipment);
            let Some(o) = order.among(&orders, cancellable) else { return Ok(false) };
            let actor = match who {
                Who::Right => Actor::Buyer(o.user),
                Who::Admin => Actor::Admin(ADMIN),
                Who::Wrong => Actor::Merchant(o.merchant),
            };
            let result = mall.cancel_order(actor, o.id, "不想要了").await;
            // An unpaid order can always be cancelled by its buyer or an admin (DESIGN §6).
            if o.status == OrderStatus::PendingPayment && !matches!(who, Who::Wrong) {
                assert!(result.is_ok(), "cancelling unpaid order {} as {actor:?} failed: {result:?}", o.id);
            }
            result.map(|_| true)
        }
        Cmd::Ship { order, who } => {
            let Some(o) = order.among(&orders, |o| o.status == OrderStatus::AwaitingShipment) else { return Ok(false) };
            let actor = match who {
                Who::Right => Actor::Merchant(o.merchant),
                Who::Admin => Actor::Admin(ADMIN),
                Who::Wrong => Actor::Merchant(other_merchant(o.merchant)),
            };
            mall.ship(actor, o.id, "顺丰", "SF1001").await.map(|_| true)
        }
        Cmd::Confirm { order, who } => {
            let Some(o) = order.among(&orders, |o| o.status == OrderStatus::Shipped) else { return Ok(false) };
            mall.confirm_receipt(buyer(o, *who), o.id).await.map(|_| true)
        }
        Cmd::TimePasses { minutes } => {
            w.clock.advance(Duration::minutes(*minutes));
            // The schedulers only fail when storage does (their docs): any
            // refusal here means an order is stuck past its deadline.
            let closed = mall.close_expired_orders().await;
            assert!(closed.is_ok(), "close_expired_orders failed: {closed:?}");
            let confirmed = mall.auto_confirm_due().await;
            assert!(confirmed.is_ok(), "auto_confirm_due failed: {confirmed:?}");
            let now = w.clock.now();
            for o in mall.store().all_orders() {
                let open_case = all_cases(w).await.iter().any(|c| c.order == o.id && !c.status.is_final());
                assert!(
                    !(o.status == OrderStatus::PendingPayment && o.pay_deadline <= now),
                    "order {} still unpaid past its deadline after close_expired_orders",
                    o.id
                );
                assert!(
                    !(o.status == OrderStatus::Shipped && o.auto_confirm_at.is_some_and(|t| t <= now) && !open_case),
                    "order {} still shipped past auto-confirm with no open case",
                    o.id
                );
            }
            Ok(true)
        }
        Cmd::ApplyAfterSale { order, kind, lines, who } => {
            let fits = |o: &Order| match kind {
                AfterSaleKind::RefundOnly => o.status.is_paid(),
                _ => matches!(o.status, OrderStatus::Shipped | OrderStatus::Completed),
            };
            let Some(o) = order.among(&orders, fits) else { return Ok(false) };
            let request: Vec<AfterSaleRequestLine> = lines
                .iter()
                .map(|&(line_no, quantity, amount)| AfterSaleRequestLine {
                    line_no,
                    quantity,
                    amount: amount.map(Money::from_fen),
                })
                .collect();
            mall.apply_after_sale(buyer(o, *who), o.id, *kind, &request, "质量问题").await.map(|_| true)
        }
        Cmd::Step { case, action, who } => {
            let cases = all_cases(w).await;
            let applies = |c: &AfterSale| after_sales::next_status(c.kind, c.status, *action).is_some();
            let Some(c) = case.among(&cases, applies) else { return Ok(false) };
            let buyer_step = matches!(action, AfterSaleAction::ShipBack | AfterSaleAction::Cancel);
            let actor = match (who, buyer_step) {
                (Who::Right, true) => Actor::Buyer(c.user),
                (Who::Right, false) => Actor::Merchant(c.merchant),
                (Who::Admin, _) => Actor::Admin(ADMIN),
                (Who::Wrong, true) => Actor::Buyer(other_buyer(c.user)),
                (Who::Wrong, false) => Actor::Merchant(other_merchant(c.merchant)),
            };
            mall.after_sale_step(actor, c.id, *action, "SF2002").await.map(|_| true)
        }
        Cmd::Refund { case, who } => {
            let cases = all_cases(w).await;
            let refundable = |c: &AfterSale| match c.kind {
                AfterSaleKind::RefundOnly => c.status == AfterSaleStatus::Approved,
                _ => c.status == AfterSaleStatus::Received,
            };
            let Some(c) = case.among(&cases, refundable) else { return Ok(false) };
            let actor = match who {
                Who::Right => Actor::Merchant(c.merchant),
                Who::Admin => Actor::Admin(ADMIN),
                Who::Wrong => Actor::Buyer(c.user),
            };
            mall.refund_after_sale(actor, c.id).await.map(|_| true)
        }
        Cmd::AdvanceOrder { order } => {
            let live: Vec<&Order> = orders
                .iter()
                .filter(|o| {
                    matches!(
                        o.status,
                        OrderStatus::PendingPayment | OrderStatus::AwaitingShipment | OrderStatus::Shipped
                    )
                })
                .collect();
            let Some(&o) = nth(&live, *order) else { return Ok(false) };
            match o.status {
                OrderStatus::PendingPayment => mall.pay(o.user, &[o.id], PaymentChannel::Simulated).await.map(|_| true),
                OrderStatus::AwaitingShipment => {
                    mall.ship(Actor::Merchant(o.merchant), o.id, "顺丰", "SF1001").await.map(|_| true)
                }
                _ => mall.confirm_receipt(o.user, o.id).await.map(|_| true),
            }
        }
        Cmd::AdvanceCase { case } => {
            let cases: Vec<AfterSale> = all_cases(w).await.into_iter().filter(|c| !c.status.is_final()).collect();
            let Some(c) = nth(&cases, *case) else { return Ok(false) };
            let merchant = Actor::Merchant(c.merchant);
            let step = |actor, action| mall.after_sale_step(actor, c.id, action, "SF2002");
            match (c.kind, c.status) {
                (_, AfterSaleStatus::Requested) => step(merchant, AfterSaleAction::Approve).await,
                (AfterSaleKind::RefundOnly, AfterSaleStatus::Approved)
                | (AfterSaleKind::ReturnAndRefund, AfterSaleStatus::Received) => {
                    mall.refund_after_sale(merchant, c.id).await
                }
                (_, AfterSaleStatus::Approved) => step(Actor::Buyer(c.user), AfterSaleAction::ShipBack).await,
                (_, AfterSaleStatus::AwaitingReturn) => step(merchant, AfterSaleAction::Receive).await,
                _ => step(merchant, AfterSaleAction::Reship).await,
            }
            .map(|_| true)
        }
        Cmd::AdjustPoints { user, points } => mall.adjust_points(BUYERS[*user], *points, "调整").await.map(|_| true),
        Cmd::Claim { user, template } => {
            mall.claim_coupon(BUYERS[*user], CouponTemplateId(*template)).await.map(|_| true)
        }
    }
}

/// Every invariant of the whole store; `at` names the step for messages.
async fn check(w: &World, at: &str) -> Result<(), TestCaseError> {
    let store = w.mall.store();
    let orders = store.all_orders();

    // Stock: nothing lost or invented, and `reserved` is what unpaid orders hold.
    for sku in store.all_skus() {
        let initial = SKUS.iter().find(|s| s.0 == sku.id.0).map(|s| s.3).expect("known sku");
        let s = sku.stock;
        prop_assert_eq!(
            u64::from(s.available) + u64::from(s.reserved) + u64::from(s.sold),
            u64::from(initial),
            "{}: stock of {:?} is {:?}",
            at,
            sku.id,
            s
        );
        let held: u32 = orders
            .iter()
            .filter(|o| o.status == OrderStatus::PendingPayment)
            .flat_map(|o| &o.lines)
            .filter(|l| l.sku == sku.id)
            .map(|l| l.quantity)
            .sum();
        prop_assert_eq!(s.reserved, held, "{}: reserved units of {:?}", at, sku.id);
    }

    // Points: the ledger is the truth; each source applies once; frozen
    // points are what unpaid orders hold.
    let mut keys = HashSet::new();
    for user in BUYERS {
        let account = store.points_account(user).await.expect("account");
        let ledger = store.ledger(user).await.expect("ledger");
        let balance: i64 = ledger.iter().map(|e| e.balance_delta).sum();
        let frozen: i64 = ledger.iter().map(|e| e.frozen_delta).sum();
        prop_assert_eq!(account.balance + account.frozen, balance + frozen, "{}: {:?} vs its ledger", at, user);
        prop_assert_eq!(account.balance, balance, "{}: balance of {:?}", at, user);
        prop_assert_eq!(account.frozen, frozen, "{}: frozen of {:?}", at, user);
        prop_assert!(account.frozen >= 0, "{}: negative frozen {:?}", at, account);
        if let Some(last) = ledger.last() {
            prop_assert_eq!(last.balance_after, account.balance, "{}: balance_after of the last row", at);
        }
        for e in &ledger {
            prop_assert!(keys.insert(e.source_key()), "{}: ledger source applied twice: {:?}", at, e);
        }
        let held: i64 = orders
            .iter()
            .filter(|o| o.user == user && o.status == OrderStatus::PendingPayment)
            .map(|o| o.points_used)
            .sum();
        prop_assert_eq!(account.frozen, held, "{}: frozen points of {:?} vs unpaid orders", at, user);
        // Every kind of row matches what the user's orders say happened.
        let rows =
            |action: PointsAction| -> i64 { ledger.iter().filter(|e| e.action == action).map(|e| e.points).sum() };
        let mine = || orders.iter().filter(|o| o.user == user);
        let unpaid_ended =
            |o: &&Order| o.paid_at.is_none() && matches!(o.status, OrderStatus::Cancelled | OrderStatus::Closed);
        let facts = [
            (PointsAction::Freeze, mine().map(|o| o.points_used).sum::<i64>()),
            (PointsAction::Unfreeze, mine().filter(unpaid_ended).map(|o| o.points_used).sum()),
            (PointsAction::Spend, mine().filter(|o| o.paid_at.is_some()).map(|o| o.points_used).sum()),
            (PointsAction::Return, mine().flat_map(|o| &o.lines).map(|l| l.points_returned).sum()),
            (PointsAction::Earn, mine().map(|o| o.points_earned).sum()),
            (PointsAction::Reverse, mine().map(|o| o.points_reversed).sum()),
        ];
        for (action, expected) in facts {
            prop_assert_eq!(rows(action), expected, "{}: {:?} rows of {:?} vs its orders", at, action, user);
        }
    }

    // Orders: amounts add up, nothing refunded beyond what was paid.
    let mut refunds_on_orders = Money::ZERO;
    let mut payments: BTreeSet<PaymentId> = BTreeSet::new();
    for o in &orders {
        let ctx = format!("{at}: order {} ({:?})", o.id, o.status);
        prop_assert_eq!(
            o.payable,
            o.goods_subtotal - o.coupon_discount - o.points_deduction + o.shipping_fee,
            "{}",
            ctx
        );
        prop_assert_eq!(o.goods_subtotal, o.lines.iter().map(|l| l.subtotal).sum::<Money>(), "{}", ctx);
        prop_assert_eq!(o.coupon_discount, o.lines.iter().map(|l| l.coupon_discount).sum::<Money>(), "{}", ctx);
        prop_assert!(!o.payable.is_negative(), "{}", ctx);
        for l in &o.lines {
            prop_assert_eq!(
                l.payable,
                l.subtotal - l.coupon_discount - l.points_deduction,
                "{} line {}",
                ctx,
                l.line_no
            );
            prop_assert!(!l.payable.is_negative(), "{} line {}", ctx, l.line_no);
            prop_assert!(!l.refunded_amount.is_negative(), "{} line {}: {:?}", ctx, l.line_no, l);
            prop_assert!(l.refunded_amount <= l.payable, "{} line {} over-refunded: {:?}", ctx, l.line_no, l);
            prop_assert!(l.refunded_quantity <= l.quantity, "{} line {}: {:?}", ctx, l.line_no, l);
            prop_assert!(l.after_sales_quantity <= l.quantity, "{} line {}: {:?}", ctx, l.line_no, l);
            prop_assert!(l.refund_claimed_quantity <= l.after_sales_quantity, "{} line {}: {:?}", ctx, l.line_no, l);
            prop_assert!(l.refunded_quantity <= l.refund_claimed_quantity, "{} line {}: {:?}", ctx, l.line_no, l);
            prop_assert!(l.points_returned <= l.points_used, "{} line {}: {:?}", ctx, l.line_no, l);
        }
        prop_assert!(o.refunded_total <= o.payable, "{}: refunded {:?} of {:?}", ctx, o.refunded_total, o.payable);
        prop_assert_eq!(o.history.last().map(|h| h.to), Some(o.status), "{}: history ends elsewhere", ctx);
        prop_assert!(
            o.points_reversed <= o.points_earned,
            "{}: {} reversed of {} earned",
            ctx,
            o.points_reversed,
            o.points_earned
        );
        let paid = o.paid_at.is_some();
        prop_assert_eq!(paid, o.payment.is_some(), "{}", ctx);
        if !paid {
            prop_assert!(o.refunded_total.is_zero(), "{}: refund without payment", ctx);
        }
        if o.status == OrderStatus::Closed && paid {
            // Closed after payment: only by refunds, every line fully refunded.
            prop_assert!(o.fully_refunded(), "{}: closed with lines not refunded: {:?}", ctx, o.lines);
        }
        if o.status == OrderStatus::Cancelled && paid {
            prop_assert_eq!(o.refunded_total, o.payable, "{}: a paid cancel refunds everything", ctx);
        }
        let shipping_back = if o.shipping_refunded { o.shipping_fee } else { Money::ZERO };
        prop_assert_eq!(
            o.refunded_total,
            o.lines.iter().map(|l| l.refunded_amount).sum::<Money>() + shipping_back,
            "{}: refunds on the order vs its lines",
            ctx
        );
        refunds_on_orders += o.refunded_total;
        payments.extend(o.payment);
    }
    let mut refunds_on_payments = Money::ZERO;
    for id in payments {
        let p = store.payment(id).await.expect("read payment").expect("payment of an order");
        let covered: Money = orders.iter().filter(|o| p.orders.contains(&o.id)).map(|o| o.payable).sum();
        prop_assert_eq!(p.amount, covered, "{}: payment {:?} vs its orders", at, p.id);
        prop_assert!(p.refunded_amount <= p.amount, "{}: payment {:?} over-refunded", at, p);
        prop_assert_eq!(
            p.refunds.len(),
            p.refunds.iter().collect::<BTreeSet<_>>().len(),
            "{}: refund number twice",
            at
        );
        refunds_on_payments += p.refunded_amount;
    }
    prop_assert_eq!(refunds_on_orders, w.provider.refunded_total(), "{}: refunds on orders vs the provider", at);
    prop_assert_eq!(refunds_on_payments, w.provider.refunded_total(), "{}: refunds on payments vs the provider", at);

    // Coupons: held by at most one live checkout; a used coupon belongs to a
    // paid order of its checkout, a locked one to an unpaid order of it.
    for c in store.all_user_coupons() {
        let holders: BTreeSet<_> = orders
            .iter()
            .filter(|o| o.coupons.iter().any(|u| u.coupon == c.id))
            .filter(|o| o.status == OrderStatus::PendingPayment || o.paid_at.is_some())
            .map(|o| o.checkout)
            .collect();
        prop_assert!(holders.len() <= 1, "{}: coupon {:?} held by checkouts {:?}", at, c.id, holders);
        let of_checkout = |o: &&Order| Some(o.checkout) == c.checkout && o.coupons.iter().any(|u| u.coupon == c.id);
        match c.status {
            UserCouponStatus::Used => prop_assert!(
                orders.iter().filter(of_checkout).any(|o| o.paid_at.is_some()),
                "{}: used coupon {:?} without a paid order",
                at,
                c
            ),
            UserCouponStatus::Locked => prop_assert!(
                orders.iter().filter(of_checkout).any(|o| o.status == OrderStatus::PendingPayment),
                "{}: coupon {:?} locked without an unpaid order of its checkout",
                at,
                c
            ),
            _ => prop_assert!(holders.is_empty(), "{}: coupon {:?} is free but held by {:?}", at, c, holders),
        }
    }

    // After-sales: the case's amounts add up; only a refunded case has paid anything.
    for case in all_cases(w).await {
        // The clawback may be negative (an earlier one given back), never the refund.
        prop_assert_eq!(case.clawback, case.clawback_by_coupon.iter().copied().sum::<Money>(), "{}: {:?}", at, case.id);
        prop_assert_eq!(case.goods_amount, case.lines.iter().map(|l| l.amount).sum::<Money>(), "{}: {:?}", at, case.id);
        prop_assert_eq!(
            case.refund_amount,
            (case.goods_amount - case.clawback).max(Money::ZERO),
            "{}: {:?}",
            at,
            case.id
        );
        if case.status != AfterSaleStatus::Refunded {
            prop_assert!(case.lines.iter().all(|l| l.refunded.is_zero()), "{}: unrefunded case {:?} paid", at, case);
        }
    }
    Ok(())
}

/// A short name of a command, for the outcome tally.
fn label(cmd: &Cmd) -> &'static str {
    match cmd {
        Cmd::Checkout { .. } => "checkout",
        Cmd::Pay { .. } => "pay",
        Cmd::Cancel { .. } => "cancel",
        Cmd::Ship { .. } => "ship",
        Cmd::Confirm { .. } => "confirm",
        Cmd::TimePasses { .. } => "time",
        Cmd::ApplyAfterSale { .. } => "apply",
        Cmd::Step { action, .. } => match action {
            AfterSaleAction::Approve => "approve",
            AfterSaleAction::Reject => "reject",
            AfterSaleAction::ShipBack => "ship_back",
            AfterSaleAction::Receive => "receive",
            AfterSaleAction::Reship => "reship",
            _ => "withdraw",
        },
        Cmd::Refund { .. } => "refund",
        Cmd::AdvanceOrder { .. } => "adv_order",
        Cmd::AdvanceCase { .. } => "adv_case",
        Cmd::AdjustPoints { .. } => "adjust",
        Cmd::Claim { .. } => "claim",
    }
}

/// Builds a world with these starting points and claims, runs `commands`
/// one by one and checks every invariant after each.
fn run_sequence(points: &[i64], claims: &[(usize, u64)], commands: &[Cmd]) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(async {
        let w = world(points, claims).await;
        check(&w, "set-up").await?;
        for (i, cmd) in commands.iter().enumerate() {
            let result = run(&w, cmd).await;
            if let Err(e) = &result {
                prop_assert!(
                    !matches!(e, MallError::Storage(_) | MallError::Conflict { .. }),
                    "step {} {:?}: {:?}",
                    i,
                    cmd,
                    e
                );
            }
            if std::env::var_os("MALLKIT_PROP_STATS").is_some() {
                let outcome = match &result {
                    Ok(true) => "ok",
                    Ok(false) => "nothing to act on",
                    Err(e) => e.kind(),
                };
                *OUTCOMES.lock().unwrap_or_else(|e| e.into_inner()).entry((label(cmd), outcome)).or_default() += 1;
            }
            check(&w, &format!("after step {i} {cmd:?} → {result:?}")).await?;
        }
        Ok(())
    })
}

/// Outcomes per command, tallied when `MALLKIT_PROP_STATS` is set.
static OUTCOMES: Mutex<BTreeMap<(&'static str, &'static str), u32>> = Mutex::new(BTreeMap::new());

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_command_sequences_keep_every_invariant(
        points in prop::collection::vec(prop_oneof![Just(0i64), 1i64..=5_000], 3),
        claims in prop::collection::vec((0usize..3, 1..=TEMPLATES), 0..=8),
        commands in prop::collection::vec(command(), 1..=80),
    ) {
        run_sequence(&points, &claims, &commands)?;
    }
}

/// With `MALLKIT_PROP_STATS=1 cargo test -p mallkit-core --test command_sequences -- --test-threads 1
/// --nocapture`, prints what the commands did (this test runs after the property on one thread), to
/// check that the generated sequences reach deep into the after-sales flows.
#[test]
fn zz_print_outcomes() {
    if std::env::var_os("MALLKIT_PROP_STATS").is_some() {
        for ((command, outcome), n) in OUTCOMES.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            eprintln!("{command:>10} {outcome:<32} {n:>6}");
        }
    }
}

// ---- regressions: minimal sequences the property found (both fixed in c611cf2)

fn replay(points: &[i64], claims: &[(usize, u64)], commands: &[Cmd]) {
    if let Err(e) = run_sequence(points, claims, commands) {
        panic!("{e}");
    }
}

fn lines_checkout(user: usize, lines: &[(usize, u32)], best: bool) -> Cmd {
    Cmd::Checkout { user, lines: lines.to_vec(), best, points: PointsPick::None, from_cart: false }
}

/// Bug 1: a split checkout whose coupon sits on the first merchant's order
/// closes unpaid; the coupon must come back, not stay locked by no order.
#[test]
fn regression_coupon_of_a_closed_split_checkout_comes_back() {
    // Buyer 2 holds the shop coupon 满100减10 (merchant 1); SKU 2 is merchant
    // 1's 255.00, SKU 3 merchant 2's 19.90.
    replay(&[0, 0, 0], &[(1, 2)], &[lines_checkout(1, &[(1, 1), (2, 1)], true), Cmd::TimePasses { minutes: 31 }]);
}

/// Bug 2: a split checkout whose coupon sits on both orders; one is paid
/// (coupon used) and then cancelled; the other, unpaid, must still cancel.
#[test]
fn regression_unpaid_sibling_of_a_cancelled_paid_order_still_cancels() {
    // Buyer 1 holds the platform 9折 on everything; SKU 1 is merchant 1's, SKU 3 merchant 2's.
    let first = Pick { index: 0, targeted: false };
    replay(
        &[0, 0, 0],
        &[(0, 3)],
        &[
            lines_checkout(0, &[(0, 1), (2, 1)], true),
            Cmd::Pay { order: first, whole_checkout: false, who: Who::Right },
            Cmd::Cancel { order: first, who: Who::Right },
            Cmd::Cancel { order: Pick { index: 1, targeted: false }, who: Who::Right },
        ],
    );
}

/// Bug 2, the scheduler side: the same unpaid sibling must close at its deadline.
#[test]
fn regression_unpaid_sibling_of_a_cancelled_paid_order_still_closes() {
    let first = Pick { index: 0, targeted: false };
    replay(
        &[0, 0, 0],
        &[(0, 3)],
        &[
            lines_checkout(0, &[(0, 1), (2, 1)], true),
            Cmd::Pay { order: first, whole_checkout: false, who: Who::Right },
            Cmd::Cancel { order: first, who: Who::Right },
            Cmd::TimePasses { minutes: 31 },
        ],
    );
}
