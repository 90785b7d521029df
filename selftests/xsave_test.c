// SPDX-License-Identifier: GPL-2.0
/*
 * Guest XSAVE state: CPUID leaf 0xD, XGETBV and XSETBV with the checks
 * the processor makes (SDM Vol. 3C 26.1.2: XSETBV always exits; Vol. 1
 * 13.3 and the XSETBV reference: #GP for a reserved XCR, bit 0 clear,
 * AVX without SSE, bits the processor does not support), and vector
 * registers that belong to the guest and to the host thread each: a
 * guest's XMM/YMM values survive thousands of exits, and the host
 * thread's own XMM/YMM registers are what they were after XVCPU_RUN.
 *
 * Guest code is assembly (guest C must not touch vector registers), its
 * #GP goes to the recording IDT of lib/idt.h.
 */
#include <cpuid.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "idt.h"

#define XFEATURE_X87	(1ULL << 0)
#define XFEATURE_SSE	(1ULL << 1)
#define XFEATURE_AVX	(1ULL << 2)

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

#define ASSERT_RUN_PORT(vcpu, p) do {					\
	char __pb[512];							\
	ASSERT_RUN_EXIT((vcpu), XVCPU_EXIT_IO);				\
	ASSERT_EQ((p), (vcpu)->run->io.port)				\
		TH_LOG("%s", xvt_exit_str((vcpu), __pb, sizeof(__pb)));	\
} while (0)

/* ---- Guest code ---- */

#define SET_OSXSAVE							\
	"	mov %cr4, %rax\n"					\
	"	bts $18, %rax\n"					\
	"	mov %rax, %cr4\n"

/* What the guest reads after reset, once it sets CR4.OSXSAVE */
uint32_t xs_seen[8];

GUEST_ASM(
"code_xs_reset:\n"
SET_OSXSAVE
"	mov $1, %eax\n"
"	cpuid\n"
"	mov %ecx, xs_seen+0(%rip)\n"
"	mov $0xd, %eax\n"
"	xor %ecx, %ecx\n"
"	cpuid\n"
"	mov %eax, xs_seen+4(%rip)\n"
"	mov %edx, xs_seen+8(%rip)\n"
"	mov %ebx, xs_seen+12(%rip)\n"
"	mov %ecx, xs_seen+16(%rip)\n"
"	xor %ecx, %ecx\n"
"	xgetbv\n"
"	mov %eax, xs_seen+20(%rip)\n"
"	mov %edx, xs_seen+24(%rip)\n"
"	hlt\n");
extern char code_xs_reset[];

/* XSETBV(XCR[RSI] = RDI), then RAX:RDX = XGETBV(0) */
GUEST_ASM(
"code_xsetbv:\n"
SET_OSXSAVE
"	mov %edi, %eax\n"
"	mov %rdi, %rdx\n"
"	shr $32, %rdx\n"
"	mov %esi, %ecx\n"
"code_xsetbv_at:\n"
"	xsetbv\n"
"code_xsetbv_end:\n"
"	xor %ecx, %ecx\n"
"	xgetbv\n"
"	hlt\n");
extern char code_xsetbv[], code_xsetbv_at[], code_xsetbv_end[];

/*
 * Vector registers across exits.  The guest loads vec_pattern into
 * XMM0-15 (RDI = 0) or YMM0-15 (RDI = 1, after XSETBV(0, 7)), then for
 * RSI rounds exits to userspace (OUT 0x80) and compares its registers
 * with the pattern; R13 counts the rounds that differed, R12 the rounds.
 */
uint8_t vec_pattern[512] __attribute__((aligned(32)));
uint8_t vec_seen[512] __attribute__((aligned(32)));

/* Every XMM or YMM register to or from @base; @pc is "%" or "%%" */
#define XMM_ALL(op, base, pc)					\
	op " " pc "xmm0, 0x00(" base ")\n" op " " pc "xmm1, 0x10(" base ")\n" \
	op " " pc "xmm2, 0x20(" base ")\n" op " " pc "xmm3, 0x30(" base ")\n" \
	op " " pc "xmm4, 0x40(" base ")\n" op " " pc "xmm5, 0x50(" base ")\n" \
	op " " pc "xmm6, 0x60(" base ")\n" op " " pc "xmm7, 0x70(" base ")\n" \
	op " " pc "xmm8, 0x80(" base ")\n" op " " pc "xmm9, 0x90(" base ")\n" \
	op " " pc "xmm10, 0xa0(" base ")\n" op " " pc "xmm11, 0xb0(" base ")\n" \
	op " " pc "xmm12, 0xc0(" base ")\n" op " " pc "xmm13, 0xd0(" base ")\n" \
	op " " pc "xmm14, 0xe0(" base ")\n" op " " pc "xmm15, 0xf0(" base ")\n"
#define XMM_LOAD(op, base, pc)					\
	op " 0x00(" base "), " pc "xmm0\n" op " 0x10(" base "), " pc "xmm1\n" \
	op " 0x20(" base "), " pc "xmm2\n" op " 0x30(" base "), " pc "xmm3\n" \
	op " 0x40(" base "), " pc "xmm4\n" op " 0x50(" base "), " pc "xmm5\n" \
	op " 0x60(" base "), " pc "xmm6\n" op " 0x70(" base "), " pc "xmm7\n" \
	op " 0x80(" base "), " pc "xmm8\n" op " 0x90(" base "), " pc "xmm9\n" \
	op " 0xa0(" base "), " pc "xmm10\n" op " 0xb0(" base "), " pc "xmm11\n" \
	op " 0xc0(" base "), " pc "xmm12\n" op " 0xd0(" base "), " pc "xmm13\n" \
	op " 0xe0(" base "), " pc "xmm14\n" op " 0xf0(" base "), " pc "xmm15\n"
#define YMM_ALL(op, base, pc)					\
	op " " pc "ymm0, 0x000(" base ")\n" op " " pc "ymm1, 0x020(" base ")\n" \
	op " " pc "ymm2, 0x040(" base ")\n" op " " pc "ymm3, 0x060(" base ")\n" \
	op " " pc "ymm4, 0x080(" base ")\n" op " " pc "ymm5, 0x0a0(" base ")\n" \
	op " " pc "ymm6, 0x0c0(" base ")\n" op " " pc "ymm7, 0x0e0(" base ")\n" \
	op " " pc "ymm8, 0x100(" base ")\n" op " " pc "ymm9, 0x120(" base ")\n" \
	op " " pc "ymm10, 0x140(" base ")\n" op " " pc "ymm11, 0x160(" base ")\n" \
	op " " pc "ymm12, 0x180(" base ")\n" op " " pc "ymm13, 0x1a0(" base ")\n" \
	op " " pc "ymm14, 0x1c0(" base ")\n" op " " pc "ymm15, 0x1e0(" base ")\n"
#define YMM_LOAD(op, base, pc)					\
	op " 0x000(" base "), " pc "ymm0\n" op " 0x020(" base "), " pc "ymm1\n" \
	op " 0x040(" base "), " pc "ymm2\n" op " 0x060(" base "), " pc "ymm3\n" \
	op " 0x080(" base "), " pc "ymm4\n" op " 0x0a0(" base "), " pc "ymm5\n" \
	op " 0x0c0(" base "), " pc "ymm6\n" op " 0x0e0(" base "), " pc "ymm7\n" \
	op " 0x100(" base "), " pc "ymm8\n" op " 0x120(" base "), " pc "ymm9\n" \
	op " 0x140(" base "), " pc "ymm10\n" op " 0x160(" base "), " pc "ymm11\n" \
	op " 0x180(" base "), " pc "ymm12\n" op " 0x1a0(" base "), " pc "ymm13\n" \
	op " 0x1c0(" base "), " pc "ymm14\n" op " 0x1e0(" base "), " pc "ymm15\n"

GUEST_ASM(
"code_vec:\n"
"	mov %rdi, %r14\n"
"	mov %rsi, %r15\n"
"	xor %r12d, %r12d\n"
"	xor %r13d, %r13d\n"
"	lea vec_pattern(%rip), %rbx\n"
"	test %r14, %r14\n"
"	jz 1f\n"
SET_OSXSAVE
"	xor %ecx, %ecx\n"
"	xor %edx, %edx\n"
"	mov $7, %eax\n"
"	xsetbv\n"
YMM_LOAD("vmovdqu", "%rbx", "%")
"	jmp 2f\n"
"1:\n"
XMM_LOAD("movdqu", "%rbx", "%")
"2:	outb %al, $0x80\n"
"	lea vec_seen(%rip), %rdi\n"
"	test %r14, %r14\n"
"	jz 3f\n"
YMM_ALL("vmovdqu", "%rdi", "%")
"	mov $64, %ecx\n"
"	jmp 4f\n"
"3:\n"
XMM_ALL("movdqu", "%rdi", "%")
"	mov $32, %ecx\n"
"4:	lea vec_pattern(%rip), %rsi\n"
"	lea vec_seen(%rip), %rdi\n"
"	cld\n"
"	repe cmpsq\n"
"	je 5f\n"
"	inc %r13\n"
"	test %r14, %r14\n"		/* load the pattern again */
"	jz 6f\n"
YMM_LOAD("vmovdqu", "%rbx", "%")
"	jmp 5f\n"
"6:\n"
XMM_LOAD("movdqu", "%rbx", "%")
"5:	inc %r12\n"
"	cmp %r15, %r12\n"
"	jb 2b\n"
"	hlt\n");
extern char code_vec[];

/* The guest puts other values in every vector register, then exits */
GUEST_ASM(
"code_vec_trash:\n"
"	lea vec_seen(%rip), %rbx\n"
"	test %rdi, %rdi\n"
"	jz 1f\n"
SET_OSXSAVE
"	xor %ecx, %ecx\n"
"	xor %edx, %edx\n"
"	mov $7, %eax\n"
"	xsetbv\n"
YMM_LOAD("vmovdqu", "%rbx", "%")
"	jmp 2f\n"
"1:\n"
XMM_LOAD("movdqu", "%rbx", "%")
"2:	outb %al, $0x80\n"
"	hlt\n");
extern char code_vec_trash[];

/* XSETBV at CPL 3 (RSI: its stack), then VMCALL back to the host */
GUEST_ASM(
"code_xsetbv_cpl3:\n"
SET_OSXSAVE
"	lea code_xsetbv_user(%rip), %rdi\n"
"	jmp xvt_user_enter\n"
"code_xsetbv_user:\n"
"	xor %ecx, %ecx\n"
"	xor %edx, %edx\n"
"	mov $3, %eax\n"
"code_xsetbv_user_at:\n"
"	xsetbv\n"
"code_xsetbv_user_end:\n"
"	mov $0x78, %eax\n"
"	vmcall\n"
"	jmp code_xsetbv_user_end\n");
extern char code_xsetbv_cpl3[], code_xsetbv_user_at[],
	code_xsetbv_user_end[];

/* ---- Helpers ---- */

struct xsave_info {
	uint32_t cpuid1_ecx;
	uint64_t supported;	/* CPUID.(0xD,0):EDX:EAX */
	uint32_t size_enabled, size_max;
	uint64_t xcr0;
};

static void read_xsave_info(struct __test_metadata *_metadata,
			     struct xvt_vm *t, struct xvcpu_vcpu *vcpu,
			     struct xsave_info *x)
{
	uint32_t *s = GUEST_VAR(t, xs_seen);

	ASSERT_EQ(0, xvt_idt_install(t, vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, code_xs_reset, 0, 0));
	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_HLT);
	ASSERT_EQ(0, xvt_idt_total(t));
	x->cpuid1_ecx = s[0];
	x->supported = s[1] | (uint64_t)s[2] << 32;
	x->size_enabled = s[3];
	x->size_max = s[4];
	x->xcr0 = s[5] | (uint64_t)s[6] << 32;
	ASSERT_EQ(0, xvt_vcpu_reset_long(t, vcpu));
}

static bool host_has_avx(void)
{
	unsigned int a, b, c, d;
	uint32_t lo, hi;

	__cpuid(1, a, b, c, d);
	if (!(c & (1U << 27)) || !(c & (1U << 28)))	/* OSXSAVE, AVX */
		return false;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

/* XSETBV(XCR[@index] = @value) in the guest; XCR0 afterwards in *@xcr0 */
static int do_xsetbv(struct __test_metadata *_metadata, struct xvt_vm *t,
			struct xvcpu_vcpu *vcpu, uint64_t value,
			uint32_t index, uint64_t *xcr0)
{
	struct xvcpu_regs regs;

	xvt_idt_reset(t);
	xvt_idt_set_resume(t, addr(code_xsetbv_end));
	EXPECT_EQ(0, xvt_vcpu_enter(vcpu, code_xsetbv, value, index));
	EXPECT_EQ(0, xvt_run(vcpu, NULL));
	EXPECT_EQ(XVCPU_EXIT_HLT, vcpu->run->exit_reason);
	EXPECT_EQ(0, xvcpu_get_regs(vcpu, &regs));
	*xcr0 = (regs.rax & 0xffffffff) | regs.rdx << 32;
	if (xvt_idt_total(t) == 0)
		return 0;
	EXPECT_EQ(1, xvt_idt_total(t));
	EXPECT_EQ(13, xvt_idt_event(t, 0)->vector);
	EXPECT_EQ(0, xvt_idt_event(t, 0)->error_code);
	EXPECT_EQ(addr(code_xsetbv_at), xvt_idt_event(t, 0)->rip);
	return 13;
}

/* ---- Tests ---- */

TEST(caps)
{
	XVT_REQUIRE_DEV();
	TH_LOG("XVCPU_CAP_XSAVE = %d", xvt_cap(XVCPU_CAP_XSAVE));
	EXPECT_LE(0, xvt_cap(XVCPU_CAP_XSAVE));
}

TEST_F(vm, xcr0_after_reset)
{
	struct xsave_info x;

	XVT_REQUIRE_CAP(XVCPU_CAP_XSAVE);
	read_xsave_info(_metadata, self->t, self->vcpu, &x);
	TH_LOG("CPUID.1:ECX %#x, CPUID.0xD.0 supported %#llx size %u/%u",
	       x.cpuid1_ecx, (unsigned long long)x.supported, x.size_enabled,
	       x.size_max);
	EXPECT_TRUE(x.cpuid1_ecx & (1U << 26));		/* XSAVE */
	EXPECT_TRUE(x.cpuid1_ecx & (1U << 27));		/* OSXSAVE */
	EXPECT_EQ(XFEATURE_X87 | XFEATURE_SSE,
		  x.supported & (XFEATURE_X87 | XFEATURE_SSE));
	EXPECT_EQ(XFEATURE_X87, x.xcr0);
	EXPECT_LE(576, x.size_enabled);
	EXPECT_LE(x.size_enabled, x.size_max);
	/* AVX in CPUID.1 exactly when XCR0 can have it */
	EXPECT_EQ(!!(x.supported & XFEATURE_AVX),
		  !!(x.cpuid1_ecx & (1U << 28)));
}

TEST_F(vm, xsetbv_valid_values)
{
	uint64_t values[3] = { XFEATURE_X87 | XFEATURE_SSE, XFEATURE_X87, 0 };
	struct xsave_info x;
	unsigned int i, n = 2;
	uint64_t xcr0;

	XVT_REQUIRE_CAP(XVCPU_CAP_XSAVE);
	read_xsave_info(_metadata, self->t, self->vcpu, &x);
	if (x.supported & XFEATURE_AVX)
		values[n++] = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX;
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, do_xsetbv(_metadata, self->t, self->vcpu,
					  values[i], 0, &xcr0))
			TH_LOG("XCR0 = %#llx", (unsigned long long)values[i]);
		EXPECT_EQ(values[i], xcr0);
	}
}

TEST_F(vm, xsetbv_refusals_gp)
{
	struct xsave_info x;
	uint64_t xcr0, outside = 0;
	unsigned int bit;

	XVT_REQUIRE_CAP(XVCPU_CAP_XSAVE);
	read_xsave_info(_metadata, self->t, self->vcpu, &x);
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));

	/* bit 0 (x87) clear */
	EXPECT_EQ(13, do_xsetbv(_metadata, self->t, self->vcpu,
				   XFEATURE_SSE, 0, &xcr0));
	EXPECT_EQ(XFEATURE_X87, xcr0);
	EXPECT_EQ(13, do_xsetbv(_metadata, self->t, self->vcpu, 0, 0,
				   &xcr0));
	EXPECT_EQ(XFEATURE_X87, xcr0);
	/* XCR index other than 0 */
	EXPECT_EQ(13, do_xsetbv(_metadata, self->t, self->vcpu,
				   XFEATURE_X87 | XFEATURE_SSE, 1, &xcr0));
	EXPECT_EQ(13, do_xsetbv(_metadata, self->t, self->vcpu,
				   XFEATURE_X87, 0x80000000, &xcr0));
	EXPECT_EQ(XFEATURE_X87, xcr0);
	/* AVX without SSE */
	if (x.supported & XFEATURE_AVX) {
		EXPECT_EQ(13, do_xsetbv(_metadata, self->t, self->vcpu,
					   XFEATURE_X87 | XFEATURE_AVX, 0,
					   &xcr0));
		EXPECT_EQ(XFEATURE_X87, xcr0);
	}
	/* a component CPUID.(0xD,0) does not list */
	for (bit = 2; bit < 63 && !outside; bit++)
		if (!(x.supported & (1ULL << bit)))
			outside = 1ULL << bit;
	ASSERT_NE(0, outside);
	TH_LOG("unsupported component %#llx", (unsigned long long)outside);
	EXPECT_EQ(13, do_xsetbv(_metadata, self->t, self->vcpu,
				   XFEATURE_X87 | XFEATURE_SSE | outside |
				   (x.supported & XFEATURE_AVX), 0, &xcr0));
	EXPECT_EQ(XFEATURE_X87, xcr0);
	EXPECT_EQ(13, do_xsetbv(_metadata, self->t, self->vcpu,
				   XFEATURE_X87 | (1ULL << 63), 0, &xcr0));
	EXPECT_EQ(XFEATURE_X87, xcr0);
}

/* XSETBV at CPL 3 is #GP(0), and XCR0 stays as it was */
TEST_F(vm, xsetbv_at_cpl3_gp)
{
	struct xvt_idt_event *e;
	struct xsave_info x;

	XVT_REQUIRE_CAP(XVCPU_CAP_XSAVE);
	ASSERT_EQ(0, xvt_user_setup(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	xvt_idt_set_resume(self->t, addr(code_xsetbv_user_end));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_xsetbv_cpl3, 0,
				    XVT_STACK_TOP - 0x2000));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HYPERCALL);
	EXPECT_EQ(0x78, self->run->hypercall.nr);
	EXPECT_EQ(3, self->run->hypercall.cpl);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(13, e->vector);
	EXPECT_EQ(0, e->error_code);
	EXPECT_EQ(addr(code_xsetbv_user_at), e->rip);
	EXPECT_EQ(XVT_USER_CS, e->cs);
	/* back at CPL 0: XCR0 is still 1 */
	ASSERT_EQ(0, xvt_vcpu_reset_long(self->t, self->vcpu));
	read_xsave_info(_metadata, self->t, self->vcpu, &x);
	EXPECT_EQ(XFEATURE_X87, x.xcr0);
}

/* Different values in the host thread's registers at each round */
static void host_scramble_vectors(uint64_t seed, bool avx)
{
	uint8_t junk[512] __attribute__((aligned(32)));
	unsigned int i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(seed * 131 + i * 7);
	if (avx)
		asm volatile(YMM_LOAD("vmovdqu", "%0", "%%")
			     : : "r"(junk) : "memory", "xmm0", "xmm1", "xmm2",
			     "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			     "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
			     "xmm14", "xmm15");
	else
		asm volatile(XMM_LOAD("movdqu", "%0", "%%")
			     : : "r"(junk) : "memory", "xmm0", "xmm1", "xmm2",
			     "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			     "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
			     "xmm14", "xmm15");
}

#define VEC_ROUNDS	10000

static void vectors_survive_exits(struct __test_metadata *_metadata,
				  struct xvt_vm *t, struct xvcpu_vcpu *vcpu,
				  bool ymm)
{
	bool host_avx = host_has_avx();
	struct xvcpu_regs regs;
	unsigned int i;

	for (i = 0; i < sizeof(vec_pattern); i++)
		GUEST_VAR(t, vec_pattern)[i] = (uint8_t)(i * 37 + 11);
	ASSERT_EQ(0, xvt_idt_install(t, vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, code_vec, ymm, VEC_ROUNDS));
	for (i = 0; i < VEC_ROUNDS; i++) {
		host_scramble_vectors(i, host_avx);
		ASSERT_RUN_PORT(vcpu, 0x80);
	}
	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_HLT);
	ASSERT_EQ(0, xvcpu_get_regs(vcpu, &regs));
	EXPECT_EQ(VEC_ROUNDS, regs.r12);
	EXPECT_EQ(0, regs.r13) TH_LOG("%llu of %u rounds saw other values",
				      (unsigned long long)regs.r13,
				      VEC_ROUNDS);
	EXPECT_EQ(0, xvt_idt_total(t));
}

TEST_F(vm, guest_xmm_survive_exits)
{
	vectors_survive_exits(_metadata, self->t, self->vcpu, false);
}

TEST_F(vm, guest_ymm_survive_exits)
{
	struct xsave_info x;

	XVT_REQUIRE_CAP(XVCPU_CAP_XSAVE);
	read_xsave_info(_metadata, self->t, self->vcpu, &x);
	if (!(x.supported & XFEATURE_AVX))
		SKIP(return, "the guest has no AVX (CPUID.0xD.0 %#llx)",
		     (unsigned long long)x.supported);
	vectors_survive_exits(_metadata, self->t, self->vcpu, true);
}

/*
 * XVCPU_RUN straight from inline assembly, the host thread's vector
 * registers loaded with @mine before and stored to @after behind it: no
 * compiler or libc code in between.
 */
static long run_keeping_vectors(int fd, const uint8_t *mine, uint8_t *after,
				bool avx)
{
	long ret;

	if (avx)
		asm volatile(YMM_LOAD("vmovdqu", "%[p]", "%%")
			     "syscall\n"
			     YMM_ALL("vmovdqu", "%[a]", "%%")
			     : "=a"(ret)
			     : "a"((long)SYS_ioctl), "D"((long)fd),
			       "S"((long)XVCPU_RUN), "d"(0L), [p] "r"(mine),
			       [a] "r"(after)
			     : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2",
			       "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
			       "xmm14", "xmm15");
	else
		asm volatile(XMM_LOAD("movdqu", "%[p]", "%%")
			     "syscall\n"
			     XMM_ALL("movdqu", "%[a]", "%%")
			     : "=a"(ret)
			     : "a"((long)SYS_ioctl), "D"((long)fd),
			       "S"((long)XVCPU_RUN), "d"(0L), [p] "r"(mine),
			       [a] "r"(after)
			     : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2",
			       "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
			       "xmm14", "xmm15");
	return ret;
}

TEST_F(vm, host_vector_registers_kept_across_run)
{
	uint8_t mine[512] __attribute__((aligned(32)));
	uint8_t after[512] __attribute__((aligned(32)));
	bool avx = host_has_avx(), guest_ymm = false;
	unsigned int i, round, size;
	struct xsave_info x;
	long ret;

	if (xvt_cap(XVCPU_CAP_XSAVE) > 0) {
		read_xsave_info(_metadata, self->t, self->vcpu, &x);
		guest_ymm = x.supported & XFEATURE_AVX;
	}
	size = avx ? 512 : 256;
	TH_LOG("host %s, guest trashes %s", avx ? "YMM" : "XMM",
	       guest_ymm ? "YMM" : "XMM");
	for (i = 0; i < sizeof(vec_seen); i++)
		GUEST_VAR(self->t, vec_seen)[i] = (uint8_t)(0xc3 ^ i);
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	for (round = 0; round < 2; round++) {
		/* Round 0: the guest loads its values; round 1: HLT */
		if (round == 0)
			ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_vec_trash,
						    guest_ymm, 0));
		for (i = 0; i < sizeof(mine); i++)
			mine[i] = (uint8_t)(i * 13 + 5 + round);
		memset(after, 0, sizeof(after));
		ret = run_keeping_vectors(self->vcpu->fd, mine, after, avx);
		ASSERT_EQ(0, ret) TH_LOG("XVCPU_RUN: %ld", ret);
		ASSERT_EQ(round ? XVCPU_EXIT_HLT : XVCPU_EXIT_IO,
			  self->run->exit_reason);
		for (i = 0; i < size; i++)
			if (mine[i] != after[i])
				break;
		EXPECT_EQ(size, i) TH_LOG("round %u: byte %u of the host's %s registers is %#x, was %#x",
					  round, i, avx ? "YMM" : "XMM",
					  after[i], mine[i]);
	}
	EXPECT_EQ(0, xvt_idt_total(self->t));
}

TEST_HARNESS_MAIN
