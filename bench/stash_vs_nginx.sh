#!/usr/bin/env bash
# `autopilot stash` against nginx, same run, same 4 kB file, on loopback.
#   bench/stash_vs_nginx.sh [seconds] [connections]     (defaults 10, 50; ~1 min)
#   BUILD=build-xyz NGINX=/usr/sbin/nginx bench/stash_vs_nginx.sh
# Prerequisites: Debian's wrk (apt-get install wrk) and nginx.
#
# Each server gets one core (taskset -c 0; nginx with worker_processes 1,
# access_log off, sendfile on), wrk runs on the other (taskset -c 1, one
# thread, keep-alive). Measured, in this order for each server:
#   1. saturation: wrk -c CONNECTIONS for SECONDS: requests/s and p99;
#   2. p99 at ~1,000 req/s: Debian's wrk cannot hold a rate (that is wrk2),
#      so 10 connections each wait 10 ms between requests (wrk's Lua delay()
#      hook; the delay is not counted in the latency), which offers at most
#      1,000 req/s; the achieved rate is printed next to the p99;
#   3. RSS (VmRSS) idle before the load, and VmHWM (peak) after it; nginx's
#      is master + worker.
# Prints one line per metric and the stash/nginx ratios. Every process
# started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
conns="${2:-50}"
build="${BUILD:-build}"
nginx="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
command -v wrk >/dev/null || { echo "stash_vs_nginx.sh: no wrk (apt-get install wrk)" >&2; exit 1; }
[ -x "$nginx" ] || { echo "stash_vs_nginx.sh: no nginx at $nginx" >&2; exit 1; }
ninja -C "$build" autopilot >/dev/null
bin="$PWD/$build/src/autopilot"
tmp="$(mktemp -d /tmp/autopilot-stash-bench-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -f "$tmp/nginx.pid" ] && kill -TERM "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/4k.txt" && return 0; sleep 0.05; done; return 1; }
field() { awk -v k="$1:" '$1==k {print $2}' "/proc/$2/status"; }
sum_field() { local f=$1 t=0 p; shift; for p in "$@"; do t=$((t + $(field "$f" "$p"))); done; echo $t; }

mkdir -p "$tmp/www"
chmod 755 "$tmp" "$tmp/www"  # nginx's worker runs as www-data when started by root
head -c 4096 /dev/urandom | base64 -w0 | head -c 4096 >"$tmp/www/4k.txt"
chmod 644 "$tmp/www/4k.txt"
printf '{ "mounts": [ { "mount": "/", "provider": "file", "basePath": "%s" } ] }\n' "$tmp/www" >"$tmp/stash.json"
stash_port=$(free_port)
nginx_port=$(free_port)
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$nginx_port; root $tmp/www; }
}
CONF
printf 'function delay() return 10 end\n' >"$tmp/paced.lua"

taskset -c 0 "$bin" stash -p "$stash_port" -c "$tmp/stash.json" >"$tmp/stash.log" 2>&1 &
stash_pid=$!
pids+=("$stash_pid")
taskset -c 0 "$nginx" -c "$tmp/nginx.conf" -p "$tmp" 2>"$tmp/nginx.stderr" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_port "$stash_port" || { cat "$tmp/stash.log"; exit 1; }
wait_port "$nginx_port" || { cat "$tmp/nginx.stderr" "$tmp/nginx-error.log"; exit 1; }
nginx_procs() { echo "$nginx_pid" $(pgrep -P "$nginx_pid" || true); }

# "Requests/sec: 12345.67" and the "99%" line of --latency, in ms.
run_wrk() {  # port extra-args...
  local port=$1
  shift
  taskset -c 1 wrk -t1 --latency "$@" "http://127.0.0.1:$port/4k.txt" >"$tmp/wrk.out"
  local rps p99
  rps=$(awk '/^Requests\/sec:/{print $2}' "$tmp/wrk.out")
  p99=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$tmp/wrk.out")
  echo "$rps $p99"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load now: $(cut -d' ' -f1-3 /proc/loadavg)"
stash_idle=$(sum_field VmRSS "$stash_pid")
nginx_idle=$(sum_field VmRSS $(nginx_procs))
curl -sf "http://127.0.0.1:$stash_port/4k.txt" | cmp - "$tmp/www/4k.txt"
curl -sf "http://127.0.0.1:$nginx_port/4k.txt" | cmp - "$tmp/www/4k.txt"

read -r s_rps s_p99 < <(run_wrk "$stash_port" -c "$conns" -d "${seconds}s")
read -r n_rps n_p99 < <(run_wrk "$nginx_port" -c "$conns" -d "${seconds}s")
read -r s_rate s_p99_paced < <(run_wrk "$stash_port" -c 10 -d "${seconds}s" -s "$tmp/paced.lua")
read -r n_rate n_p99_paced < <(run_wrk "$nginx_port" -c 10 -d "${seconds}s" -s "$tmp/paced.lua")
stash_peak=$(sum_field VmHWM "$stash_pid")
nginx_peak=$(sum_field VmHWM $(nginx_procs))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '%-34s %12s %12s %8s\n' "" "stash" "nginx" "ratio"
printf '%-34s %12.0f %12.0f %8s\n' "req/s (${conns} conns, ${seconds}s)" "$s_rps" "$n_rps" "$(ratio "$s_rps" "$n_rps")"
printf '%-34s %12.3f %12.3f %8s\n' "p99 ms at saturation" "$s_p99" "$n_p99" "$(ratio "$s_p99" "$n_p99")"
printf '%-34s %12.0f %12.0f\n' "paced rate achieved (req/s)" "$s_rate" "$n_rate"
printf '%-34s %12.3f %12.3f %8s\n' "p99 ms at ~1,000 req/s" "$s_p99_paced" "$n_p99_paced" "$(ratio "$s_p99_paced" "$n_p99_paced")"
printf '%-34s %12d %12d %8s\n' "RSS idle (kB)" "$stash_idle" "$nginx_idle" "$(ratio "$stash_idle" "$nginx_idle")"
printf '%-34s %12d %12d %8s\n' "RSS peak under load (kB, VmHWM)" "$stash_peak" "$nginx_peak" "$(ratio "$stash_peak" "$nginx_peak")"
