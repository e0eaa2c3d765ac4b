"""grove_client: Python client for Grove, a filtered approximate-nearest-neighbour database.

Talks gRPC (``grove.v1``) by default, and REST (Qdrant-shaped JSON) when asked to or when the
gRPC address does not answer at construction (``transport="auto"``, with a warning); numpy arrays
in, numpy arrays out; server errors become :class:`GroveError` subclasses carrying the server's
message. See :class:`GroveClient` for an example.
"""

from .client import Filter, GroveClient, TransportFallbackWarning, grpc_target_for
from .errors import (
    BadRequestError,
    ConflictError,
    GroveError,
    GroveTimeoutError,
    NotFoundError,
    ResourceExhaustedError,
    ServerError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedError,
)
from .models import (
    CapacityProbe,
    CapacityReference,
    CapacityResult,
    DiagnosticsJob,
    JobProgress,
    SubsetDiagnosis,
    SubsetQueryDiagnosis,
    BatchQueryResult,
    CalibrationReport,
    CalibrationRow,
    CollectionInfo,
    Explain,
    HealthInfo,
    MatryoshkaInfo,
    MatryoshkaPrefix,
    MatryoshkaStage,
    PayloadField,
    QueryResult,
    Record,
    ScoredPoint,
    ScrollPage,
    SnapshotInfo,
    UpdateResult,
    UpsertSummary,
)

__version__ = "0.1.0"

__all__ = [
    "TransportFallbackWarning",
    "grpc_target_for",
    "CapacityProbe",
    "CapacityReference",
    "CapacityResult",
    "DiagnosticsJob",
    "JobProgress",
    "SubsetDiagnosis",
    "SubsetQueryDiagnosis",
    "BadRequestError",
    "BatchQueryResult",
    "CalibrationReport",
    "CalibrationRow",
    "CollectionInfo",
    "ConflictError",
    "Explain",
    "Filter",
    "GroveClient",
    "GroveError",
    "GroveTimeoutError",
    "HealthInfo",
    "MatryoshkaInfo",
    "MatryoshkaPrefix",
    "MatryoshkaStage",
    "NotFoundError",
    "PayloadField",
    "QueryResult",
    "Record",
    "ResourceExhaustedError",
    "ScoredPoint",
    "ScrollPage",
    "ServerError",
    "SnapshotInfo",
    "UnauthorizedError",
    "UnavailableError",
    "UnsupportedError",
    "UpdateResult",
    "UpsertSummary",
    "__version__",
]
