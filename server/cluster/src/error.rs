//! The layer's one error enum. The server maps [`ErrorKind`] to HTTP / gRPC codes in one place.

use crate::meta::NodeId;

/// How a client should read a [`ClusterError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404 / NOT_FOUND.
    NotFound,
    /// 400 / INVALID_ARGUMENT: the message says what to change.
    InvalidArgument,
    /// 409 / ALREADY_EXISTS.
    Conflict,
    /// 503 / UNAVAILABLE: not enough replicas or no leader now; retrying may succeed.
    Unavailable,
    /// 500 / INTERNAL: a bug or an environment failure; logged, not shown.
    Internal,
}

/// Everything that can go wrong in grove-cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No such collection in the cluster.
    #[error("collection `{0}` does not exist in the cluster")]
    CollectionNotFound(String),
    /// The request is invalid; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// The collection exists already (with another config).
    #[error("{0}")]
    Conflict(String),
    /// Fewer replicas than the write consistency factor took the write: it is not acknowledged
    /// (it may be present on some replicas).
    #[error("shard {shard} of `{collection}`: {acked} replica(s) took the write, {needed} needed; retry when the replicas are back")]
    NotEnoughReplicas {
        /// Collection.
        collection: String,
        /// Shard.
        shard: u32,
        /// Replicas that have it.
        acked: usize,
        /// The write consistency factor.
        needed: usize,
    },
    /// A shard has no replica able to answer a read.
    #[error("shard {shard} of `{collection}` has no reachable active replica")]
    ShardUnavailable {
        /// Collection.
        collection: String,
        /// Shard.
        shard: u32,
    },
    /// No leader could be reached in time (election in progress, or this node is cut off).
    #[error("no Raft leader reachable within {0:?}; the cluster may be electing one, retry")]
    NoLeader(std::time::Duration),
    /// Replica states changed while a write was in flight; it is not acknowledged.
    #[error("{0}; the write is not acknowledged, retry it")]
    Retry(String),
    /// The write met a shard whose replica set grew after this node planned it; nothing of
    /// that shard was written. Retried internally; surfaces only if it keeps happening.
    #[error("{0}; retry the write")]
    StaleView(String),
    /// Node `{0}` is not part of the cluster.
    #[error("node {0} is not a member of the cluster")]
    UnknownNode(NodeId),
    /// Local storage failed.
    #[error(transparent)]
    Storage(#[from] grove_storage::StorageError),
    /// Raft failed (storage error or shut down).
    #[error("raft: {0}")]
    Raft(String),
}

impl ClusterError {
    /// The client-facing class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClusterError::CollectionNotFound(_) | ClusterError::UnknownNode(_) => ErrorKind::NotFound,
            ClusterError::Invalid(_) => ErrorKind::InvalidArgument,
            ClusterError::Conflict(_) => ErrorKind::Conflict,
            ClusterError::NotEnoughReplicas { .. }
            | ClusterError::ShardUnavailable { .. }
            | ClusterError::NoLeader(_)
            | ClusterError::Retry(_)
            | ClusterError::StaleView(_) => ErrorKind::Unavailable,
            ClusterError::Storage(e) => match e.kind() {
                grove_storage::ErrorKind::NotFound => ErrorKind::NotFound,
                grove_storage::ErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
                grove_storage::ErrorKind::Conflict => ErrorKind::Conflict,
                grove_storage::ErrorKind::Internal | grove_storage::ErrorKind::Stopped => ErrorKind::Internal,
            },
            ClusterError::Raft(_) => ErrorKind::Internal,
        }
    }
}

/// The layer's result type.
pub type Result<T, E = ClusterError> = std::result::Result<T, E>;
