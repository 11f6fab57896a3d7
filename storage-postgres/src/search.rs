//! Product search (`CatalogStore::search_products`) on the columns
//! migration 0011 adds to `products` and the write path keeps in step.
//!
//! One page is at most three statements on one snapshot (see
//! [`PgStore::search_page`] for which): the page, the capped count when the
//! page does not prove the total, and the page's available units summed
//! from its SKUs in one `= ANY($1)` query. Each filter is its own indexed
//! condition:
//!
//! | filter | condition | index |
//! |---|---|---|
//! | status | `status = 'on_sale'` (a literal: the partial indexes need it) | `products_on_sale_*`, one per sort |
//! | category subtree | `category_id = $n`, or `= ANY($n)` for several | `products_category` (category, id desc), and INCLUDEd in the sort indexes |
//! | merchant | `merchant_id = $n` | `products_merchant` (merchant, id desc), and INCLUDEd in the sort indexes |
//! | keyword | `search_tokens @> $n` (its [`Keyword::tokens`]), plus `strpos(search_text, $k) > 0` for 3+ characters | `products_search_tokens` (GIN) |
//! | price | `min_price >= $n`, `min_price <= $n` | key or INCLUDEd in the sort indexes |
//!
//! Measured on a million products (tests/pg_search_bench.rs): pages and
//! counts without a keyword come from index-only scans (1–3 ms, page 500
//! included); a keyword's capped count has to check rows one by one
//! (about 10,000 / its share of the catalogue), the cost of a common
//! keyword.
//!
//! The summaries are [`mallkit_core::catalog::summarize`]'s: lowest and
//! highest price and units sold from the product row, units available
//! summed over its SKUs.
//!
//! [`Keyword::tokens`]: mallkit_core::catalog::Keyword::tokens

use std::collections::HashMap;

use mallkit_core::catalog::{ProductFilter, ProductSort, ProductStatus, ProductSummary};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId};
use mallkit_core::page::{COUNT_CAP, Page, PageRequest};
use mallkit_core::storage::StoreError;
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::codec::{backend, dec, get, i64_of, id_of, money};
use crate::paging::{Arg, BindArg, List, Where, limit_offset, page_rows, query_of};

/// The conditions of `filter`.
fn conditions(filter: &ProductFilter) -> Where {
    let mut w = Where::new();
    match filter.status {
        Some(ProductStatus::OnSale) => {
            w.and("status = 'on_sale'", []);
        }
        Some(ProductStatus::OffSale) => {
            w.and("status = 'off_sale'", []);
        }
        None => {}
    }
    if let Some(m) = filter.merchant {
        w.and("merchant_id = $?", [Arg::I64(i64_of(m.0))]);
    }
    match filter.categories.as_deref() {
        None => {}
        // One category as an equality: its index then serves the id order.
        Some([one]) => {
            w.and("category_id = $?", [Arg::I64(i64_of(one.0))]);
        }
        Some(many) => {
            w.and("category_id = ANY($?)", [Arg::I64s(many.iter().map(|c| i64_of(c.0)).collect())]);
        }
    }
    if let Some(k) = &filter.keyword {
        w.and("search_tokens @> $?", [Arg::Texts(k.tokens())]);
        if !k.tokens_decide() {
            w.and("strpos(search_text, $?) > 0", [Arg::Text(k.as_str().to_owned())]);
        }
    }
    if let Some(lo) = filter.min_price {
        w.and("min_price >= $?", [Arg::Dec(dec(lo))]);
    }
    if let Some(hi) = filter.max_price {
        w.and("min_price <= $?", [Arg::Dec(dec(hi))]);
    }
    w
}

/// The `ORDER BY` of a sort ([`ProductSort::compare`]).
fn order(sort: ProductSort) -> &'static str {
    match sort {
        ProductSort::Newest => "id DESC",
        ProductSort::PriceAsc => "min_price, id DESC",
        ProductSort::PriceDesc => "min_price DESC, id DESC",
        ProductSort::Sales => "sales DESC, id DESC",
    }
}

/// A summary from a product row; `available` is filled in afterwards.
fn summary(r: &PgRow) -> Result<ProductSummary, StoreError> {
    Ok(ProductSummary {
        id: ProductId(id_of(get(r, "id")?)),
        name: get(r, "name")?,
        merchant: MerchantId(id_of(get(r, "merchant_id")?)),
        category: CategoryId(id_of(get(r, "category_id")?)),
        min_price: money(get(r, "min_price")?)?,
        max_price: money(get(r, "max_price")?)?,
        sales: u64::try_from(get::<i64>(r, "sales")?).map_err(backend)?,
        available: 0,
    })
}

/// The columns of a summary.
const COLUMNS: &str = "id, name, merchant_id, category_id, min_price, max_price, sales";

/// A keyword search's bounded first try: the first [`COUNT_CAP`] + 1 rows
/// the conditions admit, in no order (the planner picks the GIN index for
/// a rare token, a scan that stops early for a common one), counted, and
/// the page cut from them in the sort. `{clause}`, `{order}` and the
/// placeholders are filled in by [`PgStore::search_page`].
const BOUNDED: &str = "WITH m AS MATERIALIZED (SELECT id, min_price, sales FROM products{clause} LIMIT {cap}),
     pg AS (SELECT id FROM m ORDER BY {order} LIMIT {limit} OFFSET {offset})
 SELECT * FROM (
     SELECT n.counted, p.id, p.name, p.merchant_id, p.category_id, p.min_price, p.max_price, p.sales
     FROM (SELECT count(*) AS counted FROM m) n
     LEFT JOIN (pg JOIN products p ON p.id = pg.id) ON true) x
 ORDER BY {order}";

impl PgStore {
    /// `CatalogStore::search_products`: see the module docs.
    ///
    /// Without a keyword: the page's ids from the sort's index (an
    /// index-only scan when it covers the conditions), then the capped
    /// count when the page does not prove the total.
    ///
    /// With a keyword, whose matches the planner cannot size well (an
    /// unknown token is guessed common, and an ordered scan that waits for
    /// matches then reads the whole table), the bounded first try decides:
    /// when at most [`COUNT_CAP`] rows match, it has them all and its page
    /// is the answer; when more match, the token is common, so the ordered
    /// scan finds a page soon, and the total is capped without a count.
    pub(crate) async fn search_page(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, StoreError> {
        let conditions = conditions(filter);
        let order = order(filter.sort);
        let mut tx = self.snapshot().await?;
        let mut known = None;
        let mut rows = Vec::new();
        if filter.keyword.is_some() {
            let (clause, args) = conditions.parts()?;
            let n = args.len();
            let sql = BOUNDED
                .replace("{clause}", clause)
                .replace("{cap}", &(COUNT_CAP + 1).to_string())
                .replace("{order}", order)
                .replace("{limit}", &format!("${}", n + 1))
                .replace("{offset}", &format!("${}", n + 2));
            let (l, o) = limit_offset(page)?;
            let found = query_of(sql, args).bind_arg(l).bind_arg(o).fetch_all(&mut *tx).await.map_err(backend)?;
            let counted: i64 = match found.first() {
                Some(r) => get(r, "counted")?,
                None => 0,
            };
            let counted = u64::try_from(counted).map_err(backend)?;
            if counted <= COUNT_CAP {
                rows = found.into_iter().filter(|r| get::<Option<i64>>(r, "id").ok().flatten().is_some()).collect();
            }
            known = Some(counted);
        }
        if known.is_none_or(|c| c > COUNT_CAP) {
            let list = List { columns: COLUMNS, from: "products", filter: &conditions, order, by_id: true };
            let (found, counted) = page_rows(&mut tx, &list, page, known).await?;
            rows = found;
            known = Some(counted);
        }
        let mut items = rows.iter().map(summary).collect::<Result<Vec<_>, _>>()?;
        if !items.is_empty() {
            let ids: Vec<i64> = items.iter().map(|s| i64_of(s.id.0)).collect();
            let sums: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT product_id, sum(available)::BIGINT FROM skus WHERE product_id = ANY($1) GROUP BY product_id",
            )
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
            let sums: HashMap<i64, i64> = sums.into_iter().collect();
            for s in &mut items {
                let units = sums.get(&i64_of(s.id.0)).copied().unwrap_or(0);
                s.available = u64::try_from(units).map_err(backend)?;
            }
        }
        tx.commit().await.map_err(backend)?;
        Ok(page.page_of(items, known.unwrap_or(0)))
    }
}
