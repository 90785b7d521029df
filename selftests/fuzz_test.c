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
 * and RDMSR with an IDT (a #GP handler, IRET for everything else), or
 * random state set with SET_SREGS and SET_REGS; sometimes with events
 * set, interrupts and NMIs queued, an interrupt window requested and
 * guest debugging (single-step, #BP/#DB intercepts) on.
 *
 * Every result is checked against what uapi/xvcpu.h, the argument checks
 * of the module and a model predict: each VM's memory slots, vCPU ids and
 * mappings, and each vCPU's queued interrupt and NMI and CPUID table.
 * Where the outcome depends on what cannot be followed cheaply (a guest
 * running meanwhile, memory of unknown content) a small set of answers
 * is accepted, never any.  At the end every fd and mapping must be gone,
 * the module's counters back where they were and the kernel log free of
 * warnings.
 *
 *   fuzz_test [--seed N] [--long] [--calls N] [--ops N] [--time SECONDS]
 *             [--threads N] [--verbose] [harness options]
 *
 * The seed is printed first; --seed N replays the same sequence of main
 * thread operations.  Runner threads make the interleaving of concurrent
 * calls differ from run to run; with --threads 0 only runs ended by a
 * timer can differ.  --ops N stops after N operations (to cut a replay
 * down), --verbose prints each one.  XVCPU_FUZZ_SEED=N and
 * XVCPU_FUZZ_LONG=1 do what --seed and --long do.
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
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
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
/*
 * The MSR program, its #GP handler, the handlers of the other vectors
 * (with and without an error code), its IDT (256 gates) and its table of
 * MSR accesses.
 */
#define MSRPROG_CODE		0x9100UL
#define MSRPROG_GP		0x9200UL
#define MSRPROG_IRET		0x9280UL
#define MSRPROG_IRET_ERR	0x9290UL
#define MSRPROG_IDT		0xa000UL
#define MSRPROG_TABLE		0xb000UL
#define MSRPROG_ENTRIES		32

/*
 * How long one XVCPU_RUN may last before a timer signal ends it, how often
 * the signal comes again until the RUN has ended, and how long main waits
 * for a runner before stopping it (ns of the machine's
 * clock, which in the emulator runs some hundred times slower than the
 * wall clock while busy).  A guest spinning with RFLAGS.IF = 0 may only
 * see the signal at the module's VMX-preemption timer exit.
 */
#define RUN_TIMEOUT_NS		(200 * 1000)
#define RUN_REPEAT_NS		(1000 * 1000)
#define JOIN_WAIT_NS		(2ULL * 1000 * 1000)

#define EPT_LIMIT		(1ULL << 48)

/* The highest exit reason of uapi/xvcpu.h */
#define EXIT_LAST		XVCPU_EXIT_DEBUG
#define SLOT_OFF_MASK		(XVCPU_MMAP_SLOT_OFFSET(1) - 1)

/* Architectural bits SET_REGS and SET_SREGS check (kmod/vcpu.c, vmcs.c) */
#define RFLAGS_DEFINED		0x3f7fd5ULL
#define RFLAGS_FIXED		0x2ULL
#define CR0_KNOWN		0xe005003fULL
#define CR0_PE			(1ULL << 0)
#define CR0_NW			(1ULL << 29)
#define CR0_CD			(1ULL << 30)
#define CR0_PG			(1ULL << 31)
#define CR4_PAE			(1ULL << 5)
#define CR4_LA57		(1ULL << 12)
#define CR4_VMXE		(1ULL << 13)
#define EFER_KNOWN		0xd01ULL
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define RFLAGS_IF		(1ULL << 9)
#define RFLAGS_TF		(1ULL << 8)

/* struct xvcpu_cpuid: the header, and the bytes of @n entries after it */
#define CPUID_HDR		offsetof(struct xvcpu_cpuid, entries)
#define CPUID_BYTES(n)		(CPUID_HDR + \
				 (uint64_t)(n) * sizeof(struct xvcpu_cpuid_entry))

/* The largest argument structure, and the largest ptr class covers */
#define MAX_ARG_SIZE		sizeof(struct xvcpu_cpuid)

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
static unsigned long nr_failures;
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

/* Whether an interrupt (or an NMI) is queued on a vCPU, as far as known */
enum queued { Q_NO, Q_YES, Q_UNKNOWN };

struct fz_vcpu {
	bool used;		/* the vCPU exists in the kernel */
	int fd;			/* main's fd, -1 once closed */
	int vm;
	unsigned int id;
	int runner;		/* runner with a job on it, or -1 */
	/*
	 * Event queues: unknown while a runner has the vCPU, and after a
	 * guest ran with something queued (it may have been injected).
	 */
	enum queued irq, nmi;
	/* Its CPUID table (only main sets it), unless cpuid_lost */
	bool cpuid_lost;
	uint32_t cpuid_nent;
	struct xvcpu_cpuid_entry cpuid[XVCPU_CPUID_MAX_ENTRIES];
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
	long cap[32];
	struct xvcpu_cpuid supported;	/* XVCPU_GET_SUPPORTED_CPUID */
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
	unsigned long events_set, irqs_queued, nmis_queued, debug_set;
	unsigned long known_ok[32], known_err[32];	/* by op_ioctl() */
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
	/*
	 * The kernel can read the first rd_len bytes and write the first
	 * wr_len, and nothing after them (the rest is another view, a
	 * guard page or unmapped); @known: the first rd_len bytes hold
	 * @content.
	 */
	uint64_t rd_len, wr_len;
	bool known;
	bool rd, wr;		/* the kernel can read / write all of it */
	bool det;		/* it can read it all, and it holds @content */
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

static int pick_map(struct rng *r, int kind);

/*
 * Make a pointer of class @cls to @size bytes of @content (1 <= size <=
 * MAX_ARG_SIZE, less than two pages).  The split classes put the first k
 * bytes (0 < k < size) on one side of a page boundary and the rest on
 * the other.  Classes that need something absent fall back to P_RW.
 */
static struct ptr make_ptr(struct rng *r, int cls, size_t size,
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
static bool ptr_known(const struct ptr *p, uint64_t n)
{
	return p->known && p->rd_len >= n;
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

/* Every other vector: back to where the guest was */
static const uint8_t msrprog_iret[] = {
	0x48, 0xcf,				/* iretq */
};

static const uint8_t msrprog_iret_err[] = {
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

/* The exceptions that push an error code (SDM Vol. 3A 7.3, Table 7-1) */
static bool vector_has_error_code(unsigned int vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

/*
 * Write the page tables and the programs into slot 0 at @mem.  The MSR
 * program's IDT has a 64-bit interrupt gate in the code segment for each
 * vector: #GP to MSRPROG_GP, the other exceptions with an error code to
 * MSRPROG_IRET_ERR, everything else (interrupts, NMI) to MSRPROG_IRET.
 */
static void prog_write(uint8_t *mem)
{
	unsigned int v;

	memcpy(mem + PROG_TABLES, fz.tables, sizeof(fz.tables));
	memcpy(mem + PROG_CODE, prog, sizeof(prog));
	memcpy(mem + MSRPROG_CODE, msrprog, sizeof(msrprog));
	memcpy(mem + MSRPROG_GP, msrprog_gp, sizeof(msrprog_gp));
	memcpy(mem + MSRPROG_IRET, msrprog_iret, sizeof(msrprog_iret));
	memcpy(mem + MSRPROG_IRET_ERR, msrprog_iret_err,
	       sizeof(msrprog_iret_err));
	for (v = 0; v < 256; v++) {
		uint8_t *gate = mem + MSRPROG_IDT + v * 16;
		uint64_t to = v == 13 ? MSRPROG_GP :
			      vector_has_error_code(v) ? MSRPROG_IRET_ERR :
			      MSRPROG_IRET;

		memset(gate, 0, 16);
		gate[0] = to & 0xff;
		gate[1] = (to >> 8) & 0xff;
		gate[2] = XVCPU_SETUP_SEL_CODE;
		gate[5] = 0x8e;
	}
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

/* ---- events, translation, guest debug, CPUID tables ---- */

static long cap_value(unsigned long cap)
{
	return cap < ARRAY_SIZE(fz.cap) ? fz.cap[cap] : 0;
}

static bool event_type_soft(unsigned int type)
{
	return type == XVCPU_EVENT_SOFT_INT ||
	       type == XVCPU_EVENT_PRIV_SOFT_EXCEPTION ||
	       type == XVCPU_EVENT_SOFT_EXCEPTION;
}

/* An event SET_EVENTS takes (SDM Vol. 3C 27.2.1.3), of a random type. */
static void gen_event(struct rng *r, struct xvcpu_event *ev)
{
	static const uint8_t types[] = {
		XVCPU_EVENT_EXTINT, XVCPU_EVENT_NMI, XVCPU_EVENT_EXCEPTION,
		XVCPU_EVENT_EXCEPTION, XVCPU_EVENT_SOFT_INT,
		XVCPU_EVENT_PRIV_SOFT_EXCEPTION, XVCPU_EVENT_SOFT_EXCEPTION,
	};

	memset(ev, 0, sizeof(*ev));
	ev->valid = 1;
	ev->type = types[rng_below(r, ARRAY_SIZE(types))];
	switch (ev->type) {
	case XVCPU_EVENT_EXTINT:
		ev->vector = 32 + rng_below(r, 224);
		break;
	case XVCPU_EVENT_NMI:
		ev->vector = 2;
		break;
	case XVCPU_EVENT_EXCEPTION:
		ev->vector = rng_chance(r, 50) ? 13 : rng_below(r, 32);
		break;
	case XVCPU_EVENT_SOFT_INT:
		ev->vector = rng_below(r, 256);
		break;
	case XVCPU_EVENT_PRIV_SOFT_EXCEPTION:
		ev->vector = 1;
		break;
	default:
		ev->vector = rng_chance(r, 50) ? 3 : 4;
		break;
	}
	if (ev->type == XVCPU_EVENT_EXCEPTION &&
	    vector_has_error_code(ev->vector)) {
		ev->has_error_code = 1;
		ev->error_code = rng_chance(r, 50) ? 0 : rng_below(r, 0x10000);
	}
	if (event_type_soft(ev->type))
		ev->instruction_len = 1 + rng_below(r, 15);
}

/* Break one rule of struct xvcpu_events (or keep them, by chance). */
static void mutate_events(struct rng *r, struct xvcpu_events *ev)
{
	struct xvcpu_event *e = &ev->injected;
	uint64_t v = rng_value(r) | 1;

	switch (rng_below(r, 16)) {
	case 0:
		e->valid = rng_chance(r, 50) ? 2 : v;
		break;
	case 1:
		/* 1 is reserved, 7 ("other event") is refused */
		e->type = rng_chance(r, 50) ? 1 + 6 * rng_below(r, 2) : v;
		break;
	case 2:
		e->vector = v;
		break;
	case 3:
		e->has_error_code ^= 1;
		break;
	case 4:
		e->error_code = rng_chance(r, 50) ? v << 16 : v;
		break;
	case 5:
		e->instruction_len = rng_chance(r, 50) ?
				     16 * rng_below(r, 2) : v;
		break;
	case 6:
		e->pad = v;
		break;
	case 7:
		if (rng_chance(r, 50))
			ev->reserved[rng_below(r, 3)] = v;
		else
			ev->pending_debug |= v << rng_below(r, 17);
		break;
	case 8:
		ev->pad[rng_below(r, 3)] = v;
		break;
	case 9:
		ev->interrupt_queued = 2 + rng_below(r, 254);
		break;
	case 10:
		ev->nmi_queued = 2 + rng_below(r, 254);
		break;
	case 11:
		ev->nmi_masked = 2 + rng_below(r, 254);
		break;
	case 12:
		ev->interrupt_queued = 0;
		ev->interrupt_vector = v;
		break;
	case 13:
		ev->shadow = 3 + rng_below(r, 253);
		break;
	case 14:
		/* Not valid: the kernel ignores the rest */
		e->valid = 0;
		e->vector = v;
		break;
	default:
		e->valid = 0;
		e->error_code = v;
		break;
	}
}

static const uint64_t pending_debug_values[] = {
	XVCPU_PENDING_DBG_BS, XVCPU_PENDING_DBG_B0_B3,
	XVCPU_PENDING_DBG_ENABLED_BP | 1,
	XVCPU_PENDING_DBG_RTM | XVCPU_PENDING_DBG_ENABLED_BP,
	XVCPU_PENDING_DBG_RTM, 1ULL << 13, 1ULL << 63,
};

/* SET_EVENTS content: mostly valid, sometimes clearing everything. */
static void gen_events(struct rng *r, struct xvcpu_events *ev)
{
	unsigned int n;

	memset(ev, 0, sizeof(*ev));
	switch (rng_below(r, 10)) {
	case 0:
		rng_bytes(r, ev, sizeof(*ev));
		return;
	case 1:
	case 2:
		return;
	}
	if (rng_chance(r, 60))
		gen_event(r, &ev->injected);
	if (rng_chance(r, 30)) {
		ev->interrupt_queued = 1;
		ev->interrupt_vector = rng_below(r, 256);
	}
	ev->nmi_queued = rng_chance(r, 20);
	ev->nmi_masked = rng_chance(r, 20);
	if (rng_chance(r, 20))
		ev->shadow = rng_chance(r, 50) ? XVCPU_SHADOW_STI :
			     XVCPU_SHADOW_MOV_SS;
	if (rng_chance(r, 15))
		ev->pending_debug = pending_debug_values[
			rng_below(r, ARRAY_SIZE(pending_debug_values))];
	for (n = rng_chance(r, 25) ? 1 + rng_below(r, 2) : 0; n > 0; n--)
		mutate_events(r, ev);
}

/* Outcomes of a check: each a bit */
#define V_OK		1U
#define V_EINVAL	2U

/* kmod/event.c event_invalid(): V_OK, V_EINVAL or (unsure) both. */
static unsigned int event_verdict(const struct xvcpu_event *e)
{
	unsigned int ok = V_OK;

	if (e->pad)
		return V_EINVAL;
	/* Not valid: the other fields are ignored */
	if (!e->valid)
		return V_OK;
	if (e->valid != 1)
		return V_EINVAL;
	switch (e->type) {
	case XVCPU_EVENT_EXTINT:
	case XVCPU_EVENT_SOFT_INT:
		break;
	case XVCPU_EVENT_NMI:
		if (e->vector != 2)
			return V_EINVAL;
		/*
		 * Needs virtual NMIs: CAP_NMI says the CPU has them and
		 * NMI-window exiting; without it either may be missing.
		 */
		if (!cap_value(XVCPU_CAP_NMI))
			ok |= V_EINVAL;
		break;
	case XVCPU_EVENT_EXCEPTION:
		if (e->vector > 31)
			return V_EINVAL;
		break;
	case XVCPU_EVENT_PRIV_SOFT_EXCEPTION:
		if (e->vector != 1)
			return V_EINVAL;
		break;
	case XVCPU_EVENT_SOFT_EXCEPTION:
		if (e->vector != 3 && e->vector != 4)
			return V_EINVAL;
		break;
	default:
		return V_EINVAL;
	}
	if (e->has_error_code > 1 ||
	    e->has_error_code != (e->type == XVCPU_EVENT_EXCEPTION &&
				  vector_has_error_code(e->vector)))
		return V_EINVAL;
	if (e->error_code >> 16 || (!e->has_error_code && e->error_code))
		return V_EINVAL;
	if (event_type_soft(e->type) ?
	    e->instruction_len < 1 || e->instruction_len > 15 :
	    e->instruction_len != 0)
		return V_EINVAL;
	return ok;
}

/*
 * kmod/event.c xvcpu_vcpu_set_events(): the fields first, then what VM
 * entry requires of the state with them (SDM Vol. 3C 27.3.1.5): an STI
 * shadow and an injected external interrupt need RFLAGS.IF = 1, the
 * interrupt no shadow, an injected NMI neither NMI blocking nor a MOV SS
 * shadow; pending_debug its known bits, RTM only with ENABLED_BP and no
 * MOV SS shadow, and with a shadow BS exactly when RFLAGS.TF = 1 (the
 * fuzzer never sets DEBUGCTL.BTF).  @rflags: the vCPU's, or -1 if unknown.
 */
static unsigned int events_verdict(const struct xvcpu_events *ev,
				   int64_t rflags)
{
	const struct xvcpu_event *e = &ev->injected;
	unsigned int v = event_verdict(e), i;
	int if_flag = rflags < 0 ? -1 : !!(rflags & RFLAGS_IF);
	uint64_t pd = ev->pending_debug;
	bool needs_if;

	for (i = 0; i < ARRAY_SIZE(ev->reserved); i++)
		if (ev->reserved[i])
			return V_EINVAL;
	if (ev->pad[0] | ev->pad[1] | ev->pad[2] || ev->interrupt_queued > 1 ||
	    ev->nmi_queued > 1 || ev->nmi_masked > 1 ||
	    (!ev->interrupt_queued && ev->interrupt_vector) ||
	    (ev->nmi_queued && !cap_value(XVCPU_CAP_NMI)) ||
	    ev->shadow & ~(XVCPU_SHADOW_STI | XVCPU_SHADOW_MOV_SS) ||
	    ev->shadow == (XVCPU_SHADOW_STI | XVCPU_SHADOW_MOV_SS))
		return V_EINVAL;
	if (pd & ~(XVCPU_PENDING_DBG_B0_B3 | XVCPU_PENDING_DBG_ENABLED_BP |
		   XVCPU_PENDING_DBG_BS | XVCPU_PENDING_DBG_RTM))
		return V_EINVAL;
	if ((pd & XVCPU_PENDING_DBG_RTM) &&
	    (pd != (XVCPU_PENDING_DBG_RTM | XVCPU_PENDING_DBG_ENABLED_BP) ||
	     ev->shadow & XVCPU_SHADOW_MOV_SS))
		return V_EINVAL;
	if (!(v & V_OK))
		return v;
	if (ev->shadow) {
		if (rflags < 0)
			v |= V_EINVAL;
		else if (!(pd & XVCPU_PENDING_DBG_BS) != !(rflags & RFLAGS_TF))
			return V_EINVAL;
	}
	if (e->valid && e->type == XVCPU_EVENT_EXTINT && ev->shadow)
		return V_EINVAL;
	if (e->valid && e->type == XVCPU_EVENT_NMI &&
	    (ev->nmi_masked || ev->shadow & XVCPU_SHADOW_MOV_SS))
		return V_EINVAL;
	needs_if = ev->shadow & XVCPU_SHADOW_STI ||
		   (e->valid && e->type == XVCPU_EVENT_EXTINT);
	if (!needs_if)
		return v;
	if (if_flag < 0)
		return v | V_EINVAL;
	return if_flag ? v : V_EINVAL;
}

static void gen_interrupt(struct rng *r, struct xvcpu_interrupt *irq)
{
	memset(irq, 0, sizeof(*irq));
	irq->vector = rng_chance(r, 90) ? rng_below(r, 256) : rng_value(r);
	if (rng_chance(r, 5))
		irq->pad = rng_value(r) | 1;
}

static const uint64_t translate_addrs[] = {
	PROG_CODE, PROG_DATA, PROG_STACK - 8, PROG_MMIO, MSRPROG_IDT, 0,
	0xfffff000ULL, 0x100000000ULL, 0x00007ffffffff000ULL,
	0x0000800000000000ULL, 0xffff800000000000ULL, 0x00ff800000000000ULL,
	0xff00000000000000ULL, ~0ULL,
};

static void gen_translation(struct rng *r, struct xvcpu_translation *t)
{
	memset(t, 0, sizeof(*t));
	switch (rng_below(r, 4)) {
	case 0:
	case 1:
		t->linear_address =
			translate_addrs[rng_below(r, ARRAY_SIZE(translate_addrs))] +
			rng_below(r, 3) * PG + rng_below(r, 8);
		break;
	case 2:
		t->linear_address = rng_below(r, 1ULL << 32);
		break;
	default:
		t->linear_address = rng_value(r);
		break;
	}
	t->access = rng_chance(r, 90) ? rng_below(r, 8) : rng_u64(r);
	if (rng_chance(r, 4))
		t->pad = rng_value(r) | 1;
	if (rng_chance(r, 4))
		t->reserved[rng_below(r, 2)] = rng_value(r) | 1;
	if (rng_chance(r, 10)) {
		/* Outputs: overwritten */
		t->physical_address = rng_u64(r);
		t->valid = rng_u64(r);
		t->error_code = rng_u64(r);
		t->page_size = rng_u64(r);
	}
}

static void gen_guest_debug(struct rng *r, struct xvcpu_guest_debug *d)
{
	memset(d, 0, sizeof(*d));
	d->flags = rng_chance(r, 90) ? rng_below(r, 8) : rng_u64(r);
	if (rng_chance(r, 4))
		d->pad = rng_value(r) | 1;
	if (rng_chance(r, 4))
		d->reserved[rng_below(r, 3)] = rng_value(r) | 1;
}

#define DEBUG_FLAGS	(XVCPU_DEBUG_SINGLESTEP | XVCPU_DEBUG_INTERCEPT_BP | \
			 XVCPU_DEBUG_INTERCEPT_DB)

/* kmod/event.c xvcpu_vcpu_set_guest_debug(): 0 or an errno. */
static int guest_debug_verdict(const struct xvcpu_guest_debug *d)
{
	if (d->flags & ~DEBUG_FLAGS || d->pad || d->reserved[0] ||
	    d->reserved[1] || d->reserved[2])
		return EINVAL;
	/* CAP_GUEST_DEBUG: the flags that work (single-step needs MTF) */
	if (d->flags & ~cap_value(XVCPU_CAP_GUEST_DEBUG))
		return EOPNOTSUPP;
	return 0;
}

/*
 * A CPUID table for SET_CPUID: the supported one, part of it, with new
 * values, or breaking a rule (duplicates, flags, pads, too many).  For
 * the GET ioctls (@get): the input nent and pad, mostly 0.
 */
static void gen_cpuid(struct rng *r, struct xvcpu_cpuid *c, bool get)
{
	struct xvcpu_cpuid_entry *e = c->entries;
	uint32_t i, j, n = fz.supported.nent;

	if (get) {
		memset(c, 0, CPUID_HDR);
		if (rng_chance(r, 10))
			c->nent = rng_chance(r, 50) ? 1 : rng_value(r);
		if (rng_chance(r, 5))
			c->pad = rng_value(r) | 1;
		return;
	}
	*c = fz.supported;
	switch (rng_below(r, 12)) {
	case 0:
		rng_bytes(r, c, sizeof(*c));
		if (rng_chance(r, 50))
			c->nent = rng_below(r, XVCPU_CPUID_MAX_ENTRIES + 1);
		if (rng_chance(r, 50))
			c->pad = 0;
		return;
	case 1:
		c->nent = 0;
		return;
	case 2:
	case 3:
		return;
	case 4:
	case 5:
		c->nent = rng_below(r, n + 1);
		return;
	}
	/* New values, the odd rule broken */
	for (i = rng_below(r, 4); n && i > 0; i--) {
		j = rng_below(r, n);
		switch (rng_below(r, 10)) {
		case 0:
			e[j].flags ^= XVCPU_CPUID_FLAG_INDEXED;
			break;
		case 1:
			e[j].function = rng_chance(r, 50) ? e[rng_below(r, n)].function :
					rng_value(r);
			break;
		case 2:
			e[j].index = rng_value(r);
			break;
		case 3:
			e[j].flags = rng_value(r);
			break;
		case 4:
			e[j].pad = rng_value(r) | 1;
			break;
		case 5:
			e[j].eax = rng_u64(r);
			break;
		case 6:
			e[j].ebx = rng_u64(r);
			break;
		case 7:
			e[j].ecx = rng_u64(r);
			break;
		default:
			e[j].edx = rng_u64(r);
			break;
		}
	}
	if (rng_chance(r, 10) && n < XVCPU_CPUID_MAX_ENTRIES) {
		/* A duplicate, or another subleaf */
		e[n] = e[rng_below(r, n ?: 1)];
		if (rng_chance(r, 50))
			e[n].index++;
		c->nent = n + 1;
	}
	if (rng_chance(r, 5))
		c->nent = XVCPU_CPUID_MAX_ENTRIES + 1 + rng_below(r, 3);
	if (rng_chance(r, 3))
		c->pad = rng_value(r) | 1;
}

/* kmod/cpuid_table.c cpuid_check() on a table of @nent <= 128 entries */
static int cpuid_verdict(const struct xvcpu_cpuid_entry *e, uint32_t nent)
{
	uint32_t i, j;

	for (i = 0; i < nent; i++) {
		if (e[i].flags & ~XVCPU_CPUID_FLAG_INDEXED || e[i].pad)
			return EINVAL;
		for (j = 0; j < i; j++) {
			if (e[j].function != e[i].function)
				continue;
			if (!(e[j].flags & e[i].flags &
			      XVCPU_CPUID_FLAG_INDEXED) ||
			    e[j].index == e[i].index)
				return EINVAL;
		}
	}
	return 0;
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
	K_GET_SUPPORTED_CPUID, K_SET_MEMORY_REGION, K_CREATE_VCPU, K_RUN,
};

static const struct known_cmd known[] = {
	{ XVCPU_GET_API_VERSION, FD_SYS, 0, "GET_API_VERSION" },
	{ XVCPU_CHECK_CAP, FD_SYS, 0, "CHECK_CAP" },
	{ XVCPU_CREATE_VM, FD_SYS, 0, "CREATE_VM" },
	{ XVCPU_GET_VCPU_MMAP_SIZE, FD_SYS, 0, "GET_VCPU_MMAP_SIZE" },
	{ XVCPU_GET_SUPPORTED_CPUID, FD_SYS, sizeof(struct xvcpu_cpuid),
	  "GET_SUPPORTED_CPUID" },
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
	{ XVCPU_SET_MSR_POLICY, FD_VM, sizeof(struct xvcpu_msr_policy),
	  "SET_MSR_POLICY" },
	{ XVCPU_GET_EVENTS, FD_VCPU, sizeof(struct xvcpu_events),
	  "GET_EVENTS" },
	{ XVCPU_SET_EVENTS, FD_VCPU, sizeof(struct xvcpu_events),
	  "SET_EVENTS" },
	{ XVCPU_INTERRUPT, FD_VCPU, sizeof(struct xvcpu_interrupt),
	  "INTERRUPT" },
	{ XVCPU_NMI, FD_VCPU, 0, "NMI" },
	{ XVCPU_TRANSLATE, FD_VCPU, sizeof(struct xvcpu_translation),
	  "TRANSLATE" },
	{ XVCPU_SET_GUEST_DEBUG, FD_VCPU, sizeof(struct xvcpu_guest_debug),
	  "SET_GUEST_DEBUG" },
	{ XVCPU_SET_CPUID, FD_VCPU, sizeof(struct xvcpu_cpuid), "SET_CPUID" },
	{ XVCPU_GET_CPUID, FD_VCPU, sizeof(struct xvcpu_cpuid), "GET_CPUID" },
};

_Static_assert(ARRAY_SIZE(known) <= ARRAY_SIZE(fz.known_ok),
	       "fz.known_ok[] counts every known command");

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
	0, 1, 8, 24, 40, 64, 144, 256, 312, 4616, 0x3fff,
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

/*
 * The header of struct xvcpu_cpuid, read first by the CPUID ioctls:
 * true if that decides the answer (not readable, or not known).
 */
static bool predict_cpuid_header(struct expect *e, const struct ptr *p)
{
	if (p->rd_len < CPUID_HDR) {
		exp_err(e, EFAULT);
		return true;
	}
	if (!ptr_known(p, CPUID_HDR)) {
		e->ok = 0;
		exp_err(e, EINVAL);
		exp_err(e, EFAULT);
		return true;
	}
	return false;
}

/*
 * GET_SUPPORTED_CPUID and GET_CPUID (kmod/dev.c): nent and pad are read
 * and must be 0; the @nent entries are written, then nent and pad.
 * @nent < 0: not known.
 */
static void predict_cpuid_get(struct expect *e, const struct ptr *p,
			      long nent)
{
	const struct xvcpu_cpuid *c = p->content;

	if (predict_cpuid_header(e, p))
		return;
	if (c->nent || c->pad) {
		exp_err(e, EINVAL);
		return;
	}
	if (nent < 0) {
		/* Room for any table, for none, or it depends */
		if (p->wr_len >= CPUID_HDR)
			e->ok = 0;
		if (p->wr_len < CPUID_BYTES(XVCPU_CPUID_MAX_ENTRIES))
			exp_err(e, EFAULT);
		return;
	}
	if (p->wr_len >= CPUID_BYTES(nent))
		e->ok = 0;
	else
		exp_err(e, EFAULT);
}

static void predict_sys(struct expect *e, unsigned int cmd, unsigned long arg,
			const struct ptr *p)
{
	if (!xvcpu_type(cmd)) {
		e->anything = true;
		return;
	}
	/* The one system ioctl with a pointer, looked at first */
	if (cmd == XVCPU_GET_SUPPORTED_CPUID) {
		predict_cpuid_get(e, p, fz.supported.nent);
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

/* A new region is kept only once mmap_offset reached the caller. */
#define REGION_OUT_END	(offsetof(struct xvcpu_memory_region, mmap_offset) + \
			 sizeof(__u64))

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
			const struct xvcpu_memory_region *mr = p->content;
			int v = region_verdict(vm, mr);

			/* A delete writes nothing back */
			if (v)
				exp_err(e, v);
			else if (mr->memory_size && p->wr_len < REGION_OUT_END)
				exp_err(e, EFAULT);
			else
				e->ok = 0;
		}
		break;
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

/* The answer to SET_SREGS @s: 0 or EINVAL (kmod/vmcs.c vmcs_check_sregs). */
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
	/* SDM Vol. 3C 27.3.1.1: LMA needs PG and PAE; with PG, LMA = LME */
	if (s->efer & EFER_LMA && (!(s->cr0 & CR0_PG) || !(s->cr4 & CR4_PAE)))
		return EINVAL;
	if (s->cr0 & CR0_PG && !(s->efer & EFER_LMA) != !(s->efer & EFER_LME))
		return EINVAL;
	/* SDM Vol. 3A 2.5: PG needs PE, NW needs CD */
	if ((s->cr0 & CR0_PG && !(s->cr0 & CR0_PE)) ||
	    (s->cr0 & CR0_NW && !(s->cr0 & CR0_CD)))
		return EINVAL;
	return 0;
}

static bool rflags_ok(uint64_t rflags)
{
	return (rflags & ~RFLAGS_DEFINED) == RFLAGS_FIXED;
}

/*
 * What main read of a vCPU just before an ioctl that depends on it (no
 * runner has the vCPU, so nothing changes it meanwhile).
 */
struct vcpu_view {
	bool have_regs, have_sregs;
	struct xvcpu_regs regs;
	struct xvcpu_sregs sregs;
};

/* Whether TRANSLATE of @la is refused as not canonical (kmod/gwalk.c) */
static bool translate_noncanonical(const struct xvcpu_sregs *s, uint64_t la)
{
	unsigned int width = s->cr4 & CR4_LA57 ? 57 : 48;
	uint64_t top;

	if (!(s->efer & EFER_LMA))
		return la >> 32;
	top = la >> (width - 1);
	return top && top != ~0ULL >> (width - 1);
}

static void predict_translate(struct expect *e, const struct ptr *p,
			      const struct vcpu_view *view)
{
	const struct xvcpu_translation *t = p->content;
	uint32_t known_access = XVCPU_ACCESS_WRITE | XVCPU_ACCESS_USER |
				XVCPU_ACCESS_FETCH;
	bool unsure = true;

	if (!p->rd) {
		exp_err(e, EFAULT);
		return;
	}
	if (p->det) {
		if (t->pad || t->reserved[0] || t->reserved[1] ||
		    t->access & ~known_access ||
		    (t->access & XVCPU_ACCESS_WRITE &&
		     t->access & XVCPU_ACCESS_FETCH)) {
			exp_err(e, EINVAL);
			return;
		}
		if (view && view->have_sregs) {
			if (translate_noncanonical(&view->sregs,
						   t->linear_address)) {
				exp_err(e, EINVAL);
				return;
			}
			unsure = false;
			/* Paging on: the tables may lie outside the slots */
			if (view->sregs.cr0 & CR0_PG)
				exp_err(e, ENOENT);
		}
	}
	if (unsure) {
		exp_err(e, EINVAL);
		exp_err(e, ENOENT);
	}
	/* Written back only after a walk */
	if (p->wr)
		e->ok = 0;
	else
		exp_err(e, EFAULT);
}

/* SET_CPUID (kmod/dev.c vcpu_set_cpuid): nent and pad, then the entries. */
static void predict_set_cpuid(struct expect *e, const struct ptr *p)
{
	const struct xvcpu_cpuid *c = p->content;
	int r;

	if (predict_cpuid_header(e, p))
		return;
	if (c->pad || c->nent > XVCPU_CPUID_MAX_ENTRIES) {
		exp_err(e, EINVAL);
		return;
	}
	if (p->rd_len < CPUID_BYTES(c->nent)) {
		exp_err(e, EFAULT);
		return;
	}
	if (!ptr_known(p, CPUID_BYTES(c->nent))) {
		e->ok = 0;
		exp_err(e, EINVAL);
		return;
	}
	r = cpuid_verdict(c->entries, c->nent);
	if (r)
		exp_err(e, r);
	else
		e->ok = 0;
}

/*
 * The answer of a vCPU ioctl.  @v: main's model of the vCPU (NULL in a
 * runner), @busy: a runner may be in an ioctl of it, @view: its state
 * read just before, or NULL.
 */
static void predict_vcpu(struct expect *e, const struct fz_vcpu *v, bool busy,
			 unsigned int cmd, unsigned long arg,
			 const struct ptr *p, const struct vcpu_view *view)
{
	const struct xvcpu_interrupt *irq;
	enum queued q;
	unsigned int ev;
	int r;

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
		/* Completing an INS into memory deleted (or read-only) since */
		exp_err(e, ENOENT);
		exp_err(e, EPERM);
		break;
	case XVCPU_GET_REGS:
	case XVCPU_GET_SREGS:
	case XVCPU_GET_EXIT_INFO:
	case XVCPU_GET_EVENTS:
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
			/* IF = 0: refused with one interrupt injected and one queued */
			if (!(((const struct xvcpu_regs *)p->content)->rflags &
			      RFLAGS_IF))
				exp_err(e, EINVAL);
		} else {
			exp_err(e, EINVAL);
		}
		break;
	case XVCPU_SET_SREGS:
		if (!p->rd) {
			exp_err(e, EFAULT);
			break;
		}
		r = p->det ? sregs_verdict(p->content) : -1;
		if (r <= 0)
			e->ok = 0;
		if (r)
			exp_err(e, EINVAL);
		break;
	case XVCPU_SET_EVENTS:
		if (!p->rd) {
			exp_err(e, EFAULT);
			break;
		}
		ev = V_OK | V_EINVAL;
		if (p->det)
			ev = events_verdict(p->content,
					    view && view->have_regs ?
					    (int64_t)view->regs.rflags : -1);
		if (ev & V_OK)
			e->ok = 0;
		if (ev & V_EINVAL)
			exp_err(e, EINVAL);
		break;
	case XVCPU_INTERRUPT:
		irq = p->content;
		if (!p->rd) {
			exp_err(e, EFAULT);
			break;
		}
		if (p->det && (irq->pad || irq->vector > 255)) {
			exp_err(e, EINVAL);
			break;
		}
		if (!p->det)
			exp_err(e, EINVAL);
		q = v && !busy ? v->irq : Q_UNKNOWN;
		if (q != Q_YES)
			e->ok = 0;
		if (q != Q_NO)
			exp_err(e, EBUSY);
		break;
	case XVCPU_NMI:
		if (arg) {
			exp_err(e, EINVAL);
			break;
		}
		if (!cap_value(XVCPU_CAP_NMI)) {
			exp_err(e, EOPNOTSUPP);
			break;
		}
		q = v && !busy ? v->nmi : Q_UNKNOWN;
		if (q != Q_YES)
			e->ok = 0;
		if (q != Q_NO)
			exp_err(e, EBUSY);
		break;
	case XVCPU_TRANSLATE:
		predict_translate(e, p, busy ? NULL : view);
		break;
	case XVCPU_SET_GUEST_DEBUG:
		if (!p->rd) {
			exp_err(e, EFAULT);
		} else if (!p->det) {
			e->ok = 0;
			exp_err(e, EINVAL);
			exp_err(e, EOPNOTSUPP);
		} else {
			r = guest_debug_verdict(p->content);
			if (r)
				exp_err(e, r);
			else
				e->ok = 0;
		}
		break;
	case XVCPU_SET_CPUID:
		predict_set_cpuid(e, p);
		break;
	case XVCPU_GET_CPUID:
		predict_cpuid_get(e, p, v && !v->cpuid_lost ?
				  (long)v->cpuid_nent : -1);
		break;
	default:
		exp_err(e, ENOTTY);
		break;
	}
}

/* ---- running guests: timers, exits, runner threads ---- */

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

/*
 * Arm @timer to fire after @ns, and then every RUN_REPEAT_NS until it is
 * disarmed (@ns = 0).  A one-shot timer is not enough: if it fires after
 * timer_settime() but before the ioctl starts (the thread was preempted),
 * its signal is taken in userspace and a guest spinning in the kernel's
 * run loop is never stopped.
 */
static void timer_arm(timer_t timer, long ns)
{
	struct itimerspec its = {
		.it_value.tv_nsec = ns,
		.it_interval.tv_nsec = ns ? RUN_REPEAT_NS : 0,
	};

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
 * are invalid guest state (33), MSR loading (34) and machine check (41),
 * with bit 31 set (SDM Vol. 3C 27.8).  Anything else (Bochs reports
 * 0xfffffffb for an event injection it refuses) is state the kernel let
 * through that it should have refused or cleared.
 */
static void check_entry_failure(const struct xvcpu_run *run, const char *who)
{
	uint64_t why = run->fail_entry.hardware_entry_failure_reason;
	unsigned int basic = why & 0xffff;

	if (why >> 63 || (basic == 33 || basic == 34 || basic == 41))
		return;
	fail("%s: VM entry failed with exit reason %#llx, not one for guest state",
	     who, (unsigned long long)why);
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
	if (run->ready_for_interrupt_injection && !run->if_flag)
		fail("%s: ready_for_interrupt_injection with RFLAGS.IF = 0 (exit %s)",
		     who, xvcpu_exit_name(reason));
	switch (reason) {
	case XVCPU_EXIT_IO:
		if (run->io.direction > XVCPU_IO_OUT ||
		    (run->io.size != 1 && run->io.size != 2 &&
		     run->io.size != 4) || !run->io.count ||
		    run->io.string > 1 ||
		    (run->io.string ?
		     run->io.data_offset != XVCPU_RUN_IO_DATA_OFFSET ||
		     run->io.count * run->io.size > XVCPU_RUN_IO_DATA_SIZE :
		     run->io.count != 1))
			fail("%s: IO exit dir %u size %u port %#x count %u string %u offset %u",
			     who, run->io.direction, run->io.size,
			     run->io.port, run->io.count, run->io.string,
			     run->io.data_offset);
		break;
	case XVCPU_EXIT_MMIO:
		if (!run->mmio.access ||
		    run->mmio.access & ~(XVCPU_MMIO_READ | XVCPU_MMIO_WRITE |
					 XVCPU_MMIO_FETCH) ||
		    run->mmio.insn_len > 15)
			fail("%s: MMIO exit gpa %#llx access %#x insn_len %u",
			     who, (unsigned long long)run->mmio.phys_addr,
			     run->mmio.access, run->mmio.insn_len);
		break;
	case XVCPU_EXIT_INTERNAL_ERROR:
		if (run->internal.suberror != XVCPU_INTERNAL_UNHANDLED_EXIT ||
		    run->internal.ndata != 8)
			fail("%s: internal error suberror %u ndata %u", who,
			     run->internal.suberror, run->internal.ndata);
		break;
	case XVCPU_EXIT_FAIL_ENTRY:
		c->fail_entry++;
		check_entry_failure(run, who);
		/* A guest-state field only for invalid guest state */
		if (run->fail_entry.pad ||
		    (run->fail_entry.field &&
		     (run->fail_entry.hardware_entry_failure_reason &
		      0xffff) != 33))
			fail("%s: entry failure %#llx names field %#x, pad %u",
			     who, (unsigned long long)
			     run->fail_entry.hardware_entry_failure_reason,
			     run->fail_entry.field, run->fail_entry.pad);
		break;
	case XVCPU_EXIT_MSR:
		if (run->msr.direction > XVCPU_MSR_WRITE)
			fail("%s: MSR exit direction %u", who,
			     run->msr.direction);
		break;
	case XVCPU_EXIT_IRQ_WINDOW_OPEN:
		/* Asked for, and the guest can take an interrupt now */
		if (!run->request_interrupt_window ||
		    !run->ready_for_interrupt_injection)
			fail("%s: interrupt window exit, request %u ready %u if %u",
			     who, run->request_interrupt_window,
			     run->ready_for_interrupt_injection,
			     run->if_flag);
		break;
	case XVCPU_EXIT_DEBUG:
		/* #DB or #BP; DR6 and DR7 with their fixed bits set */
		if ((run->debug.exception != 1 && run->debug.exception != 3) ||
		    (run->debug.dr6 & 0xffff0ff0) != 0xffff0ff0 ||
		    !(run->debug.dr7 & 0x400))
			fail("%s: debug exit exception %u dr6 %#llx dr7 %#llx",
			     who, run->debug.exception,
			     (unsigned long long)run->debug.dr6,
			     (unsigned long long)run->debug.dr7);
		break;
	default:
		break;
	}
	check_vmfail(run, c, who);
}

/*
 * After an exit of the guest program: complete IN and VMCALL with @v and
 * move RIP past an MMIO instruction.  Other exits and other code are left
 * alone.  @queued: an interrupt may be queued on the vCPU (this thread
 * does not know, or another thread may queue one), so that SET_REGS with
 * RFLAGS.IF = 0 may be refused.  Returns false if an ioctl that must work
 * failed.
 */
static bool program_step(int fd, struct xvcpu_run *run, uint64_t v,
			 bool queued, const char *who)
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
	case XVCPU_EXIT_MSR:
		run->msr.data = v;
		run->msr.error = (v >> 60) == 0xf;
		return true;
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
	/* IF = 0 with an interrupt injected and one queued: refused */
	if (queued && !(regs.rflags & RFLAGS_IF))
		exp_err(&e, EINVAL);
	ret = ioctl(fd, XVCPU_SET_REGS, &regs);
	err = errno;
	count_call();
	return check(&e, ret, err, who);
}

/*
 * Put a vCPU at the start of the program (or of the MSR program, with
 * RFLAGS.IF = @irqs_on) in a fresh state: SET_EVENTS with nothing
 * pending, SET_SREGS and SET_REGS.  EBUSY tolerated (another thread in
 * an ioctl of the vCPU).  @shared: another thread may queue events on
 * the vCPU between SET_EVENTS and SET_REGS, so SET_REGS with IF = 0 may
 * be refused.  Returns false if a step did not succeed.
 */
static bool program_reset(int fd, bool msr, bool irqs_on, bool shared,
			  const char *who)
{
	static const struct xvcpu_events none;
	struct xvcpu_regs regs = fz.prog_regs;
	bool done = true;
	struct expect e;
	long ret;
	int err;

	exp_init(&e);
	e.ok = 0;
	exp_err(&e, EBUSY);
	/* Events first: RFLAGS.IF = 0 may not meet an injected interrupt */
	ret = ioctl(fd, XVCPU_SET_EVENTS, &none);
	err = errno;
	count_call();
	done &= check(&e, ret, err, who) && !ret;
	ret = ioctl(fd, XVCPU_SET_SREGS,
		    msr ? &sregs_msrprog : &fz.sregs_long);
	err = errno;
	count_call();
	done &= check(&e, ret, err, who) && !ret;
	if (msr) {
		regs.rip = MSRPROG_CODE;
		if (irqs_on)
			regs.rflags |= RFLAGS_IF;
	}
	if (shared && !(regs.rflags & RFLAGS_IF))
		exp_err(&e, EINVAL);
	ret = ioctl(fd, XVCPU_SET_REGS, &regs);
	err = errno;
	count_call();
	done &= check(&e, ret, err, who) && !ret;
	return done;
}

/* Main's program_reset() of vCPU @i: its event queues are empty after. */
static void program_reset_main(int i, bool msr, bool irqs_on)
{
	struct fz_vcpu *v = &fz.vcpus[i];
	bool shared = v->runner >= 0;

	if (program_reset(v->fd, msr, irqs_on, shared, "main") && !shared)
		v->irq = v->nmi = Q_NO;
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
	unsigned long events_set, irqs_queued, nmis_queued, debug_set;
};

/*
 * A runner's ioctl on its vCPU: main may be in one of the same vCPU, so
 * EBUSY is always an answer too.  @ok: 0 may be the answer; @errs: the
 * other errnos, 0-terminated.  Returns whether it succeeded.
 */
static bool runner_ioctl(struct runner *rn, unsigned long cmd, const void *arg,
			 bool ok, const int *errs, const char *what)
{
	struct expect e;
	char buf[96];
	long ret;
	int err;

	exp_init(&e);
	if (ok)
		e.ok = 0;
	exp_err(&e, EBUSY);
	while (errs && *errs)
		exp_err(&e, *errs++);
	ret = ioctl(rn->fd, cmd, arg);
	err = errno;
	count_call();
	snprintf(buf, sizeof(buf), "runner %d: %s", rn->index, what);
	check(&e, ret, err, buf);
	return !ret;
}

/*
 * Events for the guest a runner is about to run: events set, an
 * interrupt or NMI queued, guest debugging, an interrupt window asked
 * for.  What is queued stays when the guest cannot take it.
 */
static void runner_events(struct runner *rn, struct rng *r,
			  struct xvcpu_run *run)
{
	static const int einval[] = { EINVAL, 0 };
	static const int enotsupp[] = { EOPNOTSUPP, 0 };
	struct xvcpu_guest_debug dbg;
	struct xvcpu_interrupt irq;
	struct xvcpu_events ev;
	unsigned int n, v;
	int d;

	for (n = 1 + rng_below(r, 3); n > 0; n--) {
		switch (rng_below(r, 6)) {
		case 0:
			gen_events(r, &ev);
			/* Whether RFLAGS.IF is set: main may have changed it */
			v = events_verdict(&ev, -1);
			if (runner_ioctl(rn, XVCPU_SET_EVENTS, &ev, v & V_OK,
					 v & V_EINVAL ? einval : NULL,
					 "SET_EVENTS"))
				rn->events_set++;
			break;
		case 1:
		case 2:
			memset(&irq, 0, sizeof(irq));
			irq.vector = rng_below(r, 256);
			/* EBUSY: still queued */
			if (runner_ioctl(rn, XVCPU_INTERRUPT, &irq, true, NULL,
					 "INTERRUPT"))
				rn->irqs_queued++;
			break;
		case 3:
			v = cap_value(XVCPU_CAP_NMI);
			if (runner_ioctl(rn, XVCPU_NMI, NULL, v,
					 v ? NULL : enotsupp, "NMI"))
				rn->nmis_queued++;
			break;
		case 4:
			gen_guest_debug(r, &dbg);
			if (rng_chance(r, 80))
				dbg.flags &= DEBUG_FLAGS;
			dbg.pad = 0;
			memset(dbg.reserved, 0, sizeof(dbg.reserved));
			d = guest_debug_verdict(&dbg);
			if (runner_ioctl(rn, XVCPU_SET_GUEST_DEBUG, &dbg, !d,
					 d == EINVAL ? einval :
					 d ? enotsupp : NULL,
					 "SET_GUEST_DEBUG"))
				rn->debug_set++;
			break;
		default:
			run->request_interrupt_window = rng_chance(r, 50);
			break;
		}
	}
}

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
	bool irqs_on;
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
	/* The MSR program has an IDT: interrupts can reach it */
	irqs_on = rn->kind == JOB_MSR && rng_chance(&rng, 50);
	if (rn->kind == JOB_PROGRAM || rn->kind == JOB_MSR) {
		program_reset(rn->fd, rn->kind == JOB_MSR, irqs_on, true, who);
	} else if (rn->kind == JOB_RANDOM_STATE) {
		gen_sregs(&rng, &sregs);
		gen_regs(&rng, &regs);
		ret = ioctl(rn->fd, XVCPU_SET_SREGS, &sregs);
		count_call();
		ret = ioctl(rn->fd, XVCPU_SET_REGS, &regs);
		count_call();
	}
	if (rng_chance(&rng, 40))
		runner_events(rn, &rng, run);

	exp_init(&e);
	predict_vcpu(&e, NULL, true, XVCPU_RUN, 0, NULL, NULL);
	for (i = 0; i < rn->runs; i++) {
		uint64_t v = rng_u64(&rng);

		if (__atomic_load_n(&rn->stop, __ATOMIC_RELAXED))
			break;
		if (rng_chance(&rng, 5))
			runner_events(rn, &rng, run);
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
			check_entry_failure(run, who);
		if (!program_step(rn->fd, run, v, true, who))
			break;
		switch (run->exit_reason) {
		case XVCPU_EXIT_SHUTDOWN:
		case XVCPU_EXIT_FAIL_ENTRY:
		case XVCPU_EXIT_INTERNAL_ERROR:
			if (rn->kind == JOB_PROGRAM || rn->kind == JOB_MSR)
				program_reset(rn->fd, rn->kind == JOB_MSR,
					      irqs_on, true, who);
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
	fz.events_set += rn->events_set;
	fz.irqs_queued += rn->irqs_queued;
	fz.nmis_queued += rn->nmis_queued;
	fz.debug_set += rn->debug_set;
	memset(&rn->c, 0, sizeof(rn->c));
	rn->eintr = rn->ebusy = 0;
	rn->events_set = rn->irqs_queued = rn->nmis_queued = rn->debug_set = 0;
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
	/* What it queues, and what its guests take, is not followed */
	fz.vcpus[vcpu].irq = fz.vcpus[vcpu].nmi = Q_UNKNOWN;
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
	/* A new vCPU: nothing queued, the supported CPUID table */
	v->irq = v->nmi = Q_NO;
	v->cpuid_lost = false;
	v->cpuid_nent = fz.supported.nent;
	memcpy(v->cpuid, fz.supported.entries,
	       fz.supported.nent * sizeof(v->cpuid[0]));
	fz.vms[vmi].ids |= 1U << id;
	fz.vms[vmi].nr_vcpus++;
	vlog("vCPU %d: VM %d id %u fd %d", i, vmi, id, fd);
	if (init && fz.vms[vmi].code)
		program_reset_main(i, false, false);
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

/* Learn a vCPU's event queues from what GET_EVENTS gave. */
static void learn_queues(struct fz_vcpu *v, const struct xvcpu_events *ev)
{
	v->irq = ev->interrupt_queued ? Q_YES : Q_NO;
	v->nmi = ev->nmi_queued ? Q_YES : Q_NO;
}

static void check_events_output(const struct xvcpu_events *ev,
				const char *what)
{
	const struct xvcpu_event *in = &ev->injected;

	/* What GET_EVENTS gives, SET_EVENTS must take */
	if (!(events_verdict(ev, -1) & V_OK))
		fail("%s gave what SET_EVENTS refuses: injected %u type %u vector %u code %u/%#x len %u, irq %u/%u nmi %u masked %u shadow %#x",
		     what, in->valid, in->type, in->vector, in->has_error_code,
		     in->error_code, in->instruction_len, ev->interrupt_queued,
		     ev->interrupt_vector, ev->nmi_queued, ev->nmi_masked,
		     ev->shadow);
}

/* XVCPU_TRANSLATE's answer @t to the question @in. */
static void check_translation(const struct xvcpu_translation *t,
			      const struct xvcpu_translation *in,
			      const struct vcpu_view *view)
{
	bool paging = !view || !view->have_sregs ||
		      view->sregs.cr0 & CR0_PG;

	if (t->linear_address != in->linear_address ||
	    t->access != in->access || t->pad || t->reserved[0] ||
	    t->reserved[1])
		fail("TRANSLATE changed its input: %#llx access %#x",
		     (unsigned long long)t->linear_address, t->access);
	if (t->valid > 1 || t->writable > 1 || t->user > 1 ||
	    t->executable > 1 ||
	    (t->valid && (t->error_code ||
			  (t->page_size != 1ULL << 12 &&
			   t->page_size != 1ULL << 21 &&
			   t->page_size != 1ULL << 22 &&
			   t->page_size != 1ULL << 30))))
		fail("TRANSLATE of %#llx: valid %u w %u u %u x %u error %#x page size %#llx",
		     (unsigned long long)in->linear_address, t->valid,
		     t->writable, t->user, t->executable, t->error_code,
		     (unsigned long long)t->page_size);
	/* Paging off: linear is physical, everything allowed */
	if (!paging && (!t->valid || t->physical_address != in->linear_address ||
			t->page_size != PG || !t->writable || !t->user ||
			!t->executable))
		fail("TRANSLATE of %#llx with paging off: valid %u to %#llx page size %#llx w %u u %u x %u",
		     (unsigned long long)in->linear_address, t->valid,
		     (unsigned long long)t->physical_address,
		     (unsigned long long)t->page_size, t->writable, t->user,
		     t->executable);
}

/* GET_CPUID or GET_SUPPORTED_CPUID gave @got; @want is what it holds. */
static void check_cpuid_output(const struct xvcpu_cpuid *got,
			       const struct xvcpu_cpuid_entry *want,
			       uint32_t nent, const char *what)
{
	uint32_t i;

	if (got->nent != nent || got->pad) {
		fail("%s: nent %u pad %u, expected %u entries", what,
		     got->nent, got->pad, nent);
		return;
	}
	for (i = 0; i < nent; i++) {
		if (!memcmp(&got->entries[i], &want[i], sizeof(want[i])))
			continue;
		fail("%s: entry %u is %#x/%#x, expected %#x/%#x", what, i,
		     got->entries[i].function, got->entries[i].index,
		     want[i].function, want[i].index);
		return;
	}
}

/*
 * Sanity of what a GET ioctl (or TRANSLATE) wrote at @out, for vCPU @v
 * (NULL for a system fd); @in is what was passed.
 */
static void check_get_output(unsigned int cmd, const void *out, const void *in,
			     struct fz_vcpu *v, bool busy,
			     const struct vcpu_view *view)
{
	const struct xvcpu_regs *regs = out;
	const struct xvcpu_sregs *sregs = out;
	const struct xvcpu_exit_info *info = out;
	const struct xvcpu_cpuid *cpuid = out;
	unsigned int i;

	if (!v && cmd != XVCPU_GET_SUPPORTED_CPUID)
		return;
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
	case XVCPU_GET_EVENTS:
		check_events_output(out, "GET_EVENTS");
		if (!busy)
			learn_queues(v, out);
		break;
	case XVCPU_TRANSLATE:
		check_translation(out, in, busy ? NULL : view);
		break;
	case XVCPU_GET_SUPPORTED_CPUID:
		check_cpuid_output(cpuid, fz.supported.entries,
				   fz.supported.nent, "GET_SUPPORTED_CPUID");
		break;
	case XVCPU_GET_CPUID:
		if (!v->cpuid_lost) {
			check_cpuid_output(cpuid, v->cpuid, v->cpuid_nent,
					   "GET_CPUID");
		} else if (cpuid->nent <= XVCPU_CPUID_MAX_ENTRIES) {
			/* Found again */
			v->cpuid_nent = cpuid->nent;
			memcpy(v->cpuid, cpuid->entries,
			       cpuid->nent * sizeof(v->cpuid[0]));
			v->cpuid_lost = false;
		}
		break;
	}
}

/*
 * After SET_MEMORY_REGION that would have created a slot returned EFAULT
 * (mmap_offset could not be written back): whether the slot exists, found
 * with mmap().
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

/* A guest may have run on vCPU @v: what was queued may be injected now. */
static void vcpu_ran(struct fz_vcpu *v)
{
	if (v->irq == Q_YES)
		v->irq = Q_UNKNOWN;
	if (v->nmi == Q_YES)
		v->nmi = Q_UNKNOWN;
}

/* Read what a vCPU ioctl's outcome depends on, when nothing can change it. */
static void vcpu_view_read(int fd, unsigned int cmd, struct vcpu_view *view)
{
	struct expect e;
	long ret;
	int err;

	exp_init(&e);
	e.ok = 0;
	if (cmd == XVCPU_TRANSLATE) {
		ret = do_ioctl(fd, XVCPU_GET_SREGS, (uintptr_t)&view->sregs,
			       &err);
		view->have_sregs = check(&e, ret, err, "GET_SREGS") && !ret;
	} else if (cmd == XVCPU_SET_EVENTS) {
		ret = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&view->regs,
			       &err);
		view->have_regs = check(&e, ret, err, "GET_REGS") && !ret;
	}
}

/* Model updates after vCPU ioctl @cmd on @v returned @ret (errno @err). */
static void vcpu_model_update(struct fz_vcpu *v, bool busy, unsigned int cmd,
			      const struct ptr *p, long ret, int err)
{
	const struct xvcpu_events *ev = p->content;
	const struct xvcpu_cpuid *c = p->content;

	switch (cmd) {
	case XVCPU_RUN:
		vcpu_ran(v);
		break;
	case XVCPU_SET_EVENTS:
		if (ret || busy)
			break;
		if (p->det)
			learn_queues(v, ev);
		else
			v->irq = v->nmi = Q_UNKNOWN;
		fz.events_set++;
		break;
	case XVCPU_INTERRUPT:
	case XVCPU_NMI:
		if (ret && err != EBUSY)
			break;
		if (!ret)
			++*(cmd == XVCPU_NMI ? &fz.nmis_queued :
			    &fz.irqs_queued);
		/* Queued now: by this call, or an earlier one */
		if (!busy)
			*(cmd == XVCPU_NMI ? &v->nmi : &v->irq) = Q_YES;
		break;
	case XVCPU_SET_GUEST_DEBUG:
		if (!ret)
			fz.debug_set++;
		break;
	case XVCPU_SET_CPUID:
		if (ret)
			break;
		/* Only main sets it: known even with a runner on the vCPU */
		if (ptr_known(p, CPUID_HDR) &&
		    c->nent <= XVCPU_CPUID_MAX_ENTRIES &&
		    ptr_known(p, CPUID_BYTES(c->nent))) {
			v->cpuid_nent = c->nent;
			memcpy(v->cpuid, c->entries,
			       c->nent * sizeof(v->cpuid[0]));
		} else {
			v->cpuid_lost = true;
		}
		break;
	}
}

static const char *const kind_names[] = { "system", "VM", "vCPU" };

/* The content of an ioctl's structure argument. */
static void gen_content(struct rng *r, unsigned int cmd, int kind, int obj,
			void *content, size_t size)
{
	switch (cmd) {
	case XVCPU_SET_MEMORY_REGION:
		if (rng_chance(r, 90))
			gen_region(r, kind == FD_VM ? &fz.vms[obj] : NULL,
				   content);
		else
			rng_bytes(r, content, size);
		break;
	case XVCPU_SET_REGS:
		gen_regs(r, content);
		break;
	case XVCPU_SET_SREGS:
		gen_sregs(r, content);
		break;
	case XVCPU_SET_MSR_POLICY:
		memset(content, 0, size);
		if (rng_chance(r, 10))
			rng_bytes(r, content, size);
		else if (rng_chance(r, 60))
			((struct xvcpu_msr_policy *)content)->flags =
				XVCPU_MSR_EXIT_UNKNOWN;
		break;
	case XVCPU_SET_EVENTS:
		gen_events(r, content);
		break;
	case XVCPU_INTERRUPT:
		gen_interrupt(r, content);
		break;
	case XVCPU_TRANSLATE:
		gen_translation(r, content);
		break;
	case XVCPU_SET_GUEST_DEBUG:
		gen_guest_debug(r, content);
		break;
	case XVCPU_SET_CPUID:
	case XVCPU_GET_CPUID:
	case XVCPU_GET_SUPPORTED_CPUID:
		gen_cpuid(r, content, cmd != XVCPU_SET_CPUID);
		break;
	default:
		rng_bytes(r, content, size);
		break;
	}
}

/*
 * One ioctl on an fd of @kind: a known or random number (@force: index in
 * known[] or -1), an integer or a pointer of some class, the structure
 * valid, mutated or random.
 */
static void op_ioctl(struct rng *r, int kind, int force)
{
	static uint64_t content_buf[(MAX_ARG_SIZE + 7) / 8];
	uint8_t *content = (uint8_t *)content_buf;
	struct vcpu_view view = { 0 };
	const struct known_cmd *k;
	unsigned long cmd, arg;
	bool use_ptr, busy = false, prepare, init, roundtrip, map_run;
	struct fz_vcpu *v = NULL;
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
		if (obj < 0)
			break;
		v = &fz.vcpus[obj];
		fd = v->fd;
		busy = v->runner >= 0;
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
	gen_content(r, c32, kind, obj, content, size);

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
			arg = rng_below(r, 24);
		else
			arg = rng_chance(r, force >= 0 ? 90 : 60) ? 0 :
			      rng_value(r);
	}

	exp_init(&e);
	switch (kind) {
	case FD_SYS:
		predict_sys(&e, c32, arg, &p);
		break;
	case FD_VM:
		if (c32 == XVCPU_CREATE_VCPU)
			vcpu_id_settle(obj, arg);
		predict_vm(&e, &fz.vms[obj], c32, arg, &p);
		break;
	default:
		if (!busy)
			vcpu_view_read(fd, c32, &view);
		predict_vcpu(&e, v, busy, c32, arg, &p, &view);
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
	if (k)
		(ret < 0 ? fz.known_err : fz.known_ok)[k - known]++;
	if (!check(&e, ret, err, what)) {
		if (kind == FD_VM && c32 == XVCPU_SET_MEMORY_REGION)
			fz.vms[obj].lost = true;
		/* Out of step: stop predicting what depends on it */
		if (v) {
			v->irq = v->nmi = Q_UNKNOWN;
			v->cpuid_lost = true;
		}
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
		} else if (err == EFAULT && copy.memory_size &&
			   !region_verdict(&fz.vms[obj], &copy) &&
			   region_exists(fd, copy.slot)) {
			/* The caller was not told: the slot must be gone */
			fail("SET_MEMORY_REGION returned EFAULT but slot %u (%#llx bytes at %#llx) exists",
			     copy.slot, (unsigned long long)copy.memory_size,
			     (unsigned long long)copy.guest_phys_addr);
			fz.vms[obj].lost = true;
		}
	} else if (v) {
		vcpu_model_update(v, busy, c32, &p, ret, err);
	}

	/* What was written, where we can read it back */
	if (ret == 0 && p.cls == P_RW && k && k->size && (v || kind == FD_SYS))
		check_get_output(c32, (void *)(uintptr_t)p.addr, content, v,
				 busy, &view);
	if (ret == 0 && v && c32 == XVCPU_SET_REGS && roundtrip && !busy &&
	    p.cls == P_RW) {
		struct xvcpu_regs got;

		ret = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&got, &err);
		if (ret || memcmp(&got, content, sizeof(got)))
			fail("GET_REGS after SET_REGS: %s, rip %#llx rflags %#llx",
			     ret ? errname(err) : "differs",
			     (unsigned long long)got.rip,
			     (unsigned long long)got.rflags);
	}
}

/*
 * GET_SREGS, SET_SREGS, GET_SREGS, and the same for the registers and
 * the events: what was got must be taken back as is.
 */
static void op_save_restore(struct rng *r)
{
	struct xvcpu_sregs a, b;
	struct xvcpu_regs ra, rb;
	struct xvcpu_events ea, eb;
	int i = pick_vcpu(r), fd, err[9];
	struct fz_vcpu *v;
	long ret[9];

	if (i < 0 || fz.vcpus[i].runner >= 0)
		return;
	v = &fz.vcpus[i];
	fd = v->fd;
	memset(&b, 0, sizeof(b));
	memset(&rb, 0, sizeof(rb));
	memset(&eb, 0, sizeof(eb));
	ret[0] = do_ioctl(fd, XVCPU_GET_SREGS, (uintptr_t)&a, &err[0]);
	ret[1] = do_ioctl(fd, XVCPU_SET_SREGS, (uintptr_t)&a, &err[1]);
	ret[2] = do_ioctl(fd, XVCPU_GET_SREGS, (uintptr_t)&b, &err[2]);
	ret[3] = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&ra, &err[3]);
	ret[4] = do_ioctl(fd, XVCPU_SET_REGS, (uintptr_t)&ra, &err[4]);
	ret[5] = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&rb, &err[5]);
	ret[6] = do_ioctl(fd, XVCPU_GET_EVENTS, (uintptr_t)&ea, &err[6]);
	ret[7] = do_ioctl(fd, XVCPU_SET_EVENTS, (uintptr_t)&ea, &err[7]);
	ret[8] = do_ioctl(fd, XVCPU_GET_EVENTS, (uintptr_t)&eb, &err[8]);
	for (i = 0; i < 9; i++) {
		if (ret[i]) {
			fail("save/restore step %d: %s", i, errname(err[i]));
			if (i >= 6)
				check_events_output(&ea, "GET_EVENTS (saved)");
			v->irq = v->nmi = Q_UNKNOWN;
			return;
		}
	}
	learn_queues(v, &eb);
	if (memcmp(&ea, &eb, sizeof(ea)))
		fail("SET_EVENTS(GET_EVENTS()) changed the events: injected %u/%u type %u/%u vector %u/%u, irq %u/%u nmi %u/%u masked %u/%u shadow %#x/%#x",
		     ea.injected.valid, eb.injected.valid, ea.injected.type,
		     eb.injected.type, ea.injected.vector, eb.injected.vector,
		     ea.interrupt_queued, eb.interrupt_queued, ea.nmi_queued,
		     eb.nmi_queued, ea.nmi_masked, eb.nmi_masked, ea.shadow,
		     eb.shadow);
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

/* Mostly well-formed v1 ioctls of a vCPU: its events and debugging. */
static void op_events(struct rng *r)
{
	static const unsigned int cmds[] = {
		XVCPU_GET_EVENTS, XVCPU_SET_EVENTS, XVCPU_SET_EVENTS,
		XVCPU_INTERRUPT, XVCPU_INTERRUPT, XVCPU_NMI, XVCPU_TRANSLATE,
		XVCPU_TRANSLATE, XVCPU_SET_GUEST_DEBUG,
	};

	op_ioctl(r, FD_VCPU,
		 find_known(cmds[rng_below(r, ARRAY_SIZE(cmds))]) - known);
}

/* The CPUID tables: supported, and a vCPU's own. */
static void op_cpuid(struct rng *r)
{
	static const unsigned int cmds[] = {
		XVCPU_SET_CPUID, XVCPU_GET_CPUID,
	};

	if (rng_chance(r, 20))
		op_ioctl(r, FD_SYS, K_GET_SUPPORTED_CPUID);
	else
		op_ioctl(r, FD_VCPU,
			 find_known(cmds[rng_below(r, 2)]) - known);
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

/*
 * A fault outside touch_direct() is the fuzzer's own bug (or memory the
 * kernel should not have changed): say where before dying, for
 * "addr2line -e fuzz_test <ip>".
 */
static void on_fault(int sig, siginfo_t *si, void *uc_arg)
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

/* After a failure: where the vCPU is, for the log. */
static void log_vcpu_state(int fd)
{
	struct xvcpu_exit_info info;
	struct xvcpu_events ev;
	struct xvcpu_sregs s;
	struct xvcpu_regs r;

	if (ioctl(fd, XVCPU_GET_REGS, &r) || ioctl(fd, XVCPU_GET_SREGS, &s) ||
	    ioctl(fd, XVCPU_GET_EVENTS, &ev) ||
	    ioctl(fd, XVCPU_GET_EXIT_INFO, &info))
		return;
	printf("# state: rip %#llx rsp %#llx rflags %#llx cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx cs %#x/%#x idt %#llx/%#x\n",
	       (unsigned long long)r.rip, (unsigned long long)r.rsp,
	       (unsigned long long)r.rflags, (unsigned long long)s.cr0,
	       (unsigned long long)s.cr3, (unsigned long long)s.cr4,
	       (unsigned long long)s.efer, s.cs.selector, s.cs.type,
	       (unsigned long long)s.idt.base, s.idt.limit);
	printf("# events: injected %u type %u vector %u, irq %u nmi %u masked %u shadow %#x; exit %#x qual %#llx intr %#x idt-vectoring %#x\n",
	       ev.injected.valid, ev.injected.type, ev.injected.vector,
	       ev.interrupt_queued, ev.nmi_queued, ev.nmi_masked, ev.shadow,
	       info.exit_reason, (unsigned long long)info.exit_qualification,
	       info.intr_info, info.idt_vectoring_info);
}

/*
 * Set vCPU @i (no runner on it) to the start of the program, rewritten,
 * and run it: the first exit must be the program's OUT.
 */
static void fresh_start(int i, int fd, struct xvcpu_run *run)
{
	static const struct xvcpu_guest_debug no_debug;
	struct fz_vcpu *v = &fz.vcpus[i];
	struct expect e;
	long ret;
	int err;

	prog_write(fz.vms[v->vm].code);
	if (!program_reset(fd, false, false, false, "main (fresh start)"))
		return;
	v->irq = v->nmi = Q_NO;
	/* Not guest state: what the VMM asks for besides */
	exp_init(&e);
	e.ok = 0;
	ret = do_ioctl(fd, XVCPU_SET_GUEST_DEBUG, (uintptr_t)&no_debug, &err);
	if (!check(&e, ret, err, "SET_GUEST_DEBUG (fresh start)"))
		return;
	run->immediate_exit = 0;
	run->request_interrupt_window = 0;
	ret = run_bounded(fd, XVCPU_RUN, 0, fz.timer, &err);
	vcpu_ran(v);
	if (ret || (run->exit_reason == XVCPU_EXIT_IO &&
		    run->io.port == 0x80))
		return;
	if (run->exit_reason == XVCPU_EXIT_FAIL_ENTRY)
		fail("vCPU %d in a fresh state (SET_SREGS, SET_REGS, SET_EVENTS(0)): entry failed, %#llx",
		     i, (unsigned long long)
		     run->fail_entry.hardware_entry_failure_reason);
	else
		fail("vCPU %d in a fresh state (SET_SREGS, SET_REGS, SET_EVENTS(0)): exit %s, not the program's OUT",
		     i, xvcpu_exit_name(run->exit_reason));
	log_vcpu_state(fd);
}

/* XVCPU_RUN from the main thread. */
static void op_run(struct rng *r)
{
	int i = pick_vcpu(r), err;
	bool ie = rng_chance(r, 12), reset = rng_chance(r, 30);
	bool msr = rng_chance(r, 30), irqs_on = rng_chance(r, 30);
	bool window = rng_chance(r, 10);
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
		program_reset_main(i, msr, irqs_on);
	}
	if (run) {
		run->immediate_exit = ie;
		run->request_interrupt_window = window;
	}
	exp_init(&e);
	predict_vcpu(&e, &fz.vcpus[i], busy, XVCPU_RUN, arg, NULL, NULL);
	if (run && ie && !busy && !arg) {
		/* Before it: completing an INS (see predict_vcpu()) */
		exp_only(&e, EINTR);
		exp_err(&e, ENOENT);
		exp_err(&e, EPERM);
	}
	ret = run_timed(fd, XVCPU_RUN, arg, fz.timer, ns, &err);
	vcpu_ran(&fz.vcpus[i]);
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
		program_step(fd, run, v, busy || fz.vcpus[i].irq != Q_NO,
			     "RUN (main)");
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
			    err != EBUSY && err != ENOMEM && err != ENOENT &&
			    err != EPERM)
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
	for (i = 0; i < NR_VCPUS; i++)
		if (fz.vcpus[i].used)
			vcpu_ran(&fz.vcpus[i]);
}

/* ---- the operation mix ---- */

enum op {
	OP_OPEN_SYS, OP_CLOSE_SYS, OP_CREATE_VM, OP_CLOSE_VM, OP_CREATE_VCPU,
	OP_CLOSE_VCPU, OP_IOCTL_SYS, OP_IOCTL_VM, OP_IOCTL_VCPU, OP_REGION,
	OP_SAVE_RESTORE, OP_MMAP_RUN, OP_MMAP_SLOT, OP_MUNMAP, OP_MPROTECT,
	OP_MREMAP, OP_MADVISE, OP_TOUCH, OP_RUN, OP_RUNNER, OP_FORK, OP_BADFD,
	OP_EVENTS, OP_CPUID,
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
	[OP_EVENTS]		= { "events", 80 },
	[OP_CPUID]		= { "cpuid", 20 },
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
	case OP_EVENTS: op_events(r); break;
	case OP_CPUID: op_cpuid(r); break;
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

	/* The timers' signal: RUN returns EINTR */
	if (xvt_catch_signal(SIGUSR1))
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_NODEFER | SA_SIGINFO;
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
	ret = ioctl(sys, XVCPU_GET_SUPPORTED_CPUID, &fz.supported);
	count_call();
	if (ret || fz.supported.nent > XVCPU_CPUID_MAX_ENTRIES ||
	    fz.supported.pad) {
		fprintf(stderr, "# XVCPU_GET_SUPPORTED_CPUID: %s, %u entries\n",
			ret ? strerror(errno) : "ok", fz.supported.nent);
		close(sys);
		return ret ? -errno : -EPROTO;
	}
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

static uint64_t tsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void print_summary(double secs, uint64_t ticks, bool timed_out)
{
	char buf[2048];
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
			      xvcpu_exit_name(i), fz.exits[i]);
	fprintf(stderr, "# guest exits:%s; RUN EINTR %lu EBUSY %lu; VM-instruction errors %lu\n",
		buf, fz.run_eintr, fz.run_ebusy, fz.vmfail);
	n = 0;
	for (i = 0; i < ARRAY_SIZE(known); i++)
		n += snprintf(buf + n, sizeof(buf) - n, " %s %lu/%lu",
			      known[i].name, fz.known_ok[i], fz.known_err[i]);
	fprintf(stderr, "# ioctls (ok/failed):%s\n", buf);
	fprintf(stderr, "# events: %lu set, %lu interrupts and %lu NMIs queued, guest debug set %lu times\n",
		fz.events_set, fz.irqs_queued, fz.nmis_queued, fz.debug_set);
	fprintf(stderr, "# failures %lu\n", nr_failures);
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
	xvt_kmsg_scan(XVT_KMSG_ALL, &kmsg_seq);

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
	EXPECT_EQ(0, xvt_kmsg_scan(kmsg_seq, &last));
	EXPECT_EQ(0, nr_failures) TH_LOG("replay: fuzz_test --seed %llu",
					 (unsigned long long)opt.seed);
}

/* ---- options ---- */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--seed N] [--long] [--calls N] [--ops N] [--time SECONDS]\n"
		"          [--threads N] [--verbose] [harness options]\n"
		"  --seed N      replay the operations of seed N\n"
		"  --long        %lu calls, %d s (default %lu calls, %d s)\n"
		"  --calls N     stop after N calls\n"
		"  --ops N       stop after N operations\n"
		"  --time S      stop after S seconds of the machine's clock\n"
		"  --threads N   runner threads (default %d, 0: exact replay)\n"
		"  --verbose     print every operation\n"
		"environment: XVCPU_FUZZ_SEED=N, XVCPU_FUZZ_LONG=1\n",
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
