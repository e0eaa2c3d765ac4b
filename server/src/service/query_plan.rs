//! The stage tree of a Query API request and its evaluation, given one leaf function.
//!
//! A request is a tree: the query itself at the root, `prefetch` stages below it, nested to
//! any depth (bounded by [`MAX_DEPTH`] and [`MAX_STAGES`]). [`build`] validates the whole tree
//! before any work is queued (limits, filters, fusion without prefetch, weights) and pushes
//! the request's filter down into every stage, as Qdrant does. [`evaluate`] runs it bottom
//! up: every stage's prefetches first, then the stage's own query over their candidates:
//!
//! - a fusion (`rrf`, `dbsf`) combines the prefetches' ranked lists ([`grove_index::fusion`]);
//! - any other query is handed to the [`Leaf`] with the union of the prefetches' candidates
//!   (the leaf scores exactly those points: exact rescoring), or over the whole collection
//!   when the stage has no prefetch;
//! - no query: the single prefetch's results as they are; no query and no prefetch: points in
//!   id order (the leaf scrolls).
//!
//! The evaluator knows nothing of storage: every scoring kind (dense nearest today; sparse and
//! multi-vector queries are further [`QueryInput`] variants the leaf answers) goes through the
//! one [`Leaf::run`], so a new kind of vector adds a leaf case, not a new tree. Each stage's
//! explain (its path, how its points were found, its candidates and what it passed up, the
//! planner's record when an index ran) is assembled here.

use grove_index::fusion;
use grove_storage as st;

use super::{ServiceError, ServiceResult};
use crate::api::{ExplainOut, QueryInput, SearchParams};
use crate::api_compat::LookupLocation;
use crate::api_query::{Fusion, OneOrMany, Prefetch, StageExplainOut};
use crate::config::LimitsConfig;

/// Deepest nesting of prefetches (the query itself is depth 0).
pub const MAX_DEPTH: usize = 16;

/// Most stages in one request (the query and every prefetch): each is a search, so this and
/// `limits.max_limit` per stage bound a request's work.
pub const MAX_STAGES: usize = 64;

/// Default `limit` of a prefetch stage (Qdrant's).
pub const DEFAULT_PREFETCH_LIMIT: usize = 10;

/// Which way a stage's scores point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Similarities, fused scores, recommendation scores.
    LargerBetter,
    /// Euclidean distances.
    SmallerBetter,
}

/// One scored point passed between stages.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The point.
    pub id: st::PointId,
    /// Its score in the stage's [`Order`].
    pub score: f32,
    /// The payload value an `order_by` stage sorted on.
    pub order_value: Option<serde_json::Value>,
}

/// A stage's answer: its points best first, and how to read their scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Best first.
    pub points: Vec<Candidate>,
    /// The direction of `score`.
    pub order: Order,
}

/// One stage after validation.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Where it sits in the request (`query`, `prefetch[1].prefetch[0]`), for explain and errors.
    pub path: String,
    /// Its prefetches, in request order.
    pub prefetch: Vec<Stage>,
    /// Its query (validated: fusion only with prefetches).
    pub query: Option<QueryInput>,
    /// The named vector it scores (`""`: the unnamed one).
    pub using: String,
    /// Its own filter and every enclosing stage's, conjoined.
    pub filter: Option<st::Filter>,
    /// Its search parameters.
    pub params: Option<SearchParams>,
    /// Points it passes up (for the query itself: limit + offset).
    pub limit: usize,
    /// Points scoring worse are dropped.
    pub score_threshold: Option<f32>,
    /// Where point ids in its query take their vectors from.
    pub lookup_from: Option<LookupLocation>,
}

/// The stage's own parts, as the request gives them (the query's or a prefetch's).
pub struct StageInput {
    /// Nested prefetches.
    pub prefetch: Option<OneOrMany<Prefetch>>,
    /// Query.
    pub query: Option<QueryInput>,
    /// Named vector.
    pub using: Option<String>,
    /// Own filter, as JSON.
    pub filter: Option<serde_json::Value>,
    /// Search parameters.
    pub params: Option<SearchParams>,
    /// Score threshold.
    pub score_threshold: Option<f32>,
    /// Points passed up.
    pub limit: usize,
    /// Vector source of point ids.
    pub lookup_from: Option<LookupLocation>,
}

/// What a stage asks of the leaf: score `query` over the points allowed by `filter` (and, when
/// given, among `candidates` only) and return the best `limit`.
#[derive(Debug, Clone, Copy)]
pub struct LeafCall<'a> {
    /// The stage's path (for error messages).
    pub path: &'a str,
    /// Never a fusion. `None`: points in id order (score 0).
    pub query: Option<&'a QueryInput>,
    /// The named vector.
    pub using: &'a str,
    /// The stage's filter (enclosing stages' included).
    pub filter: Option<&'a st::Filter>,
    /// The prefetches' candidates; `None`: the whole collection.
    pub candidates: Option<&'a [st::PointId]>,
    /// Points to return.
    pub limit: usize,
    /// Search parameters.
    pub params: Option<&'a SearchParams>,
    /// Drop points scoring worse (in the answer's order).
    pub score_threshold: Option<f32>,
    /// Vector source of point ids in the query.
    pub lookup_from: Option<&'a LookupLocation>,
}

/// The leaf's answer for one stage.
#[derive(Debug, Clone)]
pub struct LeafOut {
    /// The points.
    pub ranked: Ranked,
    /// The stage kind for explain (`nearest`, `recommend_best_score`, ...).
    pub kind: String,
    /// `planner`, `exact` or `rescore`.
    pub how: String,
    /// The planner's explain, when an index search ran.
    pub search: Option<ExplainOut>,
}

/// Scores one stage: the only place a query touches the data.
pub trait Leaf {
    /// Answers one stage. Called once per non-fusion stage, prefetches before their parent.
    fn run(&mut self, call: LeafCall<'_>) -> ServiceResult<LeafOut>;
}

fn bad(path: &str, msg: impl std::fmt::Display) -> ServiceError {
    ServiceError::invalid(format!("{path}: {msg}"))
}

/// Validates a request's stage tree; `outer` is the request's filter (already parsed), which
/// every stage inherits.
pub fn build(root: StageInput, outer: Option<st::Filter>, limits: &LimitsConfig) -> ServiceResult<Stage> {
    let mut count = 0usize;
    build_stage("query".to_owned(), root, outer, 0, &mut count, limits)
}

fn build_stage(
    path: String,
    input: StageInput,
    inherited: Option<st::Filter>,
    depth: usize,
    count: &mut usize,
    limits: &LimitsConfig,
) -> ServiceResult<Stage> {
    *count += 1;
    if *count > MAX_STAGES {
        return Err(ServiceError::LimitExceeded(format!(
            "the request has more than {MAX_STAGES} stages (the query and its prefetches); the most is \
             {MAX_STAGES}: fuse fewer lists or nest less"
        )));
    }
    if depth > MAX_DEPTH {
        return Err(ServiceError::LimitExceeded(format!(
            "{path}: prefetches nested {depth} deep; the most is {MAX_DEPTH}"
        )));
    }
    if input.limit == 0 {
        return Err(bad(&path, "`limit` must be at least 1"));
    }
    if input.limit > limits.max_limit {
        return Err(ServiceError::LimitExceeded(format!(
            "{path}: limit {} (with offset, for the query); the most is {} (limits.max_limit)",
            input.limit, limits.max_limit
        )));
    }
    if let Some(ef) = input.params.as_ref().and_then(|p| p.hnsw_ef) {
        if ef == 0 || ef > limits.max_ef {
            return Err(ServiceError::LimitExceeded(format!(
                "{path}: params.hnsw_ef = {ef}; it must be between 1 and {} (limits.max_ef)",
                limits.max_ef
            )));
        }
    }
    if let Some(o) = input.params.as_ref().and_then(|p| p.quantization).and_then(|q| q.oversampling) {
        if !(1.0..=grove_index::quant::MAX_OVERSAMPLING).contains(&o) {
            return Err(bad(
                &path,
                format!(
                    "params.quantization.oversampling = {o}; it must be between 1 and {}",
                    grove_index::quant::MAX_OVERSAMPLING
                ),
            ));
        }
    }
    let own = super::ops::filter_in(input.filter, limits).map_err(|e| match e {
        ServiceError::InvalidArgument(m) => bad(&path, m),
        other => other,
    })?;
    let filter = conjoin(inherited, own);
    let prefetch_in = input.prefetch.map(OneOrMany::into_vec).unwrap_or_default();
    let n_prefetch = prefetch_in.len();
    let mut prefetch = Vec::with_capacity(n_prefetch);
    for (i, p) in prefetch_in.into_iter().enumerate() {
        let child = StageInput {
            prefetch: p.prefetch,
            query: p.query,
            using: p.using,
            filter: p.filter,
            params: p.params,
            score_threshold: p.score_threshold,
            limit: p.limit.unwrap_or(DEFAULT_PREFETCH_LIMIT),
            lookup_from: p.lookup_from,
        };
        let child_path =
            if path == "query" { format!("prefetch[{i}]") } else { format!("{path}.prefetch[{i}]") };
        prefetch.push(build_stage(child_path, child, filter.clone(), depth + 1, count, limits)?);
    }
    match (&input.query, n_prefetch) {
        (Some(QueryInput::Fusion { .. } | QueryInput::Rrf { .. }), 0) => {
            return Err(bad(
                &path,
                "a fusion needs prefetches to fuse: give `prefetch` stages (one per list) under it",
            ))
        }
        (Some(QueryInput::Rrf { rrf }), n) => {
            if let Some(w) = &rrf.weights {
                if w.len() != n {
                    return Err(bad(
                        &path,
                        format!(
                            "rrf.weights has {} weights for {n} prefetches: give one per prefetch",
                            w.len()
                        ),
                    ));
                }
                if let Some(x) = w.iter().find(|x| !x.is_finite() || **x < 0.0) {
                    return Err(bad(&path, format!("rrf.weights: {x} is not a finite weight >= 0")));
                }
            }
            if rrf.k == Some(0) {
                return Err(bad(&path, "rrf.k must be at least 1"));
            }
        }
        (None, n) if n > 1 => {
            return Err(bad(
                &path,
                format!(
                    "{n} prefetches without a query: give a query that combines them, e.g. \
                     {{\"fusion\": \"rrf\"}}"
                ),
            ))
        }
        _ => {}
    }
    Ok(Stage {
        path,
        prefetch,
        query: input.query,
        using: input.using.unwrap_or_default(),
        filter,
        params: input.params,
        limit: input.limit,
        score_threshold: input.score_threshold,
        lookup_from: input.lookup_from,
    })
}

/// `a AND b`, either optional.
pub fn conjoin(a: Option<st::Filter>, b: Option<st::Filter>) -> Option<st::Filter> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => {
            Some(st::Filter::must(vec![st::Condition::Filter(a), st::Condition::Filter(b)]))
        }
    }
}

/// Evaluates a stage (prefetches first) and returns its points and its explain.
pub fn evaluate(stage: &Stage, leaf: &mut dyn Leaf) -> ServiceResult<(Ranked, StageExplainOut)> {
    let mut sources = Vec::with_capacity(stage.prefetch.len());
    let mut explains = Vec::with_capacity(stage.prefetch.len());
    for p in &stage.prefetch {
        let (r, e) = evaluate(p, leaf)?;
        sources.push(r);
        explains.push(e);
    }
    let explain =
        |kind: String, how: &str, using: Option<String>, candidates, returned, search| StageExplainOut {
            stage: stage.path.clone(),
            kind,
            using,
            how: how.to_owned(),
            candidates,
            returned,
            search,
            prefetch: Vec::new(),
        };
    let fuse = match &stage.query {
        Some(QueryInput::Fusion { fusion: Fusion::Rrf }) => Some((true, fusion::DEFAULT_RRF_K, None)),
        Some(QueryInput::Fusion { fusion: Fusion::Dbsf }) => Some((false, 0, None)),
        Some(QueryInput::Rrf { rrf }) => {
            Some((true, rrf.k.unwrap_or(fusion::DEFAULT_RRF_K), rrf.weights.as_deref()))
        }
        Some(
            QueryInput::Vector(_)
            | QueryInput::MultiDense(_)
            | QueryInput::NearestMulti { .. }
            | QueryInput::Nearest { .. }
            | QueryInput::NearestMmr { .. }
            | QueryInput::Sparse(_)
            | QueryInput::NearestSparse { .. }
            | QueryInput::Point(_)
            | QueryInput::NearestPoint { .. }
            | QueryInput::Recommend { .. }
            | QueryInput::Discover { .. }
            | QueryInput::Context { .. }
            | QueryInput::OrderBy { .. }
            | QueryInput::Sample { .. },
        )
        | None => None,
    };
    let candidates_in: u64 = sources.iter().map(|s| s.points.len() as u64).sum();
    let (ranked, mut ex) = if let Some((is_rrf, k, weights)) = fuse {
        let lists: Vec<Vec<(st::PointId, f32)>> = sources
            .iter()
            .map(|s| {
                let sign = if s.order == Order::SmallerBetter { -1.0 } else { 1.0 };
                s.points.iter().map(|c| (c.id, sign * c.score)).collect()
            })
            .collect();
        let fused = if is_rrf { fusion::rrf(&lists, k, weights) } else { fusion::dbsf(&lists) };
        let points: Vec<Candidate> = fused
            .into_iter()
            .filter(|(_, s)| stage.score_threshold.is_none_or(|t| *s >= t))
            .take(stage.limit)
            .map(|(id, score)| Candidate { id, score, order_value: None })
            .collect();
        let kind = if is_rrf { "fusion_rrf" } else { "fusion_dbsf" };
        let n = points.len() as u64;
        (
            Ranked { points, order: Order::LargerBetter },
            explain(kind.to_owned(), "fusion", None, Some(candidates_in), n, None),
        )
    } else if stage.query.is_none() && !sources.is_empty() {
        // One prefetch (several are refused by `build`): its points as they are.
        let mut r = sources.swap_remove(0);
        r.points.truncate(stage.limit);
        let n = r.points.len() as u64;
        (r, explain("prefetch".to_owned(), "prefetch", None, Some(candidates_in), n, None))
    } else {
        let union = (!stage.prefetch.is_empty()).then(|| union_ids(&sources));
        let out = if union.as_ref().is_some_and(Vec::is_empty) {
            // Nothing to rescore: no leaf call (it would scan for an empty id set).
            LeafOut {
                ranked: Ranked { points: Vec::new(), order: Order::LargerBetter },
                kind: "rescore".to_owned(),
                how: "rescore".to_owned(),
                search: None,
            }
        } else {
            leaf.run(LeafCall {
                path: &stage.path,
                query: stage.query.as_ref(),
                using: &stage.using,
                filter: stage.filter.as_ref(),
                candidates: union.as_deref(),
                limit: stage.limit,
                params: stage.params.as_ref(),
                score_threshold: stage.score_threshold,
                lookup_from: stage.lookup_from.as_ref(),
            })?
        };
        let n = out.ranked.points.len() as u64;
        let using = Some(stage.using.clone());
        let cands = union.as_ref().map(|_| candidates_in);
        let e = explain(out.kind, &out.how, using, cands, n, out.search);
        (out.ranked, e)
    };
    ex.prefetch = explains;
    Ok((ranked, ex))
}

/// Distinct ids of all sources, in order of first appearance.
fn union_ids(sources: &[Ranked]) -> Vec<st::PointId> {
    let mut seen = std::collections::HashSet::new();
    sources.iter().flat_map(|s| s.points.iter().map(|c| c.id)).filter(|id| seen.insert(*id)).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::api_query::Rrf;

    /// A leaf over 1-d points `id -> x`: nearest is by |x - q| (smaller better), over the
    /// candidates when given; it records every call.
    struct Line {
        xs: HashMap<u64, f32>,
        calls: Vec<(String, Option<usize>)>,
    }

    impl Leaf for Line {
        fn run(&mut self, call: LeafCall<'_>) -> ServiceResult<LeafOut> {
            self.calls.push((call.path.to_owned(), call.candidates.map(<[_]>::len)));
            let q = match call.query {
                Some(QueryInput::Vector(v)) => v[0],
                _ => return Err(ServiceError::invalid("test leaf: vectors only")),
            };
            let mut pts: Vec<Candidate> = self
                .xs
                .iter()
                .filter(|(id, _)| call.candidates.is_none_or(|c| c.contains(&st::PointId::Num(**id))))
                .map(|(id, x)| Candidate {
                    id: st::PointId::Num(*id),
                    score: (x - q).abs(),
                    order_value: None,
                })
                .collect();
            pts.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.id.cmp(&b.id)));
            pts.truncate(call.limit);
            Ok(LeafOut {
                ranked: Ranked { points: pts, order: Order::SmallerBetter },
                kind: "nearest".into(),
                how: if call.candidates.is_some() { "rescore".into() } else { "exact".into() },
                search: None,
            })
        }
    }

    fn line() -> Line {
        Line { xs: (0..100).map(|i| (i, i as f32)).collect(), calls: Vec::new() }
    }

    fn input(query: Option<QueryInput>, prefetch: Vec<Prefetch>, limit: usize) -> StageInput {
        StageInput {
            prefetch: (!prefetch.is_empty()).then_some(OneOrMany::Many(prefetch)),
            query,
            using: None,
            filter: None,
            params: None,
            score_threshold: None,
            limit,
            lookup_from: None,
        }
    }

    fn pre(q: f32, limit: usize) -> Prefetch {
        Prefetch { query: Some(QueryInput::Vector(vec![q])), limit: Some(limit), ..Prefetch::default() }
    }

    fn ids(r: &Ranked) -> Vec<u64> {
        r.points
            .iter()
            .map(|c| match c.id {
                st::PointId::Num(n) => n,
                st::PointId::Uuid(_) => u64::MAX,
            })
            .collect()
    }

    #[test]
    fn rescoring_sees_only_the_prefetched_points() {
        let limits = LimitsConfig::default();
        // Prefetch: the 11 nearest to 20 (15..=25); rescoring towards 0 ranks them 15, 16, 17,
        // never 0: only the prefetched points are rescored.
        let stage = build(input(Some(QueryInput::Vector(vec![0.0])), vec![pre(20.0, 11)], 3), None, &limits)
            .expect("valid");
        let mut leaf = line();
        let (r, ex) = evaluate(&stage, &mut leaf).expect("runs");
        assert_eq!(ids(&r), vec![15, 16, 17]);
        assert_eq!(leaf.calls, vec![("prefetch[0]".to_owned(), None), ("query".to_owned(), Some(11))]);
        assert_eq!((ex.candidates, ex.returned, ex.prefetch.len()), (Some(11), 3, 1));
    }

    #[test]
    fn fusion_fuses_nested_prefetches_and_distances_are_negated_for_dbsf() {
        let limits = LimitsConfig::default();
        let nested = Prefetch {
            prefetch: Some(OneOrMany::One(Box::new(pre(50.0, 20)))),
            query: Some(QueryInput::Vector(vec![52.0])),
            limit: Some(5),
            ..Prefetch::default()
        };
        for q in [
            QueryInput::Fusion { fusion: Fusion::Rrf },
            QueryInput::Fusion { fusion: Fusion::Dbsf },
            QueryInput::Rrf { rrf: Rrf { k: Some(60), weights: Some(vec![1.0, 2.0]) } },
        ] {
            let stage = build(input(Some(q.clone()), vec![pre(50.0, 5), nested.clone()], 10), None, &limits)
                .expect("valid");
            let (r, ex) = evaluate(&stage, &mut line()).expect("runs");
            // Both lists hold 50..54 region points: 50, 51, 52 appear in both, so they lead.
            let got = ids(&r);
            assert!(got.len() >= 5, "{q:?}: {got:?}");
            let top: std::collections::BTreeSet<u64> = got[..3].iter().copied().collect();
            assert!(top.iter().all(|i| (50..=53).contains(i)), "{q:?}: {got:?}");
            assert_eq!(ex.prefetch[1].prefetch.len(), 1);
            assert!(r.points.windows(2).all(|w| w[0].score >= w[1].score));
        }
    }

    #[test]
    fn no_query_passes_one_prefetch_through_and_refuses_several() {
        let limits = LimitsConfig::default();
        let stage = build(input(None, vec![pre(10.0, 5)], 2), None, &limits).expect("valid");
        let (r, _) = evaluate(&stage, &mut line()).expect("runs");
        assert_eq!(ids(&r), vec![10, 9]);
        let err = build(input(None, vec![pre(1.0, 5), pre(2.0, 5)], 2), None, &limits).expect_err("two");
        assert!(err.to_string().contains("fusion"), "{err}");
    }

    #[test]
    fn bounds_and_bad_shapes_are_refused_before_any_work() {
        let limits = LimitsConfig::default();
        let fusion = Some(QueryInput::Fusion { fusion: Fusion::Rrf });
        let e = build(input(fusion.clone(), vec![], 5), None, &limits).expect_err("fusion alone");
        assert!(matches!(e, ServiceError::InvalidArgument(_)) && e.to_string().contains("prefetch"), "{e}");
        let weights = QueryInput::Rrf { rrf: Rrf { k: None, weights: Some(vec![1.0]) } };
        let e = build(input(Some(weights), vec![pre(1.0, 2), pre(2.0, 2)], 5), None, &limits)
            .expect_err("weights");
        assert!(e.to_string().contains("weights"), "{e}");
        // Depth: a chain of MAX_DEPTH + 1 nested prefetches.
        let mut p = pre(1.0, 2);
        for _ in 0..MAX_DEPTH {
            p = Prefetch { prefetch: Some(OneOrMany::One(Box::new(p))), ..pre(1.0, 2) };
        }
        let e =
            build(input(Some(QueryInput::Vector(vec![0.0])), vec![p], 5), None, &limits).expect_err("depth");
        assert!(matches!(e, ServiceError::LimitExceeded(_)) && e.to_string().contains("deep"), "{e}");
        // Breadth: more stages than MAX_STAGES.
        let many: Vec<Prefetch> = (0..MAX_STAGES).map(|i| pre(i as f32, 1)).collect();
        let e = build(input(fusion, many, 5), None, &limits).expect_err("stages");
        assert!(matches!(e, ServiceError::LimitExceeded(_)) && e.to_string().contains("stages"), "{e}");
        let e = build(
            input(Some(QueryInput::Vector(vec![0.0])), vec![pre(1.0, limits.max_limit + 1)], 5),
            None,
            &limits,
        )
        .expect_err("limit");
        assert!(e.to_string().contains("prefetch[0]"), "{e}");
    }

    #[test]
    fn the_outer_filter_reaches_every_stage() {
        let limits = LimitsConfig::default();
        let outer: st::Filter =
            serde_json::from_value(serde_json::json!({"must": [{"has_id": [1, 2]}]})).expect("f");
        let mut p = pre(1.0, 2);
        p.filter = Some(serde_json::json!({"must": [{"has_id": [2]}]}));
        let stage =
            build(input(Some(QueryInput::Vector(vec![0.0])), vec![p], 5), Some(outer.clone()), &limits)
                .expect("valid");
        assert_eq!(stage.filter, Some(outer.clone()));
        let inner = stage.prefetch[0].filter.as_ref().expect("inner filter");
        assert_eq!(inner.must.len(), 2);
        assert_eq!(inner.must[0], st::Condition::Filter(outer));
    }
}
