#!/usr/bin/env bash
# Plots bench/stack_load.sh's per-second tables: requests per second by
# outcome over time, with the second's p99 on the right axis.
#   bash bench/plot_stack_load.sh DIR SCENARIO [SCENARIO ...]
# reads DIR/SCENARIO.txt and writes DIR/SCENARIO.png (Debian's gnuplot-nox).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: plot_stack_load.sh DIR SCENARIO..." >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "plot_stack_load.sh: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
dir=$1
shift
for name in "$@"; do
  table="$dir/$name.txt"
  [ -s "$table" ] || { echo "plot_stack_load.sh: no $table" >&2; exit 1; }
  # Columns: sec reqs 2xx 3xx 4xx 5xx connect closed timeout retried p50ms p99ms maxms
  gnuplot <<GNUPLOT
set terminal pngcairo size 1200,500 font "sans,10" noenhanced
set output "$dir/$name.png"
set title "stack_load: $name — requests per second by outcome, and p99"
set xlabel "second of the run"
set ylabel "requests / s"
set y2label "p99 (ms)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key outside right top
set grid ytics
plot "$table" every ::1 using 1:3 with lines lw 1 lc rgb "#2a7d2a" title "2xx", \
     "" every ::1 using 1:(\$4+\$5+\$6) with impulses lw 2 lc rgb "#c0392b" title "3xx-5xx", \
     "" every ::1 using 1:(\$7+\$8+\$9) with impulses lw 2 lc rgb "#8e44ad" title "connect/closed/timeout", \
     "" every ::1 using 1:10 with impulses lw 1 lc rgb "#e67e22" title "retried (once, then 2xx)", \
     "" every ::1 using 1:12 axes x1y2 with lines lw 1 lc rgb "#2c3e50" title "p99 ms"
GNUPLOT
  echo "$dir/$name.png"
done
