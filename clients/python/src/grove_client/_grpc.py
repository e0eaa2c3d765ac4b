"""gRPC transport over the generated grove.v1 stubs (grpcio)."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence, TypeVar

import grpc

from . import errors
from ._convert import (
    calibrate_request_to_pb,
    calibration_from_pb,
    capacity_request_to_pb,
    explain_from_pb,
    filter_to_pb,
    job_from_pb,
    matryoshka_config_to_pb,
    matryoshka_info_from_pb,
    matryoshka_params_to_pb,
    payload_from_pb,
    payload_to_pb,
    point_id_from_pb,
    point_id_to_pb,
    subset_diagnosis_from_pb,
    subsets_request_to_pb,
    vector_from_pb,
    with_payload_to_pb,
)
from ._gen.grove.v1 import collections_pb2 as cpb
from ._gen.grove.v1 import collections_pb2_grpc as cgrpc
from ._gen.grove.v1 import common_pb2 as common
from ._gen.grove.v1 import diagnostics_pb2 as dpb
from ._gen.grove.v1 import diagnostics_pb2_grpc as dgrpc
from ._gen.grove.v1 import health_pb2 as hpb
from ._gen.grove.v1 import health_pb2_grpc as hgrpc
from ._gen.grove.v1 import points_pb2 as ppb
from ._gen.grove.v1 import points_pb2_grpc as pgrpc
from ._gen.grove.v1 import snapshots_pb2 as spb
from ._gen.grove.v1 import snapshots_pb2_grpc as sgrpc
from ._inputs import PointInput, QuerySpec
from .models import (
    CalibrationReport,
    CollectionInfo,
    DiagnosticsJob,
    HealthInfo,
    MatryoshkaInfo,
    PayloadField,
    PointId,
    QueryResult,
    Record,
    ScoredPoint,
    ScrollPage,
    SnapshotInfo,
    SubsetDiagnosis,
    UpdateResult,
)

T = TypeVar("T")

_DISTANCE_IN = {"cosine": cpb.DISTANCE_COSINE, "dot": cpb.DISTANCE_DOT, "euclid": cpb.DISTANCE_EUCLID}
_DISTANCE_OUT = {v: k for k, v in _DISTANCE_IN.items()}
_SCHEMA_IN = {
    "keyword": cpb.PAYLOAD_SCHEMA_TYPE_KEYWORD,
    "integer": cpb.PAYLOAD_SCHEMA_TYPE_INTEGER,
    "float": cpb.PAYLOAD_SCHEMA_TYPE_FLOAT,
    "bool": cpb.PAYLOAD_SCHEMA_TYPE_BOOL,
    "datetime": cpb.PAYLOAD_SCHEMA_TYPE_DATETIME,
}
_SCHEMA_OUT = {v: k for k, v in _SCHEMA_IN.items()}
_STRATEGY_IN = {
    "auto": ppb.STRATEGY_AUTO,
    "exact": ppb.STRATEGY_EXACT,
    "hnsw": ppb.STRATEGY_HNSW,
    "acorn": ppb.STRATEGY_ACORN,
}
# 64 MiB: large enough for a batch of a few thousand 1024-d vectors; the server has its own limit.
_MAX_MESSAGE = 64 * 1024 * 1024


def _selector(ids: Sequence[PointId] | None, flt: Mapping[str, Any] | None) -> ppb.PointsSelector:
    if ids is not None:
        return ppb.PointsSelector(points=ppb.PointIdList(ids=[point_id_to_pb(i) for i in ids]))
    return ppb.PointsSelector(filter=filter_to_pb(flt or {}))


def _update(resp: ppb.UpdateResponse) -> UpdateResult:
    return UpdateResult(operation_id=resp.result.operation_id, status=resp.result.status)


def _record(p: ppb.RetrievedPoint, want_payload: bool) -> Record:
    payload = payload_from_pb(p.payload) if want_payload else None
    return Record(id=point_id_from_pb(p.id), payload=payload, vector=vector_from_pb(p.vector))


def _query_result(hits: Sequence[ppb.ScoredPoint], explain: ppb.Explain | None, want_payload: bool) -> QueryResult:
    pts = [
        ScoredPoint(
            id=point_id_from_pb(h.id),
            score=h.score,
            payload=payload_from_pb(h.payload) if want_payload else None,
            vector=vector_from_pb(h.vector),
        )
        for h in hits
    ]
    return QueryResult.from_points(pts, explain_from_pb(explain) if explain is not None else None)


def query_request(collection: str, spec: QuerySpec) -> ppb.QueryRequest:
    """The QueryRequest message of one query."""
    req = ppb.QueryRequest(
        collection_name=collection,
        query=common.Vector(data=spec.vector),
        limit=spec.limit,
        offset=spec.offset,
        with_payload=with_payload_to_pb(spec.with_payload),
        with_vector=spec.with_vector,
        explain=spec.explain,
        params=ppb.SearchParams(exact=spec.exact, strategy=_STRATEGY_IN[spec.strategy]),
    )
    if spec.hnsw_ef is not None:
        req.params.hnsw_ef = spec.hnsw_ef
    if spec.score_threshold is not None:
        req.score_threshold = spec.score_threshold
    if spec.matryoshka is not None:
        req.params.matryoshka.CopyFrom(matryoshka_params_to_pb(spec.matryoshka))
    flt = filter_to_pb(spec.filter)
    if flt is not None:
        req.filter.CopyFrom(flt)
    return req


def _wants_payload(spec: QuerySpec) -> bool:
    return spec.with_payload is not False


class GrpcTransport:
    """Synchronous gRPC calls on one channel per GroveClient."""

    def __init__(
        self,
        target: str,
        api_key: str | None,
        timeout: float,
        secure: bool = False,
        root_certificates: bytes | None = None,
    ) -> None:
        options = [("grpc.max_send_message_length", _MAX_MESSAGE), ("grpc.max_receive_message_length", _MAX_MESSAGE)]
        if secure:
            creds = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.secure_channel(target, creds, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._target = target
        self._timeout = timeout
        self._metadata = (("api-key", api_key),) if api_key else ()
        self._collections = cgrpc.CollectionsStub(self._channel)
        self._points = pgrpc.PointsStub(self._channel)
        self._snapshots = sgrpc.SnapshotsStub(self._channel)
        self._health = hgrpc.HealthStub(self._channel)
        self._diagnostics = dgrpc.DiagnosticsStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def _call(self, fn: Callable[..., T], request: Any, timeout: float | None = None) -> T:
        try:
            return fn(request, timeout=self._timeout if timeout is None else timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise _error(e, self._target) from None

    # -- service ------------------------------------------------------------------------------

    def health(self, timeout: float | None = None) -> HealthInfo:
        r = self._call(self._health.Check, hpb.HealthCheckRequest(), timeout)
        return HealthInfo(version=r.version, ready=r.ready)

    # -- collections --------------------------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dim: int,
        distance: str,
        hnsw: Mapping[str, int] | None,
        matryoshka: Mapping[str, Any] | None = None,
    ) -> bool:
        req = cpb.CreateCollectionRequest(
            collection_name=name,
            vectors=cpb.VectorParams(size=dim, distance=_DISTANCE_IN[distance]),
        )
        if hnsw:
            req.hnsw_config.CopyFrom(cpb.HnswConfig(**dict(hnsw)))
        if matryoshka is not None:
            req.matryoshka.CopyFrom(matryoshka_config_to_pb(matryoshka))
        return self._call(self._collections.Create, req).result

    def _collection_info(self, name: str) -> cpb.CollectionInfo:
        return self._call(self._collections.Get, cpb.GetCollectionRequest(collection_name=name)).info

    def get_collection(self, name: str) -> CollectionInfo:
        info = self._collection_info(name)
        hnsw = {f.name: v for f, v in info.hnsw_config.ListFields()}
        return CollectionInfo(
            name=info.name or name,
            dim=info.vectors.size,
            distance=_DISTANCE_OUT.get(info.vectors.distance, "unknown"),
            points_count=info.points_count,
            indexed_vectors_count=info.indexed_vectors_count,
            status=info.status,
            payload_schema={
                f.field_name: PayloadField(name=f.field_name, schema=_SCHEMA_OUT.get(f.schema, "unknown"), points=f.points)
                for f in info.payload_schema
            },
            hnsw_config=hnsw,
        )

    def list_collections(self) -> list[str]:
        return list(self._call(self._collections.List, cpb.ListCollectionsRequest()).collection_names)

    def delete_collection(self, name: str) -> bool:
        return self._call(self._collections.Delete, cpb.DeleteCollectionRequest(collection_name=name)).result

    def create_field_index(self, collection: str, field: str, schema: str, wait: bool) -> bool:
        req = cpb.CreateFieldIndexRequest(collection_name=collection, field_name=field, field_schema=_SCHEMA_IN[schema])
        return self._call(self._collections.CreateFieldIndex, req).result

    def delete_field_index(self, collection: str, field: str, wait: bool) -> bool:
        req = cpb.DeleteFieldIndexRequest(collection_name=collection, field_name=field)
        return self._call(self._collections.DeleteFieldIndex, req).result

    # -- points -------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[PointInput], wait: bool) -> UpdateResult:
        req = ppb.UpsertPointsRequest(
            collection_name=collection,
            wait=wait,
            points=[
                ppb.PointStruct(id=point_id_to_pb(p.id), vector=common.Vector(data=p.vector), payload=payload_to_pb(p.payload))
                for p in points
            ],
        )
        return _update(self._call(self._points.Upsert, req))

    def get(self, collection: str, ids: Sequence[PointId], with_payload: bool | Sequence[str], with_vector: bool) -> list[Record]:
        req = ppb.GetPointsRequest(
            collection_name=collection,
            ids=[point_id_to_pb(i) for i in ids],
            with_payload=with_payload_to_pb(with_payload),
            with_vector=with_vector,
        )
        return [_record(p, with_payload is not False) for p in self._call(self._points.Get, req).result]

    def delete(self, collection: str, ids: Sequence[PointId] | None, flt: Mapping[str, Any] | None, wait: bool) -> UpdateResult:
        req = ppb.DeletePointsRequest(collection_name=collection, points=_selector(ids, flt), wait=wait)
        return _update(self._call(self._points.Delete, req))

    def set_payload(
        self,
        collection: str,
        payload: Mapping[str, Any],
        ids: Sequence[PointId] | None,
        flt: Mapping[str, Any] | None,
        overwrite: bool,
        wait: bool,
    ) -> UpdateResult:
        req = ppb.SetPayloadRequest(
            collection_name=collection,
            payload=payload_to_pb(payload),
            points=_selector(ids, flt),
            overwrite=overwrite,
            wait=wait,
        )
        return _update(self._call(self._points.SetPayload, req))

    def delete_payload(
        self, collection: str, keys: Sequence[str], ids: Sequence[PointId] | None, flt: Mapping[str, Any] | None, wait: bool
    ) -> UpdateResult:
        req = ppb.DeletePayloadRequest(collection_name=collection, keys=list(keys), points=_selector(ids, flt), wait=wait)
        return _update(self._call(self._points.DeletePayload, req))

    def query(self, collection: str, spec: QuerySpec) -> QueryResult:
        r = self._call(self._points.Query, query_request(collection, spec))
        return _query_result(r.result, r.explain if r.HasField("explain") else None, _wants_payload(spec))

    def query_batch(self, collection: str, specs: Sequence[QuerySpec]) -> list[QueryResult]:
        req = ppb.QueryBatchRequest(collection_name=collection, queries=[query_request(collection, s) for s in specs])
        out: list[QueryResult | None] = [None] * len(specs)
        try:
            for item in self._points.QueryBatch(req, timeout=self._timeout, metadata=self._metadata):
                if item.index >= len(specs):
                    raise errors.ServerError(f"batch answer for query {item.index} of {len(specs)}")
                explain = item.explain if item.HasField("explain") else None
                out[item.index] = _query_result(item.result, explain, _wants_payload(specs[item.index]))
        except grpc.RpcError as e:
            raise _error(e, self._target) from None
        missing = [i for i, r in enumerate(out) if r is None]
        if missing:
            raise errors.ServerError(f"batch stream ended without answers for queries {missing[:10]}")
        return [r for r in out if r is not None]

    def scroll(
        self,
        collection: str,
        flt: Mapping[str, Any] | None,
        offset: PointId | None,
        limit: int,
        with_payload: bool | Sequence[str],
        with_vector: bool,
    ) -> ScrollPage:
        req = ppb.ScrollRequest(
            collection_name=collection,
            limit=limit,
            with_payload=with_payload_to_pb(with_payload),
            with_vector=with_vector,
        )
        f = filter_to_pb(flt)
        if f is not None:
            req.filter.CopyFrom(f)
        if offset is not None:
            req.offset.CopyFrom(point_id_to_pb(offset))
        r = self._call(self._points.Scroll, req)
        nxt = point_id_from_pb(r.next_page_offset) if r.HasField("next_page_offset") else None
        return ScrollPage(points=[_record(p, with_payload is not False) for p in r.result], next_offset=nxt)

    def count(self, collection: str, flt: Mapping[str, Any] | None) -> int:
        req = ppb.CountRequest(collection_name=collection, exact=True)
        f = filter_to_pb(flt)
        if f is not None:
            req.filter.CopyFrom(f)
        return self._call(self._points.Count, req).count

    # -- Matryoshka -----------------------------------------------------------------------------

    def matryoshka_info(self, name: str) -> MatryoshkaInfo | None:
        return matryoshka_info_from_pb(self._collection_info(name))

    def calibrate_matryoshka(self, collection: str, body: Mapping[str, Any]) -> CalibrationReport:
        req = calibrate_request_to_pb(collection, body)
        return calibration_from_pb(self._call(self._points.CalibrateMatryoshka, req))

    # -- LIMIT diagnostics (service grove.v1.Diagnostics) -------------------------------------

    def diagnose_subsets(self, collection: str, body: Mapping[str, Any]) -> SubsetDiagnosis:
        req = subsets_request_to_pb(collection, body)
        return subset_diagnosis_from_pb(self._call(self._diagnostics.DiagnoseSubsets, req))

    def start_capacity_job(self, body: Mapping[str, Any]) -> DiagnosticsJob:
        return job_from_pb(self._call(self._diagnostics.StartCapacityJob, capacity_request_to_pb(body)))

    def get_job(self, job_id: int) -> DiagnosticsJob:
        return job_from_pb(self._call(self._diagnostics.GetJob, dpb.JobRequest(id=job_id)))

    def cancel_job(self, job_id: int) -> DiagnosticsJob:
        return job_from_pb(self._call(self._diagnostics.CancelJob, dpb.JobRequest(id=job_id)))

    # -- snapshots ----------------------------------------------------------------------------

    def create_snapshot(self, collection: str) -> SnapshotInfo:
        s = self._call(self._snapshots.Create, spb.CreateSnapshotRequest(collection_name=collection)).snapshot
        return SnapshotInfo(name=s.name, creation_time=s.creation_time or None, size=s.size)

    def list_snapshots(self, collection: str) -> list[SnapshotInfo]:
        r = self._call(self._snapshots.List, spb.ListSnapshotsRequest(collection_name=collection))
        return [SnapshotInfo(name=s.name, creation_time=s.creation_time or None, size=s.size) for s in r.snapshots]

    def delete_snapshot(self, collection: str, name: str) -> bool:
        self._call(self._snapshots.Delete, spb.DeleteSnapshotRequest(collection_name=collection, snapshot_name=name))
        return True

    def recover_snapshot(self, collection: str, location: str) -> bool:
        self._call(self._snapshots.Recover, spb.RecoverSnapshotRequest(collection_name=collection, location=location))
        return True

    def download_snapshot(self, collection: str, name: str, dest: str) -> int:
        req = spb.DownloadSnapshotRequest(collection_name=collection, snapshot_name=name)
        n = 0
        try:
            with open(dest, "wb") as f:
                for chunk in self._snapshots.Download(req, timeout=self._timeout, metadata=self._metadata):
                    f.write(chunk.data)
                    n += len(chunk.data)
        except grpc.RpcError as e:
            raise _error(e, self._target) from None
        return n


def _error(e: grpc.RpcError, target: str) -> errors.GroveError:
    code = e.code() if hasattr(e, "code") else None
    name = code.name if code is not None else "UNKNOWN"
    details = e.details() if hasattr(e, "details") else None
    message = details or str(e)
    if name == "UNAVAILABLE":
        message = f"cannot reach grove's gRPC port at {target}: {message}"
    elif name == "DEADLINE_EXCEEDED":
        message = f"{message} (gRPC at {target})"
    return errors.from_grpc(name, message)
