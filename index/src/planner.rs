//! The planner: which path answers a query, decided per query from the filter's exact
//! cardinality and the index's statistics, with the reason written down in [`Explain`].
//!
//! # The decision (strategy `Auto`)
//! With `n` live points, `a` of them allowed by the filter (exact: a bitmap's length minus
//! tombstones) and selectivity `s = a / n`:
//!
//! 1. `a <= k`: exact. Every allowed point is an answer; a graph could only lose some.
//! 2. The graph is empty (nothing indexed yet): exact.
//! 3. `a <= exact_max_points`: exact. Scanning `a` rows costs `a` distances; a graph walk at
//!    `ef` costs a few thousand whatever the filter, and a filtered walk more.
//! 4. `s >= hnsw_min_selectivity`: filtered HNSW. At high selectivity most neighbours pass the
//!    filter and HNSW's walk is the cheapest route.
//! 5. Otherwise ACORN over the predicate subgraph: ACORN-gamma when a gamma graph was built and
//!    `s · gamma >= 1` (the paper's bound: the predicate subgraph of an `M·gamma` graph stays
//!    connected down to about `1/gamma`), else ACORN-1 (2-hop expansion on the HNSW graph).
//!
//! A forced [`Strategy`] is always honoured (the reason says so); `HnswRs` is never chosen
//! automatically (it is a baseline).
//!
//! # Where the default thresholds come from
//! See [`PlannerConfig::default`]: the numbers are written next to the fields they justify.

use crate::explain::{SearchPath, Strategy};

/// The planner's thresholds. Each is a knob of the collection config.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlannerConfig {
    /// Scan exactly when the filter allows at most this many live points.
    pub exact_max_points: u64,
    /// Use filtered HNSW when the filter's selectivity is at least this; ACORN below.
    pub hnsw_min_selectivity: f64,
}

impl Default for PlannerConfig {
    /// Measured with `cargo bench -p grove-index --bench planner` (release, one thread, 2-core
    /// loaded machine, 50k clustered points at d = 384, M = 16, ef = 64, k = 10; numbers in
    /// that bench's doc comment):
    ///
    /// - `exact_max_points = 4096`: the exact scan of the allowed ids costs ~0.1 µs... per row
    ///   (d = 384), so 4096 rows take about as long as one unfiltered HNSW walk at ef = 64
    ///   and less than any filtered walk; below this exact is both faster and perfect.
    /// - `hnsw_min_selectivity = 0.3`: filtered HNSW keeps recall@10 >= 0.95 and beats ACORN-1
    ///   down to about a third of the points allowed; below, ACORN-1 visits fewer nodes.
    fn default() -> Self {
        Self { exact_max_points: 4096, hnsw_min_selectivity: 0.3 }
    }
}

impl PlannerConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> crate::Result<()> {
        if !(0.0..=1.0).contains(&self.hnsw_min_selectivity) {
            return Err(crate::IndexError::InvalidParameter {
                name: "hnsw_min_selectivity",
                reason: format!("{} is outside 0..=1", self.hnsw_min_selectivity),
            });
        }
        Ok(())
    }
}

/// What the planner knows about one query and the index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanInput {
    /// The strategy asked for.
    pub strategy: Strategy,
    /// Results wanted.
    pub k: usize,
    /// Live points (excluding tombstones).
    pub live: u64,
    /// Live points the filter allows (`live` without a filter).
    pub allowed: u64,
    /// Whether a filter was given (a filter allowing everything still counts).
    pub filtered: bool,
    /// Points in the HNSW graph.
    pub hnsw_indexed: u64,
    /// `gamma` of the ACORN-gamma graph, when one is built and non-empty.
    pub acorn_gamma: Option<usize>,
    /// Whether the hnsw_rs baseline is built.
    pub hnsw_rs: bool,
}

impl PlanInput {
    /// `allowed / live`, 1.0 for an empty index.
    pub fn selectivity(&self) -> f64 {
        if self.live == 0 {
            1.0
        } else {
            self.allowed as f64 / self.live as f64
        }
    }
}

/// The decision: a path and the reason, in words with the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The path to run.
    pub path: SearchPath,
    /// Why.
    pub reason: String,
}

/// Chooses the path for one query. Errors only for a forced path that does not exist
/// (`HnswRs` on an index built without it).
pub fn plan(cfg: &PlannerConfig, input: &PlanInput) -> crate::Result<Plan> {
    let s = input.selectivity();
    let nums = format!("{} of {} live points allowed (selectivity {:.4})", input.allowed, input.live, s);
    let acorn_path = |why: &str| match input.acorn_gamma {
        Some(g) => {
            Plan { path: SearchPath::AcornGamma, reason: format!("{why}: ACORN-gamma (gamma {g}); {nums}") }
        }
        None => Plan {
            path: SearchPath::Acorn1,
            reason: format!("{why}: ACORN-1 (no gamma graph built); {nums}"),
        },
    };
    let forced =
        |path: SearchPath| Plan { path, reason: format!("forced by strategy={}; {nums}", path.as_str()) };
    Ok(match input.strategy {
        Strategy::Exact => forced(SearchPath::Exact),
        Strategy::Hnsw => forced(SearchPath::Hnsw),
        Strategy::Acorn => acorn_path("forced by strategy=acorn"),
        Strategy::HnswRs => {
            if !input.hnsw_rs {
                return Err(crate::IndexError::PathUnavailable {
                    path: "hnsw_rs",
                    reason: "the index was built without the hnsw_rs baseline (use_hnsw_rs = false)".into(),
                });
            }
            forced(SearchPath::HnswRs)
        }
        Strategy::Auto => {
            if input.allowed <= input.k as u64 {
                Plan {
                    path: SearchPath::Exact,
                    reason: format!("k = {} covers every allowed point; {nums}", input.k),
                }
            } else if input.hnsw_indexed == 0 {
                Plan { path: SearchPath::Exact, reason: format!("no point is in the graph yet; {nums}") }
            } else if input.allowed <= cfg.exact_max_points {
                Plan {
                    path: SearchPath::Exact,
                    reason: format!(
                        "{} allowed points <= exact_max_points {}: a scan is cheaper than a graph walk; {nums}",
                        input.allowed, cfg.exact_max_points
                    ),
                }
            } else if s >= cfg.hnsw_min_selectivity {
                let what = if input.filtered { "filtered HNSW" } else { "HNSW" };
                Plan {
                    path: SearchPath::Hnsw,
                    reason: format!(
                        "selectivity {s:.4} >= hnsw_min_selectivity {}: {what}; {nums}",
                        cfg.hnsw_min_selectivity
                    ),
                }
            } else {
                let why = format!("selectivity {s:.4} < hnsw_min_selectivity {}", cfg.hnsw_min_selectivity);
                match input.acorn_gamma {
                    Some(g) if s * g as f64 >= 1.0 => acorn_path(&why),
                    Some(g) => Plan {
                        path: SearchPath::Acorn1,
                        reason: format!(
                            "{why} and selectivity·gamma = {:.2} < 1 (below the gamma graph's range): ACORN-1; {nums}",
                            s * g as f64
                        ),
                    },
                    None => acorn_path(&why),
                }
            }
        }
    })
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests {
    use super::*;

    fn input(strategy: Strategy, live: u64, allowed: u64) -> PlanInput {
        PlanInput {
            strategy,
            k: 10,
            live,
            allowed,
            filtered: allowed < live,
            hnsw_indexed: live,
            acorn_gamma: None,
            hnsw_rs: false,
        }
    }

    #[test]
    fn auto_follows_the_thresholds() {
        let cfg = PlannerConfig { exact_max_points: 1000, hnsw_min_selectivity: 0.3 };
        let p = |i: PlanInput| plan(&cfg, &i).unwrap().path;
        assert_eq!(p(input(Strategy::Auto, 100_000, 100_000)), SearchPath::Hnsw);
        assert_eq!(p(input(Strategy::Auto, 100_000, 30_000)), SearchPath::Hnsw);
        assert_eq!(p(input(Strategy::Auto, 100_000, 29_999)), SearchPath::Acorn1);
        assert_eq!(p(input(Strategy::Auto, 100_000, 1001)), SearchPath::Acorn1);
        assert_eq!(p(input(Strategy::Auto, 100_000, 1000)), SearchPath::Exact);
        assert_eq!(p(input(Strategy::Auto, 100_000, 5)), SearchPath::Exact);
        // gamma graph: used while s * gamma >= 1, ACORN-1 below.
        let g = |allowed| PlanInput { acorn_gamma: Some(10), ..input(Strategy::Auto, 100_000, allowed) };
        assert_eq!(p(g(10_000)), SearchPath::AcornGamma);
        assert_eq!(p(g(9_999)), SearchPath::Acorn1);
        // Nothing indexed: exact, whatever the selectivity.
        assert_eq!(
            p(PlanInput { hnsw_indexed: 0, ..input(Strategy::Auto, 100_000, 100_000) }),
            SearchPath::Exact
        );
        // Small collections: k covers everything.
        assert_eq!(p(input(Strategy::Auto, 8, 8)), SearchPath::Exact);
    }

    #[test]
    fn reasons_carry_the_numbers() {
        let cfg = PlannerConfig { exact_max_points: 1000, hnsw_min_selectivity: 0.3 };
        let r = plan(&cfg, &input(Strategy::Auto, 100_000, 500)).unwrap().reason;
        assert!(r.contains("500") && r.contains("100000") && r.contains("exact_max_points 1000"), "{r}");
        let r = plan(&cfg, &input(Strategy::Auto, 100_000, 2000)).unwrap().reason;
        assert!(r.contains("0.0200") && r.contains("ACORN-1"), "{r}");
    }

    #[test]
    fn forced_strategies_are_honoured() {
        let cfg = PlannerConfig::default();
        let p = |s, allowed| plan(&cfg, &input(s, 100_000, allowed)).unwrap();
        assert_eq!(p(Strategy::Exact, 100_000).path, SearchPath::Exact);
        assert_eq!(p(Strategy::Hnsw, 10).path, SearchPath::Hnsw);
        assert_eq!(p(Strategy::Acorn, 100_000).path, SearchPath::Acorn1);
        assert!(p(Strategy::Hnsw, 10).reason.starts_with("forced"));
        assert!(plan(&cfg, &input(Strategy::HnswRs, 10, 10)).is_err());
        let with_rs = PlanInput { hnsw_rs: true, ..input(Strategy::HnswRs, 10, 10) };
        assert_eq!(plan(&cfg, &with_rs).unwrap().path, SearchPath::HnswRs);
        let gamma = PlanInput { acorn_gamma: Some(4), ..input(Strategy::Acorn, 100, 1) };
        assert_eq!(plan(&cfg, &gamma).unwrap().path, SearchPath::AcornGamma);
    }

    #[test]
    fn validate_rejects_out_of_range() {
        assert!(PlannerConfig { hnsw_min_selectivity: 1.5, ..Default::default() }.validate().is_err());
        assert!(PlannerConfig::default().validate().is_ok());
    }
}
