//! Distance kernels: the one place that decides how a metric is computed.
//!
//! Internally every index works with a *distance* where smaller means closer:
//!
//! | metric  | stored vector      | internal distance | score returned to users     |
//! |---------|--------------------|-------------------|-----------------------------|
//! | Cosine  | L2-normalised      | `1 - a·b`         | cosine similarity `1 - d`   |
//! | Dot     | as given           | `-a·b`            | dot product `-d`            |
//! | L2      | as given           | `‖a-b‖²`          | Euclidean distance `sqrt(d)`|
//!
//! Cosine vectors are normalised once, on insert ([`Metric::prepare`]), so the hot loop is a dot
//! product. The kernels are simsimd's runtime-dispatched SIMD routines; [`scalar`] holds the f64
//! reference they are tested against. A Matryoshka prefix search simply passes `&v[..m]`.

use serde::{Deserialize, Serialize};
use simsimd::SpatialSimilarity;

/// The similarity a collection is searched by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity (vectors normalised on insert).
    Cosine,
    /// Inner product (maximum inner product search).
    Dot,
    /// Euclidean distance.
    L2,
}

impl Metric {
    /// Internal distance between two vectors of equal length (smaller is closer).
    #[inline]
    pub fn distance(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Metric::Cosine => 1.0 - dot(a, b),
            Metric::Dot => -dot(a, b),
            Metric::L2 => l2sq(a, b),
        }
    }

    /// Converts an internal distance into the score users see (see the module table).
    #[inline]
    pub fn score(self, distance: f32) -> f32 {
        match self {
            Metric::Cosine => 1.0 - distance,
            Metric::Dot => -distance,
            Metric::L2 => distance.max(0.0).sqrt(),
        }
    }

    /// Converts a user score threshold into an internal distance bound.
    #[inline]
    pub fn distance_from_score(self, score: f32) -> f32 {
        match self {
            Metric::Cosine => 1.0 - score,
            Metric::Dot => -score,
            Metric::L2 => score * score,
        }
    }

    /// Whether a larger user-facing score means a better match.
    pub fn higher_is_better(self) -> bool {
        match self {
            Metric::Cosine | Metric::Dot => true,
            Metric::L2 => false,
        }
    }

    /// Brings a vector into the stored form for this metric (normalises for cosine).
    /// A zero vector is left as it is: its cosine to anything is then 0.
    pub fn prepare(self, v: &mut [f32]) {
        match self {
            Metric::Cosine => normalize(v),
            Metric::Dot | Metric::L2 => {}
        }
    }
}

/// Dot product, SIMD.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    match f32::dot(a, b) {
        Some(d) => d as f32,
        None => scalar::dot(a, b) as f32,
    }
}

/// Squared Euclidean distance, SIMD.
#[inline]
pub fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    match f32::sqeuclidean(a, b) {
        Some(d) => d as f32,
        None => scalar::l2sq(a, b) as f32,
    }
}

/// L2-normalises `v` in place; leaves a zero vector unchanged.
pub fn normalize(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 0.0 && n.is_finite() {
        let inv = 1.0 / n;
        v.iter_mut().for_each(|x| *x *= inv);
    }
}

/// f64 reference kernels: the truth the SIMD kernels are tested against.
pub mod scalar {
    /// Dot product accumulated in f64.
    pub fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
    }

    /// Squared Euclidean distance accumulated in f64.
    pub fn l2sq(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| {
                let d = *x as f64 - *y as f64;
                d * d
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    //! The SIMD kernels against the f64 reference.
    //!
    //! # Error bound
    //! A sum of `n` products computed in f32, in *any* order (simsimd sums in SIMD lanes and
    //! then across them), is within `γ_n · Σ|x_i·y_i|` of the exact sum, `γ_n = n·u / (1 - n·u)`
    //! with `u = 2⁻²⁴` (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1). Rounding
    //! each product, and the final conversion to f32, add one `u` each, so we allow
    //! `rel(n) · Σ|x_i·y_i| + ABS` with `rel(n) = (n + 4)·u·1.01`. For L2, the terms are
    //! `(x_i - y_i)²`; the f32 subtraction adds `2u` relative per term, hence `n + 6`. `ABS`
    //! covers products that underflow to subnormals, which the bound above does not model.
    //! The reference sums in f64 (`u = 2⁻⁵³`), so its own error is negligible against this.
    //! These bounds are worst cases; a kernel that drops a lane, reads the wrong prefix or
    //! flips a sign misses them by orders of magnitude, which is what the test is for.
    use super::*;
    use proptest::prelude::*;

    const U: f64 = 1.0 / (1u64 << 24) as f64;
    const ABS: f64 = 1e-30;

    fn rel(n: usize, extra: usize) -> f64 {
        (n + extra) as f64 * U * 1.01
    }

    fn abs_dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (*x as f64 * *y as f64).abs()).sum()
    }

    /// Pairs of equal-length vectors; dims cover the SIMD tails (1..=1100) and values span
    /// several orders of magnitude through a per-vector scale.
    fn pair() -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
        (1usize..=1100, -3i32..=3).prop_flat_map(|(n, e)| {
            let scale = 10f32.powi(e);
            let v = proptest::collection::vec(-1.0f32..1.0, n)
                .prop_map(move |v| v.into_iter().map(|x| x * scale).collect::<Vec<f32>>());
            (v.clone(), v)
        })
    }

    fn check_dot(a: &[f32], b: &[f32]) -> Result<(), TestCaseError> {
        let (got, want) = (dot(a, b) as f64, scalar::dot(a, b));
        let tol = rel(a.len(), 4) * abs_dot(a, b) + ABS;
        prop_assert!((got - want).abs() <= tol, "dot n={} got {got} want {want} tol {tol}", a.len());
        Ok(())
    }

    fn check_l2(a: &[f32], b: &[f32]) -> Result<(), TestCaseError> {
        let (got, want) = (l2sq(a, b) as f64, scalar::l2sq(a, b));
        let tol = rel(a.len(), 6) * want + ABS;
        prop_assert!((got - want).abs() <= tol, "l2sq n={} got {got} want {want} tol {tol}", a.len());
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn dot_within_bound((a, b) in pair()) {
            check_dot(&a, &b)?;
        }

        #[test]
        fn l2sq_within_bound((a, b) in pair()) {
            check_l2(&a, &b)?;
        }

        /// Matryoshka: the kernels over the first `d'` dimensions equal the reference over the
        /// same prefix (and are not reading past it).
        #[test]
        fn prefix_within_bound((a, b) in pair(), frac in 0.0f64..=1.0) {
            let d = ((a.len() as f64 * frac).ceil() as usize).clamp(1, a.len());
            check_dot(&a[..d], &b[..d])?;
            check_l2(&a[..d], &b[..d])?;
        }

        /// Cosine as Grove computes it (normalise on insert, `1 - a·b`) against the f64 cosine of
        /// the raw vectors. Both are unit length, so `Σ|a_i·b_i| <= 1`; each normalisation adds
        /// about `(n + 4)·u` relative error to its vector, hence three times the dot bound.
        #[test]
        fn cosine_within_bound((a, b) in pair()) {
            let na = scalar::dot(&a, &a).sqrt();
            let nb = scalar::dot(&b, &b).sqrt();
            prop_assume!(na > 1e-12 && nb > 1e-12);
            let want = 1.0 - scalar::dot(&a, &b) / (na * nb);
            let (mut pa, mut pb) = (a.clone(), b.clone());
            Metric::Cosine.prepare(&mut pa);
            Metric::Cosine.prepare(&mut pb);
            let got = Metric::Cosine.distance(&pa, &pb) as f64;
            let tol = 3.0 * rel(a.len(), 4) + 2.0 * U;
            prop_assert!((got - want).abs() <= tol, "cosine n={} got {got} want {want} tol {tol}", a.len());
        }

        /// The metric table: dot distance is `-a·b`, L2 is `‖a-b‖²`, and scores invert them.
        #[test]
        fn metric_distances_and_scores((a, b) in pair()) {
            prop_assert_eq!(Metric::Dot.distance(&a, &b), -dot(&a, &b));
            prop_assert_eq!(Metric::L2.distance(&a, &b), l2sq(&a, &b));
            for m in [Metric::Cosine, Metric::Dot] {
                let d = m.distance(&a, &b);
                prop_assert!((m.distance_from_score(m.score(d)) - d).abs() <= 1e-6 * d.abs().max(1.0));
            }
        }
    }

    #[test]
    fn zero_vectors() {
        for n in [1usize, 7, 384, 1024, 1031] {
            let z = vec![0.0f32; n];
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            assert_eq!(dot(&z, &b), 0.0);
            assert_eq!(dot(&z, &z), 0.0);
            assert_eq!(l2sq(&z, &z), 0.0);
            let want = scalar::dot(&b, &b);
            assert!((l2sq(&z, &b) as f64 - want).abs() <= rel(n, 6) * want);
            let mut zn = z.clone();
            normalize(&mut zn);
            assert_eq!(zn, z, "a zero vector stays zero");
            // Cosine to a zero vector is 0, so its distance is exactly 1.
            let mut bn = b.clone();
            Metric::Cosine.prepare(&mut bn);
            assert_eq!(Metric::Cosine.distance(&zn, &bn), 1.0);
        }
    }

    #[test]
    fn prepared_cosine_vectors_have_unit_length() {
        let mut v: Vec<f32> = (0..1024).map(|i| (i as f32).cos() * 1e3).collect();
        Metric::Cosine.prepare(&mut v);
        assert!((scalar::dot(&v, &v) - 1.0).abs() <= rel(1024, 4) * 2.0);
    }
}
