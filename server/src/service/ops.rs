//! The operations: API types in, storage calls on the right pool, API types out.
//!
//! This module is the only code that touches `grove_storage`; the conversions between the
//! Qdrant-shaped API types and storage's types live here too.

use std::path::Path;

use grove_index::{Metric, Strategy};
use grove_storage as st;
use tokio_stream::wrappers::ReceiverStream;

use super::limits::{check_batch, check_calibration, check_filter, check_points, check_query, DEFAULT_LIMIT};
use super::{Service, ServiceError, ServiceResult, Store};
use crate::api;
use crate::config::LimitsConfig;

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
    filter.validate()?;
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
fn with_payload_in(w: &api::WithPayload) -> st::WithPayload {
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

fn record_out(r: st::Record, w: &api::WithPayload) -> api::Record {
    api::Record { id: id_out(r.id), payload: post_payload(w, r.payload), vector: r.vector }
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
    }
}

fn schema_out(t: st::PayloadSchemaType) -> api::PayloadSchemaType {
    match t {
        st::PayloadSchemaType::Keyword => api::PayloadSchemaType::Keyword,
        st::PayloadSchemaType::Integer => api::PayloadSchemaType::Integer,
        st::PayloadSchemaType::Float => api::PayloadSchemaType::Float,
        st::PayloadSchemaType::Bool => api::PayloadSchemaType::Bool,
        st::PayloadSchemaType::Datetime => api::PayloadSchemaType::Datetime,
    }
}

fn metric_in(d: api::Distance) -> Metric {
    match d {
        api::Distance::Cosine => Metric::Cosine,
        api::Distance::Dot => Metric::Dot,
        api::Distance::Euclid => Metric::L2,
    }
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
fn matryoshka_query_in(m: api::MatryoshkaParams) -> ServiceResult<grove_index::MatryoshkaQuery> {
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

fn collection_config_in(req: api::CreateCollection) -> ServiceResult<st::CollectionConfig> {
    let dim =
        usize::try_from(req.vectors.size).map_err(|_| ServiceError::invalid("vectors.size is too large"))?;
    if dim == 0 {
        return Err(ServiceError::invalid("vectors.size must be at least 1"));
    }
    let mut config = st::CollectionConfig::new(dim, metric_in(req.vectors.distance));
    if let Some(m) = req.matryoshka {
        matryoshka_in(m, &mut config)?;
    }
    // Collection-level settings first, then the vector-level ones (more specific) on top.
    for diff in [req.hnsw_config, req.vectors.hnsw_config].into_iter().flatten() {
        if let Some(m) = diff.m {
            config.hnsw.m = m;
        }
        if let Some(ef) = diff.ef_construct {
            config.hnsw.ef_construction = ef;
        }
        if let Some(g) = diff.gamma {
            config.acorn.gamma = g;
        }
        if let Some(mb) = diff.m_beta {
            config.acorn.m_beta = mb;
        }
    }
    Ok(config)
}

fn collection_info_out(i: st::CollectionInfo) -> api::CollectionInfo {
    let c = &i.config;
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
                vectors: api::VectorParams {
                    size: c.dimension as u64,
                    distance: metric_out(c.metric),
                    hnsw_config: None,
                },
            },
            hnsw_config: api::HnswConfig {
                m: c.hnsw.m,
                ef_construct: c.hnsw.ef_construction,
                full_scan_threshold: 0,
                gamma: c.acorn.gamma,
                m_beta: c.acorn.m_beta,
            },
            optimizer_config: api::OptimizersConfig { default_segment_number: 1, flush_interval_sec: 0 },
            matryoshka: matryoshka_config_out(c),
        },
        matryoshka: i.matryoshka.map(matryoshka_info_out),
        payload_schema: i
            .payload_schema
            .into_iter()
            .map(|(k, v)| (k, api::PayloadIndexInfo { data_type: schema_out(v.data_type), points: v.points }))
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
    let request = st::QueryRequest {
        vector: checked.vector,
        filter: filter_in(q.filter, limits)?,
        limit: checked.fetch - checked.offset,
        offset: checked.offset,
        score_threshold: q.score_threshold,
        with_payload: Some(with_payload_in(&with_payload)),
        with_vector: q.with_vector.unwrap_or(false),
        ef: checked.ef,
        exact: false,
        strategy,
        // Always asked for: the path feeds the per-path search counter; dropped from the
        // response unless the client asked.
        explain: true,
        matryoshka: q.params.and_then(|p| p.matryoshka).map(matryoshka_query_in).transpose()?,
    };
    Ok(PreparedQuery { request, with_payload, explain })
}

fn query_out(
    p: &PreparedQuery,
    r: st::QueryResponse,
    metrics: &crate::metrics::Metrics,
) -> api::QueryResponse {
    if let Some(e) = &r.explain {
        metrics.search(e.search.path.as_str());
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
                vector: h.vector,
            })
            .collect(),
        explain: if p.explain {
            r.explain.as_ref().map(|e| api::ExplainOut {
                filter: e.filter.as_ref().map(api::FilterExplainOut::from),
                ..api::ExplainOut::from(&e.search)
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
        self.run_write(move |s| {
            s.create_collection(&name, config)?;
            Ok(true)
        })
        .await
    }

    /// `GET /collections/{name}`.
    pub async fn get_collection(&self, name: String) -> ServiceResult<api::CollectionInfo> {
        self.run_search(move |s, _| Ok(collection_info_out(s.collection_info(&name)?))).await
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
        self.run_analysis(move |s, c| {
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
        self.run_write(move |s| Ok(s.delete_collection(&name)?)).await
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
        self.run_write(move |s| Ok(update_out(s.create_field_index(&name, &req.field_name, schema)?))).await
    }

    /// `DELETE /collections/{name}/index/{field}`.
    pub async fn delete_field_index(&self, name: String, field: String) -> ServiceResult<api::UpdateResult> {
        self.run_write(move |s| Ok(update_out(s.delete_field_index(&name, &field)?))).await
    }

    /// `PUT /collections/{name}/points`. Writes are durable and searchable when they return, so
    /// `wait` changes nothing; it is accepted for Qdrant clients.
    pub async fn upsert(
        &self,
        name: String,
        points: Vec<api::PointStruct>,
        _wait: bool,
    ) -> ServiceResult<api::UpdateResult> {
        check_points(points.len(), self.limits())?;
        if points.is_empty() {
            return Err(ServiceError::invalid("no points to upsert"));
        }
        let points = points
            .into_iter()
            .map(|p| Ok(st::PointStruct { id: id_in(p.id)?, vector: p.vector, payload: p.payload }))
            .collect::<ServiceResult<Vec<_>>>()?;
        self.run_write(move |s| Ok(update_out(s.upsert(&name, points)?))).await
    }

    /// `POST /collections/{name}/points`.
    pub async fn get_points(&self, name: String, req: api::GetPoints) -> ServiceResult<Vec<api::Record>> {
        check_points(req.ids.len(), self.limits())?;
        let ids = ids_in(req.ids)?;
        let with_payload = req.with_payload.unwrap_or(api::WithPayload::Enable(true));
        let with_vector = req.with_vector.unwrap_or(false);
        self.run_search(move |s, _| {
            let records = s.get_points(&name, &ids, &with_payload_in(&with_payload), with_vector)?;
            Ok(records.into_iter().map(|r| record_out(r, &with_payload)).collect())
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
        self.run_write(move |s| Ok(update_out(s.delete_points(&name, &sel)?))).await
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
        self.run_write(move |s| {
            let r = if overwrite {
                s.overwrite_payload(&name, payload, &sel)?
            } else {
                s.set_payload(&name, payload, &sel)?
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
        self.run_write(move |s| Ok(update_out(s.delete_payload(&name, &keys, &sel)?))).await
    }

    /// `POST /collections/{name}/points/payload/clear`.
    pub async fn clear_payload(
        &self,
        name: String,
        sel: api::PointsSelector,
        _wait: bool,
    ) -> ServiceResult<api::UpdateResult> {
        let sel = selector_in(sel, self.limits())?;
        self.run_write(move |s| Ok(update_out(s.clear_payload(&name, &sel)?))).await
    }

    /// `POST /collections/{name}/points/query`.
    pub async fn query(&self, name: String, q: api::QueryRequest) -> ServiceResult<api::QueryResponse> {
        let prepared = prepare_query(q, self.limits())?;
        let this = self.clone();
        self.run_search(move |s, c| {
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
                prepare_query(q, self.limits()).map_err(|e| ServiceError::invalid(format!("query {i}: {e}")))
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
                    match s_query(&store, &name, &p, &this, &stop) {
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
        let request = st::ScrollRequest {
            filter: filter_in(req.filter, self.limits())?,
            limit,
            offset: req.offset.map(id_in).transpose()?,
            with_payload: Some(with_payload_in(&with_payload)),
            with_vector: req.with_vector.unwrap_or(false),
        };
        self.run_search(move |s, _| {
            let r = s.scroll(&name, &request)?;
            Ok(api::ScrollResult {
                points: r.points.into_iter().map(|p| record_out(p, &with_payload)).collect(),
                next_page_offset: r.next_page_offset.map(id_out),
            })
        })
        .await
    }

    /// `POST /collections/{name}/points/count`.
    pub async fn count(&self, name: String, req: api::CountRequest) -> ServiceResult<api::CountResult> {
        let request = st::CountRequest { filter: filter_in(req.filter, self.limits())?, exact: true };
        self.run_search(move |s, _| Ok(api::CountResult { count: s.count(&name, &request)? })).await
    }

    /// `POST /collections/{name}/snapshots`.
    pub async fn create_snapshot(&self, name: String) -> ServiceResult<api::SnapshotDescription> {
        self.run_write(move |s| Ok(snapshot_out(s.create_snapshot(&name)?))).await
    }

    /// `GET /collections/{name}/snapshots`.
    pub async fn list_snapshots(&self, name: String) -> ServiceResult<Vec<api::SnapshotDescription>> {
        self.run_search(move |s, _| Ok(s.list_snapshots(&name)?.into_iter().map(snapshot_out).collect()))
            .await
    }

    /// `DELETE /collections/{name}/snapshots/{snapshot}`.
    pub async fn delete_snapshot(&self, name: String, snapshot: String) -> ServiceResult<bool> {
        self.run_write(move |s| {
            s.delete_snapshot(&name, &snapshot)?;
            Ok(true)
        })
        .await
    }

    /// The archive file of a snapshot, for downloads (404 when unknown).
    pub async fn snapshot_file(&self, name: String, snapshot: String) -> ServiceResult<std::path::PathBuf> {
        self.run_write(move |s| Ok(s.snapshot_path(&name, &snapshot)?)).await
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
        self.run_write(move |s| {
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
        self.run_write(move |s| Ok(s.upload_path(&name)?)).await
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
        self.run_write(move |s| {
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
        let req = api::CreateCollection {
            vectors: api::VectorParams {
                size: 8,
                distance: api::Distance::Euclid,
                hnsw_config: Some(api::HnswConfigDiff { m: Some(32), ..Default::default() }),
            },
            hnsw_config: Some(api::HnswConfigDiff { m: Some(8), gamma: Some(4), ..Default::default() }),
            matryoshka: None,
        };
        let c = collection_config_in(req).expect("valid");
        assert_eq!((c.dimension, c.metric, c.hnsw.m, c.acorn.gamma), (8, Metric::L2, 32, 4));
    }
}
