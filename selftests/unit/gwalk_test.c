// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmod/gwalk.c: page tables of every paging mode built in a
 * fake guest-physical memory, walked for translations, large pages, rights
 * and #PF error codes (SDM Vol. 3A chapter 5).
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <string.h>
#include "kselftest_harness.h"
#include "kmod/gwalk.h"
#include "uapi/xvcpu.h"

#define MEM_SIZE	0x100000ULL	/* 1 MiB of fake guest memory at GPA 0 */

#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR0_PE		1ULL
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_LA57	(1ULL << 12)
#define CR4_SMEP	(1ULL << 20)
#define CR4_SMAP	(1ULL << 21)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NXE	(1ULL << 11)

#define P	(1ULL << 0)
#define RW	(1ULL << 1)
#define US	(1ULL << 2)
#define A	(1ULL << 5)
#define D	(1ULL << 6)
#define PS	(1ULL << 7)
#define XD	(1ULL << 63)

#define W	XVCPU_ACCESS_WRITE
#define U	XVCPU_ACCESS_USER
#define X	XVCPU_ACCESS_FETCH

#define SZ_4K	0x1000ULL
#define SZ_2M	0x200000ULL
#define SZ_4M	0x400000ULL
#define SZ_1G	0x40000000ULL

struct fake {
	unsigned char mem[MEM_SIZE];
	u64 next;		/* next free table page */
	unsigned int reads;
};

static int fake_read(void *ctx, u64 gpa, unsigned int size, u64 *val)
{
	struct fake *f = ctx;
	u64 v = 0;

	if (gpa + size > MEM_SIZE || gpa % size)
		return -EFAULT;
	memcpy(&v, f->mem + gpa, size);
	*val = v;
	f->reads++;
	return 0;
}

static u64 new_table(struct fake *f)
{
	u64 pa = f->next;

	f->next += SZ_4K;
	return pa;
}

static void put(struct fake *f, u64 gpa, unsigned int size, u64 v)
{
	memcpy(f->mem + gpa, &v, size);
}

static u64 get(struct fake *f, u64 gpa, unsigned int size)
{
	u64 v = 0;

	memcpy(&v, f->mem + gpa, size);
	return v;
}

/*
 * Map @la to @pa with a leaf at @leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB)
 * in the 8-byte-entry tables rooted at @root with @top levels; new tables
 * get @upper flags, the leaf @flags.
 */
static void map64(struct fake *f, u64 root, int top, u64 la, u64 pa,
		  int leaf_level, u64 upper, u64 flags)
{
	u64 table = root;
	int level;

	for (level = top; level > leaf_level; level--) {
		u64 slot = table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
		u64 e = get(f, slot, 8);

		if (!(e & P)) {
			e = new_table(f) | upper;
			put(f, slot, 8, e);
		}
		table = e & 0x000ffffffffff000ULL;
	}
	put(f, table + ((la >> (12 + 9 * (leaf_level - 1))) & 511) * 8, 8,
	    pa | flags | (leaf_level > 1 ? PS : 0));
}

/* The entry at @level for @la, to change a bit in a test. */
static u64 slot64(struct fake *f, u64 root, int top, u64 la, int level)
{
	u64 table = root;
	int l;

	for (l = top; l > level; l--)
		table = get(f, table + ((la >> (12 + 9 * (l - 1))) & 511) * 8,
			    8) & 0x000ffffffffff000ULL;
	return table + ((la >> (12 + 9 * (level - 1))) & 511) * 8;
}

FIXTURE(gw) {
	struct fake *f;
	struct gwalk_cpu cpu;
	struct gwalk_result res;
};

FIXTURE_SETUP(gw)
{
	self->f = calloc(1, sizeof(*self->f));
	ASSERT_NE(NULL, self->f);
	self->f->next = SZ_4K;
	memset(&self->cpu, 0, sizeof(self->cpu));
	self->cpu.maxphyaddr = 46;
	self->cpu.gbpages = true;
}

FIXTURE_TEARDOWN(gw)
{
	free(self->f);
}

static int walk(struct _test_data_gw *self, u64 la, u32 access)
{
	memset(&self->res, 0xa5, sizeof(self->res));
	return gwalk(&self->cpu, la, access, fake_read, self->f, &self->res);
}

/* ---- paging off ---- */

TEST_F(gw, paging_off_is_identity)
{
	self->cpu.cr0 = CR0_PE;
	ASSERT_EQ(0, walk(self, 0xfffff123, W | U | X));
	EXPECT_EQ(0xfffff123, self->res.gpa);
	EXPECT_EQ(SZ_4K, self->res.page_size);
	EXPECT_TRUE(self->res.writable);
	EXPECT_TRUE(self->res.user);
	EXPECT_TRUE(self->res.executable);
	EXPECT_EQ(0, self->f->reads);
	/* Linear addresses are 32 bits outside IA-32e mode */
	EXPECT_EQ(GWALK_NONCANONICAL, walk(self, 0x100000000ULL, 0));
}

/* ---- 32-bit paging ---- */

static void setup32(struct _test_data_gw *self, u64 cr4)
{
	self->cpu.cr0 = CR0_PE | CR0_PG | CR0_WP;
	self->cpu.cr4 = cr4;
	self->cpu.cr3 = new_table(self->f) | 0x18;	/* PWT/PCD ignored */
}

static void map32_4k(struct fake *f, u64 cr3, u64 la, u64 pa, u64 upper,
		     u64 flags)
{
	u64 pd = cr3 & 0xfffff000;
	u64 pde = get(f, pd + (la >> 22) * 4, 4);

	if (!(pde & P)) {
		pde = new_table(f) | upper;
		put(f, pd + (la >> 22) * 4, 4, pde);
	}
	put(f, (pde & 0xfffff000) + ((la >> 12) & 0x3ff) * 4, 4, pa | flags);
}

TEST_F(gw, p32_4k_translation_and_rights)
{
	setup32(self, 0);
	map32_4k(self->f, self->cpu.cr3, 0xc0101000, 0x00345000, P | RW | US,
		 P | RW | US);
	ASSERT_EQ(0, walk(self, 0xc0101abc, W | U));
	EXPECT_EQ(0x00345abc, self->res.gpa);
	EXPECT_EQ(SZ_4K, self->res.page_size);
	EXPECT_TRUE(self->res.writable);
	EXPECT_TRUE(self->res.user);
	/* No XD in 32-bit paging: everything is executable */
	EXPECT_TRUE(self->res.executable);
	EXPECT_EQ(0, walk(self, 0xc0101abc, X | U));

	/* Not present: the next page; error code P=0 with W and U */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0xc0102000, 0));
	EXPECT_EQ(0, self->res.error_code);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0xc0102000, W | U));
	EXPECT_EQ(0x6, self->res.error_code);
	/* Not present PDE */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x00001000, W));
	EXPECT_EQ(0x2, self->res.error_code);
	/* A fetch sets I/D only with SMEP (or PAE with NXE) */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x00001000, X));
	EXPECT_EQ(0x0, self->res.error_code);
}

TEST_F(gw, p32_read_only_and_supervisor_pages)
{
	setup32(self, 0);
	/* The PDE allows writes, the PTE does not; supervisor only */
	map32_4k(self->f, self->cpu.cr3, 0x00400000, 0x9000, P | RW | US, P);
	ASSERT_EQ(0, walk(self, 0x00400010, 0));
	EXPECT_FALSE(self->res.writable);
	EXPECT_FALSE(self->res.user);
	/* User read of a supervisor page: P | U */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x00400010, U));
	EXPECT_EQ(0x5, self->res.error_code);
	/* Supervisor write with CR0.WP = 1: P | W */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x00400010, W));
	EXPECT_EQ(0x3, self->res.error_code);
	/* ... allowed with CR0.WP = 0 */
	self->cpu.cr0 &= ~CR0_WP;
	EXPECT_EQ(0, walk(self, 0x00400010, W));
	EXPECT_EQ(0x9010, self->res.gpa);
	/* A user write to a read-only user page faults whatever WP says */
	put(self->f, (get(self->f, self->cpu.cr3 & 0xfffff000, 4) &
		      0xfffff000) + 4 * 0, 4, 0x9000 | P | US);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x00400010, W | U));
	EXPECT_EQ(0x7, self->res.error_code);
}

TEST_F(gw, p32_user_bit_needed_at_every_level)
{
	setup32(self, 0);
	map32_4k(self->f, self->cpu.cr3, 0x00800000, 0x5000, P | RW,
		 P | RW | US);
	ASSERT_EQ(0, walk(self, 0x00800000, 0));
	EXPECT_FALSE(self->res.user);
	EXPECT_TRUE(self->res.writable);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x00800000, U));
	EXPECT_EQ(0x5, self->res.error_code);
}

TEST_F(gw, p32_4m_pages_with_pse36)
{
	u64 pd;

	setup32(self, CR4_PSE);
	pd = self->cpu.cr3 & 0xfffff000;
	self->cpu.maxphyaddr = 40;
	/* PA bits 39:32 from PDE bits 20:13 (Table 5-4) */
	put(self->f, pd + (0x80000000 >> 22) * 4, 4,
	    0x12c00000 | (0xabULL << 13) | P | RW | PS);
	ASSERT_EQ(0, walk(self, 0x80123456, W));
	EXPECT_EQ(0xab12d23456ULL, self->res.gpa);
	EXPECT_EQ(SZ_4M, self->res.page_size);

	/* Bit 21 is reserved: P | RSVD, with W */
	put(self->f, pd + (0x80000000 >> 22) * 4, 4,
	    0x12c00000 | (1 << 21) | P | RW | PS);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x80123456, W));
	EXPECT_EQ(0xb, self->res.error_code);

	/* With MAXPHYADDR 36, PDE bits 20:17 are reserved too */
	self->cpu.maxphyaddr = 36;
	put(self->f, pd + (0x80000000 >> 22) * 4, 4,
	    0x12c00000 | (0x0fULL << 13) | P | PS);
	ASSERT_EQ(0, walk(self, 0x80000000, 0));
	EXPECT_EQ(0xf12c00000ULL, self->res.gpa);
	put(self->f, pd + (0x80000000 >> 22) * 4, 4,
	    0x12c00000 | (0x10ULL << 13) | P | PS);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x80000000, 0));
	EXPECT_EQ(0x9, self->res.error_code);
}

TEST_F(gw, p32_ps_ignored_without_cr4_pse)
{
	u64 pd, pt;

	setup32(self, 0);
	pd = self->cpu.cr3 & 0xfffff000;
	pt = new_table(self->f);
	/* PS set, but CR4.PSE = 0: the PDE points to a page table */
	put(self->f, pd, 4, pt | P | RW | PS);
	put(self->f, pt + 3 * 4, 4, 0x77000 | P);
	ASSERT_EQ(0, walk(self, 0x3008, 0));
	EXPECT_EQ(0x77008, self->res.gpa);
	EXPECT_EQ(SZ_4K, self->res.page_size);
}

TEST_F(gw, p32_smep_and_smap)
{
	setup32(self, CR4_SMEP | CR4_SMAP);
	map32_4k(self->f, self->cpu.cr3, 0x1000, 0x2000, P | RW | US,
		 P | RW | US);
	/* Supervisor fetch from a user page: P | I/D */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x1000, X));
	EXPECT_EQ(0x11, self->res.error_code);
	/* A user fetch is fine */
	EXPECT_EQ(0, walk(self, 0x1000, X | U));
	/* Supervisor data access to a user page: only with RFLAGS.AC */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x1000, W));
	EXPECT_EQ(0x3, self->res.error_code);
	self->cpu.ac = true;
	EXPECT_EQ(0, walk(self, 0x1000, W));
	EXPECT_EQ(0x2000, self->res.gpa);
	/* User not-present fetch with SMEP: I/D set */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x400000, X | U));
	EXPECT_EQ(0x14, self->res.error_code);
}

/* ---- PAE paging ---- */

static u64 setup_pae(struct _test_data_gw *self, u64 efer)
{
	u64 pdpt = new_table(self->f) + 0x40;	/* 32-byte aligned is enough */

	self->cpu.cr0 = CR0_PE | CR0_PG | CR0_WP;
	self->cpu.cr4 = CR4_PAE;
	self->cpu.efer = efer;
	self->cpu.cr3 = pdpt;
	return pdpt;
}

/* Map in PAE tables: the PDPTE for @la must be present already. */
static void map_pae(struct fake *f, u64 pdpt, u64 la, u64 pa, int leaf_level,
		    u64 upper, u64 flags)
{
	u64 pdpte = get(f, pdpt + (la >> 30) * 8, 8);

	map64(f, pdpte & 0x000ffffffffff000ULL, 2, la, pa, leaf_level, upper,
	      flags);
}

TEST_F(gw, pae_4k_and_2m)
{
	u64 pdpt = setup_pae(self, EFER_NXE);

	put(self->f, pdpt + 3 * 8, 8, new_table(self->f) | P);
	map_pae(self->f, pdpt, 0xc0000000, 0x123400000ULL, 2, P | RW,
		P | RW | XD);
	map_pae(self->f, pdpt, 0xc0401000, 0x4567000, 1, P | RW | US,
		P | US);
	ASSERT_EQ(0, walk(self, 0xc01ffff0, W));
	EXPECT_EQ(0x1235ffff0ULL, self->res.gpa);
	EXPECT_EQ(SZ_2M, self->res.page_size);
	EXPECT_FALSE(self->res.executable);
	EXPECT_FALSE(self->res.user);

	ASSERT_EQ(0, walk(self, 0xc0401234, U));
	EXPECT_EQ(0x4567234, self->res.gpa);
	EXPECT_EQ(SZ_4K, self->res.page_size);
	EXPECT_TRUE(self->res.user);
	EXPECT_FALSE(self->res.writable);
	EXPECT_TRUE(self->res.executable);

	/* Fetch from an XD page with EFER.NXE = 1: P | I/D */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0xc0000000, X));
	EXPECT_EQ(0x11, self->res.error_code);
	/* A PDPTE that is not present: 0, I/D for a fetch */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x00000000, X));
	EXPECT_EQ(0x10, self->res.error_code);
}

TEST_F(gw, pae_reserved_bits)
{
	u64 pdpt = setup_pae(self, 0);
	u64 pdpte = new_table(self->f) | P;
	u64 slot;

	self->cpu.maxphyaddr = 36;
	put(self->f, pdpt, 8, pdpte);
	map_pae(self->f, pdpt, 0x1000, 0x3000, 1, P | RW, P | RW);
	ASSERT_EQ(0, walk(self, 0x1000, 0));
	EXPECT_TRUE(self->res.executable);

	/* XD with EFER.NXE = 0 is a reserved bit */
	slot = slot64(self->f, pdpte & ~0xfffULL, 2, 0x1000, 1);
	put(self->f, slot, 8, 0x3000 | P | RW | XD);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x1000, W));
	EXPECT_EQ(0xb, self->res.error_code);
	/* So are bits 62:MAXPHYADDR */
	put(self->f, slot, 8, 0x3000 | P | RW | (1ULL << 36));
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x1000, 0));
	EXPECT_EQ(0x9, self->res.error_code);
	put(self->f, slot, 8, 0x3000 | P | RW | (1ULL << 62));
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x1000, 0));
	EXPECT_EQ(0x9, self->res.error_code);
	put(self->f, slot, 8, 0x3000 | P | RW);

	/* A PDPTE with R/W (bit 1, reserved there) set */
	put(self->f, pdpt, 8, pdpte | RW);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x1000, U));
	EXPECT_EQ(0xd, self->res.error_code);
	/* A 2 MiB PDE with bit 13 set */
	put(self->f, pdpt, 8, pdpte);
	slot = slot64(self->f, pdpte & ~0xfffULL, 2, 0x1000, 2);
	put(self->f, slot, 8, 0x200000 | P | PS | (1ULL << 13));
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x1000, 0));
	EXPECT_EQ(0x9, self->res.error_code);
	/* PAT (bit 12) is not */
	put(self->f, slot, 8, 0x200000 | P | PS | (1ULL << 12));
	ASSERT_EQ(0, walk(self, 0x1000, 0));
	EXPECT_EQ(0x201000, self->res.gpa);
}

TEST_F(gw, pae_pdpte_registers)
{
	u64 pdpt = setup_pae(self, 0);
	u64 pd_mem = new_table(self->f), pd_reg = new_table(self->f);
	u64 regs[4] = { 0, 0, pd_reg | P, 0 };

	/* Memory at CR3 says one thing, the PDPTE registers another */
	put(self->f, pdpt + 2 * 8, 8, pd_mem | P);
	put(self->f, pd_mem, 8, 0x400000 | P | PS);
	put(self->f, pd_reg, 8, 0x800000 | P | PS);
	ASSERT_EQ(0, walk(self, 0x80000010, 0));
	EXPECT_EQ(0x400010, self->res.gpa);
	self->cpu.pdptes = regs;
	self->f->reads = 0;
	ASSERT_EQ(0, walk(self, 0x80000010, 0));
	EXPECT_EQ(0x800010, self->res.gpa);
	EXPECT_EQ(1, self->f->reads);	/* the PDE only */
	/* A register that is not present */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x40000000, W));
	EXPECT_EQ(0x2, self->res.error_code);
}

/* ---- 4-level and 5-level paging ---- */

static u64 setup_long(struct _test_data_gw *self, u64 cr4, u64 efer)
{
	self->cpu.cr0 = CR0_PE | CR0_PG | CR0_WP;
	self->cpu.cr4 = CR4_PAE | cr4;
	self->cpu.efer = EFER_LME | EFER_LMA | efer;
	/* PCID bits in CR3 11:0 are not part of the address */
	self->cpu.cr3 = new_table(self->f) | 0x5a;
	return self->cpu.cr3 & ~0xfffULL;
}

TEST_F(gw, l4_page_sizes)
{
	u64 root = setup_long(self, 0, EFER_NXE);

	map64(self->f, root, 4, 0x7f0000001000ULL, 0x2000000000ULL + 0x5000,
	      1, P | RW | US, P | RW | US | A | D);
	map64(self->f, root, 4, 0xffff800000200000ULL, 0x40000000ULL, 2,
	      P | RW, P | RW);
	map64(self->f, root, 4, 0xffffffffc0000000ULL, 0x3fc0000000ULL, 3,
	      P | RW, P | XD);

	ASSERT_EQ(0, walk(self, 0x7f0000001ff8ULL, W | U));
	EXPECT_EQ(0x2000005ff8ULL, self->res.gpa);
	EXPECT_EQ(SZ_4K, self->res.page_size);
	EXPECT_TRUE(self->res.user);
	EXPECT_TRUE(self->res.writable);
	EXPECT_TRUE(self->res.executable);

	ASSERT_EQ(0, walk(self, 0xffff8000003fffffULL, X));
	EXPECT_EQ(0x401fffffULL, self->res.gpa);
	EXPECT_EQ(SZ_2M, self->res.page_size);
	EXPECT_FALSE(self->res.user);

	ASSERT_EQ(0, walk(self, 0xffffffffc1234567ULL, 0));
	EXPECT_EQ(0x3fc1234567ULL, self->res.gpa);
	EXPECT_EQ(SZ_1G, self->res.page_size);
	EXPECT_FALSE(self->res.writable);
	EXPECT_FALSE(self->res.executable);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0xffffffffc1234567ULL, X));
	EXPECT_EQ(0x11, self->res.error_code);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0xffffffffc1234567ULL, W));
	EXPECT_EQ(0x3, self->res.error_code);
}

TEST_F(gw, l4_walk_sets_no_accessed_or_dirty_bits)
{
	u64 root = setup_long(self, 0, 0);
	unsigned char *before = malloc(MEM_SIZE);

	ASSERT_NE(NULL, before);
	map64(self->f, root, 4, 0x400000, 0x800000, 1, P | RW, P | RW);
	memcpy(before, self->f->mem, MEM_SIZE);
	ASSERT_EQ(0, walk(self, 0x400000, W));
	EXPECT_EQ(4, self->f->reads);
	EXPECT_EQ(0, memcmp(before, self->f->mem, MEM_SIZE));
	free(before);
}

TEST_F(gw, l4_noncanonical)
{
	setup_long(self, 0, 0);
	EXPECT_EQ(GWALK_NONCANONICAL, walk(self, 0x0000800000000000ULL, 0));
	EXPECT_EQ(GWALK_NONCANONICAL, walk(self, 0xffff7fffffffffffULL, 0));
	EXPECT_EQ(GWALK_NONCANONICAL, walk(self, 0x00ff000000000000ULL, 0));
	EXPECT_EQ(0, self->f->reads);
	/* Canonical but not mapped: a #PF */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0xffff800000000000ULL, 0));
	EXPECT_EQ(0, self->res.error_code);
}

TEST_F(gw, l4_reserved_bits)
{
	u64 root = setup_long(self, 0, EFER_NXE);
	u64 slot;

	self->cpu.maxphyaddr = 39;
	map64(self->f, root, 4, 0x40000000, 0x40000000, 3, P | RW, P | RW);
	ASSERT_EQ(0, walk(self, 0x40000000, 0));

	/* 1 GiB page without 1 GiB page support: PS reserved */
	self->cpu.gbpages = false;
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x40000000, 0));
	EXPECT_EQ(0x9, self->res.error_code);
	self->cpu.gbpages = true;

	/* 1 GiB page with bit 29 set */
	slot = slot64(self->f, root, 4, 0x40000000, 3);
	put(self->f, slot, 8, 0x40000000 | P | PS | (1ULL << 29));
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x40000000, W));
	EXPECT_EQ(0xb, self->res.error_code);

	/* Address bit at MAXPHYADDR in a PML4E */
	put(self->f, slot, 8, 0x40000000 | P | PS);
	slot = slot64(self->f, root, 4, 0x40000000, 4);
	put(self->f, slot, 8, get(self->f, slot, 8) | (1ULL << 39));
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x40000000, U));
	EXPECT_EQ(0xd, self->res.error_code);
	/* Bits 62:52 are ignored */
	put(self->f, slot, 8, (get(self->f, slot, 8) & ~(1ULL << 39)) |
	    (0x7ffULL << 52));
	EXPECT_EQ(0, walk(self, 0x40000000, 0));
	/* PS in a PML4E is reserved */
	put(self->f, slot, 8, get(self->f, slot, 8) | PS);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x40000000, 0));
	EXPECT_EQ(0x9, self->res.error_code);
	put(self->f, slot, 8, get(self->f, slot, 8) & ~PS);

	/* XD with NXE = 0 is reserved, even where the walk would allow it */
	self->cpu.efer &= ~EFER_NXE;
	put(self->f, slot, 8, get(self->f, slot, 8) | XD);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x40000000, 0));
	EXPECT_EQ(0x9, self->res.error_code);
	/* and a fetch then carries no I/D (neither NXE nor SMEP) */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x40000000, X));
	EXPECT_EQ(0x9, self->res.error_code);
}

TEST_F(gw, l4_rights_gathered_across_levels)
{
	u64 root = setup_long(self, CR4_SMEP | CR4_SMAP, EFER_NXE);
	u64 slot;

	map64(self->f, root, 4, 0x600000, 0x900000, 1, P | RW | US,
	      P | RW | US);
	ASSERT_EQ(0, walk(self, 0x600000, W | U | 0));
	/* XD in the PDPTE alone makes the whole walk non-executable */
	slot = slot64(self->f, root, 4, 0x600000, 3);
	put(self->f, slot, 8, get(self->f, slot, 8) | XD);
	ASSERT_EQ(0, walk(self, 0x600000, U));
	EXPECT_FALSE(self->res.executable);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x600000, U | X));
	EXPECT_EQ(0x15, self->res.error_code);
	/* R/W = 0 in the PDE alone: a user write faults */
	put(self->f, slot, 8, get(self->f, slot, 8) & ~XD);
	slot = slot64(self->f, root, 4, 0x600000, 2);
	put(self->f, slot, 8, get(self->f, slot, 8) & ~RW);
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x600000, U | W));
	EXPECT_EQ(0x7, self->res.error_code);
	/* SMAP: a supervisor read of the user page faults, AC lets it */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x600000, 0));
	EXPECT_EQ(0x1, self->res.error_code);
	self->cpu.ac = true;
	EXPECT_EQ(0, walk(self, 0x600000, 0));
	/* ... but not a supervisor write to it with CR0.WP = 1 */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x600000, W));
	EXPECT_EQ(0x3, self->res.error_code);
	/* SMEP: supervisor fetch from a user page */
	EXPECT_EQ(GWALK_FAULT, walk(self, 0x600000, X));
	EXPECT_EQ(0x11, self->res.error_code);
}

TEST_F(gw, l5_walk)
{
	u64 root = setup_long(self, CR4_LA57, 0);
	u64 la = 0x00ff123456789000ULL;		/* canonical with 57 bits */

	map64(self->f, root, 5, la, 0x1000, 1, P | RW, P | RW);
	map64(self->f, root, 5, 0xff00000000200000ULL, 0x600000, 2, P, P);
	ASSERT_EQ(0, walk(self, la + 0x10, W));
	EXPECT_EQ(0x1010, self->res.gpa);
	EXPECT_EQ(5, self->f->reads);
	ASSERT_EQ(0, walk(self, 0xff00000000212345ULL, 0));
	EXPECT_EQ(0x612345, self->res.gpa);
	EXPECT_EQ(SZ_2M, self->res.page_size);
	EXPECT_EQ(GWALK_NONCANONICAL, walk(self, 0x0100000000000000ULL, 0));
	/* Without LA57 the same address is not canonical */
	self->cpu.cr4 &= ~CR4_LA57;
	EXPECT_EQ(GWALK_NONCANONICAL, walk(self, la, 0));
}

TEST_F(gw, read_errors_are_passed_on)
{
	setup_long(self, 0, 0);
	/* A PML4E pointing outside the fake memory */
	put(self->f, self->cpu.cr3 & ~0xfffULL, 8, 0x40000000ULL | P | RW);
	EXPECT_EQ(-EFAULT, walk(self, 0x1000, 0));
}

TEST_HARNESS_MAIN
