// SPDX-License-Identifier: GPL-2.0
/*
 * The xvcpu backend, through libxvcpu.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bench.h"
#include "include/xvcpu/vmx.h"
#include "tools/lib/libxvcpu.h"

static int sys_fd = -1;
static struct xvcpu_vm *vm;
static struct xvcpu_vcpu *vcpu;
static struct xvcpu_vm *mem_vm;
static struct xvcpu_memory_region mem_region;

/* Report the failed step with errno; returns -errno. */
static int fail(const char *what)
{
	int err = errno ? errno : EIO;

	fprintf(stderr, "xvcpu-bench: xvcpu: %s: %s\n", what, strerror(err));
	return -err;
}

static int x_open(void)
{
	sys_fd = xvcpu_open();
	if (sys_fd < 0)
		return fail("open /dev/xvcpu");
	return 0;
}

static void x_vm_destroy(void)
{
	if (vcpu)
		xvcpu_vcpu_destroy(vcpu);
	if (vm)
		xvcpu_vm_destroy(vm);
	vcpu = NULL;
	vm = NULL;
}

static int x_vm_create(uint64_t mem_size)
{
	uint8_t *mem;
	int r;

	vm = xvcpu_vm_create(sys_fd);
	if (!vm)
		return fail("create VM");
	mem = xvcpu_vm_add_memory(vm, 0, 0, mem_size, 0);
	if (!mem)
		goto err;
	memcpy(mem + GUEST_LOAD, guest_start, guest_end - guest_start);
	vcpu = xvcpu_vcpu_create(vm, 0);
	if (!vcpu)
		goto err;
	/* Real mode with CS = 0 since GUEST_LOAD is below 64 KiB */
	if (xvcpu_vcpu_setup_mode(vcpu, XVCPU_MODE_REAL, GUEST_LOAD, 0, 0))
		goto err;
	return 0;
err:
	r = fail("set up VM");
	x_vm_destroy();
	return r;
}

static int x_set_entry(uint64_t rip)
{
	struct xvcpu_regs regs = { .rip = rip, .rflags = 0x2 };

	if (xvcpu_set_regs(vcpu, &regs))
		return fail("SET_REGS");
	return 0;
}

static const char *vmx_exit_name(unsigned int basic_reason)
{
	switch (basic_reason) {
	case VMX_EXIT_CPUID:
		return "CPUID";
	case VMX_EXIT_VMCALL:
		return "VMCALL";
	default:
		return "VM";
	}
}

static int x_run(struct bench_exit *exit)
{
	struct xvcpu_run *run = vcpu->run;
	unsigned int basic;

	memset(exit, 0, sizeof(*exit));
	if (xvcpu_vcpu_run(vcpu))
		return fail("RUN");

	switch (run->exit_reason) {
	case XVCPU_EXIT_IO:
		exit->kind = BENCH_EXIT_IO;
		exit->port = run->io.port;
		exit->data = (uint32_t)run->io.data;
		break;
	case XVCPU_EXIT_HLT:
		exit->kind = BENCH_EXIT_HLT;
		break;
	case XVCPU_EXIT_MMIO:
		exit->kind = BENCH_EXIT_MMIO;
		exit->addr = run->mmio.phys_addr;
		break;
	case XVCPU_EXIT_HYPERCALL:
		/* xvcpu puts ret into RAX on the next XVCPU_RUN */
		exit->kind = BENCH_EXIT_HYPERCALL;
		exit->nr = run->hypercall.nr;
		run->hypercall.ret = 0;
		break;
	default:
		if (run->exit_reason == XVCPU_EXIT_INTERNAL_ERROR &&
		    run->internal.suberror == XVCPU_INTERNAL_UNHANDLED_EXIT) {
			basic = run->internal.data[0] &
				VMX_EXIT_REASON_BASIC_MASK;
			exit->kind = BENCH_EXIT_UNHANDLED;
			snprintf(exit->what, sizeof(exit->what),
				 "%s exit (reason %u) not handled: it reaches userspace as XVCPU_EXIT_INTERNAL_ERROR",
				 vmx_exit_name(basic), basic);
			break;
		}
		exit->kind = BENCH_EXIT_OTHER;
		snprintf(exit->what, sizeof(exit->what), "exit %s (%u)",
			 xvcpu_exit_name(run->exit_reason), run->exit_reason);
	}
	return 0;
}

/* xvcpu reports MMIO without decoding: step over the known instruction. */
static int x_mmio_done(unsigned int len)
{
	struct xvcpu_regs regs;

	if (xvcpu_get_regs(vcpu, &regs))
		return fail("GET_REGS");
	regs.rip += len;
	if (xvcpu_set_regs(vcpu, &regs))
		return fail("SET_REGS");
	return 0;
}

static int x_mem_prepare(uint64_t size)
{
	mem_vm = xvcpu_vm_create(sys_fd);
	if (!mem_vm)
		return fail("create VM");
	mem_region = (struct xvcpu_memory_region){ .memory_size = size };
	return 0;
}

static int x_mem_map(void)
{
	if (ioctl(mem_vm->fd, XVCPU_SET_MEMORY_REGION, &mem_region))
		return fail("SET_MEMORY_REGION");
	return 0;
}

/* Closing the VM frees its memory. */
static void x_mem_release(void)
{
	xvcpu_vm_destroy(mem_vm);
	mem_vm = NULL;
}

const struct bench_backend bench_xvcpu = {
	.name = "xvcpu",
	.open = x_open,
	.vm_create = x_vm_create,
	.vm_destroy = x_vm_destroy,
	.set_entry = x_set_entry,
	.run = x_run,
	.mmio_done = x_mmio_done,
	.mem_prepare = x_mem_prepare,
	.mem_map = x_mem_map,
	.mem_release = x_mem_release,
};
