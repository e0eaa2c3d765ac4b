"""REST transport: Grove's Qdrant-shaped JSON API over httpx.

Every response is the ``{"result": ..., "status": ..., "time": ...}`` envelope; errors carry
``{"status": {"error": message}}`` and become :mod:`grove_client.errors` exceptions.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import httpx
import numpy as np

from . import errors
from ._inputs import PointInput, QuerySpec
from .models import (
    CalibrationReport,
    CalibrationRow,
    CapacityProbe,
    CapacityReference,
    CapacityResult,
    CollectionInfo,
    DiagnosticsJob,
    Explain,
    HealthInfo,
    MatryoshkaInfo,
    MatryoshkaPrefix,
    MatryoshkaStage,
    PayloadField,
    PointId,
    QueryResult,
    Record,
    ScoredPoint,
    ScrollPage,
    SnapshotInfo,
    SubsetDiagnosis,
    SubsetQueryDiagnosis,
    UpdateResult,
)
from .models import JobProgress as _JobProgress

_DISTANCE_OUT = {"cosine": "Cosine", "dot": "Dot", "euclid": "Euclid"}
_EXPLAIN_FIELDS = (
    "path",
    "reason",
    "live_points",
    "allowed_points",
    "selectivity",
    "ef",
    "nodes_visited",
    "distances_computed",
    "unindexed_scanned",
    "filter",
    "matryoshka",
)


def _with_payload(value: bool | Sequence[str]) -> Any:
    return value if isinstance(value, bool) else list(value)


def _selector(ids: Sequence[PointId] | None, flt: Mapping[str, Any] | None) -> dict[str, Any]:
    if ids is not None:
        return {"points": list(ids)}
    return {"filter": dict(flt or {})}


def explain_from_json(raw: Mapping[str, Any] | None) -> Explain | None:
    """An Explain from the server's JSON object (unknown keys kept in ``extra``)."""
    if raw is None:
        return None
    return Explain(
        path=str(raw.get("path", "")),
        reason=str(raw.get("reason", "")),
        live_points=int(raw.get("live_points", 0)),
        allowed_points=int(raw.get("allowed_points", 0)),
        selectivity=float(raw.get("selectivity", 0.0)),
        ef=None if raw.get("ef") is None else int(raw["ef"]),
        nodes_visited=int(raw.get("nodes_visited", 0)),
        distances_computed=int(raw.get("distances_computed", 0)),
        unindexed_scanned=int(raw.get("unindexed_scanned", 0)),
        extra={k: v for k, v in raw.items() if k not in _EXPLAIN_FIELDS},
        filter=dict(raw["filter"]) if isinstance(raw.get("filter"), Mapping) else None,
        matryoshka=[_matryoshka_stage(x) for x in raw.get("matryoshka") or []],
    )


def _vec(raw: Any) -> np.ndarray | None:
    return None if raw is None else np.asarray(raw, dtype=np.float32)


def query_body(spec: QuerySpec) -> dict[str, Any]:
    """The JSON body of one query."""
    body: dict[str, Any] = {
        "query": spec.vector,
        "limit": spec.limit,
        "with_payload": _with_payload(spec.with_payload),
        "with_vector": spec.with_vector,
    }
    if spec.filter is not None:
        body["filter"] = dict(spec.filter)
    if spec.offset:
        body["offset"] = spec.offset
    if spec.score_threshold is not None:
        body["score_threshold"] = spec.score_threshold
    params: dict[str, Any] = {}
    if spec.hnsw_ef is not None:
        params["hnsw_ef"] = spec.hnsw_ef
    if spec.exact:
        params["exact"] = True
    if spec.matryoshka is not None:
        params["matryoshka"] = dict(spec.matryoshka)
    if params:
        body["params"] = params
    if spec.strategy != "auto":
        body["strategy"] = spec.strategy
    if spec.explain:
        body["explain"] = True
    return body


def _query_result(raw: Mapping[str, Any]) -> QueryResult:
    pts = [
        ScoredPoint(id=p["id"], score=float(p["score"]), payload=p.get("payload"), vector=_vec(p.get("vector")))
        for p in raw.get("points", [])
    ]
    return QueryResult.from_points(pts, explain_from_json(raw.get("explain")))


def _update(raw: Mapping[str, Any]) -> UpdateResult:
    return UpdateResult(operation_id=int(raw.get("operation_id", 0)), status=str(raw.get("status", "")))


class RestTransport:
    """Synchronous REST calls; one pooled httpx.Client per GroveClient."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float, verify: bool | str = True) -> None:
        headers = {"content-type": "application/json"}
        if api_key:
            headers["api-key"] = api_key
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, verify=verify)

    def close(self) -> None:
        self._http.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        try:
            content = None if body is None else json.dumps(body, allow_nan=False)
            resp = self._http.request(method, path, content=content, params=params)
        except httpx.TimeoutException as e:
            raise errors.GroveTimeoutError(f"{method} {path}: timed out ({e})") from e
        except httpx.TransportError as e:
            raise errors.UnavailableError(f"{method} {path}: cannot reach {self._http.base_url} ({e})") from e
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.is_error:
            message = None
            if isinstance(data, Mapping):
                status = data.get("status")
                if isinstance(status, Mapping):
                    message = status.get("error")
                elif isinstance(status, str) and status != "ok":
                    message = status
                message = message or data.get("error") or data.get("message")
            raise errors.from_http(resp.status_code, str(message or resp.text or resp.reason_phrase))
        if isinstance(data, Mapping) and "result" in data:
            return data["result"]
        return data

    # -- service ------------------------------------------------------------------------------

    def health(self) -> HealthInfo:
        info = self._call("GET", "/")
        ready = self._http.get("/readyz").status_code == 200
        info = info or {}
        # `version` is the Qdrant API version Grove speaks; `grove_version` is Grove's own.
        return HealthInfo(version=str(info.get("grove_version", info.get("version", ""))), ready=ready)

    # -- collections --------------------------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dim: int,
        distance: str,
        hnsw: Mapping[str, int] | None,
        matryoshka: Mapping[str, Any] | None = None,
    ) -> bool:
        body: dict[str, Any] = {"vectors": {"size": dim, "distance": _DISTANCE_OUT[distance]}}
        if matryoshka is not None:
            body["matryoshka"] = dict(matryoshka)
        if hnsw:
            body["hnsw_config"] = {("ef_construct" if k == "ef_construction" else k): v for k, v in hnsw.items()}
        return bool(self._call("PUT", f"/collections/{name}", body))

    def get_collection(self, name: str) -> CollectionInfo:
        r = self._call("GET", f"/collections/{name}")
        vectors = r["config"]["params"]["vectors"]
        hnsw = dict(r["config"].get("hnsw_config", {}))
        if "ef_construct" in hnsw:
            hnsw["ef_construction"] = hnsw.pop("ef_construct")
        # Qdrant-compatibility fields the Grove CollectionInfo does not carry.
        for k in ("full_scan_threshold", "max_indexing_threads", "on_disk", "payload_m", "inline_storage"):
            hnsw.pop(k, None)
        return CollectionInfo(
            name=name,
            dim=int(vectors["size"]),
            distance=str(vectors["distance"]).lower(),
            points_count=int(r.get("points_count") or 0),
            indexed_vectors_count=int(r.get("indexed_vectors_count") or 0),
            status=str(r.get("status", "")),
            payload_schema={
                k: PayloadField(name=k, schema=str(v.get("data_type", "")), points=int(v.get("points") or 0))
                for k, v in (r.get("payload_schema") or {}).items()
            },
            hnsw_config=hnsw,
        )

    def list_collections(self) -> list[str]:
        r = self._call("GET", "/collections")
        return [c["name"] for c in r.get("collections", [])]

    def delete_collection(self, name: str) -> bool:
        return bool(self._call("DELETE", f"/collections/{name}"))

    def create_field_index(self, collection: str, field: str, schema: str, wait: bool) -> bool:
        body = {"field_name": field, "field_schema": schema}
        r = self._call("PUT", f"/collections/{collection}/index", body, params={"wait": str(wait).lower()})
        return r is not None

    def delete_field_index(self, collection: str, field: str, wait: bool) -> bool:
        r = self._call("DELETE", f"/collections/{collection}/index/{field}", params={"wait": str(wait).lower()})
        return r is not None

    # -- points -------------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[PointInput], wait: bool) -> UpdateResult:
        batch: dict[str, Any] = {"ids": [p.id for p in points], "vectors": [p.vector for p in points]}
        if any(p.payload is not None for p in points):
            batch["payloads"] = [p.payload for p in points]
        r = self._call("PUT", f"/collections/{collection}/points", {"batch": batch}, {"wait": str(wait).lower()})
        return _update(r)

    def get(self, collection: str, ids: Sequence[PointId], with_payload: bool | Sequence[str], with_vector: bool) -> list[Record]:
        body = {"ids": list(ids), "with_payload": _with_payload(with_payload), "with_vector": with_vector}
        r = self._call("POST", f"/collections/{collection}/points", body)
        return [Record(id=p["id"], payload=p.get("payload"), vector=_vec(p.get("vector"))) for p in r]

    def delete(self, collection: str, ids: Sequence[PointId] | None, flt: Mapping[str, Any] | None, wait: bool) -> UpdateResult:
        r = self._call(
            "POST", f"/collections/{collection}/points/delete", _selector(ids, flt), {"wait": str(wait).lower()}
        )
        return _update(r)

    def set_payload(
        self,
        collection: str,
        payload: Mapping[str, Any],
        ids: Sequence[PointId] | None,
        flt: Mapping[str, Any] | None,
        overwrite: bool,
        wait: bool,
    ) -> UpdateResult:
        body: dict[str, Any] = {"payload": dict(payload)}
        body.update(_selector(ids, flt))
        method = "PUT" if overwrite else "POST"
        r = self._call(method, f"/collections/{collection}/points/payload", body, {"wait": str(wait).lower()})
        return _update(r)

    def delete_payload(
        self, collection: str, keys: Sequence[str], ids: Sequence[PointId] | None, flt: Mapping[str, Any] | None, wait: bool
    ) -> UpdateResult:
        body: dict[str, Any] = {"keys": list(keys)}
        body.update(_selector(ids, flt))
        r = self._call("POST", f"/collections/{collection}/points/payload/delete", body, {"wait": str(wait).lower()})
        return _update(r)

    def query(self, collection: str, spec: QuerySpec) -> QueryResult:
        return _query_result(self._call("POST", f"/collections/{collection}/points/query", query_body(spec)))

    def query_batch(self, collection: str, specs: Sequence[QuerySpec]) -> list[QueryResult]:
        body = {"searches": [query_body(s) for s in specs]}
        r = self._call("POST", f"/collections/{collection}/points/query/batch", body)
        return [_query_result(x) for x in r]

    def scroll(
        self,
        collection: str,
        flt: Mapping[str, Any] | None,
        offset: PointId | None,
        limit: int,
        with_payload: bool | Sequence[str],
        with_vector: bool,
    ) -> ScrollPage:
        body: dict[str, Any] = {"limit": limit, "with_payload": _with_payload(with_payload), "with_vector": with_vector}
        if flt is not None:
            body["filter"] = dict(flt)
        if offset is not None:
            body["offset"] = offset
        r = self._call("POST", f"/collections/{collection}/points/scroll", body)
        pts = [Record(id=p["id"], payload=p.get("payload"), vector=_vec(p.get("vector"))) for p in r["points"]]
        return ScrollPage(points=pts, next_offset=r.get("next_page_offset"))

    def count(self, collection: str, flt: Mapping[str, Any] | None) -> int:
        body: dict[str, Any] = {"exact": True}
        if flt is not None:
            body["filter"] = dict(flt)
        return int(self._call("POST", f"/collections/{collection}/points/count", body)["count"])

    # -- snapshots ----------------------------------------------------------------------------

    def create_snapshot(self, collection: str) -> SnapshotInfo:
        r = self._call("POST", f"/collections/{collection}/snapshots", params={"wait": "true"})
        return _snapshot(r)

    def list_snapshots(self, collection: str) -> list[SnapshotInfo]:
        return [_snapshot(s) for s in self._call("GET", f"/collections/{collection}/snapshots")]

    def delete_snapshot(self, collection: str, name: str) -> bool:
        return bool(self._call("DELETE", f"/collections/{collection}/snapshots/{name}"))

    def recover_snapshot(self, collection: str, location: str) -> bool:
        r = self._call("PUT", f"/collections/{collection}/snapshots/recover", {"location": location}, {"wait": "true"})
        return bool(r)

    def download_snapshot(self, collection: str, name: str, dest: str) -> int:
        path = f"/collections/{collection}/snapshots/{name}"
        try:
            with self._http.stream("GET", path) as resp:
                if resp.is_error:
                    resp.read()
                    self._raise(resp)
                n = 0
                with open(dest, "wb") as f:
                    for chunk in resp.iter_bytes(1 << 20):
                        f.write(chunk)
                        n += len(chunk)
                return n
        except httpx.TimeoutException as e:
            raise errors.GroveTimeoutError(f"GET {path}: timed out ({e})") from e
        except httpx.TransportError as e:
            raise errors.UnavailableError(f"GET {path}: cannot reach {self._http.base_url} ({e})") from e

    def upload_snapshot(self, collection: str, source: str) -> bool:
        path = f"/collections/{collection}/snapshots/upload"
        try:
            with open(source, "rb") as f:
                resp = self._http.post(
                    path, content=f, headers={"content-type": "application/octet-stream"}, params={"wait": "true"}
                )
        except httpx.TimeoutException as e:
            raise errors.GroveTimeoutError(f"POST {path}: timed out ({e})") from e
        except httpx.TransportError as e:
            raise errors.UnavailableError(f"POST {path}: cannot reach {self._http.base_url} ({e})") from e
        if resp.is_error:
            self._raise(resp)
        return True

    # -- LIMIT diagnostics --------------------------------------------------------------------

    def diagnose_subsets(self, collection: str, body: Mapping[str, Any]) -> SubsetDiagnosis:
        return subset_diagnosis_from_json(self._call("POST", f"/collections/{collection}/diagnostics/subsets", body))

    def start_capacity_job(self, body: Mapping[str, Any]) -> DiagnosticsJob:
        return job_from_json(self._call("POST", "/diagnostics/capacity", body))

    def get_job(self, job_id: int) -> DiagnosticsJob:
        return job_from_json(self._call("GET", f"/diagnostics/jobs/{job_id}"))

    def cancel_job(self, job_id: int) -> DiagnosticsJob:
        return job_from_json(self._call("DELETE", f"/diagnostics/jobs/{job_id}"))

    # -- Matryoshka ---------------------------------------------------------------------------

    def matryoshka_info(self, name: str) -> MatryoshkaInfo | None:
        r = self._call("GET", f"/collections/{name}")
        m = r.get("matryoshka")
        if not isinstance(m, Mapping):
            return None
        return MatryoshkaInfo(
            prefixes=[
                MatryoshkaPrefix(
                    dim=int(p["dim"]),
                    bytes_per_vector=int(p.get("bytes_per_vector") or 0),
                    graph_indexed=None if p.get("graph_indexed") is None else int(p["graph_indexed"]),
                    variance_kept=None if p.get("variance_kept") is None else float(p["variance_kept"]),
                )
                for p in m.get("prefixes") or []
            ],
            renormalise=bool(m.get("renormalise")),
            dtype=str(m.get("dtype", "")),
            pca=bool(m.get("pca")),
            pca_sample=None if m.get("pca_sample") is None else int(m["pca_sample"]),
            memory_bytes=int(m.get("memory_bytes") or 0),
            config=dict((r.get("config") or {}).get("matryoshka") or {}),
        )

    def calibrate_matryoshka(self, collection: str, body: Mapping[str, Any]) -> CalibrationReport:
        r = self._call("POST", f"/collections/{collection}/matryoshka/calibrate", dict(body))
        rec = r.get("recommended")
        return CalibrationReport(
            queries=int(r["queries"]),
            k=int(r["k"]),
            target_recall=float(r["target_recall"]),
            exact=_calibration_row(r["exact"]),
            rows=[_calibration_row(x) for x in r.get("rows") or []],
            recommended=None if rec is None else _calibration_row(rec),
        )

    def _raise(self, resp: httpx.Response) -> None:
        try:
            data = resp.json()
        except ValueError:
            data = None
        message = None
        if isinstance(data, Mapping) and isinstance(data.get("status"), Mapping):
            message = data["status"].get("error")
        raise errors.from_http(resp.status_code, str(message or resp.text or resp.reason_phrase))


def _floats(raw: Any) -> list[float] | None:
    return None if raw is None else [float(x) for x in raw]


def _opt(raw: Any, kind: type) -> Any:
    return None if raw is None else kind(raw)


def subset_diagnosis_from_json(raw: Mapping[str, Any]) -> SubsetDiagnosis:
    """A SubsetDiagnosis from the server's JSON result."""
    queries = [
        SubsetQueryDiagnosis(
            query=int(q["query"]),
            relevant=int(q["relevant"]),
            label=str(q["label"]),
            recall_exact=_floats(q.get("recall_exact")),
            recall_index=_floats(q.get("recall_index")),
            exact_top_is_relevant=_opt(q.get("exact_top_is_relevant"), bool),
            index_top_is_relevant=_opt(q.get("index_top_is_relevant"), bool),
            margin=_opt(q.get("margin"), float),
            margin_upper=_opt(q.get("margin_upper"), float),
            reason=_opt(q.get("reason"), str),
        )
        for q in raw.get("queries", [])
    ]
    return SubsetDiagnosis(
        k=[int(k) for k in raw.get("k", [])],
        total_queries=int(raw.get("total_queries", 0)),
        diagnosed=int(raw.get("diagnosed", 0)),
        allowed_points=int(raw.get("allowed_points", 0)),
        mean_recall_exact=_floats(raw.get("mean_recall_exact")) or [],
        mean_recall_index=_floats(raw.get("mean_recall_index")),
        index_loss=_floats(raw.get("index_loss")),
        exact_top_is_relevant=int(raw.get("exact_top_is_relevant", 0)),
        labels={str(k): int(v) for k, v in (raw.get("labels") or {}).items()},
        fragile_margin=float(raw.get("fragile_margin", 0.0)),
        budget_exhausted=bool(raw.get("budget_exhausted", False)),
        elapsed_secs=float(raw.get("elapsed_secs", 0.0)),
        queries=queries,
    )


def _reference(raw: Mapping[str, Any] | None) -> CapacityReference | None:
    if raw is None:
        return None
    return CapacityReference(value=float(raw["value"]), kind=str(raw["kind"]), note=str(raw.get("note", "")))


def _probe(raw: Mapping[str, Any]) -> CapacityProbe:
    return CapacityProbe(
        n=int(raw["n"]),
        qrels=int(raw["qrels"]),
        all_realised=bool(raw["all_realised"]),
        best_realised=int(raw.get("best_realised", 0)),
        budget_exhausted=bool(raw.get("budget_exhausted", False)),
        steps=int(raw.get("steps", 0)),
        seconds=float(raw.get("seconds", 0.0)),
    )


def job_from_json(raw: Mapping[str, Any]) -> DiagnosticsJob:
    """A DiagnosticsJob from the server's JSON job object."""
    p = raw.get("progress")
    progress = (
        None
        if p is None
        else _JobProgress(
            n=int(p["n"]),
            attempt=int(p["attempt"]),
            step=int(p["step"]),
            loss=float(p["loss"]),
            realised=int(p["realised"]),
            queries=int(p["queries"]),
        )
    )
    r = raw.get("result")
    result = None
    if r is not None:
        bound = _reference(r.get("exact_bound_dim"))
        result = CapacityResult(
            mode=str(r["mode"]),
            d=int(r["d"]),
            k=int(r["k"]),
            critical_n=_opt(r.get("critical_n"), int),
            first_failure=_opt(r.get("first_failure"), int),
            complete=bool(r.get("complete", False)),
            probes=[_probe(x) for x in r.get("probes", [])],
            paper_fit=_reference(r.get("paper_fit")),
            exact_bound_dim=bound if bound is not None else CapacityReference(float("nan"), "", ""),
        )
    return DiagnosticsJob(
        id=int(raw["id"]),
        kind=str(raw.get("kind", "")),
        status=str(raw["status"]),
        elapsed_secs=float(raw.get("elapsed_secs", 0.0)),
        progress=progress,
        probes_done=int(raw.get("probes_done", 0)),
        result=result,
        error=_opt(raw.get("error"), str),
    )


def _snapshot(raw: Mapping[str, Any]) -> SnapshotInfo:
    return SnapshotInfo(name=str(raw["name"]), creation_time=raw.get("creation_time"), size=int(raw.get("size") or 0))


def _matryoshka_stage(raw: Mapping[str, Any]) -> MatryoshkaStage:
    return MatryoshkaStage(
        dim=int(raw["dim"]),
        path=str(raw.get("path", "")),
        candidates_in=int(raw.get("candidates_in") or 0),
        kept=int(raw.get("kept") or 0),
        distances_computed=int(raw.get("distances_computed") or 0),
    )


def _calibration_row(raw: Mapping[str, Any]) -> CalibrationRow:
    return CalibrationRow(
        dim=int(raw["dim"]),
        oversample=int(raw["oversample"]),
        recall=float(raw["recall"]),
        min_recall=float(raw["min_recall"]),
        distances=float(raw["distances"]),
        cost=float(raw["cost"]),
        micros=float(raw["micros"]),
    )
