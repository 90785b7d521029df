// SPDX-License-Identifier: GPL-2.0
/*
 * Debugging: XVCPU_SET_GUEST_DEBUG (single-step with the monitor trap
 * flag, #BP and #DB intercepted as XVCPU_EXIT_DEBUG), and the guest's own
 * debugging: RFLAGS.TF, MOV to and from the debug registers, a data
 * breakpoint (SDM Vol. 3A chapter 18).
 *
 * Guest code is assembly so that every instruction boundary is known;
 * the guest's exception handlers are the recording IDT of lib/idt.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "harness.h"
#include "idt.h"

#define RFLAGS_TF	(1ULL << 8)
#define DR6_B0		(1ULL << 0)
#define DR6_BS		(1ULL << 14)
#define DR6_FIXED_1	0xffff0ff0ULL	/* bits 4-11 and 16-31 (Bochs: no RTM, no BLD) */
#define DR7_FIXED_1	0x400ULL	/* bit 10 */

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

static int set_debug(struct xvcpu_vcpu *vcpu, uint32_t flags)
{
	struct xvcpu_guest_debug dbg = { .flags = flags };

	return ioctl(vcpu->fd, XVCPU_SET_GUEST_DEBUG, &dbg) ? -errno : 0;
}

static uint64_t rip_of(struct __test_metadata *_metadata,
		       struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_regs regs;

	EXPECT_EQ(0, xvcpu_get_regs(vcpu, &regs));
	return regs.rip;
}

#define ASSERT_RUN_PORT(vcpu, p) do {					\
	char __pb[512];							\
	ASSERT_RUN_EXIT((vcpu), XVCPU_EXIT_IO);				\
	ASSERT_EQ((p), (vcpu)->run->io.port)				\
		TH_LOG("%s", xvt_exit_str((vcpu), __pb, sizeof(__pb)));	\
} while (0)

/* Run: an XVCPU_EXIT_DEBUG for @exc with RIP (and pc) at @rip */
#define ASSERT_RUN_DEBUG(vcpu, exc, rip) do {				\
	struct xvcpu_run *__r = (vcpu)->run;				\
	ASSERT_RUN_EXIT((vcpu), XVCPU_EXIT_DEBUG);			\
	EXPECT_EQ((uint32_t)(exc), __r->debug.exception);		\
	EXPECT_EQ((uint64_t)(rip), rip_of(_metadata, (vcpu)));		\
	EXPECT_EQ((uint64_t)(rip), __r->debug.pc)			\
		TH_LOG("dr6 %#llx dr7 %#llx",				\
		       (unsigned long long)__r->debug.dr6,		\
		       (unsigned long long)__r->debug.dr7);		\
} while (0)

/* ---- Guest code ---- */

/* Instructions of several lengths; a label at every boundary */
GUEST_ASM(
"code_step:\n"
"	nop\n"
"code_step_1:\n"
"	mov $1, %eax\n"
"code_step_2:\n"
"	add %eax, %ebx\n"
"code_step_3:\n"
"	lea 8(%rsp), %rcx\n"
"code_step_4:\n"
"	jmp code_step_5\n"
"	ud2\n"
"code_step_5:\n"
"	movabs $0x1122334455667788, %rdx\n"
"code_step_6:\n"
"	hlt\n"
"code_step_7:\n"
"	hlt\n");
extern char code_step[], code_step_1[], code_step_2[], code_step_3[],
	code_step_4[], code_step_5[], code_step_6[], code_step_7[];

GUEST_ASM(
"code_bp:\n"
"	nop\n"
"code_bp_at:\n"
"	int3\n"
"code_bp_after:\n"
"	outb %al, $0x80\n"
"	hlt\n");
extern char code_bp[], code_bp_at[], code_bp_after[];

/*
 * RFLAGS.TF from POPF: the first trap comes after the instruction that
 * follows the POPF, the last after the POPF that clears TF (SDM Vol. 3A
 * 18.3.1.4).
 */
GUEST_ASM(
"code_tf:\n"
"	pushfq\n"
"	orq $0x100, (%rsp)\n"
"	popfq\n"
"	nop\n"
"code_tf_1:\n"
"	nop\n"
"code_tf_2:\n"
"	pushfq\n"
"code_tf_3:\n"
"	andq $~0x100, (%rsp)\n"
"code_tf_4:\n"
"	popfq\n"
"code_tf_5:\n"
"	outb %al, $0x80\n"
"	hlt\n");
extern char code_tf[], code_tf_1[], code_tf_2[], code_tf_3[], code_tf_4[],
	code_tf_5[];

/*
 * TF over an instruction the kernel completes (CPUID): its trap comes
 * after it as after any other.
 */
GUEST_ASM(
"code_tf_cpuid:\n"
"	xor %eax, %eax\n"
"	pushfq\n"
"	orq $0x100, (%rsp)\n"
"	popfq\n"
"	cpuid\n"
"code_tf_cpuid_1:\n"
"	pushfq\n"
"code_tf_cpuid_2:\n"
"	andq $~0x100, (%rsp)\n"
"code_tf_cpuid_3:\n"
"	popfq\n"
"code_tf_cpuid_4:\n"
"	outb %al, $0x80\n"
"	hlt\n");
extern char code_tf_cpuid[], code_tf_cpuid_1[], code_tf_cpuid_2[],
	code_tf_cpuid_3[], code_tf_cpuid_4[];

GUEST_ASM(
"code_nops:\n"
"	nop\n"
"	nop\n"
"	outb %al, $0x80\n"
"	hlt\n");
extern char code_nops[];

/* MOV to and from every debug register; what was read goes to dr_seen */
uint64_t dr_seen[12];

GUEST_ASM(
"code_dr:\n"
"	movabs $0xffffffff81000000, %rax\n"
"	mov %rax, %dr0\n"
"	mov $0x1000, %eax\n"
"	mov %rax, %dr1\n"
"	movabs $0x00007fffdead0008, %rax\n"
"	mov %rax, %dr2\n"
"	mov $0x12345678, %eax\n"
"	mov %rax, %dr3\n"
"	mov %dr6, %rax\n"
"	mov %rax, dr_seen+32(%rip)\n"
"	mov %dr7, %rax\n"
"	mov %rax, dr_seen+40(%rip)\n"
"	outb %al, $0x80\n"		/* an exit to userspace in between */
"	mov %dr0, %rax\n"
"	mov %rax, dr_seen+0(%rip)\n"
"	mov %dr1, %rax\n"
"	mov %rax, dr_seen+8(%rip)\n"
"	mov %dr2, %rax\n"
"	mov %rax, dr_seen+16(%rip)\n"
"	mov %dr3, %rbx\n"		/* another register */
"	mov %rbx, dr_seen+24(%rip)\n"
"	xor %eax, %eax\n"
"	mov %rax, %dr6\n"
"	mov %dr6, %rax\n"
"	mov %rax, dr_seen+48(%rip)\n"
"	mov $0xe00f, %eax\n"
"	mov %rax, %dr6\n"
"	mov %dr6, %r13\n"		/* and an extended one */
"	mov %r13, dr_seen+56(%rip)\n"
"	xor %eax, %eax\n"
"	mov %rax, %dr7\n"
"	mov %dr7, %rax\n"
"	mov %rax, dr_seen+64(%rip)\n"
"	mov $0x300, %eax\n"		/* LE, GE: no breakpoint enabled */
"	mov %rax, %dr7\n"
"	mov %dr7, %rax\n"
"	mov %rax, dr_seen+72(%rip)\n"
"	xor %eax, %eax\n"
"	mov %rax, %dr7\n"
"	mov %rax, %dr6\n"
"	hlt\n");
extern char code_dr[];

/* MOV to DR6 or DR7 with bits 63:32 set: #GP(0) */
GUEST_ASM(
"code_dr7_high:\n"
"	movabs $0x100000400, %rax\n"
"code_dr7_high_at:\n"
"	mov %rax, %dr7\n"
"code_dr7_high_end:\n"
"	mov %dr7, %rax\n"
"	hlt\n"
"code_dr6_high:\n"
"	movabs $0x80000000ffff0ff0, %rax\n"
"code_dr6_high_at:\n"
"	mov %rax, %dr6\n"
"code_dr6_high_end:\n"
"	mov %dr6, %rax\n"
"	hlt\n");
extern char code_dr7_high[], code_dr7_high_at[], code_dr7_high_end[],
	code_dr6_high[], code_dr6_high_at[], code_dr6_high_end[];

/* A data breakpoint on dr_target: DR0, DR7 = L0 | R/W0 = write | LEN0 = 8 */
uint64_t dr_target;
#define DR7_WRITE_BP	0xd0001ULL

GUEST_ASM(
"code_hwbp:\n"
"	lea dr_target(%rip), %rax\n"
"	mov %rax, %dr0\n"
"	mov $0xd0001, %eax\n"
"	mov %rax, %dr7\n"
"	movq $1, dr_target(%rip)\n"
"code_hwbp_after:\n"
"	xor %eax, %eax\n"
"	mov %rax, %dr7\n"
"	outb %al, $0x80\n"
"	hlt\n");
extern char code_hwbp[], code_hwbp_after[];

/* At CPL 3 (lib/idt.h): MOV from DR7, then VMCALL back to the host */
GUEST_ASM(
"code_user_dr:\n"
"	mov %dr7, %rax\n"
"code_user_dr_end:\n"
"	mov $0x77, %eax\n"
"	vmcall\n"
"	jmp code_user_dr_end\n");
extern char code_user_dr[], code_user_dr_end[];

/*
 * DR4 and DR5 are DR6 and DR7 while CR4.DE = 0, and #UD with CR4.DE = 1
 * (SDM Vol. 3B 19.2.2).  RBX: DR4 read, RDX: DR5 read with CR4.DE = 0.
 */
GUEST_ASM(
"code_dr4:\n"
"	mov %dr4, %rbx\n"
"	mov %dr5, %rdx\n"
"	mov %cr4, %rcx\n"
"	bts $3, %rcx\n"
"	mov %rcx, %cr4\n"
"code_dr4_at:\n"
"	mov %dr4, %rax\n"
"code_dr4_end:\n"
"	btr $3, %rcx\n"
"	mov %rcx, %cr4\n"
"	hlt\n");
extern char code_dr4[], code_dr4_at[], code_dr4_end[];

/* ---- Arguments ---- */

/*
 * XVCPU_CAP_GUEST_DEBUG holds the XVCPU_DEBUG_* flags that work: the
 * intercepts always, single-stepping with the monitor trap flag (Bochs has
 * it on corei7_icelake_u, not on skylake_x).
 */
static bool have_singlestep(void)
{
	return xvt_cap(XVCPU_CAP_GUEST_DEBUG) & XVCPU_DEBUG_SINGLESTEP;
}

/*
 * Bochs 2.7 sets the monitor-trap-flag bit in IA32_VMX_PROCBASED_CTLS on its
 * tigerlake and corei7_icelake_u models but never acts on the control (only
 * an injected pending-MTF event exits; MTF itself came with Bochs 2.8).  The
 * test machine says which CPU it emulates (tools/vm/boot.sh); on real
 * hardware the variable is unset and the tests run.
 */
static bool emulated_mtf_ignored(void)
{
	const char *cpu = getenv("XVCPU_BOCHS_CPU");

	return cpu && (!strcmp(cpu, "tigerlake") || !strcmp(cpu, "icelake"));
}

#define REQUIRE_SINGLESTEP() do {					\
	if (!have_singlestep())						\
		SKIP(return, "no XVCPU_DEBUG_SINGLESTEP: no monitor trap flag"); \
	if (emulated_mtf_ignored())					\
		SKIP(return, "Bochs 2.7 %s: MTF advertised but not emulated", \
		     getenv("XVCPU_BOCHS_CPU"));			\
} while (0)

TEST_F(vm, caps)
{
	int cap = xvt_cap(XVCPU_CAP_GUEST_DEBUG);

	TH_LOG("XVCPU_CAP_GUEST_DEBUG = %d", cap);
	ASSERT_LE(0, cap);
	EXPECT_EQ(XVCPU_DEBUG_INTERCEPT_BP | XVCPU_DEBUG_INTERCEPT_DB,
		  cap & ~XVCPU_DEBUG_SINGLESTEP);
	EXPECT_EQ(cap & XVCPU_DEBUG_SINGLESTEP ? 0 : -EOPNOTSUPP,
		  set_debug(self->vcpu, XVCPU_DEBUG_SINGLESTEP));
	EXPECT_EQ(0, set_debug(self->vcpu, XVCPU_DEBUG_INTERCEPT_BP |
			       XVCPU_DEBUG_INTERCEPT_DB));
	EXPECT_EQ(0, set_debug(self->vcpu, 0));
}

TEST_F(vm, set_guest_debug_arguments)
{
	struct xvcpu_guest_debug dbg;
	int fd = self->vcpu->fd;
	unsigned int i;

	EXPECT_EQ(-EINVAL, set_debug(self->vcpu, 1U << 3));
	EXPECT_EQ(-EINVAL, set_debug(self->vcpu, 1U << 31));
	EXPECT_EQ(-EINVAL, set_debug(self->vcpu, ~0U));
	memset(&dbg, 0, sizeof(dbg));
	dbg.pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(fd, XVCPU_SET_GUEST_DEBUG, &dbg));
	for (i = 0; i < 3; i++) {
		memset(&dbg, 0, sizeof(dbg));
		dbg.flags = XVCPU_DEBUG_SINGLESTEP;
		dbg.reserved[i] = 1;
		ASSERT_ERRNO(EINVAL, ioctl(fd, XVCPU_SET_GUEST_DEBUG, &dbg));
	}
	ASSERT_ERRNO(EFAULT, ioctl(fd, XVCPU_SET_GUEST_DEBUG, NULL));
	EXPECT_EQ(0, set_debug(self->vcpu,
			       (have_singlestep() ? XVCPU_DEBUG_SINGLESTEP : 0) |
			       XVCPU_DEBUG_INTERCEPT_BP |
			       XVCPU_DEBUG_INTERCEPT_DB));
	EXPECT_EQ(0, set_debug(self->vcpu, 0));

	/* Refused ones changed nothing: the guest runs to its HLT */
	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_step_6)));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
}

/* ---- Single-step ---- */

TEST_F(vm, singlestep_instruction_boundaries)
{
	const char *const next[] = {
		code_step_1, code_step_2, code_step_3, code_step_4,
		code_step_5, code_step_6,
	};
	struct xvcpu_run *run = self->run;
	struct xvcpu_regs regs;
	unsigned int i;

	REQUIRE_SINGLESTEP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_step, 0, 0));
	ASSERT_EQ(0, set_debug(self->vcpu, XVCPU_DEBUG_SINGLESTEP));
	for (i = 0; i < ARRAY_SIZE(next); i++) {
		ASSERT_RUN_DEBUG(self->vcpu, 1, addr(next[i]));
		EXPECT_TRUE(run->debug.dr6 & DR6_BS)
			TH_LOG("step %u: dr6 %#llx", i,
			       (unsigned long long)run->debug.dr6);
	}
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(1, regs.rax);
	EXPECT_EQ(0x1122334455667788ULL, regs.rdx);
	EXPECT_EQ(regs.rsp + 8, regs.rcx);

	ASSERT_EQ(0, set_debug(self->vcpu, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(addr(code_step_7), rip_of(_metadata, self->vcpu));
}

/* pc is CS.base + RIP: real mode, CS.base = 0x10000 */
static const uint8_t real_step[] = {
	0x90,			/* 0 nop */
	0xb8, 0x01, 0x00,	/* 1 mov ax, 1 */
	0x01, 0xc3,		/* 4 add bx, ax */
	0xeb, 0x01,		/* 6 jmp 9 */
	0x90,			/* 8 nop */
	0xf4,			/* 9 hlt */
};

TEST_F(vm, singlestep_real_mode_pc)
{
	static const uint16_t ips[] = { 1, 4, 6, 9 };
	const uint64_t base = XVT_SCRATCH_GPA;
	struct xvcpu_run *run = self->run;
	unsigned int i;

	REQUIRE_SINGLESTEP();
	memcpy(xvt_hva(self->t, base), real_step, sizeof(real_step));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_REAL, base,
					   base + 0x8000, XVT_TABLES_GPA));
	ASSERT_EQ(0, set_debug(self->vcpu, XVCPU_DEBUG_SINGLESTEP));
	for (i = 0; i < ARRAY_SIZE(ips); i++) {
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_DEBUG);
		EXPECT_EQ(1, run->debug.exception);
		EXPECT_TRUE(run->debug.dr6 & DR6_BS);
		EXPECT_EQ(ips[i], rip_of(_metadata, self->vcpu));
		EXPECT_EQ(base + ips[i], run->debug.pc);
	}
	ASSERT_EQ(0, set_debug(self->vcpu, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(10, rip_of(_metadata, self->vcpu));
}

/* ---- #BP ---- */

TEST_F(vm, int3_reaches_guest_handler_without_intercept)
{
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_bp, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_EQ(3, xvt_idt_event(self->t, 0)->vector);
	EXPECT_EQ(addr(code_bp_after), xvt_idt_event(self->t, 0)->rip);
}

TEST_F(vm, intercept_bp_then_reinject)
{
	struct xvcpu_events ev;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, set_debug(self->vcpu, XVCPU_DEBUG_INTERCEPT_BP));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_bp, 0, 0));
	ASSERT_RUN_DEBUG(self->vcpu, 3, addr(code_bp_at));
	EXPECT_EQ(0, xvt_idt_total(self->t));

	/* The guest should see it after all: re-inject INT3 */
	memset(&ev, 0, sizeof(ev));
	ev.injected.valid = 1;
	ev.injected.type = XVCPU_EVENT_SOFT_EXCEPTION;
	ev.injected.vector = 3;
	ev.injected.instruction_len = 1;
	ASSERT_EQ(0, ioctl(self->vcpu->fd, XVCPU_SET_EVENTS, &ev));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_EQ(3, xvt_idt_event(self->t, 0)->vector);
	EXPECT_EQ(addr(code_bp_after), xvt_idt_event(self->t, 0)->rip);

	/* Each INT3 exits again while the intercept is on */
	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_bp)));
	ASSERT_RUN_DEBUG(self->vcpu, 3, addr(code_bp_at));
	/* Skipped by the VMM instead */
	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_bp_after)));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(1, xvt_idt_total(self->t));
	ASSERT_EQ(0, set_debug(self->vcpu, 0));
	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_bp)));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(2, xvt_idt_total(self->t));
}

/* ---- #DB ---- */

static const char *const tf_traps[] = {
	code_tf_1, code_tf_2, code_tf_3, code_tf_4, code_tf_5,
};

TEST_F(vm, intercept_db_single_step_trap)
{
	struct xvcpu_run *run = self->run;
	unsigned int i;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, set_debug(self->vcpu, XVCPU_DEBUG_INTERCEPT_DB));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_tf, 0, 0));
	for (i = 0; i < ARRAY_SIZE(tf_traps); i++) {
		ASSERT_RUN_DEBUG(self->vcpu, 1, addr(tf_traps[i]));
		EXPECT_TRUE(run->debug.dr6 & DR6_BS)
			TH_LOG("trap %u: dr6 %#llx", i,
			       (unsigned long long)run->debug.dr6);
	}
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(0, xvt_idt_total(self->t));
}

/*
 * Run guest @code, which sets TF and clears it again with its last POPF,
 * to its OUT: the guest's handler took a single-step #DB at each of the
 * @n addresses @traps, in order.
 */
static void expect_single_steps(struct __test_metadata *_metadata,
				FIXTURE_DATA(vm) *self, const void *code,
				const char *const *traps, unsigned int n)
{
	unsigned int i;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(n, xvt_idt_total(self->t));
	for (i = 0; i < n; i++) {
		struct xvt_idt_event *e = xvt_idt_event(self->t, i);

		EXPECT_EQ(1, e->vector);
		EXPECT_EQ(addr(traps[i]), e->rip) TH_LOG("trap %u", i);
		/* TF was set, but for the trap after the POPF clearing it */
		EXPECT_EQ(i + 1 < n, !!(e->rflags & RFLAGS_TF))
			TH_LOG("trap %u: RFLAGS %#llx", i,
			       (unsigned long long)e->rflags);
		/* what the guest's MOV from DR6 read in its handler */
		EXPECT_TRUE(e->dr6 & DR6_BS)
			TH_LOG("trap %u: DR6 %#llx", i,
			       (unsigned long long)e->dr6);
		EXPECT_EQ(DR6_FIXED_1, e->dr6 & DR6_FIXED_1);
	}
}

TEST_F(vm, guest_single_step_reaches_guest_handler)
{
	expect_single_steps(_metadata, self, code_tf, tf_traps,
			    ARRAY_SIZE(tf_traps));
}

TEST_F(vm, single_step_over_kernel_exit)
{
	static const char *const traps[] = {
		code_tf_cpuid_1, code_tf_cpuid_2, code_tf_cpuid_3,
		code_tf_cpuid_4,
	};

	expect_single_steps(_metadata, self, code_tf_cpuid, traps,
			    ARRAY_SIZE(traps));
}

/* A #DB left pending in XVCPU_SET_EVENTS is the guest's on entry */
TEST_F(vm, pending_debug_delivered_on_entry)
{
	struct xvcpu_events ev;
	struct xvt_idt_event *e;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_nops, 0, 0));
	memset(&ev, 0, sizeof(ev));
	ev.pending_debug = XVCPU_PENDING_DBG_ENABLED_BP | 2;	/* B1 */
	ASSERT_EQ(0, xvcpu_set_events(self->vcpu, &ev));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(1, e->vector);
	EXPECT_EQ(addr(code_nops), e->rip);
	EXPECT_TRUE(e->dr6 & 2) TH_LOG("DR6 %#llx", (unsigned long long)e->dr6);
	ASSERT_EQ(0, xvcpu_get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.pending_debug);
}

/* ---- The debug registers ---- */

TEST_F(vm, mov_dr_round_trip)
{
	static const uint64_t want[] = {
		0xffffffff81000000ULL, 0x1000, 0x00007fffdead0008ULL,
		0x12345678, DR6_FIXED_1, DR7_FIXED_1, DR6_FIXED_1,
		DR6_FIXED_1 | 0xe00f, DR7_FIXED_1, DR7_FIXED_1 | 0x300,
	};
	static const char *const what[] = {
		"DR0", "DR1", "DR2", "DR3", "DR6 after reset",
		"DR7 after reset", "DR6 = 0", "DR6 = 0xe00f", "DR7 = 0",
		"DR7 = 0x300",
	};
	unsigned int i;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_dr, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(0, xvt_idt_total(self->t));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		EXPECT_EQ(want[i], GUEST_VAR(self->t, dr_seen)[i])
			TH_LOG("%s", what[i]);
	}
}

static void expect_mov_dr_gp(struct __test_metadata *_metadata,
			     struct xvt_vm *t, struct xvcpu_vcpu *vcpu,
			     const char *entry, const char *at,
			     const char *end, uint64_t fixed)
{
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvt_idt_install(t, vcpu));
	xvt_idt_set_resume(t, addr(end));
	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, entry, 0, 0));
	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_HLT);
	ASSERT_EQ(1, xvt_idt_total(t));
	EXPECT_EQ(13, xvt_idt_event(t, 0)->vector);
	EXPECT_EQ(0, xvt_idt_event(t, 0)->error_code);
	EXPECT_EQ(addr(at), xvt_idt_event(t, 0)->rip);
	/* and the register kept its value */
	ASSERT_EQ(0, xvcpu_get_regs(vcpu, &regs));
	EXPECT_EQ(fixed, regs.rax);
}

TEST_F(vm, mov_to_dr7_high_bits_gp)
{
	expect_mov_dr_gp(_metadata, self->t, self->vcpu, code_dr7_high,
			 code_dr7_high_at, code_dr7_high_end, DR7_FIXED_1);
}

TEST_F(vm, mov_to_dr6_high_bits_gp)
{
	expect_mov_dr_gp(_metadata, self->t, self->vcpu, code_dr6_high,
			 code_dr6_high_at, code_dr6_high_end, DR6_FIXED_1);
}

/*
 * The guest's DR0 and DR7 are in the processor while it runs: a write
 * to dr_target is a #DB (a trap: RIP after the MOV) with DR6.B0.
 */
TEST_F(vm, guest_data_breakpoint)
{
	struct xvt_idt_event *e;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_hwbp, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(1, e->vector);
	EXPECT_EQ(addr(code_hwbp_after), e->rip);
	EXPECT_TRUE(e->dr6 & DR6_B0) TH_LOG("DR6 %#llx",
					    (unsigned long long)e->dr6);
	EXPECT_EQ(1, GUEST_VAR(self->t, dr_target));
}

/* ... and with #DB intercepted, the VMM sees it with the guest's DR7 */
TEST_F(vm, intercept_db_data_breakpoint)
{
	struct xvcpu_run *run = self->run;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, set_debug(self->vcpu, XVCPU_DEBUG_INTERCEPT_DB));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_hwbp, 0, 0));
	ASSERT_RUN_DEBUG(self->vcpu, 1, addr(code_hwbp_after));
	EXPECT_TRUE(run->debug.dr6 & DR6_B0);
	EXPECT_EQ(DR7_WRITE_BP | DR7_FIXED_1, run->debug.dr7);
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(0, xvt_idt_total(self->t));
}

/* MOV DR at CPL 3 is #GP(0) (SDM Vol. 3B 19.2; checked before the exit) */
TEST_F(vm, mov_dr_at_cpl3_gp)
{
	struct xvt_idt_event *e;

	ASSERT_EQ(0, xvt_user_setup(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	xvt_idt_set_resume(self->t, addr(code_user_dr_end));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, xvt_user_enter,
				    addr(code_user_dr), XVT_STACK_TOP - 0x2000));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HYPERCALL);
	EXPECT_EQ(0x77, self->run->hypercall.nr);
	EXPECT_EQ(3, self->run->hypercall.cpl);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(13, e->vector);
	EXPECT_EQ(0, e->error_code);
	EXPECT_EQ(addr(code_user_dr), e->rip);
	EXPECT_EQ(XVT_USER_CS, e->cs);
}

TEST_F(vm, dr4_dr5_alias_or_ud)
{
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	xvt_idt_set_resume(self->t, addr(code_dr4_end));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_dr4, 0, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(DR6_FIXED_1, regs.rbx);
	EXPECT_EQ(DR7_FIXED_1, regs.rdx);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_EQ(6, xvt_idt_event(self->t, 0)->vector);
	EXPECT_EQ(addr(code_dr4_at), xvt_idt_event(self->t, 0)->rip);
}

TEST_HARNESS_MAIN
