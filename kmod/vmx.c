// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU VMX: the capability probe, VMXON/VMXOFF on every CPU through
 * the CPU hotplug framework, VMXOFF when the system goes down (reboot,
 * power-off, and the kernel's emergency paths: kdump, SysRq-B), INVEPT
 * and VPIDs.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/smp.h>
#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/reboot.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "compat.h"
#include "xvcpu.h"
#include "vmcs.h"

struct vmx_caps vmx_caps;
static struct vmx_msrs boot_msrs;

static DEFINE_PER_CPU(struct page *, vmxon_region);
static DEFINE_PER_CPU(bool, vmx_on);
static int vmx_hp_state = -1;
static DEFINE_IDA(vpid_ida);

/*
 * Set when the system goes down (vmx_reboot(), vmx_emergency_off()) and
 * never cleared: no guest entry from then on, and a VMX instruction that
 * faults because VMX went off under it is expected.
 */
static bool going_down;

/*
 * The physical address of the VMCS current on each CPU, or 0: set before
 * VMPTRLD and cleared after VMCLEAR, so that whenever a VMCS is current
 * (or about to be) this names it, for vmx_clear_current().
 */
static DEFINE_PER_CPU(u64, current_vmcs_pa);

/* How long vmx_reboot() lets running vCPUs leave their guests */
#define REBOOT_WAIT_MS	100

bool vmx_going_down(void)
{
	return READ_ONCE(going_down);
}

void __cold vmx_insn_fault(const char *insn)
{
	WARN_ONCE(!READ_ONCE(going_down),
		  "xvcpu: %s faulted on CPU%d: VMX is off\n", insn,
		  raw_smp_processor_id());
}

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
 * VMfailInvalid, reported in CF, or a #UD if the kernel's emergency
 * callback cleared CR4.VMXE in between.
 */
static int vmx_vmxon(u64 pa)
{
	bool failed;
	int fault = 1;

	/* A fault flag as in vmcs_read() (vmcs.h) */
	asm volatile("1: vmxon %[pa]\n\t"
		     "mov $0, %k[fault]\n"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : "=@ccbe" (failed), [fault] "+r" (fault)
		     : [pa] "m" (pa) : "cc", "memory");
	return fault || failed ? -EIO : 0;
}

/* VMXOFF and CR4.VMXE off; also in NMI context (vmx_emergency_off()) */
static void vmx_vmxoff(void)
{
	int fault = 1;

	asm volatile("1: vmxoff\n\t"
		     "mov $0, %k[fault]\n"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [fault] "+r" (fault) : : "cc", "memory");
	cr4_clear_bits(X86_CR4_VMXE);
	if (fault)
		vmx_insn_fault("VMXOFF");
}

/* A fault flag as in vmcs_read(); VMfail in CF or ZF (SDM Vol. 3C 31.2) */
void vmx_vmptrld(u64 pa)
{
	bool failed;
	int fault = 1;

	this_cpu_write(current_vmcs_pa, pa);
	asm volatile("1: vmptrld %[pa]\n\t"
		     "mov $0, %k[fault]\n"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : "=@ccbe" (failed), [fault] "+r" (fault)
		     : [pa] "m" (pa) : "cc", "memory");
	if (fault)
		vmx_insn_fault("VMPTRLD");
	else
		WARN_ONCE(failed, "xvcpu: VMPTRLD %#llx failed\n", pa);
}

void vmx_vmclear(u64 pa)
{
	bool failed;
	int fault = 1;

	asm volatile("1: vmclear %[pa]\n\t"
		     "mov $0, %k[fault]\n"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : "=@ccbe" (failed), [fault] "+r" (fault)
		     : [pa] "m" (pa) : "cc", "memory");
	if (this_cpu_read(current_vmcs_pa) == pa)
		this_cpu_write(current_vmcs_pa, 0);
	if (fault)
		vmx_insn_fault("VMCLEAR");
	else
		WARN_ONCE(failed, "xvcpu: VMCLEAR %#llx failed\n", pa);
}

/*
 * VMCLEAR the VMCS current on this CPU, if any, before VMX goes off under
 * it: its data reaches memory and it is active nowhere (SDM Vol. 3C,
 * chapter "Virtual Machine Control Structures", section "Software Use of
 * Virtual-Machine Control Structures").  Interrupts off or in NMI context
 * (vmx_emergency_off()): no WARN, no lock; a fault (VMX already off)
 * skips it.
 */
static void vmx_clear_current(void)
{
	u64 pa = this_cpu_read(current_vmcs_pa);

	if (!pa)
		return;
	asm volatile("1: vmclear %[pa]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : [pa] "m" (pa) : "cc", "memory");
	this_cpu_write(current_vmcs_pa, 0);
}

/* SDM Vol. 3C 31.3 "INVEPT - Invalidate Translations Derived from EPT" */
static void vmx_invept(unsigned long type, u64 eptp)
{
	struct {
		u64 eptp;
		u64 reserved;
	} desc = { eptp, 0 };
	int fault = 1;

	asm volatile("1: invept %[desc], %[type]\n\t"
		     "mov $0, %k[fault]\n"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [fault] "+r" (fault)
		     : [desc] "m" (desc), [type] "r" (type) : "cc", "memory");
	if (fault)
		vmx_insn_fault("INVEPT");
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

/*
 * VMXOFF on this CPU, if on.  Interrupts off or in an IPI.  A VMCS is
 * current here only when the system goes down under a running vCPU.
 */
static void vmx_cpu_disable(void)
{
	if (!this_cpu_read(vmx_on))
		return;
	vmx_clear_current();
	vmx_invept(VMX_INVEPT_ALL_CONTEXT, 0);
	vmx_vmxoff();
	this_cpu_write(vmx_on, false);
}

static int vmx_cpu_online(unsigned int cpu)
{
	struct page *region = per_cpu(vmxon_region, cpu);
	unsigned long flags;
	int r;

	/* A CPU coming up while the system goes down: VMX stays off */
	if (vmx_going_down())
		return 0;
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

/*
 * Reboot, halt or power-off, while vCPU threads may still run on other
 * CPUs.  As KVM does: first no new guest entry (xvcpu_vcpu_run() checks
 * vmx_going_down()); then a short wait for the vCPUs in a guest now to
 * leave it (an exit comes with the next interrupt or the preemption
 * timer) and clear their VMCS; then VMX off on every CPU, each CPU
 * clearing the VMCS still current there.  A vCPU that is not out by then
 * meets VMX off: its VMX instructions fault and fail (vmcs.h), its
 * XVCPU_RUN returns -ESHUTDOWN.
 */
static int vmx_reboot(struct notifier_block *nb, unsigned long code, void *p)
{
	unsigned long end = jiffies + msecs_to_jiffies(REBOOT_WAIT_MS);
	unsigned int cpu;

	WRITE_ONCE(going_down, true);
	pr_info("system going down: no more guest entries, VMX off on every CPU\n");
	for_each_online_cpu(cpu)
		while (READ_ONCE(per_cpu(current_vmcs_pa, cpu)) &&
		       time_before(jiffies, end))
			usleep_range(500, 1000);
	on_each_cpu(vmx_cpu_disable_ipi, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block vmx_reboot_nb = {
	.notifier_call = vmx_reboot,
};

/*
 * The kernel's emergency callback: a crash before kdump, an emergency
 * restart (SysRq-B), the CPUs stopped for a reboot.  It runs on every
 * CPU, in NMI context on all but one, where nothing may sleep or wait.
 * VMX root operation blocks INIT (SDM Vol. 3C, chapter "Introduction to
 * Virtual Machine Extensions", section "Restrictions on VMX Operation"),
 * which firmware and the next kernel use to start the other CPUs: leave
 * it, after writing back the VMCS current here.  CR4.VMXE rather than
 * vmx_on, which is set only after VMXON succeeds.
 */
static void vmx_emergency_off(void)
{
	WRITE_ONCE(going_down, true);
	if (!(__read_cr4() & X86_CR4_VMXE))
		return;
	vmx_clear_current();
	vmx_vmxoff();
	this_cpu_write(vmx_on, false);
	/* Where printing is safe: on the CPU that restarts or crashes */
	if (!in_nmi())
		pr_info("emergency: VMX off on CPU%d\n", raw_smp_processor_id());
}

/*
 * The kernel has one slot for that callback (compat.h), and KVM takes it
 * without asking: a second registration, or an unregistration by another
 * owner, is a kernel WARN.  So xvcpu holds the slot only while it holds
 * VMX and KVM's module is not loaded, and gives it up as soon as KVM's
 * module comes, before KVM can register; it takes it back when KVM's
 * module is gone.  KVM and xvcpu never hold VMX at the same time, so
 * while KVM is loaded and xvcpu holds VMX, the slot is KVM's (6.1: its
 * callback turns off any VMX on, but VMCLEARs only KVM's own VMCSs) or
 * empty (6.12, until KVM turns virtualization on).
 */
static DEFINE_MUTEX(emergency_lock);
static bool emergency_wanted;		/* xvcpu holds VMX */
static bool emergency_registered;
static bool kvm_loaded;

/* Register or unregister as the state says; true if that changed. */
static bool vmx_emergency_update(void)
{
	bool want = emergency_wanted && !kvm_loaded;

	lockdep_assert_held(&emergency_lock);
	if (want == emergency_registered)
		return false;
	if (want)
		cpu_emergency_register_virt_callback(vmx_emergency_off);
	else
		cpu_emergency_unregister_virt_callback(vmx_emergency_off);
	emergency_registered = want;
	return true;
}

static int vmx_module_event(struct notifier_block *nb, unsigned long state,
			    void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, XVCPU_KVM_MODULE))
		return NOTIFY_DONE;
	mutex_lock(&emergency_lock);
	if (state == MODULE_STATE_COMING || state == MODULE_STATE_LIVE)
		kvm_loaded = true;
	else if (state == MODULE_STATE_GOING)
		kvm_loaded = false;
	if (vmx_emergency_update())
		pr_info("%s %s: the kernel's emergency VMX-off callback is %s\n",
			XVCPU_KVM_MODULE, kvm_loaded ? "loads" : "is gone",
			kvm_loaded ? "left to it" : "xvcpu's again");
	mutex_unlock(&emergency_lock);
	return NOTIFY_OK;
}

static struct notifier_block vmx_module_nb = {
	.notifier_call = vmx_module_event,
};

/*
 * Whether KVM's module is loaded now: one of its symbols can be taken.
 * Not while it is still initializing, but then its LIVE event is still
 * to come, and vmx_module_nb is registered before this is asked.
 */
static bool kvm_module_live(void)
{
	if (!__symbol_get(XVCPU_KVM_SYMBOL))
		return false;
	__symbol_put(XVCPU_KVM_SYMBOL);
	return true;
}

static void vmx_emergency_init(void)
{
	register_module_notifier(&vmx_module_nb);
	mutex_lock(&emergency_lock);
	kvm_loaded = kvm_loaded || kvm_module_live();
	if (kvm_loaded)
		pr_info("%s is loaded: the kernel's emergency VMX-off callback is left to it\n",
			XVCPU_KVM_MODULE);
	emergency_wanted = true;
	vmx_emergency_update();
	mutex_unlock(&emergency_lock);
}

static void vmx_emergency_exit(void)
{
	unregister_module_notifier(&vmx_module_nb);
	mutex_lock(&emergency_lock);
	emergency_wanted = false;
	vmx_emergency_update();
	mutex_unlock(&emergency_lock);
}

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
	vmx_emergency_init();
	pr_info("VMX on %u CPUs: EPT%s%s, unrestricted guest\n",
		num_online_cpus(), vmx_caps.ept_2mb ? " (2 MiB pages)" : "",
		vmx_caps.vpid ? ", VPID" : "");
	return 0;
}

void xvcpu_vmx_exit(void)
{
	unregister_reboot_notifier(&vmx_reboot_nb);
	cpuhp_remove_state(vmx_hp_state);
	vmx_emergency_exit();
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
