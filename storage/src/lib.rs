//! grove-storage: durable collections on RocksDB.
//!
//! [`Storage`] is the entry point the server uses: one per data dir, all methods synchronous and
//! `&self` (call them from a blocking pool). It owns named collections; each collection keeps
//! its points (external id, vector, JSON payload) and payload indexes durably in one RocksDB
//! database, and its vectors in memory in the engine's `CollectionIndex` for search.
//!
//! Contracts:
//! - A write (upsert, delete, payload change, index creation) is validated completely before
//!   anything is written, then committed as ONE atomic batch whose WAL is synced before the call
//!   returns: an acknowledged write survives `kill -9`; a failed one leaves no trace.
//! - Writes to one collection are serialised by a per-collection lock; reads run concurrently
//!   with writes and see each batch entirely or not at all.
//! - Filters ([`filter::Filter`]) compile to a roaring bitmap of internal ids with the exact
//!   cardinality; fields without an index are answered by scanning payloads, and the explain
//!   says which.
//! - Dropping a `Storage` flushes, saves graphs and stops background threads.
//!
//! The same collection logic runs over RocksDB ([`Storage::open`]) or an in-memory key-value map
//! ([`Storage::in_memory`], for fast tests): see [`kv::KvBackend`].
//!
//! ```
//! use grove_storage::{Storage, CollectionConfig, PointStruct, PointId, QueryRequest};
//! use grove_index::Metric;
//! let storage = Storage::in_memory();
//! storage.create_collection("docs", CollectionConfig::new(3, Metric::Cosine))?;
//! let payload = serde_json::json!({"lang": "en"}).as_object().cloned();
//! storage.upsert("docs", vec![PointStruct { id: PointId::Num(1), vector: vec![1.0, 0.0, 0.0], payload }])?;
//! let hits = storage.query("docs", &QueryRequest::new(vec![1.0, 0.1, 0.0], 1))?;
//! assert_eq!(hits.points[0].id, PointId::Num(1));
//! # Ok::<(), grove_storage::StorageError>(())
//! ```

pub mod api;
mod collection;
pub mod diagnostics;
pub mod error;
pub mod filter;
pub mod kv;
mod payload_index;
pub mod payload_select;
pub mod quantization;
mod record;
mod snapshot;
pub mod sparse;
mod storage;
pub mod text_index;

pub use api::*;
pub use collection::{MAX_VECTORS, MAX_VECTOR_NAME, MAX_VECTOR_NORM};
pub use error::{ErrorKind, Result, StorageError};
pub use filter::{
    Condition, FieldCondition, Filter, GeoBoundingBox, GeoLineString, GeoPoint, GeoPolygon, GeoRadius, Match,
    MatchValue, Range, RangeBound, ValuesCount,
};
pub use grove_index::sparse::{Modifier as SparseModifier, SparseVector};
pub use sparse::{SparseIndexParams, SparseVectorConfig, SparseVectors};
pub use storage::{rfc3339_now, AliasAction, Storage, StorageOptions};
