/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-side helpers for the xvcpu selftests: a test VM that runs the test
 * binary's own functions as guest code, and small utilities.
 *
 * Guest-physical layout of a test VM (slot 0 starts at 0):
 *
 *   XVT_TABLES_GPA   GDT, TSS and page tables written by libxvcpu
 *   XVT_SCRATCH_GPA  free, below 1 MiB: hand-written real/protected code
 *   XVT_STACKS_GPA   one XVT_STACK_SIZE stack per vCPU, below XVT_STACK_TOP
 *   XVT_IMAGE_GPA..  the test binary, at its link addresses
 *
 * The guest runs in 64-bit mode with the first 4 GiB identity-mapped, so a
 * pointer in the guest is the guest-physical address, and a global of the
 * test binary is at the same address in the guest as in the test.  Memory
 * a test adds should lie at or above XVT_FREE_GPA.
 */
#ifndef XVTEST_H
#define XVTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libxvcpu.h"
#include "ucall.h"

#define XVT_TABLES_GPA		0x1000ULL
#define XVT_SCRATCH_GPA		0x10000ULL
#define XVT_SCRATCH_SIZE	0x10000ULL
#define XVT_STACK_SIZE		0x10000ULL
#define XVT_STACK_TOP		0x200000ULL
#define XVT_MAX_VCPUS		8
#define XVT_STACKS_GPA		(XVT_STACK_TOP - XVT_MAX_VCPUS * XVT_STACK_SIZE)
#define XVT_IMAGE_MIN_GPA	XVT_STACK_TOP
/* Guest-physical memory tests may add; inside the identity mapping. */
#define XVT_FREE_GPA		0x40000000ULL
/* Nothing is ever mapped here: guest accesses exit as MMIO. */
#define XVT_UNMAPPED_GPA	0xc0000000ULL

#define XVT_PAGE_SIZE		0x1000ULL

#define XVCPU_DEV		"/dev/xvcpu"

struct xvt_vm {
	int sys_fd;
	struct xvcpu_vm *vm;
	struct xvcpu_vcpu *vcpus[XVT_MAX_VCPUS];
	void *mem;		/* host view of slot 0 (guest-physical 0) */
	uint64_t mem_size;
};

/*
 * Whether /dev/xvcpu can be used.  When not, xvt_no_dev_reason() says
 * why in words fit for a SKIP line.
 */
bool xvt_have_dev(void);
const char *xvt_no_dev_reason(void);

/*
 * A VM with the test image in slot 0 and vCPUs 0 .. @nr_vcpus - 1, each in
 * 64-bit mode with its own stack.  NULL with errno set on failure (and a
 * line on stderr saying which step failed).
 */
struct xvt_vm *xvt_vm_create(unsigned int nr_vcpus);
void xvt_vm_destroy(struct xvt_vm *t);

/* Create vCPU @id (< XVT_MAX_VCPUS) of @t in 64-bit mode. */
struct xvcpu_vcpu *xvt_vcpu_add(struct xvt_vm *t, unsigned int id);

/* Put @vcpu back into the 64-bit mode a test VM starts in. */
int xvt_vcpu_reset_long(struct xvt_vm *t, struct xvcpu_vcpu *vcpu);

/*
 * Point @vcpu at guest function @fn(a0, a1) on a fresh stack.  When @fn
 * returns, the guest does GUEST_DONE.
 */
int xvt_vcpu_enter(struct xvcpu_vcpu *vcpu, const void *fn, uint64_t a0,
		   uint64_t a1);

/* Set RIP only (for asm snippets that need no stack or arguments). */
int xvt_vcpu_set_rip(struct xvcpu_vcpu *vcpu, uint64_t rip);

/*
 * XVCPU_RUN once.  Returns the ucall command (UCALL_SYNC, UCALL_DONE,
 * UCALL_ABORT*) if the exit was a ucall, UCALL_NONE for any other exit,
 * or -errno if XVCPU_RUN failed.  A failed guest assertion is printed.
 */
int xvt_run(struct xvcpu_vcpu *vcpu, struct ucall *uc);

/* One line describing the last exit of @vcpu, into @buf. */
const char *xvt_exit_str(struct xvcpu_vcpu *vcpu, char *buf, size_t len);

/*
 * A guest that counts in xvt_spin_count until xvt_spin_stop is non-zero
 * (guest copies: see GUEST_VAR), then returns.  Enter it with
 * xvt_vcpu_enter(vcpu, xvt_guest_spin, irqs_on, 0).
 *
 * irqs_on sets RFLAGS.IF while spinning.  No interrupt reaches the guest
 * either way (external interrupts and NMIs exit to the host), but Bochs
 * 2.7 only makes an external interrupt cause a VM exit if EFLAGS.IF
 * changed since it last looked: a guest entered with IF = 0 from a host
 * with IF = 0 is never interrupted there unless the module forces exits
 * (e.g. with the VMX-preemption timer).  Tests that are not about that
 * pass irqs_on = 1.
 */
extern uint64_t xvt_spin_count, xvt_spin_stop;
void xvt_guest_spin(uint64_t irqs_on);
/* Wait until the guest of @t has counted; false after a few seconds. */
bool xvt_wait_for_spin(struct xvt_vm *t);

/* Host address of guest-physical @gpa in @t, NULL if not backed. */
void *xvt_hva(struct xvt_vm *t, uint64_t gpa);

/*
 * The guest's copy of an object of the test binary, e.g.
 * GUEST_VAR(t, counter) = 0 or x = GUEST_VAR(t, result).
 */
#define GUEST_VAR(t, var) \
	(*(__typeof__(&(var)))xvt_var_in_guest((t), &(var), sizeof(var)))
void *xvt_var_in_guest(struct xvt_vm *t, const void *host_addr, size_t size);

/*
 * Map guest-linear 2 MiB page @linear to guest-physical @phys in the page
 * tables of @t (both 2 MiB aligned, @linear below 4 GiB).
 */
int xvt_map_2m(struct xvt_vm *t, uint64_t linear, uint64_t phys);

/* XVCPU_CHECK_CAP on a fresh system fd; -errno on failure. */
int xvt_cap(unsigned long cap);

/*
 * XVCPU_SET_MEMORY_REGION straight on the VM fd (no libxvcpu
 * bookkeeping); returns 0 or -errno.
 */
int xvt_set_region(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		   uint64_t size);

/*
 * A minimal VM made with raw ioctls, whose objects can be released one by
 * one: 64 KiB of memory at guest-physical 0 and one vCPU in 64-bit mode
 * about to execute HLT.
 */
enum xvt_raw_obj {
	XVT_RAW_SYS,		/* fd[] indexes first */
	XVT_RAW_VM,
	XVT_RAW_VCPU,
	XVT_RAW_RUN,
	XVT_RAW_MEM,
	XVT_RAW_NR,
};
#define XVT_RAW_MEM_SIZE	0x10000ULL

struct xvt_raw {
	int fd[3];
	void *mem;
	struct xvcpu_run *run;
	size_t run_size;
};

extern const char *const xvt_raw_obj_names[XVT_RAW_NR];
/* 0 or -errno; on failure nothing is left open. */
int xvt_raw_create(struct xvt_raw *v);
/* One XVCPU_RUN: 0 if the guest halted, else -errno or -EPROTO. */
int xvt_raw_run(struct xvt_raw *v);
void xvt_raw_release(struct xvt_raw *v, enum xvt_raw_obj o);
void xvt_raw_destroy(struct xvt_raw *v);

/* Counters of /sys/kernel/debug/xvcpu/stats. */
#define XVT_STATS_PATH	"/sys/kernel/debug/xvcpu/stats"
struct xvt_stats {
	long vms;
	long vcpus;
	long pages;
};
/* 0, or -errno (-ENOENT when the file is absent). */
int xvt_stats_read(struct xvt_stats *s);
/*
 * Wait (a bounded time) until the counters equal @want; 0 when they do,
 * else -ETIMEDOUT with the last values in @last.
 */
int xvt_stats_wait(const struct xvt_stats *want, struct xvt_stats *last);

/* Write @text to the kernel file @path in one write(): 0 or -errno. */
int xvt_write_file(const char *path, const char *text);

/*
 * Whether /proc/cpuinfo's "vmx flags" (the kernel's names for the VMX
 * features of the first CPU, e.g. "vnmi", "ept") list @flag: 1 or 0; -1
 * when the kernel shows no such line.
 */
int xvt_vmx_flag(const char *flag);
/* The same for any such line of /proc/cpuinfo: "flags", "vmx flags", ... */
int xvt_cpuinfo_flag(const char *field, const char *flag);

/* Monotonic clock in nanoseconds. */
uint64_t xvt_now_ns(void);

/* Physical-address width of this processor (CPUID 0x80000008; 36 without). */
unsigned int xvt_phys_bits(void);

/*
 * The kernel log (/dev/kmsg): the records after sequence number @after
 * that say the kernel went wrong (WARN, BUG, oops, lockups, a failed VMX
 * instruction, objects leaked at module unload) are printed and counted;
 * *@last gets the newest sequence number.  With @after = XVT_KMSG_ALL
 * only *@last is found: call it so before the test.  0 when the log
 * cannot be read.
 */
#define XVT_KMSG_ALL		(~0ULL)
int xvt_kmsg_scan(unsigned long long after, unsigned long long *last);

/*
 * Whether one line of kernel log text (without the record's prefix) is
 * such a report: it starts where the kernel starts its reports
 * ("WARNING: ", "BUG: ", an oops header, ...), or is one of xvcpu's own
 * lines that only a bug in it prints ("xvcpu: leaked ...").
 */
bool xvt_kmsg_bad(const char *text);
/* The same for a whole /dev/kmsg record (left as it was). */
bool xvt_kmsg_record_bad(char *rec);

/*
 * Catch @sig with a handler that does nothing, without SA_RESTART: the
 * call it interrupts fails with EINTR (XVCPU_RUN returns -EINTR).
 * sigaction()'s result.
 */
int xvt_catch_signal(int sig);

/* SIGALRM after @usec (0: none), then every @usec if @periodic. */
int xvt_set_itimer(long usec, bool periodic);

#endif /* XVTEST_H */
