//! grove-cluster: Grove's cluster mode.
//!
//! Several `grove` nodes hold a collection together: its points are spread over
//! `shard_number` shards by a stable hash of their id ([`hash`]), each shard has
//! `replication_factor` replicas on distinct nodes, and each replica is a local grove-storage
//! collection with its own indexes and planner.
//!
//! - **Consensus** is openraft ([`raft`]): the Raft log, persisted in the node's own RocksDB
//!   through grove-storage's `KvBackend` seam ([`store`]), holds the collections, their config,
//!   the shard placement and the replica states ([`meta`]); snapshots of that state keep the
//!   log bounded.
//! - **Writes** go to every write-taking replica of a shard and are acknowledged once
//!   `write_consistency_factor` active replicas have them durably and the replicas that missed
//!   them are marked dead through the log ([`node`]).
//! - **Reads** fan out to one active replica per shard, after a linearizable read index, and
//!   are merged exactly: top-k of the shards' top-k by score, payloads fetched for the winners.
//! - Nodes talk only through the [`transport::Transport`] trait; [`transport::LocalNet`] runs
//!   several nodes in one process for tests, with partitions.
//!
//! Call order: [`node::ClusterNode::open`] each node, register its
//! [`node::ClusterNode::handler`] with the transport, [`node::ClusterNode::bootstrap`] the first
//! node, then [`node::ClusterNode::add_member`] the others (on any node: it is forwarded to the
//! leader). A restarted node needs only `open` and its handler registered: its membership and
//! metadata come back from its RocksDB.

pub mod error;
pub mod grpc;
pub mod hash;
pub mod meta;
pub mod node;
pub mod raft;
pub mod rpc;
pub mod store;
pub mod transport;

pub use error::{ClusterError, ErrorKind, Result};
pub use meta::{
    ClusterCollectionConfig, ClusterMeta, CollectionMeta, Command, CommandResult, NodeId, ReplicaState,
    ShardInfo, Transfer,
};
pub use node::{local_name, ClusterNode, NodeOptions, RaftStatus, SearchRequest, TransferReport};
pub use transport::{Handler, LocalNet, Transport, TransportError};
