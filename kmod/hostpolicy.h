/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host needs around guest execution, decided from what the host
 * kernel says about the CPU and its own mitigations.  Pure logic: the
 * module fills struct host_features from the kernel's feature and bug bits
 * (switch.c), the unit tests from synthetic hosts.  README's table
 * "Speculation and host events" lists each decision next to KVM's.
 */
#ifndef XVCPU_HOSTPOLICY_H
#define XVCPU_HOSTPOLICY_H

#include "types.h"
#include "../include/xvcpu/vmx.h"

struct host_features {
	bool mitigations_off;		/* "mitigations=off" */
	bool bug_l1tf;			/* X86_BUG_L1TF */
	bool l1tf_off;			/* "l1tf=off" (l1tf_mitigation) */
	bool skip_l1dflush_vmentry;	/* ARCH_CAPABILITIES bit 3 */
	bool flush_l1d;			/* X86_FEATURE_FLUSH_L1D */
	bool kernel_ibrs;		/* X86_FEATURE_KERNEL_IBRS */
	bool ibpb;			/* X86_FEATURE_USE_IBPB */
	bool ibpb_exit_to_user;		/* X86_FEATURE_IBPB_EXIT_TO_USER */
	bool fred;			/* X86_FEATURE_FRED, enabled */
	bool split_lock_detect;		/* X86_FEATURE_SPLIT_LOCK_DETECT */
};

enum l1d_flush {
	L1D_FLUSH_NONE,
	L1D_FLUSH_MSR,		/* IA32_FLUSH_CMD */
	L1D_FLUSH_SOFTWARE,	/* read a 64 KiB buffer through the cache */
};

struct entry_policy {
	enum l1d_flush l1d_flush;	/* before every VM entry */
	bool spec_ctrl_after_exit;	/* rewrite the host's SPEC_CTRL */
	bool ibpb_vcpu_switch;		/* another vCPU's VMCS on this CPU */
	bool ibpb_exit_to_user;		/* ask for IBPB before user mode */
	bool nmi_via_fred;		/* host NMI: FRED entry, not INT 2 */
};

void host_entry_policy(const struct host_features *f, struct entry_policy *p);

/*
 * An MSR that perf wants at one value while the host runs and at another
 * while the guest does (laid out as the kernel's perf_guest_switch_msr).
 */
struct msr_switch {
	u32 msr;
	u64 host;
	u64 guest;
};

/* An entry of a VM-entry or VM-exit MSR-load area (16 bytes) */
struct msr_load_entry {
	u32 index;
	u32 reserved;
	u64 value;
};

unsigned int msr_switch_lists(const struct msr_switch *msrs, int nr,
			      struct msr_load_entry *guest,
			      struct msr_load_entry *host, unsigned int max,
			      bool *overflow);

/* A host event that a VM exit took from the host and must hand back. */
enum host_event {
	HOST_EVENT_NONE,
	HOST_EVENT_NMI,
	HOST_EVENT_MACHINE_CHECK,
};

#define HOST_EVENT_VECTOR_MC	18

/*
 * Events a VM exit took away from the host (SDM Vol. 3C, chapter "VM
 * Exits", section "Architectural State Before a VM Exit", and Appendix C
 * "VMX Basic Exit Reasons"): an NMI (NMI exiting), a machine check during
 * guest execution (#MC in the exception bitmap), and a machine check
 * during VM entry (exit reason 41, chapter "VM Entries", section
 * "Machine-Check Events During VM Entry").
 * Inline: it is asked on every exit, from noinstr code.
 */
static __always_inline enum host_event
exit_host_event(u32 exit_reason, u32 intr_info)
{
	u32 basic = exit_reason & VMX_EXIT_REASON_BASIC_MASK;

	if (basic == VMX_EXIT_MACHINE_CHECK)
		return HOST_EVENT_MACHINE_CHECK;
	if (basic != VMX_EXIT_EXCEPTION_NMI ||
	    (exit_reason & VMX_EXIT_REASON_ENTRY_FAIL) ||
	    !(intr_info & VMX_INTR_INFO_VALID))
		return HOST_EVENT_NONE;
	switch (intr_info & VMX_INTR_INFO_TYPE_MASK) {
	case VMX_INTR_TYPE_NMI:
		return HOST_EVENT_NMI;
	case VMX_INTR_TYPE_HW_EXCEPTION:
		if ((intr_info & VMX_INTR_INFO_VECTOR_MASK) == HOST_EVENT_VECTOR_MC)
			return HOST_EVENT_MACHINE_CHECK;
		return HOST_EVENT_NONE;
	default:
		return HOST_EVENT_NONE;
	}
}

/* Whether a guest's #AC is its own (else a host split-lock detection). */
bool ac_is_guest_alignment_check(bool split_lock_detect, unsigned int cpl,
				 u64 cr0, u64 rflags);

#endif /* XVCPU_HOSTPOLICY_H */
