//! Qdrant's point operations built over the core ones: get by id, update batches, search
//! batches, recommend, discover, groups, the distance matrix, facets, aliases, and the
//! standalone cluster / telemetry answers.
//!
//! Where an operation is a composition of core ones (a batch of updates, a batch of searches,
//! average-vector recommendation, groups) it calls them, so limits, validation and metrics are
//! the core's. Scoring objectives the engine has no index path for (best-score and sum-scores
//! recommendation, discovery, the distance matrix) are exact: every allowed point is scored on
//! the search pool, page by page, checking the request's cancel flag between pages. They are
//! therefore their own oracle; their cost is linear in the allowed points.

use std::collections::{BTreeMap, HashMap};

use grove_index::Metric;
use grove_storage as st;

use super::ops::{filter_in, id_in, id_out};
use super::{Cancel, Service, ServiceError, ServiceResult, Store};
use crate::api::{self, PointId, ScoredPoint, WithPayload};
use crate::api_compat as c;
use crate::operations::Op;

/// Points read per page by the exact scans.
const SCAN_PAGE: usize = 512;

/// Default `limit` of recommend / discover (Qdrant's).
const DEFAULT_LIMIT: usize = 10;

/// Prefixes an error's message with the position of the sub-request it came from, keeping its
/// class (so a missing collection in operation 2 is still a 404).
fn at(i: usize, e: ServiceError) -> ServiceError {
    match e {
        ServiceError::InvalidArgument(m) => ServiceError::InvalidArgument(format!("operation {i}: {m}")),
        ServiceError::NotFound(m) => ServiceError::NotFound(format!("operation {i}: {m}")),
        ServiceError::AlreadyExists(m) => ServiceError::AlreadyExists(format!("operation {i}: {m}")),
        ServiceError::LimitExceeded(m) => ServiceError::LimitExceeded(format!("operation {i}: {m}")),
        other => other,
    }
}

/// Only the unnamed vector exists in a Grove collection.
fn check_using(using: Option<&str>) -> ServiceResult<()> {
    match using {
        None | Some("") => Ok(()),
        Some(other) => Err(ServiceError::invalid(format!(
            "Wrong input: Not existing vector name error: {other} (this collection has one unnamed vector; \
             leave `using` out)"
        ))),
    }
}

/// Parses a point id from a URL path segment: digits are an integer id, anything else must be
/// a UUID.
pub fn path_id(raw: &str) -> ServiceResult<PointId> {
    if let Ok(n) = raw.parse::<u64>() {
        return Ok(PointId::Num(n));
    }
    id_in(PointId::Uuid(raw.to_owned())).map(id_out)
}

/// Similarity in "larger is closer" form, whatever the metric: cosine and dot as they are, L2
/// as minus the Euclidean distance. Vectors must be prepared (`Metric::prepare`).
pub(super) fn similarity(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    let s = metric.score(metric.distance(a, b));
    if metric.higher_is_better() {
        s
    } else {
        -s
    }
}

/// Positive and negative example vectors, prepared for the metric.
struct Examples {
    positive: Vec<Vec<f32>>,
    negative: Vec<Vec<f32>>,
}

/// Example vectors per input group, the example ids to leave out of the results, the
/// collection's metric and dimension.
type Resolved = (Vec<Vec<Vec<f32>>>, Vec<st::PointId>, Metric, usize);

/// Resolves examples: ids are read from `lookup` (or the searched collection), vectors are
/// checked for dimension and finiteness and prepared for the metric.
fn resolve_examples(
    s: &Store,
    name: &str,
    lookup: Option<&c::LookupLocation>,
    groups: [&[c::Example]; 2],
) -> ServiceResult<Resolved> {
    let info = s.collection_info(name)?;
    // The compatibility operations search the unnamed vector (`check_using`).
    let v = info.config.vector("").map_err(ServiceError::from)?;
    let (metric, dim) = (v.metric, v.dimension);
    let source = match lookup {
        Some(l) => {
            check_using(l.vector.as_deref())?;
            l.collection.clone()
        }
        None => name.to_owned(),
    };
    let same = lookup.is_none() || s.resolve(&source) == s.resolve(name);
    let mut ids = Vec::new();
    for g in groups {
        for e in g {
            if let c::Example::Id(id) = e {
                ids.push(id_in(id.clone())?);
            }
        }
    }
    let found: HashMap<st::PointId, Vec<f32>> = if ids.is_empty() {
        HashMap::new()
    } else {
        s.get_points(&source, &ids, &st::WithPayload::All(false), true)?
            .into_iter()
            .filter_map(|r| r.vector.map(|v| (r.id, v)))
            .collect()
    };
    let mut out = Vec::new();
    for g in groups {
        let mut vs = Vec::with_capacity(g.len());
        for e in g {
            let v = match e {
                c::Example::Id(id) => {
                    let key = id_in(id.clone())?;
                    found.get(&key).cloned().ok_or_else(|| {
                        ServiceError::NotFound(format!(
                            "No point with id {id} found in collection `{source}`"
                        ))
                    })?
                }
                c::Example::Vector(v) => {
                    if v.len() != dim {
                        return Err(ServiceError::invalid(format!(
                            "example vector has {} dimensions, the collection expects {dim}",
                            v.len()
                        )));
                    }
                    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                        return Err(ServiceError::invalid(format!(
                            "example vector component {i} is not a finite number"
                        )));
                    }
                    let mut v = v.clone();
                    metric.prepare(&mut v);
                    v
                }
            };
            vs.push(v);
        }
        out.push(vs);
    }
    let exclude = if same { ids } else { Vec::new() };
    Ok((out, exclude, metric, dim))
}

/// The user's filter with the example points excluded.
fn combined_filter(user: Option<st::Filter>, exclude: &[st::PointId]) -> Option<st::Filter> {
    if exclude.is_empty() {
        return user;
    }
    Some(st::Filter {
        must: user.map(st::Condition::Filter).into_iter().collect(),
        must_not: vec![st::Condition::HasId { has_id: exclude.to_vec() }],
        ..Default::default()
    })
}

/// Scores every live point allowed by `filter` with `score` and keeps the best `keep`
/// (descending score, then id). Checks the cancel flag between pages.
fn exact_scan(
    s: &Store,
    name: &str,
    filter: Option<st::Filter>,
    keep: usize,
    cancel: &Cancel,
    score: &dyn Fn(&[f32]) -> f32,
) -> ServiceResult<Vec<(st::PointId, f32)>> {
    let mut best: Vec<(st::PointId, f32)> = Vec::new();
    let mut offset = None;
    let order =
        |a: &(st::PointId, f32), b: &(st::PointId, f32)| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0));
    loop {
        if cancel.is_cancelled() {
            return Err(ServiceError::Stopped("request cancelled".into()));
        }
        cancel.stop().check().map_err(|e| ServiceError::Stopped(e.to_string()))?;
        let page = s.scroll(
            name,
            &st::ScrollRequest {
                filter: filter.clone(),
                limit: SCAN_PAGE,
                offset: offset.take(),
                with_payload: Some(st::WithPayload::All(false)),
                with_vector: true,
                order_by: None,
            },
        )?;
        for r in page.points {
            if let Some(v) = r.vector {
                best.push((r.id, score(&v)));
            }
        }
        if best.len() > keep.saturating_mul(2).max(SCAN_PAGE) {
            best.sort_by(order);
            best.truncate(keep);
        }
        match page.next_page_offset {
            Some(o) => offset = Some(o),
            None => break,
        }
    }
    best.sort_by(order);
    best.truncate(keep);
    Ok(best)
}

/// Reads payloads / vectors of scored ids and shapes them as Qdrant's hits.
fn hits_out(
    s: &Store,
    name: &str,
    scored: Vec<(st::PointId, f32)>,
    with_payload: &WithPayload,
    with_vector: bool,
) -> ServiceResult<Vec<ScoredPoint>> {
    let ids: Vec<st::PointId> = scored.iter().map(|(id, _)| *id).collect();
    let want = if with_payload.wanted() { st::WithPayload::All(true) } else { st::WithPayload::All(false) };
    let records: HashMap<st::PointId, st::Record> = if with_payload.wanted() || with_vector {
        s.get_points(name, &ids, &want, with_vector)?.into_iter().map(|r| (r.id, r)).collect()
    } else {
        HashMap::new()
    };
    Ok(scored
        .into_iter()
        .map(|(id, score)| {
            let r = records.get(&id);
            ScoredPoint {
                id: id_out(id),
                version: 0,
                score,
                payload: r.and_then(|r| r.payload.clone()).and_then(|p| with_payload.apply(p)),
                vector: r.and_then(super::ops::record_vectors_out),
                order_value: None,
            }
        })
        .collect())
}

/// The shared shape of a recommend request (plain or grouped).
struct Reco {
    positive: Vec<c::Example>,
    negative: Vec<c::Example>,
    strategy: c::RecommendStrategy,
    filter: Option<serde_json::Value>,
    params: Option<api::SearchParams>,
    with_payload: WithPayload,
    with_vector: bool,
    score_threshold: Option<f32>,
    using: Option<String>,
    lookup_from: Option<c::LookupLocation>,
}

impl From<c::RecommendRequest> for (Reco, usize, usize) {
    fn from(r: c::RecommendRequest) -> Self {
        (
            Reco {
                positive: r.positive,
                negative: r.negative,
                strategy: r.strategy.unwrap_or_default(),
                filter: r.filter,
                params: r.params,
                with_payload: r.with_payload.unwrap_or(WithPayload::Enable(false)),
                with_vector: r.with_vector.unwrap_or(false),
                score_threshold: r.score_threshold,
                using: r.using,
                lookup_from: r.lookup_from,
            },
            r.limit.unwrap_or(DEFAULT_LIMIT),
            r.offset.unwrap_or(0),
        )
    }
}

/// Runs one recommendation on the calling (search pool) thread.
fn recommend_on(
    s: &Store,
    name: &str,
    r: &Reco,
    limit: usize,
    offset: usize,
    cancel: &Cancel,
    limits: &crate::config::LimitsConfig,
) -> ServiceResult<Vec<ScoredPoint>> {
    check_using(r.using.as_deref())?;
    if r.positive.is_empty() && (r.strategy == c::RecommendStrategy::AverageVector || r.negative.is_empty()) {
        return Err(ServiceError::invalid("At least one positive vector ID required"));
    }
    let (groups, exclude, metric, _) =
        resolve_examples(s, name, r.lookup_from.as_ref(), [&r.positive, &r.negative])?;
    let (pos, neg) = (&groups[0], &groups[1]);
    let filter = combined_filter(filter_in(r.filter.clone(), limits)?, &exclude);
    let ex = Examples { positive: pos.clone(), negative: neg.clone() };
    match r.strategy {
        c::RecommendStrategy::AverageVector => {
            let dim = ex.positive[0].len();
            let mean = |vs: &[Vec<f32>]| {
                let mut m = vec![0f32; dim];
                for v in vs {
                    for (a, b) in m.iter_mut().zip(v) {
                        *a += b;
                    }
                }
                let n = vs.len().max(1) as f32;
                m.iter_mut().for_each(|a| *a /= n);
                m
            };
            let p = mean(&ex.positive);
            let query = if ex.negative.is_empty() {
                p
            } else {
                let n = mean(&ex.negative);
                p.iter().zip(&n).map(|(a, b)| a + (a - b)).collect()
            };
            let params = r.params.clone().unwrap_or_default();
            let req = st::QueryRequest {
                vector: query,
                using: None,
                filter,
                limit,
                offset,
                score_threshold: r.score_threshold,
                with_payload: Some(if r.with_payload.wanted() {
                    st::WithPayload::All(true)
                } else {
                    st::WithPayload::All(false)
                }),
                with_vector: r.with_vector,
                ef: params.hnsw_ef,
                exact: params.exact.unwrap_or(false),
                strategy: grove_index::Strategy::Auto,
                explain: false,
                matryoshka: None,
                quantization: params.quantization.map(super::ops::quantization_query_in),
                sparse: None,
                multi: None,
            };
            let out = s.query_with_stop(name, &req, cancel.stop())?;
            Ok(out
                .points
                .into_iter()
                .map(|h| ScoredPoint {
                    id: id_out(h.id),
                    version: 0,
                    score: h.score,
                    payload: h.payload.and_then(|p| r.with_payload.apply(p)),
                    vector: super::ops::vectors_with_sparse_out(h.vector, h.vectors, h.sparse, h.multi),
                    order_value: None,
                })
                .collect())
        }
        c::RecommendStrategy::BestScore | c::RecommendStrategy::SumScores => {
            let best = r.strategy == c::RecommendStrategy::BestScore;
            let score = |v: &[f32]| reco_score(metric, best, &ex.positive, &ex.negative, v);
            let mut scored = exact_scan(s, name, filter, offset + limit, cancel, &score)?;
            if let Some(t) = r.score_threshold {
                scored.retain(|(_, sc)| *sc >= t);
            }
            let scored = scored.into_iter().skip(offset).take(limit).collect();
            hits_out(s, name, scored, &r.with_payload, r.with_vector)
        }
    }
}

/// Best-score or sum-scores objective of one candidate (see [`c::RecommendStrategy`]).
pub(super) fn reco_score(metric: Metric, best: bool, pos: &[Vec<f32>], neg: &[Vec<f32>], v: &[f32]) -> f32 {
    if best {
        let bp = pos.iter().map(|p| similarity(metric, p, v)).fold(f32::NEG_INFINITY, f32::max);
        let bn = neg.iter().map(|n| similarity(metric, n, v)).fold(f32::NEG_INFINITY, f32::max);
        if bp >= bn || neg.is_empty() {
            bp
        } else {
            -(bn * bn)
        }
    } else {
        pos.iter().map(|p| similarity(metric, p, v)).sum::<f32>()
            - neg.iter().map(|n| similarity(metric, n, v)).sum::<f32>()
    }
}

/// Discovery objective: the number of context pairs the candidate is on the positive side of,
/// minus those it is on the negative side of, plus a logistic of its target similarity in
/// (0, 1) (so the pair count dominates). Without a target: the sum over pairs of
/// `min(sim(pos) - sim(neg), 0)`, 0 for every point inside all positive zones.
pub(super) fn discover_score(
    metric: Metric,
    target: Option<&[f32]>,
    pairs: &[(Vec<f32>, Vec<f32>)],
    v: &[f32],
) -> f32 {
    match target {
        Some(t) => {
            let rank: i32 = pairs
                .iter()
                .map(|(p, n)| similarity(metric, p, v).total_cmp(&similarity(metric, n, v)) as i32)
                .sum();
            let sim = similarity(metric, t, v);
            rank as f32 + 1.0 / (1.0 + (-sim).exp())
        }
        None => {
            pairs.iter().map(|(p, n)| (similarity(metric, p, v) - similarity(metric, n, v)).min(0.0)).sum()
        }
    }
}

fn discover_on(
    s: &Store,
    name: &str,
    r: &c::DiscoverRequest,
    cancel: &Cancel,
    limits: &crate::config::LimitsConfig,
) -> ServiceResult<Vec<ScoredPoint>> {
    check_using(r.using.as_deref())?;
    if r.target.is_none() && r.context.is_empty() {
        return Err(ServiceError::invalid("give a `target`, a `context` of pairs, or both"));
    }
    let limit = r.limit.unwrap_or(DEFAULT_LIMIT);
    let offset = r.offset.unwrap_or(0);
    check_window(limit, offset, limits)?;
    let target: Vec<c::Example> = r.target.iter().cloned().collect();
    let pos: Vec<c::Example> = r.context.iter().map(|p| p.positive.clone()).collect();
    let neg: Vec<c::Example> = r.context.iter().map(|p| p.negative.clone()).collect();
    let (mut groups, exclude, metric, _) = {
        let (g1, ex1, m, d) = resolve_examples(s, name, r.lookup_from.as_ref(), [&target, &pos])?;
        let (g2, ex2, _, _) = resolve_examples(s, name, r.lookup_from.as_ref(), [&neg, &[]])?;
        let mut ex = ex1;
        ex.extend(ex2);
        (vec![g1[0].clone(), g1[1].clone(), g2[0].clone()], ex, m, d)
    };
    let negs = groups.pop().unwrap_or_default();
    let poss = groups.pop().unwrap_or_default();
    let tgt = groups.pop().unwrap_or_default().into_iter().next();
    let pairs: Vec<(Vec<f32>, Vec<f32>)> = poss.into_iter().zip(negs).collect();
    let filter = combined_filter(filter_in(r.filter.clone(), limits)?, &exclude);
    let score = |v: &[f32]| discover_score(metric, tgt.as_deref(), &pairs, v);
    let scored = exact_scan(s, name, filter, offset + limit, cancel, &score)?;
    let scored = scored.into_iter().skip(offset).take(limit).collect();
    let with_payload = r.with_payload.clone().unwrap_or(WithPayload::Enable(false));
    hits_out(s, name, scored, &with_payload, r.with_vector.unwrap_or(false))
}

pub(super) fn check_window(
    limit: usize,
    offset: usize,
    limits: &crate::config::LimitsConfig,
) -> ServiceResult<()> {
    if limit == 0 || limit.saturating_add(offset) > limits.max_limit {
        return Err(ServiceError::LimitExceeded(format!(
            "limit {limit} with offset {offset}: limit must be at least 1 and limit + offset at most {} \
             (limits.max_limit)",
            limits.max_limit
        )));
    }
    Ok(())
}

/// The group values of a payload for `group_by`: strings and integers (and arrays of them);
/// other values do not form groups (as in Qdrant).
fn group_values(payload: Option<&api::Payload>, key: &str) -> Vec<c::GroupId> {
    let Some(p) = payload else { return Vec::new() };
    let mut out = Vec::new();
    for v in st::filter::values_at(p, key) {
        let g = match v {
            serde_json::Value::String(s) => Some(c::GroupId::Str(s.clone())),
            serde_json::Value::Number(n) => n.as_i64().map(c::GroupId::Int),
            _ => None,
        };
        if let Some(g) = g {
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
    out
}

/// Groups hits (best first) into at most `limit` groups of at most `size` hits; returns the
/// groups and whether every group that will ever appear is full (no more hits needed).
pub(super) fn group_hits(
    hits: &[ScoredPoint],
    key: &str,
    limit: usize,
    size: usize,
) -> (Vec<(c::GroupId, Vec<ScoredPoint>)>, bool) {
    let mut groups: Vec<(c::GroupId, Vec<ScoredPoint>)> = Vec::new();
    for h in hits {
        for g in group_values(h.payload.as_ref(), key) {
            match groups.iter().position(|(id, _)| *id == g) {
                Some(i) if groups[i].1.len() < size => groups[i].1.push(h.clone()),
                Some(_) => {}
                None if groups.len() < limit => groups.push((g, vec![h.clone()])),
                None => {}
            }
        }
    }
    let full = groups.len() == limit && groups.iter().all(|(_, hs)| hs.len() == size);
    (groups, full)
}

/// Shapes groups for the answer: the user's payload selector applied.
pub(super) fn groups_out(
    groups: Vec<(c::GroupId, Vec<ScoredPoint>)>,
    with_payload: &WithPayload,
) -> c::GroupsResult {
    c::GroupsResult {
        groups: groups
            .into_iter()
            .map(|(id, hits)| c::PointGroup {
                lookup: None,
                id,
                hits: hits
                    .into_iter()
                    .map(|mut h| {
                        h.payload = h.payload.and_then(|p| with_payload.apply(p));
                        h
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub(super) fn check_groups(
    key: &str,
    size: usize,
    limit: usize,
    lookup: Option<&serde_json::Value>,
) -> ServiceResult<()> {
    if key.is_empty() {
        return Err(ServiceError::invalid("group_by is empty: name a payload field"));
    }
    if size == 0 || limit == 0 {
        return Err(ServiceError::invalid("group_size and limit must be at least 1"));
    }
    if lookup.is_some_and(|l| !l.is_null()) {
        return Err(ServiceError::invalid(
            "with_lookup is not supported by Grove: read the group's points from the other collection \
             with a second request",
        ));
    }
    Ok(())
}

/// Tiny seeded generator for the matrix sample (splitmix64): a fixed seed makes the sample the
/// same for the same points, which keeps the answer reproducible.
pub(super) struct SplitMix(pub(super) u64);

impl SplitMix {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The sample and, per sampled point (in sample order), its `limit` nearest among the sample.
type Matrix = (Vec<st::PointId>, Vec<Vec<(usize, f32)>>);

fn matrix_on(
    s: &Store,
    name: &str,
    req: &c::SearchMatrixRequest,
    cancel: &Cancel,
    limits: &crate::config::LimitsConfig,
) -> ServiceResult<Matrix> {
    check_using(req.using.as_deref())?;
    let sample = req.sample.unwrap_or(10);
    let limit = req.limit.unwrap_or(3);
    if sample < 2 {
        return Err(ServiceError::invalid("sample must be at least 2"));
    }
    if limit == 0 {
        return Err(ServiceError::invalid("limit must be at least 1"));
    }
    if sample > limits.max_limit {
        return Err(ServiceError::LimitExceeded(format!(
            "sample {sample}: at most {} (limits.max_limit)",
            limits.max_limit
        )));
    }
    let metric = s.collection_info(name)?.config.vector("").map_err(ServiceError::from)?.metric;
    let filter = filter_in(req.filter.clone(), limits)?;
    // Reservoir sample over the matching ids (Vitter's algorithm R), seeded.
    let mut rng = SplitMix(0x0067_726f_7665);
    let mut chosen: Vec<st::PointId> = Vec::with_capacity(sample);
    let mut seen = 0u64;
    let mut offset = None;
    loop {
        if cancel.is_cancelled() {
            return Err(ServiceError::Stopped("request cancelled".into()));
        }
        let page = s.scroll(
            name,
            &st::ScrollRequest {
                filter: filter.clone(),
                limit: SCAN_PAGE,
                offset: offset.take(),
                with_payload: Some(st::WithPayload::All(false)),
                with_vector: false,
                order_by: None,
            },
        )?;
        for r in page.points {
            seen += 1;
            if chosen.len() < sample {
                chosen.push(r.id);
            } else {
                let j = rng.next() % seen;
                if (j as usize) < sample {
                    chosen[j as usize] = r.id;
                }
            }
        }
        match page.next_page_offset {
            Some(o) => offset = Some(o),
            None => break,
        }
    }
    chosen.sort();
    let vectors: HashMap<st::PointId, Vec<f32>> = s
        .get_points(name, &chosen, &st::WithPayload::All(false), true)?
        .into_iter()
        .filter_map(|r| r.vector.map(|v| (r.id, v)))
        .collect();
    chosen.retain(|id| vectors.contains_key(id));
    let rows = chosen
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let va = &vectors[a];
            let mut row: Vec<(usize, f32)> = chosen
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(j, b)| (j, metric.score(metric.distance(va, &vectors[b]))))
                .collect();
            row.sort_by(|x, y| {
                let ord = if metric.higher_is_better() { y.1.total_cmp(&x.1) } else { x.1.total_cmp(&y.1) };
                ord.then(x.0.cmp(&y.0))
            });
            row.truncate(limit);
            row
        })
        .collect();
    Ok((chosen, rows))
}

fn facet_on(
    s: &Store,
    name: &str,
    req: &c::FacetRequest,
    cancel: &Cancel,
    limits: &crate::config::LimitsConfig,
) -> ServiceResult<c::FacetResponse> {
    let limit = req.limit.unwrap_or(10);
    if limit == 0 || limit > limits.max_limit {
        return Err(ServiceError::LimitExceeded(format!(
            "facet limit {limit}: it must be between 1 and {} (limits.max_limit)",
            limits.max_limit
        )));
    }
    let info = s.collection_info(name)?;
    let indexed = info.payload_schema.get(&req.key).map(|i| i.data_type);
    match indexed {
        Some(
            st::PayloadSchemaType::Keyword
            | st::PayloadSchemaType::Integer
            | st::PayloadSchemaType::Bool
            | st::PayloadSchemaType::Uuid,
        ) => {}
        _ => {
            return Err(ServiceError::invalid(format!(
                "Bad request: Index required but not found for \"{}\" of one of the following types: \
                 [keyword, integer, bool, uuid]. Help: Create an index for this key or use a different filter.",
                req.key
            )))
        }
    }
    let filter = filter_in(req.filter.clone(), limits)?;
    // Values are keyed by their JSON text so strings, integers and bools never collide.
    let mut counts: BTreeMap<String, (serde_json::Value, u64)> = BTreeMap::new();
    let mut offset = None;
    loop {
        if cancel.is_cancelled() {
            return Err(ServiceError::Stopped("request cancelled".into()));
        }
        let page = s.scroll(
            name,
            &st::ScrollRequest {
                filter: filter.clone(),
                limit: SCAN_PAGE,
                offset: offset.take(),
                with_payload: Some(st::WithPayload::All(true)),
                with_vector: false,
                order_by: None,
            },
        )?;
        for r in page.points {
            let Some(p) = r.payload else { continue };
            let mut distinct: Vec<&serde_json::Value> = Vec::new();
            for v in st::filter::values_at(&p, &req.key) {
                let countable = v.is_string() || v.is_boolean() || v.as_i64().is_some();
                if countable && !distinct.contains(&v) {
                    distinct.push(v);
                }
            }
            for v in distinct {
                counts.entry(v.to_string()).or_insert_with(|| (v.clone(), 0)).1 += 1;
            }
        }
        match page.next_page_offset {
            Some(o) => offset = Some(o),
            None => break,
        }
    }
    let mut hits: Vec<c::FacetValueHit> =
        counts.into_values().map(|(value, count)| c::FacetValueHit { value, count }).collect();
    hits.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| facet_order(&a.value, &b.value)));
    hits.truncate(limit);
    Ok(c::FacetResponse { hits })
}

/// Ties in a facet are ordered by value: integers numerically, strings lexicographically,
/// false before true; across kinds, integers, then strings, then bools.
fn facet_order(a: &serde_json::Value, b: &serde_json::Value) -> std::cmp::Ordering {
    use serde_json::Value as V;
    let rank = |v: &V| match v {
        V::Number(_) => 0,
        V::String(_) => 1,
        _ => 2,
    };
    match (a, b) {
        (V::Number(x), V::Number(y)) => x.as_i64().cmp(&y.as_i64()),
        (V::String(x), V::String(y)) => x.cmp(y),
        (V::Bool(x), V::Bool(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

impl Service {
    /// `GET /collections/{name}/points/{id}`: 404 when there is no such point.
    pub async fn get_point(&self, name: String, id: PointId) -> ServiceResult<api::Record> {
        let req = api::GetPoints {
            ids: vec![id.clone()],
            with_payload: Some(WithPayload::Enable(true)),
            with_vector: Some(api::WithVector::Enable(true)),
        };
        self.get_points(name, req)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::NotFound(format!("No point with id {id} found")))
    }

    /// `POST /collections/{name}/points/batch`: the operations in order, each one durable
    /// before the next starts. As in Qdrant the batch is not one transaction: when operation
    /// `i` fails, the ones before it stay applied and the error names `i`.
    pub async fn update_batch(
        &self,
        name: String,
        ops: Vec<c::UpdateOperation>,
        wait: bool,
    ) -> ServiceResult<Vec<api::UpdateResult>> {
        super::limits::check_batch(ops.len(), &self.inner.config.limits)?;
        let mut out = Vec::with_capacity(ops.len());
        for (i, op) in ops.into_iter().enumerate() {
            let n = name.clone();
            let r = match op {
                c::UpdateOperation::Upsert(mut body) => {
                    let cond = body.take_conditions();
                    match body.into_points() {
                        Ok(points) => self.upsert_with(n, points, wait, cond).await,
                        Err(m) => Err(ServiceError::InvalidArgument(m)),
                    }
                }
                c::UpdateOperation::Delete(sel) => self.delete_points(n, sel, wait).await,
                c::UpdateOperation::SetPayload(p) => self.set_payload(n, p, false, wait).await,
                c::UpdateOperation::OverwritePayload(p) => self.set_payload(n, p, true, wait).await,
                c::UpdateOperation::DeletePayload(p) => self.delete_payload(n, p, wait).await,
                c::UpdateOperation::ClearPayload(sel) => self.clear_payload(n, sel, wait).await,
            };
            out.push(r.map_err(|e| at(i, e))?);
        }
        Ok(out)
    }

    /// `POST /collections/{name}/points/search/batch`.
    pub async fn search_batch(
        &self,
        name: String,
        searches: Vec<api::SearchRequest>,
    ) -> ServiceResult<Vec<Vec<ScoredPoint>>> {
        let qs = searches.into_iter().map(api::QueryRequest::from).collect();
        Ok(self.query_batch(name, qs).await?.into_iter().map(|r| r.points).collect())
    }

    /// `POST /collections/{name}/points/recommend`.
    pub async fn recommend(&self, name: String, req: c::RecommendRequest) -> ServiceResult<Vec<ScoredPoint>> {
        let (reco, limit, offset): (Reco, usize, usize) = req.into();
        check_window(limit, offset, &self.inner.config.limits)?;
        let limits = self.inner.config.limits.clone();
        self.run_read(Op::Recommend, move |s, cancel| {
            recommend_on(s, &name, &reco, limit, offset, cancel, &limits)
        })
        .await
    }

    /// `POST /collections/{name}/points/recommend/batch`: answers in request order; an error
    /// names the request.
    pub async fn recommend_batch(
        &self,
        name: String,
        reqs: Vec<c::RecommendRequest>,
    ) -> ServiceResult<Vec<Vec<ScoredPoint>>> {
        super::limits::check_batch(reqs.len(), &self.inner.config.limits)?;
        let mut out = Vec::with_capacity(reqs.len());
        for (i, r) in reqs.into_iter().enumerate() {
            out.push(self.recommend(name.clone(), r).await.map_err(|e| at(i, e))?);
        }
        Ok(out)
    }

    /// `POST /collections/{name}/points/discover`.
    pub async fn discover(&self, name: String, req: c::DiscoverRequest) -> ServiceResult<Vec<ScoredPoint>> {
        let limits = self.inner.config.limits.clone();
        self.run_read(Op::Discover, move |s, cancel| discover_on(s, &name, &req, cancel, &limits)).await
    }

    /// `POST /collections/{name}/points/discover/batch`.
    pub async fn discover_batch(
        &self,
        name: String,
        reqs: Vec<c::DiscoverRequest>,
    ) -> ServiceResult<Vec<Vec<ScoredPoint>>> {
        super::limits::check_batch(reqs.len(), &self.inner.config.limits)?;
        let mut out = Vec::with_capacity(reqs.len());
        for (i, r) in reqs.into_iter().enumerate() {
            out.push(self.discover(name.clone(), r).await.map_err(|e| at(i, e))?);
        }
        Ok(out)
    }

    /// `POST /collections/{name}/points/search/groups`: searches with a growing window until
    /// `limit` groups are full or the candidates run out.
    pub async fn search_groups(
        &self,
        name: String,
        req: c::SearchGroupsRequest,
    ) -> ServiceResult<c::GroupsResult> {
        check_groups(&req.group_by, req.group_size, req.limit, req.with_lookup.as_ref())?;
        let max = self.inner.config.limits.max_limit;
        let mut window = req.limit.saturating_mul(req.group_size).saturating_mul(2).clamp(1, max);
        let with_payload = req.with_payload.clone().unwrap_or(WithPayload::Enable(false));
        loop {
            let q = api::QueryRequest {
                query: Some(api::QueryInput::Vector(req.vector.clone())),
                using: None,
                filter: req.filter.clone(),
                params: req.params.clone(),
                limit: Some(window),
                offset: None,
                score_threshold: req.score_threshold,
                with_payload: Some(WithPayload::Enable(true)),
                with_vector: req.with_vector.map(api::WithVector::Enable),
                strategy: None,
                explain: None,
                ..api::QueryRequest::default()
            };
            let hits = self.query(name.clone(), q).await?.points;
            let exhausted = hits.len() < window || window >= max;
            let (groups, full) = group_hits(&hits, &req.group_by, req.limit, req.group_size);
            if full || exhausted {
                return Ok(groups_out(groups, &with_payload));
            }
            window = window.saturating_mul(4).min(max);
        }
    }

    /// `POST /collections/{name}/points/recommend/groups`.
    pub async fn recommend_groups(
        &self,
        name: String,
        req: c::RecommendGroupsRequest,
    ) -> ServiceResult<c::GroupsResult> {
        check_groups(&req.group_by, req.group_size, req.limit, req.with_lookup.as_ref())?;
        let max = self.inner.config.limits.max_limit;
        let with_payload = req.with_payload.clone().unwrap_or(WithPayload::Enable(false));
        let reco = Reco {
            positive: req.positive,
            negative: req.negative,
            strategy: req.strategy.unwrap_or_default(),
            filter: req.filter,
            params: req.params,
            with_payload: WithPayload::Enable(true),
            with_vector: req.with_vector.unwrap_or(false),
            score_threshold: req.score_threshold,
            using: req.using,
            lookup_from: req.lookup_from,
        };
        let (key, limit, size) = (req.group_by, req.limit, req.group_size);
        let limits = self.inner.config.limits.clone();
        let groups = self
            .run_read(Op::RecommendGroups, move |s, cancel| {
                let mut window = limit.saturating_mul(size).saturating_mul(2).clamp(1, max);
                loop {
                    let hits = recommend_on(s, &name, &reco, window, 0, cancel, &limits)?;
                    let exhausted = hits.len() < window || window >= max;
                    let (groups, full) = group_hits(&hits, &key, limit, size);
                    if full || exhausted {
                        return Ok(groups);
                    }
                    window = window.saturating_mul(4).min(max);
                }
            })
            .await?;
        Ok(groups_out(groups, &with_payload))
    }

    /// `POST /collections/{name}/points/search/matrix/pairs`.
    pub async fn matrix_pairs(
        &self,
        name: String,
        req: c::SearchMatrixRequest,
    ) -> ServiceResult<c::SearchMatrixPairsResponse> {
        let limits = self.inner.config.limits.clone();
        let (ids, rows) = self
            .run_read(Op::MatrixPairs, move |s, cancel| matrix_on(s, &name, &req, cancel, &limits))
            .await?;
        let pairs = rows
            .into_iter()
            .enumerate()
            .flat_map(|(i, row)| {
                let ids = &ids;
                row.into_iter().map(move |(j, score)| c::SearchMatrixPair {
                    a: id_out(ids[i]),
                    b: id_out(ids[j]),
                    score,
                })
            })
            .collect();
        Ok(c::SearchMatrixPairsResponse { pairs })
    }

    /// `POST /collections/{name}/points/search/matrix/offsets`.
    pub async fn matrix_offsets(
        &self,
        name: String,
        req: c::SearchMatrixRequest,
    ) -> ServiceResult<c::SearchMatrixOffsetsResponse> {
        let limits = self.inner.config.limits.clone();
        let (ids, rows) = self
            .run_read(Op::MatrixOffsets, move |s, cancel| matrix_on(s, &name, &req, cancel, &limits))
            .await?;
        let mut out = c::SearchMatrixOffsetsResponse {
            offsets_row: Vec::new(),
            offsets_col: Vec::new(),
            scores: Vec::new(),
            ids: ids.into_iter().map(id_out).collect(),
        };
        for (i, row) in rows.into_iter().enumerate() {
            for (j, score) in row {
                out.offsets_row.push(i as u64);
                out.offsets_col.push(j as u64);
                out.scores.push(score);
            }
        }
        Ok(out)
    }

    /// `POST /collections/{name}/facet`: exact counts of a field's values. Needs a keyword,
    /// integer or bool index on the field, as Qdrant does (400 naming the field otherwise).
    pub async fn facet(&self, name: String, req: c::FacetRequest) -> ServiceResult<c::FacetResponse> {
        let limits = self.inner.config.limits.clone();
        self.run_read(Op::Facet, move |s, cancel| facet_on(s, &name, &req, cancel, &limits)).await
    }

    /// `GET /aliases`.
    pub async fn list_aliases(&self) -> ServiceResult<c::CollectionsAliasesResponse> {
        let store = self.store()?;
        Ok(aliases_out(store.list_aliases()))
    }

    /// `GET /collections/{name}/aliases`.
    pub async fn collection_aliases(&self, name: String) -> ServiceResult<c::CollectionsAliasesResponse> {
        self.run_blocking(Op::CollectionAliases, move |s| {
            let real = s.resolve(&name).ok_or_else(|| ServiceError::no_collection(&name))?;
            Ok(aliases_out(s.collection_aliases(&name)?.into_iter().map(|a| (a, real.clone())).collect()))
        })
        .await
    }

    /// `POST /collections/aliases`: all actions or none.
    pub async fn update_aliases(&self, req: c::ChangeAliasesOperation) -> ServiceResult<bool> {
        let actions = req
            .actions
            .into_iter()
            .map(|a| match a {
                c::AliasOperation::CreateAlias(x) => {
                    st::AliasAction::Create { alias: x.alias_name, collection: x.collection_name }
                }
                c::AliasOperation::DeleteAlias(x) => st::AliasAction::Delete { alias: x.alias_name },
                c::AliasOperation::RenameAlias(x) => {
                    st::AliasAction::Rename { old: x.old_alias_name, new: x.new_alias_name }
                }
            })
            .collect::<Vec<_>>();
        self.run_blocking(Op::UpdateAliases, move |s| {
            s.update_aliases(&actions)?;
            Ok(true)
        })
        .await
    }

    /// `GET /collections/{name}/cluster`: one active local shard.
    pub async fn collection_cluster(&self, name: String) -> ServiceResult<c::CollectionClusterInfo> {
        let info = self.get_collection(name).await?;
        Ok(c::CollectionClusterInfo {
            peer_id: 0,
            shard_count: 1,
            local_shards: vec![c::LocalShardInfo {
                shard_id: 0,
                points_count: info.points_count,
                state: "Active".to_owned(),
            }],
            remote_shards: Vec::new(),
            shard_transfers: Vec::new(),
        })
    }

    /// `GET /telemetry`.
    pub async fn telemetry(&self) -> ServiceResult<c::TelemetryData> {
        let collections = self.list_collections().await?.collections.len() as u64;
        let mut rest: BTreeMap<String, BTreeMap<String, c::OperationDurationStatistics>> = BTreeMap::new();
        for (route, method, status, count) in self.metrics().http_counts() {
            // Qdrant names the path parameter `collection_name`; clients key on its spelling.
            let key = format!("{method} {}", route.replace("{name}", "{collection_name}"));
            rest.entry(key)
                .or_default()
                .insert(status, c::OperationDurationStatistics { count, avg_duration_micros: None });
        }
        let grpc = self
            .metrics()
            .grpc_counts()
            .into_iter()
            .map(|(m, count)| (m, c::OperationDurationStatistics { count, avg_duration_micros: None }))
            .collect();
        Ok(c::TelemetryData {
            id: self.inner.instance_id.clone(),
            app: c::AppTelemetry {
                name: "grove".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                startup: self.inner.started.clone(),
            },
            collections: c::CollectionsTelemetry { number_of_collections: collections },
            requests: c::RequestsTelemetry {
                rest: c::WebApiTelemetry { responses: rest },
                grpc: c::GrpcTelemetry { responses: grpc },
            },
        })
    }
}

fn aliases_out(list: Vec<(String, String)>) -> c::CollectionsAliasesResponse {
    c::CollectionsAliasesResponse {
        aliases: list
            .into_iter()
            .map(|(alias_name, collection_name)| c::AliasDescription { alias_name, collection_name })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_score_prefers_positive_side_and_squares_negatives() {
        let m = Metric::Dot;
        let pos = vec![vec![1.0, 0.0]];
        let neg = vec![vec![0.0, 1.0]];
        assert_eq!(reco_score(m, true, &pos, &neg, &[0.9, 0.1]), 0.9);
        assert!((reco_score(m, true, &pos, &neg, &[0.1, 0.5]) + 0.25).abs() < 1e-6);
        assert!((reco_score(m, false, &pos, &neg, &[0.1, 0.5]) + 0.4).abs() < 1e-6);
    }

    #[test]
    fn discovery_ranks_by_pairs_then_target() {
        let m = Metric::Dot;
        let pairs = vec![(vec![1.0, 0.0], vec![-1.0, 0.0])];
        let t = [0.0, 1.0];
        let inside = discover_score(m, Some(&t), &pairs, &[0.1, 0.2]);
        let outside = discover_score(m, Some(&t), &pairs, &[-0.1, 0.9]);
        assert!(inside > 1.0 && inside < 2.0 && outside < 0.0, "{inside} {outside}");
        assert_eq!(discover_score(m, None, &pairs, &[0.5, 0.0]), 0.0);
        assert!(discover_score(m, None, &pairs, &[-0.5, 0.0]) < 0.0);
    }

    #[test]
    fn path_ids_parse_as_integers_or_uuids() {
        assert_eq!(path_id("42").ok(), Some(PointId::Num(42)));
        assert_eq!(
            path_id("5C56C793-69F3-4FBF-87E6-C4BF54C28C26").ok(),
            Some(PointId::Uuid("5c56c793-69f3-4fbf-87e6-c4bf54c28c26".into()))
        );
        assert!(path_id("nope").is_err());
    }
}
