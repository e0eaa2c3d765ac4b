#!/usr/bin/env bash
# Drives a real `grove serve` with the unmodified qdrant-client from PyPI.
#   1. builds the grove binary (dev profile, honouring CARGO_TARGET_DIR),
#   2. creates a venv with qdrant-client, pytest and numpy (reused when present),
#   3. starts grove on free ports over a temporary data dir and waits for /readyz,
#   4. runs test_qdrant_client.py against it, then stops grove with SIGTERM.
# Exits non-zero when anything fails; pytest's summary line is the last thing it prints.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${GROVE_PY_VENV:-$target/qdrant-client-venv}"

cargo build --quiet --locked -p grove-server --bin grove --manifest-path "$root/Cargo.toml"
bin="$target/debug/grove"

if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check qdrant-client pytest numpy
fi

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
http_port="$(free_port)"
grpc_port="$(free_port)"
while [ "$grpc_port" = "$http_port" ]; do grpc_port="$(free_port)"; done
data="$(mktemp -d)"
log="$data.log"

"$bin" serve --service-http-port "$http_port" --service-grpc-port "$grpc_port" --storage-data-dir "$data/db" \
  >"$log" 2>&1 &
pid=$!
cleanup() {
  if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$data" "$log"
}
trap cleanup EXIT

ready=0
for _ in $(seq 1 200); do
  if "$venv/bin/python" -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$http_port/readyz', timeout=1).status == 200 else 1)" 2>/dev/null; then
    ready=1; break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "run.sh: grove did not become ready; its log:" >&2
  cat "$log" >&2
  exit 1
fi

status=0
GROVE_URL="http://127.0.0.1:$http_port" "$venv/bin/pytest" -q -p no:cacheprovider "$here/test_qdrant_client.py" || status=$?
if [ "$status" != 0 ]; then
  echo "run.sh: grove log (last 40 lines):" >&2
  tail -n 40 "$log" >&2
fi
exit "$status"
