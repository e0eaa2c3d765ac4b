"""Client-side behaviour that needs no server: input validation, filter encoding, results."""

from __future__ import annotations

import numpy as np
import pytest

from grove_client import BadRequestError, BatchQueryResult, QueryResult, ScoredPoint
from grove_client import errors
from grove_client._convert import filter_to_pb, payload_from_pb, payload_to_pb
from grove_client._inputs import batched, points


def test_payload_roundtrip_keeps_ints_floats_and_nesting() -> None:
    p = {"i": 3, "f": 3.0, "b": True, "s": "x", "n": None, "l": [1, "a", [2.5]], "o": {"k": {"z": False}}}
    assert payload_from_pb(payload_to_pb(p)) == p
    assert isinstance(payload_from_pb(payload_to_pb(p))["i"], int)
    assert isinstance(payload_from_pb(payload_to_pb(p))["f"], float)


def test_filter_encoding() -> None:
    f = filter_to_pb(
        {
            "must": [
                {"key": "cat", "match": {"value": "a"}},
                {"key": "year", "range": {"gte": 2019, "lt": 2022}},
                {"key": "ts", "range": {"gte": "2020-01-01T00:00:00Z"}},
                {"key": "n", "match": {"any": [1, 2]}},
            ],
            "should": {"key": "flag", "match": {"value": True}},
            "must_not": [{"has_id": [1, "00000000-0000-0000-0000-00000000002a"]}, {"is_empty": {"key": "t"}}],
        }
    )
    assert f is not None
    assert f.must[0].field.match.keyword == "a"
    assert f.must[1].field.range.gte == 2019 and f.must[1].field.range.lt == 2022
    assert not f.must[1].field.range.HasField("gt")
    assert f.must[2].field.datetime_range.gte == "2020-01-01T00:00:00Z"
    assert list(f.must[3].field.match.integers.integers) == [1, 2]
    assert f.should[0].field.match.boolean is True
    assert f.must_not[0].has_id.has_id[1].uuid.endswith("2a")
    assert f.must_not[1].is_empty.key == "t"


@pytest.mark.parametrize(
    "bad",
    [
        {"mustt": []},
        {"must": [{"key": "x", "match": {"value": 1.5}}]},
        {"must": [{"key": "x", "match": {"any": [1, "a"]}}]},
        {"must": [{"key": "x", "match": {"text": "a"}}]},
        {"must": [{"key": "x", "range": {"gte": 1, "between": 2}}]},
        {"must": [{"nonsense": 1}]},
    ],
)
def test_bad_filters_are_rejected_locally(bad: dict) -> None:
    with pytest.raises(BadRequestError):
        filter_to_pb(bad)


def test_point_inputs() -> None:
    n, it = points(None, np.eye(3), [{"a": np.int64(1)}, None, {"b": np.float32(0.5)}], None)
    got = list(it)
    assert n == 3 and [p.id for p in got] == [0, 1, 2]
    assert got[0].payload == {"a": 1} and type(got[0].payload["a"]) is int
    assert got[2].payload == {"b": 0.5}
    with pytest.raises(BadRequestError):
        points([1, 2], np.eye(3), None, None)
    with pytest.raises(BadRequestError):
        list(points([-1], np.eye(1), None, None)[1])
    with pytest.raises(BadRequestError):
        points(None, np.array([[np.nan]]), None, None)
    with pytest.raises(BadRequestError):
        list(points(None, None, None, [{"vector": [1.0]}])[1])
    assert [len(b) for b in batched(iter(range(7)), 3)] == [3, 3, 1]  # type: ignore[arg-type]


def test_batch_result_padding() -> None:
    a = QueryResult.from_points([ScoredPoint(1, 0.9), ScoredPoint(2, 0.8)])
    b = QueryResult.from_points([ScoredPoint(3, 0.7)])
    br = BatchQueryResult([a, b])
    assert br.ids.tolist() == [[1, 2], [3, -1]]
    assert np.isnan(br.scores[1, 1]) and br.scores[0, 0] == pytest.approx(0.9)


def test_error_mapping() -> None:
    assert isinstance(errors.from_http(404, "m"), errors.NotFoundError)
    assert isinstance(errors.from_http(418, "m"), errors.BadRequestError)
    assert isinstance(errors.from_http(502, "m"), errors.ServerError)
    e = errors.from_grpc("ALREADY_EXISTS", "exists")
    assert isinstance(e, errors.ConflictError) and e.message == "exists" and "ALREADY_EXISTS" in str(e)
