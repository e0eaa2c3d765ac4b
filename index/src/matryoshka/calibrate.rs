//! Calibration: which `(prefix, oversample)` meets a recall target at the least cost, measured
//! on the collection's own vectors.
//!
//! A seeded sample of stored live points (allowed by the filter, when one is given) serves as
//! queries. For each, the truth is the exact full-dimension top-k over the allowed points; each
//! setting's recall@k is measured against it. The query point itself is excluded from both
//! lists (it is its own nearest neighbour at every prefix, which would flatter every setting).
//!
//! Cost is counted in *components compared per query* (Σ over stages of distances × the
//! stage's dimension): deterministic, unlike time on a shared machine, and proportional to
//! the memory a scan reads. Time per query is reported too. The recommendation is the cheapest
//! setting whose mean recall meets the target; `None` when none does (use a larger prefix or
//! oversample, or the full dimension).

use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use super::{MatryoshkaQuery, PrefixPath};
use crate::stop::Stop;
use crate::{CollectionIndex, IndexError, Result, SearchParams, Strategy};

/// Most stored points a calibration may use as queries (`sample`).
pub const MAX_SAMPLE: usize = 10_000;
/// Most oversampling factors one calibration may try (`oversamples`).
pub const MAX_OVERSAMPLES: usize = 16;
/// Largest `k` of recall@k a calibration may measure (`k`).
pub const MAX_K: usize = 100;

/// What to calibrate.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRequest {
    /// Stored points used as queries (fewer when the collection or filter has fewer).
    pub sample: usize,
    /// Seed of the sample.
    pub seed: u64,
    /// `k` of recall@k.
    pub k: usize,
    /// Mean recall@k a setting must reach to be recommended.
    pub target_recall: f64,
    /// Prefixes to try; empty tries every declared prefix.
    pub dims: Vec<usize>,
    /// Oversampling factors to try.
    pub oversamples: Vec<usize>,
    /// Restrict queries and results to these internal ids.
    pub filter: Option<RoaringBitmap>,
    /// How the first stage searches.
    pub path: PrefixPath,
}

impl Default for CalibrationRequest {
    /// 200 queries, seed 42, recall@10 >= 0.95, every declared prefix, oversample 1..32.
    fn default() -> Self {
        Self {
            sample: 200,
            seed: 42,
            k: 10,
            target_recall: 0.95,
            dims: Vec::new(),
            oversamples: vec![1, 2, 4, 8, 16, 32],
            filter: None,
            path: PrefixPath::Auto,
        }
    }
}

/// One measured setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRow {
    /// First-stage prefix (the full dimension for the exact baseline).
    pub dim: usize,
    /// Oversampling factor.
    pub oversample: usize,
    /// Mean recall@k against exact full-dimension search.
    pub recall: f64,
    /// Lowest recall@k of any query.
    pub min_recall: f64,
    /// Mean distances computed per query.
    pub distances: f64,
    /// Mean components compared per query (Σ distances × dimension over the stages).
    pub cost: f64,
    /// Mean wall-clock microseconds per query (noisy on a shared machine).
    pub micros: f64,
}

/// The outcome of a calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Queries measured.
    pub queries: usize,
    /// `k`.
    pub k: usize,
    /// The target.
    pub target_recall: f64,
    /// The exact full-dimension scan (recall 1 by definition), the cost to beat.
    pub exact: CalibrationRow,
    /// Every setting, in (dim, oversample) order.
    pub rows: Vec<CalibrationRow>,
    /// The cheapest setting meeting the target, if any.
    pub recommended: Option<CalibrationRow>,
}

/// Up to `n` of `ids` chosen with `seed`, ascending.
pub fn sample_ids(ids: &[u32], n: usize, seed: u64) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = ids.to_vec();
    if n < v.len() {
        let (head, _) = v.partial_shuffle(&mut rng, n);
        let mut head = head.to_vec();
        head.sort_unstable();
        return head;
    }
    v.sort_unstable();
    v
}

/// Runs a calibration on `index` (see the module docs).
///
/// `stop` is polled in every search (and between them): when it fires the calibration ends
/// with `Err(IndexError::Stopped)`, not a report over fewer queries.
pub fn run(index: &CollectionIndex, req: &CalibrationRequest, stop: &Stop) -> Result<CalibrationReport> {
    let bad = |name: &'static str, reason: String| Err(IndexError::InvalidParameter { name, reason });
    let declared = index.matryoshka_dims();
    if declared.is_empty() {
        return bad("dims", "the collection declares no Matryoshka prefixes".into());
    }
    if req.sample == 0 || req.sample > MAX_SAMPLE {
        return bad("sample", format!("must be between 1 and {MAX_SAMPLE}, got {}", req.sample));
    }
    if req.k == 0 || req.k > MAX_K {
        return bad("k", format!("must be between 1 and {MAX_K}, got {}", req.k));
    }
    if !(0.0..=1.0).contains(&req.target_recall) {
        return bad("target_recall", format!("{} is outside 0..=1", req.target_recall));
    }
    if req.oversamples.is_empty() || req.oversamples.len() > MAX_OVERSAMPLES {
        return bad(
            "oversamples",
            format!("give between 1 and {MAX_OVERSAMPLES} factors, got {}", req.oversamples.len()),
        );
    }
    if let Some(o) = req.oversamples.iter().find(|&&o| o == 0 || o > super::MAX_OVERSAMPLE) {
        return bad(
            "oversamples",
            format!("each factor must be between 1 and {}, got {o}", super::MAX_OVERSAMPLE),
        );
    }
    let dims = if req.dims.is_empty() { declared.clone() } else { req.dims.clone() };
    if let Some(d) = dims.iter().find(|d| !declared.contains(d)) {
        return bad("dims", format!("prefix {d} is not declared ({declared:?})"));
    }
    let full = index.config().dim;
    let dead = index.deleted();
    let n = index.len() as u32;
    let candidates: Vec<u32> = match &req.filter {
        Some(f) => f.iter().filter(|&id| id < n && !dead.contains(id)).collect(),
        None => (0..n).filter(|&id| !dead.contains(id)).collect(),
    };
    let ids = sample_ids(&candidates, req.sample, req.seed);
    let queries: Vec<(u32, Vec<f32>)> =
        ids.iter().filter_map(|&id| index.vector(id).map(|v| (id, v))).collect();
    if queries.is_empty() {
        return bad("sample", "no live point (allowed by the filter) to use as a query".into());
    }
    let k = req.k;
    let filter = req.filter.as_ref();
    let exact_params = SearchParams { k: k + 1, strategy: Strategy::Exact, ..Default::default() };
    let minus_self = |id: u32, hits: &[crate::Neighbor]| -> Vec<u32> {
        hits.iter().map(|h| h.id).filter(|&h| h != id).take(k).collect()
    };
    let mut truth = Vec::with_capacity(queries.len());
    let t0 = Instant::now();
    let mut exact_dist = 0u64;
    for (id, v) in &queries {
        stop.check()?;
        let out = index.search_stoppable(v, filter, &exact_params, stop)?;
        exact_dist += out.explain.distances_computed;
        truth.push(minus_self(*id, &out.hits));
    }
    let nq = queries.len() as f64;
    let exact = CalibrationRow {
        dim: full,
        oversample: 1,
        recall: 1.0,
        min_recall: 1.0,
        distances: exact_dist as f64 / nq,
        cost: exact_dist as f64 * full as f64 / nq,
        micros: t0.elapsed().as_secs_f64() * 1e6 / nq,
    };
    let params = SearchParams { k: k + 1, ..Default::default() };
    let mut rows = Vec::new();
    for &dim in &dims {
        for &oversample in &req.oversamples {
            let mq = MatryoshkaQuery { dim, oversample, funnel: Vec::new(), path: req.path };
            let (mut sum, mut min, mut dist, mut cost) = (0.0, 1.0f64, 0u64, 0u64);
            let t0 = Instant::now();
            for ((id, v), t) in queries.iter().zip(&truth) {
                stop.check()?;
                let out = index.search_matryoshka_stoppable(v, filter, &params, &mq, stop)?;
                let got = minus_self(*id, &out.hits);
                let r = if t.is_empty() {
                    1.0
                } else {
                    got.iter().filter(|g| t.contains(g)).count() as f64 / t.len() as f64
                };
                sum += r;
                min = min.min(r);
                for s in &out.explain.matryoshka {
                    dist += s.distances_computed;
                    cost += s.distances_computed * s.dim as u64;
                }
            }
            rows.push(CalibrationRow {
                dim,
                oversample,
                recall: sum / nq,
                min_recall: min,
                distances: dist as f64 / nq,
                cost: cost as f64 / nq,
                micros: t0.elapsed().as_secs_f64() * 1e6 / nq,
            });
        }
    }
    let recommended = rows
        .iter()
        .filter(|r| r.recall >= req.target_recall && r.cost < exact.cost)
        .min_by(|a, b| a.cost.total_cmp(&b.cost).then(a.micros.total_cmp(&b.micros)))
        .cloned();
    Ok(CalibrationReport {
        queries: queries.len(),
        k,
        target_recall: req.target_recall,
        exact,
        rows,
        recommended,
    })
}
