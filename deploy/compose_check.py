#!/usr/bin/env python3
"""Data checks for deploy/test-compose.sh, through the Python client.

  compose_check.py ingest STATE   create a collection, upsert seeded points, run filtered
                                  queries, save what was seen to STATE (JSON)
  compose_check.py verify STATE   after a restart: the same counts and the same query answers,
                                  over gRPC and REST
  compose_check.py snapshot STATE snapshot the collection, delete the filtered points, restore
                                  the snapshot on the running server, check the answers again

Connection from GROVE_URL, GROVE_GRPC_PORT, GROVE_API_KEY. Exits 1 with a message on mismatch.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from grove_client import GroveClient

COLLECTION = "compose_check"
N, DIM = 3000, 32
FILTER = {"must": [{"key": "category", "match": {"value": "b"}}, {"key": "year", "range": {"gte": 2015, "lt": 2020}}]}


def client(transport: str) -> GroveClient:
    return GroveClient(
        os.environ["GROVE_URL"],
        grpc_port=int(os.environ["GROVE_GRPC_PORT"]),
        api_key=os.environ.get("GROVE_API_KEY"),
        transport=transport,
        timeout=60,
    )


def data() -> tuple[np.ndarray, list[dict], np.ndarray]:
    rng = np.random.default_rng(2024)
    vectors = rng.normal(size=(N, DIM)).astype(np.float32)
    payloads = [{"category": "abc"[i % 3], "year": 2010 + i % 13, "title": f"doc {i}"} for i in range(N)]
    queries = rng.normal(size=(5, DIM)).astype(np.float32)
    return vectors, payloads, queries


def answers(c: GroveClient, queries: np.ndarray) -> dict:
    exact = [c.query(COLLECTION, q, limit=5, filter=FILTER, exact=True).ids.tolist() for q in queries]
    return {"count": c.count(COLLECTION), "filtered": c.count(COLLECTION, filter=FILTER), "exact_top5": exact}


def ingest(state: str) -> None:
    vectors, payloads, queries = data()
    with client("grpc") as c:
        c.wait_ready(timeout=60)
        c.delete_collection(COLLECTION)
        c.create_collection(COLLECTION, DIM, "cosine")
        c.create_payload_index(COLLECTION, "category", "keyword")
        c.create_payload_index(COLLECTION, "year", "integer")
        c.upsert(COLLECTION, vectors, payloads=payloads, batch_size=500)
        seen = answers(c, queries)
        # The filter must hold on every hit, and exact search must equal numpy's brute force.
        vn = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        allowed = np.array([p["category"] == "b" and 2015 <= p["year"] < 2020 for p in payloads])
        for q, got in zip(queries, seen["exact_top5"]):
            sims = vn @ (q / np.linalg.norm(q))
            ids = np.flatnonzero(allowed)
            want = ids[np.argsort(-sims[ids], kind="stable")][:5].tolist()
            if got != want:
                sys.exit(f"ingest: exact filtered top-5 {got} != brute force {want}")
        hit = c.query(COLLECTION, queries[0], limit=3, filter=FILTER)
        print(f"ingest: {seen['count']} points, {seen['filtered']} match the filter; "
              f"filtered query top-3 ids {hit.ids.tolist()} scores {np.round(hit.scores, 4).tolist()}")
        print(f"ingest: first hit payload {hit.payloads[0]}")
    if seen["count"] != N or seen["filtered"] != int(allowed.sum()):
        sys.exit(f"ingest: counts {seen['count']}/{seen['filtered']}, expected {N}/{int(allowed.sum())}")
    with open(state, "w") as f:
        json.dump(seen, f)


def verify(state: str) -> None:
    with open(state) as f:
        before = json.load(f)
    _, _, queries = data()
    for transport in ("grpc", "rest"):
        with client(transport) as c:
            c.wait_ready(timeout=60)
            now = answers(c, queries)
        if now != before:
            sys.exit(f"verify ({transport}): after restart {now} != before {before}")
        print(f"verify ({transport}): {now['count']} points, {now['filtered']} filtered, same exact top-5 for {len(queries)} queries")


def snapshot(state: str) -> None:
    with open(state) as f:
        before = json.load(f)
    _, _, queries = data()
    with client("grpc") as c:
        snap = c.create_snapshot(COLLECTION)
        c.delete(COLLECTION, filter=FILTER)
        gone = c.count(COLLECTION, filter=FILTER)
        c.restore_snapshot(COLLECTION, snap.name)
        now = answers(c, queries)
        c.delete_snapshot(COLLECTION, snap.name)
    if gone != 0 or now != before:
        sys.exit(f"snapshot: after delete {gone} matched (want 0); after restore {now} != {before}")
    print(f"snapshot: {snap.name} ({snap.size} bytes); deleted the {before['filtered']} filtered points, "
          f"restored: {now['count']} points, {now['filtered']} filtered, same exact top-5")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("ingest", "verify", "snapshot"):
        sys.exit(__doc__)
    {"ingest": ingest, "verify": verify, "snapshot": snapshot}[sys.argv[1]](sys.argv[2])
