//! Oracle tests of the quantized paths: recall@k of searches that walk or scan int8, binary or
//! RaBitQ codes (and rescore) against exact f32 brute force, with explicit tolerances, for
//! every metric and the filtered paths; the rescoring itself (returned distances are exact);
//! and the codes file (a reopened index searches the same codes; a corrupt file retrains).
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use grove_index::quant::{CodeLoad, QuantConfig, QuantSearch, RabitqBits};
use grove_index::{
    flat, CollectionIndex, IndexConfig, Metric, PlannerConfig, SearchParams, SearchPath, Strategy,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;

const DIM: usize = 48;
const N: usize = 6_000;
const K: usize = 10;

/// Clustered data: 40 centres, Gaussian-ish spread (seeded).
fn data(seed: u64) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> =
        (0..40).map(|_| (0..DIM).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
    let point = |rng: &mut ChaCha8Rng| {
        let c = &centres[rng.gen_range(0..centres.len())];
        c.iter().map(|x| x + (rng.gen::<f32>() + rng.gen::<f32>() - 1.0) * 0.35).collect::<Vec<f32>>()
    };
    let base = (0..N).map(|_| point(&mut rng)).collect();
    let queries = (0..100).map(|_| point(&mut rng)).collect();
    (base, queries)
}

const INT8: QuantConfig = QuantConfig::Scalar { quantile: None, always_ram: true };

fn index(base: &[Vec<f32>], metric: Metric, quant: bool) -> CollectionIndex {
    index_with(base, metric, quant.then_some(INT8))
}

fn index_with(base: &[Vec<f32>], metric: Metric, quantization: Option<QuantConfig>) -> CollectionIndex {
    let cfg = IndexConfig {
        build_threads: 2,
        planner: PlannerConfig { exact_max_points: 200, ..PlannerConfig::default() },
        quantization,
        ..IndexConfig::new(DIM, metric)
    };
    let idx = CollectionIndex::new(cfg).unwrap();
    for (i, v) in base.iter().enumerate() {
        idx.insert(i as u32, v).unwrap();
    }
    idx.build();
    idx
}

/// Exact truth from the f32 scan over the index's own prepared rows.
fn truth(idx: &CollectionIndex, q: &[f32], allowed: Option<&RoaringBitmap>) -> Vec<u32> {
    let p = SearchParams {
        k: K,
        strategy: Strategy::Exact,
        quantization: QuantSearch { ignore: true, ..Default::default() },
        ..Default::default()
    };
    idx.search(q, allowed, &p).unwrap().hits.iter().map(|h| h.id).collect()
}

/// Recall@K of `p` against exact truth, asserting the path and that codes were used (unless
/// the query ignores them).
fn recall(
    idx: &CollectionIndex,
    queries: &[Vec<f32>],
    allowed: Option<&RoaringBitmap>,
    p: &SearchParams,
    want_path: SearchPath,
) -> f64 {
    let mut hit = 0usize;
    let mut total = 0usize;
    for q in queries {
        let out = idx.search(q, allowed, p).unwrap();
        assert_eq!(out.explain.path, want_path, "{}", out.explain.reason);
        let qx = out.explain.quantization.as_ref().expect("quantized collections explain their codes");
        assert_eq!(qx.used, !p.quantization.ignore, "{}", qx.reason);
        if qx.used {
            assert!(qx.code_distances > 0);
            if p.quantization.rescore {
                assert!(qx.rescored as usize >= K.min(out.hits.len()));
            }
        }
        let t = truth(idx, q, allowed);
        total += t.len();
        hit += out.hits.iter().filter(|h| t.contains(&h.id)).count();
        if let Some(a) = allowed {
            assert!(out.hits.iter().all(|h| a.contains(h.id)), "a hit outside the filter");
        }
    }
    hit as f64 / total as f64
}

#[test]
fn quantized_graph_and_scan_paths_against_exact_truth() {
    let (base, queries) = data(11);
    for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
        let idx = index(&base, metric, true);
        assert!(idx.codes_ready());
        let st = idx.stats();
        assert_eq!(st.code_bytes_per_point, 64 + 4, "48 codes padded to 64, plus a norm");
        let p = |strategy, ef| SearchParams { k: K, ef: Some(ef), strategy, ..Default::default() };
        let full = |strategy, ef| SearchParams {
            quantization: QuantSearch { ignore: true, ..Default::default() },
            ..p(strategy, ef)
        };
        // Each graph path on codes (beam rescored) against exact truth, and against the same
        // walk on full vectors: codes may cost at most 0.03 of recall.
        let half: RoaringBitmap = (0..N as u32).filter(|i| i % 2 == 0).collect();
        let few: RoaringBitmap = (0..N as u32).filter(|i| i % 20 == 3).collect();
        let cases = [
            ("unfiltered HNSW", None, Strategy::Auto, SearchPath::Hnsw, 0.95),
            ("filtered HNSW ~50%", Some(&half), Strategy::Hnsw, SearchPath::Hnsw, 0.93),
            ("ACORN-1 ~5%", Some(&few), Strategy::Acorn, SearchPath::Acorn1, 0.60),
        ];
        for (name, allowed, strategy, path, floor) in cases {
            let r = recall(&idx, &queries, allowed, &p(strategy, 64), path);
            let r32 = recall(&idx, &queries, allowed, &full(strategy, 64), path);
            eprintln!("{metric:?} {name}: int8 {r:.3}, f32 {r32:.3}");
            assert!(r >= floor, "{metric:?} {name} int8: recall {r}");
            assert!(r >= r32 - 0.03, "{metric:?} {name}: int8 recall {r} vs f32 {r32}");
        }

        // The exact path scans codes when many rows are allowed, and rescoring makes it
        // (nearly) exact.
        let r = recall(&idx, &queries, None, &p(Strategy::Exact, 64), SearchPath::Exact);
        assert!(r >= 0.99, "{metric:?} int8 scan + rescore: recall {r}");

        // Without rescoring the estimates still rank well, and distances are estimates.
        let pr = SearchParams {
            quantization: QuantSearch { rescore: false, ..Default::default() },
            ..p(Strategy::Exact, 64)
        };
        let r = recall(&idx, &queries, None, &pr, SearchPath::Exact);
        assert!(r >= 0.80, "{metric:?} int8 scan without rescoring: recall {r}");
    }
}

#[test]
fn rescored_distances_are_exact_and_ignore_reads_full_vectors() {
    let (base, queries) = data(12);
    let idx = index(&base, Metric::L2, true);
    for q in queries.iter().take(20) {
        let out = idx.search(q, None, &SearchParams { k: K, ..Default::default() }).unwrap();
        for h in &out.hits {
            let exact = Metric::L2.distance(q, &base[h.id as usize]);
            assert!(
                (h.dist - exact).abs() <= 1e-4 * exact.max(1.0),
                "id {}: {} vs exact {exact}",
                h.id,
                h.dist
            );
        }
        let p = SearchParams {
            k: K,
            quantization: QuantSearch { ignore: true, ..Default::default() },
            ..Default::default()
        };
        let out = idx.search(q, None, &p).unwrap();
        let qx = out.explain.quantization.unwrap();
        assert!(!qx.used && qx.reason.contains("ignore"), "{qx:?}");
    }
    // Oversampling bounds the rescored candidates.
    let p = SearchParams {
        k: K,
        quantization: QuantSearch { oversampling: Some(2.0), ..Default::default() },
        ..Default::default()
    };
    let out = idx.search(&queries[0], None, &p).unwrap();
    assert_eq!(out.explain.quantization.unwrap().rescored, 20);
    let bad = SearchParams {
        quantization: QuantSearch { oversampling: Some(0.5), ..Default::default() },
        ..Default::default()
    };
    let e = idx.search(&queries[0], None, &bad).unwrap_err();
    assert!(e.to_string().contains("oversampling"), "{e}");
}

#[test]
fn codes_follow_inserts_and_deletes_and_untrained_collections_use_full_vectors() {
    let (base, queries) = data(13);
    // Too few points to train: full vectors, and Explain says why.
    let small = index(&base[..100], Metric::Cosine, true);
    assert!(!small.codes_ready());
    let out = small.search(&queries[0], None, &SearchParams::default()).unwrap();
    let qx = out.explain.quantization.unwrap();
    assert!(!qx.used && qx.reason.contains("not trained"), "{qx:?}");

    // Points inserted after training are encoded at insert and found through the codes, and
    // deleted ones never come back.
    let idx = index(&base[..3000], Metric::Cosine, true);
    for (i, v) in base.iter().enumerate().skip(3000) {
        idx.insert(i as u32, v).unwrap();
    }
    idx.build();
    for id in (0..N as u32).step_by(7) {
        idx.delete(id);
    }
    assert!(idx.codes_ready());
    let p = SearchParams { k: K, ef: Some(64), ..Default::default() };
    let mut hit = 0;
    for q in &queries {
        let out = idx.search(q, None, &p).unwrap();
        assert!(out.explain.quantization.as_ref().unwrap().used);
        assert!(out.hits.iter().all(|h| h.id % 7 != 0), "a deleted point came back");
        let mut pq = q.clone();
        Metric::Cosine.prepare(&mut pq);
        let dead = idx.deleted();
        let store = {
            let mut s = grove_index::VectorStore::new(DIM);
            for (i, v) in base.iter().enumerate() {
                let mut v = v.clone();
                Metric::Cosine.prepare(&mut v);
                s.set(i as u32, &v);
            }
            s
        };
        let t = flat::search(&store, Metric::Cosine, &pq, K, flat::Allowed::All { dead: Some(&dead) }, None);
        hit += out.hits.iter().filter(|h| t.hits.iter().any(|x| x.id == h.id)).count();
    }
    let r = hit as f64 / (queries.len() * K) as f64;
    assert!(r >= 0.95, "recall after inserts past training and deletes: {r}");
}

#[test]
fn binary_codes_with_rescoring_against_exact_truth() {
    let (base, queries) = data(14);
    for metric in [Metric::Cosine, Metric::L2] {
        let idx = index_with(&base, metric, Some(QuantConfig::Binary { always_ram: true }));
        assert!(idx.codes_ready());
        assert_eq!(idx.stats().code_bytes_per_point, 8 + 8, "48 bits in one word, plus scale and norm");
        let half: RoaringBitmap = (0..N as u32).filter(|i| i % 2 == 0).collect();
        for (name, allowed, strategy, path, ef, floor) in [
            ("unfiltered HNSW", None, Strategy::Auto, SearchPath::Hnsw, 160, 0.90),
            ("filtered HNSW ~50%", Some(&half), Strategy::Hnsw, SearchPath::Hnsw, 160, 0.90),
        ] {
            let p = SearchParams { k: K, ef: Some(ef), strategy, ..Default::default() };
            let r = recall(&idx, &queries, allowed, &p, path);
            eprintln!("{metric:?} {name} binary ef {ef}: {r:.3}");
            assert!(r >= floor, "{metric:?} {name} binary: recall {r}");
        }
        // A code scan rescoring 20k candidates is close to exact (10k gave 0.82 here: sign codes rank coarsely).
        let p = SearchParams {
            k: K,
            strategy: Strategy::Exact,
            quantization: QuantSearch { oversampling: Some(20.0), ..Default::default() },
            ..Default::default()
        };
        let r = recall(&idx, &queries, None, &p, SearchPath::Exact);
        eprintln!("{metric:?} binary scan x20: {r:.3}");
        assert!(r >= 0.95, "{metric:?} binary scan: recall {r}");
    }
}

fn rabitq(bits: RabitqBits) -> QuantConfig {
    QuantConfig::RaBitQ { bits, always_ram: true }
}

#[test]
fn rabitq_codes_on_every_path_against_exact_truth() {
    let (base, queries) = data(15);
    let half: RoaringBitmap = (0..N as u32).filter(|i| i % 2 == 0).collect();
    let few: RoaringBitmap = (0..N as u32).filter(|i| i % 20 == 3).collect();
    // (bits, bytes per point at d = 48 (D = 64), beam, recall floors: HNSW, HNSW ~50%,
    // ACORN-1 ~5%, scan without rescoring; recall the codes may lose against the same walk on
    // the full vectors). Two bits per component of 64 rotated dimensions rank coarsely: the
    // walk needs a wider beam, as sign codes do.
    for (bits, bytes, ef, floors, loss) in [
        (RabitqBits::Four, 64 / 2 + 8, 64, [0.95, 0.93, 0.60, 0.60], 0.03),
        (RabitqBits::Two, 64 / 4 + 8, 128, [0.95, 0.93, 0.60, 0.20], 0.03),
    ] {
        for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
            let idx = index_with(&base, metric, Some(rabitq(bits)));
            assert!(idx.codes_ready());
            assert_eq!(idx.stats().code_bytes_per_point, bytes, "{bits:?}: packed code plus two factors");
            let p = |strategy, ef| SearchParams { k: K, ef: Some(ef), strategy, ..Default::default() };
            let full = |strategy, ef| SearchParams {
                quantization: QuantSearch { ignore: true, ..Default::default() },
                ..p(strategy, ef)
            };
            let cases = [
                ("unfiltered HNSW", None, Strategy::Auto, SearchPath::Hnsw, floors[0]),
                ("filtered HNSW ~50%", Some(&half), Strategy::Hnsw, SearchPath::Hnsw, floors[1]),
                ("ACORN-1 ~5%", Some(&few), Strategy::Acorn, SearchPath::Acorn1, floors[2]),
            ];
            for (name, allowed, strategy, path, floor) in cases {
                let r = recall(&idx, &queries, allowed, &p(strategy, ef), path);
                let r32 = recall(&idx, &queries, allowed, &full(strategy, ef), path);
                eprintln!("{bits:?} {metric:?} {name} ef {ef}: codes {r:.3}, f32 {r32:.3}");
                assert!(r >= floor, "{bits:?} {metric:?} {name}: recall {r}");
                assert!(r >= r32 - loss, "{bits:?} {metric:?} {name}: recall {r} vs f32 {r32}");
            }
            // The exact path scans codes and rescores: (nearly) exact.
            let r = recall(&idx, &queries, None, &p(Strategy::Exact, 64), SearchPath::Exact);
            eprintln!("{bits:?} {metric:?} scan + rescore: {r:.3}");
            assert!(r >= 0.98, "{bits:?} {metric:?} scan + rescore: recall {r}");
            let pr = SearchParams {
                quantization: QuantSearch { rescore: false, ..Default::default() },
                ..p(Strategy::Exact, 64)
            };
            let r = recall(&idx, &queries, None, &pr, SearchPath::Exact);
            eprintln!("{bits:?} {metric:?} scan, no rescoring: {r:.3}");
            assert!(r >= floors[3], "{bits:?} {metric:?} scan without rescoring: recall {r}");
            // Rescored distances are exact.
            let out = idx.search(&queries[0], None, &p(Strategy::Auto, 64)).unwrap();
            let qx = out.explain.quantization.as_ref().unwrap();
            assert_eq!(qx.kind, bits_kind(bits));
            assert!(qx.error_bound.is_some_and(|b| b > 0.0 && b.is_finite()), "{qx:?}");
            for h in &out.hits {
                let mut x = base[h.id as usize].clone();
                let mut q = queries[0].clone();
                metric.prepare(&mut x);
                metric.prepare(&mut q);
                let exact = metric.distance(&q, &x);
                assert!((h.dist - exact).abs() <= 1e-4 * exact.abs().max(1.0), "{} vs {exact}", h.dist);
            }
        }
    }
}

fn bits_kind(bits: RabitqBits) -> &'static str {
    match bits {
        RabitqBits::One => "rabitq-1bit",
        RabitqBits::OneAndHalf => "rabitq-1.5bit",
        RabitqBits::Two => "rabitq-2bit",
        RabitqBits::Four => "rabitq-4bit",
    }
}

/// The same hits (ids and distances, bit for bit) for every query and path.
fn same_results(a: &CollectionIndex, b: &CollectionIndex, queries: &[Vec<f32>]) {
    let few: RoaringBitmap = (0..N as u32).filter(|i| i % 20 == 3).collect();
    for q in queries.iter().take(30) {
        for (allowed, strategy) in
            [(None, Strategy::Auto), (Some(&few), Strategy::Acorn), (None, Strategy::Exact)]
        {
            let p = SearchParams { k: K, ef: Some(64), strategy, ..Default::default() };
            let (x, y) = (a.search(q, allowed, &p).unwrap(), b.search(q, allowed, &p).unwrap());
            assert!(x.explain.quantization.as_ref().unwrap().used, "{:?}", x.explain.quantization);
            assert!(y.explain.quantization.as_ref().unwrap().used, "{:?}", y.explain.quantization);
            let key = |o: &grove_index::SearchOutput| {
                o.hits.iter().map(|h| (h.id, h.dist.to_bits())).collect::<Vec<_>>()
            };
            assert_eq!(key(&x), key(&y), "{strategy:?}");
            // Code distances agree too (no rescoring): the codes themselves are the same.
            let raw =
                SearchParams { quantization: QuantSearch { rescore: false, ..Default::default() }, ..p };
            let (x, y) = (a.search(q, allowed, &raw).unwrap(), b.search(q, allowed, &raw).unwrap());
            assert_eq!(key(&x), key(&y), "{strategy:?} without rescoring");
        }
    }
}

fn reopened(
    base: &[Vec<f32>],
    metric: Metric,
    quantization: Option<QuantConfig>,
    dir: &std::path::Path,
) -> (CollectionIndex, grove_index::LoadReport) {
    let cfg = IndexConfig {
        build_threads: 2,
        planner: PlannerConfig { exact_max_points: 200, ..PlannerConfig::default() },
        quantization,
        ..IndexConfig::new(DIM, metric)
    };
    let idx = CollectionIndex::new(cfg).unwrap();
    for (i, v) in base.iter().enumerate() {
        idx.insert(i as u32, v).unwrap();
    }
    let report = idx.load_graphs(dir);
    (idx, report)
}

#[test]
fn codes_persist_beside_the_graphs_and_a_bad_file_retrains() {
    let (base, queries) = data(16);
    for cfg in [
        rabitq(RabitqBits::Four),
        rabitq(RabitqBits::OneAndHalf),
        INT8,
        QuantConfig::Binary { always_ram: true },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let a = index_with(&base, Metric::Cosine, Some(cfg));
        a.save_graphs(dir.path()).unwrap();
        let file = dir.path().join(grove_index::quant::persist::CODES_FILE);
        assert!(file.exists());

        // A fresh index over the same vectors loads the codes: ready before any indexing
        // round, nothing re-encoded, the same results.
        let (b, report) = reopened(&base, Metric::Cosine, Some(cfg), dir.path());
        assert_eq!(report.codes, Some(CodeLoad::Loaded { rows: N as u64, reencoded: 0 }), "{cfg:?}");
        assert!(b.codes_ready(), "{cfg:?}: loaded codes cover every row");
        same_results(&a, &b, &queries);

        // Rows added after the save are encoded at load.
        let mut more = base.clone();
        more.extend(queries.iter().take(50).cloned());
        let (c, report) = reopened(&more, Metric::Cosine, Some(cfg), dir.path());
        assert_eq!(report.codes, Some(CodeLoad::Loaded { rows: N as u64, reencoded: 50 }));
        assert!(c.codes_ready());

        // Another configuration does not load them.
        let other = if matches!(cfg, QuantConfig::RaBitQ { bits: RabitqBits::Four, .. }) {
            INT8
        } else {
            rabitq(RabitqBits::Four)
        };
        let (_, report) = reopened(&base, Metric::Cosine, Some(other), dir.path());
        assert!(
            matches!(&report.codes, Some(CodeLoad::Rejected { reason }) if reason.contains("configuration")),
            "{report:?}"
        );
        // Nor does another metric.
        let (_, report) = reopened(&base, Metric::L2, Some(cfg), dir.path());
        assert!(
            matches!(&report.codes, Some(CodeLoad::Rejected { reason }) if reason.contains("metric")),
            "{report:?}"
        );

        // A corrupt file (one byte flipped, or truncated) is rejected, never a panic; the
        // codes are retrained in the next indexing round and give the same results.
        let mut bytes = std::fs::read(&file).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x5A;
        std::fs::write(&file, &bytes).unwrap();
        let (d, report) = reopened(&base, Metric::Cosine, Some(cfg), dir.path());
        assert!(
            matches!(&report.codes, Some(CodeLoad::Rejected { reason }) if reason.contains("checksum")),
            "{report:?}"
        );
        assert!(!d.codes_ready(), "rejected codes are not used");
        d.build();
        assert!(d.codes_ready(), "retrained");
        same_results(&a, &d, &queries);
        for len in [0, 7, 40, mid] {
            std::fs::write(&file, &bytes[..len]).unwrap();
            let (_, report) = reopened(&base, Metric::Cosine, Some(cfg), dir.path());
            assert!(
                matches!(report.codes, Some(CodeLoad::Rejected { .. })),
                "truncated to {len}: {report:?}"
            );
        }
    }
    // Without quantization no codes file is written, and an old one is removed.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(grove_index::quant::persist::CODES_FILE);
    std::fs::write(&file, b"stale").unwrap();
    let plain = index_with(&base[..500], Metric::Cosine, None);
    plain.save_graphs(dir.path()).unwrap();
    assert!(!file.exists());
}
