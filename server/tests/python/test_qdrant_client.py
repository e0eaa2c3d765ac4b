"""The unmodified qdrant-client (from PyPI) driving a real Grove server, over REST and over
Qdrant's gRPC API (`prefer_grpc=True`): the same workflow on both transports.

Every answer is checked against an exact computation with numpy over the same seeded data.
Run through run.sh, which starts the server and sets GROVE_URL and GROVE_GRPC_PORT.
"""

import os
import uuid

import numpy as np
import pytest
from qdrant_client import QdrantClient, models

N = 1000
DIM = 16
COLLECTION = "qc_compat"
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "math.ST"]
TAGS = ["x", "y", "z"]


@pytest.fixture(scope="module", params=["rest", "grpc"])
def transport(request):
    return request.param


@pytest.fixture(scope="module")
def client(transport):
    if transport == "grpc":
        c = QdrantClient(url=os.environ["GROVE_URL"], grpc_port=int(os.environ["GROVE_GRPC_PORT"]),
                         prefer_grpc=True, check_compatibility=False, timeout=60)
    else:
        c = QdrantClient(url=os.environ["GROVE_URL"], check_compatibility=False, timeout=60)
    yield c
    c.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(20261127)
    vectors = rng.normal(size=(N, DIM)).astype(np.float32)
    categories = rng.choice(CATEGORIES, size=N)
    years = rng.integers(2010, 2025, size=N)
    scores = rng.uniform(0.0, 1.0, size=N)
    tags = [list(rng.choice(TAGS, size=rng.integers(0, 3), replace=False)) for _ in range(N)]
    payloads = [
        {"category": str(categories[i]), "year": int(years[i]), "score": float(scores[i]), "tags": [str(t) for t in tags[i]]}
        for i in range(N)
    ]
    return {"vectors": vectors, "categories": categories, "years": years, "tags": tags, "payloads": payloads}


def cosine_scores(vectors, q):
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return v @ (q / np.linalg.norm(q))


def the_filter():
    # must: category == cs.LG AND 2015 <= year < 2021; must_not: tagged "x".
    return models.Filter(
        must=[
            models.FieldCondition(key="category", match=models.MatchValue(value="cs.LG")),
            models.FieldCondition(key="year", range=models.Range(gte=2015, lt=2021)),
        ],
        must_not=[models.FieldCondition(key="tags", match=models.MatchAny(any=["x"]))],
    )


def filter_mask(data, alive):
    mask = (data["categories"] == "cs.LG") & (data["years"] >= 2015) & (data["years"] < 2021)
    mask &= np.array(["x" not in t for t in data["tags"]])
    return mask & alive


def exact_top(data, q, mask, k):
    s = cosine_scores(data["vectors"], q)
    s = np.where(mask, s, -np.inf)
    order = np.argsort(-s, kind="stable")[:k]
    return [int(i) for i in order if np.isfinite(s[i])], s


@pytest.fixture(scope="module")
def loaded(client, data):
    if client.collection_exists(COLLECTION):
        client.delete_collection(COLLECTION)
    assert client.create_collection(COLLECTION, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
    client.create_payload_index(COLLECTION, "category", models.PayloadSchemaType.KEYWORD)
    client.create_payload_index(COLLECTION, "year", models.PayloadSchemaType.INTEGER)
    client.create_payload_index(COLLECTION, "tags", models.PayloadSchemaType.KEYWORD)
    for start in range(0, N, 250):
        points = [
            models.PointStruct(id=i, vector=data["vectors"][i].tolist(), payload=data["payloads"][i])
            for i in range(start, min(N, start + 250))
        ]
        res = client.upsert(COLLECTION, points=points, wait=True)
        assert res.status == models.UpdateStatus.COMPLETED
    return np.ones(N, dtype=bool)


def test_collection_info(client, loaded):
    info = client.get_collection(COLLECTION)
    assert info.points_count == N
    assert info.config.params.vectors.size == DIM
    assert set(info.payload_schema) == {"category", "year", "tags"}
    assert COLLECTION in [c.name for c in client.get_collections().collections]


def test_filtered_query_matches_numpy(client, data, loaded):
    rng = np.random.default_rng(7)
    mask = filter_mask(data, loaded)
    assert 20 < mask.sum() < N // 4, "the filter should be selective but not empty"
    for _ in range(10):
        q = rng.normal(size=DIM).astype(np.float32)
        want, s = exact_top(data, q, mask, 10)
        exact = client.query_points(COLLECTION, query=q.tolist(), query_filter=the_filter(), limit=10,
                                    search_params=models.SearchParams(exact=True), with_payload=True).points
        assert [p.id for p in exact] == want
        for p in exact:
            assert abs(p.score - s[p.id]) < 1e-4
            assert p.payload["category"] == "cs.LG" and 2015 <= p.payload["year"] < 2021
            assert "x" not in p.payload["tags"]
        auto = client.query_points(COLLECTION, query=q, query_filter=the_filter(), limit=10).points
        recall = len({p.id for p in auto} & set(want)) / len(want)
        assert recall >= 0.9, f"auto recall@10 {recall}"


def test_unfiltered_query_offset_and_threshold(client, data, loaded):
    q = np.random.default_rng(8).normal(size=DIM).astype(np.float32)
    want, s = exact_top(data, q, loaded, 15)
    page = client.query_points(COLLECTION, query=q.tolist(), limit=5, offset=10,
                               search_params=models.SearchParams(exact=True)).points
    assert [p.id for p in page] == want[10:15]
    threshold = float(s[want[4]]) - 1e-6
    above = client.query_points(COLLECTION, query=q.tolist(), limit=50, score_threshold=threshold,
                                search_params=models.SearchParams(exact=True)).points
    assert [p.id for p in above] == want[:5]


def test_query_batch(client, data, loaded):
    rng = np.random.default_rng(9)
    qs = rng.normal(size=(3, DIM)).astype(np.float32)
    mask = filter_mask(data, loaded)
    reqs = [models.QueryRequest(query=q.tolist(), filter=the_filter(), limit=5, params=models.SearchParams(exact=True)) for q in qs]
    results = client.query_batch_points(COLLECTION, requests=reqs)
    assert len(results) == 3
    for q, r in zip(qs, results):
        assert [p.id for p in r.points] == exact_top(data, q, mask, 5)[0]


def test_scroll_pages_through_the_filter(client, data, loaded):
    mask = filter_mask(data, loaded)
    seen, offset = [], None
    while True:
        points, offset = client.scroll(COLLECTION, scroll_filter=the_filter(), limit=7, offset=offset, with_payload=["year"])
        seen.extend(p.id for p in points)
        for p in points:
            assert set(p.payload) == {"year"}
        if offset is None:
            break
    assert seen == sorted(seen), "scroll is in id order"
    assert seen == [int(i) for i in np.flatnonzero(mask)]


def test_count(client, data, loaded):
    assert client.count(COLLECTION, exact=True).count == int(loaded.sum())
    assert client.count(COLLECTION, count_filter=the_filter(), exact=True).count == int(filter_mask(data, loaded).sum())


def test_retrieve_and_payload_edits(client, data, loaded):
    recs = client.retrieve(COLLECTION, ids=[3, 4, 999999], with_vectors=True)
    assert sorted(r.id for r in recs) == [3, 4]
    for r in recs:
        assert r.payload == data["payloads"][r.id]
        v = data["vectors"][r.id]
        assert np.allclose(np.array(r.vector), v / np.linalg.norm(v), atol=1e-5)
    client.set_payload(COLLECTION, payload={"note": "hi"}, points=[3])
    assert client.retrieve(COLLECTION, ids=[3])[0].payload["note"] == "hi"
    client.delete_payload(COLLECTION, keys=["note"], points=[3])
    assert "note" not in client.retrieve(COLLECTION, ids=[3])[0].payload
    client.overwrite_payload(COLLECTION, payload=data["payloads"][3], points=[3])
    assert client.retrieve(COLLECTION, ids=[3])[0].payload == data["payloads"][3]


def test_uuid_ids_round_trip(client):
    name = "qc_uuid"
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=3, distance=models.Distance.DOT))
    u = str(uuid.UUID(int=12345))
    client.upsert(name, points=[models.PointStruct(id=u, vector=[1.0, 2.0, 3.0], payload={"a": 1})], wait=True)
    hits = client.query_points(name, query=[1.0, 0.0, 0.0], limit=1).points
    assert hits[0].id == u and abs(hits[0].score - 1.0) < 1e-5
    assert client.delete_collection(name)
    assert not client.collection_exists(name)


def test_deletes_then_answers_stay_exact(client, data, loaded):
    alive = loaded.copy()
    client.delete(COLLECTION, points_selector=models.PointIdsList(points=list(range(100))), wait=True)
    alive[:100] = False
    assert client.count(COLLECTION, exact=True).count == int(alive.sum())
    cl = models.Filter(must=[models.FieldCondition(key="category", match=models.MatchValue(value="cs.CL"))])
    client.delete(COLLECTION, points_selector=models.FilterSelector(filter=cl), wait=True)
    alive &= data["categories"] != "cs.CL"
    assert client.count(COLLECTION, exact=True).count == int(alive.sum())
    assert client.count(COLLECTION, count_filter=cl, exact=True).count == 0
    mask = filter_mask(data, alive)
    q = np.random.default_rng(10).normal(size=DIM).astype(np.float32)
    got = client.query_points(COLLECTION, query=q.tolist(), query_filter=the_filter(), limit=10,
                              search_params=models.SearchParams(exact=True)).points
    assert [p.id for p in got] == exact_top(data, q, mask, 10)[0]
    assert all(p.id >= 100 for p in got)


def test_errors_are_client_errors(client, loaded, transport):
    from qdrant_client.http.exceptions import UnexpectedResponse

    if transport == "grpc":
        import grpc

        with pytest.raises(grpc.RpcError) as e:
            client.query_points(COLLECTION, query=[1.0, 2.0], limit=3)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "dimension" in e.value.details()
        with pytest.raises(grpc.RpcError) as e:
            client.get_collection("no_such_collection")
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
        return
    with pytest.raises(UnexpectedResponse) as e:
        client.query_points(COLLECTION, query=[1.0, 2.0], limit=3)
    assert e.value.status_code == 400 and "dimension" in str(e.value.content)
    with pytest.raises(UnexpectedResponse) as e:
        client.get_collection("no_such_collection")
    assert e.value.status_code == 404


def test_snapshot(client, loaded):
    snap = client.create_snapshot(COLLECTION)
    assert snap is not None and snap.name
    assert snap.name in [s.name for s in client.list_snapshots(COLLECTION)]


def test_default_client_checks_the_version_without_warning():
    # Regression: GET / was wrapped in Grove's envelope, so every default QdrantClient() warned
    # "Failed to obtain server version" and client.info() failed.
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = QdrantClient(url=os.environ["GROVE_URL"], timeout=60)
    try:
        messages = [str(w.message) for w in caught]
        assert not [m for m in messages if "version" in m.lower()], messages
        info = c.info()
        assert info.title == "grove" and info.version.count(".") == 2
    finally:
        c.close()
