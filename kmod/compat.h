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

#endif /* XVCPU_COMPAT_H */
