//! Fan-out cost of cluster mode, in process: three nodes on `LocalNet` (temp RocksDB dirs,
//! synced WAL), a 3 shards x 2 replicas collection, against one grove-storage collection with
//! the same seeded data. Prints write throughput at write consistency factor 1 and 2, and for
//! unfiltered, 20% and 1% filters: recall@10 of the auto path (against the exact top-10 of the
//! single node) and queries per second, cluster and single node, one query at a time.
//!
//! `cargo run -p grove-cluster --example cluster_bench -- [points] [dim] [queries]`
//! (defaults 10000 64 200). Figures from a dev build say little about absolute speed; the
//! ratio is the point.

use std::sync::Arc;
use std::time::{Duration, Instant};

use grove_cluster::{local_name, ClusterCollectionConfig, ClusterNode, LocalNet, NodeOptions, SearchRequest};
use grove_index::{Metric, Strategy};
use grove_storage::{CollectionConfig, Filter, PointId, PointStruct, QueryRequest, Storage, StorageOptions};
use rand::{Rng, SeedableRng};

fn arg(i: usize, default: usize) -> usize {
    std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn filter(kind: &str) -> Option<Filter> {
    let j = match kind {
        "20%" => serde_json::json!({"must": [{"key": "tag", "match": {"value": 0}}]}),
        "1%" => serde_json::json!({"must": [{"key": "pct", "match": {"value": 0}}]}),
        _ => return None,
    };
    serde_json::from_value(j).ok()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let (n, dim, nq) = (arg(1, 10_000), arg(2, 64), arg(3, 200));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let pts: Vec<PointStruct> = (0..n as u64)
        .map(|i| PointStruct {
            id: PointId::Num(i),
            vector: (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect(),
            payload: serde_json::json!({"tag": i % 5, "pct": i % 100}).as_object().cloned(),
        })
        .collect();
    let queries: Vec<Vec<f32>> =
        (0..nq).map(|_| (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();

    let net = LocalNet::new();
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir()).collect::<Result<_, _>>()?;
    let mut nodes = Vec::new();
    for id in 1..=3u64 {
        let o = NodeOptions::new(id, format!("node-{id}"), dirs[id as usize].path());
        let node = ClusterNode::open(o, net.transport(id)).await?;
        net.register(id, node.handler());
        nodes.push(node);
    }
    nodes[0].bootstrap().await?;
    for id in 2..=3 {
        nodes[0].add_member(id, format!("node-{id}")).await?;
    }
    let single = Arc::new(Storage::open_with(dirs[0].path(), StorageOptions::default())?);
    single.create_collection("one", CollectionConfig::new(dim, Metric::Cosine))?;

    println!("{n} points x {dim}, batches of 256, synced WAL on every replica");
    let t = Instant::now();
    for chunk in pts.chunks(256) {
        let (s, c) = (Arc::clone(&single), chunk.to_vec());
        tokio::task::spawn_blocking(move || s.upsert("one", c)).await??;
    }
    println!("single node:  {:>8.0} points/s", n as f64 / t.elapsed().as_secs_f64());
    for wcf in [1u32, 2] {
        let name = format!("w{wcf}");
        let mut cfg = ClusterCollectionConfig::new(CollectionConfig::new(dim, Metric::Cosine), 3, 2);
        cfg.write_consistency_factor = wcf;
        nodes[0].create_collection(&name, cfg).await?;
        let t = Instant::now();
        for chunk in pts.chunks(256) {
            nodes[0].upsert(&name, chunk.to_vec()).await?;
        }
        println!(
            "cluster wcf={wcf}: {:>8.0} points/s (3 shards x 2 replicas)",
            n as f64 / t.elapsed().as_secs_f64()
        );
    }

    // Let every graph finish, so the auto path runs on built indexes everywhere.
    single.wait_indexed("one", Duration::from_secs(1800))?;
    for node in &nodes {
        let meta = node.meta();
        for (c, s) in meta.shards_on(node.id()) {
            node.storage()
                .wait_indexed(&local_name(&c, meta.collections[&c].epoch, s), Duration::from_secs(1800))?;
        }
    }
    println!("\n| filter | recall@10 cluster | recall@10 single | QPS cluster | QPS single | ratio |");
    println!("|---|---|---|---|---|---|");
    for kind in ["none", "20%", "1%"] {
        let f = filter(kind);
        let (mut hit_c, mut hit_s, mut total) = (0usize, 0usize, 0usize);
        let (mut t_c, mut t_s) = (Duration::ZERO, Duration::ZERO);
        for q in &queries {
            let mut exact = QueryRequest::new(q.clone(), 10);
            exact.filter = f.clone();
            exact.strategy = Strategy::Exact;
            let truth: Vec<PointId> = single.query("one", &exact)?.points.into_iter().map(|p| p.id).collect();
            let mut auto = exact.clone();
            auto.strategy = Strategy::Auto;
            let t = Instant::now();
            let s_hits = single.query("one", &auto)?.points;
            t_s += t.elapsed();
            let mut req = SearchRequest::new(q.clone(), 10);
            req.filter = f.clone();
            let t = Instant::now();
            let c_hits = nodes[0].search("w1", &req).await?;
            t_c += t.elapsed();
            total += truth.len();
            hit_c += c_hits.iter().filter(|p| truth.contains(&p.id)).count();
            hit_s += s_hits.iter().filter(|p| truth.contains(&p.id)).count();
        }
        let qps = |d: Duration| nq as f64 / d.as_secs_f64();
        println!(
            "| {kind} | {:.3} | {:.3} | {:.0} | {:.0} | {:.2} |",
            hit_c as f64 / total.max(1) as f64,
            hit_s as f64 / total.max(1) as f64,
            qps(t_c),
            qps(t_s),
            qps(t_c) / qps(t_s)
        );
    }
    for node in &nodes {
        node.shutdown().await?;
    }
    Ok(())
}
