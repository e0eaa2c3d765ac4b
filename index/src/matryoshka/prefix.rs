//! Contiguous prefix stores: the first `m` components of every point, packed row after row.
//!
//! Reading the first `m` floats *inside* full rows is no faster than a full scan (each row is
//! still a separate cache-line run, and the hardware prefetcher fetches the rest of the row);
//! packing the prefixes contiguously makes a prefix scan read `m / d` of the memory. Rows are
//! f32 (and then a [`VectorStore`], so Grove's graph can be built over them), f16, or int8 with
//! one scale per row.
//!
//! The distance on a prefix is the collection metric's internal distance on the prefix vectors
//! (`1 - a·b` for cosine, `-a·b` for dot, `‖a-b‖²` for L2): a *ranking* proxy for the full
//! distance, never returned to users (the last stage rescores at full dimension).

use roaring::RoaringBitmap;
use simsimd::SpatialSimilarity;

use crate::flat::{self, Allowed};
use crate::{Metric, Neighbor, TopK, VectorStore};

/// How prefix components are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrefixDtype {
    /// 4 bytes a component; exact prefix distances; the only type a prefix graph is built on.
    #[default]
    F32,
    /// 2 bytes a component (IEEE half precision, SIMD kernels).
    F16,
    /// 1 byte a component, symmetric per-row scale `max|x| / 127` (+ 8 bytes a row).
    I8,
}

impl PrefixDtype {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PrefixDtype::F32 => "f32",
            PrefixDtype::F16 => "f16",
            PrefixDtype::I8 => "i8",
        }
    }
}

/// A query prefix converted to a store's element type.
#[derive(Debug, Clone)]
pub enum PrefixQuery {
    /// f32 components.
    F32(Vec<f32>),
    /// f16 components.
    F16(Vec<simsimd::f16>),
    /// int8 codes, their scale and the squared norm of the dequantised vector.
    I8 {
        /// Codes.
        codes: Vec<i8>,
        /// `x ≈ scale · code`.
        scale: f32,
        /// `‖scale · codes‖²` (for L2).
        norm2: f32,
    },
}

#[derive(Debug, Clone)]
enum Rows {
    F32(VectorStore),
    F16(Vec<simsimd::f16>),
    I8 { codes: Vec<i8>, scale: Vec<f32>, norm2: Vec<f32> },
}

/// The prefix rows of one declared dimension `m`. Row `i` is internal id `i`.
#[derive(Debug, Clone)]
pub struct PrefixStore {
    dim: usize,
    rows: Rows,
}

/// Symmetric int8 quantisation of one row: codes, scale, squared norm of the dequantised row.
fn quantise(v: &[f32], out: &mut [i8]) -> (f32, f32) {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        out.iter_mut().for_each(|c| *c = 0);
        return (0.0, 0.0);
    }
    let scale = max / 127.0;
    let inv = 1.0 / scale;
    let mut n2 = 0.0f32;
    for (c, x) in out.iter_mut().zip(v) {
        let q = (x * inv).round().clamp(-127.0, 127.0);
        *c = q as i8;
        n2 += (q * scale) * (q * scale);
    }
    (scale, n2)
}

impl PrefixStore {
    /// An empty store of `dim`-component prefixes.
    pub fn new(dim: usize, dtype: PrefixDtype) -> Self {
        let rows = match dtype {
            PrefixDtype::F32 => Rows::F32(VectorStore::new(dim)),
            PrefixDtype::F16 => Rows::F16(Vec::new()),
            PrefixDtype::I8 => Rows::I8 { codes: Vec::new(), scale: Vec::new(), norm2: Vec::new() },
        };
        Self { dim, rows }
    }

    /// Components per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The element type.
    pub fn dtype(&self) -> PrefixDtype {
        match self.rows {
            Rows::F32(_) => PrefixDtype::F32,
            Rows::F16(_) => PrefixDtype::F16,
            Rows::I8 { .. } => PrefixDtype::I8,
        }
    }

    /// Rows held (the id space, gaps included).
    pub fn len(&self) -> usize {
        match &self.rows {
            Rows::F32(s) => s.len(),
            Rows::F16(v) => v.len() / self.dim,
            Rows::I8 { scale, .. } => scale.len(),
        }
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The f32 rows (a prefix graph is built and searched over them); `None` for f16 / int8.
    pub fn as_f32(&self) -> Option<&VectorStore> {
        match &self.rows {
            Rows::F32(s) => Some(s),
            Rows::F16(_) | Rows::I8 { .. } => None,
        }
    }

    /// Writes row `id` (exactly `dim` components), growing with zero rows past the end.
    pub fn set(&mut self, id: u32, v: &[f32]) {
        debug_assert_eq!(v.len(), self.dim);
        let (i, d) = (id as usize, self.dim);
        match &mut self.rows {
            Rows::F32(s) => s.set(id, v),
            Rows::F16(data) => {
                if data.len() < (i + 1) * d {
                    data.resize((i + 1) * d, simsimd::f16::ZERO);
                }
                for (o, x) in data[i * d..(i + 1) * d].iter_mut().zip(v) {
                    *o = simsimd::f16::from_f32(*x);
                }
            }
            Rows::I8 { codes, scale, norm2 } => {
                if scale.len() <= i {
                    codes.resize((i + 1) * d, 0);
                    scale.resize(i + 1, 0.0);
                    norm2.resize(i + 1, 0.0);
                }
                let (s, n2) = quantise(v, &mut codes[i * d..(i + 1) * d]);
                scale[i] = s;
                norm2[i] = n2;
            }
        }
    }

    /// Converts a query prefix (exactly `dim` components, already rotated and re-normalised)
    /// into this store's element type.
    pub fn query(&self, q: &[f32]) -> PrefixQuery {
        match &self.rows {
            Rows::F32(_) => PrefixQuery::F32(q.to_vec()),
            Rows::F16(_) => PrefixQuery::F16(q.iter().map(|x| simsimd::f16::from_f32(*x)).collect()),
            Rows::I8 { .. } => {
                let mut codes = vec![0i8; q.len()];
                let (scale, norm2) = quantise(q, &mut codes);
                PrefixQuery::I8 { codes, scale, norm2 }
            }
        }
    }

    /// The metric's internal distance between a query prefix and row `id`.
    #[inline]
    pub fn distance(&self, metric: Metric, q: &PrefixQuery, id: u32) -> f32 {
        let (i, d) = (id as usize, self.dim);
        match (&self.rows, q) {
            (Rows::F32(s), PrefixQuery::F32(q)) => metric.distance(q, s.get(id)),
            (Rows::F16(data), PrefixQuery::F16(q)) => {
                let row = &data[i * d..(i + 1) * d];
                match metric {
                    Metric::Cosine => 1.0 - f16_dot(q, row),
                    Metric::Dot => -f16_dot(q, row),
                    Metric::L2 => simsimd::f16::l2sq(q, row).unwrap_or(f64::INFINITY) as f32,
                }
            }
            (Rows::I8 { codes, scale, norm2 }, PrefixQuery::I8 { codes: qc, scale: qs, norm2: qn }) => {
                let raw = i8::dot(qc, &codes[i * d..(i + 1) * d]).unwrap_or(0.0) as f32;
                let ab = raw * qs * scale[i];
                match metric {
                    Metric::Cosine => 1.0 - ab,
                    Metric::Dot => -ab,
                    Metric::L2 => (qn + norm2[i] - 2.0 * ab).max(0.0),
                }
            }
            // A query converted by another store: never produced by this module.
            _ => f32::INFINITY,
        }
    }

    /// The `k` best rows by prefix distance over `allowed` (already minus tombstones), and the
    /// number of distances computed.
    pub fn scan(
        &self,
        metric: Metric,
        q: &PrefixQuery,
        k: usize,
        allowed: Allowed<'_>,
    ) -> (Vec<Neighbor>, u64) {
        // An unarmed signal never fires, so this is never the default.
        self.scan_stoppable(metric, q, k, allowed, &crate::stop::NEVER).unwrap_or_default()
    }

    /// [`Self::scan`] polling `stop` every few hundred rows; `Err(IndexError::Stopped)` when it
    /// fired (no partial result).
    pub fn scan_stoppable(
        &self,
        metric: Metric,
        q: &PrefixQuery,
        k: usize,
        allowed: Allowed<'_>,
        stop: &crate::stop::Stop,
    ) -> crate::Result<(Vec<Neighbor>, u64)> {
        if let (Rows::F32(s), PrefixQuery::F32(qv)) = (&self.rows, q) {
            let r = flat::search_stoppable(s, metric, qv, k, allowed, None, stop);
            if let Some(cause) = r.stopped {
                return Err(crate::IndexError::Stopped { cause });
            }
            return Ok((r.hits, r.distances_computed));
        }
        let n = self.len();
        let mut top = TopK::new(k);
        let mut count = 0u64;
        let mut chk = crate::stop::StopCheck::new(stop, 0);
        // Returns false once the stop signal fired.
        let mut visit = |id: u32| {
            count += 1;
            top.push(Neighbor::new(id, self.distance(metric, q, id)));
            !chk.due(count)
        };
        match allowed {
            Allowed::All { dead } => {
                let empty = RoaringBitmap::new();
                let dead = dead.unwrap_or(&empty);
                let mut dead_iter = dead.iter().peekable();
                for id in 0..n as u32 {
                    while dead_iter.peek().is_some_and(|&x| x < id) {
                        dead_iter.next();
                    }
                    if dead_iter.peek() != Some(&id) && !visit(id) {
                        break;
                    }
                }
            }
            Allowed::Bitmap(b) => {
                for id in b.iter().take_while(|&id| (id as usize) < n) {
                    if !visit(id) {
                        break;
                    }
                }
            }
            Allowed::Dense(set) => {
                for id in (0..n as u32).filter(|&id| set.contains(id)) {
                    if !visit(id) {
                        break;
                    }
                }
            }
            Allowed::Ids(ids) => {
                for &id in ids.iter().filter(|&&id| (id as usize) < n) {
                    if !visit(id) {
                        break;
                    }
                }
            }
        }
        chk.result()?;
        Ok((top.into_sorted_vec(), count))
    }

    /// Bytes held by the rows.
    pub fn memory_bytes(&self) -> usize {
        match &self.rows {
            Rows::F32(s) => s.memory_bytes(),
            Rows::F16(v) => v.capacity() * 2,
            Rows::I8 { codes, scale, norm2 } => codes.capacity() + (scale.capacity() + norm2.capacity()) * 4,
        }
    }

    /// Bytes a row takes.
    pub fn bytes_per_row(&self) -> usize {
        match self.rows {
            Rows::F32(_) => 4 * self.dim,
            Rows::F16(_) => 2 * self.dim,
            Rows::I8 { .. } => self.dim + 8,
        }
    }
}

#[inline]
fn f16_dot(a: &[simsimd::f16], b: &[simsimd::f16]) -> f32 {
    simsimd::f16::dot(a, b).unwrap_or(0.0) as f32
}

/// The f32 reference of [`PrefixStore::distance`] for tests: dot and L2 on plain slices.
#[cfg(test)]
pub(crate) fn reference(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    use crate::distance::{dot, l2sq};
    match metric {
        Metric::Cosine => 1.0 - dot(a, b),
        Metric::Dot => -dot(a, b),
        Metric::L2 => l2sq(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Every dtype's distance is within its quantisation error of the f32 distance, and scans
    /// honour tombstones and bitmaps.
    #[test]
    fn dtypes_match_f32_within_quantisation_error() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let d = 48;
        let rows: Vec<Vec<f32>> = (0..300)
            .map(|_| {
                let mut v: Vec<f32> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
                crate::distance::normalize(&mut v);
                v
            })
            .collect();
        let mut q: Vec<f32> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
        crate::distance::normalize(&mut q);
        // Unit vectors: f16 relative error 2^-11 per component, int8 1/254 of the max component.
        for (dtype, tol) in [(PrefixDtype::F32, 1e-5), (PrefixDtype::F16, 2e-3), (PrefixDtype::I8, 3e-2)] {
            for metric in [Metric::Cosine, Metric::Dot, Metric::L2] {
                let mut s = PrefixStore::new(d, dtype);
                for (i, r) in rows.iter().enumerate() {
                    s.set(i as u32, r);
                }
                assert_eq!(s.len(), 300);
                assert_eq!(s.dtype(), dtype);
                let pq = s.query(&q);
                for (i, r) in rows.iter().enumerate() {
                    let want = reference(metric, &q, r);
                    let got = s.distance(metric, &pq, i as u32);
                    assert!((got - want).abs() <= tol, "{dtype:?} {metric:?} row {i}: {got} vs {want}");
                }
                let dead: RoaringBitmap = (0..300).step_by(2).collect();
                let (hits, n) = s.scan(metric, &pq, 5, Allowed::All { dead: Some(&dead) });
                assert_eq!(n, 150);
                assert!(hits.iter().all(|h| h.id % 2 == 1));
                let allow: RoaringBitmap = [3u32, 7, 8, 299, 5000].into_iter().collect();
                let (hits, n) = s.scan(metric, &pq, 10, Allowed::Bitmap(&allow));
                assert_eq!((hits.len(), n), (4, 4));
            }
        }
    }

    #[test]
    fn set_past_the_end_grows_with_zero_rows() {
        for dtype in [PrefixDtype::F32, PrefixDtype::F16, PrefixDtype::I8] {
            let mut s = PrefixStore::new(3, dtype);
            s.set(4, &[1.0, 0.0, 0.0]);
            assert_eq!(s.len(), 5);
            let q = s.query(&[1.0, 0.0, 0.0]);
            assert!((s.distance(Metric::Dot, &q, 4) + 1.0).abs() < 1e-2);
            assert_eq!(s.distance(Metric::Dot, &q, 2), 0.0);
        }
    }
}
