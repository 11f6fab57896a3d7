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

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mallkit_core::after_sales::AfterSale;
use mallkit_core::cart::Cart;
use mallkit_core::catalog::{Category, Merchant, Product, Sku};
use mallkit_core::coupon::{CouponTemplate, TemplateStatus, UserCoupon, UserCouponStatus};
use mallkit_core::ids::{
    AfterSaleId, CategoryId, CheckoutId, CouponTemplateId, MerchantId, OrderId, PaymentId, ProductId, SkuId,
    UserCouponId, UserId,
};
use mallkit_core::order::{Order, OrderStatus};
use mallkit_core::payment::Payment;
use mallkit_core::points::{LedgerEntry, PointsAccount, PointsAction, PointsSource, Tier};
use mallkit_core::storage::{
    AfterSalesStore, CartStore, CatalogStore, CouponStore, GuardFailure, OrderStore, PaymentStore, PointsStore, Store,
    StoreError, Write,
};

mod identity;

type LedgerKey = (UserId, PointsSource, PointsAction, u64);

#[derive(Debug, Default, Clone)]
struct State {
    categories: BTreeMap<CategoryId, Category>,
    merchants: BTreeMap<MerchantId, Merchant>,
    products: BTreeMap<ProductId, Product>,
    skus: BTreeMap<SkuId, Sku>,
    tiers: BTreeMap<u32, Tier>,
    templates: BTreeMap<CouponTemplateId, CouponTemplate>,
    claims: BTreeMap<(UserId, CouponTemplateId), u32>,
    coupons: BTreeMap<UserCouponId, UserCoupon>,
    accounts: BTreeMap<UserId, PointsAccount>,
    ledger: Vec<LedgerEntry>,
    ledger_keys: HashSet<LedgerKey>,
    carts: BTreeMap<UserId, Cart>,
    orders: BTreeMap<OrderId, Order>,
    payments: BTreeMap<PaymentId, Payment>,
    payment_numbers: HashMap<String, PaymentId>,
    after_sales: BTreeMap<AfterSaleId, AfterSale>,
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

    /// Every SKU, by id (for invariant checks and reports).
    pub fn all_skus(&self) -> Vec<Sku> {
        self.read().skus.values().cloned().collect()
    }

    /// Every points account, by user.
    pub fn all_accounts(&self) -> Vec<PointsAccount> {
        self.read().accounts.values().copied().collect()
    }

    /// Every order, by id.
    pub fn all_orders(&self) -> Vec<Order> {
        self.read().orders.values().cloned().collect()
    }

    /// Every user coupon, by id.
    pub fn all_user_coupons(&self) -> Vec<UserCoupon> {
        self.read().coupons.values().cloned().collect()
    }
}

/// Rows of one table touched by a batch: copies that replace the originals
/// on commit.
struct Staged<K, V>(HashMap<K, V>);

impl<K, V> Default for Staged<K, V> {
    fn default() -> Self {
        Staged(HashMap::new())
    }
}

impl<K: Ord + Hash + Copy, V: Clone> Staged<K, V> {
    /// The staged copy of `key`, copied from `base` on first touch.
    fn get<'a>(&'a mut self, base: &BTreeMap<K, V>, key: K) -> Option<&'a mut V> {
        match self.0.entry(key) {
            Entry::Occupied(e) => Some(e.into_mut()),
            Entry::Vacant(v) => Some(v.insert(base.get(&key)?.clone())),
        }
    }

    fn exists(&self, base: &BTreeMap<K, V>, key: K) -> bool {
        self.0.contains_key(&key) || base.contains_key(&key)
    }

    fn put(&mut self, key: K, value: V) {
        self.0.insert(key, value);
    }

    fn commit(self, base: &mut BTreeMap<K, V>) {
        base.extend(self.0);
    }
}

fn missing(entity: &'static str, id: u64) -> GuardFailure {
    GuardFailure::NotFound { entity, id }
}

/// One batch being staged against the state.
#[derive(Default)]
struct Batch {
    categories: Staged<CategoryId, Category>,
    merchants: Staged<MerchantId, Merchant>,
    products: Staged<ProductId, Product>,
    skus: Staged<SkuId, Sku>,
    tiers: Staged<u32, Tier>,
    templates: Staged<CouponTemplateId, CouponTemplate>,
    claims: Staged<(UserId, CouponTemplateId), u32>,
    coupons: Staged<UserCouponId, UserCoupon>,
    accounts: Staged<UserId, PointsAccount>,
    ledger: Vec<LedgerEntry>,
    ledger_keys: HashSet<LedgerKey>,
    carts: Staged<UserId, Cart>,
    orders: Staged<OrderId, Order>,
    payments: Staged<PaymentId, Payment>,
    after_sales: Staged<AfterSaleId, AfterSale>,
}

impl Batch {
    fn stage(&mut self, base: &State, write: Write) -> Result<(), GuardFailure> {
        match write {
            Write::PutCategory(c) => self.categories.put(c.id, c),
            Write::PutMerchant(m) => self.merchants.put(m.id, m),
            Write::PutProduct(p) => self.products.put(p.id, p),
            Write::PutSku(mut s) => {
                if let Some(old) = self.skus.get(&base.skus, s.id) {
                    s.stock = old.stock;
                }
                self.skus.put(s.id, s);
            }
            Write::PutTier(t) => self.tiers.put(t.level, t),
            Write::PutTemplate(mut t) => {
                if let Some(old) = self.templates.get(&base.templates, t.id) {
                    (t.issued, t.used) = (old.issued, old.used);
                }
                self.templates.put(t.id, t);
            }
            Write::SetTemplateStatus { template, status } => {
                let t = self.templates.get(&base.templates, template).ok_or(missing("coupon_template", template.0))?;
                t.status = status;
            }
            Write::MoveStock { sku, movement, quantity } => {
                let row = self.skus.get(&base.skus, sku).ok_or(missing("sku", sku.0))?;
                row.stock.apply(sku, movement, quantity)?;
            }
            Write::IssueCoupon(coupon) => {
                if self.coupons.exists(&base.coupons, coupon.id) {
                    return Err(GuardFailure::AlreadyExists { entity: "user_coupon", id: coupon.id.0 });
                }
                let t = self
                    .templates
                    .get(&base.templates, coupon.template)
                    .ok_or(missing("coupon_template", coupon.template.0))?;
                if t.status == TemplateStatus::Disabled {
                    return Err(GuardFailure::TemplateDisabled(t.id));
                }
                if let Some(limit) = t.total_limit
                    && t.issued >= limit
                {
                    return Err(GuardFailure::TemplateExhausted { template: t.id, limit });
                }
                t.issued += 1;
                let per_user = t.per_user_limit;
                let key = (coupon.user, coupon.template);
                let held = match self.claims.get(&base.claims, key) {
                    Some(n) => n,
                    None => {
                        self.claims.put(key, 0);
                        self.claims.get(&base.claims, key).ok_or(missing("claim", coupon.id.0))?
                    }
                };
                if *held >= per_user {
                    return Err(GuardFailure::ClaimLimitReached {
                        template: coupon.template,
                        user: coupon.user,
                        limit: per_user,
                    });
                }
                *held += 1;
                self.coupons.put(coupon.id, coupon);
            }
            Write::SetCouponStatus { coupon, from, to, checkout, at } => {
                let c = self.coupons.get(&base.coupons, coupon).ok_or(missing("user_coupon", coupon.0))?;
                if c.status != from {
                    return Err(GuardFailure::CouponStatusChanged { coupon, expected: from, actual: c.status });
                }
                c.status = to;
                match to {
                    UserCouponStatus::Unused | UserCouponStatus::Expired => {
                        c.checkout = None;
                        c.used_at = None;
                    }
                    UserCouponStatus::Used => c.used_at = Some(at),
                    _ => {}
                }
                if checkout.is_some() {
                    c.checkout = checkout;
                }
                let template = c.template;
                let delta: i64 = match (from, to) {
                    (f, UserCouponStatus::Used) if f != UserCouponStatus::Used => 1,
                    (UserCouponStatus::Used, t) if t != UserCouponStatus::Used => -1,
                    _ => 0,
                };
                if delta != 0
                    && let Some(t) = self.templates.get(&base.templates, template)
                {
                    t.used = t.used.saturating_add_signed(delta as i32);
                }
            }
            Write::Points(mut entry) => {
                let key = entry.source_key();
                if base.ledger_keys.contains(&key) || !self.ledger_keys.insert(key) {
                    return Err(GuardFailure::PointsSourceApplied {
                        user: entry.user,
                        points_source: entry.source,
                        action: entry.action,
                        reference: entry.reference,
                    });
                }
                if self.accounts.get(&base.accounts, entry.user).is_none() {
                    self.accounts.put(entry.user, PointsAccount { user: entry.user, ..Default::default() });
                }
                let account =
                    self.accounts.get(&base.accounts, entry.user).ok_or(missing("points_account", entry.user.0))?;
                account.apply(&mut entry)?;
                self.ledger.push(entry);
            }
            Write::PutCart(cart) => self.carts.put(cart.user, cart),
            Write::InsertOrder(o) => {
                if self.orders.exists(&base.orders, o.id) {
                    return Err(GuardFailure::AlreadyExists { entity: "order", id: o.id.0 });
                }
                self.orders.put(o.id, o);
            }
            Write::UpdateOrder(mut o) => {
                let stored = self.orders.get(&base.orders, o.id).ok_or(missing("order", o.id.0))?;
                if stored.version != o.version {
                    return Err(GuardFailure::VersionConflict { entity: "order", id: o.id.0 });
                }
                o.version += 1;
                *stored = o;
            }
            Write::InsertPayment(p) => {
                if self.payments.exists(&base.payments, p.id) || base.payment_numbers.contains_key(&p.number) {
                    return Err(GuardFailure::AlreadyExists { entity: "payment", id: p.id.0 });
                }
                self.payments.put(p.id, p);
            }
            Write::UpdatePayment(mut p) => {
                let stored = self.payments.get(&base.payments, p.id).ok_or(missing("payment", p.id.0))?;
                if stored.version != p.version {
                    return Err(GuardFailure::VersionConflict { entity: "payment", id: p.id.0 });
                }
                p.version += 1;
                *stored = p;
            }
            Write::InsertAfterSale(a) => {
                if self.after_sales.exists(&base.after_sales, a.id) {
                    return Err(GuardFailure::AlreadyExists { entity: "after_sale", id: a.id.0 });
                }
                self.after_sales.put(a.id, a);
            }
            Write::UpdateAfterSale(mut a) => {
                let stored = self.after_sales.get(&base.after_sales, a.id).ok_or(missing("after_sale", a.id.0))?;
                if stored.version != a.version {
                    return Err(GuardFailure::VersionConflict { entity: "after_sale", id: a.id.0 });
                }
                a.version += 1;
                *stored = a;
            }
        }
        Ok(())
    }

    fn commit(self, state: &mut State) {
        self.categories.commit(&mut state.categories);
        self.merchants.commit(&mut state.merchants);
        self.products.commit(&mut state.products);
        self.skus.commit(&mut state.skus);
        self.tiers.commit(&mut state.tiers);
        self.templates.commit(&mut state.templates);
        self.claims.commit(&mut state.claims);
        self.coupons.commit(&mut state.coupons);
        self.accounts.commit(&mut state.accounts);
        state.ledger_keys.extend(self.ledger_keys);
        state.ledger.extend(self.ledger);
        self.carts.commit(&mut state.carts);
        for p in self.payments.0.values() {
            state.payment_numbers.insert(p.number.clone(), p.id);
        }
        self.orders.commit(&mut state.orders);
        self.payments.commit(&mut state.payments);
        self.after_sales.commit(&mut state.after_sales);
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
        batch.commit(&mut state);
        Ok(())
    }
}

#[async_trait]
impl CatalogStore for MemoryStore {
    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        Ok(self.read().categories.values().cloned().collect())
    }
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, StoreError> {
        Ok(self.read().merchants.get(&id).cloned())
    }
    async fn products(&self) -> Result<Vec<Product>, StoreError> {
        Ok(self.read().products.values().cloned().collect())
    }
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self.read().products.get(&id).cloned())
    }
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError> {
        Ok(self.read().skus.get(&id).cloned())
    }
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError> {
        Ok(self.read().skus.values().filter(|s| s.product == product).cloned().collect())
    }
    async fn skus(&self) -> Result<Vec<Sku>, StoreError> {
        Ok(self.all_skus())
    }
}

#[async_trait]
impl CouponStore for MemoryStore {
    async fn template(&self, id: CouponTemplateId) -> Result<Option<CouponTemplate>, StoreError> {
        Ok(self.read().templates.get(&id).cloned())
    }
    async fn templates(&self) -> Result<Vec<CouponTemplate>, StoreError> {
        Ok(self.read().templates.values().cloned().collect())
    }
    async fn user_coupon(&self, id: UserCouponId) -> Result<Option<UserCoupon>, StoreError> {
        Ok(self.read().coupons.get(&id).cloned())
    }
    async fn user_coupons(&self, user: UserId) -> Result<Vec<UserCoupon>, StoreError> {
        Ok(self.read().coupons.values().filter(|c| c.user == user).cloned().collect())
    }
    async fn coupons_of_template(&self, template: CouponTemplateId) -> Result<Vec<UserCoupon>, StoreError> {
        Ok(self.read().coupons.values().filter(|c| c.template == template).cloned().collect())
    }
}

#[async_trait]
impl PointsStore for MemoryStore {
    async fn points_account(&self, user: UserId) -> Result<PointsAccount, StoreError> {
        Ok(self.read().accounts.get(&user).copied().unwrap_or(PointsAccount { user, ..Default::default() }))
    }
    async fn ledger(&self, user: UserId) -> Result<Vec<LedgerEntry>, StoreError> {
        Ok(self.read().ledger.iter().filter(|e| e.user == user).cloned().collect())
    }
    async fn tiers(&self) -> Result<Vec<Tier>, StoreError> {
        Ok(self.read().tiers.values().cloned().collect())
    }
}

#[async_trait]
impl CartStore for MemoryStore {
    async fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        Ok(self.read().carts.get(&user).cloned().unwrap_or(Cart { user, items: Vec::new() }))
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.read().orders.get(&id).cloned())
    }
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError> {
        Ok(self.read().orders.values().rev().filter(|o| o.user == user).cloned().collect())
    }
    async fn orders_of_merchant(&self, merchant: MerchantId) -> Result<Vec<Order>, StoreError> {
        Ok(self.read().orders.values().rev().filter(|o| o.merchant == merchant).cloned().collect())
    }
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError> {
        Ok(self.read().orders.values().filter(|o| o.checkout == checkout).cloned().collect())
    }
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError> {
        let due = |o: &Order| match status {
            OrderStatus::PendingPayment => o.pay_deadline <= now,
            OrderStatus::Shipped => o.auto_confirm_at.is_some_and(|t| t <= now),
            _ => false,
        };
        Ok(self.read().orders.values().filter(|o| o.status == status && due(o)).map(|o| o.id).collect())
    }
}

#[async_trait]
impl PaymentStore for MemoryStore {
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError> {
        Ok(self.read().payments.get(&id).cloned())
    }
    async fn payment_by_number(&self, number: &str) -> Result<Option<Payment>, StoreError> {
        let state = self.read();
        Ok(state.payment_numbers.get(number).and_then(|id| state.payments.get(id)).cloned())
    }
}

#[async_trait]
impl AfterSalesStore for MemoryStore {
    async fn after_sale(&self, id: AfterSaleId) -> Result<Option<AfterSale>, StoreError> {
        Ok(self.read().after_sales.get(&id).cloned())
    }
    async fn after_sales_of_order(&self, order: OrderId) -> Result<Vec<AfterSale>, StoreError> {
        Ok(self.read().after_sales.values().filter(|a| a.order == order).cloned().collect())
    }
    async fn after_sales_of_merchant(&self, merchant: MerchantId) -> Result<Vec<AfterSale>, StoreError> {
        Ok(self.read().after_sales.values().rev().filter(|a| a.merchant == merchant).cloned().collect())
    }
    async fn list_after_sales(
        &self,
        filter: &mallkit_core::after_sales::AfterSaleFilter,
        page: mallkit_core::page::PageRequest,
    ) -> Result<mallkit_core::page::Page<AfterSale>, StoreError> {
        let state = self.read();
        Ok(page.page_from_iter(state.after_sales.values().rev().filter(|a| filter.admits(a)).cloned()))
    }
}
