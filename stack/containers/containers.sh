#!/usr/bin/env bash
# The reference stack as real containers (podman, runc, podman-compose, all
# Debian's), driven by stack/run.sh:
#
#   containers.sh up               build the tiers' images on the cached base
#                                  image, run stack/compose.yaml, wait until
#                                  every tier is healthy
#   containers.sh status [--json]  as run.sh status, for the containers
#   containers.sh stop|kill NAME   podman stop (graceful) / podman kill (-9) of
#                                  one service's container (proxy-1, redis-2...)
#   containers.sh down             remove the containers, the network, the
#                                  volume and the images' tags `up` made
#
# Everything is named after the compose project, STACK_PROJECT (default
# autopilot-stack): containers PROJECT_SERVICE_1, network PROJECT_default,
# volume PROJECT_catalog, images localhost/autopilot-stack-TIER:PROJECT, the
# base's tag for the builds localhost/PROJECT-base. The base image
# (stack/containers/base.sh) stays, cached. State (the project's
# names, the stack's CA, the build context) lives in STACK_DIR.
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
TIERS="proxy app redis"
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
# any load balancer: `tls_name` in the status).
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
  for tier in $TIERS; do cp -r "$stack/$tier" "$ctx/stack/$tier"; done
}

# The tiers' images, all three at once (mostly apt-get waiting on the
# network), FROM the base image tagged for this project: a build's working
# container is named after its base (PROJECT-base-working-container), so
# `down` finds what an interrupted build left. Interrupted, the builds are
# stopped and waited for.
build_images() {  # build_images BASE
  local tier pids=() failed=0 p
  podman tag "$1" "$BASE_TAG"
  trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait; exit 143' TERM INT
  for tier in $TIERS; do
    podman build --quiet --build-arg "BASE=$BASE_TAG" -t "$PREFIX-$tier:$PROJECT" -f "$stack/$tier/Dockerfile" \
      "$STACK_DIR/context" >"$STACK_DIR/build-$tier.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  trap - TERM INT
  if [ $failed = 1 ]; then
    for tier in $TIERS; do tail -5 "$STACK_DIR/build-$tier.log" >&2; done
    return 1
  fi
}

# --- status -------------------------------------------------------------------

healthy_in() {  # healthy_in SERVICE ADDRESS: is ADDRESS a healthy instance of SERVICE?
  [ -n "$CATALOG" ] && [ -n "$2" ] &&
    "$AUTOPILOT_BIN" catalog service "$1" --discovery-dir "$CATALOG" 2>/dev/null |
    grep -o '"address": *"[^"]*"' | grep -q "\"$2\""
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

# One JSON object per container: as run.sh's, with the container's name and
# state, and the name the proxies' certificate carries.
container_json() {  # container_json CONTAINER STATE ADDRESS REDIS_RUNNING
  local c="$1" state="$2" ip="${3:-}" name tier healthy=false running=false role
  name=$(service_of "$c")
  tier=${name%-*}
  [ "$state" = running ] && [ -n "$ip" ] && running=true
  case "$tier" in
    proxy)
      $running && healthy_in nginx "$ip" && healthy=true
      printf '{"name":"%s","container":"%s","state":"%s","address":"%s","http":"http://%s:80","https":"https://%s:443","tls_name":"proxy","healthy":%s}' \
        "$name" "$c" "$state" "$ip" "$ip" "$ip" "$healthy" ;;
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
  esac
}

status_json() {
  local tier first c state ip redis_running all names
  CATALOG=$(catalog_dir || true)
  mapfile -t names < <(project_containers)
  all=""
  if [ ${#names[@]} -gt 0 ]; then  # NAME STATE ADDRESS, one a line
    all=$(podman inspect --format "{{ .Name }} {{ .State.Status }} {{ with index .NetworkSettings.Networks \"$NETWORK\" }}{{ .IPAddress }}{{ end }}" \
      "${names[@]}" 2>/dev/null || true)
  fi
  redis_running=$(grep -c "^${PROJECT}_redis-[0-9]*_[0-9]* running" <<<"$all" || true)
  printf '{"mode":"containers","project":"%s","network":"%s","volume":"%s","stack_dir":"%s","catalog":"%s","ca":"%s",' \
    "$PROJECT" "$NETWORK" "$VOLUME" "$STACK_DIR" "$CATALOG" "$CA"
  printf '"paths":{"root":"/","static":"/static/app.css","websocket":"/ws","session":"/session","health":"/health"},'
  printf '"tiers":{'
  for tier in $TIERS; do
    printf '"%s":[' "$tier"
    first=1
    while read -r c state ip; do
      [ -n "$c" ] || continue
      [[ "$(service_of "$c")" == "$tier"-* ]] || continue
      [ $first = 1 ] || printf ','
      first=0
      container_json "$c" "$state" "$ip" "$redis_running"
    done <<<"$all"
    printf '],'
  done
  printf '"discovery":[],"config":[],"monitoring":[]}}\n'
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

all_healthy() {
  local json
  json=$(status_json)
  ! grep -q '"healthy":false' <<<"$json" && ! grep -q '"sentinel_ready":false' <<<"$json" &&
    grep -q '"healthy":true' <<<"$json"
}

# --- commands -----------------------------------------------------------------

compose() {  # podman-compose on this project, with the images and certificates in its environment
  STACK_IMAGE_PREFIX="$PREFIX" STACK_TAG="$PROJECT" \
    SSL_CERT_BASE64="$(base64 -w0 "$STACK_DIR/ca/server.crt" 2>/dev/null || true)" \
    SSL_KEY_BASE64="$(base64 -w0 "$STACK_DIR/ca/server.key" 2>/dev/null || true)" \
    podman-compose -p "$PROJECT" -f "$COMPOSE" "$@"
}

cmd_up() {
  local t0 t1 base i
  command -v podman >/dev/null && command -v podman-compose >/dev/null && command -v runc >/dev/null ||
    die "needs podman, podman-compose and runc (scripts/install-deps.sh)"
  [ -x "$AUTOPILOT_BIN" ] && [ -x "$DEMO_APP" ] || die "build first: $AUTOPILOT_BIN and $DEMO_APP"
  [ ! -f "$STATE" ] || die "a container stack is recorded in $STACK_DIR already (run.sh down first)"
  [ ! -e "$STACK_DIR/catalog" ] || die "a process stack runs in $STACK_DIR (run.sh down first)"
  load_state
  [ -z "$(project_containers)" ] || die "project $PROJECT has containers already (STACK_PROJECT picks another)"
  mkdir -p "$STACK_DIR"
  # Recorded first, so `down` removes whatever a failed `up` made.
  printf 'PROJECT=%s\nPREFIX=%s\n' "$PROJECT" "$PREFIX" > "$STATE"
  t0=$(date +%s%N)
  make_certificates
  base=$("$here/base.sh")
  stage_context
  build_images "$base" || die "an image build failed (logs: $STACK_DIR/build-*.log)"
  t1=$(date +%s%N)
  log "images built in $(((t1 - t0) / 1000000)) ms (base $base)"
  compose up -d >"$STACK_DIR/compose-up.log" 2>&1 || { tail -20 "$STACK_DIR/compose-up.log" >&2; die "podman-compose up failed"; }
  for i in $(seq 1 300); do
    all_healthy && break
    [ "$i" -lt 300 ] || { status_text >&2; die "not every tier became healthy within 60 s (run.sh logs NAME)"; }
    sleep 0.2
  done
  log "every tier healthy $(((($(date +%s%N) - t1)) / 1000000)) ms after podman-compose up ($(((($(date +%s%N) - t0)) / 1000000)) ms in all)"
}

container_of() {  # the container of service NAME
  local c
  c="${PROJECT}_$1_1"
  podman container exists "$c" || die "no container $1 in project $PROJECT"
  echo "$c"
}

cmd_down() {
  local c tier all front
  # Graceful first (autopilot deregisters and stops its jobs), proxies and
  # apps before Redis, then by name whatever is left.
  mapfile -t all < <(project_containers)
  mapfile -t front < <(printf '%s\n' "${all[@]}" | grep -E "_(proxy|app)-[0-9]+_" || true)
  if [ ${#all[@]} -gt 0 ]; then
    [ ${#front[@]} = 0 ] || podman stop -t 10 "${front[@]}" >/dev/null 2>&1 || true
    podman stop -t 10 "${all[@]}" >/dev/null 2>&1 || true
    podman rm -f "${all[@]}" >/dev/null 2>&1 || true
  fi
  ! podman pod exists "pod_$PROJECT" 2>/dev/null || podman pod rm -f "pod_$PROJECT" >/dev/null
  ! podman network exists "$NETWORK" 2>/dev/null || podman network rm -f "$NETWORK" >/dev/null
  ! podman volume exists "$VOLUME" 2>/dev/null || podman volume rm -f "$VOLUME" >/dev/null
  # Working containers of interrupted builds, then the tags (the base's own tag stays).
  podman ps -a --external --format '{{.ID}} {{.Names}}' | awk -v n="$PROJECT-base-working-container" \
    'index($2, n) == 1 { print $1 }' | xargs -r podman rm -f >/dev/null 2>&1 || true
  for tier in $TIERS; do
    ! podman image exists "$PREFIX-$tier:$PROJECT" || podman rmi -f "$PREFIX-$tier:$PROJECT" >/dev/null
  done
  ! podman image exists "$BASE_TAG" || podman untag "$BASE_TAG" "$BASE_TAG" >/dev/null
  rm -rf "${STACK_DIR:?}"
  # Nothing of the project left?
  c=$(project_containers)
  [ -z "$c" ] || die "containers left: $c"
}

case "${1:-}" in
  up) cmd_up ;;
  status) load_state; if [ "${2:-}" = "--json" ]; then status_json; else status_text; fi ;;
  stop) load_state; podman stop -t 10 "$(container_of "${2:-}")" >/dev/null ;;
  kill) load_state; podman kill "$(container_of "${2:-}")" >/dev/null ;;
  logs) load_state; podman logs "$(container_of "${2:-}")" ;;
  down) load_state; cmd_down ;;
  *) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 2 ;;
esac
