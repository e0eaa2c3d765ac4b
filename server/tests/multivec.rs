//! Multi-vectors (late interaction, MaxSim) over REST against the real binary: Qdrant's shapes
//! (`multivector_config` in create/info, matrices in the named map and as the unnamed vector,
//! `/points/query` with a matrix or `{"nearest": matrix}` and `using`, a plain vector as one
//! row, prefetch + MaxSim rescoring, `/points/vectors`), results against an oracle computed here,
//! filters / offset / score_threshold / `params.exact` / explain, the 4xx cases, and restart
//! persistence; one round trip over Qdrant's gRPC API.

mod common;

use common::{ok, send, Server};
use serde_json::{json, Value};

async fn err(req: reqwest::RequestBuilder, needles: &[&str]) {
    let (status, body) = send(req).await;
    assert!(status.is_client_error(), "{status}: {body}");
    let msg = body["status"]["error"].as_str().unwrap_or_else(|| panic!("not Qdrant-shaped: {body}"));
    for n in needles {
        assert!(msg.contains(n), "message {msg:?} lacks {n:?}");
    }
}

const N: u64 = 60;

/// Point `i`'s matrix (deterministic; quarters plus `i / 1024` in the first component, so f32
/// sums are exact and few scores tie): 1 to 4 rows of 4.
fn matrix(i: u64) -> Vec<Vec<f32>> {
    (0..(i % 4 + 1))
        .map(|r| {
            (0..4)
                .map(|d| {
                    let base = (((i * 7 + r * 3 + d * 5) % 9) as f32 - 4.0) / 4.0;
                    if d == 0 {
                        base + i as f32 / 1024.0
                    } else {
                        base
                    }
                })
                .collect()
        })
        .collect()
}

/// A matrix from JSON, read as f32 (as it was sent).
fn rows(v: &Value) -> Vec<Vec<f32>> {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not a matrix: {v}: {e}"))
}

/// What point `i` holds: its matrix, but only the first row for the last point (sent plain).
fn stored(i: u64) -> Vec<Vec<f32>> {
    if i == N - 1 {
        vec![matrix(i)[0].clone()]
    } else {
        matrix(i)
    }
}

fn max_sim(q: &[Vec<f32>], d: &[Vec<f32>]) -> f64 {
    q.iter()
        .map(|qr| {
            d.iter()
                .map(|dr| qr.iter().zip(dr).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>())
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .sum()
}

/// The oracle's ranking of the live points allowed by `allow`: (id, score), best first, ties by id.
fn oracle(live: &[(u64, Vec<Vec<f32>>)], q: &[Vec<f32>], allow: &dyn Fn(u64) -> bool) -> Vec<(u64, f64)> {
    let mut out: Vec<(u64, f64)> =
        live.iter().filter(|(id, _)| allow(*id)).map(|(id, m)| (*id, max_sim(q, m))).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Hits equal ranks `from..to` of the oracle: scores exactly (the data is exact in f32), ids
/// where the score is not tied.
fn check(hits: &Value, all: &[(u64, f64)], from: usize, to: usize, what: &str) {
    let hits = hits.as_array().unwrap_or_else(|| panic!("{what}: {hits}"));
    let to = to.min(all.len());
    let want = &all[from.min(to)..to];
    assert_eq!(hits.len(), want.len(), "{what}: {hits:?} vs {want:?}");
    for (r, (h, (id, score))) in hits.iter().zip(want).enumerate() {
        let got = h["score"].as_f64().expect("score");
        assert!((got - score).abs() < 1e-5, "{what}: rank {r}: score {got} vs {score}");
        let tied = all.iter().filter(|w| (w.1 - score).abs() < 1e-9).count() > 1;
        if !tied {
            assert_eq!(h["id"].as_u64(), Some(*id), "{what}: rank {}", from + r);
        }
    }
}

fn create_body() -> Value {
    json!({"vectors": {
        "colbert": {"size": 4, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}},
        "dense": {"size": 2, "distance": "Dot"}
    }})
}

fn points() -> Vec<Value> {
    (0..N)
        .map(|i| {
            // The last point sends its one row as a plain vector (Qdrant reads it as a matrix).
            let mv = if i == N - 1 { json!(matrix(i)[0]) } else { json!(matrix(i)) };
            json!({"id": i, "vector": {"colbert": mv, "dense": [1.0, i as f32 / 64.0]}, "payload": {"g": i % 3}})
        })
        .collect()
}

#[tokio::test]
async fn multivectors_end_to_end() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    let col = s.url("/collections/mv");
    ok(c.put(&col).json(&create_body())).await;
    let info = ok(c.get(&col)).await;
    assert_eq!(
        info["config"]["params"]["vectors"]["colbert"]["multivector_config"],
        json!({"comparator": "max_sim"}),
        "{info}"
    );
    let without = info["grove_settings_without_effect"].to_string();
    assert!(!without.contains("multivector"), "multivector_config acts: {without}");
    ok(c.put(s.url("/collections/mv/points?wait=true")).json(&json!({"points": points()}))).await;
    let mut live: Vec<(u64, Vec<Vec<f32>>)> = (0..N).map(|i| (i, stored(i))).collect();
    // Read back: GET by id, POST points, scroll.
    let p = ok(c.get(s.url("/collections/mv/points/5"))).await;
    assert_eq!(rows(&p["vector"]["colbert"]), matrix(5), "{p}");
    assert_eq!(p["vector"]["dense"], json!([1.0, 5.0 / 64.0]));
    let p = ok(c.get(s.url(&format!("/collections/mv/points/{}", N - 1)))).await;
    assert_eq!(rows(&p["vector"]["colbert"]), stored(N - 1), "a plain vector is one row");
    let page =
        ok(c.post(s.url("/collections/mv/points/scroll")).json(&json!({"limit": 3, "with_vector": true})))
            .await;
    assert_eq!(rows(&page["points"][2]["vector"]["colbert"]), matrix(2));
    // Query API: matrix, {"nearest": matrix}, filter + offset, score_threshold, exact, explain.
    let q = vec![vec![0.5, -0.25, 1.0, 0.0], vec![-1.0, 0.5, 0.25, 0.75]];
    let all = oracle(&live, &q, &|_| true);
    let r = ok(c.post(s.url("/collections/mv/points/query")).json(&json!({
        "query": q, "using": "colbert", "limit": 10, "explain": true, "with_vector": true
    })))
    .await;
    check(&r["points"], &all, 0, 10, "plain");
    assert_eq!(r["explain"]["multivec"]["path"], "exact_max_sim", "{}", r["explain"]);
    assert_eq!(r["explain"]["multivec"]["query_rows"], 2);
    assert_eq!(r["explain"]["using"], "colbert");
    let top = r["points"][0]["id"].as_u64().expect("id");
    assert_eq!(rows(&r["points"][0]["vector"]["colbert"]), stored(top));
    let r = ok(c.post(s.url("/collections/mv/points/query")).json(&json!({
        "query": {"nearest": q}, "using": "colbert", "limit": 5, "offset": 2, "with_payload": true,
        "filter": {"must": [{"key": "g", "match": {"value": 1}}]}
    })))
    .await;
    check(&r["points"], &oracle(&live, &q, &|i| i % 3 == 1), 2, 7, "filtered + offset");
    assert!(r["points"].as_array().expect("hits").iter().all(|h| h["payload"]["g"] == 1));
    let t = all[6].1 - 1e-3;
    let above = all.iter().filter(|w| w.1 >= t).count();
    assert!(above >= 7 && above < all.len());
    let r = ok(c.post(s.url("/collections/mv/points/query")).json(&json!({
        "query": q, "using": "colbert", "limit": 50, "score_threshold": t, "params": {"exact": true}, "explain": true
    })))
    .await;
    check(&r["points"], &all, 0, above, "score_threshold");
    assert!(r["explain"]["multivec"]["reason"].as_str().expect("reason").contains("strategy=exact"));
    // A plain vector on the multi-vector field: a one-row query.
    let one = vec![q[0].clone()];
    let r = ok(c
        .post(s.url("/collections/mv/points/query"))
        .json(&json!({"query": q[0], "using": "colbert", "limit": 4})))
    .await;
    check(&r["points"], &oracle(&live, &one, &|_| true), 0, 4, "one row");
    // Prefetch on the dense vector, MaxSim rescoring of its 20 candidates (ids 40..59 have the
    // largest dense dot product with [1, 1]).
    let r = ok(c.post(s.url("/collections/mv/points/query")).json(&json!({
        "prefetch": {"query": [1.0, 1.0], "using": "dense", "limit": 20},
        "query": q, "using": "colbert", "limit": 5, "explain": true
    })))
    .await;
    check(&r["points"], &oracle(&live, &q, &|i| i >= 40), 0, 5, "prefetch + rescore");
    // A multi-vector prefetch fused with a dense one.
    let r = ok(c.post(s.url("/collections/mv/points/query")).json(&json!({
        "prefetch": [
            {"query": q, "using": "colbert", "limit": 5},
            {"query": [1.0, 1.0], "using": "dense", "limit": 5}
        ],
        "query": {"fusion": "rrf"}, "limit": 10
    })))
    .await;
    let ids: Vec<u64> =
        r["points"].as_array().expect("hits").iter().filter_map(|h| h["id"].as_u64()).collect();
    for (id, _) in all.iter().take(5) {
        assert!(ids.contains(id), "fused list lacks the multi-vector prefetch's {id}: {ids:?}");
    }
    // Vector updates, deletes: the oracle follows.
    let newm = vec![vec![1.0, 1.0, 1.0, 1.0], vec![0.5, 0.5, 0.5, 0.5]];
    ok(c.put(s.url("/collections/mv/points/vectors?wait=true"))
        .json(&json!({"points": [{"id": 7, "vector": {"colbert": newm}}]})))
    .await;
    live[7].1 = newm.clone();
    let p = ok(c.get(s.url("/collections/mv/points/7"))).await;
    assert_eq!(rows(&p["vector"]["colbert"]), newm);
    assert_eq!(p["payload"]["g"], 1, "the payload stays");
    ok(c.post(s.url("/collections/mv/points/delete?wait=true")).json(&json!({"points": [all[0].0]}))).await;
    live.retain(|(id, _)| *id != all[0].0);
    ok(c.post(s.url("/collections/mv/points/vectors/delete?wait=true"))
        .json(&json!({"points": [all[1].0], "vector": ["colbert"]})))
    .await;
    live.retain(|(id, _)| *id != all[1].0);
    let r = ok(c
        .post(s.url("/collections/mv/points/query"))
        .json(&json!({"query": q, "using": "colbert", "limit": 10})))
    .await;
    check(&r["points"], &oracle(&live, &q, &|_| true), 0, 10, "after writes");
    // The 4xx cases: what to fix is in the message.
    let put = |body: Value| c.put(s.url("/collections/mv/points?wait=true")).json(&body);
    err(
        put(json!({"points": [{"id": 100, "vector": {"colbert": [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0]]}}]})),
        &["same dimension"],
    )
    .await;
    err(put(json!({"points": [{"id": 100, "vector": {"colbert": [[]]}}]})), &["non-empty"]).await;
    err(put(json!({"points": [{"id": 100, "vector": {"colbert": [[1.0, 2.0, 3.0]]}}]})), &["row 0", "4"])
        .await;
    err(put(json!({"points": [{"id": 100, "vector": {"colbert": [1.0, 2.0, 3.0]}}]})), &["4", "3"]).await;
    err(
        put(json!({"points": [{"id": 100, "vector": {"dense": [[1.0, 2.0], [3.0, 4.0]]}}]})),
        &["\"dense\" is a dense vector of size 2", "multivector_config"],
    )
    .await;
    let query = |body: Value| c.post(s.url("/collections/mv/points/query")).json(&body);
    err(query(json!({"query": [[1.0, 2.0]], "using": "dense"})), &["dense vector", "multivector_config"])
        .await;
    err(query(json!({"query": [[1.0, 2.0, 3.0, 4.0], [1.0]], "using": "colbert"})), &["same dimension"])
        .await;
    err(query(json!({"query": [0.1, 0.2, 0.3], "using": "colbert"})), &["4", "3"]).await;
    let count = ok(c.post(s.url("/collections/mv/points/count")).json(&json!({}))).await;
    assert_eq!(count["count"], N - 1, "nothing was written by the refused upserts");
}

/// The unnamed vector as a multi-vector (`vector: [[..]]`), Euclid scores (the root of the
/// summed squared distances, a self-match 0, as Qdrant's test documents), and restart
/// persistence.
#[tokio::test]
async fn unnamed_multivector_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("db");
    let m1 = json!([[1.0, 2.0, 3.0], [3.0, 3.0, 3.0], [4.0, 5.0, 6.0]]);
    let m2 = json!([[3.0, 3.0, 3.0], [4.0, 2.0, 1.0]]);
    let body = json!({"query": m1, "limit": 10, "with_vector": true});
    let before;
    {
        let mut s = Server::start_on(&data, &[]);
        let c = reqwest::Client::new();
        ok(c.put(s.url("/collections/u")).json(&json!({
            "vectors": {"size": 3, "distance": "Euclid", "multivector_config": {"comparator": "max_sim"}}
        })))
        .await;
        ok(c.put(s.url("/collections/u/points?wait=true"))
            .json(&json!({"batch": {"ids": [1, 2], "vectors": [m1, m2]}})))
        .await;
        before = ok(c.post(s.url("/collections/u/points/query")).json(&body)).await["points"].clone();
        assert_eq!(before[0]["id"], 1);
        assert_eq!(before[0]["score"], 0.0);
        assert_eq!(before[0]["vector"], m1, "the unnamed form: an array of rows");
        let d = before[1]["score"].as_f64().expect("score");
        assert!((d - 19f64.sqrt()).abs() < 1e-5, "Qdrant's Euclid MaxSim score: {d}");
        assert!(s.terminate().success());
    }
    let s = Server::start_on(&data, &[]);
    let c = reqwest::Client::new();
    let after = ok(c.post(s.url("/collections/u/points/query")).json(&body)).await["points"].clone();
    assert_eq!(before, after);
    let info = ok(c.get(s.url("/collections/u"))).await;
    assert_eq!(info["config"]["params"]["vectors"]["multivector_config"], json!({"comparator": "max_sim"}));
}

/// Qdrant's gRPC API: a multi-dense point and query, and the matrix read back.
#[tokio::test]
async fn qdrant_grpc_multi_dense_round_trip() {
    use grove_proto::qdrant as pb;
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    ok(c.put(s.url("/collections/g")).json(&create_body())).await;
    let ch =
        tonic::transport::Channel::from_shared(s.grpc_url()).expect("url").connect().await.expect("connect");
    let mut points = pb::points_client::PointsClient::new(ch);
    let mv = |m: Vec<Vec<f32>>| pb::MultiDenseVector {
        vectors: m.into_iter().map(|data| pb::DenseVector { data }).collect(),
    };
    let ps: Vec<pb::PointStruct> = (0..N)
        .map(|i| pb::PointStruct {
            id: Some(pb::PointId { point_id_options: Some(pb::point_id::PointIdOptions::Num(i)) }),
            vectors: Some(pb::Vectors {
                vectors_options: Some(pb::vectors::VectorsOptions::Vectors(pb::NamedVectors {
                    vectors: [(
                        "colbert".to_string(),
                        pb::Vector {
                            vector: Some(pb::vector::Vector::MultiDense(mv(matrix(i)))),
                            ..Default::default()
                        },
                    )]
                    .into_iter()
                    .collect(),
                })),
            }),
            ..Default::default()
        })
        .collect();
    points
        .upsert(pb::UpsertPoints {
            collection_name: "g".into(),
            wait: Some(true),
            points: ps,
            ..Default::default()
        })
        .await
        .expect("upsert");
    let q = vec![vec![0.5, -0.25, 1.0, 0.0], vec![-1.0, 0.5, 0.25, 0.75]];
    let r = points
        .query(pb::QueryPoints {
            collection_name: "g".into(),
            query: Some(pb::Query {
                variant: Some(pb::query::Variant::Nearest(pb::VectorInput {
                    variant: Some(pb::vector_input::Variant::MultiDense(mv(q.clone()))),
                })),
            }),
            using: Some("colbert".into()),
            limit: Some(5),
            with_vectors: Some(pb::WithVectorsSelector {
                selector_options: Some(pb::with_vectors_selector::SelectorOptions::Enable(true)),
            }),
            ..Default::default()
        })
        .await
        .expect("query")
        .into_inner();
    let live: Vec<(u64, Vec<Vec<f32>>)> = (0..N).map(|i| (i, matrix(i))).collect();
    let want = oracle(&live, &q, &|_| true);
    assert_eq!(r.result.len(), 5);
    for (h, (id, score)) in r.result.iter().zip(&want) {
        assert!((f64::from(h.score) - score).abs() < 1e-5, "{} vs {score}", h.score);
        let got = h.id.as_ref().and_then(|p| p.point_id_options.clone());
        if want.iter().filter(|w| (w.1 - score).abs() < 1e-9).count() == 1 {
            assert_eq!(got, Some(pb::point_id::PointIdOptions::Num(*id)));
        }
    }
    let v = r.result[0]
        .vectors
        .as_ref()
        .and_then(|v| match &v.vectors_options {
            Some(pb::vectors_output::VectorsOptions::Vectors(n)) => n.vectors.get("colbert").cloned(),
            _ => None,
        })
        .expect("the matrix");
    let rows = match v.vector {
        Some(pb::vector_output::Vector::MultiDense(m)) => m.vectors.len(),
        other => panic!("not multi-dense: {other:?}"),
    };
    let top = match r.result[0].id.as_ref().and_then(|p| p.point_id_options.clone()) {
        Some(pb::point_id::PointIdOptions::Num(n)) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(rows, matrix(top).len());
}
