// SPDX-License-Identifier: GPL-2.0
/*
 * What each VM exit means: handled in the kernel (re-enter the guest) or
 * described in the run page for userspace.  One small handler per basic
 * exit reason (SDM Vol. 3D Appendix C); anything without a handler goes
 * to userspace as an internal error carrying the raw exit information.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/kernel.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>

#include "decode.h"
#include "xvcpu.h"
#include "vmcs.h"

typedef int (*exit_handler_t)(struct xvcpu_vcpu *vcpu);

/*
 * Re-enter: an external interrupt was taken by the host once interrupts
 * came on; the preemption timer only gave the run loop its turn.
 */
static int handle_resume(struct xvcpu_vcpu *vcpu)
{
	return 1;
}

static int handle_unhandled(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;
	u32 reason = vmcs_read(VMCS_EXIT_REASON);

	pr_info_ratelimited("vCPU %u: exit reason %u at RIP %#lx is not handled; reported to userspace\n",
			    vcpu->id, reason & VMX_EXIT_REASON_BASIC_MASK,
			    vmcs_read(VMCS_GUEST_RIP));
	run->exit_reason = XVCPU_EXIT_INTERNAL_ERROR;
	run->internal.suberror = XVCPU_INTERNAL_UNHANDLED_EXIT;
	run->internal.ndata = 8;
	run->internal.data[0] = reason;
	run->internal.data[1] = vmcs_read(VMCS_EXIT_QUALIFICATION);
	run->internal.data[2] = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	run->internal.data[3] = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS);
	run->internal.data[4] = vmcs_read(VMCS_EXIT_INTR_INFO);
	run->internal.data[5] = vmcs_read(VMCS_IDT_VECTORING_INFO);
	run->internal.data[6] = vmcs_read(VMCS_EXIT_INSTRUCTION_LEN);
	run->internal.data[7] = vmcs_read(VMCS_GUEST_RIP);
	return 0;
}

/* Exception or NMI: NMIs were given to the host already (vcpu.c). */
static int handle_exception_nmi(struct xvcpu_vcpu *vcpu)
{
	u32 info = vmcs_read(VMCS_EXIT_INTR_INFO);

	if ((info & VMX_INTR_INFO_TYPE_MASK) == VMX_INTR_TYPE_NMI)
		return 1;
	return handle_unhandled(vcpu);
}

static int handle_triple_fault(struct xvcpu_vcpu *vcpu)
{
	pr_info_ratelimited("vCPU %u: triple fault (shutdown) at RIP %#lx\n",
			    vcpu->id, vmcs_read(VMCS_GUEST_RIP));
	vcpu->run->exit_reason = XVCPU_EXIT_SHUTDOWN;
	return 0;
}

static int handle_hlt(struct xvcpu_vcpu *vcpu)
{
	vmcs_skip_instruction();
	vcpu->run->exit_reason = XVCPU_EXIT_HLT;
	return 0;
}

/* Port I/O: to userspace, RIP past the instruction (decode.c) */
static int handle_io(struct xvcpu_vcpu *vcpu)
{
	unsigned long q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	struct xvcpu_run *run = vcpu->run;
	unsigned int size;

	size = decode_io_exit(q, vcpu->gprs[GPR_RAX], run);
	if (!size)
		return handle_unhandled(vcpu);
	if (run->io.direction == XVCPU_IO_IN) {
		vcpu->pending = PENDING_IO_IN;
		vcpu->pending_in_size = size;
	}
	vmcs_skip_instruction();
	return 0;
}

/*
 * What userspace supplied for the exit it handled goes into the guest:
 * the value of an IN into AL, AX or EAX, a hypercall's result into RAX,
 * an MSR access completed or failed.  The VMCS is current.
 */
void xvcpu_complete_pending(struct xvcpu_vcpu *vcpu)
{
	unsigned long *rax = &vcpu->gprs[GPR_RAX];

	switch (vcpu->pending) {
	case PENDING_IO_IN:
		*rax = decode_io_in_result(*rax, vcpu->pending_in_size,
					   vcpu->run->io.data);
		break;
	case PENDING_HYPERCALL:
		*rax = vcpu->run->hypercall.ret;
		break;
	case PENDING_MSR:
		xvcpu_complete_msr(vcpu);
		break;
	case PENDING_NONE:
		break;
	}
	vcpu->pending = PENDING_NONE;
}

/* VMCALL: a hypercall for userspace (XVCPU_EXIT_HYPERCALL) */
static int handle_vmcall(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;
	const unsigned long *g = vcpu->gprs;

	memset(&run->hypercall, 0, sizeof(run->hypercall));
	run->exit_reason = XVCPU_EXIT_HYPERCALL;
	run->hypercall.nr = g[GPR_RAX];
	run->hypercall.args[0] = g[GPR_RBX];
	run->hypercall.args[1] = g[GPR_RCX];
	run->hypercall.args[2] = g[GPR_RDX];
	run->hypercall.args[3] = g[GPR_RSI];
	run->hypercall.args[4] = g[GPR_RDI];
	run->hypercall.args[5] = g[GPR_R8];
	/* SS.DPL is the CPL (SDM Vol. 3C 27.3.1.2) */
	run->hypercall.cpl = (vmcs_read(VMCS_GUEST_SS_AR) >> VMCS_AR_DPL_SHIFT) & 3;
	vcpu->pending = PENDING_HYPERCALL;
	vmcs_skip_instruction();
	return 0;
}

/* CPUID: answered in the kernel from the host's values (cpuid.c) */
static int handle_cpuid(struct xvcpu_vcpu *vcpu)
{
	unsigned long *g = vcpu->gprs;
	u32 regs[4];

	xvcpu_cpuid(vcpu, g[GPR_RAX], g[GPR_RCX], regs);
	/* CPUID writes the low 32 bits and clears the upper ones */
	g[GPR_RAX] = regs[0];
	g[GPR_RBX] = regs[1];
	g[GPR_RCX] = regs[2];
	g[GPR_RDX] = regs[3];
	vmcs_skip_instruction();
	return 1;
}

/*
 * MOV to CR0 or CR4 that changes a host-owned bit (SDM Vol. 3C 26.1.3,
 * qualification in Table 28-3).  Only the plain cases are handled here:
 * anything that would need more emulation goes to userspace.
 */
static int handle_cr_access(struct xvcpu_vcpu *vcpu)
{
	unsigned long q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	unsigned int gpr = VMX_CR_GPR(q);
	u64 val, old;

	if (VMX_CR_ACCESS_TYPE(q) != VMX_CR_ACCESS_MOV_TO_CR)
		return handle_unhandled(vcpu);
	val = gpr == GPR_RSP ? vmcs_read(VMCS_GUEST_RSP) : vcpu->gprs[gpr];

	switch (VMX_CR_NUMBER(q)) {
	case 0:
		old = vmcs_read(VMCS_CR0_READ_SHADOW);
		/* Paging changes are left to the guest's own MOV (no exit) */
		if (val >> 32 || ((val ^ old) & X86_CR0_PG))
			return handle_unhandled(vcpu);
		vmcs_set_cr0(val);
		break;
	case 4:
		if (val & (X86_CR4_VMXE | ~vmx_caps.cr4_fixed1))
			return handle_unhandled(vcpu);
		/* Turning on PAE or LA57 under paging reloads the PDPTEs */
		old = vmcs_read(VMCS_CR4_READ_SHADOW);
		if ((vmcs_read(VMCS_GUEST_CR0) & X86_CR0_PG) &&
		    ((val ^ old) & (X86_CR4_PAE | X86_CR4_LA57)))
			return handle_unhandled(vcpu);
		vmcs_set_cr4(val);
		break;
	default:
		return handle_unhandled(vcpu);
	}
	vmcs_skip_instruction();
	return 1;
}

/*
 * An access EPT does not allow: to a page not mapped yet (the run loop
 * backs it if a slot holds it, else it is MMIO), or a write to read-only
 * memory (MMIO).  The run page is filled for the MMIO case either way.
 */
static int handle_ept_violation(struct xvcpu_vcpu *vcpu)
{
	unsigned long q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	u64 gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);

	decode_ept_violation(q, gpa, vmcs_read(VMCS_GUEST_LINEAR_ADDRESS),
			     vcpu->run);
	if (q & VMX_EPT_VIOL_ENTRY_RWX)
		return 0;
	vcpu->fault_gpa = gpa;
	return XVCPU_EXIT_NEEDS_PAGE;
}

static int handle_ept_misconfig(struct xvcpu_vcpu *vcpu)
{
	/* xvcpu wrote a bad EPT entry: a bug here, not in the guest */
	WARN_ONCE(1, "xvcpu: EPT misconfiguration at GPA %#lx\n",
		  vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS));
	return handle_unhandled(vcpu);
}

static const exit_handler_t exit_handlers[] = {
	[VMX_EXIT_EXCEPTION_NMI]	= handle_exception_nmi,
	[VMX_EXIT_EXTERNAL_INTERRUPT]	= handle_resume,
	[VMX_EXIT_TRIPLE_FAULT]		= handle_triple_fault,
	[VMX_EXIT_CPUID]		= handle_cpuid,
	[VMX_EXIT_HLT]			= handle_hlt,
	[VMX_EXIT_VMCALL]		= handle_vmcall,
	[VMX_EXIT_CR_ACCESS]		= handle_cr_access,
	[VMX_EXIT_RDMSR]		= xvcpu_handle_rdmsr,
	[VMX_EXIT_WRMSR]		= xvcpu_handle_wrmsr,
	[VMX_EXIT_IO_INSTRUCTION]	= handle_io,
	[VMX_EXIT_EPT_VIOLATION]	= handle_ept_violation,
	[VMX_EXIT_EPT_MISCONFIG]	= handle_ept_misconfig,
	[VMX_EXIT_PREEMPTION_TIMER]	= handle_resume,
};

/* A VM entry that failed on guest state or MSR loading (SDM 27.8). */
static int handle_entry_failure(struct xvcpu_vcpu *vcpu, u32 reason)
{
	struct xvcpu_run *run = vcpu->run;

	pr_info_ratelimited("vCPU %u: VM entry failed, exit reason %#x (qualification %#lx)\n",
			    vcpu->id, reason, vmcs_read(VMCS_EXIT_QUALIFICATION));
	run->exit_reason = XVCPU_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.exit_qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
	/* Start the next entry from a clean launch state */
	vmcs_clear(vcpu);
	return 0;
}

int xvcpu_handle_exit(struct xvcpu_vcpu *vcpu, u32 exit_reason)
{
	u32 basic = exit_reason & VMX_EXIT_REASON_BASIC_MASK;

	if (unlikely(exit_reason & VMX_EXIT_REASON_ENTRY_FAIL))
		return handle_entry_failure(vcpu, exit_reason);
	if (basic < ARRAY_SIZE(exit_handlers) && exit_handlers[basic])
		return exit_handlers[basic](vcpu);
	return handle_unhandled(vcpu);
}
