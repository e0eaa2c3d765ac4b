//! Vector sources as the hot loops see them: a query bound to a set of rows.
//!
//! A graph walk or a scan needs two things per row: the distance from the query to it, and a
//! way to start loading it early. [`Scorer`] is exactly that, so one walk serves full f32 rows
//! ([`F32Scorer`]), scalar int8 codes ([`crate::quant::Sq8Scorer`]), binary codes
//! ([`crate::quant::BinaryScorer`]) and RaBitQ codes ([`crate::quant::RabitqScorer`]) alike, monomorphised per source (no dynamic dispatch in
//! the inner loop). A scorer over codes returns an *estimate* of the internal distance; every
//! caller that walks codes rescores its final candidates with [`F32Scorer`] (exact).

use crate::distance::DistFn;
use crate::VectorStore;

/// A query bound to a vector source: the internal distance (smaller is closer) from the query
/// to row `id`, exact or estimated. `id` must be a row of the source (below its length): the
/// graph only holds ids of rows that exist, and scans iterate within the source.
pub trait Scorer: Sync {
    /// Distance from the query to row `id`.
    fn dist(&self, id: u32) -> f32;

    /// Hints the CPU to start loading row `id` (a no-op where there is no prefetch).
    fn prefetch(&self, id: u32);

    /// Number of rows.
    fn rows(&self) -> usize;
}

/// Exact distances to full-precision rows.
#[derive(Debug, Clone, Copy)]
pub struct F32Scorer<'a> {
    /// The rows.
    pub vectors: &'a VectorStore,
    /// The metric's kernel ([`crate::Metric::kernel`]).
    pub dist_fn: DistFn,
    /// The prepared query (same length as the rows).
    pub query: &'a [f32],
}

impl<'a> F32Scorer<'a> {
    /// Binds `query` (prepared for the metric) to `vectors`. Panics when the lengths differ:
    /// callers validate user queries first, so a mismatch here is a bug, and the check holds in
    /// release builds because the kernels read `min(len)` components.
    pub fn new(vectors: &'a VectorStore, dist_fn: DistFn, query: &'a [f32]) -> Self {
        assert_eq!(vectors.dim(), query.len(), "query length differs from the rows' dimension");
        Self { vectors, dist_fn, query }
    }
}

impl Scorer for F32Scorer<'_> {
    #[inline(always)]
    fn dist(&self, id: u32) -> f32 {
        (self.dist_fn)(self.vectors.get(id), self.query)
    }

    #[inline(always)]
    fn prefetch(&self, id: u32) {
        self.vectors.prefetch(id);
    }

    #[inline(always)]
    fn rows(&self) -> usize {
        self.vectors.len()
    }
}

/// Hints the CPU to load `bytes` bytes from `p`, one prefetch per cache line. A prefetch is
/// only a hint: it never faults, whatever the address.
#[inline(always)]
pub(crate) fn prefetch_bytes(p: *const u8, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let mut off = 0;
        while off < bytes {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch never reads memory
            // architecturally or faults.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(off) as *const i8) };
            off += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, bytes);
}
