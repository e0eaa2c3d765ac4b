"""The checked-in gRPC stubs must equal what tools/gen_stubs.py generates from proto/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parents[2] / "proto" / "proto"


def test_stubs_match_proto_sources() -> None:
    pytest.importorskip("grpc_tools", reason="grpcio-tools missing: install the package's dev extra")
    assert PROTO_ROOT.is_dir(), f"{PROTO_ROOT} missing: run from a Grove checkout"
    r = subprocess.run(
        [sys.executable, str(HERE.parent / "tools" / "gen_stubs.py"), "--check", "--proto-root", str(PROTO_ROOT)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr + r.stdout
