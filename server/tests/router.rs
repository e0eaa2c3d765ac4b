//! Router-level tests: the axum application driven with `tower::ServiceExt::oneshot`, over the
//! in-memory storage (no sockets, no disk).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::oneshot::call;
use grove_server::config::Config;
use grove_server::service::Service;
use serde_json::json;
use tower::ServiceExt;

fn app() -> axum::Router {
    let service = Service::new(Config::default()).expect("service");
    service.attach_storage(grove_storage::Storage::in_memory());
    grove_server::rest::router(service)
}

#[tokio::test]
async fn create_upsert_query_over_the_router() {
    let app = app();
    let (st, body) =
        call(&app, "PUT", "/collections/r", Some(json!({"vectors": {"size": 2, "distance": "Dot"}}))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["result"], true);
    let (st, body) = call(
        &app,
        "PUT",
        "/collections/r/points",
        Some(json!({"points": [{"id": 1, "vector": [1.0, 0.0]}, {"id": 2, "vector": [0.0, 1.0]}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, body) =
        call(&app, "POST", "/collections/r/points/query", Some(json!({"query": [0.1, 0.9], "limit": 1})))
            .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["points"][0]["id"], 2);
    assert!((body["result"]["points"][0]["score"].as_f64().expect("score") - 0.9).abs() < 1e-6);
}

#[tokio::test]
async fn rejections_are_qdrant_shaped() {
    let app = app();
    let (st, body) = call(&app, "GET", "/collections/none", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(body["status"]["error"].as_str().expect("message").contains("none"));
    let (st, body) = call(&app, "DELETE", "/", None).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["status"]["error"].is_string());
    let (st, body) = call(&app, "POST", "/collections/r/points/query", Some(json!({"query": true}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body["status"]["error"].as_str().expect("message").contains("JSON"), "{body}");
}

#[tokio::test]
async fn readiness_waits_for_storage() {
    let service = Service::new(Config::default()).expect("service");
    let app = grove_server::rest::router(service.clone());
    let resp =
        app.clone().oneshot(Request::get("/readyz").body(Body::empty()).expect("req")).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (st, body) = call(&app, "GET", "/collections", None).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    service.attach_storage(grove_storage::Storage::in_memory());
    let resp = app.oneshot(Request::get("/readyz").body(Body::empty()).expect("req")).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn recover_locations_that_are_not_archives_are_400_and_do_not_hang() {
    // Regression: a NUL byte in the location was a 500, and a FIFO blocked a write thread.
    let app = app();
    let (st, _) =
        call(&app, "PUT", "/collections/r", Some(json!({"vectors": {"size": 2, "distance": "Dot"}}))).await;
    assert_eq!(st, StatusCode::OK);
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let cases = [
        ("file:///tmp/a\u{0}b".to_string(), "NUL"),
        (format!("file://{}", fifo.display()), "not a regular file"),
        (fifo.display().to_string(), "not a regular file"),
        (dir.path().display().to_string(), "not a regular file"),
    ];
    for (location, needle) in cases {
        let call =
            call(&app, "PUT", "/collections/r/snapshots/recover", Some(json!({ "location": location })));
        let (st, body) = tokio::time::timeout(std::time::Duration::from_secs(20), call)
            .await
            .unwrap_or_else(|_| panic!("recover from {location:?} hung"));
        assert_eq!(st, StatusCode::BAD_REQUEST, "{location:?}: {body}");
        let msg = body["status"]["error"].as_str().expect("message");
        assert!(msg.contains(needle), "{location:?}: {msg}");
    }
}
