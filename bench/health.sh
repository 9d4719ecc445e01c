#!/usr/bin/env bash
# Health-check cost: N in-process http checks (HttpCheck) against N exec
# checks that run `curl -fsS`, against the same local HTTP server (forked by
# the benchmark), in the same run. Prints CPU and wall time per check and the
# exec/http ratios. CPU counts our process and its reaped children (curl).
#   bench/health.sh [N]        (default 200)
#   BUILD=build-xyz bench/health.sh    (default build dir: build)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200}"
build="${BUILD:-build}"
command -v curl >/dev/null || { echo "health.sh: needs curl on PATH" >&2; exit 1; }
ninja -C "$build" health_bench >/dev/null
echo "machine: $(nproc) cores, $(uname -r), $(curl --version | head -1 | cut -d' ' -f1-2)"
json="$(mktemp)"
trap 'rm -f "$json"' EXIT
"$build/bench/health_bench" --n="$n" --benchmark_format=json >"$json" 2>/dev/null
python3 - "$json" <<'PY'
import json, sys
rows = {b["name"].split("/")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
http, curl = rows["BM_HttpCheck"], rows["BM_CurlExec"]
def line(label, b):
    print(f"{label:36} n={b['iterations']:<5} cpu {b['cpu_us_per_check']:8.1f} us/check   "
          f"wall {b['wall_us_per_check']:8.1f} us/check   failures {int(b['failures'])}")
line("http check (in-process)", http)
line("exec check (curl -fsS, spawn+wait)", curl)
print(f"ratio exec/http: cpu {curl['cpu_us_per_check'] / http['cpu_us_per_check']:.1f}x   "
      f"wall {curl['wall_us_per_check'] / http['wall_us_per_check']:.1f}x")
PY
