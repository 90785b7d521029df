// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU VMX: the capability probe, VMXON/VMXOFF on every CPU through
 * the CPU hotplug framework, VMXOFF on reboot, INVEPT and VPIDs.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/smp.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "xvcpu.h"

struct vmx_caps vmx_caps;
static struct vmx_msrs boot_msrs;

static DEFINE_PER_CPU(struct page *, vmxon_region);
static DEFINE_PER_CPU(bool, vmx_on);
static int vmx_hp_state = -1;
static DEFINE_IDA(vpid_ida);

#define CPUID1_ECX_VMX	BIT(5)

static void vmx_read_msrs(struct vmx_msrs *m)
{
	bool true_ctls;

	memset(m, 0, sizeof(*m));
	rdmsrl(MSR_IA32_VMX_BASIC, m->basic);
	/* SDM Vol. 3D A.2: the TRUE_ MSRs report default1 bits as clearable */
	true_ctls = m->basic & VMX_MSR_BASIC_TRUE_CTLS;
	rdmsrl(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
	       MSR_IA32_VMX_PINBASED_CTLS, m->pin);
	rdmsrl(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
	       MSR_IA32_VMX_PROCBASED_CTLS, m->proc);
	rdmsrl(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
	       MSR_IA32_VMX_EXIT_CTLS, m->exit);
	rdmsrl(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
	       MSR_IA32_VMX_ENTRY_CTLS, m->entry);
	/* A.3.3 and A.10: these exist only when the controls above say so */
	if ((m->proc >> 32) & VMX_PROC_SECONDARY_CONTROLS)
		rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &m->proc2);
	if ((m->proc2 >> 32) & (VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID))
		rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &m->ept_vpid);
	rdmsrl(MSR_IA32_VMX_MISC, m->misc);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, m->cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, m->cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, m->cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, m->cr4_fixed1);
}

/*
 * VMXON (SDM Vol. 3C 31.3).  Its #GP conditions (CR0/CR4 fixed bits,
 * IA32_FEATURE_CONTROL) are checked before it runs; what is left is
 * VMfailInvalid, reported in CF.
 */
static int vmx_vmxon(u64 pa)
{
	bool failed;

	asm volatile("vmxon %1" : "=@ccbe" (failed) : "m" (pa) : "memory");
	return failed ? -EIO : 0;
}

static void vmx_vmxoff(void)
{
	asm volatile("vmxoff" : : : "memory", "cc");
}

/* SDM Vol. 3C 31.3 "INVEPT - Invalidate Translations Derived from EPT" */
static void vmx_invept(unsigned long type, u64 eptp)
{
	struct {
		u64 eptp;
		u64 reserved;
	} desc = { eptp, 0 };

	asm volatile("invept %0, %1" : : "m" (desc), "r" (type)
		     : "memory", "cc");
}

void vmx_invept_local(u64 eptp)
{
	if (vmx_caps.invept_single)
		vmx_invept(VMX_INVEPT_SINGLE_CONTEXT, eptp);
	else
		vmx_invept(VMX_INVEPT_ALL_CONTEXT, 0);
}

static void vmx_invept_ipi(void *eptp)
{
	if (this_cpu_read(vmx_on))
		vmx_invept_local(*(u64 *)eptp);
}

void vmx_invept_all_cpus(u64 eptp)
{
	on_each_cpu(vmx_invept_ipi, &eptp, 1);
}

/*
 * A control register's value is allowed in VMX operation when every bit
 * set in FIXED0 is set and every bit clear in FIXED1 is clear
 * (SDM Vol. 3D A.7, A.8).
 */
static bool cr_fixed_ok(unsigned long cr, u64 fixed0, u64 fixed1)
{
	return (cr & fixed0) == fixed0 && !(cr & ~fixed1);
}

/* VMXON on this CPU.  Runs with interrupts off. */
static int vmx_cpu_enable(unsigned int cpu, struct page *region)
{
	struct vmx_msrs m;
	u64 fc;
	int r;

	if (!(cpuid_ecx(1) & CPUID1_ECX_VMX)) {
		pr_err("CPU%u has no VMX (CPUID.1:ECX.VMX = 0)\n", cpu);
		return -ENODEV;
	}
	if (cr4_read_shadow() & X86_CR4_VMXE) {
		pr_err("CPU%u: VMX is already in use by another hypervisor (CR4.VMXE is set; is kvm_intel loaded?)\n",
		       cpu);
		return -EBUSY;
	}
	/* SDM Vol. 3C 24.7 "Enabling and Entering VMX Operation" */
	rdmsrl(MSR_IA32_FEAT_CTL, fc);
	if (!(fc & FEAT_CTL_LOCKED)) {
		fc |= FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX;
		wrmsrl(MSR_IA32_FEAT_CTL, fc);
	} else if (!(fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("CPU%u: VMX is disabled by the firmware (IA32_FEATURE_CONTROL = %#llx is locked without VMX outside SMX)\n",
		       cpu, fc);
		return -ENODEV;
	}
	vmx_read_msrs(&m);
	if (memcmp(&m, &boot_msrs, sizeof(m))) {
		pr_err("CPU%u: VMX capabilities differ from the boot CPU's\n",
		       cpu);
		return -EIO;
	}
	if (!cr_fixed_ok(read_cr0(), m.cr0_fixed0, m.cr0_fixed1) ||
	    !cr_fixed_ok(cr4_read_shadow() | X86_CR4_VMXE, m.cr4_fixed0,
			 m.cr4_fixed1)) {
		pr_err("CPU%u: CR0/CR4 do not meet the VMX fixed bits\n", cpu);
		return -EIO;
	}

	*(u32 *)page_address(region) = vmx_caps.revision_id;
	cr4_set_bits(X86_CR4_VMXE);
	r = vmx_vmxon(page_to_phys(region));
	if (r) {
		cr4_clear_bits(X86_CR4_VMXE);
		pr_err("CPU%u: VMXON failed (%d)\n", cpu, r);
		return -EIO;
	}
	/* Drop any EPT translations a previous VMX user left behind. */
	vmx_invept(VMX_INVEPT_ALL_CONTEXT, 0);
	this_cpu_write(vmx_on, true);
	return 0;
}

/* VMXOFF on this CPU, if on.  Interrupts off or in an IPI. */
static void vmx_cpu_disable(void)
{
	if (!this_cpu_read(vmx_on))
		return;
	vmx_invept(VMX_INVEPT_ALL_CONTEXT, 0);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	this_cpu_write(vmx_on, false);
}

static int vmx_cpu_online(unsigned int cpu)
{
	struct page *region = per_cpu(vmxon_region, cpu);
	unsigned long flags;
	int r;

	if (!region) {
		region = xvcpu_alloc_page();
		if (!region)
			return -ENOMEM;
		per_cpu(vmxon_region, cpu) = region;
	}
	local_irq_save(flags);
	r = vmx_cpu_enable(cpu, region);
	local_irq_restore(flags);
	return r;
}

static int vmx_cpu_offline(unsigned int cpu)
{
	unsigned long flags;

	local_irq_save(flags);
	vmx_cpu_disable();
	local_irq_restore(flags);
	return 0;
}

static void vmx_cpu_disable_ipi(void *unused)
{
	vmx_cpu_disable();
}

static int vmx_reboot(struct notifier_block *nb, unsigned long code, void *p)
{
	on_each_cpu(vmx_cpu_disable_ipi, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block vmx_reboot_nb = {
	.notifier_call = vmx_reboot,
};

static void vmx_free_regions(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(vmxon_region, cpu)) {
			xvcpu_free_page(per_cpu(vmxon_region, cpu));
			per_cpu(vmxon_region, cpu) = NULL;
		}
	}
}

/* Probe the boot CPU and compute vmx_caps; -ENODEV says why. */
static int vmx_probe(void)
{
	const char *missing;
	u64 fc;

	if (!(cpuid_ecx(1) & CPUID1_ECX_VMX)) {
		pr_err("this CPU has no Intel VMX (CPUID.1:ECX.VMX = 0); xvcpu needs VT-x\n");
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &fc) ||
	    ((fc & FEAT_CTL_LOCKED) && !(fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))) {
		pr_err("VMX is disabled by the firmware (IA32_FEATURE_CONTROL)\n");
		return -ENODEV;
	}
	vmx_read_msrs(&boot_msrs);
	if (vmx_caps_compute(&vmx_caps, &boot_msrs, &missing)) {
		pr_err("the CPU's VMX lacks %s, which xvcpu requires\n",
		       missing);
		return -ENODEV;
	}
	return 0;
}

int xvcpu_vmx_init(void)
{
	int r;

	/* Every CPU is checked against this one when it goes online. */
	get_cpu();
	r = vmx_probe();
	put_cpu();
	if (r)
		return r;

	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "xvcpu/vmx:online",
			      vmx_cpu_online, vmx_cpu_offline);
	if (r < 0) {
		vmx_free_regions();
		return r;
	}
	vmx_hp_state = r;
	register_reboot_notifier(&vmx_reboot_nb);
	pr_info("VMX on %u CPUs: EPT%s%s, unrestricted guest\n",
		num_online_cpus(), vmx_caps.ept_2mb ? " (2 MiB pages)" : "",
		vmx_caps.vpid ? ", VPID" : "");
	return 0;
}

void xvcpu_vmx_exit(void)
{
	unregister_reboot_notifier(&vmx_reboot_nb);
	cpuhp_remove_state(vmx_hp_state);
	vmx_free_regions();
	ida_destroy(&vpid_ida);
}

int vmx_vpid_alloc(void)
{
	if (!vmx_caps.vpid)
		return 0;
	/* VPID 0 is the host's (SDM Vol. 3C 29.1) */
	return ida_alloc_range(&vpid_ida, 1, 0xffff, GFP_KERNEL);
}

void vmx_vpid_free(int vpid)
{
	if (vpid > 0)
		ida_free(&vpid_ida, vpid);
}
