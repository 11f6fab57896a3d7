//! Product search (`CatalogStore::search_products`) on the columns
//! migration 0011 adds to `products` and the write path keeps in step.
//!
//! One page is at most three statements on one snapshot: the page
//! (`LIMIT page.fetch() OFFSET page.offset()`), the capped count when the
//! page does not prove the total, and the page's available units summed
//! from its SKUs in one `= ANY($1)` query. Each filter is its own indexed
//! condition:
//!
//! | filter | condition | index |
//! |---|---|---|
//! | status | `status = 'on_sale'` (a literal: the partial indexes need it) | `products_on_sale_*`, one per sort |
//! | category subtree | `category_id = $n`, or `= ANY($n)` for several | `products_category` (category, id desc) |
//! | merchant | `merchant_id = $n` | `products_merchant` (merchant, id desc) |
//! | keyword | `search_tokens @> $n` (its [`Keyword::tokens`]), plus `strpos(search_text, $k) > 0` for 3+ characters | `products_search_tokens` (GIN) |
//! | price | `min_price >= $n`, `min_price <= $n` | the price-sorted indexes |
//!
//! The summaries are [`mallkit_core::catalog::summarize`]'s: lowest and
//! highest price and units sold from the product row, units available
//! summed over its SKUs.
//!
//! [`Keyword::tokens`]: mallkit_core::catalog::Keyword::tokens

use std::collections::HashMap;

use mallkit_core::catalog::{ProductFilter, ProductSort, ProductStatus, ProductSummary};
use mallkit_core::ids::{CategoryId, MerchantId, ProductId};
use mallkit_core::page::{Page, PageRequest};
use mallkit_core::storage::StoreError;
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::codec::{backend, dec, get, i64_of, id_of, money};
use crate::paging::{Arg, List, Where, page_rows};

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

impl PgStore {
    /// `CatalogStore::search_products`: see the module docs.
    pub(crate) async fn search_page(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductSummary>, StoreError> {
        let filter_sql = conditions(filter);
        let list = List {
            columns: "id, name, merchant_id, category_id, min_price, max_price, sales",
            from: "products",
            filter: &filter_sql,
            order: order(filter.sort),
        };
        let mut tx = self.snapshot().await?;
        let (rows, counted) = page_rows(&mut tx, &list, page).await?;
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
        Ok(page.page_of(items, counted))
    }
}
