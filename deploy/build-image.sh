#!/usr/bin/env bash
# Build the Grove Docker image on a machine without a container registry.
#
#   deploy/build-image.sh [--tag grove:local] [--binary PATH] [--debug]
#
# 1. deploy/build-base-image.sh  (grove-base:bookworm; skipped when it exists)
# 2. the `grove` binary: --binary PATH, else $GROVE_BIN, else
#    `cargo build --release -p grove-server` (--debug: the dev profile, faster to compile)
# 3. docker build -f deploy/Dockerfile.local on a staging directory holding only the binary and
#    the config file (deploy/config.toml, else the defaults printed by `grove config`), so the
#    multi-gigabyte target/ directory is never sent to the Docker daemon.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG="${GROVE_IMAGE:-grove:local}"
BINARY="${GROVE_BIN:-}"
PROFILE=release
while [[ $# -gt 0 ]]; do
    case "$1" in
        --tag) TAG="$2"; shift 2 ;;
        --binary) BINARY="$2"; shift 2 ;;
        --debug) PROFILE=dev; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
log() { echo "[build-image] $*" >&2; }

deploy/build-base-image.sh

if [[ -z "$BINARY" ]]; then
    target_dir="${CARGO_TARGET_DIR:-target}"
    log "cargo build --profile $PROFILE -p grove-server (target dir $target_dir)"
    cargo build --locked --profile "$PROFILE" -p grove-server
    sub=$([[ "$PROFILE" == dev ]] && echo debug || echo release)
    BINARY="$target_dir/$sub/grove"
fi
[[ -x "$BINARY" ]] || { echo "error: no executable grove binary at $BINARY" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$BINARY" "$stage/grove"
strip "$stage/grove" 2>/dev/null || true
if [[ -f deploy/config.toml ]]; then
    cp deploy/config.toml "$stage/config.toml"
else
    log "deploy/config.toml missing: using the defaults printed by 'grove config'"
    "$BINARY" config >"$stage/config.toml"
fi

log "docker build -f deploy/Dockerfile.local -t $TAG (binary: $BINARY)"
docker build --quiet -f deploy/Dockerfile.local -t "$TAG" "$stage" >/dev/null
docker image ls "$TAG"
