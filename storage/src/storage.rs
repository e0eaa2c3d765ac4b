//! The entry point: a data dir of named collections.
//!
//! Data dir layout: `db/` (the RocksDB database: every collection, column families per concern),
//! `graphs/<collection id>/` (the engine's saved graphs), `snapshots/<collection>/<name>.snapshot`
//! (portable archives, see [`crate::snapshot`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::RwLock;

use crate::api::*;
use crate::collection::{prefix, validate_config, Collection};
use crate::error::{Result, StorageError};
use crate::kv::{dir_size, Batch, Cf, KvBackend, MemKv, RocksKv, Scan};
use crate::record::{decode_record, encode_record, CollectionRecord};
use crate::snapshot::{self, ArchiveReader, Frame};

mod aliases;
mod full_snapshot;
pub use aliases::AliasAction;

/// Limits and tunables that are not per collection.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageOptions {
    /// Largest accepted serialised payload per point, bytes.
    pub max_payload_bytes: usize,
    /// Points the background thread moves into the graph per `index_pending` call.
    pub index_chunk: usize,
    /// Threads for graph building (at least 1).
    pub build_threads: usize,
    /// Whether a background thread per collection indexes new points into the graphs (off:
    /// points stay pending and are searched exactly until [`Storage::wait_indexed`]).
    pub background_indexing: bool,
    /// Least time between two graph saves by the background thread. The graphs are a cache of
    /// the vectors in RocksDB (points a saved graph lacks are indexed again on open), so saving
    /// after every indexed batch only buys a shorter re-index after a crash, and it cost a full
    /// graph write plus fsync per batch: under a steady trickle of small upserts the worker
    /// spent its time writing files instead of indexing. Graphs are always saved on close.
    pub graph_save_interval: Duration,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            max_payload_bytes: 1 << 20,
            index_chunk: 1024,
            build_threads: 1,
            background_indexing: true,
            graph_save_interval: Duration::from_secs(10),
        }
    }
}

/// Registry keys live under collection id 0 (real collections start at 1).
const GLOBAL: u32 = 0;
const REG_COLL: &[u8] = b"coll/";
const REG_NEXT: &[u8] = b"next_collection";

fn reg_key(rest: &[u8]) -> Vec<u8> {
    let mut k = prefix(GLOBAL).to_vec();
    k.extend_from_slice(rest);
    k
}

/// A data dir of collections. All methods take `&self` and are synchronous: call them from a
/// blocking pool. See the crate docs for the durability and concurrency contracts.
///
/// Call order: [`Storage::open`] (or [`Storage::in_memory`]) once per data dir and process;
/// [`Storage::create_collection`] before any point operation on it; drop (or
/// [`Storage::flush`]) before exit to save graphs, so the next open loads rather than rebuilds
/// them. Nothing is lost without the flush: acknowledged writes are already durable.
#[derive(Debug)]
pub struct Storage {
    dir: Option<PathBuf>,
    kv: Arc<dyn KvBackend>,
    opts: StorageOptions,
    collections: RwLock<BTreeMap<String, Arc<Collection>>>,
    /// Alias -> collection name (see [`aliases`]); changed only under `admin`.
    aliases: RwLock<BTreeMap<String, String>>,
    /// Serialises collection creation/deletion.
    admin: parking_lot::Mutex<()>,
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidName {
            name: name.to_string(),
            reason: "use 1 to 128 characters from a-z, A-Z, 0-9, '_', '-', '.', not starting with '.'".into(),
        })
    }
}

/// The current UTC time in RFC 3339 (seconds), e.g. for reports that state when they began.
pub fn rfc3339_now() -> String {
    rfc3339_now_micros().0
}

fn rfc3339_now_micros() -> (String, u128) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60),
        now.as_micros(),
    )
}

/// Removes rows and graph dirs of collection ids no name points to: what a crash in the middle
/// of a snapshot recovery (or of a delete's graph cleanup) leaves behind. Cheap when there are
/// none: one seek per column family and unregistered id.
fn remove_orphans(dir: Option<&Path>, kv: &dyn KvBackend, recs: &[(String, CollectionRecord)]) -> Result<()> {
    let live: std::collections::HashSet<u32> = recs.iter().map(|(_, r)| r.id).collect();
    let next = match kv.get(Cf::Meta, &reg_key(REG_NEXT))? {
        Some(b) => b.as_slice().try_into().map(u32::from_be_bytes).unwrap_or(1),
        None => 1,
    };
    let mut b = Batch::new();
    for id in (1..next).filter(|i| !live.contains(i)) {
        for cf in Cf::ALL {
            let mut any = false;
            kv.scan(cf, &prefix(id), &[], &mut |_, _| {
                any = true;
                Scan::Stop
            })?;
            if any {
                b.delete_range(cf, prefix(id).to_vec(), prefix(id + 1).to_vec());
            }
        }
    }
    if !b.is_empty() {
        tracing::warn!(
            ranges = b.len(),
            "removing rows of unregistered collection ids (interrupted recover)"
        );
        kv.write(b)?;
    }
    if let Some(d) = dir {
        if let Ok(rd) = std::fs::read_dir(d.join("graphs")) {
            for e in rd.flatten() {
                let id = e.file_name().to_string_lossy().parse::<u32>().ok();
                if id.is_some_and(|i| !live.contains(&i)) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
    Ok(())
}

impl Storage {
    /// Opens (or creates) the data dir and loads every collection: vectors into the engine's
    /// arena in id order, payload bitmaps from their postings, graphs from their files (points
    /// the files lack are indexed in the background).
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Storage> {
        Storage::open_with(data_dir, StorageOptions::default())
    }

    /// [`Storage::open`] with explicit options.
    pub fn open_with(data_dir: impl AsRef<Path>, opts: StorageOptions) -> Result<Storage> {
        let dir = data_dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| StorageError::io(&dir, e))?;
        let kv: Arc<dyn KvBackend> = Arc::new(RocksKv::open(&dir.join("db"))?);
        Storage::with_backend(Some(dir), kv, opts)
    }

    /// A storage that lives in memory only (tests): same logic, a BTreeMap backend.
    pub fn in_memory() -> Storage {
        Storage::in_memory_with(StorageOptions::default())
    }

    /// [`Storage::in_memory`] with explicit options.
    pub fn in_memory_with(opts: StorageOptions) -> Storage {
        Storage {
            dir: None,
            kv: Arc::new(MemKv::new()),
            opts,
            collections: RwLock::new(BTreeMap::new()),
            aliases: RwLock::new(BTreeMap::new()),
            admin: parking_lot::Mutex::new(()),
        }
    }

    fn with_backend(dir: Option<PathBuf>, kv: Arc<dyn KvBackend>, opts: StorageOptions) -> Result<Storage> {
        let mut recs = Vec::new();
        let mut err = None;
        kv.scan(Cf::Meta, &reg_key(REG_COLL), &[], &mut |k, v| {
            let name = String::from_utf8_lossy(&k[4 + REG_COLL.len()..]).into_owned();
            match decode_record(v) {
                Ok(r) => recs.push((name, r)),
                Err(e) => err = Some(StorageError::Corrupt(format!("collection record {name}: {e}"))),
            }
            Scan::Continue
        })?;
        if let Some(e) = err {
            return Err(e);
        }
        remove_orphans(dir.as_deref(), &*kv, &recs)?;
        let mut map = BTreeMap::new();
        for (name, rec) in recs {
            let gdir = dir.as_ref().map(|d| d.join("graphs").join(rec.id.to_string()));
            let c = Collection::open(name.clone(), rec, Arc::clone(&kv), opts.clone(), gdir)?;
            map.insert(name, c);
        }
        let aliases = RwLock::new(aliases::load(&*kv)?);
        Ok(Storage {
            dir,
            kv,
            opts,
            collections: RwLock::new(map),
            aliases,
            admin: parking_lot::Mutex::new(()),
        })
    }

    /// The key-value backend under every collection. grove-cluster keeps its Raft log and state
    /// machine in the same database under the reserved collection prefix `u32::MAX` (no
    /// collection id reaches it; `remove_orphans` only sweeps ids below `next_collection`).
    pub fn kv(&self) -> Arc<dyn KvBackend> {
        Arc::clone(&self.kv)
    }

    /// The collection a name (or an alias, see [`aliases`]) means.
    pub(crate) fn coll(&self, name: &str) -> Result<Arc<Collection>> {
        let direct = self.collections.read().get(name).cloned();
        direct
            .or_else(|| {
                let target = self.aliases.read().get(name).cloned()?;
                self.collections.read().get(&target).cloned()
            })
            .ok_or_else(|| StorageError::CollectionNotFound { name: name.to_string() })
    }

    /// Creates a collection. Errors: invalid name or config (400), existing name (409).
    pub fn create_collection(&self, name: &str, config: CollectionConfig) -> Result<()> {
        validate_name(name)?;
        validate_config(&config, &self.opts)?;
        let _a = self.admin.lock();
        if self.collections.read().contains_key(name) {
            return Err(StorageError::CollectionExists { name: name.to_string() });
        }
        if self.aliases.read().contains_key(name) {
            return Err(StorageError::InvalidRequest(format!(
                "`{name}` is an alias; delete or rename the alias first, or pick another name"
            )));
        }
        let next = self.next_collection_id()?;
        let rec = CollectionRecord { id: next, config };
        let mut b = Batch::new();
        let mut k = REG_COLL.to_vec();
        k.extend_from_slice(name.as_bytes());
        b.put(Cf::Meta, reg_key(&k), encode_record(&rec)?);
        b.put(Cf::Meta, reg_key(REG_NEXT), (next + 1).to_be_bytes().to_vec());
        self.kv.write(b)?;
        let gdir = self.dir.as_ref().map(|d| d.join("graphs").join(next.to_string()));
        let c = Collection::open(name.to_string(), rec, Arc::clone(&self.kv), self.opts.clone(), gdir)?;
        self.collections.write().insert(name.to_string(), c);
        Ok(())
    }

    /// Names of all collections, sorted.
    pub fn list_collections(&self) -> Vec<String> {
        self.collections.read().keys().cloned().collect()
    }

    /// Info of one collection.
    pub fn collection_info(&self, name: &str) -> Result<CollectionInfo> {
        Ok(self.coll(name)?.info())
    }

    /// Deletes a collection and all its data; `false` when it did not exist.
    pub fn delete_collection(&self, name: &str) -> Result<bool> {
        let _a = self.admin.lock();
        let Some(c) = self.collections.write().remove(name) else { return Ok(false) };
        c.stop_worker();
        let mut b = Batch::new();
        let mut k = REG_COLL.to_vec();
        k.extend_from_slice(name.as_bytes());
        b.delete(Cf::Meta, reg_key(&k));
        for cf in Cf::ALL {
            b.delete_range(cf, prefix(c.id).to_vec(), prefix(c.id + 1).to_vec());
        }
        let gone = self.drop_aliases_of(name, &mut b);
        c.drop_with(|| self.kv.write(b))?;
        let mut aliases = self.aliases.write();
        for a in gone {
            aliases.remove(&a);
        }
        drop(aliases);
        if let Some(d) = &self.dir {
            let g = d.join("graphs").join(c.id.to_string());
            if g.exists() {
                std::fs::remove_dir_all(&g).map_err(|e| StorageError::io(&g, e))?;
            }
        }
        Ok(true)
    }

    /// Inserts or replaces points (their unnamed vector) as one atomic, durable batch.
    /// Validated before anything is written: dimension, finite components, payload size, types
    /// of indexed fields (400). A replaced point gets a new internal id; its old id is
    /// tombstoned in the same batch.
    pub fn upsert(&self, name: &str, points: Vec<PointStruct>) -> Result<UpdateResult> {
        self.coll(name)?.upsert(points.into_iter().map(NamedPoint::from).collect())
    }

    /// [`Self::upsert`] of points carrying any subset of the collection's named vectors. An
    /// undeclared name is a 400 listing the declared ones; a replaced point loses the vectors
    /// it does not carry again (an upsert replaces the whole point, as in Qdrant).
    pub fn upsert_named(&self, name: &str, points: Vec<NamedPoint>) -> Result<UpdateResult> {
        self.coll(name)?.upsert(points)
    }

    /// [`Self::upsert_named`] with Qdrant's `update_mode` (insert only / update only) and
    /// `update_filter` (an existing point is replaced only when it matches the filter; new
    /// points are inserted). Points skipped by either are left untouched; the decision and the
    /// write happen under the collection's writer lock, so no write slips in between.
    pub fn upsert_conditional(
        &self,
        name: &str,
        points: Vec<NamedPoint>,
        mode: UpdateMode,
        update_filter: Option<&crate::filter::Filter>,
    ) -> Result<UpdateResult> {
        self.coll(name)?.upsert_conditional(points, mode, update_filter)
    }

    /// Sets some vectors of existing points, keeping their other vectors and payloads (one
    /// batch). A missing point is 404 and nothing is written.
    pub fn update_vectors(&self, name: &str, updates: Vec<(PointId, NamedVectors)>) -> Result<UpdateResult> {
        self.coll(name)?.update_vectors(updates)
    }

    /// [`Self::update_vectors`] with sparse vectors as well (dense and sparse names of one
    /// point are set in the same rewrite).
    pub fn update_vectors_with_sparse(
        &self,
        name: &str,
        updates: Vec<(PointId, NamedVectors, crate::sparse::SparseVectors)>,
    ) -> Result<UpdateResult> {
        self.coll(name)?.update_vectors_with_sparse(updates)
    }

    /// [`Self::update_vectors`] with multi-vectors (matrices) and sparse vectors as well.
    pub fn update_vectors_with_multi(
        &self,
        name: &str,
        updates: Vec<(PointId, NamedVectors, MultiVectors, crate::sparse::SparseVectors)>,
    ) -> Result<UpdateResult> {
        self.coll(name)?.update_vectors_with_multi(updates)
    }

    /// Removes the named vectors (dense or sparse) from the selected points (one batch).
    pub fn delete_vectors(
        &self,
        name: &str,
        selector: &PointSelector,
        vectors: &[String],
    ) -> Result<UpdateResult> {
        self.coll(name)?.delete_vectors(selector, vectors)
    }

    /// Replaces a collection's config by `f(current)`: settings that act (graph parameters,
    /// `ef_search`, the tombstone ratio) take effect through a background rebuild of the
    /// affected vectors' indexes; stored settings are persisted and returned by info. Vector
    /// names, sizes, distances and Matryoshka settings cannot change (400).
    pub fn update_collection(
        &self,
        name: &str,
        f: impl FnOnce(&CollectionConfig) -> Result<CollectionConfig>,
    ) -> Result<()> {
        let _a = self.admin.lock();
        let c = self.coll(name)?;
        let new = f(&c.config())?;
        validate_config(&new, &self.opts)?;
        let mut k = REG_COLL.to_vec();
        k.extend_from_slice(name.as_bytes());
        let key = reg_key(&k);
        c.update_config(new, |cfg| {
            let mut b = Batch::new();
            b.put(Cf::Meta, key, encode_record(&CollectionRecord { id: c.id, config: cfg.clone() })?);
            self.kv.write(b)
        })
    }

    /// Points by id, in request order (missing ids are skipped).
    pub fn get_points(
        &self,
        name: &str,
        ids: &[PointId],
        with_payload: &WithPayload,
        with_vector: bool,
    ) -> Result<Vec<Record>> {
        self.coll(name)?.get(ids, with_payload, with_vector)
    }

    /// Deletes the selected points (one batch).
    pub fn delete_points(&self, name: &str, selector: &PointSelector) -> Result<UpdateResult> {
        self.coll(name)?.delete_points(selector)
    }

    /// Merges `payload` into the selected points' payloads (its keys replace existing ones).
    pub fn set_payload(
        &self,
        name: &str,
        payload: Payload,
        selector: &PointSelector,
    ) -> Result<UpdateResult> {
        self.coll(name)?.update_payloads(selector, &|p| {
            for (k, v) in &payload {
                p.insert(k.clone(), v.clone());
            }
        })
    }

    /// Sets `payload`'s keys inside the object at the dotted path `key` of the selected points
    /// (see [`crate::payload_select::set_at`]); `overwrite` replaces that object instead.
    pub fn set_payload_at(
        &self,
        name: &str,
        key: &str,
        payload: Payload,
        selector: &PointSelector,
        overwrite: bool,
    ) -> Result<UpdateResult> {
        self.coll(name)?
            .update_payloads(selector, &|p| crate::payload_select::set_at(p, key, &payload, overwrite))
    }

    /// Replaces the selected points' payloads with `payload`.
    pub fn overwrite_payload(
        &self,
        name: &str,
        payload: Payload,
        selector: &PointSelector,
    ) -> Result<UpdateResult> {
        self.coll(name)?.update_payloads(selector, &|p| *p = payload.clone())
    }

    /// Removes top-level keys from the selected points' payloads.
    pub fn delete_payload(
        &self,
        name: &str,
        keys: &[String],
        selector: &PointSelector,
    ) -> Result<UpdateResult> {
        self.coll(name)?.update_payloads(selector, &|p| {
            for k in keys {
                p.remove(k);
            }
        })
    }

    /// Empties the selected points' payloads.
    pub fn clear_payload(&self, name: &str, selector: &PointSelector) -> Result<UpdateResult> {
        self.coll(name)?.update_payloads(selector, &|p| p.clear())
    }

    /// Creates a payload index on `field` (a dotted path), backfilled from existing points in
    /// the same batch. Same definition again: no-op; another one: the index is replaced (as in
    /// Qdrant); an existing value of the wrong type: 400 naming the point.
    pub fn create_field_index(
        &self,
        name: &str,
        field: &str,
        schema: PayloadSchemaType,
    ) -> Result<UpdateResult> {
        self.coll(name)?.create_field_index(field, schema)
    }

    /// [`Self::create_field_index`] with a text index's tokenizer parameters (see
    /// [`crate::text_index`]; `None`: the defaults).
    pub fn create_field_index_with(
        &self,
        name: &str,
        field: &str,
        schema: PayloadSchemaType,
        text: Option<crate::text_index::TextIndexParams>,
    ) -> Result<UpdateResult> {
        self.coll(name)?.create_field_index_with(field, schema, text)
    }

    /// Drops the payload index on `field` (no-op when there is none).
    pub fn delete_field_index(&self, name: &str, field: &str) -> Result<UpdateResult> {
        self.coll(name)?.delete_field_index(field)
    }

    /// A page of points in id order (numbers, then UUIDs), optionally filtered.
    pub fn scroll(&self, name: &str, req: &ScrollRequest) -> Result<ScrollResponse> {
        self.coll(name)?.scroll(req)
    }

    /// Exact count of matching points.
    pub fn count(&self, name: &str, req: &CountRequest) -> Result<u64> {
        self.coll(name)?.count(req)
    }

    /// How a filter compiles: exact cardinality and which fields had to be scanned.
    pub fn explain_filter(&self, name: &str, filter: &crate::filter::Filter) -> Result<FilterExplain> {
        Ok(self.coll(name)?.compile(filter)?.1)
    }

    /// Nearest neighbours among the points matching the filter.
    pub fn query(&self, name: &str, req: &QueryRequest) -> Result<QueryResponse> {
        self.coll(name)?.query(req)
    }

    /// [`Self::query`] with a stop signal (deadline + cancel flag) that reaches the engine's hot
    /// loops; when it fires the query fails with [`crate::ErrorKind::Stopped`].
    pub fn query_with_stop(
        &self,
        name: &str,
        req: &QueryRequest,
        stop: &grove_index::Stop,
    ) -> Result<QueryResponse> {
        self.coll(name)?.query_with_stop(req, stop)
    }

    /// The top-k subset diagnostic (LIMIT): per query recall exact vs through the index and a
    /// hit / index miss / encoder gap / geometry gap label. See [`crate::diagnostics`].
    pub fn diagnose_subsets(
        &self,
        name: &str,
        req: &crate::diagnostics::SubsetRequest,
    ) -> Result<crate::diagnostics::SubsetOutcome> {
        let c = self.coll(name)?;
        crate::diagnostics::diagnose_subsets(&c, req)
    }

    /// Matryoshka calibration on a collection (CPU-heavy: run it off async workers).
    pub fn calibrate_matryoshka(
        &self,
        name: &str,
        req: &CalibrateRequest,
    ) -> Result<grove_index::matryoshka::CalibrationReport> {
        self.coll(name)?.calibrate_matryoshka(req)
    }

    /// [`Self::calibrate_matryoshka`] with a stop signal; when it fires the calibration fails
    /// with [`crate::ErrorKind::Stopped`] (no partial report).
    pub fn calibrate_matryoshka_with_stop(
        &self,
        name: &str,
        req: &CalibrateRequest,
        stop: &grove_index::Stop,
    ) -> Result<grove_index::matryoshka::CalibrationReport> {
        self.coll(name)?.calibrate_matryoshka_with_stop(req, stop)
    }

    /// Several queries; answers in request order; the first error fails the batch.
    pub fn query_batch(&self, name: &str, reqs: &[QueryRequest]) -> Result<Vec<QueryResponse>> {
        let c = self.coll(name)?;
        reqs.iter().map(|r| c.query(r)).collect()
    }

    fn snapshots_dir(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        let d = self.dir.as_ref().ok_or_else(|| {
            StorageError::InvalidRequest("snapshots need a data dir; this storage is in memory".into())
        })?;
        Ok(d.join("snapshots").join(name))
    }

    /// Takes a snapshot of a collection: a portable archive file (see [`crate::snapshot`]) under
    /// `snapshots/<collection>/`, written to a temp name, fsynced and renamed, so a listed
    /// snapshot is always complete. Writes pause only while the RocksDB snapshot is taken and
    /// the graphs are saved.
    pub fn create_snapshot(&self, name: &str) -> Result<SnapshotDescription> {
        let c = self.coll(name)?;
        let base = self.snapshots_dir(name)?;
        std::fs::create_dir_all(&base).map_err(|e| StorageError::io(&base, e))?;
        let (time, micros) = rfc3339_now_micros();
        let snap = format!("{name}-{micros}.{}", snapshot::EXTENSION);
        let path = base.join(&snap);
        let tmp = base.join(format!(".{snap}.tmp"));
        let gtmp = base.join(format!(".{snap}.graphs"));
        let written = (|| -> Result<()> {
            let f = std::fs::File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            c.export(&mut w, &gtmp, time.clone())?;
            let f = w.into_inner().map_err(|e| StorageError::io(&tmp, e.into_error()))?;
            f.sync_all().map_err(|e| StorageError::io(&tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))
        })();
        let _ = std::fs::remove_dir_all(&gtmp);
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Ok(SnapshotDescription { name: snap, collection: name.to_string(), creation_time: time, size })
    }

    /// Snapshots of a collection, oldest first. Also lists the snapshots left by a deleted
    /// collection (so they can be recovered); 404 only when there is neither.
    pub fn list_snapshots(&self, name: &str) -> Result<Vec<SnapshotDescription>> {
        let base = self.snapshots_dir(name)?;
        let exists = self.collections.read().contains_key(name);
        let rd = match std::fs::read_dir(&base) {
            Ok(rd) => rd,
            Err(_) if exists => return Ok(Vec::new()),
            Err(_) => return Err(StorageError::CollectionNotFound { name: name.to_string() }),
        };
        let mut out = Vec::new();
        for e in rd.flatten() {
            let fname = e.file_name().to_string_lossy().into_owned();
            if fname.starts_with('.') || !fname.ends_with(&format!(".{}", snapshot::EXTENSION)) {
                continue;
            }
            let creation_time = std::fs::File::open(e.path())
                .ok()
                .and_then(|f| ArchiveReader::new(std::io::BufReader::new(f)).ok())
                .map(|(_, m)| m.creation_time)
                .unwrap_or_default();
            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(SnapshotDescription { name: fname, collection: name.to_string(), creation_time, size });
        }
        out.sort_by(|a, b| (&a.creation_time, &a.name).cmp(&(&b.creation_time, &b.name)));
        Ok(out)
    }

    /// The archive file of a snapshot (to download or to pass to [`Storage::recover_snapshot`]).
    pub fn snapshot_path(&self, name: &str, snapshot: &str) -> Result<PathBuf> {
        let base = self.snapshots_dir(name)?;
        let ok = validate_name(snapshot).is_ok() && snapshot.ends_with(&format!(".{}", snapshot::EXTENSION));
        let p = base.join(snapshot);
        if !ok || !p.is_file() {
            return Err(StorageError::SnapshotNotFound { name: snapshot.to_string() });
        }
        Ok(p)
    }

    /// Deletes a snapshot's archive (404 when there is no such snapshot).
    pub fn delete_snapshot(&self, name: &str, snapshot: &str) -> Result<()> {
        let p = self.snapshot_path(name, snapshot)?;
        std::fs::remove_file(&p).map_err(|e| StorageError::io(&p, e))
    }

    /// Where the server should stream an uploaded archive before recovering from it: a fresh
    /// hidden file in the collection's snapshots dir (on the data disk, not /tmp). The caller
    /// removes it afterwards.
    pub fn upload_path(&self, name: &str) -> Result<PathBuf> {
        let base = self.snapshots_dir(name)?;
        std::fs::create_dir_all(&base).map_err(|e| StorageError::io(&base, e))?;
        let (_, micros) = rfc3339_now_micros();
        Ok(base.join(format!(".upload-{micros}-{:x}.tmp", std::process::id())))
    }

    /// Recovers collection `name` from an archive file (see [`Storage::recover_from_reader`]).
    pub fn recover_snapshot(&self, name: &str, archive: &Path) -> Result<RecoverOutcome> {
        let f = std::fs::File::open(archive).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                StorageError::SnapshotNotFound { name: archive.display().to_string() }
            }
            _ => StorageError::io(archive, e),
        })?;
        self.recover_from_reader(name, std::io::BufReader::with_capacity(1 << 20, f))
    }

    /// Creates or replaces collection `name` from a snapshot archive, on a live storage.
    ///
    /// The archive's rows are imported in batches under a freshly reserved collection id that
    /// no name points to, its graphs written to that id's graph dir, and the collection is
    /// loaded from them; only then does ONE batch point the name at the new id and range-delete
    /// the old id's rows, and the in-memory map swaps. Until that batch, readers and writers
    /// keep using the existing collection; a damaged archive (bad CRC, truncated, undecodable
    /// rows) or a dimension/metric conflict fails the call and leaves it untouched. Writes the
    /// old collection acknowledges before the swap are replaced by the snapshot's state (that
    /// is what recovering means); a write racing with the swap is refused with 404. After a
    /// crash mid-import the rows of the unregistered id are removed at the next open.
    pub fn recover_from_reader(&self, name: &str, r: impl std::io::Read) -> Result<RecoverOutcome> {
        validate_name(name)?;
        let (mut ar, meta) = ArchiveReader::new(r)?;
        validate_config(&meta.config, &self.opts)
            .map_err(|e| StorageError::InvalidSnapshot(format!("its collection config is not valid: {e}")))?;
        self.check_replace(name, &meta.config)?;
        let id = {
            let _a = self.admin.lock();
            let next = self.next_collection_id()?;
            let mut b = Batch::new();
            b.put(Cf::Meta, reg_key(REG_NEXT), (next + 1).to_be_bytes().to_vec());
            self.kv.write(b)?;
            next
        };
        let gdir = self.dir.as_ref().map(|d| d.join("graphs").join(id.to_string()));
        let rec = CollectionRecord { id, config: meta.config.clone() };
        let loaded = self.import_rows(id, &mut ar, gdir.as_deref()).and_then(|()| {
            Collection::open(
                name.to_string(),
                rec.clone(),
                Arc::clone(&self.kv),
                self.opts.clone(),
                gdir.clone(),
            )
            .map_err(|e| match e {
                StorageError::Corrupt(m) => {
                    StorageError::InvalidSnapshot(format!("its rows do not decode: {m}"))
                }
                StorageError::Index(e) => {
                    StorageError::InvalidSnapshot(format!("its vectors do not load: {e}"))
                }
                e => e,
            })
        });
        let c = match loaded {
            Ok(c) => c,
            Err(e) => {
                self.discard_rows(id);
                return Err(e);
            }
        };
        let _a = self.admin.lock();
        let old = self.collections.read().get(name).cloned();
        let swapped = self.check_replace(name, &meta.config).and_then(|()| {
            let mut b = Batch::new();
            let mut k = REG_COLL.to_vec();
            k.extend_from_slice(name.as_bytes());
            b.put(Cf::Meta, reg_key(&k), encode_record(&rec)?);
            match &old {
                Some(o) => {
                    for cf in Cf::ALL {
                        b.delete_range(cf, prefix(o.id).to_vec(), prefix(o.id + 1).to_vec());
                    }
                    o.drop_with(|| self.kv.write(b))
                }
                None => self.kv.write(b),
            }
        });
        if let Err(e) = swapped {
            c.stop_worker();
            drop(c);
            self.discard_rows(id);
            return Err(e);
        }
        let points = c.info().points_count;
        self.collections.write().insert(name.to_string(), c);
        if let Some(o) = &old {
            o.stop_worker();
            if let Some(d) = &self.dir {
                let g = d.join("graphs").join(o.id.to_string());
                let _ = std::fs::remove_dir_all(&g);
            }
        }
        tracing::info!(collection = %name, from = %meta.collection, points, replaced = old.is_some(), "snapshot recovered");
        Ok(RecoverOutcome { points, replaced: old.is_some(), source_collection: meta.collection })
    }

    fn check_replace(&self, name: &str, config: &CollectionConfig) -> Result<()> {
        let Some(old) = self.collections.read().get(name).cloned() else { return Ok(()) };
        let shape = |c: &CollectionConfig| -> String {
            c.vectors
                .iter()
                .map(|(n, v)| format!("{n:?}: {}-dimensional {:?}", v.dimension, v.metric))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let old_config = old.config();
        if shape(&old_config) != shape(config) {
            return Err(StorageError::SnapshotConflict {
                name: name.to_string(),
                reason: format!(
                    "the snapshot holds vectors {}, the collection {}; \
                     delete the collection first or recover under another name",
                    shape(config),
                    shape(&old_config)
                ),
            });
        }
        Ok(())
    }

    fn next_collection_id(&self) -> Result<u32> {
        Ok(match self.kv.get(Cf::Meta, &reg_key(REG_NEXT))? {
            Some(b) => b
                .as_slice()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| StorageError::Corrupt("next collection id".into()))?,
            None => 1,
        })
    }

    /// Writes an archive's rows under collection id `id` (batches of ~8 MB) and its graph files
    /// into `gdir`; returns after the end frame's CRC matched.
    fn import_rows(
        &self,
        id: u32,
        ar: &mut ArchiveReader<impl std::io::Read>,
        gdir: Option<&Path>,
    ) -> Result<()> {
        let mut batch = Batch::new();
        let mut bytes = 0usize;
        loop {
            match ar.next_frame()? {
                Frame::Row(cf, k, v) => {
                    let mut key = prefix(id).to_vec();
                    key.extend_from_slice(&k);
                    bytes += key.len() + v.len();
                    batch.put(cf, key, v);
                    if bytes >= 8 << 20 {
                        self.kv.write(std::mem::take(&mut batch))?;
                        bytes = 0;
                    }
                }
                Frame::Graph(file, v) => {
                    if let Some(g) = gdir {
                        // `file` is a checked name, or `v-<hex>/<name>` for a named vector.
                        let p = g.join(file);
                        if let Some(parent) = p.parent() {
                            std::fs::create_dir_all(parent).map_err(|e| StorageError::io(parent, e))?;
                        }
                        std::fs::write(&p, v).map_err(|e| StorageError::io(&p, e))?;
                    }
                }
                Frame::End => break,
            }
        }
        if !batch.is_empty() {
            self.kv.write(batch)?;
        }
        Ok(())
    }

    /// Removes the rows and graphs of an unregistered collection id (best effort: leftovers
    /// are removed at the next open).
    fn discard_rows(&self, id: u32) {
        let mut b = Batch::new();
        for cf in Cf::ALL {
            b.delete_range(cf, prefix(id).to_vec(), prefix(id + 1).to_vec());
        }
        if let Err(e) = self.kv.write(b) {
            tracing::warn!(collection_id = id, error = %e, "removing the rows of a failed recover failed");
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d.join("graphs").join(id.to_string()));
        }
    }

    /// Restores a snapshot archive into a new data dir (which must not exist or be empty): an
    /// offline restore. Open it with [`Storage::open`] afterwards.
    pub fn restore_snapshot(archive: &Path, new_data_dir: &Path) -> Result<()> {
        let f = std::fs::File::open(archive).map_err(|e| StorageError::io(archive, e))?;
        let (_, meta) = ArchiveReader::new(std::io::BufReader::new(f))?;
        if new_data_dir.exists()
            && std::fs::read_dir(new_data_dir)
                .map_err(|e| StorageError::io(new_data_dir, e))?
                .next()
                .is_some()
        {
            return Err(StorageError::InvalidRequest(format!(
                "restore target {} is not empty; pick a new data dir",
                new_data_dir.display()
            )));
        }
        let s = Storage::open_with(
            new_data_dir,
            StorageOptions { background_indexing: false, ..StorageOptions::default() },
        )?;
        s.recover_snapshot(&meta.collection, archive)?;
        s.flush()
    }

    /// Blocks until the collection's graphs cover every point or `timeout` passes; true when
    /// caught up. With background indexing off, indexes on the calling thread.
    pub fn wait_indexed(&self, name: &str, timeout: Duration) -> Result<bool> {
        Ok(self.coll(name)?.wait_indexed(timeout))
    }

    /// Flushes memtables and saves every collection's graphs (also done on drop).
    pub fn flush(&self) -> Result<()> {
        for c in self.collections.read().values() {
            c.save_graphs()?;
        }
        self.kv.flush()
    }

    /// Bytes under the data dir's `db/` and `graphs/` (0 in memory).
    pub fn disk_bytes(&self) -> u64 {
        match &self.dir {
            Some(d) => dir_size(&d.join("db")) + dir_size(&d.join("graphs")),
            None => 0,
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        let colls: Vec<Arc<Collection>> = self.collections.read().values().cloned().collect();
        for c in &colls {
            c.stop_worker();
        }
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "flush on close failed");
        }
    }
}
