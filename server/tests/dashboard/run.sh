#!/usr/bin/env bash
# Drives the web dashboard (/dashboard) in a real headless Chromium through Selenium.
#   1. installs Debian's chromium + chromium-driver when missing (idempotent),
#   2. builds the grove binary (dev profile, honouring CARGO_TARGET_DIR),
#   3. creates a venv with selenium and pytest (reused when present),
#   4. starts grove on free loopback ports over a temporary data dir with an admin and a
#      read-only key, waits for /readyz, and runs test_dashboard.py against it.
# Screenshots of every page go to $DASHBOARD_SCREENSHOTS (default /tmp/grove-dashboard-shots);
# the directory is printed at the end. pytest's summary line is printed before it.
#
#   run.sh            the browser tests (what CI runs)
#   run.sh --arxiv    instead: load the arXiv set ($GROVE_ARXIV_DIR, default /work/shared/data/arxiv)
#                     and screenshot every page with it (arxiv_shots.py; minutes: not in CI)
#   GROVE_BIN=/abs/path/grove run.sh   use that binary instead of building one
set -euo pipefail
mode=tests
case "${1:-}" in
  --arxiv) mode=arxiv ;;
  "") ;;
  *) echo "usage: run.sh [--arxiv]" >&2; exit 2 ;;
esac
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${GROVE_DASHBOARD_VENV:-$target/dashboard-venv}"
shots="${DASHBOARD_SCREENSHOTS:-/tmp/grove-dashboard-shots}"

need=()
for p in chromium chromium-driver; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "run.sh: installing ${need[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -n "${GROVE_BIN:-}" ]; then
  bin="$GROVE_BIN"
else
  cargo build --quiet --locked -p grove-server --bin grove --manifest-path "$root/Cargo.toml"
  bin="$target/debug/grove"
fi

if [ ! -x "$venv/bin/pytest" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check selenium pytest
fi

admin_key="admin-$RANDOM$RANDOM"
read_key="reader-$RANDOM$RANDOM"
# shellcheck source=../lib/serve.sh
source "$here/../lib/serve.sh"
extra=()
# The arXiv calibration and diagnostic take longer than the default 30 s request timeout in a dev build.
[ "$mode" = arxiv ] && extra=(--service-request-timeout-secs 300)
start_grove "$bin" "$venv/bin/python" --security-api-key "$admin_key" --security-read-only-api-key "$read_key" "${extra[@]}"

mkdir -p "$shots"
status=0
export GROVE_URL="http://127.0.0.1:$http_port" GROVE_ADMIN_KEY="$admin_key" GROVE_READ_KEY="$read_key" \
  DASHBOARD_SCREENSHOTS="$shots" GROVE_BIN="$bin"
if [ "$mode" = arxiv ]; then
  "$venv/bin/python" "$here/arxiv_shots.py" || status=$?
else
  "$venv/bin/pytest" -q -p no:cacheprovider "$here/test_dashboard.py" || status=$?
fi
if [ "$status" != 0 ]; then
  echo "run.sh: grove log (last 40 lines):" >&2
  tail -n 40 "$log" >&2
fi
echo "run.sh: dashboard screenshots in $shots"
exit "$status"
