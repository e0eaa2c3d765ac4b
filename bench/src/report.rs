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
        "| workload | bucket | median sel | strategy | ef | nq | recall@10 | QPS (wall) | QPS (CPU) | p50 µs | p99 µs | paths that ran |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in cells {
        let paths: Vec<String> = c.paths.iter().map(|(p, n)| format!("{p}:{n}")).collect();
        let ef = if c.ef == 0 { "-".to_string() } else { c.ef.to_string() };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.4} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            c.workload,
            c.bucket,
            pct(c.selectivity),
            c.strategy,
            ef,
            c.nq,
            c.recall,
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
    for c in cells {
        if !order.contains(&c.workload) {
            order.push(c.workload.clone());
        }
    }
    for c in cells {
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
