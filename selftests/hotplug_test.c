// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug: xvcpu turns VMX off on a CPU going offline and back on when
 * it returns (cpuhp), and a vCPU keeps running across it, also when its
 * CPU goes offline under it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

static int set_cpu1_online(bool on)
{
	return xvt_write_file(CPU1_ONLINE, on ? "1" : "0");
}

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		CPU_SET(0, &set);
		CPU_SET(1, &set);
	}
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static void __guest guest_nothing(void)
{
}

#define REQUIRE_CPU1() do {						\
	XVT_REQUIRE_DEV();						\
	if (access(CPU1_ONLINE, W_OK))					\
		SKIP(return, "needs a second CPU that can go offline (%s)", \
		     CPU1_ONLINE);					\
} while (0)

FIXTURE(hotplug) {
	struct xvt_vm *t;
};

FIXTURE_SETUP(hotplug)
{
	REQUIRE_CPU1();
	self->t = xvt_vm_create(1);
	ASSERT_NE(NULL, self->t);
}

FIXTURE_TEARDOWN(hotplug)
{
	set_cpu1_online(true);
	pin_to(-1);
	if (self->t)
		xvt_vm_destroy(self->t);
}

/* Enter guest_nothing on @cpu and see it finish. */
static void run_on(struct __test_metadata *_metadata, struct xvt_vm *t,
		   int cpu)
{
	ASSERT_EQ(0, pin_to(cpu));
	ASSERT_EQ(0, xvt_vcpu_enter(t->vcpus[0], guest_nothing, 0, 0));
	ASSERT_RUN_UCALL(t->vcpus[0], NULL, UCALL_DONE);
}

TEST_F(hotplug, vcpu_runs_on_a_cpu_brought_back_online)
{
	int round;

	for (round = 0; round < 3; round++) {
		run_on(_metadata, self->t, 1);
		ASSERT_EQ(0, pin_to(0));
		ASSERT_EQ(0, set_cpu1_online(false));
		run_on(_metadata, self->t, 0);
		ASSERT_EQ(0, set_cpu1_online(true));
		/* VMX is on again on CPU1 and the vCPU moves back to it */
		run_on(_metadata, self->t, 1);
	}
}

struct spinner {
	struct xvt_vm *t;
	int ret;
};

static void *spin_on_cpu1(void *arg)
{
	struct spinner *s = arg;

	s->ret = pin_to(1);
	if (!s->ret)
		s->ret = xvt_run(s->t->vcpus[0], NULL);
	return NULL;
}

static uint64_t spin_count_after(struct xvt_vm *t, long ms)
{
	const struct timespec ts = { .tv_nsec = ms * 1000 * 1000 };

	nanosleep(&ts, NULL);
	return READ_ONCE(GUEST_VAR(t, xvt_spin_count));
}

TEST_F(hotplug, cpu_goes_offline_under_a_running_vcpu)
{
	struct spinner s = { .t = self->t };
	uint64_t before;
	pthread_t thread;

	ASSERT_EQ(0, xvt_vcpu_enter(self->t->vcpus[0], xvt_guest_spin, 1, 0));
	ASSERT_EQ(0, pthread_create(&thread, NULL, spin_on_cpu1, &s));
	ASSERT_TRUE(xvt_wait_for_spin(self->t));

	ASSERT_EQ(0, pin_to(0));
	ASSERT_EQ(0, set_cpu1_online(false));
	/* The vCPU thread was moved to CPU0 and its guest still counts */
	before = spin_count_after(self->t, 0);
	EXPECT_LT(before, spin_count_after(self->t, 50));
	ASSERT_EQ(0, set_cpu1_online(true));
	before = spin_count_after(self->t, 0);
	EXPECT_LT(before, spin_count_after(self->t, 50));

	GUEST_VAR(self->t, xvt_spin_stop) = 1;
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(UCALL_DONE, s.ret);
}

TEST_HARNESS_MAIN
