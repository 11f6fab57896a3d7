//! Catalog: categories, merchants, products and SKUs, with the indexes that
//! serve product search without reading the whole catalogue.
//!
//! Products live in a slab, one slot each in the order they were first
//! written (so postings walked in slot order read the slab front to back).
//! Kept up to date in [`CatalogBatch::commit`] for every product a batch
//! touches (its own row, or one of its SKUs by `PutSku` or `MoveStock`):
//!
//! - per product, its [`Facts`] (price range, units sold and available over
//!   its SKUs, as core's `summarize` computes them) and its search text
//!   (core's `search_text` of the name), stored next to the row;
//! - per listing status, one ordered set per sort (newest, price ascending,
//!   price descending, sales), each in exactly [`ProductSort::compare`]'s
//!   order; a search with no status merges the two statuses' sets;
//! - postings (ascending slots) per search token (core's [`search_tokens`]
//!   of the name), per category and per merchant;
//! - the SKU ids of each product.
//!
//! A search ([`Catalog::search`]) sizes the candidate sets the filter
//! names: the keyword's smallest token posting (the stored-text test of a
//! candidate, read in slot order, is cheaper than probing it in the other
//! postings), the categories' postings, the merchant's, the products whose
//! lowest price is in the asked range (counted up to [`PRICE_PROBE`]), and
//! takes the smallest. When that set is small ([`SMALL`]), or when walking
//! the sort's order would likely cost more than collecting the set (the
//! rows a walk likely reads: those a page needs, `offset + page_size + 1`
//! but at least `COUNT_CAP + 1`, times the rows in the sort's order over
//! the set's size; costs per row measured, [`COLLECT`]), it collects the
//! set, filters each row, orders the matches with [`ProductSort::compare`]
//! (only as far as the page) and pages them. Otherwise it walks the sort's
//! ordered set (the price range of it, for the price sorts), filtering each
//! row, until the page is full and `COUNT_CAP + 1` matches are counted; a
//! walk that has cost as much as collecting without finishing gives up and
//! collects the set instead. So a search costs at most about twice
//! collecting its smallest candidate set, and one naming none (status and
//! sort alone) reads about `COUNT_CAP` rows.
//!
//! Each row is filtered by [`ProductFilter::admits`], with the keyword
//! tested first on the stored search text (`Keyword::matches`' own test,
//! `search_text(name).contains(keyword)`, without lower-casing the name
//! again), so that rows it rejects cost no allocation.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::ops::Bound;

use async_trait::async_trait;
use mallkit_core::catalog::search::search_text;
use mallkit_core::catalog::{
    Category, Merchant, Product, ProductFilter, ProductSort, ProductStatus, ProductSummary, Sku, StockMove,
    search_tokens,
};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId};
use mallkit_core::money::Money;
use mallkit_core::page::{COUNT_CAP, Page, PageRequest};
use mallkit_core::storage::{CatalogStore, CatalogWrite, GuardFailure, StockWrite, StoreError};

use crate::{IdMap, MemoryStore, Postings, Staged, missing};

/// Candidate sets up to this many products are always collected, filtered
/// and sorted.
pub(crate) const SMALL: usize = 4096;

/// Most keys of a price range counted to size it as a candidate set (a
/// wider range is no candidate set; counting is a walk over sequential
/// keys, about a millisecond).
const PRICE_PROBE: usize = 1 << 18;

/// The cost of reading one row walking newest first (the slab read
/// backwards, about 100 ns at a million products, as measured by
/// `tests::walk_and_collect_side_by_side`), in the units of [`COLLECT`].
const WALK_NEWEST: u64 = 10;
/// The cost of reading one row walking a price or sales order (a random
/// read of the slab, 150–600 ns).
const WALK_RANDOM: u64 = 40;
/// The cost of one candidate collected (read in slot order, kept and
/// ordered: 130–260 ns).
const COLLECT: u64 = 20;

/// A product's place in the slab.
type Slot = u32;

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

/// A product with its facts and its search text.
#[derive(Debug, Clone)]
struct Listed {
    product: Product,
    facts: Facts,
    /// `search_text(name)` when it differs from the name.
    text: Option<Box<str>>,
}

impl Listed {
    fn new(product: Product, facts: Facts) -> Listed {
        let text = search_text(&product.name);
        let text = (text != product.name).then(|| text.into_boxed_str());
        Listed { product, facts, text }
    }

    /// The lower-cased name keywords are matched against.
    fn text(&self) -> &str {
        self.text.as_deref().unwrap_or(&self.product.name)
    }

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

type Newest = (Reverse<ProductId>, Slot);
type PriceAsc = (Money, Reverse<ProductId>, Slot);
type PriceDesc = (Reverse<Money>, Reverse<ProductId>, Slot);
type Sales = (Reverse<u64>, Reverse<ProductId>, Slot);

/// The products of one listing status in each sort's order (the slot
/// rides along: ids are unique, so it never decides the order).
#[derive(Debug, Default)]
struct Sorted {
    newest: BTreeSet<Newest>,
    price_asc: BTreeSet<PriceAsc>,
    price_desc: BTreeSet<PriceDesc>,
    sales: BTreeSet<Sales>,
}

impl Sorted {
    fn insert(&mut self, id: ProductId, at: Slot, f: &Facts) {
        self.newest.insert((Reverse(id), at));
        self.price_asc.insert((f.min_price, Reverse(id), at));
        self.price_desc.insert((Reverse(f.min_price), Reverse(id), at));
        self.sales.insert((Reverse(f.sales), Reverse(id), at));
    }

    fn remove(&mut self, id: ProductId, at: Slot, f: &Facts) {
        self.newest.remove(&(Reverse(id), at));
        self.price_asc.remove(&(f.min_price, Reverse(id), at));
        self.price_desc.remove(&(Reverse(f.min_price), Reverse(id), at));
        self.sales.remove(&(Reverse(f.sales), Reverse(id), at));
    }
}

/// The place of a status in [`ListIndex::by_status`].
fn status_slot(status: ProductStatus) -> usize {
    match status {
        ProductStatus::OnSale => 0,
        ProductStatus::OffSale => 1,
    }
}

/// Every place, for slices of one.
const STATUSES: [usize; 2] = [0, 1];

/// The search indexes (see the module docs).
#[derive(Debug, Default)]
struct ListIndex {
    by_status: [Sorted; 2],
    tokens: Postings<String, Slot>,
    categories: Postings<CategoryId, Slot>,
    merchants: Postings<MerchantId, Slot>,
}

impl ListIndex {
    /// Moves a product in the ordered sets when its status or a sort key changed.
    fn resort(&mut self, id: ProductId, at: Slot, old: (ProductStatus, &Facts), new: (ProductStatus, &Facts)) {
        let ((was, f), (now, g)) = (old, new);
        if was != now || f.min_price != g.min_price || f.sales != g.sales {
            self.by_status[status_slot(was)].remove(id, at, f);
            self.by_status[status_slot(now)].insert(id, at, g);
        }
    }

    /// Moves the entries of product `new` at `at` from what `old` (its
    /// previous row, if any) put there.
    fn update(&mut self, at: Slot, old: Option<&Listed>, new: &Listed) {
        let (p, id) = (&new.product, new.product.id);
        let Some(o) = old else {
            self.by_status[status_slot(p.status)].insert(id, at, &new.facts);
            self.categories.insert(p.category, at);
            self.merchants.insert(p.merchant, at);
            for t in search_tokens(&p.name) {
                self.tokens.insert(t, at);
            }
            return;
        };
        let q = &o.product;
        self.resort(id, at, (q.status, &o.facts), (p.status, &new.facts));
        if q.category != p.category {
            self.categories.remove(&q.category, &at);
            self.categories.insert(p.category, at);
        }
        if q.merchant != p.merchant {
            self.merchants.remove(&q.merchant, &at);
            self.merchants.insert(p.merchant, at);
        }
        if q.name != p.name {
            let (was, now) = (search_tokens(&q.name), search_tokens(&p.name));
            for t in was.iter().filter(|t| now.binary_search(t).is_err()) {
                self.tokens.remove(t, &at);
            }
            for t in now.into_iter().filter(|t| was.binary_search(t).is_err()) {
                self.tokens.insert(t, at);
            }
        }
    }
}

/// Categories, merchants, products (with their facts), SKUs and the search indexes.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    categories: BTreeMap<CategoryId, Category>,
    merchants: BTreeMap<MerchantId, Merchant>,
    /// The products, by slot.
    rows: Vec<Listed>,
    /// The slot of each product.
    slots: IdMap<ProductId, Slot>,
    skus: BTreeMap<SkuId, Sku>,
    /// The SKUs of each product id, ascending (also of ids with no product row yet).
    skus_of: IdMap<ProductId, Vec<SkuId>>,
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
    /// Stages one catalog write.
    pub(crate) fn stage(&mut self, base: &Catalog, write: CatalogWrite) {
        match write {
            CatalogWrite::PutCategory(c) => self.put_category(c),
            CatalogWrite::PutMerchant(m) => self.put_merchant(m),
            CatalogWrite::PutProduct(p) => self.put_product(p),
            CatalogWrite::PutSku(s) => self.put_sku(base, s),
        }
    }

    /// Stages one stock write (the SKU rows live with the catalog).
    pub(crate) fn stage_stock(&mut self, base: &Catalog, write: StockWrite) -> Result<(), GuardFailure> {
        match write {
            StockWrite::Move { sku, movement, quantity } => self.move_stock(base, sku, movement, quantity),
        }
    }

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

    /// Whether committing would take more products than the slab can number.
    pub(crate) fn overflows(&self, base: &Catalog) -> bool {
        let new = self.products.0.keys().filter(|id| !base.slots.contains_key(id)).count();
        base.rows.len().saturating_add(new) > Slot::MAX as usize
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
                    detach(&mut state.skus_of, old.product, *id);
                    attach(&mut state.skus_of, new.product, *id);
                }
                None => attach(&mut state.skus_of, new.product, *id),
            }
        }
        self.skus.commit(&mut state.skus);
        let mut products = self.products.0;
        for id in touched {
            let skus = state.skus_of.get(&id).into_iter().flatten().filter_map(|s| state.skus.get(s));
            let facts = Facts::of(skus);
            let at = state.slots.get(&id).copied();
            match (products.remove(&id), at) {
                (Some(product), Some(at)) => {
                    let new = Listed::new(product, facts);
                    if let Some(row) = state.rows.get_mut(at as usize) {
                        state.index.update(at, Some(row), &new);
                        *row = new;
                    }
                }
                (Some(product), None) => {
                    // `overflows` was checked before the commit
                    let at = Slot::try_from(state.rows.len()).unwrap_or(Slot::MAX);
                    let new = Listed::new(product, facts);
                    state.index.update(at, None, &new);
                    state.rows.push(new);
                    state.slots.insert(id, at);
                }
                (None, Some(at)) => {
                    // only SKUs moved: the row stays, its facts change
                    if let Some(row) = state.rows.get_mut(at as usize)
                        && row.facts != facts
                    {
                        let status = row.product.status;
                        state.index.resort(id, at, (status, &row.facts), (status, &facts));
                        row.facts = facts;
                    }
                }
                (None, None) => {}
            }
        }
    }
}

fn attach(skus_of: &mut IdMap<ProductId, Vec<SkuId>>, product: ProductId, sku: SkuId) {
    let skus = skus_of.entry(product).or_default();
    if let Err(at) = skus.binary_search(&sku) {
        skus.insert(at, sku);
    }
}

fn detach(skus_of: &mut IdMap<ProductId, Vec<SkuId>>, product: ProductId, sku: SkuId) {
    if let Some(skus) = skus_of.get_mut(&product) {
        if let Ok(at) = skus.binary_search(&sku) {
            skus.remove(at);
        }
        if skus.is_empty() {
            skus_of.remove(&product);
        }
    }
}

/// Where a search finds its candidates.
enum Source<'a> {
    /// The keyword's smallest token posting; true when having the token
    /// decides the match (a keyword of one or two characters).
    Token(&'a BTreeSet<Slot>, bool),
    /// One posting: one category, the merchant.
    Posting(&'a BTreeSet<Slot>),
    /// The postings of several categories (disjoint: a product has one category).
    Postings(Vec<&'a BTreeSet<Slot>>),
    /// This many products (of the statuses asked) whose lowest price is in
    /// the asked range.
    Price(usize),
}

impl Source<'_> {
    /// How many candidates (at least as many as the matches).
    fn size(&self) -> usize {
        match self {
            Source::Token(set, _) | Source::Posting(set) => set.len(),
            Source::Postings(sets) => sets.iter().map(|s| s.len()).sum(),
            Source::Price(n) => *n,
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
        if let [one] = self.0.as_mut_slice() {
            return one.next();
        }
        let best = (self.0.iter_mut().enumerate())
            .filter_map(|(i, it)| it.peek().map(|head| (i, head)))
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(i, _)| i)?;
        self.0.get_mut(best)?.next()
    }
}

/// The slots of `sets` (one per status asked) in the key order, over
/// `range` of keys (none when the range is empty: `BTreeSet::range` would
/// panic).
fn walk<'a, K: Ord + Copy + 'a>(
    sets: impl Iterator<Item = &'a BTreeSet<K>>,
    range: (Bound<K>, Bound<K>),
    slot: fn(&K) -> Slot,
) -> Box<dyn Iterator<Item = Slot> + 'a> {
    let empty = match range {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => a >= b,
        _ => false,
    };
    if empty {
        return Box::new(std::iter::empty());
    }
    Box::new(Merge(sets.map(|s| s.range(range).peekable()).collect()).map(slot))
}

/// The rows of a page out of the slots in list order: `None` when `budget`
/// rows were read without filling the page and counting past the cap
/// (the same steps as [`PageRequest::page_from_iter`]).
fn page_of_walk(
    page: PageRequest,
    slots: impl Iterator<Item = Slot>,
    budget: usize,
    mut admit: impl FnMut(Slot) -> Option<ProductSummary>,
) -> Option<Page<ProductSummary>> {
    let offset = page.offset();
    let keep = page.fetch() as usize;
    let mut counted = 0u64;
    let mut items = Vec::with_capacity(keep);
    for (read, at) in slots.enumerate() {
        if read >= budget {
            return None;
        }
        let Some(row) = admit(at) else { continue };
        counted += 1;
        if counted > offset && items.len() < keep {
            items.push(row);
        } else if counted > COUNT_CAP && items.len() >= keep {
            break;
        }
    }
    Some(page.page_of(items, counted))
}

/// A search in progress: the filter, and the statuses it reads.
struct Search<'a> {
    catalog: &'a Catalog,
    filter: &'a ProductFilter,
    /// The filter without its keyword (tested on the stored text first).
    rest: ProductFilter,
    statuses: &'a [usize],
}

/// A keyword as a pattern: one character is searched as a `char` (a byte
/// scan), longer ones as a string.
#[derive(Clone, Copy)]
enum Needle<'a> {
    Any,
    Char(char),
    Text(&'a str),
}

impl Needle<'_> {
    fn of(filter: &ProductFilter) -> Needle<'_> {
        let Some(k) = &filter.keyword else { return Needle::Any };
        let mut chars = k.as_str().chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Needle::Char(c),
            _ => Needle::Text(k.as_str()),
        }
    }

    fn found_in(self, text: &str) -> bool {
        match self {
            Needle::Any => true,
            Needle::Char(c) => text.contains(c),
            Needle::Text(t) => text.contains(t),
        }
    }
}

impl<'a> Search<'a> {
    /// The bare summary of the product at `at` when the filter admits it
    /// (`needle`: the keyword still to test, `Needle::Any` when the
    /// candidate set already decided it).
    fn admit(&self, at: Slot, needle: Needle<'_>) -> Option<ProductSummary> {
        let listed = self.catalog.rows.get(at as usize)?;
        if !needle.found_in(listed.text()) {
            return None;
        }
        let summary = listed.bare_summary();
        self.rest.admits(&listed.product, &summary).then_some(summary)
    }

    fn sorted(&self) -> impl Iterator<Item = &'a Sorted> + 'a {
        let by_status = &self.catalog.index.by_status;
        self.statuses.iter().filter_map(|&s| by_status.get(s))
    }

    /// The products whose lowest price is within the filter's bounds, by price.
    fn price_range(&self) -> Box<dyn Iterator<Item = Slot> + 'a> {
        walk(self.sorted().map(|s| &s.price_asc), price_asc_range(self.filter), |k| k.2)
    }

    /// Every candidate set the filter names, sized; `None` when one of them
    /// is empty (nothing can match).
    fn sources(&self) -> Option<Vec<Source<'a>>> {
        let index = &self.catalog.index;
        let mut sources: Vec<Source<'a>> = Vec::new();
        if let Some(k) = &self.filter.keyword {
            let mut sets = Vec::new();
            for t in k.tokens() {
                sets.push(index.tokens.get(&t)?);
            }
            // The smallest posting is the candidate set: the stored-text
            // test of each candidate (read in slot order) is cheaper than
            // probing it in the other postings.
            let decides = k.tokens_decide();
            sources.extend(sets.into_iter().min_by_key(|s| s.len()).map(|s| Source::Token(s, decides)));
        }
        if let Some(categories) = &self.filter.categories {
            let mut sets: Vec<&BTreeSet<Slot>> = categories.iter().filter_map(|c| index.categories.get(c)).collect();
            match sets.len() {
                1 => sources.extend(sets.pop().map(Source::Posting)),
                _ => sources.push(Source::Postings(sets)),
            }
        }
        if let Some(m) = self.filter.merchant {
            sources.push(Source::Posting(index.merchants.get(&m)?));
        }
        if self.filter.min_price.is_some() || self.filter.max_price.is_some() {
            let n = self.price_range().take(PRICE_PROBE + 1).count();
            if n <= PRICE_PROBE {
                sources.push(Source::Price(n));
            }
        }
        if sources.iter().any(|s| s.size() == 0) {
            return None;
        }
        Some(sources)
    }

    /// The candidates of `source`, in any order.
    fn candidates(&self, source: &'a Source<'a>) -> Box<dyn Iterator<Item = Slot> + 'a> {
        match source {
            Source::Token(set, _) | Source::Posting(set) => Box::new(set.iter().copied()),
            Source::Postings(sets) => Box::new(sets.iter().flat_map(|s| s.iter().copied())),
            Source::Price(_) => self.price_range(),
        }
    }

    /// The products of the statuses asked in the filter's sort order (for
    /// the price sorts, only those in the asked price range).
    fn in_order(&self) -> Box<dyn Iterator<Item = Slot> + 'a> {
        let all = (Bound::Unbounded, Bound::Unbounded);
        match self.filter.sort {
            ProductSort::Newest => walk(self.sorted().map(|s| &s.newest), all, |k| k.1),
            ProductSort::Sales => walk(self.sorted().map(|s| &s.sales), (Bound::Unbounded, Bound::Unbounded), |k| k.2),
            ProductSort::PriceAsc => self.price_range(),
            ProductSort::PriceDesc => {
                walk(self.sorted().map(|s| &s.price_desc), price_desc_range(self.filter), |k| k.2)
            }
        }
    }

    /// The page out of the candidates: filtered, ordered (only as far as
    /// the page), paged.
    fn collect(&self, page: PageRequest, source: &'a Source<'a>) -> Page<ProductSummary> {
        let needle = match source {
            Source::Token(_, true) => Needle::Any,
            _ => Needle::of(self.filter),
        };
        let mut found: Vec<ProductSummary> = self.candidates(source).filter_map(|at| self.admit(at, needle)).collect();
        let counted = found.len() as u64;
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let end = offset.saturating_add(page.fetch() as usize);
        let sort = self.filter.sort;
        let order = |a: &ProductSummary, b: &ProductSummary| sort.compare(a, b);
        if end < found.len() {
            found.select_nth_unstable_by(end, order);
            found.truncate(end);
        }
        found.sort_unstable_by(order);
        let rows = if offset < found.len() { found.split_off(offset) } else { Vec::new() };
        page.page_of(rows, counted)
    }

    /// The page (see the module docs).
    fn page(&self, page: PageRequest) -> Page<ProductSummary> {
        let scope: usize = self.sorted().map(|s| s.newest.len()).sum();
        let Some(sources) = self.sources().filter(|_| scope > 0) else {
            return page.page_of(Vec::new(), 0);
        };
        // the rows in the walk's order: only the price range, for a price sort
        let price_sorted = matches!(self.filter.sort, ProductSort::PriceAsc | ProductSort::PriceDesc);
        let walked_scope = match sources.iter().find(|s| matches!(s, Source::Price(_))) {
            Some(range) if price_sorted => range.size(),
            _ => scope,
        };
        let needle = Needle::of(self.filter);
        let Some(source) = sources.into_iter().min_by_key(Source::size) else {
            return page_of_walk(page, self.in_order(), usize::MAX, |at| self.admit(at, needle))
                .unwrap_or_else(|| page.page_of(Vec::new(), 0));
        };
        let size = source.size() as u64;
        let needed = page.offset().saturating_add(page.fetch()).max(COUNT_CAP + 1);
        // newest first walks the slab backwards; the other orders jump about it
        let walk_cost = if self.filter.sort == ProductSort::Newest { WALK_NEWEST } else { WALK_RANDOM };
        let likely_walk = needed.saturating_mul(walked_scope as u64) / size;
        let collect_cost = size.saturating_mul(COLLECT);
        // a walk may cost as much as collecting before it gives up
        let budget = usize::try_from(collect_cost / walk_cost).unwrap_or(usize::MAX);
        if size > SMALL as u64
            && likely_walk.saturating_mul(walk_cost) < collect_cost
            && let Some(found) = page_of_walk(page, self.in_order(), budget, |at| self.admit(at, needle))
        {
            return found;
        }
        self.collect(page, &source)
    }
}

impl Catalog {
    fn product(&self, id: ProductId) -> Option<&Listed> {
        self.rows.get(*self.slots.get(&id)? as usize)
    }

    /// One page of the products `filter` admits (see the module docs).
    fn search(&self, filter: &ProductFilter, page: PageRequest) -> Page<ProductSummary> {
        let statuses: &[usize] = match filter.status {
            Some(s) => std::slice::from_ref(&STATUSES[status_slot(s)]),
            None => &STATUSES,
        };
        let rest = ProductFilter { keyword: None, ..filter.clone() };
        let mut found = Search { catalog: self, filter, rest, statuses }.page(page);
        for row in &mut found.items {
            if let Some(listed) = self.product(row.id) {
                row.name.clone_from(&listed.product.name);
            }
        }
        found
    }
}

/// The range of price-ascending keys whose price is within the filter's bounds.
fn price_asc_range(filter: &ProductFilter) -> (Bound<PriceAsc>, Bound<PriceAsc>) {
    // Within one price, ids run descending: the first key of a price holds
    // the highest id, the last the lowest.
    let first = |m| Bound::Included((m, Reverse(ProductId(u64::MAX)), 0));
    let last = |m| Bound::Included((m, Reverse(ProductId(0)), Slot::MAX));
    (filter.min_price.map_or(Bound::Unbounded, first), filter.max_price.map_or(Bound::Unbounded, last))
}

/// The range of price-descending keys whose price is within the filter's bounds.
fn price_desc_range(filter: &ProductFilter) -> (Bound<PriceDesc>, Bound<PriceDesc>) {
    let first = |m| Bound::Included((Reverse(m), Reverse(ProductId(u64::MAX)), 0));
    let last = |m| Bound::Included((Reverse(m), Reverse(ProductId(0)), Slot::MAX));
    (filter.max_price.map_or(Bound::Unbounded, first), filter.min_price.map_or(Bound::Unbounded, last))
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
        let mut products: Vec<Product> = self.read().catalog.rows.iter().map(|l| l.product.clone()).collect();
        products.sort_unstable_by_key(|p| p.id);
        Ok(products)
    }
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self.read().catalog.product(id).map(|l| l.product.clone()))
    }
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError> {
        Ok(self.read().catalog.skus.get(&id).cloned())
    }
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError> {
        let state = self.read();
        let catalog = &state.catalog;
        let skus = catalog.skus_of.get(&product).into_iter().flatten();
        Ok(skus.filter_map(|s| catalog.skus.get(s)).cloned().collect())
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! Calibration of the plan at a million products (ignored: run with
    //! `cargo test --release -p mallkit-storage-memory --lib -- --ignored --nocapture`):
    //! times a walk and a collection of the same searches side by side.

    use std::time::Instant;

    use mallkit_core::catalog::{Keyword, Stock};

    use super::*;

    #[test]
    #[ignore = "a million products: run with --release -- --ignored"]
    fn walk_and_collect_side_by_side() {
        let mut catalog = Catalog::default();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut below = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let brands = ["小米", "华为", "苹果", "OPPO", "vivo", "荣耀"];
        let nouns = ["手机", "耳机", "手表", "电脑", "平板", "音箱", "路由器", "充电器"];
        for chunk in 0..250u64 {
            let mut batch = CatalogBatch::default();
            for i in chunk * 4000 + 1..=(chunk + 1) * 4000 {
                let name = format!("{}{} Pro{}", brands[below(6) as usize], nouns[below(8) as usize], below(100));
                let status = if below(12) == 0 { ProductStatus::OffSale } else { ProductStatus::OnSale };
                let (merchant, category) = (MerchantId(1 + below(200)), CategoryId(1 + below(60)));
                batch.put_product(Product { id: ProductId(i), merchant, category, name, status });
                for k in 0..3 {
                    batch.put_sku(
                        &catalog,
                        Sku {
                            id: SkuId(3 * i + k),
                            product: ProductId(i),
                            attributes: Default::default(),
                            price: Money::from_fen(100 * (1 + below(10_000) as i64)),
                            original_price: None,
                            weight_grams: None,
                            stock: Stock { available: 100, reserved: 0, sold: below(500) as u32 },
                        },
                    );
                }
            }
            batch.commit(&mut catalog);
        }
        let page = PageRequest::FIRST;
        let on_sale = ProductFilter { status: Some(ProductStatus::OnSale), ..Default::default() };
        let mut filters = Vec::new();
        for sort in ProductSort::ALL {
            for k in ["手", "耳机", "小米手机", "华为手表 pro"] {
                filters.push(ProductFilter { keyword: Keyword::parse(k).unwrap(), sort, ..on_sale.clone() });
            }
            filters.push(ProductFilter {
                categories: Some((10..15).map(CategoryId).collect()),
                sort,
                ..on_sale.clone()
            });
            filters.push(ProductFilter {
                categories: Some((1..31).map(CategoryId).collect()),
                sort,
                ..on_sale.clone()
            });
            filters.push(ProductFilter { categories: Some(vec![CategoryId(7)]), sort, ..on_sale.clone() });
        }
        for f in &filters {
            let rest = ProductFilter { keyword: None, ..f.clone() };
            let search = Search { catalog: &catalog, filter: f, rest, statuses: &STATUSES[..1] };
            let source = search.sources().unwrap().into_iter().min_by_key(Source::size).unwrap();
            let (mut walk, mut collect) = (f64::MAX, f64::MAX);
            let mut read = 0usize;
            for _ in 0..3 {
                let start = Instant::now();
                let needle = Needle::of(f);
                let a = page_of_walk(page, search.in_order().inspect(|_| read += 1), usize::MAX, |at| {
                    search.admit(at, needle)
                });
                walk = walk.min(start.elapsed().as_secs_f64() * 1e3);
                let start = Instant::now();
                let b = search.collect(page, &source);
                collect = collect.min(start.elapsed().as_secs_f64() * 1e3);
                assert_eq!(a.unwrap(), b);
            }
            println!(
                "{:<60} walk {walk:>8.2} ms ({:>7} rows, {:>5.0} ns/row)  collect {collect:>8.2} ms ({:>7} rows, {:>5.0} ns/row)",
                format!(
                    "{:?} {:?} {:?}",
                    f.sort,
                    f.keyword.as_ref().map(Keyword::as_str),
                    f.categories.as_ref().map(Vec::len)
                ),
                read / 3,
                walk * 1e6 / (read / 3).max(1) as f64,
                source.size(),
                collect * 1e6 / source.size() as f64,
            );
        }
    }
}
