//! Filtered query workloads, generated reproducibly the FANNS way: a filter value is taken from
//! a database item drawn at random (seeded), so that values appear as often as the data has them.
//! Grove's targeted workloads instead pick values by their frequency to hit a selectivity.
//!
//! Every query records its selectivity (allowed points / all points); reports group queries by
//! [`bucket`].

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use crate::data::Record;
use crate::payload::PayloadIndex;

/// An attribute a filter tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Integer: number of sub-categories.
    NumberOfSubCategories,
    /// Integer day.
    Date,
    /// Keyword list: main categories.
    MainCategories,
    /// Keyword list: sub-categories.
    SubCategories,
    /// Keyword list: authors.
    Authors,
}

/// A filter over [`Record`] fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// No filter.
    All,
    /// Integer field equals `value` (EM).
    Eq {
        /// The field.
        field: Field,
        /// The value.
        value: i64,
    },
    /// Integer field in `lo..=hi` (R).
    Range {
        /// The field.
        field: Field,
        /// Inclusive lower bound.
        lo: i64,
        /// Inclusive upper bound.
        hi: i64,
    },
    /// Keyword list contains `value` (EMIS).
    Contains {
        /// The field.
        field: Field,
        /// The value.
        value: String,
    },
    /// Every part holds.
    And(Vec<Filter>),
}

impl Filter {
    /// Direct evaluation on one record (the oracle for [`PayloadIndex::eval`]).
    pub fn matches(&self, r: &Record) -> bool {
        let int = |f: &Field| match f {
            Field::NumberOfSubCategories => Some(r.number_of_sub_categories),
            Field::Date => Some(r.date),
            _ => None,
        };
        let list = |f: &Field| match f {
            Field::MainCategories => Some(&r.main_categories),
            Field::SubCategories => Some(&r.sub_categories),
            Field::Authors => Some(&r.authors),
            _ => None,
        };
        match self {
            Filter::All => true,
            Filter::Eq { field, value } => int(field) == Some(*value),
            Filter::Range { field, lo, hi } => int(field).is_some_and(|v| *lo <= v && v <= *hi),
            Filter::Contains { field, value } => list(field).is_some_and(|l| l.iter().any(|x| x == value)),
            Filter::And(parts) => parts.iter().all(|p| p.matches(r)),
        }
    }
}

/// The workloads `grove-bench` generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// No filter (100%).
    None,
    /// FANNS EM: number_of_sub_categories equal to a random item's.
    Em,
    /// FANNS R: date between two random items' dates.
    R,
    /// FANNS EMIS: one of a random item's main categories.
    Emis,
    /// A category (sub or main) whose frequency is near 50%.
    Cat50,
    /// ... near 10%.
    Cat10,
    /// ... near 1%.
    Cat1,
    /// An author with about 0.1% of the papers.
    Author,
    /// FANNS-style EMIS on authors: one of a random item's authors (a handful of papers).
    EmisAuthor,
    /// EM AND R; the range is widened to include the EM item so that it is never empty.
    EmAndR,
    /// EMIS (main category) AND R, widened the same way.
    EmisAndR,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 11] = [
        Kind::None,
        Kind::Em,
        Kind::R,
        Kind::Emis,
        Kind::Cat50,
        Kind::Cat10,
        Kind::Cat1,
        Kind::Author,
        Kind::EmisAuthor,
        Kind::EmAndR,
        Kind::EmisAndR,
    ];

    /// Short name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::None => "none",
            Kind::Em => "em",
            Kind::R => "r",
            Kind::Emis => "emis",
            Kind::Cat50 => "cat50",
            Kind::Cat10 => "cat10",
            Kind::Cat1 => "cat1",
            Kind::Author => "author",
            Kind::EmisAuthor => "emis_author",
            Kind::EmAndR => "em_and_r",
            Kind::EmisAndR => "emis_and_r",
        }
    }

    /// Parses [`Kind::name`].
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// One line on what the filter is.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::None => "no filter",
            Kind::Em => "number_of_sub_categories == v (v from a random item)",
            Kind::R => "date in [d1, d2] (two random items)",
            Kind::Emis => "main_categories contains c (c from a random item)",
            Kind::Cat50 => "sub/main category with frequency near 50%",
            Kind::Cat10 => "sub/main category with frequency near 10%",
            Kind::Cat1 => "sub/main category with frequency near 1%",
            Kind::Author => "authors contains an author with ~0.1% of the papers",
            Kind::EmisAuthor => "authors contains a (random item's) author",
            Kind::EmAndR => "EM AND R (range widened to include the EM item)",
            Kind::EmisAndR => "EMIS AND R (range widened to include the EMIS item)",
        }
    }
}

/// A generated or shipped workload: one filter per query, its bitmap and selectivity.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Name in reports.
    pub name: String,
    /// What the filters are.
    pub description: String,
    /// Filter of query `i`.
    pub filters: Vec<Filter>,
    /// Allowed ids of query `i` (`None` = unfiltered).
    pub bitmaps: Vec<Option<RoaringBitmap>>,
    /// Allowed points / all points, per query.
    pub selectivity: Vec<f64>,
}

impl Workload {
    /// Compiles `filters` against `index`.
    pub fn from_filters(name: &str, description: &str, filters: Vec<Filter>, index: &PayloadIndex) -> Self {
        let n = f64::from(index.len().max(1));
        let bitmaps: Vec<Option<RoaringBitmap>> = filters.iter().map(|f| index.eval(f)).collect();
        let selectivity = bitmaps.iter().map(|b| b.as_ref().map_or(1.0, |b| b.len() as f64 / n)).collect();
        Self { name: name.into(), description: description.into(), filters, bitmaps, selectivity }
    }
}

/// Values of keyword `fields` whose point count lies within a factor 1.5 of `target * n`; when
/// none does, the single closest value (in log ratio).
fn values_near(index: &PayloadIndex, fields: &[crate::workload::Field], target: f64) -> Vec<(Field, String)> {
    let want = (target * f64::from(index.len())).max(1.0);
    let mut all: Vec<(f64, Field, String)> = fields
        .iter()
        .flat_map(|&f| {
            index
                .keyword_counts(f)
                .into_iter()
                .map(move |(v, c)| ((c as f64 / want).ln().abs(), f, v.to_string()))
        })
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)).then_with(|| a.2.cmp(&b.2)));
    let near: Vec<(Field, String)> =
        all.iter().filter(|(d, _, _)| *d <= 1.5f64.ln()).map(|(_, f, v)| (*f, v.clone())).collect();
    if near.is_empty() {
        all.into_iter().take(1).map(|(_, f, v)| (f, v)).collect()
    } else {
        near
    }
}

/// Generates `nq` filters of `kind` with `seed` (the same seed, data and kind give the same
/// filters).
pub fn generate(kind: Kind, records: &[Record], index: &PayloadIndex, nq: usize, seed: u64) -> Workload {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (kind as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let n = records.len();
    let pick = |rng: &mut ChaCha8Rng| &records[rng.gen_range(0..n)];
    let range_with = |rng: &mut ChaCha8Rng, anchor: i64| {
        let (a, b) = (pick(rng).date, pick(rng).date);
        Filter::Range { field: Field::Date, lo: a.min(b).min(anchor), hi: a.max(b).max(anchor) }
    };
    let cats = [Field::SubCategories, Field::MainCategories];
    let targeted = |t: f64| values_near(index, &cats, t);
    let pool = match kind {
        Kind::Cat50 => targeted(0.5),
        Kind::Cat10 => targeted(0.1),
        Kind::Cat1 => targeted(0.01),
        Kind::Author => values_near(index, &[Field::Authors], 0.001),
        _ => Vec::new(),
    };
    let mut filters = Vec::with_capacity(nq);
    for _ in 0..nq {
        let f = match kind {
            Kind::None => Filter::All,
            Kind::Em => Filter::Eq {
                field: Field::NumberOfSubCategories,
                value: pick(&mut rng).number_of_sub_categories,
            },
            Kind::R => {
                let (a, b) = (pick(&mut rng).date, pick(&mut rng).date);
                Filter::Range { field: Field::Date, lo: a.min(b), hi: a.max(b) }
            }
            Kind::Emis => random_value(&mut rng, records, Field::MainCategories),
            Kind::EmisAuthor => random_value(&mut rng, records, Field::Authors),
            Kind::Cat50 | Kind::Cat10 | Kind::Cat1 | Kind::Author => match pool.choose(&mut rng) {
                Some((field, value)) => Filter::Contains { field: *field, value: value.clone() },
                None => Filter::All,
            },
            Kind::EmAndR => {
                let item = pick(&mut rng);
                let em =
                    Filter::Eq { field: Field::NumberOfSubCategories, value: item.number_of_sub_categories };
                Filter::And(vec![em, range_with(&mut rng, item.date)])
            }
            Kind::EmisAndR => {
                let (item, emis) = random_item_value(&mut rng, records, Field::MainCategories);
                let date = records[item].date;
                Filter::And(vec![emis, range_with(&mut rng, date)])
            }
        };
        filters.push(f);
    }
    Workload::from_filters(kind.name(), kind.describe(), filters, index)
}

fn random_value(rng: &mut ChaCha8Rng, records: &[Record], field: Field) -> Filter {
    random_item_value(rng, records, field).1
}

/// A random item with a non-empty `field` and one of its values (redraws items without one;
/// gives up after many tries, returning no filter, only if the field is empty almost everywhere).
fn random_item_value(rng: &mut ChaCha8Rng, records: &[Record], field: Field) -> (usize, Filter) {
    for _ in 0..10_000 {
        let i = rng.gen_range(0..records.len());
        let list = match field {
            Field::MainCategories => &records[i].main_categories,
            Field::SubCategories => &records[i].sub_categories,
            _ => &records[i].authors,
        };
        if let Some(v) = list.choose(rng) {
            return (i, Filter::Contains { field, value: v.clone() });
        }
    }
    (0, Filter::All)
}

/// Selectivity buckets centred on the FANNS / peerbench targets (edges at geometric midpoints).
pub const BUCKETS: [&str; 6] = ["100%", "~50%", "~10%", "~1%", "~0.1%", "~0.01%"];

/// The bucket of a selectivity `s` (index into [`BUCKETS`]).
pub fn bucket(s: f64) -> usize {
    if s >= 0.999 {
        0
    } else if s >= 0.224 {
        1
    } else if s >= 0.0316 {
        2
    } else if s >= 0.00316 {
        3
    } else if s >= 0.000316 {
        4
    } else {
        5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                number_of_sub_categories: (i % 5) as i64 + 1,
                date: 20_000 + (i % 365) as i64,
                main_categories: if i % 10 == 0 {
                    vec!["cs".into(), "math".into()]
                } else {
                    vec!["cs".into()]
                },
                sub_categories: vec![
                    format!("cs.{}", i % 3),
                    if i % 100 == 0 { "x.rare".into() } else { "x.half".into() },
                ],
                authors: vec![format!("a{}", i % 1000), format!("b{}", i % 7)],
            })
            .collect()
    }

    #[test]
    fn generation_is_seeded_and_never_empty() {
        let recs = records(5000);
        let ix = PayloadIndex::build(&recs);
        for kind in Kind::ALL {
            let a = generate(kind, &recs, &ix, 50, 7);
            let b = generate(kind, &recs, &ix, 50, 7);
            assert_eq!(a.filters, b.filters, "{kind:?} is deterministic");
            for (f, s) in a.filters.iter().zip(&a.selectivity) {
                assert!(*s > 0.0, "{kind:?} {f:?} matches nothing");
            }
        }
        let c = generate(Kind::Em, &recs, &ix, 50, 8);
        assert_ne!(c.filters, generate(Kind::Em, &recs, &ix, 50, 7).filters, "seed matters");
    }

    #[test]
    fn targeted_kinds_land_near_their_selectivity() {
        let recs = records(5000);
        let ix = PayloadIndex::build(&recs);
        // cs.0/1/2 are ~33% each, x.half 99%, x.rare 1%, math 10%: the 1.5x window picks these.
        for (kind, lo, hi) in
            [(Kind::Cat50, 0.33, 0.75), (Kind::Cat10, 0.066, 0.15), (Kind::Cat1, 0.0066, 0.015)]
        {
            let w = generate(kind, &recs, &ix, 40, 1);
            for s in &w.selectivity {
                assert!((lo..=hi).contains(s), "{kind:?} selectivity {s}");
            }
        }
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket(1.0), 0);
        assert_eq!(bucket(0.5), 1);
        assert_eq!(bucket(0.1), 2);
        assert_eq!(bucket(0.01), 3);
        assert_eq!(bucket(0.001), 4);
        assert_eq!(bucket(0.0001), 5);
    }
}
