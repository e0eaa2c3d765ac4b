//! Bounds on how large a REST request body may be and how long it may take to arrive.
//!
//! [`guard`] runs for every route, before the concurrency limit:
//! - A body whose declared `Content-Length` is over the route's limit (`service.max_body_bytes`,
//!   or `service.max_snapshot_upload_bytes` on the upload route) is refused with 413 before any
//!   handler runs. The body is first read and discarded, up to `service.refused_body_drain_bytes`
//!   and within `service.body_read_timeout_secs`: most clients (curl, Python `requests`) send
//!   the whole body before they read the answer, and a server that closes with unread bytes in
//!   its socket makes the kernel send a reset, so the client saw "connection reset" instead of
//!   the 413.
//! - Every other body is wrapped in [`TimedBody`]: it must arrive within
//!   `service.body_read_timeout_secs` of the handler starting to read it (on the upload route: no gap
//!   longer than that between two chunks), or reading it fails with [`BodyTimeout`], which the
//!   extractors answer with 408. A client that sends its headers and then stalls would otherwise
//!   hold a concurrency slot of its route for ever; enough of them made the route unavailable.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::{AppState, RestError};

/// The route whose body has its own size limit (archives are as big as collections).
pub const UPLOAD_ROUTE: &str = "/collections/{name}/snapshots/upload";

/// Reading a request body took longer than `service.body_read_timeout_secs`.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "the request body did not arrive within {secs} s (service.body_read_timeout_secs); send the whole body without pausing"
)]
pub struct BodyTimeout {
    /// The configured bound.
    pub secs: u64,
}

/// A request body that fails with [`BodyTimeout`] when it does not arrive in time.
#[derive(Debug)]
pub struct TimedBody {
    inner: Body,
    /// Started at the first read, not at construction: a request waiting for a concurrency
    /// slot has not been asked for its body yet.
    sleep: Option<Pin<Box<Sleep>>>,
    timeout: Duration,
    /// Whether the deadline restarts after every chunk (uploads) or bounds the whole body.
    idle: bool,
}

impl TimedBody {
    /// Wraps `inner`; the clock starts at the first read.
    pub fn new(inner: Body, timeout: Duration, idle: bool) -> Self {
        TimedBody { inner, sleep: None, timeout, idle }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let timeout = this.timeout;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if this.idle {
                    sleep.as_mut().reset(Instant::now() + timeout);
                }
                Poll::Ready(frame)
            }
            Poll::Pending => match sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    Poll::Ready(Some(Err(axum::Error::new(BodyTimeout { secs: this.timeout.as_secs() }))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The [`BodyTimeout`] somewhere in an error's source chain, if any.
pub fn timeout_in(e: &(dyn StdError + 'static)) -> Option<BodyTimeout> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<BodyTimeout>() {
            return Some(*t);
        }
        cur = err.source();
    }
    None
}

/// The middleware described in the module docs.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let service = &state.service.config().service;
    let upload = req.extensions().get::<MatchedPath>().is_some_and(|p| p.as_str() == UPLOAD_ROUTE);
    let (limit, knob) = if upload {
        (service.max_snapshot_upload_bytes, "service.max_snapshot_upload_bytes")
    } else {
        (service.max_body_bytes as u64, "service.max_body_bytes")
    };
    let timeout = Duration::from_secs(service.body_read_timeout_secs);
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|&len| len > limit) {
        // A client that asked `Expect: 100-continue` has not sent the body and will not once it
        // reads the 413; reading would make hyper invite it to.
        let expects_continue = req.headers().contains_key(axum::http::header::EXPECT);
        if len <= service.refused_body_drain_bytes && !expects_continue {
            let stream = req.into_body().into_data_stream();
            let _ = tokio::time::timeout(timeout, drain(stream, len)).await;
        }
        return too_large(len, limit, knob).into_response();
    }
    next.run(req.map(|b| Body::new(TimedBody::new(b, timeout, upload)))).await
}

/// The 413 for a body over its limit.
pub fn too_large(len: u64, limit: u64, knob: &str) -> RestError {
    RestError::Rejected(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "request body is {len} bytes, over the limit of {limit} bytes ({knob}); send less per request"
        ),
    )
}

/// Reads and discards the rest of a refused body, at most `cap` bytes more. The time is bounded
/// by the [`TimedBody`] under it (or, for a body refused before it was wrapped, by `timeout`
/// in [`guard`]); past either bound the connection is closed with the rest unread.
pub async fn drain<S, E>(mut stream: S, cap: u64)
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
{
    use futures_util::StreamExt;
    let mut read = 0u64;
    while let Some(Ok(chunk)) = stream.next().await {
        read += chunk.len() as u64;
        if read > cap {
            break;
        }
    }
}
