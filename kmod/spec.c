// SPDX-License-Identifier: GPL-2.0
/*
 * Speculative-execution hygiene around guest execution, as the host
 * kernel reports its needs (its X86_BUG_* bits and "mitigations="):
 *
 *  - L1TF: the guest controls its page tables, so it could read the L1D
 *    cache through a non-present PTE.  The L1D is flushed before every VM
 *    entry where the CPU is affected and has the flush command, unless
 *    it says VM entry needs none (ARCH_CAPABILITIES.SKIP_L1DFL_VMENTRY).
 *  - MDS, TAA and MMIO stale data: CPU buffers are cleared with VERW
 *    right before VM entry (the L1D flush clears them too).
 *  - Spectre v2 between guests: an IBPB when a CPU starts running a vCPU
 *    of a different VM than it last ran, so one guest cannot steer the
 *    branch predictions of another.
 *  - The RSB is refilled after every VM exit (vmenter.S), and the guest
 *    has no SPEC_CTRL of its own (CPUID leaf 7 EDX is clear), so the
 *    host's SPEC_CTRL value stays in force while the guest runs.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/cpu.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/segment.h>

#include "xvcpu.h"

static bool flush_l1d;
static bool clear_buffers;
static bool ibpb;

static DEFINE_PER_CPU(struct xvcpu_vm *, last_vm);

void xvcpu_spec_init(void)
{
	u64 arch_caps = 0;

	if (cpu_mitigations_off()) {
		pr_info("mitigations=off: no L1D flush, buffer clearing or IBPB around guests\n");
		return;
	}
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl(MSR_IA32_ARCH_CAPABILITIES, arch_caps);

	if (boot_cpu_has_bug(X86_BUG_L1TF) &&
	    !(arch_caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)) {
		if (boot_cpu_has(X86_FEATURE_FLUSH_L1D))
			flush_l1d = true;
		else
			pr_warn("CPU has L1TF but no L1D flush command: a guest may read host data in the L1D cache\n");
	}
	clear_buffers = !flush_l1d && boot_cpu_has(X86_FEATURE_MD_CLEAR) &&
			(boot_cpu_has_bug(X86_BUG_MDS) ||
			 boot_cpu_has_bug(X86_BUG_TAA) ||
			 boot_cpu_has_bug(X86_BUG_MMIO_STALE_DATA));
	ibpb = boot_cpu_has(X86_FEATURE_IBPB);
	pr_info("guest entry: L1D flush %s, CPU buffer clearing %s, IBPB between VMs %s\n",
		flush_l1d ? "on" : "off", clear_buffers ? "on" : "off",
		ibpb ? "on" : "off");
}

/* Right before VM entry, interrupts off. */
void xvcpu_spec_before_entry(void)
{
	if (flush_l1d) {
		wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
	} else if (clear_buffers) {
		u16 ds = __KERNEL_DS;

		/* VERW with a valid writable selector clears the buffers */
		asm volatile("verw %0" : : "m" (ds) : "cc");
	}
}

/* A vCPU of @vm starts on this CPU; preemption off. */
void xvcpu_spec_vm_switch(struct xvcpu_vm *vm)
{
	if (this_cpu_read(last_vm) == vm)
		return;
	this_cpu_write(last_vm, vm);
	if (ibpb)
		wrmsrl(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
}

/* @vm is gone: no CPU may take a new VM at its address for the same one */
void xvcpu_spec_vm_destroyed(struct xvcpu_vm *vm)
{
	int cpu;

	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&last_vm, cpu), vm, NULL);
}
