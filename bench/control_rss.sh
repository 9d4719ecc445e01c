#!/usr/bin/env bash
# What the control socket and the telemetry block cost an idle autopilot in
# memory: one `sleep` job, VmRSS from /proc/PID/status once it has settled,
# for three configs started one after the other, interleaved, N runs each:
#   off        no control socket, no telemetry
#   control    the control socket (`control.socket` in a temp dir)
#   control+telemetry  the same plus a `telemetry` block (one gauge) on 127.0.0.1
# A config cannot turn the control socket off: without a `control` block
# autopilot tries ContainerPilot's default /var/run/containerpilot.socket and
# runs on without a socket when it cannot listen there. So every run is made
# as user nobody (who may not write /var/run), and `off` is the config without
# the block; the script checks the log of each run for the socket's state.
#   bench/control_rss.sh [runs]          (default 5; about 30 s)
#   BUILD=build-xyz bench/control_rss.sh
#   AUTOPILOT_BIN=/path/to/autopilot bench/control_rss.sh
# Needs root (to start the runs as nobody). Everything started here is
# stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
build="${BUILD:-build}"
if [ -n "${AUTOPILOT_BIN:-}" ]; then
  bin="$AUTOPILOT_BIN"
else
  nice ninja -C "$build" autopilot >/dev/null
  bin="$PWD/$build/src/autopilot"
fi
[ "$(id -u)" = 0 ] || { echo "control_rss.sh: run as root (each run is started as nobody)" >&2; exit 1; }
tmp="$(mktemp -d /tmp/autopilot-control-rss-XXXXXX)"
chmod 755 "$tmp"
pid=""
stop_pid() {
  local p=$1 i
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  [ -z "$pid" ] || stop_pid "$pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"; }

# config KIND DIR: writes DIR/autopilot.json5
config() {
  local kind=$1 dir=$2
  {
    echo '{ jobs: [ { name: "app", exec: ["sleep", "3600"] } ],'
    [ "$kind" = off ] || echo "  control: { socket: \"$dir/control.sock\" },"
    [ "$kind" != control+telemetry ] || echo "  telemetry: { port: $(free_port), interfaces: [\"static:127.0.0.1\"],
      metrics: [{ namespace: \"app\", name: \"queue_depth\", help: \"queued\", type: \"gauge\" }] },"
    echo '}'
  } >"$dir/autopilot.json5"
}

# measure KIND RUN: prints the settled VmRSS in kB
measure() {
  local kind=$1 run=$2 dir="$tmp/$1-$2" i last now
  mkdir -p "$dir" && chown nobody:nogroup "$dir"
  config "$kind" "$dir"
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$bin" -config "$dir/autopilot.json5" >"$dir/log" 2>&1 &
  pid=$!
  for i in $(seq 1 100); do grep -q "control: " "$dir/log" && grep -q "job app: started\|main job" "$dir/log" && break; sleep 0.05; done
  case "$kind" in
    off) grep -q "running without the control socket" "$dir/log" || { echo "off run $run has a socket:" >&2; cat "$dir/log" >&2; exit 1; } ;;
    *) grep -q "control: serving the control API" "$dir/log" || { echo "$kind run $run has no socket:" >&2; cat "$dir/log" >&2; exit 1; } ;;
  esac
  # Settled: 1 s after the start, then two readings 0.5 s apart agree (at most 10 tries).
  sleep 1
  last=$(rss_kb "$pid")
  for i in $(seq 1 10); do
    sleep 0.5
    now=$(rss_kb "$pid")
    [ "$now" = "$last" ] && break
    last=$now
  done
  anon_kb=$(rss_kb "$pid" RssAnon)
  file_kb=$(rss_kb "$pid" RssFile)
  stop_pid "$pid"
  pid=""
  echo "$now"
}

kinds=(off control control+telemetry)
declare -A all anon file
for run in $(seq 1 "$runs"); do
  for kind in "${kinds[@]}"; do
    measure "$kind" "$run" >"$tmp/out"
    all[$kind]+="$(cat "$tmp/out") "
    anon[$kind]+="$anon_kb "
    file[$kind]+="$file_kb "
  done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "autopilot: $bin"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "VmRSS kB, one sleep job, $runs runs each (interleaved), as nobody:"
base=$(echo "${all[off]}" | median)
for kind in "${kinds[@]}"; do
  m=$(echo "${all[$kind]}" | median)
  printf '  %-18s %s  median %s kB  %+d kB  ratio %.3f  (RssAnon %s, RssFile %s kB)\n' "$kind" "${all[$kind]}" "$m" \
    "$((${m%.*} - ${base%.*}))" "$(awk -v a="$m" -v b="$base" 'BEGIN { print a / b }')" \
    "$(echo "${anon[$kind]}" | median)" "$(echo "${file[$kind]}" | median)"
done
