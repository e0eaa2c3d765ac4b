//! Sparse vectors through storage, against an exact oracle written here (f64 dot products over
//! the model's live sparse vectors, idf from the model's document frequencies): seeded upserts,
//! overwrites, deletes (by id and filter), vector updates and removals, filters, both sparse
//! paths, idf on and off, sparse-only collections and points, and reopen on RocksDB.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::{BTreeMap, HashMap};

use grove_index::Metric;
use grove_storage::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// The model: each live point's sparse vector (if any) and group.
type Model = BTreeMap<u64, (Option<SparseVector>, i64)>;

fn config(modifier: SparseModifier, dense: bool, threshold: usize) -> CollectionConfig {
    let mut vectors = BTreeMap::new();
    if dense {
        vectors.insert("dense".to_string(), VectorConfig::new(4, Metric::Dot));
    }
    let mut c = CollectionConfig::with_vectors(vectors, true);
    c.sparse_vectors.insert(
        "text".into(),
        SparseVectorConfig {
            modifier,
            index: SparseIndexParams { full_scan_threshold: Some(threshold), ..Default::default() },
        },
    );
    c
}

/// Term-like vectors: Zipf-ish dims out of 300, small integer weights (term frequencies).
fn sparse_vec(rng: &mut ChaCha8Rng) -> SparseVector {
    let nnz = rng.gen_range(1..=10);
    let mut idx: Vec<u32> = Vec::new();
    for _ in 0..nnz {
        let d = (300f64.powf(rng.gen_range(0.0..1.0)) as u32).min(299);
        if !idx.contains(&d) {
            idx.push(d);
        }
    }
    // Unsorted on purpose: storage sorts.
    idx.reverse();
    let vals = idx.iter().map(|_| rng.gen_range(1..4) as f32).collect();
    SparseVector { indices: idx, values: vals }
}

fn point(rng: &mut ChaCha8Rng, id: u64, dense: bool, model: &mut Model) -> NamedPoint {
    // 85% carry the sparse vector; with a dense vector declared, some carry only that.
    let has_sparse = !dense || rng.gen_bool(0.85);
    let sv = has_sparse.then(|| sparse_vec(rng));
    let mut vectors = NamedVectors::new();
    if dense {
        vectors.insert("dense".into(), (0..4).map(|_| rng.gen_range(-1.0f32..1.0)).collect());
    }
    let g = rng.gen_range(0..10i64);
    let mut sparse = SparseVectors::new();
    if let Some(v) = &sv {
        sparse.insert("text".into(), v.clone());
    }
    model.insert(id, (sv.map(|v| SparseVector::new(v.indices, v.values).unwrap()), g));
    NamedPoint {
        id: PointId::Num(id),
        vectors,
        payload: json!({"g": g}).as_object().cloned(),
        sparse,
        multi: Default::default(),
    }
}

fn idf(n: u64, total: u64) -> f64 {
    let (n, total) = (n as f64, total as f64);
    (1.0 + (total - n + 0.5) / (n + 0.5)).ln()
}

/// Exact top-k by the oracle: points sharing a dimension with `q`, best first, ties by id.
fn oracle(
    model: &Model,
    q: &SparseVector,
    idf_on: bool,
    allow: &dyn Fn(i64) -> bool,
    k: usize,
) -> Vec<(u64, f64)> {
    let mut df: HashMap<u32, u64> = HashMap::new();
    let mut total = 0;
    for (sv, _) in model.values() {
        if let Some(v) = sv {
            total += 1;
            for d in &v.indices {
                *df.entry(*d).or_default() += 1;
            }
        }
    }
    let mut out: Vec<(u64, f64)> = model
        .iter()
        .filter(|(_, (_, g))| allow(*g))
        .filter_map(|(id, (sv, _))| {
            let v = sv.as_ref()?;
            let mut any = false;
            let mut s = 0.0;
            for (d, w) in q.indices.iter().zip(&q.values) {
                if let Some(j) = v.indices.iter().position(|x| x == d) {
                    any = true;
                    let w = if idf_on { *w as f64 * idf(df[d], total) } else { *w as f64 };
                    s += w * v.values[j] as f64;
                }
            }
            any.then_some((*id, s))
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.truncate(k);
    out
}

type GroupTest = dyn Fn(i64) -> bool;

/// Every query of a seeded set, with three filters (none, wide, narrow), against the oracle.
/// Returns the number of (query, filter) pairs compared and the paths seen.
fn check_against_oracle(
    s: &Storage,
    name: &str,
    model: &Model,
    idf_on: bool,
    seed: u64,
) -> (usize, Vec<String>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let filters: [(Option<serde_json::Value>, &GroupTest); 3] = [
        (None, &|_| true),
        (Some(json!({"must_not": [{"key": "g", "match": {"value": 3}}]})), &|g| g != 3),
        (Some(json!({"must": [{"key": "g", "match": {"value": 7}}]})), &|g| g == 7),
    ];
    let mut n = 0;
    let mut paths = Vec::new();
    for qi in 0..30 {
        let idx: Vec<u32> = (0..rng.gen_range(1..5))
            .map(|_| (300f64.powf(rng.gen_range(0.0..1.0)) as u32).min(299))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let vals = idx.iter().map(|_| rng.gen_range(0.5f32..2.0)).collect();
        let q = SparseVector::new(idx, vals).unwrap();
        let k = [1, 5, 10, 40][qi % 4];
        for (fjson, allow) in &filters {
            let all = oracle(model, &q, idf_on, *allow, usize::MAX);
            let want = &all[..k.min(all.len())];
            let mut req = QueryRequest::sparse("text", q.clone(), k);
            req.filter = fjson.clone().map(|f| serde_json::from_value(f).unwrap());
            req.explain = true;
            req.with_payload = Some(WithPayload::All(true));
            let got = s.query(name, &req).unwrap();
            let ex = got.explain.as_ref().unwrap().sparse.as_ref().unwrap();
            paths.push(ex.path.as_str().to_string());
            let got_ids: Vec<u64> =
                got.points.iter().map(|p| if let PointId::Num(n) = p.id { n } else { panic!() }).collect();
            let want_ids: Vec<u64> = want.iter().map(|w| w.0).collect();
            assert_eq!(
                got.points.len(),
                want.len(),
                "query {qi} filter {fjson:?}: {got_ids:?} vs {want_ids:?}"
            );
            for (p, w) in got.points.iter().zip(want) {
                let tol = 1e-4 * w.1.abs().max(1.0);
                assert!((p.score as f64 - w.1).abs() <= tol, "query {qi}: score {} vs {}", p.score, w.1);
                let g = p.payload.as_ref().unwrap()["g"].as_i64().unwrap();
                assert!(allow(g), "a hit fails the filter");
            }
            // Ids equal except where scores tie within tolerance.
            for (a, b) in got_ids.iter().zip(&want_ids) {
                if a != b {
                    let sa = all.iter().find(|w| w.0 == *a).map(|w| w.1);
                    let sb = all.iter().find(|w| w.0 == *b).map(|w| w.1).unwrap();
                    assert!(
                        sa.is_some_and(|sa| (sa - sb).abs() < 1e-4 * sb.abs().max(1.0)),
                        "query {qi}: {got_ids:?} vs {want_ids:?}"
                    );
                }
            }
            n += 1;
        }
    }
    (n, paths)
}

/// The collection's life, seeded: upserts, overwrites, deletes by id and filter, sparse
/// vector updates and removals; after each phase, the oracle; then reopen and the oracle again.
#[test]
fn sparse_search_matches_the_oracle_through_changes_and_reopen() {
    for (modifier, dense) in
        [(SparseModifier::None, true), (SparseModifier::Idf, true), (SparseModifier::Idf, false)]
    {
        let idf_on = modifier == SparseModifier::Idf;
        let dir = tempfile::tempdir().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0x5ba4 + dense as u64);
        let mut model = Model::new();
        let mut paths = Vec::new();
        {
            let s = Storage::open(dir.path()).unwrap();
            // 60: the narrow filter (g == 7, ~10% of ~600 points) goes either way over phases.
            s.create_collection("c", config(modifier, dense, 60)).unwrap();
            let mut next = 0u64;
            for phase in 0..4u64 {
                let pts: Vec<NamedPoint> =
                    (0..300).map(|i| point(&mut rng, next + i, dense, &mut model)).collect();
                next += 300;
                s.upsert_named("c", pts).unwrap();
                // Overwrites of existing ids.
                let ids: Vec<u64> = model.keys().copied().filter(|i| i % 7 == phase).take(40).collect();
                let pts: Vec<NamedPoint> =
                    ids.iter().map(|i| point(&mut rng, *i, dense, &mut model)).collect();
                s.upsert_named("c", pts).unwrap();
                // Deletes by id.
                let gone: Vec<u64> = model.keys().copied().filter(|i| i % 11 == phase).take(30).collect();
                for i in &gone {
                    model.remove(i);
                }
                s.delete_points(
                    "c",
                    &PointSelector::Ids { points: gone.into_iter().map(PointId::Num).collect() },
                )
                .unwrap();
                // Sparse vector updates (payload and dense vector kept) and removals.
                let upd: Vec<u64> = model.keys().copied().filter(|i| i % 13 == phase).take(20).collect();
                let mut updates = Vec::new();
                for i in &upd {
                    let v = sparse_vec(&mut rng);
                    let e = model.get_mut(i).unwrap();
                    e.0 = Some(SparseVector::new(v.indices.clone(), v.values.clone()).unwrap());
                    updates.push((
                        PointId::Num(*i),
                        NamedVectors::new(),
                        SparseVectors::from([("text".into(), v)]),
                    ));
                }
                s.update_vectors_with_sparse("c", updates).unwrap();
                if dense {
                    let rm: Vec<u64> = model.keys().copied().filter(|i| i % 17 == phase).take(10).collect();
                    for i in &rm {
                        model.get_mut(i).unwrap().0 = None;
                    }
                    s.delete_vectors(
                        "c",
                        &PointSelector::Ids { points: rm.into_iter().map(PointId::Num).collect() },
                        &["text".to_string()],
                    )
                    .unwrap();
                }
                if phase == 2 {
                    // Delete by filter: every point of group 5.
                    model.retain(|_, (_, g)| *g != 5);
                    let f: Filter =
                        serde_json::from_value(json!({"must": [{"key": "g", "match": {"value": 5}}]}))
                            .unwrap();
                    s.delete_points("c", &PointSelector::Filter { filter: f }).unwrap();
                }
                let (n, p) = check_against_oracle(&s, "c", &model, idf_on, phase);
                assert_eq!(n, 90);
                paths.extend(p);
            }
            let info = s.collection_info("c").unwrap();
            assert_eq!(info.points_count, model.len() as u64);
            let with_text = model.values().filter(|(v, _)| v.is_some()).count() as u64;
            assert_eq!(info.sparse_vectors["text"].points, with_text);
        }
        // Reopen: the sparse index is rebuilt from the rows.
        let s = Storage::open(dir.path()).unwrap();
        let (n, p) = check_against_oracle(&s, "c", &model, idf_on, 99);
        assert_eq!(n, 90);
        paths.extend(p);
        assert!(paths.iter().any(|p| p == "sparse_postings"), "{modifier:?}: postings path ran");
        assert!(paths.iter().any(|p| p == "sparse_full_scan"), "{modifier:?}: full scan ran");
        // Vectors read back in the named form, sorted.
        let (id, (sv, _)) = model.iter().find(|(_, (v, _))| v.is_some()).unwrap();
        let recs = s.get_points("c", &[PointId::Num(*id)], &WithPayload::All(false), true).unwrap();
        assert_eq!(recs[0].sparse.as_ref().unwrap().get("text"), sv.as_ref());
        if dense {
            assert!(recs[0].vectors.as_ref().unwrap().contains_key("dense"));
        }
    }
}

/// Bad sparse input is refused with a message that says what to fix, and nothing is written.
#[test]
fn bad_sparse_input_is_refused() {
    let s = Storage::in_memory();
    s.create_collection("c", config(SparseModifier::None, true, 10)).unwrap();
    let bad = |v: SparseVector, name: &str| {
        let p = NamedPoint {
            id: PointId::Num(1),
            vectors: NamedVectors::new(),
            payload: None,
            sparse: SparseVectors::from([(name.to_string(), v)]),
            multi: Default::default(),
        };
        s.upsert_named("c", vec![p]).unwrap_err()
    };
    let e = bad(SparseVector { indices: vec![1, 2], values: vec![1.0] }, "text");
    assert!(e.to_string().contains("same length"), "{e}");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = bad(SparseVector { indices: vec![1, 1], values: vec![1.0, 2.0] }, "text").to_string();
    assert!(e.contains("index 1 appears more than once"), "{e}");
    let e = bad(SparseVector { indices: vec![1], values: vec![f32::INFINITY] }, "text").to_string();
    assert!(e.contains("not a finite"), "{e}");
    let e = bad(SparseVector { indices: vec![1], values: vec![1.0] }, "nope").to_string();
    assert!(e.contains("\"dense\"") && e.contains("\"text\" (sparse)"), "lists the declared names: {e}");
    let e = bad(SparseVector { indices: vec![1], values: vec![1.0] }, "dense").to_string();
    assert!(e.contains("dense vector"), "{e}");
    // A dense array under the sparse name.
    let p = NamedPoint {
        id: PointId::Num(1),
        vectors: NamedVectors::from([("text".to_string(), vec![1.0; 4])]),
        payload: None,
        sparse: SparseVectors::new(),
        multi: Default::default(),
    };
    let e = s.upsert_named("c", vec![p]).unwrap_err().to_string();
    assert!(e.contains("is a sparse vector"), "{e}");
    assert_eq!(s.count("c", &CountRequest { filter: None, exact: true }).unwrap(), 0);
    // Queries: a dense query of the sparse name, a sparse query of the dense name.
    let e = s
        .query("c", &QueryRequest { using: Some("text".into()), ..QueryRequest::new(vec![1.0; 4], 3) })
        .unwrap_err();
    assert!(e.to_string().contains("is sparse"), "{e}");
    let e = s.query("c", &QueryRequest::sparse("dense", SparseVector::default(), 3)).unwrap_err();
    assert!(e.to_string().contains("is dense"), "{e}");
    let e = s
        .query(
            "c",
            &QueryRequest::sparse("text", SparseVector { indices: vec![2, 2], values: vec![1.0, 1.0] }, 3),
        )
        .unwrap_err();
    assert!(e.to_string().contains("more than once"), "{e}");
}

/// Sparse-only collections: no dense vector declared, points with only a sparse vector, and an
/// empty query returns nothing.
#[test]
fn sparse_only_collection() {
    let s = Storage::in_memory();
    s.create_collection("c", config(SparseModifier::Idf, false, 10)).unwrap();
    let p = |id: u64, idx: Vec<u32>| NamedPoint {
        id: PointId::Num(id),
        vectors: NamedVectors::new(),
        payload: None,
        sparse: SparseVectors::from([(
            "text".to_string(),
            SparseVector { values: vec![1.0; idx.len()], indices: idx },
        )]),
        multi: Default::default(),
    };
    s.upsert_named("c", vec![p(1, vec![1, 2]), p(2, vec![2]), p(3, vec![3])]).unwrap();
    let r = s
        .query("c", &QueryRequest::sparse("text", SparseVector::new(vec![1, 2], vec![1.0, 1.0]).unwrap(), 10))
        .unwrap();
    assert_eq!(r.points.iter().map(|p| p.id).collect::<Vec<_>>(), vec![PointId::Num(1), PointId::Num(2)]);
    assert!(r.points[0].score > r.points[1].score);
    let r = s.query("c", &QueryRequest::sparse("text", SparseVector::default(), 10)).unwrap();
    assert!(r.points.is_empty());
    // The modifier can change (acts at query time): idf off gives raw dot products.
    s.update_collection("c", |c| {
        let mut c = c.clone();
        c.sparse_vectors.get_mut("text").unwrap().modifier = SparseModifier::None;
        Ok(c)
    })
    .unwrap();
    let r = s
        .query("c", &QueryRequest::sparse("text", SparseVector::new(vec![2], vec![1.0]).unwrap(), 10))
        .unwrap();
    assert_eq!(r.points.iter().map(|p| p.score).collect::<Vec<_>>(), vec![1.0, 1.0]);
    // Sparse names cannot be added or removed by an update.
    let e = s
        .update_collection("c", |c| {
            let mut c = c.clone();
            c.sparse_vectors.clear();
            Ok(c)
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}
