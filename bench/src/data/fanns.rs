//! A directory in the FANNS benchmark's layout (Iff et al. 2025, the `arxiv-for-fanns-*` sets):
//!
//! | file | content |
//! |---|---|
//! | `database_vectors.fvecs` | base vectors |
//! | `database_attributes.jsonl` | one record per base vector (`update_date`, `main_categories`, ...) |
//! | `query_vectors.fvecs` | query vectors, shared by the three workloads |
//! | `em_query_attributes.jsonl` | `{"label": n}`: number_of_sub_categories == n |
//! | `r_query_attributes.jsonl` | `{"range_start": a, "range_end": b}`: a <= update_date <= b |
//! | `emis_query_attributes.jsonl` | `{"label": "cs"}`: "cs" in main_categories |
//! | `ground_truth_{em,r,emis}.ivecs` | exact neighbours, up to 100 a row (-1 padded or shorter) |
//!
//! A workload whose attribute or ground-truth file is absent is skipped; both present must have
//! one line / row per query.

use std::io::{BufRead, Write};
use std::path::Path;

use grove_index::Metric;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::{
    format_err, io_err, record, vecs, DataError, Dataset, ProvidedWorkload, Record, Result, Vectors,
};
use crate::payload::PayloadIndex;
use crate::workload::{Field, Filter, Workload};

#[derive(Deserialize)]
#[serde(untagged)]
enum Label {
    Int(i64),
    Str(String),
}

#[derive(Deserialize)]
struct QueryAttrs {
    label: Option<Label>,
    range_start: Option<i64>,
    range_end: Option<i64>,
}

fn read_query_filters(path: &Path, kind: &str) -> Result<Vec<Filter>> {
    let mut out = Vec::new();
    for (i, line) in record::open_jsonl(path)?.lines().enumerate() {
        let line = line.map_err(io_err(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let q: QueryAttrs = serde_json::from_str(&line).map_err(|source| DataError::Json {
            path: path.to_path_buf(),
            line: i + 1,
            source,
        })?;
        let bad = |what: &str| format_err(path, format!("line {}: {kind} query needs {what}", i + 1));
        out.push(match kind {
            "em" => match q.label {
                Some(Label::Int(v)) => Filter::Eq { field: Field::NumberOfSubCategories, value: v },
                _ => return Err(bad("an integer \"label\"")),
            },
            "r" => match (q.range_start, q.range_end) {
                (Some(lo), Some(hi)) if lo <= hi => Filter::Range { field: Field::Date, lo, hi },
                _ => return Err(bad("\"range_start\" <= \"range_end\"")),
            },
            _ => match q.label {
                Some(Label::Str(v)) => Filter::Contains { field: Field::MainCategories, value: v },
                _ => return Err(bad("a string \"label\"")),
            },
        });
    }
    Ok(out)
}

/// Loads a FANNS directory; vectors are prepared for `metric`.
pub fn load(dir: &Path, metric: Metric) -> Result<Dataset> {
    let base_path = dir.join("database_vectors.fvecs");
    let attr_path = dir.join("database_attributes.jsonl");
    let q_path = dir.join("query_vectors.fvecs");
    for (p, hint) in [
        (&base_path, "base vectors, .fvecs"),
        (&attr_path, "one JSON record per base vector"),
        (&q_path, "query vectors, .fvecs"),
    ] {
        if !p.exists() {
            return Err(DataError::Missing { path: p.clone(), hint });
        }
    }
    let mut base = vecs::read_fvecs(&base_path)?;
    let records = record::read_records(record::open_jsonl(&attr_path)?, &attr_path)?;
    let mut queries = vecs::read_fvecs(&q_path)?;
    base.prepare(metric);
    queries.prepare(metric);
    let mut provided = Vec::new();
    for kind in ["em", "r", "emis"] {
        let qa = dir.join(format!("{kind}_query_attributes.jsonl"));
        let gt = dir.join(format!("ground_truth_{kind}.ivecs"));
        if !qa.exists() || !gt.exists() {
            continue;
        }
        let filters = read_query_filters(&qa, kind)?;
        let truth = vecs::read_ivecs(&gt)?;
        for (p, n, what) in [(&qa, filters.len(), "lines"), (&gt, truth.len(), "rows")] {
            if n != queries.len() {
                return Err(DataError::Mismatch {
                    a: q_path.clone(),
                    b: p.clone(),
                    reason: format!("{} query vectors but {n} {what}", queries.len()),
                });
            }
        }
        if let Some((i, id)) = truth
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.iter().find(|&&id| id as usize >= base.len()).map(|id| (i, *id)))
        {
            return Err(format_err(
                &gt,
                format!("row {i} names point {id} but there are {} points", base.len()),
            ));
        }
        provided.push(ProvidedWorkload { name: kind.to_string(), filters, truth });
    }
    let name = dir.file_name().and_then(|s| s.to_str()).unwrap_or("fanns").to_string();
    let ds =
        Dataset { name: format!("fanns-{name}-{}", base.len()), metric, base, queries, records, provided };
    ds.validate(&base_path, &attr_path)?;
    Ok(ds)
}

/// Writes a synthetic dataset in the FANNS layout, ground truth included (k = 100, exact, -1
/// padded): clustered unit vectors whose category follows the cluster, random dates and author
/// names. Used by the tests and by `grove-bench fanns-gen` to exercise the loader end to end.
pub fn write_synthetic(dir: &Path, n: usize, nq: usize, dim: usize, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let clusters = 16usize;
    let centres: Vec<Vec<f32>> =
        (0..clusters).map(|_| (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();
    let draw = |rng: &mut ChaCha8Rng| {
        let c = rng.gen_range(0..clusters);
        let v: Vec<f32> = centres[c].iter().map(|x| x + rng.gen_range(-0.6f32..0.6)).collect();
        (c, v)
    };
    let mains = ["cs", "math", "astro-ph", "physics"];
    let mut base = Vec::with_capacity(n * dim);
    let mut records = Vec::with_capacity(n);
    for i in 0..n {
        let (c, v) = draw(&mut rng);
        base.extend(v);
        let nsub = 1 + (rng.gen_range(0.0f64..1.0).powi(2) * 4.0) as i64;
        let mut main = vec![mains[c % mains.len()].to_string()];
        if rng.gen_bool(0.1) {
            main.push(mains[(c + 1) % mains.len()].to_string());
        }
        records.push(Record {
            number_of_sub_categories: nsub,
            date: 15_000 + rng.gen_range(0..2_000),
            sub_categories: main.iter().map(|m| format!("{m}.{}", c % 3)).collect(),
            main_categories: main,
            authors: vec![format!("author{}", rng.gen_range(0..n / 4 + 1)), format!("lab{}", i % 50)],
        });
    }
    let queries: Vec<f32> = (0..nq).flat_map(|_| draw(&mut rng).1).collect();
    let base = Vectors::new(dim, base);
    let queries = Vectors::new(dim, queries);
    vecs::write_fvecs(&dir.join("database_vectors.fvecs"), &base)?;
    vecs::write_fvecs(&dir.join("query_vectors.fvecs"), &queries)?;
    let attr_path = dir.join("database_attributes.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&attr_path).map_err(io_err(&attr_path))?);
    for r in &records {
        let line = serde_json::json!({
            "update_date": r.date,
            "number_of_sub_categories": r.number_of_sub_categories,
            "main_categories": r.main_categories,
            "sub_categories": r.sub_categories,
            "authors": r.authors,
        });
        writeln!(f, "{line}").map_err(io_err(&attr_path))?;
    }
    f.flush().map_err(io_err(&attr_path))?;
    // Query filters the FANNS way (values of random items), ground truth by brute force over the
    // prepared (normalised) vectors.
    let index = PayloadIndex::build(&records);
    let mut pb = base.clone();
    pb.prepare(Metric::Cosine);
    let mut pq = queries.clone();
    pq.prepare(Metric::Cosine);
    for kind in ["em", "r", "emis"] {
        let mut lines = Vec::with_capacity(nq);
        let mut filters = Vec::with_capacity(nq);
        for _ in 0..nq {
            let r = &records[rng.gen_range(0..n)];
            let (line, f) = match kind {
                "em" => (
                    serde_json::json!({ "label": r.number_of_sub_categories }),
                    Filter::Eq { field: Field::NumberOfSubCategories, value: r.number_of_sub_categories },
                ),
                "r" => {
                    let other = records[rng.gen_range(0..n)].date;
                    let (lo, hi) = (r.date.min(other), r.date.max(other));
                    (
                        serde_json::json!({ "range_start": lo, "range_end": hi }),
                        Filter::Range { field: Field::Date, lo, hi },
                    )
                }
                _ => {
                    let m = r.main_categories[rng.gen_range(0..r.main_categories.len())].clone();
                    (
                        serde_json::json!({ "label": m }),
                        Filter::Contains { field: Field::MainCategories, value: m },
                    )
                }
            };
            lines.push(line.to_string());
            filters.push(f);
        }
        let qa = dir.join(format!("{kind}_query_attributes.jsonl"));
        std::fs::write(&qa, lines.join("\n") + "\n").map_err(io_err(&qa))?;
        let w = Workload::from_filters(kind, kind, filters, &index);
        let truth = crate::truth::compute(&pb, &pq, Metric::Cosine, &w, 100);
        vecs::write_ivecs(&dir.join(format!("ground_truth_{kind}.ivecs")), &truth, 100)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(dir.path(), Metric::Cosine).unwrap_err().to_string();
        assert!(e.contains("database_vectors.fvecs is missing"), "{e}");
    }

    #[test]
    fn bad_query_line_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        std::fs::write(&p, "{\"range_start\": 5, \"range_end\": 1}\n").unwrap();
        let e = read_query_filters(&p, "r").unwrap_err().to_string();
        assert!(e.contains("line 1: r query needs \"range_start\" <= \"range_end\""), "{e}");
    }
}
