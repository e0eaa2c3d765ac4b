//! Exact search over a filter, the path that must beat a numpy scan at low selectivity, and the
//! whole `CollectionIndex::search` call (planning, allowed-set algebra, scan) around it.
//!
//! 200k seeded random vectors at d = 384 (the arXiv set's shape), one thread, k = 10; random
//! filters at 10%, 1% and 0.1%. Reference point: peerbench's README has numpy at ~7,500
//! queries/s at 1% of 200k; side by side under the same load, see the numbers in
//! `grove_index::flat`'s module doc. Run: `cargo bench -p grove-index --bench search`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use grove_index::collection::{CollectionIndex, IndexConfig, SearchParams};
use grove_index::flat::{self, Allowed};
use grove_index::{Metric, Strategy, VectorStore};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;

const N: usize = 200_000;
const DIM: usize = 384;

fn unit(rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..DIM).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    Metric::Cosine.prepare(&mut v);
    v
}

fn search(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let rows: Vec<Vec<f32>> = (0..N).map(|_| unit(&mut rng)).collect();
    let mut store = VectorStore::with_capacity(DIM, N);
    rows.iter().for_each(|v| {
        store.push(v);
    });
    let index = CollectionIndex::new(IndexConfig::new(DIM, Metric::Cosine)).unwrap_or_else(|e| panic!("{e}"));
    for (i, v) in rows.iter().enumerate() {
        index.insert(i as u32, v).unwrap_or_else(|e| panic!("{e}"));
    }
    drop(rows);
    let queries: Vec<Vec<f32>> = (0..64).map(|_| unit(&mut rng)).collect();

    let mut g = c.benchmark_group("exact");
    g.sample_size(20);
    for (name, p) in [("10%", 0.1), ("1%", 0.01), ("0.1%", 0.001)] {
        let filter: RoaringBitmap = (0..N as u32).filter(|_| rng.gen_bool(p)).collect();
        let mut qi = 0;
        g.bench_with_input(BenchmarkId::new("flat", name), &filter, |b, f| {
            b.iter(|| {
                qi = (qi + 1) % queries.len();
                flat::search(&store, Metric::Cosine, black_box(&queries[qi]), 10, Allowed::Bitmap(f), None)
            })
        });
        let params = SearchParams { k: 10, strategy: Strategy::Exact, ..Default::default() };
        g.bench_with_input(BenchmarkId::new("collection", name), &filter, |b, f| {
            b.iter(|| {
                qi = (qi + 1) % queries.len();
                index.search(black_box(&queries[qi]), Some(f), &params)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
