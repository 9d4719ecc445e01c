#!/usr/bin/env bash
# The etcd catalog (issue #7) on a local 3-member etcd cluster (127.0.0.1):
#   BUILD=build-xyz bash bench/etcd.sh [rounds] [hold_seconds]   (defaults 200 and 30; about 2 minutes)
#   IN_FLIGHT=25 ...   register_instance calls in flight per storm process (default 250: all at once)
# The build dir needs -DAUTOPILOT_TESTS=ON -DAUTOPILOT_BENCH=ON: the cluster is
# started by the tests' harness (bench/etcd_cluster.cc, etcd_server.h), with
# Debian's /usr/bin/etcd. Two fresh clusters, one per part, so that the storm
# and its raft figures start from an empty store. Prints:
# - watch_latency --etcd: registration / health change -> watches::Watch
#   `changed` in another process (each with its own EtcdCatalog), p50/p99/max
#   per kind over `rounds` rounds of register, critical, passing, deregister
#   (target p99 <= 30 ms);
# - etcd_storm: 1,000 instances registered from 4 processes until 2 watcher
#   processes have the full set (target <= 3 s); then the steady state of the
#   1,000 instances heartbeating every 5 s (ttl 10 s) over `hold_seconds`:
#   keep-alives/s, raft proposals/s on the leader, etcd's CPU.
# Everything it starts is stopped on exit (the members also die with
# etcd_cluster, whatever happens to it).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-200}"
hold="${2:-30}"
build="${BUILD:-build}"
in_flight="${IN_FLIGHT:-250}"
ninja -C "$build" watch_latency etcd_cluster etcd_storm >/dev/null
tmp="$(mktemp -d)"
cluster_pid=""

stop_cluster() {
  [ -n "$cluster_pid" ] || return 0
  kill -TERM "$cluster_pid" 2>/dev/null || true
  wait "$cluster_pid" 2>/dev/null || true  # etcd_cluster stops its members (5 s at most) and exits
  cluster_pid=""
}
cleanup() {
  stop_cluster
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a 3-member cluster; sets $urls and $pids.
start_cluster() {
  "$build/bench/etcd_cluster" --members 3 --max-seconds 300 >"$tmp/cluster.out" 2>"$tmp/cluster.err" &
  cluster_pid=$!
  local i
  for i in $(seq 1 300); do  # etcd_cluster itself gives up after 20 s
    grep -q '^URLS=' "$tmp/cluster.out" && break
    if ! kill -0 "$cluster_pid" 2>/dev/null; then
      echo "etcd.sh: the etcd cluster did not start:" >&2
      cat "$tmp/cluster.err" >&2
      exit 1
    fi
    sleep 0.1
  done
  grep -q '^URLS=' "$tmp/cluster.out" || { echo "etcd.sh: no cluster after 30 s" >&2; exit 1; }
  urls="$(sed -n 's/^URLS=\([^ ]*\) .*/\1/p' "$tmp/cluster.out")"
  pids="$(sed -n 's/.* PIDS=\(.*\)$/\1/p' "$tmp/cluster.out")"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')," \
  "$(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")," \
  "$(uname -r); $(/usr/bin/etcd --version | head -1), 3 members on 127.0.0.1, data in /tmp ($(stat -f -c %T /tmp))"

echo "== watch latency (etcd)"
start_cluster
echo "cluster: $urls"
# Bounded by watch_latency itself: at most 5 s per call plus 2 s per event.
"$build/bench/watch_latency" --etcd "$urls" --n "$rounds" --gap-ms 60 || echo "(watch_latency exit $?)"
stop_cluster

echo "== registration storm and steady state (etcd)"
start_cluster
echo "cluster: $urls"
# Bounded by etcd_storm: 30 s for the storm, 2 intervals + hold for the rest.
"$build/bench/etcd_storm" --etcd "$urls" --etcd-pids "$pids" --n 1000 --procs 4 --in-flight "$in_flight" --watchers 2 \
  --interval 5 --ttl 10 --hold "$hold" || echo "(etcd_storm exit $?)"
stop_cluster
