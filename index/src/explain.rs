//! What a search did and why: the planner's decision and the work each path performed.

use serde::{Deserialize, Serialize};

/// The strategy a caller asks for. `Auto` lets the planner choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The planner chooses from the filter's exact cardinality and index statistics.
    #[default]
    Auto,
    /// Exact scan over the allowed ids.
    Exact,
    /// Grove's HNSW graph, filtered traversal.
    Hnsw,
    /// ACORN over the predicate subgraph (gamma or 1, whichever the index was built for).
    Acorn,
}

/// The algorithm that actually answered a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchPath {
    /// Exact scan.
    Exact,
    /// Grove's HNSW graph.
    Hnsw,
    /// ACORN-1: 2-hop expansion at query time over the plain graph.
    Acorn1,
    /// ACORN-gamma: predicate subgraph of the denser (M*gamma) graph.
    AcornGamma,
    /// Matryoshka: a prefix scan or prefix graph, then rescoring (the stages are in
    /// [`Explain::matryoshka`]).
    Matryoshka,
}

impl SearchPath {
    /// Stable lower-case name (metrics labels, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            SearchPath::Exact => "exact",
            SearchPath::Hnsw => "hnsw",
            SearchPath::Acorn1 => "acorn1",
            SearchPath::AcornGamma => "acorn_gamma",
            SearchPath::Matryoshka => "matryoshka",
        }
    }
}

/// The record of one search: path chosen, why, and the work done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explain {
    /// The path that answered.
    pub path: SearchPath,
    /// Why the planner chose it (or "forced by strategy=...").
    pub reason: String,
    /// Live points in the index (excluding tombstones).
    pub live_points: u64,
    /// Points the filter allows (live only); equals `live_points` without a filter.
    pub allowed_points: u64,
    /// `allowed_points / live_points` (1.0 without a filter).
    pub selectivity: f64,
    /// The ef (beam width) used by a graph path, if any.
    pub ef: Option<usize>,
    /// Graph nodes expanded (their neighbour lists read).
    pub nodes_visited: u64,
    /// Distance computations performed.
    pub distances_computed: u64,
    /// Points not yet in the graph, scanned exactly and merged.
    pub unindexed_scanned: u64,
    /// The stages of a Matryoshka search, first (shortest prefix) to last (full dimension);
    /// empty for the other paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matryoshka: Vec<crate::matryoshka::StageExplain>,
    /// What quantized codes did, when the collection has quantization configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<crate::quant::QuantExplain>,
}
