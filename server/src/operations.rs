//! Every operation the server performs, declared once: the access level it needs, the pool its
//! work runs on and the limits that bound it. Both transports look operations up here: each
//! REST route names its [`Op`] (`rest/routes.rs`), and [`grpc_op`] maps every gRPC method of
//! both APIs (grove.v1 and Qdrant's `qdrant.*`) to one. The service's runners take the `Op`
//! and run the work on the pool its entry names, so the declaration is what happens.
//!
//! Why one table: the REST and gRPC access tables used to be separate and disagreed (Matryoshka
//! calibration was a read over REST and a write over gRPC). A test walks every REST route and
//! every `rpc` in the `.proto` files and fails on a method without an entry.

use crate::auth::Access;

/// Where an operation's work runs (see `service/mod.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Answered on the async worker: no storage call that can block (health, metrics,
    /// metadata kept in memory).
    Inline,
    /// Tokio's blocking pool, tracked so shutdown waits for it; never abandoned once started
    /// (writes, snapshot files).
    Blocking,
    /// The search pool (`service.search_threads`): reads, stopped at the request's deadline.
    Search,
    /// The analysis pool (`service.analysis_threads`), admitted only under its cap:
    /// calibrations and diagnostics.
    Analysis,
}

/// A configured limit an operation is held to (the `service` and `limits` config sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `service.request_timeout_secs`: the answer's deadline (reads are stopped at it).
    Timeout,
    /// `service.max_body_bytes` (REST bodies) / the gRPC message size.
    Body,
    /// `service.max_snapshot_upload_bytes`.
    SnapshotUpload,
    /// `limits.max_points_per_request`.
    Points,
    /// `limits.max_batch_size`.
    Batch,
    /// `limits.max_limit` and `limits.max_ef`.
    QuerySize,
    /// `limits.max_filter_conditions`.
    FilterConditions,
    /// `service.analysis_threads`: analyses queued or running at once.
    AnalysisSlots,
}

/// What one operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// `None`: public (no key).
    pub access: Option<Access>,
    /// Where its work runs.
    pub pool: Pool,
    /// What bounds it.
    pub limits: &'static [Limit],
}

/// Every operation, whatever transport asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs, reason = "the names are the operations; `Op::spec` says what each needs")]
pub enum Op {
    // Server
    Root,
    Health,
    Ready,
    OpenApi,
    Dashboard,
    WhoAmI,
    Metrics,
    Telemetry,
    Issues,
    ClearIssues,
    ClusterStatus,
    ClusterChange,
    // Collections
    ListCollections,
    GetCollection,
    CollectionExists,
    CreateCollection,
    UpdateCollection,
    DeleteCollection,
    CollectionCluster,
    CreateFieldIndex,
    DeleteFieldIndex,
    ListAliases,
    CollectionAliases,
    UpdateAliases,
    // Point writes
    Upsert,
    DeletePoints,
    UpdateVectors,
    DeleteVectors,
    SetPayload,
    OverwritePayload,
    DeletePayload,
    ClearPayload,
    UpdateBatch,
    // Point reads
    GetPoints,
    Scroll,
    Count,
    Query,
    QueryBatch,
    QueryGroups,
    Search,
    SearchBatch,
    SearchGroups,
    Recommend,
    RecommendBatch,
    RecommendGroups,
    Discover,
    DiscoverBatch,
    MatrixPairs,
    MatrixOffsets,
    Facet,
    // Analysis
    CalibrateMatryoshka,
    DiagnoseSubsets,
    StartCapacityJob,
    GetJob,
    CancelJob,
    // Snapshots
    CreateSnapshot,
    ListSnapshots,
    DownloadSnapshot,
    DeleteSnapshot,
    RecoverSnapshot,
    UploadSnapshot,
    CreateFullSnapshot,
    ListFullSnapshots,
    DownloadFullSnapshot,
    DeleteFullSnapshot,
}

const R: Option<Access> = Some(Access::Read);
const W: Option<Access> = Some(Access::Write);
const A: Option<Access> = Some(Access::Admin);

use Limit::{AnalysisSlots, Batch, Body, FilterConditions, Points, QuerySize, SnapshotUpload, Timeout};

const READ: &[Limit] = &[Timeout, QuerySize, FilterConditions];
const READ_BATCH: &[Limit] = &[Timeout, QuerySize, FilterConditions, Batch];
const WRITE: &[Limit] = &[Timeout, Body, Points, FilterConditions];

impl Op {
    /// The operation's entry. Exhaustive: a new operation does not compile until it is declared.
    pub const fn spec(self) -> Spec {
        use Op::*;
        use Pool::{Analysis, Blocking, Inline};
        let (access, pool, limits): (Option<Access>, Pool, &'static [Limit]) = match self {
            Root | Health | Ready | OpenApi | Dashboard => (None, Inline, &[]),
            WhoAmI | Metrics | Telemetry | Issues | ClusterStatus | CollectionCluster | GetJob => {
                (R, Inline, &[])
            }
            ClearIssues | CancelJob => (W, Inline, &[]),
            ClusterChange => (A, Inline, &[]),
            ListCollections | CollectionExists => (R, Inline, &[]),
            GetCollection => (R, Pool::Search, &[Timeout]),
            ListAliases | CollectionAliases => (R, Blocking, &[Timeout]),
            CreateCollection | UpdateCollection | DeleteCollection | CreateFieldIndex | DeleteFieldIndex
            | UpdateAliases => (W, Blocking, &[Timeout, Body]),
            Upsert | DeletePoints | UpdateVectors | DeleteVectors | SetPayload | OverwritePayload
            | DeletePayload | ClearPayload => (W, Blocking, WRITE),
            UpdateBatch => (W, Blocking, &[Timeout, Body, Points, FilterConditions, Batch]),
            GetPoints => (R, Pool::Search, &[Timeout, Points]),
            Scroll | Count | Query | QueryGroups | Search | SearchGroups | Recommend | RecommendGroups
            | Discover | MatrixPairs | MatrixOffsets | Facet => (R, Pool::Search, READ),
            QueryBatch | SearchBatch | RecommendBatch | DiscoverBatch => (R, Pool::Search, READ_BATCH),
            // Calibration and the subset diagnostic change nothing: a read-only key may run them;
            // the analysis pool's cap keeps them from crowding out searches.
            CalibrateMatryoshka | DiagnoseSubsets => (R, Analysis, &[Timeout, AnalysisSlots, QuerySize]),
            StartCapacityJob => (W, Analysis, &[AnalysisSlots]),
            ListSnapshots => (R, Pool::Search, &[Timeout]),
            DownloadSnapshot | ListFullSnapshots | DownloadFullSnapshot => (R, Blocking, &[Timeout]),
            CreateSnapshot | DeleteSnapshot => (W, Blocking, &[Timeout]),
            // Replacing a collection's data, or the whole server's, is an administrator's act.
            RecoverSnapshot | CreateFullSnapshot | DeleteFullSnapshot => (A, Blocking, &[Timeout]),
            UploadSnapshot => (A, Blocking, &[Timeout, SnapshotUpload]),
        };
        Spec { access, pool, limits }
    }

    /// The access the operation needs (`None`: public).
    pub const fn access(self) -> Option<Access> {
        self.spec().access
    }

    /// The pool its work runs on.
    pub const fn pool(self) -> Pool {
        self.spec().pool
    }
}

/// Every gRPC method both APIs serve, by its full name (`package.Service/Method`).
pub const GRPC_METHODS: &[(&str, Op)] = &[
    ("grove.v1.Health/Check", Op::Health),
    ("grove.v1.Collections/Create", Op::CreateCollection),
    ("grove.v1.Collections/Get", Op::GetCollection),
    ("grove.v1.Collections/List", Op::ListCollections),
    ("grove.v1.Collections/Delete", Op::DeleteCollection),
    ("grove.v1.Collections/CreateFieldIndex", Op::CreateFieldIndex),
    ("grove.v1.Collections/DeleteFieldIndex", Op::DeleteFieldIndex),
    ("grove.v1.Points/Upsert", Op::Upsert),
    ("grove.v1.Points/Get", Op::GetPoints),
    ("grove.v1.Points/Delete", Op::DeletePoints),
    ("grove.v1.Points/SetPayload", Op::SetPayload),
    ("grove.v1.Points/DeletePayload", Op::DeletePayload),
    ("grove.v1.Points/ClearPayload", Op::ClearPayload),
    ("grove.v1.Points/Query", Op::Query),
    ("grove.v1.Points/QueryBatch", Op::QueryBatch),
    ("grove.v1.Points/Scroll", Op::Scroll),
    ("grove.v1.Points/Count", Op::Count),
    ("grove.v1.Points/CalibrateMatryoshka", Op::CalibrateMatryoshka),
    ("grove.v1.Snapshots/Create", Op::CreateSnapshot),
    ("grove.v1.Snapshots/List", Op::ListSnapshots),
    ("grove.v1.Snapshots/Delete", Op::DeleteSnapshot),
    ("grove.v1.Snapshots/Recover", Op::RecoverSnapshot),
    ("grove.v1.Snapshots/Download", Op::DownloadSnapshot),
    ("grove.v1.Diagnostics/DiagnoseSubsets", Op::DiagnoseSubsets),
    ("grove.v1.Diagnostics/StartCapacityJob", Op::StartCapacityJob),
    ("grove.v1.Diagnostics/GetJob", Op::GetJob),
    ("grove.v1.Diagnostics/CancelJob", Op::CancelJob),
    ("qdrant.Qdrant/HealthCheck", Op::Health),
    ("qdrant.Collections/Get", Op::GetCollection),
    ("qdrant.Collections/List", Op::ListCollections),
    ("qdrant.Collections/Create", Op::CreateCollection),
    ("qdrant.Collections/Update", Op::UpdateCollection),
    ("qdrant.Collections/Delete", Op::DeleteCollection),
    ("qdrant.Collections/UpdateAliases", Op::UpdateAliases),
    ("qdrant.Collections/ListCollectionAliases", Op::CollectionAliases),
    ("qdrant.Collections/ListAliases", Op::ListAliases),
    ("qdrant.Collections/CollectionClusterInfo", Op::CollectionCluster),
    ("qdrant.Collections/CollectionExists", Op::CollectionExists),
    ("qdrant.Points/Upsert", Op::Upsert),
    ("qdrant.Points/Delete", Op::DeletePoints),
    ("qdrant.Points/Get", Op::GetPoints),
    ("qdrant.Points/UpdateVectors", Op::UpdateVectors),
    ("qdrant.Points/DeleteVectors", Op::DeleteVectors),
    ("qdrant.Points/SetPayload", Op::SetPayload),
    ("qdrant.Points/OverwritePayload", Op::OverwritePayload),
    ("qdrant.Points/DeletePayload", Op::DeletePayload),
    ("qdrant.Points/ClearPayload", Op::ClearPayload),
    ("qdrant.Points/CreateFieldIndex", Op::CreateFieldIndex),
    ("qdrant.Points/DeleteFieldIndex", Op::DeleteFieldIndex),
    ("qdrant.Points/Search", Op::Search),
    ("qdrant.Points/SearchBatch", Op::SearchBatch),
    ("qdrant.Points/SearchGroups", Op::SearchGroups),
    ("qdrant.Points/Scroll", Op::Scroll),
    ("qdrant.Points/Recommend", Op::Recommend),
    ("qdrant.Points/RecommendBatch", Op::RecommendBatch),
    ("qdrant.Points/RecommendGroups", Op::RecommendGroups),
    ("qdrant.Points/Discover", Op::Discover),
    ("qdrant.Points/DiscoverBatch", Op::DiscoverBatch),
    ("qdrant.Points/Count", Op::Count),
    ("qdrant.Points/UpdateBatch", Op::UpdateBatch),
    ("qdrant.Points/Query", Op::Query),
    ("qdrant.Points/QueryBatch", Op::QueryBatch),
    ("qdrant.Points/Facet", Op::Facet),
    ("qdrant.Points/SearchMatrixPairs", Op::MatrixPairs),
    ("qdrant.Points/SearchMatrixOffsets", Op::MatrixOffsets),
    ("qdrant.Snapshots/Create", Op::CreateSnapshot),
    ("qdrant.Snapshots/List", Op::ListSnapshots),
    ("qdrant.Snapshots/Delete", Op::DeleteSnapshot),
    ("qdrant.Snapshots/CreateFull", Op::CreateFullSnapshot),
    ("qdrant.Snapshots/ListFull", Op::ListFullSnapshots),
    ("qdrant.Snapshots/DeleteFull", Op::DeleteFullSnapshot),
];

/// The operation of a gRPC request path (`/package.Service/Method`); `None` for a method no
/// entry declares (the guard then asks for the admin key, so an undeclared method is never
/// public by accident; the service answers UNIMPLEMENTED).
pub fn grpc_op(path: &str) -> Option<Op> {
    let name = path.trim_start_matches('/');
    GRPC_METHODS.iter().find(|(m, _)| *m == name).map(|&(_, op)| op)
}

/// The access a gRPC request path needs: its operation's, or admin for an undeclared one.
pub fn grpc_access(path: &str) -> Option<Access> {
    grpc_op(path).map_or(Some(Access::Admin), Op::access)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// `(package.Service/Method)` for every `rpc` of every service in the `.proto` files the
    /// server compiles (read from the proto crate's sources).
    fn proto_methods() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/proto");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("proto dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "proto") {
                    files.push(p);
                }
            }
        }
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("proto file");
            let mut package = String::new();
            // `rpc` lines only occur inside a `service` block: each belongs to the last one opened.
            let mut service = None::<String>;
            for line in text.lines() {
                let t = line.trim();
                if let Some(p) = t.strip_prefix("package ") {
                    package = p.trim_end_matches(';').trim().to_owned();
                } else if let Some(s) = t.strip_prefix("service ") {
                    service = Some(s.trim_end_matches('{').trim().to_owned());
                } else if let (Some(s), Some(r)) = (&service, t.strip_prefix("rpc ")) {
                    let method: String = r.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    out.push(format!("{package}.{s}/{method}"));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn every_grpc_method_has_exactly_one_entry() {
        let methods = proto_methods();
        assert!(methods.len() > 60, "found only {} rpc methods: {methods:?}", methods.len());
        for m in &methods {
            let n = GRPC_METHODS.iter().filter(|(name, _)| name == m).count();
            assert_eq!(n, 1, "gRPC method {m} has {n} entries in operations::GRPC_METHODS");
        }
        for (name, _) in GRPC_METHODS {
            assert!(methods.contains(&name.to_string()), "entry {name} names no rpc in the .proto files");
        }
    }

    #[test]
    fn every_rest_route_is_unique_and_every_operation_is_served() {
        let mut seen = BTreeSet::new();
        for r in crate::rest::routes::ROUTES {
            assert!(seen.insert((r.method, r.path)), "route {} {} is declared twice", r.method, r.path);
        }
        let served: BTreeSet<Op> = crate::rest::routes::ROUTES
            .iter()
            .map(|r| r.op)
            .chain(GRPC_METHODS.iter().map(|&(_, op)| op))
            .collect();
        for op in ALL {
            assert!(served.contains(op), "{op:?} is declared but no route or method serves it");
        }
    }

    /// Every variant (`every_variant_is_listed` checks none is missing).
    const ALL: &[Op] = &[
        Op::Root,
        Op::Health,
        Op::Ready,
        Op::OpenApi,
        Op::Dashboard,
        Op::WhoAmI,
        Op::Metrics,
        Op::Telemetry,
        Op::Issues,
        Op::ClearIssues,
        Op::ClusterStatus,
        Op::ClusterChange,
        Op::ListCollections,
        Op::GetCollection,
        Op::CollectionExists,
        Op::CreateCollection,
        Op::UpdateCollection,
        Op::DeleteCollection,
        Op::CollectionCluster,
        Op::CreateFieldIndex,
        Op::DeleteFieldIndex,
        Op::ListAliases,
        Op::CollectionAliases,
        Op::UpdateAliases,
        Op::Upsert,
        Op::DeletePoints,
        Op::UpdateVectors,
        Op::DeleteVectors,
        Op::SetPayload,
        Op::OverwritePayload,
        Op::DeletePayload,
        Op::ClearPayload,
        Op::UpdateBatch,
        Op::GetPoints,
        Op::Scroll,
        Op::Count,
        Op::Query,
        Op::QueryBatch,
        Op::QueryGroups,
        Op::Search,
        Op::SearchBatch,
        Op::SearchGroups,
        Op::Recommend,
        Op::RecommendBatch,
        Op::RecommendGroups,
        Op::Discover,
        Op::DiscoverBatch,
        Op::MatrixPairs,
        Op::MatrixOffsets,
        Op::Facet,
        Op::CalibrateMatryoshka,
        Op::DiagnoseSubsets,
        Op::StartCapacityJob,
        Op::GetJob,
        Op::CancelJob,
        Op::CreateSnapshot,
        Op::ListSnapshots,
        Op::DownloadSnapshot,
        Op::DeleteSnapshot,
        Op::RecoverSnapshot,
        Op::UploadSnapshot,
        Op::CreateFullSnapshot,
        Op::ListFullSnapshots,
        Op::DownloadFullSnapshot,
        Op::DeleteFullSnapshot,
    ];

    #[test]
    fn every_variant_is_listed() {
        assert_eq!(ALL.len(), ALL.iter().collect::<BTreeSet<_>>().len(), "ALL lists a variant twice");
        // `DeleteFullSnapshot` is the last variant: the discriminants run 0..=it.
        assert_eq!(ALL.len(), Op::DeleteFullSnapshot as usize + 1, "ALL misses a variant");
    }

    #[test]
    fn the_two_apis_agree_and_undeclared_methods_need_the_admin_key() {
        assert_eq!(grpc_access("/grove.v1.Health/Check"), None);
        assert_eq!(grpc_access("/qdrant.Qdrant/HealthCheck"), None);
        assert_eq!(grpc_access("/grove.v1.Points/CalibrateMatryoshka"), Some(Access::Read));
        assert_eq!(grpc_access("/grove.v1.Points/Upsert"), Some(Access::Write));
        assert_eq!(grpc_access("/grove.v1.Snapshots/Recover"), Some(Access::Admin));
        assert_eq!(grpc_access("/qdrant.Points/Query"), Some(Access::Read));
        assert_eq!(grpc_access("/unknown"), Some(Access::Admin));
        assert_eq!(grpc_access("/qdrant.Points/SomethingNew"), Some(Access::Admin));
        let calibrate = crate::rest::routes::ROUTES
            .iter()
            .find(|r| r.path.ends_with("/matryoshka/calibrate"))
            .map(|r| r.op.access());
        assert_eq!(calibrate, Some(grpc_access("/grove.v1.Points/CalibrateMatryoshka")));
    }
}
