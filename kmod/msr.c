// SPDX-License-Identifier: GPL-2.0
/*
 * RDMSR and WRMSR: the MSRs the kernel virtualizes, and for the others the
 * VM's policy: #GP(0) in the guest, or an exit to userspace.  Every
 * RDMSR/WRMSR exits except those the MSR bitmap lets through (SDM Vol. 3C
 * 26.1.3); without MSR bitmaps all of them exit.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/trapnr.h>

#include "xvcpu.h"
#include "vmcs.h"

/*
 * The MSR bitmap (SDM Vol. 3C 25.6.9): one page shared by every vCPU
 * and never written after load.  Bytes 0-1023 are the read bitmap of
 * MSRs 0-0x1fff, 1024-2047 that of 0xc0000000-0xc0001fff, then the two
 * write bitmaps; a 1 bit makes the access exit.  FS_BASE and GS_BASE pass
 * through, as they are guest-state fields of the VMCS, and so does
 * KERNEL_GS_BASE, which holds the guest's value whenever it runs (switch.c).
 */
static struct page *msr_bitmap;

static void msr_bitmap_pass(u8 *bm, u32 index)
{
	u32 bit = index - 0xc0000000;

	bm[1024 + bit / 8] &= ~BIT(bit % 8);	/* read */
	bm[3072 + bit / 8] &= ~BIT(bit % 8);	/* write */
}

/* A new vCPU's VMCS, current: its MSR bitmap */
void xvcpu_msr_setup_vmcs(void)
{
	if (vmx_caps.msr_bitmap)
		vmcs_write(VMCS_MSR_BITMAP, page_to_phys(msr_bitmap));
}

int xvcpu_msr_bitmap_init(void)
{
	u8 *bm;

	if (!vmx_caps.msr_bitmap)
		return 0;
	msr_bitmap = alloc_page(GFP_KERNEL);
	if (!msr_bitmap)
		return -ENOMEM;
	bm = page_address(msr_bitmap);
	memset(bm, 0xff, PAGE_SIZE);
	msr_bitmap_pass(bm, MSR_FS_BASE);
	msr_bitmap_pass(bm, MSR_GS_BASE);
	msr_bitmap_pass(bm, MSR_KERNEL_GS_BASE);
	return 0;
}

void xvcpu_msr_bitmap_exit(void)
{
	if (msr_bitmap)
		__free_page(msr_bitmap);
	msr_bitmap = NULL;
}

/* A linear address is canonical when bits 63:47 are all equal. */
static bool is_canonical(u64 v)
{
	return (u64)(((s64)v << 16) >> 16) == v;
}

/* PAT entries may hold UC, WC, WT, WP, WB and UC- (SDM Vol. 3A 13.12.2) */
static bool pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

static bool is_vmx_cap_msr(u32 index)
{
	return index >= MSR_IA32_VMX_BASIC && index <= MSR_IA32_VMX_VMFUNC;
}

/* 0 with *@data, -EINVAL for #GP, -ENOENT if the VM's policy decides. */
static int msr_read(struct xvcpu_vcpu *vcpu, u32 index, u64 *data)
{
	switch (index) {
	case MSR_EFER:
		*data = vmcs_read(VMCS_GUEST_IA32_EFER);
		return 0;
	case MSR_IA32_CR_PAT:
		*data = vmcs_read(VMCS_GUEST_IA32_PAT);
		return 0;
	case MSR_IA32_SYSENTER_CS:
		*data = vmcs_read(VMCS_GUEST_SYSENTER_CS);
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		*data = vmcs_read(VMCS_GUEST_SYSENTER_ESP);
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		*data = vmcs_read(VMCS_GUEST_SYSENTER_EIP);
		return 0;
	case MSR_FS_BASE:
		*data = vmcs_read(VMCS_GUEST_FS_BASE);
		return 0;
	case MSR_GS_BASE:
		*data = vmcs_read(VMCS_GUEST_GS_BASE);
		return 0;
	case MSR_KERNEL_GS_BASE:
	case MSR_STAR:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_SYSCALL_MASK:
		*data = xvcpu_guest_msr_get(vcpu, index);
		return 0;
	case MSR_IA32_TSC:
		*data = rdtsc() + vcpu->tsc_offset;
		return 0;
	case MSR_TSC_AUX:
		*data = vcpu->tsc_aux;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = vcpu->misc_enable;
		return 0;
	case MSR_IA32_APICBASE:
		/* xAPIC enabled at the default base; vCPU 0 is the BSP */
		*data = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
			(vcpu->id == 0 ? MSR_IA32_APICBASE_BSP : 0);
		return 0;
	}
	/* CPUID hides VMX: its capability MSRs do not exist for guests */
	return is_vmx_cap_msr(index) ? -EINVAL : -ENOENT;
}

#define EFER_WRITABLE	(EFER_SCE | EFER_LME | EFER_NX)

static int msr_write(struct xvcpu_vcpu *vcpu, u32 index, u64 data)
{
	u64 old;

	switch (index) {
	case MSR_EFER:
		/* EFER.LMA is the processor's; LME may not change under paging */
		old = vmcs_read(VMCS_GUEST_IA32_EFER);
		if (data & ~(EFER_WRITABLE | EFER_LMA))
			return -EINVAL;
		if (((data ^ old) & EFER_LME) &&
		    (vmcs_read(VMCS_GUEST_CR0) & X86_CR0_PG))
			return -EINVAL;
		vmcs_write(VMCS_GUEST_IA32_EFER,
			   (data & EFER_WRITABLE) | (old & EFER_LMA));
		return 0;
	case MSR_IA32_CR_PAT:
		if (!pat_valid(data))
			return -EINVAL;
		vmcs_write(VMCS_GUEST_IA32_PAT, data);
		return 0;
	case MSR_IA32_SYSENTER_CS:
		vmcs_write(VMCS_GUEST_SYSENTER_CS, (u32)data);
		return 0;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		if (!is_canonical(data))
			return -EINVAL;
		vmcs_write(index == MSR_IA32_SYSENTER_ESP ? VMCS_GUEST_SYSENTER_ESP :
			   index == MSR_IA32_SYSENTER_EIP ? VMCS_GUEST_SYSENTER_EIP :
			   index == MSR_FS_BASE ? VMCS_GUEST_FS_BASE :
			   VMCS_GUEST_GS_BASE, data);
		return 0;
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
		/* The host would take the #GP of a non-canonical WRMSR */
		if (!is_canonical(data))
			return -EINVAL;
		xvcpu_guest_msr_set(vcpu, index, data);
		return 0;
	case MSR_STAR:
		xvcpu_guest_msr_set(vcpu, index, data);
		return 0;
	case MSR_SYSCALL_MASK:
		if (data >> 32)
			return -EINVAL;
		xvcpu_guest_msr_set(vcpu, index, data);
		return 0;
	case MSR_IA32_TSC:
		/* The TSC reads @data now, and counts on from there */
		vcpu->tsc_offset = data - rdtsc();
		vmcs_write(VMCS_TSC_OFFSET, vcpu->tsc_offset);
		return 0;
	case MSR_TSC_AUX:
		if (data >> 32)
			return -EINVAL;
		vcpu->tsc_aux = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		vcpu->misc_enable = data;
		return 0;
	}
	return is_vmx_cap_msr(index) ? -EINVAL : -ENOENT;
}

/* #GP(0), or an exit to userspace, as the VM's MSR policy says. */
static int msr_unknown(struct xvcpu_vcpu *vcpu, u32 index, u8 direction,
		       u64 data)
{
	struct xvcpu_run *run = vcpu->run;

	if (!(READ_ONCE(vcpu->vm->msr_policy) & XVCPU_MSR_EXIT_UNKNOWN)) {
		xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
		return 1;
	}
	memset(&run->msr, 0, sizeof(run->msr));
	run->exit_reason = XVCPU_EXIT_MSR;
	run->msr.index = index;
	run->msr.direction = direction;
	run->msr.data = data;
	vcpu->pending = PENDING_MSR;
	return 0;
}

int xvcpu_handle_rdmsr(struct xvcpu_vcpu *vcpu)
{
	unsigned long *g = vcpu->gprs;
	u32 index = g[GPR_RCX];
	u64 data;
	int r;

	r = msr_read(vcpu, index, &data);
	if (r == -ENOENT)
		return msr_unknown(vcpu, index, XVCPU_MSR_READ, 0);
	if (r) {
		xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
		return 1;
	}
	g[GPR_RAX] = (u32)data;
	g[GPR_RDX] = data >> 32;
	vmcs_skip_instruction();
	return 1;
}

int xvcpu_handle_wrmsr(struct xvcpu_vcpu *vcpu)
{
	unsigned long *g = vcpu->gprs;
	u32 index = g[GPR_RCX];
	u64 data = (u32)g[GPR_RAX] | ((u64)(u32)g[GPR_RDX] << 32);
	int r;

	r = msr_write(vcpu, index, data);
	if (r == -ENOENT)
		return msr_unknown(vcpu, index, XVCPU_MSR_WRITE, data);
	if (r) {
		xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
		return 1;
	}
	vmcs_skip_instruction();
	return 1;
}

/* Finish an MSR access userspace handled (XVCPU_EXIT_MSR); VMCS loaded. */
void xvcpu_complete_msr(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;

	if (run->msr.error) {
		xvcpu_queue_exception(vcpu, X86_TRAP_GP, 0);
		return;
	}
	if (run->msr.direction == XVCPU_MSR_READ) {
		vcpu->gprs[GPR_RAX] = (u32)run->msr.data;
		vcpu->gprs[GPR_RDX] = run->msr.data >> 32;
	}
	vmcs_skip_instruction();
}
