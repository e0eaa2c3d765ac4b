//! The index interface ([`VectorIndex`]) and the registry of a collection's indexes
//! ([`Registry`]).
//!
//! A collection answers a query from its rows directly (the exact scan, which needs no
//! structure) or by walking one of its *registered* indexes, each of a closed [`IndexKind`]:
//! Grove's HNSW graph over the full vectors (which also serves filtered-HNSW and ACORN-1
//! walks), an optional ACORN-gamma graph, and one HNSW graph per Matryoshka prefix when prefix
//! graphs are declared. Every kind sits behind the same trait and the registry does, once for
//! all of them, what each used to do for itself: mark new points pending, drop deleted ones,
//! move pending points into the index in bounded chunks, scan the still-pending tail at search
//! time, save and load the index files, and report counts and memory. Adding a kind is one
//! module implementing [`VectorIndex`], one [`IndexKind`] variant and its registration in
//! [`crate::collection::CollectionIndex::new`] (or wherever its declaration lives).
//!
//! # Locking
//! Each entry has its own lock over its index handle and pending set. The order across the
//! engine is: the points (arena, tombstones), then the Matryoshka stores, then the registry's
//! entry list, then one entry. [`Entry::drain`] never holds the entry's lock while it takes the
//! row locks (`with_rows`), so a drain and an insert never wait on each other in a cycle.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use parking_lot::RwLock;
use rayon::prelude::*;
use roaring::RoaringBitmap;

use crate::graph::{Graph, GraphFilter, GraphParams, Probe, SearchStats};
use crate::source::Scorer;
use crate::stop::Stop;
use crate::{Metric, Neighbor, Result, VectorStore};

/// Points inserted into an index per worker thread while the row locks are held: a waiting
/// insert is delayed by one chunk at most.
pub const INDEX_CHUNK_PER_THREAD: usize = 64;

/// What a registered index is. Closed: every match over it is exhaustive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndexKind {
    /// Grove's HNSW graph over the full vectors (`gamma = 1`): unfiltered, filtered-HNSW and
    /// ACORN-1 walks.
    Hnsw,
    /// The ACORN-gamma graph over the full vectors (`gamma >= 2`, neighbour lists compressed
    /// past `M_beta`): walks at low selectivity.
    AcornGamma,
    /// The HNSW graph over the Matryoshka prefix store of dimension `dim`.
    Prefix {
        /// The prefix dimension.
        dim: usize,
    },
}

impl IndexKind {
    /// The name used in logs and errors.
    pub fn name(&self) -> String {
        match self {
            IndexKind::Hnsw => "hnsw".into(),
            IndexKind::AcornGamma => "acorn_gamma".into(),
            IndexKind::Prefix { dim } => format!("prefix_graph({dim})"),
        }
    }
}

/// A vector index over rows of a [`VectorStore`], keyed by the rows' internal ids.
///
/// Invariants the registry relies on and every implementation must keep:
/// - [`VectorIndex::insert`] may run concurrently for distinct ids, and concurrently with
///   searches; each id is inserted at most once, after [`VectorIndex::reserve`] covered it,
///   with the same row store every time.
/// - Deleted ids stay in the index (they may still route a walk); the caller's filter keeps
///   them out of results, and the registry scans ids not yet inserted (the pending tail).
/// - [`VectorIndex::search`] returns at most `k` ids the filter allows, closest first by the
///   scorer's distance, and polls `stop` (recording the cause in `stats.stopped`).
/// - A saved index loads back equal ([`VectorIndex::load`]); a file from another version or
///   other parameters is an error, never a wrong index.
pub trait VectorIndex: Send + Sync + fmt::Debug + Sized {
    /// Construction parameters; a saved index whose parameters differ is not loaded.
    type Params: Copy + PartialEq + fmt::Debug + Send + Sync;

    /// An empty index for `dim`-dimensional rows under `metric`.
    fn create(params: Self::Params, metric: Metric, dim: usize) -> Result<Self>;
    /// The parameters it was built with.
    fn params(&self) -> &Self::Params;
    /// Makes room for ids below `n`.
    fn reserve(&self, n: usize);
    /// Adds row `id` of `rows`.
    fn insert(&self, id: u32, rows: &VectorStore);
    /// Ids held.
    fn len(&self) -> usize;
    /// Whether no id is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether `id` is held.
    fn contains(&self, id: u32) -> bool;
    /// Bytes held.
    fn memory_bytes(&self) -> usize;
    /// Writes the index to `path` (atomically: a temporary file renamed).
    fn save(&self, path: &Path) -> Result<()>;
    /// Reads an index written by [`VectorIndex::save`].
    fn load(path: &Path, metric: Metric, dim: usize) -> Result<Self>;
    /// The `k` nearest ids allowed by `filter`, walking with beam `ef` from `entry` (or the
    /// index's own entry point), distances from `sc`.
    #[expect(clippy::too_many_arguments, reason = "one walk's inputs, as the graph takes them")]
    fn search<S: Scorer>(
        &self,
        sc: &S,
        k: usize,
        ef: usize,
        filter: GraphFilter<'_>,
        entry: Option<&Probe>,
        stats: &mut SearchStats,
        stop: &Stop,
    ) -> Vec<Neighbor>;
}

impl VectorIndex for Graph {
    type Params = GraphParams;

    fn create(params: GraphParams, metric: Metric, dim: usize) -> Result<Self> {
        Graph::new(params, metric, dim)
    }
    fn params(&self) -> &GraphParams {
        Graph::params(self)
    }
    fn reserve(&self, n: usize) {
        Graph::reserve(self, n)
    }
    fn insert(&self, id: u32, rows: &VectorStore) {
        Graph::insert(self, id, rows)
    }
    fn len(&self) -> usize {
        Graph::len(self)
    }
    fn contains(&self, id: u32) -> bool {
        Graph::contains(self, id)
    }
    fn memory_bytes(&self) -> usize {
        Graph::memory_bytes(self)
    }
    fn save(&self, path: &Path) -> Result<()> {
        Graph::save(self, path)
    }
    fn load(path: &Path, metric: Metric, dim: usize) -> Result<Self> {
        Graph::load(path, metric, dim)
    }
    fn search<S: Scorer>(
        &self,
        sc: &S,
        k: usize,
        ef: usize,
        filter: GraphFilter<'_>,
        entry: Option<&Probe>,
        stats: &mut SearchStats,
        stop: &Stop,
    ) -> Vec<Neighbor> {
        self.search_with(sc, k, ef, filter, entry, stats, stop)
    }
}

/// An index handle and the live ids not yet in it. Searches clone the handle and scan the
/// pending ids exactly, so every live point is found in the index, in the tail, or both
/// (merged by id), never in neither.
#[derive(Debug)]
pub struct Slot<I> {
    /// The index (replaced whole on load).
    pub index: Arc<I>,
    /// Live ids not yet inserted.
    pub pending: RoaringBitmap,
}

/// Runs its argument with the rows an index is built over and the tombstones, under the locks
/// those live behind (see [`Entry::drain`]).
pub type WithRows<'a> = &'a dyn Fn(&mut dyn FnMut(&VectorStore, &RoaringBitmap));

/// What happened to one index in a load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphLoad {
    /// The file was loaded; `pending` live points were not in it and await indexing.
    Loaded {
        /// Nodes read from the file.
        nodes: u64,
        /// Live points left to index.
        pending: u64,
    },
    /// No file: the index was kept as it was and its pending points wait for indexing.
    Missing {
        /// Live points left to index.
        pending: u64,
    },
    /// The file could not be used (corrupt, other version, other parameters, or ids the
    /// collection does not have); kept as it was, pending points wait for indexing.
    Invalid {
        /// Why.
        reason: String,
        /// Live points left to index.
        pending: u64,
    },
}

/// One registered index: its kind, its file name and its slot.
#[derive(Debug)]
pub struct Entry<I> {
    kind: IndexKind,
    file: String,
    dim: usize,
    slot: RwLock<Slot<I>>,
}

impl<I: VectorIndex> Entry<I> {
    /// An empty index of `kind` over `dim`-dimensional rows, saved as `file`, with `pending`
    /// ids to insert.
    pub fn new(
        kind: IndexKind,
        file: String,
        params: I::Params,
        metric: Metric,
        dim: usize,
        pending: RoaringBitmap,
    ) -> Result<Self> {
        let index = Arc::new(I::create(params, metric, dim)?);
        Ok(Self { kind, file, dim, slot: RwLock::new(Slot { index, pending }) })
    }

    /// The kind.
    pub fn kind(&self) -> IndexKind {
        self.kind
    }

    /// The file name inside the collection's index directory.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The slot, read-locked (hold it for the whole walk plus tail scan of one search).
    pub fn read(&self) -> parking_lot::RwLockReadGuard<'_, Slot<I>> {
        self.slot.read()
    }

    /// Ids in the index.
    pub fn len(&self) -> usize {
        self.slot.read().index.len()
    }

    /// Whether the index holds no id.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Live ids not yet in the index.
    pub fn pending(&self) -> u64 {
        self.slot.read().pending.len()
    }

    /// Bytes of the index.
    pub fn memory_bytes(&self) -> usize {
        self.slot.read().index.memory_bytes()
    }

    /// Moves up to `budget` pending ids into the index, `chunk` per round, in parallel on
    /// `pool` when given. `with_rows` takes the locks the rows live under (points, then the
    /// Matryoshka stores) and runs its argument with the row store and the tombstones; it is
    /// called once per round with this entry's lock released. Returns the ids left pending.
    pub fn drain(
        &self,
        chunk: usize,
        budget: usize,
        pool: Option<&rayon::ThreadPool>,
        with_rows: WithRows<'_>,
    ) -> u64 {
        let mut budget = budget;
        while budget > 0 {
            let (index, ids): (Arc<I>, Vec<u32>) = {
                let s = self.slot.read();
                (Arc::clone(&s.index), s.pending.iter().take(chunk.min(budget)).collect())
            };
            if ids.is_empty() {
                break;
            }
            with_rows(&mut |rows, dead| {
                index.reserve(rows.len());
                let work = || {
                    ids.par_iter().filter(|&&id| !dead.contains(id)).for_each(|&id| index.insert(id, rows))
                };
                match pool {
                    Some(p) => p.install(work),
                    None => work(),
                }
            });
            let mut s = self.slot.write();
            for &id in &ids {
                s.pending.remove(id);
            }
            budget -= ids.len();
        }
        self.pending()
    }

    /// Writes the index into `dir` as [`Entry::file`].
    pub fn save(&self, dir: &Path) -> Result<()> {
        let index = Arc::clone(&self.slot.read().index);
        index.save(&dir.join(&self.file))
    }

    /// Replaces the index with `dir`/[`Entry::file`] when that file holds an index with these
    /// parameters over ids this collection has (`n` rows, `dead` not live); live ids it lacks
    /// become pending. Anything else keeps the current index and says why.
    pub fn load(&self, dir: &Path, metric: Metric, n: usize, dead: &RoaringBitmap) -> GraphLoad {
        let path = dir.join(&self.file);
        if !path.exists() {
            return GraphLoad::Missing { pending: self.pending() };
        }
        let params = *self.slot.read().index.params();
        match read_index::<I>(&path, metric, self.dim, &params, n, dead) {
            Ok((index, pending)) => {
                let nodes = index.len() as u64;
                let left = pending.len();
                *self.slot.write() = Slot { index: Arc::new(index), pending };
                GraphLoad::Loaded { nodes, pending: left }
            }
            Err(reason) => GraphLoad::Invalid { reason, pending: self.pending() },
        }
    }

    fn mark(&self, id: u32) {
        self.slot.write().pending.insert(id);
    }

    fn unmark(&self, id: u32) {
        self.slot.write().pending.remove(id);
    }
}

/// A saved index checked against the collection (parameters, ids in range), with the live ids
/// it lacks; `Err` says why it cannot be used.
fn read_index<I: VectorIndex>(
    path: &Path,
    metric: Metric,
    dim: usize,
    params: &I::Params,
    n: usize,
    dead: &RoaringBitmap,
) -> std::result::Result<(I, RoaringBitmap), String> {
    let index = I::load(path, metric, dim).map_err(|e| e.to_string())?;
    if index.params() != params {
        return Err(format!(
            "built with {:?}, the collection is configured with {:?}",
            index.params(),
            params
        ));
    }
    let n = n as u32;
    // Every id must be a row we hold, or a walk would read past the rows.
    let in_range = (0..n).filter(|&id| index.contains(id)).count();
    if in_range != index.len() {
        return Err(format!(
            "{} of its {} nodes are ids this collection does not have (it holds ids below {n})",
            index.len() - in_range,
            index.len()
        ));
    }
    let mut pending = RoaringBitmap::new();
    for id in 0..n {
        if !dead.contains(id) && !index.contains(id) {
            pending.insert(id);
        }
    }
    Ok((index, pending))
}

/// The registered indexes of one vector field, in registration order.
#[derive(Debug)]
pub struct Registry<I = Graph> {
    entries: RwLock<Vec<Arc<Entry<I>>>>,
}

impl<I: VectorIndex> Registry<I> {
    /// A registry holding `entries`.
    pub fn new(entries: Vec<Entry<I>>) -> Self {
        Self { entries: RwLock::new(entries.into_iter().map(Arc::new).collect()) }
    }

    /// The entry of `kind`, when registered.
    pub fn get(&self, kind: IndexKind) -> Option<Arc<Entry<I>>> {
        self.entries.read().iter().find(|e| e.kind == kind).cloned()
    }

    /// Every entry, in registration order.
    pub fn entries(&self) -> Vec<Arc<Entry<I>>> {
        self.entries.read().clone()
    }

    /// Registered kinds.
    pub fn kinds(&self) -> Vec<IndexKind> {
        self.entries.read().iter().map(|e| e.kind).collect()
    }

    /// Replaces every entry `matches` selects with `with` (e.g. a new Matryoshka declaration's
    /// prefix graphs).
    pub fn replace(&self, matches: impl Fn(IndexKind) -> bool, with: Vec<Entry<I>>) {
        let mut e = self.entries.write();
        e.retain(|x| !matches(x.kind));
        e.extend(with.into_iter().map(Arc::new));
    }

    /// A new point: pending in every index.
    pub fn mark_pending(&self, id: u32) {
        for e in self.entries.read().iter() {
            e.mark(id);
        }
    }

    /// A deleted point: it leaves every pending set (indexes keep it for routing).
    pub fn unmark(&self, id: u32) {
        for e in self.entries.read().iter() {
            e.unmark(id);
        }
    }

    /// The largest pending set of any index.
    pub fn pending(&self) -> u64 {
        self.entries.read().iter().map(|e| e.pending()).max().unwrap_or(0)
    }
}

/// The `k` best of two hit lists, each id once (a walk's hits and its pending tail's).
pub fn merge(mut a: Vec<Neighbor>, b: Vec<Neighbor>, k: usize) -> Vec<Neighbor> {
    if !b.is_empty() {
        a.extend(b);
        a.sort();
        let mut seen = std::collections::HashSet::with_capacity(a.len());
        a.retain(|h| seen.insert(h.id));
    }
    a.truncate(k);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(n: usize) -> VectorStore {
        let mut s = VectorStore::new(2);
        for i in 0..n {
            s.set(i as u32, &[i as f32, (i % 7) as f32]);
        }
        s
    }

    fn entry(pending: RoaringBitmap) -> Entry<Graph> {
        let p = GraphParams { m: 8, ef_construction: 32, ..GraphParams::default() };
        Entry::new(IndexKind::Hnsw, "t.graph".into(), p, Metric::L2, 2, pending).unwrap()
    }

    #[test]
    fn merge_dedupes_and_truncates() {
        let a = vec![Neighbor::new(1, 0.1), Neighbor::new(2, 0.3)];
        let b = vec![Neighbor::new(2, 0.3), Neighbor::new(3, 0.2), Neighbor::new(4, 0.9)];
        let m = merge(a, b, 3);
        assert_eq!(m.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 3, 2]);
    }

    #[test]
    fn drain_moves_pending_in_chunks_and_skips_the_dead() {
        let rows = store(300);
        let mut dead = RoaringBitmap::new();
        dead.insert(5);
        let e = entry((0..300).collect());
        let left = e.drain(64, 100, None, &|f| f(&rows, &dead));
        assert_eq!(left, 200, "the budget bounds one drain");
        assert_eq!(e.drain(64, usize::MAX, None, &|f| f(&rows, &dead)), 0);
        assert_eq!(e.len(), 299, "the dead id is not inserted");
        assert!(!e.read().index.contains(5));
    }

    #[test]
    fn registry_marks_and_unmarks_every_entry_and_replaces_by_kind() {
        let r = Registry::new(vec![entry(RoaringBitmap::new())]);
        r.replace(|k| matches!(k, IndexKind::Prefix { .. }), vec![]);
        assert_eq!(r.kinds(), vec![IndexKind::Hnsw]);
        let p = GraphParams::default();
        let prefix = Entry::new(
            IndexKind::Prefix { dim: 1 },
            "p.graph".into(),
            p,
            Metric::L2,
            1,
            RoaringBitmap::new(),
        );
        r.replace(|k| matches!(k, IndexKind::Prefix { .. }), vec![prefix.unwrap()]);
        r.mark_pending(3);
        r.mark_pending(4);
        r.unmark(3);
        assert_eq!(r.pending(), 1);
        assert!(r.entries().iter().all(|e| e.pending() == 1));
        assert!(r.get(IndexKind::AcornGamma).is_none());
        assert_eq!(r.get(IndexKind::Prefix { dim: 1 }).map(|e| e.file().to_string()), Some("p.graph".into()));
    }

    #[test]
    fn load_reports_missing_invalid_and_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let rows = store(200);
        let dead = RoaringBitmap::new();
        let e = entry((0..200).collect());
        assert_eq!(e.load(dir.path(), Metric::L2, 200, &dead), GraphLoad::Missing { pending: 200 });
        e.drain(64, 150, None, &|f| f(&rows, &dead));
        e.save(dir.path()).unwrap();
        let fresh = entry((0..200).collect());
        assert_eq!(
            fresh.load(dir.path(), Metric::L2, 200, &dead),
            GraphLoad::Loaded { nodes: 150, pending: 50 }
        );
        // Fewer rows than the file's ids: refused, the current index kept.
        let small = entry((0..100).collect());
        assert!(matches!(
            small.load(dir.path(), Metric::L2, 100, &dead),
            GraphLoad::Invalid { pending: 100, .. }
        ));
        std::fs::write(dir.path().join("t.graph"), b"not a graph").unwrap();
        assert!(matches!(fresh.load(dir.path(), Metric::L2, 200, &dead), GraphLoad::Invalid { .. }));
    }
}
