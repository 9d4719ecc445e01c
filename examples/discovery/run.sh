#!/usr/bin/env bash
# The discovery demo, on the embedded catalog (a shared directory; no server):
# two app instances register themselves with HTTP health checks, a watcher
# reacts as they come and go. Lines are prefixed with the process they come
# from. Needs Linux's loopback range (127.0.0.11, 127.0.0.12).
#
#   run.sh          on the embedded catalog
#   run.sh --etcd   the same on a local 3-member etcd cluster (Debian's
#                   etcd-server) that this script starts on 127.0.0.1 and
#                   stops at the end: the configs are the same.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${AUTOPILOT_BUILD:-$here/../../build}"
export AUTOPILOT_BIN="${AUTOPILOT_BIN:-$build/src/autopilot}"
export DEMO_APP="${DEMO_APP:-$build/demo_app}"
work="$(mktemp -d /tmp/autopilot-demo-XXXXXX)"
export CATALOG="$work/catalog" APP_PORT="${APP_PORT:-18080}"
pids=()
etcd_pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${etcd_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start() {  # start NAME CONFIG [VAR=VALUE...]
  local name="$1" config="$2"
  shift 2
  env "$@" "$AUTOPILOT_BIN" -config "$here/$config" > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
}
say() { echo; echo "=== $* ==="; }

catalog_flag=(--discovery-dir "$CATALOG")
if [ "${1:-}" = "--etcd" ]; then
  base="${ETCD_BASE_PORT:-23790}"
  cluster="" urls=""
  for i in 1 2 3; do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:$((base + 10 * i + 1))"
    urls+="${urls:+,}http://127.0.0.1:$((base + 10 * i))"
  done
  say "starting a 3-member etcd cluster on 127.0.0.1 ($urls)"
  for i in 1 2 3; do
    etcd --name "m$i" --data-dir "$work/etcd-m$i" \
      --listen-client-urls "http://127.0.0.1:$((base + 10 * i))" --advertise-client-urls "http://127.0.0.1:$((base + 10 * i))" \
      --listen-peer-urls "http://127.0.0.1:$((base + 10 * i + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 10 * i + 1))" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token autopilot-demo \
      --logger=zap --log-outputs="$work/etcd-m$i.log" &
    etcd_pids+=($!)
  done
  export ETCD_ENDPOINTS="$urls"
  catalog_flag=(--etcd "$ETCD_ENDPOINTS")
  for _ in $(seq 1 100); do  # until the cluster answers (at most 20 s)
    "$AUTOPILOT_BIN" catalog services "${catalog_flag[@]}" >/dev/null 2>&1 && break
    sleep 0.2
  done
fi

say "starting the watcher, then app-1 on 127.0.0.11:$APP_PORT and app-2 on 127.0.0.12:$APP_PORT"
start watcher watcher.json5
watcher=${pids[0]}
start app-1 app.json5 APP_IP=127.0.0.11
app1=${pids[1]}
start app-2 app.json5 APP_IP=127.0.0.12
app2=${pids[2]}
sleep "${DEMO_STEP:-3}"

say "the catalog now holds (autopilot catalog service app)"
"$AUTOPILOT_BIN" catalog service app "${catalog_flag[@]}"

say "SIGTERM to app-1: it deregisters, drains 500ms, then stops its app; the watcher reacts"
kill -TERM "$app1"
wait "$app1" || true
sleep "${DEMO_STEP:-3}"

say "SIGTERM to app-2: the last instance goes, the watcher says so"
kill -TERM "$app2"
wait "$app2" || true
sleep 1
say "stopping the watcher"
kill -TERM "$watcher"
status=0
wait "$watcher" || status=$?
pids=()
say "done (watcher exited with status $status)"
