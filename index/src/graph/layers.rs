//! Neighbour storage: a flat, fixed-stride table for layer 0 and sparse per-node blocks above.
//!
//! Every neighbour slot is an `AtomicU32`, read with plain (`Relaxed`/`Acquire`) loads — on x86
//! these compile to ordinary `mov`s, so searches read lists without taking a lock, as hnswlib
//! does, but without a data race. Writers serialise per node through `locks[id]` and publish a
//! list by writing its entries first and its count last (`Release`): a concurrent reader sees
//! either the old count or the new one, and every entry below either count is a node of the
//! graph (lists are only ever rewritten with other graph nodes), so a torn read costs at worst a
//! slightly stale list, never a wrong id.
//!
//! Layout of one list block: `[count, n_0, n_1, .., n_{cap-1}]`.

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::OnceLock;

use parking_lot::Mutex;

/// Level of a slot whose id has not been inserted.
pub(super) const ABSENT: u8 = u8::MAX;

/// Highest level a node can get (the level draw is capped; at M = 2 this is 2^-16 away).
pub(super) const MAX_LEVEL: u8 = 16;

/// The neighbour tables of all slots `0..cap`.
#[derive(Debug)]
pub(super) struct Layers {
    /// Slots allocated (ids `0..cap` may be inserted without growing).
    pub cap: usize,
    /// Capacity of a layer-0 list.
    pub m0: usize,
    /// Capacity of an upper-layer list.
    pub m_up: usize,
    /// `cap * (1 + m0)` slots: layer 0, fixed stride, one cache-friendly table.
    pub level0: Box<[AtomicU32]>,
    /// Top level of each slot, [`ABSENT`] when not inserted.
    pub levels: Box<[AtomicU8]>,
    /// Layers `1..=level` of each node, `level * (1 + m_up)` slots, set once at insert.
    pub upper: Box<[OnceLock<Box<[AtomicU32]>>]>,
    /// Per-node writer locks (1 byte each).
    pub locks: Box<[Mutex<()>]>,
}

fn atomics(n: usize) -> Box<[AtomicU32]> {
    (0..n).map(|_| AtomicU32::new(0)).collect()
}

impl Layers {
    /// Empty tables for `cap` slots.
    pub fn new(cap: usize, m0: usize, m_up: usize) -> Self {
        Self {
            cap,
            m0,
            m_up,
            level0: atomics(cap * (1 + m0)),
            levels: (0..cap).map(|_| AtomicU8::new(ABSENT)).collect(),
            upper: (0..cap).map(|_| OnceLock::new()).collect(),
            locks: (0..cap).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Moves the tables into a larger allocation (`&mut self`: the caller holds the write lock).
    pub fn grow(&mut self, new_cap: usize) {
        if new_cap <= self.cap {
            return;
        }
        let mut next = Layers::new(new_cap, self.m0, self.m_up);
        for (dst, src) in next.level0.iter_mut().zip(self.level0.iter_mut()) {
            *dst.get_mut() = *src.get_mut();
        }
        for (dst, src) in next.levels.iter_mut().zip(self.levels.iter_mut()) {
            *dst.get_mut() = *src.get_mut();
        }
        for (dst, src) in next.upper.iter_mut().zip(self.upper.iter_mut()) {
            *dst = std::mem::take(src);
        }
        *self = next;
    }

    /// Level of `id`, or `None` when it is not in the graph.
    #[inline]
    pub fn level(&self, id: u32) -> Option<u8> {
        match self.levels.get(id as usize).map(|l| l.load(Ordering::Acquire)) {
            Some(ABSENT) | None => None,
            Some(l) => Some(l),
        }
    }

    /// The list block `[count, ids..]` of `id` at `level` (empty when the node has no such
    /// layer).
    #[inline]
    pub fn block(&self, id: u32, level: usize) -> &[AtomicU32] {
        if level == 0 {
            let s = id as usize * (1 + self.m0);
            &self.level0[s..s + 1 + self.m0]
        } else {
            let stride = 1 + self.m_up;
            match self.upper[id as usize].get() {
                Some(b) if b.len() >= level * stride => &b[(level - 1) * stride..level * stride],
                _ => &[],
            }
        }
    }

    /// Capacity of a list at `level`.
    #[inline]
    pub fn cap_at(&self, level: usize) -> usize {
        if level == 0 {
            self.m0
        } else {
            self.m_up
        }
    }

    /// Bytes held by the tables.
    pub fn memory_bytes(&self) -> usize {
        let upper: usize = self.upper.iter().filter_map(|u| u.get()).map(|b| b.len() * 4).sum();
        self.level0.len() * 4
            + self.levels.len()
            + self.upper.len() * std::mem::size_of::<OnceLock<Box<[AtomicU32]>>>()
            + upper
            + self.locks.len() * std::mem::size_of::<Mutex<()>>()
    }
}

/// Number of entries in a list block.
#[inline]
pub(super) fn count(block: &[AtomicU32]) -> usize {
    match block.first() {
        // Clamped: a block is never longer than its capacity, even if a count were corrupt.
        Some(c) => (c.load(Ordering::Acquire) as usize).min(block.len() - 1),
        None => 0,
    }
}

/// Entry `i` of a list block (`i < count`).
#[inline]
pub(super) fn entry(block: &[AtomicU32], i: usize) -> u32 {
    block[1 + i].load(Ordering::Relaxed)
}

/// Copies the list of a block into `out`.
#[inline]
pub(super) fn read_into(block: &[AtomicU32], out: &mut Vec<u32>) {
    out.clear();
    let n = count(block);
    out.extend(block[1..1 + n].iter().map(|a| a.load(Ordering::Relaxed)));
}

/// Publishes `ids` as the list of a block: entries first, then the count (the caller holds the
/// node's lock; `ids.len()` must not exceed the capacity).
#[inline]
pub(super) fn write(block: &[AtomicU32], ids: &[u32]) {
    let n = ids.len().min(block.len().saturating_sub(1));
    for (slot, &id) in block[1..].iter().zip(&ids[..n]) {
        slot.store(id, Ordering::Relaxed);
    }
    if let Some(c) = block.first() {
        c.store(n as u32, Ordering::Release);
    }
}
