//! MUVERA fixed-dimensional encodings (Dhulipala et al., "MUVERA: Multi-Vector Retrieval via
//! Fixed Dimensional Encodings", NeurIPS 2024).
//!
//! Why: a MaxSim search over matrices has no single-vector index; an FDE maps a matrix to one
//! vector such that `<FDE_q(Q), FDE_d(D)>` approximates the MaxSim (Chamfer) similarity
//! `sum_q max_d q . d`, so an ordinary dense index (graphs, filters, the planner) finds
//! candidates, and exact MaxSim rescoring of `ceil(oversampling * k)` of them fixes the order.
//!
//! Per repetition `r` (of `R`): `b` Gaussian hyperplanes split space into `B = 2^b` SimHash
//! buckets (a row's bucket is its sign pattern); each row is optionally projected to `d_proj`
//! dimensions by a random +-1/sqrt(d_proj) matrix (the paper's inner projection). The document
//! encoding puts, per bucket, the mean of its projected rows; an empty bucket takes the row
//! whose sign pattern is nearest in Hamming distance (`fill_empty`, the paper's fix for
//! buckets no row fell into). The query encoding puts, per bucket, the SUM of its rows (so
//! each query row contributes its own similarity, as in MaxSim). The repetitions are
//! concatenated: `dim = R * B * d_proj`.
//!
//! Everything is a pure function of `(dim, FdeParams)`; the seed fixes the hyperplanes and
//! projections, so an encoder rebuilt after a restart encodes identically.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};

/// Most SimHash bits per repetition (256 buckets).
pub const MAX_SIMHASH_BITS: usize = 8;
/// Most repetitions.
pub const MAX_REPETITIONS: usize = 64;
/// Largest encoding the dense index is asked to hold.
pub const MAX_FDE_DIM: usize = 16_384;

/// The encoding's knobs (the paper's `R_reps`, `k_sim`, `d_proj`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FdeParams {
    /// R: independent repetitions, concatenated (more: better approximation, longer vectors).
    pub repetitions: usize,
    /// k_sim: SimHash hyperplanes per repetition; `2^k_sim` buckets.
    pub simhash_bits: usize,
    /// d_proj: each row projected to this many dimensions; `None` keeps the rows as they are.
    #[serde(default)]
    pub projection: Option<usize>,
    /// Fill empty document buckets with the Hamming-nearest row.
    #[serde(default = "yes")]
    pub fill_empty: bool,
    /// Seed of the hyperplanes and projections.
    #[serde(default)]
    pub seed: u64,
}

fn yes() -> bool {
    true
}

impl FdeParams {
    /// Grove's default for rows of `dim`: 10 repetitions of 3 bits (8 buckets), rows
    /// projected to 16 dimensions when longer: `10 * 8 * min(dim, 16)` floats (1,280 for
    /// ColBERT-sized rows). Measured on seeded data (`examples/multivec_bench.rs`), this with
    /// the default oversampling reaches the recall the oracle test holds it to.
    pub fn default_for(dim: usize) -> Self {
        FdeParams {
            repetitions: 10,
            simhash_bits: 3,
            projection: (dim > 16).then_some(16),
            fill_empty: true,
            seed: 0x6d75_7665_7261,
        }
    }

    /// Checks the ranges for rows of `dim`; errors name the parameter.
    pub fn validate(&self, dim: usize) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(IndexError::InvalidParameter { name, reason });
        if self.repetitions == 0 || self.repetitions > MAX_REPETITIONS {
            return bad(
                "repetitions",
                format!("must be between 1 and {MAX_REPETITIONS}, got {}", self.repetitions),
            );
        }
        if self.simhash_bits > MAX_SIMHASH_BITS {
            return bad(
                "simhash_bits",
                format!("must be at most {MAX_SIMHASH_BITS}, got {}", self.simhash_bits),
            );
        }
        if let Some(p) = self.projection {
            if p == 0 || p > dim {
                return bad("projection", format!("must be between 1 and the row size {dim}, got {p}"));
            }
        }
        let out = self.out_dim(dim);
        if out > MAX_FDE_DIM {
            return bad(
                "repetitions",
                format!("the encoding would have {out} dimensions; at most {MAX_FDE_DIM} (fewer repetitions, bits or a projection)"),
            );
        }
        Ok(())
    }

    /// Length of an encoding of rows of `dim`.
    pub fn out_dim(&self, dim: usize) -> usize {
        self.repetitions * (1usize << self.simhash_bits) * self.projection.unwrap_or(dim)
    }
}

/// An encoder: the hyperplanes and projections drawn from the seed.
#[derive(Debug, Clone)]
pub struct FdeEncoder {
    params: FdeParams,
    dim: usize,
    proj_dim: usize,
    /// `R * bits * dim`: repetition r, hyperplane i at `(r * bits + i) * dim`.
    planes: Vec<f32>,
    /// `R * proj_dim * dim` (empty without a projection).
    proj: Vec<f32>,
}

/// A standard normal draw (Box-Muller; `rand` 0.8 has no normal distribution without
/// `rand_distr`).
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

impl FdeEncoder {
    /// An encoder for rows of `dim` (validated).
    pub fn new(dim: usize, params: FdeParams) -> Result<Self> {
        if dim == 0 {
            return Err(IndexError::InvalidParameter { name: "dim", reason: "must be at least 1".into() });
        }
        params.validate(dim)?;
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let bits = params.simhash_bits;
        let planes = (0..params.repetitions * bits * dim).map(|_| normal(&mut rng)).collect();
        let proj_dim = params.projection.unwrap_or(dim);
        let proj = match params.projection {
            Some(p) => {
                let s = 1.0 / (p as f32).sqrt();
                (0..params.repetitions * p * dim).map(|_| if rng.gen::<bool>() { s } else { -s }).collect()
            }
            None => Vec::new(),
        };
        Ok(FdeEncoder { params, dim, proj_dim, planes, proj })
    }

    /// The parameters.
    pub fn params(&self) -> &FdeParams {
        &self.params
    }

    /// Length of every encoding.
    pub fn out_dim(&self) -> usize {
        self.params.out_dim(self.dim)
    }

    fn buckets(&self) -> usize {
        1 << self.params.simhash_bits
    }

    /// The SimHash bucket of `row` in repetition `r`.
    fn bucket(&self, r: usize, row: &[f32]) -> usize {
        let bits = self.params.simhash_bits;
        let mut code = 0usize;
        for i in 0..bits {
            let at = (r * bits + i) * self.dim;
            if crate::distance::dot(&self.planes[at..at + self.dim], row) > 0.0 {
                code |= 1 << i;
            }
        }
        code
    }

    /// `row` projected for repetition `r`, written to `out` (`proj_dim` floats).
    fn project(&self, r: usize, row: &[f32], out: &mut [f32]) {
        if self.params.projection.is_none() {
            out.copy_from_slice(row);
            return;
        }
        for (j, o) in out.iter_mut().enumerate() {
            let at = (r * self.proj_dim + j) * self.dim;
            *o = crate::distance::dot(&self.proj[at..at + self.dim], row);
        }
    }

    fn check(&self, rows: &[f32]) -> Result<()> {
        if rows.is_empty() || !rows.len().is_multiple_of(self.dim) {
            return Err(IndexError::DimensionMismatch {
                expected: self.dim,
                got: rows.len() % self.dim.max(1),
            });
        }
        Ok(())
    }

    /// The document encoding of a flat matrix (rows of `dim`): per bucket the mean of its
    /// projected rows, empty buckets filled (see the module docs).
    pub fn encode_document(&self, rows: &[f32]) -> Result<Vec<f32>> {
        self.encode(rows, false)
    }

    /// The query encoding: per bucket the sum of its projected rows, no filling.
    pub fn encode_query(&self, rows: &[f32]) -> Result<Vec<f32>> {
        self.encode(rows, true)
    }

    fn encode(&self, rows: &[f32], query: bool) -> Result<Vec<f32>> {
        self.check(rows)?;
        let (b, p) = (self.buckets(), self.proj_dim);
        let mut out = vec![0.0f32; self.out_dim()];
        let n = rows.len() / self.dim;
        let mut codes = vec![0usize; n];
        let mut counts = vec![0u32; b];
        let mut y = vec![0.0f32; p];
        for r in 0..self.params.repetitions {
            let block = &mut out[r * b * p..(r + 1) * b * p];
            counts.iter_mut().for_each(|c| *c = 0);
            for (i, row) in rows.chunks_exact(self.dim).enumerate() {
                let c = self.bucket(r, row);
                codes[i] = c;
                counts[c] += 1;
                self.project(r, row, &mut y);
                for (o, v) in block[c * p..(c + 1) * p].iter_mut().zip(&y) {
                    *o += v;
                }
            }
            if query {
                continue;
            }
            for (c, &count) in counts.iter().enumerate() {
                let cell = &mut block[c * p..(c + 1) * p];
                if count > 1 {
                    let inv = 1.0 / count as f32;
                    cell.iter_mut().for_each(|x| *x *= inv);
                } else if count == 0 && self.params.fill_empty {
                    // The row whose sign pattern is nearest (first on ties).
                    let best = (0..n).min_by_key(|&i| ((codes[i] ^ c).count_ones(), i)).unwrap_or(0);
                    let row = &rows[best * self.dim..(best + 1) * self.dim];
                    self.project(r, row, &mut y);
                    cell.copy_from_slice(&y);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::{dot, Metric};
    use crate::multivec::maxsim::{max_sim, prepare_rows};

    fn unit_matrix(rows: usize, dim: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        let mut m: Vec<f32> = (0..rows * dim).map(|_| normal(rng)).collect();
        prepare_rows(Metric::Cosine, &mut m, dim);
        m
    }

    /// Shape and determinism: the same seed gives the same encoding, another seed another.
    #[test]
    fn encodes_deterministically_with_the_declared_length() {
        let p = FdeParams::default_for(32);
        let e = FdeEncoder::new(32, p).expect("valid");
        assert_eq!(e.out_dim(), 10 * 8 * 16);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let m = unit_matrix(5, 32, &mut rng);
        let a = e.encode_document(&m).expect("encodes");
        assert_eq!(a.len(), e.out_dim());
        assert_eq!(a, FdeEncoder::new(32, p).expect("valid").encode_document(&m).expect("encodes"));
        let other = FdeEncoder::new(32, FdeParams { seed: 7, ..p }).expect("valid");
        assert_ne!(a, other.encode_document(&m).expect("encodes"));
        assert!(e.encode_document(&m[..31]).is_err());
        assert!(e.encode_query(&[]).is_err());
    }

    /// Without projection and with one bucket (b = 0), the query encoding is the sum of the
    /// query rows and the document encoding the mean of the document rows, so their inner
    /// product is exactly `sum_q q . mean(D)`: the encoding's definition, checked by hand.
    #[test]
    fn one_bucket_is_sum_against_mean() {
        let p = FdeParams { repetitions: 1, simhash_bits: 0, projection: None, fill_empty: true, seed: 3 };
        let e = FdeEncoder::new(2, p).expect("valid");
        let q = [1.0, 0.0, 0.0, 1.0];
        let d = [2.0, 0.0, 0.0, 4.0];
        assert_eq!(e.encode_query(&q).expect("q"), vec![1.0, 1.0]);
        assert_eq!(e.encode_document(&d).expect("d"), vec![1.0, 2.0]);
    }

    /// The encoding's inner product tracks MaxSim: over seeded random pairs, documents that
    /// contain near-copies of the query rows score higher under the FDE than unrelated ones
    /// (the property candidate generation relies on).
    #[test]
    fn related_documents_outscore_unrelated_ones() {
        let dim = 32;
        let e = FdeEncoder::new(dim, FdeParams::default_for(dim)).expect("valid");
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut wins = 0;
        let trials = 200;
        for _ in 0..trials {
            let q = unit_matrix(4, dim, &mut rng);
            // Related: the query rows plus noise, and some other rows.
            let mut rel: Vec<f32> =
                q.iter().map(|x| x + 0.3 * normal(&mut rng) / (dim as f32).sqrt()).collect();
            rel.extend(unit_matrix(8, dim, &mut rng));
            prepare_rows(Metric::Cosine, &mut rel, dim);
            let unrel = unit_matrix(12, dim, &mut rng);
            assert!(max_sim(Metric::Cosine, &q, &rel, dim) > max_sim(Metric::Cosine, &q, &unrel, dim));
            let fq = e.encode_query(&q).expect("q");
            let s_rel = dot(&fq, &e.encode_document(&rel).expect("d"));
            let s_unrel = dot(&fq, &e.encode_document(&unrel).expect("d"));
            if s_rel > s_unrel {
                wins += 1;
            }
        }
        assert!(wins >= trials * 9 / 10, "FDE ranked the related document first in {wins} of {trials}");
    }

    #[test]
    fn invalid_params_are_named() {
        let p = FdeParams::default_for(8);
        for (bad, name) in [
            (FdeParams { repetitions: 0, ..p }, "repetitions"),
            (FdeParams { simhash_bits: 9, ..p }, "simhash_bits"),
            (FdeParams { projection: Some(9), ..p }, "projection"),
            (FdeParams { repetitions: 64, simhash_bits: 8, projection: None, ..p }, "repetitions"),
        ] {
            match bad.validate(8) {
                Err(IndexError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
