/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EPT page tables (SDM Vol. 3C, chapter "VMX Support for Address
 * Translation", section "The Extended Page Table Mechanism (EPT)"):
 * 4 levels, 4 KiB and 2 MiB leaves.  The tables know nothing of VMs or
 * vCPUs; their pages come from an allocator the caller provides (kernel
 * pages in the module, a fake allocator in the unit tests).
 */
#ifndef XVCPU_EPT_H
#define XVCPU_EPT_H

#include <linux/const.h>
#include "types.h"

#define EPT_LEVEL_4K	1
#define EPT_LEVEL_2M	2

/* Guest-physical addresses the tables can map: 48 bits with 4 levels. */
#define EPT_GPA_LIMIT	_BITULL(48)

struct ept_table_ops {
	/* A zeroed, 4 KiB aligned table page: virtual address, *pa set. */
	u64 *(*alloc)(void *ctx, u64 *pa);
	void (*free)(void *ctx, u64 *table);
	/* The virtual address of the table page at @pa. */
	u64 *(*va)(void *ctx, u64 pa);
};

struct ept {
	const struct ept_table_ops *ops;
	void *ctx;
	u64 *root;		/* the PML4 */
	u64 root_pa;
	/* Table pages held, root and retired ones not yet freed included */
	unsigned long nr_tables;
};

/*
 * Table pages that ept_unmap_range() unlinked because the unmap left
 * them empty, not freed yet.  Processors may have cached the entries
 * that pointed to them and may go on walking them until an INVEPT has
 * completed on every CPU (SDM Vol. 3C, chapter "VMX Support for Address
 * Translation", sections "Caching Translation Information" and
 * "Invalidating Cached Translation Information"): only then may the
 * caller give them back with ept_free_retired().
 *
 * The pages are chained through their first entry, which holds the
 * physical address of the next one.  That value is 4 KiB aligned, so its
 * bits 2:0 (and 10) are clear: to a processor still walking the page it
 * reads as not present, as every other entry of the page does.
 */
struct ept_retired {
	u64 first_pa;		/* the most recently retired page */
	unsigned long nr;
};

int ept_init(struct ept *ept, const struct ept_table_ops *ops, void *ctx);
/*
 * Frees every table page reachable from the root (retired ones are the
 * caller's: ept_free_retired()); leaves are not the tables' to free.
 */
void ept_destroy(struct ept *ept);

/*
 * Map the 4 KiB (@level 1) or 2 MiB (@level 2) page at @gpa to host
 * physical @hpa with @prot (EPT_READ/WRITE/EXEC).  Both addresses must be
 * aligned to the page size.  -EINVAL on bad arguments, -EEXIST if @gpa is
 * mapped already, -ENOMEM if a table page could not be allocated.
 */
int ept_map_page(struct ept *ept, u64 gpa, u64 hpa, int level, u64 prot);

/*
 * Clear every leaf in [@gpa, @gpa + @size) (a 2 MiB leaf goes whole if
 * the range touches it), and unlink every table below the root that is
 * left with no present entry, adding it to @retired (which starts as
 * {}).  The caller then invalidates cached translations (INVEPT on every
 * CPU) and only after that calls ept_free_retired().  Returns the number
 * of leaves cleared.
 */
unsigned long ept_unmap_range(struct ept *ept, u64 gpa, u64 size,
			      struct ept_retired *retired);

/* Free the pages of @retired, and empty it.  See struct ept_retired. */
void ept_free_retired(struct ept *ept, struct ept_retired *retired);

/* The leaf entry mapping @gpa (0 if none) and its level in *@level. */
u64 ept_lookup(const struct ept *ept, u64 gpa, int *level);

/*
 * The EPT pointer for the VMCS (SDM Vol. 3C, chapter "Virtual Machine
 * Control Structures", section "Extended-Page-Table Pointer (EPTP)").
 */
u64 ept_pointer(const struct ept *ept);

#endif /* XVCPU_EPT_H */
