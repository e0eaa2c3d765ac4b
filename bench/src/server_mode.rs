//! `grove-bench server`: the bench's seeded workloads through a running `grove serve`, over gRPC
//! (the Rust client, tonic) or REST (reqwest), so the server's own cost (transport,
//! serialisation, filter parsing, scheduling on its search pool) shows next to the in-process
//! figures of `grove-bench arxiv`.
//!
//! The dataset is ingested as points `0..n` (id = row, so recall is scored against the same
//! cached ground truth as the in-process run) with the payload fields the workloads filter on,
//! each behind a payload index: `number_of_sub_categories` and `date` (integer),
//! `main_categories`, `sub_categories` and `authors` (keyword lists). The bench's
//! [`Filter`]s become the Qdrant-shaped JSON both transports take ([`filter_json`]).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use grove_client::{pb, ClientConfig, GroveClient, Point, PointId, Query};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::data::{Dataset, Record};
use crate::measure::{self, Cell, Outcome};
use crate::payload::PayloadIndex;
use crate::run::TRUTH_K;
use crate::truth;
use crate::workload::{self, Field, Filter, Kind, Workload};

/// Where the server listens.
#[derive(Debug, Clone)]
pub struct Target {
    /// REST base URL, e.g. `http://127.0.0.1:6333`.
    pub rest: String,
    /// gRPC endpoint, e.g. `http://127.0.0.1:6334`.
    pub grpc: String,
    /// Sent as `api-key` (header / metadata) when set.
    pub api_key: Option<String>,
}

/// How requests reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// grove.v1 over HTTP/2 (grove-client).
    Grpc,
    /// Qdrant-shaped JSON over HTTP/1.1.
    Rest,
}

impl Transport {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::Rest => "rest",
        }
    }

    /// `grpc`, `rest` or `both`.
    pub fn parse_list(s: &str) -> anyhow::Result<Vec<Transport>> {
        Ok(match s {
            "grpc" => vec![Transport::Grpc],
            "rest" => vec![Transport::Rest],
            "both" => vec![Transport::Grpc, Transport::Rest],
            _ => bail!("unknown transport {s:?} (grpc, rest, both)"),
        })
    }
}

/// The payload field a workload [`Field`] is stored under.
pub fn field_name(f: Field) -> &'static str {
    match f {
        Field::NumberOfSubCategories => "number_of_sub_categories",
        Field::Date => "date",
        Field::MainCategories => "main_categories",
        Field::SubCategories => "sub_categories",
        Field::Authors => "authors",
    }
}

/// Every payload field with the index type the server builds for it.
pub const INDEXED_FIELDS: [(Field, pb::PayloadSchemaType); 5] = [
    (Field::NumberOfSubCategories, pb::PayloadSchemaType::Integer),
    (Field::Date, pb::PayloadSchemaType::Integer),
    (Field::MainCategories, pb::PayloadSchemaType::Keyword),
    (Field::SubCategories, pb::PayloadSchemaType::Keyword),
    (Field::Authors, pb::PayloadSchemaType::Keyword),
];

fn schema_name(s: pb::PayloadSchemaType) -> &'static str {
    match s {
        pb::PayloadSchemaType::Integer => "integer",
        pb::PayloadSchemaType::Float => "float",
        pb::PayloadSchemaType::Bool => "bool",
        pb::PayloadSchemaType::Datetime => "datetime",
        pb::PayloadSchemaType::Text => "text",
        pb::PayloadSchemaType::Uuid => "uuid",
        pb::PayloadSchemaType::Keyword | pb::PayloadSchemaType::Unspecified => "keyword",
    }
}

/// The payload stored with a point: the fields the workloads filter on.
pub fn payload(r: &Record) -> Json {
    json!({
        field_name(Field::NumberOfSubCategories): r.number_of_sub_categories,
        field_name(Field::Date): r.date,
        field_name(Field::MainCategories): r.main_categories,
        field_name(Field::SubCategories): r.sub_categories,
        field_name(Field::Authors): r.authors,
    })
}

fn condition(f: &Filter) -> Json {
    match f {
        Filter::All => json!({"must": []}),
        Filter::Eq { field, value } => json!({"key": field_name(*field), "match": {"value": value}}),
        Filter::Range { field, lo, hi } => {
            json!({"key": field_name(*field), "range": {"gte": lo, "lte": hi}})
        }
        Filter::Contains { field, value } => json!({"key": field_name(*field), "match": {"value": value}}),
        Filter::And(parts) => json!({"must": parts.iter().map(condition).collect::<Vec<_>>()}),
    }
}

/// The Qdrant-shaped filter of a bench [`Filter`] (`None` for no filter). A keyword `match` on a
/// list field holds when the list contains the value, which is the bench's `Contains`.
pub fn filter_json(f: &Filter) -> Option<Json> {
    match f {
        Filter::All => None,
        Filter::And(parts) => Some(json!({"must": parts.iter().map(condition).collect::<Vec<_>>()})),
        leaf => Some(json!({"must": [condition(leaf)]})),
    }
}

/// One query in both wire forms, built once so the measuring loops only send.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The gRPC request (no payload returned).
    pub grpc: Query,
    /// The REST body of `POST /collections/{c}/points/query`.
    pub rest: Vec<u8>,
    /// The filter as JSON (also what the in-process comparison parses).
    pub filter: Option<Json>,
    /// The query vector.
    pub vector: Vec<f32>,
    /// k.
    pub k: usize,
    /// ef (`None`: the collection's default).
    pub ef: Option<usize>,
}

/// Builds a query's wire forms.
pub fn prepare(
    collection: &str,
    vector: &[f32],
    filter: Option<Json>,
    k: usize,
    ef: Option<usize>,
) -> anyhow::Result<Prepared> {
    let mut q = Query::new(collection, vector.to_vec()).limit(k as u64).with_payload(false);
    if let Some(f) = &filter {
        q = q.filter_json(f).with_context(|| format!("filter {f}"))?;
    }
    if let Some(ef) = ef {
        q = q.ef(ef as u64);
    }
    let mut body = json!({"query": vector, "limit": k, "with_payload": false});
    if let Some(f) = &filter {
        body["filter"] = f.clone();
    }
    if let Some(ef) = ef {
        body["params"] = json!({"hnsw_ef": ef});
    }
    Ok(Prepared { grpc: q, rest: serde_json::to_vec(&body)?, filter, vector: vector.to_vec(), k, ef })
}

/// Qdrant's response envelope.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    result: Option<T>,
    #[serde(default)]
    status: Json,
}

#[derive(Debug, Deserialize)]
struct QueryOut {
    points: Vec<HitOut>,
}

#[derive(Debug, Deserialize)]
struct HitOut {
    id: Json,
}

#[derive(Debug, Deserialize)]
struct InfoOut {
    status: String,
    points_count: u64,
    indexed_vectors_count: u64,
}

/// A REST connection (reqwest keeps its own keep-alive pool per client).
#[derive(Debug, Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
    api_key: Option<String>,
}

impl Rest {
    /// A client for `base` (e.g. `http://127.0.0.1:6333`).
    pub fn new(base: &str, api_key: Option<&str>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
        Ok(Rest { http, base: base.trim_end_matches('/').to_string(), api_key: api_key.map(str::to_string) })
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(k) = &self.api_key {
            req = req.header("api-key", k);
        }
        if let Some(b) = body {
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(b);
        }
        let resp = req.send().await.with_context(|| format!("{method} {url}"))?;
        let code = resp.status();
        let bytes = resp.bytes().await.with_context(|| format!("{method} {url}: reading the body"))?;
        let env: Envelope<T> = serde_json::from_slice(&bytes).with_context(|| {
            format!("{method} {url}: HTTP {code}, unexpected body {}", String::from_utf8_lossy(&bytes))
        })?;
        match env.result {
            Some(r) if code.is_success() => Ok(r),
            _ => bail!("{method} {url}: HTTP {code}: {}", env.status),
        }
    }

    /// Sends a prepared query body; the hit ids, best first.
    pub async fn query(&self, collection: &str, body: &[u8]) -> anyhow::Result<Vec<u32>> {
        let out: QueryOut = self
            .send(
                reqwest::Method::POST,
                &format!("/collections/{collection}/points/query"),
                Some(body.to_vec()),
            )
            .await?;
        out.points.iter().map(|h| json_id(&h.id)).collect()
    }

    /// Upserts points given as a JSON array of `{id, vector, payload}`; waits until applied.
    pub async fn upsert(&self, collection: &str, points: Json) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&json!({"points": points}))?;
        let _: Json = self
            .send(reqwest::Method::PUT, &format!("/collections/{collection}/points?wait=true"), Some(body))
            .await?;
        Ok(())
    }
}

fn json_id(v: &Json) -> anyhow::Result<u32> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .with_context(|| format!("hit id {v} is not a point id of this bench (0..2^32)"))
}

fn grpc_id(id: &PointId) -> anyhow::Result<u32> {
    match id {
        PointId::Num(n) => {
            u32::try_from(*n).with_context(|| format!("hit id {n} is out of the bench's range"))
        }
        PointId::Uuid(u) => bail!("hit id {u} is a UUID; the bench stores integer ids"),
    }
}

/// One client connection over one transport.
#[derive(Debug, Clone)]
pub enum Conn {
    /// gRPC (its own HTTP/2 connection; boxed: the client is ~800 bytes).
    Grpc(Box<GroveClient>),
    /// REST.
    Rest(Rest),
}

impl Conn {
    /// Opens a new connection (each call is a separate client, as separate users would be).
    pub async fn connect(t: &Target, tr: Transport) -> anyhow::Result<Conn> {
        Ok(match tr {
            Transport::Grpc => {
                let mut c = ClientConfig::new(t.grpc.clone()).timeout(Duration::from_secs(120));
                if let Some(k) = &t.api_key {
                    c = c.api_key(k.clone());
                }
                Conn::Grpc(Box::new(
                    GroveClient::connect_with(c).await.with_context(|| format!("gRPC {}", t.grpc))?,
                ))
            }
            Transport::Rest => Conn::Rest(Rest::new(&t.rest, t.api_key.as_deref())?),
        })
    }

    /// Runs one query; the hit ids, best first.
    pub async fn query(&self, collection: &str, q: &Prepared) -> anyhow::Result<Vec<u32>> {
        match self {
            Conn::Grpc(c) => c.query(q.grpc.clone()).await?.hits.iter().map(|h| grpc_id(&h.id)).collect(),
            Conn::Rest(r) => r.query(collection, &q.rest).await,
        }
    }

    /// Upserts rows `ids` of `ds` (id = row, same vector and payload); waits until applied.
    pub async fn upsert_rows(&self, collection: &str, ds: &Dataset, ids: &[usize]) -> anyhow::Result<()> {
        match self {
            Conn::Grpc(c) => {
                let pts: Vec<Point> = ids
                    .iter()
                    .map(|&i| {
                        Point::new(i as u64, ds.base.row(i).to_vec()).with_payload(payload(&ds.records[i]))
                    })
                    .collect();
                c.upsert(collection, &pts, true).await?;
                Ok(())
            }
            Conn::Rest(r) => {
                let pts: Vec<Json> = ids
                    .iter()
                    .map(|&i| json!({"id": i, "vector": ds.base.row(i), "payload": payload(&ds.records[i])}))
                    .collect();
                r.upsert(collection, Json::Array(pts)).await
            }
        }
    }

    /// `(status, points, indexed points)` of a collection; `None` when it does not exist.
    pub async fn info(&self, collection: &str) -> anyhow::Result<Option<(String, u64, u64)>> {
        match self {
            Conn::Grpc(c) => match c.get_collection(collection).await {
                Ok(i) => Ok(Some((i.status, i.points_count, i.indexed_vectors_count))),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e.into()),
            },
            Conn::Rest(r) => {
                let url = format!("{}/collections/{collection}", r.base);
                let mut req = r.http.get(&url);
                if let Some(k) = &r.api_key {
                    req = req.header("api-key", k);
                }
                let resp = req.send().await.with_context(|| format!("GET {url}"))?;
                if resp.status() == reqwest::StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                let i: InfoOut =
                    r.send(reqwest::Method::GET, &format!("/collections/{collection}"), None).await?;
                Ok(Some((i.status, i.points_count, i.indexed_vectors_count)))
            }
        }
    }

    /// Deletes (if present) and creates the collection with the payload indexes.
    pub async fn create(
        &self,
        collection: &str,
        ds: &Dataset,
        m: usize,
        ef_construction: usize,
    ) -> anyhow::Result<()> {
        let dim = ds.base.dim;
        match self {
            Conn::Grpc(c) => {
                c.delete_collection(collection).await?;
                let hnsw = pb::HnswConfig {
                    m: Some(m as u64),
                    ef_construction: Some(ef_construction as u64),
                    ..Default::default()
                };
                c.create_collection(collection, dim as u64, distance(ds)?, Some(hnsw)).await?;
                for (f, s) in INDEXED_FIELDS {
                    c.create_field_index(collection, field_name(f), s).await?;
                }
            }
            Conn::Rest(r) => {
                if self.info(collection).await?.is_some() {
                    let _: Json =
                        r.send(reqwest::Method::DELETE, &format!("/collections/{collection}"), None).await?;
                }
                let dist = match distance(ds)? {
                    pb::Distance::Dot => "Dot",
                    pb::Distance::Euclid => "Euclid",
                    pb::Distance::Cosine | pb::Distance::Unspecified => "Cosine",
                };
                let body = json!({
                    "vectors": {"size": dim, "distance": dist},
                    "hnsw_config": {"m": m, "ef_construct": ef_construction},
                });
                let _: Json = r
                    .send(
                        reqwest::Method::PUT,
                        &format!("/collections/{collection}"),
                        Some(serde_json::to_vec(&body)?),
                    )
                    .await?;
                for (f, s) in INDEXED_FIELDS {
                    let body = json!({"field_name": field_name(f), "field_schema": schema_name(s)});
                    let _: Json = r
                        .send(
                            reqwest::Method::PUT,
                            &format!("/collections/{collection}/index?wait=true"),
                            Some(serde_json::to_vec(&body)?),
                        )
                        .await?;
                }
            }
        }
        Ok(())
    }
}

fn distance(ds: &Dataset) -> anyhow::Result<pb::Distance> {
    Ok(match ds.metric {
        grove_index::Metric::Cosine => pb::Distance::Cosine,
        grove_index::Metric::Dot => pb::Distance::Dot,
        grove_index::Metric::L2 => pb::Distance::Euclid,
    })
}

/// How to load the dataset into the server.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Collection name.
    pub collection: String,
    /// Transport of the upserts (and of creating the collection).
    pub via: Transport,
    /// Points per upsert request.
    pub batch: usize,
    /// HNSW M of the collection.
    pub m: usize,
    /// HNSW ef_construction of the collection.
    pub ef_construction: usize,
    /// Keep an existing collection that already holds the dataset's point count.
    pub reuse: bool,
    /// Draw a progress bar (stderr).
    pub progress: bool,
    /// Give up waiting for the graph after this long.
    pub index_timeout: Duration,
}

/// What ingest cost.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestReport {
    /// Points in the collection.
    pub points: u64,
    /// Whether an existing collection was reused (then nothing was uploaded).
    pub reused: bool,
    /// Seconds of upserts (each request waits until durable).
    pub upsert_s: f64,
    /// Seconds from the last upsert until the graph covered every point.
    pub index_wait_s: f64,
    /// Transport of the upserts.
    pub via: Transport,
}

/// Creates the collection and uploads the dataset (unless `reuse` finds it there), then waits
/// until the server's graph covers every point.
pub async fn ingest(
    t: &Target,
    ds: &Dataset,
    o: &IngestOptions,
    log: &mut (dyn FnMut(String) + Send),
) -> anyhow::Result<IngestReport> {
    let conn = Conn::connect(t, o.via).await?;
    let n = ds.base.len() as u64;
    let existing = conn.info(&o.collection).await?;
    let reused = o.reuse && existing.as_ref().is_some_and(|(_, p, _)| *p == n);
    let mut upsert_s = 0.0;
    if reused {
        log(format!("[ingest] reusing collection {:?} ({n} points)", o.collection));
    } else {
        conn.create(&o.collection, ds, o.m, o.ef_construction).await?;
        let bar = if o.progress { ProgressBar::new(n) } else { ProgressBar::hidden() };
        if let Ok(style) = ProgressStyle::with_template(
            "[ingest] {bar:40.cyan/blue} {pos}/{len} points ({per_sec}, eta {eta}) {msg}",
        ) {
            bar.set_style(style);
        }
        bar.set_message(format!("over {}", o.via.name()));
        let t0 = Instant::now();
        let ids: Vec<usize> = (0..ds.base.len()).collect();
        for chunk in ids.chunks(o.batch.max(1)) {
            conn.upsert_rows(&o.collection, ds, chunk)
                .await
                .with_context(|| format!("upserting points {}..", chunk[0]))?;
            bar.inc(chunk.len() as u64);
        }
        bar.finish();
        upsert_s = t0.elapsed().as_secs_f64();
        log(format!(
            "[ingest] {n} points over {} in {upsert_s:.1}s ({:.0} points/s, batches of {}, wait=true)",
            o.via.name(),
            n as f64 / upsert_s.max(1e-9),
            o.batch
        ));
    }
    let t0 = Instant::now();
    let bar = if o.progress { ProgressBar::new(n) } else { ProgressBar::hidden() };
    if let Ok(style) =
        ProgressStyle::with_template("[index] {bar:40.green/blue} {pos}/{len} points in the graph")
    {
        bar.set_style(style);
    }
    loop {
        let (status, points, indexed) = conn
            .info(&o.collection)
            .await?
            .with_context(|| format!("collection {:?} vanished", o.collection))?;
        bar.set_position(indexed);
        if points != n {
            bail!("collection {:?} holds {points} points, expected {n}", o.collection);
        }
        if status == "green" && indexed >= points {
            break;
        }
        if t0.elapsed() > o.index_timeout {
            bail!(
                "the graph covers {indexed} of {points} points after {:?} (status {status})",
                o.index_timeout
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bar.finish_and_clear();
    let index_wait_s = t0.elapsed().as_secs_f64();
    log(format!("[index] graph complete {index_wait_s:.1}s after the last upsert"));
    Ok(IngestReport { points: n, reused, upsert_s, index_wait_s, via: o.via })
}

/// A workload with its exact ground truth.
pub type WithTruth = (Workload, Vec<Vec<u32>>);

/// The seeded workloads of `kinds` over `ds` (all `ds.queries`), with ground truth from the cache
/// in `cache` (computed and stored when absent): the same filters and truth as `grove-bench
/// arxiv` with the same seed.
pub fn workloads(
    ds: &Dataset,
    kinds: &[Kind],
    seed: u64,
    cache: &std::path::Path,
    log: &mut (dyn FnMut(String) + Send),
) -> Vec<WithTruth> {
    let index = PayloadIndex::build(&ds.records);
    let key = truth::dataset_key(ds);
    kinds
        .iter()
        .map(|&kind| {
            let w = workload::generate(kind, &ds.records, &index, ds.queries.len(), seed);
            let (gt, cached) = truth::get_or_compute(ds, key, &w, TRUTH_K, cache);
            log(format!(
                "[workload] {:<12} ground truth {}",
                w.name,
                if cached { "cached" } else { "computed" }
            ));
            (w, gt)
        })
        .collect()
}

/// What to measure through the server.
#[derive(Debug, Clone)]
pub struct MeasureOptions {
    /// Collection name.
    pub collection: String,
    /// Transports measured (one after the other).
    pub transports: Vec<Transport>,
    /// ef values (`0`: the collection's default).
    pub efs: Vec<usize>,
    /// k (recall@k).
    pub k: usize,
    /// At most this many queries per workload...
    pub max_queries: usize,
    /// ...and stop a workload after this much time once `min_queries` are done.
    pub budget: Duration,
    /// Queries measured at least per workload (or all of them).
    pub min_queries: usize,
}

/// Single-client measurement of every workload: one query at a time, each timed from send to
/// decoded answer, scored against the truth. Cells are per workload and selectivity bucket
/// (`Cell::strategy` holds the transport; `qps_cpu` is 0: the server's CPU is not ours to read).
pub async fn measure(
    t: &Target,
    ds: &Dataset,
    wls: &[WithTruth],
    o: &MeasureOptions,
    log: &mut (dyn FnMut(String) + Send),
) -> anyhow::Result<Vec<Cell>> {
    let mut cells = Vec::new();
    for &tr in &o.transports {
        let conn = Conn::connect(t, tr).await?;
        for &ef in &o.efs {
            for (w, gt) in wls {
                let nq = w.filters.len().min(ds.queries.len()).min(gt.len()).min(o.max_queries);
                let prepared: Vec<Prepared> = (0..nq)
                    .map(|i| {
                        prepare(
                            &o.collection,
                            ds.queries.row(i),
                            filter_json(&w.filters[i]),
                            o.k,
                            (ef > 0).then_some(ef),
                        )
                    })
                    .collect::<anyhow::Result<_>>()?;
                for p in prepared.iter().take(5) {
                    conn.query(&o.collection, p).await?;
                }
                let mut outs = Vec::with_capacity(nq);
                let mut spent = Duration::ZERO;
                for (i, p) in prepared.iter().enumerate() {
                    if spent >= o.budget && outs.len() >= o.min_queries {
                        break;
                    }
                    let t0 = Instant::now();
                    let ids = conn
                        .query(&o.collection, p)
                        .await
                        .with_context(|| format!("{} query {i} of {} over {}", w.name, nq, tr.name()))?;
                    let latency = t0.elapsed();
                    spent += latency;
                    outs.push(Outcome {
                        query: i,
                        recall: measure::recall_at(&ids, &gt[i], o.k),
                        recall100: None,
                        latency,
                        cpu: Duration::ZERO,
                        path: tr.name(),
                    });
                }
                let mut cs = measure::aggregate(w, &outs, tr.name(), ef, o.k);
                for c in &mut cs {
                    c.strategy = tr.name();
                    log(format!(
                        "[{}] {:<12} {:<7} ef {:>3}: {:>4} queries, recall@{} {:.3}, {:>7.1} QPS, p50 {:.2} ms, p99 {:.2} ms",
                        tr.name(),
                        c.workload,
                        c.bucket,
                        ef,
                        c.nq,
                        o.k,
                        c.recall,
                        c.qps,
                        c.p50_us / 1e3,
                        c.p99_us / 1e3
                    ));
                }
                cells.extend(cs);
            }
        }
    }
    Ok(cells)
}

/// The markdown table of [`measure`]'s cells.
pub fn cells_table(cells: &[Cell], k: usize) -> String {
    let mut s = format!(
        "| workload | bucket | median selectivity | transport | ef | queries | recall@{k} | QPS (1 client) | p50 ms | p99 ms |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    for c in cells {
        s.push_str(&format!(
            "| {} | {} | {:.5} | {} | {} | {} | {:.3} | {:.1} | {:.2} | {:.2} |\n",
            c.workload,
            c.bucket,
            c.selectivity,
            c.strategy,
            if c.ef == 0 { "default".to_string() } else { c.ef.to_string() },
            c.nq,
            c.recall,
            c.qps,
            c.p50_us / 1e3,
            c.p99_us / 1e3
        ));
    }
    s
}

/// Replaces the section between `<!-- {tag}:begin -->` and `<!-- {tag}:end -->` of a markdown
/// file (appending it, or creating the file, when absent), so the `server` and `load` runs can
/// share one report.
pub fn splice_section(path: &std::path::Path, tag: &str, body: &str) -> anyhow::Result<()> {
    let (begin, end) = (format!("<!-- {tag}:begin -->"), format!("<!-- {tag}:end -->"));
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{begin}\n{}\n{end}", body.trim_end());
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(a), Some(b)) if b > a => format!("{}{block}{}", &old[..a], &old[b + end.len()..]),
        _ if old.trim().is_empty() => format!("{block}\n"),
        _ => format!("{}\n\n{block}\n", old.trim_end()),
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: i64) -> Record {
        Record {
            number_of_sub_categories: i % 3,
            date: 100 + i,
            main_categories: vec!["cs".into()],
            sub_categories: vec![format!("cs.{}", i % 2)],
            authors: vec![format!("a{i}")],
        }
    }

    /// The JSON filter, evaluated by storage's reference semantics on the JSON payload, selects
    /// exactly what the bench's own `Filter::matches` selects.
    #[test]
    fn filter_json_agrees_with_the_bench_filter() {
        let recs: Vec<Record> = (0..30).map(rec).collect();
        let filters = [
            Filter::Eq { field: Field::NumberOfSubCategories, value: 1 },
            Filter::Range { field: Field::Date, lo: 105, hi: 117 },
            Filter::Contains { field: Field::SubCategories, value: "cs.1".into() },
            Filter::Contains { field: Field::Authors, value: "a7".into() },
            Filter::And(vec![
                Filter::Eq { field: Field::NumberOfSubCategories, value: 2 },
                Filter::Range { field: Field::Date, lo: 100, hi: 120 },
            ]),
        ];
        for f in &filters {
            let j = filter_json(f).unwrap();
            let parsed: grove_storage::Filter = serde_json::from_value(j.clone()).unwrap();
            let mut hits = 0;
            for r in &recs {
                let p = payload(r);
                let want = f.matches(r);
                assert_eq!(
                    parsed.matches(&grove_storage::PointId::Num(0), p.as_object().unwrap()),
                    want,
                    "{j} on {p}"
                );
                hits += usize::from(want);
            }
            assert!(hits > 0 && hits < recs.len(), "{f:?} should split the records");
        }
        assert!(filter_json(&Filter::All).is_none());
    }

    #[test]
    fn splice_replaces_only_its_section() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.md");
        splice_section(&p, "a", "one").unwrap();
        splice_section(&p, "b", "two").unwrap();
        splice_section(&p, "a", "three").unwrap();
        let s = std::fs::read_to_string(&p).unwrap();
        assert!(s.contains("three") && s.contains("two") && !s.contains("one"), "{s}");
        assert!(s.find("three").unwrap() < s.find("two").unwrap(), "order kept: {s}");
    }
}
