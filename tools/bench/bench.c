// SPDX-License-Identifier: GPL-2.0
/*
 * xvcpu-bench: time the same guest operations under xvcpu or KVM.
 *
 *   xvcpu-bench xvcpu|kvm [OPERATION...]
 *	Run the operations (all by default) with one backend and print one
 *	line per operation on stdout:
 *	  NAME MEDIAN MIN MAX RUNS	TSC ticks per operation
 *	  NAME n/a REASON		the backend cannot do it (yet)
 *	Progress goes to stderr.  Exit status 1 if an operation failed.
 *   xvcpu-bench report [--results FILE] XVCPU_RESULTS KVM_RESULTS
 *	Print the two side by side (report.c).
 *
 * Every figure is RDTSC in the VMM around whole runs of several
 * operations, except CPUID, which the guest times itself.  The first runs
 * of each operation are discarded (warm-up).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MIB		(1ULL << 20)
#define CREATE_MEM	(64 * MIB)
#define MAP_MEM		(1024 * MIB)
#define MAX_RUNS	32

/* A measured run either worked, or the backend cannot do it, or failed. */
#define BENCH_UNSUPPORTED	1

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

static uint64_t entry_rip(const uint8_t *entry)
{
	return GUEST_LOAD + (uint64_t)(entry - guest_start);
}

/*
 * Check that @exit is what @op expects.  An exit the module reports as
 * unhandled means the backend cannot do this operation (yet).
 */
static int check_exit(const struct bench_op *op, const struct bench_exit *exit,
		      char *why, size_t len)
{
	if (exit->kind == op->expect) {
		if (exit->kind == BENCH_EXIT_IO && exit->port != BENCH_PORT)
			snprintf(why, len, "I/O exit on port %#x", exit->port);
		else if (exit->kind == BENCH_EXIT_MMIO &&
			 exit->addr != BENCH_MMIO_GPA)
			snprintf(why, len, "MMIO exit at %#llx",
				 (unsigned long long)exit->addr);
		else if (exit->kind == BENCH_EXIT_HYPERCALL &&
			 exit->nr != BENCH_HC_NR)
			snprintf(why, len, "hypercall %llu",
				 (unsigned long long)exit->nr);
		else
			return 0;
		return -EPROTO;
	}
	snprintf(why, len, "%s", exit->what[0] ? exit->what :
		 "unexpected exit");
	return exit->kind == BENCH_EXIT_UNHANDLED ? BENCH_UNSUPPORTED :
		-EPROTO;
}

/* @op->iters exits to the VMM and back, as the guest loop at entry makes. */
static int measure_exits(const struct bench_backend *b,
			 const struct bench_op *op, double *ticks,
			 char *why, size_t len)
{
	unsigned int insn_len = guest_mmio_insn_end - guest_mmio_insn;
	struct bench_exit exit;
	uint64_t t0, t1;
	unsigned int i;
	int r;

	t0 = rdtsc();
	for (i = 0; i < op->iters; i++) {
		r = b->run(&exit);
		if (r)
			return r;
		r = check_exit(op, &exit, why, len);
		if (r)
			return r;
		if (exit.kind == BENCH_EXIT_MMIO) {
			r = b->mmio_done(insn_len);
			if (r)
				return r;
		}
	}
	t1 = rdtsc();
	*ticks = (double)(t1 - t0) / op->iters;
	return 0;
}

/* The guest's own count: each OUT reports BENCH_CPUID_BATCH CPUIDs. */
static int measure_guest_cpuid(const struct bench_backend *b,
			       const struct bench_op *op, double *ticks,
			       char *why, size_t len)
{
	struct bench_exit exit;
	uint64_t sum = 0;
	unsigned int i;
	int r;

	for (i = 0; i < op->iters; i++) {
		r = b->run(&exit);
		if (r)
			return r;
		r = check_exit(op, &exit, why, len);
		if (r)
			return r;
		sum += exit.data;
	}
	*ticks = (double)sum / ((double)op->iters * BENCH_CPUID_BATCH);
	return 0;
}

/* VM, memory, vCPU and guest image, up to the first exit (HLT). */
static int measure_create(const struct bench_backend *b,
			  const struct bench_op *op, double *ticks,
			  char *why, size_t len)
{
	struct bench_exit exit;
	uint64_t t0, t1;
	int r;

	t0 = rdtsc();
	r = b->vm_create(CREATE_MEM);
	if (r)
		return r;
	r = b->set_entry(entry_rip(guest_hlt));
	if (!r)
		r = b->run(&exit);
	t1 = rdtsc();
	if (!r)
		r = check_exit(op, &exit, why, len);
	b->vm_destroy();
	*ticks = (double)(t1 - t0);
	return r;
}

/* Only the set-memory-region ioctl is timed. */
static int measure_map(const struct bench_backend *b,
		       const struct bench_op *op, double *ticks,
		       char *why, size_t len)
{
	uint64_t t0, t1;
	int r;

	(void)op;
	(void)why;
	(void)len;
	r = b->mem_prepare(MAP_MEM);
	if (r)
		return r;
	t0 = rdtsc();
	r = b->mem_map();
	t1 = rdtsc();
	b->mem_release();
	*ticks = (double)(t1 - t0);
	return r;
}

const struct bench_op bench_ops[] = {
	{
		.name = "pio-out",
		.label = "port-I/O exit to userspace (OUT)",
		.measure = measure_exits, .entry = guest_out,
		.expect = BENCH_EXIT_IO,
		.iters = 200, .warmup = 2, .runs = 15,
	}, {
		.name = "hlt",
		.label = "HLT exit to userspace",
		.measure = measure_exits, .entry = guest_hlt,
		.expect = BENCH_EXIT_HLT,
		.iters = 200, .warmup = 2, .runs = 15,
	}, {
		.name = "mmio-write",
		.label = "MMIO write exit to userspace",
		.note = "xvcpu does not decode: the VMM moves RIP past the "
			"known 4-byte instruction (GET_REGS + SET_REGS); "
			"KVM decodes and completes it itself",
		.measure = measure_exits, .entry = guest_mmio,
		.expect = BENCH_EXIT_MMIO,
		.iters = 200, .warmup = 2, .runs = 15,
	}, {
		.name = "cpuid",
		.label = "CPUID exit handled in the kernel",
		.note = "timed by the guest with RDTSC (no exit) around "
			"200 CPUIDs, 3 loop instructions each",
		.measure = measure_guest_cpuid, .entry = guest_cpuid,
		.expect = BENCH_EXIT_IO,
		.iters = 1, .warmup = 2, .runs = 15,
	}, {
		.name = "vmcall",
		.label = "VMCALL exit to userspace",
		.note = "KVM: KVM_HC_MAP_GPA_RANGE with "
			"KVM_CAP_EXIT_HYPERCALL, the hypercall KVM hands to "
			"userspace",
		.measure = measure_exits, .entry = guest_vmcall,
		.expect = BENCH_EXIT_HYPERCALL,
		.iters = 200, .warmup = 2, .runs = 15,
	}, {
		.name = "create",
		.label = "VM + 64 MiB + vCPU to first exit",
		.measure = measure_create,
		.expect = BENCH_EXIT_HLT,
		.iters = 1, .warmup = 1, .runs = 9,
	}, {
		.name = "map-1g",
		.label = "map 1 GiB (set-memory-region)",
		.note = "both only record the region; pages are allocated "
			"and mapped at first touch",
		.measure = measure_map,
		.iters = 1, .warmup = 1, .runs = 5,
	},
};

const unsigned int bench_nr_ops = ARRAY_SIZE(bench_ops);

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts @v; returns the median. */
static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * All runs of one operation; prints its result line.  Returns 0 when it
 * was measured or is unsupported, else -errno.
 */
static int bench_op(const struct bench_backend *b, const struct bench_op *op)
{
	double ticks[MAX_RUNS];
	unsigned int i, n = 0;
	char why[160] = "";
	int r = 0;

	if (op->entry) {
		r = b->vm_create(BENCH_LOOP_MEM);
		if (!r)
			r = b->set_entry(entry_rip(op->entry));
	}
	for (i = 0; !r && i < op->warmup + op->runs && n < MAX_RUNS; i++) {
		r = op->measure(b, op, &ticks[n], why, sizeof(why));
		if (!r && i >= op->warmup)
			n++;
	}
	if (op->entry)
		b->vm_destroy();

	if (!r) {
		double med = median(ticks, n);

		printf("%s %.1f %.1f %.1f %u\n", op->name, med, ticks[0],
		       ticks[n - 1], n);
		fprintf(stderr, "xvcpu-bench: %s: %s: %.0f ticks\n", b->name,
			op->name, med);
		return 0;
	}
	if (r == BENCH_UNSUPPORTED) {
		printf("%s n/a %s\n", op->name, why);
		fprintf(stderr, "xvcpu-bench: %s: %s: n/a: %s\n", b->name,
			op->name, why);
		return 0;
	}
	printf("%s n/a failed: %s\n", op->name, why[0] ? why : strerror(-r));
	fprintf(stderr, "xvcpu-bench: %s: %s: FAILED: %s\n", b->name,
		op->name, why[0] ? why : strerror(-r));
	return r;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: xvcpu-bench xvcpu|kvm [OPERATION...]\n"
		"       xvcpu-bench report [--results FILE] XVCPU_RESULTS KVM_RESULTS\n");
	return 2;
}

static bool selected(const struct bench_op *op, int argc, char **argv)
{
	int i;

	if (argc == 0)
		return true;
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], op->name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const struct bench_backend *b;
	unsigned int i;
	int fail = 0;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "report")) {
		const char *results = NULL;

		argv += 2;
		argc -= 2;
		if (argc >= 2 && !strcmp(argv[0], "--results")) {
			results = argv[1];
			argv += 2;
			argc -= 2;
		}
		if (argc != 2)
			return usage();
		return bench_report(argv[0], argv[1], results) ? 1 : 0;
	}
	if (!strcmp(argv[1], "xvcpu"))
		b = &bench_xvcpu;
	else if (!strcmp(argv[1], "kvm"))
		b = &bench_kvm;
	else
		return usage();

	if (b->open())
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < bench_nr_ops; i++)
		if (selected(&bench_ops[i], argc - 2, argv + 2) &&
		    bench_op(b, &bench_ops[i]))
			fail = 1;
	return fail;
}
