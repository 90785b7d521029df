// SPDX-License-Identifier: GPL-2.0
/*
 * Put the xvcpu and KVM result files side by side: a table for people,
 * ending with "worst ratio: X.XX", and optionally a results file with one
 * line per operation, "NAME XVCPU KVM RATIO" (medians in TSC ticks; n/a
 * where an operation was not measured).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "bench.h"

#define MAX_OPS		16

struct result {
	bool seen;
	bool measured;
	double median, min, max;
	unsigned int runs;
	char why[200];		/* when not measured */
};

static unsigned int max_u(unsigned int a, unsigned int b)
{
	return a > b ? a : b;
}

static int op_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < bench_nr_ops; i++)
		if (!strcmp(bench_ops[i].name, name))
			return i;
	return -1;
}

/* Read lines "NAME MEDIAN MIN MAX RUNS" or "NAME n/a REASON". */
static int read_results(const char *path, struct result *res)
{
	char line[512], name[64];
	struct result *r;
	const char *why;
	FILE *f;
	int i, n;

	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%63s %n", name, &n) != 1)
			continue;
		i = op_index(name);
		if (i < 0) {
			fprintf(stderr, "%s: unknown operation %s\n", path,
				name);
			continue;
		}
		r = &res[i];
		r->seen = true;
		if (!strncmp(line + n, "n/a", 3)) {
			why = line + n + 3;
			why += strspn(why, " ");
			snprintf(r->why, sizeof(r->why), "%s", why);
			continue;
		}
		r->measured = sscanf(line + n, "%lf %lf %lf %u", &r->median,
				     &r->min, &r->max, &r->runs) == 4;
		if (!r->measured)
			snprintf(r->why, sizeof(r->why), "unreadable: %s",
				 line + n);
	}
	fclose(f);
	return 0;
}

static void format(char *buf, size_t len, const struct result *r)
{
	if (r->measured)
		snprintf(buf, len, "%.0f [%.0f-%.0f]", r->median, r->min,
			 r->max);
	else
		snprintf(buf, len, "n/a");
}

static void header(unsigned int width)
{
	struct utsname u;

	uname(&u);
	printf("xvcpu vs KVM, Linux %s, %d CPU(s)\n", u.release,
	       get_nprocs());
	printf("TSC ticks per operation: median [min-max] of the runs kept\n");
	printf("(warm-up runs discarded).  In the emulated-VMX machine (Bochs)\n");
	printf("the TSC advances about one tick per emulated instruction: these\n");
	printf("are path lengths, deterministic, not wall-clock times.\n\n");
	printf("%-36s %*s %*s %5s %9s\n", "operation", width, "xvcpu", width,
	       "KVM", "runs", "xvcpu/KVM");
}

int bench_report(const char *xvcpu_file, const char *kvm_file,
		 const char *results_file)
{
	struct result x[MAX_OPS] = { 0 }, k[MAX_OPS] = { 0 };
	char xs[64], ks[64], ratio[16];
	bool have_worst = false;
	double worst = 0;
	unsigned int width = 16;
	FILE *out = NULL;
	unsigned int i;

	if (bench_nr_ops > MAX_OPS || read_results(xvcpu_file, x) ||
	    read_results(kvm_file, k))
		return -1;
	if (results_file) {
		out = fopen(results_file, "w");
		if (!out) {
			perror(results_file);
			return -1;
		}
	}

	/* Both value columns as wide as the widest value */
	for (i = 0; i < bench_nr_ops; i++) {
		format(xs, sizeof(xs), &x[i]);
		format(ks, sizeof(ks), &k[i]);
		width = max_u(width, max_u(strlen(xs), strlen(ks)));
	}
	header(width);
	for (i = 0; i < bench_nr_ops; i++) {
		const struct bench_op *op = &bench_ops[i];
		bool both = x[i].measured && k[i].measured;
		double q = both ? x[i].median / k[i].median : 0;

		if (!x[i].seen && !k[i].seen)
			continue;
		format(xs, sizeof(xs), &x[i]);
		format(ks, sizeof(ks), &k[i]);
		if (both)
			snprintf(ratio, sizeof(ratio), "%.2f", q);
		else
			snprintf(ratio, sizeof(ratio), "n/a");
		printf("%-36s %*s %*s %5u %9s\n", op->label, width, xs, width,
		       ks, max_u(x[i].runs, k[i].runs), ratio);
		if (out) {
			fprintf(out, "%s ", op->name);
			fprintf(out, x[i].measured ? "%.1f " : "n/a ",
				x[i].median);
			fprintf(out, k[i].measured ? "%.1f " : "n/a ",
				k[i].median);
			fprintf(out, "%s\n", ratio);
		}
		if (both && (!have_worst || q > worst)) {
			worst = q;
			have_worst = true;
		}
	}

	printf("\n");
	for (i = 0; i < bench_nr_ops; i++) {
		if (!x[i].seen && !k[i].seen)
			continue;
		if (bench_ops[i].note)
			printf("%s: %s.\n", bench_ops[i].name,
			       bench_ops[i].note);
		if (x[i].seen && !x[i].measured)
			printf("%s: n/a under xvcpu: %s.\n", bench_ops[i].name,
			       x[i].why);
		if (k[i].seen && !k[i].measured)
			printf("%s: n/a under KVM: %s.\n", bench_ops[i].name,
			       k[i].why);
	}
	if (have_worst)
		printf("worst ratio: %.2f\n", worst);
	else
		printf("worst ratio: n/a\n");
	if (out && fclose(out)) {
		perror(results_file);
		return -1;
	}
	return 0;
}
