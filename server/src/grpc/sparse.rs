//! Sparse vectors and multi-vectors between grove.v1 messages and the API types (points,
//! queries, collection declarations). `convert.rs` calls these at its point, query and
//! collection conversions.

use std::collections::{BTreeMap, HashMap};

use grove_proto::v1 as pb;

use crate::api;
use crate::service::{ServiceError, ServiceResult};

/// A proto sparse vector as the API's (validated by storage).
pub fn vector_in(v: pb::SparseVector) -> api::SparseVector {
    api::SparseVector { indices: v.indices, values: v.values }
}

/// A proto multi-vector as the API's rows (shapes validated by storage).
pub fn multi_in(v: pb::MultiVector) -> Vec<Vec<f32>> {
    v.rows.into_iter().map(|r| r.data).collect()
}

fn multi_out(rows: Vec<Vec<f32>>) -> pb::MultiVector {
    pb::MultiVector { rows: rows.into_iter().map(|data| pb::Vector { data }).collect() }
}

/// A point's vectors when it carries sparse ones or multi-vectors: the mixed named form
/// (`vector` is the unnamed dense vector, the name `""`).
pub fn point_vectors(
    vector: Option<pb::Vector>,
    named: HashMap<String, pb::Vector>,
    sparse: HashMap<String, pb::SparseVector>,
    multi: HashMap<String, pb::MultiVector>,
) -> api::VectorStruct {
    let mut m: BTreeMap<String, api::VectorValue> =
        named.into_iter().map(|(k, v)| (k, api::VectorValue::Dense(v.data))).collect();
    if let Some(v) = vector {
        m.insert(String::new(), api::VectorValue::Dense(v.data));
    }
    m.extend(sparse.into_iter().map(|(k, v)| (k, api::VectorValue::Sparse(vector_in(v)))));
    m.extend(multi.into_iter().map(|(k, v)| (k, api::VectorValue::MultiDense(multi_in(v)))));
    api::VectorStruct::Mixed(m)
}

/// A record's vectors on the wire.
pub struct VectorsOut {
    /// The unnamed dense vector (unnamed form).
    pub vector: Option<pb::Vector>,
    /// Dense vectors by name.
    pub named: HashMap<String, pb::Vector>,
    /// Sparse vectors by name.
    pub sparse: HashMap<String, pb::SparseVector>,
    /// Multi-vectors by name (`""`: an unnamed multi-vector).
    pub multi: HashMap<String, pb::MultiVector>,
}

/// A record's vectors on the wire: the unnamed dense vector, named dense ones, sparse ones,
/// multi-vectors.
pub fn vectors_out(v: Option<api::VectorStruct>) -> VectorsOut {
    let mut out =
        VectorsOut { vector: None, named: HashMap::new(), sparse: HashMap::new(), multi: HashMap::new() };
    match v {
        Some(api::VectorStruct::Mixed(m)) => {
            for (k, v) in m {
                match v {
                    api::VectorValue::Dense(data) => {
                        out.named.insert(k, pb::Vector { data });
                    }
                    api::VectorValue::Sparse(s) => {
                        out.sparse.insert(k, pb::SparseVector { indices: s.indices, values: s.values });
                    }
                    api::VectorValue::MultiDense(rows) => {
                        out.multi.insert(k, multi_out(rows));
                    }
                }
            }
        }
        Some(api::VectorStruct::MultiDense(rows)) => {
            out.multi.insert(String::new(), multi_out(rows));
        }
        other => {
            let (v, n) = super::convert::vectors_out(other);
            out.vector = v;
            out.named = n;
        }
    }
    out
}

/// `CreateCollectionRequest.sparse_vectors` as the create body's.
pub fn params_in(
    m: HashMap<String, pb::SparseVectorParams>,
) -> ServiceResult<Option<BTreeMap<String, api::SparseVectorParams>>> {
    if m.is_empty() {
        return Ok(None);
    }
    m.into_iter()
        .map(|(name, p)| {
            let modifier = match pb::SparseModifier::try_from(p.modifier) {
                Ok(pb::SparseModifier::None) => None,
                Ok(pb::SparseModifier::Idf) => Some(api::SparseModifier::Idf),
                Err(_) => {
                    return Err(ServiceError::invalid(format!(
                        "sparse_vectors[{name:?}].modifier: unknown value {}; use NONE or IDF",
                        p.modifier
                    )))
                }
            };
            let index =
                (p.full_scan_threshold.is_some() || p.on_disk.is_some()).then_some(api::SparseIndexParams {
                    full_scan_threshold: p.full_scan_threshold,
                    on_disk: p.on_disk,
                    datatype: None,
                });
            Ok((name, api::SparseVectorParams { index, modifier }))
        })
        .collect::<ServiceResult<BTreeMap<_, _>>>()
        .map(Some)
}

/// Collection info's sparse vectors on the wire.
pub fn params_out(
    m: Option<&BTreeMap<String, api::SparseVectorParams>>,
) -> HashMap<String, pb::SparseVectorParams> {
    m.map(|m| {
        m.iter()
            .map(|(k, p)| {
                let i = p.index.unwrap_or_default();
                let modifier = match p.modifier {
                    Some(api::SparseModifier::Idf) => pb::SparseModifier::Idf,
                    Some(api::SparseModifier::None) | None => pb::SparseModifier::None,
                };
                (
                    k.clone(),
                    pb::SparseVectorParams {
                        full_scan_threshold: i.full_scan_threshold,
                        on_disk: i.on_disk,
                        modifier: modifier as i32,
                    },
                )
            })
            .collect()
    })
    .unwrap_or_default()
}
