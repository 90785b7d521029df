// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel log seen from a test: did the kernel complain while the
 * test ran?
 *
 * tools/vm/logcheck.py judges a whole run's dmesg with the same patterns;
 * a pattern added here belongs there too (and in both unit tests).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xvtest.h"

/* Records that print at most this many; the rest are only counted. */
#define KMSG_MAX_PRINTED	40

/*
 * A report: the message text starts with @start (where the kernel prints
 * it: first, or after the pr_fmt() prefix of the code that prints it) and,
 * if @then is set, contains @then further on.  Anchoring keeps a module's
 * own line that merely contains such words ("SET_GUEST_DEBUG: ...") from
 * counting.
 */
struct kmsg_report {
	const char *start;
	const char *then;
};

static const struct kmsg_report kmsg_bad[] = {
	/* WARN*(): "WARNING: CPU: 0 PID: 1 at ..."; lockdep's reports */
	{ "WARNING: ", NULL },
	/*
	 * "BUG: KASAN: ...", "BUG: sleeping function called from invalid
	 * context", "BUG: scheduling while atomic", "BUG: unable to handle
	 * page fault", "BUG: Bad page state", lockdep's own BUGs, ...
	 */
	{ "BUG: ", NULL },
	/* SLUB debugging: "BUG kmalloc-64 (Not tainted): Poison overwritten" */
	{ "BUG ", "): " },
	{ "kernel BUG at ", NULL },
	/* 6.12's die header: "Oops: general protection fault, ...: 0000 [#1]" */
	{ "Oops", NULL },
	{ "Call Trace:", NULL },
	{ "Kernel panic - not syncing", NULL },
	/* the lockup and hang detectors */
	{ "watchdog: BUG: soft lockup", NULL },
	{ "watchdog: Watchdog detected hard LOCKUP", NULL },
	{ "NMI watchdog: Watchdog detected hard LOCKUP", NULL },
	{ "INFO: task ", " blocked for more than " },
	{ "INFO: ", "detected stall" },
	{ "rcu: INFO: ", "detected stall" },
	/* the sanitizers and debug checks */
	{ "KASAN: ", NULL },
	{ "UBSAN: ", NULL },
	{ "refcount_t: ", NULL },
	{ "list_add corruption", NULL },
	{ "list_del corruption", NULL },
	{ "DEBUG_LOCKS_WARN_ON(", NULL },
	{ "turning off the locking correctness validator", NULL },
	{ "unreferenced object 0x", NULL },
	{ "kmemleak: Kernel memory leak detector disabled", NULL },
	{ "unchecked MSR access error: ", NULL },
	/*
	 * xvcpu's own lines that only a bug in it prints: objects left at
	 * unload, a VMX instruction that failed on state it wrote, its
	 * WARN_ONCE() texts.
	 */
	{ "xvcpu: leaked ", NULL },
	{ "xvcpu: VMWRITE of field ", " failed" },
	{ "xvcpu: vCPU ", ": VM entry failed, VM-instruction error " },
	{ "xvcpu: VMPTRLD ", " failed" },
	{ "xvcpu: VMCLEAR ", " failed" },
	{ "xvcpu: EPT misconfiguration", NULL },
	{ "xvcpu: CPU", ": VMXON failed" },
};

/*
 * x86's die header as 6.1 prints it (arch/x86/kernel/dumpstack.c):
 * "<what>: <error code, 4 hex digits> [#<n>]", e.g. "general protection
 * fault, probably for non-canonical address 0x...: 0000 [#1] SMP" or
 * "invalid opcode: 0000 [#1]"; 6.12 puts "Oops: " before it.
 */
static bool die_header(const char *text)
{
	const char *p = text;
	int i;

	while (isalnum((unsigned char)*p) || *p == ' ' || *p == ',' ||
	       *p == '_' || *p == '-')
		p++;
	if (p == text || strncmp(p, ": ", 2))
		return false;
	p += 2;
	for (i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	p += 4;
	return !strncmp(p, " [#", 3) && isdigit((unsigned char)p[3]);
}

bool xvt_kmsg_bad(const char *text)
{
	const struct kmsg_report *r;
	size_t len;

	if (die_header(text))
		return true;
	for (r = kmsg_bad; r < kmsg_bad + sizeof(kmsg_bad) / sizeof(*r); r++) {
		len = strlen(r->start);
		if (!strncmp(text, r->start, len) &&
		    (!r->then || strstr(text + len, r->then)))
			return true;
	}
	return false;
}

/*
 * A /dev/kmsg record is "prio,seq,time,flags;text\n", then dictionary
 * lines that start with a space.  A newline inside the text is escaped as
 * "\x0a": each line it starts is checked too.
 */
bool xvt_kmsg_record_bad(char *rec)
{
	char *text = strchr(rec, ';'), *nl, *line;
	bool bad = false;

	if (!text)
		return false;
	text++;
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	line = text;
	do {
		bad = xvt_kmsg_bad(line);
		line = strstr(line, "\\x0a");
		if (line)
			line += 4;
	} while (line && !bad);
	if (nl)
		*nl = '\n';
	return bad;
}

/*
 * /dev/kmsg gives one record per read(); EPIPE means records were
 * overwritten meanwhile and reading goes on.
 */
int xvt_kmsg_scan(unsigned long long after, unsigned long long *last)
{
	unsigned long long seq;
	char rec[8192];
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
		if (xvt_kmsg_record_bad(rec)) {
			if (n < KMSG_MAX_PRINTED)
				fprintf(stderr, "# kernel: %s", rec);
			n++;
		}
	}
	close(fd);
	return n;
}
