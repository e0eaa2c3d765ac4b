"""Result types returned by :class:`grove_client.GroveClient`.

Plain dataclasses, the same whichever transport answered. Query results keep ids and scores as
numpy arrays (one row per hit) so that evaluation code can compare them with ground truth
without a Python loop; payloads stay Python dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence, Union

import numpy as np

PointId = Union[int, str]
"""A point id: an unsigned integer or a UUID string."""

Payload = dict[str, Any]
"""A point payload: a JSON object."""


@dataclass(frozen=True)
class Explain:
    """What one search did and why (the planner's decision and the work done).

    ``path`` is one of ``"exact"``, ``"hnsw"``, ``"acorn1"``, ``"acorn_gamma"``, ``"matryoshka"``;
    ``selectivity`` is ``allowed_points / live_points``.
    """

    path: str
    reason: str
    live_points: int
    allowed_points: int
    selectivity: float
    ef: int | None
    nodes_visited: int
    distances_computed: int
    unindexed_scanned: int
    extra: dict[str, Any] = field(default_factory=dict)
    filter: dict[str, Any] | None = None
    """How the server's storage answered the filter (None without a filter): ``cardinality``
    (exact matching points), ``indexed_fields`` (answered by a payload index),
    ``unindexed_fields`` (checked against every payload), ``payloads_scanned``, ``micros``."""
    """Fields the server sent that this client version does not know (REST only)."""
    matryoshka: list["MatryoshkaStage"] = field(default_factory=list)
    """Stages of a Matryoshka search, shortest prefix first (empty for other paths)."""


@dataclass(frozen=True)
class ScoredPoint:
    """One query hit."""

    id: PointId
    score: float
    payload: Payload | None = None
    vector: np.ndarray | None = None


@dataclass(frozen=True)
class Record:
    """A stored point as returned by get and scroll."""

    id: PointId
    payload: Payload | None = None
    vector: np.ndarray | None = None


def _ids_array(ids: Sequence[PointId]) -> np.ndarray:
    """uint64 when every id is an integer (the common case), else an object array."""
    if all(isinstance(i, int) for i in ids):
        return np.asarray(ids, dtype=np.uint64)
    out = np.empty(len(ids), dtype=object)
    out[:] = list(ids)
    return out


@dataclass(frozen=True)
class QueryResult:
    """The hits of one query, best first.

    Attributes:
        ids: point ids, ``uint64`` when all are integers, else an object array.
        scores: ``float32`` scores (cosine/dot: higher is better; euclid: distance).
        payloads: one dict per hit, or None per hit when payloads were not requested.
        vectors: ``(n, dim)`` float32 when vectors were requested, else None.
        explain: the planner's record when ``explain=True`` was passed.
    """

    ids: np.ndarray
    scores: np.ndarray
    payloads: list[Payload | None]
    vectors: np.ndarray | None = None
    explain: Explain | None = None

    @classmethod
    def from_points(cls, points: Sequence[ScoredPoint], explain: Explain | None = None) -> "QueryResult":
        """Build from a list of hits."""
        vectors = None
        if points and all(p.vector is not None for p in points):
            vectors = np.stack([np.asarray(p.vector, dtype=np.float32) for p in points])
        return cls(
            ids=_ids_array([p.id for p in points]),
            scores=np.asarray([p.score for p in points], dtype=np.float32),
            payloads=[p.payload for p in points],
            vectors=vectors,
            explain=explain,
        )

    def __len__(self) -> int:
        return len(self.scores)

    def __iter__(self) -> Iterator[ScoredPoint]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i: int) -> ScoredPoint:
        raw = self.ids[i]
        return ScoredPoint(
            id=raw if self.ids.dtype == object else int(raw),
            score=float(self.scores[i]),
            payload=self.payloads[i],
            vector=None if self.vectors is None else self.vectors[i],
        )


@dataclass(frozen=True)
class BatchQueryResult:
    """The answers of a batch of queries, in request order.

    ``ids`` and ``scores`` are ``(n_queries, limit)`` matrices padded where a query returned
    fewer hits (ids with ``-1`` as int64, or None in an object array; scores with NaN).
    """

    results: list[QueryResult]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[QueryResult]:
        return iter(self.results)

    def __getitem__(self, i: int) -> QueryResult:
        return self.results[i]

    @property
    def ids(self) -> np.ndarray:
        """Padded ``(n_queries, k)`` id matrix: int64 with -1 padding, or object with None."""
        k = max((len(r) for r in self.results), default=0)
        numeric = all(r.ids.dtype != object for r in self.results)
        out = np.full((len(self.results), k), -1 if numeric else None, dtype=np.int64 if numeric else object)
        for row, r in enumerate(self.results):
            out[row, : len(r)] = r.ids.astype(np.int64) if numeric else r.ids
        return out

    @property
    def scores(self) -> np.ndarray:
        """Padded ``(n_queries, k)`` float32 score matrix (NaN padding)."""
        k = max((len(r) for r in self.results), default=0)
        out = np.full((len(self.results), k), np.nan, dtype=np.float32)
        for row, r in enumerate(self.results):
            out[row, : len(r)] = r.scores
        return out


@dataclass(frozen=True)
class PayloadField:
    """A payload field index of a collection."""

    name: str
    schema: str
    """``keyword``, ``integer``, ``float``, ``bool`` or ``datetime``."""
    points: int
    """Points that have a value for this field."""


@dataclass(frozen=True)
class CollectionInfo:
    """A collection's configuration and state."""

    name: str
    dim: int
    distance: str
    """``cosine``, ``dot`` or ``euclid``."""
    points_count: int
    indexed_vectors_count: int
    status: str
    """``green`` when fully indexed, ``yellow`` while indexing."""
    payload_schema: dict[str, PayloadField]
    hnsw_config: dict[str, Any]


@dataclass(frozen=True)
class UpdateResult:
    """The result of a write."""

    operation_id: int
    status: str
    """``completed`` (durable and visible to searches) or ``acknowledged`` (durable)."""


@dataclass(frozen=True)
class UpsertSummary:
    """What :meth:`GroveClient.upsert` did over all its batches."""

    points: int
    batches: int
    last: UpdateResult | None


@dataclass(frozen=True)
class SnapshotInfo:
    """A collection snapshot."""

    name: str
    creation_time: str | None
    size: int


@dataclass(frozen=True)
class ScrollPage:
    """One page of a scroll; pass ``next_offset`` back to get the next one (None: last page)."""

    points: list[Record]
    next_offset: PointId | None

    def __iter__(self) -> Iterator[Record]:
        return iter(self.points)

    def __len__(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class HealthInfo:
    """Server version and readiness."""

    version: str
    ready: bool


# -- LIMIT diagnostics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsetQueryDiagnosis:
    """The diagnosis of one query of :meth:`GroveClient.diagnose_subsets`.

    ``label`` says why the relevant set R is (not) returned: ``hit`` (the index returns it),
    ``index_miss`` (exact search would, the index does not), ``encoder_gap`` (some query returns
    R, this one does not: the encoder's fault), ``geometry_gap`` (no query at all can return R
    as the top-|R| in this geometry), ``fragile`` (returnable only with a margin below the
    storage rounding) or ``undetermined`` (the time budget ran out; see ``reason``).
    """

    query: int
    """Position of the query in the request."""
    relevant: int
    """|R|: distinct relevant points."""
    label: str
    recall_exact: list[float] | None = None
    """recall@k by exact scan, one per k of the result (None when the budget ran out)."""
    recall_index: list[float] | None = None
    """recall@k through the collection's index."""
    exact_top_is_relevant: bool | None = None
    index_top_is_relevant: bool | None = None
    margin: float | None = None
    """Largest proved separation margin of R (> 0 proves some query returns R)."""
    margin_upper: float | None = None
    """Upper bound on any query's margin for R (about 0 for a geometry gap)."""
    reason: str | None = None


@dataclass(frozen=True)
class SubsetDiagnosis:
    """The result of :meth:`GroveClient.diagnose_subsets`."""

    k: list[int]
    """The k of every recall list."""
    total_queries: int
    diagnosed: int
    """Queries diagnosed (the sample, when ``sample`` was given)."""
    allowed_points: int
    """Points that competed (live and matching the filter)."""
    mean_recall_exact: list[float]
    mean_recall_index: list[float] | None
    index_loss: list[float] | None
    """Exact minus index recall per k: what the index loses."""
    exact_top_is_relevant: int
    labels: dict[str, int]
    """Queries per label."""
    fragile_margin: float
    budget_exhausted: bool
    elapsed_secs: float
    queries: list[SubsetQueryDiagnosis]
    """Per diagnosed query, in request order."""

    @property
    def query_labels(self) -> list[str]:
        """The label of every diagnosed query, in request order."""
        return [q.label for q in self.queries]


@dataclass(frozen=True)
class JobProgress:
    """Where a running capacity job is."""

    n: int
    attempt: int
    step: int
    loss: float
    realised: int
    queries: int


@dataclass(frozen=True)
class CapacityProbe:
    """One probe (one document count n) of a capacity job."""

    n: int
    qrels: int
    all_realised: bool
    """Every qrel realised (proved by the embeddings found)."""
    best_realised: int
    budget_exhausted: bool
    """The budget or a cancel cut the probe: then a failure proves nothing."""
    steps: int
    seconds: float


@dataclass(frozen=True)
class CapacityReference:
    """A published reference value, labelled for what it is (``empirical_fit`` or ``exact_bound``)."""

    value: float
    kind: str
    note: str


@dataclass(frozen=True)
class CapacityResult:
    """The result of a capacity job (complete, or what was finished when cancelled)."""

    mode: str
    """``critical_n`` (search) or ``probe`` (one n)."""
    d: int
    k: int
    critical_n: int | None
    """Largest n whose every k-subset was realised (search mode)."""
    first_failure: int | None
    """Smallest n that failed every restart (search mode; not a proof of impossibility)."""
    complete: bool
    probes: list[CapacityProbe]
    paper_fit: CapacityReference | None
    exact_bound_dim: CapacityReference


JOB_FINISHED = ("done", "cancelled", "failed")
"""Job statuses after which nothing changes any more."""


@dataclass(frozen=True)
class DiagnosticsJob:
    """A diagnostics job as the server reports it."""

    id: int
    kind: str
    """``capacity``."""
    status: str
    """``running``, ``cancelling``, ``done``, ``cancelled`` or ``failed``."""
    elapsed_secs: float
    progress: JobProgress | None
    probes_done: int
    result: CapacityResult | None
    """Set when done or cancelled (then: what was finished)."""
    error: str | None
    """Why the job failed."""

    @property
    def finished(self) -> bool:
        """Whether the job has ended (done, cancelled or failed)."""
        return self.status in JOB_FINISHED


# -- Matryoshka ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatryoshkaStage:
    """One stage of a Matryoshka search (explain): compared at ``dim`` by ``path``
    (``prefix_scan``, ``prefix_graph`` or ``rescore``)."""

    dim: int
    path: str
    candidates_in: int
    kept: int
    distances_computed: int


@dataclass(frozen=True)
class MatryoshkaPrefix:
    """One declared prefix of a collection."""

    dim: int
    bytes_per_vector: int
    graph_indexed: int | None = None
    """Points in the prefix's graph (None without a graph)."""
    variance_kept: float | None = None
    """Share of the variance the prefix keeps under the PCA (None without PCA or before it is fitted)."""


@dataclass(frozen=True)
class MatryoshkaInfo:
    """A collection's Matryoshka prefixes and their state."""

    prefixes: list[MatryoshkaPrefix]
    renormalise: bool
    dtype: str
    pca: bool
    """Whether the PCA rotation is applied (False until it is fitted)."""
    pca_sample: int | None
    memory_bytes: int
    config: dict[str, Any] = field(default_factory=dict)
    """The declaration as the server stores it (``dims``, ``graph``, ``pca``, ...). Over gRPC
    ``graph`` and ``pca`` are always present (False when not declared); REST omits them then."""

    @property
    def dims(self) -> list[int]:
        return [p.dim for p in self.prefixes]


@dataclass(frozen=True)
class CalibrationRow:
    """One calibrated setting: first-stage prefix ``dim`` with ``oversample``, its mean and lowest
    recall@k against exact full-dimension search, and its mean cost per query."""

    dim: int
    oversample: int
    recall: float
    min_recall: float
    distances: float
    cost: float
    """Mean vector components compared per query (what the recommendation minimises)."""
    micros: float


@dataclass(frozen=True)
class CalibrationReport:
    """The result of :meth:`GroveClient.calibrate_matryoshka`."""

    queries: int
    k: int
    target_recall: float
    exact: CalibrationRow
    """The exact full-dimension scan: the cost to beat."""
    rows: list[CalibrationRow]
    recommended: CalibrationRow | None
    """The cheapest setting reaching ``target_recall`` (None when none does)."""

    def query_params(self) -> dict[str, int] | None:
        """The recommendation as ``query(..., matryoshka=...)`` takes it (None without one)."""
        if self.recommended is None:
            return None
        return {"dim": self.recommended.dim, "oversample": self.recommended.oversample}
