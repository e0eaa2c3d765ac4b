//! REST against the real binary: every endpoint, every bad-input case, auth refusals, graceful
//! shutdown and restart.

mod common;

use common::Server;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

async fn ok(req: reqwest::RequestBuilder) -> Value {
    let (status, body) = send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    assert!(body["time"].as_f64().is_some(), "{body}");
    body["result"].clone()
}

/// Asserts a Qdrant-shaped error with the given status whose message contains `needle`.
async fn err(req: reqwest::RequestBuilder, want: StatusCode, needle: &str) {
    let (status, body) = send(req).await;
    assert_eq!(status, want, "{body}");
    let msg = body["status"]["error"].as_str().unwrap_or_else(|| panic!("not Qdrant-shaped: {body}"));
    assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}");
}

fn points(n: u64) -> Value {
    let pts: Vec<Value> = (0..n)
        .map(|i| {
            let x = i as f32;
            json!({"id": i, "vector": [1.0, x, x * 0.5, 1.0 - x * 0.01],
                   "payload": {"cat": if i % 2 == 0 { "even" } else { "odd" }, "n": i, "tags": ["t", format!("t{}", i % 3)]}})
        })
        .collect();
    json!({ "points": pts })
}

#[tokio::test]
async fn every_endpoint_round_trips() {
    let s = Server::start(&[]);
    let c = client();
    let col = s.url("/collections/docs");

    // Root, health, readiness.
    // Bare, as Qdrant answers it: qdrant-client reads `version` from the top level.
    let (status, root) = send(c.get(s.url("/"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(root["title"], "grove");
    assert_eq!(root["version"], grove_server::api::QDRANT_API_VERSION);
    assert_eq!(root["grove_version"], env!("CARGO_PKG_VERSION"));
    assert!(root.get("result").is_none(), "{root}");
    assert_eq!(c.get(s.url("/healthz")).send().await.expect("healthz").status(), StatusCode::OK);
    // Qdrant's exact probe texts.
    for (path, want) in [
        ("/healthz", "healthz check passed"),
        ("/livez", "healthz check passed"),
        ("/readyz", "all shards are ready"),
    ] {
        assert_eq!(
            c.get(s.url(path)).send().await.expect("probe").text().await.expect("text"),
            want,
            "{path}"
        );
    }
    assert_eq!(c.get(s.url("/readyz")).send().await.expect("readyz").status(), StatusCode::OK);

    // Collections.
    assert_eq!(
        ok(c.put(&col).json(&json!({"vectors": {"size": 4, "distance": "Cosine"}, "hnsw_config": {"m": 8}})))
            .await,
        true
    );
    err(
        c.put(&col).json(&json!({"vectors": {"size": 4, "distance": "Cosine"}})),
        StatusCode::CONFLICT,
        "already exists",
    )
    .await;
    let list = ok(c.get(s.url("/collections"))).await;
    assert_eq!(list["collections"], json!([{"name": "docs"}]));
    assert_eq!(ok(c.get(format!("{col}/exists"))).await["exists"], true);
    assert_eq!(ok(c.get(s.url("/collections/nope/exists"))).await["exists"], false);

    // Payload indexes.
    ok(c.put(format!("{col}/index?wait=true"))
        .json(&json!({"field_name": "cat", "field_schema": "keyword"})))
    .await;
    ok(c.put(format!("{col}/index")).json(&json!({"field_name": "n", "field_schema": {"type": "integer"}})))
        .await;

    // Upsert: rows, then columns.
    let up = ok(c.put(format!("{col}/points?wait=true")).json(&points(20))).await;
    assert_eq!(up["status"], "completed");
    ok(c.put(format!("{col}/points")).json(&json!({"batch": {"ids": [100, 101], "vectors": [[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]], "payloads": [{"cat": "batch"}, null]}}))).await;

    let info = ok(c.get(&col)).await;
    assert_eq!(info["points_count"], 22);
    assert_eq!(info["config"]["params"]["vectors"], json!({"size": 4, "distance": "Cosine"}));
    assert_eq!(info["config"]["hnsw_config"]["m"], 8);
    assert_eq!(info["payload_schema"]["cat"]["data_type"], "keyword");
    assert_eq!(info["payload_schema"]["n"]["data_type"], "integer");

    // Get by ids.
    let got =
        ok(c.post(format!("{col}/points")).json(&json!({"ids": [3, 100, 555], "with_vector": true}))).await;
    let got = got.as_array().expect("array");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["id"], 3);
    assert_eq!(got[0]["payload"]["cat"], "odd");
    assert_eq!(got[0]["vector"].as_array().expect("vector").len(), 4);

    // Query: filter, payload selector, explain, strategy, score threshold, offset.
    let q = json!({"query": [1.0, 3.0, 1.5, 0.97], "limit": 3, "with_payload": ["n"],
                   "filter": {"must": [{"key": "cat", "match": {"value": "odd"}}, {"key": "n", "range": {"gte": 1, "lt": 10}}]},
                   "explain": true, "strategy": "exact"});
    let r = ok(c.post(format!("{col}/points/query")).json(&q)).await;
    let hits = r["points"].as_array().expect("points");
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[0]["id"], 3, "the query equals point 3's direction");
    for h in hits {
        let n = h["id"].as_u64().expect("id");
        assert!(n % 2 == 1 && (1..10).contains(&n), "{h}");
        assert_eq!(h["payload"].as_object().expect("payload").keys().collect::<Vec<_>>(), vec!["n"]);
    }
    assert_eq!(r["explain"]["path"], "exact");
    assert_eq!(r["explain"]["allowed_points"], 5);
    // Storage's side of the explain: both fields answered by their indexes.
    assert_eq!(r["explain"]["filter"]["cardinality"], 5);
    assert_eq!(r["explain"]["filter"]["indexed_fields"], json!(["cat", "n"]));
    assert_eq!(r["explain"]["filter"]["unindexed_fields"], json!([]));
    let scanned = ok(c.post(format!("{col}/points/query")).json(&json!({"query": [1.0, 3.0, 1.5, 0.97], "limit": 1,
        "filter": {"must": [{"key": "cat", "match": {"value": "odd"}}, {"key": "tags", "match": {"value": "t1"}}]}, "explain": true})))
    .await;
    assert_eq!(scanned["explain"]["filter"]["indexed_fields"], json!(["cat"]));
    assert_eq!(scanned["explain"]["filter"]["unindexed_fields"], json!(["tags"]));
    assert_eq!(scanned["explain"]["filter"]["payloads_scanned"], 22);
    let nearest = ok(c
        .post(format!("{col}/points/query"))
        .json(&json!({"query": {"nearest": [1.0, 3.0, 1.5, 0.97]}, "limit": 2, "offset": 1})))
    .await;
    assert_eq!(nearest["points"].as_array().expect("points").len(), 2);
    assert!(nearest["points"][0]["payload"].is_null(), "no payload by default");

    // Batch and the older search endpoint.
    let batch = ok(c.post(format!("{col}/points/query/batch")).json(&json!({"searches": [{"query": [0.0, 0.0, 1.0, 0.0], "limit": 1}, {"query": [0.0, 1.0, 0.0, 0.0], "limit": 1, "filter": {"must": [{"has_id": [101]}]}}]}))).await;
    assert_eq!(batch[0]["points"][0]["id"], 100);
    assert_eq!(batch[1]["points"][0]["id"], 101);
    let search =
        ok(c.post(format!("{col}/points/search")).json(&json!({"vector": [0.0, 0.0, 1.0, 0.0], "limit": 1})))
            .await;
    assert_eq!(search[0]["id"], 100);

    // Scroll and count.
    let page = ok(c
        .post(format!("{col}/points/scroll"))
        .json(&json!({"limit": 5, "filter": {"must": [{"key": "cat", "match": {"any": ["even"]}}]}})))
    .await;
    let ids: Vec<u64> =
        page["points"].as_array().expect("points").iter().map(|p| p["id"].as_u64().expect("id")).collect();
    assert_eq!(ids, vec![0, 2, 4, 6, 8]);
    assert_eq!(page["next_page_offset"], 10);
    assert_eq!(ok(c.post(format!("{col}/points/count")).json(&json!({"exact": true}))).await["count"], 22);
    assert_eq!(
        ok(c.post(format!("{col}/points/count"))
            .json(&json!({"filter": {"must_not": [{"key": "cat", "match": {"value": "even"}}]}})))
        .await["count"],
        12
    );

    // Payload edits.
    ok(c.post(format!("{col}/points/payload?wait=true"))
        .json(&json!({"payload": {"x": 1}, "points": [1, 2]})))
    .await;
    ok(c.put(format!("{col}/points/payload")).json(&json!({"payload": {"only": true}, "points": [2]}))).await;
    ok(c.post(format!("{col}/points/payload/delete"))
        .json(&json!({"keys": ["x"], "filter": {"must": [{"has_id": [1]}]}})))
    .await;
    ok(c.post(format!("{col}/points/payload/clear")).json(&json!({"points": [4]}))).await;
    let got = ok(c.post(format!("{col}/points")).json(&json!({"ids": [1, 2, 4]}))).await;
    assert!(got[0]["payload"].get("x").is_none() && got[0]["payload"]["cat"] == "odd");
    assert_eq!(got[1]["payload"], json!({"only": true}));
    assert_eq!(got[2]["payload"], json!({}));

    // Deletes.
    ok(c.post(format!("{col}/points/delete?wait=true")).json(&json!({"points": [0, 1]}))).await;
    ok(c.post(format!("{col}/points/delete"))
        .json(&json!({"filter": {"must": [{"key": "cat", "match": {"value": "batch"}}]}})))
    .await;
    assert_eq!(ok(c.post(format!("{col}/points/count")).json(&json!({}))).await["count"], 19);

    // Index deletion.
    ok(c.delete(format!("{col}/index/n?wait=true"))).await;
    assert!(ok(c.get(&col)).await["payload_schema"].get("n").is_none());

    // Snapshots.
    let snap = ok(c.post(format!("{col}/snapshots"))).await;
    let name = snap["name"].as_str().expect("name").to_owned();
    let list = ok(c.get(format!("{col}/snapshots"))).await;
    assert!(list.as_array().expect("list").iter().any(|s| s["name"] == name.as_str()));

    // Metrics and OpenAPI.
    let metrics = c.get(s.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("grove_http_requests_total{route=\"/collections/{name}/points/query\",method=\"POST\",status=\"200\"} 3"), "{metrics}");
    assert!(metrics.contains("grove_searches_total{path=\"exact\"}"), "{metrics}");
    assert!(metrics.contains("grove_points{collection=\"docs\"} 19"), "{metrics}");
    assert!(metrics.contains("grove_http_request_duration_seconds_bucket"), "{metrics}");
    let doc: Value = c.get(s.url("/openapi.json")).send().await.expect("openapi").json().await.expect("json");
    assert!(doc["paths"]["/collections/{name}/points/query"]["post"].is_object());
    assert!(doc["components"]["schemas"]["QueryRequest"].is_object());

    // Delete the collection.
    assert_eq!(ok(c.delete(&col)).await, true);
    err(c.get(&col), StatusCode::NOT_FOUND, "docs").await;
}

#[tokio::test]
async fn bad_input_gets_4xx_with_a_message_that_says_what_to_fix() {
    let s = Server::start(&[
        "--limits-max-limit",
        "100",
        "--limits-max-filter-conditions",
        "3",
        "--service-max-body-bytes",
        "100000",
    ]);
    let c = client();
    let col = s.url("/collections/c");
    ok(c.put(&col).json(&json!({"vectors": {"size": 4, "distance": "Dot"}}))).await;
    ok(c.put(format!("{col}/points")).json(&points(5))).await;

    // Wrong dimension, on write and on query.
    err(
        c.put(format!("{col}/points")).json(&json!({"points": [{"id": 9, "vector": [1.0, 2.0]}]})),
        StatusCode::BAD_REQUEST,
        "dimensions",
    )
    .await;
    err(
        c.post(format!("{col}/points/query")).json(&json!({"query": [1.0]})),
        StatusCode::BAD_REQUEST,
        "dimension",
    )
    .await;
    // Unknown collection.
    err(
        c.post(s.url("/collections/missing/points/query")).json(&json!({"query": [1.0, 0.0, 0.0, 0.0]})),
        StatusCode::NOT_FOUND,
        "missing",
    )
    .await;
    err(c.put(s.url("/collections/missing/points")).json(&points(1)), StatusCode::NOT_FOUND, "missing").await;
    // Malformed JSON.
    err(
        c.post(format!("{col}/points/query"))
            .header("content-type", "application/json")
            .body("{\"query\": [1,"),
        StatusCode::BAD_REQUEST,
        "Malformed JSON",
    )
    .await;
    // Missing content type.
    err(c.post(format!("{col}/points/query")).body("{}"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type")
        .await;
    // Unknown filter key, unknown condition shape, unknown request field.
    err(
        c.post(format!("{col}/points/count")).json(&json!({"filter": {"muts": []}})),
        StatusCode::BAD_REQUEST,
        "muts",
    )
    .await;
    err(
        c.post(format!("{col}/points/count"))
            .json(&json!({"filter": {"must": [{"key": "a", "mach": {"value": 1}}]}})),
        StatusCode::BAD_REQUEST,
        "filter",
    )
    .await;
    err(
        c.post(format!("{col}/points/query")).json(&json!({"query": [1.0, 0.0, 0.0, 0.0], "limt": 3})),
        StatusCode::BAD_REQUEST,
        "limt",
    )
    .await;
    // Bad types.
    err(
        c.post(format!("{col}/points/query")).json(&json!({"query": [1.0, 0.0, 0.0, 0.0], "limit": "ten"})),
        StatusCode::BAD_REQUEST,
        "limit",
    )
    .await;
    err(
        c.put(format!("{col}/points")).json(&json!({"points": [{"id": -1, "vector": [1.0, 0.0, 0.0, 0.0]}]})),
        StatusCode::BAD_REQUEST,
        "JSON",
    )
    .await;
    err(
        c.put(format!("{col}/points"))
            .json(&json!({"points": [{"id": "not-a-uuid", "vector": [1.0, 0.0, 0.0, 0.0]}]})),
        StatusCode::BAD_REQUEST,
        "not-a-uuid",
    )
    .await;
    err(
        c.put(&col).json(&json!({"vectors": {"size": 4, "distance": "Manhattan"}})),
        StatusCode::BAD_REQUEST,
        "Manhattan is not supported",
    )
    .await;
    // Limits: k, ef, filter conditions, body size.
    err(
        c.post(format!("{col}/points/query")).json(&json!({"query": [1.0, 0.0, 0.0, 0.0], "limit": 101})),
        StatusCode::BAD_REQUEST,
        "max_limit",
    )
    .await;
    err(
        c.post(format!("{col}/points/query"))
            .json(&json!({"query": [1.0, 0.0, 0.0, 0.0], "params": {"hnsw_ef": 100000}})),
        StatusCode::BAD_REQUEST,
        "max_ef",
    )
    .await;
    let many =
        json!({"filter": {"must": [{"has_id": [1]}, {"has_id": [1]}, {"has_id": [1]}, {"has_id": [1]}]}});
    err(c.post(format!("{col}/points/count")).json(&many), StatusCode::BAD_REQUEST, "max_filter_conditions")
        .await;
    let resp = c.put(format!("{col}/points")).json(&points(3000)).send().await.expect("request");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The unread body is left on the wire: the server must not offer the connection for reuse.
    assert_eq!(resp.headers().get("connection").map(|v| v.to_str().unwrap_or("")), Some("close"));
    let body: Value = resp.json().await.expect("json");
    assert!(body["status"]["error"].is_string(), "{body}");
    // An empty query vector; a point id that is not one; unknown route; wrong method. (No
    // query at all is valid: the Query API then lists points in id order, as Qdrant does.)
    err(
        c.post(format!("{col}/points/query")).json(&json!({"query": [], "limit": 3})),
        StatusCode::BAD_REQUEST,
        "empty",
    )
    .await;
    err(
        c.post(format!("{col}/points/query")).json(&json!({"query": "abc"})),
        StatusCode::BAD_REQUEST,
        "UUID",
    )
    .await;
    err(c.get(s.url("/nope")), StatusCode::NOT_FOUND, "Not found").await;
    err(c.post(&col), StatusCode::METHOD_NOT_ALLOWED, "POST").await;

    let metrics = c.get(s.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    // /readyz answers 503 by design while the data dir opens (the start helper polls it).
    let served_5xx: Vec<&str> =
        metrics.lines().filter(|l| l.contains("status=\"5") && !l.contains("route=\"/readyz\"")).collect();
    assert!(served_5xx.is_empty(), "no 5xx was served: {served_5xx:?}");
}

#[tokio::test]
async fn api_keys_are_enforced() {
    let s = Server::start(&["--security-api-key", "admin-key", "--security-read-only-api-key", "ro-key"]);
    let c = client();
    let col = s.url("/collections/k");
    // Health is public; everything else needs a key.
    assert_eq!(c.get(s.url("/healthz")).send().await.expect("healthz").status(), StatusCode::OK);
    // Qdrant's exact probe texts.
    for (path, want) in [
        ("/healthz", "healthz check passed"),
        ("/livez", "healthz check passed"),
        ("/readyz", "all shards are ready"),
    ] {
        assert_eq!(
            c.get(s.url(path)).send().await.expect("probe").text().await.expect("text"),
            want,
            "{path}"
        );
    }
    err(c.get(s.url("/collections")), StatusCode::UNAUTHORIZED, "API key").await;
    err(c.get(s.url("/collections")).header("api-key", "wrong"), StatusCode::UNAUTHORIZED, "Invalid").await;
    err(
        c.put(&col).header("api-key", "ro-key").json(&json!({"vectors": {"size": 2, "distance": "Cosine"}})),
        StatusCode::FORBIDDEN,
        "read-only",
    )
    .await;
    ok(c.put(&col)
        .header("api-key", "admin-key")
        .json(&json!({"vectors": {"size": 2, "distance": "Cosine"}})))
    .await;
    ok(c.put(format!("{col}/points"))
        .bearer_auth("admin-key")
        .json(&json!({"points": [{"id": 1, "vector": [1.0, 0.0]}]})))
    .await;
    err(
        c.put(format!("{col}/points"))
            .header("api-key", "ro-key")
            .json(&json!({"points": [{"id": 2, "vector": [1.0, 0.0]}]})),
        StatusCode::FORBIDDEN,
        "read-only",
    )
    .await;
    let r = ok(c
        .post(format!("{col}/points/query"))
        .header("api-key", "ro-key")
        .json(&json!({"query": [1.0, 0.0]})))
    .await;
    assert_eq!(r["points"][0]["id"], 1);
    err(c.get(s.url("/metrics")), StatusCode::UNAUTHORIZED, "API key").await;
    assert_eq!(
        c.get(s.url("/metrics")).header("api-key", "ro-key").send().await.expect("m").status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn sigterm_drains_flushes_and_a_restart_finds_the_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("db");
    let mut s = Server::start_on(&data, &[]);
    let c = client();
    let col = s.url("/collections/p");
    ok(c.put(&col).json(&json!({"vectors": {"size": 4, "distance": "Euclid"}}))).await;
    ok(c.put(format!("{col}/index")).json(&json!({"field_name": "cat", "field_schema": "keyword"}))).await;
    // Writes in flight while SIGTERM arrives must finish (each either fully in or refused).
    let mut writes = Vec::new();
    for b in 0..8u64 {
        let (c, url) = (c.clone(), format!("{col}/points?wait=true"));
        writes.push(tokio::spawn(async move {
            let pts: Vec<Value> = (0..50).map(|i| json!({"id": b * 50 + i, "vector": [i as f32, 1.0, 2.0, 3.0], "payload": {"cat": format!("b{b}")}})).collect();
            c.put(url).json(&json!({"points": pts})).send().await.map(|r| r.status())
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let status = tokio::task::spawn_blocking(move || {
        let st = s.terminate();
        (st, s)
    })
    .await
    .expect("join");
    assert!(status.0.success(), "exit status {:?}; log:\n{}", status.0, status.1.log_text());
    let mut acknowledged = Vec::new();
    for (b, w) in writes.into_iter().enumerate() {
        if let Ok(Ok(st)) = w.await {
            if st == StatusCode::OK {
                acknowledged.push(b);
            }
        }
    }
    let log = status.1.log_text();
    assert!(log.contains("storage flushed"), "{log}");

    let s2 = Server::start_on(&data, &[]);
    let col = s2.url("/collections/p");
    for b in &acknowledged {
        let n = ok(c
            .post(format!("{col}/points/count"))
            .json(&json!({"filter": {"must": [{"key": "cat", "match": {"value": format!("b{b}")}}]}})))
        .await;
        assert_eq!(n["count"], 50, "acknowledged batch {b} survived the restart");
    }
    let total =
        ok(c.post(format!("{col}/points/count")).json(&json!({}))).await["count"].as_u64().expect("count");
    assert_eq!(total % 50, 0, "no torn batch");
    assert!(total as usize >= acknowledged.len() * 50);
}

/// A multipart/form-data body with one file part, as `curl -F snapshot=@file` sends it.
fn multipart(boundary: &str, file: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"s.snapshot\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b
}

#[tokio::test]
async fn snapshots_download_recover_upload_delete() {
    let s = Server::start(&[]);
    let c = client();
    let col = s.url("/collections/docs");
    let count = |name: &'static str| {
        let (c, url) = (c.clone(), s.url(&format!("/collections/{name}/points/count")));
        async move { ok(c.post(url).json(&json!({}))).await["count"].as_u64().expect("count") }
    };
    ok(c.put(&col).json(&json!({"vectors": {"size": 4, "distance": "Cosine"}}))).await;
    ok(c.put(format!("{col}/index")).json(&json!({"field_name": "cat", "field_schema": "keyword"}))).await;
    ok(c.put(format!("{col}/points?wait=true")).json(&points(30))).await;
    let snap = ok(c.post(format!("{col}/snapshots"))).await;
    let name = snap["name"].as_str().expect("name").to_owned();
    let size = snap["size"].as_u64().expect("size");

    // Recover by name on the running server undoes a delete.
    ok(c.post(format!("{col}/points/delete?wait=true"))
        .json(&json!({"filter": {"must": [{"key": "cat", "match": {"value": "odd"}}]}})))
    .await;
    assert_eq!(count("docs").await, 15);
    assert_eq!(ok(c.put(format!("{col}/snapshots/recover")).json(&json!({"location": name}))).await, true);
    assert_eq!(count("docs").await, 30);
    let odd = ok(c
        .post(format!("{col}/points/count"))
        .json(&json!({"filter": {"must": [{"key": "cat", "match": {"value": "odd"}}]}})))
    .await;
    assert_eq!(odd["count"], 15, "the recovered payload index answers");

    // Download: the archive, as a file.
    let resp = c.get(format!("{col}/snapshots/{name}")).send().await.expect("download");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    let archive = resp.bytes().await.expect("bytes").to_vec();
    assert_eq!(archive.len() as u64, size);

    // Upload as a raw body and as multipart: new collections.
    let raw = c.post(s.url("/collections/copy/snapshots/upload")).body(archive.clone());
    assert_eq!(ok(raw).await, true);
    assert_eq!(count("copy").await, 30);
    let form = c
        .post(s.url("/collections/copy2/snapshots/upload"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(multipart("XyZ", &archive));
    assert_eq!(ok(form).await, true);
    assert_eq!(count("copy2").await, 30);

    // Bad archives: 400, and the collection is untouched.
    let mut damaged = archive.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0xff;
    // A flipped byte is caught by the CRC, or (when it lands in a frame length) as a frame
    // running past the end; which one depends on the archive's layout, so both must say damaged.
    err(
        c.post(s.url("/collections/copy/snapshots/upload")).body(damaged),
        StatusCode::BAD_REQUEST,
        "damaged",
    )
    .await;
    err(
        c.post(s.url("/collections/copy/snapshots/upload")).body(archive[..archive.len() / 3].to_vec()),
        StatusCode::BAD_REQUEST,
        "ends early",
    )
    .await;
    err(
        c.post(s.url("/collections/copy/snapshots/upload")).body("hello"),
        StatusCode::BAD_REQUEST,
        "not a Grove snapshot",
    )
    .await;
    err(
        c.post(s.url("/collections/copy/snapshots/upload"))
            .header("content-type", "multipart/form-data")
            .body("x"),
        StatusCode::BAD_REQUEST,
        "boundary",
    )
    .await;
    assert_eq!(count("copy").await, 30);

    // Dimension conflict: 409, untouched.
    ok(c.put(s.url("/collections/small")).json(&json!({"vectors": {"size": 2, "distance": "Dot"}}))).await;
    let path = s.data.join("snapshots").join("docs").join(&name);
    err(
        c.put(s.url("/collections/small/snapshots/recover"))
            .json(&json!({"location": format!("file://{}", path.display())})),
        StatusCode::CONFLICT,
        "4-dimensional",
    )
    .await;
    assert_eq!(ok(c.get(s.url("/collections/small"))).await["config"]["params"]["vectors"]["size"], 2);

    // Unknown snapshots and unsupported locations.
    err(
        c.put(format!("{col}/snapshots/recover")).json(&json!({"location": "nope.snapshot"})),
        StatusCode::NOT_FOUND,
        "nope",
    )
    .await;
    err(c.get(format!("{col}/snapshots/nope.snapshot")), StatusCode::NOT_FOUND, "nope").await;
    err(
        c.put(format!("{col}/snapshots/recover")).json(&json!({"location": "http://example.com/s"})),
        StatusCode::BAD_REQUEST,
        "upload",
    )
    .await;
    err(
        c.put(format!("{col}/snapshots/recover")).json(&json!({"where": "x"})),
        StatusCode::BAD_REQUEST,
        "where",
    )
    .await;

    // Delete.
    assert_eq!(ok(c.delete(format!("{col}/snapshots/{name}"))).await, true);
    err(c.delete(format!("{col}/snapshots/{name}")), StatusCode::NOT_FOUND, "does not exist").await;
    assert_eq!(ok(c.get(format!("{col}/snapshots"))).await, json!([]));
}

/// Collection info reports each vector's memory: full vectors (points x dimension x 4), the
/// graph, and with int8 quantization the codes (one padded row per point); tombstones count
/// deleted points until a rebuild.
#[tokio::test]
async fn info_reports_memory_per_vector_and_per_index() {
    let s = Server::start(&[]);
    let c = client();
    let col = s.url("/collections/mem");
    ok(c.put(&col).json(&json!({
        "vectors": {"size": 40, "distance": "Cosine"},
        "quantization_config": {"scalar": {"type": "int8", "always_ram": true}}
    })))
    .await;
    let n = 600u64;
    let pts: Vec<Value> = (0..n)
        .map(|i| json!({"id": i, "vector": (0..40).map(|d| ((i * 7 + d * 13) % 23) as f32 - 11.0).collect::<Vec<_>>()}))
        .collect();
    ok(c.put(s.url("/collections/mem/points?wait=true")).json(&json!({ "points": pts }))).await;
    ok(c.post(s.url("/collections/mem/points/delete?wait=true")).json(&json!({"points": [0, 1, 2]}))).await;
    let mut info = Value::Null;
    for _ in 0..600 {
        info = ok(c.get(&col)).await;
        let m = &info["grove_vectors"][""]["memory"];
        if info["status"] == "green" && m["codes"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let v = &info["grove_vectors"][""];
    let m = &v["memory"];
    assert_eq!(m["vector_bytes_per_point"], 160, "{info}");
    assert!(m["vectors"].as_u64().expect("vectors") >= n * 160, "{info}");
    assert!(m["graphs"].as_u64().expect("graphs") > 0, "{info}");
    let per_code = m["code_bytes_per_point"].as_u64().expect("code bytes per point");
    assert!((40..=96).contains(&per_code), "an int8 row is the dimension padded, plus its factors: {info}");
    assert!(m["codes"].as_u64().expect("codes") >= (n - 3) * per_code, "{info}");
    assert_eq!(v["tombstones"], 3, "{info}");
}
