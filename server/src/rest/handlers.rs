//! Thin REST handlers: extract, call the service, wrap the result.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::{
    CollectionExistence, CollectionInfo, CollectionsResponse, CountRequest, CountResult, CreateCollection,
    CreateFieldIndex, DeletePayload, GetPoints, PointsSelector, QueryBatchRequest, QueryRequest,
    QueryResponse, Record, ScoredPoint, ScrollRequest, ScrollResult, SearchRequest, SetPayload,
    SnapshotDescription, UpdateResult, UpsertPoints, VersionInfo,
};

use super::extract::{Json, Path, Query, WriteParams};
use super::{text, AppState, Done, RestResult};

type S = State<AppState>;

fn wait(p: &WriteParams) -> bool {
    p.wait.unwrap_or(false)
}

pub async fn root() -> RestResult<VersionInfo> {
    Ok(Done(VersionInfo { title: "grove".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() }))
}

pub async fn healthz() -> Response {
    text("healthz check passed\n".to_owned(), "text/plain; charset=utf-8")
}

pub async fn readyz(State(s): S) -> Response {
    if s.service.is_ready() {
        text("all collections are loaded\n".to_owned(), "text/plain; charset=utf-8")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "collections are still loading (or shutting down)\n")
            .into_response()
    }
}

pub async fn metrics(State(s): S) -> Response {
    let body = s.service.metrics().render(&s.service.gauges());
    text(body, "text/plain; version=0.0.4; charset=utf-8")
}

pub async fn openapi() -> Response {
    axum::Json(super::openapi::document()).into_response()
}

pub async fn list_collections(State(s): S) -> RestResult<CollectionsResponse> {
    Ok(Done(s.service.list_collections().await?))
}

pub async fn create_collection(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<CreateCollection>,
) -> RestResult<bool> {
    Ok(Done(s.service.create_collection(name, body).await?))
}

pub async fn get_collection(State(s): S, Path(name): Path<String>) -> RestResult<CollectionInfo> {
    Ok(Done(s.service.get_collection(name).await?))
}

pub async fn collection_exists(State(s): S, Path(name): Path<String>) -> RestResult<CollectionExistence> {
    Ok(Done(CollectionExistence { exists: s.service.collection_exists(name).await? }))
}

pub async fn delete_collection(State(s): S, Path(name): Path<String>) -> RestResult<bool> {
    Ok(Done(s.service.delete_collection(name).await?))
}

pub async fn create_index(
    State(s): S,
    Path(name): Path<String>,
    Query(_w): Query<WriteParams>,
    Json(body): Json<CreateFieldIndex>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.create_field_index(name, body).await?))
}

pub async fn delete_index(
    State(s): S,
    Path((name, field)): Path<(String, String)>,
    Query(_w): Query<WriteParams>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.delete_field_index(name, field).await?))
}

pub async fn upsert(
    State(s): S,
    Path(name): Path<String>,
    Query(w): Query<WriteParams>,
    Json(body): Json<UpsertPoints>,
) -> RestResult<UpdateResult> {
    let points = body.into_points().map_err(crate::service::ServiceError::InvalidArgument)?;
    Ok(Done(s.service.upsert(name, points, wait(&w)).await?))
}

pub async fn get_points(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<GetPoints>,
) -> RestResult<Vec<Record>> {
    Ok(Done(s.service.get_points(name, body).await?))
}

pub async fn delete_points(
    State(s): S,
    Path(name): Path<String>,
    Query(w): Query<WriteParams>,
    Json(body): Json<PointsSelector>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.delete_points(name, body, wait(&w)).await?))
}

pub async fn set_payload(
    State(s): S,
    Path(name): Path<String>,
    Query(w): Query<WriteParams>,
    Json(body): Json<SetPayload>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.set_payload(name, body, false, wait(&w)).await?))
}

pub async fn overwrite_payload(
    State(s): S,
    Path(name): Path<String>,
    Query(w): Query<WriteParams>,
    Json(body): Json<SetPayload>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.set_payload(name, body, true, wait(&w)).await?))
}

pub async fn delete_payload(
    State(s): S,
    Path(name): Path<String>,
    Query(w): Query<WriteParams>,
    Json(body): Json<DeletePayload>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.delete_payload(name, body, wait(&w)).await?))
}

pub async fn clear_payload(
    State(s): S,
    Path(name): Path<String>,
    Query(w): Query<WriteParams>,
    Json(body): Json<PointsSelector>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.clear_payload(name, body, wait(&w)).await?))
}

pub async fn query(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<QueryRequest>,
) -> RestResult<QueryResponse> {
    Ok(Done(s.service.query(name, body).await?))
}

pub async fn query_batch(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<QueryBatchRequest>,
) -> RestResult<Vec<QueryResponse>> {
    Ok(Done(s.service.query_batch(name, body.searches).await?))
}

pub async fn search(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<SearchRequest>,
) -> RestResult<Vec<ScoredPoint>> {
    Ok(Done(s.service.query(name, body.into()).await?.points))
}

pub async fn scroll(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<ScrollRequest>,
) -> RestResult<ScrollResult> {
    Ok(Done(s.service.scroll(name, body).await?))
}

pub async fn count(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<CountRequest>,
) -> RestResult<CountResult> {
    Ok(Done(s.service.count(name, body).await?))
}

pub async fn create_snapshot(
    State(s): S,
    Path(name): Path<String>,
    Query(_w): Query<WriteParams>,
) -> RestResult<SnapshotDescription> {
    Ok(Done(s.service.create_snapshot(name).await?))
}

pub async fn list_snapshots(State(s): S, Path(name): Path<String>) -> RestResult<Vec<SnapshotDescription>> {
    Ok(Done(s.service.list_snapshots(name).await?))
}
