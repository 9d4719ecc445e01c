#!/usr/bin/env bash
# Configures and builds autopilot, its tests and benchmarks into build/,
# warnings as errors (CI builds with this; -DAUTOPILOT_WERROR=OFF to relax).
#   bash scripts/build.sh [CMAKE-ARGS...]     e.g. -DCMAKE_BUILD_TYPE=Release
#   BUILD=build-x bash scripts/build.sh       another build directory
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTOPILOT_WERROR=ON "$@" >/dev/null
ninja -C "$build"
