# Sourced by the stack benchmarks (stack_load.sh, stack_bench.sh): where the
# build's binaries are, exported for stack/run.sh and the load tool. Sets
# `here` (bench/) and `root`; AUTOPILOT_BUILD (default build/), AUTOPILOT_BIN,
# DEMO_APP and STACK_LOAD override.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
export AUTOPILOT_BUILD="${AUTOPILOT_BUILD:-$root/build}"
export AUTOPILOT_BIN="${AUTOPILOT_BIN:-$AUTOPILOT_BUILD/src/autopilot}"
export DEMO_APP="${DEMO_APP:-$AUTOPILOT_BUILD/stack/app/autopilot-demo-app}"
LOAD="${STACK_LOAD:-$AUTOPILOT_BUILD/bench/stack_load}"
