//! Grove in-process: a [`CollectionIndex`] built from a dataset's base vectors, searched through
//! the [`Searcher`] trait; and the process memory figures reported next to build times.

use std::time::Instant;

use grove_index::{CollectionIndex, IndexConfig, SearchParams, Strategy};
use roaring::RoaringBitmap;

use crate::data::Vectors;
use crate::measure::Searcher;

/// Memory of this process from `/proc/self/status`, in MiB: `(VmRSS, VmHWM)`.
pub fn rss_mb() -> Option<(f64, f64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
    };
    Some((kb("VmRSS:")? / 1024.0, kb("VmHWM:")? / 1024.0))
}

/// Resets the kernel's peak-RSS mark (VmHWM) to the current RSS, so that the peak read after a
/// build is the build's own (Linux >= 4.0; ignored where unsupported, then the peak also covers
/// what ran before).
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// What building cost.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildReport {
    /// What was built.
    pub label: String,
    /// Points inserted.
    pub points: usize,
    /// Seconds to insert the vectors (store only).
    pub insert_s: f64,
    /// Seconds for `build()` (graph construction).
    pub build_s: f64,
    /// CPU seconds of the process during insert + build (all build threads).
    pub cpu_s: f64,
    /// Points per second of insert + build.
    pub points_per_s: f64,
    /// RSS before inserting, MiB.
    pub rss_before_mb: f64,
    /// RSS after building, MiB.
    pub rss_after_mb: f64,
    /// Peak RSS (VmHWM) after building, MiB.
    pub peak_rss_mb: f64,
    /// Whether the peak was reset before the build (else it includes data loading).
    pub peak_is_build_only: bool,
    /// Graph bytes the index reports.
    pub graph_bytes: u64,
    /// Vector arena bytes.
    pub vector_bytes: u64,
    /// Build threads.
    pub threads: usize,
}

/// Grove's collection index as a [`Searcher`].
#[derive(Debug)]
pub struct Grove {
    /// The index.
    pub index: CollectionIndex,
}

impl Grove {
    /// Inserts every row of `base` (id = row) and builds the graphs, timing both.
    pub fn build(label: &str, base: &Vectors, cfg: IndexConfig) -> anyhow::Result<(Self, BuildReport)> {
        let threads = cfg.build_threads;
        let index = CollectionIndex::new(cfg)?;
        let reset = reset_peak_rss();
        let (rss0, _) = rss_mb().unwrap_or_default();
        let cpu0 = crate::measure::process_cpu_time();
        let t = Instant::now();
        for i in 0..base.len() {
            index.insert(i as u32, base.row(i))?;
        }
        let insert_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        index.build();
        let build_s = t.elapsed().as_secs_f64();
        let cpu_s = crate::measure::process_cpu_time().saturating_sub(cpu0).as_secs_f64();
        let (rss1, peak) = rss_mb().unwrap_or_default();
        let st = index.stats();
        let report = BuildReport {
            label: label.to_string(),
            points: base.len(),
            insert_s,
            build_s,
            cpu_s,
            points_per_s: base.len() as f64 / (insert_s + build_s).max(1e-9),
            rss_before_mb: rss0,
            rss_after_mb: rss1,
            peak_rss_mb: peak,
            peak_is_build_only: reset,
            graph_bytes: st.graph_bytes,
            vector_bytes: st.vector_bytes,
            threads,
        };
        Ok((Grove { index }, report))
    }
}

impl Searcher for Grove {
    fn search(
        &self,
        query: &[f32],
        allowed: Option<&RoaringBitmap>,
        k: usize,
        ef: usize,
        strategy: Strategy,
    ) -> anyhow::Result<(Vec<u32>, &'static str)> {
        let params = SearchParams { k, ef: (ef > 0).then_some(ef), strategy, ..Default::default() };
        let out = self.index.search(query, allowed, &params)?;
        Ok((out.hits.iter().map(|h| h.id).collect(), out.explain.path.as_str()))
    }
}
