//! Compiles proto/grove/v1/*.proto and proto/qdrant/*.proto with protox (a pure-Rust protobuf compiler, so building
//! Grove never needs a `protoc` install) and generates prost messages plus tonic clients and
//! servers with tonic-prost-build. The generated code lives in OUT_DIR and is never committed,
//! so it cannot drift from the .proto sources.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from("proto");
    let grove = ["common", "collections", "points", "snapshots", "health", "diagnostics"]
        .map(|name| root.join("grove/v1").join(format!("{name}.proto")));
    // Qdrant's API (package qdrant), served beside grove.v1 for qdrant-client's gRPC mode.
    let qdrant = [
        "json_with_int",
        "qdrant_common",
        "collections",
        "collections_service",
        "points",
        "points_service",
        "snapshots_service",
        "qdrant",
    ]
    .map(|name| root.join("qdrant").join(format!("{name}.proto")));
    let files: Vec<PathBuf> = grove.into_iter().chain(qdrant).collect();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let descriptors = protox::compile(&files, [&root])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // A field condition is much larger than the other condition kinds; boxing it keeps
        // every `Condition` small (clippy::large_enum_variant).
        .boxed(".grove.v1.Condition.kind.field")
        .boxed(".qdrant.Condition.condition_one_of.field")
        .compile_fds(descriptors)?;
    Ok(())
}
