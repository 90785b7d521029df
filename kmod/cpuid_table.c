// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID tables: what a guest's CPUID returns, from a table of entries
 * (struct xvcpu_cpuid_entry) plus the few fields real processors compute
 * from their state.  Pure logic: cpuid.c gives it the host's CPUID and
 * the vCPU's state; the host-side unit tests give it recorded values.
 */
#include "cpuid.h"

/*
 * CPUID.1:ECX features given to guests: SSE3, PCLMULQDQ, SSSE3, CX16,
 * SSE4.1, SSE4.2, MOVBE, POPCNT, AES, RDRAND.  Not VMX, SMX, MONITOR,
 * PCID, x2APIC, TSC deadline, PDCM (no PMU), DCA; XSAVE and what needs
 * it (FMA, AVX, F16C) only as the guest XCR0 allows (below).
 */
#define LEAF1_ECX_KEEP		(BIT(0) | BIT(1) | BIT(9) | BIT(13) | BIT(19) | \
				 BIT(20) | BIT(22) | BIT(23) | BIT(25) | BIT(30))
#define LEAF1_ECX_FMA		BIT(12)
#define LEAF1_ECX_XSAVE		BIT(26)
#define LEAF1_ECX_OSXSAVE	BIT(27)
#define LEAF1_ECX_AVX		BIT(28)
#define LEAF1_ECX_F16C		BIT(29)
#define LEAF1_ECX_HYPERVISOR	BIT(31)
#define LEAF1_EBX_APIC_ID_SHIFT	24
#define LEAF1_EBX_APIC_ID	(0xffu << LEAF1_EBX_APIC_ID_SHIFT)

/* CPUID.7.0:EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, ADX, SMAP, CLFLUSHOPT, SHA */
#define LEAF7_EBX_KEEP		(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | \
				 BIT(19) | BIT(20) | BIT(23) | BIT(29))
#define LEAF7_EBX_AVX2		BIT(5)
/* AVX512F, DQ, IFMA, PF, ER, CD, BW, VL */
#define LEAF7_EBX_AVX512	(BIT(16) | BIT(17) | BIT(21) | BIT(26) | \
				 BIT(27) | BIT(28) | BIT(30) | BIT(31))
/* PKU, and OSPKE: CR4.PKE, filled in at CPUID time */
#define LEAF7_ECX_PKU		BIT(3)
#define LEAF7_ECX_OSPKE		BIT(4)
/* AVX512_VBMI, _VBMI2, _VNNI, _BITALG, _VPOPCNTDQ */
#define LEAF7_ECX_AVX512	(BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
/* AVX512_4VNNIW, _4FMAPS, _VP2INTERSECT, _FP16 */
#define LEAF7_EDX_AVX512	(BIT(2) | BIT(3) | BIT(8) | BIT(23))

/* CPUID.(0xD,1):EAX: XSAVEOPT, XSAVEC, XGETBV with ECX = 1 (not XSAVES) */
#define XSAVE1_EAX_KEEP		(BIT(0) | BIT(1) | BIT(2))
#define XSAVE1_EAX_XSAVEC	BIT(1)
#define XSAVE1_EAX_XSAVES	BIT(3)
/* CPUID.(0xD,i):ECX[1]: 64-byte aligned in the compacted format */
#define XSAVE_ECX_ALIGN64	BIT(1)

/* CPUID.80000001H:EDX: RDTSCP (bit 27) is not enabled for guests */
#define EXT1_EDX_RDTSCP		BIT(27)

/* Level type of CPUID.0xB/0x1F subleaves, ECX[15:8]; 0 is invalid */
#define TOPO_ECX_LEVEL_TYPE	0xff00u
#define TOPO_ECX_LEVEL		0xffu
/* CPUID.4:EAX[4:0]: cache type; 0 ends the list */
#define CACHE_EAX_TYPE		0x1fu

/* The highest leaves the supported table describes */
#define MAX_BASIC_LEAF		0x3fu
#define MAX_EXT_LEAF		(CPUID_EXT_BASE + 0x20)
#define MAX_SUBLEAVES		8

/* "xvcpuxvcpu\0\0" in EBX, ECX, EDX of leaf 0x40000000 */
#define XVCPU_SIG_EBX		0x70637678	/* xvcp */
#define XVCPU_SIG_ECX		0x63767875	/* uxvc */
#define XVCPU_SIG_EDX		0x00007570	/* pu */

void cpuid_xsave_layout_init(struct cpuid_xsave_layout *xs,
			     cpuid_host_fn host, u64 xcr0)
{
	u32 r[4];
	int i;

	*xs = (struct cpuid_xsave_layout){ .xcr0 = xcr0 };
	for (i = 2; i < 64; i++) {
		if (!(xcr0 & BIT_ULL(i)))
			continue;
		host(0xd, i, r);
		xs->size[i] = r[0];
		xs->offset[i] = r[1];
		if (r[2] & XSAVE_ECX_ALIGN64)
			xs->align64 |= BIT_ULL(i);
	}
}

u32 cpuid_xsave_size(const struct cpuid_xsave_layout *xs, u64 xfeatures,
		     bool compacted)
{
	u32 size = CPUID_XSAVE_BASE_SIZE;
	u32 end;
	int i;

	for (i = 2; i < 64; i++) {
		if (!(xfeatures & xs->xcr0 & BIT_ULL(i)))
			continue;
		if (compacted) {
			/* Each one right after the last, maybe aligned */
			if (xs->align64 & BIT_ULL(i))
				size = (size + 63) & ~63u;
			size += xs->size[i];
		} else {
			end = xs->offset[i] + xs->size[i];
			if (end > size)
				size = end;
		}
	}
	return size;
}

struct builder {
	struct xvcpu_cpuid_entry *e;
	u32 max;
	u32 n;
};

static void add(struct builder *b, u32 function, u32 index, u32 flags,
		const u32 *r)
{
	struct xvcpu_cpuid_entry *e;

	if (b->n++ >= b->max)
		return;
	e = &b->e[b->n - 1];
	e->function = function;
	e->index = index;
	e->flags = flags;
	e->eax = r[0];
	e->ebx = r[1];
	e->ecx = r[2];
	e->edx = r[3];
	e->pad = 0;
}

/* Leaves whose features xvcpu hides: they read as zeros */
static bool leaf_hidden(u32 function)
{
	switch (function) {
	case 0x5:	/* MONITOR/MWAIT */
	case 0x6:	/* thermal and power management */
	case 0x9:	/* direct cache access */
	case 0xa:	/* performance monitoring: no PMU */
	case 0xf:	/* resource director technology (MSRs) */
	case 0x10:
	case 0x12:	/* SGX */
	case 0x14:	/* processor trace */
	case 0x1b:	/* PCONFIG */
	case 0x1c:	/* architectural LBRs */
	case 0x1d:	/* AMX tiles: not given to guests */
	case 0x1e:
	case 0x20:	/* HRESET */
	case 0x23:	/* performance monitoring */
		return true;
	default:
		return false;
	}
}

struct features {
	bool xsave, avx, avx512, pku;
};

/* What of XSAVE the guest gets: the host has it, and XCR0 covers it */
static struct features features_of(cpuid_host_fn host,
				   const struct cpuid_xsave_layout *xs)
{
	struct features f = {};
	u64 base = CPUID_XFEATURE_X87 | CPUID_XFEATURE_SSE;
	u32 r[4];

	host(1, 0, r);
	f.xsave = (r[2] & LEAF1_ECX_XSAVE) && (xs->xcr0 & base) == base;
	base |= CPUID_XFEATURE_YMM;
	f.avx = f.xsave && (r[2] & LEAF1_ECX_AVX) && (xs->xcr0 & base) == base;
	base |= CPUID_XFEATURE_AVX512;
	f.avx512 = f.avx && (xs->xcr0 & base) == base;
	/*
	 * PKU where the host switches PKRU for guests: the component is in
	 * the XCR0 guests may use only then (switch.c).
	 */
	host(7, 0, r);
	f.pku = f.xsave && (r[2] & LEAF7_ECX_PKU) &&
		(xs->xcr0 & CPUID_XFEATURE_PKRU);
	return f;
}

static void add_leaf1(struct builder *b, const struct features *f, u32 *r)
{
	u32 ecx = r[2];

	r[1] &= ~LEAF1_EBX_APIC_ID;		/* the vCPU id, at CPUID time */
	r[2] = (ecx & LEAF1_ECX_KEEP) | LEAF1_ECX_HYPERVISOR;
	if (f->xsave)
		r[2] |= LEAF1_ECX_XSAVE;	/* OSXSAVE: CR4, at CPUID time */
	if (f->avx)
		r[2] |= ecx & (LEAF1_ECX_AVX | LEAF1_ECX_FMA | LEAF1_ECX_F16C);
	add(b, 1, 0, 0, r);
}

/* Subleaf 0 only: no leaf 7 subleaf 1 features are given to guests */
static void add_leaf7(struct builder *b, const struct features *f, u32 *r)
{
	u32 ebx = r[1], ecx = r[2], edx = r[3];

	r[0] = 0;				/* highest subleaf */
	r[1] = ebx & LEAF7_EBX_KEEP;
	r[2] = 0;
	r[3] = 0;
	if (f->avx)
		r[1] |= ebx & LEAF7_EBX_AVX2;
	if (f->pku)
		r[2] |= LEAF7_ECX_PKU;		/* OSPKE: CR4, at CPUID time */
	if (f->avx512) {
		r[1] |= ebx & LEAF7_EBX_AVX512;
		r[2] |= ecx & LEAF7_ECX_AVX512;
		r[3] |= edx & LEAF7_EDX_AVX512;
	}
	add(b, 7, 0, XVCPU_CPUID_FLAG_INDEXED, r);
}

/* Leaf 0xD for the components guests may enable (SDM Vol. 1 13.2) */
static void add_leafd(struct builder *b, cpuid_host_fn host,
		      const struct cpuid_xsave_layout *xs)
{
	u32 r[4];
	int i;

	/* EBX, the size for the current XCR0, is computed at CPUID time */
	r[0] = (u32)xs->xcr0;
	r[1] = cpuid_xsave_size(xs, CPUID_XFEATURE_X87, false);
	r[2] = cpuid_xsave_size(xs, xs->xcr0, false);
	r[3] = (u32)(xs->xcr0 >> 32);
	add(b, 0xd, 0, XVCPU_CPUID_FLAG_INDEXED, r);

	/* No IA32_XSS: no XSAVES, no supervisor components */
	host(0xd, 1, r);
	r[0] &= XSAVE1_EAX_KEEP;
	r[1] = cpuid_xsave_size(xs, CPUID_XFEATURE_X87, true);
	r[2] = 0;
	r[3] = 0;
	add(b, 0xd, 1, XVCPU_CPUID_FLAG_INDEXED, r);

	for (i = 2; i < 64; i++) {
		if (!(xs->xcr0 & BIT_ULL(i)))
			continue;
		r[0] = xs->size[i];
		r[1] = xs->offset[i];
		r[2] = xs->align64 & BIT_ULL(i) ? XSAVE_ECX_ALIGN64 : 0;
		r[3] = 0;
		add(b, 0xd, i, XVCPU_CPUID_FLAG_INDEXED, r);
	}
}

/*
 * The subleaves of an indexed leaf, up to the end of its list and at most
 * MAX_SUBLEAVES.  Returns how many there are.
 */
static u32 add_subleaves(struct builder *b, cpuid_host_fn host, u32 function)
{
	u32 r[4], i, last = 0;
	bool end;

	for (i = 0; i < MAX_SUBLEAVES; i++) {
		host(function, i, r);
		switch (function) {
		case 4:		/* a cache of type 0 ends the list */
			end = !(r[0] & CACHE_EAX_TYPE);
			break;
		case 0xb:	/* a level of type 0 ends the list */
		case 0x1f:
			end = !(r[2] & TOPO_ECX_LEVEL_TYPE);
			r[3] = 0;	/* the x2APIC ID, at CPUID time */
			break;
		default:	/* subleaf 0 EAX is the highest subleaf */
			if (i == 0)
				last = r[0];
			end = i > last;
		}
		if (end)
			break;
		add(b, function, i, XVCPU_CPUID_FLAG_INDEXED, r);
	}
	return i;
}

u32 cpuid_build_supported(cpuid_host_fn host,
			  const struct cpuid_xsave_layout *xs,
			  struct xvcpu_cpuid_entry *e, u32 max)
{
	struct builder b = { .e = e, .max = max };
	struct features f = features_of(host, xs);
	u32 r[4], fn, max_basic, max_ext, first, k;

	host(0, 0, r);
	max_basic = r[0] < MAX_BASIC_LEAF ? r[0] : MAX_BASIC_LEAF;
	r[0] = max_basic;
	add(&b, 0, 0, 0, r);
	for (fn = 1; fn <= max_basic; fn++) {
		if (leaf_hidden(fn))
			continue;
		switch (fn) {
		case 1:
			host(1, 0, r);
			add_leaf1(&b, &f, r);
			break;
		case 4:
		case 0xb:
		case 0x1f:
			add_subleaves(&b, host, fn);
			break;
		case 7:
			host(7, 0, r);
			add_leaf7(&b, &f, r);
			break;
		case 0xd:
			if (f.xsave)
				add_leafd(&b, host, xs);
			break;
		case 0x17:
		case 0x18:
			/* Subleaf 0 counts the subleaves that are kept */
			first = b.n;
			k = add_subleaves(&b, host, fn);
			if (k && first < b.max)
				e[first].eax = k - 1;
			break;
		default:
			host(fn, 0, r);
			add(&b, fn, 0, 0, r);
		}
	}

	r[0] = CPUID_HYPERVISOR_BASE;		/* highest hypervisor leaf */
	r[1] = XVCPU_SIG_EBX;
	r[2] = XVCPU_SIG_ECX;
	r[3] = XVCPU_SIG_EDX;
	add(&b, CPUID_HYPERVISOR_BASE, 0, 0, r);

	host(CPUID_EXT_BASE, 0, r);
	if (r[0] < CPUID_EXT_BASE)
		return b.n;
	max_ext = r[0] < MAX_EXT_LEAF ? r[0] : MAX_EXT_LEAF;
	for (fn = CPUID_EXT_BASE; fn <= max_ext; fn++) {
		host(fn, 0, r);
		if (fn == CPUID_EXT_BASE)
			r[0] = max_ext;
		else if (fn == CPUID_EXT_BASE + 1)
			r[3] &= ~EXT1_EDX_RDTSCP;
		add(&b, fn, 0, 0, r);
	}
	return b.n;
}

/* Two entries that would both answer some (function, index) */
static bool entries_clash(const struct xvcpu_cpuid_entry *a,
			  const struct xvcpu_cpuid_entry *b)
{
	if (a->function != b->function)
		return false;
	/* An entry without INDEXED answers every subleaf */
	if (!(a->flags & XVCPU_CPUID_FLAG_INDEXED) ||
	    !(b->flags & XVCPU_CPUID_FLAG_INDEXED))
		return true;
	return a->index == b->index;
}

enum cpuid_error cpuid_check(const struct xvcpu_cpuid_entry *e, u32 nent,
			     u32 *bad, u32 *other)
{
	u32 i, j;

	if (nent > XVCPU_CPUID_MAX_ENTRIES)
		return CPUID_TOO_MANY;
	for (i = 0; i < nent; i++) {
		*bad = i;
		if (e[i].flags & ~XVCPU_CPUID_FLAG_INDEXED)
			return CPUID_BAD_FLAGS;
		if (e[i].pad)
			return CPUID_BAD_PAD;
		for (j = 0; j < i; j++) {
			if (entries_clash(&e[j], &e[i])) {
				*bad = j;
				*other = i;
				return CPUID_DUPLICATE;
			}
		}
	}
	return CPUID_OK;
}

const struct xvcpu_cpuid_entry *
cpuid_find(const struct xvcpu_cpuid_entry *e, u32 nent, u32 function,
	   u32 index)
{
	u32 i;

	for (i = 0; i < nent; i++) {
		if (e[i].function != function)
			continue;
		if (!(e[i].flags & XVCPU_CPUID_FLAG_INDEXED) ||
		    e[i].index == index)
			return &e[i];
	}
	return NULL;
}

/* Whether the table has any entry for @function */
static bool has_function(const struct xvcpu_cpuid_entry *e, u32 nent,
			 u32 function)
{
	u32 i;

	for (i = 0; i < nent; i++)
		if (e[i].function == function)
			return true;
	return false;
}

/*
 * Whether @function is at most the highest leaf of its range, as leaf 0
 * (basic), 0x80000000 (extended) or the hypervisor range's first leaf
 * say in EAX.  Anything else is beyond every range.
 */
static bool leaf_in_range(const struct xvcpu_cpuid_entry *e, u32 nent,
			  u32 function)
{
	const struct xvcpu_cpuid_entry *top;

	if (function < CPUID_HYPERVISOR_BASE)
		top = cpuid_find(e, nent, 0, 0);
	else if (function <= CPUID_HYPERVISOR_END)
		top = cpuid_find(e, nent, function & ~0xffu, 0);
	else if (function >= CPUID_EXT_BASE)
		top = cpuid_find(e, nent, CPUID_EXT_BASE, 0);
	else
		top = NULL;
	return top && function <= top->eax;
}

void cpuid_guest(const struct xvcpu_cpuid_entry *e, u32 nent, u32 function,
		 u32 index, const struct cpuid_dynamic *d,
		 const struct cpuid_xsave_layout *xs, u32 *regs)
{
	const struct xvcpu_cpuid_entry *ent, *basic;
	u32 leaf = function;

	/*
	 * SDM Vol. 2A, CPUID: "If a value entered for CPUID.EAX is higher
	 * than the maximum input value for basic or extended function for
	 * that processor then the data for the highest basic information
	 * leaf is returned" (with ECX selecting its subleaf), and a leaf
	 * within the maximum that the processor does not support returns
	 * 0 in every register (Table 3-8).  The hypervisor range, which
	 * hardware does not have, has its maximum in 0x40000000's EAX.
	 */
	ent = cpuid_find(e, nent, function, index);
	if (!ent && !leaf_in_range(e, nent, function)) {
		basic = cpuid_find(e, nent, 0, 0);
		if (basic) {
			leaf = basic->eax;
			ent = cpuid_find(e, nent, leaf, index);
		}
	}
	if (ent) {
		regs[0] = ent->eax;
		regs[1] = ent->ebx;
		regs[2] = ent->ecx;
		regs[3] = ent->edx;
	} else {
		regs[0] = 0;
		regs[1] = 0;
		regs[2] = 0;
		regs[3] = 0;
	}

	/* Fields a processor fills in from its own state */
	switch (leaf) {
	case 1:
		if (!ent)
			break;
		regs[1] = (regs[1] & ~LEAF1_EBX_APIC_ID) |
			  (d->apic_id << LEAF1_EBX_APIC_ID_SHIFT);
		regs[2] &= ~LEAF1_ECX_OSXSAVE;
		if (d->osxsave)
			regs[2] |= LEAF1_ECX_OSXSAVE;
		break;
	case 7:
		if (!ent || index != 0)
			break;
		regs[2] &= ~LEAF7_ECX_OSPKE;
		if (d->ospke)
			regs[2] |= LEAF7_ECX_OSPKE;
		break;
	case 0xb:
	case 0x1f:
		/*
		 * EDX is the x2APIC ID for every subleaf; one past the
		 * last level reads as an invalid level: ECX[7:0] = ECX
		 * input, level type 0.
		 */
		if (!ent) {
			if (!has_function(e, nent, leaf))
				break;
			regs[2] = index & TOPO_ECX_LEVEL;
		}
		regs[3] = d->apic_id;
		break;
	case 0xd:
		if (!ent)
			break;
		/* Sizes for the XCR0 the guest has now */
		if (index == 0)
			regs[1] = cpuid_xsave_size(xs, d->xcr0, false);
		else if (index == 1 &&
			 (regs[0] & (XSAVE1_EAX_XSAVEC | XSAVE1_EAX_XSAVES)))
			regs[1] = cpuid_xsave_size(xs, d->xcr0, true);
		break;
	}
}

u64 cpuid_xcr0_allowed(const struct xvcpu_cpuid_entry *e, u32 nent,
		       u64 supported)
{
	const struct xvcpu_cpuid_entry *leaf1 = cpuid_find(e, nent, 1, 0);
	const struct xvcpu_cpuid_entry *xsave = cpuid_find(e, nent, 0xd, 0);
	u64 allowed = CPUID_XFEATURE_X87;

	if (!leaf1 || !(leaf1->ecx & LEAF1_ECX_XSAVE))
		return 0;
	if (xsave)
		allowed |= xsave->eax | (u64)xsave->edx << 32;
	return allowed & supported;
}

/*
 * CPUID.1:ECX.PCID, CPUID.7.0:EBX.FSGSBASE/SMEP/SMAP, 7.0:ECX.UMIP/LA57,
 * and 7.0:ECX.PKU where the host switches PKRU (PKRU in @xcr0_supported)
 */
#define LEAF1_ECX_PCID		BIT(17)
#define LEAF7_EBX_FSGSBASE	BIT(0)
#define LEAF7_EBX_SMEP		BIT(7)
#define LEAF7_EBX_SMAP		BIT(20)
#define LEAF7_ECX_UMIP		BIT(2)
#define LEAF7_ECX_LA57		BIT(16)

u64 cpuid_cr4_allowed(const struct xvcpu_cpuid_entry *e, u32 nent,
		      u64 xcr0_supported)
{
	const struct xvcpu_cpuid_entry *leaf1 = cpuid_find(e, nent, 1, 0);
	const struct xvcpu_cpuid_entry *leaf7 = cpuid_find(e, nent, 7, 0);
	u64 allowed = CPUID_CR4_ALWAYS;

	if (leaf1 && (leaf1->ecx & LEAF1_ECX_PCID))
		allowed |= CPUID_CR4_PCIDE;
	if (cpuid_xcr0_allowed(e, nent, xcr0_supported))
		allowed |= CPUID_CR4_OSXSAVE;
	if (leaf7) {
		if (leaf7->ebx & LEAF7_EBX_FSGSBASE)
			allowed |= CPUID_CR4_FSGSBASE;
		if (leaf7->ebx & LEAF7_EBX_SMEP)
			allowed |= CPUID_CR4_SMEP;
		if (leaf7->ebx & LEAF7_EBX_SMAP)
			allowed |= CPUID_CR4_SMAP;
		if (leaf7->ecx & LEAF7_ECX_UMIP)
			allowed |= CPUID_CR4_UMIP;
		if (leaf7->ecx & LEAF7_ECX_LA57)
			allowed |= CPUID_CR4_LA57;
		if ((leaf7->ecx & LEAF7_ECX_PKU) &&
		    (xcr0_supported & CPUID_XFEATURE_PKRU))
			allowed |= CPUID_CR4_PKE;
	}
	return allowed;
}
