//! Three nodes in one process on the in-process transport: membership, sharded and replicated
//! writes, exact fan-out reads, and the faults users hit (a node lost, a node cut off and
//! healed, the leader restarted from its RocksDB dir). After each: every acknowledged point is
//! on every active replica, reads through every live node equal a single-node collection
//! holding the acknowledged points (exact strategy), and no replica that missed writes is
//! served as active.

mod common;

use std::time::Duration;

use common::*;
use grove_cluster::{ClusterCollectionConfig, ClusterError, ReplicaState};
use grove_index::Metric;
use grove_storage::CollectionConfig;

fn config(wcf: u32) -> ClusterCollectionConfig {
    let mut c = ClusterCollectionConfig::new(CollectionConfig::new(DIM, Metric::L2), 3, 2);
    c.write_consistency_factor = wcf;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_shard_replicate_and_read_exactly() {
    let c = TestCluster::start(3).await;
    let placement = c.nodes[&2].create_collection("docs", config(2)).await.expect("create");
    assert_eq!(placement, vec![vec![1, 2], vec![2, 3], vec![1, 3]]);
    // Bad requests are refused with what to fix, and change nothing.
    let e =
        c.nodes[&1].create_collection("docs", config(1)).await.expect_err("duplicate with another config");
    assert!(matches!(e, ClusterError::Conflict(_)), "{e}");
    let mut too_many = config(1);
    too_many.replication_factor = 4;
    let e = c.nodes[&1].create_collection("wide", too_many).await.expect_err("rf > nodes");
    assert!(e.to_string().contains("replication_factor 4"), "{e}");
    let e = c.nodes[&3].create_collection("bad.name", config(1)).await.expect_err("bad name");
    assert!(matches!(e, ClusterError::Invalid(_)), "{e}");

    let mut oracle = Oracle::new(Metric::L2);
    let mut r = rng(7);
    for (b, from) in (0..600u64).step_by(50).enumerate() {
        let pts = points(&mut r, from, from + 50);
        let via = &c.nodes[&(b as u64 % 3 + 1)];
        via.upsert("docs", pts.clone()).await.expect("upsert");
        oracle.ack(&pts);
    }
    // Overwrites and deletes go to the same shards.
    let over = points(&mut r, 100, 130);
    c.nodes[&3].upsert("docs", over.clone()).await.expect("overwrite");
    oracle.ack(&over);
    let gone: Vec<grove_storage::PointId> = (200..220).map(grove_storage::PointId::Num).collect();
    c.nodes[&1].delete("docs", gone.clone()).await.expect("delete");
    oracle
        .storage
        .delete_points("oracle", &grove_storage::PointSelector::Ids { points: gone.clone() })
        .expect("oracle delete");
    for id in &gone {
        oracle.acked.remove(id);
    }
    let e = c.nodes[&1]
        .upsert(
            "docs",
            vec![grove_storage::PointStruct { id: 1.into(), vector: vec![0.0; 3], payload: None }],
        )
        .await
        .expect_err("wrong dimension");
    assert!(matches!(e, ClusterError::Invalid(_)), "{e}");

    let (active, inactive) = check_replicas(&c, "docs", &oracle);
    assert_eq!((active, inactive), (6, 0));
    for node in c.nodes.values() {
        check_reads(node, "docs", &oracle, 11 + node.id(), 12).await;
    }
    // Every node's local shards hold only points of their shard.
    let meta = c.nodes[&1].meta();
    let total: u64 = c
        .nodes
        .values()
        .map(|n| {
            meta.shards_on(n.id())
                .iter()
                .map(|(coll, s)| {
                    n.storage()
                        .count(
                            &grove_cluster::local_name(coll, meta.collections[coll].epoch, *s),
                            &grove_storage::CountRequest { filter: None, exact: true },
                        )
                        .expect("local count")
                })
                .sum::<u64>()
        })
        .sum();
    assert_eq!(total, 2 * oracle.acked.len() as u64, "every point on exactly 2 replicas");

    // Drop and recreate: fresh local shards, nothing of the old data.
    c.nodes[&3].drop_collection("docs").await.expect("drop");
    c.nodes[&2].create_collection("docs", config(2)).await.expect("recreate");
    for node in c.nodes.values() {
        assert_eq!(node.count("docs", None).await.expect("count"), 0);
    }
    let stale: usize = c.nodes.values().map(|n| n.storage().list_collections().len()).sum();
    assert_eq!(stale, 6, "old shards dropped, new ones created");
}

/// A client writing seeded batches: an acknowledged batch goes into the oracle; a refused one
/// (a shard without a reachable active replica) may be partly applied, so, as a client would,
/// it is kept and retried until acknowledged.
struct Writer {
    oracle: Oracle,
    rng: rand_chacha::ChaCha8Rng,
    next: u64,
    pending: Vec<Vec<grove_storage::PointStruct>>,
    acked: usize,
    refused: usize,
}

impl Writer {
    async fn write(&mut self, c: &TestCluster, via: u64, n: u64) -> bool {
        let pts = points(&mut self.rng, self.next, self.next + n);
        self.next += n;
        self.send(c, via, pts).await
    }

    async fn send(&mut self, c: &TestCluster, via: u64, pts: Vec<grove_storage::PointStruct>) -> bool {
        match c.nodes[&via].upsert("docs", pts.clone()).await {
            Ok(()) => {
                self.oracle.ack(&pts);
                self.acked += 1;
                true
            }
            Err(e) => {
                eprintln!("write of {} points through {via} not acknowledged: {e}", pts.len());
                self.refused += 1;
                self.pending.push(pts);
                false
            }
        }
    }

    /// Retries every refused batch through `via`; each must be acknowledged now.
    async fn retry(&mut self, c: &TestCluster, via: u64) {
        for pts in std::mem::take(&mut self.pending) {
            c.nodes[&via].upsert("docs", pts.clone()).await.expect("retried write acknowledged");
            self.oracle.ack(&pts);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn node_loss_partition_and_leader_restart() {
    let mut c = TestCluster::start(3).await;
    c.nodes[&1].create_collection("docs", config(1)).await.expect("create");
    let mut w = Writer {
        oracle: Oracle::new(Metric::L2),
        rng: rng(42),
        next: 0,
        pending: Vec::new(),
        acked: 0,
        refused: 0,
    };
    for _ in 0..4 {
        assert!(w.write(&c, 1, 40).await);
    }

    // 1. A follower is lost: writes at consistency factor 1 go on, its replicas are marked dead.
    let leader = c.wait_leader().await;
    let lost = (1..=3).find(|n| *n != leader).expect("a follower");
    c.kill(lost).await;
    for b in 0..6 {
        let via = *c.nodes.keys().nth(b % 2).expect("live node");
        w.write(&c, via, 40).await;
    }
    assert_eq!(w.refused, 0, "every shard keeps a live replica after one loss");
    let meta = c.nodes[&leader].meta();
    for shard in &meta.collections["docs"].shards {
        if let Some(s) = shard.replicas.get(&lost) {
            assert_eq!(*s, ReplicaState::Dead, "the lost node's replica missed writes: {:?}", shard.replicas);
        }
    }
    let (_, dead) = check_replicas(&c, "docs", &w.oracle);
    assert_eq!(dead, 2, "both replicas of the lost node are dead");
    for node in c.nodes.values() {
        check_reads(node, "docs", &w.oracle, 100 + node.id(), 6).await;
    }

    // It comes back from its dir and rejoins; its dead replicas are not served.
    c.open(lost).await;
    c.wait_for("the returned node applies the dead marks", |c| {
        c.nodes[&lost].meta().collections["docs"]
            .shards
            .iter()
            .all(|s| s.replicas.get(&lost) != Some(&ReplicaState::Active))
    })
    .await;
    check_reads(&c.nodes[&lost], "docs", &w.oracle, 200, 6).await;

    // 2. A follower is cut off and healed. While cut off it refuses to serve (it cannot get a
    // read index), rather than answer from metadata that may be stale.
    let leader = c.wait_leader().await;
    let cut = (1..=3)
        .find(|n| *n != leader && *n != lost)
        .unwrap_or_else(|| (1..=3).find(|n| *n != leader).expect("follower"));
    c.net.cut(cut);
    for _ in 0..6 {
        w.write(&c, leader, 40).await;
    }
    let e = c.nodes[&cut].count("docs", None).await.expect_err("a cut-off node must not serve");
    assert!(matches!(e.kind(), grove_cluster::ErrorKind::Unavailable), "{e}");
    c.net.heal(cut);
    let l = c.wait_leader().await;
    w.retry(&c, l).await;
    check_replicas(&c, "docs", &w.oracle);
    for node in c.nodes.values() {
        check_reads(node, "docs", &w.oracle, 300 + node.id(), 6).await;
    }

    // 3. The leader restarts from its RocksDB dir: a new leader is elected, writes go on, the
    // old leader rejoins with its log, metadata and shards.
    let old = c.wait_leader().await;
    c.kill(old).await;
    let new_leader = c.wait_leader().await;
    assert_ne!(new_leader, old);
    for _ in 0..4 {
        w.write(&c, new_leader, 40).await;
    }
    c.open(old).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.wait_leader().await;
    let want = c.nodes[&new_leader].raft().metrics().borrow().last_applied.map(|l| l.index);
    c.wait_for("the restarted leader catches up", |c| {
        c.nodes[&old].raft().metrics().borrow().last_applied.map(|l| l.index) >= want
    })
    .await;
    let l = c.wait_leader().await;
    w.retry(&c, l).await;
    let (active, dead) = check_replicas(&c, "docs", &w.oracle);
    for node in c.nodes.values() {
        check_reads(node, "docs", &w.oracle, 400 + node.id(), 6).await;
    }
    assert!(dead > 0, "the faults left no dead replica: the test exercised nothing");

    // 4. Recovery: each node catches up its dead replicas by streaming transfers while a client
    // keeps writing new points and overwriting old ones (streamed copies of those are older and
    // must lose). Then every replica is active and holds every acknowledged point.
    let l = c.wait_leader().await;
    let via = c.nodes[&l].clone();
    let base = w.next;
    w.next += 1000;
    let bg = tokio::spawn(async move {
        let mut wr = rng(4242);
        let mut done = Vec::new();
        for b in 0..24u64 {
            let pts = if b % 2 == 0 {
                points(&mut wr, base + b * 10, base + b * 10 + 10)
            } else {
                points(&mut wr, b * 13, b * 13 + 20)
            };
            let r = via.upsert("docs", pts.clone()).await;
            done.push((pts, r));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        done
    });
    let (mut copied, mut live) = (0, 0);
    for node in c.nodes.values() {
        for (coll, shard, r) in node.recover_dead_replicas().await {
            let n = r.unwrap_or_else(|e| panic!("recovery of {coll}/{shard} on node {}: {e}", node.id()));
            eprintln!("node {} recovered {coll}/{shard}: {n:?}", node.id());
            copied += n.streamed;
            live += n.live_writes;
        }
    }
    for (pts, r) in bg.await.expect("writer task") {
        match r {
            Ok(()) => w.oracle.ack(&pts),
            Err(e) => {
                eprintln!("concurrent write refused: {e}");
                w.pending.push(pts);
            }
        }
    }
    let l = c.wait_leader().await;
    w.retry(&c, l).await;
    let (active_after, dead_after) = check_replicas(&c, "docs", &w.oracle);
    assert_eq!((active_after, dead_after), (6, 0), "every replica recovered");
    assert!(copied > 0);
    // Whether a live write landed during a transfer depends on timing (a loaded machine can
    // finish every transfer between two batches); tests/cluster.rs's forced-interleaving test
    // covers that path deterministically, so this run only reports it.
    eprintln!("writes that landed during a transfer: {live}");
    for node in c.nodes.values() {
        check_reads(node, "docs", &w.oracle, 500 + node.id(), 6).await;
    }
    eprintln!(
        "batches acknowledged at first try: {}, refused and retried: {}; points acknowledged: {}; \
         replicas active {active}, dead {dead} before recovery; {copied} points streamed",
        w.acked,
        w.refused,
        w.oracle.acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshots_bound_the_log_and_catch_up_a_node_that_missed_it() {
    let mut c = TestCluster::start(3).await;
    // Enough metadata changes for several snapshots (snapshot_after_logs = 20, keep_logs = 5):
    // the log behind them is purged, so a node joining now can only catch up by snapshot.
    for i in 0..30 {
        let name = format!("c{i}");
        c.nodes[&1].create_collection(&name, config(1)).await.expect("create");
        if i % 3 != 0 {
            c.nodes[&2].drop_collection(&name).await.expect("drop");
        }
    }
    let leader = c.wait_leader().await;
    let purged = c.nodes[&leader].raft().metrics().borrow().purged;
    assert!(purged.is_some_and(|p| p.index > 30), "the log was not purged behind a snapshot: {purged:?}");
    let want = c.nodes[&leader].meta();
    assert_eq!(want.collections.len(), 10);

    c.dirs.insert(4, tempfile::tempdir().expect("tempdir"));
    c.open(4).await;
    c.nodes[&3].add_member(4, "node-4").await.expect("add node 4");
    c.wait_for("node 4 installs the snapshot", |c| c.nodes[&4].meta() == want).await;
    let snap = c.nodes[&4].raft().metrics().borrow().snapshot;
    assert!(snap.is_some(), "node 4 caught up without a snapshot");
    assert_eq!(c.nodes[&4].voters(), vec![1, 2, 3, 4]);
    // It holds no replicas of collections placed before it joined; a new one uses it.
    assert!(want.shards_on(4).is_empty());
    c.nodes[&4].create_collection("after", config(1)).await.expect("create on 4 nodes");
    let meta = c.nodes[&4].meta();
    assert_eq!(meta.collections["after"].placement(), vec![vec![1, 2], vec![2, 3], vec![3, 4]]);
    c.wait_for("node 4 creates its shards", |c| c.nodes[&4].storage().list_collections().len() == 1).await;
    // It survives its own restart with the installed state.
    c.kill(4).await;
    c.open(4).await;
    assert_eq!(c.nodes[&4].meta(), meta);
    assert_eq!(c.nodes[&4].voters(), vec![1, 2, 3, 4]);
    assert_eq!(
        c.nodes[&4].storage().list_collections(),
        vec![grove_cluster::local_name("after", meta.collections["after"].epoch, 2)]
    );
}

/// The interleaving a transfer must survive, forced: the source reads a page (old versions),
/// the reply is slow, a live write overwrites those points on both replicas, then the page
/// arrives at the target. The streamed copies are older and must not win.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transfer_never_overwrites_a_live_write_with_an_older_copy() {
    let mut c = TestCluster::start(3).await;
    let mut cfg = ClusterCollectionConfig::new(CollectionConfig::new(DIM, Metric::L2), 1, 2);
    cfg.write_consistency_factor = 1;
    assert_eq!(c.nodes[&1].create_collection("docs", cfg).await.expect("create"), vec![vec![1, 2]]);
    let mut oracle = Oracle::new(Metric::L2);
    let mut r = rng(9);
    let first = points(&mut r, 0, 100);
    c.nodes[&1].upsert("docs", first.clone()).await.expect("write");
    oracle.ack(&first);
    c.kill(2).await;
    let more = points(&mut r, 100, 150);
    c.nodes[&1].upsert("docs", more.clone()).await.expect("write with node 2 down");
    oracle.ack(&more);
    c.open(2).await;
    c.wait_for("node 2 sees its replica dead", |c| {
        c.nodes[&2].meta().collections["docs"].shards[0].replicas[&2] == ReplicaState::Dead
    })
    .await;

    c.net.slow_replies(Some((b"{\"Scroll\"", Duration::from_millis(600))));
    let target = c.nodes[&2].clone();
    let transfer = tokio::spawn(async move { target.recover_replica("docs", 0).await });
    c.wait_for("the transfer starts", |c| {
        c.nodes[&1].meta().collections["docs"].shards[0].replicas[&2] == ReplicaState::Partial
    })
    .await;
    // Let the source read its first page; its reply is now held in the slow link.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let newer = points(&mut r, 0, 150);
    c.nodes[&3].upsert("docs", newer.clone()).await.expect("live write during the transfer");
    oracle.ack(&newer);
    let report = transfer.await.expect("transfer task").expect("transfer");
    c.net.slow_replies(None);
    assert_eq!(check_replicas(&c, "docs", &oracle), (2, 0));
    assert_eq!(report.live_writes, 150, "{report:?}");
    assert_eq!(report.skipped, 150, "every streamed copy was older than the live write: {report:?}");
    for node in c.nodes.values() {
        check_reads(node, "docs", &oracle, 900 + node.id(), 4).await;
    }
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Kill,
    Partition,
    FullRestart,
}

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Repeated faults in a seeded order (`GROVE_CLUSTER_KILLS`, `_PARTITIONS`, `_RESTARTS`:
/// default 3, 2, 1 to keep the suite short; the 10, 5, 3 take about a minute), each followed by convergence: the client retries what was refused and
/// every node recovers its dead replicas. After each: 0 acknowledged points lost, 0 stale
/// active replicas, every replica active, reads equal to the single-node oracle. Prints the
/// counts and the convergence times (measured, not asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_faults_lose_nothing_and_converge() {
    use rand::seq::SliceRandom;
    use rand::Rng;
    let mut schedule = Vec::new();
    schedule.extend(std::iter::repeat_n(Fault::Kill, knob("GROVE_CLUSTER_KILLS", 3)));
    schedule.extend(std::iter::repeat_n(Fault::Partition, knob("GROVE_CLUSTER_PARTITIONS", 2)));
    schedule.extend(std::iter::repeat_n(Fault::FullRestart, knob("GROVE_CLUSTER_RESTARTS", 1)));
    let mut fr = rng(2026);
    schedule.shuffle(&mut fr);

    let mut c = TestCluster::start(3).await;
    c.nodes[&1].create_collection("docs", config(1)).await.expect("create");
    let mut w = Writer {
        oracle: Oracle::new(Metric::L2),
        rng: rng(77),
        next: 0,
        pending: Vec::new(),
        acked: 0,
        refused: 0,
    };
    for _ in 0..3 {
        assert!(w.write(&c, 1, 30).await);
    }
    let mut convergence = Vec::new();
    let (mut lost_total, mut stale_total, mut streamed) = (0, 0, 0);
    for (round, fault) in schedule.iter().enumerate() {
        let victim: u64 = fr.gen_range(1..=3);
        let other = if victim == 3 { 1 } else { victim + 1 };
        match fault {
            Fault::Kill => {
                c.kill(victim).await;
                for _ in 0..3 {
                    w.write(&c, other, 20).await;
                }
                c.open(victim).await;
            }
            Fault::Partition => {
                c.net.cut(victim);
                for _ in 0..3 {
                    w.write(&c, other, 20).await;
                }
                assert!(c.nodes[&victim].count("docs", None).await.is_err(), "a cut-off node served a read");
                c.net.heal(victim);
            }
            Fault::FullRestart => {
                for n in 1..=3 {
                    c.kill(n).await;
                }
                for n in 1..=3 {
                    c.open(n).await;
                }
            }
        }
        let t = std::time::Instant::now();
        let l = c.wait_leader().await;
        w.retry(&c, l).await;
        loop {
            for node in c.nodes.values() {
                for (_, _, r) in node.recover_dead_replicas().await {
                    if let Ok(rep) = r {
                        streamed += rep.streamed;
                    }
                }
            }
            let meta = c.nodes[&c.wait_leader().await].meta();
            if meta.collections["docs"].shards.iter().all(|s| s.active().len() == 2) {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "round {round} ({fault:?}) did not converge: {meta:?}"
            );
        }
        convergence.push(t.elapsed());
        let (lost, stale) = audit(&c, "docs", &w.oracle);
        lost_total += lost;
        stale_total += stale;
        assert_eq!((lost, stale), (0, 0), "round {round} ({fault:?} of node {victim})");
        check_reads(&c.nodes[&other], "docs", &w.oracle, 1000 + round as u64, 2).await;
    }
    convergence.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "faults {} (kills {}, partitions {}, full restarts {}): batches acknowledged at first try {}, \
         refused then retried {}, points acknowledged {}, lost {lost_total}, stale {stale_total}, points streamed by \
         transfers {streamed}; convergence ms min {:.0} median {:.0} max {:.0}",
        schedule.len(),
        schedule.iter().filter(|f| matches!(f, Fault::Kill)).count(),
        schedule.iter().filter(|f| matches!(f, Fault::Partition)).count(),
        schedule.iter().filter(|f| matches!(f, Fault::FullRestart)).count(),
        w.acked,
        w.refused,
        w.oracle.acked.len(),
        ms(convergence[0]),
        ms(convergence[convergence.len() / 2]),
        ms(convergence[convergence.len() - 1]),
    );
}

/// A node that was down comes back and nobody calls recovery: the background loop
/// ([`grove_cluster::ClusterNode::spawn_recovery`]) catches its dead replicas up and activates
/// them. While a transfer runs (held open by slowing its page replies) the replica is
/// `Partial` and reads through every node, the returning one included, still equal the
/// oracle: a replica being filled is never read.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn background_recovery_activates_a_returning_node_and_never_reads_it_early() {
    let mut c = TestCluster::start(3).await;
    c.nodes[&1].create_collection("docs", config(1)).await.expect("create");
    let mut oracle = Oracle::new(Metric::L2);
    let mut r = rng(31);
    for b in 0..4u64 {
        let pts = points(&mut r, b * 50, b * 50 + 50);
        c.nodes[&1].upsert("docs", pts.clone()).await.expect("upsert");
        oracle.ack(&pts);
    }
    c.kill(3).await;
    for b in 4..8u64 {
        let pts = points(&mut r, b * 50, b * 50 + 50);
        c.nodes[&2].upsert("docs", pts.clone()).await.expect("upsert with node 3 down");
        oracle.ack(&pts);
    }
    let (_, dead) = check_replicas(&c, "docs", &oracle);
    assert_eq!(dead, 2, "node 3's two replicas missed writes");
    // Transfer pages (and only they) answer slowly, so the partial state lasts a while.
    c.net.slow_replies(Some((b"{\"Scroll\"", Duration::from_millis(300))));
    c.open(3).await;
    let loops: Vec<_> = c.nodes.values().map(|n| n.spawn_recovery(Duration::from_millis(50))).collect();
    c.wait_for("a transfer to node 3 under way", |c| {
        c.leader().is_some_and(|l| {
            c.nodes[&l].meta().collections["docs"]
                .shards
                .iter()
                .any(|s| s.replicas.get(&3) == Some(&ReplicaState::Partial))
        })
    })
    .await;
    let (active, _) = check_replicas(&c, "docs", &oracle);
    assert!(active < 6, "node 3 is not active everywhere yet");
    for node in c.nodes.values() {
        check_reads(node, "docs", &oracle, 500 + node.id(), 4).await;
    }
    c.net.slow_replies(None);
    c.wait_for("every replica active again", |c| {
        c.leader().is_some_and(|l| {
            c.nodes[&l].meta().collections["docs"].shards.iter().all(|s| s.active().len() == 2)
        })
    })
    .await;
    assert_eq!(audit(&c, "docs", &oracle), (0, 0));
    assert_eq!(check_replicas(&c, "docs", &oracle), (6, 0));
    for node in c.nodes.values() {
        check_reads(node, "docs", &oracle, 600 + node.id(), 4).await;
    }
    for l in loops {
        l.abort();
    }
}
