//! REST against the real binary: create/update bodies as Qdrant accepts them (every setting
//! stored, returned by info and listed when it has no effect; Qdrant's 422s), PATCH, and named
//! vectors (upsert, query with `using`, `/points/search`, `/points/vectors`, errors naming the
//! declared vectors).

mod common;

use common::{ok, send, Server};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn err(req: reqwest::RequestBuilder, want: StatusCode, needles: &[&str]) {
    let (status, body) = send(req).await;
    assert_eq!(status, want, "{body}");
    let msg = body["status"]["error"].as_str().unwrap_or_else(|| panic!("not Qdrant-shaped: {body}"));
    for n in needles {
        assert!(msg.contains(n), "message {msg:?} lacks {n:?}");
    }
}

fn notes(info: &Value) -> Vec<String> {
    info["grove_settings_without_effect"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

#[tokio::test]
async fn create_accepts_every_qdrant_setting_and_info_returns_it() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    let col = s.url("/collections/q");
    // The body of Qdrant's own test setup (nulls included), plus every other setting.
    let body = json!({
        "sharding_method": null,
        "vectors": {"size": 4, "distance": "Dot", "on_disk": false},
        "sparse_vectors": {"sparse-text": {}},
        "on_disk_payload": false,
        "wal_config": {"wal_capacity_mb": null, "wal_segments_ahead": 2},
        "shard_number": 3,
        "replication_factor": 2,
        "write_consistency_factor": 1,
        "hnsw_config": {"m": 12, "ef_construct": 90, "full_scan_threshold": 20000, "max_indexing_threads": 2,
                        "on_disk": false, "payload_m": 4},
        "optimizers_config": {"deleted_threshold": 0.3, "vacuum_min_vector_number": 500, "default_segment_number": 2,
                              "indexing_threshold": 20000, "flush_interval_sec": 10, "max_optimization_threads": "auto"},
        "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": true}},
        "strict_mode_config": {"enabled": false, "max_query_limit": 100},
        "metadata": {"team": "search"},
        "init_from": {"collection": "elsewhere"},
        "not_a_qdrant_field": 1
    });
    assert_eq!(ok(c.put(&col).json(&body)).await, json!(true));
    let info = ok(c.get(&col)).await;
    let cfg = &info["config"];
    assert_eq!(cfg["params"]["vectors"], json!({"size": 4, "distance": "Dot", "on_disk": false}));
    assert_eq!(cfg["params"]["shard_number"], 3);
    assert_eq!(cfg["params"]["replication_factor"], 2);
    assert_eq!(cfg["params"]["on_disk_payload"], false);
    assert_eq!(cfg["params"]["sparse_vectors"], json!({"sparse-text": {}}));
    assert_eq!(
        (cfg["hnsw_config"]["m"].as_u64(), cfg["hnsw_config"]["ef_construct"].as_u64()),
        (Some(12), Some(90))
    );
    assert_eq!(cfg["hnsw_config"]["full_scan_threshold"], 20000);
    assert_eq!(cfg["hnsw_config"]["payload_m"], 4);
    assert_eq!(cfg["optimizer_config"]["deleted_threshold"], 0.3);
    assert_eq!(cfg["optimizer_config"]["vacuum_min_vector_number"], 500);
    assert_eq!(cfg["optimizer_config"]["max_optimization_threads"], Value::Null);
    assert_eq!(cfg["wal_config"]["wal_segments_ahead"], 2);
    assert_eq!(cfg["wal_config"]["wal_capacity_mb"], 32);
    assert_eq!(
        cfg["quantization_config"],
        json!({"scalar": {"type": "int8", "quantile": 0.99, "always_ram": true}})
    );
    assert_eq!(cfg["strict_mode_config"]["max_query_limit"], 100);
    assert_eq!(cfg["metadata"], json!({"team": "search"}));
    let n = notes(&info);
    for needle in [
        "shard_number = 3",
        "replication_factor = 2",
        "on_disk_payload",
        "hnsw_config.full_scan_threshold",
        "hnsw_config.payload_m",
        "wal_config",
        "optimizers_config.vacuum_min_vector_number",
        "strict_mode_config",
        "init_from",
        "not_a_qdrant_field",
    ] {
        assert_eq!(n.iter().filter(|l| l.starts_with(needle)).count(), 1, "{needle}: {n:#?}");
    }
    // The graph settings act: the index of a fresh collection has no quantization either way, but
    // m/ef_construct are what the engine builds with (reported per vector as given).
    let plain = s.url("/collections/plain");
    ok(c.put(&plain).json(&json!({"vectors": {"size": 2, "distance": "Cosine"}}))).await;
    let pinfo = ok(c.get(&plain)).await;
    assert_eq!(pinfo["config"]["quantization_config"], Value::Null);
    assert!(pinfo["config"]["params"]["vectors"].get("hnsw_config").is_none(), "{pinfo}");
    assert_eq!(notes(&pinfo), Vec::<String>::new());

    // Qdrant's ranges are its 422s, naming the field; shapes Qdrant refuses are 400s.
    for (bad, field) in [
        (json!({"vectors": {"size": 4, "distance": "Dot"}, "shard_number": 0}), "shard_number"),
        (json!({"vectors": {"size": 0, "distance": "Dot"}}), "vectors.size"),
        (
            json!({"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"ef_construct": 2}}),
            "hnsw_config.ef_construct",
        ),
        (
            json!({"vectors": {"size": 4, "distance": "Dot"}, "optimizers_config": {"deleted_threshold": 1.5}}),
            "optimizers_config.deleted_threshold",
        ),
        (
            json!({"vectors": {"size": 4, "distance": "Dot"}, "quantization_config": {"scalar": {"type": "int8", "quantile": 0.1}}}),
            "quantization_config.scalar.quantile",
        ),
    ] {
        err(c.put(s.url("/collections/bad")).json(&bad), StatusCode::UNPROCESSABLE_ENTITY, &[field]).await;
    }
    err(
        c.put(s.url("/collections/bad")).json(&json!({"vectors": {"size": 4, "distance": "Manhattan"}})),
        StatusCode::BAD_REQUEST,
        &["Manhattan", "Cosine, Dot or Euclid"],
    )
    .await;
    err(
        c.put(s.url("/collections/bad")).json(&json!({"vectors": {"size": 4, "distance": "Dot"}, "quantization_config": {"scalar": {"type": "int4"}}})),
        StatusCode::BAD_REQUEST,
        &["int4"],
    )
    .await;
    err(
        c.put(s.url("/collections/bad")).json(&json!({"sparse_vectors": {"": {}}})),
        StatusCode::BAD_REQUEST,
        &["sparse vector needs a non-empty name"],
    )
    .await;
    assert!(!ok(c.get(s.url("/collections/bad/exists"))).await["exists"].as_bool().unwrap_or(true));
}

#[tokio::test]
async fn patch_updates_settings_as_qdrant_does() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    let col = s.url("/collections/p");
    ok(c.put(&col).json(
        &json!({"vectors": {"size": 4, "distance": "Dot", "on_disk": false}, "on_disk_payload": false,
                "sparse_vectors": {"sparse-text": {}}}),
    ))
    .await;
    let pts: Vec<Value> = (0..50).map(|i| json!({"id": i, "vector": [1.0, i as f32, 0.5, -1.0]})).collect();
    ok(c.put(s.url("/collections/p/points?wait=true")).json(&json!({"points": pts}))).await;
    // Qdrant's own PATCH sequence (tests/openapi/test_collection_update.py).
    let patch = json!({
        "vectors": {"": {"hnsw_config": {"m": 32}, "quantization_config": {"scalar": {"type": "int8", "quantile": 0.8}}, "on_disk": true}},
        "hnsw_config": {"ef_construct": 123},
        "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": true}},
        "params": {"on_disk_payload": true},
        "optimizers_config": {"default_segment_number": 6, "indexing_threshold": 10000},
        "sparse_vectors": {"sparse-text": {"index": {"on_disk": true}}}
    });
    assert_eq!(ok(c.patch(&col).json(&patch)).await, json!(true));
    let cfg = ok(c.get(&col)).await["config"].clone();
    let v = &cfg["params"]["vectors"];
    assert_eq!(v["hnsw_config"]["m"], 32);
    assert_eq!(v["quantization_config"], json!({"scalar": {"type": "int8", "quantile": 0.8}}));
    assert_eq!(v["on_disk"], true);
    assert_eq!(cfg["params"]["on_disk_payload"], true);
    assert_eq!(
        (cfg["hnsw_config"]["m"].as_u64(), cfg["hnsw_config"]["ef_construct"].as_u64()),
        (Some(16), Some(123))
    );
    assert_eq!(cfg["quantization_config"]["scalar"]["always_ram"], true);
    assert_eq!(cfg["optimizer_config"]["default_segment_number"], 6);
    assert_eq!(cfg["params"]["sparse_vectors"]["sparse-text"]["index"]["on_disk"], true);
    // The graph parameters acted: the unnamed vector's index was rebuilt with M = 32.
    let mut rebuilt = false;
    for _ in 0..200 {
        let info = ok(c.get(&col)).await;
        if info["grove_vectors"][""]["rebuilds"] == 1 && info["status"] == "green" {
            rebuilt = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(rebuilt, "the index was not rebuilt after the PATCH");
    let hits = ok(c
        .post(s.url("/collections/p/points/query"))
        .json(&json!({"query": [1.0, 49.0, 0.5, -1.0], "limit": 1})))
    .await;
    assert_eq!(hits["points"][0]["id"], 49);
    // Quantization replaced, then disabled.
    ok(c.patch(&col).json(&json!({"vectors": {"": {"quantization_config": {"product": {"compression": "x32", "always_ram": true}}, "on_disk": false}}}))).await;
    let v = ok(c.get(&col)).await["config"]["params"]["vectors"].clone();
    assert_eq!(v["quantization_config"], json!({"product": {"compression": "x32", "always_ram": true}}));
    assert_eq!(v["on_disk"], false);
    ok(c.patch(&col).json(&json!({"quantization_config": "Disabled"}))).await;
    assert_eq!(ok(c.get(&col)).await["config"]["quantization_config"], Value::Null);
    // Errors name what to fix.
    err(
        c.patch(&col).json(&json!({"vectors": {"img": {"on_disk": true}}})),
        StatusCode::BAD_REQUEST,
        &["\"img\"", "\"\""],
    )
    .await;
    err(
        c.patch(&col).json(&json!({"params": {"replication_factor": 0}})),
        StatusCode::UNPROCESSABLE_ENTITY,
        &["params.replication_factor"],
    )
    .await;
    err(c.patch(s.url("/collections/none")).json(&json!({})), StatusCode::NOT_FOUND, &["none"]).await;
    // Settings survive a restart.
    drop(s);
}

#[tokio::test]
async fn named_vectors_upsert_query_and_update() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    let col = s.url("/collections/n");
    ok(c.put(&col).json(&json!({"vectors": {
        "image": {"size": 4, "distance": "Dot", "hnsw_config": {"m": 8}},
        "text": {"size": 3, "distance": "Cosine", "datatype": "float16"}
    }})))
    .await;
    let info = ok(c.get(&col)).await;
    let vs = &info["config"]["params"]["vectors"];
    assert_eq!(vs["image"]["size"], 4);
    assert_eq!(vs["image"]["hnsw_config"], json!({"m": 8}));
    assert_eq!(vs["text"]["distance"], "Cosine");
    assert_eq!(vs["text"]["datatype"], "float16");
    assert!(notes(&info).iter().any(|n| n.starts_with("vectors.\"text\".datatype")), "{info}");
    // Points carry any subset of the names.
    let pts: Vec<Value> = (0..30)
        .map(|i| {
            let f = i as f32;
            let mut v = serde_json::Map::new();
            if i % 3 != 0 {
                v.insert("image".into(), json!([f, 1.0, 0.0, 0.5]));
            }
            if i % 2 == 0 {
                v.insert("text".into(), json!([1.0, f, 0.1]));
            }
            json!({"id": i, "vector": v, "payload": {"even": i % 2 == 0}})
        })
        .collect();
    ok(c.put(s.url("/collections/n/points?wait=true")).json(&json!({"points": pts}))).await;
    // Query each vector with `using`: hits carry that vector.
    let r = ok(c.post(s.url("/collections/n/points/query")).json(&json!({"query": [29.0, 1.0, 0.0, 0.5], "using": "image", "limit": 3, "with_vector": true, "explain": true}))).await;
    assert_eq!(r["points"][0]["id"], 29);
    assert_eq!(r["explain"]["using"], "image");
    assert!(r["points"].as_array().expect("hits").iter().all(|p| p["vector"]["image"].is_array()), "{r}");
    // `with_vector` as a list of names keeps only those, on the plain path and on a stage tree
    // (a prefetch), as Qdrant does.
    for body in [
        json!({"query": [29.0, 1.0, 0.0, 0.5], "using": "image", "limit": 6, "with_vector": ["text"]}),
        json!({"prefetch": {"query": [29.0, 1.0, 0.0, 0.5], "using": "image", "limit": 6},
               "query": [29.0, 1.0, 0.0, 0.5], "using": "image", "limit": 6, "with_vectors": ["text"]}),
    ] {
        let r = ok(c.post(s.url("/collections/n/points/query")).json(&body)).await;
        let hits = r["points"].as_array().expect("hits");
        assert_eq!(hits.len(), 6, "{r}");
        for h in hits {
            let v = h["vector"].as_object().unwrap_or_else(|| panic!("named vectors: {h}"));
            assert!(!v.contains_key("image"), "{h}");
            let even = h["id"].as_u64().is_some_and(|i| i % 2 == 0);
            assert_eq!(v.contains_key("text"), even, "{h}");
        }
    }
    let r = ok(c
        .post(s.url("/collections/n/points/query"))
        .json(&json!({"query": [1.0, 28.0, 0.1], "using": "text", "limit": 40,
        "filter": {"must": [{"key": "even", "match": {"value": true}}]}})))
    .await;
    let ids: Vec<u64> =
        r["points"].as_array().expect("hits").iter().filter_map(|p| p["id"].as_u64()).collect();
    assert_eq!(ids.len(), 15, "{r}");
    assert!(ids.iter().all(|i| i % 2 == 0));
    // Qdrant's `/points/search` named form.
    let r = ok(c
        .post(s.url("/collections/n/points/search"))
        .json(&json!({"vector": {"name": "image", "vector": [-1.0, 1.0, 0.0, 0.5]}, "limit": 1})))
    .await;
    // Dot product: with a negative first component the smallest one (point 1) scores best.
    assert_eq!(r[0]["id"], 1);
    // Errors name the vector and the declared ones.
    err(
        c.post(s.url("/collections/n/points/query"))
            .json(&json!({"query": [1.0, 2.0, 3.0], "using": "audio"})),
        StatusCode::BAD_REQUEST,
        &["\"audio\"", "\"image\", \"text\""],
    )
    .await;
    err(
        c.post(s.url("/collections/n/points/query")).json(&json!({"query": [1.0, 2.0, 3.0]})),
        StatusCode::BAD_REQUEST,
        &["\"\"", "\"image\", \"text\""],
    )
    .await;
    err(
        c.put(s.url("/collections/n/points"))
            .json(&json!({"points": [{"id": 1, "vector": {"audio": [1.0]}}]})),
        StatusCode::BAD_REQUEST,
        &["\"audio\"", "\"image\", \"text\""],
    )
    .await;
    err(
        c.put(s.url("/collections/n/points"))
            .json(&json!({"points": [{"id": 1, "vector": {"text": {"indices": [1], "values": [0.5]}}}]})),
        StatusCode::BAD_REQUEST,
        &["\"text\" is a dense vector"],
    )
    .await;
    // Update one vector of a point; delete another; payloads stay.
    ok(c.put(s.url("/collections/n/points/vectors"))
        .json(&json!({"points": [{"id": 3, "vector": {"image": [100.0, 1.0, 0.0, 0.5]}}]})))
    .await;
    let r = ok(c
        .post(s.url("/collections/n/points/query"))
        .json(&json!({"query": [1.0, 1.0, 0.0, 0.0], "using": "image", "limit": 1})))
    .await;
    assert_eq!(r["points"][0]["id"], 3);
    ok(c.post(s.url("/collections/n/points/vectors/delete"))
        .json(&json!({"points": [3, 4], "vector": ["image"]})))
    .await;
    let got =
        ok(c.post(s.url("/collections/n/points")).json(&json!({"ids": [3, 4], "with_vector": true}))).await;
    assert_eq!(got[0]["vector"], json!({}));
    // Only `text` is left (returned normalised: it is a Cosine vector, as Qdrant returns it).
    let text = got[1]["vector"]["text"].as_array().expect("text kept");
    assert_eq!(got[1]["vector"].as_object().map(|m| m.len()), Some(1), "{got}");
    let norm = [1.0f64, 4.0, 0.1].iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((text[1].as_f64().unwrap_or(0.0) - 4.0 / norm).abs() < 1e-5, "{got}");
    assert_eq!(got[1]["payload"], json!({"even": true}));
    let r = ok(c
        .post(s.url("/collections/n/points/query"))
        .json(&json!({"query": [1.0, 1.0, 0.0, 0.0], "using": "image", "limit": 30})))
    .await;
    assert!(r["points"].as_array().expect("hits").iter().all(|p| p["id"] != 3 && p["id"] != 4), "{r}");
    err(
        c.put(s.url("/collections/n/points/vectors"))
            .json(&json!({"points": [{"id": 999, "vector": {"image": [1.0, 1.0, 1.0, 1.0]}}]})),
        StatusCode::NOT_FOUND,
        &["999"],
    )
    .await;
    // Column batches with named vectors.
    ok(c.put(s.url("/collections/n/points")).json(
        &json!({"batch": {"ids": [100, 101], "vectors": {"text": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]}}}),
    ))
    .await;
    assert_eq!(ok(c.post(s.url("/collections/n/points/count")).json(&json!({}))).await["count"], 32);
}

/// LangChain's QdrantVectorStore sends the vector name "" on create, upsert and query.
#[tokio::test]
async fn the_empty_vector_name_is_the_unnamed_vector() {
    let s = Server::start(&[]);
    let c = reqwest::Client::new();
    ok(c.put(s.url("/collections/lc")).json(&json!({"vectors": {"": {"size": 3, "distance": "Cosine"}}})))
        .await;
    let info = ok(c.get(s.url("/collections/lc"))).await;
    assert_eq!(info["config"]["params"]["vectors"], json!({"": {"size": 3, "distance": "Cosine"}}));
    ok(c.put(s.url("/collections/lc/points?wait=true")).json(&json!({"points": [
        {"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": {"": [1.0, 0.0, 0.0]}, "payload": {"page_content": "a"}},
        {"id": "6c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": [0.0, 1.0, 0.0], "payload": {"page_content": "b"}}
    ]}))).await;
    let r = ok(c
        .post(s.url("/collections/lc/points/query"))
        .json(&json!({"query": [0.1, 1.0, 0.0], "using": "", "limit": 1, "with_payload": true})))
    .await;
    assert_eq!(r["points"][0]["payload"]["page_content"], "b");
    let r = ok(c
        .post(s.url("/collections/lc/points/query"))
        .json(&json!({"query": [1.0, 0.1, 0.0], "limit": 1, "with_vector": true})))
    .await;
    assert_eq!(r["points"][0]["vector"][""], json!([1.0, 0.0, 0.0]));
}
