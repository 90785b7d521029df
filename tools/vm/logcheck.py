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

# What fails a run: a dmesg line whose message text (after the timestamp)
# starts as one of these.  The kernel prints its reports at the start of a
# message, or after the pr_fmt() prefix of the code that prints them
# ("watchdog: ", "rcu: "), so a module's own line that merely contains
# such words ("xvcpu: ...: SET_GUEST_DEBUG: flags ... bad (-22)") passes.
# selftests/lib/kmsg.c judges /dev/kmsg with the same list; a pattern
# added here belongs there too (and in both unit tests:
# tools/vm/logcheck_test.py, selftests/unit/kmsg_test.c).
REPORTS = [
    # WARN*(): "WARNING: CPU: 0 PID: 1 at ..."; lockdep's reports
    # ("WARNING: possible circular locking dependency detected",
    # "WARNING: inconsistent lock state", "WARNING: suspicious RCU usage")
    r"WARNING: ",
    # "BUG: KASAN: ...", "BUG: sleeping function called from invalid
    # context", "BUG: scheduling while atomic", "BUG: unable to handle page
    # fault", "BUG: Bad page state", lockdep's own BUGs, ...
    r"BUG: ",
    # SLUB debugging: "BUG kmalloc-64 (Not tainted): Poison overwritten"
    r"BUG .*\): ",
    r"kernel BUG at ",
    # x86's die header: "Oops: general protection fault, ...: 0000 [#1]"
    # on 6.12; on 6.1 without "Oops: ": "general protection fault, ...:
    # 0000 [#1]", "invalid opcode: 0000 [#1]", ...
    r"Oops",
    r"[A-Za-z0-9_ ,-]+: [0-9a-fA-F]{4} \[#[0-9]",
    r"Call Trace:",
    r"Kernel panic - not syncing",
    # the lockup and hang detectors
    r"watchdog: BUG: soft lockup",
    r"watchdog: Watchdog detected hard LOCKUP",
    r"NMI watchdog: Watchdog detected hard LOCKUP",
    r"INFO: task .* blocked for more than ",
    r"INFO: .*detected stall",
    r"rcu: INFO: .*detected stall",
    # the sanitizers and debug checks
    r"KASAN: ",
    r"UBSAN: ",
    r"refcount_t: ",
    r"list_add corruption",
    r"list_del corruption",
    r"DEBUG_LOCKS_WARN_ON\(",
    r"turning off the locking correctness validator",
    r"unreferenced object 0x",
    r"kmemleak: Kernel memory leak detector disabled",
    r"unchecked MSR access error: ",
    # xvcpu's own lines that only a bug in it prints: objects left at
    # unload (kmod/main.c), a VMX instruction that failed on state it
    # wrote (kmod/vmcs.c, kmod/vcpu.c, kmod/vmx.c), its WARN_ONCE() texts
    # (kmod/vmcs.c, kmod/exit.c).
    r"xvcpu: leaked ",
    r"xvcpu: VMWRITE of field .* failed",
    r"xvcpu: vCPU .*: VM entry failed, VM-instruction error ",
    r"xvcpu: VMPTRLD .* failed",
    r"xvcpu: VMCLEAR .* failed",
    r"xvcpu: EPT misconfiguration",
    r"xvcpu: CPU.*: VMXON failed",
]
BAD = re.compile("(?:" + "|".join(REPORTS) + ")")
WARNING = re.compile(r"WARNING: ")


def is_report(text):
    """Whether one line of dmesg text (timestamp removed) is a report."""
    return BAD.match(text) is not None


# Known boot-time WARNs of the emulated machine, ignored as a whole block
# ("[ cut here ]" to "---[ end trace"): (WARN location, required text).
# The file:line part is absent on a kernel without CONFIG_DEBUG_BUGVERBOSE
# (the debug kernel of "make check-debug").
XSTATE_WARN = re.compile(r"WARNING: CPU: \d+ PID: \d+ at "
                         r"(arch/x86/kernel/fpu/xstate\.c:\d+ )?"
                         r"fpu__init_system_xstate\+")
KNOWN_WARNS = [
    # Bochs' XSAVE leaf sizes disagree with the kernel: no XSAVE in guest.
    (XSTATE_WARN, "XSAVE consistency problem: size"),
    # The tigerlake model's XSAVE leaves (PKRU and later components) too.
    (XSTATE_WARN, "x86/fpu: misordered xstate at"),
    (XSTATE_WARN, "[Protection Keys User registers]: struct is"),
    # 6.12: Bochs' legacy topology leaves are inconsistent.
    (re.compile(r"WARNING: CPU: \d+ PID: \d+ at "
                r"(arch/x86/kernel/cpu/topology_common\.c:\d+ )?"
                r"parse_legacy\+"),
     None),
]

# "[   12.345678] ", and "[    T123] " with CONFIG_PRINTK_CALLER
TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? ?")


def known_warn(block):
    """Whether @block ("[ cut here ]" to "---[ end trace") is a known WARN:
    its one report is the known WARNING line and its stack trace."""
    text = "\n".join(block)
    warnings = [line for line in block if WARNING.match(line)]
    others = [line for line in block
              if is_report(line) and not WARNING.match(line) and
              not line.startswith("Call Trace:")]
    if len(warnings) != 1 or others:
        return False
    for where, needs in KNOWN_WARNS:
        if where.match(warnings[0]) and (needs is None or needs in text):
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
                problems += [line for line in block if is_report(line)] or \
                    [block[0]]
            i = end + 1
            continue
        if is_report(lines[i]):
            problems.append(lines[i])
        i += 1
    return problems


def judge(log):
    """Exit status and what to report (lines) for serial log lines @log."""
    result = None
    for line in log:
        m = re.match(r"XVCPU-RESULT: (-?\d+)\s*$", line)
        if m:
            result = int(m.group(1))
    if result is None:
        # Hints: the guest's console, which shows the kernel's reports
        # as they happen when the run died before its dmesg dump.
        console = [TIMESTAMP.sub("", line) for line in log]
        return 125, ["logcheck: no XVCPU-RESULT line"] + \
            ["  " + line for line in dmesg_problems(console)[:10]]
    try:
        begin = log.index("XVCPU-DMESG-BEGIN")
        end = log.index("XVCPU-DMESG-END", begin)
    except ValueError:
        return 125, ["logcheck: no complete dmesg dump"]
    dmesg = [TIMESTAMP.sub("", line) for line in log[begin + 1:end]]
    problems = dmesg_problems(dmesg)
    if problems:
        return result or 1, ["logcheck: kernel problems in dmesg:"] + \
            ["  " + line for line in problems[:20]]
    return (min(result, 255) if result >= 0 else 1), []


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: logcheck.py SERIAL_LOG")
    with open(sys.argv[1], errors="replace") as f:
        log = [line.rstrip("\r\n").replace("\r", "") for line in f]
    rc, report = judge(log)
    for line in report:
        print(line, file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
