#!/bin/sh
# Writes the template of every golden case in tests/tmpl_diff/corpus/*.txt
# to its own file in DIR (the libFuzzer seed corpus). Usage: extract_seeds.sh DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
for f in "$here"/../tests/tmpl_diff/corpus/*.txt; do
  awk -v dir="$out" -v base="$(basename "$f" .txt)" '
    function flush() {
      if (name != "") { printf "%s", text > (dir "/" base "_" name); close(dir "/" base "_" name) }
      name = ""; text = ""; n = 0
    }
    /^=== / { flush(); split(substr($0, 5), w, " "); name = w[1]; intmpl = 0; next }
    /^--- template$/ { intmpl = 1; next }
    /^--- (data|want|error)$/ { intmpl = 0; next }
    intmpl { text = (n++ ? text "\n" : "") $0 }
    END { flush() }
  ' "$f"
done
