//! The write path: one function per [`Write`], each with its guard expressed
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
//! [`Write::PutProduct`]; `min_price`, `max_price` and `sales` follow the
//! SKUs. Every write that changes a SKU's price, product or `sold` (a
//! [`Write::PutSku`], a [`StockMove::Commit`] or [`StockMove::Restock`])
//! names its product (and a moved SKU's old one) in the batch's [`Touched`];
//! [`finish`] then recomputes those products from their SKUs, last in the
//! batch, under the products' row locks taken in id order in a statement
//! of their own, so that the recompute's snapshot holds every SKU change of
//! every batch that recomputed them before (READ COMMITTED takes a fresh
//! snapshot per statement) and batches never lock a SKU while holding a
//! product.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use mallkit_core::after_sales::AfterSale;
use mallkit_core::catalog::StockMove;
use mallkit_core::catalog::search::{search_text, search_tokens};
use mallkit_core::coupon::{UserCoupon, UserCouponStatus};
use mallkit_core::ids::{CheckoutId, SkuId, UserCouponId};
use mallkit_core::money::Rate;
use mallkit_core::order::Order;
use mallkit_core::payment::Payment;
use mallkit_core::points::LedgerEntry;
use mallkit_core::storage::{GuardFailure, StoreError, Write};
use sqlx::Transaction;
use sqlx::postgres::Postgres;

use crate::codec::{account, actor_parts, backend, dec, get, i32_of, i64_of, json, name, parse, pos_of, u32_of};

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
fn unique_violation(e: &sqlx::Error) -> Option<String> {
    let d = e.as_database_error()?;
    d.is_unique_violation().then(|| d.constraint().unwrap_or_default().to_owned())
}

/// The constraint a CHECK violation hit, if `e` is one.
fn check_violation(e: &sqlx::Error) -> Option<String> {
    let d = e.as_database_error()?;
    d.is_check_violation().then(|| d.constraint().unwrap_or_default().to_owned())
}

fn already(entity: &'static str, id: u64) -> Stop {
    GuardFailure::AlreadyExists { entity, id }.into()
}

fn not_found(entity: &'static str, id: u64) -> Stop {
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

/// Applies one write inside the batch's transaction, noting in `touched`
/// the products whose maintained columns it changed.
pub(crate) async fn apply_one(tx: &mut Tx, write: &Write, touched: &mut Touched) -> Result<(), Stop> {
    match write {
        Write::PutCategory(c) => {
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
        Write::PutMerchant(m) => {
            sqlx::query("INSERT INTO merchants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = $2")
                .bind(i64_of(m.id.0))
                .bind(&m.name)
                .execute(&mut **tx)
                .await?;
        }
        Write::PutProduct(p) => {
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
        Write::PutSku(s) => {
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
        Write::PutTier(t) => {
            sqlx::query(
                "INSERT INTO tiers (level, name, min_points, points_multiplier, free_shipping, member_discount,
                     benefits)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (level) DO UPDATE SET name = $2, min_points = $3, points_multiplier = $4,
                     free_shipping = $5, member_discount = $6, benefits = $7",
            )
            .bind(i32_of(t.level)?)
            .bind(&t.name)
            .bind(t.min_points)
            .bind(t.points_multiplier.to_decimal())
            .bind(t.free_shipping)
            .bind(t.member_discount.map(Rate::to_decimal))
            .bind(&t.benefits)
            .execute(&mut **tx)
            .await?;
        }
        Write::PutTemplate(t) => {
            // An existing template keeps the issued/used counters the store keeps.
            let done = sqlx::query(
                "INSERT INTO coupon_templates (id, title, kind, scope, validity, total_limit, per_user_limit, issued,
                     used, status, layer)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO UPDATE SET title = $2, kind = $3, scope = $4, validity = $5, total_limit = $6,
                     per_user_limit = $7, status = $10, layer = $11",
            )
            .bind(i64_of(t.id.0))
            .bind(&t.title)
            .bind(json(&t.kind)?)
            .bind(json(&t.scope)?)
            .bind(json(&t.validity)?)
            .bind(t.total_limit.map(i32_of).transpose()?)
            .bind(i32_of(t.per_user_limit)?)
            .bind(i32_of(t.issued)?)
            .bind(i32_of(t.used)?)
            .bind(name(&t.status)?)
            .bind(t.layer.map(|l| name(&l)).transpose()?)
            .execute(&mut **tx)
            .await;
            match done {
                Err(e) if check_violation(&e).as_deref() == Some("coupon_templates_issued_within_limit") => {
                    return Err(Stop::Other(backend(format!(
                        "coupon template {}: total_limit {:?} is below the coupons already issued",
                        t.id, t.total_limit
                    ))));
                }
                other => {
                    other?;
                }
            }
        }
        Write::SetTemplateStatus { template, status } => {
            let done = sqlx::query("UPDATE coupon_templates SET status = $2 WHERE id = $1")
                .bind(i64_of(template.0))
                .bind(name(status)?)
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(not_found("coupon_template", template.0));
            }
        }
        Write::MoveStock { sku, movement, quantity } => {
            let product = move_stock(tx, *sku, *movement, *quantity).await?;
            if matches!(movement, StockMove::Commit | StockMove::Restock) {
                touched.0.insert(product);
            }
        }
        Write::IssueCoupon(c) => issue_coupon(tx, c).await?,
        Write::SetCouponStatus { coupon, from, to, checkout, at } => {
            set_coupon_status(tx, *coupon, *from, *to, *checkout, *at).await?
        }
        Write::Points(entry) => points(tx, entry.clone()).await?,
        Write::PutCart(cart) => {
            sqlx::query(
                "INSERT INTO carts (user_id, items) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET items = $2",
            )
            .bind(i64_of(cart.user.0))
            .bind(json(&cart.items)?)
            .execute(&mut **tx)
            .await?;
        }
        Write::InsertOrder(o) => write_order(tx, o, true).await?,
        Write::UpdateOrder(o) => write_order(tx, o, false).await?,
        Write::InsertPayment(p) => write_payment(tx, p, true).await?,
        Write::UpdatePayment(p) => write_payment(tx, p, false).await?,
        Write::InsertAfterSale(a) => write_after_sale(tx, a, true).await?,
        Write::UpdateAfterSale(a) => write_after_sale(tx, a, false).await?,
        // Appended together at the end of the batch (events::append_all).
        Write::AppendEvent(_) => {}
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

/// Counts a claim against the template (conditional `UPDATE`) and the user
/// (counter upserted `WHERE claimed < per_user_limit`), then stores the
/// coupon. Failures are told apart in the memory store's order: taken id,
/// unknown template, disabled, exhausted, per-user limit.
async fn issue_coupon(tx: &mut Tx, c: &UserCoupon) -> Result<(), Stop> {
    let taken =
        sqlx::query("SELECT 1 FROM user_coupons WHERE id = $1").bind(i64_of(c.id.0)).fetch_optional(&mut **tx).await?;
    if taken.is_some() {
        return Err(already("user_coupon", c.id.0));
    }
    let per_user: Option<i32> = sqlx::query_scalar(
        "UPDATE coupon_templates SET issued = issued + 1
         WHERE id = $1 AND status = 'enabled' AND (total_limit IS NULL OR issued < total_limit)
         RETURNING per_user_limit",
    )
    .bind(i64_of(c.template.0))
    .fetch_optional(&mut **tx)
    .await?;
    let per_user = match per_user {
        Some(n) => n,
        None => refused_claim(tx, c).await?,
    };
    let counted = sqlx::query(
        "INSERT INTO coupon_claims (user_id, template_id, claimed) VALUES ($1, $2, 1)
         ON CONFLICT (user_id, template_id) DO UPDATE SET claimed = coupon_claims.claimed + 1
         WHERE coupon_claims.claimed < $3",
    )
    .bind(i64_of(c.user.0))
    .bind(i64_of(c.template.0))
    .bind(per_user)
    .execute(&mut **tx)
    .await?;
    if counted.rows_affected() == 0 {
        return Err(
            GuardFailure::ClaimLimitReached { template: c.template, user: c.user, limit: u32_of(per_user)? }.into()
        );
    }
    let inserted = sqlx::query(
        "INSERT INTO user_coupons (id, template_id, user_id, status, valid_from, valid_to, claimed_at, checkout_id,
             used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(i64_of(c.id.0))
    .bind(i64_of(c.template.0))
    .bind(i64_of(c.user.0))
    .bind(name(&c.status)?)
    .bind(c.valid_from)
    .bind(c.valid_to)
    .bind(c.claimed_at)
    .bind(c.checkout.map(|x| i64_of(x.0)))
    .bind(c.used_at)
    .execute(&mut **tx)
    .await;
    match inserted {
        Err(e) if unique_violation(&e).as_deref() == Some("user_coupons_pkey") => Err(already("user_coupon", c.id.0)),
        other => other.map(|_| ()).map_err(Stop::Db),
    }
}

/// The conditional `UPDATE` of a claim matched nothing: why, from the row
/// locked as it is now. When it has changed in between so that the claim
/// fits after all (re-enabled, limit raised), the claim is counted under the
/// lock. Returns the per-user limit.
async fn refused_claim(tx: &mut Tx, c: &UserCoupon) -> Result<i32, Stop> {
    let row = sqlx::query("SELECT * FROM coupon_templates WHERE id = $1 FOR UPDATE")
        .bind(i64_of(c.template.0))
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Err(not_found("coupon_template", c.template.0)) };
    let t = crate::codec::template(&row)?;
    // The per-user count is checked next, by the counter's own guard.
    t.admit_claim(0).map_err(|r| GuardFailure::of_claim(c, r))?;
    sqlx::query("UPDATE coupon_templates SET issued = issued + 1 WHERE id = $1")
        .bind(i64_of(c.template.0))
        .execute(&mut **tx)
        .await?;
    Ok(i32_of(t.per_user_limit)?)
}

/// `UPDATE user_coupons … WHERE id = $1 AND status = $from`, with the
/// template's `used` counter moved when the coupon enters or leaves `used`.
async fn set_coupon_status(
    tx: &mut Tx,
    coupon: UserCouponId,
    from: UserCouponStatus,
    to: UserCouponStatus,
    checkout: Option<CheckoutId>,
    at: DateTime<Utc>,
) -> Result<(), Stop> {
    let template: Option<i64> = sqlx::query_scalar(
        "UPDATE user_coupons SET status = $3,
             checkout_id = COALESCE($4, CASE WHEN $3 IN ('unused', 'expired') THEN NULL ELSE checkout_id END),
             used_at = CASE WHEN $3 IN ('unused', 'expired') THEN NULL WHEN $3 = 'used' THEN $5 ELSE used_at END
         WHERE id = $1 AND status = $2
         RETURNING template_id",
    )
    .bind(i64_of(coupon.0))
    .bind(name(&from)?)
    .bind(name(&to)?)
    .bind(checkout.map(|c| i64_of(c.0)))
    .bind(at)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(template) = template else {
        let actual: Option<String> = sqlx::query_scalar("SELECT status FROM user_coupons WHERE id = $1")
            .bind(i64_of(coupon.0))
            .fetch_optional(&mut **tx)
            .await?;
        return Err(match actual {
            None => not_found("user_coupon", coupon.0),
            Some(s) => GuardFailure::CouponStatusChanged { coupon, expected: from, actual: parse(s)? }.into(),
        });
    };
    let delta = mallkit_core::coupon::used_delta(from, to);
    if delta != 0 {
        sqlx::query("UPDATE coupon_templates SET used = GREATEST(used + $2, 0) WHERE id = $1")
            .bind(template)
            .bind(delta)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Locks the account (created empty when missing), refuses a source already
/// in the ledger, moves the account with core's `PointsAccount::apply` (the
/// same guards as the memory store), then writes the ledger row and the
/// account in one statement. The ledger's unique source key backs the check.
async fn points(tx: &mut Tx, mut entry: LedgerEntry) -> Result<(), Stop> {
    const LOCK: &str =
        "SELECT user_id, balance, frozen, total_earned, total_spent FROM points_accounts WHERE user_id = $1 FOR UPDATE";
    let user = i64_of(entry.user.0);
    let row = match sqlx::query(LOCK).bind(user).fetch_optional(&mut **tx).await? {
        Some(row) => row,
        None => {
            sqlx::query(
                "INSERT INTO points_accounts (user_id, balance, frozen, total_earned, total_spent)
                 VALUES ($1, 0, 0, 0, 0) ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user)
            .execute(&mut **tx)
            .await?;
            sqlx::query(LOCK).bind(user).fetch_one(&mut **tx).await?
        }
    };
    let (source, action) = (name(&entry.source)?, name(&entry.action)?);
    let applied: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM points_ledger WHERE user_id = $1 AND source = $2 AND action = $3
             AND reference = $4)",
    )
    .bind(user)
    .bind(&source)
    .bind(&action)
    .bind(i64_of(entry.reference))
    .fetch_one(&mut **tx)
    .await?;
    let source_applied = |entry: &LedgerEntry| -> Stop {
        GuardFailure::PointsSourceApplied {
            user: entry.user,
            points_source: entry.source,
            action: entry.action,
            reference: entry.reference,
        }
        .into()
    };
    if applied {
        return Err(source_applied(&entry));
    }
    let mut acc = account(&row)?;
    acc.apply(&mut entry).map_err(GuardFailure::from)?;
    let written = sqlx::query(
        "WITH entry AS (
             INSERT INTO points_ledger (id, user_id, source, action, reference, points, balance_delta, frozen_delta,
                 balance_after, remark, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         )
         UPDATE points_accounts SET balance = $12, frozen = $13, total_earned = $14, total_spent = $15
         WHERE user_id = $2",
    )
    .bind(i64_of(entry.id.0))
    .bind(user)
    .bind(&source)
    .bind(&action)
    .bind(i64_of(entry.reference))
    .bind(entry.points)
    .bind(entry.balance_delta)
    .bind(entry.frozen_delta)
    .bind(entry.balance_after)
    .bind(&entry.remark)
    .bind(entry.at)
    .bind(acc.balance)
    .bind(acc.frozen)
    .bind(acc.total_earned)
    .bind(acc.total_spent)
    .execute(&mut **tx)
    .await;
    match written {
        Ok(_) => Ok(()),
        Err(e) => Err(match unique_violation(&e).as_deref() {
            Some("points_ledger_source_once") => source_applied(&entry),
            Some("points_ledger_id_key") => already("ledger_entry", entry.id.0),
            _ => Stop::Db(e),
        }),
    }
}

/// After an `UPDATE … WHERE id = $1 AND version = $v` touched nothing: a
/// conflict when the row exists, otherwise not found.
async fn version_failure(tx: &mut Tx, entity: &'static str, id: u64) -> Stop {
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
async fn write_head(
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

/// Inserts an order (version 0) or replaces one whose stored version is
/// `o.version` (bumping it); then its lines are upserted (updated in place)
/// and history rows beyond those stored are appended, in one statement.
async fn write_order(tx: &mut Tx, o: &Order, insert: bool) -> Result<(), Stop> {
    let sql = if insert {
        "INSERT INTO orders (number, checkout_id, user_id, merchant_id, status, goods_subtotal, coupon_discount,
             points_used, points_deduction, shipping_fee, payable, coupons, remark, created_at, pay_deadline, paid_at,
             payment_id, carrier, tracking_no, shipped_at, auto_confirm_at, completed_at, ended_at, points_earned,
             points_reversed, refunded_total, shipping_refunded, id, version, shipping_address, points_earned_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
             $23, $24, $25, $26, $27, $28, 0, $29, $30)"
    } else {
        "UPDATE orders SET number = $1, checkout_id = $2, user_id = $3, merchant_id = $4, status = $5,
             goods_subtotal = $6, coupon_discount = $7, points_used = $8, points_deduction = $9, shipping_fee = $10,
             payable = $11, coupons = $12, remark = $13, created_at = $14, pay_deadline = $15, paid_at = $16,
             payment_id = $17, carrier = $18, tracking_no = $19, shipped_at = $20, auto_confirm_at = $21,
             completed_at = $22, ended_at = $23, points_earned = $24, points_reversed = $25, refunded_total = $26,
             shipping_refunded = $27, version = version + 1, shipping_address = $30, points_earned_on = $31
         WHERE id = $28 AND version = $29"
    };
    let shipment = o.shipment.as_ref();
    let mut head = sqlx::query(sql)
        .bind(&o.number)
        .bind(i64_of(o.checkout.0))
        .bind(i64_of(o.user.0))
        .bind(i64_of(o.merchant.0))
        .bind(name(&o.status)?)
        .bind(dec(o.goods_subtotal))
        .bind(dec(o.coupon_discount))
        .bind(o.points_used)
        .bind(dec(o.points_deduction))
        .bind(dec(o.shipping_fee))
        .bind(dec(o.payable))
        .bind(json(&o.coupons)?)
        .bind(&o.remark)
        .bind(o.created_at)
        .bind(o.pay_deadline)
        .bind(o.paid_at)
        .bind(o.payment.map(|p| i64_of(p.0)))
        .bind(shipment.map(|s| s.carrier.as_str()))
        .bind(shipment.map(|s| s.tracking_no.as_str()))
        .bind(shipment.map(|s| s.at))
        .bind(o.auto_confirm_at)
        .bind(o.completed_at)
        .bind(o.ended_at)
        .bind(o.points_earned)
        .bind(o.points_reversed)
        .bind(dec(o.refunded_total))
        .bind(o.shipping_refunded)
        .bind(i64_of(o.id.0));
    if !insert {
        head = head.bind(i64_of(o.version));
    }
    let head = head.bind(o.shipping_address.as_ref().map(json).transpose()?).bind(dec(o.points_earned_on));
    write_head(tx, head, "order", o.id.0, insert, ["orders_pkey", "orders_number_key"]).await?;

    let lines = &o.lines;
    let mut history_from = Vec::with_capacity(o.history.len());
    let mut history_to = Vec::with_capacity(o.history.len());
    let mut actor_types = Vec::with_capacity(o.history.len());
    let mut actor_ids = Vec::with_capacity(o.history.len());
    for h in &o.history {
        history_from.push(h.from.map(|f| name(&f)).transpose()?);
        history_to.push(name(&h.to)?);
        let (kind, id) = actor_parts(h.actor);
        actor_types.push(kind);
        actor_ids.push(id);
    }
    sqlx::query(
        "WITH lines AS (
             INSERT INTO order_lines (order_id, line_no, sku_id, product_id, name, quantity, list_unit_price,
                 unit_price, subtotal, coupon_discount, points_used, points_deduction, payable, after_sales_quantity,
                 refund_claimed_quantity, refunded_quantity, refunded_amount, points_returned)
             SELECT $1, l.* FROM UNNEST($2::INT[], $3::BIGINT[], $4::BIGINT[], $5::TEXT[], $6::INT[],
                 $7::NUMERIC[], $8::NUMERIC[], $9::NUMERIC[], $10::NUMERIC[], $11::BIGINT[], $12::NUMERIC[],
                 $13::NUMERIC[], $14::INT[], $15::INT[], $16::INT[], $17::NUMERIC[], $18::BIGINT[]) AS l
             ON CONFLICT (order_id, line_no) DO UPDATE SET sku_id = EXCLUDED.sku_id,
                 product_id = EXCLUDED.product_id, name = EXCLUDED.name, quantity = EXCLUDED.quantity,
                 list_unit_price = EXCLUDED.list_unit_price, unit_price = EXCLUDED.unit_price,
                 subtotal = EXCLUDED.subtotal, coupon_discount = EXCLUDED.coupon_discount,
                 points_used = EXCLUDED.points_used, points_deduction = EXCLUDED.points_deduction,
                 payable = EXCLUDED.payable, after_sales_quantity = EXCLUDED.after_sales_quantity,
                 refund_claimed_quantity = EXCLUDED.refund_claimed_quantity,
                 refunded_quantity = EXCLUDED.refunded_quantity, refunded_amount = EXCLUDED.refunded_amount,
                 points_returned = EXCLUDED.points_returned
             WHERE (order_lines.*) IS DISTINCT FROM (EXCLUDED.*)
         )
         INSERT INTO order_status_history (order_id, seq, from_status, to_status, actor_type, actor_id, remark, at)
         SELECT $1, (h.n - 1)::INT, h.from_status, h.to_status, h.actor_type, h.actor_id, h.remark, h.at
         FROM UNNEST($19::TEXT[], $20::TEXT[], $21::TEXT[], $22::BIGINT[], $23::TEXT[], $24::TIMESTAMPTZ[])
             WITH ORDINALITY AS h (from_status, to_status, actor_type, actor_id, remark, at, n)
         ON CONFLICT (order_id, seq) DO NOTHING",
    )
    .bind(i64_of(o.id.0))
    .bind(lines.iter().map(|l| i32_of(l.line_no)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| i64_of(l.sku.0)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| i64_of(l.product.0)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.name.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| i32_of(l.quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| dec(l.list_unit_price)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.unit_price)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.subtotal)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.coupon_discount)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.points_used).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.points_deduction)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| dec(l.payable)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| i32_of(l.after_sales_quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| i32_of(l.refund_claimed_quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| i32_of(l.refunded_quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(lines.iter().map(|l| dec(l.refunded_amount)).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.points_returned).collect::<Vec<_>>())
    .bind(history_from)
    .bind(history_to)
    .bind(actor_types)
    .bind(actor_ids)
    .bind(o.history.iter().map(|h| h.remark.as_str()).collect::<Vec<_>>())
    .bind(o.history.iter().map(|h| h.at).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts a payment (version 0) or replaces one whose stored version is
/// `p.version`; its orders and refund numbers are appended beyond what is
/// stored, in one statement.
async fn write_payment(tx: &mut Tx, p: &Payment, insert: bool) -> Result<(), Stop> {
    let sql = if insert {
        "INSERT INTO payments (number, user_id, amount, channel, status, created_at, expires_at, provider_txn,
             paid_at, refunded_amount, id, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0)"
    } else {
        "UPDATE payments SET number = $1, user_id = $2, amount = $3, channel = $4, status = $5, created_at = $6,
             expires_at = $7, provider_txn = $8, paid_at = $9, refunded_amount = $10, version = version + 1
         WHERE id = $11 AND version = $12"
    };
    let mut head = sqlx::query(sql)
        .bind(&p.number)
        .bind(i64_of(p.user.0))
        .bind(dec(p.amount))
        .bind(name(&p.channel)?)
        .bind(name(&p.status)?)
        .bind(p.created_at)
        .bind(p.expires_at)
        .bind(&p.provider_txn)
        .bind(p.paid_at)
        .bind(dec(p.refunded_amount))
        .bind(i64_of(p.id.0));
    if !insert {
        head = head.bind(i64_of(p.version));
    }
    match write_head(tx, head, "payment", p.id.0, insert, ["payments_pkey", "payments_number_key"]).await {
        Err(Stop::Db(e)) if unique_violation(&e).as_deref() == Some("payments_provider_txn_once") => {
            return Err(Stop::Other(backend(format!(
                "payment {}: provider transaction {:?} already confirms another payment",
                p.id, p.provider_txn
            ))));
        }
        other => other?,
    }
    let children = sqlx::query(
        "WITH orders AS (
             INSERT INTO payment_orders (payment_id, pos, order_id)
             SELECT $1, (o.n - 1)::INT, o.order_id FROM UNNEST($2::BIGINT[]) WITH ORDINALITY AS o (order_id, n)
             ON CONFLICT (payment_id, pos) DO NOTHING
         )
         INSERT INTO payment_refunds (payment_id, seq, refund_no)
         SELECT $1, (r.n - 1)::INT, r.refund_no FROM UNNEST($3::TEXT[]) WITH ORDINALITY AS r (refund_no, n)
         ON CONFLICT (payment_id, seq) DO NOTHING",
    )
    .bind(i64_of(p.id.0))
    .bind(p.orders.iter().map(|o| i64_of(o.0)).collect::<Vec<_>>())
    .bind(&p.refunds)
    .execute(&mut **tx)
    .await;
    match children {
        Err(e) if unique_violation(&e).as_deref() == Some("payment_orders_pkey") => {
            Err(Stop::Other(backend(format!("payment {} lists an order twice: {:?}", p.id, p.orders))))
        }
        Err(e) if unique_violation(&e).as_deref() == Some("payment_refunds_once") => {
            Err(Stop::Other(backend(format!("payment {} lists a refund number twice: {:?}", p.id, p.refunds))))
        }
        other => other.map(|_| ()).map_err(Stop::Db),
    }
}

/// Inserts an after-sales case (version 0) or replaces one whose stored
/// version is `a.version`; its lines are upserted and log rows beyond those
/// stored appended, in one statement.
async fn write_after_sale(tx: &mut Tx, a: &AfterSale, insert: bool) -> Result<(), Stop> {
    let sql = if insert {
        "INSERT INTO after_sales (number, order_id, user_id, merchant_id, kind, status, reason, goods_amount,
             clawback, clawback_by_coupon, refund_amount, shipping_refund, points_returned, points_reversed,
             return_tracking_no, created_at, id, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0)"
    } else {
        "UPDATE after_sales SET number = $1, order_id = $2, user_id = $3, merchant_id = $4, kind = $5, status = $6,
             reason = $7, goods_amount = $8, clawback = $9, clawback_by_coupon = $10, refund_amount = $11,
             shipping_refund = $12, points_returned = $13, points_reversed = $14, return_tracking_no = $15,
             created_at = $16, version = version + 1
         WHERE id = $17 AND version = $18"
    };
    let mut head = sqlx::query(sql)
        .bind(&a.number)
        .bind(i64_of(a.order.0))
        .bind(i64_of(a.user.0))
        .bind(i64_of(a.merchant.0))
        .bind(name(&a.kind)?)
        .bind(name(&a.status)?)
        .bind(&a.reason)
        .bind(dec(a.goods_amount))
        .bind(dec(a.clawback))
        .bind(a.clawback_by_coupon.iter().map(|m| dec(*m)).collect::<Vec<_>>())
        .bind(dec(a.refund_amount))
        .bind(dec(a.shipping_refund))
        .bind(a.points_returned)
        .bind(a.points_reversed)
        .bind(&a.return_tracking_no)
        .bind(a.created_at)
        .bind(i64_of(a.id.0));
    if !insert {
        head = head.bind(i64_of(a.version));
    }
    write_head(tx, head, "after_sale", a.id.0, insert, ["after_sales_pkey", "after_sales_number_key"]).await?;

    let mut actions = Vec::with_capacity(a.logs.len());
    let mut statuses = Vec::with_capacity(a.logs.len());
    let mut operator_types = Vec::with_capacity(a.logs.len());
    let mut operator_ids = Vec::with_capacity(a.logs.len());
    for log in &a.logs {
        actions.push(name(&log.action)?);
        statuses.push(name(&log.status)?);
        let (kind, id) = actor_parts(log.operator);
        operator_types.push(kind);
        operator_ids.push(id);
    }
    let positions = (0..a.lines.len()).map(pos_of).collect::<Result<Vec<_>, _>>()?;
    sqlx::query(
        "WITH lines AS (
             INSERT INTO after_sale_lines (after_sale_id, pos, order_id, line_no, quantity, amount, refunded)
             SELECT $1, l.pos, $2, l.line_no, l.quantity, l.amount, l.refunded
             FROM UNNEST($3::INT[], $4::INT[], $5::INT[], $6::NUMERIC[], $7::NUMERIC[])
                 AS l (pos, line_no, quantity, amount, refunded)
             ON CONFLICT (after_sale_id, pos) DO UPDATE SET order_id = EXCLUDED.order_id,
                 line_no = EXCLUDED.line_no, quantity = EXCLUDED.quantity, amount = EXCLUDED.amount,
                 refunded = EXCLUDED.refunded
             WHERE (after_sale_lines.*) IS DISTINCT FROM (EXCLUDED.*)
         )
         INSERT INTO after_sale_logs (after_sale_id, seq, action, operator_type, operator_id, status, at, note)
         SELECT $1, (g.n - 1)::INT, g.action, g.operator_type, g.operator_id, g.status, g.at, g.note
         FROM UNNEST($8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::TEXT[], $12::TIMESTAMPTZ[], $13::TEXT[])
             WITH ORDINALITY AS g (action, operator_type, operator_id, status, at, note, n)
         ON CONFLICT (after_sale_id, seq) DO NOTHING",
    )
    .bind(i64_of(a.id.0))
    .bind(i64_of(a.order.0))
    .bind(positions)
    .bind(a.lines.iter().map(|l| i32_of(l.line_no)).collect::<Result<Vec<_>, _>>()?)
    .bind(a.lines.iter().map(|l| i32_of(l.quantity)).collect::<Result<Vec<_>, _>>()?)
    .bind(a.lines.iter().map(|l| dec(l.amount)).collect::<Vec<_>>())
    .bind(a.lines.iter().map(|l| dec(l.refunded)).collect::<Vec<_>>())
    .bind(actions)
    .bind(operator_types)
    .bind(operator_ids)
    .bind(statuses)
    .bind(a.logs.iter().map(|l| l.at).collect::<Vec<_>>())
    .bind(a.logs.iter().map(|l| l.note.as_str()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
