#!/usr/bin/env bash
# The reference stack (stack/run.sh: embedded catalog, or etcd) under steady HTTPS load
# through both proxies while one fault scenario runs; every request counted by
# outcome, with p50/p99/max, per 1-second bucket (bench/stack_load).
#
#   bench/stack_load.sh [--etcd] [--rate R] [--connections N] [--duration S]
#                       [--outage S] [--out DIR] [--check] [SCENARIO ...]
#
# --etcd: the stack on its 3-member etcd cluster (run.sh up --etcd) instead of
# the embedded catalog; the flappers register there too.
#
# Scenarios (default: all but soak, in this order; with --etcd, the three
# etcd ones after them; they leave the cluster as they found it, so any
# order and repeats work):
#   baseline   no fault
#   rolling    rolling restart of the app tier: start a replacement, then
#              SIGTERM the old instance (run.sh stop), one at a time
#   rolling-post  the same under 100 % POST /session (writes, which nginx
#              does not retry once sent)
#   scale      app tier 2 -> 6 -> 2
#   kill-app   kill -9 of one app process (its autopilot lives on)
#   kill       kill -9 of one app container: the app and its autopilot
#   flap       4 flapping `app` registrations: ~100 catalog changes in 10 s,
#              each one an nginx re-render and reload on both proxies
#   redis      only /session writes; kill -9 of the Redis master container:
#              how long writes fail, acknowledged writes lost
#   etcd-follower  (--etcd only) kill -9 of a follower's container (etcd
#              and its autopilot); 10 s later `run.sh start` starts it again
#              with its data dir: it rejoins
#   etcd-leader  (--etcd only) the same for the leader's: the two left elect
#              another, every autopilot carries on with them
#   etcd-down  (--etcd only) kill -9 of all three members' containers; after
#              --outage seconds (default 30) all started again: meanwhile the
#              autopilots keep the last catalog they read (nginx its upstreams)
#              and heartbeat in vain; afterwards every registration is there
#   soak       one random fault (rolling, scale, kill-app, kill, flap) every
#              30 s for --duration seconds (default 300); the autopilots' RSS
#              and open fds sampled every 30 s
#
# Per scenario: DIR/NAME.txt (the per-second table), DIR/NAME.json, and one
# summary line on stdout. --check exits 1 unless the invariants hold (what
# the `stack_faults` test asserts): 0 failed requests for baseline, rolling,
# scale, flap and the etcd scenarios; for rolling and scale, no request sent
# to a stopped app instance (nginx's error log; the app's drain); flap's
# reloads coalesced (at most 40 on the two proxies); for redis, /session
# writes succeed again afterwards; for the etcd ones, no nginx reload (the
# upstream set never changed) and, within 15 s of the fault's end, every
# instance the catalog listed before.
# Environment: AUTOPILOT_BUILD (default ../build), STACK_LOAD, and run.sh's
# own (STACK_DIR default /tmp/autopilot-stack-load, STACK_NET default 127.0.6,
# STACK_HTTP_PORT / STACK_HTTPS_PORT default 18080 / 18443).
set -euo pipefail
# shellcheck source=bench/stack_env.sh
. "$(dirname "$0")/stack_env.sh"
export STACK_DIR="${STACK_DIR:-/tmp/autopilot-stack-load}"
export STACK_NET="${STACK_NET:-127.0.6}"
export STACK_HTTP_PORT="${STACK_HTTP_PORT:-18080}"
export STACK_HTTPS_PORT="${STACK_HTTPS_PORT:-18443}"
RUN="$root/stack/run.sh"
NET="$STACK_NET"

rate=200 connections=16 duration="" out="" check=0 scenarios=() etcd=0 outage=30
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --outage) outage="$2"; shift 2 ;;
    --check) check=1; shift ;;
    --etcd) etcd=1; shift ;;
    -h|--help) sed -n '2,51s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
if [ ${#scenarios[@]} = 0 ]; then
  scenarios=(baseline rolling scale kill-app kill flap redis)
  [ $etcd = 0 ] || scenarios+=(etcd-follower etcd-leader etcd-down)
fi
out="${out:-$(mktemp -d /tmp/stack-load.XXXXXX)}"
mkdir -p "$out"
[ -x "$LOAD" ] || { echo "stack_load.sh: build bench/stack_load first ($LOAD)" >&2; exit 2; }

log() { echo "stack_load.sh: $*" >&2; }
failed_checks=()
flappers=()
last_reloads=0
last_upstream_errors=0

cleanup() {
  local pid
  for pid in "${flappers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${flappers[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  flappers=()
  "$RUN" down >/dev/null 2>&1 || "$RUN" down || true
}
trap cleanup EXIT

status() { "$RUN" status --json; }
apps() { status | python3 -c 'import json,sys; print(" ".join(a["name"] for a in json.load(sys.stdin)["tiers"]["app"]))'; }
app_addresses() {
  status | python3 -c 'import json,sys; print(" ".join(a["address"] for a in json.load(sys.stdin)["tiers"]["app"] if a["healthy"]))'
}
etcd_endpoints() {  # the healthy members' client URLs, comma-separated
  status | python3 -c 'import json,sys; print(",".join(m["url"] for m in json.load(sys.stdin)["tiers"]["discovery"] if m["healthy"]))'
}
etcd_leader() {  # the member the others follow (stack/stacklib.py)
  status | PYTHONPATH="$root/stack" python3 -c '
import json, sys
from stacklib import etcd_leader
print(etcd_leader(json.load(sys.stdin)["tiers"]["discovery"]) or "")'
}
redis_master() {
  status | python3 -c 'import json,sys; print(" ".join(r["name"] for r in json.load(sys.stdin)["tiers"]["redis"] if r["role"] == "master"))'
}
field() {  # field FILE KEY: a number from a summary
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# --- faults: each runs while the load does ----------------------------------

fault_baseline() { :; }

fault_rolling() {  # a replacement first, then SIGTERM to the old one
  local old n
  for old in $(apps); do
    n=$(apps | wc -w)
    "$RUN" scale "app=$((n + 1))" >/dev/null
    "$RUN" stop "$old"
  done
}

fault_rolling_post() { fault_rolling; }

fault_scale() {
  "$RUN" scale app=6 >/dev/null
  sleep 2
  "$RUN" scale app=2 >/dev/null
}

fault_kill_app() {
  local name
  name=$(apps | awk '{print $1}')
  kill -KILL "$(cat "$STACK_DIR/$name/app.pid")"
  sleep 5  # its check fails, the catalog drops it; then a replacement
  "$RUN" stop "$name"
  "$RUN" scale app=2 >/dev/null
}

fault_kill() {
  local name
  name=$(apps | awk '{print $1}')
  "$RUN" kill "$name"
  sleep 5  # beyond its TTL (3 s)
  "$RUN" scale app=2 >/dev/null
}

fault_flap() {  # 4 flappers, 400 ms half-period, offsets 100 ms apart: a change every ~100 ms
  local addresses=($(app_addresses)) i dir endpoints=""
  [ $etcd = 0 ] || endpoints=$(etcd_endpoints)
  for i in 0 1 2 3; do
    dir="$STACK_DIR/flap-$i"
    mkdir -p "$dir"
    (
      cd "$dir"
      AUTOPILOT_STACK="$STACK_DIR" CATALOG="$STACK_DIR/catalog" ETCD_ENDPOINTS="$endpoints" APP_PORT=8000 FLAP_ID="flap-$i" \
        FLAP_IP="${addresses[$((i % ${#addresses[@]}))]}" FLAP_MS=400 FLAP_OFFSET_MS=$((i * 100)) \
        exec setsid "$AUTOPILOT_BIN" -config "$here/stack/flap.json5" </dev/null >"$dir/autopilot.log" 2>&1
    ) &
    flappers+=($!)
  done
  sleep 10
  for i in "${flappers[@]}"; do kill -TERM "$i" 2>/dev/null || true; done
  for i in "${flappers[@]}"; do wait "$i" 2>/dev/null || true; done
  flappers=()
}

fault_redis() {
  local master
  master=$(redis_master)
  [ -n "$master" ] || { log "no redis master"; return 1; }
  "$RUN" kill "$master"
}

etcd_members() { status | python3 -c 'import json,sys; print(" ".join(m["name"] for m in json.load(sys.stdin)["tiers"]["discovery"]))'; }

# Every instance in the catalog, one "service id" a line, sorted; the
# flappers' are left out (they come and go by design).
registrations() {
  status | AUTOPILOT_BIN="$AUTOPILOT_BIN" PYTHONPATH="$root/stack" python3 -c '
import json, os, sys
from stacklib import catalog_instances
found = catalog_instances(os.environ["AUTOPILOT_BIN"], json.load(sys.stdin)["catalog_args"])
if found is None:
    sys.exit("the catalog does not answer")
print("\n".join(f"{s} {i}" for s, i in found if not i.startswith("flap-")))'
}

# kill -9 of one member's container, then (10 s later) started again with its
# data dir; `run.sh start` waits until it is healthy (it has rejoined).
restart_member() {
  local t
  log "kill -9 of $1 ($2)"
  "$RUN" kill "$1"
  sleep 10
  t=$(date +%s%N)
  "$RUN" start "$1"
  log "$1 started again and healthy in $((($(date +%s%N) - t) / 1000000)) ms"
}

fault_etcd_follower() {
  local leader follower
  leader=$(etcd_leader)
  [ -n "$leader" ] || { log "no etcd leader"; return 1; }
  follower=$(etcd_members | tr ' ' '\n' | grep -vx "$leader" | head -1)
  restart_member "$follower" "a follower"
}

fault_etcd_leader() {
  local leader
  leader=$(etcd_leader)
  [ -n "$leader" ] || { log "no etcd leader"; return 1; }
  restart_member "$leader" "the leader"
}

fault_etcd_down() {
  local members t
  members=$(etcd_members)
  log "kill -9 of every etcd member ($members) for $outage s"
  "$RUN" kill $members
  sleep "$outage"
  t=$(date +%s%N)
  "$RUN" start $members
  log "the cluster is back and healthy in $((($(date +%s%N) - t) / 1000000)) ms"
}

# Requests nginx sent towards an app instance that had stopped (its error
# log: connection refused, reset, closed before a header), from both proxies'
# logs. proxy_next_upstream retries them on another instance when nothing
# was sent yet (a refused connect: any method), so they need not fail; a
# graceful stop (deregister, the app's 2 s drain while the proxies reload
# without it, then SIGTERM) should leave none.
upstream_errors() {
  cat "$STACK_DIR"/proxy-*/autopilot.log 2>/dev/null | grep '\[error\]' | grep -c 'upstream: "http://' || true
}

reloads() {  # nginx reloads so far, from both proxies' logs
  cat "$STACK_DIR"/proxy-*/autopilot.log 2>/dev/null | grep -c "signal process started" || true
}

# --- one scenario --------------------------------------------------------------

scenario() {  # scenario NAME LOAD_SECONDS [stack_load args...]
  local name="$1" seconds="$2" load_pid t0 t1 r0 r1 e0 rc=0
  shift 2
  r0=$(reloads)
  e0=$(upstream_errors)
  "$LOAD" --url "https://$NET.1:$STACK_HTTPS_PORT" --url "https://$NET.2:$STACK_HTTPS_PORT" \
    --ca "$STACK_DIR/ca/ca.crt" --rate "$rate" --connections "$connections" --duration "$seconds" \
    --json "$out/$name.json" "$@" >"$out/$name.txt" 2>&1 &
  load_pid=$!
  sleep 2
  t0=$(date +%s%N)
  "fault_${name//-/_}" || rc=$?
  t1=$(date +%s%N)
  wait "$load_pid" || rc=$?
  r1=$(reloads)
  last_reloads=$((r1 - r0))
  last_upstream_errors=$(($(upstream_errors) - e0))
  local fault_s=$(((t1 - t0) / 1000000))
  [ $((fault_s / 1000 + 2)) -lt "$seconds" ] || log "$name: the fault ($fault_s ms) outlasted the load"
  printf '%-9s fault %6d ms  nginx reloads %4d  upstream errors %4d  ' "$name" "$fault_s" $((r1 - r0)) "$last_upstream_errors"
  tail -1 "$out/$name.txt"
  [ $rc = 0 ] || failed_checks+=("$name: fault or load exited $rc")
}

check_zero_failed() {
  local f
  f=$(field "$out/$1.json" failed)
  [ "$f" = 0 ] || failed_checks+=("$1: $f failed requests")
}

# Graceful stops only (rolling, scale): no request met a stopped instance.
# Only telling if clients were on the stopped instances (ip_hash maps each
# client's /24 to one instance): some instance that answered during the
# scenario must be gone after it.
check_drained() {
  local stopped
  [ "$last_upstream_errors" = 0 ] ||
    failed_checks+=("$1: $last_upstream_errors requests sent to a stopped app instance (retried by nginx; no drain?)")
  stopped=$(python3 -c 'import json,sys; now = sys.argv[2].split()
print(sum(n for i, n in json.load(open(sys.argv[1]))["answered_by"].items() if i not in now))' "$out/$1.json" "$(apps)")
  log "$1: $stopped requests answered by the instances it stopped, before they stopped"
  [ "$stopped" -gt 0 ] ||
    failed_checks+=("$1: no client landed on a stopped instance: the drain went untested (more --connections)")
}

# After an etcd fault, every instance listed before it is listed again
# (waits at most 15 s: a lease lost meanwhile means registering again).
check_registrations() {
  local i now="" t
  t=$(date +%s%N)
  for i in $(seq 1 30); do
    now=$(registrations 2>/dev/null) || now=""
    [ "$now" = "$2" ] && break
    sleep 0.5
  done
  if [ "$now" = "$2" ]; then
    log "$1: every instance listed before ($(wc -l <<<"$2")) listed again, at read $i ($((($(date +%s%N) - t) / 1000000)) ms after the fault's end)"
  else
    failed_checks+=("$1: registrations missing: $(comm -23 <(echo "$2") <(echo "$now") | tr '\n' ' ')")
  fi
}

# The Redis tier has lost its master's container: after the failover, do
# /session writes succeed again through the proxies?
check_writes_recover() {
  local i ok=0
  for i in $(seq 1 30); do
    if curl -sf --cacert "$STACK_DIR/ca/ca.crt" -X POST -d after "https://$NET.1:$STACK_HTTPS_PORT/session" \
        --resolve "localhost:$STACK_HTTPS_PORT:$NET.1" >/dev/null; then
      ok=1
      break
    fi
    sleep 0.5
  done
  [ $ok = 1 ] || failed_checks+=("redis: /session writes did not recover")
  [ "$(field "$out/redis.json" sessions_unverified)" = 0 ] || failed_checks+=("redis: sessions not read back")
}

# --- soak: random faults, RSS and fds of the autopilots ---------------------------

sample_autopilots() {  # one line: each long-lived container's autopilot RSS (kB) and fds, and the count of all
  local name pid line="" n=0 exe
  exe=$(readlink -f "$AUTOPILOT_BIN")
  for pid in $(pgrep -x autopilot); do
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] || continue
    grep -qz "^AUTOPILOT_STACK=$STACK_DIR$" "/proc/$pid/environ" 2>/dev/null && n=$((n + 1))
  done
  for name in $(cd "$STACK_DIR" && ls -d proxy-* redis-* 2>/dev/null); do
    pid=$(cat "$STACK_DIR/$name/autopilot.pid" 2>/dev/null) || continue
    [ -r "/proc/$pid/status" ] || continue
    line+=" $name=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")kB/$(ls "/proc/$pid/fd" | wc -l)fd"
  done
  echo "$(date +%T) autopilots $n$line"
}

# Redis is left out: its killed container is not replaced (run.sh has no
# restart for it), and the other faults leave the tier as they found it.
fault_soak() {
  local faults=(rolling scale kill-app kill flap) f start end next
  start=$(date +%s)
  end=$((start + soak_seconds - 20))
  next=$start
  sample_autopilots >>"$out/soak-samples.txt"
  while [ "$next" -lt "$end" ]; do
    while [ "$(date +%s)" -lt "$next" ]; do sleep 1; done
    f=${faults[$((RANDOM % ${#faults[@]}))]}
    echo "$(date +%T) fault $f" >>"$out/soak-samples.txt"
    "fault_${f//-/_}"
    sample_autopilots >>"$out/soak-samples.txt"
    next=$((next + 30))
  done
}

# --- main ------------------------------------------------------------------------

"$RUN" down >/dev/null 2>&1 || true
t=$(date +%s%N)
if [ $etcd = 1 ]; then "$RUN" up --etcd; else "$RUN" up; fi
log "stack up in $((($(date +%s%N) - t) / 1000000)) ms; rate $rate/s over $connections connections; output in $out"
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${scenarios[@]}"; do
  case "$s" in
    baseline) scenario baseline "${duration:-10}"; check_zero_failed baseline ;;
    rolling) scenario rolling "${duration:-40}"; check_zero_failed rolling; check_drained rolling ;;
    rolling-post)
      scenario rolling-post "${duration:-40}" --mix /session=1; check_zero_failed rolling-post; check_drained rolling-post ;;
    scale) scenario scale "${duration:-40}"; check_zero_failed scale; check_drained scale ;;
    kill-app) scenario kill-app "${duration:-25}" ;;
    kill) scenario kill "${duration:-25}" ;;
    flap)
      scenario flap "${duration:-20}"
      check_zero_failed flap
      # Reloads coalesced (stack/proxy's template wait): ~100 changes in 10 s
      # make at most ~1 reload a second on each proxy, not one per change.
      [ "$last_reloads" -le 40 ] || failed_checks+=("flap: $last_reloads nginx reloads for ~100 changes") ;;
    etcd-follower|etcd-leader|etcd-down)
      [ $etcd = 1 ] || { log "$s needs --etcd"; exit 2; }
      before=$(registrations)
      if [ "$s" = etcd-down ]; then scenario "$s" "${duration:-$((outage + 20))}"; else scenario "$s" "${duration:-25}"; fi
      check_zero_failed "$s"
      [ "$last_reloads" = 0 ] || failed_checks+=("$s: $last_reloads nginx reloads (the upstream set changed)")
      check_registrations "$s" "$before" ;;
    redis) scenario redis "${duration:-20}" --mix /session=1 --timeout-ms 5000; check_writes_recover ;;
    soak) soak_seconds="${duration:-300}"; scenario soak "$soak_seconds"; cat "$out/soak-samples.txt" ;;
    *) log "unknown scenario $s"; exit 2 ;;
  esac
done
if [ $check = 1 ] && [ ${#failed_checks[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed_checks[@]}"
  exit 1
fi
[ ${#failed_checks[@]} = 0 ] || printf 'not met: %s\n' "${failed_checks[@]}"
exit 0
