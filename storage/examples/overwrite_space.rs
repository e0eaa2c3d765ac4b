//! Issue 12, row 6: what 150k overwrites of 1,000 points cost in memory and on disk, and what a
//! restart gives back. An overwrite gives the point a new internal id and tombstones the old
//! one, so without compaction the vector arena (and the graphs) keep every old row.
//!
//! ```text
//! cargo run -p grove-storage --release --example overwrite_space -- \
//!     [--points 1000] [--overwrites 150000] [--dim 384] [--batch 1000] [--work /tmp/grove-overwrite]
//! ```
//!
//! Prints RSS (VmRSS of this process) and disk bytes (`db/` + `graphs/`) after the first 1,000
//! points, after the overwrites (graphs caught up, flushed), and after a reopen in a fresh child
//! process (so the figure is not this process's allocator holding freed memory). Seeded.
#![expect(clippy::print_stderr, reason = "a measurement tool reports progress")]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use grove_index::Metric;
use grove_storage::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

type AnyResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// VmRSS in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn report(stage: &str, s: &Storage) -> AnyResult<()> {
    let info = s.collection_info("c")?;
    println!(
        "{stage:<28} RSS {:>8.1} MiB  memtables {:>6.1} MiB  disk {:>8.1} MiB  points {:>6}  indexed {:>7}  tombstones {:>7}  rebuilds {}",
        rss_mib(),
        mib(s.kv().memtable_bytes()),
        mib(s.disk_bytes()),
        info.points_count,
        info.indexing.indexed_points,
        info.indexing.tombstones,
        info.indexing.rebuilds
    );
    Ok(())
}

fn reopen_only(dir: &Path) -> AnyResult<()> {
    let t = Instant::now();
    let s = Storage::open(dir)?;
    s.wait_indexed("c", Duration::from_secs(3600))?;
    eprintln!("reopened in {:.1} s", t.elapsed().as_secs_f64());
    report("after reopen (new process)", &s)
}

fn main() -> AnyResult<()> {
    let work: PathBuf = arg("--work", PathBuf::from("/tmp/grove-overwrite"));
    if std::env::args().any(|a| a == "--reopen-only") {
        return reopen_only(&work);
    }
    let points: u64 = arg("--points", 1000);
    let overwrites: u64 = arg("--overwrites", 150_000);
    let dim: usize = arg("--dim", 384);
    let batch: u64 = arg("--batch", 1000);
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "{points} points x {dim} dims, {overwrites} overwrites in batches of {batch} (synced), RocksDB at {}",
        work.display()
    );
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let point = |id: u64, rng: &mut ChaCha8Rng| PointStruct {
        id: PointId::Num(id),
        vector: (0..dim).map(|_| rng.gen_range(-1.0..1.0f32)).collect(),
        payload: json!({"tag": (["a", "b", "c"][(id % 3) as usize]), "n": id}).as_object().cloned(),
    };
    {
        let s = Storage::open(&work)?;
        s.create_collection("c", CollectionConfig::new(dim, Metric::Cosine))?;
        s.create_field_index("c", "tag", PayloadSchemaType::Keyword)?;
        let pts = (0..points).map(|id| point(id, &mut rng)).collect();
        s.upsert("c", pts)?;
        s.wait_indexed("c", Duration::from_secs(3600))?;
        s.flush()?;
        report("after first upsert", &s)?;
        let t = Instant::now();
        let mut done = 0u64;
        while done < overwrites {
            let n = batch.min(overwrites - done);
            let pts = (0..n).map(|i| point((done + i) % points, &mut rng)).collect();
            s.upsert("c", pts)?;
            done += n;
            if done % 25_000 < batch {
                eprintln!(
                    "{done} overwrites, {:.0} s, RSS {:.1} MiB, memtables {:.1} MiB",
                    t.elapsed().as_secs_f64(),
                    rss_mib(),
                    mib(s.kv().memtable_bytes())
                );
            }
        }
        s.wait_indexed("c", Duration::from_secs(3600))?;
        s.flush()?;
        eprintln!("overwrites took {:.1} s", t.elapsed().as_secs_f64());
        report("after overwrites", &s)?;
    }
    let exe = std::env::current_exe()?;
    let status = std::process::Command::new(exe)
        .args(["--reopen-only", "--work", &work.display().to_string()])
        .status()?;
    if !status.success() {
        return Err(format!("reopen child failed: {status}").into());
    }
    Ok(())
}
