//! Storage figures: ingest throughput of the arXiv set (with and without graph building),
//! reopen time (arXiv and a synthetic N x 384 collection), disk bytes per point, and p99
//! latency of a filtered count while ingest runs.
//!
//! ```text
//! cargo run -p grove-storage --release --example storage_bench -- \
//!     [--arxiv ../shared/data/arxiv] [--synthetic 1000000] [--batch 256] [--work /tmp/grove-bench]
//!     [--no-arxiv] [--postings] [--reopen-only] [--concurrent-only]
//! ```
#![expect(clippy::print_stderr, reason = "a benchmark tool reports progress")]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grove_index::Metric;
use grove_storage::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

type AnyResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn load_arxiv(dir: &Path) -> AnyResult<(Vec<Vec<f32>>, Vec<Payload>)> {
    let raw = std::fs::read(dir.join("vectors.f16"))?;
    let dim = 384;
    let vectors: Vec<Vec<f32>> = raw
        .chunks_exact(2 * dim)
        .map(|row| row.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
        .collect();
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(dir.join("papers.jsonl.gz"))?);
    let mut payloads = Vec::with_capacity(vectors.len());
    for line in std::io::BufReader::new(gz).lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        payloads.push(v.as_object().cloned().unwrap_or_default());
    }
    if payloads.len() != vectors.len() {
        return Err(format!("{} payloads but {} vectors", payloads.len(), vectors.len()).into());
    }
    Ok((vectors, payloads))
}

fn create_arxiv(s: &Storage, name: &str) -> AnyResult<()> {
    s.create_collection(name, CollectionConfig::new(384, Metric::Cosine))?;
    for (f, t) in [
        ("sub_categories", PayloadSchemaType::Keyword),
        ("main_categories", PayloadSchemaType::Keyword),
        ("primary_category", PayloadSchemaType::Keyword),
        ("authors", PayloadSchemaType::Keyword),
        ("number_of_sub_categories", PayloadSchemaType::Integer),
        ("listing_day", PayloadSchemaType::Integer),
        ("has_comments", PayloadSchemaType::Bool),
    ] {
        s.create_field_index(name, f, t)?;
    }
    Ok(())
}

fn ingest(
    s: &Storage,
    name: &str,
    vectors: &[Vec<f32>],
    payloads: &[Payload],
    batch: usize,
) -> AnyResult<Duration> {
    let t = Instant::now();
    for start in (0..vectors.len()).step_by(batch) {
        let end = (start + batch).min(vectors.len());
        let pts = (start..end)
            .map(|i| PointStruct {
                id: PointId::Num(i as u64),
                vector: vectors[i].clone(),
                payload: Some(payloads[i].clone()),
            })
            .collect();
        s.upsert(name, pts)?;
    }
    Ok(t.elapsed())
}

fn fresh(dir: &Path) -> AnyResult<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    Ok(())
}

/// CPU seconds (user + system) this process has used so far, from /proc (0 elsewhere): the
/// machine these figures come from is shared, so wall time alone overstates the cost.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some(rest) = stat.rsplit(')').next() else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, utime 11, stime 12 (clock ticks, 100 Hz).
    (tick(11) + tick(12)) / 100.0
}

/// `/proc/loadavg`'s 1, 5 and 15 minute figures (the machine is shared: print them next to
/// timings).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> AnyResult<()> {
    let arxiv = PathBuf::from(arg("--arxiv").unwrap_or_else(|| "../shared/data/arxiv".into()));
    let synthetic: usize = arg("--synthetic").map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let batch: usize = arg("--batch").map(|s| s.parse()).transpose()?.unwrap_or(256);
    let work = PathBuf::from(arg("--work").unwrap_or_else(|| "/tmp/grove-storage-bench".into()));
    let skip_arxiv = std::env::args().any(|a| a == "--no-arxiv");
    // Only the filtered-count-during-ingest measurement (4.) of the arXiv set.
    let concurrent_only = std::env::args().any(|a| a == "--concurrent-only");
    std::fs::create_dir_all(&work)?;
    let no_graph = StorageOptions { background_indexing: false, ..StorageOptions::default() };
    let with_graph = StorageOptions { build_threads: 2, ..StorageOptions::default() };

    if !skip_arxiv {
        let t = Instant::now();
        let (vectors, payloads) = load_arxiv(&arxiv)?;
        let n = vectors.len();
        eprintln!("arxiv: loaded {n} points in {:.1}s", t.elapsed().as_secs_f64());

        if !concurrent_only {
            // 1. Ingest without graph building.
            let d1 = work.join("arxiv-nograph");
            fresh(&d1)?;
            let s = Storage::open_with(&d1, no_graph.clone())?;
            create_arxiv(&s, "arxiv")?;
            let el = ingest(&s, "arxiv", &vectors, &payloads, batch)?;
            s.flush()?;
            let bytes = s.disk_bytes();
            println!(
                "arxiv ingest, no graph: {n} points in {:.2}s = {:.0} points/s (batch {batch}, WAL synced per batch)",
                el.as_secs_f64(),
                n as f64 / el.as_secs_f64()
            );
            println!(
                "arxiv disk after flush: {bytes} bytes = {:.0} bytes/point (payload incl. abstract)",
                bytes as f64 / n as f64
            );
            drop(s);

            // 2. Ingest with background graph building, until the graph covers every point.
            let d2 = work.join("arxiv-graph");
            fresh(&d2)?;
            let s = Storage::open_with(&d2, with_graph.clone())?;
            create_arxiv(&s, "arxiv")?;
            let t = Instant::now();
            let el_ingest = ingest(&s, "arxiv", &vectors, &payloads, batch)?;
            let caught_up = s.wait_indexed("arxiv", Duration::from_secs(3600))?;
            let el = t.elapsed();
            println!(
                "arxiv ingest + graph (M=16, ef_construction=100, 2 build threads): acknowledged in {:.2}s ({:.0} points/s), graph complete after {:.2}s = {:.0} points/s (caught up: {caught_up})",
                el_ingest.as_secs_f64(),
                n as f64 / el_ingest.as_secs_f64(),
                el.as_secs_f64(),
                n as f64 / el.as_secs_f64()
            );
            s.flush()?;
            println!("arxiv disk with graphs: {:.0} bytes/point", s.disk_bytes() as f64 / n as f64);
            drop(s);

            // 3. Reopen with saved graphs.
            let (t, c0) = (Instant::now(), cpu_secs());
            let s = Storage::open_with(&d2, no_graph.clone())?;
            let el = t.elapsed();
            println!("arxiv reopen CPU: {:.2}s", cpu_secs() - c0);
            let info = s.collection_info("arxiv")?;
            println!(
                "arxiv reopen: {:.2}s ({} points, {} in graph, {} pending)",
                el.as_secs_f64(),
                info.points_count,
                info.indexing.indexed_points,
                info.indexing.pending_points
            );
            drop(s);
        }

        // 4. p99 of a filtered count while ingest runs.
        let d3 = work.join("arxiv-concurrent");
        fresh(&d3)?;
        let s = Arc::new(Storage::open_with(&d3, no_graph.clone())?);
        create_arxiv(&s, "arxiv")?;
        let half_n = n / 2;
        ingest(&s, "arxiv", &vectors[..half_n], &payloads[..half_n], batch)?;
        let done = Arc::new(AtomicBool::new(false));
        let filter: Filter = serde_json::from_value(json!({"must": [
            {"key": "main_categories", "match": {"value": "cs"}},
            {"key": "listing_day", "range": {"gte": 20300, "lt": 20500}},
            {"key": "number_of_sub_categories", "match": {"any": [2, 3]}}
        ]}))?;
        let reader = {
            let (s, done, filter) = (Arc::clone(&s), Arc::clone(&done), filter.clone());
            std::thread::spawn(move || -> Vec<f64> {
                let mut lat = Vec::new();
                while !done.load(Ordering::Acquire) {
                    let t = Instant::now();
                    let r = s.count("arxiv", &CountRequest { filter: Some(filter.clone()), exact: true });
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                    if r.is_err() {
                        break;
                    }
                }
                lat
            })
        };
        let t = Instant::now();
        for start in (half_n..n).step_by(batch) {
            let end = (start + batch).min(n);
            let pts = (start..end)
                .map(|i| PointStruct {
                    id: PointId::Num(i as u64),
                    vector: vectors[i].clone(),
                    payload: Some(payloads[i].clone()),
                })
                .collect();
            s.upsert("arxiv", pts)?;
        }
        let el = t.elapsed();
        done.store(true, Ordering::Release);
        println!("load average at the end of the concurrent run: {}", loadavg());
        let mut lat = reader.join().map_err(|_| "reader panicked")?;
        lat.sort_by(f64::total_cmp);
        let cnt = s.count("arxiv", &CountRequest { filter: Some(filter), exact: true })?;
        println!(
            "filtered count during ingest ({} counts while {} points were ingested in {:.1}s; final count {cnt}): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            lat.len(),
            n - half_n,
            el.as_secs_f64(),
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            pct(&lat, 1.0)
        );
    }

    if std::env::args().any(|a| a == "--postings") {
        let (_, payloads) = load_arxiv(&arxiv)?;
        postings_experiment(&work, &payloads, batch)?;
    }

    // 5. Synthetic N x 384: ingest (no graph) and reopen.
    let reopen_only = std::env::args().any(|a| a == "--reopen-only");
    if synthetic > 0 && !reopen_only {
        let d = work.join("synthetic");
        fresh(&d)?;
        let s = Storage::open_with(&d, no_graph.clone())?;
        s.create_collection("syn", CollectionConfig::new(384, Metric::Cosine))?;
        s.create_field_index("syn", "bucket", PayloadSchemaType::Integer)?;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let t = Instant::now();
        let sb = 1000;
        for start in (0..synthetic).step_by(sb) {
            let end = (start + sb).min(synthetic);
            let pts = (start..end)
                .map(|i| PointStruct {
                    id: PointId::Num(i as u64),
                    vector: (0..384).map(|_| rng.gen_range(-1.0..1.0f32)).collect(),
                    payload: json!({"bucket": i % 100}).as_object().cloned(),
                })
                .collect();
            s.upsert("syn", pts)?;
        }
        let el = t.elapsed();
        s.flush()?;
        println!(
            "synthetic {synthetic} x 384 ingest, no graph: {:.1}s = {:.0} points/s; disk {:.0} bytes/point",
            el.as_secs_f64(),
            synthetic as f64 / el.as_secs_f64(),
            s.disk_bytes() as f64 / synthetic as f64
        );
    }
    if synthetic > 0 {
        let d = work.join("synthetic");
        let (t, c0) = (Instant::now(), cpu_secs());
        let s = Storage::open_with(&d, no_graph)?;
        let el = t.elapsed();
        println!("synthetic reopen CPU: {:.2}s", cpu_secs() - c0);
        let info = s.collection_info("syn")?;
        println!(
            "synthetic reopen: {:.2}s for {} points (vectors into the arena, payload index loaded; no graph was built)",
            el.as_secs_f64(),
            info.points_count
        );
    }
    Ok(())
}

/// The encoding choice for persisted payload indexes, measured on the arXiv keyword fields
/// (authors, sub_categories, main_categories): (a) one posting key per (field, value, id), as
/// grove-storage does; (b) a merge operator that ORs per-batch roaring deltas into one value
/// per (field, value). Both write one synced WriteBatch per `batch` points.
fn postings_experiment(work: &Path, payloads: &[Payload], batch: usize) -> AnyResult<()> {
    use roaring::RoaringBitmap;
    use std::collections::HashMap;
    let fields = ["authors", "sub_categories", "main_categories"];
    let values = |p: &Payload, f: &str| -> Vec<String> {
        match p.get(f) {
            Some(serde_json::Value::Array(a)) => {
                a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
            }
            _ => Vec::new(),
        }
    };
    let mut wo = rocksdb::WriteOptions::default();
    wo.set_sync(true);
    for mode in ["posting-keys", "merge-operator"] {
        let dir = work.join(format!("postings-{mode}"));
        fresh(&dir)?;
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        if mode == "merge-operator" {
            opts.set_merge_operator_associative("roaring_or", |_k, existing, ops| {
                let mut acc =
                    existing.and_then(|b| RoaringBitmap::deserialize_from(b).ok()).unwrap_or_default();
                for op in ops {
                    if let Ok(d) = RoaringBitmap::deserialize_from(op) {
                        acc |= d;
                    }
                }
                let mut out = Vec::with_capacity(acc.serialized_size());
                acc.serialize_into(&mut out).ok().map(|_| out)
            });
        }
        let db = rocksdb::DB::open(&opts, &dir)?;
        let t = Instant::now();
        let mut entries = 0u64;
        for (bi, chunk) in payloads.chunks(batch).enumerate() {
            let mut wb = rocksdb::WriteBatch::default();
            let mut deltas: HashMap<Vec<u8>, RoaringBitmap> = HashMap::new();
            for (j, p) in chunk.iter().enumerate() {
                let id = (bi * batch + j) as u32;
                for (fi, f) in fields.iter().enumerate() {
                    for v in values(p, f) {
                        let mut k = vec![fi as u8];
                        k.extend_from_slice(v.as_bytes());
                        entries += 1;
                        if mode == "posting-keys" {
                            k.push(0);
                            k.extend_from_slice(&id.to_be_bytes());
                            wb.put(k, []);
                        } else {
                            deltas.entry(k).or_default().insert(id);
                        }
                    }
                }
            }
            for (k, bm) in deltas {
                let mut b = Vec::new();
                bm.serialize_into(&mut b)?;
                wb.merge(k, b);
            }
            db.write_opt(wb, &wo)?;
        }
        let write = t.elapsed();
        db.flush()?;
        db.compact_range::<&[u8], &[u8]>(None, None);
        let disk = rocksdb_dir_bytes(&dir);
        drop(db);
        let db = rocksdb::DB::open(&opts, &dir)?;
        let t = Instant::now();
        let mut maps: HashMap<Vec<u8>, RoaringBitmap> = HashMap::new();
        for kv in db.iterator(rocksdb::IteratorMode::Start) {
            let (k, v) = kv?;
            if mode == "posting-keys" {
                let (val, id) = k.split_at(k.len() - 4);
                let id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
                maps.entry(val[..val.len() - 1].to_vec()).or_default().insert(id);
            } else {
                maps.insert(k.to_vec(), RoaringBitmap::deserialize_from(&v[..])?);
            }
        }
        let load = t.elapsed();
        println!(
            "postings {mode}: {entries} entries, write {:.2}s ({:.0} entries/s), disk after compaction {} bytes, load {:.3}s ({} bitmaps)",
            write.as_secs_f64(),
            entries as f64 / write.as_secs_f64(),
            disk,
            load.as_secs_f64(),
            maps.len()
        );
    }
    Ok(())
}

fn rocksdb_dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten().filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
        })
        .unwrap_or(0)
}
