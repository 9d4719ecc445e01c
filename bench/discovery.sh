#!/usr/bin/env bash
# Service discovery (embedded catalog): change-to-watch latency, and the
# footprint of an autopilot that registers, health-checks and watches.
#   bench/discovery.sh [rounds] [cpu_seconds]   (defaults 200 and 30; ~90 s)
#   BUILD=build-xyz bench/discovery.sh          (default build dir: build)
#   CATALOG=etcd bench/discovery.sh             (the footprint on a one-member
#                                                etcd started here instead)
# Prints:
# - watch_latency: catalog change -> watches::Watch `changed` in another
#   process sharing a catalog dir on /dev/shm; p50/p99/max per kind over
#   `rounds` rounds of register, critical, passing, deregister (target: p99
#   <= 20 ms), and any lost or unexpected events.
# - RSS/HWM of autopilot with one unregistered `sleep` job (the baseline of
#   this binary), and after 5 s with one registered `sleep` job, an http
#   health check every 1 s (ttl 3) against a python3 http.server, and two
#   watches (target: <= 4 MB RSS); then its own CPU over a quiet window
#   (utime+stime of autopilot alone: not the server, not the sleep child).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-200}"
cpu_secs="${2:-30}"
build="${BUILD:-build}"
ninja -C "$build" autopilot watch_latency etcd_cluster >/dev/null
bin="$PWD/$build/src/autopilot"
shm_root=/dev/shm
[ -d "$shm_root" ] || shm_root=/tmp
tmp="$(mktemp -d)"
shm="$(mktemp -d "$shm_root/autopilot-discovery-XXXXXX")"
pids=()

stop_pid() {  # pid: TERM, up to 5 s, then KILL; its children too
  local pid=$1 kids i
  kill -0 "$pid" 2>/dev/null || return 0
  kids="$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  for p in "${pids[@]}"; do stop_pid "$p"; done
  rm -rf "$tmp" "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # utime+stime, not children
run_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { print s }'; }  # on-CPU ns, its live threads
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # tries, command...: retries every 0.1 s
  local tries=$1 i; shift
  for i in $(seq 1 "$tries"); do "$@" && return 0; sleep 0.1; done
  return 1
}
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo)," \
  "$(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r); catalog on $(stat -f -c %T "$shm")"

echo "== watch latency"
# Bounded by watch_latency itself: at most 2 s per change plus the gap.
"$build/bench/watch_latency" --dir "$shm/latency" --n "$rounds" --gap-ms 60 || echo "(watch_latency exit $?)"

catalog="{ embedded: { dir: \"$shm/catalog\" } }"
base_catalog="{ embedded: { dir: \"$shm/base\" } }"
if [ "${CATALOG:-embedded}" = etcd ]; then
  "$build/bench/etcd_cluster" --members 1 --max-seconds 600 >"$tmp/etcd.out" 2>"$tmp/etcd.err" &
  pids+=($!)
  wait_for 300 grep -q '^URLS=' "$tmp/etcd.out" || { echo "discovery.sh: etcd did not start:" >&2; cat "$tmp/etcd.err" >&2; exit 1; }
  catalog="{ etcd: { endpoints: \"$(sed -n 's/^URLS=\([^ ]*\).*/\1/p' "$tmp/etcd.out")\" } }"
  base_catalog="$catalog"
  echo "== on a one-member etcd"
fi

echo "== autopilot: baseline, one unregistered sleep job (same binary)"
cat >"$tmp/base.json5" <<JSON
{ discovery: $base_catalog, jobs: [ { name: "app", exec: "sleep 3600" } ] }
JSON
"$bin" -config "$tmp/base.json5" >/dev/null 2>&1 &
base=$!
pids+=("$base")
sleep 1
printf '%-34s VmRSS %6s kB   VmHWM %6s kB   (RssAnon %s kB, RssFile %s kB)\n' "autopilot (sleep)" \
  "$(kb "$base" VmRSS)" "$(kb "$base" VmHWM)" "$(kb "$base" RssAnon)" "$(kb "$base" RssFile)"
stop_pid "$base"

echo "== autopilot: 1 registered job, http health every 1 s, 2 watches"
port="$(free_port)"
mkdir -p "$tmp/www"
echo ok >"$tmp/www/index.html"
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$port" >/dev/null 2>&1 &
pids+=($!)
wait_for 50 answers "$port" || { echo "discovery.sh: the http server did not start" >&2; exit 1; }
cat >"$tmp/app.json5" <<JSON
{ discovery: $catalog,
  jobs: [ { name: "app", exec: "sleep 3600", port: $port, interfaces: ["static:127.0.0.1"],
            health: { http: "http://127.0.0.1:$port/", interval: 1, ttl: 3 } } ],
  watches: [ { name: "app", interval: 5 }, { name: "db", interval: 5 } ] }
JSON
"$bin" -config "$tmp/app.json5" >"$tmp/autopilot.log" 2>&1 &
ap=$!
pids+=("$ap")
sleep 5
kill -0 "$ap" 2>/dev/null || { echo "discovery.sh: autopilot exited:" >&2; cat "$tmp/autopilot.log" >&2; exit 1; }
# Its own watch on "app" sees the job once it is registered and passing.
grep -q 'watch app: changed: 1 healthy instance' "$tmp/autopilot.log" ||
  { echo "discovery.sh: the job did not become healthy in the catalog:" >&2; cat "$tmp/autopilot.log" >&2; exit 1; }
printf '%-34s VmRSS %6s kB   VmHWM %6s kB   (RssAnon %s kB, RssFile %s kB)\n' "autopilot after 5 s" \
  "$(kb "$ap" VmRSS)" "$(kb "$ap" VmHWM)" "$(kb "$ap" RssAnon)" "$(kb "$ap" RssFile)"
hz=$(getconf CLK_TCK)
t0=$(cpu_ticks "$ap"); n0=$(run_ns "$ap")
sleep "$cpu_secs"
t1=$(cpu_ticks "$ap"); n1=$(run_ns "$ap")
printf '%-34s VmRSS %6s kB   VmHWM %6s kB\n' "autopilot after $((5 + cpu_secs)) s" "$(kb "$ap" VmRSS)" "$(kb "$ap" VmHWM)"
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$cpu_secs" \
  'BEGIN { printf "%-34s %.2f CPU s in %d s = %.3f%% of one core (utime+stime, %d ticks of 1/%d s)\n", "autopilot own CPU", d/hz, s, 100*d/hz/s, d, hz }'
awk -v d=$((n1 - n0)) -v s="$cpu_secs" \
  'BEGIN { printf "%-34s %.1f ms in %d s = %.3f%% of one core (schedstat on-CPU time)\n", "", d/1e6, s, 100*d/1e9/s }'
printf '%-34s %s\n' "warnings/errors in its log" "$(grep -ciE 'warn|error|fail' "$tmp/autopilot.log" || true)"
