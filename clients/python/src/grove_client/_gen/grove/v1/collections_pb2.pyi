from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Distance(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISTANCE_UNSPECIFIED: _ClassVar[Distance]
    DISTANCE_COSINE: _ClassVar[Distance]
    DISTANCE_DOT: _ClassVar[Distance]
    DISTANCE_EUCLID: _ClassVar[Distance]

class SparseModifier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPARSE_MODIFIER_NONE: _ClassVar[SparseModifier]
    SPARSE_MODIFIER_IDF: _ClassVar[SparseModifier]

class PayloadSchemaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYLOAD_SCHEMA_TYPE_UNSPECIFIED: _ClassVar[PayloadSchemaType]
    PAYLOAD_SCHEMA_TYPE_KEYWORD: _ClassVar[PayloadSchemaType]
    PAYLOAD_SCHEMA_TYPE_INTEGER: _ClassVar[PayloadSchemaType]
    PAYLOAD_SCHEMA_TYPE_FLOAT: _ClassVar[PayloadSchemaType]
    PAYLOAD_SCHEMA_TYPE_BOOL: _ClassVar[PayloadSchemaType]
    PAYLOAD_SCHEMA_TYPE_DATETIME: _ClassVar[PayloadSchemaType]
    PAYLOAD_SCHEMA_TYPE_TEXT: _ClassVar[PayloadSchemaType]
    PAYLOAD_SCHEMA_TYPE_UUID: _ClassVar[PayloadSchemaType]
DISTANCE_UNSPECIFIED: Distance
DISTANCE_COSINE: Distance
DISTANCE_DOT: Distance
DISTANCE_EUCLID: Distance
SPARSE_MODIFIER_NONE: SparseModifier
SPARSE_MODIFIER_IDF: SparseModifier
PAYLOAD_SCHEMA_TYPE_UNSPECIFIED: PayloadSchemaType
PAYLOAD_SCHEMA_TYPE_KEYWORD: PayloadSchemaType
PAYLOAD_SCHEMA_TYPE_INTEGER: PayloadSchemaType
PAYLOAD_SCHEMA_TYPE_FLOAT: PayloadSchemaType
PAYLOAD_SCHEMA_TYPE_BOOL: PayloadSchemaType
PAYLOAD_SCHEMA_TYPE_DATETIME: PayloadSchemaType
PAYLOAD_SCHEMA_TYPE_TEXT: PayloadSchemaType
PAYLOAD_SCHEMA_TYPE_UUID: PayloadSchemaType

class HnswConfig(_message.Message):
    __slots__ = ("m", "ef_construction", "gamma", "m_beta")
    M_FIELD_NUMBER: _ClassVar[int]
    EF_CONSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    M_BETA_FIELD_NUMBER: _ClassVar[int]
    m: int
    ef_construction: int
    gamma: int
    m_beta: int
    def __init__(self, m: _Optional[int] = ..., ef_construction: _Optional[int] = ..., gamma: _Optional[int] = ..., m_beta: _Optional[int] = ...) -> None: ...

class VectorParams(_message.Message):
    __slots__ = ("size", "distance", "hnsw_config", "on_disk", "multivector")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    MULTIVECTOR_FIELD_NUMBER: _ClassVar[int]
    size: int
    distance: Distance
    hnsw_config: HnswConfig
    on_disk: bool
    multivector: bool
    def __init__(self, size: _Optional[int] = ..., distance: _Optional[_Union[Distance, str]] = ..., hnsw_config: _Optional[_Union[HnswConfig, _Mapping]] = ..., on_disk: _Optional[bool] = ..., multivector: _Optional[bool] = ...) -> None: ...

class MatryoshkaConfig(_message.Message):
    __slots__ = ("dims", "renormalise", "dtype", "graph", "pca", "pca_sample", "pca_min_points")
    DIMS_FIELD_NUMBER: _ClassVar[int]
    RENORMALISE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    PCA_FIELD_NUMBER: _ClassVar[int]
    PCA_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    PCA_MIN_POINTS_FIELD_NUMBER: _ClassVar[int]
    dims: _containers.RepeatedScalarFieldContainer[int]
    renormalise: bool
    dtype: str
    graph: bool
    pca: bool
    pca_sample: int
    pca_min_points: int
    def __init__(self, dims: _Optional[_Iterable[int]] = ..., renormalise: _Optional[bool] = ..., dtype: _Optional[str] = ..., graph: _Optional[bool] = ..., pca: _Optional[bool] = ..., pca_sample: _Optional[int] = ..., pca_min_points: _Optional[int] = ...) -> None: ...

class MatryoshkaPrefix(_message.Message):
    __slots__ = ("dim", "bytes_per_vector", "graph_indexed", "variance_kept")
    DIM_FIELD_NUMBER: _ClassVar[int]
    BYTES_PER_VECTOR_FIELD_NUMBER: _ClassVar[int]
    GRAPH_INDEXED_FIELD_NUMBER: _ClassVar[int]
    VARIANCE_KEPT_FIELD_NUMBER: _ClassVar[int]
    dim: int
    bytes_per_vector: int
    graph_indexed: int
    variance_kept: float
    def __init__(self, dim: _Optional[int] = ..., bytes_per_vector: _Optional[int] = ..., graph_indexed: _Optional[int] = ..., variance_kept: _Optional[float] = ...) -> None: ...

class MatryoshkaInfo(_message.Message):
    __slots__ = ("prefixes", "renormalise", "dtype", "pca", "pca_sample", "memory_bytes")
    PREFIXES_FIELD_NUMBER: _ClassVar[int]
    RENORMALISE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    PCA_FIELD_NUMBER: _ClassVar[int]
    PCA_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    prefixes: _containers.RepeatedCompositeFieldContainer[MatryoshkaPrefix]
    renormalise: bool
    dtype: str
    pca: bool
    pca_sample: int
    memory_bytes: int
    def __init__(self, prefixes: _Optional[_Iterable[_Union[MatryoshkaPrefix, _Mapping]]] = ..., renormalise: _Optional[bool] = ..., dtype: _Optional[str] = ..., pca: _Optional[bool] = ..., pca_sample: _Optional[int] = ..., memory_bytes: _Optional[int] = ...) -> None: ...

class SparseVectorParams(_message.Message):
    __slots__ = ("full_scan_threshold", "on_disk", "modifier")
    FULL_SCAN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    MODIFIER_FIELD_NUMBER: _ClassVar[int]
    full_scan_threshold: int
    on_disk: bool
    modifier: SparseModifier
    def __init__(self, full_scan_threshold: _Optional[int] = ..., on_disk: _Optional[bool] = ..., modifier: _Optional[_Union[SparseModifier, str]] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("collection_name", "vectors", "hnsw_config", "named_vectors", "matryoshka", "sparse_vectors")
    class NamedVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: VectorParams
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[VectorParams, _Mapping]] = ...) -> None: ...
    class SparseVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: SparseVectorParams
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[SparseVectorParams, _Mapping]] = ...) -> None: ...
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    NAMED_VECTORS_FIELD_NUMBER: _ClassVar[int]
    MATRYOSHKA_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    vectors: VectorParams
    hnsw_config: HnswConfig
    named_vectors: _containers.MessageMap[str, VectorParams]
    matryoshka: MatryoshkaConfig
    sparse_vectors: _containers.MessageMap[str, SparseVectorParams]
    def __init__(self, collection_name: _Optional[str] = ..., vectors: _Optional[_Union[VectorParams, _Mapping]] = ..., hnsw_config: _Optional[_Union[HnswConfig, _Mapping]] = ..., named_vectors: _Optional[_Mapping[str, VectorParams]] = ..., matryoshka: _Optional[_Union[MatryoshkaConfig, _Mapping]] = ..., sparse_vectors: _Optional[_Mapping[str, SparseVectorParams]] = ...) -> None: ...

class CreateCollectionResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: bool
    def __init__(self, result: _Optional[bool] = ...) -> None: ...

class GetCollectionRequest(_message.Message):
    __slots__ = ("collection_name",)
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    def __init__(self, collection_name: _Optional[str] = ...) -> None: ...

class PayloadFieldInfo(_message.Message):
    __slots__ = ("field_name", "schema", "points")
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    field_name: str
    schema: PayloadSchemaType
    points: int
    def __init__(self, field_name: _Optional[str] = ..., schema: _Optional[_Union[PayloadSchemaType, str]] = ..., points: _Optional[int] = ...) -> None: ...

class CollectionInfo(_message.Message):
    __slots__ = ("name", "vectors", "hnsw_config", "points_count", "indexed_vectors_count", "payload_schema", "status", "matryoshka", "matryoshka_info", "named_vectors", "sparse_vectors")
    class NamedVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: VectorParams
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[VectorParams, _Mapping]] = ...) -> None: ...
    class SparseVectorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: SparseVectorParams
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[SparseVectorParams, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    POINTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    INDEXED_VECTORS_COUNT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MATRYOSHKA_FIELD_NUMBER: _ClassVar[int]
    MATRYOSHKA_INFO_FIELD_NUMBER: _ClassVar[int]
    NAMED_VECTORS_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    name: str
    vectors: VectorParams
    hnsw_config: HnswConfig
    points_count: int
    indexed_vectors_count: int
    payload_schema: _containers.RepeatedCompositeFieldContainer[PayloadFieldInfo]
    status: str
    matryoshka: MatryoshkaConfig
    matryoshka_info: MatryoshkaInfo
    named_vectors: _containers.MessageMap[str, VectorParams]
    sparse_vectors: _containers.MessageMap[str, SparseVectorParams]
    def __init__(self, name: _Optional[str] = ..., vectors: _Optional[_Union[VectorParams, _Mapping]] = ..., hnsw_config: _Optional[_Union[HnswConfig, _Mapping]] = ..., points_count: _Optional[int] = ..., indexed_vectors_count: _Optional[int] = ..., payload_schema: _Optional[_Iterable[_Union[PayloadFieldInfo, _Mapping]]] = ..., status: _Optional[str] = ..., matryoshka: _Optional[_Union[MatryoshkaConfig, _Mapping]] = ..., matryoshka_info: _Optional[_Union[MatryoshkaInfo, _Mapping]] = ..., named_vectors: _Optional[_Mapping[str, VectorParams]] = ..., sparse_vectors: _Optional[_Mapping[str, SparseVectorParams]] = ...) -> None: ...

class GetCollectionResponse(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: CollectionInfo
    def __init__(self, info: _Optional[_Union[CollectionInfo, _Mapping]] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collection_names",)
    COLLECTION_NAMES_FIELD_NUMBER: _ClassVar[int]
    collection_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, collection_names: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteCollectionRequest(_message.Message):
    __slots__ = ("collection_name",)
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    def __init__(self, collection_name: _Optional[str] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: bool
    def __init__(self, result: _Optional[bool] = ...) -> None: ...

class CreateFieldIndexRequest(_message.Message):
    __slots__ = ("collection_name", "field_name", "field_schema")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    field_name: str
    field_schema: PayloadSchemaType
    def __init__(self, collection_name: _Optional[str] = ..., field_name: _Optional[str] = ..., field_schema: _Optional[_Union[PayloadSchemaType, str]] = ...) -> None: ...

class DeleteFieldIndexRequest(_message.Message):
    __slots__ = ("collection_name", "field_name")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    field_name: str
    def __init__(self, collection_name: _Optional[str] = ..., field_name: _Optional[str] = ...) -> None: ...

class FieldIndexResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: bool
    def __init__(self, result: _Optional[bool] = ...) -> None: ...
