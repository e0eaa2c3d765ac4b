"""Fixtures that run a real `grove serve` on free ports with a temporary data directory.

The binary is $GROVE_BIN, else the newest `grove` under $CARGO_TARGET_DIR or the repository's
target/ (debug or release). run_tests.sh builds one when none exists. A missing binary is a
test failure, not a skip: these tests exist to exercise the real server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from grove_client import GroveClient

REPO = Path(__file__).resolve().parents[3]
API_KEY = "test-admin-key"


def find_binary() -> Path:
    """The grove binary to test (see module docs)."""
    env = os.environ.get("GROVE_BIN")
    if env:
        p = Path(env)
        if not p.is_file():
            raise RuntimeError(f"GROVE_BIN={env} does not exist")
        return p
    roots = [Path(os.environ["CARGO_TARGET_DIR"])] if os.environ.get("CARGO_TARGET_DIR") else []
    roots.append(REPO / "target")
    found = [r / sub / "grove" for r in roots for sub in ("debug", "release") if (r / sub / "grove").is_file()]
    if not found:
        raise RuntimeError(
            "no grove binary: set GROVE_BIN or run `cargo build -p grove-server` (clients/python/run_tests.sh does)"
        )
    return max(found, key=lambda p: p.stat().st_mtime)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GroveServer:
    """A `grove serve` child process."""

    def __init__(self, api_key: str | None = None) -> None:
        self.binary = find_binary()
        self.data_dir = Path(tempfile.mkdtemp(prefix="grove-pytest-"))
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.api_key = api_key
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.log_path = self.data_dir.parent / (self.data_dir.name + ".log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "GroveServer":
        cmd = [
            str(self.binary),
            "serve",
            "--service-http-port",
            str(self.http_port),
            "--service-grpc-port",
            str(self.grpc_port),
            "--storage-data-dir",
            str(self.data_dir / "data"),
        ]
        if self.api_key:
            cmd += ["--security-api-key", self.api_key]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE__")}
        self.proc = subprocess.Popen(cmd, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"grove exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"grove not ready after 60s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def client(self, transport: str) -> GroveClient:
        return GroveClient(self.url, grpc_port=self.grpc_port, transport=transport, api_key=self.api_key, timeout=30)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def server() -> Iterator[GroveServer]:
    s = GroveServer(api_key=API_KEY).start()
    yield s
    s.cleanup()


@pytest.fixture(params=["grpc", "rest"])
def client(request: pytest.FixtureRequest, server: GroveServer) -> Iterator[GroveClient]:
    c = server.client(request.param)
    yield c
    c.close()


_counter = iter(range(1_000_000))


@pytest.fixture
def collection_name(client: GroveClient) -> Iterator[str]:
    """A fresh collection name per test (deleted afterwards)."""
    name = f"t{next(_counter)}_{client.transport_name}"
    yield name
    client.delete_collection(name)
