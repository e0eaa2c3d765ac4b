//! Thin REST handlers of the LIMIT diagnostics (see `crate::diagnostics`).

use axum::extract::State;

use super::extract::{Json, Path};
use super::{AppState, Done, RestResult};
use crate::diagnostics::{CapacityJobRequest, JobInfo, SubsetDiagnosticRequest, SubsetDiagnosticResult};

type S = State<AppState>;

pub async fn subsets(
    State(s): S,
    Path(name): Path<String>,
    Json(body): Json<SubsetDiagnosticRequest>,
) -> RestResult<SubsetDiagnosticResult> {
    Ok(Done(s.service.diagnose_subsets(name, body).await?))
}

pub async fn start_capacity(State(s): S, Json(body): Json<CapacityJobRequest>) -> RestResult<JobInfo> {
    Ok(Done(s.service.start_capacity_job(body)?))
}

pub async fn get_job(State(s): S, Path(id): Path<u64>) -> RestResult<JobInfo> {
    Ok(Done(s.service.job(id)?))
}

pub async fn cancel_job(State(s): S, Path(id): Path<u64>) -> RestResult<JobInfo> {
    Ok(Done(s.service.cancel_job(id)?))
}
