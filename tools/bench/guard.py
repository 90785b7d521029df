#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hold make bench's results to the committed baseline.

usage: guard.py RESULTS BASELINE

RESULTS: build/bench/results.txt ("NAME XVCPU KVM RATIO" per line).
BASELINE: tools/bench/baseline.txt ("NAME TICKS [TOLERANCE%]").
Fails (exit 1) when an operation of the baseline is missing from the
results or xvcpu's ticks exceed the baseline by more than the tolerance
(3% unless the line says otherwise); says so for each.  Shorter paths
pass, with a hint to lower the baseline.
"""
import sys

DEFAULT_TOLERANCE = 3.0


def read_baseline(path):
    base = {}
    for line in open(path, encoding="utf-8"):
        f = line.split("#")[0].split()
        if not f:
            continue
        tol = float(f[2]) if len(f) > 2 else DEFAULT_TOLERANCE
        base[f[0]] = (float(f[1]), tol)
    return base


def read_results(path):
    res = {}
    for line in open(path, encoding="utf-8"):
        f = line.split()
        if len(f) >= 2 and f[1] != "n/a":
            res[f[0]] = float(f[1])
    return res


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    base = read_baseline(sys.argv[2])
    res = read_results(sys.argv[1])
    bad = 0
    for name, (ticks, tol) in base.items():
        if name not in res:
            print(f"bench guard: {name}: not measured")
            bad += 1
            continue
        grew = (res[name] - ticks) / ticks * 100
        if grew > tol:
            print(f"bench guard: {name}: {res[name]:.0f} ticks, "
                  f"{grew:+.1f}% over the baseline's {ticks:.0f} "
                  f"(tolerance {tol:g}%): shorten the path, or update "
                  f"tools/bench/baseline.txt in the same commit and say why")
            bad += 1
        elif grew < -tol:
            print(f"bench guard: {name}: {res[name]:.0f} ticks, "
                  f"{grew:+.1f}% under the baseline's {ticks:.0f}: "
                  f"lower it in tools/bench/baseline.txt")
    if bad:
        return 1
    print(f"bench guard: {len(base)} operations within the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
