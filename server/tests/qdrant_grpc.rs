//! Qdrant's gRPC API (package `qdrant`) against the real binary, with tonic clients generated
//! from Grove's own copies of Qdrant's protos: the workflow qdrant-client runs with
//! `prefer_grpc=True` (create, index, upsert with payload, filtered search checked against
//! brute force, scroll, count, get, payload edits, delete), error codes, and auth.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::Server;
use grove_proto::qdrant as pb;
use grove_proto::qdrant::collections_client::CollectionsClient;
use grove_proto::qdrant::points_client::PointsClient;
use grove_proto::qdrant::qdrant_client::QdrantClient;
use grove_proto::qdrant::snapshots_client::SnapshotsClient;
use tonic::transport::Channel;
use tonic::{Code, Request};

const DIM: usize = 4;
const N: u64 = 60;

fn id(n: u64) -> pb::PointId {
    pb::PointId { point_id_options: Some(pb::point_id::PointIdOptions::Num(n)) }
}

fn num(p: &pb::PointId) -> u64 {
    match p.point_id_options {
        Some(pb::point_id::PointIdOptions::Num(n)) => n,
        _ => panic!("numeric id expected: {p:?}"),
    }
}

fn str_value(s: &str) -> pb::Value {
    pb::Value { kind: Some(pb::value::Kind::StringValue(s.into())) }
}

fn int_value(i: i64) -> pb::Value {
    pb::Value { kind: Some(pb::value::Kind::IntegerValue(i)) }
}

/// Seeded, deterministic vectors (a small LCG), so the brute-force oracle is reproducible.
fn vector_of(n: u64) -> Vec<f32> {
    let mut x = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    (0..DIM)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

fn cat(n: u64) -> &'static str {
    ["red", "green", "blue"][(n % 3) as usize]
}

fn dense(v: Vec<f32>) -> pb::Vectors {
    pb::Vectors {
        vectors_options: Some(pb::vectors::VectorsOptions::Vector(pb::Vector {
            vector: Some(pb::vector::Vector::Dense(pb::DenseVector { data: v })),
            ..Default::default()
        })),
    }
}

fn point(n: u64) -> pb::PointStruct {
    pb::PointStruct {
        id: Some(id(n)),
        payload: HashMap::from([
            ("cat".to_owned(), str_value(cat(n))),
            ("n".to_owned(), int_value(n as i64)),
        ]),
        vectors: Some(dense(vector_of(n))),
    }
}

fn keyword(key: &str, v: &str) -> pb::Condition {
    pb::Condition {
        condition_one_of: Some(pb::condition::ConditionOneOf::Field(Box::new(pb::FieldCondition {
            key: key.into(),
            r#match: Some(pb::Match { match_value: Some(pb::r#match::MatchValue::Keyword(v.into())) }),
            ..Default::default()
        }))),
    }
}

fn range_gte(key: &str, v: f64) -> pb::Condition {
    pb::Condition {
        condition_one_of: Some(pb::condition::ConditionOneOf::Field(Box::new(pb::FieldCondition {
            key: key.into(),
            range: Some(pb::Range { gte: Some(v), ..Default::default() }),
            ..Default::default()
        }))),
    }
}

fn must(conds: Vec<pb::Condition>) -> pb::Filter {
    pb::Filter { must: conds, ..Default::default() }
}

fn with_payload(on: bool) -> pb::WithPayloadSelector {
    pb::WithPayloadSelector { selector_options: Some(pb::with_payload_selector::SelectorOptions::Enable(on)) }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

async fn channel(s: &Server) -> Channel {
    Channel::from_shared(s.grpc_url()).expect("uri").connect().await.expect("connect")
}

async fn create(cols: &mut CollectionsClient<Channel>, name: &str) {
    let params =
        pb::VectorParams { size: DIM as u64, distance: pb::Distance::Dot as i32, ..Default::default() };
    let req = pb::CreateCollection {
        collection_name: name.into(),
        vectors_config: Some(pb::VectorsConfig { config: Some(pb::vectors_config::Config::Params(params)) }),
        ..Default::default()
    };
    assert!(cols.create(req).await.expect("create").into_inner().result);
}

#[tokio::test]
async fn qdrant_client_workflow_over_grpc() {
    let s = Server::start(&[]);
    let ch = channel(&s).await;
    let mut cols = CollectionsClient::new(ch.clone());
    let mut pts = PointsClient::new(ch.clone());
    let mut snaps = SnapshotsClient::new(ch.clone());
    let mut health = QdrantClient::new(ch);

    let h = health.health_check(pb::HealthCheckRequest {}).await.expect("health").into_inner();
    assert_eq!(h.version, grove_server::api::QDRANT_API_VERSION);

    create(&mut cols, "c").await;
    let exists = cols
        .collection_exists(pb::CollectionExistsRequest { collection_name: "c".into() })
        .await
        .expect("exists")
        .into_inner();
    assert_eq!(exists.result.map(|r| r.exists), Some(true));
    let list = cols.list(pb::ListCollectionsRequest {}).await.expect("list").into_inner();
    assert_eq!(list.collections.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["c"]);

    let index = pb::CreateFieldIndexCollection {
        collection_name: "c".into(),
        wait: Some(true),
        field_name: "cat".into(),
        field_type: Some(pb::FieldType::Keyword as i32),
        ..Default::default()
    };
    pts.create_field_index(index).await.expect("index");

    let up = pb::UpsertPoints {
        collection_name: "c".into(),
        wait: Some(true),
        points: (0..N).map(point).collect(),
        ..Default::default()
    };
    let res = pts.upsert(up).await.expect("upsert").into_inner();
    assert_eq!(res.result.map(|r| r.status), Some(pb::UpdateStatus::Completed as i32));

    // Collection info in Qdrant's shape. Green once the background indexer has the points (a
    // write returns when it is durable and searchable, not when it is in the graph), so poll.
    let mut info = None;
    for _ in 0..200 {
        let i = cols
            .get(pb::GetCollectionInfoRequest { collection_name: "c".into() })
            .await
            .expect("info")
            .into_inner()
            .result
            .expect("info result");
        let green = i.status == pb::CollectionStatus::Green as i32;
        info = Some(i);
        if green {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let info = info.expect("info");
    assert_eq!(info.points_count, Some(N));
    assert_eq!(info.status, pb::CollectionStatus::Green as i32);
    let vc = info.config.and_then(|c| c.params).and_then(|p| p.vectors_config).and_then(|v| v.config);
    let Some(pb::vectors_config::Config::Params(p)) = vc else { panic!("unnamed vector params: {vc:?}") };
    assert_eq!((p.size, p.distance), (DIM as u64, pb::Distance::Dot as i32));
    assert_eq!(
        info.payload_schema.get("cat").map(|s| s.data_type),
        Some(pb::PayloadSchemaType::Keyword as i32)
    );

    // Filtered query, exact, against brute force over the same seeded vectors.
    let q = vector_of(1_000);
    let filter = must(vec![keyword("cat", "red"), range_gte("n", 10.0)]);
    let allowed: Vec<u64> = (0..N).filter(|&n| cat(n) == "red" && n >= 10).collect();
    let mut truth: Vec<(f32, u64)> = allowed.iter().map(|&n| (dot(&q, &vector_of(n)), n)).collect();
    truth.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let query = pb::QueryPoints {
        collection_name: "c".into(),
        query: Some(pb::Query {
            variant: Some(pb::query::Variant::Nearest(pb::VectorInput {
                variant: Some(pb::vector_input::Variant::Dense(pb::DenseVector { data: q.clone() })),
            })),
        }),
        filter: Some(filter.clone()),
        params: Some(pb::SearchParams { exact: Some(true), ..Default::default() }),
        limit: Some(5),
        with_payload: Some(with_payload(true)),
        ..Default::default()
    };
    let hits = pts.query(query).await.expect("query").into_inner().result;
    let got: Vec<u64> = hits.iter().map(|h| num(h.id.as_ref().expect("id"))).collect();
    let want: Vec<u64> = truth.iter().take(5).map(|t| t.1).collect();
    assert_eq!(got, want);
    for (h, t) in hits.iter().zip(&truth) {
        assert!((h.score - t.0).abs() < 1e-4, "score {} vs {}", h.score, t.0);
        assert_eq!(h.payload.get("cat"), Some(&str_value("red")));
    }

    // The deprecated Search answers the same.
    let search = pb::SearchPoints {
        collection_name: "c".into(),
        vector: q.clone(),
        filter: Some(filter.clone()),
        limit: 5,
        params: Some(pb::SearchParams { exact: Some(true), ..Default::default() }),
        ..Default::default()
    };
    let hits = pts.search(search).await.expect("search").into_inner().result;
    assert_eq!(hits.iter().map(|h| num(h.id.as_ref().expect("id"))).collect::<Vec<_>>(), want);

    // Scroll pages through exactly the filtered set.
    let mut seen = BTreeSet::new();
    let mut offset = None;
    loop {
        let page = pts
            .scroll(pb::ScrollPoints {
                collection_name: "c".into(),
                filter: Some(filter.clone()),
                offset: offset.clone(),
                limit: Some(4),
                with_payload: Some(with_payload(false)),
                ..Default::default()
            })
            .await
            .expect("scroll")
            .into_inner();
        for p in &page.result {
            assert!(p.payload.is_empty(), "payload was not asked for");
            assert!(seen.insert(num(p.id.as_ref().expect("id"))));
        }
        match page.next_page_offset {
            Some(o) => offset = Some(o),
            None => break,
        }
    }
    assert_eq!(seen, allowed.iter().copied().collect());

    let count = pts
        .count(pb::CountPoints {
            collection_name: "c".into(),
            filter: Some(filter.clone()),
            exact: Some(true),
            ..Default::default()
        })
        .await
        .expect("count")
        .into_inner();
    assert_eq!(count.result.map(|c| c.count), Some(allowed.len() as u64));

    // Get with payload and vectors.
    let got = pts
        .get(pb::GetPoints {
            collection_name: "c".into(),
            ids: vec![id(7), id(10_000)],
            with_payload: Some(with_payload(true)),
            with_vectors: Some(pb::WithVectorsSelector {
                selector_options: Some(pb::with_vectors_selector::SelectorOptions::Enable(true)),
            }),
            ..Default::default()
        })
        .await
        .expect("get")
        .into_inner()
        .result;
    assert_eq!(got.len(), 1, "a missing id is skipped");
    assert_eq!(got[0].payload.get("n"), Some(&int_value(7)));
    let v = got[0].vectors.clone().and_then(|v| v.vectors_options);
    let Some(pb::vectors_output::VectorsOptions::Vector(pb::VectorOutput {
        vector: Some(pb::vector_output::Vector::Dense(d)),
        ..
    })) = v
    else {
        panic!("dense vector expected: {v:?}")
    };
    assert_eq!(d.data, vector_of(7));

    // Payload edits.
    let ids_sel = |ids: Vec<u64>| pb::PointsSelector {
        points_selector_one_of: Some(pb::points_selector::PointsSelectorOneOf::Points(pb::PointsIdsList {
            ids: ids.into_iter().map(id).collect(),
        })),
    };
    pts.set_payload(pb::SetPayloadPoints {
        collection_name: "c".into(),
        wait: Some(true),
        payload: HashMap::from([("tag".to_owned(), str_value("x"))]),
        points_selector: Some(ids_sel(vec![1, 2])),
        ..Default::default()
    })
    .await
    .expect("set payload");
    pts.delete_payload(pb::DeletePayloadPoints {
        collection_name: "c".into(),
        wait: Some(true),
        keys: vec!["n".into()],
        points_selector: Some(ids_sel(vec![2])),
        ..Default::default()
    })
    .await
    .expect("delete payload");
    pts.clear_payload(pb::ClearPayloadPoints {
        collection_name: "c".into(),
        wait: Some(true),
        points: Some(ids_sel(vec![3])),
        ..Default::default()
    })
    .await
    .expect("clear payload");
    let got = pts
        .get(pb::GetPoints {
            collection_name: "c".into(),
            ids: vec![id(1), id(2), id(3)],
            with_payload: Some(with_payload(true)),
            ..Default::default()
        })
        .await
        .expect("get")
        .into_inner()
        .result;
    let by_id: HashMap<u64, &pb::RetrievedPoint> =
        got.iter().map(|p| (num(p.id.as_ref().expect("id")), p)).collect();
    assert_eq!(by_id[&1].payload.get("tag"), Some(&str_value("x")));
    assert_eq!(by_id[&1].payload.get("n"), Some(&int_value(1)));
    assert!(by_id[&2].payload.contains_key("tag") && !by_id[&2].payload.contains_key("n"));
    assert!(by_id[&3].payload.is_empty());

    // Delete by filter: every "blue" point goes.
    let del = pb::DeletePoints {
        collection_name: "c".into(),
        wait: Some(true),
        points: Some(pb::PointsSelector {
            points_selector_one_of: Some(pb::points_selector::PointsSelectorOneOf::Filter(must(vec![
                keyword("cat", "blue"),
            ]))),
        }),
        ..Default::default()
    };
    pts.delete(del).await.expect("delete");
    let left = pts
        .count(pb::CountPoints { collection_name: "c".into(), exact: Some(true), ..Default::default() })
        .await
        .expect("count")
        .into_inner();
    assert_eq!(left.result.map(|c| c.count), Some((0..N).filter(|&n| cat(n) != "blue").count() as u64));

    // Aliases and snapshots.
    let alias = pb::ChangeAliases {
        actions: vec![pb::AliasOperations {
            action: Some(pb::alias_operations::Action::CreateAlias(pb::CreateAlias {
                collection_name: "c".into(),
                alias_name: "a".into(),
            })),
        }],
        timeout: None,
    };
    assert!(cols.update_aliases(alias).await.expect("alias").into_inner().result);
    let aliases = cols.list_aliases(pb::ListAliasesRequest {}).await.expect("aliases").into_inner().aliases;
    assert_eq!(
        aliases.iter().map(|a| (a.alias_name.as_str(), a.collection_name.as_str())).collect::<Vec<_>>(),
        vec![("a", "c")]
    );
    let snap = snaps
        .create(pb::CreateSnapshotRequest { collection_name: "c".into() })
        .await
        .expect("snapshot")
        .into_inner()
        .snapshot_description
        .expect("description");
    assert!(snap.size > 0 && snap.creation_time.is_some());
    let listed = snaps
        .list(pb::ListSnapshotsRequest { collection_name: "c".into() })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.snapshot_descriptions.len(), 1);
    snaps
        .delete(pb::DeleteSnapshotRequest { collection_name: "c".into(), snapshot_name: snap.name })
        .await
        .expect("delete snapshot");

    assert!(
        cols.delete(pb::DeleteCollection { collection_name: "c".into(), timeout: None })
            .await
            .expect("drop")
            .into_inner()
            .result
    );
}

#[tokio::test]
async fn errors_carry_the_right_codes_and_say_what_to_fix() {
    let s = Server::start(&[]);
    let ch = channel(&s).await;
    let mut cols = CollectionsClient::new(ch.clone());
    let mut pts = PointsClient::new(ch.clone());

    let missing = pts
        .count(pb::CountPoints { collection_name: "nope".into(), ..Default::default() })
        .await
        .expect_err("no collection");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");

    create(&mut cols, "c").await;
    let again = pb::CreateCollection {
        collection_name: "c".into(),
        vectors_config: Some(pb::VectorsConfig {
            config: Some(pb::vectors_config::Config::Params(pb::VectorParams {
                size: 4,
                distance: pb::Distance::Dot as i32,
                ..Default::default()
            })),
        }),
        ..Default::default()
    };
    assert_eq!(cols.create(again).await.expect_err("exists").code(), Code::AlreadyExists);

    // A field condition that sets nothing.
    let empty = pb::Condition {
        condition_one_of: Some(pb::condition::ConditionOneOf::Field(Box::new(pb::FieldCondition {
            key: "cat".into(),
            ..Default::default()
        }))),
    };
    let err = pts
        .count(pb::CountPoints {
            collection_name: "c".into(),
            filter: Some(must(vec![empty])),
            ..Default::default()
        })
        .await
        .expect_err("empty condition");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("cat") && err.message().contains("match"), "{}", err.message());

    // A vector of the wrong size.
    let mut p = point(1);
    p.vectors = Some(dense(vec![1.0, 2.0]));
    let err = pts
        .upsert(pb::UpsertPoints { collection_name: "c".into(), points: vec![p], ..Default::default() })
        .await
        .expect_err("wrong dimension");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    // A query with no query variant (e.g. an inference input Grove's protos do not carry).
    let err = pts
        .query(pb::QueryPoints {
            collection_name: "c".into(),
            query: Some(pb::Query { variant: None }),
            ..Default::default()
        })
        .await
        .expect_err("empty query");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("nearest"), "{}", err.message());

    // A method Grove does not declare: UNIMPLEMENTED naming it.
    let mut grpc = tonic::client::Grpc::new(s_channel(&s).await);
    grpc.ready().await.expect("ready");
    let path = http::uri::PathAndQuery::from_static("/qdrant.Points/QueryGroups");
    let codec = tonic_prost::ProstCodec::<pb::QueryPoints, pb::QueryResponse>::default();
    let err = grpc
        .unary(
            Request::new(pb::QueryPoints { collection_name: "c".into(), ..Default::default() }),
            path,
            codec,
        )
        .await
        .expect_err("not served");
    assert_eq!(err.code(), Code::Unimplemented);
    assert!(err.message().contains("qdrant.Points/QueryGroups"), "{}", err.message());
}

async fn s_channel(s: &Server) -> Channel {
    channel(s).await
}

#[tokio::test]
async fn read_only_keys_read_and_cannot_write() {
    let s = Server::start(&["--security-api-key", "admin-key", "--security-read-only-api-key", "ro-key"]);
    let ch = channel(&s).await;
    let mut cols = CollectionsClient::new(ch.clone());
    let mut pts = PointsClient::new(ch.clone());
    let mut health = QdrantClient::new(ch);

    health.health_check(pb::HealthCheckRequest {}).await.expect("health is public");
    let err = cols.list(pb::ListCollectionsRequest {}).await.expect_err("no key");
    assert_eq!(err.code(), Code::Unauthenticated);

    let mut req = Request::new(pb::CreateCollection {
        collection_name: "c".into(),
        vectors_config: Some(pb::VectorsConfig {
            config: Some(pb::vectors_config::Config::Params(pb::VectorParams {
                size: DIM as u64,
                distance: pb::Distance::Dot as i32,
                ..Default::default()
            })),
        }),
        ..Default::default()
    });
    req.metadata_mut().insert("api-key", "admin-key".parse().expect("ascii"));
    cols.create(req).await.expect("admin creates");

    let mut req = Request::new(pb::CountPoints { collection_name: "c".into(), ..Default::default() });
    req.metadata_mut().insert("api-key", "ro-key".parse().expect("ascii"));
    pts.count(req).await.expect("read-only reads");

    let mut req = Request::new(pb::UpsertPoints {
        collection_name: "c".into(),
        points: vec![point(1)],
        ..Default::default()
    });
    req.metadata_mut().insert("api-key", "ro-key".parse().expect("ascii"));
    assert_eq!(pts.upsert(req).await.expect_err("read-only write").code(), Code::PermissionDenied);
}
