// SPDX-License-Identifier: GPL-2.0
/*
 * VMX capability computation: from the raw capability MSRs of one CPU to
 * the controls xvcpu programs into every VMCS.  Pure logic, no hardware
 * access, so the host-side unit tests run it against recorded MSR values.
 */
#include "caps.h"
#include "../include/xvcpu/vmx.h"

/*
 * SDM Vol. 3D A.3.1: bits 31:0 of a control capability MSR are the
 * allowed 0-settings (a 1 there means the control must be 1), bits 63:32
 * the allowed 1-settings (a 0 there means the control must be 0).
 */
bool vmx_ctl_adjust(u64 msr, u32 need, u32 want, u32 *ctl)
{
	u32 must_be_one = (u32)msr;
	u32 may_be_one = (u32)(msr >> 32);

	*ctl = ((need | want) & may_be_one) | must_be_one;
	return (need & ~may_be_one) == 0;
}

struct ctl_need {
	u32 bit;
	const char *name;
};

/*
 * The name of the first bit of @needs (a table ending in an empty entry)
 * that @msr does not allow to be 1, or NULL.
 */
static const char *first_missing(u64 msr, const struct ctl_need *needs)
{
	for (; needs->bit; needs++)
		if (!((msr >> 32) & needs->bit))
			return needs->name;
	return NULL;
}

static u32 needed_bits(const struct ctl_need *needs)
{
	u32 bits = 0;

	for (; needs->bit; needs++)
		bits |= needs->bit;
	return bits;
}

/* SDM Vol. 3C 25.6.1, Table 25-5 */
static const struct ctl_need pin_needs[] = {
	{ VMX_PIN_EXTINT_EXITING, "external-interrupt exiting" },
	{ VMX_PIN_NMI_EXITING, "NMI exiting" },
	{ 0, NULL }
};

/*
 * SDM Vol. 3C 25.6.2, Table 25-6.  Every exit the guest must not be able
 * to avoid: HLT, all port I/O, MOV DR (so host debug registers are never
 * exposed), RDPMC (host counters), MWAIT/MONITOR (host power state) and
 * CR8 accesses (without a TPR shadow they would reach the host's TPR).
 */
static const struct ctl_need proc_needs[] = {
	{ VMX_PROC_HLT_EXITING, "HLT exiting" },
	{ VMX_PROC_UNCOND_IO_EXITING, "unconditional I/O exiting" },
	{ VMX_PROC_MOV_DR_EXITING, "MOV-DR exiting" },
	{ VMX_PROC_RDPMC_EXITING, "RDPMC exiting" },
	{ VMX_PROC_MWAIT_EXITING, "MWAIT exiting" },
	{ VMX_PROC_MONITOR_EXITING, "MONITOR exiting" },
	{ VMX_PROC_CR8_LOAD_EXITING, "CR8-load exiting" },
	{ VMX_PROC_CR8_STORE_EXITING, "CR8-store exiting" },
	{ VMX_PROC_TSC_OFFSETTING, "TSC offsetting" },
	{ VMX_PROC_SECONDARY_CONTROLS, "secondary controls" },
	{ 0, NULL }
};

/* SDM Vol. 3C 25.6.2, Table 25-7 */
static const struct ctl_need proc2_needs[] = {
	{ VMX_PROC2_ENABLE_EPT, "EPT" },
	{ VMX_PROC2_UNRESTRICTED_GUEST, "unrestricted guest" },
	{ 0, NULL }
};

/* SDM Vol. 3C 25.7.1, Table 25-13 */
static const struct ctl_need exit_needs[] = {
	{ VMX_EXIT_HOST_ADDR_SPACE_SIZE, "64-bit host on VM exit" },
	{ VMX_EXIT_SAVE_IA32_PAT, "save IA32_PAT on VM exit" },
	{ VMX_EXIT_LOAD_IA32_PAT, "load IA32_PAT on VM exit" },
	{ VMX_EXIT_SAVE_IA32_EFER, "save IA32_EFER on VM exit" },
	{ VMX_EXIT_LOAD_IA32_EFER, "load IA32_EFER on VM exit" },
	{ 0, NULL }
};

/* SDM Vol. 3C 25.8.1, Table 25-15 */
static const struct ctl_need entry_needs[] = {
	{ VMX_ENTRY_IA32E_MODE_GUEST, "IA-32e mode guest" },
	{ VMX_ENTRY_LOAD_IA32_PAT, "load IA32_PAT on VM entry" },
	{ VMX_ENTRY_LOAD_IA32_EFER, "load IA32_EFER on VM entry" },
	{ 0, NULL }
};

/* The first feature xvcpu needs that @msrs lacks, or NULL. */
static const char *vmx_caps_missing(const struct vmx_msrs *msrs)
{
	u64 basic = msrs->basic;
	u32 vmcs_size = (basic >> VMX_MSR_BASIC_VMCS_SIZE_SHIFT) &
			VMX_MSR_BASIC_VMCS_SIZE_MASK;
	const char *m;

	/* SDM Vol. 3D A.1: VMCS size, address width and memory type */
	if (vmcs_size == 0 || vmcs_size > 4096)
		return "a VMCS that fits in one page";
	if (basic & BIT_ULL(48))
		return "64-bit VMCS addresses";
	if (((basic >> VMX_MSR_BASIC_MEMTYPE_SHIFT) & 0xf) !=
	    VMX_MSR_BASIC_MEMTYPE_WB)
		return "write-back VMCS memory";

	m = first_missing(msrs->pin, pin_needs);
	if (!m)
		m = first_missing(msrs->proc, proc_needs);
	if (!m)
		m = first_missing(msrs->proc2, proc2_needs);
	if (!m)
		m = first_missing(msrs->exit, exit_needs);
	if (!m)
		m = first_missing(msrs->entry, entry_needs);
	if (m)
		return m;

	/* SDM Vol. 3D A.10: the EPT features the page tables rely on */
	if (!(msrs->ept_vpid & VMX_EPT_CAP_WALK_4))
		return "4-level EPT";
	if (!(msrs->ept_vpid & VMX_EPT_CAP_MEMTYPE_WB))
		return "write-back EPT paging structures";
	if (!(msrs->ept_vpid & VMX_EPT_CAP_INVEPT) ||
	    !(msrs->ept_vpid & (VMX_EPT_CAP_INVEPT_SINGLE |
				VMX_EPT_CAP_INVEPT_ALL)))
		return "INVEPT";
	return NULL;
}

int vmx_caps_compute(struct vmx_caps *caps, const struct vmx_msrs *msrs,
		     const char **missing)
{
	*missing = vmx_caps_missing(msrs);
	if (*missing)
		return -ENODEV;

	caps->revision_id = msrs->basic & VMX_MSR_BASIC_REVISION_MASK;
	caps->vmcs_size = (msrs->basic >> VMX_MSR_BASIC_VMCS_SIZE_SHIFT) &
			  VMX_MSR_BASIC_VMCS_SIZE_MASK;
	vmx_ctl_adjust(msrs->pin, needed_bits(pin_needs),
		       VMX_PIN_VIRTUAL_NMIS | VMX_PIN_PREEMPTION_TIMER,
		       &caps->pin);
	vmx_ctl_adjust(msrs->proc, needed_bits(proc_needs),
		       VMX_PROC_USE_MSR_BITMAPS, &caps->proc);
	vmx_ctl_adjust(msrs->proc2, needed_bits(proc2_needs),
		       VMX_PROC2_ENABLE_VPID | VMX_PROC2_WBINVD_EXITING,
		       &caps->proc2);
	vmx_ctl_adjust(msrs->exit,
		       needed_bits(exit_needs) | VMX_EXIT_SAVE_DEBUG_CONTROLS, 0,
		       &caps->exit);
	/* IA-32e mode guest is set per entry from the guest's EFER.LMA */
	vmx_ctl_adjust(msrs->entry,
		       needed_bits(entry_needs) | VMX_ENTRY_LOAD_DEBUG_CONTROLS, 0,
		       &caps->entry);
	caps->entry &= ~VMX_ENTRY_IA32E_MODE_GUEST;

	caps->vpid = caps->proc2 & VMX_PROC2_ENABLE_VPID;
	caps->ept_2mb = msrs->ept_vpid & VMX_EPT_CAP_2MB_PAGE;
	caps->invept_single = msrs->ept_vpid & VMX_EPT_CAP_INVEPT_SINGLE;
	caps->preemption_timer = caps->pin & VMX_PIN_PREEMPTION_TIMER;
	caps->ins_outs_info = msrs->basic & VMX_MSR_BASIC_INS_OUTS_INFO;
	caps->virtual_nmis = caps->pin & VMX_PIN_VIRTUAL_NMIS;
	/* Toggled per entry: allowed-1 settings (SDM Vol. 3D A.3.2) */
	caps->intr_window = (msrs->proc >> 32) & VMX_PROC_INTR_WINDOW_EXITING;
	caps->nmi_window = caps->virtual_nmis &&
			   ((msrs->proc >> 32) & VMX_PROC_NMI_WINDOW_EXITING);
	caps->mtf = (msrs->proc >> 32) & VMX_PROC_MONITOR_TRAP_FLAG;
	caps->msr_bitmap = caps->proc & VMX_PROC_USE_MSR_BITMAPS;
	caps->preemption_timer_shift = msrs->misc & VMX_MSR_MISC_TIMER_RATE_MASK;
	caps->cr0_fixed0 = msrs->cr0_fixed0;
	caps->cr0_fixed1 = msrs->cr0_fixed1;
	caps->cr4_fixed0 = msrs->cr4_fixed0;
	caps->cr4_fixed1 = msrs->cr4_fixed1;
	return 0;
}
