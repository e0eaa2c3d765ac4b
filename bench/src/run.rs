//! One benchmark run over a dataset: workloads, ground truth, Grove builds, the measured grid.

use std::path::PathBuf;
use std::time::Instant;

use grove_index::{GraphParams, IndexConfig, PlannerConfig, Strategy};

use crate::data::Dataset;
use crate::engine::{BuildReport, Grove};
use crate::hnswrs::HnswRsBaseline;
use crate::measure::{self, BenchPath, Budget, Cell, Searcher};
use crate::payload::PayloadIndex;
use crate::truth;
use crate::workload::{self, Kind, Workload};

/// Ground-truth depth (FANNS ships 100 neighbours; recall@100 needs them).
pub const TRUTH_K: usize = 100;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// ef values swept for graph paths.
    pub efs: Vec<usize>,
    /// Paths measured (Grove's strategies and the hnsw_rs baseline).
    pub strategies: Vec<BenchPath>,
    /// Neighbours asked for: each value is a sweep of its own (10 gives recall@10; 100 gives
    /// recall@100, and recall@10 from its first 10 answers).
    pub ks: Vec<usize>,
    /// Time budget per measurement.
    pub budget: Budget,
    /// HNSW `M`.
    pub m: usize,
    /// HNSW `ef_construction`.
    pub ef_construction: usize,
    /// Graph build threads.
    pub build_threads: usize,
    /// Build an ACORN-gamma graph with this gamma (else ACORN runs as ACORN-1).
    pub acorn_gamma: Option<usize>,
    /// `M_beta` of the gamma graph.
    pub m_beta: usize,
    /// Workload seed.
    pub seed: u64,
    /// Generated workloads.
    pub kinds: Vec<Kind>,
    /// Ground-truth cache directory.
    pub cache_dir: PathBuf,
    /// The index's default ef (the one `auto` is judged at).
    pub default_ef: usize,
    /// Quantized codes for Grove's graph walks and scans (rescored exactly), or none.
    pub quantization: Option<grove_index::quant::QuantConfig>,
}

/// A workload as reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkloadInfo {
    /// Name.
    pub name: String,
    /// What its filters are.
    pub description: String,
    /// Queries.
    pub nq: usize,
    /// Smallest, median and largest selectivity.
    pub selectivity: [f64; 3],
    /// Where the ground truth came from.
    pub truth: &'static str,
}

/// Everything a run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Dataset name.
    pub dataset: String,
    /// Base points.
    pub n: usize,
    /// Dimension.
    pub dim: usize,
    /// Builds (Grove HNSW, and the hnsw_rs baseline when measured).
    pub builds: Vec<BuildReport>,
    /// Workloads.
    pub workloads: Vec<WorkloadInfo>,
    /// The measured grid.
    pub cells: Vec<Cell>,
    /// Seconds spent on ground truth (0 when cached).
    pub truth_s: f64,
    /// The peers' builds and how each filters (their cells are in `cells`).
    pub peers: Vec<crate::pyrun::PeerInfo>,
    /// Peer engine families that failed, with the error.
    pub peers_failed: Vec<(String, String)>,
}

/// The index configuration of a run.
pub fn index_config(dim: usize, ds: &Dataset, o: &Options) -> IndexConfig {
    let hnsw = GraphParams { m: o.m, ef_construction: o.ef_construction, ..GraphParams::default() };
    IndexConfig {
        dim,
        metric: ds.metric,
        hnsw,
        acorn: o.acorn_gamma.map(|gamma| GraphParams { gamma, m_beta: o.m_beta, ..hnsw }),
        ef_search: o.default_ef,
        planner: PlannerConfig::default(),
        build_threads: o.build_threads,
        quantization: o.quantization,
    }
}

fn summary(w: &Workload) -> [f64; 3] {
    let mut s = w.selectivity.clone();
    s.sort_by(f64::total_cmp);
    match (s.first(), s.last()) {
        (Some(a), Some(b)) => [*a, s[s.len() / 2], *b],
        _ => [0.0; 3],
    }
}

/// A workload, its ground truth and where the truth came from.
pub type WithTruth = (Workload, Vec<Vec<u32>>, &'static str);

/// Workloads with their ground truth (shipped ones first, then the generated `o.kinds`) and the
/// seconds spent computing ground truth.
pub fn workloads(ds: &Dataset, o: &Options, log: &mut (dyn FnMut(String) + Send)) -> (Vec<WithTruth>, f64) {
    let index = PayloadIndex::build(&ds.records);
    let mut out = Vec::new();
    for p in &ds.provided {
        let w = Workload::from_filters(
            &format!("fanns_{}", p.name),
            "shipped with the dataset",
            p.filters.clone(),
            &index,
        );
        out.push((w, p.truth.clone(), "shipped"));
    }
    let key = truth::dataset_key(ds);
    let mut truth_s = 0.0;
    for &kind in &o.kinds {
        let w = workload::generate(kind, &ds.records, &index, ds.queries.len(), o.seed);
        let t = Instant::now();
        let (gt, cached) = truth::get_or_compute(ds, key, &w, TRUTH_K, &o.cache_dir);
        if !cached {
            truth_s += t.elapsed().as_secs_f64();
        }
        let [lo, med, hi] = summary(&w);
        log(format!(
            "[workload] {:<12} selectivity min {:.5} median {:.5} max {:.5}; ground truth {}",
            w.name,
            lo,
            med,
            hi,
            if cached { "cached" } else { "computed" }
        ));
        out.push((w, gt, if cached { "brute force (cached)" } else { "brute force" }));
    }
    (out, truth_s)
}

/// Builds Grove and measures every (workload, strategy, ef), single-threaded.
pub fn run(ds: &Dataset, o: &Options, log: &mut (dyn FnMut(String) + Send)) -> anyhow::Result<Report> {
    let (wls, truth_s) = workloads(ds, o, log);
    run_on(ds, o, &wls, truth_s, log)
}

/// [`run`] on workloads already made (so that peers can be measured on the very same ones).
pub fn run_on(
    ds: &Dataset,
    o: &Options,
    wls: &[WithTruth],
    truth_s: f64,
    log: &mut (dyn FnMut(String) + Send),
) -> anyhow::Result<Report> {
    let dim = ds.base.dim;
    let mut builds = Vec::new();
    let (grove, b) = Grove::build("grove hnsw", &ds.base, index_config(dim, ds, o))?;
    log(format!(
        "[build] {}: {} points, insert {:.1}s + build {:.1}s = {:.0} points/s ({} threads); RSS {:.0} -> {:.0} MiB, peak {:.0} MiB",
        b.label, b.points, b.insert_s, b.build_s, b.points_per_s, b.threads, b.rss_before_mb, b.rss_after_mb, b.peak_rss_mb
    ));
    builds.push(b);
    let baseline = if o.strategies.contains(&BenchPath::HnswRs) {
        let (g, b) = HnswRsBaseline::build(&ds.base, &index_config(dim, ds, o).hnsw, ds.metric)?;
        log(format!("[build] {}: build {:.1}s", b.label, b.build_s));
        builds.push(b);
        Some(g)
    } else {
        None
    };
    // One thread for everything measured: a rayon pool of one, so no path can fan out.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut cells = Vec::new();
    pool.install(|| -> anyhow::Result<()> {
        for (w, gt, _) in wls {
            for &p in &o.strategies {
                // The baseline ignores the strategy argument.
                let (searcher, s): (&dyn Searcher, Strategy) = match (p, &baseline) {
                    (BenchPath::Grove(s), _) => (&grove, s),
                    (BenchPath::HnswRs, Some(g)) => (g, Strategy::Hnsw),
                    (BenchPath::HnswRs, None) => continue,
                };
                let efs: &[usize] = if p == BenchPath::Grove(Strategy::Exact) { &[0] } else { &o.efs };
                for &k in &o.ks {
                    for &ef in efs {
                        let outs = measure::run(searcher, &ds.queries, w, gt, k, ef, s, o.budget)?;
                        let got = measure::aggregate(w, &outs, p.name(), ef, k);
                        for c in &got {
                            log(format!(
                                "[{}] {:<12} {:>6} k={} ef={:<4} nq={:<5} recall={:.4} qps={:.0} p50={:.0}us p99={:.0}us {:?}",
                                c.strategy, c.workload, c.bucket, k, c.ef, c.nq, c.recall, c.qps, c.p50_us, c.p99_us, c.paths
                            ));
                        }
                        cells.extend(got);
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(Report {
        dataset: ds.name.clone(),
        n: ds.base.len(),
        dim,
        builds,
        workloads: wls
            .iter()
            .map(|(w, _, t)| WorkloadInfo {
                name: w.name.clone(),
                description: w.description.clone(),
                nq: w.filters.len(),
                selectivity: summary(w),
                truth: t,
            })
            .collect(),
        cells,
        truth_s,
        peers: Vec::new(),
        peers_failed: Vec::new(),
    })
}
