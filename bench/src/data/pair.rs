//! Any vector file (`.fvecs` or `.npy`) with a JSONL attribute file (line i describes row i),
//! optionally a query file; without one, queries are held out from the base rows (seeded).

use std::path::Path;

use grove_index::Metric;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{format_err, npy, record, vecs, Dataset, Result, Vectors};

/// Reads `.fvecs` or `.npy` by extension.
pub fn read_vectors(path: &Path) -> Result<Vectors> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("fvecs") => vecs::read_fvecs(path),
        Some("npy") => npy::read_matrix(path),
        Some("f16") => Err(format_err(path, "raw .f16 files carry no dimension; use the arxiv loader")),
        _ => Err(format_err(path, "unknown vector file type (expected .fvecs or .npy)")),
    }
}

/// Loads the pair. Without `queries`, `holdout` base rows chosen with `seed` become the queries
/// and leave the base (with their attribute lines).
pub fn load(
    vectors: &Path,
    attrs: &Path,
    queries: Option<&Path>,
    holdout: usize,
    seed: u64,
    metric: Metric,
) -> Result<Dataset> {
    let mut base = read_vectors(vectors)?;
    let mut records = record::read_records(record::open_jsonl(attrs)?, attrs)?;
    if base.len() != records.len() {
        return Err(super::DataError::Mismatch {
            a: vectors.to_path_buf(),
            b: attrs.to_path_buf(),
            reason: format!("{} vectors but {} attribute records", base.len(), records.len()),
        });
    }
    let mut q = match queries {
        Some(p) => read_vectors(p)?,
        None => {
            if holdout == 0 || holdout >= base.len() {
                return Err(format_err(
                    vectors,
                    format!("cannot hold out {holdout} queries from {} rows", base.len()),
                ));
            }
            let mut order: Vec<usize> = (0..base.len()).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            let (held, kept) = order.split_at(holdout);
            let mut kept = kept.to_vec();
            kept.sort_unstable();
            let qv = Vectors::new(base.dim, held.iter().flat_map(|&i| base.row(i).to_vec()).collect());
            base = Vectors::new(base.dim, kept.iter().flat_map(|&i| base.row(i).to_vec()).collect());
            records = kept.iter().map(|&i| records[i].clone()).collect();
            qv
        }
    };
    base.prepare(metric);
    q.prepare(metric);
    let name = vectors.file_stem().and_then(|s| s.to_str()).unwrap_or("pair").to_string();
    let ds = Dataset {
        name: format!("{name}-{}", base.len()),
        metric,
        base,
        queries: q,
        records,
        provided: vec![],
    };
    ds.validate(vectors, queries.unwrap_or(attrs))?;
    Ok(ds)
}
