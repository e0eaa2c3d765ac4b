//! Qdrant's REST operations composed over the core ones (rest/compat.rs,
//! service/points_compat.rs), driven through the router with `oneshot`: get by id, update
//! batches, search batches, recommend, discover, groups, the distance matrix, facets, aliases,
//! cluster / telemetry / issues, full snapshots. Every scoring path is checked against a
//! brute-force oracle computed here from the vectors the test inserted.

mod common;

use axum::http::StatusCode;
use common::oneshot::call;
use grove_server::config::Config;
use grove_server::service::Service;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const DIM: usize = 6;
const N: u64 = 120;

fn app_over(store: grove_storage::Storage) -> axum::Router {
    let service = Service::new(Config::default()).expect("service");
    service.attach_storage(store);
    grove_server::rest::router(service)
}

fn app() -> axum::Router {
    app_over(grove_storage::Storage::in_memory())
}

async fn ok(app: &axum::Router, method: &str, uri: &str, body: Option<Value>) -> Value {
    let (st, b) = call(app, method, uri, body).await;
    assert_eq!(st, StatusCode::OK, "{method} {uri}: {b}");
    assert_eq!(b["status"], "ok", "{b}");
    b["result"].clone()
}

async fn refused(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    want: StatusCode,
    needle: &str,
) {
    let (st, b) = call(app, method, uri, body).await;
    assert_eq!(st, want, "{method} {uri}: {b}");
    let msg = b["status"]["error"].as_str().unwrap_or_else(|| panic!("not Qdrant-shaped: {b}"));
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
}

/// Seeded vectors: point i has vectors[i] and payload {"g": i % 7, "tag": ["a"|"b"|"c"], "i": i}.
fn vectors() -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    (0..N).map(|_| (0..DIM).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect()
}

fn tag(i: u64) -> &'static str {
    ["a", "b", "c"][(i % 3) as usize]
}

/// A Dot collection `name` holding the seeded points.
async fn seeded(app: &axum::Router, name: &str) -> Vec<Vec<f32>> {
    let vs = vectors();
    ok(
        app,
        "PUT",
        &format!("/collections/{name}"),
        Some(json!({"vectors": {"size": DIM, "distance": "Dot"}})),
    )
    .await;
    let points: Vec<Value> = vs
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"id": i, "vector": v, "payload": {"g": i % 7, "tag": [tag(i as u64)], "i": i}}))
        .collect();
    ok(app, "PUT", &format!("/collections/{name}/points?wait=true"), Some(json!({ "points": points }))).await;
    vs
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Ids of the top `k` by `score` (descending, ties by id) among ids not in `skip`.
fn oracle(vs: &[Vec<f32>], k: usize, skip: &[u64], score: impl Fn(&[f32]) -> f32) -> Vec<(u64, f32)> {
    let mut all: Vec<(u64, f32)> =
        (0..N).filter(|i| !skip.contains(i)).map(|i| (i, score(&vs[i as usize]))).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

fn ids(hits: &Value) -> Vec<u64> {
    hits.as_array().expect("hits").iter().map(|h| h["id"].as_u64().expect("id")).collect()
}

/// Asserts hits equal the oracle: same ids in order up to score ties, same scores.
fn assert_hits(hits: &Value, want: &[(u64, f32)]) {
    let got = hits.as_array().expect("hits");
    assert_eq!(got.len(), want.len(), "{hits}");
    for (h, (id, score)) in got.iter().zip(want) {
        let s = h["score"].as_f64().expect("score") as f32;
        assert!((s - score).abs() < 1e-4, "score {s} vs {score} (id {} vs {id}): {hits}", h["id"]);
    }
    let mut a = ids(hits);
    let mut b: Vec<u64> = want.iter().map(|w| w.0).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "{hits}");
}

#[tokio::test]
async fn get_point_by_id() {
    let app = app();
    let vs = seeded(&app, "p").await;
    let r = ok(&app, "GET", "/collections/p/points/5", None).await;
    assert_eq!(r["id"], 5);
    assert_eq!(r["payload"]["i"], 5);
    let v: Vec<f32> = serde_json::from_value(r["vector"].clone()).expect("vector");
    assert_eq!(v, vs[5]);
    refused(&app, "GET", "/collections/p/points/999", None, StatusCode::NOT_FOUND, "999").await;
    refused(&app, "GET", "/collections/p/points/not-an-id", None, StatusCode::BAD_REQUEST, "UUID").await;
    refused(&app, "GET", "/collections/none/points/1", None, StatusCode::NOT_FOUND, "none").await;
    ok(
        &app,
        "PUT",
        "/collections/p/points",
        Some(json!({"points": [{"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": vs[0]}]})),
    )
    .await;
    let r = ok(&app, "GET", "/collections/p/points/5C56C793-69F3-4FBF-87E6-C4BF54C28C26", None).await;
    assert_eq!(r["id"], "5c56c793-69f3-4fbf-87e6-c4bf54c28c26");
}

#[tokio::test]
async fn update_batch_applies_in_order_and_names_the_failing_operation() {
    let app = app();
    let vs = seeded(&app, "b").await;
    let r = ok(
        &app,
        "POST",
        "/collections/b/points/batch?wait=true",
        Some(json!({"operations": [
            {"upsert": {"points": [{"id": 500, "vector": vs[1], "payload": {"x": 1}}]}},
            {"set_payload": {"payload": {"y": 2}, "points": [500]}},
            {"overwrite_payload": {"payload": {"z": 3}, "points": [1]}},
            {"delete_payload": {"keys": ["i"], "points": [2]}},
            {"clear_payload": {"points": [3]}},
            {"delete": {"points": [4]}},
            {"upsert": {"batch": {"ids": [501], "vectors": [vs[2]]}}}
        ]})),
    )
    .await;
    assert_eq!(r.as_array().expect("results").len(), 7, "{r}");
    assert!(r.as_array().expect("results").iter().all(|u| u["status"] == "completed"), "{r}");
    assert_eq!(ok(&app, "GET", "/collections/b/points/500", None).await["payload"], json!({"x": 1, "y": 2}));
    assert_eq!(ok(&app, "GET", "/collections/b/points/1", None).await["payload"], json!({"z": 3}));
    assert!(ok(&app, "GET", "/collections/b/points/2", None).await["payload"].get("i").is_none());
    assert_eq!(ok(&app, "GET", "/collections/b/points/3", None).await["payload"], json!({}));
    refused(&app, "GET", "/collections/b/points/4", None, StatusCode::NOT_FOUND, "4").await;
    ok(&app, "GET", "/collections/b/points/501", None).await;

    // Operation 1 fails (wrong dimension): operation 0 stays applied, the error names 1.
    refused(
        &app,
        "POST",
        "/collections/b/points/batch",
        Some(json!({"operations": [
            {"delete": {"points": [10]}},
            {"upsert": {"points": [{"id": 11, "vector": [1.0]}]}}
        ]})),
        StatusCode::BAD_REQUEST,
        "operation 1",
    )
    .await;
    refused(&app, "GET", "/collections/b/points/10", None, StatusCode::NOT_FOUND, "10").await;
    refused(
        &app,
        "POST",
        "/collections/b/points/batch",
        Some(json!({"operations": [{"frobnicate": {}}]})),
        StatusCode::BAD_REQUEST,
        "frobnicate",
    )
    .await;
}

#[tokio::test]
async fn search_batch_answers_in_order() {
    let app = app();
    let vs = seeded(&app, "s").await;
    let r = ok(
        &app,
        "POST",
        "/collections/s/points/search/batch",
        Some(json!({"searches": [
            {"vector": vs[3], "limit": 4},
            {"vector": vs[9], "limit": 2, "filter": {"must": [{"key": "g", "match": {"value": 2}}]}}
        ]})),
    )
    .await;
    assert_hits(&r[0], &oracle(&vs, 4, &[], |v| dot(&vs[3], v)));
    let allowed: Vec<u64> = (0..N).filter(|i| i % 7 != 2).collect();
    assert_hits(&r[1], &oracle(&vs, 2, &allowed, |v| dot(&vs[9], v)));
}

#[tokio::test]
async fn recommend_strategies_match_brute_force() {
    let app = app();
    let vs = seeded(&app, "r").await;
    let raw = vec![0.5f32, -0.25, 0.0, 1.0, 0.0, 0.5];

    // average_vector: 2 * avg(pos) - avg(neg), examples left out.
    let r = ok(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [1, 2], "negative": [3], "limit": 5})),
    )
    .await;
    let q: Vec<f32> = (0..DIM).map(|d| (vs[1][d] + vs[2][d]) - vs[3][d]).collect();
    assert_hits(&r, &oracle(&vs, 5, &[1, 2, 3], |v| dot(&q, v)));

    // Only positives, one of them a raw vector: their mean.
    let r = ok(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [7, raw], "limit": 3, "with_payload": true})),
    )
    .await;
    let q: Vec<f32> = (0..DIM).map(|d| (vs[7][d] + raw[d]) / 2.0).collect();
    assert_hits(&r, &oracle(&vs, 3, &[7], |v| dot(&q, v)));
    assert!(r[0]["payload"]["i"].is_u64(), "{r}");

    // best_score: best positive similarity if it beats the best negative, else -(neg^2).
    let best = |v: &[f32]| {
        let bp = [&vs[1], &vs[2]].iter().map(|p| dot(p, v)).fold(f32::NEG_INFINITY, f32::max);
        let bn = dot(&vs[3], v);
        if bp >= bn {
            bp
        } else {
            -(bn * bn)
        }
    };
    let r = ok(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [1, 2], "negative": [3], "strategy": "best_score", "limit": 8})),
    )
    .await;
    assert_hits(&r, &oracle(&vs, 8, &[1, 2, 3], best));
    // ... with a filter and an offset.
    let r = ok(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [1, 2], "negative": [3], "strategy": "best_score", "limit": 4, "offset": 2,
                    "filter": {"must": [{"key": "tag", "match": {"value": "b"}}]}})),
    )
    .await;
    let mut skip: Vec<u64> = (0..N).filter(|i| tag(*i) != "b").collect();
    skip.extend([1, 2, 3]);
    let want = oracle(&vs, 6, &skip, best);
    assert_hits(&r, &want[2..]);

    // sum_scores; only negatives are allowed here.
    let r = ok(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [], "negative": [4], "strategy": "sum_scores", "limit": 3})),
    )
    .await;
    assert_hits(&r, &oracle(&vs, 3, &[4], |v| -dot(&vs[4], v)));

    // Batch = the single requests.
    let b = ok(
        &app,
        "POST",
        "/collections/r/points/recommend/batch",
        Some(json!({"searches": [{"positive": [1, 2], "negative": [3], "limit": 5}, {"positive": [9], "limit": 2}]})),
    )
    .await;
    let q: Vec<f32> = (0..DIM).map(|d| (vs[1][d] + vs[2][d]) - vs[3][d]).collect();
    assert_hits(&b[0], &oracle(&vs, 5, &[1, 2, 3], |v| dot(&q, v)));
    assert_hits(&b[1], &oracle(&vs, 2, &[9], |v| dot(&vs[9], v)));

    // Refusals.
    refused(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"negative": [1]})),
        StatusCode::BAD_REQUEST,
        "positive",
    )
    .await;
    refused(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [9999]})),
        StatusCode::NOT_FOUND,
        "9999",
    )
    .await;
    refused(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [[1.0, 2.0]]})),
        StatusCode::BAD_REQUEST,
        "dimensions",
    )
    .await;
    refused(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [1], "using": "image"})),
        StatusCode::BAD_REQUEST,
        "image",
    )
    .await;
    refused(
        &app,
        "POST",
        "/collections/r/points/recommend",
        Some(json!({"positive": [1], "strategy": "magic"})),
        StatusCode::BAD_REQUEST,
        "magic",
    )
    .await;
}

#[tokio::test]
async fn recommend_looks_up_examples_in_another_collection() {
    let app = app();
    let vs = seeded(&app, "main").await;
    ok(&app, "PUT", "/collections/other", Some(json!({"vectors": {"size": DIM, "distance": "Dot"}}))).await;
    let e = vec![0.1f32, 0.9, -0.3, 0.2, 0.0, 0.4];
    ok(&app, "PUT", "/collections/other/points", Some(json!({"points": [{"id": 1, "vector": e}]}))).await;
    let r = ok(
        &app,
        "POST",
        "/collections/main/points/recommend",
        Some(json!({"positive": [1], "limit": 3, "lookup_from": {"collection": "other"}})),
    )
    .await;
    // Point 1 of `main` is not an example here, so it may be returned.
    assert_hits(&r, &oracle(&vs, 3, &[], |v| dot(&e, v)));
}

#[tokio::test]
async fn discover_matches_brute_force() {
    let app = app();
    let vs = seeded(&app, "d").await;
    let pairs = [(10usize, 11usize), (12, 13)];
    let sig = |x: f32| 1.0 / (1.0 + (-x).exp());
    let target = 20usize;
    let score = |v: &[f32]| {
        let rank: i32 = pairs.iter().map(|(p, n)| dot(&vs[*p], v).total_cmp(&dot(&vs[*n], v)) as i32).sum();
        rank as f32 + sig(dot(&vs[target], v))
    };
    let r = ok(
        &app,
        "POST",
        "/collections/d/points/discover",
        Some(json!({"target": 20, "context": [{"positive": 10, "negative": 11}, {"positive": 12, "negative": 13}], "limit": 6})),
    )
    .await;
    assert_hits(&r, &oracle(&vs, 6, &[10, 11, 12, 13, 20], score));

    // Context only: sum of min(sim(pos) - sim(neg), 0).
    let ctx =
        |v: &[f32]| pairs.iter().map(|(p, n)| (dot(&vs[*p], v) - dot(&vs[*n], v)).min(0.0)).sum::<f32>();
    let r = ok(
        &app,
        "POST",
        "/collections/d/points/discover/batch",
        Some(json!({"searches": [{"context": [{"positive": 10, "negative": 11}, {"positive": 12, "negative": 13}], "limit": 5}]})),
    )
    .await;
    let want = oracle(&vs, N as usize, &[10, 11, 12, 13], ctx);
    // Many points score exactly 0 (inside every zone): compare scores only.
    let got: Vec<f32> =
        r[0].as_array().expect("hits").iter().map(|h| h["score"].as_f64().expect("s") as f32).collect();
    let top: Vec<f32> = want.iter().take(5).map(|w| w.1).collect();
    for (g, w) in got.iter().zip(&top) {
        assert!((g - w).abs() < 1e-4, "{got:?} vs {top:?}");
    }
    refused(
        &app,
        "POST",
        "/collections/d/points/discover",
        Some(json!({"limit": 3})),
        StatusCode::BAD_REQUEST,
        "target",
    )
    .await;
}

#[tokio::test]
async fn groups_match_brute_force_grouping() {
    let app = app();
    let vs = seeded(&app, "g").await;
    let q = vs[0].clone();
    let r = ok(
        &app,
        "POST",
        "/collections/g/points/search/groups",
        Some(json!({"vector": q, "group_by": "g", "group_size": 3, "limit": 4, "with_payload": ["i"]})),
    )
    .await;
    // Oracle: walk the exact ranking, fill groups in order of their first hit.
    let ranking = oracle(&vs, N as usize, &[], |v| dot(&q, v));
    let mut want: Vec<(u64, Vec<u64>)> = Vec::new();
    for (id, _) in &ranking {
        let g = id % 7;
        match want.iter().position(|(k, _)| *k == g) {
            Some(i) if want[i].1.len() < 3 => want[i].1.push(*id),
            Some(_) => {}
            None if want.len() < 4 => want.push((g, vec![*id])),
            None => {}
        }
    }
    let groups = r["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 4, "{r}");
    for (g, (k, hs)) in groups.iter().zip(&want) {
        assert_eq!(g["id"].as_u64(), Some(*k), "{r}");
        assert_eq!(ids(&g["hits"]), *hs, "{r}");
        assert!(g["hits"][0]["payload"].get("g").is_none(), "selector applied: {r}");
    }

    // Recommend groups by an array-valued keyword field: a point joins each of its values.
    let r = ok(
        &app,
        "POST",
        "/collections/g/points/recommend/groups",
        Some(json!({"positive": [5], "group_by": "tag", "group_size": 2, "limit": 3})),
    )
    .await;
    let ranking = oracle(&vs, N as usize, &[5], |v| dot(&vs[5], v));
    let groups = r["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 3, "{r}");
    for g in groups {
        let t = g["id"].as_str().expect("tag id");
        let want: Vec<u64> = ranking.iter().map(|w| w.0).filter(|i| tag(*i) == t).take(2).collect();
        assert_eq!(ids(&g["hits"]), want, "{r}");
    }
    refused(
        &app,
        "POST",
        "/collections/g/points/search/groups",
        Some(json!({"vector": q, "group_by": "g", "group_size": 0, "limit": 1})),
        StatusCode::BAD_REQUEST,
        "group_size",
    )
    .await;
}

#[tokio::test]
async fn distance_matrix_matches_brute_force() {
    let app = app();
    let vs = seeded(&app, "m").await;
    // A filter leaving 18 points (g == 3) and a sample larger than that: the sample is all of them.
    let body = json!({"sample": 50, "limit": 2, "filter": {"must": [{"key": "g", "match": {"value": 3}}]}});
    let r = ok(&app, "POST", "/collections/m/points/search/matrix/offsets", Some(body.clone())).await;
    let sample: Vec<u64> =
        r["ids"].as_array().expect("ids").iter().map(|v| v.as_u64().expect("id")).collect();
    let want_ids: Vec<u64> = (0..N).filter(|i| i % 7 == 3).collect();
    assert_eq!(sample, want_ids);
    let pairs = ok(&app, "POST", "/collections/m/points/search/matrix/pairs", Some(body)).await;
    let pairs = pairs["pairs"].as_array().expect("pairs");
    assert_eq!(pairs.len(), sample.len() * 2);
    for (k, a) in sample.iter().enumerate() {
        let others: Vec<u64> = sample.iter().copied().filter(|b| b != a).collect();
        let skip: Vec<u64> = (0..N).filter(|i| !others.contains(i)).collect();
        let want = oracle(&vs, 2, &skip, |v| dot(&vs[*a as usize], v));
        for (j, (b, score)) in want.iter().enumerate() {
            let p = &pairs[k * 2 + j];
            assert_eq!(p["a"].as_u64(), Some(*a));
            assert_eq!(p["b"].as_u64(), Some(*b), "{p}");
            assert!((p["score"].as_f64().expect("score") as f32 - score).abs() < 1e-4);
            assert_eq!(r["offsets_row"][k * 2 + j].as_u64(), Some(k as u64));
            assert_eq!(sample[r["offsets_col"][k * 2 + j].as_u64().expect("col") as usize], *b);
        }
    }
    // A small sample of the whole collection: distinct ids, each row `limit` long.
    let r =
        ok(&app, "POST", "/collections/m/points/search/matrix/pairs", Some(json!({"sample": 5, "limit": 3})))
            .await;
    assert_eq!(r["pairs"].as_array().expect("pairs").len(), 15, "{r}");
    refused(
        &app,
        "POST",
        "/collections/m/points/search/matrix/pairs",
        Some(json!({"sample": 1})),
        StatusCode::BAD_REQUEST,
        "sample",
    )
    .await;
    refused(
        &app,
        "POST",
        "/collections/m/points/search/matrix/pairs",
        Some(json!({"using": "x"})),
        StatusCode::BAD_REQUEST,
        "x",
    )
    .await;
}

#[tokio::test]
async fn facet_counts_match_brute_force() {
    let app = app();
    seeded(&app, "f").await;
    refused(
        &app,
        "POST",
        "/collections/f/facet",
        Some(json!({"key": "tag"})),
        StatusCode::BAD_REQUEST,
        "Index required",
    )
    .await;
    ok(&app, "PUT", "/collections/f/index", Some(json!({"field_name": "tag", "field_schema": "keyword"})))
        .await;
    ok(&app, "PUT", "/collections/f/index", Some(json!({"field_name": "g", "field_schema": "integer"})))
        .await;
    let r = ok(&app, "POST", "/collections/f/facet", Some(json!({"key": "tag"}))).await;
    // 120 points: a and b 40 each... i % 3: 0 -> a (40), 1 -> b (40), 2 -> c (40): ties by value.
    assert_eq!(
        r,
        json!({"hits": [{"value": "a", "count": 40}, {"value": "b", "count": 40}, {"value": "c", "count": 40}]})
    );
    let r = ok(
        &app,
        "POST",
        "/collections/f/facet",
        Some(json!({"key": "g", "limit": 2, "filter": {"must": [{"key": "tag", "match": {"value": "a"}}]}})),
    )
    .await;
    let mut counts = [0u64; 7];
    for i in (0..N).filter(|i| tag(*i) == "a") {
        counts[(i % 7) as usize] += 1;
    }
    let mut want: Vec<(u64, u64)> = counts.iter().enumerate().map(|(g, c)| (g as u64, *c)).collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let want: Vec<Value> = want.iter().take(2).map(|(g, c)| json!({"value": g, "count": c})).collect();
    assert_eq!(r["hits"], json!(want));
}

#[tokio::test]
async fn aliases_resolve_everywhere_and_persist() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let app = app_over(grove_storage::Storage::open(dir.path()).expect("open"));
        let vs = seeded(&app, "c1").await;
        ok(&app, "PUT", "/collections/c2", Some(json!({"vectors": {"size": DIM, "distance": "Dot"}}))).await;
        let act = |a: Value| Some(json!({"actions": [a]}));
        ok(
            &app,
            "POST",
            "/collections/aliases",
            act(json!({"create_alias": {"collection_name": "c1", "alias_name": "prod"}})),
        )
        .await;
        // An alias named like a collection: 409; a collection named like an alias: 400.
        refused(
            &app,
            "POST",
            "/collections/aliases",
            act(json!({"create_alias": {"collection_name": "c1", "alias_name": "c2"}})),
            StatusCode::CONFLICT,
            "c2",
        )
        .await;
        refused(
            &app,
            "PUT",
            "/collections/prod",
            Some(json!({"vectors": {"size": 2, "distance": "Dot"}})),
            StatusCode::BAD_REQUEST,
            "alias",
        )
        .await;
        refused(
            &app,
            "POST",
            "/collections/aliases",
            act(json!({"create_alias": {"collection_name": "nope", "alias_name": "x"}})),
            StatusCode::NOT_FOUND,
            "nope",
        )
        .await;
        // The alias works for reads and writes.
        let r = ok(&app, "POST", "/collections/prod/points/query", Some(json!({"query": vs[0], "limit": 3})))
            .await;
        assert_hits(&r["points"], &oracle(&vs, 3, &[], |v| dot(&vs[0], v)));
        ok(&app, "PUT", "/collections/prod/points", Some(json!({"points": [{"id": 900, "vector": vs[0]}]})))
            .await;
        ok(&app, "GET", "/collections/c1/points/900", None).await;
        let r = ok(
            &app,
            "POST",
            "/collections/prod/points/query/batch",
            Some(json!({"searches": [{"query": vs[0], "limit": 1}]})),
        )
        .await;
        assert_eq!(r[0]["points"].as_array().map(Vec::len), Some(1), "{r}");
        // Listing.
        let want = json!({"aliases": [{"alias_name": "prod", "collection_name": "c1"}]});
        assert_eq!(ok(&app, "GET", "/aliases", None).await, want);
        assert_eq!(ok(&app, "GET", "/collections/c1/aliases", None).await, want);
        assert_eq!(ok(&app, "GET", "/collections/c2/aliases", None).await, json!({"aliases": []}));
        // Rename, then a failing batch changes nothing.
        ok(
            &app,
            "POST",
            "/collections/aliases",
            act(json!({"rename_alias": {"old_alias_name": "prod", "new_alias_name": "live"}})),
        )
        .await;
        refused(
            &app,
            "POST",
            "/collections/aliases",
            Some(json!({"actions": [
                {"create_alias": {"collection_name": "c2", "alias_name": "staging"}},
                {"delete_alias": {"alias_name": "ghost"}}
            ]})),
            StatusCode::NOT_FOUND,
            "ghost",
        )
        .await;
        ok(
            &app,
            "POST",
            "/collections/aliases",
            act(json!({"create_alias": {"collection_name": "c2", "alias_name": "other"}})),
        )
        .await;
        assert_eq!(
            ok(&app, "GET", "/aliases", None).await,
            json!({"aliases": [{"alias_name": "live", "collection_name": "c1"}, {"alias_name": "other", "collection_name": "c2"}]})
        );
    }
    // Reopened: the aliases survived; deleting a collection drops its aliases.
    let app = app_over(grove_storage::Storage::open(dir.path()).expect("reopen"));
    assert_eq!(ok(&app, "GET", "/collections/live/points/900", None).await["id"], 900);
    ok(&app, "DELETE", "/collections/c2", None).await;
    assert_eq!(
        ok(&app, "GET", "/aliases", None).await,
        json!({"aliases": [{"alias_name": "live", "collection_name": "c1"}]})
    );
    ok(
        &app,
        "POST",
        "/collections/aliases",
        Some(json!({"actions": [{"delete_alias": {"alias_name": "live"}}]})),
    )
    .await;
    refused(
        &app,
        "POST",
        "/collections/live/points/query",
        Some(json!({"query": vec![0.0; DIM]})),
        StatusCode::NOT_FOUND,
        "live",
    )
    .await;
}

#[tokio::test]
async fn cluster_telemetry_and_issues_answer_as_standalone_qdrant() {
    let app = app();
    seeded(&app, "t").await;
    assert_eq!(ok(&app, "GET", "/cluster", None).await, json!({"status": "disabled"}));
    let c = ok(&app, "GET", "/collections/t/cluster", None).await;
    assert_eq!(c["shard_count"], 1);
    assert_eq!(c["local_shards"], json!([{"shard_id": 0, "points_count": N, "state": "Active"}]));
    assert_eq!(c["remote_shards"], json!([]));
    refused(&app, "GET", "/collections/none/cluster", None, StatusCode::NOT_FOUND, "none").await;
    refused(&app, "POST", "/cluster/recover", None, StatusCode::METHOD_NOT_ALLOWED, "standalone mode").await;
    refused(&app, "DELETE", "/cluster/peer/1", None, StatusCode::METHOD_NOT_ALLOWED, "standalone mode").await;
    let t = ok(&app, "GET", "/telemetry?details_level=3", None).await;
    assert_eq!(t["collections"]["number_of_collections"], 1);
    assert_eq!(t["app"]["name"], "grove");
    assert!(
        t["requests"]["rest"]["responses"]["PUT /collections/{collection_name}/points"]["200"]["count"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "{t}"
    );
    assert_eq!(ok(&app, "GET", "/issues", None).await, json!({"issues": []}));
    assert_eq!(ok(&app, "DELETE", "/issues", None).await, json!(true));
}

#[tokio::test]
async fn full_snapshots_hold_every_collection_and_alias() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app_over(grove_storage::Storage::open(dir.path()).expect("open"));
    let vs = seeded(&app, "one").await;
    ok(&app, "PUT", "/collections/two", Some(json!({"vectors": {"size": 2, "distance": "Cosine"}}))).await;
    ok(
        &app,
        "PUT",
        "/collections/two/points",
        Some(json!({"points": [{"id": 1, "vector": [1.0, 0.0], "payload": {"k": "v"}}]})),
    )
    .await;
    ok(
        &app,
        "POST",
        "/collections/aliases",
        Some(json!({"actions": [{"create_alias": {"collection_name": "two", "alias_name": "deux"}}]})),
    )
    .await;
    assert_eq!(ok(&app, "GET", "/snapshots", None).await, json!([]));
    let snap = ok(&app, "POST", "/snapshots", None).await;
    let name = snap["name"].as_str().expect("name").to_owned();
    assert!(name.starts_with("full-snapshot-"), "{snap}");
    assert!(snap["size"].as_u64().is_some_and(|n| n > 0));
    let list = ok(&app, "GET", "/snapshots", None).await;
    assert_eq!(list[0]["name"], name.as_str());

    // Download the bytes and restore them offline into a new data dir.
    let req =
        axum::http::Request::get(format!("/snapshots/{name}")).body(axum::body::Body::empty()).expect("req");
    let resp = tower::ServiceExt::oneshot(app.clone(), req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    assert_eq!(bytes.len() as u64, snap["size"].as_u64().expect("size"));
    let file = dir.path().join("downloaded.snapshot");
    std::fs::write(&file, &bytes).expect("write");
    let restored = tempfile::tempdir().expect("tempdir");
    let target = restored.path().join("data");
    grove_storage::Storage::restore_full_snapshot(&file, &target).expect("restore");
    let app2 = app_over(grove_storage::Storage::open(&target).expect("open restored"));
    let got = ok(&app2, "GET", "/collections/one/points/17", None).await;
    assert_eq!(serde_json::from_value::<Vec<f32>>(got["vector"].clone()).expect("vector"), vs[17]);
    assert_eq!(ok(&app2, "GET", "/collections/deux/points/1", None).await["payload"], json!({"k": "v"}));
    assert_eq!(ok(&app2, "POST", "/collections/one/points/count", Some(json!({}))).await["count"], N);

    // A flipped byte is refused before anything is imported.
    let mut damaged = bytes.to_vec();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0x40;
    let bad = dir.path().join("damaged.snapshot");
    std::fs::write(&bad, &damaged).expect("write");
    let target2 = restored.path().join("data2");
    let err = grove_storage::Storage::restore_full_snapshot(&bad, &target2).expect_err("damaged");
    assert!(err.to_string().contains("CRC"), "{err}");
    assert!(!target2.exists());

    ok(&app, "DELETE", &format!("/snapshots/{name}"), None).await;
    refused(&app, "DELETE", &format!("/snapshots/{name}"), None, StatusCode::NOT_FOUND, "snapshot").await;
    refused(&app, "GET", "/snapshots/..%2Fdb", None, StatusCode::NOT_FOUND, "snapshot").await;
}
