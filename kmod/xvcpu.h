/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvcpu internal objects and the calls between the module's parts.
 *
 * Data flows one way: dev.c (ioctls, user copies) -> vm.c / vcpu.c
 * (objects) -> vmcs.c / ept.c (hardware state) -> exit.c (what an exit
 * means) -> the run page.
 */
#ifndef XVCPU_H
#define XVCPU_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/preempt.h>
#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/xarray.h>

#include "../uapi/xvcpu.h"
#include "caps.h"
#include "ept.h"
#include "../include/xvcpu/vmx.h"

#define XVCPU_NR_MEMSLOTS	32
#define XVCPU_MAX_VCPUS		16

/*
 * Refuse a request: returns @err, after a rate-limited dmesg line saying
 * why and naming the caller, so that every bad input can be traced.
 */
__printf(2, 3) int xvcpu_refuse(int err, const char *fmt, ...);

/* ---- module-wide (main.c, vmx.c) ---- */

extern struct vmx_caps vmx_caps;
extern unsigned int xvcpu_max_memory_mb;
extern unsigned int xvcpu_preemption_timer_us;
/*
 * XCR0 bits a guest may enable (vcpu.c): the host's XCR0 less the state
 * components xvcpu does not give guests (AMX, and supervisor state).
 */
extern u64 xvcpu_guest_xcr0_supported;

/* Live objects and pages, for leak checks (debugfs xvcpu/stats). */
struct xvcpu_stats {
	atomic_long_t vms;
	atomic_long_t vcpus;
	atomic_long_t pages;
};

extern struct xvcpu_stats xvcpu_stats;

extern const struct file_operations xvcpu_dev_fops;

struct page *xvcpu_alloc_page(void);
void xvcpu_free_page(struct page *page);

int xvcpu_vmx_init(void);
void xvcpu_vmx_exit(void);
/* INVEPT single-context for @eptp (or all-context) on every online CPU. */
void vmx_invept_all_cpus(u64 eptp);
/* INVEPT for @eptp on this CPU. */
void vmx_invept_local(u64 eptp);
int vmx_vpid_alloc(void);
void vmx_vpid_free(int vpid);

/* ---- VM (vm.c) ---- */

/*
 * A memory slot.  Its pages are allocated (zeroed) when first touched, by
 * the guest (EPT violation) or through the VMM's mapping (page fault),
 * and kept in @pages by page index until the slot is deleted.
 */
struct xvcpu_slot {
	bool used;
	u32 flags;
	u64 gpa;
	u64 size;
	unsigned long npages;
	struct xarray pages;	/* under vm->lock */
	atomic_t mmaps;		/* live VMAs of this slot */
};

struct xvcpu_vcpu;

struct xvcpu_vm {
	refcount_t refs;	/* VM fd + one per vCPU */
	struct mutex lock;	/* slots, vcpus, EPT updates */
	struct ept ept;
	u64 eptp;
	u64 mem_bytes;
	u32 msr_policy;		/* XVCPU_MSR_* */
	struct xvcpu_slot slots[XVCPU_NR_MEMSLOTS];
	struct xvcpu_vcpu *vcpus[XVCPU_MAX_VCPUS];
};

struct xvcpu_vm *xvcpu_vm_create(void);
void xvcpu_vm_put(struct xvcpu_vm *vm);
int xvcpu_vm_set_memory_region(struct xvcpu_vm *vm,
			       struct xvcpu_memory_region *mr);
struct vm_area_struct;
int xvcpu_vm_mmap(struct xvcpu_vm *vm, struct vm_area_struct *vma);
/*
 * Back the guest-physical page at @gpa and map it in EPT.  -ENOENT if no
 * slot holds @gpa (MMIO), -ENOMEM if no page could be had.
 */
int xvcpu_vm_populate(struct xvcpu_vm *vm, u64 gpa);

/* ---- vCPU (vcpu.c, vmcs.c, exit.c) ---- */

/* Guest general registers, indexed by the x86 register number. */
enum {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	NR_GPRS
};

/* Guest MSRs the VMCS does not switch: swapped around each entry. */
struct xvcpu_guest_msrs {
	u64 kernel_gs_base;
	u64 star;
	u64 lstar;
	u64 cstar;
	u64 sfmask;
};

struct xvcpu_vcpu {
	struct xvcpu_vm *vm;
	unsigned int id;
	struct mutex ioctl_lock;	/* one ioctl at a time: else -EBUSY */

	void *vmcs;			/* one page, revision id at offset 0 */
	u64 vmcs_pa;
	int loaded_cpu;			/* CPU the VMCS is current on, or -1 */
	int host_cpu;			/* CPU whose host state the VMCS holds */
	bool launched;			/* VMRESUME, not VMLAUNCH */
	int vpid;

	/* Host values last written to the VMCS, rewritten when they change */
	unsigned long host_cr3;
	unsigned long host_cr4;
	unsigned long host_fs_base;

	unsigned long gprs[NR_GPRS];	/* RSP lives in the VMCS */
	unsigned long cr2;
	struct xvcpu_guest_msrs msrs;
	u64 tsc_aux;
	u64 misc_enable;
	u64 xcr0;			/* guest XCR0 (1 after reset) */
	void *fpu;			/* guest FXSAVE/XSAVE area */

	struct xvcpu_run *run;		/* shared with userspace */
	struct page *run_page;

	/* What the next RUN completes from the run page first */
	enum {
		PENDING_NONE, PENDING_IO_IN, PENDING_HYPERCALL, PENDING_MSR
	} pending;
	u8 pending_in_size;		/* of the PENDING_IO_IN */
	u64 fault_gpa;			/* of XVCPU_EXIT_NEEDS_PAGE */
	struct preempt_notifier preempt;
};

void xvcpu_vcpu_module_init(void);
int xvcpu_vcpu_create(struct xvcpu_vm *vm, unsigned int id,
		      struct xvcpu_vcpu **out);
void xvcpu_vcpu_destroy(struct xvcpu_vcpu *vcpu);
int xvcpu_vcpu_run(struct xvcpu_vcpu *vcpu);
void xvcpu_vcpu_get_regs(struct xvcpu_vcpu *vcpu, struct xvcpu_regs *regs);
int xvcpu_vcpu_set_regs(struct xvcpu_vcpu *vcpu, const struct xvcpu_regs *regs);
void xvcpu_vcpu_get_sregs(struct xvcpu_vcpu *vcpu, struct xvcpu_sregs *sregs);
int xvcpu_vcpu_set_sregs(struct xvcpu_vcpu *vcpu,
			 const struct xvcpu_sregs *sregs);
void xvcpu_vcpu_get_exit_info(struct xvcpu_vcpu *vcpu,
			      struct xvcpu_exit_info *info);

/* vmcs.c: the VMCS of @vcpu made current on this CPU, preemption off. */
void vmcs_load(struct xvcpu_vcpu *vcpu);
/* VMCLEAR if current on this CPU; preemption off. */
void vmcs_clear(struct xvcpu_vcpu *vcpu);
void vmcs_setup(struct xvcpu_vcpu *vcpu);
void vmcs_refresh_host_state(struct xvcpu_vcpu *vcpu);
void vmcs_set_host_fs_base(struct xvcpu_vcpu *vcpu, unsigned long fs_base);
void vmcs_get_sregs(struct xvcpu_sregs *sregs);
int vmcs_check_sregs(const struct xvcpu_sregs *sregs);
void vmcs_set_sregs(const struct xvcpu_sregs *sregs);
void vmcs_set_cr0(u64 cr0);
void vmcs_set_cr4(u64 cr4);
void vmcs_skip_instruction(void);
void vmcs_inject_gp(void);

/* vcpu.c: guest KERNEL_GS_BASE and SYSCALL MSRs, wherever they are now */
u64 xvcpu_guest_msr_get(struct xvcpu_vcpu *vcpu, u32 index);
void xvcpu_guest_msr_set(struct xvcpu_vcpu *vcpu, u32 index, u64 value);

/* msr.c: RDMSR/WRMSR exits (exit-handler return values) */
int xvcpu_handle_rdmsr(struct xvcpu_vcpu *vcpu);
int xvcpu_handle_wrmsr(struct xvcpu_vcpu *vcpu);
void xvcpu_complete_msr(struct xvcpu_vcpu *vcpu);

/* cpuid.c: the guest's view of CPUID leaf @leaf, subleaf @subleaf. */
void xvcpu_cpuid(struct xvcpu_vcpu *vcpu, u32 leaf, u32 subleaf, u32 *regs);

/*
 * exit.c: > 0 to re-enter the guest, 0 to return to userspace, or
 * XVCPU_EXIT_NEEDS_PAGE: back vcpu->fault_gpa first (it may sleep).
 */
#define XVCPU_EXIT_NEEDS_PAGE	2
int xvcpu_handle_exit(struct xvcpu_vcpu *vcpu, u32 exit_reason);
void xvcpu_complete_pending(struct xvcpu_vcpu *vcpu);

/* vmenter.S: 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed. */
int xvcpu_vmenter(unsigned long *gprs, unsigned long launched);
extern const char xvcpu_vmexit[];

#endif /* XVCPU_H */
