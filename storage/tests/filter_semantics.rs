//! `match.text`, `match.phrase`, `match.prefix` and the geo conditions: compiled answers (index
//! or payload scan) against the reference semantics (`Filter::matches`) over seeded random
//! payloads, and the reference semantics against independent computations (haversine distances
//! of known cities, hand-checked polygons and word lists).
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use grove_index::Metric;
use grove_storage::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

fn obj(v: Value) -> Payload {
    v.as_object().cloned().unwrap_or_default()
}

const WORDS: [&str; 6] = ["Grove", "vector", "search", "fast", "graph", "index"];
const URLS: [&str; 6] = [
    "https://grove.dev/a",
    "https://grove.dev/b",
    "https://qdrant.tech",
    "http://x.org",
    "ftp://grove",
    "https",
];

fn random_payload(rng: &mut ChaCha8Rng) -> Value {
    let n = rng.gen_range(0..6);
    let text: Vec<&str> = (0..n).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
    let mut p = serde_json::Map::new();
    if rng.gen_bool(0.9) {
        p.insert("text".into(), json!(text.join(if rng.gen_bool(0.5) { " " } else { ", " })));
    }
    match rng.gen_range(0..4) {
        0 => {}
        1 => {
            p.insert("url".into(), json!(URLS[rng.gen_range(0..URLS.len())]));
        }
        2 => {
            p.insert(
                "url".into(),
                json!([URLS[rng.gen_range(0..URLS.len())], URLS[rng.gen_range(0..URLS.len())]]),
            );
        }
        _ => {
            p.insert("url".into(), Value::Null);
        }
    }
    let geo =
        |rng: &mut ChaCha8Rng| json!({"lon": rng.gen_range(-20.0..40.0), "lat": rng.gen_range(30.0..65.0)});
    match rng.gen_range(0..4) {
        0 => {}
        1 | 2 => {
            p.insert("loc".into(), geo(rng));
        }
        _ => {
            p.insert("loc".into(), json!([geo(rng), geo(rng)]));
        }
    }
    Value::Object(p)
}

fn random_cond(rng: &mut ChaCha8Rng) -> Value {
    let w = |rng: &mut ChaCha8Rng| WORDS[rng.gen_range(0..WORDS.len())].to_lowercase();
    match rng.gen_range(0..6) {
        0 => json!({"key": "text", "match": {"text": format!("{} {}", w(rng), w(rng))}}),
        1 => json!({"key": "text", "match": {"phrase": format!("{} {}", w(rng), w(rng))}}),
        2 => {
            // A start of some URL, or a piece from its middle (which a prefix must not find).
            let u = URLS[rng.gen_range(0..URLS.len())];
            let cut = rng.gen_range(0..=u.len());
            let from = if rng.gen_bool(0.5) { 0 } else { rng.gen_range(0..=cut) };
            json!({"key": "url", "match": {"prefix": &u[from..cut]}})
        }
        3 => {
            json!({"key": "loc", "geo_radius": {"center": {"lon": rng.gen_range(-20.0..40.0), "lat": rng.gen_range(30.0..65.0)},
                                                 "radius": rng.gen_range(1.0e5..1.5e6)}})
        }
        4 => {
            let (lon, lat) = (rng.gen_range(-20.0..30.0), rng.gen_range(40.0..65.0));
            json!({"key": "loc", "geo_bounding_box": {"top_left": {"lon": lon, "lat": lat},
                                                      "bottom_right": {"lon": lon + rng.gen_range(1.0..30.0), "lat": lat - rng.gen_range(1.0..20.0)}}})
        }
        _ => {
            let (lon, lat) = (rng.gen_range(-20.0..20.0), rng.gen_range(35.0..55.0));
            let ring = |lon: f64, lat: f64, d: f64| {
                json!({"points": [{"lon": lon, "lat": lat}, {"lon": lon + d, "lat": lat}, {"lon": lon + d / 2.0, "lat": lat + d},
                                  {"lon": lon, "lat": lat}]})
            };
            let mut poly = json!({"exterior": ring(lon, lat, 20.0)});
            if rng.gen_bool(0.5) {
                poly["interiors"] = json!([ring(lon + 6.0, lat + 2.0, 6.0)]);
            }
            json!({"key": "loc", "geo_polygon": poly})
        }
    }
}

#[test]
fn compiled_answers_equal_the_reference_semantics() {
    for seed in 0..8u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let s = Storage::in_memory_with(StorageOptions {
            background_indexing: false,
            ..StorageOptions::default()
        });
        s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
        // The keyword index (answering prefix) before the data on even seeds, after on odd ones.
        if seed % 2 == 0 {
            s.create_field_index("c", "url", PayloadSchemaType::Keyword).unwrap();
        }
        let mut payloads = Vec::new();
        for id in 0..150u64 {
            let p = random_payload(&mut rng);
            payloads.push((PointId::Num(id), obj(p.clone())));
            s.upsert(
                "c",
                vec![PointStruct {
                    id: PointId::Num(id),
                    vector: vec![id as f32, 0.0],
                    payload: Some(obj(p)),
                }],
            )
            .unwrap();
        }
        if seed % 2 == 1 {
            s.create_field_index("c", "url", PayloadSchemaType::Keyword).unwrap();
        }
        let deleted: Vec<PointId> = (0..150u64).step_by(13).map(PointId::Num).collect();
        s.delete_points("c", &PointSelector::Ids { points: deleted.clone() }).unwrap();
        let mut nonempty = 0;
        for _ in 0..40 {
            let fv = if rng.gen_bool(0.3) {
                json!({"should": [random_cond(&mut rng), random_cond(&mut rng)], "must_not": [random_cond(&mut rng)]})
            } else {
                json!({"must": [random_cond(&mut rng)]})
            };
            let filter: Filter = serde_json::from_value(fv.clone()).unwrap();
            filter.validate().unwrap();
            let expected: Vec<PointId> = payloads
                .iter()
                .filter(|(id, p)| !deleted.contains(id) && filter.matches(id, p))
                .map(|(id, _)| *id)
                .collect();
            nonempty += usize::from(!expected.is_empty() && expected.len() < payloads.len() - deleted.len());
            let got: Vec<PointId> = s
                .scroll(
                    "c",
                    &ScrollRequest {
                        filter: Some(filter.clone()),
                        limit: 1000,
                        offset: None,
                        with_payload: Some(WithPayload::All(false)),
                        with_vector: false,
                        order_by: None,
                    },
                )
                .unwrap()
                .points
                .into_iter()
                .map(|r| r.id)
                .collect();
            assert_eq!(got, expected, "seed {seed} filter {fv}");
            let n = s.count("c", &CountRequest { filter: Some(filter), exact: true }).unwrap();
            assert_eq!(n, expected.len() as u64);
        }
        // The conditions are selective, not all-or-nothing (else the comparison proves little).
        assert!(nonempty >= 20, "seed {seed}: only {nonempty} of 40 filters split the points");
    }
}

#[test]
fn prefix_is_answered_by_the_keyword_index() {
    let s = Storage::in_memory();
    s.create_collection("c", CollectionConfig::new(2, Metric::L2)).unwrap();
    s.create_field_index("c", "url", PayloadSchemaType::Keyword).unwrap();
    for (id, u) in URLS.iter().enumerate() {
        let payload = obj(json!({"url": u}));
        s.upsert(
            "c",
            vec![PointStruct { id: PointId::Num(id as u64), vector: vec![0.0, 1.0], payload: Some(payload) }],
        )
        .unwrap();
    }
    let f: Filter =
        serde_json::from_value(json!({"must": [{"key": "url", "match": {"prefix": "https://grove"}}]}))
            .unwrap();
    let e = s.explain_filter("c", &f).unwrap();
    assert_eq!(e.cardinality, 2);
    assert_eq!(e.indexed_fields, vec!["url".to_owned()]);
    assert!(e.unindexed_fields.is_empty(), "{e:?}");
    // Without an index the same answer comes from the payloads.
    let f: Filter =
        serde_json::from_value(json!({"must": [{"key": "text", "match": {"text": "grove"}}]})).unwrap();
    assert_eq!(s.explain_filter("c", &f).unwrap().unindexed_fields, vec!["text".to_owned()]);
}

fn cond(v: Value) -> Condition {
    serde_json::from_value(v).unwrap()
}

#[test]
fn text_and_phrase_semantics() {
    let id = PointId::Num(1);
    let p = obj(
        json!({"t": "Fast, filtered vector-search: Grove's graph", "many": ["alpha beta", "gamma"], "n": 5}),
    );
    let yes = |v: Value| assert!(cond(v.clone()).matches(&id, &p), "{v}");
    let no = |v: Value| assert!(!cond(v.clone()).matches(&id, &p), "{v}");
    yes(json!({"key": "t", "match": {"text": "GRAPH fast"}}));
    yes(json!({"key": "t", "match": {"text": "vector search"}}));
    no(json!({"key": "t", "match": {"text": "fast index"}}));
    no(json!({"key": "t", "match": {"text": "filter"}}));
    yes(json!({"key": "t", "match": {"phrase": "vector search grove"}}));
    no(json!({"key": "t", "match": {"phrase": "search vector"}}));
    // Words must co-occur in ONE value of an array.
    yes(json!({"key": "many", "match": {"text": "beta alpha"}}));
    no(json!({"key": "many", "match": {"text": "alpha gamma"}}));
    no(json!({"key": "n", "match": {"text": "5"}}));
    yes(json!({"key": "t", "match": {"prefix": "Fast, fil"}}));
    no(json!({"key": "t", "match": {"prefix": "fast"}}));
    assert_eq!(filter::words("Grove's  GRAPH-index"), vec!["grove", "s", "graph", "index"]);
    let e = serde_json::from_value::<Filter>(
        json!({"must": [{"key": "t", "match": {"text": "a", "prefix": "b"}}]}),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("exactly one"), "{e}");
}

#[test]
fn geo_semantics_against_known_distances() {
    let id = PointId::Num(1);
    // Berlin and Moscow are 1,608-1,610 km apart by great circle; London-Paris about 344 km.
    let berlin = json!({"lon": 13.405, "lat": 52.52});
    let p = obj(
        json!({"city": berlin, "both": [{"lon": -0.1278, "lat": 51.5074}, {"lon": 2.3522, "lat": 48.8566}]}),
    );
    let moscow = json!({"lon": 37.6173, "lat": 55.7558});
    let within =
        |r: f64| cond(json!({"key": "city", "geo_radius": {"center": moscow, "radius": r}})).matches(&id, &p);
    assert!(within(1_612_000.0));
    assert!(!within(1_605_000.0));
    let d = GeoPoint { lon: -0.1278, lat: 51.5074 }.distance_m(&GeoPoint { lon: 2.3522, lat: 48.8566 });
    assert!((340_000.0..348_000.0).contains(&d), "{d}");
    let bbox = |tl: (f64, f64), br: (f64, f64)| {
        cond(json!({"key": "city", "geo_bounding_box": {"top_left": {"lon": tl.0, "lat": tl.1}, "bottom_right": {"lon": br.0, "lat": br.1}}}))
            .matches(&id, &p)
    };
    assert!(bbox((10.0, 55.0), (15.0, 50.0)));
    assert!(!bbox((14.0, 55.0), (15.0, 50.0)));
    // A box across the antimeridian (170E to 20E eastwards) holds Berlin.
    assert!(bbox((170.0, 60.0), (20.0, 40.0)));
    let square = |lon: f64, lat: f64, d: f64| {
        json!({"points": [{"lon": lon, "lat": lat}, {"lon": lon + d, "lat": lat}, {"lon": lon + d, "lat": lat + d},
                          {"lon": lon, "lat": lat + d}, {"lon": lon, "lat": lat}]})
    };
    assert!(
        cond(json!({"key": "city", "geo_polygon": {"exterior": square(10.0, 50.0, 5.0)}})).matches(&id, &p)
    );
    assert!(!cond(json!({"key": "city", "geo_polygon": {"exterior": square(10.0, 50.0, 5.0), "interiors": [square(13.0, 52.0, 1.0)]}}))
        .matches(&id, &p));
    // An array of points: any of them counts.
    assert!(cond(
        json!({"key": "both", "geo_radius": {"center": {"lon": 2.35, "lat": 48.85}, "radius": 1000.0}})
    )
    .matches(&id, &p));
    // Validation names what to fix.
    for (bad, needle) in [
        (
            json!({"key": "city", "geo_radius": {"center": {"lon": 200.0, "lat": 0.0}, "radius": 1.0}}),
            "out of range",
        ),
        (
            json!({"key": "city", "geo_radius": {"center": {"lon": 0.0, "lat": 0.0}, "radius": -1.0}}),
            "radius",
        ),
        (
            json!({"key": "city", "geo_polygon": {"exterior": {"points": [{"lon": 0.0, "lat": 0.0}, {"lon": 1.0, "lat": 0.0}, {"lon": 0.0, "lat": 1.0}]}}}),
            "at least 4",
        ),
        (
            json!({"key": "city", "geo_bounding_box": {"top_left": {"lon": 0.0, "lat": 0.0}, "bottom_right": {"lon": 1.0, "lat": 1.0}}}),
            "south",
        ),
    ] {
        let f: Filter = serde_json::from_value(json!({"must": [bad]})).unwrap();
        let e = f.validate().unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
}
