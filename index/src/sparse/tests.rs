//! Oracle tests: the index against brute force over the live vectors, seeded.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use roaring::RoaringBitmap;

use super::*;
use crate::stop::NEVER;

/// A Zipf-ish random sparse vector: a few dims out of `dims`, low ids more likely (like terms).
fn random_vector(rng: &mut ChaCha8Rng, dims: u32, max_nnz: usize) -> SparseVector {
    let nnz = rng.gen_range(0..=max_nnz);
    let mut idx = Vec::new();
    for _ in 0..nnz {
        let u: f64 = rng.gen_range(0.0..1.0);
        let d = ((dims as f64).powf(u) as u32).min(dims - 1);
        if !idx.contains(&d) {
            idx.push(d);
        }
    }
    let vals = idx.iter().map(|_| rng.gen_range(0.0f32..3.0).round().max(0.5)).collect();
    SparseVector::new(idx, vals).expect("valid")
}

/// Compares the index's answer to the oracle: same ids in the same order, scores within
/// 1e-4 relative (f32 accumulation against f64).
fn assert_matches(got: &SparseOutput, want: &[(u32, f64)], what: &str) {
    let ids: Vec<u32> = got.hits.iter().map(|h| h.id).collect();
    let want_ids: Vec<u32> = want.iter().map(|w| w.0).collect();
    for (h, w) in got.hits.iter().zip(want) {
        let tol = 1e-4 * w.1.abs().max(1.0);
        assert!((h.score as f64 - w.1).abs() <= tol, "{what}: score of {} {} vs {}", h.id, h.score, w.1);
    }
    if ids != want_ids {
        // Near-ties may order differently under f32 vs f64 sums; accept only swaps of scores
        // within tolerance.
        assert_eq!(ids.len(), want_ids.len(), "{what}: hit count");
        for (h, w) in got.hits.iter().zip(want) {
            assert!(
                (h.score as f64 - w.1).abs() <= 1e-4 * w.1.abs().max(1.0),
                "{what}: {ids:?} vs {want_ids:?}"
            );
        }
    }
}

#[test]
fn validation_names_the_problem() {
    assert!(SparseVector::new(vec![1, 2], vec![1.0]).unwrap_err().contains("same length"));
    assert!(SparseVector::new(vec![3, 1, 3], vec![1.0, 2.0, 3.0]).unwrap_err().contains("index 3"));
    assert!(SparseVector::new(vec![1], vec![f32::NAN]).unwrap_err().contains("values[0]"));
    let v = SparseVector::new(vec![9, 2, 5], vec![1.0, 2.0, 3.0]).expect("valid");
    assert_eq!((v.indices, v.values), (vec![2, 5, 9], vec![2.0, 3.0, 1.0]));
}

#[test]
fn idf_is_qdrants_formula() {
    // ln(1 + (N - n + 0.5) / (n + 0.5)) for N = 10, n = 2: ln(1 + 8.5 / 2.5) = ln(4.4).
    assert!((idf(2, 10) - 4.4f32.ln()).abs() < 1e-6);
    assert!(idf(1, 100) > idf(50, 100));
    assert!(idf(100, 100) > 0.0);
}

/// Seeded random collection life: inserts, overwrites (new id, old deleted, as storage does),
/// deletes; after each phase every query against brute force over the live vectors, with and
/// without filters, both paths, idf on and off.
#[test]
fn search_matches_brute_force_through_inserts_overwrites_and_deletes() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5ba45e);
    let dims = 400;
    for modifier in [Modifier::None, Modifier::Idf] {
        let mut index = SparseIndex::new(modifier, 50);
        let mut live: BTreeMap<u32, SparseVector> = BTreeMap::new();
        let mut next = 0u32;
        let mut checks = 0;
        for phase in 0..6 {
            // Inserts.
            for _ in 0..300 {
                let v = random_vector(&mut rng, dims, 12);
                index.insert(next, v.clone());
                live.insert(next, v);
                next += 1;
            }
            // Overwrites: a new id for a fresh vector, the old id deleted.
            for _ in 0..60 {
                let old = *live.keys().nth(rng.gen_range(0..live.len())).expect("some");
                let v = random_vector(&mut rng, dims, 12);
                index.insert(next, v.clone());
                live.insert(next, v);
                next += 1;
                index.delete(old);
                live.remove(&old);
            }
            // Deletes (including repeated and absent ids).
            for _ in 0..80 {
                let id = rng.gen_range(0..next + 5);
                index.delete(id);
                live.remove(&id);
            }
            assert_eq!(index.len(), live.len() as u64);
            let docs: Vec<(u32, SparseVector)> = live.iter().map(|(i, v)| (*i, v.clone())).collect();
            for q in 0..25 {
                let query = random_vector(&mut rng, dims, 6);
                let k = [1, 5, 10, 50][q % 4];
                // No filter, a wide filter (postings path), a narrow one (full scan path).
                let wide: RoaringBitmap = (0..next).filter(|i| i % 3 != 0).collect();
                let narrow: RoaringBitmap = (0..next).filter(|i| i % 97 == phase as u32).collect();
                for allowed in [None, Some(&wide), Some(&narrow)] {
                    let want = brute_force(&docs, &query, modifier, allowed, k);
                    let params = SparseParams { k, ..Default::default() };
                    let got = index.search(&query, allowed, &params, &NEVER).expect("search");
                    let expect_path = if allowed.is_some() && got.explain.allowed_points <= 50 {
                        SparsePath::FullScan
                    } else {
                        SparsePath::Postings
                    };
                    assert_eq!(got.explain.path, expect_path);
                    if allowed.is_some_and(|a| std::ptr::eq(a, &narrow)) {
                        assert_eq!(got.explain.path, SparsePath::FullScan, "narrow filter scans");
                    }
                    assert_matches(&got, &want, &format!("{modifier:?} phase {phase} q {q}"));
                    // The other path gives the same answer.
                    let forced = SparseParams {
                        force_full_scan: Some(got.explain.path == SparsePath::Postings),
                        ..params
                    };
                    let other = index.search(&query, allowed, &forced, &NEVER).expect("search");
                    assert_matches(&other, &want, &format!("{modifier:?} phase {phase} q {q} forced"));
                    checks += 1;
                }
            }
        }
        assert!(checks >= 400, "ran {checks} checks");
    }
}

#[test]
fn score_threshold_and_no_overlap() {
    let mut index = SparseIndex::new(Modifier::None, 0);
    index.insert(0, SparseVector::new(vec![1], vec![1.0]).expect("v"));
    index.insert(1, SparseVector::new(vec![1, 2], vec![3.0, 1.0]).expect("v"));
    index.insert(2, SparseVector::new(vec![5], vec![9.0]).expect("v"));
    let q = SparseVector::new(vec![1, 2], vec![1.0, 1.0]).expect("q");
    let out = index
        .search(&q, None, &SparseParams { k: 10, score_threshold: Some(2.0), ..Default::default() }, &NEVER)
        .expect("search");
    assert_eq!(out.hits, vec![SparseHit { id: 1, score: 4.0 }]);
    // Point 2 shares no dimension: not a hit even with room.
    let out = index.search(&q, None, &SparseParams { k: 10, ..Default::default() }, &NEVER).expect("search");
    assert_eq!(out.hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 0]);
    assert_eq!(out.explain.postings_read, 3);
    assert_eq!(out.explain.candidates_scored, 2);
}

#[test]
fn idf_follows_live_document_frequencies() {
    let mut index = SparseIndex::new(Modifier::Idf, 0);
    for id in 0..10 {
        index.insert(id, SparseVector::new(vec![1], vec![1.0]).expect("v"));
    }
    index.insert(10, SparseVector::new(vec![2], vec![1.0]).expect("v"));
    assert_eq!((index.doc_freq(1), index.len()), (10, 11));
    let q = SparseVector::new(vec![1], vec![1.0]).expect("q");
    let s = |index: &SparseIndex| {
        index.search(&q, None, &SparseParams { k: 1, ..Default::default() }, &NEVER).expect("s").hits[0].score
    };
    assert!((s(&index) - idf(10, 11)).abs() < 1e-6);
    for id in 0..8 {
        index.delete(id);
    }
    assert_eq!((index.doc_freq(1), index.len()), (2, 3));
    assert!((s(&index) - idf(2, 3)).abs() < 1e-6);
}

#[test]
fn a_raised_stop_flag_stops_the_walk() {
    let mut index = SparseIndex::new(Modifier::None, 0);
    for id in 0..5_000 {
        index.insert(id, SparseVector::new(vec![1], vec![1.0]).expect("v"));
    }
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let stop = Stop::unlimited().with_cancel(Some(flag));
    let q = SparseVector::new(vec![1], vec![1.0]).expect("q");
    let r = index.search(&q, None, &SparseParams::default(), &stop);
    assert!(matches!(r, Err(crate::IndexError::Stopped { .. })));
}

/// A deleted id inserted again (a collection reusing reclaimed ids) scores by its new vector
/// only: its old entries, still in the lists until they are compacted, must not count, and
/// the document frequencies count it once.
#[test]
fn a_reinserted_id_scores_by_its_new_vector_only() {
    let mut ix = SparseIndex::new(Modifier::None, 0);
    let keep = |ix: &mut SparseIndex| {
        for id in 10..20u32 {
            ix.insert(id, SparseVector::new(vec![1, 2], vec![1.0, 1.0]).expect("valid"));
        }
    };
    keep(&mut ix);
    ix.insert(3, SparseVector::new(vec![1, 2], vec![5.0, 5.0]).expect("valid"));
    ix.delete(3);
    assert!(ix.stale().contains(3), "its entries stay until purged");
    ix.insert(3, SparseVector::new(vec![2], vec![0.5]).expect("valid"));
    assert!(ix.stale().is_empty(), "inserting a stale id purges first");
    assert_eq!(ix.doc_freq(1), 10);
    assert_eq!(ix.doc_freq(2), 11);
    let q = SparseVector::new(vec![1, 2], vec![1.0, 1.0]).expect("valid");
    for full in [false, true] {
        let params = SparseParams { k: 20, force_full_scan: Some(full), ..Default::default() };
        let out = ix.search(&q, None, &params, &NEVER).expect("search");
        let three: Vec<f32> = out.hits.iter().filter(|h| h.id == 3).map(|h| h.score).collect();
        assert_eq!(three, vec![0.5], "full scan {full}: id 3 once, by its new vector");
    }
    // An explicit purge leaves nothing stale and changes no answer.
    ix.delete(12);
    ix.purge();
    assert!(ix.stale().is_empty());
    assert_eq!(ix.doc_freq(1), 9);
}
