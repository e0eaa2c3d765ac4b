//! The storage layer's one error enum, and the coarse kind the server maps to a status code.

use std::path::PathBuf;

/// What class of failure an error is. The server maps each kind to exactly one HTTP status and
/// one gRPC code (404 / 400 / 409 / 500), in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The named collection (or snapshot) does not exist: 404 / NOT_FOUND.
    NotFound,
    /// The request is malformed or violates a limit; the message says what to change:
    /// 400 / INVALID_ARGUMENT.
    InvalidArgument,
    /// The request conflicts with existing state (collection or index already exists):
    /// 409 / ALREADY_EXISTS.
    Conflict,
    /// A bug or an environment failure (disk, corrupt data): 500 / INTERNAL. Log it, do not
    /// show the message to clients.
    Internal,
    /// The caller's stop signal (request deadline or cancel flag) ended the work before it
    /// finished: 504 / DEADLINE_EXCEEDED.
    Stopped,
}

/// Everything that can go wrong inside grove-storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No collection of that name.
    #[error("collection `{name}` does not exist; create it first or check the name")]
    CollectionNotFound {
        /// The name asked for.
        name: String,
    },
    /// A collection of that name exists already.
    #[error("collection `{name}` already exists; delete it first or pick another name")]
    CollectionExists {
        /// The name asked for.
        name: String,
    },
    /// A payload index on that field exists already with another type.
    #[error("field `{field}` is already indexed as {existing}; delete that index before creating one of type {requested}")]
    IndexExists {
        /// The field.
        field: String,
        /// Its current index type.
        existing: String,
        /// The type asked for.
        requested: String,
    },
    /// No alias of that name.
    #[error("alias `{name}` does not exist; list the aliases to see the names")]
    AliasNotFound {
        /// The name asked for.
        name: String,
    },
    /// No snapshot of that name.
    #[error("snapshot `{name}` does not exist; list the snapshots to see the names")]
    SnapshotNotFound {
        /// The name asked for.
        name: String,
    },
    /// A request names a vector the collection does not declare.
    #[error("the collection has no vector named {name:?}; its vectors are: {known}")]
    UnknownVector {
        /// The name asked for.
        name: String,
        /// The declared names, quoted and comma-separated.
        known: String,
    },
    /// A point addressed by id does not exist (updating one vector of a point).
    #[error("no point with id {id} exists in this collection")]
    PointNotFound {
        /// The id (display form).
        id: String,
    },
    /// A snapshot archive is damaged, truncated or not an archive.
    #[error("invalid snapshot archive: {0}")]
    InvalidSnapshot(String),
    /// A snapshot cannot replace the existing collection (different dimension or metric).
    #[error("snapshot conflicts with collection `{name}`: {reason}")]
    SnapshotConflict {
        /// The target collection.
        name: String,
        /// What differs and what to do.
        reason: String,
    },
    /// A collection or field name is not acceptable.
    #[error("invalid name `{name}`: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A point's vector has the wrong number of dimensions.
    #[error("point {point}: vector has {got} dimensions, the collection expects {expected}")]
    DimensionMismatch {
        /// The point's external id (display form), or "query".
        point: String,
        /// The collection's dimension.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A point's vector has a NaN or infinite component.
    #[error("point {point}: vector component {index} is not a finite number (NaN or infinity)")]
    NonFiniteVector {
        /// The point's external id (display form), or "query".
        point: String,
        /// Position of the first bad component.
        index: usize,
    },
    /// A finite vector so long that a distance to it could overflow f32 (and score `null`).
    #[error("point {point}: vector norm {norm:.3e} is too large: distances to it would overflow; the norm must be at most {max:.3e} (normalise or rescale the vector)")]
    VectorTooLarge {
        /// The point's external id (display form), or "query".
        point: String,
        /// The vector's Euclidean norm.
        norm: f64,
        /// The largest norm accepted ([`crate::MAX_VECTOR_NORM`]).
        max: f64,
    },
    /// A payload is larger than the configured limit.
    #[error("point {point}: payload is {bytes} bytes serialised, the limit is {limit}; store large data elsewhere and keep a reference")]
    PayloadTooLarge {
        /// The point's external id.
        point: String,
        /// Serialised size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A payload value does not fit the type of the field's index.
    #[error("point {point}: field `{field}` is indexed as {expected}, but holds {got}; send a {expected} (or an array of them) or delete the index")]
    PayloadType {
        /// The point's external id.
        point: String,
        /// The indexed field.
        field: String,
        /// The index type.
        expected: String,
        /// A short description of the value found.
        got: String,
    },
    /// A filter is not well formed (bad datetime, empty condition, conflicting clauses).
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// Any other invalid request parameter.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// RocksDB failed.
    #[error("database error: {0}")]
    Db(#[from] rocksdb::Error),
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Stored data could not be decoded: a bug or a damaged data dir.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The engine failed.
    #[error("index error: {0}")]
    Index(#[from] grove_index::IndexError),
}

impl StorageError {
    /// The coarse class the server maps to a status code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StorageError::CollectionNotFound { .. }
            | StorageError::SnapshotNotFound { .. }
            | StorageError::AliasNotFound { .. }
            | StorageError::PointNotFound { .. } => ErrorKind::NotFound,
            StorageError::CollectionExists { .. }
            | StorageError::IndexExists { .. }
            | StorageError::SnapshotConflict { .. } => ErrorKind::Conflict,
            StorageError::InvalidName { .. }
            | StorageError::UnknownVector { .. }
            | StorageError::DimensionMismatch { .. }
            | StorageError::NonFiniteVector { .. }
            | StorageError::VectorTooLarge { .. }
            | StorageError::PayloadTooLarge { .. }
            | StorageError::PayloadType { .. }
            | StorageError::InvalidFilter(_)
            | StorageError::InvalidSnapshot(_)
            | StorageError::InvalidRequest(_) => ErrorKind::InvalidArgument,
            StorageError::Db(_) | StorageError::Io { .. } | StorageError::Corrupt(_) => ErrorKind::Internal,
            StorageError::Index(e) => match e {
                grove_index::IndexError::DimensionMismatch { .. }
                | grove_index::IndexError::NonFinite { .. }
                | grove_index::IndexError::InvalidParameter { .. }
                | grove_index::IndexError::PathUnavailable { .. } => ErrorKind::InvalidArgument,
                grove_index::IndexError::Io { .. } | grove_index::IndexError::Format { .. } => {
                    ErrorKind::Internal
                }
                grove_index::IndexError::Stopped { .. } => ErrorKind::Stopped,
            },
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io { path: path.into(), source }
    }
}

/// Result alias of the storage layer.
pub type Result<T> = std::result::Result<T, StorageError>;
