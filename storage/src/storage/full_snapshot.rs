//! Full snapshots: every collection and every alias of a data dir in one file, for backups and
//! moving a whole node (Qdrant's `/snapshots`).
//!
//! Format, version 1 (integers little-endian): `GROVE-FULLSNAP\n` (15 bytes), u32 version,
//! u64 manifest length, the manifest ([`FullManifest`] as JSON), then per collection of the
//! manifest, in its order, u64 length and that collection's archive (the per-collection format
//! of [`crate::snapshot`], which carries its own CRC), and last the CRC-32 (4 bytes) of every
//! byte before it.
//!
//! Each collection is exported at its own moment (as Qdrant does): the file is not one point in
//! time across collections. Written to a temp name, fsynced and renamed like collection
//! snapshots, under `snapshots/.full/` (a collection name cannot start with '.', so the folder
//! never collides with a collection's). Restoring is offline, into a new data dir
//! ([`Storage::restore_full_snapshot`]): the whole outer CRC is checked before anything is
//! imported.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{rfc3339_now_micros, validate_name, Storage, StorageOptions};
use crate::api::SnapshotDescription;
use crate::error::{Result, StorageError};
use crate::snapshot;

const MAGIC: &[u8; 15] = b"GROVE-FULLSNAP\n";
const VERSION: u32 = 1;
/// Folder of full snapshots under `snapshots/`.
const DIR: &str = ".full";

/// What a full snapshot holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FullManifest {
    /// RFC 3339.
    creation_time: String,
    /// Collection names, in file order.
    collections: Vec<String>,
    /// `(alias, collection)` pairs.
    aliases: Vec<(String, String)>,
}

fn bad(msg: impl Into<String>) -> StorageError {
    StorageError::InvalidSnapshot(msg.into())
}

/// A writer that keeps the CRC of what passes through.
struct Crc<W> {
    w: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.w.write(b)?;
        self.crc.update(&b[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

impl Storage {
    fn full_dir(&self) -> Result<PathBuf> {
        let d = self.dir.as_ref().ok_or_else(|| {
            StorageError::InvalidRequest("snapshots need a data dir; this storage is in memory".into())
        })?;
        Ok(d.join("snapshots").join(DIR))
    }

    /// Writes a full snapshot of every collection and alias (see the module docs).
    pub fn create_full_snapshot(&self) -> Result<SnapshotDescription> {
        let base = self.full_dir()?;
        std::fs::create_dir_all(&base).map_err(|e| StorageError::io(&base, e))?;
        let (time, micros) = rfc3339_now_micros();
        let snap = format!("full-snapshot-{micros}.{}", snapshot::EXTENSION);
        let path = base.join(&snap);
        let tmp = base.join(format!(".{snap}.tmp"));
        let part = base.join(format!(".{snap}.part"));
        let gtmp = base.join(format!(".{snap}.graphs"));
        let collections: Vec<_> =
            self.collections.read().iter().map(|(n, c)| (n.clone(), std::sync::Arc::clone(c))).collect();
        let manifest = FullManifest {
            creation_time: time.clone(),
            collections: collections.iter().map(|(n, _)| n.clone()).collect(),
            aliases: self.list_aliases(),
        };
        let written = (|| -> Result<()> {
            let f = std::fs::File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
            let mut w =
                Crc { w: std::io::BufWriter::with_capacity(1 << 20, f), crc: crc32fast::Hasher::new() };
            let io = |e| StorageError::io(&tmp, e);
            let m = serde_json::to_vec(&manifest).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            w.write_all(MAGIC).map_err(io)?;
            w.write_all(&VERSION.to_le_bytes()).map_err(io)?;
            w.write_all(&(m.len() as u64).to_le_bytes()).map_err(io)?;
            w.write_all(&m).map_err(io)?;
            for (_, c) in &collections {
                // Exported to a side file first: its length precedes it in the full file.
                {
                    let pf = std::fs::File::create(&part).map_err(|e| StorageError::io(&part, e))?;
                    let mut pw = std::io::BufWriter::with_capacity(1 << 20, pf);
                    c.export(&mut pw, &gtmp, time.clone())?;
                    pw.flush().map_err(|e| StorageError::io(&part, e))?;
                }
                let _ = std::fs::remove_dir_all(&gtmp);
                let mut pf = std::fs::File::open(&part).map_err(|e| StorageError::io(&part, e))?;
                let len = pf.seek(std::io::SeekFrom::End(0)).map_err(|e| StorageError::io(&part, e))?;
                pf.seek(std::io::SeekFrom::Start(0)).map_err(|e| StorageError::io(&part, e))?;
                w.write_all(&len.to_le_bytes()).map_err(io)?;
                std::io::copy(&mut pf, &mut w).map_err(io)?;
            }
            let crc = w.crc.clone().finalize();
            let mut inner = w.w;
            inner.write_all(&crc.to_le_bytes()).map_err(io)?;
            let f = inner.into_inner().map_err(|e| StorageError::io(&tmp, e.into_error()))?;
            f.sync_all().map_err(|e| StorageError::io(&tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))
        })();
        let _ = std::fs::remove_dir_all(&gtmp);
        let _ = std::fs::remove_file(&part);
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Ok(SnapshotDescription { name: snap, collection: String::new(), creation_time: time, size })
    }

    /// Full snapshots, oldest first (an empty list when there are none).
    pub fn list_full_snapshots(&self) -> Result<Vec<SnapshotDescription>> {
        let base = self.full_dir()?;
        let Ok(rd) = std::fs::read_dir(&base) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for e in rd.flatten() {
            let fname = e.file_name().to_string_lossy().into_owned();
            if fname.starts_with('.') || !fname.ends_with(&format!(".{}", snapshot::EXTENSION)) {
                continue;
            }
            let creation_time = std::fs::File::open(e.path())
                .ok()
                .and_then(|f| read_manifest(&mut std::io::BufReader::new(f)).ok())
                .map(|m| m.creation_time)
                .unwrap_or_default();
            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(SnapshotDescription { name: fname, collection: String::new(), creation_time, size });
        }
        out.sort_by(|a, b| (&a.creation_time, &a.name).cmp(&(&b.creation_time, &b.name)));
        Ok(out)
    }

    /// The file of a full snapshot (404 when unknown).
    pub fn full_snapshot_path(&self, snapshot: &str) -> Result<PathBuf> {
        let base = self.full_dir()?;
        let ok = validate_name(snapshot).is_ok() && snapshot.ends_with(&format!(".{}", snapshot::EXTENSION));
        let p = base.join(snapshot);
        if !ok || !p.is_file() {
            return Err(StorageError::SnapshotNotFound { name: snapshot.to_string() });
        }
        Ok(p)
    }

    /// Deletes a full snapshot (404 when unknown).
    pub fn delete_full_snapshot(&self, snapshot: &str) -> Result<()> {
        let p = self.full_snapshot_path(snapshot)?;
        std::fs::remove_file(&p).map_err(|e| StorageError::io(&p, e))
    }

    /// Restores a full snapshot into a new (absent or empty) data dir: every collection and
    /// alias it holds. Offline: open the dir with [`Storage::open`] afterwards. The outer CRC
    /// is checked before anything is imported; a damaged file leaves the target empty.
    pub fn restore_full_snapshot(archive: &Path, new_data_dir: &Path) -> Result<()> {
        let open = || std::fs::File::open(archive).map_err(|e| StorageError::io(archive, e));
        verify_crc(open()?)?;
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
        let mut r = std::io::BufReader::with_capacity(1 << 20, open()?);
        let manifest = read_manifest(&mut r)?;
        let s = Storage::open_with(
            new_data_dir,
            StorageOptions { background_indexing: false, ..StorageOptions::default() },
        )?;
        for name in &manifest.collections {
            let mut len = [0u8; 8];
            r.read_exact(&mut len).map_err(|_| bad("the full snapshot ends early"))?;
            let len = u64::from_le_bytes(len);
            let mut part = (&mut r).take(len);
            s.recover_from_reader(name, &mut part)?;
            // The inner archive may end before its length (nothing follows its end frame).
            std::io::copy(&mut part, &mut std::io::sink()).map_err(|e| StorageError::io(archive, e))?;
        }
        let actions: Vec<_> = manifest
            .aliases
            .into_iter()
            .map(|(alias, collection)| super::AliasAction::Create { alias, collection })
            .collect();
        s.update_aliases(&actions)?;
        s.flush()
    }
}

fn read_manifest(r: &mut impl Read) -> Result<FullManifest> {
    let mut head = [0u8; 15 + 4 + 8];
    r.read_exact(&mut head).map_err(|_| bad("not a Grove full snapshot (too short)"))?;
    if &head[..15] != MAGIC {
        return Err(bad(
            "not a Grove full snapshot (bad magic; a collection snapshot is recovered per collection)",
        ));
    }
    let version = u32::from_le_bytes([head[15], head[16], head[17], head[18]]);
    if version != VERSION {
        return Err(bad(format!(
            "full snapshot format version {version}; this Grove reads version {VERSION}"
        )));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&head[19..27]);
    let len = u64::from_le_bytes(len);
    if len > 64 << 20 {
        return Err(bad("manifest length is implausible: a damaged file"));
    }
    let mut m = vec![0u8; len as usize];
    r.read_exact(&mut m).map_err(|_| bad("the full snapshot ends inside its manifest"))?;
    serde_json::from_slice(&m).map_err(|e| bad(format!("manifest does not decode: {e}")))
}

/// Checks the trailing CRC-32 against every byte before it.
fn verify_crc(f: std::fs::File) -> Result<()> {
    let total = f.metadata().map_err(|e| StorageError::io("full snapshot", e))?.len();
    if total < 4 {
        return Err(bad("not a Grove full snapshot (too short)"));
    }
    let mut r = std::io::BufReader::with_capacity(1 << 20, f);
    let mut crc = crc32fast::Hasher::new();
    let mut left = total - 4;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = (left as usize).min(buf.len());
        r.read_exact(&mut buf[..n]).map_err(|e| StorageError::io("full snapshot", e))?;
        crc.update(&buf[..n]);
        left -= n as u64;
    }
    let mut want = [0u8; 4];
    r.read_exact(&mut want).map_err(|e| StorageError::io("full snapshot", e))?;
    if crc.finalize() != u32::from_le_bytes(want) {
        return Err(bad("CRC mismatch: the full snapshot is damaged"));
    }
    Ok(())
}
