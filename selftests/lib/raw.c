// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal VM made with raw ioctls, each of its objects releasable on
 * its own (for lifetime and module tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xvtest.h"

#define RAW_TABLES	0x1000ULL
#define RAW_ENTRY	0x9000ULL
#define RAW_STACK	0xf000ULL

const char *const xvt_raw_obj_names[XVT_RAW_NR] = {
	[XVT_RAW_SYS] = "system fd",
	[XVT_RAW_VM] = "VM fd",
	[XVT_RAW_VCPU] = "vCPU fd",
	[XVT_RAW_RUN] = "run page mapping",
	[XVT_RAW_MEM] = "guest memory mapping",
};

void xvt_raw_release(struct xvt_raw *v, enum xvt_raw_obj o)
{
	switch (o) {
	case XVT_RAW_SYS:
	case XVT_RAW_VM:
	case XVT_RAW_VCPU:
		if (v->fd[o] >= 0)
			close(v->fd[o]);
		v->fd[o] = -1;
		break;
	case XVT_RAW_RUN:
		if (v->run)
			munmap(v->run, v->run_size);
		v->run = NULL;
		break;
	case XVT_RAW_MEM:
		if (v->mem)
			munmap(v->mem, XVT_RAW_MEM_SIZE);
		v->mem = NULL;
		break;
	default:
		break;
	}
}

void xvt_raw_destroy(struct xvt_raw *v)
{
	int o;

	for (o = XVT_RAW_NR - 1; o >= 0; o--)
		xvt_raw_release(v, o);
}

int xvt_raw_create(struct xvt_raw *v)
{
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;
	int size, ret;

	memset(v, 0, sizeof(*v));
	v->fd[XVT_RAW_SYS] = v->fd[XVT_RAW_VM] = v->fd[XVT_RAW_VCPU] = -1;

	v->fd[XVT_RAW_SYS] = open(XVCPU_DEV, O_RDWR | O_CLOEXEC);
	if (v->fd[XVT_RAW_SYS] < 0)
		goto err;
	v->fd[XVT_RAW_VM] = ioctl(v->fd[XVT_RAW_SYS], XVCPU_CREATE_VM, 0);
	if (v->fd[XVT_RAW_VM] < 0)
		goto err;
	ret = xvt_set_region(v->fd[XVT_RAW_VM], 0, 0, 0, XVT_RAW_MEM_SIZE);
	if (ret < 0) {
		errno = -ret;
		goto err;
	}
	v->mem = mmap(NULL, XVT_RAW_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, v->fd[XVT_RAW_VM],
		      (off_t)XVCPU_MMAP_SLOT_OFFSET(0));
	if (v->mem == MAP_FAILED) {
		v->mem = NULL;
		goto err;
	}
	v->fd[XVT_RAW_VCPU] = ioctl(v->fd[XVT_RAW_VM], XVCPU_CREATE_VCPU, 0);
	if (v->fd[XVT_RAW_VCPU] < 0)
		goto err;
	size = ioctl(v->fd[XVT_RAW_SYS], XVCPU_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0)
		goto err;
	v->run_size = size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd[XVT_RAW_VCPU], 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		goto err;
	}

	((uint8_t *)v->mem)[RAW_ENTRY] = 0xf4;		/* hlt */
	ret = xvcpu_mode_build(XVCPU_MODE_LONG, RAW_ENTRY, RAW_STACK,
			       RAW_TABLES, (char *)v->mem + RAW_TABLES,
			       &regs, &sregs);
	if (ret < 0) {
		errno = -ret;
		goto err;
	}
	if (ioctl(v->fd[XVT_RAW_VCPU], XVCPU_SET_SREGS, &sregs) < 0 ||
	    ioctl(v->fd[XVT_RAW_VCPU], XVCPU_SET_REGS, &regs) < 0)
		goto err;
	return 0;

err:
	ret = -errno;
	xvt_raw_destroy(v);
	return ret;
}

int xvt_raw_run(struct xvt_raw *v)
{
	if (ioctl(v->fd[XVT_RAW_VCPU], XVCPU_RUN, 0) < 0)
		return -errno;
	return v->run->exit_reason == XVCPU_EXIT_HLT ? 0 : -EPROTO;
}
