//! Timings of product search on a catalogue of a million products (the
//! scratch database `tests/bench/products_1m.sql` fills). Ignored by
//! default; run with
//!
//! ```text
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mallkit_lists_bench \
//!     cargo test -p mallkit-storage-postgres --release --test pg_search_bench -- --ignored --nocapture
//! ```
//!
//! Each case is one `search_products` call as the storefront makes it
//! (page, capped count when needed, available units), timed end to end
//! over 15 runs after 3 warm-ups; prints the median and the slowest.

use std::time::{Duration, Instant};

use mallkit_core::catalog::search::{search_text, search_tokens};
use mallkit_core::catalog::{Keyword, ProductFilter, ProductSort, ProductStatus};
use mallkit_core::ids::CategoryId;
use mallkit_core::page::PageRequest;
use mallkit_core::storage::CatalogStore;
use mallkit_storage_postgres::{PgSettings, PgStore};

fn on_sale() -> ProductFilter {
    ProductFilter { status: Some(ProductStatus::OnSale), ..Default::default() }
}

fn kw(s: &str) -> Option<Keyword> {
    Keyword::parse(s).expect("keyword")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the million-product scratch database (tests/bench/products_1m.sql)"]
async fn search_a_million_products() {
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/mallkit_lists_bench".into());
    let store = PgStore::connect(&url, PgSettings::default()).await.expect("bench database");
    // The SQL-filled tokens of the scratch data are core's.
    let sample: Vec<(String, String, Vec<String>)> =
        sqlx::query_as("SELECT name, search_text, search_tokens FROM products WHERE id % 99991 = 1")
            .fetch_all(store.pool())
            .await
            .expect("sample");
    for (name, text, tokens) in &sample {
        assert_eq!((text, tokens), (&search_text(name), &search_tokens(name)), "{name}");
    }
    let subtree =
        vec![CategoryId(2), CategoryId(121), CategoryId(122), CategoryId(123), CategoryId(124), CategoryId(125)];
    let first = PageRequest::FIRST;
    let p500 = PageRequest::new(Some(500), Some(20)).expect("page");
    let cases: Vec<(&str, ProductFilter, PageRequest)> = vec![
        ("newest, page 1", on_sale(), first),
        ("price asc, page 1", ProductFilter { sort: ProductSort::PriceAsc, ..on_sale() }, first),
        ("price desc, page 1", ProductFilter { sort: ProductSort::PriceDesc, ..on_sale() }, first),
        ("sales, page 1", ProductFilter { sort: ProductSort::Sales, ..on_sale() }, first),
        ("newest, page 500", on_sale(), p500),
        ("price asc, page 500", ProductFilter { sort: ProductSort::PriceAsc, ..on_sale() }, p500),
        ("leaf category, page 1", ProductFilter { categories: Some(vec![CategoryId(121)]), ..on_sale() }, first),
        (
            "leaf category, price asc",
            ProductFilter { categories: Some(vec![CategoryId(121)]), sort: ProductSort::PriceAsc, ..on_sale() },
            first,
        ),
        ("subtree (6 categories), page 1", ProductFilter { categories: Some(subtree.clone()), ..on_sale() }, first),
        (
            "subtree, sales",
            ProductFilter { categories: Some(subtree.clone()), sort: ProductSort::Sales, ..on_sale() },
            first,
        ),
        ("subtree, page 500", ProductFilter { categories: Some(subtree), ..on_sale() }, p500),
        ("merchant, page 1", ProductFilter { merchant: Some(mallkit_core::ids::MerchantId(7)), ..on_sale() }, first),
        (
            "price 100-200, newest",
            ProductFilter {
                min_price: Some("100".parse().expect("m")),
                max_price: Some("200".parse().expect("m")),
                ..on_sale()
            },
            first,
        ),
        ("keyword 手", ProductFilter { keyword: kw("手"), ..on_sale() }, first),
        ("keyword 耳机", ProductFilter { keyword: kw("耳机"), ..on_sale() }, first),
        ("keyword 小米手机", ProductFilter { keyword: kw("小米手机"), ..on_sale() }, first),
        ("keyword 小米手机 99", ProductFilter { keyword: kw("小米手机 99"), ..on_sale() }, first),
        ("keyword 手, page 500", ProductFilter { keyword: kw("手"), ..on_sale() }, p500),
        (
            "keyword 耳机, price asc",
            ProductFilter { keyword: kw("耳机"), sort: ProductSort::PriceAsc, ..on_sale() },
            first,
        ),
        (
            "keyword 小米手机, sales",
            ProductFilter { keyword: kw("小米手机"), sort: ProductSort::Sales, ..on_sale() },
            first,
        ),
        ("keyword 冰箱 (none)", ProductFilter { keyword: kw("冰箱"), ..on_sale() }, first),
    ];
    println!("{:<34} {:>9} {:>9} {:>7} {:>7}", "case", "median", "max", "total", "capped");
    for (what, filter, page) in cases {
        let mut times: Vec<Duration> = Vec::new();
        let mut last = None;
        for run in 0..18 {
            let t = Instant::now();
            let found = store.search_products(&filter, page).await.expect("search");
            if run >= 3 {
                times.push(t.elapsed());
            }
            last = Some(found);
        }
        times.sort();
        let found = last.expect("ran");
        println!(
            "{what:<34} {:>7.2}ms {:>7.2}ms {:>7} {:>7}",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
            found.total,
            found.total_capped
        );
    }
}
