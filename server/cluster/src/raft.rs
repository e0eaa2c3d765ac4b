//! The openraft type config and the Raft network over [`Transport`].

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{
    Fatal, NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{BasicNode, OptionalSend, Snapshot, Vote};

use crate::meta::{Command, CommandResult, NodeId};
use crate::rpc::{self, Reply, Request};
use crate::transport::{Transport, TransportError};

/// A member's address record (its internal peer address).
pub type Member = BasicNode;

openraft::declare_raft_types!(
    /// Grove's Raft types: log entries carry [`Command`]s, node ids are u64, snapshots are the
    /// serialised applied state held in memory (cluster metadata is small).
    pub TypeConfig:
        D = Command,
        R = CommandResult,
        NodeId = NodeId,
        Node = Member,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// Creates a [`PeerClient`] per target.
#[derive(Debug, Clone)]
pub struct Network {
    transport: Arc<dyn Transport>,
}

impl Network {
    /// A network factory over `transport`.
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Network { transport }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &Member) -> PeerClient {
        self.transport.learn(target, &node.addr);
        PeerClient { target, transport: Arc::clone(&self.transport) }
    }
}

/// Sends one node's Raft RPCs.
#[derive(Debug)]
pub struct PeerClient {
    target: NodeId,
    transport: Arc<dyn Transport>,
}

fn to_rpc_error<E: std::error::Error>(e: TransportError) -> RPCError<NodeId, Member, E> {
    match e {
        TransportError::Unreachable(..) => RPCError::Unreachable(Unreachable::new(&e)),
        TransportError::Timeout(..) => RPCError::Network(NetworkError::new(&e)),
    }
}

impl PeerClient {
    async fn call(&self, req: &Request, timeout: Duration) -> Result<Reply, TransportError> {
        rpc::call(&*self.transport, self.target, req, timeout).await
    }
}

fn unexpected(target: NodeId, reply: &Reply) -> NetworkError {
    NetworkError::new(&rpc::Unexpected(format!("node {target} answered {}", reply.kind())))
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Member, RaftError<NodeId>>> {
        let reply = self.call(&Request::AppendEntries(rpc), option.hard_ttl()).await.map_err(to_rpc_error)?;
        match reply {
            Reply::AppendEntries(r) => r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e))),
            other => Err(RPCError::Network(unexpected(self.target, &other))),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Member, RaftError<NodeId>>> {
        let reply = self.call(&Request::Vote(rpc), option.hard_ttl()).await.map_err(to_rpc_error)?;
        match reply {
            Reply::Vote(r) => r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e))),
            other => Err(RPCError::Network(unexpected(self.target, &other))),
        }
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote<NodeId>,
        snapshot: Snapshot<TypeConfig>,
        _cancel: impl std::future::Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<NodeId>, StreamingError<TypeConfig, Fatal<NodeId>>> {
        let req = Request::Snapshot { vote, meta: snapshot.meta, data: snapshot.snapshot.into_inner() };
        let reply = match self.call(&req, option.hard_ttl()).await {
            Ok(r) => r,
            Err(e @ TransportError::Unreachable(..)) => {
                return Err(StreamingError::Unreachable(Unreachable::new(&e)))
            }
            Err(e @ TransportError::Timeout(..)) => {
                return Err(StreamingError::Network(NetworkError::new(&e)))
            }
        };
        match reply {
            Reply::Snapshot(r) => {
                r.map_err(|e| StreamingError::RemoteError(RemoteError::new(self.target, e)))
            }
            other => Err(StreamingError::Network(unexpected(self.target, &other))),
        }
    }
}
