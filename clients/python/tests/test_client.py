"""GroveClient against a real `grove serve`, over both transports (gRPC and REST).

Every search result is checked against a numpy brute-force oracle on seeded data.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from grove_client import (
    BadRequestError,
    ConflictError,
    GroveClient,
    NotFoundError,
    UnauthorizedError,
)

from .conftest import GroveServer

N, DIM = 600, 16
CATS = ["cs.LG", "cs.CL", "math.ST"]


def dataset(seed: int = 7) -> tuple[np.ndarray, list[dict]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(N, DIM)).astype(np.float32)
    payloads = [
        {"category": CATS[i % 3], "year": 2010 + i % 12, "tags": ["odd" if i % 2 else "even", f"m{i % 5}"], "n": i}
        for i in range(N)
    ]
    return vectors, payloads


def cosine_topk(vectors: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact oracle: ids and cosine similarities of the k best allowed rows."""
    vn = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = vn @ (q / np.linalg.norm(q))
    ids = np.arange(len(vectors)) if allowed is None else np.flatnonzero(allowed)
    order = ids[np.argsort(-sims[ids], kind="stable")][:k]
    return order, sims[order]


@pytest.fixture
def loaded(client: GroveClient, collection_name: str) -> tuple[str, np.ndarray, list[dict]]:
    vectors, payloads = dataset()
    client.create_collection(collection_name, DIM, "cosine")
    client.create_payload_index(collection_name, "category", "keyword")
    client.create_payload_index(collection_name, "year", "integer")
    summary = client.upsert(collection_name, vectors, payloads=payloads, batch_size=128)
    assert summary.points == N and summary.batches == 5
    return collection_name, vectors, payloads


LG_RECENT = {"must": [{"key": "category", "match": {"value": "cs.LG"}}, {"key": "year", "range": {"gte": 2015, "lt": 2019}}]}


def lg_recent_mask(payloads: list[dict]) -> np.ndarray:
    return np.array([p["category"] == "cs.LG" and 2015 <= p["year"] < 2019 for p in payloads])


def test_collection_lifecycle(client: GroveClient, collection_name: str) -> None:
    assert client.create_collection(collection_name, 8, "dot", m=8, ef_construction=32)
    assert collection_name in client.list_collections()
    assert client.collection_exists(collection_name)
    info = client.get_collection(collection_name)
    assert (info.name, info.dim, info.distance, info.points_count) == (collection_name, 8, "dot", 0)
    assert info.hnsw_config.get("m") == 8
    with pytest.raises(ConflictError):
        client.create_collection(collection_name, 8)
    assert client.delete_collection(collection_name) is True
    assert client.delete_collection(collection_name) is False
    with pytest.raises(NotFoundError) as e:
        client.get_collection(collection_name)
    assert collection_name in e.value.message


def test_payload_index_shows_in_info(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, _, _ = loaded
    info = client.get_collection(name)
    assert info.points_count == N
    assert info.payload_schema["category"].schema == "keyword"
    assert info.payload_schema["year"].schema == "integer"
    assert info.payload_schema["category"].points == N
    client.delete_payload_index(name, "year")
    assert "year" not in client.get_collection(name).payload_schema


def test_count_matches_python(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, _, payloads = loaded
    assert client.count(name) == N
    assert client.count(name, filter=LG_RECENT) == int(lg_recent_mask(payloads).sum())
    not_lg = {"must_not": [{"key": "category", "match": {"value": "cs.LG"}}]}
    assert client.count(name, filter=not_lg) == sum(p["category"] != "cs.LG" for p in payloads)
    any_tag = {"must": [{"key": "tags", "match": {"any": ["m1", "m2"]}}]}
    assert client.count(name, filter=any_tag) == sum(p["n"] % 5 in (1, 2) for p in payloads)


def test_exact_query_equals_oracle(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, vectors, payloads = loaded
    q = np.random.default_rng(1).normal(size=DIM).astype(np.float32)
    r = client.query(name, q, limit=10, exact=True)
    ids, sims = cosine_topk(vectors, q, 10)
    assert r.ids.dtype == np.uint64 and r.scores.dtype == np.float32
    assert r.ids.tolist() == ids.tolist()
    np.testing.assert_allclose(r.scores, sims, atol=1e-4)
    assert r.payloads[0] == payloads[int(ids[0])]


def test_filtered_query_obeys_filter_and_matches_oracle(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, vectors, payloads = loaded
    mask = lg_recent_mask(payloads)
    rng = np.random.default_rng(2)
    recalls = []
    for _ in range(10):
        q = rng.normal(size=DIM).astype(np.float32)
        exact = client.query(name, q, limit=10, filter=LG_RECENT, strategy="exact")
        oracle, _ = cosine_topk(vectors, q, 10, mask)
        assert exact.ids.tolist() == oracle.tolist()
        auto = client.query(name, q, limit=10, filter=LG_RECENT)
        assert all(p["category"] == "cs.LG" and 2015 <= p["year"] < 2019 for p in auto.payloads)
        recalls.append(len(set(auto.ids.tolist()) & set(oracle.tolist())) / len(oracle))
    # The planner may answer with a graph path; over 10 queries it must find >= 90% of the truth.
    assert np.mean(recalls) >= 0.9, recalls


def test_query_options(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, vectors, _ = loaded
    q = vectors[3]
    full = client.query(name, q, limit=6, exact=True)
    assert int(full.ids[0]) == 3 and full.scores[0] == pytest.approx(1.0, abs=1e-4)
    skipped = client.query(name, q, limit=3, offset=3, exact=True)
    assert skipped.ids.tolist() == full.ids[3:6].tolist()
    only_year = client.query(name, q, limit=2, with_payload=["year"])
    assert set(only_year.payloads[0]) == {"year"}
    none = client.query(name, q, limit=2, with_payload=False, with_vector=True)
    assert none.payloads == [None, None]
    assert none.vectors is not None and none.vectors.shape == (2, DIM)
    thr = client.query(name, q, limit=50, score_threshold=0.3, exact=True)
    assert len(thr) > 0 and float(thr.scores.min()) >= 0.3 - 1e-6
    hits = list(full)
    assert hits[0].id == 3 and isinstance(hits[0].payload, dict)


def test_query_batch_matches_single_queries(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, vectors, payloads = loaded
    qs = np.random.default_rng(3).normal(size=(7, DIM)).astype(np.float32)
    filters = [None, LG_RECENT] * 3 + [None]
    batch = client.query_batch(name, qs, limit=5, filter=filters, exact=True, batch_size=3)
    assert batch.ids.shape == (7, 5) and batch.scores.shape == (7, 5)
    mask = lg_recent_mask(payloads)
    for i in range(7):
        oracle, _ = cosine_topk(vectors, qs[i], 5, mask if filters[i] else None)
        assert batch.ids[i].tolist() == oracle.tolist()


def test_explain(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, vectors, payloads = loaded
    e = client.explain(name, vectors[0], filter=LG_RECENT)
    assert e.live_points == N
    assert e.allowed_points == int(lg_recent_mask(payloads).sum())
    assert e.selectivity == pytest.approx(e.allowed_points / N, rel=1e-6)
    assert e.path in {"exact", "hnsw", "acorn1", "acorn_gamma"} and e.reason
    forced = client.query(name, vectors[0], filter=LG_RECENT, strategy="exact", explain=True)
    assert forced.explain is not None and forced.explain.path == "exact"
    # Storage's side: which fields an index answered, which were scanned.
    assert e.filter is not None and e.filter["cardinality"] == e.allowed_points
    assert e.filter["indexed_fields"] == ["category", "year"] and e.filter["unindexed_fields"] == []
    mixed = client.explain(name, vectors[0], filter={"must": [{"key": "category", "match": {"value": "cs.LG"}}, {"key": "n", "range": {"lt": 100}}]})
    assert mixed.filter is not None and mixed.filter["unindexed_fields"] == ["n"]
    assert mixed.filter["payloads_scanned"] == N
    assert mixed.filter["cardinality"] == sum(1 for p in payloads if p["category"] == "cs.LG" and p["n"] < 100)
    assert client.explain(name, vectors[0]).filter is None


def test_scroll_pages_through_everything(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, _, payloads = loaded
    first = client.scroll(name, limit=50)
    assert [p.id for p in first] == list(range(50)) and first.next_offset == 50
    ids = [p.id for p in client.scroll_all(name, page_size=128)]
    assert ids == list(range(N))
    lg = [p.id for p in client.scroll_all(name, filter={"must": [{"key": "category", "match": {"value": "cs.LG"}}]})]
    assert lg == [i for i, p in enumerate(payloads) if p["category"] == "cs.LG"]


def test_get_delete_and_payload_edits(loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient) -> None:
    name, _, payloads = loaded
    recs = client.get(name, [5, 6, 10_000], with_vector=True)
    assert [r.id for r in recs] == [5, 6]
    assert recs[0].payload == payloads[5] and recs[0].vector is not None and recs[0].vector.shape == (DIM,)
    client.set_payload(name, {"flag": True}, [5, 6])
    assert client.count(name, filter={"must": [{"key": "flag", "match": {"value": True}}]}) == 2
    client.delete_payload(name, ["flag"], [6])
    assert client.get(name, [6])[0].payload == payloads[6]
    client.set_payload(name, {"only": 1}, [7], overwrite=True)
    assert client.get(name, [7])[0].payload == {"only": 1}
    client.delete(name, [0, 1, 2])
    assert client.count(name) == N - 3
    res = client.delete(name, filter={"must": [{"key": "category", "match": {"value": "math.ST"}}]})
    assert res.status in ("completed", "acknowledged")
    remaining = N - 3 - sum(1 for i, p in enumerate(payloads) if p["category"] == "math.ST" and i > 2)
    assert client.count(name) == remaining
    assert client.get(name, [2]) == []


def test_records_with_uuid_ids(client: GroveClient, collection_name: str) -> None:
    client.create_collection(collection_name, 3, "euclid")
    uid = str(uuid.UUID(int=42))
    client.upsert(
        collection_name,
        points=[
            {"id": uid, "vector": [1.0, 0.0, 0.0], "payload": {"name": "x", "nested": {"a": [1, 2.5, None]}}},
            {"id": 9, "vector": np.array([0.0, 2.0, 0.0])},
        ],
    )
    r = client.query(collection_name, [1.0, 0.1, 0.0], limit=2, exact=True)
    assert r.ids.dtype == object and r.ids.tolist() == [uid, 9]
    assert r.scores[0] == pytest.approx(0.1, abs=1e-5)  # euclid: the distance, as in Qdrant
    assert r.payloads[0] == {"name": "x", "nested": {"a": [1, 2.5, None]}}
    assert r.ids.tolist() == [uid, 9]


def test_server_errors_carry_the_message(client: GroveClient, collection_name: str) -> None:
    client.create_collection(collection_name, 4)
    with pytest.raises(BadRequestError) as e:
        client.upsert(collection_name, np.ones((1, 5)))
    assert "4" in e.value.message and "5" in e.value.message
    with pytest.raises(NotFoundError):
        client.query("no_such_collection", [0.0] * 4)
    with pytest.raises(BadRequestError):
        client.query(collection_name, [1.0] * 4, filter={"must": [{"key": "x", "match": {"value": 1.5}}]})


def test_wrong_api_key_is_rejected(server: GroveServer) -> None:
    for transport in ("grpc", "rest"):
        bad = GroveClient(server.url, grpc_port=server.grpc_port, transport=transport, api_key="wrong", timeout=10)
        with pytest.raises(UnauthorizedError) as e:
            bad.list_collections()
        assert "key" in e.value.message.lower()
        bad.close()


def test_health(client: GroveClient) -> None:
    h = client.wait_ready(timeout=5)
    assert h.ready and h.version


def test_snapshots(
    loaded: tuple[str, np.ndarray, list[dict]], client: GroveClient, server: GroveServer, tmp_path: Path
) -> None:
    name, _, _ = loaded
    s = client.create_snapshot(name)
    assert s.name and s.size > 0
    assert s.name in [x.name for x in client.list_snapshots(name)]
    before = client.count(name, filter=LG_RECENT)
    client.delete(name, filter={"must": [{"key": "category", "match": {"value": "cs.LG"}}]})
    assert client.count(name, filter=LG_RECENT) == 0
    # Recover on the running server: the deleted points are back.
    assert client.restore_snapshot(name, s.name)
    assert client.count(name, filter=LG_RECENT) == before and client.count(name) == N
    # Download, then upload into a new collection (REST streams it whatever the transport).
    dest = tmp_path / s.name
    assert client.download_snapshot(name, s.name, str(dest)) == s.size == dest.stat().st_size
    copy = f"{name}_copy"
    try:
        assert client.upload_snapshot(copy, str(dest))
        assert client.count(copy, filter=LG_RECENT) == before
        # A damaged archive is refused and leaves the collection as it was.
        damaged = tmp_path / "damaged.snapshot"
        raw = bytearray(dest.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        damaged.write_bytes(bytes(raw))
        with pytest.raises(BadRequestError) as e:
            client.upload_snapshot(copy, str(damaged))
        assert "checksum" in e.value.message or "damaged" in e.value.message
        assert client.count(copy) == N
    finally:
        client.delete_collection(copy)
    # Dimension conflict: a 16-d snapshot cannot replace an 8-d collection.
    other = f"{name}_8d"
    client.create_collection(other, 8)
    try:
        with pytest.raises(ConflictError):
            client.restore_snapshot(other, f"file://{server.data_dir / 'data' / 'snapshots' / name / s.name}")
    finally:
        client.delete_collection(other)
    with pytest.raises(NotFoundError):
        client.restore_snapshot(name, "no-such.snapshot")
    assert client.delete_snapshot(name, s.name)
    with pytest.raises(NotFoundError):
        client.delete_snapshot(name, s.name)
    assert s.name not in [x.name for x in client.list_snapshots(name)]

