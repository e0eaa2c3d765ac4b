"""LIMIT diagnostics through GroveClient against a real `grove serve`.

The subset diagnostic runs on 12 unit vectors evenly spread on a circle (d = 2, cosine): a
unit query's top-2 are the two points angularly nearest to it, which are always adjacent, so
exactly the 12 adjacent pairs are returnable and the other 54 pairs are geometry gaps whatever
the query. Recalls are checked against a numpy brute-force oracle. Capacity jobs are tiny (d = 4,
six documents) so they finish in seconds even on a debug build.

Every test runs over both transports (gRPC service grove.v1.Diagnostics and REST) with the same
expectations; only the transport's own error detail (HTTP status or gRPC code) differs.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import pytest

from grove_client import (
    BadRequestError,
    DiagnosticsJob,
    GroveClient,
    NotFoundError,
    SubsetDiagnosis,
)

from .conftest import GroveServer

N = 12


def circle() -> np.ndarray:
    a = np.arange(N) * 2 * math.pi / N
    return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def all_pairs() -> tuple[list[tuple[int, int]], np.ndarray]:
    """Every pair {i, j} with the query pointing at the middle of its shorter arc."""
    pairs, qs = [], []
    for i in range(N):
        for j in range(i + 1, N):
            a, b = 2 * math.pi * i / N, 2 * math.pi * j / N
            mid = (a + b) / 2 if b - a <= math.pi else (a + b) / 2 + math.pi
            pairs.append((i, j))
            qs.append([math.cos(mid), math.sin(mid)])
    return pairs, np.asarray(qs, dtype=np.float32)


def adjacent(i: int, j: int) -> bool:
    return j - i == 1 or (i == 0 and j == N - 1)


def oracle_recall(points: np.ndarray, q: np.ndarray, relevant: set[int], k: int) -> float:
    """Exact recall@k: the share of R among the k points most cosine-similar to q."""
    sims = points @ (q / np.linalg.norm(q))
    top = np.argsort(-sims, kind="stable")[:k]
    return len(relevant & {100 + int(t) for t in top}) / min(k, len(relevant))


@pytest.fixture
def circle_collection(client: GroveClient, collection_name: str) -> str:
    client.create_collection(collection_name, 2, "cosine")
    client.upsert(collection_name, circle(), ids=[100 + i for i in range(N)], payloads=[{"half": i < N // 2} for i in range(N)])
    return collection_name


def test_circle_adjacent_pairs_hit_others_are_geometry_gaps(client: GroveClient, circle_collection: str) -> None:
    pairs, queries = all_pairs()
    relevant = [[100 + i, 100 + j] for i, j in pairs]
    # A returnable pair asked by a query pointing the other way: the encoder's fault.
    away = circle()[6]
    queries = np.vstack([queries, away[None, :]])
    relevant.append([100, 101])

    r = client.diagnose_subsets(circle_collection, queries, relevant, k=[2, 4])

    assert isinstance(r, SubsetDiagnosis)
    assert r.k == [2, 4]
    assert r.total_queries == r.diagnosed == len(pairs) + 1
    assert r.allowed_points == N
    want = ["hit" if adjacent(i, j) else "geometry_gap" for i, j in pairs] + ["encoder_gap"]
    assert r.query_labels == want
    assert r.labels["hit"] == N
    assert r.labels["geometry_gap"] == N * (N - 3) // 2
    assert r.labels["encoder_gap"] == 1
    assert r.exact_top_is_relevant == N
    assert [q.query for q in r.queries] == list(range(len(want)))
    pts = circle()
    for q, vec, rel in zip(r.queries, queries, relevant):
        assert q.relevant == 2
        assert q.recall_exact is not None
        for got, k in zip(q.recall_exact, r.k):
            assert got == pytest.approx(oracle_recall(pts, vec, set(rel), k)), (q, k)
    # The encoder gap comes with a proved margin > 0; a geometry gap's upper bound is ~0.
    assert r.queries[-1].margin is not None and r.queries[-1].margin > 0
    gaps = [q for q in r.queries if q.label == "geometry_gap"]
    assert all(q.margin_upper is not None and q.margin_upper < 1e-3 for q in gaps)


def test_filter_and_plain_lists(client: GroveClient, circle_collection: str) -> None:
    half = {"must": [{"key": "half", "match": {"value": True}}]}
    # Plain lists are accepted as well as numpy arrays; one 1-D vector is one query.
    r = client.diagnose_subsets(circle_collection, [1.0, 0.0], [[100, 101]], k=2, filter=half)
    assert r.allowed_points == N // 2
    assert r.query_labels == ["hit"]
    with pytest.raises(BadRequestError) as e:
        client.diagnose_subsets(circle_collection, [[1.0, 0.0]], [[100, 107]], filter=half)
    assert "queries[0].relevant: point 107 does not match the filter" in e.value.message


def test_subset_validation_errors(client: GroveClient, circle_collection: str) -> None:
    with pytest.raises(BadRequestError) as e:
        client.diagnose_subsets(circle_collection, [[1.0, 0.0]], [[999]])
    assert "queries[0].relevant: point 999 does not exist" in e.value.message
    if client.transport_name == "rest":
        assert e.value.http_status == 400 and e.value.grpc_code is None
    else:
        assert e.value.grpc_code == "INVALID_ARGUMENT" and e.value.http_status is None
    with pytest.raises(BadRequestError) as e:
        client.diagnose_subsets(circle_collection, [[1.0, 0.0]], [[100]], k=[0])
    assert "k:" in e.value.message
    with pytest.raises(BadRequestError) as e:
        client.diagnose_subsets(circle_collection, [[1.0, 0.0]], [[]])
    assert "queries[0].relevant" in e.value.message
    # Caught by the client before sending.
    with pytest.raises(BadRequestError, match="2 relevant sets for 1 queries"):
        client.diagnose_subsets(circle_collection, [[1.0, 0.0]], [[100], [101]])
    with pytest.raises(BadRequestError, match="relevant\\[0\\] must be a list"):
        client.diagnose_subsets(circle_collection, [[1.0, 0.0]], [100])
    with pytest.raises(NotFoundError) as e:
        client.diagnose_subsets("no_such_collection", [[1.0, 0.0]], [[100]])
    assert "no_such_collection" in e.value.message


@pytest.fixture(params=["grpc", "rest"])
def jobs(request: pytest.FixtureRequest, server: GroveServer) -> Iterator[GroveClient]:
    """A client for the capacity-job tests, once per transport (they need no collection)."""
    c = server.client(request.param)
    yield c
    c.close()


def test_tiny_capacity_job_runs_to_completion(jobs: GroveClient) -> None:
    # Disjoint pairs over six documents are realisable in four dimensions.
    job = jobs.start_capacity_job(4, n=6, qrels=[[0, 1], [2, 3], [4, 5]], seed=3)
    assert isinstance(job, DiagnosticsJob)
    assert job.kind == "capacity"
    done = jobs.wait_job(job.id, timeout=120)
    assert done.status == "done", done
    assert done.finished and done.error is None
    r = done.result
    assert r is not None
    assert (r.mode, r.d, r.k) == ("probe", 4, 2)
    assert len(r.probes) == 1 and r.probes[0].n == 6 and r.probes[0].qrels == 3
    assert r.probes[0].all_realised
    assert r.exact_bound_dim.kind == "exact_bound"
    assert jobs.get_job(job.id).status == "done"


def test_cancel_keeps_what_finished(jobs: GroveClient, server: GroveServer) -> None:
    job = jobs.start_capacity_job(24, budget_secs=600)
    assert job.status == "running"
    # The job is on the server, not in this client: a client over the other transport sees and
    # cancels it.
    with server.client("rest" if jobs.transport_name == "grpc" else "grpc") as other:
        cancelled = other.cancel_job(job.id)
    assert cancelled.id == job.id
    assert cancelled.status in ("cancelling", "cancelled")
    end = jobs.wait_job(job.id, timeout=120)
    assert end.status == "cancelled", end
    assert end.result is not None and not end.result.complete


def test_capacity_validation_and_unknown_jobs(jobs: GroveClient) -> None:
    with pytest.raises(BadRequestError) as e:
        jobs.start_capacity_job(0)
    assert e.value.message.startswith("d:")
    with pytest.raises(BadRequestError) as e:
        jobs.start_capacity_job(4, pattern="zigzag")
    assert "pattern:" in e.value.message
    with pytest.raises(BadRequestError) as e:
        jobs.start_capacity_job(4, qrels=[[0, 1]])
    assert "n:" in e.value.message
    with pytest.raises(NotFoundError) as e:
        jobs.get_job(987654)
    assert "987654" in e.value.message
    with pytest.raises(NotFoundError):
        jobs.cancel_job(987654)
