//! Peers run from Python on the bench's own workloads: hnswlib, faiss-cpu (HNSW, HNSW over SQ8
//! codes and flat, all with an `IDSelectorBitmap`), usearch, qdrant-edge-py (with and without
//! ACORN) and ScaNN (tree + anisotropic PQ + reorder; unfiltered workloads only, since its
//! Python binding takes no allowed set).
//!
//! The bench writes a workdir (vectors, payload, each workload's per-query allowed sets and
//! filters, a `job.json`), runs `bench/peers/run_peer.py` once per engine family in its own
//! process (so that its build time and peak RSS are its own, and one engine failing does not
//! take the others down), and reads back each query's answer ids and timings. Recall is scored
//! here, by the same code and against the same ground truth as Grove's, and aggregated into the
//! same [`Cell`]s per selectivity bucket.
//!
//! The venv comes from `bench/peers/setup.sh` (one command, PyPI only).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::data::{npy, Dataset};
use crate::measure::{self, Cell, Outcome};
use crate::run::{Options, WithTruth};

/// Every peer system the runner knows, with the engine family (one Python process) it runs in.
pub const SYSTEMS: [(&str, &str); 8] = [
    ("faiss-hnsw", "faiss"),
    ("faiss-flat", "faiss"),
    ("faiss-hnsw-sq8", "faiss"),
    ("hnswlib", "hnswlib"),
    ("usearch", "usearch"),
    ("qdrant-edge", "qdrant"),
    ("qdrant-edge+acorn", "qdrant"),
    // Unfiltered workloads only: ScaNN's Python binding takes no allowed set.
    ("scann", "scann"),
];

/// Resolves `--peers` (`all`, `none`, or names from [`SYSTEMS`]) to system names.
pub fn parse_systems(list: &[String]) -> anyhow::Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for s in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty() && *s != "none") {
        if s == "all" {
            out = SYSTEMS.iter().map(|(n, _)| *n).collect();
            continue;
        }
        // A family name selects all its systems ("faiss", "qdrant").
        let hit: Vec<&'static str> =
            SYSTEMS.iter().filter(|(n, f)| *n == s || *f == s).map(|(n, _)| *n).collect();
        if hit.is_empty() {
            let names: Vec<&str> = SYSTEMS.iter().map(|(n, _)| *n).collect();
            bail!("unknown peer {s:?} (all, none, {})", names.join(", "));
        }
        for h in hit {
            if !out.contains(&h) {
                out.push(h);
            }
        }
    }
    Ok(out)
}

fn static_name(s: &str) -> Option<&'static str> {
    SYSTEMS.iter().map(|(n, _)| *n).find(|n| *n == s)
}

/// Where the runner lives and what it runs.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    /// The venv's python (from `bench/peers/setup.sh`).
    pub python: PathBuf,
    /// `run_peer.py`.
    pub script: PathBuf,
    /// Scratch directory for the data handed over (and Qdrant's shard).
    pub workdir: PathBuf,
    /// Systems measured.
    pub systems: Vec<&'static str>,
}

/// The runner's `job.json`.
#[derive(Debug, Serialize)]
struct Job {
    /// `ip` (cosine on normalised rows, or dot) or `l2`.
    metric: &'static str,
    m: usize,
    efc: usize,
    build_threads: usize,
    efs: Vec<usize>,
    ks: Vec<usize>,
    budget: JobBudget,
    workloads: Vec<JobWorkload>,
    check_queries: usize,
}

#[derive(Debug, Serialize)]
struct JobBudget {
    time: f64,
    min_queries: usize,
    max_time: f64,
}

#[derive(Debug, Serialize)]
struct JobWorkload {
    name: String,
    nq: usize,
    allowed: String,
    filters: String,
    unfiltered: Vec<bool>,
}

/// A build as the runner reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerBuild {
    /// What was built (`faiss-hnsw`, `qdrant-edge`, ...).
    pub label: String,
    /// Points.
    pub points: usize,
    /// Wall seconds.
    pub build_s: f64,
    /// CPU seconds of the process (all threads).
    pub build_cpu_s: f64,
    /// RSS before, MiB.
    pub rss_before_mb: f64,
    /// RSS after, MiB.
    pub rss_after_mb: f64,
    /// Peak RSS (VmHWM) after the build, MiB.
    pub peak_rss_mb: f64,
    /// Whether the peak was reset before the build.
    pub peak_is_build_only: bool,
}

#[derive(Debug, Deserialize)]
struct RunnerOut {
    engine: String,
    version: String,
    builds: Vec<PeerBuild>,
    systems: BTreeMap<String, String>,
    runs: Vec<RunnerRun>,
}

#[derive(Debug, Deserialize)]
struct RunnerRun {
    system: String,
    workload: String,
    k: usize,
    ef: usize,
    lat_us: Vec<f64>,
    cpu_us: Vec<f64>,
    ids: Vec<Vec<i64>>,
}

/// One engine family's package version, builds and how each of its systems filters.
#[derive(Debug, Clone, Serialize)]
pub struct PeerInfo {
    /// Family (`faiss`, `hnswlib`, `usearch`, `qdrant`).
    pub engine: String,
    /// PyPI package version.
    pub version: String,
    /// Builds.
    pub builds: Vec<PeerBuild>,
    /// System -> how it applies the filter.
    pub systems: BTreeMap<String, String>,
}

/// What the peers measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerResults {
    /// Per engine family.
    pub info: Vec<PeerInfo>,
    /// Cells, like Grove's.
    pub cells: Vec<Cell>,
    /// Families that failed, with the error.
    pub failed: Vec<(String, String)>,
}

/// Packs `allowed` into `ceil(n/8)` bytes, bit `j` of byte `j >> 3` (little bit order, as faiss'
/// `IDSelectorBitmap` and numpy's `unpackbits(bitorder="little")` read it); all ones for `None`.
pub fn pack_bits(allowed: Option<&roaring::RoaringBitmap>, n: usize) -> Vec<u8> {
    let mut row = vec![0u8; n.div_ceil(8)];
    match allowed {
        None => {
            (0..n).for_each(|j| row[j >> 3] |= 1 << (j & 7));
        }
        Some(b) => {
            for j in b.iter().map(|j| j as usize).filter(|&j| j < n) {
                row[j >> 3] |= 1 << (j & 7);
            }
        }
    }
    row
}

/// Writes everything the runner reads into `dir`.
pub fn write_workdir(
    ds: &Dataset,
    wls: &[WithTruth],
    o: &Options,
    ks: &[usize],
    dir: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    npy::write_matrix(&dir.join("X.npy"), &ds.base)?;
    npy::write_matrix(&dir.join("Q.npy"), &ds.queries)?;
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(dir.join("payload.jsonl")).context("creating payload.jsonl")?,
    );
    for r in &ds.records {
        serde_json::to_writer(&mut f, r)?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    let n = ds.base.len();
    let mut jw = Vec::new();
    for (i, (w, _, _)) in wls.iter().enumerate() {
        let nq = w.filters.len().min(ds.queries.len());
        let allowed = format!("wl-{i}.allowed");
        let mut bits = Vec::with_capacity(nq * n.div_ceil(8));
        for b in &w.bitmaps[..nq] {
            bits.extend(pack_bits(b.as_ref(), n));
        }
        std::fs::write(dir.join(&allowed), bits).with_context(|| format!("writing {allowed}"))?;
        let filters = format!("wl-{i}.filters.json");
        std::fs::write(dir.join(&filters), serde_json::to_vec(&w.filters[..nq])?)
            .with_context(|| format!("writing {filters}"))?;
        jw.push(JobWorkload {
            name: w.name.clone(),
            nq,
            allowed,
            filters,
            unfiltered: w.bitmaps[..nq].iter().map(Option::is_none).collect(),
        });
    }
    let job = Job {
        metric: match ds.metric {
            grove_index::Metric::L2 => "l2",
            _ => "ip",
        },
        m: o.m,
        efc: o.ef_construction,
        build_threads: o.build_threads,
        efs: o.efs.clone(),
        ks: ks.to_vec(),
        budget: JobBudget {
            time: o.budget.time.as_secs_f64(),
            min_queries: o.budget.min_queries,
            max_time: o.budget.max_time.as_secs_f64(),
        },
        workloads: jw,
        check_queries: 20,
    };
    std::fs::write(dir.join("job.json"), serde_json::to_vec_pretty(&job)?).context("writing job.json")?;
    Ok(())
}

/// Turns one runner measurement into cells (recall scored against `truth`).
fn cells_of(run: &RunnerRun, wls: &[WithTruth]) -> anyhow::Result<Vec<Cell>> {
    let Some(system) = static_name(&run.system) else {
        bail!("runner reported unknown system {:?}", run.system)
    };
    let Some((w, truth, _)) = wls.iter().find(|(w, _, _)| w.name == run.workload) else {
        bail!("runner reported unknown workload {:?}", run.workload)
    };
    if run.lat_us.len() != run.ids.len() || run.cpu_us.len() != run.ids.len() || run.ids.len() > truth.len() {
        bail!(
            "{} on {}: {} latencies, {} answers for {} queries",
            system,
            w.name,
            run.lat_us.len(),
            run.ids.len(),
            truth.len()
        );
    }
    let outs: Vec<Outcome> = run
        .ids
        .iter()
        .enumerate()
        .map(|(i, ids)| {
            let ids: Vec<u32> = ids.iter().filter(|&&v| v >= 0).map(|&v| v as u32).collect();
            Outcome::scored(
                i,
                &ids,
                &truth[i],
                run.k,
                Duration::from_secs_f64(run.lat_us[i] / 1e6),
                Duration::from_secs_f64(run.cpu_us[i] / 1e6),
                system,
            )
        })
        .collect();
    Ok(measure::aggregate(w, &outs, system, run.ef, run.k))
}

/// Runs every selected engine family; a family that fails is logged and reported, not fatal.
pub fn run(
    ds: &Dataset,
    wls: &[WithTruth],
    o: &Options,
    ks: &[usize],
    p: &PeerOptions,
    log: &mut (dyn FnMut(String) + Send),
) -> anyhow::Result<PeerResults> {
    let mut res = PeerResults::default();
    if p.systems.is_empty() {
        return Ok(res);
    }
    write_workdir(ds, wls, o, ks, &p.workdir)?;
    log(format!("[peers] workdir {} written", p.workdir.display()));
    let mut families: Vec<&str> = Vec::new();
    for (n, f) in SYSTEMS {
        if p.systems.contains(&n) && !families.contains(&f) {
            families.push(f);
        }
    }
    for fam in families {
        let systems: Vec<&str> =
            SYSTEMS.iter().filter(|(n, f)| *f == fam && p.systems.contains(n)).map(|(n, _)| *n).collect();
        let out = p.workdir.join(format!("out-{fam}.json"));
        let _ = std::fs::remove_file(&out);
        log(format!("[peers] {fam}: {} {} --engine {fam}", p.python.display(), p.script.display()));
        let status = Command::new(&p.python)
            .arg(&p.script)
            .arg("--workdir")
            .arg(&p.workdir)
            .arg("--engine")
            .arg(fam)
            .arg("--systems")
            .arg(systems.join(","))
            .arg("--out")
            .arg(&out)
            .env("OMP_NUM_THREADS", "1")
            .env("OPENBLAS_NUM_THREADS", "1")
            .stdin(Stdio::null())
            .status();
        let status = match status {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("could not start {} ({e}); run bench/peers/setup.sh", p.python.display());
                log(format!("[peers] {fam} FAILED: {msg}"));
                res.failed.push((fam.to_string(), msg));
                continue;
            }
        };
        if !status.success() {
            let msg = format!("runner exited with {status}");
            log(format!("[peers] {fam} FAILED: {msg}"));
            res.failed.push((fam.to_string(), msg));
            continue;
        }
        let text = std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
        let r: RunnerOut =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", out.display()))?;
        for run in &r.runs {
            let got = cells_of(run, wls)?;
            for c in &got {
                log(format!(
                    "[{}] {:<12} {:>6} k={} ef={:<4} nq={:<5} recall={:.4} qps={:.0} p50={:.0}us p99={:.0}us",
                    c.strategy, c.workload, c.bucket, c.k, c.ef, c.nq, c.recall, c.qps, c.p50_us, c.p99_us
                ));
            }
            res.cells.extend(got);
        }
        res.info.push(PeerInfo {
            engine: r.engine,
            version: r.version,
            builds: r.builds,
            systems: r.systems,
        });
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_little_endian_per_byte() {
        let b: roaring::RoaringBitmap = [0u32, 9, 10].into_iter().collect();
        assert_eq!(pack_bits(Some(&b), 11), vec![0b0000_0001, 0b0000_0110]);
        assert_eq!(pack_bits(None, 10), vec![0xff, 0b0000_0011]);
    }

    #[test]
    fn peer_names() {
        assert_eq!(parse_systems(&["qdrant".into()]).unwrap(), ["qdrant-edge", "qdrant-edge+acorn"]);
        assert_eq!(parse_systems(&["all".into()]).unwrap().len(), SYSTEMS.len());
        assert!(parse_systems(&["none".into()]).unwrap().is_empty());
        assert!(parse_systems(&["milvus".into()]).is_err());
    }
}
