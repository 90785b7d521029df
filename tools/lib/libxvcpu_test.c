// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side unit tests of libxvcpu: everything that needs no kernel.
 *
 * The mode builder is run against a fake guest memory buffer; the tables
 * it writes are decoded independently (descriptors, a 4-level page walk)
 * and the register state is checked against a subset of the VM-entry
 * guest-state checks of the Intel SDM (Vol. 3C, 27.3.1), assuming
 * unrestricted guest for real mode.  Slot bookkeeping is tested on a
 * hand-made struct xvcpu_vm whose "mappings" are heap buffers.
 *
 * Prints one line per failed check and a final "N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libxvcpu.h"

static unsigned int passed, failed;

#define CHECK(cond, ...)						\
	do {								\
		if (cond) {						\
			passed++;					\
		} else {						\
			failed++;					\
			printf("FAIL %s:%d: %s: ", __func__, __LINE__,	\
			       #cond);					\
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
	} while (0)

#define CR0_PE		(1ULL << 0)
#define CR0_NE		(1ULL << 5)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define GUARD		0x1000		/* canary bytes around the tables */
#define CANARY		0xa5

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- an independent decoder of descriptors ---- */

static struct xvcpu_segment desc_to_seg(uint64_t d, uint16_t sel)
{
	struct xvcpu_segment s;

	memset(&s, 0, sizeof(s));
	s.selector = sel;
	s.limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	s.type = (d >> 40) & 0xf;
	s.s = (d >> 44) & 1;
	s.dpl = (d >> 45) & 3;
	s.present = (d >> 47) & 1;
	s.avl = (d >> 52) & 1;
	s.l = (d >> 53) & 1;
	s.db = (d >> 54) & 1;
	s.g = (d >> 55) & 1;
	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	return s;
}

static int seg_equal(const struct xvcpu_segment *a,
		     const struct xvcpu_segment *b)
{
	return a->base == b->base && a->limit == b->limit &&
	       a->selector == b->selector && a->type == b->type &&
	       a->present == b->present && a->dpl == b->dpl &&
	       a->db == b->db && a->s == b->s && a->l == b->l &&
	       a->g == b->g && a->avl == b->avl;
}

/* ---- a subset of the VM-entry guest-state checks ---- */

static int limit_g_ok(const struct xvcpu_segment *s)
{
	if ((s->limit & 0xfff) != 0xfff && s->g)
		return 0;
	if ((s->limit & 0xfff00000) && !s->g)
		return 0;
	return 1;
}

static void check_vmx_state(const char *what, const struct xvcpu_regs *r,
			    const struct xvcpu_sregs *sr)
{
	const struct xvcpu_segment *data[] = {
		&sr->ds, &sr->es, &sr->fs, &sr->gs,
	};
	int pe = !!(sr->cr0 & CR0_PE);
	int lma = !!(sr->efer & EFER_LMA);
	unsigned int i;

	CHECK(!(sr->cr0 & CR0_PG) || pe, "%s: PG without PE", what);
	CHECK(sr->cr0 & CR0_NE, "%s: CR0.NE is fixed to 1 under VMX", what);
	CHECK(!lma || ((sr->cr0 & CR0_PG) && (sr->cr4 & CR4_PAE)),
	      "%s: LMA needs PG and PAE", what);
	CHECK(!(sr->cr0 & CR0_PG) || lma == !!(sr->efer & EFER_LME),
	      "%s: with paging on, LMA == LME", what);
	CHECK((r->rflags & 0x2) && !(r->rflags & 0xffffffffffc08028ULL),
	      "%s: rflags 0x%" PRIx64, what, (uint64_t)r->rflags);

	/* CS */
	CHECK(sr->cs.type == 9 || sr->cs.type == 11 || sr->cs.type == 13 ||
	      sr->cs.type == 15 || (!pe && sr->cs.type == 3),
	      "%s: cs type %u", what, sr->cs.type);
	CHECK(sr->cs.s && sr->cs.present && !sr->cs.unusable,
	      "%s: cs must be a present code/data segment", what);
	CHECK(limit_g_ok(&sr->cs), "%s: cs limit/g", what);
	CHECK(!(lma && sr->cs.l && sr->cs.db), "%s: cs L and D both set",
	      what);
	CHECK(pe || sr->cs.dpl == 0, "%s: real mode cs dpl", what);

	/* SS */
	CHECK(sr->ss.type == 3 || sr->ss.type == 7, "%s: ss type %u", what,
	      sr->ss.type);
	CHECK(sr->ss.dpl == (pe ? sr->cs.dpl : 0), "%s: ss dpl", what);
	CHECK(sr->ss.s && sr->ss.present && limit_g_ok(&sr->ss),
	      "%s: ss", what);

	for (i = 0; i < 4; i++) {
		const struct xvcpu_segment *s = data[i];

		if (s->unusable)
			continue;
		CHECK((s->type & 1) && s->s && s->present && limit_g_ok(s),
		      "%s: data segment %u", what, i);
		CHECK(!(s->type & 8) || (s->type & 2),
		      "%s: data segment %u is unreadable code", what, i);
	}

	/* TR and LDTR */
	CHECK(sr->tr.type == 11 || (!lma && sr->tr.type == 3),
	      "%s: tr type %u", what, sr->tr.type);
	CHECK(!sr->tr.s && sr->tr.present && !sr->tr.unusable &&
	      !(sr->tr.selector & 4) && limit_g_ok(&sr->tr), "%s: tr", what);
	CHECK(sr->ldt.unusable || (sr->ldt.type == 2 && !sr->ldt.s &&
				   sr->ldt.present),
	      "%s: ldtr", what);

	/* Real mode as we set it up: base = selector << 4. */
	if (!pe) {
		const struct xvcpu_segment *all[] = {
			&sr->cs, &sr->ds, &sr->es, &sr->fs, &sr->gs, &sr->ss,
		};

		for (i = 0; i < 6; i++)
			CHECK(all[i]->base == (uint64_t)all[i]->selector << 4 &&
			      all[i]->limit == 0xffff,
			      "%s: real-mode segment %u", what, i);
	}

	/* Input fields the kernel requires to be zero. */
	for (i = 0; i < 4; i++)
		CHECK(sr->reserved[i] == 0, "%s: sregs reserved", what);
	CHECK(!sr->gdt.pad[0] && !sr->gdt.pad[1] && !sr->gdt.pad[2] &&
	      !sr->idt.pad[0] && !sr->idt.pad[1] && !sr->idt.pad[2],
	      "%s: dtable pad", what);
	CHECK(!sr->cs.pad && !sr->ds.pad && !sr->ss.pad && !sr->tr.pad &&
	      !sr->ldt.pad, "%s: segment pad", what);
}

/* ---- fake guest memory for the tables ---- */

struct area {
	uint8_t *buf;		/* GUARD + tables + GUARD */
	uint8_t *tables;
	uint64_t gpa;
};

static void area_init(struct area *a, uint64_t gpa)
{
	size_t n = XVCPU_SETUP_TABLES_SIZE + 2 * GUARD;

	a->buf = malloc(n);
	if (!a->buf) {
		perror("malloc");
		exit(2);
	}
	memset(a->buf, CANARY, n);
	a->tables = a->buf + GUARD;
	a->gpa = gpa;
}

static int guards_intact(const struct area *a)
{
	size_t i;

	for (i = 0; i < GUARD; i++)
		if (a->buf[i] != CANARY ||
		    a->tables[XVCPU_SETUP_TABLES_SIZE + i] != CANARY)
			return 0;
	return 1;
}

/* The 8 bytes at guest-physical @gpa, which must lie in the area. */
static int area_read(const struct area *a, uint64_t gpa, uint64_t *v)
{
	if (gpa < a->gpa || gpa + 8 > a->gpa + XVCPU_SETUP_TABLES_SIZE)
		return -1;
	*v = get_le64(a->tables + (gpa - a->gpa));
	return 0;
}

/*
 * Translate @va through the 4-level tables at @cr3 as the CPU would for
 * a supervisor write.  Returns 0 and the physical address, or -1 if not
 * mapped writable (or a table lies outside the area).
 */
static int walk(const struct area *a, uint64_t cr3, uint64_t va,
		uint64_t *pa)
{
	static const uint64_t addr_mask = 0x000ffffffffff000ULL;
	uint64_t table = cr3 & addr_mask, e;
	int level;

	for (level = 4; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		unsigned int idx = (va >> shift) & 0x1ff;

		if (area_read(a, table + 8 * idx, &e) < 0)
			return -1;
		if (!(e & 1) || !(e & 2))
			return -1;
		if (e & 0xfff0000000000000ULL)	/* NX and reserved: none */
			return -1;
		if (level == 2 && (e & 0x80)) {
			if (e & 0x1fe000)	/* 2 MiB page: reserved bits */
				return -1;
			*pa = (e & 0x000fffffffe00000ULL) | (va & 0x1fffff);
			return 0;
		}
		if (level == 4 && (e & 0x80))
			return -1;		/* PS is reserved in a PML4E */
		table = e & addr_mask;
	}
	*pa = table | (va & 0xfff);
	return 0;
}

/* ---- tests ---- */

static void test_real(void)
{
	static const uint64_t entries[] = {
		0x7c00, 0x10000, 0x12345, 0x9ffff, 0xffff0, 0,
	};
	static const uint64_t stacks[] = {
		0x10000, 0x9000, 0x100000, 0x7000, 0x20002, 0,
	};
	struct xvcpu_regs r;
	struct xvcpu_sregs sr;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(entries); i++) {
		uint64_t e = entries[i], s = stacks[i];
		uint64_t sp;

		ret = xvcpu_mode_build(XVCPU_MODE_REAL, e, s, 0, NULL, &r,
				       &sr);
		CHECK(ret == 0, "entry 0x%" PRIx64 ": ret %d", e, ret);
		CHECK(sr.cs.base + r.rip == e && r.rip < 0x10000,
		      "entry 0x%" PRIx64 ": cs base 0x%" PRIx64 " ip 0x%" PRIx64,
		      e, (uint64_t)sr.cs.base, (uint64_t)r.rip);
		CHECK(sr.ds.selector == sr.cs.selector &&
		      sr.es.selector == sr.cs.selector,
		      "entry 0x%" PRIx64 ": ds/es = cs", e);
		/* SP = 0 means 64 KiB: the first push lands just below. */
		sp = r.rsp ? r.rsp : 0x10000;
		CHECK(r.rsp < 0x10000 &&
		      (s ? sr.ss.base + sp == s : !sr.ss.base && !r.rsp),
		      "stack 0x%" PRIx64 ": ss base 0x%" PRIx64 " sp 0x%" PRIx64,
		      s, (uint64_t)sr.ss.base, (uint64_t)r.rsp);
		CHECK(!(sr.cr0 & (CR0_PE | CR0_PG)) && !sr.efer && !sr.cr4,
		      "real mode control registers");
		CHECK(sr.idt.base == 0 && sr.idt.limit == 0x3ff,
		      "real-mode IVT");
		CHECK(r.rflags == 0x2 && !r.rax && !r.r15, "gprs");
		check_vmx_state("real", &r, &sr);
	}

	ret = xvcpu_mode_build(XVCPU_MODE_REAL, 0x100000, 0x1000, 0, NULL,
			       &r, &sr);
	CHECK(ret == -EINVAL, "entry at 1 MiB: ret %d", ret);
	ret = xvcpu_mode_build(XVCPU_MODE_REAL, 0x1000, 0x100001, 0, NULL,
			       &r, &sr);
	CHECK(ret == -EINVAL, "stack above 1 MiB: ret %d", ret);
}

/* GDT entries in the buffer match the loaded segment registers. */
static void check_gdt(const char *what, const struct area *a,
		      const struct xvcpu_sregs *sr, int long_mode)
{
	const uint8_t *gdt = a->tables + XVCPU_SETUP_GDT_OFFSET;
	struct xvcpu_segment d;
	uint64_t tss_gpa = a->gpa + XVCPU_SETUP_TSS_OFFSET;
	uint64_t hi;

	CHECK(sr->gdt.base == a->gpa + XVCPU_SETUP_GDT_OFFSET,
	      "%s: gdt base 0x%" PRIx64, what, (uint64_t)sr->gdt.base);
	CHECK(sr->gdt.limit >= XVCPU_SETUP_SEL_TSS + (long_mode ? 15 : 7),
	      "%s: gdt limit 0x%x too small for the TSS", what,
	      sr->gdt.limit);
	CHECK(get_le64(gdt) == 0, "%s: null descriptor", what);

	d = desc_to_seg(get_le64(gdt + XVCPU_SETUP_SEL_CODE),
			XVCPU_SETUP_SEL_CODE);
	CHECK(seg_equal(&d, &sr->cs), "%s: cs and its descriptor differ",
	      what);
	CHECK(sr->cs.selector == XVCPU_SETUP_SEL_CODE, "%s: cs selector",
	      what);
	d = desc_to_seg(get_le64(gdt + XVCPU_SETUP_SEL_DATA),
			XVCPU_SETUP_SEL_DATA);
	CHECK(seg_equal(&d, &sr->ds) && seg_equal(&d, &sr->ss) &&
	      seg_equal(&d, &sr->es) && seg_equal(&d, &sr->fs) &&
	      seg_equal(&d, &sr->gs),
	      "%s: data segments and their descriptor differ", what);

	d = desc_to_seg(get_le64(gdt + XVCPU_SETUP_SEL_TSS),
			XVCPU_SETUP_SEL_TSS);
	hi = get_le64(gdt + XVCPU_SETUP_SEL_TSS + 8);
	if (long_mode)
		d.base |= hi << 32;
	else
		CHECK(hi == 0, "%s: slot after the 32-bit TSS", what);
	CHECK(seg_equal(&d, &sr->tr), "%s: tr and its descriptor differ",
	      what);
	CHECK(sr->tr.base == tss_gpa && sr->tr.limit == 103 &&
	      sr->tr.type == 11,
	      "%s: tr base 0x%" PRIx64 " limit %u type %u", what,
	      (uint64_t)sr->tr.base, sr->tr.limit, sr->tr.type);
	CHECK(a->tables[XVCPU_SETUP_TSS_OFFSET + 102] == 104 &&
	      a->tables[XVCPU_SETUP_TSS_OFFSET + 103] == 0,
	      "%s: TSS I/O map base", what);
	CHECK(sr->tr.base + sr->tr.limit <
	      a->gpa + XVCPU_SETUP_PML4_OFFSET,
	      "%s: TSS overlaps the page tables", what);
}

static void test_protected(uint64_t tables_gpa)
{
	struct xvcpu_regs r;
	struct xvcpu_sregs sr;
	struct area a;
	int ret;

	area_init(&a, tables_gpa);
	ret = xvcpu_mode_build(XVCPU_MODE_PROTECTED, 0x10000, 0xff00,
			       tables_gpa, a.tables, &r, &sr);
	CHECK(ret == 0, "ret %d", ret);
	CHECK(guards_intact(&a), "wrote outside the tables area");
	CHECK(r.rip == 0x10000 && r.rsp == 0xff00 && r.rflags == 0x2,
	      "rip/rsp/rflags");
	CHECK(sr.cr0 == (CR0_PE | CR0_NE | (1ULL << 4)),
	      "cr0 0x%" PRIx64, (uint64_t)sr.cr0);
	CHECK(!sr.cr3 && !sr.cr4 && !sr.efer, "cr3/cr4/efer");
	CHECK(sr.cs.db && !sr.cs.l && sr.cs.g && sr.cs.limit == 0xffffffff &&
	      !sr.cs.base, "flat 32-bit cs");
	check_gdt("protected", &a, &sr, 0);
	check_vmx_state("protected", &r, &sr);
	free(a.buf);
}

static void test_long(uint64_t tables_gpa)
{
	static const uint64_t vas[] = {
		0, 0x1000, 0x10000, 0x1fffff, 0x200000, 0x3fffffff,
		0x40000000, 0x7fffffff, 0x80001234, 0xc0000000,
		0xfee00000, 0xfffff000, 0xffffffff,
	};
	struct xvcpu_regs r;
	struct xvcpu_sregs sr;
	struct area a;
	uint64_t pa, va;
	unsigned int i;
	int ret, all_ok;

	area_init(&a, tables_gpa);
	ret = xvcpu_mode_build(XVCPU_MODE_LONG, 0x12345678, 0x80000,
			       tables_gpa, a.tables, &r, &sr);
	CHECK(ret == 0, "tables at 0x%" PRIx64 ": ret %d", tables_gpa, ret);
	CHECK(guards_intact(&a), "wrote outside the tables area");
	CHECK(r.rip == 0x12345678 && r.rsp == 0x80000 && r.rflags == 0x2,
	      "rip/rsp/rflags");
	CHECK(sr.cr0 == 0x80010033, "cr0 0x%" PRIx64, (uint64_t)sr.cr0);
	CHECK(sr.cr4 == 0x620, "cr4 0x%" PRIx64, (uint64_t)sr.cr4);
	CHECK(sr.efer == (EFER_LME | EFER_LMA), "efer 0x%" PRIx64,
	      (uint64_t)sr.efer);
	CHECK(sr.cr3 == tables_gpa + XVCPU_SETUP_PML4_OFFSET,
	      "cr3 0x%" PRIx64, (uint64_t)sr.cr3);
	CHECK(sr.cs.l && !sr.cs.db, "64-bit cs");
	check_gdt("long", &a, &sr, 1);
	check_vmx_state("long", &r, &sr);

	for (i = 0; i < ARRAY_SIZE(vas); i++) {
		ret = walk(&a, sr.cr3, vas[i], &pa);
		CHECK(ret == 0 && pa == vas[i],
		      "va 0x%" PRIx64 " -> ret %d pa 0x%" PRIx64, vas[i], ret,
		      pa);
	}
	/* Every 2 MiB page of the first 4 GiB, identity. */
	all_ok = 1;
	for (va = 0; va < 0x100000000ULL; va += 0x200000)
		if (walk(&a, sr.cr3, va + 0x1ff000, &pa) < 0 ||
		    pa != va + 0x1ff000)
			all_ok = 0;
	CHECK(all_ok, "identity map of the first 4 GiB");
	CHECK(walk(&a, sr.cr3, 0x100000000ULL, &pa) < 0,
	      "4 GiB must not be mapped");
	CHECK(walk(&a, sr.cr3, 0xffffffff80000000ULL, &pa) < 0,
	      "the upper half must not be mapped");
	free(a.buf);
}

static void test_build_errors(void)
{
	struct xvcpu_regs r;
	struct xvcpu_sregs sr;
	struct area a;
	int ret;

	area_init(&a, 0x1000);
	ret = xvcpu_mode_build(XVCPU_MODE_LONG, 0x10000, 0x10000, 0x1800,
			       a.tables, &r, &sr);
	CHECK(ret == -EINVAL, "unaligned tables: ret %d", ret);
	ret = xvcpu_mode_build(XVCPU_MODE_PROTECTED, 0x10000, 0x10000,
			       0x1000, NULL, &r, &sr);
	CHECK(ret == -EINVAL, "no tables buffer: ret %d", ret);
	ret = xvcpu_mode_build(XVCPU_MODE_PROTECTED, 0x10000, 0x10000,
			       0xffffc000, a.tables, &r, &sr);
	CHECK(ret == -EINVAL, "protected tables above 4 GiB: ret %d", ret);
	ret = xvcpu_mode_build(XVCPU_MODE_PROTECTED, 0x100000000ULL,
			       0x10000, 0x1000, a.tables, &r, &sr);
	CHECK(ret == -EINVAL, "protected entry above 4 GiB: ret %d", ret);
	ret = xvcpu_mode_build((enum xvcpu_mode)42, 0x10000, 0x10000,
			       0x1000, a.tables, &r, &sr);
	CHECK(ret == -EINVAL, "unknown mode: ret %d", ret);
	CHECK(guards_intact(&a), "wrote outside the tables area");
	free(a.buf);
}

/* A VM with no kernel behind it: fd -1, slots backed by heap memory. */
static struct xvcpu_vm *fake_vm(void)
{
	struct xvcpu_vm *vm = calloc(1, sizeof(*vm));

	if (!vm) {
		perror("calloc");
		exit(2);
	}
	vm->sys_fd = -1;
	vm->fd = -1;
	return vm;
}

static void fake_slot(struct xvcpu_vm *vm, unsigned int slot, uint64_t gpa,
		      uint64_t size)
{
	struct xvcpu_lib_slot *s = &vm->slots[slot];

	s->used = 1;
	s->gpa = gpa;
	s->size = size;
	s->hva = calloc(1, size);
	if (!s->hva) {
		perror("calloc");
		exit(2);
	}
}

static void fake_vm_free(struct xvcpu_vm *vm)
{
	unsigned int i;

	for (i = 0; i < XVCPU_LIB_MAX_SLOTS; i++)
		free(vm->slots[i].hva);
	free(vm);
}

static void test_slots(void)
{
	struct xvcpu_vm *vm = fake_vm();
	uint8_t *s0, *s1, buf[0x20];
	unsigned int i;
	int ret, ok;

	fake_slot(vm, 0, 0, 0x10000);
	fake_slot(vm, 3, 0x10000, 0x2000);	/* adjacent to slot 0 */
	fake_slot(vm, 7, 0x100000, 0x1000);	/* after a hole */
	s0 = vm->slots[0].hva;
	s1 = vm->slots[3].hva;

	CHECK(xvcpu_gpa_to_hva(vm, 0) == s0, "gpa 0");
	CHECK(xvcpu_gpa_to_hva(vm, 0xffff) == s0 + 0xffff, "last of slot 0");
	CHECK(xvcpu_gpa_to_hva(vm, 0x10000) == s1, "first of slot 3");
	CHECK(xvcpu_gpa_to_hva(vm, 0x11fff) == s1 + 0x1fff,
	      "last of slot 3");
	CHECK(xvcpu_gpa_to_hva(vm, 0x12000) == NULL && errno == EFAULT,
	      "hole after slot 3");
	CHECK(xvcpu_gpa_to_hva(vm, 0x100800) ==
	      (uint8_t *)vm->slots[7].hva + 0x800, "slot 7");
	CHECK(xvcpu_gpa_to_hva(vm, ~0ULL) == NULL, "top of the address space");

	/* Copies across the slot 0 / slot 3 boundary. */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i + 1);
	ret = xvcpu_vm_write(vm, 0x10000 - 0x10, buf, sizeof(buf));
	CHECK(ret == 0, "write across slots: %d", ret);
	CHECK(s0[0xfff0] == 1 && s0[0xffff] == 0x10 && s1[0] == 0x11 &&
	      s1[0xf] == 0x20, "bytes landed in both slots");
	memset(buf, 0, sizeof(buf));
	ret = xvcpu_vm_read(vm, 0x10000 - 0x10, buf, sizeof(buf));
	ok = ret == 0;
	for (i = 0; i < sizeof(buf); i++)
		ok &= buf[i] == (uint8_t)(i + 1);
	CHECK(ok, "read back across slots: %d", ret);
	ret = xvcpu_vm_write(vm, 0x12000 - 0x10, buf, sizeof(buf));
	CHECK(ret == -EFAULT, "write into the hole: %d", ret);
	ret = xvcpu_vm_read(vm, ~0ULL - 4, buf, sizeof(buf));
	CHECK(ret == -EFAULT, "read wrapping around: %d", ret);
	ret = xvcpu_vm_write(vm, 0x200000, buf, 0);
	CHECK(ret == 0, "empty write: %d", ret);

	/* Argument checks that come before any syscall. */
	errno = 0;
	CHECK(xvcpu_vm_add_memory(vm, XVCPU_LIB_MAX_SLOTS, 0, 0x1000, 0) ==
	      NULL && errno == EINVAL, "slot out of range");
	errno = 0;
	CHECK(xvcpu_vm_add_memory(vm, 3, 0x200000, 0x1000, 0) == NULL &&
	      errno == EEXIST, "slot in use");
	errno = 0;
	CHECK(xvcpu_vm_add_memory(vm, 4, 0x200000, 0, 0) == NULL &&
	      errno == EINVAL, "zero size");
	CHECK(xvcpu_vm_remove_memory(vm, 5) == -ENOENT, "remove unused slot");
	CHECK(xvcpu_vm_remove_memory(vm, 99) == -EINVAL,
	      "remove slot out of range");

	fake_vm_free(vm);
}

/*
 * setup_mode on a fake vCPU: the tables land in slot memory, then
 * SET_SREGS fails on fd -1 with -EBADF.
 */
static void test_setup_mode(void)
{
	struct xvcpu_vm *vm = fake_vm();
	struct xvcpu_vcpu vcpu;
	struct area a;
	struct xvcpu_regs r;
	struct xvcpu_sregs sr;
	int ret;

	memset(&vcpu, 0, sizeof(vcpu));
	vcpu.vm = vm;
	vcpu.fd = -1;
	fake_slot(vm, 0, 0, 0x20000);

	ret = xvcpu_vcpu_setup_mode(&vcpu, XVCPU_MODE_LONG, 0x10000, 0x10000,
				    0x1000);
	CHECK(ret == -EBADF, "fake vCPU: ret %d", ret);

	/* The same tables as the pure builder writes. */
	area_init(&a, 0x1000);
	xvcpu_mode_build(XVCPU_MODE_LONG, 0x10000, 0x10000, 0x1000, a.tables,
			 &r, &sr);
	CHECK(!memcmp((uint8_t *)vm->slots[0].hva + 0x1000, a.tables,
		      XVCPU_SETUP_TABLES_SIZE), "tables in guest memory");
	free(a.buf);

	ret = xvcpu_vcpu_setup_mode(&vcpu, XVCPU_MODE_LONG, 0x10000, 0x10000,
				    0x20000 - XVCPU_SETUP_TABLES_SIZE + 0x1000);
	CHECK(ret == -EFAULT, "tables past the slot end: ret %d", ret);
	ret = xvcpu_vcpu_setup_mode(&vcpu, XVCPU_MODE_PROTECTED, 0x10000,
				    0x10000, 0x40000);
	CHECK(ret == -EFAULT, "tables outside memory: ret %d", ret);
	ret = xvcpu_vcpu_setup_mode(&vcpu, XVCPU_MODE_REAL, 0x10000,
				    0x10000, 0x40000);
	CHECK(ret == -EBADF, "real mode needs no tables: ret %d", ret);
	ret = xvcpu_vcpu_setup_mode(&vcpu, XVCPU_MODE_REAL, 0x200000,
				    0x10000, 0);
	CHECK(ret == -EINVAL && errno == EINVAL, "real mode entry: ret %d",
	      ret);

	fake_vm_free(vm);
}

static void test_names(void)
{
	CHECK(!strcmp(xvcpu_exit_name(XVCPU_EXIT_IO), "IO"), "IO");
	CHECK(!strcmp(xvcpu_exit_name(XVCPU_EXIT_HLT), "HLT"), "HLT");
	CHECK(!strcmp(xvcpu_exit_name(XVCPU_EXIT_FAIL_ENTRY), "FAIL_ENTRY"),
	      "FAIL_ENTRY");
	CHECK(!strcmp(xvcpu_exit_name(XVCPU_EXIT_INTR), "INTR"), "INTR");
	CHECK(!strcmp(xvcpu_exit_name(1000), "?"), "out of range");
}

int main(void)
{
	test_real();
	test_protected(0x1000);
	test_protected(0x7ff000);
	test_long(0x1000);
	test_long(0x5000);
	test_long(0x3ff000);
	test_long(0x123456000ULL);	/* above 4 GiB: 64-bit TSS base */
	test_build_errors();
	test_slots();
	test_setup_mode();
	test_names();

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
