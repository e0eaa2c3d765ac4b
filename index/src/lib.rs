//! grove-index: the search engine of Grove.
//!
//! Pure compute: no RocksDB, no HTTP, no async. The storage layer owns durability and hands this
//! crate vectors (by dense internal id `u32`), filters (as roaring bitmaps of allowed ids) and
//! tombstones (a roaring bitmap of deleted ids).
//!
//! Parts:
//! - [`distance`]: the metric kernels (simsimd), with an f64 scalar reference.
//! - [`store`]: the contiguous vector arena.
//! - [`topk`], [`idset`]: candidate ordering and dense id sets for hot loops.
//! - [`explain`]: strategies, paths and the Explain record.
//!
//! ```
//! use grove_index::{Metric, VectorStore};
//! let mut store = VectorStore::new(3);
//! let mut v = [3.0, 0.0, 4.0];
//! Metric::Cosine.prepare(&mut v);
//! let id = store.push(&v);
//! assert!(Metric::Cosine.distance(store.get(id), &v).abs() < 1e-6);
//! ```

pub mod collection;
pub mod diagnostics;
pub mod distance;
pub mod error;
pub mod explain;
pub mod flat;
pub mod graph;
pub mod hnswrs;
pub mod idset;
pub mod planner;
pub mod store;
pub mod topk;

pub use collection::{CollectionIndex, IndexConfig, IndexStats, LoadReport, SearchOutput, SearchParams};
pub use distance::Metric;
pub use error::{IndexError, Result};
pub use explain::{Explain, SearchPath, Strategy};
pub use graph::{Graph, GraphFilter, GraphParams, SearchStats};
pub use idset::DenseIdSet;
pub use planner::PlannerConfig;
pub use store::VectorStore;
pub use topk::{Neighbor, TopK};
