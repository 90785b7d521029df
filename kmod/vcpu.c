// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU objects: creation, the run loop, registers.  The switch of host and
 * guest state around each VM entry is switch.c's.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/trapnr.h>

#include "compat.h"
#include "decode.h"
#include "xvcpu.h"
#include "vmcs.h"

void xvcpu_vcpu_module_init(void)
{
	xvcpu_switch_module_init();
	/* The CPUID tables depend on xvcpu_guest_xcr0_supported */
	xvcpu_cpuid_module_init();
}

static void vcpu_sched_in(struct preempt_notifier *pn, int cpu)
{
}

static void vcpu_sched_out(struct preempt_notifier *pn,
			   struct task_struct *next)
{
	struct xvcpu_vcpu *vcpu = container_of(pn, struct xvcpu_vcpu, preempt);

	xvcpu_switch_put_user_state(vcpu);
	vmcs_clear(vcpu);
}

static struct preempt_ops vcpu_preempt_ops = {
	.sched_in = vcpu_sched_in,
	.sched_out = vcpu_sched_out,
};

int xvcpu_vcpu_create(struct xvcpu_vm *vm, unsigned int id,
		      struct xvcpu_vcpu **out)
{
	struct xvcpu_vcpu *vcpu;
	struct page *vmcs_page;
	int r = -ENOMEM;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	atomic_long_inc(&xvcpu_stats.vcpus);
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->loaded_cpu = -1;
	vcpu->host_cpu = -1;
	mutex_init(&vcpu->ioctl_lock);
	preempt_notifier_init(&vcpu->preempt, &vcpu_preempt_ops);

	vmcs_page = xvcpu_alloc_page();
	if (!vmcs_page)
		goto err;
	vcpu->vmcs = page_address(vmcs_page);
	vcpu->vmcs_pa = page_to_phys(vmcs_page);
	/* SDM Vol. 3C 25.2: the revision identifier heads the region */
	*(u32 *)vcpu->vmcs = vmx_caps.revision_id;

	vcpu->run_page = xvcpu_alloc_page();
	if (!vcpu->run_page)
		goto err;
	vcpu->run = page_address(vcpu->run_page);

	r = xvcpu_switch_vcpu_init(vcpu);
	if (r)
		goto err;
	r = -ENOMEM;

	r = xvcpu_cpuid_vcpu_init(vcpu);
	if (r)
		goto err;

	r = vmx_vpid_alloc();
	if (r < 0)
		goto err;
	vcpu->vpid = r;

	/*
	 * The guest's TSC (SDM Vol. 3C 26.6.5, TSC offsetting): 0 when the
	 * VM's first vCPU is created, the same clock for every vCPU of the
	 * VM, as with KVM; a guest's WRMSR to IA32_TSC moves its own vCPU's
	 * (msr.c).  The caller holds vm->lock.
	 */
	if (!vm->tsc_offset_set) {
		vm->tsc_offset = -(s64)rdtsc();
		vm->tsc_offset_set = true;
	}
	vcpu->tsc_offset = vm->tsc_offset;
	vcpu->gprs[GPR_RDX] = 0x600;	/* reset EDX: family 6 signature */
	vcpu->misc_enable = MSR_IA32_MISC_ENABLE_FAST_STRING;
	vcpu->xcr0 = 1;			/* XCR0 after reset: x87 only */
	preempt_disable();
	vmcs_setup(vcpu);
	/* The parts of the VMCS that the layers above vmcs.c own */
	xvcpu_msr_setup_vmcs();
	event_setup_vmcs(vcpu);
	vmcs_clear(vcpu);
	preempt_enable();

	*out = vcpu;
	return 0;
err:
	xvcpu_vcpu_destroy(vcpu);
	return r;
}

/* Also frees a partly created vCPU. */
void xvcpu_vcpu_destroy(struct xvcpu_vcpu *vcpu)
{
	if (vcpu->vmcs) {
		/* Never current: every ioctl clears it before returning */
		WARN_ON_ONCE(vcpu->loaded_cpu != -1);
		xvcpu_free_page(virt_to_page(vcpu->vmcs));
	}
	if (vcpu->run_page)
		xvcpu_free_page(vcpu->run_page);
	xvcpu_switch_vcpu_free(vcpu);
	xvcpu_spec_vcpu_destroyed(vcpu);
	kfree(vcpu->cpuid);
	vmx_vpid_free(vcpu->vpid);
	kfree(vcpu);
	atomic_long_dec(&xvcpu_stats.vcpus);
}

/* VMLAUNCH/VMRESUME failed: an error in the VMCS controls or host state. */
static int vcpu_entry_failed(struct xvcpu_vcpu *vcpu)
{
	u32 err = vmcs_read(VMCS_VM_INSTRUCTION_ERROR);

	pr_warn_ratelimited("vCPU %u: VM entry failed, VM-instruction error %u\n",
			    vcpu->id, err);
	vcpu->run->exit_reason = XVCPU_EXIT_FAIL_ENTRY;
	vcpu->run->fail_entry.hardware_entry_failure_reason = BIT_ULL(63) | err;
	vcpu->run->fail_entry.exit_qualification = 0;
	vcpu->run->fail_entry.field = 0;
	vcpu->run->fail_entry.pad = 0;
	event_entry_failed(vcpu);
	vmcs_clear(vcpu);
	return 0;
}

/*
 * Give the guest the page it touched first: > 0 to re-enter, 0 for the
 * MMIO exit already in the run page (no slot holds the address), once
 * its instruction bytes are there too.
 */
static int vcpu_populate(struct xvcpu_vcpu *vcpu)
{
	int r = xvcpu_vm_populate(vcpu->vm, vcpu->fault_gpa);

	if (r == -ENOENT)
		return xvcpu_guestmem_work(vcpu);
	if (r)
		return xvcpu_refuse(r, "vCPU %u: no page for guest-physical %#llx",
				    vcpu->id, vcpu->fault_gpa);
	return 1;
}

/* PDPTE bits reserved beyond the physical-address width (SDM Vol. 3A 5.4.1) */
static bool pdptes_valid(const u64 *pdpte)
{
	u64 reserved = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits) |
		       GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1);
	int i;

	for (i = 0; i < 4; i++)
		if ((pdpte[i] & _PAGE_PRESENT) && (pdpte[i] & reserved))
			return false;
	return true;
}

/*
 * PAE paging outside IA-32e mode uses four PDPTEs that the processor
 * reads from CR3 when paging is turned on; with EPT, VM entry loads them
 * from the VMCS (SDM Vol. 3C 27.3.2.4).  Read from guest memory: sleeps.
 */
static int vcpu_read_pdptes(struct xvcpu_vcpu *vcpu, u64 cr3, u64 *pdpte)
{
	int r = xvcpu_vm_read_phys(vcpu->vm, cr3 & 0xffffffe0ULL, pdpte,
				   4 * sizeof(u64));

	return r ? r : pdptes_valid(pdpte) ? 0 : -EINVAL;
}

static void vmcs_write_pdptes(const u64 *pdpte)
{
	vmcs_write(VMCS_GUEST_PDPTE0, pdpte[0]);
	vmcs_write(VMCS_GUEST_PDPTE1, pdpte[1]);
	vmcs_write(VMCS_GUEST_PDPTE2, pdpte[2]);
	vmcs_write(VMCS_GUEST_PDPTE3, pdpte[3]);
}

/*
 * The guest's MOV to CR0 turned on PAE paging (exit.c set_guest_cr0()):
 * finish it with the PDPTEs, or #GP(0) if they cannot be loaded (SDM
 * Vol. 2 "MOV to/from Control Registers").
 */
static int vcpu_finish_paging(struct xvcpu_vcpu *vcpu)
{
	u64 pdpte[4], cr3;
	int r;

	preempt_disable();
	vmcs_load(vcpu);
	cr3 = vmcs_read(VMCS_GUEST_CR3);
	preempt_enable();
	r = vcpu_read_pdptes(vcpu, cr3, pdpte);
	preempt_disable();
	vmcs_load(vcpu);
	if (r) {
		xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
	} else {
		vmcs_write_pdptes(pdpte);
		vmcs_set_cr0(vcpu->paging_cr0);
		vmcs_flush_guest_translations(vcpu);	/* as exit.c's CR0 writes */
		vmcs_skip_instruction();
	}
	preempt_enable();
	return 1;
}

int xvcpu_vcpu_run(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;
	long r;

	run->exit_reason = XVCPU_EXIT_UNKNOWN;
	if (vcpu->pending == PENDING_STRING_IN) {
		r = xvcpu_gm_complete_ins(vcpu);
		if (r)
			return r;
	}
	/*
	 * immediate_exit still completes what userspace answered (an IN, a
	 * hypercall, an MSR access, which may raise #GP), so a VMM can bring
	 * the vCPU to a state GET_REGS/GET_EVENTS describe fully.
	 */
	if (READ_ONCE(run->immediate_exit)) {
		preempt_disable();
		vmcs_load(vcpu);
		xvcpu_complete_pending(vcpu);
		event_fill_run(vcpu);
		vmcs_clear(vcpu);
		preempt_enable();
		run->exit_reason = XVCPU_EXIT_INTR;
		return -EINTR;
	}

	preempt_notifier_register(&vcpu->preempt);
	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = XVCPU_EXIT_INTR;
			r = -EINTR;
			break;
		}
		cond_resched();
		/* The system is going down: VMX is or soon will be off (vmx.c) */
		if (vmx_going_down()) {
			r = xvcpu_refuse(-ESHUTDOWN,
					 "vCPU %u: no guest entry: the system is going down",
					 vcpu->id);
			break;
		}

		preempt_disable();
		vmcs_load(vcpu);
		xvcpu_complete_pending(vcpu);
		r = xvcpu_switch_enter_guest(vcpu);
		/* VMX went off under the entry: its fault made it fail */
		if (r == -EIO && vmx_going_down())
			r = -ESHUTDOWN;
		else if (r == -EIO)
			r = vcpu_entry_failed(vcpu);
		else if (r >= 0)
			r = xvcpu_handle_exit(vcpu, r);
		preempt_enable();
		if (r == XVCPU_EXIT_NEEDS_PAGE)
			r = vcpu_populate(vcpu);
		else if (r == XVCPU_EXIT_GUEST_MEM)
			r = xvcpu_guestmem_work(vcpu);
		else if (r == XVCPU_EXIT_LOAD_PDPTES)
			r = vcpu_finish_paging(vcpu);
		if (r == -EAGAIN)
			continue;
		if (r <= 0)
			break;
	}
	preempt_disable();
	vmcs_load(vcpu);
	event_fill_run(vcpu);
	xvcpu_switch_put_user_state(vcpu);
	vmcs_clear(vcpu);
	preempt_notifier_unregister(&vcpu->preempt);
	preempt_enable();
	return r;
}

/* RFLAGS bits with meaning; of the others, bit 1 is set and the rest clear */
#define RFLAGS_DEFINED	0x3f7fd5UL

void xvcpu_vcpu_get_regs(struct xvcpu_vcpu *vcpu, struct xvcpu_regs *regs)
{
	const unsigned long *g = vcpu->gprs;

	preempt_disable();
	vmcs_load(vcpu);
	regs->rsp = vmcs_read(VMCS_GUEST_RSP);
	regs->rip = vmcs_read(VMCS_GUEST_RIP);
	regs->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	vmcs_clear(vcpu);
	preempt_enable();

	regs->rax = g[GPR_RAX];
	regs->rbx = g[GPR_RBX];
	regs->rcx = g[GPR_RCX];
	regs->rdx = g[GPR_RDX];
	regs->rsi = g[GPR_RSI];
	regs->rdi = g[GPR_RDI];
	regs->rbp = g[GPR_RBP];
	regs->r8 = g[GPR_R8];
	regs->r9 = g[GPR_R9];
	regs->r10 = g[GPR_R10];
	regs->r11 = g[GPR_R11];
	regs->r12 = g[GPR_R12];
	regs->r13 = g[GPR_R13];
	regs->r14 = g[GPR_R14];
	regs->r15 = g[GPR_R15];
}

int xvcpu_vcpu_set_regs(struct xvcpu_vcpu *vcpu, const struct xvcpu_regs *regs)
{
	unsigned long *g = vcpu->gprs;

	if ((regs->rflags & ~RFLAGS_DEFINED) != X86_EFLAGS_FIXED)
		return xvcpu_refuse(-EINVAL, "RFLAGS %#llx: bit 1 must be 1, reserved bits 0",
				    regs->rflags);
	if (!(regs->rflags & X86_EFLAGS_IF)) {
		int r = event_requeue_interrupt(vcpu);

		if (r)
			return r;
	}

	g[GPR_RAX] = regs->rax;
	g[GPR_RBX] = regs->rbx;
	g[GPR_RCX] = regs->rcx;
	g[GPR_RDX] = regs->rdx;
	g[GPR_RSI] = regs->rsi;
	g[GPR_RDI] = regs->rdi;
	g[GPR_RBP] = regs->rbp;
	g[GPR_R8] = regs->r8;
	g[GPR_R9] = regs->r9;
	g[GPR_R10] = regs->r10;
	g[GPR_R11] = regs->r11;
	g[GPR_R12] = regs->r12;
	g[GPR_R13] = regs->r13;
	g[GPR_R14] = regs->r14;
	g[GPR_R15] = regs->r15;
	/* A pending completion is dropped: userspace set the registers */
	vcpu->pending = PENDING_NONE;

	preempt_disable();
	vmcs_load(vcpu);
	vmcs_write(VMCS_GUEST_RSP, regs->rsp);
	vmcs_write(VMCS_GUEST_RIP, regs->rip);
	vmcs_write(VMCS_GUEST_RFLAGS, regs->rflags);
	/* Blocking by STI needs RFLAGS.IF = 1 (SDM Vol. 3C 27.3.1.5) */
	if (!(regs->rflags & X86_EFLAGS_IF))
		vmcs_clear_bits(VMCS_GUEST_INTERRUPTIBILITY,
				VMX_INTERRUPTIBILITY_STI);
	event_regs_changed();
	vmcs_clear(vcpu);
	preempt_enable();
	return 0;
}

void xvcpu_vcpu_get_sregs(struct xvcpu_vcpu *vcpu, struct xvcpu_sregs *sregs)
{
	preempt_disable();
	vmcs_load(vcpu);
	vmcs_get_sregs(sregs);
	vmcs_clear(vcpu);
	preempt_enable();
	sregs->cr2 = vcpu->cr2;
}

int xvcpu_vcpu_set_sregs(struct xvcpu_vcpu *vcpu,
			 const struct xvcpu_sregs *sregs)
{
	int r = vmcs_check_sregs(sregs);
	u64 pdpte[4];
	bool pae;

	if (r)
		return xvcpu_refuse(r, "SET_SREGS: reserved field or unsupported CR/EFER bit");
	if (sregs->cr4 & ~vcpu->cr4_allowed)
		return xvcpu_refuse(-EINVAL, "SET_SREGS: CR4 bits %#llx not in the vCPU's CPUID",
				    sregs->cr4 & ~vcpu->cr4_allowed);
	pae = (sregs->cr0 & X86_CR0_PG) && (sregs->cr4 & X86_CR4_PAE) &&
	      !(sregs->efer & EFER_LMA);
	if (pae && vcpu_read_pdptes(vcpu, sregs->cr3, pdpte))
		return xvcpu_refuse(-EINVAL, "SET_SREGS: no valid PDPTEs at CR3 %#llx",
				    sregs->cr3);
	preempt_disable();
	vmcs_load(vcpu);
	vmcs_set_sregs(sregs);
	if (pae)
		vmcs_write_pdptes(pdpte);
	/* New paging state behind the guest's back: its TLB must go */
	vmcs_flush_guest_translations(vcpu);
	vmcs_clear(vcpu);
	preempt_enable();
	vcpu->cr2 = sregs->cr2;
	return 0;
}

void xvcpu_vcpu_get_exit_info(struct xvcpu_vcpu *vcpu,
			      struct xvcpu_exit_info *info)
{
	memset(info, 0, sizeof(*info));
	preempt_disable();
	vmcs_load(vcpu);
	info->exit_reason = vmcs_read(VMCS_EXIT_REASON);
	info->exit_qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
	info->guest_linear_address = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS);
	info->guest_physical_address = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	info->intr_info = vmcs_read(VMCS_EXIT_INTR_INFO);
	info->intr_error_code = vmcs_read(VMCS_EXIT_INTR_ERROR_CODE);
	info->idt_vectoring_info = vmcs_read(VMCS_IDT_VECTORING_INFO);
	info->idt_vectoring_error_code = vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE);
	info->instruction_len = vmcs_read(VMCS_EXIT_INSTRUCTION_LEN);
	info->instruction_info = vmcs_read(VMCS_EXIT_INSTRUCTION_INFO);
	vmcs_clear(vcpu);
	preempt_enable();
	decode_exit_info_sanitize(info);
}
