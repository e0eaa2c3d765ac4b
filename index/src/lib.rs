//! grove-index: the search engine of Grove.
//!
//! Pure compute: no RocksDB, no HTTP, no async. The storage layer owns durability and hands this
//! crate vectors (by dense internal id `u32`), filters (as roaring bitmaps of allowed ids) and
//! deletions; it talks to one object per collection, [`CollectionIndex`].
//!
//! Parts:
//! - [`collection`]: [`CollectionIndex`], vectors + tombstones + registered indexes + planner
//!   behind `&self` methods, safe to search while points are inserted and indexed.
//! - [`registry`]: the index interface ([`registry::VectorIndex`]) and the registry that owns
//!   what every index kind shares (pending sets, draining, the unindexed tail, files, stats).
//! - [`planner`]: picks exact / filtered HNSW / ACORN per query from the filter's exact
//!   cardinality and says why ([`Explain`]).
//! - [`flat`]: exact top-k over all rows or a bitmap of allowed ids (the oracle, and the
//!   fastest path for narrow filters).
//! - [`graph`]: Grove's HNSW graph with ACORN-1 and ACORN-gamma filtered search.
//! - [`distance`]: the metric kernels (simsimd), with an f64 scalar reference.
//! - [`store`]: the contiguous vector arena.
//! - [`source`]: [`source::Scorer`], a query bound to a vector source (full rows or codes); the
//!   graph walks and the exact scan are generic over it.
//! - [`quant`]: int8 and binary codes, their kernels, and the query-time knobs; walks and scans
//!   over codes are rescored with the full vectors.
//! - [`topk`], [`idset`]: candidate ordering and dense id sets for hot loops.
//! - [`explain`]: strategies, paths and the Explain record.
//! - [`matryoshka`]: prefix stores (f32/f16/int8), prefix graphs, funnel search with
//!   full-dimension rescoring, PCA rotation, calibration.
//! - [`sparse`]: sparse vectors, an inverted index with exact dot-product top-k (filters,
//!   idf).
//! - [`multivec`]: multi-vectors (late interaction): the MaxSim kernel, MUVERA fixed-dimensional
//!   encodings as candidates from an ordinary dense index, exact MaxSim rescoring.
//! - [`diagnostics`]: LIMIT-style analysis of which top-k sets an embedding can return.
//! - [`fusion`]: RRF and DBSF fusion of ranked lists (hybrid queries), Qdrant's definitions.
//!
//! ```
//! use grove_index::{CollectionIndex, IndexConfig, Metric, SearchParams, SearchPath};
//! use roaring::RoaringBitmap;
//!
//! let index = CollectionIndex::new(IndexConfig::new(2, Metric::Cosine))?;
//! for i in 0..1000u32 {
//!     let angle = i as f32 / 1000.0 * std::f32::consts::PI;
//!     index.insert(i, &[angle.cos(), angle.sin()])?;
//! }
//! index.build(); // or index_pending(n) from a background worker
//! index.delete(500);
//!
//! let query = [0.0, 1.0]; // angle pi/2: nearest ids are around 500
//! let out = index.search(&query, None, &SearchParams { k: 3, ..Default::default() })?;
//! assert!(out.hits.iter().all(|h| h.id != 500 && (495..=505).contains(&h.id)));
//!
//! // Only even ids: 500 points of 999 live.
//! let evens: RoaringBitmap = (0..1000).step_by(2).collect();
//! let out = index.search(&query, Some(&evens), &SearchParams { k: 3, ..Default::default() })?;
//! assert!(out.hits.iter().all(|h| h.id % 2 == 0 && h.id != 500));
//! assert_eq!(out.explain.allowed_points, 499);
//! assert_eq!(out.explain.path, SearchPath::Exact); // 499 <= exact_max_points
//! # Ok::<(), grove_index::IndexError>(())
//! ```

pub mod collection;
pub mod diagnostics;
pub mod distance;
pub mod error;
pub mod explain;
pub mod flat;
pub mod fusion;
pub mod graph;
pub mod idset;
pub mod matryoshka;
pub mod multivec;
pub mod planner;
pub mod quant;
pub mod registry;
pub mod source;
pub mod sparse;
pub mod stop;
pub mod store;
pub mod topk;

pub use collection::{CollectionIndex, IndexConfig, IndexStats, LoadReport, SearchOutput, SearchParams};
pub use distance::Metric;
pub use error::{IndexError, Result};
pub use explain::{Explain, SearchPath, Strategy};
pub use graph::{Graph, GraphFilter, GraphParams, Probe, SearchStats};
pub use idset::DenseIdSet;
pub use matryoshka::{MatryoshkaConfig, MatryoshkaQuery};
pub use planner::PlannerConfig;
pub use stop::{Stop, StopCause};
pub use store::VectorStore;
pub use topk::{Neighbor, TopK};
