//! Published reference values for top-k subset capacity, each labelled for what it is.
//!
//! These are *not* measurements of the caller's data; [`super::capacity`] measures, and reports
//! its results next to these so that a reader can see how a run compares with the literature.

/// What a reference value is, so that reports never present a fit as a bound or vice versa.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    /// An empirical curve fitted to optimisation results (free embeddings, k = 2).
    EmpiricalFit,
    /// A proven statement about exact geometry.
    ExactBound,
}

/// Coefficients `(c0, c1, c2, c3)` of Weller et al.'s cubic fit of critical-n against d for
/// k = 2: `n(d) = c0 + c1·d + c2·d² + c3·d³`.
///
/// Source: O. Weller, M. Boratko, I. Naim, J. Lee, "On the Theoretical Limitations of
/// Embedding-Based Retrieval", arXiv 2508.21038 (2025), free-embedding experiment (all pairs of
/// n documents, full-batch InfoNCE, Adam), fit over d = 4..45. Kind: [`ReferenceKind::EmpiricalFit`].
pub const WELLER_FIT_COEFFICIENTS: (f64, f64, f64, f64) = (-10.53, 4.03, 0.052, 0.0037);

/// Weller et al.'s fitted critical-n at dimension `d` for k = 2 (see [`WELLER_FIT_COEFFICIENTS`]).
///
/// An empirical fit, not a bound: it describes what gradient descent on free embeddings reached,
/// and it is smooth where the measured values are integers. Example: `n(12) ≈ 51.7`; the smallest
/// integer d whose fitted value reaches LIMIT's 46 core documents is 12 (`n(11) ≈ 45.0`).
pub fn weller_fit_critical_n(d: usize) -> f64 {
    let (c0, c1, c2, c3) = WELLER_FIT_COEFFICIENTS;
    let d = d as f64;
    c0 + c1 * d + c2 * d * d + c3 * d * d * d
}

/// The smallest dimension at which the fitted critical-n reaches `n` (k = 2), if any up to
/// `max_d`.
pub fn weller_fit_dimension_for(n: usize, max_d: usize) -> Option<usize> {
    (1..=max_d).find(|&d| weller_fit_critical_n(d) >= n as f64)
}

/// The exact-geometry sufficient dimension for returning *every* subset of at most `k` items as
/// a top-|S| result, for any number of items: `2k` for inner product and Euclidean distance,
/// `2k + 1` for cosine similarity (the bound the paper states for unit vectors).
///
/// Source: "2k is Theoretically Large Enough for Embedding-based Top-k Retrieval", arXiv
/// 2601.20844 (Wang et al.): the Minimal Embeddable Dimension is independent of the number of
/// items. Kind: [`ReferenceKind::ExactBound`]. It says nothing about what *training* reaches —
/// which is what [`weller_fit_critical_n`] and the capacity probe describe — and it needs no
/// margin; with a required score gap the picture changes (their "robust" variant).
pub fn exact_sufficient_dimension(k: usize, cosine: bool) -> usize {
    2 * k + usize::from(cosine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_matches_the_published_polynomial() {
        // Evaluate the cubic independently (Horner form) at a few points.
        for d in [4usize, 12, 64, 512] {
            let x = d as f64;
            let horner = ((0.0037 * x + 0.052) * x + 4.03) * x - 10.53;
            assert!((weller_fit_critical_n(d) - horner).abs() < 1e-9);
        }
        assert_eq!(weller_fit_dimension_for(46, 100), Some(12));
    }

    #[test]
    fn exact_bound_is_2k_or_2k_plus_1() {
        assert_eq!(exact_sufficient_dimension(2, false), 4);
        assert_eq!(exact_sufficient_dimension(2, true), 5);
    }
}
