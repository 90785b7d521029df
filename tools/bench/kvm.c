// SPDX-License-Identifier: GPL-2.0
/*
 * The KVM backend: raw ioctls on /dev/kvm, the minimum a VMM needs for a
 * real-mode guest (KVM's reset state with CS moved to 0).  No in-kernel
 * interrupt controller, so HLT comes to userspace as KVM_EXIT_HLT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>

#include "bench.h"

static int kvm_fd = -1;
static size_t run_size;

static int vm_fd = -1, vcpu_fd = -1;
static struct kvm_run *run = MAP_FAILED;
static void *mem = MAP_FAILED;
static size_t mem_size;

static int mem_vm_fd = -1;
static void *map_mem = MAP_FAILED;
static struct kvm_userspace_memory_region map_region;

static int fail(const char *what)
{
	int err = errno ? errno : EIO;

	fprintf(stderr, "xvcpu-bench: kvm: %s: %s\n", what, strerror(err));
	return -err;
}

static int k_open(void)
{
	int size;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		return fail("open /dev/kvm");
	if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		errno = EPROTO;
		return fail("KVM_GET_API_VERSION");
	}
	size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	run_size = size;
	return 0;
}

/* Anonymous host memory for guest RAM, touched only when used. */
static void *host_mem(size_t size)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

static void k_vm_destroy(void)
{
	if (run != MAP_FAILED)
		munmap(run, run_size);
	if (vcpu_fd >= 0)
		close(vcpu_fd);
	if (vm_fd >= 0)
		close(vm_fd);
	if (mem != MAP_FAILED)
		munmap(mem, mem_size);
	run = MAP_FAILED;
	mem = MAP_FAILED;
	vcpu_fd = -1;
	vm_fd = -1;
}

static int k_vm_create(uint64_t size)
{
	/* VMCALL of KVM_HC_MAP_GPA_RANGE comes to userspace */
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_EXIT_HYPERCALL,
		.args[0] = 1ULL << KVM_HC_MAP_GPA_RANGE,
	};
	struct kvm_userspace_memory_region region = { .memory_size = size };
	struct kvm_sregs sregs;
	int r;

	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		return fail("KVM_CREATE_VM");
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap)) {
		r = fail("KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL)");
		goto err;
	}
	mem_size = size;
	mem = host_mem(size);
	if (mem == MAP_FAILED) {
		r = fail("mmap guest memory");
		goto err;
	}
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		r = fail("KVM_SET_USER_MEMORY_REGION");
		goto err;
	}
	memcpy((uint8_t *)mem + GUEST_LOAD, guest_start,
	       guest_end - guest_start);

	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0) {
		r = fail("KVM_CREATE_VCPU");
		goto err;
	}
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu_fd, 0);
	if (run == MAP_FAILED) {
		r = fail("mmap kvm_run");
		goto err;
	}
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs)) {
		r = fail("KVM_GET_SREGS");
		goto err;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs)) {
		r = fail("KVM_SET_SREGS");
		goto err;
	}
	return 0;
err:
	k_vm_destroy();
	return r;
}

static int k_set_entry(uint64_t rip)
{
	struct kvm_regs regs = { .rip = rip, .rflags = 0x2 };

	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs))
		return fail("KVM_SET_REGS");
	return 0;
}

static int k_run(struct bench_exit *exit)
{
	memset(exit, 0, sizeof(*exit));
	if (ioctl(vcpu_fd, KVM_RUN, 0))
		return fail("KVM_RUN");

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit->kind = BENCH_EXIT_IO;
		exit->port = run->io.port;
		if (run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.size <= sizeof(exit->data))
			memcpy(&exit->data, (uint8_t *)run + run->io.data_offset,
			       run->io.size);
		break;
	case KVM_EXIT_HLT:
		exit->kind = BENCH_EXIT_HLT;
		break;
	case KVM_EXIT_MMIO:
		/* KVM completes the access itself on the next KVM_RUN */
		exit->kind = BENCH_EXIT_MMIO;
		exit->addr = run->mmio.phys_addr;
		break;
	case KVM_EXIT_HYPERCALL:
		/* KVM puts ret into RAX on the next KVM_RUN */
		exit->kind = BENCH_EXIT_HYPERCALL;
		exit->nr = run->hypercall.nr;
		run->hypercall.ret = 0;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		exit->kind = BENCH_EXIT_OTHER;
		snprintf(exit->what, sizeof(exit->what),
			 "KVM_EXIT_INTERNAL_ERROR, suberror %u",
			 run->internal.suberror);
		break;
	default:
		exit->kind = BENCH_EXIT_OTHER;
		snprintf(exit->what, sizeof(exit->what), "KVM exit %u",
			 run->exit_reason);
	}
	return 0;
}

static int k_mmio_done(unsigned int len)
{
	(void)len;
	return 0;
}

static int k_mem_prepare(uint64_t size)
{
	mem_vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (mem_vm_fd < 0)
		return fail("KVM_CREATE_VM");
	map_mem = host_mem(size);
	if (map_mem == MAP_FAILED) {
		int r = fail("mmap guest memory");

		close(mem_vm_fd);
		return r;
	}
	map_region = (struct kvm_userspace_memory_region){
		.memory_size = size,
		.userspace_addr = (uintptr_t)map_mem,
	};
	return 0;
}

static int k_mem_map(void)
{
	if (ioctl(mem_vm_fd, KVM_SET_USER_MEMORY_REGION, &map_region))
		return fail("KVM_SET_USER_MEMORY_REGION");
	return 0;
}

static void k_mem_release(void)
{
	close(mem_vm_fd);
	munmap(map_mem, map_region.memory_size);
	mem_vm_fd = -1;
	map_mem = MAP_FAILED;
}

const struct bench_backend bench_kvm = {
	.name = "kvm",
	.open = k_open,
	.vm_create = k_vm_create,
	.vm_destroy = k_vm_destroy,
	.set_entry = k_set_entry,
	.run = k_run,
	.mmio_done = k_mmio_done,
	.mem_prepare = k_mem_prepare,
	.mem_map = k_mem_map,
	.mem_release = k_mem_release,
};
