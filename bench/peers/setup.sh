#!/usr/bin/env bash
# Creates the Python venv the peers run in (hnswlib, faiss-cpu, usearch, qdrant-edge-py, scann), from
# PyPI. Usage: bench/peers/setup.sh [VENV_DIR]   (default /tmp/venv-grove-peers)
# Then: grove-bench arxiv --peers all --peer-python VENV_DIR/bin/python
set -euo pipefail
venv="${1:-/tmp/venv-grove-peers}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet numpy hnswlib faiss-cpu usearch qdrant-edge-py scann
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
for p in ("numpy", "hnswlib", "faiss-cpu", "usearch", "qdrant-edge-py", "scann"):
    print(f"{p} {md.version(p)}")
PY
echo "peers venv ready: $venv/bin/python"
