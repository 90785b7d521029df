/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMCS accessors: VMREAD/VMWRITE on the current VMCS (SDM Vol. 3C 31.3).
 * Every field is accessed at natural width; 16- and 32-bit fields are
 * zero-extended on read and truncated on write by the processor.
 */
#ifndef XVCPU_VMCS_H
#define XVCPU_VMCS_H

#include <linux/compiler.h>
#include <linux/instrumentation.h>
#include <linux/types.h>
#include <linux/printk.h>
#include <linux/stringify.h>
#include <asm/asm.h>
#include <asm/extable_fixup_types.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include "../include/xvcpu/vmx.h"

/*
 * Every VMX instruction has an exception-table entry: outside VMX
 * operation it raises #UD (SDM Vol. 3C, chapter "VMX Instruction
 * Reference", each instruction's operation), which is what happens when
 * the system goes down and VMX is turned off under a vCPU still running on
 * another CPU (vmx.c).  For VMREAD and VMWRITE, on every exit's path,
 * the fixup is an out-of-line label of an asm goto, so that the success
 * path costs nothing more; other instructions resume after the
 * instruction with a fault flag still set, which their success path
 * clears with a MOV (it keeps the flags that report VMfail).  A faulting
 * read returns 0, a write or VM entry fails, and vmx_insn_fault() says
 * so only if VMX was not meant to be off.
 */
void __cold vmx_insn_fault(const char *insn);

/*
 * The exception-table entry of an asm goto: a fault at local label 1
 * goes on at its C label "fault" (what _ASM_EXTABLE(1b, %l[fault]) makes,
 * written out as text so that the operand stays inside the string).
 */
#define VMX_EXTABLE_TO_FAULT					\
	" .pushsection \"__ex_table\",\"a\"\n"			\
	" .balign 4\n"						\
	" .long (1b) - .\n"					\
	" .long (%l[fault]) - .\n"				\
	" .long " __stringify(EX_TYPE_DEFAULT) "\n"		\
	" .popsection\n"

/* The system is going down: no guest entry from now on (vmx.c) */
bool vmx_going_down(void);

static __always_inline unsigned long vmcs_read(unsigned long field)
{
	unsigned long value;

	asm_goto_output("1: vmread %[field], %[value]\n\t"
			VMX_EXTABLE_TO_FAULT
			: [value] "=r" (value)
			: [field] "r" (field) : "cc" : fault);
	return value;
fault:
	instrumentation_begin();
	vmx_insn_fault("VMREAD");
	instrumentation_end();
	return 0;
}

void vmcs_write_failed(unsigned long field, unsigned long value);

static __always_inline void vmcs_write(unsigned long field, unsigned long value)
{
	/* VMfailInvalid sets CF, VMfailValid sets ZF (31.2) */
	asm goto("1: vmwrite %[value], %[field]\n\t"
		 "jbe %l[failed]\n\t"
		 VMX_EXTABLE_TO_FAULT
		 : : [field] "r" (field), [value] "rm" (value) : "cc"
		 : failed, fault);
	return;
failed:
	instrumentation_begin();
	vmcs_write_failed(field, value);
	instrumentation_end();
	return;
fault:
	instrumentation_begin();
	vmx_insn_fault("VMWRITE");
	instrumentation_end();
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

/*
 * VMPTRLD and VMCLEAR (vmx.c), which also keep track of the VMCS current
 * on this CPU, for turning VMX off under a running vCPU.
 */
void vmx_vmptrld(u64 pa);
void vmx_vmclear(u64 pa);

#endif /* XVCPU_VMCS_H */
