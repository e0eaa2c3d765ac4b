//! [`CollectionIndex`]: the one object the storage layer talks to.
//!
//! It owns a collection's vectors (the arena), its tombstones, the [`Registry`] of its indexes
//! (Grove's HNSW graph, optionally an ACORN-gamma graph, and the Matryoshka prefix graphs when
//! declared), its quantized codes and the planner, and answers searches through whichever path
//! the planner picks.
//!
//! # Ids
//! Internal ids are dense `u32` handed out by storage and never reused: an updated point gets a
//! new id and the old one is deleted. Ids may arrive out of order; ids skipped over (gaps) are
//! treated as deleted until they are inserted.
//!
//! # Incremental indexing and the unindexed tail
//! [`CollectionIndex::insert`] only stores the vector; the point becomes *pending* for every
//! registered index. [`CollectionIndex::index_pending`] (a background worker in storage) and
//! [`CollectionIndex::build`] move pending points into the indexes ([`Entry::drain`]). A graph
//! search also scans the pending points of its index exactly and merges them
//! ([`Explain::unindexed_scanned`]), so a search is always over every live point, indexed or
//! not. A point leaves the pending set only after its insert completed, so a concurrent search
//! sees it in the tail, in the index, or both (merged by id) — never in neither.
//!
//! # Locking
//! Always taken in this order: the points (arena + tombstones), the Matryoshka stores, the
//! quantized codes, then one registry entry (index + its pending set). Searches and index
//! inserts hold the points' read lock; inserts and deletes take its write lock briefly.
//! Indexing works in chunks of [`INDEX_CHUNK_PER_THREAD`] points per thread so a waiting insert
//! is delayed by one chunk at most. Indexing, saving and loading are serialised by one mutex.

use std::path::Path;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rayon::prelude::*;
use roaring::RoaringBitmap;

use crate::error::validate_vector;
use crate::flat::{self, Allowed};
use crate::graph::{Graph, GraphFilter, GraphParams, Probe, SearchStats};
use crate::matryoshka::{
    CalibrationReport, CalibrationRequest, FunnelOutcome, Matryoshka, MatryoshkaConfig, MatryoshkaInfo,
    MatryoshkaQuery, Rotation,
};
use crate::planner::{self, PlanInput, PlannerConfig};
use crate::quant::persist::{self, CODES_FILE};
use crate::quant::{CodeLoad, CodeVisitor, Codes, QuantConfig, QuantExplain, QuantSearch};
use crate::registry::{merge, Entry, IndexKind, Registry, Slot};
pub use crate::registry::{GraphLoad, INDEX_CHUNK_PER_THREAD};
use crate::source::{F32Scorer, Scorer};
use crate::stop::{Stop, NEVER};
use crate::{DenseIdSet, Explain, IndexError, Metric, Neighbor, Result, SearchPath, Strategy, VectorStore};

/// File name of the HNSW graph inside the directory given to save/load.
pub const HNSW_FILE: &str = "hnsw.graph";
/// File name of the ACORN-gamma graph.
pub const ACORN_FILE: &str = "acorn.graph";
/// Prefix graphs are saved as `matryoshka-<m>-<fingerprint>.graph`: the fingerprint covers the
/// declaration and the PCA rotation, so a graph built over other prefixes never loads.
pub const MATRYOSHKA_FILE_PREFIX: &str = "matryoshka-";

/// How a collection is indexed and searched.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexConfig {
    /// Vector dimension `d`.
    pub dim: usize,
    /// The metric.
    pub metric: Metric,
    /// Grove's HNSW graph (`gamma` must be 1): serves unfiltered, filtered-HNSW and ACORN-1
    /// search.
    pub hnsw: GraphParams,
    /// An additional ACORN-gamma graph (`gamma > 1`) for low selectivities; `None` serves ACORN
    /// as ACORN-1 on the HNSW graph (no extra build cost or memory).
    pub acorn: Option<GraphParams>,
    /// Beam width `ef` of graph searches when a query does not set one.
    pub ef_search: usize,
    /// The planner's thresholds.
    pub planner: PlannerConfig,
    /// Threads used for graph construction (`build`, `index_pending`).
    pub build_threads: usize,
    /// Quantized codes that graph walks and large scans read, with exact rescoring
    /// ([`crate::quant`]); `None`: every path reads the full vectors.
    pub quantization: Option<QuantConfig>,
}

impl IndexConfig {
    /// Defaults for a `dim`-dimensional collection: HNSW with `M = 16`, `ef_construction =
    /// 100`, no gamma graph, `ef_search = 64`, default planner, 1 build thread, no codes.
    pub fn new(dim: usize, metric: Metric) -> Self {
        Self {
            dim,
            metric,
            hnsw: GraphParams::default(),
            acorn: None,
            ef_search: 64,
            planner: PlannerConfig::default(),
            build_threads: 1,
            quantization: None,
        }
    }

    /// Checks every field; errors name the offending parameter.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(IndexError::InvalidParameter { name, reason });
        if self.dim == 0 {
            return bad("dim", "must be at least 1".into());
        }
        self.hnsw.validate()?;
        if self.hnsw.gamma != 1 {
            return bad("gamma", format!("the HNSW graph needs gamma = 1, got {}", self.hnsw.gamma));
        }
        if let Some(a) = &self.acorn {
            a.validate()?;
            if a.gamma < 2 {
                return bad("gamma", format!("the ACORN-gamma graph needs gamma >= 2, got {}", a.gamma));
            }
        }
        if self.ef_search == 0 {
            return bad("ef_search", "must be at least 1".into());
        }
        if self.build_threads == 0 {
            return bad("build_threads", "must be at least 1".into());
        }
        if let Some(q) = &self.quantization {
            q.validate()?;
        }
        self.planner.validate()
    }
}

/// One query's knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchParams {
    /// Results wanted.
    pub k: usize,
    /// Beam width of graph paths; `None` uses [`IndexConfig::ef_search`]. Raised to `k`.
    pub ef: Option<usize>,
    /// Which path; `Auto` lets the planner choose.
    pub strategy: Strategy,
    /// Drop hits whose *internal distance* exceeds this (convert a user score with
    /// [`Metric::distance_from_score`]).
    pub score_threshold: Option<f32>,
    /// How codes are used when the collection has them (ignored otherwise).
    pub quantization: QuantSearch,
}

impl Default for SearchParams {
    fn default() -> Self {
        Self {
            k: 10,
            ef: None,
            strategy: Strategy::Auto,
            score_threshold: None,
            quantization: QuantSearch::default(),
        }
    }
}

/// Allowed rows from which an exact path scans codes (and rescores) instead of full vectors,
/// when the collection has codes: below it the rows are few and the full scan is cheap.
pub const CODE_SCAN_MIN_ROWS: u64 = 2048;

/// Hits and the record of how they were found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutput {
    /// Up to `k` live, allowed points, closest first, with internal distances.
    pub hits: Vec<Neighbor>,
    /// Path, reason and work.
    pub explain: Explain,
}

/// Counts and memory of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexStats {
    /// Id space (highest id + 1), including deleted ids and gaps.
    pub points: u64,
    /// Live points.
    pub live: u64,
    /// Points in the HNSW graph (including since-deleted ones, which still route searches).
    pub indexed: u64,
    /// Live points not yet in every graph (the largest pending set of any graph).
    pub pending: u64,
    /// Bytes held by the vector arena.
    pub vector_bytes: u64,
    /// Bytes held by the HNSW and ACORN-gamma graphs (prefix graphs are reported with the
    /// Matryoshka stores).
    pub graph_bytes: u64,
    /// Bytes held by quantized codes (0 without quantization or before training).
    pub code_bytes: u64,
    /// Bytes per point of the codes (0 when there are none).
    pub code_bytes_per_point: u64,
}

/// The outcome of [`CollectionIndex::load_graphs`]. Never an error: a graph that cannot be
/// loaded is rebuilt from the vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// The HNSW graph.
    pub hnsw: GraphLoad,
    /// The ACORN-gamma graph, when configured.
    pub acorn: Option<GraphLoad>,
    /// Each Matryoshka prefix graph, by prefix dimension, when prefix graphs are configured.
    pub matryoshka: Vec<(usize, GraphLoad)>,
    /// The quantized codes ([`crate::quant::persist::CODES_FILE`]), when quantization is
    /// configured.
    pub codes: Option<CodeLoad>,
}

/// Vectors and tombstones.
#[derive(Debug)]
struct Points {
    store: VectorStore,
    /// Deleted ids and gaps: never returned.
    dead: RoaringBitmap,
    /// Ids below `store.len()` never inserted (a subset of `dead`).
    gaps: RoaringBitmap,
}

impl Points {
    fn live(&self) -> u64 {
        self.store.len() as u64 - self.dead.len()
    }
}

/// Codes and when they were trained.
#[derive(Debug, Default)]
struct QuantState {
    /// `None` until trained (or without quantization).
    codes: Option<Codes>,
    /// Live points when last trained.
    trained_live: u64,
    /// Rows in the last training sample.
    trained_sample: usize,
}

/// A collection's vectors, tombstones, registered indexes and planner. `Send + Sync`; every
/// method takes `&self`.
///
/// ```
/// use grove_index::collection::{CollectionIndex, IndexConfig, SearchParams};
/// use grove_index::{Metric, SearchPath};
/// let index = CollectionIndex::new(IndexConfig::new(2, Metric::L2)).unwrap();
/// for i in 0..100u32 {
///     index.insert(i, &[i as f32, 0.0]).unwrap();
/// }
/// index.delete(41);
/// let out = index.search(&[40.8, 0.0], None, &SearchParams { k: 2, ..Default::default() }).unwrap();
/// let ids: Vec<u32> = out.hits.iter().map(|h| h.id).collect();
/// assert_eq!(ids, vec![40, 42]);
/// assert_eq!(out.explain.path, SearchPath::Exact); // nothing indexed yet
/// ```
#[derive(Debug)]
pub struct CollectionIndex {
    cfg: IndexConfig,
    points: RwLock<Points>,
    /// The HNSW graph (always), the ACORN-gamma graph (when configured) and one graph per
    /// Matryoshka prefix (when declared with graphs). Entries are locked last.
    registry: Registry,
    /// Matryoshka prefix stores, when declared ([`Self::set_matryoshka`]). Locked after
    /// `points`, before the registry.
    mat: RwLock<Option<Matryoshka>>,
    /// Quantized codes, when configured and trained. Locked after `points` (and after `mat`),
    /// before the graph slots.
    quant: RwLock<QuantState>,
    /// Serialises index_pending / build / save / load.
    indexing: Mutex<()>,
    pool: Option<rayon::ThreadPool>,
}

impl CollectionIndex {
    /// An empty index: the HNSW graph and, when configured, the ACORN-gamma graph registered.
    pub fn new(cfg: IndexConfig) -> Result<Self> {
        cfg.validate()?;
        let mut entries = vec![Entry::new(
            IndexKind::Hnsw,
            HNSW_FILE.into(),
            cfg.hnsw,
            cfg.metric,
            cfg.dim,
            RoaringBitmap::new(),
        )?];
        if let Some(p) = &cfg.acorn {
            entries.push(Entry::new(
                IndexKind::AcornGamma,
                ACORN_FILE.into(),
                *p,
                cfg.metric,
                cfg.dim,
                RoaringBitmap::new(),
            )?);
        }
        let pool =
            if cfg.build_threads > 1 {
                Some(rayon::ThreadPoolBuilder::new().num_threads(cfg.build_threads).build().map_err(|e| {
                    IndexError::InvalidParameter { name: "build_threads", reason: e.to_string() }
                })?)
            } else {
                None
            };
        Ok(Self {
            points: RwLock::new(Points {
                store: VectorStore::new(cfg.dim),
                dead: RoaringBitmap::new(),
                gaps: RoaringBitmap::new(),
            }),
            registry: Registry::new(entries),
            mat: RwLock::new(None),
            quant: RwLock::new(QuantState::default()),
            indexing: Mutex::new(()),
            pool,
            cfg,
        })
    }

    /// The HNSW graph's entry (registered by [`Self::new`], never removed).
    fn hnsw(&self) -> Result<Arc<Entry<Graph>>> {
        self.registry.get(IndexKind::Hnsw).ok_or_else(|| IndexError::PathUnavailable {
            path: "hnsw",
            reason: "the HNSW graph is not registered".into(),
        })
    }

    /// The registered index kinds, in registration order.
    pub fn index_kinds(&self) -> Vec<IndexKind> {
        self.registry.kinds()
    }

    /// The configuration.
    pub fn config(&self) -> &IndexConfig {
        &self.cfg
    }

    /// Stores the vector of a new point under `id` (validated, then prepared for the metric).
    /// The point is searchable when this returns; it joins the graphs later
    /// ([`Self::index_pending`]). Errors for a wrong dimension, a non-finite component, or an
    /// id already used.
    pub fn insert(&self, id: u32, v: &[f32]) -> Result<()> {
        validate_vector(v, self.cfg.dim)?;
        let mut prepared = v.to_vec();
        self.cfg.metric.prepare(&mut prepared);
        let mut pts = self.points.write();
        Self::check_free(&pts, id)?;
        let n = pts.store.len() as u32;
        if id < n {
            pts.gaps.remove(id);
            pts.dead.remove(id);
        } else if id > n {
            pts.gaps.insert_range(n..id);
            pts.dead.insert_range(n..id);
        }
        pts.store.set(id, &prepared);
        if let Some(m) = self.mat.write().as_mut() {
            m.insert(id, &prepared);
        }
        if let Some(c) = self.quant.write().codes.as_mut() {
            c.set(id, &prepared);
        }
        self.registry.mark_pending(id);
        Ok(())
    }

    /// Whether [`Self::insert`] of `v` under `id` would succeed, without inserting: a caller
    /// that must not fail after a durable commit checks every insert first (under its own
    /// writer lock, so nothing changes in between).
    pub fn check_insert(&self, id: u32, v: &[f32]) -> Result<()> {
        validate_vector(v, self.cfg.dim)?;
        Self::check_free(&self.points.read(), id)
    }

    /// `id` holds nothing: at or past the end, or a gap.
    fn check_free(pts: &Points, id: u32) -> Result<()> {
        if (id as usize) < pts.store.len() && !pts.gaps.contains(id) {
            return Err(IndexError::InvalidParameter {
                name: "id",
                reason: format!(
                    "internal id {id} is in use (a deleted id is free again only once a rebuild has left it out)"
                ),
            });
        }
        Ok(())
    }

    /// Tombstones `id`: no search returns it again. Returns whether a live point was deleted.
    /// The graphs keep the node (it still routes searches).
    pub fn delete(&self, id: u32) -> bool {
        let mut pts = self.points.write();
        if id as usize >= pts.store.len() || pts.dead.contains(id) {
            return false;
        }
        pts.dead.insert(id);
        self.registry.unmark(id);
        true
    }

    /// Id space: highest id + 1 (deleted ids and gaps included).
    pub fn len(&self) -> usize {
        self.points.read().store.len()
    }

    /// Whether no id was ever inserted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Live points.
    pub fn live_count(&self) -> u64 {
        self.points.read().live()
    }

    /// Ids that searches never return: deleted ids and gaps below [`Self::len`].
    pub fn deleted(&self) -> RoaringBitmap {
        self.points.read().dead.clone()
    }

    /// Grows the id space to `len` ids; the added ids are gaps (never returned, free for
    /// [`Self::insert`]). Used to align an engine with its collection's id space, whose last
    /// ids may be deleted or lack this vector. Never shrinks.
    pub fn extend(&self, len: usize) {
        let mut pts = self.points.write();
        let n = pts.store.len();
        if len > n {
            pts.store.grow_to(len);
            pts.gaps.insert_range(n as u32..len as u32);
            pts.dead.insert_range(n as u32..len as u32);
        }
    }

    /// Ids below [`Self::len`] that hold nothing: never inserted (or left out by the rebuild
    /// that built this index) and in no registered index. [`Self::insert`] accepts them, so a
    /// collection can reuse them for new points (ids at or above `len` are free too); the row
    /// they keep in the arena is overwritten then. Deleted ids that still occupy a graph node
    /// are not gaps: they are [`Self::tombstones`] until a rebuild leaves them out.
    pub fn gaps(&self) -> RoaringBitmap {
        self.points.read().gaps.clone()
    }

    /// Deleted ids that still occupy a row or a graph node: what a rebuild reclaims.
    pub fn tombstones(&self) -> u64 {
        let pts = self.points.read();
        pts.dead.len() - pts.gaps.len()
    }

    /// The stored vector of a live point, in the metric's prepared form (unit length for
    /// cosine).
    pub fn vector(&self, id: u32) -> Option<Vec<f32>> {
        let pts = self.points.read();
        if id as usize >= pts.store.len() || pts.dead.contains(id) {
            return None;
        }
        Some(pts.store.get(id).to_vec())
    }

    /// Moves up to `max` pending points into each registered index; returns how many remain
    /// pending (the largest remainder of any index). Meant for a background worker: it never
    /// blocks an insert for longer than one chunk.
    pub fn index_pending(&self, max: usize) -> usize {
        let _serial = self.indexing.lock();
        self.train_codes_if_due();
        let chunk = INDEX_CHUNK_PER_THREAD * self.threads();
        let mut left = 0;
        for e in self.registry.entries() {
            let rest = match e.kind() {
                IndexKind::Hnsw | IndexKind::AcornGamma => e.drain(chunk, max, self.pool.as_ref(), &|f| {
                    let pts = self.points.read();
                    f(&pts.store, &pts.dead)
                }),
                IndexKind::Prefix { dim } => e.drain(chunk, max, self.pool.as_ref(), &|f| {
                    let pts = self.points.read();
                    let mat = self.mat.read();
                    if let Some(store) =
                        mat.as_ref().and_then(|m| m.level(dim)).and_then(|l| l.store.as_f32())
                    {
                        f(store, &pts.dead)
                    }
                }),
            };
            left = left.max(rest);
        }
        left as usize
    }

    /// Indexes every pending point, in parallel over `build_threads`; returns how many points
    /// it indexed (in the HNSW graph). On an empty graph this is the bulk build: the same
    /// parallel insert loop as [`Graph::build`], done in chunks so inserts are not held up.
    pub fn build(&self) -> usize {
        let len = || self.hnsw().map_or(0, |e| e.len());
        let before = len();
        self.index_pending(usize::MAX);
        len().saturating_sub(before)
    }

    /// Trains (or retrains) the codes when quantization is configured and the collection has
    /// reached [`crate::quant::TRAIN_MIN_POINTS`] live points, or grown
    /// [`crate::quant::RETRAIN_GROWTH`]-fold since a training whose sample was not full. Runs
    /// under the points' read lock: inserts wait for it (one pass over the vectors).
    fn train_codes_if_due(&self) {
        let Some(cfg) = &self.cfg.quantization else { return };
        let pts = self.points.read();
        let live = pts.live();
        {
            let q = self.quant.read();
            let due = match &q.codes {
                None => live >= crate::quant::TRAIN_MIN_POINTS,
                Some(_) => {
                    q.trained_sample < crate::quant::TRAIN_SAMPLE
                        && live >= q.trained_live.saturating_mul(crate::quant::RETRAIN_GROWTH)
                }
            };
            if !due {
                return;
            }
        }
        let codes = Codes::train(cfg, self.cfg.metric, &pts.store, &pts.dead);
        let sample = (live as usize).min(crate::quant::TRAIN_SAMPLE);
        *self.quant.write() = QuantState { codes: Some(codes), trained_live: live, trained_sample: sample };
    }

    /// Whether codes are trained and cover every row (searches can walk them).
    pub fn codes_ready(&self) -> bool {
        let pts = self.points.read();
        self.quant.read().codes.as_ref().is_some_and(|c| c.rows() >= pts.store.len())
    }

    fn threads(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.current_num_threads())
    }

    /// Declares (or with `None` removes) the Matryoshka prefixes: builds a prefix store per
    /// declared dimension from the stored vectors, rotated by `rotation` when given (fit one
    /// with [`Self::fit_rotation`]). Prefix graphs, when configured, start with every live point
    /// pending: [`Self::build`] or [`Self::index_pending`] fills them.
    pub fn set_matryoshka(&self, cfg: Option<MatryoshkaConfig>, rotation: Option<Rotation>) -> Result<()> {
        let _serial = self.indexing.lock();
        let pts = self.points.read();
        let next = match cfg {
            Some(c) => Some(Matryoshka::build(c, rotation, self.cfg.metric, &pts.store)?),
            None => None,
        };
        // Prefix graphs start with every live point pending.
        let mut graphs = Vec::new();
        if let Some(m) = &next {
            if let Some(params) = m.cfg.graph {
                let mut live = RoaringBitmap::new();
                live.insert_range(0..pts.store.len() as u32);
                live -= &pts.dead;
                for &dim in &m.cfg.dims {
                    let kind = IndexKind::Prefix { dim };
                    graphs.push(Entry::new(
                        kind,
                        m.graph_file(dim),
                        params,
                        self.cfg.metric,
                        dim,
                        live.clone(),
                    )?);
                }
            }
        }
        let mut mat = self.mat.write();
        *mat = next;
        self.registry.replace(|k| matches!(k, IndexKind::Prefix { .. }), graphs);
        Ok(())
    }

    /// Fits a PCA rotation on up to `sample` live stored vectors chosen with `seed` (all of
    /// them when fewer), in the metric's prepared form.
    pub fn fit_rotation(&self, sample: usize, seed: u64) -> Result<Rotation> {
        let pts = self.points.read();
        let live: Vec<u32> = (0..pts.store.len() as u32).filter(|id| !pts.dead.contains(*id)).collect();
        let ids = crate::matryoshka::calibrate::sample_ids(&live, sample, seed);
        let rows: Vec<&[f32]> = ids.iter().map(|&id| pts.store.get(id)).collect();
        Rotation::fit(&rows, self.cfg.dim)
    }

    /// The Matryoshka declaration's facts (prefixes, bytes, variance kept), when declared.
    pub fn matryoshka_info(&self) -> Option<MatryoshkaInfo> {
        let graph =
            |dim: usize| self.registry.get(IndexKind::Prefix { dim }).map(|e| (e.len(), e.memory_bytes()));
        self.mat.read().as_ref().map(|m| m.info(&graph))
    }

    /// The PCA rotation in use, when there is one (storage persists it).
    pub fn matryoshka_rotation(&self) -> Option<Rotation> {
        self.mat.read().as_ref().and_then(|m| m.rotation.clone())
    }

    /// The declared prefix dimensions (empty when none).
    pub fn matryoshka_dims(&self) -> Vec<usize> {
        self.mat.read().as_ref().map_or_else(Vec::new, |m| m.cfg.dims.clone())
    }

    /// A Matryoshka search ([`crate::matryoshka`]): the `k` nearest live points allowed by
    /// `filter`, found at prefix `mq.dim` (scan or prefix graph), narrowed by the funnel and
    /// rescored exactly at full dimension. `mq.dim` equal to the full dimension is exactly
    /// [`Self::search`]. Errors name the bad field (`dim`, `oversample`, `funnel`).
    pub fn search_matryoshka(
        &self,
        query: &[f32],
        filter: Option<&RoaringBitmap>,
        params: &SearchParams,
        mq: &MatryoshkaQuery,
    ) -> Result<SearchOutput> {
        self.search_matryoshka_stoppable(query, filter, params, mq, &NEVER)
    }

    /// [`Self::search_matryoshka`] polling `stop` in every stage (prefix scan or graph walk,
    /// each rescoring): `Err(IndexError::Stopped)` when it fires.
    pub fn search_matryoshka_stoppable(
        &self,
        query: &[f32],
        filter: Option<&RoaringBitmap>,
        params: &SearchParams,
        mq: &MatryoshkaQuery,
        stop: &Stop,
    ) -> Result<SearchOutput> {
        validate_vector(query, self.cfg.dim)?;
        mq.validate(&self.matryoshka_dims(), self.cfg.dim, params.k)?;
        if mq.dim == self.cfg.dim {
            return self.search_stoppable(query, filter, params, stop);
        }
        if params.ef == Some(0) {
            return Err(IndexError::InvalidParameter { name: "ef", reason: "must be at least 1".into() });
        }
        let mut q = query.to_vec();
        self.cfg.metric.prepare(&mut q);
        let pts = self.points.read();
        let mat = self.mat.read();
        let m = mat.as_ref().ok_or_else(|| IndexError::InvalidParameter {
            name: "dim",
            reason: "the collection declares no Matryoshka prefixes".into(),
        })?;
        let n = pts.store.len();
        let live = pts.live();
        let allowed_bm = filter.map(|f| {
            let mut a = f - &pts.dead;
            a.remove_range(n as u32..);
            a
        });
        let allowed = allowed_bm.as_ref().map_or(live, |a| a.len());
        let mut fo = FunnelOutcome::default();
        let ef = params.ef.unwrap_or(self.cfg.ef_search);
        let graph_entry = self.registry.get(IndexKind::Prefix { dim: mq.dim });
        let graph = graph_entry.as_ref().map(|e| e.read());
        let hits = m.candidates(
            graph.as_deref(),
            &pts.store,
            &pts.dead,
            &q,
            allowed_bm.as_ref(),
            allowed,
            live,
            params.k,
            ef,
            &self.cfg.planner,
            mq,
            &mut fo,
            stop,
        )?;
        let hits = match params.score_threshold {
            Some(b) => hits.into_iter().filter(|h| h.dist <= b).collect(),
            None => hits,
        };
        let first = fo.stages.first().map_or("prefix_scan", |s| s.path.as_str());
        let reason = format!(
            "matryoshka: {first} at prefix {} keeping {} x {}, {} funnel stage(s), rescored at full dimension {}",
            mq.dim,
            mq.oversample,
            params.k,
            mq.funnel.len(),
            self.cfg.dim
        );
        let explain = Explain {
            path: SearchPath::Matryoshka,
            reason,
            live_points: live,
            allowed_points: allowed,
            selectivity: if live == 0 { 1.0 } else { allowed as f64 / live as f64 },
            ef: fo.ef,
            nodes_visited: fo.nodes_visited,
            distances_computed: fo.stages.iter().map(|s| s.distances_computed).sum(),
            unindexed_scanned: fo.unindexed_scanned,
            matryoshka: fo.stages,
            quantization: None,
        };
        Ok(SearchOutput { hits, explain })
    }

    /// Calibration ([`crate::matryoshka::calibrate`]): recall@k against exact full-dimension
    /// search on a seeded sample of stored vectors used as queries, per (prefix, oversample),
    /// and the cheapest setting meeting the target.
    pub fn calibrate_matryoshka(&self, req: &CalibrationRequest) -> Result<CalibrationReport> {
        crate::matryoshka::calibrate::run(self, req, &NEVER)
    }

    /// [`Self::calibrate_matryoshka`] polling `stop` in every search it runs:
    /// `Err(IndexError::Stopped)` when it fires (no partial report).
    pub fn calibrate_matryoshka_stoppable(
        &self,
        req: &CalibrationRequest,
        stop: &Stop,
    ) -> Result<CalibrationReport> {
        crate::matryoshka::calibrate::run(self, req, stop)
    }

    /// The `k` nearest live points allowed by `filter` (a bitmap of internal ids; `None` allows
    /// all), by the path the planner chooses or `params.strategy` forces.
    ///
    /// Never returns a deleted or filtered-out id. In `Auto` mode, `k` at least the number of
    /// allowed points returns all of them. Errors for a query of the wrong dimension or with
    /// a non-finite component, `ef = 0`, or a forced path the index does not have.
    pub fn search(
        &self,
        query: &[f32],
        filter: Option<&RoaringBitmap>,
        params: &SearchParams,
    ) -> Result<SearchOutput> {
        self.search_stoppable(query, filter, params, &NEVER)
    }

    /// [`Self::search`] polling `stop` every few hundred distances on every path (exact scan,
    /// graph walks, the unindexed tail):
    /// `Err(IndexError::Stopped)` when it fires, never a partial result.
    pub fn search_stoppable(
        &self,
        query: &[f32],
        filter: Option<&RoaringBitmap>,
        params: &SearchParams,
        stop: &Stop,
    ) -> Result<SearchOutput> {
        stop.check()?;
        validate_vector(query, self.cfg.dim)?;
        if params.ef == Some(0) {
            return Err(IndexError::InvalidParameter { name: "ef", reason: "must be at least 1".into() });
        }
        params.quantization.validate()?;
        let mut q = query.to_vec();
        self.cfg.metric.prepare(&mut q);
        let pts = self.points.read();
        let n = pts.store.len();
        let quant = self.quant.read();
        // Codes serve this query when configured, trained, covering every row, and not ignored.
        let (codes, quant_explain) = match &self.cfg.quantization {
            None => (None, None),
            Some(cfg) => {
                let (codes, reason) = match &quant.codes {
                    _ if params.quantization.ignore => (None, "ignored by the query (quantization.ignore)"),
                    Some(c) if c.rows() >= n => (Some(c), "codes walked, candidates rescored"),
                    Some(_) => (None, "codes do not cover every row yet"),
                    None => (None, "codes not trained yet (too few points)"),
                };
                let qx = QuantExplain {
                    kind: cfg.kind().to_string(),
                    used: codes.is_some(),
                    reason: reason.to_string(),
                    code_distances: 0,
                    rescored: 0,
                    error_bound: None,
                };
                (codes, Some(qx))
            }
        };
        let live = pts.live();
        // The exact allowed set: filter minus tombstones and gaps, within the id space.
        let allowed_bm = filter.map(|f| {
            let mut a = f - &pts.dead;
            a.remove_range(n as u32..);
            a
        });
        let allowed = allowed_bm.as_ref().map_or(live, |a| a.len());
        let hnsw_entry = self.hnsw()?;
        let acorn_entry = self.registry.get(IndexKind::AcornGamma);
        let hnsw = hnsw_entry.read();
        let acorn = acorn_entry.as_ref().map(|e| e.read());
        let mut input = PlanInput {
            strategy: params.strategy,
            k: params.k,
            ef: params.ef.unwrap_or(self.cfg.ef_search).max(params.k),
            live,
            allowed,
            filtered: filter.is_some(),
            hnsw_indexed: hnsw.index.len() as u64,
            acorn_gamma: acorn.as_ref().filter(|a| !a.index.is_empty()).map(|a| a.index.params().gamma),
            local_selectivity: None,
        };
        let ctx = QueryCtx {
            pts: &pts,
            q: &q,
            k: params.k,
            allowed: allowed_bm.as_ref(),
            stop,
            metric: self.cfg.metric,
            codes,
            qs: params.quantization,
        };
        // In the middle selectivities the planner asks how dense the filter is around the query;
        // the probe's dense set and layer-0 entry are reused by the HNSW-graph walk.
        let mut probe_stats = SearchStats::default();
        let mut pre: Option<(DenseIdSet, Option<Probe>)> = None;
        if planner::wants_probe(&self.cfg.planner, &input) {
            if let Some(d) = ctx.dense() {
                // On codes when the walk will read codes: the probe's entry (and its distance)
                // seeds that walk, so both must come from the same source.
                let p = match codes {
                    Some(c) => {
                        c.visit(&q, ProbeOn { graph: &hnsw.index, dense: &d, stats: &mut probe_stats })
                    }
                    None => hnsw.index.probe(&pts.store, &q, &d, &mut probe_stats),
                };
                input.local_selectivity = p.map(|p| p.local_selectivity());
                pre = Some((d, p));
            }
        }
        let plan = planner::plan(&self.cfg.planner, &input);
        let ef = plan.ef.unwrap_or(input.ef);
        let mut explain = Explain {
            path: plan.path,
            reason: plan.reason,
            live_points: live,
            allowed_points: allowed,
            selectivity: input.selectivity(),
            ef: None,
            nodes_visited: probe_stats.nodes_visited,
            distances_computed: probe_stats.distances_computed,
            unindexed_scanned: 0,
            matryoshka: Vec::new(),
            quantization: quant_explain,
        };
        let hits = match plan.path {
            // The planner never picks Matryoshka (only `search_matryoshka` runs it); an exact
            // scan is the right answer if it ever did.
            SearchPath::Exact | SearchPath::Matryoshka
                if codes.is_some() && allowed >= CODE_SCAN_MIN_ROWS =>
            {
                ctx.code_scan(&mut explain)?
            }
            SearchPath::Exact | SearchPath::Matryoshka => {
                if let Some(qx) = explain.quantization.as_mut() {
                    if qx.used {
                        qx.used = false;
                        qx.reason = format!("{} allowed rows: scanned in full precision", allowed);
                    }
                }
                let r = flat::search_stoppable(
                    &pts.store,
                    self.cfg.metric,
                    &q,
                    params.k,
                    ctx.allowed_rows(),
                    None,
                    stop,
                );
                if let Some(cause) = r.stopped {
                    return Err(IndexError::Stopped { cause });
                }
                explain.distances_computed = r.distances_computed;
                r.hits
            }
            SearchPath::Hnsw | SearchPath::Acorn1 => {
                explain.ef = Some(ef);
                let acorn_walk = plan.path == SearchPath::Acorn1;
                ctx.graph_search(&hnsw, self.cfg.metric, ef, acorn_walk, pre, &mut explain)?
            }
            SearchPath::AcornGamma => {
                explain.ef = Some(ef);
                match &acorn {
                    // The probe's entry belongs to the HNSW graph: only its dense set carries over.
                    Some(slot) => {
                        let pre = pre.map(|(d, _)| (d, None));
                        ctx.graph_search(slot, self.cfg.metric, ef, true, pre, &mut explain)?
                    }
                    // The planner only picks AcornGamma when the graph exists; a forced
                    // Acorn without one became Acorn1 there.
                    None => ctx.graph_search(&hnsw, self.cfg.metric, ef, true, pre, &mut explain)?,
                }
            }
        };
        let hits = match params.score_threshold {
            Some(b) => hits.into_iter().filter(|h| h.dist <= b).collect(),
            None => hits,
        };
        Ok(SearchOutput { hits, explain })
    }

    /// [`Self::search`] for many queries with one filter, spread over the current rayon pool.
    /// Results are in query order; the first error is returned.
    pub fn search_batch(
        &self,
        queries: &[&[f32]],
        filter: Option<&RoaringBitmap>,
        params: &SearchParams,
    ) -> Result<Vec<SearchOutput>> {
        queries.par_iter().map(|q| self.search(q, filter, params)).collect()
    }

    /// Writes every registered index into `dir`: the HNSW graph as [`HNSW_FILE`], the
    /// ACORN-gamma graph as [`ACORN_FILE`], each prefix graph under its fingerprinted name
    /// (each written to a temporary file and renamed), and the quantized codes as
    /// [`CODES_FILE`]. Points still pending are not in the files; after a load they are
    /// pending again.
    pub fn save_graphs(&self, dir: &Path) -> Result<()> {
        let _serial = self.indexing.lock();
        std::fs::create_dir_all(dir).map_err(|source| IndexError::Io { path: dir.to_path_buf(), source })?;
        let entries = self.registry.entries();
        for e in &entries {
            e.save(dir)?;
        }
        self.save_codes(dir)?;
        // Files of an earlier declaration or rotation can never load again: remove them.
        if let Ok(rd) = std::fs::read_dir(dir) {
            for f in rd.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let ours = entries.iter().any(|e| e.file() == name);
                if !ours && name.starts_with(MATRYOSHKA_FILE_PREFIX) && name.ends_with(".graph") {
                    let _ = std::fs::remove_file(f.path());
                }
            }
        }
        Ok(())
    }

    /// Replaces the registered indexes with the files in `dir` written by
    /// [`Self::save_graphs`]. Live points a loaded index lacks become pending. A missing or
    /// unusable file keeps the current index (and its pending points) and is reported, never
    /// an error: the vectors are the truth and an index can always be rebuilt from them.
    pub fn load_graphs(&self, dir: &Path) -> LoadReport {
        let _serial = self.indexing.lock();
        let pts = self.points.read();
        let n = pts.store.len();
        let mut report = LoadReport {
            hnsw: GraphLoad::Missing { pending: 0 },
            acorn: None,
            matryoshka: Vec::new(),
            codes: None,
        };
        for e in self.registry.entries() {
            let outcome = e.load(dir, self.cfg.metric, n, &pts.dead);
            match e.kind() {
                IndexKind::Hnsw => report.hnsw = outcome,
                IndexKind::AcornGamma => report.acorn = Some(outcome),
                IndexKind::Prefix { dim } => report.matryoshka.push((dim, outcome)),
            }
        }
        report.codes = self.load_codes(dir, &pts);
        drop(pts);
        self.ungap_graph_nodes();
        report
    }

    /// A loaded graph may hold nodes for ids that were deleted after it was saved (at open
    /// they are gaps: no row was inserted). Such an id is a tombstone, not a gap: reusing it
    /// would give the old node's edges to a new vector, and the graph would never re-place it.
    fn ungap_graph_nodes(&self) {
        let entries = self.registry.entries();
        let mut pts = self.points.write();
        let held: Vec<u32> =
            pts.gaps.iter().filter(|&id| entries.iter().any(|e| e.read().index.contains(id))).collect();
        for id in held {
            pts.gaps.remove(id);
        }
    }

    /// Writes the codes (when trained and covering every row) as [`CODES_FILE`], or removes
    /// an older file when there are none, so a stale file can never load. Serialised under the
    /// locks, written after they are released (the fsync does not hold up inserts).
    fn save_codes(&self, dir: &Path) -> Result<()> {
        let path = dir.join(CODES_FILE);
        let bytes = match &self.cfg.quantization {
            None => None,
            Some(cfg) => {
                let pts = self.points.read();
                let q = self.quant.read();
                q.codes.as_ref().filter(|c| c.rows() >= pts.store.len()).map(|c| {
                    persist::encode(c, cfg, self.cfg.metric, &pts.store, q.trained_live, q.trained_sample)
                })
            }
        };
        match bytes {
            Some(b) => crate::graph::write_atomically(&path, &b),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(IndexError::Io { path, source: e }),
                _ => Ok(()),
            },
        }
    }

    /// Installs the codes saved in `dir` when they fit this collection's configuration and
    /// vectors; otherwise keeps the current state (codes are then trained from the vectors).
    fn load_codes(&self, dir: &Path, pts: &Points) -> Option<CodeLoad> {
        let cfg = self.cfg.quantization.as_ref()?;
        let path = dir.join(CODES_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(CodeLoad::Missing),
            Err(e) => return Some(CodeLoad::Rejected { reason: format!("{}: {e}", path.display()) }),
        };
        match persist::decode(&bytes, cfg, self.cfg.metric, &pts.store) {
            Ok(l) => {
                *self.quant.write() = QuantState {
                    codes: Some(l.codes),
                    trained_live: l.trained_live,
                    trained_sample: l.trained_sample,
                };
                Some(CodeLoad::Loaded { rows: l.rows, reencoded: l.reencoded })
            }
            Err(reason) => Some(CodeLoad::Rejected { reason: format!("{}: {reason}", path.display()) }),
        }
    }

    /// Counts and memory.
    pub fn stats(&self) -> IndexStats {
        let pts = self.points.read();
        let quant = self.quant.read();
        let mut graph_bytes = 0;
        let mut indexed = 0;
        for e in self.registry.entries() {
            match e.kind() {
                IndexKind::Hnsw => {
                    indexed = e.len() as u64;
                    graph_bytes += e.memory_bytes() as u64;
                }
                IndexKind::AcornGamma => graph_bytes += e.memory_bytes() as u64,
                // Reported with the prefix stores (`matryoshka_info`).
                IndexKind::Prefix { .. } => {}
            }
        }
        IndexStats {
            points: pts.store.len() as u64,
            live: pts.live(),
            indexed,
            pending: self.registry.pending(),
            vector_bytes: pts.store.memory_bytes() as u64,
            graph_bytes,
            code_bytes: quant.codes.as_ref().map_or(0, |c| c.memory_bytes() as u64),
            code_bytes_per_point: quant.codes.as_ref().map_or(0, |c| c.bytes_per_row() as u64),
        }
    }
}

/// The per-query state shared by the paths.
struct QueryCtx<'a> {
    pts: &'a Points,
    q: &'a [f32],
    k: usize,
    /// Filter minus tombstones, when filtered.
    allowed: Option<&'a RoaringBitmap>,
    /// The caller's stop signal.
    stop: &'a Stop,
    metric: Metric,
    /// Codes to walk and scan, when they serve this query.
    codes: Option<&'a Codes>,
    qs: QuantSearch,
}

impl QueryCtx<'_> {
    /// Exact distances of `cands` from the full vectors, closest first (the stop signal is
    /// polled as in every scan).
    fn rescore(&self, cands: &[Neighbor]) -> Result<Vec<Neighbor>> {
        let ids: Vec<u32> = cands.iter().map(|c| c.id).collect();
        let src = F32Scorer::new(&self.pts.store, self.metric.kernel(), self.q);
        let r = flat::scan_with(&src, ids.len(), Allowed::Ids(&ids), self.stop);
        if let Some(cause) = r.stopped {
            return Err(IndexError::Stopped { cause });
        }
        Ok(r.hits)
    }

    /// Rescores `found` (code distances) when the query asks for it, and records the work.
    fn finish_codes(
        &self,
        mut found: Vec<Neighbor>,
        code_distances: u64,
        bound: Option<f32>,
        explain: &mut Explain,
    ) -> Result<Vec<Neighbor>> {
        let rescored = if self.qs.rescore {
            found = self.rescore(&found)?;
            explain.distances_computed += found.len() as u64;
            found.len() as u64
        } else {
            0
        };
        if let Some(qx) = explain.quantization.as_mut() {
            qx.code_distances += code_distances;
            qx.rescored += rescored;
            qx.error_bound = bound;
        }
        Ok(found)
    }

    /// The exact path over codes: the `oversampling * k` best allowed rows by code distance,
    /// rescored with the full vectors.
    fn code_scan(&self, explain: &mut Explain) -> Result<Vec<Neighbor>> {
        let codes = self
            .codes
            .ok_or_else(|| IndexError::PathUnavailable { path: "codes", reason: "no codes".into() })?;
        let r = self.qs.candidates(self.k, codes.scan_candidates(self.k));
        let (found, computed, bound) = codes.visit(self.q, ScanCodes { ctx: self, r })?;
        let bound = Some(bound);
        explain.distances_computed += computed;
        if let Some(qx) = explain.quantization.as_mut() {
            qx.reason = format!("{computed} rows scanned on codes, {r} candidates kept for rescoring");
        }
        let mut hits = self.finish_codes(found, computed, bound, explain)?;
        hits.truncate(self.k);
        Ok(hits)
    }

    /// The rows an exact scan may return.
    fn allowed_rows(&self) -> Allowed<'_> {
        match self.allowed {
            Some(a) => Allowed::Bitmap(a),
            None => Allowed::All { dead: (!self.pts.dead.is_empty()).then_some(&self.pts.dead) },
        }
    }

    /// The allowed set as a dense bitset for a graph walk; `None` when every graph node is
    /// allowed (no filter, no tombstone).
    fn dense(&self) -> Option<DenseIdSet> {
        let n = self.pts.store.len();
        match self.allowed {
            Some(a) => Some(DenseIdSet::from_roaring(a, None, n)),
            None if self.pts.dead.is_empty() => None,
            None => Some(DenseIdSet::all_except(n, Some(&self.pts.dead))),
        }
    }

    /// The pending points of a graph that the query may return, scanned exactly.
    fn tail(&self, pending: &RoaringBitmap, metric: Metric, explain: &mut Explain) -> Result<Vec<Neighbor>> {
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let tail = match self.allowed {
            Some(a) => pending & a,
            None => pending - &self.pts.dead,
        };
        let r = flat::search_stoppable(
            &self.pts.store,
            metric,
            self.q,
            self.k,
            Allowed::Bitmap(&tail),
            None,
            self.stop,
        );
        if let Some(cause) = r.stopped {
            return Err(IndexError::Stopped { cause });
        }
        explain.unindexed_scanned += tail.len();
        explain.distances_computed += r.distances_computed;
        Ok(r.hits)
    }

    /// A walk of Grove's graph (filtered HNSW, or ACORN when `acorn_walk`), merged with the tail.
    /// `pre`: the allowed set already made dense, and a probe of this graph for the query.
    fn graph_search(
        &self,
        slot: &Slot<Graph>,
        metric: Metric,
        ef: usize,
        acorn_walk: bool,
        pre: Option<(DenseIdSet, Option<Probe>)>,
        explain: &mut Explain,
    ) -> Result<Vec<Neighbor>> {
        let (dense, entry) = match pre {
            Some((d, p)) => (Some(d), p),
            None => (self.dense(), None),
        };
        let all;
        let filter = match (&dense, acorn_walk) {
            (Some(d), false) => GraphFilter::Hnsw(d),
            (Some(d), true) => GraphFilter::Acorn(d),
            (None, false) => GraphFilter::None,
            (None, true) => {
                all = DenseIdSet::all_except(self.pts.store.len(), None);
                GraphFilter::Acorn(&all)
            }
        };
        let mut stats = SearchStats::default();
        let found = match self.codes {
            None => {
                let src = F32Scorer::new(&self.pts.store, slot.index.metric().kernel(), self.q);
                let found =
                    slot.index.search_with(&src, self.k, ef, filter, entry.as_ref(), &mut stats, self.stop);
                if let Some(cause) = stats.stopped {
                    return Err(IndexError::Stopped { cause });
                }
                explain.distances_computed += stats.distances_computed;
                found
            }
            Some(c) => c.visit(
                self.q,
                WalkCodes {
                    ctx: self,
                    graph: &slot.index,
                    ef,
                    filter,
                    entry: entry.as_ref(),
                    stats: &mut stats,
                    explain,
                },
            )?,
        };
        explain.nodes_visited += stats.nodes_visited;
        let tail = self.tail(&slot.pending, metric, explain)?;
        Ok(merge(found, tail, self.k))
    }
}

/// The planner's probe on codes, so its entry (and distance) can seed a walk on the same codes.
struct ProbeOn<'a> {
    graph: &'a Graph,
    dense: &'a DenseIdSet,
    stats: &'a mut SearchStats,
}

impl CodeVisitor for ProbeOn<'_> {
    type Out = Option<Probe>;
    fn visit<S: Scorer>(self, sc: &S, _bound: f32) -> Option<Probe> {
        self.graph.probe_with(sc, self.dense, self.stats)
    }
}

/// The exact path's scan on codes: the `r` best allowed rows by code distance, the distances
/// computed, and the codes' error bound.
struct ScanCodes<'a, 'q> {
    ctx: &'a QueryCtx<'q>,
    r: usize,
}

impl CodeVisitor for ScanCodes<'_, '_> {
    type Out = Result<(Vec<Neighbor>, u64, f32)>;
    fn visit<S: Scorer>(self, sc: &S, bound: f32) -> Self::Out {
        let f = flat::scan_with(sc, self.r, self.ctx.allowed_rows(), self.ctx.stop);
        if let Some(cause) = f.stopped {
            return Err(IndexError::Stopped { cause });
        }
        Ok((f.hits, f.distances_computed, bound))
    }
}

/// A graph walk over codes keeping `r` candidates by code distance (the code kind's default,
/// or the query's oversampling), then rescored. The probe's entry distance is exact, which only
/// makes the start a better one.
struct WalkCodes<'a, 'q> {
    ctx: &'a QueryCtx<'q>,
    graph: &'a Graph,
    ef: usize,
    filter: GraphFilter<'a>,
    entry: Option<&'a Probe>,
    stats: &'a mut SearchStats,
    explain: &'a mut Explain,
}

impl CodeVisitor for WalkCodes<'_, '_> {
    type Out = Result<Vec<Neighbor>>;
    fn visit<S: Scorer>(self, sc: &S, bound: f32) -> Self::Out {
        let ctx = self.ctx;
        let default = ctx.codes.map_or(self.ef, |c| c.walk_candidates(ctx.k, self.ef));
        let r = ctx.qs.candidates(ctx.k, default);
        let found =
            self.graph.search_with(sc, r, self.ef.max(r), self.filter, self.entry, self.stats, ctx.stop);
        if let Some(cause) = self.stats.stopped {
            return Err(IndexError::Stopped { cause });
        }
        self.explain.distances_computed += self.stats.distances_computed;
        ctx.finish_codes(found, self.stats.distances_computed, Some(bound), self.explain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(dim: usize) -> IndexConfig {
        IndexConfig::new(dim, Metric::L2)
    }

    #[test]
    fn config_validation_names_the_parameter() {
        assert!(cfg(4).validate().is_ok());
        let e = IndexConfig { dim: 0, ..cfg(4) }.validate().unwrap_err();
        assert!(e.to_string().contains("dim"), "{e}");
        let e = IndexConfig { ef_search: 0, ..cfg(4) }.validate().unwrap_err();
        assert!(e.to_string().contains("ef_search"), "{e}");
        let mut c = cfg(4);
        c.hnsw.gamma = 3;
        assert!(c.validate().unwrap_err().to_string().contains("gamma"));
        let c = IndexConfig { acorn: Some(GraphParams::default()), ..cfg(4) };
        assert!(c.validate().unwrap_err().to_string().contains("gamma"));
    }

    #[test]
    fn ids_gaps_and_reuse() {
        let idx = CollectionIndex::new(cfg(2)).unwrap();
        idx.insert(0, &[0.0, 0.0]).unwrap();
        idx.insert(3, &[3.0, 0.0]).unwrap();
        assert_eq!(idx.len(), 4);
        assert_eq!(idx.live_count(), 2);
        assert_eq!(idx.deleted().iter().collect::<Vec<_>>(), vec![1, 2]);
        assert!(idx.vector(1).is_none());
        idx.insert(1, &[1.0, 0.0]).unwrap(); // fills a gap
        assert_eq!(idx.vector(1), Some(vec![1.0, 0.0]));
        assert!(idx.insert(1, &[1.0, 0.0]).is_err(), "ids are never reused");
        assert!(idx.delete(1));
        assert!(!idx.delete(1));
        assert!(!idx.delete(99));
        assert!(idx.insert(1, &[1.0, 0.0]).is_err(), "a deleted id stays deleted");
        assert!(matches!(idx.insert(9, &[1.0]), Err(IndexError::DimensionMismatch { .. })));
        assert!(matches!(idx.insert(9, &[1.0, f32::NAN]), Err(IndexError::NonFinite { index: 1 })));
        let out = idx.search(&[1.0, 0.0], None, &SearchParams::default()).unwrap();
        assert_eq!(out.hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!(out.explain.live_points, 2);
    }

    #[test]
    fn bad_queries_are_errors() {
        let idx = CollectionIndex::new(cfg(2)).unwrap();
        idx.insert(0, &[0.0, 0.0]).unwrap();
        assert!(idx.search(&[0.0], None, &SearchParams::default()).is_err());
        assert!(idx.search(&[0.0, f32::INFINITY], None, &SearchParams::default()).is_err());
        let p = SearchParams { ef: Some(0), ..Default::default() };
        assert!(idx.search(&[0.0, 0.0], None, &p).is_err());
    }
}
