//! The sparse search of a collection: the query path `query_with_stop` hands over to when the
//! vector searched is sparse. A child module of `collection` so it reads the same state under
//! the same guard as the dense path (filter bitmap, sparse index and id map of one batch), while
//! the logic stays out of `collection.rs`.

use grove_index::sparse::SparseParams;
use grove_index::{Explain, SearchPath};

use super::Collection;
use crate::api::*;
use crate::error::{Result, StorageError};

impl Collection {
    /// Exact sparse top-k: filter -> bitmap -> the sparse index's postings walk or full scan ->
    /// hits with payloads and vectors from the same state.
    pub(super) fn query_sparse(
        &self,
        req: &QueryRequest,
        config: &CollectionConfig,
        stop: &grove_index::Stop,
    ) -> Result<QueryResponse> {
        let using = req.using.as_deref().unwrap_or(DEFAULT_VECTOR);
        let Some(query) = &req.sparse else {
            return Err(StorageError::InvalidRequest(format!(
                "vector {using:?} is sparse: query it with {{\"indices\": [...], \"values\": [...]}}"
            )));
        };
        if !config.sparse_vectors.contains_key(using) {
            if config.vectors.contains_key(using) {
                return Err(StorageError::InvalidRequest(format!(
                    "vector {using:?} is dense: a sparse query ({{indices, values}}) needs `using` to name a sparse vector ({})",
                    config.vector_names()
                )));
            }
            return Err(StorageError::UnknownVector {
                name: using.to_string(),
                known: config.vector_names(),
            });
        }
        if !req.vector.is_empty() {
            return Err(StorageError::InvalidRequest(
                "give either a dense query vector or a sparse one, not both".into(),
            ));
        }
        let query = crate::sparse::canonical("query", using, query.clone())?;
        if req.limit == 0 {
            return Err(StorageError::InvalidRequest("limit must be at least 1".into()));
        }
        let st = self.state.read();
        let (bitmap, fex) = match &req.filter {
            Some(f) => {
                let (b, e) = self.compile_in(&st, f)?;
                (Some(b), Some(e))
            }
            None => (None, None),
        };
        let params = SparseParams {
            k: req.offset.saturating_add(req.limit),
            score_threshold: req.score_threshold,
            force_full_scan: match (req.exact, req.strategy) {
                (true, _) | (_, grove_index::Strategy::Exact) => Some(true),
                _ => None,
            },
        };
        let out = self.sparse.search(using, &query, bitmap.as_ref(), &params, stop)?;
        let hits = out.hits.iter().map(|h| (h.id, h.score));
        let points = self.scored_points(st, hits, req)?;
        let explain = req.explain.then(|| {
            let sx = &out.explain;
            QueryExplain {
                // The engine's record in the dense shape: sparse search is exact, its
                // candidates scored are its distance computations; the details are `sparse`.
                search: Explain {
                    path: SearchPath::Exact,
                    reason: format!("{}: {}", sx.path.as_str(), sx.reason),
                    live_points: sx.live_points,
                    allowed_points: sx.allowed_points,
                    selectivity: if sx.live_points == 0 {
                        1.0
                    } else {
                        sx.allowed_points as f64 / sx.live_points as f64
                    },
                    ef: None,
                    nodes_visited: 0,
                    distances_computed: sx.candidates_scored,
                    unindexed_scanned: 0,
                    matryoshka: Vec::new(),
                    quantization: None,
                },
                filter: fex,
                using: using.to_string(),
                sparse: Some(out.explain.clone()),
                multivec: None,
            }
        });
        Ok(QueryResponse { points, explain })
    }
}
