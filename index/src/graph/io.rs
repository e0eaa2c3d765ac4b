//! The graph file: versioned, checksummed, written atomically.
//!
//! Layout (little-endian):
//! ```text
//! magic "GROVEGRF" | version u32 | metric u8 + 3 zero bytes | dim u32
//! M u32 | ef_construction u32 | gamma u32 | M_beta u32 | seed u64
//! slots u32 | nodes u32 | entry u64 (level << 32 | id, or u64::MAX when empty)
//! level u8 per slot (255 = absent)
//! per present node, for each of its layers 0..=level: count u32, then count ids u32
//! crc32 u32 of every byte before it
//! ```

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::layers::{self, read_into, Layers, ABSENT, MAX_LEVEL};
use super::{unpack, Graph, GraphParams, NO_ENTRY};
use crate::{IndexError, Metric, Result};

const MAGIC: &[u8; 8] = b"GROVEGRF";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 4 + 4 + 4 * 4 + 8 + 4 + 4 + 8;

fn metric_code(m: Metric) -> u8 {
    match m {
        Metric::Cosine => 0,
        Metric::Dot => 1,
        Metric::L2 => 2,
    }
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(super) fn save(g: &Graph, path: &Path) -> Result<()> {
    let layers = g.layers.read();
    let mut out: Vec<u8> = Vec::with_capacity(HEADER + layers.cap * 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&[metric_code(g.metric), 0, 0, 0]);
    out.extend_from_slice(&u32_of(g.dim).to_le_bytes());
    let p = &g.params;
    for v in [p.m, p.ef_construction, p.gamma, p.m_beta] {
        out.extend_from_slice(&u32_of(v).to_le_bytes());
    }
    out.extend_from_slice(&p.seed.to_le_bytes());
    // Inserts may run while we save. The file is a consistent snapshot all the same: the entry
    // is read before the levels (a node is in the level table before it can become the entry),
    // and list entries naming nodes that joined after the level snapshot are left out.
    let entry = g.entry.load(Ordering::Acquire);
    let levels: Vec<u8> = layers.levels.iter().map(|l| l.load(Ordering::Acquire)).collect();
    let nodes = levels.iter().filter(|&&l| l != ABSENT).count();
    out.extend_from_slice(&u32_of(layers.cap).to_le_bytes());
    out.extend_from_slice(&u32_of(nodes).to_le_bytes());
    out.extend_from_slice(&entry.to_le_bytes());
    out.extend_from_slice(&levels);
    let mut buf = Vec::new();
    for (id, &lv) in levels.iter().enumerate() {
        if lv == ABSENT {
            continue;
        }
        for level in 0..=usize::from(lv) {
            read_into(layers.block(id as u32, level), &mut buf);
            buf.retain(|&n| levels.get(n as usize).is_some_and(|&l| l != ABSENT && usize::from(l) >= level));
            out.extend_from_slice(&u32_of(buf.len()).to_le_bytes());
            for &n in &buf {
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
    }
    drop(layers);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    write_atomically(path, &out)
}

/// Writes `out` to `path` through a temporary file, synced and renamed (the directory synced
/// too), so a crash leaves the old file or the new one, never half of one.
pub(crate) fn write_atomically(path: &Path, out: &[u8]) -> Result<()> {
    let io_err = |source| IndexError::Io { path: path.to_path_buf(), source };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp_name);
    let mut f = fs::File::create(&tmp).map_err(io_err)?;
    f.write_all(out).map_err(io_err)?;
    f.sync_all().map_err(io_err)?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename durable; a platform that cannot open directories just skips this.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes)
    }
}

pub(super) fn load(path: &Path, metric: Metric, dim: usize) -> Result<Graph> {
    let bytes = fs::read(path).map_err(|source| IndexError::Io { path: path.to_path_buf(), source })?;
    parse(&bytes, metric, dim).map_err(|reason| IndexError::Format { path: path.to_path_buf(), reason })
}

fn parse(bytes: &[u8], metric: Metric, dim: usize) -> std::result::Result<Graph, String> {
    let truncated = || "file is truncated".to_string();
    if bytes.len() < HEADER + 4 {
        return Err(truncated());
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes(tail.try_into().map_err(|_| truncated())?);
    if &body[..8] != MAGIC {
        return Err("not a Grove graph file (bad magic)".into());
    }
    if crc32fast::hash(body) != stored {
        return Err("checksum mismatch (corrupted or truncated)".into());
    }
    let mut r = Reader { buf: body, pos: 8 };
    let version = r.u32().ok_or_else(truncated)?;
    if version != VERSION {
        return Err(format!("format version {version}, this build reads {VERSION}"));
    }
    let code = r.take(4).ok_or_else(truncated)?[0];
    if code != metric_code(metric) {
        return Err(format!("metric code {code} in file, {metric:?} expected"));
    }
    let file_dim = r.u32().ok_or_else(truncated)? as usize;
    if file_dim != dim {
        return Err(format!("dimension {file_dim} in file, {dim} expected"));
    }
    let mut p4 = [0usize; 4];
    for v in &mut p4 {
        *v = r.u32().ok_or_else(truncated)? as usize;
    }
    let params = GraphParams {
        m: p4[0],
        ef_construction: p4[1],
        gamma: p4[2],
        m_beta: p4[3],
        seed: r.u64().ok_or_else(truncated)?,
    };
    let g = Graph::new(params, metric, dim).map_err(|e| format!("parameters: {e}"))?;
    let cap = r.u32().ok_or_else(truncated)? as usize;
    let nodes = r.u32().ok_or_else(truncated)? as usize;
    let entry = r.u64().ok_or_else(truncated)?;
    let levels = r.take(cap).ok_or_else(truncated)?.to_vec();
    let present = levels.iter().filter(|&&l| l != ABSENT).count();
    if present != nodes {
        return Err(format!("{nodes} nodes announced, {present} levels present"));
    }
    if let Some(l) = levels.iter().find(|&&l| l != ABSENT && l > MAX_LEVEL) {
        return Err(format!("level {l} exceeds {MAX_LEVEL}"));
    }
    let (m0, m_up) = params.degrees();
    let layers = Layers::new(cap, m0, m_up);
    let mut ids = Vec::new();
    for (id, &lv) in levels.iter().enumerate() {
        if lv == ABSENT {
            continue;
        }
        layers.levels[id].store(lv, Ordering::Relaxed);
        if lv > 0 {
            let n = usize::from(lv) * (1 + m_up);
            let _ = layers.upper[id].set((0..n).map(|_| std::sync::atomic::AtomicU32::new(0)).collect());
        }
        for level in 0..=usize::from(lv) {
            let n = r.u32().ok_or_else(truncated)? as usize;
            if n > layers.cap_at(level) {
                return Err(format!(
                    "node {id} layer {level}: {n} neighbours, capacity {}",
                    layers.cap_at(level)
                ));
            }
            ids.clear();
            for _ in 0..n {
                let nb = r.u32().ok_or_else(truncated)?;
                let ok = levels.get(nb as usize).is_some_and(|&l| l != ABSENT && usize::from(l) >= level);
                if !ok || nb as usize == id {
                    return Err(format!(
                        "node {id} layer {level}: neighbour {nb} is not a node of that layer"
                    ));
                }
                ids.push(nb);
            }
            layers::write(layers.block(id as u32, level), &ids);
        }
    }
    if r.pos != body.len() {
        return Err(format!("{} trailing bytes", body.len() - r.pos));
    }
    if entry == NO_ENTRY {
        if nodes != 0 {
            return Err("graph has nodes but no entry point".into());
        }
    } else {
        // The entry is normally the top node; a save that raced an insert raising the top level
        // may have recorded that node's level but not yet its promotion, which is harmless.
        let (ep, lv) = unpack(entry);
        if levels.get(ep as usize) != Some(&lv) {
            return Err(format!("entry point {ep} at level {lv} does not match the node table"));
        }
    }
    *g.layers.write() = layers;
    g.entry.store(entry, Ordering::Release);
    g.len.store(nodes, Ordering::Release);
    Ok(g)
}
