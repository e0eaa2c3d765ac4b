//! Sparse vectors over REST against the real binary: Qdrant's shapes (create/info, points in
//! the named-vector map, `/points/query` with `using`, `/points/search` with `{name, vector}`,
//! `/points/vectors`), results against an oracle computed here (idf from the live points),
//! filters/offset/score_threshold/explain, the 4xx cases, a sparse-only collection and restart
//! persistence.

mod common;

use std::collections::BTreeMap;

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

/// Point `i`'s sparse vector (deterministic): terms `i % 7`, `i % 11 + 10`, `i % 3 + 30`, with
/// term frequencies 1..3; every fifth point has none.
fn terms(i: u64) -> Option<(Vec<u32>, Vec<f32>)> {
    if i % 5 == 4 {
        return None;
    }
    Some((
        vec![(i % 7) as u32, (i % 11 + 10) as u32, (i % 3 + 30) as u32],
        vec![(i % 3 + 1) as f32, 1.0, ((i / 3) % 2 + 1) as f32],
    ))
}

fn idf(n: usize, total: usize) -> f64 {
    let (n, total) = (n as f64, total as f64);
    (1.0 + (total - n + 0.5) / (n + 0.5)).ln()
}

/// The oracle: ids and scores of the best `k` live points sharing a term with the query.
fn oracle(
    live: &BTreeMap<u64, (Vec<u32>, Vec<f32>)>,
    q: &[(u32, f32)],
    use_idf: bool,
    allow: &dyn Fn(u64) -> bool,
    k: usize,
) -> Vec<(u64, f64)> {
    let df = |d: u32| live.values().filter(|(ix, _)| ix.contains(&d)).count();
    let mut out: Vec<(u64, f64)> = live
        .iter()
        .filter(|(id, _)| allow(**id))
        .filter_map(|(id, (ix, vs))| {
            let mut any = false;
            let mut s = 0.0;
            for (d, w) in q {
                if let Some(j) = ix.iter().position(|x| x == d) {
                    any = true;
                    let w = if use_idf { *w as f64 * idf(df(*d), live.len()) } else { *w as f64 };
                    s += w * vs[j] as f64;
                }
            }
            any.then_some((*id, s))
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.truncate(k);
    out
}

/// Compares hits with ranks `from..to` of the oracle's full ranking `all`: scores rank by rank;
/// ids too, except where the oracle's score at that rank ties with another point's (then f32
/// rounding may order them either way).
fn check(hits: &Value, all: &[(u64, f64)], from: usize, to: usize, what: &str) {
    let hits = hits.as_array().unwrap_or_else(|| panic!("{what}: {hits}"));
    let to = to.min(all.len());
    let want = &all[from.min(to)..to];
    assert_eq!(hits.len(), want.len(), "{what}: {hits:?} vs {want:?}");
    let mut ids: Vec<u64> = hits.iter().filter_map(|h| h["id"].as_u64()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), hits.len(), "{what}: an id twice");
    for (r, (h, (id, score))) in hits.iter().zip(want).enumerate() {
        let got = h["score"].as_f64().expect("score");
        assert!((got - score).abs() < 1e-4 * score.abs().max(1.0), "{what}: score {got} vs {score}");
        let rank = from + r;
        let tied = all
            .iter()
            .enumerate()
            .any(|(j, w)| j != rank && (w.1 - score).abs() < 1e-4 * score.abs().max(1.0));
        if !tied {
            assert_eq!(h["id"].as_u64(), Some(*id), "{what}: rank {rank}");
        }
    }
}

#[tokio::test]
async fn sparse_vectors_end_to_end() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    let col = s.url("/collections/h");
    ok(c.put(&col).json(&json!({
        "vectors": {"dense": {"size": 3, "distance": "Dot"}},
        "sparse_vectors": {"text": {"modifier": "idf", "index": {"full_scan_threshold": 20, "on_disk": false}}}
    })))
    .await;
    let info = ok(c.get(&col)).await;
    assert_eq!(
        info["config"]["params"]["sparse_vectors"],
        json!({"text": {"modifier": "idf", "index": {"full_scan_threshold": 20, "on_disk": false}}})
    );
    // 300 points: dense + sparse, sparse only (i % 10 == 3), dense only (terms() = None).
    let mut live = BTreeMap::new();
    let pts: Vec<Value> = (0..300u64)
        .map(|i| {
            let mut v = serde_json::Map::new();
            if i % 10 != 3 || terms(i).is_none() {
                v.insert("dense".into(), json!([1.0, i as f32 / 300.0, 0.5]));
            }
            if let Some((ix, vs)) = terms(i) {
                // Unsorted on purpose.
                let (ix, vs): (Vec<u32>, Vec<f32>) = ix.into_iter().zip(vs).rev().unzip();
                v.insert("text".into(), json!({"indices": ix, "values": vs}));
                live.insert(i, terms(i).expect("some"));
            }
            json!({"id": i, "vector": v, "payload": {"g": i % 4}})
        })
        .collect();
    ok(c.put(s.url("/collections/h/points?wait=true")).json(&json!({"points": pts}))).await;
    let q = [(2u32, 1.0f32), (15, 2.0), (31, 1.0)];
    let qj = json!({"indices": [2, 15, 31], "values": [1.0, 2.0, 1.0]});
    // Query API: no filter; with a filter; offset; score threshold.
    let r = ok(c.post(s.url("/collections/h/points/query")).json(&json!({
        "query": qj, "using": "text", "limit": 10, "with_payload": true, "explain": true
    })))
    .await;
    check(&r["points"], &oracle(&live, &q, true, &|_| true, usize::MAX), 0, 10, "plain");
    assert_eq!(r["explain"]["path"], "sparse_postings", "{}", r["explain"]);
    assert_eq!(r["explain"]["using"], "text");
    assert!(r["explain"]["sparse"]["postings_read"].as_u64().expect("postings") > 0);
    assert_eq!(r["explain"]["sparse"]["idf"], true);
    let r = ok(c.post(s.url("/collections/h/points/query")).json(&json!({
        "query": {"nearest": qj}, "using": "text", "limit": 5, "offset": 2,
        "filter": {"must": [{"key": "g", "match": {"value": 1}}]}, "with_payload": true, "explain": true
    })))
    .await;
    check(&r["points"], &oracle(&live, &q, true, &|i| i % 4 == 1, usize::MAX), 2, 7, "filtered + offset");
    assert!(r["points"].as_array().expect("hits").iter().all(|h| h["payload"]["g"] == 1));
    // 75 points of group 1 pass the filter, more than 20: postings; a narrower one scans.
    assert_eq!(r["explain"]["path"], "sparse_postings");
    let r = ok(c.post(s.url("/collections/h/points/query")).json(&json!({
        "query": qj, "using": "text", "limit": 50, "explain": true,
        "filter": {"must": [{"key": "g", "match": {"value": 2}}, {"has_id": [2, 6, 10, 14, 18, 22, 26, 30]}]}
    })))
    .await;
    assert_eq!(r["explain"]["path"], "sparse_full_scan");
    check(
        &r["points"],
        &oracle(&live, &q, true, &|i| [2, 6, 10, 14, 18, 22, 26, 30].contains(&i), usize::MAX),
        0,
        50,
        "narrow",
    );
    let want = oracle(&live, &q, true, &|_| true, usize::MAX);
    let t = want[5].1 - 1e-3;
    let above: Vec<(u64, f64)> = want.iter().copied().filter(|w| w.1 >= t).collect();
    assert!(above.len() >= 6 && above.len() < want.len());
    let r = ok(c.post(s.url("/collections/h/points/query")).json(&json!({
        "query": qj, "using": "text", "limit": 100, "score_threshold": t
    })))
    .await;
    check(&r["points"], &want, 0, above.len(), "score_threshold");
    // The older search endpoint: {"name", "vector": {indices, values}}.
    let r = ok(c.post(s.url("/collections/h/points/search")).json(&json!({
        "vector": {"name": "text", "vector": qj}, "limit": 10, "with_vector": true
    })))
    .await;
    check(&r, &oracle(&live, &q, true, &|_| true, usize::MAX), 0, 10, "search");
    let top = &r[0];
    let id = top["id"].as_u64().expect("id");
    let (ix, vs) = terms(id).expect("has text");
    assert_eq!(top["vector"]["text"], json!({"indices": ix, "values": vs}), "sorted, as stored");
    // Read back: sparse only, dense only, both.
    let recs =
        ok(c.post(s.url("/collections/h/points")).json(&json!({"ids": [3, 4, 0], "with_vector": true})))
            .await;
    assert!(recs[0]["vector"].get("dense").is_none() && recs[0]["vector"]["text"].is_object(), "{recs}");
    assert!(recs[1]["vector"]["dense"].is_array() && recs[1]["vector"].get("text").is_none(), "{recs}");
    assert!(recs[2]["vector"]["dense"].is_array() && recs[2]["vector"]["text"].is_object(), "{recs}");
    // Overwrite point 0 with other terms, update point 1's sparse vector through
    // /points/vectors, remove point 2's, delete point 5: the old postings go.
    ok(c.put(s.url("/collections/h/points?wait=true")).json(&json!({"points": [
        {"id": 0, "vector": {"text": {"indices": [99], "values": [1.0]}}, "payload": {"g": 0}}
    ]})))
    .await;
    live.insert(0, (vec![99], vec![1.0]));
    ok(c.put(s.url("/collections/h/points/vectors")).json(
        &json!({"points": [{"id": 1, "vector": {"text": {"indices": [98, 99], "values": [2.0, 1.0]}}}]}),
    ))
    .await;
    live.insert(1, (vec![98, 99], vec![2.0, 1.0]));
    ok(c.post(s.url("/collections/h/points/vectors/delete"))
        .json(&json!({"points": [2], "vector": ["text"]})))
    .await;
    live.remove(&2);
    ok(c.post(s.url("/collections/h/points/delete")).json(&json!({"points": [5]}))).await;
    live.remove(&5);
    let recs = ok(c
        .post(s.url("/collections/h/points"))
        .json(&json!({"ids": [1, 2], "with_vector": true, "with_payload": true})))
    .await;
    assert_eq!(recs[0]["vector"]["text"], json!({"indices": [98, 99], "values": [2.0, 1.0]}));
    assert!(recs[0]["vector"]["dense"].is_array(), "the dense vector stays: {recs}");
    assert_eq!(recs[0]["payload"]["g"], 1, "the payload stays");
    assert!(recs[1]["vector"].get("text").is_none(), "{recs}");
    for q2 in [vec![(99u32, 1.0f32)], q.to_vec(), vec![(0, 1.0), (10, 1.0)]] {
        let (ix, vs): (Vec<u32>, Vec<f32>) = q2.iter().copied().unzip();
        let r = ok(c.post(s.url("/collections/h/points/query")).json(&json!({
            "query": {"indices": ix, "values": vs}, "using": "text", "limit": 20
        })))
        .await;
        check(&r["points"], &oracle(&live, &q2, true, &|_| true, usize::MAX), 0, 20, "after changes");
    }
    // PATCH: idf off acts at once.
    ok(c.patch(&col).json(&json!({"sparse_vectors": {"text": {"modifier": "none"}}}))).await;
    let r = ok(c
        .post(s.url("/collections/h/points/query"))
        .json(&json!({"query": qj, "using": "text", "limit": 10})))
    .await;
    check(&r["points"], &oracle(&live, &q, false, &|_| true, usize::MAX), 0, 10, "idf off");
    // The dense vector still works beside it.
    let r = ok(c
        .post(s.url("/collections/h/points/query"))
        .json(&json!({"query": [1.0, 1.0, 0.0], "using": "dense", "limit": 3})))
    .await;
    assert_eq!(r["points"][0]["id"], 299);
}

#[tokio::test]
async fn bad_sparse_input_is_a_4xx_that_says_what_to_fix() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    ok(c.put(s.url("/collections/b")).json(&json!({
        "vectors": {"dense": {"size": 2, "distance": "Cosine"}}, "sparse_vectors": {"text": {}}
    })))
    .await;
    let up =
        |v: Value| c.put(s.url("/collections/b/points")).json(&json!({"points": [{"id": 1, "vector": v}]}));
    err(up(json!({"text": {"indices": [1, 2], "values": [1.0]}})), &["same length"]).await;
    err(up(json!({"text": {"indices": [4, 4], "values": [1.0, 2.0]}})), &["index 4 appears more than once"])
        .await;
    err(up(json!({"text": {"indices": [-1], "values": [1.0]}})), &["vector \"text\"", "indices"]).await;
    err(
        up(json!({"words": {"indices": [1], "values": [1.0]}})),
        &["\"words\"", "\"dense\"", "\"text\" (sparse)"],
    )
    .await;
    err(up(json!({"dense": {"indices": [1], "values": [1.0]}})), &["\"dense\" is a dense vector"]).await;
    err(up(json!({"text": [1.0, 2.0]})), &["\"text\" is a sparse vector"]).await;
    let q = |b: Value| c.post(s.url("/collections/b/points/query")).json(&b);
    err(q(json!({"query": [1.0, 0.0], "using": "text"})), &["\"text\" is sparse"]).await;
    err(q(json!({"query": {"indices": [1], "values": [1.0]}, "using": "dense"})), &["\"dense\" is dense"])
        .await;
    err(
        q(json!({"query": {"indices": [1], "values": [1.0]}, "using": "nope"})),
        &["\"nope\"", "\"text\" (sparse)"],
    )
    .await;
    err(q(json!({"query": {"indices": [1, 1], "values": [1.0, 1.0]}, "using": "text"})), &["more than once"])
        .await;
    err(
        c.patch(s.url("/collections/b")).json(&json!({"sparse_vectors": {"nope": {"modifier": "idf"}}})),
        &["no sparse vector named \"nope\""],
    )
    .await;
    err(
        c.put(s.url("/collections/b2")).json(&json!({
            "vectors": {"text": {"size": 2, "distance": "Dot"}}, "sparse_vectors": {"text": {}}
        })),
        &["both a dense and a sparse vector"],
    )
    .await;
    let count = ok(c.post(s.url("/collections/b/points/count")).json(&json!({}))).await;
    assert_eq!(count["count"], 0, "nothing was written");
}

#[tokio::test]
async fn sparse_only_collection_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("db");
    let body = json!({"query": {"indices": [1, 2], "values": [1.0, 1.0]}, "using": "bm25", "limit": 10});
    let before;
    {
        let mut s = Server::start_on(&data, &[]);
        let c = reqwest::Client::new();
        ok(c.put(s.url("/collections/so")).json(&json!({"sparse_vectors": {"bm25": {"modifier": "idf"}}})))
            .await;
        let info = ok(c.get(s.url("/collections/so"))).await;
        assert_eq!(info["config"]["params"]["vectors"], json!({}), "{info}");
        let pts: Vec<Value> = (0..40u32)
            .map(|i| json!({"id": i, "vector": {"bm25": {"indices": [i % 3, 10 + i % 5], "values": [1.0, (i % 2 + 1) as f32]}}}))
            .collect();
        ok(c.put(s.url("/collections/so/points?wait=true")).json(&json!({"points": pts}))).await;
        ok(c.post(s.url("/collections/so/points/delete")).json(&json!({"points": [1, 2]}))).await;
        before = ok(c.post(s.url("/collections/so/points/query")).json(&body)).await["points"].clone();
        assert_eq!(before.as_array().map(Vec::len), Some(10));
        assert!(before.as_array().expect("hits").iter().all(|h| h["id"] != 1 && h["id"] != 2));
        assert!(s.terminate().success());
    }
    let s = Server::start_on(&data, &[]);
    let c = reqwest::Client::new();
    let after = ok(c.post(s.url("/collections/so/points/query")).json(&body)).await["points"].clone();
    assert_eq!(before, after);
    let info = ok(c.get(s.url("/collections/so"))).await;
    assert_eq!(info["points_count"], 38);
    assert_eq!(info["config"]["params"]["sparse_vectors"], json!({"bm25": {"modifier": "idf"}}));
}
