//! Raw little-endian IEEE float16 matrices (the arXiv set's `vectors.f16` / `queries.f16`).

use std::path::Path;

use super::{format_err, io_err, Result, Vectors};

/// Reads `path` as row-major float16 rows of `dim` values, converted to f32. The row count
/// comes from the file size, which must be a whole number of rows.
pub fn read_f16(path: &Path, dim: usize) -> Result<Vectors> {
    if dim == 0 {
        return Err(format_err(path, "dimension 0 given"));
    }
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let row_bytes = 2 * dim;
    if bytes.is_empty() || bytes.len() % row_bytes != 0 {
        return Err(format_err(
            path,
            format!(
                "{} bytes is not a whole number of float16 rows of dimension {dim} ({row_bytes} bytes each)",
                bytes.len()
            ),
        ));
    }
    let data = bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect();
    Ok(Vectors::new(dim, data))
}

/// Writes rows as little-endian float16 (tests and converters).
pub fn write_f16(path: &Path, v: &Vectors) -> Result<()> {
    let bytes: Vec<u8> = v.data.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect();
    std::fs::write(path, bytes).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_size_check() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.f16");
        let v = Vectors::new(3, vec![0.5, -1.0, 2.0, 0.25, 0.0, 1.5]);
        write_f16(&p, &v).unwrap();
        assert_eq!(read_f16(&p, 3).unwrap(), v);
        let e = read_f16(&p, 4).unwrap_err().to_string();
        assert!(e.contains("12 bytes is not a whole number of float16 rows of dimension 4"), "{e}");
    }
}
