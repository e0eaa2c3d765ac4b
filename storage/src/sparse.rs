//! Sparse vectors of a collection: their declaration (Qdrant's `sparse_vectors`), validation of
//! points and queries, and one in-memory inverted index per sparse name.
//!
//! Why a module beside the dense `CollectionIndex`es and not inside them: a sparse vector has no
//! dimension, metric or graph; it is exact dot product over posting lists
//! ([`grove_index::sparse::SparseIndex`]). It shares the collection's ONE internal id space, so
//! filters (bitmaps of internal ids), overwrites (new internal id, old one deleted) and deletes
//! reach it exactly as they reach the dense indexes: `collection.rs` calls [`SparseIndexes`] at
//! the same points of the write path (apply of a committed batch) and of the open scan.
//!
//! The vectors are durable in the point's row (`record.rs`, row version 3); the index is rebuilt
//! from those rows at open (inserting is cheap: no graph), so there are no index files.

use std::collections::BTreeMap;

use grove_index::sparse::{Modifier, SparseIndex, SparseOutput, SparseParams, SparseVector};
use parking_lot::RwLock;
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use crate::api::{CollectionConfig, PointId, VectorDatatype};
use crate::error::{Result, StorageError};

pub use grove_index::sparse::{SparseExplain, SparsePath, DEFAULT_FULL_SCAN_THRESHOLD};

/// A point's sparse vectors by name.
pub type SparseVectors = BTreeMap<String, SparseVector>;

/// Most dimensions one sparse vector may hold (bounds a row and a query's work).
pub const MAX_SPARSE_NNZ: usize = 65_536;

/// Qdrant's `sparse_vectors.<name>.index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparseIndexParams {
    /// Declared `on_disk` (the index is held in memory either way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
    /// Filters allowing at most this many points are answered by scoring each allowed point
    /// instead of walking posting lists; `None`: [`DEFAULT_FULL_SCAN_THRESHOLD`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_scan_threshold: Option<usize>,
    /// Declared element type (values are kept as f32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datatype: Option<VectorDatatype>,
}

/// One declared sparse vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparseVectorConfig {
    /// Index parameters.
    #[serde(default)]
    pub index: SparseIndexParams,
    /// `idf`: query weights are multiplied by the inverse document frequency the server keeps.
    #[serde(default)]
    pub modifier: Modifier,
}

impl SparseVectorConfig {
    fn threshold(&self) -> usize {
        self.index.full_scan_threshold.unwrap_or(DEFAULT_FULL_SCAN_THRESHOLD)
    }
}

/// Checks one point's (or the query's) sparse vector; the message names the point and vector.
pub(crate) fn check_sparse(point: &str, name: &str, v: &SparseVector) -> Result<()> {
    let bad =
        |reason: String| StorageError::InvalidRequest(format!("{point} (sparse vector {name:?}): {reason}"));
    if v.indices.len() != v.values.len() {
        return Err(bad(format!(
            "indices and values must have the same length, got {} indices and {} values",
            v.indices.len(),
            v.values.len()
        )));
    }
    if v.len() > MAX_SPARSE_NNZ {
        return Err(bad(format!("{} dimensions; at most {MAX_SPARSE_NNZ}", v.len())));
    }
    if !v.is_canonical() {
        SparseVector::new(v.indices.clone(), v.values.clone()).map_err(bad)?;
    }
    Ok(())
}

/// A validated, canonical (sorted) copy of a sparse vector.
pub(crate) fn canonical(point: &str, name: &str, v: SparseVector) -> Result<SparseVector> {
    check_sparse(point, name, &v)?;
    if v.is_canonical() {
        return Ok(v);
    }
    SparseVector::new(v.indices, v.values)
        .map_err(|r| StorageError::InvalidRequest(format!("{point} (sparse vector {name:?}): {r}")))
}

/// Checks a point's sparse vectors against the declaration and makes them canonical. A name
/// that is a dense vector, or no vector at all, is an error listing the declared names.
pub(crate) fn check_point(
    config: &CollectionConfig,
    id: &PointId,
    sparse: SparseVectors,
) -> Result<SparseVectors> {
    let mut out = SparseVectors::new();
    for (name, v) in sparse {
        if !config.sparse_vectors.contains_key(&name) {
            if config.vectors.contains_key(&name) {
                return Err(StorageError::InvalidRequest(format!(
                    "point {id}: vector {name:?} is a dense vector; send an array of {} numbers, not {{indices, values}}",
                    config.vectors[&name].dimension
                )));
            }
            return Err(StorageError::UnknownVector { name, known: config.vector_names() });
        }
        let v = canonical(&format!("point {id}"), &name, v)?;
        out.insert(name, v);
    }
    Ok(out)
}

/// Validates the sparse declarations of a config (names distinct from the dense ones).
pub(crate) fn validate(c: &CollectionConfig) -> Result<()> {
    for name in c.sparse_vectors.keys() {
        if c.vectors.contains_key(name) {
            return Err(StorageError::InvalidRequest(format!(
                "{name:?} is declared as both a dense and a sparse vector; give each name one kind"
            )));
        }
        if name.is_empty() {
            return Err(StorageError::InvalidName {
                name: name.clone(),
                reason: "a sparse vector needs a name (\"\" is the unnamed dense vector)".into(),
            });
        }
        if name.len() > crate::MAX_VECTOR_NAME || name.chars().any(char::is_control) {
            return Err(StorageError::InvalidName {
                name: name.clone(),
                reason: format!(
                    "a vector name is at most {} bytes without control characters",
                    crate::MAX_VECTOR_NAME
                ),
            });
        }
    }
    if c.vectors.len() + c.sparse_vectors.len() > crate::MAX_VECTORS {
        return Err(StorageError::InvalidRequest(format!(
            "{} vectors declared; a collection holds at most {}",
            c.vectors.len() + c.sparse_vectors.len(),
            crate::MAX_VECTORS
        )));
    }
    Ok(())
}

/// The in-memory sparse indexes of one collection, one per declared sparse name. Lock order:
/// the collection's `state` lock first, then these (the write path applies under `state`
/// write; searches hold `state` read).
#[derive(Debug, Default)]
pub(crate) struct SparseIndexes {
    by_name: BTreeMap<String, RwLock<SparseIndex>>,
}

impl SparseIndexes {
    /// Empty indexes for the config's sparse names.
    pub fn new(c: &CollectionConfig) -> Self {
        SparseIndexes {
            by_name: c
                .sparse_vectors
                .iter()
                .map(|(n, s)| (n.clone(), RwLock::new(SparseIndex::new(s.modifier, s.threshold()))))
                .collect(),
        }
    }

    /// Whether `name` is a sparse vector here.
    pub fn has(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Applies a new config's modifier and threshold (names never change).
    pub fn reconfigure(&self, c: &CollectionConfig) {
        for (n, s) in &c.sparse_vectors {
            if let Some(ix) = self.by_name.get(n) {
                ix.write().set_params(s.modifier, s.threshold());
            }
        }
    }

    /// Adds a point's sparse vectors under internal id `id`. Names the collection does not
    /// declare are skipped (they were refused before the batch; at open they are corruption and
    /// the caller checks first).
    pub fn insert(&self, id: u32, vectors: &SparseVectors) {
        for (n, v) in vectors {
            if let Some(ix) = self.by_name.get(n) {
                ix.write().insert(id, v.clone());
            }
        }
    }

    /// Removes internal id `id` from every sparse index.
    pub fn delete(&self, id: u32) {
        for ix in self.by_name.values() {
            ix.write().delete(id);
        }
    }

    /// Deleted ids that may still have posting entries in some index: not yet reusable.
    pub fn stale(&self) -> RoaringBitmap {
        let mut all = RoaringBitmap::new();
        for ix in self.by_name.values() {
            all |= ix.read().stale();
        }
        all
    }

    /// Drops every dead posting entry of every index (one pass over the postings).
    pub fn purge(&self) {
        for ix in self.by_name.values() {
            ix.write().purge();
        }
    }

    /// The sparse vectors of `id`.
    pub fn vectors(&self, id: u32) -> SparseVectors {
        self.by_name
            .iter()
            .filter_map(|(n, ix)| ix.read().vector(id).map(|v| (n.clone(), v.clone())))
            .collect()
    }

    /// Exact top-k over sparse vector `name` among `allowed` (None: all live).
    pub fn search(
        &self,
        name: &str,
        query: &SparseVector,
        allowed: Option<&RoaringBitmap>,
        params: &SparseParams,
        stop: &grove_index::Stop,
    ) -> Result<SparseOutput> {
        let ix = self
            .by_name
            .get(name)
            .ok_or_else(|| StorageError::InvalidRequest(format!("{name:?} is not a sparse vector")))?;
        Ok(ix.read().search(query, allowed, params, stop)?)
    }

    /// Live documents and approximate heap bytes per sparse name (collection info).
    pub fn stats(&self) -> BTreeMap<String, (u64, usize)> {
        self.by_name
            .iter()
            .map(|(n, ix)| {
                let ix = ix.read();
                (n.clone(), (ix.len(), ix.memory_bytes()))
            })
            .collect()
    }
}
