//! Product search on the in-memory store against the reference scan
//! (`ProductFilter::admits` + `ProductSort::compare` over `products()` and
//! `skus()`), on a catalogue large enough to take every query plan: small
//! candidate sets collected and sorted, the sort's ordered set walked to the
//! count cap, and a walk that falls back to its candidate set.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use mallkit_core::catalog::{
    Keyword, Product, ProductFilter, ProductSort, ProductStatus, ProductSummary, Sku, Stock, StockMove, summarize,
};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId};
use mallkit_core::money::Money;
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{CatalogStore, CatalogWrite, StockWrite, Store, Write};
use mallkit_storage_memory::MemoryStore;
use proptest::prelude::*;

const BRANDS: [&str; 3] = ["小米", "华为", "苹果"];
const NOUNS: [&str; 4] = ["手机", "耳机", "手表", "电脑"];
const MODELS: [&str; 4] = ["Pro", "Max", "Lite", ""];

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn name(rng: &mut Rng, i: u64) -> String {
    if i.is_multiple_of(97) {
        // every pair of 米手米 without the substring
        return format!("米手 手米 {i}");
    }
    let brand = BRANDS[rng.below(3) as usize];
    let noun = NOUNS[rng.below(4) as usize];
    let model = MODELS[rng.below(4) as usize];
    format!("{brand}{noun} {model}{}", rng.below(30))
}

fn product(id: u64, name: String, category: u64, merchant: u64, status: ProductStatus) -> Product {
    Product { id: ProductId(id), merchant: MerchantId(merchant), category: CategoryId(category), name, status }
}

fn sku(id: u64, product: u64, fen: i64, sold: u32) -> Sku {
    Sku {
        id: SkuId(id),
        product: ProductId(product),
        attributes: Default::default(),
        price: Money::from_fen(fen),
        original_price: None,
        weight_grams: None,
        stock: Stock { available: 50, reserved: 0, sold },
    }
}

/// `n` products in 8 categories of 4 merchants, 0–3 SKUs each (ids
/// `10 * product + k`), about one in twelve off sale, prices in steps of
/// 0.50 (so many ties), sales 0–40 (many ties).
async fn catalogue(store: &MemoryStore, n: u64) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut batch = Vec::new();
    for i in 1..=n {
        let status = if rng.below(12) == 0 { ProductStatus::OffSale } else { ProductStatus::OnSale };
        let name = name(&mut rng, i);
        batch.push(Write::Catalog(CatalogWrite::PutProduct(product(
            i,
            name,
            1 + rng.below(8),
            1 + rng.below(4),
            status,
        ))));
        for k in 0..rng.below(4) {
            batch.push(Write::Catalog(CatalogWrite::PutSku(sku(
                10 * i + k,
                i,
                50 * (1 + rng.below(400) as i64),
                rng.below(41) as u32,
            ))));
        }
        if batch.len() > 2000 {
            store.apply(std::mem::take(&mut batch)).await.unwrap();
        }
    }
    store.apply(batch).await.unwrap();
}

/// The reference: every product summarised from its SKUs.
async fn everything(store: &MemoryStore) -> Vec<(Product, ProductSummary)> {
    let mut skus: HashMap<ProductId, Vec<Sku>> = HashMap::new();
    for s in store.skus().await.unwrap() {
        skus.entry(s.product).or_default().push(s);
    }
    let products = store.products().await.unwrap();
    products
        .into_iter()
        .map(|p| {
            let s = summarize(&p, skus.get(&p.id).map_or(&[][..], Vec::as_slice));
            (p, s)
        })
        .collect()
}

/// The reference page: the default `search_products`, on precomputed summaries.
fn reference(all: &[(Product, ProductSummary)], filter: &ProductFilter, page: PageRequest) -> Page<ProductSummary> {
    let mut found: Vec<ProductSummary> =
        all.iter().filter(|(p, s)| filter.admits(p, s)).map(|(_, s)| s.clone()).collect();
    found.sort_by(|a, b| filter.sort.compare(a, b));
    page.page_from_iter(found.into_iter())
}

fn kw(text: &str) -> Option<Keyword> {
    Keyword::parse(text).unwrap()
}

fn yuan(n: i64) -> Money {
    Money::from_yuan(n)
}

/// Filters covering every condition alone and in combination.
fn filters() -> Vec<ProductFilter> {
    let keywords: Vec<Option<Keyword>> = [
        None,
        kw("手"),
        kw("机"),
        kw("小米"),
        kw("米手"),
        kw("手机"),
        kw("小米手机"),
        kw("华为手表 pro"),
        kw("PRO"),
        kw("1"),
        kw("米手米"),
        kw("手米"),
        kw("不存在"),
        kw("苹果电脑 Max2"),
    ]
    .into();
    let categories: Vec<Option<Vec<CategoryId>>> = vec![
        None,
        Some(vec![CategoryId(3)]),
        Some(vec![CategoryId(1), CategoryId(2), CategoryId(5), CategoryId(6), CategoryId(7)]),
        Some(vec![]),
        Some(vec![CategoryId(99)]),
    ];
    let prices: [(Option<Money>, Option<Money>); 5] = [
        (None, None),
        (Some(yuan(100)), None),
        (None, Some(yuan(20))),
        (Some(yuan(50)), Some(yuan(60))),
        (Some(Money::ZERO), Some(Money::ZERO)),
    ];
    let mut out = Vec::new();
    for (ki, keyword) in keywords.iter().enumerate() {
        for (ci, cats) in categories.iter().enumerate() {
            for (pi, (min, max)) in prices.iter().enumerate() {
                let status = [None, Some(ProductStatus::OnSale), Some(ProductStatus::OffSale)][(ki + ci + pi) % 3];
                let merchant = [None, None, Some(MerchantId(2)), Some(MerchantId(9))][(ki * 7 + ci * 3 + pi) % 4];
                out.push(ProductFilter {
                    categories: cats.clone(),
                    merchant,
                    keyword: keyword.clone(),
                    min_price: *min,
                    max_price: *max,
                    status,
                    sort: ProductSort::ALL[(ki + 2 * ci + 3 * pi) % 4],
                });
            }
        }
    }
    // each sort on the broad filters (the walk to the count cap)
    for sort in ProductSort::ALL {
        for status in [None, Some(ProductStatus::OnSale), Some(ProductStatus::OffSale)] {
            for keyword in [None, kw("手"), kw("机")] {
                out.push(ProductFilter { status, keyword, sort, ..Default::default() });
            }
            out.push(ProductFilter { status, sort, min_price: Some(yuan(30)), ..Default::default() });
            out.push(ProductFilter { status, sort, max_price: Some(yuan(150)), ..Default::default() });
            out.push(ProductFilter { status, sort, merchant: Some(MerchantId(1)), ..Default::default() });
        }
    }
    out
}

fn pages() -> Vec<PageRequest> {
    [(1, 20), (2, 20), (1, 1), (7, 3), (3, 100), (50, 100), (101, 100), (500, 20), (501, 20), (600, 20), (1, 100)]
        .into_iter()
        .map(|(p, s)| PageRequest::new(Some(p), Some(s)).unwrap())
        .collect()
}

async fn check(store: &MemoryStore, filters: &[ProductFilter], pages: &[PageRequest]) {
    let all = everything(store).await;
    for f in filters {
        for &p in pages {
            let got = store.search_products(f, p).await.unwrap();
            assert_eq!(got, reference(&all, f, p), "{f:?} {p:?}");
        }
    }
}

#[tokio::test]
async fn search_matches_the_reference_scan_on_every_plan() {
    let store = MemoryStore::new();
    catalogue(&store, 15_000).await;
    check(&store, &filters(), &pages()).await;
}

#[tokio::test]
async fn search_follows_prices_sales_renames_and_status_changes() {
    let store = MemoryStore::new();
    catalogue(&store, 6_000).await;
    let mut rng = Rng(42);
    let skus = store.all_skus();
    let mut writes = Vec::new();
    for s in skus.iter().step_by(3) {
        // a new price (kept stock), then units reserved, sold, some back
        writes.push(Write::Catalog(CatalogWrite::PutSku(Sku {
            price: Money::from_fen(50 * (1 + rng.below(400) as i64)),
            ..s.clone()
        })));
        let n = 1 + rng.below(5) as u32;
        writes.push(Write::Stock(StockWrite::Move { sku: s.id, movement: StockMove::Reserve, quantity: n }));
        writes.push(Write::Stock(StockWrite::Move { sku: s.id, movement: StockMove::Commit, quantity: n }));
        if rng.below(2) == 0 {
            writes.push(Write::Stock(StockWrite::Move { sku: s.id, movement: StockMove::Restock, quantity: 1 }));
        }
    }
    for p in store.products().await.unwrap().into_iter().step_by(4) {
        let renamed = format!("{}{} 新款", BRANDS[rng.below(3) as usize], NOUNS[rng.below(4) as usize]);
        let status = if rng.below(2) == 0 { ProductStatus::OffSale } else { ProductStatus::OnSale };
        let category = if rng.below(3) == 0 { CategoryId(1 + rng.below(8)) } else { p.category };
        let merchant = if rng.below(5) == 0 { MerchantId(1 + rng.below(4)) } else { p.merchant };
        let name = if rng.below(2) == 0 { renamed } else { p.name.clone() };
        writes.push(Write::Catalog(CatalogWrite::PutProduct(Product { name, status, category, merchant, ..p })));
    }
    // a SKU that moves to another product, one added before its product exists
    let moved = skus.last().unwrap().clone();
    writes.push(Write::Catalog(CatalogWrite::PutSku(Sku { product: ProductId(1), ..moved })));
    writes.push(Write::Catalog(CatalogWrite::PutSku(sku(999_990, 99_999, 1, 7))));
    for chunk in writes.chunks(500) {
        store.apply(chunk.to_vec()).await.unwrap();
    }
    let filters = filters();
    let sample: Vec<ProductFilter> = filters.iter().step_by(3).cloned().collect();
    check(&store, &sample, &pages()).await;
    store
        .apply(vec![Write::Catalog(CatalogWrite::PutProduct(product(
            99_999,
            "小米手机 迟到".into(),
            1,
            1,
            ProductStatus::OnSale,
        )))])
        .await
        .unwrap();
    check(&store, &sample, &pages()).await;
}

/// A keyword whose every pair is in nearly every name, but whose substring
/// is in few: the walk is the likely plan, reads as many rows as the pairs'
/// intersection without filling the count, and falls back to it.
#[tokio::test]
async fn a_walk_that_finds_too_few_falls_back_to_its_candidates() {
    let store = MemoryStore::new();
    let mut rng = Rng(7);
    let mut writes = Vec::new();
    for i in 1..=30_000u64 {
        let name = match i % 40 {
            0 => format!("小米手米 {i}"),
            1 => format!("其他 {i}"),
            _ => format!("米手 手米 {i}"),
        };
        writes.push(Write::Catalog(CatalogWrite::PutProduct(product(i, name, 1 + i % 3, 1, ProductStatus::OnSale))));
        writes.push(Write::Catalog(CatalogWrite::PutSku(sku(
            10 * i,
            i,
            50 * (1 + rng.below(40) as i64),
            rng.below(9) as u32,
        ))));
    }
    store.apply(writes).await.unwrap();
    let mut filters = Vec::new();
    for sort in ProductSort::ALL {
        for status in [None, Some(ProductStatus::OnSale)] {
            filters.push(ProductFilter { keyword: kw("米手米"), status, sort, ..Default::default() });
            filters.push(ProductFilter { keyword: kw("米手米 1"), status, sort, ..Default::default() });
        }
    }
    let pages: Vec<PageRequest> = pages().into_iter().step_by(3).collect();
    check(&store, &filters, &pages).await;
}

#[tokio::test]
async fn a_failed_batch_leaves_the_index_alone() {
    let store = MemoryStore::new();
    catalogue(&store, 200).await;
    let before = everything(&store).await;
    let s = store.all_skus()[0].clone();
    let failed = store
        .apply(vec![
            Write::Catalog(CatalogWrite::PutProduct(product(1, "华为耳机 改名".into(), 5, 3, ProductStatus::OffSale))),
            Write::Catalog(CatalogWrite::PutSku(Sku { price: Money::from_yuan(1), ..s.clone() })),
            Write::Stock(StockWrite::Move { sku: s.id, movement: StockMove::WriteOff, quantity: 1_000_000 }),
        ])
        .await;
    assert!(failed.is_err());
    let all = everything(&store).await;
    assert_eq!(all, before);
    check(&store, &filters(), &[PageRequest::FIRST]).await;
}

fn arb_filter() -> impl Strategy<Value = ProductFilter> {
    let keyword =
        prop::sample::select(vec!["", "手", "机", "小米", "米手", "手机", "小米手机", "pro", "1", "米手米", "表 "]);
    let categories = prop::option::of(prop::collection::btree_set(1u64..10, 0..4));
    let merchant = prop::option::of(1u64..6);
    let price = prop::option::of(0i64..25_000);
    let status = prop::sample::select(vec![None, Some(ProductStatus::OnSale), Some(ProductStatus::OffSale)]);
    let sort = prop::sample::select(ProductSort::ALL.to_vec());
    (keyword, categories, merchant, price.clone(), price, status, sort).prop_map(|(k, c, m, lo, hi, status, sort)| {
        ProductFilter {
            categories: c.map(|c| c.into_iter().map(CategoryId).collect()),
            merchant: m.map(MerchantId),
            keyword: kw(k),
            min_price: lo.map(Money::from_fen),
            max_price: hi.map(Money::from_fen),
            status,
            sort,
        }
    })
}

/// One write of a random history: a product (new or replaced), a SKU, a stock move.
#[derive(Debug, Clone)]
enum Op {
    Product { id: u64, name: usize, category: u64, merchant: u64, off: bool },
    Sku { id: u64, product: u64, fen: i64, sold: u32 },
    Sell { sku: u64, n: u32 },
    Restock { sku: u64 },
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u64..40, 0usize..48, 1u64..10, 1u64..6, any::<bool>())
            .prop_map(|(id, name, category, merchant, off)| Op::Product { id, name, category, merchant, off }),
        (1u64..80, 1u64..45, 0i64..25_000, 0u32..20).prop_map(|(id, product, fen, sold)| Op::Sku {
            id,
            product,
            fen,
            sold
        }),
        (1u64..80, 1u32..4).prop_map(|(sku, n)| Op::Sell { sku, n }),
        (1u64..80).prop_map(|sku| Op::Restock { sku }),
    ]
}

fn op_writes(op: &Op) -> Vec<Write> {
    match *op {
        Op::Product { id, name, category, merchant, off } => {
            let n = format!("{}{} {}", BRANDS[name % 3], NOUNS[name / 3 % 4], MODELS[name / 12 % 4]);
            let status = if off { ProductStatus::OffSale } else { ProductStatus::OnSale };
            vec![Write::Catalog(CatalogWrite::PutProduct(product(id, n, category, merchant, status)))]
        }
        Op::Sku { id, product, fen, sold } => vec![Write::Catalog(CatalogWrite::PutSku(sku(id, product, fen, sold)))],
        Op::Sell { sku, n } => vec![
            Write::Stock(StockWrite::Move { sku: SkuId(sku), movement: StockMove::Reserve, quantity: n }),
            Write::Stock(StockWrite::Move { sku: SkuId(sku), movement: StockMove::Commit, quantity: n }),
        ],
        Op::Restock { sku } => {
            vec![Write::Stock(StockWrite::Move { sku: SkuId(sku), movement: StockMove::Restock, quantity: 1 })]
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_history_and_filter_match_the_reference(
        ops in prop::collection::vec(arb_op(), 0..160),
        queries in prop::collection::vec((arb_filter(), 1u32..6, 1u32..12), 1..12),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let store = MemoryStore::new();
            for op in &ops {
                // a move of a missing SKU or beyond the stock fails as a whole
                let _ = store.apply(op_writes(op)).await;
            }
            let all = everything(&store).await;
            for (f, page, size) in &queries {
                let p = PageRequest::new(Some(*page), Some(*size)).unwrap();
                let got = store.search_products(f, p).await.unwrap();
                assert_eq!(got, reference(&all, f, p), "{f:?} {p:?}");
            }
        });
    }
}
