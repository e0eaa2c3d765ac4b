//! Exact ground truth by brute force (the oracle every recall figure is measured against), and
//! its on-disk cache keyed by a hash of the dataset and the workload.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use grove_index::{Metric, Neighbor, TopK};
use rayon::prelude::*;
use roaring::RoaringBitmap;

use crate::data::{Dataset, Vectors};
use crate::workload::Workload;

/// Exact top-`k` ids of `query` among `allowed` (all rows when `None`), best first; fewer than
/// `k` when fewer points are allowed. Ties are broken by id, as the engine's top-k does.
pub fn exact_topk(
    base: &Vectors,
    metric: Metric,
    query: &[f32],
    allowed: Option<&RoaringBitmap>,
    k: usize,
) -> Vec<u32> {
    let mut top = TopK::new(k);
    let mut push = |id: u32| {
        top.push(Neighbor::new(id, metric.distance(base.row(id as usize), query)));
    };
    match allowed {
        None => (0..base.len() as u32).for_each(&mut push),
        Some(b) => b.iter().filter(|&id| (id as usize) < base.len()).for_each(&mut push),
    }
    top.into_sorted_vec().into_iter().map(|n| n.id).collect()
}

/// Ground truth of every query of `w` (query `i` = row `i` of `queries`), in parallel.
pub fn compute(base: &Vectors, queries: &Vectors, metric: Metric, w: &Workload, k: usize) -> Vec<Vec<u32>> {
    (0..w.bitmaps.len())
        .into_par_iter()
        .map(|i| exact_topk(base, metric, queries.row(i), w.bitmaps[i].as_ref(), k))
        .collect()
}

/// 64-bit FNV-1a over words: stable across Rust versions and platforms (unlike `DefaultHasher`),
/// so a cache written today is found tomorrow.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Mixes in one word.
    pub fn word(&mut self, w: u64) {
        for b in w.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Mixes in bytes (length-prefixed so that concatenations differ).
    pub fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        b.chunks(8).for_each(|c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        });
    }

    /// Mixes in f32 values by their bits.
    pub fn floats(&mut self, v: &[f32]) {
        self.word(v.len() as u64);
        v.chunks(2).for_each(|c| {
            let lo = u64::from(c[0].to_bits());
            let hi = c.get(1).map_or(0, |x| u64::from(x.to_bits()));
            self.word(lo | (hi << 32));
        });
    }

    /// The hash.
    pub fn finish(self) -> u64 {
        self.0
    }
}

/// Hash of what the ground truth depends on in a dataset: metric, vectors, records.
pub fn dataset_key(ds: &Dataset) -> u64 {
    let mut h = Fnv::default();
    h.bytes(format!("{:?}", ds.metric).as_bytes());
    h.word(ds.base.dim as u64);
    h.floats(&ds.base.data);
    h.floats(&ds.queries.data);
    for r in &ds.records {
        h.bytes(serde_json::to_string(r).unwrap_or_default().as_bytes());
    }
    h.finish()
}

/// Hash of a workload's filters (their JSON form), combined with the dataset key and `k`.
pub fn workload_key(dataset_key: u64, w: &Workload, k: usize) -> u64 {
    let mut h = Fnv::default();
    h.bytes(b"grove-bench ground truth v1");
    h.word(dataset_key);
    h.word(k as u64);
    for f in &w.filters {
        h.bytes(serde_json::to_string(f).unwrap_or_default().as_bytes());
    }
    h.finish()
}

const MAGIC: &[u8; 8] = b"GRVGT001";

/// Cache file of a workload's ground truth.
pub fn cache_path(dir: &Path, w: &Workload, key: u64) -> PathBuf {
    dir.join(format!("gt-{}-{key:016x}.bin", w.name))
}

/// Reads a cached ground truth; `None` when absent or unreadable (then it is recomputed).
pub fn load_cached(path: &Path, nq: usize) -> Option<Vec<Vec<u32>>> {
    let mut b = Vec::new();
    std::fs::File::open(path).ok()?.read_to_end(&mut b).ok()?;
    if b.len() < 12 || &b[..8] != MAGIC {
        return None;
    }
    let u = |at: usize| b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let n = u(8)? as usize;
    if n != nq {
        return None;
    }
    let mut at = 12;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = u(at)? as usize;
        at += 4;
        let row: Option<Vec<u32>> = (0..len).map(|j| u(at + 4 * j)).collect();
        out.push(row?);
        at += 4 * len;
    }
    (at == b.len()).then_some(out)
}

/// Writes a ground truth atomically (temp file, then rename).
pub fn store(path: &Path, truth: &[Vec<u32>]) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    f.write_all(MAGIC)?;
    f.write_all(&(truth.len() as u32).to_le_bytes())?;
    for row in truth {
        f.write_all(&(row.len() as u32).to_le_bytes())?;
        for id in row {
            f.write_all(&id.to_le_bytes())?;
        }
    }
    f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(tmp, path)
}

/// The ground truth of `w`, from the cache in `dir` when present, else computed and cached.
/// Returns it and whether it came from the cache.
pub fn get_or_compute(
    ds: &Dataset,
    dataset_key: u64,
    w: &Workload,
    k: usize,
    dir: &Path,
) -> (Vec<Vec<u32>>, bool) {
    let path = cache_path(dir, w, workload_key(dataset_key, w, k));
    if let Some(t) = load_cached(&path, w.filters.len()) {
        return (t, true);
    }
    let t = compute(&ds.base, &ds.queries, ds.metric, w, k);
    // A cache that cannot be written only costs a recomputation next time.
    let _ = store(&path, &t);
    (t, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_topk_orders_and_filters() {
        let base = Vectors::new(1, vec![0.0, 5.0, 1.0, 3.0, 2.0]);
        assert_eq!(exact_topk(&base, Metric::L2, &[0.9], None, 3), vec![2, 0, 4]);
        let allow: RoaringBitmap = [1, 3].into_iter().collect();
        assert_eq!(exact_topk(&base, Metric::L2, &[0.9], Some(&allow), 3), vec![3, 1]);
    }

    #[test]
    fn cache_round_trip_and_rejects_wrong_count() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        let t = vec![vec![3, 1, 2], vec![], vec![9]];
        store(&p, &t).unwrap();
        assert_eq!(load_cached(&p, 3), Some(t));
        assert_eq!(load_cached(&p, 2), None);
        let mut b = std::fs::read(&p).unwrap();
        b.pop();
        std::fs::write(&p, b).unwrap();
        assert_eq!(load_cached(&p, 3), None, "a truncated file is not trusted");
    }

    #[test]
    fn fnv_distinguishes_order() {
        let mut a = Fnv::default();
        a.floats(&[1.0, 2.0]);
        let mut b = Fnv::default();
        b.floats(&[2.0, 1.0]);
        assert_ne!(a.finish(), b.finish());
    }
}
