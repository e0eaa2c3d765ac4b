//! Full snapshots over the service layer (`/snapshots`): every collection and alias in one
//! file (see `grove_storage`'s full snapshot format). Disk work runs on the blocking pool.

use super::{Service, ServiceResult};
use crate::api;
use crate::operations::Op;

fn out(s: grove_storage::SnapshotDescription) -> api::SnapshotDescription {
    api::SnapshotDescription { name: s.name, creation_time: Some(s.creation_time), size: s.size }
}

impl Service {
    /// `POST /snapshots`.
    pub async fn create_full_snapshot(&self) -> ServiceResult<api::SnapshotDescription> {
        self.run_blocking(Op::CreateFullSnapshot, |s| Ok(out(s.create_full_snapshot()?))).await
    }

    /// `GET /snapshots`.
    pub async fn list_full_snapshots(&self) -> ServiceResult<Vec<api::SnapshotDescription>> {
        self.run_blocking(Op::ListFullSnapshots, |s| {
            Ok(s.list_full_snapshots()?.into_iter().map(out).collect())
        })
        .await
    }

    /// The file of a full snapshot, for downloads (404 when unknown).
    pub async fn full_snapshot_file(&self, snapshot: String) -> ServiceResult<std::path::PathBuf> {
        self.run_blocking(Op::DownloadFullSnapshot, move |s| Ok(s.full_snapshot_path(&snapshot)?)).await
    }

    /// `DELETE /snapshots/{snapshot}`.
    pub async fn delete_full_snapshot(&self, snapshot: String) -> ServiceResult<bool> {
        self.run_blocking(Op::DeleteFullSnapshot, move |s| {
            s.delete_full_snapshot(&snapshot)?;
            Ok(true)
        })
        .await
    }
}
