// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID tables: what XVCPU_GET_SUPPORTED_CPUID offers (the hypervisor
 * leaf, hidden features, XSAVE consistent with leaf 0xD), a vCPU's table
 * (XVCPU_SET_CPUID / XVCPU_GET_CPUID) as the guest's CPUID instruction
 * reads it, with the fields a processor computes itself (APIC IDs,
 * OSXSAVE, XSAVE sizes) and the SDM's rule for leaves beyond the maximum,
 * and the checks SET_CPUID makes.
 */
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

#define BIT32(n)		(1u << (n))
#define LEAF1_ECX_FMA		BIT32(12)
#define LEAF1_ECX_XSAVE		BIT32(26)
#define LEAF1_ECX_OSXSAVE	BIT32(27)
#define LEAF1_ECX_AVX		BIT32(28)
#define LEAF1_ECX_F16C		BIT32(29)
#define LEAF1_ECX_HYPERVISOR	BIT32(31)
#define LEAF7_EBX_AVX2		BIT32(5)
#define LEAF7_EBX_AVX512F	BIT32(16)
#define XSAVE1_EAX_XSAVES	BIT32(3)
#define CR4_OSXSAVE		(1ULL << 18)
#define IDX			XVCPU_CPUID_FLAG_INDEXED
#define ENTRY(fn, idx, flags, a, b, c, d) \
	{ (fn), (idx), (flags), (a), (b), (c), (d), 0 }

/* XSAVE legacy region and header: the size for XCR0 = x87 only */
#define XSAVE_BASE_SIZE		576

struct cpuid_query {
	uint32_t fn, idx;
};

#define MAX_QUERIES	(XVCPU_CPUID_MAX_ENTRIES + 16)
/* Written into the guest's copy before it runs */
static struct cpuid_query queries[MAX_QUERIES];

static inline __guest void guest_cpuid(uint32_t fn, uint32_t idx,
				       uint32_t *r)
{
	asm volatile("cpuid"
		     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(fn), "c"(idx));
}

/* CPUID for each query; each result is one ucall: EBX:EAX, EDX:ECX */
static void __guest guest_cpuid_queries(uint64_t n)
{
	uint32_t r[4];
	uint64_t i;

	for (i = 0; i < n; i++) {
		guest_cpuid(READ_ONCE(queries[i].fn), READ_ONCE(queries[i].idx),
			    r);
		GUEST_SYNC2(r[0] | (uint64_t)r[1] << 32,
			    r[2] | (uint64_t)r[3] << 32);
	}
}

/* What the guest on @vcpu reads for each of @n queries, into @out. */
static void read_in_guest(struct __test_metadata *_metadata, struct xvt_vm *t,
			struct xvcpu_vcpu *vcpu, const struct cpuid_query *q,
			unsigned int n, uint32_t (*out)[4])
{
	struct cpuid_query *gq = xvt_var_in_guest(t, queries, sizeof(queries));
	struct ucall uc;
	unsigned int i;

	ASSERT_LE(n, MAX_QUERIES);
	ASSERT_NE(NULL, gq);
	memcpy(gq, q, n * sizeof(*q));
	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, guest_cpuid_queries, n, 0));
	for (i = 0; i < n; i++) {
		ASSERT_RUN_UCALL(vcpu, &uc, UCALL_SYNC);
		out[i][0] = (uint32_t)uc.args[0];
		out[i][1] = uc.args[0] >> 32;
		out[i][2] = (uint32_t)uc.args[1];
		out[i][3] = uc.args[1] >> 32;
	}
	ASSERT_RUN_UCALL(vcpu, NULL, UCALL_DONE);
}

struct expect {
	uint32_t fn, idx;
	uint32_t r[4];
};

/* The guest on @vcpu reads exactly @x[i].r for each query of @x. */
static void expect_reads(struct __test_metadata *_metadata, struct xvt_vm *t,
			 struct xvcpu_vcpu *vcpu, const struct expect *x,
			 unsigned int n)
{
	static struct cpuid_query q[MAX_QUERIES];
	static uint32_t got[MAX_QUERIES][4];
	unsigned int i;

	ASSERT_LE(n, MAX_QUERIES);
	for (i = 0; i < n; i++) {
		q[i].fn = x[i].fn;
		q[i].idx = x[i].idx;
	}
	read_in_guest(_metadata, t, vcpu, q, n, got);
	for (i = 0; i < n; i++) {
		const uint32_t *w = x[i].r, *g = got[i];

		EXPECT_EQ(0, memcmp(w, g, sizeof(got[i])))
			TH_LOG("CPUID %#x/%#x: %08x %08x %08x %08x, expected %08x %08x %08x %08x",
			       x[i].fn, x[i].idx, g[0], g[1], g[2], g[3],
			       w[0], w[1], w[2], w[3]);
	}
}

static const struct xvcpu_cpuid_entry *
find(const struct xvcpu_cpuid *c, uint32_t fn, uint32_t idx)
{
	return xvcpu_cpuid_entry((struct xvcpu_cpuid *)c, fn, idx);
}

static struct xvcpu_cpuid supported;

static void get_supported(struct __test_metadata *_metadata)
{
	int fd = xvcpu_open();

	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(-fd));
	memset(&supported, 0xa5, sizeof(supported));
	ASSERT_EQ(0, xvcpu_get_supported_cpuid(fd, &supported));
	close(fd);
	ASSERT_LT(0, supported.nent);
	ASSERT_GE(XVCPU_CPUID_MAX_ENTRIES, supported.nent);
	EXPECT_EQ(0, supported.pad);
}

/* ---- the supported table ---- */

TEST(supported_table_hides_what_xvcpu_does_not_virtualize)
{
	static const unsigned int hidden[] = {
		3,	/* MONITOR */
		5,	/* VMX */
		6,	/* SMX */
		15,	/* PDCM */
		17,	/* PCID */
		21,	/* x2APIC */
		24,	/* TSC deadline */
		27,	/* OSXSAVE: CR4 at CPUID time */
	};
	static const uint32_t hidden_leaves[] = { 5, 6, 0xa, 0x12, 0x14 };
	const struct xvcpu_cpuid_entry *e, *f;
	unsigned int i, j;

	XVT_REQUIRE_DEV();
	EXPECT_EQ(1, xvt_cap(XVCPU_CAP_SET_CPUID));
	EXPECT_EQ(1, xvt_cap(XVCPU_CAP_CPUID));
	get_supported(_metadata);

	for (i = 0; i < supported.nent; i++) {
		e = &supported.entries[i];
		EXPECT_EQ(0, e->pad);
		EXPECT_EQ(0, e->flags & ~IDX);
		/* No two entries answer the same CPUID */
		for (j = 0; j < i; j++) {
			f = &supported.entries[j];
			EXPECT_FALSE(e->function == f->function &&
				     (!(e->flags & IDX) || !(f->flags & IDX) ||
				      e->index == f->index))
				TH_LOG("entries %u and %u: %#x/%#x", j, i,
				       e->function, e->index);
		}
	}

	e = find(&supported, 0x40000000, 0);
	ASSERT_NE(NULL, e);
	EXPECT_LE(0x40000000, e->eax);
	EXPECT_EQ(0, memcmp(&e->ebx, "xvcpuxvcpu\0\0", 12));

	e = find(&supported, 1, 0);
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(e->ecx & LEAF1_ECX_HYPERVISOR);
	for (i = 0; i < ARRAY_SIZE(hidden); i++)
		EXPECT_EQ(0, e->ecx & BIT32(hidden[i]))
			TH_LOG("CPUID.1:ECX bit %u", hidden[i]);
	EXPECT_EQ(0, e->ebx >> 24);		/* APIC ID: at CPUID time */

	for (i = 0; i < ARRAY_SIZE(hidden_leaves); i++)
		EXPECT_EQ(NULL, find(&supported, hidden_leaves[i], 0))
			TH_LOG("leaf %#x", hidden_leaves[i]);

	e = find(&supported, 0x80000001, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(0, e->edx & BIT32(27));	/* RDTSCP */

	/* Every basic and extended leaf is within its range's maximum */
	f = find(&supported, 0x80000000, 0);
	ASSERT_NE(NULL, f);
	e = find(&supported, 0, 0);
	ASSERT_NE(NULL, e);
	for (i = 0; i < supported.nent; i++) {
		uint32_t fn = supported.entries[i].function;

		if (fn < 0x40000000) {
			EXPECT_LE(fn, e->eax);
		} else if (fn >= 0x80000000) {
			EXPECT_LE(fn, f->eax);
		}
	}
}

/* The XSAVE feature bits and leaf 0xD tell the same story. */
TEST(supported_xsave_matches_leaf_0xd)
{
	const struct xvcpu_cpuid_entry *l1, *l7, *d0, *d1, *di;
	uint64_t xcr0;
	uint32_t end = XSAVE_BASE_SIZE;
	unsigned int i;

	XVT_REQUIRE_DEV();
	get_supported(_metadata);
	l1 = find(&supported, 1, 0);
	l7 = find(&supported, 7, 0);
	ASSERT_NE(NULL, l1);
	ASSERT_NE(NULL, l7);
	d0 = find(&supported, 0xd, 0);

	if (!(l1->ecx & LEAF1_ECX_XSAVE)) {
		TH_LOG("no XSAVE for guests on this host");
		EXPECT_EQ(0, l1->ecx & (LEAF1_ECX_AVX | LEAF1_ECX_FMA |
					LEAF1_ECX_F16C));
		EXPECT_EQ(0, l7->ebx & (LEAF7_EBX_AVX2 | LEAF7_EBX_AVX512F));
		for (i = 0; i < 64; i++)
			EXPECT_EQ(NULL, find(&supported, 0xd, i));
		return;
	}
	ASSERT_NE(NULL, d0);
	EXPECT_EQ(IDX, d0->flags);
	xcr0 = d0->eax | (uint64_t)d0->edx << 32;
	TH_LOG("guest XCR0 may be %#llx", (unsigned long long)xcr0);
	EXPECT_EQ(0x3, xcr0 & 0x3);
	if (l1->ecx & LEAF1_ECX_AVX)
		EXPECT_TRUE(xcr0 & 0x4);
	if (l7->ebx & LEAF7_EBX_AVX2)
		EXPECT_TRUE(l1->ecx & LEAF1_ECX_AVX);
	if (l7->ebx & LEAF7_EBX_AVX512F)
		EXPECT_EQ(0xe0, xcr0 & 0xe0);
	/* AMX and supervisor state are not given to guests */
	EXPECT_EQ(0, xcr0 & ~0xe7ULL);
	EXPECT_EQ(XSAVE_BASE_SIZE, d0->ebx);	/* XCR0 = 1 after reset */

	d1 = find(&supported, 0xd, 1);
	ASSERT_NE(NULL, d1);
	EXPECT_EQ(0, d1->eax & XSAVE1_EAX_XSAVES);
	EXPECT_EQ(0, d1->ecx);
	EXPECT_EQ(0, d1->edx);

	for (i = 2; i < 64; i++) {
		di = find(&supported, 0xd, i);
		if (!(xcr0 & (1ULL << i))) {
			EXPECT_EQ(NULL, di) TH_LOG("subleaf %u", i);
			continue;
		}
		ASSERT_NE(NULL, di) TH_LOG("subleaf %u", i);
		EXPECT_LT(0, di->eax);
		EXPECT_LE(XSAVE_BASE_SIZE, di->ebx);
		EXPECT_EQ(0, di->ecx & 1);	/* user state */
		if (di->ebx + di->eax > end)
			end = di->ebx + di->eax;
	}
	EXPECT_EQ(end, d0->ecx);
}

TEST(get_supported_checks_its_argument)
{
	struct xvcpu_cpuid *c = calloc(1, sizeof(*c));
	int fd;

	XVT_REQUIRE_DEV();
	ASSERT_NE(NULL, c);
	fd = xvcpu_open();
	ASSERT_LE(0, fd);
	c->nent = 1;
	ASSERT_ERRNO(EINVAL, ioctl(fd, XVCPU_GET_SUPPORTED_CPUID, c));
	c->nent = 0;
	c->pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(fd, XVCPU_GET_SUPPORTED_CPUID, c));
	ASSERT_ERRNO(EFAULT, ioctl(fd, XVCPU_GET_SUPPORTED_CPUID, NULL));
	c->pad = 0;
	ASSERT_EQ(0, ioctl(fd, XVCPU_GET_SUPPORTED_CPUID, c));
	EXPECT_LT(0, c->nent);
	close(fd);
	free(c);
}

/* ---- a vCPU's table ---- */

static struct xvcpu_cpuid got;

TEST_F(vm, new_vcpu_has_the_supported_table)
{
	get_supported(_metadata);
	memset(&got, 0xa5, sizeof(got));
	ASSERT_EQ(0, xvcpu_get_cpuid(self->vcpu, &got));
	ASSERT_EQ(supported.nent, got.nent);
	EXPECT_EQ(0, got.pad);
	EXPECT_EQ(0, memcmp(supported.entries, got.entries,
			    got.nent * sizeof(got.entries[0])));
}

/*
 * vCPU 0 just after reset (XCR0 = 1, CR4.OSXSAVE = 0) reads every entry
 * of the supported table as it is: its dynamic fields hold those values.
 */
TEST_F(vm, guest_reads_the_supported_table)
{
	static struct expect x[XVCPU_CPUID_MAX_ENTRIES];
	const struct xvcpu_cpuid_entry *e;
	unsigned int i;

	get_supported(_metadata);
	for (i = 0; i < supported.nent; i++) {
		e = &supported.entries[i];
		x[i] = (struct expect){ e->function, e->index,
					{ e->eax, e->ebx, e->ecx, e->edx } };
	}
	expect_reads(_metadata, self->t, self->vcpu, x, supported.nent);
}

/*
 * A custom table: highest basic leaf 0x14 (indexed), hypervisor leaves
 * up to 0x40000001, extended up to 0x80000008.  Leaf 2, 0x80000005 and
 * subleaves beyond those listed are absent.  Leaf 1 sets an APIC ID and
 * OSXSAVE, which the guest must not see.
 */
static const struct xvcpu_cpuid_entry custom[] = {
	ENTRY(0x0, 0, 0, 0x14, 0x74737543, 0x55504320, 0x6d6f2d2d),
	ENTRY(0x1, 0, 0, 0x50654, 0xff100800, 0xfffffffe, 0x178bfbff),
	ENTRY(0x4, 0, IDX, 0x121, 0x1c0003f, 0x3f, 0),
	ENTRY(0x4, 1, IDX, 0x122, 0x1c0003f, 0x3f, 0),
	ENTRY(0x6, 0x77, 0, 0x6a, 0x6b, 0x6c, 0x6d),
	ENTRY(0xb, 0, IDX, 1, 1, 0x100, 0xdead),
	ENTRY(0xb, 1, IDX, 4, 4, 0x201, 0xbeef),
	ENTRY(0xd, 0, IDX, 0x7, 0x1234, 0x340, 0),
	ENTRY(0x14, 0, IDX, 0x140, 0x141, 0x142, 0x143),
	ENTRY(0x14, 1, IDX, 0x1410, 0x1411, 0x1412, 0x1413),
	ENTRY(0x40000000, 0, 0, 0x40000001, 0x54534554, 0x54534554, 0x54534554),
	ENTRY(0x40000001, 0, 0, 0x4001, 0, 0, 0),
	ENTRY(0x80000000, 0, 0, 0x80000008, 0, 0, 0),
	ENTRY(0x80000001, 0, 0, 0, 0, 0x121, 0x2c100800),
	ENTRY(0x80000008, 0, 0, 0x3027, 0, 0, 0),
};

static void set_custom(struct __test_metadata *_metadata,
		       struct xvcpu_vcpu *vcpu)
{
	static struct xvcpu_cpuid c;

	memset(&c, 0, sizeof(c));
	c.nent = ARRAY_SIZE(custom);
	memcpy(c.entries, custom, sizeof(custom));
	ASSERT_EQ(0, xvcpu_set_cpuid(vcpu, &c));
}

#define LEAF14_0	{ 0x140, 0x141, 0x142, 0x143 }
#define LEAF14_1	{ 0x1410, 0x1411, 0x1412, 0x1413 }

TEST_F(vm, guest_reads_a_custom_table)
{
	static const struct expect x[] = {
		{ 0x0, 0, { 0x14, 0x74737543, 0x55504320, 0x6d6f2d2d } },
		/* An entry without INDEXED answers every subleaf */
		{ 0x0, 9, { 0x14, 0x74737543, 0x55504320, 0x6d6f2d2d } },
		{ 0x6, 0, { 0x6a, 0x6b, 0x6c, 0x6d } },
		{ 0x6, 0xffffffff, { 0x6a, 0x6b, 0x6c, 0x6d } },
		/* APIC ID 0 (vCPU 0), OSXSAVE as CR4 (0) */
		{ 0x1, 0, { 0x50654, 0x00100800, 0xf7fffffe, 0x178bfbff } },
		{ 0x4, 1, { 0x122, 0x1c0003f, 0x3f, 0 } },
		{ 0x40000000, 0, { 0x40000001, 0x54534554, 0x54534554,
				   0x54534554 } },
		{ 0x40000001, 0, { 0x4001, 0, 0, 0 } },
		{ 0x80000001, 0, { 0, 0, 0x121, 0x2c100800 } },
		{ 0x80000008, 0, { 0x3027, 0, 0, 0 } },
		{ 0x14, 1, LEAF14_1 },
		/* x2APIC ID on every subleaf; past the last: level 2 invalid */
		{ 0xb, 0, { 1, 1, 0x100, 0 } },
		{ 0xb, 1, { 4, 4, 0x201, 0 } },
		{ 0xb, 2, { 0, 0, 2, 0 } },
		/* The size for XCR0 = 1, whatever the table says */
		{ 0xd, 0, { 0x7, XSAVE_BASE_SIZE, 0x340, 0 } },
	};

	set_custom(_metadata, self->vcpu);
	expect_reads(_metadata, self->t, self->vcpu, x, ARRAY_SIZE(x));
}

/*
 * SDM Vol. 2A, CPUID: beyond the maximum of the basic and the extended
 * range, the highest basic leaf's data (ECX selecting its subleaf); an
 * absent leaf within a maximum reads zeros.
 */
TEST_F(vm, leaves_out_of_range_read_the_highest_basic_leaf)
{
	static const struct expect x[] = {
		{ 0x2, 0, { 0, 0, 0, 0 } },
		{ 0x13, 0, { 0, 0, 0, 0 } },
		{ 0x4, 2, { 0, 0, 0, 0 } },
		{ 0x14, 2, { 0, 0, 0, 0 } },
		{ 0x80000005, 0, { 0, 0, 0, 0 } },
		{ 0x15, 0, LEAF14_0 },
		{ 0x15, 1, LEAF14_1 },
		{ 0x15, 2, { 0, 0, 0, 0 } },
		{ 0x1f, 1, LEAF14_1 },
		{ 0x3fffffff, 0, LEAF14_0 },
		{ 0x40000002, 1, LEAF14_1 },
		{ 0x40000100, 0, LEAF14_0 },
		{ 0x50000000, 0, LEAF14_0 },
		{ 0x80000009, 0, LEAF14_0 },
		{ 0x8000000a, 1, LEAF14_1 },
		{ 0xc0000000, 0, LEAF14_0 },
		{ 0xffffffff, 1, LEAF14_1 },
	};

	set_custom(_metadata, self->vcpu);
	expect_reads(_metadata, self->t, self->vcpu, x, ARRAY_SIZE(x));
}

/* The APIC IDs in leaves 1 and 0xB are the vCPU's id, on any table. */
TEST_F(vm, apic_ids_are_the_vcpu_id)
{
	static const struct expect x[] = {
		{ 0x1, 0, { 0x50654, 0x05100800, 0xf7fffffe, 0x178bfbff } },
		{ 0xb, 0, { 1, 1, 0x100, 5 } },
		{ 0xb, 1, { 4, 4, 0x201, 5 } },
		{ 0xb, 7, { 0, 0, 7, 5 } },
	};
	static const struct cpuid_query q[] = { { 1, 0 }, { 0xb, 0 } };
	uint32_t r[2][4];
	struct xvcpu_vcpu *v5 = xvt_vcpu_add(self->t, 5);

	ASSERT_NE(NULL, v5);
	get_supported(_metadata);
	read_in_guest(_metadata, self->t, v5, q, 2, r);
	EXPECT_EQ(5, r[0][1] >> 24);
	if (find(&supported, 0xb, 0)) {
		EXPECT_EQ(5, r[1][3]);
	} else {
		TH_LOG("no leaf 0xb on this host");
	}

	set_custom(_metadata, v5);
	expect_reads(_metadata, self->t, v5, x, ARRAY_SIZE(x));
}

/* CPUID.1:ECX.OSXSAVE is the guest's CR4.OSXSAVE, as on real CPUs. */
TEST_F(vm, osxsave_follows_cr4)
{
	static const struct cpuid_query q[] = { { 1, 0 } };
	struct xvcpu_sregs sregs;
	uint32_t r[1][4];
	int ret;

	set_custom(_metadata, self->vcpu);
	read_in_guest(_metadata, self->t, self->vcpu, q, 1, r);
	EXPECT_EQ(0, r[0][2] & LEAF1_ECX_OSXSAVE);

	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	ASSERT_EQ(0, sregs.cr4 & CR4_OSXSAVE);
	sregs.cr4 |= CR4_OSXSAVE;
	ret = xvcpu_set_sregs(self->vcpu, &sregs);
	if (ret) {
		/* Allowed only where guests may have XSAVE */
		get_supported(_metadata);
		ASSERT_EQ(-EINVAL, ret);
		ASSERT_EQ(0, find(&supported, 1, 0)->ecx & LEAF1_ECX_XSAVE);
		SKIP(return, "CR4.OSXSAVE cannot be set: no XSAVE for guests");
	}
	read_in_guest(_metadata, self->t, self->vcpu, q, 1, r);
	EXPECT_EQ(LEAF1_ECX_OSXSAVE, r[0][2] & LEAF1_ECX_OSXSAVE);
	EXPECT_EQ(0xfffffffe, r[0][2]);

	/* And the supported table's leaf 1 with it */
	get_supported(_metadata);
	memset(&got, 0, sizeof(got));
	got.nent = supported.nent;
	memcpy(got.entries, supported.entries, sizeof(got.entries));
	ASSERT_EQ(0, xvcpu_set_cpuid(self->vcpu, &got));
	read_in_guest(_metadata, self->t, self->vcpu, q, 1, r);
	EXPECT_EQ(find(&supported, 1, 0)->ecx | LEAF1_ECX_OSXSAVE, r[0][2]);
}

TEST_F(vm, get_cpuid_returns_what_was_set)
{
	static struct xvcpu_cpuid c;

	set_custom(_metadata, self->vcpu);
	memset(&got, 0xa5, sizeof(got));
	ASSERT_EQ(0, xvcpu_get_cpuid(self->vcpu, &got));
	ASSERT_EQ(ARRAY_SIZE(custom), got.nent);
	EXPECT_EQ(0, got.pad);
	EXPECT_EQ(0, memcmp(custom, got.entries, sizeof(custom)));

	/* A full table */
	memset(&c, 0, sizeof(c));
	for (c.nent = 0; c.nent < XVCPU_CPUID_MAX_ENTRIES; c.nent++) {
		c.entries[c.nent].function = 0x80000000 + c.nent;
		c.entries[c.nent].eax = c.nent * 0x01010101u;
	}
	ASSERT_EQ(0, xvcpu_set_cpuid(self->vcpu, &c));
	ASSERT_EQ(0, xvcpu_get_cpuid(self->vcpu, &got));
	ASSERT_EQ(XVCPU_CPUID_MAX_ENTRIES, got.nent);
	EXPECT_EQ(0, memcmp(c.entries, got.entries, sizeof(c.entries)));
}

/* No entries: every CPUID reads zeros, APIC ID included. */
TEST_F(vm, empty_table_reads_zeros)
{
	static const struct expect x[] = {
		{ 0x0, 0, { 0, 0, 0, 0 } },
		{ 0x1, 0, { 0, 0, 0, 0 } },
		{ 0xb, 0, { 0, 0, 0, 0 } },
		{ 0x40000000, 0, { 0, 0, 0, 0 } },
		{ 0x80000001, 0, { 0, 0, 0, 0 } },
	};
	static struct xvcpu_cpuid c;

	ASSERT_EQ(0, xvcpu_set_cpuid(self->vcpu, &c));
	ASSERT_EQ(0, xvcpu_get_cpuid(self->vcpu, &got));
	EXPECT_EQ(0, got.nent);
	expect_reads(_metadata, self->t, self->vcpu, x, ARRAY_SIZE(x));
}

/* A new table takes effect at the next CPUID, after a run too; per vCPU. */
TEST_F(vm, set_cpuid_after_run)
{
	static const struct cpuid_query q[] = { { 0x40000000, 0 } };
	struct xvcpu_vcpu *v1 = xvt_vcpu_add(self->t, 1);
	uint32_t r[1][4];

	ASSERT_NE(NULL, v1);
	read_in_guest(_metadata, self->t, self->vcpu, q, 1, r);
	EXPECT_EQ(0, memcmp(&r[0][1], "xvcpuxvcpu\0\0", 12));
	set_custom(_metadata, self->vcpu);
	read_in_guest(_metadata, self->t, self->vcpu, q, 1, r);
	EXPECT_EQ(0, memcmp(&r[0][1], "TESTTESTTEST", 12));
	read_in_guest(_metadata, self->t, v1, q, 1, r);
	EXPECT_EQ(0, memcmp(&r[0][1], "xvcpuxvcpu\0\0", 12));
}

/* ---- SET_CPUID and GET_CPUID refuse bad arguments ---- */

/* SET fails with @err and the table stays as it was (the custom one). */
static void expect_set_fails(struct __test_metadata *_metadata,
			     struct xvcpu_vcpu *vcpu, struct xvcpu_cpuid *c,
			     int err)
{
	ASSERT_ERRNO(err, ioctl(vcpu->fd, XVCPU_SET_CPUID, c));
	ASSERT_EQ(0, xvcpu_get_cpuid(vcpu, &got));
	ASSERT_EQ(ARRAY_SIZE(custom), got.nent);
	EXPECT_EQ(0, memcmp(custom, got.entries, sizeof(custom)));
}

TEST_F(vm, set_cpuid_refuses_bad_tables)
{
	static struct xvcpu_cpuid c;

	set_custom(_metadata, self->vcpu);
	memset(&c, 0, sizeof(c));
	c.nent = 3;
	c.entries[0] = (struct xvcpu_cpuid_entry){ .function = 7, .flags = IDX };
	c.entries[1] = (struct xvcpu_cpuid_entry){ .function = 7, .index = 1,
						   .flags = IDX };
	c.entries[2] = (struct xvcpu_cpuid_entry){ .function = 8 };
	ASSERT_EQ(0, xvcpu_set_cpuid(self->vcpu, &c));
	set_custom(_metadata, self->vcpu);

	c.nent = XVCPU_CPUID_MAX_ENTRIES + 1;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);
	c.nent = 0xffffffff;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);
	c.nent = 3;
	c.pad = 1;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);
	c.pad = 0;
	c.entries[2].flags = 2;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);
	c.entries[2].flags = 0x80000000;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);
	c.entries[2].flags = 0;
	c.entries[2].pad = 1;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);
	c.entries[2].pad = 0;

	/* Duplicates: the same subleaf twice */
	c.entries[1].index = 0;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);
	/* An entry for every subleaf besides one for a subleaf */
	c.entries[1].index = 1;
	c.entries[1].flags = 0;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);
	/* Two entries for every subleaf */
	c.entries[1].function = 8;
	expect_set_fails(_metadata, self->vcpu, &c, EINVAL);

}

TEST_F(vm, set_cpuid_faults_cleanly)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct xvcpu_cpuid *c;
	char *m;

	set_custom(_metadata, self->vcpu);
	expect_set_fails(_metadata, self->vcpu, NULL, EFAULT);
	/* The header and one entry readable, the second entry not */
	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, mprotect(m + pg, pg, PROT_NONE));
	c = (struct xvcpu_cpuid *)(m + pg - 8 - sizeof(c->entries[0]) - 4);
	c->nent = 2;
	c->pad = 0;
	memset(&c->entries[0], 0, sizeof(c->entries[0]));
	expect_set_fails(_metadata, self->vcpu, c, EFAULT);
	c->nent = 1;
	ASSERT_EQ(0, ioctl(self->vcpu->fd, XVCPU_SET_CPUID, c));
	/* GET of more entries than the caller's memory holds */
	set_custom(_metadata, self->vcpu);
	c->nent = 0;
	ASSERT_ERRNO(EFAULT, ioctl(self->vcpu->fd, XVCPU_GET_CPUID, c));
	EXPECT_EQ(0, c->nent);
	munmap(m, 2 * pg);
}

TEST_F(vm, get_cpuid_checks_its_argument)
{
	memset(&got, 0, sizeof(got));
	got.nent = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_GET_CPUID, &got));
	got.nent = 0;
	got.pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_GET_CPUID, &got));
	ASSERT_ERRNO(EFAULT, ioctl(self->vcpu->fd, XVCPU_GET_CPUID, NULL));
}

TEST_HARNESS_MAIN
