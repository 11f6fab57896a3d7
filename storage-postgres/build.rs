//! Rebuilds the crate when a migration is added or edited, so that
//! `sqlx::migrate!` embeds the current `migrations/` directory.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
