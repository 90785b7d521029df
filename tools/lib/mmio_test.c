// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side unit tests of the MMIO instruction emulator (mmio.c), through
 * xvcpu_mmio_execute() on a fake guest: one 4 KiB MMIO page (the page of
 * the fault) between RAM pages, and a second MMIO page reachable only
 * through the linear_access callback.
 *
 * The instruction bytes come from the assembler.  Every 64-bit form that
 * can run natively is run twice, by the emulator against the fake MMIO
 * page and natively by this CPU against a host buffer, with the same
 * registers, memory and input flags: results, memory and RFLAGS must
 * agree.  The rest (16- and 32-bit code, string instructions, addressing
 * forms, errors) is checked against expectations worked out by hand.
 *
 * Prints one line per failed check and a final "N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxvcpu.h"

#ifndef __x86_64__
#error "the native comparisons need an x86-64 host"
#endif

static unsigned int passed, failed;

#define CHECK(cond, ...)						\
	do {								\
		if (cond) {						\
			passed++;					\
		} else {						\
			failed++;					\
			printf("FAIL %s:%d: %s: ", __func__, __LINE__,	\
			       #cond);					\
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
	} while (0)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define RFLAGS_FIXED	0x2ULL
#define RFLAGS_CF	(1ULL << 0)
#define RFLAGS_AF	(1ULL << 4)
#define RFLAGS_IF	(1ULL << 9)
#define RFLAGS_DF	(1ULL << 10)
#define RFLAGS_STATUS	0x8d5ULL	/* CF PF AF ZF SF OF */

#define CR0_PE		(1ULL << 0)
#define CR0_PG		(1ULL << 31)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

/*
 * The fake guest's linear pages: 0 and 2 are RAM, 1 is the MMIO page of
 * the fault (guest-physical PA_MMIO), 3 is another MMIO page.
 */
#define LA_BASE		0x40000ULL
#define LA_MMIO		(LA_BASE + 0x1000)
#define LA_RAM2		(LA_BASE + 0x2000)
#define LA_MMIO2	(LA_BASE + 0x3000)
#define PA_MMIO		0xfebc1000ULL
#define NR_PAGES	4
#define START_RIP	0x1000ULL

struct access_log {
	uint64_t addr;		/* gpa for MMIO, linear otherwise */
	unsigned int size;
	bool write;
	bool mmio;		/* through mmio_read/mmio_write */
};

struct env {
	uint8_t page[NR_PAGES][4096];
	struct access_log log[64];
	unsigned int nr_log;
	unsigned int bad;	/* accesses the emulator must not make */
	int fail;		/* callbacks return this if non-zero */
};

static void log_access(struct env *env, uint64_t addr, unsigned int size,
		       bool write, bool mmio)
{
	if (env->nr_log < ARRAY_SIZE(env->log))
		env->log[env->nr_log] = (struct access_log){
			addr, size, write, mmio };
	env->nr_log++;
}

static int fake_mmio(struct env *env, uint64_t gpa, void *data,
		     unsigned int size, bool write)
{
	log_access(env, gpa, size, write, true);
	if (env->fail)
		return env->fail;
	if (gpa < PA_MMIO || gpa + size > PA_MMIO + 4096 || !size) {
		env->bad++;
		return -EIO;
	}
	if (write)
		memcpy(&env->page[1][gpa - PA_MMIO], data, size);
	else
		memcpy(data, &env->page[1][gpa - PA_MMIO], size);
	return 0;
}

static int fake_mmio_read(void *opaque, uint64_t gpa, void *data,
			  unsigned int size)
{
	return fake_mmio(opaque, gpa, data, size, false);
}

static int fake_mmio_write(void *opaque, uint64_t gpa, const void *data,
			   unsigned int size)
{
	return fake_mmio(opaque, gpa, (void *)data, size, true);
}

static const struct xvcpu_mmio_ops fake_ops = {
	.mmio_read = fake_mmio_read,
	.mmio_write = fake_mmio_write,
};

/* Pages 0, 2 and 3; page 1 must only be reached through the MMIO ops. */
static int fake_linear(void *opaque, uint64_t la, void *data,
		       unsigned int size, int write)
{
	struct env *env = opaque;
	uint64_t page = (la - LA_BASE) >> 12, off = la & 0xfff;

	log_access(env, la, size, write, false);
	if (env->fail)
		return env->fail;
	if (la < LA_BASE || page >= NR_PAGES || page == 1 ||
	    off + size > 4096 || !size) {
		env->bad++;
		return -EFAULT;
	}
	if (write)
		memcpy(&env->page[page][off], data, size);
	else
		memcpy(data, &env->page[page][off], size);
	return 0;
}

enum mode { M64, M32, M16, MCOMPAT };

static void set_mode(struct xvcpu_sregs *s, enum mode mode)
{
	memset(s, 0, sizeof(*s));
	switch (mode) {
	case M64:
		s->cr0 = CR0_PE | CR0_PG;
		s->efer = EFER_LME | EFER_LMA;
		s->cs.l = 1;
		break;
	case MCOMPAT:
		s->cr0 = CR0_PE | CR0_PG;
		s->efer = EFER_LME | EFER_LMA;
		s->cs.db = 1;
		break;
	case M32:
		s->cr0 = CR0_PE;
		s->cs.db = 1;
		break;
	case M16:
		break;
	}
}

/* A context for the instruction [@start, @end) faulting at @fault_la. */
static void ctx_init(struct xvcpu_mmio_ctx *c, struct env *env,
		     enum mode mode, const uint8_t *start, const uint8_t *end,
		     uint64_t fault_la, uint32_t access)
{
	memset(c, 0, sizeof(*c));
	memset(env, 0, sizeof(*env));
	set_mode(&c->sregs, mode);
	c->regs.rip = START_RIP;
	c->regs.rflags = RFLAGS_FIXED;
	c->linear_addr = fault_la;
	c->phys_addr = PA_MMIO + (fault_la & 0xfff);
	c->linear_valid = 1;
	c->access = access;
	c->insn = start;
	c->insn_len = (unsigned int)(end - start);
	c->ops = &fake_ops;
	c->opaque = env;
	c->linear_access = fake_linear;
	c->lin_opaque = env;
}

static uint64_t get_le(const uint8_t *p, unsigned int size)
{
	uint64_t v = 0;

	while (size--)
		v = (v << 8) | p[size];
	return v;
}

static void put_le(uint8_t *p, unsigned int size, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		p[i] = v >> (8 * i);
}

/* ---- instructions, from the assembler ---- */

/*
 * SNIP: an instruction that can also run natively, followed by a RET so
 * that native_run() can call it.  CODE: bytes for the emulator only.
 */
#define SNIP(name, text)						\
	asm(".pushsection .text\n" #name ":\n\t" text "\n"		\
	    #name "_end:\n\tret\n.popsection\n");			\
	extern const uint8_t name[], name##_end[]

#define CODE(name, text)						\
	asm(".pushsection .rodata\n" #name ":\n\t" text "\n"		\
	    #name "_end:\n\t.code64\n.popsection\n");			\
	extern const uint8_t name[], name##_end[]

/*
 * native_run(regs, fn): load every GPR but RSP and RFLAGS from @regs,
 * call @fn, store them back.  RIP is left alone.
 */
asm(".pushsection .text\n"
    ".globl native_run\n"
    "native_run:\n\t"
    "push %rbp\n\tpush %rbx\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\t"
    "push %r15\n\t"
    "push %rdi\n\tpush %rsi\n\tpushq 136(%rdi)\n\t"
    "mov 0(%rdi), %rax\n\tmov 8(%rdi), %rbx\n\tmov 16(%rdi), %rcx\n\t"
    "mov 24(%rdi), %rdx\n\tmov 32(%rdi), %rsi\n\tmov 56(%rdi), %rbp\n\t"
    "mov 64(%rdi), %r8\n\tmov 72(%rdi), %r9\n\tmov 80(%rdi), %r10\n\t"
    "mov 88(%rdi), %r11\n\tmov 96(%rdi), %r12\n\tmov 104(%rdi), %r13\n\t"
    "mov 112(%rdi), %r14\n\tmov 120(%rdi), %r15\n\tmov 40(%rdi), %rdi\n\t"
    "popfq\n\t"
    "call *(%rsp)\n\t"
    "pushfq\n\tpush %rdi\n\tmov 24(%rsp), %rdi\n\t"
    "popq 40(%rdi)\n\tpopq 136(%rdi)\n\tcld\n\t"
    "mov %rax, 0(%rdi)\n\tmov %rbx, 8(%rdi)\n\tmov %rcx, 16(%rdi)\n\t"
    "mov %rdx, 24(%rdi)\n\tmov %rsi, 32(%rdi)\n\tmov %rbp, 56(%rdi)\n\t"
    "mov %r8, 64(%rdi)\n\tmov %r9, 72(%rdi)\n\tmov %r10, 80(%rdi)\n\t"
    "mov %r11, 88(%rdi)\n\tmov %r12, 96(%rdi)\n\tmov %r13, 104(%rdi)\n\t"
    "mov %r14, 112(%rdi)\n\tmov %r15, 120(%rdi)\n\t"
    "add $16, %rsp\n\t"
    "pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbx\n\t"
    "pop %rbp\n\tret\n"
    ".popsection\n");
void native_run(struct xvcpu_regs *regs, const void *fn);

/* The memory operand is always (%rbx). */
#define ALU_SNIPS(op)							\
	SNIP(op##_mr_b, #op "b %cl, (%rbx)");				\
	SNIP(op##_mr_w, #op "w %cx, (%rbx)");				\
	SNIP(op##_mr_l, #op "l %ecx, (%rbx)");				\
	SNIP(op##_mr_q, #op "q %rcx, (%rbx)");				\
	SNIP(op##_rm_b, #op "b (%rbx), %cl");				\
	SNIP(op##_rm_w, #op "w (%rbx), %cx");				\
	SNIP(op##_rm_l, #op "l (%rbx), %ecx");				\
	SNIP(op##_rm_q, #op "q (%rbx), %rcx");				\
	SNIP(op##_mi_b, #op "b $0x5a, (%rbx)");				\
	SNIP(op##_mi_w, #op "w $0x8234, (%rbx)");			\
	SNIP(op##_mi_l, #op "l $0x87654321, (%rbx)");			\
	SNIP(op##_mi_q, #op "q $-0x789abcd, (%rbx)");			\
	SNIP(op##_mi8_w, #op "w $-3, (%rbx)");				\
	SNIP(op##_mi8_l, #op "l $0x7f, (%rbx)");			\
	SNIP(op##_mi8_q, #op "q $-128, (%rbx)")

ALU_SNIPS(add);
ALU_SNIPS(or);
ALU_SNIPS(adc);
ALU_SNIPS(sbb);
ALU_SNIPS(and);
ALU_SNIPS(sub);
ALU_SNIPS(xor);
ALU_SNIPS(cmp);

SNIP(test_mr_b, "testb %cl, (%rbx)");
SNIP(test_mr_w, "testw %cx, (%rbx)");
SNIP(test_mr_l, "testl %ecx, (%rbx)");
SNIP(test_mr_q, "testq %rcx, (%rbx)");
SNIP(test_mi_b, "testb $0x5a, (%rbx)");
SNIP(test_mi_w, "testw $0x8234, (%rbx)");
SNIP(test_mi_l, "testl $0x87654321, (%rbx)");
SNIP(test_mi_q, "testq $-0x789abcd, (%rbx)");

/* Byte registers: AH..BH without REX, SPL..DIL and R8B.. with it. */
SNIP(add_ah, "addb %ah, (%rbx)");
SNIP(sub_dh, "subb (%rbx), %dh");
SNIP(xor_sil, "xorb %sil, (%rbx)");
SNIP(or_r9b, "orb (%rbx), %r9b");
SNIP(cmp_ch, "cmpb %ch, (%rbx)");
SNIP(adc_r15, "adcq %r15, (%rbx)");
SNIP(sbb_r10d, "sbbl (%rbx), %r10d");
SNIP(and_r11w, "andw (%rbx), %r11w");
SNIP(lock_add, "lock addl %ecx, (%rbx)");
SNIP(lock_xor_imm, "lock xorq $0x55, (%rbx)");
/* REX before a legacy prefix is ignored: a 16-bit store. */
SNIP(rex_then_66, ".byte 0x48, 0x66, 0x89, 0x0b");

SNIP(mov_mr_b, "movb %cl, (%rbx)");
SNIP(mov_mr_ah, "movb %ah, (%rbx)");
SNIP(mov_mr_w, "movw %cx, (%rbx)");
SNIP(mov_mr_l, "movl %ecx, (%rbx)");
SNIP(mov_mr_q, "movq %r9, (%rbx)");
SNIP(mov_rm_b, "movb (%rbx), %cl");
SNIP(mov_rm_bh, "movb (%rbx), %dh");
SNIP(mov_rm_dil, "movb (%rbx), %dil");
SNIP(mov_rm_w, "movw (%rbx), %r11w");
SNIP(mov_rm_l, "movl (%rbx), %r10d");
SNIP(mov_rm_q, "movq (%rbx), %rax");
SNIP(mov_mi_b, "movb $0xa5, (%rbx)");
SNIP(mov_mi_w, "movw $0x8001, (%rbx)");
SNIP(mov_mi_l, "movl $0x89abcdef, (%rbx)");
SNIP(mov_mi_q, "movq $-2, (%rbx)");
SNIP(movzbw, "movzbw (%rbx), %cx");
SNIP(movzbl, "movzbl (%rbx), %ecx");
SNIP(movzbq, "movzbq (%rbx), %r12");
SNIP(movzwl, "movzwl (%rbx), %ecx");
SNIP(movzwq, "movzwq (%rbx), %rcx");
SNIP(movsbw, "movsbw (%rbx), %cx");
SNIP(movsbl, "movsbl (%rbx), %ecx");
SNIP(movsbq, "movsbq (%rbx), %rsi");
SNIP(movswl, "movswl (%rbx), %ecx");
SNIP(movswq, "movswq (%rbx), %rcx");
SNIP(movslq, "movslq (%rbx), %rdx");
/* MOVSXD without REX.W (a plain 32-bit load) and with 66. */
SNIP(movsxd_32, ".byte 0x63, 0x0b");
SNIP(movsxd_16, ".byte 0x66, 0x63, 0x0b");

#define NC_STORE	1	/* writes memory only: a write fault */
#define NC_LOGICAL	2	/* AF is undefined */

struct native_case {
	const char *name;
	const uint8_t *start, *end;
	unsigned int flags;
};

#define NCASE(n, f)	{ #n, n, n##_end, f }
#define ALU_CASES(op, f)						\
	NCASE(op##_mr_b, f), NCASE(op##_mr_w, f), NCASE(op##_mr_l, f),	\
	NCASE(op##_mr_q, f), NCASE(op##_rm_b, f), NCASE(op##_rm_w, f),	\
	NCASE(op##_rm_l, f), NCASE(op##_rm_q, f), NCASE(op##_mi_b, f),	\
	NCASE(op##_mi_w, f), NCASE(op##_mi_l, f), NCASE(op##_mi_q, f),	\
	NCASE(op##_mi8_w, f), NCASE(op##_mi8_l, f), NCASE(op##_mi8_q, f)

static const struct native_case native_cases[] = {
	ALU_CASES(add, 0), ALU_CASES(or, NC_LOGICAL), ALU_CASES(adc, 0),
	ALU_CASES(sbb, 0), ALU_CASES(and, NC_LOGICAL), ALU_CASES(sub, 0),
	ALU_CASES(xor, NC_LOGICAL), ALU_CASES(cmp, 0),
	NCASE(test_mr_b, NC_LOGICAL), NCASE(test_mr_w, NC_LOGICAL),
	NCASE(test_mr_l, NC_LOGICAL), NCASE(test_mr_q, NC_LOGICAL),
	NCASE(test_mi_b, NC_LOGICAL), NCASE(test_mi_w, NC_LOGICAL),
	NCASE(test_mi_l, NC_LOGICAL), NCASE(test_mi_q, NC_LOGICAL),
	NCASE(add_ah, 0), NCASE(sub_dh, 0), NCASE(xor_sil, NC_LOGICAL),
	NCASE(or_r9b, NC_LOGICAL), NCASE(cmp_ch, 0), NCASE(adc_r15, 0),
	NCASE(sbb_r10d, 0), NCASE(and_r11w, NC_LOGICAL),
	NCASE(lock_add, 0), NCASE(lock_xor_imm, NC_LOGICAL),
	NCASE(rex_then_66, NC_STORE),
	NCASE(mov_mr_b, NC_STORE), NCASE(mov_mr_ah, NC_STORE),
	NCASE(mov_mr_w, NC_STORE), NCASE(mov_mr_l, NC_STORE),
	NCASE(mov_mr_q, NC_STORE), NCASE(mov_rm_b, 0), NCASE(mov_rm_bh, 0),
	NCASE(mov_rm_dil, 0), NCASE(mov_rm_w, 0), NCASE(mov_rm_l, 0),
	NCASE(mov_rm_q, 0), NCASE(mov_mi_b, NC_STORE),
	NCASE(mov_mi_w, NC_STORE), NCASE(mov_mi_l, NC_STORE),
	NCASE(mov_mi_q, NC_STORE),
	NCASE(movzbw, 0), NCASE(movzbl, 0), NCASE(movzbq, 0),
	NCASE(movzwl, 0), NCASE(movzwq, 0), NCASE(movsbw, 0),
	NCASE(movsbl, 0), NCASE(movsbq, 0), NCASE(movswl, 0),
	NCASE(movswq, 0), NCASE(movslq, 0), NCASE(movsxd_32, 0),
	NCASE(movsxd_16, 0),
};

/* Operand values: the edges of every size, and a few others. */
static const uint64_t values[] = {
	0, 1, 2, 0xf, 0x10, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
	0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
	0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL,
	0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x5555aaaa5555aaaaULL,
	0x8765432180808080ULL, 0x00000000fffffff8ULL, 0xf0f0f0f00f0f0f0fULL,
};

/* RFLAGS in: none or all status flags (CF for ADC/SBB), and DF. */
static const uint64_t flags_in[] = {
	RFLAGS_FIXED | RFLAGS_IF,
	RFLAGS_FIXED | RFLAGS_IF | RFLAGS_STATUS,
	RFLAGS_FIXED | RFLAGS_IF | RFLAGS_CF | RFLAGS_DF,
};

#define MEM_OFF		0x100	/* the operand, in the MMIO page */
#define GUARD		8	/* bytes compared on either side */

static const char *const reg_names[] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
};

/* One vector: 0 if the emulator agrees with the CPU, else prints why. */
static int native_vector(const struct native_case *nc, uint64_t a,
			 uint64_t b, uint64_t fl)
{
	uint8_t host[GUARD + 8 + GUARD];
	struct xvcpu_mmio_ctx c;
	struct xvcpu_regs in, nat;
	static struct env env;
	uint64_t mask = ~0ULL;
	__u64 *pn, *pe;
	unsigned int i;
	int ret;

	memset(&in, 0, sizeof(in));
	in.rax = b;
	in.rcx = b;
	in.rdx = ~b;
	in.rsi = b ^ 0x5a5a5a5a5a5a5a5aULL;
	in.rdi = b + 1;
	in.rbp = 0xbbbb;
	in.r8 = b;
	in.r9 = b >> 3;
	in.r10 = ~b;
	in.r11 = b * 3;
	in.r12 = b;
	in.r13 = 0x1313;
	in.r14 = 0x1414;
	in.r15 = b ^ (b << 7);
	in.rflags = fl;

	memset(host, 0xcc, sizeof(host));
	put_le(host + GUARD, 8, a);
	nat = in;
	nat.rbx = (uint64_t)(uintptr_t)(host + GUARD);
	native_run(&nat, nc->start);

	ctx_init(&c, &env, M64, nc->start, nc->end, LA_MMIO + MEM_OFF,
		 nc->flags & NC_STORE ? XVCPU_MMIO_WRITE : XVCPU_MMIO_READ);
	memset(&env.page[1][MEM_OFF - GUARD], 0xcc, sizeof(host));
	put_le(&env.page[1][MEM_OFF], 8, a);
	c.regs = in;
	c.regs.rbx = LA_MMIO + MEM_OFF;
	c.regs.rip = START_RIP;
	ret = xvcpu_mmio_execute(&c);
	if (ret) {
		printf("FAIL %s: a %#" PRIx64 " b %#" PRIx64 " flags %#" PRIx64
		       ": returned %d\n", nc->name, a, b, fl, ret);
		return -1;
	}

	/* Compare register by register; RBX was the pointer in both. */
	nat.rbx = c.regs.rbx == LA_MMIO + MEM_OFF ?
		  c.regs.rbx : ~c.regs.rbx;
	nat.rip = START_RIP + (nc->end - nc->start);
	if (nc->flags & NC_LOGICAL)
		mask = ~RFLAGS_AF;
	nat.rflags &= mask;
	c.regs.rflags &= mask;
	pn = &nat.rax;
	pe = &c.regs.rax;
	for (i = 0; i < ARRAY_SIZE(reg_names); i++) {
		if (pn[i] != pe[i]) {
			printf("FAIL %s: a %#" PRIx64 " b %#" PRIx64
			       " flags %#" PRIx64 ": %s native %#llx emulated"
			       " %#llx\n", nc->name, a, b, fl, reg_names[i],
			       pn[i], pe[i]);
			return -1;
		}
	}
	if (memcmp(host, &env.page[1][MEM_OFF - GUARD], sizeof(host))) {
		printf("FAIL %s: a %#" PRIx64 " b %#" PRIx64 ": memory native"
		       " %#" PRIx64 " emulated %#" PRIx64 "\n", nc->name, a, b,
		       get_le(host + GUARD, 8),
		       get_le(&env.page[1][MEM_OFF], 8));
		return -1;
	}
	if (env.bad) {
		printf("FAIL %s: %u stray accesses\n", nc->name, env.bad);
		return -1;
	}
	return 0;
}

static void test_native(void)
{
	unsigned int i, ia, ib, f, bad;

	for (i = 0; i < ARRAY_SIZE(native_cases); i++) {
		const struct native_case *nc = &native_cases[i];

		bad = 0;
		for (ia = 0; ia < ARRAY_SIZE(values) && !bad; ia++)
			for (ib = 0; ib < ARRAY_SIZE(values) && !bad; ib++)
				for (f = 0; f < ARRAY_SIZE(flags_in); f++)
					if (native_vector(nc, values[ia],
							  values[ib],
							  flags_in[f])) {
						bad = 1;
						break;
					}
		CHECK(!bad, "%s differs from this CPU", nc->name);
	}
}

/* ---- addressing forms (64-bit) ---- */

SNIP(ea_sib, "movl 0x10(%rbx,%rsi,4), %ecx");
SNIP(ea_r12_r13, "movl -0x20(%r12,%r13,8), %ecx");
SNIP(ea_r13, "movl (%r13), %ecx");		/* mod 1, disp8 0 */
SNIP(ea_rsp, "movl 8(%rsp), %ecx");		/* SIB, no index */
SNIP(ea_rbp, "movl -8(%rbp), %ecx");
SNIP(ea_x12, ".byte 0x42, 0x8b, 0x0c, 0x23");	/* (%rbx,%r12,1), REX.X */
SNIP(ea_abs, "movl 0x41230, %ecx");		/* SIB, no base, disp32 */
SNIP(ea_rip, "movl 0x41100-0x1000(%rip), %ecx");
SNIP(ea_addr32, "addr32 movl 4(%ebx), %ecx");
SNIP(ea_fs, "movl %fs:(%rbx), %ecx");
SNIP(ea_gs, "movl %gs:(%rbx), %ecx");
SNIP(ea_ds, "movl %ds:(%rbx), %ecx");		/* no base in 64-bit mode */
SNIP(moffs_load8, "movabs 0x41234, %al");
SNIP(moffs_store64, "movabs %rax, 0x41238");
CODE(moffs_addr32, ".byte 0x67, 0xa1, 0x40, 0x12, 0x04, 0x00");

struct ea_case {
	const char *name;
	const uint8_t *start, *end;
	uint64_t la;		/* the operand's linear address */
	unsigned int size;
};

static void test_addressing(void)
{
	const uint64_t la = LA_MMIO + 0x234, v = 0x1122334455667788ULL;
	struct xvcpu_mmio_ctx c;
	static struct env env;
	unsigned int i;
	int ret;
	const struct ea_case cases[] = {
		{ "sib", ea_sib, ea_sib_end, la, 4 },
		{ "r12+r13*8", ea_r12_r13, ea_r12_r13_end, la, 4 },
		{ "r13", ea_r13, ea_r13_end, la, 4 },
		{ "rsp", ea_rsp, ea_rsp_end, la, 4 },
		{ "rbp", ea_rbp, ea_rbp_end, la, 4 },
		{ "REX.X r12 index", ea_x12, ea_x12_end, la, 4 },
		{ "absolute", ea_abs, ea_abs_end, LA_MMIO + 0x230, 4 },
		{ "rip", ea_rip, ea_rip_end, 0x41100 + (ea_rip_end - ea_rip),
		  4 },
		{ "addr32", ea_addr32, ea_addr32_end, la, 4 },
		{ "fs", ea_fs, ea_fs_end, la, 4 },
		{ "gs", ea_gs, ea_gs_end, la, 4 },
		{ "ds", ea_ds, ea_ds_end, la, 4 },
		{ "moffs8", moffs_load8, moffs_load8_end, LA_MMIO + 0x234, 1 },
		{ "moffs addr32", moffs_addr32, moffs_addr32_end,
		  LA_MMIO + 0x240, 4 },
	};

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ea_case *ec = &cases[i];

		ctx_init(&c, &env, M64, ec->start, ec->end, ec->la,
			 XVCPU_MMIO_READ);
		put_le(&env.page[1][ec->la & 0xfff], 8, v);
		c.regs.rax = 0xaaaaaaaaaaaaaaaaULL;
		c.regs.rcx = 0xccccccccccccccccULL;
		c.regs.rsi = 0x80;
		c.regs.rbx = la - 0x10 - 0x80 * 4;	/* sib */
		c.regs.r12 = la + 0x20 - 0x100 * 8;
		c.regs.r13 = 0x100;
		c.regs.rsp = la - 8;
		c.regs.rbp = la + 8;
		c.sregs.ds.base = 0x7000000;		/* ignored */
		c.sregs.fs.base = 0x1000;
		c.sregs.gs.base = 0x2000;
		if (ec->start == ea_r13)
			c.regs.r13 = la;
		if (ec->start == ea_x12) {
			c.regs.rbx = la - 0x34;
			c.regs.r12 = 0x34;
		}
		if (ec->start == ea_addr32)
			c.regs.rbx = 0xdead000000000000ULL | (la - 4);
		if (ec->start == ea_fs)
			c.regs.rbx = la - 0x1000;
		if (ec->start == ea_gs)
			c.regs.rbx = la - 0x2000;
		if (ec->start == ea_ds)
			c.regs.rbx = la;
		c.regs.rip = START_RIP;
		ret = xvcpu_mmio_execute(&c);
		CHECK(ret == 0, "%s: returned %d", ec->name, ret);
		CHECK(env.nr_log == 1 && env.log[0].mmio && !env.log[0].write &&
		      env.log[0].addr == PA_MMIO + (ec->la & 0xfff) &&
		      env.log[0].size == ec->size,
		      "%s: %u accesses, first %#" PRIx64 " size %u", ec->name,
		      env.nr_log, env.log[0].addr, env.log[0].size);
		if (ec->start == moffs_addr32)
			CHECK(c.regs.rax == (v & 0xffffffff), "%s: eax %#llx",
			      ec->name, c.regs.rax);
		else if (ec->size == 4)
			CHECK(c.regs.rcx == (v & 0xffffffff), "%s: ecx %#llx",
			      ec->name, c.regs.rcx);
		else
			CHECK(c.regs.rax == 0xaaaaaaaaaaaaaa88ULL,
			      "%s: rax %#llx", ec->name, c.regs.rax);
		CHECK(c.regs.rip == START_RIP + (ec->end - ec->start),
		      "%s: rip %#llx", ec->name, c.regs.rip);
	}

	/* A 64-bit moffs store. */
	ctx_init(&c, &env, M64, moffs_store64, moffs_store64_end,
		 LA_MMIO + 0x238, XVCPU_MMIO_WRITE);
	c.regs.rax = v;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && get_le(&env.page[1][0x238], 8) == v,
	      "moffs store: %d %#" PRIx64, ret,
	      get_le(&env.page[1][0x238], 8));
}

/* ---- 16- and 32-bit code ---- */

CODE(r16_bx_si, ".code16\n\tmovw %ax, 0x1004(%bx,%si)");
CODE(r16_wrap, ".code16\n\tmovw %ax, (%bx,%si)");
CODE(r16_bp, ".code16\n\tmovl (%bp), %ecx");
CODE(r16_es, ".code16\n\taddb $1, %es:(%di)");
CODE(r16_addr32, ".code16\n\tmovw (%eax), %cx");
CODE(r16_moffs, ".code16\n\tmovw 0x1236, %ax");
CODE(r16_stos, ".code16\n\trep stosw");
CODE(r16_add, ".code16\n\taddw %cx, (%bx)");
CODE(r32_sib, ".code32\n\tmovl %eax, 8(%esi,%edi,4)");
CODE(r32_16, ".code32\n\tmovw %ax, (%ebx)");
CODE(r32_fs, ".code32\n\taddl $5, %fs:(%ebx)");
CODE(r32_addr16, ".code32\n\taddr16 movl (%bx,%di), %ecx");
CODE(r32_moffs, ".code32\n\tmovb 0x41237, %al");
CODE(r32_movs, ".code32\n\trep movsb");
/* DEC EAX then a store: no REX outside 64-bit mode. */
CODE(r32_dec, ".code32\n\t.byte 0x48, 0x89, 0x0b");
CODE(r32_movsxd, ".code32\n\t.byte 0x63, 0x0b");	/* ARPL */

static int run16(struct xvcpu_mmio_ctx *c)
{
	return xvcpu_mmio_execute(c);
}

static void test_legacy_modes(void)
{
	struct xvcpu_mmio_ctx c;
	static struct env env;
	int ret;

	/* Real mode: DS base, BX+SI+disp16. */
	ctx_init(&c, &env, M16, r16_bx_si, r16_bx_si_end, LA_MMIO + 0x34,
		 XVCPU_MMIO_WRITE);
	c.sregs.ds.base = LA_BASE;
	c.regs.rbx = 0xffff0010;	/* only BX counts */
	c.regs.rsi = 0x20;
	c.regs.rax = 0x12345678abcdULL;
	ret = run16(&c);
	CHECK(ret == 0 && get_le(&env.page[1][0x34], 4) == 0xabcd &&
	      c.regs.rip == START_RIP + 4, "real bx+si: %d %#" PRIx64 " rip %#llx",
	      ret, get_le(&env.page[1][0x34], 4), c.regs.rip);

	/* The 16-bit offset wraps: 0xfff0 + 0x20 = 0x10. */
	ctx_init(&c, &env, M16, r16_wrap, r16_wrap_end, LA_MMIO + 0x10,
		 XVCPU_MMIO_WRITE);
	c.sregs.ds.base = LA_MMIO;
	c.regs.rbx = 0xfff0;
	c.regs.rsi = 0x20;
	c.regs.rax = 0x4321;
	ret = run16(&c);
	CHECK(ret == 0 && get_le(&env.page[1][0x10], 2) == 0x4321,
	      "real wrap: %d", ret);

	/* BP addresses SS; 66 makes the load 32-bit, upper RCX cleared. */
	ctx_init(&c, &env, M16, r16_bp, r16_bp_end, LA_MMIO + 0x100,
		 XVCPU_MMIO_READ);
	c.sregs.ds.base = 0x100000;
	c.sregs.ss.base = LA_MMIO - 0x800;
	c.regs.rbp = 0x900;
	c.regs.rcx = ~0ULL;
	put_le(&env.page[1][0x100], 4, 0x89abcdef);
	ret = run16(&c);
	CHECK(ret == 0 && c.regs.rcx == 0x89abcdef &&
	      c.regs.rip == START_RIP + 4, "real bp: %d rcx %#llx rip %#llx",
	      ret, c.regs.rcx, c.regs.rip);

	/* ES override, read-modify-write of a byte, IP wraps at 64 KiB. */
	ctx_init(&c, &env, M16, r16_es, r16_es_end, LA_MMIO + 0xfff,
		 XVCPU_MMIO_READ);
	c.sregs.es.base = LA_MMIO;
	c.regs.rdi = 0xfff;
	c.regs.rip = 0xfffe;
	env.page[1][0xfff] = 0x7f;
	ret = run16(&c);
	CHECK(ret == 0 && env.page[1][0xfff] == 0x80 &&
	      (c.regs.rflags & RFLAGS_STATUS) == 0x890 &&
	      c.regs.rip == 0x2, "real es: %d %#x flags %#llx rip %#llx", ret,
	      env.page[1][0xfff], c.regs.rflags, c.regs.rip);

	/* 67: 32-bit addressing in 16-bit code. */
	ctx_init(&c, &env, M16, r16_addr32, r16_addr32_end, LA_MMIO + 0x40,
		 XVCPU_MMIO_READ);
	c.sregs.ds.base = LA_BASE;
	c.regs.rax = 0x1040;
	c.regs.rcx = 0xffffffffffff0000ULL;
	put_le(&env.page[1][0x40], 2, 0xbeef);
	ret = run16(&c);
	CHECK(ret == 0 && c.regs.rcx == 0xffffffffffffbeefULL,
	      "real addr32: %d rcx %#llx", ret, c.regs.rcx);

	/* moffs16 */
	ctx_init(&c, &env, M16, r16_moffs, r16_moffs_end, LA_MMIO + 0x236,
		 XVCPU_MMIO_READ);
	c.sregs.ds.base = LA_BASE;
	put_le(&env.page[1][0x236], 2, 0x1234);
	ret = run16(&c);
	CHECK(ret == 0 && c.regs.rax == 0x1234 &&
	      c.regs.rip == START_RIP + 3, "real moffs: %d rax %#llx", ret,
	      c.regs.rax);

	/* REP STOSW: CX and DI only, the rest of RCX and RDI untouched. */
	ctx_init(&c, &env, M16, r16_stos, r16_stos_end, LA_MMIO + 0x200,
		 XVCPU_MMIO_WRITE);
	c.sregs.es.base = LA_BASE;
	c.regs.rdi = 0xabcd00001200ULL;
	c.regs.rcx = 0x777700000003ULL;
	c.regs.rax = 0x5aa5;
	ret = run16(&c);
	CHECK(ret == 0 && c.regs.rcx == 0x777700000000ULL &&
	      c.regs.rdi == 0xabcd00001206ULL &&
	      get_le(&env.page[1][0x200], 6) == 0x5aa55aa55aa5ULL &&
	      c.regs.rip == START_RIP + 2,
	      "real rep stosw: %d rcx %#llx rdi %#llx", ret, c.regs.rcx,
	      c.regs.rdi);

	/* 16-bit ADD: OF and CF from bit 15. */
	ctx_init(&c, &env, M16, r16_add, r16_add_end, LA_MMIO + 0x300,
		 XVCPU_MMIO_READ);
	c.sregs.ds.base = LA_MMIO;
	c.regs.rbx = 0x300;
	c.regs.rcx = 0x8000;
	put_le(&env.page[1][0x300], 2, 0x8000);
	ret = run16(&c);
	CHECK(ret == 0 && get_le(&env.page[1][0x300], 2) == 0 &&
	      (c.regs.rflags & RFLAGS_STATUS) == 0x845,	/* OF ZF PF CF */
	      "real add: %d flags %#llx", ret, c.regs.rflags);

	/* 32-bit: SIB with scale 4. */
	ctx_init(&c, &env, M32, r32_sib, r32_sib_end, LA_MMIO + 0x48,
		 XVCPU_MMIO_WRITE);
	c.regs.rsi = LA_MMIO;
	c.regs.rdi = 0x10;
	c.regs.rax = 0xfeedface;
	ret = run16(&c);
	CHECK(ret == 0 && get_le(&env.page[1][0x48], 4) == 0xfeedface &&
	      c.regs.rip == START_RIP + 4, "32 sib: %d", ret);

	/* 66 in 32-bit code: a 16-bit store. */
	ctx_init(&c, &env, M32, r32_16, r32_16_end, LA_MMIO + 0x50,
		 XVCPU_MMIO_WRITE);
	c.regs.rbx = LA_MMIO + 0x50;
	c.regs.rax = 0x11112222;
	memset(&env.page[1][0x50], 0xee, 4);
	ret = run16(&c);
	CHECK(ret == 0 && get_le(&env.page[1][0x50], 4) == 0xeeee2222,
	      "32 16-bit: %d %#" PRIx64, ret, get_le(&env.page[1][0x50], 4));

	/* FS base in 32-bit code; the linear address wraps at 4 GiB. */
	ctx_init(&c, &env, M32, r32_fs, r32_fs_end, LA_MMIO + 0x60,
		 XVCPU_MMIO_READ);
	c.sregs.fs.base = 0xfffff000;
	c.regs.rbx = LA_MMIO + 0x60 + 0x1000;
	put_le(&env.page[1][0x60], 4, 0xfffffffb);
	ret = run16(&c);
	CHECK(ret == 0 && get_le(&env.page[1][0x60], 4) == 0 &&
	      (c.regs.rflags & RFLAGS_STATUS) == 0x55,	/* ZF PF AF CF */
	      "32 fs: %d flags %#llx", ret, c.regs.rflags);

	/* The same in compatibility mode. */
	ctx_init(&c, &env, MCOMPAT, r32_fs, r32_fs_end, LA_MMIO + 0x60,
		 XVCPU_MMIO_READ);
	c.sregs.fs.base = 0xfffff000;
	c.regs.rbx = LA_MMIO + 0x60 + 0x1000;
	put_le(&env.page[1][0x60], 4, 1);
	ret = run16(&c);
	CHECK(ret == 0 && get_le(&env.page[1][0x60], 4) == 6,
	      "compat fs: %d", ret);

	/* 67 in 32-bit code: 16-bit addressing. */
	ctx_init(&c, &env, M32, r32_addr16, r32_addr16_end, LA_MMIO + 0x70,
		 XVCPU_MMIO_READ);
	c.sregs.ds.base = LA_MMIO;
	c.regs.rbx = 0xffff0040;
	c.regs.rdi = 0x30;
	put_le(&env.page[1][0x70], 4, 0x76543210);
	ret = run16(&c);
	CHECK(ret == 0 && c.regs.rcx == 0x76543210, "32 addr16: %d", ret);

	/* moffs32 */
	ctx_init(&c, &env, M32, r32_moffs, r32_moffs_end, LA_MMIO + 0x237,
		 XVCPU_MMIO_READ);
	c.regs.rax = 0x1111;
	env.page[1][0x237] = 0x99;
	ret = run16(&c);
	CHECK(ret == 0 && c.regs.rax == 0x1199 && c.regs.rip == START_RIP + 5,
	      "32 moffs: %d rax %#llx", ret, c.regs.rax);

	/* REP MOVSB from MMIO to RAM in 32-bit code. */
	ctx_init(&c, &env, M32, r32_movs, r32_movs_end, LA_MMIO + 0x400,
		 XVCPU_MMIO_READ);
	c.regs.rsi = LA_MMIO + 0x400;
	c.regs.rdi = LA_RAM2 + 0x10;
	c.regs.rcx = 5;
	memcpy(&env.page[1][0x400], "hello", 5);
	ret = run16(&c);
	CHECK(ret == 0 && !memcmp(&env.page[2][0x10], "hello", 5) &&
	      c.regs.rcx == 0 && c.regs.rsi == LA_MMIO + 0x405 &&
	      c.regs.rdi == LA_RAM2 + 0x15 && c.regs.rip == START_RIP + 2,
	      "32 rep movsb: %d rcx %#llx", ret, c.regs.rcx);

	ctx_init(&c, &env, M32, r32_dec, r32_dec_end, LA_MMIO,
		 XVCPU_MMIO_WRITE);
	c.regs.rbx = LA_MMIO;
	CHECK(run16(&c) == -ENOTSUP, "32-bit 0x48 is DEC, not REX");

	ctx_init(&c, &env, M32, r32_movsxd, r32_movsxd_end, LA_MMIO,
		 XVCPU_MMIO_READ);
	c.regs.rbx = LA_MMIO;
	CHECK(run16(&c) == -ENOTSUP, "32-bit 0x63 is ARPL");

	/* Virtual-8086 mode is 16-bit code. */
	ctx_init(&c, &env, M32, r16_addr32, r16_addr32_end, LA_MMIO + 0x40,
		 XVCPU_MMIO_READ);
	c.regs.rflags |= 1ULL << 17;
	c.sregs.ds.base = LA_BASE;
	c.regs.rax = 0x1040;
	put_le(&env.page[1][0x40], 2, 0xcafe);
	ret = run16(&c);
	CHECK(ret == 0 && (c.regs.rcx & 0xffff) == 0xcafe, "v8086: %d", ret);
}

/* ---- string instructions (64-bit) ---- */

CODE(rep_stosl, "rep stosl");
CODE(rep_stosb, "rep stosb");
CODE(rep_stosq, "rep stosq");
CODE(stosw, "stosw");
CODE(movsl, "movsl");
CODE(rep_movsb, "rep movsb");
CODE(rep_movsq, "rep movsq");
CODE(fs_movsb, "movsb %fs:(%rsi), %es:(%rdi)");
CODE(addr32_rep_stosb, "addr32 rep stosb");
CODE(repne_stosb, "repne stosb");

static void test_strings(void)
{
	struct xvcpu_mmio_ctx c;
	static struct env env;
	unsigned int i;
	int ret;

	/* REP STOSL: the 4 elements left in the page, then back to the guest. */
	ctx_init(&c, &env, M64, rep_stosl, rep_stosl_end, LA_MMIO + 0xff0,
		 XVCPU_MMIO_WRITE);
	c.regs.rdi = LA_MMIO + 0xff0;
	c.regs.rcx = 10;
	c.regs.rax = 0xa1b2c3d4;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && c.regs.rcx == 6 && c.regs.rdi == LA_MMIO + 0x1000 &&
	      c.regs.rip == START_RIP && env.nr_log == 4 && !env.bad,
	      "rep stosl to page end: %d rcx %llu rdi %#llx rip %#llx, %u"
	      " accesses", ret, c.regs.rcx, c.regs.rdi, c.regs.rip,
	      env.nr_log);
	for (i = 0; i < 4; i++)
		CHECK(get_le(&env.page[1][0xff0 + 4 * i], 4) == 0xa1b2c3d4,
		      "element %u", i);

	/* All of it in the page: RCX = 0, RIP past. */
	ctx_init(&c, &env, M64, rep_stosb, rep_stosb_end, LA_MMIO + 0x100,
		 XVCPU_MMIO_WRITE);
	c.regs.rdi = LA_MMIO + 0x100;
	c.regs.rcx = 16;
	c.regs.rax = 0x77;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && c.regs.rcx == 0 && c.regs.rdi == LA_MMIO + 0x110 &&
	      c.regs.rip == START_RIP + 2 && env.page[1][0x10f] == 0x77 &&
	      env.page[1][0x110] == 0, "rep stosb: %d rcx %llu", ret,
	      c.regs.rcx);

	/* DF = 1: downwards, stopping at the page start. */
	ctx_init(&c, &env, M64, rep_stosq, rep_stosq_end, LA_MMIO + 0x10,
		 XVCPU_MMIO_WRITE);
	c.regs.rflags |= RFLAGS_DF;
	c.regs.rdi = LA_MMIO + 0x10;
	c.regs.rcx = 5;
	c.regs.rax = 0x0102030405060708ULL;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && c.regs.rcx == 2 && c.regs.rdi == LA_MMIO - 8 &&
	      c.regs.rip == START_RIP &&
	      get_le(&env.page[1][0], 8) == 0x0102030405060708ULL &&
	      get_le(&env.page[1][0x10], 8) == 0x0102030405060708ULL,
	      "rep stosq DF: %d rcx %llu rdi %#llx", ret, c.regs.rcx,
	      c.regs.rdi);

	/* No REP: one element; 66 makes it a word. */
	ctx_init(&c, &env, M64, stosw, stosw_end, LA_MMIO + 0x20,
		 XVCPU_MMIO_WRITE);
	c.regs.rdi = LA_MMIO + 0x20;
	c.regs.rcx = 99;
	c.regs.rax = 0xabcd;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && c.regs.rcx == 99 && c.regs.rdi == LA_MMIO + 0x22 &&
	      get_le(&env.page[1][0x20], 4) == 0xabcd &&
	      c.regs.rip == START_RIP + 2, "stosw: %d", ret);

	/* REP with RCX = 0 does nothing (and cannot fault; accepted). */
	ctx_init(&c, &env, M64, rep_stosb, rep_stosb_end, LA_MMIO,
		 XVCPU_MMIO_WRITE);
	c.regs.rdi = LA_MMIO;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && env.nr_log == 0 && c.regs.rip == START_RIP + 2,
	      "rep stosb, rcx 0: %d", ret);

	/* MOVSL MMIO -> RAM: a read fault; RAM through linear_access. */
	ctx_init(&c, &env, M64, movsl, movsl_end, LA_MMIO + 0x20,
		 XVCPU_MMIO_READ);
	c.regs.rsi = LA_MMIO + 0x20;
	c.regs.rdi = LA_RAM2 + 0x10;
	put_le(&env.page[1][0x20], 4, 0xdeadbeef);
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && get_le(&env.page[2][0x10], 4) == 0xdeadbeef &&
	      c.regs.rsi == LA_MMIO + 0x24 && c.regs.rdi == LA_RAM2 + 0x14 &&
	      env.nr_log == 2 && env.log[0].mmio && !env.log[1].mmio &&
	      c.regs.rip == START_RIP + 1, "movsl from MMIO: %d", ret);

	/* REP MOVSB RAM -> MMIO, stops when the MMIO side leaves the page. */
	ctx_init(&c, &env, M64, rep_movsb, rep_movsb_end, LA_MMIO + 0xffc,
		 XVCPU_MMIO_WRITE);
	c.regs.rsi = LA_BASE + 0x100;
	c.regs.rdi = LA_MMIO + 0xffc;
	c.regs.rcx = 8;
	memcpy(&env.page[0][0x100], "abcdefgh", 8);
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && !memcmp(&env.page[1][0xffc], "abcd", 4) &&
	      c.regs.rcx == 4 && c.regs.rsi == LA_BASE + 0x104 &&
	      c.regs.rdi == LA_MMIO + 0x1000 && c.regs.rip == START_RIP,
	      "rep movsb to MMIO: %d rcx %llu", ret, c.regs.rcx);

	/* MMIO -> another MMIO page (through linear_access). */
	ctx_init(&c, &env, M64, rep_movsq, rep_movsq_end, LA_MMIO + 0x80,
		 XVCPU_MMIO_READ);
	c.regs.rsi = LA_MMIO + 0x80;
	c.regs.rdi = LA_MMIO2 + 0x40;
	c.regs.rcx = 2;
	put_le(&env.page[1][0x80], 8, 0x1111111111111111ULL);
	put_le(&env.page[1][0x88], 8, 0x2222222222222222ULL);
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && get_le(&env.page[3][0x40], 8) ==
	      0x1111111111111111ULL && get_le(&env.page[3][0x48], 8) ==
	      0x2222222222222222ULL && c.regs.rcx == 0,
	      "rep movsq MMIO to MMIO: %d", ret);

	/* FS override on the source. */
	ctx_init(&c, &env, M64, fs_movsb, fs_movsb_end, LA_MMIO + 0x30,
		 XVCPU_MMIO_READ);
	c.sregs.fs.base = 0x40000;
	c.regs.rsi = 0x1030;
	c.regs.rdi = LA_RAM2;
	env.page[1][0x30] = 0x42;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && env.page[2][0] == 0x42 && c.regs.rsi == 0x1031,
	      "fs movsb: %d", ret);

	/* 67: EDI and ECX, written back zero-extended. */
	ctx_init(&c, &env, M64, addr32_rep_stosb, addr32_rep_stosb_end,
		 LA_MMIO + 0x500, XVCPU_MMIO_WRITE);
	c.regs.rdi = 0xffffffff00000000ULL | (LA_MMIO + 0x500);
	c.regs.rcx = 0xffffffff00000003ULL;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && c.regs.rdi == LA_MMIO + 0x503 && c.regs.rcx == 0,
	      "addr32 rep stosb: %d rdi %#llx rcx %#llx", ret, c.regs.rdi,
	      c.regs.rcx);

	/* REPNE on STOS is a plain REP. */
	ctx_init(&c, &env, M64, repne_stosb, repne_stosb_end, LA_MMIO + 0x600,
		 XVCPU_MMIO_WRITE);
	c.regs.rdi = LA_MMIO + 0x600;
	c.regs.rcx = 3;
	c.regs.rax = 1;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && c.regs.rcx == 0 && env.page[1][0x602] == 1,
	      "repne stosb: %d", ret);

	/* The first element must be the access that faulted. */
	ctx_init(&c, &env, M64, rep_stosb, rep_stosb_end, LA_MMIO + 0x700,
		 XVCPU_MMIO_WRITE);
	c.regs.rdi = LA_MMIO + 0x710;
	c.regs.rcx = 4;
	CHECK(xvcpu_mmio_execute(&c) == -EINVAL && env.nr_log == 0 &&
	      c.regs.rcx == 4, "stos elsewhere than the fault");
	ctx_init(&c, &env, M64, movsl, movsl_end, LA_MMIO + 0x20,
		 XVCPU_MMIO_WRITE);
	c.regs.rsi = LA_MMIO + 0x20;	/* the read side, but a write fault */
	c.regs.rdi = LA_RAM2;
	CHECK(xvcpu_mmio_execute(&c) == -EINVAL && env.nr_log == 0,
	      "movs with the wrong side faulting");

	/* Without the linear address, string instructions are refused. */
	ctx_init(&c, &env, M64, stosw, stosw_end, LA_MMIO, XVCPU_MMIO_WRITE);
	c.linear_valid = 0;
	c.regs.rdi = LA_MMIO;
	CHECK(xvcpu_mmio_execute(&c) == -ENOTSUP, "stos without linear");

	/* Without linear_access, MOVS to RAM is refused, regs untouched. */
	ctx_init(&c, &env, M64, movsl, movsl_end, LA_MMIO + 0x20,
		 XVCPU_MMIO_READ);
	c.linear_access = NULL;
	c.regs.rsi = LA_MMIO + 0x20;
	c.regs.rdi = LA_RAM2;
	CHECK(xvcpu_mmio_execute(&c) == -ENOTSUP &&
	      c.regs.rsi == LA_MMIO + 0x20 && c.regs.rip == START_RIP,
	      "movs without linear_access");
}

/* ---- accesses that straddle a page ---- */

SNIP(store_l, "movl %ecx, (%rbx)");
SNIP(load_q, "movq (%rbx), %rcx");

static void test_straddle(void)
{
	struct xvcpu_mmio_ctx c;
	static struct env env;
	int ret;

	/* RAM page 0 then MMIO: the fault is in the second page. */
	ctx_init(&c, &env, M64, store_l, store_l_end, LA_MMIO,
		 XVCPU_MMIO_WRITE);
	c.regs.rbx = LA_MMIO - 2;
	c.regs.rcx = 0x44332211;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && env.page[0][0xffe] == 0x11 &&
	      env.page[0][0xfff] == 0x22 && env.page[1][0] == 0x33 &&
	      env.page[1][1] == 0x44 && env.nr_log == 2 && !env.log[0].mmio &&
	      env.log[1].mmio && env.log[1].addr == PA_MMIO &&
	      env.log[1].size == 2, "straddle into MMIO: %d", ret);

	/* MMIO then RAM page 2. */
	ctx_init(&c, &env, M64, load_q, load_q_end, LA_MMIO + 0xffd,
		 XVCPU_MMIO_READ);
	c.regs.rbx = LA_MMIO + 0xffd;
	put_le(&env.page[1][0xffd], 3, 0x332211);
	put_le(&env.page[2][0], 5, 0x8877665544ULL);
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && c.regs.rcx == 0x8877665544332211ULL &&
	      env.log[0].mmio && env.log[0].size == 3 &&
	      !env.log[1].mmio && env.log[1].size == 5,
	      "straddle out of MMIO: %d rcx %#llx", ret, c.regs.rcx);
}

/* ---- refusals: the vCPU state must not change ---- */

SNIP(bad_xchg, "xchgl %ecx, (%rbx)");
SNIP(bad_not, "notl (%rbx)");
SNIP(bad_inc, "incl (%rbx)");
SNIP(bad_push, "pushq (%rbx)");
SNIP(bad_regreg, "movl %eax, %ecx");
SNIP(bad_lock_mov, ".byte 0xf0, 0x89, 0x0b");
SNIP(bad_lock_cmp, ".byte 0xf0, 0x39, 0x0b");
SNIP(bad_rep_mov, ".byte 0xf3, 0x89, 0x0b");
SNIP(bad_f7_1, ".byte 0xf7, 0x0b, 1, 0, 0, 0");	/* TEST alias /1 */
SNIP(bad_82, ".byte 0x82, 0x03, 1");
SNIP(bad_c7_1, ".byte 0xc7, 0x0b, 1, 0, 0, 0");
SNIP(bad_popcnt, "popcntl (%rbx), %ecx");
SNIP(bad_fetch, "jmp *%rbx");
SNIP(ok_add, "addl %ecx, (%rbx)");
CODE(too_long, ".fill 15, 1, 0x3e\n\t.byte 0x89, 0x0b");

struct refusal {
	const char *name;
	const uint8_t *start, *end;
	uint32_t access;
	int ret;
};

static void test_refusals(void)
{
	const struct refusal cases[] = {
		{ "xchg", bad_xchg, bad_xchg_end, XVCPU_MMIO_READ, -ENOTSUP },
		{ "not", bad_not, bad_not_end, XVCPU_MMIO_READ, -ENOTSUP },
		{ "inc", bad_inc, bad_inc_end, XVCPU_MMIO_READ, -ENOTSUP },
		{ "push", bad_push, bad_push_end, XVCPU_MMIO_READ, -ENOTSUP },
		{ "reg,reg", bad_regreg, bad_regreg_end, XVCPU_MMIO_WRITE,
		  -EINVAL },
		{ "lock mov", bad_lock_mov, bad_lock_mov_end, XVCPU_MMIO_WRITE,
		  -EINVAL },
		{ "lock cmp", bad_lock_cmp, bad_lock_cmp_end, XVCPU_MMIO_READ,
		  -EINVAL },
		{ "rep mov", bad_rep_mov, bad_rep_mov_end, XVCPU_MMIO_WRITE,
		  -ENOTSUP },
		{ "f7 /1", bad_f7_1, bad_f7_1_end, XVCPU_MMIO_READ, -ENOTSUP },
		{ "82", bad_82, bad_82_end, XVCPU_MMIO_READ, -ENOTSUP },
		{ "c7 /1", bad_c7_1, bad_c7_1_end, XVCPU_MMIO_WRITE,
		  -ENOTSUP },
		{ "popcnt", bad_popcnt, bad_popcnt_end, XVCPU_MMIO_READ,
		  -ENOTSUP },
		{ "fetch", bad_fetch, bad_fetch_end, XVCPU_MMIO_FETCH,
		  -ENOTSUP },
		{ "store, read fault", store_l, store_l_end, XVCPU_MMIO_READ,
		  -EINVAL },
		{ "load, write fault", load_q, load_q_end, XVCPU_MMIO_WRITE,
		  -EINVAL },
		{ "truncated", ok_add, ok_add_end - 1, XVCPU_MMIO_READ,
		  -EINVAL },
		{ "no bytes", ok_add, ok_add, XVCPU_MMIO_READ, -ENOTSUP },
		{ "16 bytes", too_long, too_long_end, XVCPU_MMIO_WRITE,
		  -EINVAL },
	};
	struct xvcpu_mmio_ctx c;
	struct xvcpu_regs before;
	static struct env env;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct refusal *r = &cases[i];

		ctx_init(&c, &env, M64, r->start, r->end, LA_MMIO + 0x40,
			 r->access);
		c.regs.rbx = LA_MMIO + 0x40;
		c.regs.rcx = 0x1234;
		c.regs.rflags |= RFLAGS_STATUS;
		before = c.regs;
		ret = xvcpu_mmio_execute(&c);
		CHECK(ret == r->ret && env.nr_log == 0 &&
		      !memcmp(&before, &c.regs, sizeof(before)), "%s: returned %d, %u accesses",
		      r->name, ret, env.nr_log);
	}

	/* An instruction whose operand is not the faulting address. */
	ctx_init(&c, &env, M64, ok_add, ok_add_end, LA_MMIO + 0x40,
		 XVCPU_MMIO_READ);
	c.regs.rbx = LA_MMIO + 0x48;
	CHECK(xvcpu_mmio_execute(&c) == -EINVAL && env.nr_log == 0,
	      "another address");

	/* A failing callback: its error, the registers unchanged. */
	ctx_init(&c, &env, M64, ok_add, ok_add_end, LA_MMIO + 0x40,
		 XVCPU_MMIO_READ);
	c.regs.rbx = LA_MMIO + 0x40;
	env.fail = -EIO;
	before = c.regs;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == -EIO && !memcmp(&before, &c.regs, sizeof(before)),
	      "callback error: %d", ret);

	/* No callbacks. */
	ctx_init(&c, &env, M64, ok_add, ok_add_end, LA_MMIO + 0x40,
		 XVCPU_MMIO_READ);
	c.ops = NULL;
	CHECK(xvcpu_mmio_execute(&c) == -EINVAL, "no ops");

	/* Without the linear address, the operand goes to phys_addr. */
	ctx_init(&c, &env, M64, ok_add, ok_add_end, 0, XVCPU_MMIO_READ);
	c.linear_valid = 0;
	c.phys_addr = PA_MMIO + 0x80;
	c.regs.rbx = 0x123456780;	/* any: the page tables are unknown */
	c.regs.rcx = 5;
	env.page[1][0x80] = 2;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && env.page[1][0x80] == 7, "no linear address: %d",
	      ret);

	/* LOCK on a read-modify-write, with a write fault (read-only RAM). */
	ctx_init(&c, &env, M64, lock_add, lock_add_end, LA_MMIO + 0x40,
		 XVCPU_MMIO_WRITE);
	c.regs.rbx = LA_MMIO + 0x40;
	c.regs.rcx = 1;
	env.page[1][0x40] = 1;
	ret = xvcpu_mmio_execute(&c);
	CHECK(ret == 0 && env.page[1][0x40] == 2, "lock add: %d", ret);
}

/* AF after a logical operation: the emulator clears it. */
static void test_logical_af(void)
{
	struct xvcpu_mmio_ctx c;
	static struct env env;

	ctx_init(&c, &env, M64, and_mr_l, and_mr_l_end, LA_MMIO,
		 XVCPU_MMIO_READ);
	c.regs.rbx = LA_MMIO;
	c.regs.rflags |= RFLAGS_STATUS;
	c.regs.rcx = 0x80000000;
	put_le(env.page[1], 4, 0x80000001);
	CHECK(xvcpu_mmio_execute(&c) == 0 &&
	      (c.regs.rflags & RFLAGS_STATUS) == 0x84,	/* SF PF */
	      "and: flags %#llx", c.regs.rflags);
}

int main(void)
{
	test_native();
	test_addressing();
	test_legacy_modes();
	test_strings();
	test_straddle();
	test_refusals();
	test_logical_af();

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
