#!/usr/bin/env bash
# Regenerates scripts/layout/hot.ld, the link-time layout that gathers the code
# and data a running autopilot touches into one run of pages (docs/design.md,
# "Memory layout"). A developer's tool, run after changes that move or rename a
# lot of code (ctest's hot_layout fails when too few of the layout's names are
# left in the binary); the build only reads its output. Traced on the default
# build (RelWithDebInfo), which Release compiles alike.
#   bash scripts/layout/profile.sh          (BUILD=build-x for another build dir)
# Needs valgrind, perf (with the exceptions:page_fault_user tracepoint), python3;
# etcd-server for the etcd scenario (skipped without it). About 4 minutes.
# Run it on a quiet machine and compare VmRSS (bench/supervisor.sh) before
# committing: the traces follow timing, and one taken while a build ran
# gave a worse layout (one sleep job 1.38 MB instead of 1.24 MB).
#
# Scenarios, in this order (each adds what the ones before did not touch):
#   core       one `sleep` job, then SIGTERM
#   periodic   + a pre-start job, 10 periodic jobs, a `stopping` job, SIGHUP
#   discovery  embedded catalog: a registered job with an http check, watches,
#              a template rendered from the catalog
#   etcd       the same on a one-member etcd
#   telemetry  one `sleep` job with a control socket and a telemetry block (one
#              gauge), /metrics and /status scraped, a -putmetric: the pages a
#              monitored autopilot keeps (last, so the others' order stands)
# Each runs twice: under valgrind's lackey (every access, but valgrind's CPU
# and no vDSO) and under perf's page-fault tracepoint (the real run). Then the
# binary is linked with the new layout and traced again with perf, to add what
# the real run still touches outside it, until that adds nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
build="${BUILD:-build}"
[[ $build = /* ]] || build="$root/$build"
bin="$build/src/autopilot"
map="$build/src/autopilot.map"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

for tool in valgrind perf python3; do
  command -v "$tool" >/dev/null || { echo "profile.sh: $tool is needed" >&2; exit 1; }
done
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- the scenarios' configs ---------------------------------------------------
cat >"$tmp/core.json5" <<JSON
{ jobs: [ { name: "app", exec: "sleep 1000" } ] }
JSON
{
  echo '{ mainJob: "app", jobs: [ { name: "app", exec: "sleep 1000", when: { source: "setup", once: "exitSuccess" } },'
  echo '  { name: "setup", exec: ["sh", "-c", "echo ready"] },'
  echo '  { name: "bye", exec: "true", when: { source: "app", once: "stopping" } },'
  for i in $(seq 1 10); do echo "  { name: \"p$i\", exec: \"true\", when: { interval: \"200ms\" } },"; done
  echo '] }'
} >"$tmp/periodic.json5"
http_port="$(free_port)"
mkdir -p "$tmp/www"
echo ok >"$tmp/www/index.html"
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$http_port" >/dev/null 2>&1 &
pids+=($!)
cp bench/nginx_upstreams.tmpl "$tmp/upstreams.tmpl"
catalog_config() {  # the discovery block
  cat <<JSON
{ discovery: $1,
  jobs: [ { name: "app", exec: "sleep 3600", port: $http_port, interfaces: ["static:127.0.0.1"], tags: ["web"],
            health: { http: "http://127.0.0.1:$http_port/", interval: 1, ttl: 3 } },
          { name: "on-change", exec: "true", when: { source: "watch.app", each: "changed" } } ],
  watches: [ { name: "app", interval: 5 }, { name: "db", interval: 5 } ],
  templates: [ { source: "$tmp/upstreams.ctmpl", destination: "$tmp/out/upstreams.conf", create_dest_dirs: true } ] }
JSON
}
cat >"$tmp/upstreams.ctmpl" <<'TMPL'
upstream app {
{{- range service "app" }}
    server {{ .Address }}:{{ .Port }}; # {{ .ID }}{{ range .Tags }} {{ . }}{{ end }}
{{- else }}
    server 127.0.0.1:65535 down;
{{- end }}
}
TMPL
catalog_config "{ embedded: { dir: \"$tmp/catalog\" } }" >"$tmp/discovery.json5"
scenarios=(core periodic discovery)
telemetry_port="$(free_port)"
cat >"$tmp/telemetry.json5" <<JSON
{ jobs: [ { name: "app", exec: "sleep 1000" } ],
  control: { socket: "$tmp/control.sock" },
  telemetry: { port: $telemetry_port, interfaces: ["static:127.0.0.1"],
               metrics: [ { namespace: "app", name: "queue_depth", help: "queued", type: "gauge" } ] } }
JSON
if command -v etcd >/dev/null && [ -x "$build/bench/etcd_cluster" ]; then
  "$build/bench/etcd_cluster" --members 1 --max-seconds 900 >"$tmp/etcd.out" 2>"$tmp/etcd.err" &
  pids+=($!)
  for _ in $(seq 1 300); do grep -q '^URLS=' "$tmp/etcd.out" && break; sleep 0.1; done
  urls="$(sed -n 's/^URLS=\([^ ]*\).*/\1/p' "$tmp/etcd.out")"
  [ -n "$urls" ] || { echo "profile.sh: etcd did not start:" >&2; cat "$tmp/etcd.err" >&2; exit 1; }
  catalog_config "{ etcd: { endpoints: \"$urls\" } }" >"$tmp/etcd.json5"
  scenarios+=(etcd)
else
  echo "profile.sh: no etcd: the etcd scenario is skipped" >&2
fi
scenarios+=(telemetry)

# run SCENARIO TRACE-FILE WRAPPER...: the binary under WRAPPER for a few
# seconds (SIGHUP half-way for `periodic`), then SIGTERM and wait.
run() {
  local name=$1 out=$2; shift 2
  local secs=2
  case $name in discovery | etcd | telemetry) secs=4 ;; esac
  "$@" "$bin" -config "$tmp/$name.json5" >"$out.log" 2>&1 &
  local pid=$! target
  target=$pid
  if [ "$1" = perf ]; then  # signal autopilot, not perf
    for _ in $(seq 1 100); do target="$(pgrep -P "$pid" | head -1)" && [ -n "$target" ] && break; sleep 0.05; done
  fi
  for _ in $(seq 1 200); do grep -q ' started (pid ' "$out.log" && break; sleep 0.05; done
  grep -q ' started (pid ' "$out.log" || { echo "profile.sh: $name did not start:" >&2; cat "$out.log" >&2; exit 1; }
  sleep "$((secs / 2))"
  [ "$name" = periodic ] && kill -HUP "$target"
  [ "$name" = telemetry ] && scrape
  sleep "$((secs - secs / 2))"
  kill -TERM "$target"
  wait "$pid" || true
  if [ "$1" = perf ]; then perf script -i "$out.data" >"$out" 2>/dev/null; fi
}
# scrape: what Prometheus and an operator do to a monitored autopilot.
scrape() {
  "$bin" -putmetric app_queue_depth=3 -config "$tmp/telemetry.json5" >/dev/null
  local path
  for path in metrics status; do
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=30).read()' \
      "http://127.0.0.1:$telemetry_port/$path"
  done
}
lackey() { exec valgrind --tool=lackey --trace-mem=yes --log-file="$1" "${@:2}"; }

ninja -C "$build" autopilot >/dev/null
cp "$map" "$tmp/pass1.map"
for s in "${scenarios[@]}"; do
  echo "profile.sh: $s" >&2
  run "$s" "$tmp/$s.lackey" lackey "$tmp/$s.lackey"
  run "$s" "$tmp/$s.perf1" perf record -q -e exceptions:page_fault_user -o "$tmp/$s.perf1.data" --
done
args() {  # the traces so far, one argument per scenario
  local s pass spec
  for s in "${scenarios[@]}"; do
    spec="$s=$tmp/pass1.map:$tmp/$s.lackey,$tmp/pass1.map:$tmp/$s.perf1"
    for pass in "$@"; do spec+=",$tmp/$pass.map:$tmp/$s.$pass"; done
    echo "$spec"
  done
}
mapfile -t specs < <(args)
python3 scripts/layout/hot_sections.py --out scripts/layout/hot.ld "${specs[@]}"

# The real run only shows the first touch of each 64 kB window, so what hides
# behind a touch already seen shows up once that one has moved: link, trace
# again, until a pass adds nothing (at most 4).
passes=()
for pass in perf2 perf3 perf4 perf5; do
  ninja -C "$build" autopilot >/dev/null
  cp "$map" "$tmp/$pass.map"
  for s in "${scenarios[@]}"; do
    run "$s" "$tmp/$s.$pass" perf record -q -e exceptions:page_fault_user -o "$tmp/$s.$pass.data" --
  done
  passes+=("$pass")
  cp scripts/layout/hot.ld "$tmp/before.ld"
  mapfile -t specs < <(args "${passes[@]}")
  python3 scripts/layout/hot_sections.py --out scripts/layout/hot.ld "${specs[@]}"
  if cmp -s scripts/layout/hot.ld "$tmp/before.ld"; then break; fi
done
ninja -C "$build" autopilot >/dev/null
echo "profile.sh: wrote scripts/layout/hot.ld after ${#passes[@]} traced link(s)" >&2
