//! REST: Qdrant-shaped HTTP/JSON over the service layer.
//!
//! [`router`] builds the whole application from one route table ([`routes::ROUTES`]): each entry
//! names its method, path, the access it needs (public / read / write), the request and response
//! types, and its handler. The same table generates `/openapi.json`, so the document cannot list
//! a route the server does not serve. Tests drive the router with `tower::ServiceExt::oneshot`.
//!
//! Responses use Qdrant's envelope `{"result": ..., "status": "ok", "time": seconds}`; errors use
//! `{"status": {"error": "..."}, "time": seconds}` (see [`error`]).

pub mod body;
mod compat;
mod diagnostics;
pub mod error;
mod extract;
mod handlers;
pub mod openapi;
pub mod routes;

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::{presented_key, Access, ApiKeys};
use crate::service::Service;

pub use error::RestError;

/// Header carrying the request id (set if the client did not send one, echoed back).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// When the current request started (for the `time` field of every response body).
    static REQUEST_START: Instant;
}

/// Seconds since the current request started (0 outside a request).
pub fn elapsed_secs() -> f64 {
    REQUEST_START.try_with(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0)
}

/// The success envelope: `{"result": T, "status": "ok", "time": seconds}`.
#[derive(Debug)]
pub struct Done<T>(pub T);

#[derive(Serialize)]
struct Envelope<T> {
    result: T,
    status: &'static str,
    time: f64,
}

impl<T: Serialize> IntoResponse for Done<T> {
    fn into_response(self) -> Response {
        axum::Json(Envelope { result: self.0, status: "ok", time: elapsed_secs() }).into_response()
    }
}

/// What every handler returns.
pub type RestResult<T> = Result<Done<T>, RestError>;

/// State shared by the middleware and handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The service layer.
    pub service: Service,
    /// API keys.
    pub keys: ApiKeys,
}

/// Builds the REST application: routes, auth, limits, metrics, request ids and tracing.
pub fn router(service: Service) -> Router {
    let config = service.config().clone();
    let state = AppState {
        keys: ApiKeys::new(config.security.api_key.clone(), config.security.read_only_api_key.clone()),
        service,
    };
    let mut app: Router<AppState> = Router::new();
    for route in routes::ROUTES {
        let method_router = (route.handler)()
            .route_layer(middleware::from_fn_with_state((state.clone(), route.op.access()), authorize));
        app = app.route(route.path, method_router);
    }
    let app = app
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(config.service.max_body_bytes))
        .layer(tower::limit::ConcurrencyLimitLayer::new(config.service.max_concurrent_requests))
        // Outside the concurrency limit: a refused body is drained without holding a slot.
        .layer(middleware::from_fn_with_state(state.clone(), body::guard))
        .layer(middleware::from_fn_with_state(state.clone(), observe));
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("http", method = %req.method(), uri = %req.uri(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
    )
    .with_state(state)
}

/// Times the request (for the body's `time` and the latency histogram) and counts it by route
/// template, so metric cardinality stays bounded whatever paths clients send.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let has_body = request_has_body(&req);
    let mut response = REQUEST_START.scope(start, next.run(req)).await;
    let status = response.status();
    if has_body && REFUSED_UNREAD.contains(&status) {
        response.headers_mut().insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    state.service.metrics().http_request(&route, &method, status.as_u16(), start.elapsed());
    if status.is_server_error() {
        tracing::warn!(%route, status = status.as_u16(), "request failed");
    }
    response
}

/// Refusals sent before the request body is read (too large, unauthorised, no such route or
/// method, wrong content type). The unread body is still on the wire, so the server cannot keep
/// the connection: without `Connection: close` a client's pool reused it for its next request
/// and that request failed with a broken pipe. With the header the client opens a new one.
const REFUSED_UNREAD: [StatusCode; 7] = [
    StatusCode::PAYLOAD_TOO_LARGE,
    StatusCode::REQUEST_TIMEOUT,
    StatusCode::UNAUTHORIZED,
    StatusCode::FORBIDDEN,
    StatusCode::NOT_FOUND,
    StatusCode::METHOD_NOT_ALLOWED,
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
];

/// Whether the request carries a body (declared length above zero, or chunked).
fn request_has_body(req: &Request) -> bool {
    let h = req.headers();
    let declared = h
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > 0);
    declared || h.contains_key(axum::http::header::TRANSFER_ENCODING)
}

/// Per-route auth: public routes pass; others need a key granting their access.
async fn authorize(
    State((state, access)): State<(AppState, Option<Access>)>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(access) = access {
        let headers = req.headers();
        let api_key = headers.get("api-key").and_then(|v| v.to_str().ok());
        let authorization = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Err(e) = state.keys.check(presented_key(api_key, authorization), access) {
            return RestError::from(e).into_response();
        }
    }
    next.run(req).await
}

async fn not_found(req: Request) -> RestError {
    RestError::Rejected(StatusCode::NOT_FOUND, format!("Not found: {} {}", req.method(), req.uri().path()))
}

async fn method_not_allowed(req: Request) -> RestError {
    RestError::Rejected(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {} is not allowed on {}; see /openapi.json", req.method(), req.uri().path()),
    )
}

/// A plain-text response (metrics).
pub fn text(body: String, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
