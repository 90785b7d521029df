/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMCS accessors: VMREAD/VMWRITE on the current VMCS (SDM Vol. 3C 31.3).
 * Every field is accessed at natural width; 16- and 32-bit fields are
 * zero-extended on read and truncated on write by the processor.
 */
#ifndef XVCPU_VMCS_H
#define XVCPU_VMCS_H

#include <linux/types.h>
#include <linux/printk.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include "../include/xvcpu/vmx.h"

static __always_inline unsigned long vmcs_read(unsigned long field)
{
	unsigned long value;

	asm volatile("vmread %1, %0" : "=rm" (value) : "r" (field) : "cc");
	return value;
}

void vmcs_write_failed(unsigned long field, unsigned long value);

static __always_inline void vmcs_write(unsigned long field, unsigned long value)
{
	bool failed;

	/* VMfailInvalid sets CF, VMfailValid sets ZF (31.2) */
	asm volatile("vmwrite %2, %1" : "=@ccbe" (failed)
		     : "r" (field), "rm" (value) : "cc");
	if (unlikely(failed))
		vmcs_write_failed(field, value);
}

static inline void vmcs_set_bits(unsigned long field, unsigned long bits)
{
	vmcs_write(field, vmcs_read(field) | bits);
}

static inline void vmcs_clear_bits(unsigned long field, unsigned long bits)
{
	vmcs_write(field, vmcs_read(field) & ~bits);
}

/* The guest's CPL: SS.DPL (SDM Vol. 3C 27.3.1.2); VMCS current */
static inline unsigned int vmcs_guest_cpl(void)
{
	return (vmcs_read(VMCS_GUEST_SS_AR) >> VMCS_AR_DPL_SHIFT) & 3;
}

/*
 * Whether the guest's next instruction ends in a single-step #DB:
 * RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0 (SDM Vol. 3A 18.3.1.4); VMCS
 * current.
 */
static inline bool vmcs_guest_single_step_due(void)
{
	return (vmcs_read(VMCS_GUEST_RFLAGS) & X86_EFLAGS_TF) &&
	       !(vmcs_read(VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTLMSR_BTF);
}

#endif /* XVCPU_VMCS_H */
