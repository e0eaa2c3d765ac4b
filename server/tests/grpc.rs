//! gRPC against the real binary with the generated tonic clients: every method, streaming batch
//! query, error codes for bad input, auth refusals.

mod common;

use common::Server;
use grove_proto::v1 as pb;
use grove_proto::v1::collections_client::CollectionsClient;
use grove_proto::v1::health_client::HealthClient;
use grove_proto::v1::points_client::PointsClient;
use grove_proto::v1::snapshots_client::SnapshotsClient;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::{Code, Request};

fn id(n: u64) -> pb::PointId {
    pb::PointId { kind: Some(pb::point_id::Kind::Num(n)) }
}

fn kw(key: &str, v: &str) -> pb::Condition {
    pb::Condition {
        kind: Some(pb::condition::Kind::Field(Box::new(pb::FieldCondition {
            key: key.into(),
            r#match: Some(pb::Match { kind: Some(pb::r#match::Kind::Keyword(v.into())) }),
            ..Default::default()
        }))),
    }
}

fn str_value(s: &str) -> pb::Value {
    pb::Value { kind: Some(pb::value::Kind::StringValue(s.into())) }
}

fn int_value(i: i64) -> pb::Value {
    pb::Value { kind: Some(pb::value::Kind::IntegerValue(i)) }
}

fn point(n: u64) -> pb::PointStruct {
    let x = n as f32;
    pb::PointStruct {
        id: Some(id(n)),
        vector: Some(pb::Vector { data: vec![1.0, x, x * 0.5, 1.0 - x * 0.01] }),
        payload: [
            ("cat".to_owned(), str_value(if n.is_multiple_of(2) { "even" } else { "odd" })),
            ("n".to_owned(), int_value(n as i64)),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    }
}

async fn channel(s: &Server) -> Channel {
    Channel::from_shared(s.grpc_url()).expect("uri").connect().await.expect("connect")
}

fn query(name: &str, v: Vec<f32>, limit: u64) -> pb::QueryRequest {
    pb::QueryRequest {
        collection_name: name.into(),
        query: Some(pb::Vector { data: v }),
        limit,
        ..Default::default()
    }
}

#[tokio::test]
async fn every_method_round_trips() {
    let s = Server::start(&[]);
    let ch = channel(&s).await;
    let (mut cols, mut pts, mut snaps, mut health) = (
        CollectionsClient::new(ch.clone()),
        PointsClient::new(ch.clone()),
        SnapshotsClient::new(ch.clone()),
        HealthClient::new(ch),
    );

    let h = health.check(pb::HealthCheckRequest {}).await.expect("health").into_inner();
    assert!(h.ready && !h.version.is_empty());

    let create = pb::CreateCollectionRequest {
        collection_name: "g".into(),
        vectors: Some(pb::VectorParams {
            size: 4,
            distance: pb::Distance::Cosine as i32,
            ..Default::default()
        }),
        hnsw_config: Some(pb::HnswConfig { m: Some(8), ..Default::default() }),
        matryoshka: None,
        ..Default::default()
    };
    assert!(cols.create(create.clone()).await.expect("create").into_inner().result);
    assert_eq!(cols.create(create).await.expect_err("dup").code(), Code::AlreadyExists);
    let list = cols.list(pb::ListCollectionsRequest {}).await.expect("list").into_inner();
    assert_eq!(list.collection_names, vec!["g".to_owned()]);
    cols.create_field_index(pb::CreateFieldIndexRequest {
        collection_name: "g".into(),
        field_name: "cat".into(),
        field_schema: pb::PayloadSchemaType::Keyword as i32,
    })
    .await
    .expect("index");

    let up = pts
        .upsert(pb::UpsertPointsRequest {
            collection_name: "g".into(),
            points: (0..20).map(point).collect(),
            wait: true,
        })
        .await
        .expect("upsert")
        .into_inner();
    assert_eq!(up.result.expect("result").status, "completed");

    let info =
        cols.get(pb::GetCollectionRequest { collection_name: "g".into() }).await.expect("get").into_inner();
    let info = info.info.expect("info");
    assert_eq!(info.points_count, 20);
    assert_eq!(info.hnsw_config.expect("hnsw").m, Some(8));
    assert_eq!(info.payload_schema.len(), 1);

    let got = pts
        .get(pb::GetPointsRequest {
            collection_name: "g".into(),
            ids: vec![id(3), id(99)],
            with_payload: None,
            with_vector: true,
        })
        .await
        .expect("get points")
        .into_inner();
    assert_eq!(got.result.len(), 1);
    assert_eq!(got.result[0].payload["n"], int_value(3));
    assert_eq!(got.result[0].vector.as_ref().expect("vector").data.len(), 4);

    // Filtered query with explain, forced exact.
    let mut q = query("g", vec![1.0, 3.0, 1.5, 0.97], 3);
    q.filter = Some(pb::Filter { must: vec![kw("cat", "odd")], ..Default::default() });
    q.explain = true;
    q.with_payload =
        Some(pb::WithPayloadSelector { kind: Some(pb::with_payload_selector::Kind::Enable(true)) });
    q.params = Some(pb::SearchParams { strategy: pb::Strategy::Exact as i32, ..Default::default() });
    let r = pts.query(q).await.expect("query").into_inner();
    assert_eq!(r.result.len(), 3);
    assert_eq!(r.result[0].id, Some(id(3)));
    assert!(r.result.iter().all(|p| p.payload["cat"] == str_value("odd")));
    let explain = r.explain.expect("explain");
    assert_eq!((explain.path.as_str(), explain.allowed_points), ("exact", 10));
    let fex = explain.filter.expect("filter explain");
    assert_eq!(
        (fex.cardinality, fex.indexed_fields, fex.unindexed_fields),
        (10, vec!["cat".to_owned()], vec![])
    );
    let mut q = query("g", vec![1.0, 3.0, 1.5, 0.97], 3);
    q.filter = Some(pb::Filter { must: vec![kw("cat", "odd"), kw("n_text", "x")], ..Default::default() });
    q.explain = true;
    let fex =
        pts.query(q).await.expect("query").into_inner().explain.expect("explain").filter.expect("filter");
    assert_eq!(
        (fex.cardinality, fex.unindexed_fields, fex.payloads_scanned),
        (0, vec!["n_text".to_owned()], 20)
    );
    let mut q = query("g", vec![1.0, 3.0, 1.5, 0.97], 3);
    q.explain = true;
    assert!(pts.query(q).await.expect("query").into_inner().explain.expect("explain").filter.is_none());

    // Streaming batch: every index answered once.
    let batch = pb::QueryBatchRequest {
        collection_name: "g".into(),
        queries: (0..10)
            .map(|i| query("", vec![1.0, i as f32, i as f32 * 0.5, 1.0 - i as f32 * 0.01], 1))
            .collect(),
    };
    let mut stream = pts.query_batch(batch).await.expect("batch").into_inner();
    let mut seen = [false; 10];
    while let Some(item) = stream.next().await {
        let item = item.expect("item");
        assert_eq!(item.result[0].id, Some(id(u64::from(item.index))), "query i is nearest to point i");
        seen[item.index as usize] = true;
    }
    assert!(seen.iter().all(|s| *s));

    let page = pts
        .scroll(pb::ScrollRequest {
            collection_name: "g".into(),
            filter: Some(pb::Filter { must: vec![kw("cat", "even")], ..Default::default() }),
            limit: 4,
            ..Default::default()
        })
        .await
        .expect("scroll")
        .into_inner();
    assert_eq!(
        page.result.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        vec![Some(id(0)), Some(id(2)), Some(id(4)), Some(id(6))]
    );
    assert_eq!(page.next_page_offset, Some(id(8)));
    let count =
        |f: Option<pb::Filter>| pb::CountRequest { collection_name: "g".into(), filter: f, exact: true };
    assert_eq!(pts.count(count(None)).await.expect("count").into_inner().count, 20);

    let sel = |ids: Vec<u64>| {
        Some(pb::PointsSelector {
            kind: Some(pb::points_selector::Kind::Points(pb::PointIdList {
                ids: ids.into_iter().map(id).collect(),
            })),
        })
    };
    pts.set_payload(pb::SetPayloadRequest {
        collection_name: "g".into(),
        payload: [("x".to_owned(), int_value(1))].into_iter().collect(),
        points: sel(vec![1]),
        overwrite: false,
        wait: true,
    })
    .await
    .expect("set payload");
    pts.delete_payload(pb::DeletePayloadRequest {
        collection_name: "g".into(),
        keys: vec!["n".into()],
        points: sel(vec![1]),
        wait: true,
    })
    .await
    .expect("delete payload");
    pts.clear_payload(pb::ClearPayloadRequest {
        collection_name: "g".into(),
        points: sel(vec![2]),
        wait: true,
    })
    .await
    .expect("clear");
    let got = pts
        .get(pb::GetPointsRequest {
            collection_name: "g".into(),
            ids: vec![id(1), id(2)],
            ..Default::default()
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.result[0].payload.len(), 2, "cat and x remain on point 1");
    assert!(got.result[0].payload.contains_key("x") && !got.result[0].payload.contains_key("n"));
    assert!(got.result[1].payload.is_empty());

    let by_filter = Some(pb::PointsSelector {
        kind: Some(pb::points_selector::Kind::Filter(pb::Filter {
            must: vec![kw("cat", "even")],
            ..Default::default()
        })),
    });
    pts.delete(pb::DeletePointsRequest { collection_name: "g".into(), points: by_filter, wait: true })
        .await
        .expect("delete");
    pts.delete(pb::DeletePointsRequest { collection_name: "g".into(), points: sel(vec![1, 3]), wait: true })
        .await
        .expect("delete ids");
    // 20 points - 9 even ones (point 2's payload was cleared, so `cat = even` misses it) - ids 1, 3.
    assert_eq!(pts.count(count(None)).await.expect("count").into_inner().count, 9);

    let snap = snaps
        .create(pb::CreateSnapshotRequest { collection_name: "g".into() })
        .await
        .expect("snapshot")
        .into_inner();
    let name = snap.snapshot.expect("snapshot").name;
    let list = snaps
        .list(pb::ListSnapshotsRequest { collection_name: "g".into() })
        .await
        .expect("list")
        .into_inner();
    assert!(list.snapshots.iter().any(|s| s.name == name));

    cols.delete_field_index(pb::DeleteFieldIndexRequest {
        collection_name: "g".into(),
        field_name: "cat".into(),
    })
    .await
    .expect("delete index");
    assert!(
        cols.delete(pb::DeleteCollectionRequest { collection_name: "g".into() })
            .await
            .expect("delete")
            .into_inner()
            .result
    );
    assert_eq!(
        cols.get(pb::GetCollectionRequest { collection_name: "g".into() }).await.expect_err("gone").code(),
        Code::NotFound
    );

    // The gRPC calls were counted per method.
    let metrics = reqwest::get(s.url("/metrics")).await.expect("metrics").text().await.expect("text");
    assert!(
        metrics.contains("grove_grpc_requests_total{method=\"Points/Query\",code=\"Ok\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("grove_grpc_requests_total{method=\"Collections/Create\",code=\"AlreadyExists\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn bad_input_gets_client_error_codes() {
    let s = Server::start(&["--limits-max-limit", "50"]);
    let ch = channel(&s).await;
    let (mut cols, mut pts) = (CollectionsClient::new(ch.clone()), PointsClient::new(ch));
    cols.create(pb::CreateCollectionRequest {
        collection_name: "b".into(),
        vectors: Some(pb::VectorParams { size: 4, distance: pb::Distance::Dot as i32, ..Default::default() }),
        hnsw_config: None,
        matryoshka: None,
        ..Default::default()
    })
    .await
    .expect("create");
    let code = |r: Result<tonic::Response<pb::QueryResponse>, tonic::Status>| r.expect_err("must fail");

    // Wrong dimension.
    let e = code(pts.query(query("b", vec![1.0], 3)).await);
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("dimension"), "{}", e.message());
    let e = pts
        .upsert(pb::UpsertPointsRequest {
            collection_name: "b".into(),
            points: vec![pb::PointStruct {
                id: Some(id(1)),
                vector: Some(pb::Vector { data: vec![1.0] }),
                payload: Default::default(),
                ..Default::default()
            }],
            wait: true,
        })
        .await
        .expect_err("dim");
    assert_eq!(e.code(), Code::InvalidArgument);
    // Unknown collection.
    assert_eq!(code(pts.query(query("nope", vec![1.0, 0.0, 0.0, 0.0], 3)).await).code(), Code::NotFound);
    // Missing required fields, unknown enum value, bad uuid.
    let mut q = query("b", vec![1.0, 0.0, 0.0, 0.0], 3);
    q.query = None;
    assert_eq!(code(pts.query(q).await).code(), Code::InvalidArgument);
    let mut q = query("b", vec![1.0, 0.0, 0.0, 0.0], 3);
    q.params = Some(pb::SearchParams { strategy: 42, ..Default::default() });
    assert_eq!(code(pts.query(q).await).code(), Code::InvalidArgument);
    let mut q = query("b", vec![1.0, 0.0, 0.0, 0.0], 3);
    q.filter = Some(pb::Filter { must: vec![pb::Condition { kind: None }], ..Default::default() });
    assert_eq!(code(pts.query(q).await).code(), Code::InvalidArgument);
    let e = pts
        .get(pb::GetPointsRequest {
            collection_name: "b".into(),
            ids: vec![pb::PointId { kind: Some(pb::point_id::Kind::Uuid("zzz".into())) }],
            ..Default::default()
        })
        .await
        .expect_err("uuid");
    assert_eq!(e.code(), Code::InvalidArgument);
    // Limit.
    let e = code(pts.query(query("b", vec![1.0, 0.0, 0.0, 0.0], 51)).await);
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("max_limit"), "{}", e.message());
    // A bad query inside a batch fails the whole call before any work, naming the query.
    let batch = pb::QueryBatchRequest {
        collection_name: "b".into(),
        queries: vec![query("", vec![1.0, 0.0, 0.0, 0.0], 1), query("", vec![1.0, 0.0, 0.0, 0.0], 99)],
    };
    let e = pts.query_batch(batch).await.expect_err("batch");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("query 1"), "{}", e.message());
}

#[tokio::test]
async fn api_keys_are_enforced_in_metadata() {
    let s = Server::start(&["--security-api-key", "admin-key", "--security-read-only-api-key", "ro-key"]);
    let ch = channel(&s).await;
    let (mut cols, mut pts, mut health) =
        (CollectionsClient::new(ch.clone()), PointsClient::new(ch.clone()), HealthClient::new(ch));
    let with_key = |key: &str, msg: pb::ListCollectionsRequest| {
        let mut r = Request::new(msg);
        r.metadata_mut().insert("api-key", key.parse().expect("ascii"));
        r
    };
    // Health is public.
    health.check(pb::HealthCheckRequest {}).await.expect("health");
    assert_eq!(
        cols.list(pb::ListCollectionsRequest {}).await.expect_err("no key").code(),
        Code::Unauthenticated
    );
    assert_eq!(
        cols.list(with_key("bad", pb::ListCollectionsRequest {})).await.expect_err("bad").code(),
        Code::Unauthenticated
    );
    cols.list(with_key("ro-key", pb::ListCollectionsRequest {})).await.expect("read with ro key");

    let create = pb::CreateCollectionRequest {
        collection_name: "a".into(),
        vectors: Some(pb::VectorParams {
            size: 2,
            distance: pb::Distance::Cosine as i32,
            ..Default::default()
        }),
        hnsw_config: None,
        matryoshka: None,
        ..Default::default()
    };
    let mut r = Request::new(create.clone());
    r.metadata_mut().insert("api-key", "ro-key".parse().expect("ascii"));
    assert_eq!(cols.create(r).await.expect_err("ro write").code(), Code::PermissionDenied);
    let mut r = Request::new(create);
    r.metadata_mut().insert("authorization", "Bearer admin-key".parse().expect("ascii"));
    cols.create(r).await.expect("admin write");
    let mut r = Request::new(query("a", vec![1.0, 0.0], 1));
    r.metadata_mut().insert("api-key", "ro-key".parse().expect("ascii"));
    pts.query(r).await.expect("ro query");
}

#[tokio::test]
async fn snapshots_delete_recover_download() {
    let s = Server::start(&[]);
    let ch = channel(&s).await;
    let (mut cols, mut pts, mut snaps) =
        (CollectionsClient::new(ch.clone()), PointsClient::new(ch.clone()), SnapshotsClient::new(ch));
    let create = |name: &str, size: u64| pb::CreateCollectionRequest {
        collection_name: name.into(),
        vectors: Some(pb::VectorParams { size, distance: pb::Distance::Cosine as i32, ..Default::default() }),
        hnsw_config: None,
        matryoshka: None,
        ..Default::default()
    };
    cols.create(create("g", 4)).await.expect("create");
    pts.upsert(pb::UpsertPointsRequest {
        collection_name: "g".into(),
        points: (0..20).map(point).collect(),
        wait: true,
    })
    .await
    .expect("upsert");
    let count = |name: &str| pb::CountRequest { collection_name: name.into(), filter: None, exact: true };
    let snap = snaps
        .create(pb::CreateSnapshotRequest { collection_name: "g".into() })
        .await
        .expect("snapshot")
        .into_inner()
        .snapshot
        .expect("description");
    pts.delete(pb::DeletePointsRequest {
        collection_name: "g".into(),
        points: Some(pb::PointsSelector {
            kind: Some(pb::points_selector::Kind::Filter(pb::Filter {
                must: vec![kw("cat", "odd")],
                ..Default::default()
            })),
        }),
        wait: true,
    })
    .await
    .expect("delete");
    assert_eq!(pts.count(count("g")).await.expect("count").into_inner().count, 10);

    let rec = snaps
        .recover(pb::RecoverSnapshotRequest { collection_name: "g".into(), location: snap.name.clone() })
        .await
        .expect("recover")
        .into_inner();
    assert_eq!((rec.points, rec.replaced, rec.source_collection.as_str()), (20, true, "g"));
    assert_eq!(pts.count(count("g")).await.expect("count").into_inner().count, 20);

    // Download streams the very file the server keeps.
    let mut stream = snaps
        .download(pb::DownloadSnapshotRequest {
            collection_name: "g".into(),
            snapshot_name: snap.name.clone(),
        })
        .await
        .expect("download")
        .into_inner();
    let mut got = Vec::new();
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.expect("chunk").data);
    }
    let on_disk = std::fs::read(s.data.join("snapshots").join("g").join(&snap.name)).expect("archive");
    assert_eq!((got.len() as u64, &got), (snap.size, &on_disk));

    // Into a new collection from a file:// location; a damaged copy is INVALID_ARGUMENT.
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.snapshot");
    std::fs::write(&good, &got).expect("write");
    let rec = snaps
        .recover(pb::RecoverSnapshotRequest {
            collection_name: "h".into(),
            location: format!("file://{}", good.display()),
        })
        .await
        .expect("recover into h")
        .into_inner();
    assert_eq!((rec.points, rec.replaced), (20, false));
    let bad = dir.path().join("bad.snapshot");
    let mut damaged = got.clone();
    let at = damaged.len() - 20;
    damaged[at] ^= 1;
    std::fs::write(&bad, &damaged).expect("write");
    let e = snaps
        .recover(pb::RecoverSnapshotRequest {
            collection_name: "h".into(),
            location: format!("file://{}", bad.display()),
        })
        .await
        .expect_err("damaged");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert_eq!(pts.count(count("h")).await.expect("count").into_inner().count, 20);
    cols.create(create("small", 2)).await.expect("create small");
    let e = snaps
        .recover(pb::RecoverSnapshotRequest {
            collection_name: "small".into(),
            location: format!("file://{}", good.display()),
        })
        .await
        .expect_err("conflict");
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");

    // Delete, then NOT_FOUND for it everywhere.
    snaps
        .delete(pb::DeleteSnapshotRequest { collection_name: "g".into(), snapshot_name: snap.name.clone() })
        .await
        .expect("delete");
    let e = snaps
        .delete(pb::DeleteSnapshotRequest { collection_name: "g".into(), snapshot_name: snap.name.clone() })
        .await
        .expect_err("gone");
    assert_eq!(e.code(), Code::NotFound);
    let e = snaps
        .download(pb::DownloadSnapshotRequest {
            collection_name: "g".into(),
            snapshot_name: snap.name.clone(),
        })
        .await
        .expect_err("gone");
    assert_eq!(e.code(), Code::NotFound);
}

/// Named vectors over gRPC: declared in `named_vectors`, carried by points in their map, picked
/// by `using`, read back by name; an unknown name is INVALID_ARGUMENT listing the declared ones.
#[tokio::test]
async fn named_vectors_round_trip() {
    let s = Server::start(&[]);
    let ch = channel(&s).await;
    let (mut cols, mut pts) = (CollectionsClient::new(ch.clone()), PointsClient::new(ch));
    let vp = |size: u64, d: pb::Distance| pb::VectorParams { size, distance: d as i32, ..Default::default() };
    cols.create(pb::CreateCollectionRequest {
        collection_name: "nv".into(),
        named_vectors: [
            ("image".to_owned(), vp(3, pb::Distance::Euclid)),
            ("text".to_owned(), vp(2, pb::Distance::Dot)),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    })
    .await
    .expect("create");
    let info =
        cols.get(pb::GetCollectionRequest { collection_name: "nv".into() }).await.expect("get").into_inner();
    let info = info.info.expect("info");
    assert!(info.vectors.is_none());
    assert_eq!(info.named_vectors.get("image").map(|v| v.size), Some(3));
    assert_eq!(info.named_vectors.get("text").map(|v| v.distance), Some(pb::Distance::Dot as i32));
    let points: Vec<pb::PointStruct> = (0..20u64)
        .map(|i| {
            let x = i as f32;
            let mut named = std::collections::HashMap::new();
            named.insert("image".to_owned(), pb::Vector { data: vec![x, 0.0, 1.0] });
            if i % 2 == 0 {
                named.insert("text".to_owned(), pb::Vector { data: vec![1.0, x] });
            }
            pb::PointStruct { id: Some(id(i)), named_vectors: named, ..Default::default() }
        })
        .collect();
    pts.upsert(pb::UpsertPointsRequest { collection_name: "nv".into(), points, wait: true })
        .await
        .expect("upsert");
    let mut q = query("nv", vec![1.0, 19.0], 20);
    q.using = "text".into();
    q.with_vector = true;
    q.explain = true;
    let r = pts.query(q).await.expect("query").into_inner();
    assert_eq!(r.result.len(), 10, "only points carrying `text`");
    assert_eq!(r.result[0].id, Some(id(18)));
    assert_eq!(r.result[0].named_vectors.get("text").map(|v| v.data.clone()), Some(vec![1.0, 18.0]));
    assert_eq!(r.explain.map(|e| e.using), Some("text".to_owned()));
    let mut q = query("nv", vec![7.2, 0.0, 1.0], 1);
    q.using = "image".into();
    assert_eq!(pts.query(q).await.expect("query").into_inner().result[0].id, Some(id(7)));
    let mut q = query("nv", vec![1.0, 2.0], 1);
    q.using = "audio".into();
    let e = pts.query(q).await.expect_err("unknown vector");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("\"audio\"") && e.message().contains("\"image\", \"text\""),
        "{}",
        e.message()
    );
}

/// Sparse vectors over gRPC: declared in `sparse_vectors` (a sparse-only collection), carried by
/// points in `sparse_vectors`, searched with `sparse_query` + `using`, read back by Get and in
/// hits; the explain names the sparse path.
#[tokio::test]
async fn sparse_vectors_round_trip() {
    let s = Server::start(&[]);
    let ch = channel(&s).await;
    let (mut cols, mut pts) = (CollectionsClient::new(ch.clone()), PointsClient::new(ch));
    cols.create(pb::CreateCollectionRequest {
        collection_name: "sp".into(),
        sparse_vectors: [(
            "text".to_owned(),
            pb::SparseVectorParams {
                full_scan_threshold: Some(3),
                on_disk: None,
                modifier: pb::SparseModifier::Idf as i32,
            },
        )]
        .into_iter()
        .collect(),
        ..Default::default()
    })
    .await
    .expect("create");
    let info = cols.get(pb::GetCollectionRequest { collection_name: "sp".into() }).await.expect("get");
    let info = info.into_inner().info.expect("info");
    let sv = info.sparse_vectors.get("text").expect("declared");
    assert_eq!((sv.modifier, sv.full_scan_threshold), (pb::SparseModifier::Idf as i32, Some(3)));
    let sparse = |ix: Vec<u32>, vs: Vec<f32>| pb::SparseVector { indices: ix, values: vs };
    let points: Vec<pb::PointStruct> = (0..10u64)
        .map(|i| pb::PointStruct {
            id: Some(id(i)),
            sparse_vectors: [("text".to_owned(), sparse(vec![(i % 3) as u32, 7], vec![i as f32 + 1.0, 1.0]))]
                .into_iter()
                .collect(),
            ..Default::default()
        })
        .collect();
    pts.upsert(pb::UpsertPointsRequest { collection_name: "sp".into(), points, wait: true })
        .await
        .expect("upsert");
    let q = pb::QueryRequest {
        collection_name: "sp".into(),
        using: "text".into(),
        sparse_query: Some(sparse(vec![1], vec![1.0])),
        limit: 2,
        with_vector: true,
        explain: true,
        ..Default::default()
    };
    let r = pts.query(q).await.expect("query").into_inner();
    // Points 1, 4, 7 hold dimension 1 with weights 2, 5, 8: 7 then 4.
    assert_eq!(r.result.iter().map(|h| h.id.clone()).collect::<Vec<_>>(), vec![Some(id(7)), Some(id(4))]);
    assert_eq!(r.result[0].sparse_vectors.get("text"), Some(&sparse(vec![1, 7], vec![8.0, 1.0])));
    let e = r.explain.expect("explain");
    assert_eq!(e.path, "sparse_postings");
    assert_eq!(e.sparse.map(|x| (x.postings_read, x.idf)), Some((3, true)));
    let got = pts
        .get(pb::GetPointsRequest {
            collection_name: "sp".into(),
            ids: vec![id(2)],
            with_vector: true,
            ..Default::default()
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.result[0].sparse_vectors.get("text"), Some(&sparse(vec![2, 7], vec![3.0, 1.0])));
    let bad = pb::PointStruct {
        id: Some(id(1)),
        sparse_vectors: [("text".to_owned(), sparse(vec![1, 1], vec![1.0, 1.0]))].into_iter().collect(),
        ..Default::default()
    };
    let e = pts
        .upsert(pb::UpsertPointsRequest { collection_name: "sp".into(), points: vec![bad], wait: true })
        .await
        .expect_err("duplicate index");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("more than once"), "{}", e.message());
}

/// grove.v1: a multi-vector field declared and reported, points with matrices, a MaxSim query
/// with the matrices read back, and a query row of the wrong size refused.
#[tokio::test]
async fn multi_vectors_round_trip() {
    let s = Server::start(&[]);
    let ch = channel(&s).await;
    let (mut cols, mut pts) = (CollectionsClient::new(ch.clone()), PointsClient::new(ch));
    cols.create(pb::CreateCollectionRequest {
        collection_name: "mv".into(),
        named_vectors: [(
            "colbert".to_owned(),
            pb::VectorParams {
                size: 2,
                distance: pb::Distance::Dot as i32,
                multivector: true,
                ..Default::default()
            },
        )]
        .into_iter()
        .collect(),
        ..Default::default()
    })
    .await
    .expect("create");
    let info = cols.get(pb::GetCollectionRequest { collection_name: "mv".into() }).await.expect("get");
    let info = info.into_inner().info.expect("info");
    assert!(info.named_vectors.get("colbert").is_some_and(|v| v.multivector), "{info:?}");
    let mv = |rows: Vec<Vec<f32>>| pb::MultiVector {
        rows: rows.into_iter().map(|data| pb::Vector { data }).collect(),
    };
    // Point i: rows [i, 1] and [1, -i]; MaxSim with query [[1, 0], [0, 1]] is max(i, 1) + max(1, -i).
    let points: Vec<pb::PointStruct> = (0..6u64)
        .map(|i| pb::PointStruct {
            id: Some(id(i)),
            multi_vectors: [("colbert".to_owned(), mv(vec![vec![i as f32, 1.0], vec![1.0, -(i as f32)]]))]
                .into_iter()
                .collect(),
            ..Default::default()
        })
        .collect();
    pts.upsert(pb::UpsertPointsRequest { collection_name: "mv".into(), points, wait: true })
        .await
        .expect("upsert");
    let r = pts
        .query(pb::QueryRequest {
            collection_name: "mv".into(),
            using: "colbert".into(),
            multi_query: Some(mv(vec![vec![1.0, 0.0], vec![0.0, 1.0]])),
            limit: 2,
            with_vector: true,
            ..Default::default()
        })
        .await
        .expect("query")
        .into_inner();
    assert_eq!(
        r.result.iter().map(|h| (h.id.clone(), h.score)).collect::<Vec<_>>(),
        vec![(Some(id(5)), 6.0), (Some(id(4)), 5.0)]
    );
    assert_eq!(r.result[0].multi_vectors.get("colbert"), Some(&mv(vec![vec![5.0, 1.0], vec![1.0, -5.0]])));
    // A query row of the wrong size is refused.
    let e = pts
        .query(pb::QueryRequest {
            collection_name: "mv".into(),
            using: "colbert".into(),
            multi_query: Some(mv(vec![vec![1.0, 0.0, 3.0]])),
            limit: 2,
            ..Default::default()
        })
        .await
        .expect_err("wrong row size");
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e}");
}
