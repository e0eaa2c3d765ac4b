//! grove-server: the `grove` binary's library.
//!
//! REST (axum, Qdrant-shaped) and gRPC (tonic: `grove.v1`, and Qdrant's `qdrant` package in
//! [`qdrant_grpc`]) are thin layers over one service
//! layer ([`service::Service`]); only the service touches storage. Configuration is layered and
//! documented in [`config`]; errors are mapped to HTTP in [`rest::error`] and to gRPC in
//! [`grpc::error`], once each.
//!
//! ```
//! use grove_server::config::Config;
//! let config = Config::load(None, Vec::new(), &[]).expect("defaults are valid");
//! assert_eq!(config.service.http_port, 6333);
//! ```

pub mod api;
pub mod api_compat;
pub mod api_query;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod diagnostics;
pub mod grpc;
pub mod metrics;
pub mod operations;
pub mod qdrant_grpc;
pub mod rest;
pub mod service;
pub mod tls;
