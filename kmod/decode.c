// SPDX-License-Identifier: GPL-2.0
/*
 * Decoding of VM-exit information into the run page.
 */
#include "decode.h"
#include "../include/xvcpu/vmx.h"

static u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

unsigned int decode_io_exit(u64 qual, u64 rax, struct xvcpu_run *run)
{
	unsigned int size = (qual & VMX_IO_SIZE_MASK) + 1;

	if (qual & VMX_IO_STRING)
		return 0;
	run->exit_reason = XVCPU_EXIT_IO;
	run->io.direction = (qual & VMX_IO_DIRECTION_IN) ? XVCPU_IO_IN :
							   XVCPU_IO_OUT;
	run->io.size = size;
	run->io.port = qual >> VMX_IO_PORT_SHIFT;
	run->io.count = 1;
	run->io.data = run->io.direction == XVCPU_IO_OUT ?
		       rax & size_mask(size) : 0;
	return size;
}

u64 decode_io_in_result(u64 rax, unsigned int size, u64 data)
{
	/* A 32-bit result zero-extends into RAX; 8 and 16 bits merge */
	if (size == 4)
		return (u32)data;
	return (rax & ~size_mask(size)) | (data & size_mask(size));
}

void decode_ept_violation(u64 qual, u64 gpa, u64 gla, struct xvcpu_run *run)
{
	run->exit_reason = XVCPU_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.access = (qual & VMX_EPT_VIOL_READ ? XVCPU_MMIO_READ : 0) |
			   (qual & VMX_EPT_VIOL_WRITE ? XVCPU_MMIO_WRITE : 0) |
			   (qual & VMX_EPT_VIOL_FETCH ? XVCPU_MMIO_FETCH : 0);
	run->mmio.linear_valid = !!(qual & VMX_EPT_VIOL_LINEAR_VALID);
	run->mmio.linear_addr = run->mmio.linear_valid ? gla : 0;
	run->mmio.pad[0] = 0;
	run->mmio.pad[1] = 0;
	run->mmio.pad[2] = 0;
}
