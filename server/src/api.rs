//! The request and response types of the service layer, in Qdrant's JSON shapes.
//!
//! REST deserialises requests straight into these types and serialises responses from them;
//! gRPC converts its proto messages into the same types (see `grpc::convert`), so both
//! transports share one validation path. Requests are `deny_unknown_fields`: a misspelt or
//! unsupported Qdrant option is an error that names the field, never silently ignored.
//!
//! Filters travel as JSON here and are parsed into storage's typed filter AST by the service
//! (one place), so both transports get the same validation and the same error messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A JSON object payload.
pub type Payload = serde_json::Map<String, serde_json::Value>;

/// A point id: unsigned integer or UUID string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PointId {
    /// Unsigned integer id.
    Num(u64),
    /// UUID id (any RFC 4122 form; returned hyphenated lower-case).
    Uuid(String),
}

/// Hand-written so a bad id gets a message naming what is accepted (an untagged derive only
/// says "did not match any variant").
impl<'de> Deserialize<'de> for PointId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PointId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a point id: an unsigned integer or a UUID string")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PointId, E> {
                Ok(PointId::Num(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PointId, E> {
                u64::try_from(v).map(PointId::Num).map_err(|_| {
                    E::custom(format!("point id {v} is negative; use an unsigned integer or a UUID string"))
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PointId, E> {
                Ok(PointId::Uuid(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

impl std::fmt::Display for PointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PointId::Num(n) => write!(f, "{n}"),
            PointId::Uuid(u) => f.write_str(u),
        }
    }
}

/// Similarity measure, Qdrant spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Distance {
    /// Cosine similarity (vectors are normalised on insert). Higher is better.
    Cosine,
    /// Dot product. Higher is better.
    Dot,
    /// Euclidean distance. Lower is better.
    Euclid,
    /// Manhattan (L1) distance: part of Qdrant's API, refused by Grove (the engine has no L1
    /// kernel yet) with a message naming the supported ones.
    Manhattan,
}

/// Declared element type of a vector (Qdrant's `datatype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    /// 32-bit floats (what Grove stores).
    Float32,
    /// 16-bit floats (accepted; Grove stores float32).
    Float16,
    /// Bytes (accepted; Grove stores float32).
    Uint8,
    /// Qdrant's 4-bit TurboQuant storage (accepted; Grove stores float32).
    Turbo4,
}

/// One dense vector's parameters (create body and collection info). Fields Grove does not
/// use are accepted, stored and listed by collection info as having no effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VectorParams {
    /// Dimension of every vector.
    pub size: u64,
    /// Similarity measure.
    pub distance: Distance,
    /// Graph parameters for this vector, over the collection's `hnsw_config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw_config: Option<HnswConfigDiff>,
    /// Quantization of this vector (stored; see `quantization_config` of the collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization_config: Option<QuantizationConfig>,
    /// Serve the vectors from disk (accepted; Grove keeps vectors in memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
    /// Element type (accepted; Grove stores float32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datatype: Option<Datatype>,
    /// Makes this name a multi-vector field: points carry a matrix (an array of rows of
    /// `size`), queries are matrices too, scored by MaxSim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector_config: Option<MultiVectorConfig>,
}

/// Qdrant's `multivector_config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiVectorConfig {
    /// How a query matrix is compared with a point's.
    pub comparator: MultiVectorComparator,
}

/// Multi-vector comparators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MultiVectorComparator {
    /// Sum over the query's rows of the best similarity to any of the point's rows.
    MaxSim,
}

/// A collection's dense vectors: one unnamed vector (`{"size", "distance", ...}`) or a map of
/// named ones (`{"image": {...}, "text": {...}}`; the name `""` is the unnamed vector).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum VectorsConfig {
    /// One unnamed vector.
    Single(VectorParams),
    /// Named vectors.
    Named(BTreeMap<String, VectorParams>),
}

/// Hand-written: an object with `size` or `distance` is the unnamed form, any other object is
/// a map of names, and an error names the vector it is about (an untagged derive only says
/// "did not match any variant").
impl<'de> Deserialize<'de> for VectorsConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        let serde_json::Value::Object(m) = v else {
            return Err(D::Error::custom(
                "vectors: give {\"size\": n, \"distance\": ...} or a map of vector names to such objects",
            ));
        };
        if m.contains_key("size") || m.contains_key("distance") {
            return serde_json::from_value(serde_json::Value::Object(m))
                .map(VectorsConfig::Single)
                .map_err(|e| D::Error::custom(format!("vectors: {e}")));
        }
        let mut out = BTreeMap::new();
        for (name, p) in m {
            let p: VectorParams =
                serde_json::from_value(p).map_err(|e| D::Error::custom(format!("vectors.{name:?}: {e}")))?;
            out.insert(name, p);
        }
        Ok(VectorsConfig::Named(out))
    }
}

/// Graph parameters; unset fields keep their current value (or the default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HnswConfigDiff {
    /// M: neighbours per node on the upper layers (2*M on layer 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<usize>,
    /// ef_construction: beam width while inserting (at least 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ef_construct: Option<usize>,
    /// Accepted and stored; Grove's planner decides per query from exact filter cardinalities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_scan_threshold: Option<usize>,
    /// Accepted and stored; graph building uses the server's build threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_indexing_threads: Option<usize>,
    /// Accepted and stored; graphs are held in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
    /// Accepted and stored; Grove builds no per-payload graphs (ACORN serves filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_m: Option<usize>,
    /// Accepted and stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_storage: Option<bool>,
    /// gamma (ACORN): neighbour-list expansion of the ACORN-gamma graph; 1 = ACORN-1 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<usize>,
    /// M_beta (ACORN): neighbours kept uncompressed per node of the ACORN-gamma graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m_beta: Option<usize>,
}

/// Qdrant's write-ahead-log settings (accepted and stored: Grove's WAL is RocksDB's, synced
/// on every acknowledged write).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WalConfigDiff {
    /// Size of a WAL segment, MB (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_capacity_mb: Option<u64>,
    /// Segments created ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_segments_ahead: Option<u64>,
    /// Closed segments kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_retain_closed: Option<u64>,
}

/// Qdrant's optimizer settings. `deleted_threshold` acts (it is Grove's tombstone rebuild
/// ratio); the rest are accepted and stored (Grove indexes continuously into one segment).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OptimizersConfigDiff {
    /// Share of deleted points that triggers an index rebuild, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_threshold: Option<f64>,
    /// At least 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vacuum_min_vector_number: Option<u64>,
    /// Segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_segment_number: Option<u64>,
    /// KB; at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_segment_size: Option<u64>,
    /// KB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memmap_threshold: Option<u64>,
    /// KB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexing_threshold: Option<u64>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_interval_sec: Option<u64>,
    /// A number or "auto".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub max_optimization_threads: Option<serde_json::Value>,
    /// Boolean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prevent_unoptimized: Option<bool>,
}

/// Qdrant's quantization shapes: `{"scalar": {...}}`, `{"binary": {...}}`, `{"turbo": {...}}`
/// or `{"product": {...}}`. Validated here, stored as given (unset fields omitted); what each
/// does in the engine is `grove_storage::quantization::effect` (scalar, one-bit binary and
/// turbo build codes; the others are listed in info as having no effect).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum QuantizationConfig {
    /// Scalar (int8) quantization.
    Scalar(ScalarQuantization),
    /// Binary quantization.
    Binary(BinaryQuantization),
    /// Product quantization.
    Product(ProductQuantization),
    /// Qdrant's TurboQuant (Grove builds its rotated multi-bit codes for it).
    Turbo(TurboQuantization),
}

/// Where quantized data is held (Qdrant's `memory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Memory {
    /// Not pre-loaded.
    Cold,
    /// Pre-loaded into the page cache.
    Cached,
    /// Held in RAM.
    Pinned,
}

/// TurboQuant parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TurboQuantization {
    /// Keep the codes in RAM (deprecated by Qdrant in favour of `memory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
    /// Memory placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// "bits1", "bits1_5", "bits2" or "bits4".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<TurboBits>,
}

/// Bits per component of a TurboQuant code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TurboBits {
    /// 1 bit.
    Bits1,
    /// 1.5 bits.
    #[serde(rename = "bits1_5")]
    Bits1_5,
    /// 2 bits.
    Bits2,
    /// 4 bits.
    Bits4,
}

/// Scalar quantization parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScalarQuantization {
    /// Only "int8".
    #[serde(rename = "type")]
    pub kind: ScalarType,
    /// Quantile for the value range, in [0.5, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f32>,
    /// Keep the codes in RAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
    /// Memory placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
}

/// Scalar code type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScalarType {
    /// One byte per component.
    Int8,
}

/// Binary quantization parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BinaryQuantization {
    /// Keep the codes in RAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
    /// Memory placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// "one_bit", "two_bits" or "one_and_half_bits".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<BinaryEncoding>,
    /// "default", "binary", "scalar4bits" or "scalar8bits".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_encoding: Option<BinaryQueryEncoding>,
}

/// Bits per component of a binary code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BinaryEncoding {
    /// One bit.
    OneBit,
    /// Two bits.
    TwoBits,
    /// One and a half bits.
    OneAndHalfBits,
}

/// How queries against binary codes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BinaryQueryEncoding {
    /// As the codes.
    Default,
    /// Binary.
    Binary,
    /// 4-bit scalar.
    Scalar4bits,
    /// 8-bit scalar.
    Scalar8bits,
}

/// Product quantization parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductQuantization {
    /// "x4", "x8", "x16", "x32" or "x64".
    pub compression: CompressionRatio,
    /// Keep the codes in RAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
    /// Memory placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
}

/// Product quantization compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CompressionRatio {
    /// 4x.
    X4,
    /// 8x.
    X8,
    /// 16x.
    X16,
    /// 32x.
    X32,
    /// 64x.
    X64,
}

/// A quantization change in `PATCH /collections/{name}`: a new config, or `"Disabled"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum QuantizationConfigDiff {
    /// The new config.
    Config(QuantizationConfig),
    /// `"Disabled"`: remove quantization.
    Disabled(QuantizationDisabled),
}

/// The literal `"Disabled"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum QuantizationDisabled {
    /// Remove quantization.
    Disabled,
}

/// How points are spread over shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShardingMethod {
    /// By point id hash.
    Auto,
    /// By user-given shard keys.
    Custom,
}

/// How query weights of a sparse vector are modified (Qdrant's `modifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SparseModifier {
    /// Raw dot product.
    #[default]
    None,
    /// Query weights times the inverse document frequency the server keeps (BM25 with
    /// client-side term frequencies).
    Idf,
}

/// A sparse vector's index parameters (Qdrant's `sparse_vectors.<name>.index`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SparseIndexParams {
    /// Filters allowing at most this many points are answered by scoring each allowed point
    /// instead of walking posting lists (default 5000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_scan_threshold: Option<u64>,
    /// Serve from disk (accepted; the index is held in memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
    /// Element type of the values (accepted; stored as float32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datatype: Option<Datatype>,
}

/// One sparse vector's parameters (create body, PATCH body and collection info).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SparseVectorParams {
    /// Index parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<SparseIndexParams>,
    /// `idf` or `none` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modifier: Option<SparseModifier>,
}

/// `PUT /collections/{name}` body, in Qdrant's shape. Every Qdrant setting is accepted: the
/// ones Grove acts on (vectors, hnsw m/ef_construct, optimizers deleted_threshold) change the
/// collection; the others are validated, stored, returned by collection info and listed there
/// under `grove_settings_without_effect`. Fields Qdrant does not define are ignored, as Qdrant
/// ignores them, and listed there too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreateCollection {
    /// The dense vectors: one unnamed vector or a map of named ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<VectorsConfig>,
    /// Shards (at least 1; a single node keeps one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_number: Option<u32>,
    /// "auto" or "custom".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding_method: Option<ShardingMethod>,
    /// Replicas per shard (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_factor: Option<u32>,
    /// Replicas that must acknowledge a write (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_consistency_factor: Option<u32>,
    /// Keep payloads on disk (Grove keeps them in RocksDB either way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk_payload: Option<bool>,
    /// Graph parameters (every vector's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw_config: Option<HnswConfigDiff>,
    /// WAL settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_config: Option<WalConfigDiff>,
    /// Optimizer settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizers_config: Option<OptimizersConfigDiff>,
    /// Quantization of every vector without its own (`quantization` is accepted as an alias,
    /// as Qdrant accepts it).
    #[serde(default, alias = "quantization", skip_serializing_if = "Option::is_none")]
    pub quantization_config: Option<QuantizationConfig>,
    /// Sparse vectors by name (exact dot product over an inverted index; `modifier: idf` for
    /// BM25). A collection may declare only sparse vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse_vectors: Option<BTreeMap<String, SparseVectorParams>>,
    /// Qdrant's strict mode (accepted and stored; Grove's limits are server-wide config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub strict_mode_config: Option<serde_json::Value>,
    /// Free-form collection metadata (stored and returned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Payload>,
    /// Older Qdrant's copy-on-create (accepted and stored; copy with a snapshot instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub init_from: Option<serde_json::Value>,
    /// Qdrant's payload storage parameters (accepted and stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
    /// Grove: Matryoshka prefixes of the unnamed vector (search at a prefix, rescore at full
    /// dimension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matryoshka: Option<MatryoshkaConfig>,
    /// Fields Qdrant does not define: ignored (listed by collection info).
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// Changes to one vector in `PATCH /collections/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VectorParamsDiff {
    /// Graph parameters (merged into the vector's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw_config: Option<HnswConfigDiff>,
    /// New quantization, or "Disabled".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization_config: Option<QuantizationConfigDiff>,
    /// Serve from disk (stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
}

/// Collection parameters `PATCH /collections/{name}` may change (all stored, none acts on a
/// single node).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionParamsDiff {
    /// At least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_factor: Option<u32>,
    /// At least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_consistency_factor: Option<u32>,
    /// Replicas asked per read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_fan_out_factor: Option<u32>,
    /// Milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_fan_out_delay_ms: Option<u64>,
    /// Keep payloads on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk_payload: Option<bool>,
}

/// `PATCH /collections/{name}` body, in Qdrant's shape. Graph parameters and
/// `optimizers_config.deleted_threshold` act (the affected vector indexes are rebuilt in the
/// background); everything else is stored and returned like the create body's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UpdateCollection {
    /// Per-vector changes by name (`""`: the unnamed vector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<BTreeMap<String, VectorParamsDiff>>,
    /// Optimizer settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizers_config: Option<OptimizersConfigDiff>,
    /// Collection parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<CollectionParamsDiff>,
    /// Graph parameters (every vector's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw_config: Option<HnswConfigDiff>,
    /// New collection-wide quantization, or "Disabled".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization_config: Option<QuantizationConfigDiff>,
    /// Sparse vector changes by name (modifier and index parameters of declared names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse_vectors: Option<BTreeMap<String, SparseVectorParams>>,
    /// Strict mode changes (stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub strict_mode_config: Option<serde_json::Value>,
    /// Metadata keys to set (merged into the stored metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Payload>,
    /// Fields Qdrant does not define: ignored.
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// Matryoshka prefixes of a collection: a contiguous store per prefix dimension, optionally a
/// graph over it and a PCA rotation. Unset fields take the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatryoshkaConfig {
    /// Prefix dimensions, each between 1 and the vector size - 1 (e.g. [64, 128, 256]).
    pub dims: Vec<usize>,
    /// Re-normalise each prefix (default: yes for Cosine, and only allowed for Cosine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renormalise: Option<bool>,
    /// Element type of the prefix stores: "f32" (default), "f16" or "i8".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    /// Build an HNSW graph over each prefix (f32 only; default false: prefixes are scanned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<bool>,
    /// Rotate by a PCA fitted on the collection (for models not trained Matryoshka-style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pca: Option<bool>,
    /// Stored vectors the PCA is fitted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pca_sample: Option<usize>,
    /// Points needed before the PCA is fitted (by the background thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pca_min_points: Option<u64>,
}

/// One funnel stage: rescore at prefix `dim`, keep `keep` candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelStage {
    /// A declared prefix larger than the previous stage's.
    pub dim: usize,
    /// Candidates kept: fewer than the previous stage, at least `limit + offset`.
    pub keep: usize,
}

/// `params.matryoshka` of a query: search at prefix `dim`, keep `oversample * k`, optionally
/// narrow through `funnel`, rescore at full dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatryoshkaParams {
    /// A declared prefix dimension, or the vector size (a plain search).
    pub dim: usize,
    /// Candidates kept by the first stage = oversample * k (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oversample: Option<usize>,
    /// Further stages at larger prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funnel: Vec<FunnelStage>,
    /// First stage: "auto" (default), "scan" or "graph".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One stage of a Matryoshka search in the explain record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatryoshkaStageOut {
    /// Dimension compared at.
    pub dim: usize,
    /// prefix_scan, prefix_graph or rescore.
    pub path: String,
    /// Candidates in (allowed points for the first stage).
    pub candidates_in: u64,
    /// Candidates kept.
    pub kept: u64,
    /// Distances computed.
    pub distances_computed: u64,
}

/// One declared prefix in collection info.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatryoshkaPrefixOut {
    /// Prefix dimension.
    pub dim: usize,
    /// Bytes per vector of its store.
    pub bytes_per_vector: usize,
    /// Points in its graph (absent without a graph).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_indexed: Option<u64>,
    /// Share of the variance the prefix keeps under the PCA (absent without PCA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variance_kept: Option<f64>,
}

/// Collection info's Matryoshka part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatryoshkaInfo {
    /// The prefixes.
    pub prefixes: Vec<MatryoshkaPrefixOut>,
    /// Whether prefixes are re-normalised.
    pub renormalise: bool,
    /// f32, f16 or i8.
    pub dtype: String,
    /// Whether the PCA rotation is applied (false until it is fitted).
    pub pca: bool,
    /// Vectors the PCA was fitted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pca_sample: Option<u64>,
    /// Bytes held by the prefix stores and graphs.
    pub memory_bytes: u64,
}

/// `POST /collections/{name}/matryoshka/calibrate` body; unset fields take the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalibrateRequest {
    /// Stored points used as queries (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
    /// Seed of the sample (default 42).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Mean recall@10 to reach (default 0.95).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_recall: Option<f64>,
    /// Prefixes to try (default: all declared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dims: Vec<usize>,
    /// Oversampling factors to try (default 1, 2, 4, 8, 16, 32).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oversamples: Vec<usize>,
    /// Restrict queries and answers to points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
}

/// One calibrated setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CalibrationRow {
    /// First-stage prefix (the vector size for the exact baseline).
    pub dim: usize,
    /// Oversampling factor.
    pub oversample: usize,
    /// Mean recall@10 against exact full-dimension search.
    pub recall: f64,
    /// Lowest recall@10 of any sampled query.
    pub min_recall: f64,
    /// Mean distances computed per query.
    pub distances: f64,
    /// Mean components compared per query (the cost minimised).
    pub cost: f64,
    /// Mean wall-clock microseconds per query.
    pub micros: f64,
}

/// Calibration result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CalibrationReport {
    /// Queries measured.
    pub queries: usize,
    /// k of recall@k (10).
    pub k: usize,
    /// The target.
    pub target_recall: f64,
    /// Exact full-dimension scan: the cost to beat.
    pub exact: CalibrationRow,
    /// Every setting.
    pub rows: Vec<CalibrationRow>,
    /// The cheapest setting reaching the target (absent when none does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended: Option<CalibrationRow>,
}

/// One entry of `GET /collections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionDescription {
    /// Collection name.
    pub name: String,
}

/// `GET /collections` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionsResponse {
    /// All collections, sorted by name.
    pub collections: Vec<CollectionDescription>,
}

/// `GET /collections/{name}/exists` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionExistence {
    /// Whether the collection exists.
    pub exists: bool,
}

/// Effective graph parameters of a collection (Qdrant's `HnswConfig` plus ACORN's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HnswConfig {
    /// M.
    pub m: usize,
    /// ef_construction.
    pub ef_construct: usize,
    /// As declared (default 10000); Grove's planner decides per query.
    pub full_scan_threshold: usize,
    /// As declared (default 0).
    pub max_indexing_threads: usize,
    /// As declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
    /// As declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_m: Option<usize>,
    /// As declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_storage: Option<bool>,
    /// gamma (ACORN).
    pub gamma: usize,
    /// M_beta (ACORN).
    pub m_beta: usize,
}

/// Collection parameters (Qdrant's shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionParams {
    /// The dense vectors, in the form they were declared (one object, or a map by name).
    pub vectors: VectorsConfig,
    /// As declared (default 1).
    pub shard_number: u32,
    /// As declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding_method: Option<ShardingMethod>,
    /// As declared (default 1).
    pub replication_factor: u32,
    /// As declared (default 1).
    pub write_consistency_factor: u32,
    /// As declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_fan_out_factor: Option<u32>,
    /// As declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_fan_out_delay_ms: Option<u64>,
    /// As declared (default true).
    pub on_disk_payload: bool,
    /// Sparse vectors as declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse_vectors: Option<BTreeMap<String, SparseVectorParams>>,
}

/// Qdrant's optimizer settings as declared (`deleted_threshold` is Grove's tombstone rebuild
/// ratio; the rest have no effect).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OptimizersConfig {
    /// Share of deleted points that triggers an index rebuild.
    pub deleted_threshold: f64,
    /// As declared (default 1000).
    pub vacuum_min_vector_number: u64,
    /// As declared (default 0).
    pub default_segment_number: u64,
    /// As declared.
    pub max_segment_size: Option<u64>,
    /// As declared.
    pub memmap_threshold: Option<u64>,
    /// As declared (default 10000).
    pub indexing_threshold: Option<u64>,
    /// As declared (default 5).
    pub flush_interval_sec: u64,
    /// As declared.
    #[schema(value_type = Option<Object>)]
    pub max_optimization_threads: Option<serde_json::Value>,
    /// As declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prevent_unoptimized: Option<bool>,
}

/// Qdrant's WAL settings as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WalConfig {
    /// Default 32.
    pub wal_capacity_mb: u64,
    /// Default 0.
    pub wal_segments_ahead: u64,
    /// Default 1.
    pub wal_retain_closed: u64,
}

/// Collection configuration (Qdrant's shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionConfig {
    /// Vector and collection parameters.
    pub params: CollectionParams,
    /// Graph parameters.
    pub hnsw_config: HnswConfig,
    /// Optimizer settings.
    pub optimizer_config: OptimizersConfig,
    /// WAL settings.
    pub wal_config: WalConfig,
    /// Collection-wide quantization as declared (null: none).
    pub quantization_config: Option<QuantizationConfig>,
    /// Strict mode as declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub strict_mode_config: Option<serde_json::Value>,
    /// Metadata as declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Payload>,
    /// Grove: the Matryoshka declaration, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matryoshka: Option<MatryoshkaConfig>,
}

/// Payload field types that can be indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PayloadSchemaType {
    /// Exact-match strings (and string arrays).
    Keyword,
    /// 64-bit integers: match and range.
    Integer,
    /// Floats: range.
    Float,
    /// Booleans: match.
    Bool,
    /// RFC 3339 timestamps: range.
    Datetime,
    /// Full text: match text, text_any, phrase (tokenizer parameters in `params`).
    Text,
    /// UUID strings: match, any, except.
    Uuid,
}

/// An indexed payload field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PayloadIndexInfo {
    /// Index type.
    pub data_type: PayloadSchemaType,
    /// A text index's parameters (Qdrant's `TextIndexParams` shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    /// Points with a value in this field.
    pub points: u64,
}

/// `GET /collections/{name}` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CollectionInfo {
    /// "green": every point is in the graph; "yellow": indexing is in progress.
    pub status: String,
    /// Always "ok" (compatibility).
    pub optimizer_status: String,
    /// Always 1 (compatibility).
    pub segments_count: u64,
    /// Live points.
    pub points_count: u64,
    /// Points already in the graph.
    pub indexed_vectors_count: u64,
    /// Configuration.
    pub config: CollectionConfig,
    /// Indexed payload fields.
    pub payload_schema: BTreeMap<String, PayloadIndexInfo>,
    /// Grove: Matryoshka prefixes (bytes per vector, variance kept under PCA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matryoshka: Option<MatryoshkaInfo>,
    /// Grove: the declared settings that have no effect in Grove, one line each ("setting:
    /// why"), so a client sees what was accepted but not acted on.
    #[serde(default)]
    pub grove_settings_without_effect: Vec<String>,
    /// Grove: index state per named vector (`""`: the unnamed vector).
    #[serde(default)]
    pub grove_vectors: BTreeMap<String, VectorIndexInfo>,
}

/// One named vector's index state in collection info.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VectorIndexInfo {
    /// Points in its graph.
    pub indexed_points: u64,
    /// Points not in its graph yet (searched exactly meanwhile).
    pub pending_points: u64,
    /// Index rebuilds since open.
    pub rebuilds: u64,
    /// Deleted points still held by the index (reclaimed by the next rebuild).
    #[serde(default)]
    pub tombstones: u64,
    /// Memory of this vector's index, in bytes.
    #[serde(default)]
    pub memory: VectorMemoryInfo,
}

/// Memory of one named vector's index (bytes), as the engine accounts it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VectorMemoryInfo {
    /// Full vectors in RAM.
    pub vectors: u64,
    /// Graphs (HNSW, and ACORN-gamma when built).
    pub graphs: u64,
    /// Quantized codes (0 without quantization, or before they are trained).
    pub codes: u64,
    /// One full vector (dimension x 4).
    pub vector_bytes_per_point: u64,
    /// One code row (0 without codes).
    pub code_bytes_per_point: u64,
}

/// Field schema of `PUT /collections/{name}/index`: a type name or `{"type": name, ...}`.
/// Deserialised by hand so that an unsupported type gets an error listing the valid ones (an
/// untagged enum only says "did not match any variant").
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum FieldSchema {
    /// Just the type.
    Type(PayloadSchemaType),
    /// Qdrant's parameterised form; `type`, and a text index's tokenizer parameters (the
    /// other types' storage hints are accepted and ignored).
    Params {
        /// The type.
        #[serde(rename = "type")]
        kind: PayloadSchemaType,
        /// A text index's parameters.
        #[serde(skip)]
        text: Option<TextIndexParams>,
    },
}

/// A text index's parameters on the wire (Qdrant's `TextIndexParams`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextIndexParams {
    /// `"text"`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// `word` (default), `whitespace`, `prefix` or `multilingual`.
    #[serde(default)]
    pub tokenizer: Option<String>,
    /// Shorter tokens are not indexed.
    #[serde(default)]
    pub min_token_len: Option<usize>,
    /// Longer tokens are not indexed.
    #[serde(default)]
    pub max_token_len: Option<usize>,
    /// Default true.
    #[serde(default)]
    pub lowercase: Option<bool>,
    /// Accepted; phrases are answered either way.
    #[serde(default)]
    pub phrase_matching: Option<bool>,
    /// A language name (`"english"`) or `{"languages": [..], "custom": [..]}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub stopwords: Option<serde_json::Value>,
    /// Accepted and ignored (Grove keeps indexes in memory, postings in RocksDB).
    #[serde(default)]
    pub on_disk: Option<bool>,
    /// Only `false` (Grove does not fold accents).
    #[serde(default)]
    pub ascii_folding: Option<bool>,
    /// Not supported (a stemmer needs per-language rules Grove does not have).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub stemmer: Option<serde_json::Value>,
    /// Accepted and ignored.
    #[serde(default)]
    pub enable_hnsw: Option<bool>,
}

/// The payload index types, as the error for an unsupported one lists them.
const FIELD_SCHEMA_TYPES: &str = "keyword, integer, float, bool, datetime, text, uuid";

impl<'de> Deserialize<'de> for FieldSchema {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        let (name, params) = match &v {
            serde_json::Value::String(s) => (s.as_str(), false),
            serde_json::Value::Object(m) => match m.get("type") {
                Some(serde_json::Value::String(s)) => (s.as_str(), true),
                _ => {
                    return Err(D::Error::custom(format!(
                        "an object needs a \"type\" ({FIELD_SCHEMA_TYPES})"
                    )))
                }
            },
            _ => {
                return Err(D::Error::custom(format!(
                    "give a type name ({FIELD_SCHEMA_TYPES}) or {{\"type\": name}}"
                )))
            }
        };
        let kind = match name {
            "keyword" => PayloadSchemaType::Keyword,
            "integer" => PayloadSchemaType::Integer,
            "float" => PayloadSchemaType::Float,
            "bool" => PayloadSchemaType::Bool,
            "datetime" => PayloadSchemaType::Datetime,
            "text" => PayloadSchemaType::Text,
            "uuid" => PayloadSchemaType::Uuid,
            other => {
                return Err(D::Error::custom(format!(
                    "unsupported type {other:?}; Grove indexes {FIELD_SCHEMA_TYPES}"
                )))
            }
        };
        let text = if params && kind == PayloadSchemaType::Text {
            let t: TextIndexParams = serde_json::from_value(v.clone())
                .map_err(|e| D::Error::custom(format!("text index: {e}")))?;
            if t.ascii_folding == Some(true) {
                return Err(D::Error::custom("text index: ascii_folding is not supported by Grove"));
            }
            if t.stemmer.as_ref().is_some_and(|s| !s.is_null()) {
                return Err(D::Error::custom("text index: stemmer is not supported by Grove"));
            }
            Some(t)
        } else {
            None
        };
        Ok(if params { FieldSchema::Params { kind, text } } else { FieldSchema::Type(kind) })
    }
}

impl FieldSchema {
    /// The index type.
    pub fn kind(&self) -> PayloadSchemaType {
        match self {
            FieldSchema::Type(k) | FieldSchema::Params { kind: k, .. } => *k,
        }
    }

    /// A text index's parameters, when given.
    pub fn text(&self) -> Option<&TextIndexParams> {
        match self {
            FieldSchema::Type(_) => None,
            FieldSchema::Params { text, .. } => text.as_ref(),
        }
    }
}

/// `PUT /collections/{name}/index` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFieldIndex {
    /// Payload field (dotted path for nested objects).
    pub field_name: String,
    /// Index type.
    pub field_schema: FieldSchema,
}

/// A point's vectors: a plain array (the unnamed vector) or a map of vector names to arrays
/// (any subset of the collection's names; `""` is the unnamed vector).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum VectorStruct {
    /// The unnamed vector.
    Single(Vec<f32>),
    /// Vectors by name.
    Named(BTreeMap<String, Vec<f32>>),
    /// Vectors by name where some are sparse (`{"text": {"indices": [..], "values": [..]}}`)
    /// or multi-vectors (`{"colbert": [[..], [..]]}`).
    Mixed(BTreeMap<String, VectorValue>),
    /// The unnamed vector when it is a multi-vector: an array of rows.
    MultiDense(Vec<Vec<f32>>),
}

/// A sparse vector on the wire: dimension ids and their weights, equal lengths, unique ids.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SparseVector {
    /// Dimension ids (any order, each at most once).
    pub indices: Vec<u32>,
    /// One weight per id.
    pub values: Vec<f32>,
}

/// One vector of a point in the mixed (dense and sparse) named form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum VectorValue {
    /// A dense vector.
    Dense(Vec<f32>),
    /// A sparse vector.
    Sparse(SparseVector),
    /// A multi-vector: rows of one size.
    MultiDense(Vec<Vec<f32>>),
}

impl From<Vec<f32>> for VectorStruct {
    fn from(v: Vec<f32>) -> Self {
        VectorStruct::Single(v)
    }
}

fn dense_of<E: serde::de::Error>(what: &str, v: serde_json::Value) -> Result<Vec<f32>, E> {
    match &v {
        serde_json::Value::Object(m) if m.contains_key("indices") => Err(E::custom(format!(
            "{what}: sparse vectors ({{indices, values}}) are not supported by Grove yet; send a dense array"
        ))),
        _ => serde_json::from_value(v).map_err(|e| E::custom(format!("{what}: {e}"))),
    }
}

/// Whether a JSON value is an array of arrays (a multi-vector).
fn is_matrix(v: &serde_json::Value) -> bool {
    v.as_array().is_some_and(|a| a.first().is_some_and(serde_json::Value::is_array))
}

/// A multi-vector from JSON: rows of numbers, each non-empty and all of one size (the
/// declared size is storage's check).
fn multi_of<E: serde::de::Error>(what: &str, v: serde_json::Value) -> Result<Vec<Vec<f32>>, E> {
    let rows: Vec<Vec<f32>> = serde_json::from_value(v)
        .map_err(|e| E::custom(format!("{what}: a multi-vector is an array of arrays of numbers: {e}")))?;
    check_matrix(what, &rows).map_err(E::custom)?;
    Ok(rows)
}

/// A multi-vector's shape: rows non-empty, all of the first row's size.
pub fn check_matrix(what: &str, rows: &[Vec<f32>]) -> Result<(), String> {
    if rows.iter().any(Vec::is_empty) {
        return Err(format!("{what}: all vectors of a multi-vector must be non-empty"));
    }
    if let Some(first) = rows.first() {
        if let Some(r) = rows.iter().find(|r| r.len() != first.len()) {
            return Err(format!(
                "{what}: all vectors of a multi-vector must have the same dimension, found vector with dimension {} after {}",
                r.len(),
                first.len()
            ));
        }
    }
    Ok(())
}

/// Hand-written so an error names the vector and says what is accepted.
impl<'de> Deserialize<'de> for VectorStruct {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            v @ serde_json::Value::Array(_) if is_matrix(&v) => {
                multi_of("vector", v).map(VectorStruct::MultiDense)
            }
            v @ serde_json::Value::Array(_) => dense_of("vector", v).map(VectorStruct::Single),
            serde_json::Value::Object(m) => {
                let mut out = BTreeMap::new();
                let mut sparse = BTreeMap::new();
                let mut multi = BTreeMap::new();
                for (name, v) in m {
                    if is_matrix(&v) {
                        multi.insert(name.clone(), multi_of(&format!("vector {name:?}"), v)?);
                        continue;
                    }
                    if v.as_object().is_some_and(|o| o.contains_key("indices") || o.contains_key("values")) {
                        let sv: SparseVector = serde_json::from_value(v).map_err(|e| {
                            D::Error::custom(format!(
                                "vector {name:?}: a sparse vector is {{\"indices\": [u32...], \"values\": [f32...]}}: {e}"
                            ))
                        })?;
                        sparse.insert(name, sv);
                    } else {
                        out.insert(name.clone(), dense_of(&format!("vector {name:?}"), v)?);
                    }
                }
                if sparse.is_empty() && multi.is_empty() {
                    return Ok(VectorStruct::Named(out));
                }
                let mut mixed: BTreeMap<String, VectorValue> =
                    out.into_iter().map(|(k, v)| (k, VectorValue::Dense(v))).collect();
                mixed.extend(sparse.into_iter().map(|(k, v)| (k, VectorValue::Sparse(v))));
                mixed.extend(multi.into_iter().map(|(k, v)| (k, VectorValue::MultiDense(v))));
                Ok(VectorStruct::Mixed(mixed))
            }
            _ => Err(D::Error::custom(
                "vector: give an array of numbers, an array of arrays (a multi-vector), or an object of vector names to them",
            )),
        }
    }
}

impl VectorStruct {
    /// The vectors by name (the plain form is the vector named `""`).
    pub fn into_named(self) -> BTreeMap<String, Vec<f32>> {
        self.into_parts().0
    }

    /// The dense vectors by name, the sparse ones and the multi-vectors.
    pub fn into_parts(self) -> (BTreeMap<String, Vec<f32>>, BTreeMap<String, SparseVector>, MultiVectors) {
        match self {
            VectorStruct::Single(v) => {
                (BTreeMap::from([(String::new(), v)]), BTreeMap::new(), BTreeMap::new())
            }
            VectorStruct::Named(m) => (m, BTreeMap::new(), BTreeMap::new()),
            VectorStruct::MultiDense(rows) => {
                (BTreeMap::new(), BTreeMap::new(), BTreeMap::from([(String::new(), rows)]))
            }
            VectorStruct::Mixed(m) => {
                let (mut dense, mut sparse, mut multi) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
                for (k, v) in m {
                    match v {
                        VectorValue::Dense(d) => {
                            dense.insert(k, d);
                        }
                        VectorValue::Sparse(s) => {
                            sparse.insert(k, s);
                        }
                        VectorValue::MultiDense(r) => {
                            multi.insert(k, r);
                        }
                    }
                }
                (dense, sparse, multi)
            }
        }
    }
}

/// Multi-vectors by name, one `Vec` per row.
pub type MultiVectors = BTreeMap<String, Vec<Vec<f32>>>;

/// A point to upsert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointStruct {
    /// Id.
    pub id: PointId,
    /// The vector (a plain array), or named vectors (an object of names to arrays).
    pub vector: VectorStruct,
    /// JSON object of attributes.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Payload>,
}

/// Column-oriented upsert (Qdrant's `batch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// Ids.
    pub ids: Vec<PointId>,
    /// Vectors, one per id: an array of arrays, or an object of vector names to arrays of
    /// arrays.
    pub vectors: BatchVectors,
    /// Payloads, one per id (or omitted).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub payloads: Option<Vec<Option<Payload>>>,
}

/// The vectors of a column-oriented batch: one array per point, or per vector name one array
/// per point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BatchVectors {
    /// The unnamed vector of each point.
    Single(Vec<Vec<f32>>),
    /// Per name, each point's vector.
    Named(BTreeMap<String, Vec<Vec<f32>>>),
    /// Per name, each point's vector, some names sparse (`{"text": [{"indices", "values"}, ..]}`)
    /// or multi-vectors (`{"colbert": [[[..], ..], ..]}`).
    Mixed(BTreeMap<String, Vec<VectorValue>>),
    /// The unnamed multi-vector of each point.
    MultiDense(Vec<Vec<Vec<f32>>>),
}

/// `PUT /collections/{name}/points` body: `{"points": [...]}` or `{"batch": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertPoints {
    /// The points, row by row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<PointStruct>>,
    /// The points as columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batch>,
    /// An existing point is replaced only when it matches this filter; new points are inserted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub update_filter: Option<serde_json::Value>,
    /// `upsert` (default), `insert_only` (existing points are kept as they are) or
    /// `update_only` (new ids are skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_mode: Option<UpdateMode>,
}

/// How an upsert treats existing and new point ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMode {
    /// Insert new points, replace existing ones.
    #[default]
    Upsert,
    /// Only insert new ids.
    InsertOnly,
    /// Only replace existing points.
    UpdateOnly,
}

/// The conditions of an upsert (`update_mode`, `update_filter`), taken from its body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpsertConditions {
    /// The mode.
    pub mode: UpdateMode,
    /// The filter existing points must match to be replaced.
    pub filter: Option<serde_json::Value>,
}

impl UpsertPoints {
    /// Takes the conditions out of the body (before [`Self::into_points`]).
    pub fn take_conditions(&mut self) -> UpsertConditions {
        UpsertConditions {
            mode: self.update_mode.take().unwrap_or_default(),
            filter: self.update_filter.take().filter(|f| !f.is_null()),
        }
    }

    /// The points as rows; fails when neither or both forms are given, or the batch columns
    /// disagree in length.
    pub fn into_points(self) -> Result<Vec<PointStruct>, String> {
        match (self.points, self.batch) {
            (Some(points), None) => Ok(points),
            (None, Some(batch)) => {
                let n = batch.ids.len();
                let vectors: Vec<VectorStruct> = match batch.vectors {
                    BatchVectors::Single(v) => {
                        if v.len() != n {
                            return Err(format!("batch has {n} ids but {} vectors", v.len()));
                        }
                        v.into_iter().map(VectorStruct::Single).collect()
                    }
                    BatchVectors::Named(m) => {
                        let mut rows = vec![BTreeMap::new(); n];
                        for (name, col) in m {
                            if col.len() != n {
                                return Err(format!("batch has {n} ids but {} vectors {name:?}", col.len()));
                            }
                            for (row, v) in rows.iter_mut().zip(col) {
                                row.insert(name.clone(), v);
                            }
                        }
                        rows.into_iter().map(VectorStruct::Named).collect()
                    }
                    BatchVectors::Mixed(m) => {
                        let mut rows = vec![BTreeMap::new(); n];
                        for (name, col) in m {
                            if col.len() != n {
                                return Err(format!("batch has {n} ids but {} vectors {name:?}", col.len()));
                            }
                            for (row, v) in rows.iter_mut().zip(col) {
                                row.insert(name.clone(), v);
                            }
                        }
                        rows.into_iter().map(VectorStruct::Mixed).collect()
                    }
                    BatchVectors::MultiDense(v) => {
                        if v.len() != n {
                            return Err(format!("batch has {n} ids but {} vectors", v.len()));
                        }
                        v.into_iter().map(VectorStruct::MultiDense).collect()
                    }
                };
                let payloads = match batch.payloads {
                    Some(p) if p.len() != n => {
                        return Err(format!("batch has {n} ids but {} payloads", p.len()))
                    }
                    Some(p) => p,
                    None => vec![None; n],
                };
                Ok(batch
                    .ids
                    .into_iter()
                    .zip(vectors)
                    .zip(payloads)
                    .map(|((id, vector), payload)| PointStruct { id, vector, payload })
                    .collect())
            }
            (Some(_), Some(_)) => Err("give either `points` or `batch`, not both".to_owned()),
            (None, None) => Err("give the points as `points` (rows) or `batch` (columns)".to_owned()),
        }
    }
}

/// Which payload fields to return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum WithPayload {
    /// All (true) or none (false).
    Enable(bool),
    /// Only these fields.
    Fields(Vec<String>),
    /// `{"include": [...]}` or `{"exclude": [...]}`.
    Selector(PayloadSelector),
}

/// Include or exclude fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PayloadSelector {
    /// Only these.
    Include(Vec<String>),
    /// All but these.
    Exclude(Vec<String>),
}

impl WithPayload {
    /// Applies the selector to a stored payload; `None` means "omit the payload".
    pub fn apply(&self, payload: Payload) -> Option<Payload> {
        match self {
            WithPayload::Enable(false) => None,
            WithPayload::Enable(true) => Some(payload),
            // Dotted paths (`a.b`, `a[].b`), as storage reads them.
            WithPayload::Fields(fields) | WithPayload::Selector(PayloadSelector::Include(fields)) => {
                Some(grove_storage::payload_select::include(&payload, fields))
            }
            WithPayload::Selector(PayloadSelector::Exclude(fields)) => {
                Some(grove_storage::payload_select::exclude(payload, fields))
            }
        }
    }

    /// Whether any payload is wanted (lets the service skip reading payloads).
    pub fn wanted(&self) -> bool {
        !matches!(self, WithPayload::Enable(false))
    }
}

/// `POST /collections/{name}/points` body (get by ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPoints {
    /// Ids to fetch; missing ids are skipped.
    pub ids: Vec<PointId>,
    /// Default: all payload fields.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false.
    #[serde(default, alias = "with_vectors")]
    pub with_vector: Option<WithVector>,
}

/// A point read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Record {
    /// Id.
    pub id: PointId,
    /// Payload, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Payload>,
    /// Vector(s), when asked for: an array for the unnamed form, an object by name for named
    /// vectors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<VectorStruct>,
    /// The value a scroll with `order_by` ordered this point by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub order_value: Option<serde_json::Value>,
}

/// `with_vector`: all vectors (`true`), none (`false`), or only the named ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum WithVector {
    /// All or none.
    Enable(bool),
    /// Only these vector names (`""`: the unnamed vector).
    Names(Vec<String>),
}

impl WithVector {
    /// Whether any vector is read.
    pub fn wanted(&self) -> bool {
        match self {
            WithVector::Enable(b) => *b,
            WithVector::Names(n) => !n.is_empty(),
        }
    }

    /// Keeps only the selected vectors of a record: named forms lose the other names, the
    /// unnamed form is kept when `""` is asked for.
    pub fn select(&self, v: Option<VectorStruct>) -> Option<VectorStruct> {
        let WithVector::Names(names) = self else { return v };
        let keep = |k: &String| names.iter().any(|n| n == k);
        match v? {
            VectorStruct::Single(x) => names.iter().any(|n| n.is_empty()).then_some(VectorStruct::Single(x)),
            VectorStruct::MultiDense(x) => {
                names.iter().any(|n| n.is_empty()).then_some(VectorStruct::MultiDense(x))
            }
            VectorStruct::Named(m) => {
                Some(VectorStruct::Named(m.into_iter().filter(|(k, _)| keep(k)).collect()))
            }
            VectorStruct::Mixed(m) => {
                Some(VectorStruct::Mixed(m.into_iter().filter(|(k, _)| keep(k)).collect()))
            }
        }
    }
}

/// Points addressed by ids or by a filter (delete, clear payload): `{"points": [ids]}` or
/// `{"filter": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointsSelector {
    /// The ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<PointId>>,
    /// The filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
}

impl PointsSelector {
    /// By ids.
    pub fn ids(points: Vec<PointId>) -> Self {
        PointsSelector { points: Some(points), filter: None }
    }

    /// By filter.
    pub fn filter(filter: serde_json::Value) -> Self {
        PointsSelector { points: None, filter: Some(filter) }
    }
}

/// One point's new vectors in `PUT /collections/{name}/points/vectors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointVectors {
    /// An existing point.
    pub id: PointId,
    /// The vectors to set (others stay).
    pub vector: VectorStruct,
}

/// `PUT /collections/{name}/points/vectors` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVectors {
    /// The points and their new vectors.
    pub points: Vec<PointVectors>,
    /// Only points matching this filter are updated (the others are left as they are).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub update_filter: Option<serde_json::Value>,
}

/// `POST /collections/{name}/points/vectors/delete` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteVectors {
    /// Target ids (or use `filter`).
    #[serde(default)]
    pub points: Option<Vec<PointId>>,
    /// Target points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Names of the vectors to remove.
    pub vector: Vec<String>,
}

/// `POST/PUT /collections/{name}/points/payload` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPayload {
    /// Keys to set (POST merges them; PUT replaces the whole payload).
    #[schema(value_type = Object)]
    pub payload: Payload,
    /// Target ids (or use `filter`).
    #[serde(default)]
    pub points: Option<Vec<PointId>>,
    /// Target points matching this filter (or use `points`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Set the keys inside the object at this dotted path (created when missing) instead of
    /// at the top level.
    #[serde(default)]
    pub key: Option<String>,
}

/// `POST /collections/{name}/points/payload/delete` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletePayload {
    /// Keys to remove.
    pub keys: Vec<String>,
    /// Target ids (or use `filter`).
    #[serde(default)]
    pub points: Option<Vec<PointId>>,
    /// Target points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
}

/// Result of a write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UpdateResult {
    /// Sequence number of the operation.
    pub operation_id: u64,
    /// "completed": durable and visible to searches; "acknowledged": durable.
    pub status: UpdateStatus,
}

/// Write status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStatus {
    /// Durable and visible.
    Completed,
    /// Durable; visibility may lag.
    Acknowledged,
}

/// Query vector: a plain array or Qdrant's `{"nearest": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum QueryInput {
    /// The vector.
    Vector(Vec<f32>),
    /// A multi-vector query (`using` names a multi-vector field): rows, scored by MaxSim.
    MultiDense(Vec<Vec<f32>>),
    /// `{"nearest": vector, "mmr": {diversity, candidates_limit}}`: the nearest candidates
    /// re-ranked by maximal marginal relevance. Before `Nearest`, which would take this body
    /// and drop `mmr`.
    NearestMmr {
        /// The vector.
        nearest: Vec<f32>,
        /// The re-ranking.
        mmr: crate::api_query::Mmr,
    },
    /// `{"nearest": vector}`.
    Nearest {
        /// The vector.
        nearest: Vec<f32>,
    },
    /// `{"nearest": [[..], ..]}`: a multi-vector query.
    NearestMulti {
        /// The rows.
        nearest: Vec<Vec<f32>>,
    },
    /// A sparse query `{"indices": [..], "values": [..]}` (`using` names a sparse vector).
    Sparse(SparseVector),
    /// `{"nearest": {"indices": [..], "values": [..]}}`.
    NearestSparse {
        /// The sparse vector.
        nearest: SparseVector,
    },
    /// A stored point's id: nearest to its vector, the point itself left out.
    Point(PointId),
    /// `{"nearest": id}`.
    NearestPoint {
        /// The point.
        nearest: PointId,
    },
    /// `{"fusion": "rrf" | "dbsf"}`: fuse the prefetches' results.
    Fusion {
        /// The method.
        fusion: crate::api_query::Fusion,
    },
    /// `{"rrf": {"k": .., "weights": ..}}`: reciprocal rank fusion with parameters.
    Rrf {
        /// The parameters.
        rrf: crate::api_query::Rrf,
    },
    /// `{"recommend": {positive, negative, strategy}}`.
    Recommend {
        /// The examples.
        recommend: crate::api_query::RecommendInput,
    },
    /// `{"discover": {target, context}}`.
    Discover {
        /// Target and context.
        discover: crate::api_query::DiscoverInput,
    },
    /// `{"context": pair or [pairs]}`.
    Context {
        /// The pairs.
        #[schema(value_type = Object)]
        context: crate::api_query::OneOrMany<crate::api_query::ContextInputPair>,
    },
    /// `{"order_by": key or {key, direction, start_from}}`: by a payload field.
    OrderBy {
        /// The field and direction.
        order_by: crate::api_query::OrderByInput,
    },
    /// `{"sample": "random"}`.
    Sample {
        /// The kind of sample.
        sample: crate::api_query::Sample,
        /// Grove: seed of the sample (default: a fresh random seed per request).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
    },
}

impl QueryInput {
    /// The query vector of a plain nearest-vector query; `None` for the other kinds (sparse
    /// queries go to the sparse index, the rest to `service::query_plan`).
    pub fn dense_vector(&self) -> Option<&[f32]> {
        match self {
            QueryInput::Vector(v) | QueryInput::Nearest { nearest: v } => Some(v),
            QueryInput::Sparse(_)
            | QueryInput::MultiDense(_)
            | QueryInput::NearestMulti { .. }
            | QueryInput::NearestMmr { .. }
            | QueryInput::NearestSparse { .. }
            | QueryInput::Point(_)
            | QueryInput::NearestPoint { .. }
            | QueryInput::Fusion { .. }
            | QueryInput::Rrf { .. }
            | QueryInput::Recommend { .. }
            | QueryInput::Discover { .. }
            | QueryInput::Context { .. }
            | QueryInput::OrderBy { .. }
            | QueryInput::Sample { .. } => None,
        }
    }

    /// The sparse query vector, when the query is sparse.
    pub fn sparse(&self) -> Option<&SparseVector> {
        match self {
            QueryInput::Sparse(v) | QueryInput::NearestSparse { nearest: v } => Some(v),
            QueryInput::Vector(_)
            | QueryInput::MultiDense(_)
            | QueryInput::NearestMulti { .. }
            | QueryInput::Nearest { .. }
            | QueryInput::NearestMmr { .. }
            | QueryInput::Point(_)
            | QueryInput::NearestPoint { .. }
            | QueryInput::Fusion { .. }
            | QueryInput::Rrf { .. }
            | QueryInput::Recommend { .. }
            | QueryInput::Discover { .. }
            | QueryInput::Context { .. }
            | QueryInput::OrderBy { .. }
            | QueryInput::Sample { .. } => None,
        }
    }

    /// The rows of a multi-vector query.
    pub fn multi(&self) -> Option<&[Vec<f32>]> {
        match self {
            QueryInput::MultiDense(m) | QueryInput::NearestMulti { nearest: m } => Some(m),
            QueryInput::Vector(_)
            | QueryInput::Nearest { .. }
            | QueryInput::Sparse(_)
            | QueryInput::NearestSparse { .. }
            | QueryInput::NearestMmr { .. }
            | QueryInput::Point(_)
            | QueryInput::NearestPoint { .. }
            | QueryInput::Fusion { .. }
            | QueryInput::Rrf { .. }
            | QueryInput::Recommend { .. }
            | QueryInput::Discover { .. }
            | QueryInput::Context { .. }
            | QueryInput::OrderBy { .. }
            | QueryInput::Sample { .. } => None,
        }
    }

    /// The query vector (empty for kinds without one, which the limits then refuse).
    pub fn into_vector(self) -> Vec<f32> {
        self.dense_vector().map(<[f32]>::to_vec).unwrap_or_default()
    }
}

/// Which algorithm answers a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StrategyParam {
    /// The planner chooses from the filter's exact cardinality.
    #[default]
    Auto,
    /// Exact scan over the allowed points.
    Exact,
    /// Filtered HNSW traversal.
    Hnsw,
    /// ACORN over the predicate subgraph.
    Acorn,
}

/// Query-time quantization knobs (`params.quantization`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantizationSearchParams {
    /// Search the full vectors even where codes exist (default false).
    #[serde(default)]
    pub ignore: Option<bool>,
    /// Rescore the candidates found on codes with the full vectors (default true).
    #[serde(default)]
    pub rescore: Option<bool>,
    /// Candidates rescored = `ceil(limit * oversampling)`, between 1 and 64 (default: Grove's
    /// per code kind: 4 x limit of an int8 walk's beam, its whole beam for binary codes).
    #[serde(default)]
    pub oversampling: Option<f64>,
}

/// What quantized codes did in a search (explain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuantizationExplainOut {
    /// Code kind: int8 or binary.
    pub kind: String,
    /// Whether codes were used.
    pub used: bool,
    /// Why they were or were not.
    pub reason: String,
    /// Distances computed on codes.
    pub code_distances: u64,
    /// Candidates rescored with the full vectors.
    pub rescored: u64,
    /// Bound on a code estimate's inner-product error for this query, when known.
    pub error_bound: Option<f32>,
}

/// Search parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// ef: graph search beam width.
    #[serde(default)]
    pub hnsw_ef: Option<usize>,
    /// Exact scan (same as strategy "exact").
    #[serde(default)]
    pub exact: Option<bool>,
    /// How quantized codes are used when the vector has them (Qdrant's shape).
    #[serde(default)]
    pub quantization: Option<QuantizationSearchParams>,
    /// Accepted for Qdrant compatibility; ignored.
    #[serde(default)]
    pub indexed_only: Option<bool>,
    /// Grove: search at a Matryoshka prefix, rescore at full dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matryoshka: Option<MatryoshkaParams>,
}

/// `POST /collections/{name}/points/query` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// Stages whose results `query` rescores or fuses (Qdrant's Query API).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub prefetch: Option<crate::api_query::OneOrMany<crate::api_query::Prefetch>>,
    /// The query: a vector, a point id, or `{"nearest" | "fusion" | "rrf" | "recommend" |
    /// "discover" | "context" | "order_by" | "sample": ..}`. Absent without prefetch: points
    /// in id order.
    #[serde(default)]
    pub query: Option<QueryInput>,
    /// Where point ids in the query take their vectors from (default: this collection).
    #[serde(default)]
    pub lookup_from: Option<crate::api_compat::LookupLocation>,
    /// Accepted and ignored: one node, one shard.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
    /// The named vector to search (absent or `""`: the unnamed vector).
    #[serde(default)]
    pub using: Option<String>,
    /// Only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Search parameters.
    #[serde(default)]
    pub params: Option<SearchParams>,
    /// k: hits to return (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Hits to skip.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Drop hits worse than this score.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Default: no payload.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false. `true`, `false` or a list of vector names (`with_vectors` is an alias).
    #[serde(default, alias = "with_vectors")]
    pub with_vector: Option<WithVector>,
    /// Grove: force a path (default "auto").
    #[serde(default)]
    pub strategy: Option<StrategyParam>,
    /// Grove: return the planner's decision and the work done.
    #[serde(default)]
    pub explain: Option<bool>,
}

/// The query vector of `/points/search`: a plain array, or `{"name": ..., "vector": [...]}`
/// for a named vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NamedVectorStruct {
    /// The unnamed vector.
    Default(Vec<f32>),
    /// A named vector.
    Named {
        /// The vector name.
        name: String,
        /// The query.
        vector: Vec<f32>,
    },
    /// A named sparse vector: `{"name": "text", "vector": {"indices": [..], "values": [..]}}`.
    Sparse {
        /// The sparse vector's name.
        name: String,
        /// The query.
        vector: SparseVector,
    },
}

/// Qdrant's older `POST /collections/{name}/points/search` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// The query vector: an array (the unnamed vector) or `{"name": ..., "vector": [...]}`.
    pub vector: NamedVectorStruct,
    /// Only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Search parameters.
    #[serde(default)]
    pub params: Option<SearchParams>,
    /// k (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Hits to skip.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Drop hits worse than this score.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Default: no payload.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false.
    #[serde(default)]
    pub with_vector: Option<bool>,
    /// Grove: force a path.
    #[serde(default)]
    pub strategy: Option<StrategyParam>,
}

impl From<SearchRequest> for QueryRequest {
    fn from(s: SearchRequest) -> Self {
        let (using, query) = match s.vector {
            NamedVectorStruct::Default(v) => (None, QueryInput::Vector(v)),
            NamedVectorStruct::Named { name, vector } => (Some(name), QueryInput::Vector(vector)),
            NamedVectorStruct::Sparse { name, vector } => (Some(name), QueryInput::Sparse(vector)),
        };
        QueryRequest {
            prefetch: None,
            query: Some(query),
            lookup_from: None,
            shard_key: None,
            using,
            filter: s.filter,
            params: s.params,
            limit: s.limit,
            offset: s.offset,
            score_threshold: s.score_threshold,
            with_payload: s.with_payload,
            with_vector: s.with_vector.map(WithVector::Enable),
            strategy: s.strategy,
            explain: None,
        }
    }
}

/// `POST /collections/{name}/points/query/batch` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryBatchRequest {
    /// The queries.
    pub searches: Vec<QueryRequest>,
}

/// A query hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScoredPoint {
    /// Id.
    pub id: PointId,
    /// Always 0 (compatibility).
    pub version: u64,
    /// Cosine/dot: similarity (higher is better); euclid: distance (lower is better).
    pub score: f32,
    /// Payload, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Payload>,
    /// Vector(s), when asked for (an array, or an object by name for named vectors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<VectorStruct>,
    /// The payload value an `order_by` query sorted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub order_value: Option<serde_json::Value>,
}

/// What a search did and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExplainOut {
    /// The path that answered: exact, hnsw, acorn1, acorn_gamma, hnsw_rs.
    pub path: String,
    /// Why.
    pub reason: String,
    /// Live points.
    pub live_points: u64,
    /// Points the filter allows.
    pub allowed_points: u64,
    /// allowed / live.
    pub selectivity: f64,
    /// ef used by a graph path.
    pub ef: Option<usize>,
    /// Graph nodes expanded.
    pub nodes_visited: u64,
    /// Distance computations.
    pub distances_computed: u64,
    /// Unindexed points scanned exactly.
    pub unindexed_scanned: u64,
    /// The named vector searched (`""`: the unnamed vector).
    #[serde(default)]
    pub using: String,
    /// How storage answered the filter (absent without a filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterExplainOut>,
    /// Matryoshka stages, shortest prefix first (absent for other paths).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matryoshka: Vec<MatryoshkaStageOut>,
    /// What quantized codes did (absent when the vector has no quantization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<QuantizationExplainOut>,
    /// What the sparse index did (a sparse vector was searched; `path` is then
    /// `sparse_postings` or `sparse_full_scan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<SparseExplainOut>,
    /// What the multi-vector path did (a multi-vector field was searched; the fields above are
    /// then the FDE index's search, or the exact MaxSim scan's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivec: Option<MultivecExplainOut>,
}

/// The work of a multi-vector (MaxSim) search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MultivecExplainOut {
    /// `exact_max_sim` (every allowed point scored) or `fde_rescore` (candidates from the
    /// field's FDE index, rescored with exact MaxSim).
    pub path: String,
    /// Why, with the numbers.
    pub reason: String,
    /// Rows of the query.
    pub query_rows: usize,
    /// Allowed points holding the field.
    pub allowed_points: u64,
    /// Candidates the FDE index proposed (0 on the exact path).
    pub candidates: u64,
    /// Points scored with exact MaxSim.
    pub rescored: u64,
    /// Length of the encodings in the FDE index.
    pub fde_dim: usize,
}

impl From<&grove_index::multivec::MultivecExplain> for MultivecExplainOut {
    fn from(m: &grove_index::multivec::MultivecExplain) -> Self {
        MultivecExplainOut {
            path: match m.path {
                grove_index::multivec::MultivecPath::ExactMaxSim => "exact_max_sim",
                grove_index::multivec::MultivecPath::FdeRescore => "fde_rescore",
            }
            .to_owned(),
            reason: m.reason.clone(),
            query_rows: m.query_rows,
            allowed_points: m.allowed_points,
            candidates: m.candidates,
            rescored: m.rescored,
            fde_dim: m.fde_dim,
        }
    }
}

/// The work of a sparse search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SparseExplainOut {
    /// `sparse_postings` (the query's posting lists walked) or `sparse_full_scan` (each allowed
    /// point scored).
    pub path: String,
    /// Query dimensions some live point holds.
    pub query_dims: u64,
    /// Posting entries read.
    pub postings_read: u64,
    /// Points scored.
    pub candidates_scored: u64,
    /// Whether query weights were multiplied by idf.
    pub idf: bool,
}

/// How the filter was answered: storage's side of the explain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FilterExplainOut {
    /// Live points the filter matches (exact).
    pub cardinality: u64,
    /// Fields whose conditions a payload index answered.
    pub indexed_fields: Vec<String>,
    /// Fields without a usable index: their conditions were checked against every payload.
    pub unindexed_fields: Vec<String>,
    /// Payloads read by those scans.
    pub payloads_scanned: u64,
    /// Time to compile the filter, microseconds.
    pub micros: u64,
}

impl From<&grove_storage::FilterExplain> for FilterExplainOut {
    fn from(f: &grove_storage::FilterExplain) -> Self {
        FilterExplainOut {
            cardinality: f.cardinality,
            indexed_fields: f.indexed_fields.clone(),
            unindexed_fields: f.unindexed_fields.clone(),
            payloads_scanned: f.payloads_scanned,
            micros: f.micros,
        }
    }
}

impl From<&grove_index::Explain> for ExplainOut {
    fn from(e: &grove_index::Explain) -> Self {
        ExplainOut {
            path: e.path.as_str().to_owned(),
            reason: e.reason.clone(),
            live_points: e.live_points,
            allowed_points: e.allowed_points,
            selectivity: e.selectivity,
            ef: e.ef,
            nodes_visited: e.nodes_visited,
            distances_computed: e.distances_computed,
            unindexed_scanned: e.unindexed_scanned,
            using: String::new(),
            filter: None,
            matryoshka: e
                .matryoshka
                .iter()
                .map(|s| MatryoshkaStageOut {
                    dim: s.dim,
                    path: s.path.clone(),
                    candidates_in: s.candidates_in,
                    kept: s.kept,
                    distances_computed: s.distances_computed,
                })
                .collect(),
            quantization: e.quantization.as_ref().map(|q| QuantizationExplainOut {
                kind: q.kind.clone(),
                used: q.used,
                reason: q.reason.clone(),
                code_distances: q.code_distances,
                rescored: q.rescored,
                error_bound: q.error_bound,
            }),
            sparse: None,
            multivec: None,
        }
    }
}

/// Query result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueryResponse {
    /// Hits, best first.
    pub points: Vec<ScoredPoint>,
    /// Present when `explain` was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<ExplainOut>,
    /// Grove: every stage of a Query API request (prefetches, rescoring, fusion), when
    /// `explain` was asked for and the query is more than one nearest-vector search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<crate::api_query::StageExplainOut>,
}

/// `POST /collections/{name}/points/scroll` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScrollRequest {
    /// Start at this id (inclusive).
    #[serde(default)]
    pub offset: Option<PointId>,
    /// Page size (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Default: all payload fields.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false. `true`, `false` or a list of vector names (`with_vectors` is an alias).
    #[serde(default, alias = "with_vectors")]
    pub with_vector: Option<WithVector>,
    /// Order by an indexed numeric payload field instead of by id (no `offset` then, and
    /// `next_page_offset` is null: page on with `start_from`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub order_by: Option<crate::api_query::OrderByInput>,
    /// Accepted and ignored: one node, one shard.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
    /// Accepted and ignored: one replica.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Option<Object>)]
    pub consistency: Option<serde_json::Value>,
    /// Accepted and ignored (scrolls have the service's own deadline).
    #[serde(default, skip_serializing)]
    pub timeout: Option<u64>,
}

/// Scroll result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScrollResult {
    /// Points in id order.
    pub points: Vec<Record>,
    /// Offset of the next page; null on the last page.
    pub next_page_offset: Option<PointId>,
}

/// `POST /collections/{name}/points/count` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountRequest {
    /// Only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Accepted for compatibility; counts are always exact.
    #[serde(default)]
    pub exact: Option<bool>,
}

/// Count result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CountResult {
    /// Matching points.
    pub count: u64,
}

/// A snapshot of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotDescription {
    /// Snapshot name (a directory under the data dir's snapshot area).
    pub name: String,
    /// RFC 3339 creation time, when known.
    pub creation_time: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

/// `PUT /collections/{name}/snapshots/recover` body (Qdrant's shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRecover {
    /// A snapshot name of this collection, or a `file://` URL (or absolute path) of an archive
    /// on the server's disk. URLs of other schemes are refused: upload the archive instead.
    pub location: String,
    /// Accepted for Qdrant compatibility; ignored (a single node has no replicas to prefer).
    #[serde(default)]
    pub priority: Option<String>,
    /// Accepted for Qdrant compatibility; ignored (archives carry their own CRC-32).
    #[serde(default)]
    pub checksum: Option<String>,
    /// Accepted for Qdrant compatibility; ignored.
    #[serde(default)]
    pub api_key: Option<String>,
}

/// What a recovery did (gRPC answer; REST answers `true` like Qdrant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecoverOutcome {
    /// Live points of the recovered collection.
    pub points: u64,
    /// Whether an existing collection was replaced (false: created).
    pub replaced: bool,
    /// The collection the snapshot was taken from.
    pub source_collection: String,
}

/// The Qdrant API version whose REST and client contract Grove follows. `GET /` reports it as
/// `version`, as Qdrant reports its own, because qdrant-client compares it with its own version
/// on every connection and warns (or, with `check_compatibility`, refuses) when they differ by
/// more than one minor version. Grove's own version is `grove_version`.
pub const QDRANT_API_VERSION: &str = "1.18.0";

/// `GET /` answer, bare (no envelope), in Qdrant's shape plus `grove_version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionInfo {
    /// "grove".
    pub title: String,
    /// The Qdrant API version Grove speaks ([`QDRANT_API_VERSION`]).
    pub version: String,
    /// Build commit (Qdrant's field); Grove does not embed one.
    pub commit: Option<String>,
    /// Grove's own version.
    pub grove_version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qdrant_client_bodies_parse() {
        let q: QueryRequest = serde_json::from_str(
            r#"{"query":{"nearest":[0.1,0.2]},"filter":{"must":[{"key":"cat","match":{"value":"a"}}]},
                "params":{"hnsw_ef":64,"exact":false},"limit":5,"with_vector":false,"with_payload":true}"#,
        )
        .expect("query parses");
        assert_eq!(q.query.map(QueryInput::into_vector), Some(vec![0.1, 0.2]));
        let u: UpsertPoints = serde_json::from_str(
            r#"{"batch":{"ids":[1,2],"vectors":[[1.0],[2.0]],"payloads":[{"a":1},null]}}"#,
        )
        .expect("batch parses");
        let pts = u.into_points().expect("consistent");
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[1].payload, None);
        let s: PointsSelector =
            serde_json::from_str(r#"{"points":[1,"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]}"#)
                .expect("selector parses");
        assert_eq!(s.points.map(|p| p.len()), Some(2));
        let i: CreateFieldIndex =
            serde_json::from_str(r#"{"field_name":"x","field_schema":{"type":"integer"}}"#)
                .expect("index parses");
        assert_eq!(i.field_schema.kind(), PayloadSchemaType::Integer);
        let i: CreateFieldIndex =
            serde_json::from_str(r#"{"field_name":"x","field_schema":"bool"}"#).expect("index parses");
        assert_eq!(i.field_schema, FieldSchema::Type(PayloadSchemaType::Bool));
    }

    #[test]
    fn unsupported_field_schema_lists_the_valid_types() {
        for body in
            [r#"{"field_name":"x","field_schema":"geo"}"#, r#"{"field_name":"x","field_schema":"nope"}"#]
        {
            let err = serde_json::from_str::<CreateFieldIndex>(body).expect_err("unsupported").to_string();
            assert!(err.contains("keyword, integer, float, bool, datetime, text, uuid"), "{err}");
        }
        let t: CreateFieldIndex = serde_json::from_str(
            r#"{"field_name":"x","field_schema":{"type":"text","tokenizer":"prefix","lowercase":false,"stopwords":"english"}}"#,
        )
        .expect("a text index parses");
        assert_eq!(t.field_schema.kind(), PayloadSchemaType::Text);
        assert_eq!(t.field_schema.text().and_then(|p| p.tokenizer.as_deref()), Some("prefix"));
        let bad = serde_json::from_str::<CreateFieldIndex>(
            r#"{"field_name":"x","field_schema":{"type":"text","tokeniser":"word"}}"#,
        )
        .expect_err("a typo");
        assert!(bad.to_string().contains("tokeniser"), "{bad}");
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_name() {
        let err = serde_json::from_str::<QueryRequest>(r#"{"query":[1.0],"limt":3}"#).expect_err("typo");
        assert!(err.to_string().contains("limt"), "{err}");
        let err = serde_json::from_str::<PointStruct>(r#"{"id":-1,"vector":[1.0]}"#).expect_err("negative");
        assert!(err.to_string().contains("negative"), "{err}");
    }

    #[test]
    fn with_payload_selectors() {
        let p: Payload = serde_json::from_str(r#"{"a":1,"b":2}"#).expect("json");
        let only_a = WithPayload::Fields(vec!["a".into()]).apply(p.clone()).expect("some");
        assert_eq!(only_a.len(), 1);
        let not_a =
            WithPayload::Selector(PayloadSelector::Exclude(vec!["a".into()])).apply(p.clone()).expect("some");
        assert!(not_a.contains_key("b") && !not_a.contains_key("a"));
        assert_eq!(WithPayload::Enable(false).apply(p), None);
    }
}
