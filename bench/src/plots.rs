//! PNG figures of a run (plotters, bitmap backend):
//! - `recall-qps-<bucket>.png`: recall@10 against single-thread QPS (log scale), one line per
//!   system over the ef sweep, every workload's queries of the bucket pooled;
//! - `qps-vs-selectivity.png`: each system's best QPS at recall@10 >= 0.95 against the bucket's
//!   selectivity (both log scale).
//!
//! Text is drawn with a TrueType font read at run time (DejaVu Sans, Liberation Sans, ... from
//! the usual system directories) through plotters' pure-Rust `ab_glyph` renderer, so the crate
//! links no system font library. Without any such font the figures are skipped with a message.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{anyhow, Context};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::measure::Cell;
use crate::report::{is_grove, pooled, Pooled};
use crate::workload::BUCKETS;

const FONT: &str = "sans-serif";

/// Font files tried in order.
const FONT_FILES: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
];

/// Registers a system font with plotters once per process; the error says what was looked for.
fn font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        for f in FONT_FILES {
            if let Ok(bytes) = std::fs::read(f) {
                // plotters keeps the font for the whole process: leak it once.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(format!("no TrueType font found (looked for {})", FONT_FILES.join(", ")))
    })
    .clone()
}

/// Colour and stroke width of a system's line: Grove auto thick black, Grove's forced paths in
/// greys/blues, peers in distinct colours.
fn style(system: &str) -> (RGBColor, u32) {
    match system {
        "auto" => (RGBColor(0, 0, 0), 4),
        "hnsw" => (RGBColor(90, 90, 90), 2),
        "acorn" => (RGBColor(0, 90, 200), 2),
        "exact" => (RGBColor(150, 150, 150), 2),
        "hnsw_rs" => (RGBColor(120, 60, 160), 2),
        "faiss-hnsw" => (RGBColor(230, 120, 0), 2),
        "faiss-flat" => (RGBColor(240, 190, 60), 2),
        "faiss-hnsw-sq8" => (RGBColor(170, 90, 20), 2),
        "scann" => (RGBColor(60, 60, 200), 2),
        "hnswlib" => (RGBColor(200, 30, 30), 2),
        "usearch" => (RGBColor(30, 160, 60), 2),
        "qdrant-edge" => (RGBColor(220, 40, 160), 2),
        "qdrant-edge+acorn" => (RGBColor(120, 200, 220), 2),
        _ => (RGBColor(100, 100, 100), 1),
    }
}

fn label(system: &str) -> String {
    if is_grove(system) {
        format!("grove {system}")
    } else {
        system.to_string()
    }
}

/// File-name form of a bucket label ("~0.1%" -> "0.1pct").
pub fn bucket_file(b: &str) -> String {
    b.trim_start_matches('~').replace('%', "pct")
}

fn systems_of(p: &[&Pooled]) -> Vec<&'static str> {
    let mut s: Vec<&'static str> = Vec::new();
    for x in p {
        if !s.contains(&x.system) {
            s.push(x.system);
        }
    }
    s.sort_by_key(|x| (!is_grove(x), x.to_string()));
    s
}

fn log_range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals.filter(|v| *v > 0.0).fold((f64::MAX, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if hi <= 0.0 {
        return (1.0, 10.0);
    }
    (lo / 1.5, hi * 1.5)
}

type Res = anyhow::Result<()>;

fn q(p: &Pooled, cpu: bool) -> f64 {
    if cpu {
        p.qps_cpu
    } else {
        p.qps
    }
}

fn qps_axis(cpu: bool) -> &'static str {
    if cpu {
        "QPS of CPU time"
    } else {
        "QPS (wall clock)"
    }
}

fn recall_qps(path: &Path, title: &str, pts: &[&Pooled], cpu: bool) -> Res {
    let root = BitMapBackend::new(path, (1100, 750)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let (ylo, yhi) = log_range(pts.iter().map(|p| q(p, cpu)));
    let xlo = pts.iter().map(|p| p.recall).fold(1.0, f64::min).clamp(0.0, 0.9);
    let xlo = (xlo * 20.0).floor() / 20.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 24))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(xlo..1.005f64, (ylo..yhi).log_scale())
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("recall@10")
        .y_desc(format!("{} (1 thread, log)", qps_axis(cpu)))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for sys in systems_of(pts) {
        let mut line: Vec<(f64, f64)> = pts
            .iter()
            .filter(|p| p.system == sys && q(p, cpu) > 0.0)
            .map(|p| (p.recall, q(p, cpu)))
            .collect();
        // By ef: QPS falls as ef grows; sort by QPS descending to draw the curve in ef order.
        line.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (c, w) = style(sys);
        chart
            .draw_series(LineSeries::new(line.clone(), c.stroke_width(w)))
            .map_err(|e| anyhow!("{e}"))?
            .label(label(sys))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(w)));
        chart
            .draw_series(line.iter().map(|&(x, y)| Circle::new((x, y), 4, c.filled())))
            .map_err(|e| anyhow!("{e}"))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

fn qps_vs_selectivity(path: &Path, title: &str, p: &[Pooled], target: f64, cpu: bool) -> Res {
    let mut systems: Vec<&'static str> = Vec::new();
    for x in p {
        if !systems.contains(&x.system) {
            systems.push(x.system);
        }
    }
    systems.sort_by_key(|x| (!is_grove(x), x.to_string()));
    // Per (system, bucket): best QPS at recall >= target.
    let mut series: Vec<(&'static str, Vec<(f64, f64)>)> = Vec::new();
    for &sys in &systems {
        let mut line = Vec::new();
        for b in BUCKETS {
            // One x per bucket for every system: the median over all its pooled points.
            let mut sels: Vec<f64> = p.iter().filter(|x| x.bucket == b).map(|x| x.selectivity).collect();
            sels.sort_by(f64::total_cmp);
            let Some(&x) = sels.get(sels.len() / 2) else { continue };
            let pts: Vec<&Pooled> = p.iter().filter(|x| x.system == sys && x.bucket == b).collect();
            let best = pts.iter().filter(|x| x.recall >= target).map(|x| q(x, cpu)).fold(0.0, f64::max);
            if best > 0.0 {
                line.push((x.max(1e-5), best));
            }
        }
        line.sort_by(|a, b| a.0.total_cmp(&b.0));
        series.push((sys, line));
    }
    let (ylo, yhi) = log_range(series.iter().flat_map(|(_, l)| l.iter().map(|p| p.1)));
    let xlo = series.iter().flat_map(|(_, l)| l.iter().map(|p| p.0)).fold(1.0, f64::min) / 2.0;
    let root = BitMapBackend::new(path, (1100, 750)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 24))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((xlo..1.5f64).log_scale(), (ylo..yhi).log_scale())
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("selectivity (fraction of points allowed, log)")
        .y_desc(format!("{} at recall@10 >= {target} (1 thread, log)", qps_axis(cpu)))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .x_label_formatter(&|v| {
            if *v >= 0.01 {
                format!("{:.0}%", v * 100.0)
            } else {
                format!("{:.2}%", v * 100.0)
            }
        })
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (sys, line) in series {
        let (c, w) = style(sys);
        chart
            .draw_series(LineSeries::new(line.clone(), c.stroke_width(w)))
            .map_err(|e| anyhow!("{e}"))?
            .label(label(sys))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(w)));
        chart
            .draw_series(line.iter().map(|&(x, y)| Circle::new((x, y), 5, c.filled())))
            .map_err(|e| anyhow!("{e}"))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Draws every figure of `cells` into `dir`; returns the files written. `title` names the run
/// (dataset, date); `cpu` plots QPS of CPU time instead of wall clock.
pub fn draw(cells: &[Cell], dir: &Path, title: &str, cpu: bool) -> anyhow::Result<Vec<PathBuf>> {
    font().map_err(|e| anyhow!("plots skipped: {e}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let p = pooled(cells);
    let mut out = Vec::new();
    for b in BUCKETS {
        let pts: Vec<&Pooled> = p.iter().filter(|x| x.bucket == b).collect();
        if pts.is_empty() {
            continue;
        }
        let nq = pts.iter().map(|x| x.nq).max().unwrap_or(0);
        let path = dir.join(format!("recall-qps-{}.png", bucket_file(b)));
        recall_qps(
            &path,
            &format!("{title}: selectivity {b} ({nq} queries pooled over workloads)"),
            &pts,
            cpu,
        )
        .with_context(|| format!("drawing {}", path.display()))?;
        out.push(path);
    }
    let path = dir.join("qps-vs-selectivity.png");
    qps_vs_selectivity(&path, &format!("{title}: best QPS at recall@10 >= 0.95"), &p, 0.95, cpu)
        .with_context(|| format!("drawing {}", path.display()))?;
    out.push(path);
    Ok(out)
}
