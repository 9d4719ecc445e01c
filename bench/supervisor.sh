#!/usr/bin/env bash
# Supervisor footprint: autopilot against tini (the floor for memory and exec)
# and a bare C spawn loop (the floor for CPU), in the same run.
#   bench/supervisor.sh [seconds]      (default 60; the CPU figure needs it)
#   BUILD=build-x bench/supervisor.sh  (another build directory; default build)
# Prints: RSS/HWM with one `sleep` job; RSS and own CPU with 10 periodic jobs
# of 1 s, then the CPU of a bare C loop doing the same spawns (the floor);
# start-to-exec of the child (median of 20); binary size; static or not.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
build="${BUILD:-build}"
[[ $build = /* ]] || build="$PWD/$build"
bin="$build/src/autopilot"
probe="$build/bench/exec_probe"
launch="$build/bench/exec_launcher"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # utime+stime, not children
run_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { print s }'; }  # on-CPU ns, its live threads
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

cat > "$tmp/one.json5" <<JSON
{ jobs: [ { name: "app", exec: "sleep 1000" } ] }
JSON
{
  echo '{ jobs: [ { name: "app", exec: "sleep 1000" },'
  for i in $(seq 1 10); do echo "  { name: \"p$i\", exec: \"true\", when: { interval: \"1s\" } },"; done
  echo '] }'
} > "$tmp/ten.json5"
cat > "$tmp/probe.json5" <<JSON
{ logging: { level: "WARN" }, jobs: [ { name: "probe", exec: "$probe" } ] }
JSON

measure_rss() {  # name, command...
  local name=$1; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep 1
  printf '%-34s VmRSS %6s kB   VmHWM %6s kB\n' "$name" "$(kb $pid VmRSS)" "$(kb $pid VmHWM)"
  kill -TERM $pid; wait $pid 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(uname -r)"
echo "== memory, one sleep job"
measure_rss "autopilot (sleep)" "$bin" -config "$tmp/one.json5"
measure_rss "tini (sleep)" tini -s -- sleep 1000

echo "== 10 periodic jobs every 1 s, ${secs} s"
"$bin" -config "$tmp/ten.json5" >/dev/null 2>&1 &
pid=$!
sleep 1
t0=$(cpu_ticks $pid); n0=$(run_ns $pid)
sleep "$secs"
t1=$(cpu_ticks $pid); n1=$(run_ns $pid)
hz=$(getconf CLK_TCK)
printf '%-34s VmRSS %6s kB   VmHWM %6s kB\n' "autopilot (10 periodic)" "$(kb $pid VmRSS)" "$(kb $pid VmHWM)"
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$secs" \
  'BEGIN { printf "%-34s %.3f CPU s in %d s = %.3f%% of one core (utime+stime)\n", "autopilot own CPU", d/hz, s, 100*d/hz/s }'
awk -v d=$((n1 - n0)) -v s="$secs" \
  'BEGIN { printf "%-34s %.1f ms in %d s = %.3f%% of one core (schedstat on-CPU time)\n", "", d/1e6, s, 100*d/1e9/s }'
kill -TERM $pid; wait $pid 2>/dev/null || true
# The floor: a bare C loop doing only the spawns, pipes and reaps (bench/spawn_floor.c).
printf '%-34s %s\n' "floor: C loop, same 10 runs/s" "$("$build/bench/spawn_floor" "$secs")"

echo "== start to the child's exec (median of 20)"
for tool in autopilot tini; do
  for i in $(seq 1 20); do
    out="$tmp/probe.$tool.$i"
    if [ $tool = autopilot ]; then
      PROBE_OUT="$out" "$launch" "$bin" -config "$tmp/probe.json5" >/dev/null 2>&1 </dev/null || true
    else
      PROBE_OUT="$out" "$launch" "$(command -v tini)" -s -- "$probe" >/dev/null 2>&1 </dev/null || true
    fi
    cat "$out"
  done | median | awk -v t=$tool '{ printf "%-34s %.3f ms\n", t, $1/1e6 }'
done

echo "== binary"
strip -o "$tmp/autopilot.stripped" "$bin"
printf '%-34s %s bytes (%s stripped)\n' "autopilot" "$(stat -c %s "$bin")" "$(stat -c %s "$tmp/autopilot.stripped")"
printf '%-34s %s\n' "linkage" "$(file -b "$bin" | grep -o 'statically linked\|dynamically linked\|static-pie linked')"
printf '%-34s %s bytes\n' "tini" "$(stat -c %s "$(command -v tini)")"
