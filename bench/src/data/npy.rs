//! A small reader/writer for NumPy `.npy` files: C-order arrays of little-endian f32, f16, f64,
//! i32 or i64 (what peerbench and common embedding dumps write). Fortran order and other dtypes
//! are refused with a message rather than misread.

use std::path::Path;

use super::{format_err, io_err, Result, Vectors};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Element types understood here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F16,
    F32,
    F64,
    I32,
    I64,
}

impl Dtype {
    fn parse(descr: &str) -> Option<Self> {
        Some(match descr {
            "<f2" => Dtype::F16,
            "<f4" => Dtype::F32,
            "<f8" => Dtype::F64,
            "<i4" => Dtype::I32,
            "<i8" => Dtype::I64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Dtype::F16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F64 | Dtype::I64 => 8,
        }
    }
}

/// A parsed array: shape, element type and the raw little-endian body.
struct Array {
    shape: Vec<usize>,
    dtype: Dtype,
    body: Vec<u8>,
}

fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    Some(rest)
}

fn parse(path: &Path) -> Result<Array> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(format_err(path, "not a .npy file (magic bytes missing)"));
    }
    let (hlen, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(format_err(path, format!("unsupported .npy version {v}"))),
    };
    let header = bytes
        .get(start..start + hlen)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| format_err(path, "truncated or non-UTF-8 .npy header"))?;
    let descr = field(header, "descr")
        .and_then(|r| r.strip_prefix('\''))
        .and_then(|r| r.split('\'').next())
        .ok_or_else(|| format_err(path, format!("no 'descr' in header {header:?}")))?;
    let dtype = Dtype::parse(descr).ok_or_else(|| {
        format_err(path, format!("dtype {descr:?} not supported (use <f4, <f2, <f8, <i4 or <i8)"))
    })?;
    if field(header, "fortran_order").is_some_and(|r| r.starts_with("True")) {
        return Err(format_err(path, "Fortran-order arrays are not supported; save with C order"));
    }
    let shape_txt = field(header, "shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| format_err(path, format!("no 'shape' in header {header:?}")))?;
    let shape = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| format_err(path, format!("bad shape ({shape_txt})")))?;
    let count: usize = shape.iter().product();
    let body = &bytes[start + hlen..];
    if body.len() != count * dtype.size() {
        return Err(format_err(
            path,
            format!(
                "shape {shape:?} of {descr} needs {} bytes of data, the file has {}",
                count * dtype.size(),
                body.len()
            ),
        ));
    }
    Ok(Array { shape, dtype, body: body.to_vec() })
}

fn values_f32(a: &Array) -> Vec<f32> {
    let b = &a.body;
    match a.dtype {
        Dtype::F16 => b.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
        Dtype::F32 => b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        Dtype::F64 => b
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
        Dtype::I32 => {
            b.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32).collect()
        }
        Dtype::I64 => b
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
    }
}

/// Reads a 2-D float array as vectors.
pub fn read_matrix(path: &Path) -> Result<Vectors> {
    let a = parse(path)?;
    let (rows, dim) = match a.shape[..] {
        [r, d] if d > 0 => (r, d),
        _ => {
            return Err(format_err(
                path,
                format!("expected a 2-D (rows, dim) array, got shape {:?}", a.shape),
            ))
        }
    };
    if matches!(a.dtype, Dtype::I32 | Dtype::I64) {
        return Err(format_err(path, "expected float vectors, found an integer array"));
    }
    let v = Vectors::new(dim, values_f32(&a));
    debug_assert_eq!(v.len(), rows);
    Ok(v)
}

/// Reads an integer array (any shape) as its shape and i64 values in C order.
pub fn read_ints(path: &Path) -> Result<(Vec<usize>, Vec<i64>)> {
    let a = parse(path)?;
    let b = &a.body;
    let v = match a.dtype {
        Dtype::I32 => {
            b.chunks_exact(4).map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
        }
        Dtype::I64 => b
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        _ => return Err(format_err(path, "expected an integer array (<i4 or <i8)")),
    };
    Ok((a.shape, v))
}

fn write(path: &Path, descr: &str, shape: &[usize], body: &[u8]) -> Result<()> {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape_txt =
        if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Pad so that the data starts on a 64-byte boundary, header ending in '\n' (the spec).
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let hlen = u16::try_from(header.len()).map_err(|_| format_err(path, "header too long"))?;
    let mut out = Vec::with_capacity(10 + header.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&hlen.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    std::fs::write(path, out).map_err(io_err(path))
}

/// Writes vectors as a 2-D `<f4` array.
pub fn write_matrix(path: &Path, v: &Vectors) -> Result<()> {
    let body: Vec<u8> = v.data.iter().flat_map(|x| x.to_le_bytes()).collect();
    write(path, "<f4", &[v.len(), v.dim], &body)
}

/// Writes an `<i8` array of the given shape.
pub fn write_ints(path: &Path, shape: &[usize], values: &[i64]) -> Result<()> {
    let body: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
    write(path, "<i8", shape, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        let v = Vectors::new(2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        write_matrix(&p, &v).unwrap();
        assert_eq!(read_matrix(&p).unwrap(), v);
        let q = dir.path().join("l.npy");
        write_ints(&q, &[3], &[4, 0, -1]).unwrap();
        assert_eq!(read_ints(&q).unwrap(), (vec![3], vec![4, 0, -1]));
        let e = read_matrix(&q).unwrap_err().to_string();
        assert!(e.contains("expected a 2-D"), "{e}");
    }

    #[test]
    fn truncated_body_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.npy");
        write_matrix(&p, &Vectors::new(2, vec![1.0; 6])).unwrap();
        let b = std::fs::read(&p).unwrap();
        std::fs::write(&p, &b[..b.len() - 4]).unwrap();
        let e = read_matrix(&p).unwrap_err().to_string();
        assert!(e.contains("needs 24 bytes of data, the file has 20"), "{e}");
    }
}
