// SPDX-License-Identifier: GPL-2.0
/*
 * Memory regions: XVCPU_SET_MEMORY_REGION argument checks, the mmap of
 * slots, and guest memory as the guest and the host see it.
 */
#include <cpuid.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define KiB		1024ULL
#define MiB		(1024 * KiB)
#define GPA		0x100000ULL	/* where the plain region tests work */

/* A VM fd without vCPUs or memory, and the limits that apply to it. */
FIXTURE(region) {
	int sys;
	int vm;
	int nr_slots;
	int max_mb;
};

FIXTURE_SETUP(region)
{
	XVT_REQUIRE_DEV();
	self->sys = xvcpu_open();
	ASSERT_LE(0, self->sys) TH_LOG("open: %s", strerror(-self->sys));
	self->vm = ioctl(self->sys, XVCPU_CREATE_VM, 0);
	ASSERT_LE(0, self->vm) TH_LOG("CREATE_VM: %s", strerror(errno));
	self->nr_slots = xvcpu_check_cap(self->sys, XVCPU_CAP_NR_MEMSLOTS);
	/* The tests use slots 0 to 3. */
	ASSERT_LE(4, self->nr_slots);
	self->max_mb = xvcpu_check_cap(self->sys, XVCPU_CAP_MAX_MEMORY_MB);
	ASSERT_LE(1, self->max_mb);
}

FIXTURE_TEARDOWN(region)
{
	close(self->vm);
	close(self->sys);
}

static void *map_slot(int vm, uint32_t slot, uint64_t size)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vm,
		    (off_t)XVCPU_MMAP_SLOT_OFFSET(slot));
}

TEST_F(region, slot_out_of_range)
{
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, self->nr_slots, 0, GPA,
					  0x1000));
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, ~0U, 0, GPA, 0x1000));
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, self->nr_slots, 0, GPA,
					  0));
	/* The last valid slot works. */
	ASSERT_EQ(0, xvt_set_region(self->vm, self->nr_slots - 1, 0, GPA,
				    0x1000));
	ASSERT_EQ(0, xvt_set_region(self->vm, self->nr_slots - 1, 0, GPA, 0));
}

TEST_F(region, unknown_flags)
{
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 1U << 1, GPA, 0x1000));
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 1U << 31, GPA,
					  0x1000));
	/* Nothing was created by the refused calls. */
	ASSERT_EQ(-ENOENT, xvt_set_region(self->vm, 1, 0, GPA, 0));
}

TEST_F(region, reserved_nonzero)
{
	struct xvcpu_memory_region r;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		r.slot = 1;
		r.guest_phys_addr = GPA;
		r.memory_size = 0x1000;
		r.reserved[i] = 1ULL << (i * 63);
		ASSERT_ERRNO(EINVAL, ioctl(self->vm, XVCPU_SET_MEMORY_REGION,
					   &r));
	}
	ASSERT_EQ(-ENOENT, xvt_set_region(self->vm, 1, 0, GPA, 0));
}

TEST_F(region, unaligned)
{
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 0, GPA + 0x800,
					  0x1000));
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 0, GPA + 1, 0x1000));
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 0, GPA, 0x800));
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 0, GPA, 0x1001));
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 0, GPA, 0x1800));
	ASSERT_EQ(-ENOENT, xvt_set_region(self->vm, 1, 0, GPA, 0));
}

TEST_F(region, overlap_eexist)
{
	const uint64_t size = 0x10000;
	const struct {
		uint64_t gpa, size;
	} bad[] = {
		{ GPA, size },			/* the same range */
		{ GPA + 0x8000, size },		/* overlaps the end */
		{ GPA - 0x8000, size },		/* overlaps the start */
		{ GPA + 0x4000, 0x1000 },	/* inside */
		{ GPA - 0x10000, 0x30000 },	/* around */
		{ GPA + size - 0x1000, 0x1000 },	/* the last page */
		{ GPA, 0x1000 },		/* the first page */
	};
	unsigned int i;

	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, size));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EEXIST, xvt_set_region(self->vm, 2, 0, bad[i].gpa,
						  bad[i].size))
			TH_LOG("[%#llx, +%#llx)",
			       (unsigned long long)bad[i].gpa,
			       (unsigned long long)bad[i].size);
	}
	/* Adjacent on both sides is fine. */
	ASSERT_EQ(0, xvt_set_region(self->vm, 2, 0, GPA + size, 0x1000));
	ASSERT_EQ(0, xvt_set_region(self->vm, 3, 0, GPA - 0x1000, 0x1000));
}

TEST_F(region, recreate_used_slot)
{
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, 0x1000));
	/* Not a move or resize: the slot must be deleted first. */
	ASSERT_EQ(-EEXIST, xvt_set_region(self->vm, 1, 0, GPA + 0x100000,
					  0x1000));
	ASSERT_EQ(-EEXIST, xvt_set_region(self->vm, 1, 0, GPA, 0x2000));
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, 0));
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA + 0x100000, 0x1000));
}

TEST_F(region, delete_absent_enoent)
{
	ASSERT_EQ(-ENOENT, xvt_set_region(self->vm, 1, 0, GPA, 0));
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, 0x1000));
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, 0));
	ASSERT_EQ(-ENOENT, xvt_set_region(self->vm, 1, 0, GPA, 0));
}

TEST_F(region, too_much_memory_e2big)
{
	const uint64_t max = (uint64_t)self->max_mb * MiB;
	const uint64_t far = 1ULL << 32;

	/* One region over the limit; then a sum over the limit. */
	ASSERT_EQ(-E2BIG, xvt_set_region(self->vm, 1, 0, far, max + 0x1000));
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, 0x1000));
	ASSERT_EQ(-E2BIG, xvt_set_region(self->vm, 2, 0, far, max));

	/* Exactly at the limit is allowed, if small enough to allocate. */
	if (self->max_mb <= 64) {
		ASSERT_EQ(0, xvt_set_region(self->vm, 2, 0, far,
					    max - 0x1000));
		ASSERT_EQ(-E2BIG, xvt_set_region(self->vm, 3, 0, 2 * far,
						 0x1000));
		/* Freed memory counts no more. */
		ASSERT_EQ(0, xvt_set_region(self->vm, 2, 0, far, 0));
		ASSERT_EQ(0, xvt_set_region(self->vm, 3, 0, 2 * far,
					    0x1000));
	} else {
		TH_LOG("MAX_MEMORY_MB %d: not filling it", self->max_mb);
	}
}

TEST_F(region, beyond_48_bits_einval)
{
	const uint64_t top = 1ULL << 48;

	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 0, top - 0x1000,
					  0x2000));
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 0, top, 0x1000));
	/* gpa + size wraps around 2^64. */
	ASSERT_EQ(-EINVAL, xvt_set_region(self->vm, 1, 0,
					  0xfffffffffffff000ULL, 0x2000));
	ASSERT_EQ(-ENOENT, xvt_set_region(self->vm, 1, 0, GPA, 0));
}

TEST_F(region, delete_while_mapped_ebusy)
{
	const uint64_t size = 0x10000;
	char *a, *b;

	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, size));
	a = map_slot(self->vm, 1, size);
	ASSERT_NE(MAP_FAILED, a);
	b = map_slot(self->vm, 1, size);
	ASSERT_NE(MAP_FAILED, b);

	ASSERT_EQ(-EBUSY, xvt_set_region(self->vm, 1, 0, GPA, 0));
	ASSERT_EQ(0, munmap(a, size));
	ASSERT_EQ(-EBUSY, xvt_set_region(self->vm, 1, 0, GPA, 0));

	/* Splitting a mapping in two still leaves the memory mapped. */
	ASSERT_EQ(0, munmap(b, size / 2));
	ASSERT_EQ(-EBUSY, xvt_set_region(self->vm, 1, 0, GPA, 0));
	b[size / 2] = 1;	/* the rest is still usable */
	ASSERT_EQ(0, munmap(b + size / 2, size / 2));

	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, 0));
}

TEST_F(region, mmap_checks)
{
	const uint64_t size = 0x10000;
	void *p;

	/* No slot there yet. */
	ASSERT_EQ(MAP_FAILED, map_slot(self->vm, 1, size));
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, size));
	/* Longer than the slot. */
	ASSERT_EQ(MAP_FAILED, map_slot(self->vm, 1, size + 0x1000));
	p = map_slot(self->vm, 1, size);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p, size));
}

static bool all_zero(const void *p, size_t len)
{
	const uint64_t *q = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (q[i])
			return false;
	return true;
}

TEST_F(region, zero_on_creation)
{
	const uint64_t size = MiB;
	void *p;

	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, size));
	p = map_slot(self->vm, 1, size);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(all_zero(p, size));
	memset(p, 0xa5, size);
	ASSERT_EQ(0, munmap(p, size));

	/* New memory after a delete, not the old pages. */
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, 0));
	ASSERT_EQ(0, xvt_set_region(self->vm, 1, 0, GPA, size));
	p = map_slot(self->vm, 1, size);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(all_zero(p, size));
	ASSERT_EQ(0, munmap(p, size));
}

/* ---- guest memory as the guest sees it ---- */

static uint64_t pattern_stride = 8;

static inline __guest uint64_t pattern(uint64_t gpa)
{
	return gpa * 0x9e3779b97f4a7c15ULL + 1;
}

/*
 * Check that [base, base + size) reads as zero, write a pattern every
 * pattern_stride bytes, let the host check and invert it, then check the
 * host's values.
 */
static void __guest guest_pattern(uint64_t base, uint64_t size)
{
	uint64_t stride = READ_ONCE(pattern_stride);
	uint64_t a;

	for (a = base; a < base + size; a += stride)
		GUEST_ASSERT_EQ(0, READ_ONCE(*(uint64_t *)a));
	for (a = base; a < base + size; a += stride)
		WRITE_ONCE(*(uint64_t *)a, pattern(a));
	GUEST_SYNC(0);
	for (a = base; a < base + size; a += stride)
		GUEST_ASSERT_EQ(~pattern(a), READ_ONCE(*(uint64_t *)a));
}

static void run_pattern(struct __test_metadata *_metadata, struct xvt_vm *t,
			uint64_t gpa, uint64_t size, uint64_t stride)
{
	struct xvcpu_vcpu *vcpu = t->vcpus[0];
	struct ucall uc;
	uint64_t a;
	char *hva;

	hva = xvcpu_vm_add_memory(t->vm, 1, gpa, size, 0);
	ASSERT_NE(NULL, hva) TH_LOG("add memory: %s", strerror(errno));
	GUEST_VAR(t, pattern_stride) = stride;

	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, guest_pattern, gpa, size));
	ASSERT_RUN_UCALL(vcpu, &uc, UCALL_SYNC);
	for (a = 0; a < size; a += stride) {
		uint64_t *p = (uint64_t *)(hva + a);

		ASSERT_EQ(pattern(gpa + a), *p) TH_LOG("gpa %#llx",
			(unsigned long long)(gpa + a));
		*p = ~*p;
	}
	ASSERT_RUN_UCALL(vcpu, &uc, UCALL_DONE);
}

TEST_F(vm, guest_and_host_share_memory)
{
	run_pattern(_metadata, self->t, XVT_FREE_GPA, 64 * KiB, 8);
}

TEST_F(vm, two_mib_aligned_region)
{
	run_pattern(_metadata, self->t, XVT_FREE_GPA + 2 * MiB, 4 * MiB,
		    4 * KiB);
}

static void __guest guest_read_then_write(uint64_t *p)
{
	GUEST_SYNC(READ_ONCE(p[0x100 / 8]));
	WRITE_ONCE(p[0x200 / 8], 0xdeadbeefULL);
	GUEST_FAIL("the write to read-only memory went through");
}

TEST_F(vm, readonly_region)
{
	const uint64_t gpa = XVT_FREE_GPA, size = 64 * KiB;
	const uint64_t value = 0x0123456789abcdefULL;
	struct ucall uc;
	bool host_wrote;
	uint64_t *p;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_READONLY_MEM));
	ASSERT_EQ(0, xvt_set_region(self->t->vm->fd, 1, XVCPU_MEM_READONLY,
				    gpa, size));
	/* The host may fill read-only memory; if it cannot, zero it stays. */
	p = map_slot(self->t->vm->fd, 1, size);
	host_wrote = p != MAP_FAILED;
	if (!host_wrote) {
		TH_LOG("read-only slot cannot be mapped writable: %s",
		       strerror(errno));
		p = mmap(NULL, size, PROT_READ, MAP_SHARED, self->t->vm->fd,
			 (off_t)XVCPU_MMAP_SLOT_OFFSET(1));
		ASSERT_NE(MAP_FAILED, p);
	} else {
		p[0x100 / 8] = value;
	}

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_read_then_write, gpa,
				    0));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(host_wrote ? value : 0, uc.args[0]);

	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MMIO);
	EXPECT_EQ(gpa + 0x200, self->run->mmio.phys_addr);
	EXPECT_EQ(XVCPU_MMIO_WRITE, self->run->mmio.access);
	if (self->run->mmio.linear_valid) {
		EXPECT_EQ(gpa + 0x200, self->run->mmio.linear_addr);
	}
	EXPECT_EQ(0, p[0x200 / 8]);
	munmap(p, size);
}

static void __guest guest_read_twice(uint64_t *p)
{
	GUEST_SYNC(READ_ONCE(*p));
	GUEST_SYNC(READ_ONCE(*p));
}

TEST_F(vm, deleted_slot_exits_as_mmio)
{
	const uint64_t gpa = XVT_FREE_GPA + 0x3000, size = 64 * KiB;
	struct ucall uc;
	uint64_t *p;

	p = xvcpu_vm_add_memory(self->t->vm, 1, gpa, size, 0);
	ASSERT_NE(NULL, p);
	*p = 0x1111;
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_read_twice, gpa, 0));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0x1111, uc.args[0]);

	/* The guest already used the mapping; now it must be gone. */
	ASSERT_EQ(0, xvcpu_vm_remove_memory(self->t->vm, 1));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MMIO);
	EXPECT_EQ(gpa, self->run->mmio.phys_addr);
	EXPECT_EQ(XVCPU_MMIO_READ, self->run->mmio.access);

	/* New memory in the same place: the read is retried and sees it. */
	p = xvcpu_vm_add_memory(self->t->vm, 1, gpa, size, 0);
	ASSERT_NE(NULL, p);
	*p = 0x2222;
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0x2222, uc.args[0]);
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_DONE);
}

/* ---- EPT tables of deleted slots ---- */

/* XVCPU_SLOT_CYCLES overrides it (the debug kernel runs fewer) */
#define CYCLES		10000
#define SZ_2M		(2 * MiB)
#define GiB		(1024 * MiB)
/* A 2 MiB linear window the guest reaches memory above 4 GiB through */
#define HIGH_WINDOW	0xe0000000ULL

/*
 * Flush the window's stale translation, then check that the first and
 * the last page of [@p, @p + @size) read as zero (new memory, not the
 * last cycle's) and write them.
 */
static void __guest guest_touch(uint64_t p, uint64_t size)
{
	uint64_t *first = (uint64_t *)p;
	uint64_t *last = (uint64_t *)(p + size - XVT_PAGE_SIZE);

	asm volatile("invlpg (%0)" : : "r"(p) : "memory");
	GUEST_ASSERT_EQ(0, READ_ONCE(*first));
	GUEST_ASSERT_EQ(0, READ_ONCE(*last));
	WRITE_ONCE(*first, p | 1);
	WRITE_ONCE(*last, p | 3);
}

struct cycle {
	uint64_t gpa, size;
	uint64_t linear;	/* where the guest reaches gpa */
};

/*
 * Cycle @i's slot: two pages somewhere in [1 GiB, 2 GiB) (a page table
 * and a page directory of their own), two pages either side of a 2 MiB
 * or a 1 GiB boundary (two page tables, or two page directories), and
 * with @high two pages at 512 GiB and above (a PDPT too) reached through
 * HIGH_WINDOW, in turn; every 16th cycle a 2 MiB slot instead (one 2 MiB
 * leaf where the host can give a 2 MiB block).  A 2 MiB slot costs the
 * emulated machine some 30 times what the others do (zeroing and freeing
 * 512 pages), hence so few of them.
 */
static struct cycle cycle_slot(unsigned int i, bool high)
{
	struct cycle c = { .size = 2 * XVT_PAGE_SIZE };
	uint64_t k = i / 3;

	if (i % 16 == 15) {
		c.gpa = 2 * GiB + (i / 16 % 256) * SZ_2M;
		c.size = SZ_2M;
	} else if (i % 3 == 2 && high) {
		c.gpa = (512 + k % 64) * GiB + (k % 511) * XVT_PAGE_SIZE;
		c.linear = HIGH_WINDOW + (c.gpa & (SZ_2M - 1));
		return c;
	} else if (i % 3 == 1) {
		c.gpa = k % 16 ? GiB + GiB / 2 + (k % 256) * SZ_2M : 2 * GiB;
		c.gpa -= XVT_PAGE_SIZE;
	} else {
		c.gpa = GiB + (k * 0x1003000ULL) % GiB;
	}
	c.linear = c.gpa;
	return c;
}

/*
 * Create a slot, let the guest touch it, delete it, 10,000 times at
 * changing guest-physical addresses: the EPT tables the guest's touches
 * add go with the slot, so the module's page count comes back to the
 * same value after every cycle.  The first cycle of each kind shows that
 * it did add tables.  About a minute of host time in the emulated
 * machine.
 */
TEST_F(vm, slot_cycles_leave_no_ept_tables)
{
	bool high = xvt_phys_bits() >= 40;
	unsigned int i, cycles = CYCLES;
	struct xvt_stats st;
	long base = 0, first, before;
	uint64_t start;
	struct ucall uc;

	ASSERT_EQ(0, xvt_stats_read(&st)) TH_LOG(XVT_STATS_PATH ": %s",
						  strerror(errno));
	if (!high)
		TH_LOG("physical-address width %u: no slots at 512 GiB",
		       xvt_phys_bits());
	if (getenv("XVCPU_SLOT_CYCLES"))
		cycles = strtoul(getenv("XVCPU_SLOT_CYCLES"), NULL, 0);
	first = before = st.pages;
	start = xvt_now_ns();
	for (i = 0; i < cycles; i++) {
		struct cycle c = cycle_slot(i, high);

		ASSERT_EQ(0, xvt_set_region(self->t->vm->fd, 1, 0, c.gpa,
					    c.size))
			TH_LOG("cycle %u: slot at %#llx", i,
			       (unsigned long long)c.gpa);
		if (c.linear != c.gpa)
			ASSERT_EQ(0, xvt_map_2m(self->t, HIGH_WINDOW,
						c.gpa & ~(SZ_2M - 1)));
		ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_touch, c.linear,
					    c.size));
		ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_DONE);
		if (i < 16) {
			/* The slot's pages and at least one table */
			ASSERT_EQ(0, xvt_stats_read(&st));
			EXPECT_LE(before + 3, st.pages)
				TH_LOG("cycle %u: %ld pages, %ld before", i,
				       st.pages, before);
		}
		ASSERT_EQ(0, xvt_set_region(self->t->vm->fd, 1, 0, c.gpa, 0));
		ASSERT_EQ(0, xvt_stats_read(&st));
		/* The first cycle may back pages of the test VM itself */
		if (i == 0)
			base = st.pages;
		ASSERT_EQ(base, st.pages)
			TH_LOG("cycle %u (slot %#llx+%#llx): %ld pages, %ld after the first",
			       i, (unsigned long long)c.gpa,
			       (unsigned long long)c.size, st.pages, base);
		before = st.pages;
	}
	TH_LOG("%u cycles, %.1f s machine time; pages %ld before the first, %ld after each",
	       cycles, (xvt_now_ns() - start) / 1e9, first, base);
}

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define CGROUP_TEST	CGROUP_ROOT "/xvcpu-memory-test"
#define CGROUP2_MAGIC	0x63677270

/* The memory charged to the test's cgroup, in bytes, or -1. */
static long long memcg_current(void)
{
	long long v = -1;
	FILE *f = fopen(CGROUP_TEST "/memory.current", "re");

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* A cgroup v2 with the memory controller for the test, or why not. */
static const char *memcg_setup(void)
{
	char line[256] = "";
	struct statfs fs;
	FILE *f;

	if ((statfs(CGROUP_ROOT, &fs) || fs.f_type != CGROUP2_MAGIC) &&
	    mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
		return "no cgroup v2 hierarchy, and it cannot be mounted";
	f = fopen(CGROUP_ROOT "/cgroup.controllers", "re");
	if (!f)
		return "no cgroup.controllers";
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	if (!strstr(line, "memory"))
		return "the kernel has no memory cgroup controller";
	if (xvt_write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller for child groups";
	if (mkdir(CGROUP_TEST, 0755) && errno != EEXIST)
		return "cannot create a cgroup";
	return NULL;
}

/*
 * Guest memory is charged to the memory cgroup of the task that makes it
 * exist, and uncharged when the VM goes: in a child moved into a new
 * cgroup, 16 MiB of guest memory touched through the mmap of its slot
 * raise memory.current by at least 16 MiB, and closing the VM drops the
 * charge again.  Exit status of the child: 0 or the failed step.
 */
TEST(memory_charged_to_memory_cgroup)
{
	const uint64_t size = 16 * MiB;
	struct xvcpu_vm *vm;
	int sys, status, p[2];
	long long r[3];
	const char *why;
	char pid[32];
	pid_t child;
	uint8_t *m;

	XVT_REQUIRE_DEV();
	why = memcg_setup();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, pipe(p));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (xvt_write_file(CGROUP_TEST "/cgroup.procs", pid))
			_exit(1);
		sys = xvcpu_open();
		vm = sys < 0 ? NULL : xvcpu_vm_create(sys);
		m = vm ? xvcpu_vm_add_memory(vm, 0, GPA, size, 0) : NULL;
		if (!m)
			_exit(2);
		r[0] = memcg_current();
		memset(m, 0x5a, size);
		r[1] = memcg_current();
		xvcpu_vm_destroy(vm);
		close(sys);
		r[2] = memcg_current();
		if (write(p[1], r, sizeof(r)) != sizeof(r))
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	/* The child is gone: its group is empty and goes, whatever follows */
	rmdir(CGROUP_TEST);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(r), read(p[0], r, sizeof(r)));
	close(p[0]);
	TH_LOG("memory.current: %lld before, %lld touched, %lld closed",
	       r[0], r[1], r[2]);
	ASSERT_LE(0, r[0]);
	/* All of it charged, and most of it gone with the VM. */
	EXPECT_LE((long long)size, r[1] - r[0]);
	EXPECT_GT((long long)size / 2, r[2] - r[0]);
}

TEST_HARNESS_MAIN
