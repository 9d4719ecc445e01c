#!/usr/bin/env bash
# Binary footprint: stripped size, where the bytes come from (by library,
# from the link map), linkage, and the resident set with one `sleep` job.
#   bench/footprint.sh                        (build/src/autopilot and its map)
#   bench/footprint.sh BIN [MAP] [BIN2 [MAP2]]   two binaries side by side
# The map is the one the link wrote (-Wl,-Map: build/src/autopilot.map).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
a_bin="${1:-build/src/autopilot}"; a_map="${2:-${a_bin}.map}"
b_bin="${3:-}"; b_map="${4:-${b_bin:+${b_bin}.map}}"

cat > "$tmp/one.json5" <<JSON
{ jobs: [ { name: "app", exec: "sleep 1000" } ] }
JSON
rss() {  # binary -> "VmRSS kB", after 1 s with one sleep job
  "$1" -config "$tmp/one.json5" >/dev/null 2>&1 &
  local pid=$!
  sleep 1
  awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status"
  kill -TERM $pid; wait $pid 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -r)"
for pair in "$a_bin|$a_map" "$b_bin|$b_map"; do
  bin="${pair%%|*}"; map="${pair#*|}"
  [ -n "$bin" ] || continue
  strip -o "$tmp/stripped" "$bin"
  echo "== $bin"
  printf '%-22s %s bytes\n' "stripped" "$(stat -c %s "$tmp/stripped")"
  printf '%-22s %s\n' "linkage" "$(file -b "$bin" | grep -o 'statically linked\|dynamically linked\|static-pie linked')"
  printf '%-22s %s\n' "ldd" "$(ldd "$bin" 2>&1 | head -1 | sed 's/^\s*//')"
  for i in 1 2 3; do printf '%-22s %s kB\n' "VmRSS one sleep job" "$(rss "$bin")"; done
  [ -f "$map" ] && python3 bench/footprint_map.py "$map"
done
