// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's small tools: seeded random numbers (one stream per
 * thread), counted calls, failure reports, and expected outcomes (a set
 * of accepted answers, checked against what a call returned).
 */
#include <stdarg.h>

#include "fuzz.h"

/* ---- random numbers: splitmix64 ---- */

uint64_t rng_u64(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* In [0, n); 0 when n is 0.  The modulo bias does not matter here. */
uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_u64(r) % n : 0;
}

bool rng_chance(struct rng *r, unsigned int percent)
{
	return rng_below(r, 100) < percent;
}

void rng_bytes(struct rng *r, void *buf, size_t len)
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
uint64_t rng_value(struct rng *r)
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
__thread bool in_runner;
unsigned long nr_runner_calls;		/* atomic */
unsigned long cur_op;
unsigned long nr_failures;
unsigned long first_fail_op;		/* cur_op at the first failure */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_REPORTS		30

/* Before each run of a seed */
void counters_reset(void)
{
	__atomic_store_n(&nr_calls, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&nr_runner_calls, 0, __ATOMIC_RELAXED);
	cur_op = nr_failures = first_fail_op = 0;
}

void count_call(void)
{
	__atomic_add_fetch(&nr_calls, 1, __ATOMIC_RELAXED);
	if (in_runner)
		__atomic_add_fetch(&nr_runner_calls, 1, __ATOMIC_RELAXED);
}

unsigned long calls_made(void)
{
	return __atomic_load_n(&nr_calls, __ATOMIC_RELAXED);
}

void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	if (!nr_failures)
		first_fail_op = cur_op;
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
 * A line more about the failure just reported (the whole argument of the
 * call, the model's view): printed only when that failure was.
 */
void __attribute__((format(printf, 1, 2))) fail_detail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	if (nr_failures <= MAX_REPORTS) {
		fputs("#   ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&log_lock);
}

void __attribute__((format(printf, 1, 2))) vlog(const char *fmt, ...)
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

const char *errname(int err)
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

void exp_init(struct expect *e)
{
	memset(e, 0, sizeof(*e));
	e->ok = OK_NONE;
}

void exp_err(struct expect *e, int err)
{
	if (e->nerr < ARRAY_SIZE(e->err))
		e->err[e->nerr++] = err;
}

void exp_only(struct expect *e, int err)
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
bool check(const struct expect *e, long ret, int err,
	   const char *what)
{
	char want[160];

	if (exp_match(e, ret, err))
		return true;
	fail("%s: got %ld (%s), expected %s", what, ret,
	     ret < 0 ? errname(err) : "ok", exp_str(e, want, sizeof(want)));
	return false;
}
