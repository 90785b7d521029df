// SPDX-License-Identifier: GPL-2.0
/*
 * Test VMs whose guest code is the test binary itself.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "xvtest.h"

/* Bounds of the loaded image, from the default linker script. */
extern char __executable_start[], _end[];

#define ALIGN_DOWN(x, a)	((x) & ~((uint64_t)(a) - 1))
#define ALIGN_UP(x, a)		ALIGN_DOWN((x) + (a) - 1, (a))

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define SIZE_2M		0x200000ULL

/* Guest time runs slow in the emulator: a few seconds are plenty. */
#define SPIN_WAIT_NS	(5ULL * 1000 * 1000 * 1000)

/* Where a guest function returns to: report the end of the guest's work. */
static void __guest __attribute__((noreturn, used)) guest_return(void)
{
	GUEST_DONE();
	for (;;)
		guest_hlt();
}

uint64_t xvt_spin_count, xvt_spin_stop;

void __guest xvt_guest_spin(uint64_t irqs_on)
{
	if (irqs_on)
		asm volatile("sti");
	while (!READ_ONCE(xvt_spin_stop))
		WRITE_ONCE(xvt_spin_count, READ_ONCE(xvt_spin_count) + 1);
	asm volatile("cli");
}

bool xvt_wait_for_spin(struct xvt_vm *t)
{
	const struct timespec pause = { .tv_nsec = 1000 * 1000 };
	uint64_t deadline = xvt_now_ns() + SPIN_WAIT_NS;

	while (!READ_ONCE(GUEST_VAR(t, xvt_spin_count))) {
		if (xvt_now_ns() > deadline)
			return false;
		nanosleep(&pause, NULL);
	}
	return true;
}

bool xvt_have_dev(void)
{
	struct stat st;

	return stat(XVCPU_DEV, &st) == 0;
}

const char *xvt_no_dev_reason(void)
{
	return "no " XVCPU_DEV " (xvcpu module not loaded)";
}

static uint64_t stack_top(unsigned int id)
{
	return XVT_STACK_TOP - (uint64_t)id * XVT_STACK_SIZE;
}

struct copy_ctx {
	struct xvt_vm *t;
	int err;
};

/*
 * Copy each loaded segment, as it is in memory now (relocated), to the
 * same guest-physical addresses.
 */
static int copy_segment(struct dl_phdr_info *info, size_t size, void *data)
{
	struct copy_ctx *ctx = data;
	uint64_t lo = (uintptr_t)__executable_start;
	uint64_t hi = ALIGN_UP((uintptr_t)_end, XVT_PAGE_SIZE);
	int i;

	(void)size;
	/* The first object is the executable itself; stop after it. */
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t start, end;

		if (ph->p_type != PT_LOAD)
			continue;
		start = ALIGN_DOWN(info->dlpi_addr + ph->p_vaddr,
				   XVT_PAGE_SIZE);
		end = ALIGN_UP(info->dlpi_addr + ph->p_vaddr + ph->p_memsz,
			       XVT_PAGE_SIZE);
		if (start < lo)
			start = lo;
		if (end > hi)
			end = hi;
		if (start >= end)
			continue;
		if (end > ctx->t->mem_size) {
			ctx->err = E2BIG;
			return 1;
		}
		memcpy((char *)ctx->t->mem + start, (void *)(uintptr_t)start,
		       end - start);
	}
	return 1;
}

static int copy_image(struct xvt_vm *t)
{
	struct copy_ctx ctx = { .t = t };

	dl_iterate_phdr(copy_segment, &ctx);
	return ctx.err ? -ctx.err : 0;
}

int xvt_vcpu_reset_long(struct xvt_vm *t, struct xvcpu_vcpu *vcpu)
{
	(void)t;
	return xvcpu_vcpu_setup_mode(vcpu, XVCPU_MODE_LONG,
				     (uintptr_t)guest_return,
				     stack_top(vcpu->id), XVT_TABLES_GPA);
}

struct xvcpu_vcpu *xvt_vcpu_add(struct xvt_vm *t, unsigned int id)
{
	struct xvcpu_vcpu *vcpu;
	int ret;

	if (id >= XVT_MAX_VCPUS || t->vcpus[id]) {
		errno = EINVAL;
		return NULL;
	}
	vcpu = xvcpu_vcpu_create(t->vm, id);
	if (!vcpu) {
		fprintf(stderr, "# xvcpu_vcpu_create(%u): %m\n", id);
		return NULL;
	}
	ret = xvt_vcpu_reset_long(t, vcpu);
	if (ret < 0) {
		fprintf(stderr, "# xvcpu_vcpu_setup_mode(LONG): %s\n",
			strerror(-ret));
		xvcpu_vcpu_destroy(vcpu);
		errno = -ret;
		return NULL;
	}
	t->vcpus[id] = vcpu;
	return vcpu;
}

struct xvt_vm *xvt_vm_create(unsigned int nr_vcpus)
{
	uint64_t image_lo = (uintptr_t)__executable_start;
	uint64_t image_hi = (uintptr_t)_end;
	struct xvt_vm *t;
	unsigned int i;
	int ret, saved;

	if (nr_vcpus > XVT_MAX_VCPUS || image_lo < XVT_IMAGE_MIN_GPA ||
	    image_hi >= XVT_FREE_GPA) {
		fprintf(stderr, "# test image at [%#llx, %#llx) or %u vCPUs do not fit the test VM layout\n",
			(unsigned long long)image_lo,
			(unsigned long long)image_hi, nr_vcpus);
		errno = EINVAL;
		return NULL;
	}

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->sys_fd = xvcpu_open();
	if (t->sys_fd < 0) {
		fprintf(stderr, "# xvcpu_open: %m\n");
		goto err_free;
	}
	t->vm = xvcpu_vm_create(t->sys_fd);
	if (!t->vm) {
		fprintf(stderr, "# xvcpu_vm_create: %m\n");
		goto err_close;
	}

	t->mem_size = ALIGN_UP(image_hi, 0x10000);
	t->mem = xvcpu_vm_add_memory(t->vm, 0, 0, t->mem_size, 0);
	if (!t->mem) {
		fprintf(stderr, "# xvcpu_vm_add_memory(0, %#llx bytes): %m\n",
			(unsigned long long)t->mem_size);
		goto err_vm;
	}
	ret = copy_image(t);
	if (ret < 0) {
		errno = -ret;
		fprintf(stderr, "# copying the test image: %m\n");
		goto err_vm;
	}

	for (i = 0; i < nr_vcpus; i++)
		if (!xvt_vcpu_add(t, i))
			goto err_vm;
	return t;

err_vm:
	saved = errno;
	xvt_vm_destroy(t);
	errno = saved;
	return NULL;
err_close:
	saved = errno;
	close(t->sys_fd);
	errno = saved;
err_free:
	saved = errno;
	free(t);
	errno = saved;
	return NULL;
}

void xvt_vm_destroy(struct xvt_vm *t)
{
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < XVT_MAX_VCPUS; i++)
		xvcpu_vcpu_destroy(t->vcpus[i]);
	xvcpu_vm_destroy(t->vm);
	if (t->sys_fd >= 0)
		close(t->sys_fd);
	free(t);
}

int xvt_vcpu_enter(struct xvcpu_vcpu *vcpu, const void *fn, uint64_t a0,
		   uint64_t a1)
{
	uint64_t ret_addr = (uintptr_t)guest_return;
	struct xvcpu_regs regs;
	int ret;

	memset(&regs, 0, sizeof(regs));
	regs.rip = (uintptr_t)fn;
	/* As after a CALL: the return address on top, RSP + 8 aligned. */
	regs.rsp = stack_top(vcpu->id) - 8;
	regs.rdi = a0;
	regs.rsi = a1;
	regs.rflags = 0x2;
	ret = xvcpu_vm_write(vcpu->vm, regs.rsp, &ret_addr, sizeof(ret_addr));
	if (ret < 0)
		return ret;
	return xvcpu_set_regs(vcpu, &regs);
}

int xvt_vcpu_set_rip(struct xvcpu_vcpu *vcpu, uint64_t rip)
{
	struct xvcpu_regs regs;
	int ret;

	ret = xvcpu_get_regs(vcpu, &regs);
	if (ret < 0)
		return ret;
	regs.rip = rip;
	return xvcpu_set_regs(vcpu, &regs);
}

int xvt_run(struct xvcpu_vcpu *vcpu, struct ucall *uc)
{
	struct ucall local;
	char where[512];
	int ret, cmd;

	if (!uc)
		uc = &local;
	ret = xvcpu_vcpu_run(vcpu);
	if (ret < 0) {
		memset(uc, 0, sizeof(*uc));
		return ret;
	}
	cmd = ucall_get(vcpu, uc);
	if (cmd == UCALL_ABORT)
		fprintf(stderr, "# guest assertion failed: %s\n",
			ucall_where(vcpu, uc, where, sizeof(where)));
	else if (cmd == UCALL_ABORT_EQ)
		fprintf(stderr, "# guest assertion failed: %s (%#llx != %#llx)\n",
			ucall_where(vcpu, uc, where, sizeof(where)),
			(unsigned long long)uc->args[0],
			(unsigned long long)uc->args[1]);
	return cmd;
}

static const char *mmio_access_str(uint32_t access)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%s%s%s",
		 access & XVCPU_MMIO_READ ? "R" : "",
		 access & XVCPU_MMIO_WRITE ? "W" : "",
		 access & XVCPU_MMIO_FETCH ? "X" : "");
	return buf;
}

const char *xvt_exit_str(struct xvcpu_vcpu *vcpu, char *buf, size_t len)
{
	struct xvcpu_run *run = vcpu->run;
	struct xvcpu_regs regs;
	char rip[32] = "";
	int n;

	if (xvcpu_get_regs(vcpu, &regs) == 0)
		snprintf(rip, sizeof(rip), " rip %#llx",
			 (unsigned long long)regs.rip);

	n = snprintf(buf, len, "exit %u (%s)%s", run->exit_reason,
		     xvcpu_exit_name(run->exit_reason), rip);
	if (n < 0 || (size_t)n >= len)
		return buf;

	switch (run->exit_reason) {
	case XVCPU_EXIT_IO:
		snprintf(buf + n, len - n,
			 ": %s port %#x size %u count %u data %#llx",
			 run->io.direction == XVCPU_IO_OUT ? "OUT" : "IN",
			 run->io.port, run->io.size, run->io.count,
			 (unsigned long long)run->io.data);
		break;
	case XVCPU_EXIT_MMIO:
		snprintf(buf + n, len - n,
			 ": gpa %#llx access %s linear %#llx%s",
			 (unsigned long long)run->mmio.phys_addr,
			 mmio_access_str(run->mmio.access),
			 (unsigned long long)run->mmio.linear_addr,
			 run->mmio.linear_valid ? "" : " (not valid)");
		break;
	case XVCPU_EXIT_FAIL_ENTRY:
		snprintf(buf + n, len - n, ": reason %#llx qualification %#llx",
			 (unsigned long long)
			 run->fail_entry.hardware_entry_failure_reason,
			 (unsigned long long)run->fail_entry.exit_qualification);
		break;
	case XVCPU_EXIT_INTERNAL_ERROR:
		snprintf(buf + n, len - n,
			 ": suberror %u ndata %u data %#llx %#llx %#llx %#llx %#llx %#llx %#llx %#llx",
			 run->internal.suberror, run->internal.ndata,
			 (unsigned long long)run->internal.data[0],
			 (unsigned long long)run->internal.data[1],
			 (unsigned long long)run->internal.data[2],
			 (unsigned long long)run->internal.data[3],
			 (unsigned long long)run->internal.data[4],
			 (unsigned long long)run->internal.data[5],
			 (unsigned long long)run->internal.data[6],
			 (unsigned long long)run->internal.data[7]);
		break;
	default:
		break;
	}
	return buf;
}

void *xvt_hva(struct xvt_vm *t, uint64_t gpa)
{
	return xvcpu_gpa_to_hva(t->vm, gpa);
}

void *xvt_var_in_guest(struct xvt_vm *t, const void *host_addr, size_t size)
{
	uint64_t gpa = (uintptr_t)host_addr;

	if (gpa < (uintptr_t)__executable_start ||
	    gpa + size > t->mem_size) {
		fprintf(stderr, "# %p is not part of the guest image\n",
			host_addr);
		abort();
	}
	return (char *)t->mem + gpa;
}

int xvt_map_2m(struct xvt_vm *t, uint64_t linear, uint64_t phys)
{
	uint64_t pde = phys | PTE_P | PTE_RW | PTE_PS;
	uint64_t gpa;

	if ((linear | phys) & (SIZE_2M - 1) || linear >= (4ULL << 30))
		return -EINVAL;
	gpa = XVT_TABLES_GPA + XVCPU_SETUP_PD_OFFSET + 8 * (linear / SIZE_2M);
	return xvcpu_vm_write(t->vm, gpa, &pde, sizeof(pde));
}

int xvt_cap(unsigned long cap)
{
	int fd, ret;

	fd = xvcpu_open();
	if (fd < 0)
		return fd;
	ret = xvcpu_check_cap(fd, cap);
	close(fd);
	return ret;
}

int xvt_set_region(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		   uint64_t size)
{
	struct xvcpu_memory_region r;

	memset(&r, 0, sizeof(r));
	r.slot = slot;
	r.flags = flags;
	r.guest_phys_addr = gpa;
	r.memory_size = size;
	return ioctl(vm_fd, XVCPU_SET_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

uint64_t xvt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

unsigned int xvt_phys_bits(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_max(0x80000000, NULL) < 0x80000008)
		return 36;
	__cpuid(0x80000008, a, b, c, d);
	return a & 0xff;
}
