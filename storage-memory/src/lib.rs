//! # mallkit-storage-memory
//!
//! The in-memory implementation of every `mallkit-core` storage trait: the
//! embedded default, and what QA scenarios run on.
//!
//! [`MemoryStore`] is a cheap handle (clone it freely) over one state behind a
//! read-write lock, safe to share across tokio tasks. [`Store::apply`] takes
//! the write lock, stages every write of the batch on copies of the rows it
//! touches, checks each guard with the same core functions the rules use
//! (`Stock::apply`, `PointsAccount::apply`), and only when all pass moves the
//! staged rows into the state: a failed guard leaves nothing behind.
//!
//! One module per area (`catalog`, `coupons`, `points`, `cart`, `orders`,
//! `payments`, `after_sales`, `identity`): each holds its tables, the
//! staging of its writes and its reads.

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mallkit_core::storage::{GuardFailure, Store, StoreError, Write};

mod after_sales;
mod cart;
mod catalog;
mod coupons;
mod events;
mod identity;
mod orders;
mod payments;
mod points;

#[derive(Debug, Default)]
struct State {
    catalog: catalog::Catalog,
    coupons: coupons::Coupons,
    points: points::Points,
    carts: cart::Carts,
    orders: orders::Orders,
    payments: payments::Payments,
    after_sales: after_sales::AfterSales,
    events: events::Events,
}

/// The in-memory store. Clones share one state.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
    identity: Arc<Mutex<identity::IdentityState>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Rows of one table touched by a batch: copies that replace the originals
/// on commit.
pub(crate) struct Staged<K, V>(pub(crate) HashMap<K, V>);

impl<K, V> Default for Staged<K, V> {
    fn default() -> Self {
        Staged(HashMap::new())
    }
}

impl<K: Ord + Hash + Copy, V: Clone> Staged<K, V> {
    /// The staged copy of `key`, copied from `base` on first touch.
    pub(crate) fn get<'a>(&'a mut self, base: &BTreeMap<K, V>, key: K) -> Option<&'a mut V> {
        match self.0.entry(key) {
            Entry::Occupied(e) => Some(e.into_mut()),
            Entry::Vacant(v) => Some(v.insert(base.get(&key)?.clone())),
        }
    }

    pub(crate) fn exists(&self, base: &BTreeMap<K, V>, key: K) -> bool {
        self.0.contains_key(&key) || base.contains_key(&key)
    }

    pub(crate) fn put(&mut self, key: K, value: V) {
        self.0.insert(key, value);
    }

    pub(crate) fn commit(self, base: &mut BTreeMap<K, V>) {
        base.extend(self.0);
    }

    /// Stages a new row. Guard: `key` is taken neither in the batch nor in
    /// `base` ([`GuardFailure::AlreadyExists`] naming `entity` and `id`).
    pub(crate) fn insert_new(
        &mut self,
        base: &BTreeMap<K, V>,
        entity: &'static str,
        (key, id): (K, u64),
        value: V,
    ) -> Result<(), GuardFailure> {
        if self.exists(base, key) {
            return Err(GuardFailure::AlreadyExists { entity, id });
        }
        self.put(key, value);
        Ok(())
    }
}

/// A row replaced only while its stored version equals the writer's
/// (orders, payments, after-sales cases: optimistic concurrency).
pub(crate) trait Versioned {
    /// The version, bumped by every accepted replacement.
    fn version_mut(&mut self) -> &mut u64;
}

impl<K: Ord + Hash + Copy, V: Clone + Versioned> Staged<K, V> {
    /// Stages `value` over the stored row and bumps its version. Guards:
    /// the row exists ([`GuardFailure::NotFound`]) and its version equals
    /// `value`'s ([`GuardFailure::VersionConflict`]), naming `entity` and `id`.
    pub(crate) fn replace_versioned(
        &mut self,
        base: &BTreeMap<K, V>,
        entity: &'static str,
        (key, id): (K, u64),
        mut value: V,
    ) -> Result<(), GuardFailure> {
        let stored = self.get(base, key).ok_or(missing(entity, id))?;
        if *stored.version_mut() != *value.version_mut() {
            return Err(GuardFailure::VersionConflict { entity, id });
        }
        *value.version_mut() += 1;
        *stored = value;
        Ok(())
    }
}

impl Versioned for mallkit_core::order::Order {
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
}

impl Versioned for mallkit_core::payment::Payment {
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
}

impl Versioned for mallkit_core::after_sales::AfterSale {
    fn version_mut(&mut self) -> &mut u64 {
        &mut self.version
    }
}

/// A fast hasher for maps keyed by the stores' own `u64` ids (the Fx
/// multiply-rotate hash): ids come from the id generator, not from
/// requests, so they need no protection against chosen collisions.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.add(word);
    }
}

/// A hash map keyed by ids, with [`IdHasher`].
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A row's place in a newest-first list: creation time descending, then id descending.
pub(crate) type NewestKey<I> = (Reverse<DateTime<Utc>>, Reverse<I>);

/// An index from a key to the ordered set of entries (ids or sort keys) under it.
#[derive(Debug)]
pub(crate) struct Postings<K, E>(HashMap<K, BTreeSet<E>>);

impl<K, E> Default for Postings<K, E> {
    fn default() -> Self {
        Postings(HashMap::new())
    }
}

impl<K: Eq + Hash, E: Ord> Postings<K, E> {
    pub(crate) fn insert(&mut self, key: K, entry: E) {
        self.0.entry(key).or_default().insert(entry);
    }

    /// Removes `entry` under `key`, and the key with its last entry.
    pub(crate) fn remove(&mut self, key: &K, entry: &E) {
        if let Some(set) = self.0.get_mut(key) {
            set.remove(entry);
            if set.is_empty() {
                self.0.remove(key);
            }
        }
    }

    /// The entries under `key` (empty when none).
    pub(crate) fn get(&self, key: &K) -> Option<&BTreeSet<E>> {
        self.0.get(key)
    }
}

pub(crate) fn missing(entity: &'static str, id: u64) -> GuardFailure {
    GuardFailure::NotFound { entity, id }
}

/// One batch being staged against the state, one part per area.
#[derive(Default)]
struct Batch {
    catalog: catalog::CatalogBatch,
    coupons: coupons::CouponBatch,
    points: points::PointsBatch,
    carts: cart::CartBatch,
    orders: orders::OrderBatch,
    payments: payments::PaymentBatch,
    after_sales: after_sales::AfterSaleBatch,
    events: Vec<mallkit_core::event::DomainEvent>,
}

impl Batch {
    fn stage(&mut self, base: &State, write: Write) -> Result<(), GuardFailure> {
        match write {
            Write::Catalog(w) => self.catalog.stage(&base.catalog, w),
            Write::Stock(w) => self.catalog.stage_stock(&base.catalog, w)?,
            Write::Coupon(w) => self.coupons.stage(&base.coupons, w)?,
            Write::Points(w) => self.points.stage(&base.points, w)?,
            Write::Cart(w) => self.carts.stage(w),
            Write::Order(w) => self.orders.stage(&base.orders, w)?,
            Write::Payment(w) => self.payments.stage(&base.payments, w)?,
            Write::AfterSale(w) => self.after_sales.stage(&base.after_sales, w)?,
            Write::AppendEvent(e) => self.events.push(e),
        }
        Ok(())
    }

    /// Moves every staged row into the state and brings the indexes up to date.
    fn commit(self, state: &mut State) {
        self.catalog.commit(&mut state.catalog);
        self.points.commit(&mut state.points);
        self.coupons.commit(&mut state.coupons);
        self.carts.commit(&mut state.carts);
        self.payments.commit(&mut state.payments);
        self.orders.commit(&mut state.orders);
        self.after_sales.commit(&mut state.after_sales);
        state.events.commit(self.events);
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut state = self.write();
        let mut batch = Batch::default();
        for w in writes {
            batch.stage(&state, w)?;
        }
        if batch.catalog.overflows(&state.catalog) {
            return Err(StoreError::Backend("the in-memory catalogue holds at most 2^32 - 1 products".into()));
        }
        batch.commit(&mut state);
        Ok(())
    }
}
