// SPDX-License-Identifier: GPL-2.0
/*
 * Object lifetimes: whatever order the fds and mappings go in, and however
 * the process ends, the module frees every VM, vCPU and page.  Checked
 * with the module's counters in debugfs.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define CYCLES		100
/* Guest time runs slow in the emulator: keep waits short. */
#define WAIT_MS		(5 * 1000)

#define REQUIRE_STATS(base) do {					\
	int __r;							\
	XVT_REQUIRE_DEV();						\
	__r = xvt_stats_read(base);					\
	if (__r == -ENOENT)						\
		SKIP(return, "no " XVT_STATS_PATH			\
		     " (debugfs not mounted at /sys/kernel/debug?)");	\
	ASSERT_EQ(0, __r) TH_LOG(XVT_STATS_PATH ": %s", strerror(-__r)); \
} while (0)

#define ASSERT_BACK_TO(base) do {					\
	struct xvt_stats __now;						\
	int __r = xvt_stats_wait((base), &__now);			\
	ASSERT_EQ(0, __r) TH_LOG("vms %ld vcpus %ld pages %ld, "	\
		"expected %ld %ld %ld", __now.vms, __now.vcpus,		\
		__now.pages, (base)->vms, (base)->vcpus, (base)->pages); \
} while (0)

TEST(counters_follow_objects)
{
	struct xvt_stats start, now;
	long pages_with_memory;
	int sys, vm, vcpu;
	size_t off;
	char *mem;
	struct xvt_raw v;

	REQUIRE_STATS(&start);

	sys = open(XVCPU_DEV, O_RDWR);
	ASSERT_LE(0, sys);
	vm = ioctl(sys, XVCPU_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, xvt_stats_read(&now));
	EXPECT_EQ(start.vms + 1, now.vms);
	EXPECT_EQ(start.vcpus, now.vcpus);

	vcpu = ioctl(vm, XVCPU_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	ASSERT_EQ(0, xvt_stats_read(&now));
	EXPECT_EQ(start.vms + 1, now.vms);
	EXPECT_EQ(start.vcpus + 1, now.vcpus);

	/*
	 * Guest memory is counted when first touched (here through the
	 * VMM's mapping) and given back when the slot is deleted.
	 */
	pages_with_memory = now.pages + XVT_RAW_MEM_SIZE / XVT_PAGE_SIZE;
	ASSERT_EQ(0, xvt_set_region(vm, 0, 0, 0, XVT_RAW_MEM_SIZE));
	mem = mmap(NULL, XVT_RAW_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vm, XVCPU_MMAP_SLOT_OFFSET(0));
	ASSERT_NE(MAP_FAILED, mem);
	for (off = 0; off < XVT_RAW_MEM_SIZE; off += XVT_PAGE_SIZE)
		mem[off] = 1;
	ASSERT_EQ(0, munmap(mem, XVT_RAW_MEM_SIZE));
	ASSERT_EQ(0, xvt_stats_read(&now));
	EXPECT_LE(pages_with_memory, now.pages);
	pages_with_memory = now.pages;
	ASSERT_EQ(0, xvt_set_region(vm, 0, 0, 0, 0));
	ASSERT_EQ(0, xvt_stats_read(&now));
	EXPECT_GE(pages_with_memory - (long)(XVT_RAW_MEM_SIZE / XVT_PAGE_SIZE),
		  now.pages);

	close(vcpu);
	close(vm);
	close(sys);
	ASSERT_BACK_TO(&start);

	/* And a VM that ran. */
	ASSERT_EQ(0, xvt_raw_create(&v));
	ASSERT_EQ(0, xvt_raw_run(&v));
	xvt_raw_destroy(&v);
	ASSERT_BACK_TO(&start);
}

/* Next permutation in lexicographic order; false after the last. */
static bool next_permutation(int *a, int n)
{
	int i = n - 2, j = n - 1, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	while (a[j] <= a[i])
		j--;
	t = a[i];
	a[i] = a[j];
	a[j] = t;
	for (i++, j = n - 1; i < j; i++, j--) {
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
	return true;
}

TEST(release_in_every_order)
{
	int order[XVT_RAW_NR] = {
		XVT_RAW_SYS, XVT_RAW_VM, XVT_RAW_VCPU, XVT_RAW_RUN, XVT_RAW_MEM,
	};
	struct xvt_stats base, now;
	unsigned int n = 0;
	struct xvt_raw v;
	int i;

	REQUIRE_STATS(&base);
	do {
		ASSERT_EQ(0, xvt_raw_create(&v));
		ASSERT_EQ(0, xvt_raw_run(&v));
		for (i = 0; i < XVT_RAW_NR; i++)
			xvt_raw_release(&v, order[i]);
		ASSERT_EQ(0, xvt_stats_wait(&base, &now)) {
			TH_LOG("released %s, %s, %s, %s, %s: vms %ld vcpus %ld pages %ld, expected %ld %ld %ld",
			       xvt_raw_obj_names[order[0]], xvt_raw_obj_names[order[1]],
			       xvt_raw_obj_names[order[2]], xvt_raw_obj_names[order[3]],
			       xvt_raw_obj_names[order[4]], now.vms, now.vcpus,
			       now.pages, base.vms, base.vcpus, base.pages);
		}
		n++;
	} while (next_permutation(order, XVT_RAW_NR));
	EXPECT_EQ(120, n);
}

TEST(create_destroy_cycles)
{
	struct xvt_stats base;
	struct xvt_vm *t;
	struct xvt_raw v;
	int i;

	REQUIRE_STATS(&base);
	for (i = 0; i < CYCLES; i++) {
		ASSERT_EQ(0, xvt_raw_create(&v)) TH_LOG("cycle %d", i);
		ASSERT_EQ(0, xvt_raw_run(&v)) TH_LOG("cycle %d", i);
		xvt_raw_destroy(&v);
	}
	ASSERT_BACK_TO(&base);

	/* A few full test VMs too. */
	for (i = 0; i < 3; i++) {
		t = xvt_vm_create(2);
		ASSERT_NE(NULL, t);
		ASSERT_RUN_UCALL(t->vcpus[0], NULL, UCALL_DONE);
		ASSERT_RUN_UCALL(t->vcpus[1], NULL, UCALL_DONE);
		xvt_vm_destroy(t);
	}
	ASSERT_BACK_TO(&base);
}

struct spin_watch {
	struct xvt_vm *t;
	int fd;
};

/* In the child: tell the parent once the guest is counting. */
static void *report_spinning(void *arg)
{
	struct spin_watch *w = arg;
	char c = 1;

	if (xvt_wait_for_spin(w->t) && write(w->fd, &c, 1) != 1)
		_exit(3);
	return NULL;
}

static void __attribute__((noreturn)) spin_child(int fd)
{
	struct spin_watch w = { .fd = fd };
	pthread_t thread;
	int ret;

	w.t = xvt_vm_create(1);
	if (!w.t)
		_exit(1);
	if (xvt_vcpu_enter(w.t->vcpus[0], xvt_guest_spin, 1, 0) < 0 ||
	    pthread_create(&thread, NULL, report_spinning, &w))
		_exit(2);
	fprintf(stderr, "# child %d: entering the guest\n", getpid());
	ret = xvcpu_vcpu_run(w.t->vcpus[0]);
	fprintf(stderr, "# XVCPU_RUN returned %d in the child\n", ret);
	_exit(4);
}

TEST(sigkill_mid_run)
{
	struct xvt_stats base;
	struct pollfd pfd;
	int pipefd[2], status;
	pid_t pid;
	char c;

	REQUIRE_STATS(&base);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[0]);
		spin_child(pipefd[1]);
	}
	close(pipefd[1]);

	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS)) {
		TH_LOG("the child's guest did not start counting");
		kill(pid, SIGKILL);
	}
	ASSERT_EQ(1, read(pipefd[0], &c, 1)) {
		TH_LOG("the child ended before its guest ran");
		kill(pid, SIGKILL);
	}

	TH_LOG("guest running in child %d: SIGKILL", pid);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child status %#x", status);
	ASSERT_BACK_TO(&base);
}

TEST_HARNESS_MAIN
