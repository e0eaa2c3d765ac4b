//! grove-bench.

fn main() {}
