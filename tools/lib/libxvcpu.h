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
	XVCPU_MODE_REAL,	/* the reset state, CS:IP = 0:entry */
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
 * Put @vcpu into @mode with RIP = @entry and RSP = @stack.  For the
 * protected and long modes, a GDT (and for long mode, page tables
 * identity-mapping the first 4 GiB with 2 MiB pages) are written to guest
 * memory at @tables_gpa, which must lie in a slot and have 24 KiB free.
 * For real mode, @entry must be below 1 MiB; CS:IP is formed from it.
 */
int xvcpu_vcpu_setup_mode(struct xvcpu_vcpu *vcpu, enum xvcpu_mode mode,
			  uint64_t entry, uint64_t stack, uint64_t tables_gpa);

/* Human-readable name of an XVCPU_EXIT_* value ("IO", "HLT", ...). */
const char *xvcpu_exit_name(uint32_t exit_reason);

#endif /* LIBXVCPU_H */
