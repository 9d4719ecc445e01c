#!/usr/bin/env bash
# The reference stack on one machine, in process mode: each "container" is a
# process tree under its own autopilot, with its own loopback address and
# working directory under the state dir; the tiers find each other through
# the catalog: the embedded one (a shared directory), or etcd with --etcd.
#
#   run.sh up [--etcd]         start every tier (any order), wait until all are healthy;
#                              --etcd: on a 3-member etcd cluster (the discovery tier)
#   run.sh status [--json]     each tier's instances, health and (Redis) role
#   run.sh scale app=N         start or gracefully stop app instances
#   run.sh scale redis=N       the same for Redis members (after a kill: back to N)
#   run.sh stop NAME...        stop containers gracefully (SIGTERM to their autopilots);
#                              an etcd member (discovery-N) keeps its data dir
#   run.sh kill NAME...        kill -9 containers' whole process trees (a crash)
#   run.sh start NAME...       start stopped or killed containers again, as they were
#                              (same address; an etcd member with its data dir and
#                              peer URLs: it rejoins), and wait until they are healthy
#   run.sh down                stop everything; no process, port or file is left
#   run.sh up --containers [--etcd]
#                              the same tiers as podman containers (stack/containers/);
#                              then status, scale app=N, stop, kill, logs and down on them
#
# Tiers: proxy x2 (nginx, $NET.1-2), app x2 ($NET.11-), redis x3
# (redis-server + redis-sentinel, $NET.21-23), config x1 (autopilot stash,
# $NET.31), monitoring x1 (Prometheus, $NET.41), and the discovery tier: the
# embedded catalog (a directory, $STACK_DIR/catalog), or with --etcd etcd x3
# ($NET.51-53). Every autopilot serves its telemetry on its own address.
# --containers runs every tier as podman containers (stack/compose.yaml).
#
# Environment: STACK_DIR (default /tmp/autopilot-stack), STACK_NET (default
# 127.0.1), STACK_HTTP_PORT / STACK_HTTPS_PORT (default 80 / 443),
# STACK_STASH_PORT (8080), STACK_PROMETHEUS_PORT (9091),
# STACK_TELEMETRY_PORT (9090), STACK_ETCD_CLIENT_PORT / STACK_ETCD_PEER_PORT
# (2379 / 2380), AUTOPILOT_BUILD (default ../build),
# AUTOPILOT_BIN, DEMO_APP. `up` records the settings in the state dir; the
# other commands read them from there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${AUTOPILOT_BUILD:-$here/../build}"
AUTOPILOT_BIN="${AUTOPILOT_BIN:-$build/src/autopilot}"
DEMO_APP="${DEMO_APP:-$build/stack/app/autopilot-demo-app}"
STACK_DIR="${STACK_DIR:-/tmp/autopilot-stack}"
NET="${STACK_NET:-127.0.1}"
HTTP_PORT="${STACK_HTTP_PORT:-80}"
HTTPS_PORT="${STACK_HTTPS_PORT:-443}"
STASH_PORT="${STACK_STASH_PORT:-8080}"
PROMETHEUS_PORT="${STACK_PROMETHEUS_PORT:-9091}"
TELEMETRY_PORT="${STACK_TELEMETRY_PORT:-9090}"
ETCD_CLIENT_PORT="${STACK_ETCD_CLIENT_PORT:-2379}"
ETCD_PEER_PORT="${STACK_ETCD_PEER_PORT:-2380}"
APP_PORT=8000
MODE=embedded
ETCD_ENDPOINTS=""
# The settings of a stack that is up win over the environment's.
settings() {
  printf 'NET=%q\nHTTP_PORT=%q\nHTTPS_PORT=%q\nSTASH_PORT=%q\nPROMETHEUS_PORT=%q\nTELEMETRY_PORT=%q\n' \
    "$NET" "$HTTP_PORT" "$HTTPS_PORT" "$STASH_PORT" "$PROMETHEUS_PORT" "$TELEMETRY_PORT"
  printf 'ETCD_CLIENT_PORT=%q\nETCD_PEER_PORT=%q\nMODE=%q\nETCD_ENDPOINTS=%q\n' \
    "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$MODE" "$ETCD_ENDPOINTS"
}
if [ "${1:-}" != up ] && [ -f "$STACK_DIR/stack.env" ]; then
  . "$STACK_DIR/stack.env"
fi
CATALOG="$STACK_DIR/catalog"
CA="$STACK_DIR/ca/ca.crt"
# What `autopilot catalog` needs to read this stack's catalog.
set_catalog_args() {
  if [ "$MODE" = etcd ]; then CATALOG_ARGS=(--etcd "$ETCD_ENDPOINTS"); else CATALOG_ARGS=(--discovery-dir "$CATALOG"); fi
}
set_catalog_args

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "run.sh: $*" >&2; }

# --- containers ---------------------------------------------------------------

# The processes of a container (or, given the state dir, of the whole
# stack): the autopilot's descendants (it is a subreaper, so double-forked
# ones too), and any process working in that directory or carrying the
# marker run.sh gave the autopilots (redis and nginx overwrite their
# environment with their process titles, hence the three ways).
pids_under() {  # pids_under DIR [AUTOPILOT_PID]
  local dir="$1" root="${2:-}" p cwd
  if [ -n "$root" ]; then
    ps -e -o pid=,ppid= | awk -v root="$root" '
      { parent[$1] = $2; pids[NR] = $1 }
      END {
        for (i in pids) {
          p = pids[i]
          for (q = p; q > 1 && q != root; q = parent[q]) {}
          if (q == root) print p
        }
      }'
  fi
  {
    find /proc -mindepth 2 -maxdepth 2 -name cwd -printf '%h %l\n' 2>/dev/null |
      awk -v dir="$dir" '$2 == dir || index($2, dir "/") == 1 { print $1 }'
    grep -lzxE -- "AUTOPILOT_(STACK|CONTAINER)=$dir" /proc/[0-9]*/environ 2>/dev/null | sed 's|/environ$||'
  } | sed 's|^/proc/||' | grep -vx "$$" || true
}

container_pid() {  # the autopilot's pid, if it runs
  local f="$STACK_DIR/$1/autopilot.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$AUTOPILOT_BIN")" ] || return 1
  echo "$pid"
}

containers() {  # names of the containers of TIER (all tiers without one), by index
  local d
  for d in "$STACK_DIR"/*/container.env; do
    [ -f "$d" ] || continue
    d="$(dirname "$d")"
    [ -z "${1:-}" ] || [[ "$(basename "$d")" == "$1"-* ]] && basename "$d"
  done | sort -t- -k1,1 -k2,2n
  return 0
}

start_container() {  # start_container TIER INDEX IP
  local tier="$1" index="$2" ip="$3" dir="$STACK_DIR/$1-$2"
  mkdir -p "$dir"
  chmod 755 "$dir"  # nginx workers run as nobody
  printf 'TIER=%s\nINDEX=%s\nIP=%s\n' "$tier" "$index" "$ip" > "$dir/container.env"
  local extra=()  # what the tier's "image" holds, and its own environment
  case "$tier" in
    proxy)  # the image's default certificate: not the stack's (files replaces it)
      mkdir -p "$dir/ssl"
      cp "$STACK_DIR/ca/image.crt" "$dir/ssl/ssl.crt"
      cp "$STACK_DIR/ca/image.key" "$dir/ssl/ssl.key"
      extra=(STASH_TOKEN="$(cat "$STACK_DIR/ca/stash.token")") ;;
    config)  # what the stash serves
      mkdir -p "$dir/ssl"
      cp "$STACK_DIR/ca/server.crt" "$dir/ssl/ssl.crt"
      cp "$STACK_DIR/ca/server.key" "$dir/ssl/ssl.key"
      extra=(STASH_TOKEN="$(cat "$STACK_DIR/ca/stash.token")" STASHBOX__address="$ip") ;;
    monitoring)
      cp "$here/monitoring/prometheus.yml" "$dir/prometheus.yml" ;;
    discovery)
      local i cluster=""
      for i in 1 2 3; do cluster+="${cluster:+,}discovery-$i=http://$NET.$((50 + i)):$ETCD_PEER_PORT"; done
      extra=(ETCD_CLUSTER="$cluster" ETCD_CLIENT_PORT="$ETCD_CLIENT_PORT" ETCD_PEER_PORT="$ETCD_PEER_PORT") ;;
  esac
  (
    cd "$dir"
    env AUTOPILOT_STACK="$STACK_DIR" AUTOPILOT_CONTAINER="$dir" CATALOG="$CATALOG" ETCD_ENDPOINTS="$ETCD_ENDPOINTS" \
      WORKDIR="$dir" IP="$ip" NAME="$tier-$index" TIER="$tier" \
      HTTP_PORT="$HTTP_PORT" HTTPS_PORT="$HTTPS_PORT" APP_PORT="$APP_PORT" DEMO_APP="$DEMO_APP" \
      STASH_PORT="$STASH_PORT" PROMETHEUS_PORT="$PROMETHEUS_PORT" TELEMETRY_PORT="$TELEMETRY_PORT" \
      AUTOPILOT_BIN="$AUTOPILOT_BIN" STACK_SRC="$here" "${extra[@]}" \
      setsid "$AUTOPILOT_BIN" -config "$here/$tier/autopilot.json5" </dev/null >"$dir/autopilot.log" 2>&1 &
    echo $! > "$dir/autopilot.pid"
  )
}

# SIGTERM to the autopilots of the named containers, waits (at most 15 s),
# then SIGKILLs whatever of theirs is left and removes their directories
# (with KEEP_DATA=1, an etcd member's stays: its data is its membership).
stop_containers() {
  local name pid left i
  for name in "$@"; do
    pid=$(container_pid "$name") && kill -TERM "$pid" 2>/dev/null || true
  done
  for i in $(seq 1 150); do
    left=0
    for name in "$@"; do container_pid "$name" >/dev/null && left=1; done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for name in "$@"; do
    kill_container "$name"
    [ "${KEEP_DATA:-0}" = 1 ] && [[ "$name" == discovery-* ]] || rm -rf "${STACK_DIR:?}/$name"
  done
}

kill_container() {  # kill -9 every process of the container
  local dir="$STACK_DIR/$1" pid pids i
  pid=$(container_pid "$1") || pid=""
  for i in 1 2; do  # twice: a process forked meanwhile
    pids=$(pids_under "$dir" "$pid" | sort -u)
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  done
}

# --- certificates -------------------------------------------------------------

# A throwaway CA and a server certificate for the proxies' addresses (the
# config tier serves them), a self-signed one standing for the certificate
# baked into the proxy image (which the stack's CA does not trust), and the
# bearer token the stash wants.
make_certificates() {
  local d="$STACK_DIR/ca" san="DNS:localhost,IP:127.0.0.1" i
  for i in 1 2 3 4 5 6 7 8 9; do san+=",IP:$NET.$i"; done
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=autopilot stack CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
    "$san" > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=the proxy image's default certificate" \
    -keyout "$d/image.key" -out "$d/image.crt" 2>/dev/null
  (umask 077 && openssl rand -hex 16 > "$d/stash.token")
}

# --- status -------------------------------------------------------------------

# healthy_in SERVICE ADDRESS: is ADDRESS a healthy instance of SERVICE? A
# read that fails (etcd electing a leader answers "no leader" for about a
# second) is asked again, at most 3 s: it says nothing about the instance.
healthy_in() {
  local out i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    if out=$("$AUTOPILOT_BIN" catalog service "$1" "${CATALOG_ARGS[@]}" 2>/dev/null); then
      grep -o '"address": *"[^"]*"' <<<"$out" | grep -q "\"$2\""
      return
    fi
    sleep 0.3
  done
  return 1
}

redis_role() {
  case "$(redis-cli -h "$1" -p 6379 --raw ROLE 2>/dev/null | head -1)" in
    master) echo master ;;
    slave) echo replica ;;
    *) echo unknown ;;
  esac
}

# Sentinel learns a master's replicas from its INFO, every 10 s: until this
# member's sentinel knows every other live member (as replica and as
# sentinel), it could not fail over. `up` waits for it.
sentinel_ready() {
  local line slaves sentinels members
  members=$(for n in $(containers redis); do container_pid "$n" >/dev/null && echo "$n"; done | wc -l)
  line=$(redis-cli -h "$1" -p 26379 INFO sentinel 2>/dev/null | grep '^master0:')
  slaves=$(sed -n 's/.*slaves=\([0-9]*\).*/\1/p' <<<"$line")
  sentinels=$(sed -n 's/.*sentinels=\([0-9]*\).*/\1/p' <<<"$line")
  if [ -n "$slaves" ] && [ "$slaves" -ge $((members - 1)) ] && [ "$sentinels" -ge "$members" ]; then
    echo true
  else
    echo false
  fi
}

# One JSON object per container: tier, name, address, and the tier's fields.
container_json() {
  local name="$1" tier ip healthy=false alive=false pid=0 role
  tier=$(sed -n 's/^TIER=//p' "$STACK_DIR/$name/container.env")
  ip=$(sed -n 's/^IP=//p' "$STACK_DIR/$name/container.env")
  pid=$(container_pid "$name") && alive=true || pid=0
  case "$tier" in
    proxy)
      local serving=false
      $alive && healthy_in nginx "$ip" && healthy=true
      # Serving: an app answers through it over https, with the stack's CA.
      $healthy && [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" --max-time 2 "https://$ip:$HTTPS_PORT/" 2>/dev/null)" = 200 ] &&
        serving=true
      printf '{"name":"%s","address":"%s","http":"http://%s:%s","https":"https://%s:%s","healthy":%s,"serving":%s,"certificate":"%s","pid":%s}' \
        "$name" "$ip" "$ip" "$HTTP_PORT" "$ip" "$HTTPS_PORT" "$healthy" "$serving" "$(certificate_source "$name")" "$pid" ;;
    app)
      $alive && healthy_in app "$ip" && healthy=true
      printf '{"name":"%s","address":"%s","port":%s,"healthy":%s,"pid":%s}' "$name" "$ip" "$APP_PORT" "$healthy" "$pid" ;;
    redis)
      role=$(redis_role "$ip")
      if $alive; then
        case "$role" in
          master) healthy_in redis "$ip" && healthy=true ;;
          replica) healthy_in redis-replica "$ip" && healthy=true ;;
        esac
      fi
      printf '{"name":"%s","address":"%s","port":6379,"sentinel_port":26379,"role":"%s","healthy":%s,"sentinel_ready":%s,"sentinel_master":"%s","pid":%s}' \
        "$name" "$ip" "$role" "$healthy" "$(sentinel_ready "$ip")" \
        "$(redis-cli -h "$ip" -p 26379 --raw SENTINEL get-master-addr-by-name mymaster 2>/dev/null | head -1)" "$pid" ;;
    config)
      $alive && healthy_in stash "$ip" && healthy=true
      printf '{"name":"%s","address":"%s","port":%s,"url":"http://%s:%s","healthy":%s,"pid":%s}' \
        "$name" "$ip" "$STASH_PORT" "$ip" "$STASH_PORT" "$healthy" "$pid" ;;
    discovery)
      $alive && curl -s --max-time 1 "http://$ip:$ETCD_CLIENT_PORT/health" 2>/dev/null | grep -q '"health":"true"' &&
        healthy=true
      printf '{"name":"%s","kind":"etcd","address":"%s","port":%s,"url":"http://%s:%s","healthy":%s,"pid":%s}' \
        "$name" "$ip" "$ETCD_CLIENT_PORT" "$ip" "$ETCD_CLIENT_PORT" "$healthy" "$pid" ;;
    monitoring)
      local targets="" up=0 down=0
      if $alive && healthy_in prometheus "$ip"; then
        healthy=true
        targets=$(curl -s --max-time 2 "http://$ip:$PROMETHEUS_PORT/api/v1/targets?state=active" 2>/dev/null) || targets=""
        up=$( (grep -o '"health":"up"' <<<"$targets" || true) | wc -l)
        down=$( (grep -o '"health":"\(down\|unknown\)"' <<<"$targets" || true) | wc -l)
      fi
      printf '{"name":"%s","address":"%s","port":%s,"url":"http://%s:%s","healthy":%s,"targets_up":%s,"targets_down":%s,"pid":%s}' \
        "$name" "$ip" "$PROMETHEUS_PORT" "$ip" "$PROMETHEUS_PORT" "$healthy" "$up" "$down" "$pid" ;;
  esac
}

# Where a proxy's certificate came from, as its autopilot logged it when
# `files` wrote it: "stash /ssl/ssl.crt", "base64_env SSL_CERT_BASE64" or
# "keep" (the image's own).
certificate_source() {
  local log="$STACK_DIR/$1/autopilot.log"
  if grep -q 'files: .*ssl.crt: kept' "$log" 2>/dev/null; then
    echo keep
  else
    grep -o 'files: wrote [^ ]*ssl.crt .* from .*' "$log" 2>/dev/null | tail -1 | sed 's/.* from //'
  fi
}

status_json() {
  local tier first name
  local args="" a
  for a in "${CATALOG_ARGS[@]}"; do args+="${args:+,}\"$a\""; done
  printf '{"stack_dir":"%s","mode":"%s","catalog":"%s","catalog_args":[%s],"ca":"%s","telemetry_port":%s,' \
    "$STACK_DIR" "$MODE" "$([ "$MODE" = etcd ] && echo "$ETCD_ENDPOINTS" || echo "$CATALOG")" "$args" "$CA" "$TELEMETRY_PORT"
  printf '"paths":{"root":"/","static":"/static/app.css","websocket":"/ws","session":"/session","health":"/health"},'
  printf '"tiers":{'
  for tier in proxy app redis config monitoring; do
    printf '"%s":[' "$tier"
    first=1
    for name in $(containers "$tier"); do
      [ $first = 1 ] || printf ','
      first=0
      container_json "$name"
    done
    printf '],'
  done
  printf '"discovery":[%s]}}\n' "$(discovery_json)"
}

# The discovery tier: the embedded catalog's directory, or the etcd members
# (healthy: the member answers /health with a leader in the cluster).
discovery_json() {
  local healthy=false name first=1
  if [ "$MODE" != etcd ]; then
    [ -d "$CATALOG" ] && healthy=true
    printf '{"name":"catalog","kind":"embedded","path":"%s","healthy":%s}' "$CATALOG" "$healthy"
    return
  fi
  for name in $(containers discovery); do
    [ $first = 1 ] || printf ','
    first=0
    container_json "$name"
  done
}

status_text() {
  local name
  for name in $(containers); do
    container_json "$name" | sed 's/[{}"]//g; s/,/  /g'
    echo
  done
  echo "CA certificate: $CA"
}

# shellcheck source=stack/healthy.sh
. "$here/healthy.sh"  # all_healthy, wait_healthy (on status_json above)

# --- commands -----------------------------------------------------------------

cmd_up() {
  local tool i
  case "${1:-}" in
    "") ;;
    --etcd)
      MODE=etcd
      for i in 1 2 3; do ETCD_ENDPOINTS+="${ETCD_ENDPOINTS:+,}http://$NET.$((50 + i)):$ETCD_CLIENT_PORT"; done
      set_catalog_args
      command -v etcd >/dev/null || die "needs etcd (Debian's etcd-server; scripts/install-deps.sh)" ;;
    *) die "usage: run.sh up [--etcd]" ;;
  esac
  for tool in nginx redis-server redis-sentinel redis-cli prometheus openssl curl; do
    command -v "$tool" >/dev/null || die "needs $tool (scripts/install-deps.sh)"
  done
  [ -x "$AUTOPILOT_BIN" ] && [ -x "$DEMO_APP" ] || die "build first: $AUTOPILOT_BIN and $DEMO_APP"
  local name
  for name in $(containers); do
    container_pid "$name" >/dev/null && die "the stack in $STACK_DIR is already up (run.sh down first)"
  done
  if ss -Htln | grep -q " $NET\.[0-9]*:"; then
    die "something listens on $NET.x already (another stack? STACK_NET picks other addresses)"
  fi
  rm -rf "${STACK_DIR:?}"
  mkdir -p "$CATALOG"
  chmod 755 "$STACK_DIR"
  settings > "$STACK_DIR/stack.env"
  make_certificates
  local started
  started=$(date +%s%N)
  # Any order works; the catalog sorts it out. Proxies first, to show it
  # (on etcd they wait for the cluster as for any catalog outage).
  start_container proxy 1 "$NET.1"
  start_container proxy 2 "$NET.2"
  start_container app 1 "$NET.11"
  start_container app 2 "$NET.12"
  start_container redis 1 "$NET.21"
  start_container redis 2 "$NET.22"
  start_container redis 3 "$NET.23"
  start_container config 1 "$NET.31"
  start_container monitoring 1 "$NET.41"
  if [ "$MODE" = etcd ]; then
    for i in 1 2 3; do start_container discovery "$i" "$NET.$((50 + i))"; done
  fi
  if wait_healthy 60; then
    log "every tier healthy after $((($(date +%s%N) - started) / 1000000)) ms"
  else
    status_text >&2
    die "not every tier became healthy within 60 s (logs: $STACK_DIR/*/autopilot.log)"
  fi
}

# scale app=N | redis=N: crashed containers of the tier (run.sh kill) are
# cleared, then the highest-numbered ones stopped gracefully or the missing
# ones started (app-i on $NET.(10+i), redis-i on $NET.(20+i)); waits until
# every tier is healthy (Redis: every sentinel knows every member).
cmd_scale() {
  [[ "${1:-}" =~ ^(app|redis)=([0-9]+)$ ]] || die "usage: run.sh scale app=N | redis=N"
  local tier="${BASH_REMATCH[1]}" want="${BASH_REMATCH[2]}" have=() dead=() name i base=10 most=89 wait=30
  [ "$tier" = app ] || { base=20 most=9 wait=60; }
  for name in $(containers "$tier"); do
    container_pid "$name" >/dev/null || dead+=("$name")
  done
  [ ${#dead[@]} = 0 ] || stop_containers "${dead[@]}"
  mapfile -t have < <(containers "$tier")
  if [ "${#have[@]}" -gt "$want" ]; then
    stop_containers "${have[@]:$want}"
  fi
  [ "$want" -le $most ] || die "at most $most $tier instances"
  i=1
  while [ "$(containers "$tier" | wc -l)" -lt "$want" ] && [ $i -le $most ]; do
    [ -d "$STACK_DIR/$tier-$i" ] || start_container "$tier" "$i" "$NET.$((base + i))"
    i=$((i + 1))
  done
  wait_healthy $wait || die "the $tier tier did not become healthy within $wait s"
}

# start NAME...: containers whose directory is left (after `kill`, or an etcd
# member after `stop`) and which do not run, started again as they were
# (container.env: tier, index, address); waits (at most 30 s) until each is
# healthy. The members of an etcd cluster without quorum only become healthy
# together: start them in one command.
cmd_start() {
  local name tier index ip i ok
  [ $# -gt 0 ] || die "usage: run.sh start NAME..."
  for name in "$@"; do
    [ -f "$STACK_DIR/$name/container.env" ] || die "no container $name"
    container_pid "$name" >/dev/null && die "$name runs already"
  done
  for name in "$@"; do
    tier=$(sed -n 's/^TIER=//p' "$STACK_DIR/$name/container.env")
    index=$(sed -n 's/^INDEX=//p' "$STACK_DIR/$name/container.env")
    ip=$(sed -n 's/^IP=//p' "$STACK_DIR/$name/container.env")
    kill_container "$name"  # what a crash may have left (a double-forked process)
    start_container "$tier" "$index" "$ip"
  done
  for i in $(seq 1 150); do
    ok=1
    for name in "$@"; do
      grep -q '"healthy":true' <<<"$(container_json "$name")" || { ok=0; break; }
    done
    [ $ok = 1 ] && return 0
    sleep 0.2
  done
  die "not healthy within 30 s: $* (logs: $STACK_DIR/NAME/autopilot.log)"
}

cmd_down() {
  local pids
  # The app and proxy tiers first, so nothing writes to Redis while it goes.
  stop_containers $(containers proxy) $(containers app)
  stop_containers $(containers redis)
  stop_containers $(containers config) $(containers monitoring)
  stop_containers $(containers discovery)  # last: the others deregister from it
  pids=$(pids_under "$STACK_DIR")
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  rm -rf "${STACK_DIR:?}"
  if ss -Htln | grep -q " $NET\.[0-9]*:"; then
    log "still listening on $NET.x:"
    ss -Htln | grep " $NET\.[0-9]*:" >&2
    return 1
  fi
}

# The same tiers as podman containers: `up --containers`, then every command
# on a stack brought up so (its state dir says), in stack/containers/.
if { [ "${1:-}" = up ] && [[ " ${*:2} " == *" --containers "* ]]; } ||
   { [ "${1:-}" != up ] && [ -f "$STACK_DIR/containers.env" ]; }; then
  args=()
  for a in "$@"; do [ "$a" = --containers ] || args+=("$a"); done
  exec "$here/containers/containers.sh" "${args[@]}"
fi

case "${1:-}" in
  up) cmd_up "${2:-}" ;;
  status) if [ "${2:-}" = "--json" ]; then status_json; else status_text; fi ;;
  scale) cmd_scale "${2:-}" ;;
  stop|kill)
    [ $# -gt 1 ] || die "usage: run.sh $1 NAME..."
    for name in "${@:2}"; do [ -n "$name" ] && [ -d "$STACK_DIR/$name" ] || die "no container $name"; done
    if [ "$1" = stop ]; then KEEP_DATA=1 stop_containers "${@:2}"; else for name in "${@:2}"; do kill_container "$name"; done; fi ;;
  start) cmd_start "${@:2}" ;;
  down) cmd_down ;;
  *) sed -n '2,36s/^# \{0,1\}//p' "$0"; exit 2 ;;
esac
