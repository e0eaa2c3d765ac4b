//! The attributes of one point that the workloads filter on, read from a JSONL line.
//!
//! The arXiv set and the FANNS files name the date differently (`listing_day` here,
//! `update_date` in FANNS, both integer days since 1970-01-01); list fields may be a JSON list
//! or, in some exports, one string. Other fields (title, abstract, ...) are skipped.

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use super::{DataError, Result};

/// Filterable attributes of one point. A field absent from the line is 0 / empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// EM field: number of arXiv sub-categories.
    #[serde(default)]
    pub number_of_sub_categories: i64,
    /// R field: integer day (`listing_day` or FANNS `update_date`).
    #[serde(default, alias = "listing_day", alias = "update_date")]
    pub date: i64,
    /// EMIS field: main category prefixes ("cs", "math", ...).
    #[serde(default, deserialize_with = "list_or_string")]
    pub main_categories: Vec<String>,
    /// Sub-categories ("cs.LG", ...).
    #[serde(default, deserialize_with = "list_or_string")]
    pub sub_categories: Vec<String>,
    /// Author names.
    #[serde(default, deserialize_with = "list_or_string")]
    pub authors: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrString {
    List(Vec<String>),
    One(String),
    Null(()),
}

fn list_or_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(match ListOrString::deserialize(d)? {
        ListOrString::List(v) => v,
        ListOrString::One(s) if s.is_empty() => Vec::new(),
        ListOrString::One(s) => vec![s],
        ListOrString::Null(()) => Vec::new(),
    })
}

/// Reads one [`Record`] per non-empty line of `reader`; `path` is for error messages.
pub fn read_records(reader: impl BufRead, path: &Path) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(super::io_err(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(&line).map_err(|source| DataError::Json {
            path: path.to_path_buf(),
            line: i + 1,
            source,
        })?;
        out.push(r);
    }
    Ok(out)
}

/// Opens a JSONL file, gunzipping it when the name ends in `.gz`.
pub fn open_jsonl(path: &Path) -> Result<Box<dyn BufRead>> {
    let f = std::fs::File::open(path).map_err(super::io_err(path))?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f))))
    } else {
        Ok(Box::new(std::io::BufReader::new(f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_arxiv_and_fanns_field_names() {
        let text = concat!(
            r#"{"id":"1","title":"t","number_of_sub_categories":2,"listing_day":20100,"main_categories":["cs"],"sub_categories":["cs.LG","cs.AI"],"authors":["A B"]}"#,
            "\n",
            r#"{"update_date":15000,"main_categories":"math","authors":null}"#,
            "\n\n"
        );
        let r = read_records(text.as_bytes(), Path::new("x.jsonl")).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].date, 20100);
        assert_eq!(r[0].sub_categories, vec!["cs.LG", "cs.AI"]);
        assert_eq!(r[1].date, 15000);
        assert_eq!(r[1].main_categories, vec!["math"]);
        assert!(r[1].authors.is_empty());
    }

    #[test]
    fn bad_line_names_file_and_line() {
        let text = "{\"listing_day\": 1}\n{\"listing_day\": \"x\"}\n";
        let e = read_records(text.as_bytes(), Path::new("p.jsonl")).unwrap_err().to_string();
        assert!(e.starts_with("p.jsonl line 2:"), "{e}");
    }
}
