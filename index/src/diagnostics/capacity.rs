//! Free-embedding capacity probe: how many documents can a d-dimensional single-vector retriever
//! serve when *every* k-subset must be some query's top-k?
//!
//! Following Weller et al. (2025, arXiv 2508.21038, free-embedding experiment), query and document
//! vectors are free parameters optimised directly on the qrels — no encoder, no text — with
//! full-batch InfoNCE (every document is a negative of every query; temperature 0.1), Adam
//! (lr 0.01), and every vector re-normalised to unit length after each step. A qrel is *realised*
//! when the query's top-k is exactly its relevant set (every relevant score strictly above every
//! other). critical-n is the largest n for which all C(n, k) subsets are realised; it is searched
//! by growing n until a probe fails, then bisecting, each failure confirmed by restarts with other
//! seeds.
//!
//! What a result means: "realised" is proved (the returned embeddings realise every qrel); "not
//! realised" means the optimiser did not get there within its step and plateau limits — exact
//! geometry can do better (see [`super::bounds::exact_sufficient_dimension`]), which is why the
//! curve describes what gradient-based training reaches, not hard capacity.
//!
//! Loss per query q with relevant set R and scores `s_j = <q, d_j> / τ`: InfoNCE once per relevant
//! document, every document in the softmax, `L_q = (1/|R|) Σ_{r∈R} (log Σ_j e^{s_j} − s_r)`,
//! averaged over queries. (The variant `−log Σ_{r∈R} p_r` is not used: it is minimised by putting
//! all the mass on one relevant document, leaving the others below negatives — measured here: loss
//! 4e-4 with 7 of 15 pairs realised at n = 6, d = 4.) Gradients are computed in
//! closed form; the per-query work is spread over the rayon pool, and every reduction runs in a
//! fixed order so that a seed gives the same result on any number of threads.

use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::bounds::{exact_sufficient_dimension, weller_fit_critical_n};
use super::{check_positive, gaussian, Budget};
use crate::{IndexError, Result};

/// How relevant sets are laid out over n documents (the patterns of Weller et al., §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrelPattern {
    /// Every k-subset of the n documents: C(n, k) queries (the critical-n pattern).
    AllSubsets,
    /// `queries` distinct k-subsets drawn uniformly (seeded).
    Random {
        /// Number of queries.
        queries: usize,
    },
    /// n queries, query i relevant to documents i, i+1, …, i+k−1 (mod n).
    Cycle,
    /// ⌊n/k⌋ queries over disjoint blocks of k documents.
    Disjoint,
    /// LIMIT's pattern: `queries` k-subsets taken in lexicographic order from the smallest prefix
    /// of documents that has that many (1,000 pairs need 46 documents), so the relevant sets are as
    /// interconnected as possible.
    Dense {
        /// Number of queries.
        queries: usize,
    },
}

/// Largest number of qrels a pattern may generate (memory guard: scores are `queries × n`).
pub const MAX_QUERIES: usize = 2_000_000;

impl QrelPattern {
    /// The relevant sets for `n` documents and `k` relevant per query.
    pub fn qrels(&self, n: usize, k: usize, seed: u64) -> Result<Vec<Vec<u32>>> {
        if k == 0 || k > n {
            return Err(IndexError::InvalidParameter {
                name: "k",
                reason: format!("need 0 < k <= n, got k = {k}, n = {n}"),
            });
        }
        match self {
            QrelPattern::AllSubsets => {
                let count = binomial(n, k);
                if count > MAX_QUERIES as u128 {
                    return Err(IndexError::InvalidParameter {
                        name: "n",
                        reason: format!("C({n}, {k}) = {count} qrels exceeds the limit of {MAX_QUERIES}"),
                    });
                }
                Ok(combinations(n, k, usize::MAX))
            }
            QrelPattern::Dense { queries } => {
                let prefix = (k..=n).find(|&p| binomial(p, k) >= *queries as u128).ok_or_else(|| {
                    IndexError::InvalidParameter {
                        name: "queries",
                        reason: format!("{queries} k-subsets need more than the {n} documents given"),
                    }
                })?;
                Ok(combinations(prefix, k, *queries))
            }
            QrelPattern::Random { queries } => {
                if *queries as u128 > binomial(n, k) || *queries > MAX_QUERIES {
                    return Err(IndexError::InvalidParameter {
                        name: "queries",
                        reason: format!("{queries} distinct {k}-subsets of {n} documents do not exist or exceed the limit"),
                    });
                }
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::with_capacity(*queries);
                while out.len() < *queries {
                    let mut s: Vec<u32> =
                        rand::seq::index::sample(&mut rng, n, k).into_iter().map(|i| i as u32).collect();
                    s.sort_unstable();
                    if seen.insert(s.clone()) {
                        out.push(s);
                    }
                }
                Ok(out)
            }
            QrelPattern::Cycle => Ok((0..n)
                .map(|i| {
                    let mut s: Vec<u32> = (0..k).map(|j| ((i + j) % n) as u32).collect();
                    s.sort_unstable();
                    s
                })
                .collect()),
            QrelPattern::Disjoint => {
                Ok((0..n / k).map(|b| (b * k..b * k + k).map(|i| i as u32).collect()).collect())
            }
        }
    }
}

/// `n choose k` (saturating).
pub fn binomial(n: usize, k: usize) -> u128 {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c.saturating_mul((n - i) as u128) / (i as u128 + 1);
    }
    c
}

/// The first `limit` k-subsets of `0..n` in lexicographic order.
fn combinations(n: usize, k: usize, limit: usize) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut c: Vec<usize> = (0..k).collect();
    loop {
        if out.len() >= limit {
            break;
        }
        out.push(c.iter().map(|&i| i as u32).collect());
        // Advance: rightmost position that can still move.
        let Some(i) = (0..k).rev().find(|&i| c[i] < n - k + i) else { break };
        c[i] += 1;
        for j in i + 1..k {
            c[j] = c[j - 1] + 1;
        }
    }
    out
}

/// Optimisation settings. Defaults follow Weller et al. (τ = 0.1, Adam lr = 0.01); the step,
/// plateau and restart limits are ours and bound the cost of a failing probe.
#[derive(Debug, Clone)]
pub struct CapacityConfig {
    /// Embedding dimension d.
    pub dim: usize,
    /// Relevant documents per query.
    pub k: usize,
    /// InfoNCE temperature τ.
    pub temperature: f32,
    /// Adam learning rate.
    pub learning_rate: f32,
    /// Step cap per attempt.
    pub max_steps: usize,
    /// An attempt stops when neither the number of realised qrels nor the loss (by 0.1 %) has
    /// improved for this many steps.
    pub patience: usize,
    /// Attempts (different seeds) before a probe is declared not realised.
    pub restarts: usize,
    /// Base seed (attempt seeds are derived from it, n and the attempt number).
    pub seed: u64,
    /// Wall-clock limit for the whole probe or search.
    pub time_budget: Option<Duration>,
    /// Steps between progress reports.
    pub progress_every: usize,
    /// Return the embeddings of the best attempt.
    pub keep_embeddings: bool,
    /// Raised by the caller to stop early (treated like the budget running out).
    pub cancel: Option<super::CancelFlag>,
}

impl CapacityConfig {
    /// Paper settings for dimension `dim` and `k` relevant per query.
    pub fn new(dim: usize, k: usize) -> Self {
        Self {
            dim,
            k,
            temperature: 0.1,
            learning_rate: 0.01,
            max_steps: 5_000,
            patience: 500,
            restarts: 3,
            seed: 0,
            time_budget: None,
            progress_every: 100,
            keep_embeddings: false,
            cancel: None,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.dim == 0 {
            return Err(IndexError::InvalidParameter { name: "d", reason: "must be > 0".into() });
        }
        if self.k == 0 {
            return Err(IndexError::InvalidParameter { name: "k", reason: "must be > 0".into() });
        }
        if self.restarts == 0 || self.max_steps == 0 {
            return Err(IndexError::InvalidParameter {
                name: "restarts/max_steps",
                reason: "need at least one attempt of at least one step".into(),
            });
        }
        check_positive("temperature", f64::from(self.temperature))?;
        check_positive("learning_rate", f64::from(self.learning_rate))
    }
}

/// A progress report, sent every `progress_every` steps and at the end of each attempt.
#[derive(Debug, Clone, Copy)]
pub struct CapacityProgress {
    /// Documents in the probe.
    pub n: usize,
    /// Attempt number (0-based).
    pub attempt: usize,
    /// Step within the attempt.
    pub step: usize,
    /// Current mean loss.
    pub loss: f64,
    /// Qrels realised at this step.
    pub realised: usize,
    /// Qrels in the probe.
    pub queries: usize,
}

/// Why an attempt stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Every qrel realised.
    AllRealised,
    /// No improvement for `patience` steps.
    Plateau,
    /// `max_steps` reached.
    MaxSteps,
    /// The time budget ran out.
    Budget,
}

/// One optimisation run.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Seed of this attempt.
    pub seed: u64,
    /// Steps run.
    pub steps: usize,
    /// Most qrels realised at any step.
    pub best_realised: usize,
    /// Loss at the last step.
    pub final_loss: f64,
    /// Why it stopped.
    pub stop: StopReason,
    /// Wall time.
    pub elapsed: Duration,
}

/// Result of probing one qrel set.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    /// Documents.
    pub n: usize,
    /// Qrels.
    pub queries: usize,
    /// Whether some attempt realised every qrel (proved by those embeddings).
    pub all_realised: bool,
    /// Most qrels realised by any attempt.
    pub best_realised: usize,
    /// Whether the time budget cut the probe short (then a failure is inconclusive).
    pub budget_exhausted: bool,
    /// The attempts, in order.
    pub attempts: Vec<Attempt>,
    /// Wall time.
    pub elapsed: Duration,
    /// `(queries × d, n × d)` row-major embeddings at the *last* step of the attempt that
    /// realised the most qrels (when asked for). On a failed probe the last step may realise
    /// fewer qrels than `best_realised`, which counts the best step.
    pub embeddings: Option<(Vec<f32>, Vec<f32>)>,
}

/// Probes `n` documents with a generated qrel pattern.
pub fn probe(
    n: usize,
    pattern: &QrelPattern,
    cfg: &CapacityConfig,
    progress: &mut dyn FnMut(&CapacityProgress),
) -> Result<ProbeResult> {
    let qrels = pattern.qrels(n, cfg.k, cfg.seed)?;
    probe_qrels(n, &qrels, cfg, &Budget::new(cfg.time_budget).with_cancel(cfg.cancel.clone()), progress)
}

/// Probes caller-given qrels over `n` documents (each set's ids must be `< n`; sets may differ in
/// size, "realised" then means top-|R| is R).
pub fn probe_qrels(
    n: usize,
    qrels: &[Vec<u32>],
    cfg: &CapacityConfig,
    budget: &Budget,
    progress: &mut dyn FnMut(&CapacityProgress),
) -> Result<ProbeResult> {
    cfg.validate()?;
    if qrels.is_empty() {
        return Err(IndexError::InvalidParameter { name: "qrels", reason: "no queries".into() });
    }
    for (i, r) in qrels.iter().enumerate() {
        if r.is_empty() || r.len() >= n || r.iter().any(|&id| id as usize >= n) {
            return Err(IndexError::InvalidParameter {
                name: "qrels",
                reason: format!("query {i}: relevant ids must be non-empty, fewer than n = {n}, and < n"),
            });
        }
    }
    let started = Instant::now();
    let mut attempts = Vec::new();
    let mut best: Option<(usize, Vec<f32>, Vec<f32>)> = None;
    let mut all_realised = false;
    let mut budget_exhausted = false;
    for attempt in 0..cfg.restarts {
        let seed = attempt_seed(cfg.seed, n, attempt);
        let (a, q, d) = optimise(n, qrels, cfg, seed, attempt, budget, progress);
        let better = best.as_ref().is_none_or(|(b, _, _)| a.best_realised > *b);
        let stop = a.stop;
        if better && cfg.keep_embeddings {
            best = Some((a.best_realised, q, d));
        } else if better {
            best = Some((a.best_realised, Vec::new(), Vec::new()));
        }
        attempts.push(a);
        if stop == StopReason::AllRealised {
            all_realised = true;
            break;
        }
        if stop == StopReason::Budget {
            budget_exhausted = true;
            break;
        }
    }
    let best_realised = attempts.iter().map(|a| a.best_realised).max().unwrap_or(0);
    Ok(ProbeResult {
        n,
        queries: qrels.len(),
        all_realised,
        best_realised,
        budget_exhausted,
        attempts,
        elapsed: started.elapsed(),
        embeddings: best.filter(|_| cfg.keep_embeddings).map(|(_, q, d)| (q, d)),
    })
}

/// A well-mixed seed per (base seed, n, attempt) (SplitMix64 finaliser).
fn attempt_seed(seed: u64, n: usize, attempt: usize) -> u64 {
    let mut z = seed ^ ((n as u64) << 32) ^ (attempt as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn random_unit_rows(rows: usize, dim: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..rows * dim).map(|_| gaussian(rng) as f32).collect();
    normalise_rows(&mut v, dim);
    v
}

fn normalise_rows(v: &mut [f32], dim: usize) {
    for row in v.chunks_mut(dim) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        } else {
            // A collapsed row (vanishingly unlikely) restarts on an axis rather than staying zero.
            row[0] = 1.0;
        }
    }
}

/// Adam state for one parameter block.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    fn new(len: usize) -> Self {
        Self { m: vec![0.0; len], v: vec![0.0; len] }
    }

    fn step(&mut self, params: &mut [f32], grad: &[f32], lr: f32, t: i32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        const EPS: f32 = 1e-8;
        let c1 = 1.0 - B1.powi(t);
        let c2 = 1.0 - B2.powi(t);
        for (((p, g), m), v) in params.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
        }
    }
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// One attempt; returns it and the final (query, document) embeddings.
fn optimise(
    n: usize,
    qrels: &[Vec<u32>],
    cfg: &CapacityConfig,
    seed: u64,
    attempt: usize,
    budget: &Budget,
    progress: &mut dyn FnMut(&CapacityProgress),
) -> (Attempt, Vec<f32>, Vec<f32>) {
    let started = Instant::now();
    let (m, d) = (qrels.len(), cfg.dim);
    let inv_t = 1.0 / cfg.temperature;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut q = random_unit_rows(m, d, &mut rng);
    let mut docs = random_unit_rows(n, d, &mut rng);
    let (mut adam_q, mut adam_d) = (Adam::new(m * d), Adam::new(n * d));
    let mut g = vec![0.0f32; m * n]; // dL/ds per (query, doc), already divided by m
    let mut grad_q = vec![0.0f32; m * d];
    let mut grad_d = vec![0.0f32; n * d];
    let mut row_out = vec![(0.0f64, false); m];

    let mut best_realised = 0usize;
    let mut best_loss = f64::INFINITY;
    let mut since_improvement = 0usize;
    let mut loss = f64::INFINITY;
    let mut stop = StopReason::MaxSteps;
    let mut step = 0usize;
    while step < cfg.max_steps {
        if budget.exhausted() {
            stop = StopReason::Budget;
            break;
        }
        // Scores, loss, realised flag and dL/ds per query; dL/dq per query.
        let docs_ref = &docs;
        g.par_chunks_mut(n)
            .zip(grad_q.par_chunks_mut(d))
            .zip(q.par_chunks(d))
            .zip(row_out.par_iter_mut())
            .zip(qrels.par_iter())
            .for_each(|((((gi, gq), qi), out), rel)| {
                for (j, s) in gi.iter_mut().enumerate() {
                    *s = dot(qi, &docs_ref[j * d..(j + 1) * d]) * inv_t;
                }
                let max_all = gi.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let min_rel = rel.iter().map(|&r| gi[r as usize]).fold(f32::INFINITY, f32::min);
                let max_other = gi
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| !rel.contains(&(*j as u32)))
                    .map(|(_, s)| *s)
                    .fold(f32::NEG_INFINITY, f32::max);
                let z_all: f64 = gi.iter().map(|s| f64::from(s - max_all).exp()).sum();
                let log_z = z_all.ln() + f64::from(max_all);
                let r_len = rel.len() as f64;
                let loss_q = rel.iter().map(|&r| log_z - f64::from(gi[r as usize])).sum::<f64>() / r_len;
                *out = (loss_q, min_rel > max_other);
                let scale = 1.0 / m as f64;
                for (j, s) in gi.iter_mut().enumerate() {
                    let mut gj = f64::from(*s - max_all).exp() / z_all;
                    if rel.contains(&(j as u32)) {
                        gj -= 1.0 / r_len;
                    }
                    *s = (gj * scale) as f32;
                }
                gq.iter_mut().for_each(|x| *x = 0.0);
                for (j, gj) in gi.iter().enumerate() {
                    let c = gj * inv_t;
                    for (x, dv) in gq.iter_mut().zip(&docs_ref[j * d..(j + 1) * d]) {
                        *x += c * dv;
                    }
                }
            });
        loss = row_out.iter().map(|(l, _)| *l).sum::<f64>() / m as f64;
        let realised = row_out.iter().filter(|(_, r)| *r).count();
        if cfg.progress_every > 0 && step.is_multiple_of(cfg.progress_every) {
            progress(&CapacityProgress { n, attempt, step, loss, realised, queries: m });
        }
        if realised == m {
            best_realised = m;
            stop = StopReason::AllRealised;
            break;
        }
        if realised > best_realised || loss < best_loss * (1.0 - 1e-3) {
            since_improvement = 0;
        } else {
            since_improvement += 1;
        }
        best_realised = best_realised.max(realised);
        best_loss = best_loss.min(loss);
        if since_improvement >= cfg.patience {
            stop = StopReason::Plateau;
            break;
        }
        // dL/d doc_j = Σ_i g_ij q_i / τ, summed in query order (deterministic).
        let (g_ref, q_ref) = (&g, &q);
        grad_d.par_chunks_mut(d).enumerate().for_each(|(j, gd)| {
            gd.iter_mut().for_each(|x| *x = 0.0);
            for i in 0..m {
                let c = g_ref[i * n + j] * inv_t;
                for (x, qv) in gd.iter_mut().zip(&q_ref[i * d..(i + 1) * d]) {
                    *x += c * qv;
                }
            }
        });
        step += 1;
        let t = i32::try_from(step).unwrap_or(i32::MAX);
        adam_q.step(&mut q, &grad_q, cfg.learning_rate, t);
        adam_d.step(&mut docs, &grad_d, cfg.learning_rate, t);
        normalise_rows(&mut q, d);
        normalise_rows(&mut docs, d);
    }
    progress(&CapacityProgress { n, attempt, step, loss, realised: best_realised, queries: m });
    (
        Attempt { seed, steps: step, best_realised, final_loss: loss, stop, elapsed: started.elapsed() },
        q,
        docs,
    )
}

/// How critical-n is searched.
#[derive(Debug, Clone)]
pub struct CriticalNConfig {
    /// Optimisation settings (dimension, k, limits, seed, budget).
    pub probe: CapacityConfig,
    /// First n probed (raised to k + 1).
    pub start_n: usize,
    /// Largest n probed; reaching it successfully ends the search with "at least max_n".
    pub max_n: usize,
    /// Factor by which n grows (or shrinks) until a success and a failure bracket critical-n.
    pub growth: f64,
}

/// Result of [`critical_n`].
#[derive(Debug, Clone)]
pub struct CriticalNReport {
    /// Dimension d.
    pub dim: usize,
    /// k.
    pub k: usize,
    /// Largest n whose every k-subset was realised (proved by embeddings); `None` if no probe
    /// succeeded.
    pub critical_n: Option<usize>,
    /// Smallest n that failed every restart (not realised by this optimiser: not a proof of
    /// impossibility).
    pub first_failure: Option<usize>,
    /// Whether the search closed its bracket (`first_failure == critical_n + 1`, or `max_n`
    /// succeeded) within the budget.
    pub complete: bool,
    /// Every probe, in the order run.
    pub probes: Vec<ProbeResult>,
    /// Wall time.
    pub elapsed: Duration,
    /// Weller et al.'s fitted critical-n at this d (an empirical fit, k = 2 only; see
    /// [`super::bounds`]).
    pub paper_fit: f64,
    /// Dimension sufficient in exact geometry for every subset of ≤ k items, any n (Wang et
    /// al.; inner product: 2k, cosine: 2k+1). Free embeddings here are unit vectors, i.e. cosine.
    pub exact_sufficient_dim: usize,
}

/// Searches critical-n for the all-k-subsets pattern (see module docs).
pub fn critical_n(
    cfg: &CriticalNConfig,
    progress: &mut dyn FnMut(&CapacityProgress),
) -> Result<CriticalNReport> {
    cfg.probe.validate()?;
    if !(cfg.growth.is_finite() && cfg.growth > 1.0) {
        return Err(IndexError::InvalidParameter { name: "growth", reason: "must be > 1".into() });
    }
    let k = cfg.probe.k;
    let floor = k + 1;
    if cfg.max_n < floor {
        return Err(IndexError::InvalidParameter {
            name: "max_n",
            reason: format!("must be >= k + 1 = {floor}"),
        });
    }
    let started = Instant::now();
    let budget = Budget::new(cfg.probe.time_budget).with_cancel(cfg.probe.cancel.clone());
    let mut probes = Vec::new();
    // n = k is always realised (one query, all documents relevant).
    let mut lo: usize = k;
    let mut lo_proved = false;
    let mut hi: Option<usize> = None;
    let mut n = cfg.start_n.clamp(floor, cfg.max_n);
    let mut complete = false;
    loop {
        let qrels = QrelPattern::AllSubsets.qrels(n, k, cfg.probe.seed)?;
        let r = probe_qrels(n, &qrels, &cfg.probe, &budget, progress)?;
        let (ok, inconclusive) = (r.all_realised, r.budget_exhausted && !r.all_realised);
        probes.push(r);
        if inconclusive {
            break;
        }
        if ok {
            lo = lo.max(n);
            lo_proved = true;
        } else {
            hi = Some(hi.map_or(n, |h| h.min(n)));
        }
        n = match hi {
            None if lo >= cfg.max_n => {
                complete = true;
                break;
            }
            None => ((lo as f64 * cfg.growth).ceil() as usize).clamp(lo + 1, cfg.max_n),
            Some(h) if h <= lo + 1 => {
                complete = true;
                break;
            }
            Some(h) if !lo_proved && lo == k => {
                // Nothing realised yet: shrink towards k + 1.
                ((h as f64 / cfg.growth).floor() as usize).clamp(floor, h - 1)
            }
            Some(h) => lo + (h - lo) / 2,
        };
        if n <= lo || hi.is_some_and(|h| n >= h) {
            complete = true;
            break;
        }
    }
    Ok(CriticalNReport {
        dim: cfg.probe.dim,
        k,
        critical_n: if lo_proved { Some(lo) } else { None },
        first_failure: hi,
        complete,
        probes,
        elapsed: started.elapsed(),
        paper_fit: weller_fit_critical_n(cfg.probe.dim),
        exact_sufficient_dim: exact_sufficient_dimension(k, true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_and_combinations_agree() {
        for n in 2..9 {
            for k in 1..=n {
                let c = combinations(n, k, usize::MAX);
                assert_eq!(c.len() as u128, binomial(n, k));
                let set: std::collections::HashSet<_> = c.iter().collect();
                assert_eq!(set.len(), c.len());
            }
        }
        assert_eq!(binomial(46, 2), 1035);
    }

    #[test]
    fn patterns_have_the_documented_shapes() {
        let cyc = QrelPattern::Cycle.qrels(5, 2, 0).unwrap();
        assert_eq!(cyc.len(), 5);
        assert_eq!(cyc[4], vec![0, 4]);
        assert_eq!(QrelPattern::Disjoint.qrels(7, 2, 0).unwrap(), vec![vec![0, 1], vec![2, 3], vec![4, 5]]);
        let dense = QrelPattern::Dense { queries: 1000 }.qrels(100, 2, 0).unwrap();
        assert_eq!(dense.len(), 1000);
        assert_eq!(dense.iter().flatten().max(), Some(&45), "1,000 pairs need 46 documents");
        let rnd = QrelPattern::Random { queries: 20 }.qrels(10, 3, 7).unwrap();
        assert_eq!(rnd, QrelPattern::Random { queries: 20 }.qrels(10, 3, 7).unwrap());
        assert!(QrelPattern::Random { queries: 200 }.qrels(10, 2, 7).is_err());
    }
}
