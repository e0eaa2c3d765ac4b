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
    pub fn from_roaring(bitmap: &RoaringBitmap, minus: Option<&RoaringBitmap>, capacity: usize) -> Self {
        let mut s = Self::with_capacity(capacity);
        for id in bitmap.iter() {
            if (id as usize) < capacity && !minus.is_some_and(|m| m.contains(id)) {
                s.insert(id);
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
