// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel log seen from a test: did the kernel complain while the
 * test ran?
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xvtest.h"

/* Records that print at most this many; the rest are only counted. */
#define KMSG_MAX_PRINTED	40

/*
 * What a record says when something went wrong: the kernel's own
 * reports, and xvcpu's lines for a failed VMX instruction and for objects
 * left at module unload.
 */
static const char *const kmsg_bad[] = {
	"WARNING:", "BUG:", "Oops", "general protection", "Call Trace",
	"invalid opcode", "detected stall", "blocked for more than",
	"soft lockup", "corruption", "UBSAN", "refcount_t",
	"EPT misconfiguration", "VMWRITE of field", "VMPTRLD", "VMCLEAR",
	"leaked",
};

/*
 * /dev/kmsg gives one record per read(), "prio,seq,time,flags;text";
 * EPIPE means records were overwritten meanwhile and reading goes on.
 */
int xvt_kmsg_scan(unsigned long long after, unsigned long long *last)
{
	unsigned long long seq;
	char rec[8192];
	unsigned int i;
	ssize_t len;
	int fd, n = 0;

	*last = after == XVT_KMSG_ALL ? 0 : after;
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
		if (after == XVT_KMSG_ALL || seq <= after)
			continue;
		for (i = 0; i < sizeof(kmsg_bad) / sizeof(kmsg_bad[0]); i++) {
			if (strstr(rec, kmsg_bad[i])) {
				if (n < KMSG_MAX_PRINTED)
					fprintf(stderr, "# kernel: %s", rec);
				n++;
				break;
			}
		}
	}
	close(fd);
	return n;
}
