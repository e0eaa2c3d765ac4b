//! Qdrant's Query API on `/points/query`, `/points/query/batch` and `/points/query/groups`
//! (service/query_plan.rs, service/query_api.rs), driven through the router with `oneshot`:
//! prefetch + exact rescoring against brute force, RRF / DBSF against a fusion computed here
//! from the prefetches' own answers, point-id queries, recommend, discover, context,
//! order_by, sample, groups with lookup, explain of every stage, and the 4xx cases.
//!
//! Data: a named-vector collection ("a": 6-d Dot, "b": 4-d Euclid), seeded points with
//! payload {"g": i % 7, "i": i}. Every oracle is computed here from the inserted vectors.

mod common;

use std::collections::{BTreeMap, HashSet};

use axum::http::StatusCode;
use common::oneshot::call;
use grove_server::config::Config;
use grove_server::service::Service;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const N: u64 = 300;

fn app() -> axum::Router {
    let service = Service::new(Config::default()).expect("service");
    service.attach_storage(grove_storage::Storage::in_memory());
    grove_server::rest::router(service)
}

async fn ok(app: &axum::Router, uri: &str, body: Value) -> Value {
    let (st, b) = call(app, "POST", uri, Some(body.clone())).await;
    assert_eq!(st, StatusCode::OK, "POST {uri} {body}: {b}");
    b["result"].clone()
}

async fn refused(app: &axum::Router, uri: &str, body: Value, needle: &str) {
    let (st, b) = call(app, "POST", uri, Some(body.clone())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {b}");
    let msg = b["status"]["error"].as_str().unwrap_or_else(|| panic!("not Qdrant-shaped: {b}"));
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
}

struct Data {
    a: Vec<Vec<f32>>,
    b: Vec<Vec<f32>>,
}

async fn seeded(app: &axum::Router) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let a: Vec<Vec<f32>> = (0..N).map(|_| (0..6).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();
    let b: Vec<Vec<f32>> = (0..N).map(|_| (0..4).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();
    let (st, body) = call(
        app,
        "PUT",
        "/collections/h",
        Some(
            json!({"vectors": {"a": {"size": 6, "distance": "Dot"}, "b": {"size": 4, "distance": "Euclid"}}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let points: Vec<Value> = (0..N as usize)
        .map(|i| json!({"id": i, "vector": {"a": a[i], "b": b[i]}, "payload": {"g": i % 7, "i": i}}))
        .collect();
    let (st, body) =
        call(app, "PUT", "/collections/h/points?wait=true", Some(json!({ "points": points }))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    // Wait until both graphs hold every point, so planner answers do not change between the
    // requests a test compares (a polling loop, not a timing assertion).
    for _ in 0..1200 {
        let (_, info) = call(app, "GET", "/collections/h", None).await;
        if info["result"]["status"] == "green" {
            return Data { a, b };
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("collection never finished indexing");
}

fn dot(x: &[f32], y: &[f32]) -> f32 {
    x.iter().zip(y).map(|(p, q)| p * q).sum()
}

fn l2(x: &[f32], y: &[f32]) -> f32 {
    x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum::<f32>().sqrt()
}

/// The best `k` of `ids` by `score` (larger better unless `smaller`), ties by id.
fn top(
    ids: impl IntoIterator<Item = u64>,
    k: usize,
    smaller: bool,
    score: impl Fn(u64) -> f32,
) -> Vec<(u64, f32)> {
    let mut all: Vec<(u64, f32)> = ids.into_iter().map(|i| (i, score(i))).collect();
    all.sort_by(|x, y| {
        let o = if smaller { x.1.total_cmp(&y.1) } else { y.1.total_cmp(&x.1) };
        o.then(x.0.cmp(&y.0))
    });
    all.truncate(k);
    all
}

fn hits(r: &Value) -> Vec<(u64, f32)> {
    r["points"]
        .as_array()
        .unwrap_or_else(|| panic!("no points: {r}"))
        .iter()
        .map(|h| (h["id"].as_u64().expect("id"), h["score"].as_f64().expect("score") as f32))
        .collect()
}

/// Same scores position by position (ids may swap only within a score tie).
fn assert_same(got: &[(u64, f32)], want: &[(u64, f32)], tol: f32) {
    assert_eq!(got.len(), want.len(), "got {got:?}\nwant {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g.1 - w.1).abs() <= tol, "got {got:?}\nwant {want:?}");
    }
    let a: HashSet<u64> = got.iter().map(|x| x.0).collect();
    let b: HashSet<u64> = want.iter().map(|x| x.0).collect();
    assert_eq!(a, b, "got {got:?}\nwant {want:?}");
}

fn q6(seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..6).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

fn q4(seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1000);
    (0..4).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

#[tokio::test]
async fn prefetch_then_exact_rescoring_equals_brute_force() {
    let app = app();
    let d = seeded(&app).await;
    let allowed = |i: u64| i % 7 != 3;
    let filter = json!({"must_not": [{"key": "g", "match": {"value": 3}}]});
    for seed in 0..5 {
        let (qa, qb) = (q6(seed), q4(seed));
        // Exact prefetch on "a", rescoring on "b" (Euclid: smaller is better).
        let r = ok(
            &app,
            "/collections/h/points/query",
            json!({"prefetch": {"query": qa, "using": "a", "limit": 40, "params": {"exact": true}},
                   "query": qb, "using": "b", "filter": filter, "limit": 10}),
        )
        .await;
        let cands: Vec<u64> = top((0..N).filter(|i| allowed(*i)), 40, false, |i| dot(&qa, &d.a[i as usize]))
            .into_iter()
            .map(|x| x.0)
            .collect();
        let want = top(cands, 10, true, |i| l2(&qb, &d.b[i as usize]));
        assert_same(&hits(&r), &want, 1e-4);

        // Planner prefetch (maybe approximate): the rescoring is still exact over whatever the
        // prefetch returned, which we ask for on its own.
        let alone = ok(
            &app,
            "/collections/h/points/query",
            json!({"query": qa, "using": "a", "limit": 40, "filter": filter}),
        )
        .await;
        let prefetched: Vec<u64> = hits(&alone).into_iter().map(|x| x.0).collect();
        assert!(prefetched.iter().all(|i| allowed(*i)));
        let r = ok(
            &app,
            "/collections/h/points/query",
            json!({"prefetch": [{"query": qa, "using": "a", "limit": 40}], "query": {"nearest": qb},
                   "using": "b", "filter": filter, "limit": 10, "offset": 2}),
        )
        .await;
        let want: Vec<(u64, f32)> =
            top(prefetched, 12, true, |i| l2(&qb, &d.b[i as usize])).into_iter().skip(2).collect();
        assert_same(&hits(&r), &want, 1e-4);
    }
}

/// RRF and DBSF written out here from the definitions over the prefetches' own answers.
fn rrf_ref(lists: &[Vec<(u64, f32)>], k: f32) -> Vec<(u64, f32)> {
    let mut acc: BTreeMap<u64, f32> = BTreeMap::new();
    for l in lists {
        for (rank, (id, _)) in l.iter().enumerate() {
            *acc.entry(*id).or_default() += 1.0 / (k + rank as f32);
        }
    }
    let mut v: Vec<(u64, f32)> = acc.into_iter().collect();
    v.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    v
}

fn dbsf_ref(lists: &[(Vec<(u64, f32)>, bool)]) -> Vec<(u64, f32)> {
    let mut acc: BTreeMap<u64, f64> = BTreeMap::new();
    for (l, smaller_better) in lists {
        let xs: Vec<f64> =
            l.iter().map(|(_, s)| if *smaller_better { -f64::from(*s) } else { f64::from(*s) }).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        for ((id, _), x) in l.iter().zip(&xs) {
            *acc.entry(*id).or_default() += (x - (mean - 3.0 * sd)) / (6.0 * sd);
        }
    }
    let mut v: Vec<(u64, f32)> = acc.into_iter().map(|(i, s)| (i, s as f32)).collect();
    v.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    v
}

#[tokio::test]
async fn fusion_matches_a_reference_over_the_prefetch_answers() {
    let app = app();
    seeded(&app).await;
    let filter = json!({"must": [{"key": "g", "match": {"any": [0, 1, 2, 4]}}]});
    for seed in 0..4 {
        let (qa, qb) = (q6(seed + 10), q4(seed + 10));
        let pa = json!({"query": qa, "using": "a", "limit": 30});
        let pb = json!({"query": qb, "using": "b", "limit": 25});
        let la = hits(
            &ok(
                &app,
                "/collections/h/points/query",
                json!({"query": qa, "using": "a", "limit": 30, "filter": filter}),
            )
            .await,
        );
        let lb = hits(
            &ok(
                &app,
                "/collections/h/points/query",
                json!({"query": qb, "using": "b", "limit": 25, "filter": filter}),
            )
            .await,
        );
        let body = |q: Value| json!({"prefetch": [pa, pb], "query": q, "filter": filter, "limit": 15});
        let got = hits(&ok(&app, "/collections/h/points/query", body(json!({"fusion": "rrf"}))).await);
        let want: Vec<(u64, f32)> = rrf_ref(&[la.clone(), lb.clone()], 2.0).into_iter().take(15).collect();
        assert_same(&got, &want, 1e-5);
        let got = hits(&ok(&app, "/collections/h/points/query", body(json!({"rrf": {"k": 60}}))).await);
        let want: Vec<(u64, f32)> = rrf_ref(&[la.clone(), lb.clone()], 60.0).into_iter().take(15).collect();
        assert_same(&got, &want, 1e-6);
        let got = hits(&ok(&app, "/collections/h/points/query", body(json!({"fusion": "dbsf"}))).await);
        let want: Vec<(u64, f32)> =
            dbsf_ref(&[(la.clone(), false), (lb.clone(), true)]).into_iter().take(15).collect();
        assert_same(&got, &want, 1e-4);
        // score_threshold applies to the fused score.
        let mut b = body(json!({"fusion": "rrf"}));
        b["score_threshold"] = json!(0.4);
        let got = hits(&ok(&app, "/collections/h/points/query", b).await);
        let want: Vec<(u64, f32)> =
            rrf_ref(&[la, lb], 2.0).into_iter().filter(|x| x.1 >= 0.4).take(15).collect();
        assert_same(&got, &want, 1e-5);
    }
}

#[tokio::test]
async fn point_id_recommend_discover_and_context_against_brute_force() {
    let app = app();
    let d = seeded(&app).await;
    let a = |i: u64| d.a[i as usize].clone();
    let exact = json!({"exact": true});
    // A point id: nearest to its vector, itself left out.
    for q in [json!(5), json!({"nearest": 5})] {
        let r = ok(
            &app,
            "/collections/h/points/query",
            json!({"query": q, "using": "a", "limit": 8, "params": exact}),
        )
        .await;
        let want = top((0..N).filter(|i| *i != 5), 8, false, |i| dot(&a(5), &a(i)));
        assert_same(&hits(&r), &want, 1e-4);
    }
    // recommend average_vector: 2 avg(pos) - avg(neg), examples excluded.
    let (pos, neg) = ([1u64, 2], [3u64]);
    let avg: Vec<f32> = (0..6).map(|k| (a(1)[k] + a(2)[k]) / 2.0).collect();
    let qv: Vec<f32> = (0..6).map(|k| avg[k] + (avg[k] - a(3)[k])).collect();
    let r = ok(
        &app,
        "/collections/h/points/query",
        json!({"query": {"recommend": {"positive": pos, "negative": neg}}, "using": "a", "limit": 6, "params": exact}),
    )
    .await;
    let rest = || (0..N).filter(|i| ![1, 2, 3].contains(i));
    assert_same(&hits(&r), &top(rest(), 6, false, |i| dot(&qv, &a(i))), 1e-4);
    // best_score, with a raw vector as one positive.
    let raw = q6(77);
    let best = |i: u64| {
        let bp = dot(&a(1), &a(i)).max(dot(&raw, &a(i)));
        let bn = dot(&a(3), &a(i));
        if bp >= bn {
            bp
        } else {
            -(bn * bn)
        }
    };
    let r = ok(
        &app,
        "/collections/h/points/query",
        json!({"query": {"recommend": {"positive": [1, raw], "negative": [3], "strategy": "best_score"}},
               "using": "a", "limit": 6}),
    )
    .await;
    let rest = || (0..N).filter(|i| ![1, 3].contains(i));
    assert_same(&hits(&r), &top(rest(), 6, false, best), 1e-4);
    // discover: pairs on the positive side first, then target similarity.
    let pairs = [(10u64, 11u64), (12, 13)];
    let disc = |i: u64| {
        let rank: i32 = pairs
            .iter()
            .map(|(p, n)| {
                let (sp, sn) = (dot(&a(*p), &a(i)), dot(&a(*n), &a(i)));
                if sp > sn {
                    1
                } else if sp < sn {
                    -1
                } else {
                    0
                }
            })
            .sum();
        rank as f32 + 1.0 / (1.0 + (-dot(&a(20), &a(i))).exp())
    };
    let ctx = json!([{"positive": 10, "negative": 11}, {"positive": 12, "negative": 13}]);
    let r = ok(
        &app,
        "/collections/h/points/query",
        json!({"query": {"discover": {"target": 20, "context": ctx}}, "using": "a", "limit": 7}),
    )
    .await;
    let rest = || (0..N).filter(|i| ![10, 11, 12, 13, 20].contains(i));
    assert_same(&hits(&r), &top(rest(), 7, false, disc), 1e-4);
    // context only: sum over pairs of min(sim(pos) - sim(neg), 0); points inside every zone 0.
    let r =
        ok(&app, "/collections/h/points/query", json!({"query": {"context": ctx}, "using": "a", "limit": 7}))
            .await;
    let ctx_score =
        |i: u64| pairs.iter().map(|(p, n)| (dot(&a(*p), &a(i)) - dot(&a(*n), &a(i))).min(0.0)).sum::<f32>();
    let rest = || (0..N).filter(|i| ![10, 11, 12, 13].contains(i));
    assert_same(&hits(&r), &top(rest(), 7, false, ctx_score), 1e-4);
    // order_by needs an index: refused until it exists.
    let (st, b) =
        call(&app, "POST", "/collections/h/points/query", Some(json!({"query": {"order_by": "i"}}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["status"]["error"].as_str().unwrap_or("").contains("range index"), "{b}");
    let (st, b) = call(
        &app,
        "PUT",
        "/collections/h/index?wait=true",
        Some(json!({"field_name": "i", "field_schema": "integer"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let r = ok(
        &app,
        "/collections/h/points/query",
        json!({"prefetch": {"query": {"order_by": "i"}, "limit": 50, "filter": {"must": [{"key": "g", "match": {"value": 1}}]}},
               "query": {"recommend": {"positive": [1], "strategy": "sum_scores"}}, "using": "a", "limit": 5}),
    )
    .await;
    // The 50 smallest i with g = 1 (point 1 itself excluded from the answer).
    let cands = (0..N).filter(|i| i % 7 == 1).take(50).filter(|i| *i != 1);
    assert_same(&hits(&r), &top(cands, 5, false, |i| dot(&a(1), &a(i))), 1e-4);
}

#[tokio::test]
async fn order_by_sample_scroll_and_batch() {
    let app = app();
    seeded(&app).await;
    let (st, b) = call(
        &app,
        "PUT",
        "/collections/h/index?wait=true",
        Some(json!({"field_name": "i", "field_schema": "integer"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let filter = json!({"must": [{"key": "g", "match": {"value": 2}}]});
    let r = ok(
        &app,
        "/collections/h/points/query",
        json!({"query": {"order_by": {"key": "i", "direction": "desc", "start_from": 250}}, "filter": filter, "limit": 4, "with_payload": true}),
    )
    .await;
    let want: Vec<u64> = (0..=250u64).rev().filter(|i| i % 7 == 2).take(4).collect();
    let pts = r["points"].as_array().expect("points");
    assert_eq!(pts.iter().map(|p| p["id"].as_u64().expect("id")).collect::<Vec<_>>(), want, "{r}");
    for p in pts {
        assert_eq!(p["order_value"], p["id"], "{p}");
        assert_eq!(p["score"], 0.0);
        assert_eq!(p["payload"]["g"], 2);
    }
    // sample: seeded answers repeat, stay inside the filter, hold distinct points.
    let sample =
        |seed: u64| json!({"query": {"sample": "random", "seed": seed}, "filter": filter, "limit": 10});
    let s1 = hits(&ok(&app, "/collections/h/points/query", sample(1)).await);
    let s1b = hits(&ok(&app, "/collections/h/points/query", sample(1)).await);
    let s2 = hits(&ok(&app, "/collections/h/points/query", sample(2)).await);
    assert_eq!(s1, s1b);
    assert_ne!(s1, s2);
    let distinct: HashSet<u64> = s1.iter().map(|x| x.0).collect();
    assert_eq!(distinct.len(), 10);
    assert!(s1.iter().all(|(i, s)| i % 7 == 2 && *s == 0.0), "{s1:?}");
    // Over 60 seeds every allowed point turns up (uniform sampling reaches all of them).
    let mut seen = HashSet::new();
    for seed in 0..60 {
        seen.extend(
            hits(&ok(&app, "/collections/h/points/query", sample(seed)).await).into_iter().map(|x| x.0),
        );
    }
    assert_eq!(seen.len(), (0..N).filter(|i| i % 7 == 2).count());
    // No query, no prefetch: points in id order.
    let r = ok(&app, "/collections/h/points/query", json!({"filter": filter, "limit": 3, "offset": 1})).await;
    assert_eq!(hits(&r), vec![(9, 0.0), (16, 0.0), (23, 0.0)]);
    // A batch mixing the core path and stage trees answers in order.
    let r = ok(
        &app,
        "/collections/h/points/query/batch",
        json!({"searches": [
            {"query": q6(1), "using": "a", "limit": 2},
            {"prefetch": [{"query": q6(1), "using": "a"}, {"query": q4(1), "using": "b"}], "query": {"fusion": "rrf"}, "limit": 3},
            {"query": {"order_by": "i"}, "limit": 2}
        ]}),
    )
    .await;
    let r = r.as_array().expect("batch");
    assert_eq!((hits(&r[0]).len(), hits(&r[1]).len()), (2, 3));
    assert_eq!(hits(&r[2]).iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1]);
}

#[tokio::test]
async fn groups_fill_from_the_query_and_join_the_lookup_collection() {
    let app = app();
    let d = seeded(&app).await;
    let (st, b) =
        call(&app, "PUT", "/collections/docs", Some(json!({"vectors": {"size": 2, "distance": "Dot"}})))
            .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let docs: Vec<Value> = (0..7)
        .map(|g| json!({"id": g, "vector": [1.0, 0.0], "payload": {"title": format!("doc {g}")}}))
        .collect();
    let (st, b) =
        call(&app, "PUT", "/collections/docs/points?wait=true", Some(json!({"points": docs}))).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let qa = q6(3);
    let r = ok(
        &app,
        "/collections/h/points/query/groups",
        json!({"prefetch": {"query": qa, "using": "a", "limit": 100, "params": {"exact": true}},
               "query": qa, "using": "a", "group_by": "g", "group_size": 2, "limit": 3,
               "with_payload": ["i"], "with_lookup": {"collection": "docs", "with_payload": true}}),
    )
    .await;
    let groups = r["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 3, "{r}");
    // Oracle: walk the 100 best by dot, fill groups in order of first appearance.
    let best = top(0..N, 100, false, |i| dot(&qa, &d.a[i as usize]));
    let mut want: Vec<(u64, Vec<u64>)> = Vec::new();
    for (i, _) in &best {
        let g = i % 7;
        match want.iter().position(|(x, _)| *x == g) {
            Some(p) if want[p].1.len() < 2 => want[p].1.push(*i),
            Some(_) => {}
            None if want.len() < 3 => want.push((g, vec![*i])),
            None => {}
        }
    }
    for (g, (gid, members)) in groups.iter().zip(&want) {
        assert_eq!(g["id"], *gid, "{r}");
        let got: Vec<u64> =
            g["hits"].as_array().expect("hits").iter().map(|h| h["id"].as_u64().expect("id")).collect();
        assert_eq!(&got, members, "{r}");
        assert!(g["hits"][0]["payload"].get("g").is_none(), "payload selector applied: {g}");
        assert_eq!(g["lookup"]["id"], *gid);
        assert_eq!(g["lookup"]["payload"]["title"], format!("doc {gid}"));
    }
}

#[tokio::test]
async fn explain_lists_every_stage() {
    let app = app();
    seeded(&app).await;
    let r = ok(
        &app,
        "/collections/h/points/query",
        json!({"prefetch": [
                  {"query": q6(1), "using": "a", "limit": 20},
                  {"prefetch": {"query": q4(1), "using": "b", "limit": 30}, "query": q4(2), "using": "b", "limit": 10}],
               "query": {"fusion": "rrf"}, "limit": 5, "explain": true,
               "filter": {"must": [{"key": "g", "match": {"value": 1}}]}}),
    )
    .await;
    let s = &r["stages"];
    assert_eq!(
        (s["stage"].as_str(), s["kind"].as_str(), s["how"].as_str()),
        (Some("query"), Some("fusion_rrf"), Some("fusion")),
        "{s}"
    );
    assert_eq!(s["returned"], 5);
    let p = s["prefetch"].as_array().expect("prefetch explains");
    assert_eq!(p.len(), 2);
    assert_eq!((p[0]["stage"].as_str(), p[0]["how"].as_str()), (Some("prefetch[0]"), Some("planner")));
    assert!(p[0]["search"]["path"].is_string(), "{s}");
    assert_eq!(p[0]["search"]["filter"]["cardinality"], (0..N).filter(|i| i % 7 == 1).count());
    assert_eq!((p[1]["how"].as_str(), p[1]["candidates"].as_u64()), (Some("rescore"), Some(30)));
    assert_eq!(p[1]["search"]["path"], "exact", "{s}");
    assert_eq!(p[1]["prefetch"][0]["stage"], "prefetch[1].prefetch[0]");
    assert_eq!(s["candidates"], p[0]["returned"].as_u64().unwrap_or(0) + 10);
}

#[tokio::test]
async fn bad_requests_are_400_with_a_message_that_says_what_to_fix() {
    let app = app();
    seeded(&app).await;
    let uri = "/collections/h/points/query";
    refused(&app, uri, json!({"query": q6(1), "using": "nope"}), "nope").await;
    refused(
        &app,
        uri,
        json!({"prefetch": {"query": q6(1), "using": "nope"}, "query": {"fusion": "rrf"}}),
        "nope",
    )
    .await;
    refused(
        &app,
        uri,
        json!({"query": {"fusion": "max"}, "prefetch": {"query": q6(1), "using": "a"}}),
        "JSON",
    )
    .await;
    refused(&app, uri, json!({"query": {"fusion": "rrf"}}), "prefetch").await;
    refused(
        &app,
        uri,
        json!({"prefetch": [{"query": q6(1), "using": "a"}, {"query": q4(1), "using": "b"}]}),
        "fusion",
    )
    .await;
    refused(
        &app,
        uri,
        json!({"prefetch": [{"query": q6(1), "using": "a"}, {"query": q4(1), "using": "b"}], "query": {"rrf": {"weights": [1.0]}}}),
        "weights",
    )
    .await;
    let mut deep = json!({"query": q6(1), "using": "a"});
    for _ in 0..20 {
        deep = json!({"prefetch": deep, "query": q6(1), "using": "a"});
    }
    refused(&app, uri, deep, "deep").await;
    refused(&app, uri, json!({"query": q4(1), "using": "a"}), "dimensions").await;
    refused(&app, uri, json!({"query": {"recommend": {"negative": [1]}}, "using": "a"}), "positive").await;
    refused(
        &app,
        uri,
        json!({"prefetch": {"query": q6(1), "using": "a", "limit": 0}, "query": q6(1), "using": "a"}),
        "limit",
    )
    .await;
    let (st, b) = call(&app, "POST", uri, Some(json!({"query": 99999, "using": "a"}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    refused(
        &app,
        "/collections/h/points/query/groups",
        json!({"query": q6(1), "using": "a", "group_by": ""}),
        "group_by",
    )
    .await;
}

/// Greedy maximal marginal relevance over `cands` (id, relevance, vector), `sim` between
/// vectors: the reference the server's `mmr` is checked against.
fn mmr_ref(
    cands: &[(u64, f32, Vec<f32>)],
    k: usize,
    diversity: f32,
    sim: impl Fn(&[f32], &[f32]) -> f32,
) -> Vec<(u64, f32)> {
    let mut left: Vec<usize> = (0..cands.len()).collect();
    let mut chosen: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    while out.len() < k && !left.is_empty() {
        let value = |i: usize| {
            let penalty =
                chosen.iter().map(|&j| sim(&cands[i].2, &cands[j].2)).fold(f32::NEG_INFINITY, f32::max);
            let penalty = if penalty == f32::NEG_INFINITY { 0.0 } else { penalty };
            (1.0 - diversity) * cands[i].1 - diversity * penalty
        };
        let (pos, v) = left
            .iter()
            .enumerate()
            .map(|(p, &i)| (p, value(i)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(cands[left[a.0]].1.total_cmp(&cands[left[b.0]].1)))
            .expect("non-empty");
        let i = left.remove(pos);
        chosen.push(i);
        out.push((cands[i].0, v));
    }
    out
}

/// `{"nearest": .., "mmr": ..}` (what LangChain's max_marginal_relevance_search sends) against
/// the reference above over the exact nearest candidates, on a Dot and a Euclid vector, and
/// diversity 0 equal to plain nearest; out-of-range parameters are 400s.
#[tokio::test]
async fn mmr_matches_a_greedy_reference_over_the_nearest_candidates() {
    let app = app();
    let d = seeded(&app).await;
    for seed in 0..4u64 {
        // Dot on "a": relevance is the dot product, similarity too.
        let q = q6(seed);
        let pool = top(0..N, 40, false, |i| dot(&d.a[i as usize], &q));
        let cands: Vec<(u64, f32, Vec<f32>)> =
            pool.iter().map(|&(i, s)| (i, s, d.a[i as usize].clone())).collect();
        for diversity in [0.0f32, 0.3, 0.7, 1.0] {
            let r = ok(
                &app,
                "/collections/h/points/query",
                json!({"query": {"nearest": q, "mmr": {"diversity": diversity, "candidates_limit": 40}},
                       "using": "a", "limit": 8, "params": {"exact": true}}),
            )
            .await;
            let want = mmr_ref(&cands, 8, diversity, dot);
            let got = hits(&r);
            assert_eq!(
                got.iter().map(|g| g.0).collect::<Vec<_>>(),
                want.iter().map(|w| w.0).collect::<Vec<_>>(),
                "seed {seed} diversity {diversity}: {got:?} vs {want:?}"
            );
            for (g, w) in got.iter().zip(&want) {
                assert!((g.1 - w.1).abs() < 1e-4, "seed {seed} diversity {diversity}: {got:?} vs {want:?}");
            }
        }
        // Euclid on "b": relevance and similarity are minus the distance.
        let q = q4(seed);
        let pool = top(0..N, 30, true, |i| l2(&d.b[i as usize], &q));
        let cands: Vec<(u64, f32, Vec<f32>)> =
            pool.iter().map(|&(i, s)| (i, -s, d.b[i as usize].clone())).collect();
        let r = ok(
            &app,
            "/collections/h/points/query",
            json!({"query": {"nearest": q, "mmr": {"candidates_limit": 30}}, "using": "b", "limit": 5,
                   "params": {"exact": true}}),
        )
        .await;
        let want = mmr_ref(&cands, 5, 0.5, |x, y| -l2(x, y));
        assert_same(&hits(&r), &want, 1e-4);
    }
    // Diversity 0 is the nearest list (scores are the relevances).
    let q = q6(9);
    let r = ok(
        &app,
        "/collections/h/points/query",
        json!({"query": {"nearest": q, "mmr": {"diversity": 0.0, "candidates_limit": 50}}, "using": "a", "limit": 6,
               "params": {"exact": true}}),
    )
    .await;
    assert_same(&hits(&r), &top(0..N, 6, false, |i| dot(&d.a[i as usize], &q)), 1e-4);
    refused(
        &app,
        "/collections/h/points/query",
        json!({"query": {"nearest": q, "mmr": {"diversity": 1.5}}, "using": "a"}),
        "mmr.diversity must be between 0 and 1",
    )
    .await;
    refused(
        &app,
        "/collections/h/points/query",
        json!({"query": {"nearest": q, "mmr": {"candidates_limit": 1_000_000}}, "using": "a"}),
        "mmr.candidates_limit is at most",
    )
    .await;
}
