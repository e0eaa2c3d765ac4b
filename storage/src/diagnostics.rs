//! The top-k subset diagnostic over a stored collection (LIMIT, Weller et al. 2025): resolves
//! external ids and the filter to internal ids, copies the live vectors, and runs
//! `grove_index::diagnostics::subset::diagnose` with the collection's own index as the ANN path.
//!
//! Why a copy of the vectors: the diagnostic scans the allowed rows many times (exact recall,
//! competitor lists, full-scan confirmation of every witness) and must not hold the engine's
//! points lock across that work, which would stall every insert; a copy taken once is a
//! consistent view (ids are never reused, so a later write cannot change what an id means). It
//! costs `points × dimension × 4` bytes for the duration of the call.

use std::time::Duration;

use grove_index::diagnostics::subset::{diagnose, Allowed, SubsetConfig, SubsetQuery, SubsetReport};
use grove_index::diagnostics::CancelFlag;
use grove_index::{SearchParams, Strategy, VectorStore};

use crate::collection::Collection;
use crate::{Filter, PointId, Result, StorageError};

/// One query of a subset diagnostic: its vector and the external ids of its relevant points.
#[derive(Debug, Clone)]
pub struct SubsetQueryInput {
    /// The query vector, as the encoder produced it.
    pub vector: Vec<f32>,
    /// Ids of the relevant points (non-empty; each must exist and match the filter).
    pub relevant: Vec<PointId>,
}

/// A subset diagnostic request (see [`crate::Storage::diagnose_subsets`]).
#[derive(Debug, Clone)]
pub struct SubsetRequest {
    /// The queries.
    pub queries: Vec<SubsetQueryInput>,
    /// recall@k for these k (each > 0).
    pub ks: Vec<usize>,
    /// Only points matching this filter compete (and relevant points must match it).
    pub filter: Option<Filter>,
    /// Diagnose a seeded sample of this many queries.
    pub sample: Option<usize>,
    /// Seed of the sample.
    pub seed: u64,
    /// Wall-clock limit: queries not finished are `undetermined`.
    pub time_budget: Option<Duration>,
    /// Competitors of the first hull check.
    pub competitors: usize,
    /// ef of the index searches (`None`: the collection's default).
    pub ef: Option<usize>,
    /// Raised when the caller goes away.
    pub cancel: Option<CancelFlag>,
}

/// The result: the engine's report (query positions are input positions) and what it ran over.
#[derive(Debug, Clone)]
pub struct SubsetOutcome {
    /// Per query and overall results.
    pub report: SubsetReport,
    /// Points that could be returned (live, matching the filter).
    pub allowed_points: u64,
}

fn invalid(msg: String) -> StorageError {
    StorageError::InvalidRequest(msg)
}

/// Runs the diagnostic on one collection.
pub(crate) fn diagnose_subsets(c: &Collection, req: &SubsetRequest) -> Result<SubsetOutcome> {
    // The diagnostic runs on the unnamed vector.
    let config = c.config();
    let decl = config.vector(crate::api::DEFAULT_VECTOR)?;
    if decl.multivector.is_some() {
        return Err(invalid(
            "the subset diagnostic runs on a dense unnamed vector; this one is a multi-vector field".into(),
        ));
    }
    let dim = decl.dimension;
    if req.queries.is_empty() {
        return Err(invalid("queries: give at least one query".into()));
    }
    if req.ks.is_empty() || req.ks.contains(&0) {
        return Err(invalid("k: give at least one k, each > 0".into()));
    }
    if req.competitors == 0 {
        return Err(invalid("competitors: must be > 0".into()));
    }
    for (i, q) in req.queries.iter().enumerate() {
        if q.vector.len() != dim {
            return Err(invalid(format!(
                "queries[{i}].vector: the collection has dimension {dim}, got {}",
                q.vector.len()
            )));
        }
        if let Some(j) = q.vector.iter().position(|x| !x.is_finite()) {
            return Err(invalid(format!("queries[{i}].vector[{j}] is not a finite number")));
        }
        crate::collection::check_vector(&format!("queries[{i}]"), &q.vector)?;
        if q.relevant.is_empty() {
            return Err(invalid(format!("queries[{i}].relevant: give at least one point id")));
        }
    }
    let all: Vec<PointId> = req.queries.iter().flat_map(|q| q.relevant.iter().copied()).collect();
    let (internal, live) = c.resolve_ids(&all);
    let mut allowed = match &req.filter {
        Some(f) => c.compile(f)?.0,
        None => live,
    };
    // Copy the live vectors (see module docs); an id deleted meanwhile drops out of `allowed`.
    let engine = c.engine_for_diagnostics(crate::api::DEFAULT_VECTOR)?;
    let n = engine.len();
    let mut store = VectorStore::with_capacity(dim, n);
    let zeros = vec![0.0f32; dim];
    for id in 0..n as u32 {
        match engine.vector(id) {
            Some(v) => store.push(&v),
            None => {
                allowed.remove(id);
                store.push(&zeros)
            }
        };
    }
    allowed.remove_range(n as u32..);
    let mut relevant: Vec<Vec<u32>> = Vec::with_capacity(req.queries.len());
    let mut next = internal.into_iter();
    for (i, q) in req.queries.iter().enumerate() {
        let mut r = Vec::with_capacity(q.relevant.len());
        for ext in &q.relevant {
            let id = next.next().flatten().ok_or_else(|| {
                invalid(format!("queries[{i}].relevant: point {} does not exist", show(ext)))
            })?;
            if !allowed.contains(id) {
                return Err(invalid(format!(
                    "queries[{i}].relevant: point {} does not match the filter",
                    show(ext)
                )));
            }
            r.push(id);
        }
        relevant.push(r);
    }
    let queries: Vec<SubsetQuery<'_>> = req
        .queries
        .iter()
        .zip(&relevant)
        .map(|(q, r)| SubsetQuery { vector: &q.vector, relevant: r })
        .collect();
    let filter = req.filter.is_some().then_some(&allowed);
    let ef = req.ef;
    let search = |q: &[f32], k: usize| -> Vec<u32> {
        let params =
            SearchParams { k, ef: ef.map(|e| e.max(k)), strategy: Strategy::Auto, ..Default::default() };
        engine.search(q, filter, &params).map(|o| o.hits.iter().map(|h| h.id).collect()).unwrap_or_default()
    };
    let cfg = SubsetConfig {
        ks: req.ks.clone(),
        competitors: req.competitors,
        sample: req.sample,
        seed: req.seed,
        time_budget: req.time_budget,
        cancel: req.cancel.clone(),
        ..SubsetConfig::default()
    };
    let report =
        diagnose(&store, decl.metric, Allowed::Bitmap(&allowed), &queries, Some(&search), &cfg, &|_| {})?;
    Ok(SubsetOutcome { report, allowed_points: allowed.len() })
}

fn show(id: &PointId) -> String {
    match id {
        PointId::Num(n) => n.to_string(),
        PointId::Uuid(u) => u.hyphenated().to_string(),
    }
}
