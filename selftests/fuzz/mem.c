// SPDX-License-Identifier: GPL-2.0
/*
 * Memory operations on xvcpu mappings: mmap of run pages and guest memory
 * (anywhere, in a reserved cell, over a mapping of ours), munmap,
 * mprotect, madvise, mremap, and touching mapped pages directly or
 * through the kernel (a pipe).
 */
#define _GNU_SOURCE
#include <execinfo.h>
#include <fcntl.h>
#include <setjmp.h>
#include <ucontext.h>

#include "fuzz.h"

/* ---- mmap and friends ---- */

static const int prots[] = {
	PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE, PROT_WRITE, PROT_EXEC,
	PROT_READ | PROT_WRITE | PROT_EXEC,
};

static int gen_prot(struct rng *r)
{
	if (rng_chance(r, 70))
		return PROT_READ | PROT_WRITE;
	return prots[rng_below(r, ARRAY_SIZE(prots))];
}

static bool is_shared(int flags)
{
	int type = flags & MAP_TYPE;

	return type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
}

static const int map_flag_variants[] = {
	MAP_PRIVATE, MAP_SHARED | MAP_POPULATE, MAP_SHARED_VALIDATE,
	MAP_SHARED | MAP_NORESERVE, MAP_SHARED | MAP_LOCKED,
};

static int gen_map_flags(struct rng *r)
{
	if (rng_chance(r, 80))
		return MAP_SHARED;
	return map_flag_variants[rng_below(r, ARRAY_SIZE(map_flag_variants))];
}

/* mmap() of an xvcpu fd; @driver_ok: the module itself would accept it. */
static void predict_mmap(struct expect *e, uint64_t len, uint64_t off,
			 int flags, int prot, bool driver_ok)
{
	if (!len || off & (PG - 1)) {
		exp_err(e, EINVAL);
		return;
	}
	if (len > (1ULL << 46) || off >= (1ULL << 62)) {
		exp_err(e, ENOMEM);
		exp_err(e, EINVAL);
		exp_err(e, EOVERFLOW);
		return;
	}
	if (prot & PROT_EXEC)
		exp_err(e, EPERM);
	/* Accounting of a large private writable mapping comes first */
	exp_err(e, ENOMEM);
	if (!is_shared(flags) || !driver_ok) {
		exp_err(e, EINVAL);
		return;
	}
	e->ok = OK_ANY;
}

/* Pages [*a, *b) of @m, all still mapped; false if none. */
static bool pick_range(struct rng *r, const struct fz_map *m,
		       unsigned int *a, unsigned int *b, unsigned int max)
{
	unsigned int i, n = 0, pages[MAP_PAGES], len;

	for (i = 0; i < m->npages; i++)
		if (m->mask & (1ULL << i))
			pages[n++] = i;
	if (!n)
		return false;
	*a = pages[rng_below(r, n)];
	len = 1 + rng_below(r, max);
	for (*b = *a + 1; *b < m->npages && *b - *a < len; (*b)++)
		if (!(m->mask & (1ULL << *b)))
			break;
	return true;
}

void op_mmap(struct rng *r, int kind)
{
	unsigned int c, a = 0, b = 0, target;
	uint64_t len, off, pages, spages = 0, pi = 0, idx, soff;
	int obj, fd, flags, prot, cell = -1, tm = -1, err;
	bool driver_ok, lost = false;
	struct fz_map *nm, *m = NULL;
	struct expect e;
	char what[160];
	void *hint = NULL, *ret;

	if (kind == MAP_RUN) {
		obj = pick_vcpu(r);
		if (obj < 0)
			return;
		fd = fz.vcpus[obj].fd;
		c = rng_below(r, 10);
		len = c < 7 ? PG : c == 7 ? 1 + rng_below(r, PG - 1) :
		      c == 8 ? (2 + rng_below(r, 3)) * PG : rng_value(r);
		c = rng_below(r, 20);
		off = c < 17 ? 0 : c == 17 ? PG : c == 18 ? 1 + rng_below(r, PG) :
		      rng_value(r);
		driver_ok = !off && len <= PG;
	} else {
		const struct fz_vm *vm;
		const struct fz_slot *s = NULL;
		int used;

		obj = pick_vm(r);
		if (obj < 0)
			return;
		vm = &fz.vms[obj];
		fd = vm->fd;
		lost = vm->lost;
		used = pick_used_slot(r, vm);
		c = rng_below(r, 20);
		if (c < 15 && used >= 0)
			idx = used;
		else if (c < 19)
			idx = rng_below(r, fz.nr_slots + 2);
		else
			idx = rng_value(r) & 0xffffff;
		if (idx < fz.nr_slots && vm->slots[idx].used)
			s = &vm->slots[idx];
		spages = s ? s->size / PG : 0;
		switch (rng_below(r, 6)) {
		case 0:
			pi = 0;
			break;
		case 1:
			pi = spages ? spages - 1 : 0;
			break;
		case 2:
			pi = spages + rng_below(r, 3);
			break;
		default:
			pi = rng_below(r, spages + 1);
			break;
		}
		off = XVCPU_MMAP_SLOT_OFFSET(idx) + pi * PG;
		if (rng_chance(r, 8))
			off += 1 + rng_below(r, PG - 1);
		pages = spages > pi ? spages - pi : 0;
		c = rng_below(r, 20);
		if (c < 14)
			len = (1 + rng_below(r, pages < 16 ? (pages ?: 1) : 16)) *
			      PG;
		else if (c < 16)
			len = (pages ?: 1) * PG;
		else if (c < 17)
			len = (pages + 1) * PG;
		else if (c < 19)
			len = 1 + rng_below(r, 3 * PG);
		else
			len = rng_value(r);
		/* What the module checks, from the offset it gets */
		idx = off >> XVCPU_MMAP_SLOT_SHIFT;
		soff = off & SLOT_OFF_MASK;
		s = idx < fz.nr_slots && vm->slots[idx].used ?
		    &vm->slots[idx] : NULL;
		driver_ok = s && soff < s->size &&
			    len <= s->size - soff &&
			    ((len + PG - 1) & ~(PG - 1)) <= s->size - soff;
		if (driver_ok && len > MAP_PAGES * PG)
			len = MAP_PAGES * PG;
	}
	flags = gen_map_flags(r);
	prot = gen_prot(r);
	target = rng_below(r, 20);
	pages = (len + PG - 1) / PG;

	/* Where: anywhere, a free cell, or over a mapping of ours */
	if (len && len <= MAP_PAGES * PG) {
		if (target < 2) {
			cell = free_cell(r);
			if (cell >= 0) {
				hint = cell_addr(cell);
				flags |= MAP_FIXED;
			}
		} else if (target < 4) {
			tm = pick_map(r, -1);
			if (tm >= 0) {
				m = &fz.maps[tm];
				if (!pick_range(r, m, &a, &b, pages) ||
				    b - a != pages) {
					tm = -1;
					m = NULL;
				} else {
					hint = m->addr + a * PG;
					flags |= target < 3 ? MAP_FIXED :
						 MAP_FIXED_NOREPLACE;
				}
			}
		}
	}

	exp_init(&e);
	predict_mmap(&e, len, off, flags, prot, driver_ok);
	if (lost)
		e.anything = true;
	if (flags & MAP_FIXED_NOREPLACE && len && !(off & (PG - 1)))
		exp_only(&e, EEXIST);

	ret = mmap(hint, len, prot, flags, fd, off);
	err = errno;
	count_call();
	snprintf(what, sizeof(what),
		 "mmap of %s %d: len %#llx off %#llx prot %#x flags %#x",
		 kind == MAP_RUN ? "vCPU" : "VM", obj,
		 (unsigned long long)len, (unsigned long long)off, prot,
		 flags);
	vlog("%s%s -> %p (%s)", what,
	     m ? " over a mapping" : cell >= 0 ? " in a cell" : "", ret,
	     ret == MAP_FAILED ? errname(err) : "ok");
	check(&e, ret == MAP_FAILED ? -1 : 0, err, what);

	if (ret == MAP_FAILED) {
		if (cell >= 0)
			reserve(cell_addr(cell), MAP_PAGES * PG);
		if (m && flags & MAP_FIXED)
			map_resync(m);
		return;
	}
	if (pages > MAP_PAGES) {
		/* Not expected; do not keep what cannot be followed */
		munmap(ret, len);
		count_call();
		return;
	}
	if (m)
		cell = m->cell;
	nm = map_add(kind, obj, kind == MAP_RUN ? 0 :
		     (uint32_t)(off >> XVCPU_MMAP_SLOT_SHIFT), ret, pages,
		     prot, cell);
	if (m)
		map_pages_gone(m, a, b, false);
	if (!nm) {
		munmap(ret, pages * PG);
		count_call();
		if (cell >= 0)
			reserve(ret, pages * PG);
	}
}

void op_munmap(struct rng *r)
{
	int i = pick_map(r, -1), err, v = rng_below(r, 20);
	unsigned int a, b;
	struct expect e;
	uint64_t len;
	char *addr;
	long ret;

	if (i < 0 || !pick_range(r, &fz.maps[i], &a, &b, MAP_PAGES))
		return;
	addr = fz.maps[i].addr + a * PG;
	len = (b - a) * PG;
	exp_init(&e);
	e.ok = 0;
	if (v < 3) {
		len -= rng_below(r, PG - 1);	/* rounded up */
	} else if (v == 3) {
		addr += 1 + rng_below(r, PG - 1);
		exp_only(&e, EINVAL);
	} else if (v == 4) {
		len = 0;
		exp_only(&e, EINVAL);
	}
	ret = munmap(addr, len);
	err = errno;
	count_call();
	vlog("munmap map %d pages %u-%u -> %ld", i, a, b, ret);
	check(&e, ret, err, "munmap");
	if (!ret)
		map_pages_gone(&fz.maps[i], a, b, true);
}

void op_mprotect(struct rng *r)
{
	int i = pick_map(r, -1), prot = gen_prot(r), err;
	struct fz_map *m;
	unsigned int a, b, j;
	struct expect e;
	long ret;

	if (i < 0 || !pick_range(r, &fz.maps[i], &a, &b, MAP_PAGES))
		return;
	m = &fz.maps[i];
	exp_init(&e);
	e.ok = 0;
	if (prot & PROT_EXEC)
		exp_err(&e, EACCES);
	ret = mprotect(m->addr + a * PG, (b - a) * PG, prot);
	err = errno;
	count_call();
	vlog("mprotect map %d pages %u-%u %#x -> %ld", i, a, b, prot, ret);
	check(&e, ret, err, "mprotect");
	if (!ret)
		for (j = a; j < b; j++)
			m->prot[j] = prot;
}

static const int advices[] = {
	MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
	MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK,
	MADV_DONTDUMP, MADV_DODUMP, 20 /* COLD */, 21 /* PAGEOUT */,
	22 /* POPULATE_READ */, 23 /* POPULATE_WRITE */,
};

void op_madvise(struct rng *r)
{
	int i = pick_map(r, -1), err;
	int adv = advices[rng_below(r, ARRAY_SIZE(advices))];
	unsigned int a, b;
	struct expect e;
	char what[64];
	long ret;

	if (i < 0 || !pick_range(r, &fz.maps[i], &a, &b, MAP_PAGES))
		return;
	exp_init(&e);
	e.ok = 0;
	exp_err(&e, EINVAL);
	exp_err(&e, EOPNOTSUPP);
	exp_err(&e, ENOMEM);
	exp_err(&e, EFAULT);
	exp_err(&e, EAGAIN);
	exp_err(&e, EPERM);
	exp_err(&e, EACCES);
	exp_err(&e, EIO);
	exp_err(&e, ENODEV);		/* MADV_REMOVE: no fallocate */
	ret = madvise(fz.maps[i].addr + a * PG, (b - a) * PG, adv);
	err = errno;
	count_call();
	snprintf(what, sizeof(what), "madvise(%d)", adv);
	vlog("%s map %d pages %u-%u -> %ld", what, i, a, b, ret);
	check(&e, ret, err, what);
}

void op_mremap(struct rng *r)
{
	int i = pick_map(r, -1), v = rng_below(r, 4), cell = -1, err;
	unsigned int a, b, n, newn;
	struct fz_map *m;
	struct expect e;
	char what[96];
	void *old, *ret;
	int flags = 0;

	if (i < 0 || !pick_range(r, &fz.maps[i], &a, &b, MAP_PAGES))
		return;
	m = &fz.maps[i];
	n = b - a;
	old = m->addr + a * PG;
	newn = n;
	exp_init(&e);
	exp_err(&e, EFAULT);		/* the range spans mappings */
	switch (v) {
	case 0:				/* shrink in place */
		newn = n > 1 ? 1 + rng_below(r, n - 1) : 1;
		e.ok = OK_ANY;
		break;
	case 1:				/* grow: VM_DONTEXPAND */
		newn = n + 1 + rng_below(r, 2);
		flags = rng_chance(r, 50) ? MREMAP_MAYMOVE : 0;
		exp_err(&e, ENOMEM);
		break;
	case 2:				/* move to a cell */
		cell = free_cell(r);
		if (cell < 0)
			return;
		newn = 1 + rng_below(r, n);
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		e.ok = OK_ANY;
		break;
	default:			/* keep the old one: not for us */
		flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
		exp_err(&e, EINVAL);
		cell = free_cell(r);
		if (cell >= 0)
			flags |= MREMAP_FIXED;
		break;
	}
	ret = mremap(old, n * PG, newn * PG, flags,
		     cell >= 0 ? cell_addr(cell) : NULL);
	err = errno;
	count_call();
	snprintf(what, sizeof(what), "mremap %u -> %u pages, flags %#x", n,
		 newn, flags);
	vlog("%s map %d -> %p", what, i, ret);
	check(&e, ret == MAP_FAILED ? -1 : 0, err, what);

	if (ret != MAP_FAILED && ret != old) {
		struct fz_map *nm;

		nm = map_add(m->kind, m->obj, m->slot, ret, newn, m->prot[a],
			     cell >= 0 && ret == cell_addr(cell) ? cell : -1);
		if (!nm) {
			munmap(ret, newn * PG);
			count_call();
		}
	}
	if (ret == MAP_FAILED && cell >= 0)
		reserve(cell_addr(cell), MAP_PAGES * PG);
	if (ret != MAP_FAILED && ret != old && cell >= 0 && !fz.cell_refs[cell])
		reserve(cell_addr(cell), MAP_PAGES * PG);
	map_resync(m);
}

/* ---- touching mapped memory ---- */

static sigjmp_buf touch_env;
static volatile sig_atomic_t touching;

/*
 * A fault outside touch_direct() is the fuzzer's own bug (or memory the
 * kernel should not have changed): say where before dying, for
 * "addr2line -e fuzz_test <ip>".
 */
void on_fault(int sig, siginfo_t *si, void *uc_arg)
{
	const ucontext_t *uc = uc_arg;
	void *frames[24];
	char msg[160];
	int n, fd;

	if (touching)
		siglongjmp(touch_env, sig);
	n = snprintf(msg, sizeof(msg),
		     "# fuzz_test: signal %d at ip %#llx, address %p (code %d)\n",
		     sig, (unsigned long long)uc->uc_mcontext.gregs[REG_RIP],
		     si->si_addr, si->si_code);
	if (n > 0 && write(2, msg, n) < 0)
		n = 0;
	n = backtrace(frames, ARRAY_SIZE(frames));
	backtrace_symbols_fd(frames, n, 2);
	n = snprintf(msg, sizeof(msg), "# arena rw %p ro %p mix %p, cells %p\n",
		     fz.rw, fz.ro, fz.mix, fz.cells);
	if (n > 0 && write(2, msg, n) < 0)
		n = 0;
	fd = open("/proc/self/maps", O_RDONLY);
	while (fd >= 0 && (n = read(fd, msg, sizeof(msg))) > 0)
		if (write(2, msg, n) < 0)
			break;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read or write @p directly; false if it faulted. */
static bool touch_direct(volatile char *p, bool store, char v)
{
	int sig;

	sig = sigsetjmp(touch_env, 1);
	if (sig) {
		touching = 0;
		return false;
	}
	touching = 1;
	if (store)
		*p = v;
	else
		(void)*p;
	touching = 0;
	return true;
}

static void pipe_drain(void)
{
	char buf[256];

	while (read(fz.pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* The kernel reads (or writes) @n bytes at @p through a pipe. */
long touch_kernel(char *p, size_t n, bool store, int *err)
{
	char buf[64] = { 0 };
	long ret;

	if (store) {
		if (write(fz.pipe[1], buf, n) != (long)n)
			return -1;
		ret = read(fz.pipe[0], p, n);
	} else {
		ret = write(fz.pipe[1], p, n);
	}
	*err = errno;
	count_call();
	pipe_drain();
	return ret;
}

void op_touch(struct rng *r)
{
	int i = pick_map(r, -1), mode = rng_below(r, 4), err, prot;
	uint64_t off = rng_below(r, PG - 64), v = rng_u64(r);
	size_t n = 1 + rng_below(r, 64);
	unsigned int a, b;
	struct expect e;
	struct fz_map *m;
	char what[96];
	char *p;
	long ret;

	if (i < 0 || !pick_range(r, &fz.maps[i], &a, &b, 1))
		return;
	m = &fz.maps[i];
	p = m->addr + a * PG + off;
	prot = m->prot[a];
	snprintf(what, sizeof(what), "%s %s map %d page %u prot %#x",
		 mode < 2 ? "direct" : "kernel", mode & 1 ? "write" : "read",
		 i, a, prot);
	switch (mode) {
	case 0:
		if (prot & (PROT_READ | PROT_WRITE) && !touch_direct(p, false, 0))
			fail("%s: fault", what);
		return;
	case 1:
		if (prot & PROT_WRITE && !touch_direct(p, true, v))
			fail("%s: fault", what);
		return;
	}
	exp_init(&e);
	if (prot == PROT_NONE) {
		exp_err(&e, EFAULT);
	} else if (mode == 3 && !(prot & PROT_WRITE)) {
		exp_err(&e, EFAULT);
	} else {
		e.ok = n;
		if (prot == PROT_EXEC)	/* execute-only with protection keys */
			exp_err(&e, EFAULT);
	}
	ret = touch_kernel(p, n, mode == 3, &err);
	check(&e, ret, err, what);
}
