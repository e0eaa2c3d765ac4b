//! The hnsw_rs crate as a baseline the bench measures beside Grove (path `hnsw_rs`).
//!
//! Grove's own graph (`grove_index::graph`) serves the server; this wrapper exists so the two can
//! be compared on the same vectors with the same kernels. It lives in the bench, not the engine:
//! the server never runs it. It differs from our graph in ways that
//! matter for filtered search: hnsw_rs keeps its own copy of every vector, has no deletion, and
//! its filtered search ([`hnsw_rs::filter::FilterT`]) walks the whole beam without an early stop
//! tuned to the filter's share, so it is slow at low selectivity. The planner never picks it.
//!
//! # Distances
//! hnsw_rs asserts that distances are non-negative, but Grove's dot-product distance is `-a·b`.
//! [`GroveDistance`] feeds it `to_nonnegative(d)`, a strictly increasing map of the internal
//! distance onto `(0, ∞)`. HNSW construction and search only ever *compare* distances, so a
//! strictly increasing map builds the same graph and walks it the same way; hits are re-scored
//! with [`Metric::distance`] before they leave this module.

use std::fmt;

use hnsw_rs::prelude::{Distance, FilterT, Hnsw};

use std::time::Instant;

use anyhow::{bail, Result};
use grove_index::{DenseIdSet, GraphParams, Metric, Neighbor, Strategy};
use roaring::RoaringBitmap;

use crate::data::Vectors;
use crate::engine::{reset_peak_rss, rss_mb, BuildReport};
use crate::measure::Searcher;

/// Layers hnsw_rs may use (its maximum).
const MAX_LAYERS: usize = 16;

/// Our kernels behind hnsw_rs's distance trait.
#[derive(Debug, Clone, Copy)]
pub struct GroveDistance {
    metric: Metric,
}

impl GroveDistance {
    /// The distance of `metric`, made non-negative for hnsw_rs.
    pub fn new(metric: Metric) -> Self {
        Self { metric }
    }
}

/// Strictly increasing map of `R` onto `(0, ∞)`: `x + 1` for `x >= 0`, `1 / (1 - x)` below.
/// Both pieces meet at 1 and keep f32 precision (no cancellation, unlike `x + sqrt(x² + 1)`).
#[inline]
pub fn to_nonnegative(x: f32) -> f32 {
    if x >= 0.0 {
        x + 1.0
    } else {
        1.0 / (1.0 - x)
    }
}

impl Distance<f32> for GroveDistance {
    #[inline]
    fn eval(&self, va: &[f32], vb: &[f32]) -> f32 {
        to_nonnegative(self.metric.distance(va, vb))
    }
}

/// Accepts the ids of a dense set (hnsw_rs calls this for every candidate it meets).
struct DenseFilter<'a>(&'a DenseIdSet);

impl FilterT for DenseFilter<'_> {
    #[inline]
    fn hnsw_filter(&self, id: &usize) -> bool {
        u32::try_from(*id).is_ok_and(|id| self.0.contains(id))
    }
}

/// An hnsw_rs graph keyed by Grove internal ids. `Send + Sync`; inserts and searches take
/// `&self` (hnsw_rs locks internally).
pub struct HnswRsIndex {
    inner: Hnsw<'static, f32, GroveDistance>,
    metric: Metric,
    dim: usize,
}

impl fmt::Debug for HnswRsIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HnswRsIndex")
            .field("metric", &self.metric)
            .field("dim", &self.dim)
            .field("points", &self.inner.get_nb_point())
            .finish()
    }
}

impl HnswRsIndex {
    /// An empty index with hnsw_rs's `max_nb_connection = M` and `ef_construction`;
    /// `expected_points` sizes its tables. `gamma`/`M_beta` do not apply and are ignored.
    pub fn new(params: &GraphParams, metric: Metric, dim: usize, expected_points: usize) -> Result<Self> {
        // hnsw_rs exits the process for M > 256; refuse it here instead.
        if !(2..=256).contains(&params.m) {
            bail!("M = {} is outside 2..=256 (hnsw_rs's limit)", params.m);
        }
        if params.ef_construction == 0 || dim == 0 {
            bail!("ef_construction and dim must be at least 1");
        }
        let inner = Hnsw::new(
            params.m,
            expected_points.max(1),
            MAX_LAYERS,
            params.ef_construction,
            GroveDistance::new(metric),
        );
        Ok(Self { inner, metric, dim })
    }

    /// Points inserted.
    pub fn len(&self) -> usize {
        self.inner.get_nb_point()
    }

    /// Whether nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inserts `v` (prepared for the metric) under internal id `id`. hnsw_rs does not dedupe:
    /// the caller inserts each id once.
    pub fn insert(&self, id: u32, v: &[f32]) {
        if v.len() == self.dim {
            self.inner.insert_slice((v, id as usize));
        }
    }

    /// Inserts many points over the current rayon pool.
    pub fn insert_batch(&self, items: &[(u32, &[f32])]) {
        let data: Vec<(&[f32], usize)> =
            items.iter().filter(|(_, v)| v.len() == self.dim).map(|(id, v)| (*v, *id as usize)).collect();
        self.inner.parallel_insert_slice(&data);
    }

    /// The `k` nearest points, closest first, with Grove's internal distance; `allow` restricts
    /// the results through hnsw_rs's filter hook. `ef` is raised to `k` (hnsw_rs returns at most
    /// `min(k, ef)`).
    pub fn search(&self, query: &[f32], k: usize, ef: usize, allow: Option<&DenseIdSet>) -> Vec<Neighbor> {
        if k == 0 || query.len() != self.dim || self.is_empty() {
            return Vec::new();
        }
        let ef = ef.max(k);
        let found = match allow {
            Some(set) => {
                let f = DenseFilter(set);
                self.inner.search_filter(query, k, ef, Some(&f))
            }
            None => self.inner.search_filter(query, k, ef, None),
        };
        let mut hits: Vec<Neighbor> = found
            .into_iter()
            .filter_map(|n| {
                let id = u32::try_from(n.d_id).ok()?;
                Some(Neighbor::new(id, from_nonnegative(n.distance)))
            })
            .collect();
        hits.sort();
        hits
    }

    /// The metric.
    pub fn metric(&self) -> Metric {
        self.metric
    }
}

/// The baseline as a [`Searcher`]: hnsw_rs over a dataset's base rows (id = row), with the
/// filter handed to hnsw_rs's own filter hook. It keeps its own copy of the vectors.
#[derive(Debug)]
pub struct HnswRsBaseline {
    index: HnswRsIndex,
    n: usize,
}

impl HnswRsBaseline {
    /// Builds over every row of `base` (prepared for `metric` here, as Grove's engine does on
    /// insert), in parallel over the current rayon pool, timing the build.
    pub fn build(base: &Vectors, params: &GraphParams, metric: Metric) -> Result<(Self, BuildReport)> {
        let n = base.len();
        let index = HnswRsIndex::new(params, metric, base.dim, n)?;
        let reset = reset_peak_rss();
        let (rss0, _) = rss_mb().unwrap_or_default();
        let cpu0 = crate::measure::process_cpu_time();
        let t = Instant::now();
        let rows: Vec<Vec<f32>> = (0..n)
            .map(|i| {
                let mut v = base.row(i).to_vec();
                metric.prepare(&mut v);
                v
            })
            .collect();
        let items: Vec<(u32, &[f32])> =
            rows.iter().enumerate().map(|(i, v)| (i as u32, v.as_slice())).collect();
        index.insert_batch(&items);
        let build_s = t.elapsed().as_secs_f64();
        let cpu_s = crate::measure::process_cpu_time().saturating_sub(cpu0).as_secs_f64();
        let (rss1, peak) = rss_mb().unwrap_or_default();
        let report = BuildReport {
            label: "hnsw_rs baseline".into(),
            points: n,
            insert_s: 0.0,
            build_s,
            cpu_s,
            points_per_s: n as f64 / build_s.max(1e-9),
            rss_before_mb: rss0,
            rss_after_mb: rss1,
            peak_rss_mb: peak,
            peak_is_build_only: reset,
            graph_bytes: 0,
            vector_bytes: (n * base.dim * std::mem::size_of::<f32>()) as u64,
            threads: rayon::current_num_threads(),
        };
        Ok((Self { index, n }, report))
    }
}

impl Searcher for HnswRsBaseline {
    fn search(
        &self,
        query: &[f32],
        allowed: Option<&RoaringBitmap>,
        k: usize,
        ef: usize,
        _strategy: Strategy,
    ) -> Result<(Vec<u32>, &'static str)> {
        let mut q = query.to_vec();
        self.index.metric().prepare(&mut q);
        let dense = allowed.map(|a| DenseIdSet::from_roaring(a, None, self.n));
        let hits = self.index.search(&q, k, ef.max(1), dense.as_ref());
        Ok((hits.iter().map(|h| h.id).collect(), "hnsw_rs"))
    }
}

/// Inverse of [`to_nonnegative`].
#[inline]
fn from_nonnegative(y: f32) -> f32 {
    if y >= 1.0 {
        y - 1.0
    } else {
        1.0 - 1.0 / y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grove_index::{flat, VectorStore};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn transform_is_strictly_increasing_and_invertible() {
        let xs = [-1e6f32, -100.0, -2.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 2.0, 100.0, 1e6];
        for w in xs.windows(2) {
            assert!(to_nonnegative(w[0]) < to_nonnegative(w[1]), "{w:?}");
        }
        for x in xs {
            assert!(to_nonnegative(x) > 0.0);
            let back = from_nonnegative(to_nonnegative(x));
            assert!((back - x).abs() <= 1e-4 * x.abs().max(1.0), "{x} -> {back}");
        }
    }

    /// Oracle: recall@10 of hnsw_rs (with our kernels) against exact search, unfiltered and with
    /// a 30% filter, for the dot metric (negative internal distances) and L2.
    #[test]
    fn recall_against_exact() {
        for metric in [Metric::Dot, Metric::L2] {
            let (n, dim) = (2000, 16);
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let mut store = VectorStore::new(dim);
            for _ in 0..n {
                let v: Vec<f32> = (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect();
                store.push(&v);
            }
            let idx = HnswRsIndex::new(&GraphParams::default(), metric, dim, n).unwrap();
            let items: Vec<(u32, &[f32])> = (0..n as u32).map(|i| (i, store.get(i))).collect();
            idx.insert_batch(&items);
            assert_eq!(idx.len(), n);
            let allow_bm: roaring::RoaringBitmap = (0..n as u32).filter(|i| i % 10 < 3).collect();
            let allow = DenseIdSet::from_roaring(&allow_bm, None, n);
            let (mut hit, mut total) = (0usize, 0usize);
            for _ in 0..50 {
                let q: Vec<f32> = (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect();
                for filtered in [false, true] {
                    let (got, truth) = if filtered {
                        (
                            idx.search(&q, 10, 64, Some(&allow)),
                            flat::search(&store, metric, &q, 10, flat::Allowed::Bitmap(&allow_bm), None),
                        )
                    } else {
                        (
                            idx.search(&q, 10, 64, None),
                            flat::search(&store, metric, &q, 10, flat::Allowed::All { dead: None }, None),
                        )
                    };
                    assert!(got.iter().all(|h| !filtered || allow.contains(h.id)));
                    for h in &got {
                        let want = metric.distance(&q, store.get(h.id));
                        assert!((h.dist - want).abs() <= 1e-4 * want.abs().max(1.0));
                    }
                    total += truth.hits.len();
                    hit += truth.hits.iter().filter(|t| got.iter().any(|g| g.id == t.id)).count();
                }
            }
            let recall = hit as f64 / total as f64;
            assert!(recall >= 0.95, "{metric:?}: recall@10 {recall}");
        }
    }
}
