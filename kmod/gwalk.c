// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page-table walks (SDM Vol. 3A chapter 5): 32-bit paging (5.3),
 * PAE paging (5.4), 4-level and 5-level paging (5.5), access rights
 * (5.6) and the page-fault error code (5.7).
 */
#include "gwalk.h"
#include "../uapi/xvcpu.h"

#define CR0_WP		BIT_ULL(16)
#define CR0_PG		BIT_ULL(31)
#define CR4_PSE		BIT_ULL(4)
#define CR4_PAE		BIT_ULL(5)
#define CR4_LA57	BIT_ULL(12)
#define CR4_SMEP	BIT_ULL(20)
#define CR4_SMAP	BIT_ULL(21)
#define EFER_LMA	BIT_ULL(10)
#define EFER_NXE	BIT_ULL(11)

/* Paging-structure entry bits (Tables 5-2 to 5-22) */
#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_PS		BIT_ULL(7)
#define PTE_XD		BIT_ULL(63)

#define SZ_4K		0x1000ULL
#define SZ_4M		0x400000ULL

/* Bits @hi down to @lo set; none if @hi < @lo. */
static u64 bits(int hi, int lo)
{
	if (hi < lo || hi > 63 || lo < 0)
		return 0;
	return (~0ULL >> (63 - hi)) & ~((1ULL << lo) - 1);
}

struct walk {
	const struct gwalk_cpu *cpu;
	gwalk_read_t read;
	void *ctx;
	u32 access;
	struct gwalk_result *res;
	/* Rights gathered down the walk (5.6) */
	bool rw, us, xd;
};

/*
 * The bits every #PF of this access carries (5.7): W/R, U/S, and I/D
 * when instruction fetches can be told apart (SMEP, or PAE-format entries
 * with EFER.NXE = 1).
 */
static u32 pf_base(const struct walk *w)
{
	const struct gwalk_cpu *c = w->cpu;
	u32 ec = 0;

	if (w->access & XVCPU_ACCESS_WRITE)
		ec |= GWALK_PF_W;
	if (w->access & XVCPU_ACCESS_USER)
		ec |= GWALK_PF_U;
	if ((w->access & XVCPU_ACCESS_FETCH) &&
	    ((c->cr4 & CR4_SMEP) ||
	     ((c->cr4 & CR4_PAE) && (c->efer & EFER_NXE))))
		ec |= GWALK_PF_I;
	return ec;
}

static int fault(struct walk *w, u32 bits_set)
{
	w->res->error_code = pf_base(w) | bits_set;
	return GWALK_FAULT;
}

/* An entry not present, or with a reserved bit of @rsvd, ends the walk */
static int check_entry(struct walk *w, u64 e, u64 rsvd)
{
	if (!(e & PTE_P))
		return fault(w, 0);
	if (e & rsvd)
		return fault(w, GWALK_PF_P | GWALK_PF_RSVD);
	return 0;
}

/* Read the entry at @gpa into *@e and check it; 0 or what the walk returns */
static int read_entry(struct walk *w, u64 gpa, unsigned int size, u64 rsvd,
		      u64 *e)
{
	int r = w->read(w->ctx, gpa, size, e);

	return r ? r : check_entry(w, *e, rsvd);
}

static void gather(struct walk *w, u64 e, bool has_xd)
{
	w->rw = w->rw && (e & PTE_RW);
	w->us = w->us && (e & PTE_US);
	if (has_xd && (w->cpu->efer & EFER_NXE) && (e & PTE_XD))
		w->xd = true;
}

/*
 * Access rights of the whole walk against the access (5.6): user-mode
 * accesses need U/S = 1 everywhere, and R/W = 1 to write; supervisor
 * writes need R/W = 1 when CR0.WP = 1; fetches need no XD; SMEP forbids
 * supervisor fetches from user pages, SMAP supervisor data accesses to
 * them unless RFLAGS.AC = 1.
 */
static int check_rights(struct walk *w)
{
	const struct gwalk_cpu *c = w->cpu;
	bool write = w->access & XVCPU_ACCESS_WRITE;
	bool fetch = w->access & XVCPU_ACCESS_FETCH;
	bool ok;

	if (w->access & XVCPU_ACCESS_USER) {
		ok = w->us && !(write && !w->rw) && !(fetch && w->xd);
	} else if (fetch) {
		ok = !w->xd && !((c->cr4 & CR4_SMEP) && w->us);
	} else {
		ok = !((c->cr4 & CR4_SMAP) && w->us && !c->ac) &&
		     !(write && !w->rw && (c->cr0 & CR0_WP));
	}

	w->res->writable = w->rw;
	w->res->user = w->us;
	w->res->executable = !w->xd;
	return ok ? 0 : fault(w, GWALK_PF_P);
}

static int leaf(struct walk *w, u64 base, u64 size, u64 la)
{
	w->res->page_size = size;
	w->res->gpa = (base & ~(size - 1)) | (la & (size - 1));
	return check_rights(w);
}

/* 32-bit paging (5.3): 4-byte entries, 4 KiB pages and PSE 4 MiB pages */
static int walk_32(struct walk *w, u64 la)
{
	const struct gwalk_cpu *c = w->cpu;
	/* PSE-36 gives a 4 MiB page up to 40 address bits (Table 5-4) */
	int m = c->maxphyaddr < 40 ? c->maxphyaddr : 40;
	u64 pde, pte, base;
	int r;

	r = read_entry(w, (c->cr3 & bits(31, 12)) + ((la >> 22) & 0x3ff) * 4,
		       4, 0, &pde);
	if (r)
		return r;
	if ((c->cr4 & CR4_PSE) && (pde & PTE_PS)) {
		if (pde & bits(21, m - 19))
			return fault(w, GWALK_PF_P | GWALK_PF_RSVD);
		gather(w, pde, false);
		base = (pde & bits(31, 22)) |
		       (((pde >> 13) & bits(m - 33, 0)) << 32);
		return leaf(w, base, SZ_4M, la);
	}
	gather(w, pde, false);
	r = read_entry(w, (pde & bits(31, 12)) + ((la >> 12) & 0x3ff) * 4,
		       4, 0, &pte);
	if (r)
		return r;
	gather(w, pte, false);
	return leaf(w, pte & bits(31, 12), SZ_4K, la);
}

/*
 * PAE paging (5.4), 4-level and 5-level paging (5.5): 8-byte entries,
 * 512 to a table (4 to the PAE PDPT).  @level is that of the first table
 * below CR3: 5, 4, or 3 for the PAE PDPTEs.
 */
static int walk_64(struct walk *w, u64 la, int level, bool pae)
{
	const struct gwalk_cpu *c = w->cpu;
	int m = c->maxphyaddr;
	u64 addr = bits(m - 1, 12);
	/* 51:M reserved in IA-32e formats, 62:M in PAE ones */
	u64 rsvd = pae ? bits(62, m) : bits(51, m);
	u64 table, e, r_here;
	int r;

	if (!(c->efer & EFER_NXE))
		rsvd |= PTE_XD;

	if (pae) {
		/* PDPTEs (Table 5-8): no rights bits; XD reserved too */
		u64 pdpte_rsvd = bits(63, m) | bits(2, 1) | bits(8, 5);
		unsigned int i = (la >> 30) & 3;

		if (c->pdptes) {
			e = c->pdptes[i];
			r = check_entry(w, e, pdpte_rsvd);
		} else {
			r = read_entry(w, (c->cr3 & bits(31, 5)) + i * 8, 8,
				       pdpte_rsvd, &e);
		}
		if (r)
			return r;
		table = e & addr;
		level = 2;
	} else {
		table = c->cr3 & addr;
	}

	for (;; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		u64 size = 1ULL << shift;

		r_here = rsvd;
		/* PS is reserved in a PML5E or PML4E (Tables 5-15, 5-16) */
		if (level >= 4)
			r_here |= PTE_PS;
		/* ... and in a PDPTE without 1 GiB pages (5.5.4) */
		if (level == 3 && !c->gbpages)
			r_here |= PTE_PS;
		r = read_entry(w, table + ((la >> shift) & 511) * 8, 8, r_here,
			       &e);
		if (r)
			return r;
		if (level == 1) {
			gather(w, e, true);
			return leaf(w, e & addr, size, la);
		}
		if ((level == 2 || level == 3) && (e & PTE_PS)) {
			/* Bit 12 is PAT; the bits above it reserved */
			if (e & bits(shift - 1, 13))
				return fault(w, GWALK_PF_P | GWALK_PF_RSVD);
			gather(w, e, true);
			return leaf(w, e & addr, size, la);
		}
		gather(w, e, true);
		table = e & addr;
	}
}

/* Bits 63:@width-1 all equal (SDM Vol. 1 3.3.7.1) */
static bool canonical(u64 la, unsigned int width)
{
	u64 top = la >> (width - 1);

	return top == 0 || top == ~0ULL >> (width - 1);
}

int gwalk(const struct gwalk_cpu *cpu, u64 la, u32 access,
	  gwalk_read_t read, void *ctx, struct gwalk_result *res)
{
	struct walk w = {
		.cpu = cpu, .read = read, .ctx = ctx, .access = access,
		.res = res, .rw = true, .us = true, .xd = false,
	};
	bool la57 = cpu->cr4 & CR4_LA57;

	res->gpa = 0;
	res->page_size = 0;
	res->writable = false;
	res->user = false;
	res->executable = false;
	res->error_code = 0;

	if (cpu->efer & EFER_LMA) {
		if (!canonical(la, la57 ? 57 : 48))
			return GWALK_NONCANONICAL;
	} else if (la >> 32) {
		/* Outside IA-32e mode linear addresses are 32 bits wide */
		return GWALK_NONCANONICAL;
	}

	if (!(cpu->cr0 & CR0_PG)) {
		/* Paging off: linear is physical, and everything is allowed */
		res->gpa = la;
		res->page_size = SZ_4K;
		res->writable = true;
		res->user = true;
		res->executable = true;
		return 0;
	}
	if (cpu->efer & EFER_LMA)
		return walk_64(&w, la, la57 ? 5 : 4, false);
	if (cpu->cr4 & CR4_PAE)
		return walk_64(&w, la, 3, true);
	return walk_32(&w, la);
}
