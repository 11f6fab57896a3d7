//! # mallkit-storage-postgres
//!
//! Every `mallkit-core` storage trait on PostgreSQL (sqlx 0.9). The schema is
//! in `migrations/` (embedded, run by [`PgStore::migrate`]). Each
//! [`Store::apply`] batch is one transaction; every guard of the storage
//! contract is a statement the database decides under concurrency:
//!
//! - stock: `UPDATE skus SET available = available - n … WHERE available >= n`;
//! - coupon claims: the template row locked `FOR UPDATE`, a per-user counter
//!   upserted `WHERE claimed < per_user_limit`;
//! - coupon status: `UPDATE … WHERE status = from`;
//! - points: the account row locked `FOR UPDATE`, moved by core's own
//!   `PointsAccount::apply`, the ledger row unique on (user, source, action,
//!   reference);
//! - orders, payments, after-sales: `UPDATE … WHERE version = v`.
//!
//! Serialization failures and deadlocks re-run the whole batch a bounded
//! number of times; any failure rolls the batch back.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mallkit_core::after_sales::AfterSale;
use mallkit_core::cart::Cart;
use mallkit_core::catalog::{Category, Merchant, Product, Sku, Stock, StockMove};
use mallkit_core::coupon::{CouponTemplate, UserCoupon, UserCouponStatus};
use mallkit_core::ids::{
    AfterSaleId, CategoryId, CheckoutId, CouponTemplateId, LedgerEntryId, MerchantId, OrderId, PaymentId, ProductId,
    SkuId, UserCouponId, UserId,
};
use mallkit_core::money::{Money, Rate};
use mallkit_core::order::{Order, OrderLine, OrderStatus, Shipment, StatusChange};
use mallkit_core::payment::Payment;
use mallkit_core::points::{LedgerEntry, PointsAccount, Tier};
use mallkit_core::storage::{
    AfterSalesStore, CartStore, CatalogStore, CouponStore, GuardFailure, OrderStore, PaymentStore, PointsStore, Store,
    StoreError, Write,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};

pub mod testing;

/// How many times a batch re-runs after a serialization failure or deadlock.
pub const MAX_ATTEMPTS: u32 = 5;

/// Connection settings.
#[derive(Debug, Clone, Copy)]
pub struct PgSettings {
    /// Most connections in the pool (default 10).
    pub max_connections: u32,
    /// How long to wait for a free connection (default 5 s).
    pub acquire_timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        PgSettings { max_connections: 10, acquire_timeout: Duration::from_secs(5) }
    }
}

/// The PostgreSQL store. Clones share one pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl PgStore {
    /// Connects to `url` (e.g. `postgres://postgres@127.0.0.1:5432/mallkit`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when no server answers.
    pub async fn connect(url: &str, settings: PgSettings) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect(url)
            .await
            .map_err(backend)?;
        Ok(PgStore { pool })
    }

    /// A store over an existing pool.
    pub fn from_pool(pool: PgPool) -> PgStore {
        PgStore { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates database `name` on the server of `admin_url` (which names any
    /// database the role can connect to), connects to it and migrates it.
    /// `name` must be a plain identifier (letters, digits, `_`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] for a bad name, an unreachable server, or a
    /// failed creation or migration.
    pub async fn create_database(admin_url: &str, name: &str, settings: PgSettings) -> Result<PgStore, StoreError> {
        use sqlx::Connection;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(backend(format!("`{name}` is not a plain database name")));
        }
        let mut admin = sqlx::PgConnection::connect(admin_url).await.map_err(backend)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .map_err(backend)?;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => format!("{admin_url}/{name}"),
        };
        let store = PgStore::connect(&url, settings).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Drops database `name` on the server of `admin_url` (closing its
    /// connections). Best effort for scratch databases.
    ///
    /// # Errors
    /// [`StoreError::Backend`] for a bad name or an unreachable server.
    pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
        use sqlx::Connection;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(backend(format!("`{name}` is not a plain database name")));
        }
        let mut admin = sqlx::PgConnection::connect(admin_url).await.map_err(backend)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Runs the embedded migrations.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations").run(&self.pool).await.map_err(backend)
    }
}

// ---- conversions ----

fn dec(m: Money) -> Decimal {
    m.to_decimal()
}

fn money(d: Decimal) -> Result<Money, StoreError> {
    Money::from_decimal(d).map_err(backend)
}

fn rate(d: Decimal) -> Result<Rate, StoreError> {
    Rate::from_decimal(d).map_err(backend)
}

fn json<T: Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(backend)
}

fn from_json<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(backend)
}

/// The snake_case name core's serde gives an enum value.
fn name<T: Serialize>(v: &T) -> Result<String, StoreError> {
    match json(v)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(backend(format!("not an enum name: {other}"))),
    }
}

fn parse<T: DeserializeOwned>(s: String) -> Result<T, StoreError> {
    from_json(serde_json::Value::String(s))
}

fn u32_of(v: i32) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(backend)
}

fn i32_of(v: u32) -> Result<i32, StoreError> {
    i32::try_from(v).map_err(backend)
}

fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(row: &'r PgRow, col: &str) -> Result<T, StoreError> {
    row.try_get(col).map_err(backend)
}

fn i64_of(v: u64) -> i64 {
    v as i64
}

fn id_of(v: i64) -> u64 {
    v as u64
}

// ---- row mapping ----

fn category(r: &PgRow) -> Result<Category, StoreError> {
    Ok(Category {
        id: CategoryId(id_of(get(r, "id")?)),
        parent: get::<Option<i64>>(r, "parent_id")?.map(|p| CategoryId(id_of(p))),
        name: get(r, "name")?,
        sort: get(r, "sort")?,
    })
}

fn product(r: &PgRow) -> Result<Product, StoreError> {
    Ok(Product {
        id: ProductId(id_of(get(r, "id")?)),
        merchant: MerchantId(id_of(get(r, "merchant_id")?)),
        category: CategoryId(id_of(get(r, "category_id")?)),
        name: get(r, "name")?,
        status: parse(get(r, "status")?)?,
    })
}

fn sku(r: &PgRow) -> Result<Sku, StoreError> {
    Ok(Sku {
        id: SkuId(id_of(get(r, "id")?)),
        product: ProductId(id_of(get(r, "product_id")?)),
        attributes: from_json(get(r, "attributes")?)?,
        price: money(get(r, "price")?)?,
        original_price: get::<Option<Decimal>>(r, "original_price")?.map(money).transpose()?,
        weight_grams: get::<Option<i32>>(r, "weight_grams")?.map(u32_of).transpose()?,
        stock: Stock {
            available: u32_of(get(r, "available")?)?,
            reserved: u32_of(get(r, "reserved")?)?,
            sold: u32_of(get(r, "sold")?)?,
        },
    })
}

fn tier(r: &PgRow) -> Result<Tier, StoreError> {
    Ok(Tier {
        level: u32_of(get(r, "level")?)?,
        name: get(r, "name")?,
        min_points: get(r, "min_points")?,
        points_multiplier: rate(get(r, "points_multiplier")?)?,
        free_shipping: get(r, "free_shipping")?,
        member_discount: get::<Option<Decimal>>(r, "member_discount")?.map(rate).transpose()?,
        benefits: get(r, "benefits")?,
    })
}

fn template(r: &PgRow) -> Result<CouponTemplate, StoreError> {
    Ok(CouponTemplate {
        id: CouponTemplateId(id_of(get(r, "id")?)),
        title: get(r, "title")?,
        kind: from_json(get(r, "kind")?)?,
        scope: from_json(get(r, "scope")?)?,
        validity: from_json(get(r, "validity")?)?,
        total_limit: get::<Option<i32>>(r, "total_limit")?.map(u32_of).transpose()?,
        per_user_limit: u32_of(get(r, "per_user_limit")?)?,
        issued: u32_of(get(r, "issued")?)?,
        used: u32_of(get(r, "used")?)?,
        status: parse(get(r, "status")?)?,
        layer: get::<Option<String>>(r, "layer")?.map(parse).transpose()?,
    })
}

fn user_coupon(r: &PgRow) -> Result<UserCoupon, StoreError> {
    Ok(UserCoupon {
        id: UserCouponId(id_of(get(r, "id")?)),
        template: CouponTemplateId(id_of(get(r, "template_id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        status: parse(get(r, "status")?)?,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
        claimed_at: get(r, "claimed_at")?,
        checkout: get::<Option<i64>>(r, "checkout_id")?.map(|c| CheckoutId(id_of(c))),
        used_at: get(r, "used_at")?,
    })
}

fn account(r: &PgRow) -> Result<PointsAccount, StoreError> {
    Ok(PointsAccount {
        user: UserId(id_of(get(r, "user_id")?)),
        balance: get(r, "balance")?,
        frozen: get(r, "frozen")?,
        total_earned: get(r, "total_earned")?,
        total_spent: get(r, "total_spent")?,
    })
}

fn ledger_entry(r: &PgRow) -> Result<LedgerEntry, StoreError> {
    Ok(LedgerEntry {
        id: LedgerEntryId(id_of(get(r, "id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        source: parse(get(r, "source")?)?,
        action: parse(get(r, "action")?)?,
        reference: id_of(get(r, "reference")?),
        points: get(r, "points")?,
        balance_delta: get(r, "balance_delta")?,
        frozen_delta: get(r, "frozen_delta")?,
        balance_after: get(r, "balance_after")?,
        remark: get(r, "remark")?,
        at: get(r, "at")?,
    })
}

fn order_line(r: &PgRow) -> Result<OrderLine, StoreError> {
    Ok(OrderLine {
        line_no: u32_of(get(r, "line_no")?)?,
        sku: SkuId(id_of(get(r, "sku_id")?)),
        product: ProductId(id_of(get(r, "product_id")?)),
        name: get(r, "name")?,
        quantity: u32_of(get(r, "quantity")?)?,
        list_unit_price: money(get(r, "list_unit_price")?)?,
        unit_price: money(get(r, "unit_price")?)?,
        subtotal: money(get(r, "subtotal")?)?,
        coupon_discount: money(get(r, "coupon_discount")?)?,
        points_used: get(r, "points_used")?,
        points_deduction: money(get(r, "points_deduction")?)?,
        payable: money(get(r, "payable")?)?,
        after_sales_quantity: u32_of(get(r, "after_sales_quantity")?)?,
        refund_claimed_quantity: u32_of(get(r, "refund_claimed_quantity")?)?,
        refunded_quantity: u32_of(get(r, "refunded_quantity")?)?,
        refunded_amount: money(get(r, "refunded_amount")?)?,
        points_returned: get(r, "points_returned")?,
    })
}

fn status_change(r: &PgRow) -> Result<StatusChange, StoreError> {
    Ok(StatusChange {
        from: get::<Option<String>>(r, "from_status")?.map(parse).transpose()?,
        to: parse(get(r, "to_status")?)?,
        actor: from_json(get(r, "actor")?)?,
        remark: get(r, "remark")?,
        at: get(r, "at")?,
    })
}

fn order_head(r: &PgRow) -> Result<Order, StoreError> {
    let carrier: Option<String> = get(r, "carrier")?;
    let tracking_no: Option<String> = get(r, "tracking_no")?;
    let shipped_at: Option<DateTime<Utc>> = get(r, "shipped_at")?;
    let shipment = match (carrier, tracking_no, shipped_at) {
        (Some(carrier), Some(tracking_no), Some(at)) => Some(Shipment { carrier, tracking_no, at }),
        _ => None,
    };
    Ok(Order {
        id: OrderId(id_of(get(r, "id")?)),
        number: get(r, "number")?,
        checkout: CheckoutId(id_of(get(r, "checkout_id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        merchant: MerchantId(id_of(get(r, "merchant_id")?)),
        status: parse(get(r, "status")?)?,
        lines: Vec::new(),
        goods_subtotal: money(get(r, "goods_subtotal")?)?,
        coupon_discount: money(get(r, "coupon_discount")?)?,
        points_used: get(r, "points_used")?,
        points_deduction: money(get(r, "points_deduction")?)?,
        shipping_fee: money(get(r, "shipping_fee")?)?,
        payable: money(get(r, "payable")?)?,
        coupons: from_json(get(r, "coupons")?)?,
        remark: get(r, "remark")?,
        created_at: get(r, "created_at")?,
        pay_deadline: get(r, "pay_deadline")?,
        paid_at: get(r, "paid_at")?,
        payment: get::<Option<i64>>(r, "payment_id")?.map(|p| PaymentId(id_of(p))),
        shipment,
        auto_confirm_at: get(r, "auto_confirm_at")?,
        completed_at: get(r, "completed_at")?,
        ended_at: get(r, "ended_at")?,
        points_earned: get(r, "points_earned")?,
        points_reversed: get(r, "points_reversed")?,
        refunded_total: money(get(r, "refunded_total")?)?,
        shipping_refunded: get(r, "shipping_refunded")?,
        history: Vec::new(),
        version: id_of(get(r, "version")?),
    })
}

fn payment(r: &PgRow) -> Result<Payment, StoreError> {
    Ok(Payment {
        id: PaymentId(id_of(get(r, "id")?)),
        number: get(r, "number")?,
        user: UserId(id_of(get(r, "user_id")?)),
        orders: get::<Vec<i64>>(r, "order_ids")?.into_iter().map(|o| OrderId(id_of(o))).collect(),
        amount: money(get(r, "amount")?)?,
        channel: parse(get(r, "channel")?)?,
        status: parse(get(r, "status")?)?,
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
        provider_txn: get(r, "provider_txn")?,
        paid_at: get(r, "paid_at")?,
        refunded_amount: money(get(r, "refunded_amount")?)?,
        refunds: get(r, "refunds")?,
        version: id_of(get(r, "version")?),
    })
}

fn after_sale(r: &PgRow) -> Result<AfterSale, StoreError> {
    Ok(AfterSale {
        id: AfterSaleId(id_of(get(r, "id")?)),
        number: get(r, "number")?,
        order: OrderId(id_of(get(r, "order_id")?)),
        user: UserId(id_of(get(r, "user_id")?)),
        merchant: MerchantId(id_of(get(r, "merchant_id")?)),
        kind: parse(get(r, "kind")?)?,
        status: parse(get(r, "status")?)?,
        lines: from_json(get(r, "lines")?)?,
        reason: get(r, "reason")?,
        goods_amount: money(get(r, "goods_amount")?)?,
        clawback: money(get(r, "clawback")?)?,
        clawback_by_coupon: from_json(get(r, "clawback_by_coupon")?)?,
        refund_amount: money(get(r, "refund_amount")?)?,
        shipping_refund: money(get(r, "shipping_refund")?)?,
        points_returned: get(r, "points_returned")?,
        points_reversed: get(r, "points_reversed")?,
        return_tracking_no: get(r, "return_tracking_no")?,
        created_at: get(r, "created_at")?,
        logs: from_json(get(r, "logs")?)?,
        version: id_of(get(r, "version")?),
    })
}

// ---- writes ----

/// Why a batch stopped.
enum Stop {
    Guard(GuardFailure),
    Db(sqlx::Error),
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

/// Serialization failure or deadlock: the batch may simply run again.
fn retryable(e: &sqlx::Error) -> bool {
    matches!(sqlstate(e).as_deref(), Some("40001" | "40P01"))
}

fn unique_violation(e: &sqlx::Error) -> Option<String> {
    let d = e.as_database_error()?;
    d.is_unique_violation().then(|| d.constraint().unwrap_or_default().to_owned())
}

type Tx<'a> = Transaction<'a, Postgres>;

async fn apply_one(tx: &mut Tx<'_>, write: &Write) -> Result<(), Stop> {
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
                "INSERT INTO products (id, merchant_id, category_id, name, status) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET merchant_id = $2, category_id = $3, name = $4, status = $5",
            )
            .bind(i64_of(p.id.0))
            .bind(i64_of(p.merchant.0))
            .bind(i64_of(p.category.0))
            .bind(&p.name)
            .bind(name(&p.status)?)
            .execute(&mut **tx)
            .await?;
        }
        Write::PutSku(s) => {
            sqlx::query(
                "INSERT INTO skus (id, product_id, attributes, price, original_price, weight_grams, available, reserved, sold)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET product_id = $2, attributes = $3, price = $4, original_price = $5,
                     weight_grams = $6, available = $7, reserved = $8, sold = $9",
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
                "INSERT INTO tiers (level, name, min_points, points_multiplier, free_shipping, member_discount, benefits)
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
            // An existing template keeps its issued/used counters.
            sqlx::query(
                "INSERT INTO coupon_templates (id, title, kind, scope, validity, total_limit, per_user_limit, issued, used, status, layer)
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
            .await?;
        }
        Write::SetTemplateStatus { template, status } => {
            let done = sqlx::query("UPDATE coupon_templates SET status = $2 WHERE id = $1")
                .bind(i64_of(template.0))
                .bind(name(status)?)
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(GuardFailure::NotFound { entity: "coupon_template", id: template.0 }.into());
            }
        }
        Write::MoveStock { sku, movement, quantity } => move_stock(tx, *sku, *movement, *quantity).await?,
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
        Write::InsertOrder(o) => insert_order(tx, o).await?,
        Write::UpdateOrder(o) => update_order(tx, o).await?,
        Write::InsertPayment(p) => upsert_payment(tx, p, true).await?,
        Write::UpdatePayment(p) => upsert_payment(tx, p, false).await?,
        Write::InsertAfterSale(a) => upsert_after_sale(tx, a, true).await?,
        Write::UpdateAfterSale(a) => upsert_after_sale(tx, a, false).await?,
    }
    Ok(())
}

async fn move_stock(tx: &mut Tx<'_>, sku: SkuId, movement: StockMove, quantity: u32) -> Result<(), Stop> {
    let (sql, source) = match movement {
        StockMove::Reserve => (
            "UPDATE skus SET available = available - $2, reserved = reserved + $2 WHERE id = $1 AND available >= $2",
            "available",
        ),
        StockMove::Release => (
            "UPDATE skus SET reserved = reserved - $2, available = available + $2 WHERE id = $1 AND reserved >= $2",
            "reserved",
        ),
        StockMove::Commit => {
            ("UPDATE skus SET reserved = reserved - $2, sold = sold + $2 WHERE id = $1 AND reserved >= $2", "reserved")
        }
        StockMove::Restock => {
            ("UPDATE skus SET sold = sold - $2, available = available + $2 WHERE id = $1 AND sold >= $2", "sold")
        }
    };
    let n = i32_of(quantity)?;
    let done = sqlx::query(sql).bind(i64_of(sku.0)).bind(n).execute(&mut **tx).await?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let row = sqlx::query("SELECT available, reserved, sold FROM skus WHERE id = $1")
        .bind(i64_of(sku.0))
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Err(GuardFailure::NotFound { entity: "sku", id: sku.0 }.into()) };
    let have: i32 = get(&row, source)?;
    Err(GuardFailure::InsufficientStock { sku, requested: quantity, available: u32_of(have)? }.into())
}

async fn issue_coupon(tx: &mut Tx<'_>, c: &UserCoupon) -> Result<(), Stop> {
    // The template row lock orders concurrent claims of one template.
    let row = sqlx::query(
        "SELECT status, total_limit, issued, per_user_limit FROM coupon_templates WHERE id = $1 FOR UPDATE",
    )
    .bind(i64_of(c.template.0))
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Err(GuardFailure::NotFound { entity: "coupon_template", id: c.template.0 }.into());
    };
    if get::<String>(&row, "status")? == "disabled" {
        return Err(GuardFailure::TemplateDisabled(c.template).into());
    }
    if let Some(limit) = get::<Option<i32>>(&row, "total_limit")?
        && get::<i32>(&row, "issued")? >= limit
    {
        return Err(GuardFailure::TemplateExhausted { template: c.template, limit: u32_of(limit)? }.into());
    }
    let per_user: i32 = get(&row, "per_user_limit")?;
    sqlx::query("UPDATE coupon_templates SET issued = issued + 1 WHERE id = $1")
        .bind(i64_of(c.template.0))
        .execute(&mut **tx)
        .await?;
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
        "INSERT INTO user_coupons (id, template_id, user_id, status, valid_from, valid_to, claimed_at, checkout_id, used_at)
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
        Err(e) if unique_violation(&e).is_some() => {
            Err(GuardFailure::AlreadyExists { entity: "user_coupon", id: c.id.0 }.into())
        }
        other => other.map(|_| ()).map_err(Stop::Db),
    }
}

async fn set_coupon_status(
    tx: &mut Tx<'_>,
    coupon: UserCouponId,
    from: UserCouponStatus,
    to: UserCouponStatus,
    checkout: Option<CheckoutId>,
    at: DateTime<Utc>,
) -> Result<(), Stop> {
    let to_name = name(&to)?;
    let row = sqlx::query(
        "UPDATE user_coupons SET status = $3,
             checkout_id = COALESCE($4, CASE WHEN $3 IN ('unused', 'expired') THEN NULL ELSE checkout_id END),
             used_at = CASE WHEN $3 IN ('unused', 'expired') THEN NULL WHEN $3 = 'used' THEN $5 ELSE used_at END
         WHERE id = $1 AND status = $2
         RETURNING template_id",
    )
    .bind(i64_of(coupon.0))
    .bind(name(&from)?)
    .bind(&to_name)
    .bind(checkout.map(|c| i64_of(c.0)))
    .bind(at)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        let actual = sqlx::query("SELECT status FROM user_coupons WHERE id = $1")
            .bind(i64_of(coupon.0))
            .fetch_optional(&mut **tx)
            .await?;
        return Err(match actual {
            None => GuardFailure::NotFound { entity: "user_coupon", id: coupon.0 },
            Some(r) => GuardFailure::CouponStatusChanged { coupon, expected: from, actual: parse(get(&r, "status")?)? },
        }
        .into());
    };
    let delta = match (from == UserCouponStatus::Used, to == UserCouponStatus::Used) {
        (false, true) => 1,
        (true, false) => -1,
        _ => 0,
    };
    if delta != 0 {
        sqlx::query("UPDATE coupon_templates SET used = GREATEST(used + $2, 0) WHERE id = $1")
            .bind(get::<i64>(&row, "template_id")?)
            .bind(delta)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn points(tx: &mut Tx<'_>, mut entry: LedgerEntry) -> Result<(), Stop> {
    let user = i64_of(entry.user.0);
    sqlx::query(
        "INSERT INTO points_accounts (user_id, balance, frozen, total_earned, total_spent) VALUES ($1, 0, 0, 0, 0)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("SELECT * FROM points_accounts WHERE user_id = $1 FOR UPDATE")
        .bind(user)
        .fetch_one(&mut **tx)
        .await?;
    let mut acc = account(&row)?;
    acc.apply(&mut entry)?;
    let inserted = sqlx::query(
        "INSERT INTO points_ledger (id, user_id, source, action, reference, points, balance_delta, frozen_delta, balance_after, remark, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(i64_of(entry.id.0))
    .bind(user)
    .bind(name(&entry.source)?)
    .bind(name(&entry.action)?)
    .bind(i64_of(entry.reference))
    .bind(entry.points)
    .bind(entry.balance_delta)
    .bind(entry.frozen_delta)
    .bind(entry.balance_after)
    .bind(&entry.remark)
    .bind(entry.at)
    .execute(&mut **tx)
    .await;
    if let Err(e) = inserted {
        return Err(match unique_violation(&e).as_deref() {
            Some("points_ledger_source_once") => GuardFailure::PointsSourceApplied {
                user: entry.user,
                points_source: entry.source,
                action: entry.action,
                reference: entry.reference,
            }
            .into(),
            Some(_) => GuardFailure::AlreadyExists { entity: "ledger_entry", id: entry.id.0 }.into(),
            None => Stop::Db(e),
        });
    }
    sqlx::query(
        "UPDATE points_accounts SET balance = $2, frozen = $3, total_earned = $4, total_spent = $5 WHERE user_id = $1",
    )
    .bind(user)
    .bind(acc.balance)
    .bind(acc.frozen)
    .bind(acc.total_earned)
    .bind(acc.total_spent)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const ORDER_COLUMNS: &str = "number, checkout_id, user_id, merchant_id, status, goods_subtotal, coupon_discount,
    points_used, points_deduction, shipping_fee, payable, coupons, remark, created_at, pay_deadline, paid_at,
    payment_id, carrier, tracking_no, shipped_at, auto_confirm_at, completed_at, ended_at, points_earned,
    points_reversed, refunded_total, shipping_refunded";

fn bind_order<'q>(
    q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    o: &'q Order,
) -> Result<sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>, StoreError> {
    Ok(q.bind(&o.number)
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
        .bind(o.shipment.as_ref().map(|s| s.carrier.clone()))
        .bind(o.shipment.as_ref().map(|s| s.tracking_no.clone()))
        .bind(o.shipment.as_ref().map(|s| s.at))
        .bind(o.auto_confirm_at)
        .bind(o.completed_at)
        .bind(o.ended_at)
        .bind(o.points_earned)
        .bind(o.points_reversed)
        .bind(dec(o.refunded_total))
        .bind(o.shipping_refunded))
}

async fn insert_order(tx: &mut Tx<'_>, o: &Order) -> Result<(), Stop> {
    let sql = format!(
        "INSERT INTO orders (id, version, {ORDER_COLUMNS}) VALUES ($28, 0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)"
    );
    let inserted = bind_order(sqlx::query(sqlx::AssertSqlSafe(sql)), o)?.bind(i64_of(o.id.0)).execute(&mut **tx).await;
    if let Err(e) = inserted {
        return Err(match unique_violation(&e) {
            Some(_) => GuardFailure::AlreadyExists { entity: "order", id: o.id.0 }.into(),
            None => Stop::Db(e),
        });
    }
    for l in &o.lines {
        sqlx::query(
            "INSERT INTO order_lines (order_id, line_no, sku_id, product_id, name, quantity, list_unit_price, unit_price,
                 subtotal, coupon_discount, points_used, points_deduction, payable, after_sales_quantity,
                 refund_claimed_quantity, refunded_quantity, refunded_amount, points_returned)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(i64_of(o.id.0))
        .bind(i32_of(l.line_no)?)
        .bind(i64_of(l.sku.0))
        .bind(i64_of(l.product.0))
        .bind(&l.name)
        .bind(i32_of(l.quantity)?)
        .bind(dec(l.list_unit_price))
        .bind(dec(l.unit_price))
        .bind(dec(l.subtotal))
        .bind(dec(l.coupon_discount))
        .bind(l.points_used)
        .bind(dec(l.points_deduction))
        .bind(dec(l.payable))
        .bind(i32_of(l.after_sales_quantity)?)
        .bind(i32_of(l.refund_claimed_quantity)?)
        .bind(i32_of(l.refunded_quantity)?)
        .bind(dec(l.refunded_amount))
        .bind(l.points_returned)
        .execute(&mut **tx)
        .await?;
    }
    append_history(tx, o).await
}

async fn append_history(tx: &mut Tx<'_>, o: &Order) -> Result<(), Stop> {
    for (seq, h) in o.history.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_status_history (order_id, seq, from_status, to_status, actor, remark, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id, seq) DO NOTHING",
        )
        .bind(i64_of(o.id.0))
        .bind(i32::try_from(seq).map_err(backend)?)
        .bind(h.from.map(|f| name(&f)).transpose()?)
        .bind(name(&h.to)?)
        .bind(json(&h.actor)?)
        .bind(&h.remark)
        .bind(h.at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn update_order(tx: &mut Tx<'_>, o: &Order) -> Result<(), Stop> {
    let sets: Vec<String> =
        ORDER_COLUMNS.split(',').map(str::trim).enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    let sql = format!("UPDATE orders SET {}, version = version + 1 WHERE id = $28 AND version = $29", sets.join(", "));
    let done = bind_order(sqlx::query(sqlx::AssertSqlSafe(sql)), o)?
        .bind(i64_of(o.id.0))
        .bind(i64_of(o.version))
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(version_failure(tx, "orders", "order", o.id.0).await);
    }
    for l in &o.lines {
        sqlx::query(
            "UPDATE order_lines SET after_sales_quantity = $3, refund_claimed_quantity = $4, refunded_quantity = $5,
                 refunded_amount = $6, points_returned = $7
             WHERE order_id = $1 AND line_no = $2",
        )
        .bind(i64_of(o.id.0))
        .bind(i32_of(l.line_no)?)
        .bind(i32_of(l.after_sales_quantity)?)
        .bind(i32_of(l.refund_claimed_quantity)?)
        .bind(i32_of(l.refunded_quantity)?)
        .bind(dec(l.refunded_amount))
        .bind(l.points_returned)
        .execute(&mut **tx)
        .await?;
    }
    append_history(tx, o).await
}

/// After an `UPDATE … WHERE version = v` touched nothing: a conflict when
/// the row exists, otherwise not found.
async fn version_failure(tx: &mut Tx<'_>, table: &str, entity: &'static str, id: u64) -> Stop {
    let sql = format!("SELECT 1 FROM {table} WHERE id = $1");
    match sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64_of(id)).fetch_optional(&mut **tx).await {
        Ok(Some(_)) => GuardFailure::VersionConflict { entity, id }.into(),
        Ok(None) => GuardFailure::NotFound { entity, id }.into(),
        Err(e) => Stop::Db(e),
    }
}

async fn upsert_payment(tx: &mut Tx<'_>, p: &Payment, insert: bool) -> Result<(), Stop> {
    let sql = if insert {
        "INSERT INTO payments (number, user_id, order_ids, amount, channel, status, created_at, expires_at, provider_txn,
             paid_at, refunded_amount, refunds, id, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0)"
    } else {
        "UPDATE payments SET number = $1, user_id = $2, order_ids = $3, amount = $4, channel = $5, status = $6,
             created_at = $7, expires_at = $8, provider_txn = $9, paid_at = $10, refunded_amount = $11, refunds = $12,
             version = version + 1
         WHERE id = $13 AND version = $14"
    };
    let orders: Vec<i64> = p.orders.iter().map(|o| i64_of(o.0)).collect();
    let mut q = sqlx::query(sql)
        .bind(&p.number)
        .bind(i64_of(p.user.0))
        .bind(orders)
        .bind(dec(p.amount))
        .bind(name(&p.channel)?)
        .bind(name(&p.status)?)
        .bind(p.created_at)
        .bind(p.expires_at)
        .bind(&p.provider_txn)
        .bind(p.paid_at)
        .bind(dec(p.refunded_amount))
        .bind(&p.refunds)
        .bind(i64_of(p.id.0));
    if !insert {
        q = q.bind(i64_of(p.version));
    }
    match q.execute(&mut **tx).await {
        Ok(done) if done.rows_affected() == 0 => Err(version_failure(tx, "payments", "payment", p.id.0).await),
        Ok(_) => Ok(()),
        Err(e) if unique_violation(&e).is_some() => {
            Err(GuardFailure::AlreadyExists { entity: "payment", id: p.id.0 }.into())
        }
        Err(e) => Err(Stop::Db(e)),
    }
}

async fn upsert_after_sale(tx: &mut Tx<'_>, a: &AfterSale, insert: bool) -> Result<(), Stop> {
    let sql = if insert {
        "INSERT INTO after_sales (number, order_id, user_id, merchant_id, kind, status, lines, reason, goods_amount,
             clawback, clawback_by_coupon, refund_amount, shipping_refund, points_returned, points_reversed,
             return_tracking_no, created_at, logs, id, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 0)"
    } else {
        "UPDATE after_sales SET number = $1, order_id = $2, user_id = $3, merchant_id = $4, kind = $5, status = $6,
             lines = $7, reason = $8, goods_amount = $9, clawback = $10, clawback_by_coupon = $11, refund_amount = $12,
             shipping_refund = $13, points_returned = $14, points_reversed = $15, return_tracking_no = $16,
             created_at = $17, logs = $18, version = version + 1
         WHERE id = $19 AND version = $20"
    };
    let mut q = sqlx::query(sql)
        .bind(&a.number)
        .bind(i64_of(a.order.0))
        .bind(i64_of(a.user.0))
        .bind(i64_of(a.merchant.0))
        .bind(name(&a.kind)?)
        .bind(name(&a.status)?)
        .bind(json(&a.lines)?)
        .bind(&a.reason)
        .bind(dec(a.goods_amount))
        .bind(dec(a.clawback))
        .bind(json(&a.clawback_by_coupon)?)
        .bind(dec(a.refund_amount))
        .bind(dec(a.shipping_refund))
        .bind(a.points_returned)
        .bind(a.points_reversed)
        .bind(&a.return_tracking_no)
        .bind(a.created_at)
        .bind(json(&a.logs)?)
        .bind(i64_of(a.id.0));
    if !insert {
        q = q.bind(i64_of(a.version));
    }
    match q.execute(&mut **tx).await {
        Ok(done) if done.rows_affected() == 0 => Err(version_failure(tx, "after_sales", "after_sale", a.id.0).await),
        Ok(_) => Ok(()),
        Err(e) if unique_violation(&e).is_some() => {
            Err(GuardFailure::AlreadyExists { entity: "after_sale", id: a.id.0 }.into())
        }
        Err(e) => Err(Stop::Db(e)),
    }
}

#[async_trait]
impl Store for PgStore {
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = self.pool.begin().await.map_err(backend)?;
            let mut outcome = Ok(());
            for w in &writes {
                if let Err(stop) = apply_one(&mut tx, w).await {
                    outcome = Err(stop);
                    break;
                }
            }
            let outcome = match outcome {
                Ok(()) => tx.commit().await.map_err(Stop::Db),
                Err(stop) => {
                    // Dropping the transaction rolls it back; say so explicitly.
                    let _ = tx.rollback().await;
                    Err(stop)
                }
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(Stop::Guard(g)) => return Err(StoreError::Guard(g)),
                Err(Stop::Other(e)) => return Err(e),
                Err(Stop::Db(e)) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(2 * u64::from(attempt))).await;
                }
                Err(Stop::Db(e)) => return Err(backend(e)),
            }
        }
    }
}

// ---- reads ----

impl PgStore {
    /// The row `sql` (one `$1` key) finds, mapped.
    async fn one<T>(
        &self,
        sql: &'static str,
        key: i64,
        map: fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let row = sqlx::query(sql).bind(key).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(map).transpose()
    }

    /// Every row `sql` finds (with `key` bound to `$1` when given), mapped.
    async fn all<T>(
        &self,
        sql: &'static str,
        key: Option<i64>,
        map: fn(&PgRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut query = sqlx::query(sql);
        if let Some(k) = key {
            query = query.bind(k);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(map).collect()
    }
}

fn merchant(r: &PgRow) -> Result<Merchant, StoreError> {
    Ok(Merchant { id: MerchantId(id_of(get(r, "id")?)), name: get(r, "name")? })
}

#[async_trait]
impl CatalogStore for PgStore {
    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        self.all("SELECT * FROM categories ORDER BY id", None, category).await
    }
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, StoreError> {
        self.one("SELECT id, name FROM merchants WHERE id = $1", i64_of(id.0), merchant).await
    }
    async fn products(&self) -> Result<Vec<Product>, StoreError> {
        self.all("SELECT * FROM products ORDER BY id", None, product).await
    }
    async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.one("SELECT * FROM products WHERE id = $1", i64_of(id.0), product).await
    }
    async fn sku(&self, id: SkuId) -> Result<Option<Sku>, StoreError> {
        self.one("SELECT * FROM skus WHERE id = $1", i64_of(id.0), sku).await
    }
    async fn skus_of(&self, product: ProductId) -> Result<Vec<Sku>, StoreError> {
        self.all("SELECT * FROM skus WHERE product_id = $1 ORDER BY id", Some(i64_of(product.0)), sku).await
    }
}

#[async_trait]
impl CouponStore for PgStore {
    async fn template(&self, id: CouponTemplateId) -> Result<Option<CouponTemplate>, StoreError> {
        self.one("SELECT * FROM coupon_templates WHERE id = $1", i64_of(id.0), template).await
    }
    async fn templates(&self) -> Result<Vec<CouponTemplate>, StoreError> {
        self.all("SELECT * FROM coupon_templates ORDER BY id", None, template).await
    }
    async fn user_coupon(&self, id: UserCouponId) -> Result<Option<UserCoupon>, StoreError> {
        self.one("SELECT * FROM user_coupons WHERE id = $1", i64_of(id.0), user_coupon).await
    }
    async fn user_coupons(&self, user: UserId) -> Result<Vec<UserCoupon>, StoreError> {
        self.all("SELECT * FROM user_coupons WHERE user_id = $1 ORDER BY id", Some(i64_of(user.0)), user_coupon).await
    }
}

#[async_trait]
impl PointsStore for PgStore {
    async fn points_account(&self, user: UserId) -> Result<PointsAccount, StoreError> {
        let found = self.one("SELECT * FROM points_accounts WHERE user_id = $1", i64_of(user.0), account).await?;
        Ok(found.unwrap_or(PointsAccount { user, ..Default::default() }))
    }
    async fn ledger(&self, user: UserId) -> Result<Vec<LedgerEntry>, StoreError> {
        self.all("SELECT * FROM points_ledger WHERE user_id = $1 ORDER BY seq", Some(i64_of(user.0)), ledger_entry)
            .await
    }
    async fn tiers(&self) -> Result<Vec<Tier>, StoreError> {
        self.all("SELECT * FROM tiers ORDER BY level", None, tier).await
    }
}

fn cart_items(r: &PgRow) -> Result<Vec<mallkit_core::cart::CartItem>, StoreError> {
    from_json(get(r, "items")?)
}

#[async_trait]
impl CartStore for PgStore {
    async fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        let items = self.one("SELECT items FROM carts WHERE user_id = $1", i64_of(user.0), cart_items).await?;
        Ok(Cart { user, items: items.unwrap_or_default() })
    }
}

impl PgStore {
    async fn orders_where(&self, sql: &'static str, key: i64) -> Result<Vec<Order>, StoreError> {
        let heads = self.all(sql, Some(key), order_head).await?;
        let mut orders = Vec::with_capacity(heads.len());
        for head in heads {
            orders.push(self.complete_order(head).await?);
        }
        Ok(orders)
    }

    async fn complete_order(&self, mut o: Order) -> Result<Order, StoreError> {
        let id = i64_of(o.id.0);
        o.lines =
            self.all("SELECT * FROM order_lines WHERE order_id = $1 ORDER BY line_no", Some(id), order_line).await?;
        o.history = self
            .all("SELECT * FROM order_status_history WHERE order_id = $1 ORDER BY seq", Some(id), status_change)
            .await?;
        Ok(o)
    }
}

#[async_trait]
impl OrderStore for PgStore {
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.orders_where("SELECT * FROM orders WHERE id = $1", i64_of(id.0)).await?.pop())
    }
    async fn orders_of_user(&self, user: UserId) -> Result<Vec<Order>, StoreError> {
        self.orders_where("SELECT * FROM orders WHERE user_id = $1 ORDER BY id DESC", i64_of(user.0)).await
    }
    async fn orders_of_checkout(&self, checkout: CheckoutId) -> Result<Vec<Order>, StoreError> {
        self.orders_where("SELECT * FROM orders WHERE checkout_id = $1 ORDER BY id", i64_of(checkout.0)).await
    }
    async fn orders_due(&self, status: OrderStatus, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError> {
        let sql = match status {
            OrderStatus::PendingPayment => {
                "SELECT id FROM orders WHERE status = 'pending_payment' AND pay_deadline <= $1 ORDER BY id"
            }
            OrderStatus::Shipped => {
                "SELECT id FROM orders WHERE status = 'shipped' AND auto_confirm_at <= $1 ORDER BY id"
            }
            _ => return Ok(Vec::new()),
        };
        let rows = sqlx::query(sql).bind(now).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(|r| Ok(OrderId(id_of(get(r, "id")?)))).collect()
    }
}

#[async_trait]
impl PaymentStore for PgStore {
    async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, StoreError> {
        self.one("SELECT * FROM payments WHERE id = $1", i64_of(id.0), payment).await
    }
    async fn payment_by_number(&self, number: &str) -> Result<Option<Payment>, StoreError> {
        let row = sqlx::query("SELECT * FROM payments WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(payment).transpose()
    }
}

#[async_trait]
impl AfterSalesStore for PgStore {
    async fn after_sale(&self, id: AfterSaleId) -> Result<Option<AfterSale>, StoreError> {
        self.one("SELECT * FROM after_sales WHERE id = $1", i64_of(id.0), after_sale).await
    }
    async fn after_sales_of_order(&self, order: OrderId) -> Result<Vec<AfterSale>, StoreError> {
        self.all("SELECT * FROM after_sales WHERE order_id = $1 ORDER BY id", Some(i64_of(order.0)), after_sale).await
    }
}
