//! The operations: API types in, storage calls on the right pool, API types out.
//!
//! This module is the only code that touches `grove_storage`; the conversions between the
//! Qdrant-shaped API types and storage's types live here too.

use std::collections::BTreeMap;
use std::path::Path;

use grove_index::{Metric, Strategy};
use grove_storage as st;
use tokio_stream::wrappers::ReceiverStream;

use super::limits::{check_batch, check_calibration, check_filter, check_points, check_query, DEFAULT_LIMIT};
use super::{Service, ServiceError, ServiceResult, Store};
use crate::api;
use crate::config::LimitsConfig;
use crate::operations::Op;

/// Opens the data directory.
pub(super) fn open(dir: &Path) -> ServiceResult<Store> {
    Ok(st::Storage::open(dir)?)
}

/// Flushes memtables and graphs.
pub(super) fn flush(store: &Store) -> ServiceResult<()> {
    Ok(store.flush()?)
}

/// (name, live points, indexed points) of every collection, for the metrics gauges.
pub(super) fn collection_stats(store: &Store) -> Vec<(String, u64, u64)> {
    store
        .list_collections()
        .into_iter()
        .filter_map(|name| {
            let info = store.collection_info(&name).ok()?;
            Some((name, info.points_count, info.indexing.indexed_points))
        })
        .collect()
}

pub(super) fn id_in(id: api::PointId) -> ServiceResult<st::PointId> {
    match id {
        api::PointId::Num(n) => Ok(st::PointId::Num(n)),
        api::PointId::Uuid(s) => uuid::Uuid::parse_str(&s).map(st::PointId::Uuid).map_err(|_| {
            ServiceError::invalid(format!("point id `{s}` is neither an unsigned integer nor a UUID"))
        }),
    }
}

pub(super) fn id_out(id: st::PointId) -> api::PointId {
    match id {
        st::PointId::Num(n) => api::PointId::Num(n),
        st::PointId::Uuid(u) => api::PointId::Uuid(u.hyphenated().to_string()),
    }
}

pub(super) fn ids_in(ids: Vec<api::PointId>) -> ServiceResult<Vec<st::PointId>> {
    ids.into_iter().map(id_in).collect()
}

/// Parses a JSON filter into storage's typed AST and validates it: the one place filters are
/// checked, for both transports.
pub(super) fn filter_in(
    f: Option<serde_json::Value>,
    limits: &LimitsConfig,
) -> ServiceResult<Option<st::Filter>> {
    let Some(json) = f else { return Ok(None) };
    if json.is_null() {
        return Ok(None);
    }
    check_filter(Some(&json), limits)?;
    let filter: st::Filter =
        serde_json::from_value(json).map_err(|e| ServiceError::invalid(format!("invalid filter: {e}")))?;
    // A filter that parses but breaks a rule (a condition without a clause, a bad geo shape,
    // an unsatisfiable min_should) is a validation error: 422, as Qdrant answers it.
    filter
        .validate()
        .map_err(|e| ServiceError::Unprocessable(format!("Validation error in JSON body: {e}")))?;
    Ok(Some(filter))
}

fn selector_in(s: api::PointsSelector, limits: &LimitsConfig) -> ServiceResult<st::PointSelector> {
    match (s.points, s.filter) {
        (Some(points), None) => {
            check_points(points.len(), limits)?;
            Ok(st::PointSelector::Ids { points: ids_in(points)? })
        }
        (None, Some(filter)) => match filter_in(Some(filter), limits)? {
            Some(filter) => Ok(st::PointSelector::Filter { filter }),
            None => Err(ServiceError::invalid("`filter` must be an object")),
        },
        (Some(_), Some(_)) => Err(ServiceError::invalid("give either `points` or `filter`, not both")),
        (None, None) => Err(ServiceError::invalid("give `points` (ids) or `filter` to select the points")),
    }
}

fn points_or_filter(
    points: Option<Vec<api::PointId>>,
    filter: Option<serde_json::Value>,
    limits: &LimitsConfig,
) -> ServiceResult<st::PointSelector> {
    selector_in(api::PointsSelector { points, filter }, limits)
}

/// Storage's selector for an API selector; `Exclude` is applied afterwards by the caller.
pub(super) fn with_payload_in(w: &api::WithPayload) -> st::WithPayload {
    match w {
        api::WithPayload::Enable(b) => st::WithPayload::All(*b),
        api::WithPayload::Fields(f) | api::WithPayload::Selector(api::PayloadSelector::Include(f)) => {
            st::WithPayload::Include(f.clone())
        }
        api::WithPayload::Selector(api::PayloadSelector::Exclude(_)) => st::WithPayload::All(true),
    }
}

fn post_payload(w: &api::WithPayload, p: Option<api::Payload>) -> Option<api::Payload> {
    match w {
        api::WithPayload::Selector(api::PayloadSelector::Exclude(_)) => p.and_then(|p| w.apply(p)),
        _ => p,
    }
}

/// A stored record's vectors in the form the collection was declared in (see
/// [`vectors_with_sparse_out`]).
pub(crate) fn record_vectors_out(r: &st::Record) -> Option<api::VectorStruct> {
    vectors_with_sparse_out(r.vector.clone(), r.vectors.clone(), r.sparse.clone(), r.multi.clone())
}

/// A record's vectors in the form the collection was declared in. Collections that declare
/// sparse vectors or multi-vectors answer the mixed named form (`{"dense": [..], "text":
/// {"indices", "values"}, "colbert": [[..], ..]}`), except an unnamed multi-vector alone, which
/// is its array of rows.
pub(crate) fn vectors_with_sparse_out(
    vector: Option<Vec<f32>>,
    vectors: Option<st::NamedVectors>,
    sparse: Option<st::SparseVectors>,
    multi: Option<st::MultiVectors>,
) -> Option<api::VectorStruct> {
    let mut multi = multi;
    if vectors.is_none() && sparse.is_none() && vector.is_none() {
        if let Some(rows) = multi.as_mut().and_then(|m| m.remove("")) {
            return Some(api::VectorStruct::MultiDense(rows));
        }
    }
    if sparse.is_some() || multi.is_some() {
        let mut m: BTreeMap<String, api::VectorValue> =
            vectors.unwrap_or_default().into_iter().map(|(k, v)| (k, api::VectorValue::Dense(v))).collect();
        if let Some(v) = vector {
            m.insert(String::new(), api::VectorValue::Dense(v));
        }
        m.extend(
            sparse
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, api::VectorValue::Sparse(super::sparse::vector_out(v)))),
        );
        m.extend(multi.unwrap_or_default().into_iter().map(|(k, v)| (k, api::VectorValue::MultiDense(v))));
        // A point holding only the unnamed dense vector answers the plain array, as Qdrant
        // does (its sparse or multi-vector names are declared but this point has none).
        if m.len() == 1 {
            if let Some(api::VectorValue::Dense(v)) = m.get("") {
                return Some(api::VectorStruct::Single(v.clone()));
            }
        }
        return Some(api::VectorStruct::Mixed(m));
    }
    match (vector, vectors) {
        (_, Some(m)) => Some(api::VectorStruct::Named(m)),
        (Some(v), None) => Some(api::VectorStruct::Single(v)),
        (None, None) => None,
    }
}

fn record_out(r: st::Record, w: &api::WithPayload) -> api::Record {
    api::Record {
        id: id_out(r.id),
        payload: post_payload(w, r.payload),
        vector: vectors_with_sparse_out(r.vector, r.vectors, r.sparse, r.multi),
        order_value: None,
    }
}

/// A scroll's `order_by` as storage's (`start_from`: a number or an RFC 3339 string).
fn scroll_order_in(o: &crate::api_query::OrderBy) -> ServiceResult<st::ScrollOrder> {
    let start_from = match &o.start_from {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => n.as_f64().map(st::filter::RangeBound::Number),
        Some(serde_json::Value::String(s)) => {
            if st::filter::parse_rfc3339(s).is_none() {
                return Err(ServiceError::invalid(format!(
                    "order_by.start_from: {s:?} is neither a number nor an RFC 3339 datetime"
                )));
            }
            Some(st::filter::RangeBound::Datetime(s.clone()))
        }
        Some(v) => {
            return Err(ServiceError::invalid(format!(
                "order_by.start_from must be a number or an RFC 3339 datetime, got {v}"
            )))
        }
    };
    Ok(st::ScrollOrder {
        key: o.key.clone(),
        desc: o.direction == Some(crate::api_query::Direction::Desc),
        start_from,
    })
}

fn update_out(r: st::UpdateResult) -> api::UpdateResult {
    api::UpdateResult {
        operation_id: r.operation_id,
        status: match r.status {
            st::UpdateStatus::Completed => api::UpdateStatus::Completed,
        },
    }
}

fn schema_in(t: api::PayloadSchemaType) -> st::PayloadSchemaType {
    match t {
        api::PayloadSchemaType::Keyword => st::PayloadSchemaType::Keyword,
        api::PayloadSchemaType::Integer => st::PayloadSchemaType::Integer,
        api::PayloadSchemaType::Float => st::PayloadSchemaType::Float,
        api::PayloadSchemaType::Bool => st::PayloadSchemaType::Bool,
        api::PayloadSchemaType::Datetime => st::PayloadSchemaType::Datetime,
        api::PayloadSchemaType::Text => st::PayloadSchemaType::Text,
        api::PayloadSchemaType::Uuid => st::PayloadSchemaType::Uuid,
    }
}

/// A text index's wire parameters as storage's (unknown tokenizers and stopword shapes: 400).
fn text_params_in(t: &api::TextIndexParams) -> ServiceResult<st::text_index::TextIndexParams> {
    use st::text_index::{Stopwords, Tokenizer};
    let tokenizer = match t.tokenizer.as_deref() {
        None | Some("word") => Tokenizer::Word,
        Some("whitespace") => Tokenizer::Whitespace,
        Some("prefix") => Tokenizer::Prefix,
        Some("multilingual") => Tokenizer::Multilingual,
        Some(other) => {
            return Err(ServiceError::invalid(format!(
                "text index: unknown tokenizer {other:?}; use word, whitespace, prefix or multilingual"
            )))
        }
    };
    let bad_stopwords = || {
        ServiceError::invalid(
            "text index: stopwords is a language name (\"english\") or {\"languages\": [..], \"custom\": [..]}",
        )
    };
    let stopwords = match &t.stopwords {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(lang)) => {
            Some(Stopwords { languages: vec![lang.clone()], custom: vec![] })
        }
        Some(v @ serde_json::Value::Object(_)) => {
            Some(serde_json::from_value::<Stopwords>(v.clone()).map_err(|_| bad_stopwords())?)
        }
        Some(_) => return Err(bad_stopwords()),
    };
    let p = st::text_index::TextIndexParams {
        tokenizer,
        lowercase: t.lowercase,
        min_token_len: t.min_token_len,
        max_token_len: t.max_token_len,
        stopwords,
        phrase_matching: t.phrase_matching,
    };
    p.analyzer()?;
    Ok(p)
}

/// A text index's parameters in Qdrant's `TextIndexParams` shape.
fn text_params_out(t: &st::text_index::TextIndexParams) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), "text".into());
    let tok = match t.tokenizer {
        st::text_index::Tokenizer::Word => "word",
        st::text_index::Tokenizer::Whitespace => "whitespace",
        st::text_index::Tokenizer::Prefix => "prefix",
        st::text_index::Tokenizer::Multilingual => "multilingual",
    };
    m.insert("tokenizer".into(), tok.into());
    if let Some(x) = t.min_token_len {
        m.insert("min_token_len".into(), x.into());
    }
    if let Some(x) = t.max_token_len {
        m.insert("max_token_len".into(), x.into());
    }
    if let Some(x) = t.lowercase {
        m.insert("lowercase".into(), x.into());
    }
    if let Some(x) = t.phrase_matching {
        m.insert("phrase_matching".into(), x.into());
    }
    if let Some(sw) = &t.stopwords {
        m.insert("stopwords".into(), serde_json::json!({"languages": sw.languages, "custom": sw.custom}));
    }
    serde_json::Value::Object(m)
}

fn schema_out(t: st::PayloadSchemaType) -> api::PayloadSchemaType {
    match t {
        st::PayloadSchemaType::Keyword => api::PayloadSchemaType::Keyword,
        st::PayloadSchemaType::Integer => api::PayloadSchemaType::Integer,
        st::PayloadSchemaType::Float => api::PayloadSchemaType::Float,
        st::PayloadSchemaType::Bool => api::PayloadSchemaType::Bool,
        st::PayloadSchemaType::Datetime => api::PayloadSchemaType::Datetime,
        st::PayloadSchemaType::Text => api::PayloadSchemaType::Text,
        st::PayloadSchemaType::Uuid => api::PayloadSchemaType::Uuid,
    }
}

fn metric_in(field: &str, d: api::Distance) -> ServiceResult<Metric> {
    Ok(match d {
        api::Distance::Cosine => Metric::Cosine,
        api::Distance::Dot => Metric::Dot,
        api::Distance::Euclid => Metric::L2,
        api::Distance::Manhattan => {
            return Err(ServiceError::invalid(format!(
            "{field}.distance: Manhattan is not supported by Grove's engine yet; use Cosine, Dot or Euclid"
        )))
        }
    })
}

fn metric_out(m: Metric) -> api::Distance {
    match m {
        Metric::Cosine => api::Distance::Cosine,
        Metric::Dot => api::Distance::Dot,
        Metric::L2 => api::Distance::Euclid,
    }
}

fn dtype_in(d: Option<&str>) -> ServiceResult<grove_index::matryoshka::PrefixDtype> {
    use grove_index::matryoshka::PrefixDtype;
    Ok(match d {
        None | Some("f32") => PrefixDtype::F32,
        Some("f16") => PrefixDtype::F16,
        Some("i8") => PrefixDtype::I8,
        Some(other) => {
            return Err(ServiceError::invalid(format!(
                "matryoshka.dtype {other:?} is not one of \"f32\", \"f16\", \"i8\""
            )))
        }
    })
}

fn matryoshka_in(m: api::MatryoshkaConfig, config: &mut st::CollectionConfig) -> ServiceResult<()> {
    let d = st::MatryoshkaSettings::default();
    config.matryoshka_dims = m.dims;
    config.matryoshka = st::MatryoshkaSettings {
        renormalise: m.renormalise,
        dtype: dtype_in(m.dtype.as_deref())?,
        graph: m.graph.unwrap_or(d.graph),
        pca: m.pca.unwrap_or(d.pca),
        pca_sample: m.pca_sample.unwrap_or(d.pca_sample),
        pca_min_points: m.pca_min_points.unwrap_or(d.pca_min_points),
    };
    Ok(())
}

fn matryoshka_config_out(c: &st::CollectionConfig) -> Option<api::MatryoshkaConfig> {
    if c.matryoshka_dims.is_empty() {
        return None;
    }
    let m = &c.matryoshka;
    Some(api::MatryoshkaConfig {
        dims: c.matryoshka_dims.clone(),
        renormalise: m.renormalise,
        dtype: Some(m.dtype.as_str().to_owned()),
        graph: Some(m.graph),
        pca: Some(m.pca),
        pca_sample: Some(m.pca_sample),
        pca_min_points: Some(m.pca_min_points),
    })
}

fn matryoshka_info_out(i: grove_index::matryoshka::MatryoshkaInfo) -> api::MatryoshkaInfo {
    api::MatryoshkaInfo {
        prefixes: i
            .prefixes
            .into_iter()
            .map(|p| api::MatryoshkaPrefixOut {
                dim: p.dim,
                bytes_per_vector: p.bytes_per_vector,
                graph_indexed: p.graph_indexed,
                variance_kept: p.variance_kept,
            })
            .collect(),
        renormalise: i.renormalise,
        dtype: i.dtype.as_str().to_owned(),
        pca: i.pca,
        pca_sample: i.pca_sample,
        memory_bytes: i.memory_bytes,
    }
}

/// `params.matryoshka` into the engine's query; shape errors name the field (the engine
/// checks the dimensions against the declaration).
pub(super) fn matryoshka_query_in(m: api::MatryoshkaParams) -> ServiceResult<grove_index::MatryoshkaQuery> {
    use grove_index::matryoshka::{FunnelStage, PrefixPath};
    let path = match m.path.as_deref() {
        None | Some("auto") => PrefixPath::Auto,
        Some("scan") => PrefixPath::Scan,
        Some("graph") => PrefixPath::Graph,
        Some(other) => {
            return Err(ServiceError::invalid(format!(
                "params.matryoshka.path {other:?} is not one of \"auto\", \"scan\", \"graph\""
            )))
        }
    };
    Ok(grove_index::MatryoshkaQuery {
        dim: m.dim,
        oversample: m.oversample.unwrap_or(4),
        funnel: m.funnel.into_iter().map(|s| FunnelStage { dim: s.dim, keep: s.keep }).collect(),
        path,
    })
}

fn calibration_row_out(r: grove_index::matryoshka::CalibrationRow) -> api::CalibrationRow {
    api::CalibrationRow {
        dim: r.dim,
        oversample: r.oversample,
        recall: r.recall,
        min_recall: r.min_recall,
        distances: r.distances,
        cost: r.cost,
        micros: r.micros,
    }
}

fn calibration_out(r: grove_index::matryoshka::CalibrationReport) -> api::CalibrationReport {
    api::CalibrationReport {
        queries: r.queries,
        k: r.k,
        target_recall: r.target_recall,
        exact: calibration_row_out(r.exact),
        rows: r.rows.into_iter().map(calibration_row_out).collect(),
        recommended: r.recommended.map(calibration_row_out),
    }
}

/// Qdrant's 422 for a value outside its documented range (the same words Qdrant uses, so
/// clients that match on them keep working), naming the field and the bound.
fn out_of_range(field: &str, value: impl std::fmt::Display, bound: &str) -> ServiceError {
    ServiceError::Unprocessable(format!(
        "Validation error in JSON body: [{field}: value {value} invalid, must be {bound}]"
    ))
}

fn at_least(field: &str, v: Option<u64>, min: u64) -> ServiceResult<()> {
    match v {
        Some(x) if x < min => Err(out_of_range(field, x, &format!("{min} or larger"))),
        _ => Ok(()),
    }
}

/// A typed value as the JSON stored for it (unset fields omitted, so info returns what was
/// declared).
fn to_json<T: serde::Serialize>(v: &T) -> ServiceResult<serde_json::Value> {
    serde_json::to_value(v).map_err(ServiceError::internal)
}

fn from_json<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

/// Merges the set keys of `diff` (a JSON object) into the object stored under `key`.
fn merge_stored(stored: &mut serde_json::Map<String, serde_json::Value>, key: &str, diff: serde_json::Value) {
    let serde_json::Value::Object(d) = diff else { return };
    let slot = stored.entry(key.to_owned()).or_insert_with(|| serde_json::json!({}));
    if let serde_json::Value::Object(m) = slot {
        for (k, v) in d {
            if !v.is_null() {
                m.insert(k, v);
            }
        }
    }
}

fn check_hnsw(prefix: &str, h: &api::HnswConfigDiff) -> ServiceResult<()> {
    at_least(&format!("{prefix}hnsw_config.ef_construct"), h.ef_construct.map(|x| x as u64), 4)?;
    at_least(&format!("{prefix}hnsw_config.full_scan_threshold"), h.full_scan_threshold.map(|x| x as u64), 10)
}

fn check_quantization(field: &str, q: &api::QuantizationConfig) -> ServiceResult<()> {
    if let api::QuantizationConfig::Scalar(s) = q {
        if let Some(x) = s.quantile {
            if !(0.5..=1.0).contains(&x) {
                return Err(out_of_range(&format!("{field}.scalar.quantile"), x, "in range 0.5..=1"));
            }
        }
    }
    Ok(())
}

fn check_optimizers(o: &api::OptimizersConfigDiff) -> ServiceResult<()> {
    if let Some(x) = o.deleted_threshold {
        if !(0.0..=1.0).contains(&x) {
            return Err(out_of_range("optimizers_config.deleted_threshold", x, "in range 0..=1"));
        }
    }
    at_least("optimizers_config.vacuum_min_vector_number", o.vacuum_min_vector_number, 100)?;
    at_least("optimizers_config.max_segment_size", o.max_segment_size, 1)
}

/// The graph parameters `diff` asks for over `base` (`m = 0`, Qdrant's "no graph", keeps
/// Grove's graph: it is listed as having no effect).
fn hnsw_over(base: st::HnswConfig, diff: &api::HnswConfigDiff) -> st::HnswConfig {
    st::HnswConfig {
        m: diff.m.filter(|m| *m > 0).unwrap_or(base.m),
        ef_construction: diff.ef_construct.unwrap_or(base.ef_construction),
    }
}

fn datatype_in(d: Option<api::Datatype>) -> st::VectorDatatype {
    match d {
        None | Some(api::Datatype::Float32) => st::VectorDatatype::Float32,
        Some(api::Datatype::Float16) => st::VectorDatatype::Float16,
        Some(api::Datatype::Uint8) => st::VectorDatatype::Uint8,
        Some(api::Datatype::Turbo4) => st::VectorDatatype::Turbo4,
    }
}

fn datatype_out(d: st::VectorDatatype) -> Option<api::Datatype> {
    match d {
        st::VectorDatatype::Float32 => None,
        st::VectorDatatype::Float16 => Some(api::Datatype::Float16),
        st::VectorDatatype::Uint8 => Some(api::Datatype::Uint8),
        st::VectorDatatype::Turbo4 => Some(api::Datatype::Turbo4),
    }
}

fn vector_in(field: &str, p: api::VectorParams) -> ServiceResult<st::VectorConfig> {
    let size =
        usize::try_from(p.size).map_err(|_| ServiceError::invalid(format!("{field}.size is too large")))?;
    if size == 0 || size > 65_536 {
        return Err(out_of_range(&format!("{field}.size"), size, "from 1 to 65536"));
    }
    let mut v = st::VectorConfig::new(size, metric_in(field, p.distance)?);
    if let Some(h) = &p.hnsw_config {
        check_hnsw(&format!("{field}."), h)?;
        v.stored.insert("hnsw_config".into(), to_json(h)?);
    }
    if let Some(q) = &p.quantization_config {
        check_quantization(&format!("{field}.quantization_config"), q)?;
        v.quantization = Some(to_json(q)?);
    }
    if let Some(api::MultiVectorConfig { comparator: api::MultiVectorComparator::MaxSim }) =
        p.multivector_config
    {
        v.multivector = Some(st::MultiVectorConfig::max_sim(size));
    }
    v.on_disk = p.on_disk;
    v.datatype = datatype_in(p.datatype);
    Ok(v)
}

/// Recomputes the graph parameters that act from the stored diffs: the collection's over the
/// defaults, each vector's over the collection's, ACORN's from both.
fn apply_hnsw(config: &mut st::CollectionConfig) {
    let diff_of = |m: &serde_json::Map<String, serde_json::Value>| -> api::HnswConfigDiff {
        m.get("hnsw_config").and_then(from_json).unwrap_or_default()
    };
    let coll = diff_of(&config.stored);
    config.hnsw = hnsw_over(st::HnswConfig::default(), &coll);
    let mut acorn = st::AcornConfig::default();
    let mut layer_acorn = |d: &api::HnswConfigDiff| {
        if let Some(g) = d.gamma {
            acorn.gamma = g;
        }
        if let Some(mb) = d.m_beta {
            acorn.m_beta = mb;
        }
    };
    layer_acorn(&coll);
    let base = config.hnsw;
    for v in config.vectors.values_mut() {
        let d = diff_of(&v.stored);
        layer_acorn(&d);
        v.hnsw = (d.m.is_some_and(|m| m > 0) || d.ef_construct.is_some()).then(|| hnsw_over(base, &d));
    }
    config.acorn = acorn;
}

fn collection_config_in(req: api::CreateCollection) -> ServiceResult<st::CollectionConfig> {
    let (vectors, named_form) = match req.vectors {
        Some(api::VectorsConfig::Single(p)) => {
            (BTreeMap::from([(String::new(), vector_in("vectors", p)?)]), false)
        }
        Some(api::VectorsConfig::Named(m)) => {
            let mut out = BTreeMap::new();
            for (name, p) in m {
                out.insert(name.clone(), vector_in(&format!("vectors.{name}"), p)?);
            }
            (out, true)
        }
        None => (BTreeMap::new(), true),
    };
    let sparse = super::sparse::config_in(req.sparse_vectors.clone().unwrap_or_default())?;
    if vectors.is_empty() && sparse.is_empty() {
        return Err(ServiceError::invalid(
            "vectors: declare at least one vector: {\"size\": n, \"distance\": \"Cosine\"}, a map of names, \
             or sparse_vectors",
        ));
    }
    let mut config = st::CollectionConfig::with_vectors(vectors, named_form);
    config.sparse_vectors = sparse;
    if let Some(m) = req.matryoshka {
        matryoshka_in(m, &mut config)?;
    }
    for (field, v) in [
        ("shard_number", req.shard_number),
        ("replication_factor", req.replication_factor),
        ("write_consistency_factor", req.write_consistency_factor),
    ] {
        at_least(field, v.map(u64::from), 1)?;
        if let Some(v) = v {
            config.stored.insert(field.into(), v.into());
        }
    }
    if let Some(m) = req.sharding_method {
        config.stored.insert("sharding_method".into(), to_json(&m)?);
    }
    if let Some(b) = req.on_disk_payload {
        config.stored.insert("on_disk_payload".into(), b.into());
    }
    if let Some(h) = &req.hnsw_config {
        check_hnsw("", h)?;
        config.stored.insert("hnsw_config".into(), to_json(h)?);
    }
    if let Some(w) = &req.wal_config {
        at_least("wal_config.wal_capacity_mb", w.wal_capacity_mb, 1)?;
        merge_stored(&mut config.stored, "wal_config", to_json(w)?);
    }
    if let Some(o) = &req.optimizers_config {
        check_optimizers(o)?;
        merge_stored(&mut config.stored, "optimizers_config", to_json(o)?);
        if let Some(t) = o.deleted_threshold.filter(|t| *t > 0.0) {
            config.tombstone_rebuild_ratio = t;
        }
    }
    if let Some(q) = &req.quantization_config {
        check_quantization("quantization_config", q)?;
        config.quantization = Some(to_json(q)?);
    }
    for (key, v) in [
        ("strict_mode_config", req.strict_mode_config),
        ("metadata", req.metadata.map(serde_json::Value::Object)),
        ("init_from", req.init_from),
        ("payload", req.payload),
    ] {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            config.stored.insert(key.into(), v);
        }
    }
    if !req.unknown.is_empty() {
        config.stored.insert("unknown".into(), serde_json::Value::Object(req.unknown.into_iter().collect()));
    }
    apply_hnsw(&mut config);
    Ok(config)
}

/// `PATCH /collections/{name}` applied to the current config (validated as the create body is).
fn collection_update_in(
    cur: &st::CollectionConfig,
    req: &api::UpdateCollection,
) -> ServiceResult<st::CollectionConfig> {
    let mut config = cur.clone();
    if let Some(vs) = &req.vectors {
        for (name, d) in vs {
            let known = config.vector_names();
            let field = format!("vectors.{name:?}");
            let Some(v) = config.vectors.get_mut(name) else {
                return Err(ServiceError::invalid(format!(
                    "{field}: the collection has no vector named {name:?}; its vectors are: {known}"
                )));
            };
            if let Some(h) = &d.hnsw_config {
                check_hnsw(&format!("{field}."), h)?;
                merge_stored(&mut v.stored, "hnsw_config", to_json(h)?);
            }
            match &d.quantization_config {
                Some(api::QuantizationConfigDiff::Config(q)) => {
                    check_quantization(&format!("{field}.quantization_config"), q)?;
                    v.quantization = Some(to_json(q)?);
                }
                Some(api::QuantizationConfigDiff::Disabled(_)) => v.quantization = None,
                None => {}
            }
            if let Some(b) = d.on_disk {
                v.on_disk = Some(b);
            }
        }
    }
    if let Some(h) = &req.hnsw_config {
        check_hnsw("", h)?;
        merge_stored(&mut config.stored, "hnsw_config", to_json(h)?);
    }
    if let Some(o) = &req.optimizers_config {
        check_optimizers(o)?;
        merge_stored(&mut config.stored, "optimizers_config", to_json(o)?);
        if let Some(t) = o.deleted_threshold.filter(|t| *t > 0.0) {
            config.tombstone_rebuild_ratio = t;
        }
    }
    if let Some(p) = &req.params {
        at_least("params.replication_factor", p.replication_factor.map(u64::from), 1)?;
        at_least("params.write_consistency_factor", p.write_consistency_factor.map(u64::from), 1)?;
        if let serde_json::Value::Object(m) = to_json(p)? {
            for (k, v) in m {
                config.stored.insert(k, v);
            }
        }
    }
    match &req.quantization_config {
        Some(api::QuantizationConfigDiff::Config(q)) => {
            check_quantization("quantization_config", q)?;
            config.quantization = Some(to_json(q)?);
        }
        Some(api::QuantizationConfigDiff::Disabled(_)) => config.quantization = None,
        None => {}
    }
    if let Some(s) = &req.sparse_vectors {
        super::sparse::update_in(&mut config, s)?;
    }
    if let Some(sm) = &req.strict_mode_config {
        merge_stored(&mut config.stored, "strict_mode_config", sm.clone());
    }
    if let Some(md) = &req.metadata {
        merge_stored(&mut config.stored, "metadata", serde_json::Value::Object(md.clone()));
    }
    if !req.unknown.is_empty() {
        merge_stored(
            &mut config.stored,
            "unknown",
            serde_json::Value::Object(req.unknown.clone().into_iter().collect()),
        );
    }
    apply_hnsw(&mut config);
    Ok(config)
}

/// The declared settings that have no effect in Grove, one line each: what collection info
/// lists as `grove_settings_without_effect`.
fn settings_without_effect(c: &st::CollectionConfig) -> Vec<String> {
    let mut out = Vec::new();
    let s = &c.stored;
    let u64_of = |k: &str| s.get(k).and_then(serde_json::Value::as_u64);
    for (k, why) in [
        ("shard_number", "a Grove node keeps each collection in one shard"),
        ("replication_factor", "Grove runs on one node: there are no replicas"),
        ("write_consistency_factor", "Grove runs on one node: a write is acknowledged once durable"),
        ("read_fan_out_factor", "Grove runs on one node"),
        ("read_fan_out_delay_ms", "Grove runs on one node"),
    ] {
        if let Some(v) = u64_of(k).filter(|v| *v != 1 || k.starts_with("read_")) {
            out.push(format!("{k} = {v}: {why}"));
        }
    }
    if s.get("sharding_method").and_then(serde_json::Value::as_str) == Some("custom") {
        out.push("sharding_method = custom: shard keys are not supported; points go to the one shard".into());
    }
    if s.get("on_disk_payload") == Some(&serde_json::Value::Bool(false)) {
        out.push("on_disk_payload = false: payloads live in RocksDB (on disk, cached) either way".into());
    }
    let hnsw_extras = |prefix: &str,
                       m: &serde_json::Map<String, serde_json::Value>,
                       out: &mut Vec<String>| {
        let Some(serde_json::Value::Object(h)) = m.get("hnsw_config") else { return };
        for (k, v) in h {
            let why = match k.as_str() {
                "m" if v.as_u64() == Some(0) => {
                    "Grove keeps its graph; the planner scans exactly where that is faster"
                }
                "full_scan_threshold" => "the planner picks exact scans from the filter's exact cardinality",
                "max_indexing_threads" => "graph building uses the server's build threads",
                "on_disk" if v.as_bool() == Some(true) => "graphs are held in memory",
                "payload_m" => "no per-payload graphs are built; ACORN serves restrictive filters",
                "inline_storage" | "memory" => "graphs are held in memory",
                _ => continue,
            };
            out.push(format!("{prefix}hnsw_config.{k} = {v}: {why}"));
        }
    };
    hnsw_extras("", s, &mut out);
    if let Some(serde_json::Value::Object(w)) = s.get("wal_config") {
        if !w.is_empty() {
            out.push("wal_config: Grove's WAL is RocksDB's, synced before every acknowledgement".into());
        }
    }
    if let Some(serde_json::Value::Object(o)) = s.get("optimizers_config") {
        for (k, v) in o {
            if k == "deleted_threshold" && v.as_f64().is_some_and(|t| t > 0.0) {
                continue;
            }
            out.push(format!(
                "optimizers_config.{k} = {v}: Grove indexes continuously into one segment \
                 (deleted_threshold > 0 acts: it is the tombstone rebuild ratio)"
            ));
        }
    }
    if let grove_storage::quantization::QuantizationEffect::NoEffect(why) =
        grove_storage::quantization::effect(c.quantization.as_ref())
    {
        out.push(format!("quantization_config: {why}"));
    }
    for (name, v) in &c.vectors {
        let p = format!("vectors.{name:?}.");
        hnsw_extras(&p, &v.stored, &mut out);
        if let grove_storage::quantization::QuantizationEffect::NoEffect(why) =
            grove_storage::quantization::effect(v.quantization.as_ref())
        {
            out.push(format!("{p}quantization_config: {why}"));
        }
        if v.on_disk == Some(true) {
            out.push(format!("{p}on_disk = true: vectors are held in memory"));
        }
        if let Some(d) = datatype_out(v.datatype) {
            out.push(format!("{p}datatype = {d:?}: vectors are stored as float32"));
        }
        if v.multivector.is_none() && v.stored.contains_key("multivector_config") {
            out.push(format!(
                "{p}multivector_config: stored by a Grove that predates multi-vectors; this collection's points carry one vector per name (recreate it to store matrices)"
            ));
        }
    }
    super::sparse::settings_without_effect(c, &mut out);
    for (k, why) in [
        (
            "sparse_vectors",
            "stored when declared before Grove served sparse vectors; recreate the collection to search them",
        ),
        ("strict_mode_config", "stored; Grove's limits are the server's [limits] config"),
        ("init_from", "stored; nothing was copied (copy a collection with a snapshot)"),
        ("payload", "stored; payloads live in RocksDB"),
    ] {
        if s.contains_key(k) {
            out.push(format!("{k}: {why}"));
        }
    }
    if let Some(serde_json::Value::Object(u)) = s.get("unknown") {
        for k in u.keys() {
            out.push(format!("{k}: not a setting of Qdrant's API; ignored"));
        }
    }
    out
}

fn vector_out(v: &st::VectorConfig) -> api::VectorParams {
    api::VectorParams {
        size: v.dimension as u64,
        distance: metric_out(v.metric),
        hnsw_config: v.stored.get("hnsw_config").and_then(from_json),
        quantization_config: v.quantization.as_ref().and_then(from_json),
        on_disk: v.on_disk,
        datatype: datatype_out(v.datatype),
        multivector_config: match v.multivector {
            Some(st::MultiVectorConfig { comparator: st::MultiVectorComparator::MaxSim, .. }) => {
                Some(api::MultiVectorConfig { comparator: api::MultiVectorComparator::MaxSim })
            }
            None => v.stored.get("multivector_config").and_then(from_json),
        },
    }
}

fn collection_info_out(i: st::CollectionInfo) -> api::CollectionInfo {
    let c = &i.config;
    let s = &c.stored;
    let u32_or = |k: &str, d: u32| s.get(k).and_then(serde_json::Value::as_u64).map_or(d, |v| v as u32);
    let vectors = if c.named_form {
        api::VectorsConfig::Named(c.vectors.iter().map(|(n, v)| (n.clone(), vector_out(v))).collect())
    } else {
        match c.vectors.get("") {
            Some(v) => api::VectorsConfig::Single(vector_out(v)),
            None => api::VectorsConfig::Named(BTreeMap::new()),
        }
    };
    let hnsw: api::HnswConfigDiff = s.get("hnsw_config").and_then(from_json).unwrap_or_default();
    let opt: api::OptimizersConfigDiff = s.get("optimizers_config").and_then(from_json).unwrap_or_default();
    let wal: api::WalConfigDiff = s.get("wal_config").and_then(from_json).unwrap_or_default();
    let obj = |k: &str| match s.get(k) {
        Some(serde_json::Value::Object(m)) => Some(m.clone()),
        _ => None,
    };
    api::CollectionInfo {
        status: match i.status {
            st::CollectionStatus::Green => "green",
            st::CollectionStatus::Yellow => "yellow",
        }
        .to_owned(),
        optimizer_status: "ok".to_owned(),
        segments_count: 1,
        points_count: i.points_count,
        indexed_vectors_count: i.indexing.indexed_points,
        config: api::CollectionConfig {
            params: api::CollectionParams {
                vectors,
                shard_number: u32_or("shard_number", 1),
                sharding_method: s.get("sharding_method").and_then(from_json),
                replication_factor: u32_or("replication_factor", 1),
                write_consistency_factor: u32_or("write_consistency_factor", 1),
                read_fan_out_factor: s.get("read_fan_out_factor").and_then(from_json),
                read_fan_out_delay_ms: s.get("read_fan_out_delay_ms").and_then(from_json),
                on_disk_payload: s
                    .get("on_disk_payload")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(true),
                sparse_vectors: super::sparse::config_out(c),
            },
            hnsw_config: api::HnswConfig {
                m: hnsw.m.unwrap_or(c.hnsw.m),
                ef_construct: c.hnsw.ef_construction,
                full_scan_threshold: hnsw.full_scan_threshold.unwrap_or(10_000),
                max_indexing_threads: hnsw.max_indexing_threads.unwrap_or(0),
                on_disk: hnsw.on_disk,
                payload_m: hnsw.payload_m,
                inline_storage: hnsw.inline_storage,
                gamma: c.acorn.gamma,
                m_beta: c.acorn.m_beta,
            },
            optimizer_config: api::OptimizersConfig {
                deleted_threshold: opt.deleted_threshold.unwrap_or(c.tombstone_rebuild_ratio),
                vacuum_min_vector_number: opt.vacuum_min_vector_number.unwrap_or(1000),
                default_segment_number: opt.default_segment_number.unwrap_or(0),
                max_segment_size: opt.max_segment_size,
                memmap_threshold: opt.memmap_threshold,
                indexing_threshold: Some(opt.indexing_threshold.unwrap_or(10_000)),
                flush_interval_sec: opt.flush_interval_sec.unwrap_or(5),
                // Qdrant's info schema has a number here ("auto" reads back as null).
                max_optimization_threads: opt.max_optimization_threads.filter(serde_json::Value::is_u64),
                prevent_unoptimized: opt.prevent_unoptimized,
            },
            wal_config: api::WalConfig {
                wal_capacity_mb: wal.wal_capacity_mb.unwrap_or(32),
                wal_segments_ahead: wal.wal_segments_ahead.unwrap_or(0),
                wal_retain_closed: wal.wal_retain_closed.unwrap_or(1),
            },
            quantization_config: c.quantization.as_ref().and_then(from_json),
            strict_mode_config: s.get("strict_mode_config").cloned(),
            metadata: obj("metadata"),
            matryoshka: matryoshka_config_out(c),
        },
        matryoshka: i.matryoshka.map(matryoshka_info_out),
        payload_schema: i
            .payload_schema
            .into_iter()
            .map(|(k, v)| {
                let params = v.text.as_ref().map(text_params_out);
                (k, api::PayloadIndexInfo { data_type: schema_out(v.data_type), params, points: v.points })
            })
            .collect(),
        grove_settings_without_effect: settings_without_effect(c),
        grove_vectors: i
            .vectors
            .into_iter()
            .map(|(n, v)| {
                (
                    n,
                    api::VectorIndexInfo {
                        indexed_points: v.indexed_points,
                        pending_points: v.pending_points,
                        rebuilds: v.rebuilds,
                        tombstones: v.tombstones,
                        memory: api::VectorMemoryInfo {
                            vectors: v.vector_bytes,
                            graphs: v.graph_bytes,
                            codes: v.code_bytes,
                            vector_bytes_per_point: v.vector_bytes_per_point,
                            code_bytes_per_point: v.code_bytes_per_point,
                        },
                    },
                )
            })
            .collect(),
    }
}

fn snapshot_out(s: st::SnapshotDescription) -> api::SnapshotDescription {
    api::SnapshotDescription { name: s.name, creation_time: Some(s.creation_time), size: s.size }
}

/// A validated query plus what to do with its answer.
struct PreparedQuery {
    request: st::QueryRequest,
    with_payload: api::WithPayload,
    /// Which vectors the answer carries (storage reads them all when any is wanted).
    with_vector: api::WithVector,
    explain: bool,
}

fn prepare_query(q: api::QueryRequest, limits: &LimitsConfig) -> ServiceResult<PreparedQuery> {
    let checked = check_query(&q, limits)?;
    let with_payload = q.with_payload.clone().unwrap_or(api::WithPayload::Enable(false));
    let strategy = match checked.strategy {
        api::StrategyParam::Auto => Strategy::Auto,
        api::StrategyParam::Exact => Strategy::Exact,
        api::StrategyParam::Hnsw => Strategy::Hnsw,
        api::StrategyParam::Acorn => Strategy::Acorn,
    };
    let explain = q.explain.unwrap_or(false);
    let sparse = q.query.as_ref().and_then(api::QueryInput::sparse).cloned().map(super::sparse::vector_in);
    let multi = q.query.as_ref().and_then(api::QueryInput::multi).map(<[Vec<f32>]>::to_vec);
    let request = st::QueryRequest {
        vector: checked.vector,
        using: q.using.clone().filter(|u| !u.is_empty()),
        filter: filter_in(q.filter, limits)?,
        limit: checked.fetch - checked.offset,
        offset: checked.offset,
        score_threshold: q.score_threshold,
        with_payload: Some(with_payload_in(&with_payload)),
        with_vector: q.with_vector.as_ref().is_some_and(api::WithVector::wanted),
        ef: checked.ef,
        exact: false,
        strategy,
        // Always asked for: the path feeds the per-path search counter; dropped from the
        // response unless the client asked.
        explain: true,
        quantization: q.params.as_ref().and_then(|p| p.quantization).map(quantization_query_in),
        matryoshka: q.params.and_then(|p| p.matryoshka).map(matryoshka_query_in).transpose()?,
        sparse,
        multi,
    };
    let with_vector = q.with_vector.unwrap_or(api::WithVector::Enable(false));
    Ok(PreparedQuery { request, with_payload, with_vector, explain })
}

/// `params.quantization` into storage's form (the range of `oversampling` is checked in
/// `limits`).
pub(crate) fn quantization_query_in(q: api::QuantizationSearchParams) -> st::QuantizationQuery {
    st::QuantizationQuery {
        ignore: q.ignore.unwrap_or(false),
        rescore: q.rescore,
        oversampling: q.oversampling,
    }
}

fn query_out(
    p: &PreparedQuery,
    r: st::QueryResponse,
    metrics: &crate::metrics::Metrics,
) -> api::QueryResponse {
    if let Some(e) = &r.explain {
        metrics.search(e.sparse.as_ref().map_or(e.search.path.as_str(), |s| s.path.as_str()));
    }
    api::QueryResponse {
        points: r
            .points
            .into_iter()
            .map(|h| api::ScoredPoint {
                id: id_out(h.id),
                version: 0,
                score: h.score,
                payload: post_payload(&p.with_payload, h.payload),
                vector: p.with_vector.select(vectors_with_sparse_out(h.vector, h.vectors, h.sparse, h.multi)),
                order_value: None,
            })
            .collect(),
        stages: None,
        explain: if p.explain {
            r.explain.as_ref().map(|e| {
                let base = api::ExplainOut::from(&e.search);
                api::ExplainOut {
                    filter: e.filter.as_ref().map(api::FilterExplainOut::from),
                    using: e.using.clone(),
                    path: e.sparse.as_ref().map_or(base.path.clone(), |s| s.path.as_str().to_owned()),
                    sparse: e.sparse.as_ref().map(super::sparse::explain_out),
                    multivec: e.multivec.as_ref().map(api::MultivecExplainOut::from),
                    ..base
                }
            })
        } else {
            None
        },
    }
}

fn check_name(name: &str) -> ServiceResult<()> {
    if name.is_empty() {
        return Err(ServiceError::invalid("collection name is empty"));
    }
    Ok(())
}

impl Service {
    fn limits(&self) -> &LimitsConfig {
        &self.inner.config.limits
    }

    /// `PUT /collections/{name}`.
    pub async fn create_collection(&self, name: String, req: api::CreateCollection) -> ServiceResult<bool> {
        check_name(&name)?;
        let config = collection_config_in(req)?;
        self.run_blocking(Op::CreateCollection, move |s| {
            s.create_collection(&name, config)?;
            Ok(true)
        })
        .await
    }

    /// `GET /collections/{name}`.
    pub async fn get_collection(&self, name: String) -> ServiceResult<api::CollectionInfo> {
        self.run_read(Op::GetCollection, move |s, _| Ok(collection_info_out(s.collection_info(&name)?))).await
    }

    /// `POST /collections/{name}/matryoshka/calibrate`.
    pub async fn calibrate_matryoshka(
        &self,
        name: String,
        req: api::CalibrateRequest,
    ) -> ServiceResult<api::CalibrationReport> {
        let d = st::CalibrateRequest::default();
        let r = st::CalibrateRequest {
            sample: req.sample.unwrap_or(d.sample),
            seed: req.seed.unwrap_or(d.seed),
            target_recall: req.target_recall.unwrap_or(d.target_recall),
            dims: req.dims,
            oversamples: if req.oversamples.is_empty() { d.oversamples } else { req.oversamples },
            filter: filter_in(req.filter, self.limits())?,
        };
        check_calibration(&r)?;
        self.run_read(Op::CalibrateMatryoshka, move |s, c| {
            Ok(calibration_out(s.calibrate_matryoshka_with_stop(&name, &r, c.stop())?))
        })
        .await
    }

    /// `GET /collections/{name}/exists`.
    pub async fn collection_exists(&self, name: String) -> ServiceResult<bool> {
        let store = self.store()?;
        Ok(store.resolve(&name).is_some())
    }

    /// `GET /collections`.
    pub async fn list_collections(&self) -> ServiceResult<api::CollectionsResponse> {
        let store = self.store()?;
        Ok(api::CollectionsResponse {
            collections: store
                .list_collections()
                .into_iter()
                .map(|name| api::CollectionDescription { name })
                .collect(),
        })
    }

    /// `DELETE /collections/{name}`.
    pub async fn delete_collection(&self, name: String) -> ServiceResult<bool> {
        self.run_blocking(Op::DeleteCollection, move |s| Ok(s.delete_collection(&name)?)).await
    }

    /// `PUT /collections/{name}/index`.
    pub async fn create_field_index(
        &self,
        name: String,
        req: api::CreateFieldIndex,
    ) -> ServiceResult<api::UpdateResult> {
        if req.field_name.is_empty() {
            return Err(ServiceError::invalid("field_name is empty"));
        }
        let schema = schema_in(req.field_schema.kind());
        let text = match req.field_schema.text() {
            Some(t) => Some(text_params_in(t)?),
            None => None,
        };
        self.run_blocking(Op::CreateFieldIndex, move |s| {
            Ok(update_out(s.create_field_index_with(&name, &req.field_name, schema, text)?))
        })
        .await
    }

    /// `DELETE /collections/{name}/index/{field}`.
    pub async fn delete_field_index(&self, name: String, field: String) -> ServiceResult<api::UpdateResult> {
        self.run_blocking(Op::DeleteFieldIndex, move |s| Ok(update_out(s.delete_field_index(&name, &field)?)))
            .await
    }

    /// `PUT /collections/{name}/points`. Writes are durable and searchable when they return, so
    /// `wait` changes nothing; it is accepted for Qdrant clients.
    pub async fn upsert(
        &self,
        name: String,
        points: Vec<api::PointStruct>,
        wait: bool,
    ) -> ServiceResult<api::UpdateResult> {
        self.upsert_with(name, points, wait, api::UpsertConditions::default()).await
    }

    /// [`Self::upsert`] with `update_mode` and `update_filter` (points they skip are left
    /// as they are; see `Storage::upsert_conditional`).
    pub async fn upsert_with(
        &self,
        name: String,
        points: Vec<api::PointStruct>,
        _wait: bool,
        cond: api::UpsertConditions,
    ) -> ServiceResult<api::UpdateResult> {
        check_points(points.len(), self.limits())?;
        let update_filter = filter_in(cond.filter, self.limits())?;
        let mode = match cond.mode {
            api::UpdateMode::Upsert => st::UpdateMode::Upsert,
            api::UpdateMode::InsertOnly => st::UpdateMode::InsertOnly,
            api::UpdateMode::UpdateOnly => st::UpdateMode::UpdateOnly,
        };
        if points.is_empty() {
            return Err(ServiceError::invalid("no points to upsert"));
        }
        let points = points
            .into_iter()
            .map(|p| {
                let (vectors, sparse, multi) = p.vector.into_parts();
                Ok(st::NamedPoint {
                    id: id_in(p.id)?,
                    vectors,
                    payload: p.payload,
                    sparse: super::sparse::vectors_in(sparse),
                    multi,
                })
            })
            .collect::<ServiceResult<Vec<_>>>()?;
        self.run_blocking(Op::Upsert, move |s| {
            Ok(update_out(if mode == st::UpdateMode::Upsert && update_filter.is_none() {
                s.upsert_named(&name, points)?
            } else {
                s.upsert_conditional(&name, points, mode, update_filter.as_ref())?
            }))
        })
        .await
    }

    /// `PUT /collections/{name}/points/vectors`: sets some vectors of existing points.
    pub async fn update_vectors(
        &self,
        name: String,
        req: api::UpdateVectors,
    ) -> ServiceResult<api::UpdateResult> {
        check_points(req.points.len(), self.limits())?;
        if req.points.is_empty() {
            return Err(ServiceError::invalid("points: give at least one point"));
        }
        let update_filter = filter_in(req.update_filter, self.limits())?;
        let updates = req
            .points
            .into_iter()
            .map(|p| {
                let (dense, sparse, multi) = p.vector.into_parts();
                Ok((id_in(p.id)?, dense, multi, super::sparse::vectors_in(sparse)))
            })
            .collect::<ServiceResult<Vec<_>>>()?;
        self.run_blocking(Op::UpdateVectors, move |s| {
            let updates = match update_filter {
                None => updates,
                Some(f) => {
                    // The points among these that match the filter (a point that does not, or
                    // no longer exists, is left out rather than failing the request).
                    let ids: Vec<st::PointId> = updates.iter().map(|(id, _, _, _)| *id).collect();
                    let req = st::ScrollRequest {
                        filter: Some(st::Filter::must(vec![
                            st::Condition::Filter(f),
                            st::Condition::HasId { has_id: ids.clone() },
                        ])),
                        limit: ids.len().max(1),
                        offset: None,
                        with_payload: Some(st::WithPayload::All(false)),
                        with_vector: false,
                        order_by: None,
                    };
                    let keep: std::collections::HashSet<st::PointId> =
                        s.scroll(&name, &req)?.points.into_iter().map(|r| r.id).collect();
                    let kept: Vec<_> =
                        updates.into_iter().filter(|(id, _, _, _)| keep.contains(id)).collect();
                    if kept.is_empty() {
                        // Nothing matched: nothing is written, so no operation is numbered.
                        return Ok(api::UpdateResult {
                            operation_id: 0,
                            status: api::UpdateStatus::Completed,
                        });
                    }
                    kept
                }
            };
            Ok(update_out(s.update_vectors_with_multi(&name, updates)?))
        })
        .await
    }

    /// `POST /collections/{name}/points/vectors/delete`: removes named vectors from points.
    pub async fn delete_vectors(
        &self,
        name: String,
        req: api::DeleteVectors,
    ) -> ServiceResult<api::UpdateResult> {
        let sel = points_or_filter(req.points, req.filter, self.limits())?;
        if req.vector.is_empty() {
            return Err(ServiceError::invalid("vector: name at least one vector to delete"));
        }
        let names = req.vector;
        self.run_blocking(Op::DeleteVectors, move |s| Ok(update_out(s.delete_vectors(&name, &sel, &names)?)))
            .await
    }

    /// `PATCH /collections/{name}`: graph and optimizer settings act (the affected indexes are
    /// rebuilt in the background); the rest is stored and returned by info.
    pub async fn update_collection(&self, name: String, req: api::UpdateCollection) -> ServiceResult<bool> {
        self.run_blocking(Op::UpdateCollection, move |s| {
            let mut err = None;
            let r = s.update_collection(&name, |cur| match collection_update_in(cur, &req) {
                Ok(c) => Ok(c),
                Err(e) => {
                    let msg = e.to_string();
                    err = Some(e);
                    Err(st::StorageError::InvalidRequest(msg))
                }
            });
            match (r, err) {
                (_, Some(e)) => Err(e),
                (r, None) => {
                    r?;
                    Ok(true)
                }
            }
        })
        .await
    }

    /// `POST /collections/{name}/points`.
    pub async fn get_points(&self, name: String, req: api::GetPoints) -> ServiceResult<Vec<api::Record>> {
        check_points(req.ids.len(), self.limits())?;
        let ids = ids_in(req.ids)?;
        let with_payload = req.with_payload.unwrap_or(api::WithPayload::Enable(true));
        let with_vector = req.with_vector.unwrap_or(api::WithVector::Enable(false));
        self.run_read(Op::GetPoints, move |s, _| {
            let records = s.get_points(&name, &ids, &with_payload_in(&with_payload), with_vector.wanted())?;
            Ok(records
                .into_iter()
                .map(|r| {
                    let mut rec = record_out(r, &with_payload);
                    rec.vector = with_vector.select(rec.vector);
                    rec
                })
                .collect())
        })
        .await
    }

    /// `POST /collections/{name}/points/delete`.
    pub async fn delete_points(
        &self,
        name: String,
        sel: api::PointsSelector,
        _wait: bool,
    ) -> ServiceResult<api::UpdateResult> {
        let sel = selector_in(sel, self.limits())?;
        self.run_blocking(Op::DeletePoints, move |s| Ok(update_out(s.delete_points(&name, &sel)?))).await
    }

    /// `POST` (merge) or `PUT` (overwrite) `/collections/{name}/points/payload`.
    pub async fn set_payload(
        &self,
        name: String,
        req: api::SetPayload,
        overwrite: bool,
        _wait: bool,
    ) -> ServiceResult<api::UpdateResult> {
        let sel = points_or_filter(req.points, req.filter, self.limits())?;
        let payload = req.payload;
        let key = req.key.filter(|k| !k.is_empty());
        self.run_blocking(Op::SetPayload, move |s| {
            let r = match (&key, overwrite) {
                (Some(k), _) => s.set_payload_at(&name, k, payload, &sel, overwrite)?,
                (None, true) => s.overwrite_payload(&name, payload, &sel)?,
                (None, false) => s.set_payload(&name, payload, &sel)?,
            };
            Ok(update_out(r))
        })
        .await
    }

    /// `POST /collections/{name}/points/payload/delete`.
    pub async fn delete_payload(
        &self,
        name: String,
        req: api::DeletePayload,
        _wait: bool,
    ) -> ServiceResult<api::UpdateResult> {
        let sel = points_or_filter(req.points, req.filter, self.limits())?;
        let keys = req.keys;
        self.run_blocking(Op::DeletePayload, move |s| Ok(update_out(s.delete_payload(&name, &keys, &sel)?)))
            .await
    }

    /// `POST /collections/{name}/points/payload/clear`.
    pub async fn clear_payload(
        &self,
        name: String,
        sel: api::PointsSelector,
        _wait: bool,
    ) -> ServiceResult<api::UpdateResult> {
        let sel = selector_in(sel, self.limits())?;
        self.run_blocking(Op::ClearPayload, move |s| Ok(update_out(s.clear_payload(&name, &sel)?))).await
    }

    /// `POST /collections/{name}/points/query`.
    pub async fn query(&self, name: String, q: api::QueryRequest) -> ServiceResult<api::QueryResponse> {
        if !super::query_api::is_plain(&q) {
            return self.query_planned(name, q).await;
        }
        let prepared = prepare_query(q, self.limits())?;
        let this = self.clone();
        self.run_read(Op::Query, move |s, c| {
            let r = s.query_with_stop(&name, &prepared.request, c.stop())?;
            Ok(query_out(&prepared, r, this.metrics()))
        })
        .await
    }

    /// `POST /collections/{name}/points/query/batch`: answers in request order.
    pub async fn query_batch(
        &self,
        name: String,
        qs: Vec<api::QueryRequest>,
    ) -> ServiceResult<Vec<api::QueryResponse>> {
        use futures_util::StreamExt;
        let n = qs.len();
        let mut stream = self.query_batch_stream(name, qs).await?;
        let mut out: Vec<Option<api::QueryResponse>> = vec![None; n];
        while let Some((i, r)) = stream.next().await {
            out[i] = Some(r?);
        }
        out.into_iter()
            .map(|r| r.ok_or_else(|| ServiceError::internal("batch query lost an answer")))
            .collect()
    }

    /// Streams `(index, answer)` of each query of a batch as it completes. The queries run in
    /// parallel on the search pool; dropping the stream (client gone) skips the ones not started.
    pub async fn query_batch_stream(
        &self,
        name: String,
        qs: Vec<api::QueryRequest>,
    ) -> ServiceResult<ReceiverStream<(usize, ServiceResult<api::QueryResponse>)>> {
        check_batch(qs.len(), self.limits())?;
        let prepared = qs
            .into_iter()
            .enumerate()
            .map(|(i, q)| {
                let job = if super::query_api::is_plain(&q) {
                    prepare_query(q, self.limits()).map(|p| BatchJob::Plain(Box::new(p)))
                } else {
                    super::query_api::plan(q, self.limits()).map(|p| BatchJob::Planned(Box::new(p)))
                };
                job.map_err(|e| ServiceError::invalid(format!("query {i}: {e}")))
            })
            .collect::<ServiceResult<Vec<_>>>()?;
        let store = self.store()?;
        if store.resolve(&name).is_none() {
            return Err(ServiceError::no_collection(&name));
        }
        let (tx, rx) = tokio::sync::mpsc::channel(prepared.len().max(1));
        let name = std::sync::Arc::new(name);
        let deadline = std::time::Instant::now() + self.timeout();
        // The batch's deadline reaches the engine's hot loops of every query still running.
        let stop = grove_index::Stop::at(Some(deadline));
        for (i, p) in prepared.into_iter().enumerate() {
            let (tx, store, name, this) = (tx.clone(), store.clone(), name.clone(), self.clone());
            let stop = stop.clone();
            self.inner.search_pool.spawn(move || {
                if tx.is_closed() {
                    return;
                }
                let result = if std::time::Instant::now() > deadline {
                    Err(ServiceError::Timeout(this.inner.config.service.request_timeout_secs))
                } else {
                    let r = match &p {
                        BatchJob::Plain(p) => s_query(&store, &name, p, &this, &stop),
                        BatchJob::Planned(p) => {
                            super::query_api::run_planned(&store, &name, p, &stop, this.metrics())
                        }
                    };
                    match r {
                        Err(ServiceError::Stopped(_)) => {
                            Err(ServiceError::Timeout(this.inner.config.service.request_timeout_secs))
                        }
                        r => r,
                    }
                };
                let _ = tx.blocking_send((i, result));
            });
        }
        Ok(ReceiverStream::new(rx))
    }

    /// `POST /collections/{name}/points/scroll`.
    pub async fn scroll(&self, name: String, req: api::ScrollRequest) -> ServiceResult<api::ScrollResult> {
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > self.limits().max_limit {
            return Err(ServiceError::LimitExceeded(format!(
                "scroll limit {limit}: it must be between 1 and {} (limits.max_limit)",
                self.limits().max_limit
            )));
        }
        let with_payload = req.with_payload.unwrap_or(api::WithPayload::Enable(true));
        let with_vector = req.with_vector.unwrap_or(api::WithVector::Enable(false));
        let order_by = match req.order_by {
            None => None,
            Some(o) => Some(scroll_order_in(&o.full())?),
        };
        let request = st::ScrollRequest {
            filter: filter_in(req.filter, self.limits())?,
            limit,
            offset: req.offset.map(id_in).transpose()?,
            with_payload: Some(with_payload_in(&with_payload)),
            with_vector: with_vector.wanted(),
            order_by,
        };
        self.run_read(Op::Scroll, move |s, _| {
            let r = s.scroll(&name, &request)?;
            let mut values = r.order_values.map(|v| v.into_iter());
            Ok(api::ScrollResult {
                points: r
                    .points
                    .into_iter()
                    .map(|p| {
                        let mut rec = record_out(p, &with_payload);
                        rec.vector = with_vector.select(rec.vector);
                        rec.order_value = values.as_mut().and_then(Iterator::next).map(|v| match v {
                            st::OrderValue::Int(i) => serde_json::Value::from(i),
                            st::OrderValue::Float(f) => serde_json::Value::from(f),
                        });
                        rec
                    })
                    .collect(),
                next_page_offset: r.next_page_offset.map(id_out),
            })
        })
        .await
    }

    /// `POST /collections/{name}/points/count`.
    pub async fn count(&self, name: String, req: api::CountRequest) -> ServiceResult<api::CountResult> {
        let request = st::CountRequest { filter: filter_in(req.filter, self.limits())?, exact: true };
        self.run_read(Op::Count, move |s, _| Ok(api::CountResult { count: s.count(&name, &request)? })).await
    }

    /// `POST /collections/{name}/snapshots`.
    pub async fn create_snapshot(&self, name: String) -> ServiceResult<api::SnapshotDescription> {
        self.run_blocking(Op::CreateSnapshot, move |s| Ok(snapshot_out(s.create_snapshot(&name)?))).await
    }

    /// `GET /collections/{name}/snapshots`.
    pub async fn list_snapshots(&self, name: String) -> ServiceResult<Vec<api::SnapshotDescription>> {
        self.run_read(Op::ListSnapshots, move |s, _| {
            Ok(s.list_snapshots(&name)?.into_iter().map(snapshot_out).collect())
        })
        .await
    }

    /// `DELETE /collections/{name}/snapshots/{snapshot}`.
    pub async fn delete_snapshot(&self, name: String, snapshot: String) -> ServiceResult<bool> {
        self.run_blocking(Op::DeleteSnapshot, move |s| {
            s.delete_snapshot(&name, &snapshot)?;
            Ok(true)
        })
        .await
    }

    /// The archive file of a snapshot, for downloads (404 when unknown).
    pub async fn snapshot_file(&self, name: String, snapshot: String) -> ServiceResult<std::path::PathBuf> {
        self.run_blocking(Op::DownloadSnapshot, move |s| Ok(s.snapshot_path(&name, &snapshot)?)).await
    }

    /// `PUT /collections/{name}/snapshots/recover`: `location` is a snapshot name of this
    /// collection, or a `file://` URL / absolute path of an archive on the server's disk.
    pub async fn recover_snapshot(
        &self,
        name: String,
        location: String,
    ) -> ServiceResult<api::RecoverOutcome> {
        let loc = location.trim().to_owned();
        if loc.is_empty() {
            return Err(ServiceError::invalid("location is empty: give a snapshot name or a file:// URL"));
        }
        if loc.starts_with("http://") || loc.starts_with("https://") {
            return Err(ServiceError::invalid(format!(
                "location {loc}: Grove does not fetch URLs; download the archive and POST it to \
                 /collections/{name}/snapshots/upload"
            )));
        }
        if loc.contains('\0') {
            return Err(ServiceError::invalid(
                "location contains a NUL byte: give a snapshot name or a file:// URL",
            ));
        }
        self.run_blocking(Op::RecoverSnapshot, move |s| {
            let path = match loc.strip_prefix("file://") {
                Some(p) => std::path::PathBuf::from(p),
                None if loc.starts_with('/') => std::path::PathBuf::from(&loc),
                None => s.snapshot_path(&name, &loc)?,
            };
            // Only a regular file: opening a FIFO or a device would block this write thread
            // (and the collection's writes) until something writes to it. A missing file is
            // left to storage, which names it.
            if let Ok(meta) = std::fs::metadata(&path) {
                if !meta.file_type().is_file() {
                    return Err(ServiceError::invalid(format!(
                        "location {}: not a regular file (a snapshot archive is one file)",
                        path.display()
                    )));
                }
            }
            Ok(recover_out(s.recover_snapshot(&name, &path)?))
        })
        .await
    }

    /// A fresh file to stream an upload into (on the data disk; the caller removes it).
    pub async fn snapshot_upload_path(&self, name: String) -> ServiceResult<std::path::PathBuf> {
        self.run_blocking(Op::UploadSnapshot, move |s| Ok(s.upload_path(&name)?)).await
    }

    /// Recovers `name` from `len` bytes at `offset` of an uploaded file (a raw archive, or the
    /// file part of a multipart body), then removes the file.
    pub async fn recover_uploaded(
        &self,
        name: String,
        file: std::path::PathBuf,
        offset: u64,
        len: u64,
    ) -> ServiceResult<api::RecoverOutcome> {
        self.run_blocking(Op::UploadSnapshot, move |s| {
            let r = (|| -> ServiceResult<api::RecoverOutcome> {
                use std::io::{Read, Seek};
                let mut f = std::fs::File::open(&file).map_err(ServiceError::internal)?;
                f.seek(std::io::SeekFrom::Start(offset)).map_err(ServiceError::internal)?;
                let reader = std::io::BufReader::with_capacity(1 << 20, f.take(len));
                Ok(recover_out(s.recover_from_reader(&name, reader)?))
            })();
            let _ = std::fs::remove_file(&file);
            r
        })
        .await
    }
}

fn recover_out(r: st::RecoverOutcome) -> api::RecoverOutcome {
    api::RecoverOutcome { points: r.points, replaced: r.replaced, source_collection: r.source_collection }
}

/// One query of a batch: the core nearest-vector path, or a Query API stage tree.
enum BatchJob {
    Plain(Box<PreparedQuery>),
    Planned(Box<super::query_api::Planned>),
}

fn s_query(
    store: &Store,
    name: &str,
    p: &PreparedQuery,
    service: &Service,
    stop: &grove_index::Stop,
) -> ServiceResult<api::QueryResponse> {
    let r = store.query_with_stop(name, &p.request, stop)?;
    Ok(query_out(p, r, service.metrics()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_ids_are_validated_and_normalised() {
        let id = id_in(api::PointId::Uuid("5C56C793-69F3-4FBF-87E6-C4BF54C28C26".into())).expect("uuid");
        assert_eq!(id_out(id), api::PointId::Uuid("5c56c793-69f3-4fbf-87e6-c4bf54c28c26".into()));
        assert!(matches!(id_in(api::PointId::Uuid("nope".into())), Err(ServiceError::InvalidArgument(_))));
    }

    #[test]
    fn filters_are_parsed_and_unknown_keys_rejected() {
        let limits = LimitsConfig::default();
        let ok = filter_in(Some(serde_json::json!({"must": [{"key": "a", "match": {"value": 1}}]})), &limits);
        assert!(matches!(ok, Ok(Some(_))));
        let bad = filter_in(Some(serde_json::json!({"muts": []})), &limits);
        match bad {
            Err(ServiceError::InvalidArgument(m)) => assert!(m.contains("muts"), "{m}"),
            other => panic!("expected invalid argument, got {other:?}"),
        }
    }

    #[test]
    fn collection_config_layers_vector_over_collection_settings() {
        let req: api::CreateCollection = serde_json::from_value(serde_json::json!({
            "vectors": {"size": 8, "distance": "Euclid", "hnsw_config": {"m": 32}},
            "hnsw_config": {"m": 8, "gamma": 4}
        }))
        .expect("parses");
        let c = collection_config_in(req).expect("valid");
        let v = c.vector("").expect("unnamed");
        assert_eq!(
            (v.dimension, v.metric, c.hnsw_of("").m, c.hnsw.m, c.acorn.gamma),
            (8, Metric::L2, 32, 8, 4)
        );
    }

    /// Every Qdrant create setting is accepted; the ones without effect are listed once each,
    /// with the reason, and a value outside Qdrant's range is its 422 naming the field.
    #[test]
    fn qdrant_create_settings_are_stored_and_listed() {
        let req: api::CreateCollection = serde_json::from_value(serde_json::json!({
            "vectors": {"image": {"size": 4, "distance": "Dot", "on_disk": true, "datatype": "float16",
                                  "quantization_config": {"binary": {"always_ram": true}}},
                        "text": {"size": 3, "distance": "Cosine", "hnsw_config": {"m": 24, "payload_m": 8}}},
            "shard_number": 2, "sharding_method": "auto", "replication_factor": 2, "write_consistency_factor": 1,
            "on_disk_payload": false,
            "hnsw_config": {"ef_construct": 64, "full_scan_threshold": 20000, "max_indexing_threads": 2, "on_disk": false},
            "wal_config": {"wal_capacity_mb": 64, "wal_segments_ahead": null},
            "optimizers_config": {"deleted_threshold": 0.3, "indexing_threshold": 5000},
            "quantization_config": {"product": {"compression": "x16"}},
            "sparse_vectors": {"bm25": {"modifier": "idf"}},
            "strict_mode_config": {"enabled": false},
            "metadata": {"owner": "x"},
            "init_from": {"collection": "old"},
            "frobnicate": 1
        }))
        .expect("parses");
        let c = collection_config_in(req).expect("valid");
        assert!(c.named_form);
        assert_eq!(c.hnsw.ef_construction, 64);
        assert_eq!(c.hnsw_of("text").m, 24);
        assert_eq!(c.hnsw_of("image").m, 16);
        assert!((c.tombstone_rebuild_ratio - 0.3).abs() < 1e-12);
        let notes = settings_without_effect(&c);
        for needle in [
            "shard_number = 2",
            "replication_factor = 2",
            "on_disk_payload",
            "hnsw_config.full_scan_threshold",
            "hnsw_config.max_indexing_threads",
            "wal_config",
            "optimizers_config.indexing_threshold",
            "quantization_config",
            "vectors.\"image\".on_disk",
            "vectors.\"image\".datatype",
            "vectors.\"text\".hnsw_config.payload_m",
            "strict_mode_config",
            "init_from",
            "frobnicate",
        ] {
            assert_eq!(notes.iter().filter(|n| n.starts_with(needle)).count(), 1, "{needle} in {notes:#?}");
        }
        assert!(!notes.iter().any(|n| n.starts_with("optimizers_config.deleted_threshold")), "{notes:#?}");
        // Sparse vectors act: declared, not listed.
        assert_eq!(c.sparse_vectors["bm25"].modifier, st::SparseModifier::Idf);
        assert!(!notes.iter().any(|n| n.starts_with("sparse_vectors")), "{notes:#?}");
        // Binary (and scalar) codes act: not listed.
        assert!(!notes.iter().any(|n| n.starts_with("vectors.\"image\".quantization_config")), "{notes:#?}");
        let bad: api::CreateCollection = serde_json::from_value(
            serde_json::json!({"vectors": {"size": 4, "distance": "Dot"}, "shard_number": 0}),
        )
        .expect("parses");
        match collection_config_in(bad) {
            Err(ServiceError::Unprocessable(m)) => assert!(m.contains("shard_number"), "{m}"),
            other => panic!("expected 422, got {other:?}"),
        }
        let manhattan: api::CreateCollection =
            serde_json::from_value(serde_json::json!({"vectors": {"size": 4, "distance": "Manhattan"}}))
                .expect("parses");
        match collection_config_in(manhattan) {
            Err(ServiceError::InvalidArgument(m)) => {
                assert!(m.contains("Manhattan") && m.contains("Euclid"), "{m}")
            }
            other => panic!("expected 400, got {other:?}"),
        }
    }

    /// PATCH merges diffs: a vector's graph parameters change (and act), quantization can be
    /// replaced or disabled, unknown vector names are refused naming the declared ones.
    #[test]
    fn patch_merges_into_the_stored_config() {
        let req: api::CreateCollection =
            serde_json::from_value(serde_json::json!({"vectors": {"size": 4, "distance": "Dot"}}))
                .expect("parses");
        let c = collection_config_in(req).expect("valid");
        let patch: api::UpdateCollection = serde_json::from_value(serde_json::json!({
            "vectors": {"": {"hnsw_config": {"m": 32}, "quantization_config": {"scalar": {"type": "int8"}}, "on_disk": true}},
            "hnsw_config": {"ef_construct": 123},
            "params": {"on_disk_payload": false, "replication_factor": 3},
            "optimizers_config": {"default_segment_number": 6}
        }))
        .expect("parses");
        let c2 = collection_update_in(&c, &patch).expect("applies");
        assert_eq!(
            (c2.hnsw_of("").m, c2.hnsw_of("").ef_construction, c2.hnsw.ef_construction),
            (32, 123, 123)
        );
        assert!(c2.vectors[""].quantization.is_some());
        assert_eq!(c2.stored.get("replication_factor"), Some(&serde_json::json!(3)));
        let off: api::UpdateCollection =
            serde_json::from_value(serde_json::json!({"vectors": {"": {"quantization_config": "Disabled"}}}))
                .expect("parses");
        assert!(collection_update_in(&c2, &off).expect("applies").vectors[""].quantization.is_none());
        let unknown: api::UpdateCollection =
            serde_json::from_value(serde_json::json!({"vectors": {"img": {"on_disk": true}}}))
                .expect("parses");
        match collection_update_in(&c2, &unknown) {
            Err(ServiceError::InvalidArgument(m)) => {
                assert!(m.contains("\"img\"") && m.contains("\"\""), "{m}")
            }
            other => panic!("expected 400, got {other:?}"),
        }
    }
}
