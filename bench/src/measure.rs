//! Single-thread measurement: run a workload's queries one at a time through a [`Searcher`],
//! time each, score each against the ground truth, and aggregate per selectivity bucket.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use grove_index::Strategy;
use roaring::RoaringBitmap;

use crate::data::Vectors;
use crate::workload::{bucket, Workload, BUCKETS};

/// What the bench needs from an engine.
pub trait Searcher {
    /// The ids of the `k` nearest allowed points, best first, and the name of the path that
    /// answered (`SearchPath::as_str`).
    fn search(
        &self,
        query: &[f32],
        allowed: Option<&RoaringBitmap>,
        k: usize,
        ef: usize,
        strategy: Strategy,
    ) -> anyhow::Result<(Vec<u32>, &'static str)>;
}

/// Brute force through the bench's own oracle: a [`Searcher`] for tests and for checking shipped
/// ground truth.
#[derive(Debug)]
pub struct BruteForce<'a> {
    /// Base rows (prepared for the metric).
    pub base: &'a Vectors,
    /// The metric.
    pub metric: grove_index::Metric,
}

impl Searcher for BruteForce<'_> {
    fn search(
        &self,
        query: &[f32],
        allowed: Option<&RoaringBitmap>,
        k: usize,
        _ef: usize,
        _strategy: Strategy,
    ) -> anyhow::Result<(Vec<u32>, &'static str)> {
        Ok((crate::truth::exact_topk(self.base, self.metric, query, allowed, k), "exact"))
    }
}

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop after this much search time once `min_queries` are done...
    pub time: Duration,
    /// ...but never before this many queries (or all of them)...
    pub min_queries: usize,
    /// ...unless this much search time is spent (a path at a few QPS would take minutes).
    pub max_time: Duration,
}

/// CPU time consumed by the whole process (all threads), e.g. a parallel build.
pub fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_PROCESS_CPUTIME_ID exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time consumed by the calling thread. On a shared machine wall-clock QPS drops whenever
/// another job runs; CPU time does not, so both are reported.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// recall@k of `got` against `truth` (only the first `k` of each count); the denominator is
/// `min(k, |truth|)`. `None` when nothing matches the filter (no neighbour to find).
pub fn recall_at(got: &[u32], truth: &[u32], k: usize) -> Option<f64> {
    let t = &truth[..truth.len().min(k)];
    if t.is_empty() {
        return None;
    }
    let hits = got.iter().take(k).filter(|id| t.contains(id)).count();
    Some(hits as f64 / t.len() as f64)
}

/// One query's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Index of the query.
    pub query: usize,
    /// recall@10 (`None` without any matching point).
    pub recall: Option<f64>,
    /// recall@100 when at least 100 neighbours were asked for.
    pub recall100: Option<f64>,
    /// Search time (wall clock).
    pub latency: Duration,
    /// Search time (this thread's CPU time).
    pub cpu: Duration,
    /// Path that answered.
    pub path: &'static str,
}

impl Outcome {
    /// Scores `ids` (the answer to query `query`, best first, `k` asked for) against `truth`:
    /// recall@10 from the first 10, recall@100 from the first 100 when `k >= 100`.
    pub fn scored(
        query: usize,
        ids: &[u32],
        truth: &[u32],
        k: usize,
        latency: Duration,
        cpu: Duration,
        path: &'static str,
    ) -> Self {
        Outcome {
            query,
            recall: recall_at(ids, truth, k.min(10)),
            recall100: if k >= 100 { recall_at(ids, truth, 100) } else { None },
            latency,
            cpu,
            path,
        }
    }
}

/// Runs `w`'s queries in order (after 5 untimed warm-up queries) until all are done or the
/// budget is spent.
#[expect(clippy::too_many_arguments, reason = "one flat call per measured point reads best")]
pub fn run(
    s: &dyn Searcher,
    queries: &Vectors,
    w: &Workload,
    truth: &[Vec<u32>],
    k: usize,
    ef: usize,
    strategy: Strategy,
    budget: Budget,
) -> anyhow::Result<Vec<Outcome>> {
    let nq = w.filters.len().min(queries.len()).min(truth.len());
    for i in 0..nq.min(5) {
        s.search(queries.row(i), w.bitmaps[i].as_ref(), k, ef, strategy)?;
    }
    let mut out = Vec::with_capacity(nq);
    let mut spent = Duration::ZERO;
    for (i, t_i) in truth.iter().enumerate().take(nq) {
        if (spent >= budget.time && out.len() >= budget.min_queries) || spent >= budget.max_time {
            break;
        }
        let c = thread_cpu_time();
        let t = Instant::now();
        let (ids, path) = s.search(queries.row(i), w.bitmaps[i].as_ref(), k, ef, strategy)?;
        let latency = t.elapsed();
        let cpu = thread_cpu_time().saturating_sub(c);
        spent += latency;
        out.push(Outcome::scored(i, &ids, t_i, k, latency, cpu, path));
    }
    Ok(out)
}

/// Aggregate of one (workload, bucket, strategy, ef).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cell {
    /// Workload name.
    pub workload: String,
    /// Bucket label ([`BUCKETS`]).
    pub bucket: &'static str,
    /// Median selectivity of the bucket's queries.
    pub selectivity: f64,
    /// System measured: a Grove strategy (`auto`, `hnsw`, ...) or a peer (`faiss-hnsw`, ...).
    pub strategy: &'static str,
    /// ef (0 for exact).
    pub ef: usize,
    /// Neighbours asked for.
    pub k: usize,
    /// Queries measured.
    pub nq: usize,
    /// Mean recall@10 over queries with at least one match.
    pub recall: f64,
    /// Mean recall@100 (only when k >= 100).
    pub recall100: Option<f64>,
    /// Queries per second of wall-clock search time (single thread).
    pub qps: f64,
    /// Queries per second of the thread's CPU time (insensitive to other jobs on the machine).
    pub qps_cpu: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th-percentile latency, µs.
    pub p99_us: f64,
    /// How often each path answered.
    pub paths: BTreeMap<&'static str, usize>,
}

/// Lower-case name of a strategy.
pub fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::Auto => "auto",
        Strategy::Exact => "exact",
        Strategy::Hnsw => "hnsw",
        Strategy::Acorn => "acorn",
    }
}

/// What an in-process run measures: one of Grove's strategies, or the hnsw_rs baseline
/// ([`crate::hnswrs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchPath {
    /// Grove's engine with this strategy.
    Grove(Strategy),
    /// The hnsw_rs crate.
    HnswRs,
}

impl BenchPath {
    /// `auto`, `exact`, `hnsw`, `acorn` or `hnsw_rs`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "auto" => BenchPath::Grove(Strategy::Auto),
            "exact" => BenchPath::Grove(Strategy::Exact),
            "hnsw" => BenchPath::Grove(Strategy::Hnsw),
            "acorn" => BenchPath::Grove(Strategy::Acorn),
            "hnsw_rs" => BenchPath::HnswRs,
            _ => return None,
        })
    }

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            BenchPath::Grove(s) => strategy_name(s),
            BenchPath::HnswRs => "hnsw_rs",
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

/// Groups outcomes by bucket of their query's selectivity; `system` names what answered (see
/// [`strategy_name`] for Grove), `k` how many neighbours were asked for.
pub fn aggregate(w: &Workload, outcomes: &[Outcome], system: &'static str, ef: usize, k: usize) -> Vec<Cell> {
    let mut by: BTreeMap<usize, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        by.entry(bucket(w.selectivity[o.query])).or_default().push(o);
    }
    by.into_iter()
        .map(|(b, os)| {
            let mut lat: Vec<Duration> = os.iter().map(|o| o.latency).collect();
            lat.sort_unstable();
            let total: f64 = lat.iter().map(Duration::as_secs_f64).sum();
            let cpu: f64 = os.iter().map(|o| o.cpu.as_secs_f64()).sum();
            let rs: Vec<f64> = os.iter().filter_map(|o| o.recall).collect();
            let rs100: Vec<f64> = os.iter().filter_map(|o| o.recall100).collect();
            let mut sel: Vec<f64> = os.iter().map(|o| w.selectivity[o.query]).collect();
            sel.sort_by(f64::total_cmp);
            let mut paths = BTreeMap::new();
            os.iter().for_each(|o| *paths.entry(o.path).or_insert(0) += 1);
            Cell {
                workload: w.name.clone(),
                bucket: BUCKETS[b],
                selectivity: sel[sel.len() / 2],
                strategy: system,
                ef,
                k,
                nq: os.len(),
                recall: if rs.is_empty() { 1.0 } else { rs.iter().sum::<f64>() / rs.len() as f64 },
                recall100: (k >= 100).then(|| {
                    if rs100.is_empty() {
                        1.0
                    } else {
                        rs100.iter().sum::<f64>() / rs100.len() as f64
                    }
                }),
                qps: if total > 0.0 { os.len() as f64 / total } else { 0.0 },
                qps_cpu: if cpu > 0.0 { os.len() as f64 / cpu } else { 0.0 },
                p50_us: percentile(&lat, 0.5),
                p99_us: percentile(&lat, 0.99),
                paths,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_uses_the_shorter_truth() {
        assert_eq!(recall_at(&[1, 2, 3], &[3, 9], 10), Some(0.5));
        assert_eq!(recall_at(&[1, 2], &[], 10), None);
        let got: Vec<u32> = (0..20).collect();
        let truth: Vec<u32> = (10..30).collect();
        assert_eq!(recall_at(&got, &truth, 10), Some(0.0), "only the first k of each count");
    }
}
