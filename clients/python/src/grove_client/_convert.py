"""Conversions between Python values and grove.v1 protobuf messages.

Filters arrive as Qdrant-shaped dicts (the same ones the REST API takes) and are translated
field by field; anything this client cannot express in the proto is rejected here with a
message naming the offending key, rather than silently dropped.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ._gen.grove.v1 import common_pb2 as common
from ._gen.grove.v1 import points_pb2 as points
from .errors import BadRequestError
from .models import Explain, PointId

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
    )
