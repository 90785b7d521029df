// SPDX-License-Identifier: GPL-2.0
/*
 * xvcpu: a small KVM-like Intel VMX backend.
 *
 * Module load and unload, the /dev/xvcpu misc device, module parameters,
 * page accounting and the debugfs statistics used by the leak tests.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/gfp.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>

#include "xvcpu.h"

unsigned int xvcpu_max_memory_mb = 2048;
module_param_named(max_memory_mb, xvcpu_max_memory_mb, uint, 0444);
MODULE_PARM_DESC(max_memory_mb, "Guest memory per VM, in MiB (default 2048)");

unsigned int xvcpu_preemption_timer_us = 1000;
module_param_named(preemption_timer_us, xvcpu_preemption_timer_us, uint, 0444);
MODULE_PARM_DESC(preemption_timer_us,
		 "Longest stretch a guest runs without an exit, in microseconds; 0: no limit (default 1000)");

struct xvcpu_stats xvcpu_stats;

int xvcpu_refuse(int err, const char *fmt, ...)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);
	struct va_format vaf;
	va_list args;

	if (!__ratelimit(&rs))
		return err;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_info("%s[%d]: %pV (%d)\n", current->comm, task_pid_nr(current),
		&vaf, err);
	va_end(args);
	return err;
}

/* Every page xvcpu holds comes from here and is counted. */
struct page *xvcpu_alloc_page(void)
{
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (page)
		atomic_long_inc(&xvcpu_stats.pages);
	return page;
}

void xvcpu_free_page(struct page *page)
{
	__free_page(page);
	atomic_long_dec(&xvcpu_stats.pages);
}

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
	xvcpu_spec_init();
	r = xvcpu_msr_bitmap_init();
	if (r) {
		xvcpu_vmx_exit();
		return r;
	}
	preempt_notifier_inc();
	r = misc_register(&xvcpu_misc);
	if (r) {
		pr_err("cannot register /dev/xvcpu (%d)\n", r);
		preempt_notifier_dec();
		xvcpu_msr_bitmap_exit();
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
