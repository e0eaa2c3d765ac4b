//! The `server` and `load` subcommands: arguments, the order of the phases, and the markdown
//! report (`bench/LOAD.md` by default when `--write` is given without a path).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::data::{self, Dataset};
use crate::load;
use crate::report::Machine;
use crate::server_mode::{self, IngestOptions, IngestReport, MeasureOptions, Target, Transport};
use crate::workload::Kind;

/// Where the server is, which data, and how to ingest it (shared by `server` and `load`).
#[derive(Args, Debug, Clone)]
pub struct RemoteArgs {
    /// REST base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:6333")]
    pub rest: String,
    /// gRPC endpoint of the running server.
    #[arg(long, default_value = "http://127.0.0.1:6334")]
    pub grpc: String,
    /// API key (sent as `api-key` on both transports).
    #[arg(long, env = "GROVE_API_KEY")]
    pub api_key: Option<String>,
    /// Collection the bench creates (replaced unless --reuse finds it complete).
    #[arg(long, default_value = "bench_arxiv")]
    pub collection: String,
    /// Keep an existing collection that already holds the dataset's point count.
    #[arg(long)]
    pub reuse: bool,
    /// Transport of the ingest: grpc or rest.
    #[arg(long, default_value = "grpc")]
    pub ingest_via: String,
    /// Points per upsert request while ingesting.
    #[arg(long, default_value_t = 256)]
    pub ingest_batch: usize,
    /// HNSW M of the collection.
    #[arg(long, default_value_t = 16)]
    pub m: usize,
    /// HNSW ef_construction of the collection.
    #[arg(long, default_value_t = 100)]
    pub ef_construction: usize,
    /// No progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// The arXiv data directory.
    #[arg(long, default_value = "../shared/data/arxiv")]
    pub data: PathBuf,
    /// Vector width of the f16 files.
    #[arg(long, default_value_t = data::arxiv::DIM)]
    pub dim: usize,
    /// Use only the first N base points.
    #[arg(long)]
    pub n: Option<usize>,
    /// Use only the first NQ queries.
    #[arg(long)]
    pub nq: Option<usize>,
    /// Workload seed (the same as `grove-bench arxiv --seed` gives the same filters and truth).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Ground-truth cache directory (shared with `grove-bench arxiv`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/cache"))]
    pub cache: PathBuf,
    /// Workloads (see `grove-bench arxiv --help`), comma-separated, or "all".
    #[arg(long, default_value = "all", value_delimiter = ',')]
    pub workloads: Vec<String>,
    /// Write the report into this markdown file (its own section; other sections are kept).
    #[arg(long)]
    pub write: Option<PathBuf>,
}

impl RemoteArgs {
    fn target(&self) -> Target {
        Target { rest: self.rest.clone(), grpc: self.grpc.clone(), api_key: self.api_key.clone() }
    }

    fn kinds(&self, filtered_only: bool) -> anyhow::Result<Vec<Kind>> {
        let mut kinds: Vec<Kind> = if self.workloads.iter().any(|w| w == "all") {
            Kind::ALL.to_vec()
        } else {
            self.workloads
                .iter()
                .map(|w| Kind::parse(w).with_context(|| format!("unknown workload {w:?}")))
                .collect::<anyhow::Result<_>>()?
        };
        if filtered_only {
            kinds.retain(|k| *k != Kind::None);
        }
        anyhow::ensure!(!kinds.is_empty(), "no workload selected");
        Ok(kinds)
    }

    fn ingest_options(&self) -> anyhow::Result<IngestOptions> {
        let via = match Transport::parse_list(&self.ingest_via)?.as_slice() {
            [one] => *one,
            _ => anyhow::bail!("--ingest-via takes grpc or rest"),
        };
        Ok(IngestOptions {
            collection: self.collection.clone(),
            via,
            batch: self.ingest_batch,
            m: self.m,
            ef_construction: self.ef_construction,
            reuse: self.reuse,
            progress: !self.no_progress,
            index_timeout: Duration::from_secs(3600),
        })
    }

    fn dataset(&self) -> anyhow::Result<Dataset> {
        let mut ds = data::arxiv::load(&self.data, self.dim)?;
        ds.slice(self.n.unwrap_or(usize::MAX), self.nq.unwrap_or(usize::MAX));
        Ok(ds)
    }
}

/// `grove-bench server`.
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Transports measured: grpc, rest or both.
    #[arg(long, default_value = "both")]
    pub transport: String,
    /// ef values (0: the collection's default), comma-separated.
    #[arg(long, default_value = "0", value_delimiter = ',')]
    pub efs: Vec<usize>,
    /// Queries per workload at most.
    #[arg(long, default_value_t = 1000)]
    pub max_queries: usize,
    /// Seconds per workload (after --min-queries).
    #[arg(long, default_value_t = 3.0)]
    pub budget: f64,
    /// Queries per workload at least (or all).
    #[arg(long, default_value_t = 100)]
    pub min_queries: usize,
}

/// `grove-bench load`.
#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Client counts of the closed-loop runs.
    #[arg(long, default_value = "1,8,32", value_delimiter = ',')]
    pub concurrency: Vec<usize>,
    /// Transports of the closed-loop runs: grpc, rest or both.
    #[arg(long, default_value = "both")]
    pub transport: String,
    /// Measured seconds per closed-loop run (and of the upsert phase).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Unmeasured seconds before each window.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Queries taken from each filtered workload into the mix.
    #[arg(long, default_value_t = 100)]
    pub per_workload: usize,
    /// ef of every query (0: the collection's default).
    #[arg(long, default_value_t = 0)]
    pub ef: usize,
    /// Queries per gRPC QueryBatch request.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// Alternating rounds of the batch vs in-process comparison (0: skip it).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// In-process search threads: set it to the server's search pool size (its
    /// `service.search_threads`; 0 there means one per core, which is the default here).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The server's pid: its CPU time is then read from /proc around each gRPC batch round.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Readers per transport during the upsert phase (0: skip it).
    #[arg(long, default_value_t = 8)]
    pub upsert_readers: usize,
    /// Points per upsert request of the writers.
    #[arg(long, default_value_t = 64)]
    pub upsert_batch: usize,
}

fn log(line: String) {
    eprintln!("{line}");
}

fn command_line() -> String {
    let mut v = vec!["grove-bench".to_string()];
    v.extend(std::env::args().skip(1));
    v.join(" ")
}

fn header(
    what: &str,
    m0: &Machine,
    m1: &Machine,
    ds: &Dataset,
    ing: &IngestReport,
    a: &RemoteArgs,
) -> String {
    format!(
        "## {what}\n\nCommand ({} build, server started separately as `grove serve` on free ports with its own \
         data dir):\n\n```\n{}\n```\n\nMachine: {} logical CPUs ({}), shared with other jobs; load average {} at the \
         start, {} at the end. Date: {}.\n\nDataset: {} ({} points x {} dims, {} queries, metric {:?}), collection \
         `{}` (HNSW M={}, ef_construction={}, payload indexes on number_of_sub_categories and date (integer), \
         main_categories, sub_categories and authors (keyword)). Ingest over {}: {}.\n\n",
        if cfg!(debug_assertions) { "dev-profile (debug assertions on)" } else { "release" },
        command_line(),
        m0.nproc,
        m0.cpu,
        m0.loadavg,
        m1.loadavg,
        m0.date,
        ds.name,
        ds.base.len(),
        ds.base.dim,
        ds.queries.len(),
        ds.metric,
        a.collection,
        a.m,
        a.ef_construction,
        ing.via.name(),
        if ing.reused {
            "reused an existing complete collection".to_string()
        } else {
            format!(
                "{} points in {:.1}s ({:.0} points/s, {} per request, each durable before the answer), graph \
                 complete {:.1}s after the last upsert",
                ing.points,
                ing.upsert_s,
                ing.points as f64 / ing.upsert_s.max(1e-9),
                a.ingest_batch,
                ing.index_wait_s
            )
        }
    )
}

/// Runs `grove-bench server`: ingest, then every workload single-client over each transport.
pub fn server(a: ServerArgs) -> anyhow::Result<()> {
    let m0 = Machine::now();
    let ds = a.remote.dataset()?;
    log(format!(
        "[data] {}: {} points x {} dims, {} queries",
        ds.name,
        ds.base.len(),
        ds.base.dim,
        ds.queries.len()
    ));
    let t = a.remote.target();
    let mut lg = log;
    let wls = server_mode::workloads(&ds, &a.remote.kinds(false)?, a.remote.seed, &a.remote.cache, &mut lg);
    let rt = tokio::runtime::Runtime::new()?;
    let ing = rt.block_on(server_mode::ingest(&t, &ds, &a.remote.ingest_options()?, &mut lg))?;
    let mo = MeasureOptions {
        collection: a.remote.collection.clone(),
        transports: Transport::parse_list(&a.transport)?,
        efs: a.efs.clone(),
        k: 10,
        max_queries: a.max_queries,
        budget: Duration::from_secs_f64(a.budget),
        min_queries: a.min_queries,
    };
    let cells = rt.block_on(server_mode::measure(&t, &ds, &wls, &mo, &mut lg))?;
    let m1 = Machine::now();
    let table = server_mode::cells_table(&cells, mo.k);
    println!("\nload average {} -> {}\n\n{table}", m0.loadavg, m1.loadavg);
    if let Some(path) = &a.remote.write {
        let mut md =
            header("Server mode: the workloads through `grove serve`", &m0, &m1, &ds, &ing, &a.remote);
        md.push_str(
            "One client, one query at a time, each timed from sending to the decoded answer (no payload returned); \
             recall@10 against the cached exact ground truth (the same as `grove-bench arxiv`). Per workload and \
             selectivity bucket:\n\n",
        );
        md.push_str(&table);
        server_mode::splice_section(path, "server", &md)?;
        log(format!("[report] written {}", path.display()));
    }
    Ok(())
}

/// Runs `grove-bench load`: ingest, closed loops, batch vs in-process, readers under upserts.
pub fn load(a: LoadArgs) -> anyhow::Result<()> {
    let m0 = Machine::now();
    let ds = Arc::new(a.remote.dataset()?);
    log(format!(
        "[data] {}: {} points x {} dims, {} queries",
        ds.name,
        ds.base.len(),
        ds.base.dim,
        ds.queries.len()
    ));
    let t = a.remote.target();
    let mut lg = log;
    let wls = server_mode::workloads(&ds, &a.remote.kinds(true)?, a.remote.seed, &a.remote.cache, &mut lg);
    let ef = (a.ef > 0).then_some(a.ef);
    let items = Arc::new(load::mix(&ds, &wls, &a.remote.collection, a.per_workload, 10, ef)?);
    log(format!("[mix] {} filtered queries from {} workloads", items.len(), wls.len()));
    let rt = tokio::runtime::Runtime::new()?;
    let ing = rt.block_on(server_mode::ingest(&t, &ds, &a.remote.ingest_options()?, &mut lg))?;
    let (warmup, window) = (Duration::from_secs_f64(a.warmup), Duration::from_secs_f64(a.seconds));

    let mut cells = Vec::new();
    for tr in Transport::parse_list(&a.transport)? {
        for &c in &a.concurrency {
            let cell =
                rt.block_on(load::closed_loop(&t, tr, c, &a.remote.collection, &items, warmup, window))?;
            log(format!(
                "[load] {} x{:<3} {:>8.1} QPS, p50 {:.2} ms, p99 {:.2} ms, {} ok, {} errors, recall {:.3}{}",
                cell.label,
                c,
                cell.qps,
                cell.p50_ms,
                cell.p99_ms,
                cell.ok,
                cell.errors,
                cell.recall,
                cell.first_error.as_deref().map(|e| format!(" (first error: {e})")).unwrap_or_default()
            ));
            cells.push(cell);
        }
    }

    let threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut rounds = Vec::new();
    if a.rounds > 0 {
        log(format!("[in-process] building the same collection in this process ({} points)", ds.base.len()));
        let t0 = std::time::Instant::now();
        let s = load::build_in_process(
            &ds,
            &a.remote.collection,
            a.remote.m,
            a.remote.ef_construction,
            a.remote.ingest_batch,
        )?;
        log(format!("[in-process] built in {:.1}s", t0.elapsed().as_secs_f64()));
        rounds = load::batch_vs_in_process(
            &rt,
            &t,
            &s,
            &a.remote.collection,
            &items,
            a.batch_size,
            a.rounds,
            threads,
            a.server_pid,
            &mut lg,
        )?;
    }

    let upserts = if a.upsert_readers > 0 {
        let r = rt.block_on(load::under_upserts(
            &t,
            &ds,
            a.upsert_readers,
            a.upsert_batch,
            &a.remote.collection,
            &items,
            warmup,
            window,
        ))?;
        for c in r.readers.iter().chain(&r.writers) {
            log(format!(
                "[upserts] {}: {} ok, {} errors, {:.1}/s, p50 {:.2} ms, p99 {:.2} ms{}",
                c.label,
                c.ok,
                c.errors,
                c.qps,
                c.p50_ms,
                c.p99_ms,
                c.first_error.as_deref().map(|e| format!(" (first error: {e})")).unwrap_or_default()
            ));
        }
        Some(r)
    } else {
        None
    };
    let m1 = Machine::now();

    let mut md = header("Load: concurrent clients on loopback", &m0, &m1, &ds, &ing, &a.remote);
    md.push_str(&format!(
        "Query mix: {} filtered queries, query i of each of the workloads {} in turn (k=10, ef {}, no payload \
         returned). Each client has its own connection and sends its next query when the previous answer arrived; \
         {:.0} s measured after {:.0} s of warm-up per row. The load generator runs on the same machine as the server \
         and competes with it for the cores.\n\n### Closed loop\n\n",
        items.len(),
        wls.iter().map(|(w, _)| w.name.as_str()).collect::<Vec<_>>().join(", "),
        ef.map_or("= collection default".to_string(), |e| e.to_string()),
        a.seconds,
        a.warmup
    ));
    md.push_str(&load::load_table(&cells));
    if !rounds.is_empty() {
        md.push_str(&format!(
            "\n### gRPC QueryBatch vs in-process\n\nThe whole mix as QueryBatch requests of {} queries (answers \
             streamed), against the same queries through grove-storage in this process (in-memory KV, same \
             collection config, payload indexes and upsert batches) on a rayon pool of {threads} threads; rounds \
             alternate. The ratio is total in-process time / total gRPC time.\n\n",
            a.batch_size
        ));
        md.push_str(&load::batch_table(&rounds, threads));
    }
    if let Some(r) = &upserts {
        md.push_str(&format!(
            "\n### Under concurrent upserts\n\n{} readers per transport while one gRPC and one REST writer overwrite \
             points (batches of {}, `wait=true`, disjoint ids, each point rewritten with its own vector and \
             payload so the ground truth still holds):\n\n",
            a.upsert_readers, a.upsert_batch
        ));
        md.push_str(&load::upsert_table(r));
    }
    println!("\nload average {} -> {}\n\n{md}", m0.loadavg, m1.loadavg);
    if let Some(path) = &a.remote.write {
        server_mode::splice_section(path, "load", &md)?;
        log(format!("[report] written {}", path.display()));
    }
    let errors: u64 = cells.iter().map(|c| c.errors).sum::<u64>()
        + upserts.as_ref().map_or(0, |r| r.readers.iter().chain(&r.writers).map(|c| c.errors).sum());
    anyhow::ensure!(errors == 0, "{errors} requests failed (see the tables)");
    if let Some(r) = &upserts {
        anyhow::ensure!(
            r.count_after == ds.base.len() as u64,
            "the collection holds {} points after the upserts, expected {}",
            r.count_after,
            ds.base.len()
        );
    }
    Ok(())
}
