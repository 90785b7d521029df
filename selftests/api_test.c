// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl surface: API version, capabilities, argument checks, and the
 * creation of VMs, vCPUs and run pages.
 */
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* More vCPUs than this are not all created (it would only take time). */
#define VCPU_CREATE_LIMIT	1024

static int open_dev(void)
{
	return open(XVCPU_DEV, O_RDWR | O_CLOEXEC);
}

/* The three kinds of fd, for the tests that need all of them. */
FIXTURE(fds) {
	int sys;
	int vm;
	int vcpu;
};

FIXTURE_SETUP(fds)
{
	XVT_REQUIRE_DEV();
	self->sys = open_dev();
	ASSERT_LE(0, self->sys) TH_LOG("open: %s", strerror(errno));
	self->vm = ioctl(self->sys, XVCPU_CREATE_VM, 0);
	ASSERT_LE(0, self->vm) TH_LOG("CREATE_VM: %s", strerror(errno));
	self->vcpu = ioctl(self->vm, XVCPU_CREATE_VCPU, 0);
	ASSERT_LE(0, self->vcpu) TH_LOG("CREATE_VCPU: %s", strerror(errno));
}

FIXTURE_TEARDOWN(fds)
{
	close(self->vcpu);
	close(self->vm);
	close(self->sys);
}

/*
 * In a child that drops root for uid and gid @id, with the supplementary
 * groups @groups: 0 if opening /dev/xvcpu gives @want_errno (0: it opens
 * and makes a VM), 1 if not, 2 if the ids could not be dropped.
 */
static int open_as(uid_t id, const gid_t *groups, size_t nr, int want_errno)
{
	int status, fd, vm, err = 0;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (setgroups(nr, groups) || setgid(id) || setuid(id))
			_exit(2);
		fd = open_dev();
		if (fd < 0) {
			err = errno;
		} else {
			vm = ioctl(fd, XVCPU_CREATE_VM, 0);
			if (vm < 0)
				err = errno;
		}
		_exit(err == want_errno ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 2;
	return WEXITSTATUS(status);
}

/*
 * /dev/xvcpu is 0660: its group (kvm, with tools/udev/99-xvcpu.rules) may
 * use it, any other user gets EACCES.
 */
TEST(device_node_0660)
{
	const uid_t nobody = 65534;
	struct stat st;
	gid_t group;

	XVT_REQUIRE_DEV();
	ASSERT_EQ(0, stat(XVCPU_DEV, &st)) TH_LOG("%s", strerror(errno));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0660, st.st_mode & 07777)
		TH_LOG("mode %o", (unsigned int)(st.st_mode & 07777));
	if (geteuid() != 0)
		SKIP(return, "not root: cannot switch to other users");
	group = st.st_gid;
	EXPECT_EQ(0, open_as(nobody, NULL, 0, EACCES))
		TH_LOG("a user outside group %u was not refused", group);
	EXPECT_EQ(0, open_as(nobody, &group, 1, 0))
		TH_LOG("a member of group %u could not use it", group);
}

TEST(api_version)
{
	int fd, lib_fd;

	XVT_REQUIRE_DEV();
	fd = open_dev();
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	EXPECT_EQ(XVCPU_API_VERSION, ioctl(fd, XVCPU_GET_API_VERSION, 0));
	/* libxvcpu's check agrees. */
	lib_fd = xvcpu_open();
	EXPECT_LE(0, lib_fd);
	close(lib_fd);
	close(fd);
}

TEST(caps_sensible)
{
	/*
	 * What xvcpu gives on every CPU it loads on (the module refuses
	 * CPUs without EPT and unrestricted guest): a 0 here would turn the
	 * tests of these features into skips, so each must be 1.
	 */
	static const unsigned long always_caps[] = {
		XVCPU_CAP_EPT, XVCPU_CAP_UNRESTRICTED_GUEST,
		XVCPU_CAP_READONLY_MEM, XVCPU_CAP_IMMEDIATE_EXIT,
		XVCPU_CAP_HYPERCALL, XVCPU_CAP_CPUID, XVCPU_CAP_MSR_POLICY,
		XVCPU_CAP_EVENTS, XVCPU_CAP_TRANSLATE, XVCPU_CAP_STRING_IO,
		XVCPU_CAP_MMIO_INSN, XVCPU_CAP_SET_CPUID,
	};
	/* Features that depend on the CPU's VMX: 0 or 1. */
	static const unsigned long bool_caps[] = {
		XVCPU_CAP_VPID, XVCPU_CAP_NMI, XVCPU_CAP_XSAVE,
	};
	unsigned int i;
	int fd, v;

	XVT_REQUIRE_DEV();
	fd = open_dev();
	ASSERT_LE(0, fd);

	for (i = 0; i < ARRAY_SIZE(always_caps); i++) {
		v = ioctl(fd, XVCPU_CHECK_CAP, always_caps[i]);
		EXPECT_EQ(1, v) TH_LOG("cap %lu = %d, expected 1",
				       always_caps[i], v);
	}
	for (i = 0; i < ARRAY_SIZE(bool_caps); i++) {
		v = ioctl(fd, XVCPU_CHECK_CAP, bool_caps[i]);
		EXPECT_TRUE(v == 0 || v == 1)
			TH_LOG("cap %lu = %d, expected 0 or 1", bool_caps[i], v);
		/* Asking twice gives the same answer. */
		EXPECT_EQ(v, ioctl(fd, XVCPU_CHECK_CAP, bool_caps[i]));
	}
	/* The intercepts always work; single-step needs the monitor trap flag. */
	v = ioctl(fd, XVCPU_CHECK_CAP, XVCPU_CAP_GUEST_DEBUG);
	EXPECT_EQ(XVCPU_DEBUG_INTERCEPT_BP | XVCPU_DEBUG_INTERCEPT_DB,
		  v & ~XVCPU_DEBUG_SINGLESTEP) TH_LOG("GUEST_DEBUG = %#x", v);

	v = ioctl(fd, XVCPU_CHECK_CAP, XVCPU_CAP_MAX_VCPUS);
	EXPECT_LE(1, v);
	EXPECT_GE(4096, v);
	v = ioctl(fd, XVCPU_CHECK_CAP, XVCPU_CAP_NR_MEMSLOTS);
	EXPECT_LE(1, v);
	/* Slot numbers must fit below the mmap offset of the next slot. */
	EXPECT_GE(1 << 16, v);
	v = ioctl(fd, XVCPU_CHECK_CAP, XVCPU_CAP_MAX_MEMORY_MB);
	EXPECT_LE(1, v);
	close(fd);
}

TEST(unknown_cap_is_zero)
{
	static const unsigned long unknown[] = {
		0, XVCPU_CAP_SET_CPUID + 1, 0x1000, 1UL << 32, ~0UL,
	};
	unsigned int i;
	int fd;

	XVT_REQUIRE_DEV();
	fd = open_dev();
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		EXPECT_EQ(0, ioctl(fd, XVCPU_CHECK_CAP, unknown[i]))
			TH_LOG("cap %#lx", unknown[i]);
	}
	close(fd);
}

struct wrong_size {
	char bytes[3];
};

TEST_F(fds, unknown_ioctl_enotty)
{
	/* Unknown numbers, another driver's magic, wrong size encodings. */
	const unsigned long everywhere[] = {
		_IO(XVCPUIO, 0x7f),
		_IO(0xAE, 0x00),	/* KVM_GET_API_VERSION */
		_IOR(XVCPUIO, 0x21, struct wrong_size),
		_IOW(XVCPUIO, 0x24, struct xvcpu_regs),
		_IOWR(XVCPUIO, 0x10, __u64),
		_IOR(XVCPUIO, 0x00, int),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(everywhere); i++) {
		ASSERT_ERRNO(ENOTTY, ioctl(self->sys, everywhere[i], 0));
		ASSERT_ERRNO(ENOTTY, ioctl(self->vm, everywhere[i], 0));
		ASSERT_ERRNO(ENOTTY, ioctl(self->vcpu, everywhere[i], 0));
	}

	/* Each fd answers only its own ioctls. */
	ASSERT_ERRNO(ENOTTY, ioctl(self->sys, XVCPU_CREATE_VCPU, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(self->sys, XVCPU_RUN, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(self->vm, XVCPU_CREATE_VM, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(self->vm, XVCPU_RUN, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(self->vcpu, XVCPU_CREATE_VM, 0));
	ASSERT_ERRNO(ENOTTY, ioctl(self->vcpu, XVCPU_CREATE_VCPU, 0));
}

TEST(nonzero_argument_einval)
{
	static const unsigned long args[] = { 1, 0x100, 1UL << 32 };
	unsigned int i;
	int fd;

	XVT_REQUIRE_DEV();
	fd = open_dev();
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(args); i++) {
		ASSERT_ERRNO(EINVAL,
			     ioctl(fd, XVCPU_GET_API_VERSION, args[i]));
		ASSERT_ERRNO(EINVAL, ioctl(fd, XVCPU_CREATE_VM, args[i]));
		ASSERT_ERRNO(EINVAL,
			     ioctl(fd, XVCPU_GET_VCPU_MMAP_SIZE, args[i]));
	}
	close(fd);
}

TEST(many_vms_outlive_system_fd)
{
	int fd, vms[8], i, vcpu;

	XVT_REQUIRE_DEV();
	fd = open_dev();
	ASSERT_LE(0, fd);
	for (i = 0; i < 8; i++) {
		vms[i] = ioctl(fd, XVCPU_CREATE_VM, 0);
		ASSERT_LE(0, vms[i]) TH_LOG("VM %d: %s", i, strerror(errno));
	}
	close(fd);

	/* Each VM is its own: the same vCPU id works in every one. */
	for (i = 0; i < 8; i++) {
		vcpu = ioctl(vms[i], XVCPU_CREATE_VCPU, 0);
		ASSERT_LE(0, vcpu) TH_LOG("VM %d: %s", i, strerror(errno));
		close(vcpu);
		close(vms[i]);
	}
}

TEST(vcpu_ids)
{
	int fd, vm, max, n, i, *vcpus;

	XVT_REQUIRE_DEV();
	fd = open_dev();
	ASSERT_LE(0, fd);
	max = ioctl(fd, XVCPU_CHECK_CAP, XVCPU_CAP_MAX_VCPUS);
	ASSERT_LE(1, max);
	vm = ioctl(fd, XVCPU_CREATE_VM, 0);
	ASSERT_LE(0, vm);

	ASSERT_ERRNO(EINVAL, ioctl(vm, XVCPU_CREATE_VCPU, (unsigned long)max));
	ASSERT_ERRNO(EINVAL, ioctl(vm, XVCPU_CREATE_VCPU, ~0UL));
	/* Not truncated to 32 bits (that would read as id 0). */
	ASSERT_ERRNO(EINVAL, ioctl(vm, XVCPU_CREATE_VCPU, 1UL << 32));

	n = max < VCPU_CREATE_LIMIT ? max : VCPU_CREATE_LIMIT;
	if (n < max)
		TH_LOG("creating %d of the %d allowed vCPUs", n, max);
	vcpus = calloc(n, sizeof(*vcpus));
	ASSERT_NE(NULL, vcpus);
	/* From the top down, so the highest id is tried first. */
	for (i = n - 1; i >= 0; i--) {
		vcpus[i] = ioctl(vm, XVCPU_CREATE_VCPU, (unsigned long)i);
		ASSERT_LE(0, vcpus[i]) TH_LOG("vCPU %d: %s", i,
					      strerror(errno));
	}
	ASSERT_ERRNO(EEXIST, ioctl(vm, XVCPU_CREATE_VCPU, 0));
	ASSERT_ERRNO(EEXIST, ioctl(vm, XVCPU_CREATE_VCPU,
				   (unsigned long)(n - 1)));
	/* Still refused for ids out of range when some exist. */
	ASSERT_ERRNO(EINVAL, ioctl(vm, XVCPU_CREATE_VCPU, (unsigned long)max));

	for (i = 0; i < n; i++)
		close(vcpus[i]);
	free(vcpus);
	close(vm);
	close(fd);
}

TEST_F(fds, vcpu_outlives_vm_fd)
{
	struct xvcpu_regs regs;

	close(self->vm);
	self->vm = -1;
	EXPECT_EQ(0, ioctl(self->vcpu, XVCPU_GET_REGS, &regs))
		TH_LOG("GET_REGS: %s", strerror(errno));
}

TEST_F(fds, run_page)
{
	long page = sysconf(_SC_PAGESIZE);
	struct xvcpu_run *a, *b;
	int size;

	size = ioctl(self->sys, XVCPU_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LE((int)sizeof(struct xvcpu_run), size);
	EXPECT_EQ(0, size % page) TH_LOG("run page size %d", size);

	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu,
		 0);
	ASSERT_NE(MAP_FAILED, a) TH_LOG("mmap: %s", strerror(errno));
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu,
		 0);
	ASSERT_NE(MAP_FAILED, b) TH_LOG("mmap: %s", strerror(errno));

	/* Both mappings are the vCPU's one run page. */
	a->immediate_exit = 1;
	EXPECT_EQ(1, b->immediate_exit);
	b->immediate_exit = 0;
	EXPECT_EQ(0, a->immediate_exit);

	EXPECT_EQ(0, munmap(a, size));
	EXPECT_EQ(0, munmap(b, size));
}

TEST_HARNESS_MAIN
