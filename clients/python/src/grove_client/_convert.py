"""Conversions between Python values and grove.v1 protobuf messages.

Filters arrive as Qdrant-shaped dicts (the same ones the REST API takes) and are translated
field by field; anything this client cannot express in the proto is rejected here with a
message naming the offending key, rather than silently dropped.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ._gen.grove.v1 import collections_pb2 as collections
from ._gen.grove.v1 import common_pb2 as common
from ._gen.grove.v1 import diagnostics_pb2 as diagnostics
from ._gen.grove.v1 import points_pb2 as points
from .errors import BadRequestError
from .models import (
    CalibrationReport,
    CalibrationRow,
    CapacityProbe,
    CapacityReference,
    CapacityResult,
    DiagnosticsJob,
    Explain,
    JobProgress,
    MatryoshkaInfo,
    MatryoshkaPrefix,
    MatryoshkaStage,
    PointId,
    SubsetDiagnosis,
    SubsetQueryDiagnosis,
)

# -- ids and values -------------------------------------------------------------------------


def point_id_to_pb(value: PointId) -> common.PointId:
    """A PointId message from an int or UUID string."""
    if isinstance(value, str):
        return common.PointId(uuid=value)
    return common.PointId(num=int(value))


def point_id_from_pb(msg: common.PointId) -> PointId:
    """An int or UUID string from a PointId message."""
    return msg.uuid if msg.WhichOneof("kind") == "uuid" else int(msg.num)


def value_to_pb(value: Any) -> common.Value:
    """A JSON-safe Python value as a Value message (bool before int: bool is an int subtype)."""
    if value is None:
        return common.Value(null_value=common.NULL_VALUE)
    if isinstance(value, bool):
        return common.Value(bool_value=value)
    if isinstance(value, int):
        return common.Value(integer_value=value)
    if isinstance(value, float):
        return common.Value(double_value=value)
    if isinstance(value, str):
        return common.Value(string_value=value)
    if isinstance(value, Mapping):
        return common.Value(struct_value=common.Struct(fields={str(k): value_to_pb(v) for k, v in value.items()}))
    if isinstance(value, (list, tuple)):
        return common.Value(list_value=common.ListValue(values=[value_to_pb(v) for v in value]))
    raise BadRequestError(f"payload value of type {type(value).__name__} is not JSON: {value!r}")


def value_from_pb(msg: common.Value) -> Any:
    """The Python value of a Value message."""
    kind = msg.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "struct_value":
        return payload_from_pb(msg.struct_value.fields)
    if kind == "list_value":
        return [value_from_pb(v) for v in msg.list_value.values]
    return getattr(msg, kind)


def payload_to_pb(payload: Mapping[str, Any] | None) -> dict[str, common.Value]:
    """A payload dict as a map<string, Value>."""
    return {} if payload is None else {str(k): value_to_pb(v) for k, v in payload.items()}


def payload_from_pb(fields: Mapping[str, common.Value]) -> dict[str, Any]:
    """A map<string, Value> as a payload dict."""
    return {k: value_from_pb(v) for k, v in fields.items()}


def with_payload_to_pb(value: bool | Sequence[str]) -> common.WithPayloadSelector:
    """True/False, or a list of field names to include."""
    if isinstance(value, bool):
        return common.WithPayloadSelector(enable=value)
    return common.WithPayloadSelector(include=common.RepeatedStrings(strings=list(value)))


def vector_from_pb(msg: common.Vector) -> np.ndarray | None:
    """A float32 array, or None for an unset/empty vector."""
    return np.asarray(msg.data, dtype=np.float32) if len(msg.data) else None


# -- filters --------------------------------------------------------------------------------

_RANGE_KEYS = ("lt", "gt", "gte", "lte")


def filter_to_pb(flt: Mapping[str, Any] | None) -> common.Filter | None:
    """A Qdrant-shaped filter dict as a Filter message (None stays None)."""
    if flt is None:
        return None
    if not isinstance(flt, Mapping):
        raise BadRequestError(f"filter must be a dict with must/should/must_not, got {type(flt).__name__}")
    unknown = set(flt) - {"must", "should", "must_not"}
    if unknown:
        raise BadRequestError(f"unknown filter key(s) {sorted(unknown)}; expected must, should, must_not")
    out = common.Filter()
    for clause in ("must", "should", "must_not"):
        conds = flt.get(clause)
        if conds is None:
            continue
        if isinstance(conds, Mapping):  # Qdrant accepts a single condition as well as a list
            conds = [conds]
        getattr(out, clause).extend(_condition(c) for c in conds)
    return out


def _condition(cond: Any) -> common.Condition:
    if not isinstance(cond, Mapping):
        raise BadRequestError(f"filter condition must be a dict, got {cond!r}")
    if "key" in cond:
        return common.Condition(field=_field_condition(cond))
    if "is_empty" in cond:
        return common.Condition(is_empty=common.IsEmptyCondition(key=cond["is_empty"]["key"]))
    if "is_null" in cond:
        return common.Condition(is_null=common.IsNullCondition(key=cond["is_null"]["key"]))
    if "has_id" in cond:
        ids = [point_id_to_pb(i) for i in cond["has_id"]]
        return common.Condition(has_id=common.HasIdCondition(has_id=ids))
    if "filter" in cond:
        return common.Condition(filter=filter_to_pb(cond["filter"]))
    if set(cond) & {"must", "should", "must_not"}:  # a nested filter written inline
        return common.Condition(filter=filter_to_pb(cond))
    raise BadRequestError(f"unrecognised filter condition {dict(cond)!r}")


def _field_condition(cond: Mapping[str, Any]) -> common.FieldCondition:
    unknown = set(cond) - {"key", "match", "range", "values_count"}
    if unknown:
        raise BadRequestError(f"field condition on {cond['key']!r}: unsupported key(s) {sorted(unknown)}")
    fc = common.FieldCondition(key=str(cond["key"]))
    if "match" in cond:
        fc.match.CopyFrom(_match(cond["key"], cond["match"]))
    if "range" in cond:
        rng = cond["range"]
        bad = set(rng) - set(_RANGE_KEYS)
        if bad:
            raise BadRequestError(f"range on {cond['key']!r}: unknown bound(s) {sorted(bad)}")
        if any(isinstance(v, str) for v in rng.values()):
            fc.datetime_range.CopyFrom(common.DatetimeRange(**{k: str(v) for k, v in rng.items() if v is not None}))
        else:
            fc.range.CopyFrom(common.Range(**{k: float(v) for k, v in rng.items() if v is not None}))
    if "values_count" in cond:
        vc = cond["values_count"]
        fc.values_count.CopyFrom(common.ValuesCount(**{k: int(v) for k, v in vc.items() if v is not None}))
    return fc


def _all(values: Sequence[Any], kind: type) -> bool:
    return all(isinstance(v, kind) and not (kind is int and isinstance(v, bool)) for v in values)


def _match(key: str, m: Mapping[str, Any]) -> common.Match:
    if "value" in m:
        v = m["value"]
        if isinstance(v, bool):
            return common.Match(boolean=v)
        if isinstance(v, int):
            return common.Match(integer=v)
        if isinstance(v, str):
            return common.Match(keyword=v)
        raise BadRequestError(f"match on {key!r}: value must be a string, integer or bool, got {v!r}")
    for name, strings, ints in (("any", "keywords", "integers"), ("except", "except_keywords", "except_integers")):
        if name in m:
            vals = list(m[name])
            if _all(vals, str):
                return common.Match(**{strings: common.RepeatedStrings(strings=vals)})
            if _all(vals, int):
                return common.Match(**{ints: common.RepeatedIntegers(integers=vals)})
            raise BadRequestError(f"match {name} on {key!r}: all strings or all integers expected, got {vals!r}")
    raise BadRequestError(f"match on {key!r}: expected 'value', 'any' or 'except', got {sorted(m)}")


# -- explain --------------------------------------------------------------------------------


def explain_from_pb(msg: points.Explain) -> Explain:
    """An Explain from its message."""
    return Explain(
        path=msg.path,
        reason=msg.reason,
        live_points=msg.live_points,
        allowed_points=msg.allowed_points,
        selectivity=msg.selectivity,
        ef=msg.ef if msg.HasField("ef") else None,
        nodes_visited=msg.nodes_visited,
        distances_computed=msg.distances_computed,
        unindexed_scanned=msg.unindexed_scanned,
        filter=(
            {
                "cardinality": msg.filter.cardinality,
                "indexed_fields": list(msg.filter.indexed_fields),
                "unindexed_fields": list(msg.filter.unindexed_fields),
                "payloads_scanned": msg.filter.payloads_scanned,
                "micros": msg.filter.micros,
            }
            if msg.HasField("filter")
            else None
        ),
        matryoshka=[
            MatryoshkaStage(
                dim=st.dim,
                path=st.path,
                candidates_in=st.candidates_in,
                kept=st.kept,
                distances_computed=st.distances_computed,
            )
            for st in msg.matryoshka
        ],
    )


# -- setting fields from the client's validated dicts ---------------------------------------
#
# GroveClient validates user input into the dicts the REST API takes (the server's own key
# names); the gRPC transport translates those dicts here. Protobuf refuses a value of the wrong
# type (a string dimension, a negative count) with TypeError/ValueError: that becomes a
# BadRequestError naming the key, as the server's JSON decoder would over REST.


def _set(msg: Any, field: str, value: Any, where: str) -> None:
    """Set a scalar or append to a repeated scalar field, or raise BadRequestError."""
    try:
        target = getattr(msg, field)
        if isinstance(value, (list, tuple)):
            target.extend(value)
        else:
            setattr(msg, field, value)
    except (TypeError, ValueError) as e:
        raise BadRequestError(f"{where}: invalid value {value!r} ({e})") from None


def _set_fields(msg: Any, values: Mapping[str, Any], fields: Sequence[str], where: str) -> None:
    for key in fields:
        value = values.get(key)
        if value is not None:
            _set(msg, key, value, f"{where}.{key}" if where else key)


# -- Matryoshka -----------------------------------------------------------------------------

_MATRYOSHKA_CONFIG_FIELDS = ("dims", "renormalise", "dtype", "graph", "pca", "pca_sample", "pca_min_points")


def matryoshka_config_to_pb(cfg: Mapping[str, Any]) -> collections.MatryoshkaConfig:
    """A create-collection ``matryoshka`` dict (already checked for unknown keys)."""
    out = collections.MatryoshkaConfig()
    _set_fields(out, cfg, _MATRYOSHKA_CONFIG_FIELDS, "matryoshka")
    return out


def matryoshka_params_to_pb(params: Mapping[str, Any]) -> points.MatryoshkaParams:
    """A query's ``matryoshka`` dict (already validated: dim, oversample, funnel, path)."""
    out = points.MatryoshkaParams()
    _set_fields(out, params, ("dim", "oversample", "path"), "matryoshka")
    for i, stage in enumerate(params.get("funnel") or []):
        st = out.funnel.add()
        _set_fields(st, stage, ("dim", "keep"), f"matryoshka.funnel[{i}]")
    return out


def matryoshka_config_from_pb(msg: collections.MatryoshkaConfig) -> dict[str, Any]:
    """The declaration as the REST API shows it (``config.matryoshka``). Unset optional fields
    are left out; ``graph`` and ``pca`` are plain booleans in the proto, so they are always
    present here (False when not declared)."""
    out: dict[str, Any] = {"dims": [int(d) for d in msg.dims]}
    if msg.HasField("renormalise"):
        out["renormalise"] = msg.renormalise
    if msg.dtype:
        out["dtype"] = msg.dtype
    out["graph"] = msg.graph
    out["pca"] = msg.pca
    if msg.HasField("pca_sample"):
        out["pca_sample"] = int(msg.pca_sample)
    if msg.HasField("pca_min_points"):
        out["pca_min_points"] = int(msg.pca_min_points)
    return out


def matryoshka_info_from_pb(info: collections.CollectionInfo) -> MatryoshkaInfo | None:
    """A collection's Matryoshka state, or None when it declares no prefixes."""
    if not info.HasField("matryoshka_info"):
        return None
    m = info.matryoshka_info
    return MatryoshkaInfo(
        prefixes=[
            MatryoshkaPrefix(
                dim=int(p.dim),
                bytes_per_vector=int(p.bytes_per_vector),
                graph_indexed=int(p.graph_indexed) if p.HasField("graph_indexed") else None,
                variance_kept=float(p.variance_kept) if p.HasField("variance_kept") else None,
            )
            for p in m.prefixes
        ],
        renormalise=m.renormalise,
        dtype=m.dtype,
        pca=m.pca,
        pca_sample=int(m.pca_sample) if m.HasField("pca_sample") else None,
        memory_bytes=int(m.memory_bytes),
        config=matryoshka_config_from_pb(info.matryoshka) if info.HasField("matryoshka") else {},
    )


def calibrate_request_to_pb(collection: str, body: Mapping[str, Any]) -> points.CalibrateMatryoshkaRequest:
    """The calibration request from the body GroveClient builds for REST."""
    req = points.CalibrateMatryoshkaRequest(collection_name=collection)
    _set_fields(req, body, ("sample", "seed", "target_recall", "dims", "oversamples"), "")
    flt = filter_to_pb(body.get("filter"))
    if flt is not None:
        req.filter.CopyFrom(flt)
    return req


def _calibration_row(r: points.CalibrationRow) -> CalibrationRow:
    return CalibrationRow(
        dim=int(r.dim),
        oversample=int(r.oversample),
        recall=r.recall,
        min_recall=r.min_recall,
        distances=r.distances,
        cost=r.cost,
        micros=r.micros,
    )


def calibration_from_pb(r: points.CalibrateMatryoshkaResponse) -> CalibrationReport:
    """A CalibrationReport from its message (``recommended`` unset: no setting reaches the target)."""
    return CalibrationReport(
        queries=int(r.queries),
        k=int(r.k),
        target_recall=r.target_recall,
        exact=_calibration_row(r.exact),
        rows=[_calibration_row(x) for x in r.rows],
        recommended=_calibration_row(r.recommended) if r.HasField("recommended") else None,
    )


# -- LIMIT diagnostics ----------------------------------------------------------------------


def subsets_request_to_pb(collection: str, body: Mapping[str, Any]) -> diagnostics.DiagnoseSubsetsRequest:
    """The subset-diagnostic request from the body GroveClient builds for REST."""
    req = diagnostics.DiagnoseSubsetsRequest(collection_name=collection)
    for i, q in enumerate(body.get("queries") or []):
        sq = req.queries.add()
        _set(sq, "vector", list(q["vector"]), f"queries[{i}].vector")
        sq.relevant.extend(point_id_to_pb(x) for x in q["relevant"])
    _set_fields(req, body, ("k", "sample", "seed", "time_budget_secs", "competitors", "ef"), "")
    flt = filter_to_pb(body.get("filter"))
    if flt is not None:
        req.filter.CopyFrom(flt)
    return req


def _floats_or_none(values: Sequence[float]) -> list[float] | None:
    """A repeated double: empty in the proto is absent (null) in the REST API."""
    return [float(x) for x in values] if len(values) else None


def subset_diagnosis_from_pb(r: diagnostics.DiagnoseSubsetsResponse) -> SubsetDiagnosis:
    """A SubsetDiagnosis from its message, shaped as the REST transport returns it."""
    return SubsetDiagnosis(
        k=[int(k) for k in r.k],
        total_queries=int(r.total_queries),
        diagnosed=int(r.diagnosed),
        allowed_points=int(r.allowed_points),
        mean_recall_exact=[float(x) for x in r.mean_recall_exact],
        mean_recall_index=_floats_or_none(r.mean_recall_index),
        index_loss=_floats_or_none(r.index_loss),
        exact_top_is_relevant=int(r.exact_top_is_relevant),
        labels={lc.label: int(lc.count) for lc in r.labels},
        fragile_margin=r.fragile_margin,
        budget_exhausted=r.budget_exhausted,
        elapsed_secs=r.elapsed_secs,
        queries=[
            SubsetQueryDiagnosis(
                query=int(q.query),
                relevant=int(q.relevant),
                label=q.label,
                recall_exact=_floats_or_none(q.recall_exact),
                recall_index=_floats_or_none(q.recall_index),
                exact_top_is_relevant=q.exact_top_is_relevant if q.HasField("exact_top_is_relevant") else None,
                index_top_is_relevant=q.index_top_is_relevant if q.HasField("index_top_is_relevant") else None,
                margin=q.margin if q.HasField("margin") else None,
                margin_upper=q.margin_upper if q.HasField("margin_upper") else None,
                reason=q.reason if q.HasField("reason") else None,
            )
            for q in r.queries
        ],
    )


_CAPACITY_FIELDS = (
    "d",
    "k",
    "pattern",
    "queries",
    "n",
    "seed",
    "budget_secs",
    "threads",
    "max_n",
    "restarts",
    "max_steps",
    "patience",
)


def capacity_request_to_pb(body: Mapping[str, Any]) -> diagnostics.StartCapacityJobRequest:
    """The capacity-job request from the body GroveClient builds for REST.

    An empty ``qrels`` list is the same as none in the proto (repeated field)."""
    req = diagnostics.StartCapacityJobRequest()
    _set_fields(req, body, _CAPACITY_FIELDS, "")
    for i, q in enumerate(body.get("qrels") or []):
        _set(req.qrels.add(), "ids", list(q), f"qrels[{i}]")
    return req


def _reference(r: diagnostics.Reference) -> CapacityReference:
    return CapacityReference(value=r.value, kind=r.kind, note=r.note)


def job_from_pb(j: diagnostics.JobInfo) -> DiagnosticsJob:
    """A DiagnosticsJob from its message."""
    progress = None
    if j.HasField("progress"):
        p = j.progress
        progress = JobProgress(
            n=int(p.n), attempt=int(p.attempt), step=int(p.step), loss=p.loss, realised=int(p.realised), queries=int(p.queries)
        )
    result = None
    if j.HasField("result"):
        r = j.result
        result = CapacityResult(
            mode=r.mode,
            d=int(r.d),
            k=int(r.k),
            critical_n=int(r.critical_n) if r.HasField("critical_n") else None,
            first_failure=int(r.first_failure) if r.HasField("first_failure") else None,
            complete=r.complete,
            probes=[
                CapacityProbe(
                    n=int(p.n),
                    qrels=int(p.qrels),
                    all_realised=p.all_realised,
                    best_realised=int(p.best_realised),
                    budget_exhausted=p.budget_exhausted,
                    steps=int(p.steps),
                    seconds=p.seconds,
                )
                for p in r.probes
            ],
            paper_fit=_reference(r.paper_fit) if r.HasField("paper_fit") else None,
            exact_bound_dim=(
                _reference(r.exact_bound_dim) if r.HasField("exact_bound_dim") else CapacityReference(float("nan"), "", "")
            ),
        )
    return DiagnosticsJob(
        id=int(j.id),
        kind=j.kind,
        status=j.status,
        elapsed_secs=j.elapsed_secs,
        progress=progress,
        probes_done=int(j.probes_done),
        result=result,
        error=j.error if j.HasField("error") else None,
    )
