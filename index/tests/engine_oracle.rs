//! Oracle tests of the planner's auto mode: seeded clustered data, exact f64 brute force as the
//! truth, recall@10 >= 0.95 in every selectivity bucket, and the path the planner took.
//!
//! The planner's `exact_max_points` is lowered here to 500 (the other thresholds are the
//! defaults), so that with 20k points every path is exercised: HNSW from 90% up, filtered HNSW
//! from 20% when the probe finds the filter dense around the query (random and correlated
//! filters) and ACORN-1 when it does not (anti-correlated), ACORN-1 from 5%, exact below (or
//! at most 500 allowed points, or at most 2,000 when the probe finds none of them near the query). A second index adds an ACORN-gamma graph, which serves the
//! 1-5% range instead of exact.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use grove_index::collection::{CollectionIndex, IndexConfig, SearchParams};
use grove_index::distance::scalar;
use grove_index::{GraphParams, Metric, PlannerConfig, SearchPath};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;

const N: usize = 20_000;
const DIM: usize = 32;
const CLUSTERS: usize = 100;
const TOPICS: usize = 10;
const QUERIES: usize = 60;
const K: usize = 10;
const MIN_RECALL: f64 = 0.95;

/// A standard normal by Box-Muller (the workspace has rand 0.8 without rand_distr).
fn normal(rng: &mut impl Rng) -> f32 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// Clustered data: `CLUSTERS` Gaussian centres, points around them. Each point carries a
/// `topic` (its cluster mod `TOPICS`: a payload correlated with position) and a `year`
/// (uniform 0..10: independent of position).
struct Data {
    vectors: Vec<Vec<f32>>,
    topic: Vec<usize>,
    year: Vec<usize>,
    centres: Vec<Vec<f32>>,
}

fn data(seed: u64) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> =
        (0..CLUSTERS).map(|_| (0..DIM).map(|_| normal(&mut rng)).collect()).collect();
    let (mut vectors, mut topic, mut year) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..N {
        let c = rng.gen_range(0..CLUSTERS);
        vectors.push(centres[c].iter().map(|x| x + 0.35 * normal(&mut rng)).collect());
        topic.push(c % TOPICS);
        year.push(rng.gen_range(0..10));
    }
    Data { vectors, topic, year, centres }
}

/// A query near a random cluster centre, and that cluster.
fn query(d: &Data, rng: &mut ChaCha8Rng) -> (Vec<f32>, usize) {
    let c = rng.gen_range(0..CLUSTERS);
    (d.centres[c].iter().map(|x| x + 0.35 * normal(rng)).collect(), c)
}

fn index(d: &Data, metric: Metric, acorn: Option<GraphParams>) -> CollectionIndex {
    let cfg = IndexConfig {
        hnsw: GraphParams { m: 12, ef_construction: 64, ..GraphParams::default() },
        acorn,
        // far_exact_max_points scaled like exact_max_points: the ~1,200-point anti-correlated AND
        // filter is scanned, the 10,000-point anti-correlated half still walks ACORN-1.
        planner: PlannerConfig {
            exact_max_points: 500,
            far_exact_max_points: 2_000,
            ..PlannerConfig::default()
        },
        build_threads: 2,
        ..IndexConfig::new(DIM, metric)
    };
    let idx = CollectionIndex::new(cfg).unwrap();
    for (i, v) in d.vectors.iter().enumerate() {
        idx.insert(i as u32, v).unwrap();
    }
    idx.build();
    assert_eq!(idx.stats().pending, 0);
    idx
}

/// The truth: every allowed point ranked by the f64 reference distance.
fn truth(d: &Data, metric: Metric, q: &[f32], allowed: Option<&RoaringBitmap>) -> Vec<u32> {
    let qn = norm(q);
    let mut all: Vec<(f64, u32)> = (0..N as u32)
        .filter(|i| allowed.is_none_or(|a| a.contains(*i)))
        .map(|i| {
            let v = &d.vectors[i as usize];
            let dist = match metric {
                Metric::L2 => scalar::l2sq(q, v),
                Metric::Dot => -scalar::dot(q, v),
                Metric::Cosine => 1.0 - scalar::dot(q, v) / (qn * norm(v)),
            };
            (dist, i)
        })
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    all.into_iter().take(K).map(|x| x.1).collect()
}

fn norm(v: &[f32]) -> f64 {
    scalar::dot(v, v).sqrt()
}

/// Runs `QUERIES` queries with a per-query filter; asserts every query took `path`, that no hit
/// is outside the filter, and that recall@10 reaches `MIN_RECALL`. Returns the recall.
fn bucket(
    idx: &CollectionIndex,
    d: &Data,
    metric: Metric,
    name: &str,
    path: SearchPath,
    filter: impl Fn(usize) -> Option<RoaringBitmap>,
) -> f64 {
    bucket_mostly(idx, d, metric, name, (path, QUERIES), filter)
}

/// [`bucket`], asserting that at least `path.1` of the queries took `path.0`: with L2 on these
/// well-separated clusters the probe's greedy entry lands in another cluster for about one
/// query in twenty, and then sees that cluster's density; recall is asserted over all queries.
fn bucket_mostly(
    idx: &CollectionIndex,
    d: &Data,
    metric: Metric,
    name: &str,
    path: (SearchPath, usize),
    filter: impl Fn(usize) -> Option<RoaringBitmap>,
) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let (mut found, mut total, mut on_path) = (0usize, 0usize, 0usize);
    let mut other = String::new();
    for _ in 0..QUERIES {
        let (q, c) = query(d, &mut rng);
        let f = filter(c);
        let out = idx.search(&q, f.as_ref(), &SearchParams { k: K, ..Default::default() }).unwrap();
        if out.explain.path == path.0 {
            on_path += 1;
        } else {
            other = out.explain.reason.clone();
        }
        if let Some(f) = &f {
            assert!(out.hits.iter().all(|h| f.contains(h.id)), "{name}: a hit outside the filter");
            assert_eq!(out.explain.allowed_points, f.len());
        }
        let t = truth(d, metric, &q, f.as_ref());
        assert_eq!(out.hits.len(), t.len(), "{name}: k hits when at least k are allowed");
        total += t.len();
        found += t.iter().filter(|id| out.hits.iter().any(|h| h.id == **id)).count();
    }
    assert!(on_path >= path.1, "{name}: {on_path} of {QUERIES} queries took {:?}; another: {other}", path.0);
    let recall = found as f64 / total as f64;
    assert!(recall >= MIN_RECALL, "{name}: recall@10 {recall:.3} < {MIN_RECALL}");
    recall
}

/// A random subset with probability `p`, fixed per bucket (a seeded coin per point).
fn random_subset(p: f64, seed: u64) -> RoaringBitmap {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..N as u32).filter(|_| rng.gen_bool(p)).collect()
}

fn selectivity_buckets(metric: Metric) {
    let d = data(1);
    let idx = index(&d, metric, None);
    bucket(&idx, &d, metric, "100% (no filter)", SearchPath::Hnsw, |_| None);
    let all = random_subset(1.0, 2);
    bucket(&idx, &d, metric, "100% (filter)", SearchPath::Hnsw, |_| Some(all.clone()));
    // 50% independent of the vectors: the probe finds about half the query's region allowed,
    // and filtered HNSW serves it.
    let half = random_subset(0.5, 3);
    bucket(&idx, &d, metric, "50%", SearchPath::Hnsw, |_| Some(half.clone()));
    // 50% as five of the ten topics: with the query's topic the region around it is all
    // allowed (filtered HNSW); without it none is, and ACORN-1 with the widest beam walks to
    // the other clusters.
    let five_topics = |from: usize| -> RoaringBitmap {
        (0..N).filter(|&i| (d.topic[i] + TOPICS - from) % TOPICS < TOPICS / 2).map(|i| i as u32).collect()
    };
    let most = QUERIES * 9 / 10;
    bucket_mostly(&idx, &d, metric, "50% correlated", (SearchPath::Hnsw, most), |c| {
        Some(five_topics(c % TOPICS))
    });
    bucket_mostly(&idx, &d, metric, "50% anti-correlated", (SearchPath::Acorn1, most), |c| {
        Some(five_topics((c + TOPICS / 2) % TOPICS))
    });
    let tenth = random_subset(0.1, 4);
    bucket(&idx, &d, metric, "10%", SearchPath::Acorn1, |_| Some(tenth.clone()));
    let one = random_subset(0.01, 5);
    bucket(&idx, &d, metric, "1%", SearchPath::Exact, |_| Some(one.clone()));
    let tiny = random_subset(0.001, 6);
    bucket(&idx, &d, metric, "0.1%", SearchPath::Exact, |_| Some(tiny.clone()));

    // Two-attribute AND filters (~6% of the points): `topic = t AND year < 6`.
    let and_filter = |t: usize| -> RoaringBitmap {
        (0..N).filter(|&i| d.topic[i] == t && d.year[i] < 6).map(|i| i as u32).collect()
    };
    // Correlated: the topic of the query's own cluster, so the allowed points surround it.
    // (When the probe's entry lands in another cluster it sees no allowed point and scans.)
    bucket_mostly(&idx, &d, metric, "AND correlated", (SearchPath::Acorn1, most), |c| {
        Some(and_filter(c % TOPICS))
    });
    // Anti-correlated: another topic, so every allowed point is in other clusters; the probe
    // sees none of them near the query and, with at most far_exact_max_points allowed, the
    // planner scans them.
    bucket_mostly(&idx, &d, metric, "AND anti-correlated", (SearchPath::Exact, most), |c| {
        Some(and_filter((c + TOPICS / 2) % TOPICS))
    });
}

#[test]
fn auto_mode_recall_and_paths_l2() {
    selectivity_buckets(Metric::L2);
}

#[test]
fn auto_mode_recall_and_paths_cosine() {
    selectivity_buckets(Metric::Cosine);
}

/// With an ACORN-gamma graph (gamma 12, so it covers selectivities down to 0.2 / 12 ≈ 1.7%),
/// the 3% buckets and the ~3% AND filters go to ACORN-gamma instead of exact.
#[test]
fn auto_mode_with_a_gamma_graph() {
    let metric = Metric::L2;
    let d = data(7);
    let gamma = GraphParams { m: 8, ef_construction: 48, gamma: 12, m_beta: 16, ..GraphParams::default() };
    let idx = index(&d, metric, Some(gamma));
    let three = random_subset(0.03, 8);
    bucket(&idx, &d, metric, "gamma 3%", SearchPath::AcornGamma, |_| Some(three.clone()));
    let ten = random_subset(0.1, 9);
    bucket(&idx, &d, metric, "gamma 10%", SearchPath::AcornGamma, |_| Some(ten.clone()));
    let half = random_subset(0.5, 10);
    // 50% random: dense around every query, so filtered HNSW on the HNSW graph.
    bucket(&idx, &d, metric, "gamma 50%", SearchPath::Hnsw, |_| Some(half.clone()));
    let tiny = random_subset(0.001, 11);
    bucket(&idx, &d, metric, "gamma 0.1%", SearchPath::Exact, |_| Some(tiny.clone()));
    // `topic = t AND year < 3`: about 3%.
    let and_filter = |t: usize| -> RoaringBitmap {
        (0..N).filter(|&i| d.topic[i] == t && d.year[i] < 3).map(|i| i as u32).collect()
    };
    bucket(&idx, &d, metric, "gamma AND correlated", SearchPath::AcornGamma, |c| {
        Some(and_filter(c % TOPICS))
    });
    bucket(&idx, &d, metric, "gamma AND anti-correlated", SearchPath::AcornGamma, |c| {
        Some(and_filter((c + TOPICS / 2) % TOPICS))
    });
}
