//! Payload selectors over dotted paths (`with_payload: {"include": [..]}` / `{"exclude": [..]}`).
//!
//! A path is a dotted key, as in filters: `country.capital`, `country.cities[].name` (a trailing
//! `[]` on a segment is optional: arrays of objects met on the way are walked either way).
//! - `include` keeps only what the paths reach, in the payload's own shape: objects keep the
//!   keys on a path, an array of objects keeps each object (element order kept) with only the
//!   keys on the path under it. Several paths are merged.
//! - `exclude` removes what the paths reach (under an array: from each of its objects) and keeps
//!   the rest.

use serde_json::{Map, Value};

use crate::api::Payload;

fn segments(path: &str) -> Vec<&str> {
    path.split('.').map(|s| s.strip_suffix("[]").unwrap_or(s)).collect()
}

/// The part of `obj` a path reaches, or none when it reaches nothing.
fn project(obj: &Map<String, Value>, segs: &[&str]) -> Option<Map<String, Value>> {
    let (first, rest) = segs.split_first()?;
    let child = obj.get(*first)?;
    let picked = if rest.is_empty() {
        child.clone()
    } else {
        match child {
            Value::Object(m) => Value::Object(project(m, rest)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .filter_map(|it| it.as_object())
                    .map(|m| Value::Object(project(m, rest).unwrap_or_default()))
                    .collect(),
            ),
            _ => return None,
        }
    };
    let mut out = Map::new();
    out.insert((*first).to_string(), picked);
    Some(out)
}

/// Merges `b` into `a` (objects key by key, arrays of the same length element by element).
fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => merge_maps(x, y),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (l, r) in x.iter_mut().zip(y) {
                merge(l, r);
            }
        }
        (a, b) => *a = b,
    }
}

fn merge_maps(a: &mut Map<String, Value>, b: Map<String, Value>) {
    for (k, v) in b {
        match a.get_mut(&k) {
            Some(existing) => merge(existing, v),
            None => {
                a.insert(k, v);
            }
        }
    }
}

/// Only the parts of the payload the paths reach.
pub fn include(payload: &Payload, paths: &[String]) -> Payload {
    let mut out = Map::new();
    for p in paths {
        if let Some(part) = project(payload, &segments(p)) {
            merge_maps(&mut out, part);
        }
    }
    out
}

fn remove(obj: &mut Map<String, Value>, segs: &[&str]) {
    let Some((first, rest)) = segs.split_first() else { return };
    if rest.is_empty() {
        obj.remove(*first);
        return;
    }
    match obj.get_mut(*first) {
        Some(Value::Object(m)) => remove(m, rest),
        Some(Value::Array(items)) => {
            for it in items {
                if let Value::Object(m) = it {
                    remove(m, rest);
                }
            }
        }
        _ => {}
    }
}

/// The payload without the parts the paths reach.
pub fn exclude(mut payload: Payload, paths: &[String]) -> Payload {
    for p in paths {
        remove(&mut payload, &segments(p));
    }
    payload
}

fn set_in(obj: &mut Map<String, Value>, segs: &[(&str, bool)], payload: &Payload, overwrite: bool) {
    let Some(((name, all), rest)) = segs.split_first() else {
        if overwrite {
            obj.clear();
        }
        obj.extend(payload.iter().map(|(k, v)| (k.clone(), v.clone())));
        return;
    };
    let child = obj.entry((*name).to_string()).or_insert_with(|| Value::Object(Map::new()));
    match child {
        Value::Array(items) if *all => {
            for it in items.iter_mut() {
                if let Value::Object(m) = it {
                    set_in(m, rest, payload, overwrite);
                }
            }
        }
        Value::Object(m) => set_in(m, rest, payload, overwrite),
        other => {
            let mut m = Map::new();
            set_in(&mut m, rest, payload, overwrite);
            *other = Value::Object(m);
        }
    }
}

/// Sets `payload`'s keys inside the object at the dotted path `key` (Qdrant's `set_payload`
/// with `key`): missing objects on the way are created, a non-object on the way is replaced by
/// one, `a[]` sets inside every object of the array `a`. `overwrite` replaces the object at the
/// path with `payload` instead of merging.
pub fn set_at(payload_of_point: &mut Payload, key: &str, payload: &Payload, overwrite: bool) {
    let segs: Vec<(&str, bool)> = key
        .split('.')
        .map(|s| match s.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (s, false),
        })
        .collect();
    set_in(payload_of_point, &segs, payload, overwrite);
}

#[cfg(test)]
mod tests {
    #[test]
    fn set_at_creates_and_merges() {
        let mut doc = p(json!({"a": {"x": 1}, "b": 3, "l": [{"k": 1}, {"k": 2}]}));
        let add = p(json!({"y": 2}));
        set_at(&mut doc, "a", &add, false);
        set_at(&mut doc, "b.c", &add, false);
        set_at(&mut doc, "l[]", &add, false);
        set_at(&mut doc, "n.m", &add, true);
        assert_eq!(
            Value::Object(doc),
            json!({"a": {"x": 1, "y": 2}, "b": {"c": {"y": 2}}, "l": [{"k": 1, "y": 2}, {"k": 2, "y": 2}],
                               "n": {"m": {"y": 2}}})
        );
    }

    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Payload {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn include_and_exclude_follow_dotted_paths() {
        let doc = p(json!({
            "country": {"name": "Germany", "capital": "Berlin",
                        "cities": [{"name": "Berlin", "pop": 3.7}, {"name": "Munich", "pop": 1.5}]},
            "top": 1
        }));
        let paths = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Value::Object(include(&doc, &paths(&["country.name", "country.capital"]))),
            json!({"country": {"name": "Germany", "capital": "Berlin"}})
        );
        assert_eq!(
            Value::Object(include(&doc, &paths(&["country.cities[].name"]))),
            json!({"country": {"cities": [{"name": "Berlin"}, {"name": "Munich"}]}})
        );
        assert_eq!(
            Value::Object(include(&doc, &paths(&["country.cities[].name", "country.cities[].pop"]))),
            json!({"country": {"cities": [{"name": "Berlin", "pop": 3.7}, {"name": "Munich", "pop": 1.5}]}})
        );
        assert_eq!(Value::Object(include(&doc, &paths(&["nope.x", "top"]))), json!({"top": 1}));
        assert_eq!(
            Value::Object(exclude(doc.clone(), &paths(&["country.cities", "top"]))),
            json!({"country": {"name": "Germany", "capital": "Berlin"}})
        );
        assert_eq!(
            Value::Object(exclude(
                doc,
                &paths(&["country.cities[].pop", "country.name", "country.capital", "top"])
            )),
            json!({"country": {"cities": [{"name": "Berlin"}, {"name": "Munich"}]}})
        );
    }
}
