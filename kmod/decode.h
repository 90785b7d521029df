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
 * Fill @run for a non-string IN/OUT from its exit qualification (SDM
 * Vol. 3C 28.2.1, Table 28-5) and the guest's RAX.  Returns the operand
 * size in bytes, or 0 for string I/O, which this does not decode.
 */
unsigned int decode_io_exit(u64 qual, u64 rax, struct xvcpu_run *run);

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
