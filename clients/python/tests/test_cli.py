"""grove-cli against a real server: admin, JSONL and npy import, count, query, scroll, snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grove_client.cli import main

from .conftest import GroveServer


def run(server: GroveServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    base = ["--url", server.url, "--grpc-port", str(server.grpc_port), "--api-key", server.api_key or ""]
    rc = main(base + list(args))
    return rc, capsys.readouterr().out


def test_cli_end_to_end(server: GroveServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    vecs = rng.normal(size=(300, 8)).astype(np.float32)
    jsonl = tmp_path / "points.jsonl"
    with jsonl.open("w") as f:
        for i, v in enumerate(vecs):
            f.write(json.dumps({"id": i, "vector": v.tolist(), "color": ["red", "blue"][i % 2], "rank": i}) + "\n")

    rc, out = run(server, capsys, "import", "cli_a", str(jsonl), "--create", "--batch-size", "64", "--no-progress")
    assert rc == 0 and "imported 300" in out
    assert run(server, capsys, "index", "create", "cli_a", "color", "keyword")[0] == 0
    rc, out = run(server, capsys, "--json", "count", "cli_a", "--filter", '{"must":[{"key":"color","match":{"value":"red"}}]}')
    assert rc == 0 and json.loads(out) == {"count": 150}

    qfile = tmp_path / "q.npy"
    np.save(qfile, vecs[:4])
    rc, out = run(
        server, capsys, "--json", "query", "cli_a", "--vector-file", str(qfile), "--row", "3", "-k", "3",
        "--filter", '{"must":[{"key":"color","match":{"value":"blue"}}]}', "--explain", "--exact",
    )
    res = json.loads(out)
    assert rc == 0 and res["points"][0]["id"] == 3 and res["points"][0]["payload"]["color"] == "blue"
    assert all(p["payload"]["color"] == "blue" for p in res["points"]) and res["explain"]["path"] == "exact"

    rc, out = run(server, capsys, "--rest", "query", "cli_a", "--vector", json.dumps(vecs[0].tolist()), "-k", "2")
    assert rc == 0 and out.splitlines()[1].split()[1] == "0"  # table: rank 1 is point 0 itself

    npy = tmp_path / "v.npy"
    np.save(npy, vecs[:10])
    payloads = tmp_path / "p.jsonl"
    payloads.write_text("".join(json.dumps({"k": i}) + "\n" for i in range(10)))
    rc, _ = run(server, capsys, "import", "cli_b", str(npy), "--payloads", str(payloads), "--create", "--distance", "dot", "--no-progress")
    assert rc == 0
    rc, out = run(server, capsys, "--json", "scroll", "cli_b", "--limit", "4")
    page = json.loads(out)
    assert [p["id"] for p in page["points"]] == [0, 1, 2, 3] and page["points"][2]["payload"] == {"k": 2}
    assert page["next_page_offset"] == 4

    rc, out = run(server, capsys, "--json", "collections", "info", "cli_b")
    assert rc == 0 and json.loads(out)["distance"] == "dot"
    rc, out = run(server, capsys, "snapshot", "create", "cli_b")
    assert rc == 0 and out.startswith("snapshot ")
    rc, out = run(server, capsys, "--json", "snapshot", "list", "cli_b")
    assert rc == 0 and len(json.loads(out)) == 1
    snap = json.loads(out)[0]["name"]
    rc, _ = run(server, capsys, "delete", "cli_b", "--ids", "0,1")
    assert rc == 0 and run(server, capsys, "count", "cli_b")[1].strip() == "8"
    rc, out = run(server, capsys, "snapshot", "restore", "cli_b", snap)
    assert rc == 0 and "restored cli_b" in out
    assert run(server, capsys, "count", "cli_b")[1].strip() == "10"
    archive = tmp_path / "b.snapshot"
    rc, out = run(server, capsys, "snapshot", "download", "cli_b", snap, "--out", str(archive))
    assert rc == 0 and archive.stat().st_size > 0
    rc, out = run(server, capsys, "snapshot", "upload", "cli_c", str(archive))
    assert rc == 0 and run(server, capsys, "count", "cli_c")[1].strip() == "10"
    rc, out = run(server, capsys, "snapshot", "delete", "cli_b", snap)
    assert rc == 0 and run(server, capsys, "--json", "snapshot", "list", "cli_b")[1].strip() == "[]"
    rc, _ = run(server, capsys, "delete", "cli_b", "--ids", "0,1")
    assert rc == 0 and run(server, capsys, "count", "cli_b")[1].strip() == "8"

    for name in ("cli_a", "cli_b", "cli_c"):
        assert run(server, capsys, "collections", "delete", name)[0] == 0


def test_cli_reports_server_errors(server: GroveServer, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--url", server.url, "--grpc-port", str(server.grpc_port), "--api-key", server.api_key or "", "collections", "info", "nope"])
    err = capsys.readouterr().err
    assert rc == 1 and "NotFoundError" in err and "nope" in err


def test_import_into_a_missing_collection_names_create(
    server: GroveServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    npy = tmp_path / "v.npy"
    np.save(npy, np.eye(3, dtype=np.float32))
    with pytest.raises(SystemExit, match="--create"):
        run(server, capsys, "import", "cli_missing", str(npy), "--no-progress")
    rc, out = run(server, capsys, "import", "cli_missing", str(npy), "--create", "--no-progress")
    assert rc == 0 and "imported 3" in out
