/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xvcpu: the userspace ABI.
 *
 * Three kinds of file descriptor, as with KVM:
 *   system fd  open("/dev/xvcpu")         -> XVCPU_CREATE_VM returns a VM fd
 *   VM fd                                  -> XVCPU_CREATE_VCPU returns a vCPU fd
 *   vCPU fd    mmap() gives the run page   -> XVCPU_RUN enters the guest
 *
 * Every structure uses fixed-width types and explicit padding; every
 * "reserved" or "pad" field must be zero on input or the ioctl fails with
 * -EINVAL.  Structure sizes are encoded in the ioctl numbers.
 */
#ifndef _UAPI_XVCPU_H
#define _UAPI_XVCPU_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/const.h>

#define XVCPU_API_VERSION	1

#define XVCPUIO			0xE7

/* ---- system fd ---- */

/* Returns XVCPU_API_VERSION. Argument must be 0. */
#define XVCPU_GET_API_VERSION	_IO(XVCPUIO, 0x00)
/* Argument is an XVCPU_CAP_* number; returns its value (>= 0), 0 if unknown. */
#define XVCPU_CHECK_CAP		_IO(XVCPUIO, 0x01)
/* Argument must be 0; returns a new VM fd. */
#define XVCPU_CREATE_VM		_IO(XVCPUIO, 0x02)
/* Argument must be 0; returns the size in bytes of the vCPU run page mmap. */
#define XVCPU_GET_VCPU_MMAP_SIZE _IO(XVCPUIO, 0x03)

/*
 * CPUID tables.  One entry per (function, index) pair; @index matters
 * only with XVCPU_CPUID_FLAG_INDEXED (leaves 4, 7, 0xb, 0xd, ...), else
 * the entry answers every subleaf.  A function the table lacks reads as
 * zeros if it is within the maximum of its range (EAX of leaf 0,
 * 0x40000000 or 0x80000000), else as the highest basic function with the
 * same index does (as on Intel).
 */
struct xvcpu_cpuid_entry {
	__u32 function;
	__u32 index;
	__u32 flags;		/* XVCPU_CPUID_FLAG_* */
	__u32 eax, ebx, ecx, edx;
	__u32 pad;
};

#define XVCPU_CPUID_FLAG_INDEXED	_BITUL(0)
#define XVCPU_CPUID_MAX_ENTRIES		128

struct xvcpu_cpuid {
	__u32 nent;		/* entries used */
	__u32 pad;
	struct xvcpu_cpuid_entry entries[XVCPU_CPUID_MAX_ENTRIES];
};

/*
 * Fill the argument with what xvcpu can give a guest: the host's leaves,
 * filtered as the default table of a new vCPU is (features xvcpu does not
 * virtualize cleared, hypervisor bit and leaf 0x40000000 "xvcpuxvcpu").
 * On input nent must be 0; on output it is the number of entries.
 */
#define XVCPU_GET_SUPPORTED_CPUID _IOWR(XVCPUIO, 0x04, struct xvcpu_cpuid)

#define XVCPU_CAP_EPT			1	/* 1: EPT is used for guest memory */
#define XVCPU_CAP_UNRESTRICTED_GUEST	2	/* 1: real mode runs natively */
#define XVCPU_CAP_VPID			3	/* 1: VPIDs tag guest TLB entries */
#define XVCPU_CAP_MAX_VCPUS		4	/* vCPUs per VM */
#define XVCPU_CAP_NR_MEMSLOTS		5	/* memory slots per VM */
#define XVCPU_CAP_MAX_MEMORY_MB		6	/* guest memory per VM, MiB */
#define XVCPU_CAP_READONLY_MEM		7	/* 1: XVCPU_MEM_READONLY works */
#define XVCPU_CAP_IMMEDIATE_EXIT	8	/* 1: xvcpu_run.immediate_exit works */
#define XVCPU_CAP_HYPERCALL		9	/* 1: VMCALL exits as XVCPU_EXIT_HYPERCALL */
#define XVCPU_CAP_CPUID		10	/* 1: CPUID is answered in the kernel */
#define XVCPU_CAP_MSR_POLICY		11	/* 1: XVCPU_SET_MSR_POLICY works */
#define XVCPU_CAP_EVENTS		12	/* 1: GET/SET_EVENTS, XVCPU_INTERRUPT */
#define XVCPU_CAP_NMI			13	/* 1: XVCPU_NMI (virtual NMIs) */
#define XVCPU_CAP_XSAVE		14	/* 1: guest XSAVE, XSETBV checked */
#define XVCPU_CAP_TRANSLATE		15	/* 1: XVCPU_TRANSLATE works */
#define XVCPU_CAP_GUEST_DEBUG		16	/* XVCPU_DEBUG_* flags that work */
#define XVCPU_CAP_STRING_IO		17	/* 1: INS/OUTS exit with a buffer */
#define XVCPU_CAP_MMIO_INSN		18	/* 1: MMIO exits carry insn bytes */
#define XVCPU_CAP_SET_CPUID		19	/* 1: XVCPU_SET_CPUID works */

/* ---- VM fd ---- */

/*
 * Create, or (memory_size == 0) delete, the memory region in @slot.
 * Nothing is allocated up front: each page is allocated, zeroed, when it
 * is first touched, by the guest (and then mapped in EPT at its
 * guest-physical address, as a 2 MiB page where a whole aligned 2 MiB
 * block is still untouched) or through the VMM's mapping.  Userspace
 * reaches the memory with mmap(MAP_SHARED) of the VM fd at the returned
 * mmap_offset (always XVCPU_MMAP_SLOT_OFFSET(slot)) plus an offset inside
 * the slot; a read-only slot may be mapped writable, which is how the VMM
 * fills it.  guest_phys_addr and memory_size must be 4 KiB aligned, the
 * region must end at or below 2^48 and not overlap another, and an
 * existing slot must be deleted before it is re-created.  The sizes of a
 * VM's slots, not the pages touched, add up against the max_memory_mb
 * module parameter (-E2BIG).  Deleting a slot whose memory is still
 * mmap()ed by userspace fails with -EBUSY.  See xvcpu(4).
 */
struct xvcpu_memory_region {
	__u32 slot;
	__u32 flags;		/* XVCPU_MEM_* */
	__u64 guest_phys_addr;
	__u64 memory_size;	/* bytes; 0 deletes the slot */
	__u64 mmap_offset;	/* out */
	__u64 reserved[2];
};

/* Guest writes exit to userspace as XVCPU_EXIT_MMIO (like unmapped memory). */
#define XVCPU_MEM_READONLY	_BITUL(0)

#define XVCPU_MMAP_SLOT_SHIFT	40
#define XVCPU_MMAP_SLOT_OFFSET(slot) ((__u64)(slot) << XVCPU_MMAP_SLOT_SHIFT)

#define XVCPU_SET_MEMORY_REGION	_IOWR(XVCPUIO, 0x10, struct xvcpu_memory_region)
/* Argument is the vCPU id (0 .. MAX_VCPUS-1); returns a new vCPU fd. */
#define XVCPU_CREATE_VCPU	_IO(XVCPUIO, 0x11)

/*
 * What RDMSR/WRMSR of an MSR the kernel does not handle does (it handles
 * EFER, PAT, SYSENTER_*, STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE,
 * FS_BASE, GS_BASE, TSC (read), TSC_AUX, MISC_ENABLE and APIC_BASE (read);
 * the VMX capability MSRs always raise #GP): by default the guest gets
 * #GP(0); with XVCPU_MSR_EXIT_UNKNOWN the access exits to userspace as
 * XVCPU_EXIT_MSR.
 */
struct xvcpu_msr_policy {
	__u32 flags;		/* XVCPU_MSR_* */
	__u32 pad;
	__u64 reserved[3];
};

#define XVCPU_MSR_EXIT_UNKNOWN	_BITUL(0)

#define XVCPU_SET_MSR_POLICY	_IOW(XVCPUIO, 0x12, struct xvcpu_msr_policy)

/* ---- vCPU fd ---- */

struct xvcpu_regs {
	__u64 rax, rbx, rcx, rdx;
	__u64 rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11;
	__u64 r12, r13, r14, r15;
	__u64 rip, rflags;
};

struct xvcpu_segment {
	__u64 base;
	__u32 limit;		/* in bytes (already scaled when g == 1) */
	__u16 selector;
	__u8  type;
	__u8  present;
	__u8  dpl;
	__u8  db;
	__u8  s;
	__u8  l;
	__u8  g;
	__u8  avl;
	__u8  unusable;
	__u8  pad;
};

struct xvcpu_dtable {
	__u64 base;
	__u16 limit;
	__u16 pad[3];
};

struct xvcpu_sregs {
	struct xvcpu_segment cs, ds, es, fs, gs, ss;
	struct xvcpu_segment tr, ldt;
	struct xvcpu_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4;
	__u64 efer;
	__u64 reserved[4];
};

/*
 * Raw VMX information of the most recent VM exit (Intel SDM Vol. 3C,
 * 25.9 "VM-Exit Information Fields").  Fields the SDM leaves undefined for
 * that exit (28.2) are 0, never a stale value from an earlier exit.
 */
struct xvcpu_exit_info {
	__u32 exit_reason;		/* full 32-bit exit reason field */
	__u32 basic_reason;		/* bits 15:0 */
	__u64 exit_qualification;
	__u64 guest_linear_address;
	__u64 guest_physical_address;
	__u32 intr_info;
	__u32 intr_error_code;
	__u32 idt_vectoring_info;
	__u32 idt_vectoring_error_code;
	__u32 instruction_len;
	__u32 instruction_info;
	__u64 reserved[4];
};

#define XVCPU_RUN		_IO(XVCPUIO, 0x20)
#define XVCPU_GET_REGS		_IOR(XVCPUIO, 0x21, struct xvcpu_regs)
#define XVCPU_SET_REGS		_IOW(XVCPUIO, 0x22, struct xvcpu_regs)
#define XVCPU_GET_SREGS		_IOR(XVCPUIO, 0x23, struct xvcpu_sregs)
#define XVCPU_SET_SREGS		_IOW(XVCPUIO, 0x24, struct xvcpu_sregs)
#define XVCPU_GET_EXIT_INFO	_IOR(XVCPUIO, 0x25, struct xvcpu_exit_info)

/*
 * Events.  An event is described as in the VMX interruption-information
 * field (SDM Vol. 3C 25.8.3, Table 25-17): a type and a vector.
 */
#define XVCPU_EVENT_EXTINT		0	/* external interrupt */
#define XVCPU_EVENT_NMI			2	/* vector 2 */
#define XVCPU_EVENT_EXCEPTION		3	/* hardware exception, 0..31 */
#define XVCPU_EVENT_SOFT_INT		4	/* INT n */
#define XVCPU_EVENT_PRIV_SOFT_EXCEPTION	5	/* INT1 */
#define XVCPU_EVENT_SOFT_EXCEPTION	6	/* INT3, INTO */

struct xvcpu_event {
	__u8  valid;		/* 0: no event; the other fields are ignored */
	__u8  type;		/* XVCPU_EVENT_* */
	__u8  vector;
	__u8  has_error_code;	/* exactly for #DF #TS #NP #SS #GP #PF #AC */
	__u32 error_code;	/* pushed only if the guest has CR0.PE = 1 */
	__u32 instruction_len;	/* software events: 1..15, else 0 */
	__u32 pad;
};

#define XVCPU_SHADOW_STI		_BITUL(0)	/* after STI */
#define XVCPU_SHADOW_MOV_SS		_BITUL(1)	/* after MOV SS / POP SS */

/* Debug exceptions recognized but not yet delivered (as in DR6) */
#define XVCPU_PENDING_DBG_B0_B3		0xfULL		/* breakpoint matches */
#define XVCPU_PENDING_DBG_ENABLED_BP	_BITULL(12)	/* one was enabled */
#define XVCPU_PENDING_DBG_BS		_BITULL(14)	/* single step */
#define XVCPU_PENDING_DBG_RTM		_BITULL(16)	/* in an RTM region */

/*
 * The vCPU's event state, for XVCPU_GET_EVENTS/XVCPU_SET_EVENTS (save,
 * restore, and injecting exceptions):
 *  - injected: delivered through the guest's IDT on the next VM entry,
 *    whatever RFLAGS.IF says, except that an external interrupt needs
 *    IF = 1 and no shadow and an NMI no NMI masking or MOV SS shadow
 *    (SDM Vol. 3C 27.3.1.5; SET_EVENTS refuses them otherwise).  Exceptions the kernel raises (#GP
 *    for a bad MSR access, #UD for VMX instructions) and an event whose
 *    delivery a VM exit interrupted (IDT-vectoring information, 28.2.4)
 *    wait here.
 *  - interrupt_queued/interrupt_vector: an external interrupt from
 *    XVCPU_INTERRUPT, injected as soon as the guest has RFLAGS.IF = 1 and
 *    no interrupt shadow (interrupt-window exiting, 26.7.5).
 *  - nmi_queued: an NMI from XVCPU_NMI, injected once the guest is not
 *    blocking NMIs (NMI-window exiting).  nmi_masked: blocking by NMI.
 *  - shadow: XVCPU_SHADOW_*; STI requires RFLAGS.IF = 1.
 *  - pending_debug: XVCPU_PENDING_DBG_*, a #DB the guest takes on entry
 *    (a single step or a data breakpoint that an exit got ahead of; SDM
 *    Vol. 3C 25.4.2).  With a shadow, BS must be set exactly when
 *    RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0; RTM only as RTM |
 *    ENABLED_BP without a MOV SS shadow (27.3.1.5).  XVCPU_SET_REGS
 *    keeps BS in step with a new TF while there is a shadow.
 */
struct xvcpu_events {
	struct xvcpu_event injected;
	__u8  interrupt_queued;
	__u8  interrupt_vector;
	__u8  nmi_queued;
	__u8  nmi_masked;
	__u8  shadow;
	__u8  pad[3];
	__u64 pending_debug;
	__u64 reserved[3];
};

/*
 * Queue external interrupt @vector (0..255).  -EBUSY while an earlier one
 * is still queued: the VMM waits for ready_for_interrupt_injection.
 */
struct xvcpu_interrupt {
	__u32 vector;
	__u32 pad;
};

/*
 * Guest-linear to guest-physical translation through the guest's own
 * page tables (CR0.PG, CR4.PAE/LA57, EFER.LMA: every paging mode), as the
 * guest's access of type @access would see it.  @valid is 0 when the
 * walk faults: then @error_code is the #PF error code (SDM Vol. 3A 5.7).
 */
struct xvcpu_translation {
	__u64 linear_address;	/* in */
	__u32 access;		/* in: XVCPU_ACCESS_* */
	__u32 pad;
	__u64 physical_address;	/* out */
	__u8  valid;		/* out: mapped, and @access allowed */
	__u8  writable;		/* out: rights of the whole walk */
	__u8  user;
	__u8  executable;
	__u32 error_code;	/* out: if !valid */
	__u64 page_size;	/* out: 4 KiB, 2 MiB, 4 MiB or 1 GiB */
	__u64 reserved[2];
};

#define XVCPU_ACCESS_WRITE		_BITUL(0)
#define XVCPU_ACCESS_USER		_BITUL(1)
#define XVCPU_ACCESS_FETCH		_BITUL(2)

/*
 * Debugging the guest from the VMM: single-step (monitor trap flag: an
 * exit after each guest instruction), and #BP / #DB exits to userspace
 * instead of delivery to the guest.  Each gives XVCPU_EXIT_DEBUG.
 */
struct xvcpu_guest_debug {
	__u32 flags;		/* XVCPU_DEBUG_* */
	__u32 pad;
	__u64 reserved[3];
};

#define XVCPU_DEBUG_SINGLESTEP		_BITUL(0)
#define XVCPU_DEBUG_INTERCEPT_BP	_BITUL(1)
#define XVCPU_DEBUG_INTERCEPT_DB	_BITUL(2)

#define XVCPU_GET_EVENTS	_IOR(XVCPUIO, 0x26, struct xvcpu_events)
#define XVCPU_SET_EVENTS	_IOW(XVCPUIO, 0x27, struct xvcpu_events)
#define XVCPU_INTERRUPT		_IOW(XVCPUIO, 0x28, struct xvcpu_interrupt)
/* Queue an NMI.  Argument must be 0; -EBUSY if one is already queued. */
#define XVCPU_NMI		_IO(XVCPUIO, 0x29)
#define XVCPU_TRANSLATE		_IOWR(XVCPUIO, 0x2a, struct xvcpu_translation)
#define XVCPU_SET_GUEST_DEBUG	_IOW(XVCPUIO, 0x2b, struct xvcpu_guest_debug)
/*
 * The vCPU's CPUID table (a new vCPU has the XVCPU_GET_SUPPORTED_CPUID
 * one).  SET refuses duplicate entries, unknown flags and nonzero pads.
 * GET: nent must be 0 on input.
 */
#define XVCPU_SET_CPUID		_IOW(XVCPUIO, 0x2c, struct xvcpu_cpuid)
#define XVCPU_GET_CPUID		_IOWR(XVCPUIO, 0x2d, struct xvcpu_cpuid)

/* ---- the run page (mmap of the vCPU fd, offset 0) ---- */

#define XVCPU_EXIT_UNKNOWN		0
#define XVCPU_EXIT_IO			1	/* IN/OUT: complete IN via io.data */
#define XVCPU_EXIT_HLT			2	/* RIP already past the HLT */
#define XVCPU_EXIT_MMIO			3	/* EPT violation: see mmio */
#define XVCPU_EXIT_SHUTDOWN		4	/* triple fault */
#define XVCPU_EXIT_FAIL_ENTRY		5	/* VM entry failed: see fail_entry */
#define XVCPU_EXIT_INTERNAL_ERROR	6	/* unhandled exit: see internal */
#define XVCPU_EXIT_INTR			7	/* RUN returned -EINTR */
#define XVCPU_EXIT_HYPERCALL		8	/* VMCALL: see hypercall */
#define XVCPU_EXIT_MSR			9	/* RDMSR/WRMSR: see msr */
#define XVCPU_EXIT_IRQ_WINDOW_OPEN	10	/* request_interrupt_window met */
#define XVCPU_EXIT_DEBUG		11	/* XVCPU_SET_GUEST_DEBUG: see debug */

#define XVCPU_IO_IN			0
#define XVCPU_IO_OUT			1

#define XVCPU_MMIO_READ			_BITUL(0)
#define XVCPU_MMIO_WRITE		_BITUL(1)
#define XVCPU_MMIO_FETCH		_BITUL(2)

#define XVCPU_MSR_READ			0
#define XVCPU_MSR_WRITE			1

#define XVCPU_INTERNAL_UNHANDLED_EXIT	1

/* String I/O data: in the run page, at this offset, at most this long. */
#define XVCPU_RUN_IO_DATA_OFFSET	2048
#define XVCPU_RUN_IO_DATA_SIZE		2048

struct xvcpu_run {
	/* in */
	/*
	 * Non-zero: RUN completes the exit userspace handled (IN data,
	 * hypercall result, MSR access), then returns -EINTR before entry.
	 */
	__u8 immediate_exit;
	/*
	 * Non-zero: return with XVCPU_EXIT_IRQ_WINDOW_OPEN as soon as the
	 * guest can take an external interrupt (and none is queued).
	 */
	__u8 request_interrupt_window;
	__u8 pad0[6];
	/* out */
	__u32 exit_reason;	/* XVCPU_EXIT_* */
	/* XVCPU_INTERRUPT would be injected at once: IF = 1, no shadow */
	__u8 ready_for_interrupt_injection;
	__u8 if_flag;		/* the guest's RFLAGS.IF */
	__u8 pad1[2];
	union {
		/*
		 * XVCPU_EXIT_IO.
		 * IN/OUT (string == 0, count == 1): RIP already points past
		 * the instruction.  OUT: data holds the value written (size
		 * bytes).  IN: userspace stores the value in data; the next
		 * XVCPU_RUN loads it into AL/AX/EAX before re-entering.
		 * INS/OUTS (string == 1): count elements of size bytes at
		 * data_offset in the run page, in the order the guest moves
		 * them.  OUTS: the kernel already read them from the guest.
		 * INS: userspace fills them; the next XVCPU_RUN writes them
		 * to the guest.  The kernel updates RSI/RDI/RCX and RIP as
		 * the instruction would, already at the exit; a REP with more
		 * to do re-executes.
		 * As with KVM, an IN or INS completes only on the next
		 * XVCPU_RUN (with immediate_exit: without entering the guest,
		 * which is how a VMM saving the vCPU finishes it first); a
		 * XVCPU_SET_REGS before that drops the pending data.
		 */
		struct {
			__u8  direction;	/* XVCPU_IO_IN / XVCPU_IO_OUT */
			__u8  size;		/* 1, 2 or 4 */
			__u16 port;
			__u32 count;
			__u64 data;
			__u32 data_offset;	/* string I/O */
			__u8  string;
			__u8  rep;
			__u8  pad[2];
		} io;
		/*
		 * XVCPU_EXIT_MMIO: the guest touched a guest-physical address
		 * that has no memory, or wrote to a read-only region.  RIP still
		 * points at the faulting instruction: the VMM decodes it,
		 * emulates it and moves RIP with XVCPU_SET_REGS.
		 */
		struct {
			__u64 phys_addr;
			__u64 linear_addr;	/* valid if linear_valid */
			__u32 access;		/* XVCPU_MMIO_* */
			__u8  linear_valid;
			/*
			 * The instruction at CS:RIP, as far as it could
			 * be read (up to 15 bytes; 0 if not at all).
			 */
			__u8  insn_len;
			__u8  pad[2];
			__u8  insn[16];
		} mmio;
		/*
		 * XVCPU_EXIT_HYPERCALL: the guest executed VMCALL.  nr is
		 * its RAX, args its RBX, RCX, RDX, RSI, RDI and R8; cpl the
		 * privilege level it ran at.  RIP already points past the
		 * VMCALL; the next XVCPU_RUN loads ret into RAX.
		 */
		struct {
			__u64 nr;
			__u64 args[6];
			__u64 ret;
			__u8  cpl;
			__u8  pad[7];
		} hypercall;
		/*
		 * XVCPU_EXIT_MSR: RDMSR or WRMSR of MSR @index that the
		 * kernel leaves to userspace (XVCPU_MSR_EXIT_UNKNOWN).  RIP
		 * still points at the instruction.  For a write, @data is
		 * the value (EDX:EAX).  Userspace sets @data for a read and
		 * @error non-zero to make the instruction raise #GP(0)
		 * instead; the next XVCPU_RUN completes it.
		 */
		struct {
			__u32 index;
			__u8  direction;	/* XVCPU_MSR_READ / _WRITE */
			__u8  error;		/* in */
			__u8  pad[2];
			__u64 data;
		} msr;
		/*
		 * XVCPU_EXIT_DEBUG: after a single step (exception 1 with
		 * DR6.BS for the monitor trap flag), or an intercepted #BP
		 * (RIP at the INT3) or #DB (dr6 as the guest would see it).
		 * The exception is not delivered: re-inject it with
		 * XVCPU_SET_EVENTS if the guest should see it.
		 */
		struct {
			__u32 exception;
			__u32 pad;
			__u64 pc;		/* CS base + RIP */
			__u64 dr6;
			__u64 dr7;
		} debug;
		/*
		 * XVCPU_EXIT_FAIL_ENTRY (SDM Vol. 3C 27.8).  For invalid
		 * guest state, @field is the VMCS encoding of the first
		 * guest-state field xvcpu's own check of 27.3.1 finds at
		 * fault (0 if it finds none: the processor knows more rules).
		 */
		struct {
			__u64 hardware_entry_failure_reason;	/* exit reason */
			__u64 exit_qualification;
			__u32 field;
			__u32 pad;
		} fail_entry;
		/* XVCPU_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;		/* XVCPU_INTERNAL_* */
			__u32 ndata;
			/*
			 * UNHANDLED_EXIT: ndata = 8; data[0] exit reason,
			 * [1] qualification, [2] guest-physical address,
			 * [3] guest-linear address, [4] interruption info,
			 * [5] IDT-vectoring info, [6] instruction length,
			 * [7] guest RIP.
			 */
			__u64 data[8];
		} internal;
		__u8 padding[256];
	};
};

#endif /* _UAPI_XVCPU_H */
