//! The typed filter AST in Qdrant's JSON shape, its validation, and its reference semantics.
//!
//! A [`Filter`] combines conditions with `must` (all), `should` (at least one, when non-empty),
//! `must_not` (none) and `min_should` (at least `min_count` of a list). A [`Condition`] is a field
//! condition (`match` / `range` / `values_count` on a key), `is_empty`, `is_null`, `has_id`, a
//! filter inside the filter, or `nested` (a filter over each object of an array). Unknown fields are rejected when deserialising, and [`Filter::validate`] checks
//! what serde cannot (datetimes parse, exactly one clause per field condition).
//!
//! The meaning of every condition is defined once, by [`Filter::matches`] over a payload; it is
//! the brute-force oracle that the compiled bitmaps are tested against, and the path used for
//! fields without an index.
//!
//! Value semantics (the same for indexed and scanned fields):
//! - A key is a dotted path (`a.b.c`). An array at the end of the path is flattened, so the key
//!   yields a list of values; an array on the way is walked only with `[]` on its segment
//!   (`a[].b`), as in Qdrant: `a.b` over an array `a` yields nothing.
//! - `match {value}` holds if any value equals it exactly (strings, integers, bools; a float
//!   payload value never equals an integer: use `range` for floats).
//! - `match {any: [..]}` holds if any value is in the list; `match {except: [..]}` holds if the
//!   key has at least one non-null value and none of its values is in the list.
//! - `range` holds if any value is in range. Numbers compare as f64; RFC 3339 strings compare as
//!   epoch seconds, in values and in bounds alike, so a datetime range may use either form.
//! - `values_count` counts the non-null values; `is_empty` holds when there are none (missing
//!   key, `null`, `[]`); `is_null` holds when some value is `null`.
//! - `nested {key, filter}` holds if some object among the values of `key` (an array of objects,
//!   `key` with or without a trailing `[]`) satisfies `filter` on its own, its keys relative to
//!   that object. So `must` conditions must hold for the same element, and `must_not` means
//!   "some element lacks it" (Qdrant's meaning). `has_id` inside still names the point.
//! - `match.text` / `text_any` / `phrase` over words (lower-cased alphanumeric runs of one
//!   value); a query without words matches nothing. A text index answers them with its own
//!   tokenizer instead (see [`crate::text_index`]).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::api::{Payload, PointId};
use crate::error::{Result, StorageError};
use crate::text_index::has_phrase;

/// A boolean combination of conditions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// All must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "conditions")]
    pub must: Vec<Condition>,
    /// At least one must hold (ignored when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "conditions")]
    pub should: Vec<Condition>,
    /// None may hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "conditions")]
    pub must_not: Vec<Condition>,
    /// At least `min_count` of `conditions` must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_should: Option<MinShould>,
}

/// `must` / `should` / `must_not` as Qdrant reads them: a list of conditions, one condition
/// object (a list of one), or null (no conditions). Read through a JSON value so a bad
/// condition keeps its own error message (an untagged enum would only say "no variant").
fn conditions<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Condition>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        v @ Value::Array(_) => serde_json::from_value(v).map_err(D::Error::custom),
        v @ Value::Object(_) => serde_json::from_value(v).map(|c| vec![c]).map_err(D::Error::custom),
        other => Err(D::Error::custom(format!(
            "expected a list of conditions, one condition object or null, got {other}"
        ))),
    }
}

/// `min_should`: at least `min_count` of the conditions hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinShould {
    /// The conditions counted.
    pub conditions: Vec<Condition>,
    /// How many must hold.
    pub min_count: usize,
}

/// One condition of a filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Condition {
    /// A condition on a payload key.
    Field(FieldCondition),
    /// `{"is_empty": {"key": ..}}`.
    IsEmpty {
        /// The key.
        is_empty: KeyRef,
    },
    /// `{"is_null": {"key": ..}}`.
    IsNull {
        /// The key.
        is_null: KeyRef,
    },
    /// `{"has_id": [..]}`.
    HasId {
        /// The ids.
        has_id: Vec<PointId>,
    },
    /// `{"nested": {"key": .., "filter": ..}}`: some object at the key matches the filter.
    Nested {
        /// The key and the filter.
        nested: Nested,
    },
    /// A nested filter.
    Filter(Filter),
}

/// `nested`: an array key and the filter each of its objects is tested against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nested {
    /// The payload key of the array (dotted path; a trailing `[]` is optional).
    pub key: String,
    /// The filter over one element (keys relative to the element).
    pub filter: Filter,
}

/// `{"key": ..}` inside `is_empty` / `is_null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    /// The payload key (dotted path).
    pub key: String,
}

/// A condition on one payload key: exactly one of `match`, `range`, `values_count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldCondition {
    /// The payload key (dotted path).
    pub key: String,
    /// Equality / membership.
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub r#match: Option<Match>,
    /// Numeric or datetime range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    /// Number of values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_count: Option<ValuesCount>,
    /// Within a distance of a point (the geo clauses are boxed: they would triple the size of
    /// every condition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_radius: Option<Box<GeoRadius>>,
    /// Within a lon/lat rectangle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_bounding_box: Option<Box<GeoBoundingBox>>,
    /// Within a polygon (and outside its holes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_polygon: Option<Box<GeoPolygon>>,
    /// `true`: the key has no non-null value (as `{"is_empty": {"key": ..}}`); `false`: it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_empty: Option<bool>,
    /// `true`: some value is null (as `{"is_null": {"key": ..}}`); `false`: none is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_null: Option<bool>,
}

/// A point on the earth in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    /// Longitude, -180 to 180.
    pub lon: f64,
    /// Latitude, -90 to 90.
    pub lat: f64,
}

/// `geo_radius`: within `radius` metres (great-circle) of `center`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoRadius {
    /// The centre.
    pub center: GeoPoint,
    /// Metres.
    pub radius: f64,
}

/// `geo_bounding_box`: between the corners; a box whose `top_left.lon` is east of
/// `bottom_right.lon` crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoBoundingBox {
    /// North-west corner.
    pub top_left: GeoPoint,
    /// South-east corner.
    pub bottom_right: GeoPoint,
}

/// A closed ring of points (first = last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoLineString {
    /// At least 4 points, the last equal to the first.
    pub points: Vec<GeoPoint>,
}

/// `geo_polygon`: inside `exterior` and outside every interior ring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoPolygon {
    /// The outer ring.
    pub exterior: GeoLineString,
    /// Holes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interiors: Option<Vec<GeoLineString>>,
}

/// Mean earth radius in metres (IUGG), for great-circle distances.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl GeoPoint {
    fn validate(&self, what: &str) -> Result<()> {
        if !(-180.0..=180.0).contains(&self.lon) || !(-90.0..=90.0).contains(&self.lat) {
            return Err(StorageError::InvalidFilter(format!(
                "{what}: lon {} / lat {} out of range (lon -180..180, lat -90..90)",
                self.lon, self.lat
            )));
        }
        Ok(())
    }

    /// A payload value as a geo point: an object with numeric `lon` and `lat`.
    pub fn from_json(v: &Value) -> Option<GeoPoint> {
        let m = v.as_object()?;
        Some(GeoPoint { lon: m.get("lon")?.as_f64()?, lat: m.get("lat")?.as_f64()? })
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(&self, o: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), o.lat.to_radians());
        let dp = p2 - p1;
        let dl = (o.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

impl GeoBoundingBox {
    /// Whether `p` is inside (edges included).
    pub fn contains(&self, p: &GeoPoint) -> bool {
        let (tl, br) = (&self.top_left, &self.bottom_right);
        let lat_ok = p.lat <= tl.lat && p.lat >= br.lat;
        let lon_ok = if tl.lon <= br.lon {
            p.lon >= tl.lon && p.lon <= br.lon
        } else {
            p.lon >= tl.lon || p.lon <= br.lon
        };
        lat_ok && lon_ok
    }
}

impl GeoLineString {
    fn validate(&self, what: &str) -> Result<()> {
        if self.points.len() < 4 || self.points.first() != self.points.last() {
            return Err(StorageError::InvalidFilter(format!(
                "{what}: a polygon ring needs at least 4 points and its last point must equal the first"
            )));
        }
        for p in &self.points {
            p.validate(what)?;
        }
        Ok(())
    }

    /// Even-odd ray casting in the lon/lat plane.
    fn contains(&self, p: &GeoPoint) -> bool {
        let mut inside = false;
        for w in self.points.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if (a.lat > p.lat) != (b.lat > p.lat) {
                let x = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat);
                if p.lon < x {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

impl GeoPolygon {
    /// Whether `p` is inside the exterior ring and outside every interior one.
    pub fn contains(&self, p: &GeoPoint) -> bool {
        self.exterior.contains(p) && !self.interiors.iter().flatten().any(|h| h.contains(p))
    }
}

/// A scalar to match: a string, an integer or a bool.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MatchValue {
    /// Exact string (keyword).
    Keyword(String),
    /// Exact integer.
    Integer(i64),
    /// Exact bool.
    Bool(bool),
}

impl MatchValue {
    /// Whether a payload value equals this one.
    pub fn eq_json(&self, v: &Value) -> bool {
        match (self, v) {
            (MatchValue::Keyword(s), Value::String(x)) => s == x,
            (MatchValue::Integer(i), Value::Number(n)) => n.as_i64() == Some(*i),
            (MatchValue::Bool(b), Value::Bool(x)) => b == x,
            _ => false,
        }
    }
}

/// `match`: `{"value": v}`, `{"any": [..]}` or `{"except": [..]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Match {
    /// Equals.
    Value {
        /// The value.
        value: MatchValue,
    },
    /// In the list.
    Any {
        /// The list.
        any: Vec<MatchValue>,
    },
    /// Has values, none in the list.
    Except {
        /// The list.
        except: Vec<MatchValue>,
    },
    /// Full text: every word of `text` occurs among the words of a string value (words are
    /// runs of letters and digits, compared lower-cased).
    Text {
        /// The words.
        text: String,
    },
    /// Full text: at least one word of `text_any` occurs among the words of a string value.
    TextAny {
        /// The words.
        text_any: String,
    },
    /// Full text: the words of `phrase` occur consecutively, in order, in a string value.
    Phrase {
        /// The words.
        phrase: String,
    },
    /// A string value starts with `prefix` (exactly, case-sensitive).
    Prefix {
        /// The prefix.
        prefix: String,
    },
}

/// Lower-cased words of a text: maximal runs of alphanumeric characters. The one tokenizer of
/// `match.text` / `match.phrase`, so their meaning does not depend on whether an index exists.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// A range bound: a number, or an RFC 3339 datetime string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RangeBound {
    /// A number (for datetimes: epoch seconds).
    Number(f64),
    /// An RFC 3339 datetime.
    Datetime(String),
}

impl RangeBound {
    /// The bound as f64 (datetimes as epoch seconds).
    pub fn as_f64(&self) -> Result<f64> {
        match self {
            RangeBound::Number(x) => Ok(*x),
            RangeBound::Datetime(s) => parse_rfc3339(s).ok_or_else(|| {
                StorageError::InvalidFilter(format!(
                    "range bound `{s}` is neither a number nor an RFC 3339 datetime \
                     (e.g. 2024-05-01T00:00:00Z)"
                ))
            }),
        }
    }
}

/// `range`: any of gt / gte / lt / lte.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Greater than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<RangeBound>,
    /// Greater than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<RangeBound>,
    /// Less than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<RangeBound>,
    /// Less than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<RangeBound>,
}

/// A range with its bounds resolved to f64.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NumRange {
    /// Greater than.
    pub gt: Option<f64>,
    /// Greater than or equal.
    pub gte: Option<f64>,
    /// Less than.
    pub lt: Option<f64>,
    /// Less than or equal.
    pub lte: Option<f64>,
}

impl NumRange {
    /// Whether `x` is in range.
    pub fn contains(&self, x: f64) -> bool {
        self.gt.is_none_or(|b| x > b)
            && self.gte.is_none_or(|b| x >= b)
            && self.lt.is_none_or(|b| x < b)
            && self.lte.is_none_or(|b| x <= b)
    }
}

impl Range {
    /// Resolves the bounds (datetimes to epoch seconds); fails on unparsable datetimes.
    pub fn resolve(&self) -> Result<NumRange> {
        let f = |b: &Option<RangeBound>| b.as_ref().map(RangeBound::as_f64).transpose();
        Ok(NumRange { gt: f(&self.gt)?, gte: f(&self.gte)?, lt: f(&self.lt)?, lte: f(&self.lte)? })
    }
}

/// `values_count`: bounds on the number of non-null values of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuesCount {
    /// Greater than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<usize>,
    /// Greater than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<usize>,
    /// Less than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<usize>,
    /// Less than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<usize>,
}

impl ValuesCount {
    /// Whether `n` satisfies the bounds.
    pub fn contains(&self, n: usize) -> bool {
        self.gt.is_none_or(|b| n > b)
            && self.gte.is_none_or(|b| n >= b)
            && self.lt.is_none_or(|b| n < b)
            && self.lte.is_none_or(|b| n <= b)
    }
}

// Conditions and matches are told apart by their keys, so that an error names the offending
// key instead of serde's "did not match any variant of untagged enum".
impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let Value::Object(map) = &v else {
            return Err(D::Error::custom("a filter condition must be a JSON object"));
        };
        fn from<T: serde::de::DeserializeOwned, E: serde::de::Error>(v: Value) -> std::result::Result<T, E> {
            serde_json::from_value(v).map_err(E::custom)
        }
        if map.contains_key("key") {
            Ok(Condition::Field(from::<_, D::Error>(v)?))
        } else if map.contains_key("is_empty") {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct W {
                is_empty: KeyRef,
            }
            let w: W = from::<_, D::Error>(v)?;
            Ok(Condition::IsEmpty { is_empty: w.is_empty })
        } else if map.contains_key("is_null") {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct W {
                is_null: KeyRef,
            }
            let w: W = from::<_, D::Error>(v)?;
            Ok(Condition::IsNull { is_null: w.is_null })
        } else if map.contains_key("has_id") {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct W {
                has_id: Vec<PointId>,
            }
            let w: W = from::<_, D::Error>(v)?;
            Ok(Condition::HasId { has_id: w.has_id })
        } else if map.contains_key("nested") {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct W {
                nested: Nested,
            }
            let w: W = from::<_, D::Error>(v)?;
            Ok(Condition::Nested { nested: w.nested })
        } else if ["must", "should", "must_not", "min_should"].iter().any(|k| map.contains_key(*k))
            || map.is_empty()
        {
            Ok(Condition::Filter(from::<_, D::Error>(v)?))
        } else {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            Err(D::Error::custom(format!(
                "unknown condition with keys {keys:?}; expected one of `key` (with match, range or \
                 values_count), `is_empty`, `is_null`, `has_id`, `nested`, or a filter \
                 (must/should/must_not/min_should)"
            )))
        }
    }
}

impl<'de> Deserialize<'de> for Match {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            value: Option<MatchValue>,
            any: Option<Vec<MatchValue>>,
            except: Option<Vec<MatchValue>>,
            text: Option<String>,
            text_any: Option<String>,
            phrase: Option<String>,
            prefix: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        let given = usize::from(raw.value.is_some())
            + usize::from(raw.any.is_some())
            + usize::from(raw.except.is_some())
            + usize::from(raw.text.is_some())
            + usize::from(raw.text_any.is_some())
            + usize::from(raw.phrase.is_some())
            + usize::from(raw.prefix.is_some());
        let one = || {
            D::Error::custom(
                "`match` takes exactly one of `value` (string, integer or bool), `any` (a list), \
                 `except` (a list), `text`, `text_any`, `phrase` or `prefix` (strings)",
            )
        };
        if given != 1 {
            return Err(one());
        }
        if let Some(value) = raw.value {
            Ok(Match::Value { value })
        } else if let Some(any) = raw.any {
            Ok(Match::Any { any })
        } else if let Some(except) = raw.except {
            Ok(Match::Except { except })
        } else if let Some(text) = raw.text {
            Ok(Match::Text { text })
        } else if let Some(text_any) = raw.text_any {
            Ok(Match::TextAny { text_any })
        } else if let Some(phrase) = raw.phrase {
            Ok(Match::Phrase { phrase })
        } else if let Some(prefix) = raw.prefix {
            Ok(Match::Prefix { prefix })
        } else {
            Err(one())
        }
    }
}

impl Filter {
    /// A filter requiring all of `conds`.
    pub fn must(conds: Vec<Condition>) -> Self {
        Filter { must: conds, ..Filter::default() }
    }

    /// Checks what deserialisation cannot: each field condition has exactly one clause, range
    /// datetimes parse, `min_should` is satisfiable in principle.
    pub fn validate(&self) -> Result<()> {
        for c in self.all_conditions() {
            c.validate()?;
        }
        if let Some(ms) = &self.min_should {
            if ms.min_count > ms.conditions.len() {
                return Err(StorageError::InvalidFilter(format!(
                    "min_should.min_count is {} but only {} conditions are listed",
                    ms.min_count,
                    ms.conditions.len()
                )));
            }
        }
        Ok(())
    }

    fn all_conditions(&self) -> impl Iterator<Item = &Condition> {
        self.must
            .iter()
            .chain(&self.should)
            .chain(&self.must_not)
            .chain(self.min_should.iter().flat_map(|m| m.conditions.iter()))
    }

    /// The reference semantics: whether a point with this id and payload matches.
    /// Assumes [`Filter::validate`] passed (an unparsable datetime bound matches nothing).
    pub fn matches(&self, id: &PointId, payload: &Payload) -> bool {
        self.must.iter().all(|c| c.matches(id, payload))
            && (self.should.is_empty() || self.should.iter().any(|c| c.matches(id, payload)))
            && !self.must_not.iter().any(|c| c.matches(id, payload))
            && self.min_should.as_ref().is_none_or(|ms| {
                ms.conditions.iter().filter(|c| c.matches(id, payload)).count() >= ms.min_count
            })
    }
}

impl Condition {
    fn validate(&self) -> Result<()> {
        match self {
            Condition::Field(f) => {
                let clauses = usize::from(f.r#match.is_some())
                    + usize::from(f.range.is_some())
                    + usize::from(f.values_count.is_some())
                    + usize::from(f.geo_radius.is_some())
                    + usize::from(f.geo_bounding_box.is_some())
                    + usize::from(f.geo_polygon.is_some())
                    + usize::from(f.is_empty.is_some())
                    + usize::from(f.is_null.is_some());
                if clauses == 0 {
                    return Err(StorageError::InvalidFilter(format!(
                        "At least one field condition must be specified: the condition on key `{}` \
                         has none of `match`, `range`, `values_count`, `geo_radius`, \
                         `geo_bounding_box`, `geo_polygon`, `is_empty`, `is_null`",
                        f.key
                    )));
                }
                if clauses != 1 {
                    return Err(StorageError::InvalidFilter(format!(
                        "condition on key `{}` must have exactly one of `match`, `range`, \
                         `values_count`, `geo_radius`, `geo_bounding_box`, `geo_polygon`, `is_empty`, \
                         `is_null` (it has {clauses})",
                        f.key
                    )));
                }
                if let Some(g) = &f.geo_radius {
                    g.center.validate("geo_radius.center")?;
                    if !(g.radius.is_finite() && g.radius >= 0.0) {
                        return Err(StorageError::InvalidFilter(format!(
                            "geo_radius.radius {} must be a finite number of metres >= 0",
                            g.radius
                        )));
                    }
                }
                if let Some(b) = &f.geo_bounding_box {
                    b.top_left.validate("geo_bounding_box.top_left")?;
                    b.bottom_right.validate("geo_bounding_box.bottom_right")?;
                    if b.top_left.lat < b.bottom_right.lat {
                        return Err(StorageError::InvalidFilter(
                            "geo_bounding_box: top_left.lat is south of bottom_right.lat".into(),
                        ));
                    }
                }
                if let Some(p) = &f.geo_polygon {
                    p.exterior.validate("geo_polygon.exterior")?;
                    for (i, h) in p.interiors.iter().flatten().enumerate() {
                        h.validate(&format!("geo_polygon.interiors[{i}]"))?;
                    }
                }
                if f.key.is_empty() {
                    return Err(StorageError::InvalidFilter("a condition has an empty key".into()));
                }
                if let Some(r) = &f.range {
                    r.resolve()?;
                }
                Ok(())
            }
            Condition::IsEmpty { is_empty: k } | Condition::IsNull { is_null: k } => {
                if k.key.is_empty() {
                    return Err(StorageError::InvalidFilter("a condition has an empty key".into()));
                }
                Ok(())
            }
            Condition::HasId { .. } => Ok(()),
            Condition::Nested { nested } => {
                if nested.key.is_empty() {
                    return Err(StorageError::InvalidFilter("a nested condition has an empty key".into()));
                }
                nested.filter.validate()
            }
            Condition::Filter(f) => f.validate(),
        }
    }

    /// The reference semantics of one condition.
    pub fn matches(&self, id: &PointId, payload: &Payload) -> bool {
        match self {
            Condition::Field(f) => {
                let values = values_at(payload, &f.key);
                if let Some(m) = &f.r#match {
                    match m {
                        Match::Value { value } => values.iter().any(|v| value.eq_json(v)),
                        Match::Any { any } => values.iter().any(|v| any.iter().any(|m| m.eq_json(v))),
                        Match::Except { except } => {
                            values.iter().any(|v| !v.is_null())
                                && !values.iter().any(|v| except.iter().any(|m| m.eq_json(v)))
                        }
                        Match::Text { text } => {
                            let want = words(text);
                            !want.is_empty()
                                && values.iter().filter_map(|v| v.as_str()).any(|s| {
                                    let doc = words(s);
                                    want.iter().all(|w| doc.contains(w))
                                })
                        }
                        Match::TextAny { text_any } => {
                            let want = words(text_any);
                            values.iter().filter_map(|v| v.as_str()).any(|s| {
                                let doc = words(s);
                                want.iter().any(|w| doc.contains(w))
                            })
                        }
                        Match::Phrase { phrase } => {
                            let want = words(phrase);
                            values.iter().filter_map(|v| v.as_str()).any(|s| has_phrase(&words(s), &want))
                        }
                        Match::Prefix { prefix } => {
                            values.iter().filter_map(|v| v.as_str()).any(|s| s.starts_with(prefix.as_str()))
                        }
                    }
                } else if let Some(r) = &f.range {
                    match r.resolve() {
                        Ok(nr) => values.iter().filter_map(|v| value_as_f64(v)).any(|x| nr.contains(x)),
                        Err(_) => false,
                    }
                } else if let Some(vc) = &f.values_count {
                    vc.contains(values.iter().filter(|v| !v.is_null()).count())
                } else if let Some(g) = &f.geo_radius {
                    values
                        .iter()
                        .filter_map(|v| GeoPoint::from_json(v))
                        .any(|p| g.center.distance_m(&p) <= g.radius)
                } else if let Some(b) = &f.geo_bounding_box {
                    values.iter().filter_map(|v| GeoPoint::from_json(v)).any(|p| b.contains(&p))
                } else if let Some(poly) = &f.geo_polygon {
                    values.iter().filter_map(|v| GeoPoint::from_json(v)).any(|p| poly.contains(&p))
                } else if let Some(want) = f.is_empty {
                    values.iter().all(|v| v.is_null()) == want
                } else if let Some(want) = f.is_null {
                    values.iter().any(|v| v.is_null()) == want
                } else {
                    false
                }
            }
            Condition::IsEmpty { is_empty } => values_at(payload, &is_empty.key).iter().all(|v| v.is_null()),
            Condition::IsNull { is_null } => values_at(payload, &is_null.key).iter().any(|v| v.is_null()),
            Condition::HasId { has_id } => has_id.contains(id),
            Condition::Nested { nested } => {
                let key = nested.key.strip_suffix("[]").unwrap_or(&nested.key);
                values_at(payload, key).into_iter().any(|v| match v {
                    Value::Object(element) => nested.filter.matches(id, element),
                    _ => false,
                })
            }
            Condition::Filter(f) => f.matches(id, payload),
        }
    }
}

/// How a key segment steps into an array: not at all, every element (`a[]`), one (`a[2]`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Plain,
    All,
    Index(usize),
}

fn segment(s: &str) -> (&str, Step) {
    if let Some(name) = s.strip_suffix("[]") {
        return (name, Step::All);
    }
    if let Some(open) = s.strip_suffix(']').and_then(|t| t.rfind('[').map(|i| (i, t))) {
        let (i, t) = open;
        if let Ok(n) = t[i + 1..].parse::<usize>() {
            return (&s[..i], Step::Index(n));
        }
    }
    (s, Step::Plain)
}

/// The values a dotted key yields in a payload, Qdrant's way: an array at the leaf is flattened
/// (one level); an array on the way is walked (its objects) only when its segment says so with
/// `[]` (`cities[].pop`), or indexed (`cities[0].pop`), so `cities.pop` over an array of cities
/// yields nothing.
pub fn values_at<'a>(payload: &'a Payload, key: &str) -> Vec<&'a Value> {
    let mut cur: Vec<&Value> = Vec::new();
    let mut last = Step::Plain;
    for (i, seg) in key.split('.').enumerate() {
        let (name, step) = segment(seg);
        let children: Vec<&Value> = if i == 0 {
            payload.get(name).into_iter().collect()
        } else {
            cur.iter().filter_map(|v| v.as_object().and_then(|m| m.get(name))).collect()
        };
        cur = Vec::with_capacity(children.len());
        for c in children {
            match (step, c) {
                (Step::All, Value::Array(items)) => cur.extend(items.iter()),
                (Step::Index(n), Value::Array(items)) => cur.extend(items.get(n)),
                (Step::Index(_), _) => {}
                (Step::All | Step::Plain, other) => cur.push(other),
            }
        }
        last = step;
    }
    if last != Step::Plain {
        return cur;
    }
    let mut out = Vec::with_capacity(cur.len());
    for v in cur {
        match v {
            Value::Array(items) => out.extend(items.iter()),
            other => out.push(other),
        }
    }
    out
}

/// A payload value as a number for range comparisons: numbers as they are, RFC 3339 strings
/// as epoch seconds, anything else none.
pub fn value_as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_rfc3339(s),
        _ => None,
    }
}

/// Parses an RFC 3339 datetime (`2024-05-01T12:30:00Z`, `2024-05-01T12:30:00.25+02:00`) into
/// epoch seconds. Accepted too, as Qdrant accepts them: a space instead of `T`, a bare date
/// `2024-05-01`, no seconds (`2024-05-01T12:30`), no offset (UTC).
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if b.len() == 10 {
        return Some(days as f64 * 86_400.0);
    }
    if !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (h, mi) = (num(11..13)?, num(14..16)?);
    // Seconds (and their fraction) are optional, as in Qdrant (`2015-03-01T12:30`).
    let (sec, mut i) = if b.get(16) == Some(&b':') { (num(17..19)?, 19) } else { (0, 16) };
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut frac = 0.0;
    if i == 19 && b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        frac = std::str::from_utf8(&b[start - 1..i]).ok()?.parse::<f64>().ok()?;
    }
    // No offset: UTC.
    let offset = match b.get(i) {
        None => 0,
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        // `+02:00`, `+0200` or `+02`.
        Some(sign @ (b'+' | b'-')) if [i + 3, i + 5, i + 6].contains(&b.len()) => {
            let (oh, om) = match b.len() - i {
                3 => (num(i + 1..i + 3)?, 0),
                5 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                _ if b[i + 3] == b':' => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some(secs as f64 + frac)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    /// Qdrant's clients send `"must": null` and a single condition object as well as lists
    /// (20 and 12 of Qdrant's REST tests did); each means what the list form means.
    #[test]
    fn must_should_must_not_take_a_list_one_object_or_null() {
        let list: super::Filter =
            serde_json::from_str(r#"{"must": [{"key": "a", "match": {"value": 1}}]}"#).expect("list");
        let one: super::Filter =
            serde_json::from_str(r#"{"must": {"key": "a", "match": {"value": 1}}}"#).expect("one");
        assert_eq!(list, one);
        let none: super::Filter =
            serde_json::from_str(r#"{"must": null, "should": null, "must_not": null}"#).expect("null");
        assert_eq!(none, super::Filter::default());
        let bad = serde_json::from_str::<super::Filter>(r#"{"must": 3}"#).expect_err("a number");
        assert!(bad.to_string().contains("expected a list of conditions"), "{bad}");
        let inner = serde_json::from_str::<super::Filter>(r#"{"must": {"key": "a", "match": {"valu": 1}}}"#)
            .expect_err("a bad condition");
        assert!(!inner.to_string().contains("did not match any variant of untagged enum Filter"), "{inner}");
    }

    use super::*;
    use serde_json::json;

    fn payload(v: Value) -> Payload {
        match v {
            Value::Object(m) => m,
            _ => Payload::new(),
        }
    }

    #[test]
    fn parses_qdrant_shapes() {
        let f: Filter = serde_json::from_value(json!({
            "must": [
                {"key": "city", "match": {"value": "London"}},
                {"key": "year", "range": {"gte": 2019, "lt": 2022}},
                {"key": "day", "range": {"gte": "2024-01-01T00:00:00Z"}},
                {"is_empty": {"key": "tags"}},
                {"has_id": [1, "936DA01F-9ABD-4D9D-80C7-02AF85C822A8"]},
                {"should": [{"key": "a", "match": {"any": ["x", "y"]}}]}
            ],
            "must_not": [{"key": "n", "values_count": {"gt": 2}}],
            "min_should": {"conditions": [{"is_null": {"key": "z"}}], "min_count": 1}
        }))
        .unwrap();
        f.validate().unwrap();
        assert_eq!(f.must.len(), 6);
        assert!(matches!(f.must[4], Condition::HasId { ref has_id } if has_id.len() == 2));
        // Round trip.
        let again: Filter = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(again, f);
    }

    #[test]
    fn rejects_unknown_fields_with_a_useful_message() {
        let e = serde_json::from_value::<Filter>(json!({"must": [{"key": "a", "mach": {"value": 1}}]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("mach"), "{e}");
        let e = serde_json::from_value::<Filter>(json!({"musts": []})).unwrap_err().to_string();
        assert!(e.contains("musts"), "{e}");
        let e = serde_json::from_value::<Filter>(json!({"must": [{"foo": 1}]})).unwrap_err().to_string();
        assert!(e.contains("unknown condition"), "{e}");
        let e = serde_json::from_value::<Filter>(
            json!({"must": [{"key": "a", "match": {"value": 1, "any": [1]}}]}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("exactly one"), "{e}");
        let f: Filter = serde_json::from_value(json!({"must": [{"key": "a"}]})).unwrap();
        assert!(f.validate().is_err());
        let f: Filter =
            serde_json::from_value(json!({"must": [{"key": "a", "range": {"gt": "yesterday"}}]})).unwrap();
        assert!(matches!(f.validate(), Err(StorageError::InvalidFilter(_))));
    }

    #[test]
    fn rfc3339_against_known_epochs() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Some(951_868_800.0));
        assert_eq!(parse_rfc3339("2024-02-29T12:00:00+02:00"), Some(1_709_200_800.0));
        assert_eq!(parse_rfc3339("2024-02-29"), Some(1_709_164_800.0));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.5Z"), Some(-0.5));
        assert_eq!(parse_rfc3339("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00"), Some(1_704_067_200.0), "no offset: UTC");
        assert_eq!(parse_rfc3339("2024-01-01T00:00"), Some(1_704_067_200.0), "no seconds");
        assert_eq!(parse_rfc3339("2024-01-01 02:00:00+0200"), Some(1_704_067_200.0));
        assert_eq!(parse_rfc3339("2023-12-31T22:00:00-02"), Some(1_704_067_200.0));
        assert_eq!(parse_rfc3339("2024-01-01 00:00:00.5"), Some(1_704_067_200.5));
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00 AM"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00"), None);
        assert_eq!(parse_rfc3339("London"), None);
    }

    #[test]
    fn reference_semantics() {
        let id = PointId::Num(7);
        let p = payload(json!({
            "tags": ["a", "b"], "n": [1, 2, 3], "x": null, "e": [], "obj": {"k": [{"v": 5}, {"v": 6}]},
            "day": "2024-01-02T00:00:00Z", "f": 1.5
        }));
        let c = |v: Value| -> Condition { serde_json::from_value(v).unwrap() };
        assert!(c(json!({"key": "tags", "match": {"value": "b"}})).matches(&id, &p));
        assert!(!c(json!({"key": "tags", "match": {"value": "c"}})).matches(&id, &p));
        assert!(c(json!({"key": "tags", "match": {"except": ["c"]}})).matches(&id, &p));
        assert!(!c(json!({"key": "tags", "match": {"except": ["a"]}})).matches(&id, &p));
        assert!(!c(json!({"key": "missing", "match": {"except": ["a"]}})).matches(&id, &p));
        assert!(c(json!({"key": "n", "range": {"gt": 2.5}})).matches(&id, &p));
        assert!(c(json!({"key": "n", "values_count": {"gte": 3}})).matches(&id, &p));
        assert!(c(json!({"key": "obj.k[].v", "match": {"value": 6}})).matches(&id, &p));
        assert!(c(json!({"is_empty": {"key": "e"}})).matches(&id, &p));
        assert!(c(json!({"is_empty": {"key": "x"}})).matches(&id, &p));
        assert!(c(json!({"is_empty": {"key": "nope"}})).matches(&id, &p));
        assert!(!c(json!({"is_empty": {"key": "tags"}})).matches(&id, &p));
        assert!(c(json!({"is_null": {"key": "x"}})).matches(&id, &p));
        assert!(!c(json!({"is_null": {"key": "nope"}})).matches(&id, &p));
        assert!(c(json!({"key": "day", "range": {"gt": "2024-01-01T00:00:00Z"}})).matches(&id, &p));
        assert!(c(json!({"key": "day", "range": {"gt": 1_704_067_200}})).matches(&id, &p));
        assert!(!c(json!({"key": "f", "match": {"value": 1}})).matches(&id, &p));
        assert!(c(json!({"has_id": [7]})).matches(&id, &p));
        // Qdrant's paths: an array on the way needs `[]` (or an index), the leaf is flattened.
        assert!(!c(json!({"key": "obj.k.v", "match": {"value": 6}})).matches(&id, &p));
        assert!(c(json!({"key": "obj.k[1].v", "match": {"value": 6}})).matches(&id, &p));
        assert!(!c(json!({"key": "obj.k[0].v", "match": {"value": 6}})).matches(&id, &p));
        assert!(!c(json!({"key": "obj.k[9].v", "match": {"value": 6}})).matches(&id, &p));
        // `is_empty` / `is_null` as flags of a field condition.
        assert!(c(json!({"key": "e", "is_empty": true})).matches(&id, &p));
        assert!(c(json!({"key": "tags", "is_empty": false})).matches(&id, &p));
        assert!(c(json!({"key": "x", "is_null": true})).matches(&id, &p));
        assert!(c(json!({"key": "tags", "is_null": false})).matches(&id, &p));
        // Nested: both conditions on one element.
        let q = payload(json!({"c": [{"n": "a", "v": 1}, {"n": "b", "v": 9}]}));
        assert!(!c(json!({"nested": {"key": "c", "filter": {"must": [
            {"key": "n", "match": {"value": "a"}}, {"key": "v", "range": {"gt": 5}}]}}}))
        .matches(&id, &q));
        assert!(c(json!({"nested": {"key": "c[]", "filter": {"must": [
            {"key": "n", "match": {"value": "b"}}, {"key": "v", "range": {"gt": 5}}]}}}))
        .matches(&id, &q));
        let e = c(json!({"key": "a"})).validate().unwrap_err().to_string();
        assert!(e.contains("At least one field condition must be specified"), "{e}");
        let f: Filter = serde_json::from_value(json!({
            "should": [{"key": "tags", "match": {"value": "zz"}}],
            "must_not": [{"key": "n", "match": {"value": 9}}]
        }))
        .unwrap();
        assert!(!f.matches(&id, &p));
    }
}
