// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory work of VM exits, done by the run loop once preemption is
 * back on (guest page walks and guest memory take vm->lock): the
 * instruction bytes of an MMIO exit, string port I/O (INS/OUTS), and the
 * XVCPU_TRANSLATE ioctl.  Exit handlers only save the guest state this
 * needs (xvcpu_gm_save_state()).
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "decode.h"
#include "gwalk.h"
#include "xvcpu.h"
#include "vmcs.h"

#define MAX_INSN_LEN	15

static const u16 seg_base_fields[GM_NR_SEGS] = {
	VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
	VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
};

/* PAE paging: CR0.PG, CR4.PAE, not IA-32e mode (SDM Vol. 3A 5.1.1) */
static bool gm_pae(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * The PDPTE registers of a PAE guest: the VMCS has them after every exit
 * with EPT (SDM Vol. 3C 28.3.4) and from SET_SREGS.  VMCS current.
 */
static void gm_read_pdptes(u64 *pdpte)
{
	pdpte[0] = vmcs_read(VMCS_GUEST_PDPTE0);
	pdpte[1] = vmcs_read(VMCS_GUEST_PDPTE1);
	pdpte[2] = vmcs_read(VMCS_GUEST_PDPTE2);
	pdpte[3] = vmcs_read(VMCS_GUEST_PDPTE3);
}

/* From an exit handler: preemption off, the VMCS current. */
void xvcpu_gm_save_state(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_gm_state *st = &vcpu->gm.st;
	int i;

	/* The values the guest's MMU uses, not the read shadows */
	st->cr0 = vmcs_read(VMCS_GUEST_CR0);
	st->cr3 = vmcs_read(VMCS_GUEST_CR3);
	st->cr4 = vmcs_read(VMCS_GUEST_CR4);
	st->efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	st->rip = vmcs_read(VMCS_GUEST_RIP);
	st->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	for (i = 0; i < GM_NR_SEGS; i++)
		st->seg_base[i] = vmcs_read(seg_base_fields[i]);
	if (gm_pae(st->cr0, st->cr4, st->efer))
		gm_read_pdptes(st->pdpte);
	st->cs_ar = vmcs_read(VMCS_GUEST_CS_AR);
	st->cpl = vmcs_guest_cpl();
}

/* 64-bit mode: IA-32e mode and a 64-bit code segment (SDM Vol. 3A 2.2) */
static bool gm_64bit(const struct xvcpu_gm_state *st)
{
	return (st->efer & EFER_LMA) && (st->cs_ar & VMCS_AR_L);
}

static void gm_walk_cpu(struct gwalk_cpu *c, u64 cr0, u64 cr3, u64 cr4,
			u64 efer, u64 rflags, const u64 *pdptes)
{
	c->cr0 = cr0;
	c->cr3 = cr3;
	c->cr4 = cr4;
	c->efer = efer;
	c->ac = rflags & X86_EFLAGS_AC;
	/* What the processor's page walks use: the host's (CPUID 0x80000008) */
	c->maxphyaddr = boot_cpu_data.x86_phys_bits;
	c->gbpages = boot_cpu_has(X86_FEATURE_GBPAGES);
	c->pdptes = gm_pae(cr0, cr4, efer) ? pdptes : NULL;
}

static int gm_read_entry(void *ctx, u64 gpa, unsigned int size, u64 *val)
{
	u64 v = 0;
	int r = xvcpu_vm_read_phys(ctx, gpa, &v, size);

	if (!r)
		*val = v;
	return r;
}

/* A walk with the guest state saved at the exit */
static int gm_walk(struct xvcpu_vcpu *vcpu, u64 la, u32 access,
		   struct gwalk_result *res)
{
	const struct xvcpu_gm_state *st = &vcpu->gm.st;
	struct gwalk_cpu c;

	gm_walk_cpu(&c, st->cr0, st->cr3, st->cr4, st->efer, st->rflags,
		    st->pdpte);
	return gwalk(&c, la, access, gm_read_entry, vcpu->vm, res);
}

static u32 gm_cpl_access(const struct xvcpu_gm_state *st)
{
	return st->cpl == 3 ? XVCPU_ACCESS_USER : 0;
}

/* The next linear address in the guest's mode: 32 bits wrap outside it */
static u64 gm_la_add(const struct xvcpu_gm_state *st, u64 la, u64 n)
{
	return gm_64bit(st) ? la + n : (u32)(la + n);
}

/*
 * Up to @max bytes of the instruction at CS:RIP, fetched as the guest
 * would at its CPL; the bytes stop where a page cannot be fetched from or
 * is not guest memory.  Returns how many were read.
 */
static unsigned int gm_fetch_insn(struct xvcpu_vcpu *vcpu, u8 *buf,
				  unsigned int max)
{
	const struct xvcpu_gm_state *st = &vcpu->gm.st;
	u32 access = XVCPU_ACCESS_FETCH | gm_cpl_access(st);
	u64 la = gm_64bit(st) ? st->rip :
		 (u32)(st->seg_base[GM_SEG_CS] + st->rip);
	unsigned int got = 0;

	while (got < max) {
		unsigned int n = min_t(u64, max - got,
				       PAGE_SIZE - offset_in_page(la));
		struct gwalk_result res;

		if (gm_walk(vcpu, la, access, &res) ||
		    xvcpu_vm_read_phys(vcpu->vm, res.gpa, buf + got, n))
			break;
		got += n;
		la = gm_la_add(st, la, n);
	}
	return got;
}

/* MMIO exit (decoded already): the instruction bytes at CS:RIP */
static int gm_mmio_insn(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;
	u8 insn[MAX_INSN_LEN];
	unsigned int len;

	len = gm_fetch_insn(vcpu, insn, sizeof(insn));
	memcpy(run->mmio.insn, insn, len);
	run->mmio.insn_len = len;
	return 0;
}

/* The VMCS of @vcpu, current with preemption off, to update the guest */
static void gm_vmcs_begin(struct xvcpu_vcpu *vcpu)
{
	preempt_disable();
	vmcs_load(vcpu);
}

static void gm_vmcs_end(void)
{
	preempt_enable();
}

/* What xvcpu cannot do for this exit goes to userspace as it is */
static int gm_unhandled(struct xvcpu_vcpu *vcpu)
{
	gm_vmcs_begin(vcpu);
	vmcs_report_unhandled(vcpu);
	gm_vmcs_end();
	return 0;
}

/* ---- string I/O: INS and OUTS (SDM Vol. 2 "INS", "OUTS", "REP") ---- */

/* From handle_io() in exit.c: preemption off, the VMCS current. */
int xvcpu_gm_string_io_exit(struct xvcpu_vcpu *vcpu, u64 qual)
{
	struct xvcpu_guestmem *gm = &vcpu->gm;

	xvcpu_gm_save_state(vcpu);
	gm->io_qual = qual;
	/* Defined for INS/OUTS only where IA32_VMX_BASIC[54] says so */
	gm->io_insn_info = vmx_caps.ins_outs_info ?
			   vmcs_read(VMCS_EXIT_INSTRUCTION_INFO) : 0;
	gm->io_insn_len = vmcs_read(VMCS_EXIT_INSTRUCTION_LEN);
	gm->work = GM_WORK_STRING_IO;
	return XVCPU_EXIT_GUEST_MEM;
}

/* Address size and segment of the INS/OUTS (XVCPU_SEG order) */
static int gm_string_operands(struct xvcpu_vcpu *vcpu, bool in,
			      unsigned int *asize, unsigned int *seg)
{
	const struct xvcpu_gm_state *st = &vcpu->gm.st;
	u8 insn[MAX_INSN_LEN];
	unsigned int def, len;

	if (vmx_caps.ins_outs_info)
		return decode_string_io_info(vcpu->gm.io_insn_info, in, asize,
					     seg);
	/* Else from the prefixes; the default is CS.L / CS.D's */
	def = gm_64bit(&vcpu->gm.st) ? 8 : (st->cs_ar & VMCS_AR_DB) ? 4 : 2;
	len = gm_fetch_insn(vcpu, insn, min_t(u32, vcpu->gm.io_insn_len,
					      sizeof(insn)));
	return decode_string_io_prefixes(insn, len, def, asize, seg);
}

/* #PF on the guest's buffer: CR2 and the error code (SDM Vol. 3A 5.7) */
static int gm_page_fault(struct xvcpu_vcpu *vcpu, u64 la, u32 error_code)
{
	vcpu->cr2 = la;
	xvcpu_queue_exception(vcpu, X86_TRAP_PF, error_code);
	return 1;
}

/*
 * Translate [@lo, @lo + @bytes) (one page, or two when a single element
 * straddles) for the guest's access; @first is the address the guest
 * touches first, which a #PF on the first page reports.  Returns 0 with
 * the pieces in @gpa/@len, 1 after queueing an exception for the guest,
 * or 0 with the exit made an internal error (@len[0] == 0).
 */
static int gm_string_translate(struct xvcpu_vcpu *vcpu, u64 lo, u32 bytes,
			       u64 first, bool in, unsigned int seg,
			       u64 *gpa, u32 *len)
{
	const struct xvcpu_gm_state *st = &vcpu->gm.st;
	u32 access = (in ? XVCPU_ACCESS_WRITE : 0) | gm_cpl_access(st);
	u64 la = lo;
	int i, r;

	len[0] = min_t(u64, bytes, PAGE_SIZE - offset_in_page(lo));
	len[1] = bytes - len[0];
	for (i = 0; i < 2 && len[i]; i++) {
		struct gwalk_result res;

		r = gm_walk(vcpu, la, access, &res);
		if (r == GWALK_FAULT)
			return gm_page_fault(vcpu, i ? la : first,
					     res.error_code);
		if (r == GWALK_NONCANONICAL) {
			/* SDM Vol. 2 "INS"/"OUTS": #GP(0), #SS(0) for SS */
			xvcpu_queue_exception(vcpu, seg == GM_SEG_SS ?
					      X86_TRAP_SS : X86_TRAP_GP, 0);
			return 1;
		}
		/* Buffers in MMIO or read-only memory are not emulated */
		if (r || xvcpu_vm_check_phys(vcpu->vm, res.gpa, len[i], in)) {
			len[0] = 0;
			return gm_unhandled(vcpu);
		}
		gpa[i] = res.gpa;
		la = gm_la_add(st, la, len[i]);
	}
	return 0;
}

/* Reverse the order of @count elements of @size bytes at @p */
static void gm_reverse_elements(u8 *p, u32 count, unsigned int size)
{
	u32 i, j;
	u8 t;

	for (i = 0; i < count / 2; i++) {
		u8 *a = p + i * size, *b = p + (count - 1 - i) * size;

		for (j = 0; j < size; j++) {
			t = a[j];
			a[j] = b[j];
			b[j] = t;
		}
	}
}

/*
 * INS/OUTS: as many elements as fit the run page and stay in one page of
 * the guest's buffer move per exit, in the direction of RFLAGS.DF.  OUTS
 * reads them now; INS leaves them to userspace and the next XVCPU_RUN
 * (xvcpu_gm_complete_ins()).  RSI or RDI, and RCX for REP, are updated
 * at the address size; RIP moves on when the instruction is done, else
 * the guest executes it again for the rest.  The processor checked CPL
 * and the TSS I/O permissions before the exit (SDM Vol. 3C 26.1.1);
 * segment limits and rights are not checked here.  The INS buffer is
 * checked for a #PF before userspace reads the port, not after.
 */
static int gm_string_io(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_guestmem *gm = &vcpu->gm;
	const struct xvcpu_gm_state *st = &gm->st;
	struct xvcpu_run *run = vcpu->run;
	unsigned long *g = vcpu->gprs;
	bool in = gm->io_qual & VMX_IO_DIRECTION_IN;
	bool rep = gm->io_qual & VMX_IO_REP;
	bool down = st->rflags & X86_EFLAGS_DF;
	unsigned int size = (gm->io_qual & VMX_IO_SIZE_MASK) + 1;
	unsigned int reg = in ? GPR_RDI : GPR_RSI;
	u8 *data = (u8 *)run + XVCPU_RUN_IO_DATA_OFFSET;
	unsigned int asize, seg;
	u64 mask, remaining, index, base, la, lo, gpa[2];
	u32 count, bytes, len[2];
	int r;

	if (gm_string_operands(vcpu, in, &asize, &seg))
		return gm_unhandled(vcpu);
	mask = decode_addr_mask(asize);
	remaining = rep ? g[GPR_RCX] & mask : 1;
	if (!remaining) {
		gm_vmcs_begin(vcpu);
		vmcs_skip_instruction();
		gm_vmcs_end();
		return 1;
	}

	/* In 64-bit mode only FS and GS have a base (SDM Vol. 1 3.4.2.1) */
	index = g[reg] & mask;
	base = gm_64bit(st) && seg != GM_SEG_FS && seg != GM_SEG_GS ? 0 :
	       st->seg_base[seg];
	la = gm_la_add(st, base, index);
	count = decode_string_io_count(la, index, asize, size, down,
				       remaining);
	bytes = count * size;
	lo = down ? la - (bytes - size) : la;

	r = gm_string_translate(vcpu, lo, bytes, la, in, seg, gpa, len);
	if (r || !len[0])
		return r;

	if (in) {
		gm->in_gpa[0] = gpa[0];
		gm->in_gpa[1] = gpa[1];
		gm->in_len[0] = len[0];
		gm->in_len[1] = len[1];
		gm->in_size = size;
		gm->in_down = down;
		vcpu->pending = PENDING_STRING_IN;
	} else {
		if (xvcpu_vm_read_phys(vcpu->vm, gpa[0], data, len[0]) ||
		    (len[1] && xvcpu_vm_read_phys(vcpu->vm, gpa[1],
						  data + len[0], len[1])))
			return gm_unhandled(vcpu);
		/* In the order the guest moves them */
		if (down)
			gm_reverse_elements(data, count, size);
	}

	decode_io_exit(gm->io_qual, 0, run);
	run->io.count = count;
	g[reg] = decode_reg_add(g[reg], down ? -(u64)bytes : bytes, asize);
	if (rep)
		g[GPR_RCX] = decode_reg_add(g[GPR_RCX], -(u64)count, asize);
	if (!rep || remaining == count) {
		gm_vmcs_begin(vcpu);
		vmcs_skip_instruction();
		gm_vmcs_end();
	}
	return 0;
}

/*
 * The next XVCPU_RUN after an INS exit, before entering the guest: the
 * elements userspace put in the run page go to the guest's buffer.
 */
int xvcpu_gm_complete_ins(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_guestmem *gm = &vcpu->gm;
	u8 *data = (u8 *)vcpu->run + XVCPU_RUN_IO_DATA_OFFSET;
	u32 bytes = gm->in_len[0] + gm->in_len[1];
	u8 *buf = data, *tmp = NULL;
	int r;

	vcpu->pending = PENDING_NONE;
	if (gm->in_down) {
		/* The guest filled its buffer from the top down */
		tmp = kmemdup(data, bytes, GFP_KERNEL_ACCOUNT);
		if (!tmp)
			return -ENOMEM;
		gm_reverse_elements(tmp, bytes / gm->in_size, gm->in_size);
		buf = tmp;
	}
	r = xvcpu_vm_write_phys(vcpu->vm, gm->in_gpa[0], buf, gm->in_len[0]);
	if (!r && gm->in_len[1])
		r = xvcpu_vm_write_phys(vcpu->vm, gm->in_gpa[1],
					buf + gm->in_len[0], gm->in_len[1]);
	kfree(tmp);
	if (r)
		return xvcpu_refuse(r, "vCPU %u: INS buffer at GPA %#llx is gone",
				    vcpu->id, gm->in_gpa[0]);
	return 0;
}

/*
 * The run loop, after an exit handler returned XVCPU_EXIT_GUEST_MEM (and
 * after an EPT violation no slot holds): > 0 to re-enter the guest, 0 to
 * return to userspace.
 */
int xvcpu_guestmem_work(struct xvcpu_vcpu *vcpu)
{
	int work = vcpu->gm.work;

	vcpu->gm.work = GM_WORK_NONE;
	switch (work) {
	case GM_WORK_MMIO_INSN:
		return gm_mmio_insn(vcpu);
	case GM_WORK_STRING_IO:
		return gm_string_io(vcpu);
	default:
		return 0;
	}
}

/* ---- XVCPU_TRANSLATE ---- */

#define ACCESS_KNOWN	(XVCPU_ACCESS_WRITE | XVCPU_ACCESS_USER | \
			 XVCPU_ACCESS_FETCH)

int xvcpu_vcpu_translate(struct xvcpu_vcpu *vcpu,
			 struct xvcpu_translation *tr)
{
	struct gwalk_result res;
	struct gwalk_cpu c;
	u64 pdpte[4];
	int r;

	if (tr->pad || tr->reserved[0] || tr->reserved[1])
		return xvcpu_refuse(-EINVAL, "xvcpu_translation: pad, reserved must be 0");
	if ((tr->access & ~ACCESS_KNOWN) ||
	    ((tr->access & XVCPU_ACCESS_WRITE) &&
	     (tr->access & XVCPU_ACCESS_FETCH)))
		return xvcpu_refuse(-EINVAL, "TRANSLATE: bad access %#x",
				    tr->access);

	preempt_disable();
	vmcs_load(vcpu);
	gm_read_pdptes(pdpte);
	gm_walk_cpu(&c, vmcs_read(VMCS_GUEST_CR0), vmcs_read(VMCS_GUEST_CR3),
		    vmcs_read(VMCS_GUEST_CR4), vmcs_read(VMCS_GUEST_IA32_EFER),
		    vmcs_read(VMCS_GUEST_RFLAGS), pdpte);
	vmcs_clear(vcpu);
	preempt_enable();

	r = gwalk(&c, tr->linear_address, tr->access, gm_read_entry, vcpu->vm,
		  &res);
	if (r == GWALK_NONCANONICAL)
		return xvcpu_refuse(-EINVAL, "TRANSLATE: %#llx: not canonical",
				    tr->linear_address);
	if (r < 0)
		return xvcpu_refuse(r, "TRANSLATE: %#llx: page table not in RAM",
				    tr->linear_address);
	tr->valid = r == 0;
	tr->physical_address = res.gpa;
	tr->writable = res.writable;
	tr->user = res.user;
	tr->executable = res.executable;
	tr->error_code = r ? res.error_code : 0;
	tr->page_size = res.page_size;
	return 0;
}
