#!/usr/bin/env bash
# The discovery demo on etcd: installs what is missing, builds, starts a local
# 3-member etcd cluster on 127.0.0.1 and runs examples/discovery against it
# (the same configs as on the embedded catalog; only ETCD_ENDPOINTS differs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec bash examples/discovery/run.sh --etcd
