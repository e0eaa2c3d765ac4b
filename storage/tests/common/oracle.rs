//! An independent reference evaluator of Qdrant filter semantics, for tests.
//!
//! It works on the filter's JSON (not on grove-storage's typed AST) and on the payload's JSON,
//! and shares no code with `grove_storage::filter`: the property tests compare what storage
//! compiles (bitmaps from indexes, scans of unindexed fields) with what this says, so a bug in
//! storage's own reference semantics (`Filter::matches`) cannot hide itself. The semantics are
//! the documented ones (Qdrant's filtering guide, as Grove states them in `filter.rs`'s module
//! docs), re-derived here from the text:
//!
//! - `must`: all hold; `should`: at least one holds when the list is non-empty; `must_not`: none
//!   holds; `min_should {conditions, min_count}`: at least `min_count` hold. An empty filter holds.
//! - A key `a.b.c` walks objects; an array met on the way is walked element by element only
//!   when its segment ends in `[]` (`x[].y`; `x.y` over an array `x` yields nothing). The values
//!   of a key are what the walk ends on, with a final array spread into its elements.
//! - `match.value`: some value is equal, with the same JSON type (string, integer, bool; a float
//!   such as 1.0 is not the integer 1). `match.any`: some value equals some list entry.
//!   `match.except`: there is a non-null value and no value equals a list entry.
//! - `range`: some number in range (RFC 3339 strings count as their epoch seconds; this
//!   evaluator knows only the `YYYY-MM-DDTHH:MM:SSZ` form the generators produce).
//! - `values_count`: the number of non-null values is within the bounds.
//! - `is_empty`: no non-null value; `is_null`: some value is null.
//! - `has_id`: the point's id is listed (integers here).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use serde_json::{Map, Value};

/// Whether the point `id` with `payload` satisfies the filter `f` (JSON).
pub fn holds(f: &Value, id: u64, payload: &Map<String, Value>) -> bool {
    let list = |k: &str| f.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    let must = list("must").iter().all(|c| cond(c, id, payload));
    let should = {
        let s = list("should");
        s.is_empty() || s.iter().any(|c| cond(c, id, payload))
    };
    let must_not = !list("must_not").iter().any(|c| cond(c, id, payload));
    let min_should = match f.get("min_should") {
        None | Some(Value::Null) => true,
        Some(ms) => {
            let conds = ms["conditions"].as_array().cloned().unwrap_or_default();
            let need = ms["min_count"].as_u64().unwrap_or(0) as usize;
            conds.iter().filter(|c| cond(c, id, payload)).count() >= need
        }
    };
    must && should && must_not && min_should
}

fn cond(c: &Value, id: u64, payload: &Map<String, Value>) -> bool {
    if let Some(key) = c.get("key").and_then(Value::as_str) {
        let vals = values(payload, key);
        if let Some(m) = c.get("match") {
            if let Some(v) = m.get("value") {
                return vals.iter().any(|x| same(x, v));
            }
            if let Some(any) = m.get("any").and_then(Value::as_array) {
                return vals.iter().any(|x| any.iter().any(|v| same(x, v)));
            }
            if let Some(ex) = m.get("except").and_then(Value::as_array) {
                return vals.iter().any(|x| !x.is_null())
                    && !vals.iter().any(|x| ex.iter().any(|v| same(x, v)));
            }
            panic!("oracle: unknown match {m}");
        }
        if let Some(r) = c.get("range") {
            let bound = |k: &str| r.get(k).and_then(number);
            let (gt, gte, lt, lte) = (bound("gt"), bound("gte"), bound("lt"), bound("lte"));
            return vals.iter().filter_map(|x| number(x)).any(|x| {
                gt.is_none_or(|b| x > b)
                    && gte.is_none_or(|b| x >= b)
                    && lt.is_none_or(|b| x < b)
                    && lte.is_none_or(|b| x <= b)
            });
        }
        if let Some(vc) = c.get("values_count") {
            let n = vals.iter().filter(|x| !x.is_null()).count() as u64;
            let bound = |k: &str| vc.get(k).and_then(Value::as_u64);
            return bound("gt").is_none_or(|b| n > b)
                && bound("gte").is_none_or(|b| n >= b)
                && bound("lt").is_none_or(|b| n < b)
                && bound("lte").is_none_or(|b| n <= b);
        }
        panic!("oracle: unknown field condition {c}");
    }
    if let Some(k) = c.get("is_empty") {
        return values(payload, k["key"].as_str().unwrap_or("")).iter().all(|x| x.is_null());
    }
    if let Some(k) = c.get("is_null") {
        return values(payload, k["key"].as_str().unwrap_or("")).iter().any(|x| x.is_null());
    }
    if let Some(ids) = c.get("has_id").and_then(Value::as_array) {
        return ids.iter().any(|x| x.as_u64() == Some(id));
    }
    // A nested filter.
    holds(c, id, payload)
}

/// Equality with the same JSON type: integers only equal integers.
fn same(x: &Value, v: &Value) -> bool {
    match (x, v) {
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        // serde_json keeps a number written with a fraction or exponent as a float, and a
        // float has no i64 form: so only integer-to-integer compares equal.
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        _ => false,
    }
}

/// The values a key yields (see the module docs).
pub fn values<'a>(payload: &'a Map<String, Value>, key: &str) -> Vec<&'a Value> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut at: Vec<&'a Value> = match payload.get(parts[0].trim_end_matches("[]")) {
        Some(v) => vec![v],
        None => return Vec::new(),
    };
    for (i, part) in parts.iter().enumerate().skip(1) {
        let part = &part.trim_end_matches("[]");
        // An array on the way is only walked when the previous segment ends in `[]`.
        let walk = parts[i - 1].ends_with("[]");
        let mut next = Vec::new();
        for v in at {
            let items: Vec<&Value> = match v {
                Value::Array(a) if walk => a.iter().collect(),
                Value::Array(_) => Vec::new(),
                other => vec![other],
            };
            for item in items {
                if let Some(child) = item.as_object().and_then(|o| o.get(*part)) {
                    next.push(child);
                }
            }
        }
        at = next;
    }
    at.into_iter()
        .flat_map(|v| match v {
            Value::Array(a) => a.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect()
}

/// A JSON number as f64, or a `YYYY-MM-DDTHH:MM:SSZ` string as epoch seconds.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => epoch(s),
        _ => None,
    }
}

/// Epoch seconds of `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, days counted from a table of
/// month lengths rather than a civil-date formula).
pub fn epoch(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |a: usize, z: usize| s.get(a..z)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (n(0, 4)?, n(5, 7)?, n(8, 10)?, n(11, 13)?, n(14, 16)?, n(17, 19)?);
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = 0i64;
    for year in 1970..y {
        days += if leap(year) { 366 } else { 365 };
    }
    let months = [31, if leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for m in &months[..(mo - 1) as usize] {
        days += m;
    }
    days += d - 1;
    Some((days * 86_400 + h * 3_600 + mi * 60 + se) as f64)
}
