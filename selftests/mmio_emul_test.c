// SPDX-License-Identifier: GPL-2.0
/*
 * libxvcpu's MMIO emulator against a real guest: guest code touches an
 * MMIO window (linear DEV_LA, guest-physical DEV_PA, where no memory is)
 * with every instruction form the emulator knows; the test backs the
 * window with a host array through the emulator's callbacks and completes
 * each MMIO exit with xvcpu_mmio_emulate().
 *
 * The guest runs every instruction twice, on the window and on a RAM copy
 * (natively, by the CPU), and checks that memory, registers and the status
 * flags agree.  The host checks what the guest wrote into the window and
 * fills it with a pattern that the guest checks when it reads.
 */
#include <inttypes.h>
#include <stdio.h>

#include "harness.h"
#include "idt.h"

/* Linear and physical differ: the emulator must use phys_addr. */
#define DEV_LA		0x40200000UL	/* 2 MiB, mapped to DEV_PA */
#define DEV_PA		0xc0400000UL	/* no memory here */
#define DEV_SIZE	0x2000UL	/* two pages backed by dev.mem */
#define RAM_GPA		0x40000000UL	/* RAM just below the window */
#define RAM_SIZE	0x200000UL
#define RAM_SLOT	1

#define RFLAGS_FIXED	0x2UL
#define RFLAGS_AF	0x10UL
#define RFLAGS_DF	0x400UL
#define RFLAGS_STATUS	0x8d5UL		/* CF PF AF ZF SF OF */

/* ---- guest ---- */

/* The host fills the window with this; the guest checks its reads. */
static inline __guest uint8_t guest_pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + 3);
}

/*
 * Operand pairs: the memory operand's initial value, the register's, and
 * the input RFLAGS.  Their low bytes, words and dwords hit the carry,
 * overflow and auxiliary-carry edges of each operand size.
 */
static const struct {
	uint64_t mem, reg, flags;
} pairs[] = {
	{ 0x7fffffffffffffffUL, 1, RFLAGS_FIXED },
	{ 0x8000000080008080UL, 0x8000000080008080UL,
	  RFLAGS_FIXED | RFLAGS_STATUS },
	{ 0x7f7f7f7f7f7f7f7fUL, 0x0101010101010101UL, RFLAGS_FIXED },
	{ 0, 0x12345678deadbeefUL, RFLAGS_FIXED | RFLAGS_STATUS },
	{ 0x123456789abcdef0UL, 0x123456789abcdef0UL, RFLAGS_FIXED },
	{ 0xf0f0f0f0f0f0f0f0UL, 0x0f0f0f0f0f0f0f0fUL,
	  RFLAGS_FIXED | RFLAGS_STATUS },
};

/*
 * Run @insn with %[m] pointing at the memory operand and %[r] the register
 * operand, RFLAGS = @fin before, @fout after.  Below the red zone: the
 * guest code is ordinary compiled code.
 */
#define GUEST_OP(insn, cons, mem_, reg_, fin_, fout_)			\
	asm volatile("lea -128(%%rsp), %%rsp\n\t"			\
		     "push %[fi]\n\tpopfq\n\t"				\
		     insn "\n\t"					\
		     "pushfq\n\tpop %[fo]\n\t"				\
		     "lea 128(%%rsp), %%rsp"				\
		     : [fo] "=&r"(fout_), [r] cons(reg_)		\
		     : [fi] "r"(fin_), [m] "r"(mem_)			\
		     : "memory", "cc")

/*
 * @insn on the window and on RAM, from each of pairs[]: the memory, the
 * register and the flags in @fmask must end up the same.
 */
#define GUEST_CASE(insn, cons, fmask) do {				\
	volatile uint64_t *__dev = (volatile uint64_t *)(DEV_LA + 0x108); \
	unsigned int __i;						\
									\
	for (__i = 0; __i < ARRAY_SIZE(pairs); __i++) {		\
		uint64_t __rd = pairs[__i].reg, __rr = pairs[__i].reg;	\
		uint64_t __fin = pairs[__i].flags, __fd, __fr;		\
		uint64_t __ram = pairs[__i].mem;			\
									\
		*__dev = pairs[__i].mem;				\
		GUEST_OP(insn, cons, __dev, __rd, __fin, __fd);		\
		GUEST_OP(insn, cons, &__ram, __rr, __fin, __fr);	\
		GUEST_ASSERT_EQ(*__dev, __ram);				\
		GUEST_ASSERT_EQ(__rd, __rr);				\
		GUEST_ASSERT_EQ(__fd & (fmask), __fr & (fmask));	\
	}								\
} while (0)

#define ALL	(RFLAGS_STATUS | RFLAGS_DF)
#define NO_AF	(ALL & ~RFLAGS_AF)	/* AF is undefined after logic ops */

#define GUEST_ALU(op, fmask) do {					\
	GUEST_CASE(op "b %b[r], (%[m])", "+r", fmask);			\
	GUEST_CASE(op "w %w[r], (%[m])", "+r", fmask);			\
	GUEST_CASE(op "l %k[r], (%[m])", "+r", fmask);			\
	GUEST_CASE(op "q %q[r], (%[m])", "+r", fmask);			\
	GUEST_CASE(op "b (%[m]), %b[r]", "+r", fmask);			\
	GUEST_CASE(op "w (%[m]), %w[r]", "+r", fmask);			\
	GUEST_CASE(op "l (%[m]), %k[r]", "+r", fmask);			\
	GUEST_CASE(op "q (%[m]), %q[r]", "+r", fmask);			\
	GUEST_CASE(op "b $0x81, (%[m])", "+r", fmask);			\
	GUEST_CASE(op "w $0x8001, (%[m])", "+r", fmask);		\
	GUEST_CASE(op "l $0x80000001, (%[m])", "+r", fmask);		\
	GUEST_CASE(op "q $-0x7fffffff, (%[m])", "+r", fmask);		\
	GUEST_CASE(op "w $-2, (%[m])", "+r", fmask);			\
	GUEST_CASE(op "l $0x7f, (%[m])", "+r", fmask);			\
	GUEST_CASE(op "q $-128, (%[m])", "+r", fmask);			\
} while (0)

/* Every ALU form, 8 to 64 bits, register/immediate, both directions. */
void __guest guest_alu(void)
{
	GUEST_ALU("add", ALL);
	GUEST_ALU("or", NO_AF);
	GUEST_ALU("adc", ALL);
	GUEST_ALU("sbb", ALL);
	GUEST_ALU("and", NO_AF);
	GUEST_ALU("sub", ALL);
	GUEST_ALU("xor", NO_AF);
	GUEST_ALU("cmp", ALL);
	GUEST_CASE("testb %b[r], (%[m])", "+r", NO_AF);
	GUEST_CASE("testw %w[r], (%[m])", "+r", NO_AF);
	GUEST_CASE("testl %k[r], (%[m])", "+r", NO_AF);
	GUEST_CASE("testq %q[r], (%[m])", "+r", NO_AF);
	GUEST_CASE("testb $0x81, (%[m])", "+r", NO_AF);
	GUEST_CASE("testw $0x8001, (%[m])", "+r", NO_AF);
	GUEST_CASE("testl $0x80000001, (%[m])", "+r", NO_AF);
	GUEST_CASE("testq $-0x7fffffff, (%[m])", "+r", NO_AF);
	/* Byte registers with and without REX; LOCK; segment override. */
	GUEST_CASE("addb %h[r], (%[m])", "+Q", ALL);
	GUEST_CASE("subb (%[m]), %h[r]", "+Q", ALL);
	GUEST_CASE("xorb %b[r], (%[m])", "+S", NO_AF);
	GUEST_CASE("lock addq %q[r], (%[m])", "+r", ALL);
	GUEST_CASE("lock sbbl $3, (%[m])", "+r", ALL);
	GUEST_CASE("addl %%ds:0(%[m]), %k[r]", "+r", ALL);
}

/* MOV, MOVZX, MOVSX, MOVSXD: the flags must not change. */
void __guest guest_mov(void)
{
	GUEST_CASE("movb %b[r], (%[m])", "+r", ALL);
	GUEST_CASE("movb %h[r], (%[m])", "+Q", ALL);
	GUEST_CASE("movw %w[r], (%[m])", "+r", ALL);
	GUEST_CASE("movl %k[r], (%[m])", "+r", ALL);
	GUEST_CASE("movq %q[r], (%[m])", "+r", ALL);
	GUEST_CASE("movb (%[m]), %b[r]", "+r", ALL);
	GUEST_CASE("movb (%[m]), %h[r]", "+Q", ALL);
	GUEST_CASE("movb (%[m]), %b[r]", "+S", ALL);	/* SIL: REX */
	GUEST_CASE("movw (%[m]), %w[r]", "+r", ALL);
	GUEST_CASE("movl (%[m]), %k[r]", "+r", ALL);
	GUEST_CASE("movq (%[m]), %q[r]", "+r", ALL);
	GUEST_CASE("movb $0x99, (%[m])", "+r", ALL);
	GUEST_CASE("movw $0x8899, (%[m])", "+r", ALL);
	GUEST_CASE("movl $0x8899aabb, (%[m])", "+r", ALL);
	GUEST_CASE("movq $-0x778899aa, (%[m])", "+r", ALL);
	GUEST_CASE("movzbw (%[m]), %w[r]", "+r", ALL);
	GUEST_CASE("movzbl (%[m]), %k[r]", "+r", ALL);
	GUEST_CASE("movzwl (%[m]), %k[r]", "+r", ALL);
	GUEST_CASE("movzwq (%[m]), %q[r]", "+r", ALL);
	GUEST_CASE("movsbw (%[m]), %w[r]", "+r", ALL);
	GUEST_CASE("movsbl (%[m]), %k[r]", "+r", ALL);
	GUEST_CASE("movsbq (%[m]), %q[r]", "+r", ALL);
	GUEST_CASE("movswl (%[m]), %k[r]", "+r", ALL);
	GUEST_CASE("movswq (%[m]), %q[r]", "+r", ALL);
	GUEST_CASE("movslq (%[m]), %q[r]", "+r", ALL);
	GUEST_CASE("movl 4(%[m]), %k[r]", "+r", ALL);
}

/*
 * Reads of the host's pattern and writes the host checks, by size,
 * with moffs, and with the compiler's own code for volatile accesses.
 */
void __guest guest_rw(void)
{
	volatile uint8_t *d8 = (volatile uint8_t *)DEV_LA;
	uint64_t v, want;
	unsigned int i;

	for (i = 0; i < 16; i++)
		GUEST_ASSERT_EQ(d8[i], guest_pattern(i));
	want = 0;
	for (i = 0; i < 8; i++)
		want |= (uint64_t)guest_pattern(0x40 + i) << (8 * i);
	GUEST_ASSERT_EQ(*(volatile uint64_t *)(DEV_LA + 0x40), want);
	GUEST_ASSERT_EQ(*(volatile uint32_t *)(DEV_LA + 0x40),
			(uint32_t)want);
	GUEST_ASSERT_EQ(*(volatile uint16_t *)(DEV_LA + 0x40),
			(uint16_t)want);
	asm volatile("movabs %c[a], %%rax" : "=a"(v)
		     : [a] "i"(DEV_LA + 0x40) : "memory");
	GUEST_ASSERT_EQ(v, want);
	asm volatile("movabs %c[a], %%al" : "=a"(v)
		     : [a] "i"(DEV_LA + 0x41), "0"(0x1122334455667700UL)
		     : "memory");
	GUEST_ASSERT_EQ(v, 0x1122334455667700UL | guest_pattern(0x41));
	/* The second page of the window. */
	GUEST_ASSERT_EQ(*(volatile uint8_t *)(DEV_LA + 0x1fff),
			guest_pattern(0x1fff));

	/* Writes, checked by the host at the SYNC. */
	*(volatile uint8_t *)(DEV_LA + 0x200) = 0x11;
	*(volatile uint16_t *)(DEV_LA + 0x202) = 0x2233;
	*(volatile uint32_t *)(DEV_LA + 0x204) = 0x44556677;
	*(volatile uint64_t *)(DEV_LA + 0x208) = 0x8899aabbccddeeffUL;
	asm volatile("movabs %%eax, %c[a]" : : "a"(0xfeedf00d),
		     [a] "i"(DEV_LA + 0x210) : "memory");
	asm volatile("movabs %%rax, %c[a]" : : "a"(0x0123456789abcdefUL),
		     [a] "i"(DEV_LA + 0x218) : "memory");
	/* Across the two pages of the window: one access, two pages. */
	*(volatile uint32_t *)(DEV_LA + 0xffe) = 0xa1b2c3d4;
	GUEST_SYNC(1);
}

/* STOS and MOVS, each followed by a SYNC for the host to check. */
void __guest guest_string(uint64_t do_movs)
{
	uint8_t *ram = (uint8_t *)(DEV_LA - 0x1000);	/* RAM_GPA's last page */
	void *dst, *src;
	uint64_t n;
	unsigned int i;

	/* REP STOSL across the two pages of the window: two exits. */
	dst = (void *)(DEV_LA + 0xff8);
	n = 4;
	asm volatile("rep stosl" : "+D"(dst), "+c"(n) : "a"(0x5a5a0001)
		     : "memory");
	GUEST_ASSERT_EQ(n, 0);
	GUEST_ASSERT_EQ((uint64_t)dst, DEV_LA + 0x1008);
	GUEST_SYNC(1);

	/* REP STOSB from RAM into the window: the CPU does the RAM part. */
	dst = (void *)(DEV_LA - 8);
	n = 24;
	asm volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0xee)
		     : "memory");
	GUEST_ASSERT_EQ(n, 0);
	for (i = 0; i < 8; i++)
		GUEST_ASSERT_EQ(ram[0xff8 + i], 0xee);
	GUEST_SYNC(2);

	/* STOSW with DF = 1, downwards. */
	dst = (void *)(DEV_LA + 0x306);
	n = 3;
	asm volatile("std\n\trep stosw\n\tcld" : "+D"(dst), "+c"(n)
		     : "a"(0xbeef) : "memory", "cc");
	GUEST_ASSERT_EQ((uint64_t)dst, DEV_LA + 0x300);
	/* A single STOSQ. */
	dst = (void *)(DEV_LA + 0x310);
	asm volatile("stosq" : "+D"(dst) : "a"(0x0102030405060708UL)
		     : "memory");
	GUEST_SYNC(3);

	if (!do_movs)
		return;

	/* MOVSQ from the window to RAM (pattern at 0x400). */
	src = (void *)(DEV_LA + 0x400);
	dst = ram + 0x100;
	n = 3;
	asm volatile("rep movsq" : "+S"(src), "+D"(dst), "+c"(n) : :
		     "memory");
	for (i = 0; i < 24; i++)
		GUEST_ASSERT_EQ(ram[0x100 + i], guest_pattern(0x400 + i));
	GUEST_ASSERT_EQ((uint64_t)src, DEV_LA + 0x418);

	/* MOVSB from RAM to the window. */
	for (i = 0; i < 40; i++)
		ram[0x200 + i] = (uint8_t)(0x80 + i);
	src = ram + 0x200;
	dst = (void *)(DEV_LA + 0x500);
	n = 40;
	asm volatile("rep movsb" : "+S"(src), "+D"(dst), "+c"(n) : :
		     "memory");
	GUEST_ASSERT_EQ(n, 0);
	/* MOVSL from one window page to the other. */
	src = (void *)(DEV_LA + 0x600);
	dst = (void *)(DEV_LA + 0x1600);
	n = 4;
	asm volatile("rep movsl" : "+S"(src), "+D"(dst), "+c"(n) : :
		     "memory");
	GUEST_SYNC(4);
}

/* An instruction the emulator does not know. */
GUEST_ASM(
"code_xchg:\n"
"	xchg %rax, (%rdi)\n"
"	hlt\n");
extern char code_xchg[];

/* MOVSB from the window to RDI, which the guest has not mapped. */
GUEST_ASM(
"code_movs_fault:\n"
"	movsb\n"
"code_movs_fault_end:\n"
"	hlt\n");
extern char code_movs_fault[], code_movs_fault_end[];

/* ---- host ---- */

struct dev {
	uint8_t mem[DEV_SIZE];
	unsigned long reads, writes, bad;
};

static int dev_access(struct dev *d, uint64_t gpa, void *data,
		      unsigned int size, bool write)
{
	if (gpa < DEV_PA || gpa + size > DEV_PA + DEV_SIZE || !size ||
	    size > 8) {
		d->bad++;
		return -EFAULT;
	}
	if (write) {
		memcpy(&d->mem[gpa - DEV_PA], data, size);
		d->writes++;
	} else {
		memcpy(data, &d->mem[gpa - DEV_PA], size);
		d->reads++;
	}
	return 0;
}

static int dev_read(void *opaque, uint64_t gpa, void *data,
		    unsigned int size)
{
	return dev_access(opaque, gpa, data, size, false);
}

static int dev_write(void *opaque, uint64_t gpa, const void *data,
		     unsigned int size)
{
	return dev_access(opaque, gpa, (void *)data, size, true);
}

static const struct xvcpu_mmio_ops dev_ops = {
	.mmio_read = dev_read,
	.mmio_write = dev_write,
};

static void dev_fill(struct dev *d)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < DEV_SIZE; i++)
		d->mem[i] = (uint8_t)(i * 7 + 3);
}

static uint64_t dev_get(const struct dev *d, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	while (size--)
		v = (v << 8) | d->mem[off + size];
	return v;
}

/*
 * Run until the guest makes a ucall, emulating every MMIO exit on the
 * way.  Returns the ucall, or -1 after logging what else happened.
 */
static int run_emulated(struct __test_metadata *_metadata,
			struct xvcpu_vcpu *vcpu, struct dev *d,
			struct ucall *uc, unsigned long *exits)
{
	struct xvcpu_run *run = vcpu->run;
	char buf[512];
	int cmd, ret;

	for (;;) {
		cmd = xvt_run(vcpu, uc);
		if (cmd != UCALL_NONE)
			return cmd;
		if (run->exit_reason != XVCPU_EXIT_MMIO) {
			TH_LOG("unexpected %s",
			       xvt_exit_str(vcpu, buf, sizeof(buf)));
			return -1;
		}
		ret = xvcpu_mmio_emulate(vcpu, &dev_ops, d);
		if (ret) {
			TH_LOG("emulation: %s; %s, insn_len %u, bytes "
			       "%02x %02x %02x %02x %02x %02x", strerror(-ret),
			       xvt_exit_str(vcpu, buf, sizeof(buf)),
			       run->mmio.insn_len, run->mmio.insn[0],
			       run->mmio.insn[1], run->mmio.insn[2],
			       run->mmio.insn[3], run->mmio.insn[4],
			       run->mmio.insn[5]);
			return -1;
		}
		(*exits)++;
	}
}

FIXTURE(mmio) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct dev dev;
	unsigned long exits;
};

FIXTURE_SETUP(mmio)
{
	XVT_REQUIRE_DEV();
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	self->t = xvt_vm_create(1);
	ASSERT_NE(NULL, self->t) TH_LOG("test VM: %s", strerror(errno));
	self->vcpu = self->t->vcpus[0];
	ASSERT_NE(NULL, xvcpu_vm_add_memory(self->t->vm, RAM_SLOT, RAM_GPA,
					    RAM_SIZE, 0));
	ASSERT_EQ(0, xvt_map_2m(self->t, DEV_LA, DEV_PA));
	ASSERT_EQ(NULL, xvt_hva(self->t, DEV_PA));
	dev_fill(&self->dev);
}

FIXTURE_TEARDOWN(mmio)
{
	xvt_vm_destroy(self->t);
}

/* Run guest @fn to its end; every ucall on the way is a failure. */
static void run_to_done(struct __test_metadata *_metadata,
			FIXTURE_DATA(mmio) *self, const void *fn)
{
	struct ucall uc;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, fn, 0, 0));
	ASSERT_EQ(UCALL_DONE, run_emulated(_metadata, self->vcpu, &self->dev,
					   &uc, &self->exits));
	EXPECT_EQ(0, self->dev.bad);
	TH_LOG("%lu MMIO exits emulated", self->exits);
}

TEST_F(mmio, alu)
{
	run_to_done(_metadata, self, guest_alu);
	/* 8 ops x 15 forms + 14 others, 3 exits per pair at least */
	EXPECT_LE(134 * ARRAY_SIZE(pairs) * 3, self->exits);
}

TEST_F(mmio, mov)
{
	run_to_done(_metadata, self, guest_mov);
	EXPECT_LE(26 * ARRAY_SIZE(pairs) * 3, self->exits);
}

TEST_F(mmio, read_write)
{
	struct dev *d = &self->dev;
	struct ucall uc;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_rw, 0, 0));
	ASSERT_EQ(UCALL_SYNC, run_emulated(_metadata, self->vcpu, d, &uc,
					   &self->exits));
	EXPECT_EQ(0x11, dev_get(d, 0x200, 1));
	EXPECT_EQ(0x2233, dev_get(d, 0x202, 2));
	EXPECT_EQ(0x44556677, dev_get(d, 0x204, 4));
	EXPECT_EQ(0x8899aabbccddeeffUL, dev_get(d, 0x208, 8));
	EXPECT_EQ(0xfeedf00d, dev_get(d, 0x210, 4));
	EXPECT_EQ((uint8_t)(0x214 * 7 + 3), d->mem[0x214]);	/* untouched */
	EXPECT_EQ(0x0123456789abcdefUL, dev_get(d, 0x218, 8));
	EXPECT_EQ(0xa1b2c3d4, dev_get(d, 0xffe, 4));
	EXPECT_EQ(0, d->bad);
	ASSERT_EQ(UCALL_DONE, run_emulated(_metadata, self->vcpu, d, &uc,
					   &self->exits));
}

static void check_string(struct __test_metadata *_metadata,
			 FIXTURE_DATA(mmio) *self, bool movs)
{
	struct dev *d = &self->dev;
	unsigned long before;
	struct ucall uc;
	unsigned int i;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_string, movs, 0));

	ASSERT_EQ(UCALL_SYNC, run_emulated(_metadata, self->vcpu, d, &uc,
					   &self->exits));
	ASSERT_EQ(1, uc.args[0]);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0x5a5a0001, dev_get(d, 0xff8 + 4 * i, 4));
	/* one exit per page of the window */
	EXPECT_EQ(2, self->exits);

	before = self->exits;
	ASSERT_EQ(UCALL_SYNC, run_emulated(_metadata, self->vcpu, d, &uc,
					   &self->exits));
	ASSERT_EQ(2, uc.args[0]);
	for (i = 0; i < 16; i++)
		EXPECT_EQ(0xee, d->mem[i]);
	EXPECT_EQ(0x10 * 7 + 3, d->mem[0x10]);
	EXPECT_EQ(1, self->exits - before);

	ASSERT_EQ(UCALL_SYNC, run_emulated(_metadata, self->vcpu, d, &uc,
					   &self->exits));
	ASSERT_EQ(3, uc.args[0]);
	EXPECT_EQ(0xbeefbeefbeefUL, dev_get(d, 0x302, 6));
	EXPECT_EQ((uint8_t)(0x301 * 7 + 3), d->mem[0x301]);
	EXPECT_EQ(0x0102030405060708UL, dev_get(d, 0x310, 8));

	if (movs) {
		ASSERT_EQ(UCALL_SYNC, run_emulated(_metadata, self->vcpu, d,
						   &uc, &self->exits));
		ASSERT_EQ(4, uc.args[0]);
		for (i = 0; i < 40; i++)
			EXPECT_EQ(0x80 + i, d->mem[0x500 + i]);
		for (i = 0; i < 16; i++)
			EXPECT_EQ((uint8_t)((0x600 + i) * 7 + 3),
				  d->mem[0x1600 + i]);
	}
	ASSERT_EQ(UCALL_DONE, run_emulated(_metadata, self->vcpu, d, &uc,
					   &self->exits));
	EXPECT_EQ(0, d->bad);
}

TEST_F(mmio, stos)
{
	check_string(_metadata, self, false);
}

TEST_F(mmio, movs)
{
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_TRANSLATE));
	check_string(_metadata, self, true);
}

/*
 * MOVS whose RAM side is not in the guest's page tables: the guest takes
 * the #PF of the write, the MMIO read having been done, and RSI/RDI stay.
 */
TEST_F(mmio, movs_fault_goes_to_guest)
{
	const uint64_t unmapped = 0x100000100ULL;	/* above the 4 GiB map */
	struct xvt_idt_event *e;
	struct xvcpu_regs regs;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_TRANSLATE));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_movs_fault, unmapped,
				    DEV_LA + 0x20));
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	xvt_idt_set_resume(self->t, (uintptr_t)code_movs_fault_end);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MMIO);
	ASSERT_EQ(0, xvcpu_mmio_emulate(self->vcpu, &dev_ops, &self->dev));
	EXPECT_EQ(1, self->dev.reads);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ((uintptr_t)code_movs_fault, regs.rip);
	EXPECT_EQ(DEV_LA + 0x20, regs.rsi);
	EXPECT_EQ(unmapped, regs.rdi);

	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(14, e->vector);
	/* a supervisor write to a not-present page (SDM Vol. 3A 5.7.2) */
	EXPECT_EQ(0x2, e->error_code);
	EXPECT_EQ(unmapped, e->cr2);
	EXPECT_EQ((uintptr_t)code_movs_fault, e->rip);
	EXPECT_EQ(0, self->dev.writes);
}

/* What the emulator refuses leaves the vCPU as it was. */
TEST_F(mmio, unknown_form)
{
	struct xvcpu_regs before, after;
	struct xvcpu_sregs sbefore, safter;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_xchg, DEV_LA + 0x20, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MMIO);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &before));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sbefore));
	EXPECT_EQ((uintptr_t)code_xchg, before.rip);
	EXPECT_LE(3, self->vcpu->run->mmio.insn_len);
	EXPECT_EQ(0x48, self->vcpu->run->mmio.insn[0]);
	EXPECT_EQ(0x87, self->vcpu->run->mmio.insn[1]);

	EXPECT_EQ(-ENOTSUP, xvcpu_mmio_emulate(self->vcpu, &dev_ops,
					       &self->dev));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &after));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &safter));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	EXPECT_EQ(0, memcmp(&sbefore, &safter, sizeof(sbefore)));
	EXPECT_EQ(0, self->dev.reads + self->dev.writes);
}

TEST_HARNESS_MAIN
