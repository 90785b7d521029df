// SPDX-License-Identifier: GPL-2.0
/*
 * EPT page tables: building, tearing down and walking the 4-level
 * structure of SDM Vol. 3C, chapter "VMX Support for Address
 * Translation", section "EPT Translation Mechanism".
 */
#include "ept.h"
#include "../include/xvcpu/vmx.h"

#define EPT_ENTRIES	512

/* Index of @gpa in the table at @level (4 = PML4 ... 1 = PT). */
static unsigned int ept_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

static u64 ept_page_size(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

/*
 * An entry is present if any of R/W/X is set ("EPT Translation
 * Mechanism"; bit 10 would count too with mode-based execute control,
 * which xvcpu does not enable).
 */
static bool ept_present(u64 entry)
{
	return entry & EPT_RWX;
}

int ept_init(struct ept *ept, const struct ept_table_ops *ops, void *ctx)
{
	ept->ops = ops;
	ept->ctx = ctx;
	ept->root = ops->alloc(ctx, &ept->root_pa);
	if (!ept->root)
		return -ENOMEM;
	ept->nr_tables = 1;
	return 0;
}

static void ept_free_table(struct ept *ept, u64 *table, int level)
{
	unsigned int i;

	if (level > 1) {
		for (i = 0; i < EPT_ENTRIES; i++) {
			u64 e = table[i];

			if (!ept_present(e) || (e & EPT_LARGE_PAGE))
				continue;
			ept_free_table(ept, ept->ops->va(ept->ctx, e & EPT_ADDR_MASK),
				       level - 1);
		}
	}
	ept->ops->free(ept->ctx, table);
	ept->nr_tables--;
}

void ept_destroy(struct ept *ept)
{
	if (!ept->root)
		return;
	ept_free_table(ept, ept->root, 4);
	ept->root = NULL;
}

/*
 * The table at @level that covers @gpa, allocating missing tables on the
 * way down when @alloc.  NULL if absent (or on allocation failure: *@err).
 */
static u64 *ept_table(struct ept *ept, u64 gpa, int level, bool alloc,
		      int *err)
{
	u64 *table = ept->root;
	int l;

	for (l = 4; l > level; l--) {
		u64 *e = &table[ept_index(gpa, l)];

		if (!ept_present(*e)) {
			u64 pa;
			u64 *next;

			if (!alloc)
				return NULL;
			next = ept->ops->alloc(ept->ctx, &pa);
			if (!next) {
				*err = -ENOMEM;
				return NULL;
			}
			ept->nr_tables++;
			/* Non-leaf entries grant all rights; leaves restrict. */
			WRITE_ONCE(*e, pa | EPT_RWX);
		} else if (*e & EPT_LARGE_PAGE) {
			*err = -EEXIST;
			return NULL;
		}
		table = ept->ops->va(ept->ctx, *e & EPT_ADDR_MASK);
	}
	return table;
}

int ept_map_page(struct ept *ept, u64 gpa, u64 hpa, int level, u64 prot)
{
	u64 size, *table, *e;
	int err = 0;

	if (level != EPT_LEVEL_4K && level != EPT_LEVEL_2M)
		return -EINVAL;
	size = ept_page_size(level);
	if ((gpa | hpa) & (size - 1) || gpa >= EPT_GPA_LIMIT ||
	    hpa & ~EPT_ADDR_MASK || !(prot & EPT_READ) || prot & ~EPT_RWX)
		return -EINVAL;

	table = ept_table(ept, gpa, level, true, &err);
	if (!table)
		return err;
	e = &table[ept_index(gpa, level)];
	if (ept_present(*e))
		return -EEXIST;
	/*
	 * Guest memory is ordinary RAM: write-back, ignoring the guest PAT
	 * (same chapter, section "EPT and Memory Typing").
	 */
	WRITE_ONCE(*e, hpa | prot | EPT_MEMTYPE_WB | EPT_IGNORE_PAT |
		   (level == EPT_LEVEL_2M ? EPT_LARGE_PAGE : 0));
	return 0;
}

/*
 * The leaf entry for @gpa and its level, or NULL with the level of the
 * entry found not present.
 */
static u64 *ept_leaf(const struct ept *ept, u64 gpa, int *level)
{
	u64 *table = ept->root;
	int l;

	for (l = 4; l >= 1; l--) {
		u64 *e = &table[ept_index(gpa, l)];

		if (!ept_present(*e)) {
			*level = l;
			return NULL;
		}
		if (l == 1 || (*e & EPT_LARGE_PAGE)) {
			*level = l;
			return e;
		}
		table = ept->ops->va(ept->ctx, *e & EPT_ADDR_MASK);
	}
	return NULL;
}

static bool ept_table_empty(const u64 *table)
{
	unsigned int i;

	for (i = 0; i < EPT_ENTRIES; i++)
		if (ept_present(table[i]))
			return false;
	return true;
}

/*
 * Clear the leaves of [@gpa, @end) in @table at @level, and unlink the
 * tables below it that this leaves empty onto @retired.  Returns the
 * number of leaves cleared.
 */
static unsigned long ept_unmap_level(struct ept *ept, u64 *table, int level,
				     u64 gpa, u64 end,
				     struct ept_retired *retired)
{
	u64 size = ept_page_size(level);
	unsigned long n = 0;
	u64 next;

	for (; gpa < end; gpa = next) {
		u64 *e = &table[ept_index(gpa, level)];
		u64 pa = *e & EPT_ADDR_MASK;
		u64 *child;

		next = (gpa & ~(size - 1)) + size;
		if (next > end)
			next = end;
		if (!ept_present(*e))
			continue;
		if (level == EPT_LEVEL_4K || (*e & EPT_LARGE_PAGE)) {
			WRITE_ONCE(*e, 0);
			n++;
			continue;
		}
		child = ept->ops->va(ept->ctx, pa);
		n += ept_unmap_level(ept, child, level - 1, gpa, next, retired);
		/*
		 * Checked also where the range covers only part of the
		 * child: the rest may hold nothing either (a table a failed
		 * ept_map_page() left empty goes too).
		 */
		if (!ept_table_empty(child))
			continue;
		WRITE_ONCE(*e, 0);
		/* A physical address: not present, whoever still walks it */
		WRITE_ONCE(child[0], retired->first_pa);
		retired->first_pa = pa;
		retired->nr++;
	}
	return n;
}

unsigned long ept_unmap_range(struct ept *ept, u64 gpa, u64 size,
			      struct ept_retired *retired)
{
	u64 end = gpa + size;

	if (end < gpa || end > EPT_GPA_LIMIT)
		end = EPT_GPA_LIMIT;
	return ept_unmap_level(ept, ept->root, 4, gpa, end, retired);
}

void ept_free_retired(struct ept *ept, struct ept_retired *retired)
{
	u64 pa = retired->first_pa;

	for (; retired->nr; retired->nr--) {
		u64 *table = ept->ops->va(ept->ctx, pa);

		pa = table[0];
		ept->ops->free(ept->ctx, table);
		ept->nr_tables--;
	}
	retired->first_pa = 0;
}

u64 ept_lookup(const struct ept *ept, u64 gpa, int *level)
{
	u64 *e = ept_leaf(ept, gpa, level);

	return e ? *e : 0;
}

u64 ept_pointer(const struct ept *ept)
{
	return ept->root_pa | EPTP_WALK_4 | EPTP_MEMTYPE_WB;
}
