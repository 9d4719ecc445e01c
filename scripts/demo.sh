#!/usr/bin/env bash
# Installs what is missing, builds, and runs the hello example: a pre-start
# job, an app, a periodic job and a graceful stop with a pre-stop hook.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec bash examples/hello/run.sh
