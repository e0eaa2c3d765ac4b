//! Model-based test of grove-storage: seeded random sequences of upserts, deletes (by id and by
//! filter), payload set / overwrite / delete / clear, payload index create and drop, snapshot,
//! recover and reopen, run against a RocksDB storage in a temp dir and against a `BTreeMap`
//! model. After every step, retrieve, scroll (paged, filtered), count (filtered) and exact
//! search (filtered, `strategy: exact`) must agree with the model, and so must the list of
//! payload indexes.
//!
//! A seeded driver rather than proptest's state machine: `proptest-state-machine` is not a
//! dependency of the workspace, and each failure here prints its seed and step, which replays
//! the run exactly (`MODEL_SEED=<seed> MODEL_STEPS=<n> cargo test -p grove-storage --test model`).
//! Filters are judged by `common::oracle`, which is not storage's code.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::oracle;
use grove_index::Metric;
use grove_storage::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

const DIM: usize = 3;
const IDS: u64 = 30;
const FIELDS: [(&str, PayloadSchemaType); 4] = [
    ("kw", PayloadSchemaType::Keyword),
    ("int", PayloadSchemaType::Integer),
    ("fl", PayloadSchemaType::Float),
    ("b", PayloadSchemaType::Bool),
];

/// What storage should hold.
#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    points: BTreeMap<u64, (Vec<f32>, Map<String, Value>)>,
    indexes: BTreeMap<String, PayloadSchemaType>,
}

impl Model {
    /// Whether `payload` fits every index (an indexed field holds only values of its type).
    fn fits(&self, payload: &Map<String, Value>) -> bool {
        self.indexes
            .iter()
            .all(|(field, schema)| oracle::values(payload, field).iter().all(|v| fits(*schema, v)))
    }
}

/// The value types an index of `schema` accepts (null always).
fn fits(schema: PayloadSchemaType, v: &Value) -> bool {
    match (schema, v) {
        (_, Value::Null) => true,
        (PayloadSchemaType::Keyword, Value::String(_)) => true,
        (PayloadSchemaType::Integer, Value::Number(n)) => n.as_i64().is_some(),
        (PayloadSchemaType::Float, Value::Number(_)) => true,
        (PayloadSchemaType::Bool, Value::Bool(_)) => true,
        _ => false,
    }
}

fn vector(rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..DIM).map(|_| rng.gen_range(-1.0..1.0f32)).collect()
}

/// Mostly well-typed values; now and then one of another type (which an index must refuse).
fn payload(rng: &mut ChaCha8Rng) -> Map<String, Value> {
    let mut m = Map::new();
    let wrong = |rng: &mut ChaCha8Rng| match rng.gen_range(0..3) {
        0 => json!("x"),
        1 => json!(1.5),
        _ => json!(true),
    };
    for (name, _) in FIELDS {
        if rng.gen_bool(0.2) {
            continue;
        }
        let v = if rng.gen_bool(0.04) {
            wrong(rng)
        } else {
            match name {
                "kw" if rng.gen_bool(0.3) => json!([(["a", "b", "c"][rng.gen_range(0..3)]), "d"]),
                "kw" => json!(["a", "b", "c", "d"][rng.gen_range(0..4)]),
                "int" => json!(rng.gen_range(-3..4)),
                // Multiples of 1/8 are exact in binary and in decimal: they survive the JSON
                // round trip bit for bit with or without serde_json's float_roundtrip.
                "fl" => json!(f64::from(rng.gen_range(-16..16)) / 8.0),
                _ => json!(rng.gen_bool(0.5)),
            }
        };
        m.insert(name.to_owned(), if rng.gen_bool(0.05) { Value::Null } else { v });
    }
    m
}

fn filter(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    let cond = |rng: &mut ChaCha8Rng| -> Value {
        match rng.gen_range(0..if depth > 0 { 7 } else { 6 }) {
            0 => json!({"key": "kw", "match": {"value": (["a", "b", "c", "d"][rng.gen_range(0..4)])}}),
            1 => json!({"key": "int", "match": {"any": [rng.gen_range(-3..4), rng.gen_range(-3..4)]}}),
            2 => {
                json!({"key": (["int", "fl"][rng.gen_range(0..2)]), "range": {"gte": rng.gen_range(-3.0..1.0f64), "lt": rng.gen_range(-1.0..3.0f64)}})
            }
            3 => json!({"key": "b", "match": {"value": rng.gen_bool(0.5)}}),
            4 => json!({"is_empty": {"key": (["kw", "int", "fl", "b"][rng.gen_range(0..4)])}}),
            5 => json!({"has_id": [rng.gen_range(0..IDS), rng.gen_range(0..IDS)]}),
            _ => filter(rng, depth - 1),
        }
    };
    let mut m = Map::new();
    for clause in ["must", "should", "must_not"] {
        if rng.gen_bool(0.4) {
            let n = rng.gen_range(1..3);
            m.insert(clause.into(), Value::Array((0..n).map(|_| cond(rng)).collect()));
        }
    }
    Value::Object(m)
}

fn parse(f: &Value) -> Filter {
    serde_json::from_value(f.clone()).unwrap()
}

fn ids(selected: &[u64]) -> PointSelector {
    PointSelector::Ids { points: selected.iter().map(|&i| PointId::Num(i)).collect() }
}

fn num(id: PointId) -> u64 {
    match id {
        PointId::Num(n) => n,
        other => panic!("unexpected id {other:?}"),
    }
}

fn open(dir: &Path) -> Storage {
    Storage::open_with(dir, StorageOptions { background_indexing: false, ..StorageOptions::default() })
        .unwrap()
}

/// One step: apply a random operation to storage and to the model. Returns its description.
fn step(
    rng: &mut ChaCha8Rng,
    s: &mut Storage,
    dir: &Path,
    m: &mut Model,
    snaps: &mut Vec<(String, Model)>,
) -> String {
    let some_ids = |rng: &mut ChaCha8Rng| -> Vec<u64> {
        let set: BTreeSet<u64> = (0..rng.gen_range(1..4)).map(|_| rng.gen_range(0..IDS)).collect();
        set.into_iter().collect()
    };
    match rng.gen_range(0..100) {
        0..=29 => {
            let batch: Vec<(u64, Vec<f32>, Map<String, Value>)> =
                some_ids(rng).into_iter().map(|id| (id, vector(rng), payload(rng))).collect();
            let ok = batch.iter().all(|(_, _, p)| m.fits(p));
            let points = batch
                .iter()
                .map(|(id, v, p)| PointStruct {
                    id: PointId::Num(*id),
                    vector: v.clone(),
                    payload: Some(p.clone()),
                })
                .collect();
            let r = s.upsert("c", points);
            assert_eq!(r.is_ok(), ok, "upsert {batch:?}: {r:?}");
            if ok {
                for (id, v, p) in batch {
                    m.points.insert(id, (v, p));
                }
            } else {
                assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidArgument);
            }
            "upsert".into()
        }
        30..=39 => {
            let sel = some_ids(rng);
            s.delete_points("c", &ids(&sel)).unwrap();
            for id in &sel {
                m.points.remove(id);
            }
            format!("delete {sel:?}")
        }
        40..=44 => {
            let f = filter(rng, 1);
            s.delete_points("c", &PointSelector::Filter { filter: parse(&f) }).unwrap();
            m.points.retain(|id, (_, p)| !oracle::holds(&f, *id, p));
            format!("delete by filter {f}")
        }
        45..=59 => {
            let sel = some_ids(rng);
            let kind = rng.gen_range(0..4);
            let patch = payload(rng);
            let key = FIELDS[rng.gen_range(0..FIELDS.len())].0.to_owned();
            let edit = |p: &mut Map<String, Value>| match kind {
                0 => p.extend(patch.clone()),
                1 => *p = patch.clone(),
                2 => {
                    p.remove(&key);
                }
                _ => p.clear(),
            };
            let mut edited = m.clone();
            for id in &sel {
                if let Some((_, p)) = edited.points.get_mut(id) {
                    edit(p);
                }
            }
            let ok = sel.iter().filter_map(|id| edited.points.get(id)).all(|(_, p)| m.fits(p));
            let r = match kind {
                0 => s.set_payload("c", patch.clone(), &ids(&sel)),
                1 => s.overwrite_payload("c", patch.clone(), &ids(&sel)),
                2 => s.delete_payload("c", std::slice::from_ref(&key), &ids(&sel)),
                _ => s.clear_payload("c", &ids(&sel)),
            };
            assert_eq!(r.is_ok(), ok, "payload edit {kind} {patch:?} on {sel:?}: {r:?}");
            if ok {
                *m = edited;
            }
            format!("payload edit {kind} on {sel:?}")
        }
        60..=69 => {
            let (field, schema) = FIELDS[rng.gen_range(0..FIELDS.len())];
            // Now and then the wrong type for the field, which its values refuse.
            let schema = if rng.gen_bool(0.2) { FIELDS[rng.gen_range(0..FIELDS.len())].1 } else { schema };
            let r = s.create_field_index("c", field, schema);
            match m.indexes.get(field) {
                Some(existing) if *existing == schema => assert!(r.is_ok(), "{r:?}"),
                // Another type replaces the index when every value fits it (as in Qdrant);
                // otherwise the old index stays.
                _ => {
                    let ok = m
                        .points
                        .values()
                        .all(|(_, p)| oracle::values(p, field).iter().all(|v| fits(schema, v)));
                    assert_eq!(r.is_ok(), ok, "index {field} as {schema:?}: {r:?}");
                    if ok {
                        m.indexes.insert(field.to_owned(), schema);
                    }
                }
            }
            format!("create index {field} {schema:?}")
        }
        70..=74 => {
            let field = FIELDS[rng.gen_range(0..FIELDS.len())].0;
            s.delete_field_index("c", field).unwrap();
            m.indexes.remove(field);
            format!("drop index {field}")
        }
        75..=82 => {
            let snap = s.create_snapshot("c").unwrap();
            snaps.push((snap.name.clone(), m.clone()));
            format!("snapshot {}", snap.name)
        }
        83..=90 => {
            if snaps.is_empty() {
                return "recover (no snapshot yet)".into();
            }
            let (name, saved) = snaps[rng.gen_range(0..snaps.len())].clone();
            let path = s.snapshot_path("c", &name).unwrap();
            let out = s.recover_snapshot("c", &path).unwrap();
            assert_eq!(out.points, saved.points.len() as u64);
            *m = saved;
            format!("recover {name}")
        }
        _ => {
            let placeholder = Storage::in_memory();
            drop(std::mem::replace(s, placeholder));
            *s = open(dir);
            "reopen".into()
        }
    }
}

/// Every read path against the model.
fn check(rng: &mut ChaCha8Rng, s: &Storage, m: &Model, at: &str) {
    // Retrieve: every id, payloads and vectors.
    let all: Vec<PointId> = (0..IDS).map(PointId::Num).collect();
    let got: BTreeMap<u64, (Vec<f32>, Map<String, Value>)> = s
        .get_points("c", &all, &WithPayload::All(true), true)
        .unwrap()
        .into_iter()
        .map(|r| (num(r.id), (r.vector.unwrap(), r.payload.unwrap_or_default())))
        .collect();
    assert_eq!(got, m.points, "{at}: retrieve");
    // Indexes.
    let info = s.collection_info("c").unwrap();
    let schema: BTreeMap<String, PayloadSchemaType> =
        info.payload_schema.iter().map(|(k, v)| (k.clone(), v.data_type)).collect();
    assert_eq!(schema, m.indexes, "{at}: payload indexes");
    assert_eq!(info.points_count, m.points.len() as u64, "{at}: points_count");
    for _ in 0..3 {
        let f = filter(rng, 2);
        let want: Vec<u64> =
            m.points.iter().filter(|(id, (_, p))| oracle::holds(&f, **id, p)).map(|(id, _)| *id).collect();
        // Scroll in pages of 7.
        let mut seen = Vec::new();
        let mut offset = None;
        loop {
            let req = ScrollRequest {
                filter: Some(parse(&f)),
                limit: 7,
                offset,
                with_payload: None,
                with_vector: false,
                order_by: None,
            };
            let page = s.scroll("c", &req).unwrap();
            seen.extend(page.points.iter().map(|r| num(r.id)));
            match page.next_page_offset {
                Some(o) => offset = Some(o),
                None => break,
            }
        }
        assert_eq!(seen, want, "{at}: scroll {f}");
        let n = s.count("c", &CountRequest { filter: Some(parse(&f)), exact: true }).unwrap();
        assert_eq!(n, want.len() as u64, "{at}: count {f}");
        // Exact search: the model's top 5 by dot product, ties by score.
        let q = vector(rng);
        let mut req = QueryRequest::new(q.clone(), 5);
        req.filter = Some(parse(&f));
        req.strategy = grove_index::explain::Strategy::Exact;
        let hits = s.query("c", &req).unwrap().points;
        let score = |v: &[f32]| v.iter().zip(&q).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>();
        let mut scored: Vec<(f64, u64)> = want.iter().map(|id| (score(&m.points[id].0), *id)).collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.truncate(5);
        assert_eq!(hits.len(), scored.len(), "{at}: query {f} returned {hits:?}, model {scored:?}");
        for (i, h) in hits.iter().enumerate() {
            let id = num(h.id);
            let own = m.points.get(&id).map(|(v, _)| score(v));
            assert!(want.contains(&id), "{at}: query {f}: {id} does not match the filter");
            assert!(
                own.is_some_and(|x| (x - f64::from(h.score)).abs() < 1e-4),
                "{at}: query {f}: {id} scored {} but its vector gives {own:?}",
                h.score
            );
            assert!(
                (scored[i].0 - f64::from(h.score)).abs() < 1e-4,
                "{at}: query {f}: rank {i} is {id} ({}), model {:?}",
                h.score,
                scored
            );
        }
    }
}

/// Runs `steps` steps; returns how often each kind of step ran (its description's first word,
/// with refusals counted apart), so the caller can check that every path was exercised.
fn run(seed: u64, steps: usize) -> BTreeMap<String, usize> {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = open(dir.path());
    s.create_collection("c", CollectionConfig::new(DIM, Metric::Dot)).unwrap();
    let mut m = Model::default();
    let mut snaps = Vec::new();
    let mut tally = BTreeMap::new();
    for i in 0..steps {
        let before = m.clone();
        let what = step(&mut rng, &mut s, dir.path(), &mut m, &mut snaps);
        let mut kind = what.split_whitespace().next().unwrap_or("").to_owned();
        if m == before && matches!(kind.as_str(), "upsert" | "payload" | "create") {
            kind.push_str(" (refused or no-op)");
        }
        *tally.entry(kind).or_insert(0) += 1;
        check(&mut rng, &s, &m, &format!("seed {seed} step {i} ({what})"));
    }
    tally
}

#[test]
fn storage_agrees_with_a_btreemap_model() {
    let seed: Option<u64> = std::env::var("MODEL_SEED").ok().and_then(|v| v.parse().ok());
    let steps: usize = std::env::var("MODEL_STEPS").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    let seeds: Vec<u64> = match seed {
        Some(seed) => vec![seed],
        None => (0..6u64).map(|i| 0x6d6f_6465_6c00 + i).collect(),
    };
    let mut total: BTreeMap<String, usize> = BTreeMap::new();
    for seed in seeds {
        for (k, n) in run(seed, steps) {
            *total.entry(k).or_insert(0) += n;
        }
    }
    println!("steps by kind: {total:?}");
    if seed.is_none() {
        for kind in [
            "upsert",
            "upsert (refused or no-op)",
            "delete",
            "payload",
            "create",
            "drop",
            "snapshot",
            "recover",
            "reopen",
        ] {
            assert!(total.get(kind).copied().unwrap_or(0) > 0, "no `{kind}` step ran: {total:?}");
        }
    }
}
