// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO exits carry the bytes of the instruction at CS:RIP (run->mmio.insn,
 * insn_len): for several MOV forms in 64-bit, 32-bit (with a code segment
 * base) and real mode, for writes to read-only memory, for instructions
 * that straddle two pages mapped to unrelated guest-physical pages, and
 * cut off where the next page cannot be fetched from.  The reported bytes
 * must equal the guest's own bytes at RIP.
 */
#include "harness.h"

#define P		(1ULL << 0)
#define RW		(1ULL << 1)
#define ADDR_MASK	0x000ffffffffff000ULL
#define SZ_4K		0x1000ULL

#define MMIO_GPA	XVT_UNMAPPED_GPA

/* Each one touches MMIO at RDI (or the absolute MMIO_GPA), then HLT */
GUEST_ASM(
"mi_store32:\n"
"	mov %eax, (%rdi)\n"
"	hlt\n"
"mi_store8_imm:\n"
"	movb $0x5a, 0x10(%rdi)\n"
"	hlt\n"
"mi_store64_imm:\n"
"	movq $-2, 0x7ff8(%rdi)\n"
"	hlt\n"
"mi_load_sib:\n"
"	mov (%rdi,%rcx,8), %r11\n"
"	hlt\n"
"mi_movzx:\n"
"	movzwl 2(%rdi), %r9d\n"
"	hlt\n"
"mi_moffs:\n"
"	movabs 0xc0000000, %al\n"
"	hlt\n"
"mi_store16_prefixes:\n"
"	mov %r8w, %gs:0x1234(%rdi)\n"
"	hlt\n"
"mi_fetch:\n"
"	jmp *%rdi\n");
extern char mi_store32[], mi_store8_imm[], mi_store64_imm[], mi_load_sib[],
	mi_movzx[], mi_moffs[], mi_store16_prefixes[], mi_fetch[];

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

/*
 * Run from @rip with RDI = @rdi: an MMIO exit at @at (RIP stays there)
 * whose instruction bytes are the @len bytes of @want.
 */
static void expect_insn_at(struct __test_metadata *_metadata,
			   struct _test_data_vm *self, uint64_t rip,
			   uint64_t rdi, uint64_t at, const uint8_t *want,
			   unsigned int len)
{
	struct xvcpu_regs regs;
	unsigned int i;

	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rip = rip;
	regs.rdi = rdi;
	regs.rcx = 3;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	memset(self->run->mmio.insn, 0xcc, sizeof(self->run->mmio.insn));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MMIO);
	ASSERT_EQ(len, self->run->mmio.insn_len)
		TH_LOG("RIP %#llx", (unsigned long long)rip);
	for (i = 0; i < len; i++)
		EXPECT_EQ(want[i], self->run->mmio.insn[i])
			TH_LOG("byte %u at RIP %#llx", i,
			       (unsigned long long)rip);
	/* What is not filled is zero */
	for (; i < sizeof(self->run->mmio.insn); i++)
		EXPECT_EQ(0, self->run->mmio.insn[i]);
	EXPECT_EQ(0, self->run->mmio.pad[0] | self->run->mmio.pad[1]);
	/* RIP stays at the instruction */
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(at, regs.rip);
}

/* The same, where the bytes are those at guest-physical @code_gpa */
static void expect_insn(struct __test_metadata *_metadata,
			struct _test_data_vm *self, uint64_t rip,
			uint64_t code_gpa, uint64_t rdi, unsigned int len)
{
	const uint8_t *code = xvt_hva(self->t, code_gpa);

	ASSERT_NE(NULL, code);
	expect_insn_at(_metadata, self, rip, rdi, rip, code, len);
}

TEST_F(vm, long_mode_mov_forms)
{
	const char *const code[] = {
		mi_store32, mi_store8_imm, mi_store64_imm, mi_load_sib,
		mi_movzx, mi_moffs, mi_store16_prefixes,
	};
	unsigned int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	for (i = 0; i < ARRAY_SIZE(code); i++) {
		/* Code is identity-mapped: the GPA is the address */
		expect_insn(_metadata, self, addr(code[i]), addr(code[i]),
			    MMIO_GPA, 15);
		if (_metadata->exit_code)
			return;
		/* The exit is about the access, not the fetch */
		EXPECT_EQ(0, self->run->mmio.access & XVCPU_MMIO_FETCH);
	}
	/* The store of mi_store8_imm went to MMIO_GPA + 0x10 */
	expect_insn(_metadata, self, addr(mi_store8_imm), addr(mi_store8_imm),
		    MMIO_GPA, 15);
	EXPECT_EQ(MMIO_GPA + 0x10, self->run->mmio.phys_addr);
	EXPECT_EQ(XVCPU_MMIO_WRITE, self->run->mmio.access);
}

/* Fetching from MMIO: there is no instruction to read */
TEST_F(vm, fetch_from_mmio_has_no_bytes)
{
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	/* jmp *%rdi itself is fine: the exit comes at the target */
	expect_insn_at(_metadata, self, addr(mi_fetch), MMIO_GPA, MMIO_GPA,
		       NULL, 0);
	EXPECT_TRUE(self->run->mmio.access & XVCPU_MMIO_FETCH);
	EXPECT_EQ(MMIO_GPA, self->run->mmio.phys_addr);
}

/* A write to a read-only slot is MMIO too */
TEST_F(vm, write_to_readonly_memory)
{
	const uint64_t ro = XVT_FREE_GPA;
	uint32_t v = 0x11223344;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	ASSERT_NE(NULL, xvcpu_vm_add_memory(self->t->vm, 1, ro, SZ_4K,
					    XVCPU_MEM_READONLY));
	ASSERT_EQ(0, xvcpu_vm_write(self->t->vm, ro, &v, sizeof(v)));
	expect_insn(_metadata, self, addr(mi_store32), addr(mi_store32), ro,
		    15);
	EXPECT_EQ(ro, self->run->mmio.phys_addr);
	EXPECT_EQ(XVCPU_MMIO_WRITE, self->run->mmio.access);
	/* A read of it does not exit: the next exit is the MMIO load */
	expect_insn(_metadata, self, addr(mi_movzx), addr(mi_movzx), MMIO_GPA,
		    15);
}

/*
 * Page tables of our own: linear CODE_LA and CODE_LA + 4 KiB map to two
 * guest-physical pages that are not adjacent (PAGE_B below PAGE_A), and
 * the page after them to @third (not present, or MMIO).
 */
#define CODE_LA		0x00007f0000000000ULL
#define TABLES		XVT_FREE_GPA
#define PAGE_B		(XVT_FREE_GPA + 0x4000)
#define PAGE_A		(XVT_FREE_GPA + 0x10000)

static void own_tables(struct __test_metadata *_metadata,
		       struct _test_data_vm *self, uint64_t third)
{
	uint64_t pml4 = TABLES, pdpt = TABLES + 0x1000, pd = TABLES + 0x2000;
	uint64_t pt = TABLES + 0x3000;
	struct xvcpu_sregs sregs;
	uint64_t *e;

	ASSERT_NE(NULL, xvcpu_vm_add_memory(self->t->vm, 1, XVT_FREE_GPA,
					    0x20000, 0));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	e = xvt_hva(self->t, pml4);
	/* Keep the identity map (stack, ucall, MMIO_GPA) */
	e[0] = *(uint64_t *)xvt_hva(self->t, sregs.cr3 & ADDR_MASK);
	e[(CODE_LA >> 39) & 511] = pdpt | P | RW;
	e = xvt_hva(self->t, pdpt);
	e[(CODE_LA >> 30) & 511] = pd | P | RW;
	e = xvt_hva(self->t, pd);
	e[(CODE_LA >> 21) & 511] = pt | P | RW;
	e = xvt_hva(self->t, pt);
	e[0] = PAGE_A | P | RW;
	e[1] = PAGE_B | P | RW;
	e[2] = third;
	sregs.cr3 = pml4;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
}

/* movl $0x12345678, 0x40(%rdi); hlt: 7 + 1 bytes */
static const uint8_t store_imm[] = {
	0xc7, 0x47, 0x40, 0x78, 0x56, 0x34, 0x12, 0xf4,
};

/* An instruction split over two unrelated guest-physical pages */
TEST_F(vm, instruction_straddles_pages)
{
	uint8_t *a, *b, want[15];
	unsigned int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	own_tables(_metadata, self, 0);
	a = xvt_hva(self->t, PAGE_A);
	b = xvt_hva(self->t, PAGE_B);
	/* 3 bytes at the end of the first page, the rest on the second */
	memcpy(a + 0xffd, store_imm, 3);
	memcpy(b, store_imm + 3, sizeof(store_imm) - 3);
	for (i = sizeof(store_imm) - 3; i < 12; i++)
		b[i] = 0x90;
	memcpy(want, a + 0xffd, 3);
	memcpy(want + 3, b, 12);
	expect_insn_at(_metadata, self, CODE_LA + 0xffd, MMIO_GPA,
		       CODE_LA + 0xffd, want, 15);
	EXPECT_EQ(MMIO_GPA + 0x40, self->run->mmio.phys_addr);
}

/* The bytes stop where the next page is not present */
TEST_F(vm, bytes_stop_at_an_unmapped_page)
{
	uint8_t *b;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	own_tables(_metadata, self, 0);
	b = xvt_hva(self->t, PAGE_B);
	b[0xffe] = 0x89;	/* mov %eax, (%rdi) */
	b[0xfff] = 0x07;
	expect_insn(_metadata, self, CODE_LA + 0x1ffe, PAGE_B + 0xffe,
		    MMIO_GPA, 2);
}

/* ... and where the next page is MMIO rather than memory */
TEST_F(vm, bytes_stop_at_mmio)
{
	uint8_t *b;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	own_tables(_metadata, self, (MMIO_GPA + 0x100000) | P | RW);
	b = xvt_hva(self->t, PAGE_B);
	b[0xff0] = 0x89;
	b[0xff1] = 0x07;
	memset(b + 0xff2, 0x90, 14);
	expect_insn(_metadata, self, CODE_LA + 0x1ff0, PAGE_B + 0xff0,
		    MMIO_GPA, 15);
	b[0xffe] = 0x89;
	b[0xfff] = 0x07;
	expect_insn(_metadata, self, CODE_LA + 0x1ffe, PAGE_B + 0xffe,
		    MMIO_GPA, 2);
}

/*
 * 32-bit protected mode with CS.base = XVT_SCRATCH_GPA: the bytes are at
 * CS.base + EIP.  mov %eax, (%edi), then NOPs.
 */
TEST_F(vm, protected_mode_code_segment_base)
{
	const uint64_t base = XVT_SCRATCH_GPA;
	struct xvcpu_sregs sregs;
	uint8_t *code = xvt_hva(self->t, base + 0x100);

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   base + 0x100, XVT_STACK_TOP - 0x100,
					   XVT_TABLES_GPA));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	sregs.cs.base = base;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	code[0] = 0x89;
	code[1] = 0x07;
	memset(code + 2, 0x90, 20);
	expect_insn(_metadata, self, 0x100, base + 0x100, MMIO_GPA, 15);
}

/*
 * Real mode, CS:IP = (XVT_SCRATCH_GPA >> 4):0x200, and DS with a 4 GiB
 * limit ("unreal" mode, which unrestricted guest allows): 67 c6 07 77 is
 * mov byte [edi], 0x77 with a 32-bit address, to MMIO.
 */
TEST_F(vm, real_mode)
{
	static const uint8_t insn[] = { 0x67, 0xc6, 0x07, 0x77, 0xf4 };
	const uint64_t base = XVT_SCRATCH_GPA;
	uint8_t *code = xvt_hva(self->t, base + 0x200);
	struct xvcpu_sregs sregs;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MMIO_INSN));
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_UNRESTRICTED_GUEST));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_REAL,
					   base + 0x200, base + 0x8000,
					   XVT_TABLES_GPA));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	ASSERT_EQ(base, sregs.cs.base);
	sregs.ds.base = 0;
	sregs.ds.limit = 0xffffffff;
	sregs.ds.g = 1;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	memcpy(code, insn, sizeof(insn));
	memset(code + sizeof(insn), 0x90, 16);
	expect_insn(_metadata, self, 0x200, base + 0x200, MMIO_GPA, 15);
	EXPECT_EQ(MMIO_GPA, self->run->mmio.phys_addr);
	EXPECT_EQ(XVCPU_MMIO_WRITE, self->run->mmio.access);
}

TEST_HARNESS_MAIN
