//! The engine's error enum.

use std::path::PathBuf;

/// Everything that can go wrong inside grove-index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A vector's length differs from the index dimension.
    #[error("vector has {got} dimensions, the index expects {expected}")]
    DimensionMismatch {
        /// The index dimension.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A vector has a NaN or infinite component.
    #[error("vector component {index} is not a finite number")]
    NonFinite {
        /// Position of the first bad component.
        index: usize,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter's name (the paper's symbol where there is one).
        name: &'static str,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// The requested search path cannot serve this query (e.g. no graph was built).
    #[error("search path {path} is not available: {reason}")]
    PathUnavailable {
        /// The path asked for.
        path: &'static str,
        /// Why it cannot run.
        reason: String,
    },
    /// The caller's stop signal fired (deadline passed or cancelled) before the work finished;
    /// no partial result is returned.
    #[error("search stopped: {cause}")]
    Stopped {
        /// Deadline or cancellation.
        cause: crate::stop::StopCause,
    },
    /// An index file could not be read or written.
    #[error("index file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An index file is not one this version can load (wrong magic, version, checksum or shape).
    #[error("index file {path} cannot be loaded: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What did not match.
        reason: String,
    },
}

/// Result alias of the engine.
pub type Result<T> = std::result::Result<T, IndexError>;

/// Checks a vector's length and that every component is finite.
pub fn validate_vector(v: &[f32], dim: usize) -> Result<()> {
    if v.len() != dim {
        return Err(IndexError::DimensionMismatch { expected: dim, got: v.len() });
    }
    if let Some(index) = v.iter().position(|x| !x.is_finite()) {
        return Err(IndexError::NonFinite { index });
    }
    Ok(())
}
