/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvcpu's own check of the guest-state area (SDM Vol. 3C 27.3.1): when
 * the processor fails a VM entry on invalid guest state (basic exit
 * reason 33) it does not say why; this names the first field at fault.
 * Pure logic on a copy of the fields, shared by exit.c and the host-side
 * unit tests.
 */
#ifndef XVCPU_ENTRYCHECK_H
#define XVCPU_ENTRYCHECK_H

#include "types.h"

/* Segment registers in the order of their VMCS encodings (Vol. 3D B.1) */
enum entrycheck_seg_reg {
	EC_ES, EC_CS, EC_SS, EC_DS, EC_FS, EC_GS, EC_LDTR, EC_TR, EC_NR_SEGS
};

/* Every field at the width VMREAD gives it (zero-extended) */
struct entrycheck_seg {
	u64 selector, base, limit, ar;	/* ar as in Table 25-2 */
};

struct entrycheck_state {
	/* Guest-register state (SDM Vol. 3C 25.4.1) */
	u64 cr0, cr3, cr4, dr7;
	u64 rip, rflags;
	struct entrycheck_seg seg[EC_NR_SEGS];
	u64 gdtr_base, gdtr_limit, idtr_base, idtr_limit;
	u64 debugctl, pat, efer;
	u64 sysenter_esp, sysenter_eip;
	/* Guest non-register state (25.4.2) */
	u64 activity, interruptibility, pending_dbg;
	/* Pin-based, primary and secondary, VM-entry controls (25.6, 25.8) */
	u64 pin, proc, proc2, entry;
	u64 entry_intr_info;
	/* The processor: IA32_VMX_CR0/CR4_FIXED0/1 (Vol. 3D A.7, A.8) */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	/* CPUID 0x80000008: MAXPHYADDR, linear-address width */
	unsigned int phys_bits, linear_bits;
};

/*
 * Fill every field of @s the VMCS holds through @read (VMREAD of the
 * current VMCS); the processor's values are the caller's to set.
 */
void entrycheck_read(struct entrycheck_state *s, u64 (*read)(u32 field));

/*
 * Check @s against the rules of SDM Vol. 3C 27.3.1.1 to 27.3.1.5 in a
 * fixed order.  Returns the VMCS encoding of the field of the first rule
 * broken, *@rule a short text of it with its section; 0 (and *@rule
 * NULL) if every rule known here holds.
 */
u32 entrycheck_guest_state(const struct entrycheck_state *s,
			   const char **rule);

/* "GUEST_CS_AR" and the like, for log lines; "?" for other encodings */
const char *entrycheck_field_name(u32 field);

#endif /* XVCPU_ENTRYCHECK_H */
