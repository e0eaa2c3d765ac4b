#!/usr/bin/env bash
# Runs the Python client's tests against a real `grove serve`.
#
# Makes a virtualenv (clients/python/.venv, or $GROVE_PY_VENV), installs this package with its
# `dev` extra (pytest, pinned grpcio-tools for the stub drift check, tqdm), finds or builds the
# grove binary, and runs pytest. Exits non-zero when anything fails.
#
# Binary: $GROVE_BIN if set; else `cargo build -p grove-server` (dev profile; honours
# CARGO_TARGET_DIR) and the result is passed to the tests as GROVE_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${GROVE_PY_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "run_tests: creating virtualenv $venv" >&2
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip >/dev/null
"$venv/bin/python" -m pip install --quiet "$here[dev]"

if [[ -z "${GROVE_BIN:-}" ]]; then
    echo "run_tests: cargo build -p grove-server" >&2
    (cd "$repo" && cargo build --quiet --locked -p grove-server)
    export GROVE_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/grove"
fi
echo "run_tests: testing against $GROVE_BIN" >&2

cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
