//! Thin REST handlers: extract, call the service, wrap the result.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::{
    CollectionExistence, CollectionInfo, CollectionsResponse, CountRequest, CountResult, CreateCollection,
    CreateFieldIndex, DeletePayload, DeleteVectors, GetPoints, PointsSelector, QueryBatchRequest,
    QueryRequest, QueryResponse, Record, ScoredPoint, ScrollRequest, ScrollResult, SearchRequest, SetPayload,
    SnapshotDescription, SnapshotRecover, UpdateCollection, UpdateResult, UpdateVectors, UpsertPoints,
    VersionInfo,
};
use crate::service::ServiceError;

use super::extract::{Json, Path, Query, WriteParams};
use super::{text, AppState, Done, RestError, RestResult};

type S = State<AppState>;

fn wait(p: &WriteParams) -> bool {
    p.wait.unwrap_or(false)
}

/// `GET /`, bare as Qdrant answers it (see [`crate::api::QDRANT_API_VERSION`]).
pub async fn root() -> axum::Json<VersionInfo> {
    axum::Json(VersionInfo {
        title: "grove".to_owned(),
        version: crate::api::QDRANT_API_VERSION.to_owned(),
        commit: None,
        grove_version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

pub async fn healthz() -> Response {
    // Qdrant's exact texts (Kubernetes probes and Qdrant's own tests compare them).
    text("healthz check passed".to_owned(), "text/plain; charset=utf-8")
}

pub async fn readyz(State(s): S) -> Response {
    if s.service.is_ready() {
        text("all shards are ready".to_owned(), "text/plain; charset=utf-8")
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

pub async fn update_collection(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<UpdateCollection>,
) -> RestResult<bool> {
    Ok(Done(s.service.update_collection(name, body).await?))
}

pub async fn update_vectors(
    State(s): S,
    Path(name): Path<String>,
    Query(_w): Query<WriteParams>,
    Json(body): Json<UpdateVectors>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.update_vectors(name, body).await?))
}

pub async fn delete_vectors(
    State(s): S,
    Path(name): Path<String>,
    Query(_w): Query<WriteParams>,
    Json(body): Json<DeleteVectors>,
) -> RestResult<UpdateResult> {
    Ok(Done(s.service.delete_vectors(name, body).await?))
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
    Json(mut body): Json<UpsertPoints>,
) -> RestResult<UpdateResult> {
    let cond = body.take_conditions();
    let points = body.into_points().map_err(crate::service::ServiceError::InvalidArgument)?;
    Ok(Done(s.service.upsert_with(name, points, wait(&w), cond).await?))
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

pub async fn calibrate_matryoshka(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<crate::api::CalibrateRequest>,
) -> RestResult<crate::api::CalibrationReport> {
    Ok(Done(s.service.calibrate_matryoshka(name, body).await?))
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

pub async fn download_snapshot(
    State(s): S,
    Path((name, snapshot)): Path<(String, String)>,
) -> Result<Response, super::RestError> {
    let path = s.service.snapshot_file(name, snapshot.clone()).await?;
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

pub async fn delete_snapshot(
    State(s): S,
    Path((name, snapshot)): Path<(String, String)>,
    Query(_w): Query<WriteParams>,
) -> RestResult<bool> {
    Ok(Done(s.service.delete_snapshot(name, snapshot).await?))
}

pub async fn recover_snapshot(
    State(s): S,
    Path(name): Path<String>,
    Query(_w): Query<WriteParams>,
    Json(body): Json<SnapshotRecover>,
) -> RestResult<bool> {
    s.service.recover_snapshot(name, body.location).await?;
    Ok(Done(true))
}

/// Streams the body to a file on the data disk, then recovers from it. The size limit is its
/// own knob, `service.max_snapshot_upload_bytes` (archives are as large as collections, far
/// over `service.max_body_bytes`): a declared length over it is refused before this runs
/// (`rest::body::guard`), a chunked body when it passes it. A multipart body's single file
/// part is located in the saved file rather than parsed in memory.
pub async fn upload_snapshot(
    State(s): S,
    Path(name): Path<String>,
    Query(_w): Query<WriteParams>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> RestResult<bool> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let ctype = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let boundary = multipart_boundary(ctype)?;
    let limit = s.service.config().service.max_snapshot_upload_bytes;
    let path = s.service.snapshot_upload_path(name.clone()).await?;
    let saved = async {
        let mut f = tokio::fs::File::create(&path).await.map_err(ServiceError::internal)?;
        let mut stream = body.into_data_stream();
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| super::error::stream_read_error(&e))?;
            total += chunk.len() as u64;
            if total > limit {
                // Read the rest (bounded) so the client can read the answer; see rest::body.
                let cap = s.service.config().service.refused_body_drain_bytes;
                super::body::drain(stream, cap).await;
                return Err(RestError::Rejected(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "snapshot upload is over the limit of {limit} bytes \
                         (service.max_snapshot_upload_bytes); raise it to upload this archive"
                    ),
                ));
            }
            f.write_all(&chunk).await.map_err(ServiceError::internal)?;
        }
        f.flush().await.map_err(ServiceError::internal)?;
        let (offset, len) = match &boundary {
            Some(b) => multipart_part(&path, b, total).await?,
            None => (0, total),
        };
        Ok::<_, RestError>((offset, len))
    }
    .await;
    let (offset, len) = match saved {
        Ok(r) => r,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    };
    s.service.recover_uploaded(name, path, offset, len).await?;
    Ok(Done(true))
}

/// `Some(boundary)` for `multipart/form-data`, `None` for any other (raw) body.
fn multipart_boundary(ctype: &str) -> Result<Option<String>, ServiceError> {
    if !ctype.to_ascii_lowercase().starts_with("multipart/") {
        return Ok(None);
    }
    ctype
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| Some(b.trim_matches('"').to_owned()))
        .next()
        .ok_or_else(|| ServiceError::invalid("multipart upload without a boundary parameter"))
}

/// Offset and length of the (single) file part of a multipart body saved in `path`.
async fn multipart_part(
    path: &std::path::Path,
    boundary: &str,
    total: u64,
) -> Result<(u64, u64), ServiceError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let bad = || {
        ServiceError::invalid("malformed multipart upload: send one file part (e.g. curl -F snapshot=@file)")
    };
    let mut f = tokio::fs::File::open(path).await.map_err(ServiceError::internal)?;
    let mut head = vec![0u8; total.min(64 * 1024) as usize];
    f.read_exact(&mut head).await.map_err(ServiceError::internal)?;
    let open = format!("--{boundary}");
    let start = find(&head, open.as_bytes()).ok_or_else(bad)?;
    let headers_end = find(&head[start..], b"\r\n\r\n").ok_or_else(bad)? + start + 4;
    let tail_len = total.min(4096);
    f.seek(std::io::SeekFrom::Start(total - tail_len)).await.map_err(ServiceError::internal)?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail).await.map_err(ServiceError::internal)?;
    let close = format!("\r\n--{boundary}");
    let end_in_tail = rfind(&tail, close.as_bytes()).ok_or_else(bad)?;
    let end = total - tail_len + end_in_tail as u64;
    if end < headers_end as u64 {
        return Err(bad());
    }
    Ok((headers_end as u64, end - headers_end as u64))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}
