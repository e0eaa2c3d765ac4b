//! The top-k subset diagnostic on generated geometries whose answers are known independently.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use grove_index::diagnostics::subset::{
    diagnose, Allowed, IndexSearch, Label, SubsetConfig, SubsetQuery, SubsetReport,
};
use grove_index::{Metric, VectorStore};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn store_of(points: &[Vec<f32>], metric: Metric) -> VectorStore {
    let mut s = VectorStore::new(points[0].len());
    for p in points {
        let mut v = p.clone();
        metric.prepare(&mut v);
        s.push(&v);
    }
    s
}

fn run(
    store: &VectorStore,
    metric: Metric,
    queries: &[(Vec<f32>, Vec<u32>)],
    cfg: &SubsetConfig,
    index: Option<&IndexSearch<'_>>,
) -> SubsetReport {
    let qs: Vec<SubsetQuery<'_>> =
        queries.iter().map(|(v, r)| SubsetQuery { vector: v.as_slice(), relevant: r.as_slice() }).collect();
    diagnose(store, metric, Allowed::All, &qs, index, cfg, &|_| {}).unwrap()
}

/// Brute-force top-k ids under `metric` (ties by id).
fn brute_top(store: &VectorStore, metric: Metric, q: &[f32], k: usize) -> Vec<u32> {
    let mut q = q.to_vec();
    metric.prepare(&mut q);
    let mut all: Vec<(f32, u32)> =
        (0..store.len() as u32).map(|i| (metric.distance(store.get(i), &q), i)).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.into_iter().take(k).map(|(_, i)| i).collect()
}

fn unit(angle: f64) -> Vec<f32> {
    vec![angle.cos() as f32, angle.sin() as f32]
}

/// 8 points on a circle (cosine, d = 2). A pair is returnable exactly when the two points are
/// neighbours on the circle: the chord of a non-adjacent pair crosses a chord between points of
/// the two arcs it cuts off, so the hulls intersect.
#[test]
fn circle_pairs_adjacent_are_returnable_non_adjacent_are_geometry_gaps() {
    let n = 8usize;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let angles: Vec<f64> =
        (0..n).map(|i| std::f64::consts::TAU * i as f64 / n as f64 + rng.gen_range(-0.05..0.05)).collect();
    let store = store_of(&angles.iter().map(|&a| unit(a)).collect::<Vec<_>>(), Metric::Cosine);
    let mut queries = Vec::new();
    let mut expect = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            let mid = if i == 0 && j == n - 1 {
                (angles[j] + angles[i] + std::f64::consts::TAU) / 2.0
            } else {
                (angles[i] + angles[j]) / 2.0
            };
            if adjacent {
                // Aimed between the pair: a hit. Aimed at the opposite side: an encoder gap.
                queries.push((unit(mid), vec![i as u32, j as u32]));
                expect.push(Label::Hit);
                queries.push((unit(mid + std::f64::consts::PI), vec![i as u32, j as u32]));
                expect.push(Label::EncoderGap);
            } else {
                queries.push((unit(mid), vec![i as u32, j as u32]));
                expect.push(Label::GeometryGap);
            }
        }
    }
    let cfg = SubsetConfig { ks: vec![2, 4], competitors: 3, ..SubsetConfig::default() };
    let report = run(&store, Metric::Cosine, &queries, &cfg, None);
    for (d, want) in report.queries.iter().zip(&expect) {
        assert_eq!(d.label, *want, "query {} {:?}: {d:?}", d.query, queries[d.query].1);
    }
    assert_eq!(report.count(Label::GeometryGap), 20);
    assert_eq!(report.count(Label::Hit), 8);
    assert_eq!(report.count(Label::EncoderGap), 8);
    // Encoder-gap witnesses are real: an independent scan returns exactly R for them.
    for d in report.queries.iter().filter(|d| d.label == Label::EncoderGap) {
        let w = d.witness.as_ref().unwrap();
        let mut top = brute_top(&store, Metric::Cosine, w, 2);
        top.sort_unstable();
        assert_eq!(top, queries[d.query].1);
        assert!(d.margin.unwrap() > 0.0);
    }
    // Geometry gaps carry an upper bound on any query's margin at the tolerance.
    for d in report.queries.iter().filter(|d| d.label == Label::GeometryGap) {
        assert!(d.margin_upper.unwrap() < 1e-6, "{d:?}");
    }
}

/// Monotone-chain convex hull: the indices of the strict hull vertices of 2-D points.
fn hull_vertices(p: &[Vec<f32>]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a][0].total_cmp(&p[b][0]).then(p[a][1].total_cmp(&p[b][1])));
    let cross = |o: usize, a: usize, b: usize| {
        (p[a][0] as f64 - p[o][0] as f64) * (p[b][1] as f64 - p[o][1] as f64)
            - (p[a][1] as f64 - p[o][1] as f64) * (p[b][0] as f64 - p[o][0] as f64)
    };
    let mut h: Vec<usize> = Vec::new();
    for pass in 0..2 {
        let start = h.len();
        let it: Vec<usize> = if pass == 0 { idx.clone() } else { idx.iter().rev().copied().collect() };
        for i in it {
            while h.len() >= start + 2 && cross(h[h.len() - 2], h[h.len() - 1], i) <= 0.0 {
                h.pop();
            }
            h.push(i);
        }
        h.pop();
    }
    h
}

/// Dot product in d = 2 with singleton relevant sets: {i} is returnable exactly when point i is a
/// vertex of the convex hull of all points (checked by an independent monotone-chain hull).
#[test]
fn dot_singletons_inside_the_hull_are_geometry_gaps() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let pts: Vec<Vec<f32>> =
        (0..60).map(|_| vec![rng.gen_range(-1.0f32..1.0), rng.gen_range(-1.0f32..1.0)]).collect();
    let vertices = hull_vertices(&pts);
    assert!(vertices.len() >= 5 && vertices.len() < 30);
    let store = store_of(&pts, Metric::Dot);
    let queries: Vec<(Vec<f32>, Vec<u32>)> = (0..60u32)
        .map(|i| (vec![rng.gen_range(-1.0f32..1.0), rng.gen_range(-1.0f32..1.0)], vec![i]))
        .collect();
    let cfg = SubsetConfig { ks: vec![1, 5], competitors: 10, ..SubsetConfig::default() };
    let report = run(&store, Metric::Dot, &queries, &cfg, None);
    let mut gaps = 0;
    for d in &report.queries {
        let is_vertex = vertices.contains(&d.query);
        match d.label {
            Label::Hit => assert!(is_vertex, "{d:?}"),
            Label::EncoderGap => {
                assert!(is_vertex, "{d:?}");
                assert_eq!(
                    brute_top(&store, Metric::Dot, d.witness.as_ref().unwrap(), 1),
                    vec![d.query as u32]
                );
            }
            Label::GeometryGap => {
                assert!(!is_vertex, "{d:?}");
                gaps += 1;
            }
            other => panic!("unexpected {other:?}: {d:?}"),
        }
    }
    assert_eq!(gaps, 60 - vertices.len(), "every interior point is a geometry gap");
}

/// Points on the trigonometric moment curve in d = 4 form a 2-neighbourly polytope: every pair is
/// an edge, so every pair is returnable (Wang et al.'s 2k bound) — no miss may be labelled a
/// geometry gap, however many points there are.
#[test]
fn moment_curve_pairs_are_all_returnable_in_four_dimensions() {
    let n = 14usize;
    let pts: Vec<Vec<f32>> = (0..n)
        .map(|i| {
            let t = std::f64::consts::TAU * i as f64 / n as f64;
            vec![t.cos() as f32, t.sin() as f32, (2.0 * t).cos() as f32, (2.0 * t).sin() as f32]
        })
        .collect();
    let store = store_of(&pts, Metric::Cosine);
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let mut queries = Vec::new();
    for i in 0..n as u32 {
        for j in i + 1..n as u32 {
            queries.push(((0..4).map(|_| rng.gen_range(-1.0f32..1.0)).collect(), vec![i, j]));
        }
    }
    let report = run(&store, Metric::Cosine, &queries, &SubsetConfig::default(), None);
    assert_eq!(report.count(Label::GeometryGap), 0);
    assert_eq!(report.count(Label::Undetermined), 0);
    assert_eq!(report.count(Label::Hit) + report.count(Label::EncoderGap), queries.len());
    assert!(report.count(Label::EncoderGap) > queries.len() / 2, "random queries mostly miss");
}

/// A lossy "index" (the exact answer minus its best hit): index loss is measured, not assumed.
#[test]
fn index_loss_is_the_gap_between_exact_and_index_recall() {
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let pts: Vec<Vec<f32>> =
        (0..200).map(|_| (0..8).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();
    let store = store_of(&pts, Metric::Cosine);
    // Relevant set = the exact top-2 of the query, so the exact scan always hits.
    let queries: Vec<(Vec<f32>, Vec<u32>)> = (0..20)
        .map(|_| {
            let q: Vec<f32> = (0..8).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
            let r = brute_top(&store, Metric::Cosine, &q, 2);
            (q, r)
        })
        .collect();
    let lossy =
        |q: &[f32], k: usize| -> Vec<u32> { brute_top(&store, Metric::Cosine, q, k + 1)[1..].to_vec() };
    let cfg = SubsetConfig { ks: vec![2, 10], ..SubsetConfig::default() };
    let report = run(&store, Metric::Cosine, &queries, &cfg, Some(&lossy));
    assert_eq!(report.count(Label::IndexMiss), 20);
    assert_eq!(report.mean_recall_exact, vec![1.0, 1.0]);
    let ix = report.mean_recall_index.clone().unwrap();
    assert!((ix[0] - 0.5).abs() < 1e-12, "top-2 minus the best keeps one of two: {ix:?}");
    assert!((ix[1] - 0.5).abs() < 1e-12);
    assert!((report.index_loss.unwrap()[0] - 0.5).abs() < 1e-12);
}

/// L2 singletons are always returnable (query at the point), so no miss is a geometry gap; every
/// witness is checked by an independent scan.
#[test]
fn l2_singletons_are_never_geometry_gaps() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let pts: Vec<Vec<f32>> = (0..80).map(|_| (0..3).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();
    let store = store_of(&pts, Metric::L2);
    let queries: Vec<(Vec<f32>, Vec<u32>)> =
        (0..40u32).map(|i| ((0..3).map(|_| rng.gen_range(-1.0f32..1.0)).collect(), vec![i])).collect();
    let cfg = SubsetConfig { ks: vec![1], competitors: 20, ..SubsetConfig::default() };
    let report = run(&store, Metric::L2, &queries, &cfg, None);
    assert_eq!(report.count(Label::GeometryGap), 0);
    let decided = report.count(Label::Hit) + report.count(Label::EncoderGap);
    assert_eq!(decided, 40, "every L2 singleton is decided: {:?}", report.label_counts);
    for d in report.queries.iter().filter(|d| d.label == Label::EncoderGap) {
        assert_eq!(brute_top(&store, Metric::L2, d.witness.as_ref().unwrap(), 1), vec![d.query as u32]);
    }
}

/// A filter restricts both the scan and the competitors; an exhausted budget gives undetermined.
#[test]
fn filter_and_budget_are_honoured() {
    let angles: Vec<f64> = (0..8).map(|i| std::f64::consts::TAU * i as f64 / 8.0).collect();
    let store = store_of(&angles.iter().map(|&a| unit(a)).collect::<Vec<_>>(), Metric::Cosine);
    // Points 0 and 2 are not adjacent among all 8, but are once 1 is filtered out and 3..=7 too.
    let q = unit(angles[1]);
    let rel = vec![0u32, 2];
    let qs = [SubsetQuery { vector: &q, relevant: &rel }];
    let all =
        diagnose(&store, Metric::Cosine, Allowed::All, &qs, None, &SubsetConfig::default(), &|_| {}).unwrap();
    assert_eq!(all.queries[0].label, Label::GeometryGap);
    let allowed = [0u32, 2, 5];
    let filtered = diagnose(
        &store,
        Metric::Cosine,
        Allowed::Ids(&allowed),
        &qs,
        None,
        &SubsetConfig::default(),
        &|_| {},
    )
    .unwrap();
    assert_eq!(filtered.queries[0].label, Label::Hit);
    let spent = SubsetConfig { time_budget: Some(std::time::Duration::ZERO), ..SubsetConfig::default() };
    let r = diagnose(&store, Metric::Cosine, Allowed::All, &qs, None, &spent, &|_| {}).unwrap();
    assert_eq!(r.queries[0].label, Label::Undetermined);
    assert!(r.budget_exhausted && r.queries[0].reason.is_some());
    // A relevant id outside the filter is a caller error, not a label.
    let bad = [0u32, 5];
    assert!(diagnose(
        &store,
        Metric::Cosine,
        Allowed::Ids(&bad),
        &qs,
        None,
        &SubsetConfig::default(),
        &|_| {}
    )
    .is_err());
}
