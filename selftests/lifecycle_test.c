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
#define WAIT_MS		(20 * 1000)

/*
 * A small VM built with raw ioctls, so that each object can be released
 * on its own: 64 KiB at guest-physical 0 with the 64-bit mode tables at
 * 0x1000, a HLT at TINY_ENTRY and the stack below TINY_STACK.
 */
#define TINY_MEM	0x10000ULL
#define TINY_TABLES	0x1000ULL
#define TINY_ENTRY	0x9000ULL
#define TINY_STACK	0xf000ULL

enum obj { SYS, VM, VCPU, RUN_MAP, MEM_MAP, NR_OBJS };

static const char *const obj_names[NR_OBJS] = {
	"system fd", "VM fd", "vCPU fd", "run page", "guest memory",
};

struct tiny {
	int fd[3];		/* SYS, VM, VCPU */
	void *mem;
	struct xvcpu_run *run;
	size_t run_size;
};

static void tiny_release(struct tiny *v, enum obj o)
{
	switch (o) {
	case SYS:
	case VM:
	case VCPU:
		if (v->fd[o] >= 0)
			close(v->fd[o]);
		v->fd[o] = -1;
		break;
	case RUN_MAP:
		if (v->run)
			munmap(v->run, v->run_size);
		v->run = NULL;
		break;
	case MEM_MAP:
		if (v->mem)
			munmap(v->mem, TINY_MEM);
		v->mem = NULL;
		break;
	default:
		break;
	}
}

static void tiny_destroy(struct tiny *v)
{
	int o;

	for (o = NR_OBJS - 1; o >= 0; o--)
		tiny_release(v, o);
}

/* 0 or -errno; on failure nothing is left behind. */
static int tiny_create(struct tiny *v)
{
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;
	int size, ret;

	memset(v, 0, sizeof(*v));
	v->fd[SYS] = v->fd[VM] = v->fd[VCPU] = -1;

	v->fd[SYS] = open(XVCPU_DEV, O_RDWR | O_CLOEXEC);
	if (v->fd[SYS] < 0)
		goto err;
	v->fd[VM] = ioctl(v->fd[SYS], XVCPU_CREATE_VM, 0);
	if (v->fd[VM] < 0)
		goto err;
	ret = xvt_set_region(v->fd[VM], 0, 0, 0, TINY_MEM);
	if (ret < 0) {
		errno = -ret;
		goto err;
	}
	v->mem = mmap(NULL, TINY_MEM, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd[VM], (off_t)XVCPU_MMAP_SLOT_OFFSET(0));
	if (v->mem == MAP_FAILED) {
		v->mem = NULL;
		goto err;
	}
	v->fd[VCPU] = ioctl(v->fd[VM], XVCPU_CREATE_VCPU, 0);
	if (v->fd[VCPU] < 0)
		goto err;
	size = ioctl(v->fd[SYS], XVCPU_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0)
		goto err;
	v->run_size = size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd[VCPU], 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		goto err;
	}

	((uint8_t *)v->mem)[TINY_ENTRY] = 0xf4;		/* hlt */
	ret = xvcpu_mode_build(XVCPU_MODE_LONG, TINY_ENTRY, TINY_STACK,
			       TINY_TABLES, (char *)v->mem + TINY_TABLES,
			       &regs, &sregs);
	if (ret < 0) {
		errno = -ret;
		goto err;
	}
	if (ioctl(v->fd[VCPU], XVCPU_SET_SREGS, &sregs) < 0 ||
	    ioctl(v->fd[VCPU], XVCPU_SET_REGS, &regs) < 0)
		goto err;
	return 0;

err:
	ret = -errno;
	tiny_destroy(v);
	return ret;
}

/* Enter the guest once; it halts. */
static int tiny_run(struct tiny *v)
{
	if (ioctl(v->fd[VCPU], XVCPU_RUN, 0) < 0)
		return -errno;
	return v->run->exit_reason == XVCPU_EXIT_HLT ? 0 : -EPROTO;
}

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
	struct tiny v;

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

	/* Guest memory is counted when created and when deleted. */
	pages_with_memory = now.pages + TINY_MEM / XVT_PAGE_SIZE;
	ASSERT_EQ(0, xvt_set_region(vm, 0, 0, 0, TINY_MEM));
	ASSERT_EQ(0, xvt_stats_read(&now));
	EXPECT_LE(pages_with_memory, now.pages);
	pages_with_memory = now.pages;
	ASSERT_EQ(0, xvt_set_region(vm, 0, 0, 0, 0));
	ASSERT_EQ(0, xvt_stats_read(&now));
	EXPECT_GE(pages_with_memory - (long)(TINY_MEM / XVT_PAGE_SIZE),
		  now.pages);

	close(vcpu);
	close(vm);
	close(sys);
	ASSERT_BACK_TO(&start);

	/* And a VM that ran. */
	ASSERT_EQ(0, tiny_create(&v));
	ASSERT_EQ(0, tiny_run(&v));
	tiny_destroy(&v);
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
	int order[NR_OBJS] = { SYS, VM, VCPU, RUN_MAP, MEM_MAP };
	struct xvt_stats base, now;
	unsigned int n = 0;
	struct tiny v;
	int i;

	REQUIRE_STATS(&base);
	do {
		ASSERT_EQ(0, tiny_create(&v));
		ASSERT_EQ(0, tiny_run(&v));
		for (i = 0; i < NR_OBJS; i++)
			tiny_release(&v, order[i]);
		ASSERT_EQ(0, xvt_stats_wait(&base, &now)) {
			TH_LOG("released %s, %s, %s, %s, %s: vms %ld vcpus %ld pages %ld, expected %ld %ld %ld",
			       obj_names[order[0]], obj_names[order[1]],
			       obj_names[order[2]], obj_names[order[3]],
			       obj_names[order[4]], now.vms, now.vcpus,
			       now.pages, base.vms, base.vcpus, base.pages);
		}
		n++;
	} while (next_permutation(order, NR_OBJS));
	EXPECT_EQ(120, n);
}

TEST(create_destroy_cycles)
{
	struct xvt_stats base;
	struct xvt_vm *t;
	struct tiny v;
	int i;

	REQUIRE_STATS(&base);
	for (i = 0; i < CYCLES; i++) {
		ASSERT_EQ(0, tiny_create(&v)) TH_LOG("cycle %d", i);
		ASSERT_EQ(0, tiny_run(&v)) TH_LOG("cycle %d", i);
		tiny_destroy(&v);
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

/* A guest that never stops on its own. */
static uint64_t spin_count;

static void __guest guest_spin_forever(void)
{
	for (;;)
		WRITE_ONCE(spin_count, READ_ONCE(spin_count) + 1);
}

struct spin_watch {
	struct xvt_vm *t;
	int fd;
};

/* In the child: tell the parent once the guest is counting. */
static void *report_spinning(void *arg)
{
	const struct timespec pause = { .tv_nsec = 1000 * 1000 };
	struct spin_watch *w = arg;
	char c = 1;

	while (!READ_ONCE(GUEST_VAR(w->t, spin_count)))
		nanosleep(&pause, NULL);
	if (write(w->fd, &c, 1) != 1)
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
	if (xvt_vcpu_enter(w.t->vcpus[0], guest_spin_forever, 0, 0) < 0 ||
	    pthread_create(&thread, NULL, report_spinning, &w))
		_exit(2);
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
	EXPECT_EQ(1, poll(&pfd, 1, WAIT_MS));
	EXPECT_EQ(1, read(pipefd[0], &c, 1)) TH_LOG("the guest never ran");

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("child status %#x", status);
	ASSERT_BACK_TO(&base);
}

TEST_HARNESS_MAIN
