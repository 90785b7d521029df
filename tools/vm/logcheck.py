#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge the serial log of one test-machine run.

The guest's /init prints the guest script's output, which ends with
"XVCPU-RESULT: <rc>", then the whole dmesg between XVCPU-DMESG-BEGIN and
XVCPU-DMESG-END.  Exit status: the guest's rc; 1 if that is 0 but dmesg
shows a kernel problem; 125 if the result or the dmesg dump is missing.
Problems are reported on stderr.
"""

import re
import sys

# Kernel reports that fail a run wherever they appear in dmesg.  "BUG:"
# also covers the debug kernel's "BUG: KASAN: ...", "BUG: sleeping function
# called from invalid context" and lockdep's own BUGs; lockdep's reports
# start with "WARNING:" (circular or recursive locking, inconsistent lock
# state, bad unlock balance, lock held when returning to user space, ...).
BAD = re.compile(
    r"WARNING:|BUG:|Oops|kernel BUG at|general protection fault|"
    r"Call Trace|Kernel panic|scheduling while atomic|"
    r"possible circular locking|inconsistent lock state|"
    r"suspicious RCU usage|possible recursive locking|"
    r"DEBUG_LOCKS_WARN_ON|turning off the locking correctness validator|"
    r"UBSAN:|KASAN:|list_add corruption|list_del corruption|"
    r"unreferenced object|Kernel memory leak detector disabled|"
    r"refcount_t:|soft lockup|hard LOCKUP|unchecked MSR access error")

# Known boot-time WARNs of the emulated machine, ignored as a whole block
# ("[ cut here ]" to "---[ end trace"): (WARN location, required text).
# The file:line part is absent on a kernel without CONFIG_DEBUG_BUGVERBOSE
# (the debug kernel of "make check-debug").
KNOWN_WARNS = [
    # Bochs' XSAVE leaf sizes disagree with the kernel: no XSAVE in guest.
    (re.compile(r"WARNING: CPU: \d+ PID: \d+ at "
                r"(arch/x86/kernel/fpu/xstate\.c:\d+ )?"
                r"fpu__init_system_xstate\+"),
     "XSAVE consistency problem: size"),
    # 6.12: Bochs' legacy topology leaves are inconsistent.
    (re.compile(r"WARNING: CPU: \d+ PID: \d+ at "
                r"(arch/x86/kernel/cpu/topology_common\.c:\d+ )?"
                r"parse_legacy\+"),
     None),
]

TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\] ")


def known_warn(block):
    text = "\n".join(block)
    for where, needs in KNOWN_WARNS:
        if where.search(text) and (needs is None or needs in text):
            # Exactly one WARNING line: the known one.
            if len(re.findall(r"WARNING:", text)) == 1:
                return True
    return False


def dmesg_problems(lines):
    """Lines of dmesg showing problems, known WARN blocks left out."""
    problems, i = [], 0
    while i < len(lines):
        if "[ cut here ]" in lines[i]:
            end = i
            while end < len(lines) and "---[ end trace" not in lines[end]:
                end += 1
            block = lines[i:end + 1]
            if not known_warn(block):
                problems += [line for line in block if BAD.search(line)] or \
                    [block[0]]
            i = end + 1
            continue
        if BAD.search(lines[i]):
            problems.append(lines[i])
        i += 1
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: logcheck.py SERIAL_LOG")
    with open(sys.argv[1], errors="replace") as f:
        log = [line.rstrip("\r\n").replace("\r", "") for line in f]

    result = None
    for line in log:
        m = re.match(r"XVCPU-RESULT: (-?\d+)\s*$", line)
        if m:
            result = int(m.group(1))
    if result is None:
        print("logcheck: no XVCPU-RESULT line", file=sys.stderr)
        for line in dmesg_problems(log)[:10]:
            print("  " + line, file=sys.stderr)
        return 125
    try:
        begin = log.index("XVCPU-DMESG-BEGIN")
        end = log.index("XVCPU-DMESG-END", begin)
    except ValueError:
        print("logcheck: no complete dmesg dump", file=sys.stderr)
        return 125
    dmesg = [TIMESTAMP.sub("", line) for line in log[begin + 1:end]]
    problems = dmesg_problems(dmesg)
    if problems:
        print("logcheck: kernel problems in dmesg:", file=sys.stderr)
        for line in problems[:20]:
            print("  " + line, file=sys.stderr)
        return result or 1
    return min(result, 255) if result >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
