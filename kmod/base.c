// SPDX-License-Identifier: GPL-2.0
/*
 * What every part of xvcpu uses: the module parameters, the page
 * accounting behind the leak checks, and xvcpu_refuse(), the one way a
 * bad request is turned down with a dmesg line.  The lowest layer but the
 * pure files (README, "Layers").
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/gfp.h>
#include <linux/module.h>
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
