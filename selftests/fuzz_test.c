// SPDX-License-Identifier: GPL-2.0
/*
 * A random fuzzer for the /dev/xvcpu ioctls.
 *
 * The main thread draws operations from a seeded generator: ioctls with
 * random or boundary numbers and arguments (valid structures, random bytes,
 * boundary values, bad pointers) on system, VM and vCPU fds; closing and
 * re-creating those fds; mmap, munmap, mprotect, mremap and madvise of run
 * pages and guest memory; memory slot creation and deletion; XVCPU_RUN;
 * fork.  Runner threads meanwhile run guests on vCPUs: a small program that
 * exits with OUT, IN, MMIO, HLT and VMCALL in a loop, a program of WRMSR
 * and RDMSR with a #GP handler, or random state set with SET_SREGS and
 * SET_REGS.
 *
 * Every result is checked against what uapi/xvcpu.h and a model of each
 * VM's memory slots, vCPU ids and mappings predict.  At the end every fd
 * and mapping must be gone, the module's counters back where they were and
 * the kernel log free of warnings.  Known issues of the module are
 * reported on their own and fail the test only with --strict.
 *
 *   fuzz_test [--seed N] [--long] [--calls N] [--ops N] [--time SECONDS]
 *             [--threads N] [--verbose] [--strict] [harness options]
 *
 * The seed is printed first; --seed N replays the same sequence of main
 * thread operations.  Runner threads make the interleaving of concurrent
 * calls differ from run to run; with --threads 0 only runs ended by a
 * timer can differ.  --ops N stops after N operations (to cut a replay
 * down), --verbose prints each one.  XVCPU_FUZZ_SEED=N, XVCPU_FUZZ_LONG=1
 * and XVCPU_FUZZ_STRICT=1 do what --seed, --long and --strict do.
 *
 * Counted calls are the system calls made on xvcpu objects (ioctl, mmap,
 * munmap, mprotect, mremap, madvise, open, close, dup, fork) by all
 * threads.  Time is the test machine's own clock, which in the emulator
 * runs far slower than the wall clock: there the number of calls bounds
 * the run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define PG			4096UL

/* Defaults: a run of the suite, and --long. */
#define DEFAULT_CALLS		100000UL
#define DEFAULT_TIME_S		600
#define LONG_CALLS		3000000UL
#define LONG_TIME_S		36000
#define DEFAULT_THREADS		2
#define MAX_RUNNERS		4

/* Objects the fuzzer keeps at once. */
#define NR_SYS			2
#define NR_VMS			3
#define NR_VCPUS		8
#define NR_MAPS			48
#define MAP_PAGES		64	/* longest mapping tracked */
#define NR_CELLS		8	/* MAP_FIXED / mremap targets */
#define VCPU_IDS_USED		4	/* ids 0..3 mostly, and the last one */
#define MAX_SLOTS		64	/* slots the model can follow */

/*
 * Guest memory the fuzzer lets live: a larger slot, or one that would take
 * a VM past VM_KEEP_MAX, is deleted right after its creation succeeded.
 * This bounds what guests and mappings can allocate in the test machine.
 */
#define SLOT_KEEP_MAX		(2UL << 20)
#define VM_KEEP_MAX		(16UL << 20)

/* Guest program layout in slot 0 of a prepared VM (64-bit, paging on). */
#define PROG_SLOT_SIZE		0x10000UL
#define PROG_TABLES		0x1000UL
#define PROG_CODE		0x9000UL
#define PROG_DATA		0xe000UL
#define PROG_STACK		0xf000UL
#define PROG_MMIO		0xc0000000UL
#define PROG_MMIO_W		(PROG_CODE + 18)
#define PROG_MMIO_R		(PROG_CODE + 20)
/* The MSR program, its #GP handler, IDT and table of MSR accesses */
#define MSRPROG_CODE		0x9100UL
#define MSRPROG_GP		0x9200UL
#define MSRPROG_IDT		0xa000UL
#define MSRPROG_TABLE		0xb000UL
#define MSRPROG_ENTRIES		32

/*
 * How long one XVCPU_RUN may last before a timer signal ends it, and how
 * long main waits for a runner before stopping it (ns of the machine's
 * clock, which in the emulator runs some hundred times slower than the
 * wall clock while busy).  A guest spinning with RFLAGS.IF = 0 may only
 * see the signal at the module's VMX-preemption timer exit.
 */
#define RUN_TIMEOUT_NS		(200 * 1000)
#define JOIN_WAIT_NS		(2ULL * 1000 * 1000)

#define EPT_LIMIT		(1ULL << 48)

/* The highest exit reason of uapi/xvcpu.h this file knows */
#ifdef XVCPU_EXIT_MSR
#define EXIT_LAST		XVCPU_EXIT_MSR
#else
#define EXIT_LAST		XVCPU_EXIT_HYPERCALL
#endif
#define SLOT_OFF_MASK		(XVCPU_MMAP_SLOT_OFFSET(1) - 1)

/* Architectural bits SET_REGS and SET_SREGS check (kmod/vcpu.c, vmcs.c) */
#define RFLAGS_DEFINED		0x3f7fd5ULL
#define RFLAGS_FIXED		0x2ULL
#define CR0_KNOWN		0xe005003fULL
#define CR4_VMXE		(1ULL << 13)
#define EFER_KNOWN		0xd01ULL

/* ---- options ---- */

static struct {
	uint64_t seed;
	bool seed_set;
	bool is_long;
	unsigned long calls;
	unsigned long max_ops;
	unsigned long time_s;
	int threads;
	bool verbose;
	bool strict;
} opt = { .threads = -1 };

/* ---- random numbers: splitmix64, one stream per thread ---- */

struct rng {
	uint64_t s;
};

static uint64_t rng_u64(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* In [0, n); 0 when n is 0.  The modulo bias does not matter here. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_u64(r) % n : 0;
}

static bool rng_chance(struct rng *r, unsigned int percent)
{
	return rng_below(r, 100) < percent;
}

static void rng_bytes(struct rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			v = rng_u64(r);
		p[i] = v >> (8 * (i & 7));
	}
}

static const uint64_t boundary[] = {
	0, 1, 2, 3, 0x7f, 0x80, 0xff, 0xfff, 0x1000, 0x1001, 0xffff,
	0x10000, 0x1fffff, 0x200000, 0x7fffffff, 0x80000000, 0xffffffff,
	0x100000000ULL, 0x7fffffffffffULL, 0x800000000000ULL,
	0xfffffffff000ULL, 0x1000000000000ULL, 0x10000000000000ULL,
	0x7fffffffffffffffULL, 0x8000000000000000ULL,
	0xfffffffffffff000ULL, 0xfffffffffffffffeULL, ~0ULL,
};

/* A value for a field: boundaries, their neighbours, small or random. */
static uint64_t rng_value(struct rng *r)
{
	uint64_t v = boundary[rng_below(r, ARRAY_SIZE(boundary))];

	switch (rng_below(r, 6)) {
	case 0:
	case 1:
		return v;
	case 2:
		return v + 1 - rng_below(r, 3);
	case 3:
		return rng_below(r, 0x10000);
	case 4:
		return rng_u64(r) & ~0xfffULL;
	default:
		return rng_u64(r);
	}
}

/* ---- accounting and failure reports (all threads) ---- */

static unsigned long nr_calls;		/* atomic */
static __thread bool in_runner;
static unsigned long nr_runner_calls;	/* atomic */
static unsigned long cur_op;		/* main thread's operation number */
static unsigned long nr_failures, nr_known;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_REPORTS		30

static void count_call(void)
{
	__atomic_add_fetch(&nr_calls, 1, __ATOMIC_RELAXED);
	if (in_runner)
		__atomic_add_fetch(&nr_runner_calls, 1, __ATOMIC_RELAXED);
}

static unsigned long calls_made(void)
{
	return __atomic_load_n(&nr_calls, __ATOMIC_RELAXED);
}

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	if (++nr_failures <= MAX_REPORTS) {
		fprintf(stderr, "# FAIL at op %lu (seed %llu): ", cur_op,
			(unsigned long long)opt.seed);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&log_lock);
}

/*
 * A behaviour of the module that is reported but not failed: each kind
 * once, with the op number to replay it.
 */
enum known_issue {
	KNOWN_REGION_EFAULT,
	KNOWN_ENTRY_FAILURE,
	KNOWN_FRESH_STATE,
	NR_KNOWN,
};

static const char *const known_text[NR_KNOWN] = {
	[KNOWN_REGION_EFAULT] = "XVCPU_SET_MEMORY_REGION created or deleted the slot but returned EFAULT (argument not writable)",
	/*
	 * A #GP the kernel injected for a refused WRMSR stays pending when
	 * RUN returns EINTR, and makes the entry into the next state
	 * userspace sets fail (Bochs reports exit reason 0xfffffffb).
	 */
	[KNOWN_ENTRY_FAILURE] = "VM entry failed with an exit reason VM entry does not give for guest state (a stale #GP injection?)",
	/*
	 * State SET_SREGS/SET_REGS cannot reach (a pending injected event,
	 * interruptibility) made a freshly set program fail at once.
	 */
	[KNOWN_FRESH_STATE] = "a vCPU set to a fresh state with SET_SREGS and SET_REGS did not start cleanly",
};

static void __attribute__((format(printf, 2, 3)))
known_issue(enum known_issue k, const char *fmt, ...)
{
	static bool seen[NR_KNOWN];
	va_list ap;

	if (opt.strict) {
		char buf[256];

		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		fail("%s%s%s", known_text[k], *buf ? ": " : "", buf);
		return;
	}
	pthread_mutex_lock(&log_lock);
	nr_known++;
	if (!seen[k]) {
		seen[k] = true;
		fprintf(stderr, "# known issue at op %lu: %s", cur_op,
			known_text[k]);
		va_start(ap, fmt);
		if (*fmt)
			fputs(": ", stderr);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&log_lock);
}

static void __attribute__((format(printf, 1, 2))) vlog(const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "# [%lu] ", cur_op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&log_lock);
}

static const char *errname(int err)
{
	static __thread char buf[16];

	switch (err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default:
		snprintf(buf, sizeof(buf), "errno %d", err);
		return buf;
	}
}

/* ---- expected outcomes ---- */

#define OK_NONE		(-2L)	/* the call must fail */
#define OK_ANY		(-1L)	/* any value >= 0 */

struct expect {
	bool anything;		/* not predictable; only the kernel must live */
	long ok;		/* exact success value, OK_ANY or OK_NONE */
	unsigned int nerr;
	int err[10];
};

static void exp_init(struct expect *e)
{
	memset(e, 0, sizeof(*e));
	e->ok = OK_NONE;
}

static void exp_err(struct expect *e, int err)
{
	if (e->nerr < ARRAY_SIZE(e->err))
		e->err[e->nerr++] = err;
}

static void exp_only(struct expect *e, int err)
{
	e->ok = OK_NONE;
	e->nerr = 0;
	exp_err(e, err);
}

static bool exp_match(const struct expect *e, long ret, int err)
{
	unsigned int i;

	if (e->anything)
		return true;
	if (ret >= 0)
		return e->ok == OK_ANY || e->ok == ret;
	for (i = 0; i < e->nerr; i++)
		if (e->err[i] == err)
			return true;
	return false;
}

static const char *exp_str(const struct expect *e, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;

	if (e->ok == OK_ANY)
		n += snprintf(buf + n, len - n, "success");
	else if (e->ok >= 0)
		n += snprintf(buf + n, len - n, "%ld", e->ok);
	for (i = 0; i < e->nerr && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", n ? " or " : "",
			      errname(e->err[i]));
	return buf;
}

/* Check a call's outcome; false (and a report) if it is not expected. */
static bool check(const struct expect *e, long ret, int err,
		  const char *what)
{
	char want[160];

	if (exp_match(e, ret, err))
		return true;
	fail("%s: got %ld (%s), expected %s", what, ret,
	     ret < 0 ? errname(err) : "ok", exp_str(e, want, sizeof(want)));
	return false;
}

/* ---- objects and the model of what the kernel holds ---- */

enum fd_kind { FD_SYS, FD_VM, FD_VCPU, NR_FD_KINDS };

struct fz_slot {
	bool used;
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
};

struct fz_vm {
	bool used;		/* the VM may still exist in the kernel */
	int fd;			/* -1 once closed */
	bool lost;		/* model out of step: loose checks only */
	struct fz_slot slots[MAX_SLOTS];
	uint64_t mem_bytes;
	uint32_t ids;		/* vCPU ids alive in the kernel */
	int nr_vcpus;		/* vCPU entries of this VM */
	uint8_t *code;		/* slot 0 mapping holding the program */
};

struct fz_vcpu {
	bool used;		/* the vCPU exists in the kernel */
	int fd;			/* main's fd, -1 once closed */
	int vm;
	unsigned int id;
	int runner;		/* runner with a job on it, or -1 */
};

enum map_kind { MAP_RUN, MAP_SLOT };

struct fz_map {
	bool used;
	int kind;
	int obj;		/* vCPU index (MAP_RUN) or VM index */
	uint32_t slot;
	char *addr;
	unsigned int npages;
	uint64_t mask;		/* pages still mapped */
	uint8_t prot[MAP_PAGES];
	int cell;		/* reserved cell it lies in, or -1 */
};

struct runner;

static struct fuzz {
	struct rng rng;
	/* what the module reports */
	long cap[16];
	unsigned int nr_slots, max_vcpus;
	uint64_t mem_limit;
	uint64_t cr4_ok;	/* CR4 bits SET_SREGS takes (probed) */
	long mmap_size;
	/* objects */
	int sys[NR_SYS];
	struct fz_vm vms[NR_VMS];
	struct fz_vcpu vcpus[NR_VCPUS];
	struct fz_map maps[NR_MAPS];
	/* memory for pointers and targets */
	int memfd;
	char *rw, *ro, *mix;	/* arena views, see arena_init() */
	char *cells;		/* NR_CELLS * MAP_PAGES reserved pages */
	unsigned int cell_refs[NR_CELLS];
	char *runner_pages;	/* one reserved page per runner */
	int pipe[2];
	timer_t timer;
	/* guest state templates */
	struct xvcpu_regs prog_regs;
	struct xvcpu_sregs sregs_long, sregs_real, sregs_prot;
	uint8_t tables[XVCPU_SETUP_TABLES_SIZE];
	/* runners */
	struct runner *runners;
	int nr_runners;
	/* statistics */
	unsigned long op_count[32];
	uint64_t op_ns[32];
	unsigned long exits[EXIT_LAST + 1];
	unsigned long run_eintr, run_ebusy, vmfail, fail_entry;
} fz;

/* ---- the arena: memory with known access rights for pointer arguments ---- */

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

static int arena_init(void)
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

static void arena_fini(void)
{
	munmap(fz.rw, 3 * PG);
	munmap(fz.ro, 3 * PG);
	munmap(fz.mix, 3 * PG);
	close(fz.memfd);
}

/* Make [addr, addr + len) inaccessible and reserved for us again. */
static void reserve(void *addr, size_t len)
{
	if (mmap(addr, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0) == MAP_FAILED)
		fail("re-reserving %p: %s", addr, strerror(errno));
}

enum ptr_class {
	P_RW, P_RO, P_RW_RO, P_RW_NONE, P_RO_NONE, P_NONE, P_NULL, P_KERNEL,
	P_NONCANON, P_TOP, P_TEXT, P_MAP, NR_PTR,
	P_INT = NR_PTR,		/* not a pointer: an integer argument */
};

static const char *const ptr_names[] = {
	"rw", "ro", "rw|ro", "rw|none", "ro|none", "none", "null", "kernel",
	"non-canonical", "top", "text", "mapping", "int",
};

struct ptr {
	int cls;
	uint64_t addr;
	bool rd, wr;		/* the kernel can read / write all of it */
	bool det;		/* it holds known content (see content) */
	const void *content;
};

static const uint64_t kernel_addrs[] = {
	0xffffffff81000000ULL, 0xffff888000000000ULL, 0xffffffffff600000ULL,
	0xfffffffffffff000ULL, 0xffffc90000000000ULL, 0xffffea0000000000ULL,
};

static const uint64_t noncanon_addrs[] = {
	0x0000800000000000ULL, 0x8000000000000000ULL, 0x00fff00000000000ULL,
	0x7fff800000000000ULL,
};

/* Offset for @size bytes in @room: aligned, cache-line aligned or odd. */
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

static int pick_map(struct rng *r, int kind);

/*
 * Make a pointer of class @cls to @size bytes of @content (1 <= size <=
 * PG).  Classes that need something absent fall back to P_RW.
 */
static struct ptr make_ptr(struct rng *r, int cls, size_t size,
			   const void *content)
{
	struct ptr p = { .cls = cls };
	uint64_t off, k;
	int m;

	k = size > 1 ? 1 + rng_below(r, size - 1) : 1;
	switch (cls) {
	case P_RO:
		off = ptr_offset(r, 2 * PG - size);
		memcpy(fz.rw + off, content, size);
		p.addr = (uintptr_t)fz.ro + off;
		p.rd = p.det = true;
		break;
	case P_RW_RO:
		if (size < 2)
			goto rw;
		memcpy(fz.rw + PG - k, content, size);
		p.addr = (uintptr_t)fz.mix + PG - k;
		p.rd = p.det = true;
		break;
	case P_RW_NONE:
	case P_RO_NONE:
		if (size < 2)
			goto rw;
		memcpy(fz.rw + 2 * PG - k, content, k);
		p.addr = (uintptr_t)(cls == P_RW_NONE ? fz.rw : fz.ro) +
			 2 * PG - k;
		break;
	case P_NONE:
		p.addr = (uintptr_t)fz.rw + 2 * PG + ptr_offset(r, PG - size);
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
		p.rd = p.det = true;
		p.content = (const void *)(uintptr_t)p.addr;
		return p;
	case P_MAP:
		m = pick_map(r, -1);
		if (m < 0)
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
			p.rd = mp->prot[i] & (PROT_READ | PROT_WRITE);
			p.wr = mp->prot[i] & PROT_WRITE;
		}
		break;
	default:
rw:
		p.cls = P_RW;
		off = ptr_offset(r, 2 * PG - size);
		memcpy(fz.rw + off, content, size);
		p.addr = (uintptr_t)fz.rw + off;
		p.rd = p.wr = p.det = true;
		break;
	}
	if (p.det)
		p.content = content;
	return p;
}

/* A pointer class: mostly good memory when @good, else any. */
static int pick_ptr_class(struct rng *r, bool good, bool allow_map)
{
	int cls;

	if (good && rng_chance(r, 75))
		return P_RW;
	do
		cls = rng_below(r, NR_PTR);
	while (cls == P_MAP && !allow_map);
	return cls;
}

/* ---- object tables ---- */

static int pick_sys(struct rng *r)
{
	int i, n = 0, c[NR_SYS];

	for (i = 0; i < NR_SYS; i++)
		if (fz.sys[i] >= 0)
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

static int pick_vm(struct rng *r)
{
	int i, n = 0, c[NR_VMS];

	for (i = 0; i < NR_VMS; i++)
		if (fz.vms[i].used && fz.vms[i].fd >= 0)
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

static int pick_vcpu(struct rng *r)
{
	int i, n = 0, c[NR_VCPUS];

	for (i = 0; i < NR_VCPUS; i++)
		if (fz.vcpus[i].used && fz.vcpus[i].fd >= 0)
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

/* A mapping with pages left, of @kind (or any when -1). */
static int pick_map(struct rng *r, int kind)
{
	int i, n = 0, c[NR_MAPS];

	for (i = 0; i < NR_MAPS; i++)
		if (fz.maps[i].used && (kind < 0 || fz.maps[i].kind == kind))
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

/* The first unused entry of a table of structs starting with "bool used". */
#define FREE_ENTRY(arr) ({						\
	int __i, __f = -1;						\
	for (__i = 0; __i < (int)ARRAY_SIZE(arr); __i++)		\
		if (!(arr)[__i].used) {					\
			__f = __i;					\
			break;						\
		}							\
	__f;								\
})

static bool slot_mapped(int vm, uint32_t slot)
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

static bool vcpu_mapped(int v)
{
	int i;

	for (i = 0; i < NR_MAPS; i++)
		if (fz.maps[i].used && fz.maps[i].kind == MAP_RUN &&
		    fz.maps[i].obj == v)
			return true;
	return false;
}

static bool vm_mapped(int vm)
{
	int i;

	for (i = 0; i < NR_MAPS; i++)
		if (fz.maps[i].used && fz.maps[i].kind == MAP_SLOT &&
		    fz.maps[i].obj == vm)
			return true;
	return false;
}

/* Pages [a, b) of @m are gone: reserve them again if in a cell. */
static void map_pages_gone(struct fz_map *m, unsigned int a, unsigned int b,
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
static void map_resync(struct fz_map *m)
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

static struct fz_map *map_add(int kind, int obj, uint32_t slot, void *addr,
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

static int free_cell(struct rng *r)
{
	int i, n = 0, c[NR_CELLS];

	for (i = 0; i < NR_CELLS; i++)
		if (!fz.cell_refs[i])
			c[n++] = i;
	return n ? c[rng_below(r, n)] : -1;
}

static char *cell_addr(int cell)
{
	return fz.cells + (size_t)cell * MAP_PAGES * PG;
}

/* ---- the guest program and guest state ---- */

/*
 * At PROG_CODE, 64-bit.  Every pass exits to userspace with OUT, IN, an
 * MMIO write, an MMIO read, HLT and VMCALL, and to the kernel with CPUID.
 * RIP stays on an MMIO instruction: the VMM moves it (program_step()).
 */
static const uint8_t prog[] = {
	0xbb, 0x00, 0x00, 0x00, 0xc0,	/* mov ebx, PROG_MMIO */
	0xbe, 0x00, 0xe0, 0x00, 0x00,	/* mov esi, PROG_DATA */
	/* loop: */
	0xe6, 0x80,			/* out 0x80, al */
	0xff, 0xc0,			/* inc eax */
	0xe4, 0x81,			/* in al, 0x81 */
	0x89, 0x06,			/* mov [rsi], eax */
	0x89, 0x03,			/* PROG_MMIO_W: mov [rbx], eax */
	0x8b, 0x0b,			/* PROG_MMIO_R: mov ecx, [rbx] */
	0xf4,				/* hlt */
	0x0f, 0xa2,			/* cpuid */
	0xbb, 0x00, 0x00, 0x00, 0xc0,	/* mov ebx, PROG_MMIO */
	0x0f, 0x01, 0xc1,		/* vmcall */
	0xeb, 0xe7,			/* jmp loop */
};

/*
 * At MSRPROG_CODE, 64-bit: WRMSR then RDMSR of each {index, eax, edx} of
 * the table at MSRPROG_TABLE, then OUT, forever.  The #GP handler moves
 * RIP past the faulting (2-byte) instruction.
 */
static const uint8_t msrprog[] = {
	0xbe, 0x00, 0xb0, 0x00, 0x00,	/* mov esi, MSRPROG_TABLE */
	/* loop: */
	0x8b, 0x0e,			/* mov ecx, [rsi] */
	0x8b, 0x46, 0x04,		/* mov eax, [rsi + 4] */
	0x8b, 0x56, 0x08,		/* mov edx, [rsi + 8] */
	0x0f, 0x30,			/* wrmsr */
	0x0f, 0x32,			/* rdmsr */
	0x83, 0xc6, 0x0c,		/* add esi, 12 */
	0x81, 0xfe, 0x80, 0xb1, 0x00, 0x00, /* cmp esi, table end */
	0x72, 0xe9,			/* jb loop */
	0xe6, 0x80,			/* out 0x80, al */
	0xeb, 0xe0,			/* jmp to the start */
};

static const uint8_t msrprog_gp[] = {
	0x48, 0x83, 0x44, 0x24, 0x08, 0x02,	/* add qword [rsp + 8], 2 */
	0x48, 0x83, 0xc4, 0x08,			/* add rsp, 8: error code */
	0x48, 0xcf,				/* iretq */
};

/* MSRs the kernel handles, some it does not, and VMX capability MSRs */
static const uint32_t msr_indices[] = {
	0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
	0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0x277, 0x174, 0x175,
	0x176, 0x10, 0x1a0, 0x1b, 0x480, 0x48b, 0x491, 0x492, 0x3a, 0x48,
	0x8b, 0xc0010117, 0x40000000, 0xffffffff, 0,
};

/* A table of MSR accesses for the MSR program. */
static void msrprog_table(struct rng *r, uint8_t *mem)
{
	uint32_t *t = (uint32_t *)(mem + MSRPROG_TABLE);
	unsigned int i;
	uint64_t v;

	for (i = 0; i < MSRPROG_ENTRIES; i++) {
		t[3 * i] = rng_chance(r, 90) ?
			   msr_indices[rng_below(r, ARRAY_SIZE(msr_indices))] :
			   rng_u64(r);
		v = rng_value(r);
		if (rng_chance(r, 20))
			v = 0x0007040600070406ULL;	/* a valid PAT */
		t[3 * i + 1] = v;
		t[3 * i + 2] = v >> 32;
	}
}

static struct xvcpu_sregs sregs_msrprog;

static int templates_init(void)
{
	struct xvcpu_regs regs;
	uint8_t scratch[XVCPU_SETUP_TABLES_SIZE];
	int ret;

	ret = xvcpu_mode_build(XVCPU_MODE_LONG, PROG_CODE, PROG_STACK,
			       PROG_TABLES, fz.tables, &fz.prog_regs,
			       &fz.sregs_long);
	sregs_msrprog = fz.sregs_long;
	sregs_msrprog.idt.base = MSRPROG_IDT;
	sregs_msrprog.idt.limit = 0xfff;
	if (!ret)
		ret = xvcpu_mode_build(XVCPU_MODE_REAL, PROG_CODE, PROG_STACK,
				       0, NULL, &regs, &fz.sregs_real);
	if (!ret)
		ret = xvcpu_mode_build(XVCPU_MODE_PROTECTED, PROG_CODE,
				       PROG_STACK, PROG_TABLES, scratch, &regs,
				       &fz.sregs_prot);
	return ret;
}

/* Write the page tables and the programs into slot 0 at @mem. */
static void prog_write(uint8_t *mem)
{
	uint8_t *gate = mem + MSRPROG_IDT + 13 * 16;

	memcpy(mem + PROG_TABLES, fz.tables, sizeof(fz.tables));
	memcpy(mem + PROG_CODE, prog, sizeof(prog));
	memcpy(mem + MSRPROG_CODE, msrprog, sizeof(msrprog));
	memcpy(mem + MSRPROG_GP, msrprog_gp, sizeof(msrprog_gp));
	/* #GP: a 64-bit interrupt gate to MSRPROG_GP in the code segment */
	memset(gate, 0, 16);
	gate[0] = MSRPROG_GP & 0xff;
	gate[1] = (MSRPROG_GP >> 8) & 0xff;
	gate[2] = XVCPU_SETUP_SEL_CODE;
	gate[5] = 0x8e;
}

static void gen_regs(struct rng *r, struct xvcpu_regs *regs)
{
	uint64_t *f = (uint64_t *)regs;
	unsigned int i, n = sizeof(*regs) / 8;

	switch (rng_below(r, 5)) {
	case 0:
		rng_bytes(r, regs, sizeof(*regs));
		return;
	case 1:
		for (i = 0; i < n; i++)
			f[i] = rng_value(r);
		break;
	default:
		*regs = fz.prog_regs;
		for (i = rng_below(r, 4); i > 0; i--)
			f[rng_below(r, n)] = rng_value(r);
		break;
	}
	if (rng_chance(r, 80))
		regs->rflags = RFLAGS_FIXED |
			       (rng_u64(r) & RFLAGS_DEFINED &
				rng_value(r));
}

/* Mutate one field of @s. */
static void mutate_sregs(struct rng *r, struct xvcpu_sregs *s)
{
	struct xvcpu_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	struct xvcpu_segment *g = segs[rng_below(r, ARRAY_SIZE(segs))];
	struct xvcpu_dtable *d = rng_chance(r, 50) ? &s->gdt : &s->idt;
	__u64 *cr[] = { &s->cr0, &s->cr2, &s->cr3, &s->cr4, &s->efer };
	uint64_t v = rng_value(r);

	switch (rng_below(r, 20)) {
	case 0: g->base = v; break;
	case 1: g->limit = v; break;
	case 2: g->selector = v; break;
	case 3: g->type = rng_below(r, 16); break;
	case 4: g->present ^= 1; break;
	case 5: g->dpl = rng_below(r, 4); break;
	case 6: g->db ^= 1; break;
	case 7: g->s ^= 1; break;
	case 8: g->l ^= 1; break;
	case 9: g->g ^= 1; break;
	case 10: g->unusable ^= 1; break;
	case 11: g->avl = v; break;
	case 12: d->base = v; break;
	case 13: d->limit = v; break;
	case 14:
		if (rng_chance(r, 20))
			d->pad[rng_below(r, 3)] = v | 1;
		else
			g->pad = rng_chance(r, 20) ? (v | 1) : 0;
		break;
	case 15:
		if (rng_chance(r, 20))
			s->reserved[rng_below(r, 4)] = v | 1;
		break;
	default:
		/* a control register or EFER: flip a bit, or a boundary */
		if (rng_chance(r, 75))
			*cr[rng_below(r, ARRAY_SIZE(cr))] ^=
				1ULL << rng_below(r, 64);
		else
			*cr[rng_below(r, ARRAY_SIZE(cr))] = v;
		break;
	}
}

static void gen_sregs(struct rng *r, struct xvcpu_sregs *s)
{
	const struct xvcpu_sregs *base[] = {
		&fz.sregs_long, &fz.sregs_long, &fz.sregs_real, &fz.sregs_prot,
	};
	unsigned int n;

	switch (rng_below(r, 10)) {
	case 0:
		rng_bytes(r, s, sizeof(*s));
		return;
	case 1:
		memset(s, 0, sizeof(*s));
		break;
	default:
		*s = *base[rng_below(r, ARRAY_SIZE(base))];
		break;
	}
	for (n = rng_below(r, 4); n > 0; n--)
		mutate_sregs(r, s);
}

static int pick_used_slot(struct rng *r, const struct fz_vm *vm)
{
	unsigned int i, n = 0, c[MAX_SLOTS];

	for (i = 0; i < fz.nr_slots; i++)
		if (vm->slots[i].used)
			c[n++] = i;
	return n ? (int)c[rng_below(r, n)] : -1;
}

static const uint64_t big_sizes[] = {
	64ULL << 20, 256ULL << 20, 1ULL << 30, 0, 0, EPT_LIMIT,
	EPT_LIMIT - PG, 1ULL << 40,
};

static void gen_region(struct rng *r, const struct fz_vm *vm,
		       struct xvcpu_memory_region *mr)
{
	int used = vm ? pick_used_slot(r, vm) : -1;
	const struct fz_slot *s = used >= 0 ? &vm->slots[used] : NULL;
	uint64_t size;

	memset(mr, 0, sizeof(*mr));
	switch (rng_below(r, 10)) {
	case 0:
		mr->slot = rng_value(r);
		break;
	case 1:
	case 2:
		if (used >= 0) {
			mr->slot = used;
			break;
		}
		/* fall through */
	default:
		mr->slot = rng_below(r, fz.nr_slots);
		break;
	}
	if (rng_chance(r, 15))
		mr->flags = rng_chance(r, 75) ? XVCPU_MEM_READONLY :
			    rng_u64(r);

	switch (rng_below(r, 12)) {
	case 0:
	case 1:
	case 2:
		size = 0;
		break;
	case 3:
	case 4:
	case 5:
	case 6:
		size = (1 + rng_below(r, 512)) * PG;
		break;
	case 7:
		size = (1 + rng_below(r, 2)) << 21;
		break;
	case 8:
		size = big_sizes[rng_below(r, ARRAY_SIZE(big_sizes))];
		if (!size)
			size = fz.mem_limit + PG - rng_below(r, 3) * PG;
		break;
	case 9:
		size = rng_value(r);
		break;
	case 10:
		size = (1 + rng_below(r, 16)) * PG - 1 - rng_below(r, PG - 1);
		break;
	default:
		size = PG;
		break;
	}
	mr->memory_size = size;

	switch (rng_below(r, 10)) {
	case 0:
		if (s) {
			switch (rng_below(r, 4)) {
			case 0: mr->guest_phys_addr = s->gpa + s->size; break;
			case 1: mr->guest_phys_addr = s->gpa - size; break;
			case 2: mr->guest_phys_addr = s->gpa + s->size - PG; break;
			default: mr->guest_phys_addr = s->gpa; break;
			}
			break;
		}
		/* fall through */
	case 1:
		mr->guest_phys_addr = rng_value(r);
		break;
	case 2:
		mr->guest_phys_addr = EPT_LIMIT - size +
				      (rng_below(r, 3) - 1) * PG;
		break;
	case 3:
		mr->guest_phys_addr = rng_below(r, 1 << 20) * PG +
				      1 + rng_below(r, PG - 1);
		break;
	case 4:
		mr->guest_phys_addr = rng_below(r, 2048) << 21;
		break;
	case 5:
		/* Where the guest program does MMIO: now memory, for a while */
		mr->guest_phys_addr = PROG_MMIO - rng_below(r, 2) * PG;
		break;
	default:
		mr->guest_phys_addr = rng_below(r, 1 << 20) * PG;
		break;
	}
	if (rng_chance(r, 3))
		mr->reserved[rng_below(r, 2)] = rng_value(r) | 1;
	if (rng_chance(r, 10))
		mr->mmap_offset = rng_u64(r);	/* an output: ignored */
}

/* ---- ioctl numbers ---- */

struct known_cmd {
	unsigned int cmd;
	int kind;
	unsigned int size;	/* of the structure argument, or 0 */
	const char *name;
};

enum {
	K_GET_API_VERSION, K_CHECK_CAP, K_CREATE_VM, K_GET_VCPU_MMAP_SIZE,
	K_SET_MEMORY_REGION, K_CREATE_VCPU, K_RUN,
};

static const struct known_cmd known[] = {
	{ XVCPU_GET_API_VERSION, FD_SYS, 0, "GET_API_VERSION" },
	{ XVCPU_CHECK_CAP, FD_SYS, 0, "CHECK_CAP" },
	{ XVCPU_CREATE_VM, FD_SYS, 0, "CREATE_VM" },
	{ XVCPU_GET_VCPU_MMAP_SIZE, FD_SYS, 0, "GET_VCPU_MMAP_SIZE" },
	{ XVCPU_SET_MEMORY_REGION, FD_VM, sizeof(struct xvcpu_memory_region),
	  "SET_MEMORY_REGION" },
	{ XVCPU_CREATE_VCPU, FD_VM, 0, "CREATE_VCPU" },
	{ XVCPU_RUN, FD_VCPU, 0, "RUN" },
	{ XVCPU_GET_REGS, FD_VCPU, sizeof(struct xvcpu_regs), "GET_REGS" },
	{ XVCPU_SET_REGS, FD_VCPU, sizeof(struct xvcpu_regs), "SET_REGS" },
	{ XVCPU_GET_SREGS, FD_VCPU, sizeof(struct xvcpu_sregs), "GET_SREGS" },
	{ XVCPU_SET_SREGS, FD_VCPU, sizeof(struct xvcpu_sregs), "SET_SREGS" },
	{ XVCPU_GET_EXIT_INFO, FD_VCPU, sizeof(struct xvcpu_exit_info),
	  "GET_EXIT_INFO" },
#ifdef XVCPU_SET_MSR_POLICY
	{ XVCPU_SET_MSR_POLICY, FD_VM, sizeof(struct xvcpu_msr_policy),
	  "SET_MSR_POLICY" },
#endif
};

static const struct known_cmd *find_known(unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (known[i].cmd == cmd)
			return &known[i];
	return NULL;
}

static bool xvcpu_type(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == XVCPUIO;
}

static int known_of_kind(struct rng *r, int kind)
{
	int i, n = 0, c[ARRAY_SIZE(known)];

	for (i = 0; i < (int)ARRAY_SIZE(known); i++)
		if (kind < 0 || known[i].kind == kind)
			c[n++] = i;
	return c[rng_below(r, n)];
}

static const unsigned int ioc_sizes[] = {
	0, 1, 8, 64, 144, 256, 312, 0x3fff,
};

/* An ioctl number for an fd of @kind; upper bits sometimes set too. */
static unsigned long gen_cmd(struct rng *r, int kind)
{
	unsigned int c = rng_below(r, 100), cmd;

	if (c < 55)
		return known[known_of_kind(r, kind)].cmd;
	if (c < 65)
		return known[known_of_kind(r, -1)].cmd;
	if (c < 80)
		return _IOC(rng_below(r, 4), XVCPUIO, rng_below(r, 64),
			    ioc_sizes[rng_below(r, ARRAY_SIZE(ioc_sizes))]);
	if (c < 90) {
		/* a known number with another direction or size */
		cmd = known[known_of_kind(r, kind)].cmd;
		return cmd ^ (1U << (_IOC_SIZESHIFT + rng_below(r, 16)));
	}
	cmd = rng_u64(r);
	if (rng_chance(r, 50))
		return cmd;
	return (rng_u64(r) << 32) | cmd;
}

/* ---- what the module should answer ---- */

static long cap_value(unsigned long cap)
{
	return cap < ARRAY_SIZE(fz.cap) ? fz.cap[cap] : 0;
}

static void predict_sys(struct expect *e, unsigned int cmd, unsigned long arg)
{
	if (!xvcpu_type(cmd)) {
		e->anything = true;
		return;
	}
	if (arg && cmd != XVCPU_CHECK_CAP) {
		exp_err(e, EINVAL);
		return;
	}
	switch (cmd) {
	case XVCPU_GET_API_VERSION:
		e->ok = XVCPU_API_VERSION;
		break;
	case XVCPU_CHECK_CAP:
		e->ok = cap_value(arg);
		break;
	case XVCPU_CREATE_VM:
		e->ok = OK_ANY;
		exp_err(e, ENOMEM);
		exp_err(e, EMFILE);
		break;
	case XVCPU_GET_VCPU_MMAP_SIZE:
		e->ok = fz.mmap_size;
		break;
	default:
		exp_err(e, ENOTTY);
		break;
	}
}

/* The answer to SET_MEMORY_REGION @mr on @vm: 0 or an errno. */
static int region_verdict(const struct fz_vm *vm,
			  const struct xvcpu_memory_region *mr)
{
	const struct fz_slot *s;
	unsigned int i;
	uint64_t end;

	if (mr->reserved[0] || mr->reserved[1])
		return EINVAL;
	if (mr->slot >= fz.nr_slots || mr->flags & ~XVCPU_MEM_READONLY)
		return EINVAL;
	s = &vm->slots[mr->slot];
	if (!mr->memory_size) {
		if (!s->used)
			return ENOENT;
		return slot_mapped(vm - fz.vms, mr->slot) ? EBUSY : 0;
	}
	if ((mr->guest_phys_addr | mr->memory_size) & (PG - 1))
		return EINVAL;
	end = mr->guest_phys_addr + mr->memory_size;
	if (end < mr->guest_phys_addr || end > EPT_LIMIT)
		return EINVAL;
	if (s->used)
		return EEXIST;
	for (i = 0; i < fz.nr_slots; i++) {
		const struct fz_slot *o = &vm->slots[i];

		if (o->used && mr->guest_phys_addr < o->gpa + o->size &&
		    o->gpa < end)
			return EEXIST;
	}
	if (mr->memory_size > fz.mem_limit - vm->mem_bytes)
		return E2BIG;
	return 0;
}

static void predict_vm(struct expect *e, const struct fz_vm *vm,
		       unsigned int cmd, unsigned long arg,
		       const struct ptr *p)
{
	if (!xvcpu_type(cmd)) {
		e->anything = true;
		return;
	}
	switch (cmd) {
	case XVCPU_SET_MEMORY_REGION:
		if (!p->rd) {
			exp_err(e, EFAULT);
		} else if (!p->det || vm->lost) {
			e->ok = 0;
			exp_err(e, EINVAL);
			exp_err(e, EEXIST);
			exp_err(e, ENOENT);
			exp_err(e, EBUSY);
			exp_err(e, E2BIG);
			exp_err(e, EFAULT);
		} else {
			int v = region_verdict(vm, p->content);

			if (v)
				exp_err(e, v);
			else if (!p->wr)
				exp_err(e, EFAULT);	/* see KNOWN_ */
			else
				e->ok = 0;
		}
		break;
#ifdef XVCPU_SET_MSR_POLICY
	case XVCPU_SET_MSR_POLICY:
		if (!p->rd) {
			exp_err(e, EFAULT);
		} else if (!p->det) {
			e->ok = 0;
			exp_err(e, EINVAL);
		} else {
			const struct xvcpu_msr_policy *mp = p->content;

			if (mp->pad || mp->reserved[0] || mp->reserved[1] ||
			    mp->reserved[2] || mp->flags & ~XVCPU_MSR_EXIT_UNKNOWN)
				exp_err(e, EINVAL);
			else
				e->ok = 0;
		}
		break;
#endif
	case XVCPU_CREATE_VCPU:
		if (arg >= fz.max_vcpus) {
			exp_err(e, EINVAL);
		} else if (vm->ids & (1U << arg)) {
			exp_err(e, EEXIST);
		} else {
			e->ok = OK_ANY;
			exp_err(e, ENOMEM);
			exp_err(e, EMFILE);
		}
		break;
	default:
		exp_err(e, ENOTTY);
		break;
	}
}

/* The answer to SET_SREGS @s: 0 or EINVAL. */
static int sregs_verdict(const struct xvcpu_sregs *s)
{
	const struct xvcpu_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(s->reserved); i++)
		if (s->reserved[i])
			return EINVAL;
	for (i = 0; i < ARRAY_SIZE(segs); i++)
		if (segs[i]->pad)
			return EINVAL;
	for (i = 0; i < 3; i++)
		if (s->gdt.pad[i] || s->idt.pad[i])
			return EINVAL;
	if (s->cr0 & ~CR0_KNOWN || s->cr4 & ~fz.cr4_ok ||
	    s->efer & ~EFER_KNOWN)
		return EINVAL;
	return 0;
}

static bool rflags_ok(uint64_t rflags)
{
	return (rflags & ~RFLAGS_DEFINED) == RFLAGS_FIXED;
}

static void predict_vcpu(struct expect *e, bool busy, unsigned int cmd,
			 unsigned long arg, const struct ptr *p)
{
	int v;

	if (!xvcpu_type(cmd)) {
		e->anything = true;
		return;
	}
	/* Another thread in an ioctl of the vCPU: refused first */
	if (busy)
		exp_err(e, EBUSY);
	switch (cmd) {
	case XVCPU_RUN:
		if (arg) {
			exp_err(e, EINVAL);
			break;
		}
		e->ok = 0;
		exp_err(e, EINTR);
		exp_err(e, ENOMEM);
		break;
	case XVCPU_GET_REGS:
	case XVCPU_GET_SREGS:
	case XVCPU_GET_EXIT_INFO:
		if (p->wr)
			e->ok = 0;
		else
			exp_err(e, EFAULT);
		break;
	case XVCPU_SET_REGS:
		if (!p->rd) {
			exp_err(e, EFAULT);
		} else if (!p->det) {
			e->ok = 0;
			exp_err(e, EINVAL);
		} else if (rflags_ok(((const struct xvcpu_regs *)
				      p->content)->rflags)) {
			e->ok = 0;
		} else {
			exp_err(e, EINVAL);
		}
		break;
	case XVCPU_SET_SREGS:
		if (!p->rd) {
			exp_err(e, EFAULT);
			break;
		}
		v = p->det ? sregs_verdict(p->content) : -1;
		if (v <= 0)
			e->ok = 0;
		if (v)
			exp_err(e, EINVAL);
		break;
	default:
		exp_err(e, ENOTTY);
		break;
	}
}

/* ---- running guests: timers, exits, runner threads ---- */

static void on_kick(int sig)
{
	(void)sig;
}

/* A timer that sends SIGUSR1 to the calling thread. */
static int thread_timer(timer_t *timer)
{
	struct sigevent sev;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev._sigev_un._tid = syscall(SYS_gettid);
	return timer_create(CLOCK_MONOTONIC, &sev, timer) ? -errno : 0;
}

static void timer_arm(timer_t timer, long ns)
{
	struct itimerspec its = { .it_value.tv_nsec = ns };

	timer_settime(timer, 0, &its, NULL);
}

/*
 * XVCPU_RUN that a guest spinning without exits cannot hold forever: the
 * timer's signal makes it return -EINTR.  Returns ioctl()'s result, errno
 * in *err.
 */
static long run_timed(int fd, unsigned long cmd, unsigned long arg,
		      timer_t timer, long ns, int *err)
{
	long ret;

	timer_arm(timer, ns);
	ret = ioctl(fd, cmd, arg);
	*err = errno;
	timer_arm(timer, 0);
	count_call();
	return ret;
}

static long run_bounded(int fd, unsigned long cmd, unsigned long arg,
			timer_t timer, int *err)
{
	return run_timed(fd, cmd, arg, timer, RUN_TIMEOUT_NS, err);
}

struct exit_counts {
	unsigned long exits[EXIT_LAST + 1];
	unsigned long vmfail, fail_entry;
};

/*
 * VMLAUNCH/VMRESUME itself failed: the controls or host state the kernel
 * wrote are wrong, whatever the guest state userspace gave.
 */
static void check_vmfail(const struct xvcpu_run *run, struct exit_counts *c,
			 const char *who)
{
	uint64_t why = run->fail_entry.hardware_entry_failure_reason;

	if (run->exit_reason != XVCPU_EXIT_FAIL_ENTRY || !(why >> 63))
		return;
	c->vmfail++;
	fail("%s: VM entry failed with VM-instruction error %llu",
	     who, (unsigned long long)(why & 0xffffffff));
}

/*
 * A failed VM entry that is not a VMfail: the SDM's basic reasons for it
 * are invalid guest state (33), MSR loading (34) and machine check (41).
 */
static void check_entry_failure(const struct xvcpu_run *run)
{
	uint64_t why = run->fail_entry.hardware_entry_failure_reason;
	unsigned int basic = why & 0xffff;

	if (why >> 63 || (basic == 33 || basic == 34 || basic == 41))
		return;
	known_issue(KNOWN_ENTRY_FAILURE, "reason %#llx",
		    (unsigned long long)why);
}

/*
 * Check the run page after XVCPU_RUN returned 0 (@ok) or -EINTR, with no
 * other thread running the vCPU meanwhile.
 */
static void check_run_page(const struct xvcpu_run *run, bool ok,
			   struct exit_counts *c, const char *who)
{
	uint32_t reason = run->exit_reason;

	if (!ok) {
		if (reason != XVCPU_EXIT_INTR)
			fail("%s: RUN returned EINTR, exit_reason %u", who,
			     reason);
		return;
	}
	if (reason == XVCPU_EXIT_UNKNOWN || reason == XVCPU_EXIT_INTR ||
	    reason > EXIT_LAST) {
		fail("%s: RUN returned 0, exit_reason %u", who, reason);
		return;
	}
	c->exits[reason]++;
	switch (reason) {
	case XVCPU_EXIT_IO:
		if (run->io.direction > XVCPU_IO_OUT ||
		    (run->io.size != 1 && run->io.size != 2 &&
		     run->io.size != 4) || !run->io.count)
			fail("%s: IO exit dir %u size %u port %#x count %u",
			     who, run->io.direction, run->io.size,
			     run->io.port, run->io.count);
		break;
	case XVCPU_EXIT_MMIO:
		if (!run->mmio.access ||
		    run->mmio.access & ~(XVCPU_MMIO_READ | XVCPU_MMIO_WRITE |
					 XVCPU_MMIO_FETCH))
			fail("%s: MMIO exit gpa %#llx access %#x", who,
			     (unsigned long long)run->mmio.phys_addr,
			     run->mmio.access);
		break;
	case XVCPU_EXIT_INTERNAL_ERROR:
		if (run->internal.suberror != XVCPU_INTERNAL_UNHANDLED_EXIT ||
		    run->internal.ndata != 8)
			fail("%s: internal error suberror %u ndata %u", who,
			     run->internal.suberror, run->internal.ndata);
		break;
	case XVCPU_EXIT_FAIL_ENTRY:
		c->fail_entry++;
		check_entry_failure(run);
		break;
#ifdef XVCPU_EXIT_MSR
	case XVCPU_EXIT_MSR:
		if (run->msr.direction > XVCPU_MSR_WRITE)
			fail("%s: MSR exit direction %u", who,
			     run->msr.direction);
		break;
#endif
	default:
		break;
	}
	check_vmfail(run, c, who);
}

/*
 * After an exit of the guest program: complete IN and VMCALL with @v and
 * move RIP past an MMIO instruction.  Other exits and other code are left
 * alone.  Returns false if an ioctl that must work failed.
 */
static bool program_step(int fd, struct xvcpu_run *run, uint64_t v,
			 const char *who)
{
	struct xvcpu_regs regs;
	struct expect e;
	long ret;
	int err;

	switch (run->exit_reason) {
	case XVCPU_EXIT_IO:
		if (run->io.direction == XVCPU_IO_IN)
			run->io.data = v;
		return true;
	case XVCPU_EXIT_HYPERCALL:
		run->hypercall.ret = v;
		return true;
#ifdef XVCPU_EXIT_MSR
	case XVCPU_EXIT_MSR:
		run->msr.data = v;
		run->msr.error = (v >> 60) == 0xf;
		return true;
#endif
	case XVCPU_EXIT_MMIO:
		break;
	default:
		return true;
	}
	exp_init(&e);
	e.ok = 0;
	exp_err(&e, EBUSY);
	ret = ioctl(fd, XVCPU_GET_REGS, &regs);
	err = errno;
	count_call();
	if (!check(&e, ret, err, who) || ret)
		return false;
	if (regs.rip != PROG_MMIO_W && regs.rip != PROG_MMIO_R)
		return true;
	regs.rip += 2;
	regs.rcx = v;
	ret = ioctl(fd, XVCPU_SET_REGS, &regs);
	err = errno;
	count_call();
	return check(&e, ret, err, who);
}

/*
 * Put a vCPU at the start of the program (or of the MSR program); EBUSY
 * tolerated.
 */
static void program_reset(int fd, bool msr, const char *who)
{
	struct xvcpu_regs regs = fz.prog_regs;
	struct expect e;
	long ret;
	int err;

	exp_init(&e);
	e.ok = 0;
	exp_err(&e, EBUSY);
	ret = ioctl(fd, XVCPU_SET_SREGS,
		    msr ? &sregs_msrprog : &fz.sregs_long);
	err = errno;
	count_call();
	check(&e, ret, err, who);
	if (msr)
		regs.rip = MSRPROG_CODE;
	ret = ioctl(fd, XVCPU_SET_REGS, &regs);
	err = errno;
	count_call();
	check(&e, ret, err, who);
}

enum job_kind { JOB_PROGRAM, JOB_MSR, JOB_RANDOM_STATE, JOB_AS_IS };

struct runner {
	int index;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool has_job, quit, stop;	/* under lock; stop is a hint */
	bool active;			/* main's view: given, not joined */
	timer_t timer;
	/* the job, set by main before has_job */
	int vcpu;			/* main's index, for main only */
	int fd;				/* a dup of the vCPU fd, closed here */
	uint8_t *mem;			/* the VM's slot 0 mapping, or NULL */
	int kind;
	unsigned int runs;
	uint64_t seed;
	/* results, read by main after joining */
	struct exit_counts c;
	unsigned long eintr, ebusy;
};

static void runner_job(struct runner *rn)
{
	struct rng rng = { rn->seed };
	char *page = fz.runner_pages + rn->index * PG;
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;
	struct xvcpu_run *run;
	char who[32];
	unsigned int i;
	struct expect e;
	long ret;
	int err;

	snprintf(who, sizeof(who), "runner %d", rn->index);
	run = mmap(page, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		   rn->fd, 0);
	count_call();
	if (run == MAP_FAILED) {
		fail("%s: mmap of the run page: %s", who, strerror(errno));
		reserve(page, PG);
		goto out;
	}

	if (rn->mem && rn->kind != JOB_AS_IS) {
		prog_write(rn->mem);
		if (rn->kind == JOB_MSR)
			msrprog_table(&rng, rn->mem);
	}
	if (rn->kind == JOB_PROGRAM || rn->kind == JOB_MSR) {
		program_reset(rn->fd, rn->kind == JOB_MSR, who);
	} else if (rn->kind == JOB_RANDOM_STATE) {
		gen_sregs(&rng, &sregs);
		gen_regs(&rng, &regs);
		ret = ioctl(rn->fd, XVCPU_SET_SREGS, &sregs);
		count_call();
		ret = ioctl(rn->fd, XVCPU_SET_REGS, &regs);
		count_call();
	}

	exp_init(&e);
	predict_vcpu(&e, true, XVCPU_RUN, 0, NULL);
	for (i = 0; i < rn->runs; i++) {
		uint64_t v = rng_u64(&rng);

		if (__atomic_load_n(&rn->stop, __ATOMIC_RELAXED))
			break;
		run->immediate_exit = 0;
		ret = run_bounded(rn->fd, XVCPU_RUN, 0, rn->timer, &err);
		if (!check(&e, ret, err, who))
			break;
		if (ret < 0) {
			if (err == EINTR)
				rn->eintr++;
			else if (err == EBUSY)
				rn->ebusy++;
			continue;
		}
		/*
		 * Main may run or change this vCPU too; only what cannot
		 * depend on that is checked.
		 */
		if (run->exit_reason <= EXIT_LAST &&
		    run->exit_reason != XVCPU_EXIT_INTR)
			rn->c.exits[run->exit_reason]++;
		check_vmfail(run, &rn->c, who);
		if (run->exit_reason == XVCPU_EXIT_FAIL_ENTRY)
			check_entry_failure(run);
		if (!program_step(rn->fd, run, v, who))
			break;
		switch (run->exit_reason) {
		case XVCPU_EXIT_SHUTDOWN:
		case XVCPU_EXIT_FAIL_ENTRY:
		case XVCPU_EXIT_INTERNAL_ERROR:
			if (rn->kind == JOB_PROGRAM || rn->kind == JOB_MSR)
				program_reset(rn->fd, rn->kind == JOB_MSR, who);
			break;
		}
	}
	/*
	 * Unmap by mapping the reservation over it: a munmap() would leave
	 * a hole that main's mmap(NULL) could take before it is reserved.
	 */
	reserve(page, PG);
	count_call();
out:
	close(rn->fd);
	count_call();
}

static void *runner_main(void *arg)
{
	struct runner *rn = arg;

	in_runner = true;
	if (thread_timer(&rn->timer)) {
		fail("runner %d: timer_create: %s", rn->index,
		     strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&rn->lock);
	for (;;) {
		while (!rn->has_job && !rn->quit)
			pthread_cond_wait(&rn->cond, &rn->lock);
		if (rn->quit)
			break;
		pthread_mutex_unlock(&rn->lock);
		runner_job(rn);
		pthread_mutex_lock(&rn->lock);
		rn->has_job = false;
		pthread_cond_broadcast(&rn->cond);
	}
	pthread_mutex_unlock(&rn->lock);
	timer_delete(rn->timer);
	return NULL;
}

static int runners_start(int n)
{
	pthread_condattr_t ca;
	int i, ret;

	fz.runners = calloc(n, sizeof(*fz.runners));
	if (!fz.runners)
		return -ENOMEM;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		struct runner *rn = &fz.runners[i];

		rn->index = i;
		rn->vcpu = -1;
		pthread_mutex_init(&rn->lock, NULL);
		pthread_cond_init(&rn->cond, &ca);
		ret = pthread_create(&rn->thread, NULL, runner_main, rn);
		if (ret)
			return -ret;
		fz.nr_runners++;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

static void gc(void);

/*
 * Wait for @rn's job to end (after a while, ask it to stop), and take its
 * results.  The vCPU it held may go away now.
 */
static void runner_join(struct runner *rn)
{
	struct timespec ts;
	uint64_t t;

	if (!rn->active)
		return;
	pthread_mutex_lock(&rn->lock);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = ts.tv_sec * 1000000000ULL + ts.tv_nsec + JOIN_WAIT_NS;
	ts.tv_sec = t / 1000000000ULL;
	ts.tv_nsec = t % 1000000000ULL;
	while (rn->has_job) {
		if (pthread_cond_timedwait(&rn->cond, &rn->lock, &ts) ==
		    ETIMEDOUT) {
			__atomic_store_n(&rn->stop, true, __ATOMIC_RELAXED);
			pthread_kill(rn->thread, SIGUSR1);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 10 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		}
	}
	pthread_mutex_unlock(&rn->lock);
	rn->active = false;
	fz.vcpus[rn->vcpu].runner = -1;
	rn->vcpu = -1;
	fz.run_eintr += rn->eintr;
	fz.run_ebusy += rn->ebusy;
	for (t = 0; t < ARRAY_SIZE(fz.exits); t++)
		fz.exits[t] += rn->c.exits[t];
	fz.vmfail += rn->c.vmfail;
	fz.fail_entry += rn->c.exits[XVCPU_EXIT_FAIL_ENTRY];
	memset(&rn->c, 0, sizeof(rn->c));
	rn->eintr = rn->ebusy = 0;
	gc();
}

static void runner_give(struct runner *rn, int vcpu, int fd, uint8_t *mem,
			int kind, unsigned int runs, uint64_t seed)
{
	rn->vcpu = vcpu;
	rn->fd = fd;
	rn->mem = mem;
	rn->kind = kind;
	rn->runs = runs;
	rn->seed = seed;
	rn->active = true;
	fz.vcpus[vcpu].runner = rn->index;
	pthread_mutex_lock(&rn->lock);
	rn->stop = false;
	rn->has_job = true;
	pthread_cond_broadcast(&rn->cond);
	pthread_mutex_unlock(&rn->lock);
}

static void runners_stop(void)
{
	int i;

	for (i = 0; i < fz.nr_runners; i++)
		runner_join(&fz.runners[i]);
	for (i = 0; i < fz.nr_runners; i++) {
		struct runner *rn = &fz.runners[i];

		pthread_mutex_lock(&rn->lock);
		rn->quit = true;
		pthread_cond_broadcast(&rn->cond);
		pthread_mutex_unlock(&rn->lock);
		pthread_join(rn->thread, NULL);
	}
	free(fz.runners);
	fz.runners = NULL;
	fz.nr_runners = 0;
}

/* ---- object lifetimes ---- */

/* Forget objects the kernel has freed; unmap code of VMs nobody uses. */
static void gc(void)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		struct fz_vcpu *v = &fz.vcpus[i];

		if (!v->used || v->fd >= 0 || v->runner >= 0 || vcpu_mapped(i))
			continue;
		v->used = false;
		fz.vms[v->vm].ids &= ~(1U << v->id);
		fz.vms[v->vm].nr_vcpus--;
	}
	for (i = 0; i < NR_VMS; i++) {
		struct fz_vm *vm = &fz.vms[i];

		if (!vm->used || vm->fd >= 0 || vm->nr_vcpus)
			continue;
		if (vm->code) {
			munmap(vm->code, PROG_SLOT_SIZE);
			count_call();
			vm->code = NULL;
		}
		if (!vm_mapped(i))
			vm->used = false;
	}
}

static long do_ioctl(int fd, unsigned long cmd, unsigned long arg, int *err)
{
	long ret = ioctl(fd, cmd, arg);

	*err = errno;
	count_call();
	return ret;
}

static void do_close(int fd)
{
	if (close(fd))
		fail("close(%d): %s", fd, strerror(errno));
	count_call();
}

static void region_apply(int vmi, const struct xvcpu_memory_region *mr);

/* SET_MEMORY_REGION that must succeed, on a VM whose model is exact. */
static bool region_set(int vmi, uint32_t slot, uint64_t gpa, uint64_t size)
{
	struct xvcpu_memory_region mr;
	struct expect e;
	long ret;
	int err;

	memset(&mr, 0, sizeof(mr));
	mr.slot = slot;
	mr.guest_phys_addr = gpa;
	mr.memory_size = size;
	exp_init(&e);
	e.ok = 0;
	ret = do_ioctl(fz.vms[vmi].fd, XVCPU_SET_MEMORY_REGION,
		       (uintptr_t)&mr, &err);
	if (!check(&e, ret, err, "SET_MEMORY_REGION (setup)"))
		return false;
	if (size && mr.mmap_offset != XVCPU_MMAP_SLOT_OFFSET(slot))
		fail("SET_MEMORY_REGION: mmap_offset %#llx for slot %u",
		     (unsigned long long)mr.mmap_offset, slot);
	region_apply(vmi, &mr);
	return true;
}

/*
 * A slot that is too large to keep: touch its last page through a
 * mapping, then delete it.
 */
static void region_transient(int vmi, uint32_t slot)
{
	struct fz_vm *vm = &fz.vms[vmi];
	uint64_t size = vm->slots[slot].size;
	volatile char *p;

	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, vm->fd,
		 XVCPU_MMAP_SLOT_OFFSET(slot) + size - PG);
	count_call();
	if (p == MAP_FAILED) {
		fail("mmap of the last page of slot %u (%#llx bytes): %s",
		     slot, (unsigned long long)size, strerror(errno));
	} else {
		p[PG - 1] = p[0] + 1;
		munmap((void *)p, PG);
		count_call();
	}
	region_set(vmi, slot, 0, 0);
}

static void region_apply(int vmi, const struct xvcpu_memory_region *mr)
{
	struct fz_vm *vm = &fz.vms[vmi];
	struct fz_slot *s = &vm->slots[mr->slot];

	if (!mr->memory_size) {
		vm->mem_bytes -= s->size;
		memset(s, 0, sizeof(*s));
		return;
	}
	s->used = true;
	s->flags = mr->flags;
	s->gpa = mr->guest_phys_addr;
	s->size = mr->memory_size;
	vm->mem_bytes += s->size;
	if ((s->size > SLOT_KEEP_MAX || vm->mem_bytes > VM_KEEP_MAX) &&
	    vm->fd >= 0)
		region_transient(vmi, mr->slot);
}

/* A new VM fd: keep it (a prepared VM has the program in slot 0). */
static void adopt_vm(int fd, bool prepare)
{
	int i = FREE_ENTRY(fz.vms);
	struct fz_vm *vm;
	void *mem;

	if (i < 0) {
		do_close(fd);
		return;
	}
	vm = &fz.vms[i];
	memset(vm, 0, sizeof(*vm));
	vm->used = true;
	vm->fd = fd;
	vlog("VM %d: fd %d%s", i, fd, prepare ? ", prepared" : "");
	if (!prepare)
		return;
	if (!region_set(i, 0, 0, PROG_SLOT_SIZE))
		return;
	mem = mmap(NULL, PROG_SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, XVCPU_MMAP_SLOT_OFFSET(0));
	count_call();
	if (mem == MAP_FAILED) {
		fail("mmap of slot 0: %s", strerror(errno));
		return;
	}
	vm->code = mem;
	prog_write(mem);
}

static void adopt_vcpu(int vmi, unsigned int id, int fd, bool init,
		       bool map_run)
{
	int i = FREE_ENTRY(fz.vcpus);
	struct fz_vcpu *v;
	void *run;

	if (i < 0) {
		do_close(fd);
		return;
	}
	v = &fz.vcpus[i];
	v->used = true;
	v->fd = fd;
	v->vm = vmi;
	v->id = id;
	v->runner = -1;
	fz.vms[vmi].ids |= 1U << id;
	fz.vms[vmi].nr_vcpus++;
	vlog("vCPU %d: VM %d id %u fd %d", i, vmi, id, fd);
	if (init && fz.vms[vmi].code)
		program_reset(fd, false, "main");
	if (!map_run)
		return;
	/* As a VMM does: the run page, mapped once */
	run = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	count_call();
	if (run == MAP_FAILED) {
		fail("mmap of a new vCPU's run page: %s", strerror(errno));
	} else if (!map_add(MAP_RUN, i, 0, run, 1, PROT_READ | PROT_WRITE,
			    -1)) {
		munmap(run, PG);
		count_call();
	}
}

/* ---- operations ---- */

static void op_open_sys(struct rng *r)
{
	int flags = rng_chance(r, 20) ? O_RDONLY : O_RDWR;
	int i, fd;

	fd = open(XVCPU_DEV, flags | O_CLOEXEC);
	count_call();
	if (fd < 0) {
		fail("open(%s): %s", XVCPU_DEV, strerror(errno));
		return;
	}
	for (i = 0; i < NR_SYS; i++) {
		if (fz.sys[i] < 0) {
			fz.sys[i] = fd;
			return;
		}
	}
	do_close(fd);
}

static void op_close_sys(struct rng *r)
{
	int i = pick_sys(r);

	if (i < 0)
		return;
	do_close(fz.sys[i]);
	fz.sys[i] = -1;
}

static void op_close_vm(struct rng *r)
{
	int i = pick_vm(r);

	if (i < 0)
		return;
	vlog("close VM %d", i);
	do_close(fz.vms[i].fd);
	fz.vms[i].fd = -1;
	gc();
}

static void op_close_vcpu(struct rng *r)
{
	int i = pick_vcpu(r), fd;
	bool dup_first = rng_chance(r, 20);

	if (i < 0)
		return;
	vlog("close vCPU %d%s", i, dup_first ? " (after dup)" : "");
	if (dup_first) {
		fd = fcntl(fz.vcpus[i].fd, F_DUPFD_CLOEXEC, 0);
		count_call();
		if (fd < 0) {
			fail("dup of a vCPU fd: %s", strerror(errno));
			return;
		}
		do_close(fz.vcpus[i].fd);
		fz.vcpus[i].fd = fd;
		return;
	}
	do_close(fz.vcpus[i].fd);
	fz.vcpus[i].fd = -1;
	gc();
}

/* A vCPU id: the few ids in use mostly, the last one, or anything. */
static unsigned long gen_vcpu_id(struct rng *r)
{
	unsigned int c = rng_below(r, 10);

	if (c < 7)
		return rng_below(r, VCPU_IDS_USED);
	if (c == 7)
		return fz.max_vcpus - 1;
	return rng_value(r);
}

/* Wait for runners that alone keep vCPU @id of @vmi alive. */
static void vcpu_id_settle(int vmi, unsigned long id)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		struct fz_vcpu *v = &fz.vcpus[i];

		if (v->used && v->vm == vmi && v->id == id && v->fd < 0 &&
		    v->runner >= 0)
			runner_join(&fz.runners[v->runner]);
	}
}

/* Sanity of what a GET ioctl wrote. */
static void check_get_output(unsigned int cmd, const void *out)
{
	const struct xvcpu_regs *regs = out;
	const struct xvcpu_sregs *sregs = out;
	const struct xvcpu_exit_info *info = out;
	unsigned int i;

	switch (cmd) {
	case XVCPU_GET_REGS:
		if (!rflags_ok(regs->rflags))
			fail("GET_REGS: rflags %#llx",
			     (unsigned long long)regs->rflags);
		break;
	case XVCPU_GET_SREGS:
		/* What GET_SREGS gives, SET_SREGS must take */
		if (sregs_verdict(sregs))
			fail("GET_SREGS gave what SET_SREGS refuses: cr0 %#llx cr4 %#llx efer %#llx",
			     (unsigned long long)sregs->cr0,
			     (unsigned long long)sregs->cr4,
			     (unsigned long long)sregs->efer);
		break;
	case XVCPU_GET_EXIT_INFO:
		for (i = 0; i < ARRAY_SIZE(info->reserved); i++)
			if (info->reserved[i])
				fail("GET_EXIT_INFO: reserved[%u] = %#llx", i,
				     (unsigned long long)info->reserved[i]);
		break;
	}
}

/*
 * After SET_MEMORY_REGION that should have created a slot returned
 * EFAULT (the argument could not be written back): find out with mmap()
 * whether the slot exists.
 */
static bool region_exists(int vm_fd, uint32_t slot)
{
	void *p;

	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, vm_fd,
		 XVCPU_MMAP_SLOT_OFFSET(slot));
	count_call();
	if (p == MAP_FAILED)
		return false;
	munmap(p, PG);
	count_call();
	return true;
}

static const char *const kind_names[] = { "system", "VM", "vCPU" };

/*
 * One ioctl on an fd of @kind: a known or random number (@force: index in
 * known[] or -1), an integer or a pointer of some class, the structure
 * valid, mutated or random.
 */
static void op_ioctl(struct rng *r, int kind, int force)
{
	uint8_t content[sizeof(struct xvcpu_sregs) + 64];
	const struct known_cmd *k;
	unsigned long cmd, arg;
	bool use_ptr, busy = false, prepare, init, roundtrip, map_run;
	int obj, fd, err, cls;
	unsigned int c32;
	struct expect e;
	struct ptr p;
	size_t size;
	char what[192];
	long ret;

	switch (kind) {
	case FD_SYS:
		obj = pick_sys(r);
		fd = obj >= 0 ? fz.sys[obj] : -1;
		break;
	case FD_VM:
		obj = pick_vm(r);
		fd = obj >= 0 ? fz.vms[obj].fd : -1;
		break;
	default:
		obj = pick_vcpu(r);
		fd = obj >= 0 ? fz.vcpus[obj].fd : -1;
		busy = obj >= 0 && fz.vcpus[obj].runner >= 0;
		break;
	}
	if (obj < 0)
		return;

	cmd = force >= 0 ? known[force].cmd : gen_cmd(r, kind);
	c32 = cmd;
	k = find_known(c32);
	prepare = rng_chance(r, 70);
	init = rng_chance(r, 50);
	roundtrip = rng_chance(r, 25);
	map_run = rng_chance(r, 70);

	/* The content: a structure for the numbers that take one */
	size = k && k->size ? k->size : 64;
	switch (c32) {
	case XVCPU_SET_MEMORY_REGION:
		if (rng_chance(r, 90))
			gen_region(r, kind == FD_VM ? &fz.vms[obj] : NULL,
				   (void *)content);
		else
			rng_bytes(r, content, size);
		break;
	case XVCPU_SET_REGS:
		gen_regs(r, (void *)content);
		break;
	case XVCPU_SET_SREGS:
		gen_sregs(r, (void *)content);
		break;
#ifdef XVCPU_SET_MSR_POLICY
	case XVCPU_SET_MSR_POLICY:
		memset(content, 0, size);
		if (rng_chance(r, 10))
			rng_bytes(r, content, size);
		else if (rng_chance(r, 60))
			((struct xvcpu_msr_policy *)content)->flags =
				XVCPU_MSR_EXIT_UNKNOWN;
		break;
#endif
	default:
		rng_bytes(r, content, size);
		break;
	}

	/*
	 * Integers only where the kernel takes one or refuses before
	 * looking: a random integer could be the address of our memory.
	 */
	if (!xvcpu_type(c32) || (k && k->size))
		use_ptr = true;
	else if (k)
		use_ptr = rng_chance(r, force >= 0 ? 3 : 10);
	else
		use_ptr = rng_chance(r, 50);
	if (use_ptr) {
		cls = pick_ptr_class(r, force >= 0,
				     c32 != XVCPU_SET_MEMORY_REGION &&
				     c32 != XVCPU_CREATE_VCPU);
		p = make_ptr(r, cls, size, content);
		arg = p.addr;
	} else {
		memset(&p, 0, sizeof(p));
		p.cls = P_INT;
		if (c32 == XVCPU_CREATE_VCPU)
			arg = gen_vcpu_id(r);
		else if (c32 == XVCPU_CHECK_CAP && rng_chance(r, 60))
			arg = rng_below(r, 14);
		else
			arg = rng_chance(r, force >= 0 ? 90 : 60) ? 0 :
			      rng_value(r);
	}

	exp_init(&e);
	switch (kind) {
	case FD_SYS:
		predict_sys(&e, c32, arg);
		break;
	case FD_VM:
		if (c32 == XVCPU_CREATE_VCPU)
			vcpu_id_settle(obj, arg);
		predict_vm(&e, &fz.vms[obj], c32, arg, &p);
		break;
	default:
		predict_vcpu(&e, busy, c32, arg, &p);
		break;
	}

	if (kind == FD_VCPU && c32 == XVCPU_RUN)
		ret = run_bounded(fd, cmd, arg, fz.timer, &err);
	else
		ret = do_ioctl(fd, cmd, arg, &err);
	snprintf(what, sizeof(what), "%s fd: ioctl %#lx (%s) arg %#lx (%s)",
		 kind_names[kind], cmd, k ? k->name : "?", arg,
		 ptr_names[p.cls]);
	vlog("%s -> %ld (%s)", what, ret, ret < 0 ? errname(err) : "ok");
	if (!check(&e, ret, err, what)) {
		if (kind == FD_VM && c32 == XVCPU_SET_MEMORY_REGION)
			fz.vms[obj].lost = true;
	}
	if (!xvcpu_type(c32))
		return;

	/* New objects and model updates */
	if (kind == FD_SYS && c32 == XVCPU_CREATE_VM && ret >= 0) {
		adopt_vm(ret, prepare);
	} else if (kind == FD_VM && c32 == XVCPU_CREATE_VCPU && ret >= 0) {
		if (arg < fz.max_vcpus && !(fz.vms[obj].ids & (1U << arg)))
			adopt_vcpu(obj, arg, ret, init, map_run);
		else
			do_close(ret);
	} else if (kind == FD_VM && c32 == XVCPU_SET_MEMORY_REGION &&
		   p.det && !fz.vms[obj].lost) {
		const struct xvcpu_memory_region *mr = (const void *)p.content;
		struct xvcpu_memory_region copy = *mr;

		if (ret == 0) {
			region_apply(obj, &copy);
		} else if (err == EFAULT && !p.wr &&
			   !region_verdict(&fz.vms[obj], &copy)) {
			if (!copy.memory_size ||
			    region_exists(fd, copy.slot)) {
				known_issue(KNOWN_REGION_EFAULT,
					    "slot %u, %#llx bytes at %#llx",
					    copy.slot,
					    (unsigned long long)copy.memory_size,
					    (unsigned long long)copy.guest_phys_addr);
				region_apply(obj, &copy);
			}
		}
	} else if (kind == FD_VCPU && ret == 0 && p.cls == P_RW &&
		   k && k->size) {
		check_get_output(c32, (void *)(uintptr_t)p.addr);
		if (c32 == XVCPU_SET_REGS && roundtrip && !busy) {
			struct xvcpu_regs got;

			ret = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&got,
				       &err);
			if (ret || memcmp(&got, content, sizeof(got)))
				fail("GET_REGS after SET_REGS: %s, rip %#llx rflags %#llx",
				     ret ? errname(err) : "differs",
				     (unsigned long long)got.rip,
				     (unsigned long long)got.rflags);
		}
	}
}

/* GET_SREGS, SET_SREGS, GET_SREGS: what was got must be taken back as is. */
static void op_save_restore(struct rng *r)
{
	struct xvcpu_sregs a, b;
	struct xvcpu_regs ra, rb;
	int i = pick_vcpu(r), fd, err[6];
	long ret[6];

	if (i < 0 || fz.vcpus[i].runner >= 0)
		return;
	fd = fz.vcpus[i].fd;
	memset(&b, 0, sizeof(b));
	memset(&rb, 0, sizeof(rb));
	ret[0] = do_ioctl(fd, XVCPU_GET_SREGS, (uintptr_t)&a, &err[0]);
	ret[1] = do_ioctl(fd, XVCPU_SET_SREGS, (uintptr_t)&a, &err[1]);
	ret[2] = do_ioctl(fd, XVCPU_GET_SREGS, (uintptr_t)&b, &err[2]);
	ret[3] = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&ra, &err[3]);
	ret[4] = do_ioctl(fd, XVCPU_SET_REGS, (uintptr_t)&ra, &err[4]);
	ret[5] = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&rb, &err[5]);
	for (i = 0; i < 6; i++) {
		if (ret[i]) {
			fail("save/restore step %d: %s", i, errname(err[i]));
			return;
		}
	}
	if (memcmp(&a, &b, sizeof(a)))
		fail("SET_SREGS(GET_SREGS()) changed the state: cr0 %#llx/%#llx cr4 %#llx/%#llx efer %#llx/%#llx cs.ar %u/%u",
		     (unsigned long long)a.cr0, (unsigned long long)b.cr0,
		     (unsigned long long)a.cr4, (unsigned long long)b.cr4,
		     (unsigned long long)a.efer, (unsigned long long)b.efer,
		     a.cs.type, b.cs.type);
	if (memcmp(&ra, &rb, sizeof(ra)))
		fail("SET_REGS(GET_REGS()) changed the registers");
}

static void op_create_vm(struct rng *r)
{
	if (pick_sys(r) < 0)
		op_open_sys(r);
	else
		op_ioctl(r, FD_SYS, K_CREATE_VM);
}

static void op_create_vcpu(struct rng *r)
{
	if (pick_vm(r) < 0)
		op_create_vm(r);
	else
		op_ioctl(r, FD_VM, K_CREATE_VCPU);
}

static void op_region(struct rng *r)
{
	if (pick_vm(r) < 0)
		op_create_vm(r);
	else
		op_ioctl(r, FD_VM, K_SET_MEMORY_REGION);
}

static void op_badfd(struct rng *r)
{
	static const int bad[] = { -1, 1000000, 0x7fffffff };
	unsigned long cmd = known[known_of_kind(r, -1)].cmd;
	struct expect e;
	long ret;
	int err;

	exp_init(&e);
	if (rng_chance(r, 50)) {
		exp_err(&e, EBADF);
		ret = do_ioctl(bad[rng_below(r, ARRAY_SIZE(bad))], cmd, 0, &err);
	} else {
		/* Not an xvcpu file: shmem has no such ioctls */
		exp_err(&e, ENOTTY);
		ret = do_ioctl(fz.memfd, cmd, 0, &err);
	}
	check(&e, ret, err, "ioctl on a foreign or closed fd");
}

/* ---- memory operations ---- */

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

static void op_mmap(struct rng *r, int kind)
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

static void op_munmap(struct rng *r)
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

static void op_mprotect(struct rng *r)
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

static void op_madvise(struct rng *r)
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

static void op_mremap(struct rng *r)
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

/* ---- memory access ---- */

static sigjmp_buf touch_env;
static volatile sig_atomic_t touching;

static void on_fault(int sig)
{
	if (touching)
		siglongjmp(touch_env, sig);
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
static long touch_kernel(char *p, size_t n, bool store, int *err)
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

static void op_touch(struct rng *r)
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

/* ---- guests ---- */

static struct fz_map *run_map_of(int v)
{
	int i;

	for (i = 0; i < NR_MAPS; i++) {
		struct fz_map *m = &fz.maps[i];

		if (m->used && m->kind == MAP_RUN && m->obj == v &&
		    (m->mask & 1) && m->prot[0] & PROT_WRITE)
			return m;
	}
	return NULL;
}

static void add_counts(const struct exit_counts *c)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fz.exits); i++)
		fz.exits[i] += c->exits[i];
	fz.vmfail += c->vmfail;
	fz.fail_entry += c->fail_entry;
}

/*
 * Set vCPU @i (no runner on it) to the start of the program, rewritten,
 * and run it: the first exit must be the program's OUT.
 */
static void fresh_start(int i, int fd, struct xvcpu_run *run)
{
	long ret;
	int err;

	prog_write(fz.vms[fz.vcpus[i].vm].code);
	program_reset(fd, false, "main");
	run->immediate_exit = 0;
	ret = run_bounded(fd, XVCPU_RUN, 0, fz.timer, &err);
	if (ret || (run->exit_reason == XVCPU_EXIT_IO &&
		    run->io.port == 0x80))
		return;
	if (run->exit_reason == XVCPU_EXIT_FAIL_ENTRY)
		known_issue(KNOWN_FRESH_STATE, "vCPU %d: entry failed, %#llx",
			    i, (unsigned long long)
			    run->fail_entry.hardware_entry_failure_reason);
	else
		known_issue(KNOWN_FRESH_STATE, "vCPU %d: exit %u", i,
			    run->exit_reason);
}

/* XVCPU_RUN from the main thread. */
static void op_run(struct rng *r)
{
	int i = pick_vcpu(r), err;
	bool ie = rng_chance(r, 12), reset = rng_chance(r, 30);
	bool msr = rng_chance(r, 30);
	long ns = msr ? 5000 + rng_below(r, 100000) : RUN_TIMEOUT_NS;
	unsigned long arg = rng_chance(r, 6) ? rng_value(r) : 0;
	uint64_t v = rng_u64(r);
	struct exit_counts c;
	struct xvcpu_run *run = NULL;
	struct fz_map *m;
	struct expect e;
	bool busy, fresh;
	long ret;
	int fd;

	if (i < 0)
		return;
	memset(&c, 0, sizeof(c));
	fd = fz.vcpus[i].fd;
	busy = fz.vcpus[i].runner >= 0;
	m = run_map_of(i);
	if (m)
		run = (void *)m->addr;
	fresh = reset && !busy && !ie && !arg && run &&
		fz.vms[fz.vcpus[i].vm].code;
	if (fresh && !msr) {
		fresh_start(i, fd, run);
		return;
	}
	if (reset && fz.vms[fz.vcpus[i].vm].code) {
		if (msr) {
			prog_write(fz.vms[fz.vcpus[i].vm].code);
			msrprog_table(r, fz.vms[fz.vcpus[i].vm].code);
		}
		program_reset(fd, msr, "main");
	}
	if (run)
		run->immediate_exit = ie;
	exp_init(&e);
	predict_vcpu(&e, busy, XVCPU_RUN, arg, NULL);
	if (run && ie && !busy && !arg)
		exp_only(&e, EINTR);
	ret = run_timed(fd, XVCPU_RUN, arg, fz.timer, ns, &err);
	vlog("RUN vCPU %d%s arg %#lx -> %ld (%s) exit %d", i,
	     reset ? msr ? " (MSR program)" : " (program)" : "", arg, ret,
	     ret ? errname(err) : "ok", run ? (int)run->exit_reason : -1);
	check(&e, ret, err, "RUN (main)");
	if (ret < 0 && err == EBUSY)
		fz.run_ebusy++;
	if (ret < 0 && err == EINTR)
		fz.run_eintr++;
	if (!run)
		return;
	run->immediate_exit = 0;
	if (!busy && !arg && (ret == 0 || err == EINTR)) {
		check_run_page(run, ret == 0, &c, "RUN (main)");
		add_counts(&c);
	}
	/*
	 * The MSR program was stopped between its faulting WRMSRs: what
	 * the kernel had going for it must not reach the next program.
	 */
	if (fresh && msr && ret < 0 && err == EINTR) {
		fresh_start(i, fd, run);
		return;
	}
	if (ret == 0)
		program_step(fd, run, v, "RUN (main)");
}

/* Give a runner thread a vCPU to run for a while. */
static void op_runner(struct rng *r)
{
	int ri = rng_below(r, fz.nr_runners ?: 1), v = pick_vcpu(r), fd;
	unsigned int c = rng_below(r, 100), runs = 1 + rng_below(r, 48);
	uint64_t seed = rng_u64(r);
	int kind = c < 45 ? JOB_PROGRAM : c < 65 ? JOB_MSR :
		   c < 87 ? JOB_RANDOM_STATE : JOB_AS_IS;

	/* Random state may spin until the timer: few runs of it */
	if (kind >= JOB_RANDOM_STATE)
		runs = 1 + runs % 4;

	if (!fz.nr_runners || v < 0)
		return;
	runner_join(&fz.runners[ri]);
	if (fz.vcpus[v].runner >= 0)
		runner_join(&fz.runners[fz.vcpus[v].runner]);
	fd = fcntl(fz.vcpus[v].fd, F_DUPFD_CLOEXEC, 0);
	count_call();
	if (fd < 0) {
		fail("dup of a vCPU fd: %s", strerror(errno));
		return;
	}
	vlog("runner %d: vCPU %d kind %d runs %u", ri, v, kind, runs);
	runner_give(&fz.runners[ri], v, fd, fz.vms[fz.vcpus[v].vm].code, kind,
		    runs, seed);
}

/*
 * A child process inherits the fds and mappings, uses some, and exits:
 * the module sees the last references of nothing, but mappings opened
 * and closed by another process.
 */
static void op_fork(struct rng *r)
{
	bool unmap = rng_chance(r, 50);
	int i, st, err;
	pid_t pid;

	pid = fork();
	count_call();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		struct xvcpu_regs regs;
		timer_t timer;

		/*
		 * A vCPU runs in whatever process calls RUN: once each, with
		 * a timer of this process to end a spinning guest.
		 */
		if (thread_timer(&timer))
			_exit(3);
		for (i = 0; i < NR_VCPUS; i++) {
			if (!fz.vcpus[i].used || fz.vcpus[i].fd < 0)
				continue;
			ioctl(fz.vcpus[i].fd, XVCPU_GET_REGS, &regs);
			if (run_bounded(fz.vcpus[i].fd, XVCPU_RUN, 0, timer,
					&err) < 0 && err != EINTR &&
			    err != EBUSY && err != ENOMEM)
				_exit(4);
		}
		for (i = 0; i < NR_MAPS; i++) {
			struct fz_map *m = &fz.maps[i];

			if (!m->used)
				continue;
			touch_kernel(m->addr + __builtin_ctzll(m->mask) * PG,
				     8, true, &err);
			if (unmap)
				munmap(m->addr, m->npages * PG);
		}
		_exit(0);
	}
	vlog("fork: child %d%s", pid, unmap ? " unmaps" : "");
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		fail("forked child: status %#x", st);
}

/* ---- the operation mix ---- */

enum op {
	OP_OPEN_SYS, OP_CLOSE_SYS, OP_CREATE_VM, OP_CLOSE_VM, OP_CREATE_VCPU,
	OP_CLOSE_VCPU, OP_IOCTL_SYS, OP_IOCTL_VM, OP_IOCTL_VCPU, OP_REGION,
	OP_SAVE_RESTORE, OP_MMAP_RUN, OP_MMAP_SLOT, OP_MUNMAP, OP_MPROTECT,
	OP_MREMAP, OP_MADVISE, OP_TOUCH, OP_RUN, OP_RUNNER, OP_FORK, OP_BADFD,
	NR_OPS
};

static const struct {
	const char *name;
	unsigned int weight;
} ops[NR_OPS] = {
	[OP_OPEN_SYS]		= { "open", 15 },
	[OP_CLOSE_SYS]		= { "close-sys", 8 },
	[OP_CREATE_VM]		= { "create-vm", 30 },
	[OP_CLOSE_VM]		= { "close-vm", 15 },
	[OP_CREATE_VCPU]	= { "create-vcpu", 50 },
	[OP_CLOSE_VCPU]		= { "close-vcpu", 25 },
	[OP_IOCTL_SYS]		= { "ioctl-sys", 60 },
	[OP_IOCTL_VM]		= { "ioctl-vm", 60 },
	[OP_IOCTL_VCPU]		= { "ioctl-vcpu", 140 },
	[OP_REGION]		= { "region", 140 },
	[OP_SAVE_RESTORE]	= { "save-restore", 25 },
	[OP_MMAP_RUN]		= { "mmap-run", 45 },
	[OP_MMAP_SLOT]		= { "mmap-slot", 100 },
	[OP_MUNMAP]		= { "munmap", 80 },
	[OP_MPROTECT]		= { "mprotect", 25 },
	[OP_MREMAP]		= { "mremap", 30 },
	[OP_MADVISE]		= { "madvise", 25 },
	[OP_TOUCH]		= { "touch", 80 },
	[OP_RUN]		= { "run", 80 },
	[OP_RUNNER]		= { "runner", 40 },
	[OP_FORK]		= { "fork", 2 },
	[OP_BADFD]		= { "bad-fd", 10 },
};

static enum op pick_op(struct rng *r)
{
	static unsigned int total;
	unsigned int i, w;

	if (!total)
		for (i = 0; i < NR_OPS; i++)
			total += ops[i].weight;
	w = rng_below(r, total);
	for (i = 0; i < NR_OPS; i++) {
		if (w < ops[i].weight)
			return i;
		w -= ops[i].weight;
	}
	return OP_IOCTL_VCPU;
}

static void do_op(struct rng *r, enum op op)
{
	switch (op) {
	case OP_OPEN_SYS: op_open_sys(r); break;
	case OP_CLOSE_SYS: op_close_sys(r); break;
	case OP_CREATE_VM: op_create_vm(r); break;
	case OP_CLOSE_VM: op_close_vm(r); break;
	case OP_CREATE_VCPU: op_create_vcpu(r); break;
	case OP_CLOSE_VCPU: op_close_vcpu(r); break;
	case OP_IOCTL_SYS: op_ioctl(r, FD_SYS, -1); break;
	case OP_IOCTL_VM: op_ioctl(r, FD_VM, -1); break;
	case OP_IOCTL_VCPU: op_ioctl(r, FD_VCPU, -1); break;
	case OP_REGION: op_region(r); break;
	case OP_SAVE_RESTORE: op_save_restore(r); break;
	case OP_MMAP_RUN: op_mmap(r, MAP_RUN); break;
	case OP_MMAP_SLOT: op_mmap(r, MAP_SLOT); break;
	case OP_MUNMAP: op_munmap(r); break;
	case OP_MPROTECT: op_mprotect(r); break;
	case OP_MREMAP: op_mremap(r); break;
	case OP_MADVISE: op_madvise(r); break;
	case OP_TOUCH: op_touch(r); break;
	case OP_RUN: op_run(r); break;
	case OP_RUNNER: op_runner(r); break;
	case OP_FORK: op_fork(r); break;
	case OP_BADFD: op_badfd(r); break;
	default: break;
	}
}

/* ---- setup and teardown ---- */

/*
 * The CR4 bits SET_SREGS takes: those VMX allows in VMX operation, less
 * VMXE.  Found by trying each bit on a scratch vCPU.
 */
static int probe_cr4(int sys)
{
	struct xvcpu_sregs s;
	int vm, vcpu, b;

	vm = ioctl(sys, XVCPU_CREATE_VM, 0);
	count_call();
	if (vm < 0)
		return -errno;
	vcpu = ioctl(vm, XVCPU_CREATE_VCPU, 0);
	count_call();
	if (vcpu < 0) {
		close(vm);
		return -errno;
	}
	fz.cr4_ok = fz.sregs_long.cr4;
	for (b = 0; b < 64; b++) {
		s = fz.sregs_long;
		s.cr4 |= 1ULL << b;
		if (!ioctl(vcpu, XVCPU_SET_SREGS, &s))
			fz.cr4_ok |= 1ULL << b;
		count_call();
	}
	close(vcpu);
	close(vm);
	count_call();
	count_call();
	return 0;
}

static int fz_init(int threads)
{
	struct sigaction sa;
	size_t reserved;
	int i, sys, ret;

	memset(&fz, 0, sizeof(fz));
	fz.rng.s = opt.seed;
	for (i = 0; i < NR_SYS; i++)
		fz.sys[i] = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;	/* no SA_RESTART: RUN returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	if (pipe2(fz.pipe, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	ret = arena_init();
	if (ret)
		return ret;
	reserved = (NR_CELLS * MAP_PAGES + MAX_RUNNERS) * PG;
	fz.cells = mmap(NULL, reserved, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fz.cells == MAP_FAILED)
		return -errno;
	fz.runner_pages = fz.cells + NR_CELLS * MAP_PAGES * PG;
	ret = thread_timer(&fz.timer);
	if (ret)
		return ret;
	ret = templates_init();
	if (ret)
		return ret;

	sys = open(XVCPU_DEV, O_RDWR | O_CLOEXEC);
	count_call();
	if (sys < 0)
		return -errno;
	for (i = 0; i < (int)ARRAY_SIZE(fz.cap); i++) {
		fz.cap[i] = ioctl(sys, XVCPU_CHECK_CAP, i);
		count_call();
	}
	fz.mmap_size = ioctl(sys, XVCPU_GET_VCPU_MMAP_SIZE, 0);
	count_call();
	fz.nr_slots = fz.cap[XVCPU_CAP_NR_MEMSLOTS];
	fz.max_vcpus = fz.cap[XVCPU_CAP_MAX_VCPUS];
	fz.mem_limit = (uint64_t)fz.cap[XVCPU_CAP_MAX_MEMORY_MB] << 20;
	ret = probe_cr4(sys);
	close(sys);
	count_call();
	if (ret)
		return ret;
	if (!fz.nr_slots || fz.nr_slots > MAX_SLOTS ||
	    fz.max_vcpus <= VCPU_IDS_USED || fz.max_vcpus > 32 ||
	    fz.mmap_size != (long)PG || fz.mem_limit <= VM_KEEP_MAX) {
		fprintf(stderr, "# module limits the fuzzer cannot model: %u slots, %u vCPUs, run page %ld, %llu MiB\n",
			fz.nr_slots, fz.max_vcpus, fz.mmap_size,
			(unsigned long long)(fz.mem_limit >> 20));
		return -ERANGE;
	}
	return runners_start(threads);
}

/* Close and unmap every xvcpu object the fuzzer holds. */
static void fz_release(void)
{
	int i;

	runners_stop();
	for (i = 0; i < NR_MAPS; i++) {
		struct fz_map *m = &fz.maps[i];
		unsigned int j;

		for (j = 0; m->used && j < m->npages; j++)
			if (m->mask & (1ULL << j)) {
				munmap(m->addr + j * PG, PG);
				count_call();
			}
		m->used = false;
	}
	for (i = 0; i < NR_VCPUS; i++)
		if (fz.vcpus[i].used && fz.vcpus[i].fd >= 0) {
			do_close(fz.vcpus[i].fd);
			fz.vcpus[i].fd = -1;
		}
	for (i = 0; i < NR_VMS; i++)
		if (fz.vms[i].used && fz.vms[i].fd >= 0) {
			do_close(fz.vms[i].fd);
			fz.vms[i].fd = -1;
		}
	for (i = 0; i < NR_SYS; i++)
		if (fz.sys[i] >= 0) {
			do_close(fz.sys[i]);
			fz.sys[i] = -1;
		}
	gc();
	for (i = 0; i < NR_VMS; i++)
		if (fz.vms[i].used)
			fail("VM %d still in the model after release", i);
}

static void fz_fini(void)
{
	timer_delete(fz.timer);
	munmap(fz.cells, (NR_CELLS * MAP_PAGES + MAX_RUNNERS) * PG);
	arena_fini();
	close(fz.pipe[0]);
	close(fz.pipe[1]);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
}

/* ---- checks after the run ---- */

/* Open fds; those naming xvcpu are printed and counted in *@xvcpu. */
static int count_fds(int *xvcpu)
{
	char path[300], target[256];
	struct dirent *d;
	int n = 0;
	ssize_t len;
	DIR *dir;

	*xvcpu = 0;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.' || atoi(d->d_name) == dirfd(dir))
			continue;
		n++;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strstr(target, "anon_inode:xvcpu") ||
		    strstr(target, "/dev/xvcpu")) {
			fprintf(stderr, "# left open: fd %s -> %s\n",
				d->d_name, target);
			(*xvcpu)++;
		}
	}
	closedir(dir);
	return n;
}

/* Mappings of xvcpu files left in this process. */
static int count_xvcpu_maps(void)
{
	char line[512];
	int n = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "anon_inode:xvcpu") ||
		    strstr(line, "/dev/xvcpu")) {
			fprintf(stderr, "# left mapped: %s", line);
			n++;
		}
	}
	fclose(f);
	return n;
}

#define KMSG_ALL	(~0ULL)

/*
 * Records of the kernel log after sequence number @after that say
 * something went wrong, printed; *@last gets the newest sequence number.
 * With @after = KMSG_ALL only *@last is found.
 */
static int kmsg_scan(unsigned long long after, unsigned long long *last)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "general protection",
		"Call Trace", "invalid opcode", "detected stall",
		"blocked for more than", "soft lockup", "corruption",
		"VMWRITE of field", "VMPTRLD", "VMCLEAR", "leaked",
		"EPT misconfiguration", "UBSAN", "refcount_t",
	};
	unsigned long long seq;
	char rec[8192];
	unsigned int i;
	ssize_t len;
	int fd, n = 0;

	*last = after == KMSG_ALL ? 0 : after;
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;
		if (len <= 0)
			break;
		rec[len] = '\0';
		if (sscanf(rec, "%*u,%llu,", &seq) != 1)
			continue;
		if (seq > *last)
			*last = seq;
		if (after == KMSG_ALL || seq <= after)
			continue;
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			if (strstr(rec, bad[i])) {
				if (n < 40)
					fprintf(stderr, "# kernel: %s", rec);
				n++;
				break;
			}
		}
	}
	close(fd);
	return n;
}

static uint64_t tsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void print_summary(double secs, uint64_t ticks, bool timed_out)
{
	static const char *const exit_names[] = {
		"UNKNOWN", "IO", "HLT", "MMIO", "SHUTDOWN", "FAIL_ENTRY",
		"INTERNAL_ERROR", "INTR", "HYPERCALL", "MSR",
	};
	char buf[1024];
	size_t n = 0;
	unsigned int i;

	fprintf(stderr, "# fuzz: seed %llu: %lu calls (%lu by runner threads), %lu operations in %.3f s (machine clock), %.0f M TSC ticks%s\n",
		(unsigned long long)opt.seed, calls_made(),
		__atomic_load_n(&nr_runner_calls, __ATOMIC_RELAXED), cur_op,
		secs, ticks / 1e6,
		timed_out ? ", stopped by the time limit" : "");
	for (i = 0; i < NR_OPS; i++)
		n += snprintf(buf + n, sizeof(buf) - n, " %s %lu",
			      ops[i].name, fz.op_count[i]);
	fprintf(stderr, "# operations:%s\n", buf);
	n = 0;
	for (i = 0; i < NR_OPS; i++)
		n += snprintf(buf + n, sizeof(buf) - n, " %s %.1f",
			      ops[i].name, fz.op_ns[i] / 1e6);
	fprintf(stderr, "# milliseconds (machine clock):%s\n", buf);
	n = 0;
	for (i = 1; i < ARRAY_SIZE(fz.exits); i++)
		n += snprintf(buf + n, sizeof(buf) - n, " %s %lu",
			      exit_names[i], fz.exits[i]);
	fprintf(stderr, "# guest exits:%s; RUN EINTR %lu EBUSY %lu; VM-instruction errors %lu\n",
		buf, fz.run_eintr, fz.run_ebusy, fz.vmfail);
	fprintf(stderr, "# failures %lu, known issues %lu\n", nr_failures,
		nr_known);
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	XVT_REQUIRE_DEV();
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, ioctls, 36000)
{
	unsigned long max_calls = opt.calls;
	unsigned long long kmsg_seq, last;
	struct xvt_stats base, now;
	uint64_t t0, t, ticks, deadline;
	bool have_stats, timed_out = false;
	int threads, nfds, left_fds, left, r;
	double secs;

	threads = opt.threads >= 0 ? opt.threads : DEFAULT_THREADS;
	if (threads > MAX_RUNNERS)
		threads = MAX_RUNNERS;
	ksft_print_msg("seed %llu (replay: fuzz_test --seed %llu%s), %lu calls, %lu s, %d runner threads\n",
		       (unsigned long long)opt.seed,
		       (unsigned long long)opt.seed,
		       opt.is_long ? " --long" : "", max_calls, opt.time_s,
		       threads);

	r = xvt_stats_read(&base);
	have_stats = r == 0;
	if (!have_stats)
		ksft_print_msg("no module counters (%s): not checked\n",
			       strerror(-r));
	kmsg_scan(KMSG_ALL, &kmsg_seq);

	r = fz_init(threads);
	ASSERT_EQ(0, r) TH_LOG("setup: %s", strerror(-r));
	nfds = count_fds(&left);

	t0 = xvt_now_ns();
	ticks = tsc();
	deadline = t0 + opt.time_s * 1000000000ULL;
	while (calls_made() < max_calls) {
		enum op op;

		if (opt.max_ops && cur_op >= opt.max_ops)
			break;
		if (!(cur_op & 63) && xvt_now_ns() > deadline) {
			timed_out = true;
			break;
		}
		op = pick_op(&fz.rng);
		cur_op++;
		fz.op_count[op]++;
		t = xvt_now_ns();
		do_op(&fz.rng, op);
		gc();
		fz.op_ns[op] += xvt_now_ns() - t;
	}
	fz_release();
	secs = (xvt_now_ns() - t0) / 1e9;
	ticks = tsc() - ticks;

	/* Nothing of xvcpu may be left in this process */
	r = count_fds(&left_fds);
	EXPECT_EQ(nfds, r);
	EXPECT_EQ(0, left_fds);
	EXPECT_EQ(0, count_xvcpu_maps());
	fz_fini();

	print_summary(secs, ticks, timed_out);
	if (have_stats) {
		r = xvt_stats_wait(&base, &now);
		EXPECT_EQ(0, r) TH_LOG("module counters vms %ld vcpus %ld pages %ld, before %ld %ld %ld",
				       now.vms, now.vcpus, now.pages,
				       base.vms, base.vcpus, base.pages);
	}
	EXPECT_EQ(0, kmsg_scan(kmsg_seq, &last));
	EXPECT_EQ(0, nr_failures) TH_LOG("replay: fuzz_test --seed %llu",
					 (unsigned long long)opt.seed);
}

/* ---- options ---- */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--seed N] [--long] [--calls N] [--ops N] [--time SECONDS]\n"
		"          [--threads N] [--verbose] [--strict] [harness options]\n"
		"  --seed N      replay the operations of seed N\n"
		"  --long        %lu calls, %d s (default %lu calls, %d s)\n"
		"  --calls N     stop after N calls\n"
		"  --ops N       stop after N operations\n"
		"  --time S      stop after S seconds of the machine's clock\n"
		"  --threads N   runner threads (default %d, 0: exact replay)\n"
		"  --verbose     print every operation\n"
		"  --strict      known issues of the module fail the test too\n"
		"environment: XVCPU_FUZZ_SEED=N, XVCPU_FUZZ_LONG=1, XVCPU_FUZZ_STRICT=1\n",
		prog, LONG_CALLS, LONG_TIME_S, DEFAULT_CALLS, DEFAULT_TIME_S,
		DEFAULT_THREADS);
}

/* "--name value" or "--name=value": the value, or NULL if not @name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);

	if (strncmp(argv[*i], name, len))
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

int main(int argc, char **argv)
{
	char **args = calloc(argc + 1, sizeof(*args));
	const char *v;
	int i, n = 0;

	if (!args)
		return KSFT_FAIL;
	args[n++] = argv[0];
	for (i = 1; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--seed"))) {
			opt.seed = strtoull(v, NULL, 0);
			opt.seed_set = true;
		} else if ((v = opt_value(argc, argv, &i, "--calls"))) {
			opt.calls = strtoul(v, NULL, 0);
		} else if ((v = opt_value(argc, argv, &i, "--ops"))) {
			opt.max_ops = strtoul(v, NULL, 0);
		} else if ((v = opt_value(argc, argv, &i, "--time"))) {
			opt.time_s = strtoul(v, NULL, 0);
		} else if ((v = opt_value(argc, argv, &i, "--threads"))) {
			opt.threads = atoi(v);
		} else if (!strcmp(argv[i], "--long")) {
			opt.is_long = true;
		} else if (!strcmp(argv[i], "--verbose")) {
			opt.verbose = true;
		} else if (!strcmp(argv[i], "--strict")) {
			opt.strict = true;
		} else if (!strcmp(argv[i], "--help")) {
			usage(argv[0]);
			return 0;
		} else {
			args[n++] = argv[i];
		}
	}
	v = getenv("XVCPU_FUZZ_SEED");
	if (v && *v && !opt.seed_set) {
		opt.seed = strtoull(v, NULL, 0);
		opt.seed_set = true;
	}
	v = getenv("XVCPU_FUZZ_LONG");
	if (v && !strcmp(v, "1"))
		opt.is_long = true;
	v = getenv("XVCPU_FUZZ_STRICT");
	if (v && !strcmp(v, "1"))
		opt.strict = true;
	if (!opt.seed_set) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt.seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^
			   ts.tv_nsec ^ ((uint64_t)getpid() << 32);
	}
	if (!opt.calls)
		opt.calls = opt.is_long ? LONG_CALLS : DEFAULT_CALLS;
	if (!opt.time_s)
		opt.time_s = opt.is_long ? LONG_TIME_S : DEFAULT_TIME_S;
	return test_harness_run(n, args);
}
