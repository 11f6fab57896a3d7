//! `mallkit serve`: the HTTP API on the in-memory store (default) or on
//! PostgreSQL, with the demo data, a scheduler for payment timeouts,
//! auto-confirmation and the idempotency-key retention sweep, and graceful
//! shutdown on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mallkit_core::Policy;
use mallkit_core::clock::{IdGen, SequentialIds, SystemClock};
use mallkit_core::identity::{Credentials, IdentityPolicy, IdentityProvider, SmsSender};
use mallkit_core::payment::{PaymentProvider, SimulatedProvider};
use mallkit_http::{AppParts, Argon2Credentials, DevSms, DevWechat, HttpSettings, NoSms, NoWechat, SharedStore};
use mallkit_storage_memory::MemoryStore;
use mallkit_storage_postgres::{PgSettings, PgStore};

use crate::{bench_catalog, demo};

/// What `serve` was asked for.
pub struct ServeOptions {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Load the demo data.
    pub demo: bool,
    /// PostgreSQL URL; in memory when absent.
    pub database_url: Option<String>,
    /// The simulated provider waits for the signed callback instead of paying at once.
    pub await_callback: bool,
    /// CORS origins.
    pub cors_origins: Vec<String>,
    /// Callback HMAC key; random when `None`.
    pub callback_key: Option<String>,
    /// Use the development SMS sink and WeChat-style provider.
    pub dev_identity: bool,
    /// Seconds between scheduler runs.
    pub tick_seconds: u64,
    /// Write the benchmark catalogue of this many products first.
    pub bench_catalog: Option<u64>,
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Runs the server until a shutdown signal.
///
/// # Errors
/// A message for a store, seed or socket failure.
pub async fn run(options: ServeOptions) -> Result<(), String> {
    let (store, ids): (SharedStore, Arc<dyn IdGen>) = match &options.database_url {
        None => (Arc::new(MemoryStore::new()), Arc::new(SequentialIds::starting_at(10_000))),
        Some(url) => {
            let store =
                PgStore::connect(url, PgSettings::default()).await.map_err(|e| format!("cannot connect: {e}"))?;
            store.migrate().await.map_err(|e| format!("cannot migrate: {e}"))?;
            // Each process takes its own block of 2^32 ids, so several
            // processes on one database never hand out the same id.
            let block = store.next_id_block().await.map_err(|e| e.to_string())?;
            (Arc::new(store), Arc::new(SequentialIds::starting_at(block << 32)))
        }
    };
    let provider: Arc<dyn PaymentProvider> = if options.await_callback {
        Arc::new(SimulatedProvider::awaiting_callback())
    } else {
        Arc::new(SimulatedProvider::instant())
    };
    let callback_key = options.callback_key.unwrap_or_else(|| {
        let key = Argon2Credentials::default().new_token();
        println!("simulated provider callback key (random; set --callback-key to choose one): {key}");
        key
    });
    let settings = HttpSettings {
        cors_origins: options.cors_origins,
        callback_key: callback_key.into_bytes(),
        ..HttpSettings::default()
    };
    let (sms, wechat): (Arc<dyn SmsSender>, Arc<dyn IdentityProvider>) = if options.dev_identity {
        println!("development identity: SMS codes go to the log; WeChat-style codes `dev:<name>` log in");
        (Arc::new(DevSms::default()), Arc::new(DevWechat))
    } else {
        (Arc::new(NoSms), Arc::new(NoWechat))
    };
    let parts = AppParts {
        store,
        clock: Arc::new(SystemClock),
        ids,
        provider,
        policy: Policy::default(),
        identity: IdentityPolicy::default(),
        sms,
        wechat,
    };
    if let Some(products) = options.bench_catalog {
        let started = std::time::Instant::now();
        bench_catalog::load(&parts.store, products).await?;
        println!("bench catalogue: {products} products loaded in {:.2} s", started.elapsed().as_secs_f64());
    }
    let app = mallkit_http::app(parts, &settings);
    if options.demo {
        let fresh = demo::load(&app).await?;
        println!("demo data {}; demo accounts:", if fresh { "loaded" } else { "already present" });
        for a in &demo::ACCOUNTS {
            println!("  {:<28} login {:<8} password {}", a.role, a.username, a.password);
        }
    }
    let scheduler = {
        let app = app.clone();
        let tick = Duration::from_secs(options.tick_seconds.max(1));
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            loop {
                interval.tick().await;
                match app.mall.close_expired_orders().await {
                    Ok(closed) if !closed.is_empty() => tracing::info!(count = closed.len(), "closed unpaid orders"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "closing unpaid orders failed"),
                }
                match app.mall.auto_confirm_due().await {
                    Ok(done) if !done.is_empty() => tracing::info!(count = done.len(), "auto-confirmed orders"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "auto-confirm failed"),
                }
                match mallkit_http::idempotency::sweep(&app).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(count = n, "forgot old idempotency keys"),
                    Err(e) => tracing::warn!(error = ?e, "idempotency key sweep failed"),
                }
            }
        })
    };
    let listener =
        tokio::net::TcpListener::bind(options.bind).await.map_err(|e| format!("cannot bind {}: {e}", options.bind))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("mallkit listening on http://{local} (docs at http://{local}/docs)");
    let router = mallkit_http::router(app, &settings);
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await;
    scheduler.abort();
    served.map_err(|e| e.to_string())
}
