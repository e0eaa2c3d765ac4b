//! Oracle tests of Matryoshka search: recall against exact full-dimension brute force, with
//! filters, tombstones, prefix graphs, funnels, dtypes and PCA.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;

use super::*;
use crate::{CollectionIndex, IndexConfig, SearchParams, SearchPath, Strategy};

const D: usize = 64;
const K: usize = 10;

/// Seeded data with Matryoshka-like structure: 40 clusters, component `j` scaled by
/// `1 / (1 + j / 4)`, so the leading components carry most of the energy (85% in the first 16).
fn vectors(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> =
        (0..40).map(|_| (0..D).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
    (0..n)
        .map(|i| {
            let c = &centres[i % centres.len()];
            (0..D).map(|j| (c[j] + 0.6 * rng.gen_range(-1.0f32..1.0)) / (1.0 + j as f32 / 4.0)).collect()
        })
        .collect()
}

fn index(n: usize, cfg: Option<MatryoshkaConfig>) -> (CollectionIndex, Vec<Vec<f32>>) {
    let idx = CollectionIndex::new(IndexConfig::new(D, Metric::Cosine)).unwrap();
    let data = vectors(n, 5);
    for (i, v) in data.iter().enumerate() {
        idx.insert(i as u32, v).unwrap();
    }
    idx.set_matryoshka(cfg, None).unwrap();
    (idx, data)
}

fn cfg(dims: &[usize]) -> MatryoshkaConfig {
    MatryoshkaConfig::new(dims.to_vec(), Metric::Cosine)
}

/// Mean recall@K of `mq` against exact full-dimension search, over `nq` seeded queries.
fn recall(idx: &CollectionIndex, filter: Option<&RoaringBitmap>, mq: &MatryoshkaQuery, nq: usize) -> f64 {
    let queries = vectors(nq, 77);
    let exact = SearchParams { k: K, strategy: Strategy::Exact, ..Default::default() };
    let p = SearchParams { k: K, ..Default::default() };
    let dead = idx.deleted();
    let mut sum = 0.0;
    for q in &queries {
        let truth: Vec<u32> = idx.search(q, filter, &exact).unwrap().hits.iter().map(|h| h.id).collect();
        let out = idx.search_matryoshka(q, filter, &p, mq).unwrap();
        assert_eq!(out.explain.path, SearchPath::Matryoshka);
        assert_eq!(out.hits.len(), truth.len());
        for h in &out.hits {
            assert!(!dead.contains(h.id), "a tombstoned id {} was returned", h.id);
            assert!(filter.is_none_or(|f| f.contains(h.id)), "a filtered-out id {} was returned", h.id);
        }
        // Returned distances are exact full-dimension distances.
        let mut qn = q.clone();
        Metric::Cosine.prepare(&mut qn);
        for h in &out.hits {
            let want = Metric::Cosine.distance(&qn, &idx.vector(h.id).unwrap());
            assert!((h.dist - want).abs() < 1e-6);
        }
        sum += out.hits.iter().filter(|h| truth.contains(&h.id)).count() as f64 / truth.len().max(1) as f64;
    }
    sum / nq as f64
}

#[test]
fn full_dimension_is_exactly_a_plain_search() {
    let (idx, _) = index(2000, Some(cfg(&[8, 16])));
    idx.build();
    let filter: RoaringBitmap = (0..2000).step_by(3).collect();
    for q in vectors(20, 9) {
        for f in [None, Some(&filter)] {
            let p = SearchParams { k: K, ..Default::default() };
            let plain = idx.search(&q, f, &p).unwrap();
            let m = idx.search_matryoshka(&q, f, &p, &MatryoshkaQuery::new(D, 4)).unwrap();
            assert_eq!(plain, m);
        }
    }
}

#[test]
fn prefix_scan_recall_unfiltered_filtered_and_tombstoned() {
    let (idx, _) = index(3000, Some(cfg(&[8, 16, 32])));
    let r16 = recall(&idx, None, &MatryoshkaQuery::new(16, 8), 50);
    assert!(r16 >= 0.95, "prefix 16 x8 recall {r16}");
    // Oversampling buys recall: x1 at prefix 8 is clearly worse than x16 at prefix 8.
    let lo = recall(&idx, None, &MatryoshkaQuery::new(8, 1), 50);
    let hi = recall(&idx, None, &MatryoshkaQuery::new(8, 16), 50);
    assert!(hi > lo + 0.05 && hi >= 0.9, "prefix 8: x1 {lo}, x16 {hi}");

    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let filter: RoaringBitmap = (0..3000u32).filter(|_| rng.gen_bool(0.2)).collect();
    for id in (0..3000u32).step_by(7) {
        idx.delete(id);
    }
    let r = recall(&idx, Some(&filter), &MatryoshkaQuery::new(16, 8), 50);
    assert!(r >= 0.95, "filtered + tombstoned recall {r}");
    let r = recall(&idx, None, &MatryoshkaQuery::new(32, 4), 50);
    assert!(r >= 0.97, "tombstoned prefix 32 recall {r}");
    // A filter allowing fewer than oversample * k points: every one is rescored, so exact.
    let tiny: RoaringBitmap = (1..3000u32).step_by(97).collect();
    assert!((recall(&idx, Some(&tiny), &MatryoshkaQuery::new(8, 8), 10) - 1.0).abs() < 1e-12);
}

#[test]
fn prefix_graph_with_pending_tail() {
    let mut c = cfg(&[16, 32]);
    c.graph = Some(crate::GraphParams { m: 12, ef_construction: 64, ..Default::default() });
    let (idx, data) = index(3000, Some(c));
    assert_eq!(idx.matryoshka_info().unwrap().prefixes[0].graph_indexed, Some(0));
    idx.build();
    assert_eq!(idx.matryoshka_info().unwrap().prefixes[0].graph_indexed, Some(3000));
    let mq = MatryoshkaQuery { dim: 16, oversample: 8, funnel: Vec::new(), path: PrefixPath::Graph };
    let r = recall(&idx, None, &mq, 50);
    assert!(r >= 0.9, "prefix graph recall {r}");
    let out = idx.search_matryoshka(&data[0], None, &SearchParams::default(), &mq).unwrap();
    assert_eq!(out.explain.matryoshka[0].path, "prefix_graph");
    assert!(out.explain.nodes_visited > 0);
    // Points inserted after the build sit in the pending tail and are still found.
    let extra = vectors(3100, 5);
    for (i, v) in extra.iter().enumerate().skip(3000) {
        idx.insert(i as u32, v).unwrap();
    }
    let out = idx.search_matryoshka(&extra[3050], None, &SearchParams::default(), &mq).unwrap();
    assert_eq!(out.hits[0].id, 3050);
    assert_eq!(out.explain.unindexed_scanned, 100);
    // Auto: the graph for an unfiltered query on 3,100 points? No: below exact_max_points the
    // prefix scan is chosen.
    let auto = idx
        .search_matryoshka(&extra[1], None, &SearchParams::default(), &MatryoshkaQuery::new(16, 8))
        .unwrap();
    assert_eq!(auto.explain.matryoshka[0].path, "prefix_scan");
    let filter: RoaringBitmap = (0..3100).step_by(2).collect();
    idx.delete(4);
    let r = recall(&idx, Some(&filter), &mq, 30);
    assert!(r >= 0.85, "filtered prefix graph recall {r}");
}

#[test]
fn funnel_stages_are_explained() {
    let (idx, data) = index(2000, Some(cfg(&[8, 16, 32])));
    let mq = MatryoshkaQuery {
        dim: 8,
        oversample: 20,
        funnel: vec![FunnelStage { dim: 16, keep: 80 }, FunnelStage { dim: 32, keep: 30 }],
        path: PrefixPath::Scan,
    };
    let out = idx.search_matryoshka(&data[3], None, &SearchParams::default(), &mq).unwrap();
    let shape: Vec<(usize, u64, u64, u64)> = out
        .explain
        .matryoshka
        .iter()
        .map(|s| (s.dim, s.candidates_in, s.kept, s.distances_computed))
        .collect();
    assert_eq!(shape, vec![(8, 2000, 200, 2000), (16, 200, 80, 200), (32, 80, 30, 80), (64, 30, 10, 30)]);
    assert_eq!(out.explain.distances_computed, 2000 + 200 + 80 + 30);
    let r = recall(&idx, None, &mq, 40);
    assert!(r >= 0.95, "funnel recall {r}");
}

#[test]
fn bad_queries_name_the_field() {
    let (idx, data) = index(200, Some(cfg(&[8, 16])));
    let p = SearchParams::default();
    let err = |mq: MatryoshkaQuery| idx.search_matryoshka(&data[0], None, &p, &mq).unwrap_err().to_string();
    assert!(err(MatryoshkaQuery::new(12, 4)).contains("dim"));
    assert!(err(MatryoshkaQuery::new(8, 0)).contains("oversample"));
    let f = |stages: Vec<(usize, usize)>| MatryoshkaQuery {
        dim: 8,
        oversample: 10,
        funnel: stages.into_iter().map(|(dim, keep)| FunnelStage { dim, keep }).collect(),
        path: PrefixPath::Auto,
    };
    assert!(err(f(vec![(8, 50)])).contains("funnel"), "not larger than the first prefix");
    assert!(err(f(vec![(16, 100)])).contains("funnel"), "keep not below oversample x k");
    assert!(err(f(vec![(16, 5)])).contains("funnel"), "keep below k");
    assert!(err(f(vec![(32, 50)])).contains("funnel"), "undeclared");
    let graph = MatryoshkaQuery { path: PrefixPath::Graph, ..MatryoshkaQuery::new(8, 4) };
    assert!(matches!(
        idx.search_matryoshka(&data[0], None, &p, &graph),
        Err(IndexError::PathUnavailable { .. })
    ));
    // Declarations.
    assert!(cfg(&[64]).validate(D, Metric::Cosine).unwrap_err().to_string().contains("matryoshka_dims"));
    assert!(cfg(&[16, 8]).validate(D, Metric::Cosine).is_err());
    assert!(cfg(&[]).validate(D, Metric::Cosine).is_err());
    assert!(cfg(&[8]).validate(D, Metric::L2).is_err(), "re-normalising needs cosine");
    let mut c = cfg(&[8]);
    c.graph = Some(crate::GraphParams::default());
    c.dtype = PrefixDtype::I8;
    assert!(c.validate(D, Metric::Cosine).unwrap_err().to_string().contains("dtype"));
    // No declaration at all.
    let (plain, _) = index(50, None);
    assert!(plain.search_matryoshka(&data[0], None, &p, &MatryoshkaQuery::new(8, 2)).is_err());
    assert!(plain.search_matryoshka(&data[0], None, &p, &MatryoshkaQuery::new(D, 2)).is_ok());
}

#[test]
fn f16_and_int8_prefixes_keep_recall() {
    for dtype in [PrefixDtype::F16, PrefixDtype::I8] {
        let mut c = cfg(&[16, 32]);
        c.dtype = dtype;
        let (idx, _) = index(3000, Some(c));
        let r = recall(&idx, None, &MatryoshkaQuery::new(16, 8), 40);
        assert!(r >= 0.93, "{dtype:?} recall {r}");
        let info = idx.matryoshka_info().unwrap();
        assert_eq!(info.dtype, dtype);
        assert!(info.prefixes[0].bytes_per_vector < 16 * 4);
    }
}

#[test]
fn other_metrics_without_renormalising() {
    for metric in [Metric::Dot, Metric::L2] {
        let idx = CollectionIndex::new(IndexConfig::new(D, metric)).unwrap();
        for (i, v) in vectors(2000, 5).iter().enumerate() {
            idx.insert(i as u32, v).unwrap();
        }
        let c = MatryoshkaConfig { renormalise: false, ..MatryoshkaConfig::new(vec![32], metric) };
        idx.set_matryoshka(Some(c), None).unwrap();
        let exact = SearchParams { k: K, strategy: Strategy::Exact, ..Default::default() };
        let mut sum = 0.0;
        let qs = vectors(30, 8);
        for q in &qs {
            let truth: Vec<u32> = idx.search(q, None, &exact).unwrap().hits.iter().map(|h| h.id).collect();
            let got = idx
                .search_matryoshka(q, None, &SearchParams::default(), &MatryoshkaQuery::new(32, 8))
                .unwrap();
            sum += got.hits.iter().filter(|h| truth.contains(&h.id)).count() as f64 / K as f64;
        }
        assert!(sum / 30.0 >= 0.9, "{metric:?} recall {}", sum / 30.0);
    }
}

#[test]
fn inserts_after_declaration_are_found_and_gaps_are_not() {
    let (idx, data) = index(500, Some(cfg(&[8])));
    let extra = vectors(600, 5);
    idx.insert(550, &extra[550]).unwrap(); // leaves a gap 500..550
    let out = idx
        .search_matryoshka(
            &extra[550],
            None,
            &SearchParams { k: 600, ..Default::default() },
            &MatryoshkaQuery::new(8, 1),
        )
        .unwrap();
    assert_eq!(out.hits[0].id, 550);
    assert_eq!(out.hits.len(), 501);
    assert!(out.hits.iter().all(|h| h.id < 500 || h.id == 550));
    let _ = data;
}

#[test]
fn pca_rotation_concentrates_variance_and_keeps_full_distances() {
    // Isotropic-looking data: a random rotation of the structured set spreads the energy.
    let idx = CollectionIndex::new(IndexConfig::new(D, Metric::Cosine)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let perm_signs: Vec<f32> = (0..D).map(|_| if rng.gen_bool(0.5) { 1.0 } else { -1.0 }).collect();
    let mut perm: Vec<usize> = (0..D).collect();
    rand::seq::SliceRandom::shuffle(perm.as_mut_slice(), &mut rng);
    let scramble = |v: &[f32]| -> Vec<f32> { (0..D).map(|j| v[perm[j]] * perm_signs[j]).collect() };
    let data: Vec<Vec<f32>> = vectors(3000, 5).iter().map(|v| scramble(v)).collect();
    for (i, v) in data.iter().enumerate() {
        idx.insert(i as u32, v).unwrap();
    }
    let queries: Vec<Vec<f32>> = vectors(40, 77).iter().map(|v| scramble(v)).collect();
    let run = |idx: &CollectionIndex| {
        let exact = SearchParams { k: K, strategy: Strategy::Exact, ..Default::default() };
        let mut sum = 0.0;
        for q in &queries {
            let truth = idx.search(q, None, &exact).unwrap().hits;
            let got = idx
                .search_matryoshka(q, None, &SearchParams::default(), &MatryoshkaQuery::new(16, 4))
                .unwrap();
            sum += got.hits.iter().filter(|h| truth.iter().any(|t| t.id == h.id)).count() as f64 / K as f64;
            // Distances returned are the unrotated full-dimension ones.
            for h in &got.hits {
                if let Some(t) = truth.iter().find(|t| t.id == h.id) {
                    assert!((t.dist - h.dist).abs() < 1e-6);
                }
            }
        }
        sum / queries.len() as f64
    };
    idx.set_matryoshka(Some(cfg(&[16, 32])), None).unwrap();
    let plain = run(&idx);
    assert!(idx.matryoshka_info().unwrap().prefixes[0].variance_kept.is_none());
    let rot = idx.fit_rotation(2000, 1).unwrap();
    assert_eq!(rot.sample(), 2000);
    idx.set_matryoshka(Some(cfg(&[16, 32])), Some(rot.clone())).unwrap();
    let rotated = run(&idx);
    let info = idx.matryoshka_info().unwrap();
    let v16 = info.prefixes[0].variance_kept.unwrap();
    let v32 = info.prefixes[1].variance_kept.unwrap();
    assert!(info.pca && v16 < v32 && v32 < 1.0 && v16 > 16.0 / D as f64, "variance kept {v16} {v32}");
    assert!(rotated > plain + 0.05, "PCA should help a scrambled spectrum: {plain} -> {rotated}");
    assert_eq!(idx.matryoshka_rotation(), Some(rot));
}

#[test]
fn calibration_recommends_the_cheapest_setting_meeting_the_target() {
    let (idx, _) = index(3000, Some(cfg(&[8, 16, 32])));
    let req = CalibrationRequest { sample: 60, oversamples: vec![1, 4, 16], ..Default::default() };
    let rep = idx.calibrate_matryoshka(&req).unwrap();
    assert_eq!(rep.queries, 60);
    assert_eq!(rep.rows.len(), 9);
    assert_eq!(rep.exact.distances, 2999.0 + 1.0);
    let best = rep.recommended.clone().expect("some setting reaches 0.95");
    assert!(best.recall >= 0.95 && best.cost < rep.exact.cost);
    for r in &rep.rows {
        if r.recall >= 0.95 {
            assert!(r.cost >= best.cost);
        }
        // Costs are what the funnel computes: prefix scan of every point + rescoring.
        let want = 3000.0 * r.dim as f64 + (r.oversample * (K + 1)) as f64 * D as f64;
        assert!((r.cost - want).abs() < 1e-6, "{r:?}");
    }
    // More oversampling never lowers recall at a prefix on this data.
    for w in rep.rows.chunks(3) {
        assert!(w[0].recall <= w[1].recall + 1e-9 && w[1].recall <= w[2].recall + 1e-9, "{w:?}");
    }
    // Recall is measured, not assumed: an unreachable target recommends nothing.
    let hard = CalibrationRequest { target_recall: 1.0, dims: vec![8], oversamples: vec![1], ..req.clone() };
    let rep = idx.calibrate_matryoshka(&hard).unwrap();
    assert!(rep.rows[0].recall < 1.0 && rep.recommended.is_none());
    // A filtered calibration samples queries among the allowed points.
    let filter: RoaringBitmap = (0..3000).step_by(10).collect();
    let rep = idx
        .calibrate_matryoshka(&CalibrationRequest { filter: Some(filter), sample: 20, ..req.clone() })
        .unwrap();
    assert_eq!(rep.exact.distances, 300.0);
    assert!(idx.calibrate_matryoshka(&CalibrationRequest { oversamples: vec![0], ..req.clone() }).is_err());
    assert!(idx.calibrate_matryoshka(&CalibrationRequest { dims: vec![12], ..req }).is_err());
}

/// Prefix graphs are saved with the main graphs and load back under the same declaration and
/// rotation (answers identical, nothing to re-index); another rotation finds no file and
/// indexes from scratch, and its save removes the stale files; a corrupt file is refused.
#[test]
fn prefix_graphs_persist_across_reopen() {
    let mut c = cfg(&[16, 32]);
    c.graph = Some(crate::GraphParams { m: 12, ef_construction: 64, ..Default::default() });
    let (a, data) = index(2000, Some(c.clone()));
    a.build();
    let dir = tempfile::tempdir().unwrap();
    a.save_graphs(dir.path()).unwrap();
    let prefix_files = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(crate::collection::MATRYOSHKA_FILE_PREFIX))
            .collect();
        v.sort();
        v
    };
    let saved = prefix_files();
    assert_eq!(saved.len(), 2, "{saved:?}");

    // Reopen: same vectors, same declaration; the graphs load with nothing pending.
    let (b, _) = index(2000, Some(c.clone()));
    let report = b.load_graphs(dir.path());
    for (m, load) in &report.matryoshka {
        assert_eq!(*load, crate::collection::GraphLoad::Loaded { nodes: 2000, pending: 0 }, "prefix {m}");
    }
    assert_eq!(b.matryoshka_info().unwrap().prefixes[0].graph_indexed, Some(2000));
    let mq = MatryoshkaQuery { dim: 16, oversample: 8, funnel: Vec::new(), path: PrefixPath::Graph };
    for q in vectors(20, 31) {
        let p = SearchParams { k: K, ..Default::default() };
        let ra = a.search_matryoshka(&q, None, &p, &mq).unwrap();
        let rb = b.search_matryoshka(&q, None, &p, &mq).unwrap();
        assert_eq!(ra.hits, rb.hits);
        assert_eq!(rb.explain.unindexed_scanned, 0);
    }
    assert!(recall(&b, None, &mq, 30) >= 0.9);

    // Another rotation: the files are not this declaration's; everything is pending again.
    let (r, _) = index(2000, None);
    let rot = r.fit_rotation(500, 1).unwrap();
    r.set_matryoshka(Some(c.clone()), Some(rot)).unwrap();
    let report = r.load_graphs(dir.path());
    assert!(report
        .matryoshka
        .iter()
        .all(|(_, l)| *l == crate::collection::GraphLoad::Missing { pending: 2000 }));
    r.build();
    r.save_graphs(dir.path()).unwrap();
    let now = prefix_files();
    assert_eq!(now.len(), 2);
    assert!(now.iter().all(|n| !saved.contains(n)), "stale files kept: {now:?}");

    // A corrupt file is reported and that level stays pending; searches still answer.
    let path = dir.path().join(&now[0]);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let (s, _) = index(2000, None);
    s.set_matryoshka(Some(c), r.matryoshka_rotation()).unwrap();
    let report = s.load_graphs(dir.path());
    assert_eq!(
        report
            .matryoshka
            .iter()
            .filter(|(_, l)| matches!(l, crate::collection::GraphLoad::Invalid { .. }))
            .count(),
        1
    );
    let out =
        s.search_matryoshka(&data[7], None, &SearchParams::default(), &MatryoshkaQuery::new(16, 8)).unwrap();
    assert_eq!(out.hits[0].id, 7);
    s.build();
    let out = s.search_matryoshka(&data[7], None, &SearchParams::default(), &mq).unwrap();
    assert_eq!(out.hits[0].id, 7);
}
