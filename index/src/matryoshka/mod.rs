//! Matryoshka search: search on a short prefix of every vector, rescore the candidates at full
//! dimension.
//!
//! Models trained Matryoshka-style (Kusupati et al., NeurIPS 2022: nomic-embed v1.5, OpenAI
//! text-embedding-3, jina-v3, ...) make a prefix of the embedding, re-normalised, a usable
//! embedding itself. A collection declares prefix dimensions `m` ([`MatryoshkaConfig`]); for
//! each, Grove keeps a *contiguous* prefix store ([`prefix::PrefixStore`]: f32, f16 or int8),
//! kept in sync with inserts and deletes, and optionally Grove's HNSW graph built over it. The
//! full vectors are still stored once, in the collection's arena.
//!
//! A query ([`MatryoshkaQuery`]) runs a funnel of stages:
//! 1. at prefix `m`: the `oversample · k` best allowed points (filter minus tombstones), by an
//!    exact scan of the prefix store or a walk of the prefix graph (plus its unindexed tail);
//! 2. optionally, at each larger declared prefix `(m_i, keep_i)`: rescore and keep `keep_i`;
//! 3. at full dimension: rescore exactly from the arena and keep `k`. Returned distances are
//!    full-dimension distances, as for a plain search.
//!
//! `m = d` is a plain search ([`crate::CollectionIndex::search`]), exactly. [`crate::Explain`]
//! lists each stage (dimension, candidates in, kept, distances computed).
//!
//! For models not trained this way an optional PCA rotation ([`pca::Rotation`]) is applied to
//! the prefix stores and query prefixes, so the leading components carry the most variance.
//! [`calibrate`] measures recall against exact full-dimension search on a sample of stored
//! vectors and recommends the cheapest `(m, oversample)` meeting a target.

pub mod calibrate;
pub mod pca;
pub mod prefix;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use crate::flat::Allowed;
use crate::graph::{Graph, GraphFilter, GraphParams, SearchStats};
use crate::planner::PlannerConfig;
use crate::registry::Slot;
use crate::{DenseIdSet, IndexError, Metric, Neighbor, Result, VectorStore};
pub use calibrate::{CalibrationReport, CalibrationRequest, CalibrationRow};
pub use pca::Rotation;
pub use prefix::{PrefixDtype, PrefixStore};

/// Largest oversampling factor of a query or a calibration: the first stage keeps
/// `oversample · k` candidates, so an unbounded factor turns every stage into a full scan with
/// a heap of the whole collection.
pub const MAX_OVERSAMPLE: usize = 1024;

/// Most funnel stages a query may ask for (beyond the first prefix stage).
pub const MAX_FUNNEL_STAGES: usize = 8;

/// A collection's Matryoshka declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct MatryoshkaConfig {
    /// Prefix dimensions `m` with a prefix store, each `1 <= m < d`, ascending, distinct.
    pub dims: Vec<usize>,
    /// Re-normalise each prefix to unit length (cosine collections only): what Matryoshka models
    /// are trained for, and what makes `1 - a·b` a cosine on the prefix.
    pub renormalise: bool,
    /// Element type of the prefix stores.
    pub dtype: PrefixDtype,
    /// Build Grove's HNSW graph over each prefix store with these parameters (`gamma = 1`,
    /// f32 prefixes only); `None` serves prefixes by exact scan only.
    pub graph: Option<GraphParams>,
}

impl MatryoshkaConfig {
    /// Prefix stores for `dims`, re-normalised for cosine, f32, no graphs.
    pub fn new(dims: Vec<usize>, metric: Metric) -> Self {
        Self { dims, renormalise: metric == Metric::Cosine, dtype: PrefixDtype::F32, graph: None }
    }

    /// Checks the declaration against the collection's dimension and metric; errors name the
    /// field.
    pub fn validate(&self, dim: usize, metric: Metric) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(IndexError::InvalidParameter { name, reason });
        if self.dims.is_empty() {
            return bad("matryoshka_dims", "declare at least one prefix dimension".into());
        }
        if let Some(m) = self.dims.iter().find(|&&m| m == 0 || m >= dim) {
            return bad(
                "matryoshka_dims",
                format!("prefix {m} must be between 1 and dimension - 1 ({})", dim - 1),
            );
        }
        if self.dims.windows(2).any(|w| w[0] >= w[1]) {
            return bad("matryoshka_dims", format!("{:?} must be ascending without repeats", self.dims));
        }
        if self.renormalise && metric != Metric::Cosine {
            return bad(
                "matryoshka_renormalise",
                format!("re-normalising prefixes only makes sense for cosine, the metric is {metric:?}"),
            );
        }
        if let Some(g) = &self.graph {
            g.validate()?;
            if g.gamma != 1 {
                return bad("gamma", format!("prefix graphs are plain HNSW (gamma = 1), got {}", g.gamma));
            }
            if self.dtype != PrefixDtype::F32 {
                return bad(
                    "matryoshka_dtype",
                    format!("prefix graphs need f32 prefixes, the dtype is {}", self.dtype.as_str()),
                );
            }
        }
        Ok(())
    }
}

/// How the first stage searches its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrefixPath {
    /// The prefix graph when there is one and the allowed set is large enough for a walk to
    /// beat a scan (the planner's `exact_max_points` and `acorn1_min_selectivity`), else a scan.
    #[default]
    Auto,
    /// Exact scan of the prefix store over the allowed ids.
    Scan,
    /// The prefix graph (an error if the collection has none).
    Graph,
}

/// One funnel stage after the first: rescore at prefix `dim`, keep the best `keep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelStage {
    /// A declared prefix dimension, larger than the previous stage's.
    pub dim: usize,
    /// Candidates kept, smaller than the previous stage's and at least `k`.
    pub keep: usize,
}

/// A Matryoshka query: prefix, oversampling, funnel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatryoshkaQuery {
    /// The first stage's prefix: a declared prefix, or the full dimension (a plain search).
    pub dim: usize,
    /// The first stage keeps `oversample · k` candidates.
    #[serde(default = "default_oversample")]
    pub oversample: usize,
    /// Further rescoring stages at larger prefixes, before the full-dimension rescoring.
    #[serde(default)]
    pub funnel: Vec<FunnelStage>,
    /// How the first stage searches.
    #[serde(default)]
    pub path: PrefixPath,
}

fn default_oversample() -> usize {
    4
}

impl MatryoshkaQuery {
    /// A two-stage query: prefix `dim`, keep `oversample · k`, rescore at full dimension.
    pub fn new(dim: usize, oversample: usize) -> Self {
        Self { dim, oversample, funnel: Vec::new(), path: PrefixPath::Auto }
    }

    /// Checks the query against the declared prefixes; errors name the field.
    pub fn validate(&self, declared: &[usize], full: usize, k: usize) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(IndexError::InvalidParameter { name, reason });
        if self.oversample == 0 || self.oversample > MAX_OVERSAMPLE {
            return bad(
                "oversample",
                format!(
                    "must be between 1 and {MAX_OVERSAMPLE} (candidates kept = oversample x k), got {}",
                    self.oversample
                ),
            );
        }
        if self.dim != full && !declared.contains(&self.dim) {
            return bad(
                "dim",
                format!("prefix {} is not declared; declared prefixes are {declared:?} (or {full}, the full dimension)", self.dim),
            );
        }
        if self.funnel.len() > MAX_FUNNEL_STAGES {
            return bad("funnel", format!("at most {MAX_FUNNEL_STAGES} stages, got {}", self.funnel.len()));
        }
        let (mut prev_dim, mut prev_keep) = (self.dim, self.oversample.saturating_mul(k));
        for (i, s) in self.funnel.iter().enumerate() {
            if !declared.contains(&s.dim) {
                return bad("funnel", format!("stage {i}: prefix {} is not declared ({declared:?})", s.dim));
            }
            if s.dim <= prev_dim {
                return bad(
                    "funnel",
                    format!("stage {i}: prefix {} must be larger than the previous {prev_dim}", s.dim),
                );
            }
            if s.keep >= prev_keep || s.keep < k {
                return bad(
                    "funnel",
                    format!("stage {i}: keep {} must be at least k = {k} and below the previous stage's {prev_keep}", s.keep),
                );
            }
            (prev_dim, prev_keep) = (s.dim, s.keep);
        }
        Ok(())
    }
}

/// What one stage did (in [`crate::Explain::matryoshka`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageExplain {
    /// Dimension the stage compared at.
    pub dim: usize,
    /// `prefix_scan`, `prefix_graph` or `rescore`.
    pub path: String,
    /// Candidates the stage chose from (the allowed points for the first stage).
    pub candidates_in: u64,
    /// Candidates it kept.
    pub kept: u64,
    /// Distances it computed.
    pub distances_computed: u64,
}

/// One declared prefix: its store. Its graph, when declared, is registered with the
/// collection's other indexes ([`crate::registry::IndexKind::Prefix`]).
#[derive(Debug)]
pub(crate) struct Level {
    pub(crate) store: PrefixStore,
}

/// Per-prefix facts for collection info.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixInfo {
    /// The prefix dimension.
    pub dim: usize,
    /// Bytes per vector of its store.
    pub bytes_per_vector: usize,
    /// Points in its graph (`None` without a graph).
    pub graph_indexed: Option<u64>,
    /// Share of the variance the prefix keeps under the PCA rotation (`None` without PCA).
    pub variance_kept: Option<f64>,
}

/// Collection info's Matryoshka part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatryoshkaInfo {
    /// The prefixes.
    pub prefixes: Vec<PrefixInfo>,
    /// Whether prefixes are re-normalised.
    pub renormalise: bool,
    /// Element type.
    pub dtype: PrefixDtype,
    /// Whether a PCA rotation is applied.
    pub pca: bool,
    /// Vectors the PCA was fitted on.
    pub pca_sample: Option<u64>,
    /// Bytes held by all prefix stores.
    pub memory_bytes: u64,
}

/// The Matryoshka state of a collection: rotation and prefix levels.
#[derive(Debug)]
pub(crate) struct Matryoshka {
    pub(crate) cfg: MatryoshkaConfig,
    pub(crate) rotation: Option<Rotation>,
    pub(crate) levels: Vec<Level>,
    metric: Metric,
    full_dim: usize,
}

impl Matryoshka {
    /// Prefix stores for every row of `full` (gaps and tombstones get a row too, never
    /// returned).
    pub(crate) fn build(
        cfg: MatryoshkaConfig,
        rotation: Option<Rotation>,
        metric: Metric,
        full: &VectorStore,
    ) -> Result<Self> {
        cfg.validate(full.dim(), metric)?;
        if let Some(r) = &rotation {
            if r.dim() != full.dim() {
                return Err(IndexError::DimensionMismatch { expected: full.dim(), got: r.dim() });
            }
        }
        let levels = cfg.dims.iter().map(|&m| Level { store: PrefixStore::new(m, cfg.dtype) }).collect();
        let mut me = Self { cfg, rotation, levels, metric, full_dim: full.dim() };
        let mut buf = Vec::new();
        for id in 0..full.len() as u32 {
            me.set_row(id, full.get(id), &mut buf);
        }
        Ok(me)
    }

    /// The file name of prefix `m`'s saved graph: a CRC-32 of the declaration, the metric and
    /// the rotation is part of the name, so a file built over other prefix vectors (another
    /// rotation, dtype or normalisation) is never mistaken for this one.
    pub(crate) fn graph_file(&self, m: usize) -> String {
        let mut h = crc32fast::Hasher::new();
        h.update(format!("{:?}|{:?}|{}|{m}", self.cfg, self.metric, self.full_dim).as_bytes());
        if let Some(r) = &self.rotation {
            h.update(&r.to_bytes());
        }
        format!("{}{m}-{:08x}.graph", crate::collection::MATRYOSHKA_FILE_PREFIX, h.finalize())
    }

    fn max_dim(&self) -> usize {
        self.cfg.dims.last().copied().unwrap_or(0)
    }

    /// The leading `max_dim` components the prefixes are cut from (rotated when PCA is on).
    fn lead(&self, v: &[f32], buf: &mut Vec<f32>) {
        let m = self.max_dim();
        buf.clear();
        match &self.rotation {
            Some(r) => {
                buf.resize(m, 0.0);
                r.apply(v, buf);
            }
            None => buf.extend_from_slice(&v[..m]),
        }
    }

    /// A prefix of the lead components, re-normalised when configured.
    fn cut(&self, lead: &[f32], m: usize) -> Vec<f32> {
        let mut p = lead[..m].to_vec();
        if self.cfg.renormalise {
            crate::distance::normalize(&mut p);
        }
        p
    }

    fn set_row(&mut self, id: u32, v: &[f32], buf: &mut Vec<f32>) {
        self.lead(v, buf);
        for i in 0..self.levels.len() {
            let m = self.levels[i].store.dim();
            let p = self.cut(buf, m);
            self.levels[i].store.set(id, &p);
        }
    }

    /// A new point (vector already prepared for the metric).
    pub(crate) fn insert(&mut self, id: u32, v: &[f32]) {
        let mut buf = Vec::new();
        self.set_row(id, v, &mut buf);
    }

    /// The level of prefix dimension `m`.
    pub(crate) fn level(&self, m: usize) -> Option<&Level> {
        self.levels.iter().find(|l| l.store.dim() == m)
    }

    /// Info for the collection; `graph(m)` gives prefix `m`'s graph size and bytes, when it
    /// has a graph.
    pub(crate) fn info(&self, graph: &dyn Fn(usize) -> Option<(usize, usize)>) -> MatryoshkaInfo {
        MatryoshkaInfo {
            prefixes: self
                .levels
                .iter()
                .map(|l| PrefixInfo {
                    dim: l.store.dim(),
                    bytes_per_vector: l.store.bytes_per_row(),
                    graph_indexed: graph(l.store.dim()).map(|(n, _)| n as u64),
                    variance_kept: self.rotation.as_ref().map(|r| r.variance_kept(l.store.dim())),
                })
                .collect(),
            renormalise: self.cfg.renormalise,
            dtype: self.cfg.dtype,
            pca: self.rotation.is_some(),
            pca_sample: self.rotation.as_ref().map(Rotation::sample),
            memory_bytes: self
                .levels
                .iter()
                .map(|l| (l.store.memory_bytes() + graph(l.store.dim()).map_or(0, |(_, b)| b)) as u64)
                .sum(),
        }
    }

    /// The funnel below the full-dimension stage: the candidates to rescore exactly, with the
    /// stages recorded in `out`. `graph` is the first prefix's registered graph, when it has
    /// one; `q` is the query prepared for the metric; `allowed` is the filter minus tombstones
    /// (`None` without a filter); `mq` is validated.
    #[expect(clippy::too_many_arguments, reason = "the per-query state of one search")]
    pub(crate) fn candidates(
        &self,
        graph: Option<&Slot<Graph>>,
        full: &VectorStore,
        dead: &RoaringBitmap,
        q: &[f32],
        allowed: Option<&RoaringBitmap>,
        allowed_count: u64,
        live: u64,
        k: usize,
        ef: usize,
        planner: &PlannerConfig,
        mq: &MatryoshkaQuery,
        out: &mut FunnelOutcome,
        stop: &crate::stop::Stop,
    ) -> Result<Vec<Neighbor>> {
        let first = self.level(mq.dim).ok_or_else(|| IndexError::InvalidParameter {
            name: "dim",
            reason: format!("prefix {} is not declared ({:?})", mq.dim, self.cfg.dims),
        })?;
        let mut lead = Vec::new();
        self.lead(q, &mut lead);
        let c1 = mq.oversample.saturating_mul(k).max(k);
        let s = if live == 0 { 1.0 } else { allowed_count as f64 / live as f64 };
        let use_graph = match mq.path {
            PrefixPath::Scan => false,
            PrefixPath::Graph => {
                if graph.is_none_or(|g| g.index.is_empty()) {
                    return Err(IndexError::PathUnavailable {
                        path: "prefix_graph",
                        reason: format!(
                            "prefix {} has no graph (declare the collection with a prefix graph)",
                            mq.dim
                        ),
                    });
                }
                true
            }
            PrefixPath::Auto => {
                graph.is_some_and(|g| !g.index.is_empty())
                    && allowed_count > planner.exact_max_points
                    && s >= planner.acorn1_min_selectivity
                    && (c1 as u64) < allowed_count / 2
            }
        };
        let pq = first.store.query(&self.cut(&lead, mq.dim));
        let rows = match allowed {
            Some(a) => Allowed::Bitmap(a),
            None => Allowed::All { dead: (!dead.is_empty()).then_some(dead) },
        };
        let mut cands = match (graph, use_graph) {
            (Some(slot), true) => {
                let dense = match allowed {
                    Some(a) => Some(DenseIdSet::from_roaring(a, None, full.len())),
                    None if dead.is_empty() => None,
                    None => Some(DenseIdSet::all_except(full.len(), Some(dead))),
                };
                let filter = match &dense {
                    None => GraphFilter::None,
                    Some(d) if s >= planner.hnsw_min_selectivity => GraphFilter::Hnsw(d),
                    Some(d) => GraphFilter::Acorn(d),
                };
                let store = first.store.as_f32().ok_or_else(|| IndexError::PathUnavailable {
                    path: "prefix_graph",
                    reason: "prefix graphs need f32 prefixes".into(),
                })?;
                let qv = self.cut(&lead, mq.dim);
                let mut stats = SearchStats::default();
                let found = slot.index.search_from_stoppable(
                    store,
                    &qv,
                    c1,
                    ef.max(c1),
                    filter,
                    None,
                    &mut stats,
                    stop,
                );
                if let Some(cause) = stats.stopped {
                    return Err(IndexError::Stopped { cause });
                }
                out.nodes_visited += stats.nodes_visited;
                let mut distances = stats.distances_computed;
                // The pending tail, scanned at the prefix.
                let tail_ids = match allowed {
                    Some(a) => &slot.pending & a,
                    None => &slot.pending - dead,
                };
                let tail = if tail_ids.is_empty() {
                    Vec::new()
                } else {
                    let (t, n) =
                        first.store.scan_stoppable(self.metric, &pq, c1, Allowed::Bitmap(&tail_ids), stop)?;
                    distances += n;
                    out.unindexed_scanned += tail_ids.len();
                    t
                };
                let merged = crate::registry::merge(found, tail, c1);
                out.stages.push(StageExplain {
                    dim: mq.dim,
                    path: "prefix_graph".into(),
                    candidates_in: allowed_count,
                    kept: merged.len() as u64,
                    distances_computed: distances,
                });
                out.ef = Some(ef.max(c1));
                merged
            }
            _ => {
                let (hits, n) = first.store.scan_stoppable(self.metric, &pq, c1, rows, stop)?;
                out.stages.push(StageExplain {
                    dim: mq.dim,
                    path: "prefix_scan".into(),
                    candidates_in: allowed_count,
                    kept: hits.len() as u64,
                    distances_computed: n,
                });
                hits
            }
        };
        for st in &mq.funnel {
            let level = self.level(st.dim).ok_or_else(|| IndexError::InvalidParameter {
                name: "funnel",
                reason: format!("prefix {} is not declared ({:?})", st.dim, self.cfg.dims),
            })?;
            let pq = level.store.query(&self.cut(&lead, st.dim));
            let n_in = cands.len() as u64;
            let mut chk = crate::stop::StopCheck::new(stop, 0);
            for (i, c) in cands.iter_mut().enumerate() {
                c.dist = level.store.distance(self.metric, &pq, c.id);
                if chk.due(i as u64 + 1) {
                    break;
                }
            }
            chk.result()?;
            cands.sort();
            cands.truncate(st.keep);
            out.stages.push(StageExplain {
                dim: st.dim,
                path: "rescore".into(),
                candidates_in: n_in,
                kept: cands.len() as u64,
                distances_computed: n_in,
            });
        }
        // Full dimension, exactly, from the arena.
        let n_in = cands.len() as u64;
        let mut chk = crate::stop::StopCheck::new(stop, 0);
        for (i, c) in cands.iter_mut().enumerate() {
            c.dist = self.metric.distance(q, full.get(c.id));
            if chk.due(i as u64 + 1) {
                break;
            }
        }
        chk.result()?;
        cands.sort();
        cands.truncate(k);
        out.stages.push(StageExplain {
            dim: self.full_dim,
            path: "rescore".into(),
            candidates_in: n_in,
            kept: cands.len() as u64,
            distances_computed: n_in,
        });
        Ok(cands)
    }
}

/// Work of a funnel, gathered for the Explain record.
#[derive(Debug, Default)]
pub(crate) struct FunnelOutcome {
    pub(crate) stages: Vec<StageExplain>,
    pub(crate) nodes_visited: u64,
    pub(crate) unindexed_scanned: u64,
    pub(crate) ef: Option<usize>,
}

#[cfg(test)]
mod tests;
