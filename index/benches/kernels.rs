//! Distance kernels: simsimd (what every path calls) against the f64 scalar reference, at the
//! dimensions of common embedding models (384: MiniLM / the arXiv set; 1024: large models).
//!
//! Run: `cargo bench -p grove-index --bench kernels`. Inputs are seeded.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use grove_index::distance::{dot, l2sq, scalar};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn vectors(dim: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let a = (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    let b = (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    (a, b)
}

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernels");
    for dim in [384usize, 1024] {
        let (a, b) = vectors(dim, dim as u64);
        g.throughput(Throughput::Elements(dim as u64));
        g.bench_with_input(BenchmarkId::new("dot/simsimd", dim), &dim, |bench, _| {
            bench.iter(|| dot(black_box(&a), black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("dot/scalar_f64", dim), &dim, |bench, _| {
            bench.iter(|| scalar::dot(black_box(&a), black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("l2sq/simsimd", dim), &dim, |bench, _| {
            bench.iter(|| l2sq(black_box(&a), black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("l2sq/scalar_f64", dim), &dim, |bench, _| {
            bench.iter(|| scalar::l2sq(black_box(&a), black_box(&b)))
        });
    }
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
