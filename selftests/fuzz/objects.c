// SPDX-License-Identifier: GPL-2.0
/*
 * What the fuzzer's calls point at and work on: the arena (memory with
 * known access rights for pointer arguments), pointers of every class,
 * the tables of system, VM and vCPU fds, and the mappings of run pages
 * and guest memory with the reserved cells MAP_FIXED and mremap() target.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "fuzz.h"

/* ---- the arena ---- */

/*
 * One memfd of two pages (P0, P1) mapped three times, each view followed
 * by an inaccessible guard page:
 *   rw   [P0 rw][P1 rw][guard]
 *   ro   [P0 ro][P1 ro][guard]
 *   mix  [P0 rw][P1 ro][guard]
 * Content is written through rw and read by the kernel through any view.
 */
static char *map_view(int prot0, int prot1)
{
	char *base;

	base = mmap(NULL, 3 * PG, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	if (mmap(base, PG, prot0, MAP_SHARED | MAP_FIXED, fz.memfd, 0) ==
	    MAP_FAILED ||
	    mmap(base + PG, PG, prot1, MAP_SHARED | MAP_FIXED, fz.memfd, PG) ==
	    MAP_FAILED)
		return NULL;
	return base;
}

int arena_init(void)
{
	fz.memfd = memfd_create("fuzz-arena", MFD_CLOEXEC);
	if (fz.memfd < 0 || ftruncate(fz.memfd, 2 * PG))
		return -errno;
	fz.rw = map_view(PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE);
	fz.ro = map_view(PROT_READ, PROT_READ);
	fz.mix = map_view(PROT_READ | PROT_WRITE, PROT_READ);
	if (!fz.rw || !fz.ro || !fz.mix)
		return -errno;
	return 0;
}

void arena_fini(void)
{
	munmap(fz.rw, 3 * PG);
	munmap(fz.ro, 3 * PG);
	munmap(fz.mix, 3 * PG);
	close(fz.memfd);
}

/* Make [addr, addr + len) inaccessible and reserved for us again. */
void reserve(void *addr, size_t len)
{
	if (mmap(addr, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0) == MAP_FAILED)
		fail("re-reserving %p: %s", addr, strerror(errno));
}

/* ---- pointer arguments ---- */

const char *const ptr_names[] = {
	"rw", "ro", "rw|ro", "rw|none", "ro|none", "none", "null", "kernel",
	"non-canonical", "top", "text", "mapping", "int",
};

static const uint64_t kernel_addrs[] = {
	0xffffffff81000000ULL, 0xffff888000000000ULL, 0xffffffffff600000ULL,
	0xfffffffffffff000ULL, 0xffffc90000000000ULL, 0xffffea0000000000ULL,
};

static const uint64_t noncanon_addrs[] = {
	0x0000800000000000ULL, 0x8000000000000000ULL, 0x00fff00000000000ULL,
	0x7fff800000000000ULL,
};

/* An offset in [0, @room]: 8-byte aligned, cache-line aligned or odd. */
static uint64_t ptr_offset(struct rng *r, uint64_t room)
{
	uint64_t off = rng_below(r, room + 1);

	switch (rng_below(r, 4)) {
	case 0:
	case 1:
		return off & ~7ULL;
	case 2:
		return off & ~63ULL;
	default:
		return off;
	}
}

/*
 * Make a pointer of class @cls to @size bytes of @content (1 <= size <=
 * MAX_ARG_SIZE, less than two pages).  The split classes put the first k
 * bytes (0 < k < size) on one side of a page boundary and the rest on
 * the other.  Classes that need something absent fall back to P_RW.
 */
struct ptr make_ptr(struct rng *r, int cls, size_t size,
		    const void *content)
{
	struct ptr p = { .cls = cls };
	uint64_t off, k, kmin, kmax;
	int m;

	/*
	 * 0 < k < size, and for P_RW_RO both parts fit their page: the
	 * read-only rest (k >= size - PG) and the writable start (k <= PG).
	 */
	kmin = size > PG ? size - PG : 1;
	kmax = size - 1 < PG ? size - 1 : PG;
	k = kmax > kmin ? kmin + rng_below(r, kmax - kmin + 1) : kmin;
	switch (cls) {
	case P_RO:
		off = ptr_offset(r, 2 * PG - size);
		memcpy(fz.rw + off, content, size);
		p.addr = (uintptr_t)fz.ro + off;
		p.rd_len = size;
		p.known = true;
		break;
	case P_RW_RO:
		if (size < 2)
			goto rw;
		memcpy(fz.rw + PG - k, content, size);
		p.addr = (uintptr_t)fz.mix + PG - k;
		p.rd_len = size;
		p.wr_len = k;
		p.known = true;
		break;
	case P_RW_NONE:
	case P_RO_NONE:
		if (size < 2)
			goto rw;
		memcpy(fz.rw + 2 * PG - k, content, k);
		p.addr = (uintptr_t)(cls == P_RW_NONE ? fz.rw : fz.ro) +
			 2 * PG - k;
		p.rd_len = k;
		p.wr_len = cls == P_RW_NONE ? k : 0;
		p.known = true;
		break;
	case P_NONE:
		p.addr = (uintptr_t)fz.rw + 2 * PG +
			 ptr_offset(r, size < PG ? PG - size : 0);
		break;
	case P_NULL:
		p.addr = rng_chance(r, 50) ? 0 : rng_below(r, 0x10000);
		break;
	case P_KERNEL:
		p.addr = kernel_addrs[rng_below(r, ARRAY_SIZE(kernel_addrs))] +
			 rng_below(r, PG);
		break;
	case P_NONCANON:
		p.addr = noncanon_addrs[rng_below(r,
						  ARRAY_SIZE(noncanon_addrs))] -
			 rng_below(r, 2) * k;
		break;
	case P_TOP:
		/* The last user page is never mapped (TASK_SIZE_MAX) */
		p.addr = (1ULL << 47) - PG + rng_below(r, 2 * PG);
		break;
	case P_TEXT:
		p.addr = (uintptr_t)rng_u64 + rng_below(r, 64);
		p.rd_len = size;
		p.known = true;
		content = (const void *)(uintptr_t)p.addr;
		break;
	case P_MAP:
		m = pick_map(r, -1);
		if (m < 0 || size > PG)
			goto rw;
		{
			struct fz_map *mp = &fz.maps[m];
			unsigned int i, n = 0, pages[MAP_PAGES];

			for (i = 0; i < mp->npages; i++)
				if (mp->mask & (1ULL << i))
					pages[n++] = i;
			i = pages[rng_below(r, n)];
			/* Execute-only: readable or not (protection keys) */
			if (mp->prot[i] == PROT_EXEC)
				goto rw;
			p.addr = (uintptr_t)mp->addr + i * PG +
				 ptr_offset(r, PG - size);
			if (mp->prot[i] & (PROT_READ | PROT_WRITE))
				p.rd_len = size;
			if (mp->prot[i] & PROT_WRITE)
				p.wr_len = size;
		}
		break;
	default:
rw:
		p.cls = P_RW;
		off = ptr_offset(r, 2 * PG - size);
		memcpy(fz.rw + off, content, size);
		p.addr = (uintptr_t)fz.rw + off;
		p.rd_len = p.wr_len = size;
		p.known = true;
		break;
	}
	p.rd = p.rd_len >= size;
	p.wr = p.wr_len >= size;
	p.det = p.known && p.rd;
	if (p.known)
		p.content = content;
	return p;
}

/* Whether the kernel reads bytes [0, @n) of @p and finds @p's content. */
bool ptr_known(const struct ptr *p, uint64_t n)
{
	return p->known && p->rd_len >= n;
}

/* A pointer class: mostly good memory when @good, else any. */
int pick_ptr_class(struct rng *r, bool good, bool allow_map)
{
	int cls;

	if (good && rng_chance(r, 75))
		return P_RW;
	do
		cls = rng_below(r, NR_PTR);
	while (cls == P_MAP && !allow_map);
	return cls;
}

/* ---- object tables and mappings ---- */

int pick_sys(struct rng *r)
{
	int i, n = 0, c[NR_SYS];

	for (i = 0; i < NR_SYS; i++)
		if (fz.sys[i] >= 0)
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

int pick_vm(struct rng *r)
{
	int i, n = 0, c[NR_VMS];

	for (i = 0; i < NR_VMS; i++)
		if (fz.vms[i].used && fz.vms[i].fd >= 0)
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

int pick_vcpu(struct rng *r)
{
	int i, n = 0, c[NR_VCPUS];

	for (i = 0; i < NR_VCPUS; i++)
		if (fz.vcpus[i].used && fz.vcpus[i].fd >= 0)
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

/* A mapping with pages left, of @kind (or any when -1). */
int pick_map(struct rng *r, int kind)
{
	int i, n = 0, c[NR_MAPS];

	for (i = 0; i < NR_MAPS; i++)
		if (fz.maps[i].used && (kind < 0 || fz.maps[i].kind == kind))
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

bool slot_mapped(int vm, uint32_t slot)
{
	int i;

	if (slot == 0 && fz.vms[vm].code)
		return true;
	for (i = 0; i < NR_MAPS; i++)
		if (fz.maps[i].used && fz.maps[i].kind == MAP_SLOT &&
		    fz.maps[i].obj == vm && fz.maps[i].slot == slot)
			return true;
	return false;
}

bool vcpu_mapped(int v)
{
	int i;

	for (i = 0; i < NR_MAPS; i++)
		if (fz.maps[i].used && fz.maps[i].kind == MAP_RUN &&
		    fz.maps[i].obj == v)
			return true;
	return false;
}

bool vm_mapped(int vm)
{
	int i;

	for (i = 0; i < NR_MAPS; i++)
		if (fz.maps[i].used && fz.maps[i].kind == MAP_SLOT &&
		    fz.maps[i].obj == vm)
			return true;
	return false;
}

/* Pages [a, b) of @m are gone: reserve them again if in a cell. */
void map_pages_gone(struct fz_map *m, unsigned int a, unsigned int b,
		    bool rereserve)
{
	unsigned int i;

	for (i = a; i < b && i < m->npages; i++) {
		if (!(m->mask & (1ULL << i)))
			continue;
		m->mask &= ~(1ULL << i);
		if (m->cell >= 0 && rereserve)
			reserve(m->addr + i * PG, PG);
	}
	if (!m->mask) {
		if (m->cell >= 0)
			fz.cell_refs[m->cell]--;
		m->used = false;
		vlog("map %d: gone", (int)(m - fz.maps));
	}
}

/* Find out with mincore() which pages of @m are still mapped. */
void map_resync(struct fz_map *m)
{
	unsigned char vec;
	unsigned int i;

	for (i = 0; m->used && i < m->npages; i++) {
		if (!(m->mask & (1ULL << i)))
			continue;
		if (mincore(m->addr + i * PG, PG, &vec) && errno == ENOMEM)
			map_pages_gone(m, i, i + 1, true);
	}
}

struct fz_map *map_add(int kind, int obj, uint32_t slot, void *addr,
		       unsigned int npages, int prot, int cell)
{
	int i = FREE_ENTRY(fz.maps);
	struct fz_map *m;

	if (i < 0)
		return NULL;
	m = &fz.maps[i];
	memset(m, 0, sizeof(*m));
	m->used = true;
	m->kind = kind;
	m->obj = obj;
	m->slot = slot;
	m->addr = addr;
	m->npages = npages;
	m->mask = npages >= 64 ? ~0ULL : (1ULL << npages) - 1;
	memset(m->prot, prot, sizeof(m->prot));
	m->cell = cell;
	if (cell >= 0)
		fz.cell_refs[cell]++;
	vlog("map %d: %s %d at %p, %u pages", i,
	     kind == MAP_RUN ? "vCPU" : "VM", obj, addr, npages);
	return m;
}

int free_cell(struct rng *r)
{
	int i, n = 0, c[NR_CELLS];

	for (i = 0; i < NR_CELLS; i++)
		if (!fz.cell_refs[i])
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

char *cell_addr(int cell)
{
	return fz.cells + (size_t)cell * MAP_PAGES * PG;
}

int pick_used_slot(struct rng *r, const struct fz_vm *vm)
{
	unsigned int i, n = 0, c[MAX_SLOTS];

	for (i = 0; i < fz.nr_slots; i++)
		if (vm->slots[i].used)
			c[n++] = i;
	return n ? (int)c[rng_below(r, n)] : -1;
}
