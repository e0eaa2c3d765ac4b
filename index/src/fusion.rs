//! Score fusion of several ranked lists (hybrid queries): reciprocal rank fusion (RRF) and
//! distribution-based score fusion (DBSF), with Qdrant's definitions so a hybrid query answers
//! the same ranking on Grove as on Qdrant.
//!
//! Both are pure functions over lists of `(id, score)`, each list best first. They know
//! nothing of metrics: the caller hands DBSF scores where larger is better (an L2 list's
//! distances negated), and RRF reads only the positions.
//!
//! - **RRF** (Cormack et al., SIGIR 2009): a point at 0-based position `p` of a list with
//!   weight `w` earns `1 / ((p + 1) / w + k - 1)`, which is `1 / (p + k)` at `w = 1`; a point's
//!   fused score is the sum over the lists it appears in. Qdrant's default `k` is 2
//!   ([`DEFAULT_RRF_K`]), not the paper's 60: fused scores are then comparable to Qdrant's.
//! - **DBSF**: per list, scores are mapped linearly so that `mean - 3 sigma` is 0 and
//!   `mean + 3 sigma` is 1 (sigma: the sample standard deviation, `n - 1`), without clamping;
//!   a list of one point, or of equal scores, gives 0.5. Fused score: the sum.
//!
//! The output is sorted by fused score, best first; ties go to the smaller id, so the answer is
//! deterministic (Qdrant leaves ties in hash order).

use std::collections::HashMap;
use std::hash::Hash;

/// Qdrant's default RRF constant `k`.
pub const DEFAULT_RRF_K: usize = 2;

/// Reciprocal rank fusion of `lists` (each best first). `weights`, when given, has one
/// positive weight per list (checked by the caller); `None` weighs every list 1.
pub fn rrf<I: Copy + Eq + Hash + Ord>(
    lists: &[Vec<(I, f32)>],
    k: usize,
    weights: Option<&[f32]>,
) -> Vec<(I, f32)> {
    let mut acc: HashMap<I, f32> = HashMap::new();
    for (i, list) in lists.iter().enumerate() {
        let w = weights.and_then(|w| w.get(i).copied()).unwrap_or(1.0);
        for (pos, (id, _)) in list.iter().enumerate() {
            *acc.entry(*id).or_insert(0.0) += rank_score(pos, k, w);
        }
    }
    sorted(acc)
}

/// One list's contribution at 0-based position `pos`: `1 / ((pos + 1) / w + k - 1)`; a weight
/// of 0 or less contributes nothing.
fn rank_score(pos: usize, k: usize, w: f32) -> f32 {
    if w <= 0.0 {
        return 0.0;
    }
    1.0 / ((pos as f32 + 1.0) / w + k as f32 - 1.0)
}

/// Distribution-based score fusion of `lists` (scores: larger is better).
pub fn dbsf<I: Copy + Eq + Hash + Ord>(lists: &[Vec<(I, f32)>]) -> Vec<(I, f32)> {
    let mut acc: HashMap<I, f32> = HashMap::new();
    for list in lists {
        for (id, s) in normalise(list) {
            *acc.entry(id).or_insert(0.0) += s;
        }
    }
    sorted(acc)
}

/// One list's scores mapped by DBSF's `mean +/- 3 sigma` rule.
fn normalise<I: Copy>(list: &[(I, f32)]) -> Vec<(I, f32)> {
    if list.len() < 2 {
        return list.iter().map(|(id, _)| (*id, 0.5)).collect();
    }
    // Welford's one-pass mean and variance: stable for long lists of close scores.
    let (mut mean, mut m2) = (0f64, 0f64);
    for (n, (_, s)) in list.iter().enumerate() {
        let x = f64::from(*s);
        let d = x - mean;
        mean += d / (n + 1) as f64;
        m2 += d * (x - mean);
    }
    let sigma = (m2 / (list.len() - 1) as f64).sqrt();
    let (lo, hi) = (mean - 3.0 * sigma, mean + 3.0 * sigma);
    if hi <= lo {
        return list.iter().map(|(id, _)| (*id, 0.5)).collect();
    }
    list.iter().map(|(id, s)| (*id, ((f64::from(*s) - lo) / (hi - lo)) as f32)).collect()
}

fn sorted<I: Copy + Ord>(acc: HashMap<I, f32>) -> Vec<(I, f32)> {
    let mut out: Vec<(I, f32)> = acc.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RRF written out from the definition, independently: for every distinct id, the sum
    /// over lists of 1 / (k + rank) with 1-based ranks (so k + rank - 1 in 0-based terms).
    fn rrf_reference(lists: &[Vec<(u32, f32)>], k: f64) -> Vec<(u32, f64)> {
        let mut ids: Vec<u32> = lists.iter().flatten().map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        let mut out: Vec<(u32, f64)> = ids
            .into_iter()
            .map(|id| {
                let s = lists
                    .iter()
                    .filter_map(|l| l.iter().position(|(x, _)| *x == id))
                    .map(|rank0| 1.0 / (k + (rank0 + 1) as f64 - 1.0))
                    .sum();
                (id, s)
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// DBSF from the definition, independently: two-pass mean and sample variance in f64.
    fn dbsf_reference(lists: &[Vec<(u32, f32)>]) -> Vec<(u32, f64)> {
        let mut total: std::collections::BTreeMap<u32, f64> = Default::default();
        for l in lists {
            let n = l.len() as f64;
            let xs: Vec<f64> = l.iter().map(|(_, s)| f64::from(*s)).collect();
            let mean = xs.iter().sum::<f64>() / n;
            let var = if l.len() > 1 {
                xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
            } else {
                0.0
            };
            let (lo, hi) = (mean - 3.0 * var.sqrt(), mean + 3.0 * var.sqrt());
            for ((id, _), x) in l.iter().zip(&xs) {
                let v = if hi > lo { (x - lo) / (hi - lo) } else { 0.5 };
                *total.entry(*id).or_default() += v;
            }
        }
        let mut out: Vec<(u32, f64)> = total.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Seeded lists: overlapping ids, descending scores, lengths 0..30.
    fn lists(seed: u64) -> Vec<Vec<(u32, f32)>> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let n_lists = 1 + (next() % 4) as usize;
        (0..n_lists)
            .map(|_| {
                let len = (next() % 30) as usize;
                let mut ids: Vec<u32> = Vec::new();
                while ids.len() < len {
                    let id = (next() % 50) as u32;
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                let mut score = (next() % 1000) as f32 / 100.0;
                ids.into_iter()
                    .map(|id| {
                        score -= (next() % 100) as f32 / 250.0;
                        (id, score)
                    })
                    .collect()
            })
            .collect()
    }

    fn assert_matches(got: &[(u32, f32)], want: &[(u32, f64)], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((f64::from(g.1) - w.1).abs() <= tol, "{got:?}\n{want:?}");
        }
        // Same ranking up to ties within the tolerance: compare each id's score.
        let by_id: HashMap<u32, f64> = want.iter().copied().collect();
        for (id, s) in got {
            assert!((f64::from(*s) - by_id[id]).abs() <= tol, "id {id}");
        }
    }

    #[test]
    fn rrf_matches_the_reference_on_seeded_lists() {
        for seed in 0..200 {
            let l = lists(seed);
            for k in [DEFAULT_RRF_K, 1, 60] {
                assert_matches(&rrf(&l, k, None), &rrf_reference(&l, k as f64), 1e-5);
            }
        }
    }

    #[test]
    fn rrf_worked_example_with_qdrants_k() {
        // Lists [2, 1], [1, 2, 3], [5, 3, 1] with k = 2:
        // 1: 1/3 + 1/2 + 1/4; 2: 1/2 + 1/3; 3: 1/4 + 1/3; 5: 1/2.
        let l = vec![
            vec![(2u32, 0.9), (1, 0.8)],
            vec![(1, 0.7), (2, 0.6), (3, 0.5)],
            vec![(5, 0.9), (3, 0.5), (1, 0.4)],
        ];
        let got = rrf(&l, DEFAULT_RRF_K, None);
        let ids: Vec<u32> = got.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![1, 2, 3, 5]);
        assert!((got[0].1 - (1.0 / 3.0 + 0.5 + 0.25)).abs() < 1e-6);
        assert!((got[3].1 - 0.5).abs() < 1e-6);
    }

    #[test]
    fn rrf_weights_stretch_positions() {
        // Weight 3 on the first list: its position 2 counts like position 0 of weight 1.
        let l = vec![vec![(1u32, 0.0), (2, 0.0), (3, 0.0)], vec![(4u32, 0.0)]];
        let got = rrf(&l, DEFAULT_RRF_K, Some(&[3.0, 1.0]));
        let score = |id| got.iter().find(|(x, _)| *x == id).map(|(_, s)| *s).unwrap_or(-1.0);
        assert!((score(3) - score(4)).abs() < 1e-6, "{got:?}");
        let zero = rrf(&l, DEFAULT_RRF_K, Some(&[0.0, 1.0]));
        assert_eq!(zero[0], (4, 0.5));
        assert!(zero[1..].iter().all(|(_, s)| *s == 0.0));
    }

    #[test]
    fn dbsf_matches_the_reference_on_seeded_lists() {
        for seed in 0..200 {
            let l = lists(seed);
            assert_matches(&dbsf(&l), &dbsf_reference(&l), 1e-4);
        }
    }

    #[test]
    fn dbsf_degenerate_lists_score_one_half() {
        let l = vec![vec![(7u32, 3.0)], vec![(8u32, 1.0), (9, 1.0)]];
        assert_eq!(dbsf(&l), vec![(7, 0.5), (8, 0.5), (9, 0.5)]);
        // Two points: mean +/- 3 sigma puts them symmetric around 0.5.
        let got = dbsf(&[vec![(1u32, 1.0), (2, 0.0)]]);
        assert!((got[0].1 + got[1].1 - 1.0).abs() < 1e-6 && got[0].0 == 1, "{got:?}");
        assert!(dbsf::<u32>(&[]).is_empty() && rrf::<u32>(&[vec![]], 2, None).is_empty());
    }
}
