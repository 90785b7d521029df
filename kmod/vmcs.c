// SPDX-License-Identifier: GPL-2.0
/*
 * The VMCS of a vCPU: loading and clearing it on a CPU, programming the
 * controls and host state, the x86 reset state, and translating guest
 * state between the VMCS and the ABI's registers.
 *
 * A VMCS is current only on the CPU its vCPU's thread runs on, and only
 * inside an ioctl: it is cleared when the thread is scheduled out and when
 * the ioctl returns.  So no VMCS is ever active on a CPU going offline or
 * when the module turns VMX off, and no cross-CPU VMCLEAR is needed.  Only
 * when the system goes down is VMX turned off under a running vCPU: each
 * CPU then clears its own current VMCS first (vmx.c keeps track of it).
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/mm.h>
#include <linux/smp.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>

#include "xvcpu.h"
#include "vmcs.h"

void vmcs_write_failed(unsigned long field, unsigned long value)
{
	pr_warn_ratelimited("VMWRITE of field %#lx = %#lx failed (VM-instruction error %lu)\n",
			    field, value, vmcs_read(VMCS_VM_INSTRUCTION_ERROR));
}

/*
 * Host state that differs between CPUs (SDM Vol. 3C 25.5 "Host-State
 * Area"): descriptor tables, the TSS, the kernel's GS base and the
 * SYSENTER stack.  Read back from the CPU itself.
 */
static void vmcs_write_host_cpu_state(void)
{
	struct desc_ptr gdt, idt;
	const u64 *tss_desc;
	unsigned long tr;
	u64 base, v;

	native_store_gdt(&gdt);
	store_idt(&idt);
	asm volatile("str %0" : "=r" (tr));
	/* A 64-bit TSS descriptor is 16 bytes (SDM Vol. 3A 8.2.3) */
	tss_desc = (const u64 *)(gdt.address + (tr & ~7UL));
	base = ((tss_desc[0] >> 16) & 0xffffff) |
	       ((tss_desc[0] >> 32) & 0xff000000) |
	       (tss_desc[1] << 32);

	vmcs_write(VMCS_HOST_TR_SELECTOR, tr & ~7UL);
	vmcs_write(VMCS_HOST_TR_BASE, base);
	vmcs_write(VMCS_HOST_GDTR_BASE, gdt.address);
	vmcs_write(VMCS_HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_GS_BASE, v);
	vmcs_write(VMCS_HOST_GS_BASE, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, v);
}

void vmcs_load(struct xvcpu_vcpu *vcpu)
{
	int cpu = smp_processor_id();

	if (vcpu->loaded_cpu == cpu)
		return;
	WARN_ON_ONCE(vcpu->loaded_cpu != -1);
	vmx_vmptrld(vcpu->vmcs_pa);
	vcpu->loaded_cpu = cpu;
	xvcpu_spec_vcpu_load(vcpu);
	if (vcpu->host_cpu != cpu) {
		vmcs_write_host_cpu_state();
		vcpu->host_cpu = cpu;
		/*
		 * This CPU may hold translations from an earlier time the
		 * vCPU ran here, since changed by the guest on another CPU.
		 */
		vmcs_flush_guest_translations(vcpu);
	}
}

/*
 * Drop the guest's cached translations on this CPU: the combined mappings
 * of every VPID on the VM's EPT (SDM Vol. 3C 29.4.3.1; with VPID they
 * outlive VM entries).  For paging state the guest did not change itself
 * (SET_SREGS, an emulated MOV to CR0/CR4) and for a vCPU arriving here;
 * other CPUs flush when the vCPU arrives there (vmcs_load()).
 */
void vmcs_flush_guest_translations(struct xvcpu_vcpu *vcpu)
{
	vmx_invept_local(vcpu->vm->eptp);
}

void vmcs_clear(struct xvcpu_vcpu *vcpu)
{
	if (vcpu->loaded_cpu == -1)
		return;
	WARN_ON_ONCE(vcpu->loaded_cpu != smp_processor_id());
	vmx_vmclear(vcpu->vmcs_pa);
	vcpu->loaded_cpu = -1;
	vcpu->launched = false;
}

/* Host state that is the same on every CPU (25.5, checked per 27.2.3). */
static void vmcs_write_host_const_state(void)
{
	u64 v;

	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(VMCS_HOST_SS_SELECTOR, __KERNEL_DS);
	/* Null selectors: the user's are restored when leaving the guest */
	vmcs_write(VMCS_HOST_DS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_ES_SELECTOR, 0);
	vmcs_write(VMCS_HOST_FS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_GS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_RIP, (unsigned long)xvcpu_vmexit);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, v);
	rdmsrl(MSR_IA32_CR_PAT, v);
	vmcs_write(VMCS_HOST_IA32_PAT, v);
	rdmsrl(MSR_EFER, v);
	vmcs_write(VMCS_HOST_IA32_EFER, v);
}

void vmcs_refresh_host_state(struct xvcpu_vcpu *vcpu)
{
	unsigned long cr3 = __read_cr3();
	unsigned long cr4 = cr4_read_shadow();

	if (unlikely(cr3 != vcpu->host_cr3)) {
		vmcs_write(VMCS_HOST_CR3, cr3);
		vcpu->host_cr3 = cr3;
	}
	if (unlikely(cr4 != vcpu->host_cr4)) {
		vmcs_write(VMCS_HOST_CR4, cr4);
		vcpu->host_cr4 = cr4;
	}
}

/* The user's FS base, which VM exit restores (25.5); VMCS current. */
void vmcs_set_host_fs_base(struct xvcpu_vcpu *vcpu, unsigned long fs_base)
{
	if (unlikely(fs_base != vcpu->host_fs_base)) {
		vmcs_write(VMCS_HOST_FS_BASE, fs_base);
		vcpu->host_fs_base = fs_base;
	}
}

/*
 * CR0 and CR4 bits the guest may not own are host-owned in the guest/host
 * masks: a MOV to CR0/CR4 changing one exits, and the guest reads its own
 * value from the read shadow (SDM Vol. 3C 25.6.6).  CR0: the bits VMX
 * fixes (Vol. 3D A.7), except PE and PG, which unrestricted guest frees
 * (Vol. 3C 27.3.1.1); and CD and NW, which stay in the shadow and never
 * reach the processor's CR0, so that a guest cannot make memory uncached
 * for itself or the host (as KVM does).
 */
static unsigned long cr0_host_owned(void)
{
	return (vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)) |
	       (u32)~vmx_caps.cr0_fixed1 | X86_CR0_CD | X86_CR0_NW;
}

/*
 * CR4: guest-owned are exactly the bits its CPUID table gives
 * (cpuid_cr4_allowed()) that VMX operation lets it change (Vol. 3D A.8);
 * every other bit is host-owned, and a MOV to CR4 setting one is #GP
 * (exit.c).  Written at setup and on XVCPU_SET_CPUID.
 */
void vmcs_set_cr4_guest_owned(u64 allowed)
{
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK,
		   ~(allowed & vmx_caps.cr4_fixed1 & ~vmx_caps.cr4_fixed0));
}

void vmcs_set_cr0(u64 cr0)
{
	vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_write(VMCS_GUEST_CR0,
		   ((cr0 & ~(X86_CR0_CD | X86_CR0_NW)) |
		    (vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG))) &
		   vmx_caps.cr0_fixed1);
}

void vmcs_set_cr4(u64 cr4)
{
	vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_CR4, (cr4 | vmx_caps.cr4_fixed0) &
		   vmx_caps.cr4_fixed1);
}

/* The guest's view: host-owned bits from the read shadow */
static u64 vmcs_get_cr(unsigned long field, unsigned long shadow,
		       unsigned long mask_field)
{
	u64 mask = vmcs_read(mask_field);

	return (vmcs_read(field) & ~mask) | (vmcs_read(shadow) & mask);
}

struct seg_fields {
	u16 selector, base, limit, ar;
};

#define SEG(name) { VMCS_GUEST_##name##_SELECTOR, VMCS_GUEST_##name##_BASE, \
		    VMCS_GUEST_##name##_LIMIT, VMCS_GUEST_##name##_AR }

/* In the order of struct xvcpu_sregs: cs, ds, es, fs, gs, ss, tr, ldt */
static const struct seg_fields seg_fields[] = {
	SEG(CS), SEG(DS), SEG(ES), SEG(FS), SEG(GS), SEG(SS), SEG(TR), SEG(LDTR),
};

static struct xvcpu_segment *sregs_seg(struct xvcpu_sregs *s, int i)
{
	struct xvcpu_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};

	return segs[i];
}

/* Access rights as the VMCS encodes them (SDM Vol. 3C 25.4.1, Table 25-2) */
static u32 seg_to_ar(const struct xvcpu_segment *s)
{
	return (s->type & VMCS_AR_TYPE_MASK) | (s->s ? VMCS_AR_S : 0) |
	       ((s->dpl & 3) << VMCS_AR_DPL_SHIFT) | (s->present ? VMCS_AR_P : 0) |
	       (s->avl ? VMCS_AR_AVL : 0) | (s->l ? VMCS_AR_L : 0) |
	       (s->db ? VMCS_AR_DB : 0) | (s->g ? VMCS_AR_G : 0) |
	       (s->unusable ? VMCS_AR_UNUSABLE : 0);
}

static void ar_to_seg(u32 ar, struct xvcpu_segment *s)
{
	s->type = ar & VMCS_AR_TYPE_MASK;
	s->s = !!(ar & VMCS_AR_S);
	s->dpl = (ar >> VMCS_AR_DPL_SHIFT) & 3;
	s->present = !!(ar & VMCS_AR_P);
	s->avl = !!(ar & VMCS_AR_AVL);
	s->l = !!(ar & VMCS_AR_L);
	s->db = !!(ar & VMCS_AR_DB);
	s->g = !!(ar & VMCS_AR_G);
	s->unusable = !!(ar & VMCS_AR_UNUSABLE);
}

void vmcs_get_sregs(struct xvcpu_sregs *sregs)
{
	int i;

	memset(sregs, 0, sizeof(*sregs));
	for (i = 0; i < ARRAY_SIZE(seg_fields); i++) {
		struct xvcpu_segment *s = sregs_seg(sregs, i);

		s->selector = vmcs_read(seg_fields[i].selector);
		s->base = vmcs_read(seg_fields[i].base);
		s->limit = vmcs_read(seg_fields[i].limit);
		ar_to_seg(vmcs_read(seg_fields[i].ar), s);
	}
	sregs->gdt.base = vmcs_read(VMCS_GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read(VMCS_GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_read(VMCS_GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read(VMCS_GUEST_IDTR_LIMIT);
	sregs->cr0 = vmcs_get_cr(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW,
				 VMCS_CR0_GUEST_HOST_MASK);
	sregs->cr3 = vmcs_read(VMCS_GUEST_CR3);
	sregs->cr4 = vmcs_get_cr(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW,
				 VMCS_CR4_GUEST_HOST_MASK);
	sregs->efer = vmcs_read(VMCS_GUEST_IA32_EFER);
}

#define CR0_KNOWN (X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | \
		   X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | \
		   X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)
#define EFER_KNOWN (EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

static bool seg_pad_zero(const struct xvcpu_segment *s)
{
	return s->pad == 0;
}

/*
 * What SET_SREGS refuses outright: padding and reserved fields, and
 * control-register or EFER bits that do not exist on this CPU.  Any other
 * inconsistency is the processor's to find: VM entry then fails and
 * userspace gets XVCPU_EXIT_FAIL_ENTRY (SDM Vol. 3C 27.3.1).
 */
int vmcs_check_sregs(const struct xvcpu_sregs *sregs)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(sregs->reserved); i++)
		if (sregs->reserved[i])
			return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(seg_fields); i++)
		if (!seg_pad_zero(sregs_seg((struct xvcpu_sregs *)sregs, i)))
			return -EINVAL;
	if (sregs->gdt.pad[0] | sregs->gdt.pad[1] | sregs->gdt.pad[2] |
	    sregs->idt.pad[0] | sregs->idt.pad[1] | sregs->idt.pad[2])
		return -EINVAL;
	if (sregs->cr0 & ~CR0_KNOWN)
		return -EINVAL;
	/*
	 * CR4 bits must exist in VMX operation; the vCPU's CPUID narrows
	 * them further, and VMXE, SMXE and Key Locker are never the
	 * guest's (cpuid_cr4_allowed(), checked by xvcpu_vcpu_set_sregs())
	 */
	if (sregs->cr4 & ~vmx_caps.cr4_fixed1)
		return -EINVAL;
	if (sregs->efer & ~EFER_KNOWN)
		return -EINVAL;
	/*
	 * SDM Vol. 3C 27.3.1.1: IA-32e mode (EFER.LMA) needs CR0.PG and
	 * CR4.PAE, and with paging on EFER.LMA must equal EFER.LME.
	 */
	if ((sregs->efer & EFER_LMA) &&
	    (!(sregs->cr0 & X86_CR0_PG) || !(sregs->cr4 & X86_CR4_PAE)))
		return -EINVAL;
	if ((sregs->cr0 & X86_CR0_PG) &&
	    !(sregs->efer & EFER_LMA) != !(sregs->efer & EFER_LME))
		return -EINVAL;
	/* CR0.PG needs CR0.PE; CR0.NW needs CR0.CD (SDM Vol. 3A 2.5) */
	if (((sregs->cr0 & X86_CR0_PG) && !(sregs->cr0 & X86_CR0_PE)) ||
	    ((sregs->cr0 & X86_CR0_NW) && !(sregs->cr0 & X86_CR0_CD)))
		return -EINVAL;
	return 0;
}

void vmcs_set_sregs(const struct xvcpu_sregs *sregs)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(seg_fields); i++) {
		const struct xvcpu_segment *s =
			sregs_seg((struct xvcpu_sregs *)sregs, i);

		vmcs_write(seg_fields[i].selector, s->selector);
		vmcs_write(seg_fields[i].base, s->base);
		vmcs_write(seg_fields[i].limit, s->limit);
		vmcs_write(seg_fields[i].ar, seg_to_ar(s));
	}
	vmcs_write(VMCS_GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_write(VMCS_GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, sregs->idt.limit);
	vmcs_set_cr0(sregs->cr0);
	vmcs_write(VMCS_GUEST_CR3, sregs->cr3);
	vmcs_set_cr4(sregs->cr4);
	vmcs_write(VMCS_GUEST_IA32_EFER, sregs->efer);
	/* SDM Vol. 3C 27.3.1.1: "IA-32e mode guest" must match EFER.LMA */
	if (sregs->efer & EFER_LMA)
		vmcs_set_bits(VMCS_ENTRY_CONTROLS, VMX_ENTRY_IA32E_MODE_GUEST);
	else
		vmcs_clear_bits(VMCS_ENTRY_CONTROLS, VMX_ENTRY_IA32E_MODE_GUEST);
}

/*
 * The processor state after RESET (SDM Vol. 3A 10.1.1, Table 10-1):
 * real mode at F000:FFF0, which unrestricted guest runs natively.
 */
static void vmcs_write_guest_reset_state(void)
{
	struct xvcpu_sregs s = {};
	struct xvcpu_segment data = {
		.limit = 0xffff, .type = 3, .present = 1, .s = 1,
	};

	s.cs = data;
	s.cs.selector = 0xf000;
	s.cs.base = 0xffff0000;
	s.cs.type = 0xb;
	s.ds = data;
	s.es = data;
	s.fs = data;
	s.gs = data;
	s.ss = data;
	/* TR: a busy 32-bit TSS, LDTR: an LDT (27.3.1.2 checks both) */
	s.tr = (struct xvcpu_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s.ldt = (struct xvcpu_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	s.gdt.limit = 0xffff;
	s.idt.limit = 0xffff;
	s.cr0 = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
	vmcs_set_sregs(&s);

	vmcs_write(VMCS_GUEST_RIP, 0xfff0);
	vmcs_write(VMCS_GUEST_RSP, 0);
	vmcs_write(VMCS_GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_write(VMCS_GUEST_DR7, 0x400);	/* DR7 after reset */
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_IA32_PAT, 0x0007040600070406ULL);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	/* No shadow VMCS: the link pointer must be all ones (27.3.1.5) */
	vmcs_write(VMCS_LINK_POINTER, ~0UL);
}

/*
 * The VMX-preemption timer (SDM Vol. 3C 26.5.1) bounds how long a guest
 * runs without an exit, so a pending signal or host work is noticed even
 * where an external interrupt does not make the guest exit (Bochs 2.7
 * does not exit on external interrupts while the guest has RFLAGS.IF = 0,
 * although the SDM says RFLAGS.IF does not matter with external-interrupt
 * exiting).  The value is reloaded on every entry: the timer fires only
 * after a whole period without any other exit.
 */
static u32 preemption_timer_value(void)
{
	u64 ticks = (u64)tsc_khz * xvcpu_preemption_timer_us / 1000;

	ticks >>= vmx_caps.preemption_timer_shift;
	return clamp_t(u64, ticks, 1, U32_MAX);
}

/* Program a fresh VMCS: controls, host state, reset guest state. */
void vmcs_setup(struct xvcpu_vcpu *vcpu)
{
	u32 pin = vmx_caps.pin;

	vmcs_load(vcpu);

	if (vmx_caps.preemption_timer && xvcpu_preemption_timer_us)
		vmcs_write(VMCS_PREEMPTION_TIMER_VALUE,
			   preemption_timer_value());
	else
		pin &= ~VMX_PIN_PREEMPTION_TIMER;
	vmcs_write(VMCS_PIN_CONTROLS, pin);
	vcpu->proc_ctl = vmx_caps.proc;
	vmcs_write(VMCS_PROC_CONTROLS, vcpu->proc_ctl);
	vmcs_write(VMCS_PROC2_CONTROLS, vmx_caps.proc2);
	vmcs_write(VMCS_EXIT_CONTROLS, vmx_caps.exit);
	vmcs_write(VMCS_ENTRY_CONTROLS, vmx_caps.entry);
	vmcs_write(VMCS_PF_ERROR_CODE_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_TSC_OFFSET, vcpu->tsc_offset);
	if (vmx_caps.vpid)
		vmcs_write(VMCS_VPID, vcpu->vpid);
	vmcs_write(VMCS_EPT_POINTER, vcpu->vm->eptp);
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, cr0_host_owned());
	vmcs_set_cr4_guest_owned(vcpu->cr4_allowed);

	vmcs_write_host_const_state();
	vcpu->host_cr3 = 0;
	vcpu->host_cr4 = 0;
	vcpu->host_fs_base = ~0UL;
	vmcs_refresh_host_state(vcpu);

	vmcs_write_guest_reset_state();
}

/* Move RIP past the instruction that exited (SDM Vol. 3C 28.2.5). */
void vmcs_skip_instruction(void)
{
	u32 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);

	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) +
		   vmcs_read(VMCS_EXIT_INSTRUCTION_LEN));
	/* Blocking by STI or MOV SS ends with the instruction (25.4.2) */
	if (intr & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS))
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr &
			   ~(VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS));
	/*
	 * The instruction is done: with RFLAGS.TF = 1 its single-step trap
	 * is due (SDM Vol. 3A 18.3.1.4), delivered on the next VM entry as
	 * a pending debug exception (Vol. 3C 27.7.3).
	 */
	if (vmcs_guest_single_step_due())
		vmcs_set_bits(VMCS_GUEST_PENDING_DBG, VMX_PENDING_DBG_BS);
}

/*
 * An exit that no one in xvcpu handles goes to userspace as it is: an
 * internal error carrying the exit's VMCS fields.  VMCS current.
 */
void vmcs_report_unhandled(struct xvcpu_vcpu *vcpu)
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
}
