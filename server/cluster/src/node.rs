//! One cluster node: its Raft instance, its local storage (one grove-storage collection per
//! shard replica it holds), the request handler other nodes call, and the data path (writes to
//! the replicas of a shard at the write consistency factor, reads fanned out to one active
//! replica per shard and merged exactly).
//!
//! Consistency rules the data path keeps:
//! - Every client operation starts from a *fresh* view of the metadata: the leader's read index
//!   (openraft's linearizable read), then this node waits until it has applied that index. A
//!   node cut off from the leader cannot get one, so it refuses to serve rather than serve from
//!   metadata that may already have retired its replicas.
//! - A write is acknowledged only when `write_consistency_factor` active replicas hold it
//!   durably AND every replica that missed it has been marked dead through the Raft log, by a
//!   command the state machine rejects if one of the acknowledging replicas was retired in the
//!   meantime. So once acknowledged, a point is on every replica that any fresh reader can
//!   treat as active.
//! - A replica checks its own (at least as fresh) metadata before it serves or takes a write:
//!   a replica the log marked dead answers neither.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use grove_index::Strategy;
use grove_storage::{
    CountRequest, Filter, PointId, PointSelector, PointStruct, QueryRequest, Record, ScoredPoint, Storage,
    StorageOptions, WithPayload,
};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{ChangeMembers, Raft, SnapshotPolicy};
use parking_lot::RwLock;

use crate::error::{ClusterError, Result};
use crate::hash::shard_of;
use crate::meta::{
    ClusterCollectionConfig, ClusterMeta, CollectionMeta, Command, CommandResult, NodeId, ReplicaState,
    Transfer,
};
use crate::raft::{Member, Network, TypeConfig};
use crate::rpc::{self, RemoteFail, Reply, Request, ShardAddr};
use crate::store::{AppliedState, ApplyHook, LogStore, StateMachineStore};
use crate::transport::{BoxFuture, Handler, Transport};

/// One replica's answer to a write: node, its state when sent, result.
type ReplicaOutcome = (NodeId, ReplicaState, std::result::Result<(), RemoteFail>);

/// How a node is started.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// This node's id (stable across restarts; 0 is not allowed).
    pub id: NodeId,
    /// Its internal peer address (what other nodes dial; opaque to the in-process transport).
    pub addr: String,
    /// Its data dir (RocksDB with the shards and the Raft log).
    pub data_dir: PathBuf,
    /// Storage options for the shard collections.
    pub storage: StorageOptions,
    /// Raft heartbeat interval, milliseconds.
    pub heartbeat_ms: u64,
    /// Raft election timeout range, milliseconds.
    pub election_timeout_ms: (u64, u64),
    /// A snapshot is built after this many log entries since the last one (keeps the log
    /// bounded).
    pub snapshot_after_logs: u64,
    /// Entries kept in the log behind a snapshot (lets a briefly lagging follower catch up
    /// from the log instead of a snapshot).
    pub keep_logs: u64,
    /// Purged log entries are deleted in batches of at least this many.
    pub purge_batch_logs: u64,
    /// Deadline of one call to another node.
    pub rpc_timeout: Duration,
    /// How long an operation waits for a leader, or for this node to apply what it must see.
    pub op_timeout: Duration,
}

impl NodeOptions {
    /// Defaults for node `id` at `data_dir`.
    pub fn new(id: NodeId, addr: impl Into<String>, data_dir: impl Into<PathBuf>) -> Self {
        NodeOptions {
            id,
            addr: addr.into(),
            data_dir: data_dir.into(),
            storage: StorageOptions::default(),
            heartbeat_ms: 100,
            election_timeout_ms: (400, 800),
            snapshot_after_logs: 1000,
            keep_logs: 200,
            purge_batch_logs: 256,
            rpc_timeout: Duration::from_secs(2),
            op_timeout: Duration::from_secs(10),
        }
    }
}

/// Times a write is planned again after meeting a shard whose replica set grew meanwhile.
const STALE_RETRIES: usize = 5;

/// Page size of a shard transfer.
const TRANSFER_PAGE: usize = 256;

impl NodeOptions {
    /// The same options with another peer address.
    pub fn with_addr(mut self, addr: impl Into<String>) -> Self {
        self.addr = addr.into();
        self
    }
}

/// The local collection holding replica `shard` of `collection` created at log index `epoch`.
/// The epoch makes a dropped-and-recreated collection use fresh local collections even when
/// the drop and the create are applied in one batch.
pub fn local_name(collection: &str, epoch: u64, shard: u32) -> String {
    format!("{collection}.{epoch}.{shard}")
}

/// Creates and drops local shard collections to match the applied metadata.
#[derive(Debug)]
struct ShardKeeper {
    id: NodeId,
    storage: Arc<Storage>,
    transport: Arc<dyn Transport>,
}

impl ShardKeeper {
    fn reconcile(&self, meta: &ClusterMeta) {
        let mut wanted = BTreeSet::new();
        for (name, shard) in meta.shards_on(self.id) {
            let Some(c) = meta.collections.get(&name) else { continue };
            let local = local_name(&name, c.epoch, shard);
            if self.storage.collection_info(&local).is_err() {
                if let Err(e) = self.storage.create_collection(&local, c.config.vectors.clone()) {
                    // The replica then fails its writes and the writers mark it dead.
                    tracing::error!(collection = %local, error = %e, "cannot create local shard");
                }
            }
            wanted.insert(local);
        }
        for local in self.storage.list_collections() {
            if !wanted.contains(&local) {
                if let Err(e) = self.storage.delete_collection(&local) {
                    tracing::error!(collection = %local, error = %e, "cannot drop local shard");
                }
            }
        }
    }
}

impl ApplyHook for ShardKeeper {
    fn applied(&self, state: &AppliedState) {
        // Every member's address, for the data path (Raft learns only the peers it replicates to).
        for (id, m) in state.membership.membership().nodes() {
            self.transport.learn(*id, &m.addr);
        }
        self.reconcile(&state.meta);
    }
}

struct Inner {
    opts: NodeOptions,
    raft: Raft<TypeConfig>,
    storage: Arc<Storage>,
    state: Arc<RwLock<AppliedState>>,
    transport: Arc<dyn Transport>,
    /// Rotates the replica a read tries first, so reads spread over replicas.
    rr: AtomicU64,
    /// Per local shard: writes hold it shared from their fence check to their commit; a
    /// transfer's first read takes it exclusively once, so it starts after every write planned
    /// before the fence has landed.
    shard_locks: parking_lot::Mutex<HashMap<String, Arc<tokio::sync::RwLock<()>>>>,
    /// Per local shard being filled by a transfer: the ids live writes touched since the
    /// transfer began (streamed copies of those are older and skipped). Its mutex orders live
    /// writes and streamed batches.
    receiving: parking_lot::Mutex<HashMap<String, Arc<tokio::sync::Mutex<HashSet<PointId>>>>>,
    /// Set when [`ClusterNode::shutdown`] begins: the background recovery loop ends.
    stopping: std::sync::atomic::AtomicBool,
}

/// A running cluster node. Cheap to clone.
#[derive(Clone)]
pub struct ClusterNode {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNode").field("id", &self.inner.opts.id).finish()
    }
}

/// Raft's state on one node, as status pages show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftStatus {
    /// Current term.
    pub term: u64,
    /// Last applied log index.
    pub applied: u64,
    /// The leader this node follows, if any.
    pub leader: Option<NodeId>,
    /// Qdrant's role names: Leader, Follower, Candidate, Learner (or Shutdown).
    pub role: &'static str,
}

/// What a shard transfer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferReport {
    /// Points copied from the source.
    pub streamed: u64,
    /// Streamed points skipped because a live write had touched them first.
    pub skipped: u64,
    /// Distinct ids live writes touched on the target during the transfer.
    pub live_writes: u64,
}

/// One search across the shards.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Query vector.
    pub vector: Vec<f32>,
    /// k.
    pub limit: usize,
    /// Optional filter.
    pub filter: Option<Filter>,
    /// Strategy every shard uses (auto: each shard's planner decides on its own cardinality).
    pub strategy: Strategy,
    /// Payloads to return (fetched after the merge, for the winners only).
    pub with_payload: WithPayload,
    /// Drop hits scoring worse than this (user-facing score), on every shard.
    pub score_threshold: Option<f32>,
    /// Graph beam width on every shard (`None`: each shard's default).
    pub ef: Option<usize>,
}

impl SearchRequest {
    /// The k nearest points, auto strategy, no filter, no payload.
    pub fn new(vector: Vec<f32>, limit: usize) -> Self {
        SearchRequest {
            vector,
            limit,
            filter: None,
            strategy: Strategy::Auto,
            with_payload: WithPayload::All(false),
            score_threshold: None,
            ef: None,
        }
    }
}

fn raft_err(e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Raft(e.to_string())
}

fn fail_to_error(e: RemoteFail) -> ClusterError {
    match e {
        RemoteFail::Invalid(m) => ClusterError::Invalid(m),
        RemoteFail::NotFound(m) => ClusterError::Invalid(m),
        RemoteFail::NotLeader(_) | RemoteFail::Unavailable(_) => ClusterError::Retry(e.to_string()),
        RemoteFail::Stale(m) => ClusterError::StaleView(m),
    }
}

fn storage_fail(e: grove_storage::StorageError) -> RemoteFail {
    match e.kind() {
        grove_storage::ErrorKind::InvalidArgument => RemoteFail::Invalid(e.to_string()),
        grove_storage::ErrorKind::NotFound => RemoteFail::NotFound(e.to_string()),
        grove_storage::ErrorKind::Conflict
        | grove_storage::ErrorKind::Internal
        | grove_storage::ErrorKind::Stopped => RemoteFail::Unavailable(e.to_string()),
    }
}

/// Runs blocking storage work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, RemoteFail> + Send + 'static,
) -> std::result::Result<T, RemoteFail> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(RemoteFail::Unavailable(format!("storage task failed: {e}"))),
    }
}

impl ClusterNode {
    /// Opens the node's data dir (shards and Raft log) and starts its Raft instance. The node
    /// is not reachable until its [`ClusterNode::handler`] is registered with the transport,
    /// and not part of a cluster until [`ClusterNode::bootstrap`] or a leader's
    /// [`ClusterNode::add_member`] (a restarted node rejoins by itself).
    pub async fn open(opts: NodeOptions, transport: Arc<dyn Transport>) -> Result<ClusterNode> {
        if opts.id == 0 {
            return Err(ClusterError::Invalid("node id 0 is reserved; use 1 or more".into()));
        }
        let dir = opts.data_dir.clone();
        let sopts = opts.storage.clone();
        let storage = match tokio::task::spawn_blocking(move || Storage::open_with(dir, sopts)).await {
            Ok(r) => Arc::new(r?),
            Err(e) => return Err(ClusterError::Raft(format!("open task failed: {e}"))),
        };
        let kv = storage.kv();
        let log = LogStore::open(Arc::clone(&kv)).map_err(raft_err)?;
        let keeper = Arc::new(ShardKeeper {
            id: opts.id,
            storage: Arc::clone(&storage),
            transport: Arc::clone(&transport),
        });
        let sm = StateMachineStore::open(kv, Arc::clone(&keeper) as Arc<dyn ApplyHook>).map_err(raft_err)?;
        let state = sm.state();
        // A crash between a persisted apply and its local shard changes is repaired here.
        {
            let st = state.read().clone();
            let k = Arc::clone(&keeper);
            tokio::task::spawn_blocking(move || k.applied(&st)).await.map_err(raft_err)?;
        }
        let config = openraft::Config {
            cluster_name: "grove".into(),
            heartbeat_interval: opts.heartbeat_ms,
            election_timeout_min: opts.election_timeout_ms.0,
            election_timeout_max: opts.election_timeout_ms.1,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(opts.snapshot_after_logs),
            max_in_snapshot_log_to_keep: opts.keep_logs,
            purge_batch_size: opts.purge_batch_logs,
            ..Default::default()
        }
        .validate()
        .map_err(|e| ClusterError::Invalid(format!("raft config: {e}")))?;
        let raft = Raft::new(opts.id, Arc::new(config), Network::new(Arc::clone(&transport)), log, sm)
            .await
            .map_err(raft_err)?;
        Ok(ClusterNode {
            inner: Arc::new(Inner {
                opts,
                raft,
                storage,
                state,
                transport,
                rr: AtomicU64::new(0),
                shard_locks: Default::default(),
                receiving: Default::default(),
                stopping: Default::default(),
            }),
        })
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.inner.opts.id
    }

    /// This node's peer address (what the others dial).
    pub fn addr(&self) -> &str {
        &self.inner.opts.addr
    }

    /// Every member and its peer address, as this node last applied them.
    pub fn members(&self) -> Vec<(NodeId, String)> {
        let st = self.inner.state.read();
        st.membership.membership().nodes().map(|(id, m)| (*id, m.addr.clone())).collect()
    }

    /// Whether this node has a membership (bootstrapped, joined, or restarted after either).
    pub fn is_member(&self) -> bool {
        self.members().iter().any(|(id, _)| *id == self.id())
    }

    /// The handler to register with the transport (holds the node weakly: dropping every
    /// [`ClusterNode`] handle ends it).
    pub fn handler(&self) -> Arc<dyn Handler> {
        Arc::new(NodeHandler { inner: Arc::downgrade(&self.inner) })
    }

    /// The node's local storage (its shard replicas, named by [`local_name`]).
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// The applied metadata as this node knows it (possibly behind the leader).
    pub fn meta(&self) -> ClusterMeta {
        self.inner.state.read().meta.clone()
    }

    /// The applied voters as this node knows them.
    pub fn voters(&self) -> Vec<NodeId> {
        self.inner.state.read().voters()
    }

    /// The leader this node currently follows, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.inner.raft.metrics().borrow().current_leader
    }

    /// Raft's state as this node sees it (for status pages).
    pub fn raft_status(&self) -> RaftStatus {
        let m = self.inner.raft.metrics().borrow().clone();
        RaftStatus {
            term: m.current_term,
            applied: m.last_applied.map_or(0, |l| l.index),
            leader: m.current_leader,
            role: match m.state {
                openraft::ServerState::Leader => "Leader",
                openraft::ServerState::Candidate => "Candidate",
                openraft::ServerState::Learner => "Learner",
                openraft::ServerState::Follower => "Follower",
                openraft::ServerState::Shutdown => "Shutdown",
            },
        }
    }

    /// The Raft handle (metrics, waiting, triggers).
    pub fn raft(&self) -> &Raft<TypeConfig> {
        &self.inner.raft
    }

    /// Makes this pristine node a cluster of one. Harmless on a node that is already
    /// initialised (a restart with `--bootstrap`).
    pub async fn bootstrap(&self) -> Result<()> {
        let me = BTreeMap::from([(self.id(), Member { addr: self.inner.opts.addr.clone() })]);
        match self.inner.raft.initialize(me).await {
            Ok(()) => Ok(()),
            Err(RaftError::APIError(openraft::error::InitializeError::NotAllowed(_))) => Ok(()),
            Err(e) => Err(raft_err(e)),
        }
    }

    /// Adds node `id` (reachable at `addr`) as a voter: first a learner that catches up, then a
    /// membership change. Forwarded to the leader.
    pub async fn add_member(&self, id: NodeId, addr: impl Into<String>) -> Result<()> {
        let member = Member { addr: addr.into() };
        let deadline = Instant::now() + self.inner.opts.op_timeout;
        loop {
            match self.leader_or_wait(deadline).await? {
                l if l == self.id() => {
                    return self.inner.add_member_local(id, member).await.map_err(fail_to_error)
                }
                l => match self.call(l, &Request::AddMember { id, member: member.clone() }).await {
                    Ok(Reply::Added(Ok(()))) => return Ok(()),
                    Ok(Reply::Added(Err(RemoteFail::NotLeader(_)))) | Err(_) => {}
                    Ok(Reply::Added(Err(e))) => return Err(fail_to_error(e)),
                    Ok(other) => {
                        return Err(ClusterError::Raft(format!("unexpected reply {}", other.kind())))
                    }
                },
            }
            if Instant::now() > deadline {
                return Err(ClusterError::NoLeader(self.inner.opts.op_timeout));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops Raft, then waits (at most `op_timeout`) until the tasks that still use the node
    /// (requests in flight, openraft's state-machine worker) are gone, so that dropping this
    /// last handle closes the storage and another process, or a test, can reopen the dir.
    pub async fn shutdown(&self) -> Result<()> {
        self.inner.stopping.store(true, Ordering::Relaxed);
        self.inner.raft.shutdown().await.map_err(raft_err)?;
        let deadline = Instant::now() + self.inner.opts.op_timeout;
        while Arc::strong_count(&self.inner) > 1 || Arc::strong_count(&self.inner.storage) > 1 {
            if Instant::now() > deadline {
                tracing::warn!(
                    node = self.id(),
                    handles = Arc::strong_count(&self.inner),
                    storage = Arc::strong_count(&self.inner.storage),
                    "node still in use after shutdown"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let storage = Arc::clone(&self.inner.storage);
        tokio::task::spawn_blocking(move || storage.flush()).await.map_err(raft_err)??;
        Ok(())
    }

    async fn call(
        &self,
        target: NodeId,
        req: &Request,
    ) -> std::result::Result<Reply, crate::transport::TransportError> {
        rpc::call(&*self.inner.transport, target, req, self.inner.opts.rpc_timeout).await
    }

    async fn leader_or_wait(&self, deadline: Instant) -> Result<NodeId> {
        loop {
            if let Some(l) = self.leader() {
                return Ok(l);
            }
            if Instant::now() > deadline {
                return Err(ClusterError::NoLeader(self.inner.opts.op_timeout));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Proposes `cmd` through the leader; returns its result once this node has applied it.
    async fn propose(&self, cmd: Command) -> Result<CommandResult> {
        let deadline = Instant::now() + self.inner.opts.op_timeout;
        loop {
            let leader = self.leader_or_wait(deadline).await?;
            let out = if leader == self.id() {
                self.inner.propose_local(cmd.clone()).await
            } else {
                match self.call(leader, &Request::Propose(cmd.clone())).await {
                    Ok(Reply::Proposed(r)) => r,
                    Ok(other) => Err(RemoteFail::Unavailable(format!("unexpected reply {}", other.kind()))),
                    Err(e) => Err(RemoteFail::Unavailable(e.to_string())),
                }
            };
            match out {
                Ok((result, index)) => {
                    self.inner.wait_applied(index).await.map_err(fail_to_error)?;
                    return Ok(result);
                }
                Err(RemoteFail::NotLeader(_)) | Err(RemoteFail::Unavailable(_))
                    if Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(RemoteFail::NotLeader(_)) => {
                    return Err(ClusterError::NoLeader(self.inner.opts.op_timeout))
                }
                Err(e) => return Err(fail_to_error(e)),
            }
        }
    }

    /// A linearizable view: the leader's read index, applied here. Returns the applied index.
    async fn fresh(&self) -> Result<u64> {
        let deadline = Instant::now() + self.inner.opts.op_timeout;
        loop {
            let leader = self.leader_or_wait(deadline).await?;
            let index = if leader == self.id() {
                self.inner.read_index_local().await
            } else {
                match self.call(leader, &Request::ReadIndex).await {
                    Ok(Reply::ReadIndex(r)) => r,
                    Ok(other) => Err(RemoteFail::Unavailable(format!("unexpected reply {}", other.kind()))),
                    Err(e) => Err(RemoteFail::Unavailable(e.to_string())),
                }
            };
            match index {
                Ok(i) => {
                    self.inner.wait_applied(i).await.map_err(fail_to_error)?;
                    return Ok(self.inner.applied_index().max(i));
                }
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(_) => return Err(ClusterError::NoLeader(self.inner.opts.op_timeout)),
            }
        }
    }

    fn collection(&self, name: &str) -> Result<CollectionMeta> {
        self.inner
            .state
            .read()
            .meta
            .collections
            .get(name)
            .cloned()
            .ok_or_else(|| ClusterError::CollectionNotFound(name.to_string()))
    }

    /// Creates a collection over the cluster; returns its placement (shard -> replica nodes).
    /// Every node holding a replica has created its local shard once it applies the entry.
    pub async fn create_collection(
        &self,
        name: &str,
        config: ClusterCollectionConfig,
    ) -> Result<Vec<Vec<NodeId>>> {
        validate_collection_name(name)?;
        match self.propose(Command::CreateCollection { name: name.to_string(), config }).await? {
            CommandResult::Created(p) => Ok(p),
            CommandResult::Rejected(e) if e.contains("already exists") => Err(ClusterError::Conflict(e)),
            CommandResult::Rejected(e) => Err(ClusterError::Invalid(e)),
            CommandResult::Done => Err(ClusterError::Raft("create answered without a placement".into())),
        }
    }

    /// Drops a collection everywhere.
    pub async fn drop_collection(&self, name: &str) -> Result<()> {
        match self.propose(Command::DropCollection { name: name.to_string() }).await? {
            CommandResult::Rejected(_) => Err(ClusterError::CollectionNotFound(name.to_string())),
            _ => Ok(()),
        }
    }

    /// Sets one replica's state (operator action, or a recovery step).
    pub async fn set_replica_state(
        &self,
        collection: &str,
        shard: u32,
        node: NodeId,
        state: ReplicaState,
    ) -> Result<()> {
        match self
            .propose(Command::SetReplicaState { collection: collection.to_string(), shard, node, state })
            .await?
        {
            CommandResult::Rejected(e) => Err(ClusterError::Invalid(e)),
            _ => Ok(()),
        }
    }

    /// Upserts points: each goes to every replica of its shard that takes writes, and the call
    /// returns once every shard's write is acknowledged (see the module docs).
    pub async fn upsert(&self, collection: &str, points: Vec<PointStruct>) -> Result<()> {
        let mut attempt = 0;
        loop {
            match self.upsert_once(collection, points.clone()).await {
                Err(ClusterError::StaleView(_)) if attempt < STALE_RETRIES => attempt += 1,
                r => return r,
            }
        }
    }

    async fn upsert_once(&self, collection: &str, points: Vec<PointStruct>) -> Result<()> {
        let applied = self.fresh().await?;
        let meta = self.collection(collection)?;
        // The cluster serves the unnamed vector.
        let dim = meta.config.vectors.vector("").map_err(|e| ClusterError::Invalid(e.to_string()))?.dimension;
        if let Some(p) = points.iter().find(|p| p.vector.len() != dim) {
            return Err(ClusterError::Invalid(format!(
                "point {}: vector has {} dimensions, the collection has {dim}",
                p.id,
                p.vector.len()
            )));
        }
        if let Some(p) = points.iter().find(|p| p.vector.iter().any(|x| !x.is_finite())) {
            return Err(ClusterError::Invalid(format!(
                "point {}: vector has a NaN or infinite component",
                p.id
            )));
        }
        let mut by_shard: BTreeMap<u32, Vec<PointStruct>> = BTreeMap::new();
        for p in points {
            by_shard.entry(shard_of(&p.id, meta.config.shard_number)).or_default().push(p);
        }
        let writes = by_shard.into_iter().map(|(shard, points)| {
            let addr = ShardAddr { collection: collection.to_string(), shard, min_applied: applied };
            (shard, move |_: NodeId| Request::Upsert { shard: addr.clone(), points: points.clone() })
        });
        self.write_shards(collection, &meta, writes.collect()).await
    }

    /// Deletes points by id (same acknowledgement rule as [`ClusterNode::upsert`]).
    pub async fn delete(&self, collection: &str, ids: Vec<PointId>) -> Result<()> {
        let mut attempt = 0;
        loop {
            match self.delete_once(collection, ids.clone()).await {
                Err(ClusterError::StaleView(_)) if attempt < STALE_RETRIES => attempt += 1,
                r => return r,
            }
        }
    }

    async fn delete_once(&self, collection: &str, ids: Vec<PointId>) -> Result<()> {
        let applied = self.fresh().await?;
        let meta = self.collection(collection)?;
        let mut by_shard: BTreeMap<u32, Vec<PointId>> = BTreeMap::new();
        for id in ids {
            by_shard.entry(shard_of(&id, meta.config.shard_number)).or_default().push(id);
        }
        let writes = by_shard.into_iter().map(|(shard, ids)| {
            let addr = ShardAddr { collection: collection.to_string(), shard, min_applied: applied };
            (shard, move |_: NodeId| Request::Delete { shard: addr.clone(), ids: ids.clone() })
        });
        self.write_shards(collection, &meta, writes.collect()).await
    }

    async fn write_shards<F>(
        &self,
        collection: &str,
        meta: &CollectionMeta,
        writes: Vec<(u32, F)>,
    ) -> Result<()>
    where
        F: Fn(NodeId) -> Request,
    {
        let mut tasks = tokio::task::JoinSet::new();
        for (shard, make) in writes {
            let Some(info) = meta.shards.get(shard as usize) else {
                return Err(ClusterError::Raft(format!("shard {shard} missing from the metadata")));
            };
            for (node, state) in &info.replicas {
                if !state.receives_writes() {
                    continue;
                }
                let me = self.clone();
                let (node, state, req) = (*node, *state, make(*node));
                tasks.spawn(async move { (shard, node, state, me.send_write(node, req).await) });
            }
        }
        let mut results: BTreeMap<u32, Vec<ReplicaOutcome>> = BTreeMap::new();
        while let Some(r) = tasks.join_next().await {
            let (shard, node, state, res) =
                r.map_err(|e| ClusterError::Raft(format!("write task failed: {e}")))?;
            results.entry(shard).or_default().push((node, state, res));
        }
        let wcf = meta.config.write_consistency_factor as usize;
        let mut first_err = None;
        for (shard, res) in results {
            if let Some((_, _, Err(RemoteFail::Stale(m)))) =
                res.iter().find(|(_, _, r)| matches!(r, Err(RemoteFail::Stale(_))))
            {
                first_err.get_or_insert(ClusterError::StaleView(m.clone()));
                continue;
            }
            if let Some((_, _, Err(RemoteFail::Invalid(m)))) =
                res.iter().find(|(_, _, r)| matches!(r, Err(RemoteFail::Invalid(_))))
            {
                first_err.get_or_insert(ClusterError::Invalid(m.clone()));
                continue;
            }
            let acked: Vec<NodeId> = res
                .iter()
                .filter(|(_, s, r)| *s == ReplicaState::Active && r.is_ok())
                .map(|(n, _, _)| *n)
                .collect();
            let missed: Vec<NodeId> = res.iter().filter(|(_, _, r)| r.is_err()).map(|(n, _, _)| *n).collect();
            if acked.len() < wcf {
                first_err.get_or_insert(ClusterError::NotEnoughReplicas {
                    collection: collection.to_string(),
                    shard,
                    acked: acked.len(),
                    needed: wcf,
                });
                continue;
            }
            if !missed.is_empty() {
                tracing::warn!(
                    collection,
                    shard,
                    ?missed,
                    ?acked,
                    "replicas missed a write; marking them dead"
                );
                let cmd = Command::MarkDead {
                    collection: collection.to_string(),
                    shard,
                    dead: missed,
                    acked_by: acked,
                };
                match self.propose(cmd).await {
                    Ok(CommandResult::Rejected(e)) => {
                        first_err.get_or_insert(ClusterError::Retry(e));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn send_write(&self, node: NodeId, req: Request) -> std::result::Result<(), RemoteFail> {
        let reply =
            if node == self.id() { Ok(self.inner.serve(req).await) } else { self.call(node, &req).await };
        match reply {
            Ok(Reply::Written(r)) => r,
            Ok(other) => Err(RemoteFail::Unavailable(format!("unexpected reply {}", other.kind()))),
            Err(e) => Err(RemoteFail::Unavailable(e.to_string())),
        }
    }

    /// Sends `req` to the active replicas of a shard in turn (this node first if it holds one,
    /// else starting from a rotating position) until one answers; returns the answer and who
    /// gave it.
    async fn read_shard(
        &self,
        info: &[NodeId],
        make: impl Fn() -> Request,
    ) -> std::result::Result<(NodeId, Reply), RemoteFail> {
        let mut order: Vec<NodeId> = info.to_vec();
        if let Some(pos) = order.iter().position(|n| *n == self.id()) {
            order.rotate_left(pos);
        } else if !order.is_empty() {
            let r = self.inner.rr.fetch_add(1, Ordering::Relaxed) as usize % order.len();
            order.rotate_left(r);
        }
        let mut last = RemoteFail::Unavailable("no active replica".into());
        for node in order {
            let reply = if node == self.id() {
                Ok(self.inner.serve(make()).await)
            } else {
                self.call(node, &make()).await
            };
            match reply {
                Ok(Reply::Hits(Err(e)))
                | Ok(Reply::Records(Err(e)))
                | Ok(Reply::Count(Err(e)))
                | Ok(Reply::Page(Err(e))) => {
                    if matches!(e, RemoteFail::Invalid(_)) {
                        return Err(e);
                    }
                    last = e;
                }
                Ok(r) => return Ok((node, r)),
                Err(e) => last = RemoteFail::Unavailable(e.to_string()),
            }
        }
        Err(last)
    }

    /// The `limit` nearest points over all shards: each shard's top-k from one active replica,
    /// merged exactly (by score, then id), payloads fetched for the winners only.
    pub async fn search(&self, collection: &str, req: &SearchRequest) -> Result<Vec<ScoredPoint>> {
        let applied = self.fresh().await?;
        let meta = self.collection(collection)?;
        let higher_better = meta
            .config
            .vectors
            .vector("")
            .map_err(|e| ClusterError::Invalid(e.to_string()))?
            .metric
            .higher_is_better();
        let mut q = QueryRequest::new(req.vector.clone(), req.limit);
        q.filter = req.filter.clone();
        q.strategy = req.strategy;
        q.score_threshold = req.score_threshold;
        q.ef = req.ef;
        let mut tasks = tokio::task::JoinSet::new();
        for (shard, info) in meta.shards.iter().enumerate() {
            let shard = shard as u32;
            let active = info.active();
            let me = self.clone();
            let addr = ShardAddr { collection: collection.to_string(), shard, min_applied: applied };
            let q = q.clone();
            tasks.spawn(async move {
                let r = me
                    .read_shard(&active, || Request::Search { shard: addr.clone(), query: q.clone() })
                    .await;
                (shard, r)
            });
        }
        let mut hits: Vec<(ScoredPoint, u32, NodeId)> = Vec::new();
        while let Some(r) = tasks.join_next().await {
            let (shard, r) = r.map_err(|e| ClusterError::Raft(format!("search task failed: {e}")))?;
            match r {
                Ok((node, Reply::Hits(Ok(h)))) => hits.extend(h.into_iter().map(|p| (p, shard, node))),
                Ok((_, other)) => {
                    return Err(ClusterError::Raft(format!("unexpected reply {}", other.kind())))
                }
                Err(RemoteFail::Invalid(m)) => return Err(ClusterError::Invalid(m)),
                Err(_) => {
                    return Err(ClusterError::ShardUnavailable { collection: collection.to_string(), shard })
                }
            }
        }
        hits.sort_by(|a, b| {
            let by_score =
                if higher_better { b.0.score.total_cmp(&a.0.score) } else { a.0.score.total_cmp(&b.0.score) };
            by_score.then_with(|| a.0.id.cmp(&b.0.id))
        });
        hits.truncate(req.limit);
        if req.with_payload.wants_payload() && !hits.is_empty() {
            let mut by_replica: BTreeMap<(u32, NodeId), Vec<PointId>> = BTreeMap::new();
            for (p, shard, node) in &hits {
                by_replica.entry((*shard, *node)).or_default().push(p.id);
            }
            let mut payloads = BTreeMap::new();
            for ((shard, node), ids) in by_replica {
                let addr = ShardAddr { collection: collection.to_string(), shard, min_applied: applied };
                // The replica that ranked them first; the other active ones if it is gone now.
                let mut order = vec![node];
                order.extend(meta.shards[shard as usize].active().into_iter().filter(|n| *n != node));
                let wp = req.with_payload.clone();
                let (_, reply) = self
                    .read_shard(&order, || Request::Get {
                        shard: addr.clone(),
                        ids: ids.clone(),
                        with_payload: wp.clone(),
                    })
                    .await
                    .map_err(|_| ClusterError::ShardUnavailable {
                        collection: collection.to_string(),
                        shard,
                    })?;
                match reply {
                    Reply::Records(Ok(recs)) => {
                        payloads.extend(recs.into_iter().map(|r: Record| (r.id, r.payload)))
                    }
                    other => return Err(ClusterError::Raft(format!("unexpected reply {}", other.kind()))),
                }
            }
            for (p, _, _) in &mut hits {
                p.payload = payloads.remove(&p.id).flatten();
            }
        }
        Ok(hits.into_iter().map(|(p, _, _)| p).collect())
    }

    /// Points by id, each from one active replica of its shard; ids not found are left out.
    /// Returned in the order asked.
    pub async fn get(
        &self,
        collection: &str,
        ids: &[PointId],
        with_payload: WithPayload,
    ) -> Result<Vec<Record>> {
        let applied = self.fresh().await?;
        let meta = self.collection(collection)?;
        let mut by_shard: BTreeMap<u32, Vec<PointId>> = BTreeMap::new();
        for id in ids {
            by_shard.entry(shard_of(id, meta.config.shard_number)).or_default().push(*id);
        }
        let mut found: HashMap<PointId, Record> = HashMap::new();
        for (shard, ids) in by_shard {
            let info = meta
                .shards
                .get(shard as usize)
                .ok_or_else(|| ClusterError::Raft(format!("shard {shard} missing from the metadata")))?;
            let addr = ShardAddr { collection: collection.to_string(), shard, min_applied: applied };
            let wp = with_payload.clone();
            match self
                .read_shard(&info.active(), || Request::Get {
                    shard: addr.clone(),
                    ids: ids.clone(),
                    with_payload: wp.clone(),
                })
                .await
            {
                Ok((_, Reply::Records(Ok(recs)))) => found.extend(recs.into_iter().map(|r| (r.id, r))),
                Ok((_, other)) => {
                    return Err(ClusterError::Raft(format!("unexpected reply {}", other.kind())))
                }
                Err(RemoteFail::Invalid(m)) => return Err(ClusterError::Invalid(m)),
                Err(_) => {
                    return Err(ClusterError::ShardUnavailable { collection: collection.to_string(), shard })
                }
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// A page of the points matching `req.filter` over all shards, in id order (each shard
    /// pages in id order: the first `limit` of the merged pages are the first `limit` overall).
    /// Returns the points and the next page's offset.
    pub async fn scroll(
        &self,
        collection: &str,
        req: &grove_storage::ScrollRequest,
    ) -> Result<(Vec<Record>, Option<PointId>)> {
        if req.order_by.is_some() {
            // The shards' pages are merged in id order; a value order needs its own merge.
            return Err(ClusterError::Invalid("scroll order_by is not supported in cluster mode yet".into()));
        }
        let applied = self.fresh().await?;
        let meta = self.collection(collection)?;
        let limit = req.limit.max(1);
        // One more than asked from each shard: the smallest id left over is the next offset.
        let page = grove_storage::ScrollRequest { limit: limit + 1, ..req.clone() };
        let mut tasks = tokio::task::JoinSet::new();
        for (shard, info) in meta.shards.iter().enumerate() {
            let shard = shard as u32;
            let active = info.active();
            let me = self.clone();
            let addr = ShardAddr { collection: collection.to_string(), shard, min_applied: applied };
            let page = page.clone();
            tasks.spawn(async move {
                let r = me
                    .read_shard(&active, || Request::Page { shard: addr.clone(), request: page.clone() })
                    .await;
                (shard, r)
            });
        }
        let mut all: Vec<Record> = Vec::new();
        while let Some(r) = tasks.join_next().await {
            let (shard, r) = r.map_err(|e| ClusterError::Raft(format!("scroll task failed: {e}")))?;
            match r {
                Ok((_, Reply::Page(Ok((points, _))))) => all.extend(points),
                Ok((_, other)) => {
                    return Err(ClusterError::Raft(format!("unexpected reply {}", other.kind())))
                }
                Err(RemoteFail::Invalid(m)) => return Err(ClusterError::Invalid(m)),
                Err(_) => {
                    return Err(ClusterError::ShardUnavailable { collection: collection.to_string(), shard })
                }
            }
        }
        all.sort_by_key(|r| r.id);
        let next = all.get(limit).map(|r| r.id);
        all.truncate(limit);
        Ok((all, next))
    }

    /// Deletes the points matching `filter`: per shard, the matching ids are read from an
    /// active replica and deleted on every replica like [`ClusterNode::delete`]. Not atomic
    /// with concurrent writes: a point upserted while this runs may survive it. Returns the
    /// number of ids deleted.
    pub async fn delete_by_filter(&self, collection: &str, filter: Filter) -> Result<u64> {
        let mut ids = Vec::new();
        let mut offset = None;
        loop {
            let req = grove_storage::ScrollRequest {
                filter: Some(filter.clone()),
                limit: 4 * TRANSFER_PAGE,
                offset,
                with_payload: Some(WithPayload::All(false)),
                with_vector: false,
                order_by: None,
            };
            let (page, next) = self.scroll(collection, &req).await?;
            ids.extend(page.into_iter().map(|r| r.id));
            match next {
                Some(n) => offset = Some(n),
                None => break,
            }
        }
        let n = ids.len() as u64;
        for chunk in ids.chunks(4 * TRANSFER_PAGE) {
            self.delete(collection, chunk.to_vec()).await?;
        }
        Ok(n)
    }

    /// Exact count over all shards (one active replica each).
    pub async fn count(&self, collection: &str, filter: Option<Filter>) -> Result<u64> {
        let applied = self.fresh().await?;
        let meta = self.collection(collection)?;
        let mut total = 0;
        for (shard, info) in meta.shards.iter().enumerate() {
            let shard = shard as u32;
            let addr = ShardAddr { collection: collection.to_string(), shard, min_applied: applied };
            match self
                .read_shard(&info.active(), || Request::Count { shard: addr.clone(), filter: filter.clone() })
                .await
            {
                Ok((_, Reply::Count(Ok(n)))) => total += n,
                Ok((_, other)) => {
                    return Err(ClusterError::Raft(format!("unexpected reply {}", other.kind())))
                }
                Err(RemoteFail::Invalid(m)) => return Err(ClusterError::Invalid(m)),
                Err(_) => {
                    return Err(ClusterError::ShardUnavailable { collection: collection.to_string(), shard })
                }
            }
        }
        Ok(total)
    }

    /// Catches up every dead replica this node holds, one shard at a time, by streaming
    /// transfers from an active replica. Returns, per shard tried, the points copied or why it
    /// failed (the replica then stays dead; call again later).
    pub async fn recover_dead_replicas(&self) -> Vec<(String, u32, Result<TransferReport>)> {
        let mut out = Vec::new();
        // A fresh view first: a node that has just rejoined may still be applying the entries
        // that marked its replicas dead, and a replica it still sees as active would be skipped
        // here and left dead with nobody to recover it. If no leader answers, the local view is
        // used and each recovery reports the failure itself.
        if let Err(e) = self.fresh().await {
            tracing::debug!(node = self.id(), error = %e, "recovery without a fresh view");
        }
        let mine = self.replicas_to_recover();
        for (c, s) in mine {
            let r = self.recover_replica(&c, s).await;
            out.push((c, s, r));
        }
        out
    }

    /// The replicas on this node that need a catch-up by this node's local view: dead, or
    /// partial with no transfer to them running here (one interrupted by a restart).
    fn replicas_to_recover(&self) -> Vec<(String, u32)> {
        let st = self.inner.state.read();
        let receiving = self.inner.receiving.lock();
        let mut out = Vec::new();
        for (name, c) in &st.meta.collections {
            for (i, s) in c.shards.iter().enumerate() {
                let waiting = match s.replicas.get(&self.id()) {
                    Some(ReplicaState::Dead | ReplicaState::Recovering) => true,
                    Some(ReplicaState::Partial) => {
                        !receiving.contains_key(&local_name(name, c.epoch, i as u32))
                    }
                    Some(ReplicaState::Active) | None => false,
                };
                if waiting {
                    out.push((name.clone(), i as u32));
                }
            }
        }
        out
    }

    /// Starts the background recovery loop: every `every`, a replica of this node that is
    /// dead (it missed writes: its node was down or cut off) is caught up by a streaming
    /// transfer from an active replica and made active again, without an operator call. A
    /// replica under transfer is `Partial`: it takes live writes but serves no reads until the
    /// transfer's last entry activates it. A transfer that fails (the source or the leader is
    /// unreachable) is retried on the next tick. The loop holds the node weakly and ends when
    /// the node shuts down.
    pub fn spawn_recovery(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { break };
                if inner.stopping.load(Ordering::Relaxed) {
                    break;
                }
                let node = ClusterNode { inner };
                // The local view is enough to decide whether to look: it only lags the leader,
                // and the next tick sees what it missed. Recovery itself takes a fresh view.
                if node.replicas_to_recover().is_empty() {
                    continue;
                }
                for (c, s, r) in node.recover_dead_replicas().await {
                    match r {
                        Ok(rep) if rep.streamed + rep.skipped > 0 || rep.live_writes > 0 => {
                            tracing::info!(node = node.id(), collection = %c, shard = s, streamed = rep.streamed, skipped = rep.skipped, live_writes = rep.live_writes, "replica caught up and active again")
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(node = node.id(), collection = %c, shard = s, error = %e, "replica recovery failed; retrying later")
                        }
                    }
                }
            }
        })
    }

    /// Catches up this node's replica of `collection`/`shard` (dead, or partial from an
    /// interrupted transfer) from an active replica, and makes it active. Writes continue
    /// meanwhile: the replica receives them as `Partial`, and streamed copies of points a
    /// live write touched are skipped. Nothing is copied if it was active already.
    pub async fn recover_replica(&self, collection: &str, shard: u32) -> Result<TransferReport> {
        self.fresh().await?;
        let meta = self.collection(collection)?;
        let name = local_name(collection, meta.epoch, shard);
        let recv = Arc::new(tokio::sync::Mutex::new(HashSet::new()));
        {
            // One transfer per local replica at a time: a second one (the background loop and
            // an operator call) would otherwise reset the first's `Partial` replica to dead.
            let mut receiving = self.inner.receiving.lock();
            if receiving.contains_key(&name) {
                return Err(ClusterError::Retry(format!(
                    "a transfer to {collection}/{shard} on node {} is already running",
                    self.id()
                )));
            }
            receiving.insert(name.clone(), Arc::clone(&recv));
        }
        let r = self.recover_registered(collection, shard, &name, &meta, &recv).await;
        self.inner.receiving.lock().remove(&name);
        if r.is_err() {
            let st =
                self.meta().collections.get(collection).and_then(|c| c.shards.get(shard as usize).cloned());
            if st.is_some_and(|s| s.replicas.get(&self.id()) == Some(&ReplicaState::Partial)) {
                if let Err(e) = self.set_replica_state(collection, shard, self.id(), ReplicaState::Dead).await
                {
                    tracing::warn!(collection, shard, error = %e, "could not mark an interrupted transfer's target dead");
                }
            }
        }
        r
    }

    /// [`ClusterNode::recover_replica`] once this node's transfer slot for the replica is taken.
    async fn recover_registered(
        &self,
        collection: &str,
        shard: u32,
        name: &str,
        meta: &CollectionMeta,
        recv: &tokio::sync::Mutex<HashSet<PointId>>,
    ) -> Result<TransferReport> {
        let info = meta.shards.get(shard as usize).ok_or_else(|| {
            ClusterError::Invalid(format!("collection `{collection}` has no shard {shard}"))
        })?;
        match info.replicas.get(&self.id()) {
            None => {
                return Err(ClusterError::Invalid(format!(
                    "node {} holds no replica of {collection}/{shard}",
                    self.id()
                )))
            }
            Some(ReplicaState::Active) => return Ok(TransferReport::default()),
            Some(ReplicaState::Partial) => {
                // A transfer to here was interrupted (this node restarted): start over.
                self.set_replica_state(collection, shard, self.id(), ReplicaState::Dead).await?;
            }
            Some(ReplicaState::Dead | ReplicaState::Recovering) => {}
        }
        // Sources in turn, starting from a rotating one: an active replica on a node that is
        // down now (no write has marked it yet) must not block recovery for ever.
        let mut sources: Vec<NodeId> = info.active().into_iter().filter(|n| *n != self.id()).collect();
        if sources.is_empty() {
            return Err(ClusterError::ShardUnavailable { collection: collection.to_string(), shard });
        }
        let r = self.inner.rr.fetch_add(1, Ordering::Relaxed) as usize % sources.len();
        sources.rotate_left(r);
        let t = Transfer { source: sources[0], target: self.id() };
        self.run_transfer(collection, shard, name, t, recv).await
    }

    async fn run_transfer(
        &self,
        collection: &str,
        shard: u32,
        name: &str,
        t: Transfer,
        recv: &tokio::sync::Mutex<HashSet<PointId>>,
    ) -> Result<TransferReport> {
        // Empty the local replica first: it is dead, so no live write arrives until the start
        // entry below is applied here, and whatever it held may be stale.
        {
            let mut touched = recv.lock().await;
            // Ids written here while the replica was still partial from an interrupted transfer
            // are erased below: their streamed copies must not be skipped.
            touched.clear();
            let (storage, n) = (Arc::clone(&self.inner.storage), name.to_string());
            blocking(move || {
                storage
                    .delete_points(&n, &PointSelector::Filter { filter: Filter::default() })
                    .map(|_| ())
                    .map_err(storage_fail)
            })
            .await
            .map_err(fail_to_error)?;
        }
        let cmd = Command::StartTransfer { collection: collection.to_string(), shard, transfer: t };
        if let CommandResult::Rejected(e) = self.propose(cmd).await? {
            return Err(ClusterError::Retry(e));
        }
        let applied = self.inner.applied_index();
        let mut offset = None;
        let mut copied = 0u64;
        let mut skipped = 0u64;
        loop {
            let addr = ShardAddr { collection: collection.to_string(), shard, min_applied: applied };
            let req = Request::Scroll { shard: addr, offset, limit: TRANSFER_PAGE };
            let (records, next) = match self.call(t.source, &req).await {
                Ok(Reply::Page(Ok(page))) => page,
                Ok(Reply::Page(Err(e))) => return Err(fail_to_error(e)),
                Ok(other) => return Err(ClusterError::Raft(format!("unexpected reply {}", other.kind()))),
                Err(e) => return Err(ClusterError::Retry(e.to_string())),
            };
            let touched = recv.lock().await;
            let mut pts = Vec::with_capacity(records.len());
            for r in records {
                if touched.contains(&r.id) {
                    skipped += 1;
                    continue;
                }
                let vector = r
                    .vector
                    .ok_or_else(|| ClusterError::Raft(format!("point {} came without its vector", r.id)))?;
                pts.push(PointStruct { id: r.id, vector, payload: r.payload });
            }
            copied += pts.len() as u64;
            let (storage, n) = (Arc::clone(&self.inner.storage), name.to_string());
            blocking(move || storage.upsert(&n, pts).map(|_| ()).map_err(storage_fail))
                .await
                .map_err(fail_to_error)?;
            drop(touched);
            match next {
                Some(n) => offset = Some(n),
                None => break,
            }
        }
        let cmd = Command::FinishTransfer { collection: collection.to_string(), shard, transfer: t };
        match self.propose(cmd).await? {
            CommandResult::Rejected(e) => Err(ClusterError::Retry(e)),
            _ => {
                Ok(TransferReport { streamed: copied, skipped, live_writes: recv.lock().await.len() as u64 })
            }
        }
    }
}

fn validate_collection_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ClusterError::Invalid(format!(
            "collection name `{name}`: use 1 to 100 characters from a-z, A-Z, 0-9, '_', '-'"
        )))
    }
}

impl Inner {
    fn applied_index(&self) -> u64 {
        self.state.read().last_applied.map_or(0, |l| l.index)
    }

    async fn wait_applied(&self, index: u64) -> std::result::Result<(), RemoteFail> {
        if self.applied_index() >= index {
            return Ok(());
        }
        self.raft
            .wait(Some(self.opts.op_timeout))
            .applied_index_at_least(Some(index), "metadata catch-up")
            .await
            .map(|_| ())
            .map_err(|e| {
                RemoteFail::Unavailable(format!(
                    "node {} has not applied log index {index}: {e}",
                    self.opts.id
                ))
            })?;
        // openraft reports an index applied once apply returned; our state is published
        // inside apply, so it is visible here.
        Ok(())
    }

    async fn propose_local(&self, cmd: Command) -> std::result::Result<(CommandResult, u64), RemoteFail> {
        match self.raft.client_write(cmd).await {
            Ok(resp) => Ok((resp.data, resp.log_id.index)),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                Err(RemoteFail::NotLeader(f.leader_id))
            }
            Err(e) => Err(RemoteFail::Unavailable(e.to_string())),
        }
    }

    async fn read_index_local(&self) -> std::result::Result<u64, RemoteFail> {
        match self.raft.ensure_linearizable().await {
            Ok(l) => Ok(l.map_or(0, |l| l.index)),
            Err(RaftError::APIError(openraft::error::CheckIsLeaderError::ForwardToLeader(f))) => {
                Err(RemoteFail::NotLeader(f.leader_id))
            }
            Err(e) => Err(RemoteFail::Unavailable(e.to_string())),
        }
    }

    async fn add_member_local(&self, id: NodeId, member: Member) -> std::result::Result<(), RemoteFail> {
        let not_leader = |e: &dyn std::fmt::Display| RemoteFail::Unavailable(e.to_string());
        self.raft.add_learner(id, member, true).await.map_err(|e| match e {
            RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => RemoteFail::NotLeader(f.leader_id),
            e => not_leader(&e),
        })?;
        // Relative to the leader's current membership, not this node's applied voters: two
        // nodes joining at once must not each replace the voters with a set missing the other.
        self.raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false).await.map_err(
            |e| match e {
                RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
                    RemoteFail::NotLeader(f.leader_id)
                }
                e => not_leader(&e),
            },
        )?;
        Ok(())
    }

    /// Checks that this node holds an active (for reads) or write-taking replica of the shard,
    /// after catching up to the sender's metadata; returns the local collection name, the
    /// replica's state and the shard's write fence.
    async fn local_replica(
        &self,
        addr: &ShardAddr,
        write: bool,
    ) -> std::result::Result<(String, ReplicaState, u64), RemoteFail> {
        self.wait_applied(addr.min_applied).await?;
        let st = self.state.read();
        let c = st.meta.collections.get(&addr.collection).ok_or_else(|| {
            RemoteFail::NotFound(format!("collection `{}` does not exist", addr.collection))
        })?;
        let shard = c.shards.get(addr.shard as usize);
        let state = shard.and_then(|s| s.replicas.get(&self.opts.id)).copied().ok_or_else(|| {
            RemoteFail::Unavailable(format!(
                "node {} holds no replica of {}/{}",
                self.opts.id, addr.collection, addr.shard
            ))
        })?;
        let ok = if write { state.receives_writes() } else { state.serves_reads() };
        if !ok {
            return Err(RemoteFail::Unavailable(format!(
                "replica {}/{} on node {} is {state:?}",
                addr.collection, addr.shard, self.opts.id
            )));
        }
        let fence = shard.map_or(0, |s| s.fence);
        Ok((local_name(&addr.collection, c.epoch, addr.shard), state, fence))
    }

    fn shard_lock(&self, name: &str) -> Arc<tokio::sync::RwLock<()>> {
        Arc::clone(self.shard_locks.lock().entry(name.to_string()).or_default())
    }

    /// A replicated write landing here: fence check and commit under the shard lock (shared);
    /// on a partial replica also under the transfer's mutex, recording the ids it touches.
    async fn write_local(
        &self,
        addr: &ShardAddr,
        ids: Vec<PointId>,
        op: impl FnOnce(&Storage, &str) -> grove_storage::Result<()> + Send + 'static,
    ) -> std::result::Result<(), RemoteFail> {
        let (name, _, _) = self.local_replica(addr, true).await?;
        let lock = self.shard_lock(&name);
        let _shared = lock.read().await;
        // Re-read under the lock: a transfer's barrier orders itself against this check.
        let (name, state, fence) = self.local_replica(addr, true).await?;
        if addr.min_applied < fence {
            return Err(RemoteFail::Stale(format!(
                "shard {}/{} gained a replica at log index {fence}, after this write was planned (index {})",
                addr.collection, addr.shard, addr.min_applied
            )));
        }
        let storage = Arc::clone(&self.storage);
        if state == ReplicaState::Partial {
            let recv = self.receiving.lock().get(&name).cloned().ok_or_else(|| {
                RemoteFail::Unavailable(format!("replica {name} is partial but no transfer is running here"))
            })?;
            let mut touched = recv.lock().await;
            touched.extend(ids);
            blocking(move || op(&storage, &name).map_err(storage_fail)).await
        } else {
            blocking(move || op(&storage, &name).map_err(storage_fail)).await
        }
    }

    /// Answers one request (from the transport, or this node's own data path).
    async fn serve(self: &Arc<Self>, req: Request) -> Reply {
        match req {
            Request::AppendEntries(rpc) => Reply::AppendEntries(self.raft.append_entries(rpc).await),
            Request::Vote(rpc) => Reply::Vote(self.raft.vote(rpc).await),
            Request::Snapshot { vote, meta, data } => {
                let snapshot = openraft::Snapshot { meta, snapshot: Box::new(std::io::Cursor::new(data)) };
                Reply::Snapshot(self.raft.install_full_snapshot(vote, snapshot).await)
            }
            Request::Propose(cmd) => Reply::Proposed(self.propose_local(cmd).await),
            Request::AddMember { id, member } => Reply::Added(self.add_member_local(id, member).await),
            Request::Join { id, addr } => {
                let node = ClusterNode { inner: Arc::clone(self) };
                Reply::Added(node.add_member(id, addr).await.map_err(|e| match e.kind() {
                    crate::ErrorKind::InvalidArgument | crate::ErrorKind::NotFound => {
                        RemoteFail::Invalid(e.to_string())
                    }
                    _ => RemoteFail::Unavailable(e.to_string()),
                }))
            }
            Request::ReadIndex => Reply::ReadIndex(self.read_index_local().await),
            Request::Upsert { shard, points } => {
                let ids = points.iter().map(|p| p.id).collect();
                Reply::Written(
                    self.write_local(&shard, ids, move |st, name| st.upsert(name, points).map(|_| ())).await,
                )
            }
            Request::Delete { shard, ids } => Reply::Written(
                self.write_local(&shard, ids.clone(), move |st, name| {
                    st.delete_points(name, &PointSelector::Ids { points: ids }).map(|_| ())
                })
                .await,
            ),
            Request::Scroll { shard, offset, limit } => Reply::Page(
                async {
                    let (name, _, _) = self.local_replica(&shard, false).await?;
                    if offset.is_none() {
                        // Barrier: writes that passed their fence check before this node
                        // applied the transfer's start have committed once this is granted.
                        drop(self.shard_lock(&name).write().await);
                    }
                    let storage = Arc::clone(&self.storage);
                    let req = grove_storage::ScrollRequest {
                        filter: None,
                        limit: limit.clamp(1, 4 * TRANSFER_PAGE),
                        offset,
                        with_payload: Some(WithPayload::All(true)),
                        with_vector: true,
                        order_by: None,
                    };
                    blocking(move || {
                        storage
                            .scroll(&name, &req)
                            .map(|r| (r.points, r.next_page_offset))
                            .map_err(storage_fail)
                    })
                    .await
                }
                .await,
            ),
            Request::Search { shard, query } => Reply::Hits(
                async {
                    let (name, _, _) = self.local_replica(&shard, false).await?;
                    let storage = Arc::clone(&self.storage);
                    blocking(move || storage.query(&name, &query).map(|r| r.points).map_err(storage_fail))
                        .await
                }
                .await,
            ),
            Request::Page { shard, request } => Reply::Page(
                async {
                    let (name, _, _) = self.local_replica(&shard, false).await?;
                    let storage = Arc::clone(&self.storage);
                    blocking(move || {
                        storage
                            .scroll(&name, &request)
                            .map(|r| (r.points, r.next_page_offset))
                            .map_err(storage_fail)
                    })
                    .await
                }
                .await,
            ),
            Request::Get { shard, ids, with_payload } => Reply::Records(
                async {
                    let (name, _, _) = self.local_replica(&shard, false).await?;
                    let storage = Arc::clone(&self.storage);
                    blocking(move || {
                        storage.get_points(&name, &ids, &with_payload, false).map_err(storage_fail)
                    })
                    .await
                }
                .await,
            ),
            Request::Count { shard, filter } => Reply::Count(
                async {
                    let (name, _, _) = self.local_replica(&shard, false).await?;
                    let storage = Arc::clone(&self.storage);
                    blocking(move || {
                        storage.count(&name, &CountRequest { filter, exact: true }).map_err(storage_fail)
                    })
                    .await
                }
                .await,
            ),
        }
    }
}

struct NodeHandler {
    inner: Weak<Inner>,
}

impl Handler for NodeHandler {
    fn handle(&self, request: Vec<u8>) -> BoxFuture<'static, Vec<u8>> {
        let inner = self.inner.upgrade();
        Box::pin(async move {
            let reply = match (inner, rpc::decode(&request)) {
                (Some(inner), Ok(req)) => inner.serve(req).await,
                (None, _) => Reply::Undecodable("node is shutting down".into()),
                (_, Err(e)) => Reply::Undecodable(e),
            };
            rpc::encode(&reply)
        })
    }
}
