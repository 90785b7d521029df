// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side decisions around guest execution (see hostpolicy.h).  Each
 * rule follows what KVM's VMX code does on the same host; README's table
 * "Speculation and host events" says where each is carried out.
 */
#include "hostpolicy.h"
#include "../include/xvcpu/vmx.h"

#define CR0_AM		BIT_ULL(18)
#define RFLAGS_AC	BIT_ULL(18)

void host_entry_policy(const struct host_features *f, struct entry_policy *p)
{
	*p = (struct entry_policy){ 0 };

	/*
	 * L1TF: a guest controls its own page tables and could read the L1D
	 * through a not-present entry, so the L1D is flushed before entry on
	 * an affected CPU, unless the CPU says VM entry needs no flush or the
	 * administrator turned the mitigation off.  Without the flush command
	 * the cache is displaced by reading a buffer larger than it.
	 */
	if (f->bug_l1tf && !f->skip_l1dflush_vmentry && !f->l1tf_off &&
	    !f->mitigations_off)
		p->l1d_flush = f->flush_l1d ? L1D_FLUSH_MSR : L1D_FLUSH_SOFTWARE;

	/*
	 * Legacy IBRS protects the kernel only if written after a change to
	 * a less privileged predictor mode: after every VM exit.  The guest
	 * has no SPEC_CTRL of its own, so with eIBRS or none the host's value
	 * stays in force and nothing is written.
	 */
	p->spec_ctrl_after_exit = f->kernel_ibrs;

	/* One vCPU cannot steer the indirect branches of the next. */
	p->ibpb_vcpu_switch = f->ibpb;

	/* VMSCAPE: userspace must not be steered by the guest either. */
	p->ibpb_exit_to_user = f->ibpb_exit_to_user;

	/* Under FRED, INT 2 is not an NMI: the kernel's FRED entry is. */
	p->nmi_via_fred = f->fred;
}

/*
 * The VM-entry MSR-load area (@guest) and the VM-exit one (@host) for
 * perf's list (SDM Vol. 3C, chapter "Virtual-Machine Control Structures",
 * sections "VM-Entry Controls for MSRs" and "VM-Exit Controls for MSRs"):
 * only the MSRs whose two values differ, so that an idle perf costs no
 * MSR load at all.  Returns how many entries each list has; more than
 * @max sets @overflow and the rest stay at the host's value.
 */
unsigned int msr_switch_lists(const struct msr_switch *msrs, int nr,
			      struct msr_load_entry *guest,
			      struct msr_load_entry *host, unsigned int max,
			      bool *overflow)
{
	unsigned int n = 0;
	int i;

	*overflow = false;
	for (i = 0; i < nr; i++) {
		if (msrs[i].host == msrs[i].guest)
			continue;
		if (n == max) {
			*overflow = true;
			break;
		}
		guest[n] = (struct msr_load_entry){
			.index = msrs[i].msr, .value = msrs[i].guest };
		host[n] = (struct msr_load_entry){
			.index = msrs[i].msr, .value = msrs[i].host };
		n++;
	}
	return n;
}

/*
 * An alignment-check #AC arises only at CPL 3 with CR0.AM and RFLAGS.AC
 * set (SDM Vol. 3A, chapter "Interrupt and Exception Handling",
 * "Interrupt 17—Alignment Check Exception (#AC)").  Where the host turned
 * on split-lock detection (Vol. 1, "Bus Locks" and MSR_TEST_CTRL), an #AC
 * in any other case is the host's: a guest's split-locked access.
 */
bool ac_is_guest_alignment_check(bool split_lock_detect, unsigned int cpl,
				 u64 cr0, u64 rflags)
{
	if (!split_lock_detect)
		return true;
	return cpl == 3 && (cr0 & CR0_AM) && (rflags & RFLAGS_AC);
}
