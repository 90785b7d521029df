// SPDX-License-Identifier: GPL-2.0
/*
 * Exceptions xvcpu intercepts for the host's sake and gives back to the
 * guest when they are the guest's own.  #AC: intercepted because on a
 * host with split-lock detection it may be the host's; an alignment
 * check the guest enabled itself (CPL 3, CR0.AM, RFLAGS.AC; SDM Vol. 3A,
 * "Interrupt 17—Alignment Check Exception (#AC)") reaches the guest's
 * handler exactly as without VMX.  #MC is intercepted too, for the host's
 * machine-check handler; no emulated CPU raises one, so that decision is
 * unit-tested (selftests/unit/hostpolicy_test.c).
 */
#include <sys/ioctl.h>

#include "harness.h"
#include "idt.h"

/* A misaligned 4-byte load at CPL 3 with CR0.AM set; RFLAGS.AC as RDX */
uint8_t ac_buf[16] __attribute__((aligned(16)));

GUEST_ASM(
"code_ac_cpl3:\n"
"	mov %cr0, %rax\n"
"	bts $18, %rax\n"			/* CR0.AM */
"	mov %rax, %cr0\n"
"	lea code_ac_user(%rip), %rdi\n"
"	jmp xvt_user_enter\n"
"code_ac_user:\n"
"	test %rdx, %rdx\n"
"	jz 1f\n"
"	pushf\n"
"	orl $0x40000, (%rsp)\n"		/* RFLAGS.AC */
"	popf\n"
"1:	lea ac_buf+1(%rip), %rax\n"
"code_ac_at:\n"
"	movl (%rax), %ecx\n"
"code_ac_end:\n"
"	mov $0x79, %eax\n"
"	vmcall\n"
"	jmp code_ac_end\n");
extern char code_ac_cpl3[], code_ac_at[], code_ac_end[];

/* The same load at CPL 0 with CR0.AM and RFLAGS.AC: no alignment check */
GUEST_ASM(
"code_ac_cpl0:\n"
"	mov %cr0, %rax\n"
"	bts $18, %rax\n"
"	mov %rax, %cr0\n"
"	pushf\n"
"	orl $0x40000, (%rsp)\n"
"	popf\n"
"	lea ac_buf+1(%rip), %rax\n"
"	movl (%rax), %ecx\n"
"	hlt\n");
extern char code_ac_cpl0[];

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

/* Run code_ac_cpl3 with RFLAGS.AC = @ac; returns how many events it took */
static unsigned int run_ac_cpl3(struct __test_metadata *_metadata,
				FIXTURE_DATA(vm) *self, bool ac)
{
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvt_user_setup(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	xvt_idt_set_resume(self->t, addr(code_ac_end));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_ac_cpl3, 0,
				    XVT_STACK_TOP - 0x2000));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rdx = ac;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HYPERCALL);
	EXPECT_EQ(0x79, self->run->hypercall.nr);
	EXPECT_EQ(3, self->run->hypercall.cpl);
	return xvt_idt_total(self->t);
}

/* The guest's own #AC reaches its handler: vector 17, error code 0 */
TEST_F(vm, guest_alignment_check_is_the_guests)
{
	struct xvt_idt_event *e;

	ASSERT_EQ(1, run_ac_cpl3(_metadata, self, true));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(17, e->vector);
	EXPECT_EQ(0, e->error_code);
	EXPECT_EQ(addr(code_ac_at), e->rip);
	EXPECT_EQ(XVT_USER_CS, e->cs);
}

/* Without RFLAGS.AC the same load is no exception at all */
TEST_F(vm, no_alignment_check_without_rflags_ac)
{
	EXPECT_EQ(0, run_ac_cpl3(_metadata, self, false));
}

/* Nor at CPL 0 */
TEST_F(vm, no_alignment_check_at_cpl0)
{
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_ac_cpl0, 0, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(0, xvt_idt_total(self->t));
}

TEST_HARNESS_MAIN
