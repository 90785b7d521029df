// SPDX-License-Identifier: GPL-2.0
/*
 * Host and guest state around VM entry and exit: everything the VMCS does
 * not switch by itself, in one place and in the order of KVM's
 * vmx_vcpu_run().  One entry, interrupts off (switch_enter_guest()):
 *
 *  1. the host CR3 and CR4 that the exit returns to (vmcs.c)
 *  2. for a stretch of entries on one CPU: the state the guest borrows,
 *     the user's segments, KERNEL_GS_BASE and the SYSCALL MSRs
 *  3. the guest's x87/SSE/AVX state and XCR0, then its PKRU
 *  4. debug registers: the host's DR7 off, the guest's DR0-3 in
 *  5. perf's MSRs, in the VM-entry and VM-exit MSR-load areas
 *  6. guest execution (noinstr, switch_enter_exit()): RCU and context
 *     tracking told, the L1D flushed, CR2; vmenter.S loads the guest's
 *     registers, clears CPU buffers, enters, and after the exit saves and
 *     clears them, refills the RSB, rewrites SPEC_CTRL and clears branch
 *     history; a host NMI is handed to the host
 *  7. the host's debug registers and DEBUGCTL back
 *  8. the host's PKRU, XCR0, and the guest's FPU state saved
 *  9. a machine check handed to the host; VMSCAPE's IBPB asked for
 *
 * What selects each step on a given host: spec.c, hostpolicy.c, and
 * README's table "Speculation and host events".
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/perf_event.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>

#include "compat.h"
#include "hostpolicy.h"
#include "xvcpu.h"
#include "vmcs.h"

/*
 * Guest x87/SSE/AVX state lives in an XSAVE (or FXSAVE) area, loaded
 * between kernel_fpu_begin() and kernel_fpu_end(): the user's own state
 * is saved by kernel_fpu_begin() and restored on return to userspace.
 * XRSTOR and XSAVE cover only the components guests may enable (x87, SSE,
 * AVX, AVX-512): never PKRU, which is switched on its own (step 3), nor
 * AMX tiles, MPX or any later component.
 */
static unsigned int fpu_area_size;
static u64 fpu_xsave_mask;
static u64 host_xcr0;
u64 xvcpu_guest_xcr0_supported;

/* x87, SSE, AVX, AVX-512 opmask/ZMM_Hi256/Hi16_ZMM (SDM Vol. 1 13.1) */
#define XCR0_GUEST_COMPONENTS	(BIT_ULL(0) | BIT_ULL(1) | BIT_ULL(2) | \
				 BIT_ULL(5) | BIT_ULL(6) | BIT_ULL(7))
#define FXSAVE_MXCSR_OFFSET	24
#define DR7_RESET_VALUE		0x400UL
/* DR7 L0-L3/G0-G3: a breakpoint is armed */
#define DR7_ENABLES		0xffUL

/* Entries of each MSR-load area (one page holds both) */
#define MSR_SWITCH_MAX		8

/* Host MSRs the guest's values replace while it runs: same on every CPU. */
static struct xvcpu_guest_msrs host_msrs;

void xvcpu_switch_module_init(void)
{
	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		fpu_xsave_mask = host_xcr0 & XCR0_GUEST_COMPONENTS;
		xvcpu_guest_xcr0_supported = fpu_xsave_mask;
		/* PKRU: switched on its own, where the host has PKU on */
		if (cpu_feature_enabled(X86_FEATURE_PKU) &&
		    cpu_feature_enabled(X86_FEATURE_OSPKE))
			xvcpu_guest_xcr0_supported |= host_xcr0 &
						      XFEATURE_MASK_PKRU;
		fpu_area_size = roundup_pow_of_two(cpuid_ebx(0xd));
	} else {
		fpu_area_size = 512;
	}
	rdmsrl(MSR_STAR, host_msrs.star);
	rdmsrl(MSR_LSTAR, host_msrs.lstar);
	rdmsrl(MSR_CSTAR, host_msrs.cstar);
	rdmsrl(MSR_SYSCALL_MASK, host_msrs.sfmask);
}

int xvcpu_switch_vcpu_init(struct xvcpu_vcpu *vcpu)
{
	struct page *page;

	/* A power-of-two kmalloc is aligned to its size: 64 for XSAVE */
	vcpu->fpu = kzalloc(fpu_area_size, GFP_KERNEL_ACCOUNT);
	if (!vcpu->fpu)
		return -ENOMEM;
	*(u16 *)vcpu->fpu = 0x37f;	/* FCW after FNINIT */
	*(u32 *)(vcpu->fpu + FXSAVE_MXCSR_OFFSET) = 0x1f80;

	page = xvcpu_alloc_page();
	if (!page)
		return -ENOMEM;
	vcpu->msr_load = page_address(page);
	vcpu->msr_load_pa = page_to_phys(page);
	vcpu->pkru = 0;			/* PKRU after reset */
	return 0;
}

/* Also for a partly initialized vCPU. */
void xvcpu_switch_vcpu_free(struct xvcpu_vcpu *vcpu)
{
	kfree(vcpu->fpu);
	if (vcpu->msr_load)
		xvcpu_free_page(virt_to_page(vcpu->msr_load));
}

static void fpu_load_guest(void *area)
{
	if (fpu_xsave_mask)
		asm volatile("xrstor64 (%0)" : : "r" (area),
			     "a" ((u32)fpu_xsave_mask),
			     "d" ((u32)(fpu_xsave_mask >> 32)) : "memory");
	else
		asm volatile("fxrstor64 (%0)" : : "r" (area) : "memory");
}

static void fpu_save_guest(void *area)
{
	if (fpu_xsave_mask)
		asm volatile("xsave64 (%0)" : : "r" (area),
			     "a" ((u32)fpu_xsave_mask),
			     "d" ((u32)(fpu_xsave_mask >> 32)) : "memory");
	else
		asm volatile("fxsave64 (%0)" : : "r" (area) : "memory");
}

/*
 * Host state the guest borrows while it runs: the SYSCALL MSRs and
 * KERNEL_GS_BASE (SWAPGS in the guest swaps with it), and the user's
 * segment selectors, which VM exit replaces with the null selectors of
 * the host-state area.  Saved once per stretch of runs on one CPU and
 * given back before the thread leaves the CPU or returns to userspace.
 */
struct host_user_state {
	bool saved;
	u16 ds, es, fs, gs;
	unsigned long fs_base;
	u64 kernel_gs_base;
};

static DEFINE_PER_CPU(struct host_user_state, host_user_state);

static void switch_load_user_state(struct xvcpu_vcpu *vcpu)
{
	struct host_user_state *h = this_cpu_ptr(&host_user_state);

	if (h->saved)
		return;
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	rdmsrl(MSR_FS_BASE, h->fs_base);
	/* Read once per stretch: it cannot change while the ioctl runs */
	vmcs_set_host_fs_base(vcpu, h->fs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, vcpu->msrs.kernel_gs_base);
	wrmsrl(MSR_STAR, vcpu->msrs.star);
	wrmsrl(MSR_LSTAR, vcpu->msrs.lstar);
	wrmsrl(MSR_CSTAR, vcpu->msrs.cstar);
	wrmsrl(MSR_SYSCALL_MASK, vcpu->msrs.sfmask);
	h->saved = true;
}

/* Give the host back its state; interrupts or preemption off. */
void xvcpu_switch_put_user_state(struct xvcpu_vcpu *vcpu)
{
	struct host_user_state *h = this_cpu_ptr(&host_user_state);

	if (!h->saved)
		return;
	rdmsrl(MSR_KERNEL_GS_BASE, vcpu->msrs.kernel_gs_base);
	wrmsrl(MSR_STAR, host_msrs.star);
	wrmsrl(MSR_LSTAR, host_msrs.lstar);
	wrmsrl(MSR_CSTAR, host_msrs.cstar);
	wrmsrl(MSR_SYSCALL_MASK, host_msrs.sfmask);
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, h->fs_base);
	}
	if (h->gs)
		load_gs_index(h->gs);
	wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	/*
	 * VM exit leaves the TR limit at 0x67 and the GDTR limit at 0xffff
	 * (SDM Vol. 3C 28.5.2): restore the kernel's.
	 */
	invalidate_tss_limit();
	load_fixmap_gdt(smp_processor_id());
	h->saved = false;
}

static u64 *guest_msr_field(struct xvcpu_vcpu *vcpu, u32 index)
{
	switch (index) {
	case MSR_KERNEL_GS_BASE:
		return &vcpu->msrs.kernel_gs_base;
	case MSR_STAR:
		return &vcpu->msrs.star;
	case MSR_LSTAR:
		return &vcpu->msrs.lstar;
	case MSR_CSTAR:
		return &vcpu->msrs.cstar;
	default:
		return &vcpu->msrs.sfmask;
	}
}

/* In the CPU while the guest's are loaded, else in the vCPU. */
u64 xvcpu_guest_msr_get(struct xvcpu_vcpu *vcpu, u32 index)
{
	u64 v;

	if (!this_cpu_read(host_user_state.saved))
		return *guest_msr_field(vcpu, index);
	rdmsrl(index, v);
	return v;
}

/* The caller checked @value: a WRMSR here must not fault. */
void xvcpu_guest_msr_set(struct xvcpu_vcpu *vcpu, u32 index, u64 value)
{
	*guest_msr_field(vcpu, index) = value;
	if (this_cpu_read(host_user_state.saved))
		wrmsrl(index, value);
}

/*
 * PKRU (SDM Vol. 3A, chapter "Paging", section "Protection Keys"): the
 * kernel keeps the task's value live for its own accesses to user memory,
 * so it is never in the XRSTOR mask.  The guest's goes in by WRPKRU
 * where the guest can reach it (CR4.PKE, which only a CPUID table with PKU
 * allows, or PKRU in its XCR0), right before entry, and the host's comes
 * back right after the exit, before anything on the host side touches
 * user memory.
 */
static bool switch_load_guest_pkru(struct xvcpu_vcpu *vcpu, u32 *host_pkru)
{
	if (!cpu_feature_enabled(X86_FEATURE_PKU) ||
	    !cpu_feature_enabled(X86_FEATURE_OSPKE))
		return false;
	/* XRSTOR in the guest reaches PKRU through XCR0 alone */
	if (!(vcpu->xcr0 & XFEATURE_MASK_PKRU) &&
	    !(vmcs_read(VMCS_GUEST_CR4) & X86_CR4_PKE))
		return false;
	*host_pkru = rdpkru();
	if (vcpu->pkru != *host_pkru)
		wrpkru(vcpu->pkru);
	return true;
}

static void switch_put_guest_pkru(struct xvcpu_vcpu *vcpu, u32 host_pkru)
{
	vcpu->pkru = rdpkru();
	if (vcpu->pkru != host_pkru)
		wrpkru(host_pkru);
}

/*
 * Guest breakpoints (event.c keeps DR0-3 and whether the guest's DR7
 * arms any): the host's DR7 is turned off first, so that no host
 * breakpoint fires at a guest address while they are loaded.  VM entry
 * loads the guest's DR7 from the VMCS, VM exit clears DR7.
 */
static bool switch_load_guest_dr(struct xvcpu_vcpu *vcpu,
				 unsigned long host_dr7)
{
	if (!vcpu->guest_dr_active)
		return false;
	if (host_dr7 & DR7_ENABLES)
		set_debugreg(0, 7);
	set_debugreg(vcpu->db[0], 0);
	set_debugreg(vcpu->db[1], 1);
	set_debugreg(vcpu->db[2], 2);
	set_debugreg(vcpu->db[3], 3);
	return true;
}

/*
 * Perf's counters must not count the guest where the host excluded it,
 * and PEBS must never write during guest execution: perf says which MSRs
 * differ between host and guest time, and VM entry and exit load them
 * atomically.  No guest PMU, so no guest PEBS: no perf data is passed.
 */
static void switch_perf_msrs(struct xvcpu_vcpu *vcpu)
{
	struct perf_guest_switch_msr *msrs;
	struct msr_load_entry *guest = vcpu->msr_load;
	unsigned int n = 0;
	bool overflow;
	int nr = 0;

	BUILD_BUG_ON(sizeof(struct msr_switch) !=
		     sizeof(struct perf_guest_switch_msr));
	BUILD_BUG_ON(offsetof(struct msr_switch, guest) !=
		     offsetof(struct perf_guest_switch_msr, guest));
	BUILD_BUG_ON(2 * MSR_SWITCH_MAX * sizeof(*guest) > PAGE_SIZE);

	msrs = perf_guest_get_msrs(&nr, NULL);
	if (msrs) {
		n = msr_switch_lists((const struct msr_switch *)msrs, nr,
				     guest, guest + MSR_SWITCH_MAX,
				     MSR_SWITCH_MAX, &overflow);
		if (overflow)
			pr_warn_once("perf switches more than %d MSRs around guest execution: the rest count guest time\n",
				     MSR_SWITCH_MAX);
	}
	if (n == vcpu->msr_load_nr)
		return;
	if (!vcpu->msr_load_nr) {
		vmcs_write(VMCS_ENTRY_MSR_LOAD_ADDR, vcpu->msr_load_pa);
		vmcs_write(VMCS_EXIT_MSR_LOAD_ADDR, vcpu->msr_load_pa +
			   MSR_SWITCH_MAX * sizeof(*guest));
	}
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, n);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, n);
	vcpu->msr_load_nr = n;
}

/*
 * L1TF: displace the L1D by reading a buffer twice its size, after
 * touching each of its pages so that no page walk brings host data back.
 */
static noinstr void switch_flush_l1d_software(void)
{
	const unsigned int size = PAGE_SIZE << XVCPU_L1D_FLUSH_ORDER;
	const u8 *buf = xvcpu_l1d_flush_buffer;
	unsigned int i;

	for (i = 0; i < size; i += PAGE_SIZE)
		(void)READ_ONCE(buf[i]);
	/* CPUID serializes: the loads above are done before the next ones */
	asm volatile("cpuid" : : "a" (0) : "ebx", "ecx", "edx", "memory");
	for (i = 0; i < size; i += L1_CACHE_BYTES)
		(void)READ_ONCE(buf[i]);
}

static __always_inline void switch_flush_l1d(void)
{
	switch (xvcpu_entry_policy.l1d_flush) {
	case L1D_FLUSH_MSR:
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		break;
	case L1D_FLUSH_SOFTWARE:
		switch_flush_l1d_software();
		break;
	default:
		break;
	}
}

/*
 * Guest execution.  Between guest_state_enter_irqoff() and
 * guest_state_exit_irqoff() the CPU counts as in the guest for RCU and
 * context tracking (an RCU and RCU-Tasks quiescent state, as KVM does),
 * and lockdep sees interrupts as on; nothing here may be instrumented.
 */
static noinstr int switch_enter_exit(struct xvcpu_vcpu *vcpu, u32 *reason,
				     u32 *intr_info)
{
	unsigned long flags = 0;
	int failed;

	if (vcpu->launched)
		flags |= XVCPU_ENTER_VMRESUME;
	if (xvcpu_entry_policy.spec_ctrl_after_exit)
		flags |= XVCPU_ENTER_SPEC_CTRL;

	guest_state_enter_irqoff();
	switch_flush_l1d();
	if (native_read_cr2() != vcpu->cr2)
		native_write_cr2(vcpu->cr2);

	failed = xvcpu_vmenter(vcpu->gprs, flags);

	vcpu->cr2 = native_read_cr2();
	if (!failed) {
		*reason = vmcs_read(VMCS_EXIT_REASON);
		if ((u16)*reason == VMX_EXIT_EXCEPTION_NMI)
			*intr_info = vmcs_read(VMCS_EXIT_INTR_INFO);
		/* An NMI taken by the exit (NMI exiting): the host's now */
		if (exit_host_event(*reason, *intr_info) == HOST_EVENT_NMI) {
			if (xvcpu_entry_policy.nmi_via_fred)
				xvcpu_fred_nmi();
			else
				asm volatile("int $2");
		}
	}
	guest_state_exit_irqoff();
	return failed;
}

/*
 * A machine check that arrived during guest execution or VM entry: the
 * host's machine-check handler takes it, as if it had interrupted user
 * mode (the guest is not the kernel), interrupts still off.
 */
static void switch_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = {
		.cs = __USER_CS,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/*
 * One VM entry and exit, preemption off and the VMCS current.  Returns the
 * exit reason, or -EAGAIN to come back later (a reschedule or signal is
 * due), or -EIO if VMLAUNCH/VMRESUME itself failed.
 */
long xvcpu_switch_enter_guest(struct xvcpu_vcpu *vcpu)
{
	unsigned long debugctl, dr7;
	bool guest_dr, guest_xcr0, guest_pkru;
	u32 reason = 0, intr_info = 0, host_pkru = 0;
	int failed;

	kernel_fpu_begin();
	local_irq_disable();
	if (need_resched() || signal_pending(current)) {
		local_irq_enable();
		kernel_fpu_end();
		return -EAGAIN;
	}

	event_prepare_entry(vcpu);
	/* 1, 2 */
	vmcs_refresh_host_state(vcpu);
	switch_load_user_state(vcpu);
	/* 3: the guest's XCR0 was checked by the XSETBV exit (exit.c) */
	fpu_load_guest(vcpu->fpu);
	guest_xcr0 = fpu_xsave_mask && vcpu->xcr0 != host_xcr0;
	if (guest_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
	guest_pkru = switch_load_guest_pkru(vcpu, &host_pkru);
	/* 4: VM exit clears DR7 and IA32_DEBUGCTL (SDM Vol. 3C 28.5.1) */
	get_debugreg(dr7, 7);
	rdmsrl(MSR_IA32_DEBUGCTLMSR, debugctl);
	guest_dr = switch_load_guest_dr(vcpu, dr7);
	/* 5 */
	switch_perf_msrs(vcpu);

	/* 6 */
	failed = switch_enter_exit(vcpu, &reason, &intr_info);

	/* 7: hw_breakpoint_restore() puts back all of DR0-3, DR6 and DR7 */
	if (guest_dr)
		hw_breakpoint_restore();
	else if (dr7 != DR7_RESET_VALUE)
		set_debugreg(dr7, 7);
	if (debugctl)
		wrmsrl(MSR_IA32_DEBUGCTLMSR, debugctl);
	/* 8 */
	if (guest_pkru)
		switch_put_guest_pkru(vcpu, host_pkru);
	if (guest_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, host_xcr0);
	fpu_save_guest(vcpu->fpu);

	/* 9 */
	if (!failed) {
		if (!(reason & VMX_EXIT_REASON_ENTRY_FAIL))
			vcpu->launched = true;
		if (exit_host_event(reason, intr_info) ==
		    HOST_EVENT_MACHINE_CHECK)
			switch_machine_check();
	}
	/* VMSCAPE: on the CPU that ran the guest, before preemption is on */
	if (xvcpu_entry_policy.ibpb_exit_to_user)
		this_cpu_write(x86_ibpb_exit_to_user, true);
	/* Pending host interrupts are delivered here (no ack on exit). */
	local_irq_enable();
	kernel_fpu_end();
	return failed ? -EIO : reason;
}
