// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of selftests/lib/kmsg.c, the kernel-log judge of the tests
 * that scan /dev/kmsg: every kind of kernel report, as the kernel prints
 * it, fails; xvcpu's own lines that contain the same words pass, unless
 * only a bug in xvcpu prints them.  tools/vm/logcheck_test.py checks the
 * serial-log judge with the same kinds of lines.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stdio.h>
#include <string.h>
#include "kselftest_harness.h"
#include "xvtest.h"

struct kmsg_case {
	const char *text;
	bool bad;
};

static const struct kmsg_case cases[] = {
	/* WARN() and lockdep */
	{ "WARNING: CPU: 1 PID: 213 at kmod/exit.c:390 handle_ept_misconfig+0x3c/0x50 [xvcpu]", true },
	{ "WARNING: CPU: 0 PID: 1 at handle_ept_misconfig+0x3c/0x50 [xvcpu]", true },
	{ "WARNING: possible circular locking dependency detected", true },
	{ "WARNING: inconsistent lock state", true },
	{ "WARNING: suspicious RCU usage", true },
	{ "WARNING: bad unlock balance detected!", true },
	{ "DEBUG_LOCKS_WARN_ON(1)", true },
	{ "turning off the locking correctness validator.", true },
	/* BUG reports, KASAN, oopses */
	{ "BUG: KASAN: slab-use-after-free in vcpu_run+0x1a/0x300 [xvcpu]", true },
	{ "BUG: sleeping function called from invalid context at mm/slab.h:494", true },
	{ "BUG: scheduling while atomic: api_test/77/0x00000002", true },
	{ "BUG: kernel NULL pointer dereference, address: 0000000000000008", true },
	{ "BUG: unable to handle page fault for address: ffffc90000123000", true },
	{ "BUG kmalloc-64 (Tainted: G        W  O      ): Poison overwritten", true },
	{ "kernel BUG at kmod/vm.c:151!", true },
	{ "KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]", true },
	{ "Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI", true },
	{ "Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI", true },
	{ "Oops: 0002 [#1] PREEMPT SMP NOPTI", true },
	{ "general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI", true },
	{ "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", true },
	{ "Call Trace:", true },
	{ "Kernel panic - not syncing: Fatal exception", true },
	/* lockups, stalls, hangs */
	{ "watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [fuzz_test:91]", true },
	{ "watchdog: Watchdog detected hard LOCKUP on cpu 1", true },
	{ "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", true },
	{ "rcu: INFO: rcu_preempt self-detected stall on CPU", true },
	{ "INFO: task hotplug_test:120 blocked for more than 122 seconds.", true },
	/* other debug checks */
	{ "UBSAN: array-index-out-of-bounds in kmod/exit.c:402:9", true },
	{ "refcount_t: underflow; use-after-free.", true },
	{ "list_add corruption. prev->next should be next (ffff8880), but was 0000000000000000. (prev=ffff8880).", true },
	{ "list_del corruption, ffff888003b0a000->next is LIST_POISON1 (dead000000000100)", true },
	{ "unreferenced object 0xffff888004d0c000 (size 4096):", true },
	{ "kmemleak: Kernel memory leak detector disabled", true },
	{ "unchecked MSR access error: WRMSR to 0x10 (tried to write 0x0000000000000000) at rIP: 0xffffffffc0123456 (vcpu_run+0x56/0x300 [xvcpu])", true },
	/* xvcpu's lines that only a bug in it prints */
	{ "xvcpu: leaked 3 pages, 0 VMs, 0 vCPUs", true },
	{ "xvcpu: VMWRITE of field 0x681e = 0x1000 failed (VM-instruction error 12)", true },
	{ "xvcpu: vCPU 0: VM entry failed, VM-instruction error 7", true },
	{ "xvcpu: VMPTRLD 0x4a1f000 failed", true },
	{ "xvcpu: VMCLEAR 0x4a1f000 failed", true },
	{ "xvcpu: EPT misconfiguration at GPA 0xc0000000", true },
	{ "xvcpu: CPU1: VMXON failed (-5)", true },

	/* xvcpu's refusals and notes: the caller's doing, not a bug */
	{ "xvcpu: debug_test[88]: SET_GUEST_DEBUG: flags 0x80 bad (-22)", false },
	{ "xvcpu: fuzz_test[91]: SET_EVENTS: NMI injection needs virtual NMIs (-22)", false },
	{ "xvcpu: api_test[60]: unknown vCPU ioctl 0xae80 (-25)", false },
	{ "xvcpu: vCPU 0: VM entry failed, exit reason 0x80000021 (qualification 0)", false },
	{ "xvcpu: vCPU 0: invalid guest state: CS (0x802): L and D/B both set", false },
	{ "xvcpu: vCPU 1: triple fault (shutdown) at RIP 0xfff0", false },
	{ "xvcpu: CPU0: VMX is already in use by another hypervisor (CR4.VMXE is set; is kvm_intel loaded?)", false },
	{ "xvcpu: unloaded: VMX off on every CPU", false },
	/* the words inside other lines */
	{ "xvcpu: test[1]: note: WARNING: BUG: Oops Call Trace: (-22)", false },
	{ "Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on", false },
	{ "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)", false },
	{ "INFO: lockdep is turned off.", false },
	{ "", false },
};

TEST(each_line)
{
	const struct kmsg_case *c;

	for (c = cases; c < cases + ARRAY_SIZE(cases); c++) {
		EXPECT_EQ(c->bad, xvt_kmsg_bad(c->text))
			TH_LOG("\"%s\": expected %s", c->text,
			       c->bad ? "a report" : "no report");
	}
}

TEST(records)
{
	char rec[512];

	/* The text is what follows the first ';' */
	strcpy(rec, "4,812,5123456,-;WARNING: CPU: 0 PID: 1 at x+0x1/0x2\n");
	EXPECT_TRUE(xvt_kmsg_record_bad(rec));
	strcpy(rec, "6,813,5123456,-;xvcpu: t[1]: SET_GUEST_DEBUG: flags 0x80 bad (-22)\n");
	EXPECT_FALSE(xvt_kmsg_record_bad(rec));
	/* A line inside the text, after an escaped newline */
	strcpy(rec, "4,814,5123456,-;first line\\x0aCall Trace:\\x0a <TASK>\n");
	EXPECT_TRUE(xvt_kmsg_record_bad(rec));
	strcpy(rec, "4,815,5123456,-;\\x0a\\x0aBUG: KASAN: x\n");
	EXPECT_TRUE(xvt_kmsg_record_bad(rec));
	/* Dictionary lines are not text; the record is left as it was */
	strcpy(rec, "6,816,5123456,-;xvcpu: note\n SUBSYSTEM=WARNING: x\n");
	EXPECT_FALSE(xvt_kmsg_record_bad(rec));
	EXPECT_STREQ("6,816,5123456,-;xvcpu: note\n SUBSYSTEM=WARNING: x\n", rec);
	strcpy(rec, "no separator WARNING: ");
	EXPECT_FALSE(xvt_kmsg_record_bad(rec));
}

TEST_HARNESS_MAIN
