// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel log after a run: did the kernel complain?  The fuzzer's own
 * scan, stricter about where a match may stand than lib/kmsg.c: the
 * module logs every refused call, and those lines quote ioctl names
 * ("SET_GUEST_DEBUG: flags 0x9 or reserved field bad (-22)" holds
 * "BUG:"), so the kernel's "BUG:" and "WARNING:" count only where the
 * kernel prints them, at the start of the message text.
 */
#include <fcntl.h>

#include "fuzz.h"

/* Records that print at most this many; the rest are only counted. */
#define KMSG_MAX_PRINTED	40

/* At the start of the text: the kernel's reports (lib/bug.c, panic.c) */
static const char *const kmsg_start[] = {
	"WARNING:", "BUG:", "Oops", "general protection", "Call Trace",
	"invalid opcode", "kernel BUG at", "UBSAN:", "refcount_t:",
	"list_add corruption",
	"list_del corruption",
};

/*
 * Anywhere: reports with a prefix ("watchdog: BUG: soft lockup",
 * "rcu: INFO: rcu_preempt detected stalls", "INFO: task ... blocked"),
 * and xvcpu's own lines for a failed VMX instruction and for objects
 * left at module unload.
 */
static const char *const kmsg_anywhere[] = {
	"detected stall", "blocked for more than", "soft lockup",
	"hard LOCKUP", "EPT misconfiguration", "VMWRITE of field", "VMPTRLD",
	"VMCLEAR", "leaked",
};

static bool kmsg_bad(const char *text)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kmsg_start); i++)
		if (!strncmp(text, kmsg_start[i], strlen(kmsg_start[i])))
			return true;
	for (i = 0; i < ARRAY_SIZE(kmsg_anywhere); i++)
		if (strstr(text, kmsg_anywhere[i]))
			return true;
	return false;
}

/*
 * /dev/kmsg gives one record per read(), "prio,seq,time,flags;text" and
 * continuation lines " KEY=value"; EPIPE means records were overwritten
 * meanwhile and reading goes on.  Counts (and prints) the bad records
 * after sequence number @after (XVT_KMSG_ALL: none, only find the last);
 * *@last: the last sequence number seen.
 */
int fz_kmsg_scan(unsigned long long after, unsigned long long *last)
{
	unsigned long long seq;
	char rec[8192], *text;
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
		text = strchr(rec, ';');
		if (!text || sscanf(rec, "%*u,%llu,", &seq) != 1)
			continue;
		text++;
		if (seq > *last)
			*last = seq;
		if (after == XVT_KMSG_ALL || seq <= after || !kmsg_bad(text))
			continue;
		if (n++ < KMSG_MAX_PRINTED)
			fprintf(stderr, "# kernel: %s", text);
	}
	close(fd);
	return n;
}
