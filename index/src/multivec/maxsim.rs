//! The late-interaction (MaxSim) kernel: `score(Q, D) = sum over query rows q of max over
//! document rows d of sim(q, d)`, where `sim` is the field's metric read as a similarity
//! (higher is better): Cosine and Dot `q . d` (cosine rows are normalised once, at insert and
//! per query, [`prepare_rows`]), Euclid `-|q - d|^2` (the negative squared distance, the
//! similarity Qdrant scores Euclid multi-vectors with).
//!
//! Built on [`crate::distance`]'s `dot` / `l2sq`, the one kernel every path calls, so the
//! SIMD tier is the dense path's. Matrices are flat row-major slices of `rows * dim` floats.

use crate::distance::{dot, l2sq, Metric};

/// The similarity of two rows under `metric` (higher is better).
#[inline]
pub fn similarity(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        Metric::Cosine | Metric::Dot => dot(a, b),
        Metric::L2 => -l2sq(a, b),
    }
}

/// Brings every row of a flat matrix into the stored form for `metric` (normalises each row
/// for cosine, as [`Metric::prepare`] does for one vector).
pub fn prepare_rows(metric: Metric, rows: &mut [f32], dim: usize) {
    if dim == 0 {
        return;
    }
    for r in rows.chunks_exact_mut(dim) {
        metric.prepare(r);
    }
}

/// MaxSim of a query matrix against a document matrix, both flat with rows of `dim` floats
/// and prepared for `metric`. Lengths are checked: a length that is not a positive multiple of
/// `dim` panics (callers validate shapes at the edge; a wrong length here is a bug, and a
/// silently truncated row would be a wrong score).
pub fn max_sim(metric: Metric, query: &[f32], doc: &[f32], dim: usize) -> f32 {
    assert!(
        dim > 0 && query.len().is_multiple_of(dim) && doc.len().is_multiple_of(dim) && !doc.is_empty(),
        "max_sim: bad matrix shape"
    );
    let mut total = 0.0f32;
    for q in query.chunks_exact(dim) {
        let mut best = f32::NEG_INFINITY;
        for d in doc.chunks_exact(dim) {
            let s = similarity(metric, q, d);
            if s > best {
                best = s;
            }
        }
        total += best;
    }
    total
}

/// f64 reference: the truth the kernel is tested against.
pub mod scalar {
    use crate::distance::{scalar, Metric};

    /// [`super::max_sim`] accumulated in f64 with the scalar kernels.
    pub fn max_sim(metric: Metric, query: &[f32], doc: &[f32], dim: usize) -> f64 {
        query
            .chunks_exact(dim)
            .map(|q| {
                doc.chunks_exact(dim)
                    .map(|d| match metric {
                        Metric::Cosine | Metric::Dot => scalar::dot(q, d),
                        Metric::L2 => -scalar::l2sq(q, d),
                    })
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    //! The kernel against the f64 reference.
    //!
    //! # Error bound
    //! Each similarity is one f32 kernel call whose error is at most `~ d * eps * sum |a_i b_i|`
    //! (or the same over squared differences); the max picks one of them, and the sum over
    //! `n_q` rows adds `n_q` such errors plus the f32 summation's own. We assert
    //! `|kernel - ref| <= 1e-4 * (1 + sum over query rows of max |sim| magnitude scale)`,
    //! computed as `1e-4 * (1 + n_q * scale)` with `scale` the largest `|sim|` of the pair,
    //! far above the bound for `d <= 256` and far below any real disagreement.
    use super::*;
    use proptest::prelude::*;

    fn matrix(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..rows * dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn kernel_matches_reference(dim in 1usize..160, nq in 1usize..12, nd in 1usize..20, seed in 0u64..1_000_000, m in 0usize..3) {
            let metric = [Metric::Cosine, Metric::Dot, Metric::L2][m];
            let mut q = matrix(nq, dim, seed);
            let mut d = matrix(nd, dim, seed ^ 0x9e37);
            prepare_rows(metric, &mut q, dim);
            prepare_rows(metric, &mut d, dim);
            let got = f64::from(max_sim(metric, &q, &d, dim));
            let want = scalar::max_sim(metric, &q, &d, dim);
            let scale = q.chunks_exact(dim).flat_map(|a| d.chunks_exact(dim).map(move |b| (a, b)))
                .map(|(a, b)| match metric {
                    Metric::L2 => crate::distance::scalar::l2sq(a, b),
                    _ => crate::distance::scalar::dot(a, b).abs(),
                })
                .fold(0.0, f64::max);
            let tol = 1e-4 * (1.0 + nq as f64 * scale);
            prop_assert!((got - want).abs() <= tol, "got {got}, want {want}, tol {tol}");
        }
    }

    /// Hand-worked cases: the sum of per-query-row maxima, per metric.
    #[test]
    fn hand_worked() {
        // Query rows e1, e2; document rows e1, 0.5*e2, -e1.
        let q = [1.0, 0.0, 0.0, 1.0];
        let d = [1.0, 0.0, 0.0, 0.5, -1.0, 0.0];
        assert_eq!(max_sim(Metric::Dot, &q, &d, 2), 1.0 + 0.5);
        // Euclid: row e1 is at distance 0 from d0; e2 is at squared distance 0.25 from d1.
        assert_eq!(max_sim(Metric::L2, &q, &d, 2), -0.25);
        // Cosine after normalising: 0.5*e2 becomes e2.
        let mut dn = d;
        prepare_rows(Metric::Cosine, &mut dn, 2);
        assert_eq!(max_sim(Metric::Cosine, &q, &dn, 2), 2.0);
        // A one-row query is the best single similarity.
        assert_eq!(max_sim(Metric::Dot, &[0.0, 1.0], &d, 2), 0.5);
    }

    #[test]
    #[should_panic(expected = "bad matrix shape")]
    fn ragged_lengths_panic() {
        max_sim(Metric::Dot, &[1.0, 2.0, 3.0], &[1.0, 2.0], 2);
    }
}
