//! Wire types of Qdrant's Query API beyond a plain vector (`/points/query`,
//! `/points/query/batch`, `/points/query/groups`): prefetch stages, fusion, recommend,
//! discover, context, order_by, sample, and the explain of a stage tree. Kept apart from
//! [`crate::api`] so the core types only gain the variants and fields that point here.
//!
//! Shapes are Qdrant's (openapi `Query`, `Prefetch`, `QueryGroupsRequest`); what Grove adds
//! is marked "Grove:" (a `seed` for `sample`, `explain`, `strategy`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{ExplainOut, PointId, QueryInput, SearchParams, StrategyParam, WithPayload};
use crate::api_compat::{LookupLocation, RecommendStrategy};

/// One item or a list of them (Qdrant accepts both for `prefetch` and `context`).
///
/// `Many` is tried first: serde reads a struct from a JSON array too (fields in order), so
/// with `One` first a one-element list of prefetches parsed as a prefetch whose `prefetch` was
/// that element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A list.
    Many(Vec<T>),
    /// A single item (boxed: a prefetch holds prefetches).
    One(Box<T>),
}

impl<T> OneOrMany<T> {
    /// The items as a list.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![*t],
            OneOrMany::Many(v) => v,
        }
    }

    /// The items, borrowed.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(t) => std::slice::from_ref(t.as_ref()),
            OneOrMany::Many(v) => v,
        }
    }
}

/// A prefetch stage: its own query over its own candidates (nested prefetches, or the
/// collection), whose best `limit` points feed the stage above.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prefetch {
    /// Stages whose results this one rescores or fuses.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub prefetch: Option<OneOrMany<Prefetch>>,
    /// This stage's query (absent: the nested prefetch's results as they are).
    #[serde(default)]
    pub query: Option<QueryInput>,
    /// The named vector this stage searches.
    #[serde(default)]
    pub using: Option<String>,
    /// This stage's own filter (the request's filter applies as well).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Search parameters of this stage.
    #[serde(default)]
    pub params: Option<SearchParams>,
    /// Drop this stage's points scoring worse than this.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Points this stage passes up (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Where point ids in this stage's query take their vectors from.
    #[serde(default)]
    pub lookup_from: Option<LookupLocation>,
}

/// `mmr` of a nearest query: the nearest candidates re-ranked by maximal marginal relevance
/// (Qdrant's shape).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mmr {
    /// 0: relevance only, 1: diversity only (default 0.5).
    #[serde(default)]
    pub diversity: Option<f32>,
    /// Nearest points re-ranked (default: the stage's limit; at least the limit).
    #[serde(default)]
    pub candidates_limit: Option<usize>,
}

/// The most candidates an MMR stage re-ranks (each pick compares with every chosen point).
pub const MAX_MMR_CANDIDATES: usize = 10_000;

/// `{"fusion": ...}`: how the prefetches' results are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fusion {
    /// Reciprocal rank fusion with Qdrant's k = 2.
    Rrf,
    /// Distribution-based score fusion (mean +/- 3 sigma per list, then the sum).
    Dbsf,
}

/// `{"rrf": {"k": .., "weights": [..]}}`: parametrised reciprocal rank fusion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rrf {
    /// The constant k of 1 / (k + rank) (default 2, Qdrant's).
    #[serde(default)]
    pub k: Option<usize>,
    /// One weight per prefetch (default 1 each).
    #[serde(default)]
    pub weights: Option<Vec<f32>>,
}

/// A vector given to recommend / discover / context: a stored point's id or a dense vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum VectorInput {
    /// A dense vector.
    Dense(Vec<f32>),
    /// The vector of this stored point (`lookup_from` or the queried collection); the point
    /// itself is left out of the results.
    Id(PointId),
}

/// `{"recommend": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendInput {
    /// Examples to be close to.
    #[serde(default)]
    pub positive: Vec<VectorInput>,
    /// Examples to be far from.
    #[serde(default)]
    pub negative: Vec<VectorInput>,
    /// Default `average_vector`.
    #[serde(default)]
    pub strategy: Option<RecommendStrategy>,
}

/// A positive/negative pair of a context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextInputPair {
    /// The side to be on.
    pub positive: VectorInput,
    /// The side to avoid.
    pub negative: VectorInput,
}

/// `{"discover": {"target": .., "context": ..}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoverInput {
    /// The point to be close to.
    pub target: VectorInput,
    /// Pairs that split the space into zones to be in.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<OneOrMany<ContextInputPair>>,
}

/// Sort direction of `order_by`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smallest first (default).
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// `order_by`: a payload key, or `{key, direction, start_from}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OrderByInput {
    /// Ascending by this key.
    Key(String),
    /// Full form.
    Full(OrderBy),
}

/// The full form of `order_by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBy {
    /// Payload key (needs an integer, float or datetime index, as in Qdrant).
    pub key: String,
    /// Default `asc`.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// Start at this value (inclusive): a number or an RFC 3339 datetime.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub start_from: Option<serde_json::Value>,
}

impl OrderByInput {
    /// The full form.
    pub fn full(&self) -> OrderBy {
        match self {
            OrderByInput::Key(k) => OrderBy { key: k.clone(), direction: None, start_from: None },
            OrderByInput::Full(o) => o.clone(),
        }
    }
}

/// `{"sample": "random"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sample {
    /// A uniform sample without replacement.
    Random,
}

/// `with_lookup` of `/points/query/groups`: a collection name, or the full form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum WithLookup {
    /// Look up group ids in this collection (payload, no vectors).
    Collection(String),
    /// Full form.
    Full(WithLookupFull),
}

/// The full form of `with_lookup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithLookupFull {
    /// The collection whose points have the group ids as ids.
    pub collection: String,
    /// Default: all payload.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false.
    #[serde(default, alias = "with_vector")]
    pub with_vectors: Option<bool>,
}

/// `POST /collections/{name}/points/query/groups` body: a query whose hits are grouped by a
/// payload field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryGroupsRequest {
    /// Stages whose results the query rescores or fuses.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub prefetch: Option<OneOrMany<Prefetch>>,
    /// The query.
    #[serde(default)]
    pub query: Option<QueryInput>,
    /// The named vector to search.
    #[serde(default)]
    pub using: Option<String>,
    /// Only points matching this filter (every stage).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Search parameters.
    #[serde(default)]
    pub params: Option<SearchParams>,
    /// Drop hits worse than this score.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Default: no payload.
    #[serde(default)]
    pub with_payload: Option<WithPayload>,
    /// Default: false.
    #[serde(default)]
    pub with_vector: Option<bool>,
    /// Where point ids in the query take their vectors from.
    #[serde(default)]
    pub lookup_from: Option<LookupLocation>,
    /// Payload field whose value (a string or integer, or an array of them) names the group.
    pub group_by: String,
    /// Hits per group (default 3).
    #[serde(default)]
    pub group_size: Option<usize>,
    /// Number of groups (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Join each group with the point of that id in another collection.
    #[serde(default)]
    pub with_lookup: Option<WithLookup>,
    /// Grove: force a path (default "auto").
    #[serde(default)]
    pub strategy: Option<StrategyParam>,
    /// Accepted and ignored: one node, one shard.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub shard_key: Option<serde_json::Value>,
}

/// What one stage of a query did (explain), with the stages it read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageExplainOut {
    /// Where the stage sits: `query`, `prefetch[0]`, `prefetch[0].prefetch[1]`, ...
    pub stage: String,
    /// What it computed: nearest, nearest_point, recommend_average_vector, recommend_best_score,
    /// recommend_sum_scores, discover, context, order_by, sample, fusion_rrf, fusion_dbsf,
    /// prefetch (no query: the prefetch's results as they are), scroll (no query, no prefetch).
    pub kind: String,
    /// The named vector scored (absent for fusion, order_by, sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// How the points were found: `planner` (an index path, see `search`), `exact` (every
    /// allowed point scored), `rescore` (exactly the candidates of the prefetches), `fusion`.
    pub how: String,
    /// Candidates from the prefetches (absent for a stage over the collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates: Option<u64>,
    /// Points passed up (or returned, for the query itself).
    pub returned: u64,
    /// The planner's explain, when an index search ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<ExplainOut>,
    /// The prefetch stages, in request order (each a `StageExplainOut`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub prefetch: Vec<StageExplainOut>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::QueryRequest;

    #[test]
    fn query_api_shapes_parse() {
        let q: QueryRequest = serde_json::from_str(
            r#"{"prefetch":[{"query":[0.1,0.2],"using":"a","limit":20,
                             "prefetch":{"query":{"nearest":[1.0,2.0]}}},
                            {"query":7,"filter":{"must":[]}}],
                "query":{"fusion":"dbsf"},"limit":5}"#,
        )
        .expect("parses");
        let pre = q.prefetch.expect("prefetch").into_vec();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[1].query, Some(QueryInput::Point(PointId::Num(7))));
        assert_eq!(pre[0].prefetch.as_ref().map(|p| p.as_slice().len()), Some(1));
        assert_eq!(q.query, Some(QueryInput::Fusion { fusion: Fusion::Dbsf }));
        // Regression: a one-element list is a list of one prefetch, not a prefetch wrapping it.
        let q: QueryRequest =
            serde_json::from_str(r#"{"prefetch":[{"query":[1.0],"limit":40}],"query":[1.0]}"#)
                .expect("parses");
        let pre = q.prefetch.expect("prefetch").into_vec();
        assert_eq!((pre.len(), pre[0].limit), (1, Some(40)));
        for body in [
            r#"{"query":{"rrf":{"k":60}}}"#,
            r#"{"query":{"recommend":{"positive":[1,[0.5,0.5]],"strategy":"best_score"}}}"#,
            r#"{"query":{"discover":{"target":3,"context":[{"positive":1,"negative":2}]}}}"#,
            r#"{"query":{"context":{"positive":1,"negative":2}}}"#,
            r#"{"query":{"order_by":"price"}}"#,
            r#"{"query":{"order_by":{"key":"price","direction":"desc","start_from":3}}}"#,
            r#"{"query":{"sample":"random"}}"#,
            r#"{"query":{"sample":"random","seed":9}}"#,
            r#"{"query":{"nearest":"5c56c793-69f3-4fbf-87e6-c4bf54c28c26"}}"#,
        ] {
            let q: QueryRequest = serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert!(q.query.is_some(), "{body}");
        }
        for bad in [r#"{"query":{"fusion":"max"}}"#, r#"{"query":{"sample":"first"}}"#] {
            assert!(serde_json::from_str::<QueryRequest>(bad).is_err(), "{bad}");
        }
        let g: QueryGroupsRequest = serde_json::from_str(
            r#"{"query":[1.0],"group_by":"doc","group_size":2,"with_lookup":{"collection":"docs","with_vectors":false}}"#,
        )
        .expect("groups parse");
        assert!(matches!(g.with_lookup, Some(WithLookup::Full(_))));
    }
}
