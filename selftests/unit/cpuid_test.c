// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmod/cpuid_table.c: the supported table built from a
 * recorded host (a Skylake-SP's leaves, with every feature bit of leaves
 * 1 and 7 set so that the filter shows), what CPUID returns from a table
 * (SDM Vol. 2A, CPUID: out-of-range leaves, unsupported leaves and
 * subleaves, the fields computed from the vCPU's state) and the checks on
 * a table from userspace.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <string.h>
#include "kselftest_harness.h"
#include "kmod/cpuid.h"

struct host_leaf {
	u32 fn, idx, r[4];
};

/* Subleaves of leaves 4, 7, 0xb and 0xd are listed; others answer idx 0 */
static const struct host_leaf skx[] = {
	{ 0x0, 0, { 0x16, 0x756e6547, 0x6c65746e, 0x49656e69 } },
	{ 0x1, 0, { 0x50654, 0x05100800, 0xffffffff, 0xbfebfbff } },
	{ 0x2, 0, { 0x76036301, 0x00f0b5ff, 0, 0x00c30000 } },
	{ 0x4, 0, { 0x1c004121, 0x01c0003f, 0x3f, 0 } },
	{ 0x4, 1, { 0x1c004122, 0x01c0003f, 0x3f, 0 } },
	{ 0x4, 2, { 0x1c004143, 0x03c0003f, 0x3ff, 0 } },
	{ 0x4, 3, { 0x1c03c163, 0x0280003f, 0x6fff, 4 } },
	{ 0x5, 0, { 0x40, 0x40, 3, 0x2020 } },
	{ 0x6, 0, { 0x77, 2, 9, 0 } },
	{ 0x7, 0, { 0, 0xffffffff, 0xffffffff, 0xffffffff } },
	{ 0x7, 1, { 0xffffffff, 0, 0, 0 } },
	{ 0xa, 0, { 0x07300404, 0, 0, 0x603 } },
	{ 0xb, 0, { 1, 2, 0x100, 5 } },
	{ 0xb, 1, { 6, 0x20, 0x201, 5 } },
	{ 0xb, 2, { 0, 0, 2, 5 } },
	/* x87 SSE AVX BNDREGS BNDCSR opmask ZMM_Hi256 Hi16_ZMM PKRU */
	{ 0xd, 0, { 0x2ff, 0xa88, 0xa88, 0 } },
	{ 0xd, 1, { 0xf, 0xa98, 0x100, 0 } },
	{ 0xd, 2, { 256, 576, 0, 0 } },
	{ 0xd, 3, { 64, 960, 0, 0 } },
	{ 0xd, 4, { 64, 1024, 0, 0 } },
	{ 0xd, 5, { 64, 1088, 0, 0 } },
	{ 0xd, 6, { 512, 1152, 0, 0 } },
	{ 0xd, 7, { 1024, 1664, 0, 0 } },
	{ 0xd, 8, { 128, 0, 1, 0 } },
	{ 0xd, 9, { 8, 2688, 0, 0 } },
	{ 0x12, 0, { 3, 0, 0, 0x1f1f } },
	{ 0x14, 0, { 1, 0xf, 7, 0 } },
	{ 0x15, 0, { 2, 0xa8, 0, 0 } },
	{ 0x16, 0, { 0xbb8, 0xfa0, 0x64, 0 } },
	{ 0x80000000, 0, { 0x80000008, 0, 0, 0 } },
	{ 0x80000001, 0, { 0, 0, 0x121, 0x2c100800 } },
	{ 0x80000002, 0, { 0x65746e49, 0x2952286c, 0x6f655820, 0x2952286e } },
	{ 0x80000006, 0, { 0, 0, 0x01006040, 0 } },
	{ 0x80000007, 0, { 0, 0, 0, 0x100 } },
	{ 0x80000008, 0, { 0x0000302e, 0, 0, 0 } },
};

static bool host_indexed(u32 fn)
{
	return fn == 4 || fn == 7 || fn == 0xb || fn == 0xd;
}

static void skx_cpuid(u32 fn, u32 idx, u32 *regs)
{
	unsigned int i;

	memset(regs, 0, 4 * sizeof(*regs));
	for (i = 0; i < ARRAY_SIZE(skx); i++) {
		if (skx[i].fn == fn &&
		    (!host_indexed(fn) || skx[i].idx == idx)) {
			memcpy(regs, skx[i].r, sizeof(skx[i].r));
			return;
		}
	}
}

#define XCR0_ALL	0xe7ULL		/* what xvcpu gives guests */
#define GUARD		0x5a

struct built {
	struct xvcpu_cpuid_entry e[XVCPU_CPUID_MAX_ENTRIES + 1];
	struct cpuid_xsave_layout xs;
	u32 n;
};

static void build(struct built *b, u64 xcr0)
{
	memset(b, GUARD, sizeof(*b));
	cpuid_xsave_layout_init(&b->xs, skx_cpuid, xcr0);
	b->n = cpuid_build_supported(skx_cpuid, &b->xs, b->e,
				     XVCPU_CPUID_MAX_ENTRIES);
}

static const struct xvcpu_cpuid_entry *find(const struct built *b, u32 fn,
					    u32 idx)
{
	return cpuid_find(b->e, b->n, fn, idx);
}

#define BIT32(n)	(1u << (n))

TEST(supported_table_filters_the_host)
{
	static const u32 hidden_leaves[] = { 5, 6, 0xa, 0x12, 0x14 };
	static const u32 hidden_ecx1[] = { 3, 5, 6, 15, 17, 18, 21, 24, 27 };
	const struct xvcpu_cpuid_entry *l;
	struct built b;
	u32 bad, other, i;

	build(&b, XCR0_ALL);
	ASSERT_LE(b.n, XVCPU_CPUID_MAX_ENTRIES);
	EXPECT_EQ(CPUID_OK, cpuid_check(b.e, b.n, &bad, &other));
	for (i = 0; i < b.n; i++)
		EXPECT_EQ(0, b.e[i].pad);

	l = find(&b, 0, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x16, l->eax);
	EXPECT_EQ(0x756e6547, l->ebx);

	l = find(&b, 1, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0, l->flags);
	EXPECT_EQ(0x00100800, l->ebx);		/* no host APIC ID */
	for (i = 0; i < ARRAY_SIZE(hidden_ecx1); i++)
		EXPECT_EQ(0, l->ecx & BIT32(hidden_ecx1[i]))
			TH_LOG("CPUID.1:ECX bit %u", hidden_ecx1[i]);
	EXPECT_TRUE(l->ecx & BIT32(31));	/* hypervisor */
	EXPECT_TRUE(l->ecx & BIT32(26));	/* XSAVE */
	EXPECT_TRUE(l->ecx & BIT32(28));	/* AVX */
	EXPECT_TRUE(l->ecx & BIT32(12));	/* FMA */
	EXPECT_TRUE(l->ecx & BIT32(29));	/* F16C */
	EXPECT_EQ(0xbfebfbff, l->edx);

	for (i = 0; i < ARRAY_SIZE(hidden_leaves); i++)
		EXPECT_EQ(NULL, find(&b, hidden_leaves[i], 0))
			TH_LOG("leaf %#x", hidden_leaves[i]);

	/* Leaf 4: the four caches, indexed; the fifth subleaf is the end */
	for (i = 0; i < 4; i++) {
		l = find(&b, 4, i);
		ASSERT_NE(NULL, l);
		EXPECT_EQ(XVCPU_CPUID_FLAG_INDEXED, l->flags);
		EXPECT_EQ(i, l->index);
	}
	EXPECT_EQ(NULL, find(&b, 4, 4));

	/* Leaf 7: subleaf 0 only, AVX2 and AVX-512 kept, SGX, HLE, PT not */
	l = find(&b, 7, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(XVCPU_CPUID_FLAG_INDEXED, l->flags);
	EXPECT_EQ(0, l->eax);
	EXPECT_EQ(0xfcbb03a9, l->ebx);
	EXPECT_EQ(0x00005842, l->ecx);
	EXPECT_EQ(0x0080010c, l->edx);
	EXPECT_EQ(NULL, find(&b, 7, 1));

	/* Leaf 0xb: two levels, x2APIC ID left for CPUID time */
	for (i = 0; i < 2; i++) {
		l = find(&b, 0xb, i);
		ASSERT_NE(NULL, l);
		EXPECT_EQ(0, l->edx);
	}
	EXPECT_EQ(NULL, find(&b, 0xb, 2));

	l = find(&b, 0x40000000, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x40000000, l->eax);
	EXPECT_EQ(0, memcmp(&l->ebx, "xvcpuxvcpu\0\0", 12));

	l = find(&b, 0x80000000, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x80000008, l->eax);
	l = find(&b, 0x80000001, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x24100800, l->edx);		/* no RDTSCP */
	EXPECT_EQ(0x121, l->ecx);
	/* Extended leaves the host answers with zeros are still there */
	EXPECT_NE(NULL, find(&b, 0x80000005, 0));
	EXPECT_NE(NULL, find(&b, 0x80000008, 0));
	EXPECT_EQ(NULL, find(&b, 0x80000009, 0));
}

TEST(leaf_0xd_lists_the_guest_components)
{
	const struct xvcpu_cpuid_entry *l;
	struct built b;
	u32 i;

	build(&b, XCR0_ALL);
	l = find(&b, 0xd, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(XVCPU_CPUID_FLAG_INDEXED, l->flags);
	EXPECT_EQ(0xe7, l->eax);
	EXPECT_EQ(0, l->edx);
	EXPECT_EQ(1664 + 1024, l->ecx);		/* Hi16_ZMM ends last */
	EXPECT_EQ(576, l->ebx);			/* XCR0 = 1 */

	l = find(&b, 0xd, 1);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x7, l->eax);			/* no XSAVES */
	EXPECT_EQ(0, l->ecx);			/* no IA32_XSS bits */
	EXPECT_EQ(0, l->edx);

	for (i = 2; i < 64; i++) {
		l = find(&b, 0xd, i);
		if (!(XCR0_ALL & (1ULL << i))) {
			EXPECT_EQ(NULL, l) TH_LOG("subleaf %u", i);
			continue;
		}
		ASSERT_NE(NULL, l) TH_LOG("subleaf %u", i);
		EXPECT_EQ(skx[17 + i - 2].r[0], l->eax);
		EXPECT_EQ(skx[17 + i - 2].r[1], l->ebx);
		EXPECT_EQ(0, l->ecx);
	}
}

TEST(avx512_needs_its_xcr0_components)
{
	const struct xvcpu_cpuid_entry *l;
	struct built b;

	build(&b, 0x7);
	l = find(&b, 1, 0);
	ASSERT_NE(NULL, l);
	EXPECT_TRUE(l->ecx & BIT32(28));
	l = find(&b, 7, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x209803a9, l->ebx);		/* AVX2, no AVX-512 */
	EXPECT_EQ(0, l->ecx);
	EXPECT_EQ(0, l->edx);
	l = find(&b, 0xd, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x7, l->eax);
	EXPECT_EQ(576 + 256, l->ecx);
	EXPECT_EQ(NULL, find(&b, 0xd, 5));
}

TEST(no_guest_xsave_hides_xsave_and_avx)
{
	const struct xvcpu_cpuid_entry *l;
	struct built b;
	u32 i;

	/* The host kernel runs without XSAVE: nothing to give guests */
	build(&b, 0);
	l = find(&b, 1, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0, l->ecx & (BIT32(12) | BIT32(26) | BIT32(27) |
			       BIT32(28) | BIT32(29)));
	l = find(&b, 7, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0x00080389 | BIT32(19) | BIT32(20) | BIT32(23) |
		  BIT32(29), l->ebx);
	EXPECT_EQ(0, l->ecx);
	for (i = 0; i < 64; i++)
		EXPECT_EQ(NULL, find(&b, 0xd, i));

	/* XCR0 without SSE is no XSAVE either */
	build(&b, 0x1);
	l = find(&b, 1, 0);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(0, l->ecx & BIT32(26));
}

TEST(a_table_too_small_is_reported)
{
	struct xvcpu_cpuid_entry e[12];
	struct built b;
	u32 n;

	build(&b, XCR0_ALL);
	memset(e, GUARD, sizeof(e));
	n = cpuid_build_supported(skx_cpuid, &b.xs, e, 10);
	EXPECT_EQ(b.n, n);
	EXPECT_EQ(0, memcmp(e, b.e, 10 * sizeof(e[0])));
	EXPECT_EQ(0x5a5a5a5a, e[10].function);
	EXPECT_EQ(0x5a5a5a5a, e[11].eax);
}

/* ---- what CPUID returns from a table ---- */

#define IDX	XVCPU_CPUID_FLAG_INDEXED

/*
 * Highest basic leaf 0x14 (indexed), extended leaves up to 0x80000008,
 * hypervisor leaves up to 0x40000001.  Leaf 2, 0x80000005 and subleaves
 * beyond those listed are in range but absent.
 */
static const struct xvcpu_cpuid_entry table[] = {
	{ 0x0, 0, 0, 0x14, 0x756e6547, 0x6c65746e, 0x49656e69 },
	{ 0x1, 0, 0, 0x50654, 0xff100800, 0xfffffffe, 0x178bfbff },
	{ 0x4, 0, IDX, 0x121, 0x1c0003f, 0x3f, 0 },
	{ 0x4, 1, IDX, 0x122, 0x1c0003f, 0x3f, 0 },
	{ 0x6, 0x77, 0, 0x6a, 0x6b, 0x6c, 0x6d },
	{ 0xb, 0, IDX, 1, 1, 0x100, 0xdead },
	{ 0xb, 1, IDX, 4, 4, 0x201, 0xbeef },
	{ 0xd, 0, IDX, 0x7, 0x1234, 0x340, 0 },
	{ 0xd, 1, IDX, 0x3, 0x5678, 0, 0 },
	{ 0xd, 2, IDX, 256, 576, 0, 0 },
	{ 0x14, 0, IDX, 0x140, 0x141, 0x142, 0x143 },
	{ 0x14, 1, IDX, 0x1410, 0x1411, 0x1412, 0x1413 },
	{ 0x40000000, 0, 0, 0x40000001, 0x54534554, 0x54534554, 0x54534554 },
	{ 0x40000001, 0, 0, 0x4001, 0, 0, 0 },
	{ 0x80000000, 0, 0, 0x80000008, 0, 0, 0 },
	{ 0x80000001, 0, 0, 0, 0, 0x121, 0x2c100800 },
	{ 0x80000008, 0, 0, 0x3027, 0, 0, 0 },
};

static const struct cpuid_dynamic vcpu3 = { .apic_id = 3, .xcr0 = 1 };

static void query(const struct xvcpu_cpuid_entry *e, u32 n, u32 fn, u32 idx,
		  const struct cpuid_dynamic *d, u32 *r)
{
	struct cpuid_xsave_layout xs;

	cpuid_xsave_layout_init(&xs, skx_cpuid, XCR0_ALL);
	memset(r, GUARD, 4 * sizeof(*r));
	cpuid_guest(e, n, fn, idx, d, &xs, r);
}

#define EXPECT_REGS(fn, idx, a, b, c, d_) do {				\
	u32 __r[4];							\
	query(table, ARRAY_SIZE(table), (fn), (idx), &vcpu3, __r);	\
	EXPECT_EQ((u32)(a), __r[0]) TH_LOG("%#x/%#x EAX", (fn), (idx)); \
	EXPECT_EQ((u32)(b), __r[1]) TH_LOG("%#x/%#x EBX", (fn), (idx)); \
	EXPECT_EQ((u32)(c), __r[2]) TH_LOG("%#x/%#x ECX", (fn), (idx)); \
	EXPECT_EQ((u32)(d_), __r[3]) TH_LOG("%#x/%#x EDX", (fn), (idx)); \
} while (0)

TEST(entries_answer_their_function_and_index)
{
	EXPECT_REGS(0, 0, 0x14, 0x756e6547, 0x6c65746e, 0x49656e69);
	/* Not indexed: every ECX reads the entry */
	EXPECT_REGS(0, 7, 0x14, 0x756e6547, 0x6c65746e, 0x49656e69);
	EXPECT_REGS(6, 0, 0x6a, 0x6b, 0x6c, 0x6d);
	EXPECT_REGS(6, 0xffffffff, 0x6a, 0x6b, 0x6c, 0x6d);
	EXPECT_REGS(4, 1, 0x122, 0x1c0003f, 0x3f, 0);
	EXPECT_REGS(0x14, 1, 0x1410, 0x1411, 0x1412, 0x1413);
	EXPECT_REGS(0x40000001, 0, 0x4001, 0, 0, 0);
	EXPECT_REGS(0x80000008, 0, 0x3027, 0, 0, 0);
}

TEST(absent_leaves_within_the_maximum_read_zeros)
{
	EXPECT_REGS(2, 0, 0, 0, 0, 0);
	EXPECT_REGS(0x13, 0, 0, 0, 0, 0);
	EXPECT_REGS(4, 2, 0, 0, 0, 0);		/* absent subleaf */
	EXPECT_REGS(0x14, 2, 0, 0, 0, 0);
	EXPECT_REGS(0xd, 3, 0, 0, 0, 0);
	EXPECT_REGS(0x80000005, 0, 0, 0, 0, 0);
}

TEST(beyond_every_maximum_reads_the_highest_basic_leaf)
{
	/* SDM Vol. 2A CPUID: the example is 8000000AH reading leaf 0BH */
	EXPECT_REGS(0x15, 0, 0x140, 0x141, 0x142, 0x143);
	EXPECT_REGS(0x15, 1, 0x1410, 0x1411, 0x1412, 0x1413);
	EXPECT_REGS(0x15, 2, 0, 0, 0, 0);	/* 0x14 has no subleaf 2 */
	EXPECT_REGS(0x3fffffff, 0, 0x140, 0x141, 0x142, 0x143);
	EXPECT_REGS(0x80000009, 1, 0x1410, 0x1411, 0x1412, 0x1413);
	EXPECT_REGS(0xffffffff, 0, 0x140, 0x141, 0x142, 0x143);
	EXPECT_REGS(0x40000002, 0, 0x140, 0x141, 0x142, 0x143);
	/* Another hypervisor block: no 0x40000100 entry, no range */
	EXPECT_REGS(0x40000100, 0, 0x140, 0x141, 0x142, 0x143);
	EXPECT_REGS(0x50000000, 0, 0x140, 0x141, 0x142, 0x143);
	EXPECT_REGS(0xc0000000, 0, 0x140, 0x141, 0x142, 0x143);
}

TEST(without_leaf_0_nothing_is_in_range)
{
	static const struct xvcpu_cpuid_entry t[] = {
		{ 0x2, 0, 0, 1, 2, 3, 4 },
	};
	u32 r[4];

	query(t, ARRAY_SIZE(t), 2, 0, &vcpu3, r);
	EXPECT_EQ(1, r[0]);
	query(t, ARRAY_SIZE(t), 3, 0, &vcpu3, r);
	EXPECT_EQ(0, r[0] | r[1] | r[2] | r[3]);
	query(t, ARRAY_SIZE(t), 0x80000000, 0, &vcpu3, r);
	EXPECT_EQ(0, r[0] | r[1] | r[2] | r[3]);
	/* An empty table reads zeros everywhere */
	query(t, 0, 1, 0, &vcpu3, r);
	EXPECT_EQ(0, r[0] | r[1] | r[2] | r[3]);
}

TEST(highest_basic_leaf_absent_reads_zeros)
{
	/* Leaf 0 says 5, but there is no leaf 5 */
	static const struct xvcpu_cpuid_entry t[] = {
		{ 0x0, 0, 0, 5, 0, 0, 0 },
		{ 0x1, 0, 0, 1, 0, 0, 0 },
	};
	u32 r[4];

	query(t, ARRAY_SIZE(t), 0x80000000, 0, &vcpu3, r);
	EXPECT_EQ(0, r[0] | r[1] | r[2] | r[3]);
}

TEST(leaf_1_has_the_apic_id_and_osxsave_of_the_vcpu)
{
	struct cpuid_dynamic d = { .apic_id = 0xab, .xcr0 = 1 };
	u32 r[4];

	/* The table sets OSXSAVE and an APIC ID: neither is used */
	EXPECT_REGS(1, 0, 0x50654, 0x03100800, 0xf7fffffe, 0x178bfbff);
	query(table, ARRAY_SIZE(table), 1, 0, &d, r);
	EXPECT_EQ(0xab100800, r[1]);
	EXPECT_EQ(0xf7fffffe, r[2]);
	d.osxsave = true;
	query(table, ARRAY_SIZE(table), 1, 0, &d, r);
	EXPECT_EQ(0xfffffffe, r[2]);
}

TEST(topology_leaf_has_the_x2apic_id_on_every_subleaf)
{
	EXPECT_REGS(0xb, 0, 1, 1, 0x100, 3);
	EXPECT_REGS(0xb, 1, 4, 4, 0x201, 3);
	/* Past the last level: invalid level, ECX[7:0] echoed */
	EXPECT_REGS(0xb, 2, 0, 0, 2, 3);
	EXPECT_REGS(0xb, 0x1ff, 0, 0, 0xff, 3);
	/* Leaf 0x1f is beyond the maximum: leaf 0x14, no x2APIC ID */
	EXPECT_REGS(0x1f, 0, 0x140, 0x141, 0x142, 0x143);
}

TEST(leaf_0xd_sizes_follow_the_guest_xcr0)
{
	struct cpuid_dynamic d = { .xcr0 = 1 };
	u32 r[4];

	EXPECT_REGS(0xd, 0, 0x7, 576, 0x340, 0);	/* EBX for XCR0 = 1 */
	d.xcr0 = 0x7;
	query(table, ARRAY_SIZE(table), 0xd, 0, &d, r);
	EXPECT_EQ(576 + 256, r[1]);
	EXPECT_EQ(0x340, r[2]);			/* the table's own ECX */
	d.xcr0 = 0xe7;
	query(table, ARRAY_SIZE(table), 0xd, 0, &d, r);
	EXPECT_EQ(1664 + 1024, r[1]);
	d.xcr0 = 0x27;				/* opmask only: not valid, sized */
	query(table, ARRAY_SIZE(table), 0xd, 0, &d, r);
	EXPECT_EQ(1088 + 64, r[1]);

	/* Subleaf 1 with XSAVEC: the compacted size */
	d.xcr0 = 0xe7;
	query(table, ARRAY_SIZE(table), 0xd, 1, &d, r);
	EXPECT_EQ(0x3, r[0]);
	EXPECT_EQ(576 + 256 + 64 + 512 + 1024, r[1]);
}

TEST(compacted_size_honours_alignment)
{
	struct cpuid_xsave_layout xs = { .xcr0 = 0xe7 };

	xs.size[2] = 256;
	xs.size[5] = 8;
	xs.size[6] = 512;
	xs.size[7] = 1024;
	xs.offset[7] = 4000;
	xs.align64 = 1ULL << 6;
	EXPECT_EQ(576, cpuid_xsave_size(&xs, 0x3, true));
	EXPECT_EQ(576 + 256 + 8, cpuid_xsave_size(&xs, 0x27, true));
	/* 840 rounds up to 896 for component 6 */
	EXPECT_EQ(896 + 512 + 1024, cpuid_xsave_size(&xs, 0xe7, true));
	EXPECT_EQ(5024, cpuid_xsave_size(&xs, 0xe7, false));
	/* Components the layout does not know count for nothing */
	EXPECT_EQ(576, cpuid_xsave_size(&xs, 1ULL << 9, false));
}

/* ---- checks on a table from userspace ---- */

TEST(check_refuses_bad_flags_pads_and_sizes)
{
	struct xvcpu_cpuid_entry e[3] = {
		{ .function = 0 }, { .function = 1 }, { .function = 2 },
	};
	u32 bad = 99, other = 99;

	EXPECT_EQ(CPUID_OK, cpuid_check(e, 3, &bad, &other));
	EXPECT_EQ(CPUID_OK, cpuid_check(e, 0, &bad, &other));
	EXPECT_EQ(CPUID_TOO_MANY, cpuid_check(e, XVCPU_CPUID_MAX_ENTRIES + 1,
					      &bad, &other));
	e[1].flags = 2;
	EXPECT_EQ(CPUID_BAD_FLAGS, cpuid_check(e, 3, &bad, &other));
	EXPECT_EQ(1, bad);
	e[1].flags = 0x80000000;
	EXPECT_EQ(CPUID_BAD_FLAGS, cpuid_check(e, 3, &bad, &other));
	e[1].flags = XVCPU_CPUID_FLAG_INDEXED;
	e[2].pad = 1;
	EXPECT_EQ(CPUID_BAD_PAD, cpuid_check(e, 3, &bad, &other));
	EXPECT_EQ(2, bad);
}

TEST(check_refuses_entries_answering_alike)
{
	struct xvcpu_cpuid_entry e[3] = {
		{ .function = 7, .index = 0, .flags = IDX },
		{ .function = 7, .index = 1, .flags = IDX },
		{ .function = 8 },
	};
	u32 bad = 99, other = 99;

	EXPECT_EQ(CPUID_OK, cpuid_check(e, 3, &bad, &other));
	e[1].index = 0;
	EXPECT_EQ(CPUID_DUPLICATE, cpuid_check(e, 3, &bad, &other));
	EXPECT_EQ(0, bad);
	EXPECT_EQ(1, other);
	/* A plain entry answers every index: any other entry clashes */
	e[1].index = 5;
	e[1].flags = 0;
	EXPECT_EQ(CPUID_DUPLICATE, cpuid_check(e, 3, &bad, &other));
	e[1].function = 8;
	EXPECT_EQ(CPUID_DUPLICATE, cpuid_check(e, 3, &bad, &other));
	EXPECT_EQ(1, bad);
	EXPECT_EQ(2, other);
	e[2].flags = IDX;
	e[2].index = 5;
	EXPECT_EQ(CPUID_DUPLICATE, cpuid_check(e, 3, &bad, &other));
	e[1].function = 9;
	EXPECT_EQ(CPUID_OK, cpuid_check(e, 3, &bad, &other));
}

TEST(xcr0_allowed_needs_xsave_and_host_support)
{
	struct xvcpu_cpuid_entry e[2] = {
		{ .function = 1, .ecx = BIT32(26) },
		{ .function = 0xd, .flags = IDX, .eax = 0xe7, .edx = 1 },
	};

	EXPECT_EQ(0xe7, cpuid_xcr0_allowed(e, 2, 0xe7));
	EXPECT_EQ(0x7, cpuid_xcr0_allowed(e, 2, 0x7));
	EXPECT_EQ(0, cpuid_xcr0_allowed(e, 2, 0));
	EXPECT_EQ(1, cpuid_xcr0_allowed(e, 1, 0xe7));	/* no leaf 0xd */
	e[1].eax = 0x4;					/* x87 always */
	EXPECT_EQ(0x5, cpuid_xcr0_allowed(e, 2, 0xe7));
	e[0].ecx = ~BIT32(26);
	EXPECT_EQ(0, cpuid_xcr0_allowed(e, 2, 0xe7));
	EXPECT_EQ(0, cpuid_xcr0_allowed(e, 0, 0xe7));
}

/* CR4 bits follow the table; PKE, CET and the like never (xvcpu.h) */
TEST(cr4_allowed_follows_the_table)
{
	const u64 pke = BIT_ULL(22), cet = BIT_ULL(23), vmxe = BIT_ULL(13);
	struct xvcpu_cpuid_entry e[3] = {
		{ .function = 1, .ecx = BIT32(17) | BIT32(26) },
		{ .function = 7, .flags = IDX,
		  .ebx = BIT32(0) | BIT32(7) | BIT32(20),
		  .ecx = BIT32(2) | BIT32(3) | BIT32(7) | BIT32(16),
		  .edx = BIT32(20) },
		{ .function = 0xd, .flags = IDX, .eax = 0x7 },
	};
	u64 all = CPUID_CR4_ALWAYS | CPUID_CR4_PCIDE | CPUID_CR4_OSXSAVE |
		  CPUID_CR4_FSGSBASE | CPUID_CR4_SMEP | CPUID_CR4_SMAP |
		  CPUID_CR4_UMIP | CPUID_CR4_LA57;
	u64 got = cpuid_cr4_allowed(e, 3, XCR0_ALL);

	EXPECT_EQ(all, got);
	/* PKU (7:ECX[3]), CET_SS (7:ECX[7]) and IBT (7:EDX[20]) give nothing */
	EXPECT_EQ(0, got & (pke | cet | vmxe));
	/* An empty table: the architectural bits only */
	EXPECT_EQ(CPUID_CR4_ALWAYS, cpuid_cr4_allowed(e, 0, XCR0_ALL));
	/* OSXSAVE needs guest XSAVE on the host too */
	EXPECT_EQ(all & ~CPUID_CR4_OSXSAVE, cpuid_cr4_allowed(e, 3, 0));
	/* Each feature bit taken away takes its CR4 bit */
	e[1].ebx &= ~BIT32(7);
	EXPECT_EQ(all & ~CPUID_CR4_SMEP, cpuid_cr4_allowed(e, 3, XCR0_ALL));
	e[1].ebx &= ~(BIT32(0) | BIT32(20));
	e[1].ecx = 0;
	EXPECT_EQ(all & ~(CPUID_CR4_SMEP | CPUID_CR4_FSGSBASE | CPUID_CR4_SMAP |
			  CPUID_CR4_UMIP | CPUID_CR4_LA57),
		  cpuid_cr4_allowed(e, 3, XCR0_ALL));
	e[0].ecx = BIT32(26);
	EXPECT_EQ(0, cpuid_cr4_allowed(e, 3, XCR0_ALL) & CPUID_CR4_PCIDE);
}

/*
 * PKU: given (with PKE in CR4) only where the host switches PKRU, which
 * it says by PKRU in the XCR0 guests may use; OSPKE follows the guest's
 * CR4.PKE at CPUID time, the table's bit never shows.
 */
TEST(pku_needs_pkru_switched_by_the_host)
{
	const u64 pkru = BIT_ULL(9);
	struct cpuid_dynamic d = { .xcr0 = 1 };
	const struct xvcpu_cpuid_entry *l7, *l9;
	struct built b;
	u32 r[4];

	build(&b, XCR0_ALL);
	l7 = find(&b, 7, 0);
	ASSERT_NE(NULL, l7);
	EXPECT_EQ(0, l7->ecx & (BIT32(3) | BIT32(4)));
	EXPECT_EQ(0, cpuid_cr4_allowed(b.e, b.n, XCR0_ALL) & CPUID_CR4_PKE);
	EXPECT_EQ(NULL, find(&b, 0xd, 9));

	build(&b, XCR0_ALL | pkru);
	l7 = find(&b, 7, 0);
	ASSERT_NE(NULL, l7);
	EXPECT_EQ(BIT32(3), l7->ecx & (BIT32(3) | BIT32(4)));
	EXPECT_EQ(CPUID_CR4_PKE,
		  cpuid_cr4_allowed(b.e, b.n, XCR0_ALL | pkru) & CPUID_CR4_PKE);
	/* a host that stopped switching PKRU takes it back */
	EXPECT_EQ(0, cpuid_cr4_allowed(b.e, b.n, XCR0_ALL) & CPUID_CR4_PKE);
	/* the component is listed: 8 bytes at 2688 */
	l9 = find(&b, 0xd, 9);
	ASSERT_NE(NULL, l9);
	EXPECT_EQ(8, l9->eax);
	EXPECT_EQ(2688, l9->ebx);
	EXPECT_EQ(pkru, find(&b, 0xd, 0)->eax & pkru);

	cpuid_guest(b.e, b.n, 7, 0, &d, &b.xs, r);
	EXPECT_EQ(BIT32(3), r[2] & (BIT32(3) | BIT32(4)));
	d.ospke = true;
	cpuid_guest(b.e, b.n, 7, 0, &d, &b.xs, r);
	EXPECT_EQ(BIT32(3) | BIT32(4), r[2] & (BIT32(3) | BIT32(4)));
	/* not on another subleaf */
	cpuid_guest(b.e, b.n, 7, 1, &d, &b.xs, r);
	EXPECT_EQ(0, r[2] & BIT32(4));
}

/* The supported table (a Skylake-SP host) gives SMEP, SMAP, FSGSBASE */
TEST(supported_table_allows_its_cr4_bits)
{
	struct built b;
	u64 got;

	build(&b, XCR0_ALL);
	got = cpuid_cr4_allowed(b.e, b.n, XCR0_ALL);
	EXPECT_TRUE(got & CPUID_CR4_SMEP);
	EXPECT_TRUE(got & CPUID_CR4_OSXSAVE);
	/* The supported table hides PCID, UMIP and LA57 */
	EXPECT_EQ(0, got & (CPUID_CR4_PCIDE | CPUID_CR4_UMIP | CPUID_CR4_LA57));
	EXPECT_EQ(0, got & BIT_ULL(22));
}

TEST_HARNESS_MAIN
