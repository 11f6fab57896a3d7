//! Test support: a fresh, migrated database per test.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sqlx::Connection;

use crate::{PgSettings, PgStore};

/// The server tests use: `DATABASE_URL`, or the local default.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new database on the test server, migrated, with a store over it.
///
/// # Panics
/// When no server answers: the message says how to start one (tests must
/// fail loudly, never skip).
pub async fn fresh_store() -> PgStore {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let admin_url = database_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL does not answer at {admin_url} ({e}). Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
             or set DATABASE_URL."
        )
    });
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if !SWEPT.swap(true, Ordering::Relaxed) {
        sweep_old_databases(&mut admin).await;
    }
    let name = format!(
        "mallkit_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    PgStore::create_database(&admin_url, &name, PgSettings { max_connections: 8, ..PgSettings::default() })
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name} on {admin_url}: {e}"))
}

/// Drops test databases (`mallkit_test_<pid>_<n>_<micros>`) created more than
/// an hour ago, so repeated local runs do not pile them up. Best effort.
async fn sweep_old_databases(admin: &mut sqlx::PgConnection) {
    let hour_ago = chrono::Utc::now().timestamp_micros() - 3_600_000_000;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'mallkit\\_test\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name.rsplit('_').next().and_then(|t| t.parse::<i64>().ok());
        if created.is_some_and(|t| t < hour_ago) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// A second, separate pool on the same database as `store`, as a second
/// server process would have.
///
/// # Panics
/// When the database cannot be reached.
pub async fn second_pool(store: &PgStore) -> PgStore {
    let options = (*store.pool().connect_options()).clone();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("cannot open a second pool: {e}"));
    PgStore::from_pool(pool)
}
