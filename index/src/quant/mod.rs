//! Quantized vector codes: compact copies of the vectors that graph walks and scans read
//! instead of the full f32 rows, with exact rescoring of the final candidates.
//!
//! A graph walk at d = 384 spends much of its time loading 1.5 KB rows from scattered
//! addresses. Codes cut what a distance reads ([`sq8`]: 1 byte per component, 4x less;
//! [`rabitq`]: 1, 1.5, 2 or 4 bits per rotated component, 8-32x less) while
//! the candidates a walk or scan ends with are rescored from the full vectors
//! ([`QuantSearch::rescore`]), so the returned distances are exact and recall is recovered by
//! rescoring a few more candidates than asked for ([`QuantSearch::oversampling`]).
//!
//! Codes are trained (ranges per dimension) from a deterministic sample of the live rows once
//! a collection has [`TRAIN_MIN_POINTS`], retrained when it has grown [`RETRAIN_GROWTH`]-fold
//! since (until the sample is full), and kept in step with inserts. Until trained, searches
//! use the full vectors and Explain says so. Trained codes are saved beside the graphs
//! ([`persist`]), so a reopened collection does not retrain them.

pub mod binary;
pub mod kernels;
pub mod persist;
pub mod rabitq;
pub mod sq8;

pub use binary::{BinaryCodes, BinaryScorer};
pub use persist::CodeLoad;
pub use rabitq::{RabitqBits, RabitqCodes, RabitqScorer};
pub use sq8::{Sq8Codes, Sq8Scorer};

use crate::error::{IndexError, Result};
use crate::source::Scorer;
use crate::{Metric, VectorStore};

/// Live points a collection needs before codes are trained.
pub const TRAIN_MIN_POINTS: u64 = 256;
/// Rows sampled for training.
pub const TRAIN_SAMPLE: usize = 20_000;
/// Codes are retrained when the live count has grown this many times since the last training
/// (while the last sample was smaller than [`TRAIN_SAMPLE`]).
pub const RETRAIN_GROWTH: u64 = 4;
/// The largest query-time oversampling accepted.
pub const MAX_OVERSAMPLING: f64 = 64.0;

/// A collection's quantization (Qdrant's `quantization_config`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QuantConfig {
    /// One byte per component, ranges per dimension holding the central `quantile` of the
    /// values (`None`: 0.99).
    Scalar {
        /// In `[0.5, 1]` (Qdrant's range).
        quantile: Option<f32>,
        /// Codes always in RAM (they are: accepted for compatibility, reported).
        always_ram: bool,
    },
    /// One bit per component ([`binary`]); walks rescore a wider list.
    Binary {
        /// As for `Scalar`.
        always_ram: bool,
    },
    /// Rotated multi-bit codes with unbiased estimates ([`rabitq`]; Qdrant's `turbo`).
    RaBitQ {
        /// Bits per component.
        bits: RabitqBits,
        /// As for `Scalar`.
        always_ram: bool,
    },
}

impl QuantConfig {
    /// Checks the parameters; errors name the field.
    pub fn validate(&self) -> Result<()> {
        match self {
            QuantConfig::Scalar { quantile: Some(q), .. } if !(0.5..=1.0).contains(q) => {
                Err(IndexError::InvalidParameter {
                    name: "quantile",
                    reason: format!("must be between 0.5 and 1.0 (Qdrant's range), got {q}"),
                })
            }
            QuantConfig::Scalar { .. } | QuantConfig::Binary { .. } | QuantConfig::RaBitQ { .. } => Ok(()),
        }
    }

    /// The short name Explain and info report.
    pub fn kind(&self) -> &'static str {
        match self {
            QuantConfig::Scalar { .. } => "int8",
            QuantConfig::Binary { .. } => "binary",
            QuantConfig::RaBitQ { bits, .. } => bits.kind(),
        }
    }
}

/// Query-time quantization knobs (Qdrant's `params.quantization`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantSearch {
    /// Search the full vectors even when codes exist.
    pub ignore: bool,
    /// Rescore the final candidates with the full vectors (exact distances). Without it the
    /// returned distances are the codes' estimates.
    pub rescore: bool,
    /// Candidates rescored = `ceil(k * oversampling)` (at least `k`); `None`: the code kind's
    /// default for a graph walk ([`Codes::walk_candidates`]) or a scan
    /// ([`Codes::scan_candidates`]).
    pub oversampling: Option<f64>,
}

/// Default rescoring depth of an int8 graph walk, in multiples of `k` (see
/// [`Codes::walk_candidates`]).
pub const SQ8_WALK_RESCORE: usize = 4;

/// Default rescoring depth of a 4-bit RaBitQ graph walk, in multiples of `k` (2- and 1-bit
/// codes rescore the whole beam, as binary codes do).
pub const RABITQ4_WALK_RESCORE: usize = 8;

/// Oversampling of a code scan when the query does not set one (int8, binary, 4-bit RaBitQ;
/// see [`Codes::scan_candidates`]).
pub const DEFAULT_SCAN_OVERSAMPLING: f64 = 4.0;

impl Default for QuantSearch {
    fn default() -> Self {
        Self { ignore: false, rescore: true, oversampling: None }
    }
}

impl QuantSearch {
    /// Checks the parameters; errors name the field.
    pub fn validate(&self) -> Result<()> {
        match self.oversampling {
            Some(o) if !(1.0..=MAX_OVERSAMPLING).contains(&o) => Err(IndexError::InvalidParameter {
                name: "oversampling",
                reason: format!("must be between 1 and {MAX_OVERSAMPLING}, got {o}"),
            }),
            _ => Ok(()),
        }
    }

    /// Candidates to rescore for `k` results, given the default for the path.
    pub fn candidates(&self, k: usize, default: usize) -> usize {
        match self.oversampling {
            Some(o) => ((k as f64 * o).ceil() as usize).max(k),
            None => default.max(k),
        }
    }
}

/// What the quantized part of a search did (in [`crate::Explain::quantization`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuantExplain {
    /// The code kind (`int8`).
    pub kind: String,
    /// Whether codes were used; when not, why (`reason`).
    pub used: bool,
    /// Why codes were or were not used.
    pub reason: String,
    /// Distances computed on codes.
    pub code_distances: u64,
    /// Candidates rescored with the full vectors (0 without rescoring).
    pub rescored: u64,
    /// The bound on a code estimate's error for this query (inner-product units), when known.
    pub error_bound: Option<f32>,
}

/// Trained codes of one kind.
#[derive(Debug, Clone)]
pub enum Codes {
    /// Scalar int8.
    Sq8(Sq8Codes),
    /// One bit per component.
    Binary(BinaryCodes),
    /// Rotated multi-bit codes.
    RaBitQ(RabitqCodes),
}

impl Codes {
    /// Trains codes of `cfg`'s kind on a sample of the live rows of `store` and encodes every
    /// row.
    pub fn train(
        cfg: &QuantConfig,
        metric: Metric,
        store: &VectorStore,
        dead: &roaring::RoaringBitmap,
    ) -> Self {
        let sample = sample_rows(store, dead, TRAIN_SAMPLE);
        match cfg {
            QuantConfig::Scalar { quantile, .. } => {
                let mut c = Sq8Codes::train(store.dim(), metric, &sample, quantile.unwrap_or(0.99));
                c.encode_all(store);
                Codes::Sq8(c)
            }
            QuantConfig::Binary { .. } => {
                let mut c = BinaryCodes::train(store.dim(), metric, &sample);
                c.encode_all(store);
                Codes::Binary(c)
            }
            QuantConfig::RaBitQ { bits, .. } => {
                let mut c = RabitqCodes::train(store.dim(), metric, &sample, *bits, rabitq::ROTATION_SEED);
                c.encode_all(store);
                Codes::RaBitQ(c)
            }
        }
    }

    /// Runs `v` with this query's scorer over the codes at hand and its error bound: callers
    /// write a walk or a scan over codes once, generic over the scorer, and a new code kind is
    /// one more arm here.
    pub fn visit<V: CodeVisitor>(&self, query: &[f32], v: V) -> V::Out {
        match self {
            Codes::Sq8(c) => {
                let sc = c.scorer(query);
                let bound = sc.error_bound();
                v.visit(&sc, bound)
            }
            Codes::Binary(c) => {
                let sc = c.scorer(query);
                let bound = sc.error_bound();
                v.visit(&sc, bound)
            }
            Codes::RaBitQ(c) => {
                let sc = c.scorer(query);
                let bound = sc.error_bound();
                v.visit(&sc, bound)
            }
        }
    }

    /// Encodes row `id`.
    pub fn set(&mut self, id: u32, v: &[f32]) {
        match self {
            Codes::Sq8(c) => c.set(id, v),
            Codes::Binary(c) => c.set(id, v),
            Codes::RaBitQ(c) => c.set(id, v),
        }
    }

    /// Rows encoded.
    pub fn rows(&self) -> usize {
        match self {
            Codes::Sq8(c) => c.rows(),
            Codes::Binary(c) => c.rows(),
            Codes::RaBitQ(c) => c.rows(),
        }
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        match self {
            Codes::Sq8(c) => c.memory_bytes(),
            Codes::Binary(c) => c.memory_bytes(),
            Codes::RaBitQ(c) => c.memory_bytes(),
        }
    }

    /// Candidates of a graph walk with beam `ef` rescored for `k` results when the query does
    /// not set an oversampling: int8 estimates rank almost like the full vectors, so the best
    /// [`SQ8_WALK_RESCORE`]` * k` of the beam suffice, and for 4-bit RaBitQ codes
    /// [`RABITQ4_WALK_RESCORE`]` * k` (times [`RabitqCodes::low_dim_factor`]); sign codes and
    /// RaBitQ codes of 2 bits or fewer rank coarsely, so the whole beam is rescored.
    pub fn walk_candidates(&self, k: usize, ef: usize) -> usize {
        match self {
            Codes::Sq8(_) => ef.min(SQ8_WALK_RESCORE * k).max(k),
            Codes::Binary(_) => ef.max(k),
            Codes::RaBitQ(c) => match c.bits() {
                RabitqBits::Four => ef.min(RABITQ4_WALK_RESCORE * c.low_dim_factor() * k).max(k),
                RabitqBits::One | RabitqBits::OneAndHalf | RabitqBits::Two => ef.max(k),
            },
        }
    }

    /// Candidates of a code scan rescored for `k` results when the query does not set an
    /// oversampling: [`DEFAULT_SCAN_OVERSAMPLING`]` * k`, more for RaBitQ codes of 2 bits or
    /// fewer and for RaBitQ codes of fewer than 256 rotated dimensions (a scan keeps the best
    /// by estimate from every allowed row, so the list must hold the true neighbours; RaBitQ's
    /// error shrinks as `1 / sqrt(D)` (see [`rabitq`]), so low dimensions need a longer list:
    /// [`RabitqCodes::low_dim_factor`] times longer).
    pub fn scan_candidates(&self, k: usize) -> usize {
        let times = match self {
            Codes::Sq8(_) | Codes::Binary(_) => DEFAULT_SCAN_OVERSAMPLING,
            Codes::RaBitQ(c) => {
                c.low_dim_factor() as f64
                    * match c.bits() {
                        RabitqBits::Four => DEFAULT_SCAN_OVERSAMPLING,
                        RabitqBits::Two => 4.0 * DEFAULT_SCAN_OVERSAMPLING,
                        RabitqBits::One | RabitqBits::OneAndHalf => 8.0 * DEFAULT_SCAN_OVERSAMPLING,
                    }
            }
        };
        ((k as f64 * times).ceil() as usize).max(k)
    }

    /// Bytes per row.
    pub fn bytes_per_row(&self) -> usize {
        match self {
            Codes::Sq8(c) => c.bytes_per_row(),
            Codes::Binary(c) => c.bytes_per_row(),
            Codes::RaBitQ(c) => c.bytes_per_row(),
        }
    }
}

/// Work over a code scorer of any kind, run by [`Codes::visit`] (a closure cannot be generic
/// over the scorer type, a trait method can).
pub trait CodeVisitor {
    /// What the work returns.
    type Out;
    /// Runs with the query's scorer and the bound on its distance estimates' error.
    fn visit<S: Scorer>(self, sc: &S, error_bound: f32) -> Self::Out;
}

/// Up to `max` live rows of `store`, evenly spaced over the id range (deterministic: the same
/// rows for the same data).
pub fn sample_rows<'a>(store: &'a VectorStore, dead: &roaring::RoaringBitmap, max: usize) -> Vec<&'a [f32]> {
    let n = store.len() as u64;
    let live = n - dead.len().min(n);
    if live == 0 {
        return Vec::new();
    }
    let step = live.div_ceil(max as u64).max(1);
    (0..n as u32).filter(|id| !dead.contains(*id)).step_by(step as usize).map(|id| store.get(id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_and_oversampling_ranges_name_the_field() {
        let q = |x| QuantConfig::Scalar { quantile: Some(x), always_ram: true }.validate();
        assert!(q(0.5).is_ok() && q(1.0).is_ok(), "Qdrant's bounds are inclusive");
        assert!(q(0.49).unwrap_err().to_string().contains("quantile"));
        assert!(q(1.01).is_err());
        let o = |x| QuantSearch { oversampling: Some(x), ..Default::default() }.validate();
        assert!(o(1.0).is_ok() && o(MAX_OVERSAMPLING).is_ok());
        assert!(o(0.9).unwrap_err().to_string().contains("oversampling"));
        assert!(o(f64::NAN).is_err());
        assert_eq!(QuantSearch { oversampling: Some(2.5), ..Default::default() }.candidates(10, 64), 25);
        assert_eq!(QuantSearch::default().candidates(10, 64), 64);
    }
}
