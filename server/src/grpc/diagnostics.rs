//! gRPC `grove.v1.Diagnostics`: converts to and from the REST types in `crate::diagnostics` and
//! calls the same service methods.

use grove_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{convert, Grpc, Res};
use crate::diagnostics as dg;

fn usize_opt(v: Option<u64>) -> Option<usize> {
    v.map(|x| usize::try_from(x).unwrap_or(usize::MAX))
}

fn subset_request(r: pb::DiagnoseSubsetsRequest) -> Result<dg::SubsetDiagnosticRequest, Status> {
    let mut queries = Vec::with_capacity(r.queries.len());
    for (i, q) in r.queries.into_iter().enumerate() {
        let relevant = q
            .relevant
            .into_iter()
            .map(|id| convert::point_id(Some(id), &format!("queries[{i}].relevant")))
            .collect::<Result<Vec<_>, _>>()?;
        queries.push(dg::SubsetQueryIn { vector: q.vector, relevant });
    }
    Ok(dg::SubsetDiagnosticRequest {
        queries,
        k: if r.k.is_empty() { vec![2, 10, 100] } else { r.k.into_iter().map(|k| k as usize).collect() },
        filter: r.filter.map(convert::filter).transpose()?,
        sample: usize_opt(r.sample),
        seed: r.seed,
        time_budget_secs: r.time_budget_secs,
        competitors: usize_opt(r.competitors),
        ef: usize_opt(r.ef),
    })
}

fn subset_response(r: dg::SubsetDiagnosticResult) -> pb::DiagnoseSubsetsResponse {
    pb::DiagnoseSubsetsResponse {
        k: r.k.iter().map(|&k| k as u32).collect(),
        total_queries: r.total_queries as u64,
        diagnosed: r.diagnosed as u64,
        allowed_points: r.allowed_points,
        mean_recall_exact: r.mean_recall_exact,
        mean_recall_index: r.mean_recall_index.unwrap_or_default(),
        index_loss: r.index_loss.unwrap_or_default(),
        exact_top_is_relevant: r.exact_top_is_relevant as u64,
        labels: r.labels.into_iter().map(|(label, c)| pb::LabelCount { label, count: c as u64 }).collect(),
        fragile_margin: r.fragile_margin,
        budget_exhausted: r.budget_exhausted,
        elapsed_secs: r.elapsed_secs,
        queries: r
            .queries
            .into_iter()
            .map(|q| pb::SubsetQueryResult {
                query: q.query as u64,
                relevant: q.relevant as u64,
                recall_exact: q.recall_exact.unwrap_or_default(),
                recall_index: q.recall_index.unwrap_or_default(),
                exact_top_is_relevant: q.exact_top_is_relevant,
                index_top_is_relevant: q.index_top_is_relevant,
                label: q.label,
                margin: q.margin,
                margin_upper: q.margin_upper,
                reason: q.reason,
            })
            .collect(),
    }
}

fn capacity_request(r: pb::StartCapacityJobRequest) -> dg::CapacityJobRequest {
    dg::CapacityJobRequest {
        d: r.d as usize,
        k: r.k.map(|k| k as usize),
        pattern: r.pattern,
        queries: usize_opt(r.queries),
        n: usize_opt(r.n),
        qrels: (!r.qrels.is_empty()).then(|| r.qrels.into_iter().map(|s| s.ids).collect()),
        seed: r.seed,
        budget_secs: r.budget_secs,
        threads: r.threads.map(|t| t as usize),
        max_n: usize_opt(r.max_n),
        restarts: r.restarts.map(|x| x as usize),
        max_steps: usize_opt(r.max_steps),
        patience: usize_opt(r.patience),
    }
}

fn reference(r: dg::Reference) -> pb::Reference {
    pb::Reference { value: r.value, kind: r.kind, note: r.note }
}

fn job_out(j: dg::JobInfo) -> pb::JobInfo {
    pb::JobInfo {
        id: j.id,
        kind: j.kind,
        status: j.status,
        elapsed_secs: j.elapsed_secs,
        progress: j.progress.map(|p| pb::JobProgress {
            n: p.n as u64,
            attempt: p.attempt as u64,
            step: p.step as u64,
            loss: p.loss,
            realised: p.realised as u64,
            queries: p.queries as u64,
        }),
        probes_done: j.probes_done as u64,
        result: j.result.map(|r| pb::CapacityResult {
            mode: r.mode,
            d: r.d as u32,
            k: r.k as u32,
            critical_n: r.critical_n.map(|x| x as u64),
            first_failure: r.first_failure.map(|x| x as u64),
            complete: r.complete,
            probes: r
                .probes
                .into_iter()
                .map(|p| pb::Probe {
                    n: p.n as u64,
                    qrels: p.qrels as u64,
                    all_realised: p.all_realised,
                    best_realised: p.best_realised as u64,
                    budget_exhausted: p.budget_exhausted,
                    steps: p.steps as u64,
                    seconds: p.seconds,
                })
                .collect(),
            paper_fit: r.paper_fit.map(reference),
            exact_bound_dim: Some(reference(r.exact_bound_dim)),
        }),
        error: j.error,
    }
}

#[tonic::async_trait]
impl pb::diagnostics_server::Diagnostics for Grpc {
    async fn diagnose_subsets(
        &self,
        r: Request<pb::DiagnoseSubsetsRequest>,
    ) -> Res<pb::DiagnoseSubsetsResponse> {
        let r = r.into_inner();
        let name = r.collection_name.clone();
        let out = self.service.diagnose_subsets(name, subset_request(r)?).await?;
        Ok(Response::new(subset_response(out)))
    }

    async fn start_capacity_job(&self, r: Request<pb::StartCapacityJobRequest>) -> Res<pb::JobInfo> {
        Ok(Response::new(job_out(self.service.start_capacity_job(capacity_request(r.into_inner()))?)))
    }

    async fn get_job(&self, r: Request<pb::JobRequest>) -> Res<pb::JobInfo> {
        Ok(Response::new(job_out(self.service.job(r.into_inner().id)?)))
    }

    async fn cancel_job(&self, r: Request<pb::JobRequest>) -> Res<pb::JobInfo> {
        Ok(Response::new(job_out(self.service.cancel_job(r.into_inner().id)?)))
    }
}
