//! The network [`Transport`]: one unary gRPC method, `/grove.cluster.v1.Peer/Call`, whose
//! request and reply are the same opaque bytes [`crate::transport::LocalNet`] carries (no
//! protobuf schema: the messages are [`crate::rpc`]'s, encoded once). [`PeerServer`] is the
//! tonic service a node serves on its internal peer address; [`GrpcTransport`] dials peers by
//! the addresses it learns from the Raft membership.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut};
use parking_lot::RwLock;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, Body, StdError};
use tonic::server::{NamedService, UnaryService};
use tonic::transport::{Channel, Endpoint};
use tonic::Status;

use crate::meta::NodeId;
use crate::transport::{BoxFuture, Handler, Transport, TransportError};

/// The method path.
pub const CALL_PATH: &str = "/grove.cluster.v1.Peer/Call";

/// Largest message either side accepts (a snapshot of the metadata or a page of a transfer).
pub const MAX_MESSAGE: usize = 256 << 20;

/// Passes the message bytes through unchanged.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut v = vec![0; src.remaining()];
        src.copy_to_slice(&mut v);
        Ok(Some(v))
    }
}

/// The peer service: hands every call to the node's [`Handler`].
#[derive(Clone)]
pub struct PeerServer {
    handler: Arc<dyn Handler>,
}

impl std::fmt::Debug for PeerServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerServer")
    }
}

impl PeerServer {
    /// A service answering with `handler` (a node's [`crate::ClusterNode::handler`]).
    pub fn new(handler: Arc<dyn Handler>) -> Self {
        PeerServer { handler }
    }
}

impl NamedService for PeerServer {
    const NAME: &'static str = "grove.cluster.v1.Peer";
}

struct CallSvc(Arc<dyn Handler>);

impl UnaryService<Vec<u8>> for CallSvc {
    type Response = Vec<u8>;
    type Future = BoxFuture<'static, Result<tonic::Response<Vec<u8>>, Status>>;

    fn call(&mut self, request: tonic::Request<Vec<u8>>) -> Self::Future {
        let h = Arc::clone(&self.0);
        Box::pin(async move { Ok(tonic::Response::new(h.handle(request.into_inner()).await)) })
    }
}

impl<B> tonic::codegen::Service<http::Request<B>> for PeerServer
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() != CALL_PATH {
            let path = req.uri().path().to_string();
            return Box::pin(
                async move { Ok(Status::unimplemented(format!("no method {path}")).into_http()) },
            );
        }
        let h = Arc::clone(&self.handler);
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec)
                .apply_max_message_size_config(Some(MAX_MESSAGE), Some(MAX_MESSAGE));
            Ok(grpc.unary(CallSvc(h), req).await)
        })
    }
}

/// Dials peers over gRPC (plain HTTP/2 on their peer address). Channels connect lazily and
/// reconnect by themselves, so a peer that restarts is reachable again without help.
#[derive(Debug, Default)]
pub struct GrpcTransport {
    peers: RwLock<HashMap<NodeId, (String, Channel)>>,
}

impl GrpcTransport {
    /// A transport that knows no peers yet.
    pub fn new() -> Self {
        GrpcTransport::default()
    }
}

impl Transport for GrpcTransport {
    fn learn(&self, id: NodeId, addr: &str) {
        if self.peers.read().get(&id).is_some_and(|(a, _)| a == addr) {
            return;
        }
        let uri = if addr.contains("://") { addr.to_string() } else { format!("http://{addr}") };
        match Endpoint::from_shared(uri) {
            Ok(ep) => {
                let ch = ep.connect_timeout(Duration::from_secs(2)).tcp_nodelay(true).connect_lazy();
                self.peers.write().insert(id, (addr.to_string(), ch));
            }
            Err(e) => tracing::error!(node = id, addr, error = %e, "peer address is not a valid URI"),
        }
    }

    fn call(
        &self,
        target: NodeId,
        request: Vec<u8>,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Vec<u8>, TransportError>> {
        let ch = self.peers.read().get(&target).map(|(_, c)| c.clone());
        Box::pin(async move {
            let ch = ch.ok_or_else(|| {
                TransportError::Unreachable(target, "no address known for this node".into())
            })?;
            let mut client = tonic::client::Grpc::new(ch)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE);
            let fut = async {
                client.ready().await.map_err(|e| TransportError::Unreachable(target, e.to_string()))?;
                let mut req = tonic::Request::new(request);
                req.set_timeout(timeout);
                client
                    .unary(req, http::uri::PathAndQuery::from_static(CALL_PATH), RawCodec)
                    .await
                    .map(|r| r.into_inner())
                    .map_err(|s| {
                        TransportError::Unreachable(target, format!("{}: {}", s.code(), s.message()))
                    })
            };
            match tokio::time::timeout(timeout, fut).await {
                Ok(r) => r,
                Err(_) => Err(TransportError::Timeout(target, timeout)),
            }
        })
    }
}

/// Asks the cluster a member of which listens on `seed` (its peer address, `host:port` or
/// `http://host:port`) to add `node` as a voter; the member forwards it to the leader. Retried
/// until `timeout` (the seed may still be starting). A node that is already a member needs no
/// join: it rejoins from its own Raft state.
pub async fn join(node: &crate::ClusterNode, seed: &str, timeout: Duration) -> crate::Result<()> {
    use crate::rpc::{Reply, Request};
    let uri = if seed.contains("://") { seed.to_string() } else { format!("http://{seed}") };
    let ep = Endpoint::from_shared(uri).map_err(|e| {
        crate::ClusterError::Invalid(format!("join address `{seed}` is not a valid URI: {e}"))
    })?;
    let ch = ep.connect_timeout(Duration::from_secs(2)).tcp_nodelay(true).connect_lazy();
    let req = serde_json::to_vec(&Request::Join { id: node.id(), addr: node.addr().to_string() })
        .map_err(|e| crate::ClusterError::Raft(format!("join request not encodable: {e}")))?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let mut client = tonic::client::Grpc::new(ch.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let attempt = async {
            client.ready().await.map_err(|e| e.to_string())?;
            let mut r = tonic::Request::new(req.clone());
            r.set_timeout(Duration::from_secs(30));
            let bytes = client
                .unary(r, http::uri::PathAndQuery::from_static(CALL_PATH), RawCodec)
                .await
                .map_err(|s| format!("{}: {}", s.code(), s.message()))?
                .into_inner();
            serde_json::from_slice::<Reply>(&bytes).map_err(|e| format!("undecodable reply: {e}"))
        };
        let err = match attempt.await {
            Ok(Reply::Added(Ok(()))) => return Ok(()),
            Ok(Reply::Added(Err(crate::rpc::RemoteFail::Invalid(m)))) => {
                return Err(crate::ClusterError::Invalid(m))
            }
            Ok(Reply::Added(Err(e))) => e.to_string(),
            Ok(other) => format!("unexpected reply {}", other.kind()),
            Err(e) => e,
        };
        if std::time::Instant::now() > deadline {
            return Err(crate::ClusterError::Raft(format!("could not join through {seed}: {err}")));
        }
        tracing::info!(seed, error = %err, "join not answered yet; retrying");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
