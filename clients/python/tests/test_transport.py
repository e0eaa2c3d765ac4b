"""Which address and transport a client picks from its url, and the "auto" REST fallback.

Regression: the client used to send gRPC to port 6334 whatever url it was given, so on a host
with two servers a client for the second (REST 7333) listed the first's collections.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from grove_client import GroveClient, TransportFallbackWarning, UnavailableError, grpc_target_for

from .conftest import GroveServer, free_port


def test_grpc_target_is_derived_from_the_url() -> None:
    assert grpc_target_for("http://localhost:6333") == "localhost:6334"
    assert grpc_target_for("http://127.0.0.1:7333") == "127.0.0.1:7334"
    assert grpc_target_for("localhost:8000") == "localhost:8001"
    assert grpc_target_for("https://grove.example.com") == "grove.example.com:6334"
    assert grpc_target_for("http://[::1]:7333") == "[::1]:7334"
    assert grpc_target_for("http://localhost:7333", 9000) == "localhost:9000"


def test_two_servers_on_one_host_are_kept_apart() -> None:
    # Two servers, each with gRPC on its REST port + 1; clients given only the REST urls must
    # each see their own server's collections.
    servers = []
    try:
        for _ in range(2):
            while True:
                http = free_port()
                if http < 65535:
                    s = GroveServer(api_key=None)
                    s.http_port, s.grpc_port = http, http + 1
                    s.url = f"http://127.0.0.1:{http}"
                    try:
                        servers.append(s.start())
                        break
                    except RuntimeError:
                        s.cleanup()  # port + 1 was taken: try another pair
        a, b = servers
        with GroveClient(a.url, transport="grpc") as ca, GroveClient(b.url, transport="grpc") as cb:
            assert ca.grpc_target == f"127.0.0.1:{a.grpc_port}"
            assert cb.grpc_target == f"127.0.0.1:{b.grpc_port}"
            ca.create_collection("only_on_a", 4)
            cb.create_collection("only_on_b", 4)
            assert ca.list_collections() == ["only_on_a"]
            assert cb.list_collections() == ["only_on_b"]
    finally:
        for s in servers:
            s.cleanup()


def test_auto_falls_back_to_rest_with_a_warning(server: GroveServer) -> None:
    dead = free_port()
    with pytest.warns(TransportFallbackWarning, match=f"127.0.0.1:{dead}"):
        c = GroveClient(server.url, grpc_port=dead, api_key=server.api_key, timeout=10)
    with c:
        assert c.transport_name == "rest" and c.grpc_target is None
        name = "auto_fallback"
        try:
            c.create_collection(name, 4)
            c.upsert(name, np.eye(4, dtype=np.float32))
            assert c.query(name, [1, 0, 0, 0], limit=1).ids == [0]
        finally:
            c.delete_collection(name)


def test_auto_uses_grpc_when_it_answers(server: GroveServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransportFallbackWarning)
        with GroveClient(server.url, grpc_port=server.grpc_port, api_key=server.api_key) as c:
            assert c.transport_name == "grpc"
            assert c.grpc_target == f"127.0.0.1:{server.grpc_port}"
            assert c.health().ready


def test_grpc_only_never_falls_back_and_names_the_address(server: GroveServer) -> None:
    dead = free_port()
    with GroveClient(server.url, grpc_port=dead, transport="grpc", api_key=server.api_key, timeout=5) as c:
        assert c.transport_name == "grpc"
        with pytest.raises(UnavailableError, match=f"gRPC port at 127.0.0.1:{dead}"):
            c.list_collections()
