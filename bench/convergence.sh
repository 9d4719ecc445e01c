#!/usr/bin/env bash
# End-to-end convergence on the embedded catalog: from an instance's health
# change to a real nginx serving the new upstream set, through autopilot's
# `templates` (wait.min 0, check `nginx -t`, command `nginx -s reload`).
#   bench/convergence.sh [changes] [gap_ms] [floor_runs]   (defaults 200, 200, 50; ~1 min)
#   BUILD=build-xyz NGINX=/usr/sbin/nginx bench/convergence.sh
# Setup (all under one temp dir, catalog on /dev/shm, nginx on 127.0.0.1 and
# a free port): autopilot renders bench/convergence_nginx.ctmpl to
# PREFIX/conf/nginx.conf and starts nginx on `template.nginx` `changed`;
# bench/convergence.cc registers 8 instances of "app" with the library's
# EmbeddedCatalog, flips one instance critical/passing per change and polls
# nginx's X-Upstreams header every ~1 ms; it also measures the floor: (a) a
# plain catalog watch in another process, (b) `nginx -t`, (c) rewrite +
# `nginx -s reload` until the new conf serves. Target: convergence p99 <= 100 ms.
# Everything started here is stopped by PID on exit (nginx through autopilot,
# then by its pid file if it outlived it).
set -euo pipefail
cd "$(dirname "$0")/.."
changes="${1:-200}"
gap_ms="${2:-200}"
floor_runs="${3:-50}"
build="${BUILD:-build}"
nginx="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
[ -x "$nginx" ] || { echo "convergence.sh: no nginx at $nginx (apt-get install nginx-light)" >&2; exit 1; }
ninja -C "$build" autopilot convergence >/dev/null
bin="$PWD/$build/src/autopilot"
shm_root=/dev/shm
[ -d "$shm_root" ] || shm_root=/tmp
tmp="$(mktemp -d /tmp/autopilot-convergence-XXXXXX)"
catalog="$(mktemp -d "$shm_root/autopilot-convergence-XXXXXX")"
prefix="$tmp/nginx"
conf="$prefix/conf/nginx.conf"
ap=""
writer=""

stop_pid() {  # pid: TERM, up to 5 s, then KILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  [ -n "$writer" ] && stop_pid "$writer"  # its watcher child dies with it (PDEATHSIG)
  [ -n "$ap" ] && stop_pid "$ap"  # stops its nginx job too
  # An nginx master that outlived autopilot (it should not): its own pid file.
  if [ -s "$prefix/nginx.pid" ]; then
    local master
    master="$(cat "$prefix/nginx.pid")"
    if kill -0 "$master" 2>/dev/null && grep -q nginx "/proc/$master/comm" 2>/dev/null; then
      echo "convergence.sh: nginx $master outlived autopilot; stopping it" >&2
      stop_pid "$master"
    fi
  fi
  rm -rf "$tmp" "$catalog"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo)," \
  "$(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r); $("$nginx" -v 2>&1);" \
  "catalog on $(stat -f -c %T "$catalog"), nginx prefix on $(stat -f -c %T "$tmp")"

mkdir -p "$prefix/conf" "$prefix/tmp"
port="$(free_port)"
# The config is a Go template over the environment: `{{` in it is the
# config's, so the check's literal {{.TempFile}} is written as a string
# constant. The catalog template itself is a separate file.
cat >"$tmp/autopilot.json5" <<JSON5
{
  discovery: { embedded: { dir: "$catalog" } },
  logging: { level: "INFO" },
  templates: [{
    name: "nginx",
    source: "$PWD/bench/convergence_nginx.ctmpl",
    destination: "$conf",
    wait: { min: "0s" },
    check: ["$nginx", "-t", "-c", "{{ "{{.TempFile}}" }}", "-p", "$prefix"],
    command: ["$nginx", "-s", "reload", "-c", "$conf", "-p", "$prefix"],
    command_timeout: "10s",
  }],
  jobs: [{
    name: "nginx",
    exec: ["$nginx", "-c", "$conf", "-p", "$prefix"],
    when: { source: "template.nginx", once: "changed" },
    stopTimeout: "5s",
  }],
}
JSON5
"$bin" check -config "$tmp/autopilot.json5" >/dev/null
# The check as autopilot will run it (the env-template turned into a literal).
echo "check argv after the config's own templating:" \
  "$("$bin" -template -config "$tmp/autopilot.json5" | grep -o 'check: \[.*\]')"

# The writer registers the instances first; autopilot starts once they are
# in, so its first render has all of them (see "start-up" in the report).
timeout 300 "$build/bench/convergence" --catalog "$catalog" --port "$port" --conf "$conf" --prefix "$prefix" \
  --nginx "$nginx" --changes "$changes" --gap-ms "$gap_ms" --floor-runs "$floor_runs" \
  --ready-file "$tmp/registered" --trace "$tmp/trace" &
writer=$!
for _ in $(seq 1 100); do [ -e "$tmp/registered" ] || ! kill -0 "$writer" 2>/dev/null && break; sleep 0.1; done
[ -e "$tmp/registered" ] || { echo "convergence.sh: the writer did not register its instances" >&2; exit 1; }
NGINX_PREFIX="$prefix" NGINX_PORT="$port" "$bin" -config "$tmp/autopilot.json5" >"$tmp/autopilot.log" 2>&1 &
ap=$!
status=0
wait "$writer" || status=$?
writer=""

echo "-- inside autopilot, per change (its log's timestamps against the writer's CLOCK_REALTIME)"
python3 - "$tmp/trace" "$tmp/autopilot.log" <<'PY' || true
import sys, datetime, bisect, math
def ns(stamp):  # 2026-11-27T01:52:25.339224Z
    d = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + d.microsecond * 1000
checks, wrote = [], []
for line in open(sys.argv[2], errors="replace"):
    stamp, _, rest = line.partition(" ")
    if rest.startswith("check.template nginx") and "test is successful" in rest: checks.append(ns(stamp))
    elif rest.startswith("template nginx: wrote"): wrote.append(ns(stamp))
rows = {"write -> check done (event, render, temp file, nginx -t)": [], "write -> command done (+ swap, nginx -s reload)": [],
        "command done -> nginx serves the new set": []}
for line in open(sys.argv[1]):
    t0, conv = line.split(); t0 = int(t0); conv = float(conv)
    i, j = bisect.bisect(checks, t0), bisect.bisect(wrote, t0)
    if i == len(checks) or j == len(wrote): continue
    rows["write -> check done (event, render, temp file, nginx -t)"].append((checks[i] - t0) / 1e6)
    rows["write -> command done (+ swap, nginx -s reload)"].append((wrote[j] - t0) / 1e6)
    rows["command done -> nginx serves the new set"].append(conv - (wrote[j] - t0) / 1e6)
def pct(v, p): v = sorted(v); return v[max(1, min(len(v), math.ceil(p / 100 * len(v)))) - 1]
for name, v in rows.items():
    if v: print(f"{name:58s} n={len(v):<4d} p50 {pct(v, 50):8.3f} ms   p99 {pct(v, 99):8.3f} ms   max {max(v):8.3f} ms")
PY
echo "-- autopilot"
if kill -0 "$ap" 2>/dev/null; then echo "still running (pid $ap)"; else echo "autopilot EXITED early:"; fi
printf '%-44s %s\n' "renders written (template nginx: wrote)" "$(grep -c 'template nginx: wrote' "$tmp/autopilot.log" || true)"
printf '%-44s %s\n' "check / command failures" \
  "$(grep -c 'check failed' "$tmp/autopilot.log" || true) / $(grep -c 'command failed' "$tmp/autopilot.log" || true)"
printf '%-44s %s\n' "warn/error lines in its log" "$(grep -ciE 'warn|error' "$tmp/autopilot.log" || true)"
printf '%-44s %s\n' "nginx error.log lines (level warn+)" "$(wc -l <"$prefix/error.log" 2>/dev/null || echo 0)"
if [ "$status" -ne 0 ] || grep -qiE 'warn|error' "$tmp/autopilot.log"; then
  echo "-- autopilot log (warn/error lines, first 20)"
  grep -iE 'warn|error' "$tmp/autopilot.log" | head -20 || true
fi
[ -n "${KEEP_LOG:-}" ] && cp "$tmp/autopilot.log" "$KEEP_LOG"
exit "$status"
