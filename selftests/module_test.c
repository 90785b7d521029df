// SPDX-License-Identifier: GPL-2.0
/*
 * The module itself: unloading while in use, reloading, and sharing VMX
 * with kvm_intel.  Needs root, xvcpu loaded and $XVCPU_MODULE naming its
 * .ko file (to load it again).  Every test leaves xvcpu loaded and
 * kvm_intel unloaded; FIXTURE_TEARDOWN_PARENT makes sure of it even when
 * a test fails halfway.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MODULE_ENV	"XVCPU_MODULE"
#define WAIT_NS		(10ULL * 1000 * 1000 * 1000)

/* The KVM modules a test may load, dependencies last. */
static const char *const kvm_mods[] = { "kvm_intel", "kvm", "irqbypass" };
#define NR_KVM_MODS	ARRAY_SIZE(kvm_mods)

static bool module_loaded(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return stat(path, &st) == 0;
}

/* finit_module(); 0 or -errno. */
static int load_module(const char *path)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0);
	ret = ret < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* delete_module() without waiting; 0 or -errno. */
static int unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) < 0 ? -errno : 0;
}

/*
 * Unload, retrying a little while the last references go away (a closed
 * fd may be released just after close() returns).
 */
static int unload_module_wait(const char *name)
{
	const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int i, ret = 0;

	for (i = 0; i < 200; i++) {
		ret = unload_module(name);
		if (ret != -EAGAIN && ret != -EBUSY)
			break;
		nanosleep(&pause, NULL);
	}
	return ret;
}

static bool wait_for_path(const char *path, bool present)
{
	const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	uint64_t deadline = xvt_now_ns() + WAIT_NS;
	struct stat st;

	while ((stat(path, &st) == 0) != present) {
		if (xvt_now_ns() > deadline)
			return false;
		nanosleep(&pause, NULL);
	}
	return true;
}

/* Run a shell command, its output as TAP comments; its exit status. */
static int run_cmd(const char *cmd)
{
	char line[512], full[512];
	FILE *p;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	fprintf(stderr, "# $ %s\n", cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		fprintf(stderr, "#   %s", line);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Whether @dir holds a file named @a or @b (searched recursively). */
static bool find_file(const char *dir, const char *a, const char *b)
{
	char path[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!strcmp(e->d_name, a) || !strcmp(e->d_name, b)) {
			found = true;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			found = find_file(path, a, b);
	}
	closedir(d);
	return found;
}

static bool kvm_intel_available(void)
{
	char dir[PATH_MAX];
	struct utsname u;

	if (uname(&u))
		return false;
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	return find_file(dir, "kvm-intel.ko", "kvm_intel.ko");
}

/* Whether xvcpu works: open it and run a guest to its HLT. */
static int xvcpu_works(void)
{
	struct xvt_raw v;
	int ret;

	if (!wait_for_path(XVCPU_DEV, true))
		return -ENOENT;
	ret = xvt_raw_create(&v);
	if (ret < 0)
		return ret;
	ret = xvt_raw_run(&v);
	xvt_raw_destroy(&v);
	return ret;
}

FIXTURE(mod) {
	char path[PATH_MAX];
	bool kvm_was_loaded[NR_KVM_MODS];
	unsigned long long kmsg_seq;	/* newest kernel log record */
};

FIXTURE_SETUP(mod)
{
	const char *path = getenv(MODULE_ENV);
	unsigned int i;

	if (geteuid() != 0)
		SKIP(return, "needs root");
	if (!module_loaded("xvcpu"))
		SKIP(return, "xvcpu is not loaded");
	if (!path || !*path)
		SKIP(return, "$" MODULE_ENV " is not set (the xvcpu.ko to reload)");
	ASSERT_EQ(0, access(path, R_OK)) TH_LOG("%s: %s", path,
						 strerror(errno));
	snprintf(self->path, sizeof(self->path), "%s", path);
	for (i = 0; i < NR_KVM_MODS; i++)
		self->kvm_was_loaded[i] = module_loaded(kvm_mods[i]);
	xvt_kmsg_scan(XVT_KMSG_ALL, &self->kmsg_seq);
}

/* In the test's parent, after the test process (and its fds) are gone. */
FIXTURE_TEARDOWN_PARENT(mod)
{
	unsigned long long last;
	unsigned int i;
	int ret;

	for (i = 0; i < NR_KVM_MODS; i++) {
		if (self->kvm_was_loaded[i] || !module_loaded(kvm_mods[i]))
			continue;
		ret = unload_module_wait(kvm_mods[i]);
		EXPECT_EQ(0, ret) TH_LOG("unloading %s: %s", kvm_mods[i],
					 strerror(-ret));
	}
	if (!module_loaded("xvcpu")) {
		ret = load_module(self->path);
		EXPECT_EQ(0, ret) TH_LOG("reloading %s: %s", self->path,
					 strerror(-ret));
	}
	/* Whatever happened, the kernel did not complain. */
	EXPECT_EQ(0, xvt_kmsg_scan(self->kmsg_seq, &last));
}

TEST_F(mod, unload_refused_while_in_use)
{
	enum xvt_raw_obj keep;
	struct xvt_raw v;
	int o, ret;

	for (keep = 0; keep < XVT_RAW_NR; keep++) {
		TH_LOG("holding only the %s", xvt_raw_obj_names[keep]);
		ASSERT_EQ(0, xvt_raw_create(&v));
		for (o = 0; o < XVT_RAW_NR; o++)
			if (o != (int)keep)
				xvt_raw_release(&v, o);

		ret = unload_module("xvcpu");
		EXPECT_TRUE(ret == -EAGAIN || ret == -EBUSY)
			TH_LOG("delete_module: %s", strerror(-ret));
		ASSERT_TRUE(module_loaded("xvcpu"));

		/* What is held still works. */
		switch (keep) {
		case XVT_RAW_SYS:
			EXPECT_EQ(XVCPU_API_VERSION,
				  ioctl(v.fd[keep], XVCPU_GET_API_VERSION, 0));
			break;
		case XVT_RAW_VM:
			EXPECT_EQ(0, xvt_set_region(v.fd[keep], 1, 0,
						    0x100000, 0x1000));
			break;
		case XVT_RAW_VCPU: {
			struct xvcpu_regs regs;

			EXPECT_EQ(0, ioctl(v.fd[keep], XVCPU_GET_REGS, &regs));
			break;
		}
		case XVT_RAW_RUN:
			EXPECT_EQ(XVCPU_EXIT_UNKNOWN, v.run->exit_reason);
			break;
		case XVT_RAW_MEM:
			EXPECT_EQ(0xf4, ((uint8_t *)v.mem)[0x9000]);
			break;
		default:
			break;
		}
		xvt_raw_destroy(&v);
	}
}

/*
 * XVCPU_LOAD_CYCLES unload/load cycles, each one used (default 100, about
 * 3 s each in Bochs)
 */
TEST_F_TIMEOUT(mod, unload_and_reload, 1800)
{
	const char *env = getenv("XVCPU_LOAD_CYCLES");
	int i, ret, cycles = env ? atoi(env) : 100;

	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, xvcpu_works());
		ret = unload_module_wait("xvcpu");
		ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
		EXPECT_FALSE(module_loaded("xvcpu"));
		EXPECT_TRUE(wait_for_path(XVCPU_DEV, false));

		ret = load_module(self->path);
		ASSERT_EQ(0, ret) TH_LOG("finit_module: %s", strerror(-ret));
		ret = xvcpu_works();
		ASSERT_EQ(0, ret) TH_LOG("after reload %d: %s", i + 1,
					 strerror(-ret));
	}
	TH_LOG("%d unload/load cycles", cycles);
}

/*
 * Loading Debian's kvm.ko and kvm-intel.ko takes 5 to 20 s of guest time in
 * Bochs (more on a CPU with XSAVE on), beyond the harness's default 30 s
 * with the rest of each test: these two get 300 s.
 */
TEST_F_TIMEOUT(mod, kvm_intel_while_loaded, 300)
{
	int kvm, vm, rc, ret;

	if (!kvm_intel_available())
		SKIP(return, "no kvm_intel module for this kernel");
	if (module_loaded("kvm_intel"))
		SKIP(return, "kvm_intel is already loaded");

	rc = run_cmd("modprobe kvm_intel");
	if (rc != 0 || !module_loaded("kvm_intel")) {
		/* Refusing to load is fine (6.12 takes VMX at load time). */
		TH_LOG("kvm_intel did not load (modprobe exit %d)", rc);
	} else {
		/* Loaded (6.1 takes VMX per VM): a VM must not start. */
		kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, kvm) TH_LOG("/dev/kvm: %s", strerror(errno));
		vm = ioctl(kvm, KVM_CREATE_VM, 0);
		EXPECT_GT(0, vm) TH_LOG("KVM_CREATE_VM succeeded next to xvcpu");
		if (vm < 0)
			TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
		else
			close(vm);
		close(kvm);
	}

	/* xvcpu is unharmed. */
	ret = xvcpu_works();
	EXPECT_EQ(0, ret) TH_LOG("xvcpu after kvm_intel: %s", strerror(-ret));
}

TEST_F_TIMEOUT(mod, load_refused_while_kvm_holds_vmx, 300)
{
	int kvm, vm, ret;

	if (!kvm_intel_available())
		SKIP(return, "no kvm_intel module for this kernel");

	ret = unload_module_wait("xvcpu");
	ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
	/* xvcpu gave VMX back: KVM can have it. */
	ASSERT_EQ(0, run_cmd("modprobe kvm_intel"));
	ASSERT_TRUE(module_loaded("kvm_intel"));
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, kvm) TH_LOG("/dev/kvm: %s", strerror(errno));
	/* On 6.1 KVM takes VMX only while a VM exists. */
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	ret = load_module(self->path);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("finit_module: %s", strerror(-ret));
	EXPECT_FALSE(module_loaded("xvcpu"));

	/* KVM gone, xvcpu loads and works again. */
	close(vm);
	close(kvm);
	ret = unload_module_wait("kvm_intel");
	ASSERT_EQ(0, ret) TH_LOG("unloading kvm_intel: %s", strerror(-ret));
	if (!module_loaded("xvcpu")) {
		ret = load_module(self->path);
		ASSERT_EQ(0, ret) TH_LOG("finit_module: %s", strerror(-ret));
	}
	ret = xvcpu_works();
	EXPECT_EQ(0, ret) TH_LOG("xvcpu after KVM: %s", strerror(-ret));
}

TEST_HARNESS_MAIN
