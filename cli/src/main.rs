//! The `mallkit` binary: serve the HTTP API, migrate a database, price carts
//! and run QA scenarios.

mod bench_catalog;
mod demo;
mod quote;
mod scenario;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mallkit: a commerce engine (pricing, coupons, points, orders, after-sales).
#[derive(Debug, Parser)]
#[command(name = "mallkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serves the HTTP API (in memory with demo data unless told otherwise).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Data to load at start: `demo` (the seeds' products, coupons, tiers and demo accounts) or `none`.
        /// Default: `demo` in memory, `none` with a database (demo accounts have public passwords).
        #[arg(long, value_enum)]
        seed: Option<Seed>,
        /// PostgreSQL URL: migrate it and serve from it instead of memory.
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
        /// Make the simulated payment provider wait for the signed callback instead of paying at once.
        #[arg(long)]
        await_callback: bool,
        /// An origin allowed by CORS (repeatable; `*` for any).
        #[arg(long = "cors-origin")]
        cors_origins: Vec<String>,
        /// Key of the simulated provider's callback HMAC; a random one (printed at start) when not given.
        #[arg(long, env = "MALLKIT_CALLBACK_KEY")]
        callback_key: Option<String>,
        /// Enable the development identity providers: SMS codes go to the log, `dev:<name>` WeChat-style
        /// codes log in. On by default in memory; off with a database unless given.
        #[arg(long)]
        dev_identity: bool,
        /// Seconds between runs of the scheduler (payment timeouts, auto-confirm).
        #[arg(long, default_value_t = 30)]
        tick_seconds: u64,
        /// Benchmark only (bench/catalog/run.sh): write a synthetic catalogue of this many products,
        /// three SKUs each, through the store before serving. Implies `--seed none` unless told.
        #[arg(long, hide = true, value_name = "N")]
        bench_catalog: Option<u64>,
    },
    /// Prints the OpenAPI document.
    Openapi,
    /// Price a cart described by a file and print the breakdown.
    Quote {
        /// The file: catalog, tiers, templates, `now`, a [buyer] and a [cart].
        file: PathBuf,
        /// Print the quote as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// QA scenarios.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    /// Apply the PostgreSQL schema migrations to a database.
    Migrate {
        /// The database, e.g. postgres://postgres@127.0.0.1:5432/mallkit.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
}

/// Data loaded by `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Seed {
    /// The demo data set.
    Demo,
    /// Nothing.
    None,
}

#[derive(Debug, Subcommand)]
enum ScenarioCommand {
    /// Run scenario files (or every *.toml in the directories given).
    Run {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Run on PostgreSQL instead of the in-memory store: each scenario
        /// gets a scratch database on this server, dropped afterwards.
        #[arg(long)]
        database_url: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve {
            bind,
            seed,
            database_url,
            await_callback,
            cors_origins,
            callback_key,
            dev_identity,
            tick_seconds,
            bench_catalog,
        } => {
            tracing_subscriber::fmt().with_max_level(tracing::Level::INFO).with_target(false).init();
            let in_memory = database_url.is_none();
            let demo = seed.unwrap_or(if in_memory && bench_catalog.is_none() { Seed::Demo } else { Seed::None });
            if demo == Seed::Demo && bench_catalog.is_some() {
                return fail("--bench-catalog writes over the demo data's ids: use it with --seed none");
            }
            let options = serve::ServeOptions {
                bind,
                demo: demo == Seed::Demo,
                bench_catalog,
                dev_identity: dev_identity || in_memory,
                database_url,
                await_callback,
                cors_origins,
                callback_key,
                tick_seconds,
            };
            match serve::run(options).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Openapi => match mallkit_http::openapi().to_pretty_json() {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Command::Quote { file, json } => match quote::price(&file) {
            Ok(priced) if json => match serde_json::to_string_pretty(&priced.quote) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            },
            Ok(priced) => {
                print!("{}", priced.table());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Scenario { command: ScenarioCommand::Run { paths, database_url } } => {
            run_scenarios(&paths, database_url.as_deref()).await
        }
        Command::Migrate { database_url } => {
            let settings = mallkit_storage_postgres::PgSettings::default();
            match mallkit_storage_postgres::PgStore::connect(&database_url, settings).await {
                Ok(store) => match store.migrate().await {
                    Ok(()) => {
                        println!("migrations applied");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e.to_string()),
                },
                Err(e) => fail(&format!("cannot connect: {e}")),
            }
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Runs one parsed scenario on a fresh store: in memory, or in a scratch
/// PostgreSQL database (`mallkit_scenario_<pid>_<n>`) dropped afterwards.
async fn run_one(
    file: &scenario::model::ScenarioFile,
    n: usize,
    database_url: Option<&str>,
) -> Result<scenario::run::Report, String> {
    use mallkit_storage_postgres::{PgSettings, PgStore};
    let Some(url) = database_url else {
        let mut world = scenario::run::setup(file, mallkit_storage_memory::MemoryStore::new()).await?;
        return Ok(scenario::run::run(&mut world, &file.steps).await);
    };
    let name = format!("mallkit_scenario_{}_{n}", std::process::id());
    let store = PgStore::create_database(url, &name, PgSettings::default())
        .await
        .map_err(|e| format!("cannot create database {name}: {e}"))?;
    let report = match scenario::run::setup(file, store.clone()).await {
        Ok(mut world) => Ok(scenario::run::run(&mut world, &file.steps).await),
        Err(e) => Err(e),
    };
    store.pool().close().await;
    let _ = PgStore::drop_database(url, &name).await;
    report
}

async fn run_scenarios(paths: &[PathBuf], database_url: Option<&str>) -> ExitCode {
    let files = match scenario::collect(paths) {
        Ok(f) if f.is_empty() => return fail("no scenario files found"),
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let (mut passed, mut failed) = (0, 0);
    for (n, path) in files.iter().enumerate() {
        let file = match scenario::load(path) {
            Ok(f) => f,
            Err(e) => {
                println!("✗ {}", e.trim_end());
                failed += 1;
                continue;
            }
        };
        let title = file.name.clone().unwrap_or_else(|| path.display().to_string());
        let report = match run_one(&file, n, database_url).await {
            Ok(r) => r,
            Err(e) => {
                println!("✗ {title} ({}): set-up: {e}", path.display());
                failed += 1;
                continue;
            }
        };
        if report.failures.is_empty() {
            println!("✓ {title} ({} steps, {} checks)", report.steps, report.checks);
            passed += 1;
        } else {
            println!(
                "✗ {title} ({}): {} of {} checks failed ({} steps)",
                path.display(),
                report.failures.len(),
                report.checks,
                report.steps
            );
            for f in &report.failures {
                println!("    step {} {}: {}", f.step, f.label, f.message);
            }
            failed += 1;
        }
    }
    println!("\n{passed} passed, {failed} failed");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
