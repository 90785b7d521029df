/* SPDX-License-Identifier: GPL-2.0 */
/* What switch.c asks of vmenter.S for one entry (its @flags). */
#ifndef XVCPU_VMENTER_H
#define XVCPU_VMENTER_H

#include <linux/const.h>

/* VMRESUME, not VMLAUNCH: the VMCS is launched */
#define XVCPU_ENTER_VMRESUME_BIT	0
/* Rewrite the host's SPEC_CTRL after the exit (legacy IBRS) */
#define XVCPU_ENTER_SPEC_CTRL_BIT	1

#define XVCPU_ENTER_VMRESUME		_BITUL(XVCPU_ENTER_VMRESUME_BIT)
#define XVCPU_ENTER_SPEC_CTRL		_BITUL(XVCPU_ENTER_SPEC_CTRL_BIT)

#endif /* XVCPU_VMENTER_H */
