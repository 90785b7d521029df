/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest page-table walks: guest-linear to guest-physical through the
 * guest's own paging structures, in every paging mode of SDM Vol. 3A
 * chapter 5.  Pure logic: the entries are read through a callback, so the
 * host-side unit tests run the same walker on a fake guest memory.
 */
#ifndef XVCPU_GWALK_H
#define XVCPU_GWALK_H

#include "types.h"

/* The guest state a walk depends on. */
struct gwalk_cpu {
	u64 cr0, cr3, cr4, efer;
	bool ac;		/* RFLAGS.AC: lets SMAP allow the access */
	u8 maxphyaddr;		/* CPUID 0x80000008 EAX[7:0], 32..52 */
	bool gbpages;		/* 1 GiB pages exist (CPUID 0x80000001 EDX[26]) */
	/*
	 * PAE paging: the processor's four PDPTE registers (SDM Vol. 3A
	 * 5.4.1), loaded with CR3; NULL to read the PDPTEs at CR3 instead.
	 */
	const u64 *pdptes;
};

/*
 * Read the @size-byte (4 or 8) little-endian paging-structure entry at
 * guest-physical @gpa into *@val.  0, or a negative errno that the walk
 * returns as it is.
 */
typedef int (*gwalk_read_t)(void *ctx, u64 gpa, unsigned int size, u64 *val);

struct gwalk_result {
	u64 gpa;		/* translation of the linear address */
	u64 page_size;		/* 4 KiB, 2 MiB, 4 MiB or 1 GiB */
	/* Rights of the whole walk: every level allows it */
	bool writable;		/* R/W = 1 */
	bool user;		/* U/S = 1 */
	bool executable;	/* no XD bit in effect */
	u32 error_code;		/* #PF error code, when the walk faults */
};

/* #PF error code bits (SDM Vol. 3A 5.7, Figure 5-12) */
#define GWALK_PF_P		BIT_ULL(0)	/* protection, not absence */
#define GWALK_PF_W		BIT_ULL(1)	/* a write */
#define GWALK_PF_U		BIT_ULL(2)	/* a user-mode access */
#define GWALK_PF_RSVD		BIT_ULL(3)	/* a reserved bit was set */
#define GWALK_PF_I		BIT_ULL(4)	/* an instruction fetch */

/* gwalk() results other than 0 and a negative errno */
#define GWALK_FAULT		1	/* #PF: res->error_code */
#define GWALK_NONCANONICAL	2	/* not an address: #GP, not #PF */

/*
 * Translate @la for an access of type @access (XVCPU_ACCESS_WRITE, _USER,
 * _FETCH: a user-mode access is one at CPL 3) as the guest's MMU would.
 * Returns 0 with @res filled, GWALK_FAULT with res->error_code,
 * GWALK_NONCANONICAL, or the negative errno of @read.
 *
 * A VMM-side walk is a query: it never sets accessed or dirty bits.
 * Protection keys and shadow stacks are not modelled.
 */
int gwalk(const struct gwalk_cpu *cpu, u64 la, u32 access,
	  gwalk_read_t read, void *ctx, struct gwalk_result *res);

#endif /* XVCPU_GWALK_H */
