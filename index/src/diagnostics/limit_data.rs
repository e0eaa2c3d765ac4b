//! A LIMIT-style data generator (after Weller et al., 2025, arXiv 2508.21038, §4).
//!
//! Documents are people and the attributes they like ("Olvera Quist likes Amber Kites, ...");
//! queries ask "Who likes Amber Kites?". Each query has its own attribute, liked by exactly the
//! documents of its relevant set, so the qrels are fully controlled by a [`QrelPattern`] over a
//! small set of *core* documents; the other documents are distractors liking attributes no query
//! asks about. LIMIT itself is 46 core documents, 1,000 queries with 2 relevant documents each
//! (the dense pattern) and 50,000 documents in all.
//!
//! Two outputs:
//! - text as JSONL lines (corpus, queries, qrels; BEIR-style field names) for users to embed with
//!   their own model — this crate does no I/O, the caller writes the lines;
//! - ready vector sets ([`bag_of_attributes`]): a document is the normalised sum of its
//!   attributes' vectors, a query its attribute's vector. With one-hot attributes every relevant
//!   document scores `1/√(attributes liked) > 0` and every other scores 0, so recall@k is exactly
//!   1 by construction; with random low-dimensional attribute vectors the same task becomes a
//!   capacity test.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::capacity::QrelPattern;
use super::gaussian;
use crate::{IndexError, Metric, Result, VectorStore};

/// Shape of a generated dataset. Defaults are LIMIT's: 46 core documents, 1,000 queries, k = 2,
/// dense pattern, 50,000 documents.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    /// Documents in all (core + distractors).
    pub num_docs: usize,
    /// Core documents (the only ones that are ever relevant).
    pub num_core_docs: usize,
    /// How relevant sets are laid out over the core documents.
    pub pattern: QrelPattern,
    /// Relevant documents per query.
    pub k: usize,
    /// Attributes each distractor likes (drawn from a pool no query asks about).
    pub distractor_attributes_per_doc: usize,
    /// Size of the distractor attribute pool.
    pub distractor_pool: usize,
    /// Seed of names, attribute order and distractors.
    pub seed: u64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            num_docs: 50_000,
            num_core_docs: 46,
            pattern: QrelPattern::Dense { queries: 1000 },
            k: 2,
            distractor_attributes_per_doc: 20,
            distractor_pool: 1000,
            seed: 0,
        }
    }
}

/// A person and the attribute ids they like.
#[derive(Debug, Clone)]
pub struct LimitDoc {
    /// The person's name (unique; used as the document id).
    pub name: String,
    /// Attribute ids, in the order listed in the text.
    pub attributes: Vec<u32>,
}

/// "Who likes X?" and its relevant documents.
#[derive(Debug, Clone)]
pub struct LimitQuery {
    /// The attribute asked about.
    pub attribute: u32,
    /// Relevant document positions (sorted).
    pub relevant: Vec<u32>,
}

/// A generated dataset.
#[derive(Debug, Clone)]
pub struct LimitDataset {
    /// Attribute names by id (query attributes first, then the distractor pool).
    pub attributes: Vec<String>,
    /// Documents; positions `0..num_core_docs` are the core documents.
    pub docs: Vec<LimitDoc>,
    /// Queries.
    pub queries: Vec<LimitQuery>,
}

const FIRST: [&str; 24] = [
    "Ada", "Bram", "Cleo", "Dara", "Emil", "Fenna", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lena", "Milo",
    "Nora", "Otto", "Pia", "Quin", "Rosa", "Sven", "Tara", "Uma", "Vik", "Wren", "Yara",
];
const LAST: [&str; 24] = [
    "Abbott", "Berg", "Castro", "Dunn", "Eklund", "Faro", "Grau", "Holm", "Iriarte", "Janssen", "Kovac",
    "Lind", "Moreau", "Nakai", "Okafor", "Petrov", "Quist", "Rahman", "Sato", "Tamm", "Ueda", "Varga",
    "Weiss", "Zeller",
];
const ADJ: [&str; 32] = [
    "Amber", "Blue", "Copper", "Dusty", "Early", "Frosty", "Golden", "Hazel", "Ivory", "Jade", "Kind",
    "Lunar", "Misty", "Noble", "Olive", "Pale", "Quiet", "Rusty", "Silver", "Tawny", "Upland", "Velvet",
    "Wild", "Young", "Brisk", "Crimson", "Dapper", "Fuzzy", "Gentle", "Humble", "Jolly", "Lofty",
];
const NOUN: [&str; 32] = [
    "Apples", "Bagels", "Canoes", "Dahlias", "Eclairs", "Ferns", "Gliders", "Harps", "Igloos", "Jigsaws",
    "Kites", "Lanterns", "Mangoes", "Nutmeg", "Otters", "Pianos", "Quokkas", "Radishes", "Sonnets", "Tulips",
    "Ukuleles", "Violins", "Walnuts", "Yachts", "Zithers", "Bonsai", "Cactuses", "Dominoes", "Falcons",
    "Geodes", "Hammocks", "Lemurs",
];

/// `count` distinct names from two word lists, shuffled; a numeral is appended once the
/// combinations run out, so any count works.
fn names(a: &[&str], b: &[&str], count: usize, rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut base: Vec<String> = a.iter().flat_map(|x| b.iter().map(move |y| format!("{x} {y}"))).collect();
    base.shuffle(rng);
    (0..count)
        .map(|i| {
            let round = i / base.len();
            let name = &base[i % base.len()];
            if round == 0 {
                name.clone()
            } else {
                format!("{name} {}", round + 1)
            }
        })
        .collect()
}

/// Generates a dataset (see module docs).
pub fn generate(cfg: &LimitConfig) -> Result<LimitDataset> {
    if cfg.num_core_docs > cfg.num_docs {
        return Err(IndexError::InvalidParameter {
            name: "num_core_docs",
            reason: format!("{} core documents exceed {} documents in all", cfg.num_core_docs, cfg.num_docs),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let qrels = cfg.pattern.qrels(cfg.num_core_docs, cfg.k, cfg.seed)?;
    let n_query_attrs = qrels.len();
    let distractor_pool = if cfg.num_docs > cfg.num_core_docs { cfg.distractor_pool.max(1) } else { 0 };
    if cfg.distractor_attributes_per_doc > distractor_pool && cfg.num_docs > cfg.num_core_docs {
        return Err(IndexError::InvalidParameter {
            name: "distractor_attributes_per_doc",
            reason: "exceeds the distractor pool".into(),
        });
    }
    let attributes = names(&ADJ, &NOUN, n_query_attrs + distractor_pool, &mut rng);
    let people = names(&FIRST, &LAST, cfg.num_docs, &mut rng);
    let mut docs: Vec<LimitDoc> =
        people.into_iter().map(|name| LimitDoc { name, attributes: Vec::new() }).collect();
    let queries: Vec<LimitQuery> = qrels
        .into_iter()
        .enumerate()
        .map(|(a, relevant)| {
            for &r in &relevant {
                docs[r as usize].attributes.push(a as u32);
            }
            LimitQuery { attribute: a as u32, relevant }
        })
        .collect();
    for doc in docs.iter_mut().take(cfg.num_core_docs) {
        doc.attributes.shuffle(&mut rng);
    }
    for doc in docs.iter_mut().skip(cfg.num_core_docs) {
        doc.attributes =
            rand::seq::index::sample(&mut rng, distractor_pool, cfg.distractor_attributes_per_doc)
                .into_iter()
                .map(|i| (n_query_attrs + i) as u32)
                .collect();
    }
    Ok(LimitDataset { attributes, docs, queries })
}

/// Escapes a string for a JSON string literal (RFC 8259: quote, backslash, control characters).
pub fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl LimitDataset {
    /// The text of document `i`: "<name> likes <a>, <b> and <c>."
    pub fn doc_text(&self, i: usize) -> String {
        let doc = &self.docs[i];
        let attrs: Vec<&str> = doc.attributes.iter().map(|&a| self.attributes[a as usize].as_str()).collect();
        match attrs.split_last() {
            None => format!("{} likes nothing in particular.", doc.name),
            Some((last, [])) => format!("{} likes {last}.", doc.name),
            Some((last, rest)) => format!("{} likes {} and {last}.", doc.name, rest.join(", ")),
        }
    }

    /// The text of query `i`: "Who likes <attribute>?"
    pub fn query_text(&self, i: usize) -> String {
        format!("Who likes {}?", self.attributes[self.queries[i].attribute as usize])
    }

    /// Corpus lines: `{"_id": <name>, "title": "", "text": <doc text>}`.
    pub fn corpus_jsonl(&self) -> Vec<String> {
        (0..self.docs.len())
            .map(|i| {
                format!(
                    "{{\"_id\":\"{}\",\"title\":\"\",\"text\":\"{}\"}}",
                    json_escape(&self.docs[i].name),
                    json_escape(&self.doc_text(i))
                )
            })
            .collect()
    }

    /// Query lines: `{"_id": "query_<i>", "text": "Who likes ...?"}`.
    pub fn queries_jsonl(&self) -> Vec<String> {
        (0..self.queries.len())
            .map(|i| format!("{{\"_id\":\"query_{i}\",\"text\":\"{}\"}}", json_escape(&self.query_text(i))))
            .collect()
    }

    /// Qrel lines: `{"query-id": "query_<i>", "corpus-id": <name>, "score": 1}`, one per relevant
    /// document.
    pub fn qrels_jsonl(&self) -> Vec<String> {
        self.queries
            .iter()
            .enumerate()
            .flat_map(|(i, q)| {
                q.relevant.iter().map(move |&r| {
                    format!(
                        "{{\"query-id\":\"query_{i}\",\"corpus-id\":\"{}\",\"score\":1}}",
                        json_escape(&self.docs[r as usize].name)
                    )
                })
            })
            .collect()
    }
}

/// How attributes become vectors in [`bag_of_attributes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeEmbedding {
    /// One dimension per attribute: recall@k = 1 by construction.
    OneHot,
    /// Seeded Gaussian unit vectors in `dim` dimensions: expected recall is not known in closed
    /// form — measure it (it falls as the dimension shrinks, the point of LIMIT).
    Random {
        /// Dimension.
        dim: usize,
    },
}

/// A ready vector set: cosine-normalised documents, query vectors and their relevant ids.
#[derive(Debug, Clone)]
pub struct VectorSet {
    /// Document vectors, row i = document i, normalised for [`Metric::Cosine`].
    pub docs: VectorStore,
    /// Query vectors (unit length).
    pub queries: Vec<Vec<f32>>,
    /// Relevant document ids per query.
    pub relevant: Vec<Vec<u32>>,
    /// recall@|R| known by construction (`Some(1.0)` for one-hot), `None` when it must be measured.
    pub expected_recall: Option<f64>,
}

/// Bag-of-attributes embeddings of a dataset (see module docs). One-hot needs
/// `docs × attributes` floats: keep the dataset small (LIMIT-small: 46 documents) for it.
pub fn bag_of_attributes(ds: &LimitDataset, embedding: AttributeEmbedding, seed: u64) -> Result<VectorSet> {
    let n_attr = ds.attributes.len();
    let (dim, attr_vec): (usize, Box<dyn Fn(u32) -> Vec<f32>>) = match embedding {
        AttributeEmbedding::OneHot => (
            n_attr,
            Box::new(move |a| {
                let mut v = vec![0.0; n_attr];
                v[a as usize] = 1.0;
                v
            }),
        ),
        AttributeEmbedding::Random { dim } => {
            if dim == 0 {
                return Err(IndexError::InvalidParameter { name: "dim", reason: "must be > 0".into() });
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let table: Vec<Vec<f32>> = (0..n_attr)
                .map(|_| {
                    let mut v: Vec<f32> = (0..dim).map(|_| gaussian(&mut rng) as f32).collect();
                    Metric::Cosine.prepare(&mut v);
                    v
                })
                .collect();
            (dim, Box::new(move |a| table[a as usize].clone()))
        }
    };
    let mut docs = VectorStore::with_capacity(dim, ds.docs.len());
    for doc in &ds.docs {
        let mut v = vec![0.0f32; dim];
        for &a in &doc.attributes {
            v.iter_mut().zip(attr_vec(a)).for_each(|(x, y)| *x += y);
        }
        Metric::Cosine.prepare(&mut v);
        docs.push(&v);
    }
    let queries = ds.queries.iter().map(|q| attr_vec(q.attribute)).collect();
    let relevant = ds.queries.iter().map(|q| q.relevant.clone()).collect();
    let expected_recall = match embedding {
        AttributeEmbedding::OneHot => Some(1.0),
        AttributeEmbedding::Random { .. } => None,
    };
    Ok(VectorSet { docs, queries, relevant, expected_recall })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> LimitConfig {
        LimitConfig {
            num_docs: 60,
            num_core_docs: 10,
            pattern: QrelPattern::AllSubsets,
            ..Default::default()
        }
    }

    #[test]
    fn each_query_attribute_is_liked_by_exactly_its_relevant_docs() {
        let ds = generate(&small()).unwrap();
        assert_eq!(ds.queries.len(), 45);
        for q in &ds.queries {
            let likers: Vec<u32> = (0..ds.docs.len() as u32)
                .filter(|&i| ds.docs[i as usize].attributes.contains(&q.attribute))
                .collect();
            assert_eq!(likers, q.relevant);
        }
        let names: std::collections::HashSet<_> = ds.docs.iter().map(|d| &d.name).collect();
        assert_eq!(names.len(), ds.docs.len(), "document ids are unique");
    }

    #[test]
    fn jsonl_lines_are_escaped_and_shaped() {
        assert_eq!(json_escape("a\"b\\c\nd\u{1}"), "a\\\"b\\\\c\\nd\\u0001");
        let ds = generate(&small()).unwrap();
        let q = ds.queries_jsonl();
        assert!(q[0].starts_with("{\"_id\":\"query_0\",\"text\":\"Who likes ") && q[0].ends_with("?\"}"));
        assert_eq!(ds.qrels_jsonl().len(), 90);
        assert_eq!(ds.corpus_jsonl().len(), 60);
    }

    #[test]
    fn generation_is_deterministic_per_seed() {
        let a = generate(&small()).unwrap();
        let b = generate(&small()).unwrap();
        assert_eq!(a.corpus_jsonl(), b.corpus_jsonl());
        let c = generate(&LimitConfig { seed: 1, ..small() }).unwrap();
        assert_ne!(a.corpus_jsonl(), c.corpus_jsonl());
    }
}
