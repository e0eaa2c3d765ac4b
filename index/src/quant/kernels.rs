//! Integer kernels over codes: `u8 x i16 -> i32` dot products (scalar int8 codes against a
//! 16-bit query) and popcount sums (binary codes against a bit-sliced query).
//!
//! The SIMD level is chosen once per process ([`level`]); every kernel has a scalar reference
//! the tests hold it to exactly (integer arithmetic: no rounding differences). Lengths are
//! checked with `assert_eq!`, which holds in release builds: a kernel never reads past the
//! shorter slice.

use std::sync::OnceLock;

/// The instruction set the kernels use on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// AVX-512 BW (32 codes per step).
    Avx512,
    /// AVX2 (16 codes per step).
    Avx2,
    /// Portable Rust.
    Scalar,
}

/// The level picked for this CPU (detected once).
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512f")
            {
                return Level::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Level::Avx2;
            }
        }
        Level::Scalar
    })
}

/// `sum(codes[i] * w[i])` over equal-length slices whose length is a multiple of 32 (code
/// rows are padded to that). The caller bounds `|w|` so the sum fits an `i32`
/// (`255 * max|w| * len < 2^31`).
#[inline]
pub fn dot_u8_i16(codes: &[u8], w: &[i16]) -> i32 {
    assert_eq!(codes.len(), w.len(), "code row and query differ in length");
    debug_assert_eq!(codes.len() % 32, 0);
    #[cfg(target_arch = "x86_64")]
    {
        match level() {
            // SAFETY: the level was detected on this CPU; lengths are equal multiples of 32.
            Level::Avx512 => return unsafe { x86::dot_u8_i16_avx512(codes, w) },
            // SAFETY: as above.
            Level::Avx2 => return unsafe { x86::dot_u8_i16_avx2(codes, w) },
            Level::Scalar => {}
        }
    }
    dot_u8_i16_scalar(codes, w)
}

/// The scalar reference of [`dot_u8_i16`].
pub fn dot_u8_i16_scalar(codes: &[u8], w: &[i16]) -> i32 {
    assert_eq!(codes.len(), w.len(), "code row and query differ in length");
    codes.iter().zip(w).map(|(&c, &x)| i32::from(c) * i32::from(x)).sum()
}

/// `sum_b 2^b * popcount(code & planes[b])` for `planes.len() / code.len()` bit planes of a
/// query (plane `b` at `planes[b * words..]`), plus `popcount(code)`.
#[inline]
pub fn bitsliced_sum(code: &[u64], planes: &[u64]) -> (u32, u32) {
    let words = code.len();
    assert!(words > 0 && planes.len().is_multiple_of(words), "planes are not whole rows of the code length");
    let mut total = 0u32;
    for (b, plane) in planes.chunks_exact(words).enumerate() {
        let mut s = 0u32;
        for (c, p) in code.iter().zip(plane) {
            s += (c & p).count_ones();
        }
        total += s << b;
    }
    let ones = code.iter().map(|c| c.count_ones()).sum();
    (total, ones)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// # Safety
    /// AVX-512 F and BW must be present; `codes.len() == w.len()`, a multiple of 32.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub unsafe fn dot_u8_i16_avx512(codes: &[u8], w: &[i16]) -> i32 {
        let n = codes.len();
        let (pc, pw) = (codes.as_ptr(), w.as_ptr());
        let (mut a0, mut a1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        let mut i = 0;
        // SAFETY (all loads): 32 codes and 32 weights at offset i with i + 32 <= n.
        unsafe {
            while i + 64 <= n {
                let c0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(pc.add(i) as *const __m256i));
                let c1 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(pc.add(i + 32) as *const __m256i));
                a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(c0, _mm512_loadu_si512(pw.add(i) as *const _)));
                a1 = _mm512_add_epi32(
                    a1,
                    _mm512_madd_epi16(c1, _mm512_loadu_si512(pw.add(i + 32) as *const _)),
                );
                i += 64;
            }
            while i + 32 <= n {
                let c0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(pc.add(i) as *const __m256i));
                a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(c0, _mm512_loadu_si512(pw.add(i) as *const _)));
                i += 32;
            }
        }
        let mut s = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
        for k in i..n {
            s += i32::from(codes[k]) * i32::from(w[k]);
        }
        s
    }

    /// # Safety
    /// AVX2 must be present; `codes.len() == w.len()`, a multiple of 32.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dot_u8_i16_avx2(codes: &[u8], w: &[i16]) -> i32 {
        let n = codes.len();
        let (pc, pw) = (codes.as_ptr(), w.as_ptr());
        let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        let mut i = 0;
        // SAFETY (all loads): 16 codes and 16 weights at offset i with i + 16 <= n.
        unsafe {
            while i + 32 <= n {
                let c0 = _mm256_cvtepu8_epi16(_mm_loadu_si128(pc.add(i) as *const __m128i));
                let c1 = _mm256_cvtepu8_epi16(_mm_loadu_si128(pc.add(i + 16) as *const __m128i));
                a0 = _mm256_add_epi32(
                    a0,
                    _mm256_madd_epi16(c0, _mm256_loadu_si256(pw.add(i) as *const __m256i)),
                );
                a1 = _mm256_add_epi32(
                    a1,
                    _mm256_madd_epi16(c1, _mm256_loadu_si256(pw.add(i + 16) as *const __m256i)),
                );
                i += 32;
            }
        }
        let a = _mm256_add_epi32(a0, a1);
        let lo = _mm256_castsi256_si128(a);
        let hi = _mm256_extracti128_si256::<1>(a);
        let s = _mm_add_epi32(lo, hi);
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        let mut total = _mm_cvtsi128_si32(s);
        for k in i..n {
            total += i32::from(codes[k]) * i32::from(w[k]);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn simd_dot_equals_the_scalar_reference_exactly() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for len in [32usize, 64, 96, 384, 416, 1024] {
            for _ in 0..50 {
                let c: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
                let w: Vec<i16> = (0..len).map(|_| rng.gen_range(-4000..=4000)).collect();
                assert_eq!(dot_u8_i16(&c, &w), dot_u8_i16_scalar(&c, &w), "len {len}");
            }
        }
        // Extremes: every code 255 against the largest weights the callers allow.
        let len = 384;
        let c = vec![255u8; len];
        let wmax = (i32::MAX / (255 * len as i32)) as i16;
        let w = vec![wmax; len];
        assert_eq!(dot_u8_i16(&c, &w), 255 * i32::from(wmax) * len as i32);
        let w = vec![-wmax; len];
        assert_eq!(dot_u8_i16(&c, &w), -255 * i32::from(wmax) * len as i32);
    }

    #[test]
    #[should_panic(expected = "differ in length")]
    fn unequal_lengths_panic_in_every_build() {
        dot_u8_i16(&[0u8; 32], &[0i16; 64]);
    }

    #[test]
    fn bitsliced_sum_matches_a_direct_sum() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let words = 6;
        for _ in 0..100 {
            let code: Vec<u64> = (0..words).map(|_| rng.gen()).collect();
            let vals: Vec<u32> = (0..words * 64).map(|_| rng.gen_range(0..16)).collect();
            let mut planes = vec![0u64; 4 * words];
            for (i, &v) in vals.iter().enumerate() {
                for b in 0..4 {
                    if v >> b & 1 == 1 {
                        planes[b * words + i / 64] |= 1 << (i % 64);
                    }
                }
            }
            let want: u32 = vals
                .iter()
                .enumerate()
                .filter(|(i, _)| code[i / 64] >> (i % 64) & 1 == 1)
                .map(|(_, v)| v)
                .sum();
            let ones: u32 = code.iter().map(|c| c.count_ones()).sum();
            assert_eq!(bitsliced_sum(&code, &planes), (want, ones));
        }
    }
}
