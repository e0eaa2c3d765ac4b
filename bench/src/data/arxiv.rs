//! Grove's arXiv set (`../shared/data/arxiv`): `vectors.f16` + `papers.jsonl.gz` (line i is
//! point i) and `queries.f16`. Row counts come from the files, never from a constant: the set
//! will grow.

use std::path::Path;

use grove_index::Metric;

use super::{f16::read_f16, record, DataError, Dataset, Result};

/// Embedding width of the set (all-MiniLM-L6-v2); the f16 files carry no header.
pub const DIM: usize = 384;

/// Loads the directory. `dim` is the row width of the f16 files ([`DIM`] for this set).
pub fn load(dir: &Path, dim: usize) -> Result<Dataset> {
    let vec_path = dir.join("vectors.f16");
    let papers_path = dir.join("papers.jsonl.gz");
    let q_path = dir.join("queries.f16");
    for (p, hint) in [
        (&vec_path, "float16 base vectors"),
        (&papers_path, "gzip JSONL papers, line i = point i"),
        (&q_path, "float16 query vectors"),
    ] {
        if !p.exists() {
            return Err(DataError::Missing { path: p.clone(), hint });
        }
    }
    let mut base = read_f16(&vec_path, dim)?;
    let records = record::read_records(record::open_jsonl(&papers_path)?, &papers_path)?;
    let mut queries = read_f16(&q_path, dim)?;
    let metric = Metric::Cosine;
    base.prepare(metric);
    queries.prepare(metric);
    let ds = Dataset {
        name: format!("arxiv-{}", base.len()),
        metric,
        base,
        queries,
        records,
        provided: Vec::new(),
    };
    ds.validate(&vec_path, &papers_path)?;
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{f16::write_f16, Vectors};
    use std::io::Write;

    fn write_papers(path: &Path, n: usize) {
        let f = std::fs::File::create(path).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        for i in 0..n {
            writeln!(gz, r#"{{"listing_day":{},"main_categories":["cs"],"number_of_sub_categories":1}}"#, i)
                .unwrap();
        }
        gz.finish().unwrap();
    }

    #[test]
    fn loads_and_checks_row_counts() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vectors::new(4, (0..12).map(|i| i as f32 + 1.0).collect());
        write_f16(&dir.path().join("vectors.f16"), &v).unwrap();
        write_f16(&dir.path().join("queries.f16"), &Vectors::new(4, vec![1.0; 4])).unwrap();
        write_papers(&dir.path().join("papers.jsonl.gz"), 3);
        let ds = load(dir.path(), 4).unwrap();
        assert_eq!((ds.base.len(), ds.queries.len(), ds.records.len()), (3, 1, 3));
        assert_eq!(ds.records[2].date, 2);
        let n = grove_index::distance::dot(ds.base.row(1), ds.base.row(1));
        assert!((n - 1.0).abs() < 1e-5, "rows are normalised for cosine");

        write_papers(&dir.path().join("papers.jsonl.gz"), 2);
        let e = load(dir.path(), 4).unwrap_err().to_string();
        assert!(e.contains("3 vectors but 2 attribute records"), "{e}");
    }
}
