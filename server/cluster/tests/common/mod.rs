//! Shared fixtures for the in-process cluster tests: nodes on a [`LocalNet`], each with its
//! own temp data dir, plus a single-node oracle collection holding the acknowledged points.

#![allow(dead_code, reason = "each test binary uses a different part of the fixture")]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use grove_cluster::{local_name, ClusterNode, LocalNet, NodeId, NodeOptions, ReplicaState};
use grove_index::{Metric, Strategy};
use grove_storage::{
    CollectionConfig, PointId, PointStruct, QueryRequest, Storage, StorageOptions, WithPayload,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const DIM: usize = 8;

pub struct TestCluster {
    pub net: LocalNet,
    pub dirs: BTreeMap<NodeId, tempfile::TempDir>,
    pub nodes: BTreeMap<NodeId, ClusterNode>,
}

pub fn options(id: NodeId, dir: &std::path::Path) -> NodeOptions {
    let mut o = NodeOptions::new(id, format!("node-{id}"), dir);
    o.heartbeat_ms = 50;
    o.election_timeout_ms = (250, 500);
    o.rpc_timeout = Duration::from_millis(500);
    o.op_timeout = Duration::from_secs(8);
    // Small, so the tests build snapshots and purge the log.
    o.snapshot_after_logs = 20;
    o.keep_logs = 5;
    o.purge_batch_logs = 1;
    o.storage = StorageOptions { background_indexing: false, ..StorageOptions::default() };
    o
}

impl TestCluster {
    /// `n` nodes: node 1 bootstraps, the others join through node 1.
    pub async fn start(n: u64) -> TestCluster {
        let mut c = TestCluster { net: LocalNet::new(), dirs: BTreeMap::new(), nodes: BTreeMap::new() };
        for id in 1..=n {
            c.dirs.insert(id, tempfile::tempdir().expect("tempdir"));
            c.open(id).await;
        }
        c.nodes[&1].bootstrap().await.expect("bootstrap");
        for id in 2..=n {
            c.nodes[&1].add_member(id, format!("node-{id}")).await.expect("add member");
        }
        let want: Vec<NodeId> = (1..=n).collect();
        c.wait_for("all nodes see every voter", |c| c.nodes.values().all(|x| x.voters() == want)).await;
        c
    }

    pub async fn open(&mut self, id: NodeId) {
        let node = ClusterNode::open(options(id, self.dirs[&id].path()), self.net.transport(id))
            .await
            .expect("open node");
        self.net.register(id, node.handler());
        self.nodes.insert(id, node);
    }

    /// A crash: the node vanishes from the network and its process state is dropped (its
    /// RocksDB dir stays).
    pub async fn kill(&mut self, id: NodeId) {
        self.net.unregister(id);
        let node = self.nodes.remove(&id).expect("node to kill");
        node.shutdown().await.expect("shutdown");
        drop(node);
    }

    pub fn leader(&self) -> Option<NodeId> {
        let ls: Vec<Option<NodeId>> = self.nodes.values().map(|n| n.leader()).collect();
        ls.first()
            .copied()
            .flatten()
            .filter(|l| ls.iter().all(|x| *x == Some(*l)) && self.nodes.contains_key(l))
    }

    pub async fn wait_leader(&self) -> NodeId {
        let t = Instant::now();
        loop {
            if let Some(l) = self.leader() {
                return l;
            }
            assert!(t.elapsed() < Duration::from_secs(15), "no agreed leader within 15 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn wait_for(&self, what: &str, f: impl Fn(&TestCluster) -> bool) {
        let t = Instant::now();
        while !f(self) {
            assert!(t.elapsed() < Duration::from_secs(15), "timed out waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Seeded points `from..to` with a payload `{"i": i, "tag": i % 5}`.
pub fn points(rng: &mut ChaCha8Rng, from: u64, to: u64) -> Vec<PointStruct> {
    (from..to)
        .map(|i| PointStruct {
            id: PointId::Num(i),
            vector: (0..DIM).map(|_| rng.gen_range(-1.0f32..1.0)).collect(),
            payload: serde_json::json!({"i": i, "tag": i % 5}).as_object().cloned(),
        })
        .collect()
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The acknowledged points, kept in a single-node collection: the oracle reads are compared to.
pub struct Oracle {
    pub storage: Storage,
    pub acked: BTreeMap<PointId, PointStruct>,
}

impl Oracle {
    pub fn new(metric: Metric) -> Oracle {
        let storage = Storage::in_memory_with(StorageOptions {
            background_indexing: false,
            ..StorageOptions::default()
        });
        storage.create_collection("oracle", CollectionConfig::new(DIM, metric)).expect("oracle collection");
        Oracle { storage, acked: BTreeMap::new() }
    }

    pub fn ack(&mut self, pts: &[PointStruct]) {
        self.storage.upsert("oracle", pts.to_vec()).expect("oracle upsert");
        for p in pts {
            self.acked.insert(p.id, p.clone());
        }
    }

    pub fn search(
        &self,
        vector: &[f32],
        k: usize,
        filter: Option<grove_storage::Filter>,
    ) -> Vec<grove_storage::ScoredPoint> {
        let mut q = QueryRequest::new(vector.to_vec(), k);
        q.filter = filter;
        q.strategy = Strategy::Exact;
        q.with_payload = Some(WithPayload::All(true));
        self.storage.query("oracle", &q).expect("oracle query").points
    }
}

/// Every replica the metadata calls active holds every acknowledged point of its shard, with
/// its payload and vector. Returns (active replicas checked, replicas not active).
pub fn check_replicas(c: &TestCluster, collection: &str, oracle: &Oracle) -> (usize, usize) {
    let leader = c.leader().expect("a leader to read the metadata from");
    let meta = c.nodes[&leader].meta();
    let cm = &meta.collections[collection];
    let (mut active, mut inactive) = (0, 0);
    for (s, shard) in cm.shards.iter().enumerate() {
        let expected: Vec<&PointStruct> = oracle
            .acked
            .values()
            .filter(|p| grove_cluster::hash::shard_of(&p.id, cm.config.shard_number) as usize == s)
            .collect();
        assert!(!shard.active().is_empty(), "shard {s} has no active replica: {:?}", shard.replicas);
        for (node, state) in &shard.replicas {
            if *state != ReplicaState::Active {
                inactive += 1;
                continue;
            }
            active += 1;
            let n = c
                .nodes
                .get(node)
                .unwrap_or_else(|| panic!("active replica {s} on node {node}, which is down"));
            let name = local_name(collection, cm.epoch, s as u32);
            let ids: Vec<PointId> = expected.iter().map(|p| p.id).collect();
            let got = n.storage().get_points(&name, &ids, &WithPayload::All(true), true).expect("local get");
            assert_eq!(
                got.len(),
                expected.len(),
                "active replica of shard {s} on node {node} misses acknowledged points"
            );
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!(g.id, e.id);
                assert_eq!(g.payload, e.payload, "payload of {} on node {node}", e.id);
                assert_eq!(g.vector.as_ref(), Some(&e.vector), "vector of {} on node {node}", e.id);
            }
        }
    }
    (active, inactive)
}

/// Searches through `node` and compares ids, scores and payloads with the oracle.
pub async fn check_reads(node: &ClusterNode, collection: &str, oracle: &Oracle, seed: u64, queries: usize) {
    let mut r = rng(seed);
    let n = node.count(collection, None).await.expect("count");
    assert_eq!(n, oracle.acked.len() as u64, "count through node {}", node.id());
    for q in 0..queries {
        let v: Vec<f32> = (0..DIM).map(|_| r.gen_range(-1.0f32..1.0)).collect();
        let filter = if q % 2 == 1 {
            Some(
                serde_json::from_value(
                    serde_json::json!({"must": [{"key": "tag", "match": {"value": q % 5}}]}),
                )
                .expect("filter"),
            )
        } else {
            None
        };
        let mut req = grove_cluster::SearchRequest::new(v.clone(), 10);
        req.filter = filter.clone();
        req.strategy = Strategy::Exact;
        req.with_payload = WithPayload::All(true);
        let got = node.search(collection, &req).await.expect("cluster search");
        let want = oracle.search(&v, 10, filter);
        let ids = |h: &[grove_storage::ScoredPoint]| h.iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(ids(&got), ids(&want), "query {q} through node {}", node.id());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.score, w.score, "score of {}", g.id);
            assert_eq!(g.payload, w.payload, "payload of {}", g.id);
        }
    }
}

/// Audits every active replica against the acknowledged points without panicking: returns
/// (lost, stale) = (acknowledged points missing or different on at least one active replica,
/// active replicas missing or differing on at least one acknowledged point).
pub fn audit(c: &TestCluster, collection: &str, oracle: &Oracle) -> (usize, usize) {
    let Some(leader) = c.leader() else { return (usize::MAX, usize::MAX) };
    let meta = c.nodes[&leader].meta();
    let cm = &meta.collections[collection];
    let mut lost = std::collections::BTreeSet::new();
    let mut stale = 0;
    for (s, shard) in cm.shards.iter().enumerate() {
        let expected: Vec<&PointStruct> = oracle
            .acked
            .values()
            .filter(|p| grove_cluster::hash::shard_of(&p.id, cm.config.shard_number) as usize == s)
            .collect();
        let ids: Vec<PointId> = expected.iter().map(|p| p.id).collect();
        for (node, state) in &shard.replicas {
            if *state != ReplicaState::Active {
                continue;
            }
            let Some(n) = c.nodes.get(node) else {
                stale += 1;
                continue;
            };
            let name = local_name(collection, cm.epoch, s as u32);
            let got: BTreeMap<PointId, grove_storage::Record> = n
                .storage()
                .get_points(&name, &ids, &WithPayload::All(true), true)
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
            let mut bad = false;
            for e in &expected {
                let ok = got
                    .get(&e.id)
                    .is_some_and(|g| g.payload == e.payload && g.vector.as_ref() == Some(&e.vector));
                if !ok {
                    lost.insert(e.id);
                    bad = true;
                }
            }
            stale += usize::from(bad);
        }
    }
    (lost.len(), stale)
}
