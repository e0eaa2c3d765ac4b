//! Dense id sets for the hot loops of filtered search.
//!
//! A roaring bitmap is the right *storage* and *algebra* for filters, but a `contains` on it costs
//! a container lookup; graph traversal asks that question for every neighbour it touches. Before a
//! filtered graph search the allowed set (filter minus tombstones) is expanded once into a dense
//! bitset: `n/8` bytes, one shift and mask per test.

use roaring::RoaringBitmap;

/// A fixed-capacity bitset over internal ids `0..capacity`.
#[derive(Debug, Clone, Default)]
pub struct DenseIdSet {
    words: Vec<u64>,
    len: u64,
}

impl DenseIdSet {
    /// An empty set able to hold ids below `capacity`.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { words: vec![0; capacity.div_ceil(64)], len: 0 }
    }

    /// The ids of `bitmap` below `capacity`, minus those in `minus` (tombstones) when given.
    ///
    /// This runs once per filtered graph search over every allowed id (25k at 50% of the arXiv
    /// set), so the common case is a bare loop: set bits, no per-id bounds or tombstone test
    /// (tombstones are cleared afterwards, one per tombstone), length taken from the bitmap.
    pub fn from_roaring(bitmap: &RoaringBitmap, minus: Option<&RoaringBitmap>, capacity: usize) -> Self {
        let mut s = Self::with_capacity(capacity);
        let words = &mut s.words;
        let mut len = 0u64;
        for id in bitmap.iter() {
            // Roaring iterates in ascending order: the ids below `capacity` are a prefix.
            let Some(w) = words.get_mut(id as usize >> 6) else { break };
            *w |= 1u64 << (id & 63);
            len += 1;
        }
        // The last word may hold ids at or past `capacity` (capacity % 64 != 0).
        if capacity % 64 != 0 {
            if let Some(last) = words.last_mut() {
                let extra = (*last & !((1u64 << (capacity % 64)) - 1)).count_ones();
                *last &= (1u64 << (capacity % 64)) - 1;
                len -= u64::from(extra);
            }
        }
        s.len = len;
        if let Some(m) = minus {
            for id in m.iter() {
                s.remove(id);
            }
        }
        s
    }

    /// Every id below `capacity` except those in `minus`.
    pub fn all_except(capacity: usize, minus: Option<&RoaringBitmap>) -> Self {
        let mut words = vec![u64::MAX; capacity.div_ceil(64)];
        if capacity % 64 != 0 {
            if let Some(last) = words.last_mut() {
                *last = (1u64 << (capacity % 64)) - 1;
            }
        }
        let mut s = Self { words, len: capacity as u64 };
        if let Some(m) = minus {
            for id in m.iter() {
                s.remove(id);
            }
        }
        s
    }

    /// Adds `id`; ids past the capacity are ignored.
    #[inline]
    pub fn insert(&mut self, id: u32) {
        let (w, b) = (id as usize >> 6, id & 63);
        if let Some(word) = self.words.get_mut(w) {
            if *word & (1 << b) == 0 {
                *word |= 1 << b;
                self.len += 1;
            }
        }
    }

    /// Removes `id`.
    #[inline]
    pub fn remove(&mut self, id: u32) {
        let (w, b) = (id as usize >> 6, id & 63);
        if let Some(word) = self.words.get_mut(w) {
            if *word & (1 << b) != 0 {
                *word &= !(1 << b);
                self.len -= 1;
            }
        }
    }

    /// Whether `id` is in the set.
    #[inline]
    pub fn contains(&self, id: u32) -> bool {
        self.words.get(id as usize >> 6).is_some_and(|w| w & (1 << (id & 63)) != 0)
    }

    /// Number of ids in the set.
    #[inline]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the set is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `from_roaring` against a per-id model: ids past the capacity (in the last partial word
    /// and beyond it) are dropped, tombstones removed, and the length counts what is left.
    #[test]
    fn from_roaring_matches_a_per_id_model() {
        let bitmap: RoaringBitmap = (0..1000u32).filter(|i| i % 3 != 1).chain([5000, 70_000]).collect();
        let minus: RoaringBitmap = [0u32, 3, 999, 5000, 4000].into_iter().collect();
        for capacity in [0usize, 1, 63, 64, 65, 700, 999, 1000, 5000, 5001, 100_000] {
            for m in [None, Some(&minus)] {
                let s = DenseIdSet::from_roaring(&bitmap, m, capacity);
                let want: Vec<u32> = bitmap
                    .iter()
                    .filter(|&id| (id as usize) < capacity && !m.is_some_and(|m| m.contains(id)))
                    .collect();
                let got: Vec<u32> = (0..capacity as u32 + 70).filter(|&id| s.contains(id)).collect();
                assert_eq!(got, want, "capacity {capacity}, minus {}", m.is_some());
                assert_eq!(s.len(), want.len() as u64, "capacity {capacity}");
            }
        }
        let all = DenseIdSet::all_except(130, Some(&minus));
        assert_eq!(all.len(), 128);
        assert!(!all.contains(3) && all.contains(4) && !all.contains(130));
    }
}
