//! Portable per-collection snapshot archives: one file per snapshot.
//!
//! Why not a RocksDB checkpoint: a checkpoint is the whole database (every collection) and ties
//! the rows to the collection's numeric id in this data dir. An archive holds one collection's
//! rows with the 4-byte collection prefix stripped, exported from one RocksDB snapshot, so it can
//! be imported into any live database under a fresh id and swapped in by name (see
//! [`crate::Storage::recover_snapshot`]), copied between machines, and checked for damage.
//!
//! Format, version 2 (integers little-endian; version 1 differs only in the meta frame's
//! config, the form before named vectors, and still loads):
//! `GROVE-SNAPSHOT\n` (15 bytes), u32 version, then frames
//! `u8 tag | u32 key length | u64 value length | key | value`:
//! - tag 0, first frame: [`ArchiveMeta`] as JSON (empty key);
//! - tags 1-5: one row of the column family meta / points / payloads / idmap / payload_index,
//!   key without the collection prefix;
//! - tag 6: a graph file saved by the engine (key: the file name, or `v-<hex name>/<file>` for
//!   a named vector's graphs);
//! - tag 255, last frame: the CRC-32 (4 bytes) of every byte before this frame.
//!
//! Nothing of an archive is made visible before its final CRC has been checked.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::api::CollectionConfig;
use crate::error::{Result, StorageError};
use crate::kv::Cf;

const MAGIC: &[u8; 15] = b"GROVE-SNAPSHOT\n";
pub(crate) const VERSION: u32 = 2;
const TAG_META: u8 = 0;
const TAG_GRAPH: u8 = 6;
const TAG_END: u8 = 255;
/// Longest key accepted on import (ours are < 300 bytes: field names are at most 256).
const MAX_KEY: u32 = 64 * 1024;
/// Largest value accepted on import (a graph file of tens of millions of points fits).
const MAX_VALUE: u64 = 16 << 30;
/// File name extension of archives in the snapshots dir.
pub const EXTENSION: &str = "snapshot";

/// The meta frame as read, before its config is converted from the archive's version.
#[derive(Deserialize)]
struct RawMeta {
    format: u32,
    collection: String,
    config: serde_json::Value,
    creation_time: String,
    points: u64,
}

/// What the first frame says about the archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ArchiveMeta {
    /// Archive format version (= the header's).
    pub format: u32,
    /// Name of the collection it was taken from.
    pub collection: String,
    /// Its configuration (dimension, metric, graph parameters...).
    pub config: CollectionConfig,
    /// RFC 3339.
    pub creation_time: String,
    /// Live points at the snapshot.
    pub points: u64,
}

fn cf_tag(cf: Cf) -> u8 {
    match cf {
        Cf::Meta => 1,
        Cf::Points => 2,
        Cf::Payloads => 3,
        Cf::IdMap => 4,
        Cf::PayloadIndex => 5,
    }
}

fn tag_cf(tag: u8) -> Option<Cf> {
    match tag {
        1 => Some(Cf::Meta),
        2 => Some(Cf::Points),
        3 => Some(Cf::Payloads),
        4 => Some(Cf::IdMap),
        5 => Some(Cf::PayloadIndex),
        _ => None,
    }
}

fn bad(msg: impl Into<String>) -> StorageError {
    StorageError::InvalidSnapshot(msg.into())
}

fn io_err(e: std::io::Error) -> StorageError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        bad("the archive ends early: truncated upload or copy, or a damaged frame length")
    } else {
        StorageError::Io { path: "snapshot archive".into(), source: e }
    }
}

/// Streams frames into `W`, keeping the running CRC.
#[derive(Debug)]
pub(crate) struct ArchiveWriter<W: Write> {
    w: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> ArchiveWriter<W> {
    /// Writes the header and the meta frame.
    pub fn new(w: W, meta: &ArchiveMeta) -> Result<Self> {
        let mut a = ArchiveWriter { w, crc: crc32fast::Hasher::new() };
        a.raw(MAGIC)?;
        a.raw(&VERSION.to_le_bytes())?;
        let m = serde_json::to_vec(meta).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        a.frame(TAG_META, &[], &m)?;
        Ok(a)
    }

    fn raw(&mut self, b: &[u8]) -> Result<()> {
        self.crc.update(b);
        self.w.write_all(b).map_err(io_err)
    }

    fn frame(&mut self, tag: u8, key: &[u8], value: &[u8]) -> Result<()> {
        self.raw(&[tag])?;
        self.raw(&(key.len() as u32).to_le_bytes())?;
        self.raw(&(value.len() as u64).to_le_bytes())?;
        self.raw(key)?;
        self.raw(value)
    }

    /// One row (key without the collection prefix).
    pub fn row(&mut self, cf: Cf, key: &[u8], value: &[u8]) -> Result<()> {
        self.frame(cf_tag(cf), key, value)
    }

    /// One graph file.
    pub fn graph(&mut self, file: &str, bytes: &[u8]) -> Result<()> {
        self.frame(TAG_GRAPH, file.as_bytes(), bytes)
    }

    /// Writes the end frame and returns the writer.
    pub fn finish(mut self) -> Result<W> {
        let crc = self.crc.clone().finalize();
        self.w.write_all(&[TAG_END]).map_err(io_err)?;
        self.w.write_all(&0u32.to_le_bytes()).map_err(io_err)?;
        self.w.write_all(&4u64.to_le_bytes()).map_err(io_err)?;
        self.w.write_all(&crc.to_le_bytes()).map_err(io_err)?;
        self.w.flush().map_err(io_err)?;
        Ok(self.w)
    }
}

/// One frame read back.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A row (key without the collection prefix).
    Row(Cf, Vec<u8>, Vec<u8>),
    /// A graph file: name, bytes.
    Graph(String, Vec<u8>),
    /// The end frame, CRC checked.
    End,
}

/// Reads and checks an archive frame by frame.
#[derive(Debug)]
pub(crate) struct ArchiveReader<R: Read> {
    r: R,
    crc: crc32fast::Hasher,
    done: bool,
}

impl<R: Read> ArchiveReader<R> {
    /// Checks the header and reads the meta frame.
    pub fn new(r: R) -> Result<(Self, ArchiveMeta)> {
        let mut a = ArchiveReader { r, crc: crc32fast::Hasher::new(), done: false };
        let mut magic = [0u8; 15];
        a.r.read_exact(&mut magic).map_err(|_| bad("not a Grove snapshot archive (too short)"))?;
        if &magic != MAGIC {
            return Err(bad("not a Grove snapshot archive (wrong magic bytes); upload a file made by Grove's snapshot create/download"));
        }
        a.crc.update(&magic);
        let version = u32::from_le_bytes(a.exact::<4>()?);
        if version != 1 && version != VERSION {
            return Err(bad(format!(
                "archive format version {version}; this server reads versions 1 to {VERSION}"
            )));
        }
        let (tag, _, value) = a.frame()?;
        if tag != TAG_META {
            return Err(bad("the archive does not start with its meta frame"));
        }
        let raw: RawMeta =
            serde_json::from_slice(&value).map_err(|e| bad(format!("archive meta is not valid: {e}")))?;
        if raw.format != version {
            return Err(bad(format!("archive meta says format {}, header says {version}", raw.format)));
        }
        let config = crate::record::config_from_archive(version, raw.config)
            .map_err(|e| bad(format!("archive meta's collection config is not valid: {e}")))?;
        let meta = ArchiveMeta {
            format: raw.format,
            collection: raw.collection,
            config,
            creation_time: raw.creation_time,
            points: raw.points,
        };
        Ok((a, meta))
    }

    fn exact<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(io_err)?;
        self.crc.update(&b);
        Ok(b)
    }

    fn bytes(&mut self, n: u64) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(n.min(1 << 20) as usize);
        (&mut self.r).take(n).read_to_end(&mut v).map_err(io_err)?;
        if v.len() as u64 != n {
            return Err(bad("the archive ends early: truncated upload or copy, or a damaged frame length"));
        }
        self.crc.update(&v);
        Ok(v)
    }

    fn frame(&mut self) -> Result<(u8, Vec<u8>, Vec<u8>)> {
        let [tag] = self.exact::<1>()?;
        let klen = u32::from_le_bytes(self.exact::<4>()?);
        let vlen = u64::from_le_bytes(self.exact::<8>()?);
        if klen > MAX_KEY || vlen > MAX_VALUE {
            return Err(bad(format!(
                "frame of {klen} + {vlen} bytes is larger than any Grove writes: damaged archive"
            )));
        }
        let k = self.bytes(u64::from(klen))?;
        let v = self.bytes(vlen)?;
        Ok((tag, k, v))
    }

    /// The next frame; [`Frame::End`] once the CRC matched. Errors on damage.
    pub fn next_frame(&mut self) -> Result<Frame> {
        if self.done {
            return Ok(Frame::End);
        }
        let expected = self.crc.clone().finalize();
        let (tag, k, v) = self.frame()?;
        match tag {
            TAG_END => {
                let got =
                    v.as_slice().try_into().map(u32::from_le_bytes).map_err(|_| bad("bad end frame"))?;
                if got != expected {
                    return Err(bad(format!(
                        "checksum mismatch (archive says {got:08x}, content is {expected:08x}): damaged archive"
                    )));
                }
                let mut rest = [0u8; 1];
                if self.r.read(&mut rest).map_err(io_err)? != 0 {
                    return Err(bad("bytes after the end frame: damaged archive"));
                }
                self.done = true;
                Ok(Frame::End)
            }
            TAG_GRAPH => {
                let name = String::from_utf8(k).map_err(|_| bad("graph file name is not UTF-8"))?;
                let file_ok = |f: &str| {
                    !f.is_empty()
                        && !f.starts_with('.')
                        && f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
                };
                // A named vector's file: exactly one `v-<hex>/` directory in front.
                let ok = match name.split_once('/') {
                    None => file_ok(&name),
                    Some((dir, file)) => {
                        dir.len() > 2
                            && dir.starts_with("v-")
                            && dir[2..].bytes().all(|b| b.is_ascii_hexdigit())
                            && file_ok(file)
                    }
                };
                if !ok {
                    return Err(bad(format!("graph file name {name:?} is not acceptable")));
                }
                Ok(Frame::Graph(name, v))
            }
            t => match tag_cf(t) {
                Some(cf) => Ok(Frame::Row(cf, k, v)),
                None => Err(bad(format!("unknown frame tag {t}: damaged archive or a newer format"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grove_index::Metric;

    fn meta() -> ArchiveMeta {
        ArchiveMeta {
            format: VERSION,
            collection: "c".into(),
            config: CollectionConfig::new(3, Metric::Cosine),
            creation_time: "2026-11-27T00:00:00Z".into(),
            points: 1,
        }
    }

    fn sample() -> Vec<u8> {
        let mut w = ArchiveWriter::new(Vec::new(), &meta()).unwrap();
        w.row(Cf::Points, b"\0\0\0\x01", b"vec").unwrap();
        w.graph("hnsw.graph", b"graphbytes").unwrap();
        w.finish().unwrap()
    }

    fn read_all(b: &[u8]) -> Result<Vec<Frame>> {
        let (mut r, _) = ArchiveReader::new(b)?;
        let mut out = Vec::new();
        loop {
            match r.next_frame()? {
                Frame::End => return Ok(out),
                f => out.push(f),
            }
        }
    }

    /// A format-1 archive (written before named vectors: the meta's config has top-level
    /// `dimension` and `metric`) still reads, as one unnamed vector.
    #[test]
    fn format_1_archives_still_read() {
        let meta = br#"{"format":1,"collection":"old","config":{"dimension":5,"metric":"dot"},"creation_time":"t","points":0}"#;
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&1u32.to_le_bytes());
        b.push(TAG_META);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        b.extend_from_slice(meta);
        let crc = crc32fast::hash(&b);
        b.push(TAG_END);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&4u64.to_le_bytes());
        b.extend_from_slice(&crc.to_le_bytes());
        let (mut r, m) = ArchiveReader::new(&b[..]).unwrap();
        let v = m.config.vector("").unwrap();
        assert_eq!((v.dimension, v.metric, m.config.named_form), (5, Metric::Dot, false));
        assert!(matches!(r.next_frame().unwrap(), Frame::End));
    }

    /// Named vectors' graph files travel as `v-<hex>/<file>`; anything else with a slash is
    /// refused.
    #[test]
    fn named_vector_graph_names() {
        for (name, ok) in [
            ("v-696d67/hnsw.graph", true),
            ("v-/x", false),
            ("v-zz/x", false),
            ("a/b", false),
            ("v-61/../x", false),
            ("v-61/b/c", false),
        ] {
            let mut w = ArchiveWriter::new(Vec::new(), &meta()).unwrap();
            w.graph(name, b"g").unwrap();
            let b = w.finish().unwrap();
            assert_eq!(read_all(&b).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn round_trip() {
        let frames = read_all(&sample()).unwrap();
        assert_eq!(frames.len(), 2);
        assert!(matches!(&frames[0], Frame::Row(Cf::Points, k, v) if k == b"\0\0\0\x01" && v == b"vec"));
        assert!(matches!(&frames[1], Frame::Graph(n, v) if n == "hnsw.graph" && v == b"graphbytes"));
    }

    #[test]
    fn every_flipped_byte_and_every_truncation_is_refused() {
        let good = sample();
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x40;
            let r = read_all(&b);
            assert!(matches!(r, Err(StorageError::InvalidSnapshot(_))), "flip at {i}: {r:?}");
            let r = read_all(&good[..i]);
            assert!(matches!(r, Err(StorageError::InvalidSnapshot(_))), "cut at {i}: {r:?}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(read_all(&longer).is_err());
    }
}
