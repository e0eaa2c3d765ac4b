//! One collection: durable rows in the key-value store, the in-memory id map and payload
//! indexes, the engine's `CollectionIndex`, and the background indexing thread.
//!
//! Write path (every mutating method): take `write` (one writer per collection), read what the
//! change replaces, validate everything, build ONE [`Batch`], then commit it in three steps:
//! (1) under `state` (write, microseconds) park the old payloads of every point the batch
//! rewrites or deletes in `State::before`; (2) with `state` released, commit the batch (synced
//! WAL: the fsync is the slow part); (3) under `state` again, apply the same deltas in memory and
//! clear `before`. Readers take `state` for reading and read payloads through
//! [`Collection::payload_of`], which answers from `before` first: between (1) and (3) a reader
//! sees the old in-memory state with the old payloads, whether or not RocksDB already holds the
//! batch; after (3) the new state with the new rows. So a reader sees a batch entirely or not at
//! all, and never waits for an fsync. Rows the batch adds (new internal ids) are invisible to the
//! old state, so only rewritten or deleted payloads need parking. The commit point is still the
//! synced WAL write: a write is acknowledged after (3), so it is durable when acknowledged.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use grove_index::collection::{CollectionIndex, IndexConfig, SearchParams};
use grove_index::matryoshka::{CalibrationReport, CalibrationRequest, MatryoshkaConfig, Rotation};
use grove_index::multivec::MultiVectorField;
use grove_index::{GraphParams, Strategy};
use parking_lot::{Condvar, Mutex, RwLock};
use roaring::RoaringBitmap;

use crate::api::*;
use crate::error::{Result, StorageError};
use crate::filter::{Condition, Filter};
use crate::kv::{Batch, Cf, KvBackend, Scan};
use crate::payload_index::{contains_sorted, extract, FieldDef, FieldIndex, IndexValue};
use crate::record::{decode_point_full, encode_point, CollectionRecord};
use crate::snapshot::{ArchiveMeta, ArchiveWriter};
use crate::sparse::{SparseIndexes, SparseVectors};
use crate::storage::StorageOptions;
use crate::text_index::{TextIndexParams, TextQuery};

// Per-collection meta keys (after the 4-byte collection prefix).
const META_NEXT_ID: &[u8] = b"next_id";
const META_OP_SEQ: &[u8] = b"op_seq";
const META_NEXT_FIELD: &[u8] = b"next_field";
const META_FIELD: &[u8] = b"field/";
/// The Matryoshka PCA rotation ([`grove_index::matryoshka::Rotation::to_bytes`]).
const META_PCA: &[u8] = b"matryoshka_pca";

/// The engine's Matryoshka declaration for a collection config (`None` without prefixes, or
/// without the unnamed vector, which is the one prefixes are declared on).
pub(crate) fn matryoshka_config(c: &CollectionConfig) -> Option<MatryoshkaConfig> {
    let v = c.vectors.get(DEFAULT_VECTOR)?;
    if c.matryoshka_dims.is_empty() {
        return None;
    }
    let hnsw = c.hnsw_of(DEFAULT_VECTOR);
    let mut dims = c.matryoshka_dims.clone();
    dims.sort_unstable();
    dims.dedup();
    let s = &c.matryoshka;
    Some(MatryoshkaConfig {
        dims,
        renormalise: s.renormalise.unwrap_or(v.metric == grove_index::Metric::Cosine),
        dtype: s.dtype,
        graph: s.graph.then_some(GraphParams {
            m: hnsw.m,
            ef_construction: hnsw.ef_construction,
            ..GraphParams::default()
        }),
    })
}

/// The largest Euclidean norm a stored or query vector may have: `sqrt(f32::MAX) / 2`.
///
/// Why: every score is computed in f32. With `|a|, |b| <= N`, a dot product (and every partial
/// sum of one) is at most `N^2` by Cauchy-Schwarz, and a squared L2 distance at most `(2N)^2`;
/// `N = sqrt(f32::MAX) / 2` keeps both finite, so no score can become `inf` or `null`. A finite
/// vector near 3e38 used to overflow and rank first with `"score": null`.
pub const MAX_VECTOR_NORM: f64 = 9.223_372e18;

/// Finite components and a norm of at most [`MAX_VECTOR_NORM`] (computed in f64, which cannot
/// overflow for f32 inputs), or the error naming `point` ("query" for a query).
pub(crate) fn check_vector(point: &str, v: &[f32]) -> Result<()> {
    if let Some(index) = v.iter().position(|x| !x.is_finite()) {
        return Err(StorageError::NonFiniteVector { point: point.to_string(), index });
    }
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm > MAX_VECTOR_NORM {
        return Err(StorageError::VectorTooLarge { point: point.to_string(), norm, max: MAX_VECTOR_NORM });
    }
    Ok(())
}

pub(crate) fn prefix(coll: u32) -> [u8; 4] {
    coll.to_be_bytes()
}

fn key(coll: u32, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + rest.len());
    k.extend_from_slice(&prefix(coll));
    k.extend_from_slice(rest);
    k
}

fn id_key(coll: u32, id: u32) -> Vec<u8> {
    key(coll, &id.to_be_bytes())
}

/// External id encoding: ordered like `PointId`'s `Ord` (numbers before UUIDs).
pub(crate) fn encode_point_id(id: &PointId) -> Vec<u8> {
    match id {
        PointId::Num(n) => {
            let mut v = vec![0u8];
            v.extend_from_slice(&n.to_be_bytes());
            v
        }
        PointId::Uuid(u) => {
            let mut v = vec![1u8];
            v.extend_from_slice(u.as_bytes());
            v
        }
    }
}

pub(crate) fn decode_point_id(b: &[u8]) -> Result<PointId> {
    match b.split_first() {
        Some((0, rest)) if rest.len() == 8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(rest);
            Ok(PointId::Num(u64::from_be_bytes(a)))
        }
        Some((1, rest)) if rest.len() == 16 => {
            uuid::Uuid::from_slice(rest).map(PointId::Uuid).map_err(|e| StorageError::Corrupt(e.to_string()))
        }
        _ => Err(StorageError::Corrupt(format!("point id bytes {b:?}"))),
    }
}

fn posting_key(coll: u32, field_id: u32, v: &IndexValue, id: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(24);
    k.extend_from_slice(&prefix(coll));
    k.extend_from_slice(&field_id.to_be_bytes());
    v.encode(&mut k);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

fn u32_at(b: &[u8]) -> Result<u32> {
    b.try_into()
        .map(u32::from_be_bytes)
        .map_err(|_| StorageError::Corrupt(format!("expected 4 bytes, got {b:?}")))
}

fn corrupt(e: serde_json::Error) -> StorageError {
    StorageError::Corrupt(e.to_string())
}

/// In-memory state guarded by one lock.
#[derive(Debug, Default)]
struct State {
    ids: BTreeMap<PointId, u32>,
    ext: Vec<Option<PointId>>,
    live: RoaringBitmap,
    next_id: u32,
    op_seq: u64,
    next_field: u32,
    fields: BTreeMap<String, FieldIndex>,
    /// Old payloads of the points the in-flight batch rewrites or deletes (empty between
    /// batches); readers consult it before the key-value store. See the module docs.
    before: HashMap<u32, Payload>,
    /// Internal ids below `next_id` that new points take before `next_id` grows: ids of
    /// deleted or overwritten points that no index holds any more ([`reusable_ids`]). This is
    /// how space follows the live points: the arena, the graphs and the id space stay as large
    /// as the live points plus the tombstones since the last rebuild, whatever the write
    /// history, and ids cannot run out.
    free: RoaringBitmap,
}

impl State {
    fn ext_of(&self, id: u32) -> Option<PointId> {
        self.ext.get(id as usize).copied().flatten()
    }
}

/// The internal ids a new point may take (see `State::free`): below `next_id`, not live, a
/// gap in every vector's engine (no row, no graph node: see `CollectionIndex::gaps`) and not
/// stale in any sparse index. Overwritten and deleted ids become reusable once a rebuild of
/// every engine that held them has left them out.
fn reusable_ids<'a>(
    next_id: u32,
    live: &RoaringBitmap,
    engines: impl IntoIterator<Item = &'a CollectionIndex>,
    sparse_stale: &RoaringBitmap,
) -> RoaringBitmap {
    let mut free = RoaringBitmap::new();
    free.insert_range(0..next_id);
    free -= live;
    free -= sparse_stale;
    for e in engines {
        let mut held = RoaringBitmap::new();
        held.insert_range(0..(e.len() as u32).min(next_id));
        held -= e.gaps();
        free -= held;
    }
    free
}

/// What the background worker carries from one round to the next.
#[derive(Debug, Default)]
struct WorkerRound {
    /// Graphs changed since the last save.
    dirty: bool,
    last_save: Option<Instant>,
}

/// Signals for the background indexing thread.
#[derive(Debug, Default)]
struct Worker {
    stop: AtomicBool,
    wake: Condvar,
    lock: Mutex<()>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

/// One named vector's engine. Every named vector has its own `CollectionIndex` over the
/// collection's one internal id space: a point that lacks the vector is a gap (deleted) in that
/// index, so a search of one vector never returns points without it, and filters (bitmaps of
/// internal ids) apply to every index unchanged.
#[derive(Debug)]
struct VectorIndex {
    /// For a multi-vector field, the index of the points' FDE encodings (see `multi.rs`).
    engine: RwLock<Arc<CollectionIndex>>,
    /// A multi-vector field's matrices (`None` for dense vectors). Written by the apply and
    /// swapped by a reload under the state's write lock, like the engine's rows; a rebuild of
    /// `engine` keeps the ids, so it leaves the field as it is.
    field: RwLock<Option<Arc<MultiVectorField>>>,
    /// Rebuilds done (info and tests).
    rebuilds: std::sync::atomic::AtomicU64,
    /// Settings changes asked for (`update_config` increments it): while it differs from
    /// `rebuilt_for`, the worker rebuilds the index with the new settings whatever the
    /// tombstones, and the collection is not green.
    settings_changes: std::sync::atomic::AtomicU64,
    /// The `settings_changes` value the current index was built for.
    rebuilt_for: std::sync::atomic::AtomicU64,
}

impl VectorIndex {
    fn new(engine: CollectionIndex, field: Option<MultiVectorField>) -> Self {
        VectorIndex {
            engine: RwLock::new(Arc::new(engine)),
            field: RwLock::new(field.map(Arc::new)),
            rebuilds: std::sync::atomic::AtomicU64::new(0),
            settings_changes: std::sync::atomic::AtomicU64::new(0),
            rebuilt_for: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn engine(&self) -> Arc<CollectionIndex> {
        Arc::clone(&self.engine.read())
    }

    fn field(&self) -> Option<Arc<MultiVectorField>> {
        self.field.read().clone()
    }
}

/// A vector's in-memory structures built from the rows: its engine, and its matrices when it
/// is a multi-vector field.
type VectorParts = (CollectionIndex, Option<MultiVectorField>);

/// The graph directory of vector `name` under the collection's graph dir: the unnamed vector
/// uses the dir itself (where graphs were saved before named vectors existed), a named one the
/// subdirectory `v-<hex of the name>` (any name is a safe file name that way, and the engine's
/// save only prunes files, never subdirectories).
pub(crate) fn vector_graph_subdir(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    Some(format!("v-{}", name.bytes().map(|b| format!("{b:02x}")).collect::<String>()))
}

fn vector_graph_dir(base: &std::path::Path, name: &str) -> PathBuf {
    match vector_graph_subdir(name) {
        Some(sub) => base.join(sub),
        None => base.to_path_buf(),
    }
}

/// A collection.
#[derive(Debug)]
pub(crate) struct Collection {
    pub name: String,
    pub id: u32,
    /// The current config (swapped by `update_config`; the vector names never change).
    config: RwLock<Arc<CollectionConfig>>,
    kv: Arc<dyn KvBackend>,
    opts: StorageOptions,
    graph_dir: Option<PathBuf>,
    write: Mutex<()>,
    state: RwLock<State>,
    /// One engine per named vector (`""`: the unnamed vector).
    vectors: BTreeMap<String, VectorIndex>,
    /// The sparse vectors' inverted indexes (`sparse.rs`; searched in `collection/sparse_query.rs`).
    sparse: SparseIndexes,
    worker: Arc<Worker>,
    /// Set (under `write`) when the collection was deleted or replaced by a recovered snapshot:
    /// a writer still holding this handle must not write rows under a dropped id.
    dropped: AtomicBool,
    /// Set when applying a committed write to the engines failed (a bug: every insert is
    /// checked before the commit): the engines are rebuilt from the rows
    /// ([`Collection::reload_engines_if_needed`]) before the write returns, or by the worker.
    needs_reload: AtomicBool,
    /// Test hook: the next engine insert of an apply fails.
    #[cfg(test)]
    fail_next_apply: AtomicBool,
}

/// Visits every points row of collection `coll` in internal id order, decoded; the first
/// error (of a row or of `f`) stops the scan and is returned.
fn scan_points(
    kv: &dyn KvBackend,
    coll: u32,
    f: &mut dyn FnMut(u32, PointId, NamedVectors, SparseVectors) -> Result<()>,
) -> Result<()> {
    let mut err = None;
    kv.scan(Cf::Points, &prefix(coll), &[], &mut |k, v| {
        let r = u32_at(&k[4..]).and_then(|id| {
            let (ext, vecs, sp) = decode_point_full(v)?;
            f(id, ext, vecs, sp)
        });
        match r {
            Ok(()) => Scan::Continue,
            Err(e) => {
                err = Some(e);
                Scan::Stop
            }
        }
    })?;
    err.map_or(Ok(()), Err)
}

/// Reads a point's payload row.
fn read_payload(kv: &dyn KvBackend, coll: u32, id: u32) -> Result<Payload> {
    match kv.get(Cf::Payloads, &id_key(coll, id))? {
        Some(b) => serde_json::from_slice(&b).map_err(corrupt),
        None => Ok(Payload::new()),
    }
}

/// The engine config of vector `name` (the caller checked that it exists).
pub(crate) fn index_config(c: &CollectionConfig, name: &str, opts: &StorageOptions) -> IndexConfig {
    // A multi-vector field's engine holds the FDE encodings, searched by inner product.
    let (dim, metric) = c
        .vectors
        .get(name)
        .map(|v| match &v.multivector {
            Some(m) => (m.fde.out_dim(v.dimension), grove_index::Metric::Dot),
            None => (v.dimension, v.metric),
        })
        .unwrap_or((1, grove_index::Metric::L2));
    let hnsw = c.hnsw_of(name);
    let mut cfg = IndexConfig::new(dim, metric);
    cfg.hnsw = GraphParams { m: hnsw.m, ef_construction: hnsw.ef_construction, gamma: 1, ..cfg.hnsw };
    cfg.acorn = (c.acorn.gamma > 1).then_some(GraphParams {
        m: hnsw.m,
        ef_construction: hnsw.ef_construction,
        gamma: c.acorn.gamma,
        m_beta: c.acorn.m_beta,
        seed: cfg.hnsw.seed,
    });
    cfg.ef_search = c.ef_search;
    cfg.build_threads = opts.build_threads.max(1);
    // A vector's own quantization replaces the collection-wide one (Qdrant's rule).
    let stored = c.vectors.get(name).and_then(|v| v.quantization.as_ref()).or(c.quantization.as_ref());
    if let crate::quantization::QuantizationEffect::Active(q) = crate::quantization::effect(stored) {
        cfg.quantization = Some(q);
    }
    cfg
}

/// Validates a collection config (beyond what serde checks).
pub(crate) fn validate_config(c: &CollectionConfig, opts: &StorageOptions) -> Result<()> {
    if c.vectors.is_empty() && c.sparse_vectors.is_empty() {
        return Err(StorageError::InvalidRequest(
            "declare at least one vector (an unnamed one, a map of named vectors, or sparse vectors)".into(),
        ));
    }
    crate::sparse::validate(c)?;
    if c.vectors.len() > MAX_VECTORS {
        return Err(StorageError::InvalidRequest(format!(
            "{} vectors declared; a collection holds at most {MAX_VECTORS}",
            c.vectors.len()
        )));
    }
    for (name, v) in &c.vectors {
        if name.len() > MAX_VECTOR_NAME || name.chars().any(char::is_control) {
            return Err(StorageError::InvalidName {
                name: name.clone(),
                reason: format!(
                    "a vector name is at most {MAX_VECTOR_NAME} bytes without control characters"
                ),
            });
        }
        if v.dimension == 0 || v.dimension > 65_536 {
            return Err(StorageError::InvalidRequest(format!(
                "vector {name:?}: size must be between 1 and 65536, got {}",
                v.dimension
            )));
        }
        if let Some(m) = &v.multivector {
            m.fde.validate(v.dimension)?;
        }
        IndexConfig::validate(&index_config(c, name, opts))?;
    }
    if !c.matryoshka_dims.is_empty() && c.multivector(DEFAULT_VECTOR).is_some() {
        return Err(StorageError::InvalidRequest(
            "matryoshka prefixes need a dense unnamed vector; this one is a multi-vector field".into(),
        ));
    }
    if !c.matryoshka_dims.is_empty() {
        let Some(v) = c.vectors.get(DEFAULT_VECTOR) else {
            return Err(StorageError::InvalidRequest(format!(
                "matryoshka prefixes are declared on the unnamed vector (\"\"); this collection has {}",
                c.vector_names()
            )));
        };
        if let Some(d) = c.matryoshka_dims.iter().find(|d| **d == 0 || **d >= v.dimension) {
            return Err(StorageError::InvalidRequest(format!(
                "matryoshka prefix dimension {d} must be between 1 and dimension - 1 ({})",
                v.dimension - 1
            )));
        }
    }
    if !(c.tombstone_rebuild_ratio > 0.0 && c.tombstone_rebuild_ratio <= 1.0) {
        return Err(StorageError::InvalidRequest(format!(
            "tombstone_rebuild_ratio must be in (0, 1], got {}",
            c.tombstone_rebuild_ratio
        )));
    }
    if let (Some(m), Some(v)) = (matryoshka_config(c), c.vectors.get(DEFAULT_VECTOR)) {
        m.validate(v.dimension, v.metric)?;
    }
    if c.matryoshka.pca && c.matryoshka.pca_sample == 0 {
        return Err(StorageError::InvalidRequest("matryoshka.pca_sample must be at least 1".into()));
    }
    Ok(())
}

/// Most named vectors per collection (each is an engine with its own graphs and thread work).
pub const MAX_VECTORS: usize = 64;
/// Longest vector name, bytes.
pub const MAX_VECTOR_NAME: usize = 256;

/// How a filter was compiled (the explain's filter part).
#[derive(Debug, Default)]
struct CompileCtx {
    indexed: Vec<String>,
    unindexed: Vec<String>,
    scanned: u64,
    payloads: Option<Vec<(u32, PointId, Payload)>>,
}

impl Collection {
    /// Opens a collection: loads vectors, ids, payload indexes and graphs, starts the worker.
    pub fn open(
        name: String,
        rec: CollectionRecord,
        kv: Arc<dyn KvBackend>,
        opts: StorageOptions,
        graph_dir: Option<PathBuf>,
    ) -> Result<Arc<Self>> {
        let coll = rec.id;
        let mut vectors = BTreeMap::new();
        let mut fields = BTreeMap::new();
        for name in rec.config.vectors.keys() {
            vectors.insert(name.clone(), CollectionIndex::new(index_config(&rec.config, name, &opts))?);
            if let Some(f) = multi::new_field(&rec.config, name)? {
                fields.insert(name.clone(), f);
            }
        }
        let sparse = SparseIndexes::new(&rec.config);
        let mut st = State::default();
        let get_u = |k: &[u8]| -> Result<Option<Vec<u8>>> { kv.get(Cf::Meta, &key(coll, k)) };
        if let Some(b) = get_u(META_NEXT_ID)? {
            st.next_id = u32_at(&b)?;
        }
        if let Some(b) = get_u(META_OP_SEQ)? {
            st.op_seq = b
                .as_slice()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| StorageError::Corrupt("op_seq".into()))?;
        }
        if let Some(b) = get_u(META_NEXT_FIELD)? {
            st.next_field = u32_at(&b)?;
        }
        st.ext = vec![None; st.next_id as usize];
        // Vectors in id order into the arena.
        scan_points(&*kv, coll, &mut |id, ext, vecs, sp| {
            if let Some(n) = sp.keys().find(|n| !sparse.has(n)) {
                return Err(StorageError::Corrupt(format!(
                    "point {ext} holds a sparse vector {n:?} the collection does not declare"
                )));
            }
            sparse.insert(id, &sp);
            for (vname, vec) in &vecs {
                let engine = vectors.get(vname).ok_or_else(|| {
                    StorageError::Corrupt(format!(
                        "point {ext} holds a vector {vname:?} the collection does not declare"
                    ))
                })?;
                multi::insert_stored(engine, fields.get(vname), id, vec)?;
            }
            st.ids.insert(ext, id);
            if let Some(slot) = st.ext.get_mut(id as usize) {
                *slot = Some(ext);
            }
            st.live.insert(id);
            Ok(())
        })?;
        let mut err = None;
        // Ids above the last one an engine holds but below next_id were deleted (or lack that
        // vector): tell each engine so its id space matches ours (the ids between are gaps).
        for index in vectors.values() {
            index.extend(st.next_id as usize);
        }
        // Field definitions and their postings.
        let mut defs = Vec::new();
        kv.scan(Cf::Meta, &key(coll, META_FIELD), &[], &mut |k, v| {
            let name = String::from_utf8_lossy(&k[4 + META_FIELD.len()..]).into_owned();
            match serde_json::from_slice::<FieldDef>(v) {
                Ok(d) => defs.push((name, d)),
                Err(e) => err = Some(corrupt(e)),
            }
            Scan::Continue
        })?;
        if let Some(e) = err {
            return Err(e);
        }
        for (fname, def) in defs {
            let mut fi = FieldIndex::new(def.clone());
            let mut p = prefix(coll).to_vec();
            p.extend_from_slice(&def.field_id.to_be_bytes());
            kv.scan(Cf::PayloadIndex, &p, &[], &mut |k, _| {
                let r = (|| -> Result<()> {
                    let id = u32_at(&k[k.len() - 4..])?;
                    let v = IndexValue::decode(&k[8..k.len() - 4])?;
                    fi.add(id, &v);
                    Ok(())
                })();
                match r {
                    Ok(()) => Scan::Continue,
                    Err(e) => {
                        err = Some(e);
                        Scan::Stop
                    }
                }
            })?;
            if let Some(e) = err.take() {
                return Err(e);
            }
            st.fields.insert(fname, fi);
        }
        if let Some(mc) = matryoshka_config(&rec.config) {
            let rotation = match get_u(META_PCA)? {
                Some(b) => Some(
                    Rotation::from_bytes(&b)
                        .map_err(|e| StorageError::Corrupt(format!("matryoshka PCA: {e}")))?,
                ),
                None => None,
            };
            if let Some(index) = vectors.get(DEFAULT_VECTOR) {
                index.set_matryoshka(Some(mc), rotation)?;
            }
        }
        if let Some(dir) = &graph_dir {
            for (vname, index) in &vectors {
                let report = index.load_graphs(&vector_graph_dir(dir, vname));
                tracing::info!(collection = %name, vector = %vname, ?report, "graphs loaded");
            }
        }
        // After the graphs: a loaded graph's nodes of deleted ids are not reusable.
        st.free = reusable_ids(st.next_id, &st.live, vectors.values(), &sparse.stale());
        let c = Arc::new(Collection {
            name,
            id: coll,
            config: RwLock::new(Arc::new(rec.config)),
            kv,
            opts,
            graph_dir,
            write: Mutex::new(()),
            state: RwLock::new(st),
            vectors: vectors
                .into_iter()
                .map(|(n, e)| {
                    let f = fields.remove(&n);
                    (n, VectorIndex::new(e, f))
                })
                .collect(),
            sparse,
            worker: Arc::new(Worker::default()),
            dropped: AtomicBool::new(false),
            needs_reload: AtomicBool::new(false),
            #[cfg(test)]
            fail_next_apply: AtomicBool::new(false),
        });
        if c.opts.background_indexing {
            c.start_worker();
        }
        Ok(c)
    }

    /// The current config.
    pub fn config(&self) -> Arc<CollectionConfig> {
        Arc::clone(&self.config.read())
    }

    /// The engine of vector `name` (an unknown name is an error listing the declared ones).
    fn engine(&self, name: &str) -> Result<Arc<CollectionIndex>> {
        match self.vectors.get(name) {
            Some(v) => Ok(v.engine()),
            None => Err(StorageError::UnknownVector {
                name: name.to_string(),
                known: self.config().vector_names(),
            }),
        }
    }

    /// Every vector's engine, by name.
    fn engines(&self) -> Vec<(&str, Arc<CollectionIndex>)> {
        self.vectors.iter().map(|(n, v)| (n.as_str(), v.engine())).collect()
    }

    /// Every multi-vector field, by name.
    fn fields(&self) -> BTreeMap<&str, Arc<MultiVectorField>> {
        self.vectors.iter().filter_map(|(n, v)| v.field().map(|f| (n.as_str(), f))).collect()
    }

    fn start_worker(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let worker = Arc::clone(&self.worker);
        let h = std::thread::Builder::new().name(format!("grove-index-{}", self.id)).spawn(move || {
            let mut round = WorkerRound::default();
            while !worker.stop.load(Ordering::Acquire) {
                let Some(c) = weak.upgrade() else { return };
                // A panic in one round (a bug) must not end indexing for the life of the
                // process: it is logged and the round retried after a pause. Locks are
                // parking_lot's (never poisoned); an id whose insert panicked stays pending.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.worker_round(&mut round)));
                let pause = match outcome {
                    Ok(true) => continue,
                    Ok(false) => Duration::from_millis(200),
                    Err(panic) => {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        tracing::error!(collection = %c.name, panic = %what, "index worker round panicked; retrying in 1 s");
                        Duration::from_secs(1)
                    }
                };
                drop(c);
                let mut g = worker.lock.lock();
                if !worker.stop.load(Ordering::Acquire) {
                    worker.wake.wait_for(&mut g, pause);
                }
            }
        });
        match h {
            Ok(h) => *self.worker.handle.lock() = Some(h),
            Err(e) => tracing::error!(error = %e, "cannot start the indexing thread; searches stay exact"),
        }
    }

    /// One round of the background worker: fit the PCA when due, index a chunk of pending
    /// points, save graphs when caught up (throttled), rebuild past the tombstone threshold.
    /// True when points are still pending (go again at once).
    fn worker_round(&self, round: &mut WorkerRound) -> bool {
        if self.needs_reload.load(Ordering::Acquire) {
            let _w = self.write.lock();
            self.reload_engines_if_needed();
        }
        if let Err(e) = self.maybe_fit_pca() {
            tracing::warn!(collection = %self.name, error = %e, "fitting the Matryoshka PCA failed");
        }
        let mut left = 0;
        for (_, engine) in self.engines() {
            if engine.stats().pending > 0 {
                left += engine.index_pending(self.opts.index_chunk);
                round.dirty = true;
            }
        }
        if left > 0 {
            // Under a steady stream of writes points are always pending; tombstones must still
            // be reclaimed (the check is two counts; a rebuild runs past the threshold only).
            if let Err(e) = self.maybe_rebuild() {
                tracing::warn!(collection = %self.name, error = %e, "index rebuild failed");
            }
            return true;
        }
        if round.dirty && round.last_save.is_none_or(|t| t.elapsed() >= self.opts.graph_save_interval) {
            if let Err(e) = self.save_graphs() {
                tracing::warn!(collection = %self.name, error = %e, "saving graphs failed");
            }
            round.dirty = false;
            round.last_save = Some(Instant::now());
        }
        if let Err(e) = self.maybe_rebuild() {
            tracing::warn!(collection = %self.name, error = %e, "index rebuild failed");
        }
        false
    }

    fn wake_worker(&self) {
        self.worker.wake.notify_all();
    }

    /// Stops the worker and waits for it.
    pub fn stop_worker(&self) {
        self.worker.stop.store(true, Ordering::Release);
        self.wake_worker();
        let h = self.worker.handle.lock().take();
        if let Some(h) = h {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
    }

    /// Saves every vector's graphs into the data dir (no-op in memory).
    pub fn save_graphs(&self) -> Result<()> {
        if let Some(dir) = &self.graph_dir {
            self.save_graphs_to(dir)?;
        }
        Ok(())
    }

    /// Saves every vector's graphs under `dir` (see [`vector_graph_subdir`]).
    fn save_graphs_to(&self, dir: &std::path::Path) -> Result<()> {
        for (name, engine) in self.engines() {
            engine.save_graphs(&vector_graph_dir(dir, name))?;
        }
        Ok(())
    }

    /// Fits, persists and applies the Matryoshka PCA rotation once the collection holds
    /// `pca_min_points` live points (only when configured and not fitted yet). Runs on the
    /// background thread (or from `wait_indexed` without one): CPU-heavy.
    pub fn maybe_fit_pca(&self) -> Result<bool> {
        let config = self.config();
        let s = &config.matryoshka;
        let Some(mc) = matryoshka_config(&config) else { return Ok(false) };
        let engine = self.engine(DEFAULT_VECTOR)?;
        if !s.pca || engine.matryoshka_rotation().is_some() || engine.live_count() < s.pca_min_points.max(1) {
            return Ok(false);
        }
        let rot = engine.fit_rotation(s.pca_sample, 42)?;
        let _w = self.write.lock();
        let mut b = Batch::new();
        b.put(Cf::Meta, key(self.id, META_PCA), rot.to_bytes());
        self.kv.write(b)?;
        self.engine(DEFAULT_VECTOR)?.set_matryoshka(Some(mc), Some(rot))?;
        tracing::info!(collection = %self.name, "Matryoshka PCA fitted");
        Ok(true)
    }

    /// Calibrates the Matryoshka prefixes ([`grove_index::matryoshka::calibrate`]). CPU-heavy:
    /// call it off async workers.
    pub fn calibrate_matryoshka(&self, req: &CalibrateRequest) -> Result<CalibrationReport> {
        self.calibrate_matryoshka_with_stop(req, &grove_index::stop::NEVER)
    }

    /// [`Self::calibrate_matryoshka`] ending with [`crate::ErrorKind::Stopped`] when `stop`
    /// fires (polled in every search the calibration runs).
    pub fn calibrate_matryoshka_with_stop(
        &self,
        req: &CalibrateRequest,
        stop: &grove_index::Stop,
    ) -> Result<CalibrationReport> {
        if self.config().matryoshka_dims.is_empty() {
            return Err(StorageError::InvalidRequest(
                "the collection declares no matryoshka_dims: nothing to calibrate".into(),
            ));
        }
        let filter = match &req.filter {
            Some(f) => Some(self.compile(f)?.0),
            None => None,
        };
        let r = CalibrationRequest {
            sample: req.sample,
            seed: req.seed,
            k: 10,
            target_recall: req.target_recall,
            dims: req.dims.clone(),
            oversamples: req.oversamples.clone(),
            filter,
            path: Default::default(),
        };
        Ok(self.engine(DEFAULT_VECTOR)?.calibrate_matryoshka_stoppable(&r, stop)?)
    }

    /// Rebuilds each vector's index from its live points when its tombstones pass the
    /// threshold, or when its settings changed (`update_config`); after a rebuild, purges the
    /// sparse indexes' dead entries and makes the ids no index holds any more reusable.
    fn maybe_rebuild(&self) -> Result<()> {
        let mut rebuilt = false;
        for (name, vi) in &self.vectors {
            rebuilt |= self.maybe_rebuild_vector(name, vi)?;
        }
        // A collection of sparse vectors only has no dense rebuild to ride on: purge on the
        // same threshold.
        let stale = self.sparse.stale().len();
        let live = self.state.read().live.len();
        let sparse_due =
            stale >= 1000 && stale as f64 >= self.config().tombstone_rebuild_ratio * (live + stale) as f64;
        if rebuilt || sparse_due {
            self.reclaim_ids();
        }
        Ok(())
    }

    /// Purges the sparse indexes and recomputes [`State::free`] under the writer lock.
    fn reclaim_ids(&self) {
        let _w = self.write.lock();
        self.sparse.purge();
        let engines = self.engines();
        let mut st = self.state.write();
        let free =
            reusable_ids(st.next_id, &st.live, engines.iter().map(|(_, e)| &**e), &self.sparse.stale());
        tracing::debug!(collection = %self.name, free = free.len(), next_id = st.next_id, "ids reclaimed");
        st.free = free;
    }

    /// Builds the new index aside while writes continue, then catches up under the write lock.
    /// The new index holds the live points only: the ids of deleted and overwritten points are
    /// gaps in it (so [`Self::reclaim_ids`] can hand them to new points once the new graphs are
    /// saved). True when it rebuilt.
    fn maybe_rebuild_vector(&self, name: &str, vi: &VectorIndex) -> Result<bool> {
        let old = vi.engine();
        let wanted = vi.settings_changes.load(Ordering::Acquire);
        let forced = wanted != vi.rebuilt_for.load(Ordering::Acquire);
        // Tombstones: deleted ids that still hold a row or a graph node. Live points that lack
        // this vector are gaps in its index, not tombstones.
        let tombstones = old.tombstones();
        let occupied = old.live_count() + tombstones;
        if !forced
            && (occupied < 1000
                || (tombstones as f64) < self.config().tombstone_rebuild_ratio * occupied as f64)
        {
            return Ok(false);
        }
        let config = self.config();
        let fresh = CollectionIndex::new(index_config(&config, name, &self.opts))?;
        let copied = old.len() as u32;
        for id in 0..copied {
            if let Some(v) = old.vector(id) {
                fresh.insert(id, &v)?;
            }
        }
        if name == DEFAULT_VECTOR {
            if let Some(mc) = matryoshka_config(&config) {
                fresh.set_matryoshka(Some(mc), old.matryoshka_rotation())?;
            }
        }
        fresh.build();
        let _w = self.write.lock();
        // Catch up: points written during the build (new ids past `copied`, and reused ids
        // below it) are live in the old index and absent from the new one; points deleted
        // during the build are tombstoned in the new one too.
        let now = old.len() as u32;
        let mut missing = RoaringBitmap::new();
        missing.insert_range(0..now);
        missing -= old.deleted();
        let mut held = RoaringBitmap::new();
        held.insert_range(0..fresh.len() as u32);
        held -= fresh.gaps();
        missing -= held;
        for id in missing.iter() {
            if let Some(v) = old.vector(id) {
                fresh.insert(id, &v)?;
            }
        }
        for id in old.deleted().iter() {
            fresh.delete(id);
        }
        fresh.extend(now as usize);
        vi.rebuilds.fetch_add(1, Ordering::AcqRel);
        *vi.engine.write() = Arc::new(fresh);
        vi.rebuilt_for.store(wanted, Ordering::Release);
        tracing::info!(collection = %self.name, vector = %name, tombstones, occupied, forced, "index rebuilt");
        drop(_w);
        self.save_graphs()?;
        Ok(true)
    }

    fn check_payload(&self, p: &Payload, ext: &PointId) -> Result<usize> {
        let bytes = serde_json::to_vec(p).map_err(corrupt)?.len();
        if bytes > self.opts.max_payload_bytes {
            return Err(StorageError::PayloadTooLarge {
                point: ext.to_string(),
                bytes,
                limit: self.opts.max_payload_bytes,
            });
        }
        Ok(bytes)
    }

    /// Postings of a payload for every indexed field.
    fn postings(st: &State, p: &Payload, ext: &PointId) -> Result<Vec<(String, Vec<IndexValue>)>> {
        st.fields.iter().map(|(f, fi)| Ok((f.clone(), extract(p, f, &fi.def, ext)?))).collect()
    }

    /// Commits a batch and applies it in memory (the caller holds `write`). `before`: the
    /// current payloads of every point the batch rewrites or deletes (see the module docs).
    fn commit(
        &self,
        batch: Batch,
        before: HashMap<u32, Payload>,
        apply: impl FnOnce(&mut State),
    ) -> Result<UpdateResult> {
        if self.dropped.load(Ordering::Acquire) {
            return Err(StorageError::CollectionNotFound { name: self.name.clone() });
        }
        // op_seq only changes under `write`, which the caller holds.
        let op = self.state.read().op_seq + 1;
        let mut batch = batch;
        batch.put(Cf::Meta, key(self.id, META_OP_SEQ), op.to_be_bytes().to_vec());
        if !before.is_empty() {
            self.state.write().before = before;
        }
        let written = self.kv.write(batch);
        let mut st = self.state.write();
        st.before.clear();
        written?;
        st.op_seq = op;
        apply(&mut st);
        Ok(UpdateResult { operation_id: op, status: UpdateStatus::Completed })
    }

    /// A point's payload as of the in-memory state `st` (the caller holds `state`).
    fn payload_of(&self, st: &State, id: u32) -> Result<Payload> {
        match st.before.get(&id) {
            Some(p) => Ok(p.clone()),
            None => read_payload(&*self.kv, self.id, id),
        }
    }

    /// Runs `f` (the batch that unregisters the collection) under the writer lock and marks the
    /// collection dropped (deleted or replaced), so no write of this handle commits after `f`.
    /// Nothing is marked when `f` fails.
    pub fn drop_with(&self, f: impl FnOnce() -> Result<()>) -> Result<()> {
        let _w = self.write.lock();
        f()?;
        self.dropped.store(true, Ordering::Release);
        Ok(())
    }

    /// Inserts or replaces points (one batch; later duplicates of an id win).
    pub fn upsert(&self, points: Vec<NamedPoint>) -> Result<UpdateResult> {
        let _w = self.write.lock();
        self.upsert_locked(points)
    }

    /// See [`crate::Storage::upsert_conditional`].
    pub fn upsert_conditional(
        &self,
        points: Vec<NamedPoint>,
        mode: UpdateMode,
        update_filter: Option<&Filter>,
    ) -> Result<UpdateResult> {
        let _w = self.write.lock();
        let points: Vec<NamedPoint> = {
            let st = self.state.read();
            let allowed = match update_filter {
                Some(f) => Some(self.compile_in(&st, f)?.0),
                None => None,
            };
            points
                .into_iter()
                .filter(|p| match st.ids.get(&p.id) {
                    Some(id) => {
                        mode != UpdateMode::InsertOnly && allowed.as_ref().is_none_or(|a| a.contains(*id))
                    }
                    None => mode != UpdateMode::UpdateOnly,
                })
                .collect()
        };
        if points.is_empty() {
            return Ok(UpdateResult {
                operation_id: self.state.read().op_seq,
                status: UpdateStatus::Completed,
            });
        }
        self.upsert_locked(points)
    }

    /// Checks a point's vectors against the declaration (names, dimensions, finite, norm).
    fn check_vectors(&self, config: &CollectionConfig, id: &PointId, vectors: &NamedVectors) -> Result<()> {
        for (name, v) in vectors {
            if config.sparse_vectors.contains_key(name) {
                return Err(StorageError::InvalidRequest(format!(
                    "point {id}: vector {name:?} is a sparse vector; send {{\"indices\": [...], \"values\": [...]}}"
                )));
            }
            let decl = config.vector(name)?;
            let point = if name.is_empty() { id.to_string() } else { format!("{id} (vector {name:?})") };
            if v.is_empty() {
                // Qdrant's words (its clients' tests look for them).
                return Err(StorageError::InvalidRequest(format!(
                    "point {point}: dense vector must not be empty (give {} numbers)",
                    decl.dimension
                )));
            }
            if v.len() != decl.dimension {
                return Err(StorageError::DimensionMismatch {
                    point,
                    expected: decl.dimension,
                    got: v.len(),
                });
            }
            check_vector(&point, v)?;
        }
        Ok(())
    }

    /// [`Self::upsert`] with `write` held by the caller.
    fn upsert_locked(&self, points: Vec<NamedPoint>) -> Result<UpdateResult> {
        let config = self.config();
        // Later duplicates win.
        let mut last: HashMap<PointId, usize> = HashMap::new();
        for (i, p) in points.iter().enumerate() {
            last.insert(p.id, i);
        }
        let points: Vec<NamedPoint> = points
            .into_iter()
            .enumerate()
            .filter(|(i, p)| last.get(&p.id) == Some(i))
            .map(|(_, p)| p)
            .collect();
        let fields = self.fields();
        let st = self.state.read();
        // Validate everything first.
        let mut prepared = Vec::with_capacity(points.len());
        let mut before = HashMap::new();
        for p in points {
            self.check_vectors(&config, &p.id, &p.vectors)?;
            let mut vectors = p.vectors;
            multi::merge(&config, &p.id, &mut vectors, p.multi)?;
            // Matrices prepared (normalised, encoded) now, so the apply only stores them.
            let mut mats = BTreeMap::new();
            for (vname, f) in &fields {
                if let Some(flat) = vectors.get(*vname) {
                    mats.insert(vname.to_string(), f.prepare(flat)?);
                }
            }
            let sparse = crate::sparse::check_point(&config, &p.id, p.sparse)?;
            let payload = p.payload.unwrap_or_default();
            self.check_payload(&payload, &p.id)?;
            let posts = Self::postings(&st, &payload, &p.id)?;
            let old = st.ids.get(&p.id).copied();
            let old_posts = match old {
                Some(o) => {
                    let op = self.payload_of(&st, o)?;
                    let posts = Self::postings(&st, &op, &p.id)?;
                    before.insert(o, op);
                    posts
                }
                None => Vec::new(),
            };
            prepared.push((p.id, vectors, mats, sparse, payload, posts, old, old_posts));
        }
        // New points take reclaimed ids first (`State::free`), then ids past the end.
        let reused: Vec<u32> = st.free.iter().take(prepared.len()).collect();
        let mut next_id = st.next_id;
        let field_ids: HashMap<String, u32> =
            st.fields.iter().map(|(f, fi)| (f.clone(), fi.def.field_id)).collect();
        drop(st);
        if next_id.checked_add((prepared.len() - reused.len()) as u32).is_none() {
            return Err(StorageError::InvalidRequest(
                "the collection has used up its 2^32 internal ids".into(),
            ));
        }
        let engines: BTreeMap<&str, Arc<CollectionIndex>> = self.engines().into_iter().collect();
        let mut reused = reused.into_iter();
        let mut batch = Batch::new();
        let mut applied = Vec::with_capacity(prepared.len());
        for (ext, vector, mats, sparse, payload, posts, old, old_posts) in prepared {
            let new = reused.next().unwrap_or_else(|| {
                next_id += 1;
                next_id - 1
            });
            // Everything the in-memory apply will do is checked now, before the WAL write:
            // once the batch is durable the write is reported done whatever happens.
            for (vname, v) in &vector {
                if let Some(engine) = engines.get(vname.as_str()) {
                    let v = mats.get(vname).map_or(&v[..], |m| &m.fde[..]);
                    engine.check_insert(new, v).map_err(|e| {
                        StorageError::Corrupt(format!(
                            "vector {vname:?} of point {ext} cannot take internal id {new} ({e}); nothing was written"
                        ))
                    })?;
                }
            }
            if let Some(o) = old {
                batch.delete(Cf::Points, id_key(self.id, o));
                batch.delete(Cf::Payloads, id_key(self.id, o));
                for (f, vals) in &old_posts {
                    for v in vals {
                        batch.delete(Cf::PayloadIndex, posting_key(self.id, field_ids[f], v, o));
                    }
                }
            }
            batch.put(Cf::Points, id_key(self.id, new), encode_point(&ext, &vector, &sparse));
            batch.put(Cf::Payloads, id_key(self.id, new), serde_json::to_vec(&payload).map_err(corrupt)?);
            batch.put(Cf::IdMap, key(self.id, &encode_point_id(&ext)), new.to_be_bytes().to_vec());
            for (f, vals) in &posts {
                for v in vals {
                    batch.put(Cf::PayloadIndex, posting_key(self.id, field_ids[f], v, new), Vec::new());
                }
            }
            applied.push((ext, vector, mats, sparse, new, posts, old, old_posts));
        }
        batch.put(Cf::Meta, key(self.id, META_NEXT_ID), next_id.to_be_bytes().to_vec());
        let mut ierr = None;
        let r = self.commit(batch, before, |st| {
            st.next_id = next_id;
            st.ext.resize(next_id as usize, None);
            for (ext, vectors, mats, sparse, new, posts, old, old_posts) in applied {
                st.free.remove(new);
                self.sparse.insert(new, &sparse);
                for (vname, v) in &vectors {
                    // Names were checked against the declaration above; the map is the same.
                    if let Some(engine) = engines.get(vname.as_str()) {
                        let v = mats.get(vname).map_or(&v[..], |m| &m.fde[..]);
                        if let Err(e) = self.apply_insert(engine, new, v) {
                            ierr = Some(e);
                        }
                    }
                }
                for (vname, m) in mats {
                    if let Some(f) = fields.get(vname.as_str()) {
                        f.insert(new, m.rows);
                    }
                }
                if let Some(o) = old {
                    for engine in engines.values() {
                        engine.delete(o);
                    }
                    for f in fields.values() {
                        f.delete(o);
                    }
                    self.sparse.delete(o);
                    st.live.remove(o);
                    st.ext[o as usize] = None;
                    for (f, vals) in &old_posts {
                        if let Some(fi) = st.fields.get_mut(f) {
                            fi.remove(o, vals);
                        }
                    }
                }
                st.ids.insert(ext, new);
                st.ext[new as usize] = Some(ext);
                st.live.insert(new);
                for (f, vals) in &posts {
                    if let Some(fi) = st.fields.get_mut(f) {
                        for v in vals {
                            fi.add(new, v);
                        }
                    }
                }
            }
        })?;
        if let Some(e) = ierr {
            // Checked before the commit, so this is a bug; the batch is durable, so the write
            // is done. The engines are rebuilt from the rows (the truth) rather than left
            // missing the point.
            tracing::error!(collection = %self.name, error = %e, "applying a committed write failed; reloading the vector indexes from storage");
            self.needs_reload.store(true, Ordering::Release);
            self.reload_engines_if_needed();
        }
        self.wake_worker();
        Ok(r)
    }

    /// The engine insert of a committed write's apply (a test can make it fail).
    fn apply_insert(&self, engine: &CollectionIndex, id: u32, v: &[f32]) -> grove_index::Result<()> {
        #[cfg(test)]
        if self.fail_next_apply.swap(false, Ordering::AcqRel) {
            return Err(grove_index::IndexError::InvalidParameter {
                name: "id",
                reason: "an apply failure injected by a test".into(),
            });
        }
        engine.insert(id, v)
    }

    /// When an apply failed ([`Self::needs_reload`]): rebuilds every vector's engine from the
    /// points rows, swaps them in and recomputes the reusable ids. The caller holds `write`
    /// (so no write is half applied meanwhile). A failure leaves the flag set, and the worker
    /// tries again.
    fn reload_engines_if_needed(&self) {
        if !self.needs_reload.load(Ordering::Acquire) {
            return;
        }
        match self.engines_from_rows() {
            Ok(fresh) => {
                let mut st = self.state.write();
                // Under the state's write lock: a search sees the old engine and field or
                // the new pair, never one of each.
                for (name, (engine, field)) in fresh {
                    if let Some(vi) = self.vectors.get(&name) {
                        vi.rebuilds.fetch_add(1, Ordering::AcqRel);
                        *vi.engine.write() = Arc::new(engine);
                        *vi.field.write() = field.map(Arc::new);
                    }
                }
                let engines = self.engines();
                st.free = reusable_ids(
                    st.next_id,
                    &st.live,
                    engines.iter().map(|(_, e)| &**e),
                    &self.sparse.stale(),
                );
                self.needs_reload.store(false, Ordering::Release);
                tracing::info!(collection = %self.name, "vector indexes reloaded from storage");
            }
            Err(e) => {
                tracing::error!(collection = %self.name, error = %e, "reloading the vector indexes failed; retrying in the background");
            }
        }
    }

    /// A new engine per vector holding every stored point's vector (graphs are built by the
    /// worker afterwards; searches are exact until then).
    fn engines_from_rows(&self) -> Result<BTreeMap<String, VectorParts>> {
        let config = self.config();
        let mut fresh = BTreeMap::new();
        for name in self.vectors.keys() {
            fresh.insert(
                name.clone(),
                (
                    CollectionIndex::new(index_config(&config, name, &self.opts))?,
                    multi::new_field(&config, name)?,
                ),
            );
        }
        scan_points(&*self.kv, self.id, &mut |id, _, vecs, _| {
            for (vname, vec) in &vecs {
                if let Some((engine, field)) = fresh.get(vname) {
                    multi::insert_stored(engine, field.as_ref(), id, vec)?;
                }
            }
            Ok(())
        })?;
        let next_id = self.state.read().next_id as usize;
        for (name, (engine, _)) in &fresh {
            engine.extend(next_id);
            if name == DEFAULT_VECTOR {
                if let Some(mc) = matryoshka_config(&config) {
                    let rotation = self.vectors.get(name).and_then(|vi| vi.engine().matryoshka_rotation());
                    engine.set_matryoshka(Some(mc), rotation)?;
                }
            }
        }
        Ok(fresh)
    }

    fn select(&self, sel: &PointSelector) -> Result<Vec<u32>> {
        match sel {
            PointSelector::Ids { points } => {
                let st = self.state.read();
                let mut v: Vec<u32> = points.iter().filter_map(|p| st.ids.get(p).copied()).collect();
                v.sort_unstable();
                v.dedup();
                Ok(v)
            }
            PointSelector::Filter { filter } => Ok(self.compile(filter)?.0.iter().collect()),
        }
    }

    /// Deletes the selected points.
    pub fn delete_points(&self, sel: &PointSelector) -> Result<UpdateResult> {
        let _w = self.write.lock();
        let ids = self.select(sel)?;
        let st = self.state.read();
        let mut batch = Batch::new();
        let mut gone = Vec::new();
        let mut before = HashMap::new();
        for id in ids {
            let Some(ext) = st.ext_of(id) else { continue };
            let p = self.payload_of(&st, id)?;
            let posts = Self::postings(&st, &p, &ext)?;
            before.insert(id, p);
            batch.delete(Cf::Points, id_key(self.id, id));
            batch.delete(Cf::Payloads, id_key(self.id, id));
            batch.delete(Cf::IdMap, key(self.id, &encode_point_id(&ext)));
            for (f, vals) in &posts {
                for v in vals {
                    batch.delete(Cf::PayloadIndex, posting_key(self.id, st.fields[f].def.field_id, v, id));
                }
            }
            gone.push((id, ext, posts));
        }
        drop(st);
        let engines = self.engines();
        let fields = self.fields();
        let r = self.commit(batch, before, |st| {
            for (id, ext, posts) in gone {
                for (_, engine) in &engines {
                    engine.delete(id);
                }
                for f in fields.values() {
                    f.delete(id);
                }
                self.sparse.delete(id);
                st.live.remove(id);
                st.ids.remove(&ext);
                st.ext[id as usize] = None;
                for (f, vals) in &posts {
                    if let Some(fi) = st.fields.get_mut(f) {
                        fi.remove(id, vals);
                    }
                }
            }
        })?;
        self.wake_worker();
        Ok(r)
    }

    /// The stored (raw, not normalised) dense and sparse vectors of a live point, from its row.
    fn stored_vectors(&self, id: u32) -> Result<(NamedVectors, SparseVectors)> {
        match self.kv.get(Cf::Points, &id_key(self.id, id))? {
            Some(b) => decode_point_full(&b).map(|(_, v, s)| (v, s)),
            None => Err(StorageError::Corrupt(format!("internal id {id} is live but has no points row"))),
        }
    }

    /// Rewrites points with `change` applied to their vectors, keeping their payloads: each
    /// becomes a new internal id in one batch (the same path as an upsert, so every index,
    /// posting and tombstone moves together).
    fn rewrite_vectors(
        &self,
        targets: Vec<(PointId, u32)>,
        change: &dyn Fn(&PointId, &mut NamedVectors, &mut MultiVectors, &mut SparseVectors) -> Result<()>,
    ) -> Result<UpdateResult> {
        let config = self.config();
        let mut points = Vec::with_capacity(targets.len());
        {
            let st = self.state.read();
            for (ext, id) in targets {
                let (mut vectors, mut sparse) = self.stored_vectors(id)?;
                let mut multi = multi::split(&config, &mut vectors);
                change(&ext, &mut vectors, &mut multi, &mut sparse)?;
                points.push(NamedPoint {
                    id: ext,
                    vectors,
                    payload: Some(self.payload_of(&st, id)?),
                    sparse,
                    multi,
                });
            }
        }
        if points.is_empty() {
            let op = self.state.read().op_seq;
            return Ok(UpdateResult { operation_id: op, status: UpdateStatus::Completed });
        }
        self.upsert_locked(points)
    }

    /// Sets the given vectors of existing points (other vectors and the payload stay). A
    /// missing point is an error (404) and nothing is written.
    pub fn update_vectors(&self, updates: Vec<(PointId, NamedVectors)>) -> Result<UpdateResult> {
        self.update_vectors_with_sparse(
            updates.into_iter().map(|(p, v)| (p, v, SparseVectors::new())).collect(),
        )
    }

    /// [`Self::update_vectors`] with sparse vectors too.
    pub fn update_vectors_with_sparse(
        &self,
        updates: Vec<(PointId, NamedVectors, SparseVectors)>,
    ) -> Result<UpdateResult> {
        self.update_vectors_with_multi(
            updates.into_iter().map(|(p, v, s)| (p, v, MultiVectors::new(), s)).collect(),
        )
    }

    /// [`Self::update_vectors`] with multi-vectors (matrices) and sparse vectors too.
    pub fn update_vectors_with_multi(
        &self,
        updates: Vec<(PointId, NamedVectors, MultiVectors, SparseVectors)>,
    ) -> Result<UpdateResult> {
        let _w = self.write.lock();
        let config = self.config();
        let mut targets = Vec::with_capacity(updates.len());
        let mut by_id: HashMap<PointId, (NamedVectors, SparseVectors)> = HashMap::new();
        {
            let st = self.state.read();
            for (ext, mut vectors, multi, sparse) in updates {
                self.check_vectors(&config, &ext, &vectors)?;
                // Checked and flattened here; `rewrite_vectors` splits them into rows again.
                multi::merge(&config, &ext, &mut vectors, multi)?;
                let sparse = crate::sparse::check_point(&config, &ext, sparse)?;
                let Some(id) = st.ids.get(&ext).copied() else {
                    return Err(StorageError::PointNotFound { id: ext.to_string() });
                };
                if !by_id.contains_key(&ext) {
                    targets.push((ext, id));
                }
                let e = by_id.entry(ext).or_default();
                e.0.extend(vectors);
                e.1.extend(sparse);
            }
        }
        self.rewrite_vectors(targets, &|ext, vs, mv, sp| {
            if let Some((new, new_sparse)) = by_id.get(ext) {
                for (k, v) in new {
                    match config.vectors.get(k).filter(|d| d.multivector.is_some()) {
                        Some(d) => {
                            mv.insert(k.clone(), multi::rows_of(v, d.dimension));
                        }
                        None => {
                            vs.insert(k.clone(), v.clone());
                        }
                    }
                }
                sp.extend(new_sparse.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            Ok(())
        })
    }

    /// Removes the named vectors from the selected points (points, payloads and other vectors
    /// stay). Unknown names are an error listing the declared ones.
    pub fn delete_vectors(&self, sel: &PointSelector, names: &[String]) -> Result<UpdateResult> {
        let _w = self.write.lock();
        let config = self.config();
        for n in names {
            if !config.sparse_vectors.contains_key(n) {
                config.vector(n)?;
            }
        }
        let ids = self.select(sel)?;
        let targets: Vec<(PointId, u32)> = {
            let st = self.state.read();
            ids.into_iter().filter_map(|id| st.ext_of(id).map(|e| (e, id))).collect()
        };
        self.rewrite_vectors(targets, &|_, vs, mv, sp| {
            for n in names {
                vs.remove(n);
                mv.remove(n);
                sp.remove(n);
            }
            Ok(())
        })
    }

    /// Replaces the config with `new` (validated by the caller; same vector names, dimensions
    /// and metrics): `persist` writes the registry record under the writer lock, then the
    /// config swaps, and every vector whose engine settings changed is rebuilt with them by the
    /// background thread (searches keep the old index until the new one is caught up).
    pub fn update_config(
        &self,
        new: CollectionConfig,
        persist: impl FnOnce(&CollectionConfig) -> Result<()>,
    ) -> Result<()> {
        let _w = self.write.lock();
        if self.dropped.load(Ordering::Acquire) {
            return Err(StorageError::CollectionNotFound { name: self.name.clone() });
        }
        let old = self.config();
        type Fixed = (String, usize, grove_index::Metric, Option<MultiVectorConfig>);
        let fixed = |c: &CollectionConfig| -> Vec<Fixed> {
            c.vectors.iter().map(|(n, v)| (n.clone(), v.dimension, v.metric, v.multivector)).collect()
        };
        if fixed(&old) != fixed(&new) || old.sparse_vectors.keys().ne(new.sparse_vectors.keys()) {
            return Err(StorageError::InvalidRequest(format!(
                "vector names, sizes, distances and multivector configs cannot change ({} declared); create a new collection",
                old.vector_names()
            )));
        }
        if old.matryoshka_dims != new.matryoshka_dims || old.matryoshka != new.matryoshka {
            return Err(StorageError::InvalidRequest(
                "matryoshka settings cannot change; create a new collection".into(),
            ));
        }
        persist(&new)?;
        let changed: Vec<&str> = self
            .vectors
            .keys()
            .filter(|n| index_config(&old, n, &self.opts) != index_config(&new, n, &self.opts))
            .map(String::as_str)
            .collect();
        self.sparse.reconfigure(&new);
        *self.config.write() = Arc::new(new);
        for n in changed {
            if let Some(vi) = self.vectors.get(n) {
                vi.settings_changes.fetch_add(1, Ordering::AcqRel);
            }
        }
        drop(_w);
        self.wake_worker();
        Ok(())
    }

    /// Rewrites the payloads of the selected points with `f` (one batch, posting deltas only).
    pub fn update_payloads(&self, sel: &PointSelector, f: &dyn Fn(&mut Payload)) -> Result<UpdateResult> {
        let _w = self.write.lock();
        let ids = self.select(sel)?;
        let st = self.state.read();
        let mut batch = Batch::new();
        let mut changes = Vec::new();
        let mut before = HashMap::new();
        for id in ids {
            let Some(ext) = st.ext_of(id) else { continue };
            let old = self.payload_of(&st, id)?;
            let mut new = old.clone();
            f(&mut new);
            self.check_payload(&new, &ext)?;
            let old_posts = Self::postings(&st, &old, &ext)?;
            let new_posts = Self::postings(&st, &new, &ext)?;
            batch.put(Cf::Payloads, id_key(self.id, id), serde_json::to_vec(&new).map_err(corrupt)?);
            for ((fname, ov), (_, nv)) in old_posts.iter().zip(&new_posts) {
                let fid = st.fields[fname].def.field_id;
                // Both lists are sorted and deduplicated (`extract`): a lookup is a binary search.
                for v in ov.iter().filter(|v| !contains_sorted(nv, v)) {
                    batch.delete(Cf::PayloadIndex, posting_key(self.id, fid, v, id));
                }
                for v in nv.iter().filter(|v| !contains_sorted(ov, v)) {
                    batch.put(Cf::PayloadIndex, posting_key(self.id, fid, v, id), Vec::new());
                }
            }
            changes.push((id, old_posts, new_posts));
            before.insert(id, old);
        }
        drop(st);
        self.commit(batch, before, |st| {
            for (id, old_posts, new_posts) in changes {
                for ((fname, ov), (_, nv)) in old_posts.iter().zip(&new_posts) {
                    if let Some(fi) = st.fields.get_mut(fname) {
                        fi.remove(id, ov);
                        for v in nv {
                            fi.add(id, v);
                        }
                    }
                }
            }
        })
    }

    /// Creates (and backfills) a payload index; idempotent for the same type.
    pub fn create_field_index(&self, field: &str, schema: PayloadSchemaType) -> Result<UpdateResult> {
        self.create_field_index_with(field, schema, None)
    }

    /// Creates a payload index, with a text index's tokenizer parameters (`None`: the
    /// defaults; ignored for other types). The same definition again is a no-op; another
    /// definition on the field replaces the index in one batch (Qdrant's behaviour: the old
    /// postings go, the new ones are backfilled).
    pub fn create_field_index_with(
        &self,
        field: &str,
        schema: PayloadSchemaType,
        text: Option<TextIndexParams>,
    ) -> Result<UpdateResult> {
        if field.is_empty() || field.len() > 256 {
            return Err(StorageError::InvalidName {
                name: field.to_string(),
                reason: "a field name must be 1 to 256 bytes".into(),
            });
        }
        let text = if schema == PayloadSchemaType::Text {
            let p = text.unwrap_or_default();
            p.analyzer()?;
            Some(p)
        } else {
            None
        };
        let _w = self.write.lock();
        let st = self.state.read();
        let mut batch = Batch::new();
        if let Some(fi) = st.fields.get(field) {
            if fi.def.schema == schema && fi.def.text == text {
                return Ok(UpdateResult { operation_id: st.op_seq, status: UpdateStatus::Completed });
            }
            // Replaced: the old postings are deleted in the batch that writes the new ones.
            let fid = fi.def.field_id;
            let mut from = prefix(self.id).to_vec();
            from.extend_from_slice(&fid.to_be_bytes());
            let mut to = prefix(self.id).to_vec();
            to.extend_from_slice(&(fid + 1).to_be_bytes());
            batch.delete_range(Cf::PayloadIndex, from, to);
        }
        let def = FieldDef { field_id: st.next_field, schema, text };
        let mut fi = FieldIndex::new(def.clone());
        let mut err = None;
        self.kv.scan(Cf::Payloads, &prefix(self.id), &[], &mut |k, v| {
            let r = (|| -> Result<()> {
                let id = u32_at(&k[4..])?;
                let Some(ext) = st.ext_of(id) else { return Ok(()) };
                let p: Payload = serde_json::from_slice(v).map_err(corrupt)?;
                for iv in extract(&p, field, &def, &ext)? {
                    batch.put(Cf::PayloadIndex, posting_key(self.id, def.field_id, &iv, id), Vec::new());
                    fi.add(id, &iv);
                }
                Ok(())
            })();
            match r {
                Ok(()) => Scan::Continue,
                Err(e) => {
                    err = Some(e);
                    Scan::Stop
                }
            }
        })?;
        if let Some(e) = err {
            return Err(e);
        }
        let next_field = st.next_field + 1;
        drop(st);
        let mut fk = META_FIELD.to_vec();
        fk.extend_from_slice(field.as_bytes());
        batch.put(Cf::Meta, key(self.id, &fk), serde_json::to_vec(&def).map_err(corrupt)?);
        batch.put(Cf::Meta, key(self.id, META_NEXT_FIELD), next_field.to_be_bytes().to_vec());
        self.commit(batch, HashMap::new(), |st| {
            st.next_field = next_field;
            st.fields.insert(field.to_string(), fi);
        })
    }

    /// Drops a payload index (no error when there is none).
    pub fn delete_field_index(&self, field: &str) -> Result<UpdateResult> {
        let _w = self.write.lock();
        let st = self.state.read();
        let Some(fi) = st.fields.get(field) else {
            return Ok(UpdateResult { operation_id: st.op_seq, status: UpdateStatus::Completed });
        };
        let fid = fi.def.field_id;
        drop(st);
        let mut batch = Batch::new();
        let mut fk = META_FIELD.to_vec();
        fk.extend_from_slice(field.as_bytes());
        batch.delete(Cf::Meta, key(self.id, &fk));
        let mut from = prefix(self.id).to_vec();
        from.extend_from_slice(&fid.to_be_bytes());
        let mut to = prefix(self.id).to_vec();
        to.extend_from_slice(&(fid + 1).to_be_bytes());
        batch.delete_range(Cf::PayloadIndex, from, to);
        self.commit(batch, HashMap::new(), |st| {
            st.fields.remove(field);
        })
    }

    /// Compiles a filter into the live internal ids it matches.
    pub fn compile(&self, filter: &Filter) -> Result<(RoaringBitmap, FilterExplain)> {
        let st = self.state.read();
        self.compile_in(&st, filter)
    }

    /// [`Collection::compile`] against a state the caller holds (so the bitmap and what the
    /// caller does with it belong to the same batch).
    fn compile_in(&self, st: &State, filter: &Filter) -> Result<(RoaringBitmap, FilterExplain)> {
        filter.validate()?;
        let t = Instant::now();
        let mut ctx = CompileCtx::default();
        let bm = self.compile_filter(st, filter, &mut ctx)?;
        ctx.unindexed.sort();
        ctx.unindexed.dedup();
        ctx.indexed.sort();
        ctx.indexed.dedup();
        let ex = FilterExplain {
            cardinality: bm.len(),
            indexed_fields: ctx.indexed,
            unindexed_fields: ctx.unindexed,
            payloads_scanned: ctx.scanned,
            micros: t.elapsed().as_micros() as u64,
        };
        Ok((bm, ex))
    }

    fn compile_filter(&self, st: &State, f: &Filter, ctx: &mut CompileCtx) -> Result<RoaringBitmap> {
        let mut acc = st.live.clone();
        for c in &f.must {
            if acc.is_empty() {
                break;
            }
            acc &= self.compile_cond(st, c, ctx)?;
        }
        if !f.should.is_empty() {
            let mut any = RoaringBitmap::new();
            for c in &f.should {
                any |= self.compile_cond(st, c, ctx)?;
            }
            acc &= any;
        }
        for c in &f.must_not {
            acc -= self.compile_cond(st, c, ctx)?;
        }
        if let Some(ms) = &f.min_should {
            let mut counts: HashMap<u32, usize> = HashMap::new();
            for c in &ms.conditions {
                for id in self.compile_cond(st, c, ctx)?.iter() {
                    *counts.entry(id).or_default() += 1;
                }
            }
            let ok: RoaringBitmap = if ms.min_count == 0 {
                st.live.clone()
            } else {
                counts.into_iter().filter(|(_, n)| *n >= ms.min_count).map(|(id, _)| id).collect()
            };
            acc &= ok;
        }
        Ok(acc)
    }

    /// A full-text match on a text-indexed field, answered by the index with its tokenizer
    /// (`None`: not such a condition). A phrase's candidates (every token present) are
    /// confirmed against the stored values, which know the order.
    fn compile_text(&self, st: &State, c: &Condition) -> Result<Option<RoaringBitmap>> {
        use crate::filter::Match;
        let Condition::Field(fc) = c else { return Ok(None) };
        let Some(fi) = st.fields.get(&fc.key) else { return Ok(None) };
        let q = match &fc.r#match {
            Some(Match::Text { text }) => TextQuery::All(text),
            Some(Match::TextAny { text_any }) => TextQuery::Any(text_any),
            Some(Match::Phrase { phrase }) => TextQuery::Phrase(phrase),
            _ => return Ok(None),
        };
        let (Some((candidates, confirm)), Some(an)) = (fi.answer_text(q), fi.analyzer()) else {
            return Ok(None);
        };
        if !confirm {
            return Ok(Some(candidates));
        }
        let mut out = RoaringBitmap::new();
        for id in &candidates & &st.live {
            let p = self.payload_of(st, id)?;
            let values = crate::filter::values_at(&p, &fc.key);
            let strs: Vec<&str> = values.iter().filter_map(|v| v.as_str()).collect();
            if crate::text_index::matches(an, &strs, q) {
                out.insert(id);
            }
        }
        Ok(Some(out))
    }

    fn compile_cond(&self, st: &State, c: &Condition, ctx: &mut CompileCtx) -> Result<RoaringBitmap> {
        if let Some(bm) = self.compile_text(st, c)? {
            if let Condition::Field(fc) = c {
                ctx.indexed.push(fc.key.clone());
            }
            return Ok(bm & &st.live);
        }
        let indexed: Option<RoaringBitmap> = match c {
            Condition::Filter(f) => return self.compile_filter(st, f, ctx),
            Condition::HasId { has_id } => {
                return Ok(has_id.iter().filter_map(|p| st.ids.get(p).copied()).collect());
            }
            Condition::Field(fc) => st.fields.get(&fc.key).and_then(|fi| {
                if let Some(m) = &fc.r#match {
                    fi.answer_match(m)
                } else if let Some(r) = &fc.range {
                    r.resolve().ok().and_then(|nr| fi.answer_range(&nr))
                } else if let Some(want) = fc.is_empty {
                    let empty = fi.empty(&st.live);
                    Some(if want { empty } else { &st.live - empty })
                } else {
                    fc.is_null.map(|want| if want { fi.nulls().clone() } else { &st.live - fi.nulls() })
                }
            }),
            Condition::IsEmpty { is_empty } => st.fields.get(&is_empty.key).map(|fi| fi.empty(&st.live)),
            Condition::IsNull { is_null } => st.fields.get(&is_null.key).map(|fi| fi.nulls().clone()),
            // Each element is tested on its own: scanned by the reference semantics.
            Condition::Nested { .. } => None,
        };
        let key = match c {
            Condition::Field(fc) => fc.key.clone(),
            Condition::IsEmpty { is_empty: k } | Condition::IsNull { is_null: k } => k.key.clone(),
            Condition::Nested { nested } => nested.key.clone(),
            Condition::Filter(_) | Condition::HasId { .. } => String::new(),
        };
        if let Some(bm) = indexed {
            ctx.indexed.push(key);
            return Ok(bm & &st.live);
        }
        ctx.unindexed.push(key);
        if ctx.payloads.is_none() {
            let mut all = Vec::with_capacity(st.live.len() as usize);
            let mut err = None;
            self.kv.scan(Cf::Payloads, &prefix(self.id), &[], &mut |k, v| {
                let r = (|| -> Result<()> {
                    let id = u32_at(&k[4..])?;
                    // Parked payloads are added below (the store may already hold the batch).
                    if st.before.contains_key(&id) {
                        return Ok(());
                    }
                    if let Some(ext) = st.ext_of(id) {
                        all.push((id, ext, serde_json::from_slice(v).map_err(corrupt)?));
                    }
                    Ok(())
                })();
                match r {
                    Ok(()) => Scan::Continue,
                    Err(e) => {
                        err = Some(e);
                        Scan::Stop
                    }
                }
            })?;
            if let Some(e) = err {
                return Err(e);
            }
            for (id, p) in &st.before {
                if let Some(ext) = st.ext_of(*id) {
                    all.push((*id, ext, p.clone()));
                }
            }
            ctx.scanned += all.len() as u64;
            ctx.payloads = Some(all);
        }
        let all = ctx.payloads.as_deref().unwrap_or_default();
        Ok(all
            .iter()
            .filter(|(_, ext, p)| c.matches(ext, p))
            .map(|(id, _, _)| *id)
            .collect::<RoaringBitmap>()
            & &st.live)
    }

    /// Records by id in request order (missing ids skipped).
    pub fn get(&self, ids: &[PointId], with_payload: &WithPayload, with_vector: bool) -> Result<Vec<Record>> {
        let st = self.state.read();
        let internal: Vec<(PointId, u32)> =
            ids.iter().filter_map(|p| st.ids.get(p).map(|i| (*p, *i))).collect();
        self.records(&st, &internal, with_payload, with_vector)
    }

    /// The ranked hits of a search as the request returns them: `req.offset` skipped, internal
    /// ids mapped to external ones (a hit whose point is gone is dropped), payload and vectors
    /// read as `req` asks. Takes the state guard and releases it once the records are read, so
    /// the dense, sparse and multi-vector paths share one tail.
    fn scored_points(
        &self,
        st: parking_lot::RwLockReadGuard<'_, State>,
        hits: impl Iterator<Item = (u32, f32)>,
        req: &QueryRequest,
    ) -> Result<Vec<ScoredPoint>> {
        let hits: Vec<(PointId, u32, f32)> =
            hits.skip(req.offset).filter_map(|(id, score)| st.ext_of(id).map(|e| (e, id, score))).collect();
        let wp = req.with_payload.clone().unwrap_or(WithPayload::All(false));
        let ids: Vec<(PointId, u32)> = hits.iter().map(|(e, i, _)| (*e, *i)).collect();
        let recs = self.records(&st, &ids, &wp, req.with_vector)?;
        drop(st);
        Ok(recs
            .into_iter()
            .zip(&hits)
            .map(|(r, (_, _, score))| ScoredPoint {
                id: r.id,
                score: *score,
                payload: r.payload,
                vector: r.vector,
                vectors: r.vectors,
                sparse: r.sparse,
                multi: r.multi,
            })
            .collect())
    }

    /// Records of points of the state `st` (the caller holds `state` for reading, so the
    /// payloads read belong to the same batch as the ids).
    fn records(
        &self,
        st: &State,
        ids: &[(PointId, u32)],
        with_payload: &WithPayload,
        with_vector: bool,
    ) -> Result<Vec<Record>> {
        let engines = if with_vector { self.engines() } else { Vec::new() };
        let fields = if with_vector { self.fields() } else { BTreeMap::new() };
        let config = self.config();
        // Sparse vectors only exist in the named form (`{"text": {indices, values}}`).
        let has_sparse = !config.sparse_vectors.is_empty();
        let named = config.named_form || has_sparse;
        ids.iter()
            .map(|(ext, id)| {
                let payload = if with_payload.wants_payload() {
                    with_payload.apply(self.payload_of(st, *id)?)
                } else {
                    None
                };
                // The unnamed form answers `vector`, the named form `vectors` (what was
                // declared is what is read back).
                // Multi-vector fields answer their matrices in `multi` (their engines hold
                // encodings, never returned).
                let (mut vector, mut vectors, mut multi) = (None, None, None);
                if with_vector {
                    if named {
                        vectors = Some(
                            engines
                                .iter()
                                .filter(|(n, _)| !fields.contains_key(n))
                                .filter_map(|(n, e)| e.vector(*id).map(|v| ((*n).to_string(), v)))
                                .collect::<NamedVectors>(),
                        );
                    } else if !fields.contains_key(DEFAULT_VECTOR) {
                        vector = engines.iter().find(|(n, _)| n.is_empty()).and_then(|(_, e)| e.vector(*id));
                    }
                    if !fields.is_empty() {
                        multi = Some(
                            fields
                                .iter()
                                .filter_map(|(n, f)| {
                                    f.store()
                                        .get(*id)
                                        .map(|m| ((*n).to_string(), multi::rows_of(&m, f.dim())))
                                })
                                .collect::<MultiVectors>(),
                        );
                    }
                }
                let sparse = (with_vector && has_sparse).then(|| self.sparse.vectors(*id));
                Ok(Record { id: *ext, payload, vector, vectors, sparse, multi })
            })
            .collect()
    }

    /// A page in id order, or in the order of a field's values (`order_by`).
    pub fn scroll(&self, req: &ScrollRequest) -> Result<ScrollResponse> {
        let limit = req.limit.max(1);
        if req.order_by.is_some() && req.offset.is_some() {
            return Err(StorageError::InvalidRequest(
                "`offset` cannot be used with `order_by`: page on with `order_by.start_from` (and a \
                 `has_id` must_not for the points already seen at that value)"
                    .into(),
            ));
        }
        // One read guard for the filter, the id walk and the payloads: a batch committing
        // meanwhile cannot drop points from the page.
        let st = self.state.read();
        let allowed = match &req.filter {
            Some(f) => Some(self.compile_in(&st, f)?.0),
            None => None,
        };
        if let Some(o) = &req.order_by {
            return self.scroll_ordered(&st, req, o, allowed.as_ref(), limit);
        }
        let mut page: Vec<(PointId, u32)> = Vec::with_capacity(limit.min(4096));
        let mut next = None;
        let iter: Box<dyn Iterator<Item = (&PointId, &u32)>> = match &req.offset {
            Some(o) => Box::new(st.ids.range(*o..)),
            None => Box::new(st.ids.iter()),
        };
        for (ext, id) in iter {
            if allowed.as_ref().is_some_and(|a| !a.contains(*id)) {
                continue;
            }
            if page.len() == limit {
                next = Some(*ext);
                break;
            }
            page.push((*ext, *id));
        }
        let wp = req.with_payload.clone().unwrap_or(WithPayload::All(true));
        Ok(ScrollResponse {
            points: self.records(&st, &page, &wp, req.with_vector)?,
            next_page_offset: next,
            order_values: None,
        })
    }

    /// [`Self::scroll`] with `order_by`: walks the field's index in value order, a point once
    /// per distinct value, ties in internal id order.
    fn scroll_ordered(
        &self,
        st: &State,
        req: &ScrollRequest,
        o: &ScrollOrder,
        allowed: Option<&RoaringBitmap>,
        limit: usize,
    ) -> Result<ScrollResponse> {
        let no_index = || {
            StorageError::InvalidRequest(format!(
                "No range index for `order_by` key: `{}`. Please create one to use `order_by`: an \
                 integer, float or datetime payload index",
                o.key
            ))
        };
        let fi = st.fields.get(&o.key).ok_or_else(no_index)?;
        let as_value: fn(f64) -> OrderValue = match fi.def.schema {
            PayloadSchemaType::Integer => |v| OrderValue::Int(v as i64),
            PayloadSchemaType::Datetime => |v| OrderValue::Int((v * 1e6).round() as i64),
            PayloadSchemaType::Float => OrderValue::Float,
            PayloadSchemaType::Keyword
            | PayloadSchemaType::Bool
            | PayloadSchemaType::Text
            | PayloadSchemaType::Uuid => return Err(no_index()),
        };
        let datetime = fi.def.schema == PayloadSchemaType::Datetime;
        let start = match &o.start_from {
            None => None,
            // A number on a datetime index is microseconds (what `order_value` reports).
            Some(crate::filter::RangeBound::Number(x)) if datetime => Some(x / 1e6),
            Some(b) => Some(b.as_f64()?),
        };
        let mut page: Vec<(PointId, u32)> = Vec::with_capacity(limit.min(4096));
        let mut values = Vec::with_capacity(limit.min(4096));
        let ordered = fi.ordered(o.desc, start).unwrap_or_default();
        'walk: for (v, bm) in ordered {
            for id in bm {
                if !st.live.contains(id) || allowed.is_some_and(|a| !a.contains(id)) {
                    continue;
                }
                if page.len() == limit {
                    break 'walk;
                }
                let Some(ext) = st.ext_of(id) else { continue };
                page.push((ext, id));
                values.push(as_value(v));
            }
        }
        let wp = req.with_payload.clone().unwrap_or(WithPayload::All(true));
        Ok(ScrollResponse {
            points: self.records(st, &page, &wp, req.with_vector)?,
            next_page_offset: None,
            order_values: Some(values),
        })
    }

    /// Exact count.
    pub fn count(&self, req: &CountRequest) -> Result<u64> {
        match &req.filter {
            Some(f) => Ok(self.compile(f)?.0.len()),
            None => Ok(self.state.read().live.len()),
        }
    }

    /// A vector search.
    pub fn query(&self, req: &QueryRequest) -> Result<QueryResponse> {
        self.query_with_stop(req, &grove_index::stop::NEVER)
    }

    /// [`Self::query`] with the caller's stop signal reaching the engine's hot loops: when it
    /// fires the query fails with [`crate::ErrorKind::Stopped`].
    pub fn query_with_stop(&self, req: &QueryRequest, stop: &grove_index::Stop) -> Result<QueryResponse> {
        let using = req.using.as_deref().unwrap_or(DEFAULT_VECTOR);
        let config = self.config();
        if req.sparse.is_some() || config.sparse_vectors.contains_key(using) {
            return self.query_sparse(req, &config, stop);
        }
        let decl = config.vector(using)?;
        if decl.multivector.is_some() {
            return self.query_multi(req, &config, stop);
        }
        if req.multi.is_some() {
            return Err(StorageError::InvalidRequest(format!(
                "vector {using:?} is a dense vector of size {}: query it with one array of numbers; a multi-vector query (array of arrays) needs a vector declared with multivector_config",
                decl.dimension
            )));
        }
        if req.vector.len() != decl.dimension {
            return Err(StorageError::DimensionMismatch {
                point: if using.is_empty() { "query".into() } else { format!("query (vector {using:?})") },
                expected: decl.dimension,
                got: req.vector.len(),
            });
        }
        let engine = self.engine(using)?;
        check_vector("query", &req.vector)?;
        if req.limit == 0 {
            return Err(StorageError::InvalidRequest("limit must be at least 1".into()));
        }
        // One read guard from the filter to the payloads: the bitmap, the engine's tombstones
        // and the id map then describe the same batch, so a concurrent replace cannot make hits
        // vanish between the search and the id mapping. A commit's in-memory apply waits for
        // searches holding the guard (milliseconds); its fsync waits for nobody.
        let st = self.state.read();
        let (bitmap, fex) = match &req.filter {
            Some(f) => {
                let (b, e) = self.compile_in(&st, f)?;
                (Some(b), Some(e))
            }
            None => (None, None),
        };
        let metric = decl.metric;
        let params = SearchParams {
            k: req.offset.saturating_add(req.limit),
            ef: req.ef,
            strategy: if req.exact { Strategy::Exact } else { req.strategy },
            score_threshold: req.score_threshold.map(|s| metric.distance_from_score(s)),
            quantization: req.quantization.map_or_else(Default::default, |q| {
                grove_index::quant::QuantSearch {
                    ignore: q.ignore,
                    rescore: q.rescore.unwrap_or(true),
                    oversampling: q.oversampling,
                }
            }),
        };
        let out = match &req.matryoshka {
            Some(mq) => {
                engine.search_matryoshka_stoppable(&req.vector, bitmap.as_ref(), &params, mq, stop)?
            }
            None => engine.search_stoppable(&req.vector, bitmap.as_ref(), &params, stop)?,
        };
        let hits = out.hits.iter().map(|n| (n.id, metric.score(n.dist)));
        let points = self.scored_points(st, hits, req)?;
        let explain = req.explain.then_some(QueryExplain {
            search: out.explain,
            filter: fex,
            using: using.to_string(),
            sparse: None,
            multivec: None,
        });
        Ok(QueryResponse { points, explain })
    }

    /// Collection info.
    pub fn info(&self) -> CollectionInfo {
        let mut vectors = BTreeMap::new();
        let mut matryoshka = None;
        for (name, vi) in &self.vectors {
            let engine = vi.engine();
            let stats = engine.stats();
            // A multi-vector field's matrices are vectors held in RAM too.
            let matrix_bytes = vi.field().map_or(0, |f| f.store().bytes());
            if name.is_empty() {
                matryoshka = engine.matryoshka_info();
            }
            vectors.insert(
                name.clone(),
                IndexingInfo {
                    indexed_points: stats.indexed,
                    pending_points: stats.pending,
                    tombstones: engine.tombstones(),
                    rebuilds: vi.rebuilds.load(Ordering::Acquire),
                    vector_bytes: stats.vector_bytes + matrix_bytes,
                    graph_bytes: stats.graph_bytes,
                    code_bytes: stats.code_bytes,
                    vector_bytes_per_point: engine.config().dim as u64 * 4,
                    code_bytes_per_point: stats.code_bytes_per_point,
                },
            );
        }
        let sum = |f: fn(&IndexingInfo) -> u64| vectors.values().map(f).sum::<u64>();
        let indexing = IndexingInfo {
            indexed_points: sum(|i| i.indexed_points),
            pending_points: sum(|i| i.pending_points),
            tombstones: sum(|i| i.tombstones),
            rebuilds: sum(|i| i.rebuilds),
            vector_bytes: sum(|i| i.vector_bytes),
            graph_bytes: sum(|i| i.graph_bytes),
            code_bytes: sum(|i| i.code_bytes),
            vector_bytes_per_point: sum(|i| i.vector_bytes_per_point),
            code_bytes_per_point: sum(|i| i.code_bytes_per_point),
        };
        let st = self.state.read();
        let payload_schema = st
            .fields
            .iter()
            .map(|(f, fi)| {
                (
                    f.clone(),
                    PayloadIndexInfo {
                        data_type: fi.def.schema,
                        text: fi.def.text.clone(),
                        points: fi.points(),
                    },
                )
            })
            .collect();
        CollectionInfo {
            name: self.name.clone(),
            status: if indexing.pending_points == 0 && !self.rebuild_due() {
                CollectionStatus::Green
            } else {
                CollectionStatus::Yellow
            },
            config: (*self.config()).clone(),
            points_count: st.live.len(),
            indexing,
            vectors,
            payload_schema,
            matryoshka,
            sparse_vectors: self
                .sparse
                .stats()
                .into_iter()
                .map(|(n, (points, bytes))| (n, SparseIndexInfo { points, memory_bytes: bytes as u64 }))
                .collect(),
        }
    }

    /// Blocks until nothing is pending (true) or the timeout passes (false).
    pub fn wait_indexed(&self, timeout: Duration) -> bool {
        let t = Instant::now();
        loop {
            let pending: u64 = self.engines().iter().map(|(_, e)| e.stats().pending).sum();
            if pending == 0 && !self.rebuild_due() {
                return true;
            }
            if !self.opts.background_indexing {
                if let Err(e) = self.maybe_fit_pca() {
                    tracing::warn!(collection = %self.name, error = %e, "fitting the Matryoshka PCA failed");
                }
                for (_, e) in self.engines() {
                    e.index_pending(self.opts.index_chunk);
                }
                if pending == 0 {
                    if let Err(e) = self.maybe_rebuild() {
                        tracing::warn!(collection = %self.name, error = %e, "index rebuild failed");
                        return false;
                    }
                }
                continue;
            }
            if t.elapsed() > timeout {
                return false;
            }
            self.wake_worker();
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether a settings change still waits for its index rebuild.
    fn rebuild_due(&self) -> bool {
        self.vectors
            .values()
            .any(|v| v.settings_changes.load(Ordering::Acquire) != v.rebuilt_for.load(Ordering::Acquire))
    }

    /// Streams the collection into a snapshot archive. The writer lock is held only while the
    /// point count is read, a RocksDB snapshot is taken and the graphs are saved into
    /// `graphs_tmp`; the rows then stream out of that snapshot while writes continue. Returns
    /// the live points at the snapshot.
    pub fn export(
        &self,
        out: impl std::io::Write,
        graphs_tmp: &std::path::Path,
        creation_time: String,
    ) -> Result<u64> {
        let mut guard = Some(self.write.lock());
        let points = self.state.read().live.len();
        let meta = ArchiveMeta {
            format: crate::snapshot::VERSION,
            collection: self.name.clone(),
            config: (*self.config()).clone(),
            creation_time,
            points,
        };
        let mut w = ArchiveWriter::new(out, &meta)?;
        self.kv.scan_consistent(
            &prefix(self.id),
            &mut || {
                self.save_graphs_to(graphs_tmp)?;
                guard.take();
                Ok(())
            },
            &mut |cf, k, v| w.row(cf, &k[4..], v),
        )?;
        drop(guard);
        // The unnamed vector's files at the top, each named vector's under its subdirectory
        // (frame name `v-<hex>/<file>`).
        let list = |dir: &std::path::Path| -> Result<Vec<PathBuf>> {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
                Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(StorageError::io(dir, e)),
            };
            files.sort();
            Ok(files)
        };
        for vname in self.vectors.keys() {
            let sub = vector_graph_subdir(vname);
            for f in list(&vector_graph_dir(graphs_tmp, vname))? {
                let bytes = std::fs::read(&f).map_err(|e| StorageError::io(&f, e))?;
                let file = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let name = match &sub {
                    Some(s) => format!("{s}/{file}"),
                    None => file,
                };
                w.graph(&name, &bytes)?;
            }
        }
        w.finish()?;
        Ok(points)
    }

    /// The engine of vector `name`, for the subset diagnostic.
    pub(crate) fn engine_for_diagnostics(&self, name: &str) -> Result<Arc<CollectionIndex>> {
        self.engine(name)
    }

    /// Internal ids of external ids (`None`: not stored) and the live ids, under one read of the
    /// state (the subset diagnostic).
    pub(crate) fn resolve_ids(&self, ids: &[PointId]) -> (Vec<Option<u32>>, RoaringBitmap) {
        let st = self.state.read();
        (ids.iter().map(|e| st.ids.get(e).copied()).collect(), st.live.clone())
    }
}

mod multi;
mod sparse_query;

impl Drop for Collection {
    fn drop(&mut self) {
        self.stop_worker();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PointId, PointStruct, Storage, StorageOptions};

    /// The rebuild check reads the engine's counts while inserts go on: it must never see more
    /// live points than points (that subtraction overflowed and killed the index worker).
    #[test]
    fn rebuild_check_races_inserts_safely() {
        let s = Storage::in_memory_with(StorageOptions {
            background_indexing: false,
            ..StorageOptions::default()
        });
        s.create_collection("c", crate::CollectionConfig::new(4, grove_index::Metric::L2)).unwrap();
        let c = s.coll("c").unwrap();
        let done = AtomicBool::new(false);
        std::thread::scope(|sc| {
            sc.spawn(|| {
                for i in 0..3000u64 {
                    let v = vec![i as f32, 1.0, 0.0, 0.0];
                    s.upsert("c", vec![PointStruct { id: PointId::Num(i), vector: v, payload: None }])
                        .unwrap();
                }
                done.store(true, Ordering::Release);
            });
            while !done.load(Ordering::Acquire) {
                c.maybe_rebuild().unwrap();
            }
        });
        assert_eq!(c.info().points_count, 3000);
    }

    fn query(s: &Storage, v: &[f32], strategy: &str, k: usize) -> Vec<(PointId, f32)> {
        let req: QueryRequest = serde_json::from_value(serde_json::json!({
            "vector": v, "limit": k, "strategy": strategy
        }))
        .unwrap();
        s.query("c", &req).unwrap().points.into_iter().map(|p| (p.id, p.score)).collect()
    }

    /// Deterministic 8-d vector of point `i` in overwrite round `round`.
    fn vector_of(i: u64, round: u64) -> Vec<f32> {
        (0..8u64).map(|d| (((i * 31 + round * 17 + d * 7) % 97) as f32) / 97.0 - 0.5).collect()
    }

    /// Issue 12, row 6: overwrites and deletes must not grow the id space (and with it the
    /// arena and the graphs) with the write history. With ids never reused, 20 rounds of
    /// overwriting 1,200 points took 25,200 internal ids; reclaimed after each rebuild they
    /// stay within the live points plus one threshold of tombstones plus a batch. Every answer
    /// is checked against brute force over the latest vectors, on the exact and graph paths,
    /// before and after a reopen.
    #[test]
    fn overwrites_reuse_reclaimed_ids_and_answers_stay_exact() {
        let dir = tempfile::tempdir().unwrap();
        let opts = StorageOptions { background_indexing: false, ..StorageOptions::default() };
        let n = 1200u64;
        let rounds = 20u64;
        {
            let s = Storage::open_with(dir.path(), opts.clone()).unwrap();
            s.create_collection("c", crate::CollectionConfig::new(8, grove_index::Metric::L2)).unwrap();
            let c = s.coll("c").unwrap();
            let mut max_next = 0;
            for round in 0..rounds {
                for chunk in (0..n).collect::<Vec<_>>().chunks(300) {
                    let pts = chunk
                        .iter()
                        .map(|&i| PointStruct {
                            id: PointId::Num(i),
                            vector: vector_of(i, round),
                            payload: None,
                        })
                        .collect();
                    s.upsert("c", pts).unwrap();
                }
                for (_, e) in c.engines() {
                    e.build();
                }
                c.maybe_rebuild().unwrap();
                max_next = max_next.max(c.state.read().next_id);
            }
            let ratio = c.config().tombstone_rebuild_ratio;
            let bound = (n as f64 * (1.0 + ratio) * 1.5) as u32 + 300;
            assert!(max_next <= bound, "the id space grew to {max_next} for {n} live points (bound {bound})");
            assert!(c.vectors[""].rebuilds.load(Ordering::Acquire) >= 3, "rebuilds ran");
            s.flush().unwrap();
        }
        let s = Storage::open_with(dir.path(), opts).unwrap();
        let c = s.coll("c").unwrap();
        let next = c.state.read().next_id;
        for (_, e) in c.engines() {
            e.build();
        }
        let last = rounds - 1;
        for q in 0..20u64 {
            let qv = vector_of(q * 13 + 5, 99);
            let mut want: Vec<(f32, u64)> = (0..n)
                .map(|i| {
                    let v = vector_of(i, last);
                    (v.iter().zip(&qv).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt(), i)
                })
                .collect();
            want.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let exact = query(&s, &qv, "exact", 10);
            for ((id, score), (ws, wi)) in exact.iter().zip(&want) {
                assert!((score - ws).abs() < 1e-4, "query {q}: {id:?} {score} vs {wi} {ws}");
            }
            let graph = query(&s, &qv, "hnsw", 10);
            let truth: std::collections::HashSet<u64> = want[..10].iter().map(|w| w.1).collect();
            let hit =
                graph.iter().filter(|(id, _)| matches!(id, PointId::Num(i) if truth.contains(i))).count();
            assert!(hit >= 8, "query {q}: graph recall {hit}/10 after reuse and reopen");
        }
        assert_eq!(c.info().points_count, n);
        // New points after the reopen take reclaimed ids before growing the id space.
        let free_before = c.state.read().free.len();
        s.upsert(
            "c",
            vec![PointStruct { id: PointId::Num(9999), vector: vector_of(9999, 0), payload: None }],
        )
        .unwrap();
        if free_before > 0 {
            assert_eq!(c.state.read().next_id, next, "a free id was taken");
        }
    }

    /// Issue 12, row 10: every engine insert is checked before the WAL write. An id an engine
    /// still holds (a bug elsewhere, simulated here) is refused before anything is written, so
    /// the client is never told "failed" for a write that is on disk. The old code committed
    /// the batch, then failed the insert and reported an error: the point was there after a
    /// reopen.
    #[test]
    fn an_insert_that_would_fail_is_refused_before_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let opts = StorageOptions { background_indexing: false, ..StorageOptions::default() };
        {
            let s = Storage::open_with(dir.path(), opts.clone()).unwrap();
            s.create_collection("c", crate::CollectionConfig::new(8, grove_index::Metric::L2)).unwrap();
            let c = s.coll("c").unwrap();
            let next = c.state.read().next_id;
            // Sabotage: the engine already holds the id the next point will take.
            c.engine("").unwrap().insert(next, &vector_of(0, 0)).unwrap();
            let r = s.upsert(
                "c",
                vec![PointStruct { id: PointId::Num(7), vector: vector_of(7, 0), payload: None }],
            );
            let e = r.expect_err("the write must be refused");
            assert!(e.to_string().contains("nothing was written"), "{e}");
            s.flush().unwrap();
        }
        let s = Storage::open_with(dir.path(), opts).unwrap();
        assert_eq!(s.collection_info("c").unwrap().points_count, 0, "nothing reached the disk");
    }

    /// Issue 12, row 10: when the in-memory apply fails after the durable commit anyway, the
    /// write is reported done, and the engines are reloaded from the rows so the point is
    /// searchable at once with its vector.
    #[test]
    fn a_failed_apply_after_the_commit_reports_success_and_reloads() {
        let s = Storage::in_memory_with(StorageOptions {
            background_indexing: false,
            ..StorageOptions::default()
        });
        s.create_collection("c", crate::CollectionConfig::new(8, grove_index::Metric::L2)).unwrap();
        let c = s.coll("c").unwrap();
        let pts = (0..50u64)
            .map(|i| PointStruct { id: PointId::Num(i), vector: vector_of(i, 0), payload: None })
            .collect();
        s.upsert("c", pts).unwrap();
        c.fail_next_apply.store(true, Ordering::Release);
        s.upsert("c", vec![PointStruct { id: PointId::Num(77), vector: vector_of(77, 0), payload: None }])
            .expect("a committed write is never reported as failed");
        assert!(!c.needs_reload.load(Ordering::Acquire), "reloaded before returning");
        let hits = query(&s, &vector_of(77, 0), "exact", 1);
        assert_eq!(hits[0].0, PointId::Num(77));
        assert!(hits[0].1.abs() < 1e-6);
        assert_eq!(c.info().points_count, 51);
        // Writes go on normally after the reload.
        s.upsert("c", vec![PointStruct { id: PointId::Num(78), vector: vector_of(78, 0), payload: None }])
            .unwrap();
        assert_eq!(query(&s, &vector_of(78, 0), "exact", 1)[0].0, PointId::Num(78));
    }
}
