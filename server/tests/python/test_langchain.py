"""LangChain's Qdrant vector store (langchain-qdrant, unmodified, from PyPI) on a real Grove
server, over REST and over Qdrant's gRPC API: the calls an application makes, from creating the
store to filtered, MMR and hybrid (dense + sparse) retrieval, get by id and delete.

Embeddings are deterministic and local (no model download): a seeded hash embedding for the
dense side and a bag-of-words sparse embedding, so every expected answer is computed exactly
here. Run through run.sh, which starts the server and sets GROVE_URL and GROVE_GRPC_PORT.
"""

import hashlib
import os
import re
import uuid

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_qdrant import QdrantVectorStore, RetrievalMode, SparseEmbeddings, SparseVector
from qdrant_client import QdrantClient, models

DIM = 32
TOPICS = ["graphs", "vectors", "storage", "consensus"]
WORDS = ["index", "search", "filter", "recall", "graph", "vector", "node", "raft", "log", "disk",
         "shard", "cache", "query", "score", "batch", "prefix"]


def words_of(text):
    return re.findall(r"[a-z]+", text.lower())


class HashEmbeddings(Embeddings):
    """Each word maps to a seeded random unit vector; a text is the mean of its words."""

    def _word(self, w):
        seed = int.from_bytes(hashlib.sha256(w.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(DIM)
        return v / np.linalg.norm(v)

    def embed_query(self, text):
        ws = words_of(text) or ["empty"]
        return list(map(float, np.mean([self._word(w) for w in ws], axis=0)))

    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]


class BagOfWords(SparseEmbeddings):
    """Term counts over a fixed vocabulary: dimension = the word's position in WORDS."""

    def embed_query(self, text):
        counts = {}
        for w in words_of(text):
            if w in WORDS:
                counts[WORDS.index(w)] = counts.get(WORDS.index(w), 0) + 1
        keys = sorted(counts)
        return SparseVector(indices=keys, values=[float(counts[k]) for k in keys])

    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]


def make_docs(n=200, seed=20261207):
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(3, 9))))
        docs.append(Document(page_content=text,
                             metadata={"topic": TOPICS[i % len(TOPICS)], "n": i, "tags": [f"t{i % 3}"]}))
    return docs


@pytest.fixture(scope="module", params=["rest", "grpc"])
def client(request):
    if request.param == "grpc":
        c = QdrantClient(url=os.environ["GROVE_URL"], grpc_port=int(os.environ["GROVE_GRPC_PORT"]),
                         prefer_grpc=True, check_compatibility=False, timeout=60)
    else:
        c = QdrantClient(url=os.environ["GROVE_URL"], check_compatibility=False, timeout=60)
    c.transport_name = request.param
    yield c
    c.close()


def cosine_truth(emb, docs, query, k, keep=lambda d: True):
    q = np.array(emb.embed_query(query))
    q /= np.linalg.norm(q)
    scored = []
    for d in docs:
        if not keep(d):
            continue
        v = np.array(emb.embed_query(d.page_content))
        scored.append((float(v @ q / np.linalg.norm(v)), d.metadata["n"]))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored[:k]


def test_dense_store_end_to_end(client):
    emb = HashEmbeddings()
    docs = make_docs()
    name = f"lc_dense_{client.transport_name}"
    ids = [str(uuid.UUID(int=i + 1)) for i in range(len(docs))]
    store = QdrantVectorStore.from_documents(
        docs, emb, ids=ids, collection_name=name, force_recreate=True,
        url=os.environ["GROVE_URL"], grpc_port=int(os.environ["GROVE_GRPC_PORT"]),
        prefer_grpc=client.transport_name == "grpc",
    )
    assert client.count(name, exact=True).count == len(docs)

    query = "graph search recall"
    got = store.similarity_search_with_score(query, k=5)
    want = cosine_truth(emb, docs, query, 5)
    assert [d.metadata["n"] for d, _ in got] == [n for _, n in want]
    for (d, score), (ws, _) in zip(got, want):
        assert abs(score - ws) < 1e-4
        assert d.page_content == docs[d.metadata["n"]].page_content
        assert d.metadata["_id"] in ids

    # A filter on the metadata, in Qdrant's model (LangChain nests metadata under "metadata").
    flt = models.Filter(must=[models.FieldCondition(key="metadata.topic", match=models.MatchValue(value="storage"))])
    got = store.similarity_search(query, k=4, filter=flt)
    want = cosine_truth(emb, docs, query, 4, keep=lambda d: d.metadata["topic"] == "storage")
    assert [d.metadata["n"] for d in got] == [n for _, n in want]

    # MMR fetches vectors with the candidates; the first pick is the nearest one.
    mmr = store.max_marginal_relevance_search(query, k=4, fetch_k=20)
    assert len(mmr) == 4
    assert mmr[0].metadata["n"] == want_first(emb, docs, query)
    assert len({d.metadata["n"] for d in mmr}) == 4

    # Relevance scores are in [0, 1] for cosine.
    rel = store.similarity_search_with_relevance_scores(query, k=3)
    assert all(0.0 <= s <= 1.0 for _, s in rel)

    # get_by_ids, add_texts with metadata, delete.
    got = store.get_by_ids(ids[:3])
    assert sorted(d.metadata["n"] for d in got) == [0, 1, 2]
    # Words outside the generated vocabulary, so no stored text embeds the same.
    new_ids = store.add_texts(["quokka zebra"], metadatas=[{"topic": "storage", "n": 9999, "tags": []}])
    assert client.count(name, exact=True).count == len(docs) + 1
    top = store.similarity_search("quokka zebra", k=1)
    assert top[0].metadata["n"] == 9999
    assert store.delete(ids=new_ids + ids[:10])
    assert client.count(name, exact=True).count == len(docs) - 10
    assert store.get_by_ids(ids[:10]) == []

    # The retriever interface applications use.
    retriever = store.as_retriever(search_kwargs={"k": 2})
    assert len(retriever.invoke(query)) == 2

    # Reattaching to the existing collection finds the same answers.
    again = QdrantVectorStore.from_existing_collection(
        collection_name=name, embedding=emb, url=os.environ["GROVE_URL"],
        grpc_port=int(os.environ["GROVE_GRPC_PORT"]), prefer_grpc=client.transport_name == "grpc")
    assert [d.metadata["n"] for d in again.similarity_search(query, k=3)] == \
        [d.metadata["n"] for d in store.similarity_search(query, k=3)]


def want_first(emb, docs, query):
    return cosine_truth(emb, docs, query, 1)[0][1]


def test_hybrid_and_sparse_retrieval(client):
    emb, sparse = HashEmbeddings(), BagOfWords()
    docs = make_docs(120, seed=7)
    name = f"lc_hybrid_{client.transport_name}"
    kwargs = dict(url=os.environ["GROVE_URL"], grpc_port=int(os.environ["GROVE_GRPC_PORT"]),
                  prefer_grpc=client.transport_name == "grpc")
    store = QdrantVectorStore.from_documents(
        docs, emb, sparse_embedding=sparse, retrieval_mode=RetrievalMode.HYBRID,
        vector_name="dense", sparse_vector_name="bow", collection_name=name, force_recreate=True, **kwargs)
    info = client.get_collection(name)
    assert "dense" in info.config.params.vectors
    assert "bow" in info.config.params.sparse_vectors

    query = "raft log shard"
    hybrid = store.similarity_search(query, k=5)
    assert len(hybrid) == 5

    sparse_only = QdrantVectorStore.from_existing_collection(
        collection_name=name, embedding=None, sparse_embedding=sparse, retrieval_mode=RetrievalMode.SPARSE,
        sparse_vector_name="bow", **kwargs)
    got = sparse_only.similarity_search_with_score(query, k=5)
    q = sparse.embed_query(query)
    qd = dict(zip(q.indices, q.values))
    truth = []
    for d in docs:
        v = sparse.embed_query(d.page_content)
        s = sum(qd.get(i, 0.0) * x for i, x in zip(v.indices, v.values))
        if s > 0:
            truth.append((s, d.metadata["n"]))
    truth.sort(key=lambda t: -t[0])
    assert [round(s, 4) for _, s in got] == [round(s, 4) for s, _ in truth[:5]]

    # Every hybrid hit is one a dense or a sparse search of the prefetch depth returns.
    dense_only = QdrantVectorStore.from_existing_collection(
        collection_name=name, embedding=emb, retrieval_mode=RetrievalMode.DENSE, vector_name="dense", **kwargs)
    pool = {d.metadata["n"] for d in dense_only.similarity_search(query, k=20)}
    pool |= {d.metadata["n"] for d, _ in sparse_only.similarity_search_with_score(query, k=20)}
    assert {d.metadata["n"] for d in hybrid} <= pool
