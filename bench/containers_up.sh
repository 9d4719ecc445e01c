#!/usr/bin/env bash
# The reference stack's time to healthy (issue #19): process mode
# (`stack/run.sh up`) against podman containers (`up --containers`), in the
# same run, alternating, RUNS times each (default 3).
#   bench/containers_up.sh [runs]
#   BUILD=build-x bench/containers_up.sh
# For the containers: the image builds (on the cached base image; the first
# run builds that too if it is not cached), `podman-compose up` to every tier
# healthy, and `down` (containers, network, volume, image tags removed). Prints
# each run and the medians, and the containers' time to healthy as a ratio to
# the processes'. Leaves nothing running (down after each run, and on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
build="${BUILD:-build}"
[[ $build = /* ]] || build="$PWD/$build"
export AUTOPILOT_BIN="$build/src/autopilot" DEMO_APP="$build/stack/app/autopilot-demo-app"
tmp="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'; }
proc_env=(STACK_DIR="$tmp/processes" STACK_NET=127.0.8 STACK_HTTP_PORT="$(free_port)" STACK_HTTPS_PORT="$(free_port)")
cont_env=(STACK_DIR="$tmp/containers" STACK_PROJECT="autopilot-bench-$$")
cleanup() {
  env "${proc_env[@]}" stack/run.sh down >/dev/null 2>&1 || true
  env "${cont_env[@]}" stack/run.sh down --containers >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

: >"$tmp/results"
for i in $(seq 1 "$runs"); do
  env "${proc_env[@]}" stack/run.sh up 2>"$tmp/up.log" || { cat "$tmp/up.log"; exit 1; }
  p=$(sed -n 's/.*every tier healthy after \([0-9]*\) ms.*/\1/p' "$tmp/up.log")
  env "${proc_env[@]}" stack/run.sh down

  t=$(date +%s%N)
  env "${cont_env[@]}" stack/run.sh up --containers 2>"$tmp/up.log" || { cat "$tmp/up.log"; exit 1; }
  all=$(ms "$t")
  b=$(sed -n 's/.*images built in \([0-9]*\) ms.*/\1/p' "$tmp/up.log")
  c=$(sed -n 's/.*every tier healthy \([0-9]*\) ms after podman-compose up.*/\1/p' "$tmp/up.log")
  t=$(date +%s%N)
  env "${cont_env[@]}" stack/run.sh down --containers
  d=$(ms "$t")
  echo "$p $b $c $all $d" >>"$tmp/results"
  printf 'run %d: processes healthy %d ms | containers: images %d ms, healthy %d ms after compose up, up %d ms in all, down %d ms\n' \
    "$i" "$p" "$b" "$c" "$all" "$d"
done
python3 - "$tmp/results" <<'PY'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
med = [statistics.median(c) for c in zip(*rows)]
names = ["processes: up to healthy", "containers: image builds", "containers: compose up to healthy",
         "containers: up --containers in all", "containers: down"]
for n, m in zip(names, med):
    print(f"median {n:38} {m:8.0f} ms")
print(f"ratio containers healthy / processes healthy: {med[2] / med[0]:.1f}")
PY
