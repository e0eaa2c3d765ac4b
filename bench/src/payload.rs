//! Payload bitmaps built in the bench itself: one roaring bitmap per (field, value) and a sorted
//! date column for ranges. The bench runs in-process over grove-index and hands it the bitmap a
//! filter compiles to, as storage does in the server.

use std::collections::HashMap;

use roaring::RoaringBitmap;

use crate::data::Record;
use crate::workload::{Field, Filter};

/// Bitmaps per attribute value of a dataset's records.
#[derive(Debug, Clone, Default)]
pub struct PayloadIndex {
    n: u32,
    ints: HashMap<(Field, i64), RoaringBitmap>,
    keywords: HashMap<(Field, String), RoaringBitmap>,
    /// `(date, id)` sorted by date: a range is a contiguous slice.
    dates: Vec<(i64, u32)>,
}

impl PayloadIndex {
    /// Indexes every record; record `i` is point `i`.
    pub fn build(records: &[Record]) -> Self {
        let mut ix = PayloadIndex { n: records.len() as u32, ..Default::default() };
        for (i, r) in records.iter().enumerate() {
            let id = i as u32;
            ix.ints.entry((Field::NumberOfSubCategories, r.number_of_sub_categories)).or_default().insert(id);
            ix.ints.entry((Field::Date, r.date)).or_default().insert(id);
            for (field, values) in [
                (Field::MainCategories, &r.main_categories),
                (Field::SubCategories, &r.sub_categories),
                (Field::Authors, &r.authors),
            ] {
                for v in values {
                    ix.keywords.entry((field, v.clone())).or_default().insert(id);
                }
            }
            ix.dates.push((r.date, id));
        }
        ix.dates.sort_unstable();
        ix
    }

    /// Number of points indexed.
    pub fn len(&self) -> u32 {
        self.n
    }

    /// Whether no point is indexed.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The bitmap of `field == value` for a keyword (list) field.
    pub fn keyword(&self, field: Field, value: &str) -> Option<&RoaringBitmap> {
        self.keywords.get(&(field, value.to_string()))
    }

    /// Every value of a keyword field with its number of points.
    pub fn keyword_counts(&self, field: Field) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .keywords
            .iter()
            .filter(|((f, _), _)| *f == field)
            .map(|((_, s), b)| (s.as_str(), b.len()))
            .collect();
        v.sort_unstable();
        v
    }

    /// The allowed ids of `filter`; `None` for [`Filter::All`] (no filter at all).
    pub fn eval(&self, filter: &Filter) -> Option<RoaringBitmap> {
        match filter {
            Filter::All => None,
            Filter::Eq { field, value } => {
                Some(self.ints.get(&(*field, *value)).cloned().unwrap_or_default())
            }
            Filter::Contains { field, value } => {
                Some(self.keywords.get(&(*field, value.clone())).cloned().unwrap_or_default())
            }
            Filter::Range { field, lo, hi } => Some(match field {
                Field::Date => {
                    let a = self.dates.partition_point(|(d, _)| d < lo);
                    let b = self.dates.partition_point(|(d, _)| d <= hi);
                    let mut ids: Vec<u32> = self.dates[a..b.max(a)].iter().map(|(_, id)| *id).collect();
                    ids.sort_unstable();
                    RoaringBitmap::from_sorted_iter(ids).unwrap_or_default()
                }
                _ => self
                    .ints
                    .iter()
                    .filter(|((f, v), _)| f == field && lo <= v && v <= hi)
                    .fold(RoaringBitmap::new(), |acc, (_, b)| acc | b),
            }),
            Filter::And(parts) => {
                let mut acc: Option<RoaringBitmap> = None;
                for p in parts {
                    if let Some(b) = self.eval(p) {
                        acc = Some(match acc {
                            None => b,
                            Some(a) => a & b,
                        });
                    }
                }
                acc
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(nsub: i64, date: i64, main: &[&str]) -> Record {
        Record {
            number_of_sub_categories: nsub,
            date,
            main_categories: main.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    /// Every filter kind against a direct scan of the records.
    #[test]
    fn eval_matches_a_scan() {
        let recs: Vec<Record> = (0..200)
            .map(|i| rec(i % 4, 1000 + (i * 7) % 50, if i % 3 == 0 { &["cs", "math"] } else { &["cs"] }))
            .collect();
        let ix = PayloadIndex::build(&recs);
        let filters = [
            Filter::Eq { field: Field::NumberOfSubCategories, value: 2 },
            Filter::Range { field: Field::Date, lo: 1010, hi: 1020 },
            Filter::Contains { field: Field::MainCategories, value: "math".into() },
            Filter::And(vec![
                Filter::Contains { field: Field::MainCategories, value: "math".into() },
                Filter::Range { field: Field::Date, lo: 1000, hi: 1030 },
            ]),
        ];
        for f in &filters {
            let got = ix.eval(f).unwrap();
            let want: RoaringBitmap =
                recs.iter().enumerate().filter(|(_, r)| f.matches(r)).map(|(i, _)| i as u32).collect();
            assert_eq!(got, want, "{f:?}");
            assert!(!want.is_empty(), "test filter should match something: {f:?}");
        }
        assert!(ix.eval(&Filter::All).is_none());
    }
}
