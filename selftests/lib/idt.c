// SPDX-License-Identifier: GPL-2.0
/*
 * The recording IDT of the test guests (see idt.h): guest side (stubs in
 * assembly, the 64-bit logger in C) and host side (gates, IDTR, log).
 */
#include <errno.h>
#include <string.h>

#include "guest.h"
#include "idt.h"
#include "xvtest.h"

#define GATE_INTERRUPT		0x8e	/* present, DPL 0, interrupt gate */
#define TSS_IST1_OFFSET		0x24	/* 64-bit TSS (SDM Vol. 3A 8.7) */
#define EFER_LMA		(1ULL << 10)
#define CR0_PE			(1ULL << 0)

struct xvt_idt_event xvt_idt_log[XVT_IDT_LOG_SIZE];
uint32_t xvt_idt_nr;
uint32_t xvt_idt_count[XVT_IDT_VECTORS];
uint64_t xvt_idt_resume;
uint32_t xvt_idt_sync[XVT_IDT_VECTORS / 32];

uint8_t xvt_idt_table64[XVT_IDT_VECTORS * 16] __attribute__((aligned(4096)));
uint8_t xvt_idt_table32[XVT_IDT_VECTORS * 8] __attribute__((aligned(4096)));
uint8_t xvt_idt_stacks[XVT_IDT_NR_IST][XVT_IDT_STACK_SIZE]
	__attribute__((aligned(4096)));

/* What the 64-bit stubs leave on the stack for xvt_guest_idt_record() */
struct xvt_idt_frame {
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip;
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;
	uint64_t ss;
};

/*
 * One 16-byte stub per vector: push a zero error code where the
 * processor pushes none, push the vector, go to the common part.
 */
#define ERROR_CODE_VECTORS						\
	"(xvt_vec == 8) || (xvt_vec == 10) || (xvt_vec == 11) || "	\
	"(xvt_vec == 12) || (xvt_vec == 13) || (xvt_vec == 14) || "	\
	"(xvt_vec == 17)"

GUEST_ASM(
"	.balign 16\n"
"xvt_idt_code:\n"
"xvt_idt_stubs64:\n"
"	xvt_vec = 0\n"
"	.rept 256\n"
"	.balign 16\n"
"	.if !(" ERROR_CODE_VECTORS ")\n"
"	pushq $0\n"
"	.endif\n"
"	pushq $xvt_vec\n"
"	jmp xvt_idt_common64\n"
"	xvt_vec = xvt_vec + 1\n"
"	.endr\n"
"xvt_idt_common64:\n"
"	push %rax\n"
"	push %rcx\n"
"	push %rdx\n"
"	push %rsi\n"
"	push %rdi\n"
"	push %r8\n"
"	push %r9\n"
"	push %r10\n"
"	push %r11\n"
"	lea 72(%rsp), %rdi\n"
"	cld\n"
"	call xvt_guest_idt_record\n"
"	pop %r11\n"
"	pop %r10\n"
"	pop %r9\n"
"	pop %r8\n"
"	pop %rdi\n"
"	pop %rsi\n"
"	pop %rdx\n"
"	pop %rcx\n"
"	pop %rax\n"
"	add $16, %rsp\n"
"	iretq\n"
"xvt_idt_code_end:\n");

/*
 * The 32-bit stubs and logger, all in assembly (the test binary's C is
 * 64-bit code).  Frame after the three pushes: vector at 12(%esp), error
 * code, EIP, CS, EFLAGS.
 */
GUEST_ASM(
"	.code32\n"
"	.balign 16\n"
"xvt_idt_stubs32:\n"
"	xvt_vec = 0\n"
"	.rept 256\n"
"	.balign 16\n"
"	.if !(" ERROR_CODE_VECTORS ")\n"
"	pushl $0\n"
"	.endif\n"
"	pushl $xvt_vec\n"
"	jmp xvt_idt_common32\n"
"	xvt_vec = xvt_vec + 1\n"
"	.endr\n"
"xvt_idt_common32:\n"
"	push %eax\n"
"	push %ecx\n"
"	push %edx\n"
"	mov 12(%esp), %eax\n"
"	mov xvt_idt_nr, %ecx\n"
"	cmp $64, %ecx\n"
"	jae 1f\n"
"	shl $6, %ecx\n"
"	add $xvt_idt_log, %ecx\n"
"	mov %eax, 0(%ecx)\n"
"	mov 16(%esp), %edx\n"
"	mov %edx, 8(%ecx)\n"
"	mov 20(%esp), %edx\n"
"	mov %edx, 16(%ecx)\n"
"	movzwl 24(%esp), %edx\n"
"	mov %edx, 24(%ecx)\n"
"	mov 28(%esp), %edx\n"
"	mov %edx, 32(%ecx)\n"
"	lea 32(%esp), %edx\n"
"	mov %edx, 40(%ecx)\n"
"	xor %edx, %edx\n"
"	cmp $14, %eax\n"
"	jne 2f\n"
"	mov %cr2, %edx\n"
"2:	mov %edx, 48(%ecx)\n"
"	xor %edx, %edx\n"
"	cmp $1, %eax\n"
"	jne 3f\n"
"	mov %dr6, %edx\n"
"3:	mov %edx, 56(%ecx)\n"
"	xor %edx, %edx\n"
"	mov %edx, 4(%ecx)\n"
"	mov %edx, 12(%ecx)\n"
"	mov %edx, 20(%ecx)\n"
"	mov %edx, 28(%ecx)\n"
"	mov %edx, 36(%ecx)\n"
"	mov %edx, 44(%ecx)\n"
"	mov %edx, 52(%ecx)\n"
"	mov %edx, 60(%ecx)\n"
"1:	incl xvt_idt_nr\n"
"	incl xvt_idt_count(,%eax,4)\n"
"	bt %eax, xvt_idt_sync\n"
"	jnc 4f\n"
"	mov $0xfff4, %dx\n"
"	out %eax, %dx\n"
"4:	mov xvt_idt_resume, %edx\n"
"	test %edx, %edx\n"
"	jz 5f\n"
"	mov %edx, 20(%esp)\n"
"	movl $0, xvt_idt_resume\n"
"	movl $0, xvt_idt_resume+4\n"
"5:	pop %edx\n"
"	pop %ecx\n"
"	pop %eax\n"
"	add $8, %esp\n"
"	iret\n"
"	.code64\n");

extern char xvt_idt_code[], xvt_idt_code_end[], xvt_idt_stubs64[],
	xvt_idt_stubs32[];

_Static_assert(XVT_IDT_LOG_SIZE == 64 && sizeof(struct xvt_idt_event) == 64,
	       "the 32-bit logger hard-codes the log's shape");
_Static_assert(XVT_IDT_PORT == 0xfff4, "the 32-bit logger hard-codes it");

void __guest xvt_guest_idt_record(struct xvt_idt_frame *f);

void __guest xvt_guest_idt_record(struct xvt_idt_frame *f)
{
	uint32_t n = READ_ONCE(xvt_idt_nr);
	uint32_t v = (uint32_t)f->vector;
	struct xvt_idt_event *e;
	uint64_t x;

	if (n < XVT_IDT_LOG_SIZE) {
		e = &xvt_idt_log[n];
		e->vector = v;
		e->error_code = f->error_code;
		e->rip = f->rip;
		e->cs = f->cs & 0xffff;
		e->rflags = f->rflags;
		e->rsp = f->rsp;
		x = 0;
		if (v == 14)
			asm volatile("mov %%cr2, %0" : "=r"(x));
		e->cr2 = x;
		x = 0;
		if (v == 1)
			asm volatile("mov %%dr6, %0" : "=r"(x));
		e->dr6 = x;
	}
	WRITE_ONCE(xvt_idt_nr, n + 1);
	WRITE_ONCE(xvt_idt_count[v], READ_ONCE(xvt_idt_count[v]) + 1);
	if (READ_ONCE(xvt_idt_sync[v / 32]) & (1U << (v % 32)))
		asm volatile("outl %0, %w1"
			     : : "a"(v), "Nd"(XVT_IDT_PORT) : "memory");
	x = READ_ONCE(xvt_idt_resume);
	if (x) {
		f->rip = x;
		WRITE_ONCE(xvt_idt_resume, 0);
	}
}

/* ---- host side ---- */

bool xvt_idt_has_error_code(unsigned int vector)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17:
		return true;
	}
	return false;
}

static unsigned int ist_of(unsigned int vector)
{
	switch (vector) {
	case 1:
		return XVT_IDT_IST_DB;
	case 2:
		return XVT_IDT_IST_NMI;
	case 8:
		return XVT_IDT_IST_DF;
	}
	return vector < 32 ? XVT_IDT_IST_EXC : XVT_IDT_IST_IRQ;
}

uint64_t xvt_idt_stub(unsigned int vector, bool long_mode)
{
	return (uintptr_t)(long_mode ? xvt_idt_stubs64 : xvt_idt_stubs32) +
	       16ULL * vector;
}

void xvt_idt_code_range(uint64_t *lo, uint64_t *hi)
{
	*lo = (uintptr_t)xvt_idt_code;
	*hi = (uintptr_t)xvt_idt_code_end;
}

int xvt_idt_write_gates(struct xvt_vm *t, uint64_t gpa, bool long_mode)
{
	unsigned int size = long_mode ? 16 : 8;
	uint8_t gates[XVT_IDT_VECTORS * 16];
	unsigned int v;

	memset(gates, 0, sizeof(gates));
	for (v = 0; v < XVT_IDT_VECTORS; v++) {
		uint64_t h = xvt_idt_stub(v, long_mode);
		uint8_t *g = gates + size * v;

		g[0] = h & 0xff;
		g[1] = (h >> 8) & 0xff;
		g[2] = XVCPU_SETUP_SEL_CODE;
		g[4] = long_mode ? ist_of(v) : 0;
		g[5] = GATE_INTERRUPT;
		g[6] = (h >> 16) & 0xff;
		g[7] = (h >> 24) & 0xff;
		if (long_mode) {
			g[8] = (h >> 32) & 0xff;
			g[9] = (h >> 40) & 0xff;
			g[10] = (h >> 48) & 0xff;
			g[11] = (h >> 56) & 0xff;
		}
	}
	return xvcpu_vm_write(t->vm, gpa, gates, size * XVT_IDT_VECTORS);
}

int xvt_idt_load(struct xvcpu_vcpu *vcpu, uint64_t base, uint16_t limit)
{
	struct xvcpu_sregs sregs;
	int ret;

	ret = xvcpu_get_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	sregs.idt.base = base;
	sregs.idt.limit = limit;
	return xvcpu_set_sregs(vcpu, &sregs);
}

void xvt_idt_stack_range(unsigned int ist, uint64_t *lo, uint64_t *hi)
{
	*lo = *hi = 0;
	if (ist < 1 || ist > XVT_IDT_NR_IST)
		return;
	*lo = (uintptr_t)xvt_idt_stacks[ist - 1];
	*hi = *lo + XVT_IDT_STACK_SIZE;
}

int xvt_idt_set_stack(struct xvt_vm *t, unsigned int ist, uint64_t top)
{
	uint64_t gpa = XVT_TABLES_GPA + XVCPU_SETUP_TSS_OFFSET +
		       TSS_IST1_OFFSET + 8ULL * (ist - 1);

	if (ist < 1 || ist > 7)
		return -EINVAL;
	return xvcpu_vm_write(t->vm, gpa, &top, sizeof(top));
}

unsigned int xvt_idt_nested_in(const struct xvt_idt_event *e)
{
	uint64_t lo, hi;
	unsigned int ist;

	for (ist = 1; ist <= XVT_IDT_NR_IST; ist++) {
		xvt_idt_stack_range(ist, &lo, &hi);
		if (e->rsp > lo && e->rsp <= hi)
			return ist;
	}
	return 0;
}

void xvt_idt_reset(struct xvt_vm *t)
{
	memset(&GUEST_VAR(t, xvt_idt_log), 0, sizeof(xvt_idt_log));
	memset(&GUEST_VAR(t, xvt_idt_count), 0, sizeof(xvt_idt_count));
	memset(&GUEST_VAR(t, xvt_idt_sync), 0, sizeof(xvt_idt_sync));
	GUEST_VAR(t, xvt_idt_nr) = 0;
	GUEST_VAR(t, xvt_idt_resume) = 0;
}

int xvt_idt_install(struct xvt_vm *t, struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_sregs sregs;
	unsigned int ist;
	uint64_t lo, hi;
	bool long_mode;
	int ret;

	ret = xvcpu_get_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	if (sregs.efer & EFER_LMA)
		long_mode = true;
	else if (sregs.cr0 & CR0_PE)
		long_mode = false;
	else
		return -EINVAL;

	xvt_idt_reset(t);
	if (long_mode) {
		for (ist = 1; ist <= XVT_IDT_NR_IST; ist++) {
			xvt_idt_stack_range(ist, &lo, &hi);
			ret = xvt_idt_set_stack(t, ist, hi);
			if (ret < 0)
				return ret;
		}
		ret = xvt_idt_write_gates(t, (uintptr_t)xvt_idt_table64, true);
		if (ret < 0)
			return ret;
		return xvt_idt_load(vcpu, (uintptr_t)xvt_idt_table64,
				    sizeof(xvt_idt_table64) - 1);
	}
	ret = xvt_idt_write_gates(t, (uintptr_t)xvt_idt_table32, false);
	if (ret < 0)
		return ret;
	return xvt_idt_load(vcpu, (uintptr_t)xvt_idt_table32,
			    XVT_IDT_VECTORS * 8 - 1);
}

struct xvt_idt_event *xvt_idt_event(struct xvt_vm *t, unsigned int i)
{
	return &GUEST_VAR(t, xvt_idt_log)[i % XVT_IDT_LOG_SIZE];
}

uint32_t xvt_idt_count_of(struct xvt_vm *t, unsigned int vector)
{
	return READ_ONCE(GUEST_VAR(t, xvt_idt_count)[vector % XVT_IDT_VECTORS]);
}

uint32_t xvt_idt_total(struct xvt_vm *t)
{
	return READ_ONCE(GUEST_VAR(t, xvt_idt_nr));
}

void xvt_idt_set_sync(struct xvt_vm *t, unsigned int vector, bool on)
{
	uint32_t *w = &GUEST_VAR(t, xvt_idt_sync)[(vector / 32) % 8];

	if (on)
		*w |= 1U << (vector % 32);
	else
		*w &= ~(1U << (vector % 32));
}

void xvt_idt_set_resume(struct xvt_vm *t, uint64_t rip)
{
	GUEST_VAR(t, xvt_idt_resume) = rip;
}

int xvt_idt_sync_vector(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;

	if (run->exit_reason != XVCPU_EXIT_IO ||
	    run->io.direction != XVCPU_IO_OUT ||
	    run->io.port != XVT_IDT_PORT || run->io.size != 4)
		return -1;
	return (int)(uint32_t)run->io.data;
}

/* ---- CPL 3 ---- */

GUEST_ASM(
"	.globl xvt_user_enter\n"
"xvt_user_enter:\n"
"	pushq $0x2b\n"
"	pushq %rsi\n"
"	pushq $2\n"
"	pushq $0x33\n"
"	pushq %rdi\n"
"	iretq\n");

_Static_assert(XVT_USER_SS == 0x2b && XVT_USER_CS == 0x33,
	       "xvt_user_enter hard-codes the selectors");

#define PTE_US			(1ULL << 2)
/* Flat 4 GiB, DPL 3: data read/write; code execute/read with L = 1 */
#define DESC_USER_DATA		0x00cff3000000ffffULL
#define DESC_USER_CODE64	0x00affb000000ffffULL

static int set_us_bits(struct xvt_vm *t, uint64_t gpa, unsigned int n)
{
	uint64_t e;
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = xvcpu_vm_read(t->vm, gpa + 8 * i, &e, sizeof(e));
		if (ret < 0)
			return ret;
		if (!(e & 1))
			continue;
		e |= PTE_US;
		ret = xvcpu_vm_write(t->vm, gpa + 8 * i, &e, sizeof(e));
		if (ret < 0)
			return ret;
	}
	return 0;
}

int xvt_user_setup(struct xvt_vm *t, struct xvcpu_vcpu *vcpu)
{
	uint64_t gdt = XVT_TABLES_GPA + XVCPU_SETUP_GDT_OFFSET;
	uint64_t desc[2] = { DESC_USER_DATA, DESC_USER_CODE64 };
	struct xvcpu_sregs sregs;
	int ret;

	ret = xvcpu_get_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	if (!(sregs.efer & EFER_LMA) || sregs.gdt.base != gdt)
		return -EINVAL;
	ret = xvcpu_vm_write(t->vm, gdt + (XVT_USER_SS & ~7), desc,
			     sizeof(desc));
	if (ret < 0)
		return ret;
	sregs.gdt.limit = (XVT_USER_CS & ~7) + 7;
	ret = xvcpu_set_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	ret = set_us_bits(t, XVT_TABLES_GPA + XVCPU_SETUP_PML4_OFFSET, 512);
	if (!ret)
		ret = set_us_bits(t, XVT_TABLES_GPA + XVCPU_SETUP_PDPT_OFFSET,
				  512);
	if (!ret)
		ret = set_us_bits(t, XVT_TABLES_GPA + XVCPU_SETUP_PD_OFFSET,
				  4 * 512);
	return ret;
}
