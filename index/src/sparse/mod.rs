//! Sparse vectors: an inverted index with exact dot-product top-k.
//!
//! A sparse vector is a set of (dimension, weight) pairs, typically term ids and term weights
//! (BM25, SPLADE). Scoring is the dot product over the dimensions both vectors hold, so only
//! documents sharing a dimension with the query can score: the index keeps one posting list
//! per dimension of `(internal id, value)` and a query reads the lists of its own dimensions
//! only. That is exact, not approximate: every document with a non-empty overlap is scored in
//! full. Like Qdrant, a document sharing no dimension with the query is not a hit (its score
//! would be 0 by absence, not by evidence).
//!
//! Two paths, chosen per query and reported in [`SparseExplain`]:
//! - **postings**: walk the query's posting lists, skip ids the filter's bitmap excludes,
//!   accumulate, take the top k. Cost ~ the summed length of the query's lists.
//! - **full scan**: when a filter allows at most `full_scan_threshold` points, score each
//!   allowed point's own vector against the query instead. Cost ~ allowed points x their
//!   length, independent of how common the query's terms are.
//!
//! `Modifier::Idf` multiplies each query weight by the dimension's inverse document frequency,
//! Qdrant's formula `ln(1 + (N - n + 0.5) / (n + 0.5))` with `N` the live documents of the index
//! and `n` those holding the dimension. Both counts are kept current on insert and delete, so
//! clients can send raw term frequencies (BM25's saturation is theirs to apply) and the server
//! weighs terms by how rare they are in the collection as it is now.
//!
//! Deletes are lazy: the id leaves the live set and the document frequencies at once, its
//! posting entries stay until a list is more than half dead, then that list is compacted. A
//! search skips dead entries through the live set, so results never include deleted points.
//!
//! ```
//! use grove_index::sparse::{Modifier, SparseIndex, SparseParams, SparseVector};
//!
//! let mut index = SparseIndex::new(Modifier::None, 5_000);
//! index.insert(0, SparseVector::new(vec![1, 7], vec![1.0, 2.0])?);
//! index.insert(1, SparseVector::new(vec![7, 9], vec![0.5, 4.0])?);
//! let q = SparseVector::new(vec![7], vec![2.0])?;
//! let out = index.search(&q, None, &SparseParams { k: 10, ..Default::default() }, &grove_index::stop::NEVER)?;
//! assert_eq!(out.hits.iter().map(|h| (h.id, h.score)).collect::<Vec<_>>(), vec![(0, 4.0), (1, 1.0)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use crate::stop::{Stop, StopCheck};

#[cfg(test)]
mod tests;

/// Qdrant's default `full_scan_threshold` for sparse indexes: filters allowing at most this many
/// points are answered by scoring each allowed point's vector.
pub const DEFAULT_FULL_SCAN_THRESHOLD: usize = 5_000;

/// A sparse vector: strictly increasing dimension ids and one finite weight each.
///
/// Built through [`SparseVector::new`], which sorts the pairs and rejects unequal lengths,
/// repeated dimensions and non-finite values, so every vector the index holds is canonical and
/// dot products can merge two sorted lists.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SparseVector {
    /// Dimension ids, strictly increasing.
    pub indices: Vec<u32>,
    /// The weight of each dimension.
    pub values: Vec<f32>,
}

impl SparseVector {
    /// A canonical sparse vector from pairs given in any order; the error says what to fix.
    pub fn new(indices: Vec<u32>, values: Vec<f32>) -> Result<Self, String> {
        if indices.len() != values.len() {
            return Err(format!(
                "indices and values must have the same length, got {} indices and {} values",
                indices.len(),
                values.len()
            ));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!("values[{i}] is not a finite number"));
        }
        let mut pairs: Vec<(u32, f32)> = indices.into_iter().zip(values).collect();
        pairs.sort_unstable_by_key(|p| p.0);
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!("index {} appears more than once; indices must be unique", w[0].0));
        }
        let (indices, values) = pairs.into_iter().unzip();
        Ok(SparseVector { indices, values })
    }

    /// Number of stored dimensions.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the vector holds no dimension.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Whether the invariants of [`SparseVector::new`] hold (for vectors built field by field).
    pub fn is_canonical(&self) -> bool {
        self.indices.len() == self.values.len()
            && self.indices.windows(2).all(|w| w[0] < w[1])
            && self.values.iter().all(|v| v.is_finite())
    }

    /// Dot product with `other` over the shared dimensions; `None` when none is shared.
    pub fn dot(&self, other: &SparseVector) -> Option<f32> {
        let (mut i, mut j, mut sum, mut any) = (0, 0, 0.0f32, false);
        while i < self.indices.len() && j < other.indices.len() {
            match self.indices[i].cmp(&other.indices[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += self.values[i] * other.values[j];
                    any = true;
                    i += 1;
                    j += 1;
                }
            }
        }
        any.then_some(sum)
    }
}

/// How query weights are modified before scoring (Qdrant's `modifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modifier {
    /// Raw dot product.
    #[default]
    None,
    /// Each query weight times the dimension's inverse document frequency.
    Idf,
}

/// Qdrant's idf: `ln(1 + (N - n + 0.5) / (n + 0.5))` for `n` of `N` live documents holding the
/// dimension. Always positive; rare dimensions weigh more.
pub fn idf(n: u64, total: u64) -> f32 {
    let (n, total) = (n as f64, total as f64);
    (1.0 + (total - n + 0.5) / (n + 0.5)).ln() as f32
}

/// Parameters of one sparse search.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseParams {
    /// Hits wanted.
    pub k: usize,
    /// Drop hits scoring below this.
    pub score_threshold: Option<f32>,
    /// Force the full scan of the allowed points (`Some(true)`) or the postings walk
    /// (`Some(false)`); `None`: by `full_scan_threshold`.
    pub force_full_scan: Option<bool>,
}

impl Default for SparseParams {
    fn default() -> Self {
        SparseParams { k: 10, score_threshold: None, force_full_scan: None }
    }
}

/// One hit: internal id and score (dot product, higher is better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparseHit {
    /// Internal id.
    pub id: u32,
    /// Dot product with the (modified) query.
    pub score: f32,
}

/// Which sparse path answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SparsePath {
    /// The query's posting lists were walked.
    Postings,
    /// Each allowed point's vector was scored.
    FullScan,
}

impl SparsePath {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SparsePath::Postings => "sparse_postings",
            SparsePath::FullScan => "sparse_full_scan",
        }
    }
}

/// What a sparse search did and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparseExplain {
    /// The path that answered.
    pub path: SparsePath,
    /// Why it was chosen.
    pub reason: String,
    /// Live documents in the index.
    pub live_points: u64,
    /// Points the filter allows (`live_points` without a filter).
    pub allowed_points: u64,
    /// Query dimensions with a non-empty posting list.
    pub query_dims: u64,
    /// Posting entries read (postings path; 0 for the full scan).
    pub postings_read: u64,
    /// Distinct points scored (accumulated or dot-multiplied).
    pub candidates_scored: u64,
    /// Whether query weights were multiplied by idf.
    pub idf: bool,
}

/// The answer of a sparse search: hits best first (ties by id) and the explain.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseOutput {
    /// Hits, best first.
    pub hits: Vec<SparseHit>,
    /// What ran.
    pub explain: SparseExplain,
}

/// One dimension's postings: `(id, value)` in increasing id order, with a count of entries whose
/// id was deleted since the last compaction.
#[derive(Debug, Clone, Default)]
struct Posting {
    entries: Vec<(u32, f32)>,
    dead: u32,
}

/// An inverted index over sparse vectors keyed by dense internal ids (the collection's id
/// space, shared with its dense indexes, so the filter's bitmap applies unchanged).
#[derive(Debug, Clone)]
pub struct SparseIndex {
    postings: HashMap<u32, Posting>,
    /// Each live id's vector: the full-scan path, `vector()` and deletes read it.
    vectors: HashMap<u32, SparseVector>,
    live: RoaringBitmap,
    /// Deleted ids whose posting entries may still be in a list (lists are compacted lazily):
    /// such an id must not be inserted again until [`SparseIndex::purge`] ran, or a stale
    /// entry would score for the new vector.
    stale: RoaringBitmap,
    modifier: Modifier,
    full_scan_threshold: usize,
}

impl SparseIndex {
    /// An empty index.
    pub fn new(modifier: Modifier, full_scan_threshold: usize) -> Self {
        SparseIndex {
            postings: HashMap::new(),
            vectors: HashMap::new(),
            live: RoaringBitmap::new(),
            stale: RoaringBitmap::new(),
            modifier,
            full_scan_threshold,
        }
    }

    /// Deleted ids that may still have posting entries (see [`Self::purge`]).
    pub fn stale(&self) -> &RoaringBitmap {
        &self.stale
    }

    /// Drops every dead posting entry, so no deleted id is left in any list and every id is
    /// free to be inserted again. One pass over all postings.
    pub fn purge(&mut self) {
        let live = &self.live;
        self.postings.retain(|_, p| {
            if p.dead > 0 {
                p.entries.retain(|e| live.contains(e.0));
                p.dead = 0;
            }
            !p.entries.is_empty()
        });
        self.stale.clear();
    }

    /// Changes the modifier and threshold (both act at query time, so nothing is rebuilt).
    pub fn set_params(&mut self, modifier: Modifier, full_scan_threshold: usize) {
        self.modifier = modifier;
        self.full_scan_threshold = full_scan_threshold;
    }

    /// The modifier in force.
    pub fn modifier(&self) -> Modifier {
        self.modifier
    }

    /// Live documents.
    pub fn len(&self) -> u64 {
        self.live.len()
    }

    /// Whether no document is live.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Live documents holding dimension `dim` (its document frequency).
    pub fn doc_freq(&self, dim: u32) -> u64 {
        self.postings.get(&dim).map_or(0, |p| (p.entries.len() - p.dead as usize) as u64)
    }

    /// The vector of a live id.
    pub fn vector(&self, id: u32) -> Option<&SparseVector> {
        self.vectors.get(&id)
    }

    /// Adds (or replaces) the vector of `id`. The vector must be canonical (built by
    /// [`SparseVector::new`]); a non-canonical one is canonicalised first.
    pub fn insert(&mut self, id: u32, v: SparseVector) {
        let v = if v.is_canonical() { v } else { SparseVector::new(v.indices, v.values).unwrap_or_default() };
        if self.live.contains(id) {
            self.delete(id);
        }
        if self.stale.contains(id) {
            // A reused id whose old entries were not purged yet (the collection purges before
            // it reuses ids; this keeps the index right whatever the caller does).
            self.purge();
        }
        for (&d, &x) in v.indices.iter().zip(&v.values) {
            let p = self.postings.entry(d).or_default();
            // New ids mostly come in increasing order (the collection appends past its last
            // id); a reclaimed id lands below: it is placed in order so the lists stay sorted.
            match p.entries.last() {
                Some(&(last, _)) if last >= id => {
                    let at = p.entries.partition_point(|e| e.0 < id);
                    p.entries.insert(at, (id, x));
                }
                _ => p.entries.push((id, x)),
            }
        }
        self.live.insert(id);
        self.vectors.insert(id, v);
    }

    /// Removes `id` (no-op when absent): it leaves the live set and the document frequencies
    /// now; its posting entries are dropped when their list is compacted.
    pub fn delete(&mut self, id: u32) {
        let Some(v) = self.vectors.remove(&id) else { return };
        self.live.remove(id);
        self.stale.insert(id);
        for d in &v.indices {
            let Some(p) = self.postings.get_mut(d) else { continue };
            p.dead += 1;
            if p.dead as usize * 2 > p.entries.len() {
                let live = &self.live;
                p.entries.retain(|e| live.contains(e.0));
                p.dead = 0;
                if p.entries.is_empty() {
                    self.postings.remove(d);
                }
            }
        }
    }

    /// Approximate heap bytes held (postings, vectors, live set).
    pub fn memory_bytes(&self) -> usize {
        let postings: usize = self.postings.values().map(|p| p.entries.capacity() * 8 + 24 + 16).sum();
        let vectors: usize = self.vectors.values().map(|v| v.indices.capacity() * 8 + 48 + 8).sum();
        postings + vectors + self.live.serialized_size()
    }

    /// The query weights after the modifier, dimension by dimension (dimensions without live
    /// postings dropped: they cannot score).
    fn weights(&self, q: &SparseVector) -> Vec<(u32, f32)> {
        let total = self.len();
        q.indices
            .iter()
            .zip(&q.values)
            .filter_map(|(&d, &w)| {
                let n = self.doc_freq(d);
                (n > 0).then(|| match self.modifier {
                    Modifier::None => (d, w),
                    Modifier::Idf => (d, w * idf(n, total)),
                })
            })
            .collect()
    }

    /// Exact top-k by dot product among the live points `allowed` admits (`None`: all).
    /// `allowed` may hold ids that are not live here (points without this vector): they are
    /// skipped. The `stop` signal is polled every few hundred postings or points.
    pub fn search(
        &self,
        query: &SparseVector,
        allowed: Option<&RoaringBitmap>,
        params: &SparseParams,
        stop: &Stop,
    ) -> crate::Result<SparseOutput> {
        if params.k == 0 {
            return Err(crate::IndexError::InvalidParameter {
                name: "k",
                reason: "must be at least 1".into(),
            });
        }
        let query = if query.is_canonical() {
            std::borrow::Cow::Borrowed(query)
        } else {
            std::borrow::Cow::Owned(
                SparseVector::new(query.indices.clone(), query.values.clone())
                    .map_err(|reason| crate::IndexError::InvalidParameter { name: "query", reason })?,
            )
        };
        let weights = self.weights(&query);
        let allowed_points = match allowed {
            Some(a) => a.intersection_len(&self.live),
            None => self.live.len(),
        };
        let full_scan = match params.force_full_scan {
            Some(f) => f,
            None => allowed.is_some() && allowed_points <= self.full_scan_threshold as u64,
        };
        let reason = match (params.force_full_scan, full_scan) {
            (Some(_), true) => "forced full scan".to_string(),
            (Some(_), false) => "forced postings walk".to_string(),
            (None, true) => format!(
                "the filter allows {allowed_points} points <= full_scan_threshold {}: scoring each",
                self.full_scan_threshold
            ),
            (None, false) if allowed.is_some() => format!(
                "the filter allows {allowed_points} points > full_scan_threshold {}: walking the query's postings, skipping ids the filter excludes",
                self.full_scan_threshold
            ),
            (None, false) => "no filter: walking the query's postings".to_string(),
        };
        let mut explain = SparseExplain {
            path: if full_scan { SparsePath::FullScan } else { SparsePath::Postings },
            reason,
            live_points: self.live.len(),
            allowed_points,
            query_dims: weights.len() as u64,
            postings_read: 0,
            candidates_scored: 0,
            idf: self.modifier == Modifier::Idf,
        };
        let mut scored: Vec<SparseHit> = Vec::new();
        let mut check = StopCheck::new(stop, 0);
        if weights.is_empty() {
            // No query dimension is held by any live point: nothing can score.
        } else if full_scan {
            let wq = SparseVector {
                indices: weights.iter().map(|w| w.0).collect(),
                values: weights.iter().map(|w| w.1).collect(),
            };
            let ids: Box<dyn Iterator<Item = u32>> = match allowed {
                Some(a) => Box::new(a.iter()),
                None => Box::new(self.live.iter()),
            };
            let mut work = 0u64;
            for id in ids {
                let Some(v) = self.vectors.get(&id) else { continue };
                work += v.len() as u64 + 1;
                if check.due(work) {
                    break;
                }
                explain.candidates_scored += 1;
                if let Some(score) = v.dot(&wq) {
                    scored.push(SparseHit { id, score });
                }
            }
        } else {
            // Accumulate into a map: its size is bounded by the entries read, not by the id
            // space, so rare-term queries on big collections stay cheap.
            let mut acc: HashMap<u32, f32> = HashMap::new();
            let admit = allowed.unwrap_or(&self.live);
            'dims: for &(d, w) in &weights {
                let Some(p) = self.postings.get(&d) else { continue };
                for &(id, x) in &p.entries {
                    explain.postings_read += 1;
                    if check.due(explain.postings_read) {
                        break 'dims;
                    }
                    // Dead entries are skipped by the live set; `admit` is the filter (which
                    // storage builds from live points only) or the live set itself.
                    if !admit.contains(id) || (allowed.is_some() && !self.live.contains(id)) {
                        continue;
                    }
                    *acc.entry(id).or_insert(0.0) += w * x;
                }
            }
            explain.candidates_scored = acc.len() as u64;
            scored = acc.into_iter().map(|(id, score)| SparseHit { id, score }).collect();
        }
        check.result()?;
        if let Some(t) = params.score_threshold {
            scored.retain(|h| h.score >= t);
        }
        Ok(SparseOutput { hits: top_k(scored, params.k), explain })
    }
}

/// The `k` best hits, best first, ties by increasing id (deterministic, so oracles can compare
/// lists exactly).
fn top_k(mut hits: Vec<SparseHit>, k: usize) -> Vec<SparseHit> {
    let order = |a: &SparseHit, b: &SparseHit| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id));
    if hits.len() > k {
        hits.select_nth_unstable_by(k - 1, order);
        hits.truncate(k);
    }
    hits.sort_unstable_by(order);
    hits
}

/// Brute force over `(id, vector)` pairs: the oracle of the tests (f64 accumulation, the same
/// overlap rule and idf from counts taken over the given vectors).
pub fn brute_force(
    docs: &[(u32, SparseVector)],
    query: &SparseVector,
    modifier: Modifier,
    allowed: Option<&RoaringBitmap>,
    k: usize,
) -> Vec<(u32, f64)> {
    let mut df: HashMap<u32, u64> = HashMap::new();
    for (_, v) in docs {
        for d in &v.indices {
            *df.entry(*d).or_default() += 1;
        }
    }
    let total = docs.len() as u64;
    let mut out: Vec<(u32, f64)> = docs
        .iter()
        .filter(|(id, _)| allowed.is_none_or(|a| a.contains(*id)))
        .filter_map(|(id, v)| {
            let mut any = false;
            let mut s = 0.0f64;
            for (d, w) in query.indices.iter().zip(&query.values) {
                if let Ok(j) = v.indices.binary_search(d) {
                    any = true;
                    let w = match modifier {
                        Modifier::None => *w as f64,
                        Modifier::Idf => *w as f64 * idf(df[d], total) as f64,
                    };
                    s += w * v.values[j] as f64;
                }
            }
            any.then_some((*id, s))
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.truncate(k);
    out
}
