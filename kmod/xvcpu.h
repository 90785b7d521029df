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
#include "guestmem.h"
#include "hostpolicy.h"
#include "vmenter.h"
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

/* spec.c: what this host needs around guest execution (hostpolicy.h) */
struct entry_policy;
struct xvcpu_vcpu;
extern struct entry_policy xvcpu_entry_policy;
/* 64 KiB, twice the L1D of the CPUs with L1TF: a software flush reads it */
#define XVCPU_L1D_FLUSH_ORDER	4
extern void *xvcpu_l1d_flush_buffer;
extern bool xvcpu_split_lock_detect;
int xvcpu_spec_init(void);
void xvcpu_spec_exit(void);
void xvcpu_spec_vcpu_load(struct xvcpu_vcpu *vcpu);
void xvcpu_spec_vcpu_destroyed(struct xvcpu_vcpu *vcpu);

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
	bool creating;		/* reserved, not usable yet */
};

struct xvcpu_vcpu;

struct xvcpu_vm {
	refcount_t refs;	/* VM fd + one per vCPU */
	struct mutex lock;	/* slots, vcpus, EPT updates */
	struct ept ept;
	u64 eptp;
	u64 mem_bytes;
	u32 msr_policy;		/* XVCPU_MSR_* */
	/* TSC offset of new vCPUs: their TSC reads 0 at the first's birth */
	s64 tsc_offset;
	bool tsc_offset_set;
	struct xvcpu_slot slots[XVCPU_NR_MEMSLOTS];
	struct xvcpu_vcpu *vcpus[XVCPU_MAX_VCPUS];
};

struct xvcpu_vm *xvcpu_vm_create(void);
void xvcpu_vm_put(struct xvcpu_vm *vm);
/* A new region must be finished with xvcpu_vm_finish_memory_region(). */
int xvcpu_vm_set_memory_region(struct xvcpu_vm *vm,
			       struct xvcpu_memory_region *mr);
void xvcpu_vm_finish_memory_region(struct xvcpu_vm *vm, u32 index, bool keep);
struct vm_area_struct;
int xvcpu_vm_mmap(struct xvcpu_vm *vm, struct vm_area_struct *vma);
/*
 * Back the guest-physical page at @gpa and map it in EPT.  -ENOENT if no
 * slot holds @gpa (MMIO), -ENOMEM if no page could be had.
 */
int xvcpu_vm_populate(struct xvcpu_vm *vm, u64 gpa);
/*
 * Guest-physical memory for the kernel's own accesses on the guest's
 * behalf.  They take vm->lock, so they may sleep: never call them from an
 * exit handler (preemption off); the run loop calls them afterwards.
 * Pages not allocated yet read as zeros (nothing is allocated); a write
 * allocates them.  -ENOENT if a slot does not hold the whole range,
 * -EPERM for a write to a read-only slot, -ENOMEM.
 */
int xvcpu_vm_read_phys(struct xvcpu_vm *vm, u64 gpa, void *buf, size_t len);
int xvcpu_vm_write_phys(struct xvcpu_vm *vm, u64 gpa, const void *buf,
			size_t len);
/* The checks of a read (@write false) or write, with no copy. */
int xvcpu_vm_check_phys(struct xvcpu_vm *vm, u64 gpa, size_t len, bool write);

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

/* An event for VM entry, as the interruption-information field has it */
struct xvcpu_event_state {
	u32 info;			/* VMX_INTR_INFO_VALID set: pending */
	u32 error_code;
	u32 insn_len;			/* software interrupts and exceptions */
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
	s64 tsc_offset;			/* guest TSC = host TSC + this */
	u64 misc_enable;
	u64 xcr0;			/* guest XCR0 (1 after reset) */
	u64 cr8;			/* guest TPR as MOV CR8 sees it */
	u64 paging_cr0;			/* of XVCPU_EXIT_LOAD_PDPTES */

	/* Events (event.c) */
	u32 proc_ctl;			/* primary processor-based controls */
	struct xvcpu_event_state event;	/* injected on the next entry */
	bool entry_intr_written;	/* VM-entry field holds it */
	bool irq_queued;		/* XVCPU_INTERRUPT waits for a window */
	u8 irq_vector;
	bool nmi_queued;
	u32 guest_debug;		/* XVCPU_DEBUG_* */
	bool guest_dr_active;		/* guest DR7 enables a breakpoint */
	unsigned long db[4];		/* guest DR0-DR3 */
	unsigned long dr6;		/* guest DR6 */
	void *fpu;			/* guest FXSAVE/XSAVE area */
	u32 pkru;			/* guest PKRU (switch.c) */
	struct msr_load_entry *msr_load;	/* perf's MSR-load areas (switch.c) */
	u64 msr_load_pa;
	unsigned int msr_load_nr;	/* entries in each, as in the VMCS */
	struct xvcpu_cpuid_entry *cpuid;	/* CPUID table (cpuid.c) */
	u32 cpuid_nent;
	u64 cr4_allowed;		/* CR4 bits its CPUID gives (cpuid.c) */

	struct xvcpu_run *run;		/* shared with userspace */
	struct page *run_page;

	/* What the next RUN completes from the run page first */
	enum {
		PENDING_NONE, PENDING_IO_IN, PENDING_HYPERCALL, PENDING_MSR,
		PENDING_STRING_IN,	/* INS data: xvcpu_gm_complete_ins() */
	} pending;
	u8 pending_in_size;		/* of the PENDING_IO_IN */
	u64 fault_gpa;			/* of XVCPU_EXIT_NEEDS_PAGE */
	struct xvcpu_guestmem gm;	/* of XVCPU_EXIT_GUEST_MEM */
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
void vmcs_set_cr4_guest_owned(u64 allowed);
void vmcs_skip_instruction(void);
void vmcs_flush_guest_translations(struct xvcpu_vcpu *vcpu);
/* The exit goes to userspace as XVCPU_EXIT_INTERNAL_ERROR; VMCS current */
void vmcs_report_unhandled(struct xvcpu_vcpu *vcpu);

/* event.c: events, windows and debugging (see there) */
void xvcpu_queue_exception(struct xvcpu_vcpu *vcpu, unsigned int vector,
			   u32 error_code);
void event_setup_vmcs(struct xvcpu_vcpu *vcpu);
void event_prepare_entry(struct xvcpu_vcpu *vcpu);
void event_entry_failed(struct xvcpu_vcpu *vcpu);
void event_after_exit(struct xvcpu_vcpu *vcpu, u32 basic_reason);
void event_fill_run(struct xvcpu_vcpu *vcpu);
int event_requeue_interrupt(struct xvcpu_vcpu *vcpu);
void event_regs_changed(void);
int event_handle_interrupt_window(struct xvcpu_vcpu *vcpu);
int event_handle_nmi_window(struct xvcpu_vcpu *vcpu);
int event_handle_mtf(struct xvcpu_vcpu *vcpu);
int event_handle_debug_exception(struct xvcpu_vcpu *vcpu, u32 info);
int event_handle_dr_access(struct xvcpu_vcpu *vcpu);
void xvcpu_vcpu_get_events(struct xvcpu_vcpu *vcpu, struct xvcpu_events *ev);
int xvcpu_vcpu_set_events(struct xvcpu_vcpu *vcpu,
			  const struct xvcpu_events *ev);
int xvcpu_vcpu_interrupt(struct xvcpu_vcpu *vcpu,
			 const struct xvcpu_interrupt *irq);
int xvcpu_vcpu_nmi(struct xvcpu_vcpu *vcpu);
int xvcpu_vcpu_set_guest_debug(struct xvcpu_vcpu *vcpu,
			       const struct xvcpu_guest_debug *dbg);

/* switch.c: host and guest state around VM entry and exit (see there) */
void xvcpu_switch_module_init(void);
int xvcpu_switch_vcpu_init(struct xvcpu_vcpu *vcpu);
void xvcpu_switch_vcpu_free(struct xvcpu_vcpu *vcpu);
long xvcpu_switch_enter_guest(struct xvcpu_vcpu *vcpu);
void xvcpu_switch_put_user_state(struct xvcpu_vcpu *vcpu);
/* The guest's KERNEL_GS_BASE and SYSCALL MSRs, wherever they are now */
u64 xvcpu_guest_msr_get(struct xvcpu_vcpu *vcpu, u32 index);
void xvcpu_guest_msr_set(struct xvcpu_vcpu *vcpu, u32 index, u64 value);

/* msr.c: the MSR bitmap, and RDMSR/WRMSR exits (exit-handler returns) */
int xvcpu_msr_bitmap_init(void);
void xvcpu_msr_bitmap_exit(void);
void xvcpu_msr_setup_vmcs(void);
int xvcpu_handle_rdmsr(struct xvcpu_vcpu *vcpu);
int xvcpu_handle_wrmsr(struct xvcpu_vcpu *vcpu);
void xvcpu_complete_msr(struct xvcpu_vcpu *vcpu);

/*
 * cpuid.c: CPUID tables.  The supported table is built at module load,
 * after xvcpu_guest_xcr0_supported is known; each vCPU answers from its
 * own copy (vcpu->cpuid), replaced by XVCPU_SET_CPUID.
 */
void xvcpu_cpuid_module_init(void);
const struct xvcpu_cpuid_entry *xvcpu_cpuid_supported(u32 *nent);
int xvcpu_cpuid_vcpu_init(struct xvcpu_vcpu *vcpu);
/* Checks @e; on success the vCPU owns it (kmalloc'ed), else the caller. */
int xvcpu_cpuid_set(struct xvcpu_vcpu *vcpu, struct xvcpu_cpuid_entry *e,
		    u32 nent);
/*
 * The XCR0 bits XSETBV may set: x87 and leaf 0xd of the vCPU's CPUID
 * table, within what xvcpu gives guests (xvcpu_guest_xcr0_supported);
 * 0 if the table does not set CPUID.1:ECX.XSAVE.
 */
u64 xvcpu_cpuid_xcr0_allowed(struct xvcpu_vcpu *vcpu);
/* The guest's CPUID (EAX = @leaf, ECX = @subleaf), at a CPUID exit. */
void xvcpu_cpuid(struct xvcpu_vcpu *vcpu, u32 leaf, u32 subleaf, u32 *regs);

/*
 * exit.c: > 0 to re-enter the guest, 0 to return to userspace,
 * XVCPU_EXIT_LOAD_PDPTES, or
 * XVCPU_EXIT_NEEDS_PAGE: back vcpu->fault_gpa first (it may sleep), or
 * XVCPU_EXIT_GUEST_MEM: do the guest-memory work of vcpu->gm first.
 */
#define XVCPU_EXIT_NEEDS_PAGE	2
#define XVCPU_EXIT_GUEST_MEM	3
/* MOV to CR0 turned on PAE paging: load the PDPTEs (vcpu->paging_cr0) */
#define XVCPU_EXIT_LOAD_PDPTES	4
int xvcpu_handle_exit(struct xvcpu_vcpu *vcpu, u32 exit_reason);
void xvcpu_complete_pending(struct xvcpu_vcpu *vcpu);

/*
 * guestmem.c: work on guest memory for exits (guestmem.h).  From exit
 * handlers (preemption off): save the guest state it needs, start a
 * string I/O exit.  From the run loop (preemption on): the work itself,
 * the data of an INS, and XVCPU_TRANSLATE.
 */
void xvcpu_gm_save_state(struct xvcpu_vcpu *vcpu);
int xvcpu_gm_string_io_exit(struct xvcpu_vcpu *vcpu, u64 qual);
int xvcpu_guestmem_work(struct xvcpu_vcpu *vcpu);
int xvcpu_gm_complete_ins(struct xvcpu_vcpu *vcpu);
int xvcpu_vcpu_translate(struct xvcpu_vcpu *vcpu,
			 struct xvcpu_translation *tr);

/*
 * vmenter.S: 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed; @flags
 * XVCPU_ENTER_* (vmenter.h).
 */
int xvcpu_vmenter(unsigned long *gprs, unsigned long flags);
extern const char xvcpu_vmexit[];

#endif /* XVCPU_H */
