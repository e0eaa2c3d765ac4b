//! Qdrant's gRPC `Filter` / `Condition` messages to the Qdrant-shaped filter JSON REST takes.
//! The service parses that JSON into storage's filter AST in one place, so both APIs share the
//! validation, the semantics and the error messages; this module only changes the notation.

use grove_proto::qdrant as pb;
use pb::condition::ConditionOneOf as C;
use pb::r#match::MatchValue as M;
use serde_json::{json, Map, Value as J};
use tonic::Status;

use super::convert::point_id;

/// A filter as REST JSON. Empty clause lists are left out.
pub fn filter(f: pb::Filter) -> Result<J, Status> {
    let mut out = Map::new();
    for (name, list) in [("must", f.must), ("should", f.should), ("must_not", f.must_not)] {
        if !list.is_empty() {
            out.insert(name.to_owned(), conditions(list)?);
        }
    }
    if let Some(ms) = f.min_should {
        out.insert(
            "min_should".to_owned(),
            json!({"conditions": conditions(ms.conditions)?, "min_count": ms.min_count}),
        );
    }
    Ok(J::Object(out))
}

/// An optional filter: `None` when absent or empty (no clause at all).
pub fn opt_filter(f: Option<pb::Filter>) -> Result<Option<J>, Status> {
    match f {
        None => Ok(None),
        Some(f) => {
            let j = filter(f)?;
            Ok(j.as_object().is_some_and(|m| !m.is_empty()).then_some(j))
        }
    }
}

fn conditions(list: Vec<pb::Condition>) -> Result<J, Status> {
    list.into_iter().map(condition).collect::<Result<Vec<_>, _>>().map(J::Array)
}

fn condition(c: pb::Condition) -> Result<J, Status> {
    let Some(c) = c.condition_one_of else {
        return Err(Status::invalid_argument(
            "filter: a condition sets none of field, is_empty, has_id, filter, is_null, nested, has_vector",
        ));
    };
    Ok(match c {
        C::Field(f) => field(*f)?,
        C::IsEmpty(e) => json!({"is_empty": {"key": e.key}}),
        C::IsNull(e) => json!({"is_null": {"key": e.key}}),
        C::HasId(h) => {
            let ids = h.has_id.into_iter().map(point_id).collect::<Result<Vec<_>, _>>()?;
            json!({"has_id": ids})
        }
        C::Filter(f) => filter(f)?,
        C::Nested(n) => {
            let inner = n.filter.map(filter).transpose()?.unwrap_or_else(|| json!({}));
            json!({"nested": {"key": n.key, "filter": inner}})
        }
        C::HasVector(h) => json!({"has_vector": h.has_vector}),
        C::Slice(s) => json!({"slice": {"total": s.total, "index": s.index}}),
    })
}

fn field(f: pb::FieldCondition) -> Result<J, Status> {
    let key = f.key;
    let mut out = Map::new();
    out.insert("key".to_owned(), J::String(key.clone()));
    if let Some(m) = f.r#match {
        out.insert("match".to_owned(), match_json(&key, m)?);
    }
    if let Some(r) = f.range {
        let mut m = Map::new();
        for (name, v) in [("lt", r.lt), ("gt", r.gt), ("gte", r.gte), ("lte", r.lte)] {
            if let Some(v) = v {
                m.insert(name.to_owned(), json!(v));
            }
        }
        out.insert("range".to_owned(), J::Object(m));
    }
    if let Some(r) = f.datetime_range {
        let mut m = Map::new();
        for (name, v) in [("lt", r.lt), ("gt", r.gt), ("gte", r.gte), ("lte", r.lte)] {
            if let Some(t) = v {
                m.insert(name.to_owned(), J::String(super::convert::rfc3339(&t)));
            }
        }
        out.insert("range".to_owned(), J::Object(m));
    }
    if let Some(b) = f.geo_bounding_box {
        out.insert(
            "geo_bounding_box".to_owned(),
            json!({"top_left": geo(b.top_left), "bottom_right": geo(b.bottom_right)}),
        );
    }
    if let Some(r) = f.geo_radius {
        out.insert("geo_radius".to_owned(), json!({"center": geo(r.center), "radius": r.radius}));
    }
    if let Some(p) = f.geo_polygon {
        let line = |l: Option<pb::GeoLineString>| json!({"points": l.map(|l| l.points.into_iter().map(|p| geo(Some(p))).collect::<Vec<_>>()).unwrap_or_default()});
        let interiors: Vec<J> = p.interiors.into_iter().map(|l| line(Some(l))).collect();
        out.insert("geo_polygon".to_owned(), json!({"exterior": line(p.exterior), "interiors": interiors}));
    }
    if let Some(v) = f.values_count {
        let mut m = Map::new();
        for (name, x) in [("lt", v.lt), ("gt", v.gt), ("gte", v.gte), ("lte", v.lte)] {
            if let Some(x) = x {
                m.insert(name.to_owned(), json!(x));
            }
        }
        out.insert("values_count".to_owned(), J::Object(m));
    }
    // `is_empty` / `is_null` set on a field condition: Qdrant's own condition kinds, negated
    // when false.
    let mut flags = Vec::new();
    for (name, v) in [("is_empty", f.is_empty), ("is_null", f.is_null)] {
        if let Some(v) = v {
            let mut c = Map::new();
            c.insert(name.to_owned(), json!({"key": key}));
            let c = J::Object(c);
            flags.push(if v { c } else { json!({"must_not": [c]}) });
        }
    }
    let conditions_set = out.len() > 1;
    match (conditions_set, flags.len()) {
        (false, 0) => Err(Status::invalid_argument(format!(
            "filter: the field condition on {key:?} sets no condition (set match, range, \
             datetime_range, geo_*, values_count, is_empty or is_null)"
        ))),
        (false, 1) => Ok(flags.remove(0)),
        (true, 0) => Ok(J::Object(out)),
        _ => {
            flags.push(J::Object(out));
            Ok(json!({"must": flags}))
        }
    }
}

fn geo(p: Option<pb::GeoPoint>) -> J {
    let p = p.unwrap_or_default();
    json!({"lon": p.lon, "lat": p.lat})
}

fn match_json(key: &str, m: pb::Match) -> Result<J, Status> {
    let Some(v) = m.match_value else {
        return Err(Status::invalid_argument(format!("filter: the match on {key:?} sets no value")));
    };
    Ok(match v {
        M::Keyword(s) => json!({"value": s}),
        M::Integer(i) => json!({"value": i}),
        M::Boolean(b) => json!({"value": b}),
        M::Text(s) => json!({"text": s}),
        M::Keywords(k) => json!({"any": k.strings}),
        M::Integers(k) => json!({"any": k.integers}),
        M::ExceptIntegers(k) => json!({"except": k.integers}),
        M::ExceptKeywords(k) => json!({"except": k.strings}),
        M::Phrase(s) => json!({"phrase": s}),
        M::TextAny(s) => json!({"text_any": s}),
        M::Prefix(s) => json!({"prefix": s}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_cond(f: pb::FieldCondition) -> pb::Condition {
        pb::Condition { condition_one_of: Some(C::Field(Box::new(f))) }
    }

    #[test]
    fn filters_become_rest_json() {
        let f = pb::Filter {
            must: vec![field_cond(pb::FieldCondition {
                key: "color".into(),
                r#match: Some(pb::Match { match_value: Some(M::Keyword("red".into())) }),
                ..Default::default()
            })],
            must_not: vec![field_cond(pb::FieldCondition {
                key: "n".into(),
                range: Some(pb::Range { gte: Some(3.0), ..Default::default() }),
                ..Default::default()
            })],
            should: vec![pb::Condition {
                condition_one_of: Some(C::HasId(pb::HasIdCondition {
                    has_id: vec![pb::PointId {
                        point_id_options: Some(pb::point_id::PointIdOptions::Num(4)),
                    }],
                })),
            }],
            min_should: None,
        };
        assert_eq!(
            filter(f).expect("converts"),
            json!({
                "must": [{"key": "color", "match": {"value": "red"}}],
                "must_not": [{"key": "n", "range": {"gte": 3.0}}],
                "should": [{"has_id": [4]}],
            })
        );
    }

    #[test]
    fn an_empty_field_condition_says_what_to_set() {
        let err = field(pb::FieldCondition { key: "k".into(), ..Default::default() }).expect_err("empty");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("\"k\""), "{}", err.message());
        let flag = field(pb::FieldCondition { key: "k".into(), is_empty: Some(false), ..Default::default() })
            .expect("flag");
        assert_eq!(flag, json!({"must_not": [{"is_empty": {"key": "k"}}]}));
    }
}
