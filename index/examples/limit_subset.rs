//! The top-k subset diagnostic on generated LIMIT-style vectors and on free embeddings.
//!
//! ```text
//! cargo run --release -p grove-index --example limit_subset
//! ```
//!
//! 1. LIMIT-small (46 core documents, 1,000 "Who likes X?" queries, 2 relevant each, dense
//!    pattern): bag-of-attributes vectors, one-hot (recall 1 by construction) and random
//!    attribute vectors at several dimensions. For each: recall@2/@10 by exact scan and the label
//!    counts (is a miss the query vector's fault or the geometry's?).
//! 2. Free embeddings optimised on all pairs of n documents at d = 8 with n above critical-n:
//!    the qrels the optimiser failed to realise, split into encoder gaps (the learned documents
//!    allow the pair, the learned query misses it) and geometry gaps (no query could).

use std::time::Instant;

use grove_index::diagnostics::capacity::{probe, CapacityConfig, QrelPattern};
use grove_index::diagnostics::limit_data::{
    bag_of_attributes, generate, AttributeEmbedding, LimitConfig, VectorSet,
};
use grove_index::diagnostics::subset::{diagnose, Allowed, Label, SubsetConfig, SubsetQuery, SubsetReport};
use grove_index::{Metric, VectorStore};

type BoxResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn counts(r: &SubsetReport) -> String {
    let mut s =
        Label::ALL.iter().map(|l| format!("{}={}", l.as_str(), r.count(*l))).collect::<Vec<_>>().join(" ");
    for d in r.queries.iter().filter(|d| d.label == Label::Undetermined).take(2) {
        s.push_str(&format!("\n    undetermined query {}: {}", d.query, d.reason.as_deref().unwrap_or("-")));
    }
    s
}

fn run_set(name: &str, vs: &VectorSet, cfg: &SubsetConfig) -> BoxResult {
    let qs: Vec<SubsetQuery<'_>> = vs
        .queries
        .iter()
        .zip(&vs.relevant)
        .map(|(v, r)| SubsetQuery { vector: v.as_slice(), relevant: r.as_slice() })
        .collect();
    let r = diagnose(&vs.docs, Metric::Cosine, Allowed::All, &qs, None, cfg, &|_| {})?;
    println!(
        "{name:<22} recall@2 {:.3} recall@10 {:.3} expected {:<5} {:>6.2}s  {}",
        r.mean_recall_exact[0],
        r.mean_recall_exact[1],
        vs.expected_recall.map_or("-".into(), |e| format!("{e:.1}")),
        r.elapsed.as_secs_f64(),
        counts(&r)
    );
    Ok(())
}

fn main() -> BoxResult {
    let cfg = SubsetConfig { ks: vec![2, 10], competitors: 300, seed: 1, ..SubsetConfig::default() };
    println!("LIMIT-small: 46 documents, 1000 queries (dense pattern), k = 2, cosine");
    let ds = generate(&LimitConfig { num_docs: 46, ..LimitConfig::default() })?;
    run_set("one-hot", &bag_of_attributes(&ds, AttributeEmbedding::OneHot, 0)?, &cfg)?;
    for dim in [4usize, 8, 16, 32, 64] {
        run_set(
            &format!("random attributes d={dim}"),
            &bag_of_attributes(&ds, AttributeEmbedding::Random { dim }, 7)?,
            &cfg,
        )?;
    }

    let (d, n) = (8usize, 40usize);
    println!("\nfree embeddings, all pairs of n = {n} documents at d = {d} (beyond critical-n):");
    let pcfg = CapacityConfig {
        seed: 3,
        restarts: 1,
        keep_embeddings: true,
        progress_every: 0,
        ..CapacityConfig::new(d, 2)
    };
    let t = Instant::now();
    let p = probe(n, &QrelPattern::AllSubsets, &pcfg, &mut |_| {})?;
    println!(
        "probe: {} of {} pairs realised after {} steps ({:.1}s)",
        p.best_realised,
        p.queries,
        p.attempts.iter().map(|a| a.steps).sum::<usize>(),
        t.elapsed().as_secs_f64()
    );
    let (q, docs) = p.embeddings.ok_or("embeddings were requested")?;
    let store = VectorStore::from_flat(d, docs);
    let qrels = QrelPattern::AllSubsets.qrels(n, 2, 0)?;
    let qs: Vec<SubsetQuery<'_>> = qrels
        .iter()
        .enumerate()
        .map(|(i, r)| SubsetQuery { vector: &q[i * d..(i + 1) * d], relevant: r })
        .collect();
    let r = diagnose(&store, Metric::Cosine, Allowed::All, &qs, None, &cfg, &|_| {})?;
    println!("diagnostic on the learned vectors ({:.2}s): {}", r.elapsed.as_secs_f64(), counts(&r));
    Ok(())
}
