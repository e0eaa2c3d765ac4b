//! The cluster metadata the Raft log replicates: collections with their cluster config, shard
//! placement and replica states. [`ClusterMeta::apply`] is the state machine's transition
//! function: pure and deterministic, so every node that applies the same log holds the same
//! metadata.

use std::collections::BTreeMap;

use grove_storage::CollectionConfig;
use serde::{Deserialize, Serialize};

/// A node's id in the cluster (openraft's node id).
pub type NodeId = u64;

/// What a replica of a shard may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    /// Holds every acknowledged write of its shard: receives writes and serves reads.
    Active,
    /// Missed at least one acknowledged write (or its node was lost): serves nothing, receives
    /// nothing, until it is caught up.
    Dead,
    /// Being filled by a streaming transfer: receives live writes, serves no reads.
    Partial,
    /// Being restored from a snapshot of another replica: receives nothing, serves nothing.
    Recovering,
}

impl ReplicaState {
    /// Whether reads may be served from a replica in this state.
    pub fn serves_reads(self) -> bool {
        matches!(self, ReplicaState::Active)
    }

    /// Whether writes are sent to a replica in this state. Only `Active` replicas count toward
    /// the write consistency factor.
    pub fn receives_writes(self) -> bool {
        match self {
            ReplicaState::Active | ReplicaState::Partial => true,
            ReplicaState::Dead | ReplicaState::Recovering => false,
        }
    }
}

/// A collection's cluster config, fixed at creation (Qdrant's names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterCollectionConfig {
    /// Number of shards the points are spread over by a hash of their id.
    pub shard_number: u32,
    /// Copies of each shard, on distinct nodes.
    pub replication_factor: u32,
    /// Replicas that must have a write durably before it is acknowledged (1..=replication_factor).
    pub write_consistency_factor: u32,
    /// The vector config every shard's local collection is created with.
    pub vectors: CollectionConfig,
}

impl ClusterCollectionConfig {
    /// A config with `shard_number` shards of `replication_factor` replicas and the default
    /// write consistency factor: a majority of the replicas.
    pub fn new(vectors: CollectionConfig, shard_number: u32, replication_factor: u32) -> Self {
        ClusterCollectionConfig {
            shard_number,
            replication_factor,
            write_consistency_factor: replication_factor / 2 + 1,
            vectors,
        }
    }

    /// Checks the numbers against each other and against the cluster size; the message says
    /// what to change.
    pub fn validate(&self, voters: usize) -> Result<(), String> {
        if self.shard_number == 0 || self.shard_number > MAX_SHARDS {
            return Err(format!("shard_number must be 1..={MAX_SHARDS}, got {}", self.shard_number));
        }
        if self.replication_factor == 0 {
            return Err("replication_factor must be at least 1".into());
        }
        if self.replication_factor as usize > voters {
            return Err(format!(
                "replication_factor {} exceeds the {voters} node(s) of the cluster; add nodes or lower it",
                self.replication_factor
            ));
        }
        if self.write_consistency_factor == 0 || self.write_consistency_factor > self.replication_factor {
            return Err(format!(
                "write_consistency_factor must be 1..=replication_factor ({}), got {}",
                self.replication_factor, self.write_consistency_factor
            ));
        }
        Ok(())
    }
}

/// Upper bound on `shard_number` (each shard is a local collection with its own threads).
pub const MAX_SHARDS: u32 = 1024;

/// A streaming transfer that is filling a `Partial` replica from an active one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The active replica the points are read from.
    pub source: NodeId,
    /// The partial replica being filled.
    pub target: NodeId,
}

/// One shard: its replicas and their states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Replica node -> state.
    pub replicas: BTreeMap<NodeId, ReplicaState>,
    /// Log index of the last change that added a write-taking replica (a transfer start).
    /// Replicas refuse writes planned on metadata older than this: such a writer did not send
    /// the write to the new replica, so it must not land on the source after the transfer
    /// began reading it.
    #[serde(default)]
    pub fence: u64,
    /// The transfer in progress, if any (at most one per shard).
    #[serde(default)]
    pub transfer: Option<Transfer>,
}

impl ShardInfo {
    /// Nodes whose replica serves reads, ascending.
    pub fn active(&self) -> Vec<NodeId> {
        self.replicas.iter().filter(|(_, s)| s.serves_reads()).map(|(n, _)| *n).collect()
    }
}

/// A collection as the cluster knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionMeta {
    /// Its config.
    pub config: ClusterCollectionConfig,
    /// Log index of the entry that created it: names its local shard collections, so a
    /// dropped and recreated collection never reuses the old shards' data.
    pub epoch: u64,
    /// Shard `i` is `shards[i]`.
    pub shards: Vec<ShardInfo>,
}

impl CollectionMeta {
    /// Shard -> replica nodes (ascending), whatever their states.
    pub fn placement(&self) -> Vec<Vec<NodeId>> {
        self.shards.iter().map(|s| s.replicas.keys().copied().collect()).collect()
    }
}

/// A change to the metadata: the payload of a Raft log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Create a collection; placement is computed at apply time from the voters then.
    CreateCollection {
        /// Collection name.
        name: String,
        /// Its config.
        config: ClusterCollectionConfig,
    },
    /// Drop a collection and its shards everywhere.
    DropCollection {
        /// Collection name.
        name: String,
    },
    /// A writer reached `acked_by` (which must all still be active) but not `dead`: mark those
    /// dead before the write is acknowledged. Rejected (nothing changes) if any of `acked_by`
    /// is no longer active, so a write is never acknowledged on replicas the log already
    /// retired.
    MarkDead {
        /// Collection name.
        collection: String,
        /// Shard index.
        shard: u32,
        /// Replicas that missed the write.
        dead: Vec<NodeId>,
        /// Replicas that have it.
        acked_by: Vec<NodeId>,
    },
    /// Begin filling a dead replica from an active one: the target becomes `Partial` (it
    /// receives live writes from now on) and the shard's write fence moves to this entry.
    StartTransfer {
        /// Collection name.
        collection: String,
        /// Shard index.
        shard: u32,
        /// Source and target.
        transfer: Transfer,
    },
    /// The target has every point: it becomes active. Rejected if the transfer was
    /// interrupted (the target or the source missed a write and was marked dead meanwhile).
    FinishTransfer {
        /// Collection name.
        collection: String,
        /// Shard index.
        shard: u32,
        /// Source and target.
        transfer: Transfer,
    },
    /// Operator or transfer step: set one replica's state.
    SetReplicaState {
        /// Collection name.
        collection: String,
        /// Shard index.
        shard: u32,
        /// Replica node.
        node: NodeId,
        /// New state.
        state: ReplicaState,
    },
}

/// What applying a [`Command`] answered (the Raft response type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub enum CommandResult {
    /// Applied (or a membership / blank entry).
    #[default]
    Done,
    /// A collection was created with this placement (shard -> replica nodes).
    Created(Vec<Vec<NodeId>>),
    /// Not applied; the reason names what to fix.
    Rejected(String),
}

/// Everything the Raft log holds besides membership.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterMeta {
    /// Collections by name.
    pub collections: BTreeMap<String, CollectionMeta>,
}

/// Placement: shard `s` goes to voters `s, s+1, .., s+rf-1` (mod n) of the sorted voter list.
/// Deterministic in the members, spreads shards and their replicas evenly, and never puts two
/// replicas of a shard on one node (rf <= n is validated before).
pub fn place(voters: &[NodeId], shard_number: u32, replication_factor: u32) -> Vec<Vec<NodeId>> {
    let mut sorted = voters.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let n = sorted.len();
    (0..shard_number as usize)
        .map(|s| (0..replication_factor as usize).map(|j| sorted[(s + j) % n]).collect())
        .collect()
}

impl ClusterMeta {
    /// Applies one command, the entry at log `index`, given the voters at this point of the
    /// log. Deterministic.
    pub fn apply(&mut self, cmd: &Command, voters: &[NodeId], index: u64) -> CommandResult {
        match cmd {
            Command::CreateCollection { name, config } => {
                if let Some(existing) = self.collections.get(name) {
                    // A retried create of the same collection is answered with its placement.
                    if &existing.config == config {
                        return CommandResult::Created(existing.placement());
                    }
                    return CommandResult::Rejected(format!("collection `{name}` already exists"));
                }
                if let Err(e) = config.validate(voters.len()) {
                    return CommandResult::Rejected(e);
                }
                let placement = place(voters, config.shard_number, config.replication_factor);
                let shards = placement
                    .iter()
                    .map(|nodes| ShardInfo {
                        replicas: nodes.iter().map(|n| (*n, ReplicaState::Active)).collect(),
                        fence: index,
                        transfer: None,
                    })
                    .collect();
                let created = CollectionMeta { config: config.clone(), epoch: index, shards };
                let answer = created.placement();
                self.collections.insert(name.clone(), created);
                CommandResult::Created(answer)
            }
            Command::DropCollection { name } => match self.collections.remove(name) {
                Some(_) => CommandResult::Done,
                None => CommandResult::Rejected(format!("collection `{name}` does not exist")),
            },
            Command::MarkDead { collection, shard, dead, acked_by } => {
                let Some(info) = self.shard_mut(collection, *shard) else {
                    return CommandResult::Rejected(format!("shard {collection}/{shard} does not exist"));
                };
                if let Some(n) = acked_by.iter().find(|n| info.replicas.get(n) != Some(&ReplicaState::Active))
                {
                    return CommandResult::Rejected(format!(
                        "replica {n} of {collection}/{shard} is no longer active"
                    ));
                }
                for n in dead {
                    if let Some(s) = info.replicas.get_mut(n) {
                        *s = ReplicaState::Dead;
                    }
                    if info.transfer.is_some_and(|t| t.target == *n || t.source == *n) {
                        info.transfer = None;
                    }
                }
                CommandResult::Done
            }
            Command::StartTransfer { collection, shard, transfer } => {
                let Some(info) = self.shard_mut(collection, *shard) else {
                    return CommandResult::Rejected(format!("shard {collection}/{shard} does not exist"));
                };
                if let Some(t) = info.transfer {
                    return CommandResult::Rejected(format!(
                        "shard {collection}/{shard} is already being transferred from {} to {}",
                        t.source, t.target
                    ));
                }
                if info.replicas.get(&transfer.source) != Some(&ReplicaState::Active) {
                    return CommandResult::Rejected(format!(
                        "source replica {} of {collection}/{shard} is not active",
                        transfer.source
                    ));
                }
                match info.replicas.get_mut(&transfer.target) {
                    Some(s @ (ReplicaState::Dead | ReplicaState::Recovering)) => *s = ReplicaState::Partial,
                    Some(s) => {
                        return CommandResult::Rejected(format!(
                            "target replica {} of {collection}/{shard} is {s:?}, not dead",
                            transfer.target
                        ))
                    }
                    None => {
                        return CommandResult::Rejected(format!(
                            "node {} holds no replica of {collection}/{shard}",
                            transfer.target
                        ))
                    }
                }
                info.fence = index;
                info.transfer = Some(*transfer);
                CommandResult::Done
            }
            Command::FinishTransfer { collection, shard, transfer } => {
                let Some(info) = self.shard_mut(collection, *shard) else {
                    return CommandResult::Rejected(format!("shard {collection}/{shard} does not exist"));
                };
                let ok = info.transfer == Some(*transfer)
                    && info.replicas.get(&transfer.source) == Some(&ReplicaState::Active)
                    && info.replicas.get(&transfer.target) == Some(&ReplicaState::Partial);
                if !ok {
                    return CommandResult::Rejected(format!(
                        "transfer of {collection}/{shard} from {} to {} was interrupted (a replica missed a write)",
                        transfer.source, transfer.target
                    ));
                }
                info.replicas.insert(transfer.target, ReplicaState::Active);
                info.transfer = None;
                CommandResult::Done
            }
            Command::SetReplicaState { collection, shard, node, state } => {
                let Some(info) = self.shard_mut(collection, *shard) else {
                    return CommandResult::Rejected(format!("shard {collection}/{shard} does not exist"));
                };
                if info.transfer.is_some_and(|t| t.target == *node || t.source == *node) {
                    info.transfer = None;
                }
                match info.replicas.get_mut(node) {
                    Some(s) => {
                        *s = *state;
                        CommandResult::Done
                    }
                    None => CommandResult::Rejected(format!(
                        "node {node} holds no replica of {collection}/{shard}"
                    )),
                }
            }
        }
    }

    fn shard_mut(&mut self, collection: &str, shard: u32) -> Option<&mut ShardInfo> {
        self.collections.get_mut(collection)?.shards.get_mut(shard as usize)
    }

    /// The local shard names this node must hold: `(collection, shard)` for every replica
    /// placed on `node`, whatever its state.
    pub fn shards_on(&self, node: NodeId) -> Vec<(String, u32)> {
        let mut out = Vec::new();
        for (name, c) in &self.collections {
            for (i, s) in c.shards.iter().enumerate() {
                if s.replicas.contains_key(&node) {
                    out.push((name.clone(), i as u32));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grove_index::Metric;

    fn cfg(shards: u32, rf: u32) -> ClusterCollectionConfig {
        ClusterCollectionConfig::new(CollectionConfig::new(4, Metric::L2), shards, rf)
    }

    #[test]
    fn placement_is_balanced_and_distinct() {
        let p = place(&[3, 1, 2], 6, 2);
        assert_eq!(p[0], vec![1, 2]);
        assert_eq!(p[1], vec![2, 3]);
        assert_eq!(p[2], vec![3, 1]);
        let mut per_node = BTreeMap::new();
        for s in &p {
            assert_ne!(s[0], s[1]);
            for n in s {
                *per_node.entry(*n).or_insert(0) += 1;
            }
        }
        assert_eq!(per_node.values().copied().collect::<Vec<_>>(), vec![4, 4, 4]);
    }

    #[test]
    fn create_validates_and_is_idempotent() {
        let mut m = ClusterMeta::default();
        assert!(
            matches!(m.apply(&Command::CreateCollection { name: "a".into(), config: cfg(3, 4) }, &[1, 2, 3], 7),
            CommandResult::Rejected(e) if e.contains("replication_factor 4"))
        );
        let r = m.apply(&Command::CreateCollection { name: "a".into(), config: cfg(3, 2) }, &[1, 2, 3], 7);
        assert_eq!(r, CommandResult::Created(vec![vec![1, 2], vec![2, 3], vec![1, 3]]));
        // Placement of a retried create is the stored one, even if the voters changed since.
        let again =
            m.apply(&Command::CreateCollection { name: "a".into(), config: cfg(3, 2) }, &[1, 2, 3, 4], 8);
        assert_eq!(again, r);
        assert!(matches!(
            m.apply(&Command::CreateCollection { name: "a".into(), config: cfg(2, 2) }, &[1, 2, 3], 7),
            CommandResult::Rejected(_)
        ));
        assert_eq!(
            ClusterCollectionConfig::new(CollectionConfig::new(4, Metric::L2), 1, 3).write_consistency_factor,
            2
        );
    }

    #[test]
    fn mark_dead_refuses_retired_ackers() {
        let mut m = ClusterMeta::default();
        m.apply(&Command::CreateCollection { name: "a".into(), config: cfg(1, 3) }, &[1, 2, 3], 7);
        let mark = |dead: Vec<u64>, acked: Vec<u64>| Command::MarkDead {
            collection: "a".into(),
            shard: 0,
            dead,
            acked_by: acked,
        };
        assert_eq!(m.apply(&mark(vec![3], vec![1, 2]), &[1, 2, 3], 7), CommandResult::Done);
        assert_eq!(m.collections["a"].shards[0].active(), vec![1, 2]);
        // 3 is dead now: a write acknowledged by 3 cannot retire 2.
        assert!(matches!(m.apply(&mark(vec![2], vec![3]), &[1, 2, 3], 7), CommandResult::Rejected(_)));
        assert_eq!(m.collections["a"].shards[0].active(), vec![1, 2]);
    }
}

#[cfg(test)]
mod transfer_tests {
    use super::*;
    use grove_index::Metric;

    #[test]
    fn transfer_is_conditional_and_fenced() {
        let mut m = ClusterMeta::default();
        let cfg = ClusterCollectionConfig::new(CollectionConfig::new(4, Metric::L2), 1, 2);
        m.apply(&Command::CreateCollection { name: "a".into(), config: cfg }, &[1, 2], 3);
        let t = Transfer { source: 1, target: 2 };
        let start = Command::StartTransfer { collection: "a".into(), shard: 0, transfer: t };
        let finish = Command::FinishTransfer { collection: "a".into(), shard: 0, transfer: t };
        // Only a dead replica is transferred to.
        assert!(matches!(m.apply(&start, &[1, 2], 4), CommandResult::Rejected(_)));
        m.apply(
            &Command::MarkDead { collection: "a".into(), shard: 0, dead: vec![2], acked_by: vec![1] },
            &[1, 2],
            5,
        );
        assert_eq!(m.apply(&start, &[1, 2], 6), CommandResult::Done);
        let s = &m.collections["a"].shards[0];
        assert_eq!((s.replicas[&2], s.fence, s.transfer), (ReplicaState::Partial, 6, Some(t)));
        assert!(ReplicaState::Partial.receives_writes() && !ReplicaState::Partial.serves_reads());
        // The target missed a live write: the transfer is void.
        m.apply(
            &Command::MarkDead { collection: "a".into(), shard: 0, dead: vec![2], acked_by: vec![1] },
            &[1, 2],
            7,
        );
        assert!(matches!(m.apply(&finish, &[1, 2], 8), CommandResult::Rejected(_)));
        assert_eq!(m.collections["a"].shards[0].active(), vec![1]);
        // A clean run activates it.
        assert_eq!(m.apply(&start, &[1, 2], 9), CommandResult::Done);
        assert_eq!(m.apply(&finish, &[1, 2], 10), CommandResult::Done);
        assert_eq!(m.collections["a"].shards[0].active(), vec![1, 2]);
        assert_eq!(m.collections["a"].shards[0].transfer, None);
    }
}
