//! Compiled filters (indexed and unindexed fields) against an oracle that is not the code under
//! test: `common::oracle`, a separate evaluator of Qdrant's filter semantics over the filter's
//! JSON. Seeded random payloads and random nested filters; indexes created before the data,
//! after it (backfill) or never (scan); overwrites, payload edits and deletes in between.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod common;

use common::oracle;
use grove_index::Metric;
use grove_storage::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

const KW: [&str; 5] = ["a", "b", "c", "d", "e"];

/// The typed fields (each may be indexed with its type) and their schemas.
const TYPED: [(&str, PayloadSchemaType); 5] = [
    ("kw", PayloadSchemaType::Keyword),
    ("int", PayloadSchemaType::Integer),
    ("fl", PayloadSchemaType::Float),
    ("b", PayloadSchemaType::Bool),
    ("dt", PayloadSchemaType::Datetime),
];

/// Every key a condition may name: the typed fields, a never-indexed field of mixed types, and
/// paths into nested objects.
const KEYS: [&str; 9] = ["kw", "int", "fl", "b", "dt", "mix", "obj.x", "obj[].x", "absent"];

fn datetime(rng: &mut ChaCha8Rng) -> String {
    format!("2024-0{}-{:02}T{:02}:00:00Z", rng.gen_range(1..4), rng.gen_range(1..29), rng.gen_range(0..24))
}

fn scalar_mix(rng: &mut ChaCha8Rng) -> Value {
    match rng.gen_range(0..6) {
        0 => json!(KW[rng.gen_range(0..5)]),
        1 => json!(rng.gen_range(-3..4)),
        2 => json!(rng.gen_range(-3..4) as f64 + 0.5),
        3 => json!(rng.gen_bool(0.5)),
        4 => Value::Null,
        _ => json!(datetime(rng)),
    }
}

/// Sometimes absent, null or an empty list; else one value or a short list of them.
fn field(rng: &mut ChaCha8Rng, mut one: impl FnMut(&mut ChaCha8Rng) -> Value) -> Option<Value> {
    match rng.gen_range(0..10) {
        0 => None,
        1 => Some(Value::Null),
        2 => Some(json!([])),
        3 | 4 => Some(Value::Array((0..rng.gen_range(1..4)).map(|_| one(rng)).collect())),
        _ => Some(one(rng)),
    }
}

fn random_payload(rng: &mut ChaCha8Rng) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    put("kw", field(rng, |r| json!(KW[r.gen_range(0..5)])));
    put("int", field(rng, |r| json!(r.gen_range(-3..4))));
    put(
        "fl",
        field(rng, |r| {
            if r.gen_bool(0.3) {
                json!(r.gen_range(-2..3))
            } else {
                json!(r.gen_range(-2.0..2.0f64))
            }
        }),
    );
    put("b", field(rng, |r| json!(r.gen_bool(0.5))));
    put(
        "dt",
        field(rng, |r| {
            if r.gen_bool(0.8) {
                json!(datetime(r))
            } else {
                json!(1_706_000_000 + r.gen_range(0..5_000_000))
            }
        }),
    );
    put("mix", field(rng, scalar_mix));
    let obj = match rng.gen_range(0..4) {
        0 => None,
        1 => Some(json!({"x": rng.gen_range(-2..3)})),
        2 => Some(json!([{"x": rng.gen_range(-2..3)}, {"x": [rng.gen_range(-2..3), null]}, {"y": 1}])),
        _ => Some(json!({"x": null})),
    };
    put("obj", obj);
    m
}

fn match_value(rng: &mut ChaCha8Rng) -> Value {
    match rng.gen_range(0..4) {
        0 | 1 => json!(KW[rng.gen_range(0..5)]),
        2 => json!(rng.gen_range(-3..4)),
        _ => json!(rng.gen_bool(0.5)),
    }
}

fn range(rng: &mut ChaCha8Rng, key: &str) -> Value {
    let mut r = Map::new();
    let ops = ["gt", "gte", "lt", "lte"];
    let k = rng.gen_range(1..3);
    let chosen: Vec<&str> = ops.choose_multiple(rng, k).copied().collect();
    for op in chosen {
        let v = if key == "dt" && rng.gen_bool(0.7) {
            json!(datetime(rng))
        } else if key == "dt" {
            json!(1_706_000_000 + rng.gen_range(0..5_000_000))
        } else {
            json!(rng.gen_range(-3.0..3.0f64))
        };
        r.insert(op.to_owned(), v);
    }
    Value::Object(r)
}

fn random_cond(rng: &mut ChaCha8Rng, depth: u32, n: u64) -> Value {
    let key = KEYS[rng.gen_range(0..KEYS.len())];
    match rng.gen_range(0..if depth > 0 { 10 } else { 9 }) {
        0 | 1 => json!({"key": key, "match": {"value": match_value(rng)}}),
        2 => json!({"key": key, "match": {"any": [match_value(rng), match_value(rng)]}}),
        3 => json!({"key": key, "match": {"except": [match_value(rng), match_value(rng)]}}),
        4 | 5 => json!({"key": key, "range": range(rng, key)}),
        6 => {
            let (lo, hi) = (rng.gen_range(0..3u64), rng.gen_range(1..4u64));
            json!({"key": key, "values_count": {"gte": lo, "lt": hi}})
        }
        7 => {
            if rng.gen_bool(0.5) {
                json!({"is_empty": {"key": key}})
            } else {
                json!({"is_null": {"key": key}})
            }
        }
        8 => json!({"has_id": (0..3).map(|_| rng.gen_range(0..n)).collect::<Vec<_>>()}),
        _ => random_filter(rng, depth - 1, n),
    }
}

fn random_filter(rng: &mut ChaCha8Rng, depth: u32, n: u64) -> Value {
    let mut m = Map::new();
    for clause in ["must", "should", "must_not"] {
        if rng.gen_bool(0.45) {
            let k = rng.gen_range(1..4);
            m.insert(clause.into(), Value::Array((0..k).map(|_| random_cond(rng, depth, n)).collect()));
        }
    }
    if rng.gen_bool(0.2) {
        let conds: Vec<Value> = (0..3).map(|_| random_cond(rng, depth, n)).collect();
        m.insert("min_should".into(), json!({"conditions": conds, "min_count": rng.gen_range(1..3)}));
    }
    Value::Object(m)
}

fn ids_of(s: &Storage, filter: &Filter) -> Vec<u64> {
    let req = ScrollRequest {
        filter: Some(filter.clone()),
        limit: 10_000,
        offset: None,
        with_payload: Some(WithPayload::All(false)),
        with_vector: false,
        order_by: None,
    };
    s.scroll("c", &req)
        .unwrap()
        .points
        .into_iter()
        .map(|r| match r.id {
            PointId::Num(n) => n,
            other => panic!("unexpected id {other:?}"),
        })
        .collect()
}

/// One seeded trial: build a collection, then compare 40 random filters with the oracle.
fn trial(seed: u64) -> usize {
    const N: u64 = 120;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let s =
        Storage::in_memory_with(StorageOptions { background_indexing: false, ..StorageOptions::default() });
    s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
    // Each typed field: indexed before the data, after it, or never.
    let when: Vec<u8> = TYPED.iter().map(|_| rng.gen_range(0..3)).collect();
    for (i, (name, schema)) in TYPED.iter().enumerate() {
        if when[i] == 0 {
            s.create_field_index("c", name, *schema).unwrap();
        }
    }
    let mut model: std::collections::BTreeMap<u64, Map<String, Value>> = Default::default();
    let pt = |id: u64, p: &Map<String, Value>| PointStruct {
        id: PointId::Num(id),
        vector: vec![id as f32, 1.0],
        payload: Some(p.clone()),
    };
    for chunk in (0..N).collect::<Vec<_>>().chunks(16) {
        let batch: Vec<PointStruct> = chunk
            .iter()
            .map(|&id| {
                let p = random_payload(&mut rng);
                model.insert(id, p.clone());
                pt(id, &p)
            })
            .collect();
        s.upsert("c", batch).unwrap();
    }
    for (i, (name, schema)) in TYPED.iter().enumerate() {
        if when[i] == 1 {
            s.create_field_index("c", name, *schema).unwrap();
        }
    }
    // Overwrites, payload edits, deletes: replaced postings and tombstones.
    for _ in 0..20 {
        let id = rng.gen_range(0..N);
        let p = random_payload(&mut rng);
        model.insert(id, p.clone());
        s.upsert("c", vec![pt(id, &p)]).unwrap();
    }
    for _ in 0..10 {
        let id = rng.gen_range(0..N);
        let sel = PointSelector::Ids { points: vec![PointId::Num(id)] };
        if rng.gen_bool(0.5) {
            let extra = random_payload(&mut rng);
            let key = ["kw", "int", "mix", "obj"][rng.gen_range(0..4)];
            let mut patch = Map::new();
            patch.insert(key.to_owned(), extra.get(key).cloned().unwrap_or(Value::Null));
            s.set_payload("c", patch.clone(), &sel).unwrap();
            if let Some(p) = model.get_mut(&id) {
                p.extend(patch);
            }
        } else {
            let key = ["kw", "fl", "dt", "b"][rng.gen_range(0..4)];
            s.delete_payload("c", &[key.to_owned()], &sel).unwrap();
            if let Some(p) = model.get_mut(&id) {
                p.remove(key);
            }
        }
    }
    for _ in 0..12 {
        let id = rng.gen_range(0..N);
        s.delete_points("c", &PointSelector::Ids { points: vec![PointId::Num(id)] }).unwrap();
        model.remove(&id);
    }
    let mut checked = 0;
    for _ in 0..40 {
        let fv = random_filter(&mut rng, 2, N);
        let filter: Filter = serde_json::from_value(fv.clone()).unwrap_or_else(|e| panic!("{fv}: {e}"));
        filter.validate().unwrap_or_else(|e| panic!("{fv}: {e}"));
        let want: Vec<u64> =
            model.iter().filter(|(id, p)| oracle::holds(&fv, **id, p)).map(|(id, _)| *id).collect();
        // Storage's own reference semantics, checked point by point against the oracle.
        for (id, p) in &model {
            assert_eq!(
                filter.matches(&PointId::Num(*id), p),
                oracle::holds(&fv, *id, p),
                "seed {seed}: Filter::matches disagrees with the oracle on point {id} {}\nfilter {fv}",
                Value::Object(p.clone())
            );
        }
        let got = ids_of(&s, &filter);
        assert_eq!(got, want, "seed {seed}, indexes {when:?} (0 before, 1 after, 2 never)\nfilter {fv}");
        let n = s.count("c", &CountRequest { filter: Some(filter), exact: true }).unwrap();
        assert_eq!(n, want.len() as u64, "seed {seed}: count of {fv}");
        checked += 1;
    }
    checked
}

#[test]
fn compiled_filters_agree_with_an_independent_oracle() {
    let mut total = 0;
    for seed in 0..24u64 {
        total += trial(0x6f72_6163 ^ seed);
    }
    assert_eq!(total, 24 * 40);
}

#[test]
fn the_oracle_itself_knows_the_documented_cases() {
    // The oracle is checked against hand-worked cases, so that the comparison above compares
    // two evaluators of the intended semantics and not two copies of one mistake.
    let p = |v: Value| v.as_object().cloned().unwrap();
    let a = p(
        json!({"kw": ["a", "b"], "int": 1, "fl": 1.0, "n": null, "e": [], "obj": [{"x": 1}, {"x": [2, null]}]}),
    );
    let t = |f: Value| oracle::holds(&f, 7, &a);
    assert!(t(json!({})));
    assert!(t(json!({"must": [{"key": "kw", "match": {"value": "b"}}]})));
    assert!(!t(json!({"must": [{"key": "fl", "match": {"value": 1}}]})), "a float never equals an integer");
    assert!(t(json!({"must": [{"key": "int", "match": {"value": 1}}]})));
    assert!(t(json!({"must": [{"key": "kw", "match": {"except": ["c"]}}]})));
    assert!(!t(json!({"must": [{"key": "kw", "match": {"except": ["a"]}}]})));
    assert!(!t(json!({"must": [{"key": "n", "match": {"except": ["a"]}}]})), "except needs a non-null value");
    assert!(!t(json!({"must": [{"key": "absent", "match": {"except": ["a"]}}]})));
    assert!(t(
        json!({"must": [{"is_empty": {"key": "n"}}, {"is_empty": {"key": "e"}}, {"is_empty": {"key": "absent"}}]})
    ));
    assert!(t(json!({"must": [{"is_null": {"key": "n"}}, {"is_null": {"key": "obj[].x"}}]})));
    assert!(!t(json!({"must": [{"is_null": {"key": "e"}}]})));
    assert!(
        t(json!({"must": [{"key": "obj[].x", "values_count": {"gte": 2, "lt": 3}}]})),
        "1, 2 (null not counted)"
    );
    assert!(
        t(json!({"must": [{"key": "obj.x", "values_count": {"lt": 1}}]})),
        "an array on the way is walked only with []"
    );
    assert!(t(json!({"must": [{"key": "obj[].x", "range": {"gt": 1.5}}]})));
    assert!(t(json!({"should": [{"has_id": [1]}, {"has_id": [7]}]})));
    assert!(!t(json!({"must_not": [{"has_id": [7]}]})));
    assert!(t(
        json!({"min_should": {"conditions": [{"has_id": [7]}, {"has_id": [8]}, {"key": "int", "range": {"lte": 1}}], "min_count": 2}})
    ));
    assert!(!t(json!({"min_should": {"conditions": [{"has_id": [7]}, {"has_id": [8]}], "min_count": 2}})));
    assert!(t(json!({"must": [{"must_not": [{"key": "kw", "match": {"any": ["z"]}}]}]})));
    assert_eq!(oracle::epoch("1970-01-02T00:00:01Z"), Some(86_401.0));
    assert_eq!(oracle::epoch("2024-03-01T00:00:00Z"), Some(1_709_251_200.0));
}
