//! Qdrant's gRPC API (package `qdrant`: `Collections`, `Points`, `Snapshots`, and the `Qdrant`
//! health check), served on Grove's gRPC port beside grove.v1 so qdrant-client's
//! `prefer_grpc=True` works unchanged.
//!
//! One more thin transport over the service layer: every method builds the JSON body Qdrant's
//! REST API takes for the same operation ([`convert`], filters in [`filter`]), deserialises it
//! into the request type the REST route uses, calls the same [`Service`] function, and reads
//! the result's REST JSON back into the proto answer. Auth, metrics and limits are the gRPC
//! guard layer's (`grpc::GuardLayer`), with each method's access level from its entry in `crate::operations`.
//! Methods Grove does not serve are not declared in the protos; the guard layer answers them
//! UNIMPLEMENTED with a message naming the method.

pub mod convert;
pub mod filter;
pub mod json;

use std::time::Instant;

use grove_proto::qdrant as pb;
use serde_json::{json, Map, Value as J};
use tonic::{Request, Response, Status};

use crate::api;
use crate::api_compat as c;
use crate::service::{Service, ServiceError};
use convert::{parse, put, to_json, VectorPick};

type Res<T> = Result<Response<T>, Status>;

/// Implements every `qdrant.*` service over one [`Service`].
#[derive(Debug, Clone)]
pub struct QdrantGrpc {
    service: Service,
}

/// Adds Qdrant's services, with the same message size limits as grove.v1's, to the router.
pub fn add_services(routes: tonic::service::Routes, service: Service) -> tonic::service::Routes {
    let max = service.config().service.max_body_bytes;
    let q = QdrantGrpc { service };
    routes
        .add_service(
            pb::collections_server::CollectionsServer::new(q.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            pb::points_server::PointsServer::new(q.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(pb::snapshots_server::SnapshotsServer::new(q.clone()))
        .add_service(pb::qdrant_server::QdrantServer::new(q))
}

/// Gives tonic's bare UNIMPLEMENTED (an undeclared method or service: no message) a message
/// naming the method, so a client learns which call Grove lacks.
pub fn name_unimplemented(path: &str, headers: &mut http::HeaderMap) {
    if headers.get("grpc-status").and_then(|v| v.to_str().ok()) != Some("12")
        || headers.contains_key("grpc-message")
    {
        return;
    }
    let status = Status::unimplemented(format!("{path}: Grove does not implement this method"));
    let fixed = status.into_http::<()>();
    if let Some(v) = fixed.headers().get("grpc-message") {
        headers.insert("grpc-message", v.clone());
    }
}

fn took(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn map(m: Map<String, J>) -> J {
    J::Object(m)
}

fn write_response(r: &api::UpdateResult, t: Instant) -> pb::PointsOperationResponse {
    pb::PointsOperationResponse { result: Some(convert::update_result(r)), time: took(t) }
}

fn hits(points: &[api::ScoredPoint], pick: &VectorPick) -> Result<Vec<pb::ScoredPoint>, Status> {
    Ok(convert::scored_list(&to_json(&points)?, pick))
}

fn aliases(a: &c::CollectionsAliasesResponse, t: Instant) -> pb::ListAliasesResponse {
    pb::ListAliasesResponse {
        aliases: a
            .aliases
            .iter()
            .map(|a| pb::AliasDescription {
                alias_name: a.alias_name.clone(),
                collection_name: a.collection_name.clone(),
            })
            .collect(),
        time: took(t),
    }
}

fn wait(w: Option<bool>) -> bool {
    w.unwrap_or(false)
}

/// REST's `update_mode` for an upsert; the default (upsert) is left out.
fn update_mode(m: Option<i32>) -> Result<Option<J>, Status> {
    match m.map(pb::UpdateMode::try_from) {
        None | Some(Ok(pb::UpdateMode::Upsert)) => Ok(None),
        Some(Ok(pb::UpdateMode::InsertOnly)) => Ok(Some(J::String("insert_only".to_owned()))),
        Some(Ok(pb::UpdateMode::UpdateOnly)) => Ok(Some(J::String("update_only".to_owned()))),
        Some(Err(e)) => Err(Status::invalid_argument(format!("update_mode: {e}"))),
    }
}

fn point_json(p: pb::PointStruct) -> Result<J, Status> {
    let id = p.id.ok_or_else(|| Status::invalid_argument("points: every point needs an id"))?;
    Ok(json!({
        "id": convert::point_id(id)?,
        "vector": convert::vectors(p.vectors)?,
        "payload": J::Object(json::map_to_json(p.payload)),
    }))
}

fn upsert_json(
    points: Vec<pb::PointStruct>,
    update_filter: Option<pb::Filter>,
    mode: Option<i32>,
) -> Result<J, Status> {
    let mut m = Map::new();
    let points = points.into_iter().map(point_json).collect::<Result<Vec<_>, _>>()?;
    m.insert("points".to_owned(), J::Array(points));
    put(&mut m, "update_filter", filter::opt_filter(update_filter)?);
    put(&mut m, "update_mode", update_mode(mode)?);
    Ok(map(m))
}

fn point_vectors_json(points: Vec<pb::PointVectors>) -> Result<J, Status> {
    points
        .into_iter()
        .map(|p| {
            let id = p.id.ok_or_else(|| Status::invalid_argument("points: every point needs an id"))?;
            Ok(json!({"id": convert::point_id(id)?, "vector": convert::vectors(p.vectors)?}))
        })
        .collect::<Result<Vec<_>, Status>>()
        .map(J::Array)
}

fn set_payload_json(
    payload: std::collections::HashMap<String, pb::Value>,
    sel: Option<pb::PointsSelector>,
    key: Option<String>,
) -> Result<J, Status> {
    let mut m = convert::selector(sel)?;
    m.insert("payload".to_owned(), J::Object(json::map_to_json(payload)));
    put(&mut m, "key", key.map(J::String));
    Ok(map(m))
}

fn delete_payload_json(keys: Vec<String>, sel: Option<pb::PointsSelector>) -> Result<J, Status> {
    let mut m = convert::selector(sel)?;
    m.insert("keys".to_owned(), json!(keys));
    Ok(map(m))
}

fn delete_vectors_json(
    sel: Option<pb::PointsSelector>,
    names: Option<pb::VectorsSelector>,
) -> Result<J, Status> {
    let mut m = convert::selector(sel)?;
    m.insert("vector".to_owned(), json!(names.map(|n| n.names).unwrap_or_default()));
    Ok(map(m))
}

/// One `PointsUpdateOperation` as REST's `points/batch` operation object.
fn update_operation(op: pb::PointsUpdateOperation) -> Result<J, Status> {
    use pb::points_update_operation::Operation as O;
    let Some(op) = op.operation else {
        return Err(Status::invalid_argument("operations: an operation sets none of its kinds"));
    };
    let sel = |s: Option<pb::PointsSelector>| convert::selector(s).map(J::Object);
    Ok(match op {
        O::Upsert(u) => json!({"upsert": upsert_json(u.points, u.update_filter, u.update_mode)?}),
        O::DeleteDeprecated(s) => json!({"delete": sel(Some(s))?}),
        O::DeletePoints(d) => json!({"delete": sel(d.points)?}),
        O::SetPayload(s) => json!({"set_payload": set_payload_json(s.payload, s.points_selector, s.key)?}),
        O::OverwritePayload(s) => {
            json!({"overwrite_payload": set_payload_json(s.payload, s.points_selector, s.key)?})
        }
        O::DeletePayload(d) => json!({"delete_payload": delete_payload_json(d.keys, d.points_selector)?}),
        O::ClearPayloadDeprecated(s) => json!({"clear_payload": sel(Some(s))?}),
        O::ClearPayload(c) => json!({"clear_payload": sel(c.points)?}),
        O::UpdateVectors(u) => {
            let mut m = Map::new();
            m.insert("points".to_owned(), point_vectors_json(u.points)?);
            put(&mut m, "update_filter", filter::opt_filter(u.update_filter)?);
            json!({"update_vectors": m})
        }
        O::DeleteVectors(d) => json!({"delete_vectors": delete_vectors_json(d.points_selector, d.vectors)?}),
    })
}

fn facet_value(v: &J) -> pb::FacetValue {
    use pb::facet_value::Variant;
    let variant = match v {
        J::Bool(b) => Variant::BoolValue(*b),
        J::Number(n) => Variant::IntegerValue(n.as_i64().unwrap_or(0)),
        J::String(s) => Variant::StringValue(s.clone()),
        other => Variant::StringValue(other.to_string()),
    };
    pb::FacetValue { variant: Some(variant) }
}

fn matrix_json(m: pb::SearchMatrixPoints) -> Result<J, Status> {
    let mut out = Map::new();
    put(&mut out, "filter", filter::opt_filter(m.filter)?);
    put(&mut out, "sample", m.sample.map(J::from));
    put(&mut out, "limit", m.limit.map(J::from));
    put(&mut out, "using", m.using.map(J::String));
    Ok(map(out))
}

fn groups_common(
    m: &mut Map<String, J>,
    group_by: String,
    group_size: u32,
    limit: u32,
    lookup: Option<pb::WithLookup>,
) {
    m.insert("group_by".to_owned(), J::String(group_by));
    m.insert("group_size".to_owned(), J::from(group_size));
    m.insert("limit".to_owned(), J::from(limit));
    put(m, "with_lookup", convert::with_lookup(lookup));
}

#[tonic::async_trait]
impl pb::collections_server::Collections for QdrantGrpc {
    async fn get(&self, r: Request<pb::GetCollectionInfoRequest>) -> Res<pb::GetCollectionInfoResponse> {
        let t = Instant::now();
        let info = self.service.get_collection(r.into_inner().collection_name).await?;
        let result = Some(convert::collection_info(&to_json(&info)?));
        Ok(Response::new(pb::GetCollectionInfoResponse { result, time: took(t) }))
    }

    async fn list(&self, _r: Request<pb::ListCollectionsRequest>) -> Res<pb::ListCollectionsResponse> {
        let t = Instant::now();
        let list = self.service.list_collections().await?;
        let collections =
            list.collections.into_iter().map(|c| pb::CollectionDescription { name: c.name }).collect();
        Ok(Response::new(pb::ListCollectionsResponse { collections, time: took(t) }))
    }

    async fn create(&self, r: Request<pb::CreateCollection>) -> Res<pb::CollectionOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let body: api::CreateCollection = parse("create collection", convert::create_collection(r)?)?;
        let result = self.service.create_collection(name, body).await?;
        Ok(Response::new(pb::CollectionOperationResponse { result, time: took(t) }))
    }

    async fn update(&self, r: Request<pb::UpdateCollection>) -> Res<pb::CollectionOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let body: api::UpdateCollection = parse("update collection", convert::update_collection(r))?;
        let result = self.service.update_collection(name, body).await?;
        Ok(Response::new(pb::CollectionOperationResponse { result, time: took(t) }))
    }

    async fn delete(&self, r: Request<pb::DeleteCollection>) -> Res<pb::CollectionOperationResponse> {
        let t = Instant::now();
        let result = self.service.delete_collection(r.into_inner().collection_name).await?;
        Ok(Response::new(pb::CollectionOperationResponse { result, time: took(t) }))
    }

    async fn update_aliases(&self, r: Request<pb::ChangeAliases>) -> Res<pb::CollectionOperationResponse> {
        use pb::alias_operations::Action;
        let t = Instant::now();
        let actions = r
            .into_inner()
            .actions
            .into_iter()
            .map(|a| match a.action {
                Some(Action::CreateAlias(x)) => Ok(json!({"create_alias": {
                    "collection_name": x.collection_name, "alias_name": x.alias_name}})),
                Some(Action::RenameAlias(x)) => Ok(json!({"rename_alias": {
                    "old_alias_name": x.old_alias_name, "new_alias_name": x.new_alias_name}})),
                Some(Action::DeleteAlias(x)) => Ok(json!({"delete_alias": {"alias_name": x.alias_name}})),
                None => {
                    Err(Status::invalid_argument("actions: set create_alias, rename_alias or delete_alias"))
                }
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let body: c::ChangeAliasesOperation = parse("update aliases", json!({"actions": actions}))?;
        let result = self.service.update_aliases(body).await?;
        Ok(Response::new(pb::CollectionOperationResponse { result, time: took(t) }))
    }

    async fn list_collection_aliases(
        &self,
        r: Request<pb::ListCollectionAliasesRequest>,
    ) -> Res<pb::ListAliasesResponse> {
        let t = Instant::now();
        let a = self.service.collection_aliases(r.into_inner().collection_name).await?;
        Ok(Response::new(aliases(&a, t)))
    }

    async fn list_aliases(&self, _r: Request<pb::ListAliasesRequest>) -> Res<pb::ListAliasesResponse> {
        let t = Instant::now();
        let a = self.service.list_aliases().await?;
        Ok(Response::new(aliases(&a, t)))
    }

    async fn collection_cluster_info(
        &self,
        r: Request<pb::CollectionClusterInfoRequest>,
    ) -> Res<pb::CollectionClusterInfoResponse> {
        let t = Instant::now();
        let info = self.service.collection_cluster(r.into_inner().collection_name).await?;
        Ok(Response::new(pb::CollectionClusterInfoResponse {
            peer_id: info.peer_id,
            shard_count: info.shard_count,
            local_shards: info
                .local_shards
                .iter()
                .map(|s| pb::LocalShardInfo {
                    shard_id: s.shard_id,
                    points_count: s.points_count,
                    state: pb::ReplicaState::Active as i32,
                })
                .collect(),
            time: took(t),
        }))
    }

    async fn collection_exists(
        &self,
        r: Request<pb::CollectionExistsRequest>,
    ) -> Res<pb::CollectionExistsResponse> {
        let t = Instant::now();
        let exists = self.service.collection_exists(r.into_inner().collection_name).await?;
        Ok(Response::new(pb::CollectionExistsResponse {
            result: Some(pb::CollectionExists { exists }),
            time: took(t),
        }))
    }
}

#[tonic::async_trait]
impl pb::points_server::Points for QdrantGrpc {
    async fn upsert(&self, r: Request<pb::UpsertPoints>) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let body: api::UpsertPoints =
            parse("upsert", upsert_json(r.points, r.update_filter, r.update_mode)?)?;
        let mut body = body;
        let cond = body.take_conditions();
        let points = body.into_points().map_err(ServiceError::InvalidArgument)?;
        let res = self.service.upsert_with(r.collection_name, points, wait(r.wait), cond).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn delete(&self, r: Request<pb::DeletePoints>) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let sel: api::PointsSelector = parse("delete points", map(convert::selector(r.points)?))?;
        let res = self.service.delete_points(r.collection_name, sel, wait(r.wait)).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn get(&self, r: Request<pb::GetPoints>) -> Res<pb::GetResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut m = Map::new();
        m.insert("ids".to_owned(), convert::point_ids(r.ids)?);
        put(&mut m, "with_payload", convert::with_payload(r.with_payload));
        let (flag, pick) = convert::with_vectors(r.with_vectors);
        put(&mut m, "with_vector", flag);
        let body: api::GetPoints = parse("get points", map(m))?;
        let records = self.service.get_points(r.collection_name, body).await?;
        let v = to_json(&records)?;
        let result =
            v.as_array().map(|a| a.iter().map(|p| convert::record(p, &pick)).collect()).unwrap_or_default();
        Ok(Response::new(pb::GetResponse { result, time: took(t) }))
    }

    async fn update_vectors(&self, r: Request<pb::UpdatePointVectors>) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut m = Map::new();
        m.insert("points".to_owned(), point_vectors_json(r.points)?);
        put(&mut m, "update_filter", filter::opt_filter(r.update_filter)?);
        let body: api::UpdateVectors = parse("update vectors", map(m))?;
        let res = self.service.update_vectors(r.collection_name, body).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn delete_vectors(&self, r: Request<pb::DeletePointVectors>) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let body: api::DeleteVectors =
            parse("delete vectors", delete_vectors_json(r.points_selector, r.vectors)?)?;
        let res = self.service.delete_vectors(r.collection_name, body).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn set_payload(&self, r: Request<pb::SetPayloadPoints>) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let body: api::SetPayload =
            parse("set payload", set_payload_json(r.payload, r.points_selector, r.key)?)?;
        let res = self.service.set_payload(r.collection_name, body, false, wait(r.wait)).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn overwrite_payload(&self, r: Request<pb::SetPayloadPoints>) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let body: api::SetPayload =
            parse("overwrite payload", set_payload_json(r.payload, r.points_selector, r.key)?)?;
        let res = self.service.set_payload(r.collection_name, body, true, wait(r.wait)).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn delete_payload(&self, r: Request<pb::DeletePayloadPoints>) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let body: api::DeletePayload =
            parse("delete payload", delete_payload_json(r.keys, r.points_selector)?)?;
        let res = self.service.delete_payload(r.collection_name, body, wait(r.wait)).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn clear_payload(&self, r: Request<pb::ClearPayloadPoints>) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let sel: api::PointsSelector = parse("clear payload", map(convert::selector(r.points)?))?;
        let res = self.service.clear_payload(r.collection_name, sel, wait(r.wait)).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn create_field_index(
        &self,
        r: Request<pb::CreateFieldIndexCollection>,
    ) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let schema = convert::field_schema(r.field_type, r.field_index_params)?;
        let body: api::CreateFieldIndex =
            parse("create field index", json!({"field_name": r.field_name, "field_schema": schema}))?;
        let res = self.service.create_field_index(r.collection_name, body).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn delete_field_index(
        &self,
        r: Request<pb::DeleteFieldIndexCollection>,
    ) -> Res<pb::PointsOperationResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let res = self.service.delete_field_index(r.collection_name, r.field_name).await?;
        Ok(Response::new(write_response(&res, t)))
    }

    async fn search(&self, r: Request<pb::SearchPoints>) -> Res<pb::SearchResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let (body, pick) = convert::search_points(r)?;
        let body: api::SearchRequest = parse("search", body)?;
        let out = self.service.query(name, body.into()).await?;
        Ok(Response::new(pb::SearchResponse { result: hits(&out.points, &pick)?, time: took(t) }))
    }

    async fn search_batch(&self, r: Request<pb::SearchBatchPoints>) -> Res<pb::SearchBatchResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut searches = Vec::with_capacity(r.search_points.len());
        let mut picks = Vec::with_capacity(r.search_points.len());
        for (i, s) in r.search_points.into_iter().enumerate() {
            let (body, pick) = convert::search_points(s)?;
            searches.push(parse::<api::SearchRequest>(&format!("search_points[{i}]"), body)?);
            picks.push(pick);
        }
        let out = self.service.search_batch(r.collection_name, searches).await?;
        let result = out
            .iter()
            .zip(&picks)
            .map(|(points, pick)| Ok(pb::BatchResult { result: hits(points, pick)? }))
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Response::new(pb::SearchBatchResponse { result, time: took(t) }))
    }

    async fn search_groups(&self, r: Request<pb::SearchPointGroups>) -> Res<pb::SearchGroupsResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut m = Map::new();
        let v = match r.sparse_indices {
            Some(ix) => json!({"indices": ix.data, "values": r.vector}),
            None => json!(r.vector),
        };
        let v = match r.vector_name {
            Some(name) if !name.is_empty() => json!({"name": name, "vector": v}),
            _ => v,
        };
        m.insert("vector".to_owned(), v);
        let pick = convert::query_common(
            &mut m,
            r.filter,
            r.params,
            None,
            None,
            r.score_threshold,
            r.with_payload,
            r.with_vectors,
        )?;
        groups_common(&mut m, r.group_by, r.group_size, r.limit, r.with_lookup);
        let body: c::SearchGroupsRequest = parse("search groups", map(m))?;
        let out = self.service.search_groups(r.collection_name, body).await?;
        let result = Some(convert::groups(&to_json(&out)?, &pick));
        Ok(Response::new(pb::SearchGroupsResponse { result, time: took(t) }))
    }

    async fn scroll(&self, r: Request<pb::ScrollPoints>) -> Res<pb::ScrollResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut m = Map::new();
        put(&mut m, "offset", r.offset.map(convert::point_id).transpose()?);
        put(&mut m, "limit", r.limit.map(J::from));
        put(&mut m, "filter", filter::opt_filter(r.filter)?);
        put(&mut m, "with_payload", convert::with_payload(r.with_payload));
        let (flag, pick) = convert::with_vectors(r.with_vectors);
        put(&mut m, "with_vector", flag);
        put(&mut m, "order_by", r.order_by.map(convert::order_by).transpose()?);
        let body: api::ScrollRequest = parse("scroll", map(m))?;
        let out = self.service.scroll(r.collection_name, body).await?;
        let v = to_json(&out)?;
        let result = v
            .get("points")
            .and_then(J::as_array)
            .map(|a| a.iter().map(|p| convert::record(p, &pick)).collect())
            .unwrap_or_default();
        let next_page_offset = v.get("next_page_offset").filter(|o| !o.is_null()).map(convert::point_id_out);
        Ok(Response::new(pb::ScrollResponse { next_page_offset, result, time: took(t) }))
    }

    async fn recommend(&self, r: Request<pb::RecommendPoints>) -> Res<pb::RecommendResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let (body, pick) = convert::recommend_points(r)?;
        let body: c::RecommendRequest = parse("recommend", body)?;
        let out = self.service.recommend(name, body).await?;
        Ok(Response::new(pb::RecommendResponse { result: hits(&out, &pick)?, time: took(t) }))
    }

    async fn recommend_batch(&self, r: Request<pb::RecommendBatchPoints>) -> Res<pb::RecommendBatchResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut reqs = Vec::with_capacity(r.recommend_points.len());
        let mut picks = Vec::with_capacity(r.recommend_points.len());
        for (i, q) in r.recommend_points.into_iter().enumerate() {
            let (body, pick) = convert::recommend_points(q)?;
            reqs.push(parse::<c::RecommendRequest>(&format!("recommend_points[{i}]"), body)?);
            picks.push(pick);
        }
        let out = self.service.recommend_batch(r.collection_name, reqs).await?;
        let result = out
            .iter()
            .zip(&picks)
            .map(|(points, pick)| Ok(pb::BatchResult { result: hits(points, pick)? }))
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Response::new(pb::RecommendBatchResponse { result, time: took(t) }))
    }

    async fn recommend_groups(
        &self,
        r: Request<pb::RecommendPointGroups>,
    ) -> Res<pb::RecommendGroupsResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut m = Map::new();
        m.insert("positive".to_owned(), convert::examples(r.positive, r.positive_vectors)?);
        m.insert("negative".to_owned(), convert::examples(r.negative, r.negative_vectors)?);
        put(&mut m, "strategy", convert::strategy(r.strategy)?);
        put(&mut m, "using", r.using.map(J::String));
        put(&mut m, "lookup_from", convert::lookup(r.lookup_from));
        let pick = convert::query_common(
            &mut m,
            r.filter,
            r.params,
            None,
            None,
            r.score_threshold,
            r.with_payload,
            r.with_vectors,
        )?;
        groups_common(&mut m, r.group_by, r.group_size, r.limit, r.with_lookup);
        let body: c::RecommendGroupsRequest = parse("recommend groups", map(m))?;
        let out = self.service.recommend_groups(r.collection_name, body).await?;
        let result = Some(convert::groups(&to_json(&out)?, &pick));
        Ok(Response::new(pb::RecommendGroupsResponse { result, time: took(t) }))
    }

    async fn discover(&self, r: Request<pb::DiscoverPoints>) -> Res<pb::DiscoverResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let (body, pick) = convert::discover_points(r)?;
        let body: c::DiscoverRequest = parse("discover", body)?;
        let out = self.service.discover(name, body).await?;
        Ok(Response::new(pb::DiscoverResponse { result: hits(&out, &pick)?, time: took(t) }))
    }

    async fn discover_batch(&self, r: Request<pb::DiscoverBatchPoints>) -> Res<pb::DiscoverBatchResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut reqs = Vec::with_capacity(r.discover_points.len());
        let mut picks = Vec::with_capacity(r.discover_points.len());
        for (i, q) in r.discover_points.into_iter().enumerate() {
            let (body, pick) = convert::discover_points(q)?;
            reqs.push(parse::<c::DiscoverRequest>(&format!("discover_points[{i}]"), body)?);
            picks.push(pick);
        }
        let out = self.service.discover_batch(r.collection_name, reqs).await?;
        let result = out
            .iter()
            .zip(&picks)
            .map(|(points, pick)| Ok(pb::BatchResult { result: hits(points, pick)? }))
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Response::new(pb::DiscoverBatchResponse { result, time: took(t) }))
    }

    async fn count(&self, r: Request<pb::CountPoints>) -> Res<pb::CountResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut m = Map::new();
        put(&mut m, "filter", filter::opt_filter(r.filter)?);
        put(&mut m, "exact", r.exact.map(J::Bool));
        let body: api::CountRequest = parse("count", map(m))?;
        let out = self.service.count(r.collection_name, body).await?;
        Ok(Response::new(pb::CountResponse {
            result: Some(pb::CountResult { count: out.count }),
            time: took(t),
        }))
    }

    async fn update_batch(&self, r: Request<pb::UpdateBatchPoints>) -> Res<pb::UpdateBatchResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let ops = r.operations.into_iter().map(update_operation).collect::<Result<Vec<_>, _>>()?;
        let body: c::UpdateOperations = parse("update batch", json!({"operations": ops}))?;
        let out = self.service.update_batch(r.collection_name, body.operations, wait(r.wait)).await?;
        Ok(Response::new(pb::UpdateBatchResponse {
            result: out.iter().map(convert::update_result).collect(),
            time: took(t),
        }))
    }

    async fn query(&self, r: Request<pb::QueryPoints>) -> Res<pb::QueryResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let (body, pick) = convert::query_points(r)?;
        let body: api::QueryRequest = parse("query", body)?;
        let out = self.service.query(name, body).await?;
        Ok(Response::new(pb::QueryResponse { result: hits(&out.points, &pick)?, time: took(t) }))
    }

    async fn query_batch(&self, r: Request<pb::QueryBatchPoints>) -> Res<pb::QueryBatchResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut queries = Vec::with_capacity(r.query_points.len());
        let mut picks = Vec::with_capacity(r.query_points.len());
        for (i, q) in r.query_points.into_iter().enumerate() {
            let (body, pick) = convert::query_points(q)?;
            queries.push(parse::<api::QueryRequest>(&format!("query_points[{i}]"), body)?);
            picks.push(pick);
        }
        let out = self.service.query_batch(r.collection_name, queries).await?;
        let result = out
            .iter()
            .zip(&picks)
            .map(|(o, pick)| Ok(pb::BatchResult { result: hits(&o.points, pick)? }))
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Response::new(pb::QueryBatchResponse { result, time: took(t) }))
    }

    async fn facet(&self, r: Request<pb::FacetCounts>) -> Res<pb::FacetResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let mut m = Map::new();
        m.insert("key".to_owned(), J::String(r.key));
        put(&mut m, "limit", r.limit.map(J::from));
        put(&mut m, "filter", filter::opt_filter(r.filter)?);
        put(&mut m, "exact", r.exact.map(J::Bool));
        let body: c::FacetRequest = parse("facet", map(m))?;
        let out = self.service.facet(r.collection_name, body).await?;
        let hits = out
            .hits
            .iter()
            .map(|h| pb::FacetHit { value: Some(facet_value(&h.value)), count: h.count })
            .collect();
        Ok(Response::new(pb::FacetResponse { hits, time: took(t) }))
    }

    async fn search_matrix_pairs(
        &self,
        r: Request<pb::SearchMatrixPoints>,
    ) -> Res<pb::SearchMatrixPairsResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let body: c::SearchMatrixRequest = parse("search matrix", matrix_json(r)?)?;
        let out = self.service.matrix_pairs(name, body).await?;
        let pairs = out
            .pairs
            .iter()
            .map(|p| {
                Ok(pb::SearchMatrixPair {
                    a: Some(convert::point_id_out(&to_json(&p.a)?)),
                    b: Some(convert::point_id_out(&to_json(&p.b)?)),
                    score: p.score,
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        Ok(Response::new(pb::SearchMatrixPairsResponse {
            result: Some(pb::SearchMatrixPairs { pairs }),
            time: took(t),
        }))
    }

    async fn search_matrix_offsets(
        &self,
        r: Request<pb::SearchMatrixPoints>,
    ) -> Res<pb::SearchMatrixOffsetsResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let body: c::SearchMatrixRequest = parse("search matrix", matrix_json(r)?)?;
        let out = self.service.matrix_offsets(name, body).await?;
        let ids = out
            .ids
            .iter()
            .map(|id| Ok(convert::point_id_out(&to_json(id)?)))
            .collect::<Result<_, Status>>()?;
        Ok(Response::new(pb::SearchMatrixOffsetsResponse {
            result: Some(pb::SearchMatrixOffsets {
                offsets_row: out.offsets_row,
                offsets_col: out.offsets_col,
                scores: out.scores,
                ids,
            }),
            time: took(t),
        }))
    }
}

#[tonic::async_trait]
impl pb::snapshots_server::Snapshots for QdrantGrpc {
    async fn create(&self, r: Request<pb::CreateSnapshotRequest>) -> Res<pb::CreateSnapshotResponse> {
        let t = Instant::now();
        let s = self.service.create_snapshot(r.into_inner().collection_name).await?;
        Ok(Response::new(pb::CreateSnapshotResponse {
            snapshot_description: Some(convert::snapshot(&s)),
            time: took(t),
        }))
    }

    async fn list(&self, r: Request<pb::ListSnapshotsRequest>) -> Res<pb::ListSnapshotsResponse> {
        let t = Instant::now();
        let list = self.service.list_snapshots(r.into_inner().collection_name).await?;
        Ok(Response::new(pb::ListSnapshotsResponse {
            snapshot_descriptions: list.iter().map(convert::snapshot).collect(),
            time: took(t),
        }))
    }

    async fn delete(&self, r: Request<pb::DeleteSnapshotRequest>) -> Res<pb::DeleteSnapshotResponse> {
        let t = Instant::now();
        let r = r.into_inner();
        self.service.delete_snapshot(r.collection_name, r.snapshot_name).await?;
        Ok(Response::new(pb::DeleteSnapshotResponse { time: took(t) }))
    }

    async fn create_full(
        &self,
        _r: Request<pb::CreateFullSnapshotRequest>,
    ) -> Res<pb::CreateSnapshotResponse> {
        let t = Instant::now();
        let s = self.service.create_full_snapshot().await?;
        Ok(Response::new(pb::CreateSnapshotResponse {
            snapshot_description: Some(convert::snapshot(&s)),
            time: took(t),
        }))
    }

    async fn list_full(&self, _r: Request<pb::ListFullSnapshotsRequest>) -> Res<pb::ListSnapshotsResponse> {
        let t = Instant::now();
        let list = self.service.list_full_snapshots().await?;
        Ok(Response::new(pb::ListSnapshotsResponse {
            snapshot_descriptions: list.iter().map(convert::snapshot).collect(),
            time: took(t),
        }))
    }

    async fn delete_full(
        &self,
        r: Request<pb::DeleteFullSnapshotRequest>,
    ) -> Res<pb::DeleteSnapshotResponse> {
        let t = Instant::now();
        self.service.delete_full_snapshot(r.into_inner().snapshot_name).await?;
        Ok(Response::new(pb::DeleteSnapshotResponse { time: took(t) }))
    }
}

#[tonic::async_trait]
impl pb::qdrant_server::Qdrant for QdrantGrpc {
    async fn health_check(&self, _r: Request<pb::HealthCheckRequest>) -> Res<pb::HealthCheckReply> {
        Ok(Response::new(pb::HealthCheckReply {
            title: "grove".to_owned(),
            version: api::QDRANT_API_VERSION.to_owned(),
            commit: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_unimplemented_gets_the_method_name() {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-status", http::HeaderValue::from_static("12"));
        name_unimplemented("/qdrant.Points/QueryGroups", &mut headers);
        let status = Status::from_header_map(&headers).expect("a status");
        assert_eq!(status.code(), tonic::Code::Unimplemented);
        assert!(status.message().contains("qdrant.Points/QueryGroups"), "{}", status.message());
    }
}
