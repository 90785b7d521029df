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
 *   fuzz_test [--seed N] [--concurrent] [--fresh] [--long] [--calls N]
 *             [--ops N] [--time SECONDS] [--threads N] [--verbose]
 *             [harness options]
 *
 * Without --seed, the test "listed_seeds" replays each seed of seeds.txt
 * (built in) up to its operation count, and the test "seed" runs one
 * fresh seed; --fresh leaves the list out.  --seed N runs seed N alone.
 *
 * The sequence of main's operations, with their arguments and each
 * runner job's parameters and seed, follows from the seed alone: the
 * model changes only at fixed points of it (a runner's job is taken back
 * only when main asks for that runner or that vCPU again).  A fresh seed
 * runs its runner jobs concurrently with main ("concurrent"); a replay
 * (a listed seed, --seed) runs in "lockstep": main waits for each job to
 * end where it gave it, so every call comes in the same order, and only
 * where a timer ends a RUN can the guest have got further or less far.
 * --concurrent replays with overlapping jobs again.  --ops N stops after
 * N operations, --verbose prints each one.  XVCPU_FUZZ_SEED=N and
 * XVCPU_FUZZ_LONG=1 do what --seed and --long do.
 *
 * Counted calls are the system calls made on xvcpu objects (ioctl, mmap,
 * munmap, mprotect, mremap, madvise, open, close, dup, fork) by all
 * threads.  Time is the test machine's own clock, which in the emulator
 * runs far slower than the wall clock: there the number of calls bounds
 * the run.
 *
 * Files: model.c (the module's rules, some linked from kmod/), predict.c
 * (expected answers), gen.c and program.c (arguments, guests), ioctl.c,
 * mem.c, guests.c, lifetime.c (the operations), run.c and runner.c
 * (running guests), objects.c, setup.c, util.c; the kernel-log judge is
 * lib/kmsg.c's, shared with every test.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "fuzz.h"

struct fz_options opt = { .threads = -1 };
struct fuzz fz;

/* The seeds every run without --seed replays first (seeds.txt) */
static const struct {
	uint64_t seed;
	unsigned long ops;
} listed[] = {
#include "seeds.inc"
};

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
	/* Equal in two runs of a seed: main drew the same operations */
	fprintf(stderr, "# main's random stream ends at %#llx\n",
		(unsigned long long)fz.rng.s);
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
	for (i = 0; i < nr_known; i++)
		n += snprintf(buf + n, sizeof(buf) - n, " %s %lu/%lu",
			      known[i].name, fz.known_ok[i], fz.known_err[i]);
	fprintf(stderr, "# ioctls (ok/failed):%s\n", buf);
	fprintf(stderr, "# events: %lu set, %lu interrupts and %lu NMIs queued, guest debug set %lu times\n",
		fz.events_set, fz.irqs_queued, fz.nmis_queued, fz.debug_set);
	fprintf(stderr, "# failures %lu\n", nr_failures);
}

/*
 * One run of @seed: at most @calls calls and (if not 0) @ops operations,
 * runner jobs overlapping main's operations if @concurrent.  Everything
 * is released and checked at the end; returns the failures.
 */
static unsigned long run_seed(struct __test_metadata *_metadata,
			      uint64_t seed, unsigned long calls,
			      unsigned long ops, bool concurrent)
{
	unsigned long long kmsg_seq, last;
	struct xvt_stats base, now;
	uint64_t t0, t, ticks, deadline;
	bool have_stats, timed_out = false;
	int threads, nfds, left_fds, left, r;
	double secs;

	opt.seed = seed;
	opt.concurrent = concurrent;
	counters_reset();
	threads = opt.threads >= 0 ? opt.threads : DEFAULT_THREADS;
	if (threads > MAX_RUNNERS)
		threads = MAX_RUNNERS;
	ksft_print_msg("seed %llu (%s), %lu calls%s, %lu s, %d runner threads\n",
		       (unsigned long long)seed,
		       concurrent ? "concurrent" : "lockstep", calls,
		       ops ? " or the operations listed" : "", opt.time_s,
		       threads);
	if (ops)
		ksft_print_msg("up to operation %lu\n", ops);

	r = xvt_stats_read(&base);
	have_stats = r == 0;
	if (!have_stats)
		ksft_print_msg("no module counters (%s): not checked\n",
			       strerror(-r));
	xvt_kmsg_scan(XVT_KMSG_ALL, &kmsg_seq);

	r = fz_init(threads);
	EXPECT_EQ(0, r) TH_LOG("setup: %s", strerror(-r));
	if (r)
		return 1;
	nfds = count_fds(&left);

	t0 = xvt_now_ns();
	ticks = tsc();
	deadline = t0 + opt.time_s * 1000000000ULL;
	while (calls_made() < calls) {
		enum op op;

		if (ops && cur_op >= ops)
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
	r = xvt_kmsg_scan(kmsg_seq, &last);
	EXPECT_EQ(0, r);
	if (r && !nr_failures)
		first_fail_op = cur_op;
	EXPECT_EQ(0, nr_failures);
	if (nr_failures || r) {
		ksft_print_msg("replay (lockstep, every call in order): fuzz_test --seed %llu --ops %lu\n",
			       (unsigned long long)seed, first_fail_op);
		if (concurrent)
			ksft_print_msg("replay (runner jobs overlapping main, as here): fuzz_test --seed %llu --ops %lu --concurrent\n",
				       (unsigned long long)seed,
				       first_fail_op);
	}
	return nr_failures + (r != 0);
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

/* Each seed of seeds.txt, in lockstep, up to its operation count. */
TEST_F_TIMEOUT(fuzz, listed_seeds, 36000)
{
	unsigned long failed = 0;
	unsigned int i;

	if (opt.seed_set)
		SKIP(return, "--seed given: that seed alone");
	if (opt.fresh)
		SKIP(return, "--fresh given: no replay of the listed seeds");
	for (i = 0; i < ARRAY_SIZE(listed); i++)
		if (run_seed(_metadata, listed[i].seed, opt.calls,
			     listed[i].ops, opt.concurrent))
			failed++;
	ksft_print_msg("%u listed seeds replayed, %lu failed\n",
		       (unsigned int)ARRAY_SIZE(listed), failed);
}

/* A fresh seed (runner jobs concurrent), or the one --seed gives. */
TEST_F_TIMEOUT(fuzz, seed, 36000)
{
	run_seed(_metadata, opt.seed, opt.calls, opt.max_ops,
		 opt.concurrent || !opt.seed_set);
}

/* ---- options ---- */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--seed N] [--concurrent] [--fresh] [--long] [--calls N]\n"
		"          [--ops N] [--time SECONDS] [--threads N] [--verbose]\n"
		"          [harness options]\n"
		"  --seed N      run seed N alone (lockstep: an exact replay)\n"
		"  --concurrent  runner jobs overlap main's operations (as a fresh seed)\n"
		"  --fresh       a fresh seed only, not the %u listed ones first\n"
		"  --long        %lu calls, %d s (default %lu calls, %d s)\n"
		"  --calls N     stop each run after N calls\n"
		"  --ops N       stop after N operations\n"
		"  --time S      stop after S seconds of the machine's clock\n"
		"  --threads N   runner threads (default %d)\n"
		"  --verbose     print every operation\n"
		"environment: XVCPU_FUZZ_SEED=N, XVCPU_FUZZ_LONG=1\n",
		prog, (unsigned int)ARRAY_SIZE(listed), LONG_CALLS,
		LONG_TIME_S, DEFAULT_CALLS, DEFAULT_TIME_S, DEFAULT_THREADS);
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
		} else if (!strcmp(argv[i], "--concurrent")) {
			opt.concurrent = true;
		} else if (!strcmp(argv[i], "--fresh")) {
			opt.fresh = true;
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
