//! Three nodes in one process talking over real gRPC on loopback ports ([`GrpcTransport`] +
//! [`PeerServer`]): membership by address, replicated writes, exact reads through every node,
//! a node stopped and restarted on its port, and its replicas caught up over the network.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use grove_cluster::grpc::{GrpcTransport, PeerServer};
use grove_cluster::{ClusterCollectionConfig, ClusterNode, NodeId, ReplicaState};
use grove_index::Metric;
use grove_storage::CollectionConfig;

struct Running {
    node: ClusterNode,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

async fn start(id: NodeId, addr: &str, dir: &std::path::Path) -> Running {
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind peer port");
    let node = ClusterNode::open(options(id, dir).with_addr(addr), Arc::new(GrpcTransport::new()))
        .await
        .expect("open");
    let svc = PeerServer::new(node.handler());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let r = tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = r {
            eprintln!("peer server ended: {e}");
        }
    });
    Running { node, stop, server }
}

async fn stop(r: Running) {
    let _ = r.stop.send(());
    r.node.shutdown().await.expect("shutdown");
    let _ = tokio::time::timeout(Duration::from_secs(5), r.server).await;
}

async fn wait(what: &str, f: impl Fn() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(15), "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_over_grpc_on_loopback() {
    // Free loopback ports: bind port 0, note the port, release it for the node.
    let mut addrs = BTreeMap::new();
    for id in 1..=3u64 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("probe port");
        addrs.insert(id, format!("127.0.0.1:{}", l.local_addr().expect("addr").port()));
    }
    let dirs: BTreeMap<NodeId, tempfile::TempDir> =
        (1..=3).map(|id| (id, tempfile::tempdir().expect("tempdir"))).collect();
    let mut nodes = BTreeMap::new();
    for id in 1..=3 {
        nodes.insert(id, start(id, &addrs[&id], dirs[&id].path()).await);
    }
    nodes[&1].node.bootstrap().await.expect("bootstrap");
    for id in 2..=3 {
        nodes[&1].node.add_member(id, addrs[&id].clone()).await.expect("join");
    }
    wait("every node sees three voters", || nodes.values().all(|r| r.node.voters() == vec![1, 2, 3])).await;

    let mut cfg = ClusterCollectionConfig::new(CollectionConfig::new(DIM, Metric::L2), 3, 2);
    cfg.write_consistency_factor = 1;
    nodes[&2].node.create_collection("docs", cfg).await.expect("create");
    let mut oracle = Oracle::new(Metric::L2);
    let mut r = rng(5);
    for b in 0..6u64 {
        let pts = points(&mut r, b * 40, b * 40 + 40);
        nodes[&(b % 3 + 1)].node.upsert("docs", pts.clone()).await.expect("upsert over grpc");
        oracle.ack(&pts);
    }
    for run in nodes.values() {
        check_reads(&run.node, "docs", &oracle, 70 + run.node.id(), 6).await;
    }

    // Node 3 stops; writes at consistency factor 1 go on and mark its replicas dead.
    let three = nodes.remove(&3).expect("node 3");
    stop(three).await;
    for b in 6..9u64 {
        let pts = points(&mut r, b * 40, b * 40 + 40);
        nodes[&1].node.upsert("docs", pts.clone()).await.expect("upsert with node 3 down");
        oracle.ack(&pts);
    }
    for run in nodes.values() {
        check_reads(&run.node, "docs", &oracle, 80 + run.node.id(), 4).await;
    }
    // It restarts on its port from its dir, rejoins, and catches up over the network.
    nodes.insert(3, start(3, &addrs[&3], dirs[&3].path()).await);
    wait("node 3 rejoins", || nodes[&3].node.leader().is_some()).await;
    let n3 = nodes[&3].node.clone();
    wait("node 3 applies its dead marks", || {
        n3.meta().collections["docs"].shards.iter().any(|s| s.replicas.get(&3) == Some(&ReplicaState::Dead))
    })
    .await;
    let mut streamed = 0;
    for (c, s, rep) in n3.recover_dead_replicas().await {
        streamed += rep.unwrap_or_else(|e| panic!("recover {c}/{s}: {e}")).streamed;
    }
    assert!(streamed > 0);
    // Node 1 applies the transfers' last log entries on its own schedule: wait for them.
    let n1 = nodes[&1].node.clone();
    wait("node 1 sees every replica active", || {
        n1.meta().collections["docs"].shards.iter().all(|s| s.active().len() == 2)
    })
    .await;
    for run in nodes.values() {
        check_reads(&run.node, "docs", &oracle, 90 + run.node.id(), 4).await;
    }
    for (_, run) in std::mem::take(&mut nodes) {
        stop(run).await;
    }
}
