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
//! product. A Matryoshka prefix search simply passes `&v[..m]`.
//!
//! # Which kernel runs
//! [`dot`] and [`l2sq`] are *the* kernels: the exact scan, Grove's graph and the bench's hnsw_rs
//! baseline all call them (the graph through [`Metric::kernel`], a plain function pointer).
//! On x86_64 with AVX2 and FMA (detected at run time; the check is a cached atomic load) they
//! run Grove's own loop with four independent 8-lane accumulators; elsewhere they call
//! simsimd's runtime-dispatched routines ([`simsimd_dot`], [`simsimd_l2sq`]), and
//! [`scalar`] holds the f64 reference every kernel is tested against.
//!
//! Why not simsimd everywhere: its f32 dot is one chain of dependent FMAs, so at d = 384 the
//! loop waits on FMA latency (24 × 4 cycles with AVX-512) rather than on loads; four
//! independent chains let the core overlap them. Graph search at d = 384 spent two thirds of
//! its time in the distance. `cargo bench -p grove-index --bench kernels` compares the two on
//! this machine (figures in the bench's doc). AVX-512 intrinsics would need Rust 1.89 (the
//! workspace MSRV is 1.85) and the loop is bound by loads from memory in the searches anyway.

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

    /// The internal distance from an inner product `q . x` and the squared norms `|q|^2`,
    /// `|x|^2` (only L2 uses them): how every code scorer turns its estimate into a distance.
    #[inline(always)]
    pub fn distance_from_inner(self, ip: f32, q_sq: f32, x_sq: f32) -> f32 {
        match self {
            Metric::Cosine => 1.0 - ip,
            Metric::Dot => -ip,
            Metric::L2 => (q_sq - 2.0 * ip + x_sq).max(0.0),
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

/// A distance function over two equal-length rows (smaller is closer).
pub type DistFn = fn(&[f32], &[f32]) -> f32;

impl Metric {
    /// [`Metric::distance`] as a plain function pointer, for hot loops that pick the metric once
    /// (graph search); it computes exactly what [`Metric::distance`] does.
    pub fn kernel(self) -> DistFn {
        match self {
            Metric::Cosine => |a, b| 1.0 - dot(a, b),
            Metric::Dot => |a, b| -dot(a, b),
            Metric::L2 => l2sq,
        }
    }
}

/// Dot product: Grove's AVX2+FMA loop where the CPU has it, simsimd otherwise.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // In release builds too: a length mismatch is a bug upstream, and a silently truncated
    // distance would rank wrong points first (one compare per call, against d multiplies).
    assert_eq!(a.len(), b.len(), "dot: vectors of unequal length");
    #[cfg(target_arch = "x86_64")]
    {
        if x86::available() {
            // SAFETY: AVX2 and FMA were detected on this CPU.
            return unsafe { x86::dot(a, b) };
        }
    }
    simsimd_dot(a, b)
}

/// Squared Euclidean distance: Grove's AVX2+FMA loop where the CPU has it, simsimd otherwise.
#[inline]
pub fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "l2sq: vectors of unequal length");
    #[cfg(target_arch = "x86_64")]
    {
        if x86::available() {
            // SAFETY: AVX2 and FMA were detected on this CPU.
            return unsafe { x86::l2sq(a, b) };
        }
    }
    simsimd_l2sq(a, b)
}

/// simsimd's dot product (runtime-dispatched SIMD); the f64 reference if simsimd declines.
#[inline]
pub fn simsimd_dot(a: &[f32], b: &[f32]) -> f32 {
    match f32::dot(a, b) {
        Some(d) => d as f32,
        None => scalar::dot(a, b) as f32,
    }
}

/// simsimd's squared Euclidean distance; the f64 reference if simsimd declines.
#[inline]
pub fn simsimd_l2sq(a: &[f32], b: &[f32]) -> f32 {
    match f32::sqeuclidean(a, b) {
        Some(d) => d as f32,
        None => scalar::l2sq(a, b) as f32,
    }
}

/// Whether [`dot`] and [`l2sq`] run Grove's AVX2+FMA loop on this CPU (else simsimd).
pub fn uses_avx2_kernel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        x86::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// AVX2 and FMA are present (std caches the CPUID answer: one atomic load per call).
    #[inline(always)]
    pub fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(v: __m256) -> f32 {
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps::<1>(v);
        let s = _mm_add_ps(lo, hi);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
        _mm_cvtss_f32(s)
    }

    /// Dot product over `min(a.len(), b.len())` components, four independent accumulators.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA ([`available`]).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let (mut s0, mut s1, mut s2, mut s3) =
            (_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        // SAFETY (all loads): every load reads 8 floats at an offset `o` with `o + 8 <= n`.
        unsafe {
            while i + 32 <= n {
                s0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), s0);
                s1 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i + 8)), _mm256_loadu_ps(pb.add(i + 8)), s1);
                s2 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i + 16)), _mm256_loadu_ps(pb.add(i + 16)), s2);
                s3 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i + 24)), _mm256_loadu_ps(pb.add(i + 24)), s3);
                i += 32;
            }
            while i + 8 <= n {
                s0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), s0);
                i += 8;
            }
        }
        // SAFETY: this function runs with AVX2+FMA enabled, as `hsum` requires.
        let mut sum = unsafe { hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) };
        for k in i..n {
            sum += a[k] * b[k];
        }
        sum
    }

    /// Squared L2 over `min(a.len(), b.len())` components, four independent accumulators.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA ([`available`]).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn l2sq(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): every load reads 8 floats at an offset `o` with `o + 8 <= n`.
        unsafe {
            while i + 32 <= n {
                for (j, s) in acc.iter_mut().enumerate() {
                    let o = i + 8 * j;
                    let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(o)), _mm256_loadu_ps(pb.add(o)));
                    *s = _mm256_fmadd_ps(d, d, *s);
                }
                i += 32;
            }
            while i + 8 <= n {
                let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)));
                acc[0] = _mm256_fmadd_ps(d, d, acc[0]);
                i += 8;
            }
        }
        // SAFETY: this function runs with AVX2+FMA enabled, as `hsum` requires.
        let mut sum =
            unsafe { hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) };
        for k in i..n {
            let d = a[k] - b[k];
            sum += d * d;
        }
        sum
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

    /// Every dot kernel this build has (the dispatched one, simsimd's, and the metric's function
    /// pointer) within the bound.
    fn check_dot(a: &[f32], b: &[f32]) -> Result<(), TestCaseError> {
        let want = scalar::dot(a, b);
        let tol = rel(a.len(), 4) * abs_dot(a, b) + ABS;
        for (name, got) in [
            ("dot", dot(a, b)),
            ("simsimd_dot", simsimd_dot(a, b)),
            ("Metric::Dot.kernel", -(Metric::Dot.kernel())(a, b)),
        ] {
            let got = got as f64;
            prop_assert!((got - want).abs() <= tol, "{name} n={} got {got} want {want} tol {tol}", a.len());
        }
        Ok(())
    }

    fn check_l2(a: &[f32], b: &[f32]) -> Result<(), TestCaseError> {
        let want = scalar::l2sq(a, b);
        let tol = rel(a.len(), 6) * want + ABS;
        for (name, got) in [
            ("l2sq", l2sq(a, b)),
            ("simsimd_l2sq", simsimd_l2sq(a, b)),
            ("Metric::L2.kernel", (Metric::L2.kernel())(a, b)),
        ] {
            let got = got as f64;
            prop_assert!((got - want).abs() <= tol, "{name} n={} got {got} want {want} tol {tol}", a.len());
        }
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
            for m in [Metric::Cosine, Metric::Dot, Metric::L2] {
                prop_assert_eq!(m.distance(&a, &b), (m.kernel())(&a, &b), "{:?}: kernel() is distance()", m);
            }
            for m in [Metric::Cosine, Metric::Dot] {
                let d = m.distance(&a, &b);
                prop_assert!((m.distance_from_score(m.score(d)) - d).abs() <= 1e-6 * d.abs().max(1.0));
            }
        }
    }

    /// Every length up to 70 (each tail of the 32- and 8-wide loops) and the common model widths,
    /// deterministic on top of the proptests' random lengths.
    #[test]
    fn every_tail_length() {
        for n in (0usize..=70).chain([383, 384, 385, 768, 1024, 1536]) {
            let a: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 53 % 89) as f32 - 44.0) / 13.0).collect();
            check_dot(&a, &b).unwrap_or_else(|e| panic!("{e}"));
            check_l2(&a, &b).unwrap_or_else(|e| panic!("{e}"));
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

    #[test]
    #[should_panic(expected = "unequal length")]
    fn unequal_lengths_panic_in_every_build() {
        dot(&[1.0, 2.0, 3.0], &[1.0, 2.0]);
    }

    #[test]
    #[should_panic(expected = "unequal length")]
    fn unequal_lengths_panic_for_l2_too() {
        l2sq(&[1.0; 9], &[1.0; 8]);
    }
}
