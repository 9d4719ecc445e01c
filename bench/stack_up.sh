#!/usr/bin/env bash
# The reference stack (stack/run.sh): time from `up` to every tier healthy,
# on the embedded catalog and on the stack's 3-member etcd cluster, rounds
# alternating so both see the same machine load. Each round is `up`, then
# `down`; `up` itself reports "every tier healthy after N ms" (its clock
# starts before the first container, after the certificates are made).
#
#   bash bench/stack_up.sh [ROUNDS]     (default 3; after a build; as root)
#
# Runs on 127.0.8.x with ports away from 80/443, in a temp state dir.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${1:-3}"
export AUTOPILOT_BUILD="${AUTOPILOT_BUILD:-$here/../build}"
export STACK_NET="${STACK_NET:-127.0.8}"
export STACK_DIR="$(mktemp -d /tmp/autopilot-stack-bench.XXXXXX)"
export STACK_HTTP_PORT=28080 STACK_HTTPS_PORT=28443 STACK_STASH_PORT=28081 STACK_PROMETHEUS_PORT=28091
export STACK_TELEMETRY_PORT=28090 STACK_ETCD_CLIENT_PORT=22379 STACK_ETCD_PEER_PORT=22380
trap 'bash "$here/../stack/run.sh" down >/dev/null 2>&1 || true' EXIT

declare -A times
for r in $(seq 1 "$rounds"); do
  for mode in embedded etcd; do
    flag=""
    [ "$mode" = etcd ] && flag="--etcd"
    out=$(bash "$here/../stack/run.sh" up $flag 2>&1) || { echo "$out" >&2; exit 1; }
    ms=$(sed -n 's/.*every tier healthy after \([0-9]*\) ms.*/\1/p' <<<"$out")
    times[$mode]+="$ms "
    echo "round $r $mode: $ms ms"
    bash "$here/../stack/run.sh" down >/dev/null
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
e=$(median <<<"${times[embedded]}")
t=$(median <<<"${times[etcd]}")
echo "median up -> all healthy: embedded $e ms, etcd $t ms, etcd/embedded $(awk -v a="$t" -v b="$e" 'BEGIN { printf "%.2f", a / b }')"
rmdir "$STACK_DIR" 2>/dev/null || true
