//! The `grove-bench` binary end to end, as CI runs it:
//! - `arxiv --quick` on the shared arXiv set (a slice; under two minutes in release) must finish
//!   and keep Grove auto's recall@10 above a floor on every workload, with exact search exact;
//! - `fanns-gen` writes a small FANNS-format directory and `fanns` reads it and runs its shipped
//!   EM / R / EMIS workloads (the loader reads that format);
//! - with the peers' venv present (bench/peers/setup.sh), the peers run on the same workloads and
//!   faiss' exact flat scan scores recall 1 (the data handed over is the data Grove searched).

// Test helpers outside #[test] functions panic on bad output too: that is the failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_grove-bench"))
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("start grove-bench");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "grove-bench failed ({}):\n{}",
        out.status,
        &err[err.len().saturating_sub(4000)..]
    );
}

fn cells(json: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    v["cells"].as_array().unwrap().clone()
}

/// Mean recall@10 of `system` at `ef` per workload (queries of all buckets pooled).
fn recall_by_workload(cells: &[Value], system: &str, ef: u64) -> Vec<(String, f64, u64)> {
    let mut out: Vec<(String, f64, u64)> = Vec::new();
    for c in cells.iter().filter(|c| c["strategy"] == system && c["ef"] == ef && c["k"] == 10) {
        let w = c["workload"].as_str().unwrap().to_string();
        let nq = c["nq"].as_u64().unwrap();
        let r = c["recall"].as_f64().unwrap() * nq as f64;
        match out.iter_mut().find(|(x, _, _)| *x == w) {
            Some(e) => {
                e.1 += r;
                e.2 += nq;
            }
            None => out.push((w, r, nq)),
        }
    }
    out.into_iter().map(|(w, r, n)| (w, r / n as f64, n)).collect()
}

fn check_floor(cells: &[Value], expect_workloads: usize, floor: f64) {
    let auto = recall_by_workload(cells, "auto", 64);
    assert_eq!(auto.len(), expect_workloads, "auto measured on every workload: {auto:?}");
    for (w, r, n) in &auto {
        assert!(*n > 0, "{w}: no query measured");
        assert!(*r >= floor, "{w}: grove auto recall@10 {r:.4} at ef 64 is below the floor {floor}");
    }
    let exact = recall_by_workload(cells, "exact", 0);
    assert_eq!(exact.len(), expect_workloads);
    for (w, r, _) in &exact {
        assert!(*r > 0.9999, "{w}: exact search recall@10 {r} (ground truth and engine disagree)");
    }
}

fn arxiv_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/arxiv")
}

#[test]
fn quick_arxiv_run_keeps_recall_above_the_floor() {
    let dir = arxiv_dir();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("quick.json");
    if !dir.join("vectors.f16").exists() {
        // Without the shared data the same --quick run goes over a generated set (and says so).
        eprintln!("{} absent: --quick on a generated FANNS directory instead", dir.display());
        let gen = tmp.path().join("gen");
        run_ok(bin().args(["fanns-gen", "--n", "20000", "--nq", "200", "--dim", "64", "--out"]).arg(&gen));
        run_ok(
            bin()
                .args(["fanns", "--quick", "--json"])
                .arg(&json)
                .arg("--dir")
                .arg(&gen)
                .arg("--cache")
                .arg(tmp.path()),
        );
        check_floor(&cells(&json), 11, 0.90);
        return;
    }
    let t = std::time::Instant::now();
    run_ok(bin().args(["arxiv", "--quick", "--json"]).arg(&json).arg("--data").arg(&dir));
    eprintln!("arxiv --quick took {:.0}s (test profile)", t.elapsed().as_secs_f64());
    check_floor(&cells(&json), 11, 0.90);
}

#[test]
fn fanns_gen_then_fanns_reads_the_format() {
    let tmp = tempfile::tempdir().unwrap();
    let gen = tmp.path().join("fanns");
    run_ok(bin().args(["fanns-gen", "--n", "4000", "--nq", "80", "--dim", "32", "--out"]).arg(&gen));
    for f in ["database_vectors.fvecs", "query_vectors.fvecs", "database_attributes.jsonl"] {
        assert!(gen.join(f).exists(), "fanns-gen wrote no {f}");
    }
    let json = tmp.path().join("fanns.json");
    run_ok(
        bin()
            .args(["fanns", "--quick", "--workloads", "none_generated", "--paths", "auto,exact", "--json"])
            .arg(&json)
            .arg("--dir")
            .arg(&gen)
            .arg("--cache")
            .arg(tmp.path()),
    );
    let cs = cells(&json);
    let names: Vec<String> = recall_by_workload(&cs, "auto", 64).into_iter().map(|(w, _, _)| w).collect();
    assert_eq!(names, ["fanns_em", "fanns_r", "fanns_emis"], "the shipped workloads are what ran");
    check_floor(&cs, 3, 0.95);
}

#[test]
fn peers_run_on_the_same_workloads_when_their_venv_exists() {
    let python = std::env::var_os("GROVE_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/venv-grove-peers/bin/python"));
    if !python.exists() {
        eprintln!("skipped: no peers venv at {} (bench/peers/setup.sh makes it)", python.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let gen = tmp.path().join("fanns");
    run_ok(bin().args(["fanns-gen", "--n", "3000", "--nq", "40", "--dim", "32", "--out"]).arg(&gen));
    let json = tmp.path().join("peers.json");
    let plots = tmp.path().join("plots");
    let csv = tmp.path().join("r.csv");
    run_ok(
        bin()
            .args([
                "fanns",
                "--quick",
                "--workloads",
                "none_generated",
                "--paths",
                "auto,exact",
                "--peers",
                "all",
            ])
            .args(["--budget", "0.1", "--max-budget", "0.5", "--json"])
            .arg(&json)
            .arg("--dir")
            .arg(&gen)
            .arg("--cache")
            .arg(tmp.path())
            .arg("--peer-python")
            .arg(&python)
            .arg("--peer-workdir")
            .arg(tmp.path().join("work"))
            .arg("--plots")
            .arg(&plots)
            .arg("--csv")
            .arg(&csv),
    );
    let cs = cells(&json);
    for p in [
        "faiss-hnsw",
        "faiss-flat",
        "faiss-hnsw-sq8",
        "hnswlib",
        "usearch",
        "qdrant-edge",
        "qdrant-edge+acorn",
    ] {
        let r = recall_by_workload(&cs, p, if p == "faiss-flat" { 0 } else { 64 });
        assert_eq!(r.len(), 3, "{p} ran every workload: {r:?}");
        if p == "faiss-flat" {
            for (w, rec, _) in &r {
                assert!(
                    *rec > 0.9999,
                    "faiss-flat (exact) recall {rec} on {w}: allowed sets or vectors differ"
                );
            }
        }
    }
    // ScaNN takes no allowed set: it runs unfiltered workloads only, and every shipped one filters.
    assert!(recall_by_workload(&cs, "scann", 64).is_empty(), "scann must not answer filtered queries");
    assert!(std::fs::read_to_string(&csv).unwrap().lines().count() > 10);
    assert!(plots.join("qps-vs-selectivity.png").exists(), "figures drawn");
}
