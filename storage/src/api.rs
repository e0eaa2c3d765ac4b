//! The types the server exchanges with storage: collection config, points, requests and
//! responses. JSON shapes follow Qdrant's where the operation is the same, so that REST handlers
//! can deserialise request bodies straight into these types.

use std::collections::BTreeMap;
use std::fmt;

use grove_index::matryoshka::{MatryoshkaInfo, MatryoshkaQuery, PrefixDtype};
use grove_index::{Explain, Metric, Strategy};
use serde::{Deserialize, Serialize};

use crate::filter::Filter;

/// A point's user-facing id: an unsigned integer or a UUID. In JSON a number or a UUID string
/// (Qdrant's shape). Integers order before UUIDs; scroll pages follow this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PointId {
    /// An unsigned integer id.
    Num(u64),
    /// A UUID id (any version).
    Uuid(uuid::Uuid),
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointId::Num(n) => write!(f, "{n}"),
            PointId::Uuid(u) => write!(f, "{u}"),
        }
    }
}

impl From<u64> for PointId {
    fn from(n: u64) -> Self {
        PointId::Num(n)
    }
}

impl From<uuid::Uuid> for PointId {
    fn from(u: uuid::Uuid) -> Self {
        PointId::Uuid(u)
    }
}

/// A point's attributes: a JSON object.
pub type Payload = serde_json::Map<String, serde_json::Value>;

/// HNSW graph parameters (Malkov & Yashunin): `m` links per node, `ef_construction` beam width
/// while building.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HnswConfig {
    /// M: neighbours kept per node on the upper layers (2*M on layer 0).
    pub m: usize,
    /// ef_construction: candidate list size while inserting.
    pub ef_construction: usize,
}

impl Default for HnswConfig {
    fn default() -> Self {
        HnswConfig { m: 16, ef_construction: 100 }
    }
}

/// ACORN-gamma parameters (Patel et al., SIGMOD 2024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcornConfig {
    /// gamma: neighbour-list expansion factor (M*gamma candidates per node); 1 means no denser
    /// graph is built and ACORN-1 (2-hop expansion at query time) serves filtered queries.
    pub gamma: usize,
    /// M_beta: neighbours kept uncompressed per node before predicate-agnostic pruning.
    pub m_beta: usize,
}

impl Default for AcornConfig {
    fn default() -> Self {
        AcornConfig { gamma: 1, m_beta: 32 }
    }
}

/// Element type a vector is declared with (Qdrant's `datatype`). The engine keeps every
/// vector as f32 today: `Float16` and `Uint8` are stored declarations without effect (the
/// server reports them so), kept typed so the engine can honour them later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorDatatype {
    /// 32-bit floats (what the engine stores).
    #[default]
    Float32,
    /// 16-bit floats (declared; stored as f32).
    Float16,
    /// Bytes 0..=255 (declared; stored as f32).
    Uint8,
    /// Qdrant's 4-bit TurboQuant storage (declared; stored as f32).
    Turbo4,
}

/// One dense vector of a collection: its own dimension, metric and graph parameters, and its
/// own `CollectionIndex` in memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorConfig {
    /// Dimension: every vector stored under this name has exactly this length.
    pub dimension: usize,
    /// Similarity metric.
    pub metric: Metric,
    /// Graph parameters of this vector's index; `None`: the collection's `hnsw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw: Option<HnswConfig>,
    /// Qdrant's `on_disk` (declared; vectors are held in memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
    /// Declared element type.
    #[serde(default)]
    pub datatype: VectorDatatype,
    /// Quantization declared for this vector, as JSON validated by the server (Qdrant's
    /// `scalar` / `binary` / `product` shapes). Stored for the quantized search the engine is
    /// gaining; the engine does not read it yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<serde_json::Value>,
    /// Further settings accepted for compatibility with no effect (e.g. hnsw
    /// `on_disk`/`payload_m`), kept verbatim so info returns them.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub stored: serde_json::Map<String, serde_json::Value>,
    /// Set: this name is a multi-vector field (late interaction): a point holds a matrix of
    /// rows of `dimension`, scored by MaxSim. Absent in records written before multi-vectors
    /// (those kept Qdrant's `multivector_config` in `stored`, without effect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector: Option<MultiVectorConfig>,
}

/// How rows of one multi-vector are compared (Qdrant's `multivector_config.comparator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiVectorComparator {
    /// Sum over query rows of the best similarity to any document row.
    MaxSim,
}

/// A multi-vector field's declaration. The encoding parameters are fixed at creation and
/// persisted, so the engine's saved index of the encodings stays valid whatever later
/// defaults become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiVectorConfig {
    /// The comparator (only MaxSim exists).
    pub comparator: MultiVectorComparator,
    /// The MUVERA encoding the candidate index holds (`grove_index::multivec::fde`).
    pub fde: grove_index::multivec::FdeParams,
}

impl MultiVectorConfig {
    /// MaxSim over rows of `dim`, with Grove's default encoding for that row size.
    pub fn max_sim(dim: usize) -> Self {
        MultiVectorConfig {
            comparator: MultiVectorComparator::MaxSim,
            fde: grove_index::multivec::FdeParams::default_for(dim),
        }
    }
}

impl VectorConfig {
    /// A vector of `dimension` and `metric` with defaults for the rest.
    pub fn new(dimension: usize, metric: Metric) -> Self {
        VectorConfig {
            dimension,
            metric,
            hnsw: None,
            on_disk: None,
            datatype: VectorDatatype::Float32,
            quantization: None,
            stored: serde_json::Map::new(),
            multivector: None,
        }
    }

    /// A multi-vector field of rows of `dimension` compared by MaxSim under `metric`.
    pub fn multi(dimension: usize, metric: Metric) -> Self {
        VectorConfig {
            multivector: Some(MultiVectorConfig::max_sim(dimension)),
            ..VectorConfig::new(dimension, metric)
        }
    }
}

/// The name of the unnamed vector: a collection declared with one vector and no name holds it
/// under `""`, which is also what Qdrant clients send as the default vector name.
pub const DEFAULT_VECTOR: &str = "";

/// A point's vectors by name (`""` is the unnamed vector). On input a plain vector sent to a
/// multi-vector name is a matrix of one row (as Qdrant reads it).
pub type NamedVectors = BTreeMap<String, Vec<f32>>;

/// A point's multi-vectors by name: each a matrix, one `Vec` per row.
pub type MultiVectors = BTreeMap<String, Vec<Vec<f32>>>;

/// Everything fixed when a collection is created (and what `update_collection` may change).
/// This is also the persisted form (record version 2, see `record.rs`); version-1 records
/// (one unnamed vector as top-level `dimension`/`metric`) are converted on load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    /// Dense vectors by name (`""`: the unnamed vector). At least one.
    pub vectors: BTreeMap<String, VectorConfig>,
    /// Whether the vectors were declared as a map of names (Qdrant's named form, even when
    /// the only name is `""`); false: one unnamed vector. Collection info answers in the same
    /// form, so clients read back what they declared.
    #[serde(default)]
    pub named_form: bool,
    /// HNSW graph parameters (the default of every vector).
    #[serde(default)]
    pub hnsw: HnswConfig,
    /// ACORN parameters.
    #[serde(default)]
    pub acorn: AcornConfig,
    /// Matryoshka prefix dimensions of the unnamed vector (each < its dimension). Stored and
    /// validated; the engine decides whether it serves them.
    #[serde(default)]
    pub matryoshka_dims: Vec<usize>,
    /// How the Matryoshka prefixes are kept (ignored without `matryoshka_dims`).
    #[serde(default)]
    pub matryoshka: MatryoshkaSettings,
    /// Default beam width of graph searches when a query gives none.
    #[serde(default = "default_ef_search")]
    pub ef_search: usize,
    /// When deleted points exceed this fraction of a vector index's points, the background
    /// thread rebuilds that index from the live points.
    #[serde(default = "default_tombstone_ratio")]
    pub tombstone_rebuild_ratio: f64,
    /// Collection-wide quantization (JSON validated by the server; see
    /// [`VectorConfig::quantization`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<serde_json::Value>,
    /// Settings accepted for compatibility that have no effect in Grove (Qdrant's
    /// `wal_config`, `optimizers_config`, `shard_number`, ...), kept verbatim by their
    /// top-level name so collection info returns them. Storage never interprets them.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub stored: serde_json::Map<String, serde_json::Value>,
    /// Sparse vectors by name (never `""`; names distinct from the dense ones). Absent in
    /// records written before sparse vectors existed, hence the default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sparse_vectors: BTreeMap<String, crate::sparse::SparseVectorConfig>,
}

pub(crate) fn default_ef_search() -> usize {
    64
}

pub(crate) fn default_tombstone_ratio() -> f64 {
    0.2
}

impl CollectionConfig {
    /// A config with one unnamed vector of the given dimension and metric and defaults for the
    /// rest.
    pub fn new(dimension: usize, metric: Metric) -> Self {
        let mut vectors = BTreeMap::new();
        vectors.insert(DEFAULT_VECTOR.to_string(), VectorConfig::new(dimension, metric));
        Self::with_vectors(vectors, false)
    }

    /// A config with the given vectors (`named_form`: declared as a map of names).
    pub fn with_vectors(vectors: BTreeMap<String, VectorConfig>, named_form: bool) -> Self {
        CollectionConfig {
            vectors,
            named_form,
            hnsw: HnswConfig::default(),
            acorn: AcornConfig::default(),
            matryoshka_dims: Vec::new(),
            matryoshka: MatryoshkaSettings::default(),
            ef_search: default_ef_search(),
            tombstone_rebuild_ratio: default_tombstone_ratio(),
            quantization: None,
            stored: serde_json::Map::new(),
            sparse_vectors: BTreeMap::new(),
        }
    }

    /// The vector called `name`; an unknown name is an error that lists the names there are.
    pub fn vector(&self, name: &str) -> crate::Result<&VectorConfig> {
        self.vectors.get(name).ok_or_else(|| crate::StorageError::UnknownVector {
            name: name.to_string(),
            known: self.vector_names(),
        })
    }

    /// The declared names, quoted and comma-separated (`""` for the unnamed vector; sparse
    /// ones marked `(sparse)`), or `none` when nothing is declared.
    pub fn vector_names(&self) -> String {
        let names: Vec<String> = self
            .vectors
            .iter()
            .map(|(k, v)| if v.multivector.is_some() { format!("{k:?} (multi)") } else { format!("{k:?}") })
            .chain(self.sparse_vectors.keys().map(|k| format!("{k:?} (sparse)")))
            .collect();
        if names.is_empty() {
            return "none".into();
        }
        names.join(", ")
    }

    /// The multi-vector declaration of vector `name` (`None`: a dense vector or no such name).
    pub fn multivector(&self, name: &str) -> Option<&MultiVectorConfig> {
        self.vectors.get(name).and_then(|v| v.multivector.as_ref())
    }

    /// The graph parameters of vector `name`: its own, else the collection's.
    pub fn hnsw_of(&self, name: &str) -> HnswConfig {
        self.vectors.get(name).and_then(|v| v.hnsw).unwrap_or(self.hnsw)
    }
}

/// How a collection keeps its Matryoshka prefixes. Every field has a default, so configs
/// written before these settings existed still load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatryoshkaSettings {
    /// Re-normalise prefixes to unit length; `None` means yes for cosine, no otherwise.
    pub renormalise: Option<bool>,
    /// Element type of the prefix stores: f32, f16 or i8.
    pub dtype: PrefixDtype,
    /// Build an HNSW graph (the collection's M and ef_construction) over each prefix.
    pub graph: bool,
    /// Rotate prefixes by a PCA fitted on the collection (for models not trained
    /// Matryoshka-style). Fitted by the background thread once `pca_min_points` points exist,
    /// persisted, and reused after a restart.
    pub pca: bool,
    /// Stored vectors the PCA is fitted on (a seeded sample).
    pub pca_sample: usize,
    /// Points the collection needs before the PCA is fitted.
    pub pca_min_points: u64,
}

impl Default for MatryoshkaSettings {
    fn default() -> Self {
        Self {
            renormalise: None,
            dtype: PrefixDtype::F32,
            graph: false,
            pca: false,
            pca_sample: 20_000,
            pca_min_points: 1_000,
        }
    }
}

/// `POST /collections/{c}/matryoshka/calibrate`: measure recall against exact full-dimension
/// search on stored vectors used as queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrateRequest {
    /// Stored points used as queries.
    pub sample: usize,
    /// Seed of the sample.
    pub seed: u64,
    /// Mean recall@10 to reach.
    pub target_recall: f64,
    /// Prefixes to try (empty: all declared).
    pub dims: Vec<usize>,
    /// Oversampling factors to try.
    pub oversamples: Vec<usize>,
    /// Queries and results restricted to points matching this filter.
    pub filter: Option<Filter>,
}

impl Default for CalibrateRequest {
    fn default() -> Self {
        let d = grove_index::matryoshka::CalibrationRequest::default();
        Self {
            sample: d.sample,
            seed: d.seed,
            target_recall: d.target_recall,
            dims: Vec::new(),
            oversamples: d.oversamples,
            filter: None,
        }
    }
}

/// One point to upsert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointStruct {
    /// External id; an existing id is replaced.
    pub id: PointId,
    /// The embedding.
    pub vector: Vec<f32>,
    /// Attributes (absent = empty).
    #[serde(default)]
    pub payload: Option<Payload>,
}

/// A point with any subset of the collection's named vectors (`""`: the unnamed vector).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedPoint {
    /// External id; an existing id is replaced (all its vectors and its payload).
    pub id: PointId,
    /// Dense vectors by name.
    pub vectors: NamedVectors,
    /// Attributes (absent = empty).
    #[serde(default)]
    pub payload: Option<Payload>,
    /// Sparse vectors by name (a point may carry only these).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sparse: crate::sparse::SparseVectors,
    /// Multi-vectors (matrices) by name; names declared with a multi-vector config only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub multi: MultiVectors,
}

impl From<PointStruct> for NamedPoint {
    fn from(p: PointStruct) -> Self {
        let mut vectors = NamedVectors::new();
        vectors.insert(DEFAULT_VECTOR.to_string(), p.vector);
        NamedPoint {
            id: p.id,
            vectors,
            payload: p.payload,
            sparse: Default::default(),
            multi: Default::default(),
        }
    }
}

/// A stored point as returned by get and scroll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// External id.
    pub id: PointId,
    /// Payload when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    /// The unnamed vector when asked for (normalised for cosine collections).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// Every vector of the point by name, when asked for (`""` included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<NamedVectors>,
    /// The point's sparse vectors by name, when asked for and the collection declares any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<crate::sparse::SparseVectors>,
    /// The point's multi-vectors by name (as stored: cosine rows normalised), when asked for
    /// and the collection declares any (`""` when the unnamed vector is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi: Option<MultiVectors>,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPoint {
    /// External id.
    pub id: PointId,
    /// User-facing score (see `grove_index::distance`): similarity for cosine/dot, Euclidean
    /// distance for L2.
    pub score: f32,
    /// Payload when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    /// The unnamed vector when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// Every vector of the point by name, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<NamedVectors>,
    /// The point's sparse vectors by name, when asked for and the collection declares any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<crate::sparse::SparseVectors>,
    /// The point's multi-vectors by name (as stored: cosine rows normalised), when asked for
    /// and the collection declares any (`""` when the unnamed vector is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi: Option<MultiVectors>,
}

/// Which payload to return: all (`true`), none (`false`) or only the listed keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WithPayload {
    /// All or nothing.
    All(bool),
    /// Only what these dotted paths reach (see [`crate::payload_select`]).
    Include(Vec<String>),
    /// All but what these dotted paths reach.
    Exclude {
        /// The paths.
        exclude: Vec<String>,
    },
}

impl WithPayload {
    /// Applies the selector to a payload; `None` means "do not return a payload".
    pub fn apply(&self, payload: Payload) -> Option<Payload> {
        match self {
            WithPayload::All(false) => None,
            WithPayload::All(true) => Some(payload),
            WithPayload::Include(paths) => Some(crate::payload_select::include(&payload, paths)),
            WithPayload::Exclude { exclude } => Some(crate::payload_select::exclude(payload, exclude)),
        }
    }

    /// Whether any payload is needed at all.
    pub fn wants_payload(&self) -> bool {
        !matches!(self, WithPayload::All(false))
    }
}

/// Points an operation applies to: a list of ids or every point a filter matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PointSelector {
    /// `{"points": [..]}`.
    Ids {
        /// The ids (missing ones are ignored).
        points: Vec<PointId>,
    },
    /// `{"filter": {..}}`.
    Filter {
        /// The filter.
        filter: Filter,
    },
}

/// The type of a payload index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadSchemaType {
    /// Strings (or arrays of strings): exact match, any, except.
    Keyword,
    /// Integers (or arrays): match, any, except, range.
    Integer,
    /// Numbers (or arrays): range.
    Float,
    /// Booleans: match.
    Bool,
    /// RFC 3339 strings or epoch seconds (numbers): range.
    Datetime,
    /// Strings as tokens (see [`crate::text_index`]): match text, text_any, phrase.
    Text,
    /// UUID strings, compared in canonical form: match, any, except.
    Uuid,
}

impl PayloadSchemaType {
    /// Lower-case name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadSchemaType::Keyword => "keyword",
            PayloadSchemaType::Integer => "integer",
            PayloadSchemaType::Float => "float",
            PayloadSchemaType::Bool => "bool",
            PayloadSchemaType::Datetime => "datetime",
            PayloadSchemaType::Text => "text",
            PayloadSchemaType::Uuid => "uuid",
        }
    }
}

/// A vector search request (`POST /collections/{c}/points/query`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// The query embedding.
    pub vector: Vec<f32>,
    /// The named vector searched (`None` or `""`: the unnamed vector).
    #[serde(default)]
    pub using: Option<String>,
    /// Only points matching this filter are returned.
    #[serde(default)]
    pub filter: Option<Filter>,
    /// Number of hits (k).
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Hits to skip (pagination): the engine searches for `offset + limit`.
    #[serde(default)]
    pub offset: usize,
    /// Drop hits scoring worse than this (user-facing score).
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Payload selector (default: none).
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Return vectors (default false).
    #[serde(default)]
    pub with_vector: bool,
    /// Graph beam width; collection default when absent.
    #[serde(default)]
    pub ef: Option<usize>,
    /// Force an exact scan (same as `strategy = exact`).
    #[serde(default)]
    pub exact: bool,
    /// Search strategy (default auto: the planner chooses).
    #[serde(default)]
    pub strategy: Strategy,
    /// Return the explain record.
    #[serde(default)]
    pub explain: bool,
    /// Search at a Matryoshka prefix and rescore at full dimension.
    #[serde(default)]
    pub matryoshka: Option<MatryoshkaQuery>,
    /// How quantized codes are used, when the vector has them (Qdrant's
    /// `params.quantization`).
    #[serde(default)]
    pub quantization: Option<QuantizationQuery>,
    /// A sparse query: `using` names a sparse vector and `vector` is empty. Searched exactly
    /// over the sparse inverted index (`ef`, `strategy`, `matryoshka`, `quantization` do not
    /// apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<grove_index::sparse::SparseVector>,
    /// A multi-vector query (rows of the field's dimension): `using` names a multi-vector
    /// field and `vector` is empty. Scored by MaxSim; `exact` / `strategy = exact` score every
    /// allowed point, otherwise the field's FDE index proposes candidates (`ef` and the
    /// strategy pass to it) that are rescored exactly. A plain `vector` sent to a multi-vector
    /// field is a one-row query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi: Option<Vec<Vec<f32>>>,
}

/// Query-time use of quantized codes (Qdrant's `params.quantization`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantizationQuery {
    /// Search the full vectors even where codes exist.
    #[serde(default)]
    pub ignore: bool,
    /// Rescore the candidates found on codes with the full vectors (default true).
    #[serde(default)]
    pub rescore: Option<bool>,
    /// Candidates rescored = `ceil(limit * oversampling)`, 1 to 64; default: the engine's.
    #[serde(default)]
    pub oversampling: Option<f64>,
}

fn default_limit() -> usize {
    10
}

impl QueryRequest {
    /// A query for the `limit` nearest points with defaults for the rest.
    pub fn new(vector: Vec<f32>, limit: usize) -> Self {
        QueryRequest {
            vector,
            using: None,
            filter: None,
            limit,
            offset: 0,
            score_threshold: None,
            with_payload: None,
            with_vector: false,
            ef: None,
            exact: false,
            strategy: Strategy::Auto,
            explain: false,
            matryoshka: None,
            quantization: None,
            sparse: None,
            multi: None,
        }
    }

    /// A multi-vector query of field `using` for the `limit` best points by MaxSim.
    pub fn multi(using: &str, rows: Vec<Vec<f32>>, limit: usize) -> Self {
        QueryRequest {
            using: Some(using.to_string()),
            multi: Some(rows),
            ..QueryRequest::new(Vec::new(), limit)
        }
    }

    /// A sparse query of vector `using` for the `limit` best points.
    pub fn sparse(using: &str, vector: grove_index::sparse::SparseVector, limit: usize) -> Self {
        QueryRequest {
            using: Some(using.to_string()),
            sparse: Some(vector),
            ..QueryRequest::new(Vec::new(), limit)
        }
    }
}

/// How a filter was answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterExplain {
    /// Live points the filter matches (exact).
    pub cardinality: u64,
    /// Fields whose conditions a payload index answered (sorted, deduplicated).
    #[serde(default)]
    pub indexed_fields: Vec<String>,
    /// Fields whose conditions were answered by scanning payloads (no usable index).
    pub unindexed_fields: Vec<String>,
    /// Payloads read by those scans.
    pub payloads_scanned: u64,
    /// Time to compile the filter into a bitmap, microseconds.
    pub micros: u64,
}

/// The answer to a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResponse {
    /// Hits, best first.
    pub points: Vec<ScoredPoint>,
    /// Present when the request asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<QueryExplain>,
}

/// What ran for one query: the engine's record plus how the filter was compiled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryExplain {
    /// The engine's explain.
    pub search: Explain,
    /// The filter's compilation, when there was a filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterExplain>,
    /// The named vector searched (`""`: the unnamed vector).
    #[serde(default)]
    pub using: String,
    /// What the sparse path did, when a sparse vector was searched (`search` then summarises
    /// it: path `exact`, since sparse search is exact, candidates scored as distances).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<crate::sparse::SparseExplain>,
    /// What the multi-vector path did, when a multi-vector field was searched (`search` is
    /// then the FDE index's explain, or the exact MaxSim scan's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivec: Option<grove_index::multivec::MultivecExplain>,
}

/// A scroll request: pages through points in id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrollRequest {
    /// Only matching points.
    #[serde(default)]
    pub filter: Option<Filter>,
    /// Page size.
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Start at this id (inclusive): the previous page's `next_page_offset`.
    #[serde(default)]
    pub offset: Option<PointId>,
    /// Payload selector (default: all).
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Return vectors (default false).
    #[serde(default)]
    pub with_vector: bool,
    /// Order by a payload field's values instead of by id (needs an integer, float or
    /// datetime index on the key; excludes `offset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<ScrollOrder>,
}

/// `order_by` of a scroll: points in the order of an indexed numeric field's values. A point
/// with several values appears once per distinct value; ties keep internal id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrollOrder {
    /// The payload key (an integer, float or datetime index).
    pub key: String,
    /// Largest first.
    #[serde(default)]
    pub desc: bool,
    /// Only values from this one on (inclusive; `>=` ascending, `<=` descending). On a
    /// datetime index a number is microseconds since the epoch (what `order_value` reports)
    /// and a string an RFC 3339 datetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_from: Option<crate::filter::RangeBound>,
}

/// The value a point was ordered by: an integer (integer index; datetime index, as
/// microseconds since the epoch) or a float.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OrderValue {
    /// Integer or datetime (microseconds).
    Int(i64),
    /// Float.
    Float(f64),
}

/// A page of points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScrollResponse {
    /// Points in id order (or in `order_by` order).
    pub points: Vec<Record>,
    /// The id to pass as `offset` for the next page; `None` at the end (always with
    /// `order_by`: page on with `start_from` and a `has_id` exclusion).
    pub next_page_offset: Option<PointId>,
    /// With `order_by`: each point's value, parallel to `points`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_values: Option<Vec<OrderValue>>,
}

/// How an upsert treats points that exist and points that do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMode {
    /// Insert new points, replace existing ones.
    #[default]
    Upsert,
    /// Only insert points whose id is new; existing points are left as they are.
    InsertOnly,
    /// Only replace existing points; new ids are skipped.
    UpdateOnly,
}

/// A count request. Counts are always exact (a bitmap's length).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRequest {
    /// Only matching points.
    #[serde(default)]
    pub filter: Option<Filter>,
    /// Accepted for Qdrant compatibility; counts are exact either way.
    #[serde(default = "default_true")]
    pub exact: bool,
}

fn default_true() -> bool {
    true
}

/// One payload index as reported in collection info.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayloadIndexInfo {
    /// The index type.
    pub data_type: PayloadSchemaType,
    /// A text index's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<crate::text_index::TextIndexParams>,
    /// Live points with at least one value in the index.
    pub points: u64,
}

/// State of the in-memory vector index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexingInfo {
    /// Points in the graph.
    pub indexed_points: u64,
    /// Points not yet in the graph (searched exactly until the background thread reaches them).
    pub pending_points: u64,
    /// Deleted ids that still hold a row or a graph node (a rebuild reclaims them).
    pub tombstones: u64,
    /// Background rebuilds since open (triggered by `tombstone_rebuild_ratio`).
    pub rebuilds: u64,
    /// Bytes of the full vectors in RAM (the arena, tombstoned and reusable rows included).
    #[serde(default)]
    pub vector_bytes: u64,
    /// Bytes of the graphs (HNSW, and ACORN-gamma when built).
    #[serde(default)]
    pub graph_bytes: u64,
    /// Bytes of the quantized codes (0 without quantization or before training).
    #[serde(default)]
    pub code_bytes: u64,
    /// Bytes per point of one full vector as stored (dimension x 4).
    #[serde(default)]
    pub vector_bytes_per_point: u64,
    /// Bytes per point of one code row (0 without codes).
    #[serde(default)]
    pub code_bytes_per_point: u64,
}

/// Collection status: green when the graph covers every point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectionStatus {
    /// Every live point is in the graph.
    Green,
    /// Background indexing is catching up (searches stay exact for the unindexed tail).
    Yellow,
}

/// `GET /collections/{c}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionInfo {
    /// Name.
    pub name: String,
    /// Green or yellow.
    pub status: CollectionStatus,
    /// The creation config.
    pub config: CollectionConfig,
    /// Live points.
    pub points_count: u64,
    /// Vector index state.
    pub indexing: IndexingInfo,
    /// Payload indexes by field.
    pub payload_schema: BTreeMap<String, PayloadIndexInfo>,
    /// Index state per named vector (`""`: the unnamed vector); `indexing` sums them.
    #[serde(default)]
    pub vectors: BTreeMap<String, IndexingInfo>,
    /// Matryoshka prefixes (bytes per vector, variance kept under PCA), when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matryoshka: Option<MatryoshkaInfo>,
    /// Per sparse vector: live points holding it and the index's approximate memory.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sparse_vectors: BTreeMap<String, SparseIndexInfo>,
}

/// One sparse vector's index in collection info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SparseIndexInfo {
    /// Live points holding this sparse vector.
    pub points: u64,
    /// Approximate bytes of its in-memory inverted index (postings and vectors).
    pub memory_bytes: u64,
}

/// Outcome of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateStatus {
    /// Durable (WAL synced) and visible to reads.
    Completed,
}

/// Result of a write: the collection's operation sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateResult {
    /// Monotonic per collection; survives restarts.
    pub operation_id: u64,
    /// Always `completed`: storage acknowledges only durable writes.
    pub status: UpdateStatus,
}

/// A snapshot's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotDescription {
    /// File-system name (unique per collection).
    pub name: String,
    /// The collection it was taken for.
    pub collection: String,
    /// RFC 3339 creation time (UTC).
    pub creation_time: String,
    /// Size of the archive file, bytes.
    pub size: u64,
}

/// What a snapshot recovery did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverOutcome {
    /// Live points of the recovered collection.
    pub points: u64,
    /// Whether an existing collection was replaced (false: created).
    pub replaced: bool,
    /// The collection the snapshot was taken from.
    pub source_collection: String,
}
