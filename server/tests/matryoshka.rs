//! Matryoshka over both transports against the real binary: declaring prefixes, querying at a
//! prefix with explain stages, the PCA (fitted by the background thread, kept across a
//! restart), calibration, and 4xx / InvalidArgument errors naming the bad field.

mod common;

use common::{ok, send, Server};
use grove_proto::v1 as pb;
use grove_proto::v1::collections_client::CollectionsClient;
use grove_proto::v1::points_client::PointsClient;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tonic::transport::Channel;
use tonic::Code;

const DIM: usize = 16;

async fn err(req: reqwest::RequestBuilder, needle: &str) {
    let (status, body) = send(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let msg = body["status"]["error"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
}

/// Deterministic vectors whose energy sits in the leading components.
fn vector(i: u64) -> Vec<f32> {
    (0..DIM)
        .map(|j| {
            let x = ((i * 7919 + j as u64 * 104_729) % 1000) as f32 / 500.0 - 1.0;
            x / (1.0 + j as f32 / 2.0)
        })
        .collect()
}

/// Exact top-k ids by cosine similarity (the oracle), ids `0..n`.
fn brute_force(q: &[f32], n: u64, k: usize, keep: impl Fn(u64) -> bool) -> Vec<u64> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let mut scored: Vec<(f32, u64)> = (0..n)
        .filter(|&i| keep(i))
        .map(|i| {
            let v = vector(i);
            let dot: f32 = v.iter().zip(q).map(|(a, b)| a * b).sum();
            (dot / (norm(&v) * norm(q)), i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, i)| i).collect()
}

fn ids(r: &Value) -> Vec<u64> {
    r["points"].as_array().expect("points").iter().map(|p| p["id"].as_u64().expect("id")).collect()
}

fn points(n: u64) -> Value {
    let pts: Vec<Value> = (0..n)
        .map(|i| json!({"id": i, "vector": vector(i), "payload": {"cat": if i % 2 == 0 { "even" } else { "odd" }}}))
        .collect();
    json!({ "points": pts })
}

#[tokio::test]
async fn rest_declare_query_calibrate_and_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("db");
    let mut s = Server::start_on(&data, &[]);
    let c = reqwest::Client::new();
    let col = s.url("/collections/m");
    // Bad declarations name the field.
    err(
        c.put(s.url("/collections/bad"))
            .json(&json!({"vectors": {"size": DIM, "distance": "Cosine"}, "matryoshka": {"dims": [16]}})),
        "matryoshka",
    )
    .await;
    err(
        c.put(s.url("/collections/bad"))
            .json(&json!({"vectors": {"size": DIM, "distance": "Cosine"}, "matryoshka": {"dims": [4], "dtype": "f8"}})),
        "matryoshka.dtype",
    )
    .await;
    ok(c.put(&col).json(&json!({
        "vectors": {"size": DIM, "distance": "Cosine"},
        "matryoshka": {"dims": [4, 8], "graph": true, "pca": true, "pca_min_points": 100}
    })))
    .await;
    ok(c.put(format!("{col}/index")).json(&json!({"field_name": "cat", "field_schema": "keyword"}))).await;
    ok(c.put(format!("{col}/points?wait=true")).json(&points(300))).await;

    // The background thread fits the PCA once 100 points exist.
    let mut info = Value::Null;
    for _ in 0..400 {
        info = ok(c.get(&col)).await;
        if info["matryoshka"]["pca"] == true && info["status"] == "green" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(info["config"]["matryoshka"]["dims"], json!([4, 8]), "{info}");
    let m = &info["matryoshka"];
    assert_eq!(m["pca"], true, "{info}");
    assert_eq!(m["prefixes"][0]["dim"], 4);
    assert_eq!(m["prefixes"][0]["bytes_per_vector"], 16);
    let v4 = m["prefixes"][0]["variance_kept"].as_f64().expect("variance kept");
    let v8 = m["prefixes"][1]["variance_kept"].as_f64().expect("variance kept");
    assert!(0.0 < v4 && v4 < v8 && v8 <= 1.0, "{m}");

    // A prefix query: same top hit as exact, stages explained.
    let q = vector(17);
    let exact = ok(c
        .post(format!("{col}/points/query"))
        .json(&json!({"query": q, "limit": 5, "params": {"exact": true}})))
    .await;
    let body = json!({"query": q, "limit": 5, "explain": true,
                      "params": {"matryoshka": {"dim": 8, "oversample": 8, "funnel": [], "path": "scan"}}});
    let r = ok(c.post(format!("{col}/points/query")).json(&body)).await;
    assert_eq!(r["points"][0]["id"], 17);
    assert_eq!(r["points"][0]["id"], exact["points"][0]["id"]);
    assert_eq!(ids(&exact), brute_force(&q, 300, 5, |_| true), "exact search vs the oracle");
    // Oversampling to every point makes the prefix stage keep them all: the full-dimension
    // rescoring must then return exactly the oracle's top 5, with the exact scores.
    let all = json!({"query": q, "limit": 5,
                     "params": {"matryoshka": {"dim": 4, "oversample": 60, "funnel": [], "path": "scan"}}});
    let r_all = ok(c.post(format!("{col}/points/query")).json(&all)).await;
    assert_eq!(ids(&r_all), ids(&exact), "{r_all}");
    for (a, b) in
        r_all["points"].as_array().expect("points").iter().zip(exact["points"].as_array().expect("points"))
    {
        let (a, b) = (a["score"].as_f64().expect("score"), b["score"].as_f64().expect("score"));
        assert!((a - b).abs() < 1e-5, "score {a} vs exact {b}");
    }
    // At oversample 8 (40 of 300 candidates), recall@5 against the oracle stays high.
    let oracle = brute_force(&q, 300, 5, |_| true);
    let found = ids(&r).iter().filter(|i| oracle.contains(i)).count();
    assert!(found >= 4, "recall@5 {found}/5: {:?} vs {oracle:?}", ids(&r));
    assert_eq!(r["explain"]["path"], "matryoshka");
    let stages = r["explain"]["matryoshka"].as_array().expect("stages");
    assert_eq!(stages.len(), 2);
    assert_eq!(
        (stages[0]["dim"].clone(), stages[0]["path"].clone(), stages[0]["kept"].clone()),
        (json!(8), json!("prefix_scan"), json!(40))
    );
    assert_eq!(
        (stages[1]["dim"].clone(), stages[1]["path"].clone(), stages[1]["kept"].clone()),
        (json!(DIM), json!("rescore"), json!(5))
    );
    // Filtered, with a funnel.
    let body = json!({"query": q, "limit": 3, "explain": true,
                      "filter": {"must": [{"key": "cat", "match": {"value": "odd"}}]},
                      "params": {"matryoshka": {"dim": 4, "oversample": 20, "funnel": [{"dim": 8, "keep": 20}]}}});
    let r = ok(c.post(format!("{col}/points/query")).json(&body)).await;
    assert!(r["points"].as_array().expect("points").iter().all(|p| p["id"].as_u64().expect("id") % 2 == 1));
    let oracle = brute_force(&q, 300, 3, |i| i % 2 == 1);
    let found = ids(&r).iter().filter(|i| oracle.contains(i)).count();
    assert!(found >= 2, "filtered recall@3 {found}/3: {:?} vs {oracle:?}", ids(&r));
    assert_eq!(r["explain"]["matryoshka"][0]["candidates_in"], 150);
    assert_eq!(r["explain"]["matryoshka"].as_array().expect("stages").len(), 3);
    // Full dimension = a plain search.
    let r = ok(c
        .post(format!("{col}/points/query"))
        .json(&json!({"query": q, "limit": 5, "params": {"matryoshka": {"dim": DIM}}})))
    .await;
    assert_eq!(r["points"][0]["id"], 17);

    // Bad queries name the field.
    let bad = |m: Value| {
        c.post(format!("{col}/points/query")).json(&json!({"query": q, "params": {"matryoshka": m}}))
    };
    err(bad(json!({"dim": 6})), "dim").await;
    err(bad(json!({"dim": 4, "oversample": 0})), "oversample").await;
    err(bad(json!({"dim": 8, "funnel": [{"dim": 4, "keep": 20}]})), "funnel").await;
    err(bad(json!({"dim": 4, "oversample": 8, "funnel": [{"dim": 8, "keep": 90}]})), "funnel").await;
    err(bad(json!({"dim": 4, "path": "walk"})), "params.matryoshka.path").await;

    // Calibration.
    let cal = ok(c
        .post(format!("{col}/matryoshka/calibrate"))
        .json(&json!({"sample": 40, "oversamples": [1, 4, 16], "target_recall": 0.9})))
    .await;
    assert_eq!(cal["queries"], 40);
    assert_eq!(cal["rows"].as_array().expect("rows").len(), 6);
    assert_eq!(cal["exact"]["dim"], DIM);
    if let Some(best) = cal["recommended"].as_object() {
        assert!(best["recall"].as_f64().expect("recall") >= 0.9);
    }
    err(c.post(format!("{col}/matryoshka/calibrate")).json(&json!({"oversamples": [0]})), "oversamples")
        .await;
    err(c.post(format!("{col}/matryoshka/calibrate")).json(&json!({"dims": [5]})), "dims").await;

    // Restart: the PCA is reloaded (not refitted: same variance figures), prefixes rebuilt.
    let status = tokio::task::spawn_blocking(move || {
        let st = s.terminate();
        (st, s)
    })
    .await
    .expect("join");
    assert!(status.0.success());
    let s2 = Server::start_on(&data, &[]);
    let col = s2.url("/collections/m");
    let info = ok(c.get(&col)).await;
    assert_eq!(info["matryoshka"]["pca"], true, "{info}");
    assert_eq!(info["matryoshka"]["prefixes"][0]["variance_kept"].as_f64(), Some(v4));
    let body = json!({"query": q, "limit": 5, "params": {"matryoshka": {"dim": 8, "oversample": 8}}});
    let r = ok(c.post(format!("{col}/points/query")).json(&body)).await;
    assert_eq!(r["points"][0]["id"], 17);
}

#[tokio::test]
async fn grpc_declare_query_calibrate() {
    let s = Server::start(&[]);
    let ch = Channel::from_shared(s.grpc_url()).expect("uri").connect().await.expect("connect");
    let (mut cols, mut pts) = (CollectionsClient::new(ch.clone()), PointsClient::new(ch));
    let bad = cols
        .create(pb::CreateCollectionRequest {
            collection_name: "bad".into(),
            vectors: Some(pb::VectorParams {
                size: DIM as u64,
                distance: pb::Distance::Cosine as i32,
                ..Default::default()
            }),
            hnsw_config: None,
            matryoshka: Some(pb::MatryoshkaConfig { dims: vec![0], ..Default::default() }),
            ..Default::default()
        })
        .await
        .expect_err("bad dims");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("matryoshka"), "{}", bad.message());
    cols.create(pb::CreateCollectionRequest {
        collection_name: "g".into(),
        vectors: Some(pb::VectorParams {
            size: DIM as u64,
            distance: pb::Distance::Cosine as i32,
            ..Default::default()
        }),
        hnsw_config: None,
        matryoshka: Some(pb::MatryoshkaConfig {
            dims: vec![4, 8],
            dtype: "f16".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .expect("create");
    let points: Vec<pb::PointStruct> = (0..200u64)
        .map(|i| pb::PointStruct {
            id: Some(pb::PointId { kind: Some(pb::point_id::Kind::Num(i)) }),
            vector: Some(pb::Vector { data: vector(i) }),
            payload: Default::default(),
            ..Default::default()
        })
        .collect();
    pts.upsert(pb::UpsertPointsRequest { collection_name: "g".into(), points, wait: true })
        .await
        .expect("upsert");
    let info =
        cols.get(pb::GetCollectionRequest { collection_name: "g".into() }).await.expect("get").into_inner();
    let info = info.info.expect("info");
    assert_eq!(info.matryoshka.expect("config").dims, vec![4, 8]);
    let mi = info.matryoshka_info.expect("matryoshka info");
    assert_eq!((mi.dtype.as_str(), mi.prefixes[1].bytes_per_vector), ("f16", 16));

    let query = |m: pb::MatryoshkaParams| pb::QueryRequest {
        collection_name: "g".into(),
        query: Some(pb::Vector { data: vector(42) }),
        limit: 5,
        params: Some(pb::SearchParams { matryoshka: Some(m), ..Default::default() }),
        explain: true,
        ..Default::default()
    };
    let r = pts
        .query(query(pb::MatryoshkaParams { dim: 4, oversample: Some(10), ..Default::default() }))
        .await
        .expect("query")
        .into_inner();
    assert_eq!(r.result[0].id.as_ref().and_then(|i| i.kind.clone()), Some(pb::point_id::Kind::Num(42)));
    let e = r.explain.expect("explain");
    assert_eq!(e.path, "matryoshka");
    assert_eq!(e.matryoshka.iter().map(|s| s.dim).collect::<Vec<_>>(), vec![4, DIM as u64]);
    assert_eq!(e.matryoshka[0].kept, 50);
    // Every point as a candidate (5 x 40 = 200): the answer is the oracle's top 5 exactly.
    let all = pts
        .query(query(pb::MatryoshkaParams { dim: 4, oversample: Some(40), ..Default::default() }))
        .await
        .expect("query")
        .into_inner();
    let got: Vec<u64> = all
        .result
        .iter()
        .map(|p| match p.id.as_ref().and_then(|i| i.kind.clone()) {
            Some(pb::point_id::Kind::Num(n)) => n,
            other => panic!("id {other:?}"),
        })
        .collect();
    assert_eq!(got, brute_force(&vector(42), 200, 5, |_| true));
    let bad = pts
        .query(query(pb::MatryoshkaParams { dim: 6, ..Default::default() }))
        .await
        .expect_err("undeclared prefix");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("dim"), "{}", bad.message());
    let bad = pts
        .query(query(pb::MatryoshkaParams {
            dim: 4,
            oversample: Some(4),
            funnel: vec![pb::FunnelStage { dim: 8, keep: 2 }],
            ..Default::default()
        }))
        .await
        .expect_err("keep below k");
    assert!(bad.message().contains("funnel"), "{}", bad.message());

    let cal = pts
        .calibrate_matryoshka(pb::CalibrateMatryoshkaRequest {
            collection_name: "g".into(),
            sample: Some(30),
            oversamples: vec![2, 8],
            ..Default::default()
        })
        .await
        .expect("calibrate")
        .into_inner();
    assert_eq!((cal.queries, cal.k, cal.rows.len()), (30, 10, 4));
    assert!(cal.rows.iter().all(|r| (0.0..=1.0).contains(&r.recall)));
    let bad = pts
        .calibrate_matryoshka(pb::CalibrateMatryoshkaRequest {
            collection_name: "g".into(),
            oversamples: vec![0],
            ..Default::default()
        })
        .await
        .expect_err("oversample 0");
    assert_eq!(bad.code(), Code::InvalidArgument);
}
