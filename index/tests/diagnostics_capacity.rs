//! The free-embedding capacity probe and the LIMIT-style generator.

use grove_index::diagnostics::capacity::{critical_n, probe, CapacityConfig, CriticalNConfig, QrelPattern};
use grove_index::diagnostics::limit_data::{bag_of_attributes, generate, AttributeEmbedding, LimitConfig};
use grove_index::diagnostics::subset::{diagnose, Allowed, Label, SubsetConfig, SubsetQuery};
use grove_index::Metric;

fn quick(dim: usize) -> CapacityConfig {
    CapacityConfig { max_steps: 1500, patience: 200, restarts: 2, seed: 7, ..CapacityConfig::new(dim, 2) }
}

/// Independent check of a claimed realisation: every query's top-|R| is R, by brute force.
fn realised(q: &[f32], d: &[f32], dim: usize, qrels: &[Vec<u32>]) -> usize {
    qrels
        .iter()
        .enumerate()
        .filter(|(i, rel)| {
            let qi = &q[i * dim..(i + 1) * dim];
            let scores: Vec<f32> =
                d.chunks(dim).map(|dv| qi.iter().zip(dv).map(|(a, b)| a * b).sum()).collect();
            let min_rel = rel.iter().map(|&r| scores[r as usize]).fold(f32::INFINITY, f32::min);
            scores.iter().enumerate().all(|(j, s)| rel.contains(&(j as u32)) || *s < min_rel)
        })
        .count()
}

#[test]
fn all_pairs_of_few_documents_are_realised_at_d4_and_verified() {
    let cfg = CapacityConfig { keep_embeddings: true, ..quick(4) };
    let r = probe(6, &QrelPattern::AllSubsets, &cfg, &mut |_| {}).unwrap();
    assert!(r.all_realised, "{r:?}");
    assert_eq!(r.queries, 15);
    let (q, d) = r.embeddings.unwrap();
    let qrels = QrelPattern::AllSubsets.qrels(6, 2, 0).unwrap();
    assert_eq!(realised(&q, &d, 4, &qrels), 15, "the returned embeddings realise every pair");
}

#[test]
fn far_above_critical_n_the_probe_fails() {
    // The paper's fit gives about 6.7 at d = 4; 40 documents (780 pairs) are far beyond it.
    let cfg = CapacityConfig { restarts: 1, keep_embeddings: true, ..quick(4) };
    let r = probe(40, &QrelPattern::AllSubsets, &cfg, &mut |_| {}).unwrap();
    assert!(!r.all_realised);
    assert!(r.best_realised < r.queries);
    let (q, d) = r.embeddings.unwrap();
    let qrels = QrelPattern::AllSubsets.qrels(40, 2, 0).unwrap();
    assert!(realised(&q, &d, 4, &qrels) < 780);
}

#[test]
fn probe_is_deterministic_across_thread_counts() {
    let cfg = CapacityConfig { restarts: 1, max_steps: 300, keep_embeddings: true, ..quick(4) };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| probe(12, &QrelPattern::Cycle, &cfg, &mut |_| {}).unwrap())
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.attempts[0].steps, b.attempts[0].steps);
    assert_eq!(a.attempts[0].final_loss.to_bits(), b.attempts[0].final_loss.to_bits());
    assert_eq!(a.embeddings, b.embeddings);
    let other =
        probe(12, &QrelPattern::Cycle, &CapacityConfig { seed: 8, ..cfg.clone() }, &mut |_| {}).unwrap();
    assert_ne!(a.embeddings, other.embeddings, "the seed matters");
}

#[test]
fn critical_n_search_brackets_and_reports_progress() {
    let cfg = CriticalNConfig { probe: quick(3), start_n: 4, max_n: 30, growth: 1.5 };
    let mut reports = 0usize;
    let r = critical_n(&cfg, &mut |_| reports += 1).unwrap();
    assert!(reports > 0);
    assert!(r.complete, "{r:?}");
    let c = r.critical_n.unwrap();
    assert_eq!(r.first_failure, Some(c + 1), "bracket closed");
    // Every probe at or below critical-n that was run succeeded, every one above failed.
    for p in &r.probes {
        assert_eq!(p.all_realised, p.n <= c, "n = {}", p.n);
    }
    assert!((3..30).contains(&c));
    assert_eq!(r.exact_sufficient_dim, 5);
}

#[test]
fn one_hot_limit_vectors_have_recall_one_and_low_d_random_ones_do_not() {
    let cfg = LimitConfig {
        num_docs: 80,
        num_core_docs: 12,
        pattern: QrelPattern::AllSubsets,
        ..LimitConfig::default()
    };
    let ds = generate(&cfg).unwrap();
    let one_hot = bag_of_attributes(&ds, AttributeEmbedding::OneHot, 0).unwrap();
    let diag = |vs: &grove_index::diagnostics::limit_data::VectorSet| {
        let qs: Vec<SubsetQuery<'_>> = vs
            .queries
            .iter()
            .zip(&vs.relevant)
            .map(|(v, r)| SubsetQuery { vector: v.as_slice(), relevant: r.as_slice() })
            .collect();
        diagnose(
            &vs.docs,
            Metric::Cosine,
            Allowed::All,
            &qs,
            None,
            &SubsetConfig { ks: vec![2], ..Default::default() },
            &|_| {},
        )
        .unwrap()
    };
    let r = diag(&one_hot);
    assert_eq!(r.mean_recall_exact[0], one_hot.expected_recall.unwrap());
    assert_eq!(r.count(Label::Hit), ds.queries.len());
    let random = bag_of_attributes(&ds, AttributeEmbedding::Random { dim: 3 }, 1).unwrap();
    assert_eq!(random.expected_recall, None);
    let r = diag(&random);
    assert!(r.mean_recall_exact[0] < 0.9, "{:?}", r.mean_recall_exact);
    assert!(r.count(Label::GeometryGap) > 0, "{:?}", r.label_counts);
}
