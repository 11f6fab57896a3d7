//! Catalog and stock writes. A SKU's price, product or `sold` changing
//! notes its product in [`Touched`] for [`super::finish`].

use mallkit_core::catalog::StockMove;
use mallkit_core::catalog::search::{search_text, search_tokens};
use mallkit_core::ids::SkuId;
use mallkit_core::storage::{CatalogWrite, GuardFailure, StockWrite};

use super::{Stop, Touched, Tx, not_found};
use crate::codec::{dec, get, i32_of, i64_of, json, name, u32_of};

/// Applies one catalog write.
pub(super) async fn apply(tx: &mut Tx, write: &CatalogWrite, touched: &mut Touched) -> Result<(), Stop> {
    match write {
        CatalogWrite::PutCategory(c) => {
            sqlx::query(
                "INSERT INTO categories (id, parent_id, name, sort) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET parent_id = $2, name = $3, sort = $4",
            )
            .bind(i64_of(c.id.0))
            .bind(c.parent.map(|p| i64_of(p.0)))
            .bind(&c.name)
            .bind(c.sort)
            .execute(&mut **tx)
            .await?;
        }
        CatalogWrite::PutMerchant(m) => {
            sqlx::query("INSERT INTO merchants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = $2")
                .bind(i64_of(m.id.0))
                .bind(&m.name)
                .execute(&mut **tx)
                .await?;
        }
        CatalogWrite::PutProduct(p) => {
            sqlx::query(
                "INSERT INTO products (id, merchant_id, category_id, name, status, search_text, search_tokens)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO UPDATE SET merchant_id = $2, category_id = $3, name = $4, status = $5,
                     search_text = $6, search_tokens = $7",
            )
            .bind(i64_of(p.id.0))
            .bind(i64_of(p.merchant.0))
            .bind(i64_of(p.category.0))
            .bind(&p.name)
            .bind(name(&p.status)?)
            .bind(search_text(&p.name))
            .bind(search_tokens(&p.name))
            .execute(&mut **tx)
            .await?;
        }
        CatalogWrite::PutSku(s) => {
            // A SKU moved to another product leaves its old one to recompute too.
            let old: Option<i64> = sqlx::query_scalar("SELECT product_id FROM skus WHERE id = $1 FOR UPDATE")
                .bind(i64_of(s.id.0))
                .fetch_optional(&mut **tx)
                .await?;
            touched.0.extend(old);
            touched.0.insert(i64_of(s.product.0));
            sqlx::query(
                "INSERT INTO skus (id, product_id, attributes, price, original_price, weight_grams, available,
                     reserved, sold)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET product_id = $2, attributes = $3, price = $4, original_price = $5,
                     weight_grams = $6",
            )
            .bind(i64_of(s.id.0))
            .bind(i64_of(s.product.0))
            .bind(json(&s.attributes)?)
            .bind(dec(s.price))
            .bind(s.original_price.map(dec))
            .bind(s.weight_grams.map(i32_of).transpose()?)
            .bind(i32_of(s.stock.available)?)
            .bind(i32_of(s.stock.reserved)?)
            .bind(i32_of(s.stock.sold)?)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Applies one stock move (its guard: [`move_stock`]).
pub(super) async fn apply_stock(tx: &mut Tx, write: &StockWrite, touched: &mut Touched) -> Result<(), Stop> {
    match write {
        StockWrite::Move { sku, movement, quantity } => {
            let product = move_stock(tx, *sku, *movement, *quantity).await?;
            if matches!(movement, StockMove::Commit | StockMove::Restock) {
                touched.0.insert(product);
            }
        }
    }
    Ok(())
}

/// `UPDATE skus SET source = source - n, target = target + n WHERE source >= n`;
/// when it touches nothing, the current row says why. Returns the SKU's
/// product.
async fn move_stock(tx: &mut Tx, sku: SkuId, movement: StockMove, quantity: u32) -> Result<i64, Stop> {
    let (sql, source) = match movement {
        StockMove::Reserve => (
            "UPDATE skus SET available = available - $2, reserved = reserved + $2 WHERE id = $1 AND available >= $2
             RETURNING product_id",
            "available",
        ),
        StockMove::Release => (
            "UPDATE skus SET reserved = reserved - $2, available = available + $2 WHERE id = $1 AND reserved >= $2
             RETURNING product_id",
            "reserved",
        ),
        StockMove::Commit => (
            "UPDATE skus SET reserved = reserved - $2, sold = sold + $2 WHERE id = $1 AND reserved >= $2
             RETURNING product_id",
            "reserved",
        ),
        StockMove::Restock => (
            "UPDATE skus SET sold = sold - $2, available = available + $2 WHERE id = $1 AND sold >= $2
             RETURNING product_id",
            "sold",
        ),
        StockMove::Receive => {
            ("UPDATE skus SET available = available + $2 WHERE id = $1 RETURNING product_id", "available")
        }
        StockMove::WriteOff => (
            "UPDATE skus SET available = available - $2 WHERE id = $1 AND available >= $2 RETURNING product_id",
            "available",
        ),
    };
    let n = i32_of(quantity)?;
    let moved: Option<i64> = sqlx::query_scalar(sql).bind(i64_of(sku.0)).bind(n).fetch_optional(&mut **tx).await?;
    if let Some(product) = moved {
        return Ok(product);
    }
    let row = sqlx::query("SELECT available, reserved, sold FROM skus WHERE id = $1")
        .bind(i64_of(sku.0))
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Err(not_found("sku", sku.0)) };
    let have: i32 = get(&row, source)?;
    Err(GuardFailure::InsufficientStock { sku, requested: quantity, available: u32_of(have)? }.into())
}
