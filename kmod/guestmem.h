/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Work on guest memory that a VM exit needs but its handler cannot do:
 * guest page walks and guest memory take vm->lock, which sleeps, and exit
 * handlers run with preemption off.  The handler saves what it needs from
 * the VMCS here and returns XVCPU_EXIT_GUEST_MEM; the run loop calls
 * xvcpu_guestmem_work() once preemption is back on (guestmem.c).
 */
#ifndef XVCPU_GUESTMEM_H
#define XVCPU_GUESTMEM_H

#include "types.h"

/* Segment registers as the VM-exit instruction information numbers them */
enum {
	GM_SEG_ES, GM_SEG_CS, GM_SEG_SS, GM_SEG_DS, GM_SEG_FS, GM_SEG_GS,
	GM_NR_SEGS
};

/* Guest state at the exit, read from the VMCS by the exit handler */
struct xvcpu_gm_state {
	u64 cr0, cr3, cr4, efer;
	u64 rip, rflags;
	u64 seg_base[GM_NR_SEGS];
	u64 pdpte[4];		/* PAE paging: the PDPTE registers */
	u32 cs_ar;
	u8 cpl;
};

struct xvcpu_guestmem {
	enum {
		GM_WORK_NONE,
		GM_WORK_MMIO_INSN,	/* fetch the instruction of an MMIO exit */
		GM_WORK_STRING_IO,	/* move the data of an INS/OUTS exit */
	} work;
	struct xvcpu_gm_state st;
	/* The string I/O exit being handled */
	u64 io_qual;
	u32 io_insn_info;
	u32 io_insn_len;
	/*
	 * An INS waiting for its data: where it goes (one piece, or two when
	 * one element straddles a page), in address order; the elements
	 * are in the run page in the order the guest moves them.
	 */
	u64 in_gpa[2];
	u32 in_len[2];
	u8 in_size;
	bool in_down;		/* RFLAGS.DF = 1: from the top down */
};

#endif /* XVCPU_GUESTMEM_H */
