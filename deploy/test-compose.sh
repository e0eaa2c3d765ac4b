#!/usr/bin/env bash
# End-to-end test of the Docker deployment: build the image, `compose up -d`, wait for the
# healthcheck, ingest and query through the Python client, `compose down` (keeping the named
# volume), `up` again, check that the data and the query answers survived, then snapshot the
# collection, delete points and restore the snapshot on the running container.
#
# Prints "skipped: <reason>" and exits 0 when no Docker engine or compose is available.
# Environment: GROVE_BIN (binary to package; default: cargo build, dev profile),
# GROVE_TEST_IMAGE (use this image instead of building one), GROVE_PY_VENV (virtualenv path).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start=$(date +%s)
skip() { echo "skipped: $*"; exit 0; }
log() { echo "[test-compose +$(( $(date +%s) - start ))s] $*"; }

command -v docker >/dev/null 2>&1 || skip "docker CLI not installed"
docker info >/dev/null 2>&1 || skip "no Docker engine reachable (docker info failed)"
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
else
    skip "neither 'docker compose' nor docker-compose is installed"
fi

passed=0
project="grove-compose-test-$$"
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export GROVE_HTTP_PORT=$(free_port) GROVE_GRPC_PORT=$(free_port)
export GROVE_API_KEY="compose-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export GROVE_URL="http://127.0.0.1:$GROVE_HTTP_PORT"
dc() { "${compose[@]}" -p "$project" -f deploy/docker-compose.yml "$@"; }

cleanup() {
    rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "--- grove container log (last 60 lines) ---"
        dc logs --no-color --tail 60 grove 2>&1 || true
        echo "test-compose: $passed passed, 1 failed"
    fi
    dc down -v --remove-orphans >/dev/null 2>&1 || true
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT

# 1. image
if [[ -n "${GROVE_TEST_IMAGE:-}" ]]; then
    export GROVE_IMAGE="$GROVE_TEST_IMAGE"
else
    export GROVE_IMAGE="grove:compose-test"
    log "building $GROVE_IMAGE"
    if [[ -n "${GROVE_BIN:-}" ]]; then
        deploy/build-image.sh --tag "$GROVE_IMAGE" --binary "$GROVE_BIN"
    else
        deploy/build-image.sh --tag "$GROVE_IMAGE" --debug
    fi
fi
if [[ -f deploy/config.toml ]]; then
    export GROVE_CONFIG="$repo/deploy/config.toml"
else
    docker run --rm --entrypoint /usr/local/bin/grove "$GROVE_IMAGE" config >"$work/config.toml"
    export GROVE_CONFIG="$work/config.toml"
fi

# 2. Python client
venv="${GROVE_PY_VENV:-$repo/clients/python/.venv}"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet "$repo/clients/python"
py="$venv/bin/python"

wait_healthy() {
    local cid status=""
    for _ in $(seq 1 120); do
        cid=$(dc ps -q grove)
        status=$(docker inspect -f '{{.State.Health.Status}}' "$cid" 2>/dev/null || echo starting)
        [[ "$status" == healthy ]] && return 0
        [[ "$status" == unhealthy ]] && break
        sleep 1
    done
    echo "grove container not healthy (status: $status)" >&2
    return 1
}

# 3. up, health, ingest + query
log "compose up -d (project $project, REST :$GROVE_HTTP_PORT, gRPC :$GROVE_GRPC_PORT)"
dc up -d
wait_healthy
log "healthy: $(curl -fsS "$GROVE_URL/healthz")"
passed=$((passed + 1))
"$py" deploy/compose_check.py ingest "$work/state.json"
passed=$((passed + 1))

# 4. down (volume kept), up, same data
log "compose down (named volume kept), then up -d"
dc down
dc up -d
wait_healthy
passed=$((passed + 1))
"$py" deploy/compose_check.py verify "$work/state.json"
passed=$((passed + 1))

# 4b. snapshot create + restore on the running container
"$py" deploy/compose_check.py snapshot "$work/state.json"
passed=$((passed + 1))

# 5. the API key is enforced
code=$(curl -s -o /dev/null -w '%{http_code}' "$GROVE_URL/collections")
[[ "$code" == 401 ]] || { echo "expected 401 without an API key, got $code" >&2; exit 1; }
passed=$((passed + 1))
log "request without API key -> $code"

log "done"
echo "test-compose: $passed passed, 0 failed"
