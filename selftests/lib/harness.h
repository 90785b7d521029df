/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every test file includes: the kselftest harness, the test VM
 * helpers, and assertions on top of them.  Include it once, from the test
 * file only (the harness defines functions).
 *
 * The `vm` fixture gives each TEST_F a fresh VM with one 64-bit vCPU:
 *   self->t     the test VM (struct xvt_vm)
 *   self->vcpu  vCPU 0
 *   self->run   its run page
 * It skips, saying why, when /dev/xvcpu is absent.
 */
#ifndef XVTEST_HARNESS_H
#define XVTEST_HARNESS_H

#include <errno.h>
#include <string.h>

/*
 * TEST() and friends expand to functions with parameters a test may not
 * use, and ASSERT_EQ(0, unsigned_field) compares mixed signedness (the
 * harness prints each side with its own signedness): -Wextra would flag
 * every use.  -Wclobbered fires on the harness's own setjmp() use in
 * TEST_F (a test must not rely on FIXTURE_TEARDOWN running in the test
 * process after a failed ASSERT: FIXTURE_TEARDOWN_PARENT does).
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "guest.h"
#include "xvtest.h"

#define XVT_REQUIRE_DEV() do {						\
	if (!xvt_have_dev())						\
		SKIP(return, "%s", xvt_no_dev_reason());		\
} while (0)

/* Skip unless capability @cap is non-zero. */
#define XVT_REQUIRE_CAP(cap) do {					\
	int __v = xvt_cap(cap);						\
	ASSERT_LE(0, __v) TH_LOG("XVCPU_CHECK_CAP(" #cap "): %s",	\
				 strerror(-__v));			\
	if (!__v)							\
		SKIP(return, #cap " is 0 on this machine");		\
} while (0)

/* A failing ioctl: returns -1 with errno @err. */
#define ASSERT_ERRNO(err, call) do {					\
	errno = 0;							\
	int __r = (call);						\
	int __e = errno;						\
	ASSERT_EQ(-1, __r) TH_LOG("%s succeeded, expected %s", #call,	\
				  strerror(err));			\
	ASSERT_EQ(err, __e) TH_LOG("%s: %s, expected %s", #call,	\
				   strerror(__e), strerror(err));	\
} while (0)

/* Run @vcpu; the guest must make ucall @cmd. */
#define ASSERT_RUN_UCALL(vcpu, uc, cmd) do {				\
	int __ret = xvt_run((vcpu), (uc));				\
	char __buf[512];						\
	ASSERT_EQ((cmd), __ret) TH_LOG("expected ucall %d, got %s",	\
		(cmd), __ret < 0 ? strerror(-__ret) :			\
		xvt_exit_str((vcpu), __buf, sizeof(__buf)));		\
} while (0)

/* Run @vcpu; it must exit to userspace with XVCPU_EXIT_* @reason. */
#define ASSERT_RUN_EXIT(vcpu, reason) do {				\
	int __ret = xvt_run((vcpu), NULL);				\
	char __buf[512];						\
	ASSERT_EQ(0, __ret) TH_LOG("XVCPU_RUN: %s",			\
		__ret < 0 ? strerror(-__ret) :				\
		xvt_exit_str((vcpu), __buf, sizeof(__buf)));		\
	ASSERT_EQ((uint32_t)(reason), (vcpu)->run->exit_reason)		\
		TH_LOG("%s", xvt_exit_str((vcpu), __buf, sizeof(__buf))); \
} while (0)

FIXTURE(vm) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct xvcpu_run *run;
};

FIXTURE_SETUP(vm)
{
	XVT_REQUIRE_DEV();
	self->t = xvt_vm_create(1);
	ASSERT_NE(NULL, self->t) TH_LOG("test VM: %s", strerror(errno));
	self->vcpu = self->t->vcpus[0];
	self->run = self->vcpu->run;
}

FIXTURE_TEARDOWN(vm)
{
	xvt_vm_destroy(self->t);
}

#endif /* XVTEST_HARNESS_H */
