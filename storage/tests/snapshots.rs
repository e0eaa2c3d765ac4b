//! Snapshot archives recovered into a live storage, failed recoveries, and reads during
//! writes (no torn batch visible while the commit's fsync runs outside the state lock).
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use grove_index::Metric;
use grove_storage::*;
use serde_json::{json, Value};

fn obj(v: Value) -> Payload {
    v.as_object().cloned().unwrap_or_default()
}

fn pt(id: u64, v: Vec<f32>, p: Value) -> PointStruct {
    PointStruct { id: PointId::Num(id), vector: v, payload: Some(obj(p)) }
}

fn f(v: Value) -> Filter {
    serde_json::from_value(v).unwrap()
}

fn all(s: &Storage, c: &str) -> ScrollResponse {
    s.scroll(
        c,
        &ScrollRequest {
            filter: None,
            limit: 100_000,
            offset: None,
            with_payload: None,
            with_vector: true,
            order_by: None,
        },
    )
    .unwrap()
}

fn count(s: &Storage, c: &str, filter: Value) -> u64 {
    s.count(c, &CountRequest { filter: Some(f(filter)), exact: true }).unwrap()
}

fn vec_of(i: u64, dim: usize) -> Vec<f32> {
    (0..dim).map(|d| ((i * 31 + d as u64 * 7) % 97) as f32 / 97.0 - 0.5).collect()
}

/// A collection of 300 points with two payload indexes, graphs built.
fn seeded(s: &Storage, name: &str, dim: usize) {
    s.create_collection(name, CollectionConfig::new(dim, Metric::L2)).unwrap();
    s.create_field_index(name, "tag", PayloadSchemaType::Keyword).unwrap();
    s.create_field_index(name, "n", PayloadSchemaType::Integer).unwrap();
    let pts = (0..300u64)
        .map(|i| {
            let tag = ["a", "b", "c"][(i % 3) as usize];
            pt(i, vec_of(i, dim), json!({"tag": tag, "n": i, "free": i % 5}))
        })
        .collect();
    s.upsert(name, pts).unwrap();
    assert!(s.wait_indexed(name, Duration::from_secs(60)).unwrap());
}

#[test]
fn recover_replaces_a_live_collection_and_creates_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open(dir.path()).unwrap();
    seeded(&s, "c", 8);
    let before = all(&s, "c");
    let snap = s.create_snapshot("c").unwrap();
    assert!(snap.name.ends_with(".snapshot") && snap.size > 0, "{snap:?}");
    assert_eq!(s.list_snapshots("c").unwrap(), vec![snap.clone()]);
    // Mutate: deletes, replacements, payload edits, a new index.
    s.delete_points(
        "c",
        &PointSelector::Filter { filter: f(json!({"must": [{"key": "tag", "match": {"value": "a"}}]})) },
    )
    .unwrap();
    s.upsert("c", (0..50u64).map(|i| pt(1000 + i, vec_of(i + 7, 8), json!({"tag": "z"}))).collect()).unwrap();
    s.set_payload("c", obj(json!({"n": -1})), &PointSelector::Ids { points: vec![PointId::Num(1)] }).unwrap();
    s.create_field_index("c", "free", PayloadSchemaType::Integer).unwrap();
    assert_ne!(all(&s, "c"), before);

    let out = s.recover_snapshot("c", &s.snapshot_path("c", &snap.name).unwrap()).unwrap();
    assert_eq!((out.points, out.replaced, out.source_collection.as_str()), (300, true, "c"));
    assert_eq!(all(&s, "c"), before);
    assert_eq!(count(&s, "c", json!({"must": [{"key": "tag", "match": {"value": "a"}}]})), 100);
    let ex = s.explain_filter("c", &f(json!({"must": [{"key": "n", "range": {"lt": 10}}]}))).unwrap();
    assert_eq!(
        (ex.cardinality, ex.indexed_fields.clone(), ex.unindexed_fields.len()),
        (10, vec!["n".to_string()], 0)
    );
    let info = s.collection_info("c").unwrap();
    assert!(!info.payload_schema.contains_key("free"), "the index made after the snapshot is gone");
    // Nearest neighbour of a stored vector is that point, through the graph path too.
    let mut q = QueryRequest::new(vec_of(42, 8), 1);
    q.strategy = grove_index::Strategy::Hnsw;
    assert_eq!(s.query("c", &q).unwrap().points[0].id, PointId::Num(42));
    // Writes go on after the swap, and everything survives a reopen.
    s.upsert("c", vec![pt(5000, vec_of(5000, 8), json!({"tag": "new"}))]).unwrap();
    // The same archive creates a second collection next to it.
    let out = s.recover_snapshot("copy", &s.snapshot_path("c", &snap.name).unwrap()).unwrap();
    assert!(!out.replaced);
    assert_eq!(all(&s, "copy"), before);
    let after = all(&s, "c");
    drop(s);
    let s = Storage::open(dir.path()).unwrap();
    assert_eq!(all(&s, "c"), after);
    assert_eq!(all(&s, "copy"), before);
    assert_eq!(s.list_collections(), vec!["c".to_string(), "copy".to_string()]);
    // Delete: gone from the list, then 404.
    s.delete_snapshot("c", &snap.name).unwrap();
    assert!(s.list_snapshots("c").unwrap().is_empty());
    assert_eq!(s.delete_snapshot("c", &snap.name).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(s.snapshot_path("c", "../../etc/passwd").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn failed_recoveries_leave_the_collection_intact() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open(dir.path()).unwrap();
    seeded(&s, "c", 8);
    let snap = s.create_snapshot("c").unwrap();
    let good = std::fs::read(s.snapshot_path("c", &snap.name).unwrap()).unwrap();
    s.upsert("c", vec![pt(7000, vec_of(7000, 8), json!({"tag": "after"}))]).unwrap();
    let state = all(&s, "c");
    let disk_before = s.disk_bytes();

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    let cases: Vec<(&str, Vec<u8>, ErrorKind)> = vec![
        ("truncated", good[..good.len() - 10].to_vec(), ErrorKind::InvalidArgument),
        ("flipped byte", flipped, ErrorKind::InvalidArgument),
        ("not an archive", b"PK\x03\x04 a zip file".to_vec(), ErrorKind::InvalidArgument),
        ("empty", Vec::new(), ErrorKind::InvalidArgument),
    ];
    for (what, bytes, kind) in cases {
        let e = s.recover_from_reader("c", bytes.as_slice()).unwrap_err();
        assert_eq!(e.kind(), kind, "{what}: {e}");
        assert_eq!(all(&s, "c"), state, "{what}");
    }
    // A snapshot of a 4-d collection cannot replace the 8-d one.
    seeded(&s, "small", 4);
    let small = s.create_snapshot("small").unwrap();
    let e = s.recover_snapshot("c", &s.snapshot_path("small", &small.name).unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("4-dimensional"), "{e}");
    assert_eq!(all(&s, "c"), state);
    // Unknown snapshot name and missing file: 404.
    assert_eq!(s.snapshot_path("c", "nope.snapshot").unwrap_err().kind(), ErrorKind::NotFound);
    let e = s.recover_snapshot("c", &dir.path().join("missing.snapshot")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    // The failed imports left no rows behind: after a reopen (which would also sweep them) the
    // collections are the same and writes work.
    s.delete_collection("small").unwrap();
    drop(s);
    let s = Storage::open(dir.path()).unwrap();
    assert_eq!(s.list_collections(), vec!["c".to_string()]);
    assert_eq!(all(&s, "c"), state);
    s.flush().unwrap();
    assert!(s.disk_bytes() < disk_before * 3, "{} vs {}", s.disk_bytes(), disk_before);
}

#[test]
fn archives_move_between_storages_and_into_memory() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open(dir.path()).unwrap();
    seeded(&s, "c", 8);
    let snap = s.create_snapshot("c").unwrap();
    let path = s.snapshot_path("c", &snap.name).unwrap();
    let m = Storage::in_memory();
    let bytes = std::fs::read(&path).unwrap();
    m.recover_from_reader("elsewhere", bytes.as_slice()).unwrap();
    assert_eq!(all(&m, "elsewhere"), all(&s, "c"));
    // Offline restore into a fresh data dir keeps the collection's name.
    let target = dir.path().join("restored");
    Storage::restore_snapshot(&path, &target).unwrap();
    let r = Storage::open(&target).unwrap();
    assert_eq!(all(&r, "c"), all(&s, "c"));
}

/// Every batch rewrites all points of the collection with one generation number; a reader must
/// always see one generation across all points (payloads, unindexed-filter counts), never a
/// mix, while commits run their fsync outside the state lock.
#[test]
fn readers_never_see_a_torn_batch() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(Storage::open(dir.path()).unwrap());
    s.create_collection("c", CollectionConfig::new(4, Metric::L2)).unwrap();
    s.create_field_index("c", "gen", PayloadSchemaType::Integer).unwrap();
    let batch = |g: u64| (0..40u64).map(|i| pt(i, vec_of(i + g, 4), json!({"gen": g, "g2": g}))).collect();
    s.upsert("c", batch(0)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (s, stop) = (Arc::clone(&s), Arc::clone(&stop));
        std::thread::spawn(move || {
            for g in 1..=60u64 {
                if g % 3 == 0 {
                    s.set_payload(
                        "c",
                        obj(json!({"gen": g, "g2": g})),
                        &PointSelector::Filter { filter: f(json!({})) },
                    )
                    .unwrap();
                } else {
                    s.upsert("c", batch(g)).unwrap();
                }
            }
            stop.store(true, Ordering::Release);
        })
    };
    let mut checks = 0;
    while !stop.load(Ordering::Acquire) || checks < 10 {
        let page = all(&s, "c");
        assert_eq!(page.points.len(), 40);
        let gens: Vec<u64> =
            page.points.iter().map(|p| p.payload.as_ref().unwrap()["gen"].as_u64().unwrap()).collect();
        assert!(gens.iter().all(|g| *g == gens[0]), "torn scroll: {gens:?}");
        // g2 is unindexed: answered by a payload scan.
        let g = gens[0];
        let n = count(&s, "c", json!({"must": [{"key": "g2", "range": {"gte": g}}]}));
        assert_eq!(n, 40, "scan saw {n} of 40 points at generation >= {g}");
        let hits = s
            .query("c", &{
                let mut q = QueryRequest::new(vec_of(3, 4), 40);
                q.with_payload = Some(WithPayload::All(true));
                q
            })
            .unwrap();
        let hg: Vec<u64> =
            hits.points.iter().map(|p| p.payload.as_ref().unwrap()["gen"].as_u64().unwrap()).collect();
        assert_eq!(hg.len(), 40);
        assert!(hg.iter().all(|x| *x == hg[0]), "torn query: {hg:?}");
        checks += 1;
    }
    writer.join().unwrap();
    assert!(checks >= 10);
}
