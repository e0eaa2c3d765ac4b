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
//! ```
//! use grove_proto::v1::{point_id, PointId};
//! let id = PointId { kind: Some(point_id::Kind::Num(7)) };
//! assert_eq!(id.kind, Some(point_id::Kind::Num(7)));
//! ```

/// Package `grove.v1`: messages, `*_client` and `*_server` modules.
pub mod v1 {
    tonic::include_proto!("grove.v1");
}
