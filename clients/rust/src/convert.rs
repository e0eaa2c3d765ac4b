//! Conversions between JSON (`serde_json`) and grove.v1 messages: payload values, point ids,
//! and Qdrant-shaped filters. The same filter JSON works over REST, the Python client and here.

use std::collections::HashMap;

use grove_proto::v1 as pb;
use serde_json::{Map, Value as Json};

use crate::error::{ClientError, Result};

/// A point id: an unsigned integer or a UUID string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PointId {
    /// Unsigned integer id.
    Num(u64),
    /// UUID id.
    Uuid(String),
}

impl From<u64> for PointId {
    fn from(n: u64) -> Self {
        PointId::Num(n)
    }
}

impl From<&str> for PointId {
    fn from(s: &str) -> Self {
        PointId::Uuid(s.to_owned())
    }
}

impl std::fmt::Display for PointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PointId::Num(n) => write!(f, "{n}"),
            PointId::Uuid(u) => f.write_str(u),
        }
    }
}

impl From<&PointId> for pb::PointId {
    fn from(id: &PointId) -> Self {
        let kind = match id {
            PointId::Num(n) => pb::point_id::Kind::Num(*n),
            PointId::Uuid(u) => pb::point_id::Kind::Uuid(u.clone()),
        };
        pb::PointId { kind: Some(kind) }
    }
}

impl From<&pb::PointId> for PointId {
    fn from(id: &pb::PointId) -> Self {
        match &id.kind {
            Some(pb::point_id::Kind::Uuid(u)) => PointId::Uuid(u.clone()),
            Some(pb::point_id::Kind::Num(n)) => PointId::Num(*n),
            // An unset id never comes from a well-behaved server; 0 keeps the type total.
            None => PointId::Num(0),
        }
    }
}

/// A JSON value as a grove.v1 `Value` (integers stay integers).
pub fn json_to_value(v: &Json) -> pb::Value {
    use pb::value::Kind;
    let kind = match v {
        Json::Null => Kind::NullValue(pb::NullValue::NullValue as i32),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntegerValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(a) => Kind::ListValue(pb::ListValue { values: a.iter().map(json_to_value).collect() }),
        Json::Object(o) => Kind::StructValue(pb::Struct { fields: payload_to_pb(o) }),
    };
    pb::Value { kind: Some(kind) }
}

/// A grove.v1 `Value` as JSON (a non-finite double becomes null, which JSON cannot hold).
pub fn value_to_json(v: &pb::Value) -> Json {
    use pb::value::Kind;
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::IntegerValue(i)) => Json::from(*i),
        Some(Kind::DoubleValue(d)) => serde_json::Number::from_f64(*d).map_or(Json::Null, Json::Number),
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(value_to_json).collect()),
        Some(Kind::StructValue(s)) => Json::Object(payload_from_pb(&s.fields)),
    }
}

/// A JSON object as a payload map.
pub fn payload_to_pb(m: &Map<String, Json>) -> HashMap<String, pb::Value> {
    m.iter().map(|(k, v)| (k.clone(), json_to_value(v))).collect()
}

/// A payload map as a JSON object (keys sorted, for stable output).
pub fn payload_from_pb(m: &HashMap<String, pb::Value>) -> Map<String, Json> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.into_iter().map(|k| (k.clone(), value_to_json(&m[k]))).collect()
}

fn invalid(msg: impl Into<String>) -> ClientError {
    ClientError::Invalid(msg.into())
}

/// A Qdrant-shaped filter (`{"must": [...], "should": [...], "must_not": [...]}`) as a
/// grove.v1 `Filter`. Conditions: `{"key", "match": {"value"|"any"|"except"}}`,
/// `{"key", "range": {lt, gt, gte, lte}}` (string bounds: a datetime range),
/// `{"key", "values_count": {...}}`, `{"is_empty": {"key"}}`, `{"is_null": {"key"}}`,
/// `{"has_id": [ids]}`, and nested filters.
pub fn filter_from_json(v: &Json) -> Result<pb::Filter> {
    let obj = v.as_object().ok_or_else(|| invalid("filter must be a JSON object"))?;
    let mut out = pb::Filter::default();
    for (key, conds) in obj {
        let target = match key.as_str() {
            "must" => &mut out.must,
            "should" => &mut out.should,
            "must_not" => &mut out.must_not,
            other => {
                return Err(invalid(format!("unknown filter key {other:?}; expected must, should, must_not")))
            }
        };
        match conds {
            Json::Array(list) => {
                for c in list {
                    target.push(condition_from_json(c)?);
                }
            }
            Json::Object(_) => target.push(condition_from_json(conds)?),
            Json::Null => {}
            _ => return Err(invalid(format!("filter {key:?} must be a list of conditions"))),
        }
    }
    Ok(out)
}

fn condition_from_json(c: &Json) -> Result<pb::Condition> {
    use pb::condition::Kind;
    let obj = c.as_object().ok_or_else(|| invalid(format!("condition must be an object, got {c}")))?;
    let kind = if obj.contains_key("key") {
        Kind::Field(Box::new(field_condition(obj)?))
    } else if let Some(e) = obj.get("is_empty") {
        Kind::IsEmpty(pb::IsEmptyCondition { key: key_of(e)? })
    } else if let Some(e) = obj.get("is_null") {
        Kind::IsNull(pb::IsNullCondition { key: key_of(e)? })
    } else if let Some(ids) = obj.get("has_id") {
        let ids = ids.as_array().ok_or_else(|| invalid("has_id must be a list of ids"))?;
        let has_id =
            ids.iter().map(|i| id_from_json(i).map(|id| pb::PointId::from(&id))).collect::<Result<_>>()?;
        Kind::HasId(pb::HasIdCondition { has_id })
    } else if let Some(f) = obj.get("filter") {
        Kind::Filter(filter_from_json(f)?)
    } else if obj.keys().any(|k| matches!(k.as_str(), "must" | "should" | "must_not")) {
        Kind::Filter(filter_from_json(c)?)
    } else {
        return Err(invalid(format!("unrecognised condition {c}")));
    };
    Ok(pb::Condition { kind: Some(kind) })
}

fn key_of(v: &Json) -> Result<String> {
    v.get("key")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid(format!("expected {{\"key\": ...}}, got {v}")))
}

/// A point id from JSON: a non-negative integer or a string (UUID).
pub fn id_from_json(v: &Json) -> Result<PointId> {
    match v {
        Json::Number(n) => n.as_u64().map(PointId::Num).ok_or_else(|| invalid(format!("bad point id {n}"))),
        Json::String(s) => Ok(PointId::Uuid(s.clone())),
        other => Err(invalid(format!("bad point id {other}"))),
    }
}

fn field_condition(obj: &Map<String, Json>) -> Result<pb::FieldCondition> {
    let key =
        obj.get("key").and_then(Json::as_str).ok_or_else(|| invalid("condition key must be a string"))?;
    let mut fc = pb::FieldCondition { key: key.to_owned(), ..Default::default() };
    for (k, v) in obj {
        match k.as_str() {
            "key" => {}
            "match" => fc.r#match = Some(match_from_json(key, v)?),
            "range" => {
                let r =
                    v.as_object().ok_or_else(|| invalid(format!("range on {key:?} must be an object")))?;
                if r.values().any(Json::is_string) {
                    let mut d = pb::DatetimeRange::default();
                    for (b, val) in r {
                        let s = val.as_str().map(str::to_owned);
                        match b.as_str() {
                            "lt" => d.lt = s,
                            "gt" => d.gt = s,
                            "gte" => d.gte = s,
                            "lte" => d.lte = s,
                            other => {
                                return Err(invalid(format!("range on {key:?}: unknown bound {other:?}")))
                            }
                        }
                    }
                    fc.datetime_range = Some(d);
                } else {
                    let mut n = pb::Range::default();
                    for (b, val) in r {
                        let x = val.as_f64();
                        match b.as_str() {
                            "lt" => n.lt = x,
                            "gt" => n.gt = x,
                            "gte" => n.gte = x,
                            "lte" => n.lte = x,
                            other => {
                                return Err(invalid(format!("range on {key:?}: unknown bound {other:?}")))
                            }
                        }
                    }
                    fc.range = Some(n);
                }
            }
            "values_count" => {
                let r = v
                    .as_object()
                    .ok_or_else(|| invalid(format!("values_count on {key:?} must be an object")))?;
                let mut c = pb::ValuesCount::default();
                for (b, val) in r {
                    let x = val.as_u64();
                    match b.as_str() {
                        "lt" => c.lt = x,
                        "gt" => c.gt = x,
                        "gte" => c.gte = x,
                        "lte" => c.lte = x,
                        other => {
                            return Err(invalid(format!("values_count on {key:?}: unknown bound {other:?}")))
                        }
                    }
                }
                fc.values_count = Some(c);
            }
            other => return Err(invalid(format!("condition on {key:?}: unsupported key {other:?}"))),
        }
    }
    Ok(fc)
}

fn match_from_json(key: &str, v: &Json) -> Result<pb::Match> {
    use pb::r#match::Kind;
    let obj = v.as_object().ok_or_else(|| invalid(format!("match on {key:?} must be an object")))?;
    let kind = if let Some(value) = obj.get("value") {
        match value {
            Json::String(s) => Kind::Keyword(s.clone()),
            Json::Bool(b) => Kind::Boolean(*b),
            Json::Number(n) if n.is_i64() => Kind::Integer(n.as_i64().unwrap_or_default()),
            other => {
                return Err(invalid(format!(
                    "match on {key:?}: value must be a string, integer or bool, got {other}"
                )))
            }
        }
    } else if let Some(list) = obj.get("any") {
        let (strings, ints) = split_list(key, list)?;
        match (strings, ints) {
            (Some(strings), None) => Kind::Keywords(pb::RepeatedStrings { strings }),
            (None, Some(integers)) => Kind::Integers(pb::RepeatedIntegers { integers }),
            _ => return Err(invalid(format!("match any on {key:?}: all strings or all integers expected"))),
        }
    } else if let Some(list) = obj.get("except") {
        let (strings, ints) = split_list(key, list)?;
        match (strings, ints) {
            (Some(strings), None) => Kind::ExceptKeywords(pb::RepeatedStrings { strings }),
            (None, Some(integers)) => Kind::ExceptIntegers(pb::RepeatedIntegers { integers }),
            _ => {
                return Err(invalid(format!("match except on {key:?}: all strings or all integers expected")))
            }
        }
    } else {
        return Err(invalid(format!("match on {key:?}: expected value, any or except")));
    };
    Ok(pb::Match { kind: Some(kind) })
}

type Split = (Option<Vec<String>>, Option<Vec<i64>>);

/// A list as all-strings or all-integers (both None when mixed; an empty list is strings).
fn split_list(key: &str, list: &Json) -> Result<Split> {
    let arr = list.as_array().ok_or_else(|| invalid(format!("match on {key:?}: expected a list")))?;
    let strings: Option<Vec<String>> = arr.iter().map(|v| v.as_str().map(str::to_owned)).collect();
    if strings.is_some() {
        return Ok((strings, None));
    }
    let ints: Option<Vec<i64>> = arr.iter().map(Json::as_i64).collect();
    Ok((None, ints))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_roundtrip_keeps_integers_and_nesting() {
        let p = json!({"i": 3, "f": 3.5, "b": true, "s": "x", "n": null, "l": [1, "a", [2.5]], "o": {"k": {"z": false}}});
        let Json::Object(m) = &p else { panic!("object") };
        let back = payload_from_pb(&payload_to_pb(m));
        assert_eq!(Json::Object(back), p);
        assert_eq!(json_to_value(&json!(3)).kind, Some(pb::value::Kind::IntegerValue(3)));
    }

    #[test]
    fn qdrant_filter_json_converts() {
        let f = filter_from_json(&json!({
            "must": [
                {"key": "cat", "match": {"value": "a"}},
                {"key": "year", "range": {"gte": 2019, "lt": 2022}},
                {"key": "ts", "range": {"gte": "2020-01-01T00:00:00Z"}},
                {"key": "n", "match": {"any": [1, 2]}}
            ],
            "should": {"key": "flag", "match": {"value": true}},
            "must_not": [{"has_id": [1, "00000000-0000-0000-0000-00000000002a"]}, {"is_empty": {"key": "t"}}]
        }))
        .expect("valid filter");
        assert_eq!(f.must.len(), 4);
        let Some(pb::condition::Kind::Field(year)) = &f.must[1].kind else { panic!("field condition") };
        let range = year.range.expect("numeric range");
        assert_eq!((range.gte, range.lt, range.gt), (Some(2019.0), Some(2022.0), None));
        let Some(pb::condition::Kind::Field(ts)) = &f.must[2].kind else { panic!("field condition") };
        assert_eq!(
            ts.datetime_range.as_ref().and_then(|d| d.gte.clone()).as_deref(),
            Some("2020-01-01T00:00:00Z")
        );
        let Some(pb::condition::Kind::Field(n)) = &f.must[3].kind else { panic!("field condition") };
        assert_eq!(
            n.r#match.as_ref().and_then(|m| m.kind.clone()),
            Some(pb::r#match::Kind::Integers(pb::RepeatedIntegers { integers: vec![1, 2] }))
        );
        assert_eq!(f.should.len(), 1);
        assert_eq!(f.must_not.len(), 2);
    }

    #[test]
    fn bad_filters_are_rejected_with_the_key() {
        for (bad, needle) in [
            (json!({"mustt": []}), "mustt"),
            (json!({"must": [{"key": "x", "match": {"value": 1.5}}]}), "\"x\""),
            (json!({"must": [{"key": "x", "match": {"any": [1, "a"]}}]}), "all strings"),
            (json!({"must": [{"key": "x", "range": {"between": 2}}]}), "between"),
            (json!({"must": [{"nonsense": 1}]}), "unrecognised"),
        ] {
            let err = filter_from_json(&bad).expect_err("must be rejected").to_string();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }
}
