// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU in its guest must not hold up the host's RCU.  Guest execution
 * is an RCU and RCU-Tasks quiescent state, as with KVM: the module marks
 * each entry with guest_state_enter_irqoff() (kmod/switch.c).  Without
 * it, a vCPU thread that stays inside XVCPU_RUN (its guest exits only to
 * the kernel, on host interrupts) never switches voluntarily nor returns
 * to user mode, so every synchronize_rcu_tasks() on the host (ftrace,
 * kprobes, BPF trampolines) waits until the guest stops.
 *
 * The host work here: turning the function tracer of a trace instance on
 * and off, whose shutdown waits for an RCU-Tasks grace period.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TRACEFS		"/sys/kernel/tracing"
#define INSTANCE	TRACEFS "/instances/xvcpu_rcu_test"
/* A function called rarely (reading /proc/cmdline), in both kernels */
#define FILTER		"cmdline_proc_show"
/* How long the guest keeps running while the host work is waited for */
#define GUEST_SECONDS	20

struct runner {
	struct xvcpu_vcpu *vcpu;
	int ret;
	bool done;
};

static void *run_vcpu(void *arg)
{
	struct runner *r = arg;

	r->ret = xvt_run(r->vcpu, NULL);
	WRITE_ONCE(r->done, true);
	return NULL;
}

struct tracer_toggle {
	int ret;
	bool done;
};

static void *toggle_tracer(void *arg)
{
	struct tracer_toggle *tt = arg;

	tt->ret = xvt_write_file(INSTANCE "/current_tracer", "function");
	if (!tt->ret)
		tt->ret = xvt_write_file(INSTANCE "/current_tracer", "nop");
	WRITE_ONCE(tt->done, true);
	return NULL;
}

/* tracefs with a function tracer, and an instance of it: else a reason */
static const char *tracing_setup(void)
{
	struct stat st;

	if (stat(TRACEFS "/instances", &st) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return "no tracefs";
	if (stat(TRACEFS "/instances", &st))
		return "tracefs without instances";
	rmdir(INSTANCE);
	if (mkdir(INSTANCE, 0755))
		return "cannot make a trace instance";
	if (xvt_write_file(INSTANCE "/set_ftrace_filter", FILTER)) {
		rmdir(INSTANCE);
		return "no function tracer (or no " FILTER ")";
	}
	return NULL;
}

/* The harness's own bound must leave room for GUEST_SECONDS and the end */
TEST_F_TIMEOUT(vm, rcu_tasks_grace_period_while_in_guest, 90)
{
	const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	struct tracer_toggle tt = { 0 };
	struct runner r = { .vcpu = self->vcpu };
	pthread_t run_thread, toggle_thread;
	bool in_guest_throughout;
	uint64_t start, took_ns, count;
	const char *why;

	why = tracing_setup();
	if (why)
		SKIP(return, "%s: the host kernel's ftrace is needed", why);

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, xvt_guest_spin, 1, 0));
	ASSERT_EQ(0, pthread_create(&run_thread, NULL, run_vcpu, &r));
	ASSERT_TRUE(xvt_wait_for_spin(self->t));

	start = xvt_now_ns();
	ASSERT_EQ(0, pthread_create(&toggle_thread, NULL, toggle_tracer, &tt));
	while (!READ_ONCE(tt.done) && !READ_ONCE(r.done) &&
	       xvt_now_ns() - start < GUEST_SECONDS * 1000000000ULL)
		nanosleep(&pause, NULL);
	took_ns = xvt_now_ns() - start;
	in_guest_throughout = !READ_ONCE(r.done);
	count = READ_ONCE(GUEST_VAR(self->t, xvt_spin_count));

	/* Let the guest go; a waiting toggle then completes too */
	WRITE_ONCE(GUEST_VAR(self->t, xvt_spin_stop), 1);
	ASSERT_EQ(0, pthread_join(run_thread, NULL));
	ASSERT_EQ(0, pthread_join(toggle_thread, NULL));
	rmdir(INSTANCE);

	TH_LOG("tracer on and off in %llu ms of %d s, guest counted to %llu",
	       (unsigned long long)took_ns / 1000000, GUEST_SECONDS,
	       (unsigned long long)count);
	EXPECT_EQ(0, tt.ret);
	EXPECT_TRUE(in_guest_throughout) TH_LOG("the vCPU left XVCPU_RUN early: %d",
					       r.ret);
	EXPECT_TRUE(READ_ONCE(tt.done) && took_ns < GUEST_SECONDS * 1000000000ULL)
		TH_LOG("the RCU-Tasks grace period waited for the guest to stop");
	EXPECT_EQ(UCALL_DONE, r.ret);
}

TEST_HARNESS_MAIN
