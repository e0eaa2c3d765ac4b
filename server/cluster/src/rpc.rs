//! The messages nodes exchange over a [`Transport`]: Raft RPCs, proposals forwarded to the
//! leader, and shard traffic. Encoded as JSON (payloads are JSON already; `float_roundtrip`
//! keeps vectors bit-identical).

use std::time::Duration;

use grove_storage::{Filter, PointId, PointStruct, QueryRequest, Record, ScoredPoint, WithPayload};
use openraft::error::{Fatal, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{SnapshotMeta, Vote};
use serde::{Deserialize, Serialize};

use crate::meta::{Command, CommandResult, NodeId};
use crate::raft::{Member, TypeConfig};
use crate::transport::{Transport, TransportError};

/// A request to another node.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Raft: replicate entries / heartbeat.
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    /// Raft: request a vote.
    Vote(VoteRequest<NodeId>),
    /// Raft: install a whole snapshot.
    Snapshot {
        /// The leader's vote.
        vote: Vote<NodeId>,
        /// What the snapshot covers.
        meta: SnapshotMeta<NodeId, Member>,
        /// The serialised applied state.
        data: Vec<u8>,
    },
    /// Propose a command (the receiver must be the leader).
    Propose(Command),
    /// Add a node as a voter (the receiver must be the leader).
    AddMember {
        /// Its id.
        id: NodeId,
        /// Its address record.
        member: Member,
    },
    /// A node asks to join: the receiver (any member) adds it as a voter through the leader.
    Join {
        /// The joining node's id.
        id: NodeId,
        /// Its peer address.
        addr: String,
    },
    /// The leader's read index: a log index every linearizable read must wait for.
    ReadIndex,
    /// Upsert into one local shard replica.
    Upsert {
        /// Shard address.
        shard: ShardAddr,
        /// The points (all hashed to this shard).
        points: Vec<PointStruct>,
    },
    /// Delete from one local shard replica.
    Delete {
        /// Shard address.
        shard: ShardAddr,
        /// The ids (all hashed to this shard).
        ids: Vec<PointId>,
    },
    /// Top-k of one local shard replica (ids and scores only).
    Search {
        /// Shard address.
        shard: ShardAddr,
        /// The query (no payloads, no offset).
        query: QueryRequest,
    },
    /// Points by id from one local shard replica.
    Get {
        /// Shard address.
        shard: ShardAddr,
        /// The ids.
        ids: Vec<PointId>,
        /// Payload selector.
        with_payload: WithPayload,
    },
    /// A page of one active replica's points with vectors and payloads, in id order (shard
    /// transfer). The first page (`offset` none) waits for writes planned before the
    /// transfer's fence to finish on the source.
    Scroll {
        /// Shard address.
        shard: ShardAddr,
        /// Start at this id (inclusive).
        offset: Option<PointId>,
        /// Page size.
        limit: usize,
    },
    /// A page of one active replica's points matching a filter, in id order (client scroll
    /// and delete by filter across shards).
    Page {
        /// Shard address.
        shard: ShardAddr,
        /// The page asked for.
        request: grove_storage::ScrollRequest,
    },
    /// Count of one local shard replica.
    Count {
        /// Shard address.
        shard: ShardAddr,
        /// Optional filter.
        filter: Option<Filter>,
    },
}

/// Which shard replica a data request is for, and how fresh the receiver's metadata must be.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardAddr {
    /// Collection name.
    pub collection: String,
    /// Shard index.
    pub shard: u32,
    /// The sender's applied log index: the receiver waits until it has applied at least this
    /// much, so it knows the collection and the replica states the sender acted on.
    pub min_applied: u64,
}

/// Why a remote operation failed, as the caller needs to react to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum RemoteFail {
    /// The receiver is not the leader; here is the one it knows.
    #[error("not the leader (leader: {0:?})")]
    NotLeader(Option<NodeId>),
    /// The request is invalid (the same on every replica): a 4xx for the client.
    #[error("{0}")]
    Invalid(String),
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The replica cannot serve this now (not active, not caught up, storage failure).
    #[error("{0}")]
    Unavailable(String),
    /// The write was planned on metadata older than the shard's fence (a replica was added
    /// since): nothing was written; plan again on fresh metadata.
    #[error("{0}")]
    Stale(String),
}

/// A reply.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    /// To [`Request::AppendEntries`].
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    /// To [`Request::Vote`].
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    /// To [`Request::Snapshot`].
    Snapshot(Result<SnapshotResponse<NodeId>, Fatal<NodeId>>),
    /// To [`Request::Propose`]: the result and the log index it was applied at.
    Proposed(Result<(CommandResult, u64), RemoteFail>),
    /// To [`Request::AddMember`].
    Added(Result<(), RemoteFail>),
    /// To [`Request::ReadIndex`].
    ReadIndex(Result<u64, RemoteFail>),
    /// To [`Request::Upsert`] and [`Request::Delete`]: durable on the replica.
    Written(Result<(), RemoteFail>),
    /// To [`Request::Search`].
    Hits(Result<Vec<ScoredPoint>, RemoteFail>),
    /// To [`Request::Get`].
    Records(Result<Vec<Record>, RemoteFail>),
    /// To [`Request::Count`].
    Count(Result<u64, RemoteFail>),
    /// To [`Request::Scroll`]: the points and the next page's offset.
    Page(Result<(Vec<Record>, Option<PointId>), RemoteFail>),
    /// The request could not be decoded.
    Undecodable(String),
}

impl Reply {
    /// The variant's name (for messages about unexpected replies).
    pub fn kind(&self) -> &'static str {
        match self {
            Reply::AppendEntries(_) => "AppendEntries",
            Reply::Vote(_) => "Vote",
            Reply::Snapshot(_) => "Snapshot",
            Reply::Proposed(_) => "Proposed",
            Reply::Added(_) => "Added",
            Reply::ReadIndex(_) => "ReadIndex",
            Reply::Written(_) => "Written",
            Reply::Hits(_) => "Hits",
            Reply::Records(_) => "Records",
            Reply::Count(_) => "Count",
            Reply::Page(_) => "Page",
            Reply::Undecodable(_) => "Undecodable",
        }
    }
}

/// A reply of the wrong kind or that could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unexpected(pub String);

/// Encodes `req`, sends it, decodes the reply. An undecodable reply counts as unreachable (the
/// peer speaks another protocol version or the bytes were damaged).
pub async fn call(
    transport: &dyn Transport,
    target: NodeId,
    req: &Request,
    timeout: Duration,
) -> Result<Reply, TransportError> {
    let bytes = serde_json::to_vec(req)
        .map_err(|e| TransportError::Unreachable(target, format!("request not encodable: {e}")))?;
    let reply = transport.call(target, bytes, timeout).await?;
    serde_json::from_slice(&reply)
        .map_err(|e| TransportError::Unreachable(target, format!("undecodable reply: {e}")))
}

/// Decodes a request (for handlers).
pub fn decode(bytes: &[u8]) -> Result<Request, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("undecodable request: {e}"))
}

/// Encodes a reply (for handlers). A reply that cannot be encoded becomes `Undecodable`.
pub fn encode(reply: &Reply) -> Vec<u8> {
    serde_json::to_vec(reply).unwrap_or_else(|e| {
        serde_json::to_vec(&Reply::Undecodable(format!("reply not encodable: {e}"))).unwrap_or_default()
    })
}
