//! Qdrant's gRPC messages to and from the REST JSON shapes of [`crate::api`].
//!
//! Requests become the JSON body Qdrant's REST API takes for the same operation, which is then
//! deserialised into the very request type the REST route uses: one validation path, the same
//! messages (a field Grove refuses over REST is refused here, naming the same field), and new
//! REST features (sparse vectors, prefetch) reach gRPC without a second conversion. Responses
//! go the other way: the service's result is serialised to its REST JSON and read into the
//! proto message, so a shape the REST types gain shows up here once it has a proto field.

use std::collections::HashMap;

use grove_proto::prost_types::Timestamp;
use grove_proto::qdrant as pb;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value as J};
use tonic::Status;

use super::filter::opt_filter;
use super::json::{self, opt_bool, opt_f64, opt_str, opt_u32, opt_u64, u64_of};

/// Reads a REST body into its request type; a refusal names the operation and the field.
pub fn parse<T: DeserializeOwned>(what: &str, body: J) -> Result<T, Status> {
    serde_json::from_value(body).map_err(|e| Status::invalid_argument(format!("{what}: {e}")))
}

/// A service result as its REST JSON.
pub fn to_json<T: Serialize>(x: &T) -> Result<J, Status> {
    serde_json::to_value(x).map_err(|e| Status::from(crate::service::ServiceError::internal(e)))
}

/// Inserts `key: value` when the value is present.
pub fn put(m: &mut Map<String, J>, key: &str, v: Option<J>) {
    if let Some(v) = v {
        m.insert(key.to_owned(), v);
    }
}

// ---- ids, vectors, selectors (requests) ------------------------------------------------------

/// A point id as REST JSON.
pub fn point_id(id: pb::PointId) -> Result<J, Status> {
    match id.point_id_options {
        Some(pb::point_id::PointIdOptions::Num(n)) => Ok(json!(n)),
        Some(pb::point_id::PointIdOptions::Uuid(u)) => Ok(J::String(u)),
        None => Err(Status::invalid_argument("point id: set num or uuid")),
    }
}

/// Point ids as a REST JSON array.
pub fn point_ids(ids: Vec<pb::PointId>) -> Result<J, Status> {
    ids.into_iter().map(point_id).collect::<Result<Vec<_>, _>>().map(J::Array)
}

fn dense(v: pb::DenseVector) -> J {
    json!(v.data)
}

fn sparse(v: pb::SparseVector) -> J {
    json!({"indices": v.indices, "values": v.values})
}

fn multi(v: pb::MultiDenseVector) -> J {
    J::Array(v.vectors.into_iter().map(dense).collect())
}

/// One vector as REST JSON: dense array, sparse `{indices, values}` or multi-vector array of
/// arrays. The deprecated flat form (`data`, `indices`, `vectors_count`) is read as Qdrant does.
pub fn vector(v: pb::Vector) -> Result<J, Status> {
    use pb::vector::Vector as V;
    Ok(match v.vector {
        Some(V::Dense(d)) => dense(d),
        Some(V::Sparse(s)) => sparse(s),
        Some(V::MultiDense(m)) => multi(m),
        None => match (v.indices, v.vectors_count) {
            (Some(ix), _) => json!({"indices": ix.data, "values": v.data}),
            (None, Some(n)) if n > 1 => {
                let n = n as usize;
                if !v.data.len().is_multiple_of(n) {
                    return Err(Status::invalid_argument(format!(
                        "vector: {} numbers do not split into vectors_count = {n} vectors",
                        v.data.len()
                    )));
                }
                let dim = v.data.len() / n;
                J::Array(v.data.chunks(dim.max(1)).map(|c| json!(c)).collect())
            }
            _ => json!(v.data),
        },
    })
}

/// A point's vectors as REST JSON (an array for the unnamed vector, an object by name).
pub fn vectors(v: Option<pb::Vectors>) -> Result<J, Status> {
    use pb::vectors::VectorsOptions as O;
    match v.and_then(|v| v.vectors_options) {
        Some(O::Vector(v)) => vector(v),
        Some(O::Vectors(named)) => {
            let mut m = Map::new();
            for (name, v) in named.vectors {
                m.insert(name, vector(v)?);
            }
            Ok(J::Object(m))
        }
        None => Ok(json!({})),
    }
}

/// A query input as REST JSON: a point id or a vector.
pub fn vector_input(v: pb::VectorInput) -> Result<J, Status> {
    use pb::vector_input::Variant as V;
    match v.variant {
        Some(V::Id(id)) => point_id(id),
        Some(V::Dense(d)) => Ok(dense(d)),
        Some(V::Sparse(s)) => Ok(sparse(s)),
        Some(V::MultiDense(m)) => Ok(multi(m)),
        None => Err(Status::invalid_argument(
            "query: the vector input sets none of id, dense, sparse, multi_dense (inference inputs \
             such as documents and images are not supported by Grove)",
        )),
    }
}

/// `with_payload` as REST JSON (absent: the REST default for the operation).
pub fn with_payload(w: Option<pb::WithPayloadSelector>) -> Option<J> {
    use pb::with_payload_selector::SelectorOptions as S;
    match w?.selector_options? {
        S::Enable(b) => Some(J::Bool(b)),
        S::Include(i) => Some(json!({"include": i.fields})),
        S::Exclude(e) => Some(json!({"exclude": e.fields})),
    }
}

/// Which vectors a response carries: `None` for none, `Some(None)` for all, `Some(names)`.
pub type VectorPick = Option<Option<Vec<String>>>;

/// `with_vectors` as the REST flag plus the names to keep in the response (REST takes a bool;
/// a list of names is served by returning all and keeping those).
pub fn with_vectors(w: Option<pb::WithVectorsSelector>) -> (Option<J>, VectorPick) {
    use pb::with_vectors_selector::SelectorOptions as S;
    match w.and_then(|w| w.selector_options) {
        None => (None, None),
        Some(S::Enable(b)) => (Some(J::Bool(b)), b.then_some(None)),
        Some(S::Include(i)) if i.names.is_empty() => (Some(J::Bool(false)), None),
        Some(S::Include(i)) => (Some(J::Bool(true)), Some(Some(i.names))),
    }
}

/// Search parameters as REST JSON.
pub fn params(p: Option<pb::SearchParams>) -> Option<J> {
    let p = p?;
    let mut m = Map::new();
    put(&mut m, "hnsw_ef", p.hnsw_ef.map(J::from));
    put(&mut m, "exact", p.exact.map(J::Bool));
    put(&mut m, "indexed_only", p.indexed_only.map(J::Bool));
    if let Some(q) = p.quantization {
        let mut qm = Map::new();
        put(&mut qm, "ignore", q.ignore.map(J::Bool));
        put(&mut qm, "rescore", q.rescore.map(J::Bool));
        put(&mut qm, "oversampling", q.oversampling.map(|o| json!(o)));
        m.insert("quantization".to_owned(), J::Object(qm));
    }
    Some(J::Object(m))
}

/// Points addressed by ids or a filter, as the REST selector `{"points": [...]}` / `{"filter"}`.
pub fn selector(s: Option<pb::PointsSelector>) -> Result<Map<String, J>, Status> {
    use pb::points_selector::PointsSelectorOneOf as S;
    let mut m = Map::new();
    match s.and_then(|s| s.points_selector_one_of) {
        Some(S::Points(ids)) => {
            m.insert("points".to_owned(), point_ids(ids.ids)?);
        }
        Some(S::Filter(f)) => {
            m.insert("filter".to_owned(), super::filter::filter(f)?);
        }
        None => return Err(Status::invalid_argument("points selector: give point ids or a filter")),
    }
    Ok(m)
}

/// Adds the common query fields (filter, params, limit, offset, score threshold, payload and
/// vector selection) to a REST body.
#[expect(clippy::too_many_arguments, reason = "one call per query message, named fields at each")]
pub fn query_common(
    m: &mut Map<String, J>,
    filter: Option<pb::Filter>,
    p: Option<pb::SearchParams>,
    limit: Option<u64>,
    offset: Option<u64>,
    score_threshold: Option<f32>,
    wp: Option<pb::WithPayloadSelector>,
    wv: Option<pb::WithVectorsSelector>,
) -> Result<VectorPick, Status> {
    put(m, "filter", opt_filter(filter)?);
    put(m, "params", params(p));
    put(m, "limit", limit.map(J::from));
    put(m, "offset", offset.map(J::from));
    put(m, "score_threshold", score_threshold.map(|s| json!(s)));
    put(m, "with_payload", with_payload(wp));
    let (flag, pick) = with_vectors(wv);
    put(m, "with_vector", flag);
    Ok(pick)
}

/// `lookup_from` as REST JSON.
pub fn lookup(l: Option<pb::LookupLocation>) -> Option<J> {
    let l = l?;
    let mut m = Map::new();
    m.insert("collection".to_owned(), J::String(l.collection_name));
    put(&mut m, "vector", l.vector_name.map(J::String));
    Some(J::Object(m))
}

/// A recommend strategy in REST spelling.
pub fn strategy(s: Option<i32>) -> Result<Option<J>, Status> {
    let Some(s) = s else { return Ok(None) };
    let name = match pb::RecommendStrategy::try_from(s) {
        Ok(pb::RecommendStrategy::AverageVector) => "average_vector",
        Ok(pb::RecommendStrategy::BestScore) => "best_score",
        Ok(pb::RecommendStrategy::SumScores) => "sum_scores",
        Err(_) => return Err(Status::invalid_argument(format!("strategy: unknown value {s}"))),
    };
    Ok(Some(J::String(name.to_owned())))
}

/// A recommend / discover example (an id or a vector) as REST JSON.
pub fn example(e: Option<pb::VectorExample>) -> Result<J, Status> {
    use pb::vector_example::Example as E;
    match e.and_then(|e| e.example) {
        Some(E::Id(id)) => point_id(id),
        Some(E::Vector(v)) => vector(v),
        None => Err(Status::invalid_argument("example: give a point id or a vector")),
    }
}

/// Recommend positives/negatives (ids and vectors) as one REST list.
pub fn examples(ids: Vec<pb::PointId>, vectors: Vec<pb::Vector>) -> Result<J, Status> {
    let mut out = Vec::with_capacity(ids.len() + vectors.len());
    for id in ids {
        out.push(point_id(id)?);
    }
    for v in vectors {
        out.push(vector(v)?);
    }
    Ok(J::Array(out))
}

/// The `Query` message as REST's `query` value.
pub fn query(q: pb::Query) -> Result<J, Status> {
    use pb::query::Variant as V;
    let inputs = |list: Vec<pb::VectorInput>| -> Result<J, Status> {
        list.into_iter().map(vector_input).collect::<Result<Vec<_>, _>>().map(J::Array)
    };
    let context = |c: Option<pb::ContextInput>| -> Result<J, Status> {
        let pairs = c.map(|c| c.pairs).unwrap_or_default();
        pairs
            .into_iter()
            .map(|p| {
                let pos = p.positive.map(vector_input).transpose()?;
                let neg = p.negative.map(vector_input).transpose()?;
                Ok(json!({"positive": pos, "negative": neg}))
            })
            .collect::<Result<Vec<_>, Status>>()
            .map(J::Array)
    };
    Ok(match q.variant {
        Some(V::Nearest(v)) => json!({"nearest": vector_input(v)?}),
        Some(V::NearestWithMmr(n)) => {
            let nearest = n.nearest.map(vector_input).transpose()?.ok_or_else(|| {
                Status::invalid_argument("query.nearest_with_mmr.nearest: set the query vector")
            })?;
            let mut m = Map::new();
            if let Some(mmr) = n.mmr {
                put(&mut m, "diversity", mmr.diversity.map(J::from));
                put(&mut m, "candidates_limit", mmr.candidates_limit.map(J::from));
            }
            json!({"nearest": nearest, "mmr": m})
        }
        Some(V::Recommend(r)) => {
            let mut m = Map::new();
            m.insert("positive".to_owned(), inputs(r.positive)?);
            m.insert("negative".to_owned(), inputs(r.negative)?);
            put(&mut m, "strategy", strategy(r.strategy)?);
            json!({"recommend": m})
        }
        Some(V::Discover(d)) => {
            let target = d.target.map(vector_input).transpose()?;
            json!({"discover": {"target": target, "context": context(d.context)?}})
        }
        Some(V::Context(c)) => json!({"context": context(Some(c))?}),
        Some(V::OrderBy(o)) => json!({"order_by": order_by(o)?}),
        Some(V::Fusion(f)) => match pb::Fusion::try_from(f) {
            Ok(pb::Fusion::Rrf) => json!({"fusion": "rrf"}),
            Ok(pb::Fusion::Dbsf) => json!({"fusion": "dbsf"}),
            Err(_) => return Err(Status::invalid_argument(format!("query.fusion: unknown value {f}"))),
        },
        Some(V::Sample(_)) => json!({"sample": "random"}),
        Some(V::Rrf(r)) => {
            let mut m = Map::new();
            put(&mut m, "k", r.k.map(J::from));
            if !r.weights.is_empty() {
                m.insert("weights".to_owned(), json!(r.weights));
            }
            json!({"rrf": m})
        }
        None => {
            return Err(Status::invalid_argument(
                "query: set nearest, nearest_with_mmr, recommend, discover, context, order_by, fusion, \
                 sample or rrf (formulas and relevance feedback are not supported by Grove)",
            ))
        }
    })
}

/// `order_by` as REST JSON.
pub fn order_by(o: pb::OrderBy) -> Result<J, Status> {
    let mut m = Map::new();
    m.insert("key".to_owned(), J::String(o.key));
    if let Some(d) = o.direction {
        let d = match pb::Direction::try_from(d) {
            Ok(pb::Direction::Asc) => "asc",
            Ok(pb::Direction::Desc) => "desc",
            Err(_) => return Err(Status::invalid_argument(format!("order_by.direction: unknown value {d}"))),
        };
        m.insert("direction".to_owned(), J::String(d.to_owned()));
    }
    if let Some(s) = o.start_from.and_then(|s| s.value) {
        use pb::start_from::Value as S;
        let v = match s {
            S::Float(f) => json!(f),
            S::Integer(i) => json!(i),
            S::Datetime(d) => J::String(d),
        };
        m.insert("start_from".to_owned(), v);
    }
    Ok(J::Object(m))
}

/// A prefetch stage as REST JSON (nested prefetches included).
pub fn prefetch(p: pb::PrefetchQuery) -> Result<J, Status> {
    let mut m = Map::new();
    if !p.prefetch.is_empty() {
        let inner = p.prefetch.into_iter().map(prefetch).collect::<Result<Vec<_>, _>>()?;
        m.insert("prefetch".to_owned(), J::Array(inner));
    }
    put(&mut m, "query", p.query.map(query).transpose()?);
    put(&mut m, "using", p.using.map(J::String));
    put(&mut m, "filter", opt_filter(p.filter)?);
    put(&mut m, "params", params(p.params));
    put(&mut m, "score_threshold", p.score_threshold.map(|s| json!(s)));
    put(&mut m, "limit", p.limit.map(J::from));
    put(&mut m, "lookup_from", lookup(p.lookup_from));
    Ok(J::Object(m))
}

/// `QueryPoints` as the REST `/points/query` body.
pub fn query_points(q: pb::QueryPoints) -> Result<(J, VectorPick), Status> {
    let mut m = Map::new();
    if !q.prefetch.is_empty() {
        let stages = q.prefetch.into_iter().map(prefetch).collect::<Result<Vec<_>, _>>()?;
        m.insert("prefetch".to_owned(), J::Array(stages));
    }
    put(&mut m, "query", q.query.map(query).transpose()?);
    put(&mut m, "using", q.using.map(J::String));
    put(&mut m, "lookup_from", lookup(q.lookup_from));
    let pick = query_common(
        &mut m,
        q.filter,
        q.params,
        q.limit,
        q.offset,
        q.score_threshold,
        q.with_payload,
        q.with_vectors,
    )?;
    Ok((J::Object(m), pick))
}

/// `SearchPoints` as the REST `/points/search` body.
pub fn search_points(s: pb::SearchPoints) -> Result<(J, VectorPick), Status> {
    let mut m = Map::new();
    let v = match s.sparse_indices {
        Some(ix) => json!({"indices": ix.data, "values": s.vector}),
        None => json!(s.vector),
    };
    let v = match s.vector_name {
        Some(name) if !name.is_empty() => json!({"name": name, "vector": v}),
        _ => v,
    };
    m.insert("vector".to_owned(), v);
    let pick = query_common(
        &mut m,
        s.filter,
        s.params,
        Some(s.limit),
        s.offset,
        s.score_threshold,
        s.with_payload,
        s.with_vectors,
    )?;
    Ok((J::Object(m), pick))
}

/// `RecommendPoints` as the REST `/points/recommend` body.
pub fn recommend_points(r: pb::RecommendPoints) -> Result<(J, VectorPick), Status> {
    let mut m = Map::new();
    m.insert("positive".to_owned(), examples(r.positive, r.positive_vectors)?);
    m.insert("negative".to_owned(), examples(r.negative, r.negative_vectors)?);
    put(&mut m, "strategy", strategy(r.strategy)?);
    put(&mut m, "using", r.using.map(J::String));
    put(&mut m, "lookup_from", lookup(r.lookup_from));
    let pick = query_common(
        &mut m,
        r.filter,
        r.params,
        Some(r.limit),
        r.offset,
        r.score_threshold,
        r.with_payload,
        r.with_vectors,
    )?;
    Ok((J::Object(m), pick))
}

/// `DiscoverPoints` as the REST `/points/discover` body.
pub fn discover_points(d: pb::DiscoverPoints) -> Result<(J, VectorPick), Status> {
    let mut m = Map::new();
    if let Some(t) = d.target.and_then(|t| t.target) {
        let pb::target_vector::Target::Single(e) = t;
        m.insert("target".to_owned(), example(Some(e))?);
    }
    let context = d
        .context
        .into_iter()
        .map(|p| Ok(json!({"positive": example(p.positive)?, "negative": example(p.negative)?})))
        .collect::<Result<Vec<_>, Status>>()?;
    m.insert("context".to_owned(), J::Array(context));
    put(&mut m, "using", d.using.map(J::String));
    put(&mut m, "lookup_from", lookup(d.lookup_from));
    let pick = query_common(
        &mut m,
        d.filter,
        d.params,
        Some(d.limit),
        d.offset,
        None,
        d.with_payload,
        d.with_vectors,
    )?;
    Ok((J::Object(m), pick))
}

/// `with_lookup` as REST JSON.
pub fn with_lookup(w: Option<pb::WithLookup>) -> Option<J> {
    let w = w?;
    let mut m = Map::new();
    m.insert("collection".to_owned(), J::String(w.collection));
    put(&mut m, "with_payload", with_payload(w.with_payload));
    put(&mut m, "with_vectors", with_vectors(w.with_vectors).0);
    Some(J::Object(m))
}

// ---- datetimes ------------------------------------------------------------------------------

/// A protobuf timestamp as RFC 3339 UTC (nanoseconds kept when present).
pub fn rfc3339(t: &Timestamp) -> String {
    let secs = t.seconds;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let nanos = t.nanos.clamp(0, 999_999_999);
    if nanos == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{nanos:09}Z")
    }
}

/// An RFC 3339 string as a protobuf timestamp (`None` when it does not parse).
pub fn timestamp(s: &str) -> Option<Timestamp> {
    let secs = grove_storage::filter::parse_rfc3339(s)?;
    let whole = secs.floor();
    Some(Timestamp { seconds: whole as i64, nanos: ((secs - whole) * 1e9).round().min(999_999_999.0) as i32 })
}

// ---- responses ------------------------------------------------------------------------------

/// A REST point id as a proto id.
pub fn point_id_out(v: &J) -> pb::PointId {
    use pb::point_id::PointIdOptions as P;
    let options = match v {
        J::String(s) => P::Uuid(s.clone()),
        other => P::Num(other.as_u64().unwrap_or(0)),
    };
    pb::PointId { point_id_options: Some(options) }
}

fn vector_out(v: &J) -> pb::VectorOutput {
    use pb::vector_output::Vector as V;
    let floats = |a: &J| -> Vec<f32> {
        a.as_array().map(|a| a.iter().map(|x| x.as_f64().unwrap_or(0.0) as f32).collect()).unwrap_or_default()
    };
    let vector = match v {
        J::Object(m) if m.contains_key("indices") => {
            let indices = m
                .get("indices")
                .and_then(J::as_array)
                .map(|a| a.iter().map(|x| x.as_u64().unwrap_or(0) as u32).collect())
                .unwrap_or_default();
            V::Sparse(pb::SparseVector { indices, values: m.get("values").map(floats).unwrap_or_default() })
        }
        J::Array(a) if a.first().is_some_and(J::is_array) => V::MultiDense(pb::MultiDenseVector {
            vectors: a.iter().map(|r| pb::DenseVector { data: floats(r) }).collect(),
        }),
        other => V::Dense(pb::DenseVector { data: floats(other) }),
    };
    pb::VectorOutput { vector: Some(vector), ..Default::default() }
}

/// A REST `vector` field (array, or object by name) as the proto's vectors, keeping only the
/// names asked for.
pub fn vectors_out(v: Option<&J>, pick: &VectorPick) -> Option<pb::VectorsOutput> {
    use pb::vectors_output::VectorsOptions as O;
    pick.as_ref()?;
    let v = v?;
    let keep = |name: &str| match pick {
        Some(Some(names)) => names.iter().any(|n| n == name),
        _ => true,
    };
    let options = match v {
        J::Object(m) if !m.contains_key("indices") => O::Vectors(pb::NamedVectorsOutput {
            vectors: m.iter().filter(|(k, _)| keep(k)).map(|(k, v)| (k.clone(), vector_out(v))).collect(),
        }),
        other => O::Vector(vector_out(other)),
    };
    Some(pb::VectorsOutput { vectors_options: Some(options) })
}

fn payload_out(v: Option<&J>) -> HashMap<String, pb::Value> {
    match v {
        Some(J::Object(m)) => json::map_from_json(m.clone()),
        _ => HashMap::new(),
    }
}

fn order_value(v: Option<&J>) -> Option<pb::OrderValue> {
    use pb::order_value::Variant;
    let v = v?;
    let variant = match v.as_i64() {
        Some(i) => Variant::Int(i),
        None => Variant::Float(v.as_f64()?),
    };
    Some(pb::OrderValue { variant: Some(variant) })
}

/// A REST hit as a proto hit.
pub fn scored(v: &J, pick: &VectorPick) -> pb::ScoredPoint {
    pb::ScoredPoint {
        id: v.get("id").map(point_id_out),
        payload: payload_out(v.get("payload")),
        score: opt_f64(v, "score").unwrap_or(0.0) as f32,
        version: u64_of(v, "version"),
        vectors: vectors_out(v.get("vector"), pick),
        order_value: order_value(v.get("order_value")),
    }
}

/// A REST list of hits as proto hits.
pub fn scored_list(v: &J, pick: &VectorPick) -> Vec<pb::ScoredPoint> {
    v.as_array().map(|a| a.iter().map(|h| scored(h, pick)).collect()).unwrap_or_default()
}

/// A REST record as a proto record.
pub fn record(v: &J, pick: &VectorPick) -> pb::RetrievedPoint {
    pb::RetrievedPoint {
        id: v.get("id").map(point_id_out),
        payload: payload_out(v.get("payload")),
        vectors: vectors_out(v.get("vector"), pick),
        order_value: order_value(v.get("order_value")),
    }
}

/// A REST update result as the proto's.
pub fn update_result(r: &crate::api::UpdateResult) -> pb::UpdateResult {
    let status = match r.status {
        crate::api::UpdateStatus::Completed => pb::UpdateStatus::Completed,
        crate::api::UpdateStatus::Acknowledged => pb::UpdateStatus::Acknowledged,
    };
    pb::UpdateResult { operation_id: Some(r.operation_id), status: status as i32 }
}

/// REST groups as proto groups.
pub fn groups(v: &J, pick: &VectorPick) -> pb::GroupsResult {
    use pb::group_id::Kind;
    let groups = v
        .get("groups")
        .and_then(J::as_array)
        .map(|gs| {
            gs.iter()
                .map(|g| {
                    let id = g.get("id").map(|id| {
                        let kind = match id {
                            J::String(s) => Kind::StringValue(s.clone()),
                            other => match other.as_u64() {
                                Some(u) => Kind::UnsignedValue(u),
                                None => Kind::IntegerValue(other.as_i64().unwrap_or(0)),
                            },
                        };
                        pb::GroupId { kind: Some(kind) }
                    });
                    let lookup = g.get("lookup").filter(|l| !l.is_null()).map(|l| record(l, &Some(None)));
                    pb::PointGroup { id, hits: scored_list(g.get("hits").unwrap_or(&J::Null), pick), lookup }
                })
                .collect()
        })
        .unwrap_or_default();
    pb::GroupsResult { groups }
}

// ---- collections ----------------------------------------------------------------------------

fn distance_name(d: i32) -> Result<&'static str, Status> {
    match pb::Distance::try_from(d) {
        Ok(pb::Distance::Cosine) => Ok("Cosine"),
        Ok(pb::Distance::Euclid) => Ok("Euclid"),
        Ok(pb::Distance::Dot) => Ok("Dot"),
        Ok(pb::Distance::Manhattan) => Ok("Manhattan"),
        _ => Err(Status::invalid_argument("vectors_config: set distance (Cosine, Euclid, Dot)")),
    }
}

fn distance_of(s: Option<&str>) -> i32 {
    (match s {
        Some("Cosine") => pb::Distance::Cosine,
        Some("Euclid") => pb::Distance::Euclid,
        Some("Dot") => pb::Distance::Dot,
        Some("Manhattan") => pb::Distance::Manhattan,
        _ => pb::Distance::UnknownDistance,
    }) as i32
}

fn hnsw_in(h: pb::HnswConfigDiff) -> J {
    let mut m = Map::new();
    put(&mut m, "m", h.m.map(J::from));
    put(&mut m, "ef_construct", h.ef_construct.map(J::from));
    put(&mut m, "full_scan_threshold", h.full_scan_threshold.map(J::from));
    put(&mut m, "max_indexing_threads", h.max_indexing_threads.map(J::from));
    put(&mut m, "on_disk", h.on_disk.map(J::Bool));
    put(&mut m, "payload_m", h.payload_m.map(J::from));
    put(&mut m, "inline_storage", h.inline_storage.map(J::Bool));
    J::Object(m)
}

fn wal_in(w: pb::WalConfigDiff) -> J {
    let mut m = Map::new();
    put(&mut m, "wal_capacity_mb", w.wal_capacity_mb.map(J::from));
    put(&mut m, "wal_segments_ahead", w.wal_segments_ahead.map(J::from));
    put(&mut m, "wal_retain_closed", w.wal_retain_closed.map(J::from));
    J::Object(m)
}

fn optimizers_in(o: pb::OptimizersConfigDiff) -> J {
    use pb::max_optimization_threads::Variant;
    let mut m = Map::new();
    put(&mut m, "deleted_threshold", o.deleted_threshold.map(|d| json!(d)));
    put(&mut m, "vacuum_min_vector_number", o.vacuum_min_vector_number.map(J::from));
    put(&mut m, "default_segment_number", o.default_segment_number.map(J::from));
    put(&mut m, "max_segment_size", o.max_segment_size.map(J::from));
    put(&mut m, "memmap_threshold", o.memmap_threshold.map(J::from));
    put(&mut m, "indexing_threshold", o.indexing_threshold.map(J::from));
    put(&mut m, "flush_interval_sec", o.flush_interval_sec.map(J::from));
    let threads = match o.max_optimization_threads.and_then(|t| t.variant) {
        Some(Variant::Value(n)) => Some(J::from(n)),
        Some(Variant::Setting(_)) => Some(J::String("auto".to_owned())),
        None => o.deprecated_max_optimization_threads.map(J::from),
    };
    put(&mut m, "max_optimization_threads", threads);
    J::Object(m)
}

fn quantization_in(q: pb::QuantizationConfig) -> Option<J> {
    use pb::quantization_config::Quantization as Q;
    Some(match q.quantization? {
        Q::Scalar(s) => json!({"scalar": scalar_in(s)}),
        Q::Product(p) => json!({"product": product_in(p)}),
        Q::Binary(b) => json!({"binary": binary_in(b)}),
    })
}

fn scalar_in(s: pb::ScalarQuantization) -> J {
    let mut m = Map::new();
    m.insert("type".to_owned(), J::String("int8".to_owned()));
    put(&mut m, "quantile", s.quantile.map(|q| json!(q)));
    put(&mut m, "always_ram", s.always_ram.map(J::Bool));
    J::Object(m)
}

fn product_in(p: pb::ProductQuantization) -> J {
    let c = match pb::CompressionRatio::try_from(p.compression) {
        Ok(pb::CompressionRatio::X8) => "x8",
        Ok(pb::CompressionRatio::X16) => "x16",
        Ok(pb::CompressionRatio::X32) => "x32",
        Ok(pb::CompressionRatio::X64) => "x64",
        _ => "x4",
    };
    let mut m = Map::new();
    m.insert("compression".to_owned(), J::String(c.to_owned()));
    put(&mut m, "always_ram", p.always_ram.map(J::Bool));
    J::Object(m)
}

fn binary_in(b: pb::BinaryQuantization) -> J {
    let mut m = Map::new();
    put(&mut m, "always_ram", b.always_ram.map(J::Bool));
    if let Some(e) = b.encoding {
        let e = match pb::BinaryQuantizationEncoding::try_from(e) {
            Ok(pb::BinaryQuantizationEncoding::TwoBits) => "two_bits",
            Ok(pb::BinaryQuantizationEncoding::OneAndHalfBits) => "one_and_half_bits",
            _ => "one_bit",
        };
        m.insert("encoding".to_owned(), J::String(e.to_owned()));
    }
    if let Some(s) = b.query_encoding.and_then(|q| q.variant) {
        use pb::binary_quantization_query_encoding::{Setting, Variant};
        let Variant::Setting(s) = s;
        let s = match Setting::try_from(s) {
            Ok(Setting::Binary) => "binary",
            Ok(Setting::Scalar4Bits) => "scalar4bits",
            Ok(Setting::Scalar8Bits) => "scalar8bits",
            _ => "default",
        };
        m.insert("query_encoding".to_owned(), J::String(s.to_owned()));
    }
    J::Object(m)
}

fn quantization_diff_in(q: pb::QuantizationConfigDiff) -> Option<J> {
    use pb::quantization_config_diff::Quantization as Q;
    Some(match q.quantization? {
        Q::Scalar(s) => json!({"scalar": scalar_in(s)}),
        Q::Product(p) => json!({"product": product_in(p)}),
        Q::Binary(b) => json!({"binary": binary_in(b)}),
        Q::Disabled(_) => J::String("Disabled".to_owned()),
    })
}

fn datatype_name(d: i32) -> Option<&'static str> {
    match pb::Datatype::try_from(d) {
        Ok(pb::Datatype::Float32) => Some("float32"),
        Ok(pb::Datatype::Uint8) => Some("uint8"),
        Ok(pb::Datatype::Float16) => Some("float16"),
        Ok(pb::Datatype::Turbo4) => Some("turbo4"),
        _ => None,
    }
}

fn vector_params_in(p: pb::VectorParams) -> Result<J, Status> {
    let mut m = Map::new();
    m.insert("size".to_owned(), J::from(p.size));
    m.insert("distance".to_owned(), J::String(distance_name(p.distance)?.to_owned()));
    put(&mut m, "hnsw_config", p.hnsw_config.map(hnsw_in));
    put(&mut m, "quantization_config", p.quantization_config.and_then(quantization_in));
    put(&mut m, "on_disk", p.on_disk.map(J::Bool));
    put(&mut m, "datatype", p.datatype.and_then(datatype_name).map(|d| J::String(d.to_owned())));
    put(&mut m, "multivector_config", p.multivector_config.map(|_| json!({"comparator": "max_sim"})));
    Ok(J::Object(m))
}

fn sparse_in(s: pb::SparseVectorConfig) -> J {
    let mut out = Map::new();
    for (name, p) in s.map {
        let mut m = Map::new();
        if let Some(ix) = p.index {
            let mut im = Map::new();
            put(&mut im, "full_scan_threshold", ix.full_scan_threshold.map(J::from));
            put(&mut im, "on_disk", ix.on_disk.map(J::Bool));
            put(&mut im, "datatype", ix.datatype.and_then(datatype_name).map(|d| J::String(d.to_owned())));
            m.insert("index".to_owned(), J::Object(im));
        }
        if let Some(md) = p.modifier {
            let md = if md == pb::Modifier::Idf as i32 { "idf" } else { "none" };
            m.insert("modifier".to_owned(), J::String(md.to_owned()));
        }
        out.insert(name, J::Object(m));
    }
    J::Object(out)
}

fn sharding_name(s: i32) -> &'static str {
    if s == pb::ShardingMethod::Custom as i32 {
        "custom"
    } else {
        "auto"
    }
}

/// `CreateCollection` as the REST create body.
pub fn create_collection(c: pb::CreateCollection) -> Result<J, Status> {
    use pb::vectors_config::Config;
    let mut m = Map::new();
    match c.vectors_config.and_then(|v| v.config) {
        Some(Config::Params(p)) => {
            m.insert("vectors".to_owned(), vector_params_in(p)?);
        }
        Some(Config::ParamsMap(map)) => {
            let mut named = Map::new();
            for (name, p) in map.map {
                named.insert(name, vector_params_in(p)?);
            }
            m.insert("vectors".to_owned(), J::Object(named));
        }
        None => {}
    }
    put(&mut m, "sparse_vectors", c.sparse_vectors_config.map(sparse_in));
    put(&mut m, "hnsw_config", c.hnsw_config.map(hnsw_in));
    put(&mut m, "wal_config", c.wal_config.map(wal_in));
    put(&mut m, "optimizers_config", c.optimizers_config.map(optimizers_in));
    put(&mut m, "shard_number", c.shard_number.map(J::from));
    put(&mut m, "on_disk_payload", c.on_disk_payload.map(J::Bool));
    put(&mut m, "replication_factor", c.replication_factor.map(J::from));
    put(&mut m, "write_consistency_factor", c.write_consistency_factor.map(J::from));
    put(&mut m, "quantization_config", c.quantization_config.and_then(quantization_in));
    put(&mut m, "sharding_method", c.sharding_method.map(|s| J::String(sharding_name(s).to_owned())));
    Ok(J::Object(m))
}

/// `UpdateCollection` as the REST PATCH body.
pub fn update_collection(u: pb::UpdateCollection) -> J {
    use pb::vectors_config_diff::Config;
    let diff = |d: pb::VectorParamsDiff| {
        let mut m = Map::new();
        put(&mut m, "hnsw_config", d.hnsw_config.map(hnsw_in));
        put(&mut m, "quantization_config", d.quantization_config.and_then(quantization_diff_in));
        put(&mut m, "on_disk", d.on_disk.map(J::Bool));
        J::Object(m)
    };
    let mut m = Map::new();
    match u.vectors_config.and_then(|v| v.config) {
        Some(Config::Params(p)) => {
            m.insert("vectors".to_owned(), json!({"": diff(p)}));
        }
        Some(Config::ParamsMap(map)) => {
            let named: Map<String, J> = map.map.into_iter().map(|(k, d)| (k, diff(d))).collect();
            m.insert("vectors".to_owned(), J::Object(named));
        }
        None => {}
    }
    put(&mut m, "optimizers_config", u.optimizers_config.map(optimizers_in));
    put(&mut m, "hnsw_config", u.hnsw_config.map(hnsw_in));
    put(&mut m, "quantization_config", u.quantization_config.and_then(quantization_diff_in));
    put(&mut m, "sparse_vectors", u.sparse_vectors_config.map(sparse_in));
    if let Some(p) = u.params {
        let mut pm = Map::new();
        put(&mut pm, "replication_factor", p.replication_factor.map(J::from));
        put(&mut pm, "write_consistency_factor", p.write_consistency_factor.map(J::from));
        put(&mut pm, "on_disk_payload", p.on_disk_payload.map(J::Bool));
        put(&mut pm, "read_fan_out_factor", p.read_fan_out_factor.map(J::from));
        m.insert("params".to_owned(), J::Object(pm));
    }
    J::Object(m)
}

fn hnsw_out(v: &J) -> pb::HnswConfigDiff {
    pb::HnswConfigDiff {
        m: opt_u64(v, "m"),
        ef_construct: opt_u64(v, "ef_construct"),
        full_scan_threshold: opt_u64(v, "full_scan_threshold"),
        max_indexing_threads: opt_u64(v, "max_indexing_threads"),
        on_disk: opt_bool(v, "on_disk"),
        payload_m: opt_u64(v, "payload_m"),
        inline_storage: opt_bool(v, "inline_storage"),
    }
}

fn quantization_out(v: &J) -> Option<pb::QuantizationConfig> {
    use pb::quantization_config::Quantization as Q;
    let q = if let Some(s) = v.get("scalar") {
        Q::Scalar(pb::ScalarQuantization {
            r#type: pb::QuantizationType::Int8 as i32,
            quantile: opt_f64(s, "quantile").map(|q| q as f32),
            always_ram: opt_bool(s, "always_ram"),
        })
    } else if let Some(p) = v.get("product") {
        let c = match opt_str(p, "compression") {
            Some("x8") => pb::CompressionRatio::X8,
            Some("x16") => pb::CompressionRatio::X16,
            Some("x32") => pb::CompressionRatio::X32,
            Some("x64") => pb::CompressionRatio::X64,
            _ => pb::CompressionRatio::X4,
        };
        Q::Product(pb::ProductQuantization { compression: c as i32, always_ram: opt_bool(p, "always_ram") })
    } else if let Some(b) = v.get("binary") {
        let encoding = opt_str(b, "encoding").map(|e| {
            (match e {
                "two_bits" => pb::BinaryQuantizationEncoding::TwoBits,
                "one_and_half_bits" => pb::BinaryQuantizationEncoding::OneAndHalfBits,
                _ => pb::BinaryQuantizationEncoding::OneBit,
            }) as i32
        });
        Q::Binary(pb::BinaryQuantization {
            always_ram: opt_bool(b, "always_ram"),
            encoding,
            query_encoding: None,
        })
    } else {
        return None;
    };
    Some(pb::QuantizationConfig { quantization: Some(q) })
}

fn vector_params_out(v: &J) -> pb::VectorParams {
    let datatype = opt_str(v, "datatype").map(|d| {
        (match d {
            "uint8" => pb::Datatype::Uint8,
            "float16" => pb::Datatype::Float16,
            "turbo4" => pb::Datatype::Turbo4,
            _ => pb::Datatype::Float32,
        }) as i32
    });
    pb::VectorParams {
        size: u64_of(v, "size"),
        distance: distance_of(opt_str(v, "distance")),
        hnsw_config: v.get("hnsw_config").filter(|h| h.is_object()).map(hnsw_out),
        quantization_config: v.get("quantization_config").and_then(quantization_out),
        on_disk: opt_bool(v, "on_disk"),
        datatype,
        multivector_config: v
            .get("multivector_config")
            .filter(|m| m.is_object())
            .map(|_| pb::MultiVectorConfig { comparator: pb::MultiVectorComparator::MaxSim as i32 }),
    }
}

fn vectors_config_out(v: &J) -> Option<pb::VectorsConfig> {
    use pb::vectors_config::Config;
    let config = if v.get("size").is_some() {
        Config::Params(vector_params_out(v))
    } else {
        let m = v.as_object()?;
        Config::ParamsMap(pb::VectorParamsMap {
            map: m.iter().map(|(k, p)| (k.clone(), vector_params_out(p))).collect(),
        })
    };
    Some(pb::VectorsConfig { config: Some(config) })
}

fn sparse_out(v: &J) -> Option<pb::SparseVectorConfig> {
    let m = v.as_object()?;
    let map = m
        .iter()
        .map(|(name, p)| {
            let index = p.get("index").filter(|i| i.is_object()).map(|i| pb::SparseIndexConfig {
                full_scan_threshold: opt_u64(i, "full_scan_threshold"),
                on_disk: opt_bool(i, "on_disk"),
                datatype: None,
            });
            let modifier = opt_str(p, "modifier").map(|md| {
                if md == "idf" {
                    pb::Modifier::Idf as i32
                } else {
                    pb::Modifier::None as i32
                }
            });
            (name.clone(), pb::SparseVectorParams { index, modifier })
        })
        .collect();
    Some(pb::SparseVectorConfig { map })
}

fn schema_type_of(s: Option<&str>) -> i32 {
    (match s {
        Some("keyword") => pb::PayloadSchemaType::Keyword,
        Some("integer") => pb::PayloadSchemaType::Integer,
        Some("float") => pb::PayloadSchemaType::Float,
        Some("geo") => pb::PayloadSchemaType::Geo,
        Some("text") => pb::PayloadSchemaType::Text,
        Some("bool") => pb::PayloadSchemaType::Bool,
        Some("datetime") => pb::PayloadSchemaType::Datetime,
        Some("uuid") => pb::PayloadSchemaType::Uuid,
        _ => pb::PayloadSchemaType::UnknownType,
    }) as i32
}

/// REST collection info as the proto's.
pub fn collection_info(v: &J) -> pb::CollectionInfo {
    let status = match opt_str(v, "status") {
        Some("green") => pb::CollectionStatus::Green,
        Some("yellow") => pb::CollectionStatus::Yellow,
        Some("red") => pb::CollectionStatus::Red,
        Some("grey") => pb::CollectionStatus::Grey,
        _ => pb::CollectionStatus::UnknownCollectionStatus,
    };
    let optimizer_ok = match v.get("optimizer_status") {
        Some(J::String(s)) => s == "ok",
        Some(J::Object(m)) => !m.contains_key("error"),
        _ => true,
    };
    let optimizer_error = v
        .get("optimizer_status")
        .and_then(|o| o.get("error"))
        .and_then(J::as_str)
        .unwrap_or_default()
        .to_owned();
    let empty = J::Null;
    let config = v.get("config").unwrap_or(&empty);
    let params = config.get("params").unwrap_or(&empty);
    let opt = config.get("optimizer_config").unwrap_or(&empty);
    let wal = config.get("wal_config").unwrap_or(&empty);
    let threads = match opt.get("max_optimization_threads") {
        Some(J::Number(n)) => n.as_u64().map(|n| pb::MaxOptimizationThreads {
            variant: Some(pb::max_optimization_threads::Variant::Value(n)),
        }),
        _ => Some(pb::MaxOptimizationThreads {
            variant: Some(pb::max_optimization_threads::Variant::Setting(
                pb::max_optimization_threads::Setting::Auto as i32,
            )),
        }),
    };
    let payload_schema = v
        .get("payload_schema")
        .and_then(J::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        pb::PayloadSchemaInfo {
                            data_type: schema_type_of(opt_str(s, "data_type")),
                            params: None,
                            points: opt_u64(s, "points"),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let warnings = v
        .get("grove_settings_without_effect")
        .and_then(J::as_array)
        .map(|a| {
            a.iter()
                .filter_map(J::as_str)
                .map(|s| pb::CollectionWarning { message: format!("no effect in Grove: {s}") })
                .collect()
        })
        .unwrap_or_default();
    pb::CollectionInfo {
        status: status as i32,
        optimizer_status: Some(pb::OptimizerStatus { ok: optimizer_ok, error: optimizer_error }),
        segments_count: u64_of(v, "segments_count"),
        config: Some(pb::CollectionConfig {
            params: Some(pb::CollectionParams {
                shard_number: opt_u32(params, "shard_number").unwrap_or(1),
                on_disk_payload: opt_bool(params, "on_disk_payload").unwrap_or(false),
                vectors_config: params.get("vectors").and_then(vectors_config_out),
                replication_factor: opt_u32(params, "replication_factor"),
                write_consistency_factor: opt_u32(params, "write_consistency_factor"),
                read_fan_out_factor: opt_u32(params, "read_fan_out_factor"),
                sharding_method: opt_str(params, "sharding_method").map(|s| {
                    (if s == "custom" { pb::ShardingMethod::Custom } else { pb::ShardingMethod::Auto }) as i32
                }),
                sparse_vectors_config: params.get("sparse_vectors").and_then(sparse_out),
            }),
            hnsw_config: Some(hnsw_out(config.get("hnsw_config").unwrap_or(&empty))),
            optimizer_config: Some(pb::OptimizersConfigDiff {
                deleted_threshold: opt_f64(opt, "deleted_threshold"),
                vacuum_min_vector_number: opt_u64(opt, "vacuum_min_vector_number"),
                default_segment_number: opt_u64(opt, "default_segment_number"),
                max_segment_size: opt_u64(opt, "max_segment_size"),
                memmap_threshold: opt_u64(opt, "memmap_threshold"),
                indexing_threshold: opt_u64(opt, "indexing_threshold"),
                flush_interval_sec: opt_u64(opt, "flush_interval_sec"),
                deprecated_max_optimization_threads: None,
                max_optimization_threads: threads,
            }),
            wal_config: Some(pb::WalConfigDiff {
                wal_capacity_mb: opt_u64(wal, "wal_capacity_mb"),
                wal_segments_ahead: opt_u64(wal, "wal_segments_ahead"),
                wal_retain_closed: opt_u64(wal, "wal_retain_closed"),
            }),
            quantization_config: config.get("quantization_config").and_then(quantization_out),
        }),
        payload_schema,
        points_count: opt_u64(v, "points_count"),
        indexed_vectors_count: opt_u64(v, "indexed_vectors_count"),
        warnings,
        update_queue: Some(pb::UpdateQueueInfo { length: 0 }),
    }
}

/// A REST snapshot description as the proto's.
pub fn snapshot(s: &crate::api::SnapshotDescription) -> pb::SnapshotDescription {
    pb::SnapshotDescription {
        name: s.name.clone(),
        creation_time: s.creation_time.as_deref().and_then(timestamp),
        size: i64::try_from(s.size).unwrap_or(i64::MAX),
        checksum: None,
    }
}

/// The REST field schema of a `CreateFieldIndexCollection` (type and parameters).
pub fn field_schema(field_type: Option<i32>, params: Option<pb::PayloadIndexParams>) -> Result<J, Status> {
    use pb::payload_index_params::IndexParams as P;
    let from_params = params.as_ref().and_then(|p| p.index_params.as_ref()).map(|p| match p {
        P::KeywordIndexParams(_) => "keyword",
        P::IntegerIndexParams(_) => "integer",
        P::FloatIndexParams(_) => "float",
        P::GeoIndexParams(_) => "geo",
        P::TextIndexParams(_) => "text",
        P::BoolIndexParams(_) => "bool",
        P::DatetimeIndexParams(_) => "datetime",
        P::UuidIndexParams(_) => "uuid",
    });
    let from_type = field_type
        .map(|t| match pb::FieldType::try_from(t) {
            Ok(pb::FieldType::Keyword) => Ok("keyword"),
            Ok(pb::FieldType::Integer) => Ok("integer"),
            Ok(pb::FieldType::Float) => Ok("float"),
            Ok(pb::FieldType::Geo) => Ok("geo"),
            Ok(pb::FieldType::Text) => Ok("text"),
            Ok(pb::FieldType::Bool) => Ok("bool"),
            Ok(pb::FieldType::Datetime) => Ok("datetime"),
            Ok(pb::FieldType::Uuid) => Ok("uuid"),
            Err(_) => Err(Status::invalid_argument(format!("field_type: unknown value {t}"))),
        })
        .transpose()?;
    let Some(kind) = from_type.or(from_params) else {
        return Err(Status::invalid_argument("create field index: set field_type (or field_index_params)"));
    };
    let Some(params) = params.and_then(|p| p.index_params) else {
        return Ok(J::String(kind.to_owned()));
    };
    let mut m = Map::new();
    m.insert("type".to_owned(), J::String(kind.to_owned()));
    match params {
        P::KeywordIndexParams(p) => {
            put(&mut m, "is_tenant", p.is_tenant.map(J::Bool));
            put(&mut m, "on_disk", p.on_disk.map(J::Bool));
        }
        P::IntegerIndexParams(p) => {
            put(&mut m, "lookup", p.lookup.map(J::Bool));
            put(&mut m, "range", p.range.map(J::Bool));
            put(&mut m, "is_principal", p.is_principal.map(J::Bool));
            put(&mut m, "on_disk", p.on_disk.map(J::Bool));
        }
        P::FloatIndexParams(p) => {
            put(&mut m, "is_principal", p.is_principal.map(J::Bool));
            put(&mut m, "on_disk", p.on_disk.map(J::Bool));
        }
        P::GeoIndexParams(p) => put(&mut m, "on_disk", p.on_disk.map(J::Bool)),
        P::TextIndexParams(p) => {
            let tokenizer = match pb::TokenizerType::try_from(p.tokenizer) {
                Ok(pb::TokenizerType::Prefix) => "prefix",
                Ok(pb::TokenizerType::Whitespace) => "whitespace",
                Ok(pb::TokenizerType::Multilingual) => "multilingual",
                _ => "word",
            };
            m.insert("tokenizer".to_owned(), J::String(tokenizer.to_owned()));
            put(&mut m, "lowercase", p.lowercase.map(J::Bool));
            put(&mut m, "min_token_len", p.min_token_len.map(J::from));
            put(&mut m, "max_token_len", p.max_token_len.map(J::from));
            put(&mut m, "on_disk", p.on_disk.map(J::Bool));
            put(&mut m, "phrase_matching", p.phrase_matching.map(J::Bool));
            if let Some(s) = p.stopwords {
                m.insert("stopwords".to_owned(), json!({"languages": s.languages, "custom": s.custom}));
            }
        }
        P::BoolIndexParams(p) => put(&mut m, "on_disk", p.on_disk.map(J::Bool)),
        P::DatetimeIndexParams(p) => {
            put(&mut m, "is_principal", p.is_principal.map(J::Bool));
            put(&mut m, "on_disk", p.on_disk.map(J::Bool));
        }
        P::UuidIndexParams(p) => {
            put(&mut m, "is_tenant", p.is_tenant.map(J::Bool));
            put(&mut m, "on_disk", p.on_disk.map(J::Bool));
        }
    }
    Ok(J::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_rfc3339() {
        let t = Timestamp { seconds: 1_714_566_600, nanos: 0 };
        assert_eq!(rfc3339(&t), "2024-05-01T12:30:00Z");
        assert_eq!(timestamp("2024-05-01T12:30:00Z"), Some(t));
        assert_eq!(rfc3339(&Timestamp { seconds: -1, nanos: 500_000_000 }), "1969-12-31T23:59:59.500000000Z");
    }

    #[test]
    fn vectors_in_every_form() {
        let dense = pb::Vector {
            vector: Some(pb::vector::Vector::Dense(pb::DenseVector { data: vec![1.0, 2.0] })),
            ..Default::default()
        };
        assert_eq!(vector(dense).expect("dense"), json!([1.0, 2.0]));
        let legacy_sparse = pb::Vector {
            data: vec![0.5],
            indices: Some(pb::SparseIndices { data: vec![3] }),
            ..Default::default()
        };
        assert_eq!(vector(legacy_sparse).expect("sparse"), json!({"indices": [3], "values": [0.5]}));
        let legacy_multi =
            pb::Vector { data: vec![1.0, 2.0, 3.0, 4.0], vectors_count: Some(2), ..Default::default() };
        assert_eq!(vector(legacy_multi).expect("multi"), json!([[1.0, 2.0], [3.0, 4.0]]));
        let bad = pb::Vector { data: vec![1.0, 2.0, 3.0], vectors_count: Some(2), ..Default::default() };
        assert_eq!(vector(bad).expect_err("uneven").code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn named_vectors_out_keep_only_the_names_asked_for() {
        let v = json!({"a": [1.0], "b": [2.0]});
        let out = vectors_out(Some(&v), &Some(Some(vec!["b".to_owned()]))).expect("some");
        let Some(pb::vectors_output::VectorsOptions::Vectors(named)) = out.vectors_options else {
            panic!("named expected")
        };
        assert_eq!(named.vectors.keys().collect::<Vec<_>>(), vec!["b"]);
        assert!(vectors_out(Some(&v), &None).is_none());
    }
}
