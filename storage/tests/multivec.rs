//! Multi-vectors (MaxSim) through storage, against a brute-force oracle written here (f64
//! MaxSim over the model's live matrices): seeded upserts, overwrites, deletes, vector updates
//! and removals, filters, both search paths (which one ran is asserted), plain vectors as
//! one-row matrices, the 4xx errors, and reopen on RocksDB (rows re-encoded, graphs reloaded).
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::{BTreeMap, HashSet};

use grove_index::multivec::{MultivecPath, MAX_ROWS};
use grove_index::Metric;
use grove_storage::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

const DIM: usize = 16;
const K: usize = 10;

/// The model: each live point's matrix (if it has one) and group.
type Model = BTreeMap<u64, (Option<Vec<Vec<f32>>>, i64)>;

fn config() -> CollectionConfig {
    let mut vectors = BTreeMap::new();
    vectors.insert("dense".to_string(), VectorConfig::new(4, Metric::Dot));
    vectors.insert("mv".to_string(), VectorConfig::multi(DIM, Metric::Dot));
    CollectionConfig::with_vectors(vectors, true)
}

/// A matrix of 2-8 rows around one of 20 seeded centres, so nearest neighbours are meaningful.
fn matrix(rng: &mut ChaCha8Rng, centres: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let c = &centres[rng.gen_range(0..centres.len())];
    (0..rng.gen_range(2..=8)).map(|_| c.iter().map(|x| x + rng.gen_range(-0.5f32..0.5)).collect()).collect()
}

fn centres(rng: &mut ChaCha8Rng) -> Vec<Vec<f32>> {
    (0..20).map(|_| (0..DIM).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect()
}

fn oracle_max_sim(q: &[Vec<f32>], d: &[Vec<f32>]) -> f64 {
    q.iter()
        .map(|qr| {
            d.iter()
                .map(|dr| qr.iter().zip(dr).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>())
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .sum()
}

/// The oracle's top-k: (id, score) by score descending, then id.
fn oracle(model: &Model, q: &[Vec<f32>], group: Option<i64>, k: usize) -> Vec<(u64, f64)> {
    let mut all: Vec<(u64, f64)> = model
        .iter()
        .filter(|(_, (m, g))| m.is_some() && group.is_none_or(|x| x == *g))
        .map(|(id, (m, _))| (*id, oracle_max_sim(q, m.as_deref().unwrap_or_default())))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

fn point(id: u64, m: Option<Vec<Vec<f32>>>, g: i64) -> NamedPoint {
    NamedPoint {
        id: PointId::Num(id),
        vectors: NamedVectors::from([("dense".to_string(), vec![id as f32, 1.0, 0.0, 0.0])]),
        payload: json!({"g": g}).as_object().cloned(),
        sparse: Default::default(),
        multi: m.map(|m| MultiVectors::from([("mv".to_string(), m)])).unwrap_or_default(),
    }
}

fn group_filter(g: i64) -> Filter {
    serde_json::from_value(json!({"must": [{"key": "g", "match": {"value": g}}]})).unwrap()
}

fn num(id: &PointId) -> u64 {
    match id {
        PointId::Num(n) => *n,
        PointId::Uuid(_) => panic!("numeric ids only"),
    }
}

/// Runs the query; checks every returned score is the exact MaxSim of the model's matrix, and
/// returns the ids and the path that ran.
fn search(
    s: &Storage,
    model: &Model,
    q: &[Vec<f32>],
    group: Option<i64>,
    exact: bool,
) -> (Vec<u64>, MultivecPath) {
    let req = QueryRequest {
        filter: group.map(group_filter),
        exact,
        explain: true,
        ..QueryRequest::multi("mv", q.to_vec(), K)
    };
    let r = s.query("c", &req).unwrap();
    for h in &r.points {
        let (m, g) = model.get(&num(&h.id)).unwrap_or_else(|| panic!("hit {} is not live", h.id));
        assert!(group.is_none_or(|x| x == *g), "hit {} outside the filter", h.id);
        let want = oracle_max_sim(q, m.as_deref().unwrap_or_else(|| panic!("hit {} has no matrix", h.id)));
        assert!(
            (f64::from(h.score) - want).abs() <= 1e-3 * want.abs().max(1.0),
            "score of {}: {} vs {want}",
            h.id,
            h.score
        );
    }
    let path = r.explain.and_then(|e| e.multivec).map(|m| m.path).unwrap();
    (r.points.iter().map(|h| num(&h.id)).collect(), path)
}

/// Exact answers equal the oracle's (ids; ties broken by id on both sides); the FDE path keeps
/// mean recall@10 over the queries at or above `floor`.
fn check_all(s: &Storage, model: &Model, queries: &[Vec<Vec<f32>>], floor: f64, fde_expected: bool) {
    let mut recall = 0.0;
    for (i, q) in queries.iter().enumerate() {
        let want: Vec<u64> = oracle(model, q, None, K).into_iter().map(|(id, _)| id).collect();
        let (got, path) = search(s, model, q, None, true);
        assert_eq!(path, MultivecPath::ExactMaxSim);
        assert_eq!(got, want, "exact query {i}");
        // A filter of one group out of 10 (~150 points): below exact_max_points, so exact.
        let g = (i % 10) as i64;
        let want_g: Vec<u64> = oracle(model, q, Some(g), K).into_iter().map(|(id, _)| id).collect();
        let (got_g, path) = search(s, model, q, Some(g), false);
        assert_eq!(path, MultivecPath::ExactMaxSim, "a small filter is answered exactly");
        assert_eq!(got_g, want_g, "filtered query {i}");
        let (approx, path) = search(s, model, q, None, false);
        if fde_expected {
            assert_eq!(path, MultivecPath::FdeRescore, "{} points with the field: the FDE path", model.len());
        }
        let want: HashSet<u64> = want.into_iter().collect();
        recall += approx.iter().filter(|id| want.contains(id)).count() as f64 / want.len().max(1) as f64;
    }
    let mean = recall / queries.len() as f64;
    assert!(mean >= floor, "mean recall@{K} of the FDE path {mean:.3} < {floor}");
}

/// Seeded writes of every kind against the model; answers checked after the writes, after
/// indexing, and after two reopens (rows only, then with saved graphs).
#[test]
fn multivec_search_matches_brute_force_through_writes_and_reopen() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x6d76);
    let cs = centres(&mut rng);
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::new();
    let queries: Vec<Vec<Vec<f32>>> = (0..12).map(|_| matrix(&mut rng, &cs)).collect();
    {
        let s = Storage::open(dir.path()).unwrap();
        s.create_collection("c", config()).unwrap();
        s.create_field_index("c", "g", PayloadSchemaType::Integer).unwrap();
        // 1,600 points; every 25th has no matrix (only the dense vector).
        for chunk in (0..1600u64).collect::<Vec<_>>().chunks(200) {
            let pts: Vec<NamedPoint> = chunk
                .iter()
                .map(|&id| {
                    let m = (id % 25 != 0).then(|| matrix(&mut rng, &cs));
                    let g = (id % 10) as i64;
                    model.insert(id, (m.clone(), g));
                    point(id, m, g)
                })
                .collect();
            s.upsert_named("c", pts).unwrap();
        }
        // Overwrites (new matrices), deletes, vector updates and removals.
        let over: Vec<NamedPoint> = (0..1600u64)
            .step_by(7)
            .map(|id| {
                let m = Some(matrix(&mut rng, &cs));
                let g = (id % 10) as i64;
                model.insert(id, (m.clone(), g));
                point(id, m, g)
            })
            .collect();
        s.upsert_named("c", over).unwrap();
        let gone: Vec<PointId> = (0..1600u64).step_by(11).map(PointId::Num).collect();
        for id in &gone {
            model.remove(&num(id));
        }
        s.delete_points("c", &PointSelector::Ids { points: gone }).unwrap();
        let targets: Vec<u64> = (3..1600u64).step_by(13).filter(|id| model.contains_key(id)).collect();
        let updates: Vec<(PointId, NamedVectors, MultiVectors, SparseVectors)> = targets
            .into_iter()
            .map(|id| {
                let m = matrix(&mut rng, &cs);
                if let Some(e) = model.get_mut(&id) {
                    e.0 = Some(m.clone());
                }
                (
                    PointId::Num(id),
                    NamedVectors::new(),
                    MultiVectors::from([("mv".to_string(), m)]),
                    SparseVectors::new(),
                )
            })
            .collect();
        s.update_vectors_with_multi("c", updates).unwrap();
        let stripped: Vec<PointId> =
            (5..1600u64).step_by(17).filter(|id| model.contains_key(id)).map(PointId::Num).collect();
        for id in &stripped {
            if let Some(e) = model.get_mut(&num(id)) {
                e.0 = None;
            }
        }
        s.delete_vectors("c", &PointSelector::Ids { points: stripped }, &["mv".to_string()]).unwrap();
        // Payloads survive a vector rewrite; a point without the field is never a hit.
        let with_field = model.values().filter(|(m, _)| m.is_some()).count();
        assert!(with_field > 1000, "{with_field} points hold the field: the FDE path must be reachable");
        check_all(&s, &model, &queries, 0.85, true);
        assert!(s.wait_indexed("c", std::time::Duration::from_secs(120)).unwrap());
        check_all(&s, &model, &queries, 0.85, true);
        // Reads return the matrix as stored (Dot: the rows as sent).
        let id = *model.iter().find(|(_, (m, _))| m.is_some()).map(|(id, _)| id).unwrap();
        let r = s.get_points("c", &[PointId::Num(id)], &WithPayload::All(true), true).unwrap();
        assert_eq!(r[0].multi.as_ref().and_then(|m| m.get("mv")), model[&id].0.as_ref());
        assert_eq!(r[0].payload.as_ref().and_then(|p| p.get("g")), Some(&json!(model[&id].1)));
        assert!(r[0].vectors.as_ref().is_some_and(|v| !v.contains_key("mv")), "encodings are never returned");
    }
    // Reopen: the matrices are re-encoded from the rows; then once more with saved graphs.
    for round in 0..2 {
        let s = Storage::open(dir.path()).unwrap();
        let info = s.collection_info("c").unwrap();
        assert_eq!(info.points_count, model.len() as u64, "round {round}");
        check_all(&s, &model, &queries, 0.85, true);
        assert!(s.wait_indexed("c", std::time::Duration::from_secs(120)).unwrap());
    }
}

/// A plain vector on a multi-vector field is a matrix of one row (upsert and query, as in
/// Qdrant); shapes, values and names are checked with errors that say what to fix.
#[test]
fn shapes_and_errors() {
    let s = Storage::in_memory();
    s.create_collection("c", config()).unwrap();
    let row = |x: f32| vec![x; DIM];
    // One row as a plain vector.
    let p = NamedPoint {
        id: PointId::Num(1),
        vectors: NamedVectors::from([("mv".to_string(), row(0.5))]),
        payload: None,
        sparse: Default::default(),
        multi: Default::default(),
    };
    s.upsert_named("c", vec![p, point(2, Some(vec![row(1.0), row(-1.0)]), 0)]).unwrap();
    let r = s.get_points("c", &[PointId::Num(1)], &WithPayload::All(false), true).unwrap();
    assert_eq!(r[0].multi.as_ref().and_then(|m| m.get("mv")), Some(&vec![row(0.5)]));
    let hits =
        s.query("c", &QueryRequest { using: Some("mv".into()), ..QueryRequest::new(row(1.0), 5) }).unwrap();
    let scores: Vec<(PointId, f32)> = hits.points.iter().map(|h| (h.id, h.score)).collect();
    // MaxSim of one query row: point 2's best row scores 16, point 1's 8.
    assert_eq!(scores, vec![(PointId::Num(2), 16.0), (PointId::Num(1), 8.0)]);
    let bad = |m: Vec<Vec<f32>>, name: &str| {
        let p = NamedPoint { multi: MultiVectors::from([(name.to_string(), m)]), ..point(9, None, 0) };
        s.upsert_named("c", vec![p]).unwrap_err()
    };
    let e = bad(vec![row(1.0), vec![1.0; DIM - 1]], "mv");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("row 1") && e.to_string().contains("16"), "{e}");
    let e = bad(vec![], "mv").to_string();
    assert!(e.contains("at least one row"), "{e}");
    let mut nan = row(1.0);
    nan[3] = f32::NAN;
    let e = bad(vec![row(1.0), nan], "mv").to_string();
    assert!(e.contains("row 1"), "{e}");
    let e = bad(vec![vec![0.0; DIM]; MAX_ROWS + 1], "mv").to_string();
    assert!(e.contains(&format!("at most {MAX_ROWS}")), "{e}");
    let e = bad(vec![vec![1.0; 4], vec![1.0; 4]], "dense");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        e.to_string().contains("dense vector of size 4") && e.to_string().contains("multivector_config"),
        "{e}"
    );
    let e = bad(vec![row(1.0)], "nope").to_string();
    assert!(e.contains("\"mv\" (multi)"), "lists the names: {e}");
    // A plain vector of the wrong size on the multi-vector name.
    let p =
        NamedPoint { vectors: NamedVectors::from([("mv".to_string(), vec![1.0; 3])]), ..point(9, None, 0) };
    let e = s.upsert_named("c", vec![p]).unwrap_err().to_string();
    assert!(e.contains("expects 16") || e.contains("16"), "{e}");
    assert_eq!(s.count("c", &CountRequest { filter: None, exact: true }).unwrap(), 2, "nothing was written");
    // Queries: a matrix on the dense name, a ragged matrix, a wrong-size plain vector.
    let e = s.query("c", &QueryRequest::multi("dense", vec![vec![1.0; 4]], 3)).unwrap_err();
    assert!(e.to_string().contains("dense vector"), "{e}");
    let e = s.query("c", &QueryRequest::multi("mv", vec![row(1.0), vec![1.0; 2]], 3)).unwrap_err();
    assert!(e.to_string().contains("row 1"), "{e}");
    let e = s
        .query("c", &QueryRequest { using: Some("mv".into()), ..QueryRequest::new(vec![1.0; 3], 3) })
        .unwrap_err();
    assert!(e.to_string().contains("16"), "{e}");
    // The declaration cannot change by PATCH.
    let e = s
        .update_collection("c", |c| {
            let mut c = c.clone();
            if let Some(v) = c.vectors.get_mut("mv") {
                v.multivector = None;
            }
            Ok(c)
        })
        .unwrap_err();
    assert!(e.to_string().contains("multivector"), "{e}");
}

/// Cosine rows are normalised when stored (as Qdrant does), Euclid scores are
/// `sqrt(sum of squared distances to the nearest rows)` (Qdrant's: a self-match scores 0,
/// smaller is better), and an unnamed multi-vector works in the plain form.
#[test]
fn metrics_and_the_unnamed_form() {
    let s = Storage::in_memory();
    let mut vectors = BTreeMap::new();
    vectors.insert(String::new(), VectorConfig::multi(3, Metric::L2));
    s.create_collection("e", CollectionConfig::with_vectors(vectors, false)).unwrap();
    let m1 = vec![vec![1.0, 2.0, 3.0], vec![3.0, 3.0, 3.0], vec![4.0, 5.0, 6.0]];
    let m2 = vec![vec![3.0, 3.0, 3.0], vec![4.0, 2.0, 1.0]];
    let p = |id: u64, m: &Vec<Vec<f32>>| NamedPoint {
        id: PointId::Num(id),
        vectors: NamedVectors::new(),
        payload: None,
        sparse: Default::default(),
        multi: MultiVectors::from([(String::new(), m.clone())]),
    };
    s.upsert_named("e", vec![p(1, &m1), p(2, &m2)]).unwrap();
    let r =
        s.query("e", &QueryRequest { with_vector: true, ..QueryRequest::multi("", m1.clone(), 10) }).unwrap();
    assert_eq!(r.points[0].id, PointId::Num(1));
    assert_eq!(r.points[0].score, 0.0);
    assert_eq!(r.points[0].multi.as_ref().and_then(|m| m.get("")), Some(&m1));
    assert!(r.points[0].vector.is_none());
    // Point 2: each query row's nearest row is 5, 0 and 14 away (squared): sqrt(19).
    assert_eq!(r.points[1].score, 19f32.sqrt());
    // A threshold keeps the scores at or below it (distances).
    let r = s
        .query("e", &QueryRequest { score_threshold: Some(4.0), ..QueryRequest::multi("", m1.clone(), 10) })
        .unwrap();
    assert_eq!(r.points.iter().map(|h| h.id).collect::<Vec<_>>(), vec![PointId::Num(1)]);
    let mut vectors = BTreeMap::new();
    vectors.insert("mv".to_string(), VectorConfig::multi(2, Metric::Cosine));
    s.create_collection("cos", CollectionConfig::with_vectors(vectors, true)).unwrap();
    let p = NamedPoint {
        id: PointId::Num(1),
        vectors: NamedVectors::new(),
        payload: None,
        sparse: Default::default(),
        multi: MultiVectors::from([("mv".to_string(), vec![vec![3.0, 4.0], vec![0.0, 2.0]])]),
    };
    s.upsert_named("cos", vec![p]).unwrap();
    let r = s.get_points("cos", &[PointId::Num(1)], &WithPayload::All(false), true).unwrap();
    assert_eq!(r[0].multi.as_ref().and_then(|m| m.get("mv")), Some(&vec![vec![0.6, 0.8], vec![0.0, 1.0]]));
    // Matryoshka prefixes cannot sit on a multi-vector unnamed vector.
    let mut vectors = BTreeMap::new();
    vectors.insert(String::new(), VectorConfig::multi(8, Metric::Dot));
    let mut c = CollectionConfig::with_vectors(vectors, false);
    c.matryoshka_dims = vec![4];
    assert!(s.create_collection("m", c).unwrap_err().to_string().contains("multi-vector"));
}
