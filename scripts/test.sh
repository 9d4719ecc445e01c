#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, integration,
# and the differential test against Go's text/template).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 300 -j2
