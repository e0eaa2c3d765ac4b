//! Grove on peerbench's own data: the same vectors, labels and ground truth that
//! `../shared/tools/peerbench/peerbench.py` cached in its workdir, with its results JSON read
//! back so that the two are printed side by side.
//!
//! peerbench's filters are `label == v` with v = 1, 2, 3, 4 on 50%, 10%, 1%, 0.1% of the points
//! (selectivity 1.0 = no filter), ground truth `gt_{sel}.npy` (k = 10, exact).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use grove_index::Strategy;
use roaring::RoaringBitmap;
use serde::Deserialize;

use crate::data::{npy, Vectors};
use crate::measure::{self, Budget, Cell, Searcher};
use crate::workload::{Filter, Workload};

/// peerbench's label values and their fractions.
pub const LABELS: [(f64, i64); 4] = [(0.5, 1), (0.1, 2), (0.01, 3), (0.001, 4)];

/// peerbench's cached data.
#[derive(Debug)]
pub struct PeerData {
    /// Base vectors.
    pub x: Vectors,
    /// Queries.
    pub q: Vectors,
    /// Label per point.
    pub labels: Vec<i64>,
    /// `(selectivity, ground truth)` per filter, ascending in strictness.
    pub truth: Vec<(f64, Vec<Vec<u32>>)>,
}

/// Loads `X.npy`, `Q.npy`, `labels.npy` and every `gt_{sel}.npy` of a peerbench workdir.
pub fn load(workdir: &Path) -> anyhow::Result<PeerData> {
    let x = npy::read_matrix(&workdir.join("X.npy"))?;
    let q = npy::read_matrix(&workdir.join("Q.npy"))?;
    let (shape, labels) = npy::read_ints(&workdir.join("labels.npy"))?;
    if shape != [x.len()] {
        bail!("labels.npy has shape {shape:?}, X.npy has {} rows", x.len());
    }
    if q.dim != x.dim {
        bail!("Q.npy has dimension {}, X.npy {}", q.dim, x.dim);
    }
    let mut truth = Vec::new();
    for sel in [1.0, 0.5, 0.1, 0.01, 0.001] {
        let p = workdir.join(format!("gt_{sel:?}.npy"));
        if !p.exists() {
            continue;
        }
        let (shape, ids) = npy::read_ints(&p)?;
        let [rows, k] = shape[..] else { bail!("{}: expected (queries, k), got {shape:?}", p.display()) };
        if rows != q.len() {
            bail!("{}: {rows} rows for {} queries", p.display(), q.len());
        }
        let rows: Vec<Vec<u32>> = ids
            .chunks(k.max(1))
            .map(|r| r.iter().filter(|&&v| v >= 0).map(|&v| v as u32).collect())
            .collect();
        truth.push((sel, rows));
    }
    if truth.is_empty() {
        bail!("no gt_*.npy in {}", workdir.display());
    }
    Ok(PeerData { x, q, labels, truth })
}

/// The workload of one selectivity: every query filtered by `label == v` (or not at all).
pub fn workload(d: &PeerData, sel: f64) -> Workload {
    let n = d.labels.len().max(1) as f64;
    let nq = d.q.len();
    let bitmap: Option<RoaringBitmap> =
        LABELS.iter().find(|(s, _)| (*s - sel).abs() < 1e-12).map(|(_, v)| {
            d.labels.iter().enumerate().filter(|(_, l)| **l == *v).map(|(i, _)| i as u32).collect()
        });
    let s = bitmap.as_ref().map_or(1.0, |b| b.len() as f64 / n);
    Workload {
        name: format!("label sel {}", pct(sel)),
        description: "peerbench label == v".into(),
        filters: vec![Filter::All; nq],
        bitmaps: vec![bitmap; nq],
        selectivity: vec![s; nq],
    }
}

fn pct(sel: f64) -> String {
    if sel >= 1.0 {
        "none".into()
    } else {
        format!("{}%", sel * 100.0)
    }
}

/// Runs Grove on every selectivity: each (strategy, ef) measured `reps` times, best QPS kept
/// (peerbench's rule: contention only ever lowers QPS).
pub fn measure_grove(
    g: &dyn Searcher,
    d: &PeerData,
    strategies: &[Strategy],
    efs: &[usize],
    budget: Budget,
    reps: usize,
    log: &mut (dyn FnMut(String) + Send),
) -> anyhow::Result<Vec<(f64, Cell)>> {
    let mut out = Vec::new();
    for (sel, gt) in &d.truth {
        let w = workload(d, *sel);
        for &s in strategies {
            let efs: &[usize] = if s == Strategy::Exact { &[0] } else { efs };
            for &ef in efs {
                let mut best: Option<Cell> = None;
                for _ in 0..reps.max(1) {
                    let outs = measure::run(g, &d.q, &w, gt, 10, ef, s, budget)?;
                    // One selectivity per workload: exactly one bucket.
                    for c in measure::aggregate(&w, &outs, measure::strategy_name(s), ef, 10) {
                        if best.as_ref().is_none_or(|b| c.qps > b.qps) {
                            best = Some(c);
                        }
                    }
                }
                if let Some(c) = best {
                    log(format!(
                        "[grove {}] sel={} ef={} recall={:.4} qps={:.0} nq={} {:?}",
                        c.strategy,
                        pct(*sel),
                        ef,
                        c.recall,
                        c.qps,
                        c.nq,
                        c.paths
                    ));
                    out.push((*sel, c));
                }
            }
        }
    }
    Ok(out)
}

/// One point of a peerbench results JSON.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerPoint {
    /// Engine name.
    pub engine: String,
    /// Selectivity (1.0 = no filter).
    pub sel: f64,
    /// ef (0 when the engine has none).
    pub ef: usize,
    /// Threads.
    pub threads: usize,
    /// recall@10.
    pub recall: f64,
    /// Wall-clock QPS.
    pub qps: f64,
    /// QPS of the process's CPU time.
    #[serde(default)]
    pub qps_cpu: f64,
}

/// One build record of a peerbench results JSON.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerBuild {
    /// Engine name.
    pub engine: String,
    /// Build wall seconds.
    pub build_s: f64,
    /// Build CPU seconds.
    pub build_cpu_s: f64,
    /// RSS before the build, MB.
    pub rss_base_mb: f64,
    /// RSS after the build, MB.
    pub rss_after_build_mb: f64,
    /// VmHWM after the build, MB.
    pub peak_rss_mb: f64,
}

/// A peerbench run.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerRun {
    /// Its arguments (workdir, m, efc, build_threads...).
    pub args: serde_json::Value,
    /// Builds.
    pub builds: Vec<PeerBuild>,
    /// Measurements.
    pub points: Vec<PeerPoint>,
    /// The file it came from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// The newest `run-*.json` in `results_dir` whose workdir is `workdir`.
pub fn latest_run(results_dir: &Path, workdir: &Path) -> anyhow::Result<PeerRun> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(results_dir)
        .with_context(|| format!("reading {}", results_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("run-") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    let want = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
    for f in files.iter().rev() {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let mut run: PeerRun =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", f.display()))?;
        let wd = run.args.get("workdir").and_then(|v| v.as_str()).map(PathBuf::from);
        if wd.map(|w| std::fs::canonicalize(&w).unwrap_or(w)) == Some(want.clone()) {
            run.path = f.clone();
            return Ok(run);
        }
    }
    bail!("no peerbench run-*.json in {} was made on workdir {}", results_dir.display(), workdir.display())
}

/// Side-by-side table: per selectivity, Grove auto's and Grove's best forced path's QPS at
/// recall@10 >= `target`, each peer's, and the ratio Grove auto / best peer. `cpu` compares QPS
/// of CPU time instead of wall-clock time (both sides measure both).
pub fn comparison_table(grove: &[(f64, Cell)], peers: &PeerRun, target: f64, cpu: bool) -> String {
    let gq = |c: &Cell| if cpu { c.qps_cpu } else { c.qps };
    let pq = |p: &PeerPoint| if cpu { p.qps_cpu } else { p.qps };
    let mut engines: Vec<String> = Vec::new();
    for p in peers.points.iter().filter(|p| p.threads == 1) {
        if !engines.contains(&p.engine) {
            engines.push(p.engine.clone());
        }
    }
    let mut s = format!("| filter | Grove auto QPS @ r>={target} | Grove best path |");
    for e in &engines {
        let _ = write!(s, " {e} |");
    }
    s.push_str(" best peer | Grove auto / best peer | Grove best / best peer |\n|---|---|---|");
    s.push_str(&"---|".repeat(engines.len() + 3));
    s.push('\n');
    let mut sels: Vec<f64> = grove.iter().map(|(s, _)| *s).collect();
    sels.dedup();
    for sel in sels {
        let cells: Vec<&Cell> = grove.iter().filter(|(s, _)| *s == sel).map(|(_, c)| c).collect();
        let auto: Vec<&Cell> = cells.iter().copied().filter(|c| c.strategy == "auto").collect();
        let forced: Vec<&Cell> = cells.iter().copied().filter(|c| c.strategy != "auto").collect();
        fn best<'c>(cs: &[&'c Cell], target: f64, gq: impl Fn(&Cell) -> f64) -> Option<&'c Cell> {
            cs.iter().copied().filter(|c| c.recall >= target).max_by(|a, b| gq(a).total_cmp(&gq(b)))
        }
        let (auto_q, auto_txt) = match best(&auto, target, gq) {
            Some(c) => (Some(gq(c)), format!("{:.0} (ef {})", gq(c), c.ef)),
            None => (None, format!("never ({:.3})", auto.iter().map(|c| c.recall).fold(0.0, f64::max))),
        };
        let (forced_q, forced_txt) = match best(&forced, target, gq) {
            Some(c) => (Some(gq(c)), format!("{:.0} ({} ef {})", gq(c), c.strategy, c.ef)),
            None => (None, "never".to_string()),
        };
        let _ = write!(s, "| {} | {auto_txt} | {forced_txt} |", pct(sel));
        let mut best_peer: Option<(f64, &str)> = None;
        for e in &engines {
            let ok: Vec<&PeerPoint> = peers
                .points
                .iter()
                .filter(|p| p.threads == 1 && p.engine == *e && (p.sel - sel).abs() < 1e-12)
                .collect();
            let good = ok
                .iter()
                .filter(|p| p.recall >= target)
                .map(|p| pq(p))
                .fold(None, |a: Option<f64>, q| Some(a.map_or(q, |a| a.max(q))));
            match good {
                Some(q) => {
                    let _ = write!(s, " {q:.0} |");
                    if best_peer.is_none_or(|(b, _)| q > b) {
                        best_peer = Some((q, e));
                    }
                }
                None if ok.is_empty() => s.push_str(" - |"),
                None => {
                    let m = ok.iter().map(|p| p.recall).fold(0.0, f64::max);
                    let _ = write!(s, " never ({m:.3}) |");
                }
            }
        }
        let ratio = |g: Option<f64>| match (g, best_peer) {
            (Some(g), Some((b, _))) => format!("{:.2}", g / b),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            " {} | {} | {} |",
            best_peer.map_or("-".to_string(), |(q, e)| format!("{e} {q:.0}")),
            ratio(auto_q),
            ratio(forced_q)
        );
    }
    s
}

/// Build comparison: Grove's build next to each peer's.
pub fn builds_table(grove: &crate::engine::BuildReport, peers: &PeerRun) -> String {
    let mut s = String::from(
        "| engine | build wall s | build CPU s | RSS before MB | RSS after build MB | peak RSS MB | RSS added by build MB |\n|---|---|---|---|---|---|---|\n",
    );
    let _ = writeln!(
        s,
        "| grove (hnsw, {} threads) | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} |",
        grove.threads,
        grove.insert_s + grove.build_s,
        grove.cpu_s,
        grove.rss_before_mb,
        grove.rss_after_mb,
        grove.peak_rss_mb,
        grove.rss_after_mb - grove.rss_before_mb
    );
    let mut seen = BTreeMap::new();
    for b in &peers.builds {
        seen.insert(b.engine.clone(), ());
        if b.build_s == 0.0 {
            continue;
        }
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} |",
            b.engine,
            b.build_s,
            b.build_cpu_s,
            b.rss_base_mb,
            b.rss_after_build_mb,
            b.peak_rss_mb,
            b.rss_after_build_mb - b.rss_base_mb
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_peerbench_workdir() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        npy::write_matrix(&d.join("X.npy"), &Vectors::new(2, vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8])).unwrap();
        npy::write_matrix(&d.join("Q.npy"), &Vectors::new(2, vec![1.0, 0.0])).unwrap();
        npy::write_ints(&d.join("labels.npy"), &[3], &[1, 0, 1]).unwrap();
        npy::write_ints(&d.join("gt_1.0.npy"), &[1, 2], &[0, 2]).unwrap();
        npy::write_ints(&d.join("gt_0.5.npy"), &[1, 2], &[0, 2]).unwrap();
        let p = load(d).unwrap();
        assert_eq!(p.truth.len(), 2);
        let w = workload(&p, 0.5);
        assert_eq!(w.bitmaps[0].as_ref().map(|b| b.iter().collect::<Vec<_>>()), Some(vec![0, 2]));
        assert!(workload(&p, 1.0).bitmaps[0].is_none());
    }
}
