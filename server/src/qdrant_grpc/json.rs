//! Qdrant's protobuf JSON values (`qdrant.Value`, integers kept apart from doubles) to and from
//! `serde_json`, and the small JSON accessors the response conversions read with.

use grove_proto::qdrant as pb;
use pb::value::Kind;
use serde_json::{Map, Number, Value as J};

/// A protobuf value as JSON. An unset kind is JSON null, as Qdrant reads it.
pub fn to_json(v: pb::Value) -> J {
    match v.kind {
        None | Some(Kind::NullValue(_)) => J::Null,
        Some(Kind::DoubleValue(d)) => Number::from_f64(d).map(J::Number).unwrap_or(J::Null),
        Some(Kind::IntegerValue(i)) => J::from(i),
        Some(Kind::StringValue(s)) => J::String(s),
        Some(Kind::BoolValue(b)) => J::Bool(b),
        Some(Kind::StructValue(s)) => J::Object(map_to_json(s.fields)),
        Some(Kind::ListValue(l)) => J::Array(l.values.into_iter().map(to_json).collect()),
    }
}

/// A payload map as a JSON object.
pub fn map_to_json(m: std::collections::HashMap<String, pb::Value>) -> Map<String, J> {
    m.into_iter().map(|(k, v)| (k, to_json(v))).collect()
}

/// JSON as a protobuf value. Integers that fit i64 stay integers; larger ones become doubles
/// (the wire has no u64 case).
pub fn from_json(v: J) -> pb::Value {
    let kind = match v {
        J::Null => Kind::NullValue(pb::NullValue::NullValue as i32),
        J::Bool(b) => Kind::BoolValue(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntegerValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Kind::StringValue(s),
        J::Array(a) => Kind::ListValue(pb::ListValue { values: a.into_iter().map(from_json).collect() }),
        J::Object(m) => Kind::StructValue(pb::Struct { fields: map_from_json(m) }),
    };
    pb::Value { kind: Some(kind) }
}

/// A JSON object as a payload map.
pub fn map_from_json(m: Map<String, J>) -> std::collections::HashMap<String, pb::Value> {
    m.into_iter().map(|(k, v)| (k, from_json(v))).collect()
}

/// `v[key]` as u64 (0 when absent or not a number).
pub fn u64_of(v: &J, key: &str) -> u64 {
    v.get(key).and_then(J::as_u64).unwrap_or(0)
}

/// `v[key]` as an optional u64.
pub fn opt_u64(v: &J, key: &str) -> Option<u64> {
    v.get(key).and_then(J::as_u64)
}

/// `v[key]` as an optional u32 (values past u32 are dropped rather than wrapped).
pub fn opt_u32(v: &J, key: &str) -> Option<u32> {
    opt_u64(v, key).and_then(|n| u32::try_from(n).ok())
}

/// `v[key]` as an optional f64.
pub fn opt_f64(v: &J, key: &str) -> Option<f64> {
    v.get(key).and_then(J::as_f64)
}

/// `v[key]` as an optional bool.
pub fn opt_bool(v: &J, key: &str) -> Option<bool> {
    v.get(key).and_then(J::as_bool)
}

/// `v[key]` as an optional string.
pub fn opt_str<'a>(v: &'a J, key: &str) -> Option<&'a str> {
    v.get(key).and_then(J::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_integers_kept() {
        let j = serde_json::json!({"a": 1, "b": 1.5, "c": [true, null, "x"], "d": {"e": -3}});
        let back = to_json(from_json(j.clone()));
        assert_eq!(back, j);
        assert!(matches!(from_json(serde_json::json!(7)).kind, Some(Kind::IntegerValue(7))));
        assert!(matches!(from_json(serde_json::json!(7.0)).kind, Some(Kind::DoubleValue(_))));
    }
}
