// SPDX-License-Identifier: GPL-2.0
/*
 * The CPUID a guest sees: each vCPU answers from its own table
 * (XVCPU_SET_CPUID), which starts as a copy of the supported table built
 * here at module load: the host's leaves, less what xvcpu does not
 * virtualize, plus the hypervisor leaf.  Features that would need an
 * exit xvcpu does not handle (MSRs of a feature, INVPCID, XSAVES, ...)
 * are hidden, so a guest that trusts CPUID does not trip over them.  The
 * table rules and the filter are in cpuid_table.c.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/slab.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>

#include "cpuid.h"
#include "xvcpu.h"
#include "vmcs.h"

static struct xvcpu_cpuid_entry supported[XVCPU_CPUID_MAX_ENTRIES];
static u32 supported_nent;
static struct cpuid_xsave_layout xsave_layout;

static void host_cpuid(u32 function, u32 index, u32 *regs)
{
	cpuid_count(function, index, &regs[0], &regs[1], &regs[2], &regs[3]);
}

/* After xvcpu_guest_xcr0_supported is known. */
void xvcpu_cpuid_module_init(void)
{
	u32 n;

	cpuid_xsave_layout_init(&xsave_layout, host_cpuid,
				xvcpu_guest_xcr0_supported);
	n = cpuid_build_supported(host_cpuid, &xsave_layout, supported,
				  ARRAY_SIZE(supported));
	if (n > ARRAY_SIZE(supported)) {
		pr_warn("the host has %u CPUID entries, guests get the first %zu\n",
			n, ARRAY_SIZE(supported));
		n = ARRAY_SIZE(supported);
	}
	supported_nent = n;
}

const struct xvcpu_cpuid_entry *xvcpu_cpuid_supported(u32 *nent)
{
	*nent = supported_nent;
	return supported;
}

int xvcpu_cpuid_vcpu_init(struct xvcpu_vcpu *vcpu)
{
	vcpu->cpuid = kmemdup(supported, supported_nent * sizeof(*supported),
			      GFP_KERNEL_ACCOUNT);
	if (!vcpu->cpuid)
		return -ENOMEM;
	vcpu->cpuid_nent = supported_nent;
	vcpu->cr4_allowed = cpuid_cr4_allowed(vcpu->cpuid, vcpu->cpuid_nent,
					      xvcpu_guest_xcr0_supported);
	return 0;
}

int xvcpu_cpuid_set(struct xvcpu_vcpu *vcpu, struct xvcpu_cpuid_entry *e,
		    u32 nent)
{
	u32 bad = 0, other = 0;

	switch (cpuid_check(e, nent, &bad, &other)) {
	case CPUID_OK:
		break;
	case CPUID_TOO_MANY:
		return xvcpu_refuse(-EINVAL, "SET_CPUID: %u entries, at most %u",
				    nent, XVCPU_CPUID_MAX_ENTRIES);
	case CPUID_BAD_FLAGS:
		return xvcpu_refuse(-EINVAL, "SET_CPUID: entry %u (%#x/%#x): unknown flags %#x",
				    bad, e[bad].function, e[bad].index,
				    e[bad].flags);
	case CPUID_BAD_PAD:
		return xvcpu_refuse(-EINVAL, "SET_CPUID: entry %u (%#x/%#x): pad must be 0",
				    bad, e[bad].function, e[bad].index);
	case CPUID_DUPLICATE:
	default:
		return xvcpu_refuse(-EINVAL, "SET_CPUID: entries %u and %u both answer %#x/%#x",
				    bad, other, e[other].function,
				    e[other].index);
	}
	/* The vCPU's ioctl lock is held: no CPUID exit is using the table */
	kfree(vcpu->cpuid);
	vcpu->cpuid = e;
	vcpu->cpuid_nent = nent;
	/*
	 * The CR4 bits the guest owns follow the table.  A bit already set
	 * that the new table does not give stays set, now host-owned: the
	 * guest keeps reading it and cannot set it again once cleared.
	 */
	vcpu->cr4_allowed = cpuid_cr4_allowed(e, nent,
					      xvcpu_guest_xcr0_supported);
	preempt_disable();
	vmcs_load(vcpu);
	vmcs_set_cr4_guest_owned(vcpu->cr4_allowed);
	vmcs_clear(vcpu);
	preempt_enable();
	return 0;
}

/* The guest's CR4 as it reads it (SDM Vol. 3C 26.6.6): owned bits, shadow */
static unsigned long guest_visible_cr4(void)
{
	unsigned long mask = vmcs_read(VMCS_CR4_GUEST_HOST_MASK);

	return (vmcs_read(VMCS_GUEST_CR4) & ~mask) |
	       (vmcs_read(VMCS_CR4_READ_SHADOW) & mask);
}

/* At a CPUID exit: the VMCS of @vcpu is current. */
void xvcpu_cpuid(struct xvcpu_vcpu *vcpu, u32 function, u32 index, u32 *regs)
{
	unsigned long cr4 = guest_visible_cr4();
	struct cpuid_dynamic d = {
		.apic_id = vcpu->id,
		.osxsave = cr4 & X86_CR4_OSXSAVE,
		.ospke = cr4 & X86_CR4_PKE,
		.xcr0 = vcpu->xcr0,
	};

	cpuid_guest(vcpu->cpuid, vcpu->cpuid_nent, function, index, &d,
		    &xsave_layout, regs);
}

u64 xvcpu_cpuid_xcr0_allowed(struct xvcpu_vcpu *vcpu)
{
	return cpuid_xcr0_allowed(vcpu->cpuid, vcpu->cpuid_nent,
				  xvcpu_guest_xcr0_supported);
}
