// SPDX-License-Identifier: GPL-2.0
/*
 * Leaving XVCPU_RUN without a guest exit: immediate_exit, signals to the
 * running thread, and a second thread trying to run the same vCPU.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "harness.h"

/* Timer period when interrupting a spinning guest. */
#define TICK_US		10000

static uint64_t marker;

static void __guest guest_mark(void)
{
	WRITE_ONCE(marker, 1);
}

TEST_F(vm, immediate_exit)
{
	struct xvcpu_regs regs;
	int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_IMMEDIATE_EXIT));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_mark, 0, 0));

	self->run->immediate_exit = 1;
	/* Twice: the flag stays until userspace clears it. */
	for (i = 0; i < 2; i++) {
		self->run->exit_reason = XVCPU_EXIT_UNKNOWN;
		ASSERT_EQ(-EINTR, xvt_run(self->vcpu, NULL));
		EXPECT_EQ(XVCPU_EXIT_INTR, self->run->exit_reason);
	}
	/* The guest did not run. */
	EXPECT_EQ(0, GUEST_VAR(self->t, marker));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ((uintptr_t)guest_mark, regs.rip);

	self->run->immediate_exit = 0;
	ASSERT_RUN_UCALL(self->vcpu, NULL, UCALL_DONE);
	EXPECT_EQ(1, GUEST_VAR(self->t, marker));
}

/*
 * Run the spinning guest of @t, SIGALRM ticking, until an interrupted run
 * leaves its count past @since: a tick may land before a RUN starts (or
 * before the guest is first entered) and end a RUN with no progress, the
 * next one does not.  Returns the last RUN's result.
 */
static int run_until_counted(struct __test_metadata *_metadata,
			     struct xvt_vm *t, uint64_t since)
{
	struct xvcpu_vcpu *vcpu = t->vcpus[0];
	int i, ret = 0;

	for (i = 0; i < 100; i++) {
		vcpu->run->exit_reason = XVCPU_EXIT_UNKNOWN;
		ret = xvt_run(vcpu, NULL);
		if (ret != -EINTR)
			break;
		EXPECT_EQ(XVCPU_EXIT_INTR, vcpu->run->exit_reason);
		if (GUEST_VAR(t, xvt_spin_count) != since)
			break;
	}
	return ret;
}

/*
 * Interrupt a spinning guest with a periodic SIGALRM, resume it, then let
 * it finish.
 */
static void timer_interrupts_guest(struct __test_metadata *_metadata,
				   struct xvt_vm *t, uint64_t irqs_on)
{
	struct xvcpu_vcpu *vcpu = t->vcpus[0];
	uint64_t count;
	int ret;

	ASSERT_EQ(0, xvt_catch_signal(SIGALRM));
	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, xvt_guest_spin, irqs_on, 0));

	/* The guest must have counted by the time a run is interrupted. */
	ASSERT_EQ(0, xvt_set_itimer(TICK_US, true));
	ret = run_until_counted(_metadata, t, 0);
	ASSERT_EQ(0, xvt_set_itimer(0, false));
	ASSERT_EQ(-EINTR, ret) TH_LOG("XVCPU_RUN: %d", ret);
	count = GUEST_VAR(t, xvt_spin_count);
	ASSERT_NE(0, count) TH_LOG("the guest never counted");

	/* Resumed, it carries on from where it was. */
	ASSERT_EQ(0, xvt_set_itimer(TICK_US, true));
	ret = run_until_counted(_metadata, t, count);
	ASSERT_EQ(0, xvt_set_itimer(0, false));
	ASSERT_EQ(-EINTR, ret) TH_LOG("XVCPU_RUN: %d", ret);
	EXPECT_LT(count, GUEST_VAR(t, xvt_spin_count));

	GUEST_VAR(t, xvt_spin_stop) = 1;
	ASSERT_RUN_UCALL(vcpu, NULL, UCALL_DONE);
}

TEST_F(vm, timer_signal_interrupts_guest)
{
	timer_interrupts_guest(_metadata, self->t, 1);
}

struct kicker {
	struct xvt_vm *t;
	pthread_t target;
	bool saw_spin;
};

/* Signal the target thread once the guest it runs is counting. */
static void *kick_when_spinning(void *arg)
{
	struct kicker *k = arg;

	k->saw_spin = xvt_wait_for_spin(k->t);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

TEST_F(vm, thread_signal_interrupts_guest)
{
	struct kicker k = { .t = self->t, .target = pthread_self() };
	pthread_t thread;

	ASSERT_EQ(0, xvt_catch_signal(SIGUSR1));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, xvt_guest_spin, 1, 0));
	ASSERT_EQ(0, pthread_create(&thread, NULL, kick_when_spinning, &k));

	EXPECT_EQ(-EINTR, xvt_run(self->vcpu, NULL));
	EXPECT_EQ(XVCPU_EXIT_INTR, self->run->exit_reason);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_TRUE(k.saw_spin);

	GUEST_VAR(self->t, xvt_spin_stop) = 1;
	ASSERT_RUN_UCALL(self->vcpu, NULL, UCALL_DONE);
}

struct runner {
	struct xvcpu_vcpu *vcpu;
	int ret;
};

static void *run_in_thread(void *arg)
{
	struct runner *r = arg;
	sigset_t set;

	/* Timer signals are for the main thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r->ret = xvcpu_vcpu_run(r->vcpu);
	return NULL;
}

TEST_F(vm, concurrent_run_ebusy)
{
	struct runner r = { .vcpu = self->vcpu };
	pthread_t thread;
	int ret;

	ASSERT_EQ(0, xvt_catch_signal(SIGUSR1));
	ASSERT_EQ(0, xvt_catch_signal(SIGALRM));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, xvt_guest_spin, 1, 0));
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_in_thread, &r));
	ASSERT_TRUE(xvt_wait_for_spin(self->t)) {
		pthread_kill(thread, SIGUSR1);
	}

	/* A second RUN must fail at once, not wait: a timer catches that. */
	ASSERT_EQ(0, xvt_set_itimer(1000000, false));
	ret = xvcpu_vcpu_run(self->vcpu);
	ASSERT_EQ(0, xvt_set_itimer(0, false));
	EXPECT_EQ(-EBUSY, ret) TH_LOG("second XVCPU_RUN: %s", strerror(-ret));

	pthread_kill(thread, SIGUSR1);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(-EINTR, r.ret);

	/* Free again for this thread. */
	GUEST_VAR(self->t, xvt_spin_stop) = 1;
	ASSERT_RUN_UCALL(self->vcpu, NULL, UCALL_DONE);
}

/*
 * The same with the guest's interrupts off, as a guest kernel often runs:
 * the host must still get its CPU back.  Last in this file: on Bochs 2.7
 * this hangs unless the module forces exits by itself (see
 * xvt_guest_spin() in xvtest.h).
 */
TEST_F(vm, interrupts_off_guest_is_interrupted)
{
	timer_interrupts_guest(_metadata, self->t, 0);
}

TEST_HARNESS_MAIN
