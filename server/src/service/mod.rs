//! The service layer: the one set of operations that REST and gRPC both call.
//!
//! Handlers convert their transport's request into the [`crate::api`] types, call a method of
//! [`Service`], and convert the result back. Everything else lives here: limits, filter
//! parsing, readiness, running storage calls off the async workers with a timeout and
//! cancellation, and the search metrics.
//!
//! Storage calls are synchronous. Searches run on a dedicated rayon pool sized by
//! `service.search_threads` (CPU-bound work never blocks the async workers); writes and other
//! I/O run on tokio's blocking pool, tracked so shutdown can wait for them before flushing. Each
//! call carries a [`Cancel`]: a flag raised when the request's future is dropped (client gone,
//! timeout) and the engine's stop signal ([`grove_index::Stop`]: that flag plus the request's
//! deadline). Work still queued is skipped; work already running stops in the engine's hot
//! loops within a few hundred distance computations and answers with a timeout. Matryoshka
//! calibrations and subset diagnostics run on their own analysis pool
//! (`service.analysis_threads`), at most that many at once; more are refused with 503.

mod diagnostics;
mod error;
mod full_snapshots;
mod limits;
mod ops;
mod points_compat;
mod query_api;
mod query_plan;
mod sparse;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio_util::task::TaskTracker;

pub use error::{ServiceError, ServiceResult};
pub use limits::count_conditions;
pub use points_compat::path_id;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::operations::{Op, Pool as OpPool};

/// The storage engine the service runs over.
pub type Store = grove_storage::Storage;

/// Shared state of the server. Cheap to clone (an `Arc` inside).
#[derive(Clone, Debug)]
pub struct Service {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    /// Set once the storage has opened and every collection is loaded (`/readyz`).
    storage: OnceLock<Arc<Store>>,
    shutting_down: AtomicBool,
    metrics: Metrics,
    search_pool: rayon::ThreadPool,
    /// Calibrations and subset diagnostics (`service.analysis_threads` threads).
    analysis_pool: rayon::ThreadPool,
    /// Analysis jobs admitted and not finished (queued or running), at most
    /// `service.analysis_threads`.
    analysis_running: AtomicUsize,
    /// Writes in flight; shutdown waits for them before the final flush.
    writes: TaskTracker,
    /// Diagnostics jobs (capacity probes), in memory.
    jobs: crate::diagnostics::jobs::Jobs,
    /// Random id of this process and its start time (RFC 3339), for `/telemetry`.
    instance_id: String,
    started: String,
}

/// Raised when the request that started a blocking call goes away, and the engine's stop
/// signal built from it: the flag plus the request's deadline.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    stop: grove_index::Stop,
}

impl Cancel {
    /// A flag, and a stop signal firing when it is raised or `deadline` passes.
    fn until(deadline: Instant) -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        let stop = grove_index::Stop::at(Some(deadline)).with_cancel(Some(Arc::clone(&flag)));
        Self { flag, stop }
    }

    /// Whether the caller has gone away.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// The flag, for engine runs that take one (the subset diagnostic's budget).
    pub fn flag(&self) -> &Arc<AtomicBool> {
        &self.flag
    }

    /// The stop signal to pass to storage's `*_with_stop` calls.
    pub fn stop(&self) -> &grove_index::Stop {
        &self.stop
    }
}

/// Raises the flag when dropped (i.e. when the awaiting future is dropped).
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.flag.store(true, Ordering::Relaxed);
    }
}

/// Frees an analysis slot when the job ends (run, skipped or panicked).
struct AnalysisSlot(Service);

impl Drop for AnalysisSlot {
    fn drop(&mut self) {
        self.0.inner.analysis_running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Service {
    /// Creates the service; storage is attached later by [`Service::open_storage`].
    pub fn new(config: Config) -> Result<Service, ServiceError> {
        let search_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.search_threads())
            .thread_name(|i| format!("grove-search-{i}"))
            .build()
            .map_err(|e| ServiceError::internal(format!("search pool: {e}")))?;
        let analysis_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.service.analysis_threads.max(1))
            .thread_name(|i| format!("grove-analysis-{i}"))
            .build()
            .map_err(|e| ServiceError::internal(format!("analysis pool: {e}")))?;
        Ok(Service {
            inner: Arc::new(Inner {
                config,
                storage: OnceLock::new(),
                shutting_down: AtomicBool::new(false),
                metrics: Metrics::default(),
                search_pool,
                analysis_pool,
                analysis_running: AtomicUsize::new(0),
                writes: TaskTracker::new(),
                jobs: Default::default(),
                instance_id: uuid::Uuid::new_v4().hyphenated().to_string(),
                started: grove_storage::rfc3339_now(),
            }),
        })
    }

    /// Opens the data directory (loading every collection) off the async workers; the server
    /// reports ready afterwards.
    pub async fn open_storage(&self) -> Result<(), ServiceError> {
        let dir = self.inner.config.storage.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || ops::open(&dir))
            .await
            .map_err(|e| ServiceError::internal(format!("open task: {e}")))??;
        let _ = self.inner.storage.set(Arc::new(store));
        Ok(())
    }

    /// Attaches an already opened storage (e.g. `Storage::in_memory()` in router tests).
    pub fn attach_storage(&self, store: Store) {
        let _ = self.inner.storage.set(Arc::new(store));
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Whether every collection is loaded and the server is not shutting down.
    pub fn is_ready(&self) -> bool {
        self.inner.storage.get().is_some() && !self.inner.shutting_down.load(Ordering::Relaxed)
    }

    fn store(&self) -> ServiceResult<Arc<Store>> {
        // No refusal while shutting down: the listeners have stopped accepting, and requests
        // already received are finished (that is what draining means).
        self.inner.storage.get().cloned().ok_or_else(|| {
            ServiceError::Unavailable("server is starting: collections are still loading".to_owned())
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.inner.config.service.request_timeout_secs)
    }

    /// Runs `op`'s CPU-bound read on the pool its entry in [`crate::operations`] names, with
    /// timeout and cancellation: the closure gets a [`Cancel`] whose stop signal fires at the
    /// request's deadline or when the request is dropped, and must pass it to storage
    /// (`*_with_stop`) so running work stops too.
    ///
    /// On the analysis pool (calibrations, subset diagnostics) the job is admitted only while
    /// fewer than `service.analysis_threads` analyses are queued or running: over the cap it is
    /// refused at once with 503. A slot is held until the job has actually ended on the pool
    /// (not merely until the request timed out), so the cap bounds the CPU.
    async fn run_read<T, F>(&self, op: Op, f: F) -> ServiceResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store, &Cancel) -> ServiceResult<T> + Send + 'static,
    {
        let pool = op.pool();
        if !matches!(pool, OpPool::Search | OpPool::Analysis) {
            debug_assert!(false, "{op:?} declares {pool:?} but runs as a read");
            return Err(ServiceError::internal(format!(
                "{op:?} declares the {pool:?} pool but ran as a read"
            )));
        }
        let store = self.store()?;
        let slot = match pool {
            OpPool::Analysis => Some(self.admit_analysis()?),
            _ => None,
        };
        let cancel = Cancel::until(Instant::now() + self.timeout());
        let guard = CancelOnDrop(cancel.clone());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = move || {
            if cancel.is_cancelled() {
                return;
            }
            let result = f(&store, &cancel);
            // Free the slot before answering: a client that sends its next analysis as soon as
            // this one answers must find the slot free.
            drop(slot);
            let _ = tx.send(result);
        };
        match pool {
            OpPool::Analysis => self.inner.analysis_pool.spawn(job),
            _ => self.inner.search_pool.spawn(job),
        }
        let secs = self.inner.config.service.request_timeout_secs;
        let out = match tokio::time::timeout(self.timeout(), rx).await {
            // The engine's stop signal fired: the request's own deadline (or its cancel).
            Ok(Ok(Err(ServiceError::Stopped(_)))) => Err(ServiceError::Timeout(secs)),
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ServiceError::internal("search task ended without a result")),
            Err(_) => Err(ServiceError::Timeout(secs)),
        };
        drop(guard);
        out
    }

    /// Takes an analysis slot or refuses with 503 naming the knob.
    fn admit_analysis(&self) -> ServiceResult<AnalysisSlot> {
        let cap = self.inner.config.service.analysis_threads.max(1);
        let prev = self.inner.analysis_running.fetch_add(1, Ordering::AcqRel);
        let slot = AnalysisSlot(self.clone());
        if prev >= cap {
            drop(slot);
            return Err(ServiceError::Unavailable(format!(
                "{cap} calibration/diagnostic request(s) already running, the most at once \
                 (service.analysis_threads); retry when one has finished"
            )));
        }
        Ok(slot)
    }

    /// Runs `op`'s write (or other blocking I/O) on the blocking pool, which its entry in
    /// [`crate::operations`] must name. Writes are not abandoned on timeout or client
    /// disconnect: once started they finish, so an acknowledged-or-not answer is never a torn
    /// write; shutdown waits for them.
    async fn run_blocking<T, F>(&self, op: Op, f: F) -> ServiceResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> ServiceResult<T> + Send + 'static,
    {
        if op.pool() != OpPool::Blocking {
            debug_assert!(false, "{op:?} declares {:?} but runs on the blocking pool", op.pool());
            return Err(ServiceError::internal(format!(
                "{op:?} declares the {:?} pool but ran on the blocking pool",
                op.pool()
            )));
        }
        let store = self.store()?;
        let handle = self.inner.writes.spawn_blocking(move || f(&store));
        match tokio::time::timeout(self.timeout(), handle).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(ServiceError::internal(format!("write task failed: {e}"))),
            Err(_) => Err(ServiceError::Timeout(self.inner.config.service.request_timeout_secs)),
        }
    }

    /// Marks the server as shutting down: readiness drops and new storage calls are refused.
    pub fn begin_shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Relaxed);
        self.inner.jobs.cancel_all();
    }

    /// Whether the data directory was opened.
    pub fn is_opened(&self) -> bool {
        self.inner.storage.get().is_some()
    }

    /// Stops taking new work, waits (up to `service.shutdown_timeout_secs`) for in-flight
    /// writes, then flushes storage.
    pub async fn shutdown(&self) -> Result<(), ServiceError> {
        self.begin_shutdown();
        self.inner.writes.close();
        let wait = Duration::from_secs(self.inner.config.service.shutdown_timeout_secs);
        if tokio::time::timeout(wait, self.inner.writes.wait()).await.is_err() {
            tracing::warn!("shutdown: writes still running after {wait:?}; flushing anyway");
        }
        if let Some(store) = self.inner.storage.get().cloned() {
            tokio::task::spawn_blocking(move || ops::flush(&store))
                .await
                .map_err(|e| ServiceError::internal(format!("flush task: {e}")))??;
        }
        Ok(())
    }

    /// Point-in-time gauges for `/metrics`: points and indexed points per collection.
    pub fn gauges(&self) -> Vec<Gauge> {
        let mut out = vec![("grove_ready", Vec::new(), if self.is_ready() { 1.0 } else { 0.0 })];
        if let Some(store) = self.inner.storage.get() {
            for (name, points, indexed) in ops::collection_stats(store) {
                out.push(("grove_points", vec![("collection", name.clone())], points as f64));
                out.push(("grove_indexed_points", vec![("collection", name)], indexed as f64));
            }
        }
        out
    }
}

/// One gauge sample for `/metrics`: metric name, labels, value.
pub type Gauge = (&'static str, Vec<(&'static str, String)>, f64);
