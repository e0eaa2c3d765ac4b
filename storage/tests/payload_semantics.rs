//! Text and UUID payload indexes, `nested` conditions, scroll `order_by` and conditional
//! upserts, each against a reference computed by plain iteration over the payloads the test
//! wrote (seeded), through writes, overwrites, payload edits, deletes and a reopen.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use grove_index::Metric;
use grove_storage::text_index::{self, Stopwords, TextIndexParams, TextQuery, Tokenizer};
use grove_storage::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

fn obj(v: Value) -> Payload {
    v.as_object().cloned().unwrap_or_default()
}

const VOCAB: [&str; 10] = ["The", "robot", "Star", "of", "light", "Robots", "dreams", "a", "STAR-light", "é"];

fn sentence(rng: &mut ChaCha8Rng) -> String {
    let n = rng.gen_range(0..6);
    (0..n).map(|_| VOCAB[rng.gen_range(0..VOCAB.len())]).collect::<Vec<_>>().join(" ")
}

fn random_payload(rng: &mut ChaCha8Rng) -> Value {
    match rng.gen_range(0..6) {
        0 => json!({}),
        1 => json!({"title": null}),
        2 | 3 => json!({"title": sentence(rng)}),
        _ => json!({"title": [sentence(rng), sentence(rng)]}),
    }
}

fn ids(s: &Storage, f: &Filter) -> Vec<PointId> {
    let req = ScrollRequest {
        filter: Some(f.clone()),
        limit: 10_000,
        offset: None,
        with_payload: Some(WithPayload::All(false)),
        with_vector: false,
        order_by: None,
    };
    s.scroll("c", &req).unwrap().points.into_iter().map(|r| r.id).collect()
}

fn point(id: u64, p: Payload) -> PointStruct {
    PointStruct { id: PointId::Num(id), vector: vec![id as f32, 1.0], payload: Some(p) }
}

/// Every query kind on a text index equals [`text_index::matches`] over the model's payloads.
fn check_text(s: &Storage, model: &BTreeMap<u64, Payload>, params: &TextIndexParams, rng: &mut ChaCha8Rng) {
    let an = params.analyzer().unwrap();
    let mut split = 0;
    for _ in 0..40 {
        let q = sentence(rng);
        for (kind, tq) in [
            ("text", TextQuery::All(&q)),
            ("text_any", TextQuery::Any(&q)),
            ("phrase", TextQuery::Phrase(&q)),
        ] {
            let f: Filter =
                serde_json::from_value(json!({"must": [{"key": "title", "match": {kind: q}}]})).unwrap();
            let expected: Vec<PointId> = model
                .iter()
                .filter(|(_, p)| {
                    let vals = filter::values_at(p, "title");
                    let strs: Vec<&str> = vals.iter().filter_map(|v| v.as_str()).collect();
                    text_index::matches(&an, &strs, tq)
                })
                .map(|(id, _)| PointId::Num(*id))
                .collect();
            split += usize::from(!expected.is_empty() && expected.len() < model.len());
            assert_eq!(ids(s, &f), expected, "{params:?} {kind} {q:?}");
            let e = s.explain_filter("c", &f).unwrap();
            assert_eq!(e.indexed_fields, vec!["title".to_owned()], "answered by the index");
        }
    }
    assert!(split >= 20, "only {split} queries split the points: the comparison proves little");
}

fn param_sets() -> Vec<TextIndexParams> {
    vec![
        TextIndexParams::default(),
        TextIndexParams {
            stopwords: Some(Stopwords { languages: vec!["english".into()], custom: vec![] }),
            ..Default::default()
        },
        TextIndexParams { tokenizer: Tokenizer::Prefix, max_token_len: Some(4), ..Default::default() },
        TextIndexParams {
            tokenizer: Tokenizer::Whitespace,
            lowercase: Some(false),
            stopwords: Some(Stopwords { languages: vec![], custom: vec!["The".into(), "STAR-light".into()] }),
            ..Default::default()
        },
        TextIndexParams { min_token_len: Some(2), max_token_len: Some(5), ..Default::default() },
    ]
}

#[test]
fn text_index_equals_plain_iteration_through_writes_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, params) in param_sets().into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed as u64);
        let name = dir.path().join(format!("db{seed}"));
        let mut model: BTreeMap<u64, Payload> = BTreeMap::new();
        {
            let s = Storage::open(&name).unwrap();
            s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
            // Index before the data on even seeds (kept current by upserts), after on odd ones
            // (backfilled).
            if seed % 2 == 0 {
                s.create_field_index_with("c", "title", PayloadSchemaType::Text, Some(params.clone()))
                    .unwrap();
            }
            for id in 0..120u64 {
                let p = obj(random_payload(&mut rng));
                model.insert(id, p.clone());
                s.upsert("c", vec![point(id, p)]).unwrap();
            }
            if seed % 2 == 1 {
                s.create_field_index_with("c", "title", PayloadSchemaType::Text, Some(params.clone()))
                    .unwrap();
            }
            check_text(&s, &model, &params, &mut rng);
            // Overwrites, payload edits and deletes keep the postings current.
            for id in (0..120u64).step_by(7) {
                let p = obj(random_payload(&mut rng));
                model.insert(id, p.clone());
                s.upsert("c", vec![point(id, p)]).unwrap();
            }
            let t = sentence(&mut rng);
            let sel = PointSelector::Ids { points: (0..120u64).step_by(5).map(PointId::Num).collect() };
            s.set_payload("c", obj(json!({"title": t})), &sel).unwrap();
            for id in (0..120u64).step_by(5) {
                model.get_mut(&id).unwrap().insert("title".into(), json!(t));
            }
            let sel = PointSelector::Ids { points: (0..120u64).step_by(11).map(PointId::Num).collect() };
            s.delete_payload("c", &["title".to_owned()], &sel).unwrap();
            for id in (0..120u64).step_by(11) {
                model.get_mut(&id).unwrap().remove("title");
            }
            let gone: Vec<u64> = (3..120u64).step_by(9).collect();
            s.delete_points(
                "c",
                &PointSelector::Ids { points: gone.iter().copied().map(PointId::Num).collect() },
            )
            .unwrap();
            for id in gone {
                model.remove(&id);
            }
            check_text(&s, &model, &params, &mut rng);
        }
        // Persisted: the definition (with its parameters) and the postings load again.
        let s = Storage::open(&name).unwrap();
        let info = s.collection_info("c").unwrap();
        assert_eq!(info.payload_schema["title"].data_type, PayloadSchemaType::Text);
        assert_eq!(info.payload_schema["title"].text.as_ref(), Some(&params));
        check_text(&s, &model, &params, &mut rng);
    }
}

#[test]
fn text_index_replaces_another_definition_and_rejects_bad_params() {
    let s = Storage::in_memory();
    s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
    for (id, t) in
        ["Robot Dreams", "Little Lost Robot", "Star Light", "The Robots of Dawn"].iter().enumerate()
    {
        s.upsert("c", vec![point(id as u64, obj(json!({"title": t})))]).unwrap();
    }
    let f: Filter =
        serde_json::from_value(json!({"must": [{"key": "title", "match": {"text": "ROBO"}}]})).unwrap();
    s.create_field_index_with("c", "title", PayloadSchemaType::Text, None).unwrap();
    assert!(ids(&s, &f).is_empty(), "word tokens: no token `robo`");
    let prefix = TextIndexParams { tokenizer: Tokenizer::Prefix, ..Default::default() };
    s.create_field_index_with("c", "title", PayloadSchemaType::Text, Some(prefix)).unwrap();
    assert_eq!(ids(&s, &f), vec![PointId::Num(0), PointId::Num(1), PointId::Num(3)]);
    let bad = TextIndexParams { min_token_len: Some(5), max_token_len: Some(2), ..Default::default() };
    let e = s.create_field_index_with("c", "title", PayloadSchemaType::Text, Some(bad)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // The failed replacement left the prefix index answering.
    assert_eq!(ids(&s, &f).len(), 3);
    // A keyword index on the field replaces the text index too.
    s.create_field_index("c", "title", PayloadSchemaType::Keyword).unwrap();
    let exact: Filter =
        serde_json::from_value(json!({"must": [{"key": "title", "match": {"value": "Star Light"}}]}))
            .unwrap();
    assert_eq!(ids(&s, &exact), vec![PointId::Num(2)]);
}

#[test]
fn uuid_index_matches_canonical_forms() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let pool: Vec<String> =
        (0..6).map(|_| uuid::Uuid::from_u128(rng.gen()).hyphenated().to_string()).collect();
    let s = Storage::in_memory();
    s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
    s.create_field_index("c", "uid", PayloadSchemaType::Uuid).unwrap();
    let mut model = BTreeMap::new();
    for id in 0..60u64 {
        let v = match rng.gen_range(0..4) {
            0 => json!(null),
            1 => json!([pool[rng.gen_range(0..6)], pool[rng.gen_range(0..6)].to_uppercase()]),
            _ => json!(pool[rng.gen_range(0..6)]),
        };
        let p = obj(json!({"uid": v}));
        model.insert(id, p.clone());
        s.upsert("c", vec![point(id, p)]).unwrap();
    }
    let canon = |v: &Value| v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok());
    for u in &pool {
        let want = uuid::Uuid::parse_str(u).unwrap();
        for (q, m) in
            [(u.to_uppercase(), json!({"value": u.to_uppercase()})), (u.clone(), json!({"any": [u, "x"]}))]
        {
            let f: Filter = serde_json::from_value(json!({"must": [{"key": "uid", "match": m}]})).unwrap();
            let expected: Vec<PointId> = model
                .iter()
                .filter(|(_, p)| filter::values_at(p, "uid").iter().any(|v| canon(v) == Some(want)))
                .map(|(id, _)| PointId::Num(*id))
                .collect();
            assert_eq!(ids(&s, &f), expected, "{q}");
        }
        let f: Filter =
            serde_json::from_value(json!({"must": [{"key": "uid", "match": {"except": [u]}}]})).unwrap();
        let expected: Vec<PointId> = model
            .iter()
            .filter(|(_, p)| {
                let vals = filter::values_at(p, "uid");
                vals.iter().any(|v| !v.is_null()) && !vals.iter().any(|v| canon(v) == Some(want))
            })
            .map(|(id, _)| PointId::Num(*id))
            .collect();
        assert_eq!(ids(&s, &f), expected);
    }
    // A value that is not a UUID is refused, naming the point, and nothing is written.
    let e = s.upsert("c", vec![point(100, obj(json!({"uid": "not-a-uuid"})))]).unwrap_err();
    assert!(e.to_string().contains("100"), "{e}");
    assert!(s.get_points("c", &[PointId::Num(100)], &WithPayload::All(true), false).unwrap().is_empty());
}

#[test]
fn nested_conditions_hold_per_element() {
    let s = Storage::in_memory();
    s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
    let docs = [
        json!({"country": {"cities": [{"name": "Berlin", "pop": 3.7, "sights": ["a", "b"]}, {"name": "Munich", "pop": 1.5}]}}),
        json!({"country": {"cities": [{"name": "Tokyo", "pop": 9.3, "sights": ["a", "b", "c", "d"]}]}}),
        json!({"country": {"cities": [{"name": "Paris", "pop": 2.1}, {"name": "Lyon", "pop": 9.9}]}}),
        json!({"country": {"cities": {"name": "Solo", "pop": 9.5}}}),
        json!({"country": {"name": "none"}}),
    ];
    for (id, d) in docs.iter().enumerate() {
        s.upsert("c", vec![point(id as u64, obj(d.clone()))]).unwrap();
    }
    // The float index on the flattened path does not change what nested means.
    for indexed in [false, true] {
        if indexed {
            s.create_field_index("c", "country.cities[].pop", PayloadSchemaType::Float).unwrap();
        }
        let q = |f: Value| ids(&s, &serde_json::from_value(f).unwrap());
        let n = |v: &[u64]| v.iter().map(|i| PointId::Num(*i)).collect::<Vec<_>>();
        let big = json!({"key": "pop", "range": {"gte": 9.0}});
        assert_eq!(
            q(json!({"must": [{"nested": {"key": "country.cities[]", "filter": {"must": [big]}}}]})),
            n(&[1, 2, 3])
        );
        assert_eq!(
            q(json!({"must": [{"nested": {"key": "country.cities", "filter": {"must": [big]}}}]})),
            n(&[1, 2, 3])
        );
        // Both conditions on one element: Paris is small, Lyon is not Paris.
        let both = json!({"must": [{"nested": {"key": "country.cities", "filter": {"must": [
            {"key": "name", "match": {"value": "Paris"}}, big]}}}]});
        assert_eq!(q(both), n(&[]));
        // The flat form of the same conditions matches across elements.
        let flat = json!({"must": [{"key": "country.cities[].name", "match": {"value": "Paris"}},
                                    {"key": "country.cities[].pop", "range": {"gte": 9.0}}]});
        assert_eq!(q(flat), n(&[2]));
        let sights = json!({"must": [{"nested": {"key": "country.cities", "filter": {"must": [
            {"key": "sights", "values_count": {"gt": 3}}]}}}]});
        assert_eq!(q(sights), n(&[1]));
        // must_not inside: some element lacks it.
        let not_big = json!({"must": [{"nested": {"key": "country.cities", "filter": {"must_not": [big]}}}]});
        assert_eq!(q(not_big), n(&[0, 2]));
        let e = serde_json::from_value::<Filter>(json!({"must": [{"nested": {"key": "a", "filtr": {}}}]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("filtr"), "{e}");
    }
}

#[test]
fn scroll_order_by_equals_a_sort_of_the_values() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let s = Storage::in_memory();
    s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
    s.create_field_index("c", "n", PayloadSchemaType::Integer).unwrap();
    s.create_field_index("c", "x", PayloadSchemaType::Float).unwrap();
    s.create_field_index("c", "city", PayloadSchemaType::Keyword).unwrap();
    let mut model = BTreeMap::new();
    for id in 0..80u64 {
        let n = if rng.gen_bool(0.3) {
            json!([rng.gen_range(0..10), rng.gen_range(0..10)])
        } else {
            json!(rng.gen_range(0..10))
        };
        let p =
            obj(json!({"n": n, "x": rng.gen_range(-5.0..5.0), "city": if id % 3 == 0 { "L" } else { "M" }}));
        model.insert(id, p.clone());
        s.upsert("c", vec![point(id, p)]).unwrap();
    }
    let only_l: Filter =
        serde_json::from_value(json!({"must": [{"key": "city", "match": {"value": "L"}}]})).unwrap();
    for key in ["n", "x"] {
        for desc in [false, true] {
            for filter in [None, Some(only_l.clone())] {
                for start in [None, Some(4.0)] {
                    // (value, id) for every distinct value of every point, sorted.
                    let mut expected: Vec<(f64, u64)> = Vec::new();
                    for (id, p) in &model {
                        if filter.as_ref().is_some_and(|f| !f.matches(&PointId::Num(*id), p)) {
                            continue;
                        }
                        let mut vals: Vec<f64> =
                            filter::values_at(p, key).iter().filter_map(|v| v.as_f64()).collect();
                        vals.sort_by(f64::total_cmp);
                        vals.dedup();
                        for v in vals {
                            if start.is_none_or(|s| if desc { v <= s } else { v >= s }) {
                                expected.push((v, *id));
                            }
                        }
                    }
                    expected.sort_by(|a, b| {
                        let o = a.0.total_cmp(&b.0);
                        (if desc { o.reverse() } else { o }).then(a.1.cmp(&b.1))
                    });
                    expected.truncate(25);
                    let req = ScrollRequest {
                        filter: filter.clone(),
                        limit: 25,
                        offset: None,
                        with_payload: Some(WithPayload::All(false)),
                        with_vector: false,
                        order_by: Some(ScrollOrder {
                            key: key.into(),
                            desc,
                            start_from: start.map(filter::RangeBound::Number),
                        }),
                    };
                    let r = s.scroll("c", &req).unwrap();
                    assert_eq!(r.next_page_offset, None);
                    let got: Vec<(f64, u64)> = r
                        .points
                        .iter()
                        .zip(r.order_values.unwrap())
                        .map(|(p, v)| {
                            let v = match v {
                                OrderValue::Int(i) => i as f64,
                                OrderValue::Float(f) => f,
                            };
                            let PointId::Num(id) = p.id else { panic!("numeric ids") };
                            (v, id)
                        })
                        .collect();
                    assert_eq!(
                        got,
                        expected,
                        "{key} desc={desc} start={start:?} filtered={}",
                        filter.is_some()
                    );
                }
            }
        }
    }
    // Bad requests: no index, a keyword index, offset together with order_by.
    for (key, offset) in [("nope", None), ("city", None), ("n", Some(PointId::Num(3)))] {
        let req = ScrollRequest {
            filter: None,
            limit: 5,
            offset,
            with_payload: None,
            with_vector: false,
            order_by: Some(ScrollOrder { key: key.into(), desc: false, start_from: None }),
        };
        assert_eq!(s.scroll("c", &req).unwrap_err().kind(), ErrorKind::InvalidArgument, "{key}");
    }
}

#[test]
fn conditional_upserts_skip_what_they_must() {
    let s = Storage::in_memory();
    s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
    let np = |id: u64, v: i64| NamedPoint::from(point(id, obj(json!({"version": v}))));
    s.upsert_named("c", vec![np(1, 5), np(2, 1)]).unwrap();
    let version = |id: u64| {
        s.get_points("c", &[PointId::Num(id)], &WithPayload::All(true), false)
            .unwrap()
            .first()
            .and_then(|r| r.payload.as_ref()?.get("version")?.as_i64())
    };
    s.upsert_conditional("c", vec![np(1, 9), np(3, 9)], UpdateMode::InsertOnly, None).unwrap();
    assert_eq!((version(1), version(3)), (Some(5), Some(9)));
    s.upsert_conditional("c", vec![np(2, 7), np(4, 7)], UpdateMode::UpdateOnly, None).unwrap();
    assert_eq!((version(2), version(4)), (Some(7), None));
    let older: Filter =
        serde_json::from_value(json!({"must": [{"key": "version", "range": {"lt": 6}}]})).unwrap();
    s.upsert_conditional("c", vec![np(1, 6), np(3, 10), np(5, 1)], UpdateMode::Upsert, Some(&older)).unwrap();
    // 1 (version 5) matched and was replaced; 3 (version 9) did not; 5 is new and inserted.
    assert_eq!((version(1), version(3), version(5)), (Some(6), Some(9), Some(1)));
}
