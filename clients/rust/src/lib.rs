//! grove-client: async Rust client for Grove over gRPC (`grove.v1`, tonic).
//!
//! [`GroveClient`] covers collections, payload indexes, upsert, get, delete, query (with
//! filters, forced strategies and the planner's explain record), streaming batch query, scroll,
//! count and snapshots. Filters can be built from the generated [`pb`] types or written as the
//! same Qdrant-shaped JSON the REST API and the Python client take ([`filter_from_json`]).
//! Errors carry the server's message and gRPC code ([`ClientError`]).
//!
//! See `examples/quickstart.rs` for a complete program (`cargo run -p grove-client --example
//! quickstart` against a running `grove serve`).

mod client;
mod convert;
mod error;

pub use client::{ApiKey, ClientConfig, GroveClient, Hit, Point, Query, QueryResult, Record};
pub use convert::{
    filter_from_json, id_from_json, json_to_value, payload_from_pb, payload_to_pb, value_to_json, PointId,
};
pub use error::{ClientError, Result};
/// The generated grove.v1 messages and enums (`pb::Distance`, `pb::Filter`, `pb::Explain`, ...).
pub use grove_proto::v1 as pb;
