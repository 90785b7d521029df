// SPDX-License-Identifier: GPL-2.0
/*
 * What each VM exit means: handled in the kernel (re-enter the guest) or
 * described in the run page for userspace.  One small handler per basic
 * exit reason (SDM Vol. 3D Appendix C); anything without a handler goes
 * to userspace as an internal error carrying the raw exit information.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/kernel.h>
#include <asm/cpu.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include <asm/trapnr.h>

#include "decode.h"
#include "entrycheck.h"
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

/* An exit xvcpu does not handle: internal error with the exit's fields */
static int handle_unhandled(struct xvcpu_vcpu *vcpu)
{
	vmcs_report_unhandled(vcpu);
	return 0;
}

/*
 * #AC: the guest's own alignment check goes back to it (error code 0);
 * any other is a split-locked access the host's split-lock detection
 * caught, and the host's policy decides (handle_guest_split_lock(), as
 * for KVM): warn and go on, or a signal for the task, which ends the RUN
 * with an internal-error exit.
 */
static int handle_alignment_check(struct xvcpu_vcpu *vcpu)
{
	if (ac_is_guest_alignment_check(xvcpu_split_lock_detect,
					vmcs_guest_cpl(),
					vmcs_read(VMCS_GUEST_CR0),
					vmcs_read(VMCS_GUEST_RFLAGS))) {
		xvcpu_queue_exception(vcpu, X86_TRAP_AC, 0);
		return 1;
	}
	if (handle_guest_split_lock(vmcs_read(VMCS_GUEST_RIP)))
		return 1;
	return handle_unhandled(vcpu);
}

/*
 * Exception or NMI: NMIs and machine checks were given to the host
 * already (switch.c); the other exceptions intercepted are #AC, #DB and,
 * for a debugging VMM, #BP (event.c).
 */
static int handle_exception_nmi(struct xvcpu_vcpu *vcpu)
{
	u32 info = vmcs_read(VMCS_EXIT_INTR_INFO);
	int r;

	if ((info & VMX_INTR_INFO_TYPE_MASK) == VMX_INTR_TYPE_NMI)
		return 1;
	if ((info & VMX_INTR_INFO_TYPE_MASK) == VMX_INTR_TYPE_HW_EXCEPTION) {
		switch (info & VMX_INTR_INFO_VECTOR_MASK) {
		case X86_TRAP_MC:
			return 1;
		case X86_TRAP_AC:
			return handle_alignment_check(vcpu);
		}
	}
	r = event_handle_debug_exception(vcpu, info);
	return r == -ENOENT ? handle_unhandled(vcpu) : r;
}

/*
 * Instructions a guest of xvcpu does not have: VMX (the CPUID VMX bit is
 * clear, so VMXON and the rest are invalid opcodes, SDM Vol. 3C 31.3),
 * GETSEC (no SMX), RSM (never in SMM), MONITOR/MWAIT (CPUID hides them).
 */
static int handle_invalid_opcode(struct xvcpu_vcpu *vcpu)
{
	xvcpu_queue_exception(vcpu, X86_TRAP_UD, 0);
	return 1;
}

/* RDPMC: the guest has no performance counters (CPUID leaf 0xa is 0) */
static int handle_rdpmc(struct xvcpu_vcpu *vcpu)
{
	xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
	return 1;
}

/*
 * INVD and WBINVD: guest memory is write-back and coherent, and the guest
 * may not flush the host's caches, so both complete as no-ops.
 */
static int handle_cache_flush(struct xvcpu_vcpu *vcpu)
{
	vmcs_skip_instruction();
	return 1;
}

/* XCR0 state components (SDM Vol. 1 13.3) */
#define XCR0_X87	BIT_ULL(0)
#define XCR0_SSE	BIT_ULL(1)
#define XCR0_AVX	BIT_ULL(2)
#define XCR0_AVX512	(BIT_ULL(5) | BIT_ULL(6) | BIT_ULL(7))

/*
 * XSETBV (always exits, SDM Vol. 3C 26.1.2): XCR0 takes the value if the
 * rules of SDM Vol. 1 13.3 and Vol. 2 "XSETBV" hold: CPL 0, ECX = 0,
 * x87 set, AVX only with SSE, AVX-512 all three or none and only with
 * AVX, nothing the guest's CPUID leaf 0xd does not list.  Else #GP(0).
 * The vCPU loads it around each entry (vcpu.c).
 */
static int handle_xsetbv(struct xvcpu_vcpu *vcpu)
{
	u64 val = (u32)vcpu->gprs[GPR_RAX] | (vcpu->gprs[GPR_RDX] << 32);
	u64 allowed = xvcpu_cpuid_xcr0_allowed(vcpu);

	if (vmcs_guest_cpl() || (u32)vcpu->gprs[GPR_RCX] ||
	    !(val & XCR0_X87) || (val & ~allowed) ||
	    ((val & XCR0_AVX) && !(val & XCR0_SSE)) ||
	    ((val & XCR0_AVX512) &&
	     ((val & XCR0_AVX512) != XCR0_AVX512 || !(val & XCR0_AVX)))) {
		xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
		return 1;
	}
	vcpu->xcr0 = val;
	vmcs_skip_instruction();
	return 1;
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

/*
 * Port I/O: to userspace, RIP past the instruction (decode.c).  INS and
 * OUTS move guest memory: the run loop does that (guestmem.c).
 */
static int handle_io(struct xvcpu_vcpu *vcpu)
{
	unsigned long q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	struct xvcpu_run *run = vcpu->run;
	unsigned int size;

	if (q & VMX_IO_STRING)
		return xvcpu_gm_string_io_exit(vcpu, q);
	size = decode_io_exit(q, vcpu->gprs[GPR_RAX], run);
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
	case PENDING_STRING_IN:	/* written before (xvcpu_gm_complete_ins) */
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
	run->hypercall.cpl = vmcs_guest_cpl();
	vcpu->pending = PENDING_HYPERCALL;
	vmcs_skip_instruction();
	return 0;
}

/* CPUID: answered in the kernel from the vCPU's table (cpuid.c) */
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

static int inject_gp(struct xvcpu_vcpu *vcpu)
{
	xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
	return 1;
}

/*
 * Bits whose change invalidates the TLB (SDM Vol. 3A 4.10.4.1): a guest
 * MOV to CR0/CR4 that exits never reaches the processor, so its flush is
 * done here (vmcs_flush_guest_translations()).
 */
#define CR0_PAGING_BITS	(X86_CR0_PG | X86_CR0_WP | X86_CR0_PE)
#define CR4_PAGING_BITS	(X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE | \
			 X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP | \
			 X86_CR4_LA57 | X86_CR4_PKE)

/*
 * MOV to CR0 that changes a host-owned bit.  The checks of SDM Vol. 2
 * "MOV to/from Control Registers" and Vol. 3A 2.5: #GP(0) for bits 63:32,
 * PG without PE, NW without CD, paging on in IA-32e mode without PAE,
 * paging off in 64-bit code.  Paging turned on or off changes EFER.LMA
 * and with it the "IA-32e mode guest" entry control (27.3.1.1).  PAE
 * paging outside IA-32e mode needs its PDPTEs from guest memory, which
 * the run loop reads (XVCPU_EXIT_LOAD_PDPTES, vcpu.c).
 */
static int set_guest_cr0(struct xvcpu_vcpu *vcpu, u64 val)
{
	u64 cur = vmcs_read(VMCS_GUEST_CR0);
	u64 efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	u64 cr4 = vmcs_read(VMCS_GUEST_CR4);

	if (val >> 32 || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)))
		return inject_gp(vcpu);
	if ((val & ~cur) & X86_CR0_PG) {
		if (!(efer & EFER_LME) && (cr4 & X86_CR4_PAE)) {
			vcpu->paging_cr0 = val;
			return XVCPU_EXIT_LOAD_PDPTES;
		}
		if (efer & EFER_LME) {
			if (!(cr4 & X86_CR4_PAE) ||
			    (vmcs_read(VMCS_GUEST_CS_AR) & VMCS_AR_L))
				return inject_gp(vcpu);
			vmcs_write(VMCS_GUEST_IA32_EFER, efer | EFER_LMA);
			vmcs_set_bits(VMCS_ENTRY_CONTROLS, VMX_ENTRY_IA32E_MODE_GUEST);
		}
	} else if ((cur & ~val) & X86_CR0_PG) {
		if (vmcs_read(VMCS_GUEST_CS_AR) & VMCS_AR_L)
			return inject_gp(vcpu);
		vmcs_write(VMCS_GUEST_IA32_EFER, efer & ~EFER_LMA);
		vmcs_clear_bits(VMCS_ENTRY_CONTROLS, VMX_ENTRY_IA32E_MODE_GUEST);
	}
	vmcs_set_cr0(val);
	if ((val ^ cur) & CR0_PAGING_BITS)
		vmcs_flush_guest_translations(vcpu);
	vmcs_skip_instruction();
	return 1;
}

/*
 * MOV to CR4 that changes a host-owned bit.  A bit the vCPU's CPUID does
 * not give (cpuid_cr4_allowed(): reserved for this guest, e.g. PKE, CET,
 * VMXE, OSXSAVE without XSAVE) or that VMX operation does not allow, and
 * bits 63:32, raise #GP(0), as do clearing PAE or changing LA57 in IA-32e
 * mode (SDM Vol. 2 "MOV to/from Control Registers"; Vol. 3A 2.5).  PAE
 * changed under legacy paging would reload the PDPTEs: left to userspace.
 */
static int set_guest_cr4(struct xvcpu_vcpu *vcpu, u64 val)
{
	bool lma = vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA;
	u64 cur = vmcs_read(VMCS_GUEST_CR4);

	if (val >> 32 || (val & ~(vcpu->cr4_allowed & vmx_caps.cr4_fixed1)))
		return inject_gp(vcpu);
	if (lma && (!(val & X86_CR4_PAE) || ((val ^ cur) & X86_CR4_LA57)))
		return inject_gp(vcpu);
	if (!lma && (vmcs_read(VMCS_GUEST_CR0) & X86_CR0_PG) &&
	    ((val ^ cur) & X86_CR4_PAE))
		return handle_unhandled(vcpu);
	vmcs_set_cr4(val);
	if ((val ^ cur) & CR4_PAGING_BITS)
		vmcs_flush_guest_translations(vcpu);
	vmcs_skip_instruction();
	return 1;
}

/*
 * Control-register exits (SDM Vol. 3C 26.1.3, qualification in Table
 * 28-3): MOV to CR0/CR4 changing a host-owned bit, and MOV to/from CR8,
 * which always exits (CR8-load/store exiting, no TPR shadow).  CR8 is
 * kept in the vCPU: xvcpu has no local APIC, so nothing reads it but the
 * guest; bits 63:4 are reserved (#GP).
 */
static int handle_cr_access(struct xvcpu_vcpu *vcpu)
{
	unsigned long q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	unsigned int gpr = VMX_CR_GPR(q);
	unsigned int type = VMX_CR_ACCESS_TYPE(q);
	u64 val;

	/* CPL > 0 is #GP(0) before the exit (26.1.1); an emulator may differ */
	if (vmcs_guest_cpl())
		return inject_gp(vcpu);
	if (type == VMX_CR_ACCESS_MOV_FROM_CR && VMX_CR_NUMBER(q) == 8) {
		if (gpr == GPR_RSP)
			vmcs_write(VMCS_GUEST_RSP, vcpu->cr8);
		else
			vcpu->gprs[gpr] = vcpu->cr8;
		vmcs_skip_instruction();
		return 1;
	}
	if (type != VMX_CR_ACCESS_MOV_TO_CR)
		return handle_unhandled(vcpu);
	val = gpr == GPR_RSP ? vmcs_read(VMCS_GUEST_RSP) : vcpu->gprs[gpr];

	switch (VMX_CR_NUMBER(q)) {
	case 0:
		return set_guest_cr0(vcpu, val);
	case 4:
		return set_guest_cr4(vcpu, val);
	case 8:
		if (val & ~0xfULL)
			return inject_gp(vcpu);
		vcpu->cr8 = val;
		vmcs_skip_instruction();
		return 1;
	}
	return handle_unhandled(vcpu);
}

/*
 * An access EPT does not allow: to a page not mapped yet (the run loop
 * backs it if a slot holds it, else it is MMIO), or a write to read-only
 * memory (MMIO).  The run page is filled for the MMIO case either way;
 * the instruction bytes are fetched for it afterwards (guestmem.c).
 */
static int handle_ept_violation(struct xvcpu_vcpu *vcpu)
{
	unsigned long q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	u64 gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);

	decode_ept_violation(q, gpa, vmcs_read(VMCS_GUEST_LINEAR_ADDRESS),
			     vcpu->run);
	xvcpu_gm_save_state(vcpu);
	vcpu->gm.work = GM_WORK_MMIO_INSN;
	if (q & VMX_EPT_VIOL_ENTRY_RWX)
		return XVCPU_EXIT_GUEST_MEM;
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

/* What xvcpu does with each basic exit reason: README.md has the table */
static const exit_handler_t exit_handlers[] = {
	[VMX_EXIT_EXCEPTION_NMI]	= handle_exception_nmi,
	[VMX_EXIT_EXTERNAL_INTERRUPT]	= handle_resume,
	[VMX_EXIT_TRIPLE_FAULT]		= handle_triple_fault,
	[VMX_EXIT_IO_SMI]		= handle_resume,
	[VMX_EXIT_OTHER_SMI]		= handle_resume,
	[VMX_EXIT_INTERRUPT_WINDOW]	= event_handle_interrupt_window,
	[VMX_EXIT_NMI_WINDOW]		= event_handle_nmi_window,
	[VMX_EXIT_CPUID]		= handle_cpuid,
	[VMX_EXIT_GETSEC]		= handle_invalid_opcode,
	[VMX_EXIT_HLT]			= handle_hlt,
	[VMX_EXIT_INVD]			= handle_cache_flush,
	[VMX_EXIT_RDPMC]		= handle_rdpmc,
	[VMX_EXIT_RSM]			= handle_invalid_opcode,
	[VMX_EXIT_VMCALL]		= handle_vmcall,
	[VMX_EXIT_VMCLEAR]		= handle_invalid_opcode,
	[VMX_EXIT_VMLAUNCH]		= handle_invalid_opcode,
	[VMX_EXIT_VMPTRLD]		= handle_invalid_opcode,
	[VMX_EXIT_VMPTRST]		= handle_invalid_opcode,
	[VMX_EXIT_VMREAD]		= handle_invalid_opcode,
	[VMX_EXIT_VMRESUME]		= handle_invalid_opcode,
	[VMX_EXIT_VMWRITE]		= handle_invalid_opcode,
	[VMX_EXIT_VMXOFF]		= handle_invalid_opcode,
	[VMX_EXIT_VMXON]		= handle_invalid_opcode,
	[VMX_EXIT_CR_ACCESS]		= handle_cr_access,
	[VMX_EXIT_DR_ACCESS]		= event_handle_dr_access,
	[VMX_EXIT_IO_INSTRUCTION]	= handle_io,
	[VMX_EXIT_RDMSR]		= xvcpu_handle_rdmsr,
	[VMX_EXIT_WRMSR]		= xvcpu_handle_wrmsr,
	[VMX_EXIT_MWAIT]		= handle_invalid_opcode,
	[VMX_EXIT_MONITOR_TRAP_FLAG]	= event_handle_mtf,
	[VMX_EXIT_MONITOR]		= handle_invalid_opcode,
	[VMX_EXIT_EPT_VIOLATION]	= handle_ept_violation,
	[VMX_EXIT_EPT_MISCONFIG]	= handle_ept_misconfig,
	[VMX_EXIT_INVEPT]		= handle_invalid_opcode,
	[VMX_EXIT_PREEMPTION_TIMER]	= handle_resume,
	[VMX_EXIT_INVVPID]		= handle_invalid_opcode,
	[VMX_EXIT_WBINVD]		= handle_cache_flush,
	[VMX_EXIT_XSETBV]		= handle_xsetbv,
	[VMX_EXIT_VMFUNC]		= handle_invalid_opcode,
};

static u64 entry_failure_vmread(u32 field)
{
	return vmcs_read(field);
}

/*
 * Invalid guest state: the processor does not say what it found, so
 * check the fields again (entrycheck.c, SDM Vol. 3C 27.3.1) and name the
 * first one at fault, or 0.  The VMCS is still current and unchanged.
 */
static u32 invalid_guest_state_field(struct xvcpu_vcpu *vcpu)
{
	struct entrycheck_state s;
	const char *rule;
	u32 field;

	entrycheck_read(&s, entry_failure_vmread);
	s.cr0_fixed0 = vmx_caps.cr0_fixed0;
	s.cr0_fixed1 = vmx_caps.cr0_fixed1;
	s.cr4_fixed0 = vmx_caps.cr4_fixed0;
	s.cr4_fixed1 = vmx_caps.cr4_fixed1;
	s.phys_bits = boot_cpu_data.x86_phys_bits;
	s.linear_bits = boot_cpu_data.x86_virt_bits;
	field = entrycheck_guest_state(&s, &rule);
	if (field)
		pr_info_ratelimited("vCPU %u: invalid guest state: %s (%#x): %s\n",
				    vcpu->id, entrycheck_field_name(field),
				    field, rule);
	return field;
}

/* A VM entry that failed on guest state or MSR loading (SDM 27.8). */
static int handle_entry_failure(struct xvcpu_vcpu *vcpu, u32 reason)
{
	struct xvcpu_run *run = vcpu->run;
	u32 field = 0;

	pr_info_ratelimited("vCPU %u: VM entry failed, exit reason %#x (qualification %#lx)\n",
			    vcpu->id, reason, vmcs_read(VMCS_EXIT_QUALIFICATION));
	if ((reason & VMX_EXIT_REASON_BASIC_MASK) ==
	    VMX_EXIT_INVALID_GUEST_STATE)
		field = invalid_guest_state_field(vcpu);
	run->exit_reason = XVCPU_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.exit_qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
	run->fail_entry.field = field;
	run->fail_entry.pad = 0;
	event_entry_failed(vcpu);
	/* Start the next entry from a clean launch state */
	vmcs_clear(vcpu);
	return 0;
}

int xvcpu_handle_exit(struct xvcpu_vcpu *vcpu, u32 exit_reason)
{
	u32 basic = exit_reason & VMX_EXIT_REASON_BASIC_MASK;

	if (unlikely(exit_reason & VMX_EXIT_REASON_ENTRY_FAIL))
		return handle_entry_failure(vcpu, exit_reason);
	event_after_exit(vcpu, basic);
	if (basic < ARRAY_SIZE(exit_handlers) && exit_handlers[basic])
		return exit_handlers[basic](vcpu);
	return handle_unhandled(vcpu);
}
