//! End-to-end behaviour of `Storage` over both backends, and the filter property test.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use grove_index::Metric;
use grove_storage::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

fn obj(v: Value) -> Payload {
    v.as_object().cloned().unwrap_or_default()
}

fn cfg(dim: usize) -> CollectionConfig {
    CollectionConfig::new(dim, Metric::L2)
}

fn pt(id: u64, v: Vec<f32>, p: Value) -> PointStruct {
    PointStruct { id: PointId::Num(id), vector: v, payload: Some(obj(p)) }
}

fn f(v: Value) -> Filter {
    serde_json::from_value(v).unwrap()
}

fn count(s: &Storage, filter: Value) -> u64 {
    s.count("c", &CountRequest { filter: Some(f(filter)), exact: true }).unwrap()
}

fn lifecycle(s: &Storage) {
    s.create_collection("c", cfg(2)).unwrap();
    assert_eq!(s.create_collection("c", cfg(2)).unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(s.create_collection("bad name", cfg(2)).unwrap_err().kind(), ErrorKind::InvalidArgument);
    s.create_field_index("c", "tag", PayloadSchemaType::Keyword).unwrap();
    let pts = (0..50u64)
        .map(|i| pt(i, vec![i as f32, 0.0], json!({"tag": if i % 2 == 0 {"even"} else {"odd"}, "n": i})))
        .collect();
    s.upsert("c", pts).unwrap();
    // Rejected batches write nothing.
    let e =
        s.upsert("c", vec![pt(100, vec![1.0, 2.0], json!({})), pt(101, vec![1.0], json!({}))]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = s.upsert("c", vec![pt(100, vec![1.0, f32::NAN], json!({}))]).unwrap_err();
    assert!(e.to_string().contains("not a finite"), "{e}");
    let e = s.upsert("c", vec![pt(100, vec![1.0, 2.0], json!({"tag": 5}))]).unwrap_err();
    assert!(e.to_string().contains("indexed as keyword"), "{e}");
    assert_eq!(s.count("c", &CountRequest { filter: None, exact: true }).unwrap(), 50);
    assert_eq!(count(s, json!({"must": [{"key": "tag", "match": {"value": "even"}}]})), 25);
    // Unindexed range answered by scanning, and the explain says so.
    let ex =
        s.explain_filter("c", &f(json!({"must": [{"key": "n", "range": {"gte": 10, "lt": 20}}]}))).unwrap();
    assert_eq!(ex.cardinality, 10);
    assert_eq!(ex.unindexed_fields, vec!["n".to_string()]);
    // Index created later is backfilled and answers the same.
    s.create_field_index("c", "n", PayloadSchemaType::Integer).unwrap();
    let ex =
        s.explain_filter("c", &f(json!({"must": [{"key": "n", "range": {"gte": 10, "lt": 20}}]}))).unwrap();
    assert_eq!((ex.cardinality, ex.unindexed_fields.len()), (10, 0));
    assert_eq!(ex.indexed_fields, vec!["n".to_string()]);
    // Update: same id, new payload and vector.
    s.upsert("c", vec![pt(4, vec![100.0, 0.0], json!({"tag": "odd", "n": 1000}))]).unwrap();
    assert_eq!(count(s, json!({"must": [{"key": "tag", "match": {"value": "even"}}]})), 24);
    let q = s.query("c", &QueryRequest::new(vec![99.0, 0.0], 1)).unwrap();
    assert_eq!(q.points[0].id, PointId::Num(4));
    // Filtered query returns only matching points.
    let mut req = QueryRequest::new(vec![0.0, 0.0], 5);
    req.filter = Some(f(json!({"must": [{"key": "tag", "match": {"value": "odd"}}]})));
    req.with_payload = Some(WithPayload::All(true));
    req.explain = true;
    let r = s.query("c", &req).unwrap();
    let ids: Vec<PointId> = r.points.iter().map(|p| p.id).collect();
    assert_eq!(ids, [1, 3, 5, 7, 9].map(PointId::Num).to_vec());
    assert_eq!(r.explain.unwrap().filter.unwrap().cardinality, 26);
    assert_eq!(r.points[0].payload.as_ref().unwrap()["tag"], json!("odd"));
    // Payload ops.
    let sel = PointSelector::Ids { points: vec![PointId::Num(1), PointId::Num(3)] };
    s.set_payload("c", obj(json!({"tag": "even"})), &sel).unwrap();
    assert_eq!(count(s, json!({"must": [{"key": "tag", "match": {"value": "even"}}]})), 26);
    s.delete_payload("c", &["tag".to_string()], &sel).unwrap();
    assert_eq!(count(s, json!({"must": [{"is_empty": {"key": "tag"}}]})), 2);
    s.clear_payload("c", &sel).unwrap();
    assert_eq!(count(s, json!({"must": [{"is_empty": {"key": "n"}}]})), 2);
    // Delete by filter and by id.
    s.delete_points(
        "c",
        &PointSelector::Filter { filter: f(json!({"must": [{"key": "n", "range": {"gte": 40}}]})) },
    )
    .unwrap();
    s.delete_points("c", &PointSelector::Ids { points: vec![PointId::Num(0)] }).unwrap();
    let left = s.count("c", &CountRequest { filter: None, exact: true }).unwrap();
    assert_eq!(left, 50 - 11 - 1); // ids 40..49 and 4 (n=1000), then 0
                                   // Scroll pages through everything once, in id order.
    let mut seen = Vec::new();
    let mut offset = None;
    loop {
        let page = s
            .scroll(
                "c",
                &ScrollRequest {
                    filter: None,
                    limit: 7,
                    offset,
                    with_payload: None,
                    with_vector: true,
                    order_by: None,
                },
            )
            .unwrap();
        seen.extend(page.points.iter().map(|r| r.id));
        match page.next_page_offset {
            Some(o) => offset = Some(o),
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, left);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    let got = s.get_points("c", &[PointId::Num(2), PointId::Num(0)], &WithPayload::All(true), true).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].vector.as_deref(), Some(&[2.0f32, 0.0][..]));
    let info = s.collection_info("c").unwrap();
    assert_eq!(info.points_count, left);
    assert_eq!(info.payload_schema.len(), 2);
}

#[test]
fn lifecycle_in_memory() {
    lifecycle(&Storage::in_memory());
}

#[test]
fn lifecycle_on_rocksdb_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let before;
    {
        let s = Storage::open(dir.path()).unwrap();
        lifecycle(&s);
        s.wait_indexed("c", std::time::Duration::from_secs(30)).unwrap();
        before = s
            .scroll(
                "c",
                &ScrollRequest {
                    filter: None,
                    limit: 1000,
                    offset: None,
                    with_payload: None,
                    with_vector: true,
                    order_by: None,
                },
            )
            .unwrap();
    }
    let s = Storage::open(dir.path()).unwrap();
    let after = s
        .scroll(
            "c",
            &ScrollRequest {
                filter: None,
                limit: 1000,
                offset: None,
                with_payload: None,
                with_vector: true,
                order_by: None,
            },
        )
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(count(&s, json!({"must": [{"key": "tag", "match": {"value": "even"}}]})), 18);
    assert_eq!(count(&s, json!({"must": [{"key": "n", "range": {"lt": 10}}]})), 6);
    // Snapshot, mutate, restore: the restored dir has the snapshot's state.
    let snap = s.create_snapshot("c").unwrap();
    assert_eq!(s.list_snapshots("c").unwrap().len(), 1);
    s.delete_points("c", &PointSelector::Filter { filter: f(json!({})) }).unwrap();
    assert_eq!(s.count("c", &CountRequest { filter: None, exact: true }).unwrap(), 0);
    let target = dir.path().join("restored");
    Storage::restore_snapshot(&s.snapshot_path("c", &snap.name).unwrap(), &target).unwrap();
    let r = Storage::open(&target).unwrap();
    assert_eq!(r.count("c", &CountRequest { filter: None, exact: true }).unwrap(), after.points.len() as u64);
    assert!(s.delete_collection("c").unwrap());
    assert!(s.list_collections().is_empty());
}

#[test]
fn tombstones_past_the_threshold_trigger_one_rebuild() {
    let s = Storage::in_memory();
    let mut c = cfg(4);
    c.tombstone_rebuild_ratio = 0.3;
    s.create_collection("c", c).unwrap();
    let v = |i: u64| vec![(i % 37) as f32, (i % 11) as f32, (i / 100) as f32, i as f32 * 0.01];
    let pts = (0..1200u64).map(|i| pt(i, v(i), json!({"i": i}))).collect();
    s.upsert("c", pts).unwrap();
    let odd: Vec<PointId> = (0..1200u64).filter(|i| i % 2 == 1).map(PointId::Num).collect();
    s.delete_points("c", &PointSelector::Ids { points: odd }).unwrap();
    let t = std::time::Instant::now();
    while s.collection_info("c").unwrap().indexing.rebuilds == 0 && t.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(s.wait_indexed("c", std::time::Duration::from_secs(60)).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(600));
    let info = s.collection_info("c").unwrap();
    assert_eq!(info.indexing.rebuilds, 1, "exactly one rebuild for one burst of deletes");
    assert_eq!(info.points_count, 600);
    // The rebuilt index answers like the exact oracle and never returns a deleted point.
    for q in (0..1200u64).step_by(97) {
        let mut exact = QueryRequest::new(v(q), 5);
        exact.exact = true;
        let want: Vec<PointId> = s.query("c", &exact).unwrap().points.iter().map(|p| p.id).collect();
        let got = s.query("c", &QueryRequest::new(v(q), 5)).unwrap().points;
        assert!(got.iter().all(|p| matches!(p.id, PointId::Num(n) if n % 2 == 0)));
        let hits = got.iter().filter(|p| want.contains(&p.id)).count();
        assert!(hits >= 4, "recall@5 {hits}/5 for query {q} (tolerance: one miss)");
    }
}

// ---- property test: compiled filters == brute force over payloads ----

const KEYS: [&str; 4] = ["kw", "int", "fl", "b"];

fn random_payload(rng: &mut ChaCha8Rng) -> Value {
    let mut m = serde_json::Map::new();
    if rng.gen_bool(0.8) {
        let v = match rng.gen_range(0..4) {
            0 => json!(null),
            1 => json!([]),
            2 => json!(["a", "b", "c", "d"][rng.gen_range(0..4)]),
            _ => {
                let (x, y) = (["a", "b", "c"][rng.gen_range(0..3)], ["c", "d"][rng.gen_range(0..2)]);
                json!([x, y])
            }
        };
        m.insert("kw".into(), v);
    }
    if rng.gen_bool(0.8) {
        let v = if rng.gen_bool(0.3) {
            json!([rng.gen_range(-3..4), rng.gen_range(-3..4)])
        } else {
            json!(rng.gen_range(-3..4))
        };
        m.insert("int".into(), v);
    }
    if rng.gen_bool(0.8) {
        m.insert("fl".into(), json!(rng.gen_range(-2.0..2.0f64)));
    }
    if rng.gen_bool(0.7) {
        m.insert("b".into(), json!(rng.gen_bool(0.5)));
    }
    Value::Object(m)
}

fn random_cond(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    let kws = ["a", "b", "c", "d", "e"];
    let kw = || Value::Array(kws.iter().map(|k| json!(k)).collect());
    match rng.gen_range(0..if depth > 0 { 9 } else { 8 }) {
        0 => json!({"key": "kw", "match": {"value": kw()[rng.gen_range(0..5)]}}),
        1 => json!({"key": "kw", "match": {"any": [kw()[rng.gen_range(0..5)], kw()[rng.gen_range(0..5)]]}}),
        2 => {
            json!({"key": KEYS[rng.gen_range(0..2)], "match": {"except": [kw()[rng.gen_range(0..5)], rng.gen_range(-3..4)]}})
        }
        3 => json!({"key": "int", "match": {"value": rng.gen_range(-3..4)}}),
        4 => {
            json!({"key": KEYS[rng.gen_range(0..3)], "range": {"gte": rng.gen_range(-3.0..3.0f64), "lt": rng.gen_range(-1.0..4.0f64)}})
        }
        5 => json!({"is_empty": {"key": KEYS[rng.gen_range(0..4)]}}),
        6 => json!({"is_null": {"key": KEYS[rng.gen_range(0..4)]}}),
        7 => {
            if rng.gen_bool(0.5) {
                json!({"key": "b", "match": {"value": rng.gen_bool(0.5)}})
            } else {
                let (a, b) = (rng.gen_range(0..60u64), rng.gen_range(0..60u64));
                json!({"has_id": [a, b]})
            }
        }
        _ => random_filter(rng, depth - 1),
    }
}

fn random_filter(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    let mut m = serde_json::Map::new();
    for clause in ["must", "should", "must_not"] {
        if rng.gen_bool(0.5) {
            let n = rng.gen_range(1..3);
            m.insert(clause.into(), Value::Array((0..n).map(|_| random_cond(rng, depth)).collect()));
        }
    }
    if rng.gen_bool(0.2) {
        let conds: Vec<Value> = (0..3).map(|_| random_cond(rng, depth)).collect();
        m.insert("min_should".into(), json!({"conditions": conds, "min_count": rng.gen_range(0..3)}));
    }
    Value::Object(m)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]
    #[test]
    fn compiled_filters_equal_brute_force(seed in any::<u64>(), indexed in any::<[bool; 4]>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let s = Storage::in_memory_with(StorageOptions { background_indexing: false, ..StorageOptions::default() });
        s.create_collection("c", cfg(2)).unwrap();
        let types = [PayloadSchemaType::Keyword, PayloadSchemaType::Integer, PayloadSchemaType::Float, PayloadSchemaType::Bool];
        // Some indexes before the data, some after (backfill), some never (scan).
        for i in 0..2 {
            if indexed[i] { s.create_field_index("c", KEYS[i], types[i]).unwrap(); }
        }
        let mut payloads = Vec::new();
        for id in 0..60u64 {
            let p = random_payload(&mut rng);
            payloads.push((PointId::Num(id), obj(p.clone())));
            s.upsert("c", vec![pt(id, vec![id as f32, 1.0], p)]).unwrap();
        }
        for i in 2..4 {
            if indexed[i] { s.create_field_index("c", KEYS[i], types[i]).unwrap(); }
        }
        // Overwrite and delete some, so tombstones and replaced postings are exercised.
        for id in (0..60u64).step_by(7) {
            let p = random_payload(&mut rng);
            payloads[id as usize].1 = obj(p.clone());
            s.upsert("c", vec![pt(id, vec![0.5, id as f32], p)]).unwrap();
        }
        let deleted: Vec<PointId> = (0..60u64).step_by(11).map(PointId::Num).collect();
        s.delete_points("c", &PointSelector::Ids { points: deleted.clone() }).unwrap();
        for _ in 0..20 {
            let fv = random_filter(&mut rng, 2);
            let filter: Filter = serde_json::from_value(fv.clone()).unwrap();
            if filter.validate().is_err() { continue; }
            let expected: Vec<PointId> = payloads.iter()
                .filter(|(id, p)| !deleted.contains(id) && filter.matches(id, p))
                .map(|(id, _)| *id).collect();
            let got: Vec<PointId> = s.scroll("c", &ScrollRequest { filter: Some(filter.clone()), limit: 1000, offset: None, with_payload: Some(WithPayload::All(false)), with_vector: false, order_by: None })
                .unwrap().points.into_iter().map(|r| r.id).collect();
            prop_assert_eq!(&got, &expected, "filter {}", fv);
            let n = s.count("c", &CountRequest { filter: Some(filter), exact: true }).unwrap();
            prop_assert_eq!(n, expected.len() as u64);
        }
    }
}

/// The background worker saves graphs at most once per `graph_save_interval` (the first time
/// at once), and always on close: a reopen then loads every point from the files.
#[test]
fn graph_saves_are_throttled_and_done_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions {
        graph_save_interval: std::time::Duration::from_secs(3600),
        ..StorageOptions::default()
    };
    let hnsw_file = |s: &Storage| -> Option<Vec<u8>> {
        s.collection_info("c").ok()?;
        let graphs = dir.path().join("graphs");
        let sub = std::fs::read_dir(&graphs).ok()?.flatten().next()?.path();
        std::fs::read(sub.join(grove_index::collection::HNSW_FILE)).ok()
    };
    let vecs = |from: u64, n: u64| -> Vec<PointStruct> {
        (from..from + n).map(|i| pt(i, vec![(i % 17) as f32, (i / 17) as f32, 1.0], json!({}))).collect()
    };
    {
        let s = Storage::open_with(dir.path(), opts.clone()).unwrap();
        s.create_collection("c", cfg(3)).unwrap();
        s.upsert("c", vecs(0, 100)).unwrap();
        assert!(s.wait_indexed("c", std::time::Duration::from_secs(60)).unwrap());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let first = loop {
            if let Some(b) = hnsw_file(&s) {
                break b;
            }
            assert!(std::time::Instant::now() < deadline, "the first graph save never happened");
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        s.upsert("c", vecs(100, 100)).unwrap();
        assert!(s.wait_indexed("c", std::time::Duration::from_secs(60)).unwrap());
        // Several worker rounds (200 ms apart) pass; none may rewrite the file.
        std::thread::sleep(std::time::Duration::from_millis(1000));
        assert_eq!(hnsw_file(&s).as_ref(), Some(&first), "the worker saved again within the interval");
    }
    let s = Storage::open_with(dir.path(), StorageOptions { background_indexing: false, ..opts }).unwrap();
    let info = s.collection_info("c").unwrap();
    assert_eq!(info.points_count, 200);
    assert_eq!((info.indexing.indexed_points, info.indexing.pending_points), (200, 0));
}

#[test]
fn vectors_whose_distances_could_overflow_are_refused_and_scores_stay_finite() {
    // Regression: a finite vector near 3e38 overflowed dot/cosine and ranked first with a
    // null (infinite) score.
    for metric in [Metric::Dot, Metric::Cosine, Metric::L2] {
        let s = Storage::in_memory();
        s.create_collection("c", CollectionConfig::new(2, metric)).unwrap();
        let e = s.upsert("c", vec![pt(1, vec![3.0e38, 3.0e38], json!({}))]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{metric:?}: {e}");
        assert!(e.to_string().contains("too large"), "{e}");
        // The largest accepted norm, on both sides of the product: still a finite score.
        let big = (MAX_VECTOR_NORM / 2f64.sqrt()) as f32 * 0.999;
        s.upsert("c", vec![pt(2, vec![big, big], json!({})), pt(3, vec![-big, -big], json!({}))]).unwrap();
        let q: QueryRequest = serde_json::from_value(json!({"vector": [big, big], "limit": 2})).unwrap();
        let r = s.query("c", &q).unwrap();
        assert_eq!(r.points.len(), 2);
        assert!(r.points.iter().all(|p| p.score.is_finite()), "{metric:?}: {:?}", r.points);
        let q: QueryRequest = serde_json::from_value(json!({"vector": [3.0e38, 1.0], "limit": 1})).unwrap();
        assert_eq!(s.query("c", &q).unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
}

#[test]
fn a_keyword_list_of_100k_values_indexes_in_linear_log_time() {
    // Regression: values were deduplicated with Vec::contains (quadratic) under the collection's
    // write lock: one 0.9 MB upsert of a 100k-value list held writes for ~70 s. The bound below
    // is ~20x what the sorted dedup needs in a debug build; the quadratic one needed minutes.
    let s = Storage::in_memory();
    s.create_collection("c", cfg(2)).unwrap();
    s.create_field_index("c", "tags", PayloadSchemaType::Keyword).unwrap();
    let tags: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
    let mut dup = tags.clone();
    dup.extend(tags.iter().take(1000).cloned()); // duplicates are indexed once
    let t = std::time::Instant::now();
    s.upsert("c", vec![pt(1, vec![0.0, 0.0], json!({ "tags": dup }))]).unwrap();
    // An overwrite that keeps every other value: the posting delta is computed by binary search.
    let half: Vec<&String> = tags.iter().step_by(2).collect();
    s.set_payload("c", obj(json!({ "tags": half })), &PointSelector::Ids { points: vec![PointId::Num(1)] })
        .unwrap();
    let took = t.elapsed();
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    assert_eq!(count(&s, json!({"must": [{"key": "tags", "match": {"value": "t99998"}}]})), 1);
    assert_eq!(count(&s, json!({"must": [{"key": "tags", "match": {"value": "t99999"}}]})), 0);
    assert_eq!(count(&s, json!({"must": [{"key": "tags", "match": {"any": ["t1", "t3", "t4"]}}]})), 1);
}
