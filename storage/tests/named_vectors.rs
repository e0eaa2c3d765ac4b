//! Named vectors: one engine per name over one id space. Checked against an exact brute-force
//! oracle (recall with filters, deletes, overwrites and removed vectors), across reopen and a
//! snapshot round trip, and data written before named vectors existed still loads.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use grove_index::Metric;
use grove_storage::kv::{Batch, Cf, KvBackend, RocksKv};
use grove_storage::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

const N: u64 = 2500;

fn config() -> CollectionConfig {
    let mut vectors = BTreeMap::new();
    vectors.insert("text".to_string(), VectorConfig::new(16, Metric::Cosine));
    let mut image = VectorConfig::new(8, Metric::L2);
    image.hnsw = Some(HnswConfig { m: 8, ef_construction: 64 });
    vectors.insert("image".to_string(), image);
    CollectionConfig::with_vectors(vectors, true)
}

fn rand_vec(rng: &mut ChaCha8Rng, d: usize) -> Vec<f32> {
    (0..d).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

/// The model: every live point's vectors (raw) and group.
type Model = BTreeMap<u64, (NamedVectors, i64)>;

fn point(rng: &mut ChaCha8Rng, id: u64) -> (NamedPoint, (NamedVectors, i64)) {
    let mut vectors = NamedVectors::new();
    // 80% carry text, 70% image, never neither.
    let text = rng.gen_bool(0.8);
    if text {
        vectors.insert("text".into(), rand_vec(rng, 16));
    }
    if rng.gen_bool(0.7) || !text {
        vectors.insert("image".into(), rand_vec(rng, 8));
    }
    let g = rng.gen_range(0..10i64);
    let payload = json!({"g": g}).as_object().cloned();
    (
        NamedPoint {
            id: PointId::Num(id),
            vectors: vectors.clone(),
            payload,
            sparse: Default::default(),
            multi: Default::default(),
        },
        (vectors, g),
    )
}

fn distance(metric: Metric, a: &[f32], b: &[f32]) -> f64 {
    match metric {
        Metric::L2 => a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum(),
        Metric::Cosine => {
            let n = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
            let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
            1.0 - dot / (n(a) * n(b))
        }
        Metric::Dot => -a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum::<f64>(),
    }
}

/// Exact top-k ids of the live points carrying `name` whose group passes `allow`.
fn oracle(
    model: &Model,
    name: &str,
    metric: Metric,
    q: &[f32],
    k: usize,
    allow: &dyn Fn(i64) -> bool,
) -> Vec<u64> {
    let mut all: Vec<(f64, u64)> = model
        .iter()
        .filter(|(_, (_, g))| allow(*g))
        .filter_map(|(id, (vs, _))| vs.get(name).map(|v| (distance(metric, q, v), *id)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.into_iter().take(k).map(|(_, id)| id).collect()
}

fn num(id: &PointId) -> u64 {
    match id {
        PointId::Num(n) => *n,
        PointId::Uuid(_) => u64::MAX,
    }
}

/// Which groups a filter admits (the oracle's side of the filter).
type GroupTest = dyn Fn(i64) -> bool;

/// Mean recall@10 per (vector, filter) over seeded queries; exact strategy must equal the
/// oracle exactly, and no hit may lack the vector or be deleted.
fn check(s: &Storage, model: &Model, seed: u64, min_recall: f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let filters: [(Option<serde_json::Value>, &GroupTest); 3] = [
        (None, &|_| true),
        (Some(json!({"must": [{"key": "g", "match": {"any": [1, 2, 3]}}]})), &|g| (1..=3).contains(&g)),
        (Some(json!({"must": [{"key": "g", "match": {"value": 7}}]})), &|g| g == 7),
    ];
    for (name, dim, metric) in [("text", 16, Metric::Cosine), ("image", 8, Metric::L2)] {
        for (fjson, allow) in &filters {
            let (mut hit, mut total) = (0usize, 0usize);
            for _ in 0..25 {
                let q = rand_vec(&mut rng, dim);
                let truth = oracle(model, name, metric, &q, 10, *allow);
                let mut req = QueryRequest::new(q.clone(), 10);
                req.using = Some(name.to_string());
                req.filter = fjson.clone().map(|f| serde_json::from_value(f).unwrap());
                req.explain = true;
                let got = s.query("c", &req).unwrap();
                assert_eq!(got.explain.as_ref().map(|e| e.using.as_str()), Some(name));
                for p in &got.points {
                    let (vs, g) = model.get(&num(&p.id)).expect("a hit is a live point");
                    assert!(vs.contains_key(name), "point {} lacks vector {name} but was returned", p.id);
                    assert!(allow(*g), "point {} fails the filter", p.id);
                }
                let ids: Vec<u64> = got.points.iter().map(|p| num(&p.id)).collect();
                hit += ids.iter().filter(|i| truth.contains(i)).count();
                total += truth.len();
                req.strategy = grove_index::Strategy::Exact;
                let exact: Vec<u64> = s.query("c", &req).unwrap().points.iter().map(|p| num(&p.id)).collect();
                assert_eq!(exact, truth, "exact search of {name} differs from brute force");
            }
            let recall = if total == 0 { 1.0 } else { hit as f64 / total as f64 };
            assert!(recall >= min_recall, "{name} filter {fjson:?}: recall@10 {recall:.3} < {min_recall}");
        }
    }
}

fn ingest(s: &Storage, rng: &mut ChaCha8Rng) -> Model {
    s.create_collection("c", config()).unwrap();
    s.create_field_index("c", "g", PayloadSchemaType::Integer).unwrap();
    let mut model = Model::new();
    let mut batch = Vec::new();
    for id in 0..N {
        let (p, m) = point(rng, id);
        model.insert(id, m);
        batch.push(p);
        if batch.len() == 250 {
            s.upsert_named("c", std::mem::take(&mut batch)).unwrap();
        }
    }
    // Deletes and overwrites (an overwrite may change which vectors a point carries).
    let dead: Vec<PointId> = (0..N).filter(|i| i % 9 == 0).map(PointId::Num).collect();
    s.delete_points("c", &PointSelector::Ids { points: dead.clone() }).unwrap();
    for d in &dead {
        model.remove(&num(d));
    }
    let mut over = Vec::new();
    for id in (1..N).filter(|i| i % 13 == 1) {
        let (p, m) = point(rng, id);
        model.insert(id, m);
        over.push(p);
    }
    s.upsert_named("c", over).unwrap();
    model
}

#[test]
fn named_vector_search_matches_brute_force_with_filters_and_deletes() {
    let s =
        Storage::in_memory_with(StorageOptions { background_indexing: false, ..StorageOptions::default() });
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut model = ingest(&s, &mut rng);
    // Unindexed first (exact tail), then through the graphs.
    check(&s, &model, 1, 0.999);
    assert!(s.wait_indexed("c", Duration::from_secs(120)).unwrap());
    let info = s.collection_info("c").unwrap();
    assert_eq!(info.points_count, model.len() as u64);
    let carrying = |n: &str| model.values().filter(|(vs, _)| vs.contains_key(n)).count() as u64;
    assert_eq!(info.vectors["text"].indexed_points, carrying("text"));
    assert_eq!(info.vectors["image"].indexed_points, carrying("image"));
    check(&s, &model, 2, 0.9);

    // Removing one vector of some points and setting another of others.
    let strip: Vec<PointId> = model.keys().copied().filter(|i| i % 5 == 2).map(PointId::Num).collect();
    s.delete_vectors("c", &PointSelector::Ids { points: strip.clone() }, &["text".to_string()]).unwrap();
    for id in &strip {
        if let Some((vs, _)) = model.get_mut(&num(id)) {
            vs.remove("text");
        }
    }
    let mut updates = Vec::new();
    for id in model.keys().copied().filter(|i| i % 7 == 3).collect::<Vec<_>>() {
        let v = rand_vec(&mut rng, 8);
        updates.push((PointId::Num(id), NamedVectors::from([("image".to_string(), v.clone())])));
        model.get_mut(&id).unwrap().0.insert("image".into(), v);
    }
    s.update_vectors("c", updates).unwrap();
    // The payload survived the vector updates.
    let some = *model.keys().find(|i| *i % 7 == 3).unwrap();
    let rec = s.get_points("c", &[PointId::Num(some)], &WithPayload::All(true), true).unwrap();
    assert_eq!(
        rec[0].payload.as_ref().and_then(|p| p.get("g")).and_then(|g| g.as_i64()),
        Some(model[&some].1)
    );
    assert_eq!(rec[0].vectors.as_ref().map(|v| v.contains_key("image")), Some(true));
    assert!(s.wait_indexed("c", Duration::from_secs(120)).unwrap());
    check(&s, &model, 3, 0.9);

    // Errors name the field and list the declared vectors.
    let mut q = QueryRequest::new(vec![0.0; 16], 3);
    q.using = Some("audio".into());
    let e = s.query("c", &q).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("\"audio\"") && e.to_string().contains("\"image\", \"text\""), "{e}");
    q.using = None;
    let e = s.query("c", &q).unwrap_err().to_string();
    assert!(e.contains("\"\""), "the unnamed vector is not declared here: {e}");
    let bad = NamedPoint {
        id: PointId::Num(1),
        vectors: NamedVectors::from([("image".to_string(), vec![1.0; 3])]),
        payload: None,
        sparse: Default::default(),
        multi: Default::default(),
    };
    let e = s.upsert_named("c", vec![bad]).unwrap_err().to_string();
    assert!(e.contains("vector \"image\"") && e.contains("expects 8"), "{e}");
    let e = s.update_vectors("c", vec![(PointId::Num(N + 5), NamedVectors::new())]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    // A failed write changed nothing.
    check(&s, &model, 4, 0.9);
}

#[test]
fn named_vectors_survive_reopen_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let model;
    {
        let s = Storage::open(dir.path()).unwrap();
        model = ingest(&s, &mut rng);
        assert!(s.wait_indexed("c", Duration::from_secs(300)).unwrap());
        check(&s, &model, 5, 0.9);
    }
    let s = Storage::open(dir.path()).unwrap();
    let info = s.collection_info("c").unwrap();
    assert_eq!(info.config, config());
    assert_eq!(info.points_count, model.len() as u64);
    check(&s, &model, 6, 0.9);
    // Snapshot of the named collection, recovered under another name and over itself.
    let snap = s.create_snapshot("c").unwrap();
    let path = s.snapshot_path("c", &snap.name).unwrap();
    let out = s.recover_snapshot("copy", &path).unwrap();
    assert_eq!((out.points, out.replaced), (model.len() as u64, false));
    assert_eq!(s.collection_info("copy").unwrap().config, config());
    let a =
        s.query("c", &QueryRequest { using: Some("image".into()), ..QueryRequest::new(vec![0.1; 8], 10) });
    let b =
        s.query("copy", &QueryRequest { using: Some("image".into()), ..QueryRequest::new(vec![0.1; 8], 10) });
    let ids = |r: QueryResponse| r.points.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(a.unwrap()), ids(b.unwrap()));
    // A snapshot of another vector layout cannot replace it.
    s.create_collection("flat", CollectionConfig::new(8, Metric::L2)).unwrap();
    let e = s.recover_snapshot("flat", &path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("\"image\""), "{e}");
    s.recover_snapshot("c", &path).unwrap();
    check(&s, &model, 7, 0.9);
}

/// A data dir written before named vectors (version-1 registry record, version-1 points rows
/// of raw floats) opens as one unnamed vector, serves queries, and takes new writes.
#[test]
fn data_written_before_named_vectors_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows: HashMap<u64, Vec<f32>> = HashMap::new();
    {
        let kv = RocksKv::open(&dir.path().join("db")).unwrap();
        let mut b = Batch::new();
        let reg = |rest: &[u8]| [&[0u8, 0, 0, 0][..], rest].concat();
        let rec = json!({"id": 1, "config": {"dimension": 3, "metric": "l2", "hnsw": {"m": 16, "ef_construction": 100},
            "acorn": {"gamma": 1, "m_beta": 32}, "matryoshka_dims": [], "ef_search": 64, "tombstone_rebuild_ratio": 0.2}});
        b.put(Cf::Meta, reg(b"coll/old"), serde_json::to_vec(&rec).unwrap());
        b.put(Cf::Meta, reg(b"next_collection"), 2u32.to_be_bytes().to_vec());
        let c = |rest: &[u8]| [&1u32.to_be_bytes()[..], rest].concat();
        for i in 0..40u32 {
            let v = vec![i as f32, 1.0, -(i as f32)];
            let mut ext = vec![0u8];
            ext.extend_from_slice(&u64::from(i).to_be_bytes());
            let mut row = ext.clone();
            for x in &v {
                row.extend_from_slice(&x.to_le_bytes());
            }
            b.put(Cf::Points, c(&i.to_be_bytes()), row);
            b.put(Cf::Payloads, c(&i.to_be_bytes()), serde_json::to_vec(&json!({"i": i})).unwrap());
            b.put(Cf::IdMap, c(&ext), i.to_be_bytes().to_vec());
            rows.insert(u64::from(i), v);
        }
        b.put(Cf::Meta, c(b"next_id"), 40u32.to_be_bytes().to_vec());
        kv.write(b).unwrap();
    }
    let s = Storage::open(dir.path()).unwrap();
    let info = s.collection_info("old").unwrap();
    assert_eq!((info.points_count, info.config.named_form), (40, false));
    assert_eq!(info.config.vector("").map(|v| (v.dimension, v.metric)).ok(), Some((3, Metric::L2)));
    let hits = s.query("old", &QueryRequest::new(vec![7.0, 1.0, -7.0], 1)).unwrap();
    assert_eq!(hits.points[0].id, PointId::Num(7));
    let rec = s.get_points("old", &[PointId::Num(9)], &WithPayload::All(true), true).unwrap();
    assert_eq!(rec[0].vector.as_ref(), rows.get(&9));
    assert_eq!(rec[0].payload.as_ref().and_then(|p| p.get("i")), Some(&json!(9)));
    // New writes (version-2 rows) next to the old ones, and another reopen.
    s.upsert(
        "old",
        vec![PointStruct { id: PointId::Num(100), vector: vec![100.0, 1.0, -100.0], payload: None }],
    )
    .unwrap();
    drop(s);
    let s = Storage::open(dir.path()).unwrap();
    assert_eq!(s.collection_info("old").unwrap().points_count, 41);
    let hits = s.query("old", &QueryRequest::new(vec![99.0, 1.0, -99.0], 2)).unwrap();
    assert_eq!(
        hits.points.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![PointId::Num(100), PointId::Num(39)]
    );
}

/// `update_collection`: graph parameters of one vector act through a rebuild of that index
/// (searches keep working meanwhile), names/sizes cannot change, and the change persists.
#[test]
fn update_collection_rebuilds_the_changed_vector_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let s = Storage::open(dir.path()).unwrap();
    let model = ingest(&s, &mut rng);
    assert!(s.wait_indexed("c", Duration::from_secs(300)).unwrap());
    s.update_collection("c", |c| {
        let mut c = c.clone();
        if let Some(v) = c.vectors.get_mut("text") {
            v.hnsw = Some(HnswConfig { m: 12, ef_construction: 80 });
        }
        c.stored.insert("wal_config".into(), json!({"wal_capacity_mb": 64}));
        Ok(c)
    })
    .unwrap();
    assert!(s.wait_indexed("c", Duration::from_secs(300)).unwrap());
    let info = s.collection_info("c").unwrap();
    assert_eq!(info.vectors["text"].rebuilds, 1);
    assert_eq!(info.vectors["image"].rebuilds, 0);
    check(&s, &model, 8, 0.9);
    let e = s
        .update_collection("c", |c| {
            let mut c = c.clone();
            if let Some(v) = c.vectors.get_mut("text") {
                v.dimension = 17;
            }
            Ok(c)
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    drop(s);
    let s = Storage::open(dir.path()).unwrap();
    let c = s.collection_info("c").unwrap().config;
    assert_eq!(c.hnsw_of("text").m, 12);
    assert_eq!(c.stored.get("wal_config"), Some(&json!({"wal_capacity_mb": 64})));
}
