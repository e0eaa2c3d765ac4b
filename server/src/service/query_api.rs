//! Qdrant's Query API over storage: the [`Leaf`] that answers one stage of a
//! [`query_plan`](super::query_plan) tree, and the service methods for `/points/query` (when
//! it is more than one nearest-vector search), its batch form and `/points/query/groups`.
//!
//! Every stage is one of:
//! - **nearest** (a dense vector, or a stored point's vector with the point left out): the
//!   engine's planner over the stage's filter; over prefetched candidates, an exact search
//!   restricted to them (`has_id`), which is the exact rescoring;
//! - **recommend** `average_vector`: a nearest search for `avg(pos) + (avg(pos) - avg(neg))`;
//!   `best_score`, `sum_scores`, **discover** and **context**: exact, every allowed point (or
//!   every candidate) scored page by page, checking the stop signal between pages;
//! - **order_by**: allowed points sorted by a payload field (an integer, float or datetime
//!   index is required, as in Qdrant), score 0 and `order_value` set;
//! - **sample**: a seeded uniform sample (reservoir), score 0;
//! - no query, no prefetch: points in id order, score 0.
//!
//! A new kind of vector (sparse, multi-vector) is one more arm of [`StoreLeaf::run`].

use std::collections::HashMap;

use grove_index::{Metric, Strategy};
use grove_storage as st;

use super::ops::{id_in, id_out};
use super::points_compat::{discover_score, reco_score, SplitMix};
use super::query_plan::{self, Candidate, Leaf, LeafCall, LeafOut, Order, Ranked, Stage, StageInput};
use super::{Service, ServiceError, ServiceResult, Store};
use crate::api::{self, QueryInput, WithPayload};
use crate::api_compat as c;
use crate::api_query::{self as q, RecommendInput, VectorInput};
use crate::config::LimitsConfig;
use crate::metrics::Metrics;
use crate::operations::Op;

/// Points read per page by the exact scans.
const SCAN_PAGE: usize = 512;

/// Whether a request is one nearest-vector search, dense or sparse (the core path answers it
/// as before).
pub(super) fn is_plain(q: &api::QueryRequest) -> bool {
    q.prefetch.is_none()
        && q.query
            .as_ref()
            .is_some_and(|i| i.dense_vector().is_some() || i.sparse().is_some() || i.multi().is_some())
}

/// A validated Query API request.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    root: Stage,
    offset: usize,
    with_payload: WithPayload,
    with_vector: api::WithVector,
    explain: bool,
    strategy: Strategy,
}

/// Validates a request's stage tree (before any work is queued).
pub(super) fn plan(req: api::QueryRequest, limits: &LimitsConfig) -> ServiceResult<Planned> {
    let limit = req.limit.unwrap_or(super::limits::DEFAULT_LIMIT);
    let offset = req.offset.unwrap_or(0);
    let strategy = match (req.params.as_ref().and_then(|p| p.exact), req.strategy.unwrap_or_default()) {
        (Some(true), _) | (_, api::StrategyParam::Exact) => Strategy::Exact,
        (_, api::StrategyParam::Auto) => Strategy::Auto,
        (_, api::StrategyParam::Hnsw) => Strategy::Hnsw,
        (_, api::StrategyParam::Acorn) => Strategy::Acorn,
    };
    let outer = super::ops::filter_in(req.filter, limits)?;
    let root = query_plan::build(
        StageInput {
            prefetch: req.prefetch,
            query: req.query,
            using: req.using,
            filter: None,
            params: req.params,
            score_threshold: req.score_threshold,
            limit: limit.saturating_add(offset),
            lookup_from: req.lookup_from,
        },
        outer,
        limits,
    )?;
    Ok(Planned {
        root,
        offset,
        with_payload: req.with_payload.unwrap_or(WithPayload::Enable(false)),
        with_vector: req.with_vector.unwrap_or(api::WithVector::Enable(false)),
        explain: req.explain.unwrap_or(false),
        strategy,
    })
}

/// Runs a planned request on the calling (search pool) thread.
pub(super) fn run_planned(
    s: &Store,
    name: &str,
    p: &Planned,
    stop: &grove_index::Stop,
    metrics: &Metrics,
) -> ServiceResult<api::QueryResponse> {
    if s.resolve(name).is_none() {
        return Err(ServiceError::no_collection(name));
    }
    let mut leaf = StoreLeaf { s, name, stop, strategy: p.strategy, metrics };
    let (ranked, explain) = query_plan::evaluate(&p.root, &mut leaf)?;
    let page: Vec<Candidate> = ranked.points.into_iter().skip(p.offset).collect();
    let points = hits_out(s, name, page, &p.with_payload, &p.with_vector)?;
    let (explain, stages) = if p.explain { (explain.search.clone(), Some(explain)) } else { (None, None) };
    Ok(api::QueryResponse { points, explain, stages })
}

/// Reads payloads / vectors of the final points (points deleted meanwhile are dropped).
fn hits_out(
    s: &Store,
    name: &str,
    page: Vec<Candidate>,
    with_payload: &WithPayload,
    with_vector: &api::WithVector,
) -> ServiceResult<Vec<api::ScoredPoint>> {
    let ids: Vec<st::PointId> = page.iter().map(|c| c.id).collect();
    let want = st::WithPayload::All(with_payload.wanted());
    let mut records: HashMap<st::PointId, st::Record> =
        s.get_points(name, &ids, &want, with_vector.wanted())?.into_iter().map(|r| (r.id, r)).collect();
    Ok(page
        .into_iter()
        .filter_map(|c| {
            let r = records.remove(&c.id)?;
            Some(api::ScoredPoint {
                id: id_out(c.id),
                version: 0,
                score: c.score,
                payload: r.payload.and_then(|p| with_payload.apply(p)),
                vector: with_vector
                    .select(super::ops::vectors_with_sparse_out(r.vector, r.vectors, r.sparse, r.multi)),
                order_value: c.order_value,
            })
        })
        .collect())
}

/// The vector `using` of a record (`""`: the unnamed one, in either form).
fn vector_of(r: &st::Record, using: &str) -> Option<Vec<f32>> {
    if using.is_empty() {
        if let Some(v) = &r.vector {
            return Some(v.clone());
        }
    }
    r.vectors.as_ref().and_then(|m| m.get(using).cloned())
}

fn stopped(stop: &grove_index::Stop) -> ServiceResult<()> {
    stop.check().map_err(|e| ServiceError::Stopped(e.to_string()))
}

/// The [`Leaf`] over one collection of a storage.
struct StoreLeaf<'a> {
    s: &'a Store,
    name: &'a str,
    stop: &'a grove_index::Stop,
    strategy: Strategy,
    metrics: &'a Metrics,
}

/// Example vectors resolved for one stage: per input group, the vectors (prepared for the
/// metric), and the stored points to leave out of the answer.
struct Examples {
    groups: Vec<Vec<Vec<f32>>>,
    exclude: Vec<st::PointId>,
}

impl StoreLeaf<'_> {
    fn metric_dim(&self, using: &str) -> ServiceResult<(Metric, usize)> {
        let info = self.s.collection_info(self.name)?;
        let v = info.config.vector(using)?;
        Ok((v.metric, v.dimension))
    }

    /// Resolves vector inputs: ids from `lookup_from` (or this collection), raw vectors
    /// checked; all prepared for the searched vector's metric.
    fn resolve(&self, call: &LeafCall<'_>, groups: &[Vec<&VectorInput>]) -> ServiceResult<Examples> {
        let (metric, dim) = self.metric_dim(call.using)?;
        let (source, vname) = match call.lookup_from {
            Some(l) => (l.collection.clone(), l.vector.clone().unwrap_or_else(|| call.using.to_owned())),
            None => (self.name.to_owned(), call.using.to_owned()),
        };
        let same = self.s.resolve(&source).is_some() && self.s.resolve(&source) == self.s.resolve(self.name);
        let mut ids = Vec::new();
        for g in groups {
            for v in g {
                if let VectorInput::Id(id) = v {
                    ids.push(id_in(id.clone())?);
                }
            }
        }
        let found: HashMap<st::PointId, st::Record> = if ids.is_empty() {
            HashMap::new()
        } else {
            self.s
                .get_points(&source, &ids, &st::WithPayload::All(false), true)?
                .into_iter()
                .map(|r| (r.id, r))
                .collect()
        };
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let mut vs = Vec::with_capacity(g.len());
            for v in g {
                let mut v = match v {
                    VectorInput::Id(id) => {
                        let r = found.get(&id_in(id.clone())?).ok_or_else(|| {
                            ServiceError::NotFound(format!(
                                "No point with id {id} found in collection `{source}`"
                            ))
                        })?;
                        vector_of(r, &vname).ok_or_else(|| {
                            ServiceError::invalid(format!(
                                "{}: point {id} has no vector {vname:?}",
                                call.path
                            ))
                        })?
                    }
                    VectorInput::Dense(v) => v.clone(),
                };
                if v.len() != dim {
                    return Err(ServiceError::invalid(format!(
                        "{}: a query vector has {} dimensions, vector {:?} has {dim}",
                        call.path,
                        v.len(),
                        call.using
                    )));
                }
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(ServiceError::invalid(format!(
                        "{}: query vector component {i} is not a finite number",
                        call.path
                    )));
                }
                metric.prepare(&mut v);
                vs.push(v);
            }
            out.push(vs);
        }
        Ok(Examples { groups: out, exclude: if same { ids } else { Vec::new() } })
    }

    /// The stage's filter, restricted to the candidates and without `exclude`.
    fn scope(&self, call: &LeafCall<'_>, exclude: &[st::PointId]) -> Option<st::Filter> {
        let mut f = call.filter.cloned();
        if let Some(c) = call.candidates {
            f = query_plan::conjoin(
                f,
                Some(st::Filter::must(vec![st::Condition::HasId { has_id: c.to_vec() }])),
            );
        }
        if !exclude.is_empty() {
            let not = st::Filter {
                must_not: vec![st::Condition::HasId { has_id: exclude.to_vec() }],
                ..st::Filter::default()
            };
            f = query_plan::conjoin(f, Some(not));
        }
        f
    }

    /// A nearest search through the engine (exact over the candidates when there are some).
    /// `sparse`: a sparse query instead of `vector` (searched on the sparse index, exactly;
    /// scores are dot products, larger is better). `multi`: a multi-vector query (MaxSim; over
    /// candidates every one is scored exactly).
    fn nearest(
        &self,
        call: &LeafCall<'_>,
        vector: Vec<f32>,
        sparse: Option<st::SparseVector>,
        multi: Option<Vec<Vec<f32>>>,
        exclude: &[st::PointId],
        kind: &str,
    ) -> ServiceResult<LeafOut> {
        // Multi-vector scores point the way the metric's do (Euclid: smaller is better).
        let larger_better = match &sparse {
            Some(_) => true,
            None => self.metric_dim(call.using)?.0.higher_is_better(),
        };
        let params = call.params.cloned().unwrap_or_default();
        let rescore = call.candidates.is_some();
        let req = st::QueryRequest {
            vector,
            using: Some(call.using.to_owned()).filter(|u| !u.is_empty()),
            filter: self.scope(call, exclude),
            limit: call.limit,
            offset: 0,
            score_threshold: call.score_threshold,
            with_payload: Some(st::WithPayload::All(false)),
            with_vector: false,
            ef: params.hnsw_ef,
            exact: params.exact.unwrap_or(false) || rescore,
            strategy: if rescore { Strategy::Exact } else { self.strategy },
            explain: true,
            matryoshka: if rescore {
                None
            } else {
                params.matryoshka.map(super::ops::matryoshka_query_in).transpose()?
            },
            quantization: params.quantization.map(super::ops::quantization_query_in),
            sparse,
            multi,
        };
        let r = self.s.query_with_stop(self.name, &req, self.stop)?;
        let search = r.explain.as_ref().map(|e| {
            self.metrics.search(e.search.path.as_str());
            api::ExplainOut {
                filter: e.filter.as_ref().map(api::FilterExplainOut::from),
                using: e.using.clone(),
                multivec: e.multivec.as_ref().map(api::MultivecExplainOut::from),
                ..api::ExplainOut::from(&e.search)
            }
        });
        let order = if larger_better { Order::LargerBetter } else { Order::SmallerBetter };
        Ok(LeafOut {
            ranked: Ranked {
                points: r
                    .points
                    .into_iter()
                    .map(|h| Candidate { id: h.id, score: h.score, order_value: None })
                    .collect(),
                order,
            },
            kind: kind.to_owned(),
            how: if rescore { "rescore" } else { "planner" }.to_owned(),
            search,
        })
    }

    /// A nearest query re-ranked by maximal marginal relevance: the `candidates_limit` nearest
    /// points (at least `limit`), then, one pick at a time, the candidate maximising
    /// `(1 - diversity) * rel(p) - diversity * max over chosen s of sim(p, s)`, where `rel` is
    /// the similarity to the query and `sim` the metric's similarity (cosine, dot product, or
    /// minus the Euclidean distance); ties go to the more relevant point, so the first pick is
    /// the nearest. A point's score is its MMR value when picked, and the list is in pick
    /// order (with negative similarities a later value can exceed an earlier one).
    fn mmr(&self, call: &LeafCall<'_>, vector: Vec<f32>, mmr: &q::Mmr) -> ServiceResult<LeafOut> {
        let diversity = mmr.diversity.unwrap_or(0.5);
        if !(0.0..=1.0).contains(&diversity) {
            return Err(ServiceError::invalid(format!(
                "{}: mmr.diversity must be between 0 and 1, got {diversity}",
                call.path
            )));
        }
        let pool = mmr.candidates_limit.unwrap_or(call.limit).max(call.limit);
        if pool > q::MAX_MMR_CANDIDATES {
            return Err(ServiceError::invalid(format!(
                "{}: mmr.candidates_limit is at most {}, got {pool}",
                call.path,
                q::MAX_MMR_CANDIDATES
            )));
        }
        let (metric, _) = self.metric_dim(call.using)?;
        let wide = LeafCall { limit: pool, ..*call };
        let near = self.nearest(&wide, vector, None, None, &[], "nearest_mmr")?;
        let ids: Vec<st::PointId> = near.ranked.points.iter().map(|c| c.id).collect();
        let mut vectors: HashMap<st::PointId, Vec<f32>> = self
            .s
            .get_points(self.name, &ids, &st::WithPayload::All(false), true)?
            .into_iter()
            .filter_map(|r| vector_of(&r, call.using).map(|v| (r.id, v)))
            .collect();
        let larger_better = metric.higher_is_better();
        let mut cands: Vec<(st::PointId, f32, Vec<f32>)> = near
            .ranked
            .points
            .iter()
            .filter_map(|c| {
                let mut v = vectors.remove(&c.id)?;
                if metric == Metric::Cosine {
                    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    if n > 0.0 {
                        v.iter_mut().for_each(|x| *x /= n);
                    }
                }
                Some((c.id, if larger_better { c.score } else { -c.score }, v))
            })
            .collect();
        let sim = |a: &[f32], b: &[f32]| -> f32 {
            match metric {
                Metric::Cosine | Metric::Dot => a.iter().zip(b).map(|(x, y)| x * y).sum(),
                Metric::L2 => -a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt(),
            }
        };
        // Per candidate: the largest similarity to a chosen point so far.
        let mut closest = vec![f32::NEG_INFINITY; cands.len()];
        let mut picked = Vec::with_capacity(call.limit.min(cands.len()));
        while picked.len() < call.limit && !cands.is_empty() {
            stopped(self.stop)?;
            let value = |i: usize, c: &(st::PointId, f32, Vec<f32>)| {
                let penalty = if closest[i] == f32::NEG_INFINITY { 0.0 } else { closest[i] };
                (1.0 - diversity) * c.1 - diversity * penalty
            };
            let Some((best, score)) = cands
                .iter()
                .enumerate()
                .map(|(i, c)| (i, value(i, c)))
                .max_by(|a, b| a.1.total_cmp(&b.1).then(cands[a.0].1.total_cmp(&cands[b.0].1)))
            else {
                break;
            };
            let chosen = cands.swap_remove(best);
            closest.swap_remove(best);
            for (i, c) in cands.iter().enumerate() {
                closest[i] = closest[i].max(sim(&c.2, &chosen.2));
            }
            picked.push(Candidate { id: chosen.0, score, order_value: None });
        }
        Ok(LeafOut {
            ranked: Ranked { points: picked, order: Order::LargerBetter },
            kind: "nearest_mmr".to_owned(),
            how: near.how,
            search: near.search,
        })
    }

    /// Visits every record in scope (the candidates, or every allowed point page by page),
    /// checking the stop signal between pages.
    fn visit(
        &self,
        call: &LeafCall<'_>,
        exclude: &[st::PointId],
        payload: bool,
        vectors: bool,
        f: &mut dyn FnMut(st::Record),
    ) -> ServiceResult<()> {
        let wp = st::WithPayload::All(payload);
        if let Some(c) = call.candidates {
            // Candidates already passed this stage's filter (it is part of theirs).
            for chunk in c.chunks(SCAN_PAGE) {
                stopped(self.stop)?;
                for r in self.s.get_points(self.name, chunk, &wp, vectors)? {
                    if !exclude.contains(&r.id) {
                        f(r);
                    }
                }
            }
            return Ok(());
        }
        let filter = self.scope(call, exclude);
        let mut offset = None;
        loop {
            stopped(self.stop)?;
            let page = self.s.scroll(
                self.name,
                &st::ScrollRequest {
                    filter: filter.clone(),
                    limit: SCAN_PAGE,
                    offset: offset.take(),
                    with_payload: Some(wp.clone()),
                    with_vector: vectors,
                    order_by: None,
                },
            )?;
            for r in page.points {
                f(r);
            }
            match page.next_page_offset {
                Some(o) => offset = Some(o),
                None => return Ok(()),
            }
        }
    }

    /// Scores every point in scope exactly with `score` (larger is better).
    fn exact(
        &self,
        call: &LeafCall<'_>,
        exclude: &[st::PointId],
        kind: &str,
        score: &dyn Fn(&[f32]) -> f32,
    ) -> ServiceResult<LeafOut> {
        let mut best: Vec<Candidate> = Vec::new();
        let order = |a: &Candidate, b: &Candidate| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id));
        let keep = call.limit;
        self.visit(call, exclude, false, true, &mut |r| {
            if let Some(v) = vector_of(&r, call.using) {
                let s = score(&v);
                if call.score_threshold.is_none_or(|t| s >= t) {
                    best.push(Candidate { id: r.id, score: s, order_value: None });
                }
                if best.len() > keep.saturating_mul(2).max(SCAN_PAGE) {
                    best.sort_by(order);
                    best.truncate(keep);
                }
            }
        })?;
        best.sort_by(order);
        best.truncate(keep);
        let how = if call.candidates.is_some() { "rescore" } else { "exact" };
        Ok(LeafOut {
            ranked: Ranked { points: best, order: Order::LargerBetter },
            kind: kind.to_owned(),
            how: how.to_owned(),
            search: None,
        })
    }

    fn recommend(&self, call: &LeafCall<'_>, r: &RecommendInput) -> ServiceResult<LeafOut> {
        let strategy = r.strategy.unwrap_or_default();
        if r.positive.is_empty() && (strategy == c::RecommendStrategy::AverageVector || r.negative.is_empty())
        {
            return Err(ServiceError::invalid(format!(
                "{}: recommend needs at least one positive example (best_score and sum_scores also take \
                 negatives only)",
                call.path
            )));
        }
        let groups: [Vec<&VectorInput>; 2] = [r.positive.iter().collect(), r.negative.iter().collect()];
        let ex = self.resolve(call, &groups)?;
        let (pos, neg) = (&ex.groups[0], &ex.groups[1]);
        let (metric, dim) = self.metric_dim(call.using)?;
        match strategy {
            c::RecommendStrategy::AverageVector => {
                let mean = |vs: &[Vec<f32>]| {
                    let mut m = vec![0f32; dim];
                    for v in vs {
                        m.iter_mut().zip(v).for_each(|(a, b)| *a += b);
                    }
                    let n = vs.len().max(1) as f32;
                    m.iter_mut().for_each(|a| *a /= n);
                    m
                };
                let p = mean(pos);
                let query = if neg.is_empty() {
                    p
                } else {
                    p.iter().zip(mean(neg)).map(|(a, b)| a + (a - b)).collect()
                };
                self.nearest(call, query, None, None, &ex.exclude, "recommend_average_vector")
            }
            c::RecommendStrategy::BestScore | c::RecommendStrategy::SumScores => {
                let best = strategy == c::RecommendStrategy::BestScore;
                let kind = if best { "recommend_best_score" } else { "recommend_sum_scores" };
                self.exact(call, &ex.exclude, kind, &|v| reco_score(metric, best, pos, neg, v))
            }
        }
    }

    fn discover(
        &self,
        call: &LeafCall<'_>,
        target: Option<&VectorInput>,
        pairs: &[q::ContextInputPair],
        kind: &str,
    ) -> ServiceResult<LeafOut> {
        let (metric, _) = self.metric_dim(call.using)?;
        let groups: [Vec<&VectorInput>; 3] = [
            target.into_iter().collect(),
            pairs.iter().map(|p| &p.positive).collect(),
            pairs.iter().map(|p| &p.negative).collect(),
        ];
        let ex = self.resolve(call, &groups)?;
        let t = ex.groups[0].first().map(Vec::as_slice);
        let pairs: Vec<(Vec<f32>, Vec<f32>)> =
            ex.groups[1].iter().cloned().zip(ex.groups[2].iter().cloned()).collect();
        self.exact(call, &ex.exclude, kind, &|v| discover_score(metric, t, &pairs, v))
    }

    fn order_by(&self, call: &LeafCall<'_>, o: &q::OrderBy) -> ServiceResult<LeafOut> {
        let info = self.s.collection_info(self.name)?;
        let integer = match info.payload_schema.get(&o.key).map(|i| i.data_type) {
            Some(st::PayloadSchemaType::Integer) => true,
            Some(st::PayloadSchemaType::Float | st::PayloadSchemaType::Datetime) => false,
            Some(
                st::PayloadSchemaType::Keyword
                | st::PayloadSchemaType::Bool
                | st::PayloadSchemaType::Text
                | st::PayloadSchemaType::Uuid,
            )
            | None => {
                return Err(ServiceError::invalid(format!(
                    "Bad request: No range index for `order_by` key: `{}`. Please create one to use \
                     `order_by`: an integer, float or datetime payload index",
                    o.key
                )))
            }
        };
        let number = |v: &serde_json::Value| match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => st::filter::parse_rfc3339(s),
            _ => None,
        };
        let start = match &o.start_from {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(number(v).ok_or_else(|| {
                ServiceError::invalid(format!(
                    "{}: order_by.start_from must be a number or an RFC 3339 datetime, got {v}",
                    call.path
                ))
            })?),
        };
        let desc = o.direction == Some(q::Direction::Desc);
        let mut rows: Vec<(f64, st::PointId)> = Vec::new();
        self.visit(call, &[], true, false, &mut |r| {
            let Some(p) = &r.payload else { return };
            let vals = st::filter::values_at(p, &o.key)
                .into_iter()
                .filter_map(number)
                .filter(|v| start.is_none_or(|s| if desc { *v <= s } else { *v >= s }));
            let pick = if desc {
                vals.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
            } else {
                vals.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
            };
            if let Some(v) = pick {
                rows.push((v, r.id));
            }
        })?;
        rows.sort_by(|a, b| {
            let o = a.0.total_cmp(&b.0);
            (if desc { o.reverse() } else { o }).then_with(|| a.1.cmp(&b.1))
        });
        rows.truncate(call.limit);
        let value = |v: f64| {
            if integer && v.fract() == 0.0 && v.abs() < 9.0e15 {
                serde_json::Value::from(v as i64)
            } else {
                serde_json::Value::from(v)
            }
        };
        let how = if call.candidates.is_some() { "rescore" } else { "exact" };
        Ok(LeafOut {
            ranked: Ranked {
                points: rows
                    .into_iter()
                    .map(|(v, id)| Candidate { id, score: 0.0, order_value: Some(value(v)) })
                    .collect(),
                order: Order::LargerBetter,
            },
            kind: "order_by".to_owned(),
            how: how.to_owned(),
            search: None,
        })
    }

    fn sample(&self, call: &LeafCall<'_>, seed: Option<u64>) -> ServiceResult<LeafOut> {
        let seed = seed.unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0);
        let mut rng = SplitMix(seed);
        let k = call.limit;
        let mut chosen: Vec<st::PointId> = Vec::with_capacity(k.min(4096));
        let mut seen = 0u64;
        // Reservoir sampling (Vitter's algorithm R): uniform without replacement, one pass.
        self.visit(call, &[], false, false, &mut |r| {
            seen += 1;
            if chosen.len() < k {
                chosen.push(r.id);
            } else {
                let j = rng.next() % seen;
                if (j as usize) < k {
                    chosen[j as usize] = r.id;
                }
            }
        })?;
        // The reservoir keeps early points in place; shuffle so the order is random too.
        for i in (1..chosen.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            chosen.swap(i, j);
        }
        let how = if call.candidates.is_some() { "rescore" } else { "exact" };
        Ok(LeafOut {
            ranked: Ranked {
                points: chosen
                    .into_iter()
                    .map(|id| Candidate { id, score: 0.0, order_value: None })
                    .collect(),
                order: Order::LargerBetter,
            },
            kind: "sample".to_owned(),
            how: how.to_owned(),
            search: None,
        })
    }

    /// No query, no prefetch: points in id order.
    fn scroll(&self, call: &LeafCall<'_>) -> ServiceResult<LeafOut> {
        let page = self.s.scroll(
            self.name,
            &st::ScrollRequest {
                filter: call.filter.cloned(),
                limit: call.limit,
                offset: None,
                with_payload: Some(st::WithPayload::All(false)),
                with_vector: false,
                order_by: None,
            },
        )?;
        Ok(LeafOut {
            ranked: Ranked {
                points: page
                    .points
                    .into_iter()
                    .map(|r| Candidate { id: r.id, score: 0.0, order_value: None })
                    .collect(),
                order: Order::LargerBetter,
            },
            kind: "scroll".to_owned(),
            how: "exact".to_owned(),
            search: None,
        })
    }
}

impl Leaf for StoreLeaf<'_> {
    fn run(&mut self, call: LeafCall<'_>) -> ServiceResult<LeafOut> {
        let Some(query) = call.query else { return self.scroll(&call) };
        match query {
            QueryInput::Vector(v) | QueryInput::Nearest { nearest: v } => {
                self.nearest(&call, v.clone(), None, None, &[], "nearest")
            }
            QueryInput::MultiDense(m) | QueryInput::NearestMulti { nearest: m } => {
                self.nearest(&call, Vec::new(), None, Some(m.clone()), &[], "nearest_multi")
            }
            QueryInput::NearestMmr { nearest, mmr } => self.mmr(&call, nearest.clone(), mmr),
            QueryInput::Sparse(v) | QueryInput::NearestSparse { nearest: v } => {
                let sparse = super::sparse::vector_in(v.clone());
                self.nearest(&call, Vec::new(), Some(sparse), None, &[], "nearest_sparse")
            }
            QueryInput::Point(id) | QueryInput::NearestPoint { nearest: id } => {
                let input = VectorInput::Id(id.clone());
                let ex = self.resolve(&call, &[vec![&input]])?;
                let v = ex.groups[0].first().cloned().unwrap_or_default();
                self.nearest(&call, v, None, None, &ex.exclude, "nearest_point")
            }
            QueryInput::Recommend { recommend } => self.recommend(&call, recommend),
            QueryInput::Discover { discover } => {
                let pairs = discover.context.as_ref().map(|c| c.as_slice()).unwrap_or_default();
                self.discover(&call, Some(&discover.target), pairs, "discover")
            }
            QueryInput::Context { context } => {
                if context.as_slice().is_empty() {
                    return Err(ServiceError::invalid(format!(
                        "{}: context needs at least one pair",
                        call.path
                    )));
                }
                self.discover(&call, None, context.as_slice(), "context")
            }
            QueryInput::OrderBy { order_by } => self.order_by(&call, &order_by.full()),
            QueryInput::Sample { sample: q::Sample::Random, seed } => self.sample(&call, *seed),
            // `query_plan` fuses these itself and never hands them to the leaf.
            QueryInput::Fusion { .. } | QueryInput::Rrf { .. } => {
                Err(ServiceError::internal("a fusion stage reached the leaf search"))
            }
        }
    }
}

/// Default `group_size` of `/points/query/groups` (Qdrant's).
const DEFAULT_GROUP_SIZE: usize = 3;

impl Service {
    /// `/points/query` for anything but one nearest-vector search.
    pub(super) async fn query_planned(
        &self,
        name: String,
        req: api::QueryRequest,
    ) -> ServiceResult<api::QueryResponse> {
        let planned = plan(req, &self.inner.config.limits)?;
        let this = self.clone();
        self.run_read(Op::Query, move |s, cancel| {
            run_planned(s, &name, &planned, cancel.stop(), this.metrics())
        })
        .await
    }

    /// `POST /collections/{name}/points/query/groups`: the query with a growing window until
    /// `limit` groups hold `group_size` hits or the candidates run out; `with_lookup` joins
    /// each group with the point of that id in another collection.
    pub async fn query_groups(
        &self,
        name: String,
        req: q::QueryGroupsRequest,
    ) -> ServiceResult<c::GroupsResult> {
        let size = req.group_size.unwrap_or(DEFAULT_GROUP_SIZE);
        let limit = req.limit.unwrap_or(super::limits::DEFAULT_LIMIT);
        super::points_compat::check_groups(&req.group_by, size, limit, None)?;
        let max = self.inner.config.limits.max_limit;
        let mut window = limit.saturating_mul(size).saturating_mul(2).clamp(1, max);
        let with_payload = req.with_payload.clone().unwrap_or(WithPayload::Enable(false));
        let groups = loop {
            let query = api::QueryRequest {
                prefetch: req.prefetch.clone(),
                query: req.query.clone(),
                using: req.using.clone(),
                filter: req.filter.clone(),
                params: req.params.clone(),
                score_threshold: req.score_threshold,
                lookup_from: req.lookup_from.clone(),
                limit: Some(window),
                with_payload: Some(WithPayload::Enable(true)),
                with_vector: req.with_vector.map(api::WithVector::Enable),
                strategy: req.strategy,
                ..api::QueryRequest::default()
            };
            let hits = self.query(name.clone(), query).await?.points;
            let exhausted = hits.len() < window || window >= max;
            let (groups, full) = super::points_compat::group_hits(&hits, &req.group_by, limit, size);
            if full || exhausted {
                break groups;
            }
            window = window.saturating_mul(4).min(max);
        };
        let mut out = super::points_compat::groups_out(groups, &with_payload);
        if let Some(l) = &req.with_lookup {
            let (coll, wp, wv) = match l {
                q::WithLookup::Collection(c) => (c.clone(), WithPayload::Enable(true), false),
                q::WithLookup::Full(f) => (
                    f.collection.clone(),
                    f.with_payload.clone().unwrap_or(WithPayload::Enable(true)),
                    f.with_vectors.unwrap_or(false),
                ),
            };
            let ids: Vec<api::PointId> = out
                .groups
                .iter()
                .filter_map(|g| match &g.id {
                    c::GroupId::Int(i) => u64::try_from(*i).ok().map(api::PointId::Num),
                    c::GroupId::Str(s) => {
                        uuid::Uuid::parse_str(s).ok().map(|u| api::PointId::Uuid(u.to_string()))
                    }
                })
                .collect();
            let records = self
                .get_points(
                    coll,
                    api::GetPoints {
                        ids,
                        with_payload: Some(wp),
                        with_vector: Some(api::WithVector::Enable(wv)),
                    },
                )
                .await?;
            let by_id: HashMap<api::PointId, api::Record> =
                records.into_iter().map(|r| (r.id.clone(), r)).collect();
            for g in &mut out.groups {
                let key = match &g.id {
                    c::GroupId::Int(i) => u64::try_from(*i).ok().map(api::PointId::Num),
                    c::GroupId::Str(s) => {
                        uuid::Uuid::parse_str(s).ok().map(|u| api::PointId::Uuid(u.to_string()))
                    }
                };
                g.lookup = key.and_then(|k| by_id.get(&k).cloned());
            }
        }
        Ok(out)
    }
}
