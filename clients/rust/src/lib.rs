//! grove-client: Rust client for Grove.
