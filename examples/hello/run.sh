#!/usr/bin/env bash
# Runs the hello example for a few seconds, then stops it the way a scheduler
# does (SIGTERM) and prints autopilot's exit status.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${AUTOPILOT_BIN:-$here/../../build/src/autopilot}"
export HELLO_DIR="$here"
export HELLO_CONF="${HELLO_CONF:-/tmp/hello-autopilot/app.conf}"
export HELLO_CONF_BASE64="$(printf 'greeting = "hello from a base64 env var"\n' | base64 -w0)"
"$bin" -config "$here/autopilot.json5" &
pid=$!
sleep "${HELLO_SECONDS:-3.5}"
echo "--- sending SIGTERM to autopilot (pid $pid) ---"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
echo "--- autopilot exited with status $status (the app's own) ---"
