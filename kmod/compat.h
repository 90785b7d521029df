/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel interfaces that differ between the supported kernels
 * (Debian's 6.1 and 6.12), kept in one place.
 */
#ifndef XVCPU_COMPAT_H
#define XVCPU_COMPAT_H

#include <linux/mm.h>

/*
 * load_gs_index() moved to asm/gsseg.h in 6.2; a kernel without
 * CONFIG_PARAVIRT_XXL gets it only from there.
 */
#ifdef XVCPU_HAVE_ASM_GSSEG
#include <asm/gsseg.h>
#endif

/*
 * vm_flags became read-only behind vm_flags_set() in 6.3; Kbuild defines
 * XVCPU_HAVE_VM_FLAGS_SET when the kernel's headers have it.
 */
static inline void xvcpu_vma_set_flags(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#ifdef XVCPU_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * FRED (6.9 on): a host NMI taken by a VM exit goes through the kernel's
 * FRED entry, which exists only with asm/fred.h; Kbuild defines
 * XVCPU_HAVE_ASM_FRED when the headers have it.  Without CONFIG_X86_FRED
 * (Debian's 6.12) both collapse to nothing.
 */
#ifdef XVCPU_HAVE_ASM_FRED
#include <asm/fred.h>
#define xvcpu_host_fred()	cpu_feature_enabled(X86_FEATURE_FRED)
#define xvcpu_fred_nmi()	fred_entry_from_kvm(EVENT_TYPE_NMI, NMI_VECTOR)
#else
#define xvcpu_host_fred()	false
#define xvcpu_fred_nmi()	do { } while (0)
#endif

/*
 * The emergency virtualization-off callback (vmx.c): the kernel calls it
 * on every CPU before kdump, on an emergency restart and when it stops
 * the CPUs for a reboot.  Both supported kernels have the same interface,
 * cpu_emergency_register_virt_callback() with one slot (6.1 since the
 * 6.1.149 stable update; earlier 6.1 kernels had the crash-only pointer
 * crash_vmclear_loaded_vmcss and turned VMX off themselves, and are not
 * supported).  What differs is when KVM takes the slot: kvm_intel as it
 * loads on 6.1; kvm.ko on 6.12 when it turns virtualization on (as
 * kvm_intel loads, or at the first VM with enable_virt_at_load=0).  Both
 * happen only while kvm.ko is loaded, which vmx.c tells by its module
 * name and by one of its exported symbols, the same on both kernels.
 */
#include <asm/reboot.h>
#define XVCPU_KVM_MODULE	"kvm"
#define XVCPU_KVM_SYMBOL	"kvm_rebooting"

#endif /* XVCPU_COMPAT_H */
