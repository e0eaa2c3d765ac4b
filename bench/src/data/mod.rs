//! Datasets: base vectors, query vectors and one attribute record per base vector.
//!
//! Three sources load into the same [`Dataset`]:
//! - [`arxiv`]: Grove's arXiv set (float16 rows, gzip JSONL papers);
//! - [`fanns`]: a directory in the public FANNS layout (`.fvecs`/`.ivecs` + JSONL), with the
//!   benchmark's own EM / R / EMIS queries and ground truth;
//! - [`pair`]: any `.fvecs`/`.npy` vector file with a JSONL attribute file.
//!
//! Every loader checks shapes (row lengths, row counts of vectors against attribute lines,
//! query dimension against base dimension) and says which file is wrong and how.

pub mod arxiv;
pub mod f16;
pub mod fanns;
pub mod npy;
pub mod pair;
pub mod record;
pub mod vecs;

use std::path::{Path, PathBuf};

use grove_index::Metric;

pub use record::Record;

use crate::workload::Filter;

/// What can go wrong while loading a dataset. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file's bytes do not follow its format.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the numbers.
        reason: String,
    },
    /// Two files that must agree do not (row counts, dimensions).
    #[error("{a} and {b} disagree: {reason}")]
    Mismatch {
        /// One file.
        a: PathBuf,
        /// The other.
        b: PathBuf,
        /// What differs, with both numbers.
        reason: String,
    },
    /// A JSONL line is not the JSON we expect.
    #[error("{path} line {line}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parser's message.
        source: serde_json::Error,
    },
    /// A required file is absent.
    #[error("{path} is missing ({hint})")]
    Missing {
        /// The path looked for.
        path: PathBuf,
        /// What the file should hold.
        hint: &'static str,
    },
}

/// Result alias of the data layer.
pub type Result<T> = std::result::Result<T, DataError>;

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io { path: path.to_path_buf(), source }
}

pub(crate) fn format_err(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::Format { path: path.to_path_buf(), reason: reason.into() }
}

/// Row-major f32 matrix: `len() * dim` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Vectors {
    /// Values per row.
    pub dim: usize,
    /// `len() * dim` values, row `i` at `[i*dim, (i+1)*dim)`.
    pub data: Vec<f32>,
}

impl Vectors {
    /// Wraps row-major data; `data.len()` must be a multiple of `dim`.
    pub fn new(dim: usize, data: Vec<f32>) -> Self {
        debug_assert!(dim > 0 && data.len().is_multiple_of(dim));
        Self { dim, data }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Keeps the first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        self.data.truncate(n * self.dim);
    }

    /// Brings every row into `metric`'s stored form (normalises for cosine), as the engine does
    /// on insert, so that the brute-force ground truth ranks exactly what the engine ranks.
    pub fn prepare(&mut self, metric: Metric) {
        if self.dim > 0 {
            self.data.chunks_exact_mut(self.dim).for_each(|r| metric.prepare(r));
        }
    }
}

/// A workload that ships with the data (the FANNS EM / R / EMIS queries), with its ground truth.
#[derive(Debug, Clone)]
pub struct ProvidedWorkload {
    /// Short name (`em`, `r`, `emis`).
    pub name: String,
    /// One filter per query (query `i` is row `i` of the query vectors).
    pub filters: Vec<Filter>,
    /// Exact neighbours per query as shipped, best first (rows may be shorter than k).
    pub truth: Vec<Vec<u32>>,
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Name used in reports and cache keys.
    pub name: String,
    /// Similarity the vectors are compared by.
    pub metric: Metric,
    /// Base vectors; row `i` is point `i`.
    pub base: Vectors,
    /// Query vectors.
    pub queries: Vectors,
    /// One record per base row.
    pub records: Vec<Record>,
    /// Workloads shipped with the data (empty unless the source has them).
    pub provided: Vec<ProvidedWorkload>,
}

impl Dataset {
    /// Checks the invariants every loader promises (used by the loaders and the tests).
    pub fn validate(&self, base_path: &Path, other_path: &Path) -> Result<()> {
        if self.base.len() != self.records.len() {
            return Err(DataError::Mismatch {
                a: base_path.to_path_buf(),
                b: other_path.to_path_buf(),
                reason: format!(
                    "{} vectors but {} attribute records (one record per vector expected)",
                    self.base.len(),
                    self.records.len()
                ),
            });
        }
        if !self.queries.is_empty() && self.queries.dim != self.base.dim {
            return Err(DataError::Mismatch {
                a: base_path.to_path_buf(),
                b: other_path.to_path_buf(),
                reason: format!(
                    "base vectors have dimension {} but queries have {}",
                    self.base.dim, self.queries.dim
                ),
            });
        }
        Ok(())
    }

    /// Keeps the first `n` base points (and their records) and the first `nq` queries; shipped
    /// workloads are dropped since their ground truth no longer holds.
    pub fn slice(&mut self, n: usize, nq: usize) {
        if n < self.base.len() {
            self.base.truncate(n);
            self.records.truncate(n);
            self.provided.clear();
        }
        if nq < self.queries.len() {
            self.queries.truncate(nq);
            for w in &mut self.provided {
                w.filters.truncate(nq);
                w.truth.truncate(nq);
            }
        }
    }
}
