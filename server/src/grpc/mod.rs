//! gRPC (package `grove.v1`): thin tonic services over the service layer.
//!
//! Auth and metrics are one tower layer ([`GuardLayer`]) in front of every service: it reads the
//! method from the request path (`/grove.v1.Points/Upsert`), checks the `api-key` metadata (or
//! `authorization: Bearer`), and records count and latency per method.

pub mod convert;
mod diagnostics;
pub mod error;
mod sparse;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::StreamExt;
use grove_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::auth::{presented_key, ApiKeys};
use crate::service::Service;

type Res<T> = Result<Response<T>, Status>;

/// Implements every grove.v1 service over one [`Service`].
#[derive(Debug, Clone)]
pub struct Grpc {
    service: Service,
}

impl Grpc {
    /// Wraps the service layer.
    pub fn new(service: Service) -> Self {
        Grpc { service }
    }
}

/// Builds the tonic router with every service, the auth/metrics layer and message limits.
pub fn routes(service: Service) -> tonic::service::Routes {
    let max = service.config().service.max_body_bytes;
    let g = Grpc::new(service.clone());
    let routes = tonic::service::Routes::new(
        pb::collections_server::CollectionsServer::new(g.clone())
            .max_decoding_message_size(max)
            .max_encoding_message_size(max),
    )
    .add_service(
        pb::points_server::PointsServer::new(g.clone())
            .max_decoding_message_size(max)
            .max_encoding_message_size(max),
    )
    .add_service(pb::snapshots_server::SnapshotsServer::new(g.clone()))
    .add_service(
        pb::diagnostics_server::DiagnosticsServer::new(g.clone())
            .max_decoding_message_size(max)
            .max_encoding_message_size(max),
    )
    .add_service(pb::health_server::HealthServer::new(g));
    // Qdrant's own API beside grove.v1, under the same guard layer.
    crate::qdrant_grpc::add_services(routes, service)
}

#[tonic::async_trait]
impl pb::collections_server::Collections for Grpc {
    async fn create(&self, r: Request<pb::CreateCollectionRequest>) -> Res<pb::CreateCollectionResponse> {
        let r = r.into_inner();
        let body = convert::create_collection(r.clone())?;
        let result = self.service.create_collection(r.collection_name, body).await?;
        Ok(Response::new(pb::CreateCollectionResponse { result }))
    }

    async fn get(&self, r: Request<pb::GetCollectionRequest>) -> Res<pb::GetCollectionResponse> {
        let name = r.into_inner().collection_name;
        let info = self.service.get_collection(name.clone()).await?;
        Ok(Response::new(pb::GetCollectionResponse { info: Some(convert::collection_info(name, info)) }))
    }

    async fn list(&self, _r: Request<pb::ListCollectionsRequest>) -> Res<pb::ListCollectionsResponse> {
        let list = self.service.list_collections().await?;
        Ok(Response::new(pb::ListCollectionsResponse {
            collection_names: list.collections.into_iter().map(|c| c.name).collect(),
        }))
    }

    async fn delete(&self, r: Request<pb::DeleteCollectionRequest>) -> Res<pb::DeleteCollectionResponse> {
        let result = self.service.delete_collection(r.into_inner().collection_name).await?;
        Ok(Response::new(pb::DeleteCollectionResponse { result }))
    }

    async fn create_field_index(
        &self,
        r: Request<pb::CreateFieldIndexRequest>,
    ) -> Res<pb::FieldIndexResponse> {
        let r = r.into_inner();
        let field_schema = api_schema(r.field_schema)?;
        let body = crate::api::CreateFieldIndex { field_name: r.field_name, field_schema };
        self.service.create_field_index(r.collection_name, body).await?;
        Ok(Response::new(pb::FieldIndexResponse { result: true }))
    }

    async fn delete_field_index(
        &self,
        r: Request<pb::DeleteFieldIndexRequest>,
    ) -> Res<pb::FieldIndexResponse> {
        let r = r.into_inner();
        self.service.delete_field_index(r.collection_name, r.field_name).await?;
        Ok(Response::new(pb::FieldIndexResponse { result: true }))
    }
}

fn api_schema(t: i32) -> Result<crate::api::FieldSchema, Status> {
    Ok(crate::api::FieldSchema::Type(convert::schema_type(t)?))
}

#[tonic::async_trait]
impl pb::points_server::Points for Grpc {
    async fn upsert(&self, r: Request<pb::UpsertPointsRequest>) -> Res<pb::UpdateResponse> {
        let r = r.into_inner();
        let points = convert::points(r.points)?;
        let res = self.service.upsert(r.collection_name, points, r.wait).await?;
        Ok(Response::new(convert::update(res)))
    }

    async fn get(&self, r: Request<pb::GetPointsRequest>) -> Res<pb::GetPointsResponse> {
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let records = self.service.get_points(name, convert::get(r)?).await?;
        Ok(Response::new(pb::GetPointsResponse {
            result: records.into_iter().map(convert::record).collect(),
        }))
    }

    async fn delete(&self, r: Request<pb::DeletePointsRequest>) -> Res<pb::UpdateResponse> {
        let r = r.into_inner();
        let sel = convert::selector(r.points)?;
        let res = self.service.delete_points(r.collection_name, sel, r.wait).await?;
        Ok(Response::new(convert::update(res)))
    }

    async fn set_payload(&self, r: Request<pb::SetPayloadRequest>) -> Res<pb::UpdateResponse> {
        let r = r.into_inner();
        let (name, overwrite, wait) = (r.collection_name.clone(), r.overwrite, r.wait);
        let body = convert::set_payload(r)?;
        let res = self.service.set_payload(name, body, overwrite, wait).await?;
        Ok(Response::new(convert::update(res)))
    }

    async fn delete_payload(&self, r: Request<pb::DeletePayloadRequest>) -> Res<pb::UpdateResponse> {
        let r = r.into_inner();
        let (name, wait) = (r.collection_name.clone(), r.wait);
        let body = convert::delete_payload(r)?;
        let res = self.service.delete_payload(name, body, wait).await?;
        Ok(Response::new(convert::update(res)))
    }

    async fn clear_payload(&self, r: Request<pb::ClearPayloadRequest>) -> Res<pb::UpdateResponse> {
        let r = r.into_inner();
        let sel = convert::selector(r.points)?;
        let res = self.service.clear_payload(r.collection_name, sel, r.wait).await?;
        Ok(Response::new(convert::update(res)))
    }

    async fn query(&self, r: Request<pb::QueryRequest>) -> Res<pb::QueryResponse> {
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let out = self.service.query(name, convert::query(r)?).await?;
        Ok(Response::new(pb::QueryResponse {
            result: out.points.into_iter().map(convert::scored).collect(),
            explain: out.explain.map(convert::explain),
        }))
    }

    type QueryBatchStream =
        Pin<Box<dyn futures_util::Stream<Item = Result<pb::QueryBatchResult, Status>> + Send>>;

    async fn query_batch(&self, r: Request<pb::QueryBatchRequest>) -> Res<Self::QueryBatchStream> {
        let r = r.into_inner();
        let queries = r.queries.into_iter().map(convert::query).collect::<Result<Vec<_>, _>>()?;
        let stream = self.service.query_batch_stream(r.collection_name, queries).await?;
        let stream = stream.map(|(index, result)| {
            let out = result.map_err(Status::from)?;
            Ok(pb::QueryBatchResult {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                result: out.points.into_iter().map(convert::scored).collect(),
                explain: out.explain.map(convert::explain),
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn scroll(&self, r: Request<pb::ScrollRequest>) -> Res<pb::ScrollResponse> {
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let out = self.service.scroll(name, convert::scroll(r)?).await?;
        Ok(Response::new(pb::ScrollResponse {
            result: out.points.into_iter().map(convert::record).collect(),
            next_page_offset: out.next_page_offset.map(convert::point_id_out),
        }))
    }

    async fn count(&self, r: Request<pb::CountRequest>) -> Res<pb::CountResponse> {
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let out = self.service.count(name, convert::count(r)?).await?;
        Ok(Response::new(pb::CountResponse { count: out.count }))
    }

    async fn calibrate_matryoshka(
        &self,
        r: Request<pb::CalibrateMatryoshkaRequest>,
    ) -> Res<pb::CalibrateMatryoshkaResponse> {
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let out = self.service.calibrate_matryoshka(name, convert::calibrate(r)?).await?;
        Ok(Response::new(convert::calibration(out)))
    }
}

#[tonic::async_trait]
impl pb::snapshots_server::Snapshots for Grpc {
    async fn create(&self, r: Request<pb::CreateSnapshotRequest>) -> Res<pb::CreateSnapshotResponse> {
        let s = self.service.create_snapshot(r.into_inner().collection_name).await?;
        Ok(Response::new(pb::CreateSnapshotResponse { snapshot: Some(convert::snapshot(s)) }))
    }

    async fn list(&self, r: Request<pb::ListSnapshotsRequest>) -> Res<pb::ListSnapshotsResponse> {
        let list = self.service.list_snapshots(r.into_inner().collection_name).await?;
        Ok(Response::new(pb::ListSnapshotsResponse {
            snapshots: list.into_iter().map(convert::snapshot).collect(),
        }))
    }

    async fn delete(&self, r: Request<pb::DeleteSnapshotRequest>) -> Res<pb::DeleteSnapshotResponse> {
        let r = r.into_inner();
        self.service.delete_snapshot(r.collection_name, r.snapshot_name).await?;
        Ok(Response::new(pb::DeleteSnapshotResponse {}))
    }

    async fn recover(&self, r: Request<pb::RecoverSnapshotRequest>) -> Res<pb::RecoverSnapshotResponse> {
        let r = r.into_inner();
        let o = self.service.recover_snapshot(r.collection_name, r.location).await?;
        Ok(Response::new(pb::RecoverSnapshotResponse {
            points: o.points,
            replaced: o.replaced,
            source_collection: o.source_collection,
        }))
    }

    type DownloadStream = futures_util::stream::BoxStream<'static, Result<pb::SnapshotChunk, Status>>;

    async fn download(&self, r: Request<pb::DownloadSnapshotRequest>) -> Res<Self::DownloadStream> {
        let r = r.into_inner();
        let path = self.service.snapshot_file(r.collection_name, r.snapshot_name).await?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| Status::from(crate::service::ServiceError::internal(e)))?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).map(|chunk| {
            chunk
                .map(|b| pb::SnapshotChunk { data: b.to_vec() })
                .map_err(|e| Status::from(crate::service::ServiceError::internal(e)))
        });
        Ok(Response::new(stream.boxed()))
    }
}

#[tonic::async_trait]
impl pb::health_server::Health for Grpc {
    async fn check(&self, _r: Request<pb::HealthCheckRequest>) -> Res<pb::HealthCheckResponse> {
        Ok(Response::new(pb::HealthCheckResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ready: self.service.is_ready(),
        }))
    }
}

/// Tower layer: auth and metrics for every gRPC call.
#[derive(Debug, Clone)]
pub struct GuardLayer {
    service: Service,
    keys: ApiKeys,
}

impl GuardLayer {
    /// From the service (its config has the keys).
    pub fn new(service: Service) -> Self {
        let sec = &service.config().security;
        let keys = ApiKeys::new(sec.api_key.clone(), sec.read_only_api_key.clone());
        GuardLayer { service, keys }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard { inner, layer: self.clone() }
    }
}

/// The service produced by [`GuardLayer`].
#[derive(Debug, Clone)]
pub struct Guard<S> {
    inner: S,
    layer: GuardLayer,
}

impl<S, B> tower::Service<http::Request<B>> for Guard<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let start = Instant::now();
        let path = req.uri().path().to_owned();
        let method = path.rsplit_once('.').map(|(_, m)| m.to_owned()).unwrap_or_else(|| path.clone());
        // Qdrant's methods are counted under their package, so `qdrant.Points/Query` and
        // `grove.v1.Points/Query` stay apart in the metrics.
        let method =
            if path.starts_with("/qdrant.") { path.trim_start_matches('/').to_owned() } else { method };
        let layer = self.layer.clone();
        if let Some(access) = crate::operations::grpc_access(&path) {
            let headers = req.headers();
            let api_key = headers.get("api-key").and_then(|v| v.to_str().ok());
            let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
            if let Err(e) = layer.keys.check(presented_key(api_key, authorization), access) {
                let status = Status::from(e);
                layer.service.metrics().grpc_request(
                    &method,
                    &format!("{:?}", status.code()),
                    start.elapsed(),
                );
                return Box::pin(async move { Ok(status.into_http()) });
            }
        }
        // Take the service that was driven to readiness; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(req).await?;
            error::reclassify_decode_failure(response.headers_mut());
            crate::qdrant_grpc::name_unimplemented(&path, response.headers_mut());
            // Errors come back "trailers-only", with grpc-status in the headers; a success has
            // it in the trailers, so an absent header means OK.
            let code = response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i32>().ok())
                .map(|c| format!("{:?}", tonic::Code::from_i32(c)))
                .unwrap_or_else(|| "Ok".to_owned());
            layer.service.metrics().grpc_request(&method, &code, start.elapsed());
            Ok(response)
        })
    }
}
