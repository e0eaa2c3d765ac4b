//! Top-k subset diagnostic: for each query with a relevant set R, is a miss the index's fault, the
//! query encoder's, or the geometry's?
//!
//! Per query:
//! 1. exact scan over the allowed ids: recall@k for each requested k, and whether the exact
//!    top-|R| *is* R;
//! 2. through the caller's index (an ANN search passed as a closure): recall@k again — the
//!    difference to (1) is index loss;
//! 3. when the exact top-|R| is not R, whether *any* single query vector could return exactly R:
//!    a hull separation check of R against the nearest competitors ([`super::hull`]), whose
//!    witness direction is then confirmed by a **full scan** over every allowed point (competitors
//!    that the witness lets in are added and the check repeats — a cutting-plane loop, so the
//!    candidate shortlist never decides the answer on its own).
//!
//! Labels ([`Label`]): `hit` (exact and index top-|R| are R), `index_miss` (exact top-|R| is R,
//! the index's is not), `encoder_gap` (R is returnable — a witness query was confirmed by full
//! scan with margin above the quantisation bound — but this query's vector misses it),
//! `geometry_gap` (the hulls of R and of some competitors intersect within tolerance: no single
//! vector can return R), `fragile` (returnable, but no vector can separate R by more than the
//! quantisation error bound), `undetermined` (budget, iteration cap or a case the check does not
//! cover; never a guess).
//!
//! Metrics. Dot and cosine rank by `<q, v>`; a query's length does not change its ranking, so the
//! separability of R is exactly the disjointness of `conv(R)` and `conv(C)` and margins are in
//! units of a unit-length query. For L2 the ranking by `‖q − v‖²` equals the ranking by
//! `<(q, 1), (v, −‖v‖²/2)>`, so the check runs on those lifted points; a separating direction
//! `(w, s)` is a point query `w / s` only when `s > 0`; otherwise R's centroid is tried as the
//! witness, and if no candidate is confirmed the case is reported undetermined (a hull
//! intersection still proves a geometry gap, as no direction at all separates).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::hull::{hull_distance, HullConfig, HullVerdict};
use super::Budget;
use crate::distance::scalar;
use crate::{IndexError, Metric, Neighbor, Result, TopK, VectorStore};

/// Which stored ids a query may return (the filter minus tombstones, as the caller computed it).
#[derive(Debug, Clone, Copy)]
pub enum Allowed<'a> {
    /// Every row of the store.
    All,
    /// The ids in a roaring bitmap.
    Bitmap(&'a RoaringBitmap),
    /// The ids in a slice (duplicates are ignored).
    Ids(&'a [u32]),
}

/// One query: its vector (as the encoder produced it; it is prepared for the metric here) and the
/// ids of its relevant documents.
#[derive(Debug, Clone, Copy)]
pub struct SubsetQuery<'a> {
    /// The query vector.
    pub vector: &'a [f32],
    /// Relevant internal ids (duplicates are ignored; must be non-empty and allowed).
    pub relevant: &'a [u32],
}

/// The storage precision whose rounding a realisable set's margin must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantization {
    /// f32 storage: only kernel rounding (`d · 2⁻²⁴ · ‖v‖`).
    F32,
    /// f16: relative rounding `2⁻¹¹` per component (normal range), so `‖e‖ ≤ 2⁻¹¹ ‖v‖`.
    F16,
    /// bf16: relative rounding `2⁻⁸` per component, `‖e‖ ≤ 2⁻⁸ ‖v‖`.
    Bf16,
    /// int8 with a symmetric per-vector scale `max|vᵢ| / 127`, round to nearest:
    /// `‖e‖ ≤ √d · max|vᵢ| / 254`.
    Int8,
}

impl Quantization {
    /// An upper bound on `‖v − stored(v)‖` (plus f32 kernel rounding) for one vector.
    pub fn vector_error(self, v: &[f32]) -> f64 {
        let norm = scalar::dot(v, v).sqrt();
        let d = v.len() as f64;
        let kernel = d * f64::from(f32::EPSILON) * 0.5 * norm;
        kernel
            + match self {
                Quantization::F32 => 0.0,
                Quantization::F16 => norm * 2f64.powi(-11),
                Quantization::Bf16 => norm * 2f64.powi(-8),
                Quantization::Int8 => {
                    let max = v.iter().fold(0.0f64, |m, x| m.max((*x as f64).abs()));
                    d.sqrt() * max / 254.0
                }
            }
    }
}

/// Knobs of [`diagnose`]. Defaults: k ∈ {2, 10, 100}, 300 competitors, 8 cutting-plane rounds,
/// every query, no time limit, f32 storage.
#[derive(Debug, Clone)]
pub struct SubsetConfig {
    /// The k of recall@k.
    pub ks: Vec<usize>,
    /// Competitors (nearest non-relevant points to R's centroid) in the first hull check.
    pub competitors: usize,
    /// Cutting-plane rounds (hull check + full-scan confirmation) before giving up.
    pub max_rounds: usize,
    /// Diagnose a seeded random sample of this many queries (`None` = all).
    pub sample: Option<usize>,
    /// Seed of the sample.
    pub seed: u64,
    /// Wall-clock limit; queries not finished in time are `undetermined`.
    pub time_budget: Option<Duration>,
    /// Storage precision whose rounding defines `fragile`.
    pub quantization: Quantization,
    /// Hull solver stopping rules.
    pub hull: HullConfig,
    /// Raised by the caller to stop early: queries not finished become `undetermined`.
    pub cancel: Option<super::CancelFlag>,
}

impl Default for SubsetConfig {
    fn default() -> Self {
        Self {
            ks: vec![2, 10, 100],
            competitors: 300,
            max_rounds: 8,
            sample: None,
            seed: 0,
            time_budget: None,
            quantization: Quantization::F32,
            hull: HullConfig::default(),
            cancel: None,
        }
    }
}

/// The caller's index search: `(prepared query, k) -> ids, best first`.
pub type IndexSearch<'a> = dyn Fn(&[f32], usize) -> Vec<u32> + Sync + 'a;

/// Progress of a run (sent after each query).
#[derive(Debug, Clone, Copy)]
pub struct SubsetProgress {
    /// Queries finished.
    pub done: usize,
    /// Queries to diagnose.
    pub total: usize,
}

/// Why a query was labelled as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    /// Exact top-|R| is R, and so is the index's (or no index was given).
    Hit,
    /// Exact top-|R| is R, the index's is not: index loss.
    IndexMiss,
    /// R is returnable by some query vector (confirmed by full scan, margin above the
    /// quantisation bound), but this query misses it: the encoder's fault.
    EncoderGap,
    /// No single vector returns R: the hulls intersect within tolerance.
    GeometryGap,
    /// R is returnable, but no vector separates it by more than the quantisation error bound.
    Fragile,
    /// Not decided (budget, iteration cap, or a case the check does not cover): see `reason`.
    Undetermined,
}

impl Label {
    /// Every label, in report order.
    pub const ALL: [Label; 6] = [
        Label::Hit,
        Label::IndexMiss,
        Label::EncoderGap,
        Label::GeometryGap,
        Label::Fragile,
        Label::Undetermined,
    ];

    /// Snake-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Hit => "hit",
            Label::IndexMiss => "index_miss",
            Label::EncoderGap => "encoder_gap",
            Label::GeometryGap => "geometry_gap",
            Label::Fragile => "fragile",
            Label::Undetermined => "undetermined",
        }
    }
}

/// The diagnosis of one query.
#[derive(Debug, Clone)]
pub struct QueryDiagnosis {
    /// Position of the query in the input slice.
    pub query: usize,
    /// |R| after removing duplicates.
    pub relevant: usize,
    /// recall@k by exact scan (`|top-k ∩ R| / |R|`), one per configured k; `None` if the budget
    /// ran out before the query was scanned.
    pub recall_exact: Option<Vec<f64>>,
    /// recall@k through the index (when an index was given).
    pub recall_index: Option<Vec<f64>>,
    /// Whether the exact top-|R| set equals R.
    pub exact_top_is_relevant: Option<bool>,
    /// Whether the index's top-|R| set equals R.
    pub index_top_is_relevant: Option<bool>,
    /// The label.
    pub label: Label,
    /// Largest separation margin *proved* for R (unit query; lifted units for L2) — the confirmed
    /// witness's margin over the full scan. `None` when no witness was confirmed.
    pub margin: Option<f64>,
    /// Upper bound on any query's margin for R (0 within tolerance for a geometry gap).
    pub margin_upper: Option<f64>,
    /// A confirmed witness query that returns exactly R as top-|R| (for encoder gaps and fragile).
    pub witness: Option<Vec<f32>>,
    /// Competitors in the last hull check.
    pub competitors: usize,
    /// Hull rounds run (initial check plus cutting-plane repeats).
    pub rounds: usize,
    /// Why the query is undetermined (or other notes).
    pub reason: Option<String>,
}

/// The diagnosis of a set of queries.
#[derive(Debug, Clone)]
pub struct SubsetReport {
    /// The k of recall@k.
    pub ks: Vec<usize>,
    /// Queries given.
    pub total_queries: usize,
    /// Per diagnosed query (the sample), in input order.
    pub queries: Vec<QueryDiagnosis>,
    /// Mean exact recall@k over queries that were scanned.
    pub mean_recall_exact: Vec<f64>,
    /// Mean recall@k through the index over the same queries.
    pub mean_recall_index: Option<Vec<f64>>,
    /// `mean_recall_exact − mean_recall_index` per k.
    pub index_loss: Option<Vec<f64>>,
    /// Count per label, in [`Label::ALL`] order.
    pub label_counts: Vec<(Label, usize)>,
    /// Margin below which a realisable set is `fragile` (`2 · max ‖v − stored(v)‖`, lifted units
    /// for L2).
    pub quantization_bound: f64,
    /// Whether the time budget ran out.
    pub budget_exhausted: bool,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl SubsetReport {
    /// Number of queries with `label`.
    pub fn count(&self, label: Label) -> usize {
        self.label_counts.iter().find(|(l, _)| *l == label).map_or(0, |(_, c)| *c)
    }
}

/// Runs the diagnostic (see module docs). `index`, when given, is called with the prepared query
/// and `max(max k, |R|)`.
///
/// Queries run in parallel on the rayon pool; `progress` is called from worker threads.
pub fn diagnose(
    store: &VectorStore,
    metric: Metric,
    allowed: Allowed<'_>,
    queries: &[SubsetQuery<'_>],
    index: Option<&IndexSearch<'_>>,
    cfg: &SubsetConfig,
    progress: &(dyn Fn(SubsetProgress) + Sync),
) -> Result<SubsetReport> {
    let started = Instant::now();
    if cfg.ks.is_empty() || cfg.ks.contains(&0) {
        return Err(IndexError::InvalidParameter {
            name: "ks",
            reason: "give at least one k, each > 0".into(),
        });
    }
    let dim = store.dim();
    let n = store.len();
    let ids: Vec<u32> = match allowed {
        Allowed::All => (0..n as u32).collect(),
        Allowed::Bitmap(b) => b.iter().filter(|&i| (i as usize) < n).collect(),
        Allowed::Ids(s) => {
            let mut v: Vec<u32> = s.iter().copied().filter(|&i| (i as usize) < n).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
    };
    let allowed_set: HashSet<u32> = ids.iter().copied().collect();
    for (qi, q) in queries.iter().enumerate() {
        crate::error::validate_vector(q.vector, dim)?;
        if q.relevant.is_empty() {
            return Err(IndexError::InvalidParameter {
                name: "relevant",
                reason: format!("query {qi} has an empty relevant set"),
            });
        }
        if let Some(bad) = q.relevant.iter().find(|r| !allowed_set.contains(r)) {
            return Err(IndexError::InvalidParameter {
                name: "relevant",
                reason: format!("query {qi}: relevant id {bad} is not a stored, allowed point"),
            });
        }
    }

    let chosen: Vec<usize> = match cfg.sample {
        Some(s) if s < queries.len() => {
            let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
            let mut v = rand::seq::index::sample(&mut rng, queries.len(), s).into_vec();
            v.sort_unstable();
            v
        }
        _ => (0..queries.len()).collect(),
    };

    let ctx = Ctx {
        store,
        metric,
        ids: &ids,
        cfg,
        budget: Budget::new(cfg.time_budget).with_cancel(cfg.cancel.clone()),
        quant_bound: 2.0
            * ids
                .iter()
                .map(|&i| lifted_error(metric, cfg.quantization, store.get(i)))
                .fold(0.0f64, f64::max),
    };
    let done = AtomicUsize::new(0);
    let total = chosen.len();
    let diagnoses: Vec<QueryDiagnosis> = chosen
        .par_iter()
        .map(|&qi| {
            let d = ctx.diagnose_one(qi, &queries[qi], index);
            let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress(SubsetProgress { done: finished, total });
            d
        })
        .collect();

    let scanned: Vec<&QueryDiagnosis> = diagnoses.iter().filter(|d| d.recall_exact.is_some()).collect();
    let mean = |get: &dyn Fn(&QueryDiagnosis) -> Option<&Vec<f64>>| -> Option<Vec<f64>> {
        let rows: Vec<&Vec<f64>> = scanned.iter().filter_map(|d| get(d)).collect();
        if rows.is_empty() {
            return None;
        }
        Some((0..cfg.ks.len()).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / rows.len() as f64).collect())
    };
    let mean_recall_exact = mean(&|d| d.recall_exact.as_ref()).unwrap_or_else(|| vec![0.0; cfg.ks.len()]);
    let mean_recall_index = if index.is_some() { mean(&|d| d.recall_index.as_ref()) } else { None };
    let index_loss =
        mean_recall_index.as_ref().map(|ix| mean_recall_exact.iter().zip(ix).map(|(e, i)| e - i).collect());
    let label_counts =
        Label::ALL.iter().map(|&l| (l, diagnoses.iter().filter(|d| d.label == l).count())).collect();
    Ok(SubsetReport {
        ks: cfg.ks.clone(),
        total_queries: queries.len(),
        queries: diagnoses,
        mean_recall_exact,
        mean_recall_index,
        index_loss,
        label_counts,
        quantization_bound: ctx.quant_bound,
        budget_exhausted: ctx.budget.exhausted(),
        elapsed: started.elapsed(),
    })
}

/// Bound on how far quantising `v` moves its lifted point (the point the hull check sees).
fn lifted_error(metric: Metric, q: Quantization, v: &[f32]) -> f64 {
    let e = q.vector_error(v);
    match metric {
        Metric::Cosine | Metric::Dot => e,
        // (e, −<v,e> − ‖e‖²/2): norm ≤ ‖e‖ (1 + ‖v‖ + ‖e‖/2).
        Metric::L2 => e * (1.0 + scalar::dot(v, v).sqrt() + e / 2.0),
    }
}

struct Ctx<'a> {
    store: &'a VectorStore,
    metric: Metric,
    ids: &'a [u32],
    cfg: &'a SubsetConfig,
    budget: Budget,
    quant_bound: f64,
}

/// Outcome of the separation analysis of one relevant set.
struct Separation {
    label: Label,
    margin: Option<f64>,
    margin_upper: Option<f64>,
    witness: Option<Vec<f32>>,
    competitors: usize,
    rounds: usize,
    reason: Option<String>,
}

impl Ctx<'_> {
    fn scan(&self, q: &[f32], k: usize, exclude: Option<&HashSet<u32>>) -> Vec<Neighbor> {
        let mut top = TopK::new(k);
        for &id in self.ids {
            if exclude.is_some_and(|e| e.contains(&id)) {
                continue;
            }
            let d = self.metric.distance(self.store.get(id), q);
            if d <= top.bound() {
                top.push(Neighbor::new(id, d));
            }
        }
        top.into_sorted_vec()
    }

    /// The point the hull check sees for stored row `id` (lifted for L2).
    fn lifted(&self, id: u32) -> Vec<f32> {
        let v = self.store.get(id);
        let mut p = v.to_vec();
        if self.metric == Metric::L2 {
            p.push((-scalar::dot(v, v) / 2.0) as f32);
        }
        p
    }

    fn diagnose_one(
        &self,
        qi: usize,
        query: &SubsetQuery<'_>,
        index: Option<&IndexSearch<'_>>,
    ) -> QueryDiagnosis {
        let mut relevant: Vec<u32> = query.relevant.to_vec();
        relevant.sort_unstable();
        relevant.dedup();
        let rel: HashSet<u32> = relevant.iter().copied().collect();
        let mut out = QueryDiagnosis {
            query: qi,
            relevant: relevant.len(),
            recall_exact: None,
            recall_index: None,
            exact_top_is_relevant: None,
            index_top_is_relevant: None,
            label: Label::Undetermined,
            margin: None,
            margin_upper: None,
            witness: None,
            competitors: 0,
            rounds: 0,
            reason: None,
        };
        if self.budget.exhausted() {
            out.reason = Some("time budget exhausted before this query".into());
            return out;
        }
        let mut q = query.vector.to_vec();
        self.metric.prepare(&mut q);
        let kmax = self.cfg.ks.iter().copied().max().unwrap_or(1).max(relevant.len());
        let exact: Vec<u32> = self.scan(&q, kmax, None).into_iter().map(|n| n.id).collect();
        let recall = |list: &[u32]| -> Vec<f64> {
            self.cfg
                .ks
                .iter()
                .map(|&k| list.iter().take(k).filter(|id| rel.contains(id)).count() as f64 / rel.len() as f64)
                .collect()
        };
        let top_is_r =
            |list: &[u32]| list.len() >= rel.len() && list[..rel.len()].iter().all(|id| rel.contains(id));
        out.recall_exact = Some(recall(&exact));
        let exact_hit = top_is_r(&exact);
        out.exact_top_is_relevant = Some(exact_hit);
        let mut index_hit = None;
        if let Some(search) = index {
            let got = search(&q, kmax);
            out.recall_index = Some(recall(&got));
            index_hit = Some(top_is_r(&got));
            out.index_top_is_relevant = index_hit;
        }
        if exact_hit {
            out.label = if index_hit == Some(false) { Label::IndexMiss } else { Label::Hit };
            return out;
        }
        let s = self.separate(&relevant, &rel, &exact);
        out.label = s.label;
        out.margin = s.margin;
        out.margin_upper = s.margin_upper;
        out.witness = s.witness;
        out.competitors = s.competitors;
        out.rounds = s.rounds;
        out.reason = s.reason;
        out
    }

    /// Decides whether some single query returns exactly `relevant` (see module docs).
    fn separate(&self, relevant: &[u32], rel: &HashSet<u32>, exact: &[u32]) -> Separation {
        let mut sep = Separation {
            label: Label::Undetermined,
            margin: None,
            margin_upper: None,
            witness: None,
            competitors: 0,
            rounds: 0,
            reason: None,
        };
        let dim = self.store.dim();
        // First competitors: nearest non-relevant points to R's centroid, plus whatever beat R
        // for the actual query.
        let mut centroid = vec![0.0f32; dim];
        for &r in relevant {
            centroid.iter_mut().zip(self.store.get(r)).for_each(|(c, v)| *c += v / relevant.len() as f32);
        }
        self.metric.prepare(&mut centroid);
        let mut comp: Vec<u32> =
            self.scan(&centroid, self.cfg.competitors.max(1), Some(rel)).into_iter().map(|n| n.id).collect();
        let mut in_comp: HashSet<u32> = comp.iter().copied().collect();
        for id in exact.iter().filter(|id| !rel.contains(id)) {
            if in_comp.insert(*id) {
                comp.push(*id);
            }
        }
        if comp.is_empty() {
            sep.reason = Some("no competitors: every allowed point is relevant".into());
            return sep;
        }
        let r_pts: Vec<Vec<f32>> = relevant.iter().map(|&r| self.lifted(r)).collect();
        let mut c_pts: Vec<Vec<f32>> = comp.iter().map(|&c| self.lifted(c)).collect();
        let add_per_round = (self.cfg.competitors / 2).max(64);
        let mut best_upper = f64::INFINITY;

        for round in 0..self.cfg.max_rounds.max(1) {
            sep.rounds = round + 1;
            sep.competitors = c_pts.len();
            if self.budget.exhausted() {
                sep.reason = Some("time budget exhausted during the separation check".into());
                return sep;
            }
            let a: Vec<&[f32]> = r_pts.iter().map(|v| v.as_slice()).collect();
            let b: Vec<&[f32]> = c_pts.iter().map(|v| v.as_slice()).collect();
            let h = match hull_distance(&a, &b, &self.cfg.hull, &self.budget) {
                Ok(h) => h,
                Err(e) => {
                    sep.reason = Some(format!("hull check failed: {e}"));
                    return sep;
                }
            };
            best_upper = best_upper.min(h.upper);
            sep.margin_upper = Some(best_upper);
            match h.verdict {
                HullVerdict::Intersecting => {
                    sep.label = Label::GeometryGap;
                    sep.margin = None;
                    sep.reason = None;
                    return sep;
                }
                HullVerdict::Undetermined => {
                    sep.reason = Some(format!(
                        "hull check stopped after {} iterations without a certificate (margin in [{:.3e}, {:.3e}])",
                        h.iterations, h.lower, h.upper
                    ));
                    return sep;
                }
                HullVerdict::Separated => {}
            }
            // The witness query and its (lifted, unit) direction.
            let (witness, w): (Vec<f32>, Vec<f64>) = match self.metric {
                Metric::Dot | Metric::Cosine => {
                    (h.direction.iter().map(|x| *x as f32).collect(), h.direction.clone())
                }
                Metric::L2 if h.direction[dim] > 0.0 => {
                    let s = h.direction[dim];
                    (h.direction[..dim].iter().map(|x| (*x / s) as f32).collect(), h.direction.clone())
                }
                Metric::L2 => {
                    // The max-margin direction favours far points (no positive lift component),
                    // so it is not a point query. Try R's centroid instead, lifted direction
                    // (c, 1): a singleton is always returned by a query at the point itself.
                    let c: Vec<f32> = (0..dim)
                        .map(|j| {
                            relevant.iter().map(|&r| self.store.get(r)[j]).sum::<f32>()
                                / relevant.len() as f32
                        })
                        .collect();
                    let mut wl: Vec<f64> = c.iter().map(|v| f64::from(*v)).collect();
                    wl.push(1.0);
                    let norm = wl.iter().map(|v| v * v).sum::<f64>().sqrt();
                    wl.iter_mut().for_each(|v| *v /= norm);
                    (c, wl)
                }
            };
            let w = &w;
            // Full scan: the metric's own ranking decides confirmation; lifted scores give the
            // margin and the points that eat into it.
            let mut q = witness.clone();
            self.metric.prepare(&mut q);
            let top: Vec<u32> = self.scan(&q, relevant.len(), None).into_iter().map(|n| n.id).collect();
            let confirmed = top.len() == relevant.len() && top.iter().all(|id| rel.contains(id));
            // <w, lifted(v)> without materialising the lifted point (this runs over every point).
            let score = |id: u32| -> f64 {
                let v = self.store.get(id);
                let base: f64 = w.iter().zip(v).map(|(a, b)| a * *b as f64).sum();
                match self.metric {
                    Metric::Dot | Metric::Cosine => base,
                    Metric::L2 => base - w[dim] * scalar::dot(v, v) / 2.0,
                }
            };
            let min_r = relevant.iter().map(|&r| score(r)).fold(f64::INFINITY, f64::min);
            let mut max_c = f64::NEG_INFINITY;
            let mut eaters: Vec<(f64, u32)> = Vec::new();
            for &id in self.ids {
                if rel.contains(&id) {
                    continue;
                }
                let s = score(id);
                max_c = max_c.max(s);
                if !in_comp.contains(&id) && s > min_r - h.lower.max(0.0) * (1.0 - 1e-6) {
                    eaters.push((s, id));
                }
            }
            let full_margin = min_r - max_c;
            if confirmed && full_margin > 0.0 {
                sep.margin = Some(sep.margin.map_or(full_margin, |m: f64| m.max(full_margin)));
                sep.witness = Some(witness);
                let margin = sep.margin.unwrap_or(full_margin);
                if margin >= self.quant_bound {
                    sep.label = Label::EncoderGap;
                    sep.reason = None;
                    return sep;
                }
                if best_upper < self.quant_bound {
                    sep.label = Label::Fragile;
                    sep.reason = None;
                    return sep;
                }
                if eaters.is_empty() {
                    sep.label = Label::Undetermined;
                    sep.reason = Some(format!(
                        "returnable, but the best margin {margin:.3e} is within solver tolerance of the \
                         quantisation bound {:.3e}",
                        self.quant_bound
                    ));
                    return sep;
                }
            } else if eaters.is_empty() {
                sep.reason = Some(format!(
                    "witness not confirmed by the full scan (lifted margin {full_margin:.3e}) and no new \
                     competitor to add{}",
                    if self.metric == Metric::L2 {
                        " (L2: no point query found among the candidates tried)"
                    } else {
                        ": rounding at the scale of the margin"
                    }
                ));
                return sep;
            }
            // Cutting plane: add the strongest outside competitors and repeat.
            eaters.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for &(_, id) in eaters.iter().take(add_per_round) {
                in_comp.insert(id);
                c_pts.push(self.lifted(id));
            }
        }
        sep.competitors = c_pts.len();
        sep.reason = Some(format!("no decision after {} cutting-plane rounds", self.cfg.max_rounds));
        sep
    }
}
