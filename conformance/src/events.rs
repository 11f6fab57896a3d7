//! The domain event log: each command's events commit with its writes, or
//! not at all, and read back in order by aggregate.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use mallkit_core::catalog::{Category, Merchant, Product, ProductStatus, Sku, Stock};
use mallkit_core::checkout::{CheckoutItems, CheckoutRequest};
use mallkit_core::clock::{ManualClock, SequentialIds};
use mallkit_core::event::{Aggregate, Event};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId, UserId};
use mallkit_core::inventory::StockError;
use mallkit_core::inventory::StockMove;
use mallkit_core::order::{Actor, OrderStatus};
use mallkit_core::page::PageRequest;
use mallkit_core::payment::{PaymentChannel, SimulatedProvider};
use mallkit_core::pricing::{CouponChoice, PointsChoice};
use mallkit_core::storage::Store;
use mallkit_core::{Mall, MallError, Money, Policy};

/// Conformance case `events_commit_with_their_batch_and_read_by_aggregate`.
pub async fn events_commit_with_their_batch_and_read_by_aggregate<S: Store + Clone + 'static>(store: S) {
    let start = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).single().expect("time");
    let clock = Arc::new(ManualClock::new(start));
    let ids = Arc::new(SequentialIds::starting_at(5000));
    let mall = Mall::new(store.clone(), clock, ids, Arc::new(SimulatedProvider::instant()), Policy::default());
    mall.save_category(Category { id: CategoryId(1), parent: None, name: "瓷砖".into(), sort: 0 }).await.expect("c");
    mall.save_merchant(Merchant { id: MerchantId(1), name: "LQZC".into() }).await.expect("m");
    let product = Product {
        id: ProductId(1),
        merchant: MerchantId(1),
        category: CategoryId(1),
        name: "A8001".into(),
        status: ProductStatus::OnSale,
    };
    mall.save_product(product).await.expect("p");
    let sku = Sku {
        id: SkuId(1),
        product: ProductId(1),
        attributes: Default::default(),
        price: Money::from_fen(25_500),
        original_price: None,
        weight_grams: None,
        stock: Stock { available: 3, reserved: 0, sold: 0 },
    };
    mall.save_sku(sku).await.expect("s");
    let buyer = UserId(7);
    let ask = |units| CheckoutRequest {
        items: CheckoutItems::Lines { lines: vec![(SkuId(1), units)] },
        coupons: CouponChoice::None,
        points: PointsChoice::None,
        remark: String::new(),
    };
    let order = mall.checkout(buyer, &ask(2)).await.expect("checkout").orders.remove(0);
    mall.pay(buyer, &[order.id], PaymentChannel::Simulated).await.expect("pay");

    let all = store.events(None, PageRequest::new(Some(1), Some(100)).expect("page")).await.expect("events");
    // A refused command appends nothing.
    let refused = mall.checkout(buyer, &ask(2)).await;
    assert!(matches!(refused, Err(MallError::Stock(StockError::Insufficient { .. }))), "{refused:?}");
    let again = store.events(None, PageRequest::new(Some(1), Some(100)).expect("page")).await.expect("events");
    assert_eq!(again, all);
    assert!(!all.has_more && all.total == all.items.len() as u64);
    let mut ids: Vec<u64> = all.items.iter().map(|e| e.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), all.items.len());
    assert_eq!(all.items[0].event, Event::CategorySaved { name: "瓷砖".into() });
    assert_eq!(all.items[0].actor, Actor::System);

    let page = PageRequest::new(Some(1), Some(20)).expect("page");
    let of_order = store.events(Some((Aggregate::Order, order.id.0)), page).await.expect("order events");
    let kinds: Vec<(&Event, Actor)> = of_order.items.iter().map(|e| (&e.event, e.actor)).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(
        matches!(kinds[0], (Event::OrderPlaced { payable, .. }, Actor::Buyer(u)) if *payable == order.payable && u == buyer)
    );
    assert!(matches!(
        kinds[1],
        (
            Event::OrderChanged { from: Some(OrderStatus::PendingPayment), to: OrderStatus::AwaitingShipment, .. },
            Actor::System
        )
    ));
    let of_sku = store.events(Some((Aggregate::Sku, 1)), page).await.expect("sku events");
    let moves: Vec<(StockMove, u32, Option<u64>)> = of_sku
        .items
        .iter()
        .filter_map(|e| match &e.event {
            Event::StockMoved { movement, quantity, order } => Some((*movement, *quantity, order.map(|o| o.0))),
            _ => None,
        })
        .collect();
    assert_eq!(moves, vec![(StockMove::Reserve, 2, Some(order.id.0)), (StockMove::Commit, 2, Some(order.id.0))]);
    assert_eq!(of_sku.total, 3); // saved, reserved, committed
}
