#!/usr/bin/env bash
# The reference stack's performance (issue #19): brings the stack up with
# stack/run.sh (processes; the embedded catalog, or etcd x3 with --etcd) and
# prints
#   1. the time from `up` to every tier healthy;
#   2. an app change -> both nginx proxies serving the new set: p50/p99 over
#      --changes changes (one app instance's maintenance toggled through its
#      autopilot's control socket; leaving and joining also apart);
#   3. the Redis master's death (`run.sh kill`) -> `POST /session` through
#      every app instance succeeding again: p50 over --failovers failovers,
#      each followed by `run.sh scale redis=3`;
#   4. the autopilots' CPU and memory beside the tiers' own processes (nginx,
#      redis, Sentinel, the demo app, stash, Prometheus, etcd) during
#      --load-seconds of HTTPS load (bench/stack_load), as a share;
# then takes the stack down. The measuring is bench/stack_bench.py's.
#
#   bash bench/stack_bench.sh [--etcd] [--changes N] [--failovers N]
#                             [--load-seconds S] [--rate R] [--out DIR]
#
# Defaults: 100 changes, 10 failovers, 20 s at 200 requests/s. After a build
# with the benchmarks, as root; about 4 minutes with the defaults. Results
# in DIR (default a new /tmp/stack-bench.XXXXXX): report.txt (what is
# printed), each part's JSON, and the load's per-second table (load.txt).
# Environment: AUTOPILOT_BUILD (default ../build), STACK_LOAD, and run.sh's
# own: STACK_DIR (default /tmp/autopilot-stack-bench), STACK_NET (default
# 127.0.7), the ports (default 38080 / 38443 for HTTP / HTTPS, the others
# 38081-38091 and 32379-32380: away from the tests' and 80/443).
set -euo pipefail
# shellcheck source=bench/stack_env.sh
. "$(dirname "$0")/stack_env.sh"
export STACK_DIR="${STACK_DIR:-/tmp/autopilot-stack-bench}"
export STACK_NET="${STACK_NET:-127.0.7}"
export STACK_HTTP_PORT="${STACK_HTTP_PORT:-38080}" STACK_HTTPS_PORT="${STACK_HTTPS_PORT:-38443}"
export STACK_STASH_PORT="${STACK_STASH_PORT:-38081}" STACK_PROMETHEUS_PORT="${STACK_PROMETHEUS_PORT:-38091}"
export STACK_TELEMETRY_PORT="${STACK_TELEMETRY_PORT:-38090}"
export STACK_ETCD_CLIENT_PORT="${STACK_ETCD_CLIENT_PORT:-32379}" STACK_ETCD_PEER_PORT="${STACK_ETCD_PEER_PORT:-32380}"
RUN="$root/stack/run.sh"
MEASURE="$here/stack_bench.py"

mode="" changes=100 failovers=10 load_seconds=20 rate=200 out=""
load_pid=""

log() { echo "stack_bench.sh: $*" >&2; }
die() { log "$*"; exit 1; }
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }  # monotonic (boot time), 10 ms steps
field() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d if not isinstance(d, float) else round(d, 1))' "$1"; }

pairs() { python3 -c 'import json,sys
print(", ".join(f"{k} {v}" for k, v in json.load(sys.stdin)[sys.argv[1]].items()))' "$1"; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --etcd) mode=--etcd; shift ;;
      --changes) changes="$2"; shift 2 ;;
      --failovers) failovers="$2"; shift 2 ;;
      --load-seconds) load_seconds="$2"; shift 2 ;;
      --rate) rate="$2"; shift 2 ;;
      --out) out="$2"; shift 2 ;;
      -h|--help) sed -n '2,29s/^# \{0,1\}//p' "$0"; exit 0 ;;
      *) die "unknown argument $1 (--help)" ;;
    esac
  done
}

# Ends only what this script started: the load generator, then the stack.
cleanup() {
  if [ -n "$load_pid" ]; then
    kill -TERM "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
  fi
  bash "$RUN" down >/dev/null 2>&1 || bash "$RUN" down || true
}

# 1. `up` to every tier healthy: the whole command (certificates included),
# and run.sh's own figure (from the first container's start).
measure_up() {
  local t0 text
  t0=$(now_ms)
  text=$(bash "$RUN" up $mode 2>&1) || { echo "$text" >&2; die "run.sh up failed"; }
  up_total_ms=$(($(now_ms) - t0))
  up_healthy_ms=$(sed -n 's/.*every tier healthy after \([0-9]*\) ms.*/\1/p' <<<"$text")
}

# 4. Load through both proxies while the resources are sampled (from 2 s in,
# so the connections are up, until 2 s before the load ends).
measure_resources() {
  local net="$STACK_NET"
  "$LOAD" --url "https://$net.1:$STACK_HTTPS_PORT" --url "https://$net.2:$STACK_HTTPS_PORT" \
    --ca "$STACK_DIR/ca/ca.crt" --rate "$rate" --connections 16 --duration $((load_seconds + 4)) \
    >"$out/load.txt" 2>&1 &
  load_pid=$!
  sleep 2
  python3 "$MEASURE" resources "$load_seconds" >"$out/resources.json"
  wait "$load_pid" || die "the load failed: $(tail -3 "$out/load.txt")"
  load_pid=""
  load_summary=$(tail -1 "$out/load.txt" | sed 's/^summary //' | python3 -c 'import json,sys; d=json.load(sys.stdin)
print("{requests} requests, {failed} failed, p50 {p50_ms} ms, p99 {p99_ms} ms".format(**d))')
  resources_json=$(cat "$out/resources.json")
}

report() {
  local c="$changes_json" f="$failovers_json" r="$resources_json"
  echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "catalog: ${mode:-embedded}"
  echo "1. up -> every tier healthy: ${up_healthy_ms} ms (run.sh's clock, from the first container); whole \`up\` ${up_total_ms} ms"
  echo "2. app change -> both proxies serving the new set, $(field all.count <<<"$c") changes:" \
    "p50 $(field all.p50_ms <<<"$c") ms, p99 $(field all.p99_ms <<<"$c") ms, max $(field all.max_ms <<<"$c") ms" \
    "(leaving: p50 $(field leave.p50_ms <<<"$c") ms, joining: p50 $(field join.p50_ms <<<"$c") ms)"
  echo "3. Redis master killed -> writes through every app succeed, $(field writes_every_app.count <<<"$f") failovers:" \
    "p50 $(field writes_every_app.p50_ms <<<"$f") ms, max $(field writes_every_app.max_ms <<<"$f") ms" \
    "(first app p50 $(field writes_first_app.p50_ms <<<"$f") ms; the kill command itself p50" \
    "$(field kill_command.p50_ms <<<"$f") ms; scale redis=3 back p50 $(field restore_scale.p50_ms <<<"$f") ms)"
  echo "   Sentinel's own failover (the kill -> SLAVEOF NO ONE to the chosen replica, from its log): p50" \
    "$(field sentinel_promoted.p50_ms <<<"$f") ms; writes again after the promotion: p50" \
    "$(field writes_after_promotion.p50_ms <<<"$f") ms, max $(field writes_after_promotion.max_ms <<<"$f") ms"
  echo "4. during $(field seconds <<<"$r") s of load (${load_summary}):"
  echo "   autopilots ($(field processes.autopilot <<<"$r")): CPU $(field cpu_core_pct.autopilot <<<"$r") % of a core" \
    "+ $(field cpu_core_pct.autopilot_children <<<"$r") % in their checks and hooks;" \
    "RSS $(field memory.autopilot.rss_kb <<<"$r") kB, PSS $(field memory.autopilot.pss_kb <<<"$r") kB"
  echo "   tiers' own processes ($(field processes.tier <<<"$r")): CPU $(field cpu_core_pct.tier <<<"$r") % of a core;" \
    "RSS $(field memory.tier.rss_kb <<<"$r") kB, PSS $(field memory.tier.pss_kb <<<"$r") kB"
  echo "   autopilots' share: CPU $(field cpu_share_pct.autopilot <<<"$r") %" \
    "($(field cpu_share_pct.autopilot_with_children <<<"$r") % with checks and hooks)," \
    "RSS $(field memory_share_pct.rss <<<"$r") %, PSS $(field memory_share_pct.pss <<<"$r") %"
  echo "   tiers' CPU by command (% of a core): $(pairs tier_cpu_core_pct_by_command <<<"$r")"
  echo "   autopilots' CPU with checks and hooks, by tier (% of a core): $(pairs autopilot_cpu_core_pct_by_tier <<<"$r")"
}

main() {
  parse_args "$@"
  [ -x "$LOAD" ] || die "build bench/stack_load first ($LOAD)"
  if [ -f "$STACK_DIR/stack.env" ] || ss -Htln | grep -q " $STACK_NET\.[0-9]*:"; then
    die "a stack is up in $STACK_DIR or on $STACK_NET.x (STACK_DIR / STACK_NET pick others)"
  fi
  trap cleanup EXIT
  out="${out:-$(mktemp -d /tmp/stack-bench.XXXXXX)}"
  mkdir -p "$out"
  log "up ${mode:-(embedded catalog)} in $STACK_DIR on $STACK_NET.x; results in $out"
  measure_up
  log "up in $up_total_ms ms; $changes changes"
  python3 "$MEASURE" changes "$changes" >"$out/changes.json"
  changes_json=$(cat "$out/changes.json")
  log "$failovers failovers"
  python3 "$MEASURE" failovers "$failovers" >"$out/failovers.json"
  failovers_json=$(cat "$out/failovers.json")
  log "$load_seconds s of load at $rate requests/s"
  measure_resources
  printf '{"up_healthy_ms":%s,"up_total_ms":%s}\n' "$up_healthy_ms" "$up_total_ms" >"$out/up.json"
  report | tee "$out/report.txt"
}

main "$@"
