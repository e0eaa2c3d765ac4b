//! Proto messages <-> the service layer's [`crate::api`] types.
//!
//! Filters are converted to Qdrant's JSON shape and then parsed by the service exactly as REST
//! filters are, so both transports share one validation path and one set of error messages.

use std::collections::HashMap;

use grove_proto::v1 as pb;
use serde_json::{json, Map, Value as Json};

use crate::api;
use crate::service::{ServiceError, ServiceResult};

use super::sparse;

fn missing(what: &str) -> ServiceError {
    ServiceError::invalid(format!("`{what}` is required"))
}

/// Proto point id -> API id.
pub fn point_id(id: Option<pb::PointId>, what: &str) -> ServiceResult<api::PointId> {
    match id.and_then(|i| i.kind) {
        Some(pb::point_id::Kind::Num(n)) => Ok(api::PointId::Num(n)),
        Some(pb::point_id::Kind::Uuid(u)) => Ok(api::PointId::Uuid(u)),
        None => Err(missing(what)),
    }
}

/// API id -> proto id.
pub fn point_id_out(id: api::PointId) -> pb::PointId {
    let kind = match id {
        api::PointId::Num(n) => pb::point_id::Kind::Num(n),
        api::PointId::Uuid(u) => pb::point_id::Kind::Uuid(u),
    };
    pb::PointId { kind: Some(kind) }
}

fn ids(ids: Vec<pb::PointId>) -> ServiceResult<Vec<api::PointId>> {
    ids.into_iter().map(|i| point_id(Some(i), "id")).collect()
}

/// Proto value -> JSON.
pub fn value(v: pb::Value) -> ServiceResult<Json> {
    use pb::value::Kind;
    Ok(match v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::DoubleValue(d)) => serde_json::Number::from_f64(d)
            .map(Json::Number)
            .ok_or_else(|| ServiceError::invalid(format!("payload number {d} is not finite")))?,
        Some(Kind::IntegerValue(i)) => json!(i),
        Some(Kind::StringValue(s)) => Json::String(s),
        Some(Kind::BoolValue(b)) => Json::Bool(b),
        Some(Kind::StructValue(s)) => Json::Object(payload(s.fields)?),
        Some(Kind::ListValue(l)) => {
            Json::Array(l.values.into_iter().map(value).collect::<ServiceResult<_>>()?)
        }
    })
}

/// Proto payload map -> JSON object.
pub fn payload(fields: HashMap<String, pb::Value>) -> ServiceResult<api::Payload> {
    fields.into_iter().map(|(k, v)| Ok((k, value(v)?))).collect()
}

/// JSON -> proto value.
pub fn value_out(v: Json) -> pb::Value {
    use pb::value::Kind;
    let kind = match v {
        Json::Null => Kind::NullValue(pb::NullValue::NullValue as i32),
        Json::Bool(b) => Kind::BoolValue(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntegerValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Kind::StringValue(s),
        Json::Array(a) => Kind::ListValue(pb::ListValue { values: a.into_iter().map(value_out).collect() }),
        Json::Object(o) => Kind::StructValue(pb::Struct { fields: payload_out(o) }),
    };
    pb::Value { kind: Some(kind) }
}

/// JSON object -> proto payload map.
pub fn payload_out(p: api::Payload) -> HashMap<String, pb::Value> {
    p.into_iter().map(|(k, v)| (k, value_out(v))).collect()
}

/// A range message as Qdrant's JSON. A bound JSON cannot carry (NaN or an infinity, which
/// `serde_json` turns into `null`, i.e. "no bound") is refused: `price > +inf` must not become
/// "every price".
fn range_json<T: serde::Serialize + std::fmt::Debug>(
    what: &str,
    lt: Option<T>,
    gt: Option<T>,
    gte: Option<T>,
    lte: Option<T>,
) -> ServiceResult<Json> {
    let mut m = Map::new();
    for (k, v) in [("lt", lt), ("gt", gt), ("gte", gte), ("lte", lte)] {
        if let Some(v) = v {
            let j = json!(v);
            if j.is_null() {
                return Err(ServiceError::invalid(format!(
                    "{what}.{k}: a bound must be a finite number, got {v:?}; leave the bound out for no limit"
                )));
            }
            m.insert(k.to_owned(), j);
        }
    }
    Ok(Json::Object(m))
}

fn condition(c: pb::Condition) -> ServiceResult<Json> {
    use pb::condition::Kind;
    match c.kind.ok_or_else(|| missing("condition.kind"))? {
        Kind::Field(f) => {
            let f = *f;
            let mut m = Map::new();
            m.insert("key".to_owned(), Json::String(f.key));
            if let Some(mt) = f.r#match {
                use pb::r#match::Kind as M;
                let mj = match mt.kind.ok_or_else(|| missing("match.kind"))? {
                    M::Keyword(s) => json!({ "value": s }),
                    M::Integer(i) => json!({ "value": i }),
                    M::Boolean(b) => json!({ "value": b }),
                    M::Keywords(l) => json!({ "any": l.strings }),
                    M::Integers(l) => json!({ "any": l.integers }),
                    M::ExceptKeywords(l) => json!({ "except": l.strings }),
                    M::ExceptIntegers(l) => json!({ "except": l.integers }),
                };
                m.insert("match".to_owned(), mj);
            }
            // A datetime range uses the same `range` key with RFC 3339 bounds.
            let range = match (f.range, f.datetime_range) {
                (Some(_), Some(_)) => {
                    return Err(ServiceError::invalid(
                        "a field condition takes range or datetime_range, not both",
                    ))
                }
                (Some(r), None) => Some(range_json("range", r.lt, r.gt, r.gte, r.lte)?),
                (None, Some(r)) => Some(range_json("datetime_range", r.lt, r.gt, r.gte, r.lte)?),
                (None, None) => None,
            };
            if let Some(r) = range {
                m.insert("range".to_owned(), r);
            }
            if let Some(vc) = f.values_count {
                m.insert(
                    "values_count".to_owned(),
                    range_json("values_count", vc.lt, vc.gt, vc.gte, vc.lte)?,
                );
            }
            Ok(Json::Object(m))
        }
        Kind::IsEmpty(e) => Ok(json!({ "is_empty": { "key": e.key } })),
        Kind::IsNull(e) => Ok(json!({ "is_null": { "key": e.key } })),
        Kind::HasId(h) => {
            let ids: Vec<Json> = ids(h.has_id)?.into_iter().map(|i| json!(i)).collect();
            Ok(json!({ "has_id": ids }))
        }
        Kind::Filter(f) => filter(f),
    }
}

/// Proto filter -> Qdrant-shaped JSON filter.
pub fn filter(f: pb::Filter) -> ServiceResult<Json> {
    let mut m = Map::new();
    for (key, list) in [("must", f.must), ("should", f.should), ("must_not", f.must_not)] {
        if !list.is_empty() {
            m.insert(
                key.to_owned(),
                Json::Array(list.into_iter().map(condition).collect::<ServiceResult<_>>()?),
            );
        }
    }
    Ok(Json::Object(m))
}

fn opt_filter(f: Option<pb::Filter>) -> ServiceResult<Option<Json>> {
    f.map(filter).transpose()
}

/// Proto payload selector -> API selector (`None` = the operation's default).
pub fn with_payload(s: Option<pb::WithPayloadSelector>) -> Option<api::WithPayload> {
    use pb::with_payload_selector::Kind;
    s.and_then(|s| s.kind).map(|k| match k {
        Kind::Enable(b) => api::WithPayload::Enable(b),
        Kind::Include(l) => api::WithPayload::Selector(api::PayloadSelector::Include(l.strings)),
        Kind::Exclude(l) => api::WithPayload::Selector(api::PayloadSelector::Exclude(l.strings)),
    })
}

/// Proto selector -> API selector.
pub fn selector(s: Option<pb::PointsSelector>) -> ServiceResult<api::PointsSelector> {
    use pb::points_selector::Kind;
    match s.and_then(|s| s.kind).ok_or_else(|| missing("points"))? {
        Kind::Points(l) => Ok(api::PointsSelector::ids(ids(l.ids)?)),
        Kind::Filter(f) => Ok(api::PointsSelector::filter(filter(f)?)),
    }
}

fn split_selector(s: Option<pb::PointsSelector>) -> ServiceResult<(Option<Vec<api::PointId>>, Option<Json>)> {
    let sel = selector(s)?;
    Ok((sel.points, sel.filter))
}

/// Upsert points.
pub fn points(ps: Vec<pb::PointStruct>) -> ServiceResult<Vec<api::PointStruct>> {
    ps.into_iter()
        .map(|p| {
            // The unnamed vector in `vector`, named ones in `named_vectors` (a point may carry
            // both, or only named ones).
            let vector = if !p.sparse_vectors.is_empty() || !p.multi_vectors.is_empty() {
                sparse::point_vectors(p.vector, p.named_vectors, p.sparse_vectors, p.multi_vectors)
            } else if p.named_vectors.is_empty() {
                api::VectorStruct::Single(p.vector.ok_or_else(|| missing("point.vector"))?.data)
            } else {
                let mut m: std::collections::BTreeMap<String, Vec<f32>> =
                    p.named_vectors.into_iter().map(|(k, v)| (k, v.data)).collect();
                if let Some(v) = p.vector {
                    m.insert(String::new(), v.data);
                }
                api::VectorStruct::Named(m)
            };
            Ok(api::PointStruct {
                id: point_id(p.id, "point.id")?,
                vector,
                payload: Some(payload(p.payload)?),
            })
        })
        .collect()
}

/// Set/overwrite payload.
pub fn set_payload(r: pb::SetPayloadRequest) -> ServiceResult<api::SetPayload> {
    let (points, filter) = split_selector(r.points)?;
    Ok(api::SetPayload { payload: payload(r.payload)?, points, filter, key: None })
}

/// Delete payload keys.
pub fn delete_payload(r: pb::DeletePayloadRequest) -> ServiceResult<api::DeletePayload> {
    let (points, filter) = split_selector(r.points)?;
    Ok(api::DeletePayload { keys: r.keys, points, filter })
}

/// A query.
pub fn query(q: pb::QueryRequest) -> ServiceResult<api::QueryRequest> {
    let params = q.params.unwrap_or_default();
    let strategy = match pb::Strategy::try_from(params.strategy) {
        Ok(pb::Strategy::Auto) => api::StrategyParam::Auto,
        Ok(pb::Strategy::Exact) => api::StrategyParam::Exact,
        Ok(pb::Strategy::Hnsw) => api::StrategyParam::Hnsw,
        Ok(pb::Strategy::Acorn) => api::StrategyParam::Acorn,
        Err(_) => return Err(ServiceError::invalid(format!("unknown strategy {}", params.strategy))),
    };
    let query = match (q.query, q.sparse_query, q.multi_query) {
        (_, _, Some(m)) => api::QueryInput::MultiDense(sparse::multi_in(m)),
        (_, Some(sv), None) => api::QueryInput::Sparse(sparse::vector_in(sv)),
        (Some(v), None, None) => api::QueryInput::Vector(v.data),
        (None, None, None) => return Err(missing("query (or sparse_query, or multi_query)")),
    };
    Ok(api::QueryRequest {
        query: Some(query),
        using: (!q.using.is_empty()).then_some(q.using),
        filter: opt_filter(q.filter)?,
        params: Some(api::SearchParams {
            hnsw_ef: params.hnsw_ef.map(|e| usize::try_from(e).unwrap_or(usize::MAX)),
            exact: Some(params.exact),
            quantization: None,
            indexed_only: None,
            matryoshka: params.matryoshka.map(matryoshka_params),
        }),
        limit: (q.limit != 0).then(|| usize::try_from(q.limit).unwrap_or(usize::MAX)),
        offset: (q.offset != 0).then(|| usize::try_from(q.offset).unwrap_or(usize::MAX)),
        score_threshold: q.score_threshold,
        with_payload: with_payload(q.with_payload),
        with_vector: Some(api::WithVector::Enable(q.with_vector)),
        strategy: Some(strategy),
        explain: Some(q.explain),
        ..api::QueryRequest::default()
    })
}

fn matryoshka_params(m: pb::MatryoshkaParams) -> api::MatryoshkaParams {
    api::MatryoshkaParams {
        dim: usize::try_from(m.dim).unwrap_or(usize::MAX),
        oversample: to_usize(m.oversample),
        funnel: m
            .funnel
            .into_iter()
            .map(|s| api::FunnelStage {
                dim: usize::try_from(s.dim).unwrap_or(usize::MAX),
                keep: usize::try_from(s.keep).unwrap_or(usize::MAX),
            })
            .collect(),
        path: (!m.path.is_empty()).then_some(m.path),
    }
}

fn matryoshka_config(m: pb::MatryoshkaConfig) -> api::MatryoshkaConfig {
    api::MatryoshkaConfig {
        dims: m.dims.into_iter().map(|d| usize::try_from(d).unwrap_or(usize::MAX)).collect(),
        renormalise: m.renormalise,
        dtype: (!m.dtype.is_empty()).then_some(m.dtype),
        graph: Some(m.graph),
        pca: Some(m.pca),
        pca_sample: to_usize(m.pca_sample),
        pca_min_points: m.pca_min_points,
    }
}

fn matryoshka_config_out(m: api::MatryoshkaConfig) -> pb::MatryoshkaConfig {
    pb::MatryoshkaConfig {
        dims: m.dims.into_iter().map(|d| d as u64).collect(),
        renormalise: m.renormalise,
        dtype: m.dtype.unwrap_or_default(),
        graph: m.graph.unwrap_or(false),
        pca: m.pca.unwrap_or(false),
        pca_sample: m.pca_sample.map(|x| x as u64),
        pca_min_points: m.pca_min_points,
    }
}

fn matryoshka_info_out(i: api::MatryoshkaInfo) -> pb::MatryoshkaInfo {
    pb::MatryoshkaInfo {
        prefixes: i
            .prefixes
            .into_iter()
            .map(|p| pb::MatryoshkaPrefix {
                dim: p.dim as u64,
                bytes_per_vector: p.bytes_per_vector as u64,
                graph_indexed: p.graph_indexed,
                variance_kept: p.variance_kept,
            })
            .collect(),
        renormalise: i.renormalise,
        dtype: i.dtype,
        pca: i.pca,
        pca_sample: i.pca_sample,
        memory_bytes: i.memory_bytes,
    }
}

/// Matryoshka calibration request.
pub fn calibrate(r: pb::CalibrateMatryoshkaRequest) -> ServiceResult<api::CalibrateRequest> {
    let us = |v: Vec<u64>| v.into_iter().map(|x| usize::try_from(x).unwrap_or(usize::MAX)).collect();
    Ok(api::CalibrateRequest {
        sample: to_usize(r.sample),
        seed: r.seed,
        target_recall: r.target_recall,
        dims: us(r.dims),
        oversamples: us(r.oversamples),
        filter: opt_filter(r.filter)?,
    })
}

fn calibration_row(r: api::CalibrationRow) -> pb::CalibrationRow {
    pb::CalibrationRow {
        dim: r.dim as u64,
        oversample: r.oversample as u64,
        recall: r.recall,
        min_recall: r.min_recall,
        distances: r.distances,
        cost: r.cost,
        micros: r.micros,
    }
}

/// Matryoshka calibration result.
pub fn calibration(r: api::CalibrationReport) -> pb::CalibrateMatryoshkaResponse {
    pb::CalibrateMatryoshkaResponse {
        queries: r.queries as u64,
        k: r.k as u64,
        target_recall: r.target_recall,
        exact: Some(calibration_row(r.exact)),
        rows: r.rows.into_iter().map(calibration_row).collect(),
        recommended: r.recommended.map(calibration_row),
    }
}

/// Scroll.
pub fn scroll(r: pb::ScrollRequest) -> ServiceResult<api::ScrollRequest> {
    Ok(api::ScrollRequest {
        offset: r.offset.map(|o| point_id(Some(o), "offset")).transpose()?,
        limit: (r.limit != 0).then_some(r.limit as usize),
        filter: opt_filter(r.filter)?,
        with_payload: with_payload(r.with_payload),
        with_vector: Some(api::WithVector::Enable(r.with_vector)),
        ..Default::default()
    })
}

/// Count.
pub fn count(r: pb::CountRequest) -> ServiceResult<api::CountRequest> {
    Ok(api::CountRequest { filter: opt_filter(r.filter)?, exact: Some(r.exact) })
}

/// Get points.
pub fn get(r: pb::GetPointsRequest) -> ServiceResult<api::GetPoints> {
    Ok(api::GetPoints {
        ids: ids(r.ids)?,
        with_payload: with_payload(r.with_payload),
        with_vector: Some(api::WithVector::Enable(r.with_vector)),
    })
}

fn distance(d: i32) -> ServiceResult<api::Distance> {
    match pb::Distance::try_from(d) {
        Ok(pb::Distance::Cosine) => Ok(api::Distance::Cosine),
        Ok(pb::Distance::Dot) => Ok(api::Distance::Dot),
        Ok(pb::Distance::Euclid) => Ok(api::Distance::Euclid),
        Ok(pb::Distance::Unspecified) | Err(_) => {
            Err(ServiceError::invalid("distance is required: COSINE, DOT or EUCLID"))
        }
    }
}

fn distance_out(d: api::Distance) -> i32 {
    match d {
        api::Distance::Cosine => pb::Distance::Cosine as i32,
        api::Distance::Dot => pb::Distance::Dot as i32,
        api::Distance::Euclid => pb::Distance::Euclid as i32,
        // Never stored (refused at create).
        api::Distance::Manhattan => pb::Distance::Unspecified as i32,
    }
}

fn to_usize(v: Option<u64>) -> Option<usize> {
    v.map(|x| usize::try_from(x).unwrap_or(usize::MAX))
}

/// Create collection.
fn hnsw_diff(h: pb::HnswConfig) -> api::HnswConfigDiff {
    api::HnswConfigDiff {
        m: to_usize(h.m),
        ef_construct: to_usize(h.ef_construction),
        gamma: to_usize(h.gamma),
        m_beta: to_usize(h.m_beta),
        ..Default::default()
    }
}

fn vector_params(field: &str, v: pb::VectorParams) -> ServiceResult<api::VectorParams> {
    Ok(api::VectorParams {
        size: v.size,
        distance: distance(v.distance).map_err(|e| ServiceError::invalid(format!("{field}.{e}")))?,
        hnsw_config: v.hnsw_config.map(hnsw_diff),
        quantization_config: None,
        on_disk: v.on_disk,
        datatype: None,
        multivector_config: v
            .multivector
            .then_some(api::MultiVectorConfig { comparator: api::MultiVectorComparator::MaxSim }),
    })
}

fn vector_params_out(v: &api::VectorParams) -> pb::VectorParams {
    pb::VectorParams {
        size: v.size,
        distance: distance_out(v.distance),
        hnsw_config: v.hnsw_config.as_ref().map(|h| pb::HnswConfig {
            m: h.m.map(|x| x as u64),
            ef_construction: h.ef_construct.map(|x| x as u64),
            gamma: h.gamma.map(|x| x as u64),
            m_beta: h.m_beta.map(|x| x as u64),
        }),
        on_disk: v.on_disk,
        multivector: v.multivector_config.is_some(),
    }
}

/// Create collection: `vectors` is the unnamed vector, `named_vectors` the named ones (with
/// both, the unnamed one is the name `""` of the map).
pub fn create_collection(r: pb::CreateCollectionRequest) -> ServiceResult<api::CreateCollection> {
    let vectors = match (r.vectors, r.named_vectors.is_empty()) {
        (None, true) if !r.sparse_vectors.is_empty() => api::VectorsConfig::Named(Default::default()),
        (None, true) => return Err(missing("vectors (or named_vectors, or sparse_vectors)")),
        (Some(v), true) => api::VectorsConfig::Single(vector_params("vectors", v)?),
        (unnamed, false) => {
            let mut m = std::collections::BTreeMap::new();
            for (name, v) in r.named_vectors {
                let p = vector_params(&format!("named_vectors[{name:?}]"), v)?;
                m.insert(name, p);
            }
            if let Some(v) = unnamed {
                m.insert(String::new(), vector_params("vectors", v)?);
            }
            api::VectorsConfig::Named(m)
        }
    };
    Ok(api::CreateCollection {
        vectors: Some(vectors),
        hnsw_config: r.hnsw_config.map(hnsw_diff),
        matryoshka: r.matryoshka.map(matryoshka_config),
        sparse_vectors: sparse::params_in(r.sparse_vectors)?,
        ..Default::default()
    })
}

/// Payload schema type.
pub fn schema_type(t: i32) -> ServiceResult<api::PayloadSchemaType> {
    use pb::PayloadSchemaType as P;
    match P::try_from(t) {
        Ok(P::Keyword) => Ok(api::PayloadSchemaType::Keyword),
        Ok(P::Integer) => Ok(api::PayloadSchemaType::Integer),
        Ok(P::Float) => Ok(api::PayloadSchemaType::Float),
        Ok(P::Bool) => Ok(api::PayloadSchemaType::Bool),
        Ok(P::Datetime) => Ok(api::PayloadSchemaType::Datetime),
        Ok(P::Text) => Ok(api::PayloadSchemaType::Text),
        Ok(P::Uuid) => Ok(api::PayloadSchemaType::Uuid),
        Ok(P::Unspecified) | Err(_) => Err(ServiceError::invalid(
            "field_schema is required: KEYWORD, INTEGER, FLOAT, BOOL, DATETIME, TEXT or UUID",
        )),
    }
}

fn schema_type_out(t: api::PayloadSchemaType) -> i32 {
    use pb::PayloadSchemaType as P;
    (match t {
        api::PayloadSchemaType::Keyword => P::Keyword,
        api::PayloadSchemaType::Integer => P::Integer,
        api::PayloadSchemaType::Float => P::Float,
        api::PayloadSchemaType::Bool => P::Bool,
        api::PayloadSchemaType::Datetime => P::Datetime,
        api::PayloadSchemaType::Text => P::Text,
        api::PayloadSchemaType::Uuid => P::Uuid,
    }) as i32
}

/// Collection info.
pub fn collection_info(name: String, i: api::CollectionInfo) -> pb::CollectionInfo {
    let h = &i.config.hnsw_config;
    pb::CollectionInfo {
        name,
        vectors: match &i.config.params.vectors {
            api::VectorsConfig::Single(v) => Some(vector_params_out(v)),
            api::VectorsConfig::Named(_) => None,
        },
        named_vectors: match &i.config.params.vectors {
            api::VectorsConfig::Single(_) => Default::default(),
            api::VectorsConfig::Named(m) => {
                m.iter().map(|(k, v)| (k.clone(), vector_params_out(v))).collect()
            }
        },
        hnsw_config: Some(pb::HnswConfig {
            m: Some(h.m as u64),
            ef_construction: Some(h.ef_construct as u64),
            gamma: Some(h.gamma as u64),
            m_beta: Some(h.m_beta as u64),
        }),
        points_count: i.points_count,
        indexed_vectors_count: i.indexed_vectors_count,
        payload_schema: i
            .payload_schema
            .into_iter()
            .map(|(field_name, p)| pb::PayloadFieldInfo {
                field_name,
                schema: schema_type_out(p.data_type),
                points: p.points,
            })
            .collect(),
        status: i.status,
        sparse_vectors: sparse::params_out(i.config.params.sparse_vectors.as_ref()),
        matryoshka: i.config.matryoshka.map(matryoshka_config_out),
        matryoshka_info: i.matryoshka.map(matryoshka_info_out),
    }
}

/// Write result.
pub fn update(r: api::UpdateResult) -> pb::UpdateResponse {
    let status = match r.status {
        api::UpdateStatus::Completed => "completed",
        api::UpdateStatus::Acknowledged => "acknowledged",
    };
    pb::UpdateResponse {
        result: Some(pb::UpdateResult { operation_id: r.operation_id, status: status.to_owned() }),
    }
}

/// A hit.
pub fn scored(p: api::ScoredPoint) -> pb::ScoredPoint {
    let v = sparse::vectors_out(p.vector);
    pb::ScoredPoint {
        id: Some(point_id_out(p.id)),
        score: p.score,
        payload: p.payload.map(payload_out).unwrap_or_default(),
        vector: v.vector,
        named_vectors: v.named,
        sparse_vectors: v.sparse,
        multi_vectors: v.multi,
    }
}

/// A point's vectors on the wire: the unnamed form in `vector`, the named form in the map.
pub(super) fn vectors_out(v: Option<api::VectorStruct>) -> (Option<pb::Vector>, HashMap<String, pb::Vector>) {
    match v {
        None => (None, HashMap::new()),
        Some(api::VectorStruct::Single(data)) => (Some(pb::Vector { data }), HashMap::new()),
        Some(api::VectorStruct::Named(m)) => {
            (None, m.into_iter().map(|(k, data)| (k, pb::Vector { data })).collect())
        }
        Some(api::VectorStruct::Mixed(_) | api::VectorStruct::MultiDense(_)) => {
            let out = sparse::vectors_out(v);
            (out.vector, out.named)
        }
    }
}

/// A record.
pub fn record(r: api::Record) -> pb::RetrievedPoint {
    let v = sparse::vectors_out(r.vector);
    pb::RetrievedPoint {
        id: Some(point_id_out(r.id)),
        payload: r.payload.map(payload_out).unwrap_or_default(),
        vector: v.vector,
        named_vectors: v.named,
        sparse_vectors: v.sparse,
        multi_vectors: v.multi,
    }
}

/// Explain.
pub fn explain(e: api::ExplainOut) -> pb::Explain {
    pb::Explain {
        path: e.path,
        reason: e.reason,
        live_points: e.live_points,
        allowed_points: e.allowed_points,
        selectivity: e.selectivity,
        ef: e.ef.map(|x| x as u64),
        nodes_visited: e.nodes_visited,
        distances_computed: e.distances_computed,
        unindexed_scanned: e.unindexed_scanned,
        using: e.using,
        filter: e.filter.map(|f| pb::FilterExplain {
            cardinality: f.cardinality,
            indexed_fields: f.indexed_fields,
            unindexed_fields: f.unindexed_fields,
            payloads_scanned: f.payloads_scanned,
            micros: f.micros,
        }),
        matryoshka: e
            .matryoshka
            .into_iter()
            .map(|s| pb::MatryoshkaStage {
                dim: s.dim as u64,
                path: s.path,
                candidates_in: s.candidates_in,
                kept: s.kept,
                distances_computed: s.distances_computed,
            })
            .collect(),
        sparse: e.sparse.map(|s| pb::SparseExplain {
            path: s.path,
            query_dims: s.query_dims,
            postings_read: s.postings_read,
            candidates_scored: s.candidates_scored,
            idf: s.idf,
        }),
    }
}

/// Snapshot.
pub fn snapshot(s: api::SnapshotDescription) -> pb::SnapshotDescription {
    pb::SnapshotDescription { name: s.name, creation_time: s.creation_time.unwrap_or_default(), size: s.size }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_filter_becomes_qdrant_json() {
        let cond = |kind| pb::Condition { kind: Some(kind) };
        let f = pb::Filter {
            must: vec![
                cond(pb::condition::Kind::Field(Box::new(pb::FieldCondition {
                    key: "cat".into(),
                    r#match: Some(pb::Match { kind: Some(pb::r#match::Kind::Keyword("a".into())) }),
                    ..Default::default()
                }))),
                cond(pb::condition::Kind::Field(Box::new(pb::FieldCondition {
                    key: "year".into(),
                    range: Some(pb::Range { gte: Some(2019.0), lt: Some(2022.0), ..Default::default() }),
                    ..Default::default()
                }))),
            ],
            should: vec![],
            must_not: vec![cond(pb::condition::Kind::HasId(pb::HasIdCondition {
                has_id: vec![point_id_out(api::PointId::Num(3))],
            }))],
        };
        let j = filter(f).expect("converts");
        assert_eq!(
            j,
            json!({"must": [{"key": "cat", "match": {"value": "a"}}, {"key": "year", "range": {"gte": 2019.0, "lt": 2022.0}}],
                   "must_not": [{"has_id": [3]}]})
        );
    }

    #[test]
    fn non_finite_range_bounds_are_refused_not_dropped() {
        // Regression: json!(f64::INFINITY) is null, which the filter parser read as "no bound",
        // so Delete(price > +inf) deleted every point.
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            let f = pb::Filter {
                must: vec![pb::Condition {
                    kind: Some(pb::condition::Kind::Field(Box::new(pb::FieldCondition {
                        key: "price".into(),
                        range: Some(pb::Range { gt: Some(bad), ..Default::default() }),
                        ..Default::default()
                    }))),
                }],
                should: vec![],
                must_not: vec![],
            };
            let err = filter(f).expect_err("a non-finite bound is an error");
            assert!(err.to_string().contains("range.gt"), "{err}");
        }
    }

    #[test]
    fn payload_values_round_trip_with_integers_kept() {
        let p: api::Payload = serde_json::from_value(
            json!({"i": 3, "f": 1.5, "s": "x", "b": true, "n": null, "l": [1, "a"], "o": {"k": 2}}),
        )
        .expect("json");
        let back = payload(payload_out(p.clone())).expect("back");
        assert_eq!(back, p);
    }
}
