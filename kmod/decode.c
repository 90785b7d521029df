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
	bool string = qual & VMX_IO_STRING;

	run->exit_reason = XVCPU_EXIT_IO;
	run->io.direction = (qual & VMX_IO_DIRECTION_IN) ? XVCPU_IO_IN :
							   XVCPU_IO_OUT;
	run->io.size = size;
	run->io.port = qual >> VMX_IO_PORT_SHIFT;
	run->io.count = string ? 0 : 1;
	run->io.data = run->io.direction == XVCPU_IO_OUT && !string ?
		       rax & size_mask(size) : 0;
	run->io.data_offset = string ? XVCPU_RUN_IO_DATA_OFFSET : 0;
	run->io.string = string;
	run->io.rep = string && (qual & VMX_IO_REP);
	run->io.pad[0] = 0;
	run->io.pad[1] = 0;
	return size;
}

u64 decode_io_in_result(u64 rax, unsigned int size, u64 data)
{
	/* A 32-bit result zero-extends into RAX; 8 and 16 bits merge */
	if (size == 4)
		return (u32)data;
	return (rax & ~size_mask(size)) | (data & size_mask(size));
}

u64 decode_addr_mask(unsigned int asize)
{
	return size_mask(asize);
}

u64 decode_reg_add(u64 reg, u64 delta, unsigned int asize)
{
	u64 mask = size_mask(asize);

	/* A 32-bit result zero-extends (SDM Vol. 1 3.4.1.1); 16 bits merge */
	if (asize == 4)
		return (u32)(reg + delta);
	return (reg & ~mask) | ((reg + delta) & mask);
}

int decode_string_io_info(u32 info, bool in, unsigned int *asize,
			  unsigned int *seg)
{
	unsigned int a = VMX_IO_INFO_ASIZE(info);

	if (a > 2)
		return -EINVAL;
	*asize = 2U << a;
	/* The segment field is undefined for INS (Table 28-8) */
	*seg = in ? 0 : VMX_IO_INFO_SEG(info);
	return *seg > 5 ? -EINVAL : 0;
}

int decode_string_io_prefixes(const u8 *insn, unsigned int len,
			      unsigned int def_asize, unsigned int *asize,
			      unsigned int *seg)
{
	static const u8 seg_prefix[] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	bool asize_override = false;
	unsigned int i, s;

	*seg = 3;	/* DS */
	for (i = 0; i < len; i++) {
		u8 b = insn[i];

		for (s = 0; s < ARRAY_SIZE(seg_prefix); s++)
			if (b == seg_prefix[s])
				break;
		if (s < ARRAY_SIZE(seg_prefix)) {
			*seg = s;
			continue;
		}
		if (b == 0x67) {
			asize_override = true;
			continue;
		}
		if (b == 0x66 || b == 0xf0 || b == 0xf2 || b == 0xf3 ||
		    (def_asize == 8 && (b & 0xf0) == 0x40))
			continue;
		if (b < 0x6c || b > 0x6f)
			return -EINVAL;
		if (def_asize == 8)
			*asize = asize_override ? 4 : 8;
		else
			*asize = asize_override ? 6 - def_asize : def_asize;
		/* INS stores to ES:(E/R)DI whatever the prefixes say */
		if (b <= 0x6d)
			*seg = 0;
		return 0;
	}
	return -EINVAL;
}

#define IO_PAGE_SIZE	4096U

u32 decode_string_io_count(u64 la, u64 index, unsigned int asize,
			   unsigned int size, bool down, u64 remaining)
{
	u64 mask = size_mask(asize);
	u64 off = la & (IO_PAGE_SIZE - 1);
	u64 n = XVCPU_RUN_IO_DATA_SIZE / size;
	u64 page, wrap;

	index &= mask;
	if (!down) {
		page = (IO_PAGE_SIZE - off) / size;
		wrap = asize == 8 ? n : (mask - index + 1) / size;
	} else {
		page = off + size <= IO_PAGE_SIZE ? off / size + 1 : 0;
		if (asize == 8)
			wrap = n;
		else
			wrap = index + size - 1 <= mask ? index / size + 1 : 0;
	}
	if (n > remaining)
		n = remaining;
	if (n > page)
		n = page;
	if (n > wrap)
		n = wrap;
	return n ? n : 1;
}

void decode_ept_violation(u64 qual, u64 gpa, u64 gla, struct xvcpu_run *run)
{
	unsigned int i;

	run->exit_reason = XVCPU_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.access = (qual & VMX_EPT_VIOL_READ ? XVCPU_MMIO_READ : 0) |
			   (qual & VMX_EPT_VIOL_WRITE ? XVCPU_MMIO_WRITE : 0) |
			   (qual & VMX_EPT_VIOL_FETCH ? XVCPU_MMIO_FETCH : 0);
	run->mmio.linear_valid = !!(qual & VMX_EPT_VIOL_LINEAR_VALID);
	run->mmio.linear_addr = run->mmio.linear_valid ? gla : 0;
	run->mmio.insn_len = 0;
	run->mmio.pad[0] = 0;
	run->mmio.pad[1] = 0;
	for (i = 0; i < ARRAY_SIZE(run->mmio.insn); i++)
		run->mmio.insn[i] = 0;
}

static bool exit_in(u32 basic, const u8 *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == basic)
			return true;
	return false;
}

/* Exits caused by an instruction: the instruction length is defined. */
static const u8 insn_exits[] = {
	VMX_EXIT_TASK_SWITCH, VMX_EXIT_CPUID, VMX_EXIT_GETSEC, VMX_EXIT_HLT,
	VMX_EXIT_INVD, VMX_EXIT_INVLPG, VMX_EXIT_RDPMC, VMX_EXIT_RDTSC,
	VMX_EXIT_VMCALL, VMX_EXIT_VMCLEAR, VMX_EXIT_VMLAUNCH,
	VMX_EXIT_VMPTRLD, VMX_EXIT_VMPTRST, VMX_EXIT_VMREAD,
	VMX_EXIT_VMRESUME, VMX_EXIT_VMWRITE, VMX_EXIT_VMXOFF, VMX_EXIT_VMXON,
	VMX_EXIT_CR_ACCESS, VMX_EXIT_DR_ACCESS, VMX_EXIT_IO_INSTRUCTION,
	VMX_EXIT_RDMSR, VMX_EXIT_WRMSR, VMX_EXIT_MWAIT, VMX_EXIT_MONITOR,
	VMX_EXIT_PAUSE, VMX_EXIT_GDTR_IDTR, VMX_EXIT_LDTR_TR,
	VMX_EXIT_INVEPT, VMX_EXIT_RDTSCP, VMX_EXIT_INVVPID, VMX_EXIT_WBINVD,
	VMX_EXIT_XSETBV, VMX_EXIT_RDRAND, VMX_EXIT_INVPCID, VMX_EXIT_VMFUNC,
	VMX_EXIT_ENCLS, VMX_EXIT_RDSEED, VMX_EXIT_XSAVES, VMX_EXIT_XRSTORS,
	VMX_EXIT_UMWAIT, VMX_EXIT_TPAUSE, VMX_EXIT_LOADIWKEY,
};

/* Exits that fill the VM-exit instruction-information field (28.2.5). */
static const u8 insn_info_exits[] = {
	VMX_EXIT_VMCLEAR, VMX_EXIT_VMPTRLD, VMX_EXIT_VMPTRST, VMX_EXIT_VMREAD,
	VMX_EXIT_VMWRITE, VMX_EXIT_VMXON, VMX_EXIT_GDTR_IDTR,
	VMX_EXIT_LDTR_TR, VMX_EXIT_INVEPT, VMX_EXIT_INVVPID,
	VMX_EXIT_RDRAND, VMX_EXIT_INVPCID, VMX_EXIT_RDSEED, VMX_EXIT_XSAVES,
	VMX_EXIT_XRSTORS, VMX_EXIT_UMWAIT, VMX_EXIT_TPAUSE,
	VMX_EXIT_LOADIWKEY,
};

#define INTR_INFO_ERROR_CODE_VALID	BIT_ULL(11)
#define INTR_TYPE_SOFT_INTR		4
#define INTR_TYPE_PRIV_SOFT_EXCEPTION	5
#define INTR_TYPE_SOFT_EXCEPTION	6

void decode_exit_info_sanitize(struct xvcpu_exit_info *info)
{
	u32 basic = info->exit_reason & VMX_EXIT_REASON_BASIC_MASK;
	bool entry_failed = info->exit_reason & VMX_EXIT_REASON_ENTRY_FAIL;
	bool string_io = basic == VMX_EXIT_IO_INSTRUCTION &&
			 (info->exit_qualification & VMX_IO_STRING);
	u32 intr_type = (info->intr_info >> 8) & 7;
	bool insn = exit_in(basic, insn_exits, ARRAY_SIZE(insn_exits)) ||
		    (basic == VMX_EXIT_EXCEPTION_NMI &&
		     (info->intr_info & VMX_INTR_INFO_VALID) &&
		     (intr_type == INTR_TYPE_SOFT_INTR ||
		      intr_type == INTR_TYPE_PRIV_SOFT_EXCEPTION ||
		      intr_type == INTR_TYPE_SOFT_EXCEPTION));

	info->basic_reason = basic;
	if (entry_failed) {
		/* Only the reason and qualification are defined (27.8) */
		info->guest_linear_address = 0;
		info->guest_physical_address = 0;
		info->intr_info = 0;
		info->idt_vectoring_info = 0;
		insn = false;
	}
	if (!(basic == VMX_EXIT_EPT_VIOLATION || basic == VMX_EXIT_EPT_MISCONFIG))
		info->guest_physical_address = 0;
	if (!((basic == VMX_EXIT_EPT_VIOLATION &&
	       (info->exit_qualification & VMX_EPT_VIOL_LINEAR_VALID)) ||
	      string_io))
		info->guest_linear_address = 0;
	if (!(info->intr_info & VMX_INTR_INFO_VALID))
		info->intr_info = 0;
	if (!info->intr_info || !(info->intr_info & INTR_INFO_ERROR_CODE_VALID))
		info->intr_error_code = 0;
	if (!(info->idt_vectoring_info & VMX_INTR_INFO_VALID))
		info->idt_vectoring_info = 0;
	if (!info->idt_vectoring_info ||
	    !(info->idt_vectoring_info & INTR_INFO_ERROR_CODE_VALID))
		info->idt_vectoring_error_code = 0;
	if (!insn)
		info->instruction_len = 0;
	if (!(exit_in(basic, insn_info_exits,
		      ARRAY_SIZE(insn_info_exits)) || string_io) || entry_failed)
		info->instruction_info = 0;
}
