//! grove-bench: Grove's benchmark on real embeddings with real metadata, modelled on the FANNS
//! benchmark (Iff et al. 2025): filtered queries of three kinds (EM, R, EMIS) plus Grove's
//! harder ones, recall@10 against exact ground truth, single-thread QPS, per selectivity bucket.
//!
//! - [`data`]: loaders (arXiv f16 + JSONL, FANNS `.fvecs`/`.ivecs` + JSONL, `.npy`/`.fvecs` pairs).
//! - [`payload`]: roaring bitmaps per attribute value, in the bench itself.
//! - [`workload`]: seeded filter generation, selectivity buckets.
//! - [`truth`]: brute-force ground truth and its disk cache.
//! - [`matryoshka`]: Matryoshka prefix search against full-dimension exact scan and HNSW.
//! - [`measure`]: the single-thread measuring loop over a [`measure::Searcher`].
//! - [`hnswrs`]: the hnsw_rs crate with Grove's kernels, a baseline measured beside Grove.
//! - [`pyrun`]: the peers (hnswlib, faiss, usearch, qdrant-edge) run from Python on the same
//!   workloads; [`report`] and [`plots`]: tables, CSV/JSON and PNG figures.
//! - [`server_mode`], [`load`], [`remote`]: the same workloads through a running `grove serve`
//!   (gRPC and REST), a multi-client load generator and its comparison with in-process search.

pub mod data;
pub mod engine;
pub mod hnswrs;
pub mod limit;
pub mod load;
pub mod matryoshka;
pub mod measure;
pub mod payload;
pub mod peers;
pub mod plots;
pub mod pyrun;
pub mod remote;
pub mod report;
pub mod run;
pub mod server_mode;
pub mod truth;
pub mod workload;
