//! Qdrant's payload, filter and scroll semantics over REST, driven through the router with
//! `oneshot`: scroll `order_by`, `with_payload` include/exclude by dotted path, `with_vector`
//! by name, text and UUID indexes (creation bodies, info, `match.text` / `text_any` /
//! `phrase`), `nested` conditions, upsert `update_mode` / `update_filter`, and the 4xx answers
//! to bad input (nothing written).

mod common;

use axum::http::StatusCode;
use common::oneshot::call;
use grove_server::config::Config;
use grove_server::service::Service;
use serde_json::{json, Value};

fn app() -> axum::Router {
    let service = Service::new(Config::default()).expect("service");
    service.attach_storage(grove_storage::Storage::in_memory());
    grove_server::rest::router(service)
}

async fn ok(app: &axum::Router, method: &str, uri: &str, body: Option<Value>) -> Value {
    let (st, b) = call(app, method, uri, body).await;
    assert_eq!(st, StatusCode::OK, "{method} {uri}: {b}");
    b["result"].clone()
}

async fn status(app: &axum::Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    call(app, method, uri, body).await
}

async fn scroll_ids(app: &axum::Router, body: Value) -> Vec<Value> {
    let r = ok(app, "POST", "/collections/c/points/scroll", Some(body)).await;
    r["points"].as_array().expect("points").iter().map(|p| p["id"].clone()).collect()
}

async fn collection(app: &axum::Router, points: Value) {
    ok(app, "PUT", "/collections/c", Some(json!({"vectors": {"size": 2, "distance": "Dot"}}))).await;
    ok(app, "PUT", "/collections/c/points?wait=true", Some(json!({ "points": points }))).await;
}

#[tokio::test]
async fn scroll_order_by_pages_with_start_from() {
    let app = app();
    let points: Vec<Value> = (0..30)
        .map(
            |i| json!({"id": i, "vector": [1.0, 0.0], "payload": {"p": (i * 7) % 10, "multi": [i, 100 - i]}}),
        )
        .collect();
    collection(&app, json!(points)).await;
    // Without an index: 400 naming the key.
    let (st, b) = status(&app, "POST", "/collections/c/points/scroll", Some(json!({"order_by": "p"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["status"]["error"].as_str().unwrap_or_default().contains("No range index"), "{b}");
    ok(
        &app,
        "PUT",
        "/collections/c/index?wait=true",
        Some(json!({"field_name": "p", "field_schema": "integer"})),
    )
    .await;
    ok(
        &app,
        "PUT",
        "/collections/c/index?wait=true",
        Some(json!({"field_name": "multi", "field_schema": "integer"})),
    )
    .await;
    let r = ok(
        &app,
        "POST",
        "/collections/c/points/scroll",
        Some(json!({"order_by": {"key": "p", "direction": "desc"}, "limit": 4, "with_payload": false})),
    )
    .await;
    assert_eq!(r["next_page_offset"], Value::Null);
    let vals: Vec<i64> = r["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["order_value"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(vals, [9, 9, 9, 8]);
    // Paging by start_from and has_id exclusion visits every point once.
    let (mut start, mut seen_at): (Option<i64>, Vec<Value>) = (None, Vec::new());
    let mut all = Vec::new();
    loop {
        let page = ok(
            &app,
            "POST",
            "/collections/c/points/scroll",
            Some(json!({"order_by": {"key": "p", "start_from": start}, "limit": 7,
                        "filter": {"must_not": [{"has_id": seen_at}]}})),
        )
        .await;
        let pts = page["points"].as_array().cloned().unwrap_or_default();
        if pts.is_empty() {
            break;
        }
        let last = pts.last().and_then(|p| p["order_value"].as_i64());
        if last != start {
            seen_at.clear();
            start = last;
        }
        for p in &pts {
            if p["order_value"].as_i64() == start {
                seen_at.push(p["id"].clone());
            }
            all.push(p["id"].as_i64().unwrap_or(-1));
        }
    }
    all.sort_unstable();
    assert_eq!(all, (0..30).collect::<Vec<i64>>());
    // A point appears once per value.
    let r =
        ok(&app, "POST", "/collections/c/points/scroll", Some(json!({"order_by": "multi", "limit": 100})))
            .await;
    assert_eq!(r["points"].as_array().map(Vec::len), Some(60));
    // offset with order_by: 400.
    let (st, _) =
        status(&app, "POST", "/collections/c/points/scroll", Some(json!({"order_by": "p", "offset": 3})))
            .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn payload_selectors_and_vector_names() {
    let app = app();
    ok(
        &app,
        "PUT",
        "/collections/c",
        Some(json!({"vectors": {"a": {"size": 2, "distance": "Dot"}, "b": {"size": 2, "distance": "Dot"}}})),
    )
    .await;
    let payload = json!({"country": {"name": "DE", "capital": "Berlin",
        "cities": [{"name": "Berlin", "pop": 3.7}, {"name": "Munich", "pop": 1.5}]}});
    ok(
        &app,
        "PUT",
        "/collections/c/points?wait=true",
        Some(
            json!({"points": [{"id": 1, "vector": {"a": [1.0, 0.0], "b": [0.0, 1.0]}, "payload": payload}]}),
        ),
    )
    .await;
    let one = |wp: Value, wv: Value| json!({"with_payload": wp, "with_vector": wv, "limit": 1});
    let get = |b: Value| {
        let app = app.clone();
        async move { ok(&app, "POST", "/collections/c/points/scroll", Some(b)).await["points"][0].clone() }
    };
    let p = get(one(json!({"include": ["country.name", "country.capital"]}), json!(false))).await;
    assert_eq!(p["payload"], json!({"country": {"name": "DE", "capital": "Berlin"}}));
    let p = get(one(json!({"include": ["country.cities[].name"]}), json!(false))).await;
    assert_eq!(p["payload"], json!({"country": {"cities": [{"name": "Berlin"}, {"name": "Munich"}]}}));
    let p = get(one(json!({"exclude": ["country.cities"]}), json!(["b"]))).await;
    assert_eq!(p["payload"], json!({"country": {"name": "DE", "capital": "Berlin"}}));
    assert_eq!(p["vector"], json!({"b": [0.0, 1.0]}));
    let p = get(one(json!(["country.capital"]), json!(true))).await;
    assert_eq!(p["payload"], json!({"country": {"capital": "Berlin"}}));
    assert!(p["vector"]["a"].is_array() && p["vector"]["b"].is_array(), "{p}");
}

#[tokio::test]
async fn text_and_uuid_indexes() {
    let app = app();
    let titles =
        ["Robot Dreams", "Little Lost Robot", "The Star of the Show", "Star Light", "The quick brown fox"];
    let points: Vec<Value> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": i, "vector": [1.0, 0.0], "payload": {"title": t, "uid": format!("00000000-0000-0000-0000-00000000000{i}")}}))
        .collect();
    collection(&app, json!(points)).await;
    let text = |m: Value| json!({"filter": {"must": [{"key": "title", "match": m}]}, "limit": 10});
    ok(
        &app,
        "PUT",
        "/collections/c/index?wait=true",
        Some(json!({"field_name": "title", "field_schema": {"type": "text", "tokenizer": "word", "lowercase": true, "stopwords": "english"}})),
    )
    .await;
    assert_eq!(scroll_ids(&app, text(json!({"text_any": "robot of the star"}))).await, [0, 1, 2, 3]);
    assert_eq!(scroll_ids(&app, text(json!({"text": "the"}))).await, Vec::<Value>::new(), "only stopwords");
    assert_eq!(scroll_ids(&app, text(json!({"phrase": "star light"}))).await, [3]);
    assert_eq!(scroll_ids(&app, text(json!({"phrase": ""}))).await, Vec::<Value>::new());
    let info = ok(&app, "GET", "/collections/c", None).await;
    assert_eq!(info["payload_schema"]["title"]["data_type"], "text");
    assert_eq!(info["payload_schema"]["title"]["params"]["tokenizer"], "word");
    // Another definition replaces the index.
    ok(
        &app,
        "PUT",
        "/collections/c/index?wait=true",
        Some(json!({"field_name": "title", "field_schema": {"type": "text", "tokenizer": "prefix"}})),
    )
    .await;
    assert_eq!(scroll_ids(&app, text(json!({"text": "ROBO"}))).await, [0, 1]);
    // Bad parameters: 400 (unknown tokenizer, unknown key, bad lengths), the index unchanged.
    for schema in [
        json!({"type": "text", "tokenizer": "nope"}),
        json!({"type": "text", "tokeniser": "word"}),
        json!({"type": "text", "min_token_len": 5, "max_token_len": 2}),
        json!({"type": "text", "stopwords": "klingon"}),
    ] {
        let (st, b) = status(
            &app,
            "PUT",
            "/collections/c/index",
            Some(json!({"field_name": "title", "field_schema": schema})),
        )
        .await;
        assert!(st == StatusCode::BAD_REQUEST || st == StatusCode::UNPROCESSABLE_ENTITY, "{st} {b}");
    }
    assert_eq!(scroll_ids(&app, text(json!({"text": "ROBO"}))).await, [0, 1]);
    ok(
        &app,
        "PUT",
        "/collections/c/index?wait=true",
        Some(json!({"field_name": "uid", "field_schema": "uuid"})),
    )
    .await;
    let uid = json!({"filter": {"must": [{"key": "uid", "match": {"value": "00000000-0000-0000-0000-000000000003"}}]}});
    assert_eq!(scroll_ids(&app, uid).await, [3]);
    let except = json!({"filter": {"must": [{"key": "uid", "match": {"except": ["00000000-0000-0000-0000-000000000003"]}}]}});
    assert_eq!(scroll_ids(&app, except).await, [0, 1, 2, 4]);
}

#[tokio::test]
async fn nested_filters_and_conditional_upserts() {
    let app = app();
    collection(
        &app,
        json!([
            {"id": 1, "vector": [1.0, 0.0], "payload": {"version": 5, "cities": [{"n": "a", "pop": 9}, {"n": "b", "pop": 1}]}},
            {"id": 2, "vector": [1.0, 0.0], "payload": {"version": 1, "cities": [{"n": "a", "pop": 1}, {"n": "b", "pop": 9}]}}
        ]),
    )
    .await;
    let nested = json!({"filter": {"must": [{"nested": {"key": "cities", "filter": {"must": [
        {"key": "n", "match": {"value": "a"}}, {"key": "pop", "range": {"gte": 5}}]}}}]}});
    assert_eq!(scroll_ids(&app, nested).await, [1]);
    let count = ok(
        &app,
        "POST",
        "/collections/c/points/count",
        Some(json!({"filter": {"must": [
        {"nested": {"key": "cities[]", "filter": {"must": [{"key": "pop", "range": {"gte": 5}}]}}}]}})),
    )
    .await;
    assert_eq!(count["count"], 2);
    // update_filter: 1 (version 5) does not match `version < 4`; 3 is new and inserted.
    ok(
        &app,
        "PUT",
        "/collections/c/points?wait=true",
        Some(json!({"points": [{"id": 1, "vector": [0.0, 1.0], "payload": {"version": 4}},
                               {"id": 3, "vector": [0.0, 1.0], "payload": {"version": 4}}],
                    "update_filter": {"must": {"key": "version", "range": {"lt": 4}}}})),
    )
    .await;
    assert_eq!(ok(&app, "GET", "/collections/c/points/1", None).await["payload"]["version"], 5);
    assert_eq!(ok(&app, "GET", "/collections/c/points/3", None).await["payload"]["version"], 4);
    ok(
        &app,
        "PUT",
        "/collections/c/points?wait=true",
        Some(json!({"points": [{"id": 2, "vector": [0.0, 1.0], "payload": {"version": 9}},
                               {"id": 9, "vector": [0.0, 1.0], "payload": {"version": 9}}],
                    "update_mode": "update_only"})),
    )
    .await;
    assert_eq!(ok(&app, "GET", "/collections/c/points/2", None).await["payload"]["version"], 9);
    let (st, _) = status(&app, "GET", "/collections/c/points/9", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    ok(
        &app,
        "PUT",
        "/collections/c/points?wait=true",
        Some(json!({"points": [{"id": 2, "vector": [0.0, 1.0], "payload": {"version": 0}},
                               {"id": 9, "vector": [0.0, 1.0], "payload": {"version": 0}}],
                    "update_mode": "insert_only"})),
    )
    .await;
    assert_eq!(ok(&app, "GET", "/collections/c/points/2", None).await["payload"]["version"], 9);
    assert_eq!(ok(&app, "GET", "/collections/c/points/9", None).await["payload"]["version"], 0);
    // A bad mode or filter is refused and nothing is written.
    for body in [
        json!({"points": [{"id": 7, "vector": [0.0, 1.0]}], "update_mode": "sometimes"}),
        json!({"points": [{"id": 7, "vector": [0.0, 1.0]}], "update_filter": {"must": [{"kee": "x"}]}}),
    ] {
        let (st, b) = status(&app, "PUT", "/collections/c/points?wait=true", Some(body)).await;
        assert!(st.is_client_error(), "{st} {b}");
    }
    let (st, _) = status(&app, "GET", "/collections/c/points/7", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
