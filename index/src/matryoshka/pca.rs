//! A PCA rotation for models not trained Matryoshka-style.
//!
//! Matryoshka prefixes only work when the leading components carry most of the signal. For an
//! ordinary embedding (MiniLM, say) the variance is spread over all components, so a prefix
//! throws signal away at random. Rotating every vector by the eigenvectors of the collection's
//! covariance, largest eigenvalue first, puts the most variance in the leading components;
//! the rotation is orthogonal, so full-dimension distances are unchanged (dot products and L2
//! are invariant under it).
//!
//! The covariance is accumulated in f64 from a seeded sample of stored vectors and
//! diagonalised by the cyclic Jacobi method (simple, unconditionally convergent, accurate
//! eigenvectors for a symmetric matrix; O(d³) per sweep, a few seconds at d = 768). Grove
//! applies the rotation only to the *prefix stores* and to query prefixes: the full vectors
//! stay as inserted, so plain search and the final full-dimension rescoring never see it.

use rayon::prelude::*;

use crate::{IndexError, Result};

/// Sweeps after which Jacobi stops even if not converged (it converges quadratically; 384-d
/// covariances take 8-10).
const MAX_SWEEPS: usize = 30;

const MAGIC: &[u8; 8] = b"GRVROT01";

/// An orthogonal rotation whose rows are principal directions, largest variance first.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    dim: usize,
    /// `dim × dim`, row-major; row `i` is the `i`-th principal direction (unit length).
    components: Vec<f32>,
    /// Variance along each direction (eigenvalues of the covariance), descending.
    eigenvalues: Vec<f64>,
    /// Vectors the covariance was estimated from.
    sample: u64,
}

impl Rotation {
    /// Fits the rotation on `rows` (each `dim` long). Errors for no rows or a wrong length.
    pub fn fit(rows: &[&[f32]], dim: usize) -> Result<Self> {
        let bad = |reason: String| Err(IndexError::InvalidParameter { name: "pca_sample", reason });
        if rows.is_empty() || dim == 0 {
            return bad("the PCA needs at least one stored vector to fit on".into());
        }
        if let Some(r) = rows.iter().find(|r| r.len() != dim) {
            return bad(format!("a sample row has {} components, expected {dim}", r.len()));
        }
        let n = rows.len() as f64;
        let mut mean = vec![0.0f64; dim];
        for r in rows {
            for (m, x) in mean.iter_mut().zip(r.iter()) {
                *m += *x as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        // Upper triangle of Σ (x-μ)(x-μ)ᵀ, one partial sum per rayon chunk.
        let cov = rows
            .par_chunks(256)
            .map(|chunk| {
                let mut acc = vec![0.0f64; dim * dim];
                let mut c = vec![0.0f64; dim];
                for r in chunk {
                    for ((ci, x), m) in c.iter_mut().zip(r.iter()).zip(&mean) {
                        *ci = *x as f64 - m;
                    }
                    for i in 0..dim {
                        let ci = c[i];
                        let row = &mut acc[i * dim..(i + 1) * dim];
                        for j in i..dim {
                            row[j] += ci * c[j];
                        }
                    }
                }
                acc
            })
            .reduce(
                || vec![0.0f64; dim * dim],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        let mut a = cov;
        for i in 0..dim {
            for j in i..dim {
                let v = a[i * dim + j] / n;
                a[i * dim + j] = v;
                a[j * dim + i] = v;
            }
        }
        let (values, vectors) = jacobi_eigen(a, dim);
        let mut order: Vec<usize> = (0..dim).collect();
        order.sort_by(|&x, &y| values[y].total_cmp(&values[x]).then(x.cmp(&y)));
        let mut components = vec![0.0f32; dim * dim];
        let mut eigenvalues = Vec::with_capacity(dim);
        for (row, &col) in order.iter().enumerate() {
            eigenvalues.push(values[col].max(0.0));
            for k in 0..dim {
                components[row * dim + k] = vectors[k * dim + col] as f32;
            }
        }
        Ok(Self { dim, components, eigenvalues, sample: rows.len() as u64 })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Vectors the covariance was estimated from.
    pub fn sample(&self) -> u64 {
        self.sample
    }

    /// Variances along the directions, descending.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// Share of the total variance the first `m` rotated components keep (1.0 at `m = dim`).
    pub fn variance_kept(&self, m: usize) -> f64 {
        let total: f64 = self.eigenvalues.iter().sum();
        if total <= 0.0 {
            return 1.0;
        }
        self.eigenvalues.iter().take(m).sum::<f64>() / total
    }

    /// Writes the first `out.len()` rotated components of `x` (`x.len() == dim`).
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        debug_assert_eq!(x.len(), self.dim);
        for (i, o) in out.iter_mut().enumerate().take(self.dim) {
            *o = crate::distance::dot(&self.components[i * self.dim..(i + 1) * self.dim], x);
        }
    }

    /// Serialises the rotation (versioned, checksummed) for storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(24 + self.dim * 8 + self.components.len() * 4 + 4);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&(self.dim as u64).to_le_bytes());
        b.extend_from_slice(&self.sample.to_le_bytes());
        for e in &self.eigenvalues {
            b.extend_from_slice(&e.to_le_bytes());
        }
        for c in &self.components {
            b.extend_from_slice(&c.to_le_bytes());
        }
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// Reads what [`Self::to_bytes`] wrote; any mismatch is an error naming it.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        let bad = |reason: &str| IndexError::InvalidParameter { name: "pca_rotation", reason: reason.into() };
        if b.len() < 28 || &b[..8] != MAGIC {
            return Err(bad("not a Grove PCA rotation (bad magic or too short)"));
        }
        let (body, crc) = b.split_at(b.len() - 4);
        let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32fast::hash(body) != crc {
            return Err(bad("checksum mismatch"));
        }
        let u64_at = |o: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&body[o..o + 8]);
            u64::from_le_bytes(w)
        };
        let dim = u64_at(8) as usize;
        let sample = u64_at(16);
        if dim == 0 || body.len() != 24 + dim * 8 + dim * dim * 4 {
            return Err(bad("length does not match the dimension"));
        }
        let eigenvalues = (0..dim).map(|i| f64::from_bits(u64_at(24 + 8 * i))).collect();
        let off = 24 + dim * 8;
        let components =
            body[off..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Ok(Self { dim, components, eigenvalues, sample })
    }
}

/// Eigen-decomposition of the symmetric `n × n` matrix `a` (row-major) by cyclic Jacobi
/// rotations: returns the eigenvalues and the eigenvectors as the *columns* of an `n × n`
/// row-major matrix.
fn jacobi_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = a.iter().map(|x| x * x).sum();
    for _ in 0..MAX_SWEEPS {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        if off <= total * 1e-22 || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A <- A·J (columns p, q), then A <- Jᵀ·A (rows p, q), V <- V·J.
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Data with known variances `var[i]` along the axes of a random orthogonal basis.
    fn data(n: usize, var: &[f64], seed: u64) -> (Vec<Vec<f32>>, Vec<Vec<f64>>) {
        let d = var.len();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Gram-Schmidt on random vectors: an orthonormal basis.
        let mut basis: Vec<Vec<f64>> = Vec::new();
        while basis.len() < d {
            let mut v: Vec<f64> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
            for b in &basis {
                let p: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= p * y);
            }
            let nrm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if nrm > 1e-3 {
                basis.push(v.into_iter().map(|x| x / nrm).collect());
            }
        }
        let rows = (0..n)
            .map(|_| {
                let mut x = vec![0.0f64; d];
                for (b, s) in basis.iter().zip(var) {
                    // uniform(-1,1) has variance 1/3
                    let c = rng.gen_range(-1.0..1.0) * (3.0 * s).sqrt();
                    x.iter_mut().zip(b).for_each(|(xi, bi)| *xi += c * bi);
                }
                x.into_iter().map(|v| v as f32 + 0.5).collect() // a mean offset, removed by the fit
            })
            .collect();
        (rows, basis)
    }

    #[test]
    fn recovers_known_spectrum_and_directions() {
        let var: Vec<f64> = (0..24).map(|i| 10.0 * 0.7f64.powi(i)).collect();
        let (rows, basis) = data(20_000, &var, 3);
        let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let r = Rotation::fit(&refs, 24).unwrap();
        for (i, (got, want)) in r.eigenvalues().iter().zip(&var).enumerate().take(6) {
            assert!((got - want).abs() <= 0.05 * want, "eigenvalue {i}: {got} vs {want}");
        }
        // The leading direction is the largest-variance axis (up to sign).
        let c0: f64 = (0..24).map(|k| r.components[k] as f64 * basis[0][k]).sum();
        assert!(c0.abs() > 0.99, "first component aligned with the top axis: {c0}");
        let total: f64 = var.iter().sum();
        let want4: f64 = var[..4].iter().sum::<f64>() / total;
        assert!((r.variance_kept(4) - want4).abs() < 0.02, "{} vs {want4}", r.variance_kept(4));
        assert!((r.variance_kept(24) - 1.0).abs() < 1e-9);
        assert!(r.variance_kept(2) < r.variance_kept(3));
    }

    /// The rotation is orthogonal: full-dimension dot products and L2 distances are unchanged.
    #[test]
    fn rotation_keeps_full_dimension_distances() {
        let var: Vec<f64> = (0..40).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let (rows, _) = data(3_000, &var, 9);
        let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let r = Rotation::fit(&refs, 40).unwrap();
        let mut ra = vec![0.0f32; 40];
        let mut rb = vec![0.0f32; 40];
        for i in 0..50 {
            let (a, b) = (&rows[i], &rows[i + 50]);
            r.apply(a, &mut ra);
            r.apply(b, &mut rb);
            let (d0, d1) = (crate::distance::dot(a, b), crate::distance::dot(&ra, &rb));
            assert!((d0 - d1).abs() <= 1e-4 * d0.abs().max(1.0), "dot {d0} vs {d1}");
            let (l0, l1) = (crate::distance::l2sq(a, b), crate::distance::l2sq(&ra, &rb));
            assert!((l0 - l1).abs() <= 1e-4 * l0.max(1.0), "l2 {l0} vs {l1}");
        }
    }

    #[test]
    fn bytes_round_trip_and_corruption_is_caught() {
        let var: Vec<f64> = (0..8).map(|i| 1.0 + i as f64).collect();
        let (rows, _) = data(500, &var, 1);
        let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let r = Rotation::fit(&refs, 8).unwrap();
        let b = r.to_bytes();
        assert_eq!(Rotation::from_bytes(&b).unwrap(), r);
        let mut bad = b.clone();
        bad[40] ^= 1;
        assert!(Rotation::from_bytes(&bad).is_err());
        assert!(Rotation::from_bytes(&b[..20]).is_err());
        assert!(Rotation::fit(&[], 8).is_err());
        assert!(Rotation::fit(&[&[1.0f32, 2.0][..]], 8).is_err());
    }
}
