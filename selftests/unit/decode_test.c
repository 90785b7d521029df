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

TEST(non_string_io_clears_string_fields)
{
	struct xvcpu_run run;

	memset(&run, 0xaa, sizeof(run));
	ASSERT_EQ(1, decode_io_exit(io_qual(1, false, 0x80), 0x42, &run));
	EXPECT_EQ(0, run.io.string);
	EXPECT_EQ(0, run.io.rep);
	EXPECT_EQ(0, run.io.data_offset);
	EXPECT_EQ(0, run.io.pad[0] | run.io.pad[1]);
}

TEST(string_io_is_decoded)
{
	struct xvcpu_run run;

	memset(&run, 0xaa, sizeof(run));
	/* REP OUTSW to port 0x1f0 */
	ASSERT_EQ(2, decode_io_exit(io_qual(2, false, 0x1f0) | VMX_IO_STRING |
				    VMX_IO_REP, 0x1234, &run));
	EXPECT_EQ(XVCPU_EXIT_IO, run.exit_reason);
	EXPECT_EQ(XVCPU_IO_OUT, run.io.direction);
	EXPECT_EQ(0x1f0, run.io.port);
	EXPECT_EQ(1, run.io.string);
	EXPECT_EQ(1, run.io.rep);
	EXPECT_EQ(XVCPU_RUN_IO_DATA_OFFSET, run.io.data_offset);
	EXPECT_EQ(0, run.io.count);
	EXPECT_EQ(0, run.io.data);
	/* INSD without REP */
	ASSERT_EQ(4, decode_io_exit(io_qual(4, true, 0x60) | VMX_IO_STRING,
				    0, &run));
	EXPECT_EQ(XVCPU_IO_IN, run.io.direction);
	EXPECT_EQ(1, run.io.string);
	EXPECT_EQ(0, run.io.rep);
}

TEST(register_updates_by_address_size)
{
	/* 16 bits: only SI changes, wrapping */
	EXPECT_EQ(0x1122334455660002ULL,
		  decode_reg_add(0x112233445566fffeULL, 4, 2));
	EXPECT_EQ(0x112233445566fffcULL,
		  decode_reg_add(0x1122334455660000ULL, -4ULL, 2));
	/* 32 bits: the result zero-extends */
	EXPECT_EQ(0x00000001ULL, decode_reg_add(0xffffffffffffffffULL, 2, 4));
	EXPECT_EQ(0xfffffffeULL, decode_reg_add(0x1100000000000000ULL, -2ULL, 4));
	/* 64 bits */
	EXPECT_EQ(0x100000000ULL, decode_reg_add(0xfffffffcULL, 4, 8));
	EXPECT_EQ(0xffffULL, decode_addr_mask(2));
	EXPECT_EQ(~0ULL, decode_addr_mask(8));
}

TEST(string_io_instruction_information)
{
	unsigned int asize, seg;

	/* Table 28-8: address size in 9:7, segment in 17:15 */
	ASSERT_EQ(0, decode_string_io_info((1 << 7) | (4 << 15), false,
					   &asize, &seg));
	EXPECT_EQ(4, asize);
	EXPECT_EQ(4, seg);			/* FS */
	ASSERT_EQ(0, decode_string_io_info((2 << 7) | (5 << 15), true,
					   &asize, &seg));
	EXPECT_EQ(8, asize);
	EXPECT_EQ(0, seg);			/* INS: always ES */
	ASSERT_EQ(0, decode_string_io_info(3 << 15, false, &asize, &seg));
	EXPECT_EQ(2, asize);
	EXPECT_EQ(3, seg);
	EXPECT_EQ(-EINVAL, decode_string_io_info(3 << 7, false, &asize, &seg));
	EXPECT_EQ(-EINVAL, decode_string_io_info(6 << 15, false, &asize, &seg));
}

TEST(string_io_prefixes)
{
	static const u8 rep_outsb[] = { 0xf3, 0x6e };
	static const u8 fs_a32_outsw[] = { 0x66, 0x64, 0x67, 0x6f };
	static const u8 rex_outsd[] = { 0xf3, 0x48, 0x6f };
	static const u8 es_insb_a16[] = { 0x2e, 0x67, 0x6c };
	static const u8 not_string[] = { 0xf3, 0x90 };
	unsigned int asize, seg;

	ASSERT_EQ(0, decode_string_io_prefixes(rep_outsb, 2, 4, &asize, &seg));
	EXPECT_EQ(4, asize);
	EXPECT_EQ(3, seg);			/* DS by default */
	ASSERT_EQ(0, decode_string_io_prefixes(fs_a32_outsw, 4, 2, &asize,
					       &seg));
	EXPECT_EQ(4, asize);			/* 67 in 16-bit code */
	EXPECT_EQ(4, seg);
	ASSERT_EQ(0, decode_string_io_prefixes(fs_a32_outsw, 4, 8, &asize,
					       &seg));
	EXPECT_EQ(4, asize);			/* 67 in 64-bit code */
	ASSERT_EQ(0, decode_string_io_prefixes(rex_outsd, 3, 8, &asize, &seg));
	EXPECT_EQ(8, asize);
	/* REX is an opcode (DEC EAX) outside 64-bit mode */
	EXPECT_EQ(-EINVAL, decode_string_io_prefixes(rex_outsd, 3, 4, &asize,
						     &seg));
	ASSERT_EQ(0, decode_string_io_prefixes(es_insb_a16, 3, 4, &asize,
					       &seg));
	EXPECT_EQ(2, asize);
	EXPECT_EQ(0, seg);			/* INS ignores the override */
	EXPECT_EQ(-EINVAL, decode_string_io_prefixes(not_string, 2, 4, &asize,
						     &seg));
	EXPECT_EQ(-EINVAL, decode_string_io_prefixes(rep_outsb, 1, 4, &asize,
						     &seg));
}

TEST(string_io_count_limits)
{
	/* Upwards from a page start: the run-page buffer limits first */
	EXPECT_EQ(2048, decode_string_io_count(0x10000, 0x10000, 8, 1, false,
					       5000));
	EXPECT_EQ(512, decode_string_io_count(0x10000, 0x10000, 8, 4, false,
					      5000));
	EXPECT_EQ(7, decode_string_io_count(0x10000, 0x10000, 8, 2, false, 7));
	/* The page end: 0x100 bytes left */
	EXPECT_EQ(64, decode_string_io_count(0x10f00, 0x10f00, 8, 4, false,
					     1000));
	/* An element that straddles the page: one, alone */
	EXPECT_EQ(1, decode_string_io_count(0x10ffe, 0x10ffe, 8, 4, false,
					    1000));
	/* Downwards: elements at la, la - size, ... down to the page start */
	EXPECT_EQ(3, decode_string_io_count(0x10008, 0x10008, 8, 4, true,
					    1000));
	EXPECT_EQ(1, decode_string_io_count(0x10000, 0x10000, 8, 2, true,
					    1000));
	EXPECT_EQ(1, decode_string_io_count(0x10ffe, 0x10ffe, 8, 4, true,
					    1000));
	EXPECT_EQ(1024, decode_string_io_count(0x10ffe, 0x10ffe, 8, 2, true,
					       5000));
	/* A 16-bit index wraps at 0xffff: upwards, 4 bytes left */
	EXPECT_EQ(2, decode_string_io_count(0x2fffc, 0xfffc, 2, 2, false,
					    100));
	/* ... and downwards at 0 */
	EXPECT_EQ(3, decode_string_io_count(0x20004, 0x0004, 2, 2, true, 100));
	/* 32-bit index near 4 GiB */
	EXPECT_EQ(4, decode_string_io_count(0xfffffff0, 0xfffffff0, 4, 4,
					    false, 100));
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
	EXPECT_EQ(0, run.mmio.pad[0] | run.mmio.pad[1]);
	/* The instruction bytes are the run loop's to fill */
	EXPECT_EQ(0, run.mmio.insn_len);
	for (unsigned int i = 0; i < sizeof(run.mmio.insn); i++)
		EXPECT_EQ(0, run.mmio.insn[i]);

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
