//! [`GroveClient`]: async calls over the generated grove.v1 clients.

use std::time::Duration;

use grove_proto::v1 as pb;
use pb::collections_client::CollectionsClient;
use pb::health_client::HealthClient;
use pb::points_client::PointsClient;
use pb::snapshots_client::SnapshotsClient;
use serde_json::{Map, Value as Json};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

use crate::convert::{filter_from_json, payload_from_pb, payload_to_pb, PointId};
use crate::error::{ClientError, Result};

/// Large enough for a batch of a few thousand 1024-d vectors; the server enforces its own limit.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Adds the `api-key` metadata to every call when a key is configured.
#[derive(Debug, Clone, Default)]
pub struct ApiKey(Option<MetadataValue<Ascii>>);

impl Interceptor for ApiKey {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(key) = &self.0 {
            req.metadata_mut().insert("api-key", key.clone());
        }
        Ok(req)
    }
}

type Svc = InterceptedService<Channel, ApiKey>;

/// How to reach a server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// gRPC endpoint, e.g. `http://127.0.0.1:6334`.
    pub endpoint: String,
    /// Sent as `api-key` metadata.
    pub api_key: Option<String>,
    /// Per-call deadline.
    pub timeout: Duration,
    /// Deadline for establishing the connection.
    pub connect_timeout: Duration,
}

impl ClientConfig {
    /// Defaults: no API key, 60 s per call, 10 s to connect.
    pub fn new(endpoint: impl Into<String>) -> Self {
        ClientConfig {
            endpoint: endpoint.into(),
            api_key: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the per-call deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// A point to upsert.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Id (integer or UUID).
    pub id: PointId,
    /// The vector; its length must equal the collection's dimension.
    pub vector: Vec<f32>,
    /// JSON object of attributes.
    pub payload: Map<String, Json>,
}

impl Point {
    /// A point without payload.
    pub fn new(id: impl Into<PointId>, vector: Vec<f32>) -> Self {
        Point { id: id.into(), vector, payload: Map::new() }
    }

    /// Sets the payload from a JSON object (`json!({...})`); other JSON values are ignored.
    pub fn with_payload(mut self, payload: Json) -> Self {
        if let Json::Object(m) = payload {
            self.payload = m;
        }
        self
    }

    fn to_pb(&self) -> pb::PointStruct {
        pb::PointStruct {
            id: Some((&self.id).into()),
            vector: Some(pb::Vector { data: self.vector.clone() }),
            payload: payload_to_pb(&self.payload),
            ..Default::default()
        }
    }
}

/// A stored point (get, scroll).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Id.
    pub id: PointId,
    /// Payload (empty when not requested).
    pub payload: Map<String, Json>,
    /// Vector, when requested.
    pub vector: Option<Vec<f32>>,
}

/// One query hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Id.
    pub id: PointId,
    /// Cosine/dot: similarity, higher is better. Euclid: distance, lower is better.
    pub score: f32,
    /// Payload (empty when not requested).
    pub payload: Map<String, Json>,
    /// Vector, when requested.
    pub vector: Option<Vec<f32>>,
}

/// The hits of one query, best first, and the planner's record when asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// Hits, best first.
    pub hits: Vec<Hit>,
    /// What the search did and why (when [`Query::explain`] was set).
    pub explain: Option<pb::Explain>,
}

impl QueryResult {
    fn from_pb(hits: Vec<pb::ScoredPoint>, explain: Option<pb::Explain>) -> Self {
        let hits = hits
            .into_iter()
            .map(|h| Hit {
                id: h.id.as_ref().map(PointId::from).unwrap_or(PointId::Num(0)),
                score: h.score,
                payload: payload_from_pb(&h.payload),
                vector: h.vector.map(|v| v.data).filter(|v| !v.is_empty()),
            })
            .collect();
        QueryResult { hits, explain }
    }

    /// The hit ids, best first.
    pub fn ids(&self) -> Vec<PointId> {
        self.hits.iter().map(|h| h.id.clone()).collect()
    }
}

/// A query: builder over `grove.v1.QueryRequest`.
#[derive(Debug, Clone)]
pub struct Query {
    req: pb::QueryRequest,
}

impl Query {
    /// The 10 nearest points to `vector`, with payloads.
    pub fn new(collection: impl Into<String>, vector: Vec<f32>) -> Self {
        Query {
            req: pb::QueryRequest {
                collection_name: collection.into(),
                query: Some(pb::Vector { data: vector }),
                limit: 10,
                with_payload: Some(pb::WithPayloadSelector {
                    kind: Some(pb::with_payload_selector::Kind::Enable(true)),
                }),
                ..Default::default()
            },
        }
    }

    /// The 10 best points by dot product with a sparse query over the sparse vector `using`
    /// (indices and values of equal length, each index once), with payloads.
    pub fn sparse(collection: impl Into<String>, using: &str, indices: Vec<u32>, values: Vec<f32>) -> Self {
        let mut q = Query::new(collection, Vec::new());
        q.req.query = None;
        q.req.using = using.to_owned();
        q.req.sparse_query = Some(pb::SparseVector { indices, values });
        q
    }

    /// k: hits to return.
    pub fn limit(mut self, k: u64) -> Self {
        self.req.limit = k;
        self
    }

    /// Hits to skip first.
    pub fn offset(mut self, n: u64) -> Self {
        self.req.offset = n;
        self
    }

    /// Only points matching this filter.
    pub fn filter(mut self, f: pb::Filter) -> Self {
        self.req.filter = Some(f);
        self
    }

    /// Only points matching this Qdrant-shaped filter JSON.
    pub fn filter_json(self, f: &Json) -> Result<Self> {
        Ok(self.filter(filter_from_json(f)?))
    }

    /// ef: graph search beam width (larger: slower, better recall).
    pub fn ef(mut self, ef: u64) -> Self {
        self.params().hnsw_ef = Some(ef);
        self
    }

    /// Force a path (default: the planner chooses).
    pub fn strategy(mut self, s: pb::Strategy) -> Self {
        self.params().strategy = s as i32;
        self
    }

    /// Exact scan (ground truth).
    pub fn exact(mut self, exact: bool) -> Self {
        self.params().exact = exact;
        self
    }

    /// Return the planner's decision and the work done.
    pub fn explain(mut self, on: bool) -> Self {
        self.req.explain = on;
        self
    }

    /// Return payloads (default true).
    pub fn with_payload(mut self, on: bool) -> Self {
        self.req.with_payload =
            Some(pb::WithPayloadSelector { kind: Some(pb::with_payload_selector::Kind::Enable(on)) });
        self
    }

    /// Return vectors (default false).
    pub fn with_vector(mut self, on: bool) -> Self {
        self.req.with_vector = on;
        self
    }

    /// Drop hits worse than this score.
    pub fn score_threshold(mut self, t: f32) -> Self {
        self.req.score_threshold = Some(t);
        self
    }

    fn params(&mut self) -> &mut pb::SearchParams {
        self.req.params.get_or_insert_with(Default::default)
    }

    /// The request message.
    pub fn into_request(self) -> pb::QueryRequest {
        self.req
    }
}

/// Async client for one Grove server over gRPC. Cheap to clone (one shared HTTP/2 channel).
///
/// ```no_run
/// # async fn demo() -> grove_client::Result<()> {
/// use grove_client::{pb, GroveClient, Point, Query};
/// use serde_json::json;
/// let client = GroveClient::connect("http://127.0.0.1:6334").await?;
/// client.create_collection("papers", 3, pb::Distance::Cosine, None).await?;
/// client.upsert("papers", &[Point::new(1, vec![1.0, 0.0, 0.0]).with_payload(json!({"year": 2020}))], true).await?;
/// let hits = client
///     .query(Query::new("papers", vec![1.0, 0.1, 0.0]).limit(5)
///         .filter_json(&json!({"must": [{"key": "year", "range": {"gte": 2019}}]}))?)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GroveClient {
    collections: CollectionsClient<Svc>,
    points: PointsClient<Svc>,
    snapshots: SnapshotsClient<Svc>,
    health: HealthClient<Svc>,
}

impl GroveClient {
    /// Connects without an API key and with default timeouts.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        Self::connect_with(ClientConfig::new(endpoint)).await
    }

    /// Connects with explicit settings.
    pub async fn connect_with(config: ClientConfig) -> Result<Self> {
        let connect_err = |source| ClientError::Connect { endpoint: config.endpoint.clone(), source };
        let channel = Endpoint::from_shared(config.endpoint.clone())
            .map_err(connect_err)?
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .connect()
            .await
            .map_err(connect_err)?;
        let key = match &config.api_key {
            Some(k) => Some(k.parse::<MetadataValue<Ascii>>().map_err(|_| ClientError::InvalidApiKey)?),
            None => None,
        };
        let svc = InterceptedService::new(channel, ApiKey(key));
        Ok(GroveClient {
            collections: CollectionsClient::new(svc.clone())
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
            points: PointsClient::new(svc.clone())
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
            snapshots: SnapshotsClient::new(svc.clone()),
            health: HealthClient::new(svc),
        })
    }

    /// Server version and readiness.
    pub async fn health(&self) -> Result<pb::HealthCheckResponse> {
        Ok(self.health.clone().check(pb::HealthCheckRequest {}).await?.into_inner())
    }

    // -- collections ------------------------------------------------------------------------

    /// Creates a collection of `dim`-dimensional vectors; `hnsw` None takes the server defaults.
    pub async fn create_collection(
        &self,
        name: &str,
        dim: u64,
        distance: pb::Distance,
        hnsw: Option<pb::HnswConfig>,
    ) -> Result<bool> {
        let req = pb::CreateCollectionRequest {
            collection_name: name.to_owned(),
            vectors: Some(pb::VectorParams { size: dim, distance: distance as i32, ..Default::default() }),
            hnsw_config: hnsw,
            matryoshka: None,
            ..Default::default()
        };
        Ok(self.collections.clone().create(req).await?.into_inner().result)
    }

    /// Configuration, counts and payload indexes of a collection.
    pub async fn get_collection(&self, name: &str) -> Result<pb::CollectionInfo> {
        let req = pb::GetCollectionRequest { collection_name: name.to_owned() };
        self.collections
            .clone()
            .get(req)
            .await?
            .into_inner()
            .info
            .ok_or_else(|| ClientError::Invalid(format!("server sent no info for {name}")))
    }

    /// Names of all collections.
    pub async fn list_collections(&self) -> Result<Vec<String>> {
        Ok(self.collections.clone().list(pb::ListCollectionsRequest {}).await?.into_inner().collection_names)
    }

    /// Deletes a collection; false when it did not exist.
    pub async fn delete_collection(&self, name: &str) -> Result<bool> {
        let req = pb::DeleteCollectionRequest { collection_name: name.to_owned() };
        match self.collections.clone().delete(req).await {
            Ok(r) => Ok(r.into_inner().result),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(false),
            Err(s) => Err(s.into()),
        }
    }

    /// Indexes a payload field (dotted path for nested objects).
    pub async fn create_field_index(
        &self,
        collection: &str,
        field: &str,
        schema: pb::PayloadSchemaType,
    ) -> Result<bool> {
        let req = pb::CreateFieldIndexRequest {
            collection_name: collection.to_owned(),
            field_name: field.to_owned(),
            field_schema: schema as i32,
        };
        Ok(self.collections.clone().create_field_index(req).await?.into_inner().result)
    }

    /// Drops a payload field index.
    pub async fn delete_field_index(&self, collection: &str, field: &str) -> Result<bool> {
        let req = pb::DeleteFieldIndexRequest {
            collection_name: collection.to_owned(),
            field_name: field.to_owned(),
        };
        Ok(self.collections.clone().delete_field_index(req).await?.into_inner().result)
    }

    // -- points -----------------------------------------------------------------------------

    /// Inserts or replaces points in one request; `wait`: return once searchable.
    pub async fn upsert(&self, collection: &str, points: &[Point], wait: bool) -> Result<pb::UpdateResult> {
        let req = pb::UpsertPointsRequest {
            collection_name: collection.to_owned(),
            points: points.iter().map(Point::to_pb).collect(),
            wait,
        };
        update(self.points.clone().upsert(req).await?.into_inner())
    }

    /// Upserts in requests of at most `batch_size` points; returns the number written.
    pub async fn upsert_batched(
        &self,
        collection: &str,
        points: &[Point],
        batch_size: usize,
    ) -> Result<usize> {
        for chunk in points.chunks(batch_size.max(1)) {
            self.upsert(collection, chunk, true).await?;
        }
        Ok(points.len())
    }

    /// Points by id (missing ids are skipped).
    pub async fn get(&self, collection: &str, ids: &[PointId], with_vector: bool) -> Result<Vec<Record>> {
        let req = pb::GetPointsRequest {
            collection_name: collection.to_owned(),
            ids: ids.iter().map(Into::into).collect(),
            with_payload: None,
            with_vector,
        };
        Ok(self.points.clone().get(req).await?.into_inner().result.into_iter().map(record).collect())
    }

    /// Deletes points by id.
    pub async fn delete(&self, collection: &str, ids: &[PointId]) -> Result<pb::UpdateResult> {
        let sel =
            pb::points_selector::Kind::Points(pb::PointIdList { ids: ids.iter().map(Into::into).collect() });
        self.delete_selected(collection, sel).await
    }

    /// Deletes every point matching a filter.
    pub async fn delete_by_filter(&self, collection: &str, filter: pb::Filter) -> Result<pb::UpdateResult> {
        self.delete_selected(collection, pb::points_selector::Kind::Filter(filter)).await
    }

    async fn delete_selected(
        &self,
        collection: &str,
        kind: pb::points_selector::Kind,
    ) -> Result<pb::UpdateResult> {
        let req = pb::DeletePointsRequest {
            collection_name: collection.to_owned(),
            points: Some(pb::PointsSelector { kind: Some(kind) }),
            wait: true,
        };
        update(self.points.clone().delete(req).await?.into_inner())
    }

    /// Runs one query.
    pub async fn query(&self, query: Query) -> Result<QueryResult> {
        let r = self.points.clone().query(query.into_request()).await?.into_inner();
        Ok(QueryResult::from_pb(r.result, r.explain))
    }

    /// Runs many queries on one collection; answers come back in request order.
    pub async fn query_batch(&self, collection: &str, queries: Vec<Query>) -> Result<Vec<QueryResult>> {
        let n = queries.len();
        let req = pb::QueryBatchRequest {
            collection_name: collection.to_owned(),
            queries: queries.into_iter().map(Query::into_request).collect(),
        };
        let mut stream = self.points.clone().query_batch(req).await?.into_inner();
        let mut out: Vec<Option<QueryResult>> = vec![None; n];
        while let Some(item) = stream.message().await? {
            let slot = out
                .get_mut(item.index as usize)
                .ok_or_else(|| ClientError::Invalid(format!("answer for query {} of {n}", item.index)))?;
            *slot = Some(QueryResult::from_pb(item.result, item.explain));
        }
        out.into_iter()
            .enumerate()
            .map(|(i, r)| r.ok_or_else(|| ClientError::Invalid(format!("no answer for query {i}"))))
            .collect()
    }

    /// One page of points in id order from `offset` (inclusive); also the next page's offset.
    pub async fn scroll(
        &self,
        collection: &str,
        filter: Option<pb::Filter>,
        offset: Option<PointId>,
        limit: u32,
    ) -> Result<(Vec<Record>, Option<PointId>)> {
        let req = pb::ScrollRequest {
            collection_name: collection.to_owned(),
            filter,
            offset: offset.as_ref().map(Into::into),
            limit,
            with_payload: None,
            with_vector: false,
        };
        let r = self.points.clone().scroll(req).await?.into_inner();
        Ok((r.result.into_iter().map(record).collect(), r.next_page_offset.as_ref().map(PointId::from)))
    }

    /// Exact number of points matching `filter` (all when None).
    pub async fn count(&self, collection: &str, filter: Option<pb::Filter>) -> Result<u64> {
        let req = pb::CountRequest { collection_name: collection.to_owned(), filter, exact: true };
        Ok(self.points.clone().count(req).await?.into_inner().count)
    }

    // -- snapshots --------------------------------------------------------------------------

    /// Takes a snapshot of a collection.
    pub async fn create_snapshot(&self, collection: &str) -> Result<pb::SnapshotDescription> {
        let req = pb::CreateSnapshotRequest { collection_name: collection.to_owned() };
        self.snapshots
            .clone()
            .create(req)
            .await?
            .into_inner()
            .snapshot
            .ok_or_else(|| ClientError::Invalid("server sent no snapshot description".to_owned()))
    }

    /// Snapshots of a collection.
    pub async fn list_snapshots(&self, collection: &str) -> Result<Vec<pb::SnapshotDescription>> {
        let req = pb::ListSnapshotsRequest { collection_name: collection.to_owned() };
        Ok(self.snapshots.clone().list(req).await?.into_inner().snapshots)
    }

    /// Deletes a snapshot (`NotFound` status for an unknown one).
    pub async fn delete_snapshot(&self, collection: &str, snapshot: &str) -> Result<()> {
        let req = pb::DeleteSnapshotRequest {
            collection_name: collection.to_owned(),
            snapshot_name: snapshot.to_owned(),
        };
        self.snapshots.clone().delete(req).await?;
        Ok(())
    }

    /// Creates or replaces `collection` from a snapshot on the running server. `location`: a
    /// snapshot name of that collection, or a `file://` URL of an archive on the server's disk.
    /// A damaged archive or a dimension conflict fails and leaves the collection as it was.
    pub async fn recover_snapshot(
        &self,
        collection: &str,
        location: &str,
    ) -> Result<pb::RecoverSnapshotResponse> {
        let req = pb::RecoverSnapshotRequest {
            collection_name: collection.to_owned(),
            location: location.to_owned(),
        };
        Ok(self.snapshots.clone().recover(req).await?.into_inner())
    }

    /// Downloads a snapshot archive (streamed by the server in chunks) into `out` (a file or a
    /// `Vec<u8>`; written as chunks arrive); returns the bytes written.
    pub async fn download_snapshot(
        &self,
        collection: &str,
        snapshot: &str,
        out: &mut impl std::io::Write,
    ) -> Result<u64> {
        let req = pb::DownloadSnapshotRequest {
            collection_name: collection.to_owned(),
            snapshot_name: snapshot.to_owned(),
        };
        let mut stream = self.snapshots.clone().download(req).await?.into_inner();
        let mut n = 0u64;
        while let Some(chunk) = stream.message().await? {
            out.write_all(&chunk.data)
                .map_err(|e| ClientError::Invalid(format!("writing the download: {e}")))?;
            n += chunk.data.len() as u64;
        }
        out.flush().map_err(|e| ClientError::Invalid(format!("writing the download: {e}")))?;
        Ok(n)
    }
}

fn update(r: pb::UpdateResponse) -> Result<pb::UpdateResult> {
    r.result.ok_or_else(|| ClientError::Invalid("server sent no update result".to_owned()))
}

fn record(p: pb::RetrievedPoint) -> Record {
    Record {
        id: p.id.as_ref().map(PointId::from).unwrap_or(PointId::Num(0)),
        payload: payload_from_pb(&p.payload),
        vector: p.vector.map(|v| v.data).filter(|v| !v.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_builder_sets_every_field() {
        let q = Query::new("c", vec![1.0, 2.0])
            .limit(3)
            .offset(1)
            .ef(64)
            .strategy(pb::Strategy::Acorn)
            .explain(true)
            .with_payload(false)
            .score_threshold(0.5)
            .filter_json(&json!({"must": [{"key": "a", "match": {"value": "x"}}]}))
            .expect("valid filter")
            .into_request();
        assert_eq!((q.limit, q.offset, q.explain, q.score_threshold), (3, 1, true, Some(0.5)));
        let p = q.params.expect("params set");
        assert_eq!((p.hnsw_ef, p.strategy), (Some(64), pb::Strategy::Acorn as i32));
        assert_eq!(q.filter.map(|f| f.must.len()), Some(1));
        assert_eq!(q.with_payload.and_then(|w| w.kind), Some(pb::with_payload_selector::Kind::Enable(false)));
    }

    #[test]
    fn point_payload_goes_into_the_message() {
        let p = Point::new(7, vec![0.5]).with_payload(json!({"year": 2020, "tags": ["a"]})).to_pb();
        assert_eq!(p.id, Some(pb::PointId { kind: Some(pb::point_id::Kind::Num(7)) }));
        assert_eq!(p.payload.len(), 2);
        assert_eq!(p.payload["year"].kind, Some(pb::value::Kind::IntegerValue(2020)));
    }
}
