// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmod/ept.c against a fake page allocator: "physical"
 * addresses are the userspace addresses of 4 KiB aligned allocations.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stdlib.h>
#include <string.h>
#include "kselftest_harness.h"
#include "kmod/ept.h"
#include "include/xvcpu/vmx.h"

struct fake_mem {
	int live;	/* table pages allocated and not freed */
	int budget;	/* allocations left before failing; -1: unlimited */
};

static u64 *fake_alloc(void *ctx, u64 *pa)
{
	struct fake_mem *m = ctx;
	void *p;

	if (m->budget == 0)
		return NULL;
	if (m->budget > 0)
		m->budget--;
	p = aligned_alloc(4096, 4096);
	if (!p)
		return NULL;
	memset(p, 0, 4096);
	m->live++;
	*pa = (u64)(uintptr_t)p;
	return p;
}

static void fake_free(void *ctx, u64 *table)
{
	struct fake_mem *m = ctx;

	m->live--;
	free(table);
}

static u64 *fake_va(void *ctx, u64 pa)
{
	return (u64 *)(uintptr_t)pa;
}

static const struct ept_table_ops fake_ops = {
	.alloc = fake_alloc,
	.free = fake_free,
	.va = fake_va,
};

FIXTURE(ept) {
	struct fake_mem mem;
	struct ept ept;
};

FIXTURE_SETUP(ept)
{
	self->mem.budget = -1;
	ASSERT_EQ(0, ept_init(&self->ept, &fake_ops, &self->mem));
	ASSERT_EQ(1, self->mem.live);
}

FIXTURE_TEARDOWN(ept)
{
	ept_destroy(&self->ept);
	EXPECT_EQ(0, self->mem.live);
}

#define HPA_4K	0x123456000ULL
#define HPA_2M	0x200000000ULL

TEST_F(ept, map_4k_builds_four_levels)
{
	int level = 0;
	u64 e;

	ASSERT_EQ(0, ept_map_page(&self->ept, 0x1000, HPA_4K, EPT_LEVEL_4K,
				  EPT_RWX));
	/* PML4 + PDPT + PD + PT */
	EXPECT_EQ(4, self->ept.nr_tables);
	EXPECT_EQ(4, self->mem.live);
	e = ept_lookup(&self->ept, 0x1000, &level);
	EXPECT_EQ(1, level);
	EXPECT_EQ(HPA_4K | EPT_RWX | EPT_MEMTYPE_WB | EPT_IGNORE_PAT, e);
	/* the neighbours stay unmapped */
	EXPECT_EQ(0, ept_lookup(&self->ept, 0x0, &level));
	EXPECT_EQ(0, ept_lookup(&self->ept, 0x2000, &level));
}

TEST_F(ept, map_2m_is_a_large_pde)
{
	int level = 0;
	u64 e;

	ASSERT_EQ(0, ept_map_page(&self->ept, 0x200000, HPA_2M, EPT_LEVEL_2M,
				  EPT_READ | EPT_EXEC));
	/* PML4 + PDPT + PD, no page table */
	EXPECT_EQ(3, self->ept.nr_tables);
	/* any address inside the 2 MiB page finds the same leaf */
	e = ept_lookup(&self->ept, 0x3ff000, &level);
	EXPECT_EQ(2, level);
	EXPECT_EQ(HPA_2M | EPT_READ | EPT_EXEC | EPT_MEMTYPE_WB |
		  EPT_IGNORE_PAT | EPT_LARGE_PAGE, e);
	EXPECT_EQ(0, e & EPT_WRITE);
}

TEST_F(ept, index_uses_every_level)
{
	u64 gpa = EPT_GPA_LIMIT - 0x1000;	/* last 4 KiB page */
	u64 *pml4 = self->ept.root;
	int level;

	ASSERT_EQ(0, ept_map_page(&self->ept, gpa, HPA_4K, EPT_LEVEL_4K,
				  EPT_RWX));
	EXPECT_NE(0, pml4[511] & EPT_RWX);
	EXPECT_EQ(0, pml4[0]);
	EXPECT_EQ(HPA_4K, ept_lookup(&self->ept, gpa, &level) &
		  EPT_ADDR_MASK);
}

TEST_F(ept, bad_arguments)
{
	EXPECT_EQ(-EINVAL, ept_map_page(&self->ept, 0x1001, HPA_4K,
					EPT_LEVEL_4K, EPT_RWX));
	EXPECT_EQ(-EINVAL, ept_map_page(&self->ept, 0x1000, HPA_4K + 8,
					EPT_LEVEL_4K, EPT_RWX));
	EXPECT_EQ(-EINVAL, ept_map_page(&self->ept, 0x1000, HPA_4K,
					EPT_LEVEL_2M, EPT_RWX));
	EXPECT_EQ(-EINVAL, ept_map_page(&self->ept, EPT_GPA_LIMIT, HPA_4K,
					EPT_LEVEL_4K, EPT_RWX));
	EXPECT_EQ(-EINVAL, ept_map_page(&self->ept, 0x1000, HPA_4K, 3,
					EPT_RWX));
	/* write-only or execute-only-without-read is a misconfiguration */
	EXPECT_EQ(-EINVAL, ept_map_page(&self->ept, 0x1000, HPA_4K,
					EPT_LEVEL_4K, EPT_WRITE));
	EXPECT_EQ(-EINVAL, ept_map_page(&self->ept, 0x1000, HPA_4K,
					EPT_LEVEL_4K, EPT_RWX | EPT_LARGE_PAGE));
	EXPECT_EQ(-EINVAL, ept_map_page(&self->ept, 0x1000, 1ULL << 52,
					EPT_LEVEL_4K, EPT_RWX));
	EXPECT_EQ(1, self->ept.nr_tables);
}

TEST_F(ept, overlaps_are_refused)
{
	ASSERT_EQ(0, ept_map_page(&self->ept, 0x200000, HPA_2M, EPT_LEVEL_2M,
				  EPT_RWX));
	EXPECT_EQ(-EEXIST, ept_map_page(&self->ept, 0x200000, HPA_2M,
					EPT_LEVEL_2M, EPT_RWX));
	/* a 4 KiB page inside the 2 MiB one */
	EXPECT_EQ(-EEXIST, ept_map_page(&self->ept, 0x201000, HPA_4K,
					EPT_LEVEL_4K, EPT_RWX));
	/* a 2 MiB page over a page table */
	ASSERT_EQ(0, ept_map_page(&self->ept, 0x400000, HPA_4K, EPT_LEVEL_4K,
				  EPT_RWX));
	EXPECT_EQ(-EEXIST, ept_map_page(&self->ept, 0x400000, HPA_2M,
					EPT_LEVEL_2M, EPT_RWX));
}

TEST_F(ept, unmap_range_clears_leaves_only)
{
	int level;
	u64 gpa;

	for (gpa = 0; gpa < 0x10000; gpa += 0x1000)
		ASSERT_EQ(0, ept_map_page(&self->ept, gpa, HPA_4K + gpa,
					  EPT_LEVEL_4K, EPT_RWX));
	ASSERT_EQ(0, ept_map_page(&self->ept, 0x200000, HPA_2M, EPT_LEVEL_2M,
				  EPT_RWX));
	EXPECT_EQ(4, ept_unmap_range(&self->ept, 0x4000, 0x4000));
	for (gpa = 0; gpa < 0x10000; gpa += 0x1000) {
		bool gone = gpa >= 0x4000 && gpa < 0x8000;

		EXPECT_EQ(gone, ept_lookup(&self->ept, gpa, &level) == 0);
	}
	EXPECT_EQ(1, ept_unmap_range(&self->ept, 0x200000, 0x200000));
	EXPECT_EQ(0, ept_lookup(&self->ept, 0x200000, &level));
	/* unmapping nothing is fine */
	EXPECT_EQ(0, ept_unmap_range(&self->ept, 0x200000, 0x200000));
	/* tables stay until destroy */
	EXPECT_EQ(4, self->ept.nr_tables);
}

TEST_F(ept, allocation_failure_leaks_nothing)
{
	self->mem.budget = 1;	/* PDPT only: the PD fails */
	EXPECT_EQ(-ENOMEM, ept_map_page(&self->ept, 0x1000, HPA_4K,
					EPT_LEVEL_4K, EPT_RWX));
	EXPECT_EQ(2, self->mem.live);
	self->mem.budget = -1;
	EXPECT_EQ(0, ept_map_page(&self->ept, 0x1000, HPA_4K, EPT_LEVEL_4K,
				  EPT_RWX));
}

TEST_F(ept, pointer_format)
{
	/* SDM Vol. 3C Table 25-9: WB (6), walk length 4 - 1 in bits 5:3 */
	EXPECT_EQ(self->ept.root_pa | 0x1e, ept_pointer(&self->ept));
	EXPECT_EQ(0, self->ept.root_pa & 0xfff);
}

TEST_HARNESS_MAIN
