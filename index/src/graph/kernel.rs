//! The graph's distance kernels: [`crate::distance`]'s metrics, with four independent
//! accumulators.
//!
//! Why a second kernel: graph search at d = 384 spent two thirds of its time in the distance
//! (perf on the arXiv vectors), and simsimd's f32 dot is one chain of dependent FMAs (24 × 4
//! cycles of latency at d = 384 with AVX-512). Four independent AVX2 chains let the core overlap
//! them, and the call is a plain function pointer with no per-call dispatch. AVX-512 intrinsics
//! would need Rust 1.89 (the workspace MSRV is 1.85) and measured no faster here, the loop
//! being bound by memory. Semantics are exactly [`crate::Metric::distance`]'s (`1 - a·b`,
//! `-a·b`, `‖a-b‖²`); the tests check them against the f64 reference. The kernel is chosen once
//! per graph from the CPU's features (AVX2+FMA, else `Metric::distance`).

use crate::Metric;

/// A distance function over two equal-length rows.
pub(super) type DistFn = fn(&[f32], &[f32]) -> f32;

/// The fastest kernel this CPU runs for `metric`.
pub(super) fn select(metric: Metric) -> DistFn {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return match metric {
                Metric::Cosine => |a, b| 1.0 - x86::dot_256(a, b),
                Metric::Dot => |a, b| -x86::dot_256(a, b),
                Metric::L2 => x86::l2sq_256,
            };
        }
    }
    match metric {
        Metric::Cosine => |a, b| Metric::Cosine.distance(a, b),
        Metric::Dot => |a, b| Metric::Dot.distance(a, b),
        Metric::L2 => |a, b| Metric::L2.distance(a, b),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Dot product with AVX2+FMA. Only called after both features were detected.
    pub fn dot_256(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `select` hands this function out only when the CPU has AVX2 and FMA.
        unsafe { dot_256_impl(a, b) }
    }

    /// Squared L2 with AVX2+FMA. Only called after both features were detected.
    pub fn l2sq_256(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: as for `dot_256`.
        unsafe { l2sq_256_impl(a, b) }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum256(v: __m256) -> f32 {
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps::<1>(v);
        let s = _mm_add_ps(lo, hi);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
        _mm_cvtss_f32(s)
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot_256_impl(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): `i + 8 * j + 8 <= n` bounds every unaligned load.
        unsafe {
            while i + 32 <= n {
                for (j, s) in acc.iter_mut().enumerate() {
                    let o = i + 8 * j;
                    *s = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(o)), _mm256_loadu_ps(pb.add(o)), *s);
                }
                i += 32;
            }
            while i + 8 <= n {
                acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc[0]);
                i += 8;
            }
        }
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        // SAFETY: this function runs with AVX2+FMA enabled, as `hsum256` requires.
        let mut sum = unsafe { hsum256(s) };
        for k in i..n {
            sum += a[k] * b[k];
        }
        sum
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn l2sq_256_impl(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): `i + 8 * j + 8 <= n` bounds every unaligned load.
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
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        // SAFETY: this function runs with AVX2+FMA enabled, as `hsum256` requires.
        let mut sum = unsafe { hsum256(s) };
        for k in i..n {
            let d = a[k] - b[k];
            sum += d * d;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::scalar;
    use rand::{Rng, SeedableRng};

    /// Every kernel equals the f64 reference within `1e-5 · (1 + Σ|a_i b_i|)` (f32 rounding
    /// of a sum of `n` products, n ≤ 1000), for lengths that exercise every tail.
    #[test]
    fn kernels_match_the_f64_reference() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut kernels: Vec<(Metric, DistFn)> =
            [Metric::Cosine, Metric::Dot, Metric::L2].iter().map(|&m| (m, select(m))).collect();
        // The portable fallback too, whatever this CPU has.
        kernels.push((Metric::Dot, |a, b| Metric::Dot.distance(a, b)));
        for n in [1usize, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 384, 1000] {
            let a: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let b: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let mag: f64 = a.iter().zip(&b).map(|(x, y)| (*x as f64 * *y as f64).abs()).sum();
            for (m, f) in &kernels {
                let want = match m {
                    Metric::Cosine => 1.0 - scalar::dot(&a, &b),
                    Metric::Dot => -scalar::dot(&a, &b),
                    Metric::L2 => scalar::l2sq(&a, &b),
                };
                let got = f64::from(f(&a, &b));
                let tol = 1e-5 * (1.0 + mag + want.abs());
                assert!((got - want).abs() <= tol, "{m:?} n={n}: {got} vs {want}");
            }
        }
    }
}
