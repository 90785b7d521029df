// SPDX-License-Identifier: GPL-2.0
/*
 * The module's object counters in debugfs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xvtest.h"

#define STATS_WAIT_NS	(2ULL * 1000000000ULL)

int xvt_stats_read(struct xvt_stats *s)
{
	char name[64];
	int seen = 0;
	long value;
	FILE *f;

	f = fopen(XVT_STATS_PATH, "r");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %ld", name, &value) == 2) {
		if (!strcmp(name, "vms")) {
			s->vms = value;
			seen |= 1;
		} else if (!strcmp(name, "vcpus")) {
			s->vcpus = value;
			seen |= 2;
		} else if (!strcmp(name, "pages")) {
			s->pages = value;
			seen |= 4;
		}
	}
	fclose(f);
	return seen == 7 ? 0 : -EPROTO;
}

static bool stats_equal(const struct xvt_stats *a, const struct xvt_stats *b)
{
	return a->vms == b->vms && a->vcpus == b->vcpus &&
	       a->pages == b->pages;
}

/*
 * Objects are freed when their last reference goes, which for a killed
 * process may be a little after waitpid() returns: poll for a while.
 */
int xvt_stats_wait(const struct xvt_stats *want, struct xvt_stats *last)
{
	const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	uint64_t deadline = xvt_now_ns() + STATS_WAIT_NS;
	int ret;

	for (;;) {
		ret = xvt_stats_read(last);
		if (ret < 0)
			return ret;
		if (stats_equal(want, last))
			return 0;
		if (xvt_now_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
}
