//! LIMIT-style diagnostics: can single-vector retrieval return the relevant sets a workload asks for?
//!
//! Weller et al. (2025, arXiv 2508.21038, "On the Theoretical Limitations of Embedding-Based
//! Retrieval") show that the number of distinct top-k subsets a single query vector can return is
//! bounded by the embedding dimension, and build LIMIT, a simple text task ("Who likes X?") that
//! defeats strong embedders. Wang et al. (arXiv 2601.20844) answer that in exact geometry every
//! subset of at most k items is returnable in 2k dimensions (2k+1 for cosine), so the empirical
//! curve measures what *optimisation* reaches, not hard capacity. What a user needs is therefore a
//! measurement on *their* vectors, which this module provides:
//!
//! - [`subset`]: for queries with relevant id sets, recall@k by exact scan and through the index
//!   (the difference is index loss), and for every missed relevant set whether *any* single query
//!   vector could return it — decided by a convex-hull separation check ([`hull`]) confirmed by a
//!   full scan. Each query is labelled hit / index miss / encoder gap / geometry gap / fragile /
//!   undetermined.
//! - [`capacity`]: the free-embedding probe — optimise query and document vectors directly on the
//!   qrels and search the largest n whose every k-subset is realised (critical-n).
//! - [`bounds`]: the published reference values (the paper's fit, the 2k / 2k+1 exact bound), each
//!   labelled for what it is.
//! - [`limit_data`]: a LIMIT-style data generator (text as JSONL lines, and bag-of-attributes
//!   vector sets whose expected recall is known by construction).
//!
//! Everything is pure compute: no I/O, no async. Long runs take a time budget ([`Budget`]) and a
//! progress callback; running out of budget yields "undetermined", never a guess.

pub mod bounds;
pub mod capacity;
pub mod hull;
pub mod limit_data;
pub mod subset;

/// A cancellation flag (see [`crate::stop::CancelFlag`]).
pub use crate::stop::CancelFlag;

/// The wall-clock budget shared by the threads of one diagnostic run, optionally with a
/// cancellation flag: the engine's one stop signal, [`crate::stop::Stop`].
///
/// Why a deadline rather than a step count: the diagnostics run next to live traffic (a server
/// job) or in a benchmark with a wall-clock allowance, and the cost of one query's separation
/// check varies by orders of magnitude with the geometry.
pub type Budget = crate::stop::Stop;

/// Checks that a parameter is strictly positive and finite.
pub(crate) fn check_positive(name: &'static str, v: f64) -> crate::Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(crate::IndexError::InvalidParameter { name, reason: format!("must be > 0 and finite, got {v}") })
    }
}

/// A standard normal sample (Box-Muller), so that seeded Gaussian draws need no extra crate.
pub(crate) fn gaussian<R: rand::Rng>(rng: &mut R) -> f64 {
    // u1 in (0, 1]: avoids ln(0).
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
