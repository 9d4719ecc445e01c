#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo: the reference stack
# (stack/run.sh: nginx x2, the demo app x2, Redis x3 with Sentinel, each under
# its own autopilot) on the embedded catalog, narrated step by step by
# stack/demo.py, then taken down with nothing left running. Smaller examples:
# examples/discovery/run.sh (two instances and a watcher), examples/hello.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec python3 stack/demo.py
