//! The storage seam: an ordered key-value store with column families, atomic durable batches,
//! prefix scans and checkpoints. [`RocksKv`] is the real one; [`MemKv`] (BTreeMaps) runs the
//! same collection logic in tests without touching disk.
//!
//! Invariants every implementation keeps:
//! - [`KvBackend::write`] applies a whole [`Batch`] atomically: a reader or a crash sees all of
//!   it or none of it; when it returns `Ok` the batch is durable (RocksDB: WAL fsynced).
//! - [`KvBackend::scan`] visits keys in ascending byte order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parking_lot::RwLock;

use crate::error::{Result, StorageError};

/// Column families, one per concern. Every key starts with the collection's 4-byte id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cf {
    /// Collection registry and per-collection counters and index definitions.
    Meta,
    /// `coll | internal id (u32 BE)` -> `external id | vector (f32 LE)`.
    Points,
    /// `coll | internal id` -> payload JSON.
    Payloads,
    /// `coll | external id` -> internal id.
    IdMap,
    /// Posting keys `coll | field id | encoded value | internal id` -> empty.
    PayloadIndex,
}

impl Cf {
    /// All column families.
    pub const ALL: [Cf; 5] = [Cf::Meta, Cf::Points, Cf::Payloads, Cf::IdMap, Cf::PayloadIndex];

    /// The RocksDB column family name.
    pub fn name(self) -> &'static str {
        match self {
            Cf::Meta => "meta",
            Cf::Points => "points",
            Cf::Payloads => "payloads",
            Cf::IdMap => "idmap",
            Cf::PayloadIndex => "payload_index",
        }
    }

    fn index(self) -> usize {
        match self {
            Cf::Meta => 0,
            Cf::Points => 1,
            Cf::Payloads => 2,
            Cf::IdMap => 3,
            Cf::PayloadIndex => 4,
        }
    }
}

/// One write in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Set a key.
    Put(Cf, Vec<u8>, Vec<u8>),
    /// Remove a key.
    Delete(Cf, Vec<u8>),
    /// Remove every key in `[from, to)`.
    DeleteRange(Cf, Vec<u8>, Vec<u8>),
}

/// An atomic group of writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Adds a put.
    pub fn put(&mut self, cf: Cf, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Put(cf, key.into(), value.into()));
    }

    /// Adds a delete.
    pub fn delete(&mut self, cf: Cf, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Delete(cf, key.into()));
    }

    /// Adds a range delete of `[from, to)`.
    pub fn delete_range(&mut self, cf: Cf, from: impl Into<Vec<u8>>, to: impl Into<Vec<u8>>) {
        self.ops.push(Op::DeleteRange(cf, from.into(), to.into()));
    }

    /// The writes in order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// What a scan callback returns: keep going or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Visit the next key.
    Continue,
    /// Stop the scan.
    Stop,
}

/// What [`KvBackend::scan_consistent`] calls per row: column family, key, value.
pub type RowVisitor<'a> = dyn FnMut(Cf, &[u8], &[u8]) -> Result<()> + 'a;

/// An ordered, durable key-value store with column families.
pub trait KvBackend: Send + Sync + std::fmt::Debug {
    /// Reads one key.
    fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Applies a batch atomically and durably (see the module invariants).
    fn write(&self, batch: Batch) -> Result<()>;
    /// Visits keys `>= start` that begin with `prefix`, in ascending order.
    fn scan(
        &self,
        cf: Cf,
        prefix: &[u8],
        start: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> Scan,
    ) -> Result<()>;
    /// Writes a consistent copy of the whole store into `dir` (which must not exist).
    fn checkpoint(&self, dir: &Path) -> Result<()>;
    /// Visits every key starting with `prefix` in every column family (in [`Cf::ALL`] order,
    /// ascending keys within one) as of ONE point in time: a RocksDB snapshot, so writes that
    /// commit during the scan are not seen. `taken` runs once, right after that point is fixed
    /// and before the first visit (callers release a writer lock there, so writes continue
    /// while a large export streams out). An error from `f` stops the scan and is returned.
    fn scan_consistent(
        &self,
        prefix: &[u8],
        taken: &mut dyn FnMut() -> Result<()>,
        f: &mut RowVisitor<'_>,
    ) -> Result<()>;
    /// Flushes memtables (shortens the next open's WAL replay). Durability does not depend on it.
    fn flush(&self) -> Result<()>;
    /// Approximate bytes on disk (0 in memory).
    fn disk_bytes(&self) -> u64;
    /// Bytes held by the write buffers (RocksDB's memtables, every column family; 0 where
    /// there are none). Part of the process's memory that follows the write rate, not the data.
    fn memtable_bytes(&self) -> u64 {
        0
    }
}

/// The most bytes all memtables together hold before the largest is flushed.
pub const DB_WRITE_BUFFER_BYTES: usize = 64 << 20;

/// The RocksDB implementation.
#[derive(Debug)]
pub struct RocksKv {
    db: rocksdb::DB,
    path: PathBuf,
    /// Whether `write` syncs the WAL before returning. Always true except through
    /// [`RocksKv::without_wal_sync_for_durability_test`].
    sync: bool,
}

impl RocksKv {
    /// Opens (or creates) the database at `path` with all column families.
    pub fn open(path: &Path) -> Result<Self> {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(2);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        // One cap on the write buffers of all column families together. Without it each of
        // the seven column families may hold 2 x 64 MiB of memtables, and the small ones (id
        // map, payloads, postings) fill slowly: a steady overwrite load grew RSS by ~160 MiB
        // over 600k overwrites (storage/examples/overwrite_space.rs) for 1,000 live points.
        opts.set_db_write_buffer_size(DB_WRITE_BUFFER_BYTES);
        let cfs = Cf::ALL.iter().map(|cf| {
            let mut o = rocksdb::Options::default();
            o.set_compression_type(match cf {
                // Vectors are floats; LZ4 buys little there and costs CPU on every read.
                Cf::Points => rocksdb::DBCompressionType::None,
                _ => rocksdb::DBCompressionType::Lz4,
            });
            rocksdb::ColumnFamilyDescriptor::new(cf.name(), o)
        });
        let db = rocksdb::DB::open_cf_descriptors(&opts, path, cfs)?;
        Ok(RocksKv { db, path: path.to_path_buf(), sync: true })
    }

    /// **Unsafe for data: acknowledged writes are not durable.** Turns the WAL sync off so that
    /// `tests/durability.rs` can show its checker fails when durability is off (STYLE.md #20).
    /// Nothing in Grove calls this; it is not reachable from any config.
    #[doc(hidden)]
    pub fn without_wal_sync_for_durability_test(mut self) -> Self {
        self.sync = false;
        self
    }

    fn cf(&self, cf: Cf) -> Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(cf.name())
            .ok_or_else(|| StorageError::Corrupt(format!("column family {} missing", cf.name())))
    }
}

impl KvBackend for RocksKv {
    fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(cf)?, key)?)
    }

    fn write(&self, batch: Batch) -> Result<()> {
        let mut wb = rocksdb::WriteBatch::default();
        for op in batch.ops {
            match op {
                Op::Put(cf, k, v) => wb.put_cf(self.cf(cf)?, k, v),
                Op::Delete(cf, k) => wb.delete_cf(self.cf(cf)?, k),
                Op::DeleteRange(cf, a, b) => wb.delete_range_cf(self.cf(cf)?, a, b),
            }
        }
        let mut wo = rocksdb::WriteOptions::default();
        wo.set_sync(self.sync);
        self.db.write_opt(wb, &wo)?;
        Ok(())
    }

    fn scan(
        &self,
        cf: Cf,
        prefix: &[u8],
        start: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> Scan,
    ) -> Result<()> {
        let from = if start > prefix { start } else { prefix };
        let mut it = self.db.raw_iterator_cf(self.cf(cf)?);
        it.seek(from);
        while it.valid() {
            let (Some(k), Some(v)) = (it.key(), it.value()) else { break };
            if !k.starts_with(prefix) || f(k, v) == Scan::Stop {
                return Ok(());
            }
            it.next();
        }
        it.status()?;
        Ok(())
    }

    fn checkpoint(&self, dir: &Path) -> Result<()> {
        let cp = rocksdb::checkpoint::Checkpoint::new(&self.db)?;
        cp.create_checkpoint(dir)?;
        Ok(())
    }

    fn scan_consistent(
        &self,
        prefix: &[u8],
        taken: &mut dyn FnMut() -> Result<()>,
        f: &mut RowVisitor<'_>,
    ) -> Result<()> {
        let snap = self.db.snapshot();
        taken()?;
        for cf in Cf::ALL {
            let mut it = snap.raw_iterator_cf(self.cf(cf)?);
            it.seek(prefix);
            while it.valid() {
                let (Some(k), Some(v)) = (it.key(), it.value()) else { break };
                if !k.starts_with(prefix) {
                    break;
                }
                f(cf, k, v)?;
                it.next();
            }
            it.status()?;
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        for cf in Cf::ALL {
            self.db.flush_cf(self.cf(cf)?)?;
        }
        Ok(())
    }

    fn disk_bytes(&self) -> u64 {
        dir_size(&self.path)
    }

    fn memtable_bytes(&self) -> u64 {
        Cf::ALL
            .iter()
            .filter_map(|&cf| self.cf(cf).ok())
            .filter_map(|h| {
                self.db.property_int_value_cf(h, "rocksdb.cur-size-all-mem-tables").ok().flatten()
            })
            .sum()
    }
}

/// Total size of the regular files under `path` (recursive; 0 for what cannot be read).
pub fn dir_size(path: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(path) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// The in-memory implementation: one BTreeMap per column family behind a lock (so a batch is
/// atomic to readers). Checkpoints are not supported.
#[derive(Debug, Default)]
pub struct MemKv {
    maps: RwLock<[BTreeMap<Vec<u8>, Vec<u8>>; 5]>,
}

impl MemKv {
    /// An empty store.
    pub fn new() -> Self {
        MemKv::default()
    }
}

impl KvBackend for MemKv {
    fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.maps.read()[cf.index()].get(key).cloned())
    }

    fn write(&self, batch: Batch) -> Result<()> {
        let mut maps = self.maps.write();
        for op in batch.ops {
            match op {
                Op::Put(cf, k, v) => {
                    maps[cf.index()].insert(k, v);
                }
                Op::Delete(cf, k) => {
                    maps[cf.index()].remove(&k);
                }
                Op::DeleteRange(cf, a, b) => {
                    let m = &mut maps[cf.index()];
                    let doomed: Vec<Vec<u8>> = m.range(a..b).map(|(k, _)| k.clone()).collect();
                    for k in doomed {
                        m.remove(&k);
                    }
                }
            }
        }
        Ok(())
    }

    fn scan(
        &self,
        cf: Cf,
        prefix: &[u8],
        start: &[u8],
        f: &mut dyn FnMut(&[u8], &[u8]) -> Scan,
    ) -> Result<()> {
        let from = if start > prefix { start } else { prefix };
        let maps = self.maps.read();
        for (k, v) in maps[cf.index()].range(from.to_vec()..) {
            if !k.starts_with(prefix) || f(k, v) == Scan::Stop {
                break;
            }
        }
        Ok(())
    }

    fn scan_consistent(
        &self,
        prefix: &[u8],
        taken: &mut dyn FnMut() -> Result<()>,
        f: &mut RowVisitor<'_>,
    ) -> Result<()> {
        // A copy taken under the lock is this backend's snapshot (tests only: small data).
        let rows: Vec<(Cf, Vec<u8>, Vec<u8>)> = {
            let maps = self.maps.read();
            Cf::ALL
                .iter()
                .flat_map(|cf| {
                    maps[cf.index()]
                        .range(prefix.to_vec()..)
                        .take_while(|(k, _)| k.starts_with(prefix))
                        .map(|(k, v)| (*cf, k.clone(), v.clone()))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        taken()?;
        for (cf, k, v) in rows {
            f(cf, &k, &v)?;
        }
        Ok(())
    }

    fn checkpoint(&self, dir: &Path) -> Result<()> {
        Err(StorageError::InvalidRequest(format!(
            "snapshots need a data dir; this storage is in memory (asked for {})",
            dir.display()
        )))
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn disk_bytes(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(kv: &dyn KvBackend) {
        let mut b = Batch::new();
        b.put(Cf::Points, b"a1".to_vec(), b"x".to_vec());
        b.put(Cf::Points, b"a2".to_vec(), b"y".to_vec());
        b.put(Cf::Points, b"a3".to_vec(), b"z".to_vec());
        b.put(Cf::Points, b"b1".to_vec(), b"w".to_vec());
        b.put(Cf::Meta, b"a1".to_vec(), b"m".to_vec());
        kv.write(b).unwrap();
        let mut seen = Vec::new();
        kv.scan(Cf::Points, b"a", b"a2", &mut |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            Scan::Continue
        })
        .unwrap();
        assert_eq!(seen, vec![(b"a2".to_vec(), b"y".to_vec()), (b"a3".to_vec(), b"z".to_vec())]);
        let mut b = Batch::new();
        b.delete_range(Cf::Points, b"a".to_vec(), b"b".to_vec());
        b.delete(Cf::Meta, b"a1".to_vec());
        kv.write(b).unwrap();
        assert_eq!(kv.get(Cf::Points, b"a1").unwrap(), None);
        assert_eq!(kv.get(Cf::Points, b"b1").unwrap(), Some(b"w".to_vec()));
        assert_eq!(kv.get(Cf::Meta, b"a1").unwrap(), None);
        // A consistent scan does not see what commits after its point in time.
        let mut seen = Vec::new();
        kv.scan_consistent(
            b"b",
            &mut || {
                let mut b = Batch::new();
                b.put(Cf::Points, b"b2".to_vec(), b"late".to_vec());
                b.put(Cf::Meta, b"b0".to_vec(), b"late".to_vec());
                kv.write(b)
            },
            &mut |cf, k, v| {
                seen.push((cf, k.to_vec(), v.to_vec()));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, vec![(Cf::Points, b"b1".to_vec(), b"w".to_vec())]);
        assert_eq!(kv.get(Cf::Points, b"b2").unwrap(), Some(b"late".to_vec()));
    }

    #[test]
    fn mem_and_rocks_agree() {
        exercise(&MemKv::new());
        let dir = tempfile::tempdir().unwrap();
        exercise(&RocksKv::open(dir.path()).unwrap());
    }
}
