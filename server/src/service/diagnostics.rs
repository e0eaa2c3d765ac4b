//! LIMIT diagnostics in the service layer: the subset diagnostic (a bounded request on the
//! search pool) and capacity jobs (their own thread and rayon pool, polled by id).

use std::sync::Arc;
use std::time::Duration;

use grove_index::diagnostics::bounds::{exact_sufficient_dimension, weller_fit_critical_n};
use grove_index::diagnostics::capacity::{
    critical_n, probe_qrels, CapacityConfig, CapacityProgress, CriticalNConfig, ProbeResult, QrelPattern,
};
use grove_index::diagnostics::Budget;
use grove_storage as st;

use super::{ops, Service, ServiceError, ServiceResult};
use crate::diagnostics::jobs::Job;
use crate::diagnostics::{
    CapacityJobRequest, CapacityResult, JobInfo, JobProgress, ProbeOut, Reference, SubsetDiagnosticRequest,
    SubsetDiagnosticResult, SubsetQueryOut,
};
use crate::operations::Op;

/// Largest capacity job budget, seconds.
pub const MAX_JOB_BUDGET_SECS: f64 = 3600.0;
/// Largest dimension a capacity job may probe.
pub const MAX_JOB_DIM: usize = 1024;
/// Most queries a subset diagnostic request may carry.
pub const MAX_SUBSET_QUERIES: usize = 10_000;

fn bad(field: &str, why: impl std::fmt::Display) -> ServiceError {
    ServiceError::invalid(format!("{field}: {why}"))
}

fn probe_out(p: &ProbeResult) -> ProbeOut {
    ProbeOut {
        n: p.n,
        qrels: p.queries,
        all_realised: p.all_realised,
        best_realised: p.best_realised,
        budget_exhausted: p.budget_exhausted,
        steps: p.attempts.iter().map(|a| a.steps).sum(),
        seconds: p.elapsed.as_secs_f64(),
    }
}

/// What a validated capacity request runs.
#[derive(Debug)]
enum Plan {
    /// Critical-n search over all k-subsets.
    Search(CriticalNConfig),
    /// One probe at n documents with these qrels.
    Probe { n: usize, qrels: Vec<Vec<u32>>, cfg: CapacityConfig },
}

fn plan_capacity(r: &CapacityJobRequest) -> ServiceResult<(Plan, usize)> {
    if r.d == 0 || r.d > MAX_JOB_DIM {
        return Err(bad("d", format!("must be between 1 and {MAX_JOB_DIM}, got {}", r.d)));
    }
    let k = r.k.unwrap_or(2);
    if k == 0 {
        return Err(bad("k", "must be > 0"));
    }
    let budget = r.budget_secs.unwrap_or(60.0);
    if !(budget.is_finite() && budget > 0.0 && budget <= MAX_JOB_BUDGET_SECS) {
        return Err(bad("budget_secs", format!("must be in (0, {MAX_JOB_BUDGET_SECS}], got {budget}")));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = r.threads.unwrap_or(1);
    if threads == 0 || threads > cores {
        return Err(bad(
            "threads",
            format!("must be between 1 and {cores} (this machine's cores), got {threads}"),
        ));
    }
    let mut cfg = CapacityConfig::new(r.d, k);
    cfg.seed = r.seed;
    cfg.time_budget = Some(Duration::from_secs_f64(budget));
    cfg.progress_every = 50;
    for (field, value, target) in [
        ("restarts", r.restarts, &mut cfg.restarts),
        ("max_steps", r.max_steps, &mut cfg.max_steps),
        ("patience", r.patience, &mut cfg.patience),
    ] {
        if let Some(v) = value {
            if v == 0 {
                return Err(bad(field, "must be > 0"));
            }
            *target = v;
        }
    }
    let queries = r.queries.unwrap_or(1000);
    let pattern = match r.pattern.as_deref().unwrap_or("all_subsets") {
        "all_subsets" => QrelPattern::AllSubsets,
        "random" => QrelPattern::Random { queries },
        "cycle" => QrelPattern::Cycle,
        "disjoint" => QrelPattern::Disjoint,
        "dense" => QrelPattern::Dense { queries },
        other => {
            return Err(bad(
                "pattern",
                format!("unknown pattern `{other}`; use all_subsets, random, cycle, disjoint or dense"),
            ))
        }
    };
    let index_err = |e: grove_index::IndexError| match e {
        grove_index::IndexError::InvalidParameter { name, reason } => bad(name, reason),
        other => ServiceError::invalid(other.to_string()),
    };
    let plan = match (r.n, &r.qrels) {
        (None, Some(_)) => return Err(bad("n", "user qrels need `n`, the number of documents they index")),
        (None, None) => {
            if pattern != QrelPattern::AllSubsets {
                return Err(bad(
                    "n",
                    "a critical-n search uses the all_subsets pattern; give `n` to probe another pattern",
                ));
            }
            let max_n = r.max_n.unwrap_or(4096);
            if max_n <= k {
                return Err(bad("max_n", format!("must be > k = {k}")));
            }
            Plan::Search(CriticalNConfig { probe: cfg, start_n: 2 * r.d, max_n, growth: 1.5 })
        }
        (Some(n), Some(qrels)) => {
            if r.pattern.is_some() {
                return Err(bad("pattern", "give either `pattern` or `qrels`, not both"));
            }
            if qrels.is_empty() {
                return Err(bad("qrels", "give at least one relevant set"));
            }
            for (i, q) in qrels.iter().enumerate() {
                if q.is_empty() || q.len() >= n || q.iter().any(|&id| id as usize >= n) {
                    return Err(bad(
                        &format!("qrels[{i}]"),
                        format!("a relevant set must be non-empty, smaller than n = {n}, with ids < n"),
                    ));
                }
            }
            Plan::Probe { n, qrels: qrels.clone(), cfg }
        }
        (Some(n), None) => {
            let qrels = pattern.qrels(n, k, r.seed).map_err(index_err)?;
            Plan::Probe { n, qrels, cfg }
        }
    };
    Ok((plan, threads))
}

fn references(d: usize, k: usize) -> (Option<Reference>, Reference) {
    let fit = (k == 2).then(|| Reference {
        value: weller_fit_critical_n(d),
        kind: "empirical_fit".into(),
        note:
            "Weller et al. 2508.21038: n(d) = -10.53 + 4.03d + 0.052d^2 + 0.0037d^3, free embeddings, k = 2; \
               what optimisation reached, not a bound"
                .into(),
    });
    let exact = Reference {
        value: exact_sufficient_dimension(k, true) as f64,
        kind: "exact_bound".into(),
        note: "Wang et al. 2601.20844: for unit vectors (cosine) every subset of <= k items is some query's top-k \
               for any n once d >= 2k+1; says nothing about what training reaches"
            .into(),
    };
    (fit, exact)
}

fn run_job(job: &Job, plan: Plan, threads: usize) -> Result<CapacityResult, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("grove-diag-{i}"))
        .build()
        .map_err(|e| format!("thread pool: {e}"))?;
    let mut on_progress = |p: &CapacityProgress| {
        let mut st = job.state.lock();
        // A new n means the previous probe ended: record nothing here (the report lists probes),
        // only the live position.
        st.progress = Some(JobProgress {
            n: p.n,
            attempt: p.attempt,
            step: p.step,
            loss: p.loss,
            realised: p.realised,
            queries: p.queries,
        });
    };
    match plan {
        Plan::Search(mut cfg) => {
            cfg.probe.cancel = Some(Arc::clone(&job.cancel));
            let (d, k) = (cfg.probe.dim, cfg.probe.k);
            let r = pool.install(|| critical_n(&cfg, &mut on_progress)).map_err(|e| e.to_string())?;
            let (paper_fit, exact_bound_dim) = references(d, k);
            let probes: Vec<ProbeOut> = r.probes.iter().map(probe_out).collect();
            job.state.lock().probes = probes.clone();
            Ok(CapacityResult {
                mode: "critical_n".into(),
                d,
                k,
                critical_n: r.critical_n,
                first_failure: r.first_failure,
                complete: r.complete,
                probes,
                paper_fit,
                exact_bound_dim,
            })
        }
        Plan::Probe { n, qrels, mut cfg } => {
            cfg.cancel = Some(Arc::clone(&job.cancel));
            let budget = Budget::new(cfg.time_budget).with_cancel(cfg.cancel.clone());
            let (d, k) = (cfg.dim, cfg.k);
            let r = pool
                .install(|| probe_qrels(n, &qrels, &cfg, &budget, &mut on_progress))
                .map_err(|e| e.to_string())?;
            let (paper_fit, exact_bound_dim) = references(d, k);
            let probes = vec![probe_out(&r)];
            job.state.lock().probes = probes.clone();
            Ok(CapacityResult {
                mode: "probe".into(),
                d,
                k,
                critical_n: None,
                first_failure: None,
                complete: !r.budget_exhausted,
                probes,
                paper_fit,
                exact_bound_dim,
            })
        }
    }
}

impl Service {
    /// `POST /collections/{name}/diagnostics/subsets`: runs on the search pool within the
    /// request timeout (its budget is capped one second below it).
    pub async fn diagnose_subsets(
        &self,
        name: String,
        req: SubsetDiagnosticRequest,
    ) -> ServiceResult<SubsetDiagnosticResult> {
        let timeout = self.inner.config.service.request_timeout_secs as f64;
        let max_budget = (timeout - 1.0).max(0.5);
        let budget = req.time_budget_secs.unwrap_or(max_budget);
        if !(budget.is_finite() && budget > 0.0 && budget <= max_budget) {
            return Err(bad(
                "time_budget_secs",
                format!(
                    "must be in (0, {max_budget}] (service.request_timeout_secs minus 1 s), got {budget}"
                ),
            ));
        }
        if req.queries.len() > MAX_SUBSET_QUERIES {
            return Err(bad(
                "queries",
                format!("at most {MAX_SUBSET_QUERIES} per request, got {}", req.queries.len()),
            ));
        }
        if let Some(ef) = req.ef {
            if ef == 0 || ef > self.inner.config.limits.max_ef {
                return Err(bad("ef", format!("must be between 1 and {}", self.inner.config.limits.max_ef)));
            }
        }
        if req.sample == Some(0) {
            return Err(bad("sample", "must be > 0"));
        }
        if let Some(k) = req.k.iter().find(|&&k| k == 0 || k > self.inner.config.limits.max_limit) {
            return Err(bad(
                "k",
                format!("each k must be between 1 and {}, got {k}", self.inner.config.limits.max_limit),
            ));
        }
        let filter = ops::filter_in(req.filter, &self.inner.config.limits)?;
        let mut queries = Vec::with_capacity(req.queries.len());
        for (i, q) in req.queries.into_iter().enumerate() {
            let relevant = ops::ids_in(q.relevant).map_err(|e| bad(&format!("queries[{i}].relevant"), e))?;
            queries.push(st::diagnostics::SubsetQueryInput { vector: q.vector, relevant });
        }
        let ks = req.k;
        let sreq = st::diagnostics::SubsetRequest {
            queries,
            ks: ks.clone(),
            filter,
            sample: req.sample,
            seed: req.seed,
            time_budget: Some(Duration::from_secs_f64(budget)),
            competitors: req.competitors.unwrap_or(300),
            ef: req.ef,
            cancel: None,
        };
        let out = self
            .run_read(Op::DiagnoseSubsets, move |store, cancel| {
                let sreq = st::diagnostics::SubsetRequest { cancel: Some(Arc::clone(cancel.flag())), ..sreq };
                Ok(store.diagnose_subsets(&name, &sreq)?)
            })
            .await?;
        let r = out.report;
        Ok(SubsetDiagnosticResult {
            k: ks,
            total_queries: r.total_queries,
            diagnosed: r.queries.len(),
            allowed_points: out.allowed_points,
            mean_recall_exact: r.mean_recall_exact.clone(),
            mean_recall_index: r.mean_recall_index.clone(),
            index_loss: r.index_loss.clone(),
            exact_top_is_relevant: r.queries.iter().filter(|q| q.exact_top_is_relevant == Some(true)).count(),
            labels: r.label_counts.iter().map(|(l, c)| (l.as_str().to_owned(), *c)).collect(),
            fragile_margin: r.quantization_bound,
            budget_exhausted: r.budget_exhausted,
            elapsed_secs: r.elapsed.as_secs_f64(),
            queries: r
                .queries
                .into_iter()
                .map(|q| SubsetQueryOut {
                    query: q.query,
                    relevant: q.relevant,
                    recall_exact: q.recall_exact,
                    recall_index: q.recall_index,
                    exact_top_is_relevant: q.exact_top_is_relevant,
                    index_top_is_relevant: q.index_top_is_relevant,
                    label: q.label.as_str().to_owned(),
                    margin: q.margin,
                    margin_upper: q.margin_upper,
                    reason: q.reason,
                })
                .collect(),
        })
    }

    /// `POST /diagnostics/capacity`: validates, registers and starts a capacity job on its own
    /// thread; returns at once.
    pub fn start_capacity_job(&self, req: CapacityJobRequest) -> ServiceResult<JobInfo> {
        let (plan, threads) = plan_capacity(&req)?;
        let job = self.inner.jobs.start("capacity")?;
        let worker = Arc::clone(&job);
        std::thread::Builder::new()
            .name(format!("grove-job-{}", job.id))
            .spawn(move || {
                let outcome = run_job(&worker, plan, threads);
                if let Err(e) = &outcome {
                    tracing::warn!(job = worker.id, error = %e, "capacity job failed");
                }
                worker.finish(outcome);
            })
            .map_err(|e| ServiceError::internal(format!("job thread: {e}")))?;
        Ok(job.info())
    }

    /// `GET /diagnostics/jobs/{id}`.
    pub fn job(&self, id: u64) -> ServiceResult<JobInfo> {
        Ok(self.inner.jobs.get(id)?.info())
    }

    /// `DELETE /diagnostics/jobs/{id}`: raises the job's cancel flag; it stops at its next
    /// optimiser step and keeps what it finished.
    pub fn cancel_job(&self, id: u64) -> ServiceResult<JobInfo> {
        let job = self.inner.jobs.get(id)?;
        job.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(job.info())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(d: usize) -> CapacityJobRequest {
        serde_json::from_value(serde_json::json!({ "d": d })).unwrap()
    }

    #[test]
    fn capacity_validation_names_the_field() {
        let msg = |r: CapacityJobRequest| plan_capacity(&r).unwrap_err().to_string();
        assert!(msg(req(0)).starts_with("d:"));
        assert!(msg(CapacityJobRequest { threads: Some(0), ..req(4) }).starts_with("threads:"));
        assert!(msg(CapacityJobRequest { budget_secs: Some(-1.0), ..req(4) }).starts_with("budget_secs:"));
        assert!(msg(CapacityJobRequest { pattern: Some("zigzag".into()), ..req(4) }).starts_with("pattern:"));
        assert!(msg(CapacityJobRequest { pattern: Some("cycle".into()), ..req(4) }).starts_with("n:"));
        assert!(msg(CapacityJobRequest { n: Some(5), qrels: Some(vec![vec![7]]), ..req(4) })
            .starts_with("qrels[0]:"));
        assert!(msg(CapacityJobRequest { n: Some(5), k: Some(6), ..req(4) }).starts_with("k:"));
        assert!(matches!(plan_capacity(&req(4)), Ok((Plan::Search(_), 1))));
    }
}
