//! Scalar int8 codes: one byte per component, a per-dimension affine map.
//!
//! Training picks, per dimension `i`, the range `[lo_i, hi_i]` holding the central `quantile`
//! of a sample's values (Qdrant's `quantile` knob; 1.0 = min/max), so a few outliers do not
//! waste the 256 levels. A component is stored as `c_i = round((x_i - lo_i) / step_i)` clamped
//! to `0..=255`, `step_i = (hi_i - lo_i) / 255`; it decodes to `lo_i + step_i * c_i`.
//!
//! Distances are asymmetric: the query stays (nearly) full precision. With `w_i = q_i *
//! step_i`, `q . x^ = sum q_i lo_i + sum w_i c_i`; `w` is rounded to 16-bit integers with one
//! scale `t`, so the per-row work is one `u8 x i16` dot product ([`super::kernels`]). The
//! estimate's error against the decoded vector is at most `t/2 * sum c_i <= t/2 * 255 * d`; the
//! decoded vector's error against the stored one is at most `step_i / 2` per unclipped
//! component. [`Sq8Scorer::error_bound`] reports the sum for one query.

use crate::distance::dot;
use crate::source::{prefetch_bytes, Scorer};
use crate::{Metric, VectorStore};

use super::kernels::dot_u8_i16;

/// Rows are padded to a multiple of this many codes, so the kernels have no tail.
pub const ROW_ALIGN: usize = 32;

/// Trained ranges and the codes of every row.
#[derive(Debug, Clone)]
pub struct Sq8Codes {
    dim: usize,
    stride: usize,
    metric: Metric,
    lo: Vec<f32>,
    step: Vec<f32>,
    codes: Vec<u8>,
    /// `|x|^2` of each stored row (exact), for L2.
    sq_norms: Vec<f32>,
}

impl Sq8Codes {
    /// Ranges from `sample` rows (prepared vectors) keeping the central `quantile` of each
    /// dimension's values. An empty sample gives the range `[-1, 1]` (unit vectors).
    pub fn train(dim: usize, metric: Metric, sample: &[&[f32]], quantile: f32) -> Self {
        let stride = dim.div_ceil(ROW_ALIGN) * ROW_ALIGN;
        let q = quantile.clamp(0.5, 1.0) as f64;
        let mut lo = vec![-1.0f32; dim];
        let mut hi = vec![1.0f32; dim];
        if !sample.is_empty() {
            let n = sample.len();
            let lo_rank = (((1.0 - q) / 2.0) * (n - 1) as f64).round() as usize;
            let hi_rank = (((1.0 + q) / 2.0) * (n - 1) as f64).round() as usize;
            let mut col = vec![0.0f32; n];
            for i in 0..dim {
                for (c, row) in col.iter_mut().zip(sample) {
                    *c = row[i];
                }
                let (_, l, _) = col.select_nth_unstable_by(lo_rank, f32::total_cmp);
                lo[i] = *l;
                let (_, h, _) = col.select_nth_unstable_by(hi_rank.min(n - 1), f32::total_cmp);
                hi[i] = *h;
            }
        }
        let step = lo
            .iter()
            .zip(&hi)
            .map(|(&l, &h)| {
                let s = (h - l) / 255.0;
                if s > f32::MIN_POSITIVE && s.is_finite() {
                    s
                } else {
                    // A constant dimension: any positive step decodes it exactly at lo.
                    1.0
                }
            })
            .collect();
        Self { dim, stride, metric, lo, step, codes: Vec::new(), sq_norms: Vec::new() }
    }

    /// Codes for every row of `store` (deleted rows and gaps are encoded too: they are never
    /// returned, and encoding them keeps row `i` at offset `i`).
    pub fn encode_all(&mut self, store: &VectorStore) {
        self.codes.clear();
        self.sq_norms.clear();
        self.codes.reserve(store.len() * self.stride);
        for id in 0..store.len() as u32 {
            self.set(id, store.get(id));
        }
    }

    /// Encodes row `id` (growing the arena with zero rows up to it).
    pub fn set(&mut self, id: u32, v: &[f32]) {
        assert_eq!(v.len(), self.dim, "vector length differs from the codes' dimension");
        let id = id as usize;
        if self.rows() <= id {
            self.codes.resize((id + 1) * self.stride, 0);
            self.sq_norms.resize(id + 1, 0.0);
        }
        let row = &mut self.codes[id * self.stride..id * self.stride + self.dim];
        for (((c, &x), &l), &s) in row.iter_mut().zip(v).zip(&self.lo).zip(&self.step) {
            *c = ((x - l) / s).round().clamp(0.0, 255.0) as u8;
        }
        self.sq_norms[id] = dot(v, v);
    }

    /// Rows encoded.
    pub fn rows(&self) -> usize {
        self.sq_norms.len()
    }

    /// The decoded row `id` (for tests and error measurement).
    pub fn decode(&self, id: u32) -> Vec<f32> {
        let row = self.row(id);
        (0..self.dim).map(|i| self.lo[i] + self.step[i] * f32::from(row[i])).collect()
    }

    #[inline(always)]
    fn row(&self, id: u32) -> &[u8] {
        let s = id as usize * self.stride;
        &self.codes[s..s + self.stride]
    }

    /// Bytes held (codes, norms, ranges).
    pub fn memory_bytes(&self) -> usize {
        self.codes.capacity() + self.sq_norms.capacity() * 4 + (self.lo.len() + self.step.len()) * 4
    }

    /// Bytes per row.
    pub fn bytes_per_row(&self) -> usize {
        self.stride + 4
    }

    /// Binds a prepared query.
    pub fn scorer(&self, query: &[f32]) -> Sq8Scorer<'_> {
        assert_eq!(query.len(), self.dim, "query length differs from the codes' dimension");
        let w: Vec<f32> = query.iter().zip(&self.step).map(|(q, s)| q * s).collect();
        let wmax = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        // 255 * limit * stride must stay below 2^31 (see the kernel).
        let limit = (i32::MAX as f64 / (255.0 * self.stride as f64)).min(f64::from(i16::MAX)) as f32;
        let t = if wmax > 0.0 { wmax / limit } else { 1.0 };
        let mut wq = vec![0i16; self.stride];
        for (o, x) in wq.iter_mut().zip(&w) {
            *o = (x / t).round().clamp(-limit, limit) as i16;
        }
        let bias = query.iter().zip(&self.lo).map(|(q, l)| f64::from(*q) * f64::from(*l)).sum::<f64>() as f32;
        let q_sq = dot(query, query);
        let code_err: f32 = query.iter().zip(&self.step).map(|(q, s)| 0.5 * q.abs() * s).sum();
        let bound = code_err + 0.5 * t * 255.0 * self.dim as f32;
        Sq8Scorer { codes: self, w: wq, t, bias, q_sq, bound }
    }
}

impl Sq8Codes {
    /// The codes file's payload ([`super::persist`]) for the first `rows` rows.
    pub(crate) fn write_payload(&self, w: &mut super::persist::Writer, rows: usize) {
        w.f32s(&self.lo);
        w.f32s(&self.step);
        w.bytes(&self.codes[..rows * self.stride]);
        w.f32s(&self.sq_norms[..rows]);
    }

    /// Reads what [`Self::write_payload`] wrote; lengths are checked against `dim` and `rows`.
    pub(crate) fn read_payload(
        r: &mut super::persist::Reader<'_>,
        dim: usize,
        metric: Metric,
        rows: usize,
    ) -> Result<Self, String> {
        let stride = dim.div_ceil(ROW_ALIGN) * ROW_ALIGN;
        let lo = r.f32s(dim, "ranges")?;
        let step = r.f32s(dim, "steps")?;
        if step.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err("a step that is not positive".into());
        }
        let codes = r.bytes(rows * stride, "codes")?;
        let sq_norms = r.f32s(rows, "norms")?;
        Ok(Self { dim, stride, metric, lo, step, codes, sq_norms })
    }
}

/// A query bound to [`Sq8Codes`]: estimated internal distances.
#[derive(Debug)]
pub struct Sq8Scorer<'a> {
    codes: &'a Sq8Codes,
    w: Vec<i16>,
    t: f32,
    bias: f32,
    q_sq: f32,
    bound: f32,
}

impl Sq8Scorer<'_> {
    /// The estimated inner product of the query with row `id`.
    #[inline(always)]
    pub fn inner(&self, id: u32) -> f32 {
        self.bias + self.t * dot_u8_i16(self.codes.row(id), &self.w) as f32
    }

    /// An upper bound of `|estimate - q . x|` for rows whose components lie in the trained
    /// ranges: the 16-bit rounding of the query (`t/2` per unit of code, at most 255 per
    /// component) plus the code rounding (`|q_i| * step_i / 2` per component).
    pub fn error_bound(&self) -> f32 {
        self.bound
    }
}

impl Scorer for Sq8Scorer<'_> {
    #[inline(always)]
    fn dist(&self, id: u32) -> f32 {
        self.codes.metric.distance_from_inner(self.inner(id), self.q_sq, self.codes.sq_norms[id as usize])
    }

    #[inline(always)]
    fn prefetch(&self, id: u32) {
        let s = id as usize * self.codes.stride;
        if let Some(row) = self.codes.codes.get(s..s + self.codes.stride) {
            prefetch_bytes(row.as_ptr(), row.len());
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

    fn unit_rows(n: usize, d: usize, seed: u64) -> VectorStore {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut s = VectorStore::new(d);
        for i in 0..n as u32 {
            let mut v: Vec<f32> = (0..d).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
            crate::distance::normalize(&mut v);
            s.set(i, &v);
        }
        s
    }

    #[test]
    fn estimates_stay_within_the_stated_bound() {
        let (n, d) = (500, 100);
        let store = unit_rows(n, d, 3);
        let sample: Vec<&[f32]> = (0..n as u32).map(|i| store.get(i)).collect();
        for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
            let mut codes = Sq8Codes::train(d, metric, &sample, 1.0);
            codes.encode_all(&store);
            let q = store.get(7).to_vec();
            let sc = codes.scorer(&q);
            let bound = sc.error_bound();
            for id in 0..n as u32 {
                let exact = dot(&q, store.get(id));
                let err = (sc.inner(id) - exact).abs();
                assert!(err <= bound * 1.0001 + 1e-5, "{metric:?} id {id}: error {err} > bound {bound}");
                let want = metric.distance(&q, store.get(id));
                let got = sc.dist(id);
                let slack = if metric == Metric::L2 { 2.0 * bound } else { bound };
                assert!((got - want).abs() <= slack * 1.0001 + 1e-4, "{metric:?} id {id}: {got} vs {want}");
            }
            // The bound is useful: far below the spread of distances.
            assert!(bound < 0.05, "bound {bound}");
        }
    }

    #[test]
    fn decode_is_within_half_a_step() {
        let (n, d) = (200, 40);
        let store = unit_rows(n, d, 5);
        let sample: Vec<&[f32]> = (0..n as u32).map(|i| store.get(i)).collect();
        let mut codes = Sq8Codes::train(d, Metric::L2, &sample, 1.0);
        codes.encode_all(&store);
        for id in 0..n as u32 {
            let dec = codes.decode(id);
            for (i, ((x, y), s)) in dec.iter().zip(store.get(id)).zip(&codes.step).enumerate() {
                assert!((x - y).abs() <= s * 0.5001, "id {id} dim {i}");
            }
        }
    }

    #[test]
    fn quantile_clips_outliers_and_constant_dimensions_decode_exactly() {
        let d = 2;
        let mut store = VectorStore::new(d);
        for i in 0..1000u32 {
            let x = if i == 0 { 1000.0 } else { (i % 100) as f32 / 100.0 };
            store.set(i, &[x, 0.25]);
        }
        let sample: Vec<&[f32]> = (0..1000u32).map(|i| store.get(i)).collect();
        let mut codes = Sq8Codes::train(d, Metric::L2, &sample, 0.99);
        codes.encode_all(&store);
        assert!(codes.step[0] < 0.01, "the outlier must not set the range: step {}", codes.step[0]);
        assert_eq!(codes.decode(5)[1], 0.25);
    }
}
