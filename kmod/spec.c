// SPDX-License-Identifier: GPL-2.0
/*
 * What this host needs around guest execution: the kernel's feature and
 * bug bits and its mitigation settings, read once at load into struct
 * host_features; hostpolicy.c (pure, unit-tested) turns them into the
 * entry policy that switch.c carries out.  Also the IBPB between vCPUs.
 *
 * Carried out by the kernel's own alternatives in vmenter.S, exactly as in
 * KVM and with the same feature bits: VERW before entry
 * (X86_FEATURE_CLEAR_CPU_BUF), the RSB refill after exit
 * (X86_FEATURE_RSB_VMEXIT, or the one-entry RSB_VMEXIT_LITE with eIBRS)
 * and the branch-history clearing sequence (CLEAR_BHB_LOOP_ON_VMEXIT).
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/cpu.h>
#include <linux/gfp.h>
#include <linux/percpu.h>
#include <linux/string_helpers.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>

#include "compat.h"
#include "hostpolicy.h"
#include "xvcpu.h"

struct entry_policy xvcpu_entry_policy __read_mostly;
void *xvcpu_l1d_flush_buffer;
bool xvcpu_split_lock_detect __read_mostly;

static DEFINE_PER_CPU(struct xvcpu_vcpu *, last_vcpu);

static void spec_read_host(struct host_features *f)
{
	u64 arch_caps = 0;

	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl(MSR_IA32_ARCH_CAPABILITIES, arch_caps);
	*f = (struct host_features){
		.mitigations_off = cpu_mitigations_off(),
		.bug_l1tf = boot_cpu_has_bug(X86_BUG_L1TF),
		.l1tf_off = l1tf_mitigation == L1TF_MITIGATION_OFF,
		.skip_l1dflush_vmentry =
			arch_caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH,
		.flush_l1d = boot_cpu_has(X86_FEATURE_FLUSH_L1D),
		.kernel_ibrs = cpu_feature_enabled(X86_FEATURE_KERNEL_IBRS),
		.ibpb = cpu_feature_enabled(X86_FEATURE_USE_IBPB),
		.ibpb_exit_to_user =
			cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER),
		.fred = xvcpu_host_fred(),
		.split_lock_detect =
			boot_cpu_has(X86_FEATURE_SPLIT_LOCK_DETECT),
	};
}

int xvcpu_spec_init(void)
{
	struct host_features f;
	struct entry_policy *p = &xvcpu_entry_policy;
	static const char * const flush[] = {
		[L1D_FLUSH_NONE] = "off",
		[L1D_FLUSH_MSR] = "by IA32_FLUSH_CMD",
		[L1D_FLUSH_SOFTWARE] = "by software",
	};

	spec_read_host(&f);
	host_entry_policy(&f, p);
	if (p->l1d_flush == L1D_FLUSH_SOFTWARE) {
		struct page *page = alloc_pages(GFP_KERNEL | __GFP_ZERO,
						XVCPU_L1D_FLUSH_ORDER);

		if (!page) {
			pr_err("no memory for the L1D flush buffer\n");
			return -ENOMEM;
		}
		xvcpu_l1d_flush_buffer = page_address(page);
	}
	xvcpu_split_lock_detect = f.split_lock_detect;
	pr_info("guest entry: L1D flush %s, SPEC_CTRL after exit %s, IBPB between vCPUs %s, IBPB before user mode %s, NMIs by %s\n",
		flush[p->l1d_flush], str_on_off(p->spec_ctrl_after_exit),
		str_on_off(p->ibpb_vcpu_switch),
		str_on_off(p->ibpb_exit_to_user),
		p->nmi_via_fred ? "FRED" : "INT 2");
	return 0;
}

void xvcpu_spec_exit(void)
{
	if (xvcpu_l1d_flush_buffer)
		free_pages((unsigned long)xvcpu_l1d_flush_buffer,
			   XVCPU_L1D_FLUSH_ORDER);
	xvcpu_l1d_flush_buffer = NULL;
}

/*
 * The VMCS of @vcpu becomes current on this CPU; preemption off.  As KVM
 * does when it loads another vCPU's VMCS: an IBPB, so that no vCPU (of
 * this VM or another) steers the indirect branches of the next one.
 */
void xvcpu_spec_vcpu_load(struct xvcpu_vcpu *vcpu)
{
	if (this_cpu_read(last_vcpu) == vcpu)
		return;
	this_cpu_write(last_vcpu, vcpu);
	if (xvcpu_entry_policy.ibpb_vcpu_switch)
		indirect_branch_prediction_barrier();
}

/* @vcpu is gone: a new vCPU at its address is another one */
void xvcpu_spec_vcpu_destroyed(struct xvcpu_vcpu *vcpu)
{
	int cpu;

	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&last_vcpu, cpu), vcpu, NULL);
}
