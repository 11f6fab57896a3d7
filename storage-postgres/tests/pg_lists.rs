//! Product search on PostgreSQL against the rule itself: on a catalogue of
//! a few hundred products with Chinese names, every page of several filters
//! in every sort equals the reference scan (`ProductFilter::admits` and
//! `ProductSort::compare` over every product and SKU); and the columns the
//! search reads (price range, units sold, search text and tokens) follow
//! the writes that change them.

use std::collections::HashMap;

use mallkit_core::Money;
use mallkit_core::catalog::search::{search_text, search_tokens};
use mallkit_core::catalog::{
    Category, Keyword, Merchant, Product, ProductFilter, ProductSort, ProductStatus, ProductSummary, Sku, Stock,
    StockMove, summarize,
};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId, SkuId};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::{CatalogStore, CatalogWrite, GuardFailure, StockWrite, Store, StoreError, Write};
use mallkit_storage_postgres::PgStore;
use mallkit_storage_postgres::testing::fresh_store;
use rust_decimal::Decimal;

fn m(s: &str) -> Money {
    s.parse().expect("money literal")
}

fn kw(s: &str) -> Option<Keyword> {
    Some(Keyword::parse(s).expect("keyword").expect("not blank"))
}

fn sku(id: u64, product: u64, price: Money, sold: u32) -> Sku {
    Sku {
        id: SkuId(id),
        product: ProductId(product),
        attributes: Default::default(),
        price,
        original_price: None,
        weight_grams: None,
        stock: Stock { available: (id % 13) as u32 + 1, reserved: 0, sold },
    }
}

const BRANDS: [&str; 7] = ["小米", "华为", "苹果", "三星", "OPPO", "vivo", "联想"];
const KINDS: [&str; 6] = ["手机", "耳机", "手表", "电脑", "平板", "手机壳"];
const TAILS: [&str; 6] = ["", " Pro", " 14", " MAX", " 米手 手米", " 青春版"];

/// Categories: 1 数码 > {2 手机通讯 > 4 配件, 3 电脑办公}, 5 家居 (a root).
/// 360 products of three merchants over the five categories, every
/// eleventh off sale, with 0–3 SKUs on a few prices (ties for the price
/// sorts) and sold counts (ties for the sales sort).
async fn catalogue(store: &PgStore) {
    let mut writes = vec![
        Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(1),
            parent: None,
            name: "数码".into(),
            sort: 0,
        })),
        Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(2),
            parent: Some(CategoryId(1)),
            name: "手机通讯".into(),
            sort: 0,
        })),
        Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(3),
            parent: Some(CategoryId(1)),
            name: "电脑办公".into(),
            sort: 1,
        })),
        Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(4),
            parent: Some(CategoryId(2)),
            name: "配件".into(),
            sort: 0,
        })),
        Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(5),
            parent: None,
            name: "家居".into(),
            sort: 1,
        })),
    ];
    for id in 1..=3 {
        writes
            .push(Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(id), name: format!("店{id}") })));
    }
    let prices = ["9.90", "99.00", "199.00", "1999.00", "4999.00", "0.00"].map(m);
    let mut next_sku = 1;
    for id in 1..=360u64 {
        let i = id as usize;
        let name = format!("{}{}{}", BRANDS[i % 7], KINDS[(i / 7) % 6], TAILS[(i / 42) % 6]);
        let status = if id % 11 == 0 { ProductStatus::OffSale } else { ProductStatus::OnSale };
        writes.push(Write::Catalog(CatalogWrite::PutProduct(Product {
            id: ProductId(id),
            merchant: MerchantId(id % 3 + 1),
            category: CategoryId(id % 5 + 1),
            name,
            status,
        })));
        for k in 0..(id % 4) {
            let price = prices[((id + k * 2) % 6) as usize];
            writes.push(Write::Catalog(CatalogWrite::PutSku(sku(next_sku, id, price, ((id * (k + 1)) % 5) as u32))));
            next_sku += 1;
        }
    }
    store.apply(writes).await.expect("catalogue");
    // Sales that go through the stock moves too.
    let mut moves = Vec::new();
    for s in (1..next_sku).step_by(5) {
        moves.push(Write::Stock(StockWrite::Move { sku: SkuId(s), movement: StockMove::Reserve, quantity: 1 }));
        moves.push(Write::Stock(StockWrite::Move { sku: SkuId(s), movement: StockMove::Commit, quantity: 1 }));
    }
    store.apply(moves).await.expect("sales");
}

/// Every product with its summary over every SKU, read once.
async fn summaries(store: &PgStore) -> Vec<(Product, ProductSummary)> {
    let mut skus: HashMap<ProductId, Vec<Sku>> = HashMap::new();
    for s in store.skus().await.expect("skus") {
        skus.entry(s.product).or_default().push(s);
    }
    let products = store.products().await.expect("products");
    products
        .into_iter()
        .map(|p| {
            let s = summarize(&p, skus.get(&p.id).map_or(&[][..], Vec::as_slice));
            (p, s)
        })
        .collect()
}

/// The reference answer: the summaries `admits` keeps, ordered by
/// `compare`, paged from the iterator.
fn reference(all: &[(Product, ProductSummary)], filter: &ProductFilter, page: PageRequest) -> Page<ProductSummary> {
    let mut found: Vec<ProductSummary> =
        all.iter().filter(|(p, s)| filter.admits(p, s)).map(|(_, s)| s.clone()).collect();
    found.sort_by(|a, b| filter.sort.compare(a, b));
    page.page_from_iter(found.into_iter())
}

fn filters() -> Vec<(&'static str, ProductFilter)> {
    let on_sale = ProductFilter { status: Some(ProductStatus::OnSale), ..Default::default() };
    vec![
        ("everything", ProductFilter::default()),
        ("on sale", on_sale.clone()),
        ("off sale", ProductFilter { status: Some(ProductStatus::OffSale), ..Default::default() }),
        (
            "subtree 数码",
            ProductFilter {
                categories: Some(vec![CategoryId(1), CategoryId(2), CategoryId(3), CategoryId(4)]),
                ..on_sale.clone()
            },
        ),
        ("leaf 配件", ProductFilter { categories: Some(vec![CategoryId(4)]), ..on_sale.clone() }),
        ("merchant 2", ProductFilter { merchant: Some(MerchantId(2)), ..Default::default() }),
        ("手", ProductFilter { keyword: kw("手"), ..on_sale.clone() }),
        ("耳机", ProductFilter { keyword: kw("耳机"), ..on_sale.clone() }),
        ("小米手机", ProductFilter { keyword: kw("小米手机"), ..on_sale.clone() }),
        // every pair of 米手米 is in "… 米手 手米", the substring is not
        ("米手米", ProductFilter { keyword: kw("米手米"), ..Default::default() }),
        ("pro (case)", ProductFilter { keyword: kw(" PRO "), ..on_sale.clone() }),
        ("机 1", ProductFilter { keyword: kw("机 1"), ..Default::default() }),
        ("none found", ProductFilter { keyword: kw("冰箱"), ..Default::default() }),
        (
            "price 99–1999",
            ProductFilter { min_price: Some(m("99.00")), max_price: Some(m("1999.00")), ..on_sale.clone() },
        ),
        ("price ≤ 0", ProductFilter { max_price: Some(m("0.00")), ..Default::default() }),
        (
            "all at once",
            ProductFilter {
                categories: Some(vec![CategoryId(2), CategoryId(4)]),
                merchant: Some(MerchantId(1)),
                keyword: kw("手机"),
                min_price: Some(m("9.90")),
                ..on_sale
            },
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_equal_the_reference_scan_for_every_filter_and_sort() {
    let store = fresh_store().await;
    catalogue(&store).await;
    let all = summaries(&store).await;
    let mut compared = 0;
    for (what, base) in filters() {
        for sort in ProductSort::ALL {
            let filter = ProductFilter { sort, ..base.clone() };
            for size in [7, 20, 100] {
                let mut number = 1;
                loop {
                    let page = PageRequest::new(Some(number), Some(size)).expect("page");
                    let want = reference(&all, &filter, page);
                    let got = store.search_products(&filter, page).await.expect("search");
                    assert_eq!(got, want, "{what}, {sort:?}, page {number} of {size}");
                    compared += 1;
                    // one page past the end too
                    if want.items.is_empty() || number > 60 {
                        break;
                    }
                    number += 1;
                }
            }
        }
    }
    assert!(compared > 600, "{compared} pages");
    // The filters really select: a few of them, in numbers.
    let count = |f: ProductFilter| {
        let store = store.clone();
        async move { store.search_products(&f, PageRequest::FIRST).await.expect("search").total }
    };
    let named = filters().into_iter().collect::<HashMap<_, _>>();
    assert_eq!(count(named["everything"].clone()).await, 360);
    assert_eq!(count(named["米手米"].clone()).await, 0);
    for some in ["小米手机", "pro (case)", "机 1", "all at once", "leaf 配件", "price ≤ 0"] {
        assert!(count(named[some].clone()).await > 0, "{some}");
    }
}

/// `(min_price, max_price, sales)` of a product as stored.
async fn columns(store: &PgStore, product: u64) -> (Decimal, Decimal, i64) {
    sqlx::query_as("SELECT min_price, max_price, sales FROM products WHERE id = $1")
        .bind(product as i64)
        .fetch_one(store.pool())
        .await
        .expect("product row")
}

/// The stored columns equal the summary of the product's SKUs, and so does
/// its search result.
async fn agrees(store: &PgStore, product: u64) -> ProductSummary {
    let p = store.product(ProductId(product)).await.expect("read").expect("product");
    let want = summarize(&p, &store.skus_of(p.id).await.expect("skus"));
    let (lo, hi, sales) = columns(store, product).await;
    assert_eq!((lo, hi, sales as u64), (want.min_price.to_decimal(), want.max_price.to_decimal(), want.sales));
    let filter = ProductFilter { keyword: kw(&p.name), ..Default::default() };
    let page = store.search_products(&filter, PageRequest::new(None, Some(100)).expect("page")).await.expect("search");
    assert_eq!(page.items.iter().find(|s| s.id == p.id), Some(&want));
    want
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_range_sales_and_tokens_follow_the_writes() {
    let store = fresh_store().await;
    let product = |id: u64, name: &str| {
        Write::Catalog(CatalogWrite::PutProduct(Product {
            id: ProductId(id),
            merchant: MerchantId(1),
            category: CategoryId(1),
            name: name.into(),
            status: ProductStatus::OnSale,
        }))
    };
    store
        .apply(vec![
            Write::Catalog(CatalogWrite::PutCategory(Category {
                id: CategoryId(1),
                parent: None,
                name: "数码".into(),
                sort: 0,
            })),
            Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(1), name: "店".into() })),
            // SKUs before their product in the batch: the recompute runs last.
            Write::Catalog(CatalogWrite::PutSku(sku(10, 1, m("10.00"), 0))),
            Write::Catalog(CatalogWrite::PutSku(sku(11, 1, m("5.00"), 2))),
            product(1, "小米手机 14 Pro"),
            product(2, "华为耳机"),
        ])
        .await
        .expect("set up");
    assert_eq!(columns(&store, 1).await, (Decimal::new(500, 2), Decimal::new(1000, 2), 2));
    assert_eq!(columns(&store, 2).await, (Decimal::ZERO, Decimal::ZERO, 0));
    agrees(&store, 1).await;

    // Re-saving a SKU moves the range (its stock is kept: sold stays 2).
    store.apply(vec![Write::Catalog(CatalogWrite::PutSku(sku(11, 1, m("20.00"), 0)))]).await.expect("reprice");
    assert_eq!(columns(&store, 1).await, (Decimal::new(1000, 2), Decimal::new(2000, 2), 2));
    // A SKU moved to another product leaves both right.
    store.apply(vec![Write::Catalog(CatalogWrite::PutSku(sku(10, 2, m("10.00"), 0)))]).await.expect("move");
    assert_eq!(columns(&store, 1).await, (Decimal::new(2000, 2), Decimal::new(2000, 2), 2));
    assert_eq!(columns(&store, 2).await, (Decimal::new(1000, 2), Decimal::new(1000, 2), 0));

    // Commit adds to sales, Restock takes back; the other moves leave it.
    let mv = |sku: u64, movement, quantity| Write::Stock(StockWrite::Move { sku: SkuId(sku), movement, quantity });
    store
        .apply(vec![
            mv(11, StockMove::Receive, 5),
            mv(11, StockMove::Reserve, 4),
            mv(11, StockMove::Commit, 3),
            mv(10, StockMove::Reserve, 1),
            mv(10, StockMove::Commit, 1),
        ])
        .await
        .expect("sell");
    assert_eq!(columns(&store, 1).await.2, 5);
    assert_eq!(columns(&store, 2).await.2, 1);
    store.apply(vec![mv(11, StockMove::Restock, 2), mv(11, StockMove::Release, 1)]).await.expect("restock");
    assert_eq!(columns(&store, 1).await.2, 3);
    // A refused batch changes nothing.
    let refused = store.apply(vec![mv(10, StockMove::Restock, 1), mv(11, StockMove::Commit, 9)]).await;
    assert!(matches!(refused, Err(StoreError::Guard(GuardFailure::InsufficientStock { .. }))), "{refused:?}");
    assert_eq!((columns(&store, 1).await.2, columns(&store, 2).await.2), (3, 1));
    let one = agrees(&store, 1).await;
    assert_eq!((one.sales, one.min_price), (3, m("20.00")));
    agrees(&store, 2).await;

    // Search text and tokens are core's, and follow a rename.
    let stored = |id: i64| {
        let store = store.clone();
        async move {
            sqlx::query_as::<_, (String, Vec<String>)>("SELECT search_text, search_tokens FROM products WHERE id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .expect("row")
        }
    };
    assert_eq!(stored(1).await, (search_text("小米手机 14 Pro"), search_tokens("小米手机 14 Pro")));
    store.apply(vec![product(1, "Redmi 手表")]).await.expect("rename");
    assert_eq!(stored(1).await, (search_text("Redmi 手表"), search_tokens("Redmi 手表")));
    assert_eq!(columns(&store, 1).await, (Decimal::new(2000, 2), Decimal::new(2000, 2), 3), "a rename keeps the range");

    // Rows without search columns (from before 0011, or a bulk load) are
    // filled by the next migrate.
    sqlx::query("UPDATE products SET search_text = '', search_tokens = '{}'")
        .execute(store.pool())
        .await
        .expect("blank");
    store.migrate().await.expect("migrate again");
    assert_eq!(stored(1).await, (search_text("Redmi 手表"), search_tokens("Redmi 手表")));
    assert_eq!(stored(2).await, (search_text("华为耳机"), search_tokens("华为耳机")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sales_and_reprices_on_two_pools_keep_the_columns_exact() {
    let store = fresh_store().await;
    let other = mallkit_storage_postgres::testing::second_pool(&store).await;
    let mut set_up = vec![
        Write::Catalog(CatalogWrite::PutCategory(Category {
            id: CategoryId(1),
            parent: None,
            name: "数码".into(),
            sort: 0,
        })),
        Write::Catalog(CatalogWrite::PutMerchant(Merchant { id: MerchantId(1), name: "店".into() })),
        Write::Catalog(CatalogWrite::PutProduct(Product {
            id: ProductId(1),
            merchant: MerchantId(1),
            category: CategoryId(1),
            name: "爆款手机".into(),
            status: ProductStatus::OnSale,
        })),
    ];
    for id in 1..=4 {
        let mut s = sku(id, 1, m("100.00"), 0);
        s.stock.available = 1000;
        set_up.push(Write::Catalog(CatalogWrite::PutSku(s)));
    }
    store.apply(set_up).await.expect("set up");
    let mut tasks = Vec::new();
    for i in 0..48u64 {
        let s = if i % 2 == 0 { store.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            // Two SKUs per batch (in id order, as checkouts lock them), or
            // a reprice: the product's row is only locked after the SKUs.
            let (x, y) = (i % 4 + 1, (i + 1 + i / 4) % 4 + 1);
            let (a, b) = (x.min(y), x.max(y));
            let writes = if i % 6 == 5 {
                vec![Write::Catalog(CatalogWrite::PutSku(sku(
                    a,
                    1,
                    Money::from_decimal(Decimal::new(5000 + i as i64, 2)).expect("price"),
                    0,
                )))]
            } else {
                let mv = |sku, movement| Write::Stock(StockWrite::Move { sku: SkuId(sku), movement, quantity: 2 });
                vec![
                    mv(a, StockMove::Reserve),
                    mv(b, StockMove::Reserve),
                    mv(a, StockMove::Commit),
                    mv(b, StockMove::Commit),
                ]
            };
            s.apply(writes).await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("batch");
    }
    agrees(&store, 1).await;
    assert_eq!(columns(&store, 1).await.2, 40 * 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_count_cap_pages_and_totals_still_equal_the_reference() {
    let store = fresh_store().await;
    // A bulk load as a loader would write it: rows in SQL, the search
    // columns left for migrate to fill.
    for sql in [
        "INSERT INTO merchants (id, name) VALUES (1, '店')",
        "INSERT INTO categories (id, parent_id, name, sort) VALUES (1, NULL, '数码', 0), (2, 1, '手机', 0)",
        "INSERT INTO products (id, merchant_id, category_id, name, status)
         SELECT g, 1, 1 + g % 2, CASE WHEN g % 3 = 0 THEN '华为手表 ' ELSE '小米手机 ' END || g,
             CASE WHEN g % 50 = 0 THEN 'off_sale' ELSE 'on_sale' END
         FROM generate_series(1, 10600) g",
        "INSERT INTO skus (id, product_id, price, available, reserved, sold)
         SELECT g, g, (g % 37) + 0.5, g % 7, 0, g % 11 FROM generate_series(1, 10600) g WHERE g % 9 <> 0",
        "UPDATE products p SET min_price = s.price, max_price = s.price, sales = s.sold FROM skus s WHERE s.product_id = p.id",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(store.pool()).await.expect(sql);
    }
    store.migrate().await.expect("fill the search columns");
    let all = summaries(&store).await;
    let on_sale = ProductFilter { status: Some(ProductStatus::OnSale), ..Default::default() };
    let cases = [
        ("on sale", on_sale.clone()),
        ("手 (capped)", ProductFilter { keyword: kw("手"), ..on_sale.clone() }),
        ("手机 (capped?)", ProductFilter { keyword: kw("手机"), ..on_sale.clone() }),
        ("小米手机 1", ProductFilter { keyword: kw("小米手机 1"), ..on_sale.clone() }),
        (
            "手表 in 数码",
            ProductFilter {
                keyword: kw("手表"),
                categories: Some(vec![CategoryId(1), CategoryId(2)]),
                ..on_sale.clone()
            },
        ),
        ("category 2", ProductFilter { categories: Some(vec![CategoryId(2)]), ..on_sale.clone() }),
        ("everything", ProductFilter::default()),
    ];
    let mut capped = 0;
    for (what, base) in cases {
        for sort in ProductSort::ALL {
            let filter = ProductFilter { sort, ..base.clone() };
            for (number, size) in [(1, 20), (2, 20), (250, 40), (499, 20), (500, 20), (501, 20), (106, 100), (200, 100)]
            {
                let page = PageRequest::new(Some(number), Some(size)).expect("page");
                let want = reference(&all, &filter, page);
                let got = store.search_products(&filter, page).await.expect("search");
                assert_eq!(got, want, "{what}, {sort:?}, page {number} of {size}");
                capped += usize::from(got.total_capped);
            }
        }
    }
    assert!(capped > 50, "the cap was reached {capped} times");
}
