//! A contiguous in-memory arena of fixed-dimension vectors, addressed by dense internal id.

/// Vectors of one dimension, stored row-major in one allocation. Row `i` is internal id `i`.
///
/// Vectors are stored in the metric's prepared form ([`crate::Metric::prepare`]); callers pass
/// prepared vectors. Rows are never moved, so a row slice stays valid until the store is mutated.
#[derive(Debug, Clone, Default)]
pub struct VectorStore {
    dim: usize,
    data: Vec<f32>,
}

impl VectorStore {
    /// An empty store of vectors of `dim` components.
    pub fn new(dim: usize) -> Self {
        Self { dim, data: Vec::new() }
    }

    /// An empty store with room for `n` vectors.
    pub fn with_capacity(dim: usize, n: usize) -> Self {
        Self { dim, data: Vec::with_capacity(dim * n) }
    }

    /// Builds a store from row-major data; `data.len()` must be a multiple of `dim`.
    pub fn from_flat(dim: usize, data: Vec<f32>) -> Self {
        assert!(dim > 0 && data.len().is_multiple_of(dim), "flat data is not a whole number of rows");
        Self { dim, data }
    }

    /// Number of components per vector.
    #[inline]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of rows (including tombstoned ones: deletion is the index's business).
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether the store has no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `id`. Panics if `id` is out of range (an internal invariant, never user input).
    #[inline]
    pub fn get(&self, id: u32) -> &[f32] {
        let s = id as usize * self.dim;
        &self.data[s..s + self.dim]
    }

    /// Hints the CPU to start loading every cache line of row `id` (a no-op past the end, and
    /// on targets without a prefetch instruction). Searches call it a few rows ahead of the
    /// distance loop: rows are 1.5 KB at d = 384 and scattered, so each one otherwise starts
    /// with a full memory round trip.
    #[inline(always)]
    pub fn prefetch(&self, id: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let s = id as usize * self.dim;
            if let Some(row) = self.data.get(s..s + self.dim) {
                let p = row.as_ptr() as *const i8;
                let bytes = std::mem::size_of_val(row);
                let mut off = 0;
                while off < bytes {
                    // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is only a hint:
                    // it never faults or reads memory architecturally, whatever the address.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(off)) };
                    off += 64;
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = id;
    }

    /// Appends a row and returns its id. `v.len()` must equal `dim`.
    pub fn push(&mut self, v: &[f32]) -> u32 {
        assert_eq!(v.len(), self.dim, "vector dimension");
        let id = self.len() as u32;
        self.data.extend_from_slice(v);
        id
    }

    /// Writes row `id`, growing the store with zero rows if `id` is past the end.
    pub fn set(&mut self, id: u32, v: &[f32]) {
        assert_eq!(v.len(), self.dim, "vector dimension");
        let s = id as usize * self.dim;
        if self.data.len() < s + self.dim {
            self.data.resize(s + self.dim, 0.0);
        }
        self.data[s..s + self.dim].copy_from_slice(v);
    }

    /// Grows the store to `n` rows with zero rows (never shrinks).
    pub fn grow_to(&mut self, n: usize) {
        if self.data.len() < n * self.dim {
            self.data.resize(n * self.dim, 0.0);
        }
    }

    /// All rows, row-major.
    #[inline]
    pub fn as_flat(&self) -> &[f32] {
        &self.data
    }

    /// Bytes held by the vectors.
    pub fn memory_bytes(&self) -> usize {
        self.data.capacity() * std::mem::size_of::<f32>()
    }
}
