//! The one place where service errors and request rejections become HTTP responses, in
//! Qdrant's error shape: `{"status": {"error": "..."}, "time": <seconds>}`.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::service::ServiceError;

/// A REST failure: a service error, or a request that axum could not even parse.
#[derive(Debug)]
pub enum RestError {
    /// From the service layer.
    Service(ServiceError),
    /// The request could not be extracted (bad JSON, wrong content type, too large, bad path or
    /// query string). Keeps axum's status code with a Qdrant-shaped body.
    Rejected(StatusCode, String),
}

impl From<ServiceError> for RestError {
    fn from(e: ServiceError) -> Self {
        RestError::Service(e)
    }
}

impl From<JsonRejection> for RestError {
    fn from(r: JsonRejection) -> Self {
        if let JsonRejection::BytesRejection(b) = &r {
            if let Some(body) = body_read_error(b) {
                return body;
            }
        }
        // Qdrant answers 400 for a body of the wrong shape; axum's default would be 422.
        let status = match &r {
            JsonRejection::JsonDataError(_) => StatusCode::BAD_REQUEST,
            _ => r.status(),
        };
        let message = match &r {
            JsonRejection::MissingJsonContentType(_) => {
                "request body must be JSON: set the header `Content-Type: application/json`".to_owned()
            }
            JsonRejection::JsonDataError(e) => format!("Format error in JSON body: {}", source_text(e)),
            JsonRejection::JsonSyntaxError(e) => format!("Malformed JSON body: {}", source_text(e)),
            _ => format!("Invalid request body: {}", r.body_text()),
        };
        RestError::Rejected(status, message)
    }
}

impl From<PathRejection> for RestError {
    fn from(r: PathRejection) -> Self {
        RestError::Rejected(r.status(), format!("Invalid path: {}", r.body_text()))
    }
}

impl From<QueryRejection> for RestError {
    fn from(r: QueryRejection) -> Self {
        RestError::Rejected(r.status(), format!("Invalid query string: {}", r.body_text()))
    }
}

/// A body that could not be read in full: too slow (408, [`super::body::BodyTimeout`]) or over
/// `service.max_body_bytes` while streaming (413; a declared length over it is refused before
/// the handler, in [`super::body::guard`]). `None` for other failures.
fn body_read_error(e: &BytesRejection) -> Option<RestError> {
    if let Some(t) = super::body::timeout_in(e) {
        return Some(RestError::Rejected(StatusCode::REQUEST_TIMEOUT, t.to_string()));
    }
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Some(RestError::Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is over the limit of service.max_body_bytes; send less per request".to_owned(),
        ));
    }
    None
}

/// The error of reading a raw body stream (snapshot uploads): 408 for a timeout, else 400.
pub fn stream_read_error(e: &axum::Error) -> RestError {
    match super::body::timeout_in(e) {
        Some(t) => RestError::Rejected(StatusCode::REQUEST_TIMEOUT, t.to_string()),
        None => RestError::Rejected(StatusCode::BAD_REQUEST, format!("reading the request body failed: {e}")),
    }
}

/// The innermost error message (serde's, which names the field and position).
fn source_text(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// HTTP status of a service error.
pub fn status_of(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        ServiceError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::AlreadyExists(_) => StatusCode::CONFLICT,
        ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ServiceError::PermissionDenied(_) => StatusCode::FORBIDDEN,
        ServiceError::LimitExceeded(_) => StatusCode::BAD_REQUEST,
        ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::Timeout(_) | ServiceError::Stopped(_) => StatusCode::GATEWAY_TIMEOUT,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Qdrant's error body.
pub fn error_body(status: StatusCode, message: &str, time: f64) -> Response {
    (status, axum::Json(json!({ "status": { "error": message }, "time": time }))).into_response()
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            RestError::Service(e) => (status_of(&e), e.to_string()),
            RestError::Rejected(status, message) => (status, message),
        };
        error_body(status, &message, super::elapsed_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_leak_their_detail() {
        let e = ServiceError::Internal("rocksdb: /secret/path corrupted".to_owned());
        assert_eq!(status_of(&e), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.to_string(), "internal error");
    }

    #[test]
    fn bad_input_maps_to_4xx() {
        for e in [
            ServiceError::invalid("x"),
            ServiceError::no_collection("c"),
            ServiceError::AlreadyExists("c".into()),
            ServiceError::Unauthenticated("k".into()),
            ServiceError::PermissionDenied("k".into()),
            ServiceError::LimitExceeded("k".into()),
        ] {
            assert!(status_of(&e).is_client_error(), "{e:?}");
        }
    }
}
