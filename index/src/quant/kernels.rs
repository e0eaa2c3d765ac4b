//! Integer kernels over codes: `u8 x i16 -> i32` dot products (scalar int8 codes against a
//! 16-bit query), the same over packed 1/2/4-bit codes ([`dot_packed_i16`], the RaBitQ-style
//! codes of [`super::rabitq`]) and popcount sums (binary codes against a bit-sliced query).
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

/// Bytes of one packed group: a group holds `16 * 8 / bits` codes in 16 bytes.
pub const PACKED_GROUP_BYTES: usize = 16;

/// Codes per packed group at `bits` bits per code.
pub const fn packed_group_codes(bits: u32) -> usize {
    PACKED_GROUP_BYTES * 8 / bits as usize
}

/// `sum(code[i] * w[i])` where the codes are packed `bits` (1, 2 or 4) to a byte in groups of
/// 16 bytes: code `16 * s + j` of a group sits at bits `bits * s .. bits * (s + 1)` of the
/// group's byte `j`. That layout makes unpacking one shift and one mask per 16 codes, each
/// shift giving 16 consecutive codes (no shuffles). `w.len()` must equal the codes held
/// (`codes.len() * 8 / bits`), a whole number of groups; the caller bounds `|w|` so the sum fits
/// an `i32` (`(2^bits - 1) * max|w| * len < 2^31`).
#[inline]
pub fn dot_packed_i16(codes: &[u8], bits: u32, w: &[i16]) -> i32 {
    assert!(matches!(bits, 1 | 2 | 4), "packed codes have 1, 2 or 4 bits, not {bits}");
    assert_eq!(codes.len() * 8 / bits as usize, w.len(), "packed code row and query differ in length");
    assert_eq!(codes.len() % PACKED_GROUP_BYTES, 0, "packed code row is not whole groups");
    #[cfg(target_arch = "x86_64")]
    {
        match level() {
            // SAFETY: AVX-512 BW implies AVX2 on every CPU that has it, and the level was
            // detected on this CPU; the lengths were checked above.
            Level::Avx512 | Level::Avx2 => return unsafe { x86::dot_packed_i16_avx2(codes, bits, w) },
            Level::Scalar => {}
        }
    }
    dot_packed_i16_scalar(codes, bits, w)
}

/// The scalar reference of [`dot_packed_i16`].
pub fn dot_packed_i16_scalar(codes: &[u8], bits: u32, w: &[i16]) -> i32 {
    assert_eq!(codes.len() * 8 / bits as usize, w.len(), "packed code row and query differ in length");
    let per = packed_group_codes(bits);
    let mask = (1u32 << bits) - 1;
    let mut s = 0i32;
    for (group, wg) in codes.chunks_exact(PACKED_GROUP_BYTES).zip(w.chunks_exact(per)) {
        for (i, &x) in wg.iter().enumerate() {
            let (shift, j) = (i / PACKED_GROUP_BYTES, i % PACKED_GROUP_BYTES);
            let c = (u32::from(group[j]) >> (bits as usize * shift)) & mask;
            s += c as i32 * i32::from(x);
        }
    }
    s
}

/// Packs `codes` (each below `2^bits`, a whole number of groups) in [`dot_packed_i16`]'s
/// layout into `out` (`codes.len() * bits / 8` bytes).
pub fn pack_codes(codes: &[u8], bits: u32, out: &mut [u8]) {
    let per = packed_group_codes(bits);
    assert_eq!(codes.len() % per, 0, "codes are not whole groups");
    assert_eq!(out.len(), codes.len() * bits as usize / 8, "packed output of the wrong length");
    out.iter_mut().for_each(|b| *b = 0);
    for (group, og) in codes.chunks_exact(per).zip(out.chunks_exact_mut(PACKED_GROUP_BYTES)) {
        for (i, &c) in group.iter().enumerate() {
            debug_assert!(u32::from(c) < 1 << bits);
            og[i % PACKED_GROUP_BYTES] |= c << (bits as usize * (i / PACKED_GROUP_BYTES));
        }
    }
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
    /// AVX2 must be present; `bits` is 1, 2 or 4, `codes` whole 16-byte groups and
    /// `w.len() == codes.len() * 8 / bits`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dot_packed_i16_avx2(codes: &[u8], bits: u32, w: &[i16]) -> i32 {
        let shifts = 8 / bits as usize;
        let mask = _mm_set1_epi8(((1u32 << bits) - 1) as i8);
        let count = _mm_cvtsi32_si128(bits as i32);
        let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        let pw = w.as_ptr();
        let mut wi = 0;
        for g in codes.chunks_exact(16) {
            // SAFETY: `g` is 16 bytes; each step reads 16 weights at `wi`, and the group's
            // `shifts * 16` weights are within `w` (length checked by the caller).
            unsafe {
                let mut b = _mm_loadu_si128(g.as_ptr() as *const __m128i);
                let mut s = 0;
                while s + 2 <= shifts {
                    let c0 = _mm256_cvtepu8_epi16(_mm_and_si128(b, mask));
                    b = _mm_srl_epi16(b, count);
                    let c1 = _mm256_cvtepu8_epi16(_mm_and_si128(b, mask));
                    b = _mm_srl_epi16(b, count);
                    a0 = _mm256_add_epi32(
                        a0,
                        _mm256_madd_epi16(c0, _mm256_loadu_si256(pw.add(wi) as *const __m256i)),
                    );
                    a1 = _mm256_add_epi32(
                        a1,
                        _mm256_madd_epi16(c1, _mm256_loadu_si256(pw.add(wi + 16) as *const __m256i)),
                    );
                    wi += 32;
                    s += 2;
                }
            }
        }
        let a = _mm256_add_epi32(a0, a1);
        let lo = _mm256_castsi256_si128(a);
        let hi = _mm256_extracti128_si256::<1>(a);
        let s = _mm_add_epi32(lo, hi);
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
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
    fn packed_dot_equals_the_scalar_reference_and_the_unpacked_sum() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for bits in [1u32, 2, 4] {
            let per = packed_group_codes(bits);
            for groups in [1usize, 2, 3, 12] {
                let n = per * groups;
                let limit = (i32::MAX as i64 / (((1i64 << bits) - 1) * n as i64)).min(i16::MAX as i64) as i16;
                for round in 0..40 {
                    let codes: Vec<u8> = (0..n).map(|_| rng.gen_range(0..1u32 << bits) as u8).collect();
                    // The last rounds use the extreme codes and weights the callers allow.
                    let w: Vec<i16> = match round {
                        38 => vec![limit; n],
                        39 => vec![-limit; n],
                        _ => (0..n).map(|_| rng.gen_range(-limit..=limit)).collect(),
                    };
                    let codes = if round >= 38 { vec![((1u32 << bits) - 1) as u8; n] } else { codes };
                    let mut packed = vec![0u8; n * bits as usize / 8];
                    pack_codes(&codes, bits, &mut packed);
                    let want: i64 = codes.iter().zip(&w).map(|(&c, &x)| i64::from(c) * i64::from(x)).sum();
                    assert_eq!(
                        i64::from(dot_packed_i16_scalar(&packed, bits, &w)),
                        want,
                        "bits {bits} n {n}"
                    );
                    assert_eq!(i64::from(dot_packed_i16(&packed, bits, &w)), want, "bits {bits} n {n}");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "differ in length")]
    fn packed_unequal_lengths_panic_in_every_build() {
        dot_packed_i16(&[0u8; 16], 4, &[0i16; 64]);
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
