#!/usr/bin/env python3
"""Generate (or check) the checked-in gRPC stubs of grove_client from proto/.

The stubs live in ``src/grove_client/_gen`` so that ``pip install ./clients/python`` needs
neither protoc nor grpcio-tools nor the proto/ directory. The price is that they can drift from
the ``.proto`` sources; ``--check`` regenerates them into a temporary directory and fails if
anything differs (tests/test_stubs.py runs it).

grpcio-tools writes absolute imports (``from grove.v1 import common_pb2``); they are rewritten
to ``grove_client._gen.grove.v1`` so the generated modules stay private to this package.

Usage: python tools/gen_stubs.py [--check] [--proto-root DIR]
Needs grpcio-tools at the version pinned in pyproject.toml's ``dev`` extra: the generated code
records the generator's version, so another version shows up as drift.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
DEFAULT_PROTO_ROOT = PACKAGE_ROOT.parent.parent / "proto" / "proto"
GEN_DIR = PACKAGE_ROOT / "src" / "grove_client" / "_gen"
IMPORT_RE = re.compile(r"^from grove\.v1 import ", re.MULTILINE)
HEADER = '"""Generated from proto/proto/grove/v1 by tools/gen_stubs.py. Do not edit."""\n'


def generate(proto_root: Path, out: Path) -> None:
    """Run grpc_tools.protoc over every grove/v1 proto and rewrite imports into out."""
    from grpc_tools import protoc  # imported here: only the generator needs grpcio-tools

    protos = sorted(p.relative_to(proto_root).as_posix() for p in (proto_root / "grove" / "v1").glob("*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files under {proto_root / 'grove' / 'v1'}")
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{proto_root}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("grpc_tools.protoc failed")
    for path in (out / "grove" / "v1").iterdir():
        if path.suffix in {".py", ".pyi"}:
            text = path.read_text()
            path.write_text(IMPORT_RE.sub("from grove_client._gen.grove.v1 import ", text))
    for pkg in (out, out / "grove", out / "grove" / "v1"):
        (pkg / "__init__.py").write_text(HEADER)


def diff(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two generated trees (missing files included)."""
    names_a = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    names_b = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    changed = sorted(names_a ^ names_b)
    for name in sorted(names_a & names_b):
        if not filecmp.cmp(a / name, b / name, shallow=False):
            changed.append(name)
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the checked-in stubs differ")
    parser.add_argument("--proto-root", type=Path, default=DEFAULT_PROTO_ROOT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "_gen"
        fresh.mkdir()
        generate(args.proto_root, fresh)
        if args.check:
            changed = diff(fresh, GEN_DIR) if GEN_DIR.exists() else ["(no _gen directory)"]
            if changed:
                print("stubs drifted from proto/: " + ", ".join(changed), file=sys.stderr)
                print("regenerate with: python clients/python/tools/gen_stubs.py", file=sys.stderr)
                return 1
            print("stubs up to date")
            return 0
        if GEN_DIR.exists():
            shutil.rmtree(GEN_DIR)
        shutil.copytree(fresh, GEN_DIR)
    print(f"wrote {GEN_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
