// SPDX-License-Identifier: GPL-2.0
/*
 * The checks of the guest-state area that VM entry makes (SDM Vol. 3C
 * 27.3.1), done again in software once the processor has refused an
 * entry with "invalid guest state", to tell userspace which field is at
 * fault.  The processor does not report which rule it found broken, and
 * the SDM gives no order: this one goes section by section, except that
 * RFLAGS comes before the segment registers, since RFLAGS.VM picks the
 * segment rules that apply (27.3.1.2).
 *
 * Not checked: the MSRs of VM-entry controls xvcpu never sets (PERF_
 * GLOBAL_CTRL, BNDCFGS, RTIT_CTL, S_CET, PKRS), SMM, the VMCS link
 * pointer (always all ones here) and the PDPTEs (27.3.1.6; the exit
 * qualification tells those apart).
 */
#include <asm/processor-flags.h>

#include "entrycheck.h"
#include "../include/xvcpu/vmx.h"

#define EFER_SCE	BIT_ULL(0)
#define EFER_LME	BIT_ULL(8)
#define EFER_LMA	BIT_ULL(10)
#define EFER_NXE	BIT_ULL(11)

#define DEBUGCTL_BTF	BIT_ULL(1)

/* Access-rights bits 11:8 and 31:17 (Table 25-2) */
#define AR_RESERVED	0xfffe0f00U
/* RFLAGS bits 63:22, 15, 5 and 3 (27.3.1.4) */
#define RFLAGS_RESERVED	(~0ULL << 22 | BIT_ULL(15) | BIT_ULL(5) | BIT_ULL(3))

/* ---- Reading the fields ---- */

#define F(enc, m)	{ VMCS_##enc, offsetof(struct entrycheck_state, m), #enc }

static const struct state_field {
	u16 enc;
	u16 offset;
	const char *name;
} state_fields[] = {
	F(GUEST_CR0, cr0), F(GUEST_CR3, cr3), F(GUEST_CR4, cr4),
	F(GUEST_DR7, dr7), F(GUEST_RIP, rip), F(GUEST_RFLAGS, rflags),
	F(GUEST_ES_SELECTOR, seg[EC_ES].selector),
	F(GUEST_ES_BASE, seg[EC_ES].base),
	F(GUEST_ES_LIMIT, seg[EC_ES].limit),
	F(GUEST_ES_AR, seg[EC_ES].ar),
	F(GUEST_CS_SELECTOR, seg[EC_CS].selector),
	F(GUEST_CS_BASE, seg[EC_CS].base),
	F(GUEST_CS_LIMIT, seg[EC_CS].limit),
	F(GUEST_CS_AR, seg[EC_CS].ar),
	F(GUEST_SS_SELECTOR, seg[EC_SS].selector),
	F(GUEST_SS_BASE, seg[EC_SS].base),
	F(GUEST_SS_LIMIT, seg[EC_SS].limit),
	F(GUEST_SS_AR, seg[EC_SS].ar),
	F(GUEST_DS_SELECTOR, seg[EC_DS].selector),
	F(GUEST_DS_BASE, seg[EC_DS].base),
	F(GUEST_DS_LIMIT, seg[EC_DS].limit),
	F(GUEST_DS_AR, seg[EC_DS].ar),
	F(GUEST_FS_SELECTOR, seg[EC_FS].selector),
	F(GUEST_FS_BASE, seg[EC_FS].base),
	F(GUEST_FS_LIMIT, seg[EC_FS].limit),
	F(GUEST_FS_AR, seg[EC_FS].ar),
	F(GUEST_GS_SELECTOR, seg[EC_GS].selector),
	F(GUEST_GS_BASE, seg[EC_GS].base),
	F(GUEST_GS_LIMIT, seg[EC_GS].limit),
	F(GUEST_GS_AR, seg[EC_GS].ar),
	F(GUEST_LDTR_SELECTOR, seg[EC_LDTR].selector),
	F(GUEST_LDTR_BASE, seg[EC_LDTR].base),
	F(GUEST_LDTR_LIMIT, seg[EC_LDTR].limit),
	F(GUEST_LDTR_AR, seg[EC_LDTR].ar),
	F(GUEST_TR_SELECTOR, seg[EC_TR].selector),
	F(GUEST_TR_BASE, seg[EC_TR].base),
	F(GUEST_TR_LIMIT, seg[EC_TR].limit),
	F(GUEST_TR_AR, seg[EC_TR].ar),
	F(GUEST_GDTR_BASE, gdtr_base), F(GUEST_GDTR_LIMIT, gdtr_limit),
	F(GUEST_IDTR_BASE, idtr_base), F(GUEST_IDTR_LIMIT, idtr_limit),
	F(GUEST_IA32_DEBUGCTL, debugctl), F(GUEST_IA32_PAT, pat),
	F(GUEST_IA32_EFER, efer),
	F(GUEST_SYSENTER_ESP, sysenter_esp),
	F(GUEST_SYSENTER_EIP, sysenter_eip),
	F(GUEST_ACTIVITY_STATE, activity),
	F(GUEST_INTERRUPTIBILITY, interruptibility),
	F(GUEST_PENDING_DBG, pending_dbg),
	F(PIN_CONTROLS, pin), F(PROC_CONTROLS, proc),
	F(PROC2_CONTROLS, proc2), F(ENTRY_CONTROLS, entry),
	F(ENTRY_INTR_INFO, entry_intr_info),
};

void entrycheck_read(struct entrycheck_state *s, u64 (*read)(u32 field))
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(state_fields); i++)
		*(u64 *)((char *)s + state_fields[i].offset) =
			read(state_fields[i].enc);
}

const char *entrycheck_field_name(u32 field)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(state_fields); i++)
		if (state_fields[i].enc == field)
			return state_fields[i].name;
	return "?";
}

/* ---- The rules ---- */

struct check {
	const struct entrycheck_state *s;
	bool ug;		/* "unrestricted guest" in effect */
	bool ia32e;		/* "IA-32e mode guest" */
	bool v86;		/* RFLAGS.VM: the guest will be virtual-8086 */
	u32 field;		/* first field at fault, 0 so far */
	const char *rule;
};

/* Record the first rule broken: the calls are in the order of the checks */
static void need(struct check *c, bool ok, u32 field, const char *rule)
{
	if (!ok && !c->field) {
		c->field = field;
		c->rule = rule;
	}
}

/* Bits 63:@n all equal (no check without a width below 64) */
static bool same_from(u64 addr, unsigned int n)
{
	u64 top;

	if (!n || n >= 64)
		return true;
	top = addr >> n;
	return !top || top == ~0ULL >> n;
}

/* Canonical for a linear-address width of @bits: bits 63:bits-1 equal */
static bool canonical(u64 addr, unsigned int bits)
{
	return same_from(addr, bits - 1);
}

static bool fits_phys(u64 addr, unsigned int bits)
{
	return bits >= 64 || !(addr >> bits);
}

static unsigned int ar_type(u32 ar)
{
	return ar & VMCS_AR_TYPE_MASK;
}

static unsigned int ar_dpl(u32 ar)
{
	return (ar >> VMCS_AR_DPL_SHIFT) & 3;
}

static bool usable(u32 ar)
{
	return !(ar & VMCS_AR_UNUSABLE);
}

/* Limit bits 11:0 not all set need G = 0, bits 31:20 set need G = 1 */
static bool limit_fits_g(const struct entrycheck_seg *seg)
{
	if (seg->ar & VMCS_AR_G)
		return (seg->limit & 0xfff) == 0xfff;
	return !(seg->limit & 0xfff00000);
}

/* PAT entries 0, 1, 4, 5, 6, 7 (UC WC WT WP WB UC-) */
static bool pat_valid(u64 pat)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		unsigned int type = (pat >> (8 * i)) & 0xff;

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/* 27.3.1.1: control registers, debug registers, MSRs */
static void check_regs_msrs(struct check *c)
{
	const struct entrycheck_state *s = c->s;
	/* PE and PG are free with unrestricted guest; NW and CD never checked */
	u64 free = X86_CR0_NW | X86_CR0_CD |
		   (c->ug ? X86_CR0_PE | X86_CR0_PG : 0);
	unsigned int width = s->linear_bits;

	need(c, !(~s->cr0 & s->cr0_fixed0 & ~free) &&
	     !(s->cr0 & ~s->cr0_fixed1 & ~free),
	     VMCS_GUEST_CR0, "27.3.1.1: CR0 bits fixed in VMX operation");
	need(c, !(~s->cr4 & s->cr4_fixed0) && !(s->cr4 & ~s->cr4_fixed1),
	     VMCS_GUEST_CR4, "27.3.1.1: CR4 bits fixed in VMX operation");
	need(c, !(s->cr0 & X86_CR0_PG) || (s->cr0 & X86_CR0_PE),
	     VMCS_GUEST_CR0, "27.3.1.1: CR0.PG needs CR0.PE");
	need(c, !(s->cr4 & X86_CR4_CET) || (s->cr0 & X86_CR0_WP),
	     VMCS_GUEST_CR4, "27.3.1.1: CR4.CET needs CR0.WP");
	need(c, !(s->entry & VMX_ENTRY_LOAD_DEBUG_CONTROLS) ||
	     !(s->debugctl >> 16),
	     VMCS_GUEST_IA32_DEBUGCTL,
	     "27.3.1.1: IA32_DEBUGCTL reserved bits 63:16 are 0");
	need(c, !c->ia32e || (s->cr0 & X86_CR0_PG),
	     VMCS_GUEST_CR0, "27.3.1.1: IA-32e mode guest needs CR0.PG");
	need(c, !c->ia32e || (s->cr4 & X86_CR4_PAE),
	     VMCS_GUEST_CR4, "27.3.1.1: IA-32e mode guest needs CR4.PAE");
	need(c, c->ia32e || !(s->cr4 & X86_CR4_PCIDE),
	     VMCS_GUEST_CR4, "27.3.1.1: CR4.PCIDE only in IA-32e mode");
	need(c, fits_phys(s->cr3, s->phys_bits),
	     VMCS_GUEST_CR3, "27.3.1.1: CR3 bits beyond MAXPHYADDR are 0");
	need(c, !(s->entry & VMX_ENTRY_LOAD_DEBUG_CONTROLS) || !(s->dr7 >> 32),
	     VMCS_GUEST_DR7, "27.3.1.1: DR7 bits 63:32 are 0");
	need(c, canonical(s->sysenter_esp, width),
	     VMCS_GUEST_SYSENTER_ESP,
	     "27.3.1.1: IA32_SYSENTER_ESP is canonical");
	need(c, canonical(s->sysenter_eip, width),
	     VMCS_GUEST_SYSENTER_EIP,
	     "27.3.1.1: IA32_SYSENTER_EIP is canonical");
	need(c, !(s->entry & VMX_ENTRY_LOAD_IA32_PAT) || pat_valid(s->pat),
	     VMCS_GUEST_IA32_PAT,
	     "27.3.1.1: IA32_PAT entries are 0, 1, 4, 5, 6 or 7");
	if (s->entry & VMX_ENTRY_LOAD_IA32_EFER) {
		bool lma = s->efer & EFER_LMA;

		need(c, !(s->efer & ~(EFER_SCE | EFER_LME | EFER_LMA |
				      EFER_NXE)),
		     VMCS_GUEST_IA32_EFER,
		     "27.3.1.1: IA32_EFER reserved bits are 0");
		need(c, lma == c->ia32e, VMCS_GUEST_IA32_EFER,
		     "27.3.1.1: EFER.LMA equals \"IA-32e mode guest\"");
		need(c, !(s->cr0 & X86_CR0_PG) || lma == !!(s->efer & EFER_LME),
		     VMCS_GUEST_IA32_EFER,
		     "27.3.1.1: with CR0.PG, EFER.LME equals EFER.LMA");
	}
}

/* 27.3.1.4: RFLAGS (before the segments: RFLAGS.VM selects their rules) */
static void check_rflags(struct check *c)
{
	const struct entrycheck_state *s = c->s;
	u32 info = s->entry_intr_info;

	need(c, !(s->rflags & RFLAGS_RESERVED) &&
	     (s->rflags & X86_EFLAGS_FIXED), VMCS_GUEST_RFLAGS,
	     "27.3.1.4: RFLAGS bits 63:22, 15, 5, 3 are 0, bit 1 is 1");
	need(c, !c->v86 || (!c->ia32e && (s->cr0 & X86_CR0_PE)),
	     VMCS_GUEST_RFLAGS,
	     "27.3.1.4: RFLAGS.VM neither in IA-32e mode nor with CR0.PE = 0");
	need(c, !(info & VMX_INTR_INFO_VALID) ||
	     (info & VMX_INTR_INFO_TYPE_MASK) != VMX_INTR_TYPE_EXT_INTR ||
	     (s->rflags & X86_EFLAGS_IF), VMCS_GUEST_RFLAGS,
	     "27.3.1.4: an injected external interrupt needs RFLAGS.IF");
}

/* The VMCS encodings of each segment register's fields */
static const struct seg_enc {
	u16 selector, base, limit, ar;
} seg_enc[EC_NR_SEGS] = {
	{ VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT,
	  VMCS_GUEST_ES_AR },
	{ VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT,
	  VMCS_GUEST_CS_AR },
	{ VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT,
	  VMCS_GUEST_SS_AR },
	{ VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT,
	  VMCS_GUEST_DS_AR },
	{ VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT,
	  VMCS_GUEST_FS_AR },
	{ VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT,
	  VMCS_GUEST_GS_AR },
	{ VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_LDTR_BASE,
	  VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR },
	{ VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT,
	  VMCS_GUEST_TR_AR },
};

/*
 * 27.3.1.2, access rights of CS, SS, DS, ES, FS and GS outside
 * virtual-8086 mode.  SS goes first: SS.DPL is the CPL, and the DPL
 * rules of CS are stated against it.
 */
static void check_seg_ar(struct check *c, unsigned int r)
{
	const struct entrycheck_seg *seg = &c->s->seg[r];
	u32 ar = seg->ar, f = seg_enc[r].ar;
	unsigned int type = ar_type(ar), dpl = ar_dpl(ar);
	unsigned int ss_dpl = ar_dpl(c->s->seg[EC_SS].ar);
	bool cs_type3 = ar_type(c->s->seg[EC_CS].ar) == 3;

	if (r == EC_SS) {
		need(c, !usable(ar) || type == 3 || type == 7, f,
		     "27.3.1.2: SS type 3 or 7");
		need(c, c->ug || dpl == (seg->selector & 3), f,
		     "27.3.1.2: SS.DPL equals its RPL");
		need(c, !dpl || ((c->s->cr0 & X86_CR0_PE) && !cs_type3), f,
		     "27.3.1.2: SS.DPL 0 with CR0.PE = 0 or CS type 3");
	} else if (r == EC_CS) {
		need(c, type == 9 || type == 11 || type == 13 || type == 15 ||
		     (c->ug && type == 3), f,
		     "27.3.1.2: CS type 9, 11, 13, 15 (3 with unrestricted guest)");
		need(c, type != 3 || !dpl, f, "27.3.1.2: CS type 3 has DPL 0");
		need(c, (type != 9 && type != 11) || dpl == ss_dpl, f,
		     "27.3.1.2: non-conforming CS.DPL equals SS.DPL");
		need(c, (type != 13 && type != 15) || dpl <= ss_dpl, f,
		     "27.3.1.2: conforming CS.DPL at most SS.DPL");
		need(c, !c->ia32e || !(ar & VMCS_AR_L) || !(ar & VMCS_AR_DB), f,
		     "27.3.1.2: CS.L = 1 needs CS.D/B = 0 in IA-32e mode");
	} else if (usable(ar)) {
		need(c, (type & 1) && (!(type & 8) || (type & 2)), f,
		     "27.3.1.2: data segments accessed, code segments readable");
		need(c, c->ug || type > 11 || dpl >= (seg->selector & 3), f,
		     "27.3.1.2: DS/ES/FS/GS.DPL at least their RPL");
	}
	if (r != EC_CS && !usable(ar))
		return;
	need(c, ar & VMCS_AR_S, f, "27.3.1.2: S = 1 (code or data)");
	need(c, ar & VMCS_AR_P, f, "27.3.1.2: P = 1");
	need(c, !(ar & AR_RESERVED), f,
	     "27.3.1.2: access-rights bits 11:8 and 31:17 are 0");
	need(c, limit_fits_g(seg), f,
	     "27.3.1.2: G matches the limit (bits 31:20 need G = 1, 11:0 G = 0)");
}

/* 27.3.1.2: access rights of TR, and of LDTR if usable */
static void check_system_seg_ar(struct check *c, unsigned int r)
{
	const struct entrycheck_seg *seg = &c->s->seg[r];
	u32 ar = seg->ar, f = seg_enc[r].ar;
	unsigned int type = ar_type(ar);

	if (r == EC_TR) {
		need(c, type == 11 || (!c->ia32e && type == 3), f,
		     "27.3.1.2: TR a busy TSS, 64-bit (type 11) in IA-32e mode");
		need(c, usable(ar), f, "27.3.1.2: TR usable");
	} else {
		if (!usable(ar))
			return;
		need(c, type == 2, f, "27.3.1.2: LDTR type 2 (LDT)");
	}
	need(c, !(ar & VMCS_AR_S), f, "27.3.1.2: S = 0 (system segment)");
	need(c, ar & VMCS_AR_P, f, "27.3.1.2: P = 1");
	need(c, !(ar & AR_RESERVED), f,
	     "27.3.1.2: access-rights bits 11:8 and 31:17 are 0");
	need(c, limit_fits_g(seg), f,
	     "27.3.1.2: G matches the limit (bits 31:20 need G = 1, 11:0 G = 0)");
}

/* 27.3.1.2: selectors, bases, limits, access rights */
static void check_segments(struct check *c)
{
	static const u8 ar_order[] = { EC_SS, EC_CS, EC_DS, EC_ES, EC_FS, EC_GS };
	const struct entrycheck_seg *seg = c->s->seg;
	unsigned int width = c->s->linear_bits, r;

	need(c, !(seg[EC_TR].selector & 4), VMCS_GUEST_TR_SELECTOR,
	     "27.3.1.2: TR selector TI = 0");
	need(c, !usable(seg[EC_LDTR].ar) || !(seg[EC_LDTR].selector & 4),
	     VMCS_GUEST_LDTR_SELECTOR, "27.3.1.2: LDTR selector TI = 0");
	need(c, c->v86 || c->ug ||
	     (seg[EC_SS].selector & 3) == (seg[EC_CS].selector & 3),
	     VMCS_GUEST_SS_SELECTOR, "27.3.1.2: SS.RPL equals CS.RPL");

	for (r = EC_ES; r <= EC_GS && c->v86; r++)
		need(c, seg[r].base == (u64)seg[r].selector << 4,
		     seg_enc[r].base,
		     "27.3.1.2: virtual-8086 base is the selector times 16");
	need(c, canonical(seg[EC_TR].base, width), VMCS_GUEST_TR_BASE,
	     "27.3.1.2: TR base canonical");
	need(c, canonical(seg[EC_FS].base, width), VMCS_GUEST_FS_BASE,
	     "27.3.1.2: FS base canonical");
	need(c, canonical(seg[EC_GS].base, width), VMCS_GUEST_GS_BASE,
	     "27.3.1.2: GS base canonical");
	need(c, !usable(seg[EC_LDTR].ar) || canonical(seg[EC_LDTR].base, width),
	     VMCS_GUEST_LDTR_BASE, "27.3.1.2: LDTR base canonical");
	need(c, !(seg[EC_CS].base >> 32), VMCS_GUEST_CS_BASE,
	     "27.3.1.2: CS base bits 63:32 are 0");
	for (r = EC_ES; r <= EC_DS; r++)
		need(c, r == EC_CS || !usable(seg[r].ar) || !(seg[r].base >> 32),
		     seg_enc[r].base,
		     "27.3.1.2: ES/SS/DS base bits 63:32 are 0");

	for (r = EC_ES; r <= EC_GS && c->v86; r++)
		need(c, seg[r].limit == 0xffff, seg_enc[r].limit,
		     "27.3.1.2: virtual-8086 limit 0xffff");

	if (c->v86) {
		for (r = EC_ES; r <= EC_GS; r++)
			need(c, seg[r].ar == 0xf3, seg_enc[r].ar,
			     "27.3.1.2: virtual-8086 access rights 0xf3");
	} else {
		for (r = 0; r < ARRAY_SIZE(ar_order); r++)
			check_seg_ar(c, ar_order[r]);
	}
	check_system_seg_ar(c, EC_TR);
	check_system_seg_ar(c, EC_LDTR);
}

/* 27.3.1.3: GDTR and IDTR */
static void check_dtables(struct check *c)
{
	const struct entrycheck_state *s = c->s;

	need(c, canonical(s->gdtr_base, s->linear_bits), VMCS_GUEST_GDTR_BASE,
	     "27.3.1.3: GDTR base canonical");
	need(c, canonical(s->idtr_base, s->linear_bits), VMCS_GUEST_IDTR_BASE,
	     "27.3.1.3: IDTR base canonical");
	need(c, !(s->gdtr_limit >> 16), VMCS_GUEST_GDTR_LIMIT,
	     "27.3.1.3: GDTR limit bits 31:16 are 0");
	need(c, !(s->idtr_limit >> 16), VMCS_GUEST_IDTR_LIMIT,
	     "27.3.1.3: IDTR limit bits 31:16 are 0");
}

/* 27.3.1.4: RIP */
static void check_rip(struct check *c)
{
	const struct entrycheck_state *s = c->s;
	bool code64 = c->ia32e && (s->seg[EC_CS].ar & VMCS_AR_L);

	need(c, code64 || !(s->rip >> 32), VMCS_GUEST_RIP,
	     "27.3.1.4: RIP bits 63:32 are 0 outside 64-bit mode");
	/* Bits 63:N, not 63:N-1 as for canonical addresses */
	need(c, !code64 || same_from(s->rip, s->linear_bits), VMCS_GUEST_RIP,
	     "27.3.1.4: RIP bits 63:N equal in 64-bit mode (N linear bits)");
}

/* 27.3.1.5: can the event injected be delivered in the activity state? */
static bool event_deliverable(u32 activity, u32 info)
{
	u32 type = info & VMX_INTR_INFO_TYPE_MASK;
	u32 vector = info & VMX_INTR_INFO_VECTOR_MASK;

	if (!(info & VMX_INTR_INFO_VALID) || activity == VMX_ACTIVITY_ACTIVE)
		return true;
	if (activity == VMX_ACTIVITY_HLT)
		return type == VMX_INTR_TYPE_EXT_INTR ||
		       type == VMX_INTR_TYPE_NMI ||
		       (type == VMX_INTR_TYPE_HW_EXCEPTION &&
			(vector == 1 || vector == 18)) ||
		       (type == VMX_INTR_TYPE_OTHER && vector == 0);
	if (activity == VMX_ACTIVITY_SHUTDOWN)
		return type == VMX_INTR_TYPE_NMI ||
		       (type == VMX_INTR_TYPE_HW_EXCEPTION && vector == 18);
	return false;		/* wait-for-SIPI: nothing */
}

/* 27.3.1.5: activity, interruptibility, pending debug exceptions */
static void check_non_register(struct check *c)
{
	const struct entrycheck_state *s = c->s;
	u32 intr = s->interruptibility, info = s->entry_intr_info;
	u32 type = info & VMX_INTR_INFO_TYPE_MASK;
	bool ext = (info & VMX_INTR_INFO_VALID) &&
		   type == VMX_INTR_TYPE_EXT_INTR;
	bool nmi = (info & VMX_INTR_INFO_VALID) && type == VMX_INTR_TYPE_NMI;
	u32 shadow = intr & (VMX_INTERRUPTIBILITY_STI |
			     VMX_INTERRUPTIBILITY_MOV_SS);
	bool mov_ss = intr & VMX_INTERRUPTIBILITY_MOV_SS;
	u64 pd = s->pending_dbg;
	bool bs_due;

	need(c, s->activity <= VMX_ACTIVITY_WAIT_SIPI,
	     VMCS_GUEST_ACTIVITY_STATE, "27.3.1.5: activity state 0 to 3");
	need(c, s->activity != VMX_ACTIVITY_HLT || !ar_dpl(s->seg[EC_SS].ar),
	     VMCS_GUEST_ACTIVITY_STATE, "27.3.1.5: HLT state needs SS.DPL 0");
	need(c, !shadow || s->activity == VMX_ACTIVITY_ACTIVE,
	     VMCS_GUEST_ACTIVITY_STATE,
	     "27.3.1.5: blocking by STI or MOV SS only in the active state");
	need(c, event_deliverable(s->activity, info),
	     VMCS_GUEST_ACTIVITY_STATE,
	     "27.3.1.5: the injected event is blocked in this activity state");

	need(c, !(intr >> 5), VMCS_GUEST_INTERRUPTIBILITY,
	     "27.3.1.5: interruptibility bits 31:5 are 0");
	need(c, shadow != (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS),
	     VMCS_GUEST_INTERRUPTIBILITY,
	     "27.3.1.5: not blocking by both STI and MOV SS");
	need(c, !(intr & VMX_INTERRUPTIBILITY_STI) ||
	     (s->rflags & X86_EFLAGS_IF), VMCS_GUEST_INTERRUPTIBILITY,
	     "27.3.1.5: blocking by STI needs RFLAGS.IF");
	need(c, !ext || !shadow, VMCS_GUEST_INTERRUPTIBILITY,
	     "27.3.1.5: no STI or MOV SS blocking to inject an interrupt");
	need(c, !nmi || !mov_ss, VMCS_GUEST_INTERRUPTIBILITY,
	     "27.3.1.5: no MOV SS blocking to inject an NMI");
	/* xvcpu never enters from SMM */
	need(c, !(intr & VMX_INTERRUPTIBILITY_SMI), VMCS_GUEST_INTERRUPTIBILITY,
	     "27.3.1.5: blocking by SMI only in SMM");
	need(c, !nmi || !(s->pin & VMX_PIN_VIRTUAL_NMIS) ||
	     !(intr & VMX_INTERRUPTIBILITY_NMI), VMCS_GUEST_INTERRUPTIBILITY,
	     "27.3.1.5: no NMI blocking to inject a virtual NMI");
	need(c, !(intr & VMX_INTERRUPTIBILITY_ENCLAVE) || !mov_ss,
	     VMCS_GUEST_INTERRUPTIBILITY,
	     "27.3.1.5: enclave interruption without MOV SS blocking");

	need(c, !(pd & ~(VMX_PENDING_DBG_B0_B3 | VMX_PENDING_DBG_ENABLED_BP |
			 VMX_PENDING_DBG_BS | VMX_PENDING_DBG_RTM)),
	     VMCS_GUEST_PENDING_DBG,
	     "27.3.1.5: pending debug exceptions bits 11:4, 13, 15, 63:17 are 0");
	/* A single-step trap is pending after STI, MOV SS or in HLT */
	bs_due = (s->rflags & X86_EFLAGS_TF) && !(s->debugctl & DEBUGCTL_BTF);
	need(c, (!shadow && s->activity != VMX_ACTIVITY_HLT) ||
	     !(pd & VMX_PENDING_DBG_BS) == !bs_due, VMCS_GUEST_PENDING_DBG,
	     "27.3.1.5: pending BS set exactly if RFLAGS.TF and not BTF");
	need(c, !(pd & VMX_PENDING_DBG_RTM) ||
	     (pd == (VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP) &&
	      !mov_ss), VMCS_GUEST_PENDING_DBG,
	     "27.3.1.5: pending RTM only with bit 12 and no MOV SS blocking");
}

u32 entrycheck_guest_state(const struct entrycheck_state *s,
			   const char **rule)
{
	struct check c = {
		.s = s,
		.ug = (s->proc & VMX_PROC_SECONDARY_CONTROLS) &&
		      (s->proc2 & VMX_PROC2_UNRESTRICTED_GUEST),
		.ia32e = s->entry & VMX_ENTRY_IA32E_MODE_GUEST,
		.v86 = s->rflags & X86_EFLAGS_VM,
	};

	check_regs_msrs(&c);
	check_rflags(&c);
	check_segments(&c);
	check_dtables(&c);
	check_rip(&c);
	check_non_register(&c);
	*rule = c.rule;
	return c.field;
}
