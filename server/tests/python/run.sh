#!/usr/bin/env bash
# Drives a real `grove serve` with the unmodified qdrant-client and LangChain's Qdrant store
# (langchain-qdrant) from PyPI.
#   1. builds the grove binary (dev profile, honouring CARGO_TARGET_DIR),
#   2. creates a venv with qdrant-client, langchain-qdrant, pytest and numpy (reused when present),
#   3. starts grove on free ports over a temporary data dir and waits for /readyz,
#   4. runs test_qdrant_client.py and test_langchain.py against it (REST and gRPC), then stops
#      grove with SIGTERM.
# Exits non-zero when anything fails; pytest's summary line is the last thing it prints.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${GROVE_PY_VENV:-$target/qdrant-client-venv}"

cargo build --quiet --locked -p grove-server --bin grove --manifest-path "$root/Cargo.toml"
bin="$target/debug/grove"

if [ ! -x "$venv/bin/pytest" ] || ! "$venv/bin/python" -c "import langchain_qdrant" 2>/dev/null; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check qdrant-client langchain-qdrant pytest numpy
fi

# shellcheck source=../lib/serve.sh
source "$here/../lib/serve.sh"
start_grove "$bin" "$venv/bin/python"

status=0
GROVE_URL="http://127.0.0.1:$http_port" GROVE_GRPC_PORT="$grpc_port" "$venv/bin/pytest" -q -p no:cacheprovider "$here/test_qdrant_client.py" "$here/test_langchain.py" || status=$?
if [ "$status" != 0 ]; then
  echo "run.sh: grove log (last 40 lines):" >&2
  tail -n 40 "$log" >&2
fi
exit "$status"
