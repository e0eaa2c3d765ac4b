//! grove-proto: Grove's gRPC contract (package `grove.v1`) and the code generated from it.
//!
//! The `.proto` sources are in `proto/grove/v1/`; `build.rs` compiles them with protox (no
//! `protoc` needed) into prost messages and tonic clients/servers. The services:
//!
//! - `Collections`: create / get / list / delete collections, create / delete payload indexes.
//! - `Points`: upsert, get, delete, payload edits, query, streaming batch query, scroll, count.
//! - `Snapshots`: create and list collection snapshots.
//! - `Health`: version and readiness.
//!
//! Package `qdrant` ([`qdrant`], sources in `proto/qdrant/`) is Qdrant's own API, so
//! qdrant-client's gRPC mode works against Grove.
//!
//! ```
//! use grove_proto::v1::{point_id, PointId};
//! let id = PointId { kind: Some(point_id::Kind::Num(7)) };
//! assert_eq!(id.kind, Some(point_id::Kind::Num(7)));
//! ```

/// Package `qdrant`: Qdrant's gRPC API (`Collections`, `Points`, `Snapshots`, `Qdrant`), the
/// subset Grove serves, written from Qdrant's public API documentation with Qdrant's package,
/// names and field numbers so qdrant-client's `prefer_grpc=True` talks to Grove unchanged.
pub mod qdrant {
    tonic::include_proto!("qdrant");
}

/// The protobuf well-known types the `qdrant` package uses (timestamps).
pub use prost_types;

/// Package `grove.v1`: messages, `*_client` and `*_server` modules.
pub mod v1 {
    tonic::include_proto!("grove.v1");
}
