//! The client's one error type.

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The endpoint URI is malformed or the connection could not be set up.
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// The endpoint that was tried.
        endpoint: String,
        /// What went wrong.
        #[source]
        source: tonic::transport::Error,
    },
    /// The API key contains characters that cannot go into gRPC metadata.
    #[error("API key is not valid ASCII metadata")]
    InvalidApiKey,
    /// The server answered with an error status; `message` is the server's own text.
    #[error("{message} ({code:?})")]
    Server {
        /// gRPC status code (`NotFound`, `InvalidArgument`, `AlreadyExists`, ...).
        code: tonic::Code,
        /// The server's message, which says what to fix.
        message: String,
    },
    /// The request was rejected before it was sent (bad filter JSON, wrong shapes).
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl ClientError {
    /// The gRPC code when the server reported the error.
    pub fn code(&self) -> Option<tonic::Code> {
        match self {
            ClientError::Server { code, .. } => Some(*code),
            ClientError::Connect { .. } | ClientError::InvalidApiKey | ClientError::Invalid(_) => None,
        }
    }

    /// Whether the server said the collection or point does not exist.
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(tonic::Code::NotFound)
    }
}

impl From<tonic::Status> for ClientError {
    fn from(s: tonic::Status) -> Self {
        ClientError::Server { code: s.code(), message: s.message().to_owned() }
    }
}

/// Result alias of this crate.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
