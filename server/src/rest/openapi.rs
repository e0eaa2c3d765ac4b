//! `/openapi.json`: schemas derived from the [`crate::api`] types (utoipa), operations from the
//! route table, so neither can drift from the code.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Ref, SchemaType, Type};
use utoipa::openapi::{Content, RefOr, Required, ResponseBuilder, Schema};
use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Grove",
        description = "Filtered approximate-nearest-neighbour vector database. Qdrant-shaped REST: successful responses are `{\"result\": ..., \"status\": \"ok\", \"time\": seconds}`, errors `{\"status\": {\"error\": message}, \"time\": seconds}`. Send the API key (when configured) in the `api-key` header."
    ),
    components(schemas(
        api::PointId,
        api::Distance,
        api::VectorParams,
        api::HnswConfigDiff,
        api::CreateCollection,
        api::Datatype,
        api::VectorsConfig,
        api::WalConfigDiff,
        api::OptimizersConfigDiff,
        api::QuantizationConfig,
        api::ScalarQuantization,
        api::ScalarType,
        api::BinaryQuantization,
        api::BinaryEncoding,
        api::BinaryQueryEncoding,
        api::ProductQuantization,
        api::CompressionRatio,
        api::Memory,
        api::TurboQuantization,
        api::TurboBits,
        api::QuantizationConfigDiff,
        api::QuantizationDisabled,
        api::ShardingMethod,
        api::VectorParamsDiff,
        api::CollectionParamsDiff,
        api::UpdateCollection,
        api::WalConfig,
        api::VectorIndexInfo,
        api::VectorMemoryInfo,
        api::VectorStruct,
        api::BatchVectors,
        api::SparseVector,
        api::VectorValue,
        api::SparseVectorParams,
        api::SparseIndexParams,
        api::SparseModifier,
        api::SparseExplainOut,
        api::NamedVectorStruct,
        api::PointVectors,
        api::UpdateVectors,
        api::DeleteVectors,
        api::MatryoshkaConfig,
        api::FunnelStage,
        api::MatryoshkaParams,
        api::MatryoshkaStageOut,
        api::MatryoshkaPrefixOut,
        api::MatryoshkaInfo,
        api::CalibrateRequest,
        api::CalibrationRow,
        api::CalibrationReport,
        api::CollectionDescription,
        api::CollectionsResponse,
        api::CollectionExistence,
        api::HnswConfig,
        api::CollectionParams,
        api::OptimizersConfig,
        api::CollectionConfig,
        api::PayloadSchemaType,
        api::PayloadIndexInfo,
        api::CollectionInfo,
        api::FieldSchema,
        api::CreateFieldIndex,
        api::PointStruct,
        api::Batch,
        api::UpsertPoints,
        api::WithPayload,
        api::PayloadSelector,
        api::GetPoints,
        api::Record,
        api::PointsSelector,
        api::SetPayload,
        api::DeletePayload,
        api::UpdateResult,
        api::UpdateStatus,
        api::QueryInput,
        api::StrategyParam,
        api::SearchParams,
        api::QueryRequest,
        api::SearchRequest,
        api::QueryBatchRequest,
        api::ScoredPoint,
        api::ExplainOut,
        api::QueryResponse,
        api::ScrollRequest,
        api::ScrollResult,
        api::CountRequest,
        api::CountResult,
        api::SnapshotDescription,
        api::SnapshotRecover,
        api::RecoverOutcome,
        api::FilterExplainOut,
        api::VersionInfo,
        crate::diagnostics::SubsetQueryIn,
        crate::diagnostics::SubsetDiagnosticRequest,
        crate::diagnostics::SubsetQueryOut,
        crate::diagnostics::SubsetDiagnosticResult,
        crate::diagnostics::CapacityJobRequest,
        crate::diagnostics::JobProgress,
        crate::diagnostics::ProbeOut,
        crate::diagnostics::Reference,
        crate::diagnostics::CapacityResult,
        crate::diagnostics::JobInfo,
    ))
)]
struct ApiDoc;

/// Schemas of the Qdrant operations composed over the core ones ([`crate::api_compat`]).
#[derive(OpenApi)]
#[openapi(components(schemas(
    crate::api_compat::UpdateOperations,
    crate::api_compat::UpdateOperation,
    crate::api_compat::SearchBatch,
    crate::api_compat::Example,
    crate::api_compat::RecommendStrategy,
    crate::api_compat::RecommendRequest,
    crate::api_compat::LookupLocation,
    crate::api_compat::RecommendBatch,
    crate::api_compat::ContextPair,
    crate::api_compat::DiscoverRequest,
    crate::api_compat::DiscoverBatch,
    crate::api_compat::SearchGroupsRequest,
    crate::api_compat::RecommendGroupsRequest,
    crate::api_compat::GroupId,
    crate::api_compat::PointGroup,
    crate::api_compat::GroupsResult,
    crate::api_compat::FacetRequest,
    crate::api_compat::FacetValueHit,
    crate::api_compat::FacetResponse,
    crate::api_compat::SearchMatrixRequest,
    crate::api_compat::SearchMatrixPair,
    crate::api_compat::SearchMatrixPairsResponse,
    crate::api_compat::SearchMatrixOffsetsResponse,
    crate::api_compat::ChangeAliasesOperation,
    crate::api_compat::AliasOperation,
    crate::api_compat::CreateAlias,
    crate::api_compat::DeleteAlias,
    crate::api_compat::RenameAlias,
    crate::api_compat::AliasDescription,
    crate::api_compat::CollectionsAliasesResponse,
    crate::api_compat::ClusterStatus,
    crate::api_compat::CollectionClusterInfo,
    crate::api_compat::LocalShardInfo,
    crate::api_compat::IssuesReport,
    crate::api_compat::TelemetryData,
    crate::api_compat::AppTelemetry,
    crate::api_compat::CollectionsTelemetry,
    crate::api_compat::RequestsTelemetry,
    crate::api_compat::WebApiTelemetry,
    crate::api_compat::GrpcTelemetry,
    crate::api_compat::OperationDurationStatistics,
    crate::api_query::Prefetch,
    crate::api_query::Fusion,
    crate::api_query::Rrf,
    crate::api_query::VectorInput,
    crate::api_query::RecommendInput,
    crate::api_query::ContextInputPair,
    crate::api_query::DiscoverInput,
    crate::api_query::Direction,
    crate::api_query::OrderByInput,
    crate::api_query::OrderBy,
    crate::api_query::Sample,
    crate::api_query::WithLookup,
    crate::api_query::WithLookupFull,
    crate::api_query::QueryGroupsRequest,
    crate::api_query::StageExplainOut,
)))]
struct CompatDoc;

fn schema_of(name: &str) -> RefOr<Schema> {
    if let Some(inner) = name.strip_prefix("Vec<").and_then(|s| s.strip_suffix('>')) {
        return ArrayBuilder::new().items(schema_of(inner)).build().into();
    }
    match name {
        "bool" => ObjectBuilder::new().schema_type(SchemaType::new(Type::Boolean)).build().into(),
        other => Ref::from_schema_name(other).into(),
    }
}

/// The OpenAPI 3.1 document of every route in [`super::routes::ROUTES`].
/// Response types sent bare, without the `{"result", "status", "time"}` envelope, because
/// Qdrant sends them so: `GET /` (clients read `version` from the top level).
const UNWRAPPED: &[&str] = &["VersionInfo"];

/// The operation's entry in words (`crate::operations`): access, pool and limits.
fn operation_note(op: crate::operations::Op) -> String {
    let spec = op.spec();
    let access = match spec.access {
        None => "public".to_owned(),
        Some(a) => format!("{a:?} key access").to_lowercase(),
    };
    let limits: Vec<String> = spec.limits.iter().map(|l| format!("{l:?}")).collect();
    let limits = if limits.is_empty() { "none".to_owned() } else { limits.join(", ") };
    format!("Operation `{op:?}`: {access}; runs on the {:?} pool; limits: {limits}.", spec.pool)
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(CompatDoc::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for route in super::routes::ROUTES {
        let method = match route.method {
            "GET" => HttpMethod::Get,
            "PUT" => HttpMethod::Put,
            "POST" => HttpMethod::Post,
            "PATCH" => HttpMethod::Patch,
            _ => HttpMethod::Delete,
        };
        let mut op =
            OperationBuilder::new().summary(Some(route.summary)).description(Some(operation_note(route.op)));
        for segment in route.path.split('/') {
            if let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(param)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)))),
                );
            }
        }
        if route.op.access() == Some(crate::auth::Access::Write) && route.path.contains("/points") {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("wait")
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some("Wait until the write is visible to searches"))
                    .schema(Some(ObjectBuilder::new().schema_type(SchemaType::new(Type::Boolean)))),
            );
        }
        if let Some(req) = route.request {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", Content::new(Some(schema_of(req))))
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        let ok = if route.response == "text" {
            ResponseBuilder::new().description("OK")
        } else if UNWRAPPED.contains(&route.response) {
            ResponseBuilder::new()
                .description("OK")
                .content("application/json", Content::new(Some(schema_of(route.response))))
        } else {
            let envelope = ObjectBuilder::new()
                .property("result", schema_of(route.response))
                .property("status", ObjectBuilder::new().schema_type(SchemaType::new(Type::String)))
                .property("time", ObjectBuilder::new().schema_type(SchemaType::new(Type::Number)))
                .build();
            ResponseBuilder::new().description("OK").content("application/json", Content::new(Some(envelope)))
        };
        op = op.response("200", ok.build());
        op = op.response(
            "4XX",
            ResponseBuilder::new()
                .description(
                    "Bad request, unknown collection, or auth refused: `status.error` says what to fix",
                )
                .build(),
        );
        doc.paths.add_path_operation(route.path, vec![method], op.build());
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_referenced_schema_is_in_the_document() {
        let doc = document();
        let json = serde_json::to_value(&doc).expect("serialises");
        let schemas = json["components"]["schemas"].as_object().expect("schemas").clone();
        for route in super::super::routes::ROUTES {
            let item = &json["paths"][route.path][route.method.to_lowercase()];
            assert!(item.is_object(), "{} {} missing", route.method, route.path);
            for name in [route.request.unwrap_or("bool"), route.response] {
                let base = name.trim_start_matches("Vec<").trim_end_matches('>');
                if base != "bool" && base != "text" {
                    assert!(schemas.contains_key(base), "schema {base} missing");
                }
            }
        }
    }
}
