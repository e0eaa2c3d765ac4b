"""A gRPC client whose REST url is unreachable still does every Matryoshka and LIMIT diagnostics
call: they go over gRPC, not over REST (only snapshot upload needs REST; the test shows that
this url really is unreachable by failing there)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from grove_client import GroveClient, UnavailableError

from .conftest import GroveServer, free_port

DIM = 8
N = 64


@pytest.fixture
def grpc_only(server: GroveServer) -> Iterator[GroveClient]:
    # A port nothing listens on: any REST call fails with UnavailableError.
    dead = f"http://127.0.0.1:{free_port()}"
    c = GroveClient(dead, grpc_target=f"127.0.0.1:{server.grpc_port}", api_key=server.api_key, timeout=30)
    assert c.transport_name == "grpc"
    yield c
    c.close()


def test_matryoshka_and_diagnostics_without_rest(grpc_only: GroveClient, tmp_path: Path) -> None:
    c = grpc_only
    name = "grpc_only_matryoshka"
    rng = np.random.default_rng(5)
    vecs = (rng.standard_normal((N, DIM)) * np.linspace(2.0, 0.5, DIM)).astype(np.float32)
    try:
        assert c.create_collection(name, DIM, "cosine", matryoshka={"dims": [2, 4], "dtype": "f32"})
        c.upsert(name, vecs)

        info = c.matryoshka_info(name)
        assert info is not None and info.dims == [2, 4] and info.config["dims"] == [2, 4]

        unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        q = rng.standard_normal(DIM).astype(np.float32)
        want = [int(i) for i in np.argsort(-(unit @ (q / np.linalg.norm(q))), kind="stable")[:3]]
        # oversample * limit >= N: every point reaches the full-dimension rescore (exact answer).
        r = c.query(name, q, limit=3, matryoshka={"dim": 2, "oversample": N, "path": "scan"}, explain=True)
        assert [int(i) for i in r.ids] == want
        assert r.explain is not None and [s.dim for s in r.explain.matryoshka] == [2, DIM]
        b = c.query_batch(name, np.stack([q, q]), limit=3, matryoshka={"dim": 4, "oversample": N})
        assert [[int(i) for i in row] for row in b.ids] == [want, want]

        rep = c.calibrate_matryoshka(name, sample=10, oversamples=[1, 32], target_recall=0.5)
        assert rep.queries == 10 and rep.exact.recall == 1.0

        # The subset diagnostic: the two points nearest to a stored point's own vector.
        top2 = [int(i) for i in np.argsort(-(unit @ unit[0]), kind="stable")[:2]]
        d = c.diagnose_subsets(name, vecs[:1], [top2], k=[2])
        assert d.query_labels == ["hit"] and d.queries[0].recall_exact == [1.0]
    finally:
        c.delete_collection(name)

    job = c.start_capacity_job(4, n=6, qrels=[[0, 1], [2, 3], [4, 5]], seed=3)
    assert c.get_job(job.id).id == job.id
    done = c.wait_job(job.id, timeout=120)
    assert done.status == "done" and done.result is not None and done.result.probes[0].all_realised
    long = c.start_capacity_job(24, budget_secs=600)
    assert c.cancel_job(long.id).status in ("cancelling", "cancelled")
    end = c.wait_job(long.id, timeout=120)
    assert end.status == "cancelled"
    assert end.result is not None and end.result.exact_bound_dim.kind == "exact_bound"

    # Snapshot upload is REST-only on the server, so it is the one call that needs the url.
    archive = tmp_path / "none.tar"
    archive.write_bytes(b"")
    with pytest.raises(UnavailableError):
        c.upload_snapshot("grpc_only_upload", str(archive))
