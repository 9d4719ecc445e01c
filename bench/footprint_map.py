#!/usr/bin/env python3
"""Where the bytes of a linked binary come from, by library, from its GNU ld
map (-Wl,-Map): the allocated input sections kept in the output, summed per
archive (our areas, OpenSSL, libc, libstdc++, ...) and per output section kind
(code, read-only data, unwind tables, writable data).
  python3 bench/footprint_map.py build/src/autopilot.map"""
import re
import sys
from collections import defaultdict

SECTION = re.compile(r"^ (\.\S+|__\S+|\*\*[^*]+\*\*)(?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(.+))?$")
CONT = re.compile(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$")


def library(path):
    if "(" in path:
        path = path[: path.index("(")]
    name = path.rsplit("/", 1)[-1]
    if name.startswith("libautopilot_"):
        return "ours (autopilot_*)"
    if name.endswith(".o"):
        return "ours (autopilot_*)" if "CMakeFiles" in path else "crt*.o"
    name = re.sub(r"-\d[\d.]*\.a$", ".a", name)
    return {"libcrypto.a": "OpenSSL libcrypto", "libssl.a": "OpenSSL libssl", "libc.a": "glibc",
            "libm.a": "libm", "libstdc++.a": "libstdc++", "libcares.a": "c-ares",
            "libgcc.a": "libgcc", "libgcc_eh.a": "libgcc", "libfmt.a": "fmt"}.get(name, name)


def kind(section):
    if section.startswith(".text") or section.startswith("__libc_freeres_fn"):
        return "code"
    if section.startswith(".rodata") or section.startswith(".data.rel.ro"):
        return "rodata"
    if section.startswith(".eh_frame") or section.startswith(".gcc_except_table"):
        return "unwind"
    if section.startswith(".bss") or section.startswith(".tbss"):
        return "bss"
    return "data"


def main(path):
    lines = open(path, errors="replace").read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("Linker script and memory map"))
    totals = defaultdict(lambda: defaultdict(int))
    pending = None
    for line in lines[start:]:
        if pending:
            m = CONT.match(line)
            if m:
                sec, (_, size, src) = pending, m.groups()
                totals[library(src)][kind(sec)] += int(size, 16)
            pending = None
            continue
        m = SECTION.match(line)
        if not m or line.startswith(" *"):
            continue
        sec, addr, size, src = m.groups()
        if sec.startswith((".debug", ".comment", ".note", ".stab", ".gnu.warning")):
            continue
        if addr is None:
            pending = sec
        elif int(addr, 16) != 0:
            totals[library(src)][kind(sec)] += int(size, 16)
    kinds = ["code", "rodata", "unwind", "data", "bss"]
    print(f"{'library':24}" + "".join(f"{k:>10}" for k in kinds) + f"{'file':>10}")
    rows = sorted(totals.items(), key=lambda kv: -sum(v for k, v in kv[1].items() if k != "bss"))
    grand = defaultdict(int)
    for lib, t in rows:
        for k in kinds:
            grand[k] += t[k]
        print(f"{lib:24}" + "".join(f"{t[k] / 1e3:9.0f}K" for k in kinds) +
              f"{sum(t[k] for k in kinds if k != 'bss') / 1e3:9.0f}K")
    print(f"{'total':24}" + "".join(f"{grand[k] / 1e3:9.0f}K" for k in kinds) +
          f"{sum(grand[k] for k in kinds if k != 'bss') / 1e3:9.0f}K")


if __name__ == "__main__":
    main(sys.argv[1])
