//! Grove's own proximity graph: HNSW layers (Malkov & Yashunin 2018) with ACORN filtered search
//! (Patel et al., SIGMOD 2024): ACORN-gamma over a graph built with `M·gamma` neighbour lists,
//! ACORN-1 over a plain HNSW graph.
//!
//! # Shape
//! - Layer 0 is one flat table with a fixed stride (`[count, ids..]` per node, see
//!   `layers`), read lock-free by searches; upper layers are per-node blocks allocated once.
//! - Inserts are thread-safe (`&self`): per-node locks for writers, an entry lock only for the
//!   rare node that raises the top level; searches run concurrently with inserts.
//! - Each thread reuses its visited tags and heaps; a search allocates only its result.
//! - Levels come from a hash of `(seed, id)`: deterministic whatever the insertion order.
//!
//! # Which graph for which search
//! | `gamma` | layer-0 list | upper lists | serves |
//! |---|---|---|---|
//! | 1 | `2·M`, HNSW heuristic | `M` | [`GraphFilter::None`], [`GraphFilter::Hnsw`], ACORN-1 |
//! | > 1 | `M·gamma`, compressed to about `M_beta` | `M·gamma`, nearest | ACORN-gamma |
//!
//! A gamma > 1 graph answers every filter too; its unfiltered search is just slower.
//!
//! # Measured
//! `cargo run --release -p grove-index --example graph_bench -- [--filtered]` on the arXiv set
//! (49,152 × 384, cosine), against hnswlib 0.8 with the same M = 16, ef_construction = 100 and
//! threads, run back to back on a 2-core VM shared with other builds (load 11-15). Wall time
//! mostly measured the neighbours, so rates are per CPU-second of the process (build) or of
//! the searching thread (QPS, one thread, 1,000 queries). Figures moved by up to 2× between runs.
//!
//! | | Grove | hnswlib | ratio |
//! |---|---|---|---|
//! | build, 2 threads, points/CPU-s (run A / run B) | 5,486 / 2,780 | 4,465 / 3,068 | 1.23 / 0.91 |
//! | build, 15k points, 2 threads (two runs) | 5,725 / 5,300 | 4,690 / 4,839 | 1.22 / 1.10 |
//! | build, 15k points, 1 thread (three runs) | 4,373 / 4,043 / 5,455 | 3,567 / 3,985 / 5,033 | 1.23 / 1.01 / 1.08 |
//! | QPS ef 64 (recall 0.964 both), run A / B | 6,883 / 3,508 | 5,081 / 2,347 | 1.35 / 1.49 |
//! | QPS ef 128 (recall 0.987 both), run A / B | 3,961 / 1,915 | 3,016 / 1,634 | 1.31 / 1.17 |
//!
//! Graph memory (without vectors): 7.6 MiB for gamma = 1 (≈ 160 B/node), 39.8 MiB for
//! gamma = 12. The gamma = 12, `M_beta` = 32 build ran at 952 points/CPU-s (≈ 5× gamma = 1).
//!
//! Filtered, 300 queries, a random allowed set per query (recall@10 against exact over the set;
//! distances per query in brackets):
//!
//! | set | filtered HNSW, gamma 1 | ACORN-1, gamma 1 | ACORN-gamma, gamma 12 |
//! |---|---|---|---|
//! | 50% | ef 64: 0.977 (1,484) | ef 64: 0.974 (1,815) | ef 128: 0.984 (2,754) |
//! | 10% | ef 32: 0.985 (2,853) | ef 64: 0.981 (929) | ef 64: 0.979 (1,648) |
//! | 1% | ef 64: 0.974 (6,814) | ef 128: 0.878, ef 256: 0.908 | ef 64: 0.977 (1,020) |
//!
//! So: filtered HNSW down to ~10-50%; ACORN-1 at ~10%; ACORN-gamma (or an exact scan of the
//! allowed ids, 490 distances at 1% of this set) below. ACORN-1 at 1% loses recall: on an
//! HNSW-pruned graph of degree ≤ 32 the 2-hop predicate subgraph at 1% averages a handful of
//! edges per node, too few to navigate, which is the regime the paper builds ACORN-gamma for.
//!
//! ```
//! use grove_index::graph::{Graph, GraphFilter, GraphParams, SearchStats};
//! use grove_index::{Metric, VectorStore};
//! let mut store = VectorStore::new(2);
//! for i in 0..100u32 {
//!     store.push(&[i as f32, (i % 7) as f32]);
//! }
//! let ids: Vec<u32> = (0..100).collect();
//! let g = Graph::build(GraphParams::default(), Metric::L2, &store, &ids, 1).unwrap();
//! let mut stats = SearchStats::default();
//! let hits = g.search(&store, &[10.2, 3.0], 1, 16, GraphFilter::None, &mut stats);
//! assert_eq!(hits[0].id, 10);
//! ```

mod insert;
mod io;
pub(crate) use io::write_atomically;
mod layers;
mod search;

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};
use rayon::prelude::*;

use crate::source::{F32Scorer, Scorer};
use crate::{DenseIdSet, IndexError, Metric, Neighbor, Result, VectorStore};
use layers::Layers;
use search::{with_scratch, Cand, Ctx};

/// Construction parameters, named as in the HNSW and ACORN papers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphParams {
    /// `M`: neighbours a node picks per layer. Upper lists hold `M` (HNSW) or `M·gamma`
    /// (ACORN-gamma); layer 0 holds `2·M` (HNSW) or `M·gamma` (ACORN-gamma). ACORN search
    /// truncates filtered lists to `M` (ACORN-gamma) or to the layer-0 degree `2·M` (ACORN-1).
    pub m: usize,
    /// `ef_construction`: candidate list size while inserting (raised to `M·gamma` when
    /// smaller, since ACORN-gamma needs that many candidates).
    pub ef_construction: usize,
    /// `gamma` (γ): neighbour-list expansion of ACORN-gamma, about `1/s_min` for the lowest
    /// selectivity the graph should serve; 1 builds a plain HNSW graph.
    pub gamma: usize,
    /// `M_beta` (M_β): ACORN-gamma compression keeps the `M_beta` nearest neighbours outright and
    /// thins the rest (ignored when `gamma` is 1). The paper pairs `M_beta = 2·M`.
    pub m_beta: usize,
    /// Seed of the level draw.
    pub seed: u64,
}

impl Default for GraphParams {
    /// `M = 16`, `ef_construction = 100` (hnswlib's usual pair), `gamma = 1` (HNSW),
    /// `M_beta = 2·M = 32` (the paper's choice).
    fn default() -> Self {
        Self { m: 16, ef_construction: 100, gamma: 1, m_beta: 32, seed: 0x6772_6f76_6521 }
    }
}

/// Largest neighbour list a graph may have (`M·gamma`, and `2·M`).
const MAX_DEGREE: usize = 4096;

impl GraphParams {
    /// Checks every parameter's range; errors name the paper's symbol.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(IndexError::InvalidParameter { name, reason });
        if self.m < 2 || 2 * self.m > MAX_DEGREE {
            return bad("M", format!("{} is outside 2..={}", self.m, MAX_DEGREE / 2));
        }
        if self.ef_construction == 0 {
            return bad("ef_construction", "must be at least 1".into());
        }
        if self.gamma == 0 || self.m.saturating_mul(self.gamma) > MAX_DEGREE {
            return bad("gamma", format!("{} must be at least 1 with M·gamma <= {MAX_DEGREE}", self.gamma));
        }
        if self.gamma > 1 && (self.m_beta == 0 || self.m_beta > self.m * self.gamma) {
            return bad(
                "M_beta",
                format!("{} is outside 1..=M·gamma = {}", self.m_beta, self.m * self.gamma),
            );
        }
        Ok(())
    }

    fn degrees(&self) -> (usize, usize) {
        if self.gamma == 1 {
            (2 * self.m, self.m)
        } else {
            (self.m * self.gamma, self.m * self.gamma)
        }
    }
}

/// Which points a search may return, and how the graph is walked.
#[derive(Debug, Clone, Copy)]
pub enum GraphFilter<'a> {
    /// Unfiltered HNSW search (the caller post-filters tombstones, or passes
    /// [`GraphFilter::Hnsw`] with `DenseIdSet::all_except(tombstones)`).
    None,
    /// Filtered HNSW: the whole graph is walked, only allowed ids enter the results. The walk is
    /// bounded like HNSW's: besides the `ef` best allowed nodes it keeps a window of the
    /// `ef·min(1/s, 16)` best nodes of any kind (`s` the set's share of the graph) and stops when
    /// the frontier is worse than either, so a sparse filter cannot make it scan the graph.
    Hnsw(&'a DenseIdSet),
    /// ACORN: only the predicate subgraph is walked (see the module table for which variant).
    Acorn(&'a DenseIdSet),
}

/// Work counters of one search (added to, so one value can sum several searches).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Nodes whose neighbour lists were expanded.
    pub nodes_visited: u64,
    /// Distance evaluations.
    pub distances_computed: u64,
    /// Set when the stop signal ended the walk early: the hits are then incomplete.
    pub stopped: Option<crate::stop::StopCause>,
}

/// Where a search enters layer 0 and how much of the graph around that entry a filter admits.
///
/// A filter's global selectivity `s` says nothing about *where* its points lie. The entry that
/// the greedy descent finds is near the query, so the share of allowed nodes among its 2-hop
/// layer-0 neighbourhood (`local_selectivity`) estimates the filter's density near the query:
/// about `s` for a filter independent of the vectors, above it for a correlated one, far below
/// for an anti-correlated one (the query's region holds few allowed points, and a walk must
/// cross it). The planner uses the two to choose the path and the beam width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    entry: u32,
    entry_dist: f32,
    /// Layer-0 slots looked at (the entry, its neighbours, theirs; repeats counted).
    pub seen: u32,
    /// How many of them the filter admits.
    pub allowed: u32,
}

impl Probe {
    /// `allowed / seen`.
    pub fn local_selectivity(&self) -> f64 {
        f64::from(self.allowed) / f64::from(self.seen.max(1))
    }
}

/// Packed entry point: `level << 32 | id`; [`NO_ENTRY`] while the graph is empty.
const NO_ENTRY: u64 = u64::MAX;

fn pack(id: u32, level: u8) -> u64 {
    (u64::from(level) << 32) | u64::from(id)
}

fn unpack(e: u64) -> (u32, u8) {
    (e as u32, (e >> 32) as u8)
}

/// The proximity graph. `Send + Sync`; inserts and searches take `&self`.
#[derive(Debug)]
pub struct Graph {
    params: GraphParams,
    metric: Metric,
    /// The metric's kernel ([`Metric::kernel`]).
    dist: crate::distance::DistFn,
    dim: usize,
    level_mult: f64,
    ef_construction_eff: usize,
    layers: RwLock<Layers>,
    entry: AtomicU64,
    entry_lock: Mutex<()>,
    len: AtomicUsize,
}

impl Graph {
    /// An empty graph.
    pub fn new(params: GraphParams, metric: Metric, dim: usize) -> Result<Self> {
        params.validate()?;
        if dim == 0 {
            return Err(IndexError::InvalidParameter { name: "dim", reason: "must be at least 1".into() });
        }
        let (m0, m_up) = params.degrees();
        Ok(Self {
            params,
            metric,
            dist: metric.kernel(),
            dim,
            level_mult: 1.0 / (params.m as f64).ln(),
            ef_construction_eff: params.ef_construction.max(params.m * params.gamma),
            layers: RwLock::new(Layers::new(0, m0, m_up)),
            entry: AtomicU64::new(NO_ENTRY),
            entry_lock: Mutex::new(()),
            len: AtomicUsize::new(0),
        })
    }

    /// The construction parameters.
    pub fn params(&self) -> &GraphParams {
        &self.params
    }

    /// The metric.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Makes room for ids below `n` (amortised doubling; blocks searches for the copy).
    pub fn reserve(&self, n: usize) {
        if n > self.layers.read().cap {
            let mut w = self.layers.write();
            let target = n.max(w.cap * 2).max(1024);
            w.grow(target);
        }
    }

    /// Thread-safe incremental insert: row `id` of `vectors` (already prepared) joins the graph.
    /// An id already in the graph, or one past the end of `vectors`, is ignored.
    pub fn insert(&self, id: u32, vectors: &VectorStore) {
        if vectors.dim() != self.dim {
            return;
        }
        self.reserve(id as usize + 1);
        let layers = self.layers.read();
        with_scratch(|sc| self.insert_into(&layers, id, vectors, sc));
    }

    /// Parallel bulk build over `ids` with `threads` rayon workers. Levels are deterministic
    /// (from the seed); the edges are too when `threads` is 1.
    pub fn build(
        params: GraphParams,
        metric: Metric,
        vectors: &VectorStore,
        ids: &[u32],
        threads: usize,
    ) -> Result<Self> {
        let g = Self::new(params, metric, vectors.dim())?;
        if let Some(&max) = ids.iter().max() {
            if max as usize >= vectors.len() {
                return Err(IndexError::InvalidParameter {
                    name: "ids",
                    reason: format!("id {max} has no row in a store of {}", vectors.len()),
                });
            }
            g.reserve(max as usize + 1);
        }
        let layers = g.layers.read();
        let (first, rest) = ids.split_at(ids.len().min(1));
        for &id in first {
            with_scratch(|sc| g.insert_into(&layers, id, vectors, sc));
        }
        if threads <= 1 {
            for &id in rest {
                with_scratch(|sc| g.insert_into(&layers, id, vectors, sc));
            }
        } else {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| IndexError::InvalidParameter { name: "threads", reason: e.to_string() })?;
            pool.install(|| {
                rest.par_iter()
                    .with_min_len(64)
                    .for_each(|&id| with_scratch(|sc| g.insert_into(&layers, id, vectors, sc)));
            });
        }
        drop(layers);
        Ok(g)
    }

    /// Nodes in the graph.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `id` is in the graph.
    pub fn contains(&self, id: u32) -> bool {
        self.layers.read().level(id).is_some()
    }

    /// The `k` nearest nodes admitted by `filter`, closest first, searching with beam width
    /// `max(ef, k)`. Returns nothing for a query of the wrong dimension.
    pub fn search(
        &self,
        vectors: &VectorStore,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: GraphFilter<'_>,
        stats: &mut SearchStats,
    ) -> Vec<Neighbor> {
        self.search_from(vectors, query, k, ef, filter, None, stats)
    }

    /// Greedy descent through the upper layers and then on layer 0 to a node next to `query`,
    /// and a look at that node's layer-0 neighbourhood (its neighbours and theirs, about `(2·M)²` slots, no
    /// distances): how many of those nodes `allow` admits. See [`Probe`]. `None` for an empty
    /// graph or a query of the wrong dimension.
    pub fn probe(
        &self,
        vectors: &VectorStore,
        query: &[f32],
        allow: &DenseIdSet,
        stats: &mut SearchStats,
    ) -> Option<Probe> {
        if query.len() != self.dim || vectors.dim() != self.dim {
            return None;
        }
        self.probe_with(&F32Scorer::new(vectors, self.dist, query), allow, stats)
    }

    /// [`Graph::probe`] over any vector source (codes make the descent cheaper; the entry
    /// distance is then the source's estimate, which is what a walk over the same source
    /// starts from).
    pub fn probe_with<S: Scorer>(
        &self,
        src: &S,
        allow: &DenseIdSet,
        stats: &mut SearchStats,
    ) -> Option<Probe> {
        let layers = self.layers.read();
        let ctx = Ctx { layers: &layers, src, stop: &crate::stop::NEVER };
        // The upper layers' local minimum can sit in a neighbouring cluster; a greedy walk on
        // layer 0 (a few hops, beam 1) brings the entry next to the query before counting.
        let cur = ctx.greedy(self.descend(&ctx, stats)?, 0, 0, stats);
        let (mut seen, mut allowed) = (1u32, u32::from(allow.contains(cur.id)));
        let block = layers.block(cur.id, 0);
        for i in 0..layers::count(block) {
            let nb = layers::entry(block, i);
            seen += 1;
            allowed += u32::from(allow.contains(nb));
            let inner = layers.block(nb, 0);
            for j in 0..layers::count(inner) {
                seen += 1;
                allowed += u32::from(allow.contains(layers::entry(inner, j)));
            }
        }
        Some(Probe { entry: cur.id, entry_dist: cur.dist, seen, allowed })
    }

    /// [`Graph::search`] entering layer 0 at a [`Probe`]'s entry (made on this graph with the
    /// same query) instead of descending again.
    #[expect(clippy::too_many_arguments, reason = "search's arguments plus the entry")]
    pub fn search_from(
        &self,
        vectors: &VectorStore,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: GraphFilter<'_>,
        entry: Option<&Probe>,
        stats: &mut SearchStats,
    ) -> Vec<Neighbor> {
        self.search_from_stoppable(vectors, query, k, ef, filter, entry, stats, &crate::stop::NEVER)
    }

    /// [`Graph::search_from`] polling `stop` every few hundred distances. When it fires the
    /// walk ends, `stats.stopped` is set and the hits are incomplete: callers must turn that
    /// into [`crate::IndexError::Stopped`], not report the hits.
    #[expect(clippy::too_many_arguments, reason = "search's arguments plus the entry and the stop")]
    pub fn search_from_stoppable(
        &self,
        vectors: &VectorStore,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: GraphFilter<'_>,
        entry: Option<&Probe>,
        stats: &mut SearchStats,
        stop: &crate::stop::Stop,
    ) -> Vec<Neighbor> {
        if k == 0 || query.len() != self.dim || vectors.dim() != self.dim {
            return Vec::new();
        }
        let src = F32Scorer::new(vectors, self.dist, query);
        self.search_with(&src, k, ef, filter, entry, stats, stop)
    }

    /// [`Graph::search_from_stoppable`] over any vector source: the walk reads distances from
    /// `src` (full rows, or codes whose distances are estimates the caller rescores). The
    /// returned distances are `src`'s. `src` must cover every node of the graph (the caller
    /// checks its row count).
    #[expect(clippy::too_many_arguments, reason = "search's arguments plus the entry and the stop")]
    pub fn search_with<S: Scorer>(
        &self,
        src: &S,
        k: usize,
        ef: usize,
        filter: GraphFilter<'_>,
        entry: Option<&Probe>,
        stats: &mut SearchStats,
        stop: &crate::stop::Stop,
    ) -> Vec<Neighbor> {
        let layers = self.layers.read();
        if k == 0 {
            return Vec::new();
        }
        let ctx = Ctx { layers: &layers, src, stop };
        let cur = match entry {
            Some(p) if layers.level(p.entry).is_some() => Cand { dist: p.entry_dist, id: p.entry },
            _ => match self.descend(&ctx, stats) {
                Some(c) => c,
                None => return Vec::new(),
            },
        };
        if stats.stopped.is_some() {
            return Vec::new();
        }
        let ef = ef.max(k);
        with_scratch(|sc| {
            sc.reset_visited(layers.cap);
            match filter {
                GraphFilter::None => ctx.search_layer(&[cur], ef, 0, sc, stats),
                GraphFilter::Hnsw(allow) => {
                    let ef_all = self.hnsw_window(ef, allow);
                    ctx.search_hnsw_filtered(cur, ef, ef_all, allow, sc, stats);
                    sc.drain_sorted();
                }
                GraphFilter::Acorn(allow) => {
                    let (two_hop_from, trunc) = if self.params.gamma == 1 {
                        (0, layers.m0)
                    } else {
                        (self.params.m_beta, self.params.m)
                    };
                    ctx.search_acorn(cur, ef, allow, two_hop_from, trunc, sc, stats);
                    sc.drain_sorted();
                }
            }
            sc.sorted.iter().take(k).map(|c| Neighbor::new(c.id, c.dist)).collect()
        })
    }

    /// Greedy descent from the entry point to layer 1's local minimum (the layer-0 entry).
    fn descend<S: Scorer>(&self, ctx: &Ctx<'_, S>, stats: &mut SearchStats) -> Option<Cand> {
        let e = self.entry.load(Ordering::Acquire);
        if e == NO_ENTRY {
            return None;
        }
        let (ep, top) = unpack(e);
        let start = Cand { dist: ctx.dist(ep, stats), id: ep };
        Some(if top > 0 { ctx.greedy(start, usize::from(top), 1, stats) } else { start })
    }

    /// The any-node window of filtered HNSW: `ef · clamp(1/s, 1, 16)`.
    fn hnsw_window(&self, ef: usize, allow: &DenseIdSet) -> usize {
        let n = self.len().max(1) as u64;
        let allowed = allow.len().clamp(1, n);
        let mult = n.div_ceil(allowed).clamp(1, 16) as usize;
        ef * mult
    }

    /// Writes the graph to `path` (versioned, checksummed; written to a temporary file and
    /// renamed, so a crash leaves the old file or the new one).
    pub fn save(&self, path: &Path) -> Result<()> {
        io::save(self, path)
    }

    /// Reads a graph written by [`Graph::save`]; any mismatch (magic, version, checksum, shape,
    /// metric, dimension) is [`IndexError::Format`].
    pub fn load(path: &Path, metric: Metric, dim: usize) -> Result<Self> {
        io::load(path, metric, dim)
    }

    /// Bytes held by the graph (tables and locks; not the vectors).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.layers.read().memory_bytes()
    }
}
