//! Multi-vectors (late interaction) in a collection: the write path's validation, the
//! stored form, and the MaxSim query path `query_with_stop` hands over to when the vector
//! searched is a multi-vector field. A child module of `collection`, so the query reads the
//! filter bitmap, the field and the id map under the same `state` guard as the dense path.
//!
//! A multi-vector name is a named vector like any other (its `VectorIndex` has the usual
//! pending set, graphs, rebuilds and saves), with two differences: its `CollectionIndex`
//! holds each point's MUVERA encoding (`grove_index::multivec::fde`, inner product) instead of
//! the vector itself, and a [`MultiVectorField`] beside it holds the prepared matrices for
//! exact MaxSim. The points row keeps the matrix flat, row-major, under the name (the row
//! layout already stores each vector's length, so no format change was needed: a matrix of
//! `r` rows is `r * dimension` floats, one row is a plain vector).

use grove_index::collection::CollectionIndex;
use grove_index::multivec::{MultiSearchParams, MultiVectorField, MAX_ROWS};
use grove_index::Strategy;

use super::{check_vector, Collection};
use crate::api::*;
use crate::error::{Result, StorageError};

/// The [`MultiVectorField`] of vector `name` when it is a multi-vector field.
pub(super) fn new_field(c: &CollectionConfig, name: &str) -> Result<Option<MultiVectorField>> {
    let Some(v) = c.vectors.get(name) else { return Ok(None) };
    match &v.multivector {
        Some(m) => Ok(Some(MultiVectorField::new(v.dimension, v.metric, m.fde)?)),
        None => Ok(None),
    }
}

/// Inserts a stored (flat) vector of internal id `id`: a dense vector into its engine; a
/// matrix prepared, its encoding into the engine and its rows into the field.
pub(super) fn insert_stored(
    engine: &CollectionIndex,
    field: Option<&MultiVectorField>,
    id: u32,
    flat: &[f32],
) -> Result<()> {
    match field {
        Some(f) => {
            let p = f.prepare(flat)?;
            engine.insert(id, &p.fde)?;
            f.insert(id, p.rows);
        }
        None => engine.insert(id, flat)?,
    }
    Ok(())
}

/// Checks a point's matrices against the declaration and merges them, flat, into `vectors`
/// (the stored form). `vectors` was checked already: a plain vector of a multi-vector name has
/// the row size, so it is a matrix of one row (Qdrant reads it so).
pub(super) fn merge(
    config: &CollectionConfig,
    id: &PointId,
    vectors: &mut NamedVectors,
    multi: MultiVectors,
) -> Result<()> {
    for (name, rows) in multi {
        if config.sparse_vectors.contains_key(&name) {
            return Err(StorageError::InvalidRequest(format!(
                "point {id}: vector {name:?} is a sparse vector; send {{\"indices\": [...], \"values\": [...]}}"
            )));
        }
        let decl = config.vector(&name)?;
        let what =
            if name.is_empty() { format!("point {id}") } else { format!("point {id} (vector {name:?})") };
        check_rows(&what, decl, &name, &rows)?;
        if vectors.contains_key(&name) {
            return Err(StorageError::InvalidRequest(format!("{what}: the vector is given twice")));
        }
        vectors.insert(name, rows.concat());
    }
    Ok(())
}

/// A matrix sent for vector `name` (declared as `decl`): a multi-vector field, 1 to
/// [`MAX_ROWS`] rows of the declared size, finite, each of bounded norm. `what` names the
/// point or the query in errors.
fn check_rows(what: &str, decl: &VectorConfig, name: &str, rows: &[Vec<f32>]) -> Result<()> {
    if decl.multivector.is_none() {
        return Err(StorageError::InvalidRequest(format!(
            "{what}: vector {name:?} is a dense vector of size {}: send one array of numbers, not an array of arrays (a matrix needs a vector declared with multivector_config)",
            decl.dimension
        )));
    }
    if rows.is_empty() {
        return Err(StorageError::InvalidRequest(format!(
            "{what}: a multi-vector needs at least one row of size {}",
            decl.dimension
        )));
    }
    if rows.len() > MAX_ROWS {
        return Err(StorageError::InvalidRequest(format!(
            "{what}: {} rows; a multi-vector holds at most {MAX_ROWS}",
            rows.len()
        )));
    }
    for (i, r) in rows.iter().enumerate() {
        let row = format!("{what}, row {i}");
        if r.len() != decl.dimension {
            return Err(StorageError::DimensionMismatch {
                point: row,
                expected: decl.dimension,
                got: r.len(),
            });
        }
        check_vector(&row, r)?;
    }
    Ok(())
}

/// The user-facing score of a MaxSim `s`: `s` itself for Cosine and Dot (larger is better);
/// for Euclid, where `s` is minus a sum of squared distances, `sqrt(-s)` (smaller is better, like
/// a Euclidean distance), as Qdrant answers it: an exact self-match scores 0.
fn user_score(euclid: bool, s: f32) -> f32 {
    if euclid {
        (-s).max(0.0).sqrt()
    } else {
        s
    }
}

/// Rows of a flat matrix.
pub(super) fn rows_of(flat: &[f32], dim: usize) -> Vec<Vec<f32>> {
    flat.chunks(dim.max(1)).map(<[f32]>::to_vec).collect()
}

/// Moves the stored (flat) matrices of multi-vector names out of `vectors`, as rows: what a
/// rewrite sends back through the upsert path.
pub(super) fn split(config: &CollectionConfig, vectors: &mut NamedVectors) -> MultiVectors {
    let names: Vec<String> = vectors.keys().filter(|n| config.multivector(n).is_some()).cloned().collect();
    let mut out = MultiVectors::new();
    for n in names {
        if let (Some(flat), Some(v)) = (vectors.remove(&n), config.vectors.get(&n)) {
            out.insert(n, rows_of(&flat, v.dimension));
        }
    }
    out
}

impl Collection {
    /// MaxSim top-k of a multi-vector field: filter -> bitmap -> the field's exact scan or FDE
    /// search + exact rescoring (the engine's choice, reported in the explain) -> hits with
    /// payloads and vectors from the same state. Scores are exact MaxSim (Euclid: see
    /// [`user_score`]).
    pub(super) fn query_multi(
        &self,
        req: &QueryRequest,
        config: &CollectionConfig,
        stop: &grove_index::Stop,
    ) -> Result<QueryResponse> {
        let using = req.using.as_deref().unwrap_or(DEFAULT_VECTOR);
        let decl = config.vector(using)?;
        let what = if using.is_empty() { "query".to_string() } else { format!("query (vector {using:?})") };
        let query: Vec<f32> = match &req.multi {
            Some(rows) => {
                if !req.vector.is_empty() {
                    return Err(StorageError::InvalidRequest(
                        "give either a dense query vector or a multi-vector one, not both".into(),
                    ));
                }
                check_rows(&what, decl, using, rows)?;
                rows.concat()
            }
            // A plain vector on a multi-vector field: a query of one row (as in Qdrant).
            None => {
                if req.vector.len() != decl.dimension {
                    return Err(StorageError::DimensionMismatch {
                        point: what,
                        expected: decl.dimension,
                        got: req.vector.len(),
                    });
                }
                check_vector(&what, &req.vector)?;
                req.vector.clone()
            }
        };
        if req.limit == 0 {
            return Err(StorageError::InvalidRequest("limit must be at least 1".into()));
        }
        if req.matryoshka.is_some() {
            return Err(StorageError::InvalidRequest(format!(
                "vector {using:?} is a multi-vector field: matryoshka prefixes do not apply"
            )));
        }
        let vi = self.vectors.get(using).ok_or_else(|| StorageError::UnknownVector {
            name: using.to_string(),
            known: config.vector_names(),
        })?;
        let st = self.state.read();
        // Under the state guard: the engine and the field are swapped (reload) and written
        // (apply) under the state's write lock, so they describe the same batch as the bitmap.
        let engine = vi.engine();
        let field = vi.field().ok_or_else(|| {
            StorageError::Corrupt(format!("vector {using:?} is declared multi but has no matrices"))
        })?;
        let (bitmap, fex) = match &req.filter {
            Some(f) => {
                let (b, e) = self.compile_in(&st, f)?;
                (Some(b), Some(e))
            }
            None => (None, None),
        };
        let euclid = decl.metric == grove_index::Metric::L2;
        let params = MultiSearchParams {
            k: req.offset.saturating_add(req.limit),
            ef: req.ef,
            strategy: if req.exact { Strategy::Exact } else { req.strategy },
            // Euclid's user-facing score is `sqrt(-MaxSim)` (below): `score <= t` is
            // `MaxSim >= -t^2`; no score is below a negative threshold.
            score_threshold: match req.score_threshold {
                Some(t) if euclid && t < 0.0 => Some(f32::INFINITY),
                Some(t) if euclid => Some(-(t * t)),
                t => t,
            },
            ..MultiSearchParams::default()
        };
        let out = field.search(&engine, &query, bitmap.as_ref(), &params, stop)?;
        let hits = out.hits.iter().map(|n| (n.id, user_score(euclid, -n.dist)));
        let points = self.scored_points(st, hits, req)?;
        let explain = req.explain.then(|| QueryExplain {
            search: out.explain.clone(),
            filter: fex,
            using: using.to_string(),
            sparse: None,
            multivec: Some(out.multi.clone()),
        });
        Ok(QueryResponse { points, explain })
    }
}
