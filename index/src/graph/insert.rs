//! Construction: level draw, insertion, neighbour selection (HNSW heuristic; ACORN-gamma
//! compression) and back-links.

use std::sync::atomic::Ordering;

use super::layers::{self, count, entry, read_into, Layers, ABSENT, MAX_LEVEL};
use super::search::{Cand, Ctx, Scratch};
use super::{pack, unpack, Graph, SearchStats, NO_ENTRY};
use crate::source::F32Scorer;
use crate::VectorStore;

/// SplitMix64: a stateless, well-mixed hash of the seed and the id, so a node's level does not
/// depend on insertion order or thread count.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Exact copies of already kept neighbours may fill at most `1 / DUPLICATE_SHARE` of a list.
const DUPLICATE_SHARE: usize = 4;

impl Graph {
    /// The top layer of `id`: `floor(-ln(U) * mL)` with `mL = 1/ln(M)` (Malkov & Yashunin),
    /// `U` drawn from a hash of the seed and the id.
    pub(super) fn level_for(&self, id: u32) -> u8 {
        let h = splitmix64(self.params.seed ^ splitmix64(u64::from(id)));
        let u = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let l = (-u.ln() * self.level_mult).floor();
        if l >= f64::from(MAX_LEVEL) {
            MAX_LEVEL
        } else {
            l as u8
        }
    }

    /// Inserts `id` using the tables `layers` (the caller holds the read lock and made room).
    pub(super) fn insert_into(&self, layers: &Layers, id: u32, vectors: &VectorStore, sc: &mut Scratch) {
        let slot = id as usize;
        if slot >= layers.cap || slot >= vectors.len() || layers.level(id).is_some() {
            return;
        }
        let level = self.level_for(id);
        if level > 0 {
            let n = usize::from(level) * (1 + layers.m_up);
            let _ = layers.upper[slot].set((0..n).map(|_| std::sync::atomic::AtomicU32::new(0)).collect());
        }
        if layers.levels[slot].compare_exchange(ABSENT, level, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return; // another thread inserted the same id
        }
        let src = F32Scorer::new(vectors, self.dist, vectors.get(id));
        let ctx = Ctx { layers, src: &src, stop: &crate::stop::NEVER };
        let mut stats = SearchStats::default();

        // A node that raises the top level holds the entry lock for its whole insert (as
        // hnswlib does), so two such nodes cannot race on the entry point.
        let mut ep = self.entry.load(Ordering::Acquire);
        let mut raise_guard = None;
        if ep == NO_ENTRY || level > unpack(ep).1 {
            let g = self.entry_lock.lock();
            ep = self.entry.load(Ordering::Acquire);
            if ep == NO_ENTRY {
                self.entry.store(pack(id, level), Ordering::Release);
                self.len.fetch_add(1, Ordering::AcqRel);
                return;
            }
            if level > unpack(ep).1 {
                raise_guard = Some(g);
            }
        }
        let (ep_id, max_level) = unpack(ep);
        let mut cur = Cand { dist: ctx.dist(ep_id, &mut stats), id: ep_id };
        if level < max_level {
            cur = ctx.greedy(cur, usize::from(max_level), usize::from(level) + 1, &mut stats);
        }
        // Own lists are written top-down as the descent goes, but the back-links that make the
        // node reachable are published bottom-up once every own list exists. A search (or
        // another insert) can only reach the node at level L through a back-link at L, and by
        // then the node's lists at L and below are complete: publishing links top-down let a
        // concurrent search descend onto a half-inserted node whose level-0 list was still
        // empty, and its layer-0 beam died there.
        let top = usize::from(level.min(max_level));
        let mut links: Vec<(usize, Vec<Cand>)> = Vec::with_capacity(top + 1);
        for lc in (0..=top).rev() {
            sc.reset_visited(layers.cap);
            sc.visit(id);
            ctx.search_layer(&[cur], self.ef_construction_eff, lc, sc, &mut stats);
            let cands = std::mem::take(&mut sc.sorted);
            if let Some(&best) = cands.first() {
                cur = best;
                let selected = self.select(&ctx, &cands, lc, self.own_degree(lc), sc);
                self.set_own(&ctx, id, &selected, lc, sc);
                links.push((lc, selected));
            }
            sc.sorted = cands;
        }
        for (lc, selected) in links.iter().rev() {
            for s in selected {
                self.link(&ctx, s.id, id, s.dist, *lc, sc);
            }
        }
        if raise_guard.is_some() {
            self.entry.store(pack(id, level), Ordering::Release);
        }
        drop(raise_guard);
        self.len.fetch_add(1, Ordering::AcqRel);
    }

    /// How many neighbours a new node picks for itself at `level`: `M` for HNSW (level 0 then
    /// fills up to `2·M` through back-links, as in the paper), `M·gamma` for ACORN-gamma.
    fn own_degree(&self, level: usize) -> usize {
        if self.params.gamma == 1 {
            self.params.m
        } else {
            let _ = level;
            self.params.m * self.params.gamma
        }
    }

    /// Picks at most `max` neighbours from `cands` (sorted, closest first).
    fn select(
        &self,
        ctx: &Ctx<'_, F32Scorer<'_>>,
        cands: &[Cand],
        level: usize,
        max: usize,
        sc: &mut Scratch,
    ) -> Vec<Cand> {
        if self.params.gamma == 1 {
            self.heuristic(ctx.src.vectors, cands, max)
        } else if level == 0 {
            self.compress(ctx.layers, cands, max, sc)
        } else {
            cands.iter().take(max).copied().collect()
        }
    }

    /// HNSW's neighbour heuristic (Malkov & Yashunin, Algorithm 4 without extension): a
    /// candidate is kept only if it is closer to the base than to every neighbour kept so far.
    ///
    /// Exact duplicates: a copy of a kept neighbour is at the same distance from the base as
    /// that neighbour and at distance 0 from it, so the plain rule (`>=`) keeps every copy, and a
    /// point with more than `2·M` copies fills its lists with them: the copies link only to each
    /// other and the graph splits into islands a search cannot leave or enter (a query equal to
    /// a stored vector then missed it). So copies of kept neighbours take at most a quarter of
    /// a list ([`DUPLICATE_SHARE`]): enough for the copies to stay linked to each other, while
    /// the rest of the list keeps the diverse edges that lead out of (and into) the copies.
    fn heuristic(&self, vectors: &VectorStore, cands: &[Cand], max: usize) -> Vec<Cand> {
        if cands.len() <= max {
            return cands.to_vec();
        }
        let max_dups = (max / DUPLICATE_SHARE).max(1);
        let mut dups = 0;
        let mut out: Vec<Cand> = Vec::with_capacity(max);
        for c in cands {
            if out.len() >= max {
                break;
            }
            let vc = vectors.get(c.id);
            let mut copy = false;
            let diverse = out.iter().all(|s| {
                let vs = vectors.get(s.id);
                let d = (self.dist)(vc, vs);
                if d == c.dist && vc == vs {
                    copy = true;
                }
                d >= c.dist
            });
            if diverse && (!copy || dups < max_dups) {
                dups += usize::from(copy);
                out.push(*c);
            }
        }
        out
    }

    /// ACORN-gamma's level-0 compression (Patel et al. 2024, §5.2): the `M_beta` nearest
    /// candidates are always kept; past them a candidate is dropped when it is already a
    /// neighbour of a kept node that sits past `M_beta` (search expands exactly those nodes to
    /// their 2-hop lists, so the dropped edge is recovered at query time). The list stops
    /// growing once kept nodes and their expanded neighbourhoods cover `max` nodes.
    fn compress(&self, layers: &Layers, cands: &[Cand], max: usize, sc: &mut Scratch) -> Vec<Cand> {
        sc.reset_marks(layers.cap);
        let m_beta = self.params.m_beta;
        let mut out: Vec<Cand> = Vec::with_capacity(max.min(cands.len()));
        let mut covered = 0usize;
        let mut buf = std::mem::take(&mut sc.buf2);
        for (rank, c) in cands.iter().enumerate() {
            if rank >= m_beta && sc.is_marked(c.id) {
                continue;
            }
            out.push(*c);
            if out.len() >= max {
                break;
            }
            if !sc.is_marked(c.id) {
                sc.mark(c.id);
                covered += 1;
            }
            if rank >= m_beta {
                read_into(layers.block(c.id, 0), &mut buf);
                for &nb in &buf {
                    if !sc.is_marked(nb) {
                        sc.mark(nb);
                        covered += 1;
                    }
                }
                if covered >= max {
                    break;
                }
            }
        }
        sc.buf2 = buf;
        out
    }

    /// Writes the new node's own list at `level` (merging with back-links that concurrent
    /// inserts may already have added).
    fn set_own(
        &self,
        ctx: &Ctx<'_, F32Scorer<'_>>,
        id: u32,
        selected: &[Cand],
        level: usize,
        sc: &mut Scratch,
    ) {
        let layers = ctx.layers;
        let _g = layers.locks[id as usize].lock();
        let block = layers.block(id, level);
        let n = count(block);
        if n == 0 {
            let ids: Vec<u32> = selected.iter().map(|c| c.id).collect();
            layers::write(block, &ids);
            return;
        }
        let base = ctx.src.vectors.get(id);
        let mut cands: Vec<Cand> = selected.to_vec();
        for i in 0..n {
            let o = entry(block, i);
            if !cands.iter().any(|c| c.id == o) {
                cands.push(Cand { dist: (self.dist)(base, ctx.src.vectors.get(o)), id: o });
            }
        }
        cands.sort_unstable();
        let kept = self.reselect(ctx, &cands, level, layers.cap_at(level), sc);
        layers::write(block, &kept);
    }

    /// Adds the edge `target -> new` at `level`, re-selecting `target`'s list when it is full.
    fn link(
        &self,
        ctx: &Ctx<'_, F32Scorer<'_>>,
        target: u32,
        new: u32,
        dist: f32,
        level: usize,
        sc: &mut Scratch,
    ) {
        let layers = ctx.layers;
        let _g = layers.locks[target as usize].lock();
        let block = layers.block(target, level);
        if block.is_empty() {
            return;
        }
        let n = count(block);
        if (0..n).any(|i| entry(block, i) == new) {
            return;
        }
        let cap = layers.cap_at(level);
        if n < cap {
            block[1 + n].store(new, Ordering::Relaxed);
            block[0].store(n as u32 + 1, Ordering::Release);
            return;
        }
        let base = ctx.src.vectors.get(target);
        let mut cands: Vec<Cand> = Vec::with_capacity(n + 1);
        for i in 0..n {
            let o = entry(block, i);
            cands.push(Cand { dist: (self.dist)(base, ctx.src.vectors.get(o)), id: o });
        }
        cands.push(Cand { dist, id: new });
        cands.sort_unstable();
        let kept = self.reselect(ctx, &cands, level, cap, sc);
        layers::write(block, &kept);
    }

    /// The ids kept from an overfull list's candidates (sorted, closest first).
    fn reselect(
        &self,
        ctx: &Ctx<'_, F32Scorer<'_>>,
        cands: &[Cand],
        level: usize,
        cap: usize,
        sc: &mut Scratch,
    ) -> Vec<u32> {
        let kept = self.select(ctx, cands, level, cap, sc);
        kept.iter().map(|c| c.id).collect()
    }
}
