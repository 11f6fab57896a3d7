//! Orders, indexed newest first (creation time descending, then id
//! descending) overall, per buyer, per merchant, per status and per
//! (merchant, status), and by id per checkout. A page walks the smallest
//! index that the filter names and stops when the page is full and the
//! count capped.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mallkit_core::ids::{CheckoutId, MerchantId, OrderId, UserId};
use mallkit_core::order::{CustomerStats, Order, OrderFilter, OrderStatus};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{GuardFailure, OrderStore, OrderWrite, StoreError};

use crate::{MemoryStore, NewestKey, Postings, Staged};

fn newest(o: &Order) -> NewestKey<OrderId> {
    (Reverse(o.created_at), Reverse(o.id))
}

/// The orders and their indexes.
#[derive(Debug, Default)]
pub(crate) struct Orders {
    orders: BTreeMap<OrderId, Order>,
    all: BTreeSet<NewestKey<OrderId>>,
    by_user: Postings<UserId, NewestKey<OrderId>>,
    by_merchant: Postings<MerchantId, NewestKey<OrderId>>,
    by_status: Postings<OrderStatus, NewestKey<OrderId>>,
    by_merchant_status: Postings<(MerchantId, OrderStatus), NewestKey<OrderId>>,
    by_checkout: Postings<CheckoutId, OrderId>,
}

impl Orders {
    fn unindex(&mut self, o: &Order) {
        let key = newest(o);
        self.all.remove(&key);
        self.by_user.remove(&o.user, &key);
        self.by_merchant.remove(&o.merchant, &key);
        self.by_status.remove(&o.status, &key);
        self.by_merchant_status.remove(&(o.merchant, o.status), &key);
        self.by_checkout.remove(&o.checkout, &o.id);
    }

    fn index(&mut self, o: &Order) {
        let key = newest(o);
        self.all.insert(key);
        self.by_user.insert(o.user, key);
        self.by_merchant.insert(o.merchant, key);
        self.by_status.insert(o.status, key);
        self.by_merchant_status.insert((o.merchant, o.status), key);
        self.by_checkout.insert(o.checkout, o.id);
    }

    /// The orders under `keys`, in their order.
    fn rows<'a>(&'a self, keys: Option<&'a BTreeSet<NewestKey<OrderId>>>) -> impl Iterator<Item = &'a Order> {
        keys.into_iter().flatten().filter_map(|(_, Reverse(id))| self.orders.get(id))
    }

    /// The smallest index that holds every order `filter` admits (newest first).
    fn candidates(&self, filter: &OrderFilter) -> Option<&BTreeSet<NewestKey<OrderId>>> {
        let mut sets: Vec<Option<&BTreeSet<_>>> = Vec::with_capacity(3);
        if let Some(u) = filter.user {
            sets.push(self.by_user.get(&u));
        }
        match (filter.merchant, filter.status) {
            (Some(m), Some(s)) => sets.push(self.by_merchant_status.get(&(m, s))),
            (Some(m), None) => sets.push(self.by_merchant.get(&m)),
            (None, Some(s)) => sets.push(self.by_status.get(&s)),
            (None, None) => {}
        }
        if sets.is_empty() {
            return Some(&self.all);
        }
        sets.into_iter().min_by_key(|s| s.map_or(0, BTreeSet::len)).flatten()
    }
}

/// Orders inserted or updated by a batch.
#[derive(Default)]
pub(crate) struct OrderBatch {
    orders: Staged<OrderId, Order>,
}

impl OrderBatch {
    /// Stages one write.
    pub(crate) fn stage(&mut self, base: &Orders, write: OrderWrite) -> Result<(), GuardFailure> {
        match write {
            OrderWrite::Insert(row) => self.insert(base, row),
            OrderWrite::Update(row) => self.update(base, row),
        }
    }

    /// Guard: the id is not taken.
    pub(crate) fn insert(&mut self, base: &Orders, o: Order) -> Result<(), GuardFailure> {
        self.orders.insert_new(&base.orders, "order", (o.id, o.id.0), o)
    }

    /// Guard: the stored version equals the order's; bumps it.
    pub(crate) fn update(&mut self, base: &Orders, o: Order) -> Result<(), GuardFailure> {
        self.orders.replace_versioned(&base.orders, "order", (o.id, o.id.0), o)
    }

    pub(crate) fn commit(self, state: &mut Orders) {
        for (id, new) in self.orders.0 {
            if let Some(old) = state.orders.remove(&id) {
                state.unindex(&old);
            }
            state.index(&new);
            state.orders.insert(id, new);
        }
    }
}

impl MemoryStore {
    /// Every order, by id.
    pub fn all_orders(&self) -> Vec<Order> {
        self.read().orders.orders.values().cloned().collect()
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.read().orders.orders.get(&id).cloned())
    }
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError> {
        let state = self.read();
        Ok(state.orders.rows(state.orders.by_user.get(&user)).cloned().collect())
    }
    async fn orders_of_merchant(&self, merchant: MerchantId) -> Result<Vec<Order>, StoreError> {
        let state = self.read();
        Ok(state.orders.rows(state.orders.by_merchant.get(&merchant)).cloned().collect())
    }
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError> {
        let state = self.read();
        let orders = &state.orders;
        Ok(orders
            .by_checkout
            .get(&checkout)
            .into_iter()
            .flatten()
            .filter_map(|id| orders.orders.get(id))
            .cloned()
            .collect())
    }
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError> {
        let due = |o: &Order| match status {
            OrderStatus::PendingPayment => o.pay_deadline <= now,
            OrderStatus::Shipped => o.auto_confirm_at.is_some_and(|t| t <= now),
            _ => false,
        };
        let state = self.read();
        let orders = &state.orders;
        let mut ids: Vec<OrderId> =
            orders.rows(orders.by_status.get(&status)).filter(|o| o.status == status && due(o)).map(|o| o.id).collect();
        ids.sort_unstable();
        Ok(ids)
    }
    async fn list_orders(&self, filter: &OrderFilter, page: PageRequest) -> Result<Page<Order>, StoreError> {
        let state = self.read();
        let orders = &state.orders;
        let rows = orders.rows(orders.candidates(filter)).filter(|o| filter.admits(o));
        Ok(page.page_from_iter(rows).map(Order::clone))
    }
    async fn customer_stats(&self, users: &[UserId]) -> Result<Vec<CustomerStats>, StoreError> {
        let state = self.read();
        let orders = &state.orders;
        Ok(users.iter().map(|&u| CustomerStats::of(u, orders.rows(orders.by_user.get(&u)))).collect())
    }
}
