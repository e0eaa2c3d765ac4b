//! The stop signal end to end, over the router with in-memory storage: a calibration that
//! outlives the request timeout is stopped in the engine (its CPU and its analysis slot are
//! released, so searches and the next calibration run), calibrations beyond
//! `service.analysis_threads` are refused with 503, and size-driving calibration parameters get
//! a 400 naming the field.

use std::time::{Duration, Instant};

mod common;

use axum::http::StatusCode;
use common::oneshot::call;
use grove_server::config::Config;
use grove_server::service::Service;
use serde_json::{json, Value};

const DIM: usize = 32;
/// 20,000 points and 10,000 sampled queries: the exact baseline plus 3 prefixes x 6 default
/// oversamples is ~3.8 billion distance computations, tens of seconds of CPU, far past the
/// 1 s request timeout.
const POINTS: u64 = 20_000;

fn app() -> axum::Router {
    let mut cfg = Config::default();
    cfg.service.request_timeout_secs = 1;
    cfg.service.search_threads = 1;
    cfg.service.analysis_threads = 1;
    let service = Service::new(cfg).expect("service");
    service.attach_storage(grove_storage::Storage::in_memory());
    grove_server::rest::router(service)
}

/// Deterministic (seedless, arithmetic) vectors.
fn vector(i: u64) -> Vec<f32> {
    (0..DIM).map(|j| ((i * 7919 + j as u64 * 104_729) % 1000) as f32 / 500.0 - 1.0).collect()
}

async fn collection(app: &axum::Router) {
    let (st, body) = call(
        app,
        "PUT",
        "/collections/m",
        Some(json!({"vectors": {"size": DIM, "distance": "Cosine"}, "matryoshka": {"dims": [4, 8, 16]}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    for start in (0..POINTS).step_by(2000) {
        let pts: Vec<Value> = (start..start + 2000).map(|i| json!({"id": i, "vector": vector(i)})).collect();
        let (st, body) =
            call(app, "PUT", "/collections/m/points?wait=true", Some(json!({"points": pts}))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
    }
}

fn long_calibration() -> Value {
    json!({"sample": 10_000})
}

async fn query(app: &axum::Router) -> (StatusCode, Value) {
    call(app, "POST", "/collections/m/points/query", Some(json!({"query": vector(7), "limit": 5}))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_calibration_releases_the_cpu_and_its_slot() {
    let app = app();
    collection(&app).await;
    let t = Instant::now();
    let (st, body) =
        call(&app, "POST", "/collections/m/matryoshka/calibrate", Some(long_calibration())).await;
    assert_eq!(st, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(t.elapsed() < Duration::from_secs(5), "the timeout answer took {:?}", t.elapsed());

    // A normal search still answers within the timeout.
    let (st, body) = query(&app).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["points"].as_array().map(Vec::len), Some(5), "{body}");

    // The analysis slot is freed once the job has really ended on its pool: a stopped
    // calibration frees it within moments, one still running (tens of seconds) would not.
    let small = json!({"sample": 20, "oversamples": [1, 2]});
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (st, body) = call(&app, "POST", "/collections/m/matryoshka/calibrate", Some(small.clone())).await;
        if st == StatusCode::OK {
            assert_eq!(body["result"]["queries"], 20, "{body}");
            break;
        }
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(Instant::now() < deadline, "the stopped calibration still holds its slot: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calibrations_over_the_cap_are_refused_and_sizes_are_bounded() {
    let app = app();
    collection(&app).await;
    let first = {
        let app = app.clone();
        tokio::spawn(async move {
            call(&app, "POST", "/collections/m/matryoshka/calibrate", Some(long_calibration())).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (st, body) =
        call(&app, "POST", "/collections/m/matryoshka/calibrate", Some(long_calibration())).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let msg = body["status"]["error"].as_str().unwrap_or_default();
    assert!(msg.contains("service.analysis_threads"), "{msg:?}");
    // The subset diagnostic shares the cap.
    let diag = json!({"queries": [{"vector": vector(1), "relevant": [1]}], "k": [1]});
    let (st, body) = call(&app, "POST", "/collections/m/diagnostics/subsets", Some(diag)).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // Searches are not affected by the cap.
    let (st, body) = query(&app).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, body) = first.await.expect("first calibration");
    assert_eq!(st, StatusCode::GATEWAY_TIMEOUT, "{body}");

    // Size-driving parameters: 400 naming the field, before any work is queued.
    for (req, field) in [
        (json!({"oversamples": [1_000_000]}), "oversamples"),
        (json!({"oversamples": (1..=17).collect::<Vec<u32>>()}), "oversamples"),
        (json!({"sample": 10_001}), "sample"),
    ] {
        let (st, body) = call(&app, "POST", "/collections/m/matryoshka/calibrate", Some(req)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        let msg = body["status"]["error"].as_str().unwrap_or_default();
        assert!(msg.contains(field), "{msg:?} lacks {field:?}");
    }
    // A query's oversample is bounded too.
    let q = json!({"query": vector(3), "limit": 10, "params": {"matryoshka": {"dim": 8, "oversample": 1_000_000}}});
    let (st, body) = call(&app, "POST", "/collections/m/points/query", Some(q)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["status"]["error"].as_str().unwrap_or_default().contains("oversample"), "{body}");
}
