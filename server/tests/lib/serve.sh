# Sourced by the Python-driven test runners (server/tests/python/run.sh,
# server/tests/dashboard/run.sh). Not executable on its own.
#
# start_grove BIN PYTHON [EXTRA SERVE ARGS...]
#   Starts `BIN serve` on two free loopback ports over a fresh temporary data dir, stops it with
#   SIGTERM and removes the data dir when the calling script exits, and waits until /readyz
#   answers 200 (printing grove's log and exiting 1 if it never does). Sets http_port,
#   grpc_port, data, log and pid for the caller. PYTHON is any python3 (for ports and polling).
start_grove() {
  local bin="$1" py="$2"
  shift 2
  free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
  http_port="$(free_port)"
  grpc_port="$(free_port)"
  while [ "$grpc_port" = "$http_port" ]; do grpc_port="$(free_port)"; done
  data="$(mktemp -d)"
  log="$data.log"
  "$bin" serve --service-http-port "$http_port" --service-grpc-port "$grpc_port" --storage-data-dir "$data/db" \
    "$@" >"$log" 2>&1 &
  pid=$!
  trap _stop_grove EXIT
  local ready=0
  for _ in $(seq 1 200); do
    if "$py" -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$http_port/readyz', timeout=1).status == 200 else 1)" 2>/dev/null; then
      ready=1
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$ready" != 1 ]; then
    echo "$(basename "$0"): grove did not become ready; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
}

_stop_grove() {
  if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$data" "$log"
}
