"""Turning what users pass (numpy arrays, lists, dicts) into the client's internal shapes.

Shared by both transports so that REST and gRPC accept exactly the same inputs and reject bad
ones with the same message before anything is sent.
"""

from __future__ import annotations

import datetime as _dt
import uuid as _uuid
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .errors import BadRequestError
from .models import Payload, PointId

DISTANCES = ("cosine", "dot", "euclid")
SCHEMAS = ("keyword", "integer", "float", "bool", "datetime")
STRATEGIES = ("auto", "exact", "hnsw", "acorn")


@dataclass(frozen=True)
class PointInput:
    """One point to write, already validated."""

    id: PointId
    vector: list[float]
    payload: Payload | None


@dataclass(frozen=True)
class QuerySpec:
    """One query, already validated; both transports encode it."""

    vector: list[float]
    limit: int = 10
    filter: Mapping[str, Any] | None = None
    offset: int = 0
    score_threshold: float | None = None
    with_payload: bool | Sequence[str] = True
    with_vector: bool = False
    hnsw_ef: int | None = None
    exact: bool = False
    strategy: str = "auto"
    explain: bool = False
    matryoshka: Mapping[str, Any] | None = None
    """``params.matryoshka`` as the server takes it (already validated), or None."""


def check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    """Lower-cased ``value`` if it is one of ``allowed``, else BadRequestError naming them."""
    low = value.lower()
    if low not in allowed:
        raise BadRequestError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return low


def point_id(value: Any) -> PointId:
    """Validate an id: a non-negative integer (numpy integers too) or a UUID string."""
    if isinstance(value, (bool, np.bool_)):
        raise BadRequestError(f"point id must be an unsigned integer or a UUID, got {value!r}")
    if isinstance(value, (int, np.integer)):
        if int(value) < 0:
            raise BadRequestError(f"point id must be an unsigned integer or a UUID, got {value!r}")
        return int(value)
    if isinstance(value, _uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(_uuid.UUID(value))
        except ValueError:
            raise BadRequestError(f"point id must be an unsigned integer or a UUID, got {value!r}") from None
    raise BadRequestError(f"point id must be an unsigned integer or a UUID, got {value!r}")


def vector(value: Any) -> list[float]:
    """A 1-D float vector as a list of Python floats."""
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim != 1:
        raise BadRequestError(f"expected a 1-D vector, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BadRequestError("vector contains NaN or infinity")
    return arr.tolist()


def matrix(value: Any) -> np.ndarray:
    """A 2-D float32 matrix (one vector per row)."""
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise BadRequestError(f"expected a 2-D array of vectors, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise BadRequestError("vectors contain NaN or infinity")
    return arr


def json_value(value: Any) -> Any:
    """A payload value made JSON-safe: numpy scalars and arrays, datetimes, tuples, UUIDs."""
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, _uuid.UUID):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise BadRequestError(f"payload value of type {type(value).__name__} is not JSON: {value!r}")


def payload(value: Any) -> Payload | None:
    """A payload dict made JSON-safe, or None."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRequestError(f"payload must be a dict, got {type(value).__name__}")
    return json_value(value)


def points(
    ids: Sequence[Any] | np.ndarray | None,
    vectors: Any,
    payloads: Sequence[Mapping[str, Any] | None] | None,
    records: Iterable[Mapping[str, Any]] | None,
) -> tuple[int, Iterator[PointInput]]:
    """Normalise the two upsert input forms into (count, lazy iterator of PointInput).

    Either ``vectors`` (a 2-D array, rows are points) with ``ids`` (default 0..n-1) and optional
    ``payloads``, or ``records``: dicts with keys ``id``, ``vector`` and optional ``payload``.
    Conversion is lazy so that a million-row upload does not first build a million dicts.
    """
    if records is not None:
        if vectors is not None or ids is not None or payloads is not None:
            raise BadRequestError("pass either points=... or ids/vectors/payloads, not both")
        recs = list(records)

        def from_records() -> Iterator[PointInput]:
            for i, rec in enumerate(recs):
                if not isinstance(rec, Mapping) or "id" not in rec or "vector" not in rec:
                    raise BadRequestError(f"point {i}: expected a dict with 'id' and 'vector' keys")
                yield PointInput(point_id(rec["id"]), vector(rec["vector"]), payload(rec.get("payload")))

        return len(recs), from_records()
    if vectors is None:
        raise BadRequestError("nothing to upsert: pass vectors=... or points=[...]")
    mat = matrix(vectors)
    n = mat.shape[0]
    id_list: Any = range(n) if ids is None else ids
    if len(id_list) != n:
        raise BadRequestError(f"{len(id_list)} ids for {n} vectors")
    if payloads is not None and len(payloads) != n:
        raise BadRequestError(f"{len(payloads)} payloads for {n} vectors")

    def from_arrays() -> Iterator[PointInput]:
        for i in range(n):
            yield PointInput(
                point_id(id_list[i]),
                mat[i].tolist(),
                payload(payloads[i]) if payloads is not None else None,
            )

    return n, from_arrays()


def batched(items: Iterator[PointInput], size: int) -> Iterator[list[PointInput]]:
    """Consecutive lists of at most ``size`` items."""
    if size < 1:
        raise BadRequestError("batch_size must be at least 1")
    batch: list[PointInput] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
