//! # mallkit-storage-postgres
//!
//! Every `mallkit-core` storage trait on PostgreSQL (sqlx 0.9), behaving
//! exactly like the in-memory reference store, so that several `mallkit`
//! processes on one database stay correct (DESIGN §11).
//!
//! The schema is in `migrations/` (embedded, run by [`PgStore::migrate`]):
//! ids `BIGINT` from core's `IdGen`, money `NUMERIC(14,2)` yuan, rates
//! `NUMERIC(8,4)`, times `TIMESTAMPTZ`, enums `TEXT` with a `CHECK` on core's
//! snake_case names, order lines / status history / after-sale lines and logs
//! / payment orders and refund numbers as tables, and small immutable
//! snapshots (a template's rule and scope, an order's coupon usage, SKU
//! attributes, cart items) as JSONB.
//!
//! Each [`Store::apply`] batch is one transaction (at the server's default
//! isolation, `READ COMMITTED`); every guard of the storage contract is a
//! statement the database decides under concurrency:
//!
//! - stock: `UPDATE skus SET available = available - n, reserved = reserved + n
//!   WHERE id = $1 AND available >= n` (and likewise for each movement);
//!   nothing updated → the row says `InsufficientStock` (with the bucket as
//!   it is) or `NotFound`;
//! - coupon claims: `UPDATE coupon_templates SET issued = issued + 1 WHERE
//!   status = 'enabled' AND (total_limit IS NULL OR issued < total_limit)`,
//!   then the per-user counter upserted `WHERE claimed < per_user_limit`;
//! - coupon status: `UPDATE user_coupons … WHERE id = $1 AND status = $from`;
//! - points: the account row locked `FOR UPDATE`, moved by core's own
//!   `PointsAccount::apply`, the ledger row unique on (user, source, action,
//!   reference);
//! - orders, payments, after-sales: `UPDATE … WHERE id = $1 AND version = $v`
//!   (setting `version = v + 1`); inserts guarded by the primary key.
//!
//! A serialization failure (SQLSTATE 40001) or deadlock (40P01) re-runs the
//! whole batch, at most [`MAX_ATTEMPTS`] times in all with a short growing
//! pause; any failure rolls the batch back, so nothing of it is visible.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use mallkit_core::storage::{Store, StoreError, Write};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

mod codec;
mod events;
mod identity;
mod lists;
mod paging;
mod reads;
mod search;
pub mod testing;
mod writes;

use codec::backend;
use writes::{Stop, Touched, apply_one, finish, retryable};

/// How many times in all a batch runs when it keeps hitting serialization
/// failures or deadlocks; the last one's error is returned as
/// [`StoreError::Backend`].
pub const MAX_ATTEMPTS: u32 = 5;

/// Connection settings of a [`PgStore`].
#[derive(Debug, Clone, Copy)]
pub struct PgSettings {
    /// Most connections in the pool (default 10).
    pub max_connections: u32,
    /// How long a call waits for a free connection before it fails with
    /// [`StoreError::Backend`] (default 5 s).
    pub acquire_timeout: Duration,
    /// Server-side `statement_timeout` of every connection, whole
    /// milliseconds (default 30 s); `None` keeps the server's setting. A
    /// statement cancelled by it fails its batch with [`StoreError::Backend`].
    pub statement_timeout: Option<Duration>,
}

impl Default for PgSettings {
    fn default() -> Self {
        PgSettings {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// The PostgreSQL store. Clones share one pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// `name` when it is a plain identifier (ASCII letters, digits, `_`), safe
/// to splice into `CREATE/DROP DATABASE`.
fn plain_name(name: &str) -> Result<&str, StoreError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(backend(format!("`{name}` is not a plain database name")));
    }
    Ok(name)
}

impl PgStore {
    /// Connects to `url` (e.g. `postgres://postgres@127.0.0.1:5432/mallkit`)
    /// with `settings`. Does not migrate: call [`PgStore::migrate`].
    ///
    /// # Errors
    /// [`StoreError::Backend`] for a malformed URL or when no server answers
    /// within the acquire timeout.
    pub async fn connect(url: &str, settings: PgSettings) -> Result<PgStore, StoreError> {
        PgStore::connect_with(PgConnectOptions::from_str(url).map_err(backend)?, settings).await
    }

    /// Like [`PgStore::connect`], from parsed connect options.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when no server answers within the acquire
    /// timeout.
    pub async fn connect_with(mut options: PgConnectOptions, settings: PgSettings) -> Result<PgStore, StoreError> {
        if let Some(timeout) = settings.statement_timeout {
            options = options.options([("statement_timeout", format!("{}ms", timeout.as_millis()))]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(backend)?;
        Ok(PgStore { pool })
    }

    /// A store over an existing pool (its connections' settings are the
    /// caller's).
    pub fn from_pool(pool: PgPool) -> PgStore {
        PgStore { pool }
    }

    /// The pool, for callers that need their own queries (reports, health
    /// checks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates database `name` on the server of `admin_url` (which names any
    /// database the role can connect to), connects to it with `settings` and
    /// migrates it. `name` must be a plain identifier (letters, digits, `_`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] for a bad name, an unreachable server, or a
    /// failed creation or migration.
    pub async fn create_database(admin_url: &str, name: &str, settings: PgSettings) -> Result<PgStore, StoreError> {
        use sqlx::Connection;
        let name = plain_name(name)?;
        let mut admin = sqlx::PgConnection::connect(admin_url).await.map_err(backend)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .map_err(backend)?;
        let _ = admin.close().await;
        let options = PgConnectOptions::from_str(admin_url).map_err(backend)?.database(name);
        let store = PgStore::connect_with(options, settings).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Drops database `name` on the server of `admin_url`, closing its
    /// connections first. Best effort for scratch databases: a missing
    /// database is not an error.
    ///
    /// # Errors
    /// [`StoreError::Backend`] for a bad name or an unreachable server.
    pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
        use sqlx::Connection;
        let name = plain_name(name)?;
        let mut admin = sqlx::PgConnection::connect(admin_url).await.map_err(backend)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await
            .map_err(backend)?;
        let _ = admin.close().await;
        Ok(())
    }

    /// Runs the embedded migrations (`migrations/*.sql`) not yet applied;
    /// safe to call on every start.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when a migration fails or an applied one was
    /// edited since.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations").run(&self.pool).await.map_err(backend)?;
        self.fill_search_columns().await
    }

    /// Fills `search_text` and `search_tokens` of the products that have
    /// none yet (rows from before migration 0011, or loaded without them)
    /// with core's `search_text` and `search_tokens` of their names, 1,000
    /// rows per statement. Found through the partial index
    /// `products_search_unfilled`, so a filled catalogue costs one empty
    /// index probe. A product whose name is empty keeps `''`, as core gives.
    async fn fill_search_columns(&self) -> Result<(), StoreError> {
        use mallkit_core::catalog::search::{search_text, search_tokens};
        let mut after = i64::MIN;
        loop {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, name FROM products WHERE search_text = '' AND id > $1 ORDER BY id LIMIT 1000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
            let Some(&(last, _)) = rows.last() else { return Ok(()) };
            after = last;
            let filled: Vec<serde_json::Value> = rows
                .iter()
                .map(|(id, name)| serde_json::json!({"id": id, "t": search_text(name), "k": search_tokens(name)}))
                .collect();
            sqlx::query(
                "UPDATE products p SET search_text = u.t,
                     search_tokens = ARRAY(SELECT k.v FROM jsonb_array_elements_text(u.k) WITH ORDINALITY AS k (v, n)
                         ORDER BY k.n)
                 FROM jsonb_to_recordset($1) AS u (id BIGINT, t TEXT, k JSONB)
                 WHERE p.id = u.id",
            )
            .bind(serde_json::Value::Array(filled))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        }
    }

    /// A block number no other caller on this database ever gets (from the
    /// `mallkit_id_blocks` sequence): a process hands out ids from
    /// `block << 32` on. Blocks stay below 2^21, so ids stay below 2^53 and
    /// JavaScript clients read them exactly.
    ///
    /// # Errors
    /// [`StoreError::Backend`], also when the blocks are used up.
    pub async fn next_id_block(&self) -> Result<u64, StoreError> {
        let block: i64 =
            sqlx::query_scalar("SELECT nextval('mallkit_id_blocks')").fetch_one(&self.pool).await.map_err(backend)?;
        match u64::try_from(block) {
            Ok(b) if b < 1 << 21 => Ok(b),
            _ => Err(StoreError::Backend(format!("id block {block} is out of range"))),
        }
    }

    /// One run of a batch in its own transaction.
    async fn attempt(&self, writes: &[Write]) -> Result<(), Stop> {
        let mut tx = self.pool.begin().await?;
        let mut touched = Touched::default();
        for w in writes {
            if let Err(stop) = apply_one(&mut tx, w, &mut touched).await {
                // Explicit, though dropping the transaction would roll back too.
                let _ = tx.rollback().await;
                return Err(stop);
            }
        }
        let finished = match finish(&mut tx, &touched).await {
            Ok(()) => events::append_all(&mut tx, writes).await,
            err => err,
        };
        if let Err(stop) = finished {
            let _ = tx.rollback().await;
            return Err(stop);
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The pause before run `attempt + 1`: 2 ms per run so far plus up to 3 ms
/// of jitter, so that two batches that deadlocked do not meet again.
fn backoff(attempt: u32) -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos() % 3_000))
        .unwrap_or(0);
    Duration::from_millis(2 * u64::from(attempt)) + Duration::from_micros(jitter)
}

#[async_trait]
impl Store for PgStore {
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(&writes).await {
                Ok(()) => return Ok(()),
                Err(Stop::Guard(g)) => return Err(StoreError::Guard(g)),
                Err(Stop::Other(e)) => return Err(e),
                Err(Stop::Db(e)) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(Stop::Db(e)) => return Err(backend(e)),
            }
        }
    }
}
