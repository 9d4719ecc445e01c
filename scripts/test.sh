#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test (unit, integration,
# the differential test against Go's text/template, the layering and layout
# checks) twice, warnings as errors in both:
#   build/       as shipped (RelWithDebInfo, static, hot layout);
#   build-asan/  under AddressSanitizer (leaks included) and UndefinedBehavior-
#                Sanitizer: dynamic, no layout, no benchmarks, -O1 with line
#                tables only (it compiles about as fast as build/ does).
# Then it builds the libFuzzer targets and runs each for 30 s (fuzz/run.sh --ci).
# CI runs this (.ci/run); it prints how long each step took.
set -euo pipefail
cd "$(dirname "$0")/.."
timed() {  # NAME COMMAND...: runs it and prints how long it took
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "test.sh: $name: $((SECONDS - start)) s" >&2
}

timed "install" bash scripts/install-deps.sh
timed "build" env BUILD=build bash scripts/build.sh
timed "tests" env AUTOPILOT_REQUIRE_ETCD=1 ctest --test-dir build --output-on-failure --timeout 300 -j2

timed "sanitizer build" env BUILD=build-asan bash scripts/build.sh \
  -DAUTOPILOT_SANITIZE=ON -DAUTOPILOT_BENCH=OFF "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
# Not the containers: their images take the static binary of build/, and
# build-asan's is dynamic (libasan), so they run once, above. Nor the stack on
# etcd (70 s here): the stack on the embedded catalog runs the same autopilots,
# and the etcd client is checked under the sanitizers by the Etcd.* tests.
timed "sanitizer tests" env AUTOPILOT_REQUIRE_ETCD=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure --timeout 300 -j2 -LE containers -E '^stack_etcd$'
# The libFuzzer targets (fuzz/run.sh): built with clang at -O0 (build-fuzz-ci/),
# then each run for 20 s on its seeds and earlier findings; a crash, hang or
# leak fails.
timed "fuzz build" sh fuzz/run.sh --build --ci
timed "fuzz" env FUZZ_NO_BUILD=1 sh fuzz/run.sh --ci
echo "test.sh: all passed in $SECONDS s" >&2
