#!/usr/bin/env bash
# The cost of the telemetry endpoint: one scrape of /metrics with 10 jobs
# (3 registered), 3 watches, 2 templates and 100 user metrics (25 of each
# type, all with samples), and the memory and idle CPU of the same autopilot
# with the telemetry block against without it, both running at once.
#   bench/telemetry_scrape.sh [scrapes] [idle_seconds]   (defaults 5000, 20)
#   BUILD=build-xyz bench/telemetry_scrape.sh
#   AUTOPILOT_BIN=/path/to/autopilot bench/telemetry_scrape.sh   (another binary, e.g. for an A/B)
# CPU per scrape: autopilot's utime+stime from /proc/PID/stat across N
# scrapes on one keep-alive connection (curl -K), divided by N (clock ticks:
# 10 ms resolution, hence many scrapes). Prints text-format and OpenMetrics
# sizes. Everything started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scrapes="${1:-5000}"
idle="${2:-20}"
build="${BUILD:-build}"
if [ -n "${AUTOPILOT_BIN:-}" ]; then
  bin="$AUTOPILOT_BIN"
else
  ninja -C "$build" autopilot >/dev/null
  bin="$PWD/$build/src/autopilot"
fi
tmp="$(mktemp -d /tmp/autopilot-telemetry-bench-XXXXXX)"
pids=()
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  for p in "${pids[@]}"; do stop_pid "$p"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# config NAME CATALOG_DIR BASE_PORT TELEMETRY_PORT|""
config() {
  local name=$1 catalog=$2 base=$3 tport=$4 i types=(counter gauge histogram summary)
  {
    echo "{ discovery: { embedded: { dir: \"$catalog\" } },"
    echo "  jobs: ["
    for i in $(seq 0 9); do
      if [ "$i" -lt 3 ]; then
        echo "    { name: \"svc$i\", exec: [\"sleep\", \"3600\"], port: $((base + i)), interfaces: [\"static:127.0.0.1\"],"
        echo "      health: { interval: 5, ttl: 15 } },"
      else
        echo "    { name: \"job$i\", exec: [\"sleep\", \"3600\"] },"
      fi
    done
    echo "  ],"
    echo "  watches: [ { name: \"svc0\", interval: 10 }, { name: \"svc1\", interval: 10 }, { name: \"svc2\", interval: 10 } ],"
    echo "  templates: ["
    for i in 0 1; do
      echo "    { name: \"t$i\", source: \"$tmp/upstreams.ctmpl\", destination: \"$tmp/$name-t$i.conf\" },"
    done
    echo "  ],"
    if [ -n "$tport" ]; then
      echo "  telemetry: { port: $tport, interfaces: [\"static:127.0.0.1\"], metrics: ["
      for i in $(seq 0 99); do
        echo "    { namespace: \"bench\", name: \"m${i}_${types[$((i % 4))]}\", help: \"metric $i\", type: \"${types[$((i % 4))]}\" },"
      done
      echo "  ] },"
    fi
    echo "}"
  } >"$tmp/$name.json5"
}
cat >"$tmp/upstreams.ctmpl" <<'TMPL'
{{ range service "svc0" }}server {{ .Address }}:{{ .Port }};
{{ end }}
TMPL

port="$(free_port)"
config on "$tmp/catalog-on" 21000 "$port"
config off "$tmp/catalog-off" 22000 ""
"$bin" -config "$tmp/on.json5" >"$tmp/on.log" 2>&1 &
pids+=($!); on=$!
"$bin" -config "$tmp/off.json5" >"$tmp/off.log" 2>&1 &
pids+=($!); off=$!
url="http://127.0.0.1:$port/metrics"
for i in $(seq 1 100); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
for f in "$tmp/on-t0.conf" "$tmp/off-t0.conf"; do
  for i in $(seq 1 100); do [ -s "$f" ] && break; sleep 0.1; done
done
sleep 1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hz="$(getconf CLK_TCK)"

text_bytes="$(curl -s -o /dev/null -w '%{size_download}' "$url")"
om_bytes="$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept: application/openmetrics-text;version=1.0.0' "$url")"
series="$(curl -s "$url" | grep -vc '^#')"

# N requests on one connection, CPU of autopilot across them.
scrape_cpu() {  # accept-header [url]
  local cfg="$tmp/curl.cfg" i u="${2:-$url}"
  : >"$cfg"
  [ -n "$1" ] && echo "header = \"Accept: $1\"" >>"$cfg"
  for i in $(seq 1 "$scrapes"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$u"; done >>"$cfg"
  local before after
  before="$(cpu_ticks "$on")"
  curl -s -K "$cfg"
  after="$(cpu_ticks "$on")"
  python3 -c "print(round(($after - $before) / $hz / $scrapes * 1e6, 1))"
}
rss_on_before="$(rss_kb "$on")"
rss_off="$(rss_kb "$off")"
us_text="$(scrape_cpu '')"
us_om="$(scrape_cpu 'application/openmetrics-text;version=1.0.0')"
us_status="$(scrape_cpu '' "http://127.0.0.1:$port/status")"
rss_on_after="$(rss_kb "$on")"
rss_off_after="$(rss_kb "$off")"

# Idle: nobody scrapes.
on0="$(cpu_ticks "$on")"; off0="$(cpu_ticks "$off")"
sleep "$idle"
on1="$(cpu_ticks "$on")"; off1="$(cpu_ticks "$off")"

echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "scrape: $series samples; text 0.0.4 $text_bytes bytes, OpenMetrics $om_bytes bytes"
echo "autopilot CPU per scrape ($scrapes scrapes, one connection): text ${us_text} us, OpenMetrics ${us_om} us"
echo "  the same for GET /status (HTTP and loop overhead, tiny body): ${us_status} us"
echo "RSS (kB): telemetry on $rss_on_before before scraping, $rss_on_after after; off $rss_off, $rss_off_after after"
echo "RSS on - off after scraping: $((rss_on_after - rss_off_after)) kB"
for p in "$on" "$off"; do
  echo "  $([ "$p" = "$on" ] && echo on || echo off): $(grep -E '^(Rss|Pss_Anon|Pss_File|Anonymous):' "/proc/$p/smaps_rollup" | tr -s ' ' | tr '\n' ' ')"
done
echo "idle CPU over ${idle}s (ticks of 1/$hz s): on $((on1 - on0)), off $((off1 - off0))"
