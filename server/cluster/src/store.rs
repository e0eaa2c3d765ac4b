//! The Raft log store and state-machine store, persisted through grove-storage's
//! [`KvBackend`] seam in the node's own RocksDB (the database its shards live in).
//!
//! Why the seam and not a dedicated RocksDB or column family: the seam already gives atomic,
//! WAL-synced batches and ordered prefix scans, which is all a Raft log needs, and one database
//! per node means one WAL, one fsync stream and one directory to back up. The keys live in the
//! `meta` column family under the reserved 4-byte prefix `u32::MAX`, which no collection id
//! reaches (storage's orphan sweep only visits ids below its `next_collection` counter).
//!
//! Keys (after the prefix): `raft/vote`, `raft/committed`, `raft/purged` (JSON log ids),
//! `raft/log/<index u64 BE>` (JSON entry), `raft/sm` (the applied state: last applied log id,
//! membership, [`ClusterMeta`]), `raft/snapshot` (the last built or installed snapshot).
//!
//! Every write is one synced batch, issued from the blocking pool (an fsync must not stall the
//! async workers). The state machine is persisted on every `apply`, so a restart resumes from
//! the applied state and a snapshot is only needed to bound the log and to catch up followers.

use std::fmt::Debug;
use std::io::Cursor;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use grove_storage::kv::{Batch, Cf, KvBackend, Scan};
use openraft::storage::{LogFlushed, RaftLogStorage, RaftStateMachine};
use openraft::{
    Entry, EntryPayload, LogId, LogState, OptionalSend, RaftLogReader, RaftSnapshotBuilder, Snapshot,
    SnapshotMeta, StorageError, StorageIOError, StoredMembership, Vote,
};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use crate::meta::{ClusterMeta, CommandResult, NodeId};
use crate::raft::{Member, TypeConfig};

/// The reserved key prefix (collection id `u32::MAX`).
const PREFIX: [u8; 4] = [0xff; 4];

fn key(rest: &str) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(rest.as_bytes());
    k
}

fn log_prefix() -> Vec<u8> {
    key("raft/log/")
}

fn log_key(index: u64) -> Vec<u8> {
    let mut k = log_prefix();
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// One past every log key: `raft/log0` (b'0' follows b'/').
fn log_end() -> Vec<u8> {
    key("raft/log0")
}

type SErr = StorageError<NodeId>;

fn read_err(e: impl std::fmt::Display) -> SErr {
    StorageIOError::read_logs(openraft::AnyError::error(e.to_string())).into()
}

fn write_err(e: impl std::fmt::Display) -> SErr {
    StorageIOError::write_logs(openraft::AnyError::error(e.to_string())).into()
}

fn sm_err(e: impl std::fmt::Display) -> SErr {
    StorageIOError::write_state_machine(openraft::AnyError::error(e.to_string())).into()
}

#[expect(
    clippy::result_large_err,
    reason = "openraft's StorageError is the error type its storage traits require"
)]
fn get_json<T: for<'de> Deserialize<'de>>(kv: &dyn KvBackend, k: &[u8]) -> Result<Option<T>, SErr> {
    match kv.get(Cf::Meta, k).map_err(read_err)? {
        Some(v) => serde_json::from_slice(&v).map(Some).map_err(read_err),
        None => Ok(None),
    }
}

/// Runs a synced write on the blocking pool.
async fn write(kv: &Arc<dyn KvBackend>, batch: Batch) -> Result<(), grove_storage::StorageError> {
    let kv = Arc::clone(kv);
    match tokio::task::spawn_blocking(move || kv.write(batch)).await {
        Ok(r) => r,
        Err(e) => Err(grove_storage::StorageError::Corrupt(format!("raft store write task failed: {e}"))),
    }
}

/// The Raft log: entries, vote, committed and purged log ids.
///
/// Cloned handles share the cached last log id; openraft serialises the writes (append,
/// truncate, purge, vote) and reads through [`RaftLogReader`] may come from replication tasks.
#[derive(Debug, Clone)]
pub struct LogStore {
    kv: Arc<dyn KvBackend>,
    /// Highest log id present (or the purged one when the log is empty); `None` when empty.
    last: Arc<Mutex<Option<LogId<NodeId>>>>,
}

impl LogStore {
    /// Opens the log kept in `kv`, finding its last entry.
    #[expect(
        clippy::result_large_err,
        reason = "openraft's StorageError is the error type its storage traits require"
    )]
    pub fn open(kv: Arc<dyn KvBackend>) -> Result<LogStore, SErr> {
        let mut last_raw: Option<Vec<u8>> = None;
        kv.scan(Cf::Meta, &log_prefix(), &[], &mut |_, v| {
            last_raw = Some(v.to_vec());
            Scan::Continue
        })
        .map_err(read_err)?;
        let last = match last_raw {
            Some(v) => Some(serde_json::from_slice::<Entry<TypeConfig>>(&v).map_err(read_err)?.log_id),
            None => None,
        };
        Ok(LogStore { kv, last: Arc::new(Mutex::new(last)) })
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, SErr> {
        let start = match range.start_bound() {
            Bound::Included(s) => *s,
            Bound::Excluded(s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(e) => e.saturating_add(1),
            Bound::Excluded(e) => *e,
            Bound::Unbounded => u64::MAX,
        };
        let mut out = Vec::new();
        if start >= end {
            return Ok(out);
        }
        let mut bad = None;
        self.kv
            .scan(Cf::Meta, &log_prefix(), &log_key(start), &mut |k, v| {
                let idx = k[k.len() - 8..].try_into().map(u64::from_be_bytes).unwrap_or(u64::MAX);
                if idx >= end {
                    return Scan::Stop;
                }
                match serde_json::from_slice(v) {
                    Ok(e) => {
                        out.push(e);
                        Scan::Continue
                    }
                    Err(e) => {
                        bad = Some(read_err(format!("log entry {idx}: {e}")));
                        Scan::Stop
                    }
                }
            })
            .map_err(read_err)?;
        match bad {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, SErr> {
        let purged: Option<LogId<NodeId>> = get_json(&*self.kv, &key("raft/purged"))?;
        let last = (*self.last.lock()).or(purged);
        Ok(LogState { last_purged_log_id: purged, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), SErr> {
        let mut b = Batch::new();
        b.put(Cf::Meta, key("raft/vote"), serde_json::to_vec(vote).map_err(write_err)?);
        write(&self.kv, b).await.map_err(|e| StorageIOError::write_vote(openraft::AnyError::error(e)).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, SErr> {
        get_json(&*self.kv, &key("raft/vote"))
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> Result<(), SErr> {
        let mut b = Batch::new();
        b.put(Cf::Meta, key("raft/committed"), serde_json::to_vec(&committed).map_err(write_err)?);
        write(&self.kv, b).await.map_err(write_err)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, SErr> {
        Ok(get_json::<Option<LogId<NodeId>>>(&*self.kv, &key("raft/committed"))?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), SErr>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut b = Batch::new();
        let mut last = None;
        for e in entries {
            b.put(Cf::Meta, log_key(e.log_id.index), serde_json::to_vec(&e).map_err(write_err)?);
            last = Some(e.log_id);
        }
        let res = write(&self.kv, b).await;
        match res {
            Ok(()) => {
                if last.is_some() {
                    *self.last.lock() = last;
                }
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(write_err(e))
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), SErr> {
        let mut b = Batch::new();
        b.delete_range(Cf::Meta, log_key(log_id.index), log_end());
        write(&self.kv, b).await.map_err(write_err)?;
        // The new last entry is the one before `log_id`, or the purged id when none is left.
        let prev = if log_id.index == 0 {
            Vec::new()
        } else {
            self.try_get_log_entries(log_id.index - 1..log_id.index).await?
        };
        let purged: Option<LogId<NodeId>> = get_json(&*self.kv, &key("raft/purged"))?;
        *self.last.lock() = prev.last().map(|e| e.log_id).or(purged);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), SErr> {
        let mut b = Batch::new();
        b.put(Cf::Meta, key("raft/purged"), serde_json::to_vec(&log_id).map_err(write_err)?);
        b.delete_range(Cf::Meta, log_key(0), log_key(log_id.index.saturating_add(1)));
        write(&self.kv, b).await.map_err(write_err)?;
        let mut last = self.last.lock();
        if last.is_none_or(|l| l.index <= log_id.index) {
            *last = Some(log_id);
        }
        Ok(())
    }
}

/// The applied state: what `raft/sm` holds and what a snapshot carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppliedState {
    /// Last log id applied.
    pub last_applied: Option<LogId<NodeId>>,
    /// Last membership applied.
    pub membership: StoredMembership<NodeId, Member>,
    /// The metadata.
    pub meta: ClusterMeta,
}

impl AppliedState {
    /// Voter ids of the applied membership, ascending.
    pub fn voters(&self) -> Vec<NodeId> {
        self.membership.membership().voter_ids().collect()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, Member>,
    data: Vec<u8>,
}

/// Called after every change of the applied state (apply or snapshot install), on the blocking
/// pool, before the Raft core sees the result: the node creates and drops its local shard
/// collections here, so by the time a log index counts as applied its shards exist.
pub trait ApplyHook: Send + Sync + Debug + 'static {
    /// The applied state changed to `state`.
    fn applied(&self, state: &AppliedState);
}

/// The state machine: [`AppliedState`] in memory (shared with the node for reads), persisted on
/// every apply.
#[derive(Debug, Clone)]
pub struct StateMachineStore {
    kv: Arc<dyn KvBackend>,
    state: Arc<RwLock<AppliedState>>,
    hook: Arc<dyn ApplyHook>,
    snapshot_seq: Arc<Mutex<u64>>,
}

impl StateMachineStore {
    /// Opens the applied state kept in `kv` (empty on a new node).
    #[expect(
        clippy::result_large_err,
        reason = "openraft's StorageError is the error type its storage traits require"
    )]
    pub fn open(kv: Arc<dyn KvBackend>, hook: Arc<dyn ApplyHook>) -> Result<StateMachineStore, SErr> {
        let state: AppliedState = get_json(&*kv, &key("raft/sm"))?.unwrap_or_default();
        Ok(StateMachineStore {
            kv,
            state: Arc::new(RwLock::new(state)),
            hook,
            snapshot_seq: Arc::new(Mutex::new(0)),
        })
    }

    /// The shared applied state (read by the node's data path).
    pub fn state(&self) -> Arc<RwLock<AppliedState>> {
        Arc::clone(&self.state)
    }

    /// Persists `next`, runs the hook, then publishes it.
    async fn commit(&self, next: AppliedState, snapshot: Option<StoredSnapshot>) -> Result<(), SErr> {
        let mut b = Batch::new();
        b.put(Cf::Meta, key("raft/sm"), serde_json::to_vec(&next).map_err(sm_err)?);
        if let Some(s) = &snapshot {
            b.put(Cf::Meta, key("raft/snapshot"), serde_json::to_vec(s).map_err(sm_err)?);
        }
        write(&self.kv, b).await.map_err(sm_err)?;
        let hook = Arc::clone(&self.hook);
        let next = tokio::task::spawn_blocking(move || {
            hook.applied(&next);
            next
        })
        .await
        .map_err(sm_err)?;
        *self.state.write() = next;
        Ok(())
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, SErr> {
        let st = self.state.read().clone();
        let data = serde_json::to_vec(&st).map_err(sm_err)?;
        let seq = {
            let mut s = self.snapshot_seq.lock();
            *s += 1;
            *s
        };
        let snapshot_id = match st.last_applied {
            Some(l) => format!("{}-{}-{seq}", l.leader_id, l.index),
            None => format!("empty-{seq}"),
        };
        let meta = SnapshotMeta {
            last_log_id: st.last_applied,
            last_membership: st.membership.clone(),
            snapshot_id,
        };
        let stored = StoredSnapshot { meta: meta.clone(), data: data.clone() };
        let mut b = Batch::new();
        b.put(Cf::Meta, key("raft/snapshot"), serde_json::to_vec(&stored).map_err(sm_err)?);
        write(&self.kv, b).await.map_err(sm_err)?;
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(data)) })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = StateMachineStore;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, Member>), SErr> {
        let st = self.state.read();
        Ok((st.last_applied, st.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<CommandResult>, SErr>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut next = self.state.read().clone();
        let mut out = Vec::new();
        for e in entries {
            next.last_applied = Some(e.log_id);
            match e.payload {
                EntryPayload::Blank => out.push(CommandResult::Done),
                EntryPayload::Normal(cmd) => {
                    let voters = next.voters();
                    out.push(next.meta.apply(&cmd, &voters, e.log_id.index));
                }
                EntryPayload::Membership(m) => {
                    next.membership = StoredMembership::new(Some(e.log_id), m);
                    out.push(CommandResult::Done);
                }
            }
        }
        self.commit(next, None).await?;
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, SErr> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, Member>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), SErr> {
        let data = snapshot.into_inner();
        let mut st: AppliedState = serde_json::from_slice(&data).map_err(sm_err)?;
        // The meta is authoritative for what the snapshot covers.
        st.last_applied = meta.last_log_id;
        st.membership = meta.last_membership.clone();
        self.commit(st, Some(StoredSnapshot { meta: meta.clone(), data })).await
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, SErr> {
        let s: Option<StoredSnapshot> = get_json(&*self.kv, &key("raft/snapshot"))?;
        Ok(s.map(|s| Snapshot { meta: s.meta, snapshot: Box::new(Cursor::new(s.data)) }))
    }
}
