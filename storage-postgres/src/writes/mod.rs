//! The write path: one submodule per area (`catalog` with stock, `coupons`,
//! `points`, `cart`, `orders`, `payments`, `after_sales`), each write with its guard expressed
//! in SQL so that the database decides it under concurrency (module table of
//! `mallkit_core::storage`). Everything runs inside the batch's transaction;
//! a guard that refuses returns [`Stop::Guard`] and the caller rolls back.
//!
//! The guards hold at `READ COMMITTED` (PostgreSQL's default) because each is
//! either one conditional statement (`UPDATE … WHERE available >= n`,
//! `WHERE status = from`, `WHERE version = v`, the claim counter's
//! `ON CONFLICT … WHERE claimed < limit`), a unique key, or a decision taken
//! in Rust on a row locked `FOR UPDATE` (points, a refused coupon claim).
//!
//! Product search reads columns of `products` kept in step here (migration
//! 0011): `search_text` / `search_tokens` are written with the name by
//! `CatalogWrite::PutProduct`; `min_price`, `max_price` and `sales` follow the
//! SKUs. Every write that changes a SKU's price, product or `sold` (a
//! `CatalogWrite::PutSku`, a `StockMove::Commit` or `StockMove::Restock`)
//! names its product (and a moved SKU's old one) in the batch's [`Touched`];
//! [`finish`] then recomputes those products from their SKUs, last in the
//! batch, under the products' row locks taken in id order in a statement
//! of their own, so that the recompute's snapshot holds every SKU change of
//! every batch that recomputed them before (READ COMMITTED takes a fresh
//! snapshot per statement) and batches never lock a SKU while holding a
//! product.

use std::collections::BTreeSet;

use mallkit_core::storage::{GuardFailure, StoreError, Write};
use sqlx::Transaction;
use sqlx::postgres::Postgres;

use crate::codec::i64_of;

mod after_sales;
mod cart;
mod catalog;
mod coupons;
mod orders;
mod payments;
mod points;

/// The batch's transaction.
pub(crate) type Tx = Transaction<'static, Postgres>;

/// Why a batch stopped.
pub(crate) enum Stop {
    /// A guard refused: the batch's answer.
    Guard(GuardFailure),
    /// The database failed; retried when it is a serialization failure or a
    /// deadlock.
    Db(sqlx::Error),
    /// Anything else (a value that does not fit a column, a constraint with
    /// no guard behind it); never retried.
    Other(StoreError),
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Self {
        Stop::Db(e)
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Guard(g) => Stop::Guard(g),
            other => Stop::Other(other),
        }
    }
}

impl From<GuardFailure> for Stop {
    fn from(g: GuardFailure) -> Self {
        Stop::Guard(g)
    }
}

/// SQLSTATE of a database error.
fn sqlstate(e: &sqlx::Error) -> Option<String> {
    e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned())
}

/// Serialization failure (40001) or deadlock (40P01): the batch may simply
/// run again.
pub(crate) fn retryable(e: &sqlx::Error) -> bool {
    matches!(sqlstate(e).as_deref(), Some("40001" | "40P01"))
}

/// The constraint a unique violation hit, if `e` is one.
pub(super) fn unique_violation(e: &sqlx::Error) -> Option<String> {
    let d = e.as_database_error()?;
    d.is_unique_violation().then(|| d.constraint().unwrap_or_default().to_owned())
}

/// The constraint a CHECK violation hit, if `e` is one.
pub(super) fn check_violation(e: &sqlx::Error) -> Option<String> {
    let d = e.as_database_error()?;
    d.is_check_violation().then(|| d.constraint().unwrap_or_default().to_owned())
}

pub(super) fn already(entity: &'static str, id: u64) -> Stop {
    GuardFailure::AlreadyExists { entity, id }.into()
}

pub(super) fn not_found(entity: &'static str, id: u64) -> Stop {
    GuardFailure::NotFound { entity, id }.into()
}

/// The products whose `min_price`, `max_price` and `sales` a batch must
/// recompute before it commits (ids as stored).
#[derive(Debug, Default)]
pub(crate) struct Touched(BTreeSet<i64>);

/// Recomputes the maintained columns of every product in `touched` from
/// its SKUs: locks the products in id order first (a statement of its own),
/// then sets the lowest and highest price (0 without SKUs) and the units
/// sold in one statement.
pub(crate) async fn finish(tx: &mut Tx, touched: &Touched) -> Result<(), Stop> {
    if touched.0.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = touched.0.iter().copied().collect();
    sqlx::query("SELECT id FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE products p SET (min_price, max_price, sales) = (
             SELECT COALESCE(min(s.price), 0), COALESCE(max(s.price), 0), COALESCE(sum(s.sold), 0)
             FROM skus s WHERE s.product_id = p.id)
         WHERE p.id = ANY($1)",
    )
    .bind(&ids)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Applies one write inside the batch's transaction, in the code of its
/// area, noting in `touched` the products whose maintained columns it changed.
pub(crate) async fn apply_one(tx: &mut Tx, write: &Write, touched: &mut Touched) -> Result<(), Stop> {
    match write {
        Write::Catalog(w) => catalog::apply(tx, w, touched).await,
        Write::Stock(w) => catalog::apply_stock(tx, w, touched).await,
        Write::Coupon(w) => coupons::apply(tx, w).await,
        Write::Points(w) => points::apply(tx, w).await,
        Write::Cart(w) => cart::apply(tx, w).await,
        Write::Order(w) => orders::apply(tx, w).await,
        Write::Payment(w) => payments::apply(tx, w).await,
        Write::AfterSale(w) => after_sales::apply(tx, w).await,
        // Appended together at the end of the batch (events::append_all).
        Write::AppendEvent(_) => Ok(()),
    }
}

/// After an `UPDATE … WHERE id = $1 AND version = $v` touched nothing: a
/// conflict when the row exists, otherwise not found.
pub(super) async fn version_failure(tx: &mut Tx, entity: &'static str, id: u64) -> Stop {
    let sql = match entity {
        "order" => "SELECT 1 FROM orders WHERE id = $1",
        "payment" => "SELECT 1 FROM payments WHERE id = $1",
        _ => "SELECT 1 FROM after_sales WHERE id = $1",
    };
    match sqlx::query(sql).bind(i64_of(id)).fetch_optional(&mut **tx).await {
        Ok(Some(_)) => GuardFailure::VersionConflict { entity, id }.into(),
        Ok(None) => not_found(entity, id),
        Err(e) => Stop::Db(e),
    }
}

/// Runs the head statement of an insert or versioned update: a taken id (or
/// number) is `AlreadyExists`, an update that matched nothing a version
/// conflict or not found.
pub(super) async fn write_head(
    tx: &mut Tx,
    head: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
    entity: &'static str,
    id: u64,
    insert: bool,
    keys: [&str; 2],
) -> Result<(), Stop> {
    match head.execute(&mut **tx).await {
        Ok(done) if done.rows_affected() == 0 => Err(version_failure(tx, entity, id).await),
        Ok(_) => Ok(()),
        Err(e) if insert && unique_violation(&e).is_some_and(|c| keys.contains(&c.as_str())) => {
            Err(already(entity, id))
        }
        Err(e) => Err(Stop::Db(e)),
    }
}
