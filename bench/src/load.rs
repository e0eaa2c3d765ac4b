//! `grove-bench load`: a load generator in its own process against a running `grove serve`.
//!
//! Three measurements over a mix of the seeded filtered workloads (round-robin, so every level
//! sees the same mix of selectivities):
//! - **Closed loop**: `c` clients (each its own connection) send one query after another for a
//!   fixed time, over REST and over gRPC, at each concurrency: QPS, p50/p99, errors, recall@k.
//! - **Batch vs in-process**: the same queries as gRPC `QueryBatch` requests (the server streams
//!   answers as its search pool finishes them), against the same queries through grove-storage
//!   in this process on a rayon pool of the server's search-thread count, over a collection built
//!   the same way. Rounds alternate so that the machine's other load hits both sides alike; the
//!   ratio is what the server's transport costs.
//! - **Under upserts**: readers on both transports while writers (one per transport) overwrite
//!   points with their own vectors and payloads (so the truth still holds); every error counts.
//!
//! The load generator shares the machine with the server: on 2 cores its own CPU (encoding,
//! decoding, scheduling) is taken from the server's, so absolute QPS is pessimistic.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use grove_storage::{CollectionConfig, HnswConfig, PayloadSchemaType, PointId, PointStruct, Storage};
use rayon::prelude::*;

use crate::data::Dataset;
use crate::measure::recall_at;
use crate::server_mode::{self, field_name, filter_json, Conn, Prepared, Target, Transport, WithTruth};

/// One query of the mix: its wire forms, its in-process request and its truth.
#[derive(Debug, Clone)]
pub struct Item {
    /// Workload it comes from.
    pub workload: String,
    /// Wire forms.
    pub prepared: Prepared,
    /// The same query for grove-storage.
    pub request: grove_storage::QueryRequest,
    /// Exact neighbours, best first.
    pub truth: Vec<u32>,
}

/// The mix: query `i` of every workload in turn, `per_workload` rounds; unfiltered workloads are
/// skipped (the load figures are about filtered queries).
pub fn mix(
    ds: &Dataset,
    wls: &[WithTruth],
    collection: &str,
    per_workload: usize,
    k: usize,
    ef: Option<usize>,
) -> anyhow::Result<Vec<Item>> {
    let mut out = Vec::new();
    for i in 0..per_workload.min(ds.queries.len()) {
        for (w, gt) in wls {
            let (Some(f), Some(t)) = (w.filters.get(i), gt.get(i)) else { continue };
            let Some(fj) = filter_json(f) else { continue };
            let v = ds.queries.row(i);
            let prepared = server_mode::prepare(collection, v, Some(fj.clone()), k, ef)?;
            let mut request = grove_storage::QueryRequest::new(v.to_vec(), k);
            request.ef = ef;
            request.filter = Some(serde_json::from_value(fj).context("filter for grove-storage")?);
            out.push(Item { workload: w.name.clone(), prepared, request, truth: t.clone() });
        }
    }
    anyhow::ensure!(!out.is_empty(), "no filtered query in the mix (workloads {:?})", wls.len());
    Ok(out)
}

/// Figures of one closed-loop run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadCell {
    /// What ran (e.g. "grpc" or "rest readers").
    pub label: String,
    /// Clients.
    pub concurrency: usize,
    /// Requests answered inside the measured window.
    pub ok: u64,
    /// Requests that failed (any error: transport, status, malformed answer).
    pub errors: u64,
    /// Answered requests per second of the window.
    pub qps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Mean recall@k of the answers.
    pub recall: f64,
    /// The first error's text, if any.
    pub first_error: Option<String>,
}

#[derive(Debug, Default)]
struct Tally {
    lat_us: Vec<u32>,
    ok: u64,
    errors: u64,
    recall_sum: f64,
    recall_n: u64,
    first_error: Option<String>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.lat_us.extend(o.lat_us);
        self.ok += o.ok;
        self.errors += o.errors;
        self.recall_sum += o.recall_sum;
        self.recall_n += o.recall_n;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }

    fn cell(mut self, label: &str, concurrency: usize, window: Duration) -> LoadCell {
        self.lat_us.sort_unstable();
        let pct = |p: f64| {
            if self.lat_us.is_empty() {
                0.0
            } else {
                f64::from(self.lat_us[((self.lat_us.len() - 1) as f64 * p).round() as usize]) / 1e3
            }
        };
        LoadCell {
            label: label.to_string(),
            concurrency,
            ok: self.ok,
            errors: self.errors,
            qps: self.ok as f64 / window.as_secs_f64().max(1e-9),
            p50_ms: pct(0.5),
            p99_ms: pct(0.99),
            recall: if self.recall_n == 0 { 0.0 } else { self.recall_sum / self.recall_n as f64 },
            first_error: self.first_error,
        }
    }
}

/// `c` clients querying the mix in a closed loop; only requests that start after `warmup` and end
/// before `warmup + window` count.
async fn readers(
    t: &Target,
    tr: Transport,
    c: usize,
    collection: &str,
    items: &Arc<Vec<Item>>,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<Tally>>> {
    let mut conns = Vec::with_capacity(c);
    for _ in 0..c {
        conns.push(Conn::connect(t, tr).await?);
    }
    // Connections first, then one common start, so that no client is still connecting when the
    // window opens.
    let start = Instant::now() + Duration::from_millis(50);
    let (from, until) = (start + warmup, start + warmup + window);
    let cursor = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(c);
    for conn in conns {
        let (items, cursor, coll) = (Arc::clone(items), Arc::clone(&cursor), collection.to_string());
        handles.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            tokio::time::sleep_until(start.into()).await;
            loop {
                let i = cursor.fetch_add(1, Ordering::Relaxed) % items.len();
                let it = &items[i];
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                let r = conn.query(&coll, &it.prepared).await;
                let t1 = Instant::now();
                if t0 < from || t1 > until {
                    continue;
                }
                match r {
                    Ok(ids) => {
                        tally.ok += 1;
                        tally.lat_us.push(u32::try_from((t1 - t0).as_micros()).unwrap_or(u32::MAX));
                        if let Some(r) = recall_at(&ids, &it.truth, it.prepared.k) {
                            tally.recall_sum += r;
                            tally.recall_n += 1;
                        }
                    }
                    Err(e) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            tally
        }));
    }
    Ok(handles)
}

async fn join(handles: Vec<tokio::task::JoinHandle<Tally>>) -> anyhow::Result<Tally> {
    let mut all = Tally::default();
    for h in handles {
        all.merge(h.await.context("a load task panicked")?);
    }
    Ok(all)
}

/// Closed-loop readers at concurrency `c` over one transport.
pub async fn closed_loop(
    t: &Target,
    tr: Transport,
    c: usize,
    collection: &str,
    items: &Arc<Vec<Item>>,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<LoadCell> {
    let hs = readers(t, tr, c, collection, items, warmup, window).await?;
    Ok(join(hs).await?.cell(tr.name(), c, window))
}

/// Figures of the upsert phase.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UpsertReport {
    /// Readers per transport.
    pub readers: Vec<LoadCell>,
    /// Writers per transport: `ok` = upsert requests acknowledged, `qps` = points per second.
    pub writers: Vec<LoadCell>,
    /// Points overwritten in the window.
    pub points_written: u64,
    /// Points the collection holds afterwards (must equal the dataset's).
    pub count_after: u64,
}

/// Readers (`c` per transport) while one writer per transport overwrites points (batches of
/// `batch`, `wait=true`) with their own vectors and payloads, writers on disjoint ids.
#[expect(clippy::too_many_arguments, reason = "one flat call per phase reads best")]
pub async fn under_upserts(
    t: &Target,
    ds: &Arc<Dataset>,
    c: usize,
    batch: usize,
    collection: &str,
    items: &Arc<Vec<Item>>,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<UpsertReport> {
    let trs = [Transport::Grpc, Transport::Rest];
    let mut reader_handles = Vec::new();
    for tr in trs {
        reader_handles.push(readers(t, tr, c, collection, items, warmup, window).await?);
    }
    let start = Instant::now();
    let until = start + warmup + window;
    let n = ds.base.len();
    let batch = batch.max(1);
    let mut writer_handles = Vec::new();
    for (w, tr) in trs.into_iter().enumerate() {
        let conn = Conn::connect(t, tr).await?;
        let (ds, coll) = (Arc::clone(ds), collection.to_string());
        writer_handles.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            // Writer w takes batches w, w + 2, w + 4, ...: disjoint ids.
            let mut b = w;
            while Instant::now() < until {
                let first = (b * batch) % n;
                let ids: Vec<usize> = (first..(first + batch).min(n)).collect();
                let t0 = Instant::now();
                match conn.upsert_rows(&coll, &ds, &ids).await {
                    Ok(()) => {
                        tally.ok += 1;
                        tally.recall_n += ids.len() as u64;
                        tally.lat_us.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                    }
                    Err(e) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
                b += 2;
            }
            tally
        }));
    }
    let mut rep = UpsertReport::default();
    for (tr, hs) in trs.iter().zip(reader_handles) {
        rep.readers.push(join(hs).await?.cell(&format!("{} readers", tr.name()), c, window));
    }
    let total = start.elapsed();
    for (tr, h) in trs.iter().zip(writer_handles) {
        let tally = h.await.context("a writer panicked")?;
        let points = tally.recall_n;
        rep.points_written += points;
        let mut cell = Tally { recall_n: 0, ..tally }.cell(&format!("{} writer", tr.name()), 1, total);
        cell.qps = points as f64 / total.as_secs_f64().max(1e-9);
        cell.recall = 0.0;
        rep.writers.push(cell);
    }
    let conn = Conn::connect(t, Transport::Grpc).await?;
    rep.count_after = conn.info(collection).await?.map_or(0, |(_, p, _)| p);
    Ok(rep)
}

/// The in-process twin of the server's collection: grove-storage over an in-memory KV with the
/// same collection config, payload indexes and upsert batches, graph built by the same
/// background indexer.
pub fn build_in_process(
    ds: &Dataset,
    collection: &str,
    m: usize,
    ef_construction: usize,
    batch: usize,
) -> anyhow::Result<Storage> {
    let s = Storage::in_memory();
    let mut cfg = CollectionConfig::new(ds.base.dim, ds.metric);
    cfg.hnsw = HnswConfig { m, ef_construction };
    s.create_collection(collection, cfg)?;
    for (f, schema) in server_mode::INDEXED_FIELDS {
        let schema = match schema {
            grove_client::pb::PayloadSchemaType::Integer => PayloadSchemaType::Integer,
            grove_client::pb::PayloadSchemaType::Float => PayloadSchemaType::Float,
            grove_client::pb::PayloadSchemaType::Bool => PayloadSchemaType::Bool,
            grove_client::pb::PayloadSchemaType::Datetime => PayloadSchemaType::Datetime,
            grove_client::pb::PayloadSchemaType::Text => PayloadSchemaType::Text,
            grove_client::pb::PayloadSchemaType::Uuid => PayloadSchemaType::Uuid,
            grove_client::pb::PayloadSchemaType::Keyword
            | grove_client::pb::PayloadSchemaType::Unspecified => PayloadSchemaType::Keyword,
        };
        s.create_field_index(collection, field_name(f), schema)?;
    }
    let n = ds.base.len();
    for start in (0..n).step_by(batch.max(1)) {
        let pts = (start..(start + batch.max(1)).min(n))
            .map(|i| PointStruct {
                id: PointId::Num(i as u64),
                vector: ds.base.row(i).to_vec(),
                payload: server_mode::payload(&ds.records[i]).as_object().cloned(),
            })
            .collect();
        s.upsert(collection, pts)?;
    }
    anyhow::ensure!(
        s.wait_indexed(collection, Duration::from_secs(3600))?,
        "the in-process graph did not catch up within an hour"
    );
    Ok(s)
}

/// One round of the batch comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchRound {
    /// Queries per second through gRPC `QueryBatch`.
    pub grpc_qps: f64,
    /// Queries per second through grove-storage in this process.
    pub in_process_qps: f64,
    /// Mean recall@k of the gRPC answers.
    pub grpc_recall: f64,
    /// Mean recall@k of the in-process answers.
    pub in_process_recall: f64,
    /// CPU seconds the server process spent on the gRPC round (when its pid was given).
    pub grpc_server_cpu_s: Option<f64>,
    /// CPU seconds this process spent on the in-process round.
    pub in_process_cpu_s: f64,
}

/// CPU seconds (user + system) a process has used, from `/proc/<pid>/stat`.
pub fn proc_cpu_s(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: state is 0, utime 11, stime 12.
    let rest = s.get(s.rfind(')')? + 1..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| ticks / hz as f64)
}

fn mean_recall(answers: &[Vec<u32>], items: &[Item]) -> f64 {
    let rs: Vec<f64> =
        answers.iter().zip(items).filter_map(|(a, it)| recall_at(a, &it.truth, it.prepared.k)).collect();
    if rs.is_empty() {
        0.0
    } else {
        rs.iter().sum::<f64>() / rs.len() as f64
    }
}

/// All `items` as gRPC batches of `batch_size` (one request in flight; the server spreads each
/// batch over its search pool and streams the answers).
pub async fn grpc_batch_round(
    t: &Target,
    collection: &str,
    items: &[Item],
    batch_size: usize,
) -> anyhow::Result<(Duration, Vec<Vec<u32>>)> {
    let Conn::Grpc(client) = Conn::connect(t, Transport::Grpc).await? else {
        anyhow::bail!("gRPC connection expected");
    };
    let t0 = Instant::now();
    let mut answers = Vec::with_capacity(items.len());
    for chunk in items.chunks(batch_size.max(1)) {
        let qs = chunk.iter().map(|it| it.prepared.grpc.clone()).collect();
        for r in client.query_batch(collection, qs).await? {
            answers.push(
                r.hits
                    .iter()
                    .map(|h| match h.id {
                        grove_client::PointId::Num(n) => u32::try_from(n).context("id out of range"),
                        grove_client::PointId::Uuid(_) => anyhow::bail!("UUID id"),
                    })
                    .collect::<anyhow::Result<Vec<u32>>>()?,
            );
        }
    }
    Ok((t0.elapsed(), answers))
}

/// All `items` through grove-storage on `pool`, spread over its threads as the server spreads a
/// batch over its search pool.
pub fn in_process_round(
    s: &Storage,
    collection: &str,
    items: &[Item],
    pool: &rayon::ThreadPool,
) -> anyhow::Result<(Duration, Vec<Vec<u32>>)> {
    let t0 = Instant::now();
    let answers = pool.install(|| {
        items
            .par_iter()
            .with_max_len(1)
            .map(|it| {
                let r = s.query(collection, &it.request)?;
                r.points
                    .iter()
                    .map(|p| match p.id {
                        PointId::Num(n) => u32::try_from(n).context("id out of range"),
                        PointId::Uuid(_) => anyhow::bail!("UUID id"),
                    })
                    .collect::<anyhow::Result<Vec<u32>>>()
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    Ok((t0.elapsed(), answers))
}

/// Alternating rounds of [`grpc_batch_round`] and [`in_process_round`].
#[expect(clippy::too_many_arguments, reason = "one flat call per phase reads best")]
pub fn batch_vs_in_process(
    rt: &tokio::runtime::Runtime,
    t: &Target,
    s: &Storage,
    collection: &str,
    items: &[Item],
    batch_size: usize,
    rounds: usize,
    threads: usize,
    server_pid: Option<u32>,
    log: &mut (dyn FnMut(String) + Send),
) -> anyhow::Result<Vec<BatchRound>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build()?;
    // Warm both sides (caches, connections, the server's pool).
    let warm = &items[..items.len().min(64)];
    rt.block_on(grpc_batch_round(t, collection, warm, batch_size))?;
    in_process_round(s, collection, warm, &pool)?;
    let mut out = Vec::new();
    for r in 0..rounds {
        let c0 = server_pid.and_then(proc_cpu_s);
        let (gd, ga) = rt.block_on(grpc_batch_round(t, collection, items, batch_size))?;
        let grpc_server_cpu_s = c0.and_then(|c0| Some(server_pid.and_then(proc_cpu_s)? - c0));
        let p0 = crate::measure::process_cpu_time();
        let (pd, pa) = in_process_round(s, collection, items, &pool)?;
        let in_process_cpu_s = crate::measure::process_cpu_time().saturating_sub(p0).as_secs_f64();
        let round = BatchRound {
            grpc_qps: items.len() as f64 / gd.as_secs_f64().max(1e-9),
            in_process_qps: items.len() as f64 / pd.as_secs_f64().max(1e-9),
            grpc_recall: mean_recall(&ga, items),
            in_process_recall: mean_recall(&pa, items),
            grpc_server_cpu_s,
            in_process_cpu_s,
        };
        log(format!(
            "[batch] round {}: gRPC QueryBatch {:.1} QPS (recall {:.3}, server CPU {}), in-process {:.1} QPS (recall \
             {:.3}, CPU {:.2}s), ratio {:.3}",
            r + 1,
            round.grpc_qps,
            round.grpc_recall,
            grpc_server_cpu_s.map_or("unknown".to_string(), |c| format!("{c:.2}s")),
            round.in_process_qps,
            round.in_process_recall,
            in_process_cpu_s,
            round.grpc_qps / round.in_process_qps.max(1e-9)
        ));
        out.push(round);
    }
    Ok(out)
}

/// Total-work ratio over all rounds: (queries / gRPC seconds) / (queries / in-process seconds).
pub fn overall_ratio(rounds: &[BatchRound]) -> f64 {
    let g: f64 = rounds.iter().map(|r| 1.0 / r.grpc_qps.max(1e-9)).sum();
    let p: f64 = rounds.iter().map(|r| 1.0 / r.in_process_qps.max(1e-9)).sum();
    p / g.max(1e-12)
}

/// Markdown table of closed-loop cells.
pub fn load_table(cells: &[LoadCell]) -> String {
    let mut s = String::from(
        "| transport | clients | answered | errors | QPS | p50 ms | p99 ms | recall@10 |\n|---|---|---|---|---|---|---|---|\n",
    );
    for c in cells {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {:.2} | {:.2} | {:.3} |\n",
            c.label, c.concurrency, c.ok, c.errors, c.qps, c.p50_ms, c.p99_ms, c.recall
        ));
    }
    s
}

/// Markdown table of the batch rounds and their overall ratio.
pub fn batch_table(rounds: &[BatchRound], threads: usize) -> String {
    let mut s = format!(
        "| round | gRPC QueryBatch QPS | in-process QPS ({threads} threads) | ratio | server CPU s (gRPC) | in-process CPU s | recall@10 gRPC / in-process |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for (i, r) in rounds.iter().enumerate() {
        s.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.3} | {} | {:.2} | {:.3} / {:.3} |\n",
            i + 1,
            r.grpc_qps,
            r.in_process_qps,
            r.grpc_qps / r.in_process_qps.max(1e-9),
            r.grpc_server_cpu_s.map_or("-".to_string(), |c| format!("{c:.2}")),
            r.in_process_cpu_s,
            r.grpc_recall,
            r.in_process_recall
        ));
    }
    let g: Option<f64> = rounds.iter().map(|r| r.grpc_server_cpu_s).sum();
    let p: f64 = rounds.iter().map(|r| r.in_process_cpu_s).sum();
    s.push_str(&format!(
        "| all | | | **{:.3}** | {} | {:.2} | |\n",
        overall_ratio(rounds),
        g.map_or("-".to_string(), |g| format!("{g:.2}")),
        p
    ));
    if let Some(g) = g {
        s.push_str(&format!(
            "\nIn CPU time (what the machine's other jobs do not change): the server spent {:.2} CPU-s on the gRPC \
             rounds, this process {p:.2} CPU-s on the in-process rounds; CPU-time ratio (in-process CPU / server \
             CPU, same queries) {:.3}.\n",
            g,
            p / g.max(1e-9)
        ));
    }
    s
}

/// Markdown table of the upsert phase.
pub fn upsert_table(r: &UpsertReport) -> String {
    let mut s = load_table(&r.readers);
    s.push_str(
        "\n| writer | upsert requests ok | errors | points/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n",
    );
    for w in &r.writers {
        s.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.2} | {:.2} |\n",
            w.label, w.ok, w.errors, w.qps, w.p50_ms, w.p99_ms
        ));
    }
    s.push_str(&format!(
        "\nPoints overwritten: {}; points in the collection afterwards: {}.\n",
        r.points_written, r.count_after
    ));
    s
}
