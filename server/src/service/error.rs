//! The service layer's one error enum, and the one place where storage errors are classified.
//!
//! Transports map [`ServiceError`] to their own codes in exactly one place each:
//! `rest::error` (HTTP status + Qdrant's error body) and `grpc::error` (`tonic::Status`).

/// Everything a request can fail with, classified by whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is malformed or asks for something impossible; the message says what to fix.
    #[error("{0}")]
    InvalidArgument(String),
    /// A well-formed value outside its documented range (Qdrant's 422, e.g. `shard_number: 0`).
    #[error("{0}")]
    Unprocessable(String),
    /// The collection (or other named object) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The object to create already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// No or wrong API key.
    #[error("{0}")]
    Unauthenticated(String),
    /// The key is valid but does not allow this operation.
    #[error("{0}")]
    PermissionDenied(String),
    /// The request exceeds a configured limit.
    #[error("{0}")]
    LimitExceeded(String),
    /// The server is starting, shutting down or overloaded; retry later.
    #[error("{0}")]
    Unavailable(String),
    /// The engine's stop signal ended the work (the request's deadline passed or it was
    /// cancelled); [`super::Service`] reports it as [`ServiceError::Timeout`] where it knows the
    /// timeout.
    #[error("{0}")]
    Stopped(String),
    /// The request ran longer than `service.request_timeout_secs`.
    #[error("request timed out after {0} s")]
    Timeout(u64),
    /// A bug or an environment failure (disk, corruption). The detail is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

/// Result alias of the service layer.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// Shorthand for [`ServiceError::InvalidArgument`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        ServiceError::InvalidArgument(msg.into())
    }

    /// Shorthand for a missing collection.
    pub fn no_collection(name: &str) -> Self {
        ServiceError::NotFound(format!("Collection `{name}` doesn't exist"))
    }

    /// Logs an internal error's detail with the request context and returns it.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let detail = detail.to_string();
        tracing::error!(error = %detail, "internal error");
        ServiceError::Internal(detail)
    }
}

/// The one place where storage failures are classified for clients.
impl From<grove_storage::StorageError> for ServiceError {
    fn from(e: grove_storage::StorageError) -> Self {
        use grove_storage::ErrorKind;
        match e.kind() {
            ErrorKind::NotFound => ServiceError::NotFound(e.to_string()),
            ErrorKind::InvalidArgument => ServiceError::InvalidArgument(e.to_string()),
            ErrorKind::Conflict => ServiceError::AlreadyExists(e.to_string()),
            ErrorKind::Internal => ServiceError::internal(e),
            ErrorKind::Stopped => ServiceError::Stopped(e.to_string()),
        }
    }
}
