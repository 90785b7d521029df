#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write make bench's results into README.md's performance table.

usage: readme_table.py RESULTS README

Replaces the lines between "<!-- bench-table: begin -->" and
"<!-- bench-table: end -->" of README with a table made from RESULTS
(build/bench/results.txt): the table is never typed by hand.
"""
import re
import sys

WHAT = {
    "pio-out": "port-I/O exit to userspace and back",
    "hlt": "HLT exit round trip",
    "mmio-write": "MMIO exit round trip (VMM moves RIP)",
    "cpuid": "CPUID handled in the kernel",
    "vmcall": "VMCALL hypercall round trip",
    "create": "VM + 64 MiB region + vCPU to first exit",
    "map-1g": "mapping 1 GiB of guest memory",
}
BEGIN = "<!-- bench-table: begin -->"
END = "<!-- bench-table: end -->"


def table(results):
    rows = ["| operation | xvcpu | KVM | xvcpu / KVM |", "|---|---|---|---|"]
    worst = None
    for line in open(results, encoding="utf-8"):
        f = line.split()
        if len(f) != 4:
            continue
        name, x, k, q = f
        rows.append(f"| {WHAT.get(name, name)} | {x.split('.')[0]} | "
                    f"{k.split('.')[0]} | {q} |")
        if q != "n/a" and (worst is None or float(q) > worst):
            worst = float(q)
    if worst is not None:
        rows.append(f"| **worst ratio** | | | **{worst:.2f}** |")
    return "\n".join(rows)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    text = open(sys.argv[2], encoding="utf-8").read()
    pat = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.S)
    if not pat.search(text):
        sys.exit(f"{sys.argv[2]}: no {BEGIN} ... {END} block")
    new = pat.sub(lambda m: f"{BEGIN}\n{table(sys.argv[1])}\n{END}", text)
    open(sys.argv[2], "w", encoding="utf-8").write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
