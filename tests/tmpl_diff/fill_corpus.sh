#!/bin/sh
# Fills (or with --check, verifies) the want/error sections of the golden
# corpus from Go's own text/template. Never type a want by hand.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mode=-fill
[ "${1:-}" = "--check" ] && mode=-check
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$here/goref" && go build -o "$bin/goref" .)
"$bin/goref" "$mode" "$here"/corpus/*.txt
