//! The layer searches: unfiltered beam search (also used by construction), filtered HNSW, and
//! ACORN's predicate-subgraph search.
//!
//! Per-thread scratch (visited tags, heaps, buffers) lives in a thread-local and is reused, so a
//! search allocates nothing proportional to the graph: the visited set is a `u16` generation tag
//! per slot, reset by bumping the generation (a full clear every 65,535 searches).

use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::layers::{count, entry, Layers};
use super::SearchStats;
use crate::source::Scorer;
use crate::stop::{Stop, StopCheck};
use crate::DenseIdSet;

/// A node and its distance to the current query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cand {
    pub dist: f32,
    pub id: u32,
}

impl Eq for Cand {}

impl Ord for Cand {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist.total_cmp(&other.dist).then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Cand {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One entry of [`Ctx::search_layer`]'s beam.
#[derive(Debug, Clone, Copy)]
pub(super) struct PoolEntry {
    cand: Cand,
    expanded: bool,
}

/// Inserts `c` into the sorted `pool` (at most `ef` entries; the worst falls off); returns its
/// position (`ef` when it did not fit).
#[inline]
fn pool_insert(pool: &mut Vec<PoolEntry>, ef: usize, c: Cand) -> usize {
    let pos = pool.partition_point(|p| p.cand < c);
    if pos >= ef {
        return ef;
    }
    if pool.len() >= ef {
        pool.pop();
    }
    pool.insert(pos, PoolEntry { cand: c, expanded: false });
    pos
}

/// Reusable per-thread search state.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// The beam of [`Ctx::search_layer`], closest first.
    pool: Vec<PoolEntry>,
    visited: Vec<u16>,
    generation: u16,
    marks: Vec<u16>,
    mark_generation: u16,
    /// Frontier, nearest first.
    pub cand: BinaryHeap<Reverse<Cand>>,
    /// Results, worst on top.
    pub res: BinaryHeap<Cand>,
    /// Filtered HNSW: the window over every visited node, worst on top.
    pub all: BinaryHeap<Cand>,
    /// Neighbour ids gathered for one expansion.
    pub buf: Vec<u32>,
    /// Second id buffer (neighbour lists read during linking).
    pub buf2: Vec<u32>,
    /// Candidates sorted by distance (selection input).
    pub sorted: Vec<Cand>,
}

impl Scratch {
    /// Starts a new visited generation over `cap` slots.
    #[inline]
    pub fn reset_visited(&mut self, cap: usize) {
        if self.visited.len() < cap {
            self.visited.resize(cap, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.visited.iter_mut().for_each(|v| *v = 0);
            self.generation = 1;
        }
    }

    /// Marks `id` visited; returns whether it was new.
    #[inline]
    pub fn visit(&mut self, id: u32) -> bool {
        let v = &mut self.visited[id as usize];
        if *v == self.generation {
            false
        } else {
            *v = self.generation;
            true
        }
    }

    /// Starts a new generation of the second mark set (ACORN compression's 2-hop set).
    pub fn reset_marks(&mut self, cap: usize) {
        if self.marks.len() < cap {
            self.marks.resize(cap, 0);
        }
        self.mark_generation = self.mark_generation.wrapping_add(1);
        if self.mark_generation == 0 {
            self.marks.iter_mut().for_each(|v| *v = 0);
            self.mark_generation = 1;
        }
    }

    /// Adds `id` to the second mark set.
    #[inline]
    pub fn mark(&mut self, id: u32) {
        self.marks[id as usize] = self.mark_generation;
    }

    /// Whether `id` is in the second mark set.
    #[inline]
    pub fn is_marked(&self, id: u32) -> bool {
        self.marks[id as usize] == self.mark_generation
    }

    /// The results, closest first, into `self.sorted`.
    pub fn drain_sorted(&mut self) {
        self.sorted.clear();
        self.sorted.extend(self.res.drain());
        self.sorted.sort_unstable();
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch (a fresh one if it is already in use up the stack).
pub(super) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut g) => f(&mut g),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// What one search reads: the tables and the query bound to a vector source (full rows or
/// codes; see [`Scorer`]).
#[derive(Debug)]
pub(super) struct Ctx<'a, S> {
    pub layers: &'a Layers,
    pub src: &'a S,
    /// Polled every few hundred distances; when it fires the walk ends and
    /// `SearchStats::stopped` says why (the caller must not report the result as complete).
    pub stop: &'a Stop,
}

impl<S: Scorer> Ctx<'_, S> {
    /// Distance from the query to node `id`.
    #[inline]
    pub fn dist(&self, id: u32, stats: &mut SearchStats) -> f32 {
        stats.distances_computed += 1;
        self.src.dist(id)
    }

    /// A poller of the stop signal for one loop.
    #[inline]
    fn stop_check(&self, stats: &SearchStats) -> StopCheck<'_> {
        StopCheck::new(self.stop, stats.distances_computed)
    }

    /// Whether the loop polled by `chk` must end (recording why in `stats`).
    #[inline]
    fn stopped(chk: &mut StopCheck<'_>, stats: &mut SearchStats) -> bool {
        if chk.due(stats.distances_computed) {
            stats.stopped = chk.fired();
            true
        } else {
            false
        }
    }

    /// Greedy descent (beam width 1) from `start` through layers `from..=to` (top down).
    pub fn greedy(&self, mut cur: Cand, from: usize, to: usize, stats: &mut SearchStats) -> Cand {
        let mut chk = self.stop_check(stats);
        for level in (to..=from).rev() {
            loop {
                if Self::stopped(&mut chk, stats) {
                    return cur;
                }
                let block = self.layers.block(cur.id, level);
                let n = count(block);
                stats.nodes_visited += 1;
                let mut moved = false;
                for i in 0..n {
                    let nb = entry(block, i);
                    let d = self.dist(nb, stats);
                    if d < cur.dist {
                        cur = Cand { dist: d, id: nb };
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        cur
    }

    /// HNSW beam search on one layer from `entries`; the `ef` best are left in `sc.sorted`,
    /// closest first. The caller has reset the visited set.
    ///
    /// The beam is one sorted pool of at most `ef` entries with an "expanded" mark and a cursor
    /// at the closest unexpanded one (the result pool of NSG/DiskANN), instead of HNSW's two
    /// heaps: a candidate outside the `ef` best could never be expanded anyway (the heap walk
    /// stops at the first candidate worse than the `ef`-th result), so the walk is the same,
    /// but an insert is a binary search and a short move of a contiguous array, and "next" is
    /// a cursor step, where the heaps paid two pushes and two pops of scattered sifts.
    pub fn search_layer(
        &self,
        entries: &[Cand],
        ef: usize,
        level: usize,
        sc: &mut Scratch,
        stats: &mut SearchStats,
    ) {
        let ef = ef.max(1);
        let mut pool = std::mem::take(&mut sc.pool);
        pool.clear();
        for &e in entries {
            if sc.visit(e.id) {
                pool_insert(&mut pool, ef, e);
            }
        }
        let mut cursor = 0;
        let mut chk = self.stop_check(stats);
        loop {
            while cursor < pool.len() && pool[cursor].expanded {
                cursor += 1;
            }
            if cursor >= pool.len() || Self::stopped(&mut chk, stats) {
                break;
            }
            pool[cursor].expanded = true;
            let id = pool[cursor].cand.id;
            stats.nodes_visited += 1;
            self.unvisited_neighbors(id, level, sc);
            let buf = std::mem::take(&mut sc.buf);
            for (i, &nb) in buf.iter().enumerate() {
                if let Some(&ahead) = buf.get(i + PREFETCH_AHEAD) {
                    self.src.prefetch(ahead);
                }
                let d = self.dist(nb, stats);
                if pool.len() < ef || pool.last().is_some_and(|w| d < w.cand.dist) {
                    let pos = pool_insert(&mut pool, ef, Cand { dist: d, id: nb });
                    cursor = cursor.min(pos);
                }
            }
            sc.buf = buf;
        }
        sc.sorted.clear();
        sc.sorted.extend(pool.iter().map(|p| p.cand));
        sc.pool = pool;
    }

    /// Gathers the not yet visited neighbours of `id` at `level` into `sc.buf` (marking them)
    /// and starts loading the first vectors: reading the list before computing lets the
    /// prefetches run [`PREFETCH_AHEAD`] vectors ahead of the distance loop.
    #[inline]
    fn unvisited_neighbors(&self, id: u32, level: usize, sc: &mut Scratch) {
        sc.buf.clear();
        let block = self.layers.block(id, level);
        let n = count(block);
        for i in 0..n {
            let nb = entry(block, i);
            if sc.visit(nb) {
                sc.buf.push(nb);
            }
        }
        for &nb in sc.buf.iter().take(PREFETCH_AHEAD) {
            self.src.prefetch(nb);
        }
    }

    /// Filtered HNSW on layer 0: the whole graph is walked, only `allow`ed nodes enter the
    /// results. Two windows bound the walk: the `ef` best allowed nodes (the usual HNSW stop) and
    /// the `ef_all` best nodes of any kind, so that a sparse filter cannot turn the search into a
    /// scan of the graph.
    pub fn search_hnsw_filtered(
        &self,
        start: Cand,
        ef: usize,
        ef_all: usize,
        allow: &DenseIdSet,
        sc: &mut Scratch,
        stats: &mut SearchStats,
    ) {
        sc.cand.clear();
        sc.res.clear();
        sc.all.clear();
        sc.visit(start.id);
        sc.cand.push(Reverse(start));
        sc.all.push(start);
        if allow.contains(start.id) {
            sc.res.push(start);
        }
        let bound_of = |h: &BinaryHeap<Cand>, cap: usize| {
            if h.len() < cap {
                f32::INFINITY
            } else {
                h.peek().map_or(f32::INFINITY, |c| c.dist)
            }
        };
        let mut res_bound = bound_of(&sc.res, ef);
        let mut all_bound = bound_of(&sc.all, ef_all);
        let mut chk = self.stop_check(stats);
        while let Some(Reverse(c)) = sc.cand.pop() {
            if Self::stopped(&mut chk, stats) {
                break;
            }
            // With `ef` allowed results the usual HNSW stop applies; the any-node window only
            // ends a walk that has not filled its results yet (a sparse filter), so a filter
            // anti-correlated with the query still walks on until its results converge.
            let full = sc.res.len() >= ef;
            if c.dist > res_bound || (!full && c.dist > all_bound) {
                break;
            }
            stats.nodes_visited += 1;
            self.unvisited_neighbors(c.id, 0, sc);
            let buf = std::mem::take(&mut sc.buf);
            for (i, &nb) in buf.iter().enumerate() {
                if let Some(&ahead) = buf.get(i + PREFETCH_AHEAD) {
                    self.src.prefetch(ahead);
                }
                let d = self.dist(nb, stats);
                let ok = allow.contains(nb);
                let nc = Cand { dist: d, id: nb };
                let in_window = d < all_bound || (sc.res.len() >= ef && d < res_bound);
                let in_results = ok && d < res_bound;
                if in_window || in_results {
                    sc.cand.push(Reverse(nc));
                    sc.all.push(nc);
                    if sc.all.len() > ef_all {
                        sc.all.pop();
                    }
                    all_bound = bound_of(&sc.all, ef_all);
                    if ok {
                        sc.res.push(nc);
                        if sc.res.len() > ef {
                            sc.res.pop();
                        }
                        res_bound = bound_of(&sc.res, ef);
                    }
                }
            }
            sc.buf = buf;
        }
    }

    /// ACORN on layer 0: only nodes that pass `allow` are evaluated and expanded.
    ///
    /// The neighbour list of an expanded node is *filtered* (allowed, unvisited neighbours first,
    /// in list order) and, when that yields fewer than `trunc`, *expanded* with the allowed
    /// neighbours of the entries at positions `two_hop_from..` (ACORN-1: from 0; compressed
    /// ACORN-gamma: from `M_beta`, the part of the list compression thinned), then truncated
    /// to `trunc`. Each node's list is expanded this way at most once per search (its allowed
    /// neighbours are all visited after that). If the predicate subgraph around the start is exhausted
    /// before `ef` results are found (a filter far from the query), the search reseeds from
    /// allowed nodes found by a scan of the id set, a bounded number of times.
    #[expect(clippy::too_many_arguments, reason = "one hot routine, its inputs are all distinct")]
    pub fn search_acorn(
        &self,
        start: Cand,
        ef: usize,
        allow: &DenseIdSet,
        two_hop_from: usize,
        trunc: usize,
        sc: &mut Scratch,
        stats: &mut SearchStats,
    ) {
        sc.cand.clear();
        sc.res.clear();
        sc.reset_marks(self.layers.cap);
        sc.visit(start.id);
        sc.cand.push(Reverse(start));
        if allow.contains(start.id) {
            sc.res.push(start);
        }
        let mut bound = f32::INFINITY;
        let mut reseeds = 0usize;
        let mut scan_from = (start.id as usize).wrapping_mul(2_654_435_761) % self.layers.cap.max(1);
        let mut chk = self.stop_check(stats);
        loop {
            while let Some(Reverse(c)) = sc.cand.pop() {
                if Self::stopped(&mut chk, stats) {
                    return;
                }
                if c.dist > bound && sc.res.len() >= ef {
                    sc.cand.clear();
                    break;
                }
                stats.nodes_visited += 1;
                self.acorn_neighbors(c.id, allow, two_hop_from, trunc, sc);
                let mut buf = std::mem::take(&mut sc.buf);
                for &nb in buf.iter().take(PREFETCH_AHEAD) {
                    self.src.prefetch(nb);
                }
                for (i, &nb) in buf.iter().enumerate() {
                    if let Some(&ahead) = buf.get(i + PREFETCH_AHEAD) {
                        self.src.prefetch(ahead);
                    }
                    let d = self.dist(nb, stats);
                    if sc.res.len() < ef || d < bound {
                        let nc = Cand { dist: d, id: nb };
                        sc.cand.push(Reverse(nc));
                        sc.res.push(nc);
                        if sc.res.len() > ef {
                            sc.res.pop();
                        }
                        if sc.res.len() >= ef {
                            bound = sc.res.peek().map_or(f32::INFINITY, |c| c.dist);
                        }
                    }
                }
                buf.clear();
                sc.buf = buf;
            }
            if sc.res.len() >= ef || reseeds >= MAX_RESEEDS {
                break;
            }
            reseeds += 1;
            let found = self.reseed(allow, &mut scan_from, sc, stats);
            if found == 0 {
                break;
            }
            while sc.res.len() > ef {
                sc.res.pop();
            }
            if sc.res.len() >= ef {
                bound = sc.res.peek().map_or(f32::INFINITY, |c| c.dist);
            }
        }
    }

    /// Gathers the filtered, 2-hop-expanded, truncated neighbour list of `id` into `sc.buf`
    /// (every gathered id is marked visited).
    #[inline]
    fn acorn_neighbors(
        &self,
        id: u32,
        allow: &DenseIdSet,
        two_hop_from: usize,
        trunc: usize,
        sc: &mut Scratch,
    ) {
        sc.buf.clear();
        let block = self.layers.block(id, 0);
        let n = count(block);
        for i in 0..n {
            let nb = entry(block, i);
            if allow.contains(nb) && sc.visit(nb) {
                sc.buf.push(nb);
                if sc.buf.len() >= trunc {
                    return;
                }
            }
        }
        for i in two_hop_from..n {
            let hop = entry(block, i);
            if sc.is_marked(hop) {
                continue;
            }
            let inner = self.layers.block(hop, 0);
            let m = count(inner);
            for j in 0..m {
                let nb = entry(inner, j);
                if allow.contains(nb) && sc.visit(nb) {
                    sc.buf.push(nb);
                    if sc.buf.len() >= trunc {
                        return;
                    }
                }
            }
            // Fully expanded: its allowed neighbours are all visited now, so reaching it again
            // from another node would add nothing.
            sc.mark(hop);
        }
    }

    /// Pushes up to [`RESEED_SEEDS`] unvisited allowed graph nodes found by scanning the slot
    /// range from `scan_from`; returns how many.
    fn reseed(
        &self,
        allow: &DenseIdSet,
        scan_from: &mut usize,
        sc: &mut Scratch,
        stats: &mut SearchStats,
    ) -> usize {
        let cap = self.layers.cap;
        let mut found = 0;
        for step in 0..cap {
            let id = ((*scan_from + step) % cap) as u32;
            if allow.contains(id) && self.layers.level(id).is_some() && sc.visit(id) {
                let c = Cand { dist: self.dist(id, stats), id };
                sc.cand.push(Reverse(c));
                sc.res.push(c);
                found += 1;
                if found >= RESEED_SEEDS {
                    *scan_from = (*scan_from + step + 1) % cap;
                    break;
                }
            }
        }
        found
    }
}

/// How many vectors ahead of the distance loop the prefetches run.
const PREFETCH_AHEAD: usize = 2;

/// How many times an ACORN search may restart from scanned seeds.
const MAX_RESEEDS: usize = 4;
/// Seeds per restart.
const RESEED_SEEDS: usize = 8;
