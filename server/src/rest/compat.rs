//! Thin REST handlers of the Qdrant operations in `service::points_compat`: extract, call the
//! service, wrap the result (same envelope and errors as [`super::handlers`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::{Record, ScoredPoint, SnapshotDescription, UpdateResult};
use crate::api_compat as c;
use crate::service::ServiceError;

use super::extract::{Json, Path, Query, WriteParams};
use super::{AppState, Done, RestError, RestResult};

type S = State<AppState>;

fn wait(p: &WriteParams) -> bool {
    p.wait.unwrap_or(false)
}

pub async fn get_point(State(s): S, Path((name, id)): Path<(String, String)>) -> RestResult<Record> {
    let id = crate::service::path_id(&id)?;
    Ok(Done(s.service.get_point(name, id).await?))
}

pub async fn update_batch(
    State(s): S,
    Path(name): Path<String>,
    Query(w): Query<WriteParams>,
    Json(body): Json<c::UpdateOperations>,
) -> RestResult<Vec<UpdateResult>> {
    Ok(Done(s.service.update_batch(name, body.operations, wait(&w)).await?))
}

pub async fn search_batch(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::SearchBatch>,
) -> RestResult<Vec<Vec<ScoredPoint>>> {
    Ok(Done(s.service.search_batch(name, body.searches).await?))
}

pub async fn recommend(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::RecommendRequest>,
) -> RestResult<Vec<ScoredPoint>> {
    Ok(Done(s.service.recommend(name, body).await?))
}

pub async fn recommend_batch(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::RecommendBatch>,
) -> RestResult<Vec<Vec<ScoredPoint>>> {
    Ok(Done(s.service.recommend_batch(name, body.searches).await?))
}

pub async fn recommend_groups(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::RecommendGroupsRequest>,
) -> RestResult<c::GroupsResult> {
    Ok(Done(s.service.recommend_groups(name, body).await?))
}

pub async fn discover(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::DiscoverRequest>,
) -> RestResult<Vec<ScoredPoint>> {
    Ok(Done(s.service.discover(name, body).await?))
}

pub async fn discover_batch(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::DiscoverBatch>,
) -> RestResult<Vec<Vec<ScoredPoint>>> {
    Ok(Done(s.service.discover_batch(name, body.searches).await?))
}

pub async fn query_groups(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<crate::api_query::QueryGroupsRequest>,
) -> RestResult<c::GroupsResult> {
    Ok(Done(s.service.query_groups(name, body).await?))
}

pub async fn search_groups(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::SearchGroupsRequest>,
) -> RestResult<c::GroupsResult> {
    Ok(Done(s.service.search_groups(name, body).await?))
}

pub async fn matrix_pairs(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::SearchMatrixRequest>,
) -> RestResult<c::SearchMatrixPairsResponse> {
    Ok(Done(s.service.matrix_pairs(name, body).await?))
}

pub async fn matrix_offsets(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::SearchMatrixRequest>,
) -> RestResult<c::SearchMatrixOffsetsResponse> {
    Ok(Done(s.service.matrix_offsets(name, body).await?))
}

pub async fn facet(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<c::FacetRequest>,
) -> RestResult<c::FacetResponse> {
    Ok(Done(s.service.facet(name, body).await?))
}

pub async fn list_aliases(State(s): S) -> RestResult<c::CollectionsAliasesResponse> {
    Ok(Done(s.service.list_aliases().await?))
}

pub async fn collection_aliases(
    State(s): S,
    Path(name): Path<String>,
) -> RestResult<c::CollectionsAliasesResponse> {
    Ok(Done(s.service.collection_aliases(name).await?))
}

pub async fn update_aliases(State(s): S, Json(body): Json<c::ChangeAliasesOperation>) -> RestResult<bool> {
    Ok(Done(s.service.update_aliases(body).await?))
}

pub async fn cluster() -> RestResult<c::ClusterStatus> {
    Ok(Done(c::ClusterStatus { status: "disabled".to_owned() }))
}

/// Cluster changes on a standalone node: 405, in Qdrant's words, so tools can tell "not a
/// cluster" from "no such route".
pub async fn cluster_change() -> RestError {
    RestError::Rejected(
        StatusCode::METHOD_NOT_ALLOWED,
        "Cluster is not enabled: this operation is not available in standalone mode".to_owned(),
    )
}

pub async fn collection_cluster(
    State(s): S,
    Path(name): Path<String>,
) -> RestResult<c::CollectionClusterInfo> {
    Ok(Done(s.service.collection_cluster(name).await?))
}

pub async fn telemetry(State(s): S, Query(_p): Query<c::TelemetryParams>) -> RestResult<c::TelemetryData> {
    Ok(Done(s.service.telemetry().await?))
}

pub async fn issues() -> RestResult<c::IssuesReport> {
    Ok(Done(c::IssuesReport { issues: Vec::new() }))
}

pub async fn clear_issues() -> RestResult<bool> {
    Ok(Done(true))
}

pub async fn create_full_snapshot(
    State(s): S,
    Query(_w): Query<WriteParams>,
) -> RestResult<SnapshotDescription> {
    Ok(Done(s.service.create_full_snapshot().await?))
}

pub async fn list_full_snapshots(State(s): S) -> RestResult<Vec<SnapshotDescription>> {
    Ok(Done(s.service.list_full_snapshots().await?))
}

/// Streams the file (it may be as large as the data dir).
pub async fn download_full_snapshot(
    State(s): S,
    Path(snapshot): Path<String>,
) -> Result<Response, RestError> {
    let path = s.service.full_snapshot_file(snapshot.clone()).await?;
    let file = tokio::fs::File::open(&path).await.map_err(ServiceError::internal)?;
    let len = file.metadata().await.map_err(ServiceError::internal)?.len();
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
    let headers = [
        (axum::http::header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (axum::http::header::CONTENT_LENGTH, len.to_string()),
        (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{snapshot}\"")),
    ];
    Ok((headers, body).into_response())
}

pub async fn delete_full_snapshot(
    State(s): S,
    Path(snapshot): Path<String>,
    Query(_w): Query<WriteParams>,
) -> RestResult<bool> {
    Ok(Done(s.service.delete_full_snapshot(snapshot).await?))
}
