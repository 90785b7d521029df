#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that kmod's files call only downward.

usage: layers.py README OBJDIR

README's "### Layers" section holds, in a fenced block, one layer per
line, top first: the names of kmod's files (without .c/.S) in that layer.
A file may use a symbol (function or variable) of a file in a lower layer
only; the symbols each object defines and uses come from nm.  Any use of a
same-layer or higher file, and any kmod object missing from the list,
fails with one line each.
"""
import collections
import glob
import os
import re
import subprocess
import sys


def read_layers(readme):
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"^### Layers\n.*?^```\n(.*?)^```", text, re.S | re.M)
    if not m:
        sys.exit(f"{readme}: no fenced block under '### Layers'")
    layers = {}
    for depth, line in enumerate(m.group(1).splitlines()):
        for name in line.split("#")[0].split():
            layers[name] = depth
    return layers


def symbols(objdir):
    defined, used = {}, collections.defaultdict(set)
    for obj in sorted(glob.glob(os.path.join(objdir, "*.o"))):
        name = os.path.basename(obj)[:-2]
        if name in ("xvcpu", "xvcpu.mod"):
            continue
        out = subprocess.run(["nm", obj], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBRV":
                defined[f[2]] = name
            elif len(f) == 2 and f[0] == "U":
                used[name].add(f[1])
        used.setdefault(name, set())
    return defined, used


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    layers = read_layers(sys.argv[1])
    defined, used = symbols(sys.argv[2])
    bad = 0
    for name in sorted(used):
        if name not in layers:
            print(f"layers: kmod/{name} is in no layer of README's list")
            bad += 1
            continue
        for sym in sorted(used[name]):
            owner = defined.get(sym)
            if owner is None or owner == name or owner not in layers:
                continue
            if layers[owner] <= layers[name]:
                print(f"layers: kmod/{name} uses {sym} of kmod/{owner},"
                      f" which is not below it")
                bad += 1
    if bad:
        print(f"layers: {bad} upward or sideways use(s)")
        return 1
    print(f"layers: {len(used)} files, every use downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
