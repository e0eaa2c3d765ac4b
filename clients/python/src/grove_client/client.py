"""The public client: :class:`GroveClient`."""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import replace
from typing import Any, Iterable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import numpy as np

from . import _inputs as inp
from . import errors
from ._grpc import GrpcTransport
from ._rest import RestTransport
from .models import (
    BatchQueryResult,
    CalibrationReport,
    CollectionInfo,
    DiagnosticsJob,
    Explain,
    HealthInfo,
    MatryoshkaInfo,
    PointId,
    QueryResult,
    Record,
    ScrollPage,
    SnapshotInfo,
    SubsetDiagnosis,
    UpdateResult,
    UpsertSummary,
)

Filter = Mapping[str, Any]
"""A Qdrant-shaped filter: ``{"must": [...], "should": [...], "must_not": [...]}``."""

# Above this many points, upsert shows a progress bar by default.
_PROGRESS_THRESHOLD = 10_000

# How long transport="auto" waits for the gRPC address to answer at construction.
_AUTO_PROBE_SECONDS = 3.0

_DEFAULT_GRPC_PORT = 6334


class TransportFallbackWarning(UserWarning):
    """``transport="auto"`` found the gRPC address unreachable and uses REST instead."""


def grpc_target_for(url: str, grpc_port: int | None = None) -> str:
    """The gRPC ``host:port`` a client derives from a REST ``url``.

    The host of ``url``; the port is ``grpc_port`` when given, else the url's port plus one (a
    server started with ``--service-http-port 7333`` serves gRPC on 7334 unless told otherwise),
    else 6334.

    >>> grpc_target_for("http://localhost:6333")
    'localhost:6334'
    >>> grpc_target_for("http://10.0.0.5:7333")
    '10.0.0.5:7334'
    >>> grpc_target_for("https://grove.example.com")
    'grove.example.com:6334'
    >>> grpc_target_for("http://localhost:7333", 9000)
    'localhost:9000'
    """
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if grpc_port is None:
        grpc_port = parts.port + 1 if parts.port is not None else _DEFAULT_GRPC_PORT
    return f"{host}:{grpc_port}"


class GroveClient:
    """A synchronous client for one Grove server.

    Transports: ``transport="auto"`` (the default) talks gRPC (``grove.v1``) and, when the gRPC
    address does not answer at construction but the REST ``url`` does, uses REST instead for the
    life of the client and warns once (:class:`TransportFallbackWarning`), naming both addresses.
    ``"grpc"`` is gRPC only, ``"rest"`` the Qdrant-shaped REST API only. Both transports accept
    the same inputs and return the same result types, and every call goes over the client's own
    transport (Matryoshka and LIMIT diagnostics included), except :meth:`upload_snapshot`, which
    the server offers only over REST: a gRPC client needs ``url`` reachable for that one call.

    The gRPC address is derived from ``url``: its host, and its port plus one (the server's
    defaults are REST 6333 and gRPC 6334), or 6334 when ``url`` names no port. ``grpc_port`` or
    ``grpc_target`` override that. :attr:`grpc_target` says which address is used, and errors
    that could not reach the server name it.

    Example::

        import numpy as np
        from grove_client import GroveClient

        client = GroveClient("http://localhost:6333")
        client.create_collection("papers", dim=4, distance="cosine")
        client.create_payload_index("papers", "category", "keyword")
        client.upsert("papers", vectors=np.eye(4), payloads=[{"category": c} for c in "aabb"])
        hits = client.query("papers", [1, 0, 0, 0], limit=2,
                            filter={"must": [{"key": "category", "match": {"value": "b"}}]})
        print(hits.ids, hits.scores)

    Args:
        url: REST base URL, e.g. ``http://localhost:6333`` (https for TLS).
        grpc_port: gRPC port on the host of ``url``; None derives it from ``url`` (see above).
        grpc_target: explicit ``host:port`` for gRPC.
        transport: ``"auto"`` (default), ``"grpc"`` or ``"rest"``.
        api_key: sent as the ``api-key`` header / metadata.
        timeout: seconds per call.
        verify: TLS verification for REST: True, False, or a CA bundle path.
        root_certificates: PEM CA certificates for gRPC over TLS (default: system roots).
    """

    def __init__(
        self,
        url: str = "http://localhost:6333",
        *,
        grpc_port: int | None = None,
        grpc_target: str | None = None,
        transport: str = "auto",
        api_key: str | None = None,
        timeout: float = 60.0,
        verify: bool | str = True,
        root_certificates: bytes | None = None,
    ) -> None:
        if "://" not in url:
            url = "http://" + url
        parts = urlsplit(url)
        self.url = url.rstrip("/")
        requested = inp.check_choice(transport, ("auto", "grpc", "rest"), "transport")
        self._rest_args = (self.url, api_key, timeout, verify)
        self._rest: RestTransport | None = None
        self._grpc: GrpcTransport | None = None
        self.grpc_target: str | None = None
        """The gRPC ``host:port`` this client uses (None for a REST client)."""
        if requested == "rest":
            self.transport_name = "rest"
            self._t: GrpcTransport | RestTransport = self._rest_transport()
            return
        self.grpc_target = grpc_target or grpc_target_for(url, grpc_port)
        self._grpc = GrpcTransport(
            self.grpc_target, api_key, timeout, secure=parts.scheme == "https", root_certificates=root_certificates
        )
        self._t = self._grpc
        self.transport_name = "grpc"
        if requested == "auto":
            self._fall_back_if_grpc_unreachable(min(timeout, _AUTO_PROBE_SECONDS))

    def _fall_back_if_grpc_unreachable(self, probe_timeout: float) -> None:
        """Switch to REST when the gRPC address does not answer but the REST url does.

        Only a health check is sent, so nothing is written twice or lost whichever way it goes.
        When neither answers (the server may still be starting), the client stays on gRPC.
        """
        assert self._grpc is not None
        try:
            self._grpc.health(timeout=probe_timeout)
            return
        except errors.UnavailableError as grpc_error:
            rest = self._rest_transport()
            try:
                rest.health()
            except errors.GroveError:
                return
            warnings.warn(
                f"grove_client: gRPC at {self.grpc_target} did not answer ({grpc_error.message}); "
                f"using REST at {self.url} instead. Pass transport='grpc' to fail instead, or "
                "grpc_port / grpc_target to name the right gRPC address.",
                TransportFallbackWarning,
                stacklevel=3,
            )
            self._grpc.close()
            self._grpc = None
            self.grpc_target = None
            self._t = rest
            self.transport_name = "rest"
        except errors.GroveError:
            return  # the gRPC server answered (even if with an error): it is there

    def _rest_transport(self) -> RestTransport:
        if self._rest is None:
            self._rest = RestTransport(*self._rest_args)
        return self._rest

    def close(self) -> None:
        """Close connections. The client is unusable afterwards."""
        if self._grpc is not None:
            self._grpc.close()
        if self._rest is not None:
            self._rest.close()

    def __enter__(self) -> "GroveClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        grpc = f", grpc_target={self.grpc_target!r}" if self.grpc_target else ""
        return f"GroveClient({self.url!r}, transport={self.transport_name!r}{grpc})"

    # -- service ------------------------------------------------------------------------------

    def health(self) -> HealthInfo:
        """Server version and readiness."""
        return self._t.health()

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.2) -> HealthInfo:
        """Poll :meth:`health` until the server reports ready; raise UnavailableError on timeout."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                h = self.health()
                if h.ready:
                    return h
            except errors.GroveError as e:
                last = e
            time.sleep(interval)
        raise errors.UnavailableError(f"grove at {self.url} not ready after {timeout}s" + (f": {last}" if last else ""))

    # -- collections --------------------------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dim: int,
        distance: str = "cosine",
        *,
        m: int | None = None,
        ef_construction: int | None = None,
        gamma: int | None = None,
        m_beta: int | None = None,
        matryoshka: Mapping[str, Any] | None = None,
    ) -> bool:
        """Create a collection of ``dim``-dimensional vectors.

        Args:
            distance: ``cosine`` (vectors normalised on insert), ``dot`` or ``euclid``.
            m, ef_construction: HNSW graph parameters (M, ef_construction); None: server default.
            gamma, m_beta: ACORN-gamma parameters; None: server default.
            matryoshka: Matryoshka prefixes to keep, as the server names them: ``dims`` (required,
                each between 1 and ``dim - 1``), ``renormalise``, ``dtype`` (``f32``, ``f16``,
                ``i8``), ``graph``, ``pca``, ``pca_sample``, ``pca_min_points``.

        Raises:
            ConflictError: a collection of that name exists.
        """
        if dim < 1:
            raise errors.BadRequestError("dim must be at least 1")
        hnsw = {
            k: v
            for k, v in (("m", m), ("ef_construction", ef_construction), ("gamma", gamma), ("m_beta", m_beta))
            if v is not None
        }
        mcfg = None if matryoshka is None else _matryoshka_config(matryoshka, int(dim))
        return self._t.create_collection(
            name, int(dim), inp.check_choice(distance, inp.DISTANCES, "distance"), hnsw, mcfg
        )

    def get_collection(self, name: str) -> CollectionInfo:
        """Configuration, point counts, indexing status and payload indexes of a collection."""
        return self._t.get_collection(name)

    def list_collections(self) -> list[str]:
        """Names of all collections, sorted."""
        return self._t.list_collections()

    def collection_exists(self, name: str) -> bool:
        """Whether a collection of that name exists."""
        return name in self.list_collections()

    def delete_collection(self, name: str) -> bool:
        """Delete a collection and its data; False when it did not exist."""
        try:
            return self._t.delete_collection(name)
        except errors.NotFoundError:
            return False

    def create_payload_index(self, collection: str, field: str, schema: str = "keyword", *, wait: bool = True) -> bool:
        """Index a payload field so that filters on it compile to bitmaps.

        Args:
            field: field name, dotted for nested objects (``"meta.year"``).
            schema: ``keyword``, ``integer``, ``float``, ``bool`` or ``datetime``.
        """
        return self._t.create_field_index(collection, field, inp.check_choice(schema, inp.SCHEMAS, "schema"), wait)

    def delete_payload_index(self, collection: str, field: str, *, wait: bool = True) -> bool:
        """Drop a payload field index."""
        return self._t.delete_field_index(collection, field, wait)

    # -- writes -------------------------------------------------------------------------------

    def upsert(
        self,
        collection: str,
        vectors: Any = None,
        *,
        ids: Sequence[Any] | np.ndarray | None = None,
        payloads: Sequence[Mapping[str, Any] | None] | None = None,
        points: Iterable[Mapping[str, Any]] | None = None,
        batch_size: int = 256,
        wait: bool = True,
        progress: bool | None = None,
    ) -> UpsertSummary:
        """Insert or replace points, in batches.

        Two input forms:

        - ``vectors`` (an ``(n, dim)`` array or list of lists) with optional ``ids`` (default
          ``0..n-1``) and ``payloads`` (one dict or None per row);
        - ``points``: dicts ``{"id": ..., "vector": [...], "payload": {...}}``.

        Args:
            batch_size: points per request.
            wait: return only when the points are visible to searches (always durable).
            progress: show a tqdm progress bar (on stderr); None shows one above 10,000 points.
        """
        n, items = inp.points(ids, vectors, payloads, points)
        bar = _progress_bar(n, progress, f"upsert {collection}")
        batches = 0
        last: UpdateResult | None = None
        try:
            for batch in inp.batched(items, batch_size):
                last = self._t.upsert(collection, batch, wait)
                batches += 1
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        return UpsertSummary(points=n, batches=batches, last=last)

    def delete(
        self,
        collection: str,
        ids: Sequence[Any] | np.ndarray | None = None,
        *,
        filter: Filter | None = None,
        wait: bool = True,
    ) -> UpdateResult:
        """Delete points by ids, or every point matching ``filter`` (exactly one of the two)."""
        sel_ids, flt = _selection(ids, filter)
        return self._t.delete(collection, sel_ids, flt, wait)

    def set_payload(
        self,
        collection: str,
        payload: Mapping[str, Any],
        ids: Sequence[Any] | np.ndarray | None = None,
        *,
        filter: Filter | None = None,
        overwrite: bool = False,
        wait: bool = True,
    ) -> UpdateResult:
        """Merge ``payload`` into the selected points' payloads (replace it when ``overwrite``)."""
        sel_ids, flt = _selection(ids, filter)
        return self._t.set_payload(collection, inp.payload(payload) or {}, sel_ids, flt, overwrite, wait)

    def delete_payload(
        self,
        collection: str,
        keys: Sequence[str],
        ids: Sequence[Any] | np.ndarray | None = None,
        *,
        filter: Filter | None = None,
        wait: bool = True,
    ) -> UpdateResult:
        """Remove payload keys from the selected points."""
        sel_ids, flt = _selection(ids, filter)
        return self._t.delete_payload(collection, list(keys), sel_ids, flt, wait)

    # -- reads --------------------------------------------------------------------------------

    def get(
        self,
        collection: str,
        ids: Sequence[Any] | np.ndarray,
        *,
        with_payload: bool | Sequence[str] = True,
        with_vector: bool = False,
    ) -> list[Record]:
        """Points by id (missing ids are skipped)."""
        return self._t.get(collection, [inp.point_id(i) for i in ids], with_payload, with_vector)

    def query(
        self,
        collection: str,
        vector: Any,
        *,
        limit: int = 10,
        filter: Filter | None = None,
        offset: int = 0,
        score_threshold: float | None = None,
        with_payload: bool | Sequence[str] = True,
        with_vector: bool = False,
        hnsw_ef: int | None = None,
        exact: bool = False,
        strategy: str = "auto",
        explain: bool = False,
        matryoshka: Mapping[str, Any] | None = None,
    ) -> QueryResult:
        """The ``limit`` nearest points to ``vector`` among those matching ``filter``.

        Args:
            vector: 1-D array or list of ``dim`` floats.
            filter: Qdrant-shaped filter dict, e.g.
                ``{"must": [{"key": "year", "range": {"gte": 2019, "lt": 2022}}]}``.
            with_payload: True, False, or the field names to return.
            hnsw_ef: graph search beam width (larger: slower, better recall).
            exact: exact scan (ground truth).
            strategy: ``auto`` (the planner chooses), ``exact``, ``hnsw`` or ``acorn``.
            explain: attach the planner's :class:`Explain` record to the result.
            matryoshka: search at a declared prefix and rescore at full dimension:
                ``{"dim": 64, "oversample": 4, "funnel": [{"dim": 128, "keep": 20}], "path": "auto"}``
                (only ``dim`` required).

        Returns:
            A :class:`QueryResult`: ``ids`` (uint64 array), ``scores`` (float32), ``payloads``.
        """
        spec = _spec(vector, limit, filter, offset, score_threshold, with_payload, with_vector, hnsw_ef, exact, strategy, explain)
        if matryoshka is not None:
            spec = replace(spec, matryoshka=_matryoshka_params(matryoshka))
        return self._t.query(collection, spec)

    def query_batch(
        self,
        collection: str,
        vectors: Any,
        *,
        limit: int = 10,
        filter: Filter | Sequence[Filter | None] | None = None,
        with_payload: bool | Sequence[str] = False,
        with_vector: bool = False,
        hnsw_ef: int | None = None,
        exact: bool = False,
        strategy: str = "auto",
        explain: bool = False,
        batch_size: int = 256,
        matryoshka: Mapping[str, Any] | None = None,
    ) -> BatchQueryResult:
        """Many queries at once; rows of ``vectors`` are queries.

        ``filter`` is one filter for every query or a list with one per query. Requests are
        split into batches of ``batch_size``. The result keeps request order; its ``ids`` and
        ``scores`` properties are ``(n_queries, limit)`` matrices. ``matryoshka`` applies to
        every query (see :meth:`query`).
        """
        mat = inp.matrix(vectors)
        n = mat.shape[0]
        if isinstance(filter, Sequence) and not isinstance(filter, Mapping):
            if len(filter) != n:
                raise errors.BadRequestError(f"{len(filter)} filters for {n} queries")
            filters: Sequence[Filter | None] = filter
        else:
            filters = [filter] * n
        specs = [
            _spec(mat[i], limit, filters[i], 0, None, with_payload, with_vector, hnsw_ef, exact, strategy, explain)
            for i in range(n)
        ]
        if matryoshka is not None:
            params = _matryoshka_params(matryoshka)
            specs = [replace(s, matryoshka=params) for s in specs]
        results: list[QueryResult] = []
        for start in range(0, n, max(1, batch_size)):
            results.extend(self._t.query_batch(collection, specs[start : start + batch_size]))
        return BatchQueryResult(results)

    def explain(
        self,
        collection: str,
        vector: Any,
        *,
        limit: int = 10,
        filter: Filter | None = None,
        hnsw_ef: int | None = None,
        strategy: str = "auto",
    ) -> Explain:
        """Run a query and return only what the planner chose and why, and the work it did."""
        r = self.query(
            collection, vector, limit=limit, filter=filter, hnsw_ef=hnsw_ef, strategy=strategy,
            with_payload=False, explain=True,
        )
        if r.explain is None:
            raise errors.ServerError("server returned no explain record")
        return r.explain

    def scroll(
        self,
        collection: str,
        *,
        filter: Filter | None = None,
        offset: PointId | None = None,
        limit: int = 100,
        with_payload: bool | Sequence[str] = True,
        with_vector: bool = False,
    ) -> ScrollPage:
        """One page of points in id order, starting at ``offset`` (inclusive)."""
        off = None if offset is None else inp.point_id(offset)
        return self._t.scroll(collection, filter, off, limit, with_payload, with_vector)

    def scroll_all(
        self,
        collection: str,
        *,
        filter: Filter | None = None,
        page_size: int = 1000,
        with_payload: bool | Sequence[str] = True,
        with_vector: bool = False,
    ) -> Iterator[Record]:
        """Every point matching ``filter``, page by page."""
        offset: PointId | None = None
        while True:
            page = self.scroll(
                collection, filter=filter, offset=offset, limit=page_size, with_payload=with_payload, with_vector=with_vector
            )
            yield from page.points
            if page.next_offset is None:
                return
            offset = page.next_offset

    def count(self, collection: str, *, filter: Filter | None = None) -> int:
        """Exact number of points matching ``filter`` (all points when None)."""
        return self._t.count(collection, filter)

    # -- snapshots ----------------------------------------------------------------------------

    def create_snapshot(self, collection: str) -> SnapshotInfo:
        """Take a consistent on-disk snapshot of a collection (stored by the server)."""
        return self._t.create_snapshot(collection)

    def list_snapshots(self, collection: str) -> list[SnapshotInfo]:
        """Snapshots of a collection."""
        return self._t.list_snapshots(collection)

    def delete_snapshot(self, collection: str, name: str) -> bool:
        """Delete a snapshot; :class:`NotFoundError` when there is no such snapshot."""
        return self._t.delete_snapshot(collection, name)

    def restore_snapshot(self, collection: str, name_or_location: str) -> bool:
        """Create or replace a collection from a snapshot, on the running server.

        ``name_or_location`` is a snapshot name from :meth:`list_snapshots` or a ``file://`` URL
        (or absolute path) of an archive on the server's disk. The swap is atomic: a damaged
        archive or a dimension conflict raises and leaves the collection as it was.
        """
        return self._t.recover_snapshot(collection, name_or_location)

    recover_snapshot = restore_snapshot

    def download_snapshot(self, collection: str, name: str, dest: str) -> int:
        """Save a snapshot archive to the local file ``dest``; returns the bytes written."""
        return self._t.download_snapshot(collection, name, dest)

    def upload_snapshot(self, collection: str, source: str) -> bool:
        """Upload a local archive (from :meth:`download_snapshot`) and recover ``collection``
        from it on the server, creating or replacing it atomically.

        Always over REST (streamed), whatever the client's transport: the server has no gRPC
        upload. A gRPC client needs ``url`` reachable for this call."""
        return self._rest_transport().upload_snapshot(collection, source)

    # -- LIMIT diagnostics (gRPC service grove.v1.Diagnostics, or REST) ------------------------

    def diagnose_subsets(
        self,
        collection: str,
        queries: Any,
        relevant: Sequence[Sequence[Any]],
        *,
        k: int | Sequence[int] | None = None,
        filter: Filter | None = None,
        sample: int | None = None,
        seed: int = 0,
        time_budget_secs: float | None = None,
        competitors: int | None = None,
        ef: int | None = None,
    ) -> SubsetDiagnosis:
        """Diagnose why relevant sets are (not) returned: the LIMIT subset diagnostic.

        For each query vector and its relevant ids R, the server measures recall@k by exact
        scan and through the index, and labels the query: ``hit``, ``index_miss`` (the index
        loses what exact search finds), ``encoder_gap`` (some other query vector would return R
        on top: the encoder is at fault), ``geometry_gap`` (no query vector whatever can return R
        as the top-|R| among these points: a limit of the embedding, not of the index),
        ``fragile`` or ``undetermined`` (budget ran out). Goes over the client's transport.

        Args:
            collection: the collection whose points compete.
            queries: ``(n_queries, dim)`` array or list of query vectors (one 1-D vector is one query).
            relevant: one list of relevant point ids per query.
            k: recall cut-offs (server default: 2, 10, 100).
            filter: only points matching it compete; every relevant point must match it.
            sample: diagnose a seeded random sample of this many queries.
            seed: seed of the sample.
            time_budget_secs: wall-clock budget (server default and maximum: its request timeout
                minus one second); queries not reached are ``undetermined``.
            competitors: nearest competitors of the first hull check (server default 300).
            ef: ef of the searches through the index (default: the collection's).

        Returns:
            A :class:`SubsetDiagnosis`; ``queries[i].label`` is query i's label (request order).

        Raises:
            BadRequestError: invalid input, e.g. a relevant id that does not exist or does not
                match the filter (the message names the field, like ``queries[0].relevant``).
            NotFoundError: no such collection.
        """
        mat = inp.matrix(queries)
        sets = _relevant_sets(relevant)
        if len(sets) != mat.shape[0]:
            raise errors.BadRequestError(f"{len(sets)} relevant sets for {mat.shape[0]} queries")
        body: dict[str, Any] = {
            "queries": [{"vector": mat[i].tolist(), "relevant": rel} for i, rel in enumerate(sets)]
        }
        if k is not None:
            body["k"] = [int(k)] if isinstance(k, (int, np.integer)) else [int(x) for x in k]
        if filter is not None:
            if not isinstance(filter, Mapping):
                raise errors.BadRequestError(f"filter must be a dict, got {type(filter).__name__}")
            body["filter"] = dict(filter)
        for key, value in (
            ("sample", sample),
            ("time_budget_secs", time_budget_secs),
            ("competitors", competitors),
            ("ef", ef),
        ):
            if value is not None:
                body[key] = value
        if seed:
            body["seed"] = int(seed)
        return self._t.diagnose_subsets(collection, body)

    def start_capacity_job(
        self,
        d: int,
        *,
        k: int | None = None,
        pattern: str | None = None,
        queries: int | None = None,
        n: int | None = None,
        qrels: Sequence[Sequence[int]] | None = None,
        seed: int = 0,
        budget_secs: float | None = None,
        threads: int | None = None,
        max_n: int | None = None,
        restarts: int | None = None,
        max_steps: int | None = None,
        patience: int | None = None,
    ) -> DiagnosticsJob:
        """Start a free-embedding capacity job (Weller et al. 2025) and return it at once.

        Query and document vectors of dimension ``d`` are optimised directly on the qrels: the
        best any encoder could do. Without ``n`` the job searches critical-n (the largest number
        of documents whose every ``k``-subset is realised as some query's top-k); with ``n`` it
        probes that n once with ``pattern`` or with your ``qrels`` (sets of document numbers in
        ``0..n``). Follow it with :meth:`get_job` / :meth:`wait_job`; stop it with
        :meth:`cancel_job`. Jobs live on the server: any client, over either transport, can
        follow or cancel a job another one started.

        Args:
            d: embedding dimension.
            k: relevant documents per query (server default 2).
            pattern: ``all_subsets`` (default), ``random``, ``cycle``, ``disjoint`` or ``dense``.
            queries: queries of the random and dense patterns (server default 1000).
            n: documents of a single probe (absent: search critical-n).
            qrels: your own relevant sets (needs ``n``; replaces the pattern).
            seed: seed of the optimiser and patterns.
            budget_secs: wall-clock budget of the job (server default 60, at most 3600).
            threads: optimiser threads (default 1, at most the server's cores).
            max_n, restarts, max_steps, patience: search and optimiser limits (server defaults
                4096, 3, 5000, 500).

        Raises:
            BadRequestError: an invalid parameter; the message starts with its name (``d: ...``).
        """
        body: dict[str, Any] = {"d": int(d)}
        if qrels is not None:
            body["qrels"] = [[int(x) for x in q] for q in qrels]
        for key, value in (
            ("k", k),
            ("pattern", pattern),
            ("queries", queries),
            ("n", n),
            ("budget_secs", budget_secs),
            ("threads", threads),
            ("max_n", max_n),
            ("restarts", restarts),
            ("max_steps", max_steps),
            ("patience", patience),
        ):
            if value is not None:
                body[key] = value
        if seed:
            body["seed"] = int(seed)
        return self._t.start_capacity_job(body)

    def get_job(self, job_id: int) -> DiagnosticsJob:
        """A diagnostics job's status, progress and (once done or cancelled) result.

        Raises NotFoundError for an unknown id."""
        return self._t.get_job(int(job_id))

    def wait_job(self, job_id: int, timeout: float = 300.0, *, interval: float = 0.25) -> DiagnosticsJob:
        """Poll :meth:`get_job` until the job is done, cancelled or failed, and return it.

        A failed job is returned, not raised: its ``error`` says why. Raises GroveTimeoutError
        when it is still running after ``timeout`` seconds (the job keeps running; cancel it
        with :meth:`cancel_job` if it is no longer wanted).
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if job.finished:
                return job
            if time.monotonic() >= deadline:
                raise errors.GroveTimeoutError(
                    f"diagnostics job {job_id} still {job.status} after {timeout}s ({job.probes_done} probes done)"
                )
            time.sleep(interval)

    def cancel_job(self, job_id: int) -> DiagnosticsJob:
        """Ask a diagnostics job to stop; it keeps the probes it finished as its result.

        Returns the job as it is right after the request (``cancelling``, or already ended);
        :meth:`wait_job` then returns it ``cancelled``. Raises NotFoundError for an unknown id."""
        return self._t.cancel_job(int(job_id))

    # -- Matryoshka -----------------------------------------------------------------------------

    def matryoshka_info(self, collection: str) -> MatryoshkaInfo | None:
        """A collection's Matryoshka prefixes (bytes per vector, graph size, variance kept under
        the PCA) and declaration; None when the collection declares none."""
        return self._t.matryoshka_info(collection)

    def calibrate_matryoshka(
        self,
        collection: str,
        *,
        sample: int | None = None,
        seed: int | None = None,
        target_recall: float | None = None,
        dims: Sequence[int] | None = None,
        oversamples: Sequence[int] | None = None,
        filter: Filter | None = None,
    ) -> CalibrationReport:
        """Measure recall@10 and cost of prefix/oversample settings on stored points used as
        queries, and recommend the cheapest one reaching ``target_recall``.

        None takes the server's default (sample 200, seed 42, target 0.95, every declared
        prefix, oversamples 1..32). ``report.query_params()`` is the recommendation in the shape
        :meth:`query` takes.
        """
        body: dict[str, Any] = {}
        for key, value in (("sample", sample), ("seed", seed), ("target_recall", target_recall)):
            if value is not None:
                body[key] = value
        if dims is not None:
            body["dims"] = [int(d) for d in dims]
        if oversamples is not None:
            body["oversamples"] = [int(o) for o in oversamples]
        if filter is not None:
            if not isinstance(filter, Mapping):
                raise errors.BadRequestError(f"filter must be a dict, got {type(filter).__name__}")
            body["filter"] = dict(filter)
        return self._t.calibrate_matryoshka(collection, body)


_MATRYOSHKA_CONFIG_KEYS = ("dims", "renormalise", "dtype", "graph", "pca", "pca_sample", "pca_min_points")
_MATRYOSHKA_PARAM_KEYS = ("dim", "oversample", "funnel", "path")


def _matryoshka_config(cfg: Mapping[str, Any], dim: int) -> dict[str, Any]:
    """The create-collection ``matryoshka`` block; unknown keys are refused here so a typo does
    not silently become a server default. Range checks stay with the server."""
    if not isinstance(cfg, Mapping):
        raise errors.BadRequestError(f"matryoshka must be a dict, got {type(cfg).__name__}")
    unknown = sorted(set(cfg) - set(_MATRYOSHKA_CONFIG_KEYS))
    if unknown:
        raise errors.BadRequestError(
            f"unknown matryoshka key(s) {', '.join(unknown)}; expected {', '.join(_MATRYOSHKA_CONFIG_KEYS)}"
        )
    if "dims" not in cfg:
        raise errors.BadRequestError(f"matryoshka needs dims: prefix sizes between 1 and {dim - 1}")
    out = {k: v for k, v in cfg.items() if v is not None}
    out["dims"] = [int(d) for d in cfg["dims"]]
    return out


def _matryoshka_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params.matryoshka`` of a query; funnel stages may be dicts or ``(dim, keep)`` pairs."""
    if not isinstance(params, Mapping):
        raise errors.BadRequestError(f"matryoshka must be a dict, got {type(params).__name__}")
    unknown = sorted(set(params) - set(_MATRYOSHKA_PARAM_KEYS))
    if unknown:
        raise errors.BadRequestError(
            f"unknown matryoshka key(s) {', '.join(unknown)}; expected {', '.join(_MATRYOSHKA_PARAM_KEYS)}"
        )
    if "dim" not in params:
        raise errors.BadRequestError("matryoshka needs dim: a declared prefix dimension")
    out: dict[str, Any] = {"dim": int(params["dim"])}
    if params.get("oversample") is not None:
        out["oversample"] = int(params["oversample"])
    if params.get("path") is not None:
        out["path"] = str(params["path"])
    funnel = []
    for stage in params.get("funnel") or []:
        if isinstance(stage, Mapping):
            funnel.append({"dim": int(stage["dim"]), "keep": int(stage["keep"])})
        else:
            d, k = stage
            funnel.append({"dim": int(d), "keep": int(k)})
    if funnel:
        out["funnel"] = funnel
    return out


def _spec(
    vector: Any,
    limit: int,
    filter: Filter | None,
    offset: int,
    score_threshold: float | None,
    with_payload: bool | Sequence[str],
    with_vector: bool,
    hnsw_ef: int | None,
    exact: bool,
    strategy: str,
    explain: bool,
) -> inp.QuerySpec:
    if limit < 1:
        raise errors.BadRequestError("limit must be at least 1")
    if filter is not None and not isinstance(filter, Mapping):
        raise errors.BadRequestError(f"filter must be a dict, got {type(filter).__name__}")
    return inp.QuerySpec(
        vector=inp.vector(vector),
        limit=int(limit),
        filter=filter,
        offset=int(offset),
        score_threshold=score_threshold,
        with_payload=with_payload if isinstance(with_payload, bool) else list(with_payload),
        with_vector=with_vector,
        hnsw_ef=hnsw_ef,
        exact=exact,
        strategy=inp.check_choice(strategy, inp.STRATEGIES, "strategy"),
        explain=explain,
    )


def _relevant_sets(relevant: Any) -> list[list[PointId]]:
    """One validated id list per query; a bare string or number is a mistake, not a set."""
    if isinstance(relevant, (str, bytes, Mapping)) or not isinstance(relevant, (Sequence, np.ndarray)):
        raise errors.BadRequestError("relevant must be a list with one list of point ids per query")
    out: list[list[PointId]] = []
    for i, rel in enumerate(relevant):
        if isinstance(rel, (str, bytes, Mapping)) or not isinstance(rel, (Sequence, np.ndarray, set, frozenset)):
            raise errors.BadRequestError(f"relevant[{i}] must be a list of point ids, got {type(rel).__name__}")
        out.append([inp.point_id(x) for x in rel])
    return out


def _selection(ids: Any, filter: Filter | None) -> tuple[list[PointId] | None, Filter | None]:
    if (ids is None) == (filter is None):
        raise errors.BadRequestError("select points with exactly one of ids=... or filter=...")
    if ids is not None:
        return [inp.point_id(i) for i in ids], None
    return None, filter


def _progress_bar(total: int, progress: bool | None, desc: str) -> Any:
    if progress is False or (progress is None and total < _PROGRESS_THRESHOLD):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            print("grove_client: install tqdm for a progress bar (pip install tqdm)", file=sys.stderr)
        return None
    return tqdm(total=total, desc=desc, unit="pt", unit_scale=True)
