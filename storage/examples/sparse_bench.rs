//! Sparse search figures on the arXiv abstracts: BM25 through `modifier: idf` (term frequencies
//! from a simple tokenizer, saturated client-side with BM25's k1/b), unfiltered and filtered,
//! next to the dense (HNSW) path over the same points and queries; memory per point.
//!
//! ```text
//! cargo run -p grove-storage --release --example sparse_bench -- \
//!     [--arxiv /work/shared/data/arxiv] [--points 49152] [--queries 1000]
//! ```
//!
//! Tokenizer: lower-cased alphanumeric runs (`filter::words`, the full-text filter's), no
//! stemming, no stop words; title + abstract per paper, the query paper's title per query.
//! Queries run one at a time on one thread through `Storage::query`.
#![expect(clippy::print_stderr, clippy::print_stdout, reason = "a benchmark tool reports figures")]

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use grove_index::Metric;
use grove_storage::*;
use serde_json::json;

type AnyResult<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One query: its terms (weight 1 each) and its dense embedding.
type Query = (Vec<(u32, f32)>, Vec<f32>);

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn f16_rows(path: &Path, dim: usize) -> AnyResult<Vec<Vec<f32>>> {
    let raw = std::fs::read(path)?;
    Ok(raw
        .chunks_exact(2 * dim)
        .map(|row| row.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
        .collect())
}

/// Term ids for words, assigned on first sight.
#[derive(Default)]
struct Vocab(HashMap<String, u32>);

impl Vocab {
    fn tf(&mut self, text: &str, grow: bool) -> Vec<(u32, f32)> {
        let mut tf: HashMap<u32, f32> = HashMap::new();
        for w in grove_storage::filter::words(text) {
            let id = match self.0.get(&w) {
                Some(id) => *id,
                None if grow => {
                    let id = self.0.len() as u32;
                    self.0.insert(w, id);
                    id
                }
                None => continue,
            };
            *tf.entry(id).or_default() += 1.0;
        }
        let mut v: Vec<(u32, f32)> = tf.into_iter().collect();
        v.sort_unstable_by_key(|p| p.0);
        v
    }
}

fn main() -> AnyResult<()> {
    let dir = PathBuf::from(arg("--arxiv").unwrap_or_else(|| "/work/shared/data/arxiv".into()));
    let n_max: usize = arg("--points").map_or(Ok(usize::MAX), |s| s.parse())?;
    let q_max: usize = arg("--queries").map_or(Ok(1000), |s| s.parse())?;
    let vectors = f16_rows(&dir.join("vectors.f16"), 384)?;
    let qvecs = f16_rows(&dir.join("queries.f16"), 384)?;
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(dir.join("papers.jsonl.gz"))?);
    let mut vocab = Vocab::default();
    let mut docs = Vec::new();
    for (i, line) in std::io::BufReader::new(gz).lines().enumerate() {
        if i >= n_max.min(vectors.len()) {
            break;
        }
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let text = format!("{} {}", v["title"].as_str().unwrap_or(""), v["abstract"].as_str().unwrap_or(""));
        let tf = vocab.tf(&text, true);
        let payload = json!({"main_categories": v["main_categories"], "sub_categories": v["sub_categories"]});
        docs.push((tf, payload.as_object().cloned().unwrap_or_default()));
    }
    let n = docs.len();
    // BM25's document side (k1 = 1.2, b = 0.75): tf (k1 + 1) / (tf + k1 (1 - b + b len / avg)).
    let len = |tf: &[(u32, f32)]| tf.iter().map(|p| p.1).sum::<f32>();
    let avg = docs.iter().map(|d| len(&d.0)).sum::<f32>() / n.max(1) as f32;
    let (k1, b) = (1.2f32, 0.75f32);
    let s = Storage::in_memory_with(StorageOptions { build_threads: 2, ..StorageOptions::default() });
    let mut config = CollectionConfig::with_vectors(
        [("dense".to_string(), VectorConfig::new(384, Metric::Cosine))].into_iter().collect(),
        true,
    );
    config
        .sparse_vectors
        .insert("text".into(), SparseVectorConfig { modifier: SparseModifier::Idf, ..Default::default() });
    s.create_collection("a", config)?;
    s.create_field_index("a", "main_categories", PayloadSchemaType::Keyword)?;
    s.create_field_index("a", "sub_categories", PayloadSchemaType::Keyword)?;
    let t = Instant::now();
    let mut nnz = 0usize;
    for (start, chunk) in docs.chunks(512).enumerate() {
        let pts: Vec<NamedPoint> = chunk
            .iter()
            .enumerate()
            .map(|(j, (tf, payload))| {
                let i = start * 512 + j;
                let l = len(tf);
                let (idx, vals): (Vec<u32>, Vec<f32>) =
                    tf.iter().map(|(d, f)| (*d, f * (k1 + 1.0) / (f + k1 * (1.0 - b + b * l / avg)))).unzip();
                nnz += idx.len();
                NamedPoint {
                    id: PointId::Num(i as u64),
                    vectors: [("dense".to_string(), vectors[i].clone())].into_iter().collect(),
                    payload: Some(payload.clone()),
                    sparse: [("text".to_string(), SparseVector { indices: idx, values: vals })]
                        .into_iter()
                        .collect(),
                    multi: Default::default(),
                }
            })
            .collect();
        s.upsert_named("a", pts)?;
    }
    let ingest = t.elapsed();
    let t = Instant::now();
    s.wait_indexed("a", Duration::from_secs(3600))?;
    eprintln!("ingested {n} points in {ingest:?}, graph caught up {:?} later", t.elapsed());
    let info = s.collection_info("a")?;
    let sp = info.sparse_vectors["text"];
    let queries: Vec<Query> = {
        let f = std::fs::File::open(dir.join("queries.jsonl"))?;
        let mut out = Vec::new();
        for (i, line) in std::io::BufReader::new(f).lines().enumerate().take(q_max.min(qvecs.len())) {
            let v: serde_json::Value = serde_json::from_str(&line?)?;
            // Query side: each distinct term once (weight 1); idf comes from the server.
            let tf = vocab.tf(v["text"].as_str().unwrap_or(""), false);
            out.push((tf.into_iter().map(|(d, _)| (d, 1.0)).collect(), qvecs[i].clone()));
        }
        out
    };
    let filters: [(&str, Option<serde_json::Value>); 4] = [
        ("none", None),
        (
            "main_categories = astro-ph (~15%)",
            Some(json!({"must": [{"key": "main_categories", "match": {"value": "astro-ph"}}]})),
        ),
        (
            "main_categories = math (~4%)",
            Some(json!({"must": [{"key": "main_categories", "match": {"value": "math"}}]})),
        ),
        (
            "sub_categories = cs.CR (~1%)",
            Some(json!({"must": [{"key": "sub_categories", "match": {"value": "cs.CR"}}]})),
        ),
    ];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    println!("arXiv {n} points, {} distinct terms, {:.1} terms per point, {} queries (title terms, {:.1} per query), k = 10, one thread",
        vocab.0.len(), nnz as f64 / n as f64, queries.len(),
        queries.iter().map(|q| q.0.len()).sum::<usize>() as f64 / queries.len().max(1) as f64);
    println!();
    println!(
        "| filter | allowed | sparse QPS | sparse path | postings read / query | dense QPS | dense path |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (label, f) in &filters {
        let filter: Option<Filter> = f.clone().map(serde_json::from_value).transpose()?;
        let allowed = s.count("a", &CountRequest { filter: filter.clone(), exact: true })?;
        let (mut sparse_t, mut dense_t, mut postings) = (Duration::ZERO, Duration::ZERO, 0u64);
        let mut sparse_paths: HashMap<String, usize> = HashMap::new();
        let mut dense_paths: HashMap<String, usize> = HashMap::new();
        pool.install(|| -> AnyResult<()> {
            for (sq, dq) in &queries {
                let (ix, vs): (Vec<u32>, Vec<f32>) = sq.iter().copied().unzip();
                let mut req = QueryRequest::sparse("text", SparseVector { indices: ix, values: vs }, 10);
                req.filter = filter.clone();
                req.explain = true;
                let t = Instant::now();
                let r = s.query("a", &req)?;
                sparse_t += t.elapsed();
                if let Some(e) = r.explain.and_then(|e| e.sparse) {
                    postings += e.postings_read;
                    *sparse_paths.entry(e.path.as_str().to_string()).or_default() += 1;
                }
                let mut req =
                    QueryRequest { using: Some("dense".into()), ..QueryRequest::new(dq.clone(), 10) };
                req.filter = filter.clone();
                req.explain = true;
                let t = Instant::now();
                let r = s.query("a", &req)?;
                dense_t += t.elapsed();
                if let Some(e) = r.explain {
                    *dense_paths.entry(e.search.path.as_str().to_string()).or_default() += 1;
                }
            }
            Ok(())
        })?;
        let qn = queries.len().max(1) as f64;
        let main = |m: &HashMap<String, usize>| {
            let mut v: Vec<_> = m.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1));
            v.iter().map(|(k, c)| format!("{k} {c}")).collect::<Vec<_>>().join(", ")
        };
        println!(
            "| {label} | {allowed} | {:.0} | {} | {:.0} | {:.0} | {} |",
            qn / sparse_t.as_secs_f64(),
            main(&sparse_paths),
            postings as f64 / qn,
            qn / dense_t.as_secs_f64(),
            main(&dense_paths)
        );
    }
    println!();
    println!(
        "sparse index: {} bytes ({:.0} bytes per point: postings + the vectors the full scan reads); dense vectors: {} bytes per point (384 x f32), graph not included",
        sp.memory_bytes,
        sp.memory_bytes as f64 / n as f64,
        384 * 4
    );
    Ok(())
}
