//! The `mallkit` binary: price carts and run QA scenarios on the in-memory
//! store.

mod quote;
mod scenario;

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
    /// Price a cart described by a file and print the breakdown.
    Quote {
        /// The file: catalog, tiers, templates, users and a [quote] table.
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
}

#[derive(Debug, Subcommand)]
enum ScenarioCommand {
    /// Run scenario files (or every *.toml in the directories given).
    Run {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Quote { file, json } => match quote::price(&file).await {
            Ok(q) if json => match serde_json::to_string_pretty(&q) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            },
            Ok(q) => {
                print!("{}", quote::table(&q));
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Scenario { command: ScenarioCommand::Run { paths } } => run_scenarios(&paths).await,
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

async fn run_scenarios(paths: &[PathBuf]) -> ExitCode {
    let files = match scenario::collect(paths) {
        Ok(f) if f.is_empty() => return fail("no scenario files found"),
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let (mut passed, mut failed) = (0, 0);
    for path in &files {
        let file = match scenario::load(path) {
            Ok(f) => f,
            Err(e) => {
                println!("✗ {e}");
                failed += 1;
                continue;
            }
        };
        let title = file.name.clone().unwrap_or_else(|| path.display().to_string());
        let mut world = match scenario::run::setup(&file).await {
            Ok(w) => w,
            Err(e) => {
                println!("✗ {title} ({}): set-up: {e}", path.display());
                failed += 1;
                continue;
            }
        };
        let report = scenario::run::run(&mut world, &file.steps).await;
        if report.failures.is_empty() {
            println!("✓ {title} ({} steps, {} checks)", report.steps, report.checks);
            passed += 1;
        } else {
            println!("✗ {title} ({}): {} of {} checks failed", path.display(), report.failures.len(), report.checks);
            for f in &report.failures {
                println!("    step {} ({}): {}", f.step, f.label, f.message);
            }
            failed += 1;
        }
    }
    println!("\n{passed} passed, {failed} failed");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
