//! The `mallkit` binary.
fn main() {}
