//! Durability that can fail: every acknowledged write must be preceded by an fsync/fdatasync of
//! RocksDB's write-ahead log, checked by tracing the system calls of a child process.
//!
//! Why not SIGKILL (tests/crash.rs): killing a process leaves the page cache intact, so a WAL
//! that was written but never synced survives the kill and the crash test passes with
//! `set_sync(false)`. A power cut would lose it. Here the test binary re-executes itself under
//! `strace -f -y`; the child writes batches and, after each write returns, writes `ack N` to a
//! file of its own. The checker walks the trace: between two acknowledgements there must be a
//! write to a WAL file (`<digits>.log` in the db dir) and, after the last such write, a sync
//! of a WAL file. With the sync turned off (`RocksKv::without_wal_sync_for_durability_test`)
//! the same checker must report violations, which shows it can fail.
//!
//! Skipped, with a message, when `strace` is not installed (`scripts/setup` installs it).

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::io::Write;
use std::path::Path;
use std::process::Command;

use grove_index::Metric;
use grove_storage::kv::{Batch, Cf, KvBackend, RocksKv};
use grove_storage::*;

const CHILD_ENV: &str = "GROVE_DURABILITY_CHILD";
const ACKS: usize = 12;

/// The child's body: `mode` is `synced`, `unsynced` (raw KV writes) or `storage` (upserts
/// through `Storage`). Does nothing when not started by a parent.
#[test]
fn durability_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let (mode, dir) = spec.split_once(':').unwrap();
    let dir = Path::new(dir);
    let mut acks = std::fs::File::create(dir.join("acks")).unwrap();
    match mode {
        "synced" | "unsynced" => {
            let mut kv = RocksKv::open(&dir.join("db")).unwrap();
            if mode == "unsynced" {
                kv = kv.without_wal_sync_for_durability_test();
            }
            for i in 0..ACKS {
                let mut b = Batch::new();
                b.put(Cf::Points, format!("key-{i}").into_bytes(), vec![i as u8; 1000]);
                kv.write(b).unwrap();
                acks.write_all(format!("ack {i}\n").as_bytes()).unwrap();
            }
        }
        "storage" => {
            let opts = StorageOptions { background_indexing: false, ..StorageOptions::default() };
            let s = Storage::open_with(dir.join("data"), opts).unwrap();
            s.create_collection("c", CollectionConfig::new(4, Metric::L2)).unwrap();
            for i in 0..ACKS as u64 {
                let p =
                    PointStruct { id: PointId::Num(i), vector: vec![i as f32, 1.0, 2.0, 3.0], payload: None };
                s.upsert("c", vec![p]).unwrap();
                acks.write_all(format!("ack {i}\n").as_bytes()).unwrap();
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// What the checker found in a trace.
#[derive(Debug)]
struct Verdict {
    acks: usize,
    /// Acknowledgements not preceded by a WAL write that was then synced.
    violations: Vec<String>,
}

fn is_wal(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.strip_suffix(".log").is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()))
}

/// The path strace printed for a call's first argument (`fd</path>`), if any.
fn fd_path<'a>(line: &'a str, call: &str) -> Option<&'a str> {
    let start = line.find(&format!("{call}("))? + call.len() + 1;
    let rest = &line[start..];
    let open = rest.find('<')?;
    let close = rest[open..].find('>')? + open;
    Some(&rest[open + 1..close])
}

/// Walks an `strace -f -y` trace in order (see the module docs).
fn check(trace: &str) -> Verdict {
    let mut wal_written = false; // a WAL write since the last ack
    let mut synced_after_write = false; // a WAL sync after the latest WAL write
    let mut acks = 0;
    let mut violations = Vec::new();
    for line in trace.lines() {
        for call in ["write", "writev", "pwrite64"] {
            if let Some(path) = fd_path(line, call) {
                if is_wal(path) {
                    wal_written = true;
                    synced_after_write = false;
                } else if path.ends_with("/acks") {
                    acks += 1;
                    if !(wal_written && synced_after_write) {
                        violations.push(format!(
                            "ack {acks}: WAL written since the last ack: {wal_written}, synced after it: {synced_after_write}"
                        ));
                    }
                    wal_written = false;
                    synced_after_write = false;
                }
            }
        }
        for call in ["fdatasync", "fsync"] {
            if fd_path(line, call).is_some_and(is_wal) && wal_written {
                synced_after_write = true;
            }
        }
    }
    Verdict { acks, violations }
}

/// Runs the child under strace in `mode`; None when strace is missing.
fn traced(mode: &str) -> Option<Verdict> {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("skipped: strace not found (scripts/setup installs it)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.txt");
    let out = Command::new("strace")
        .args(["-f", "-y", "-qq", "-e", "trace=write,writev,pwrite64,fsync,fdatasync", "-o"])
        .arg(&trace)
        .arg(std::env::current_exe().unwrap())
        .args(["durability_child", "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, format!("{mode}:{}", dir.path().display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child {mode} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    let v = check(&text);
    eprintln!(
        "{mode}: {} acknowledgements, {} not preceded by a synced WAL write",
        v.acks,
        v.violations.len()
    );
    assert_eq!(v.acks, ACKS, "the trace must show every acknowledgement ({mode})");
    Some(v)
}

#[test]
fn every_acknowledged_kv_write_follows_a_wal_sync() {
    let Some(v) = traced("synced") else { return };
    assert!(v.violations.is_empty(), "{:#?}", v.violations);
}

#[test]
fn the_checker_fails_when_the_wal_sync_is_off() {
    let Some(v) = traced("unsynced") else { return };
    assert!(
        v.violations.len() >= ACKS / 2,
        "with set_sync(false) most acknowledgements must be flagged, got {:#?}",
        v
    );
}

#[test]
fn every_acknowledged_upsert_follows_a_wal_sync() {
    let Some(v) = traced("storage") else { return };
    assert!(v.violations.is_empty(), "{:#?}", v.violations);
}

#[test]
fn checker_reads_strace_lines() {
    let synced = "1 write(5</d/db/000004.log>, \"x\", 1) = 1\n1 fdatasync(5</d/db/000004.log>) = 0\n1 write(6</d/acks>, \"ack 0\\n\", 6) = 6\n";
    let v = check(synced);
    assert_eq!((v.acks, v.violations.len()), (1, 0));
    let unsynced = "1 write(5</d/db/000004.log>, \"x\", 1) = 1\n1 write(6</d/acks>, \"ack 0\\n\", 6) = 6\n";
    assert_eq!(check(unsynced).violations.len(), 1);
    // The info LOG and the MANIFEST are not the WAL.
    let other = "1 write(5</d/db/LOG>, \"x\", 1) = 1\n1 fsync(5</d/db/LOG>) = 0\n1 write(6</d/acks>, \"ack 0\\n\", 6) = 6\n";
    assert_eq!(check(other).violations.len(), 1);
}
