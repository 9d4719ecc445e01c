#!/usr/bin/env python3
"""Writes the hot-layout linker script (scripts/layout/hot.ld) from memory traces.

    hot_sections.py --out OUT.ld NAME=MAP:TRACE[,MAP:TRACE...] ...

One NAME=... per scenario, in order: the sections the first scenario touched
come first, then those the second adds, and so on, so a process that only
supervises `sleep` maps the first group and never the others. MAP is the GNU ld
link map (-Wl,-Map) of the binary a TRACE was taken from; a TRACE is either a
`valgrind --tool=lackey --trace-mem=yes` log (every instruction and data access,
but under valgrind's CPU and without a vDSO) or the `perf script` text of
`perf record -e exceptions:page_fault_user` (the real run, but only the first
touch of each 64 kB window): the two together miss little.

Every input section of .text, .rodata and .data.rel.ro that a trace touched is
named in OUT.ld, in an output section of its own (.text.hot, .rodata.hot,
.data.rel.ro.hot) that the script INSERTs before the default one. The kernel
maps a static binary's pages 64 kB at a time (fault-around), so gathering the
touched code and data into one run of pages is what keeps the resident set
small. A section named here that a later build no longer has matches nothing:
the script goes stale gracefully, it never breaks the link (ctest's hot_layout,
scripts/layout/check_layout.py, fails when too many are gone).
"""
import bisect
import os
import re
import sys

OUTPUTS = (".text", ".rodata", ".data.rel.ro")

# glibc picks string functions by CPU at start-up (IFUNC). valgrind's CPU has
# no AVX-512, so a trace names the avx2 variant where the real machine runs the
# evex one: take every variant of a string function the trace touched.
IFUNC_MEMBER = re.compile(r"^([a-z0-9_]+?)-(sse2|sse4|ssse3|avx|avx2|evex|avx512)[-a-z0-9_]*\.o$")


def parse_map(path):
    """Input sections [(start, size, output, section, file)] of OUTPUTS, sorted by start."""
    sections = []
    output = None
    pending = None  # an input section whose address is on the next line
    started = False
    addr_line = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not started:
                started = line.startswith("Linker script and memory map")
                continue
            if line and not line.startswith(" "):
                name = line.split()[0]
                output = name if name.removesuffix(".hot") in OUTPUTS else None
                pending = None
                continue
            if output is None:
                continue
            if pending is not None:
                m = addr_line.match(line)
                if m:
                    sections.append((int(m.group(1), 16), int(m.group(2), 16), output, pending, m.group(3)))
                pending = None
                continue
            m = re.match(r"^ (\.\S+)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*))?$", line)
            if not m:
                continue
            if m.group(2) is None:
                pending = m.group(1)
            else:
                sections.append((int(m.group(2), 16), int(m.group(3), 16), output, m.group(1), m.group(4)))
    sections = [s for s in sections if s[1] > 0]
    sections.sort()
    return sections


def file_pattern(file):
    """`dir/libx.a(member.o)` -> `*libx.a:member.o`; `dir/crt1.o` -> `*/crt1.o`."""
    m = re.match(r"^(.*)\((.*)\)$", file)
    if m:
        return f"*{os.path.basename(m.group(1))}:{m.group(2)}"
    return f"*/{os.path.basename(file)}"


def touched(trace, starts, sections):
    """Indexes of the sections the trace touched, in the order first touched."""
    order, seen = [], set()
    lo, hi = sections[0][0], sections[-1][0] + sections[-1][1]

    def index(addr):
        if not lo <= addr < hi:
            return
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and i not in seen and addr < sections[i][0] + sections[i][1]:
            seen.add(i)
            order.append(i)

    lackey = re.compile(r"^\s*[ILSM]\s+([0-9a-f]+),")
    fault = re.compile(r"address=0x([0-9a-f]+) ip=0x([0-9a-f]+)")
    with open(trace, errors="replace") as f:
        for line in f:
            m = lackey.match(line)
            if m:
                addrs = (int(m.group(1), 16),)
            else:
                m = fault.search(line)
                if not m:
                    continue
                addrs = (int(m.group(1), 16), int(m.group(2), 16))
            for addr in addrs:
                index(addr)
    return order



def main():
    args = sys.argv[1:]
    if len(args) < 3 or args[0] != "--out":
        sys.exit(__doc__)
    out, groups = args[1], []
    for arg in args[2:]:  # NAME=MAP:TRACE[,MAP:TRACE...]
        name, _, pairs = arg.partition("=")
        groups.append((name, [tuple(p.split(":", 1)) for p in pairs.split(",")]))

    maps = {}
    chosen, seen = [], set()  # keys (output, file pattern, section)
    for name, pairs in groups:
        group = []
        for mapfile, trace in pairs:
            if mapfile not in maps:
                sections = parse_map(mapfile)
                maps[mapfile] = (sections, [s[0] for s in sections])
            sections, starts = maps[mapfile]
            for i in touched(trace, starts, sections):
                start, size, output, section, file = sections[i]
                key = (output.removesuffix(".hot"), file_pattern(file), section)
                if key not in seen:
                    seen.add(key)
                    group.append((key, size))
        chosen.append((name, group))

    # What the trace cannot see: string literals and constants are merged across
    # objects at link time, so a touched string is found at the address of
    # whichever copy the linker kept. Take the strings and constants of every hot
    # function (.rodata.FN.str1.1) and of every hot object without function
    # sections (.rodata.str1.1, .rodata.cst16); and every IFUNC variant of a
    # string function (see IFUNC_MEMBER).
    sections = maps[groups[0][1][0][0]][0]
    by_file = {}
    for start, size, output, section, file in sections:
        # As placed by the layout being replaced, if any: .rodata.hot is .rodata.
        by_file.setdefault(file_pattern(file), []).append((output.removesuffix(".hot"), section, size))
    variants = {}
    for pattern in by_file:
        m = re.match(r"^\*libc\.a:(.*)$", pattern)
        v = m and IFUNC_MEMBER.match(m.group(1))
        if v:
            variants.setdefault(v.group(1), []).append(pattern)
    merged = re.compile(r"^\.rodata(\..*)?\.(str\d+\.\d+|cst\d+)$")
    for name, group in chosen:
        extra = []
        def add(key, size):
            if key not in seen:
                seen.add(key)
                extra.append((key, size))
        for (output, pattern, section), _ in group:
            if output != ".text":
                continue
            fn = section[len(".text"):]  # "" for a plain .text
            for o, sec, size in by_file.get(pattern, []):
                m = merged.match(sec)
                if o == ".rodata" and m and (fn == "" or (m.group(1) or "") in ("", fn)):
                    add((o, pattern, sec), size)
            m = re.match(r"^\*libc\.a:(.*)$", pattern)
            v = m and IFUNC_MEMBER.match(m.group(1))
            if v:
                for other in variants.get(v.group(1), []):
                    for o, sec, size in by_file[other]:
                        if o == ".text" or o == ".rodata":
                            add((o, other, sec), size)
        group += extra

    placement = {".text": "BEFORE .text", ".rodata": "AFTER .rodata", ".data.rel.ro": "BEFORE .data.rel.ro"}
    with open(out, "w") as f:
        f.write("/* Generated by scripts/layout/profile.sh: do not edit by hand.\n"
                "   The input sections each traced scenario touched, gathered in .text.hot,\n"
                "   .rodata.hot and .data.rel.ro.hot so that the pages a running autopilot maps\n"
                "   are few (see docs/design.md, \"Memory layout\"). */\n")
        for output in OUTPUTS:
            total = 0
            f.write(f"SECTIONS\n{{\n  {output}.hot :\n  {{\n")
            for name, group in chosen:
                lines = [(key, size) for key, size in group if key[0] == output]
                if not lines:
                    continue
                size = sum(size for _, size in lines)
                total += size
                f.write(f"    /* {name}: {len(lines)} sections, {size} bytes */\n")
                for (_, pattern, section), _ in lines:
                    f.write(f"    {pattern}({section})\n")
            f.write(f"  }}\n}}\nINSERT {placement[output]};\n")
            print(f"{output}: {total} bytes hot", file=sys.stderr)


if __name__ == "__main__":
    main()
