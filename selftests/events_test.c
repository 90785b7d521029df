// SPDX-License-Identifier: GPL-2.0
/*
 * Events: XVCPU_INTERRUPT, XVCPU_NMI, XVCPU_GET_EVENTS/SET_EVENTS, the
 * interrupt-window fields of the run page, and events whose delivery a
 * VM exit interrupts (IDT-vectoring information, SDM Vol. 3C 28.2.4).
 *
 * The guest has the recording IDT of lib/idt.h: each test checks what
 * the guest's own handlers saw (vector, error code, return RIP), not only
 * what the ioctls say.  Guest code is assembly so that every RIP is known.
 */
#include <sys/ioctl.h>

#include "harness.h"
#include "idt.h"

#define RFLAGS_TF	(1ULL << 8)
#define RFLAGS_IF	(1ULL << 9)
#define CR0_PE		(1ULL << 0)

#define MSR_VMX_BASIC	0x480
#define MSR_UNKNOWN	0x4b564d99

/* Slots and guest-physical places the tests add (XVT_FREE_GPA up) */
#define SLOT_A		1
#define SLOT_B		2
#define GPA_A		XVT_FREE_GPA
#define GPA_B		(XVT_FREE_GPA + 0x400000)
#define SIZE_2M		0x200000ULL

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

static int get_events(struct xvcpu_vcpu *vcpu, struct xvcpu_events *ev)
{
	/* Garbage first: the kernel must write every byte, pads included */
	memset(ev, 0xa5, sizeof(*ev));
	return ioctl(vcpu->fd, XVCPU_GET_EVENTS, ev) ? -errno : 0;
}

static int set_events(struct xvcpu_vcpu *vcpu, const struct xvcpu_events *ev)
{
	return ioctl(vcpu->fd, XVCPU_SET_EVENTS, ev) ? -errno : 0;
}

static int queue_irq(struct xvcpu_vcpu *vcpu, uint32_t vector)
{
	struct xvcpu_interrupt irq = { .vector = vector };

	return ioctl(vcpu->fd, XVCPU_INTERRUPT, &irq) ? -errno : 0;
}

static int queue_nmi(struct xvcpu_vcpu *vcpu)
{
	return ioctl(vcpu->fd, XVCPU_NMI, 0) ? -errno : 0;
}

static void exception(struct xvcpu_events *ev, uint8_t vector,
		      bool has_error_code, uint32_t error_code)
{
	memset(ev, 0, sizeof(*ev));
	ev->injected.valid = 1;
	ev->injected.type = XVCPU_EVENT_EXCEPTION;
	ev->injected.vector = vector;
	ev->injected.has_error_code = has_error_code;
	ev->injected.error_code = error_code;
}

static uint64_t rip_of(struct __test_metadata *_metadata,
		       struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_regs regs;

	EXPECT_EQ(0, xvcpu_get_regs(vcpu, &regs));
	return regs.rip;
}

static void set_rflags(struct __test_metadata *_metadata,
		       struct xvcpu_vcpu *vcpu, uint64_t rflags)
{
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvcpu_get_regs(vcpu, &regs));
	regs.rflags = rflags;
	ASSERT_EQ(0, xvcpu_set_regs(vcpu, &regs));
}

/* Run: the guest must do an OUT to @port. */
#define ASSERT_RUN_PORT(vcpu, p) do {					\
	char __pb[512];							\
	ASSERT_RUN_EXIT((vcpu), XVCPU_EXIT_IO);				\
	ASSERT_EQ((p), (vcpu)->run->io.port)				\
		TH_LOG("%s", xvt_exit_str((vcpu), __pb, sizeof(__pb)));	\
} while (0)

/* The log entry @i of the guest is @vector, returning to @rip. */
#define EXPECT_DELIVERY(t, i, vec, ret_rip) do {			\
	struct xvt_idt_event *__e = xvt_idt_event((t), (i));		\
	EXPECT_EQ((uint64_t)(vec), __e->vector)				\
		TH_LOG("delivery %u", (unsigned int)(i));		\
	EXPECT_EQ((uint64_t)(ret_rip), __e->rip)			\
		TH_LOG("delivery %u (vector %llu)", (unsigned int)(i),	\
		       (unsigned long long)__e->vector);		\
	EXPECT_EQ(XVCPU_SETUP_SEL_CODE, __e->cs);			\
} while (0)

#define IDT_SETUP() \
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu))

/* ---- Guest code ---- */

/* Entered with RFLAGS.IF = 0; the interrupt comes after STI; NOP. */
GUEST_ASM(
"code_if0:\n"
"	outb %al, $0x80\n"
"code_if0_a:\n"
"	outb %al, $0x81\n"
"	sti\n"
"	nop\n"
"code_if0_open:\n"
"	outb %al, $0x82\n"
"	hlt\n");
extern char code_if0[], code_if0_a[], code_if0_open[];

/* IF = 1, one OUT per round: every exit has RIP = code_loop_jmp */
GUEST_ASM(
"code_loop:\n"
"	sti\n"
"	nop\n"
"1:	outb %al, $0x80\n"
"code_loop_jmp:\n"
"	jmp 1b\n");
extern char code_loop[], code_loop_jmp[];

/* What ready_for_interrupt_injection and if_flag say after each exit */
GUEST_ASM(
"code_ready:\n"
"	cli\n"
"	outb %al, $0x80\n"
"	sti\n"
"	nop\n"
"	outb %al, $0x81\n"
"	cli\n"
"	sti\n"
"code_ready_sti_at:\n"
"	mov (%rdi), %rax\n"
"code_ready_sti_end:\n"
"	mov %ss, %ebx\n"
"	mov %ebx, %ss\n"
"code_ready_ss_at:\n"
"	mov (%rdi), %rax\n"
"code_ready_ss_end:\n"
"	outb %al, $0x82\n"
"	cli\n"
"	outb %al, $0x83\n"
"	hlt\n");
extern char code_ready[], code_ready_sti_at[], code_ready_sti_end[],
	code_ready_ss_at[], code_ready_ss_end[];

/* request_interrupt_window: the window opens after STI; NOP */
GUEST_ASM(
"code_window:\n"
"	cli\n"
"	outb %al, $0x80\n"
"	outb %al, $0x81\n"
"	sti\n"
"	nop\n"
"code_window_open:\n"
"	nop\n"
"	nop\n"
"code_window_hlt:\n"
"	hlt\n");
extern char code_window[], code_window_open[], code_window_hlt[];

/* RDMSR of the MSR in RDI */
GUEST_ASM(
"code_rdmsr:\n"
"	mov %edi, %ecx\n"
"code_rdmsr_at:\n"
"	rdmsr\n"
"code_rdmsr_end:\n"
"	outb %al, $0x80\n"
"	hlt\n");
extern char code_rdmsr[], code_rdmsr_at[], code_rdmsr_end[];

/* 32-bit protected mode */
GUEST_ASM(
"	.code32\n"
"code32:\n"
"	outb %al, $0x80\n"
"code32_1:\n"
"	outb %al, $0x81\n"
"code32_2:\n"
"	sti\n"
"	nop\n"
"	outb %al, $0x82\n"
"code32_3:\n"
"	hlt\n"
"code32_4:\n"
"	.code64\n");
extern char code32[], code32_1[], code32_2[], code32_3[], code32_4[];

/*
 * Exceptions the guest raises itself, each followed by OUT 0x80: what
 * lib/idt.h records when the module has nothing to do with delivery.
 */
#define NATIVE_CASES(suffix)						\
"native_ud" suffix ":\n"						\
"	ud2\n"								\
"native_ud_end" suffix ":\n"						\
"	outb %al, $0x80\n"						\
"native_bp" suffix ":\n"						\
"	int3\n"								\
"native_bp_end" suffix ":\n"						\
"	outb %al, $0x80\n"						\
"native_int" suffix ":\n"						\
"	int $0x80\n"							\
"native_int_end" suffix ":\n"						\
"	outb %al, $0x80\n"						\
"native_de" suffix ":\n"						\
"	xor %edx, %edx\n"						\
"	xor %eax, %eax\n"						\
"	xor %ecx, %ecx\n"						\
"native_de_at" suffix ":\n"						\
"	div %ecx\n"							\
"native_de_end" suffix ":\n"						\
"	outb %al, $0x80\n"						\
"native_gp" suffix ":\n"						\
"	mov $0x1230, %eax\n"						\
"native_gp_at" suffix ":\n"						\
"	mov %eax, %ds\n"						\
"native_gp_end" suffix ":\n"						\
"	outb %al, $0x80\n"

GUEST_ASM(
NATIVE_CASES("")
"native_pf:\n"
"	movabs $0x100000123, %rax\n"		/* beyond the identity map */
"native_pf_at:\n"
"	mov (%rax), %rbx\n"
"native_pf_end:\n"
"	outb %al, $0x80\n"
"	.code32\n"
NATIVE_CASES("32")
"	.code64\n");

#define NATIVE_DECLS(s)							\
	extern char native_ud##s[], native_ud_end##s[], native_bp##s[],	\
		native_bp_end##s[], native_int##s[], native_int_end##s[], \
		native_de##s[], native_de_at##s[], native_de_end##s[],	\
		native_gp##s[], native_gp_at##s[], native_gp_end##s[]
NATIVE_DECLS();
NATIVE_DECLS(32);
extern char native_pf[], native_pf_at[], native_pf_end[];

struct native_case {
	const char *entry, *at, *end;	/* end: where a fault resumes */
	uint8_t vector;
	uint32_t error_code;
	uint64_t cr2;
	bool fault;
};

#define NATIVE_TABLE(s)							\
	{ native_ud##s, native_ud##s, native_ud_end##s, 6, 0, 0, true },	\
	{ native_bp##s, native_bp_end##s, NULL, 3, 0, 0, false },	\
	{ native_int##s, native_int_end##s, NULL, 0x80, 0, 0, false },	\
	{ native_de##s, native_de_at##s, native_de_end##s, 0, 0, 0, true }, \
	{ native_gp##s, native_gp_at##s, native_gp_end##s, 13, 0x1230, 0, \
	  true }

static void run_native_cases(struct __test_metadata *_metadata,
			     struct xvt_vm *t, struct xvcpu_vcpu *vcpu,
			     const struct native_case *c, unsigned int n)
{
	struct xvt_idt_event *e;
	unsigned int i;

	for (i = 0; i < n; i++) {
		TH_LOG("case %u: vector %u", i, c[i].vector);
		ASSERT_EQ(0, xvt_vcpu_set_rip(vcpu, addr(c[i].entry)));
		if (c[i].fault)
			xvt_idt_set_resume(t, addr(c[i].end));
		ASSERT_RUN_PORT(vcpu, 0x80);
		ASSERT_EQ(i + 1, xvt_idt_total(t));
		EXPECT_DELIVERY(t, i, c[i].vector, addr(c[i].at));
		e = xvt_idt_event(t, i);
		EXPECT_EQ(c[i].error_code, e->error_code);
		EXPECT_EQ(c[i].cr2, e->cr2);
	}
}

TEST_F(vm, native_exceptions_64bit)
{
	static const struct native_case cases[] = {
		NATIVE_TABLE(),
		{ native_pf, native_pf_at, native_pf_end, 14, 0,
		  0x100000123, true },
	};

	IDT_SETUP();
	run_native_cases(_metadata, self->t, self->vcpu, cases,
			 ARRAY_SIZE(cases));
}

TEST_F(vm, native_exceptions_32bit)
{
	static const struct native_case cases[] = { NATIVE_TABLE(32) };

	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   addr(native_ud32),
					   XVT_STACK_TOP - 0x100,
					   XVT_TABLES_GPA));
	IDT_SETUP();
	run_native_cases(_metadata, self->t, self->vcpu, cases,
			 ARRAY_SIZE(cases));
}

/* ---- Capabilities and argument checks ---- */

TEST(caps)
{
	int nmi;

	XVT_REQUIRE_DEV();
	EXPECT_EQ(1, xvt_cap(XVCPU_CAP_EVENTS));
	nmi = xvt_cap(XVCPU_CAP_NMI);
	TH_LOG("XVCPU_CAP_NMI = %d, vmx flag vnmi: %d", nmi,
	       xvt_vmx_flag("vnmi"));
	EXPECT_TRUE(nmi == 0 || nmi == 1);
	/*
	 * CAP_NMI needs virtual NMIs and NMI-window exiting (SDM Vol. 3C
	 * 25.6.1 "Pin-Based VM-Execution Controls", 25.6.2 "Processor-Based
	 * VM-Execution Controls"). The kernel's "vnmi" flag names the first;
	 * every CPU with it known so far, Bochs' included, has the second, so
	 * the NMI tests below cannot quietly become skips. That a CPU without
	 * them gives 0 is a unit test of the computation
	 * (selftests/unit/caps_test.c).
	 */
	if (xvt_vmx_flag("vnmi") == 1)
		EXPECT_EQ(1, nmi);
}

TEST_F(vm, fresh_vcpu_has_no_events)
{
	struct xvcpu_events ev, zero;

	memset(&zero, 0, sizeof(zero));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, memcmp(&zero, &ev, sizeof(ev)));
	EXPECT_EQ(-1, ioctl(self->vcpu->fd, XVCPU_GET_EVENTS, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu->fd, XVCPU_SET_EVENTS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(vm, interrupt_arguments)
{
	struct xvcpu_interrupt irq = { .vector = 0x40, .pad = 1 };
	struct xvcpu_events ev;
	int fd = self->vcpu->fd;

	EXPECT_EQ(-EINVAL, queue_irq(self->vcpu, 256));
	EXPECT_EQ(-EINVAL, queue_irq(self->vcpu, 0xffffffff));
	ASSERT_ERRNO(EINVAL, ioctl(fd, XVCPU_INTERRUPT, &irq));
	ASSERT_ERRNO(EFAULT, ioctl(fd, XVCPU_INTERRUPT, NULL));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.interrupt_queued);

	ASSERT_EQ(0, queue_irq(self->vcpu, 0x40));
	EXPECT_EQ(-EBUSY, queue_irq(self->vcpu, 0x41));
	EXPECT_EQ(-EBUSY, queue_irq(self->vcpu, 0x40));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(1, ev.interrupt_queued);
	EXPECT_EQ(0x40, ev.interrupt_vector);

	/* SET_EVENTS takes it back; then another can be queued */
	ev.interrupt_queued = 0;
	ev.interrupt_vector = 0;
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.interrupt_queued);
	EXPECT_EQ(0, queue_irq(self->vcpu, 255));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(1, ev.interrupt_queued);
	EXPECT_EQ(255, ev.interrupt_vector);
}

/* ---- External interrupts ---- */

/*
 * Queued while RFLAGS.IF = 0: it waits (and says so in GET_EVENTS), and
 * is delivered right after STI and the instruction in its shadow.
 */
TEST_F(vm, interrupt_waits_for_sti)
{
	struct xvcpu_events ev;

	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_if0, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(0, self->run->if_flag);
	EXPECT_EQ(0, self->run->ready_for_interrupt_injection);
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x40));

	ASSERT_RUN_PORT(self->vcpu, 0x81);
	EXPECT_EQ(0, xvt_idt_total(self->t));
	EXPECT_EQ(0, self->run->if_flag);
	EXPECT_EQ(0, self->run->ready_for_interrupt_injection);
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(1, ev.interrupt_queued);
	EXPECT_EQ(0x40, ev.interrupt_vector);
	EXPECT_EQ(0, ev.injected.valid);

	ASSERT_RUN_PORT(self->vcpu, 0x82);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_EQ(1, xvt_idt_count_of(self->t, 0x40));
	EXPECT_DELIVERY(self->t, 0, 0x40, addr(code_if0_open));
	EXPECT_EQ(0, xvt_idt_event(self->t, 0)->error_code);
	EXPECT_TRUE(xvt_idt_event(self->t, 0)->rflags & RFLAGS_IF);
	EXPECT_EQ(1, self->run->if_flag);
	EXPECT_EQ(1, self->run->ready_for_interrupt_injection);
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.interrupt_queued);
	EXPECT_EQ(0, ev.injected.valid);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(1, xvt_idt_total(self->t));
}

/* With RFLAGS.IF = 1 it is delivered on the next entry, any vector. */
TEST_F(vm, interrupt_delivered_at_once)
{
	static const uint32_t vectors[] = {
		32, 33, 0x40, 0x80, 0x81, 0xfe, 0xff, 6, 31, 0,
	};
	unsigned int i;

	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	for (i = 0; i < ARRAY_SIZE(vectors); i++) {
		EXPECT_EQ(1, self->run->if_flag);
		EXPECT_EQ(1, self->run->ready_for_interrupt_injection);
		ASSERT_EQ(0, queue_irq(self->vcpu, vectors[i]))
			TH_LOG("vector %u", vectors[i]);
		ASSERT_RUN_PORT(self->vcpu, 0x80);
		ASSERT_EQ(i + 1, xvt_idt_total(self->t))
			TH_LOG("vector %u", vectors[i]);
		EXPECT_EQ(1, xvt_idt_count_of(self->t, vectors[i]));
		EXPECT_DELIVERY(self->t, i, vectors[i], addr(code_loop_jmp));
		EXPECT_EQ(0, xvt_idt_event(self->t, i)->error_code);
	}
}

/* ---- The run page: if_flag, ready_for_interrupt_injection ---- */

TEST_F(vm, ready_for_injection_and_if_flag)
{
	const uint64_t gpa = XVT_UNMAPPED_GPA + 0x80;
	struct xvcpu_run *run = self->run;
	struct xvcpu_events ev;

	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_ready, gpa, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(0, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);

	ASSERT_RUN_PORT(self->vcpu, 0x81);
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);

	/* An exit in the STI shadow (the MMIO read after STI) */
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MMIO);
	EXPECT_EQ(addr(code_ready_sti_at), rip_of(_metadata, self->vcpu));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(XVCPU_SHADOW_STI, ev.shadow);
	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_ready_sti_end)));

	/* ... and in the MOV SS shadow */
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MMIO);
	EXPECT_EQ(addr(code_ready_ss_at), rip_of(_metadata, self->vcpu));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(XVCPU_SHADOW_MOV_SS, ev.shadow);
	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_ready_ss_end)));

	ASSERT_RUN_PORT(self->vcpu, 0x82);
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);
	ASSERT_RUN_PORT(self->vcpu, 0x83);
	EXPECT_EQ(0, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(0, xvt_idt_total(self->t));
}

/* ---- request_interrupt_window ---- */

TEST_F(vm, interrupt_window_opens_after_sti_shadow)
{
	struct xvcpu_run *run = self->run;
	char buf[512];

	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_window, 0, 0));
	run->request_interrupt_window = 1;
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_RUN_PORT(self->vcpu, 0x81);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(addr(code_window_open), rip_of(_metadata, self->vcpu));
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(1, run->ready_for_interrupt_injection);

	/* Still requested, IF = 1 and nothing queued: at once again */
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(addr(code_window_open), rip_of(_metadata, self->vcpu));

	/* The VMM injects into the window it asked for */
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x50));
	run->request_interrupt_window = 0;
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(addr(code_window_hlt) + 1, rip_of(_metadata, self->vcpu))
		TH_LOG("%s", xvt_exit_str(self->vcpu, buf, sizeof(buf)));
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 0x50, addr(code_window_open));
}

/* A queued interrupt goes first; the window exit comes after it. */
TEST_F(vm, interrupt_window_after_queued_interrupt)
{
	struct xvcpu_events ev;

	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x42));
	self->run->request_interrupt_window = 1;
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(1, xvt_idt_count_of(self->t, 0x42));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.interrupt_queued);
	EXPECT_EQ(1, self->run->ready_for_interrupt_injection);
	self->run->request_interrupt_window = 0;
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(1, xvt_idt_total(self->t));
}

/* ---- Injecting exceptions with XVCPU_SET_EVENTS ---- */

FIXTURE(inject) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct xvcpu_run *run;
};

FIXTURE_VARIANT(inject) {
	uint8_t vector;
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;
};

FIXTURE_SETUP(inject)
{
	XVT_REQUIRE_DEV();
	self->t = xvt_vm_create(1);
	ASSERT_NE(NULL, self->t) TH_LOG("test VM: %s", strerror(errno));
	self->vcpu = self->t->vcpus[0];
	self->run = self->vcpu->run;
}

FIXTURE_TEARDOWN(inject)
{
	xvt_vm_destroy(self->t);
}

FIXTURE_VARIANT_ADD(inject, de) { .vector = 0 };
FIXTURE_VARIANT_ADD(inject, br) { .vector = 5 };
FIXTURE_VARIANT_ADD(inject, ud) { .vector = 6 };
FIXTURE_VARIANT_ADD(inject, nm) { .vector = 7 };
FIXTURE_VARIANT_ADD(inject, df) { .vector = 8, .has_error_code = true };
FIXTURE_VARIANT_ADD(inject, ts) {
	.vector = 10, .has_error_code = true, .error_code = 0x18,
};
FIXTURE_VARIANT_ADD(inject, np) {
	.vector = 11, .has_error_code = true, .error_code = 0x23,
};
FIXTURE_VARIANT_ADD(inject, ss) {
	.vector = 12, .has_error_code = true, .error_code = 0x10,
};
FIXTURE_VARIANT_ADD(inject, gp) {
	.vector = 13, .has_error_code = true, .error_code = 0x1234,
};
FIXTURE_VARIANT_ADD(inject, pf) {
	.vector = 14, .has_error_code = true, .error_code = 0x6,
	.cr2 = 0xdead0123,
};
FIXTURE_VARIANT_ADD(inject, mf) { .vector = 16 };
FIXTURE_VARIANT_ADD(inject, ac) { .vector = 17, .has_error_code = true };
FIXTURE_VARIANT_ADD(inject, xm) { .vector = 19 };

TEST_F(inject, exception_reaches_guest_handler)
{
	struct xvcpu_events ev, got;
	struct xvcpu_sregs sregs;
	struct xvt_idt_event *e;

	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	if (variant->cr2) {
		ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
		sregs.cr2 = variant->cr2;
		ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	}
	exception(&ev, variant->vector, variant->has_error_code,
		  variant->error_code);
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	ASSERT_EQ(0, get_events(self->vcpu, &got));
	EXPECT_EQ(0, memcmp(&ev, &got, sizeof(ev)));

	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_EQ(1, xvt_idt_count_of(self->t, variant->vector));
	EXPECT_DELIVERY(self->t, 0, variant->vector, addr(code_loop_jmp));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(variant->error_code, e->error_code);
	if (variant->cr2) {
		EXPECT_EQ(variant->cr2, e->cr2);
	}
	ASSERT_EQ(0, get_events(self->vcpu, &got));
	EXPECT_EQ(0, got.injected.valid);

	/* Once only */
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(1, xvt_idt_total(self->t));
}

/*
 * 32-bit protected mode: the error code is pushed (as a doubleword), an
 * exception without one pushes none, and interrupts are delivered too.
 */
TEST_F(vm, protected_mode_delivery)
{
	struct xvcpu_events ev;
	struct xvt_idt_event *e;

	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   addr(code32), XVT_STACK_TOP - 0x100,
					   XVT_TABLES_GPA));
	IDT_SETUP();
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	exception(&ev, 13, true, 0x1234);
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	ASSERT_RUN_PORT(self->vcpu, 0x81);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 13, addr(code32_1));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(0x1234, e->error_code);
	/* The frame was right on top of the interrupted stack */
	EXPECT_EQ(XVT_STACK_TOP - 0x100, e->rsp);

	exception(&ev, 6, false, 0);
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	ASSERT_RUN_PORT(self->vcpu, 0x82);
	ASSERT_EQ(2, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 1, 6, addr(code32_2));
	EXPECT_EQ(XVT_STACK_TOP - 0x100, xvt_idt_event(self->t, 1)->rsp);

	EXPECT_EQ(1, self->run->if_flag);
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x40));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(addr(code32_4), rip_of(_metadata, self->vcpu));
	ASSERT_EQ(3, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 2, 0x40, addr(code32_3));
}

/*
 * Real mode: the interrupt vector table at 0, a frame of FLAGS, CS and IP
 * and never an error code (XVCPU_EVENT's error code is pushed only with
 * CR0.PE = 1).
 */
#define REAL_BASE	XVT_SCRATCH_GPA
#define REAL_SP		0x8000

static const uint8_t real_code[] = {
	0xfb,			/* 0x00 sti */
	0x90,			/* 0x01 nop */
	0xe6, 0x80,		/* 0x02 out 0x80, al */
	0xe6, 0x81,		/* 0x04 out 0x81, al */
	0xe6, 0x82,		/* 0x06 out 0x82, al */
	0xf4,			/* 0x08 hlt */
};

static const uint8_t real_handler[] = {
	0xe6, 0x90,		/* out 0x90, al */
	0xcf,			/* iret */
};

#define REAL_HANDLER	0x100

static void expect_real_frame(struct __test_metadata *_metadata,
			      struct xvt_vm *t, struct xvcpu_vcpu *vcpu,
			      uint16_t ip)
{
	struct xvcpu_regs regs;
	uint16_t *frame;

	ASSERT_RUN_PORT(vcpu, 0x90);
	ASSERT_EQ(0, xvcpu_get_regs(vcpu, &regs));
	EXPECT_EQ(REAL_HANDLER + 2, regs.rip);
	/* Three words: IP, CS, FLAGS; an error code would make it four */
	ASSERT_EQ(REAL_SP - 6, regs.rsp & 0xffff);
	frame = xvt_hva(t, REAL_BASE + REAL_SP - 6);
	EXPECT_EQ(ip, frame[0]);
	EXPECT_EQ(REAL_BASE >> 4, frame[1]);
	EXPECT_TRUE(frame[2] & RFLAGS_IF);
}

TEST_F(vm, real_mode_delivery)
{
	uint16_t ivt[2] = { REAL_HANDLER, REAL_BASE >> 4 };
	struct xvcpu_events ev;
	struct xvcpu_regs regs;
	uint8_t *mem = xvt_hva(self->t, REAL_BASE);

	memcpy(mem, real_code, sizeof(real_code));
	memcpy(mem + REAL_HANDLER, real_handler, sizeof(real_handler));
	ASSERT_EQ(0, xvcpu_vm_write(self->t->vm, 4 * 13, ivt, sizeof(ivt)));
	ASSERT_EQ(0, xvcpu_vm_write(self->t->vm, 4 * 0x40, ivt, sizeof(ivt)));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_REAL,
					   REAL_BASE, REAL_BASE + REAL_SP,
					   XVT_TABLES_GPA));

	ASSERT_RUN_PORT(self->vcpu, 0x80);
	/* #GP takes an error code: accepted, and dropped in real mode */
	exception(&ev, 13, true, 0x1234);
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	expect_real_frame(_metadata, self->t, self->vcpu, 0x04);
	ASSERT_RUN_PORT(self->vcpu, 0x81);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(REAL_SP, regs.rsp & 0xffff);

	ASSERT_EQ(0, queue_irq(self->vcpu, 0x40));
	expect_real_frame(_metadata, self->t, self->vcpu, 0x06);
	ASSERT_RUN_PORT(self->vcpu, 0x82);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
}

/* ---- Exceptions the kernel raises ---- */

/* In-kernel #GP (RDMSR of a VMX capability MSR) reaches the handler. */
TEST_F(vm, kernel_gp_reaches_guest_handler)
{
	IDT_SETUP();
	xvt_idt_set_resume(self->t, addr(code_rdmsr_end));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_rdmsr, MSR_VMX_BASIC, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 13, addr(code_rdmsr_at));
	EXPECT_EQ(0, xvt_idt_event(self->t, 0)->error_code);
}

/*
 * Userspace fails an MSR access and stops before the next entry
 * (immediate_exit): the #GP waits in GET_EVENTS as the injected event.
 */
static void gp_pending_after_msr_exit(struct __test_metadata *_metadata,
				      struct xvt_vm *t,
				      struct xvcpu_vcpu *vcpu,
				      struct xvcpu_events *ev)
{
	struct xvcpu_msr_policy policy = { .flags = XVCPU_MSR_EXIT_UNKNOWN };
	struct xvcpu_run *run = vcpu->run;
	int ret;

	ASSERT_EQ(0, ioctl(t->vm->fd, XVCPU_SET_MSR_POLICY, &policy));
	ASSERT_EQ(0, xvt_idt_install(t, vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, code_rdmsr, MSR_UNKNOWN, 0));
	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_MSR);
	EXPECT_EQ(MSR_UNKNOWN, run->msr.index);
	run->msr.error = 1;
	run->immediate_exit = 1;
	ret = xvt_run(vcpu, NULL);
	run->immediate_exit = 0;
	ASSERT_EQ(-EINTR, ret);
	EXPECT_EQ(addr(code_rdmsr_at), rip_of(_metadata, vcpu));
	ASSERT_EQ(0, get_events(vcpu, ev));
	EXPECT_EQ(1, ev->injected.valid);
	EXPECT_EQ(XVCPU_EVENT_EXCEPTION, ev->injected.type);
	EXPECT_EQ(13, ev->injected.vector);
	EXPECT_EQ(1, ev->injected.has_error_code);
	EXPECT_EQ(0, ev->injected.error_code);
	EXPECT_EQ(0, ev->injected.instruction_len);
	EXPECT_EQ(0, xvt_idt_total(t));
}

TEST_F(vm, kernel_gp_pending_is_delivered)
{
	struct xvcpu_events ev;

	gp_pending_after_msr_exit(_metadata, self->t, self->vcpu, &ev);
	xvt_idt_set_resume(self->t, addr(code_rdmsr_end));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 13, addr(code_rdmsr_at));
	EXPECT_EQ(0, xvt_idt_event(self->t, 0)->error_code);
}

TEST_F(vm, kernel_gp_pending_can_be_cleared)
{
	struct xvcpu_events ev;

	gp_pending_after_msr_exit(_metadata, self->t, self->vcpu, &ev);
	ev.injected.valid = 0;
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.injected.valid);
	/* The RDMSR runs again, and this time userspace completes it */
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MSR);
	EXPECT_EQ(addr(code_rdmsr_at), rip_of(_metadata, self->vcpu));
	self->run->msr.data = 0x1234;
	self->run->msr.error = 0;
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(0, xvt_idt_total(self->t));
}

/* ---- SET_EVENTS: what it refuses, what it keeps ---- */

struct bad_events {
	const char *what;
	void (*spoil)(struct xvcpu_events *ev);
};

#define BAD(name, ...)							\
	static void spoil_##name(struct xvcpu_events *ev)		\
	{								\
		__VA_ARGS__;						\
	}

#define EXC(ev, v, e) do {						\
	(ev)->injected.valid = 1;					\
	(ev)->injected.type = XVCPU_EVENT_EXCEPTION;			\
	(ev)->injected.vector = (v);					\
	(ev)->injected.has_error_code = (e);				\
} while (0)

#define SOFT(ev, ty, v, len) do {					\
	(ev)->injected.valid = 1;					\
	(ev)->injected.type = (ty);					\
	(ev)->injected.vector = (v);					\
	(ev)->injected.instruction_len = (len);				\
} while (0)

BAD(type_1, EXC(ev, 13, 1); ev->injected.type = 1);
BAD(type_7, EXC(ev, 13, 1); ev->injected.type = 7);
BAD(type_255, EXC(ev, 13, 1); ev->injected.type = 255);
BAD(nmi_vector_3, ev->injected.valid = 1;
	ev->injected.type = XVCPU_EVENT_NMI; ev->injected.vector = 3);
BAD(exception_vector_32, EXC(ev, 32, 0));
BAD(exception_vector_255, EXC(ev, 255, 0));
BAD(gp_without_error_code, EXC(ev, 13, 0));
BAD(pf_without_error_code, EXC(ev, 14, 0));
BAD(df_without_error_code, EXC(ev, 8, 0));
BAD(ac_without_error_code, EXC(ev, 17, 0));
BAD(ud_with_error_code, EXC(ev, 6, 1));
BAD(de_with_error_code, EXC(ev, 0, 1));
BAD(db_with_error_code, EXC(ev, 1, 1));
BAD(error_code_flag_2, EXC(ev, 13, 2));
/* SDM Vol. 3C 27.2.1.3: bits 31:16 of the error code are 0 */
BAD(error_code_17_bits, EXC(ev, 13, 1); ev->injected.error_code = 0x10000);
BAD(error_code_without_flag, EXC(ev, 6, 0); ev->injected.error_code = 1);
BAD(extint_with_error_code, ev->injected.valid = 1;
	ev->injected.type = XVCPU_EVENT_EXTINT; ev->injected.vector = 0x40;
	ev->injected.has_error_code = 1);
BAD(nmi_with_error_code, ev->injected.valid = 1;
	ev->injected.type = XVCPU_EVENT_NMI; ev->injected.vector = 2;
	ev->injected.has_error_code = 1);
BAD(soft_int_with_error_code, SOFT(ev, XVCPU_EVENT_SOFT_INT, 0x80, 2);
	ev->injected.has_error_code = 1);
BAD(soft_int_len_0, SOFT(ev, XVCPU_EVENT_SOFT_INT, 0x80, 0));
BAD(soft_int_len_16, SOFT(ev, XVCPU_EVENT_SOFT_INT, 0x80, 16));
BAD(soft_exception_len_0, SOFT(ev, XVCPU_EVENT_SOFT_EXCEPTION, 3, 0));
BAD(soft_exception_len_huge, SOFT(ev, XVCPU_EVENT_SOFT_EXCEPTION, 3,
				  0x80000001));
BAD(priv_soft_exception_len_0,
	SOFT(ev, XVCPU_EVENT_PRIV_SOFT_EXCEPTION, 1, 0));
BAD(priv_soft_exception_len_16,
	SOFT(ev, XVCPU_EVENT_PRIV_SOFT_EXCEPTION, 1, 16));
BAD(injected_pad, EXC(ev, 13, 1); ev->injected.pad = 1);
BAD(invalid_event_pad, ev->injected.pad = 0x100);
BAD(pad_0, ev->pad[0] = 1);
BAD(pad_2, ev->pad[2] = 0x80);
BAD(reserved_0, ev->reserved[0] = 1);
BAD(reserved_2, ev->reserved[2] = 1ULL << 63);
BAD(pending_debug_bit_13, ev->pending_debug = 1ULL << 13);
BAD(pending_debug_bit_63, ev->pending_debug = 1ULL << 63);
BAD(pending_debug_rtm_alone, ev->pending_debug = XVCPU_PENDING_DBG_RTM);
BAD(pending_debug_rtm_mov_ss,
	ev->pending_debug = XVCPU_PENDING_DBG_RTM | XVCPU_PENDING_DBG_ENABLED_BP;
	ev->shadow = XVCPU_SHADOW_MOV_SS);
/* RFLAGS.TF is 0: with a shadow, no single step may be pending */
BAD(pending_debug_bs_mov_ss_tf_0, ev->pending_debug = XVCPU_PENDING_DBG_BS;
	ev->shadow = XVCPU_SHADOW_MOV_SS);
BAD(shadow_unknown_bit, ev->shadow = 4);
BAD(shadow_high_bit, ev->shadow = 0x80);
BAD(shadow_both, ev->shadow = XVCPU_SHADOW_STI | XVCPU_SHADOW_MOV_SS);
/* the vCPU runs with RFLAGS.IF = 0 in this test */
BAD(shadow_sti_with_if_0, ev->shadow = XVCPU_SHADOW_STI);
BAD(interrupt_queued_2, ev->interrupt_queued = 2);
BAD(interrupt_queued_255, ev->interrupt_queued = 255;
	ev->interrupt_vector = 0x40);
/* GET_EVENTS could not give it back */
BAD(vector_without_queued, ev->interrupt_vector = 0x40);
BAD(nmi_queued_2, ev->nmi_queued = 2);
/* What VM entry would refuse (SDM Vol. 3C 27.3.1.5); RFLAGS.IF is 0 */
BAD(injected_interrupt_if_0, ev->injected.valid = 1;
	ev->injected.type = XVCPU_EVENT_EXTINT; ev->injected.vector = 0x40);
BAD(injected_nmi_masked, ev->injected.valid = 1;
	ev->injected.type = XVCPU_EVENT_NMI; ev->injected.vector = 2;
	ev->nmi_masked = 1);
BAD(injected_nmi_mov_ss, ev->injected.valid = 1;
	ev->injected.type = XVCPU_EVENT_NMI; ev->injected.vector = 2;
	ev->shadow = XVCPU_SHADOW_MOV_SS);

#define BAD_ENTRY(name) { #name, spoil_##name }

static const struct bad_events bad_events[] = {
	BAD_ENTRY(type_1), BAD_ENTRY(type_7), BAD_ENTRY(type_255),
	BAD_ENTRY(nmi_vector_3), BAD_ENTRY(exception_vector_32),
	BAD_ENTRY(exception_vector_255), BAD_ENTRY(gp_without_error_code),
	BAD_ENTRY(pf_without_error_code), BAD_ENTRY(df_without_error_code),
	BAD_ENTRY(ac_without_error_code), BAD_ENTRY(ud_with_error_code),
	BAD_ENTRY(de_with_error_code), BAD_ENTRY(db_with_error_code),
	BAD_ENTRY(error_code_flag_2), BAD_ENTRY(error_code_17_bits),
	BAD_ENTRY(error_code_without_flag), BAD_ENTRY(extint_with_error_code),
	BAD_ENTRY(nmi_with_error_code), BAD_ENTRY(soft_int_with_error_code),
	BAD_ENTRY(soft_int_len_0), BAD_ENTRY(soft_int_len_16),
	BAD_ENTRY(soft_exception_len_0), BAD_ENTRY(soft_exception_len_huge),
	BAD_ENTRY(priv_soft_exception_len_0),
	BAD_ENTRY(priv_soft_exception_len_16), BAD_ENTRY(injected_pad),
	BAD_ENTRY(invalid_event_pad), BAD_ENTRY(pad_0), BAD_ENTRY(pad_2),
	BAD_ENTRY(reserved_0), BAD_ENTRY(reserved_2),
	BAD_ENTRY(pending_debug_bit_13), BAD_ENTRY(pending_debug_bit_63),
	BAD_ENTRY(pending_debug_rtm_alone), BAD_ENTRY(pending_debug_rtm_mov_ss),
	BAD_ENTRY(pending_debug_bs_mov_ss_tf_0),
	BAD_ENTRY(shadow_unknown_bit), BAD_ENTRY(shadow_high_bit),
	BAD_ENTRY(shadow_both), BAD_ENTRY(shadow_sti_with_if_0),
	BAD_ENTRY(interrupt_queued_2), BAD_ENTRY(interrupt_queued_255),
	BAD_ENTRY(vector_without_queued), BAD_ENTRY(nmi_queued_2),
	BAD_ENTRY(injected_interrupt_if_0), BAD_ENTRY(injected_nmi_masked),
	BAD_ENTRY(injected_nmi_mov_ss),
};

TEST_F(vm, set_events_refusals)
{
	struct xvcpu_events before, ev, after;
	unsigned int i;
	int ret;

	/* Something to keep: a queued interrupt */
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x44));
	ASSERT_EQ(0, get_events(self->vcpu, &before));
	for (i = 0; i < ARRAY_SIZE(bad_events); i++) {
		memset(&ev, 0, sizeof(ev));
		bad_events[i].spoil(&ev);
		ret = set_events(self->vcpu, &ev);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("%s: %s", bad_events[i].what,
					       ret ? strerror(-ret) :
					       "accepted");
	}
	ASSERT_EQ(0, get_events(self->vcpu, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(after)));
}

static void expect_round_trip(struct __test_metadata *_metadata,
			      struct xvcpu_vcpu *vcpu,
			      const struct xvcpu_events *ev, const char *what)
{
	struct xvcpu_events got;
	int ret;

	ret = set_events(vcpu, ev);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	ASSERT_EQ(0, get_events(vcpu, &got));
	EXPECT_EQ(0, memcmp(ev, &got, sizeof(got))) {
		TH_LOG("%s: set valid %u type %u vector %u ec %u/%#x len %u queued %u/%u nmi %u/%u shadow %u",
		       what, ev->injected.valid, ev->injected.type,
		       ev->injected.vector, ev->injected.has_error_code,
		       ev->injected.error_code, ev->injected.instruction_len,
		       ev->interrupt_queued, ev->interrupt_vector,
		       ev->nmi_queued, ev->nmi_masked, ev->shadow);
		TH_LOG("%s: got valid %u type %u vector %u ec %u/%#x len %u queued %u/%u nmi %u/%u shadow %u",
		       what, got.injected.valid, got.injected.type,
		       got.injected.vector, got.injected.has_error_code,
		       got.injected.error_code, got.injected.instruction_len,
		       got.interrupt_queued, got.interrupt_vector,
		       got.nmi_queued, got.nmi_masked, got.shadow);
	}
}

TEST_F(vm, set_events_round_trip)
{
	bool nmi = xvt_cap(XVCPU_CAP_NMI) > 0;
	struct xvcpu_events ev;
	struct xvcpu_regs regs;

	exception(&ev, 13, true, 0x1234);
	expect_round_trip(_metadata, self->vcpu, &ev, "#GP(0x1234)");
	exception(&ev, 14, true, 0xffff);
	ev.interrupt_queued = 1;
	ev.interrupt_vector = 0x41;
	expect_round_trip(_metadata, self->vcpu, &ev, "#PF + interrupt");
	exception(&ev, 6, false, 0);
	expect_round_trip(_metadata, self->vcpu, &ev, "#UD");
	memset(&ev, 0, sizeof(ev));
	SOFT(&ev, XVCPU_EVENT_SOFT_INT, 0x80, 2);
	expect_round_trip(_metadata, self->vcpu, &ev, "INT 0x80");
	memset(&ev, 0, sizeof(ev));
	SOFT(&ev, XVCPU_EVENT_SOFT_EXCEPTION, 3, 1);
	expect_round_trip(_metadata, self->vcpu, &ev, "INT3");
	memset(&ev, 0, sizeof(ev));
	SOFT(&ev, XVCPU_EVENT_PRIV_SOFT_EXCEPTION, 1, 15);
	expect_round_trip(_metadata, self->vcpu, &ev, "INT1");
	memset(&ev, 0, sizeof(ev));
	ev.shadow = XVCPU_SHADOW_MOV_SS;
	expect_round_trip(_metadata, self->vcpu, &ev, "MOV SS shadow");
	memset(&ev, 0, sizeof(ev));
	ev.pending_debug = XVCPU_PENDING_DBG_ENABLED_BP | 2;
	expect_round_trip(_metadata, self->vcpu, &ev, "pending DR1 match");
	ev.pending_debug = XVCPU_PENDING_DBG_BS;
	expect_round_trip(_metadata, self->vcpu, &ev, "pending single step");
	/* An injected interrupt needs RFLAGS.IF = 1 (SDM Vol. 3C 27.3.1.5) */
	set_rflags(_metadata, self->vcpu, 0x2 | RFLAGS_IF);
	memset(&ev, 0, sizeof(ev));
	ev.injected.valid = 1;
	ev.injected.type = XVCPU_EVENT_EXTINT;
	ev.injected.vector = 0xef;
	expect_round_trip(_metadata, self->vcpu, &ev, "external 0xef");
	/*
	 * SET_REGS clearing IF puts it back in the queue (it cannot be
	 * injected with IF = 0), unless the queue is taken.
	 */
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x41));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rflags = 0x2;
	EXPECT_EQ(-EINVAL, xvcpu_set_regs(self->vcpu, &regs));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_TRUE(regs.rflags & RFLAGS_IF);
	expect_round_trip(_metadata, self->vcpu, &ev, "external 0xef");
	regs.rflags = 0x2;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	ASSERT_EQ(0, xvcpu_get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.injected.valid);
	EXPECT_EQ(1, ev.interrupt_queued);
	EXPECT_EQ(0xef, ev.interrupt_vector);
	set_rflags(_metadata, self->vcpu, 0x2 | RFLAGS_IF);
	memset(&ev, 0, sizeof(ev));
	ev.shadow = XVCPU_SHADOW_STI;
	expect_round_trip(_metadata, self->vcpu, &ev, "STI shadow");
	if (nmi) {
		memset(&ev, 0, sizeof(ev));
		ev.nmi_queued = 1;
		ev.nmi_masked = 1;
		expect_round_trip(_metadata, self->vcpu, &ev, "NMI queued, masked");
		memset(&ev, 0, sizeof(ev));
		ev.injected.valid = 1;
		ev.injected.type = XVCPU_EVENT_NMI;
		ev.injected.vector = 2;
		expect_round_trip(_metadata, self->vcpu, &ev, "NMI injected");
	}
	memset(&ev, 0, sizeof(ev));
	expect_round_trip(_metadata, self->vcpu, &ev, "nothing");
}

/*
 * Under a shadow a pending single step goes with RFLAGS.TF (SDM Vol. 3C
 * 27.3.1.5): SET_EVENTS takes BS with TF = 1, and SET_REGS changing TF
 * changes BS with it.
 */
TEST_F(vm, pending_single_step_follows_tf_under_shadow)
{
	struct xvcpu_events ev, got;

	set_rflags(_metadata, self->vcpu, 0x2 | RFLAGS_TF);
	memset(&ev, 0, sizeof(ev));
	ev.shadow = XVCPU_SHADOW_MOV_SS;
	ev.pending_debug = XVCPU_PENDING_DBG_BS;
	expect_round_trip(_metadata, self->vcpu, &ev, "MOV SS shadow, BS, TF");
	ev.pending_debug = 0;
	EXPECT_EQ(-EINVAL, set_events(self->vcpu, &ev));

	set_rflags(_metadata, self->vcpu, 0x2);
	ASSERT_EQ(0, get_events(self->vcpu, &got));
	EXPECT_EQ(XVCPU_SHADOW_MOV_SS, got.shadow);
	EXPECT_EQ(0, got.pending_debug);
	set_rflags(_metadata, self->vcpu, 0x2 | RFLAGS_TF);
	ASSERT_EQ(0, get_events(self->vcpu, &got));
	EXPECT_EQ(XVCPU_PENDING_DBG_BS, got.pending_debug);
}

/* What SET_EVENTS restores is what runs: a queued interrupt and a shadow */
TEST_F(vm, set_events_queued_interrupt_is_delivered)
{
	struct xvcpu_events ev;

	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	memset(&ev, 0, sizeof(ev));
	ev.interrupt_queued = 1;
	ev.interrupt_vector = 0x66;
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 0x66, addr(code_loop_jmp));
}

/* ---- NMIs ---- */

TEST_F(vm, nmi_arguments)
{
	struct xvcpu_events ev;

	XVT_REQUIRE_CAP(XVCPU_CAP_NMI);
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_NMI, 1));
	ASSERT_EQ(0, queue_nmi(self->vcpu));
	EXPECT_EQ(-EBUSY, queue_nmi(self->vcpu));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(1, ev.nmi_queued);
	EXPECT_EQ(0, ev.nmi_masked);
}

/* An NMI does not wait for RFLAGS.IF */
TEST_F(vm, nmi_delivered_with_if_0)
{
	struct xvcpu_events ev;

	XVT_REQUIRE_CAP(XVCPU_CAP_NMI);
	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_if0, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(0, queue_nmi(self->vcpu));
	ASSERT_RUN_PORT(self->vcpu, 0x81);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 2, addr(code_if0_a));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi_queued);
	EXPECT_EQ(0, ev.nmi_masked);
	ASSERT_RUN_PORT(self->vcpu, 0x82);
	EXPECT_EQ(1, xvt_idt_total(self->t));
}

/*
 * An NMI queued while the guest is in its NMI handler waits for the
 * handler's IRET (blocking by NMI, SDM Vol. 3A 6.7.1).
 */
TEST_F(vm, nmi_blocked_until_iret)
{
	struct xvcpu_events ev;
	struct xvt_idt_event *e;

	XVT_REQUIRE_CAP(XVCPU_CAP_NMI);
	IDT_SETUP();
	xvt_idt_set_sync(self->t, 2, true);
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(0, queue_nmi(self->vcpu));

	/* Inside the handler, before its IRET */
	ASSERT_RUN_PORT(self->vcpu, XVT_IDT_PORT);
	EXPECT_EQ(2, xvt_idt_sync_vector(self->vcpu));
	EXPECT_EQ(1, xvt_idt_total(self->t));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi_queued);
	EXPECT_EQ(1, ev.nmi_masked);
	ASSERT_EQ(0, queue_nmi(self->vcpu));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(1, ev.nmi_queued);
	EXPECT_EQ(1, ev.nmi_masked);

	/* The second comes after the IRET, on the interrupted code */
	ASSERT_RUN_PORT(self->vcpu, XVT_IDT_PORT);
	EXPECT_EQ(2, xvt_idt_sync_vector(self->vcpu));
	ASSERT_EQ(2, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 2, addr(code_loop_jmp));
	EXPECT_DELIVERY(self->t, 1, 2, addr(code_loop_jmp));
	e = xvt_idt_event(self->t, 1);
	EXPECT_EQ(0, xvt_idt_nested_in(e)) TH_LOG("second NMI at RSP %#llx",
						   (unsigned long long)e->rsp);
	xvt_idt_set_sync(self->t, 2, false);
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(2, xvt_idt_total(self->t));
	ASSERT_EQ(0, get_events(self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi_queued);
	EXPECT_EQ(0, ev.nmi_masked);
}

/*
 * An injected exception, a queued NMI and a queued interrupt at once:
 * the injected event first, then the NMI, then the external interrupt
 * (SDM Vol. 3A 7.9).  The log holds the order the handlers ran in; an
 * NMI delivered on top of the exception's delivery (before the first
 * instruction of its handler) runs first but is seen on the exception's
 * stack, and so counts as delivered after it.
 */
TEST_F(vm, injected_then_nmi_then_interrupt)
{
	unsigned int i, n, order[3], pos_gp = 3, pos_nmi = 3, pos_irq = 3;
	struct xvcpu_events ev;
	int nested_nmi = -1;

	XVT_REQUIRE_CAP(XVCPU_CAP_NMI);
	IDT_SETUP();
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	exception(&ev, 13, true, 0);
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x40));
	ASSERT_EQ(0, queue_nmi(self->vcpu));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(3, xvt_idt_total(self->t));
	EXPECT_EQ(1, xvt_idt_count_of(self->t, 13));
	EXPECT_EQ(1, xvt_idt_count_of(self->t, 2));
	EXPECT_EQ(1, xvt_idt_count_of(self->t, 0x40));

	/* Delivery order: an entry nested in the next one goes after it */
	for (i = 0, n = 0; i < 3; i++) {
		struct xvt_idt_event *e = xvt_idt_event(self->t, i);
		unsigned int ist = xvt_idt_nested_in(e);

		TH_LOG("ran %u: vector %llu RIP %#llx RSP %#llx (nested in IST%u)",
		       i, (unsigned long long)e->vector,
		       (unsigned long long)e->rip,
		       (unsigned long long)e->rsp, ist);
		if (ist && i + 1 < 3 && nested_nmi < 0) {
			nested_nmi = i;
			continue;
		}
		order[n++] = i;
		if (nested_nmi >= 0) {
			order[n++] = nested_nmi;
			nested_nmi = -1;
		}
	}
	ASSERT_EQ(3, n);
	for (i = 0; i < 3; i++) {
		switch (xvt_idt_event(self->t, order[i])->vector) {
		case 13:
			pos_gp = i;
			break;
		case 2:
			pos_nmi = i;
			break;
		case 0x40:
			pos_irq = i;
			break;
		}
	}
	EXPECT_EQ(0, pos_gp);
	EXPECT_EQ(1, pos_nmi);
	EXPECT_EQ(2, pos_irq);
	/* The exception and the interrupt came on the interrupted code */
	for (i = 0; i < 3; i++) {
		struct xvt_idt_event *e = xvt_idt_event(self->t, i);

		if (e->vector != 2) {
			EXPECT_EQ(addr(code_loop_jmp), e->rip);
			EXPECT_EQ(0, xvt_idt_nested_in(e));
		}
	}
}

/* ---- Deliveries a VM exit interrupts (IDT-vectoring information) ---- */

/*
 * The handler's stack is on a page of a slot nobody touched: the
 * delivery causes an EPT violation, the kernel backs the page and
 * delivers the event again, and the handler runs once.
 */
TEST_F(vm, interrupt_frame_on_untouched_page)
{
	uint64_t top = GPA_A + SIZE_2M - 0x1000, *frame;
	struct xvt_stats before, after;
	bool stats;

	IDT_SETUP();
	ASSERT_NE(NULL, xvcpu_vm_add_memory(self->t->vm, SLOT_A, GPA_A,
					     SIZE_2M, 0));
	ASSERT_EQ(0, xvt_idt_set_stack(self->t, XVT_IDT_IST_IRQ, top));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	stats = xvt_stats_read(&before) == 0;
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x40));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 0x40, addr(code_loop_jmp));
	frame = xvt_hva(self->t, top - 40);
	ASSERT_NE(NULL, frame);
	EXPECT_EQ(addr(code_loop_jmp), frame[0]);
	EXPECT_EQ(XVCPU_SETUP_SEL_CODE, frame[1]);
	if (stats && xvt_stats_read(&after) == 0) {
		EXPECT_LT(before.pages, after.pages);
	}
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(1, xvt_idt_total(self->t));
}

TEST_F(vm, exception_frame_on_untouched_page)
{
	uint64_t top = GPA_A + SIZE_2M - 0x1000, *frame;
	struct xvcpu_events ev;

	IDT_SETUP();
	ASSERT_NE(NULL, xvcpu_vm_add_memory(self->t->vm, SLOT_A, GPA_A,
					     SIZE_2M, 0));
	ASSERT_EQ(0, xvt_idt_set_stack(self->t, XVT_IDT_IST_EXC, top));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	exception(&ev, 13, true, 0x1234);
	ASSERT_EQ(0, set_events(self->vcpu, &ev));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 13, addr(code_loop_jmp));
	EXPECT_EQ(0x1234, xvt_idt_event(self->t, 0)->error_code);
	frame = xvt_hva(self->t, top - 48);
	ASSERT_NE(NULL, frame);
	EXPECT_EQ(0x1234, frame[0]);
	EXPECT_EQ(addr(code_loop_jmp), frame[1]);
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	EXPECT_EQ(1, xvt_idt_total(self->t));
}

/* The IDT itself on a page the guest never touched */
TEST_F(vm, idt_on_untouched_page)
{
	const uint64_t idt = GPA_A + 0x3000;

	IDT_SETUP();
	ASSERT_NE(NULL, xvcpu_vm_add_memory(self->t->vm, SLOT_A, GPA_A,
					     SIZE_2M, 0));
	ASSERT_EQ(0, xvt_idt_write_gates(self->t, idt, true));
	ASSERT_EQ(0, xvt_idt_load(self->vcpu, idt, 0xfff));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(0, queue_irq(self->vcpu, 0x40));
	ASSERT_RUN_PORT(self->vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	EXPECT_DELIVERY(self->t, 0, 0x40, addr(code_loop_jmp));
}

/*
 * The IDT where there is no memory: the gate read is an MMIO exit, and
 * the event is still there, injected, when RUN returns.  Once the VMM
 * puts memory there, the next RUN delivers it, once.
 */
static void idt_in_mmio(struct __test_metadata *_metadata, struct xvt_vm *t,
			struct xvcpu_vcpu *vcpu, const struct xvcpu_events *inj,
			uint8_t vector, uint8_t type)
{
	struct xvcpu_run *run = vcpu->run;
	struct xvcpu_events ev;
	char buf[512];

	ASSERT_EQ(0, xvt_idt_install(t, vcpu));
	ASSERT_EQ(0, xvt_idt_load(vcpu, GPA_B, 0xfff));
	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, code_loop, 0, 0));
	ASSERT_RUN_PORT(vcpu, 0x80);
	if (inj) {
		ASSERT_EQ(0, set_events(vcpu, inj));
	} else {
		ASSERT_EQ(0, queue_irq(vcpu, vector));
	}

	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_MMIO);
	EXPECT_EQ(GPA_B + 16 * vector, run->mmio.phys_addr & ~15ULL)
		TH_LOG("%s", xvt_exit_str(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(XVCPU_MMIO_READ, run->mmio.access);
	EXPECT_EQ(addr(code_loop_jmp), rip_of(_metadata, vcpu));
	EXPECT_EQ(0, run->ready_for_interrupt_injection);
	ASSERT_EQ(0, get_events(vcpu, &ev));
	EXPECT_EQ(1, ev.injected.valid);
	EXPECT_EQ(type, ev.injected.type);
	EXPECT_EQ(vector, ev.injected.vector);
	EXPECT_EQ(0, ev.interrupt_queued);
	if (inj) {
		EXPECT_EQ(inj->injected.has_error_code,
			  ev.injected.has_error_code);
		EXPECT_EQ(inj->injected.error_code, ev.injected.error_code);
	}
	EXPECT_EQ(0, xvt_idt_total(t));

	/* Memory there now, with the gates */
	ASSERT_NE(NULL, xvcpu_vm_add_memory(t->vm, SLOT_B, GPA_B, SIZE_2M, 0));
	ASSERT_EQ(0, xvt_idt_write_gates(t, GPA_B, true));
	ASSERT_RUN_PORT(vcpu, 0x80);
	ASSERT_EQ(1, xvt_idt_total(t));
	EXPECT_DELIVERY(t, 0, vector, addr(code_loop_jmp));
	if (inj) {
		EXPECT_EQ(inj->injected.error_code,
			  xvt_idt_event(t, 0)->error_code);
	}
	ASSERT_EQ(0, get_events(vcpu, &ev));
	EXPECT_EQ(0, ev.injected.valid);
	ASSERT_RUN_PORT(vcpu, 0x80);
	EXPECT_EQ(1, xvt_idt_total(t));
}

TEST_F(vm, interrupt_gate_in_mmio)
{
	idt_in_mmio(_metadata, self->t, self->vcpu, NULL, 0x40,
		    XVCPU_EVENT_EXTINT);
}

TEST_F(vm, exception_gate_in_mmio)
{
	struct xvcpu_events ev;

	exception(&ev, 13, true, 0x1234);
	idt_in_mmio(_metadata, self->t, self->vcpu, &ev, 13,
		    XVCPU_EVENT_EXCEPTION);
}

TEST_HARNESS_MAIN
