/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libxvcpu: thin C wrappers over the /dev/xvcpu ioctls, guest memory
 * helpers and guest mode setup (GDT, page tables) for small VMMs.
 *
 * Functions returning int return 0 (or a non-negative value) on success
 * and -errno on failure; errno is preserved too.  Nothing here exits or
 * prints: callers decide.
 */
#ifndef LIBXVCPU_H
#define LIBXVCPU_H

#include <stddef.h>
#include <stdint.h>
#include "../../uapi/xvcpu.h"

#define XVCPU_LIB_MAX_SLOTS 32

struct xvcpu_lib_slot {
	int used;
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
	void *hva;		/* mmap of the VM fd, NULL if not mapped */
};

struct xvcpu_vm {
	int sys_fd;		/* /dev/xvcpu, owned by the caller */
	int fd;			/* VM fd */
	struct xvcpu_lib_slot slots[XVCPU_LIB_MAX_SLOTS];
};

struct xvcpu_vcpu {
	struct xvcpu_vm *vm;
	int fd;
	unsigned int id;
	struct xvcpu_run *run;	/* mmap of the vCPU fd */
	size_t run_size;
};

/* Guest execution modes xvcpu_vcpu_setup_mode() can prepare. */
enum xvcpu_mode {
	XVCPU_MODE_REAL,	/* reset-like state, CS:IP addresses entry */
	XVCPU_MODE_PROTECTED,	/* flat 32-bit, paging off */
	XVCPU_MODE_LONG,	/* 64-bit, identity-mapped first 4 GiB */
};

/* open("/dev/xvcpu") and check the API version; returns the fd or -errno. */
int xvcpu_open(void);
int xvcpu_check_cap(int sys_fd, unsigned long cap);

/* NULL on failure, errno set. */
struct xvcpu_vm *xvcpu_vm_create(int sys_fd);
/* Closes every mapping and the VM fd; vCPUs must be destroyed first. */
void xvcpu_vm_destroy(struct xvcpu_vm *vm);

/*
 * Create memory region @slot and mmap it.  Returns the host address of
 * the guest memory, or NULL with errno set.
 */
void *xvcpu_vm_add_memory(struct xvcpu_vm *vm, uint32_t slot, uint64_t gpa,
			  uint64_t size, uint32_t flags);
/* munmap and delete the slot. */
int xvcpu_vm_remove_memory(struct xvcpu_vm *vm, uint32_t slot);
/* Host address of guest-physical @gpa, NULL if no slot holds it. */
void *xvcpu_gpa_to_hva(struct xvcpu_vm *vm, uint64_t gpa);

struct xvcpu_vcpu *xvcpu_vcpu_create(struct xvcpu_vm *vm, unsigned int id);
void xvcpu_vcpu_destroy(struct xvcpu_vcpu *vcpu);

/* XVCPU_RUN: 0 on success (see vcpu->run->exit_reason), else -errno. */
int xvcpu_vcpu_run(struct xvcpu_vcpu *vcpu);
int xvcpu_get_regs(struct xvcpu_vcpu *vcpu, struct xvcpu_regs *regs);
int xvcpu_set_regs(struct xvcpu_vcpu *vcpu, const struct xvcpu_regs *regs);
int xvcpu_get_sregs(struct xvcpu_vcpu *vcpu, struct xvcpu_sregs *sregs);
int xvcpu_set_sregs(struct xvcpu_vcpu *vcpu, const struct xvcpu_sregs *sregs);
int xvcpu_get_exit_info(struct xvcpu_vcpu *vcpu, struct xvcpu_exit_info *info);

/*
 * Events (uapi/xvcpu.h): the injected event, the queued interrupt and NMI,
 * NMI masking and the interrupt shadow.  xvcpu_interrupt() queues
 * external interrupt @vector; xvcpu_nmi() queues an NMI.
 */
int xvcpu_get_events(struct xvcpu_vcpu *vcpu, struct xvcpu_events *ev);
int xvcpu_set_events(struct xvcpu_vcpu *vcpu, const struct xvcpu_events *ev);
int xvcpu_interrupt(struct xvcpu_vcpu *vcpu, unsigned int vector);
int xvcpu_nmi(struct xvcpu_vcpu *vcpu);
/* XVCPU_DEBUG_* flags: single-step, #BP and #DB exits to the VMM */
int xvcpu_set_guest_debug(struct xvcpu_vcpu *vcpu, uint32_t flags);

/* ---- CPUID tables ---- */

/*
 * XVCPU_GET_SUPPORTED_CPUID on the system fd, XVCPU_GET_CPUID and
 * XVCPU_SET_CPUID on a vCPU.  The GETs clear @cpuid's header first, as
 * the kernel wants, and fill it.
 */
int xvcpu_get_supported_cpuid(int sys_fd, struct xvcpu_cpuid *cpuid);
int xvcpu_get_cpuid(struct xvcpu_vcpu *vcpu, struct xvcpu_cpuid *cpuid);
int xvcpu_set_cpuid(struct xvcpu_vcpu *vcpu, const struct xvcpu_cpuid *cpuid);
/*
 * The entry of @cpuid answering CPUID (EAX = @function, ECX = @index):
 * one with that function and, if XVCPU_CPUID_FLAG_INDEXED, that index.
 * NULL if none.
 */
struct xvcpu_cpuid_entry *xvcpu_cpuid_entry(struct xvcpu_cpuid *cpuid,
					    uint32_t function, uint32_t index);

/*
 * Put @vcpu into @mode with RIP = @entry and RSP = @stack.  For the
 * protected and long modes, a GDT with a busy TSS (and for long mode, page
 * tables identity-mapping the first 4 GiB with 2 MiB pages) are written to
 * guest memory at @tables_gpa, which must be 4 KiB aligned and have
 * XVCPU_SETUP_TABLES_SIZE bytes free inside one slot.  Real mode writes
 * nothing; @tables_gpa is ignored.
 *
 * Real mode: @entry and @stack must be at most 1 MiB.  CS = entry >> 4
 * rounded down to a 64 KiB boundary (so CS:IP addresses @entry with
 * IP < 64 KiB); DS, ES, FS and GS equal CS; SS:SP is formed the same way
 * from @stack (SP = 0 stands for the top of a 64 KiB segment).  All limits
 * are 0xffff.  Protected mode: flat 4 GiB segments, paging off.  Long mode:
 * 64-bit code segment, paging on.  Every other register is zero except
 * RFLAGS (0x2).  Layout and selectors are the XVCPU_SETUP_* values below.
 * Events left from earlier runs (an injected exception, a queued
 * interrupt or NMI, an interrupt shadow) are cleared.
 */
int xvcpu_vcpu_setup_mode(struct xvcpu_vcpu *vcpu, enum xvcpu_mode mode,
			  uint64_t entry, uint64_t stack, uint64_t tables_gpa);

/*
 * Layout of the tables area written by xvcpu_vcpu_setup_mode(), as
 * offsets from @tables_gpa.  Long mode uses all of it; protected mode
 * only the first page (GDT and TSS).
 */
#define XVCPU_SETUP_GDT_OFFSET		0x0000	/* 5 descriptors, 40 bytes */
#define XVCPU_SETUP_TSS_OFFSET		0x0080	/* 104 bytes */
#define XVCPU_SETUP_PML4_OFFSET		0x1000
#define XVCPU_SETUP_PDPT_OFFSET		0x2000
#define XVCPU_SETUP_PD_OFFSET		0x3000	/* 4 page directories */
#define XVCPU_SETUP_TABLES_SIZE		0x7000	/* 28 KiB */

/* GDT selectors in protected and long mode (a 64-bit TSS takes two). */
#define XVCPU_SETUP_SEL_CODE		0x08
#define XVCPU_SETUP_SEL_DATA		0x10
#define XVCPU_SETUP_SEL_TSS		0x18
#define XVCPU_SETUP_GDT_ENTRIES		5

/*
 * The pure part of xvcpu_vcpu_setup_mode(): fill @regs and @sregs (all of
 * both, reserved fields zeroed) and, for the protected and long modes,
 * write the tables into @tables, the host view of XVCPU_SETUP_TABLES_SIZE
 * bytes at guest-physical @tables_gpa (may be NULL for real mode).
 * Returns 0 or -EINVAL.  Touches no file descriptor.
 */
int xvcpu_mode_build(enum xvcpu_mode mode, uint64_t entry, uint64_t stack,
		     uint64_t tables_gpa, void *tables,
		     struct xvcpu_regs *regs, struct xvcpu_sregs *sregs);

/*
 * Copy @len bytes between a host buffer and guest-physical @gpa; the range
 * may span adjacent slots but must be fully backed.  0 or -EFAULT.
 */
int xvcpu_vm_write(struct xvcpu_vm *vm, uint64_t gpa, const void *src,
		   size_t len);
int xvcpu_vm_read(struct xvcpu_vm *vm, uint64_t gpa, void *dst, size_t len);

/* Human-readable name of an XVCPU_EXIT_* value ("IO", "HLT", ...). */
const char *xvcpu_exit_name(uint32_t exit_reason);

/* ---- MMIO instruction emulation (mmio.c) ---- */

/*
 * xvcpu has no instruction emulator in the kernel: on XVCPU_EXIT_MMIO the
 * VMM completes the instruction.  These functions do it for the forms
 * compilers and drivers use on device memory:
 *
 *   MOV r/m,r and r,r/m (88, 89, 8A, 8B), MOV r/m,imm (C6 /0, C7 /0),
 *   MOV with moffs (A0-A3), MOVZX/MOVSX (0F B6, B7, BE, BF), MOVSXD (63,
 *   64-bit mode), STOS (AA, AB) and MOVS (A4, A5) with or without REP,
 *   and ADD, OR, ADC, SBB, AND, SUB, XOR, CMP (00-3F, 80, 81, 83) and
 *   TEST (84, 85, F6 /0, F7 /0) with a memory operand, which set CF, PF,
 *   AF, ZF, SF and OF as the SDM (Vol. 2) says; after AND, OR, XOR and
 *   TEST, whose AF it leaves undefined, AF is 0.
 *
 * in 16-, 32- and 64-bit code (the mode comes from CR0.PE, RFLAGS.VM,
 * EFER.LMA, CS.L and CS.D), with the 66, 67, REX, segment and LOCK
 * prefixes.  LOCK is accepted where the SDM allows it, but nothing makes
 * a read-modify-write of MMIO atomic.  F2 and F3 are accepted on STOS
 * and MOVS only (both mean REP there).
 *
 * Memory accesses go to the page of the fault: @gpa is mmio.phys_addr's
 * page plus the offset.  An access outside that page (the other operand
 * of MOVS, the part of an access that straddles into the next page) goes
 * through the guest's page tables (XVCPU_TRANSLATE), then to guest RAM
 * if a mapped slot holds it (a writable one for a write), else to the
 * callbacks too.  @size is 1, 2, 4 or 8 (less for the two parts of an
 * access that straddles a page boundary); @data is little-endian.  A
 * callback returns 0 or -errno; an error stops the emulation and is
 * returned (the accesses already made are not undone, the registers are
 * not changed).
 *
 * REP STOS/MOVS: one exit completes every element whose MMIO operand
 * lies in the page of the fault; if elements remain, RCX, RSI and RDI
 * say how many and where, RIP stays at the instruction and the guest
 * does the rest when it runs again (exiting again at the next MMIO page).
 *
 * Not modelled: segment limits and rights, alignment checks, and the
 * single-step trap of RFLAGS.TF after an emulated instruction.
 */
struct xvcpu_mmio_ops {
	int (*mmio_read)(void *opaque, uint64_t gpa, void *data,
			 unsigned int size);
	int (*mmio_write)(void *opaque, uint64_t gpa, const void *data,
			  unsigned int size);
};

/*
 * Emulate the instruction that caused the MMIO exit @vcpu just returned:
 * reads the registers, the segment registers and the exit information,
 * performs the accesses through @ops, then writes the registers back
 * with RIP past the instruction (or, for an unfinished REP, at it) and
 * RFLAGS updated.  Returns 0, or -errno with the registers unchanged:
 * -ENOTSUP for an instruction or an addressing case this does not
 * handle (no instruction bytes, a fault while walking the page tables),
 * -EINVAL if the exit is not MMIO or the instruction cannot have caused
 * it (no memory operand, wrong direction, another address: the guest
 * changed its code), or what a callback returned.  When the other
 * operand of MOVS is not mapped in the guest's page tables (or not for
 * this access), the instruction does not complete: the guest gets the
 * #PF (CR2 and error code as the walk gave them) and 0 is returned;
 * -EFAULT if the #PF cannot be injected (another event is pending).
 */
int xvcpu_mmio_emulate(struct xvcpu_vcpu *vcpu,
		       const struct xvcpu_mmio_ops *ops, void *opaque);

/*
 * XVCPU_TRANSLATE: guest-linear @linear as an access of type @access
 * (XVCPU_ACCESS_*) would see it.  0 with @tr filled (tr->valid says
 * whether the walk succeeded), or -errno.
 */
int xvcpu_translate(struct xvcpu_vcpu *vcpu, uint64_t linear,
		    uint32_t access, struct xvcpu_translation *tr);

/*
 * The pure part of xvcpu_mmio_emulate(), for tests and for VMMs that keep
 * their own register copies: no file descriptor is touched.
 */
struct xvcpu_mmio_ctx {
	struct xvcpu_regs regs;		/* in, out: RIP, RFLAGS, GPRs */
	struct xvcpu_sregs sregs;	/* in: CR0, EFER, segments */
	/* in: the exit, as in the run page's mmio */
	uint64_t phys_addr;
	uint64_t linear_addr;
	int linear_valid;
	uint32_t access;		/* XVCPU_MMIO_* */
	const uint8_t *insn;
	unsigned int insn_len;
	const struct xvcpu_mmio_ops *ops;
	void *opaque;
	/*
	 * Guest memory outside the page of the fault, by guest-linear
	 * address (never crossing a page).  May be NULL: then instructions
	 * that need it fail with -ENOTSUP.
	 */
	int (*linear_access)(void *lin_opaque, uint64_t linear, void *data,
			     unsigned int size, int write);
	void *lin_opaque;
};

/* 0 with @ctx->regs updated, or -errno as xvcpu_mmio_emulate(). */
int xvcpu_mmio_execute(struct xvcpu_mmio_ctx *ctx);

#endif /* LIBXVCPU_H */
