//! Benchmarks of the pricing pipeline (filled in below).
fn main() {}
