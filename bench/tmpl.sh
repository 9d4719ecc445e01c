#!/usr/bin/env bash
# Renders the nginx upstream template over 10,000 instances with our engine
# and with Go's text/template, in the same run, and prints the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
ours=$(./build/bench/tmpl_bench --benchmark_filter="BM_Render/$n\$" --benchmark_format=json 2>/dev/null |
  python3 -c 'import json,sys; b=json.load(sys.stdin)["benchmarks"][0]; print(b["real_time"])')
echo "autopilot tmpl render n=$n: $ours ms"
(cd bench/go_tmpl && go build -o ../../build/bench/go_tmpl_bench . )
go_line=$(./build/bench/go_tmpl_bench bench/nginx_upstreams.tmpl "$n" 50)
echo "$go_line"
go_ms=$(echo "$go_line" | sed -E 's/.*: ([0-9.]+) ms.*/\1/')
python3 -c "print(f'ratio go/autopilot: {float($go_ms)/float($ours):.2f}x')"
