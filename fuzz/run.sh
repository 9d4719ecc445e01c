#!/bin/sh
# Builds the libFuzzer targets into build-fuzz/ and runs them.
#   fuzz/run.sh [SECONDS] [TARGET...]   each TARGET (default: all) for SECONDS (default 300), one after
#                                       the other, on its seeds and the corpus it has grown in build-fuzz/
#   fuzz/run.sh --ci [TARGET...]        each for 30 s on its seeds only; exits 1 on the first finding.
#                                       Its own tree, build-fuzz-ci/, built with -O0 (half the compile
#                                       time; enough for 30 s on the seeds)
#   fuzz/run.sh --build [--ci] [TARGET...]  only builds them (--ci: the CI tree)
# Targets: tmpl_fuzz json5_fuzz catalog_fuzz config_fuzz http_fuzz (fuzz/CMakeLists.txt says what each reads).
# Seeds: fuzz/seeds/<group>/ plus inputs taken from the tests and examples (seed_files below), plus every
# earlier finding of the target (fuzz/findings/<target>/), so a regression shows up at once.
# Findings (crash-*, timeout-*, oom-*, leak-*) are saved in fuzz/findings/<target>/; reproduce one with
#   build-fuzz/<target> fuzz/findings/<target>/crash-XXXX
# Environment: FUZZ_KEEP_GOING=1 keeps fuzzing after a finding (fork mode); FUZZ_JOBS (default 1) parallel
# workers in that mode; FUZZ_NICE (default 10) the niceness of builds and runs; FUZZ_NO_BUILD=1 runs the
# targets as built (two run.sh at once share one build); FUZZ_BUILD and FUZZ_OPT the tree and its -O level
# (defaults above); FUZZ_CI_SECONDS (default 30, the issue's figure) the time per target of --ci
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
all="tmpl_fuzz json5_fuzz catalog_fuzz config_fuzz http_fuzz"
ci=0
build_only=0
if [ "${1:-}" = --build ]; then
  build_only=1
  shift
fi
if [ "${1:-}" = --ci ]; then
  ci=1
  secs=${FUZZ_CI_SECONDS:-30}
  shift
elif [ $build_only = 1 ]; then
  :
else
  secs=300
  case "${1:-}" in [0-9]*) secs=$1; shift ;; esac
fi
targets=${*:-$all}
for t in $targets; do
  case " $all " in *" $t "*) ;; *) echo "run.sh: unknown target $t (one of: $all)" >&2; exit 2 ;; esac
done
n="nice -n ${FUZZ_NICE:-10}"

if [ $ci = 1 ]; then
  build=${FUZZ_BUILD:-$root/build-fuzz-ci}
  opt=${FUZZ_OPT:--O0}
else
  build=${FUZZ_BUILD:-$root/build-fuzz}
  opt=${FUZZ_OPT:--O1}
fi
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  cmake -G Ninja -S "$here" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DFUZZ_OPT="$opt" >/dev/null
  # shellcheck disable=SC2086
  $n ninja -C "$build" -j2 $targets
fi
[ $build_only = 1 ] && exit 0

# seed_files TARGET: the files taken from the tree as its seeds, one per line.
seed_files() {
  case $1 in
    json5_fuzz | config_fuzz)
      find "$root/tests/integration/bad_configs" "$root/src/config/testdata" "$root/examples" "$root/stack" \
        -type f \( -name '*.json5' -o -name '*.json' \) 2>/dev/null ;;
  esac
}

# prepare TARGET DIR: fills DIR with the target's seeds.
prepare() {
  rm -rf "$2"
  mkdir -p "$2"
  case $1 in
    tmpl_fuzz) sh "$here/extract_seeds.sh" "$2" ;;
    config_fuzz)
      # The first byte picks the reader (config_fuzz.cc): 0 as is, 1 with an app on the command line.
      seed_files "$1" | while read -r f; do
        name=$(echo "$f" | sed "s|^$root/||; s|/|_|g")
        { printf '\000'; cat "$f"; } >"$2/v-$name"
        { printf '\001'; cat "$f"; } >"$2/a-$name"
      done ;;
    *)
      seed_files "$1" | while read -r f; do
        cp "$f" "$2/$(echo "$f" | sed "s|^$root/||; s|/|_|g")"
      done ;;
  esac
  group=${1%_fuzz}
  [ -d "$here/seeds/$group" ] && cp "$here/seeds/$group"/* "$2/"
  for f in "$here/findings/$1"/crash-* "$here/findings/$1"/timeout-* "$here/findings/$1"/oom-* \
    "$here/findings/$1"/leak-*; do
    if [ -f "$f" ]; then cp "$f" "$2/finding-$(basename "$f")"; fi
  done
}

status=0
for t in $targets; do
  group=${t%_fuzz}
  seeds=$build/seeds/$group
  corpus=$build/corpus/$group
  prepare "$t" "$seeds"
  mkdir -p "$corpus" "$here/findings/$t"
  set -- -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$here/findings/$t/" -print_final_stats=1
  [ -f "$here/$group.dict" ] && set -- "$@" -dict="$here/$group.dict"
  if [ $ci = 1 ]; then
    # The seeds only (a scratch corpus), so a run does not depend on the last one.
    corpus=$build/corpus-ci/$group
    rm -rf "$corpus"
    mkdir -p "$corpus"
  elif [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    set -- "$@" -fork="${FUZZ_JOBS:-1}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1
  fi
  echo "run.sh: $t for $secs s ($(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) in the corpus)" >&2
  # Run from a scratch directory: what a target writes (libFuzzer's fuzz-*.log in fork mode) stays there.
  mkdir -p "$build/run"
  if ! (cd "$build/run" && $n "$build/$t" "$@" "$corpus" "$seeds" </dev/null); then
    echo "run.sh: $t: FINDING, saved in fuzz/findings/$t/" >&2
    status=1
    [ $ci = 1 ] && exit 1
  fi
done
exit $status
