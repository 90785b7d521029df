/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side helpers: code that runs inside a test VM.
 *
 * The test binary's own image is copied into guest memory at the same
 * addresses (see xvtest.h), so a guest function is an ordinary C function
 * of the test binary.  It runs in 64-bit mode with interrupts off, no IDT
 * (any exception ends in a triple fault) and no libc:
 *   - mark every function the guest executes with __guest: it keeps the
 *     compiler to general-purpose registers (the guest must not touch the
 *     host task's FPU/SSE state) and out of libc;
 *   - no struct copies or large zeroing (gcc may call memcpy/memset);
 *   - report to the host with GUEST_SYNC(), GUEST_ASSERT*() and
 *     GUEST_DONE(), never printf.
 * The suite is built with -fno-stack-protector and
 * -fno-tree-loop-distribute-patterns for the same reasons.
 */
#ifndef XVTEST_GUEST_H
#define XVTEST_GUEST_H

#include <stdint.h>

#include "ucall.h"

#define __guest __attribute__((target("general-regs-only")))

/*
 * Guest code in assembly, placed in .text of the test binary; its labels
 * are used from C as `extern char label[];`.
 */
#define GUEST_ASM(text) asm(".pushsection .text\n" text "\n.popsection\n")

#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

static inline __guest void guest_outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline __guest uint8_t guest_inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline __guest void guest_hlt(void)
{
	asm volatile("hlt" : : : "memory");
}

static inline __guest void guest_pause(void)
{
	asm volatile("pause" : : : "memory");
}

/*
 * Guest -> host calls.  Each one is an OUT to XVTEST_UCALL_PORT with RDI
 * pointing at a struct ucall on the guest stack.
 */
void __guest ucall(uint64_t cmd, const char *file, uint64_t line,
		   const char *text, uint64_t a0, uint64_t a1);

#define GUEST_SYNC(arg) \
	ucall(UCALL_SYNC, __FILE__, __LINE__, "", (uint64_t)(arg), 0)
#define GUEST_SYNC2(a0, a1) \
	ucall(UCALL_SYNC, __FILE__, __LINE__, "", (uint64_t)(a0), \
	      (uint64_t)(a1))

/* Ends the guest's work; a further XVCPU_RUN only halts. */
#define GUEST_DONE() ucall(UCALL_DONE, __FILE__, __LINE__, "", 0, 0)

#define GUEST_FAIL(text) \
	ucall(UCALL_ABORT, __FILE__, __LINE__, text, 0, 0)

#define GUEST_ASSERT(cond) do {						\
	if (!(cond))							\
		ucall(UCALL_ABORT, __FILE__, __LINE__, #cond, 0, 0);	\
} while (0)

/* Reports both values to the host when they differ. */
#define GUEST_ASSERT_EQ(a, b) do {					\
	uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);		\
	if (__a != __b)							\
		ucall(UCALL_ABORT_EQ, __FILE__, __LINE__,		\
		      #a " == " #b, __a, __b);				\
} while (0)

#endif /* XVTEST_GUEST_H */
