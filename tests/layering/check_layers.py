#!/usr/bin/env python3
"""Holds src/ to the layer order of src/LAYERS (ctest `layering`).

    check_layers.py SOURCE_DIR

Fails, naming file:line, when
- a file under src/AREA/ includes "OTHER/..." and OTHER is listed below AREA
  (or is a directory of src/ that src/LAYERS does not list);
- a directory of src/ holding sources is not listed in src/LAYERS, or a listed
  area has no directory;
- autopilot_library/autopilot_test in src/AREA/CMakeLists.txt lists in its
  DEPS a library defined by an area below AREA;
- README.md's layout paragraph ("Layout (...") names the areas in another order.
The rule itself is written at the top of src/LAYERS.
"""
import os
import re
import sys

SOURCE_SUFFIXES = (".h", ".cc", ".c", ".hpp", ".cpp")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
CMAKE_CALL = re.compile(r"\b(autopilot_library|autopilot_test)\s*\(([^)]*)\)", re.S)


def read_layers(path):
    layers = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                layers.append(line)
    return layers


def check_includes(src, rank, errors):
    for area in sorted(os.listdir(src)):
        top = os.path.join(src, area)
        if not os.path.isdir(top):
            continue
        has_sources = any(name.endswith(SOURCE_SUFFIXES) for _, _, names in os.walk(top) for name in names)
        if area not in rank:
            if has_sources:
                errors.append(f"src/{area}/: an area that src/LAYERS does not list")
            continue
        for dirpath, _, names in os.walk(top):
            for name in sorted(names):
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, os.path.dirname(src))
                with open(path, errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or "/" not in m.group(1):
                            continue  # a system header, or one beside the file
                        other = m.group(1).split("/", 1)[0]
                        if other in rank:
                            if rank[other] > rank[area]:
                                errors.append(f"{rel}:{number}: {area} includes \"{m.group(1)}\": "
                                              f"{other} is a higher area than {area} (src/LAYERS)")
                        elif os.path.isdir(os.path.join(src, other)):
                            errors.append(f"{rel}:{number}: includes \"{m.group(1)}\": "
                                          f"{other} is not an area of src/LAYERS")


def check_deps(src, rank, errors):
    """DEPS of autopilot_library/autopilot_test against the areas defining them."""
    calls = []  # (area, file, line, name, deps)
    defined = {}  # library name -> area
    for area in rank:
        for dirpath, _, names in os.walk(os.path.join(src, area)):
            if "CMakeLists.txt" not in names:
                continue
            path = os.path.join(dirpath, "CMakeLists.txt")
            with open(path) as f:
                text = f.read()
            for m in CMAKE_CALL.finditer(text):
                words = m.group(2).split()
                line = text.count("\n", 0, m.start()) + 1
                deps = words[words.index("DEPS") + 1:] if "DEPS" in words else []
                rel = os.path.relpath(path, os.path.dirname(src))
                calls.append((area, rel, line, words[0], deps))
                defined[words[0]] = area
    for area, rel, line, name, deps in calls:
        for dep in deps:
            other = defined.get(dep)
            if other is not None and rank[other] > rank[area]:
                errors.append(f"{rel}:{line}: {name} depends on {dep}, "
                              f"of {other}: a higher area than {area} (src/LAYERS)")
    return len(calls)


def readme_layers(path, rank):
    """The area names of README's layout paragraph, in order, and its line."""
    with open(path) as f:
        lines = f.read().split("\n")
    for start, line in enumerate(lines):
        if line.startswith("Layout ("):
            break
    else:
        return None, 0
    paragraph = []
    for line in lines[start:]:
        if not line.strip():
            break
        paragraph.append(line)
    # Every `name` that is a bare word (not `os/linux`, `main.cc`) in order.
    names = re.findall(r"`([a-z0-9_]+)`", " ".join(paragraph))
    return names, start + 1


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    src = os.path.join(root, "src")
    layers = read_layers(os.path.join(src, "LAYERS"))
    rank = {area: i for i, area in enumerate(layers)}
    errors = []
    for area in layers:
        if not os.path.isdir(os.path.join(src, area)):
            errors.append(f"src/LAYERS: {area} has no directory src/{area}/")
    check_includes(src, rank, errors)
    ncalls = check_deps(src, rank, errors)
    names, line = readme_layers(os.path.join(root, "README.md"), rank)
    if names is None:
        errors.append("README.md: no layout paragraph (a line starting \"Layout (\")")
    elif names != layers:
        errors.append(f"README.md:{line}: the layout paragraph names the areas {' '.join(names)}; "
                      f"src/LAYERS has {' '.join(layers)}")
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} violation(s) of src/LAYERS")
        return 1
    print(f"check_layers: {len(layers)} areas, includes and the DEPS of {ncalls} targets in order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
