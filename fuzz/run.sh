#!/bin/sh
# Builds the libFuzzer target for src/tmpl into build-fuzz/ and runs it.
#   fuzz/run.sh [SECONDS]      default 300
# Environment: FUZZ_KEEP_GOING=1 keeps fuzzing after a crash (fork mode);
# FUZZ_JOBS (default 1) parallel workers in that mode.
# Crashes, timeouts and OOMs are saved in fuzz/findings/ (crash-*, timeout-*,
# oom-*); reproduce one with:  build-fuzz/tmpl_fuzz fuzz/findings/crash-XXXX
set -eu
secs=${1:-300}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/build-fuzz
cmake -G Ninja -S "$here" -B "$build" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
ninja -C "$build" -j2 tmpl_fuzz
rm -rf "$build/seeds"
sh "$here/extract_seeds.sh" "$build/seeds"
# Earlier findings go back in as seeds: a regression shows up at once.
for f in "$here"/findings/crash-* "$here"/findings/timeout-* "$here"/findings/oom-*; do
  [ -f "$f" ] && cp "$f" "$build/seeds/finding-$(basename "$f")"
done
mkdir -p "$build/corpus" "$here/findings"
set -- -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -dict="$here/tmpl.dict" -artifact_prefix="$here/findings/" -print_final_stats=1
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
  set -- "$@" -fork="${FUZZ_JOBS:-1}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1
fi
exec "$build/tmpl_fuzz" "$@" "$build/corpus" "$build/seeds"
