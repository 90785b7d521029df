/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "ucall" channel between guest code and the test on the host.
 *
 * The guest fills a struct ucall and executes OUT to XVTEST_UCALL_PORT
 * with RDI = its address (a guest-virtual address, which equals the
 * guest-physical one under the identity mapping).  The host recognises
 * the I/O exit, reads RDI and copies the struct out of guest memory.
 */
#ifndef XVTEST_UCALL_H
#define XVTEST_UCALL_H

#include <stddef.h>
#include <stdint.h>

#define XVTEST_UCALL_PORT	0xfff0

enum {
	UCALL_NONE,		/* the exit was not a ucall */
	UCALL_SYNC,		/* args[0..1]: values for the host */
	UCALL_DONE,		/* the guest finished */
	UCALL_ABORT,		/* GUEST_ASSERT failed */
	UCALL_ABORT_EQ,		/* GUEST_ASSERT_EQ failed: args = both sides */
};

struct ucall {
	uint64_t cmd;		/* UCALL_* */
	uint64_t file;		/* guest address of __FILE__ */
	uint64_t line;
	uint64_t text;		/* guest address of a string, "" if none */
	uint64_t args[2];
};

struct xvcpu_vcpu;

/*
 * If the last exit of @vcpu is a ucall, copy it into @uc and return its
 * command; otherwise return UCALL_NONE and zero @uc.
 */
int ucall_get(struct xvcpu_vcpu *vcpu, struct ucall *uc);

/* "file:line: text" of @uc, read out of guest memory, into @buf. */
const char *ucall_where(struct xvcpu_vcpu *vcpu, const struct ucall *uc,
			char *buf, size_t len);

#endif /* XVTEST_UCALL_H */
