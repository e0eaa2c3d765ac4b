//! Full-text payload indexes (`type: text`): the tokenizer, its parameters, and the meaning of
//! `match.text`, `match.text_any` and `match.phrase` on a text-indexed field.
//!
//! A text index stores, per field, one posting per (token, point), in the same posting keys as a
//! keyword index (the token is the keyword), so it is persisted, loaded and kept current on
//! payload writes and deletes by the same code as the other payload indexes
//! ([`crate::payload_index`]). What differs is how a value becomes tokens ([`index_tokens`]) and
//! how a query does ([`query_tokens`]), both fixed by the index's [`TextIndexParams`].
//!
//! Semantics (Qdrant's; [`matches`] is the reference the index is tested against):
//! - A point's document is the tokens of all its string values at the key.
//! - `text`: every query token is in the document; `text_any`: at least one is.
//! - `phrase`: the query tokens occur consecutively, in order, in one string value.
//! - A query with no tokens left (empty, or only stopwords) matches nothing.
//! - Tokenizers: `word` splits on every character that is not a letter or digit; `whitespace`
//!   on whitespace; `prefix` is `word` with every prefix of a token (from `min_token_len`,
//!   default 1) indexed, so a query token matches the words it begins; `multilingual` is
//!   `word` (Grove has no dictionary segmentation for scripts written without spaces).
//! - `lowercase` (default true) lower-cases values and queries; tokens shorter than
//!   `min_token_len` or longer than `max_token_len` characters are dropped; stopwords are
//!   dropped after lower-casing, compared as they are (custom stopwords are lower-cased only
//!   when `lowercase` is on).
//!
//! Fields without a text index keep the scan semantics of [`crate::filter`] (words of one value).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};

/// How a text is split into tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tokenizer {
    /// Runs of letters and digits.
    #[default]
    Word,
    /// Runs of non-whitespace.
    Whitespace,
    /// Word tokens, every prefix indexed.
    Prefix,
    /// Word tokens (no dictionary segmentation).
    Multilingual,
}

/// Stopwords: a built-in language list, and/or a custom list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stopwords {
    /// Built-in lists by language name (`english` is the one Grove has).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Extra stopwords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<String>,
}

/// The parameters of a text index, persisted with the field's definition.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextIndexParams {
    /// The tokenizer.
    #[serde(default)]
    pub tokenizer: Tokenizer,
    /// Lower-case values and queries (`None`: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowercase: Option<bool>,
    /// Shorter tokens are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_token_len: Option<usize>,
    /// Longer tokens are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_token_len: Option<usize>,
    /// Stopwords dropped from values and queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopwords: Option<Stopwords>,
    /// Accepted for Qdrant (phrase queries are answered either way: the index narrows, the
    /// stored values confirm the order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrase_matching: Option<bool>,
}

/// The built-in English stopwords (the common function words of English: articles,
/// pronouns, auxiliaries, prepositions, conjunctions).
const ENGLISH: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "ain",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren",
    "aren't",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "couldn",
    "couldn't",
    "d",
    "did",
    "didn",
    "didn't",
    "do",
    "does",
    "doesn",
    "doesn't",
    "doing",
    "don",
    "don't",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "hadn",
    "hadn't",
    "has",
    "hasn",
    "hasn't",
    "have",
    "haven",
    "haven't",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "isn",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "ll",
    "m",
    "ma",
    "me",
    "mightn",
    "mightn't",
    "more",
    "most",
    "mustn",
    "mustn't",
    "my",
    "myself",
    "needn",
    "needn't",
    "no",
    "nor",
    "not",
    "now",
    "o",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "re",
    "s",
    "same",
    "shan",
    "shan't",
    "she",
    "she's",
    "should",
    "should've",
    "shouldn",
    "shouldn't",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "that'll",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "ve",
    "very",
    "was",
    "wasn",
    "wasn't",
    "we",
    "were",
    "weren",
    "weren't",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "won",
    "won't",
    "wouldn",
    "wouldn't",
    "y",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// A text index's parameters resolved for tokenizing (the stopword set built once). The
/// default is the default parameters' analyzer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextAnalyzer {
    params: TextIndexParams,
    stop: HashSet<String>,
}

impl TextIndexParams {
    /// Checks the parameters (lengths, stopword languages) and builds the analyzer.
    pub fn analyzer(&self) -> Result<TextAnalyzer> {
        if let (Some(lo), Some(hi)) = (self.min_token_len, self.max_token_len) {
            if lo > hi {
                return Err(StorageError::InvalidRequest(format!(
                    "text index: min_token_len {lo} is greater than max_token_len {hi}"
                )));
            }
        }
        if self.max_token_len == Some(0) {
            return Err(StorageError::InvalidRequest("text index: max_token_len must be at least 1".into()));
        }
        let lowercase = self.lowercase.unwrap_or(true);
        let mut stop = HashSet::new();
        if let Some(sw) = &self.stopwords {
            for lang in &sw.languages {
                match lang.to_lowercase().as_str() {
                    "english" | "en" => stop.extend(ENGLISH.iter().map(|s| (*s).to_string())),
                    other => {
                        return Err(StorageError::InvalidRequest(format!(
                            "text index: Grove has no stopword list for {other:?} (it has english); \
                             list the words in stopwords.custom"
                        )))
                    }
                }
            }
            stop.extend(sw.custom.iter().map(|s| if lowercase { s.to_lowercase() } else { s.clone() }));
        }
        Ok(TextAnalyzer { params: self.clone(), stop })
    }
}

impl TextAnalyzer {
    /// The parameters.
    pub fn params(&self) -> &TextIndexParams {
        &self.params
    }

    /// The tokens of a text in order, before prefix expansion: split, lower-cased, length
    /// filtered, stopwords dropped.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let raw: Vec<&str> = match self.params.tokenizer {
            Tokenizer::Whitespace => text.split_whitespace().collect(),
            Tokenizer::Word | Tokenizer::Prefix | Tokenizer::Multilingual => {
                text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect()
            }
        };
        let lowercase = self.params.lowercase.unwrap_or(true);
        let lo = self.params.min_token_len.unwrap_or(0);
        let hi = self.params.max_token_len.unwrap_or(usize::MAX);
        raw.into_iter()
            .map(|t| if lowercase { t.to_lowercase() } else { t.to_string() })
            .filter(|t| {
                let n = t.chars().count();
                (self.params.tokenizer == Tokenizer::Prefix || (n >= lo && n <= hi)) && !self.stop.contains(t)
            })
            .collect()
    }

    /// The tokens a value is indexed under (prefix tokenizer: every prefix of each token with
    /// `min_token_len..=max_token_len` characters).
    pub fn index_tokens(&self, text: &str) -> Vec<String> {
        let toks = self.tokens(text);
        if self.params.tokenizer != Tokenizer::Prefix {
            return toks;
        }
        let lo = self.params.min_token_len.unwrap_or(1).max(1);
        let hi = self.params.max_token_len.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for t in toks {
            let ends: Vec<usize> = t.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
            for (n, end) in ends.iter().enumerate() {
                let n = n + 1;
                if n >= lo && n <= hi {
                    out.push(t[..*end].to_string());
                }
            }
        }
        out
    }

    /// The tokens of a query: looked up as they are (a prefix index holds the prefixes).
    pub fn query_tokens(&self, text: &str) -> Vec<String> {
        let mut toks = self.tokens(text);
        if self.params.tokenizer == Tokenizer::Prefix {
            // A query token longer than the longest indexed prefix is looked up by that prefix.
            if let Some(hi) = self.params.max_token_len {
                for t in &mut toks {
                    if let Some((i, _)) = t.char_indices().nth(hi) {
                        t.truncate(i);
                    }
                }
            }
        }
        toks
    }
}

/// A full-text query on a text-indexed field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextQuery<'a> {
    /// Every token.
    All(&'a str),
    /// At least one token.
    Any(&'a str),
    /// The tokens consecutively, in one value.
    Phrase(&'a str),
}

/// Whether `phrase` occurs consecutively in `doc` (an empty phrase never does).
pub fn has_phrase(doc: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && doc.windows(phrase.len()).any(|w| w == phrase)
}

/// The reference semantics of a text query over the string values of a key, as a text index
/// with `an` answers it (see the module docs).
pub fn matches(an: &TextAnalyzer, values: &[&str], q: TextQuery<'_>) -> bool {
    match q {
        TextQuery::All(t) | TextQuery::Any(t) => {
            let want = an.query_tokens(t);
            if want.is_empty() {
                return false;
            }
            let doc: HashSet<String> = values.iter().flat_map(|v| an.index_tokens(v)).collect();
            if matches!(q, TextQuery::All(_)) {
                want.iter().all(|w| doc.contains(w))
            } else {
                want.iter().any(|w| doc.contains(w))
            }
        }
        TextQuery::Phrase(t) => {
            let want = an.query_tokens(t);
            values.iter().any(|v| has_phrase(&an.tokens(v), &want))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn an(p: TextIndexParams) -> TextAnalyzer {
        p.analyzer().expect("valid params")
    }

    #[test]
    fn tokenizers_split_as_documented() {
        let word = an(TextIndexParams::default());
        assert_eq!(word.tokens("Robot AL-76 Goes, Astray!"), ["robot", "al", "76", "goes", "astray"]);
        let ws = an(TextIndexParams { tokenizer: Tokenizer::Whitespace, ..Default::default() });
        assert_eq!(ws.tokens("Robot AL-76  goes"), ["robot", "al-76", "goes"]);
        let keep = an(TextIndexParams { lowercase: Some(false), ..Default::default() });
        assert_eq!(keep.tokens("Big Game"), ["Big", "Game"]);
        let len =
            an(TextIndexParams { min_token_len: Some(2), max_token_len: Some(4), ..Default::default() });
        assert_eq!(len.tokens("a bb ccc ddddd"), ["bb", "ccc"]);
        let pre = an(TextIndexParams {
            tokenizer: Tokenizer::Prefix,
            max_token_len: Some(3),
            ..Default::default()
        });
        assert_eq!(pre.index_tokens("Robot"), ["r", "ro", "rob"]);
        assert_eq!(pre.query_tokens("ROBO"), ["rob"]);
    }

    #[test]
    fn stopwords_respect_lowercase() {
        let sw = Stopwords { languages: vec![], custom: vec!["the".into(), "The".into(), "LAZY".into()] };
        let exact =
            an(TextIndexParams { lowercase: Some(false), stopwords: Some(sw.clone()), ..Default::default() });
        let doc = ["The quick brown fox jumps over the lazy dog"];
        assert!(matches(&exact, &doc, TextQuery::All("lazy")));
        assert!(!matches(&exact, &doc, TextQuery::All("The")));
        assert!(!matches(&exact, &doc, TextQuery::All("LAZY")));
        let en = an(TextIndexParams {
            stopwords: Some(Stopwords { languages: vec!["english".into()], custom: vec![] }),
            ..Default::default()
        });
        assert_eq!(en.query_tokens("robot of the star"), ["robot", "star"]);
        let bad = TextIndexParams {
            stopwords: Some(Stopwords { languages: vec!["klingon".into()], custom: vec![] }),
            ..Default::default()
        };
        assert!(bad.analyzer().is_err());
    }

    #[test]
    fn phrase_and_empty_queries() {
        let a = an(TextIndexParams::default());
        let doc = ["writing tests is very very very important"];
        assert!(matches(&a, &doc, TextQuery::Phrase("very very very")));
        assert!(!matches(&a, &doc, TextQuery::Phrase("very very very very")));
        assert!(!matches(&a, &doc, TextQuery::Phrase("")));
        assert!(!matches(&a, &doc, TextQuery::All("")));
        assert!(!matches(&a, &doc, TextQuery::Phrase("important tests")));
        assert!(matches(&a, &doc, TextQuery::Any("nothing important")));
    }
}
