//! Grove's graph on the arXiv vectors: build rate, recall@10 against exact, single-thread QPS
//! per ef, memory; optionally filtered searches (random allowed sets) per path.
//!
//! ```text
//! cargo run --release -p grove-index --example graph_bench -- \
//!     [--data ../shared/data/arxiv] [--threads 2] [--m 16] [--efc 100] [--gamma 1] [--mbeta 32] \
//!     [--queries 1000] [--filtered] [--sel 0.5,0.1,0.01]
//! ```
//! Cosine metric (the vectors are unit length). Exact truth is computed by brute force over
//! all rows, spread over `--threads` threads.

use std::path::{Path, PathBuf};
use std::time::Instant;

use grove_index::graph::{Graph, GraphFilter, GraphParams, SearchStats};
use grove_index::{DenseIdSet, Metric, Neighbor, VectorStore};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

const DIM: usize = 384;
const K: usize = 10;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn load_f16(path: &Path) -> Res<VectorStore> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    if bytes.len() % (2 * DIM) != 0 {
        return Err(format!(
            "{}: {} bytes is not a whole number of {DIM}-d f16 rows",
            path.display(),
            bytes.len()
        )
        .into());
    }
    let mut store = VectorStore::with_capacity(DIM, bytes.len() / (2 * DIM));
    let mut row = vec![0f32; DIM];
    for chunk in bytes.chunks_exact(2 * DIM) {
        for (x, b) in row.iter_mut().zip(chunk.chunks_exact(2)) {
            *x = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
        }
        Metric::Cosine.prepare(&mut row);
        store.push(&row);
    }
    Ok(store)
}

fn exact(store: &VectorStore, q: &[f32], allow: Option<&DenseIdSet>) -> Vec<u32> {
    let mut top = grove_index::TopK::new(K);
    for i in 0..store.len() as u32 {
        if allow.is_none_or(|a| a.contains(i)) {
            top.push(Neighbor::new(i, Metric::Cosine.distance(store.get(i), q)));
        }
    }
    top.into_sorted_vec().into_iter().map(|n| n.id).collect()
}

struct Args {
    data: PathBuf,
    threads: usize,
    params: GraphParams,
    queries: usize,
    n: usize,
    filtered: bool,
    sel: Vec<f64>,
}

/// CPU seconds this process has used (user + system), from /proc: on a shared machine, wall
/// time mostly measures the neighbours; CPU time measures us.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, utime 11, stime 12; 100 ticks per second.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds of the calling thread, in nanosecond resolution (the scheduler's run time).
fn thread_cpu_secs() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace().next().and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0) / 1e9
}

fn args() -> Res<Args> {
    let mut a = Args {
        data: PathBuf::from("../shared/data/arxiv"),
        threads: 2,
        params: GraphParams::default(),
        queries: 1000,
        n: usize::MAX,
        filtered: false,
        sel: vec![0.5, 0.1, 0.01],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--filtered" {
            a.filtered = true;
            continue;
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--data" => a.data = PathBuf::from(v),
            "--threads" => a.threads = v.parse()?,
            "--m" => a.params.m = v.parse()?,
            "--efc" => a.params.ef_construction = v.parse()?,
            "--gamma" => a.params.gamma = v.parse()?,
            "--mbeta" => a.params.m_beta = v.parse()?,
            "--queries" => a.queries = v.parse()?,
            "--n" => a.n = v.parse()?,
            "--sel" => a.sel = v.split(',').map(|x| x.parse()).collect::<Result<_, _>>()?,
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    Ok(a)
}

/// Recall@10 and single-thread QPS of one configuration.
fn run<'a>(
    g: &Graph,
    store: &VectorStore,
    queries: &VectorStore,
    truth: &[Vec<u32>],
    ef: usize,
    filter: &dyn Fn(usize) -> GraphFilter<'a>,
) -> (f64, f64, f64) {
    let mut stats = SearchStats::default();
    let cpu = thread_cpu_secs();
    let mut results = Vec::with_capacity(truth.len());
    for qi in 0..truth.len() {
        results.push(g.search(store, queries.get(qi as u32), K, ef, filter(qi), &mut stats));
    }
    let secs = thread_cpu_secs() - cpu;
    let mut recall = 0.0;
    let mut counted = 0;
    for (hits, t) in results.iter().zip(truth) {
        if t.is_empty() {
            continue;
        }
        recall += t.iter().filter(|id| hits.iter().any(|h| h.id == **id)).count() as f64 / t.len() as f64;
        counted += 1;
    }
    let n = truth.len() as f64;
    (recall / counted.max(1) as f64, n / secs, stats.distances_computed as f64 / n)
}

fn main() -> Res<()> {
    let a = args()?;
    let mut store = load_f16(&a.data.join("vectors.f16"))?;
    if a.n < store.len() {
        store = VectorStore::from_flat(DIM, store.as_flat()[..a.n * DIM].to_vec());
    }
    let mut queries = load_f16(&a.data.join("queries.f16"))?;
    if a.queries < queries.len() {
        queries = VectorStore::from_flat(DIM, queries.as_flat()[..a.queries * DIM].to_vec());
    }
    let nq = queries.len();
    println!("data: {} vectors, {} queries, d={DIM}, cosine", store.len(), nq);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads).build()?;
    let t = Instant::now();
    let truth: Vec<Vec<u32>> = pool
        .install(|| (0..nq).into_par_iter().map(|qi| exact(&store, queries.get(qi as u32), None)).collect());
    println!("exact truth: {:.1}s", t.elapsed().as_secs_f64());

    let ids: Vec<u32> = (0..store.len() as u32).collect();
    let p = a.params;
    let t = Instant::now();
    let cpu = cpu_secs();
    let g = Graph::build(p, Metric::Cosine, &store, &ids, a.threads)?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu;
    println!(
        "build: M={} efC={} gamma={} M_beta={} threads={}: {:.2}s wall, {:.0} points/s, {:.0} points per CPU-second, graph memory {:.1} MiB",
        p.m,
        p.ef_construction,
        p.gamma,
        p.m_beta,
        a.threads,
        secs,
        store.len() as f64 / secs,
        store.len() as f64 / cpu,
        g.memory_bytes() as f64 / (1 << 20) as f64
    );
    println!("{:>8} {:>5} {:>8} {:>10} {:>10}", "filter", "ef", "recall", "QPS(cpu)", "dist/query");
    for ef in [16, 32, 64, 128, 256] {
        let (r, qps, dpq) = run(&g, &store, &queries, &truth, ef, &|_| GraphFilter::None);
        println!("{:>8} {ef:>5} {r:>8.4} {qps:>10.0} {dpq:>10.0}", "none");
    }
    if a.filtered {
        for &s in &a.sel {
            let sets: Vec<DenseIdSet> = (0..nq)
                .map(|qi| {
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(qi as u64);
                    let mut set = DenseIdSet::with_capacity(store.len());
                    for i in 0..store.len() as u32 {
                        if rng.gen_bool(s) {
                            set.insert(i);
                        }
                    }
                    set
                })
                .collect();
            let ftruth: Vec<Vec<u32>> = pool.install(|| {
                (0..nq)
                    .into_par_iter()
                    .map(|qi| exact(&store, queries.get(qi as u32), Some(&sets[qi])))
                    .collect()
            });
            for ef in [32, 64, 128, 256] {
                let (r, qps, dpq) =
                    run(&g, &store, &queries, &ftruth, ef, &|qi| GraphFilter::Hnsw(&sets[qi]));
                println!("{:>8} {ef:>5} {r:>8.4} {qps:>10.0} {dpq:>10.0}", format!("hnsw{}%", s * 100.0));
                let (r, qps, dpq) =
                    run(&g, &store, &queries, &ftruth, ef, &|qi| GraphFilter::Acorn(&sets[qi]));
                println!("{:>8} {ef:>5} {r:>8.4} {qps:>10.0} {dpq:>10.0}", format!("acorn{}%", s * 100.0));
            }
        }
    }
    Ok(())
}
