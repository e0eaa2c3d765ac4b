//! Tables (markdown, printed and written to bench/RESULTS.md) and the machine record.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::measure::Cell;
use crate::run::Report;
use crate::workload::BUCKETS;

/// Machine and time of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    /// UTC date and time.
    pub date: String,
    /// Logical CPUs.
    pub nproc: usize,
    /// CPU model.
    pub cpu: String,
    /// `/proc/loadavg`'s first three fields.
    pub loadavg: String,
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a Unix time (civil-from-days, proleptic Gregorian).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem / 60 % 60, rem % 60)
}

impl Machine {
    /// Reads the current machine state.
    pub fn now() -> Self {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let loadavg = std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into());
        Machine {
            date: utc(secs),
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu,
            loadavg,
        }
    }
}

fn pct(s: f64) -> String {
    if s >= 0.999 {
        "100%".into()
    } else if s >= 0.01 {
        format!("{:.1}%", s * 100.0)
    } else {
        format!("{:.3}%", s * 100.0)
    }
}

/// Every measured cell.
pub fn full_table(cells: &[Cell]) -> String {
    let mut s = String::from(
        "| workload | bucket | median sel | system | ef | k | nq | recall@10 | recall@100 | QPS (wall) | QPS (CPU) | p50 µs | p99 µs | paths that ran |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in cells {
        let paths: Vec<String> = c.paths.iter().map(|(p, n)| format!("{p}:{n}")).collect();
        let ef = if c.ef == 0 { "-".to_string() } else { c.ef.to_string() };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.4} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            c.workload,
            c.bucket,
            pct(c.selectivity),
            c.strategy,
            ef,
            c.k,
            c.nq,
            c.recall,
            c.recall100.map_or("-".to_string(), |r| format!("{r:.4}")),
            c.qps,
            c.qps_cpu,
            c.p50_us,
            c.p99_us,
            paths.join(" ")
        );
    }
    s
}

/// Best QPS (wall clock, or CPU time with `cpu`) among `cells` with recall >= `target`, as
/// `"qps (ef)"`, or `never (max recall)`.
pub fn best_at(cells: &[&Cell], target: f64, cpu: bool) -> (Option<f64>, String) {
    let q = |c: &Cell| if cpu { c.qps_cpu } else { c.qps };
    let best = cells.iter().filter(|c| c.recall >= target).max_by(|a, b| q(a).total_cmp(&q(b)));
    match best {
        Some(c) => {
            let ef = if c.ef == 0 { String::new() } else { format!(" (ef {})", c.ef) };
            (Some(q(c)), format!("{:.0}{ef}", q(c)))
        }
        None => {
            let max = cells.iter().map(|c| c.recall).fold(0.0, f64::max);
            (None, if cells.is_empty() { "-".into() } else { format!("never ({max:.3})") })
        }
    }
}

/// Per (workload, bucket): auto's recall at the default ef, and every strategy's best QPS (wall
/// clock, or CPU time with `cpu`) at recall@10 >= `target`.
pub fn summary_table(
    cells: &[Cell],
    strategies: &[&str],
    default_ef: usize,
    target: f64,
    cpu: bool,
) -> String {
    let mut groups: BTreeMap<(usize, usize), Vec<&Cell>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let cells: Vec<&Cell> = cells.iter().filter(|c| c.k == 10 && is_grove(c.strategy)).collect();
    for c in &cells {
        if !order.contains(&c.workload) {
            order.push(c.workload.clone());
        }
    }
    for &c in &cells {
        let w = order.iter().position(|x| *x == c.workload).unwrap_or(0);
        let b = BUCKETS.iter().position(|x| *x == c.bucket).unwrap_or(0);
        groups.entry((w, b)).or_default().push(c);
    }
    let mut s =
        format!("| workload | bucket | median sel | nq | auto recall@10 at ef {default_ef} | auto paths |");
    for st in strategies {
        let _ = write!(s, " {st} QPS @ r>={target} |");
    }
    s.push_str("\n|---|---|---|---|---|---|");
    s.push_str(&"---|".repeat(strategies.len()));
    s.push('\n');
    for ((w, b), cs) in groups {
        let auto = cs.iter().find(|c| c.strategy == "auto" && c.ef == default_ef);
        let nq = cs.iter().map(|c| c.nq).max().unwrap_or(0);
        let sel = auto.map_or(cs[0].selectivity, |c| c.selectivity);
        let paths = auto.map_or(String::from("-"), |c| {
            c.paths.iter().map(|(p, n)| format!("{p}:{n}")).collect::<Vec<_>>().join(" ")
        });
        let _ = write!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            order[w],
            BUCKETS[b],
            pct(sel),
            nq,
            auto.map_or("-".into(), |c| format!("{:.4}", c.recall)),
            paths
        );
        for st in strategies {
            let sc: Vec<&Cell> = cs.iter().copied().filter(|c| c.strategy == *st).collect();
            let _ = write!(s, " {} |", best_at(&sc, target, cpu).1);
        }
        s.push('\n');
    }
    s
}

/// Build figures.
pub fn builds_table(r: &Report) -> String {
    let mut s = String::from(
        "| build | points | threads | insert s | graph build s | CPU s | points/s | RSS before MiB | RSS after MiB | peak RSS MiB | graph MiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for b in &r.builds {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0}{} | {:.1} |",
            b.label,
            b.points,
            b.threads,
            b.insert_s,
            b.build_s,
            b.cpu_s,
            b.points_per_s,
            b.rss_before_mb,
            b.rss_after_mb,
            b.peak_rss_mb,
            if b.peak_is_build_only { "" } else { " (incl. loading)" },
            b.graph_bytes as f64 / (1 << 20) as f64
        );
    }
    s
}

/// Workload descriptions.
pub fn workloads_table(r: &Report) -> String {
    let mut s = String::from("| workload | filter | queries | selectivity min / median / max | ground truth |\n|---|---|---|---|---|\n");
    for w in &r.workloads {
        let [a, b, c] = w.selectivity;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} / {} / {} | {} |",
            w.name,
            w.description,
            w.nq,
            pct(a),
            pct(b),
            pct(c),
            w.truth
        );
    }
    s
}

/// Markers around the peers section of RESULTS.md (written by `peerlabels`).
pub const PEERS_BEGIN: &str = "<!-- peers:begin -->";
/// End marker.
pub const PEERS_END: &str = "<!-- peers:end -->";

/// Replaces the text between the peers markers of `path` (appending the section when absent).
pub fn splice_peers(path: &Path, section: &str) -> std::io::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{PEERS_BEGIN}\n{section}\n{PEERS_END}");
    let new = match (old.find(PEERS_BEGIN), old.find(PEERS_END)) {
        (Some(a), Some(b)) if b > a => format!("{}{block}{}", &old[..a], &old[b + PEERS_END.len()..]),
        _ => format!("{old}\n{block}\n"),
    };
    std::fs::write(path, new)
}

/// The peers section kept from an existing RESULTS.md (so that `arxiv` does not erase it).
pub fn existing_peers(path: &Path) -> Option<String> {
    let old = std::fs::read_to_string(path).ok()?;
    let a = old.find(PEERS_BEGIN)? + PEERS_BEGIN.len();
    let b = old.find(PEERS_END)?;
    (b > a).then(|| old[a..b].trim().to_string())
}

/// Grove's system names (strategies); everything else in a report's cells is a peer.
pub const GROVE: [&str; 5] = ["auto", "exact", "hnsw", "acorn", "hnsw_rs"];

/// Whether a cell's system is one of Grove's paths.
pub fn is_grove(system: &str) -> bool {
    GROVE.contains(&system)
}

/// Cells by (index into the workload order, index into [`BUCKETS`]).
type Groups<'c> = BTreeMap<(usize, usize), Vec<&'c Cell>>;

/// Cells grouped by (workload in first-seen order, bucket), only those measured at `k`.
fn groups(cells: &[Cell], k: usize) -> (Vec<String>, Groups<'_>) {
    let mut order: Vec<String> = Vec::new();
    let mut g: Groups<'_> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.k == k) {
        let w = match order.iter().position(|x| *x == c.workload) {
            Some(w) => w,
            None => {
                order.push(c.workload.clone());
                order.len() - 1
            }
        };
        let b = BUCKETS.iter().position(|x| *x == c.bucket).unwrap_or(0);
        g.entry((w, b)).or_default().push(c);
    }
    (order, g)
}

/// Peer systems present in `cells`, in first-seen order.
pub fn peer_systems(cells: &[Cell]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in cells {
        if !is_grove(c.strategy) && !out.contains(&c.strategy) {
            out.push(c.strategy);
        }
    }
    out
}

/// Best QPS at recall >= `target` (recall@10, or recall@100 with `at100`) among `cells`.
fn qps_of(c: &Cell, cpu: bool) -> f64 {
    if cpu {
        c.qps_cpu
    } else {
        c.qps
    }
}

fn best_cell<'c>(cells: &[&'c Cell], target: f64, at100: bool, cpu: bool) -> Option<&'c Cell> {
    let r = |c: &Cell| if at100 { c.recall100.unwrap_or(0.0) } else { c.recall };
    cells.iter().copied().filter(|c| r(c) >= target).max_by(|a, b| qps_of(a, cpu).total_cmp(&qps_of(b, cpu)))
}

fn cell_text(
    cells: &[&Cell],
    target: f64,
    at100: bool,
    cpu: bool,
    with_system: bool,
) -> (Option<f64>, String) {
    let r = |c: &Cell| if at100 { c.recall100.unwrap_or(0.0) } else { c.recall };
    match best_cell(cells, target, at100, cpu) {
        Some(c) => {
            let what = match (with_system, c.ef) {
                (true, 0) => format!(" ({})", c.strategy),
                (true, ef) => format!(" ({} ef {ef})", c.strategy),
                (false, 0) => String::new(),
                (false, ef) => format!(" (ef {ef})"),
            };
            (Some(qps_of(c, cpu)), format!("{:.0}{what}", qps_of(c, cpu)))
        }
        None if cells.is_empty() => (None, "-".into()),
        None => (None, format!("never ({:.3})", cells.iter().map(|c| r(c)).fold(0.0, f64::max))),
    }
}

/// Grove next to every peer, per (workload, bucket): best single-thread QPS (of CPU time with
/// `cpu`, else wall clock) at recall >= `target` (recall@10 of the k=10 sweep, or recall@100 of
/// the k=100 sweep with `at100`), and the ratio of Grove auto, and of Grove's best path, to the
/// best peer.
pub fn comparison_table(cells: &[Cell], target: f64, at100: bool, cpu: bool) -> String {
    let k = if at100 { 100 } else { 10 };
    let (order, g) = groups(cells, k);
    let peers = peer_systems(cells);
    let mut s = String::from("| workload | bucket | median sel | nq | grove auto | grove best path |");
    for p in &peers {
        let _ = write!(s, " {p} |");
    }
    s.push_str(" best peer | auto / best peer | grove best / best peer |\n|---|---|---|---|---|---|");
    s.push_str(&"---|".repeat(peers.len() + 3));
    s.push('\n');
    for ((w, b), cs) in g {
        let auto: Vec<&Cell> = cs.iter().copied().filter(|c| c.strategy == "auto").collect();
        let grove: Vec<&Cell> = cs.iter().copied().filter(|c| is_grove(c.strategy)).collect();
        let sel = cs.iter().find(|c| c.strategy == "auto").map_or(cs[0].selectivity, |c| c.selectivity);
        let nq = cs.iter().map(|c| c.nq).max().unwrap_or(0);
        let (aq, at) = cell_text(&auto, target, at100, cpu, false);
        let (gq, gt) = cell_text(&grove, target, at100, cpu, true);
        let _ = write!(s, "| {} | {} | {} | {} | {at} | {gt} |", order[w], BUCKETS[b], pct(sel), nq);
        let mut best: Option<(f64, &str)> = None;
        for p in &peers {
            let pc: Vec<&Cell> = cs.iter().copied().filter(|c| c.strategy == *p).collect();
            let (q, t) = cell_text(&pc, target, at100, cpu, false);
            let _ = write!(s, " {t} |");
            if let Some(q) = q {
                if best.is_none_or(|(b, _)| q > b) {
                    best = Some((q, p));
                }
            }
        }
        let ratio = |g: Option<f64>| match (g, best) {
            (Some(g), Some((b, _))) => format!("{:.2}", g / b),
            (Some(_), None) if !peers.is_empty() => "peers never".into(),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            " {} | {} | {} |",
            best.map_or("-".to_string(), |(q, p)| format!("{p} {q:.0}")),
            ratio(aq),
            ratio(gq)
        );
    }
    s
}

/// One line per pooled (bucket, system, ef) point: the bucket's queries of every workload taken
/// together (recall weighted by queries, QPS = queries / search time). The figures use these.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pooled {
    /// Bucket label.
    pub bucket: &'static str,
    /// Median of the cells' median selectivities.
    pub selectivity: f64,
    /// System.
    pub system: &'static str,
    /// ef.
    pub ef: usize,
    /// Queries.
    pub nq: usize,
    /// recall@10.
    pub recall: f64,
    /// QPS (wall).
    pub qps: f64,
    /// QPS of CPU time.
    pub qps_cpu: f64,
}

/// Pools the k=10 cells per (bucket, system, ef).
pub fn pooled(cells: &[Cell]) -> Vec<Pooled> {
    let mut g: BTreeMap<(usize, &'static str, usize), Vec<&Cell>> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.k == 10 && c.nq > 0) {
        let b = BUCKETS.iter().position(|x| *x == c.bucket).unwrap_or(0);
        g.entry((b, c.strategy, c.ef)).or_default().push(c);
    }
    g.into_iter()
        .map(|((b, system, ef), cs)| {
            let nq: usize = cs.iter().map(|c| c.nq).sum();
            let time: f64 = cs.iter().map(|c| if c.qps > 0.0 { c.nq as f64 / c.qps } else { 0.0 }).sum();
            let cpu: f64 =
                cs.iter().map(|c| if c.qps_cpu > 0.0 { c.nq as f64 / c.qps_cpu } else { 0.0 }).sum();
            let recall = cs.iter().map(|c| c.recall * c.nq as f64).sum::<f64>() / nq.max(1) as f64;
            let mut sels: Vec<f64> = cs.iter().map(|c| c.selectivity).collect();
            sels.sort_by(f64::total_cmp);
            Pooled {
                bucket: BUCKETS[b],
                selectivity: sels[sels.len() / 2],
                system,
                ef,
                nq,
                recall,
                qps: if time > 0.0 { nq as f64 / time } else { 0.0 },
                qps_cpu: if cpu > 0.0 { nq as f64 / cpu } else { 0.0 },
            }
        })
        .collect()
}

/// Per bucket (every workload's queries of that bucket pooled): each system's best QPS (of CPU
/// time with `cpu`, else wall clock) at recall@10 >= each of `targets`, and Grove auto / best
/// peer.
pub fn bucket_table(cells: &[Cell], targets: &[f64], cpu: bool) -> String {
    let p = pooled(cells);
    let mut systems: Vec<&'static str> = Vec::new();
    for x in &p {
        if !systems.contains(&x.system) {
            systems.push(x.system);
        }
    }
    systems.sort_by_key(|s| (!is_grove(s), GROVE.iter().position(|g| g == s).unwrap_or(99)));
    let mut s = String::from("| bucket | recall@10 >= |");
    for sy in &systems {
        let _ = write!(s, " {} |", if is_grove(sy) { format!("grove {sy}") } else { sy.to_string() });
    }
    s.push_str(" best peer | grove auto / best peer |\n|---|---|");
    s.push_str(&"---|".repeat(systems.len() + 2));
    s.push('\n');
    for b in BUCKETS {
        let in_b: Vec<&Pooled> = p.iter().filter(|x| x.bucket == b).collect();
        if in_b.is_empty() {
            continue;
        }
        for &t in targets {
            let _ = write!(s, "| {b} | {t} |");
            let mut auto = None;
            let mut best: Option<(f64, &str)> = None;
            for sy in &systems {
                let pts: Vec<&&Pooled> = in_b.iter().filter(|x| x.system == *sy).collect();
                let hit = pts
                    .iter()
                    .filter(|x| x.recall >= t)
                    .map(|x| if cpu { x.qps_cpu } else { x.qps })
                    .fold(None, |a: Option<f64>, q| Some(a.map_or(q, |a| a.max(q))));
                match hit {
                    Some(q) => {
                        let _ = write!(s, " {q:.0} |");
                        if *sy == "auto" {
                            auto = Some(q);
                        }
                        if !is_grove(sy) && best.is_none_or(|(b, _)| q > b) {
                            best = Some((q, sy));
                        }
                    }
                    None if pts.is_empty() => s.push_str(" - |"),
                    None => {
                        let _ =
                            write!(s, " never ({:.3}) |", pts.iter().map(|x| x.recall).fold(0.0, f64::max));
                    }
                }
            }
            let ratio = match (auto, best) {
                (Some(a), Some((b, _))) => format!("{:.2}", a / b),
                (Some(_), None) => "peers never".into(),
                _ => "-".into(),
            };
            let _ =
                writeln!(s, " {} | {ratio} |", best.map_or("-".to_string(), |(q, p)| format!("{p} {q:.0}")));
        }
    }
    s
}

/// Every cell as CSV (one header line).
pub fn csv(cells: &[Cell]) -> String {
    let mut s = String::from(
        "workload,bucket,median_selectivity,system,ef,k,nq,recall10,recall100,qps,qps_cpu,p50_us,p99_us,paths\n",
    );
    for c in cells {
        let paths: Vec<String> = c.paths.iter().map(|(p, n)| format!("{p}:{n}")).collect();
        let _ = writeln!(
            s,
            "{},{},{:.6},{},{},{},{},{:.4},{},{:.1},{:.1},{:.1},{:.1},{}",
            c.workload,
            c.bucket,
            c.selectivity,
            c.strategy,
            c.ef,
            c.k,
            c.nq,
            c.recall,
            c.recall100.map_or(String::new(), |r| format!("{r:.4}")),
            c.qps,
            c.qps_cpu,
            c.p50_us,
            c.p99_us,
            paths.join(" ")
        );
    }
    s
}

/// The peers' builds next to Grove's.
pub fn peer_builds_table(r: &Report) -> String {
    let mut s = String::from(
        "| system | version | build wall s | build CPU s | RSS before MiB | RSS after MiB | peak RSS MiB | how it filters |\n|---|---|---|---|---|---|---|---|\n",
    );
    for b in &r.builds {
        let _ = writeln!(
            s,
            "| grove: {} | {} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | roaring bitmap handed to the planner |",
            b.label,
            env!("CARGO_PKG_VERSION"),
            b.insert_s + b.build_s,
            b.cpu_s,
            b.rss_before_mb,
            b.rss_after_mb,
            b.peak_rss_mb
        );
    }
    for p in &r.peers {
        for b in &p.builds {
            let how = p.systems.get(&b.label).cloned().unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} | {} {} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | {} |",
                b.label,
                p.engine,
                p.version,
                b.build_s,
                b.build_cpu_s,
                b.rss_before_mb,
                b.rss_after_mb,
                b.peak_rss_mb,
                how
            );
        }
    }
    for (f, e) in &r.peers_failed {
        let _ = writeln!(s, "| {f} | - | failed: {e} | | | | | |");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_798_374_896), "2026-12-27 12:34:56 UTC");
    }

    #[test]
    fn splice_replaces_only_the_section() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("R.md");
        std::fs::write(&p, "head\n").unwrap();
        splice_peers(&p, "one").unwrap();
        splice_peers(&p, "two").unwrap();
        let s = std::fs::read_to_string(&p).unwrap();
        assert!(s.starts_with("head\n") && s.contains("two") && !s.contains("one"), "{s}");
        assert_eq!(existing_peers(&p).as_deref(), Some("two"));
    }
}
