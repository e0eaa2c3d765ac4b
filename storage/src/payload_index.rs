//! Payload indexes: per field, the typed values of each point as roaring bitmaps (keyword,
//! integer, bool) or ordered maps answering ranges as bitmaps (integer, float, datetime), and
//! their persistent form as posting keys.
//!
//! A posting key is `collection | field id | encoded value | internal id` with an empty value;
//! one value of one point is one key, so a write adds or removes exactly the postings that
//! changed and never rewrites a bitmap. Loading scans the field's prefix once and rebuilds the
//! bitmaps (ids arrive in ascending order per value, the fast path of roaring's `push`).

use std::collections::{BTreeMap, HashMap};

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{Payload, PayloadSchemaType, PointId};
use crate::error::{Result, StorageError};
use crate::filter::{parse_rfc3339, values_at, Match, MatchValue, NumRange};
use crate::text_index::{TextAnalyzer, TextIndexParams, TextQuery};

/// A field index's definition, stored in the meta column family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FieldDef {
    /// Short id used in posting keys (never reused within a collection).
    pub field_id: u32,
    /// The index type.
    pub schema: PayloadSchemaType,
    /// A text index's tokenizer parameters (absent: the defaults; other types: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextIndexParams>,
}

impl FieldDef {
    /// The analyzer of a text index (the parameters were checked when the index was created;
    /// a definition that no longer builds one falls back to the defaults).
    pub fn analyzer(&self) -> Option<TextAnalyzer> {
        (self.schema == PayloadSchemaType::Text).then(|| {
            let p = self.text.clone().unwrap_or_default();
            p.analyzer().unwrap_or_default()
        })
    }
}

/// A UUID string in its canonical form (lower-case, hyphenated), or none.
pub(crate) fn canonical_uuid(s: &str) -> Option<String> {
    uuid::Uuid::parse_str(s).ok().map(|u| u.hyphenated().to_string())
}

/// One typed value of a point, as indexed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IndexValue {
    /// The key holds a JSON null (answers `is_null`).
    Null,
    /// A string.
    Keyword(String),
    /// An integer.
    Integer(i64),
    /// A float or a datetime (epoch seconds).
    Number(f64),
    /// A boolean.
    Bool(bool),
}

impl IndexValue {
    /// A total order (variant, then value; floats by `total_cmp` with -0.0 as 0.0, the same
    /// key [`OrdF64`] gives them), so value lists can be sorted, deduplicated and searched in
    /// O(n log n) instead of compared pairwise: a payload may hold 100k values in one list.
    pub(crate) fn total_cmp(&self, other: &IndexValue) -> std::cmp::Ordering {
        use IndexValue as V;
        let rank = |v: &IndexValue| match v {
            V::Null => 0u8,
            V::Keyword(_) => 1,
            V::Integer(_) => 2,
            V::Number(_) => 3,
            V::Bool(_) => 4,
        };
        match (self, other) {
            (V::Keyword(a), V::Keyword(b)) => a.cmp(b),
            (V::Integer(a), V::Integer(b)) => a.cmp(b),
            (V::Number(a), V::Number(b)) => (a + 0.0).total_cmp(&(b + 0.0)),
            (V::Bool(a), V::Bool(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

/// Whether `values` (sorted and deduplicated, as [`extract`] returns them) holds `v`.
pub(crate) fn contains_sorted(values: &[IndexValue], v: &IndexValue) -> bool {
    values.binary_search_by(|x| x.total_cmp(v)).is_ok()
}

const TAG_NULL: u8 = 0;
const TAG_KEYWORD: u8 = 1;
const TAG_INTEGER: u8 = 2;
const TAG_NUMBER: u8 = 3;
const TAG_BOOL: u8 = 4;

impl IndexValue {
    /// Appends the value's posting-key encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            IndexValue::Null => out.push(TAG_NULL),
            IndexValue::Keyword(s) => {
                out.push(TAG_KEYWORD);
                out.extend_from_slice(s.as_bytes());
            }
            IndexValue::Integer(i) => {
                out.push(TAG_INTEGER);
                out.extend_from_slice(&((*i as u64) ^ (1 << 63)).to_be_bytes());
            }
            IndexValue::Number(x) => {
                out.push(TAG_NUMBER);
                out.extend_from_slice(&x.to_bits().to_be_bytes());
            }
            IndexValue::Bool(b) => {
                out.push(TAG_BOOL);
                out.push(u8::from(*b));
            }
        }
    }

    /// Decodes what [`IndexValue::encode`] wrote (the whole slice).
    pub fn decode(b: &[u8]) -> Result<Self> {
        let bad = || StorageError::Corrupt(format!("posting value {b:?} cannot be decoded"));
        let (&tag, rest) = b.split_first().ok_or_else(bad)?;
        let eight = || -> Result<[u8; 8]> { rest.try_into().map_err(|_| bad()) };
        Ok(match tag {
            TAG_NULL => IndexValue::Null,
            TAG_KEYWORD => IndexValue::Keyword(String::from_utf8(rest.to_vec()).map_err(|_| bad())?),
            TAG_INTEGER => IndexValue::Integer((u64::from_be_bytes(eight()?) ^ (1 << 63)) as i64),
            TAG_NUMBER => IndexValue::Number(f64::from_bits(u64::from_be_bytes(eight()?))),
            TAG_BOOL => IndexValue::Bool(rest.first().copied().ok_or_else(bad)? != 0),
            _ => return Err(bad()),
        })
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "a bool".into(),
        Value::Number(n) if n.is_f64() => format!("the float {n}"),
        Value::Number(n) => format!("the integer {n}"),
        Value::String(s) if s.len() > 40 => "a string".into(),
        Value::String(s) => format!("the string \"{s}\""),
        Value::Array(_) => "a nested array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The indexable values of `field` in a payload, sorted by [`IndexValue::total_cmp`] and
/// deduplicated, or a type error naming `point`. Linear-logarithmic in the number of values.
pub(crate) fn extract(
    payload: &Payload,
    field: &str,
    def: &FieldDef,
    point: &PointId,
) -> Result<Vec<IndexValue>> {
    let schema = def.schema;
    let analyzer = def.analyzer();
    let mut out: Vec<IndexValue> = Vec::new();
    for v in values_at(payload, field) {
        if let (Some(an), Value::String(s)) = (&analyzer, v) {
            // A text value is indexed as its tokens (the keyword encoding holds one token).
            out.extend(an.index_tokens(s).into_iter().map(IndexValue::Keyword));
            continue;
        }
        let iv = match (schema, v) {
            (_, Value::Null) => Some(IndexValue::Null),
            (PayloadSchemaType::Uuid, Value::String(s)) => canonical_uuid(s).map(IndexValue::Keyword),
            (PayloadSchemaType::Keyword, Value::String(s)) => Some(IndexValue::Keyword(s.clone())),
            (PayloadSchemaType::Integer, Value::Number(n)) => n.as_i64().map(IndexValue::Integer),
            (PayloadSchemaType::Float, Value::Number(n)) => n.as_f64().map(IndexValue::Number),
            (PayloadSchemaType::Bool, Value::Bool(b)) => Some(IndexValue::Bool(*b)),
            (PayloadSchemaType::Datetime, Value::Number(n)) => n.as_f64().map(IndexValue::Number),
            (PayloadSchemaType::Datetime, Value::String(s)) => parse_rfc3339(s).map(IndexValue::Number),
            _ => None,
        };
        let Some(iv) = iv else {
            return Err(StorageError::PayloadType {
                point: point.to_string(),
                field: field.to_string(),
                expected: schema.as_str().to_string(),
                got: describe(v),
            });
        };
        out.push(iv);
    }
    out.sort_by(|a, b| a.total_cmp(b));
    out.dedup_by(|a, b| a.total_cmp(b).is_eq());
    Ok(out)
}

/// f64 with a total order (for BTreeMap keys); -0.0 and 0.0 are one key.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}
fn ordf(x: f64) -> OrdF64 {
    OrdF64(if x == 0.0 { 0.0 } else { x })
}

/// The in-memory bitmaps of one field.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Keyword(HashMap<String, RoaringBitmap>),
    /// Tokens of a text index.
    Text(HashMap<String, RoaringBitmap>),
    /// Canonical UUID strings.
    Uuid(HashMap<String, RoaringBitmap>),
    Integer(BTreeMap<i64, RoaringBitmap>),
    Number(BTreeMap<OrdF64, RoaringBitmap>),
    Bool([RoaringBitmap; 2]),
}

/// One field's index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldIndex {
    pub def: FieldDef,
    values: Values,
    /// A text index's tokenizer (built once from `def.text`).
    analyzer: Option<TextAnalyzer>,
    /// Points with at least one non-null value.
    has_value: RoaringBitmap,
    /// Points with a null value.
    nulls: RoaringBitmap,
}

impl FieldIndex {
    /// An empty index.
    pub fn new(def: FieldDef) -> Self {
        let values = match def.schema {
            PayloadSchemaType::Keyword => Values::Keyword(HashMap::new()),
            PayloadSchemaType::Integer => Values::Integer(BTreeMap::new()),
            PayloadSchemaType::Float | PayloadSchemaType::Datetime => Values::Number(BTreeMap::new()),
            PayloadSchemaType::Bool => Values::Bool([RoaringBitmap::new(), RoaringBitmap::new()]),
            PayloadSchemaType::Text => Values::Text(HashMap::new()),
            PayloadSchemaType::Uuid => Values::Uuid(HashMap::new()),
        };
        let analyzer = def.analyzer();
        FieldIndex { def, values, analyzer, has_value: RoaringBitmap::new(), nulls: RoaringBitmap::new() }
    }

    /// Live points with at least one value.
    pub fn points(&self) -> u64 {
        self.has_value.len()
    }

    /// Adds one value of point `id`.
    pub fn add(&mut self, id: u32, v: &IndexValue) {
        let bm = match (&mut self.values, v) {
            (_, IndexValue::Null) => {
                self.nulls.insert(id);
                return;
            }
            (Values::Keyword(m) | Values::Text(m) | Values::Uuid(m), IndexValue::Keyword(s)) => {
                m.entry(s.clone()).or_default()
            }
            (Values::Integer(m), IndexValue::Integer(i)) => m.entry(*i).or_default(),
            (Values::Number(m), IndexValue::Number(x)) => m.entry(ordf(*x)).or_default(),
            (Values::Bool(b), IndexValue::Bool(x)) => &mut b[usize::from(*x)],
            // extract() only yields values of the field's type.
            _ => return,
        };
        bm.insert(id);
        self.has_value.insert(id);
    }

    /// Removes every value of point `id` given its values.
    pub fn remove(&mut self, id: u32, vals: &[IndexValue]) {
        for v in vals {
            match (&mut self.values, v) {
                (_, IndexValue::Null) => {
                    self.nulls.remove(id);
                }
                (Values::Keyword(m) | Values::Text(m) | Values::Uuid(m), IndexValue::Keyword(s)) => {
                    if let Some(bm) = m.get_mut(s) {
                        bm.remove(id);
                        if bm.is_empty() {
                            m.remove(s);
                        }
                    }
                }
                (Values::Integer(m), IndexValue::Integer(i)) => {
                    if let Some(bm) = m.get_mut(i) {
                        bm.remove(id);
                        if bm.is_empty() {
                            m.remove(i);
                        }
                    }
                }
                (Values::Number(m), IndexValue::Number(x)) => {
                    if let Some(bm) = m.get_mut(&ordf(*x)) {
                        bm.remove(id);
                        if bm.is_empty() {
                            m.remove(&ordf(*x));
                        }
                    }
                }
                (Values::Bool(b), IndexValue::Bool(x)) => {
                    b[usize::from(*x)].remove(id);
                }
                _ => {}
            }
        }
        self.has_value.remove(id);
    }

    fn lookup(&self, m: &MatchValue) -> RoaringBitmap {
        match (&self.values, m) {
            (Values::Keyword(map), MatchValue::Keyword(s)) => map.get(s).cloned().unwrap_or_default(),
            (Values::Uuid(map), MatchValue::Keyword(s)) => {
                canonical_uuid(s).and_then(|u| map.get(&u).cloned()).unwrap_or_default()
            }
            (Values::Integer(map), MatchValue::Integer(i)) => map.get(i).cloned().unwrap_or_default(),
            (Values::Bool(b), MatchValue::Bool(x)) => b[usize::from(*x)].clone(),
            _ => RoaringBitmap::new(),
        }
    }

    /// Answers a `match`, or `None` when this index type cannot (the caller scans payloads).
    pub fn answer_match(&self, m: &Match) -> Option<RoaringBitmap> {
        match (&self.values, m) {
            // Float/datetime indexes do not keep the JSON form that exact matching needs, and
            // a text index keeps tokens, not values.
            (Values::Number(_) | Values::Text(_), _) => return None,
            // A UUID index keeps canonical UUIDs: prefixes and words need the stored strings.
            (
                Values::Uuid(_),
                Match::Prefix { .. } | Match::Text { .. } | Match::TextAny { .. } | Match::Phrase { .. },
            ) => return None,
            _ => {}
        }
        Some(match m {
            Match::Value { value } => self.lookup(value),
            Match::Any { any } => any.iter().map(|v| self.lookup(v)).fold(RoaringBitmap::new(), |a, b| a | b),
            Match::Except { except } => {
                let hit = except.iter().map(|v| self.lookup(v)).fold(RoaringBitmap::new(), |a, b| a | b);
                &self.has_value - hit
            }
            // Every keyword with the prefix: exact, one pass over the field's distinct values.
            Match::Prefix { prefix } => match &self.values {
                Values::Keyword(map) => map
                    .iter()
                    .filter(|(k, _)| k.starts_with(prefix.as_str()))
                    .fold(RoaringBitmap::new(), |a, (_, b)| a | b),
                // An integer or bool field holds no strings: nothing starts with the prefix.
                _ => RoaringBitmap::new(),
            },
            // Full text is answered by a text index only ([`Self::answer_text`]); elsewhere
            // the payloads are scanned (exact, by the reference semantics).
            Match::Text { .. } | Match::TextAny { .. } | Match::Phrase { .. } => return None,
        })
    }

    /// A text index's answer to a full-text query: the matching points, and whether they are
    /// only candidates that the caller must confirm against the stored values (a phrase: the
    /// postings know which tokens a point has, not in which order). `None` when this is not a
    /// text index.
    pub fn answer_text(&self, q: TextQuery<'_>) -> Option<(RoaringBitmap, bool)> {
        let (Values::Text(map), Some(an)) = (&self.values, &self.analyzer) else {
            return None;
        };
        let (TextQuery::All(t) | TextQuery::Any(t) | TextQuery::Phrase(t)) = q;
        let toks = an.query_tokens(t);
        if toks.is_empty() {
            return Some((RoaringBitmap::new(), false));
        }
        let get = |t: &String| map.get(t).cloned().unwrap_or_default();
        Some(match q {
            TextQuery::Any(_) => (toks.iter().map(get).fold(RoaringBitmap::new(), |a, b| a | b), false),
            TextQuery::All(_) | TextQuery::Phrase(_) => {
                let mut acc = get(&toks[0]);
                for t in &toks[1..] {
                    if acc.is_empty() {
                        break;
                    }
                    acc &= get(t);
                }
                (acc, matches!(q, TextQuery::Phrase(_)))
            }
        })
    }

    /// A text index's analyzer.
    pub fn analyzer(&self) -> Option<&TextAnalyzer> {
        self.analyzer.as_ref()
    }

    /// Answers a range, or `None` when this index type cannot.
    pub fn answer_range(&self, r: &NumRange) -> Option<RoaringBitmap> {
        let lo = r.gt.into_iter().chain(r.gte).fold(f64::NEG_INFINITY, f64::max);
        let hi = r.lt.into_iter().chain(r.lte).fold(f64::INFINITY, f64::min);
        let mut out = RoaringBitmap::new();
        if lo > hi || lo.is_nan() || hi.is_nan() {
            return Some(out);
        }
        match &self.values {
            Values::Keyword(_) | Values::Text(_) | Values::Uuid(_) => return None,
            Values::Bool(_) => {}
            Values::Integer(m) => {
                // Candidate keys by a widened integer window, then the exact f64 test (the
                // reference semantics compare integers as f64).
                let a = if lo.is_finite() { (lo.floor() as i64).saturating_sub(1) } else { i64::MIN };
                let b = if hi.is_finite() { (hi.ceil() as i64).saturating_add(1) } else { i64::MAX };
                if a <= b {
                    for (k, bm) in m.range(a..=b) {
                        if r.contains(*k as f64) {
                            out |= bm;
                        }
                    }
                }
            }
            Values::Number(m) => {
                for (k, bm) in m.range(ordf(lo)..=ordf(hi)) {
                    if r.contains(k.0) {
                        out |= bm;
                    }
                }
            }
        }
        Some(out)
    }

    /// The distinct values of a numeric index with their points, in ascending order
    /// (descending with `desc`), from `start` on (inclusive; in the index's units: datetimes
    /// as epoch seconds). `None` when the field is not an integer, float or datetime index.
    pub fn ordered(&self, desc: bool, start: Option<f64>) -> Option<Vec<(f64, &RoaringBitmap)>> {
        let keep = |v: f64| start.is_none_or(|s| if desc { v <= s } else { v >= s });
        let mut out: Vec<(f64, &RoaringBitmap)> = match &self.values {
            Values::Integer(m) => m.iter().map(|(k, b)| (*k as f64, b)).filter(|(v, _)| keep(*v)).collect(),
            Values::Number(m) => m.iter().map(|(k, b)| (k.0, b)).filter(|(v, _)| keep(*v)).collect(),
            Values::Keyword(_) | Values::Text(_) | Values::Uuid(_) | Values::Bool(_) => return None,
        };
        if desc {
            out.reverse();
        }
        Some(out)
    }

    /// Points with no non-null value, among `live`.
    pub fn empty(&self, live: &RoaringBitmap) -> RoaringBitmap {
        live - &self.has_value
    }

    /// Points holding a null.
    pub fn nulls(&self) -> &RoaringBitmap {
        &self.nulls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_orders_numbers() {
        let vals = [
            IndexValue::Null,
            IndexValue::Keyword("cs.LG".into()),
            IndexValue::Integer(-5),
            IndexValue::Integer(i64::MAX),
            IndexValue::Number(-1.5),
            IndexValue::Bool(true),
        ];
        for v in &vals {
            let mut b = Vec::new();
            v.encode(&mut b);
            assert_eq!(&IndexValue::decode(&b).unwrap(), v);
        }
        let enc = |i: i64| {
            let mut b = Vec::new();
            IndexValue::Integer(i).encode(&mut b);
            b
        };
        assert!(enc(-3) < enc(2) && enc(i64::MIN) < enc(-3));
    }

    #[test]
    fn extract_checks_types() {
        let p: Payload =
            serde_json::from_str(r#"{"a": ["x", "y", "x"], "n": 3.5, "d": "2024-01-01T00:00:00Z"}"#).unwrap();
        let id = PointId::Num(1);
        let def = |schema| FieldDef { field_id: 0, schema, text: None };
        assert_eq!(extract(&p, "a", &def(PayloadSchemaType::Keyword), &id).unwrap().len(), 2);
        let e = extract(&p, "n", &def(PayloadSchemaType::Integer), &id).unwrap_err();
        assert!(e.to_string().contains("indexed as integer"), "{e}");
        assert_eq!(
            extract(&p, "d", &def(PayloadSchemaType::Datetime), &id).unwrap(),
            vec![IndexValue::Number(1_704_067_200.0)]
        );
        assert!(extract(&p, "a", &def(PayloadSchemaType::Datetime), &id).is_err());
        assert!(extract(&p, "a", &def(PayloadSchemaType::Uuid), &id).is_err());
        assert_eq!(extract(&p, "a", &def(PayloadSchemaType::Text), &id).unwrap().len(), 2);
    }
}
