//! `grove-bench matryoshka`: Matryoshka prefix search against full-dimension exact scan and
//! full-dimension HNSW, in one process, on the same index.
//!
//! Sets: the arXiv set (MiniLM, 384-d, *not* Matryoshka-trained) without and with the PCA
//! rotation, and a seeded synthetic set with Matryoshka-like structure (clusters; component `j`
//! scaled by `1 / (1 + j / 32)`, so energy is concentrated in the leading components, as in a
//! Matryoshka-trained model's output). Filters: none, a random ~10% and a random ~1% of the
//! points (seeded). Truth: exact full-dimension top-10 over the allowed points.
//!
//! Per setting: recall@10 and single-thread QPS (per CPU-second of the measuring thread, and
//! wall clock), every query of the set run once after 5 warm-up queries. The best QPS at
//! recall@10 of at least 0.95 is compared with the full-dimension exact scan and with Grove's full-dimension
//! graph path (HNSW unfiltered; the planner's choice — ACORN-1 or exact — when filtered), ef
//! swept.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use grove_index::matryoshka::{MatryoshkaConfig, MatryoshkaQuery, PrefixPath, Rotation};
use grove_index::{CollectionIndex, GraphParams, IndexConfig, Metric, SearchParams, Strategy};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use roaring::RoaringBitmap;

use crate::data::Vectors;
use crate::measure::thread_cpu_time;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Prefix dimensions declared.
    pub dims: Vec<usize>,
    /// Oversampling factors swept.
    pub oversamples: Vec<usize>,
    /// ef values swept for the full-dimension graph path.
    pub efs: Vec<usize>,
    /// Build prefix graphs (and measure the prefix-graph path unfiltered).
    pub prefix_graph: bool,
    /// HNSW M and ef_construction (full and prefix graphs).
    pub m: usize,
    /// ef_construction.
    pub ef_construction: usize,
    /// Build threads.
    pub build_threads: usize,
    /// Vectors the PCA is fitted on.
    pub pca_sample: usize,
    /// Seed of filters, PCA sample and synthetic data.
    pub seed: u64,
    /// Recall target.
    pub target: f64,
}

/// One measured setting.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Set label.
    pub set: String,
    /// Filter label.
    pub filter: String,
    /// Method label (`exact d=384`, `hnsw ef=64`, `prefix m=64 x8 scan`...).
    pub method: String,
    /// Whether this is a Matryoshka setting.
    pub matryoshka: bool,
    /// recall@10.
    pub recall: f64,
    /// Queries per CPU-second of the measuring thread.
    pub qps_cpu: f64,
    /// Queries per wall-clock second.
    pub qps_wall: f64,
    /// Mean distances computed per query.
    pub distances: f64,
}

/// Build figures of one set.
#[derive(Debug, Clone)]
pub struct Build {
    /// Set label.
    pub set: String,
    /// Points and dimension.
    pub n: usize,
    /// Dimension.
    pub dim: usize,
    /// Full HNSW build, wall seconds.
    pub hnsw_s: f64,
    /// Bytes per vector of the full vectors.
    pub full_bytes: f64,
    /// Bytes per vector of the full HNSW graph.
    pub hnsw_bytes: f64,
    /// PCA fit seconds (0 without PCA).
    pub pca_s: f64,
    /// Prefix stores build seconds (all declared prefixes).
    pub prefix_s: f64,
    /// Prefix graphs build seconds (all declared prefixes).
    pub prefix_graph_s: f64,
    /// Per prefix: (m, bytes/vector of the store, bytes/vector of its graph, variance kept).
    pub prefixes: Vec<(usize, f64, f64, Option<f64>)>,
}

/// The seeded synthetic set with Matryoshka-like structure: `n` base rows and `nq` queries of
/// dimension `dim`, cosine (normalised).
pub fn synthetic(n: usize, nq: usize, dim: usize, seed: u64) -> (Vectors, Vectors) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let clusters = 1000;
    let centres: Vec<Vec<f32>> =
        (0..clusters).map(|_| (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();
    let scale: Vec<f32> = (0..dim).map(|j| 1.0 / (1.0 + j as f32 / 32.0)).collect();
    let gen = |count: usize, rng: &mut ChaCha8Rng| {
        let mut data = Vec::with_capacity(count * dim);
        for _ in 0..count {
            let c = &centres[rng.gen_range(0..clusters)];
            let mut v: Vec<f32> =
                (0..dim).map(|j| (c[j] + 0.7 * rng.gen_range(-1.0f32..1.0)) * scale[j]).collect();
            grove_index::distance::normalize(&mut v);
            data.extend_from_slice(&v);
        }
        Vectors::new(dim, data)
    };
    let base = gen(n, &mut rng);
    let queries = gen(nq, &mut rng);
    (base, queries)
}

/// One search: the ids found and the distances computed.
type SearchFn<'a> = &'a dyn Fn(&[f32]) -> anyhow::Result<(Vec<u32>, u64)>;

/// A filter's label, its bitmap (`None`: unfiltered) and the exact top-10 of every query.
pub type Truth = (String, Option<RoaringBitmap>, Vec<Vec<u32>>);

/// Runs `f` on every query once (after 5 warm-ups) and scores it against `truth`.
fn measure(queries: &Vectors, truth: &[Vec<u32>], f: SearchFn<'_>) -> anyhow::Result<(f64, f64, f64, f64)> {
    for i in 0..queries.len().min(5) {
        f(queries.row(i))?;
    }
    let (c0, t0) = (thread_cpu_time(), Instant::now());
    let mut recall = 0.0;
    let mut dist = 0u64;
    for (i, t) in truth.iter().enumerate() {
        let (got, d) = f(queries.row(i))?;
        dist += d;
        recall += if t.is_empty() {
            1.0
        } else {
            got.iter().filter(|g| t.contains(g)).count() as f64 / t.len() as f64
        };
    }
    let nq = truth.len() as f64;
    let cpu = (thread_cpu_time() - c0).max(Duration::from_nanos(1)).as_secs_f64();
    let wall = t0.elapsed().as_secs_f64().max(1e-9);
    Ok((recall / nq, nq / cpu, nq / wall, dist as f64 / nq))
}

fn random_filter(n: usize, share: f64, seed: u64) -> RoaringBitmap {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n as u32).filter(|_| rng.gen_bool(share)).collect()
}

/// Builds the full-dimension index over `base` (HNSW, M / ef_construction from `o`).
pub fn build_index(base: &Vectors, o: &Options) -> anyhow::Result<(CollectionIndex, f64)> {
    let mut cfg = IndexConfig::new(base.dim, Metric::Cosine);
    cfg.hnsw = GraphParams { m: o.m, ef_construction: o.ef_construction, ..Default::default() };
    cfg.build_threads = o.build_threads;
    let idx = CollectionIndex::new(cfg)?;
    for i in 0..base.len() {
        idx.insert(i as u32, base.row(i))?;
    }
    let t = Instant::now();
    idx.build();
    Ok((idx, t.elapsed().as_secs_f64()))
}

/// Declares the prefixes (with `rotation`) and builds their stores and graphs; returns
/// (prefix stores s, prefix graphs s).
fn declare(idx: &CollectionIndex, o: &Options, rotation: Option<Rotation>) -> anyhow::Result<(f64, f64)> {
    let mut mc = MatryoshkaConfig::new(o.dims.clone(), Metric::Cosine);
    if o.prefix_graph {
        mc.graph = Some(GraphParams { m: o.m, ef_construction: o.ef_construction, ..Default::default() });
    }
    let t = Instant::now();
    idx.set_matryoshka(Some(mc), rotation)?;
    let stores = t.elapsed().as_secs_f64();
    let t = Instant::now();
    idx.build();
    Ok((stores, t.elapsed().as_secs_f64()))
}

/// Measures one set: baselines and every Matryoshka setting, for each filter.
#[expect(clippy::too_many_arguments, reason = "one flat call per measured set")]
pub fn measure_set(
    set: &str,
    idx: &CollectionIndex,
    queries: &Vectors,
    truths: &[Truth],
    o: &Options,
    baselines: bool,
    cells: &mut Vec<Cell>,
    log: &mut dyn FnMut(String),
) -> anyhow::Result<()> {
    let k = 10;
    let full = idx.config().dim;
    for (fname, filter, truth) in truths {
        let filter = filter.as_ref();
        let mut push = |method: String, matryoshka: bool, m: (f64, f64, f64, f64)| {
            log(format!(
                "[{set} | {fname}] {method}: recall@10 {:.3}, {:.0} q/cpu-s, {:.0} q/s wall, {:.0} distances",
                m.0, m.1, m.2, m.3
            ));
            cells.push(Cell {
                set: set.to_string(),
                filter: fname.clone(),
                method,
                matryoshka,
                recall: m.0,
                qps_cpu: m.1,
                qps_wall: m.2,
                distances: m.3,
            });
        };
        if baselines {
            let p = SearchParams { k, strategy: Strategy::Exact, ..Default::default() };
            let r = measure(queries, truth, &|q| {
                let out = idx.search(q, filter, &p)?;
                Ok((out.hits.iter().map(|h| h.id).collect(), out.explain.distances_computed))
            })?;
            push(format!("exact d={full}"), false, r);
            for &ef in &o.efs {
                let strategy = if filter.is_none() { Strategy::Hnsw } else { Strategy::Auto };
                let p = SearchParams { k, ef: Some(ef), strategy, ..Default::default() };
                let path = idx.search(queries.row(0), filter, &p)?.explain.path.as_str();
                let r = measure(queries, truth, &|q| {
                    let out = idx.search(q, filter, &p)?;
                    Ok((out.hits.iter().map(|h| h.id).collect(), out.explain.distances_computed))
                })?;
                push(format!("full-d {path} ef={ef}"), false, r);
            }
        }
        let mut paths = vec![PrefixPath::Scan];
        if o.prefix_graph && filter.is_none() {
            paths.push(PrefixPath::Graph);
        }
        for &dim in &o.dims {
            for &os in &o.oversamples {
                for &path in &paths {
                    let mq = MatryoshkaQuery { dim, oversample: os, funnel: Vec::new(), path };
                    let p = SearchParams { k, ef: Some(64), ..Default::default() };
                    let r = measure(queries, truth, &|q| {
                        let out = idx.search_matryoshka(q, filter, &p, &mq)?;
                        Ok((out.hits.iter().map(|h| h.id).collect(), out.explain.distances_computed))
                    })?;
                    let pname = match path {
                        PrefixPath::Scan => "scan",
                        PrefixPath::Graph => "graph",
                        PrefixPath::Auto => "auto",
                    };
                    push(format!("prefix m={dim} x{os} {pname}"), true, r);
                }
            }
        }
    }
    Ok(())
}

/// Exact truth per filter, in parallel.
pub fn truths(idx: &CollectionIndex, queries: &Vectors, n: usize, seed: u64) -> anyhow::Result<Vec<Truth>> {
    let filters = [
        ("none".to_string(), None),
        ("10%".to_string(), Some(random_filter(n, 0.10, seed))),
        ("1%".to_string(), Some(random_filter(n, 0.01, seed + 1))),
    ];
    let mut out = Vec::new();
    for (name, f) in filters {
        let p = SearchParams { k: 10, strategy: Strategy::Exact, ..Default::default() };
        let t: anyhow::Result<Vec<Vec<u32>>> = (0..queries.len())
            .into_par_iter()
            .map(|i| Ok(idx.search(queries.row(i), f.as_ref(), &p)?.hits.iter().map(|h| h.id).collect()))
            .collect();
        out.push((name, f, t?));
    }
    Ok(out)
}

/// Build figures after a declaration.
pub fn build_figures(set: &str, idx: &CollectionIndex, hnsw_s: f64, pca_s: f64, prefix: (f64, f64)) -> Build {
    let st = idx.stats();
    let n = st.points.max(1) as f64;
    let info = idx.matryoshka_info();
    let prefixes = info
        .as_ref()
        .map(|i| {
            i.prefixes
                .iter()
                .map(|p| (p.dim, p.bytes_per_vector as f64, 0.0, p.variance_kept))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut prefixes = prefixes;
    // Graph bytes per prefix are not split in the info; report the total over the prefixes.
    let prefix_total = info.as_ref().map_or(0, |i| i.memory_bytes) as f64 / n;
    let stores: f64 = prefixes.iter().map(|p| p.1).sum();
    let graphs = (prefix_total - stores).max(0.0);
    if let Some(first) = prefixes.first_mut() {
        first.2 = graphs;
    }
    Build {
        set: set.to_string(),
        n: st.points as usize,
        dim: idx.config().dim,
        hnsw_s,
        full_bytes: (idx.config().dim * 4) as f64,
        hnsw_bytes: st.graph_bytes as f64 / n,
        pca_s,
        prefix_s: prefix.0,
        prefix_graph_s: prefix.1,
        prefixes,
    }
}

/// One set to measure.
#[derive(Debug, Clone)]
pub struct SetSpec {
    /// Label in the report.
    pub label: String,
    /// Base vectors (prepared: unit length).
    pub base: Vectors,
    /// Query vectors (prepared).
    pub queries: Vectors,
    /// Also measure with the PCA rotation.
    pub pca: bool,
    /// Prefix dimensions declared for this set.
    pub dims: Vec<usize>,
}

/// Runs the whole benchmark on `sets` (label, base, queries, also with PCA). Searches are
/// single-threaded (one query at a time on this thread); builds use `o.build_threads`.
pub fn run(
    sets: Vec<SetSpec>,
    o: &Options,
    log: &mut dyn FnMut(String),
) -> anyhow::Result<(Vec<Build>, Vec<Cell>)> {
    let mut builds = Vec::new();
    let mut cells = Vec::new();
    for SetSpec { label, base, queries, pca: with_pca, dims } in sets {
        let o = &Options { dims, ..o.clone() };
        log(format!("[{label}] {} x {}, {} queries: building HNSW", base.len(), base.dim, queries.len()));
        let (idx, hnsw_s) = build_index(&base, o)?;
        log(format!("[{label}] HNSW built in {hnsw_s:.1}s; exact truth"));
        let truths = truths(&idx, &queries, base.len(), o.seed)?;
        let prefix = declare(&idx, o, None)?;
        log(format!("[{label}] prefix stores {:.2}s, prefix graphs {:.1}s", prefix.0, prefix.1));
        builds.push(build_figures(&label, &idx, hnsw_s, 0.0, prefix));
        measure_set(&label, &idx, &queries, &truths, o, true, &mut cells, log)?;
        if with_pca {
            let t = Instant::now();
            let rot = idx.fit_rotation(o.pca_sample, o.seed)?;
            let pca_s = t.elapsed().as_secs_f64();
            let prefix = declare(&idx, o, Some(rot))?;
            let pl = format!("{label} +PCA");
            log(format!(
                "[{pl}] PCA fit {pca_s:.1}s, prefix stores {:.2}s, graphs {:.1}s",
                prefix.0, prefix.1
            ));
            builds.push(build_figures(&pl, &idx, hnsw_s, pca_s, prefix));
            measure_set(&pl, &idx, &queries, &truths, o, false, &mut cells, log)?;
        }
    }
    Ok((builds, cells))
}

fn best<'a>(cells: impl Iterator<Item = &'a Cell>, target: f64) -> Option<&'a Cell> {
    cells.filter(|c| c.recall >= target).max_by(|a, b| a.qps_cpu.total_cmp(&b.qps_cpu))
}

/// The markdown report: builds, the headline ratios, every cell.
pub fn report(builds: &[Build], cells: &[Cell], o: &Options) -> String {
    let mut md = String::new();
    md.push_str("### Build and memory\n\n");
    md.push_str(
        "| set | points x dim | full vector B/vec | HNSW graph B/vec | HNSW build s | PCA fit s | prefix stores s | prefix graphs s | prefix m: store B/vec (variance kept) | prefix graphs B/vec (all m) |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for b in builds {
        let prefixes: Vec<String> = b
            .prefixes
            .iter()
            .map(|(m, s, _, v)| match v {
                Some(v) => format!("{m}: {s:.0} ({:.1}%)", v * 100.0),
                None => format!("{m}: {s:.0}"),
            })
            .collect();
        let graphs: f64 = b.prefixes.iter().map(|p| p.2).sum();
        let _ = writeln!(
            md,
            "| {} | {} x {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {:.1} | {} | {:.0} |",
            b.set,
            b.n,
            b.dim,
            b.full_bytes,
            b.hnsw_bytes,
            b.hnsw_s,
            b.pca_s,
            b.prefix_s,
            b.prefix_graph_s,
            prefixes.join(", "),
            graphs
        );
    }
    let _ = write!(
        md,
        "\n### Best single-thread QPS (per CPU-second) at recall@10 >= {}\n\n\
         | set | filter | exact full-d QPS | best full-d graph/planner (recall) QPS | best Matryoshka setting (recall) | QPS | vs exact | vs full-d graph |\n\
         |---|---|---|---|---|---|---|---|\n",
        o.target
    );
    let mut keys: Vec<(String, String)> = Vec::new();
    for c in cells {
        let key = (c.set.clone(), c.filter.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (set, filter) in &keys {
        let base_set = set.trim_end_matches(" +PCA");
        let of =
            |s: &str| -> Vec<&Cell> { cells.iter().filter(|c| c.set == s && &c.filter == filter).collect() };
        let exact = of(base_set).into_iter().find(|c| c.method.starts_with("exact"));
        let graph = best(of(base_set).into_iter().filter(|c| c.method.starts_with("full-d")), o.target);
        let mat = best(of(set).into_iter().filter(|c| c.matryoshka), o.target);
        let f = |c: Option<&Cell>| c.map_or("-".to_string(), |c| format!("{:.0}", c.qps_cpu));
        let ratio = |a: Option<&Cell>, b: Option<&Cell>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}x", a.qps_cpu / b.qps_cpu),
            _ => "-".into(),
        };
        let _ = writeln!(
            md,
            "| {set} | {filter} | {} | {} | {} | {} | {} | {} |",
            f(exact),
            graph.map_or("none reaches the target".into(), |g| format!(
                "{} {:.0} ({:.3})",
                g.method, g.qps_cpu, g.recall
            )),
            mat.map_or("none reaches the target".into(), |m| format!("{} ({:.3})", m.method, m.recall)),
            f(mat),
            ratio(mat, exact),
            ratio(mat, graph),
        );
    }
    md.push_str(
        "\n### Every setting\n\n| set | filter | method | recall@10 | QPS (CPU) | QPS (wall) | distances/query |\n|---|---|---|---|---|---|---|\n",
    );
    for c in cells {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3} | {:.0} | {:.0} | {:.0} |",
            c.set, c.filter, c.method, c.recall, c.qps_cpu, c.qps_wall, c.distances
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small end-to-end run: every cell measured, recall in range, and the full-dimension
    /// prefix-free baselines present.
    #[test]
    fn small_run_measures_every_setting() {
        let (base, queries) = synthetic(2000, 20, 64, 1);
        let o = Options {
            dims: vec![16, 32],
            oversamples: vec![2, 8],
            efs: vec![32],
            prefix_graph: true,
            m: 8,
            ef_construction: 32,
            build_threads: 1,
            pca_sample: 1000,
            seed: 3,
            target: 0.9,
        };
        let (builds, cells) = run(
            vec![SetSpec { label: "syn".into(), base, queries, pca: true, dims: vec![16, 32] }],
            &o,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(builds.len(), 2);
        assert!(builds[1].prefixes.iter().all(|p| p.3.is_some()), "PCA set reports variance kept");
        // 3 filters x (exact + 1 ef) baselines; Matryoshka: 2 dims x 2 os x (2 paths unfiltered, 1 filtered).
        assert_eq!(cells.iter().filter(|c| !c.matryoshka).count(), 6);
        assert_eq!(cells.iter().filter(|c| c.matryoshka && c.set == "syn").count(), 4 * 2 + 4 * 2);
        assert!(cells.iter().all(|c| (0.0..=1.0).contains(&c.recall) && c.qps_cpu > 0.0));
        let exact = cells.iter().find(|c| c.method.starts_with("exact")).unwrap();
        assert!((exact.recall - 1.0).abs() < 1e-12);
        let md = report(&builds, &cells, &o);
        assert!(md.contains("| syn +PCA | none |"));
    }
}
