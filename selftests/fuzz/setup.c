// SPDX-License-Identifier: GPL-2.0
/*
 * Setup and teardown: what the module reports (capabilities, limits, the
 * supported CPUID table, the CR4 bits SET_SREGS takes), the fuzzer's
 * memory, timers and runner threads; at the end, every object released
 * and nothing of xvcpu left open or mapped in this process.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>

#include "fuzz.h"
#include "../../kmod/cpuid.h"

/*
 * The CR4 bits SET_SREGS takes on a vCPU whose CPUID table has every
 * feature that gates one (cpuid_cr4_allowed()): those VMX allows in VMX
 * operation that xvcpu ever gives a guest.  Found by trying each bit on
 * a scratch vCPU; sregs_state_verdict() narrows them to a vCPU's table.
 */
static int probe_cr4(int sys)
{
	static struct xvcpu_cpuid full;
	struct xvcpu_cpuid_entry *e;
	struct xvcpu_sregs s;
	int vm, vcpu, b;

	vm = ioctl(sys, XVCPU_CREATE_VM, 0);
	count_call();
	if (vm < 0)
		return -errno;
	vcpu = ioctl(vm, XVCPU_CREATE_VCPU, 0);
	count_call();
	if (vcpu < 0) {
		close(vm);
		return -errno;
	}
	/* PCID in leaf 1; FSGSBASE, SMEP, SMAP, UMIP, LA57 in leaf 7 */
	full = fz.supported;
	e = (struct xvcpu_cpuid_entry *)cpuid_find(full.entries, full.nent,
						   1, 0);
	if (e)
		e->ecx |= 1U << 17;
	e = (struct xvcpu_cpuid_entry *)cpuid_find(full.entries, full.nent,
						   7, 0);
	if (e) {
		e->ebx |= 1U << 0 | 1U << 7 | 1U << 20;
		e->ecx |= 1U << 2 | 1U << 16;
	}
	if (ioctl(vcpu, XVCPU_SET_CPUID, &full))
		fprintf(stderr, "# probe_cr4: SET_CPUID: %s\n", strerror(errno));
	count_call();
	fz.cr4_ok = fz.sregs_long.cr4;
	for (b = 0; b < 64; b++) {
		s = fz.sregs_long;
		s.cr4 |= 1ULL << b;
		if (!ioctl(vcpu, XVCPU_SET_SREGS, &s))
			fz.cr4_ok |= 1ULL << b;
		count_call();
	}
	close(vcpu);
	close(vm);
	count_call();
	count_call();
	return 0;
}

/*
 * The XCR0 bits guests may have (0: no XSAVE for guests), as far as the
 * OSXSAVE rule needs them: whether they are 0.  CAP_XSAVE says it; the
 * supported table's leaf 0xD says which.
 */
static uint64_t xcr0_supported(void)
{
	const struct xvcpu_cpuid_entry *d;

	if (!cap_value(XVCPU_CAP_XSAVE))
		return 0;
	d = cpuid_find(fz.supported.entries, fz.supported.nent, 0xd, 0);
	return 1 | (d ? d->eax | (uint64_t)d->edx << 32 : 0);
}

int fz_init(int threads)
{
	struct sigaction sa;
	size_t reserved;
	int i, sys, ret;

	memset(&fz, 0, sizeof(fz));
	fz.rng.s = opt.seed;
	for (i = 0; i < NR_SYS; i++)
		fz.sys[i] = -1;

	/* The timers' signal: RUN returns EINTR */
	if (xvt_catch_signal(SIGUSR1))
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_NODEFER | SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	if (pipe2(fz.pipe, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	ret = arena_init();
	if (ret)
		return ret;
	reserved = (NR_CELLS * MAP_PAGES + MAX_RUNNERS) * PG;
	fz.cells = mmap(NULL, reserved, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fz.cells == MAP_FAILED)
		return -errno;
	fz.runner_pages = fz.cells + NR_CELLS * MAP_PAGES * PG;
	ret = thread_timer(&fz.timer);
	if (ret)
		return ret;
	ret = templates_init();
	if (ret)
		return ret;

	sys = open(XVCPU_DEV, O_RDWR | O_CLOEXEC);
	count_call();
	if (sys < 0)
		return -errno;
	for (i = 0; i < (int)ARRAY_SIZE(fz.cap); i++) {
		fz.cap[i] = ioctl(sys, XVCPU_CHECK_CAP, i);
		count_call();
	}
	fz.mmap_size = ioctl(sys, XVCPU_GET_VCPU_MMAP_SIZE, 0);
	count_call();
	ret = ioctl(sys, XVCPU_GET_SUPPORTED_CPUID, &fz.supported);
	count_call();
	if (ret || fz.supported.nent > XVCPU_CPUID_MAX_ENTRIES ||
	    fz.supported.pad) {
		fprintf(stderr, "# XVCPU_GET_SUPPORTED_CPUID: %s, %u entries\n",
			ret ? strerror(errno) : "ok", fz.supported.nent);
		close(sys);
		return ret ? -errno : -EPROTO;
	}
	fz.nr_slots = fz.cap[XVCPU_CAP_NR_MEMSLOTS];
	fz.max_vcpus = fz.cap[XVCPU_CAP_MAX_VCPUS];
	fz.mem_limit = (uint64_t)fz.cap[XVCPU_CAP_MAX_MEMORY_MB] << 20;
	fz.xcr0_supported = xcr0_supported();
	ret = probe_cr4(sys);
	close(sys);
	count_call();
	if (ret)
		return ret;
	if (!fz.nr_slots || fz.nr_slots > MAX_SLOTS ||
	    fz.max_vcpus <= VCPU_IDS_USED || fz.max_vcpus > 32 ||
	    fz.mmap_size != (long)PG || fz.mem_limit <= VM_KEEP_MAX) {
		fprintf(stderr, "# module limits the fuzzer cannot model: %u slots, %u vCPUs, run page %ld, %llu MiB\n",
			fz.nr_slots, fz.max_vcpus, fz.mmap_size,
			(unsigned long long)(fz.mem_limit >> 20));
		return -ERANGE;
	}
	return runners_start(threads);
}

/* Close and unmap every xvcpu object the fuzzer holds. */
void fz_release(void)
{
	int i;

	runners_stop();
	for (i = 0; i < NR_MAPS; i++) {
		struct fz_map *m = &fz.maps[i];
		unsigned int j;

		for (j = 0; m->used && j < m->npages; j++)
			if (m->mask & (1ULL << j)) {
				munmap(m->addr + j * PG, PG);
				count_call();
			}
		m->used = false;
	}
	for (i = 0; i < NR_VCPUS; i++)
		if (fz.vcpus[i].used && fz.vcpus[i].fd >= 0) {
			do_close(fz.vcpus[i].fd);
			fz.vcpus[i].fd = -1;
		}
	for (i = 0; i < NR_VMS; i++)
		if (fz.vms[i].used && fz.vms[i].fd >= 0) {
			do_close(fz.vms[i].fd);
			fz.vms[i].fd = -1;
		}
	for (i = 0; i < NR_SYS; i++)
		if (fz.sys[i] >= 0) {
			do_close(fz.sys[i]);
			fz.sys[i] = -1;
		}
	gc();
	for (i = 0; i < NR_VMS; i++)
		if (fz.vms[i].used)
			fail("VM %d still in the model after release", i);
}

void fz_fini(void)
{
	timer_delete(fz.timer);
	munmap(fz.cells, (NR_CELLS * MAP_PAGES + MAX_RUNNERS) * PG);
	arena_fini();
	close(fz.pipe[0]);
	close(fz.pipe[1]);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
}

/* Open fds; those naming xvcpu are printed and counted in *@xvcpu. */
int count_fds(int *xvcpu)
{
	char path[300], target[256];
	struct dirent *d;
	int n = 0;
	ssize_t len;
	DIR *dir;

	*xvcpu = 0;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.' || atoi(d->d_name) == dirfd(dir))
			continue;
		n++;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strstr(target, "anon_inode:xvcpu") ||
		    strstr(target, "/dev/xvcpu")) {
			fprintf(stderr, "# left open: fd %s -> %s\n",
				d->d_name, target);
			(*xvcpu)++;
		}
	}
	closedir(dir);
	return n;
}

/* Mappings of xvcpu files left in this process. */
int count_xvcpu_maps(void)
{
	char line[512];
	int n = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "anon_inode:xvcpu") ||
		    strstr(line, "/dev/xvcpu")) {
			fprintf(stderr, "# left mapped: %s", line);
			n++;
		}
	}
	fclose(f);
	return n;
}
