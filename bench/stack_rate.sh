#!/usr/bin/env bash
# The highest steady rate the reference stack sustains on this machine with
# every second's p99 under a limit (issue #20: the fault scenarios run at
# that rate). A ladder of rates, each a `baseline` of bench/stack_load.sh
# (a fresh stack each time: up, the load over TLS through both proxies,
# down); the ladder stops at the first rate over the limit or with a failed
# request.
#
#   bash bench/stack_rate.sh [--etcd] [--limit-ms 50] [--duration 20]
#                            [--connections 64] [--out DIR] [RATE ...]
#
# Default rates: 200 400 700 1000 1400 2000 3000 4500 6000. Prints one line
# per rate (offered and achieved rate, failed, p50 / p99 / max, the worst
# second's p99) and the highest rate that met the limit. The environment is
# stack_load.sh's (STACK_DIR, STACK_NET, ports, AUTOPILOT_BUILD).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
limit=50 duration=20 connections=64 out="" etcd=() rates=()
while [ $# -gt 0 ]; do
  case "$1" in
    --limit-ms) limit="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --etcd) etcd=(--etcd); shift ;;
    -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) rates+=("$1"); shift ;;
  esac
done
[ ${#rates[@]} -gt 0 ] || rates=(200 400 700 1000 1400 2000 3000 4500 6000)
out="${out:-$(mktemp -d /tmp/stack-rate.XXXXXX)}"
mkdir -p "$out"

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); limit: every second's p99 < $limit ms; ${duration} s per rate over $connections connections"
printf '%8s %9s %7s %8s %8s %8s %12s %s\n' offered achieved failed p50_ms p99_ms max_ms worst_p99_ms load
best=""
for r in "${rates[@]}"; do
  bash "$here/stack_load.sh" "${etcd[@]}" --rate "$r" --connections "$connections" --duration "$duration" \
    --out "$out/r$r" baseline >"$out/r$r.log" 2>&1 || { echo "rate $r: stack_load.sh failed (see $out/r$r.log)"; break; }
  j="$out/r$r/baseline.json"
  achieved=$(python3 -c "print(round($(field "$j" requests) / $duration))")
  failed=$(field "$j" failed) worst=$(field "$j" worst_p99_ms)
  printf '%8s %9s %7s %8s %8s %8s %12s %s\n' "$r" "$achieved" "$failed" "$(field "$j" p50_ms)" "$(field "$j" p99_ms)" \
    "$(field "$j" max_ms)" "$worst" "$(cut -d' ' -f1-3 /proc/loadavg)"
  if [ "$failed" != 0 ] || python3 -c "import sys; sys.exit(0 if $worst >= $limit else 1)"; then break; fi
  best=$r
done
echo "highest rate with every second's p99 < $limit ms and 0 failed: ${best:-none}"
