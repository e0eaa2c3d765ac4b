//! The stop signal reaches the hot loops: a raised cancel flag or a passed deadline ends graph
//! walks (HNSW, filtered HNSW, ACORN-1, ACORN-gamma), exact scans, prefix scans and
//! calibration within a few hundred distance computations, and the result is an error or a
//! result flagged as stopped, never a complete-looking answer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grove_index::flat::{self, Allowed};
use grove_index::graph::{Graph, GraphFilter, GraphParams, SearchStats};
use grove_index::matryoshka::prefix::{PrefixDtype, PrefixStore};
use grove_index::matryoshka::CalibrationRequest;
use grove_index::stop::{StopCause, CHECK_EVERY, CLOCK_EVERY};
use grove_index::{
    CollectionIndex, DenseIdSet, IndexConfig, IndexError, MatryoshkaConfig, Metric, Stop, VectorStore,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;

const D: usize = 32;

fn vectors(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut v: Vec<f32> = (0..D).map(|_| rng.gen_range(-1.0..1.0)).collect();
            Metric::Cosine.prepare(&mut v);
            v
        })
        .collect()
}

fn store(n: usize) -> VectorStore {
    let mut s = VectorStore::new(D);
    for v in vectors(n, 3) {
        s.push(&v);
    }
    s
}

fn raised() -> Stop {
    Stop::unlimited().with_cancel(Some(Arc::new(AtomicBool::new(true))))
}

fn passed() -> Stop {
    Stop::at(Some(Instant::now()))
}

/// Most distances a stopped walk may compute: the upper-layer descent and the layer-0 walk each
/// poll from their own start, so up to one interval for the descent, `polls` intervals for the
/// walk, plus the neighbour list in progress (at most `2·M` = 32 here, ACORN's truncated list
/// too).
fn walk_bound(polls: u64) -> u64 {
    (polls + 1) * CHECK_EVERY + 64
}

#[test]
fn graph_walks_stop_on_a_raised_flag_and_a_passed_deadline() {
    let n = 8000;
    let st = store(n);
    let ids: Vec<u32> = (0..n as u32).collect();
    let hnsw = Graph::build(GraphParams::default(), Metric::Cosine, &st, &ids, 1).expect("build");
    let gamma = GraphParams { m: 16, ef_construction: 64, gamma: 4, m_beta: 32, seed: 7 };
    let acorn = Graph::build(gamma, Metric::Cosine, &st, &ids, 1).expect("build");
    let half: RoaringBitmap = (0..n as u32).step_by(2).collect();
    let sparse: RoaringBitmap = (0..n as u32).step_by(4).collect();
    let half = DenseIdSet::from_roaring(&half, None, n);
    let sparse = DenseIdSet::from_roaring(&sparse, None, n);
    let q = vectors(1, 99).remove(0);
    let cases: [(&str, &Graph, GraphFilter<'_>); 4] = [
        ("hnsw", &hnsw, GraphFilter::None),
        ("filtered hnsw", &hnsw, GraphFilter::Hnsw(&half)),
        ("acorn-1", &hnsw, GraphFilter::Acorn(&sparse)),
        ("acorn-gamma", &acorn, GraphFilter::Acorn(&sparse)),
    ];
    for (name, g, filter) in cases {
        let ef = 800;
        let mut full = SearchStats::default();
        let hits = g.search_from_stoppable(&st, &q, 10, ef, filter, None, &mut full, &Stop::unlimited());
        assert_eq!(hits.len(), 10, "{name}");
        assert_eq!(full.stopped, None, "{name}");
        assert!(
            full.distances_computed > 8 * CHECK_EVERY,
            "{name}: the unstopped walk must be long enough for the bound to mean something ({})",
            full.distances_computed
        );
        for (stop, cause, polls) in
            [(raised(), StopCause::Cancelled, 1), (passed(), StopCause::Deadline, u64::from(CLOCK_EVERY))]
        {
            let mut stats = SearchStats::default();
            g.search_from_stoppable(&st, &q, 10, ef, filter, None, &mut stats, &stop);
            assert_eq!(stats.stopped, Some(cause), "{name}: the walk must say it was stopped");
            assert!(
                stats.distances_computed <= walk_bound(polls),
                "{name} ({cause}): {} distances after the signal, at most {} expected (unstopped: {})",
                stats.distances_computed,
                walk_bound(polls),
                full.distances_computed
            );
        }
    }
}

#[test]
fn exact_and_prefix_scans_stop_within_one_poll() {
    let n = 20_000;
    let st = store(n);
    let q = vectors(1, 5).remove(0);
    let every: RoaringBitmap = (0..n as u32).collect();
    let dense = DenseIdSet::from_roaring(&every, None, n);
    let ids: Vec<u32> = (0..n as u32).collect();
    let rows = [
        ("all", Allowed::All { dead: None }),
        ("bitmap", Allowed::Bitmap(&every)),
        ("dense", Allowed::Dense(&dense)),
        ("ids", Allowed::Ids(&ids)),
    ];
    for (name, allowed) in rows {
        let full = flat::search_stoppable(&st, Metric::Cosine, &q, 10, allowed, None, &Stop::unlimited());
        assert_eq!((full.distances_computed, full.stopped), (n as u64, None), "{name}");
        let r = flat::search_stoppable(&st, Metric::Cosine, &q, 10, allowed, None, &raised());
        assert_eq!(r.stopped, Some(StopCause::Cancelled), "{name}");
        assert_eq!(r.distances_computed, CHECK_EVERY, "{name}: the first poll sees the flag");
        let r = flat::search_stoppable(&st, Metric::Cosine, &q, 10, allowed, None, &passed());
        assert_eq!(r.stopped, Some(StopCause::Deadline), "{name}");
        assert_eq!(
            r.distances_computed,
            CHECK_EVERY * u64::from(CLOCK_EVERY),
            "{name}: the first clock read"
        );
    }
    // Prefix stores (the Matryoshka first stage): f32 goes through the flat scan, the others
    // through their own loop.
    for dtype in [PrefixDtype::F32, PrefixDtype::F16, PrefixDtype::I8] {
        let mut p = PrefixStore::new(8, dtype);
        for id in 0..n as u32 {
            let mut v = st.get(id)[..8].to_vec();
            Metric::Cosine.prepare(&mut v);
            p.set(id, &v);
        }
        let pq = p.query(&q[..8]);
        let all = Allowed::All { dead: None };
        assert!(p.scan_stoppable(Metric::Cosine, &pq, 10, all, &Stop::unlimited()).is_ok());
        let err = p.scan_stoppable(Metric::Cosine, &pq, 10, all, &raised());
        assert!(
            matches!(err, Err(IndexError::Stopped { cause: StopCause::Cancelled })),
            "{dtype:?}: {err:?}"
        );
    }
}

#[test]
fn calibration_stops_at_its_deadline() {
    // 40,000 points, 10,000 sampled queries: the exact baseline alone is 400M full-dimension
    // distances, and each of the 3 x 6 settings scans every point again at its prefix: minutes
    // of CPU in this profile. With a 200 ms deadline it must end well within 2 s.
    let n = 40_000;
    let idx = CollectionIndex::new(IndexConfig::new(D, Metric::Cosine)).expect("index");
    for (i, v) in vectors(n, 11).iter().enumerate() {
        idx.insert(i as u32, v).expect("insert");
    }
    idx.set_matryoshka(Some(MatryoshkaConfig::new(vec![4, 8, 16], Metric::Cosine)), None).expect("declare");
    let req = CalibrationRequest { sample: 10_000, ..Default::default() };
    let t = Instant::now();
    let stop = Stop::new(Some(Duration::from_millis(200)));
    let err = idx.calibrate_matryoshka_stoppable(&req, &stop);
    let took = t.elapsed();
    assert!(matches!(err, Err(IndexError::Stopped { cause: StopCause::Deadline })), "{err:?}");
    assert!(took < Duration::from_secs(2), "calibration ran {took:?} past a 200 ms deadline");

    // A flag raised from another thread mid-run stops it too.
    let flag = Arc::new(AtomicBool::new(false));
    let stop = Stop::unlimited().with_cancel(Some(Arc::clone(&flag)));
    let raiser = {
        let flag = Arc::clone(&flag);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            flag.store(true, Ordering::Relaxed);
        })
    };
    let t = Instant::now();
    let err = idx.calibrate_matryoshka_stoppable(&req, &stop);
    let took = t.elapsed();
    raiser.join().expect("raiser");
    assert!(matches!(err, Err(IndexError::Stopped { cause: StopCause::Cancelled })), "{err:?}");
    assert!(took < Duration::from_secs(2), "calibration ran {took:?} after its flag was raised");
}

#[test]
fn size_driving_parameters_are_bounded_and_named() {
    let idx = CollectionIndex::new(IndexConfig::new(D, Metric::Cosine)).expect("index");
    for (i, v) in vectors(200, 1).iter().enumerate() {
        idx.insert(i as u32, v).expect("insert");
    }
    idx.set_matryoshka(Some(MatryoshkaConfig::new(vec![8], Metric::Cosine)), None).expect("declare");
    let name = |req: CalibrationRequest| match idx.calibrate_matryoshka(&req) {
        Err(IndexError::InvalidParameter { name, .. }) => name,
        other => panic!("expected a named parameter error, got {other:?}"),
    };
    let d = CalibrationRequest::default;
    assert_eq!(name(CalibrationRequest { oversamples: vec![1_000_000], ..d() }), "oversamples");
    assert_eq!(name(CalibrationRequest { oversamples: (1..=17).collect(), ..d() }), "oversamples");
    assert_eq!(name(CalibrationRequest { sample: 10_001, ..d() }), "sample");
    assert_eq!(name(CalibrationRequest { k: 101, ..d() }), "k");
    assert!(idx.calibrate_matryoshka(&CalibrationRequest { sample: 20, ..d() }).is_ok());
    let q = vectors(1, 2).remove(0);
    let mq = grove_index::MatryoshkaQuery::new(8, 1_000_000);
    let err = idx.search_matryoshka(&q, None, &Default::default(), &mq);
    assert!(matches!(err, Err(IndexError::InvalidParameter { name: "oversample", .. })), "{err:?}");
}
