//! Product search at a million products (3 SKUs each), loaded through
//! `Store::apply`: prints the time of each query and the process's memory.
//! Ignored by default; run it with
//!
//! ```text
//! cargo test --release -p mallkit-storage-memory --test million -- --ignored --nocapture
//! ```

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use mallkit_core::catalog::{Keyword, Product, ProductFilter, ProductSort, ProductStatus, Sku, Stock};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId};
use mallkit_core::money::Money;
use mallkit_core::page::PageRequest;
use mallkit_core::storage::{CatalogStore, CatalogWrite, StockWrite, Store, Write};
use mallkit_storage_memory::MemoryStore;

const PRODUCTS: u64 = 1_000_000;
const BRANDS: [&str; 6] = ["小米", "华为", "苹果", "OPPO", "vivo", "荣耀"];
const NOUNS: [&str; 8] = ["手机", "耳机", "手表", "电脑", "平板", "音箱", "路由器", "充电器"];
const MODELS: [&str; 5] = ["Pro", "Max", "Lite", "Ultra", ""];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM")).collect::<Vec<_>>().join(", ")
}

async fn time(store: &MemoryStore, label: &str, filter: &ProductFilter, page: PageRequest) -> Duration {
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let start = Instant::now();
        last = Some(store.search_products(filter, page).await.unwrap());
        runs.push(start.elapsed());
    }
    runs.sort();
    let page = last.unwrap();
    println!(
        "{label:<44} median {:>9.3} ms  (max {:>8.3} ms)  total {:>5}{} items {}",
        runs[2].as_secs_f64() * 1e3,
        runs[4].as_secs_f64() * 1e3,
        page.total,
        if page.total_capped { "+" } else { " " },
        page.items.len()
    );
    runs[2]
}

/// The catalogue, in batches of about 4,000 writes.
fn batches() -> impl Iterator<Item = Vec<Write>> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut next = 1u64;
    std::iter::from_fn(move || {
        if next > PRODUCTS {
            return None;
        }
        let mut batch = Vec::with_capacity(4_000);
        while next <= PRODUCTS && batch.len() < 4_000 {
            let i = next;
            next += 1;
            let name = format!(
                "{}{} {}{}",
                BRANDS[rng.below(6) as usize],
                NOUNS[rng.below(8) as usize],
                MODELS[rng.below(5) as usize],
                rng.below(100)
            );
            let status = if rng.below(12) == 0 { ProductStatus::OffSale } else { ProductStatus::OnSale };
            batch.push(Write::Catalog(CatalogWrite::PutProduct(Product {
                id: ProductId(i),
                merchant: MerchantId(1 + rng.below(200)),
                category: CategoryId(1 + rng.below(60)),
                name,
                status,
            })));
            for k in 0..3 {
                batch.push(Write::Catalog(CatalogWrite::PutSku(Sku {
                    id: SkuId(3 * i + k),
                    product: ProductId(i),
                    attributes: [("颜色".to_owned(), ["黑", "白", "蓝"][k as usize].to_owned())].into_iter().collect(),
                    price: Money::from_fen(100 * (1 + rng.below(10_000) as i64)),
                    original_price: None,
                    weight_grams: Some(300),
                    stock: Stock { available: 100, reserved: 0, sold: rng.below(500) as u32 },
                })));
            }
        }
        Some(batch)
    })
}

/// The same rows in plain maps, as the store kept them before it had
/// indexes: what the indexes add is the difference of the two figures.
#[test]
#[ignore = "loads a million products: run with --release -- --ignored"]
fn a_million_products_without_indexes() {
    let mut products = std::collections::BTreeMap::new();
    let mut skus = std::collections::BTreeMap::new();
    for batch in batches() {
        for w in batch {
            match w {
                Write::Catalog(CatalogWrite::PutProduct(p)) => {
                    products.insert(p.id, p);
                }
                Write::Catalog(CatalogWrite::PutSku(s)) => {
                    skus.insert(s.id, s);
                }
                _ => {}
            }
        }
    }
    println!("{} products, {} SKUs in plain maps: {}", products.len(), skus.len(), rss());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "loads a million products: run with --release -- --ignored"]
async fn a_million_products() {
    let store = MemoryStore::new();
    let start = Instant::now();
    for batch in batches() {
        store.apply(batch).await.unwrap();
    }
    println!("loaded {PRODUCTS} products, {} SKUs in {:.1} s; {}", 3 * PRODUCTS, start.elapsed().as_secs_f64(), rss());

    let first = PageRequest::FIRST;
    let p500 = PageRequest::new(Some(500), Some(20)).unwrap();
    let on_sale = ProductFilter { status: Some(ProductStatus::OnSale), ..Default::default() };
    let kw = |k: &str| Keyword::parse(k).unwrap();
    for sort in ProductSort::ALL {
        time(&store, &format!("on sale, {sort:?}, page 1"), &ProductFilter { sort, ..on_sale.clone() }, first).await;
        time(&store, &format!("any status, {sort:?}, page 1"), &ProductFilter { sort, ..Default::default() }, first)
            .await;
        time(&store, &format!("on sale, {sort:?}, page 500"), &ProductFilter { sort, ..on_sale.clone() }, p500).await;
    }
    let one_category = ProductFilter { categories: Some(vec![CategoryId(7)]), ..on_sale.clone() };
    time(&store, "category 7, newest, page 1", &one_category, first).await;
    time(&store, "category 7, sales, page 500", &ProductFilter { sort: ProductSort::Sales, ..one_category }, p500)
        .await;
    let subtree = ProductFilter { categories: Some((10..15).map(CategoryId).collect()), ..on_sale.clone() };
    time(&store, "5 categories, price asc, page 1", &ProductFilter { sort: ProductSort::PriceAsc, ..subtree }, first)
        .await;
    time(
        &store,
        "merchant 42, newest, page 1",
        &ProductFilter { merchant: Some(MerchantId(42)), ..on_sale.clone() },
        first,
    )
    .await;
    for k in ["手", "耳机", "小米手机", "华为手表 pro", "小米手机 ultra9", "不存在"] {
        for sort in [ProductSort::Newest, ProductSort::Sales] {
            let f = ProductFilter { keyword: kw(k), sort, ..on_sale.clone() };
            time(&store, &format!("keyword {k}, {sort:?}, page 1"), &f, first).await;
            time(&store, &format!("keyword {k}, {sort:?}, page 500"), &f, p500).await;
        }
    }
    let price = ProductFilter {
        min_price: Some(Money::from_yuan(500)),
        max_price: Some(Money::from_yuan(520)),
        ..on_sale.clone()
    };
    time(
        &store,
        "price 500-520, price asc, page 1",
        &ProductFilter { sort: ProductSort::PriceAsc, ..price.clone() },
        first,
    )
    .await;
    time(&store, "price 500-520, newest, page 1", &price, first).await;
    time(&store, "price 500-520, sales, page 500", &ProductFilter { sort: ProductSort::Sales, ..price.clone() }, p500)
        .await;
    let mixed = ProductFilter {
        keyword: kw("耳机"),
        categories: Some((1..31).map(CategoryId).collect()),
        min_price: Some(Money::from_yuan(100)),
        sort: ProductSort::PriceDesc,
        ..on_sale.clone()
    };
    time(&store, "耳机 + 30 categories + min 100, price desc", &mixed, first).await;
    let rare = ProductFilter {
        keyword: kw("手"),
        merchant: Some(MerchantId(7)),
        categories: Some(vec![CategoryId(3)]),
        ..on_sale
    };
    time(&store, "手 + merchant 7 + category 3, newest", &rare, first).await;
    time(
        &store,
        "off sale, sales, page 1",
        &ProductFilter { status: Some(ProductStatus::OffSale), sort: ProductSort::Sales, ..Default::default() },
        first,
    )
    .await;

    // one sale: what a commit costs with the index
    let start = Instant::now();
    for i in 0..1_000u64 {
        let sku = SkuId(3 * (1 + i * 997 % PRODUCTS));
        store
            .apply(vec![
                Write::Stock(StockWrite::Move {
                    sku,
                    movement: mallkit_core::catalog::StockMove::Reserve,
                    quantity: 1,
                }),
                Write::Stock(StockWrite::Move { sku, movement: mallkit_core::catalog::StockMove::Commit, quantity: 1 }),
            ])
            .await
            .unwrap();
    }
    println!("1000 sales (reserve + commit batches): {:.3} ms each", start.elapsed().as_secs_f64());
    println!("{}", rss());
}
