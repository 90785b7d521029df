// SPDX-License-Identifier: GPL-2.0
/*
 * XVCPU_TRANSLATE in every paging mode.  The test builds page tables in
 * guest memory (4 KiB, 2 MiB, 4 MiB and 1 GiB pages, read-only, not
 * present, execute-disable, reserved bits), the guest turns paging on
 * with them (32-bit and PAE) or gets them through XVCPU_SET_SREGS
 * (4-level, 5-level), and every translation is checked against what the
 * guest itself does with the same address: the value it reads, where its
 * write lands, the code it runs, or the #PF its own IDT receives (error
 * code and CR2).
 */
#include <cpuid.h>
#include <sys/ioctl.h>

#include "harness.h"
#include "idt.h"

#define CR0_PE		(1ULL << 0)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_LA57	(1ULL << 12)
#define EFER_NXE	(1ULL << 11)

#define P		(1ULL << 0)
#define RW		(1ULL << 1)
#define US		(1ULL << 2)
#define PS		(1ULL << 7)
#define XD		(1ULL << 63)
#define ADDR_MASK	0x000ffffffffff000ULL

#define W		XVCPU_ACCESS_WRITE
#define U		XVCPU_ACCESS_USER
#define X		XVCPU_ACCESS_FETCH

#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_4M		0x400000ULL
#define SZ_1G		0x40000000ULL

/* Slot 1: page tables in its first MiB, then the pages they map */
#define SLOT		1
#define MEM_GPA		XVT_FREE_GPA
#define MEM_SIZE	0x800000ULL
#define DATA_4K		(MEM_GPA + 0x100000)	/* 4 KiB pages */
#define DATA_2M		(MEM_GPA + 0x200000)	/* one 2 MiB page */
#define DATA_4M		(MEM_GPA + 0x400000)	/* one 4 MiB page */

#define PORT_OK		0x84
#define PORT_FAULT	0x85
#define PORT_PAGING_ON	0x86
#define WRITE_VALUE	0x5eed1e55

/*
 * Each access the guest makes: RDI/EDI the address, EAX the value to
 * write; an OUT to PORT_OK after it, or the #PF handler of lib/idt.c
 * resumes at *_faulted, which OUTs to PORT_FAULT.  A fetch jumps to code
 * the test put at the address (an OUT to PORT_OK).
 */
GUEST_ASM(
"tr_code64_read:\n"
"	movl (%rdi), %eax\n"
"	outl %eax, $0x84\n"
"	hlt\n"
"tr_code64_write:\n"
"	movl %eax, (%rdi)\n"
"	outl %eax, $0x84\n"
"	hlt\n"
"tr_code64_fetch:\n"
"	jmp *%rdi\n"
"tr_code64_faulted:\n"
"	outl %eax, $0x85\n"
"	hlt\n");
extern char tr_code64_read[], tr_code64_write[], tr_code64_fetch[],
	tr_code64_faulted[];

/* 32-bit: EAX = CR3 and EBX = CR4 for turning paging on (with CR0.WP) */
GUEST_ASM(
"	.code32\n"
"tr_code32_paging_on:\n"
"	mov %ebx, %cr4\n"
"	mov %eax, %cr3\n"
"	mov %cr0, %eax\n"
"	or $0x80010000, %eax\n"
"	mov %eax, %cr0\n"
"	jmp 1f\n"
"1:	outl %eax, $0x86\n"
"	hlt\n"
"tr_code32_read:\n"
"	movl (%edi), %eax\n"
"	outl %eax, $0x84\n"
"	hlt\n"
"tr_code32_write:\n"
"	movl %eax, (%edi)\n"
"	outl %eax, $0x84\n"
"	hlt\n"
"tr_code32_fetch:\n"
"	jmp *%edi\n"
"tr_code32_faulted:\n"
"	outl %eax, $0x85\n"
"	hlt\n"
"	.code64\n");
extern char tr_code32_paging_on[], tr_code32_read[], tr_code32_write[],
	tr_code32_fetch[], tr_code32_faulted[];

/* What a fetch of a mapped page finds there: OUT to PORT_OK; HLT */
static const uint8_t fetch_target[] = { 0xe7, PORT_OK, 0xf4 };
#define FETCH_OFFSET	0x800

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

static unsigned int maxphyaddr(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(0x80000008, &a, &b, &c, &d))
		return 36;
	return a & 0xff;
}

static bool cpu_gbpages(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1U << 26));
}

/* ---- page tables in slot 1 ---- */

struct tables {
	struct xvt_vm *t;
	uint64_t next;		/* next free table page */
};

static void *hva(struct xvt_vm *t, uint64_t gpa)
{
	return xvt_hva(t, gpa);
}

static void put64(struct xvt_vm *t, uint64_t gpa, uint64_t v)
{
	memcpy(hva(t, gpa), &v, 8);
}

static uint64_t get64(struct xvt_vm *t, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, hva(t, gpa), 8);
	return v;
}

static void put32(struct xvt_vm *t, uint64_t gpa, uint32_t v)
{
	memcpy(hva(t, gpa), &v, 4);
}

static uint32_t get32(struct xvt_vm *t, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, hva(t, gpa), 4);
	return v;
}

static uint64_t table_alloc(struct tables *tb)
{
	uint64_t gpa = tb->next;

	tb->next += SZ_4K;
	memset(hva(tb->t, gpa), 0, SZ_4K);
	return gpa;
}

/*
 * Map @la to @pa with a leaf at @leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB)
 * in the 8-byte-entry tables at @root with @top levels.
 */
static void map64(struct tables *tb, uint64_t root, int top, uint64_t la,
		  uint64_t pa, int leaf_level, uint64_t upper, uint64_t flags)
{
	uint64_t table = root;
	int level;

	for (level = top; level > leaf_level; level--) {
		uint64_t slot = table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
		uint64_t e = get64(tb->t, slot);

		if (!(e & P)) {
			e = table_alloc(tb) | upper;
			put64(tb->t, slot, e);
		}
		table = e & ADDR_MASK;
	}
	put64(tb->t, table + ((la >> (12 + 9 * (leaf_level - 1))) & 511) * 8,
	      pa | flags | (leaf_level > 1 ? PS : 0));
}

static int translate(struct xvcpu_vcpu *vcpu, uint64_t la, uint32_t access,
		     struct xvcpu_translation *tr)
{
	return xvcpu_translate(vcpu, la, access, tr);
}

FIXTURE(pg) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct xvcpu_run *run;
	struct tables tb;
	bool long_mode;
};

FIXTURE_SETUP(pg)
{
	XVT_REQUIRE_DEV();
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_TRANSLATE));
	self->t = xvt_vm_create(1);
	ASSERT_NE(NULL, self->t) TH_LOG("test VM: %s", strerror(errno));
	self->vcpu = self->t->vcpus[0];
	self->run = self->vcpu->run;
	ASSERT_NE(NULL, xvcpu_vm_add_memory(self->t->vm, SLOT, MEM_GPA,
					    MEM_SIZE, 0));
	self->tb.t = self->t;
	self->tb.next = MEM_GPA;
}

FIXTURE_TEARDOWN(pg)
{
	xvt_vm_destroy(self->t);
}

/* A marker at @gpa that says where it is */
static uint32_t marker(uint64_t gpa)
{
	return 0xa0000000U ^ (uint32_t)(gpa * 2654435761U);
}

static void put_marker(struct xvt_vm *t, uint64_t gpa)
{
	put32(t, gpa, marker(gpa));
}

static void put_fetch_target(struct xvt_vm *t, uint64_t gpa)
{
	memcpy(hva(t, gpa), fetch_target, sizeof(fetch_target));
}

/*
 * The guest makes access @access at @la; XVCPU_TRANSLATE must agree with
 * what happened.  The translation is left in @tr for further checks.
 */
static void agree_with_guest(struct __test_metadata *_metadata,
			 struct _test_data_pg *self, uint64_t la,
			 uint32_t access, struct xvcpu_translation *tr)
{
	struct xvcpu_regs regs;
	struct xvt_idt_event *e;
	const char *code;
	char buf[256];

	ASSERT_EQ(0, translate(self->vcpu, la, access, tr))
		TH_LOG("TRANSLATE %#llx: %s", (unsigned long long)la,
		       strerror(errno));
	if (access & W)
		code = self->long_mode ? tr_code64_write : tr_code32_write;
	else if (access & X)
		code = self->long_mode ? tr_code64_fetch : tr_code32_fetch;
	else
		code = self->long_mode ? tr_code64_read : tr_code32_read;

	xvt_idt_reset(self->t);
	xvt_idt_set_resume(self->t, addr(self->long_mode ? tr_code64_faulted :
					 tr_code32_faulted));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rip = addr(code);
	regs.rdi = la;
	regs.rax = WRITE_VALUE;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IO);

	if (self->run->io.port == PORT_OK) {
		ASSERT_TRUE(tr->valid)
			TH_LOG("%#llx access %u: the guest succeeded, TRANSLATE says #PF %#x",
			       (unsigned long long)la, access, tr->error_code);
		if (access & W) {
			EXPECT_EQ(WRITE_VALUE,
				  get32(self->t, tr->physical_address));
		} else if (!(access & X)) {
			EXPECT_EQ(get32(self->t, tr->physical_address),
				  (uint32_t)self->run->io.data)
				TH_LOG("%#llx -> %#llx", (unsigned long long)la,
				       (unsigned long long)tr->physical_address);
		}
		return;
	}
	ASSERT_EQ(PORT_FAULT, self->run->io.port)
		TH_LOG("%s", xvt_exit_str(self->vcpu, buf, sizeof(buf)));
	ASSERT_EQ(1, xvt_idt_total(self->t));
	e = xvt_idt_event(self->t, 0);
	ASSERT_EQ(14, e->vector);
	EXPECT_EQ(la, e->cr2);
	EXPECT_FALSE(tr->valid)
		TH_LOG("%#llx access %u: the guest took #PF %#llx, TRANSLATE gives %#llx",
		       (unsigned long long)la, access,
		       (unsigned long long)e->error_code,
		       (unsigned long long)tr->physical_address);
	EXPECT_EQ(e->error_code, tr->error_code)
		TH_LOG("%#llx access %u", (unsigned long long)la, access);
}

#define AGREES(la, access, tr) do {					\
	agree_with_guest(_metadata, self, (la), (access), (tr));		\
	if (_metadata->exit_code)					\
		return;							\
} while (0)

/* ---- paging off ---- */

TEST_F(pg, paging_off_is_identity)
{
	struct xvcpu_translation tr;

	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   addr(tr_code32_read),
					   XVT_STACK_TOP - 0x100,
					   XVT_TABLES_GPA));
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	put_marker(self->t, DATA_4K + 0x44);
	AGREES(DATA_4K + 0x44, 0, &tr);
	EXPECT_EQ(DATA_4K + 0x44, tr.physical_address);
	EXPECT_EQ(SZ_4K, tr.page_size);
	EXPECT_TRUE(tr.writable && tr.user && tr.executable);
	ASSERT_EQ(0, translate(self->vcpu, 0xfffff000, W | U, &tr));
	EXPECT_TRUE(tr.valid);
	EXPECT_EQ(0xfffff000, tr.physical_address);
	/* Linear addresses are 32 bits wide here */
	EXPECT_EQ(-EINVAL, translate(self->vcpu, 0x100000000ULL, 0, &tr));
}

/* ---- 32-bit paging (CR4.PSE for 4 MiB pages) ---- */

#define LA32_RW		0x80001000U	/* user, writable 4 KiB page */
#define LA32_RO		0x80002000U	/* supervisor, read-only */
#define LA32_NP		0x80003000U	/* not present */
#define LA32_4M		0x80400000U	/* 4 MiB page */
#define LA32_RSVD	0x80800000U	/* 4 MiB PDE with bit 21 set */
#define LA32_NOPDE	0xc0000000U	/* PDE not present */

static void paging_on_32(struct __test_metadata *_metadata,
			 struct _test_data_pg *self, uint64_t cr3,
			 uint64_t cr4, uint64_t efer)
{
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   addr(tr_code32_paging_on),
					   XVT_STACK_TOP - 0x100,
					   XVT_TABLES_GPA));
	if (efer) {
		ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
		sregs.efer |= efer;
		ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	}
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rax = cr3;
	regs.rbx = cr4;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IO);
	ASSERT_EQ(PORT_PAGING_ON, self->run->io.port);
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	ASSERT_EQ(CR0_PG | CR0_WP, sregs.cr0 & (CR0_PG | CR0_WP));
	self->long_mode = false;
}

TEST_F(pg, paging_32bit)
{
	struct xvcpu_translation tr;
	uint64_t pd = table_alloc(&self->tb), pt = table_alloc(&self->tb);
	uint32_t i;

	/* Identity: the first GiB with 4 MiB pages (code, stacks, IDT) */
	for (i = 0; i < 256; i++)
		put32(self->t, pd + 4 * i, (i << 22) | P | RW | PS);
	put32(self->t, pd + 4 * (LA32_RW >> 22), pt | P | RW | US);
	put32(self->t, pt + 4 * 1, (DATA_4K + 0x1000) | P | RW | US);
	put32(self->t, pt + 4 * 2, (DATA_4K + 0x2000) | P);
	put32(self->t, pd + 4 * (LA32_4M >> 22), DATA_4M | P | RW | PS);
	put32(self->t, pd + 4 * (LA32_RSVD >> 22),
	      DATA_4M | (1U << 21) | P | RW | PS);
	put_marker(self->t, DATA_4K + 0x1000 + 0x10);
	put_marker(self->t, DATA_4K + 0x2000 + 0x20);
	put_marker(self->t, DATA_4M + 0x123458);
	put_fetch_target(self->t, DATA_4K + 0x1000 + FETCH_OFFSET);

	paging_on_32(_metadata, self, pd | 0x18, CR4_PSE, 0);

	AGREES(LA32_RW + 0x10, 0, &tr);
	EXPECT_EQ(DATA_4K + 0x1010, tr.physical_address);
	EXPECT_EQ(SZ_4K, tr.page_size);
	EXPECT_TRUE(tr.writable && tr.user && tr.executable);
	AGREES(LA32_RW + 0x14, W, &tr);
	AGREES(LA32_RW + FETCH_OFFSET, X, &tr);
	EXPECT_TRUE(tr.valid);

	AGREES(LA32_RO + 0x20, 0, &tr);
	EXPECT_FALSE(tr.writable);
	EXPECT_FALSE(tr.user);
	AGREES(LA32_RO + 0x20, W, &tr);
	EXPECT_EQ(0x3, tr.error_code);	/* P | W: CR0.WP = 1 */

	AGREES(LA32_NP + 0x30, 0, &tr);
	EXPECT_EQ(0x0, tr.error_code);
	AGREES(LA32_NP + 0x30, W, &tr);
	EXPECT_EQ(0x2, tr.error_code);
	AGREES(LA32_NOPDE, W, &tr);
	AGREES(LA32_NOPDE + 0x40, X, &tr);
	EXPECT_EQ(0x0, tr.error_code);	/* no I/D without NXE or SMEP */

	AGREES(LA32_4M + 0x123458, 0, &tr);
	EXPECT_EQ(DATA_4M + 0x123458, tr.physical_address);
	EXPECT_EQ(SZ_4M, tr.page_size);
	AGREES(LA32_RSVD + 0x10, 0, &tr);
	EXPECT_EQ(0x9, tr.error_code);	/* P | RSVD */

	/* User accesses (the guest runs at CPL 0: TRANSLATE only) */
	ASSERT_EQ(0, translate(self->vcpu, LA32_RW, W | U, &tr));
	EXPECT_TRUE(tr.valid);
	ASSERT_EQ(0, translate(self->vcpu, LA32_RO, U, &tr));
	EXPECT_FALSE(tr.valid);
	EXPECT_EQ(0x5, tr.error_code);
	ASSERT_EQ(0, translate(self->vcpu, LA32_NP, U | W, &tr));
	EXPECT_EQ(0x6, tr.error_code);
}

/* ---- PAE paging, with EFER.NXE ---- */

#define LAP_XD		0x80200000U	/* 2 MiB page, execute-disable */
#define LAP_RSVD	0x80004000U	/* 4 KiB PTE with an address bit >= M */
#define LAP_NOPDPTE	0xc0000000U	/* PDPTE 3 not present */

TEST_F(pg, paging_pae)
{
	struct xvcpu_translation tr;
	uint64_t pdpt = table_alloc(&self->tb), pd0 = table_alloc(&self->tb);
	uint64_t pd2 = table_alloc(&self->tb);
	unsigned int m = maxphyaddr();
	uint32_t i;

	for (i = 0; i < 512; i++)
		put64(self->t, pd0 + 8 * i, ((uint64_t)i << 21) | P | RW | PS);
	put64(self->t, pdpt + 0, pd0 | P);
	put64(self->t, pdpt + 16, pd2 | P);
	map64(&self->tb, pd2, 2, LA32_RW, DATA_4K + 0x1000, 1, P | RW | US,
	      P | RW | US);
	map64(&self->tb, pd2, 2, LA32_RO, DATA_4K + 0x2000, 1, P | RW | US, P);
	map64(&self->tb, pd2, 2, LAP_XD, DATA_2M, 2, 0, P | RW | XD);
	if (m < 52)
		map64(&self->tb, pd2, 2, LAP_RSVD,
		      (DATA_4K + 0x4000) | (1ULL << m), 1, P | RW, P | RW);
	put_marker(self->t, DATA_4K + 0x1000 + 0x10);
	put_marker(self->t, DATA_4K + 0x2000 + 0x20);
	put_marker(self->t, DATA_2M + 0x1ffff0);
	put_fetch_target(self->t, DATA_4K + 0x1000 + FETCH_OFFSET);
	put_fetch_target(self->t, DATA_2M + FETCH_OFFSET);

	/* CR3 needs only 32-byte alignment for PAE paging */
	ASSERT_EQ(0, (pdpt & 31));
	paging_on_32(_metadata, self, pdpt, CR4_PAE, EFER_NXE);

	AGREES(LA32_RW + 0x10, 0, &tr);
	EXPECT_EQ(DATA_4K + 0x1010, tr.physical_address);
	EXPECT_TRUE(tr.writable && tr.user && tr.executable);
	AGREES(LA32_RW + 0x18, W, &tr);
	AGREES(LA32_RW + FETCH_OFFSET, X, &tr);
	AGREES(LA32_RO + 0x20, W, &tr);
	EXPECT_EQ(0x3, tr.error_code);
	AGREES(LA32_NP, 0, &tr);
	AGREES(LA32_NP, X, &tr);
	EXPECT_EQ(0x10, tr.error_code);	/* I/D: PAE with NXE */

	AGREES(LAP_XD + 0x1ffff0, 0, &tr);
	EXPECT_EQ(DATA_2M + 0x1ffff0, tr.physical_address);
	EXPECT_EQ(SZ_2M, tr.page_size);
	EXPECT_FALSE(tr.executable);
	AGREES(LAP_XD + FETCH_OFFSET, X, &tr);
	EXPECT_EQ(0x11, tr.error_code);	/* P | I/D */

	if (m < 52) {
		AGREES(LAP_RSVD, 0, &tr);
		EXPECT_EQ(0x9, tr.error_code);
	}
	AGREES(LAP_NOPDPTE + 0x8, W, &tr);
	EXPECT_EQ(0x2, tr.error_code);
}

/* ---- 4-level and 5-level paging ---- */

#define LA64_RW		0x00007f0000001000ULL
#define LA64_RO		0x00007f0000002000ULL
#define LA64_NP		0x00007f0000003000ULL
#define LA64_RSVD	0x00007f0000004000ULL
#define LA64_XD		0x00007f0000200000ULL	/* 2 MiB, execute-disable */
#define LA64_1G		0xffff800040000000ULL	/* 1 GiB, read-only */
#define LA64_NOPML4E	0x0000400000000000ULL

/* Point CR3 at @cr3 (and CR4 |= @cr4) with EFER.NXE; false if refused */
static bool long_paging(struct __test_metadata *_metadata,
			struct _test_data_pg *self, uint64_t cr3, uint64_t cr4)
{
	struct xvcpu_sregs sregs;

	if (xvcpu_get_sregs(self->vcpu, &sregs))
		return false;
	sregs.cr3 = cr3;
	sregs.cr4 |= cr4;
	sregs.efer |= EFER_NXE;
	sregs.cr0 |= CR0_WP;
	if (xvcpu_set_sregs(self->vcpu, &sregs))
		return false;
	EXPECT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	self->long_mode = true;
	return true;
}

/* The test mappings under 4-level root @pml4 (after the identity map) */
static void map_long_cases(struct _test_data_pg *self, uint64_t pml4,
			   int top)
{
	unsigned int m = maxphyaddr();

	map64(&self->tb, pml4, top, LA64_RW, DATA_4K + 0x1000, 1,
	      P | RW | US, P | RW | US);
	map64(&self->tb, pml4, top, LA64_RO, DATA_4K + 0x2000, 1,
	      P | RW | US, P);
	map64(&self->tb, pml4, top, LA64_XD, DATA_2M, 2, P | RW | US,
	      P | RW | XD);
	if (m < 52)
		map64(&self->tb, pml4, top, LA64_RSVD,
		      (DATA_4K + 0x4000) | (1ULL << m), 1, P | RW, P | RW);
	map64(&self->tb, pml4, top, LA64_1G, MEM_GPA, 3, P | RW, P);
	put_marker(self->t, DATA_4K + 0x1000 + 0x10);
	put_marker(self->t, DATA_4K + 0x2000 + 0x20);
	put_marker(self->t, DATA_2M + 0x1234 * 4);
	put_marker(self->t, MEM_GPA + 0x600000);
	put_fetch_target(self->t, DATA_4K + 0x1000 + FETCH_OFFSET);
	put_fetch_target(self->t, DATA_2M + FETCH_OFFSET);
}

static void check_long_cases(struct __test_metadata *_metadata,
			     struct _test_data_pg *self, uint64_t hi)
{
	struct xvcpu_translation tr;
	unsigned int m = maxphyaddr();

	AGREES(hi | (LA64_RW + 0x10), 0, &tr);
	EXPECT_EQ(DATA_4K + 0x1010, tr.physical_address);
	EXPECT_EQ(SZ_4K, tr.page_size);
	EXPECT_TRUE(tr.writable && tr.user && tr.executable);
	AGREES(hi | (LA64_RW + 0x10), W, &tr);
	AGREES(hi | (LA64_RW + FETCH_OFFSET), X, &tr);
	AGREES(hi | (LA64_RO + 0x20), 0, &tr);
	EXPECT_FALSE(tr.writable);
	EXPECT_FALSE(tr.user);		/* U/S = 0 in the PTE only */
	AGREES(hi | (LA64_RO + 0x20), W, &tr);
	EXPECT_EQ(0x3, tr.error_code);
	AGREES(hi | LA64_NP, 0, &tr);
	EXPECT_EQ(0x0, tr.error_code);
	AGREES(hi | LA64_NP, X, &tr);
	EXPECT_EQ(0x10, tr.error_code);
	AGREES(hi | (LA64_XD + 0x1234 * 4), 0, &tr);
	EXPECT_EQ(SZ_2M, tr.page_size);
	EXPECT_EQ(DATA_2M + 0x1234 * 4, tr.physical_address);
	AGREES(hi | (LA64_XD + FETCH_OFFSET), X, &tr);
	EXPECT_EQ(0x11, tr.error_code);
	if (m < 52) {
		AGREES(hi | LA64_RSVD, W, &tr);
		EXPECT_EQ(0xb, tr.error_code);
	}
	AGREES(hi | LA64_NOPML4E, 0, &tr);

	/* 1 GiB page, or PS reserved in a PDPTE without them (5.5.4) */
	AGREES(LA64_1G + 0x600000, 0, &tr);
	if (cpu_gbpages()) {
		EXPECT_EQ(MEM_GPA + 0x600000, tr.physical_address);
		EXPECT_EQ(SZ_1G, tr.page_size);
		AGREES(LA64_1G + 0x600000, W, &tr);
		EXPECT_EQ(0x3, tr.error_code);
	} else {
		EXPECT_EQ(0x9, tr.error_code);
	}

	/* User accesses: TRANSLATE only */
	ASSERT_EQ(0, translate(self->vcpu, hi | LA64_RO, U, &tr));
	EXPECT_EQ(0x5, tr.error_code);
	ASSERT_EQ(0, translate(self->vcpu, hi | LA64_RW, U | W, &tr));
	EXPECT_TRUE(tr.valid);
	ASSERT_EQ(0, translate(self->vcpu, hi | LA64_XD, U, &tr));
	EXPECT_EQ(0x5, tr.error_code);	/* the PDE is user, the PML4E not */
}

TEST_F(pg, paging_4level)
{
	uint64_t pml4 = table_alloc(&self->tb);
	struct xvcpu_sregs sregs;
	struct xvcpu_translation tr;

	/* The identity map of the test VM stays in PML4[0] */
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	put64(self->t, pml4, get64(self->t, sregs.cr3 & ADDR_MASK));
	map_long_cases(self, pml4, 4);
	/* PCID bits 11:0 of CR3 are not part of the address (CR4.PCIDE=0) */
	ASSERT_TRUE(long_paging(_metadata, self, pml4 | 0x18, 0));
	check_long_cases(_metadata, self, 0);

	/* Not canonical: no translation at all */
	EXPECT_EQ(-EINVAL, translate(self->vcpu, 0x0000800000000000ULL, 0,
				     &tr));
	EXPECT_EQ(-EINVAL, translate(self->vcpu, 0x00ff000000001000ULL, 0,
				     &tr));
}

TEST_F(pg, paging_5level)
{
	uint64_t pml5 = table_alloc(&self->tb), pml4 = table_alloc(&self->tb);
	const uint64_t hi = 0x00ff000000000000ULL;	/* PML5 index 255 */
	struct xvcpu_sregs sregs;
	struct xvcpu_translation tr;

	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	put64(self->t, pml4, get64(self->t, sregs.cr3 & ADDR_MASK));
	put64(self->t, pml5, pml4 | P | RW);
	/* The same cases, at PML5 index 255 (and 0 for the 1 GiB page) */
	map_long_cases(self, pml4, 4);
	map64(&self->tb, pml5, 5, hi | LA64_RW, DATA_4K + 0x1000, 1,
	      P | RW | US, P | RW | US);
	map64(&self->tb, pml5, 5, hi | LA64_RO, DATA_4K + 0x2000, 1,
	      P | RW | US, P);
	map64(&self->tb, pml5, 5, hi | LA64_XD, DATA_2M, 2, P | RW | US,
	      P | RW | XD);
	if (maxphyaddr() < 52)
		map64(&self->tb, pml5, 5, hi | LA64_RSVD,
		      (DATA_4K + 0x4000) | (1ULL << maxphyaddr()), 1,
		      P | RW, P | RW);
	map64(&self->tb, pml5, 5, LA64_1G, MEM_GPA, 3, P | RW, P);
	if (!long_paging(_metadata, self, pml5, CR4_LA57))
		SKIP(return, "CR4.LA57 (5-level paging) is refused here");
	/* Entry fails if the processor has no 5-level paging after all */
	check_long_cases(_metadata, self, hi);
	/* Canonical means 57 bits now */
	EXPECT_EQ(-EINVAL, translate(self->vcpu, 0x0100000000000000ULL, 0,
				     &tr));
}

/* ---- argument checks ---- */

TEST_F(pg, bad_arguments)
{
	struct xvcpu_translation tr;

	memset(&tr, 0, sizeof(tr));
	tr.linear_address = 0x1000;
	ASSERT_EQ(0, ioctl(self->vcpu->fd, XVCPU_TRANSLATE, &tr));
	EXPECT_TRUE(tr.valid);
	tr.pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_TRANSLATE, &tr));
	tr.pad = 0;
	tr.reserved[1] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_TRANSLATE, &tr));
	tr.reserved[1] = 0;
	tr.access = 1U << 3;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_TRANSLATE, &tr));
	tr.access = W | X;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_TRANSLATE, &tr));
	ASSERT_ERRNO(EFAULT, ioctl(self->vcpu->fd, XVCPU_TRANSLATE, NULL));
	/* A page table outside guest memory: ENOENT */
	put64(self->t, (XVT_TABLES_GPA + XVCPU_SETUP_PML4_OFFSET) + 8 * 255,
	      XVT_UNMAPPED_GPA | P | RW);
	tr.access = 0;
	tr.linear_address = 0x00007f8000000000ULL;
	ASSERT_ERRNO(ENOENT, ioctl(self->vcpu->fd, XVCPU_TRANSLATE, &tr));
}

TEST_HARNESS_MAIN
