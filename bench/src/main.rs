//! `grove-bench`: Grove's filtered-search benchmark. See the crate docs (`src/lib.rs`) and
//! `grove-bench --help`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use grove_bench::data::{self, Dataset};
use grove_bench::engine::Grove;
use grove_bench::measure::{BenchPath, Budget};
use grove_bench::report::{self, Machine};
use grove_bench::run::{self, Options};
use grove_bench::workload::Kind;
use grove_bench::{peers, plots, pyrun};
use grove_index::{Metric, Strategy};

#[derive(Parser, Debug)]
#[command(
    name = "grove-bench",
    about = "Grove's filtered ANN benchmark (arXiv / FANNS workloads, peers side by side)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The arXiv set (../shared/data/arxiv): build Grove, sweep paths and ef per workload.
    Arxiv {
        /// The data directory.
        #[arg(long, default_value = "../shared/data/arxiv")]
        data: PathBuf,
        /// Vector width of the f16 files.
        #[arg(long, default_value_t = data::arxiv::DIM)]
        dim: usize,
        #[command(flatten)]
        run: RunArgs,
    },
    /// A directory in the FANNS layout (database_vectors.fvecs, ..., ground_truth_em.ivecs).
    Fanns {
        /// The directory.
        #[arg(long)]
        dir: PathBuf,
        /// Metric the vectors are compared by.
        #[arg(long, default_value = "cosine")]
        metric: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Any .fvecs/.npy vectors with a JSONL attribute file (line i = row i).
    Files {
        /// Base vectors (.fvecs or .npy).
        #[arg(long)]
        vectors: PathBuf,
        /// JSONL attributes (optionally .gz).
        #[arg(long)]
        attrs: PathBuf,
        /// Query vectors; without, --holdout base rows become queries.
        #[arg(long)]
        queries: Option<PathBuf>,
        /// Queries held out when --queries is absent.
        #[arg(long, default_value_t = 1000)]
        holdout: usize,
        /// Metric.
        #[arg(long, default_value = "cosine")]
        metric: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Writes a small synthetic dataset in the FANNS layout (with exact ground truth).
    FannsGen {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Base points.
        #[arg(long, default_value_t = 5000)]
        n: usize,
        /// Queries.
        #[arg(long, default_value_t = 200)]
        nq: usize,
        /// Dimension.
        #[arg(long, default_value_t = 64)]
        dim: usize,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Matryoshka prefix search (arXiv with and without PCA, and a synthetic Matryoshka-like
    /// set) against full-dimension exact scan and HNSW; see bench/MATRYOSHKA.md.
    Matryoshka(MatryoshkaArgs),
    /// The workloads through a running `grove serve` over gRPC and/or REST: ingest with a
    /// progress bar, wait for the graph, recall@10, single-client QPS, p50/p99.
    Server(grove_bench::remote::ServerArgs),
    /// Load generator against a running `grove serve`: closed-loop clients at several
    /// concurrencies over REST and gRPC, gRPC QueryBatch vs in-process, readers under upserts.
    Load(grove_bench::remote::LoadArgs),
    /// Grove on a peerbench workdir's vectors, labels and ground truth, next to peerbench's
    /// results.
    Peerlabels {
        /// The workdir peerbench printed (holds X.npy, Q.npy, labels.npy, gt_*.npy).
        #[arg(long)]
        workdir: PathBuf,
        /// peerbench's --out directory (run-*.json).
        #[arg(long, default_value = "/tmp/peerbench-results")]
        results: PathBuf,
        /// Measurements per point; the best QPS is kept (peerbench uses 2).
        #[arg(long, default_value_t = 2)]
        reps: usize,
        /// Write the comparison into this RESULTS.md's peers section.
        #[arg(long)]
        write: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// LIMIT free-embedding capacity: critical-n per d next to the paper's fit and the 2k+1 bound.
    LimitCapacity(grove_bench::limit::CapacityArgs),
    /// Writes a LIMIT-style dataset: text JSONL to embed, and bag-of-attributes vector sets.
    LimitData(grove_bench::limit::DataArgs),
    /// The top-k subset diagnostic (hit / index miss / encoder gap / geometry gap) on a dataset.
    LimitDiagnose(grove_bench::limit::DiagnoseArgs),
}

#[derive(Args, Debug, Clone)]
struct MatryoshkaArgs {
    /// The arXiv data directory.
    #[arg(long, default_value = "../shared/data/arxiv")]
    data: PathBuf,
    /// Use only the first N arXiv points.
    #[arg(long)]
    n: Option<usize>,
    /// Queries per set.
    #[arg(long, default_value_t = 200)]
    nq: usize,
    /// Prefixes declared on the arXiv set.
    #[arg(long, default_value = "32,64,128", value_delimiter = ',')]
    dims: Vec<usize>,
    /// Synthetic set: points (0 skips it).
    #[arg(long, default_value_t = 50_000)]
    synthetic_n: usize,
    /// Synthetic set: dimension.
    #[arg(long, default_value_t = 768)]
    synthetic_dim: usize,
    /// Prefixes declared on the synthetic set.
    #[arg(long, default_value = "64,128,256", value_delimiter = ',')]
    synthetic_dims: Vec<usize>,
    /// Skip the arXiv set.
    #[arg(long)]
    skip_arxiv: bool,
    /// Oversampling factors swept.
    #[arg(long, default_value = "1,2,4,8,16,32", value_delimiter = ',')]
    oversamples: Vec<usize>,
    /// ef swept for full-dimension HNSW / the planner.
    #[arg(long, default_value = "16,32,64,128,256", value_delimiter = ',')]
    efs: Vec<usize>,
    /// Do not build prefix graphs.
    #[arg(long)]
    no_prefix_graph: bool,
    /// HNSW M (full and prefix graphs).
    #[arg(long, default_value_t = 16)]
    m: usize,
    /// HNSW ef_construction.
    #[arg(long, default_value_t = 100)]
    ef_construction: usize,
    /// Graph build threads.
    #[arg(long, default_value_t = 2)]
    build_threads: usize,
    /// Vectors the PCA is fitted on.
    #[arg(long, default_value_t = 20_000)]
    pca_sample: usize,
    /// Seed (filters, PCA sample, synthetic data).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write the report to this markdown file.
    #[arg(long)]
    write: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// Small slice, few efs, short budgets: finishes in under 2 minutes.
    #[arg(long)]
    quick: bool,
    /// Use only the first N base points.
    #[arg(long)]
    n: Option<usize>,
    /// Use only the first NQ queries.
    #[arg(long)]
    nq: Option<usize>,
    /// ef values swept (comma-separated).
    #[arg(long, default_value = "16,32,64,128,256", value_delimiter = ',')]
    efs: Vec<usize>,
    /// Strategies measured: auto, exact, hnsw, acorn, hnsw_rs.
    #[arg(long, default_value = "auto,exact,hnsw,acorn,hnsw_rs", value_delimiter = ',')]
    paths: Vec<String>,
    /// Generated workloads (see `Kind`), comma-separated, or "all".
    #[arg(long, default_value = "all", value_delimiter = ',')]
    workloads: Vec<String>,
    /// Seconds of search time per measurement (after at least --min-queries).
    #[arg(long, default_value_t = 1.0)]
    budget: f64,
    /// Queries measured at least (or all)...
    #[arg(long, default_value_t = 100)]
    min_queries: usize,
    /// ...unless this many seconds of search time are spent.
    #[arg(long, default_value_t = 10.0)]
    max_budget: f64,
    /// HNSW M.
    #[arg(long, default_value_t = 16)]
    m: usize,
    /// HNSW ef_construction.
    #[arg(long, default_value_t = 100)]
    ef_construction: usize,
    /// Graph build threads.
    #[arg(long, default_value_t = 2)]
    build_threads: usize,
    /// Also build an ACORN-gamma graph with this gamma.
    #[arg(long)]
    acorn_gamma: Option<usize>,
    /// M_beta of the ACORN-gamma graph.
    #[arg(long, default_value_t = 32)]
    m_beta: usize,
    /// The index's default ef (auto is judged at it).
    #[arg(long, default_value_t = 64)]
    default_ef: usize,
    /// Workload seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Ground-truth cache directory.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/cache"))]
    cache: PathBuf,
    /// Write the report here (markdown). Full runs of `arxiv` default to bench/RESULTS.md.
    #[arg(long)]
    results: Option<PathBuf>,
    /// Write every measurement as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// A peerbench run-*.json whose build figures go next to Grove's.
    #[arg(long)]
    peer_run: Option<PathBuf>,
    /// Peers measured on the same workloads (all, none, or a comma-separated list of
    /// faiss-hnsw, faiss-flat, faiss-hnsw-sq8, hnswlib, usearch, qdrant-edge, qdrant-edge+acorn,
    /// scann (unfiltered workloads only); "faiss" and "qdrant" name all of theirs). Needs the venv of bench/peers/setup.sh.
    #[arg(long, default_value = "none", value_delimiter = ',')]
    peers: Vec<String>,
    /// The peers' Python (bench/peers/setup.sh VENV makes VENV/bin/python).
    #[arg(long, env = "GROVE_PEER_PYTHON", default_value = "/tmp/venv-grove-peers/bin/python")]
    peer_python: PathBuf,
    /// Scratch directory for the data handed to the peers.
    #[arg(long, default_value = "/tmp/grove-bench-peers")]
    peer_workdir: PathBuf,
    /// Also sweep with k=100 and report recall@100.
    #[arg(long)]
    recall100: bool,
    /// Write PNG figures into this directory. Full runs of `arxiv` default to bench/plots.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// Write every measurement as CSV here. Full runs of `arxiv` default to bench/plots/results.csv.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Quantized codes for Grove's graph walks and large scans, rescored with the full
    /// vectors: none, int8, binary, or rabitq4 / rabitq2 / rabitq1 (rotated multi-bit codes).
    #[arg(long, default_value = "none")]
    quantization: String,
}

fn parse_path(s: &str) -> anyhow::Result<BenchPath> {
    BenchPath::parse(s).with_context(|| format!("unknown path {s:?} (auto, exact, hnsw, acorn, hnsw_rs)"))
}

fn parse_metric(s: &str) -> anyhow::Result<Metric> {
    Ok(match s {
        "cosine" => Metric::Cosine,
        "dot" => Metric::Dot,
        "l2" => Metric::L2,
        _ => bail!("unknown metric {s:?} (cosine, dot, l2)"),
    })
}

impl RunArgs {
    /// Applies --quick: a 10k slice, 200 queries, ef 16/64, 0.3 s budgets, no hnsw_rs (its
    /// build alone would take most of the two minutes).
    fn resolve(mut self) -> Self {
        if self.quick {
            self.n = Some(self.n.unwrap_or(10_000));
            self.nq = Some(self.nq.unwrap_or(200));
            self.efs = vec![16, 64];
            self.budget = 0.3;
            self.min_queries = 50;
            self.max_budget = 2.0;
            self.paths.retain(|p| p != "hnsw_rs");
        }
        self
    }

    fn options(&self) -> anyhow::Result<Options> {
        let kinds = if self.workloads.iter().any(|w| w == "all") {
            Kind::ALL.to_vec()
        } else {
            self.workloads
                .iter()
                .filter(|w| !w.is_empty() && *w != "none_generated")
                .map(|w| Kind::parse(w).with_context(|| format!("unknown workload {w:?}")))
                .collect::<anyhow::Result<_>>()?
        };
        Ok(Options {
            efs: self.efs.clone(),
            strategies: self.paths.iter().map(|p| parse_path(p)).collect::<anyhow::Result<_>>()?,
            ks: if self.recall100 { vec![10, 100] } else { vec![10] },
            budget: Budget {
                time: Duration::from_secs_f64(self.budget),
                min_queries: self.min_queries,
                max_time: Duration::from_secs_f64(self.max_budget.max(self.budget)),
            },
            m: self.m,
            ef_construction: self.ef_construction,
            build_threads: self.build_threads,
            acorn_gamma: self.acorn_gamma,
            m_beta: self.m_beta,
            seed: self.seed,
            kinds,
            cache_dir: self.cache.clone(),
            default_ef: self.default_ef,
            quantization: match self.quantization.as_str() {
                "none" => None,
                "int8" => Some(grove_index::quant::QuantConfig::Scalar { quantile: None, always_ram: true }),
                "binary" => Some(grove_index::quant::QuantConfig::Binary { always_ram: true }),
                "rabitq4" | "rabitq2" | "rabitq1" => Some(grove_index::quant::QuantConfig::RaBitQ {
                    bits: match self.quantization.as_str() {
                        "rabitq4" => grove_index::quant::RabitqBits::Four,
                        "rabitq2" => grove_index::quant::RabitqBits::Two,
                        _ => grove_index::quant::RabitqBits::One,
                    },
                    always_ram: true,
                }),
                other => anyhow::bail!(
                    "--quantization: expected none, int8, binary, rabitq4, rabitq2 or rabitq1, got {other:?}"
                ),
            },
        })
    }
}

fn log(line: String) {
    eprintln!("{line}");
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut v = vec!["grove-bench".to_string()];
    v.extend(args.into_iter().skip(1));
    v.join(" ")
}

fn bench_run(mut ds: Dataset, a: RunArgs, default_results: Option<&Path>) -> anyhow::Result<()> {
    let a = a.resolve();
    ds.slice(a.n.unwrap_or(usize::MAX), a.nq.unwrap_or(usize::MAX));
    let o = a.options()?;
    let machine_before = Machine::now();
    log(format!(
        "[data] {}: {} points x {} dims, {} queries",
        ds.name,
        ds.base.len(),
        ds.base.dim,
        ds.queries.len()
    ));
    let (wls, truth_s) = run::workloads(&ds, &o, &mut log);
    let mut r = run::run_on(&ds, &o, &wls, truth_s, &mut log)?;
    let peer_systems = pyrun::parse_systems(&a.peers)?;
    if !peer_systems.is_empty() {
        let p = pyrun::PeerOptions {
            python: a.peer_python.clone(),
            script: Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/run_peer.py"),
            workdir: a.peer_workdir.clone(),
            systems: peer_systems,
        };
        let pr = pyrun::run(&ds, &wls, &o, &o.ks, &p, &mut log)?;
        r.cells.extend(pr.cells);
        r.peers = pr.info;
        r.peers_failed = pr.failed;
    }
    let machine_after = Machine::now();
    let names: Vec<&str> = o.strategies.iter().map(|p| p.name()).collect();
    let summary = report::summary_table(&r.cells, &names, o.default_ef, 0.95, false);
    let summary_cpu = report::summary_table(&r.cells, &names, o.default_ef, 0.95, true);
    let builds = report::builds_table(&r);
    let peers_run = !r.peers.is_empty() || !r.peers_failed.is_empty();
    let targets = [0.90, 0.95, 0.99];
    // Headline figures use QPS of CPU time: on this shared machine the load moves between the
    // systems' measurements, and wall-clock QPS with it (both are in the JSON/CSV).
    let bucket_tab = report::bucket_table(&r.cells, &targets, true);
    let bucket_wall = report::bucket_table(&r.cells, &targets, false);
    let cmp95 = report::comparison_table(&r.cells, 0.95, false, true);
    println!("\n{builds}\n{summary}");
    if peers_run {
        let pb = report::peer_builds_table(&r);
        println!("\nBuilds, Grove and peers:\n{pb}");
        println!("Per bucket, every workload's queries pooled: best QPS of CPU time at recall@10 >= target\n{bucket_tab}");
        println!("Per workload and bucket: best QPS of CPU time at recall@10 >= 0.95\n{cmp95}");
    }
    let full = !a.quick && default_results.is_some();
    let plots_dir =
        a.plots.clone().or_else(|| full.then(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("plots")));
    let csv_path =
        a.csv.clone().or_else(|| plots_dir.as_ref().filter(|_| full).map(|d| d.join("results.csv")));
    let mut figures = Vec::new();
    if let Some(dir) = &plots_dir {
        match plots::draw(&r.cells, dir, &format!("{} ({} points)", r.dataset, r.n), true) {
            Ok(f) => {
                for p in &f {
                    log(format!("[plot] {}", p.display()));
                }
                figures = f;
            }
            Err(e) => log(format!("[plot] {e:#}")),
        }
    }
    if let Some(p) = &csv_path {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        std::fs::write(p, report::csv(&r.cells)).with_context(|| format!("writing {}", p.display()))?;
        log(format!("[csv] {}", p.display()));
    }
    let results =
        a.results.clone().or_else(|| (!a.quick).then(|| default_results.map(Path::to_path_buf)).flatten());
    if let Some(path) = results {
        let mut md = String::new();
        md.push_str("# grove-bench results\n\n");
        md.push_str(&format!(
            "Command (from the workspace root, release build):\n\n```\n{}\n```\n\n",
            command_line()
        ));
        md.push_str(&format!(
            "Machine: {} logical CPUs ({}), load average {} at the start and {} at the end (the machine is shared; \
             QPS is single-thread wall-clock time of search calls). Date: {}.\n\n",
            machine_before.nproc, machine_before.cpu, machine_before.loadavg, machine_after.loadavg, machine_before.date
        ));
        md.push_str(&format!(
            "Dataset: {} ({} points x {} dims, {} queries, metric {:?}). Index: HNSW M={}, ef_construction={}, {} build \
             threads, ACORN {}; default ef {}. Ground truth: exact brute force, k={}, {:.1}s (0 = cached).\n\n",
            r.dataset,
            r.n,
            r.dim,
            ds.queries.len(),
            ds.metric,
            o.m,
            o.ef_construction,
            o.build_threads,
            o.acorn_gamma.map_or("as ACORN-1 on the HNSW graph".to_string(), |g| format!("gamma={g}, M_beta={}", o.m_beta)),
            o.default_ef,
            run::TRUTH_K,
            r.truth_s
        ));
        md.push_str("## Build\n\n");
        md.push_str(&builds);
        if peers_run {
            md.push_str(
                "\nGrove and the peers (each peer family built in its own Python process; peak RSS is that \
                 process's VmHWM after its build, so it includes the Python interpreter and the data it loaded):\n\n",
            );
            md.push_str(&report::peer_builds_table(&r));
        }
        if let Some(p) = &a.peer_run {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let pr: peers::PeerRun =
                serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
            md.push_str(&format!("\nPeers' builds on the same vectors ({}):\n\n", p.display()));
            if let Some(b) = r.builds.first() {
                md.push_str(&peers::builds_table(b, &pr));
            }
        }
        md.push_str("\n## Workloads\n\n");
        md.push_str(&report::workloads_table(&r));
        md.push_str(&format!(
            "\n## Per selectivity bucket: best single-thread QPS at recall@10 >= 0.95 (ef swept over {:?})\n\n",
            o.efs
        ));
        md.push_str(&summary);
        md.push_str(
            "\nThe same in QPS of CPU time (queries / CPU-seconds of the measuring thread; the machine's other \
             jobs lower wall-clock QPS, not this):\n\n",
        );
        md.push_str(&summary_cpu);
        if peers_run {
            md.push_str(&peers_markdown(&r, &bucket_tab, &bucket_wall, &figures, o.ks.contains(&100)));
        }
        md.push_str("\n## Every measurement\n\n");
        md.push_str(&report::full_table(&r.cells));
        // A peerbench section from an older run is kept only when this run measured no peers.
        let peers_section = if peers_run { None } else { report::existing_peers(&path) };
        std::fs::write(&path, &md).with_context(|| format!("writing {}", path.display()))?;
        if let Some(s) = peers_section {
            report::splice_peers(&path, &s)?;
        }
        log(format!("[report] written {}", path.display()));
    }
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&r)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// The RESULTS.md part on the peers: the per-bucket table, Grove / best peer per workload and
/// bucket at each recall target, recall@100 when swept, and the figures.
fn peers_markdown(
    r: &run::Report,
    bucket_tab: &str,
    bucket_wall: &str,
    figures: &[PathBuf],
    at100: bool,
) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut md = String::from(
        "\n## Grove and the peers, per selectivity bucket\n\n\
         Same queries, same per-query allowed sets, same ground truth; recall is scored by grove-bench for every \
         system. Grove is called in-process from Rust; the peers through their Python bindings, one call per \
         query, one thread (the binding's per-call overhead is part of their figures). Best single-thread QPS \
         at recall@10 >= 0.90 / 0.95 / 0.99, ef swept; the queries of every workload that fall in a bucket are \
         pooled (QPS = queries / total search time). QPS of CPU time (the measuring process's CPU seconds, so \
         the machine's other jobs do not move it); wall-clock QPS below and in the CSV/JSON:\n\n",
    );
    md.push_str(bucket_tab);
    md.push_str("\nThe same in wall-clock QPS:\n\n");
    md.push_str(bucket_wall);
    for t in [0.95, 0.90, 0.99] {
        md.push_str(&format!(
            "\n### Per workload and bucket, recall@10 >= {t}\n\nQPS of CPU time (ef); `never (x)` = the highest \
             recall reached was x.\n\n"
        ));
        md.push_str(&report::comparison_table(&r.cells, t, false, true));
    }
    if at100 {
        md.push_str("\n### recall@100 (k=100 sweep), recall@100 >= 0.95\n\n");
        md.push_str(&report::comparison_table(&r.cells, 0.95, true, true));
    }
    if !figures.is_empty() {
        md.push_str("\n### Figures\n\n");
        for f in figures {
            let rel = f.strip_prefix(root).unwrap_or(f);
            md.push_str(&format!("- [{}]({})\n", rel.display(), rel.display()));
        }
    }
    md
}

fn peerlabels(
    workdir: &Path,
    results: &Path,
    reps: usize,
    write: Option<&Path>,
    a: RunArgs,
) -> anyhow::Result<()> {
    let a = a.resolve();
    let o = a.options()?;
    let d = peers::load(workdir)?;
    let run = peers::latest_run(results, workdir)?;
    log(format!(
        "[data] {}: {} points x {} dims, {} queries, selectivities {:?}; peers from {}",
        workdir.display(),
        d.x.len(),
        d.x.dim,
        d.q.len(),
        d.truth.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        run.path.display()
    ));
    let cfg = grove_index::IndexConfig {
        dim: d.x.dim,
        metric: Metric::Cosine,
        hnsw: grove_index::GraphParams { m: o.m, ef_construction: o.ef_construction, ..Default::default() },
        acorn: o.acorn_gamma.map(|gamma| grove_index::GraphParams {
            m: o.m,
            ef_construction: o.ef_construction,
            gamma,
            m_beta: o.m_beta,
            ..Default::default()
        }),
        ef_search: o.default_ef,
        planner: Default::default(),
        build_threads: o.build_threads,
        quantization: o.quantization,
    };
    let (g, b) = Grove::build("grove hnsw", &d.x, cfg)?;
    log(format!(
        "[build] {} points, insert {:.1}s + build {:.1}s, RSS {:.0} -> {:.0} MiB, peak {:.0} MiB",
        b.points, b.insert_s, b.build_s, b.rss_before_mb, b.rss_after_mb, b.peak_rss_mb
    ));
    let strategies: Vec<Strategy> = o
        .strategies
        .iter()
        .filter_map(|p| match p {
            BenchPath::Grove(s) => Some(*s),
            BenchPath::HnswRs => None,
        })
        .collect();
    let machine = Machine::now();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let cells =
        pool.install(|| peers::measure_grove(&g, &d, &strategies, &o.efs, o.budget, reps, &mut log))?;
    let cmp = peers::comparison_table(&cells, &run, 0.95, false);
    let cmp_cpu = peers::comparison_table(&cells, &run, 0.95, true);
    let builds = peers::builds_table(&b, &run);
    println!("\n{builds}\nwall-clock QPS:\n{cmp}\nCPU-time QPS:\n{cmp_cpu}");
    if let Some(path) = write {
        let args = &run.args;
        let section = format!(
            "## Peers on the same vectors, labels and ground truth (peerbench)\n\n\
             peerbench ({}; N={}, Q={}, k=10, M={}, efC={}, label mode {}, build threads {}, 1 search thread; results \
             file {}), then Grove on its workdir:\n\n```\n{}\n```\n\n\
             Machine: {} logical CPUs, load average {} when Grove's measurements started; {}. Both sides keep the best \
             of {} timed passes per point (peerbench: --reps, interleaved; Grove: after peerbench, same machine). \
             peerbench drives engines from Python (one call per query for hnswlib's filter callback and Qdrant), \
             Grove is called in-process from Rust: compare orders of magnitude, not single percents.\n\n\
             ### Build (M=16, ef_construction=100)\n\n{builds}\n\
             ### Best single-thread QPS at recall@10 >= 0.95, wall clock\n\n{cmp}\n\
             ### The same in QPS of CPU time (queries / CPU-seconds of the measuring process: what the \
             machine's other jobs do not change)\n\n{cmp_cpu}",
            args.get("data").and_then(|v| v.as_str()).unwrap_or("synthetic"),
            d.x.len(),
            d.q.len(),
            args.get("m").map_or("?".into(), ToString::to_string),
            args.get("efc").map_or("?".into(), ToString::to_string),
            args.get("label_mode").and_then(|v| v.as_str()).unwrap_or("?"),
            args.get("build_threads").map_or("?".into(), ToString::to_string),
            run.path.display(),
            command_line(),
            machine.nproc,
            machine.loadavg,
            machine.date,
            reps,
        );
        report::splice_peers(path, &section)?;
        log(format!("[report] peers section written to {}", path.display()));
    }
    Ok(())
}

fn matryoshka(a: MatryoshkaArgs) -> anyhow::Result<()> {
    use grove_bench::matryoshka as mb;
    let o = mb::Options {
        dims: a.dims.clone(),
        oversamples: a.oversamples.clone(),
        efs: a.efs.clone(),
        prefix_graph: !a.no_prefix_graph,
        m: a.m,
        ef_construction: a.ef_construction,
        build_threads: a.build_threads,
        pca_sample: a.pca_sample,
        seed: a.seed,
        target: 0.95,
    };
    let mut sets = Vec::new();
    if !a.skip_arxiv {
        let mut ds = data::arxiv::load(&a.data, data::arxiv::DIM)?;
        ds.slice(a.n.unwrap_or(usize::MAX), a.nq);
        sets.push(mb::SetSpec {
            label: format!("arxiv MiniLM {}", ds.base.dim),
            base: ds.base,
            queries: ds.queries,
            pca: true,
            dims: a.dims.clone(),
        });
    }
    if a.synthetic_n > 0 {
        let (base, queries) = mb::synthetic(a.synthetic_n, a.nq, a.synthetic_dim, a.seed);
        sets.push(mb::SetSpec {
            label: format!("synthetic {}", a.synthetic_dim),
            base,
            queries,
            pca: false,
            dims: a.synthetic_dims.clone(),
        });
    }
    let before = Machine::now();
    let (builds, cells) = mb::run(sets, &o, &mut log)?;
    let after = Machine::now();
    let md = mb::report(&builds, &cells, &o);
    let head = format!(
        "Command (workspace root; {}):\n\n```\n{}\n```\n\nMachine: {} logical CPUs ({}), load average {} at the \
         start and {} at the end; {}. Single-thread search, one query at a time; QPS per CPU-second of the measuring \
         thread (wall-clock QPS in the last table).\n\n",
        if cfg!(debug_assertions) {
            "dev-profile binary, debug assertions on (see the build note above)"
        } else {
            "release build"
        },
        command_line(),
        before.nproc,
        before.cpu,
        before.loadavg,
        after.loadavg,
        before.date
    );
    println!("\n{head}{md}");
    if let Some(p) = &a.write {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let marker = "<!-- results -->";
        let intro = text.split(marker).next().unwrap_or("").trim_end().to_string();
        std::fs::write(p, format!("{intro}\n\n{marker}\n\n{head}{md}"))
            .with_context(|| format!("writing {}", p.display()))?;
        log(format!("[report] written {}", p.display()));
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let results_md = Path::new(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md");
    match cli.cmd {
        Cmd::LimitCapacity(a) => grove_bench::limit::capacity(&a),
        Cmd::LimitData(a) => grove_bench::limit::limit_data(&a),
        Cmd::LimitDiagnose(a) => grove_bench::limit::limit_diagnose(&a),
        Cmd::Arxiv { data, dim, run } => {
            let ds = data::arxiv::load(&data, dim)?;
            bench_run(ds, run, Some(&results_md))
        }
        Cmd::Fanns { dir, metric, run } => {
            let ds = data::fanns::load(&dir, parse_metric(&metric)?)?;
            bench_run(ds, run, None)
        }
        Cmd::Files { vectors, attrs, queries, holdout, metric, run } => {
            let ds = data::pair::load(
                &vectors,
                &attrs,
                queries.as_deref(),
                holdout,
                run.seed,
                parse_metric(&metric)?,
            )?;
            bench_run(ds, run, None)
        }
        Cmd::FannsGen { out, n, nq, dim, seed } => {
            data::fanns::write_synthetic(&out, n, nq, dim, seed)?;
            log(format!("[fanns-gen] wrote {n} points, {nq} queries, dim {dim} to {}", out.display()));
            Ok(())
        }
        Cmd::Matryoshka(a) => matryoshka(a),
        Cmd::Server(a) => grove_bench::remote::server(a),
        Cmd::Load(a) => grove_bench::remote::load(a),
        Cmd::Peerlabels { workdir, results, reps, write, run } => {
            peerlabels(&workdir, &results, reps, write.as_deref(), run)
        }
    }
}
