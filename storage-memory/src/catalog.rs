//! Catalog: categories, merchants, products and SKUs, with the indexes that
//! serve product search without reading the whole catalogue.
//!
//! Kept up to date in [`CatalogBatch::commit`] for every product a batch
//! touches (its own row, or one of its SKUs by `PutSku` or `MoveStock`):
//!
//! - per product, its [`Facts`] (price range, units sold and available over
//!   its SKUs), stored next to the row;
//! - per listing status, one ordered set per sort (newest, price ascending,
//!   price descending, sales), each in exactly [`ProductSort::compare`]'s
//!   order; a search with no status merges the two statuses' sets;
//! - postings (ascending product ids) per search token (core's
//!   [`search_tokens`] of the name), per category and per merchant;
//! - the SKU ids of each product.
//!
//! A search ([`Catalog::search`]) picks the smallest candidate set the
//! filter names: the keyword's token postings (intersected smallest
//! first), the categories' postings, the merchant's, or the products whose
//! lowest price is in the asked range (probed up to [`SMALL`] rows). When it
//! holds at most [`SMALL`] products they are filtered with
//! [`ProductFilter::admits`], ordered with [`ProductSort::compare`] and
//! paged. Otherwise the sort's ordered set (the price range of it, for the
//! price sorts) is walked, each row filtered, until the page is full and
//! `COUNT_CAP + 1` matches are counted; a walk that reads as many rows as
//! the smallest candidate set holds without finishing gives up and pages
//! that set instead, so no search reads more than about twice the smaller
//! of the two.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::ops::Bound;

use async_trait::async_trait;
use mallkit_core::catalog::{
    Category, Merchant, Product, ProductFilter, ProductSort, ProductStatus, ProductSummary, Sku, StockMove,
    search_tokens,
};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId};
use mallkit_core::money::Money;
use mallkit_core::page::{COUNT_CAP, Page, PageRequest};
use mallkit_core::storage::{CatalogStore, GuardFailure, StoreError};

use crate::{MemoryStore, Postings, Staged, missing};

/// Candidate sets up to this many products are collected, filtered and
/// sorted; larger ones are served by walking the sort's ordered set.
pub(crate) const SMALL: usize = 4096;

/// What a product list needs of a product's SKUs, as core's `summarize` computes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Facts {
    /// Lowest SKU price (0 without SKUs).
    min_price: Money,
    /// Highest SKU price (0 without SKUs).
    max_price: Money,
    /// Units sold over the SKUs.
    sales: u64,
    /// Units available over the SKUs.
    available: u64,
}

impl Facts {
    fn of<'a>(skus: impl Iterator<Item = &'a Sku>) -> Facts {
        let mut facts = Facts::default();
        let mut prices: Option<(Money, Money)> = None;
        for s in skus {
            prices = Some(prices.map_or((s.price, s.price), |(lo, hi)| (lo.min(s.price), hi.max(s.price))));
            facts.sales += u64::from(s.stock.sold);
            facts.available += u64::from(s.stock.available);
        }
        if let Some((lo, hi)) = prices {
            (facts.min_price, facts.max_price) = (lo, hi);
        }
        facts
    }
}

/// A product with its facts.
#[derive(Debug, Clone)]
struct Listed {
    product: Product,
    facts: Facts,
}

impl Listed {
    /// The summary without the name (what filtering and sorting read; the
    /// name is filled in for the rows of the page only).
    fn bare_summary(&self) -> ProductSummary {
        let p = &self.product;
        ProductSummary {
            id: p.id,
            name: String::new(),
            merchant: p.merchant,
            category: p.category,
            min_price: self.facts.min_price,
            max_price: self.facts.max_price,
            sales: self.facts.sales,
            available: self.facts.available,
        }
    }
}

type Newest = Reverse<ProductId>;
type PriceAsc = (Money, Reverse<ProductId>);
type PriceDesc = (Reverse<Money>, Reverse<ProductId>);
type Sales = (Reverse<u64>, Reverse<ProductId>);

/// The products of one listing status in each sort's order.
#[derive(Debug, Default)]
struct Sorted {
    newest: BTreeSet<Newest>,
    price_asc: BTreeSet<PriceAsc>,
    price_desc: BTreeSet<PriceDesc>,
    sales: BTreeSet<Sales>,
}

impl Sorted {
    fn insert(&mut self, id: ProductId, f: &Facts) {
        self.newest.insert(Reverse(id));
        self.price_asc.insert((f.min_price, Reverse(id)));
        self.price_desc.insert((Reverse(f.min_price), Reverse(id)));
        self.sales.insert((Reverse(f.sales), Reverse(id)));
    }

    fn remove(&mut self, id: ProductId, f: &Facts) {
        self.newest.remove(&Reverse(id));
        self.price_asc.remove(&(f.min_price, Reverse(id)));
        self.price_desc.remove(&(Reverse(f.min_price), Reverse(id)));
        self.sales.remove(&(Reverse(f.sales), Reverse(id)));
    }
}

/// The slot of a status in [`ListIndex::by_status`].
fn slot(status: ProductStatus) -> usize {
    match status {
        ProductStatus::OnSale => 0,
        ProductStatus::OffSale => 1,
    }
}

/// Every slot, for slices of one.
const SLOTS: [usize; 2] = [0, 1];

/// The search indexes (see the module docs).
#[derive(Debug, Default)]
struct ListIndex {
    by_status: [Sorted; 2],
    tokens: Postings<String, ProductId>,
    categories: Postings<CategoryId, ProductId>,
    merchants: Postings<MerchantId, ProductId>,
}

impl ListIndex {
    /// Moves `id` in the ordered sets when its status or a sort key changed.
    fn resort(&mut self, id: ProductId, old: (ProductStatus, &Facts), new: (ProductStatus, &Facts)) {
        let ((was, f), (now, g)) = (old, new);
        if was != now || f.min_price != g.min_price || f.sales != g.sales {
            self.by_status[slot(was)].remove(id, f);
            self.by_status[slot(now)].insert(id, g);
        }
    }

    /// Moves the entries of product `new` from what `old` (its previous
    /// row, if any) put there.
    fn update(&mut self, old: Option<&Listed>, new: &Listed) {
        let (p, id) = (&new.product, new.product.id);
        match old {
            Some(o) => {
                let q = &o.product;
                self.resort(id, (q.status, &o.facts), (p.status, &new.facts));
                if q.category != p.category {
                    self.categories.remove(&q.category, &id);
                    self.categories.insert(p.category, id);
                }
                if q.merchant != p.merchant {
                    self.merchants.remove(&q.merchant, &id);
                    self.merchants.insert(p.merchant, id);
                }
                if q.name != p.name {
                    let (was, now) = (search_tokens(&q.name), search_tokens(&p.name));
                    for t in was.iter().filter(|t| now.binary_search(t).is_err()) {
                        self.tokens.remove(t, &id);
                    }
                    for t in now.into_iter().filter(|t| was.binary_search(t).is_err()) {
                        self.tokens.insert(t, id);
                    }
                }
            }
            None => {
                self.by_status[slot(p.status)].insert(id, &new.facts);
                self.categories.insert(p.category, id);
                self.merchants.insert(p.merchant, id);
                for t in search_tokens(&p.name) {
                    self.tokens.insert(t, id);
                }
            }
        }
    }
}

/// Categories, merchants, products (with their facts), SKUs and the search indexes.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    categories: BTreeMap<CategoryId, Category>,
    merchants: BTreeMap<MerchantId, Merchant>,
    products: BTreeMap<ProductId, Listed>,
    skus: BTreeMap<SkuId, Sku>,
    /// The SKUs of each product id (also of ids with no product row yet).
    skus_of: Postings<ProductId, SkuId>,
    index: ListIndex,
}

/// Catalog rows written by a batch.
#[derive(Default)]
pub(crate) struct CatalogBatch {
    categories: Staged<CategoryId, Category>,
    merchants: Staged<MerchantId, Merchant>,
    products: Staged<ProductId, Product>,
    skus: Staged<SkuId, Sku>,
}

impl CatalogBatch {
    pub(crate) fn put_category(&mut self, c: Category) {
        self.categories.put(c.id, c);
    }

    pub(crate) fn put_merchant(&mut self, m: Merchant) {
        self.merchants.put(m.id, m);
    }

    pub(crate) fn put_product(&mut self, p: Product) {
        self.products.put(p.id, p);
    }

    /// Creates a SKU, or replaces its details keeping its stored stock.
    pub(crate) fn put_sku(&mut self, base: &Catalog, mut s: Sku) {
        if let Some(old) = self.skus.get(&base.skus, s.id) {
            s.stock = old.stock;
        }
        self.skus.put(s.id, s);
    }

    /// Guards: the SKU exists; `Stock::apply`'s bucket guard.
    pub(crate) fn move_stock(
        &mut self,
        base: &Catalog,
        sku: SkuId,
        movement: StockMove,
        quantity: u32,
    ) -> Result<(), GuardFailure> {
        let row = self.skus.get(&base.skus, sku).ok_or(missing("sku", sku.0))?;
        row.stock.apply(sku, movement, quantity)?;
        Ok(())
    }

    /// Moves the rows into the state, then recomputes the facts and index
    /// entries of every product touched (by its row or one of its SKUs).
    pub(crate) fn commit(self, state: &mut Catalog) {
        self.categories.commit(&mut state.categories);
        self.merchants.commit(&mut state.merchants);
        let mut touched: BTreeSet<ProductId> = self.products.0.keys().copied().collect();
        for (id, new) in &self.skus.0 {
            touched.insert(new.product);
            match state.skus.get(id) {
                Some(old) if old.product == new.product => {}
                Some(old) => {
                    touched.insert(old.product);
                    state.skus_of.remove(&old.product, id);
                    state.skus_of.insert(new.product, *id);
                }
                None => state.skus_of.insert(new.product, *id),
            }
        }
        self.skus.commit(&mut state.skus);
        let mut products = self.products.0;
        for id in touched {
            let skus = state.skus_of.get(&id).into_iter().flatten().filter_map(|s| state.skus.get(s));
            let facts = Facts::of(skus);
            match products.remove(&id) {
                Some(product) => {
                    let new = Listed { product, facts };
                    state.index.update(state.products.get(&id), &new);
                    state.products.insert(id, new);
                }
                None => {
                    // only SKUs moved: the row stays, its facts change in place
                    let Some(listed) = state.products.get_mut(&id) else { continue };
                    if listed.facts != facts {
                        let status = listed.product.status;
                        state.index.resort(id, (status, &listed.facts), (status, &facts));
                        listed.facts = facts;
                    }
                }
            }
        }
    }
}

/// Where a search finds its candidates.
enum Source<'a> {
    /// Every token posting of the keyword, smallest first: the first, less
    /// the ids missing from any other.
    Tokens(Vec<&'a BTreeSet<ProductId>>),
    /// The postings of the categories (disjoint: a product has one category).
    Categories(Vec<&'a BTreeSet<ProductId>>),
    /// The merchant's posting.
    Merchant(&'a BTreeSet<ProductId>),
    /// The products whose lowest price is in the range asked.
    Ids(Vec<ProductId>),
}

impl<'a> Source<'a> {
    /// An upper bound of the candidates.
    fn size(&self) -> usize {
        match self {
            Source::Tokens(sets) => sets.first().map_or(0, |s| s.len()),
            Source::Categories(sets) => sets.iter().map(|s| s.len()).sum(),
            Source::Merchant(set) => set.len(),
            Source::Ids(ids) => ids.len(),
        }
    }

    fn ids(&self) -> Box<dyn Iterator<Item = ProductId> + '_> {
        match self {
            Source::Tokens(sets) => match sets.split_first() {
                Some((first, rest)) => Box::new(first.iter().copied().filter(|id| rest.iter().all(|s| s.contains(id)))),
                None => Box::new(std::iter::empty()),
            },
            Source::Categories(sets) => Box::new(sets.iter().flat_map(|s| s.iter().copied())),
            Source::Merchant(set) => Box::new(set.iter().copied()),
            Source::Ids(ids) => Box::new(ids.iter().copied()),
        }
    }
}

/// Merges ascending iterators into one ascending iterator.
struct Merge<I: Iterator>(Vec<Peekable<I>>);

impl<I: Iterator> Iterator for Merge<I>
where
    I::Item: Ord,
{
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let best = (self.0.iter_mut().enumerate())
            .filter_map(|(i, it)| it.peek().map(|head| (i, head)))
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(i, _)| i)?;
        self.0.get_mut(best)?.next()
    }
}

/// The ids of `sets` (one per status asked) in the key order, over `range`
/// of keys (none when the range is empty: `BTreeSet::range` would panic).
fn walk<'a, K: Ord + Copy + 'a>(
    sets: impl Iterator<Item = &'a BTreeSet<K>>,
    range: (Bound<K>, Bound<K>),
    id: fn(&K) -> ProductId,
) -> Box<dyn Iterator<Item = ProductId> + 'a> {
    let empty = match range {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => a >= b,
        _ => false,
    };
    if empty {
        return Box::new(std::iter::empty());
    }
    Box::new(Merge(sets.map(|s| s.range(range).peekable()).collect()).map(id))
}

/// The rows of a page out of the ids in list order: `None` when `budget`
/// rows were read without filling the page and counting past the cap
/// (the same steps as [`PageRequest::page_from_iter`]).
fn page_of_walk(
    page: PageRequest,
    ids: impl Iterator<Item = ProductId>,
    budget: usize,
    mut admit: impl FnMut(ProductId) -> Option<ProductSummary>,
) -> Option<Page<ProductSummary>> {
    let offset = page.offset();
    let keep = page.fetch() as usize;
    let mut counted = 0u64;
    let mut items = Vec::with_capacity(keep);
    for (read, id) in ids.enumerate() {
        if read >= budget {
            return None;
        }
        let Some(row) = admit(id) else { continue };
        counted += 1;
        if counted > offset && items.len() < keep {
            items.push(row);
        } else if counted > COUNT_CAP && items.len() >= keep {
            break;
        }
    }
    Some(page.page_of(items, counted))
}

impl Catalog {
    /// The bare summary of `id` when `filter` admits it.
    fn admit(&self, filter: &ProductFilter, id: ProductId) -> Option<ProductSummary> {
        let listed = self.products.get(&id)?;
        let summary = listed.bare_summary();
        filter.admits(&listed.product, &summary).then_some(summary)
    }

    /// The smallest candidate set the filter names; `Err` with an empty
    /// page when one of them is empty (nothing can match).
    fn source(&self, filter: &ProductFilter, slots: &[usize]) -> Result<Option<Source<'_>>, ()> {
        let mut sources: Vec<Source<'_>> = Vec::new();
        if let Some(k) = &filter.keyword {
            let mut sets = Vec::new();
            for t in k.tokens() {
                sets.push(self.index.tokens.get(&t).ok_or(())?);
            }
            sets.sort_by_key(|s| s.len());
            sources.push(Source::Tokens(sets));
        }
        if let Some(categories) = &filter.categories {
            sources.push(Source::Categories(categories.iter().filter_map(|c| self.index.categories.get(c)).collect()));
        }
        if let Some(m) = filter.merchant {
            sources.push(Source::Merchant(self.index.merchants.get(&m).ok_or(())?));
        }
        if filter.min_price.is_some() || filter.max_price.is_some() {
            let range = price_asc_range(filter);
            let mut ids: Vec<ProductId> =
                walk(slots.iter().map(|&s| &self.index.by_status[s].price_asc), range, |k| k.1.0)
                    .take(SMALL + 1)
                    .collect();
            if ids.len() <= SMALL {
                ids.sort_unstable();
                sources.push(Source::Ids(ids));
            }
        }
        let best = sources.into_iter().min_by_key(Source::size);
        if best.as_ref().is_some_and(|s| s.size() == 0) {
            return Err(());
        }
        Ok(best)
    }

    /// The ids of the statuses in `slots` in the order of `filter.sort`
    /// (for the price sorts, only those in the asked price range).
    fn in_order<'a>(&'a self, filter: &ProductFilter, slots: &'a [usize]) -> Box<dyn Iterator<Item = ProductId> + 'a> {
        let sets = slots.iter().map(|&s| &self.index.by_status[s]);
        match filter.sort {
            ProductSort::Newest => walk(sets.map(|s| &s.newest), (Bound::Unbounded, Bound::Unbounded), |k| k.0),
            ProductSort::Sales => walk(sets.map(|s| &s.sales), (Bound::Unbounded, Bound::Unbounded), |k| k.1.0),
            ProductSort::PriceAsc => walk(sets.map(|s| &s.price_asc), price_asc_range(filter), |k| k.1.0),
            ProductSort::PriceDesc => walk(sets.map(|s| &s.price_desc), price_desc_range(filter), |k| k.1.0),
        }
    }

    /// One page of the products `filter` admits (see the module docs).
    fn search(&self, filter: &ProductFilter, page: PageRequest) -> Page<ProductSummary> {
        let slots: &[usize] = match filter.status {
            Some(s) => std::slice::from_ref(&SLOTS[slot(s)]),
            None => &[0, 1],
        };
        let source = match self.source(filter, slots) {
            Ok(source) => source,
            Err(()) => return page.page_of(Vec::new(), 0),
        };
        let budget = source.as_ref().map_or(usize::MAX, Source::size);
        let walked = if budget <= SMALL {
            None
        } else {
            page_of_walk(page, self.in_order(filter, slots), budget, |id| self.admit(filter, id))
        };
        let mut found = match (walked, source) {
            (Some(found), _) => found,
            (None, Some(source)) => self.collect(filter, page, source.ids()),
            (None, None) => page.page_of(Vec::new(), 0),
        };
        for row in &mut found.items {
            if let Some(listed) = self.products.get(&row.id) {
                row.name.clone_from(&listed.product.name);
            }
        }
        found
    }

    /// The page out of candidates `ids`: filtered, ordered (only as far as the page), paged.
    fn collect(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
        ids: impl Iterator<Item = ProductId>,
    ) -> Page<ProductSummary> {
        let mut found: Vec<ProductSummary> = ids.filter_map(|id| self.admit(filter, id)).collect();
        let counted = found.len() as u64;
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let end = offset.saturating_add(page.fetch() as usize);
        let order = |a: &ProductSummary, b: &ProductSummary| filter.sort.compare(a, b);
        if end < found.len() {
            found.select_nth_unstable_by(end, order);
            found.truncate(end);
        }
        found.sort_unstable_by(order);
        let rows = if offset < found.len() { found.split_off(offset) } else { Vec::new() };
        page.page_of(rows, counted)
    }
}

/// The range of price-ascending keys whose price is within the filter's bounds.
fn price_asc_range(filter: &ProductFilter) -> (Bound<PriceAsc>, Bound<PriceAsc>) {
    // Within one price, ids run descending: the first key of a price holds
    // the highest id, the last the lowest.
    let lo = filter.min_price.map_or(Bound::Unbounded, |m| Bound::Included((m, Reverse(ProductId(u64::MAX)))));
    let hi = filter.max_price.map_or(Bound::Unbounded, |m| Bound::Included((m, Reverse(ProductId(0)))));
    (lo, hi)
}

/// The range of price-descending keys whose price is within the filter's bounds.
fn price_desc_range(filter: &ProductFilter) -> (Bound<PriceDesc>, Bound<PriceDesc>) {
    let lo = filter.max_price.map_or(Bound::Unbounded, |m| Bound::Included((Reverse(m), Reverse(ProductId(u64::MAX)))));
    let hi = filter.min_price.map_or(Bound::Unbounded, |m| Bound::Included((Reverse(m), Reverse(ProductId(0)))));
    (lo, hi)
}

impl MemoryStore {
    /// Every SKU, by id (for invariant checks and reports).
    pub fn all_skus(&self) -> Vec<Sku> {
        self.read().catalog.skus.values().cloned().collect()
    }
}

#[async_trait]
impl CatalogStore for MemoryStore {
    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        Ok(self.read().catalog.categories.values().cloned().collect())
    }
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, StoreError> {
        Ok(self.read().catalog.merchants.get(&id).cloned())
    }
    async fn products(&self) -> Result<Vec<Product>, StoreError> {
        Ok(self.read().catalog.products.values().map(|l| l.product.clone()).collect())
    }
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self.read().catalog.products.get(&id).map(|l| l.product.clone()))
    }
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError> {
        Ok(self.read().catalog.skus.get(&id).cloned())
    }
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError> {
        let state = self.read();
        let catalog = &state.catalog;
        Ok(catalog.skus_of.get(&product).into_iter().flatten().filter_map(|s| catalog.skus.get(s)).cloned().collect())
    }
    async fn skus(&self) -> Result<Vec<Sku>, StoreError> {
        Ok(self.all_skus())
    }
    async fn search_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, StoreError> {
        Ok(self.read().catalog.search(filter, page))
    }
}
