//! Multi-vectors (late interaction, ColBERT-style): a point holds a matrix of rows of one
//! dimension and is scored by MaxSim ([`maxsim`]).
//!
//! Search has two paths, and [`MultivecExplain`] says which ran and why:
//! - **exact MaxSim** over the allowed points, when few are allowed (at most
//!   [`MultiSearchParams::exact_max_points`], or no more than the candidates the other path
//!   would rescore) or when the caller forces `Strategy::Exact`;
//! - **FDE + rescore**: the query's MUVERA encoding ([`fde`]) searches an ordinary dense
//!   [`CollectionIndex`] holding the documents' encodings (inner product), through its public
//!   API, so filters, tombstones, the planner and its Explain work unchanged; the
//!   `ceil(oversampling * k)` candidates it returns are rescored with exact MaxSim from
//!   [`MultiStore`], and the best `k` kept. Returned scores are always exact MaxSim.
//!
//! The caller (storage) owns the dense index (its pending set, graphs, rebuilds) and keeps
//! [`MultiVectorField`]'s store in step with it: insert the prepared matrix and the encoding
//! under the same internal id, delete both together. Pure compute: no I/O.

pub mod fde;
pub mod maxsim;

use std::sync::Arc;

use parking_lot::RwLock;
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use crate::collection::{CollectionIndex, SearchParams};
use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::explain::{Explain, SearchPath, Strategy};
use crate::stop::{Stop, StopCheck};
use crate::topk::{Neighbor, TopK};

pub use fde::{FdeEncoder, FdeParams};

/// Most rows a stored matrix may have (a ColBERT passage has ~100-300 tokens; this bounds
/// the cost of one MaxSim, `rows_q * rows_d * dim`).
pub const MAX_ROWS: usize = 4096;

/// The matrices of one multi-vector field by internal id, prepared for the metric (cosine
/// rows normalised). Readers clone an `Arc` and never hold the lock while scoring.
#[derive(Debug)]
pub struct MultiStore {
    dim: usize,
    rows: RwLock<Vec<Option<Arc<[f32]>>>>,
}

impl MultiStore {
    /// An empty store of rows of `dim`.
    pub fn new(dim: usize) -> Self {
        MultiStore { dim, rows: RwLock::new(Vec::new()) }
    }

    /// Stores `matrix` (prepared) under `id`, replacing what was there.
    pub fn insert(&self, id: u32, matrix: Vec<f32>) {
        let mut rows = self.rows.write();
        let i = id as usize;
        if rows.len() <= i {
            rows.resize(i + 1, None);
        }
        rows[i] = Some(matrix.into());
    }

    /// Drops `id`'s matrix; true if there was one.
    pub fn delete(&self, id: u32) -> bool {
        self.rows.write().get_mut(id as usize).and_then(Option::take).is_some()
    }

    /// `id`'s matrix (flat, prepared).
    pub fn get(&self, id: u32) -> Option<Arc<[f32]>> {
        self.rows.read().get(id as usize).cloned().flatten()
    }

    /// Matrices stored.
    pub fn len(&self) -> u64 {
        self.rows.read().iter().filter(|r| r.is_some()).count() as u64
    }

    /// Whether no matrix is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of row data held.
    pub fn bytes(&self) -> u64 {
        self.rows.read().iter().flatten().map(|r| (r.len() * 4) as u64).sum()
    }

    /// Row dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

/// A multi-vector field: metric, row dimension, encoder and the matrices.
#[derive(Debug)]
pub struct MultiVectorField {
    metric: Metric,
    encoder: FdeEncoder,
    store: MultiStore,
}

/// A document matrix ready to insert: its prepared rows and its encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedMatrix {
    /// The rows as stored (normalised for cosine), flat.
    pub rows: Vec<f32>,
    /// The FDE the dense index holds.
    pub fde: Vec<f32>,
}

/// Knobs of one multi-vector search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultiSearchParams {
    /// Hits wanted.
    pub k: usize,
    /// Beam width of the FDE index's graph search (raised to the candidates wanted).
    pub ef: Option<usize>,
    /// `Exact` forces exact MaxSim; others pass to the FDE index's planner.
    pub strategy: Strategy,
    /// Candidates rescored = `ceil(oversampling * k)` (at least `k`).
    pub oversampling: f64,
    /// At most this many allowed points are scored exactly instead of through the FDE index.
    pub exact_max_points: u64,
    /// Drop hits whose MaxSim score is below this.
    pub score_threshold: Option<f32>,
}

impl Default for MultiSearchParams {
    fn default() -> Self {
        MultiSearchParams {
            k: 10,
            ef: None,
            strategy: Strategy::Auto,
            oversampling: DEFAULT_OVERSAMPLING,
            exact_max_points: DEFAULT_EXACT_MAX_POINTS,
            score_threshold: None,
        }
    }
}

/// Default candidates per hit rescored after the FDE search. On the oracle test's data (3,000
/// documents of 4-12 rows of 32) recall@10 was 0.33-0.39 at 1, 0.88-0.98 at 10, 0.975-1.0 at
/// 20 and ~1.0 at 40; `examples/multivec_bench.rs` prints the figure at larger scale.
pub const DEFAULT_OVERSAMPLING: f64 = 20.0;
/// Default largest allowed set scored exactly: one MaxSim of 16x16 rows of 64 costs ~16k
/// multiply-adds, so a thousand of them is a millisecond or two, cheaper than a graph walk of
/// the long encodings plus rescoring.
pub const DEFAULT_EXACT_MAX_POINTS: u64 = 1000;
/// Largest oversampling accepted.
pub const MAX_OVERSAMPLING: f64 = 100.0;

/// Which multi-vector path answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultivecPath {
    /// MaxSim over every allowed point.
    ExactMaxSim,
    /// FDE candidates from the dense index, rescored with MaxSim.
    FdeRescore,
}

/// What a multi-vector search did (beside the dense index's own [`Explain`] of the FDE
/// search, or a synthesized one for the exact path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultivecExplain {
    /// The path.
    pub path: MultivecPath,
    /// Why, with the numbers.
    pub reason: String,
    /// Rows of the query matrix.
    pub query_rows: usize,
    /// Allowed points holding this field.
    pub allowed_points: u64,
    /// Candidates from the FDE index (0 on the exact path).
    pub candidates: u64,
    /// Points scored with exact MaxSim.
    pub rescored: u64,
    /// Length of the encodings.
    pub fde_dim: usize,
}

/// Hits (internal distance = `-MaxSim`, so the usual smaller-is-closer order holds), the
/// dense index's explain (or the exact path's), and the multi-vector record.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiSearchOutput {
    /// Best first; `dist = -score`.
    pub hits: Vec<Neighbor>,
    /// The FDE search's explain (FDE path) or the exact scan's.
    pub explain: Explain,
    /// Which path and its counts.
    pub multi: MultivecExplain,
}

impl MultiVectorField {
    /// A field of rows of `dim` under `metric`, encoded with `params`.
    pub fn new(dim: usize, metric: Metric, params: FdeParams) -> Result<Self> {
        Ok(MultiVectorField { metric, encoder: FdeEncoder::new(dim, params)?, store: MultiStore::new(dim) })
    }

    /// Row dimension.
    pub fn dim(&self) -> usize {
        self.store.dim
    }

    /// The metric rows are compared with.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Length of the encodings: the dimension of the dense index the caller keeps, searched
    /// by inner product ([`Metric::Dot`]).
    pub fn fde_dim(&self) -> usize {
        self.encoder.out_dim()
    }

    /// The matrices.
    pub fn store(&self) -> &MultiStore {
        &self.store
    }

    fn check_shape(&self, rows: &[f32]) -> Result<usize> {
        let dim = self.dim();
        if rows.is_empty() || !rows.len().is_multiple_of(dim) {
            return Err(IndexError::InvalidParameter {
                name: "matrix",
                reason: format!("{} floats is not a whole number (at least 1) of rows of {dim}", rows.len()),
            });
        }
        let n = rows.len() / dim;
        if n > MAX_ROWS {
            return Err(IndexError::InvalidParameter {
                name: "matrix",
                reason: format!("{n} rows; a multi-vector holds at most {MAX_ROWS}"),
            });
        }
        if let Some(index) = rows.iter().position(|x| !x.is_finite()) {
            return Err(IndexError::NonFinite { index });
        }
        Ok(n)
    }

    /// Checks (whole rows, finite, at most [`MAX_ROWS`]) and prepares a document matrix.
    pub fn prepare(&self, rows: &[f32]) -> Result<PreparedMatrix> {
        self.check_shape(rows)?;
        let mut rows = rows.to_vec();
        maxsim::prepare_rows(self.metric, &mut rows, self.dim());
        let fde = self.encoder.encode_document(&rows)?;
        Ok(PreparedMatrix { rows, fde })
    }

    /// Stores a prepared matrix under `id` (the caller inserts `fde` into its dense index
    /// under the same id).
    pub fn insert(&self, id: u32, prepared_rows: Vec<f32>) {
        self.store.insert(id, prepared_rows);
    }

    /// Drops `id` (the caller deletes it from its dense index too).
    pub fn delete(&self, id: u32) -> bool {
        self.store.delete(id)
    }

    /// `id`'s stored matrix, flat.
    pub fn matrix(&self, id: u32) -> Option<Vec<f32>> {
        self.store.get(id).map(|m| m.to_vec())
    }

    /// MaxSim of a prepared query against `id`'s matrix.
    fn score(&self, query: &[f32], id: u32) -> Option<f32> {
        self.store.get(id).map(|d| maxsim::max_sim(self.metric, query, &d, self.dim()))
    }

    /// The `k` best points by MaxSim among `filter` (or all stored points), by the path the
    /// module docs describe. `fde_index` is the caller's dense index of the encodings.
    pub fn search(
        &self,
        fde_index: &CollectionIndex,
        query: &[f32],
        filter: Option<&RoaringBitmap>,
        params: &MultiSearchParams,
        stop: &Stop,
    ) -> Result<MultiSearchOutput> {
        stop.check()?;
        let query_rows = self.check_shape(query)?;
        if params.k == 0 {
            return Err(IndexError::InvalidParameter { name: "k", reason: "must be at least 1".into() });
        }
        if !(params.oversampling >= 1.0 && params.oversampling <= MAX_OVERSAMPLING) {
            return Err(IndexError::InvalidParameter {
                name: "oversampling",
                reason: format!("must be between 1 and {MAX_OVERSAMPLING}, got {}", params.oversampling),
            });
        }
        let mut q = query.to_vec();
        maxsim::prepare_rows(self.metric, &mut q, self.dim());
        let live = self.store.len();
        let allowed = match filter {
            Some(f) => {
                let rows = self.store.rows.read();
                f.iter().filter(|&id| rows.get(id as usize).is_some_and(Option::is_some)).count() as u64
            }
            None => live,
        };
        let want = ((params.oversampling * params.k as f64).ceil() as usize).max(params.k);
        let exact_reason = if params.strategy == Strategy::Exact {
            Some("forced by strategy=exact".to_string())
        } else if allowed <= params.exact_max_points {
            Some(format!("{allowed} allowed points <= exact_max_points {}", params.exact_max_points))
        } else if allowed <= want as u64 {
            Some(format!("{allowed} allowed points <= the {want} candidates the FDE path would rescore"))
        } else {
            None
        };
        let selectivity = if live == 0 { 1.0 } else { allowed as f64 / live as f64 };
        let mut top = TopK::new(params.k);
        let mut offer = |id: u32, s: f32| {
            if params.score_threshold.is_none_or(|t| s >= t) {
                top.push(Neighbor::new(id, -s));
            }
        };
        let pair_cost = (query_rows as u64).max(1);
        if let Some(reason) = exact_reason {
            let mut check = StopCheck::new(stop, 0);
            let mut work = 0u64;
            let mut scored = 0u64;
            let ids: Box<dyn Iterator<Item = u32>> = match filter {
                Some(f) => Box::new(f.iter()),
                None => Box::new(0..self.store.rows.read().len() as u32),
            };
            for id in ids {
                if let Some(s) = self.score(&q, id) {
                    offer(id, s);
                    scored += 1;
                    work += pair_cost;
                    if check.due(work) {
                        break;
                    }
                }
            }
            check.result()?;
            let explain = Explain {
                path: SearchPath::Exact,
                reason: format!("multi-vector exact MaxSim: {reason}"),
                live_points: live,
                allowed_points: allowed,
                selectivity,
                ef: None,
                nodes_visited: 0,
                distances_computed: scored,
                unindexed_scanned: 0,
                matryoshka: Vec::new(),
                quantization: None,
            };
            let multi = MultivecExplain {
                path: MultivecPath::ExactMaxSim,
                reason,
                query_rows,
                allowed_points: allowed,
                candidates: 0,
                rescored: scored,
                fde_dim: self.fde_dim(),
            };
            return Ok(MultiSearchOutput { hits: top.into_sorted_vec(), explain, multi });
        }
        let fq = self.encoder.encode_query(&q)?;
        let sp = SearchParams {
            k: want,
            ef: Some(params.ef.unwrap_or(fde_index.config().ef_search).max(want)),
            strategy: params.strategy,
            score_threshold: None,
            quantization: Default::default(),
        };
        let out = fde_index.search_stoppable(&fq, filter, &sp, stop)?;
        let mut check = StopCheck::new(stop, 0);
        let mut rescored = 0u64;
        for n in &out.hits {
            if let Some(s) = self.score(&q, n.id) {
                offer(n.id, s);
                rescored += 1;
                if check.due(rescored * pair_cost) {
                    break;
                }
            }
        }
        check.result()?;
        let multi = MultivecExplain {
            path: MultivecPath::FdeRescore,
            reason: format!(
                "{allowed} allowed points > exact_max_points {}: FDE search for ceil({} * {}) = {want} candidates, MaxSim rescoring",
                params.exact_max_points, params.oversampling, params.k
            ),
            query_rows,
            allowed_points: allowed,
            candidates: out.hits.len() as u64,
            rescored,
            fde_dim: self.fde_dim(),
        };
        Ok(MultiSearchOutput { hits: top.into_sorted_vec(), explain: out.explain, multi })
    }
}
