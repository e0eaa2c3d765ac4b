//! The TEXMEX `.fvecs` / `.ivecs` formats: each row is a little-endian `i32` count `d` followed
//! by `d` values (`f32` or `i32`).
//!
//! Vector files must have one `d` for every row. Ground-truth files may have shorter rows (the
//! FANNS files do when fewer than k points match) and may pad with -1; both are accepted and the
//! padding is dropped.

use std::path::Path;

use super::{format_err, io_err, Result, Vectors};

fn read_i32(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Splits a vecs file into rows of 4-byte words: `(offset of first value, count)` per row.
fn rows(path: &Path, bytes: &[u8]) -> Result<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.len() - at < 4 {
            return Err(format_err(
                path,
                format!("row {} starts at byte {at} but only {} bytes remain", out.len(), bytes.len() - at),
            ));
        }
        let d = read_i32(bytes, at);
        let d = usize::try_from(d)
            .map_err(|_| format_err(path, format!("row {} declares a negative length {d}", out.len())))?;
        let end = at + 4 + 4 * d;
        if end > bytes.len() {
            return Err(format_err(
                path,
                format!(
                    "row {} declares {d} values but the file ends {} bytes early",
                    out.len(),
                    end - bytes.len()
                ),
            ));
        }
        out.push((at + 4, d));
        at = end;
    }
    Ok(out)
}

/// Reads an `.fvecs` file; every row must have the same dimension.
pub fn read_fvecs(path: &Path) -> Result<Vectors> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let rows = rows(path, &bytes)?;
    let Some(&(_, dim)) = rows.first() else {
        return Err(format_err(path, "no rows"));
    };
    if dim == 0 {
        return Err(format_err(path, "row 0 has dimension 0"));
    }
    let mut data = Vec::with_capacity(rows.len() * dim);
    for (i, &(off, d)) in rows.iter().enumerate() {
        if d != dim {
            return Err(format_err(path, format!("row {i} has dimension {d}, row 0 has {dim}")));
        }
        data.extend(
            bytes[off..off + 4 * d].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    Ok(Vectors::new(dim, data))
}

/// Reads an `.ivecs` ground-truth file: one id list per row, -1 padding removed.
pub fn read_ivecs(path: &Path) -> Result<Vec<Vec<u32>>> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let rows = rows(path, &bytes)?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, &(off, d)) in rows.iter().enumerate() {
        let mut ids = Vec::with_capacity(d);
        for j in 0..d {
            let v = read_i32(&bytes, off + 4 * j);
            if v == -1 {
                continue;
            }
            let id =
                u32::try_from(v).map_err(|_| format_err(path, format!("row {i} holds a negative id {v}")))?;
            ids.push(id);
        }
        out.push(ids);
    }
    Ok(out)
}

/// Writes an `.fvecs` file.
pub fn write_fvecs(path: &Path, v: &Vectors) -> Result<()> {
    let mut out = Vec::with_capacity(v.len() * (4 + 4 * v.dim));
    let d = i32::try_from(v.dim).map_err(|_| format_err(path, "dimension does not fit in i32"))?;
    for i in 0..v.len() {
        out.extend_from_slice(&d.to_le_bytes());
        v.row(i).iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    }
    std::fs::write(path, out).map_err(io_err(path))
}

/// Writes an `.ivecs` file, padding each row to `width` with -1 (the FANNS convention).
pub fn write_ivecs(path: &Path, rows: &[Vec<u32>], width: usize) -> Result<()> {
    let mut out = Vec::new();
    let w = i32::try_from(width).map_err(|_| format_err(path, "width does not fit in i32"))?;
    for r in rows {
        out.extend_from_slice(&w.to_le_bytes());
        for j in 0..width {
            let v = match r.get(j) {
                Some(&id) => i32::try_from(id).map_err(|_| format_err(path, format!("id {id} too large")))?,
                None => -1,
            };
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, out).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fvecs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.fvecs");
        let v = Vectors::new(2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        write_fvecs(&p, &v).unwrap();
        assert_eq!(read_fvecs(&p).unwrap(), v);
    }

    #[test]
    fn ivecs_padding_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.ivecs");
        write_ivecs(&p, &[vec![3, 1], vec![7]], 3).unwrap();
        assert_eq!(read_ivecs(&p).unwrap(), vec![vec![3, 1], vec![7]]);
    }

    #[test]
    fn mixed_dimensions_and_truncation_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.fvecs");
        let mut b = Vec::new();
        b.extend_from_slice(&2i32.to_le_bytes());
        b.extend_from_slice(&[0u8; 8]);
        b.extend_from_slice(&3i32.to_le_bytes());
        b.extend_from_slice(&[0u8; 12]);
        std::fs::write(&p, &b).unwrap();
        let e = read_fvecs(&p).unwrap_err().to_string();
        assert!(e.contains("row 1 has dimension 3, row 0 has 2"), "{e}");
        std::fs::write(&p, &b[..b.len() - 4]).unwrap();
        let e = read_fvecs(&p).unwrap_err().to_string();
        assert!(e.contains("row 1 declares 3 values but the file ends 4 bytes early"), "{e}");
    }
}
