//! Distance kernels: Grove's dispatched kernels (`dot`, `l2sq`: the AVX2+FMA loop on CPUs that
//! have it) against simsimd's and the f64 scalar reference, at Matryoshka prefix widths and the
//! dimensions of common embedding models (384: MiniLM / the arXiv set; 1024: large models).
//!
//! Run: `cargo bench -p grove-index --bench kernels`. Inputs are seeded. Both rows stay in L1,
//! so this measures the arithmetic, not the memory traffic that dominates a search.
//!
//! Measured 2026-11-27 (AMD EPYC, AVX-512 capable, 2 cores shared, load 11-13; `-- --warm-up-time
//! 1 --measurement-time 2`), median ns per call, grove / simsimd: dot 64: 18.7 / 35.4, 128:
//! 25.7 / 45.3, 256: 59.9 / 72.1, 384: 61.7 / 67.0, 768: 122 / 190, 1024: 180 / 239; l2sq 384:
//! 69.0 / 93.5, 1024: 192 / 239; f64 scalar dot 384: 1,006. simsimd wins nowhere on this CPU,
//! so it is only the fallback for CPUs without AVX2+FMA.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use grove_index::distance::{dot, l2sq, scalar, simsimd_dot, simsimd_l2sq, uses_avx2_kernel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn vectors(dim: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let a = (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    let b = (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    (a, b)
}

fn kernels(c: &mut Criterion) {
    eprintln!("grove kernels use the AVX2+FMA loop: {}", uses_avx2_kernel());
    let mut g = c.benchmark_group("kernels");
    for dim in [64usize, 128, 256, 384, 768, 1024] {
        let (a, b) = vectors(dim, dim as u64);
        g.throughput(Throughput::Elements(dim as u64));
        g.bench_with_input(BenchmarkId::new("dot/grove", dim), &dim, |bench, _| {
            bench.iter(|| dot(black_box(&a), black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("dot/simsimd", dim), &dim, |bench, _| {
            bench.iter(|| simsimd_dot(black_box(&a), black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("l2sq/grove", dim), &dim, |bench, _| {
            bench.iter(|| l2sq(black_box(&a), black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("l2sq/simsimd", dim), &dim, |bench, _| {
            bench.iter(|| simsimd_l2sq(black_box(&a), black_box(&b)))
        });
        if dim == 384 {
            g.bench_with_input(BenchmarkId::new("dot/scalar_f64", dim), &dim, |bench, _| {
                bench.iter(|| scalar::dot(black_box(&a), black_box(&b)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
