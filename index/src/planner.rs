//! The planner: which path answers a query, decided per query from the filter's exact
//! cardinality and the index's statistics, with the reason written down in [`Explain`].
//!
//! # The decision (strategy `Auto`)
//! With `n` live points, `a` of them allowed by the filter (exact: a bitmap's length minus
//! tombstones) and selectivity `s = a / n`:
//!
//! 1. `a <= k`: exact. Every allowed point is an answer; a graph could only lose some.
//! 2. The graph is empty (nothing indexed yet): exact.
//! 3. `a <= exact_max_points`: exact. Scanning `a` rows costs `a` distances, and below this
//!    a graph walk is not cheaper.
//! 4. `s >= hnsw_min_selectivity`: (filtered) HNSW. Most neighbours pass the filter and HNSW's
//!    walk is the cheapest route.
//! 5. `s >= probe_min_selectivity` and the probe finds at least `hnsw_min_local_selectivity`
//!    of the graph around the query allowed: filtered HNSW (see *Correlation* below).
//! 6. The probe finds the filter much sparser around the query than overall (`l · far_density_ratio
//!    < s`: its points lie elsewhere) and `a <= far_exact_max_points`: exact. A walk of the
//!    predicate subgraph must first reach the filter's region, and on clustered data it often
//!    stays in the wrong one (see `PlannerConfig::default`).
//! 7. A gamma graph is built and `s · gamma >= acorn_gamma_min_coverage`: ACORN-gamma.
//! 8. `s >= acorn1_min_selectivity`: ACORN-1 (2-hop expansion on the HNSW graph).
//! 9. Otherwise exact: below ACORN's reliable range the predicate subgraph falls apart (the
//!    walk stops early with most true neighbours unreached), and a scan is always right.
//!
//! # Correlation
//! A cardinality cannot tell a filter independent of the vectors (peerbench's random labels:
//! filtered HNSW at 50% is about twice as fast as ACORN-1 at equal recall) from one whose
//! points lie away from the query (an arXiv category versus a query from another field, or a
//! topic of other clusters: filtered HNSW loses recall there, since its walk must cross a
//! region with no allowed point). So in the middle range ([`wants_probe`]) the caller probes
//! the HNSW graph ([`crate::graph::Probe`]): after the greedy descent it counts the allowed
//! nodes among the layer-0 entry's neighbours and theirs (about a thousand membership tests,
//! no distances; the entry is reused by the walk). That local share `l` decides rule 5, and
//! the ACORN beam below follows `min(s, l)`.
//!
//! On the ACORN paths (7, 8) the beam grows as the filter thins near the query:
//! `ef · clamp(ceil(sqrt(1 / min(s, l)) / 2), 1, acorn_ef_boost_max)` when probed (x2 at a
//! random 10%, the cap for an anti-correlated filter), `ef · clamp(ceil(sqrt(1 / s)), ..)`
//! without a probe (x2 at 50%, x4 from about 10% down). The predicate subgraph is sparser than the graph, so
//! the same `ef` finds fewer of the true neighbours (arXiv, below); a filter *anti-correlated*
//! with the query needs the most, since the walk must cross regions with no allowed point.
//!
//! A forced [`Strategy`] is always honoured with the `ef` asked for (the reason says so).
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
    /// Use (filtered) HNSW when the filter's selectivity is at least this, without probing. An
    /// unfiltered query (selectivity 1) always takes HNSW.
    pub hnsw_min_selectivity: f64,
    /// Between this selectivity and `hnsw_min_selectivity` the planner probes the graph around
    /// the query ([`crate::graph::Probe`]) and takes filtered HNSW when the filter is dense
    /// there (`hnsw_min_local_selectivity`); without a probe (or below this) it goes on to ACORN.
    pub probe_min_selectivity: f64,
    /// Filtered HNSW needs at least this share of allowed nodes around the query's entry.
    pub hnsw_min_local_selectivity: f64,
    /// Lowest selectivity ACORN-1 serves; below it (and without a gamma graph) exact.
    pub acorn1_min_selectivity: f64,
    /// ACORN-gamma serves selectivities `s` with `s · gamma` at least this.
    pub acorn_gamma_min_coverage: f64,
    /// Largest factor by which the ACORN paths widen `ef` for narrow filters (1 disables).
    pub acorn_ef_boost_max: usize,
    /// A probed filter whose share of allowed nodes around the query is below
    /// `selectivity / far_density_ratio` (anti-correlated: its points lie elsewhere) is scanned
    /// exactly up to `far_exact_max_points` allowed points, instead of ACORN-1 (0 disables).
    pub far_density_ratio: f64,
    /// See `far_density_ratio`.
    pub far_exact_max_points: u64,
}

impl Default for PlannerConfig {
    /// Measured with Grove's graph, k = 10, recall@10 against exact search, queries per
    /// CPU-second on one thread (2-core machine under load ~14, so compare within a table).
    ///
    /// arXiv set (`../shared/data/arxiv`, 49,152 x 384, cosine, 200 queries, HNSW M = 16,
    /// ef_construction = 100, built in 42.5 s wall on 2 threads), filter = one sub-category:
    ///
    /// | filter (s) | exact | filtered HNSW ef 64 / 128 | ACORN-1 ef 64 / 128 / 256 |
    /// |---|---|---|---|
    /// | none (1.0) | 1.0, 103 q/s | 0.972, 4,286 q/s / 0.990 | same walk as HNSW |
    /// | cs.CV (0.419) | 1.0, 185 | 0.768, 1,463 / 0.820 | 0.944, 1,463 / 0.968, 938 / 0.985, 571 |
    /// | cs.CL (0.272) | 1.0, 333 | 0.745 / 0.797 | 0.922, 1,875 / 0.963, 1,132 / 0.982, 732 |
    /// | cs.RO (0.021, 1,039 pts) | 1.0, 12,000 | 0.697 / 0.785 | 0.930, 3,158 / 0.977, 1,714 / 0.993 |
    /// | eess.IV (0.015, 747 pts) | 1.0, 20,000 | 0.612 / 0.724 | 0.822 / 0.880 / 0.919 |
    /// | math.QA (0.005, 257 pts) | 1.0, 60,000 | 0.093 / 0.124 | 0.995 / 0.999 / 1.0 |
    ///
    /// Seeded clustered data (`index/tests/engine_oracle.rs`'s generator: 20k x 32, 100
    /// Gaussian clusters, M = 12, ef_construction = 64; distances per query in brackets):
    ///
    /// | filter | exact | ACORN-1 ef 64 / 128 / 256 | ACORN-gamma (γ 12) ef 64 / 128 |
    /// |---|---|---|---|
    /// | 10% random | 1.0 (2052) | 1.0 (283) / 1.0 / 1.0 | 1.0 (931) / 1.0 |
    /// | 5% random | | 0.940 / 0.973 / 0.973 (491) | 0.998 (844) / 1.0 |
    /// | 5% anti-correlated | 1.0 (1000) | 0.835 / 0.950 / 0.983 (568) | 0.895 / 0.985 (991) |
    /// | 2% random | | 0.513 / 0.590 / 0.718 | 0.973 (727) / 0.995 |
    /// | 1% random | 1.0 (231) | 0.458 / 0.465 / 0.465 | 0.750 / 0.878 |
    ///
    /// The correlation probe (2026-11-27, `grove-bench` release build, load ~15 on 2 cores, so
    /// compare within a line; recall@10, wall q/s):
    ///
    /// | arXiv filter | filtered HNSW | ACORN-1 (no boost) | auto (probe) |
    /// |---|---|---|---|
    /// | peerbench random 50% | ef 32: 0.954, 665 q/s | ef 32: 0.955, 412 q/s | filtered HNSW for all |
    /// | peerbench random 10% | ef 16: 0.960, 396 q/s | ef 32: 0.960, 837 q/s | ACORN-1 (below 0.2) |
    /// | cat50 cs.CV (41.9%) | ef 16 / 32 / 64: 0.716 / 0.785 / 0.818 | 0.787 / 0.868 / 0.928 | 0.864 / 0.922 / 0.973 |
    ///
    /// On cat50 the probe sends about half of the queries (125 of 258) to filtered HNSW, those
    /// whose region is cs.CV, and the others to ACORN-1 with the widest beam. The local share the
    /// probe reports on `index/tests/engine_oracle.rs`'s clusters: about 0.54 for a random 50%,
    /// above 0.95 for five topics including the query's, 0.00-0.02 for five topics excluding it.
    ///
    /// Hence:
    /// - `hnsw_min_selectivity = 0.9`: above it filtered HNSW without asking (a filter that
    ///   removes almost nothing cannot be anti-correlated enough to matter).
    /// - `probe_min_selectivity = 0.2`: at a random 10% filtered HNSW walks ten nodes per
    ///   admitted one and loses to ACORN-1 by 2x; at 50% it wins by 1.6x.
    /// - `hnsw_min_local_selectivity = 0.3`: between the shares of anti-correlated filters
    ///   (below 0.05) and those of random ones at the probed selectivities (0.2 and up).
    /// - `acorn_ef_boost_max = 4` with the `ceil(sqrt(1/s))` rule: x2 gives >= 0.96 at 27-42%
    ///   on arXiv, x4 gives >= 0.98 on the 5% anti-correlated filter.
    /// - `acorn1_min_selectivity = 0.05`: random 2-3% filters break ACORN-1 (0.59-0.80) even
    ///   though arXiv's correlated 2% category holds up; the planner cannot tell them apart.
    /// - `acorn_gamma_min_coverage = 0.2`: ACORN-gamma holds from `s · gamma` ≈ 0.24.
    /// - `far_density_ratio = 4`, `far_exact_max_points = 16384`: a filter whose points all lie
    ///   away from the query (the oracle test's anti-correlated AND filter, well-separated
    ///   clusters: `l` = 0) leaves ACORN-1 nothing to walk near the entry, and a scan of a few
    ///   thousand points is exact at the cost of one boosted walk. Random filters have `l` close
    ///   to `s` (1,000 slots: 0.1 ± 0.01 at 10%), far above `s / 4`. Measured limit: on
    ///   peerbench's synthetic clustered labels (50k x 384, 256 overlapping clusters; 2026-11-28)
    ///   the rule fired for only 18 of 500 queries at 10%: there the 2-hop neighbourhood spans
    ///   many clusters and sees the filter at about its global share, so the probe cannot tell
    ///   those queries apart and ACORN-1 still answers them (ef 64 x2: recall 0.987).
    /// - `exact_max_points = 4096`: exact costs ~80-220 ns of CPU per allowed row at d = 384
    ///   (1,039 rows: 12,000 q/s; 13,375 rows: 333 q/s) and a boosted ACORN-1 walk ~0.6-0.9
    ///   ms, so the crossover is a few thousand rows.
    fn default() -> Self {
        Self {
            exact_max_points: 4096,
            hnsw_min_selectivity: 0.9,
            probe_min_selectivity: 0.2,
            hnsw_min_local_selectivity: 0.3,
            acorn1_min_selectivity: 0.05,
            acorn_gamma_min_coverage: 0.2,
            acorn_ef_boost_max: 4,
            far_density_ratio: 4.0,
            far_exact_max_points: 16_384,
        }
    }
}

impl PlannerConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> crate::Result<()> {
        for (name, v) in [
            ("hnsw_min_selectivity", self.hnsw_min_selectivity),
            ("probe_min_selectivity", self.probe_min_selectivity),
            ("hnsw_min_local_selectivity", self.hnsw_min_local_selectivity),
            ("acorn1_min_selectivity", self.acorn1_min_selectivity),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(crate::IndexError::InvalidParameter {
                    name,
                    reason: format!("{v} is outside 0..=1"),
                });
            }
        }
        if self.acorn_gamma_min_coverage.is_nan() || self.acorn_gamma_min_coverage < 0.0 {
            return Err(crate::IndexError::InvalidParameter {
                name: "acorn_gamma_min_coverage",
                reason: format!("{} must be a number >= 0", self.acorn_gamma_min_coverage),
            });
        }
        if self.far_density_ratio.is_nan() || self.far_density_ratio < 0.0 {
            return Err(crate::IndexError::InvalidParameter {
                name: "far_density_ratio",
                reason: format!("{} must be a number >= 0", self.far_density_ratio),
            });
        }
        if self.acorn_ef_boost_max == 0 {
            return Err(crate::IndexError::InvalidParameter {
                name: "acorn_ef_boost_max",
                reason: "must be at least 1 (1 disables the boost)".into(),
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
    /// Beam width asked for (already at least `k`).
    pub ef: usize,
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
    /// The share of allowed nodes around the query's graph entry ([`crate::graph::Probe`]),
    /// when the caller probed (see [`wants_probe`]).
    pub local_selectivity: Option<f64>,
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
    /// Beam width for a graph path (`None` for exact).
    pub ef: Option<usize>,
}

/// Whether [`plan`] would use a probe of the HNSW graph around the query for this input: an
/// `Auto` query whose filter leaves more than `exact_max_points` (and `k`) points, at a
/// selectivity in `[min(probe_min_selectivity, acorn1_min_selectivity), hnsw_min_selectivity)`
/// (filtered HNSW or ACORN-1 territory, where the probe picks between them and sizes ACORN's
/// beam).
pub fn wants_probe(cfg: &PlannerConfig, input: &PlanInput) -> bool {
    let s = input.selectivity();
    input.strategy == Strategy::Auto
        && input.filtered
        && input.hnsw_indexed > 0
        && input.allowed > input.k as u64
        && input.allowed > cfg.exact_max_points
        && s < cfg.hnsw_min_selectivity
        && s >= cfg.probe_min_selectivity.min(cfg.acorn1_min_selectivity)
}

/// Chooses the path for one query. Every path it can name exists: a forced ACORN on an index
/// without the gamma graph becomes ACORN-1.
pub fn plan(cfg: &PlannerConfig, input: &PlanInput) -> Plan {
    let s = input.selectivity();
    let nums = format!("{} of {} live points allowed (selectivity {:.4})", input.allowed, input.live, s);
    let graph = |path: SearchPath, reason: String, ef: usize| Plan { path, reason, ef: Some(ef) };
    let exact = |reason: String| Plan { path: SearchPath::Exact, reason, ef: None };
    let forced = |path: SearchPath| {
        let reason = format!("forced by strategy={}; {nums}", path.as_str());
        if path == SearchPath::Exact {
            exact(reason)
        } else {
            graph(path, reason, input.ef)
        }
    };
    // The widened beam of the ACORN paths, and how it was derived: from the filter's density
    // near the query when probed (an anti-correlated filter is sparser there than overall).
    let boosted = || {
        // Probed: the density near the query is known, and a filter as dense there as overall
        // needs half the unprobed widening (peerbench's random 10% on arXiv: ACORN-1 ef 32 0.960,
        // ef 64 0.988); an anti-correlated one (`l` near 0) still gets the cap.
        let (dens, scale) = match input.local_selectivity {
            Some(l) => (l.min(s), 0.5),
            None => (s, 1.0),
        };
        let want = if dens > 0.0 { ((1.0 / dens).sqrt() * scale).ceil() } else { f64::INFINITY };
        let factor = (want.max(1.0) as usize).min(cfg.acorn_ef_boost_max.max(1));
        let why = match input.local_selectivity {
            Some(l) => format!(
                "ef {} x{factor} for the filter's density {dens:.4} near the query (probe: {l:.4})",
                input.ef
            ),
            None => format!("ef {} x{factor} for the narrow filter", input.ef),
        };
        (input.ef * factor, why)
    };
    match input.strategy {
        Strategy::Exact => forced(SearchPath::Exact),
        Strategy::Hnsw => forced(SearchPath::Hnsw),
        Strategy::Acorn => {
            forced(if input.acorn_gamma.is_some() { SearchPath::AcornGamma } else { SearchPath::Acorn1 })
        }
        Strategy::Auto => {
            let coverage = input.acorn_gamma.map(|g| s * g as f64);
            if input.allowed <= input.k as u64 {
                exact(format!("k = {} covers every allowed point; {nums}", input.k))
            } else if input.hnsw_indexed == 0 {
                exact(format!("no point is in the graph yet; {nums}"))
            } else if input.allowed <= cfg.exact_max_points {
                exact(format!(
                    "{} allowed points <= exact_max_points {}: a scan is cheaper than a graph walk; {nums}",
                    input.allowed, cfg.exact_max_points
                ))
            } else if s >= cfg.hnsw_min_selectivity {
                let what = if input.filtered { "filtered HNSW" } else { "HNSW" };
                let reason = format!(
                    "selectivity {s:.4} >= hnsw_min_selectivity {}: {what}; {nums}",
                    cfg.hnsw_min_selectivity
                );
                graph(SearchPath::Hnsw, reason, input.ef)
            } else if let Some(l) = input
                .local_selectivity
                .filter(|l| s >= cfg.probe_min_selectivity && *l >= cfg.hnsw_min_local_selectivity)
            {
                let reason = format!(
                    "probe_min_selectivity {} <= selectivity {s:.4} < hnsw_min_selectivity {} and {l:.4} of the \
                     graph around the query is allowed (>= hnsw_min_local_selectivity {}): filtered HNSW; {nums}",
                    cfg.probe_min_selectivity, cfg.hnsw_min_selectivity, cfg.hnsw_min_local_selectivity
                );
                graph(SearchPath::Hnsw, reason, input.ef)
            } else if let Some(l) = input.local_selectivity.filter(|l| {
                cfg.far_density_ratio > 0.0
                    && *l * cfg.far_density_ratio < s
                    && input.allowed <= cfg.far_exact_max_points
            }) {
                exact(format!(
                    "the probe finds {l:.4} of the graph around the query allowed, below selectivity {s:.4} / \
                     far_density_ratio {} (the filter's points lie away from the query, where a walk of its \
                     subgraph must first find them), and {} allowed points <= far_exact_max_points {}: exact; {nums}",
                    cfg.far_density_ratio, input.allowed, cfg.far_exact_max_points
                ))
            } else if let (Some(g), Some(c)) =
                (input.acorn_gamma, coverage.filter(|c| *c >= cfg.acorn_gamma_min_coverage))
            {
                let (ef, how) = boosted();
                let reason = format!(
                    "selectivity {s:.4} < hnsw_min_selectivity {} and selectivity·gamma = {c:.2} >= \
                     acorn_gamma_min_coverage {}: ACORN-gamma (gamma {g}), {how}; {nums}",
                    cfg.hnsw_min_selectivity, cfg.acorn_gamma_min_coverage
                );
                graph(SearchPath::AcornGamma, reason, ef)
            } else if s >= cfg.acorn1_min_selectivity {
                let (ef, how) = boosted();
                let reason = format!(
                    "acorn1_min_selectivity {} <= selectivity {s:.4} < hnsw_min_selectivity {}: ACORN-1, {how}; {nums}",
                    cfg.acorn1_min_selectivity, cfg.hnsw_min_selectivity
                );
                graph(SearchPath::Acorn1, reason, ef)
            } else {
                let gamma_note = match coverage {
                    Some(c) => format!(
                        ", selectivity·gamma = {c:.2} < acorn_gamma_min_coverage {}",
                        cfg.acorn_gamma_min_coverage
                    ),
                    None => String::new(),
                };
                exact(format!(
                    "selectivity {s:.4} < acorn1_min_selectivity {}{gamma_note}: below ACORN's reliable range, \
                     scanning the {} allowed points; {nums}",
                    cfg.acorn1_min_selectivity, input.allowed
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(strategy: Strategy, live: u64, allowed: u64) -> PlanInput {
        PlanInput {
            strategy,
            k: 10,
            ef: 64,
            live,
            allowed,
            filtered: allowed < live,
            hnsw_indexed: live,
            acorn_gamma: None,
            local_selectivity: None,
        }
    }

    fn cfg() -> PlannerConfig {
        PlannerConfig { exact_max_points: 1000, ..PlannerConfig::default() }
    }

    #[test]
    fn auto_follows_the_thresholds() {
        let c = cfg();
        let p = |i: PlanInput| plan(&c, &i).path;
        assert_eq!(p(input(Strategy::Auto, 100_000, 100_000)), SearchPath::Hnsw);
        assert_eq!(p(input(Strategy::Auto, 100_000, 90_000)), SearchPath::Hnsw);
        assert_eq!(p(input(Strategy::Auto, 100_000, 89_999)), SearchPath::Acorn1);
        assert_eq!(p(input(Strategy::Auto, 100_000, 5_000)), SearchPath::Acorn1);
        assert_eq!(p(input(Strategy::Auto, 100_000, 4_999)), SearchPath::Exact);
        assert_eq!(p(input(Strategy::Auto, 100_000, 1000)), SearchPath::Exact);
        assert_eq!(p(input(Strategy::Auto, 100_000, 5)), SearchPath::Exact);
        // A gamma graph extends the graph range down to s·gamma = 0.2, then exact.
        let g = |allowed| PlanInput { acorn_gamma: Some(10), ..input(Strategy::Auto, 100_000, allowed) };
        assert_eq!(p(g(10_000)), SearchPath::AcornGamma);
        assert_eq!(p(g(2_000)), SearchPath::AcornGamma);
        assert_eq!(p(g(1_999)), SearchPath::Exact);
        // Nothing indexed: exact, whatever the selectivity.
        assert_eq!(
            p(PlanInput { hnsw_indexed: 0, ..input(Strategy::Auto, 100_000, 100_000) }),
            SearchPath::Exact
        );
        // Small collections: k covers everything.
        assert_eq!(p(input(Strategy::Auto, 8, 8)), SearchPath::Exact);
    }

    #[test]
    fn acorn_ef_grows_as_the_filter_narrows() {
        let c = cfg();
        let ef = |allowed| plan(&c, &input(Strategy::Auto, 100_000, allowed)).ef;
        assert_eq!(ef(100_000), Some(64), "HNSW keeps the asked ef");
        assert_eq!(ef(50_000), Some(64 * 2), "sqrt(1 / 0.5) rounds up to 2");
        assert_eq!(ef(20_000), Some(64 * 3), "sqrt(5) rounds up to 3");
        assert_eq!(ef(10_000), Some(64 * 4));
        assert_eq!(ef(5_000), Some(64 * 4), "sqrt(20) is capped at acorn_ef_boost_max");
        assert_eq!(ef(500), None, "exact has no beam");
        let no_boost = PlannerConfig { acorn_ef_boost_max: 1, ..c };
        assert_eq!(plan(&no_boost, &input(Strategy::Auto, 100_000, 5_000)).ef, Some(64));
        // Forced paths keep the ef asked for.
        assert_eq!(plan(&c, &input(Strategy::Acorn, 100_000, 5_000)).ef, Some(64));
    }

    #[test]
    fn the_probe_picks_filtered_hnsw_or_acorn_in_the_middle_range() {
        let c = cfg();
        let probed = |allowed, l: Option<f64>| {
            let i = PlanInput { local_selectivity: l, ..input(Strategy::Auto, 100_000, allowed) };
            plan(&c, &i)
        };
        // Dense around the query: filtered HNSW with the asked ef.
        let p = probed(50_000, Some(0.5));
        assert_eq!((p.path, p.ef), (SearchPath::Hnsw, Some(64)));
        assert!(p.reason.contains("0.5000 of the graph around the query"), "{}", p.reason);
        assert_eq!(probed(20_000, Some(0.3)).path, SearchPath::Hnsw, "at both thresholds");
        // Sparse around the query (anti-correlated): ACORN-1, beam from the local density.
        let p = probed(50_000, Some(0.02));
        assert_eq!((p.path, p.ef), (SearchPath::Acorn1, Some(64 * 4)), "sqrt(50) / 2 rounds up to 4");
        assert_eq!(probed(50_000, Some(0.29)).ef, Some(64), "sqrt(1 / 0.29) / 2 rounds up to 1");
        // Below probe_min_selectivity the probe only sizes ACORN's beam.
        assert_eq!(probed(10_000, Some(0.9)).path, SearchPath::Acorn1);
        assert_eq!(probed(10_000, Some(0.9)).ef, Some(64 * 2), "min(s, l) = s: sqrt(10) / 2 -> 2");
        assert_eq!(probed(20_000, Some(0.01)).ef, Some(64 * 4), "anti-correlated: the cap");
        // Without a probe: the cardinality rules alone.
        assert_eq!(probed(50_000, None).path, SearchPath::Acorn1);
        // Who probes: Auto, filtered, in [min(probe_min, acorn1_min), hnsw_min), above exact.
        let wants = |i: PlanInput| wants_probe(&c, &i);
        assert!(wants(input(Strategy::Auto, 100_000, 50_000)));
        assert!(wants(input(Strategy::Auto, 100_000, 5_000)));
        assert!(!wants(input(Strategy::Auto, 100_000, 4_999)), "below acorn1_min_selectivity");
        assert!(!wants(input(Strategy::Auto, 100_000, 95_000)), "HNSW without asking");
        assert!(!wants(input(Strategy::Acorn, 100_000, 50_000)), "forced");
        assert!(!wants(input(Strategy::Auto, 100_000, 900)), "exact");
        assert!(!wants(PlanInput { hnsw_indexed: 0, ..input(Strategy::Auto, 100_000, 50_000) }));
    }

    #[test]
    fn a_filter_far_from_the_query_is_scanned_up_to_far_exact_max_points() {
        let c = cfg();
        let probed = |allowed, l: f64| {
            let i = PlanInput { local_selectivity: Some(l), ..input(Strategy::Auto, 100_000, allowed) };
            plan(&c, &i)
        };
        // 10% overall, none of it near the query: the points lie elsewhere, scan them.
        let p = probed(10_000, 0.0);
        assert_eq!((p.path, p.ef), (SearchPath::Exact, None));
        assert!(p.reason.contains("far_exact_max_points 16384"), "{}", p.reason);
        // Just under and over the density ratio (l < s / 4).
        assert_eq!(probed(10_000, 0.0249).path, SearchPath::Exact);
        assert_eq!(probed(10_000, 0.025).path, SearchPath::Acorn1);
        // Above far_exact_max_points the scan costs more than the widest ACORN-1 beam.
        let p = probed(20_000, 0.0);
        assert_eq!((p.path, p.ef), (SearchPath::Acorn1, Some(64 * 4)));
        // Without a probe, or with the rule off, the cardinality rules alone.
        assert_eq!(plan(&c, &input(Strategy::Auto, 100_000, 10_000)).path, SearchPath::Acorn1);
        let off = PlannerConfig { far_density_ratio: 0.0, ..c };
        let i = PlanInput { local_selectivity: Some(0.0), ..input(Strategy::Auto, 100_000, 10_000) };
        assert_eq!(plan(&off, &i).path, SearchPath::Acorn1);
        // Forced paths are honoured.
        let i = PlanInput { local_selectivity: Some(0.0), ..input(Strategy::Acorn, 100_000, 10_000) };
        assert_eq!(plan(&c, &i).path, SearchPath::Acorn1);
    }

    #[test]
    fn reasons_carry_the_numbers() {
        let c = cfg();
        let r = plan(&c, &input(Strategy::Auto, 100_000, 500)).reason;
        assert!(r.contains("500") && r.contains("100000") && r.contains("exact_max_points 1000"), "{r}");
        let r = plan(&c, &input(Strategy::Auto, 100_000, 20_000)).reason;
        assert!(r.contains("0.2000") && r.contains("ACORN-1") && r.contains("x3"), "{r}");
        let r = plan(&c, &input(Strategy::Auto, 100_000, 2_000)).reason;
        assert!(r.contains("acorn1_min_selectivity 0.05"), "{r}");
    }

    #[test]
    fn forced_strategies_are_honoured() {
        let c = PlannerConfig::default();
        let p = |s, allowed| plan(&c, &input(s, 100_000, allowed));
        assert_eq!(p(Strategy::Exact, 100_000).path, SearchPath::Exact);
        assert_eq!(p(Strategy::Hnsw, 10).path, SearchPath::Hnsw);
        assert_eq!(p(Strategy::Acorn, 100_000).path, SearchPath::Acorn1);
        assert!(p(Strategy::Hnsw, 10).reason.starts_with("forced"));
        let gamma = PlanInput { acorn_gamma: Some(4), ..input(Strategy::Acorn, 100, 1) };
        assert_eq!(plan(&c, &gamma).path, SearchPath::AcornGamma);
    }

    #[test]
    fn validate_rejects_out_of_range() {
        assert!(PlannerConfig { hnsw_min_selectivity: 1.5, ..Default::default() }.validate().is_err());
        assert!(PlannerConfig { acorn1_min_selectivity: -0.1, ..Default::default() }.validate().is_err());
        assert!(PlannerConfig { acorn_gamma_min_coverage: f64::NAN, ..Default::default() }
            .validate()
            .is_err());
        assert!(PlannerConfig { acorn_ef_boost_max: 0, ..Default::default() }.validate().is_err());
        assert!(PlannerConfig { far_density_ratio: f64::NAN, ..Default::default() }.validate().is_err());
        assert!(PlannerConfig::default().validate().is_ok());
    }
}
