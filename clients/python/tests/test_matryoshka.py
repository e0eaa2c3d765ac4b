"""Matryoshka calls of the Python client against a real `grove serve`, over both transports
(the ``client`` fixture is parametrised: gRPC Collections/Points messages and REST) with the same
expectations.

Truth is numpy brute force over the vectors the test inserted, never a recorded result.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from grove_client import BadRequestError, CalibrationReport, GroveClient, MatryoshkaInfo

DIM = 16
N = 300


def _data() -> tuple[np.ndarray, list[dict]]:
    rng = np.random.default_rng(7)
    # Decaying scale per component, like a Matryoshka-trained embedding: prefixes carry most signal.
    vecs = (rng.standard_normal((N, DIM)) * np.linspace(2.0, 0.2, DIM)).astype(np.float32)
    payloads = [{"cat": "even" if i % 2 == 0 else "odd"} for i in range(N)]
    return vecs, payloads


def _cosine_topk(vecs: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    s = unit @ (q / np.linalg.norm(q))
    idx = np.arange(len(vecs)) if allowed is None else allowed
    order = idx[np.argsort(-s[idx], kind="stable")]
    return [int(i) for i in order[:k]]


@pytest.fixture
def mcol(client: GroveClient, collection_name: str) -> tuple[str, np.ndarray]:
    vecs, payloads = _data()
    assert client.create_collection(collection_name, DIM, "cosine", matryoshka={"dims": [4, 8], "dtype": "f32"})
    client.create_payload_index(collection_name, "cat", "keyword")
    client.upsert(collection_name, vecs, ids=list(range(N)), payloads=payloads)
    return collection_name, vecs


def test_info_exposes_prefixes(client: GroveClient, mcol: tuple[str, np.ndarray]) -> None:
    name, _ = mcol
    info = client.matryoshka_info(name)
    assert isinstance(info, MatryoshkaInfo)
    assert info.dims == [4, 8]
    assert info.config["dims"] == [4, 8]
    assert info.dtype == "f32" and info.renormalise is True and info.pca is False
    assert [p.bytes_per_vector for p in info.prefixes] == [16, 32]
    assert all(p.variance_kept is None for p in info.prefixes)
    assert info.memory_bytes >= N * (16 + 32)


def test_full_oversample_equals_brute_force(client: GroveClient, mcol: tuple[str, np.ndarray]) -> None:
    name, vecs = mcol
    rng = np.random.default_rng(11)
    for _ in range(5):
        q = rng.standard_normal(DIM).astype(np.float32)
        # oversample * limit >= N: every point reaches the full-dimension rescore.
        r = client.query(name, q, limit=5, matryoshka={"dim": 4, "oversample": 60, "path": "scan"}, explain=True)
        assert [int(i) for i in r.ids] == _cosine_topk(vecs, q, 5)
        assert r.explain is not None and r.explain.path == "matryoshka"
        stages = r.explain.matryoshka
        assert [s.dim for s in stages] == [4, DIM]
        assert stages[0].path == "prefix_scan" and stages[0].candidates_in == N
        assert stages[-1].path == "rescore" and stages[-1].kept == 5


def test_batch_and_funnel_equal_brute_force(client: GroveClient, mcol: tuple[str, np.ndarray]) -> None:
    name, vecs = mcol
    qs = np.random.default_rng(12).standard_normal((4, DIM)).astype(np.float32)
    res = client.query_batch(
        # The funnel drops only the point farthest at prefix 8 (keep must shrink), so the
        # top 3 still equal brute force.
        name, qs, limit=3, explain=True, matryoshka={"dim": 4, "oversample": 100, "funnel": [(8, N - 1)]}
    )
    for i, r in enumerate(res):
        assert [int(x) for x in r.ids] == _cosine_topk(vecs, qs[i], 3)
        assert r.explain is not None and [s.dim for s in r.explain.matryoshka] == [4, 8, DIM]


def test_filtered_prefix_query(client: GroveClient, mcol: tuple[str, np.ndarray]) -> None:
    name, vecs = mcol
    q = np.random.default_rng(13).standard_normal(DIM).astype(np.float32)
    flt = {"must": [{"key": "cat", "match": {"value": "odd"}}]}
    r = client.query(name, q, limit=5, filter=flt, with_payload=True, explain=True,
                     matryoshka={"dim": 8, "oversample": 40, "path": "scan"})
    assert all(p["cat"] == "odd" for p in r.payloads)
    assert [int(i) for i in r.ids] == _cosine_topk(vecs, q, 5, np.arange(1, N, 2))
    assert r.explain is not None and r.explain.matryoshka[0].candidates_in == N // 2


def test_calibrate_recommends(client: GroveClient, mcol: tuple[str, np.ndarray]) -> None:
    name, _ = mcol
    rep = client.calibrate_matryoshka(name, sample=40, oversamples=[1, 4, 32], target_recall=0.9)
    assert isinstance(rep, CalibrationReport)
    assert rep.queries == 40 and rep.k == 10 and rep.target_recall == 0.9
    assert {(row.dim, row.oversample) for row in rep.rows} >= {(4, 32), (8, 32)}
    assert rep.exact.dim == DIM and rep.exact.recall == 1.0
    # oversample 32 * k=10 > N covers every point, so some setting reaches the target.
    assert rep.recommended is not None and rep.recommended.recall >= 0.9
    assert rep.recommended.cost <= rep.exact.cost
    params = rep.query_params()
    assert params == {"dim": rep.recommended.dim, "oversample": rep.recommended.oversample}
    assert len(client.query(name, np.ones(DIM), limit=10, matryoshka=params)) == 10


def test_undeclared_prefix_is_a_bad_request(client: GroveClient, mcol: tuple[str, np.ndarray]) -> None:
    name, _ = mcol
    with pytest.raises(BadRequestError) as e:
        client.query(name, np.ones(DIM), limit=5, matryoshka={"dim": 6})
    assert "dim" in str(e.value) and "6" in str(e.value)
    with pytest.raises(BadRequestError) as e:
        client.calibrate_matryoshka(name, dims=[5])
    assert "dims" in str(e.value)
    with pytest.raises(BadRequestError) as e:
        client.create_collection(name + "_bad", DIM, matryoshka={"dims": [DIM]})
    assert "matryoshka" in str(e.value)
    # Wrong value types: the server's JSON decoder refuses them over REST, the client's message
    # builder over gRPC; either way a BadRequestError and no collection.
    with pytest.raises(BadRequestError):
        client.create_collection(name + "_bad", DIM, matryoshka={"dims": [4], "dtype": 16})
    with pytest.raises(BadRequestError):
        client.query(name, np.ones(DIM), limit=5, matryoshka={"dim": 4, "path": 3})
    assert not client.collection_exists(name + "_bad")


def test_client_side_checks(client: GroveClient) -> None:
    with pytest.raises(BadRequestError, match="oversampel"):
        client.query("any", np.ones(DIM), matryoshka={"dim": 4, "oversampel": 2})
    with pytest.raises(BadRequestError, match="dims"):
        client.create_collection("any", DIM, matryoshka={"dtype": "f16"})


def test_plain_collection_has_no_matryoshka(client: GroveClient, collection_name: str) -> None:
    client.create_collection(collection_name, DIM)
    assert client.matryoshka_info(collection_name) is None


def test_pca_variance_kept(client: GroveClient, collection_name: str) -> None:
    vecs, _ = _data()
    client.create_collection(collection_name, DIM, matryoshka={"dims": [4, 8], "pca": True, "pca_min_points": 100})
    client.upsert(collection_name, vecs)
    deadline = time.monotonic() + 60
    info = client.matryoshka_info(collection_name)
    while info is not None and not info.pca and time.monotonic() < deadline:
        time.sleep(0.2)
        info = client.matryoshka_info(collection_name)
    assert info is not None and info.pca, "PCA not fitted within 60 s"
    kept = [p.variance_kept for p in info.prefixes]
    assert all(v is not None for v in kept)
    assert 0.0 < kept[0] <= kept[1] <= 1.0  # type: ignore[operator]
