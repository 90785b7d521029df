// SPDX-License-Identifier: GPL-2.0
/*
 * Exits to userspace: each kind of exit, with the decoded fields of the
 * run page and the raw XVCPU_GET_EXIT_INFO fields checked against what
 * the guest did.  Guest code is written in assembly here so that the
 * instruction addresses and lengths are exactly known.
 */
#include <stddef.h>
#include <sys/ioctl.h>

#include "harness.h"

/* Basic exit reasons (Intel SDM Vol. 3D, Appendix C). */
#define EXIT_REASON_TRIPLE_FAULT	2
#define EXIT_REASON_HLT			12
#define EXIT_REASON_VMCALL		18
#define EXIT_REASON_IO			30
#define EXIT_REASON_INVALID_STATE	33
#define EXIT_REASON_EPT_VIOLATION	48
#define EXIT_REASON_ENTRY_FAILURE	(1U << 31)

/* I/O exit qualification (SDM Vol. 3C, Table 28-5). */
#define IO_QUAL_SIZE(q)		(((q) & 7) + 1)
#define IO_QUAL_IN		(1ULL << 3)
#define IO_QUAL_STRING		(1ULL << 4)
#define IO_QUAL_REP		(1ULL << 5)
#define IO_QUAL_IMM		(1ULL << 6)
#define IO_QUAL_PORT(q)		(((q) >> 16) & 0xffff)

/* EPT violation qualification (SDM Vol. 3C, Table 28-7). */
#define EPT_QUAL_ACCESS(q)	((q) & 7)
#define EPT_QUAL_LINEAR_VALID	(1ULL << 7)

#define CR0_PE			(1ULL << 0)
#define CR0_PG			(1ULL << 31)
#define EFER_LMA		(1ULL << 10)

/* A value whose every byte differs, to see which bytes move where. */
#define FILL	0x1122334455667788ULL

GUEST_ASM(
"code_out:\n"
"	movabs $0xaabbccddeeff0011, %rax\n"
"	mov $0x1234, %dx\n"
"	outb %al, %dx\n"
"code_out_1:\n"
"	movabs $0xaabbccddeeff2233, %rax\n"
"	outw %ax, %dx\n"
"code_out_2:\n"
"	movabs $0xaabbccdd44556677, %rax\n"
"	outl %eax, %dx\n"
"code_out_3:\n"
"	mov $0x88, %al\n"
"	outb %al, $0x80\n"
"code_out_4:\n"
"	hlt\n");
extern char code_out[], code_out_1[], code_out_2[], code_out_3[],
	code_out_4[];

GUEST_ASM(
"code_in:\n"
"	mov $0x5678, %dx\n"
"	movabs $0x1122334455667788, %rax\n"
"	inb %dx, %al\n"
"code_in_1:\n"
"	hlt\n"
"	movabs $0x1122334455667788, %rax\n"
"	inw %dx, %ax\n"
"code_in_2:\n"
"	hlt\n"
"	movabs $0x1122334455667788, %rax\n"
"	inl %dx, %eax\n"
"code_in_3:\n"
"	hlt\n"
"	movabs $0x1122334455667788, %rax\n"
"	inb $0x71, %al\n"
"code_in_4:\n"
"	hlt\n");
extern char code_in[], code_in_1[], code_in_2[], code_in_3[],
	code_in_4[];

GUEST_ASM(
"code_hlt:\n"
"	hlt\n"
"code_hlt_end:\n"
"	hlt\n");
extern char code_hlt[], code_hlt_end[];

/* The address to touch is in RDI. */
GUEST_ASM(
"code_mmio_read:\n"
"	mov (%rdi), %rbx\n"
"	hlt\n"
"code_mmio_write:\n"
"	movabs $0x1122334455667788, %rbx\n"
"code_mmio_write_insn:\n"
"	mov %rbx, (%rdi)\n"
"	hlt\n"
"code_mmio_fetch:\n"
"	jmp *%rdi\n");
extern char code_mmio_read[], code_mmio_write[], code_mmio_write_insn[],
	code_mmio_fetch[];

GUEST_ASM(
"code_triple_fault:\n"
"	lidt empty_idt(%rip)\n"
"	ud2\n"
"	hlt\n"
".pushsection .rodata\n"
"empty_idt:\n"
"	.word 0\n"
"	.quad 0\n"
".popsection\n");
extern char code_triple_fault[];

GUEST_ASM(
"code_vmcall:\n"
"	vmcall\n"
"code_vmcall_end:\n"
"	hlt\n");
extern char code_vmcall[], code_vmcall_end[];

/* CPUID leaf 0x40000000 and leaf 1, results stored for the host */
GUEST_ASM(
"code_cpuid:\n"
"	mov $0x40000000, %eax\n"
"	cpuid\n"
"	mov %ebx, cpuid_sig(%rip)\n"
"	mov %ecx, cpuid_sig+4(%rip)\n"
"	mov %edx, cpuid_sig+8(%rip)\n"
"	mov $1, %eax\n"
"	cpuid\n"
"	mov %ecx, cpuid_1_ecx(%rip)\n"
"	hlt\n");
extern char code_cpuid[];
char cpuid_sig[12];
uint32_t cpuid_1_ecx;

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

static void get_regs(struct __test_metadata *_metadata,
		     struct xvcpu_vcpu *vcpu, struct xvcpu_regs *regs)
{
	ASSERT_EQ(0, xvcpu_get_regs(vcpu, regs));
}

static void get_info(struct __test_metadata *_metadata,
		     struct xvcpu_vcpu *vcpu, struct xvcpu_exit_info *info)
{
	unsigned int i;

	memset(info, 0xa5, sizeof(*info));
	ASSERT_EQ(0, xvcpu_get_exit_info(vcpu, info));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, info->reserved[i]);
	}
	EXPECT_EQ(info->exit_reason & 0xffff, info->basic_reason);
}

static const struct {
	uint16_t port;
	uint8_t size;
	uint32_t data;
	const char *next;	/* RIP after the OUT */
	uint32_t len;		/* instruction length */
	bool imm;		/* port as an immediate */
} outs[] = {
	{ 0x1234, 1, 0x11, code_out_1, 1, false },
	{ 0x1234, 2, 0x2233, code_out_2, 2, false },
	{ 0x1234, 4, 0x44556677, code_out_3, 1, false },
	{ 0x80, 1, 0x88, code_out_4, 2, true },
};

TEST_F(vm, out)
{
	struct xvcpu_exit_info info;
	struct xvcpu_regs regs;
	unsigned int i;
	uint64_t mask;

	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_out)));
	for (i = 0; i < ARRAY_SIZE(outs); i++) {
		TH_LOG("OUT #%u: port %#x size %u", i, outs[i].port,
		       outs[i].size);
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IO);
		EXPECT_EQ(XVCPU_IO_OUT, self->run->io.direction);
		EXPECT_EQ(outs[i].size, self->run->io.size);
		EXPECT_EQ(outs[i].port, self->run->io.port);
		EXPECT_EQ(1, self->run->io.count);
		/* The value written: the low @size bytes of RAX. */
		mask = (1ULL << (8 * outs[i].size)) - 1;
		EXPECT_EQ(outs[i].data, self->run->io.data & mask);

		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(addr(outs[i].next), regs.rip);

		get_info(_metadata, self->vcpu, &info);
		EXPECT_EQ(EXIT_REASON_IO, info.exit_reason);
		EXPECT_EQ(outs[i].size,
			  IO_QUAL_SIZE(info.exit_qualification));
		EXPECT_EQ(0, info.exit_qualification &
			     (IO_QUAL_IN | IO_QUAL_STRING | IO_QUAL_REP));
		EXPECT_EQ(outs[i].imm,
			  !!(info.exit_qualification & IO_QUAL_IMM));
		EXPECT_EQ(outs[i].port,
			  IO_QUAL_PORT(info.exit_qualification));
		EXPECT_EQ(outs[i].len, info.instruction_len);
	}
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
}

static const struct {
	uint16_t port;
	uint8_t size;
	const char *next;
	bool imm;
} ins[] = {
	{ 0x5678, 1, code_in_1, false },
	{ 0x5678, 2, code_in_2, false },
	{ 0x5678, 4, code_in_3, false },
	{ 0x71, 1, code_in_4, true },
};

TEST_F(vm, in)
{
	/* Bytes beyond the access size are junk the kernel must ignore. */
	const uint64_t data = 0xdeadbeefa1b2c3d4ULL;
	struct xvcpu_exit_info info;
	struct xvcpu_regs regs;
	uint64_t mask, want;
	unsigned int i;

	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_in)));
	for (i = 0; i < ARRAY_SIZE(ins); i++) {
		TH_LOG("IN #%u: port %#x size %u", i, ins[i].port,
		       ins[i].size);
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IO);
		EXPECT_EQ(XVCPU_IO_IN, self->run->io.direction);
		EXPECT_EQ(ins[i].size, self->run->io.size);
		EXPECT_EQ(ins[i].port, self->run->io.port);
		EXPECT_EQ(1, self->run->io.count);
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(addr(ins[i].next), regs.rip);
		/* Nothing lands before the next XVCPU_RUN. */
		EXPECT_EQ(FILL, regs.rax);

		get_info(_metadata, self->vcpu, &info);
		EXPECT_EQ(EXIT_REASON_IO, info.exit_reason);
		EXPECT_EQ(ins[i].size, IO_QUAL_SIZE(info.exit_qualification));
		EXPECT_EQ(IO_QUAL_IN, info.exit_qualification &
			  (IO_QUAL_IN | IO_QUAL_STRING | IO_QUAL_REP));
		EXPECT_EQ(ins[i].imm,
			  !!(info.exit_qualification & IO_QUAL_IMM));
		EXPECT_EQ(ins[i].port, IO_QUAL_PORT(info.exit_qualification));

		self->run->io.data = data;
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
		get_regs(_metadata, self->vcpu, &regs);
		/*
		 * AL and AX merge into RAX; a 32-bit destination is
		 * zero-extended into RAX, as for every 32-bit register
		 * write in 64-bit mode.
		 */
		mask = (1ULL << (8 * ins[i].size)) - 1;
		if (ins[i].size == 4)
			want = data & mask;
		else
			want = (FILL & ~mask) | (data & mask);
		EXPECT_EQ(want, regs.rax) TH_LOG("RAX %#llx, want %#llx",
			(unsigned long long)regs.rax,
			(unsigned long long)want);
		/* The rest of the guest state is untouched. */
		EXPECT_EQ(0x5678, regs.rdx & 0xffff);
	}
}

TEST_F(vm, hlt)
{
	struct xvcpu_exit_info info;
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_hlt)));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_EQ(addr(code_hlt_end), regs.rip);

	get_info(_metadata, self->vcpu, &info);
	EXPECT_EQ(EXIT_REASON_HLT, info.exit_reason);
	EXPECT_EQ(1, info.instruction_len);
	EXPECT_EQ(0, info.guest_physical_address);

	/* Running again executes the next HLT. */
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_EQ(addr(code_hlt_end) + 1, regs.rip);
}

/*
 * MMIO: the guest touches linear MMIO_LINEAR, which the page tables map
 * to guest-physical MMIO_PHYS, where no memory is.  Linear and physical
 * differ so that each is seen to be reported as itself.
 */
#define MMIO_LINEAR_2M	(XVT_UNMAPPED_GPA + 0x200000ULL)
#define MMIO_PHYS_2M	(XVT_UNMAPPED_GPA + 0x20400000ULL)
#define MMIO_OFFSET	0x1008ULL

static void check_mmio(struct __test_metadata *_metadata,
		       struct xvcpu_vcpu *vcpu, uint32_t access,
		       uint64_t offset, uint64_t rip)
{
	struct xvcpu_run *run = vcpu->run;
	struct xvcpu_exit_info info;
	struct xvcpu_regs regs;

	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_MMIO);
	EXPECT_EQ(MMIO_PHYS_2M + offset, run->mmio.phys_addr);
	EXPECT_EQ(access, run->mmio.access);
	ASSERT_EQ(1, run->mmio.linear_valid);
	EXPECT_EQ(MMIO_LINEAR_2M + offset, run->mmio.linear_addr);

	/* RIP still at the faulting instruction. */
	get_regs(_metadata, vcpu, &regs);
	EXPECT_EQ(rip, regs.rip);

	get_info(_metadata, vcpu, &info);
	EXPECT_EQ(EXIT_REASON_EPT_VIOLATION, info.exit_reason);
	EXPECT_EQ(run->mmio.phys_addr, info.guest_physical_address);
	EXPECT_EQ(run->mmio.linear_addr, info.guest_linear_address);
	/* XVCPU_MMIO_* are the qualification's access bits. */
	EXPECT_EQ(access, EPT_QUAL_ACCESS(info.exit_qualification));
	EXPECT_TRUE(info.exit_qualification & EPT_QUAL_LINEAR_VALID);
}

static void map_mmio_window(struct __test_metadata *_metadata,
			    struct xvt_vm *t)
{
	ASSERT_EQ(0, xvt_map_2m(t, MMIO_LINEAR_2M, MMIO_PHYS_2M));
	ASSERT_EQ(NULL, xvt_hva(t, MMIO_PHYS_2M));
}

TEST_F(vm, mmio_read)
{
	struct xvcpu_exit_info info;

	map_mmio_window(_metadata, self->t);
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_mmio_read,
				    MMIO_LINEAR_2M + MMIO_OFFSET, 0));
	check_mmio(_metadata, self->vcpu, XVCPU_MMIO_READ, MMIO_OFFSET,
		   addr(code_mmio_read));

	/* The next exit does not carry this one's address along. */
	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_hlt)));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	get_info(_metadata, self->vcpu, &info);
	EXPECT_EQ(0, info.guest_physical_address);
}

TEST_F(vm, mmio_write)
{
	map_mmio_window(_metadata, self->t);
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_mmio_write,
				    MMIO_LINEAR_2M + MMIO_OFFSET, 0));
	check_mmio(_metadata, self->vcpu, XVCPU_MMIO_WRITE, MMIO_OFFSET,
		   addr(code_mmio_write_insn));
}

TEST_F(vm, mmio_fetch)
{
	const uint64_t offset = 0x2000;

	map_mmio_window(_metadata, self->t);
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_mmio_fetch,
				    MMIO_LINEAR_2M + offset, 0));
	/* The jump happened: RIP is the target that could not be fetched. */
	check_mmio(_metadata, self->vcpu, XVCPU_MMIO_FETCH, offset,
		   MMIO_LINEAR_2M + offset);
}

TEST_F(vm, mmio_identity_mapped)
{
	const uint64_t gpa = XVT_UNMAPPED_GPA + 0x10;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_mmio_write, gpa, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MMIO);
	EXPECT_EQ(gpa, self->run->mmio.phys_addr);
	EXPECT_EQ(XVCPU_MMIO_WRITE, self->run->mmio.access);
	if (self->run->mmio.linear_valid) {
		EXPECT_EQ(gpa, self->run->mmio.linear_addr);
	}
}

TEST_F(vm, triple_fault_is_shutdown)
{
	struct xvcpu_exit_info info;

	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_triple_fault)));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_SHUTDOWN);
	get_info(_metadata, self->vcpu, &info);
	EXPECT_EQ(EXIT_REASON_TRIPLE_FAULT, info.exit_reason);
}

TEST_F(vm, invalid_guest_state_fails_entry)
{
	struct xvcpu_sregs good, bad;
	struct xvcpu_exit_info info;
	uint64_t reason;

	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_hlt)));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &good));
	ASSERT_EQ(1, good.cs.l);
	bad = good;
	/* SDM 27.3.1.2: in IA-32e mode, CS.L = 1 requires CS.D/B = 0. */
	bad.cs.db = 1;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &bad));

	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_FAIL_ENTRY);
	reason = self->run->fail_entry.hardware_entry_failure_reason;
	EXPECT_TRUE(reason & EXIT_REASON_ENTRY_FAILURE)
		TH_LOG("reason %#llx", (unsigned long long)reason);
	EXPECT_EQ(EXIT_REASON_INVALID_STATE, reason & 0xffff);

	get_info(_metadata, self->vcpu, &info);
	EXPECT_EQ(reason, info.exit_reason);
	EXPECT_EQ(EXIT_REASON_INVALID_STATE, info.basic_reason);

	/* Fixed up, the same vCPU enters fine. */
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &good));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
}

#define EXIT_REASON_TASK_SWITCH		9

/* 32-bit code: a JMP to the TSS descriptor at GDT selector 0x20 */
static const uint8_t task_switch_code[] = {
	0xea, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00,	/* ljmp $0x20, $0 */
	0xf4,						/* hlt */
};

/*
 * A hardware task switch (which xvcpu does not emulate: SDM Vol. 3C
 * 26.4.2 makes every one exit) goes to userspace as an internal error
 * with the raw exit information.
 */
TEST_F(vm, unhandled_exit_is_internal_error)
{
	const uint64_t entry = XVT_SCRATCH_GPA, tss = XVT_SCRATCH_GPA + 0x800;
	struct xvcpu_run *run = self->run;
	struct xvcpu_exit_info info;
	uint8_t *gdt = xvt_hva(self->t, XVT_TABLES_GPA);

	memcpy(xvt_hva(self->t, entry), task_switch_code,
	       sizeof(task_switch_code));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   entry, entry + XVT_SCRATCH_SIZE,
					   XVT_TABLES_GPA));
	/* An available 32-bit TSS (type 9), present, limit 0x67 */
	gdt[0x20] = 0x67;
	gdt[0x21] = 0;
	gdt[0x22] = tss & 0xff;
	gdt[0x23] = (tss >> 8) & 0xff;
	gdt[0x24] = (tss >> 16) & 0xff;
	gdt[0x25] = 0x89;
	gdt[0x26] = 0;
	gdt[0x27] = (tss >> 24) & 0xff;

	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_INTERNAL_ERROR);
	EXPECT_EQ(XVCPU_INTERNAL_UNHANDLED_EXIT, run->internal.suberror);
	ASSERT_EQ(8, run->internal.ndata);
	EXPECT_EQ(EXIT_REASON_TASK_SWITCH, run->internal.data[0]);
	/* Table 28-2: selector 0x20, source 2 (JMP) in bits 31:30 */
	EXPECT_EQ(0x80000020, run->internal.data[1]);
	EXPECT_EQ(entry, run->internal.data[7]);

	get_info(_metadata, self->vcpu, &info);
	EXPECT_EQ(EXIT_REASON_TASK_SWITCH, info.exit_reason);
	EXPECT_EQ(run->internal.data[0], info.exit_reason);
	EXPECT_EQ(run->internal.data[1], info.exit_qualification);
}

TEST_F(vm, vmcall_is_a_hypercall)
{
	struct xvcpu_run *run = self->run;
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rip = addr(code_vmcall);
	regs.rax = 42;
	regs.rbx = 1;
	regs.rcx = 2;
	regs.rdx = 3;
	regs.rsi = 4;
	regs.rdi = 5;
	regs.r8 = 6;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HYPERCALL);
	EXPECT_EQ(42, run->hypercall.nr);
	EXPECT_EQ(1, run->hypercall.args[0]);
	EXPECT_EQ(2, run->hypercall.args[1]);
	EXPECT_EQ(3, run->hypercall.args[2]);
	EXPECT_EQ(4, run->hypercall.args[3]);
	EXPECT_EQ(5, run->hypercall.args[4]);
	EXPECT_EQ(6, run->hypercall.args[5]);
	EXPECT_EQ(0, run->hypercall.cpl);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(addr(code_vmcall_end), regs.rip);

	/* The result lands in RAX on the next entry, which then halts. */
	run->hypercall.ret = 0x1234567890abcdefULL;
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(0x1234567890abcdefULL, regs.rax);
}

TEST_F(vm, cpuid_is_answered_in_the_kernel)
{
	ASSERT_EQ(0, xvt_vcpu_set_rip(self->vcpu, addr(code_cpuid)));
	/* No exit reaches userspace before the HLT */
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(0, memcmp(&GUEST_VAR(self->t, cpuid_sig), "xvcpuxvcpu\0\0", 12));
	/* the hypervisor bit is set, VMX (bit 5) hidden, OSXSAVE (bit 27) as CR4 */
	EXPECT_TRUE(GUEST_VAR(self->t, cpuid_1_ecx) & (1U << 31));
	EXPECT_FALSE(GUEST_VAR(self->t, cpuid_1_ecx) & (1U << 5));
	EXPECT_FALSE(GUEST_VAR(self->t, cpuid_1_ecx) & (1U << 27));
}

/*
 * Real mode: a 16-bit OUT (no prefix), a 32-bit OUT (operand-size
 * prefix), a store through a segment loaded by the guest, then HLT.
 */
static const uint8_t real_code[] = {
	0xba, 0x34, 0x12,			/* mov dx, 0x1234 */
	0xb8, 0x78, 0x56,			/* mov ax, 0x5678 */
	0xef,					/* out dx, ax */
	0x66, 0xb8, 0x44, 0x33, 0x22, 0x11,	/* mov eax, 0x11223344 */
	0x66, 0xef,				/* out dx, eax */
	0xb8, 0x00, 0x30,			/* mov ax, 0x3000 */
	0x8e, 0xd8,				/* mov ds, ax */
	0xc6, 0x06, 0x10, 0x00, 0x5a,		/* mov byte [0x10], 0x5a */
	0xf4,					/* hlt */
};

static void expect_out(struct __test_metadata *_metadata,
		       struct xvcpu_vcpu *vcpu, uint16_t port, uint8_t size,
		       uint32_t data)
{
	uint64_t mask = (1ULL << (8 * size)) - 1;

	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_IO);
	EXPECT_EQ(XVCPU_IO_OUT, vcpu->run->io.direction);
	EXPECT_EQ(port, vcpu->run->io.port);
	EXPECT_EQ(size, vcpu->run->io.size);
	EXPECT_EQ(data, vcpu->run->io.data & mask);
}

TEST_F(vm, real_mode)
{
	const uint64_t entry = XVT_SCRATCH_GPA;
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_UNRESTRICTED_GUEST));
	memcpy(xvt_hva(self->t, entry), real_code, sizeof(real_code));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_REAL, entry,
					   entry + XVT_SCRATCH_SIZE,
					   XVT_TABLES_GPA));

	expect_out(_metadata, self->vcpu, 0x1234, 2, 0x5678);
	expect_out(_metadata, self->vcpu, 0x1234, 4, 0x11223344);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);

	EXPECT_EQ(0x5a, *(uint8_t *)xvt_hva(self->t, 0x30010));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_EQ(0, sregs.cr0 & CR0_PE);
	EXPECT_EQ(entry, sregs.cs.base + regs.rip - sizeof(real_code));
	EXPECT_EQ(0x3000, sregs.ds.selector);
	EXPECT_EQ(0x30000, sregs.ds.base);
}

/* 32-bit protected mode: OUTs of both sizes, a store, then HLT. */
static const uint8_t prot_code[] = {
	0xb8, 0x78, 0x56, 0x34, 0x12,		/* mov eax, 0x12345678 */
	0x66, 0xba, 0x34, 0x12,			/* mov dx, 0x1234 */
	0xef,					/* out dx, eax */
	0x66, 0xef,				/* out dx, ax */
	0xc7, 0x05, 0x20, 0x00, 0x03, 0x00,	/* mov dword [0x30020], */
	0x0d, 0xf0, 0xfe, 0xca,			/*     0xcafef00d */
	0xf4,					/* hlt */
};

TEST_F(vm, protected_mode)
{
	const uint64_t entry = XVT_SCRATCH_GPA;
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;

	memcpy(xvt_hva(self->t, entry), prot_code, sizeof(prot_code));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   entry, entry + XVT_SCRATCH_SIZE,
					   XVT_TABLES_GPA));

	expect_out(_metadata, self->vcpu, 0x1234, 4, 0x12345678);
	expect_out(_metadata, self->vcpu, 0x1234, 2, 0x5678);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);

	EXPECT_EQ(0xcafef00d, *(uint32_t *)xvt_hva(self->t, 0x30020));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_EQ(entry + sizeof(prot_code), regs.rip);
	EXPECT_EQ(CR0_PE, sregs.cr0 & (CR0_PE | CR0_PG));
	EXPECT_EQ(0, sregs.efer & EFER_LMA);
	EXPECT_EQ(1, sregs.cs.db);
	EXPECT_EQ(0, sregs.cs.l);
}

TEST_HARNESS_MAIN
