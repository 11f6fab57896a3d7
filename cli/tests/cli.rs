//! The `mallkit` binary, run as a user runs it.

use std::path::PathBuf;
use std::process::{Command, Output};

fn mallkit(args: &[&str]) -> Output {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    Command::new(env!("CARGO_BIN_EXE_mallkit")).args(args).current_dir(root).output().expect("the binary runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn every_committed_scenario_passes() {
    let out = mallkit(&["scenario", "run", "scenarios/"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(" passed, 0 failed"), "{}", text(&out));
}

#[test]
fn a_wrong_expectation_fails_with_a_readable_message() {
    let out = mallkit(&["scenario", "run", "cli/tests/fixtures/wrong_expectation.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = text(&out);
    assert!(
        report.contains("✗ a deliberately wrong expectation (cli/tests/fixtures/wrong_expectation.toml)"),
        "{report}"
    );
    assert!(report.contains("step 1 (preview): payable: expected 2520.00, got 2550.00"), "{report}");
    assert!(
        report.contains("step 3 \"pay the order\" (pay): orders.o1: expected shipped, got awaiting_shipment"),
        "{report}"
    );
    assert!(report.contains("0 passed, 1 failed"), "{report}");
}

#[test]
fn a_misspelt_key_is_an_error_naming_it() {
    let out = mallkit(&["scenario", "run", "cli/tests/fixtures/typo.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("unknown field `payabel`"), "{}", text(&out));
}

#[test]
fn quote_prints_the_breakdown_and_json() {
    // Member price 255.00 × 0.95 = 242.25 and 45.50 × 0.95 = 43.225 → 43.23:
    // goods 2 × 242.25 + 43.23 = 527.73. 瓷砖满1000 is out of reach (484.50
    // eligible), 满299减30 applies: 497.73 left; points cap 50% → 248.86 →
    // 2000 points = 20.00 (the balance is smaller); shipping free (≥ 99).
    // Payable 527.73 − 30.00 − 20.00 = 477.73.
    let out = mallkit(&["quote", "cli/tests/fixtures/quote.toml"]);
    assert!(out.status.success(), "{}", text(&out));
    let table = text(&out);
    assert!(table.lines().any(|l| l.starts_with("= payable") && l.ends_with(" 477.73")), "{table}");
    assert!(table.lines().any(|l| l.contains("A8001 瓷砖 800x800mm") && l.ends_with(" 438.60")), "{table}");
    assert!(table.contains("− coupon \"c30\" 满299减30"), "{table}");
    assert!(
        table.contains("\"tile100\" 瓷砖满1000减100 (#2, template 2, exclusive): below threshold by 515.50"),
        "{table}"
    );
    assert!(table.contains("expired at 2026-10-31 00:00:00 UTC"), "{table}");

    let out = mallkit(&["quote", "--json", "cli/tests/fixtures/quote.toml"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["payable"].to_string(), "477.73", "amounts are JSON numbers of yuan");
    assert_eq!(json["points_used"], 2000);
    assert_eq!(json["applied_coupons"], serde_json::json!([1]));
}

#[test]
fn quote_names_the_bad_field() {
    let out = mallkit(&["quote", "cli/tests/fixtures/bad_quote.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("cart.lines[1]: no sku 7 in [[skus]]"), "{}", text(&out));
}

#[test]
fn a_missing_file_is_reported() {
    let out = mallkit(&["scenario", "run", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no/such/dir: no such file or directory"), "{}", text(&out));
}

#[test]
fn every_committed_scenario_passes_on_postgresql_too() {
    let url = mallkit_storage_postgres::testing::database_url();
    let out = mallkit(&["scenario", "run", "--database-url", &url, "scenarios/"]);
    assert!(out.status.success(), "is PostgreSQL up at {url}? {}", text(&out));
    assert!(text(&out).contains(" passed, 0 failed"), "{}", text(&out));
}

#[tokio::test]
async fn migrate_is_idempotent() {
    use mallkit_storage_postgres::{PgSettings, PgStore};
    let admin = mallkit_storage_postgres::testing::database_url();
    let name = format!("mallkit_test_migrate_{}_{}", std::process::id(), chrono::Utc::now().timestamp_micros());
    let store = PgStore::create_database(&admin, &name, PgSettings::default())
        .await
        .unwrap_or_else(|e| panic!("is PostgreSQL up at {admin}? {e}"));
    store.pool().close().await;
    let url = format!("{}/{name}", admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base));
    let out = mallkit(&["migrate", "--database-url", &url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("migrations applied"), "{}", text(&out));
    PgStore::drop_database(&admin, &name).await.expect("drop the scratch database");
}
