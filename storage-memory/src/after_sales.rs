//! After-sales cases, indexed newest first (creation time descending, then
//! id descending) overall, per buyer, per merchant, per order, per status
//! and per (merchant, status). A page walks the smallest index the filter
//! names and stops when the page is full and the count capped.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use mallkit_core::after_sales::{AfterSale, AfterSaleFilter, AfterSaleStatus};
use mallkit_core::ids::{AfterSaleId, MerchantId, OrderId, UserId};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{AfterSaleWrite, AfterSalesStore, GuardFailure, StoreError};

use crate::{MemoryStore, NewestKey, Postings, Staged};

fn newest(a: &AfterSale) -> NewestKey<AfterSaleId> {
    (Reverse(a.created_at), Reverse(a.id))
}

/// The cases and their indexes.
#[derive(Debug, Default)]
pub(crate) struct AfterSales {
    cases: BTreeMap<AfterSaleId, AfterSale>,
    all: BTreeSet<NewestKey<AfterSaleId>>,
    by_user: Postings<UserId, NewestKey<AfterSaleId>>,
    by_merchant: Postings<MerchantId, NewestKey<AfterSaleId>>,
    by_order: Postings<OrderId, NewestKey<AfterSaleId>>,
    by_status: Postings<AfterSaleStatus, NewestKey<AfterSaleId>>,
    by_merchant_status: Postings<(MerchantId, AfterSaleStatus), NewestKey<AfterSaleId>>,
}

impl AfterSales {
    fn unindex(&mut self, a: &AfterSale) {
        let key = newest(a);
        self.all.remove(&key);
        self.by_user.remove(&a.user, &key);
        self.by_merchant.remove(&a.merchant, &key);
        self.by_order.remove(&a.order, &key);
        self.by_status.remove(&a.status, &key);
        self.by_merchant_status.remove(&(a.merchant, a.status), &key);
    }

    fn index(&mut self, a: &AfterSale) {
        let key = newest(a);
        self.all.insert(key);
        self.by_user.insert(a.user, key);
        self.by_merchant.insert(a.merchant, key);
        self.by_order.insert(a.order, key);
        self.by_status.insert(a.status, key);
        self.by_merchant_status.insert((a.merchant, a.status), key);
    }

    /// The cases under `keys`, in their order.
    fn rows<'a>(&'a self, keys: Option<&'a BTreeSet<NewestKey<AfterSaleId>>>) -> impl Iterator<Item = &'a AfterSale> {
        keys.into_iter().flatten().filter_map(|(_, Reverse(id))| self.cases.get(id))
    }

    /// The smallest index that holds every case `filter` admits (newest first).
    fn candidates(&self, filter: &AfterSaleFilter) -> Option<&BTreeSet<NewestKey<AfterSaleId>>> {
        let mut sets: Vec<Option<&BTreeSet<_>>> = Vec::with_capacity(3);
        if let Some(o) = filter.order {
            sets.push(self.by_order.get(&o));
        }
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

/// Cases inserted or updated by a batch.
#[derive(Default)]
pub(crate) struct AfterSaleBatch {
    cases: Staged<AfterSaleId, AfterSale>,
}

impl AfterSaleBatch {
    /// Stages one write.
    pub(crate) fn stage(&mut self, base: &AfterSales, write: AfterSaleWrite) -> Result<(), GuardFailure> {
        match write {
            AfterSaleWrite::Insert(row) => self.insert(base, row),
            AfterSaleWrite::Update(row) => self.update(base, row),
        }
    }

    /// Guard: the id is not taken.
    pub(crate) fn insert(&mut self, base: &AfterSales, a: AfterSale) -> Result<(), GuardFailure> {
        self.cases.insert_new(&base.cases, "after_sale", (a.id, a.id.0), a)
    }

    /// Guard: the stored version equals the case's; bumps it.
    pub(crate) fn update(&mut self, base: &AfterSales, a: AfterSale) -> Result<(), GuardFailure> {
        self.cases.replace_versioned(&base.cases, "after_sale", (a.id, a.id.0), a)
    }

    pub(crate) fn commit(self, state: &mut AfterSales) {
        for (id, new) in self.cases.0 {
            if let Some(old) = state.cases.remove(&id) {
                state.unindex(&old);
            }
            state.index(&new);
            state.cases.insert(id, new);
        }
    }
}

#[async_trait]
impl AfterSalesStore for MemoryStore {
    async fn after_sale(&self, id: AfterSaleId) -> Result<Option<AfterSale>, StoreError> {
        Ok(self.read().after_sales.cases.get(&id).cloned())
    }
    async fn after_sales_of_order(&self, order: OrderId) -> Result<Vec<AfterSale>, StoreError> {
        let state = self.read();
        let cases = &state.after_sales;
        let mut of_order: Vec<AfterSale> = cases.rows(cases.by_order.get(&order)).cloned().collect();
        of_order.sort_unstable_by_key(|a| a.id);
        Ok(of_order)
    }
    async fn after_sales_of_merchant(&self, merchant: MerchantId) -> Result<Vec<AfterSale>, StoreError> {
        let state = self.read();
        let cases = &state.after_sales;
        Ok(cases.rows(cases.by_merchant.get(&merchant)).cloned().collect())
    }
    async fn list_after_sales(
        &self,
        filter: &AfterSaleFilter,
        page: PageRequest,
    ) -> Result<Page<AfterSale>, StoreError> {
        let state = self.read();
        let cases = &state.after_sales;
        let rows = cases.rows(cases.candidates(filter)).filter(|c| filter.admits(c));
        Ok(page.page_from_iter(rows).map(AfterSale::clone))
    }
}
