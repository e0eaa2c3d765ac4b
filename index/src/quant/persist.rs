//! The codes file: trained codes saved beside the graphs, so a reopened collection does not
//! retrain (a training pass reads every vector; a RaBitQ training also draws a rotation).
//!
//! Layout (little-endian):
//! ```text
//! magic "GROVEQNT" | version u32 | metric u8 | kind u8 | 2 zero bytes | param u32 | dim u32
//! trained_live u64 | trained_sample u64 | rows u64 | chunk_rows u32 | chunks u32
//! crc32 u32 per chunk of `chunk_rows` full vectors (the rows the codes were made from)
//! kind-specific payload (each array as a u64 length, then its elements)
//! crc32 u32 of every byte before it
//! ```
//!
//! A file loads only when its kind and parameters equal the collection's [`QuantConfig`] and
//! its metric and dimension match; anything else (a truncated or corrupt file, another version)
//! is rejected with a reason and the codes are retrained, never a panic. The chunk checksums
//! make the codes follow the vectors: a chunk whose vectors changed since the save (a gap
//! filled later, an id reused) is re-encoded from the vectors, as are rows added after it.

use crate::{Metric, VectorStore};

use super::binary::BinaryCodes;
use super::rabitq::{RabitqBits, RabitqCodes};
use super::sq8::Sq8Codes;
use super::{Codes, QuantConfig};

/// File name of the codes inside a collection's graph directory.
pub const CODES_FILE: &str = "codes.quant";

const MAGIC: &[u8; 8] = b"GROVEQNT";
const VERSION: u32 = 1;
/// Full vectors per checksummed chunk.
const CHUNK_ROWS: usize = 4096;

/// What loading the codes file did (in [`crate::LoadReport::codes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeLoad {
    /// Loaded; `reencoded` rows were encoded again from the vectors (changed or new since
    /// the save).
    Loaded {
        /// Rows in the file.
        rows: u64,
        /// Rows encoded from the vectors at load.
        reencoded: u64,
    },
    /// No file: codes are trained in the first indexing round.
    Missing,
    /// The file cannot serve this collection; codes are retrained. Why.
    Rejected {
        /// What did not match.
        reason: String,
    },
}

/// Codes read back with their training schedule.
#[derive(Debug)]
pub struct Loaded {
    /// The codes, covering every row of the store they were loaded against.
    pub codes: Codes,
    /// Live points when they were trained.
    pub trained_live: u64,
    /// Rows of that training's sample.
    pub trained_sample: usize,
    /// Rows in the file.
    pub rows: u64,
    /// Rows encoded again from the vectors.
    pub reencoded: u64,
}

fn metric_code(m: Metric) -> u8 {
    match m {
        Metric::Cosine => 0,
        Metric::Dot => 1,
        Metric::L2 => 2,
    }
}

/// The kind byte and parameter word a config's codes are saved under.
fn config_tag(cfg: &QuantConfig) -> (u8, u32) {
    match cfg {
        QuantConfig::Scalar { quantile, .. } => (0, quantile.unwrap_or(0.99).to_bits()),
        QuantConfig::Binary { .. } => (1, 0),
        QuantConfig::RaBitQ { bits, .. } => (2, u32::from(bits.tag())),
    }
}

fn chunk_crc(store: &VectorStore, lo: usize, hi: usize) -> u32 {
    let mut h = crc32fast::Hasher::new();
    let mut buf = Vec::with_capacity(store.dim() * 4);
    for id in lo..hi {
        buf.clear();
        for x in store.get(id as u32) {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        h.update(&buf);
    }
    h.finalize()
}

/// Appends to a file being written.
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    pub(crate) fn f32(&mut self, x: f32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    pub(crate) fn f32s(&mut self, xs: &[f32]) {
        self.u64(xs.len() as u64);
        xs.iter().for_each(|&x| self.f32(x));
    }
    pub(crate) fn bytes(&mut self, xs: &[u8]) {
        self.u64(xs.len() as u64);
        self.0.extend_from_slice(xs);
    }
    pub(crate) fn u64s(&mut self, xs: &[u64]) {
        self.u64(xs.len() as u64);
        xs.iter().for_each(|&x| self.u64(x));
    }
}

/// Reads a file; every read is bounds-checked and a short file is an error, not a panic.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

type Parse<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Parse<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or("length overflow")?;
        let s = self.buf.get(self.pos..end).ok_or("file is truncated")?;
        self.pos = end;
        Ok(s)
    }
    pub(crate) fn u32(&mut self) -> Parse<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn u64(&mut self) -> Parse<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
    pub(crate) fn f32(&mut self) -> Parse<f32> {
        Ok(f32::from_bits(self.u32()?))
    }
    /// An array's length, which must be `want`.
    fn len(&mut self, want: usize, what: &str) -> Parse<usize> {
        let n = self.u64()?;
        if n != want as u64 {
            return Err(format!("{what}: {n} elements, {want} expected"));
        }
        Ok(want)
    }
    pub(crate) fn f32s(&mut self, want: usize, what: &str) -> Parse<Vec<f32>> {
        let n = self.len(want, what)?;
        let b = self.take(n.checked_mul(4).ok_or("length overflow")?)?;
        Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
    pub(crate) fn bytes(&mut self, want: usize, what: &str) -> Parse<Vec<u8>> {
        let n = self.len(want, what)?;
        Ok(self.take(n)?.to_vec())
    }
    pub(crate) fn u64s(&mut self, want: usize, what: &str) -> Parse<Vec<u64>> {
        let n = self.len(want, what)?;
        let b = self.take(n.checked_mul(8).ok_or("length overflow")?)?;
        Ok(b.chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }
}

/// The file's bytes for `codes` (trained under `cfg`) made from the rows of `store`.
pub fn encode(
    codes: &Codes,
    cfg: &QuantConfig,
    metric: Metric,
    store: &VectorStore,
    trained_live: u64,
    trained_sample: usize,
) -> Vec<u8> {
    let rows = codes.rows().min(store.len());
    let mut w = Writer(Vec::with_capacity(64 + codes.memory_bytes()));
    w.0.extend_from_slice(MAGIC);
    w.u32(VERSION);
    let (kind, param) = config_tag(cfg);
    w.0.extend_from_slice(&[metric_code(metric), kind, 0, 0]);
    w.u32(param);
    w.u32(store.dim() as u32);
    w.u64(trained_live);
    w.u64(trained_sample as u64);
    w.u64(rows as u64);
    w.u32(CHUNK_ROWS as u32);
    let chunks = rows.div_ceil(CHUNK_ROWS);
    w.u32(chunks as u32);
    for c in 0..chunks {
        w.u32(chunk_crc(store, c * CHUNK_ROWS, ((c + 1) * CHUNK_ROWS).min(rows)));
    }
    match codes {
        Codes::Sq8(c) => c.write_payload(&mut w, rows),
        Codes::Binary(c) => c.write_payload(&mut w, rows),
        Codes::RaBitQ(c) => c.write_payload(&mut w, rows),
    }
    let crc = crc32fast::hash(&w.0);
    w.u32(crc);
    w.0
}

/// Codes from a file's bytes for a collection configured with `cfg`, made to cover every row
/// of `store` (chunks whose vectors changed and rows added since the save are encoded again).
/// `Err` names what did not match.
pub fn decode(bytes: &[u8], cfg: &QuantConfig, metric: Metric, store: &VectorStore) -> Parse<Loaded> {
    if bytes.len() < MAGIC.len() + 4 {
        return Err("file is truncated".into());
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    if &body[..8] != MAGIC {
        return Err("not a Grove codes file (bad magic)".into());
    }
    if crc32fast::hash(body) != u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) {
        return Err("checksum mismatch (corrupted or truncated)".into());
    }
    let mut r = Reader { buf: body, pos: 8 };
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!("format version {version}, this build reads {VERSION}"));
    }
    let head = r.take(4)?;
    let (m, kind) = (head[0], head[1]);
    if m != metric_code(metric) {
        return Err(format!("metric code {m} in file, {metric:?} expected"));
    }
    let param = r.u32()?;
    if (kind, param) != config_tag(cfg) {
        return Err(format!(
            "codes of another configuration (kind {kind}, parameter {param:#x}); {} expected",
            cfg.kind()
        ));
    }
    let dim = r.u32()? as usize;
    if dim != store.dim() {
        return Err(format!("dimension {dim} in file, {} expected", store.dim()));
    }
    let trained_live = r.u64()?;
    let trained_sample = usize::try_from(r.u64()?).map_err(|_| "sample size overflow")?;
    let rows = usize::try_from(r.u64()?).map_err(|_| "row count overflow")?;
    if rows > store.len() {
        return Err(format!("{rows} rows in file, the collection has {}", store.len()));
    }
    let chunk_rows = r.u32()? as usize;
    let chunks = r.u32()? as usize;
    if chunk_rows == 0 || chunks != rows.div_ceil(chunk_rows) {
        return Err(format!("{chunks} chunks of {chunk_rows} rows for {rows} rows"));
    }
    let mut crcs = Vec::with_capacity(chunks);
    for _ in 0..chunks {
        crcs.push(r.u32()?);
    }
    let mut codes = match kind {
        0 => Codes::Sq8(Sq8Codes::read_payload(&mut r, dim, metric, rows)?),
        1 => Codes::Binary(BinaryCodes::read_payload(&mut r, dim, metric, rows)?),
        2 => {
            let bits = RabitqBits::from_tag(param as u8).ok_or("unknown bit width")?;
            Codes::RaBitQ(RabitqCodes::read_payload(&mut r, dim, metric, bits, rows)?)
        }
        k => return Err(format!("unknown code kind {k}")),
    };
    if r.pos != body.len() {
        return Err(format!("{} bytes after the payload", body.len() - r.pos));
    }
    let mut reencoded = 0u64;
    for (c, &crc) in crcs.iter().enumerate() {
        let (lo, hi) = (c * chunk_rows, ((c + 1) * chunk_rows).min(rows));
        if chunk_crc(store, lo, hi) != crc {
            for id in lo..hi {
                codes.set(id as u32, store.get(id as u32));
            }
            reencoded += (hi - lo) as u64;
        }
    }
    for id in rows..store.len() {
        codes.set(id as u32, store.get(id as u32));
        reencoded += 1;
    }
    Ok(Loaded { codes, trained_live, trained_sample, rows: rows as u64, reencoded })
}
