//! How a node reaches the others: the [`Transport`] trait, the only way grove-cluster talks to
//! another node (Raft RPCs and point traffic alike), and [`LocalNet`], an in-process
//! implementation for tests that can cut a node off and heal it.
//!
//! A request and its reply are opaque bytes (the node encodes [`crate::rpc`] messages), so a
//! network transport is one unary "call" method and the in-process one exercises the same
//! encoding as the network would.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::meta::NodeId;

/// A boxed, sendable future (the traits below are used as trait objects).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a call did not produce a reply. The request may or may not have been processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The target cannot be reached (down, unknown, or cut off).
    #[error("node {0} is unreachable: {1}")]
    Unreachable(NodeId, String),
    /// No reply within the call's deadline.
    #[error("node {0} did not answer within {1:?}")]
    Timeout(NodeId, Duration),
}

/// Sends requests to other nodes. Implementations must be cheap to call concurrently.
pub trait Transport: Send + Sync + Debug + 'static {
    /// Tells the transport where node `id` listens (from the Raft membership). Transports that
    /// address nodes by id alone ignore it.
    fn learn(&self, _id: NodeId, _addr: &str) {}

    /// Sends `request` to `target` and waits at most `timeout` for its reply.
    fn call(
        &self,
        target: NodeId,
        request: Vec<u8>,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Vec<u8>, TransportError>>;
}

/// The receiving side: what a transport hands each incoming request to.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, request: Vec<u8>) -> BoxFuture<'static, Vec<u8>>;
}

#[derive(Default)]
struct NetState {
    handlers: HashMap<NodeId, Arc<dyn Handler>>,
    cut: HashSet<NodeId>,
    /// Replies to requests whose encoding starts with these bytes are held this long.
    slow: Option<(Vec<u8>, Duration)>,
}

/// An in-process network of nodes: calls are direct async calls of the target's [`Handler`].
/// [`LocalNet::cut`] isolates a node in both directions (requests to it and from it fail, and
/// replies of calls in flight are dropped), [`LocalNet::heal`] reconnects it; a node without a
/// registered handler (never started, or killed) is unreachable.
#[derive(Clone, Default)]
pub struct LocalNet {
    state: Arc<Mutex<NetState>>,
}

impl Debug for LocalNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.state.lock();
        let mut nodes: Vec<_> = st.handlers.keys().copied().collect();
        nodes.sort_unstable();
        f.debug_struct("LocalNet").field("nodes", &nodes).field("cut", &st.cut).finish()
    }
}

impl LocalNet {
    /// An empty network.
    pub fn new() -> Self {
        LocalNet::default()
    }

    /// The transport node `me` sends through.
    pub fn transport(&self, me: NodeId) -> Arc<dyn Transport> {
        Arc::new(LocalTransport { net: self.clone(), me })
    }

    /// Makes `id` reachable, answering with `handler`.
    pub fn register(&self, id: NodeId, handler: Arc<dyn Handler>) {
        self.state.lock().handlers.insert(id, handler);
    }

    /// Makes `id` unreachable (its process is gone).
    pub fn unregister(&self, id: NodeId) {
        self.state.lock().handlers.remove(&id);
    }

    /// Cuts `id` off from every other node.
    pub fn cut(&self, id: NodeId) {
        self.state.lock().cut.insert(id);
    }

    /// Reconnects `id`.
    pub fn heal(&self, id: NodeId) {
        self.state.lock().cut.remove(&id);
    }

    /// Holds the replies to requests whose encoded bytes start with `prefix` for `delay` (a
    /// slow link for one kind of message, so tests can order events deterministically);
    /// `None` ends it.
    pub fn slow_replies(&self, slow: Option<(&[u8], Duration)>) {
        self.state.lock().slow = slow.map(|(p, d)| (p.to_vec(), d));
    }

    fn link(&self, from: NodeId, to: NodeId) -> Result<Arc<dyn Handler>, TransportError> {
        let st = self.state.lock();
        if st.cut.contains(&from) || st.cut.contains(&to) {
            return Err(TransportError::Unreachable(to, "network partition".into()));
        }
        st.handlers
            .get(&to)
            .cloned()
            .ok_or_else(|| TransportError::Unreachable(to, "no such node is running".into()))
    }
}

#[derive(Debug)]
struct LocalTransport {
    net: LocalNet,
    me: NodeId,
}

impl Transport for LocalTransport {
    fn call(
        &self,
        target: NodeId,
        request: Vec<u8>,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<Vec<u8>, TransportError>> {
        Box::pin(async move {
            let handler = self.net.link(self.me, target)?;
            let hold = match &self.net.state.lock().slow {
                Some((prefix, d)) if request.starts_with(prefix) => Some(*d),
                _ => None,
            };
            // The handler runs as its own task, as a server would: a caller giving up does not
            // abort the work half way.
            let task = tokio::spawn(handler.handle(request));
            let reply = match tokio::time::timeout(timeout, task).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(e)) => {
                    return Err(TransportError::Unreachable(target, format!("handler failed: {e}")))
                }
                Err(_) => return Err(TransportError::Timeout(target, timeout)),
            };
            if let Some(d) = hold {
                tokio::time::sleep(d).await;
            }
            // A partition that started while the call ran loses the reply.
            self.net.link(self.me, target)?;
            Ok(reply)
        })
    }
}
