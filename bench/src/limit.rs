//! LIMIT-style commands (Weller et al. 2025, arXiv 2508.21038): the free-embedding capacity probe
//! (`limit-capacity`), the dataset generator (`limit-data`) and the top-k subset diagnostic on a
//! dataset (`limit-diagnose`). The computation lives in `grove_index::diagnostics`; this module
//! parses arguments, loads and writes files, and prints figures with their labels.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use grove_index::diagnostics::bounds::{exact_sufficient_dimension, weller_fit_critical_n};
use grove_index::diagnostics::capacity::{
    critical_n, probe_qrels, CapacityConfig, CriticalNConfig, CriticalNReport, QrelPattern,
};
use grove_index::diagnostics::limit_data::{bag_of_attributes, generate, AttributeEmbedding, LimitConfig};
use grove_index::diagnostics::subset::{diagnose, Allowed, Label, SubsetConfig, SubsetQuery, SubsetReport};
use grove_index::diagnostics::Budget;
use grove_index::{CollectionIndex, IndexConfig, Metric, SearchParams, Strategy, VectorStore};

use crate::data::{self, Vectors};

/// Parses a qrel pattern name (`all`, `random`, `cycle`, `disjoint`, `dense`); `queries` sizes
/// the random and dense patterns.
pub fn parse_pattern(name: &str, queries: usize) -> anyhow::Result<QrelPattern> {
    Ok(match name {
        "all" | "all_subsets" => QrelPattern::AllSubsets,
        "random" => QrelPattern::Random { queries },
        "cycle" => QrelPattern::Cycle,
        "disjoint" => QrelPattern::Disjoint,
        "dense" => QrelPattern::Dense { queries },
        other => bail!("--pattern: unknown pattern `{other}` (all, random, cycle, disjoint, dense)"),
    })
}

/// The load average line printed next to timings (the machine is shared).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// `limit-capacity` arguments.
#[derive(Args, Debug, Clone)]
pub struct CapacityArgs {
    /// Dimensions to probe.
    #[arg(long, value_delimiter = ',', default_value = "4,8,12,16")]
    pub dims: Vec<usize>,
    /// Relevant documents per query.
    #[arg(long, default_value_t = 2)]
    pub k: usize,
    /// Qrel pattern: `all` searches critical-n (every k-subset of n documents); any other
    /// pattern (random, cycle, disjoint, dense) is probed once per d at `--n` documents.
    #[arg(long, default_value = "all")]
    pub pattern: String,
    /// Documents for a single probe (patterns other than `all`).
    #[arg(long)]
    pub n: Option<usize>,
    /// Queries of the random and dense patterns.
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Wall-clock budget per d, seconds (a probe cut by it is reported "cut", never as a failure).
    #[arg(long, default_value_t = 600)]
    pub budget: u64,
    /// Optimisation attempts (seeds) before a probe counts as not realised.
    #[arg(long, default_value_t = 3)]
    pub restarts: usize,
    /// Step cap per attempt.
    #[arg(long, default_value_t = 5000)]
    pub max_steps: usize,
    /// Plateau patience per attempt, steps.
    #[arg(long, default_value_t = 500)]
    pub patience: usize,
    /// Base seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Threads of the optimiser (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write every report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn probes_line(r: &CriticalNReport) -> String {
    r.probes
        .iter()
        .map(|p| {
            let steps: usize = p.attempts.iter().map(|a| a.steps).sum();
            // "cut": the budget ended the probe, so its failure proves nothing.
            let verdict = if p.all_realised {
                "ok"
            } else if p.budget_exhausted {
                "cut"
            } else {
                "fail"
            };
            if p.all_realised {
                format!("{}:{verdict}@{steps}", p.n)
            } else {
                format!("{}:{verdict}({}/{})", p.n, p.best_realised, p.queries)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `limit-capacity`.
pub fn capacity(a: &CapacityArgs) -> anyhow::Result<()> {
    let pattern = parse_pattern(&a.pattern, a.queries)?;
    if pattern != QrelPattern::AllSubsets && a.n.is_none() {
        bail!("--n: pattern `{}` is probed at a fixed number of documents; give --n", a.pattern);
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads).build()?;
    let base = CapacityConfig {
        restarts: a.restarts,
        max_steps: a.max_steps,
        patience: a.patience,
        seed: a.seed,
        time_budget: Some(Duration::from_secs(a.budget)),
        progress_every: 0,
        ..CapacityConfig::new(1, a.k)
    };
    println!(
        "free-embedding capacity probe: k = {}, pattern {}, InfoNCE tau {}, Adam lr {}, max_steps {}, patience {}, \
         restarts {}, budget {} s per d, {} threads, seed {}, load average {}",
        a.k,
        a.pattern,
        base.temperature,
        base.learning_rate,
        base.max_steps,
        base.patience,
        base.restarts,
        a.budget,
        pool.current_num_threads(),
        a.seed,
        loadavg()
    );
    println!(
        "reference values: [empirical fit] Weller et al. 2508.21038, n(d) = -10.53 + 4.03d + 0.052d^2 + 0.0037d^3, \
         free embeddings, k = 2 only; [exact bound] Wang et al. 2601.20844: every subset of <= k items is returnable \
         for any n once d >= 2k = {} (inner product) or 2k+1 = {} (cosine; these probes use unit vectors)",
        exact_sufficient_dimension(a.k, false),
        exact_sufficient_dimension(a.k, true)
    );
    let mut json = Vec::new();
    if pattern == QrelPattern::AllSubsets {
        println!(
            "{:>4} {:>11} {:>13} {:>9} {:>16} {:>20} {:>9} {:>9}  probes (n:ok@steps | n:fail(best/qrels) | n:cut)",
            "d", "critical-n", "first-failure", "complete", "paper fit [fit]", "2k+1 bound [exact]", "wall", "cpu"
        );
        for &d in &a.dims {
            let cfg = CriticalNConfig {
                probe: CapacityConfig { dim: d, ..base.clone() },
                start_n: 2 * d.max(1),
                max_n: 4096,
                growth: 1.5,
            };
            let cpu0 = crate::measure::process_cpu_time();
            let t = Instant::now();
            let r = pool.install(|| critical_n(&cfg, &mut |_| {}))?;
            let wall = t.elapsed().as_secs_f64();
            let cpu = crate::measure::process_cpu_time().saturating_sub(cpu0).as_secs_f64();
            let fit =
                if a.k == 2 { format!("{:.1}", weller_fit_critical_n(d)) } else { "- (k=2 only)".into() };
            println!(
                "{:>4} {:>11} {:>13} {:>9} {:>16} {:>20} {:>8.1}s {:>8.1}s  {}",
                d,
                r.critical_n.map_or("-".into(), |c| c.to_string()),
                r.first_failure.map_or("-".into(), |c| c.to_string()),
                r.complete,
                fit,
                format!("d >= {}: any n", r.exact_sufficient_dim),
                wall,
                cpu,
                probes_line(&r)
            );
            std::io::stdout().flush().ok();
            json.push(serde_json::json!({
                "d": d, "k": a.k, "critical_n": r.critical_n, "first_failure": r.first_failure,
                "complete": r.complete, "paper_fit_k2": weller_fit_critical_n(d),
                "exact_sufficient_dim_cosine": r.exact_sufficient_dim, "wall_s": wall, "cpu_s": cpu,
                "probes": r.probes.iter().map(|p| serde_json::json!({
                    "n": p.n, "qrels": p.queries, "all_realised": p.all_realised,
                    "best_realised": p.best_realised, "budget_exhausted": p.budget_exhausted,
                    "steps": p.attempts.iter().map(|x| x.steps).sum::<usize>(),
                    "seconds": p.elapsed.as_secs_f64(),
                })).collect::<Vec<_>>(),
            }));
        }
    } else {
        let n = a.n.unwrap_or_default();
        let qrels = pattern.qrels(n, a.k, a.seed)?;
        println!("{:>4} {:>6} {:>7} {:>13} {:>9} {:>9}", "d", "n", "qrels", "realised", "wall", "cpu");
        for &d in &a.dims {
            let cfg = CapacityConfig { dim: d, ..base.clone() };
            let cpu0 = crate::measure::process_cpu_time();
            let t = Instant::now();
            let r =
                pool.install(|| probe_qrels(n, &qrels, &cfg, &Budget::new(cfg.time_budget), &mut |_| {}))?;
            let wall = t.elapsed().as_secs_f64();
            let cpu = crate::measure::process_cpu_time().saturating_sub(cpu0).as_secs_f64();
            let verdict = if r.all_realised {
                "all".to_string()
            } else {
                format!("{}/{}{}", r.best_realised, r.queries, if r.budget_exhausted { " (cut)" } else { "" })
            };
            println!("{:>4} {:>6} {:>7} {:>13} {:>8.1}s {:>8.1}s", d, n, r.queries, verdict, wall, cpu);
            json.push(serde_json::json!({
                "d": d, "n": n, "pattern": a.pattern, "qrels": r.queries, "all_realised": r.all_realised,
                "best_realised": r.best_realised, "budget_exhausted": r.budget_exhausted, "wall_s": wall, "cpu_s": cpu,
            }));
        }
    }
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

/// `limit-data` arguments.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Documents in all (LIMIT: 50,000; LIMIT-small: 46).
    #[arg(long, default_value_t = 50_000)]
    pub docs: usize,
    /// Core documents (the only relevant ones; LIMIT: 46).
    #[arg(long, default_value_t = 46)]
    pub core: usize,
    /// Relevant documents per query.
    #[arg(long, default_value_t = 2)]
    pub k: usize,
    /// Qrel pattern over the core documents: all, random, cycle, disjoint, dense (LIMIT: dense).
    #[arg(long, default_value = "dense")]
    pub pattern: String,
    /// Queries of the random and dense patterns.
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Vector sets to write: `onehot` (needs docs x attributes floats: LIMIT-small only) and/or
    /// random attribute vectors at these dimensions.
    #[arg(long, value_delimiter = ',', default_value = "16,64,256")]
    pub dims: Vec<usize>,
    /// Also write the one-hot set (recall 1 by construction).
    #[arg(long)]
    pub onehot: bool,
}

fn write_lines(path: &Path, lines: &[String]) -> anyhow::Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    for l in lines {
        writeln!(w, "{l}")?;
    }
    w.flush()?;
    Ok(())
}

/// Exact recall@|R| (mean over queries) of a vector set, by brute force.
fn exact_recall(docs: &VectorStore, queries: &[Vec<f32>], relevant: &[Vec<u32>]) -> f64 {
    use rayon::prelude::*;
    let sum: f64 = queries
        .par_iter()
        .zip(relevant)
        .map(|(q, r)| {
            let top = grove_index::flat::search(
                docs,
                Metric::Cosine,
                q,
                r.len(),
                grove_index::flat::Allowed::All { dead: None },
                None,
            );
            top.hits.iter().filter(|h| r.contains(&h.id)).count() as f64 / r.len() as f64
        })
        .sum();
    sum / queries.len().max(1) as f64
}

/// Runs `limit-data`.
pub fn limit_data(a: &DataArgs) -> anyhow::Result<()> {
    let cfg = LimitConfig {
        num_docs: a.docs,
        num_core_docs: a.core,
        pattern: parse_pattern(&a.pattern, a.queries)?,
        k: a.k,
        seed: a.seed,
        ..LimitConfig::default()
    };
    let ds = generate(&cfg)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    write_lines(&a.out.join("corpus.jsonl"), &ds.corpus_jsonl())?;
    write_lines(&a.out.join("queries.jsonl"), &ds.queries_jsonl())?;
    write_lines(&a.out.join("qrels.jsonl"), &ds.qrels_jsonl())?;
    // Vector-set qrels by row: {"qid": i, "relevant": [row, ...]} (row = line of corpus.jsonl).
    let rows: Vec<String> = ds
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| serde_json::json!({"qid": i, "relevant": q.relevant}).to_string())
        .collect();
    write_lines(&a.out.join("qrels_rows.jsonl"), &rows)?;
    println!(
        "{}: {} documents ({} core), {} queries, k = {}, pattern {}, {} attributes; corpus.jsonl, queries.jsonl, \
         qrels.jsonl (BEIR field names), qrels_rows.jsonl (row ids)",
        a.out.display(),
        ds.docs.len(),
        a.core,
        ds.queries.len(),
        a.k,
        a.pattern,
        ds.attributes.len()
    );
    let mut sets: Vec<(String, AttributeEmbedding)> = Vec::new();
    if a.onehot {
        sets.push(("onehot".into(), AttributeEmbedding::OneHot));
    }
    for &d in &a.dims {
        sets.push((format!("random-d{d}"), AttributeEmbedding::Random { dim: d }));
    }
    let mut manifest = Vec::new();
    for (name, emb) in sets {
        if emb == AttributeEmbedding::OneHot && ds.docs.len() * ds.attributes.len() > 200_000_000 {
            bail!(
                "--onehot: {} docs x {} attributes is too large; use it with LIMIT-small (--docs 46)",
                ds.docs.len(),
                ds.attributes.len()
            );
        }
        let vs = bag_of_attributes(&ds, emb, a.seed)?;
        let dim = vs.docs.dim();
        let docs = Vectors::new(dim, vs.docs.as_flat().to_vec());
        let queries = Vectors::new(dim, vs.queries.iter().flatten().copied().collect());
        data::npy::write_matrix(&a.out.join(format!("{name}-docs.npy")), &docs)?;
        data::npy::write_matrix(&a.out.join(format!("{name}-queries.npy")), &queries)?;
        let measured = exact_recall(&vs.docs, &vs.queries, &vs.relevant);
        let (kind, value) = match vs.expected_recall {
            Some(e) => ("by construction", e),
            None => ("measured by exact scan", measured),
        };
        println!(
            "  {name}: {dim} dims, recall@{} = {value:.4} ({kind}; exact scan here: {measured:.4})",
            a.k
        );
        manifest.push(serde_json::json!({
            "set": name, "dim": dim, "docs": format!("{name}-docs.npy"), "queries": format!("{name}-queries.npy"),
            "qrels": "qrels_rows.jsonl", "metric": "cosine", "recall_at_k": value, "recall_kind": kind, "k": a.k,
        }));
    }
    std::fs::write(a.out.join("vector_sets.json"), serde_json::to_string_pretty(&manifest)?)?;
    Ok(())
}

/// `limit-diagnose` arguments.
#[derive(Args, Debug, Clone)]
pub struct DiagnoseArgs {
    /// `circle:N` (N unit vectors evenly on a circle, d = 2, every pair a query: only adjacent
    /// pairs are returnable), `limit:D` (LIMIT-small with random attribute vectors in D dims), or
    /// `files` (--base, --queries, --qrels).
    #[arg(long, default_value = "files")]
    pub case: String,
    /// Base vectors: an arXiv-style directory (vectors.f16), or .f16 (needs --dim), .npy, .fvecs.
    #[arg(long)]
    pub base: Option<PathBuf>,
    /// Query vectors (.f16 with --dim, .npy, .fvecs).
    #[arg(long)]
    pub queries: Option<PathBuf>,
    /// Qrels: JSONL lines `{"qid": i, "relevant": [row, ...]}` (qid = query row).
    #[arg(long)]
    pub qrels: Option<PathBuf>,
    /// Row width of .f16 files.
    #[arg(long, default_value_t = data::arxiv::DIM)]
    pub dim: usize,
    /// recall@k for these k.
    #[arg(long, value_delimiter = ',', default_value = "2,10,100")]
    pub ks: Vec<usize>,
    /// Diagnose a seeded sample of this many queries.
    #[arg(long)]
    pub sample: Option<usize>,
    /// Competitors in the first hull check.
    #[arg(long, default_value_t = 300)]
    pub competitors: usize,
    /// Time budget, seconds (queries not finished are `undetermined`).
    #[arg(long, default_value_t = 600)]
    pub budget: u64,
    /// Build an HNSW graph and search through it (recall through the index, index loss).
    #[arg(long)]
    pub index: bool,
    /// ef of the index searches.
    #[arg(long, default_value_t = 64)]
    pub ef: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print this many per-query lines.
    #[arg(long, default_value_t = 10)]
    pub show: usize,
}

fn read_any(path: &Path, dim: usize) -> anyhow::Result<Vectors> {
    if path.is_dir() {
        return Ok(data::f16::read_f16(&path.join("vectors.f16"), dim)?);
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("f16") => Ok(data::f16::read_f16(path, dim)?),
        _ => Ok(data::pair::read_vectors(path)?),
    }
}

fn read_qrels(path: &Path, queries: usize) -> anyhow::Result<Vec<(usize, Vec<u32>)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))?;
        let qid = v["qid"]
            .as_u64()
            .with_context(|| format!("{}:{}: `qid` must be a row number", path.display(), i + 1))?
            as usize;
        if qid >= queries {
            bail!("{}:{}: qid {qid} but only {queries} query rows", path.display(), i + 1);
        }
        let rel: Vec<u32> = v["relevant"]
            .as_array()
            .with_context(|| format!("{}:{}: `relevant` must be a list of rows", path.display(), i + 1))?
            .iter()
            .map(|x| x.as_u64().map(|x| x as u32))
            .collect::<Option<_>>()
            .with_context(|| format!("{}:{}: `relevant` holds non-integers", path.display(), i + 1))?;
        out.push((qid, rel));
    }
    Ok(out)
}

/// The circle case: `n` unit vectors at angles 2πi/n; every pair is a query whose vector is the
/// pair's mid-direction. A pair {i, j} is some query's top-2 iff i and j are adjacent: any unit
/// query's top-2 are the two points angularly nearest to it, which are adjacent.
pub fn circle_case(n: usize) -> (VectorStore, Vec<Vec<f32>>, Vec<Vec<u32>>) {
    let angle = |i: usize| std::f64::consts::TAU * i as f64 / n as f64;
    let mut docs = VectorStore::with_capacity(2, n);
    for i in 0..n {
        docs.push(&[angle(i).cos() as f32, angle(i).sin() as f32]);
    }
    let mut queries = Vec::new();
    let mut relevant = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            // Mid-direction of the shorter arc (for an antipodal pair: either perpendicular).
            let (a, b) = (angle(i), angle(j));
            let mid = if b - a <= std::f64::consts::PI {
                (a + b) / 2.0
            } else {
                (a + b) / 2.0 + std::f64::consts::PI
            };
            queries.push(vec![mid.cos() as f32, mid.sin() as f32]);
            relevant.push(vec![i as u32, j as u32]);
        }
    }
    (docs, queries, relevant)
}

fn print_report(r: &SubsetReport, show: usize, names: &dyn Fn(usize) -> String) {
    let ks: Vec<String> = r.ks.iter().map(|k| format!("@{k}")).collect();
    let fmt = |v: &[f64]| v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(" ");
    println!(
        "queries given {}, diagnosed {}, elapsed {:.2}s, budget exhausted {}",
        r.total_queries,
        r.queries.len(),
        r.elapsed.as_secs_f64(),
        r.budget_exhausted
    );
    println!("mean recall {} exact scan : {}", ks.join(" "), fmt(&r.mean_recall_exact));
    if let (Some(ix), Some(loss)) = (&r.mean_recall_index, &r.index_loss) {
        println!("mean recall {} via index  : {}", ks.join(" "), fmt(ix));
        println!("index loss (exact - index)  : {}", fmt(loss));
    }
    let exact_top = r.queries.iter().filter(|q| q.exact_top_is_relevant == Some(true)).count();
    println!("exact top-|R| == R: {exact_top} of {}", r.queries.len());
    println!(
        "labels: {}",
        Label::ALL.iter().map(|l| format!("{} {}", l.as_str(), r.count(*l))).collect::<Vec<_>>().join(", ")
    );
    println!("fragile below margin {:.3e} (2 x f32 storage error bound)", r.quantization_bound);
    let margins: Vec<f64> = r
        .queries
        .iter()
        .filter(|q| q.label == Label::EncoderGap || q.label == Label::Hit)
        .filter_map(|q| q.margin)
        .collect();
    if !margins.is_empty() {
        let mut m = margins.clone();
        m.sort_by(f64::total_cmp);
        println!(
            "proved margins of realisable missed/hit sets: min {:.4}, median {:.4}, max {:.4} ({} sets)",
            m[0],
            m[m.len() / 2],
            m[m.len() - 1],
            m.len()
        );
    }
    for q in r.queries.iter().take(show) {
        println!(
            "  {:<28} |R| {} exact {:<24} index {:<24} label {:<13} margin {:<10} {}",
            names(q.query),
            q.relevant,
            q.recall_exact.as_ref().map_or("-".into(), |v| fmt(v)),
            q.recall_index.as_ref().map_or("-".into(), |v| fmt(v)),
            q.label.as_str(),
            q.margin.map_or("-".into(), |m| format!("{m:.4}")),
            q.reason.as_deref().unwrap_or("")
        );
    }
}

/// Runs `limit-diagnose`.
pub fn limit_diagnose(a: &DiagnoseArgs) -> anyhow::Result<()> {
    let (docs, queries, relevant, label): (VectorStore, Vec<Vec<f32>>, Vec<Vec<u32>>, String) =
        if let Some(n) = a.case.strip_prefix("circle:") {
            let n: usize = n.parse().context("--case circle:N needs a number")?;
            if n < 3 {
                bail!("--case circle:N needs N >= 3");
            }
            let (d, q, r) = circle_case(n);
            (d, q, r, format!("circle of {n} unit vectors (d = 2), all {} pairs", n * (n - 1) / 2))
        } else if let Some(d) = a.case.strip_prefix("limit:") {
            let dim: usize = d.parse().context("--case limit:D needs a number")?;
            let ds = generate(&LimitConfig { num_docs: 46, ..LimitConfig::default() })?;
            let vs = bag_of_attributes(&ds, AttributeEmbedding::Random { dim }, a.seed)?;
            (
                vs.docs,
                vs.queries,
                vs.relevant,
                format!("LIMIT-small (46 docs, 1000 dense pairs), random attribute vectors, d = {dim}"),
            )
        } else if a.case == "files" {
            let (Some(bp), Some(qp), Some(rp)) = (&a.base, &a.queries, &a.qrels) else {
                bail!("--case files needs --base, --queries and --qrels");
            };
            let mut base = read_any(bp, a.dim)?;
            let mut q = read_any(qp, a.dim)?;
            if base.dim != q.dim {
                bail!("--queries: {} dims, base has {}", q.dim, base.dim);
            }
            base.prepare(Metric::Cosine);
            q.prepare(Metric::Cosine);
            let qrels = read_qrels(rp, q.len())?;
            let qv = qrels.iter().map(|(i, _)| q.row(*i).to_vec()).collect();
            let rel = qrels.into_iter().map(|(_, r)| r).collect();
            (
                VectorStore::from_flat(base.dim, base.data),
                qv,
                rel,
                format!("{} with {}", bp.display(), rp.display()),
            )
        } else {
            bail!("--case: `{}` is not circle:N, limit:D or files", a.case);
        };
    for (i, r) in relevant.iter().enumerate() {
        if let Some(bad) = r.iter().find(|&&x| x as usize >= docs.len()) {
            bail!("--qrels: query {i} names row {bad}, base has {} rows", docs.len());
        }
    }
    println!(
        "{label}: {} points x {} dims, {} queries, cosine, load average {}",
        docs.len(),
        docs.dim(),
        queries.len(),
        loadavg()
    );
    let index = if a.index {
        let t = Instant::now();
        let ix = CollectionIndex::new(IndexConfig::new(docs.dim(), Metric::Cosine))?;
        for i in 0..docs.len() {
            ix.insert(i as u32, docs.get(i as u32))?;
        }
        ix.build();
        println!(
            "HNSW built (default graph params) in {:.1}s; searches at ef {}",
            t.elapsed().as_secs_f64(),
            a.ef
        );
        Some(ix)
    } else {
        None
    };
    let ef = a.ef;
    let search = |q: &[f32], k: usize| -> Vec<u32> {
        let params = SearchParams { k, ef: Some(ef.max(k)), strategy: Strategy::Hnsw, ..Default::default() };
        index
            .as_ref()
            .and_then(|ix| ix.search(q, None, &params).ok())
            .map(|o| o.hits.iter().map(|h| h.id).collect())
            .unwrap_or_default()
    };
    let qs: Vec<SubsetQuery<'_>> =
        queries.iter().zip(&relevant).map(|(v, r)| SubsetQuery { vector: v, relevant: r }).collect();
    let cfg = SubsetConfig {
        ks: a.ks.clone(),
        competitors: a.competitors,
        sample: a.sample,
        seed: a.seed,
        time_budget: Some(Duration::from_secs(a.budget)),
        ..SubsetConfig::default()
    };
    let cpu0 = crate::measure::process_cpu_time();
    let r = diagnose(
        &docs,
        Metric::Cosine,
        Allowed::All,
        &qs,
        index.as_ref().map(|_| &search as _),
        &cfg,
        &|_| {},
    )?;
    let cpu = crate::measure::process_cpu_time().saturating_sub(cpu0).as_secs_f64();
    let names = |i: usize| format!("q{i} R={:?}", relevant[i]);
    print_report(&r, a.show, &names);
    println!("cpu {cpu:.1}s");
    Ok(())
}
