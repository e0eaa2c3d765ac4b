//! Candidates ordered by distance, and a bounded top-k collector.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A point and its internal distance to the query (smaller is closer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    /// Internal id.
    pub id: u32,
    /// Internal distance ([`crate::Metric::distance`]).
    pub dist: f32,
}

impl Neighbor {
    /// A candidate.
    #[inline]
    pub fn new(id: u32, dist: f32) -> Self {
        Self { id, dist }
    }
}

impl Eq for Neighbor {}

impl Ord for Neighbor {
    /// By distance (NaN-safe total order), ties broken by id so results are deterministic.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist.total_cmp(&other.dist).then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Neighbor {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the `k` closest candidates pushed into it.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Neighbor>, // max-heap: the worst kept candidate on top
}

impl TopK {
    /// A collector for the `k` best.
    pub fn new(k: usize) -> Self {
        Self { k, heap: BinaryHeap::with_capacity(k + 1) }
    }

    /// Offers a candidate; returns whether it was kept.
    #[inline]
    pub fn push(&mut self, n: Neighbor) -> bool {
        if self.k == 0 {
            return false;
        }
        if self.heap.len() < self.k {
            self.heap.push(n);
            true
        } else if let Some(mut top) = self.heap.peek_mut() {
            if n < *top {
                *top = n;
                true
            } else {
                false
            }
        } else {
            false
        }
    }

    /// The distance a candidate must beat to be kept (`f32::INFINITY` until full).
    #[inline]
    pub fn bound(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::INFINITY
        } else {
            self.heap.peek().map_or(f32::INFINITY, |n| n.dist)
        }
    }

    /// Number of candidates kept.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The kept candidates, closest first.
    pub fn into_sorted_vec(self) -> Vec<Neighbor> {
        self.heap.into_sorted_vec()
    }
}
