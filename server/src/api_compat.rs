//! Wire types of the Qdrant operations built over the core ones (see `service::points_compat`
//! and `rest::compat`): batches of updates, recommend / discover / groups / distance matrix,
//! facets, aliases, cluster and telemetry answers. Kept apart from [`crate::api`] so the core
//! request types can change (named vectors, create bodies) without touching these.
//!
//! Requests are `deny_unknown_fields` like the core ones, except where a field is Qdrant's and
//! has no meaning on one node (`shard_key`, `timeout`, `consistency`): those are accepted and
//! ignored, and documented as such on the field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{
    DeletePayload, PointId, PointsSelector, ScoredPoint, SearchParams, SearchRequest, SetPayload,
    UpsertPoints, WithPayload,
};

/// `POST /collections/{name}/points/batch`: operations applied in order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOperations {
    /// The operations; each answers with its own result, in order.
    pub operations: Vec<UpdateOperation>,
}

/// One operation of a batch, tagged by its kind as in Qdrant (`{"upsert": {...}}`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateOperation {
    /// Insert or replace points (`points` or `batch`).
    Upsert(UpsertPoints),
    /// Delete points by ids or filter.
    Delete(PointsSelector),
    /// Merge payload keys.
    SetPayload(SetPayload),
    /// Replace the whole payload.
    OverwritePayload(SetPayload),
    /// Remove payload keys.
    DeletePayload(DeletePayload),
    /// Remove the whole payload.
    ClearPayload(PointsSelector),
}

/// `POST /collections/{name}/points/search/batch`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBatch {
    /// The searches, answered in order.
    pub searches: Vec<SearchRequest>,
}

/// A recommend or discover example: a stored point's id or a raw vector.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Example {
    /// The vector of this stored point (the point itself is left out of the results).
    Id(PointId),
    /// This vector.
    Vector(Vec<f32>),
}

/// How positive and negative examples make one score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecommendStrategy {
    /// One query vector `avg(pos) + (avg(pos) - avg(neg))` (just `avg(pos)` without negatives),
    /// searched as usual.
    #[default]
    AverageVector,
    /// Each candidate scored against every example: its best positive similarity when that
    /// beats its best negative one, else minus the square of the best negative similarity.
    BestScore,
    /// Each candidate scored as the sum of its positive similarities minus the sum of its
    /// negative ones.
    SumScores,
}

/// `POST /collections/{name}/points/recommend`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendRequest {
    /// Examples to be close to.
    #[serde(default)]
    pub positive: Vec<Example>,
    /// Examples to be far from.
    #[serde(default)]
    pub negative: Vec<Example>,
    /// Default `average_vector`.
    #[serde(default)]
    pub strategy: Option<RecommendStrategy>,
    /// Only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Search parameters (`hnsw_ef`, `exact`).
    #[serde(default)]
    pub params: Option<SearchParams>,
    /// Number of hits (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Hits to skip.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Default: no payload.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false.
    #[serde(default)]
    pub with_vector: Option<bool>,
    /// Drop hits scoring worse than this.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Vector name: Grove collections have one unnamed vector, so only absent or `""`.
    #[serde(default)]
    pub using: Option<String>,
    /// Take example ids from another collection (with the same dimension).
    #[serde(default)]
    pub lookup_from: Option<LookupLocation>,
    /// Accepted and ignored: one node, one shard.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
}

/// Where example ids are looked up.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupLocation {
    /// The collection holding the example points.
    pub collection: String,
    /// Vector name (recommend / discover: only absent or `""`; the Query API: any, default
    /// the query's `using`).
    #[serde(default)]
    pub vector: Option<String>,
}

/// `POST /collections/{name}/points/recommend/batch`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendBatch {
    /// The requests, answered in order.
    pub searches: Vec<RecommendRequest>,
}

/// A positive/negative pair of a discovery context.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextPair {
    /// The side to be on.
    pub positive: Example,
    /// The side to avoid.
    pub negative: Example,
}

/// `POST /collections/{name}/points/discover`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoverRequest {
    /// The point to be close to; without it only the context counts.
    #[serde(default)]
    pub target: Option<Example>,
    /// Pairs splitting the space into zones to prefer.
    #[serde(default)]
    pub context: Vec<ContextPair>,
    /// Only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Search parameters (accepted; discovery scores every candidate exactly).
    #[serde(default)]
    pub params: Option<SearchParams>,
    /// Number of hits (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Hits to skip.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Default: no payload.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false.
    #[serde(default)]
    pub with_vector: Option<bool>,
    /// Vector name (only absent or `""`).
    #[serde(default)]
    pub using: Option<String>,
    /// Take example ids from another collection.
    #[serde(default)]
    pub lookup_from: Option<LookupLocation>,
    /// Accepted and ignored: one node, one shard.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
}

/// `POST /collections/{name}/points/discover/batch`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoverBatch {
    /// The requests, answered in order.
    pub searches: Vec<DiscoverRequest>,
}

/// `POST /collections/{name}/points/search/groups`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchGroupsRequest {
    /// The query vector.
    pub vector: Vec<f32>,
    /// Only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Search parameters.
    #[serde(default)]
    pub params: Option<SearchParams>,
    /// Default: no payload.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false.
    #[serde(default)]
    pub with_vector: Option<bool>,
    /// Drop hits scoring worse than this.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Payload field whose value (a string or integer, or an array of them) names the group.
    pub group_by: String,
    /// Hits per group (at most).
    pub group_size: usize,
    /// Number of groups.
    pub limit: usize,
    /// Accepted only when absent: Grove does not join groups with another collection.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub with_lookup: Option<serde_json::Value>,
    /// Accepted and ignored: one node, one shard.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
}

/// `POST /collections/{name}/points/recommend/groups`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendGroupsRequest {
    /// Examples to be close to.
    #[serde(default)]
    pub positive: Vec<Example>,
    /// Examples to be far from.
    #[serde(default)]
    pub negative: Vec<Example>,
    /// Default `average_vector`.
    #[serde(default)]
    pub strategy: Option<RecommendStrategy>,
    /// Only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Search parameters.
    #[serde(default)]
    pub params: Option<SearchParams>,
    /// Default: no payload.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false.
    #[serde(default)]
    pub with_vector: Option<bool>,
    /// Drop hits scoring worse than this.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Vector name (only absent or `""`).
    #[serde(default)]
    pub using: Option<String>,
    /// Take example ids from another collection.
    #[serde(default)]
    pub lookup_from: Option<LookupLocation>,
    /// Payload field naming the group.
    pub group_by: String,
    /// Hits per group (at most).
    pub group_size: usize,
    /// Number of groups.
    pub limit: usize,
    /// Accepted only when absent.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub with_lookup: Option<serde_json::Value>,
    /// Accepted and ignored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
}

/// A group id: the payload value the hits share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(untagged)]
pub enum GroupId {
    /// A string value.
    Str(String),
    /// An integer value.
    Int(i64),
}

/// One group of hits.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointGroup {
    /// Best first.
    pub hits: Vec<ScoredPoint>,
    /// The shared value.
    pub id: GroupId,
    /// The point of the `with_lookup` collection whose id is the group's (query groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookup: Option<crate::api::Record>,
}

/// Groups, best group (by its best hit) first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupsResult {
    /// The groups.
    pub groups: Vec<PointGroup>,
}

/// `POST /collections/{name}/facet`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacetRequest {
    /// Payload key whose values are counted.
    pub key: String,
    /// Most values returned (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Count only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Accepted: Grove's counts are always exact.
    #[serde(default)]
    pub exact: Option<bool>,
    /// Accepted and ignored: one node, one shard.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
}

/// One value and the number of points holding it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FacetValueHit {
    /// A string, integer or boolean.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// Points whose field holds the value (a point counts once per distinct value).
    pub count: u64,
}

/// The counted values, most frequent first (ties by value).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FacetResponse {
    /// The values.
    pub hits: Vec<FacetValueHit>,
}

/// `POST /collections/{name}/points/search/matrix/{pairs,offsets}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchMatrixRequest {
    /// Sample only points matching this filter.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Points sampled (default 10, at least 2).
    #[serde(default)]
    pub sample: Option<usize>,
    /// Nearest neighbours per sampled point, among the sample (default 3).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Vector name (only absent or `""`).
    #[serde(default)]
    pub using: Option<String>,
    /// Accepted and ignored: one node, one shard.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
}

/// A point and one of its neighbours.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SearchMatrixPair {
    /// The sampled point.
    pub a: PointId,
    /// Its neighbour.
    pub b: PointId,
    /// Their score.
    pub score: f32,
}

/// The sparse distance matrix as pairs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SearchMatrixPairsResponse {
    /// Pairs, per sampled point best first.
    pub pairs: Vec<SearchMatrixPair>,
}

/// The sparse distance matrix in coordinate form over `ids`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SearchMatrixOffsetsResponse {
    /// Row of each score (index into `ids`).
    pub offsets_row: Vec<u64>,
    /// Column of each score (index into `ids`).
    pub offsets_col: Vec<u64>,
    /// The scores.
    pub scores: Vec<f32>,
    /// The sampled ids.
    pub ids: Vec<PointId>,
}

/// `POST /collections/aliases`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeAliasesOperation {
    /// Applied in order, all or none.
    pub actions: Vec<AliasOperation>,
}

/// One alias action, tagged as in Qdrant.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AliasOperation {
    /// `{"create_alias": {"collection_name", "alias_name"}}`.
    CreateAlias(CreateAlias),
    /// `{"delete_alias": {"alias_name"}}`.
    DeleteAlias(DeleteAlias),
    /// `{"rename_alias": {"old_alias_name", "new_alias_name"}}`.
    RenameAlias(RenameAlias),
}

/// Points an alias at a collection.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAlias {
    /// The collection.
    pub collection_name: String,
    /// The alias.
    pub alias_name: String,
}

/// Removes an alias.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAlias {
    /// The alias.
    pub alias_name: String,
}

/// Renames an alias.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameAlias {
    /// Current name.
    pub old_alias_name: String,
    /// New name.
    pub new_alias_name: String,
}

/// An alias and the collection it names.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AliasDescription {
    /// The alias.
    pub alias_name: String,
    /// The collection.
    pub collection_name: String,
}

/// `GET /aliases`, `GET /collections/{name}/aliases`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CollectionsAliasesResponse {
    /// Sorted by alias.
    pub aliases: Vec<AliasDescription>,
}

/// `GET /cluster`: Grove runs standalone, which Qdrant reports as `{"status": "disabled"}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClusterStatus {
    /// Always `disabled`.
    pub status: String,
}

/// `GET /collections/{name}/cluster`: one local shard holding every point.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CollectionClusterInfo {
    /// This node's id (0: there are no peers).
    pub peer_id: u64,
    /// Always 1.
    pub shard_count: u64,
    /// The one shard.
    pub local_shards: Vec<LocalShardInfo>,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub remote_shards: Vec<serde_json::Value>,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub shard_transfers: Vec<serde_json::Value>,
}

/// A shard on this node.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LocalShardInfo {
    /// Always 0.
    pub shard_id: u32,
    /// Live points.
    pub points_count: u64,
    /// Always `Active`.
    pub state: String,
}

/// `GET /issues`: Grove records no performance issues, so the list is empty.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IssuesReport {
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub issues: Vec<serde_json::Value>,
}

/// `GET /telemetry`: the parts of Qdrant's report Grove has figures for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TelemetryData {
    /// This process's id (random per start).
    pub id: String,
    /// Name, version, start time.
    pub app: AppTelemetry,
    /// Collection count.
    pub collections: CollectionsTelemetry,
    /// Request counts and latencies per operation.
    pub requests: RequestsTelemetry,
}

/// Build and start of the server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppTelemetry {
    /// `grove`.
    pub name: String,
    /// Grove's version.
    pub version: String,
    /// Start time, RFC 3339.
    pub startup: String,
}

/// Collections on this node.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollectionsTelemetry {
    /// How many.
    pub number_of_collections: u64,
}

/// Requests by transport.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestsTelemetry {
    /// REST.
    pub rest: WebApiTelemetry,
    /// gRPC.
    pub grpc: GrpcTelemetry,
}

/// REST requests: `"METHOD /path/template"` -> status code -> statistics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebApiTelemetry {
    /// Keyed by operation, then by status code.
    pub responses: BTreeMap<String, BTreeMap<String, OperationDurationStatistics>>,
}

/// gRPC requests: method -> statistics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrpcTelemetry {
    /// Keyed by method (all codes together).
    pub responses: BTreeMap<String, OperationDurationStatistics>,
}

/// How many requests answered, and how fast on average.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OperationDurationStatistics {
    /// Requests.
    pub count: u64,
    /// Mean latency, microseconds (over all of them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_duration_micros: Option<f64>,
}

/// `?details_level=` of `/telemetry` (accepted; the report is the same at every level).
#[derive(Debug, Default, Deserialize)]
pub struct TelemetryParams {
    /// Accepted and ignored.
    #[serde(default)]
    pub details_level: Option<u32>,
    /// Accepted and ignored.
    #[serde(default)]
    pub anonymize: Option<bool>,
}
