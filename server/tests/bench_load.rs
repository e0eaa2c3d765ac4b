//! grove-bench's server mode and load generator against the real `grove` binary on free ports:
//! a small generated dataset is ingested over REST, the seeded workloads run over gRPC and REST
//! and are scored against exact brute-force truth, then the load phases (closed loop, QueryBatch
//! vs in-process, readers under upserts) must finish without a single error.

mod common;

use std::sync::Arc;
use std::time::Duration;

use grove_bench::data::{Dataset, Record, Vectors};
use grove_bench::load;
use grove_bench::server_mode::{self, IngestOptions, MeasureOptions, Target, Transport};
use grove_bench::workload::Kind;
use grove_index::Metric;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const COLL: &str = "bench_test";

/// Clustered vectors (so the graph has structure to find) with records whose fields give every
/// workload kind something to select.
fn dataset(n: usize, nq: usize, dim: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> =
        (0..16).map(|_| (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
    let row = |rng: &mut ChaCha8Rng| -> Vec<f32> {
        let c = &centres[rng.gen_range(0..centres.len())];
        c.iter().map(|x| x + rng.gen_range(-0.3..0.3)).collect()
    };
    let mut base = Vectors::new(dim, (0..n).flat_map(|_| row(&mut rng)).collect());
    let mut queries = Vectors::new(dim, (0..nq).flat_map(|_| row(&mut rng)).collect());
    base.prepare(Metric::Cosine);
    queries.prepare(Metric::Cosine);
    let mains = ["cs", "math", "physics", "astro-ph", "q-bio"];
    let records = (0..n)
        .map(|_| {
            let nsub = 1 + (rng.gen_range(0..100u32).pow(2) / 2000) as i64;
            Record {
                number_of_sub_categories: nsub,
                date: 20_000 + rng.gen_range(0..500),
                main_categories: vec![mains[(rng.gen_range(0..100u32).pow(2) / 2100) as usize].to_string()],
                sub_categories: (0..nsub)
                    .map(|_| format!("cs.{}", rng.gen_range(0..150u32).pow(2) / 150))
                    .collect(),
                authors: (0..rng.gen_range(1..4))
                    .map(|_| format!("author{}", rng.gen_range(0..300)))
                    .collect(),
            }
        })
        .collect();
    Dataset { name: "generated".into(), metric: Metric::Cosine, base, queries, records, provided: Vec::new() }
}

#[test]
fn server_mode_and_load_generator_against_the_real_binary() {
    let server = common::Server::start(&[]);
    let target = Target { rest: server.url(""), grpc: server.grpc_url(), api_key: None };
    let ds = Arc::new(dataset(2000, 40, 24, 5));
    let cache = tempfile::tempdir().expect("tempdir");
    let mut log = |l: String| eprintln!("{l}");
    let kinds = [Kind::None, Kind::Em, Kind::R, Kind::Emis, Kind::Cat10, Kind::EmisAuthor, Kind::EmAndR];
    let wls = server_mode::workloads(&ds, &kinds, 7, cache.path(), &mut log);
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    // Ingest over REST in small batches, then wait for the graph.
    let ing = IngestOptions {
        collection: COLL.into(),
        via: Transport::Rest,
        batch: 300,
        m: 16,
        ef_construction: 100,
        reuse: false,
        progress: false,
        index_timeout: Duration::from_secs(120),
    };
    let rep = match rt.block_on(server_mode::ingest(&target, &ds, &ing, &mut log)) {
        Ok(r) => r,
        Err(e) => panic!("ingest: {e:#}\nserver log:\n{}", server.log_text()),
    };
    assert_eq!((rep.points, rep.reused), (2000, false));
    // A second ingest with reuse finds the complete collection and uploads nothing.
    let again = rt
        .block_on(server_mode::ingest(
            &target,
            &ds,
            &IngestOptions { reuse: true, via: Transport::Grpc, ..ing },
            &mut log,
        ))
        .expect("reuse");
    assert!(again.reused);

    // Every workload over both transports, scored against exact truth.
    let mo = MeasureOptions {
        collection: COLL.into(),
        transports: vec![Transport::Grpc, Transport::Rest],
        efs: vec![0, 128],
        k: 10,
        max_queries: 40,
        budget: Duration::from_secs(60),
        min_queries: 40,
    };
    let cells = rt.block_on(server_mode::measure(&target, &ds, &wls, &mo, &mut log)).expect("measure");
    for tr in ["grpc", "rest"] {
        let mine: Vec<_> = cells.iter().filter(|c| c.strategy == tr).collect();
        let nq: usize = mine.iter().map(|c| c.nq).sum();
        assert_eq!(nq, 2 * kinds.len() * 40, "{tr}: every query of every workload at both efs answered");
        let recall = mine.iter().map(|c| c.recall * c.nq as f64).sum::<f64>() / nq as f64;
        assert!(recall >= 0.9, "{tr}: mean recall@10 {recall:.3} against exact truth");
        assert!(mine.iter().all(|c| c.qps > 0.0 && c.p99_us >= c.p50_us));
    }

    // Load phases: closed loop on both transports, batch vs in-process, readers under upserts.
    let filtered: Vec<_> = wls.iter().filter(|(w, _)| w.name != "none").cloned().collect();
    let items = Arc::new(load::mix(&ds, &filtered, COLL, 20, 10, None).expect("mix"));
    assert_eq!(items.len(), 20 * filtered.len());
    let (warm, window) = (Duration::from_millis(200), Duration::from_millis(1200));
    for tr in [Transport::Grpc, Transport::Rest] {
        let c =
            rt.block_on(load::closed_loop(&target, tr, 4, COLL, &items, warm, window)).expect("closed loop");
        assert_eq!(c.errors, 0, "{tr:?}: {:?}", c.first_error);
        assert!(c.ok > 0 && c.recall >= 0.9, "{tr:?}: {c:?}");
    }
    let storage = load::build_in_process(&ds, COLL, 16, 100, 300).expect("in-process twin");
    let rounds = load::batch_vs_in_process(&rt, &target, &storage, COLL, &items, 64, 1, 2, None, &mut log)
        .expect("batch");
    assert_eq!(rounds.len(), 1);
    assert!(rounds[0].grpc_qps > 0.0 && rounds[0].in_process_qps > 0.0);
    assert!(rounds[0].grpc_recall >= 0.9 && rounds[0].in_process_recall >= 0.9, "{rounds:?}");
    assert!(load::overall_ratio(&rounds) > 0.0);

    let up =
        rt.block_on(load::under_upserts(&target, &ds, 2, 50, COLL, &items, warm, window)).expect("upserts");
    for c in up.readers.iter().chain(&up.writers) {
        assert_eq!(c.errors, 0, "{}: {:?}", c.label, c.first_error);
        assert!(c.ok > 0, "{}: nothing done", c.label);
    }
    for r in &up.readers {
        assert!(r.recall >= 0.9, "{}: recall {:.3} while points are overwritten", r.label, r.recall);
    }
    assert!(up.points_written >= 100);
    assert_eq!(up.count_after, 2000, "overwrites neither lose nor duplicate points");
}
