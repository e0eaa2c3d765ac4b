//! LIMIT diagnostics against the real binary, over REST and gRPC: the subset diagnostic on a
//! collection whose geometry makes most relevant sets provably unreturnable, capacity jobs
//! (critical-n search, user qrels, cancel), and validation errors naming the field.

mod common;

use std::time::{Duration, Instant};

use common::{ok, send, Server};
use grove_proto::v1 as pb;
use grove_proto::v1::diagnostics_client::DiagnosticsClient;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tonic::Code;

/// N unit vectors evenly on a circle (d = 2, cosine), ids 100 + i, payload `half` = i < N/2.
const N: usize = 12;

fn angle(i: usize) -> f64 {
    std::f64::consts::TAU * i as f64 / N as f64
}

/// Every pair {i, j} with its mid-direction query (the shorter arc's). A unit query's top-2 are
/// the two points angularly nearest to it, which are adjacent: only the N adjacent pairs are
/// returnable; the other N(N-3)/2 are not, by any query.
fn all_pairs() -> Vec<(usize, usize, [f32; 2])> {
    let mut out = Vec::new();
    for i in 0..N {
        for j in i + 1..N {
            let (a, b) = (angle(i), angle(j));
            let mid = if b - a <= std::f64::consts::PI {
                (a + b) / 2.0
            } else {
                (a + b) / 2.0 + std::f64::consts::PI
            };
            out.push((i, j, [mid.cos() as f32, mid.sin() as f32]));
        }
    }
    out
}

fn adjacent(i: usize, j: usize) -> bool {
    j - i == 1 || (i == 0 && j == N - 1)
}

async fn err(req: reqwest::RequestBuilder, want: StatusCode, needle: &str) {
    let (status, body) = send(req).await;
    assert_eq!(status, want, "{body}");
    let msg = body["status"]["error"].as_str().unwrap_or_else(|| panic!("not an error body: {body}"));
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
}

async fn circle_collection(s: &Server, c: &reqwest::Client) -> String {
    let col = s.url("/collections/circle");
    ok(c.put(&col).json(&json!({"vectors": {"size": 2, "distance": "Cosine"}}))).await;
    let pts: Vec<Value> = (0..N)
        .map(|i| json!({"id": 100 + i, "vector": [angle(i).cos(), angle(i).sin()], "payload": {"half": i < N / 2}}))
        .collect();
    ok(c.put(format!("{col}/points?wait=true")).json(&json!({"points": pts}))).await;
    col
}

fn labels_of(result: &Value) -> Vec<String> {
    result["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .map(|q| q["label"].as_str().expect("label").to_owned())
        .collect()
}

#[tokio::test]
async fn rest_subset_diagnostic_labels_unreturnable_pairs_as_geometry_gaps() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    let col = circle_collection(&s, &c).await;
    let pairs = all_pairs();
    let mut queries: Vec<Value> =
        pairs.iter().map(|(i, j, q)| json!({"vector": q, "relevant": [100 + i, 100 + j]})).collect();
    // A returnable pair asked by a query pointing the other way: the encoder's fault.
    queries.push(json!({"vector": [angle(6).cos(), angle(6).sin()], "relevant": [100, 101]}));
    let r = ok(c.post(format!("{col}/diagnostics/subsets")).json(&json!({"queries": queries, "k": [2, 4]})))
        .await;
    let labels = labels_of(&r);
    assert_eq!(labels.len(), pairs.len() + 1);
    for ((i, j, _), label) in pairs.iter().zip(&labels) {
        let want = if adjacent(*i, *j) { "hit" } else { "geometry_gap" };
        assert_eq!(label, want, "pair ({i}, {j})");
    }
    assert_eq!(labels.last().map(String::as_str), Some("encoder_gap"));
    assert_eq!(r["labels"]["hit"], N);
    assert_eq!(r["labels"]["geometry_gap"], N * (N - 3) / 2);
    assert_eq!(r["exact_top_is_relevant"], N);
    assert_eq!(r["allowed_points"], N);
    assert_eq!(r["k"], json!([2, 4]));
    // The encoder gap comes with a proved margin > 0; a geometry gap's upper bound is ~0.
    let qs = r["queries"].as_array().expect("queries");
    assert!(qs.last().expect("last")["margin"].as_f64().expect("margin") > 0.0);
    let gap = qs.iter().find(|q| q["label"] == "geometry_gap").expect("a gap");
    assert!(gap["margin_upper"].as_f64().expect("upper") < 1e-3, "{gap}");

    // A filter shrinks the competitors to points 0..5 (point 11 no longer competes with 0 and 1);
    // a relevant point outside the filter is a request error.
    let f = json!({"must": [{"key": "half", "match": {"value": true}}]});
    let r = ok(c
        .post(format!("{col}/diagnostics/subsets"))
        .json(&json!({"queries": [{"vector": [1.0, 0.0], "relevant": [100, 101]}], "filter": f, "k": [2]})))
    .await;
    assert_eq!(r["allowed_points"], N / 2);
    assert_eq!(labels_of(&r), vec!["hit"]);
    err(
        c.post(format!("{col}/diagnostics/subsets"))
            .json(&json!({"queries": [{"vector": [1.0, 0.0], "relevant": [100, 107]}], "filter": f})),
        StatusCode::BAD_REQUEST,
        "queries[0].relevant: point 107 does not match the filter",
    )
    .await;

    // Validation names the field.
    let url = format!("{col}/diagnostics/subsets");
    for (body, needle) in [
        (
            json!({"queries": [{"vector": [1.0, 0.0], "relevant": [999]}]}),
            "queries[0].relevant: point 999 does not exist",
        ),
        (json!({"queries": [{"vector": [1.0], "relevant": [100]}]}), "queries[0].vector"),
        (json!({"queries": [{"vector": [1.0, 0.0], "relevant": []}]}), "queries[0].relevant"),
        (json!({"queries": []}), "queries"),
        (json!({"queries": [{"vector": [1.0, 0.0], "relevant": [100]}], "k": [0]}), "k:"),
        (
            json!({"queries": [{"vector": [1.0, 0.0], "relevant": [100]}], "time_budget_secs": 1e6}),
            "time_budget_secs",
        ),
        (json!({"queries": [{"vector": [1.0, 0.0], "relevant": [100]}], "sample": 0}), "sample"),
        (json!({"queries": [{"vector": [1.0, 0.0], "relevant": [100]}], "bogus": 1}), "bogus"),
    ] {
        err(c.post(&url).json(&body), StatusCode::BAD_REQUEST, needle).await;
    }
    err(
        c.post(s.url("/collections/nope/diagnostics/subsets"))
            .json(&json!({"queries": [{"vector": [1.0, 0.0], "relevant": [100]}]})),
        StatusCode::NOT_FOUND,
        "nope",
    )
    .await;
}

async fn wait_job(c: &reqwest::Client, s: &Server, id: u64, done: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let j = ok(c.get(s.url(&format!("/diagnostics/jobs/{id}")))).await;
        if done.contains(&j["status"].as_str().unwrap_or("")) {
            return j;
        }
        assert!(Instant::now() < deadline, "job {id} still {j}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn rest_capacity_jobs_search_probe_and_cancel() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    let url = s.url("/diagnostics/capacity");

    // Critical-n at d = 4 (k = 2, all pairs): the search must close its bracket.
    let j = ok(c.post(&url).json(&json!({"d": 4, "seed": 42, "budget_secs": 200}))).await;
    assert_eq!(j["kind"], "capacity");
    let id = j["id"].as_u64().expect("id");
    let j = wait_job(&c, &s, id, &["done", "failed"]).await;
    assert_eq!(j["status"], "done", "{j}");
    let r = &j["result"];
    assert_eq!(r["mode"], "critical_n");
    assert_eq!(r["complete"], true, "{r}");
    let cn = r["critical_n"].as_u64().expect("critical_n");
    assert_eq!(r["first_failure"].as_u64(), Some(cn + 1));
    let probes = r["probes"].as_array().expect("probes");
    assert!(probes.iter().any(|p| p["n"] == cn && p["all_realised"] == true));
    assert!(probes.iter().any(|p| p["n"] == cn + 1 && p["all_realised"] == false));
    assert_eq!(r["paper_fit"]["kind"], "empirical_fit");
    assert_eq!(r["exact_bound_dim"]["kind"], "exact_bound");
    assert_eq!(r["exact_bound_dim"]["value"], 5.0);

    // User qrels: disjoint pairs over 6 documents are realisable in 4 dims.
    let j = ok(c.post(&url).json(&json!({"d": 4, "n": 6, "qrels": [[0, 1], [2, 3], [4, 5]]}))).await;
    let j = wait_job(&c, &s, j["id"].as_u64().expect("id"), &["done", "failed"]).await;
    assert_eq!(j["result"]["mode"], "probe");
    assert_eq!(j["result"]["probes"][0]["all_realised"], true, "{j}");

    // Cancel a long search: it stops and keeps what it finished.
    let j = ok(c.post(&url).json(&json!({"d": 24, "budget_secs": 600}))).await;
    let id = j["id"].as_u64().expect("id");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let j = ok(c.delete(s.url(&format!("/diagnostics/jobs/{id}")))).await;
    assert!(j["status"] == "cancelling" || j["status"] == "cancelled", "{j}");
    let j = wait_job(&c, &s, id, &["cancelled", "done", "failed"]).await;
    assert_eq!(j["status"], "cancelled", "{j}");
    assert_eq!(j["result"]["complete"], false);

    for (body, needle) in [
        (json!({"d": 0}), "d:"),
        (json!({"d": 4, "threads": 100000}), "threads:"),
        (json!({"d": 4, "budget_secs": 0}), "budget_secs:"),
        (json!({"d": 4, "pattern": "zigzag"}), "pattern:"),
        (json!({"d": 4, "pattern": "cycle"}), "n:"),
        (json!({"d": 4, "n": 3, "qrels": [[0, 7]]}), "qrels[0]"),
        (json!({"d": 4, "qrels": [[0, 1]]}), "n:"),
        (json!({"d": 4, "n": 3000}), "n: C(3000, 2)"),
        (json!({"d": 4, "extra": true}), "extra"),
    ] {
        err(c.post(&url).json(&body), StatusCode::BAD_REQUEST, needle).await;
    }
    err(c.get(s.url("/diagnostics/jobs/999")), StatusCode::NOT_FOUND, "999").await;
    err(c.delete(s.url("/diagnostics/jobs/999")), StatusCode::NOT_FOUND, "999").await;
}

#[tokio::test]
async fn grpc_diagnostics_match_rest() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    circle_collection(&s, &c).await;
    let ch =
        tonic::transport::Channel::from_shared(s.grpc_url()).expect("uri").connect().await.expect("connect");
    let mut d = DiagnosticsClient::new(ch);
    let id = |n: usize| pb::PointId { kind: Some(pb::point_id::Kind::Num(n as u64)) };
    let pairs = all_pairs();
    let queries = pairs
        .iter()
        .map(|(i, j, q)| pb::SubsetQuery { vector: q.to_vec(), relevant: vec![id(100 + i), id(100 + j)] })
        .collect();
    let r = d
        .diagnose_subsets(pb::DiagnoseSubsetsRequest {
            collection_name: "circle".into(),
            queries,
            k: vec![2],
            ..Default::default()
        })
        .await
        .expect("diagnose")
        .into_inner();
    for ((i, j, _), q) in pairs.iter().zip(&r.queries) {
        assert_eq!(q.label, if adjacent(*i, *j) { "hit" } else { "geometry_gap" }, "pair ({i}, {j})");
    }
    let count = |l: &str| r.labels.iter().find(|c| c.label == l).map_or(0, |c| c.count);
    assert_eq!(count("hit"), N as u64);
    assert_eq!(count("geometry_gap"), (N * (N - 3) / 2) as u64);
    assert_eq!(r.exact_top_is_relevant, N as u64);

    let e = d
        .diagnose_subsets(pb::DiagnoseSubsetsRequest {
            collection_name: "circle".into(),
            queries: vec![pb::SubsetQuery { vector: vec![1.0, 0.0], relevant: vec![id(5)] }],
            ..Default::default()
        })
        .await
        .expect_err("unknown point");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("queries[0].relevant: point 5 does not exist"), "{}", e.message());

    let j = d
        .start_capacity_job(pb::StartCapacityJobRequest {
            d: 4,
            n: Some(6),
            qrels: vec![pb::RelevantSet { ids: vec![0, 1] }, pb::RelevantSet { ids: vec![2, 3] }],
            ..Default::default()
        })
        .await
        .expect("start")
        .into_inner();
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let j = d.get_job(pb::JobRequest { id: j.id }).await.expect("get").into_inner();
        if j.status != "running" {
            break j;
        }
        assert!(Instant::now() < deadline, "job still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done.status, "done");
    let result = done.result.expect("result");
    assert!(result.probes[0].all_realised);
    assert_eq!(result.exact_bound_dim.expect("bound").kind, "exact_bound");

    let e = d
        .start_capacity_job(pb::StartCapacityJobRequest { d: 0, ..Default::default() })
        .await
        .expect_err("d = 0");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("d:"), "{}", e.message());
    let e = d.cancel_job(pb::JobRequest { id: 4242 }).await.expect_err("unknown job");
    assert_eq!(e.code(), Code::NotFound);
}
