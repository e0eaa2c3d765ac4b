//! Critical-n for k = 2 by free-embedding optimisation, next to Weller et al.'s fit.
//!
//! ```text
//! cargo run --release -p grove-index --example limit_capacity -- [d ...] [--budget SECONDS] [--restarts N] [--max-steps N] [--patience N]
//! ```
//!
//! Defaults: d = 4 8 12 16, 600 s budget per d, the library's default step limits. The search
//! starts at n = 2d (not at the paper's fit, so the fit does not steer the result).

use std::time::{Duration, Instant};

use grove_index::diagnostics::bounds::{exact_sufficient_dimension, weller_fit_critical_n};
use grove_index::diagnostics::capacity::{critical_n, CapacityConfig, CriticalNConfig};

fn main() -> anyhow_free::Result {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dims = Vec::new();
    let mut budget = 600u64;
    let mut base = CapacityConfig::new(0, 2);
    let mut i = 0;
    while i < args.len() {
        let value =
            |i: usize| args.get(i + 1).and_then(|v| v.parse::<u64>().ok()).ok_or("flag needs a number");
        match args[i].as_str() {
            "--budget" => {
                budget = value(i)?;
                i += 1;
            }
            "--restarts" => {
                base.restarts = value(i)? as usize;
                i += 1;
            }
            "--max-steps" => {
                base.max_steps = value(i)? as usize;
                i += 1;
            }
            "--patience" => {
                base.patience = value(i)? as usize;
                i += 1;
            }
            d => dims.push(d.parse::<usize>().map_err(|_| "dimensions are positive integers")?),
        }
        i += 1;
    }
    if dims.is_empty() {
        dims = vec![4, 8, 12, 16];
    }
    println!(
        "k = 2, all pairs; InfoNCE tau {}, Adam lr {}, max_steps {}, patience {}, restarts {}, budget {budget} s per d, threads {}",
        base.temperature,
        base.learning_rate,
        base.max_steps,
        base.patience,
        base.restarts,
        rayon::current_num_threads()
    );
    println!(
        "exact-geometry bound (Wang et al. 2601.20844): every pair is returnable for any n once d >= {} (dot/L2) or {} (cosine)",
        exact_sufficient_dimension(2, false),
        exact_sufficient_dimension(2, true)
    );
    println!(
        "{:>4} {:>11} {:>13} {:>9} {:>10} {:>8}  probes (n:ok/fail steps)",
        "d", "critical-n", "first-failure", "complete", "paper fit", "time"
    );
    for d in dims {
        let cfg = CriticalNConfig {
            probe: CapacityConfig {
                dim: d,
                time_budget: Some(Duration::from_secs(budget)),
                seed: 42,
                progress_every: 0,
                ..base.clone()
            },
            start_n: 2 * d,
            max_n: 4096,
            growth: 1.5,
        };
        let t = Instant::now();
        let r = critical_n(&cfg, &mut |_| {})?;
        let probes: Vec<String> = r
            .probes
            .iter()
            .map(|p| {
                let steps: usize = p.attempts.iter().map(|a| a.steps).sum();
                format!(
                    "{}:{}{}",
                    p.n,
                    // "cut": the time budget ended the probe, so its failure proves nothing.
                    if p.all_realised {
                        "ok"
                    } else if p.budget_exhausted {
                        "cut"
                    } else {
                        "fail"
                    },
                    if p.all_realised {
                        format!("@{steps}")
                    } else {
                        format!("({}/{})", p.best_realised, p.queries)
                    }
                )
            })
            .collect();
        println!(
            "{:>4} {:>11} {:>13} {:>9} {:>10.1} {:>7.1}s  {}",
            d,
            r.critical_n.map_or("-".into(), |c| c.to_string()),
            r.first_failure.map_or("-".into(), |c| c.to_string()),
            r.complete,
            weller_fit_critical_n(d),
            t.elapsed().as_secs_f64(),
            probes.join(" ")
        );
    }
    Ok(())
}

/// The example needs no error crate: a boxed error is enough for a command-line tool.
mod anyhow_free {
    /// `main`'s result.
    pub type Result = std::result::Result<(), Box<dyn std::error::Error>>;
}
