//! The diagnostics job registry: long computations (the capacity probe) run on their own thread
//! and rayon pool, and clients poll them by id.
//!
//! Why jobs and not a long request: a critical-n search takes minutes (d = 16: about ten), far
//! past any sensible request timeout, and a client must be able to see progress and cancel.
//! Jobs live in memory only: a restart forgets them (they are reproducible from their seed). At
//! most [`MAX_RUNNING`] run at once, so diagnostics cannot take the machine from searches; the
//! last [`KEEP_FINISHED`] finished jobs stay readable.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grove_index::diagnostics::CancelFlag;
use parking_lot::Mutex;

use super::{CapacityResult, JobInfo, JobProgress, ProbeOut};
use crate::service::{ServiceError, ServiceResult};

/// Jobs that may run at the same time.
pub const MAX_RUNNING: usize = 2;
/// Finished jobs kept for reading.
pub const KEEP_FINISHED: usize = 64;

/// A job's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Running.
    Running,
    /// Finished normally.
    Done,
    /// Stopped by a cancel (its result holds what was finished).
    Cancelled,
    /// Stopped by an error.
    Failed,
}

/// What a job has reported so far.
#[derive(Debug)]
pub struct JobState {
    /// Lifecycle.
    pub status: Status,
    /// Latest progress.
    pub progress: Option<JobProgress>,
    /// Probes finished.
    pub probes: Vec<ProbeOut>,
    /// Final result.
    pub result: Option<CapacityResult>,
    /// Failure message.
    pub error: Option<String>,
    /// Run time, once ended.
    pub ended: Option<Duration>,
}

/// One job.
#[derive(Debug)]
pub struct Job {
    /// Id.
    pub id: u64,
    /// Kind (`capacity`).
    pub kind: &'static str,
    started: Instant,
    /// Raised by `DELETE` (or shutdown); the computation stops at its next step.
    pub cancel: CancelFlag,
    /// Reported state.
    pub state: Mutex<JobState>,
}

impl Job {
    /// The job as the API shows it.
    pub fn info(&self) -> JobInfo {
        let st = self.state.lock();
        let status = match st.status {
            Status::Running if self.cancel.load(Ordering::Relaxed) => "cancelling",
            Status::Running => "running",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
        };
        JobInfo {
            id: self.id,
            kind: self.kind.to_owned(),
            status: status.to_owned(),
            elapsed_secs: st.ended.unwrap_or_else(|| self.started.elapsed()).as_secs_f64(),
            progress: st.progress.clone(),
            probes_done: st.probes.len(),
            result: st.result.clone(),
            error: st.error.clone(),
        }
    }

    /// Ends the job with a result or an error; cancelled if the flag was raised.
    pub fn finish(&self, outcome: Result<CapacityResult, String>) {
        let mut st = self.state.lock();
        st.ended = Some(self.started.elapsed());
        match outcome {
            Ok(r) => {
                st.status =
                    if self.cancel.load(Ordering::Relaxed) { Status::Cancelled } else { Status::Done };
                st.result = Some(r);
            }
            Err(e) => {
                st.status = Status::Failed;
                st.error = Some(e);
            }
        }
    }
}

/// The registry.
#[derive(Debug, Default)]
pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
}

impl Jobs {
    /// Registers a new running job, or refuses when [`MAX_RUNNING`] are running.
    pub fn start(&self, kind: &'static str) -> ServiceResult<Arc<Job>> {
        let mut jobs = self.jobs.lock();
        let running = jobs.values().filter(|j| j.state.lock().status == Status::Running).count();
        if running >= MAX_RUNNING {
            return Err(ServiceError::Unavailable(format!(
                "{running} diagnostics jobs are running (the limit is {MAX_RUNNING}); wait for one or cancel it \
                 with DELETE /diagnostics/jobs/{{id}}"
            )));
        }
        let finished: Vec<u64> = jobs
            .iter()
            .filter(|(_, j)| j.state.lock().status != Status::Running)
            .map(|(id, _)| *id)
            .collect();
        for id in finished.iter().take(finished.len().saturating_sub(KEEP_FINISHED - 1)) {
            jobs.remove(id);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let job = Arc::new(Job {
            id,
            kind,
            started: Instant::now(),
            cancel: Arc::new(AtomicBool::new(false)),
            state: Mutex::new(JobState {
                status: Status::Running,
                progress: None,
                probes: Vec::new(),
                result: None,
                error: None,
                ended: None,
            }),
        });
        jobs.insert(id, Arc::clone(&job));
        Ok(job)
    }

    /// A job by id.
    pub fn get(&self, id: u64) -> ServiceResult<Arc<Job>> {
        self.jobs.lock().get(&id).cloned().ok_or_else(|| {
            ServiceError::NotFound(format!("diagnostics job {id} does not exist (or was evicted)"))
        })
    }

    /// Raises every job's cancel flag (shutdown).
    pub fn cancel_all(&self) {
        for j in self.jobs.lock().values() {
            j.cancel.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_jobs_are_limited_and_finished_ones_are_kept() {
        let jobs = Jobs::default();
        let a = jobs.start("capacity").unwrap();
        let _b = jobs.start("capacity").unwrap();
        assert!(matches!(jobs.start("capacity"), Err(ServiceError::Unavailable(_))));
        a.cancel.store(true, Ordering::Relaxed);
        assert_eq!(a.info().status, "cancelling");
        a.finish(Err("stopped".into()));
        assert_eq!(jobs.get(a.id).unwrap().info().status, "failed");
        let c = jobs.start("capacity").unwrap();
        assert_ne!(c.id, a.id);
        assert!(matches!(jobs.get(999), Err(ServiceError::NotFound(_))));
    }
}
