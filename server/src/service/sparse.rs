//! Sparse vectors between the API types and storage's: declarations (create, PATCH, info),
//! point and query vectors, and the explain. The service's other modules call these so the
//! sparse shapes are converted in one place.

use std::collections::BTreeMap;

use grove_storage as st;

use super::{ServiceError, ServiceResult};
use crate::api;

fn modifier_in(m: Option<api::SparseModifier>) -> st::SparseModifier {
    match m {
        Some(api::SparseModifier::Idf) => st::SparseModifier::Idf,
        Some(api::SparseModifier::None) | None => st::SparseModifier::None,
    }
}

fn datatype_in(d: api::Datatype) -> ServiceResult<st::VectorDatatype> {
    Ok(match d {
        api::Datatype::Float32 => st::VectorDatatype::Float32,
        api::Datatype::Float16 => st::VectorDatatype::Float16,
        api::Datatype::Uint8 => st::VectorDatatype::Uint8,
        api::Datatype::Turbo4 => {
            return Err(ServiceError::invalid(
                "sparse_vectors: datatype turbo4 is for dense vectors; use float32, float16 or uint8",
            ))
        }
    })
}

fn datatype_out(d: st::VectorDatatype) -> api::Datatype {
    match d {
        st::VectorDatatype::Float32 => api::Datatype::Float32,
        st::VectorDatatype::Float16 => api::Datatype::Float16,
        st::VectorDatatype::Uint8 => api::Datatype::Uint8,
        st::VectorDatatype::Turbo4 => api::Datatype::Turbo4,
    }
}

fn index_in(p: api::SparseIndexParams) -> ServiceResult<st::SparseIndexParams> {
    Ok(st::SparseIndexParams {
        on_disk: p.on_disk,
        full_scan_threshold: p.full_scan_threshold.map(|t| usize::try_from(t).unwrap_or(usize::MAX)),
        datatype: p.datatype.map(datatype_in).transpose()?,
    })
}

/// The create body's `sparse_vectors`.
pub(super) fn config_in(
    m: BTreeMap<String, api::SparseVectorParams>,
) -> ServiceResult<BTreeMap<String, st::SparseVectorConfig>> {
    m.into_iter()
        .map(|(name, p)| {
            if name.is_empty() {
                return Err(ServiceError::invalid(
                    "sparse_vectors: a sparse vector needs a non-empty name (\"\" is the unnamed dense vector)",
                ));
            }
            Ok((
                name,
                st::SparseVectorConfig {
                    index: p.index.map(index_in).transpose()?.unwrap_or_default(),
                    modifier: modifier_in(p.modifier),
                },
            ))
        })
        .collect()
}

/// PATCH's `sparse_vectors`: merges modifier and index parameters into declared names.
pub(super) fn update_in(
    config: &mut st::CollectionConfig,
    diff: &BTreeMap<String, api::SparseVectorParams>,
) -> ServiceResult<()> {
    let known = config.vector_names();
    for (name, d) in diff {
        let Some(c) = config.sparse_vectors.get_mut(name) else {
            return Err(ServiceError::invalid(format!(
                "sparse_vectors.{name:?}: the collection has no sparse vector named {name:?}; its vectors are: {known}"
            )));
        };
        if let Some(m) = d.modifier {
            c.modifier = modifier_in(Some(m));
        }
        if let Some(i) = d.index {
            let i = index_in(i)?;
            c.index.on_disk = i.on_disk.or(c.index.on_disk);
            c.index.full_scan_threshold = i.full_scan_threshold.or(c.index.full_scan_threshold);
            c.index.datatype = i.datatype.or(c.index.datatype);
        }
    }
    Ok(())
}

/// Collection info's `sparse_vectors` (None when none is declared).
pub(super) fn config_out(c: &st::CollectionConfig) -> Option<BTreeMap<String, api::SparseVectorParams>> {
    if c.sparse_vectors.is_empty() {
        return None;
    }
    Some(
        c.sparse_vectors
            .iter()
            .map(|(n, s)| {
                let i = s.index;
                let index = (i != st::SparseIndexParams::default()).then(|| api::SparseIndexParams {
                    full_scan_threshold: i.full_scan_threshold.map(|t| t as u64),
                    on_disk: i.on_disk,
                    datatype: i.datatype.map(datatype_out),
                });
                let modifier = match s.modifier {
                    st::SparseModifier::Idf => Some(api::SparseModifier::Idf),
                    st::SparseModifier::None => None,
                };
                (n.clone(), api::SparseVectorParams { index, modifier })
            })
            .collect(),
    )
}

/// The sparse settings accepted without effect ("setting: why").
pub(super) fn settings_without_effect(c: &st::CollectionConfig, out: &mut Vec<String>) {
    for (n, s) in &c.sparse_vectors {
        if s.index.on_disk == Some(true) {
            out.push(format!(
                "sparse_vectors.{n:?}.index.on_disk = true: the inverted index is held in memory"
            ));
        }
        if let Some(d) = s.index.datatype.filter(|d| *d != st::VectorDatatype::Float32) {
            out.push(format!(
                "sparse_vectors.{n:?}.index.datatype = {:?}: values are stored as float32",
                datatype_out(d)
            ));
        }
    }
}

/// A wire sparse vector as storage's (validated by storage, which names the point).
pub(super) fn vector_in(v: api::SparseVector) -> st::SparseVector {
    st::SparseVector { indices: v.indices, values: v.values }
}

/// Storage's sparse vector on the wire.
pub(super) fn vector_out(v: st::SparseVector) -> api::SparseVector {
    api::SparseVector { indices: v.indices, values: v.values }
}

/// A point's sparse vectors in storage's form.
pub(super) fn vectors_in(m: BTreeMap<String, api::SparseVector>) -> st::SparseVectors {
    m.into_iter().map(|(k, v)| (k, vector_in(v))).collect()
}

/// The sparse part of an explain.
pub(super) fn explain_out(e: &st::sparse::SparseExplain) -> api::SparseExplainOut {
    api::SparseExplainOut {
        path: e.path.as_str().to_owned(),
        query_dims: e.query_dims,
        postings_read: e.postings_read,
        candidates_scored: e.candidates_scored,
        idf: e.idf,
    }
}
