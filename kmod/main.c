// SPDX-License-Identifier: GPL-2.0
/*
 * xvcpu: a small KVM-like Intel VMX backend.
 *
 * Module load and unload, the /dev/xvcpu misc device and the debugfs
 * statistics used by the leak tests (base.c counts what they show).
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>

#include "xvcpu.h"

static struct miscdevice xvcpu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "xvcpu",
	.fops = &xvcpu_dev_fops,
	.mode = 0660,
};

static struct dentry *xvcpu_debugfs;

static int stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "vms %ld\nvcpus %ld\npages %ld\n",
		   atomic_long_read(&xvcpu_stats.vms),
		   atomic_long_read(&xvcpu_stats.vcpus),
		   atomic_long_read(&xvcpu_stats.pages));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int __init xvcpu_init(void)
{
	int r;

	r = xvcpu_vmx_init();
	if (r)
		return r;
	xvcpu_vcpu_module_init();
	r = xvcpu_spec_init();
	if (r) {
		xvcpu_vmx_exit();
		return r;
	}
	r = xvcpu_msr_bitmap_init();
	if (r) {
		xvcpu_spec_exit();
		xvcpu_vmx_exit();
		return r;
	}
	preempt_notifier_inc();
	r = misc_register(&xvcpu_misc);
	if (r) {
		pr_err("cannot register /dev/xvcpu (%d)\n", r);
		preempt_notifier_dec();
		xvcpu_msr_bitmap_exit();
		xvcpu_spec_exit();
		xvcpu_vmx_exit();
		return r;
	}
	xvcpu_debugfs = debugfs_create_dir("xvcpu", NULL);
	debugfs_create_file("stats", 0444, xvcpu_debugfs, NULL, &stats_fops);
	return 0;
}

static void __exit xvcpu_exit(void)
{
	debugfs_remove_recursive(xvcpu_debugfs);
	misc_deregister(&xvcpu_misc);
	preempt_notifier_dec();
	xvcpu_msr_bitmap_exit();
	xvcpu_spec_exit();
	xvcpu_vmx_exit();
	if (atomic_long_read(&xvcpu_stats.pages) ||
	    atomic_long_read(&xvcpu_stats.vms) ||
	    atomic_long_read(&xvcpu_stats.vcpus))
		pr_err("leaked %ld pages, %ld VMs, %ld vCPUs\n",
		       atomic_long_read(&xvcpu_stats.pages),
		       atomic_long_read(&xvcpu_stats.vms),
		       atomic_long_read(&xvcpu_stats.vcpus));
	pr_info("unloaded: VMX off on every CPU\n");
}

module_init(xvcpu_init);
module_exit(xvcpu_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xvcpu: a small KVM-like Intel VMX backend");
