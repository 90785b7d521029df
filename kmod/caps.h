/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX capabilities: the raw capability MSRs read on one CPU, and the one
 * struct the rest of the module uses, computed from them.
 */
#ifndef XVCPU_CAPS_H
#define XVCPU_CAPS_H

#include "types.h"

/* Raw values of the VMX capability MSRs (SDM Vol. 3D Appendix A). */
struct vmx_msrs {
	u64 basic;		/* IA32_VMX_BASIC */
	u64 pin;		/* IA32_VMX_PINBASED_CTLS or TRUE_ */
	u64 proc;		/* IA32_VMX_PROCBASED_CTLS or TRUE_ */
	u64 proc2;		/* IA32_VMX_PROCBASED_CTLS2 */
	u64 exit;		/* IA32_VMX_EXIT_CTLS or TRUE_ */
	u64 entry;		/* IA32_VMX_ENTRY_CTLS or TRUE_ */
	u64 ept_vpid;		/* IA32_VMX_EPT_VPID_CAP */
	u64 misc;		/* IA32_VMX_MISC */
	u64 cr0_fixed0, cr0_fixed1;
	u64 cr4_fixed0, cr4_fixed1;
};

struct vmx_caps {
	u32 revision_id;
	u32 vmcs_size;
	u32 pin;		/* controls to program */
	u32 proc;
	u32 proc2;
	u32 exit;
	u32 entry;
	bool vpid;		/* VPID enabled */
	bool ept_2mb;		/* 2 MiB EPT leaves usable */
	bool invept_single;	/* else all-context INVEPT */
	bool preemption_timer;	/* VMX-preemption timer active */
	bool ins_outs_info;	/* INS/OUTS exits fill the instruction info */
	bool virtual_nmis;	/* NMI blocking tracked: NMI injection works */
	bool nmi_window;	/* NMI-window exiting (needs virtual NMIs) */
	bool intr_window;	/* interrupt-window exiting */
	bool mtf;		/* monitor trap flag */
	bool msr_bitmap;	/* MSR bitmaps: some MSRs pass through */
	u8 preemption_timer_shift;	/* it counts at TSC >> this */
	u64 cr0_fixed0, cr0_fixed1;
	u64 cr4_fixed0, cr4_fixed1;
};

/*
 * Compute @caps from @msrs.  Returns 0, or -ENODEV with *@missing naming
 * the first required feature the CPU lacks.
 */
int vmx_caps_compute(struct vmx_caps *caps, const struct vmx_msrs *msrs,
		     const char **missing);

/*
 * The value a control field takes: the @want bits, plus the bits the CPU
 * requires to be 1.  Returns false if a bit of @need is not allowed to be 1.
 */
bool vmx_ctl_adjust(u64 msr, u32 need, u32 want, u32 *ctl);

#endif /* XVCPU_CAPS_H */
