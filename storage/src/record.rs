//! The on-disk records that changed shape, each with its versions: the collection registry
//! record (meta CF) and the points row (points CF). Every version ever written still loads;
//! new data is written in the newest version only.
//!
//! Why a module of its own: the domain types in `api.rs` may change with the API, the bytes on
//! disk may not. The conversions from older versions live here, next to the frozen shapes they
//! read, so an API change cannot silently become a format change.

use std::collections::BTreeMap;

use grove_index::Metric;
use serde::{Deserialize, Serialize};

use crate::api::{
    default_ef_search, default_tombstone_ratio, AcornConfig, CollectionConfig, HnswConfig,
    MatryoshkaSettings, NamedVectors, PointId, VectorConfig, DEFAULT_VECTOR,
};
use crate::collection::{decode_point_id, encode_point_id};
use crate::error::{Result, StorageError};
use crate::sparse::SparseVectors;
use grove_index::sparse::SparseVector;

/// The registry entry of a collection as the code uses it.
#[derive(Debug, Clone)]
pub(crate) struct CollectionRecord {
    pub id: u32,
    pub config: CollectionConfig,
}

/// Version 2 (current) on disk: `{"version": 2, "id": .., "config": CollectionConfig}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordV2 {
    version: u32,
    id: u32,
    config: CollectionConfig,
}

/// Version 1 on disk (no `version` field): `{"id": .., "config": ConfigV1}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordV1 {
    id: u32,
    config: ConfigV1,
}

/// The collection config as written before named vectors: one unnamed vector given by the
/// top-level `dimension` and `metric`. Frozen: never change this type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigV1 {
    dimension: usize,
    metric: Metric,
    #[serde(default)]
    hnsw: HnswConfig,
    #[serde(default)]
    acorn: AcornConfig,
    #[serde(default)]
    matryoshka_dims: Vec<usize>,
    #[serde(default)]
    matryoshka: MatryoshkaSettings,
    #[serde(default = "default_ef_search")]
    ef_search: usize,
    #[serde(default = "default_tombstone_ratio")]
    tombstone_rebuild_ratio: f64,
}

impl From<ConfigV1> for CollectionConfig {
    fn from(v: ConfigV1) -> Self {
        let mut vectors = BTreeMap::new();
        vectors.insert(DEFAULT_VECTOR.to_string(), VectorConfig::new(v.dimension, v.metric));
        CollectionConfig {
            hnsw: v.hnsw,
            acorn: v.acorn,
            matryoshka_dims: v.matryoshka_dims,
            matryoshka: v.matryoshka,
            ef_search: v.ef_search,
            tombstone_rebuild_ratio: v.tombstone_rebuild_ratio,
            ..CollectionConfig::with_vectors(vectors, false)
        }
    }
}

/// The current record version.
pub(crate) const RECORD_VERSION: u32 = 2;

/// Serialises a registry record in the current version.
pub(crate) fn encode_record(r: &CollectionRecord) -> Result<Vec<u8>> {
    serde_json::to_vec(&RecordV2 { version: RECORD_VERSION, id: r.id, config: r.config.clone() })
        .map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// Reads a registry record of any version.
pub(crate) fn decode_record(b: &[u8]) -> Result<CollectionRecord> {
    let v: serde_json::Value = serde_json::from_slice(b).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let version = v.get("version").and_then(serde_json::Value::as_u64).unwrap_or(1);
    match version {
        1 => {
            let r: RecordV1 = serde_json::from_value(v).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            Ok(CollectionRecord { id: r.id, config: r.config.into() })
        }
        2 => {
            let r: RecordV2 = serde_json::from_value(v).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            Ok(CollectionRecord { id: r.id, config: r.config })
        }
        n => Err(StorageError::Corrupt(format!(
            "collection record version {n}: written by a newer Grove (this one reads 1 and 2)"
        ))),
    }
}

/// A collection config as a snapshot archive of format `format` holds it (format 1 archives
/// carry the version-1 config).
pub(crate) fn config_from_archive(
    format: u32,
    v: serde_json::Value,
) -> std::result::Result<CollectionConfig, String> {
    match format {
        1 => serde_json::from_value::<ConfigV1>(v).map(Into::into).map_err(|e| e.to_string()),
        _ => serde_json::from_value::<CollectionConfig>(v).map_err(|e| e.to_string()),
    }
}

/// First byte of a version-2 points row. Version-1 rows start with the point id's tag (0 or
/// 1), so the versions never collide.
const POINT_ROW_V2: u8 = 2;
/// First byte of a version-3 points row (version 2 plus sparse vectors).
const POINT_ROW_V3: u8 = 3;

/// The points row, version 3: `3 | point id | u16 count | count x (u16 name length | name |
/// u32 dimension | f32 LE components) | u16 sparse count | sparse count x (u16 name length |
/// name | u32 nnz | nnz x u32 LE index | nnz x f32 LE value)`, names in ascending order.
/// Version 2 is the same without the sparse section. A multi-vector name holds its matrix
/// flat, row-major (`dimension` is then the float count, rows x the declared size): a
/// matrix needed no new version, and a row written when the name held one vector reads as a
/// matrix of one row.
pub(crate) fn encode_point(ext: &PointId, vectors: &NamedVectors, sparse: &SparseVectors) -> Vec<u8> {
    let floats: usize =
        vectors.values().map(Vec::len).sum::<usize>() + sparse.values().map(|v| 2 * v.len()).sum::<usize>();
    let mut out = Vec::with_capacity(1 + 17 + 4 + (vectors.len() + sparse.len()) * 8 + floats * 4);
    out.push(POINT_ROW_V3);
    out.extend_from_slice(&encode_point_id(ext));
    out.extend_from_slice(&(vectors.len() as u16).to_le_bytes());
    for (name, v) in vectors {
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        for x in v {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out.extend_from_slice(&(sparse.len() as u16).to_le_bytes());
    for (name, v) in sparse {
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        for i in &v.indices {
            out.extend_from_slice(&i.to_le_bytes());
        }
        for x in &v.values {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

fn id_len(tag: Option<&u8>) -> Result<usize> {
    match tag {
        Some(0) => Ok(9),
        Some(1) => Ok(17),
        _ => Err(StorageError::Corrupt("points row without id".into())),
    }
}

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// A points row's dense vectors only (see [`decode_point_full`]).
#[cfg(test)]
pub(crate) fn decode_point(b: &[u8]) -> Result<(PointId, NamedVectors)> {
    decode_point_full(b).map(|(id, v, _)| (id, v))
}

/// Reads a points row of any version. Version 1 (external id then the raw f32 vector) holds
/// the unnamed vector; versions 1 and 2 hold no sparse vectors.
pub(crate) fn decode_point_full(b: &[u8]) -> Result<(PointId, NamedVectors, SparseVectors)> {
    let bad = |what: &str| StorageError::Corrupt(format!("points row: {what}"));
    let version = match b.first() {
        Some(&POINT_ROW_V2) => 2,
        Some(&POINT_ROW_V3) => 3,
        _ => 1,
    };
    if version == 1 {
        let n = id_len(b.first())?;
        let id = decode_point_id(b.get(..n).unwrap_or_default())?;
        let rest = b.get(n..).unwrap_or_default();
        if rest.len() % 4 != 0 {
            return Err(bad("vector length"));
        }
        let mut vectors = NamedVectors::new();
        vectors.insert(DEFAULT_VECTOR.to_string(), floats(rest));
        return Ok((id, vectors, SparseVectors::new()));
    }
    let n = id_len(b.get(1))?;
    let id = decode_point_id(b.get(1..1 + n).ok_or_else(|| bad("id"))?)?;
    let mut at = 1 + n;
    let mut take = |len: usize| -> Result<&[u8]> {
        let s = b.get(at..at + len).ok_or_else(|| bad("truncated"))?;
        at += len;
        Ok(s)
    };
    let count = u16::from_le_bytes(take(2)?.try_into().map_err(|_| bad("count"))?);
    let mut vectors = NamedVectors::new();
    for _ in 0..count {
        let nl = u16::from_le_bytes(take(2)?.try_into().map_err(|_| bad("name length"))?) as usize;
        let name = String::from_utf8(take(nl)?.to_vec()).map_err(|_| bad("vector name is not UTF-8"))?;
        let dim = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad("dimension"))?) as usize;
        let v = floats(take(dim.checked_mul(4).ok_or_else(|| bad("dimension"))?)?);
        vectors.insert(name, v);
    }
    let mut sparse = SparseVectors::new();
    if version == 3 {
        let count = u16::from_le_bytes(take(2)?.try_into().map_err(|_| bad("sparse count"))?);
        for _ in 0..count {
            let nl = u16::from_le_bytes(take(2)?.try_into().map_err(|_| bad("name length"))?) as usize;
            let name = String::from_utf8(take(nl)?.to_vec()).map_err(|_| bad("vector name is not UTF-8"))?;
            let nnz = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad("nnz"))?) as usize;
            let indices: Vec<u32> = take(nnz.checked_mul(4).ok_or_else(|| bad("nnz"))?)?
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let values = floats(take(nnz * 4)?);
            let v = SparseVector { indices, values };
            if !v.is_canonical() {
                return Err(bad("sparse vector not sorted, repeated or not finite"));
            }
            sparse.insert(name, v);
        }
    }
    if at != b.len() {
        return Err(bad("bytes after the last vector"));
    }
    Ok((id, vectors, sparse))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1 registry record (as written before named vectors) loads as one unnamed
    /// vector with its settings; a version-2 record round-trips.
    #[test]
    fn v1_records_load_and_v2_round_trips() {
        let v1 = br#"{"id":7,"config":{"dimension":3,"metric":"l2","hnsw":{"m":8,"ef_construction":50},"acorn":{"gamma":1,"m_beta":32},"matryoshka_dims":[],"ef_search":32,"tombstone_rebuild_ratio":0.3}}"#;
        let r = decode_record(v1).expect("v1 loads");
        assert_eq!(r.id, 7);
        let v = r.config.vector("").expect("unnamed vector");
        assert_eq!((v.dimension, v.metric), (3, Metric::L2));
        assert_eq!((r.config.hnsw.m, r.config.ef_search, r.config.named_form), (8, 32, false));
        // Oldest form: only dimension and metric.
        let oldest = decode_record(br#"{"id":1,"config":{"dimension":4,"metric":"cosine"}}"#).expect("loads");
        assert_eq!(oldest.config.vector("").map(|v| v.dimension).ok(), Some(4));
        let mut c = r.config.clone();
        c.vectors.insert("img".into(), VectorConfig::new(5, Metric::Dot));
        c.named_form = true;
        c.stored.insert("wal_config".into(), serde_json::json!({"wal_capacity_mb": 32}));
        let rec = CollectionRecord { id: 9, config: c.clone() };
        let back = decode_record(&encode_record(&rec).expect("encodes")).expect("decodes");
        assert_eq!((back.id, back.config), (9, c));
        assert!(decode_record(br#"{"version":3,"id":1,"config":{}}"#).is_err());
    }

    /// Version-1 points rows (id + raw floats) read as the unnamed vector; version-2 rows with
    /// several names round-trip; damage is an error, not a wrong vector.
    #[test]
    fn point_rows_of_both_versions_decode() {
        let mut v1 = encode_point_id(&PointId::Num(42));
        for x in [1.0f32, -2.5, 3.0] {
            v1.extend_from_slice(&x.to_le_bytes());
        }
        let (id, vs) = decode_point(&v1).expect("v1 row");
        assert_eq!(id, PointId::Num(42));
        assert_eq!(vs.get(""), Some(&vec![1.0, -2.5, 3.0]));
        let mut vs = NamedVectors::new();
        vs.insert(String::new(), vec![0.5; 4]);
        vs.insert("image".into(), vec![1.0, 2.0]);
        vs.insert("ünï".into(), vec![]);
        let u = PointId::Uuid(uuid::Uuid::from_u128(77));
        let row = encode_point(&u, &vs, &SparseVectors::new());
        assert_eq!(decode_point(&row).expect("v3 row"), (u, vs.clone()));
        assert!(decode_point(&row[..row.len() - 1]).is_err());
        let mut longer = row.clone();
        longer.push(0);
        assert!(decode_point(&longer).is_err());
        // A version-2 row (as written before sparse vectors): the v3 layout without the sparse
        // section, first byte 2.
        let mut v2 = row.clone();
        v2[0] = 2;
        v2.truncate(v2.len() - 2);
        assert_eq!(decode_point_full(&v2).expect("v2 row"), (u, vs.clone(), SparseVectors::new()));
        // Sparse vectors round-trip beside dense ones, and alone.
        let mut sp = SparseVectors::new();
        sp.insert("text".into(), SparseVector::new(vec![9, 1, 400_000], vec![0.5, 2.0, -1.0]).expect("v"));
        sp.insert("empty".into(), SparseVector::default());
        let row = encode_point(&u, &vs, &sp);
        assert_eq!(decode_point_full(&row).expect("v3 row"), (u, vs, sp.clone()));
        let row = encode_point(&PointId::Num(3), &NamedVectors::new(), &sp);
        assert_eq!(
            decode_point_full(&row).expect("sparse-only row"),
            (PointId::Num(3), NamedVectors::new(), sp)
        );
        assert!(decode_point_full(&row[..row.len() - 3]).is_err());
    }

    /// A version-2 record written before sparse vectors (no `sparse_vectors` key) loads with
    /// none; one with sparse vectors round-trips.
    #[test]
    fn records_without_and_with_sparse_vectors() {
        let old = br#"{"version":2,"id":3,"config":{"vectors":{"":{"dimension":4,"metric":"cosine"}},"named_form":false}}"#;
        let r = decode_record(old).expect("loads");
        assert!(r.config.sparse_vectors.is_empty());
        let mut c = r.config.clone();
        c.sparse_vectors.insert(
            "text".into(),
            crate::sparse::SparseVectorConfig {
                modifier: grove_index::sparse::Modifier::Idf,
                index: crate::sparse::SparseIndexParams {
                    full_scan_threshold: Some(100),
                    ..Default::default()
                },
            },
        );
        let back =
            decode_record(&encode_record(&CollectionRecord { id: 3, config: c.clone() }).expect("enc"))
                .expect("dec");
        assert_eq!(back.config, c);
    }
}
