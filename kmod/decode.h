/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decoding of VM-exit information into the run page: pure functions of
 * the raw fields, shared by exit.c and the host-side unit tests.
 */
#ifndef XVCPU_DECODE_H
#define XVCPU_DECODE_H

#include "types.h"
#include "../uapi/xvcpu.h"

/*
 * Fill @run for an I/O exit from its exit qualification (SDM Vol. 3C
 * 28.2.1, Table 28-5) and the guest's RAX.  Returns the operand size in
 * bytes.  IN/OUT: count 1, data the value of an OUT.  INS/OUTS: string,
 * rep and data_offset set, count 0 (the caller knows how many elements
 * move), data 0.
 */
unsigned int decode_io_exit(u64 qual, u64 rax, struct xvcpu_run *run);

/* Guest address sizes in bytes: 2, 4 or 8 */
u64 decode_addr_mask(unsigned int asize);
/* @reg plus @delta as an instruction of address size @asize leaves it */
u64 decode_reg_add(u64 reg, u64 delta, unsigned int asize);

/*
 * INS/OUTS address size and segment (XVCPU_SEG order: ES CS SS DS FS GS)
 * from the VM-exit instruction information (Table 28-8).  Returns 0, or
 * -EINVAL for a reserved address-size encoding.  INS always uses ES.
 */
int decode_string_io_info(u32 info, bool in, unsigned int *asize,
			  unsigned int *seg);

/*
 * The same from the instruction bytes, when the processor does not fill
 * the instruction information (IA32_VMX_BASIC bit 54 clear): prefixes
 * 26/2e/36/3e/64/65 (segment), 67 (address size), 66/f0/f2/f3 and REX,
 * then opcode 6c-6f.  @def_asize is that of the code segment (2 or 4;
 * 8 in 64-bit mode).  -EINVAL if the bytes are not INS/OUTS.
 */
int decode_string_io_prefixes(const u8 *insn, unsigned int len,
			      unsigned int def_asize, unsigned int *asize,
			      unsigned int *seg);

/*
 * How many @size-byte elements one string I/O exit moves (at least 1):
 * at most @remaining, as many as fit in XVCPU_RUN_IO_DATA_SIZE, none past
 * the 4 KiB page of linear address @la in the direction of RFLAGS.DF
 * (@down), and none past a wrap of the index register (value @index,
 * address size @asize).  One element may still straddle a page.
 */
u32 decode_string_io_count(u64 la, u64 index, unsigned int asize,
			   unsigned int size, bool down, u64 remaining);

/* RAX after an IN of @size bytes returned @data (SDM Vol. 2 "IN"). */
u64 decode_io_in_result(u64 rax, unsigned int size, u64 data);

/*
 * Fill @run for an EPT violation from its qualification (Table 28-7), the
 * guest-physical and the guest-linear address fields.
 */
void decode_ept_violation(u64 qual, u64 gpa, u64 gla, struct xvcpu_run *run);

/*
 * Zero the fields of @info that its exit left undefined (SDM Vol. 3C
 * 28.2.1-28.2.5), so that userspace never sees a stale value from an
 * earlier exit.  @info holds the raw values read from the VMCS.
 */
void decode_exit_info_sanitize(struct xvcpu_exit_info *info);

#endif /* XVCPU_DECODE_H */
