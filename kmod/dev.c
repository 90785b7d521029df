// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl front end: the system fd (/dev/xvcpu), VM fds and vCPU fds.
 * Every argument is checked and copied here; nothing below this file
 * reads user memory.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "xvcpu.h"

/* ---- vCPU fd ---- */

static int vcpu_release(struct inode *inode, struct file *file)
{
	struct xvcpu_vcpu *vcpu = file->private_data;
	struct xvcpu_vm *vm = vcpu->vm;

	mutex_lock(&vm->lock);
	vm->vcpus[vcpu->id] = NULL;
	mutex_unlock(&vm->lock);
	xvcpu_vcpu_destroy(vcpu);
	xvcpu_vm_put(vm);
	return 0;
}

static long vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct xvcpu_vcpu *vcpu = file->private_data;
	void __user *argp = (void __user *)arg;
	union {
		struct xvcpu_regs regs;
		struct xvcpu_sregs sregs;
		struct xvcpu_exit_info info;
	} u;
	long r;

	/* One ioctl at a time on a vCPU: a second thread is told so. */
	if (!mutex_trylock(&vcpu->ioctl_lock))
		return xvcpu_refuse(-EBUSY, "vCPU %u is in use by another thread",
				    vcpu->id);

	switch (cmd) {
	case XVCPU_RUN:
		r = arg ? xvcpu_refuse(-EINVAL, "XVCPU_RUN takes no argument") :
			  xvcpu_vcpu_run(vcpu);
		break;
	case XVCPU_GET_REGS:
		xvcpu_vcpu_get_regs(vcpu, &u.regs);
		r = copy_to_user(argp, &u.regs, sizeof(u.regs)) ? -EFAULT : 0;
		break;
	case XVCPU_SET_REGS:
		r = -EFAULT;
		if (!copy_from_user(&u.regs, argp, sizeof(u.regs)))
			r = xvcpu_vcpu_set_regs(vcpu, &u.regs);
		break;
	case XVCPU_GET_SREGS:
		xvcpu_vcpu_get_sregs(vcpu, &u.sregs);
		r = copy_to_user(argp, &u.sregs, sizeof(u.sregs)) ? -EFAULT : 0;
		break;
	case XVCPU_SET_SREGS:
		r = -EFAULT;
		if (!copy_from_user(&u.sregs, argp, sizeof(u.sregs)))
			r = xvcpu_vcpu_set_sregs(vcpu, &u.sregs);
		break;
	case XVCPU_GET_EXIT_INFO:
		xvcpu_vcpu_get_exit_info(vcpu, &u.info);
		r = copy_to_user(argp, &u.info, sizeof(u.info)) ? -EFAULT : 0;
		break;
	default:
		r = xvcpu_refuse(-ENOTTY, "unknown vCPU ioctl %#x", cmd);
	}
	mutex_unlock(&vcpu->ioctl_lock);
	return r;
}

static vm_fault_t vcpu_run_fault(struct vm_fault *vmf)
{
	struct xvcpu_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff != 0)
		return VM_FAULT_SIGBUS;
	get_page(vcpu->run_page);
	vmf->page = vcpu->run_page;
	return 0;
}

static const struct vm_operations_struct vcpu_run_ops = {
	.fault = vcpu_run_fault,
};

static int vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff != 0 || vma->vm_end - vma->vm_start > PAGE_SIZE ||
	    !(vma->vm_flags & VM_SHARED))
		return xvcpu_refuse(-EINVAL, "the run page is one MAP_SHARED page at offset 0");
	xvcpu_vma_set_flags(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &vcpu_run_ops;
	return 0;
}

static const struct file_operations vcpu_fops = {
	.owner = THIS_MODULE,
	.release = vcpu_release,
	.unlocked_ioctl = vcpu_ioctl,
	.mmap = vcpu_mmap,
	.llseek = noop_llseek,
};

/* ---- VM fd ---- */

static int vm_create_vcpu(struct xvcpu_vm *vm, unsigned long id)
{
	struct xvcpu_vcpu *vcpu;
	int r, fd;

	if (id >= XVCPU_MAX_VCPUS)
		return xvcpu_refuse(-EINVAL, "vCPU id %lu out of range (0-%u)",
				    id, XVCPU_MAX_VCPUS - 1);
	mutex_lock(&vm->lock);
	if (vm->vcpus[id]) {
		r = xvcpu_refuse(-EEXIST, "vCPU %lu exists already", id);
		goto out;
	}
	r = xvcpu_vcpu_create(vm, id, &vcpu);
	if (r)
		goto out;
	refcount_inc(&vm->refs);
	fd = anon_inode_getfd("xvcpu-vcpu", &vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		refcount_dec(&vm->refs);
		xvcpu_vcpu_destroy(vcpu);
		r = fd;
		goto out;
	}
	vm->vcpus[id] = vcpu;
	r = fd;
out:
	mutex_unlock(&vm->lock);
	return r;
}

static int vm_set_msr_policy(struct xvcpu_vm *vm, void __user *argp)
{
	struct xvcpu_msr_policy p;

	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	if (p.pad || p.reserved[0] || p.reserved[1] || p.reserved[2])
		return xvcpu_refuse(-EINVAL, "xvcpu_msr_policy: reserved fields must be 0");
	if (p.flags & ~XVCPU_MSR_EXIT_UNKNOWN)
		return xvcpu_refuse(-EINVAL, "unknown MSR policy flags %#x", p.flags);
	WRITE_ONCE(vm->msr_policy, p.flags);
	return 0;
}

static long vm_fd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct xvcpu_vm *vm = file->private_data;
	void __user *argp = (void __user *)arg;
	struct xvcpu_memory_region mr;
	int r;

	switch (cmd) {
	case XVCPU_SET_MEMORY_REGION:
		if (copy_from_user(&mr, argp, sizeof(mr)))
			return -EFAULT;
		if (mr.reserved[0] || mr.reserved[1])
			return xvcpu_refuse(-EINVAL, "xvcpu_memory_region.reserved must be 0");
		r = xvcpu_vm_set_memory_region(vm, &mr);
		if (r)
			return r;
		if (copy_to_user(argp, &mr, sizeof(mr))) {
			/* A caller told EFAULT gets no new region */
			struct xvcpu_memory_region del = { .slot = mr.slot };

			if (mr.memory_size)
				xvcpu_vm_set_memory_region(vm, &del);
			return -EFAULT;
		}
		return 0;
	case XVCPU_CREATE_VCPU:
		return vm_create_vcpu(vm, arg);
	case XVCPU_SET_MSR_POLICY:
		return vm_set_msr_policy(vm, argp);
	default:
		return xvcpu_refuse(-ENOTTY, "unknown VM ioctl %#x", cmd);
	}
}

static int vm_fd_mmap(struct file *file, struct vm_area_struct *vma)
{
	return xvcpu_vm_mmap(file->private_data, vma);
}

static int vm_fd_release(struct inode *inode, struct file *file)
{
	xvcpu_vm_put(file->private_data);
	return 0;
}

static const struct file_operations vm_fops = {
	.owner = THIS_MODULE,
	.release = vm_fd_release,
	.unlocked_ioctl = vm_fd_ioctl,
	.mmap = vm_fd_mmap,
	.llseek = noop_llseek,
};

/* ---- system fd ---- */

static int dev_create_vm(void)
{
	struct xvcpu_vm *vm = xvcpu_vm_create();
	int fd;

	if (!vm)
		return -ENOMEM;
	fd = anon_inode_getfd("xvcpu-vm", &vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		xvcpu_vm_put(vm);
	return fd;
}

static long dev_check_cap(unsigned long cap)
{
	switch (cap) {
	case XVCPU_CAP_EPT:
	case XVCPU_CAP_UNRESTRICTED_GUEST:
	case XVCPU_CAP_READONLY_MEM:
	case XVCPU_CAP_IMMEDIATE_EXIT:
	case XVCPU_CAP_HYPERCALL:
	case XVCPU_CAP_CPUID:
	case XVCPU_CAP_MSR_POLICY:
		return 1;
	case XVCPU_CAP_VPID:
		return vmx_caps.vpid;
	case XVCPU_CAP_MAX_VCPUS:
		return XVCPU_MAX_VCPUS;
	case XVCPU_CAP_NR_MEMSLOTS:
		return XVCPU_NR_MEMSLOTS;
	case XVCPU_CAP_MAX_MEMORY_MB:
		return xvcpu_max_memory_mb;
	default:
		return 0;
	}
}

static long dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (arg && cmd != XVCPU_CHECK_CAP)
		return xvcpu_refuse(-EINVAL, "ioctl %#x on /dev/xvcpu takes no argument",
				    cmd);
	switch (cmd) {
	case XVCPU_GET_API_VERSION:
		return XVCPU_API_VERSION;
	case XVCPU_CHECK_CAP:
		return dev_check_cap(arg);
	case XVCPU_CREATE_VM:
		return dev_create_vm();
	case XVCPU_GET_VCPU_MMAP_SIZE:
		return PAGE_SIZE;
	default:
		return xvcpu_refuse(-ENOTTY, "unknown /dev/xvcpu ioctl %#x", cmd);
	}
}

const struct file_operations xvcpu_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dev_ioctl,
	.llseek = noop_llseek,
};
