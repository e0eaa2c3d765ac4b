//! LIMIT-style diagnostics served by Grove: the request/response types of the top-k subset
//! diagnostic and of the free-embedding capacity jobs (Qdrant has no equivalent, so these shapes
//! are Grove's own), and the in-memory job registry ([`jobs`]).
//!
//! The computation is `grove_index::diagnostics`; the service layer
//! (`service::diagnostics`) validates, runs it off the async workers and converts.

pub mod jobs;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::PointId;

fn default_ks() -> Vec<usize> {
    vec![2, 10, 100]
}

/// One query of a subset diagnostic.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubsetQueryIn {
    /// The query vector as your encoder produced it.
    pub vector: Vec<f32>,
    /// Ids of the points relevant to it (its "relevant set" R).
    pub relevant: Vec<PointId>,
}

/// `POST /collections/{name}/diagnostics/subsets`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubsetDiagnosticRequest {
    /// Queries with their relevant sets.
    pub queries: Vec<SubsetQueryIn>,
    /// recall@k for these k (default 2, 10, 100).
    #[serde(default = "default_ks")]
    pub k: Vec<usize>,
    /// Only points matching this filter compete; relevant points must match it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Diagnose a seeded random sample of this many queries (default: all).
    #[serde(default)]
    pub sample: Option<usize>,
    /// Seed of the sample.
    #[serde(default)]
    pub seed: u64,
    /// Wall-clock budget in seconds (default and maximum: the request timeout minus one
    /// second); queries not finished in time are labelled `undetermined`.
    #[serde(default)]
    pub time_budget_secs: Option<f64>,
    /// Nearest competitors of the first hull check (default 300).
    #[serde(default)]
    pub competitors: Option<usize>,
    /// ef of the searches through the index (default: the collection's).
    #[serde(default)]
    pub ef: Option<usize>,
}

/// The diagnosis of one query.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubsetQueryOut {
    /// Position of the query in the request.
    pub query: usize,
    /// |R| (distinct relevant points).
    pub relevant: usize,
    /// recall@k by exact scan, one per k (absent when the budget ran out first).
    pub recall_exact: Option<Vec<f64>>,
    /// recall@k through the collection's index.
    pub recall_index: Option<Vec<f64>>,
    /// Whether the exact top-|R| is exactly R.
    pub exact_top_is_relevant: Option<bool>,
    /// Whether the index's top-|R| is exactly R.
    pub index_top_is_relevant: Option<bool>,
    /// `hit`, `index_miss`, `encoder_gap`, `geometry_gap`, `fragile` or `undetermined`.
    pub label: String,
    /// Largest proved separation margin of R (a confirmed witness query's margin).
    pub margin: Option<f64>,
    /// Upper bound on any query's margin for R (about 0 for a geometry gap).
    pub margin_upper: Option<f64>,
    /// Why the query is undetermined (or another note).
    pub reason: Option<String>,
}

/// The result of a subset diagnostic.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubsetDiagnosticResult {
    /// The k of every recall list.
    pub k: Vec<usize>,
    /// Queries given.
    pub total_queries: usize,
    /// Queries diagnosed (the sample).
    pub diagnosed: usize,
    /// Points that compete (live, matching the filter).
    pub allowed_points: u64,
    /// Mean recall@k by exact scan.
    pub mean_recall_exact: Vec<f64>,
    /// Mean recall@k through the index.
    pub mean_recall_index: Option<Vec<f64>>,
    /// Exact minus index recall per k: what the index loses.
    pub index_loss: Option<Vec<f64>>,
    /// Queries whose exact top-|R| is R.
    pub exact_top_is_relevant: usize,
    /// Queries per label.
    pub labels: BTreeMap<String, usize>,
    /// Margin below which a realisable set is `fragile` (twice the storage rounding bound).
    pub fragile_margin: f64,
    /// Whether the time budget ran out (then some queries are `undetermined`).
    pub budget_exhausted: bool,
    /// Seconds the diagnostic ran.
    pub elapsed_secs: f64,
    /// Per diagnosed query, in request order.
    pub queries: Vec<SubsetQueryOut>,
}

/// `POST /diagnostics/capacity`: a free-embedding capacity probe (Weller et al. 2025): query and
/// document vectors optimised directly on the qrels. Without `n` (and with the `all_subsets`
/// pattern) the job searches critical-n, the largest n whose every k-subset is realised; with `n`
/// it probes that n once with the pattern, or with your `qrels`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityJobRequest {
    /// Embedding dimension.
    pub d: usize,
    /// Relevant documents per query (default 2).
    #[serde(default)]
    pub k: Option<usize>,
    /// `all_subsets` (default), `random`, `cycle`, `disjoint` or `dense`.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Queries of the random and dense patterns (default 1000).
    #[serde(default)]
    pub queries: Option<usize>,
    /// Documents of a single probe; absent: search critical-n.
    #[serde(default)]
    pub n: Option<usize>,
    /// Your own relevant sets over documents `0..n` (needs `n`; replaces the pattern).
    #[serde(default)]
    pub qrels: Option<Vec<Vec<u32>>>,
    /// Seed.
    #[serde(default)]
    pub seed: u64,
    /// Wall-clock budget of the job in seconds (default 60, at most 3600).
    #[serde(default)]
    pub budget_secs: Option<f64>,
    /// Optimiser threads (default 1, at most the machine's cores).
    #[serde(default)]
    pub threads: Option<usize>,
    /// Largest n of the critical-n search (default 4096).
    #[serde(default)]
    pub max_n: Option<usize>,
    /// Attempts per probe before "not realised" (default 3).
    #[serde(default)]
    pub restarts: Option<usize>,
    /// Step cap per attempt (default 5000).
    #[serde(default)]
    pub max_steps: Option<usize>,
    /// Plateau patience per attempt (default 500).
    #[serde(default)]
    pub patience: Option<usize>,
}

/// Where a running capacity job is.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct JobProgress {
    /// Documents of the probe running.
    pub n: usize,
    /// Attempt of that probe (0-based).
    pub attempt: usize,
    /// Step of that attempt.
    pub step: usize,
    /// Current loss.
    pub loss: f64,
    /// Qrels realised (best step of the attempt).
    pub realised: usize,
    /// Qrels of the probe.
    pub queries: usize,
}

/// One probe (one n) of a capacity job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProbeOut {
    /// Documents.
    pub n: usize,
    /// Qrels.
    pub qrels: usize,
    /// Whether every qrel was realised (proved by the embeddings found).
    pub all_realised: bool,
    /// Most qrels realised by any attempt.
    pub best_realised: usize,
    /// Whether the budget (or a cancel) cut the probe: then a failure proves nothing.
    pub budget_exhausted: bool,
    /// Optimiser steps over all attempts.
    pub steps: usize,
    /// Seconds.
    pub seconds: f64,
}

/// A published reference value, labelled for what it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reference {
    /// The value.
    pub value: f64,
    /// `empirical_fit` or `exact_bound`.
    pub kind: String,
    /// Source and meaning.
    pub note: String,
}

/// The result of a capacity job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CapacityResult {
    /// `critical_n` (search) or `probe` (one n).
    pub mode: String,
    /// Dimension.
    pub d: usize,
    /// k.
    pub k: usize,
    /// Largest n whose every k-subset was realised (search mode).
    pub critical_n: Option<usize>,
    /// Smallest n that failed every restart (search mode; not a proof of impossibility).
    pub first_failure: Option<usize>,
    /// Whether the search closed its bracket within the budget.
    pub complete: bool,
    /// The probes run, in order.
    pub probes: Vec<ProbeOut>,
    /// Weller et al.'s fitted critical-n at this d (k = 2 only).
    pub paper_fit: Option<Reference>,
    /// Dimension at which exact geometry returns every subset of <= k items for any n.
    pub exact_bound_dim: Reference,
}

/// A diagnostics job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobInfo {
    /// Job id (for `GET` / `DELETE /diagnostics/jobs/{id}`).
    pub id: u64,
    /// `capacity`.
    pub kind: String,
    /// `running`, `cancelling`, `done`, `cancelled` or `failed`.
    pub status: String,
    /// Seconds since the job started (until it ended, once it has).
    pub elapsed_secs: f64,
    /// Latest progress report.
    pub progress: Option<JobProgress>,
    /// Probes finished so far.
    pub probes_done: usize,
    /// The result (when done or cancelled: what was finished).
    pub result: Option<CapacityResult>,
    /// Why the job failed.
    pub error: Option<String>,
}
