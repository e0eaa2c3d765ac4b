//! `DenseIdSet::from_roaring` (run before every filtered graph walk) against the per-id loop it
//! replaced, on a random half of the arXiv set's 49,152 ids (peerbench's 50% filter) and a
//! random tenth. Run: `cargo bench -p grove-index --bench idset`.
//!
//! Measured 2026-11-28 01:35 UTC (2-core VM shared with two other agents' release builds and
//! benchmarks, so absolute times are inflated; `-- --warm-up-time 1 --measurement-time 3`):
//! 50%: serialized 4.0 µs, per-id 360 µs; 10%: serialized 5.0 µs, per-id 98 µs. `per_id` is the
//! old loop's shape through the public `insert` (one bounds and length update per id more
//! than the old inner loop), so it overstates the old cost somewhat.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use grove_index::DenseIdSet;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;

/// The loop `from_roaring` ran before: one iterator step and one bit set per id.
fn per_id(bitmap: &RoaringBitmap, capacity: usize) -> DenseIdSet {
    let mut s = DenseIdSet::with_capacity(capacity);
    for id in bitmap.iter() {
        s.insert(id);
    }
    s
}

fn convert(c: &mut Criterion) {
    const N: u32 = 49_152;
    let mut g = c.benchmark_group("dense_from_roaring");
    for p in [0.5, 0.1] {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let b: RoaringBitmap = (0..N).filter(|_| rng.gen_bool(p)).collect();
        g.bench_with_input(BenchmarkId::new("serialized", p), &b, |bch, b| {
            bch.iter(|| DenseIdSet::from_roaring(black_box(b), None, N as usize))
        });
        g.bench_with_input(BenchmarkId::new("per_id", p), &b, |bch, b| {
            bch.iter(|| per_id(black_box(b), N as usize))
        });
    }
    g.finish();
}

criterion_group!(benches, convert);
criterion_main!(benches);
