#!/usr/bin/env bash
# Installs what is missing, builds, and runs the discovery demo on the
# embedded catalog (examples/discovery): two app instances register with
# health checks, a watcher reacts as they come and go. The supervisor-only
# example without a catalog is examples/hello/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec bash examples/discovery/run.sh
