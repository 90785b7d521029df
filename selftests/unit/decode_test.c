// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmod/decode.c: exit qualifications as the SDM defines
 * them (Vol. 3C 28.2.1, Tables 28-5 and 28-7) into run-page fields.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <string.h>
#include "kselftest_harness.h"
#include "kmod/decode.h"
#include "include/xvcpu/vmx.h"

/* An I/O qualification: size-1 in 2:0, IN in 3, string 4, port 31:16. */
static u64 io_qual(unsigned int size, bool in, unsigned int port)
{
	return (size - 1) | (in ? 8 : 0) | ((u64)port << 16);
}

TEST(out_sizes_mask_rax)
{
	struct xvcpu_run run;
	unsigned int size;

	for (size = 1; size <= 4; size *= 2) {
		memset(&run, 0xaa, sizeof(run));
		ASSERT_EQ(size, decode_io_exit(io_qual(size, false, 0x3f8),
					       0x1122334455667788ULL, &run));
		EXPECT_EQ(XVCPU_EXIT_IO, run.exit_reason);
		EXPECT_EQ(XVCPU_IO_OUT, run.io.direction);
		EXPECT_EQ(size, run.io.size);
		EXPECT_EQ(0x3f8, run.io.port);
		EXPECT_EQ(1, run.io.count);
		EXPECT_EQ(0x1122334455667788ULL & ((1ULL << (size * 8)) - 1),
			  run.io.data);
	}
}

TEST(in_clears_data_and_port_is_16_bits)
{
	struct xvcpu_run run;

	memset(&run, 0xaa, sizeof(run));
	ASSERT_EQ(2, decode_io_exit(io_qual(2, true, 0xffff), ~0ULL, &run));
	EXPECT_EQ(XVCPU_IO_IN, run.io.direction);
	EXPECT_EQ(0xffff, run.io.port);
	EXPECT_EQ(0, run.io.data);
}

TEST(string_io_is_not_decoded)
{
	struct xvcpu_run run = { .exit_reason = 99 };

	EXPECT_EQ(0, decode_io_exit(io_qual(1, false, 0x80) | VMX_IO_STRING,
				    0, &run));
	EXPECT_EQ(99, run.exit_reason);
}

TEST(in_result_merges_or_zero_extends)
{
	u64 rax = 0x1122334455667788ULL;

	EXPECT_EQ(0x11223344556677abULL, decode_io_in_result(rax, 1, 0xffab));
	EXPECT_EQ(0x112233445566abcdULL, decode_io_in_result(rax, 2, 0xabcd));
	EXPECT_EQ(0x00000000deadbeefULL,
		  decode_io_in_result(rax, 4, 0xffffffffdeadbeefULL));
}

TEST(ept_violation_access_and_linear)
{
	struct xvcpu_run run;

	memset(&run, 0xaa, sizeof(run));
	/* a write, linear address valid (bit 7), permissions bits ignored */
	decode_ept_violation(VMX_EPT_VIOL_WRITE | VMX_EPT_VIOL_LINEAR_VALID |
			     0x38, 0xfee00000, 0xffffffffdead0000ULL, &run);
	EXPECT_EQ(XVCPU_EXIT_MMIO, run.exit_reason);
	EXPECT_EQ(0xfee00000, run.mmio.phys_addr);
	EXPECT_EQ(XVCPU_MMIO_WRITE, run.mmio.access);
	EXPECT_EQ(1, run.mmio.linear_valid);
	EXPECT_EQ(0xffffffffdead0000ULL, run.mmio.linear_addr);
	EXPECT_EQ(0, run.mmio.pad[0] | run.mmio.pad[1] | run.mmio.pad[2]);

	/* an instruction fetch without a linear address */
	decode_ept_violation(VMX_EPT_VIOL_READ | VMX_EPT_VIOL_FETCH,
			     0x100000000ULL, 0x1234, &run);
	EXPECT_EQ(XVCPU_MMIO_READ | XVCPU_MMIO_FETCH, run.mmio.access);
	EXPECT_EQ(0, run.mmio.linear_valid);
	EXPECT_EQ(0, run.mmio.linear_addr);
}

/* Raw fields as a previous EPT violation left them in the VMCS. */
static struct xvcpu_exit_info stale_info(u32 reason)
{
	struct xvcpu_exit_info info = {
		.exit_reason = reason,
		.exit_qualification = 0,
		.guest_linear_address = 0xdead000,
		.guest_physical_address = 0xfee00000,
		.intr_info = 0x30e,		/* #PF, not valid */
		.intr_error_code = 7,
		.idt_vectoring_info = 0x80000b0e,	/* valid, with error code */
		.idt_vectoring_error_code = 2,
		.instruction_len = 3,
		.instruction_info = 0x1234,
	};
	return info;
}

TEST(hlt_exit_info_has_no_stale_addresses)
{
	struct xvcpu_exit_info info = stale_info(VMX_EXIT_HLT);

	decode_exit_info_sanitize(&info);
	EXPECT_EQ(VMX_EXIT_HLT, info.basic_reason);
	EXPECT_EQ(0, info.guest_physical_address);
	EXPECT_EQ(0, info.guest_linear_address);
	EXPECT_EQ(0, info.intr_info);
	EXPECT_EQ(0, info.intr_error_code);
	EXPECT_EQ(0x80000b0e, info.idt_vectoring_info);
	EXPECT_EQ(2, info.idt_vectoring_error_code);
	EXPECT_EQ(3, info.instruction_len);	/* HLT is an instruction exit */
	EXPECT_EQ(0, info.instruction_info);
}

TEST(ept_violation_keeps_its_addresses)
{
	struct xvcpu_exit_info info = stale_info(VMX_EXIT_EPT_VIOLATION);

	info.exit_qualification = VMX_EPT_VIOL_READ;
	decode_exit_info_sanitize(&info);
	EXPECT_EQ(0xfee00000, info.guest_physical_address);
	/* no linear address without qualification bit 7 */
	EXPECT_EQ(0, info.guest_linear_address);
	EXPECT_EQ(0, info.instruction_len);

	info = stale_info(VMX_EXIT_EPT_VIOLATION);
	info.exit_qualification = VMX_EPT_VIOL_LINEAR_VALID;
	decode_exit_info_sanitize(&info);
	EXPECT_EQ(0xdead000, info.guest_linear_address);
}

TEST(entry_failure_keeps_reason_and_qualification_only)
{
	struct xvcpu_exit_info info =
		stale_info(VMX_EXIT_REASON_ENTRY_FAIL |
			   VMX_EXIT_INVALID_GUEST_STATE);

	info.exit_qualification = 3;
	decode_exit_info_sanitize(&info);
	EXPECT_EQ(VMX_EXIT_INVALID_GUEST_STATE, info.basic_reason);
	EXPECT_EQ(3, info.exit_qualification);
	EXPECT_EQ(0, info.guest_physical_address | info.guest_linear_address |
		  info.intr_info | info.idt_vectoring_info |
		  info.instruction_len | info.instruction_info);
}

TEST_HARNESS_MAIN
