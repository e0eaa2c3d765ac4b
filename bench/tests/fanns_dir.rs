//! End to end on a generated FANNS-format directory: the loader reads what the writer wrote, the
//! shipped ground truth equals the bench's brute force, and Grove's auto mode finds it.

use std::time::Duration;

use grove_bench::data::{fanns, vecs};
use grove_bench::engine::Grove;
use grove_bench::measure::{self, BenchPath, BruteForce, Budget};
use grove_bench::payload::PayloadIndex;
use grove_bench::run::{index_config, Options, TRUTH_K};
use grove_bench::workload::Workload;
use grove_index::{Metric, Strategy};

fn options(dir: &std::path::Path) -> Options {
    Options {
        efs: vec![64],
        strategies: vec![BenchPath::Grove(Strategy::Auto)],
        ks: vec![10],
        budget: Budget {
            time: Duration::from_secs(60),
            min_queries: usize::MAX,
            max_time: Duration::from_secs(600),
        },
        m: 16,
        ef_construction: 100,
        build_threads: 2,
        acorn_gamma: None,
        m_beta: 32,
        seed: 3,
        kinds: vec![],
        cache_dir: dir.join("cache"),
        default_ef: 64,
        quantization: None,
    }
}

#[test]
fn generated_fanns_directory_loads_and_is_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fanns");
    fanns::write_synthetic(&dir, 3000, 60, 32, 11).unwrap();
    let ds = fanns::load(&dir, Metric::Cosine).unwrap();
    assert_eq!((ds.base.len(), ds.base.dim, ds.queries.len(), ds.records.len()), (3000, 32, 60, 3000));
    let names: Vec<&str> = ds.provided.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["em", "r", "emis"]);

    let index = PayloadIndex::build(&ds.records);
    let bf = BruteForce { base: &ds.base, metric: ds.metric };
    let (grove, report) =
        Grove::build("test", &ds.base, index_config(ds.base.dim, &ds, &options(tmp.path()))).unwrap();
    assert_eq!(report.points, 3000);
    for p in &ds.provided {
        let w = Workload::from_filters(&p.name, "", p.filters.clone(), &index);
        assert!(p.truth.iter().all(|t| t.len() <= TRUTH_K));
        // The shipped truth is exactly what the bench's brute force finds (recall 1 at k=10).
        let budget = Budget {
            time: Duration::from_secs(60),
            min_queries: usize::MAX,
            max_time: Duration::from_secs(600),
        };
        let outs = measure::run(&bf, &ds.queries, &w, &p.truth, 10, 0, Strategy::Exact, budget).unwrap();
        assert_eq!(outs.len(), 60);
        for o in &outs {
            assert_eq!(o.recall, Some(1.0), "{} query {}", p.name, o.query);
        }
        // Grove auto mode against it: recall@10 >= 0.95 on average, per workload.
        let outs = measure::run(&grove, &ds.queries, &w, &p.truth, 10, 64, Strategy::Auto, budget).unwrap();
        let r: Vec<f64> = outs.iter().filter_map(|o| o.recall).collect();
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        assert!(mean >= 0.95, "{}: grove auto recall@10 {mean}", p.name);
    }
}

#[test]
fn mismatched_ground_truth_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fanns");
    fanns::write_synthetic(&dir, 500, 20, 8, 2).unwrap();
    // Drop one ground-truth row: 20 queries, 19 rows.
    let gt = dir.join("ground_truth_em.ivecs");
    let rows = vecs::read_ivecs(&gt).unwrap();
    vecs::write_ivecs(&gt, &rows[..19], 100).unwrap();
    let e = fanns::load(&dir, Metric::Cosine).unwrap_err().to_string();
    assert!(e.contains("20 query vectors but 19 rows"), "{e}");
    // One attribute line too many for the base vectors.
    fanns::write_synthetic(&dir, 500, 20, 8, 2).unwrap();
    let attrs = dir.join("database_attributes.jsonl");
    let mut text = std::fs::read_to_string(&attrs).unwrap();
    text.push_str("{\"update_date\": 1}\n");
    std::fs::write(&attrs, text).unwrap();
    let e = fanns::load(&dir, Metric::Cosine).unwrap_err().to_string();
    assert!(e.contains("500 vectors but 501 attribute records"), "{e}");
}
