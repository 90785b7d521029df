#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side tests of logcheck.py, the judge of a test-machine run.

Small synthetic serial logs: every kind of kernel report fails the run,
the known boot WARNs of the emulated machine and xvcpu's own lines that
merely contain report words pass, xvcpu's lines that only a bug in it
prints fail, and a log without its result or dmesg dump is 125.  The
lines of selftests/unit/kmsg_test.c, the unit test of the other judge
(selftests/lib/kmsg.c), must get the same verdict here.

    python3 tools/vm/logcheck_test.py [-v]
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import logcheck  # noqa: E402


def serial_log(dmesg, result=0, tap=()):
    """A run's serial log: guest script output, result, dmesg dump."""
    log = ["XVCPU-BOOT: 6.12.118+deb12-amd64 2 cpus", "TAP version 13"]
    log += list(tap)
    if result is not None:
        log.append("XVCPU-RESULT: %d" % result)
    log += ["XVCPU-SCRIPT-EXIT: 0", "XVCPU-DMESG-BEGIN",
            "[    0.000000] Linux version 6.12.118+deb12-amd64"]
    t = 1.0
    for line in dmesg:
        log.append("[%12.6f] %s" % (t, line))
        t += 0.001
    log.append("XVCPU-DMESG-END")
    return log


def warn_block(warning, message=None, inside=()):
    """A WARN as the kernel prints it, "cut here" to "end trace"."""
    block = ["------------[ cut here ]------------"]
    if message:
        block.append(message)
    block += [warning,
              "Modules linked in:",
              "CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted "
              "6.12.118+deb12-amd64 #1  Debian 6.12.118-1~deb12u1",
              "Hardware name:  , BIOS Bochs 2.7 29/12/2019",
              "RIP: 0010:fpu__init_system_xstate+0xc5e/0x10d0",
              "RSP: 0000:ffffffff82c03e20 EFLAGS: 00010286"]
    block += list(inside)
    block += ["Call Trace:", " <TASK>", " fpu__init_system+0xe0/0x1b0",
              " start_kernel+0x5b8/0x8d0", " </TASK>",
              "---[ end trace 0000000000000000 ]---"]
    return block


XSAVE_WARN = "WARNING: CPU: 0 PID: 0 at arch/x86/kernel/fpu/xstate.c:605 " \
    "fpu__init_system_xstate+0xc5e/0x10d0"
XSAVE_MSG = "XSAVE consistency problem: size 880 != kernel_size 840"
LEGACY_WARN = "WARNING: CPU: 0 PID: 0 at " \
    "arch/x86/kernel/cpu/topology_common.c:57 parse_legacy+0x10e/0x130"
REFUSAL = "xvcpu: debug_test[88]: SET_GUEST_DEBUG: flags 0x80 bad (-22)"

# Lines that fail a run, at least one for each logcheck.REPORTS pattern.
BAD_LINES = [
    "WARNING: CPU: 1 PID: 213 at kmod/exit.c:390 "
    "handle_ept_misconfig+0x3c/0x50 [xvcpu]",
    "WARNING: possible circular locking dependency detected",
    "BUG: KASAN: slab-use-after-free in vcpu_run+0x1a/0x300 [xvcpu]",
    "BUG: sleeping function called from invalid context at mm/slab.h:494",
    "BUG kmalloc-64 (Not tainted): Poison overwritten",
    "kernel BUG at kmod/vm.c:151!",
    "Oops: general protection fault, probably for non-canonical address "
    "0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI",
    "general protection fault, probably for non-canonical address "
    "0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI",
    "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
    "Call Trace:",
    "Kernel panic - not syncing: Fatal exception",
    "watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [fuzz_test:91]",
    "watchdog: Watchdog detected hard LOCKUP on cpu 1",
    "NMI watchdog: Watchdog detected hard LOCKUP on cpu 1",
    "INFO: task hotplug_test:120 blocked for more than 122 seconds.",
    "INFO: rcu_sched detected stalls on CPUs/tasks:",
    "rcu: INFO: rcu_preempt self-detected stall on CPU",
    "KASAN: null-ptr-deref in range "
    "[0x0000000000000008-0x000000000000000f]",
    "UBSAN: array-index-out-of-bounds in kmod/exit.c:402:9",
    "refcount_t: underflow; use-after-free.",
    "list_add corruption. prev->next should be next (ffff888003b0a000), "
    "but was 0000000000000000. (prev=ffff888003b0a010).",
    "list_del corruption, ffff888003b0a000->next is LIST_POISON1 "
    "(dead000000000100)",
    "DEBUG_LOCKS_WARN_ON(1)",
    "turning off the locking correctness validator.",
    "unreferenced object 0xffff888004d0c000 (size 4096):",
    "kmemleak: Kernel memory leak detector disabled",
    "unchecked MSR access error: WRMSR to 0x10 (tried to write "
    "0x0000000000000000) at rIP: 0xffffffffc0123456 (vcpu_run+0x56/0x300)",
    "xvcpu: leaked 3 pages, 0 VMs, 0 vCPUs",
    "xvcpu: VMWRITE of field 0x681e = 0x1000 failed "
    "(VM-instruction error 12)",
    "xvcpu: vCPU 0: VM entry failed, VM-instruction error 7",
    "xvcpu: VMPTRLD 0x4a1f000 failed",
    "xvcpu: VMCLEAR 0x4a1f000 failed",
    "xvcpu: EPT misconfiguration at GPA 0xc0000000",
    "xvcpu: CPU1: VMXON failed (-5)",
]

# Lines that do not: xvcpu's refusals and notes (the caller's doing or the
# guest's, not a bug), report words inside other messages.
GOOD_LINES = [
    REFUSAL,
    "xvcpu: fuzz_test[91]: SET_EVENTS: NMI injection needs virtual NMIs "
    "(-22)",
    "xvcpu: vCPU 0: VM entry failed, exit reason 0x80000021 "
    "(qualification 0)",
    "xvcpu: vCPU 0: invalid guest state: CS (0x802): L and D/B both set",
    "xvcpu: vCPU 1: triple fault (shutdown) at RIP 0xfff0",
    "xvcpu: vCPU 0: exit reason 9 at RIP 0x1000 is not handled; "
    "reported to userspace",
    "xvcpu: CPU0: VMX is already in use by another hypervisor "
    "(CR4.VMXE is set; is kvm_intel loaded?)",
    "xvcpu: VMX on 2 CPUs: EPT (2 MiB pages), VPID, unrestricted guest",
    "xvcpu: unloaded: VMX off on every CPU",
    "xvcpu: test[1]: note: WARNING: BUG: Oops Call Trace: (-22)",
    "Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on",
    "kmemleak: 2 new suspected memory leaks "
    "(see /sys/kernel/debug/kmemleak)",
    "XSAVE consistency problem: size 880 != kernel_size 840",
    "INFO: lockdep is turned off.",
]


def judge(log):
    return logcheck.judge(log)[0]


class Lines(unittest.TestCase):
    def test_bad_lines_fail(self):
        for line in BAD_LINES:
            with self.subTest(line=line):
                self.assertEqual(1, judge(serial_log(["ok", line])))

    def test_good_lines_pass(self):
        for line in GOOD_LINES:
            with self.subTest(line=line):
                self.assertEqual(0, judge(serial_log(["ok", line])))

    def test_every_pattern_has_a_failing_line(self):
        for pattern in logcheck.REPORTS:
            with self.subTest(pattern=pattern):
                self.assertTrue(any(re.match(pattern, line)
                                    for line in BAD_LINES))

    def test_problem_lines_are_reported(self):
        rc, report = logcheck.judge(serial_log(
            [REFUSAL, "xvcpu: leaked 3 pages, 0 VMs, 0 vCPUs"]))
        self.assertEqual(1, rc)
        self.assertEqual(["logcheck: kernel problems in dmesg:",
                          "  xvcpu: leaked 3 pages, 0 VMs, 0 vCPUs"], report)

    def test_kmsg_judge_agrees(self):
        """The kmsg.c unit test's lines get the same verdicts here."""
        path = os.path.join(TOP, "selftests", "unit", "kmsg_test.c")
        with open(path) as f:
            cases = re.findall(
                r'^\s*\{ ("(?:[^"\\]|\\.)*"), (true|false) \},$',
                f.read(), re.M)
        self.assertGreater(len(cases), 40)
        for text, bad in cases:
            line = text[1:-1].replace('\\"', '"')
            with self.subTest(line=line):
                self.assertEqual(bad == "true", logcheck.is_report(line))


class Reports(unittest.TestCase):
    def test_clean_run_passes(self):
        self.assertEqual(0, judge(serial_log(["xvcpu: loaded", REFUSAL])))

    def test_guest_result_is_the_status(self):
        self.assertEqual(3, judge(serial_log([], result=3)))
        self.assertEqual(255, judge(serial_log([], result=300)))
        self.assertEqual(1, judge(serial_log([], result=-2)))
        # a guest failure and a kernel problem: the guest's status
        self.assertEqual(3, judge(serial_log(["BUG: x"], result=3)))

    def test_kasan_report_fails(self):
        self.assertEqual(1, judge(serial_log([
            "=" * 66,
            "BUG: KASAN: slab-out-of-bounds in ept_map+0x2d/0x200 [xvcpu]",
            "Read of size 8 at addr ffff888004d0d000 by task api_test/61",
            "",
            "CPU: 1 UID: 0 PID: 61 Comm: api_test Tainted: G        W  O",
            "Call Trace:",
            " <TASK>",
            " dump_stack_lvl+0x5d/0x80",
            " </TASK>",
            "=" * 66])))

    def test_oops_fails(self):
        self.assertEqual(1, judge(serial_log([
            "BUG: kernel NULL pointer dereference, address: 0000000000000008",
            "#PF: supervisor read access in kernel mode",
            "#PF: error_code(0x0000) - not-present page",
            "Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI",
            "RIP: 0010:vcpu_run+0x1a/0x300 [xvcpu]"])))

    def test_unknown_warn_fails(self):
        self.assertEqual(1, judge(serial_log(warn_block(
            "WARNING: CPU: 1 PID: 70 at kmod/vmcs.c:119 "
            "vmcs_load+0x40/0x60 [xvcpu]"))))
        # An EPT misconfiguration: xvcpu's WARN_ONCE text, then the WARN
        rc, report = logcheck.judge(serial_log(warn_block(
            "WARNING: CPU: 0 PID: 90 at kmod/exit.c:390 "
            "handle_ept_misconfig+0x3c/0x50 [xvcpu]",
            message="xvcpu: EPT misconfiguration at GPA 0xc0000000")))
        self.assertEqual(1, rc)
        self.assertIn("  xvcpu: EPT misconfiguration at GPA 0xc0000000",
                      report)

    def test_known_bochs_warns_pass(self):
        log = warn_block(LEGACY_WARN) + ["xvcpu: loaded"] + \
            warn_block(XSAVE_WARN, message=XSAVE_MSG)
        self.assertEqual(0, judge(serial_log(log)))
        # the tigerlake model's two more xstate WARNs
        log = warn_block(XSAVE_WARN,
                         message="x86/fpu: misordered xstate at 1664") + \
            warn_block(XSAVE_WARN, message="[Protection Keys User "
                       "registers]: struct is 8 bytes, cpu state 0 bytes")
        self.assertEqual(0, judge(serial_log(log)))
        # the debug kernel has no file:line (no CONFIG_DEBUG_BUGVERBOSE)
        self.assertEqual(0, judge(serial_log(warn_block(
            "WARNING: CPU: 0 PID: 0 at fpu__init_system_xstate+0xc5e/0x10d0",
            message=XSAVE_MSG))))

    def test_known_warn_needs_its_text(self):
        self.assertEqual(1, judge(serial_log(warn_block(
            XSAVE_WARN, message="x86/fpu: xstate feature 9 bad"))))

    def test_known_warn_block_hides_nothing_else(self):
        # another CPU's report inside the block
        self.assertEqual(1, judge(serial_log(warn_block(
            XSAVE_WARN, message=XSAVE_MSG,
            inside=["BUG: scheduling while atomic: migrate_test/80/0x2"]))))
        # a second WARN inside it
        self.assertEqual(1, judge(serial_log(warn_block(
            XSAVE_WARN, message=XSAVE_MSG,
            inside=["WARNING: CPU: 1 PID: 80 at kmod/vcpu.c:279 "
                    "vcpu_put+0x10/0x20 [xvcpu]"]))))
        # and lines after it still count
        self.assertEqual(1, judge(serial_log(
            warn_block(XSAVE_WARN, message=XSAVE_MSG) +
            ["xvcpu: leaked 1 pages, 0 VMs, 0 vCPUs"])))

    def test_missing_result(self):
        log = serial_log(["ok"], result=None)
        self.assertEqual(125, judge(log))
        # the console's reports are shown as hints
        log = ["XVCPU-BOOT: 6.1.0-57-amd64 2 cpus",
               "[   99.000000] BUG: unable to handle page fault for address: "
               "ffffc90000123000", "TAP version 13"]
        rc, report = logcheck.judge(log)
        self.assertEqual(125, rc)
        self.assertEqual(["logcheck: no XVCPU-RESULT line",
                          "  BUG: unable to handle page fault for address: "
                          "ffffc90000123000"], report)

    def test_missing_dmesg_dump(self):
        log = serial_log(["ok"])
        self.assertEqual(125, judge(log[:-1]))
        self.assertEqual(125, judge([line for line in log
                                     if line != "XVCPU-DMESG-BEGIN"]))

    def test_command_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write("\r\n".join(serial_log(
                ["xvcpu: leaked 3 pages, 0 VMs, 0 vCPUs"])) + "\r\n")
            f.flush()
            p = subprocess.run([sys.executable,
                                os.path.join(HERE, "logcheck.py"), f.name],
                               capture_output=True, text=True)
        self.assertEqual(1, p.returncode)
        self.assertIn("xvcpu: leaked 3 pages", p.stderr)


if __name__ == "__main__":
    unittest.main()
