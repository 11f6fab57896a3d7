//! Test support: a fresh database per test, on the server `DATABASE_URL`
//! names (default `postgres://postgres@127.0.0.1:5432/postgres`; the role
//! needs `CREATEDB`).
//!
//! Test databases are named `mallkit_test_<pid>_<n>_<micros>` and are not
//! dropped when a test ends (a failed test's database stays for a look);
//! the first [`fresh_store`] of a process drops those created more than an
//! hour ago.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{PgSettings, PgStore};

/// How to start the local server, for failure messages.
const START_HINT: &str = "Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                          or point DATABASE_URL at a server whose role may CREATE DATABASE.";

/// The server tests use: `DATABASE_URL`, or the local default.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, migrated database on the test server, with a store (pool of 8)
/// over it.
///
/// # Panics
/// When no server answers (the message says how to start one: tests fail
/// loudly, never skip), or when the database cannot be created or migrated.
pub async fn fresh_store() -> PgStore {
    let store = fresh_empty_store().await;
    store.migrate().await.unwrap_or_else(|e| panic!("cannot migrate a test database: {e}"));
    store
}

/// A new database on the test server with no table at all (not migrated),
/// with a store over it: for tests of the migrations themselves.
///
/// # Panics
/// As [`fresh_store`].
pub async fn fresh_empty_store() -> PgStore {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static SWEPT: AtomicBool = AtomicBool::new(false);
    let admin_url = database_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL does not answer at {admin_url} ({e}). {START_HINT}"));
    if !SWEPT.swap(true, Ordering::Relaxed) {
        sweep_old_databases(&mut admin).await;
    }
    let name = format!(
        "mallkit_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name} on {admin_url}: {e}. {START_HINT}"));
    let _ = admin.close().await;
    let options = PgConnectOptions::from_str(&admin_url)
        .unwrap_or_else(|e| panic!("DATABASE_URL {admin_url} is not a PostgreSQL URL: {e}"))
        .database(&name);
    PgStore::connect_with(options, PgSettings { max_connections: 8, ..PgSettings::default() })
        .await
        .unwrap_or_else(|e| panic!("cannot connect to test database {name}: {e}"))
}

/// Drops test databases created more than an hour ago (the last part of
/// the name is the creation time in microseconds), so repeated local runs do
/// not pile them up. Best effort: errors are ignored.
async fn sweep_old_databases(admin: &mut sqlx::PgConnection) {
    let hour_ago = chrono::Utc::now().timestamp_micros() - 3_600_000_000;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'mallkit\\_test\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let created = name.rsplit('_').next().and_then(|t| t.parse::<i64>().ok());
        if plain && created.is_some_and(|t| t < hour_ago) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// A second, separate pool (of 8) on the same database as `store`, as a
/// second `mallkit` process would have: for cross-pool concurrency tests.
///
/// # Panics
/// When the database cannot be reached.
pub async fn second_pool(store: &PgStore) -> PgStore {
    let options = (*store.pool().connect_options()).clone();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("cannot open a second pool: {e}"));
    PgStore::from_pool(pool)
}
