//! Binary codes: one bit per component (32x smaller than f32), with an asymmetric estimator.
//!
//! Training finds the per-dimension mean `mu_i` and mean absolute deviation `sigma_i` of a
//! sample. A row `x` is stored as the signs `s_i = sign(x_i - mu_i)` (a bit each) and one
//! scale `beta = sum |x_i - mu_i| sigma_i / sum sigma_i^2`, the least-squares fit of
//! `x ~ mu + beta * sigma (.) s` for those signs (plus `|x|^2` for L2).
//!
//! For a query, `q . x^ = q . mu + beta * sum w_i s_i` with `w = q (.) sigma`. The query's `w`
//! is quantized to 4 bits (`w_i ~ w_min + delta * u_i`, `u_i` in `0..16`) and stored as four
//! bit planes, so `sum over set bits of w_i` is `w_min * popcount(code) + delta * sum_b 2^b
//! popcount(code & plane_b)`: a few dozen popcounts per row at d = 384 (the bit-sliced
//! inner product RaBitQ uses). The estimate is coarse (sign codes keep the direction of `x - mu`
//! per component, not its size), so searches over binary codes rescore a wider candidate list
//! with the full vectors; [`BinaryScorer::error_bound`] reports the query-side rounding bound
//! (`delta / 2 * d * beta`), the code-side error is data dependent.

use crate::distance::dot;
use crate::source::{prefetch_bytes, Scorer};
use crate::{Metric, VectorStore};

use super::kernels::bitsliced_sum;

/// Bits of the query's bit-sliced weights.
const QUERY_BITS: usize = 4;

/// Trained centre and spread, and the codes of every row.
#[derive(Debug, Clone)]
pub struct BinaryCodes {
    dim: usize,
    words: usize,
    metric: Metric,
    mu: Vec<f32>,
    sigma: Vec<f32>,
    bits: Vec<u64>,
    beta: Vec<f32>,
    sq_norms: Vec<f32>,
}

impl BinaryCodes {
    /// Centre and spread from `sample` rows (prepared vectors); an empty sample centres at 0
    /// with unit spread.
    pub fn train(dim: usize, metric: Metric, sample: &[&[f32]]) -> Self {
        let mut mu = vec![0.0f64; dim];
        let mut sigma = vec![0.0f64; dim];
        if !sample.is_empty() {
            for row in sample {
                for (m, x) in mu.iter_mut().zip(row.iter()) {
                    *m += f64::from(*x);
                }
            }
            mu.iter_mut().for_each(|m| *m /= sample.len() as f64);
            for row in sample {
                for ((s, x), m) in sigma.iter_mut().zip(row.iter()).zip(&mu) {
                    *s += (f64::from(*x) - m).abs();
                }
            }
            sigma.iter_mut().for_each(|s| *s /= sample.len() as f64);
        }
        let sigma = sigma.iter().map(|&s| if s > 1e-12 { s as f32 } else { 1.0 }).collect();
        Self {
            dim,
            words: dim.div_ceil(64),
            metric,
            mu: mu.iter().map(|&m| m as f32).collect(),
            sigma,
            bits: Vec::new(),
            beta: Vec::new(),
            sq_norms: Vec::new(),
        }
    }

    /// Codes for every row of `store` (deleted rows and gaps too: row `i` stays at offset `i`).
    pub fn encode_all(&mut self, store: &VectorStore) {
        self.bits.clear();
        self.beta.clear();
        self.sq_norms.clear();
        for id in 0..store.len() as u32 {
            self.set(id, store.get(id));
        }
    }

    /// Encodes row `id` (growing the arena with zero rows up to it).
    pub fn set(&mut self, id: u32, v: &[f32]) {
        assert_eq!(v.len(), self.dim, "vector length differs from the codes' dimension");
        let i = id as usize;
        if self.rows() <= i {
            self.bits.resize((i + 1) * self.words, 0);
            self.beta.resize(i + 1, 0.0);
            self.sq_norms.resize(i + 1, 0.0);
        }
        let row = &mut self.bits[i * self.words..(i + 1) * self.words];
        row.iter_mut().for_each(|w| *w = 0);
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for (j, ((&x, &m), &s)) in v.iter().zip(&self.mu).zip(&self.sigma).enumerate() {
            let r = x - m;
            if r > 0.0 {
                row[j / 64] |= 1 << (j % 64);
            }
            num += f64::from(r.abs()) * f64::from(s);
            den += f64::from(s) * f64::from(s);
        }
        self.beta[i] = if den > 0.0 { (num / den) as f32 } else { 0.0 };
        self.sq_norms[i] = dot(v, v);
    }

    /// Rows encoded.
    pub fn rows(&self) -> usize {
        self.beta.len()
    }

    /// The reconstruction `mu + beta * sigma (.) s` of row `id` (what the estimator scores).
    pub fn decode(&self, id: u32) -> Vec<f32> {
        let i = id as usize;
        let row = &self.bits[i * self.words..(i + 1) * self.words];
        (0..self.dim)
            .map(|j| {
                let s = if row[j / 64] >> (j % 64) & 1 == 1 { 1.0 } else { -1.0 };
                self.mu[j] + self.beta[i] * self.sigma[j] * s
            })
            .collect()
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.bits.capacity() * 8 + (self.beta.capacity() + self.sq_norms.capacity()) * 4 + self.dim * 8
    }

    /// Bytes per row (bits, scale, norm).
    pub fn bytes_per_row(&self) -> usize {
        self.words * 8 + 8
    }

    /// Binds a prepared query.
    pub fn scorer(&self, query: &[f32]) -> BinaryScorer<'_> {
        assert_eq!(query.len(), self.dim, "query length differs from the codes' dimension");
        let w: Vec<f32> = query.iter().zip(&self.sigma).map(|(q, s)| q * s).collect();
        let (wmin, wmax) =
            w.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        let levels = ((1 << QUERY_BITS) - 1) as f32;
        let delta = if wmax > wmin { (wmax - wmin) / levels } else { 1.0 };
        let mut planes = vec![0u64; QUERY_BITS * self.words];
        let mut wq_sum = 0.0f64;
        for (j, &x) in w.iter().enumerate() {
            let u = ((x - wmin) / delta).round().clamp(0.0, levels) as u32;
            wq_sum += f64::from(wmin + delta * u as f32);
            for b in 0..QUERY_BITS {
                if u >> b & 1 == 1 {
                    planes[b * self.words + j / 64] |= 1 << (j % 64);
                }
            }
        }
        let q_mu = dot(query, &self.mu);
        BinaryScorer { codes: self, planes, wmin, delta, w_sum: wq_sum as f32, q_mu, q_sq: dot(query, query) }
    }
}

impl BinaryCodes {
    /// The codes file's payload ([`super::persist`]) for the first `rows` rows.
    pub(crate) fn write_payload(&self, w: &mut super::persist::Writer, rows: usize) {
        w.f32s(&self.mu);
        w.f32s(&self.sigma);
        w.u64s(&self.bits[..rows * self.words]);
        w.f32s(&self.beta[..rows]);
        w.f32s(&self.sq_norms[..rows]);
    }

    /// Reads what [`Self::write_payload`] wrote; lengths are checked against `dim` and `rows`.
    pub(crate) fn read_payload(
        r: &mut super::persist::Reader<'_>,
        dim: usize,
        metric: Metric,
        rows: usize,
    ) -> Result<Self, String> {
        let words = dim.div_ceil(64);
        Ok(Self {
            dim,
            words,
            metric,
            mu: r.f32s(dim, "centre")?,
            sigma: r.f32s(dim, "spread")?,
            bits: r.u64s(rows * words, "codes")?,
            beta: r.f32s(rows, "scales")?,
            sq_norms: r.f32s(rows, "norms")?,
        })
    }
}

/// A query bound to [`BinaryCodes`]: estimated internal distances.
#[derive(Debug)]
pub struct BinaryScorer<'a> {
    codes: &'a BinaryCodes,
    planes: Vec<u64>,
    wmin: f32,
    delta: f32,
    /// Sum of the quantized weights (the `-1` side of `sum w_i s_i`).
    w_sum: f32,
    q_mu: f32,
    q_sq: f32,
}

impl BinaryScorer<'_> {
    /// The estimated inner product of the query with row `id`.
    #[inline(always)]
    pub fn inner(&self, id: u32) -> f32 {
        let c = self.codes;
        let i = id as usize;
        let code = &c.bits[i * c.words..(i + 1) * c.words];
        let (sliced, ones) = bitsliced_sum(code, &self.planes);
        // sum over set bits of w, then sum w_i s_i = 2 * set - all.
        let set = self.wmin * ones as f32 + self.delta * sliced as f32;
        self.q_mu + c.beta[i] * (2.0 * set - self.w_sum)
    }

    /// The query-side rounding bound for a row of scale `beta = 1`: `delta / 2` per component.
    pub fn error_bound(&self) -> f32 {
        self.delta * 0.5 * self.codes.dim as f32
    }
}

impl Scorer for BinaryScorer<'_> {
    #[inline(always)]
    fn dist(&self, id: u32) -> f32 {
        self.codes.metric.distance_from_inner(self.inner(id), self.q_sq, self.codes.sq_norms[id as usize])
    }

    #[inline(always)]
    fn prefetch(&self, id: u32) {
        let c = self.codes;
        let s = id as usize * c.words;
        if let Some(row) = c.bits.get(s..s + c.words) {
            prefetch_bytes(row.as_ptr() as *const u8, row.len() * 8);
        }
    }

    #[inline(always)]
    fn rows(&self) -> usize {
        self.codes.rows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn estimate_is_the_reconstruction_within_the_query_rounding_bound() {
        let d = 96;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut store = VectorStore::new(d);
        for i in 0..300u32 {
            let v: Vec<f32> = (0..d).map(|j| rng.gen_range(-1.0f32..1.0) * (1.0 + j as f32 / 50.0)).collect();
            store.set(i, &v);
        }
        let sample: Vec<&[f32]> = (0..300u32).map(|i| store.get(i)).collect();
        for metric in [Metric::Dot, Metric::L2] {
            let mut codes = BinaryCodes::train(d, metric, &sample);
            codes.encode_all(&store);
            let q: Vec<f32> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let sc = codes.scorer(&q);
            let mut agree = 0;
            for id in 0..300u32 {
                let rec = codes.decode(id);
                let want = dot(&q, &rec);
                let bound = sc.error_bound() * codes.beta[id as usize] * 1.001 + 1e-4;
                assert!(
                    (sc.inner(id) - want).abs() <= bound,
                    "id {id}: {} vs {want} (bound {bound})",
                    sc.inner(id)
                );
                // The estimate tracks the true inner product's sign most of the time.
                let exact = dot(&q, store.get(id));
                agree += usize::from((sc.inner(id) - sc.q_mu).signum() == (exact - sc.q_mu).signum());
            }
            assert!(agree > 200, "{metric:?}: the estimate agreed in sign {agree} of 300 times");
        }
    }
}
