#!/usr/bin/env python3
"""Checks that the hot layout still fits the binary (ctest `hot_layout`).

    check_layout.py MAP LAYOUT.ld [--min 0.95]

MAP is the link map of an autopilot linked with LAYOUT.ld. A name in the layout
that the build no longer has matches nothing and costs memory silently (the
code it stood for lands among the cold pages): this counts the layout's
patterns that placed an input section in .text.hot, .rodata.hot or
.data.rel.ro.hot, prints the ratio and the first patterns that matched nothing,
and fails below --min. The fix for a failure is to regenerate the layout:
    bash scripts/layout/profile.sh
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hot_sections import file_pattern, parse_map  # noqa: E402


def layout_patterns(path):
    """[(output, file pattern, section)] in the order of the layout."""
    patterns, output = [], None
    entry = re.compile(r"^\s+(\S+)\((\S+)\)$")
    with open(path) as f:
        for line in f:
            m = re.match(r"^\s+(\.\S+)\.hot :$", line)
            if m:
                output = m.group(1)
                continue
            m = entry.match(line.rstrip("\n"))
            if m and output:
                patterns.append((output, m.group(1), m.group(2)))
    return patterns


def main():
    args = sys.argv[1:]
    minimum = 0.95
    if "--min" in args:
        i = args.index("--min")
        minimum = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    mapfile, layout = args
    patterns = layout_patterns(layout)
    if not patterns:
        sys.exit(f"check_layout: no patterns in {layout}")
    placed = set()
    for _, _, output, section, file in parse_map(mapfile):
        if output.endswith(".hot"):
            placed.add((output.removesuffix(".hot"), file_pattern(file), section))
    missing = [p for p in patterns if p not in placed]
    ratio = 1 - len(missing) / len(patterns)
    print(f"check_layout: {len(patterns) - len(missing)} of {len(patterns)} patterns of "
          f"{os.path.basename(layout)} match the linked map ({ratio:.1%}; at least {minimum:.0%} needed)")
    for output, pattern, section in missing[:20]:
        print(f"  no match: {output}.hot {pattern}({section})")
    if len(missing) > 20:
        print(f"  ... and {len(missing) - 20} more")
    if ratio < minimum:
        print("check_layout: the layout is stale; regenerate it: bash scripts/layout/profile.sh")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
