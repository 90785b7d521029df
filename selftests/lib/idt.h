/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An IDT for test guests that records every exception and interrupt the
 * guest takes, in 64-bit mode and in 32-bit protected mode.
 *
 * xvt_idt_install() points the vCPU's IDTR at a table of 256 gates, one
 * small stub per vector.  Each stub logs the delivery (vector, error code,
 * the return CS:RIP, RFLAGS and RSP of the frame, CR2 for #PF and DR6 for
 * #DB) in the guest's copy of the xvt_idt_* variables below, then returns
 * with IRET.  The host reads them with GUEST_VAR() or the helpers here.
 *
 * A stub expects an error code on the stack exactly for vectors 8, 10-14
 * and 17 (the exceptions XVCPU_SET_EVENTS injects with one): deliver
 * external and software interrupts on other vectors.
 *
 * 64-bit gates are interrupt gates (RFLAGS.IF = 0 in the handler) that
 * switch to a stack of the Interrupt Stack Table, so that a delivery
 * never writes over the red zone of guest C code, and deliveries of
 * different kinds nest on different stacks (which also tells the host
 * what was delivered inside what):
 *   IST1 exceptions but #DB, NMI and #DF    IST2 NMI
 *   IST3 #DB                                IST4 #DF
 *   IST5 vectors 32-255
 * The stacks are in the test image; xvt_idt_set_stack() moves one (the
 * TSS is shared by every vCPU of a test VM: one vCPU at a time).  The
 * 32-bit gates deliver on the current stack.
 *
 * Controls, set in the guest's copy before running:
 *   xvt_idt_resume  non-zero: the next delivery returns there instead of
 *                   to the frame's RIP (once; then it is 0 again).
 *   xvt_idt_sync    bitmap of vectors whose handler stops, after logging
 *                   and before IRET, at an OUT of the vector (32 bits)
 *                   to XVT_IDT_PORT: see xvt_idt_sync_vector().
 */
#ifndef XVTEST_IDT_H
#define XVTEST_IDT_H

#include <stdbool.h>
#include <stdint.h>

#define XVT_IDT_VECTORS		256
#define XVT_IDT_LOG_SIZE	64
#define XVT_IDT_PORT		0xfff4

#define XVT_IDT_IST_EXC		1
#define XVT_IDT_IST_NMI		2
#define XVT_IDT_IST_DB		3
#define XVT_IDT_IST_DF		4
#define XVT_IDT_IST_IRQ		5
#define XVT_IDT_NR_IST		5
#define XVT_IDT_STACK_SIZE	0x2000

/* One delivery; the 32-bit stubs fill the low halves. */
struct xvt_idt_event {
	uint64_t vector;
	uint64_t error_code;	/* 0 if the vector pushes none */
	uint64_t rip;		/* return address in the frame */
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;		/* the interrupted stack pointer */
	uint64_t cr2;		/* #PF only */
	uint64_t dr6;		/* #DB only */
};

/* The guest's view; on the host use GUEST_VAR() or the helpers below. */
extern struct xvt_idt_event xvt_idt_log[XVT_IDT_LOG_SIZE];
extern uint32_t xvt_idt_nr;			/* deliveries so far */
extern uint32_t xvt_idt_count[XVT_IDT_VECTORS];	/* per vector */
extern uint64_t xvt_idt_resume;
extern uint32_t xvt_idt_sync[XVT_IDT_VECTORS / 32];

/* Whether the stub of @vector takes an error code from the stack. */
bool xvt_idt_has_error_code(unsigned int vector);

struct xvt_vm;
struct xvcpu_vcpu;

/*
 * Write the gates, clear the log, and load the IDTR of @vcpu, for the
 * mode it is in now (64-bit or 32-bit protected; not real mode: -EINVAL).
 * In 64-bit mode also set the IST pointers of the TSS at XVT_TABLES_GPA
 * (written again by xvt_vcpu_reset_long(): install after it).  0 or
 * -errno.
 */
int xvt_idt_install(struct xvt_vm *t, struct xvcpu_vcpu *vcpu);

/*
 * Write the 256 gates of the 64-bit (@long_mode) or the 32-bit table to
 * guest-physical @gpa (backed memory), e.g. to move the IDT somewhere
 * else; xvt_idt_load() points the IDTR there.
 */
int xvt_idt_write_gates(struct xvt_vm *t, uint64_t gpa, bool long_mode);
int xvt_idt_load(struct xvcpu_vcpu *vcpu, uint64_t base, uint16_t limit);

/* Stack pointer loaded by deliveries through IST @ist (1..7). */
int xvt_idt_set_stack(struct xvt_vm *t, unsigned int ist, uint64_t top);
/* The range [lo, hi) of the default stack of IST @ist. */
void xvt_idt_stack_range(unsigned int ist, uint64_t *lo, uint64_t *hi);
/*
 * The IST whose default stack holds the RSP of @e, i.e. the kind of
 * delivery @e interrupted; 0 if none (it interrupted ordinary code).
 */
unsigned int xvt_idt_nested_in(const struct xvt_idt_event *e);

/* Clear the log, the counts and the controls (guest copies). */
void xvt_idt_reset(struct xvt_vm *t);

/* The guest's log entry @i (i < XVT_IDT_LOG_SIZE), count and total. */
struct xvt_idt_event *xvt_idt_event(struct xvt_vm *t, unsigned int i);
uint32_t xvt_idt_count_of(struct xvt_vm *t, unsigned int vector);
uint32_t xvt_idt_total(struct xvt_vm *t);

/* Make the handler of @vector stop at XVT_IDT_PORT (or not). */
void xvt_idt_set_sync(struct xvt_vm *t, unsigned int vector, bool on);
/* The next delivery returns to @rip instead. */
void xvt_idt_set_resume(struct xvt_vm *t, uint64_t rip);

/*
 * If the last exit of @vcpu is a handler stopping at XVT_IDT_PORT, the
 * vector it handles; else -1.
 */
int xvt_idt_sync_vector(struct xvcpu_vcpu *vcpu);

/* Entry point of the stub of @vector (64-bit or 32-bit). */
uint64_t xvt_idt_stub(unsigned int vector, bool long_mode);
/* Bounds of all 64-bit handler code (stubs and the common part). */
void xvt_idt_code_range(uint64_t *lo, uint64_t *hi);

/*
 * CPL 3 for 64-bit test guests: xvt_user_setup() adds a user data and a
 * 64-bit user code segment to the GDT of the test VM (selectors
 * XVT_USER_SS and XVT_USER_CS) and sets the U/S bit in every entry of its
 * identity map, so that the whole test image can run at CPL 3.  Guest
 * code gets there by jumping to xvt_user_enter with RDI = the RIP and
 * RSI = the RSP to run with (RFLAGS = 0x2); a way back to the host from
 * CPL 3 is VMCALL (a hypercall exit, cpl 3).  xvt_vcpu_reset_long()
 * undoes it.
 */
#define XVT_USER_SS		0x2b
#define XVT_USER_CS		0x33

int xvt_user_setup(struct xvt_vm *t, struct xvcpu_vcpu *vcpu);
extern char xvt_user_enter[];

#endif /* XVTEST_IDT_H */
