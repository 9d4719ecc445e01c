#!/usr/bin/env bash
# The reference stack as real containers (podman, runc, podman-compose, all
# Debian's), driven by stack/run.sh:
#
#   containers.sh up [--etcd]      build the tiers' images on the cached base
#                                  image, run stack/compose.yaml, wait until
#                                  every tier is healthy; --etcd: the
#                                  discovery tier (etcd x3) as the catalog
#                                  instead of the shared volume
#   containers.sh status [--json]  as run.sh status, for the containers
#   containers.sh scale app=N      start (app-3...) or gracefully stop (the
#                                  highest-numbered first) app containers
#   containers.sh stop|kill NAME   podman stop (graceful) / podman kill (-9) of
#                                  one service's container (proxy-1, redis-2...)
#   containers.sh down [--keep-images]
#                                  remove the containers, the network, the
#                                  volume and the images' tags `up` made
#                                  (--keep-images: not the tags, so that the
#                                  next `up` of the project builds from cache)
#
# Everything is named after the compose project, STACK_PROJECT (default
# autopilot-stack): containers PROJECT_SERVICE_1, network PROJECT_default,
# volume PROJECT_catalog, images localhost/autopilot-stack-TIER:PROJECT, the
# base's tag for the builds localhost/PROJECT-base. The base image
# (stack/containers/base.sh) stays, cached. State (the project's
# names, the mode, the stack's CA and stash token, the build context) lives
# in STACK_DIR.
#
# Environment: STACK_DIR (default /tmp/autopilot-stack), STACK_PROJECT,
# AUTOPILOT_BIN, DEMO_APP (default from ../build), CONTAINERS_CONF (default
# stack/containers/containers.conf: runc and explicit ulimits).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stack="$(dirname "$here")"
build="${AUTOPILOT_BUILD:-$stack/../build}"
AUTOPILOT_BIN="${AUTOPILOT_BIN:-$build/src/autopilot}"
DEMO_APP="${DEMO_APP:-$build/stack/app/autopilot-demo-app}"
STACK_DIR="${STACK_DIR:-/tmp/autopilot-stack}"
STATE="$STACK_DIR/containers.env"
COMPOSE="$stack/compose.yaml"
# The tiers with an image; discovery (etcd) only with --etcd.
TIERS="proxy app redis config monitoring"
ALL_TIERS="$TIERS discovery"
ETCD_ENDPOINTS_IN=http://discovery-1:2379,http://discovery-2:2379,http://discovery-3:2379  # as compose.yaml's
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"

die() { echo "containers.sh: $*" >&2; exit 1; }
log() { echo "containers.sh: $*" >&2; }

# The names of the stack in STACK_DIR (from its state file), else of a new one.
load_state() {
  if [ -f "$STATE" ]; then
    # shellcheck disable=SC1090
    . "$STATE"
  else
    PROJECT="${STACK_PROJECT:-autopilot-stack}"
    PREFIX=localhost/autopilot-stack
  fi
  MODE="${MODE:-embedded}"
  [[ "$PROJECT" =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "bad project name '$PROJECT' (lower case, digits, - and _)"
  CA="$STACK_DIR/ca/ca.crt"
  NETWORK="${PROJECT}_default"
  VOLUME="${PROJECT}_catalog"
  BASE_TAG="localhost/$PROJECT-base:latest"
}

project_containers() {  # the project's container names, sorted
  podman ps -a --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}}' | sort
}

service_of() { local c="${1#"${PROJECT}"_}"; echo "${c%_*}"; }  # PROJECT_proxy-1_1 -> proxy-1

catalog_dir() { podman volume inspect --format '{{ .Mountpoint }}' "$VOLUME" 2>/dev/null; }

# --- certificates -------------------------------------------------------------

# A throwaway CA and a server certificate for the proxies' names (container
# addresses are known only once they run; clients name the proxy, as behind
# any load balancer: `tls_name` in the status), which the config tier
# serves, and the bearer token the stash wants.
make_certificates() {
  local d="$STACK_DIR/ca"
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=autopilot stack CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=proxy" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
    "DNS:proxy,DNS:proxy-1,DNS:proxy-2,DNS:localhost,IP:127.0.0.1" > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
  (umask 077 && openssl rand -hex 16 > "$d/stash.token")
}

# --- images -------------------------------------------------------------------

# The build context: the binaries (without debug info: the image needs no
# 250 MB of DWARF) and the tiers' directories.
stage_context() {
  local ctx="$STACK_DIR/context" tier
  rm -rf "$ctx"
  mkdir -p "$ctx/bin" "$ctx/stack"
  strip --strip-debug -o "$ctx/bin/autopilot" "$AUTOPILOT_BIN"
  strip --strip-debug -o "$ctx/bin/autopilot-demo-app" "$DEMO_APP"
  for tier in $(image_tiers); do cp -r "$stack/$tier" "$ctx/stack/$tier"; done
}

image_tiers() { if [ "$MODE" = etcd ]; then echo "$ALL_TIERS"; else echo "$TIERS"; fi; }

# The tiers' images, all at once (mostly apt-get waiting on the
# network), FROM the base image tagged for this project: a build's working
# container is named after its base (PROJECT-base-working-container), so
# `down` finds what an interrupted build left. Interrupted, the builds are
# stopped and waited for.
build_images() {  # build_images BASE
  local tier pids=() failed=0 p
  podman tag "$1" "$BASE_TAG"
  trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait; exit 143' TERM INT
  for tier in $(image_tiers); do
    podman build --quiet --build-arg "BASE=$BASE_TAG" -t "$PREFIX-$tier:$PROJECT" -f "$stack/$tier/Dockerfile" \
      "$STACK_DIR/context" >"$STACK_DIR/build-$tier.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  trap - TERM INT
  if [ $failed = 1 ]; then
    for tier in $(image_tiers); do tail -5 "$STACK_DIR/build-$tier.log" >&2; done
    return 1
  fi
}

# --- status -------------------------------------------------------------------

# healthy_in SERVICE ADDRESS: is ADDRESS a healthy instance of SERVICE? On
# etcd a read that fails (a leader election answers "no leader" for about a
# second) is asked again, at most 3 s: it says nothing about the instance.
healthy_in() {
  local out i
  [ ${#CATALOG_ARGS[@]} -gt 0 ] && [ -n "$2" ] || return 1
  for i in 1 2 3 4 5 6 7 8 9 10; do
    if out=$("$AUTOPILOT_BIN" catalog service "$1" "${CATALOG_ARGS[@]}" 2>/dev/null); then
      grep -o '"address": *"[^"]*"' <<<"$out" | grep -q "\"$2\""
      return
    fi
    [ "$MODE" = etcd ] || return 1
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

# As run.sh's: until this member's sentinel knows every other running member
# (as replica and as sentinel), it could not fail over. `up` waits for it.
sentinel_ready() {  # sentinel_ready ADDRESS RUNNING_MEMBERS
  local line slaves sentinels
  line=$(redis-cli -h "$1" -p 26379 INFO sentinel 2>/dev/null | grep '^master0:')
  slaves=$(sed -n 's/.*slaves=\([0-9]*\).*/\1/p' <<<"$line")
  sentinels=$(sed -n 's/.*sentinels=\([0-9]*\).*/\1/p' <<<"$line")
  if [ -n "$slaves" ] && [ "$slaves" -ge $(($2 - 1)) ] && [ "$sentinels" -ge "$2" ]; then
    echo true
  else
    echo false
  fi
}

# Where a proxy's certificate came from, as its autopilot logged it when
# `files` wrote it: "stash /ssl/ssl.crt", "base64_env SSL_CERT_BASE64" or
# "keep" (the image's own), as run.sh's.
certificate_source() {  # certificate_source CONTAINER
  local log
  log=$(podman logs "$1" 2>&1 | grep 'files: .*ssl.crt' || true)
  if grep -q 'files: .*ssl.crt: kept' <<<"$log"; then
    echo keep
  else
    grep -o 'files: wrote [^ ]*ssl.crt .* from .*' <<<"$log" | tail -1 | sed 's/.* from //'
  fi
}

# One JSON object per container: as run.sh's, with the container's name and
# state, and the name the proxies' certificate carries.
container_json() {  # container_json CONTAINER STATE ADDRESS REDIS_RUNNING
  local c="$1" state="$2" ip="${3:-}" name tier healthy=false running=false role
  name=$(service_of "$c")
  tier=${name%-*}
  [ "$state" = running ] && [ -n "$ip" ] && running=true
  case "$tier" in
    proxy)
      local serving=false tls=(--cacert "$CA")
      [ "${OWN_CERT:-0}" = 0 ] || tls=(--insecure)
      $running && healthy_in nginx "$ip" && healthy=true
      # Serving: an app answers through it over https, with the stack's CA
      # (so the certificate is the stack's, from the stash), or with the
      # caller's certificate (SSL_CERT_BASE64 given to `up`) unverified.
      $healthy && [ "$(curl -s -o /dev/null -w '%{http_code}' "${tls[@]}" --resolve "proxy:443:$ip" --max-time 2 \
        https://proxy/ 2>/dev/null)" = 200 ] && serving=true
      printf '{"name":"%s","container":"%s","state":"%s","address":"%s","http":"http://%s:80","https":"https://%s:443","tls_name":"proxy","healthy":%s,"serving":%s,"certificate":"%s"}' \
        "$name" "$c" "$state" "$ip" "$ip" "$ip" "$healthy" "$serving" "$($healthy && certificate_source "$c")" ;;
    app)
      $running && healthy_in app "$ip" && healthy=true
      printf '{"name":"%s","container":"%s","state":"%s","address":"%s","port":8000,"healthy":%s}' \
        "$name" "$c" "$state" "$ip" "$healthy" ;;
    redis)
      role=unknown
      if $running; then
        role=$(redis_role "$ip")
        case "$role" in
          master) healthy_in redis "$ip" && healthy=true ;;
          replica) healthy_in redis-replica "$ip" && healthy=true ;;
        esac
      fi
      printf '{"name":"%s","container":"%s","state":"%s","address":"%s","port":6379,"sentinel_port":26379,"role":"%s","healthy":%s,"sentinel_ready":%s,"sentinel_master":"%s"}' \
        "$name" "$c" "$state" "$ip" "$role" "$healthy" "$($running && sentinel_ready "$ip" "$4" || echo false)" \
        "$($running && redis-cli -h "$ip" -p 26379 --raw SENTINEL get-master-addr-by-name mymaster 2>/dev/null | head -1)" ;;
    config)
      $running && healthy_in stash "$ip" && healthy=true
      printf '{"name":"%s","container":"%s","state":"%s","address":"%s","port":8080,"url":"http://%s:8080","healthy":%s}' \
        "$name" "$c" "$state" "$ip" "$ip" "$healthy" ;;
    monitoring)
      local targets="" up=0 down=0
      if $running && healthy_in prometheus "$ip"; then
        healthy=true
        targets=$(curl -s --max-time 2 "http://$ip:9091/api/v1/targets?state=active" 2>/dev/null) || targets=""
        up=$( (grep -o '"health":"up"' <<<"$targets" || true) | wc -l)
        down=$( (grep -o '"health":"\(down\|unknown\)"' <<<"$targets" || true) | wc -l)
      fi
      printf '{"name":"%s","container":"%s","state":"%s","address":"%s","port":9091,"url":"http://%s:9091","healthy":%s,"targets_up":%s,"targets_down":%s}' \
        "$name" "$c" "$state" "$ip" "$ip" "$healthy" "$up" "$down" ;;
    discovery)  # healthy: the member answers /health with a leader in the cluster
      $running && curl -s --max-time 1 "http://$ip:2379/health" 2>/dev/null | grep -q '"health":"true"' && healthy=true
      printf '{"name":"%s","container":"%s","state":"%s","kind":"etcd","address":"%s","port":2379,"url":"http://%s:2379","healthy":%s}' \
        "$name" "$c" "$state" "$ip" "$ip" "$healthy" ;;
  esac
}

# The project's containers, one a line: NAME STATE ADDRESS (on its network).
inspect_all() {
  local names
  mapfile -t names < <(project_containers)
  [ ${#names[@]} -gt 0 ] || return 0
  podman inspect --format "{{ .Name }} {{ .State.Status }} {{ with index .NetworkSettings.Networks \"$NETWORK\" }}{{ .IPAddress }}{{ end }}" \
    "${names[@]}" 2>/dev/null || true
}

# What `autopilot catalog` needs to read this stack's catalog from here: the
# volume's directory, or the running etcd members' addresses (their names
# resolve only on the containers' network).
set_catalog_args() {  # set_catalog_args INSPECT_ALL_OUTPUT
  local endpoints
  CATALOG_ARGS=()
  if [ "$MODE" = etcd ]; then
    endpoints=$(awk -v p="${PROJECT}_discovery-" 'index($1, p) == 1 && $2 == "running" && $3 != "" { print "http://" $3 ":2379" }' <<<"$1" |
      paste -sd, -)
    CATALOG="$endpoints"
    [ -z "$endpoints" ] || CATALOG_ARGS=(--etcd "$endpoints")
  else
    CATALOG=$(catalog_dir || true)
    [ -z "$CATALOG" ] || CATALOG_ARGS=(--discovery-dir "$CATALOG")
  fi
}

status_json() {
  local tier first c state ip redis_running all args="" a
  all=$(inspect_all)
  set_catalog_args "$all"
  for a in "${CATALOG_ARGS[@]}"; do args+="${args:+,}\"$a\""; done
  redis_running=$(grep -c "^${PROJECT}_redis-[0-9]*_[0-9]* running" <<<"$all" || true)
  printf '{"mode":"containers","catalog_kind":"%s","project":"%s","network":"%s","volume":"%s","stack_dir":"%s","catalog":"%s","catalog_args":[%s],"ca":"%s",' \
    "$MODE" "$PROJECT" "$NETWORK" "$VOLUME" "$STACK_DIR" "$CATALOG" "$args" "$CA"
  printf '"paths":{"root":"/","static":"/static/app.css","websocket":"/ws","session":"/session","health":"/health"},'
  printf '"tiers":{'
  for tier in $ALL_TIERS; do
    printf '%s"%s":[' "$([ "$tier" = proxy ] || echo ,)" "$tier"
    first=1
    if [ "$tier" = discovery ] && [ "$MODE" != etcd ]; then  # the embedded catalog: the volume's directory
      printf '{"name":"catalog","kind":"embedded","volume":"%s","path":"%s","healthy":%s}' \
        "$VOLUME" "$CATALOG" "$([ -n "$CATALOG" ] && [ -d "$CATALOG" ] && echo true || echo false)"
    fi
    while read -r c state ip; do
      [ -n "$c" ] || continue
      [[ "$(service_of "$c")" == "$tier"-* ]] || continue
      [ $first = 1 ] || printf ','
      first=0
      container_json "$c" "$state" "$ip" "$redis_running"
    done < <(sort -V <<<"$all")
    printf ']'
  done
  printf '}}\n'
}

status_text() {
  local json
  json=$(status_json)
  python3 -c '
import json, sys
s = json.loads(sys.argv[1])
for tier, items in s["tiers"].items():
    for i in items:
        print("  ".join(f"{k}:{v}" for k, v in i.items()))
print("CA certificate:", s["ca"], "(the proxies are named", "\"proxy\")")' "$json"
}

# shellcheck source=stack/healthy.sh
. "$stack/healthy.sh"  # all_healthy, wait_healthy (on status_json above)

# --- commands -----------------------------------------------------------------

# podman-compose on this project, with the images, what the stash serves, its
# token and (--etcd) the discovery tier's endpoints in its environment. The
# proxies' SSL_CERT_BASE64 / SSL_KEY_BASE64 are the caller's, if set: they
# win over the stash (the proxies' `files` order).
compose() {
  STACK_IMAGE_PREFIX="$PREFIX" STACK_TAG="$PROJECT" \
    STASH_CERT_BASE64="$(base64 -w0 "$STACK_DIR/ca/server.crt" 2>/dev/null || true)" \
    STASH_KEY_BASE64="$(base64 -w0 "$STACK_DIR/ca/server.key" 2>/dev/null || true)" \
    STASH_TOKEN="$(cat "$STACK_DIR/ca/stash.token" 2>/dev/null || true)" \
    ETCD_ENDPOINTS="$([ "$MODE" != etcd ] || echo "$ETCD_ENDPOINTS_IN")" \
    podman-compose -p "$PROJECT" -f "$COMPOSE" "$@"
}

cmd_up() {
  local t0 t1 base i services
  case "${1:-}" in
    "") MODE=embedded ;;
    --etcd) MODE=etcd ;;
    *) die "usage: run.sh up --containers [--etcd]" ;;
  esac
  command -v podman >/dev/null && command -v podman-compose >/dev/null && command -v runc >/dev/null ||
    die "needs podman, podman-compose and runc (scripts/install-deps.sh)"
  [ -x "$AUTOPILOT_BIN" ] && [ -x "$DEMO_APP" ] || die "build first: $AUTOPILOT_BIN and $DEMO_APP"
  # --etcd: the members and their clients find each other by name, which
  # podman's CNI networks resolve only with the dnsname plugin.
  [ "$MODE" != etcd ] || [ "$(podman info --format '{{.Host.NetworkBackend}}')" != cni ] || [ -x /usr/lib/cni/dnsname ] ||
    die "--etcd needs names resolved between containers: golang-github-containernetworking-plugin-dnsname (scripts/install-deps.sh)"
  [ ! -f "$STATE" ] || die "a container stack is recorded in $STACK_DIR already (run.sh down first)"
  [ ! -e "$STACK_DIR/catalog" ] || die "a process stack runs in $STACK_DIR (run.sh down first)"
  local mode="$MODE"
  load_state
  MODE="$mode"
  [ -z "$(project_containers)" ] || die "project $PROJECT has containers already (STACK_PROJECT picks another)"
  mkdir -p "$STACK_DIR"
  # Recorded first, so `down` removes whatever a failed `up` made.
  OWN_CERT=0
  [ -z "${SSL_CERT_BASE64:-}" ] || OWN_CERT=1
  printf 'PROJECT=%s\nPREFIX=%s\nMODE=%s\nOWN_CERT=%s\n' "$PROJECT" "$PREFIX" "$MODE" "$OWN_CERT" > "$STATE"
  t0=$(date +%s%N)
  make_certificates
  base=$("$here/base.sh")
  stage_context
  build_images "$base" || die "an image build failed (logs: $STACK_DIR/build-*.log)"
  t1=$(date +%s%N)
  log "images built in $(((t1 - t0) / 1000000)) ms (base $base)"
  # compose.yaml's services (started in the file's order); the etcd members
  # only with --etcd.
  services="proxy-1 proxy-2 app-1 app-2 redis-1 redis-2 redis-3 config-1 monitoring-1"
  [ "$MODE" != etcd ] || services="discovery-1 discovery-2 discovery-3 $services"
  # shellcheck disable=SC2086
  compose up -d $services >"$STACK_DIR/compose-up.log" 2>&1 ||
    { tail -20 "$STACK_DIR/compose-up.log" >&2; die "podman-compose up failed"; }
  if ! wait_healthy 90; then
    status_text >&2
    die "not every tier became healthy within 90 s (run.sh logs NAME)"
  fi
  log "every tier healthy $(((($(date +%s%N) - t1)) / 1000000)) ms after podman-compose up ($(((($(date +%s%N) - t0)) / 1000000)) ms in all)"
}

container_of() {  # the container of service NAME
  local c
  c="${PROJECT}_$1_1"
  podman container exists "$c" || die "no container $1 in project $PROJECT"
  echo "$c"
}

# An app container more: app-I, from the app image, on the project's network
# (reachable as app-I) with its catalog, labelled as the project's so that
# status and down see it, as podman-compose names and labels its own.
run_app() {  # run_app I
  local name="app-$1"
  podman run -d --name "${PROJECT}_${name}_1" --hostname "$name" --network "$NETWORK" --network-alias "$name" \
    --label "io.podman.compose.project=$PROJECT" --label "com.docker.compose.project=$PROJECT" \
    --label "io.podman.compose.service=$name" --label "com.docker.compose.service=$name" \
    -v "$VOLUME:/var/lib/autopilot/catalog" -e "ETCD_ENDPOINTS=$([ "$MODE" != etcd ] || echo "$ETCD_ENDPOINTS_IN")" \
    --stop-timeout 10 "$PREFIX-app:$PROJECT" >/dev/null
}

# scale app=N: app containers that are not running (killed, exited) are
# removed, then the highest-numbered ones stopped gracefully (podman stop:
# autopilot deregisters, the app drains) or the missing ones started from
# the lowest free number; waits until every tier is healthy.
cmd_scale() {
  [[ "${1:-}" =~ ^app=([0-9]+)$ ]] || die "usage: run.sh scale app=N (in container mode the app tier scales)"
  local want="${BASH_REMATCH[1]}" have=() dead=() i
  [ "$want" -le 20 ] || die "at most 20 app containers"
  mapfile -t dead < <(inspect_all | awk -v p="${PROJECT}_app-" 'index($1, p) == 1 && $2 != "running" { print $1 }')
  [ ${#dead[@]} = 0 ] || podman rm -f "${dead[@]}" >/dev/null
  mapfile -t have < <(project_containers | grep "^${PROJECT}_app-[0-9]*_1$" | sort -V)
  if [ "${#have[@]}" -gt "$want" ]; then
    podman stop -t 10 "${have[@]:$want}" >/dev/null
    podman rm -f "${have[@]:$want}" >/dev/null
  fi
  i=1
  while [ "$(project_containers | grep -c "^${PROJECT}_app-[0-9]*_1$")" -lt "$want" ]; do
    podman container exists "${PROJECT}_app-${i}_1" || run_app "$i"
    i=$((i + 1))
  done
  wait_healthy 30 || die "the app tier did not become healthy within 30 s"
}

cmd_down() {  # cmd_down [--keep-images]
  local c tier all front back
  # Graceful first (autopilot deregisters and stops its jobs): proxies and
  # apps, then Redis, config and monitoring, the etcd members last (the
  # others deregister from them); then by name whatever is left.
  mapfile -t all < <(project_containers)
  mapfile -t front < <(printf '%s\n' "${all[@]}" | grep -E "_(proxy|app)-[0-9]+_" || true)
  mapfile -t back < <(printf '%s\n' "${all[@]}" | grep -E "_(redis|config|monitoring)-[0-9]+_" || true)
  if [ ${#all[@]} -gt 0 ]; then
    [ ${#front[@]} = 0 ] || podman stop -t 10 "${front[@]}" >/dev/null 2>&1 || true
    [ ${#back[@]} = 0 ] || podman stop -t 10 "${back[@]}" >/dev/null 2>&1 || true
    podman stop -t 10 "${all[@]}" >/dev/null 2>&1 || true
    podman rm -f "${all[@]}" >/dev/null 2>&1 || true
  fi
  ! podman pod exists "pod_$PROJECT" 2>/dev/null || podman pod rm -f "pod_$PROJECT" >/dev/null
  ! podman network exists "$NETWORK" 2>/dev/null || podman network rm -f "$NETWORK" >/dev/null
  ! podman volume exists "$VOLUME" 2>/dev/null || podman volume rm -f "$VOLUME" >/dev/null
  # Working containers of interrupted builds, then the tags (the base's own tag stays).
  podman ps -a --external --format '{{.ID}} {{.Names}}' | awk -v n="$PROJECT-base-working-container" \
    'index($2, n) == 1 { print $1 }' | xargs -r podman rm -f >/dev/null 2>&1 || true
  if [ "${1:-}" != --keep-images ]; then
    for tier in $ALL_TIERS; do
      ! podman image exists "$PREFIX-$tier:$PROJECT" || podman rmi -f "$PREFIX-$tier:$PROJECT" >/dev/null
    done
    ! podman image exists "$BASE_TAG" || podman untag "$BASE_TAG" "$BASE_TAG" >/dev/null
  fi
  rm -rf "${STACK_DIR:?}"
  # Nothing of the project left?
  c=$(project_containers)
  [ -z "$c" ] || die "containers left: $c"
}

case "${1:-}" in
  up) cmd_up "${2:-}" ;;
  status) load_state; if [ "${2:-}" = "--json" ]; then status_json; else status_text; fi ;;
  scale) load_state; cmd_scale "${2:-}" ;;
  stop) load_state; podman stop -t 10 "$(container_of "${2:-}")" >/dev/null ;;
  kill) load_state; podman kill "$(container_of "${2:-}")" >/dev/null ;;
  logs) load_state; podman logs "$(container_of "${2:-}")" ;;
  down) load_state; cmd_down "${2:-}" ;;
  *) sed -n '2,31s/^# \{0,1\}//p' "$0"; exit 2 ;;
esac
