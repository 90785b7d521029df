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
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "xvcpu.h"

/* ---- CPUID tables (struct xvcpu_cpuid) ---- */

/* GET ioctls: on input nent and pad must be 0 (the entries are output) */
static int cpuid_get_check(struct xvcpu_cpuid __user *uc, const char *what)
{
	u32 nent, pad;

	if (get_user(nent, &uc->nent) || get_user(pad, &uc->pad))
		return -EFAULT;
	if (nent || pad)
		return xvcpu_refuse(-EINVAL, "%s: nent and pad must be 0 on input",
				    what);
	return 0;
}

static int cpuid_copy_out(struct xvcpu_cpuid __user *uc,
			  const struct xvcpu_cpuid_entry *e, u32 nent)
{
	if (copy_to_user(uc->entries, e, nent * sizeof(*e)) ||
	    put_user(nent, &uc->nent) || put_user(0, &uc->pad))
		return -EFAULT;
	return 0;
}

static int dev_get_supported_cpuid(struct xvcpu_cpuid __user *uc)
{
	const struct xvcpu_cpuid_entry *e;
	u32 nent;
	int r;

	r = cpuid_get_check(uc, "GET_SUPPORTED_CPUID");
	if (r)
		return r;
	e = xvcpu_cpuid_supported(&nent);
	return cpuid_copy_out(uc, e, nent);
}

static int vcpu_get_cpuid(struct xvcpu_vcpu *vcpu, struct xvcpu_cpuid __user *uc)
{
	int r = cpuid_get_check(uc, "GET_CPUID");

	return r ? r : cpuid_copy_out(uc, vcpu->cpuid, vcpu->cpuid_nent);
}

static int vcpu_set_cpuid(struct xvcpu_vcpu *vcpu, struct xvcpu_cpuid __user *uc)
{
	struct xvcpu_cpuid_entry *e;
	u32 nent, pad;
	int r;

	if (get_user(nent, &uc->nent) || get_user(pad, &uc->pad))
		return -EFAULT;
	if (pad)
		return xvcpu_refuse(-EINVAL, "SET_CPUID: pad must be 0");
	if (nent > XVCPU_CPUID_MAX_ENTRIES)
		return xvcpu_refuse(-EINVAL, "SET_CPUID: %u entries, at most %u",
				    nent, XVCPU_CPUID_MAX_ENTRIES);
	e = kmalloc_array(nent, sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	if (copy_from_user(e, uc->entries, nent * sizeof(*e))) {
		kfree(e);
		return -EFAULT;
	}
	r = xvcpu_cpuid_set(vcpu, e, nent);
	if (r)
		kfree(e);
	return r;
}

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
		struct xvcpu_translation tr;
		struct xvcpu_events events;
		struct xvcpu_interrupt irq;
		struct xvcpu_guest_debug debug;
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
	case XVCPU_TRANSLATE:
		r = -EFAULT;
		if (copy_from_user(&u.tr, argp, sizeof(u.tr)))
			break;
		r = xvcpu_vcpu_translate(vcpu, &u.tr);
		if (!r && copy_to_user(argp, &u.tr, sizeof(u.tr)))
			r = -EFAULT;
		break;
	case XVCPU_GET_EVENTS:
		xvcpu_vcpu_get_events(vcpu, &u.events);
		r = copy_to_user(argp, &u.events, sizeof(u.events)) ? -EFAULT : 0;
		break;
	case XVCPU_SET_EVENTS:
		r = -EFAULT;
		if (!copy_from_user(&u.events, argp, sizeof(u.events)))
			r = xvcpu_vcpu_set_events(vcpu, &u.events);
		break;
	case XVCPU_INTERRUPT:
		r = -EFAULT;
		if (!copy_from_user(&u.irq, argp, sizeof(u.irq)))
			r = xvcpu_vcpu_interrupt(vcpu, &u.irq);
		break;
	case XVCPU_NMI:
		r = arg ? xvcpu_refuse(-EINVAL, "XVCPU_NMI takes no argument") :
			  xvcpu_vcpu_nmi(vcpu);
		break;
	case XVCPU_SET_GUEST_DEBUG:
		r = -EFAULT;
		if (!copy_from_user(&u.debug, argp, sizeof(u.debug)))
			r = xvcpu_vcpu_set_guest_debug(vcpu, &u.debug);
		break;
	case XVCPU_SET_CPUID:
		r = vcpu_set_cpuid(vcpu, argp);
		break;
	case XVCPU_GET_CPUID:
		r = vcpu_get_cpuid(vcpu, argp);
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
		if (r || !mr.memory_size)
			return r;
		/* A caller told EFAULT gets no new region */
		r = put_user(mr.mmap_offset,
			     &((struct xvcpu_memory_region __user *)argp)->mmap_offset);
		xvcpu_vm_finish_memory_region(vm, mr.slot, !r);
		return r ? -EFAULT : 0;
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
	case XVCPU_CAP_TRANSLATE:
	case XVCPU_CAP_STRING_IO:
	case XVCPU_CAP_MMIO_INSN:
	case XVCPU_CAP_SET_CPUID:
	case XVCPU_CAP_EVENTS:
		return 1;
	case XVCPU_CAP_NMI:
		return vmx_caps.nmi_window;
	case XVCPU_CAP_XSAVE:
		return xvcpu_guest_xcr0_supported != 0;
	case XVCPU_CAP_GUEST_DEBUG:
		/* Single-step needs the monitor trap flag */
		return XVCPU_DEBUG_INTERCEPT_BP | XVCPU_DEBUG_INTERCEPT_DB |
		       (vmx_caps.mtf ? XVCPU_DEBUG_SINGLESTEP : 0);
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
	if (cmd == XVCPU_GET_SUPPORTED_CPUID)
		return dev_get_supported_cpuid((void __user *)arg);
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
