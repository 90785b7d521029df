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

#define FAKE_MAX	4096

struct fake_mem {
	int live;	/* table pages allocated and not freed */
	int budget;	/* allocations left before failing; -1: unlimited */
	int bad_frees;	/* frees of pages not allocated, or freed already */
	void *pages[FAKE_MAX];	/* the live pages */
	void *last_freed[FAKE_MAX];	/* since the last fake_forget() */
	int nr_freed;
};

static u64 *fake_alloc(void *ctx, u64 *pa)
{
	struct fake_mem *m = ctx;
	void *p;

	if (m->budget == 0 || m->live == FAKE_MAX)
		return NULL;
	if (m->budget > 0)
		m->budget--;
	p = aligned_alloc(4096, 4096);
	if (!p)
		return NULL;
	memset(p, 0, 4096);
	m->pages[m->live++] = p;
	*pa = (u64)(uintptr_t)p;
	return p;
}

static void fake_free(void *ctx, u64 *table)
{
	struct fake_mem *m = ctx;
	int i;

	for (i = 0; i < m->live; i++)
		if (m->pages[i] == table)
			break;
	if (i == m->live) {
		/* not ours, or freed twice: count it, do not free it */
		m->bad_frees++;
		return;
	}
	m->pages[i] = m->pages[--m->live];
	if (m->nr_freed < FAKE_MAX)
		m->last_freed[m->nr_freed++] = table;
	free(table);
}

static void fake_forget(struct fake_mem *m)
{
	m->nr_freed = 0;
}

/* Whether @table was freed since the last fake_forget(). */
static bool fake_freed(const struct fake_mem *m, const void *table)
{
	int i;

	for (i = 0; i < m->nr_freed; i++)
		if (m->last_freed[i] == table)
			return true;
	return false;
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
	EXPECT_EQ(0, self->mem.bad_frees);
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

/* The table at @level (3 PDPT, 2 PD, 1 PT) on the walk to @gpa, or NULL. */
static u64 *table_at(const struct ept *ept, u64 gpa, int level)
{
	u64 *t = ept->root;
	int l;

	for (l = 4; l > level; l--) {
		u64 e = t[(gpa >> (12 + 9 * (l - 1))) & 511];

		if (!(e & EPT_RWX) || (e & EPT_LARGE_PAGE))
			return NULL;
		t = (u64 *)(uintptr_t)(e & EPT_ADDR_MASK);
	}
	return t;
}

/* Present to a processor: bits 2:0, or 10 with mode-based execute. */
#define PRESENT_BITS	(EPT_RWX | BIT_ULL(10))

/*
 * Unmap [@gpa, @gpa + @size) expecting @leaves leaves cleared and @nr
 * tables retired; check that every retired page reads as not present in
 * all its entries (a processor may still walk it until INVEPT) and that
 * the tables stay counted and allocated until ept_free_retired(), then
 * free them and check that exactly @nr pages went.
 */
static void unmap(struct __test_metadata *_metadata, FIXTURE_DATA(ept) *self,
		  u64 gpa, u64 size, unsigned long leaves, unsigned long nr)
{
	unsigned long tables = self->ept.nr_tables, i;
	struct ept_retired r = {};
	int live = self->mem.live;
	u64 pa;
	int j;

	ASSERT_EQ(leaves, ept_unmap_range(&self->ept, gpa, size, &r));
	ASSERT_EQ(nr, r.nr);
	EXPECT_EQ(tables, self->ept.nr_tables);
	EXPECT_EQ(live, self->mem.live);
	for (i = 0, pa = r.first_pa; i < r.nr; i++) {
		const u64 *t = (const u64 *)(uintptr_t)pa;

		for (j = 0; j < 512; j++)
			ASSERT_EQ(0, t[j] & PRESENT_BITS) TH_LOG("entry %d", j);
		pa = t[0];
	}
	fake_forget(&self->mem);
	ept_free_retired(&self->ept, &r);
	EXPECT_EQ(0, r.nr);
	EXPECT_EQ(nr, self->mem.nr_freed);
	EXPECT_EQ(tables - nr, self->ept.nr_tables);
	EXPECT_EQ(live - (int)nr, self->mem.live);
	EXPECT_EQ(0, self->mem.bad_frees);
}

static void map(struct __test_metadata *_metadata, FIXTURE_DATA(ept) *self,
		u64 gpa, int level)
{
	u64 hpa = level == EPT_LEVEL_2M ? HPA_2M : HPA_4K;

	ASSERT_EQ(0, ept_map_page(&self->ept, gpa, hpa, level, EPT_RWX))
		TH_LOG("map %#llx", (unsigned long long)gpa);
}

TEST_F(ept, unmap_clears_leaves_keeps_used_tables)
{
	int level;
	u64 gpa;

	for (gpa = 0; gpa < 0x10000; gpa += 0x1000)
		map(_metadata, self, gpa, EPT_LEVEL_4K);
	map(_metadata, self, 0x200000, EPT_LEVEL_2M);
	unmap(_metadata, self, 0x4000, 0x4000, 4, 0);
	for (gpa = 0; gpa < 0x10000; gpa += 0x1000) {
		bool gone = gpa >= 0x4000 && gpa < 0x8000;

		EXPECT_EQ(gone, ept_lookup(&self->ept, gpa, &level) == 0);
	}
	/* The PD still holds the page table */
	unmap(_metadata, self, 0x200000, 0x200000, 1, 0);
	EXPECT_EQ(0, ept_lookup(&self->ept, 0x200000, &level));
	/* unmapping nothing is fine */
	unmap(_metadata, self, 0x200000, 0x200000, 0, 0);
	EXPECT_EQ(4, self->ept.nr_tables);
}

TEST_F(ept, unmap_frees_tables_it_empties_4k)
{
	u64 *pdpt, *pd, *pt;
	int level;

	map(_metadata, self, 0x1000, EPT_LEVEL_4K);
	map(_metadata, self, 0x2000, EPT_LEVEL_4K);
	pdpt = table_at(&self->ept, 0x1000, 3);
	pd = table_at(&self->ept, 0x1000, 2);
	pt = table_at(&self->ept, 0x1000, 1);
	ASSERT_EQ(4, self->ept.nr_tables);

	/* One of two pages: the page table still holds the other */
	unmap(_metadata, self, 0x1000, 0x1000, 1, 0);
	EXPECT_NE(0, ept_lookup(&self->ept, 0x2000, &level));
	/* The other: PT, PD and PDPT go, the root stays */
	unmap(_metadata, self, 0x2000, 0x1000, 1, 3);
	EXPECT_TRUE(fake_freed(&self->mem, pt));
	EXPECT_TRUE(fake_freed(&self->mem, pd));
	EXPECT_TRUE(fake_freed(&self->mem, pdpt));
	EXPECT_EQ(0, self->ept.root[0]);
	EXPECT_EQ(1, self->ept.nr_tables);
	/* and the same range maps again */
	map(_metadata, self, 0x2000, EPT_LEVEL_4K);
	EXPECT_EQ(4, self->ept.nr_tables);
}

TEST_F(ept, unmap_frees_tables_it_empties_2m)
{
	u64 *pd_low, *pd_high;
	int level;

	map(_metadata, self, 0x1000, EPT_LEVEL_4K);	/* PDPT[0] */
	map(_metadata, self, 0x40000000, EPT_LEVEL_2M);	/* PDPT[1] */
	map(_metadata, self, 0x40200000, EPT_LEVEL_2M);
	ASSERT_EQ(5, self->ept.nr_tables);
	pd_low = table_at(&self->ept, 0x1000, 2);
	pd_high = table_at(&self->ept, 0x40000000, 2);

	/* One 2 MiB leaf of two, partly covered: gone whole, PD kept */
	unmap(_metadata, self, 0x40100000, 0x1000, 1, 0);
	EXPECT_EQ(0, ept_lookup(&self->ept, 0x40000000, &level));
	EXPECT_NE(0, ept_lookup(&self->ept, 0x40200000, &level));
	/* The other: its PD goes; the PDPT holds the low PD still */
	unmap(_metadata, self, 0x40200000, 0x200000, 1, 1);
	EXPECT_TRUE(fake_freed(&self->mem, pd_high));
	EXPECT_FALSE(fake_freed(&self->mem, pd_low));
	EXPECT_NE(0, ept_lookup(&self->ept, 0x1000, &level));

	/* A 2 MiB page where a page table was: the PT went, so it maps */
	unmap(_metadata, self, 0x0, 0x200000, 1, 3);
	map(_metadata, self, 0x0, EPT_LEVEL_2M);
	EXPECT_EQ(3, self->ept.nr_tables);
	/* 2 MiB and 4 KiB under one PD: each unmap keeps it for the other */
	map(_metadata, self, 0x400000, EPT_LEVEL_4K);
	unmap(_metadata, self, 0x0, 0x200000, 1, 0);
	map(_metadata, self, 0x0, EPT_LEVEL_2M);
	unmap(_metadata, self, 0x400000, 0x1000, 1, 1);	/* the PT */
	unmap(_metadata, self, 0x0, 0x200000, 1, 2);	/* PD, PDPT */
	EXPECT_EQ(1, self->ept.nr_tables);
}

TEST_F(ept, unmap_across_table_boundaries)
{
	const u64 g1 = 1ULL << 30, g512 = 1ULL << 39;

	map(_metadata, self, 0x1000, EPT_LEVEL_4K);	/* keeps PD[0] */
	/* Either side of 1 GiB: a PT in PD[0], a PD and a PT in PDPT[1] */
	map(_metadata, self, g1 - 0x1000, EPT_LEVEL_4K);
	map(_metadata, self, g1, EPT_LEVEL_4K);
	ASSERT_EQ(7, self->ept.nr_tables);
	unmap(_metadata, self, g1 - 0x1000, 0x2000, 2, 3);
	EXPECT_EQ(4, self->ept.nr_tables);

	/* Either side of 512 GiB: PT, PD below; PT, PD, PDPT above */
	map(_metadata, self, g512 - 0x1000, EPT_LEVEL_4K);
	map(_metadata, self, g512, EPT_LEVEL_4K);
	ASSERT_EQ(9, self->ept.nr_tables);
	unmap(_metadata, self, g512 - 0x1000, 0x2000, 2, 5);
	EXPECT_EQ(4, self->ept.nr_tables);

	/* The very top page of the space, and a range running past it */
	map(_metadata, self, EPT_GPA_LIMIT - 0x1000, EPT_LEVEL_4K);
	unmap(_metadata, self, EPT_GPA_LIMIT - 0x2000, 0x10000, 1, 3);
	map(_metadata, self, EPT_GPA_LIMIT - 0x200000, EPT_LEVEL_2M);
	unmap(_metadata, self, EPT_GPA_LIMIT - 0x1000, ~0ULL, 1, 2);
	/* Everything, the low page included */
	unmap(_metadata, self, 0, EPT_GPA_LIMIT, 1, 3);
	EXPECT_EQ(1, self->ept.nr_tables);
}

TEST_F(ept, unmap_frees_tables_a_failed_map_left)
{
	self->mem.budget = 1;	/* PDPT only: the PD fails */
	EXPECT_EQ(-ENOMEM, ept_map_page(&self->ept, 0x1000, HPA_4K,
					EPT_LEVEL_4K, EPT_RWX));
	self->mem.budget = -1;
	ASSERT_EQ(2, self->ept.nr_tables);
	/* No leaf in the range, yet the empty PDPT goes */
	unmap(_metadata, self, 0x1000, 0x1000, 0, 1);
	EXPECT_EQ(1, self->ept.nr_tables);
}

/*
 * Tables reachable below @table at @level (the root's own page not
 * counted); *@empty counts those without a present entry.
 */
static unsigned long count_tables(const u64 *table, int level, int *empty)
{
	unsigned long n = 0;
	int i, j;

	for (i = 0; i < 512 && level > 1; i++) {
		const u64 *c = (const u64 *)(uintptr_t)(table[i] &
							EPT_ADDR_MASK);

		if (!(table[i] & EPT_RWX) || (table[i] & EPT_LARGE_PAGE))
			continue;
		for (j = 0; j < 512 && !(c[j] & EPT_RWX); j++)
			;
		if (j == 512)
			(*empty)++;
		n += 1 + count_tables(c, level - 1, empty);
	}
	return n;
}

struct leaf {
	u64 gpa, hpa;
	int level;
};

static u64 rnd_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(u64 n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

#define NR_LEAVES	2048

/*
 * Random 4 KiB and 2 MiB maps and range unmaps in a few 4 MiB windows
 * (at 0, around 1 GiB, around 512 GiB, at the top), against a list of
 * what should be mapped.  After every step: each leaf of the list is
 * found, a map fails with -EEXIST exactly when the list overlaps it (so
 * no emptied page table is left to block a 2 MiB leaf), and the tables
 * reachable are exactly the tables counted and allocated, none empty.
 */
TEST_F(ept, random_map_unmap_against_a_model)
{
	static const u64 windows[] = {
		0, (1ULL << 30) - 0x200000, (1ULL << 39) - 0x200000,
		EPT_GPA_LIMIT - 0x400000,
	};
	static struct leaf leaves[NR_LEAVES];
	unsigned long step, cleared, retired = 0;
	int nr = 0, i, empty;
	u64 next_hpa = 1ULL << 40;

	for (step = 0; step < 4000; step++) {
		u64 base = windows[rnd(ARRAY_SIZE(windows))];
		u64 gpa = base + (rnd(1024) << 12);
		unsigned int op = rnd(100);
		struct ept_retired r = {};

		if (op < 70 && nr < NR_LEAVES) {
			int level = op < 55 ? EPT_LEVEL_4K : EPT_LEVEL_2M;
			u64 size = level == EPT_LEVEL_2M ? 0x200000 : 0x1000;
			bool overlap = false;
			int ret;

			gpa &= ~(size - 1);
			for (i = 0; i < nr; i++) {
				u64 ls = leaves[i].level == EPT_LEVEL_2M ?
					 0x200000 : 0x1000;

				if (gpa < leaves[i].gpa + ls &&
				    leaves[i].gpa < gpa + size)
					overlap = true;
			}
			ret = ept_map_page(&self->ept, gpa, next_hpa, level,
					   EPT_RWX);
			ASSERT_EQ(overlap ? -EEXIST : 0, ret)
				TH_LOG("step %lu: map %#llx level %d", step,
				       (unsigned long long)gpa, level);
			if (!ret)
				leaves[nr++] = (struct leaf){ gpa, next_hpa,
							      level };
			next_hpa += 0x200000;
		} else {
			u64 size = (1 + rnd(1100)) << 12;
			int removed = 0;

			for (i = 0; i < nr; i++) {
				u64 ls = leaves[i].level == EPT_LEVEL_2M ?
					 0x200000 : 0x1000;

				if (gpa < leaves[i].gpa + ls &&
				    leaves[i].gpa < gpa + size) {
					leaves[i--] = leaves[--nr];
					removed++;
				}
			}
			cleared = ept_unmap_range(&self->ept, gpa, size, &r);
			ASSERT_EQ(removed, cleared) TH_LOG("step %lu", step);
			retired += r.nr;
			ept_free_retired(&self->ept, &r);
		}

		for (i = 0; i < nr; i++) {
			int level = 0;
			u64 e = ept_lookup(&self->ept, leaves[i].gpa, &level);

			ASSERT_EQ(leaves[i].hpa, e & EPT_ADDR_MASK);
			ASSERT_EQ(leaves[i].level, level);
		}
		empty = 0;
		ASSERT_EQ(self->ept.nr_tables - 1,
			  count_tables(self->ept.root, 4, &empty));
		ASSERT_EQ(self->ept.nr_tables, self->mem.live);
		ASSERT_EQ(0, empty) TH_LOG("step %lu", step);
		ASSERT_EQ(0, self->mem.bad_frees);
	}
	TH_LOG("%lu tables freed on the way; %d leaves and %lu tables left",
	       retired, nr, self->ept.nr_tables);
	EXPECT_LT(100, retired);
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
	/*
	 * SDM Vol. 3C, "Extended-Page-Table Pointer (EPTP)": WB (6), walk
	 * length 4 - 1 in bits 5:3
	 */
	EXPECT_EQ(self->ept.root_pa | 0x1e, ept_pointer(&self->ept));
	EXPECT_EQ(0, self->ept.root_pa & 0xfff);
}

TEST_HARNESS_MAIN
