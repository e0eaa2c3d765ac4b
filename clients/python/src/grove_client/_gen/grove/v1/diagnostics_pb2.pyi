from grove_client._gen.grove.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubsetQuery(_message.Message):
    __slots__ = ("vector", "relevant")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    RELEVANT_FIELD_NUMBER: _ClassVar[int]
    vector: _containers.RepeatedScalarFieldContainer[float]
    relevant: _containers.RepeatedCompositeFieldContainer[_common_pb2.PointId]
    def __init__(self, vector: _Optional[_Iterable[float]] = ..., relevant: _Optional[_Iterable[_Union[_common_pb2.PointId, _Mapping]]] = ...) -> None: ...

class DiagnoseSubsetsRequest(_message.Message):
    __slots__ = ("collection_name", "queries", "k", "filter", "sample", "seed", "time_budget_secs", "competitors", "ef")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TIME_BUDGET_SECS_FIELD_NUMBER: _ClassVar[int]
    COMPETITORS_FIELD_NUMBER: _ClassVar[int]
    EF_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    queries: _containers.RepeatedCompositeFieldContainer[SubsetQuery]
    k: _containers.RepeatedScalarFieldContainer[int]
    filter: _common_pb2.Filter
    sample: int
    seed: int
    time_budget_secs: float
    competitors: int
    ef: int
    def __init__(self, collection_name: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[SubsetQuery, _Mapping]]] = ..., k: _Optional[_Iterable[int]] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ..., sample: _Optional[int] = ..., seed: _Optional[int] = ..., time_budget_secs: _Optional[float] = ..., competitors: _Optional[int] = ..., ef: _Optional[int] = ...) -> None: ...

class SubsetQueryResult(_message.Message):
    __slots__ = ("query", "relevant", "recall_exact", "recall_index", "exact_top_is_relevant", "index_top_is_relevant", "label", "margin", "margin_upper", "reason")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    RELEVANT_FIELD_NUMBER: _ClassVar[int]
    RECALL_EXACT_FIELD_NUMBER: _ClassVar[int]
    RECALL_INDEX_FIELD_NUMBER: _ClassVar[int]
    EXACT_TOP_IS_RELEVANT_FIELD_NUMBER: _ClassVar[int]
    INDEX_TOP_IS_RELEVANT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    MARGIN_FIELD_NUMBER: _ClassVar[int]
    MARGIN_UPPER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    query: int
    relevant: int
    recall_exact: _containers.RepeatedScalarFieldContainer[float]
    recall_index: _containers.RepeatedScalarFieldContainer[float]
    exact_top_is_relevant: bool
    index_top_is_relevant: bool
    label: str
    margin: float
    margin_upper: float
    reason: str
    def __init__(self, query: _Optional[int] = ..., relevant: _Optional[int] = ..., recall_exact: _Optional[_Iterable[float]] = ..., recall_index: _Optional[_Iterable[float]] = ..., exact_top_is_relevant: _Optional[bool] = ..., index_top_is_relevant: _Optional[bool] = ..., label: _Optional[str] = ..., margin: _Optional[float] = ..., margin_upper: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class LabelCount(_message.Message):
    __slots__ = ("label", "count")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    label: str
    count: int
    def __init__(self, label: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class DiagnoseSubsetsResponse(_message.Message):
    __slots__ = ("k", "total_queries", "diagnosed", "allowed_points", "mean_recall_exact", "mean_recall_index", "index_loss", "exact_top_is_relevant", "labels", "fragile_margin", "budget_exhausted", "elapsed_secs", "queries")
    K_FIELD_NUMBER: _ClassVar[int]
    TOTAL_QUERIES_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_POINTS_FIELD_NUMBER: _ClassVar[int]
    MEAN_RECALL_EXACT_FIELD_NUMBER: _ClassVar[int]
    MEAN_RECALL_INDEX_FIELD_NUMBER: _ClassVar[int]
    INDEX_LOSS_FIELD_NUMBER: _ClassVar[int]
    EXACT_TOP_IS_RELEVANT_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    FRAGILE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    BUDGET_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECS_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    k: _containers.RepeatedScalarFieldContainer[int]
    total_queries: int
    diagnosed: int
    allowed_points: int
    mean_recall_exact: _containers.RepeatedScalarFieldContainer[float]
    mean_recall_index: _containers.RepeatedScalarFieldContainer[float]
    index_loss: _containers.RepeatedScalarFieldContainer[float]
    exact_top_is_relevant: int
    labels: _containers.RepeatedCompositeFieldContainer[LabelCount]
    fragile_margin: float
    budget_exhausted: bool
    elapsed_secs: float
    queries: _containers.RepeatedCompositeFieldContainer[SubsetQueryResult]
    def __init__(self, k: _Optional[_Iterable[int]] = ..., total_queries: _Optional[int] = ..., diagnosed: _Optional[int] = ..., allowed_points: _Optional[int] = ..., mean_recall_exact: _Optional[_Iterable[float]] = ..., mean_recall_index: _Optional[_Iterable[float]] = ..., index_loss: _Optional[_Iterable[float]] = ..., exact_top_is_relevant: _Optional[int] = ..., labels: _Optional[_Iterable[_Union[LabelCount, _Mapping]]] = ..., fragile_margin: _Optional[float] = ..., budget_exhausted: _Optional[bool] = ..., elapsed_secs: _Optional[float] = ..., queries: _Optional[_Iterable[_Union[SubsetQueryResult, _Mapping]]] = ...) -> None: ...

class RelevantSet(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ids: _Optional[_Iterable[int]] = ...) -> None: ...

class StartCapacityJobRequest(_message.Message):
    __slots__ = ("d", "k", "pattern", "queries", "n", "qrels", "seed", "budget_secs", "threads", "max_n", "restarts", "max_steps", "patience")
    D_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    QRELS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    BUDGET_SECS_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    MAX_N_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    PATIENCE_FIELD_NUMBER: _ClassVar[int]
    d: int
    k: int
    pattern: str
    queries: int
    n: int
    qrels: _containers.RepeatedCompositeFieldContainer[RelevantSet]
    seed: int
    budget_secs: float
    threads: int
    max_n: int
    restarts: int
    max_steps: int
    patience: int
    def __init__(self, d: _Optional[int] = ..., k: _Optional[int] = ..., pattern: _Optional[str] = ..., queries: _Optional[int] = ..., n: _Optional[int] = ..., qrels: _Optional[_Iterable[_Union[RelevantSet, _Mapping]]] = ..., seed: _Optional[int] = ..., budget_secs: _Optional[float] = ..., threads: _Optional[int] = ..., max_n: _Optional[int] = ..., restarts: _Optional[int] = ..., max_steps: _Optional[int] = ..., patience: _Optional[int] = ...) -> None: ...

class JobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ("n", "attempt", "step", "loss", "realised", "queries")
    N_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    REALISED_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    n: int
    attempt: int
    step: int
    loss: float
    realised: int
    queries: int
    def __init__(self, n: _Optional[int] = ..., attempt: _Optional[int] = ..., step: _Optional[int] = ..., loss: _Optional[float] = ..., realised: _Optional[int] = ..., queries: _Optional[int] = ...) -> None: ...

class Probe(_message.Message):
    __slots__ = ("n", "qrels", "all_realised", "best_realised", "budget_exhausted", "steps", "seconds")
    N_FIELD_NUMBER: _ClassVar[int]
    QRELS_FIELD_NUMBER: _ClassVar[int]
    ALL_REALISED_FIELD_NUMBER: _ClassVar[int]
    BEST_REALISED_FIELD_NUMBER: _ClassVar[int]
    BUDGET_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    n: int
    qrels: int
    all_realised: bool
    best_realised: int
    budget_exhausted: bool
    steps: int
    seconds: float
    def __init__(self, n: _Optional[int] = ..., qrels: _Optional[int] = ..., all_realised: _Optional[bool] = ..., best_realised: _Optional[int] = ..., budget_exhausted: _Optional[bool] = ..., steps: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class Reference(_message.Message):
    __slots__ = ("value", "kind", "note")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    value: float
    kind: str
    note: str
    def __init__(self, value: _Optional[float] = ..., kind: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class CapacityResult(_message.Message):
    __slots__ = ("mode", "d", "k", "critical_n", "first_failure", "complete", "probes", "paper_fit", "exact_bound_dim")
    MODE_FIELD_NUMBER: _ClassVar[int]
    D_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_N_FIELD_NUMBER: _ClassVar[int]
    FIRST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    PAPER_FIT_FIELD_NUMBER: _ClassVar[int]
    EXACT_BOUND_DIM_FIELD_NUMBER: _ClassVar[int]
    mode: str
    d: int
    k: int
    critical_n: int
    first_failure: int
    complete: bool
    probes: _containers.RepeatedCompositeFieldContainer[Probe]
    paper_fit: Reference
    exact_bound_dim: Reference
    def __init__(self, mode: _Optional[str] = ..., d: _Optional[int] = ..., k: _Optional[int] = ..., critical_n: _Optional[int] = ..., first_failure: _Optional[int] = ..., complete: _Optional[bool] = ..., probes: _Optional[_Iterable[_Union[Probe, _Mapping]]] = ..., paper_fit: _Optional[_Union[Reference, _Mapping]] = ..., exact_bound_dim: _Optional[_Union[Reference, _Mapping]] = ...) -> None: ...

class JobInfo(_message.Message):
    __slots__ = ("id", "kind", "status", "elapsed_secs", "progress", "probes_done", "result", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    PROBES_DONE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: str
    status: str
    elapsed_secs: float
    progress: JobProgress
    probes_done: int
    result: CapacityResult
    error: str
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., elapsed_secs: _Optional[float] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ..., probes_done: _Optional[int] = ..., result: _Optional[_Union[CapacityResult, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...
