from grove_client._gen.grove.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Strategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STRATEGY_AUTO: _ClassVar[Strategy]
    STRATEGY_EXACT: _ClassVar[Strategy]
    STRATEGY_HNSW: _ClassVar[Strategy]
    STRATEGY_ACORN: _ClassVar[Strategy]
STRATEGY_AUTO: Strategy
STRATEGY_EXACT: Strategy
STRATEGY_HNSW: Strategy
STRATEGY_ACORN: Strategy

class PointStruct(_message.Message):
    __slots__ = ("id", "vector", "payload", "named_vectors", "sparse_vectors", "multi_vectors")
    class PayloadEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ...) -> None: ...
    class NamedVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Vector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ...) -> None: ...
    class SparseVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.SparseVector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.SparseVector, _Mapping]] = ...) -> None: ...
    class MultiVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.MultiVector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.MultiVector, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    NAMED_VECTORS_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    MULTI_VECTORS_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.PointId
    vector: _common_pb2.Vector
    payload: _containers.MessageMap[str, _common_pb2.Value]
    named_vectors: _containers.MessageMap[str, _common_pb2.Vector]
    sparse_vectors: _containers.MessageMap[str, _common_pb2.SparseVector]
    multi_vectors: _containers.MessageMap[str, _common_pb2.MultiVector]
    def __init__(self, id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., payload: _Optional[_Mapping[str, _common_pb2.Value]] = ..., named_vectors: _Optional[_Mapping[str, _common_pb2.Vector]] = ..., sparse_vectors: _Optional[_Mapping[str, _common_pb2.SparseVector]] = ..., multi_vectors: _Optional[_Mapping[str, _common_pb2.MultiVector]] = ...) -> None: ...

class RetrievedPoint(_message.Message):
    __slots__ = ("id", "payload", "vector", "named_vectors", "sparse_vectors", "multi_vectors")
    class PayloadEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ...) -> None: ...
    class NamedVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Vector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ...) -> None: ...
    class SparseVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.SparseVector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.SparseVector, _Mapping]] = ...) -> None: ...
    class MultiVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.MultiVector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.MultiVector, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    NAMED_VECTORS_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    MULTI_VECTORS_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.PointId
    payload: _containers.MessageMap[str, _common_pb2.Value]
    vector: _common_pb2.Vector
    named_vectors: _containers.MessageMap[str, _common_pb2.Vector]
    sparse_vectors: _containers.MessageMap[str, _common_pb2.SparseVector]
    multi_vectors: _containers.MessageMap[str, _common_pb2.MultiVector]
    def __init__(self, id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., payload: _Optional[_Mapping[str, _common_pb2.Value]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., named_vectors: _Optional[_Mapping[str, _common_pb2.Vector]] = ..., sparse_vectors: _Optional[_Mapping[str, _common_pb2.SparseVector]] = ..., multi_vectors: _Optional[_Mapping[str, _common_pb2.MultiVector]] = ...) -> None: ...

class ScoredPoint(_message.Message):
    __slots__ = ("id", "score", "payload", "vector", "named_vectors", "sparse_vectors", "multi_vectors")
    class PayloadEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ...) -> None: ...
    class NamedVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Vector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ...) -> None: ...
    class SparseVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.SparseVector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.SparseVector, _Mapping]] = ...) -> None: ...
    class MultiVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.MultiVector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.MultiVector, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    NAMED_VECTORS_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    MULTI_VECTORS_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.PointId
    score: float
    payload: _containers.MessageMap[str, _common_pb2.Value]
    vector: _common_pb2.Vector
    named_vectors: _containers.MessageMap[str, _common_pb2.Vector]
    sparse_vectors: _containers.MessageMap[str, _common_pb2.SparseVector]
    multi_vectors: _containers.MessageMap[str, _common_pb2.MultiVector]
    def __init__(self, id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., score: _Optional[float] = ..., payload: _Optional[_Mapping[str, _common_pb2.Value]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., named_vectors: _Optional[_Mapping[str, _common_pb2.Vector]] = ..., sparse_vectors: _Optional[_Mapping[str, _common_pb2.SparseVector]] = ..., multi_vectors: _Optional[_Mapping[str, _common_pb2.MultiVector]] = ...) -> None: ...

class PointsSelector(_message.Message):
    __slots__ = ("points", "filter")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    points: PointIdList
    filter: _common_pb2.Filter
    def __init__(self, points: _Optional[_Union[PointIdList, _Mapping]] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ...) -> None: ...

class PointIdList(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedCompositeFieldContainer[_common_pb2.PointId]
    def __init__(self, ids: _Optional[_Iterable[_Union[_common_pb2.PointId, _Mapping]]] = ...) -> None: ...

class UpdateResult(_message.Message):
    __slots__ = ("operation_id", "status")
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    operation_id: int
    status: str
    def __init__(self, operation_id: _Optional[int] = ..., status: _Optional[str] = ...) -> None: ...

class UpsertPointsRequest(_message.Message):
    __slots__ = ("collection_name", "points", "wait")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    points: _containers.RepeatedCompositeFieldContainer[PointStruct]
    wait: bool
    def __init__(self, collection_name: _Optional[str] = ..., points: _Optional[_Iterable[_Union[PointStruct, _Mapping]]] = ..., wait: _Optional[bool] = ...) -> None: ...

class GetPointsRequest(_message.Message):
    __slots__ = ("collection_name", "ids", "with_payload", "with_vector")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    WITH_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    WITH_VECTOR_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    ids: _containers.RepeatedCompositeFieldContainer[_common_pb2.PointId]
    with_payload: _common_pb2.WithPayloadSelector
    with_vector: bool
    def __init__(self, collection_name: _Optional[str] = ..., ids: _Optional[_Iterable[_Union[_common_pb2.PointId, _Mapping]]] = ..., with_payload: _Optional[_Union[_common_pb2.WithPayloadSelector, _Mapping]] = ..., with_vector: _Optional[bool] = ...) -> None: ...

class GetPointsResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[RetrievedPoint]
    def __init__(self, result: _Optional[_Iterable[_Union[RetrievedPoint, _Mapping]]] = ...) -> None: ...

class DeletePointsRequest(_message.Message):
    __slots__ = ("collection_name", "points", "wait")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    points: PointsSelector
    wait: bool
    def __init__(self, collection_name: _Optional[str] = ..., points: _Optional[_Union[PointsSelector, _Mapping]] = ..., wait: _Optional[bool] = ...) -> None: ...

class SetPayloadRequest(_message.Message):
    __slots__ = ("collection_name", "payload", "points", "overwrite", "wait")
    class PayloadEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ...) -> None: ...
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    payload: _containers.MessageMap[str, _common_pb2.Value]
    points: PointsSelector
    overwrite: bool
    wait: bool
    def __init__(self, collection_name: _Optional[str] = ..., payload: _Optional[_Mapping[str, _common_pb2.Value]] = ..., points: _Optional[_Union[PointsSelector, _Mapping]] = ..., overwrite: _Optional[bool] = ..., wait: _Optional[bool] = ...) -> None: ...

class DeletePayloadRequest(_message.Message):
    __slots__ = ("collection_name", "keys", "points", "wait")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    points: PointsSelector
    wait: bool
    def __init__(self, collection_name: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., points: _Optional[_Union[PointsSelector, _Mapping]] = ..., wait: _Optional[bool] = ...) -> None: ...

class ClearPayloadRequest(_message.Message):
    __slots__ = ("collection_name", "points", "wait")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    points: PointsSelector
    wait: bool
    def __init__(self, collection_name: _Optional[str] = ..., points: _Optional[_Union[PointsSelector, _Mapping]] = ..., wait: _Optional[bool] = ...) -> None: ...

class UpdateResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: UpdateResult
    def __init__(self, result: _Optional[_Union[UpdateResult, _Mapping]] = ...) -> None: ...

class SearchParams(_message.Message):
    __slots__ = ("hnsw_ef", "exact", "strategy", "matryoshka")
    HNSW_EF_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    MATRYOSHKA_FIELD_NUMBER: _ClassVar[int]
    hnsw_ef: int
    exact: bool
    strategy: Strategy
    matryoshka: MatryoshkaParams
    def __init__(self, hnsw_ef: _Optional[int] = ..., exact: _Optional[bool] = ..., strategy: _Optional[_Union[Strategy, str]] = ..., matryoshka: _Optional[_Union[MatryoshkaParams, _Mapping]] = ...) -> None: ...

class FunnelStage(_message.Message):
    __slots__ = ("dim", "keep")
    DIM_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIELD_NUMBER: _ClassVar[int]
    dim: int
    keep: int
    def __init__(self, dim: _Optional[int] = ..., keep: _Optional[int] = ...) -> None: ...

class MatryoshkaParams(_message.Message):
    __slots__ = ("dim", "oversample", "funnel", "path")
    DIM_FIELD_NUMBER: _ClassVar[int]
    OVERSAMPLE_FIELD_NUMBER: _ClassVar[int]
    FUNNEL_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    dim: int
    oversample: int
    funnel: _containers.RepeatedCompositeFieldContainer[FunnelStage]
    path: str
    def __init__(self, dim: _Optional[int] = ..., oversample: _Optional[int] = ..., funnel: _Optional[_Iterable[_Union[FunnelStage, _Mapping]]] = ..., path: _Optional[str] = ...) -> None: ...

class MatryoshkaStage(_message.Message):
    __slots__ = ("dim", "path", "candidates_in", "kept", "distances_computed")
    DIM_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_IN_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DISTANCES_COMPUTED_FIELD_NUMBER: _ClassVar[int]
    dim: int
    path: str
    candidates_in: int
    kept: int
    distances_computed: int
    def __init__(self, dim: _Optional[int] = ..., path: _Optional[str] = ..., candidates_in: _Optional[int] = ..., kept: _Optional[int] = ..., distances_computed: _Optional[int] = ...) -> None: ...

class CalibrateMatryoshkaRequest(_message.Message):
    __slots__ = ("collection_name", "sample", "seed", "target_recall", "dims", "oversamples", "filter")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TARGET_RECALL_FIELD_NUMBER: _ClassVar[int]
    DIMS_FIELD_NUMBER: _ClassVar[int]
    OVERSAMPLES_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    sample: int
    seed: int
    target_recall: float
    dims: _containers.RepeatedScalarFieldContainer[int]
    oversamples: _containers.RepeatedScalarFieldContainer[int]
    filter: _common_pb2.Filter
    def __init__(self, collection_name: _Optional[str] = ..., sample: _Optional[int] = ..., seed: _Optional[int] = ..., target_recall: _Optional[float] = ..., dims: _Optional[_Iterable[int]] = ..., oversamples: _Optional[_Iterable[int]] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ...) -> None: ...

class CalibrationRow(_message.Message):
    __slots__ = ("dim", "oversample", "recall", "min_recall", "distances", "cost", "micros")
    DIM_FIELD_NUMBER: _ClassVar[int]
    OVERSAMPLE_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    MIN_RECALL_FIELD_NUMBER: _ClassVar[int]
    DISTANCES_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    MICROS_FIELD_NUMBER: _ClassVar[int]
    dim: int
    oversample: int
    recall: float
    min_recall: float
    distances: float
    cost: float
    micros: float
    def __init__(self, dim: _Optional[int] = ..., oversample: _Optional[int] = ..., recall: _Optional[float] = ..., min_recall: _Optional[float] = ..., distances: _Optional[float] = ..., cost: _Optional[float] = ..., micros: _Optional[float] = ...) -> None: ...

class CalibrateMatryoshkaResponse(_message.Message):
    __slots__ = ("queries", "k", "target_recall", "exact", "rows", "recommended")
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    TARGET_RECALL_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_FIELD_NUMBER: _ClassVar[int]
    queries: int
    k: int
    target_recall: float
    exact: CalibrationRow
    rows: _containers.RepeatedCompositeFieldContainer[CalibrationRow]
    recommended: CalibrationRow
    def __init__(self, queries: _Optional[int] = ..., k: _Optional[int] = ..., target_recall: _Optional[float] = ..., exact: _Optional[_Union[CalibrationRow, _Mapping]] = ..., rows: _Optional[_Iterable[_Union[CalibrationRow, _Mapping]]] = ..., recommended: _Optional[_Union[CalibrationRow, _Mapping]] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("collection_name", "query", "filter", "limit", "offset", "score_threshold", "with_payload", "with_vector", "params", "explain", "using", "sparse_query", "multi_query")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SCORE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    WITH_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    WITH_VECTOR_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    USING_FIELD_NUMBER: _ClassVar[int]
    SPARSE_QUERY_FIELD_NUMBER: _ClassVar[int]
    MULTI_QUERY_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    query: _common_pb2.Vector
    filter: _common_pb2.Filter
    limit: int
    offset: int
    score_threshold: float
    with_payload: _common_pb2.WithPayloadSelector
    with_vector: bool
    params: SearchParams
    explain: bool
    using: str
    sparse_query: _common_pb2.SparseVector
    multi_query: _common_pb2.MultiVector
    def __init__(self, collection_name: _Optional[str] = ..., query: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., score_threshold: _Optional[float] = ..., with_payload: _Optional[_Union[_common_pb2.WithPayloadSelector, _Mapping]] = ..., with_vector: _Optional[bool] = ..., params: _Optional[_Union[SearchParams, _Mapping]] = ..., explain: _Optional[bool] = ..., using: _Optional[str] = ..., sparse_query: _Optional[_Union[_common_pb2.SparseVector, _Mapping]] = ..., multi_query: _Optional[_Union[_common_pb2.MultiVector, _Mapping]] = ...) -> None: ...

class Explain(_message.Message):
    __slots__ = ("path", "reason", "live_points", "allowed_points", "selectivity", "ef", "nodes_visited", "distances_computed", "unindexed_scanned", "filter", "matryoshka", "using", "sparse")
    PATH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LIVE_POINTS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_POINTS_FIELD_NUMBER: _ClassVar[int]
    SELECTIVITY_FIELD_NUMBER: _ClassVar[int]
    EF_FIELD_NUMBER: _ClassVar[int]
    NODES_VISITED_FIELD_NUMBER: _ClassVar[int]
    DISTANCES_COMPUTED_FIELD_NUMBER: _ClassVar[int]
    UNINDEXED_SCANNED_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MATRYOSHKA_FIELD_NUMBER: _ClassVar[int]
    USING_FIELD_NUMBER: _ClassVar[int]
    SPARSE_FIELD_NUMBER: _ClassVar[int]
    path: str
    reason: str
    live_points: int
    allowed_points: int
    selectivity: float
    ef: int
    nodes_visited: int
    distances_computed: int
    unindexed_scanned: int
    filter: FilterExplain
    matryoshka: _containers.RepeatedCompositeFieldContainer[MatryoshkaStage]
    using: str
    sparse: SparseExplain
    def __init__(self, path: _Optional[str] = ..., reason: _Optional[str] = ..., live_points: _Optional[int] = ..., allowed_points: _Optional[int] = ..., selectivity: _Optional[float] = ..., ef: _Optional[int] = ..., nodes_visited: _Optional[int] = ..., distances_computed: _Optional[int] = ..., unindexed_scanned: _Optional[int] = ..., filter: _Optional[_Union[FilterExplain, _Mapping]] = ..., matryoshka: _Optional[_Iterable[_Union[MatryoshkaStage, _Mapping]]] = ..., using: _Optional[str] = ..., sparse: _Optional[_Union[SparseExplain, _Mapping]] = ...) -> None: ...

class SparseExplain(_message.Message):
    __slots__ = ("path", "query_dims", "postings_read", "candidates_scored", "idf")
    PATH_FIELD_NUMBER: _ClassVar[int]
    QUERY_DIMS_FIELD_NUMBER: _ClassVar[int]
    POSTINGS_READ_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_SCORED_FIELD_NUMBER: _ClassVar[int]
    IDF_FIELD_NUMBER: _ClassVar[int]
    path: str
    query_dims: int
    postings_read: int
    candidates_scored: int
    idf: bool
    def __init__(self, path: _Optional[str] = ..., query_dims: _Optional[int] = ..., postings_read: _Optional[int] = ..., candidates_scored: _Optional[int] = ..., idf: _Optional[bool] = ...) -> None: ...

class FilterExplain(_message.Message):
    __slots__ = ("cardinality", "indexed_fields", "unindexed_fields", "payloads_scanned", "micros")
    CARDINALITY_FIELD_NUMBER: _ClassVar[int]
    INDEXED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    UNINDEXED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    PAYLOADS_SCANNED_FIELD_NUMBER: _ClassVar[int]
    MICROS_FIELD_NUMBER: _ClassVar[int]
    cardinality: int
    indexed_fields: _containers.RepeatedScalarFieldContainer[str]
    unindexed_fields: _containers.RepeatedScalarFieldContainer[str]
    payloads_scanned: int
    micros: int
    def __init__(self, cardinality: _Optional[int] = ..., indexed_fields: _Optional[_Iterable[str]] = ..., unindexed_fields: _Optional[_Iterable[str]] = ..., payloads_scanned: _Optional[int] = ..., micros: _Optional[int] = ...) -> None: ...

class QueryResponse(_message.Message):
    __slots__ = ("result", "explain")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[ScoredPoint]
    explain: Explain
    def __init__(self, result: _Optional[_Iterable[_Union[ScoredPoint, _Mapping]]] = ..., explain: _Optional[_Union[Explain, _Mapping]] = ...) -> None: ...

class QueryBatchRequest(_message.Message):
    __slots__ = ("collection_name", "queries")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    queries: _containers.RepeatedCompositeFieldContainer[QueryRequest]
    def __init__(self, collection_name: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[QueryRequest, _Mapping]]] = ...) -> None: ...

class QueryBatchResult(_message.Message):
    __slots__ = ("index", "result", "explain")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    index: int
    result: _containers.RepeatedCompositeFieldContainer[ScoredPoint]
    explain: Explain
    def __init__(self, index: _Optional[int] = ..., result: _Optional[_Iterable[_Union[ScoredPoint, _Mapping]]] = ..., explain: _Optional[_Union[Explain, _Mapping]] = ...) -> None: ...

class ScrollRequest(_message.Message):
    __slots__ = ("collection_name", "filter", "offset", "limit", "with_payload", "with_vector")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    WITH_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    WITH_VECTOR_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    filter: _common_pb2.Filter
    offset: _common_pb2.PointId
    limit: int
    with_payload: _common_pb2.WithPayloadSelector
    with_vector: bool
    def __init__(self, collection_name: _Optional[str] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ..., offset: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., limit: _Optional[int] = ..., with_payload: _Optional[_Union[_common_pb2.WithPayloadSelector, _Mapping]] = ..., with_vector: _Optional[bool] = ...) -> None: ...

class ScrollResponse(_message.Message):
    __slots__ = ("result", "next_page_offset")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_OFFSET_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[RetrievedPoint]
    next_page_offset: _common_pb2.PointId
    def __init__(self, result: _Optional[_Iterable[_Union[RetrievedPoint, _Mapping]]] = ..., next_page_offset: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ...) -> None: ...

class CountRequest(_message.Message):
    __slots__ = ("collection_name", "filter", "exact")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    filter: _common_pb2.Filter
    exact: bool
    def __init__(self, collection_name: _Optional[str] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ..., exact: _Optional[bool] = ...) -> None: ...

class CountResponse(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...
