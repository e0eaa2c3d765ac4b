//! Quickstart: create a collection, index payload fields, upsert seeded random points, run a
//! filtered query with the planner's explanation, count, scroll, and clean up.
//!
//! ```text
//! grove serve &                                   # REST :6333, gRPC :6334
//! cargo run -p grove-client --example quickstart  # GROVE_GRPC_URL, GROVE_API_KEY optional
//! ```

use anyhow::Context;
use grove_client::{pb, ClientConfig, GroveClient, Point, Query};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

const COLLECTION: &str = "quickstart";
const DIM: usize = 64;
const N: u64 = 2_000;
const CATEGORIES: [&str; 4] = ["cs.LG", "cs.CL", "cs.CV", "stat.ML"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let endpoint = std::env::var("GROVE_GRPC_URL").unwrap_or_else(|_| "http://127.0.0.1:6334".to_owned());
    let mut config = ClientConfig::new(endpoint.clone());
    if let Ok(key) = std::env::var("GROVE_API_KEY") {
        config = config.api_key(key);
    }
    let client =
        GroveClient::connect_with(config).await.with_context(|| format!("connecting to {endpoint}"))?;
    let health = client.health().await?;
    println!("connected to grove {} (ready: {})", health.version, health.ready);

    client.delete_collection(COLLECTION).await?;
    client.create_collection(COLLECTION, DIM as u64, pb::Distance::Cosine, None).await?;
    client.create_field_index(COLLECTION, "category", pb::PayloadSchemaType::Keyword).await?;
    client.create_field_index(COLLECTION, "year", pb::PayloadSchemaType::Integer).await?;

    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let points: Vec<Point> = (0..N)
        .map(|i| {
            let vector: Vec<f32> = (0..DIM).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let category = CATEGORIES[(i % CATEGORIES.len() as u64) as usize];
            Point::new(i, vector).with_payload(json!({"category": category, "year": 2010 + (i % 15)}))
        })
        .collect();
    let written = client.upsert_batched(COLLECTION, &points, 500).await?;
    let info = client.get_collection(COLLECTION).await?;
    println!(
        "upserted {written} points; collection has {} ({} indexed, {})",
        info.points_count, info.indexed_vectors_count, info.status
    );

    let filter = json!({"must": [
        {"key": "category", "match": {"value": "cs.LG"}},
        {"key": "year", "range": {"gte": 2019, "lt": 2022}}
    ]});
    let matching = client.count(COLLECTION, Some(grove_client::filter_from_json(&filter)?)).await?;
    println!("points matching {filter}: {matching}");

    let query = points[7].vector.clone();
    let result = client
        .query(Query::new(COLLECTION, query.clone()).limit(5).filter_json(&filter)?.explain(true))
        .await?;
    println!("top 5 among them:");
    for hit in &result.hits {
        println!(
            "  id={:<5} score={:.4} payload={}",
            hit.id.to_string(),
            hit.score,
            serde_json::Value::Object(hit.payload.clone())
        );
    }
    if let Some(e) = &result.explain {
        println!(
            "explain: path={} selectivity={:.4} ({}/{}) visited={} distances={} -- {}",
            e.path,
            e.selectivity,
            e.allowed_points,
            e.live_points,
            e.nodes_visited,
            e.distances_computed,
            e.reason
        );
    }

    let batch = client
        .query_batch(
            COLLECTION,
            points[..3]
                .iter()
                .map(|p| Query::new(COLLECTION, p.vector.clone()).limit(1).with_payload(false))
                .collect(),
        )
        .await?;
    let self_hits: Vec<String> =
        batch.iter().map(|r| r.ids().first().map(ToString::to_string).unwrap_or_default()).collect();
    println!("batch query of points 0,1,2 -> nearest ids {self_hits:?}");

    let (page, next) = client.scroll(COLLECTION, None, None, 3).await?;
    println!(
        "scroll: first ids {:?}, next offset {:?}",
        page.iter().map(|r| r.id.to_string()).collect::<Vec<_>>(),
        next.map(|n| n.to_string())
    );

    // Snapshot, break the collection, recover it on the running server, download the archive.
    let snap = client.create_snapshot(COLLECTION).await?;
    println!("snapshot {} ({} bytes)", snap.name, snap.size);
    client.delete_by_filter(COLLECTION, grove_client::filter_from_json(&filter)?).await?;
    println!(
        "after deleting the matching points: {} left",
        client.get_collection(COLLECTION).await?.points_count
    );
    let rec = client.recover_snapshot(COLLECTION, &snap.name).await?;
    println!(
        "recovered {} points (replaced existing: {}); matching again: {}",
        rec.points,
        rec.replaced,
        client.count(COLLECTION, Some(grove_client::filter_from_json(&filter)?)).await?
    );
    let mut archive = Vec::new();
    let bytes = client.download_snapshot(COLLECTION, &snap.name, &mut archive).await?;
    println!(
        "downloaded {bytes} bytes; listed snapshots: {}",
        client.list_snapshots(COLLECTION).await?.len()
    );
    client.delete_snapshot(COLLECTION, &snap.name).await?;

    client.delete_collection(COLLECTION).await?;
    println!("deleted {COLLECTION}");
    Ok(())
}
