//! The one place where service errors become gRPC statuses.

use tonic::{Code, Status};

use crate::service::ServiceError;

/// gRPC code of a service error.
pub fn code_of(e: &ServiceError) -> Code {
    match e {
        ServiceError::InvalidArgument(_) | ServiceError::Unprocessable(_) => Code::InvalidArgument,
        ServiceError::NotFound(_) => Code::NotFound,
        ServiceError::AlreadyExists(_) => Code::AlreadyExists,
        ServiceError::Unauthenticated(_) => Code::Unauthenticated,
        ServiceError::PermissionDenied(_) => Code::PermissionDenied,
        ServiceError::LimitExceeded(_) => Code::InvalidArgument,
        ServiceError::Unavailable(_) => Code::Unavailable,
        ServiceError::Timeout(_) | ServiceError::Stopped(_) => Code::DeadlineExceeded,
        ServiceError::Internal(_) => Code::Internal,
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        // Display of Internal is a fixed "internal error": the detail was logged, never sent.
        Status::new(code_of(&e), e.to_string())
    }
}

/// What tonic's prost codec says when a request message does not decode (it answers INTERNAL,
/// following gRPC's guidance for a server's own failures; the message is prost's).
const DECODE_FAILURE: &str = "failed to decode Protobuf message";

/// Turns tonic's answer to an undecodable request message into INVALID_ARGUMENT. The decode
/// runs in tonic's generated code before any of ours, and fails with INTERNAL; but bytes that
/// are not the method's message are the client's error, so they get a 4xx-class code that says
/// what to fix. Called on every response's headers by the gRPC guard layer: a unary error is
/// "trailers-only", so the status is in these headers. Grove's own internal errors always read
/// "internal error" and are never touched.
pub fn reclassify_decode_failure(headers: &mut http::HeaderMap) {
    let code = headers.get("grpc-status").and_then(|v| v.to_str().ok());
    if code != Some("13") {
        return;
    }
    let Some(message) = headers.get("grpc-message").and_then(|v| v.to_str().ok()).map(percent_decode) else {
        return;
    };
    let Some(detail) = message.strip_prefix(DECODE_FAILURE) else { return };
    let detail = detail.trim_start_matches(':').trim();
    let status = Status::invalid_argument(format!(
        "malformed request: the body is not a valid protobuf message for this method ({detail})"
    ));
    let fixed = status.into_http::<()>();
    for name in ["grpc-status", "grpc-message"] {
        if let Some(v) = fixed.headers().get(name) {
            headers.insert(name, v.clone());
        }
    }
}

/// Decodes the `%XX` escapes of a grpc-message header (invalid escapes are kept as they are).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() && s.is_char_boundary(i + 3) {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decode_failure_becomes_invalid_argument_and_other_internals_stay() {
        let decode = Status::internal("failed to decode Protobuf message: invalid wire type value: 7");
        let mut headers = decode.into_http::<()>().headers().clone();
        reclassify_decode_failure(&mut headers);
        let status = Status::from_header_map(&headers).expect("a status");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("invalid wire type value: 7"), "{}", status.message());

        let ours = Status::from(ServiceError::Internal("disk".into()));
        let mut headers = ours.into_http::<()>().headers().clone();
        reclassify_decode_failure(&mut headers);
        assert_eq!(Status::from_header_map(&headers).expect("a status").code(), Code::Internal);
    }
}
