// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmod/entrycheck.c, the module's own check of the guest
 * state VM entry refuses (SDM Vol. 3C 27.3.1).  Each case starts from a
 * state libxvcpu's mode setup builds (64-bit, 32-bit protected, or real
 * mode run by "unrestricted guest"), put into the VMCS as the module puts
 * it there, breaks one rule and checks the field reported: valid states
 * must report none.  The bad_* cases are those of selftests/hostile_test.c
 * (bad_state), which the processor refuses too.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <string.h>
#include "kselftest_harness.h"
#include "kmod/entrycheck.h"
#include "include/xvcpu/vmx.h"
#include "tools/lib/libxvcpu.h"

/* A processor like Bochs' corei7_skylake_x: no 5-level paging */
#define PHYS_BITS	39
#define LINEAR_BITS	48
#define CR0_FIXED0	0x80000021ULL	/* PE NE PG */
#define CR0_FIXED1	0xffffffffULL
#define CR4_FIXED0	0x2000ULL	/* VMXE */
#define CR4_FIXED1	0xf72fffULL

#define TABLES_GPA	0x10000ULL
#define NONCANONICAL	(1ULL << 47)

#define CR0_PE		(1ULL << 0)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_NW		(1ULL << 29)
#define CR0_CD		(1ULL << 30)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_VMXE	(1ULL << 13)
#define CR4_PCIDE	(1ULL << 17)
#define CR4_CET		(1ULL << 23)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define RFLAGS_TF	(1ULL << 8)
#define RFLAGS_IF	(1ULL << 9)
#define RFLAGS_VM	(1ULL << 17)
#define DEBUGCTL_BTF	(1ULL << 1)

#define INJECT(type, vector)	(VMX_INTR_INFO_VALID | (type) | (vector))
#define STI		VMX_INTERRUPTIBILITY_STI
#define MOV_SS		VMX_INTERRUPTIBILITY_MOV_SS

#define LONG		XVCPU_MODE_LONG
#define PROT		XVCPU_MODE_PROTECTED
#define REAL		XVCPU_MODE_REAL

static uint8_t tables[XVCPU_SETUP_TABLES_SIZE];

/* Access rights as kmod/vmcs.c encodes them (Table 25-2) */
static uint64_t seg_ar(const struct xvcpu_segment *s)
{
	return s->type | s->s << 4 | s->dpl << 5 | s->present << 7 |
	       s->avl << 12 | s->l << 13 | s->db << 14 | s->g << 15 |
	       (uint64_t)s->unusable << 16;
}

/*
 * The VMCS xvcpu holds for @r and @s: SET_SREGS and SET_REGS
 * (kmod/vmcs.c: CR0 and CR4 with the bits VMX fixes, "IA-32e mode guest"
 * from EFER.LMA), the other fields as after reset, the controls the
 * module runs guests with (kmod/caps.c).
 */
static void to_vmcs(const struct xvcpu_regs *r, const struct xvcpu_sregs *s,
		    struct entrycheck_state *e)
{
	const struct xvcpu_segment *segs[EC_NR_SEGS] = {
		[EC_ES] = &s->es, [EC_CS] = &s->cs, [EC_SS] = &s->ss,
		[EC_DS] = &s->ds, [EC_FS] = &s->fs, [EC_GS] = &s->gs,
		[EC_LDTR] = &s->ldt, [EC_TR] = &s->tr,
	};
	int i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < EC_NR_SEGS; i++) {
		e->seg[i].selector = segs[i]->selector;
		e->seg[i].base = segs[i]->base;
		e->seg[i].limit = segs[i]->limit;
		e->seg[i].ar = seg_ar(segs[i]);
	}
	e->cr0 = (s->cr0 | (CR0_FIXED0 & ~(CR0_PE | CR0_PG))) & CR0_FIXED1;
	e->cr3 = s->cr3;
	e->cr4 = (s->cr4 | CR4_FIXED0) & CR4_FIXED1;
	e->efer = s->efer;
	e->gdtr_base = s->gdt.base;
	e->gdtr_limit = s->gdt.limit;
	e->idtr_base = s->idt.base;
	e->idtr_limit = s->idt.limit;
	e->rip = r->rip;
	e->rflags = r->rflags;
	e->dr7 = 0x400;
	e->pat = 0x0007040600070406ULL;

	e->pin = VMX_PIN_EXTINT_EXITING | VMX_PIN_NMI_EXITING |
		 VMX_PIN_VIRTUAL_NMIS;
	e->proc = VMX_PROC_HLT_EXITING | VMX_PROC_USE_IO_BITMAPS |
		  VMX_PROC_SECONDARY_CONTROLS;
	e->proc2 = VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID |
		   VMX_PROC2_UNRESTRICTED_GUEST;
	e->entry = VMX_ENTRY_LOAD_DEBUG_CONTROLS | VMX_ENTRY_LOAD_IA32_PAT |
		   VMX_ENTRY_LOAD_IA32_EFER |
		   (s->efer & EFER_LMA ? VMX_ENTRY_IA32E_MODE_GUEST : 0);

	e->cr0_fixed0 = CR0_FIXED0;
	e->cr0_fixed1 = CR0_FIXED1;
	e->cr4_fixed0 = CR4_FIXED0;
	e->cr4_fixed1 = CR4_FIXED1;
	e->phys_bits = PHYS_BITS;
	e->linear_bits = LINEAR_BITS;
}

/* Virtual-8086 mode from protected mode: segments 0x1000, AR 0xf3 */
static void make_v86(struct xvcpu_regs *r, struct xvcpu_sregs *s)
{
	struct xvcpu_segment *v[] = { &s->cs, &s->ds, &s->es, &s->fs,
				      &s->gs, &s->ss };
	unsigned int i;

	for (i = 0; i < 6; i++)
		*v[i] = (struct xvcpu_segment){
			.selector = 0x1000, .base = 0x10000, .limit = 0xffff,
			.type = 3, .s = 1, .dpl = 3, .present = 1,
		};
	r->rflags |= RFLAGS_VM;
}

FIXTURE(entry) {
	struct xvcpu_regs r;
	struct xvcpu_sregs s;
	struct entrycheck_state e;
};

FIXTURE_VARIANT(entry) {
	enum xvcpu_mode mode;
	/* Spoil what userspace gives (SET_REGS/SET_SREGS)... */
	void (*spoil)(struct xvcpu_regs *r, struct xvcpu_sregs *s);
	/* ...or, after that, what only the module or the VMCS hold */
	void (*spoil_vmcs)(struct entrycheck_state *e);
	uint32_t field;		/* VMCS encoding expected, 0: valid */
};

FIXTURE_SETUP(entry)
{
	bool real = variant->mode == REAL;

	ASSERT_EQ(0, xvcpu_mode_build(variant->mode, real ? 0x7c00 : 0x100000,
				      real ? 0x8000 : 0x200000, TABLES_GPA,
				      tables, &self->r, &self->s));
}

FIXTURE_TEARDOWN(entry)
{
}

/*
 * SREGS(name, mode, field, statements on r and s)
 * VMCS(name, mode, field, statements on e)
 */
#define SREGS(name, mode_, field_, ...)					\
	static void spoil_##name(struct xvcpu_regs *r,			\
				 struct xvcpu_sregs *s)			\
	{								\
		__VA_ARGS__;						\
	}								\
	FIXTURE_VARIANT_ADD(entry, name) {				\
		.mode = mode_, .spoil = spoil_##name, .field = field_,	\
	}
#define VMCS(name, mode_, field_, ...)					\
	static void spoil_vmcs_##name(struct entrycheck_state *e)	\
	{								\
		__VA_ARGS__;						\
	}								\
	FIXTURE_VARIANT_ADD(entry, name) {				\
		.mode = mode_, .spoil_vmcs = spoil_vmcs_##name,		\
		.field = field_,					\
	}

/* ---- Valid states ---- */
SREGS(long_mode, LONG, 0, (void)0);
SREGS(protected_mode, PROT, 0, (void)0);
SREGS(real_mode, REAL, 0, (void)0);
/* Virtual-8086 mode: every data segment base = selector * 16, AR 0xf3 */
SREGS(v86_mode, PROT, 0, make_v86(r, s));
/* Unusable segments are not checked, but for a few bits */
SREGS(unusable_ds_garbage, LONG, 0,
      s->ds.unusable = 1; s->ds.type = 0; s->ds.s = 0; s->ds.present = 0;
      s->ds.base = 1ULL << 40; s->ds.limit = 0x12345);
SREGS(unusable_ldt_garbage, LONG, 0, s->ldt.type = 0xf; s->ldt.s = 1;
      s->ldt.base = NONCANONICAL; s->ldt.selector = 4);
/* A 16-bit TSS outside IA-32e mode; a conforming CS below the CPL */
SREGS(tss_16bit_in_protected_mode, PROT, 0, s->tr.type = 3);
SREGS(cs_conforming_below_cpl, PROT, 0, s->cs.type = 15;
      s->ss.dpl = 3; s->ss.selector |= 3; s->cs.selector |= 3);
/* VM entry never checks CR0.NW against CR0.CD (27.3.1.1) */
SREGS(nw_without_cd, LONG, 0, s->cr0 |= CR0_NW);
/* RIP: bits 63:48 equal; bit 47 is not checked by VM entry */
SREGS(rip_bit_47, LONG, 0, r->rip = 1ULL << 47);
VMCS(sti_shadow, LONG, 0, e->rflags |= RFLAGS_IF; e->interruptibility = STI);
VMCS(hlt_state, LONG, 0, e->activity = VMX_ACTIVITY_HLT);
VMCS(hlt_with_interrupt, LONG, 0, e->activity = VMX_ACTIVITY_HLT;
     e->rflags |= RFLAGS_IF;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_EXT_INTR, 0x20));
VMCS(hlt_with_db, LONG, 0, e->activity = VMX_ACTIVITY_HLT;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_HW_EXCEPTION, 1));
VMCS(shutdown_with_nmi, LONG, 0, e->activity = VMX_ACTIVITY_SHUTDOWN;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_NMI, 2));
VMCS(nmi_while_blocked_without_vnmi, LONG, 0,
     e->pin &= ~VMX_PIN_VIRTUAL_NMIS;
     e->interruptibility = VMX_INTERRUPTIBILITY_NMI;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_NMI, 2));
VMCS(single_step_in_sti_shadow, LONG, 0,
     e->rflags |= RFLAGS_IF | RFLAGS_TF; e->interruptibility = STI;
     e->pending_dbg = VMX_PENDING_DBG_BS);
VMCS(pending_rtm, LONG, 0,
     e->pending_dbg = VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP);
VMCS(dr7_high_without_load_debug, LONG, 0,
     e->entry &= ~VMX_ENTRY_LOAD_DEBUG_CONTROLS; e->dr7 |= 1ULL << 32);
VMCS(pat_without_load_pat, LONG, 0, e->entry &= ~VMX_ENTRY_LOAD_IA32_PAT;
     e->pat = 0x02);

/* ---- selftests/hostile_test.c bad_state: what the processor refuses ---- */
SREGS(bad_cs_data_type, LONG, VMCS_GUEST_CS_AR, s->cs.type = 1);
SREGS(bad_cs_system_segment, LONG, VMCS_GUEST_CS_AR, s->cs.s = 0);
SREGS(bad_cs_not_present, LONG, VMCS_GUEST_CS_AR, s->cs.present = 0);
SREGS(bad_cs_long_and_32bit, LONG, VMCS_GUEST_CS_AR, s->cs.db = 1);
SREGS(bad_cs_dpl_not_ss_dpl, LONG, VMCS_GUEST_CS_AR, s->cs.dpl = 3);
SREGS(bad_ss_code_type, LONG, VMCS_GUEST_SS_AR, s->ss.type = 0xb);
SREGS(bad_ds_not_accessed, LONG, VMCS_GUEST_DS_AR, s->ds.type = 2);
SREGS(bad_ds_execute_only, LONG, VMCS_GUEST_DS_AR, s->ds.type = 9);
SREGS(bad_tr_unusable, LONG, VMCS_GUEST_TR_AR, s->tr.unusable = 1);
SREGS(bad_tr_16bit_tss, LONG, VMCS_GUEST_TR_AR, s->tr.type = 3);
SREGS(bad_tr_selector_ti, LONG, VMCS_GUEST_TR_SELECTOR,
      s->tr.selector |= 4);
SREGS(bad_tr_limit_needs_g, LONG, VMCS_GUEST_TR_AR,
      s->tr.limit = 0x100000; s->tr.g = 0);
SREGS(bad_ldt_wrong_type, LONG, VMCS_GUEST_LDTR_AR,
      s->ldt.unusable = 0; s->ldt.present = 1; s->ldt.s = 0;
      s->ldt.type = 3);
SREGS(bad_fs_base_noncanonical, LONG, VMCS_GUEST_FS_BASE,
      s->fs.base = NONCANONICAL);
SREGS(bad_gdt_base_noncanonical, LONG, VMCS_GUEST_GDTR_BASE,
      s->gdt.base = NONCANONICAL);
SREGS(bad_cr3_beyond_phys_width, LONG, VMCS_GUEST_CR3,
      s->cr3 |= 1ULL << PHYS_BITS);
SREGS(bad_rflags_vm, LONG, VMCS_GUEST_RFLAGS, r->rflags |= RFLAGS_VM);
/* CS.DPL = SS.DPL fails as well: SS is checked first */
SREGS(bad_real_mode_ss_dpl3, REAL, VMCS_GUEST_SS_AR, s->ss.dpl = 3);
/* Those SET_SREGS refuses before any entry */
SREGS(bad_pg_without_pe, LONG, VMCS_GUEST_CR0, s->cr0 &= ~CR0_PE);
SREGS(bad_lma_without_paging, LONG, VMCS_GUEST_CR0, s->cr0 &= ~CR0_PG);
SREGS(bad_lma_without_pae, LONG, VMCS_GUEST_CR4, s->cr4 &= ~CR4_PAE);
SREGS(bad_lma_without_lme, LONG, VMCS_GUEST_IA32_EFER,
      s->efer &= ~EFER_LME);

/* ---- 27.3.1.1: control registers, debug registers, MSRs ---- */
VMCS(cr0_ne_clear, LONG, VMCS_GUEST_CR0, e->cr0 &= ~CR0_NE);
VMCS(cr0_bit_32, LONG, VMCS_GUEST_CR0, e->cr0 |= 1ULL << 32);
/* Real mode without "unrestricted guest", or its secondary controls */
VMCS(real_mode_without_ug, REAL, VMCS_GUEST_CR0,
     e->proc2 &= ~VMX_PROC2_UNRESTRICTED_GUEST);
VMCS(real_mode_without_proc2, REAL, VMCS_GUEST_CR0,
     e->proc &= ~VMX_PROC_SECONDARY_CONTROLS);
VMCS(cr4_vmxe_clear, LONG, VMCS_GUEST_CR4, e->cr4 &= ~CR4_VMXE);
VMCS(cr4_unsupported_bit, LONG, VMCS_GUEST_CR4, e->cr4 |= 1ULL << 25);
SREGS(cr4_pcide_outside_ia32e, PROT, VMCS_GUEST_CR4,
      s->cr4 |= CR4_PCIDE);
SREGS(cr4_cet_without_wp, LONG, VMCS_GUEST_CR4,
      s->cr4 |= CR4_CET; s->cr0 &= ~CR0_WP);
VMCS(debugctl_reserved, LONG, VMCS_GUEST_IA32_DEBUGCTL,
     e->debugctl = 1ULL << 20);
VMCS(dr7_high, LONG, VMCS_GUEST_DR7, e->dr7 |= 1ULL << 32);
VMCS(sysenter_esp_noncanonical, LONG, VMCS_GUEST_SYSENTER_ESP,
     e->sysenter_esp = NONCANONICAL);
VMCS(sysenter_eip_noncanonical, LONG, VMCS_GUEST_SYSENTER_EIP,
     e->sysenter_eip = 1ULL << 63);
VMCS(pat_type_2, LONG, VMCS_GUEST_IA32_PAT, e->pat |= 2ULL << 56);
VMCS(pat_type_8, LONG, VMCS_GUEST_IA32_PAT, e->pat = 8);
VMCS(efer_reserved, LONG, VMCS_GUEST_IA32_EFER, e->efer |= 1ULL << 12);
VMCS(efer_lma_without_ia32e, LONG, VMCS_GUEST_IA32_EFER,
     e->entry &= ~VMX_ENTRY_IA32E_MODE_GUEST);
VMCS(ia32e_without_lma, PROT, VMCS_GUEST_CR0,
     e->entry |= VMX_ENTRY_IA32E_MODE_GUEST);

/* ---- 27.3.1.2: segment registers ---- */
/* Without "unrestricted guest", protected mode needs paging (CR0 fixed) */
#define NO_UG	e->proc2 &= ~VMX_PROC2_UNRESTRICTED_GUEST; e->cr0 |= CR0_PG
VMCS(ss_rpl_not_cs_rpl_without_ug, PROT, VMCS_GUEST_SS_SELECTOR, NO_UG;
     e->seg[EC_SS].selector |= 3; e->seg[EC_SS].ar |= 3 << 5);
VMCS(ss_dpl_not_rpl_without_ug, PROT, VMCS_GUEST_SS_AR, NO_UG;
     e->seg[EC_SS].ar |= 3 << 5; e->seg[EC_CS].ar |= 3 << 5);
VMCS(ds_dpl_below_rpl_without_ug, PROT, VMCS_GUEST_DS_AR, NO_UG;
     e->seg[EC_DS].selector |= 3);
VMCS(cs_data_type_without_ug, REAL, VMCS_GUEST_CS_AR, NO_UG; e->cr0 |= CR0_PE;
     e->seg[EC_CS].ar = (e->seg[EC_CS].ar & ~0xfULL) | 3);
SREGS(cs_type3_dpl3, REAL, VMCS_GUEST_CS_AR, s->cs.type = 3;
      s->cs.dpl = 3);
SREGS(cs_conforming_above_cpl, PROT, VMCS_GUEST_CS_AR, s->cs.type = 15;
      s->cs.dpl = 3);
SREGS(cs_g_with_low_limit, PROT, VMCS_GUEST_CS_AR, s->cs.limit = 0x1000);
VMCS(cs_ar_reserved, LONG, VMCS_GUEST_CS_AR,
     e->seg[EC_CS].ar |= 1 << 8);
VMCS(gs_ar_reserved_high, LONG, VMCS_GUEST_GS_AR,
     e->seg[EC_GS].ar |= 1 << 17);
SREGS(cs_base_high, LONG, VMCS_GUEST_CS_BASE, s->cs.base = 1ULL << 32);
SREGS(ss_base_high, LONG, VMCS_GUEST_SS_BASE, s->ss.base = 1ULL << 32);
SREGS(es_base_high, LONG, VMCS_GUEST_ES_BASE, s->es.base = 1ULL << 32);
SREGS(gs_base_noncanonical, LONG, VMCS_GUEST_GS_BASE,
      s->gs.base = 0xff00000000000000ULL);
SREGS(tr_base_noncanonical, LONG, VMCS_GUEST_TR_BASE,
      s->tr.base = NONCANONICAL);
SREGS(ldt_base_noncanonical, LONG, VMCS_GUEST_LDTR_BASE,
      s->ldt.unusable = 0; s->ldt.present = 1; s->ldt.type = 2;
      s->ldt.base = NONCANONICAL);
SREGS(ldt_selector_ti, LONG, VMCS_GUEST_LDTR_SELECTOR,
      s->ldt.unusable = 0; s->ldt.present = 1; s->ldt.type = 2;
      s->ldt.selector = 4);
SREGS(ldt_not_present, LONG, VMCS_GUEST_LDTR_AR,
      s->ldt.unusable = 0; s->ldt.type = 2; s->ldt.present = 0);
SREGS(tr_code_segment, LONG, VMCS_GUEST_TR_AR, s->tr.s = 1);
SREGS(tr_not_present, LONG, VMCS_GUEST_TR_AR, s->tr.present = 0);
SREGS(fs_data_not_present, PROT, VMCS_GUEST_FS_AR, s->fs.present = 0);
/* Protected-mode segments in virtual-8086 mode: ES comes first */
SREGS(v86_base, PROT, VMCS_GUEST_ES_BASE, r->rflags |= RFLAGS_VM);
SREGS(v86_limit, PROT, VMCS_GUEST_ES_LIMIT, make_v86(r, s);
      s->es.limit = 0xfffff);
SREGS(v86_ar, PROT, VMCS_GUEST_FS_AR, make_v86(r, s); s->fs.dpl = 0);

/* ---- 27.3.1.3: GDTR and IDTR ---- */
SREGS(idt_base_noncanonical, LONG, VMCS_GUEST_IDTR_BASE,
      s->idt.base = NONCANONICAL);
/* The limits of SET_SREGS have 16 bits: these only the VMCS can hold */
VMCS(gdt_limit_high, LONG, VMCS_GUEST_GDTR_LIMIT, e->gdtr_limit = 0x10000);
VMCS(idt_limit_high, PROT, VMCS_GUEST_IDTR_LIMIT, e->idtr_limit = ~0U);

/* ---- 27.3.1.4: RIP and RFLAGS ---- */
SREGS(rip_high_in_protected_mode, PROT, VMCS_GUEST_RIP,
      r->rip = 1ULL << 32);
SREGS(rip_high_in_compatibility_mode, LONG, VMCS_GUEST_RIP,
      s->cs.l = 0; s->cs.db = 1; r->rip = 1ULL << 32);
SREGS(rip_noncanonical, LONG, VMCS_GUEST_RIP, r->rip = 1ULL << 48);
SREGS(rflags_bit1_clear, LONG, VMCS_GUEST_RFLAGS, r->rflags = 0);
SREGS(rflags_bit15, LONG, VMCS_GUEST_RFLAGS, r->rflags |= 1ULL << 15);
SREGS(rflags_bit22, PROT, VMCS_GUEST_RFLAGS, r->rflags |= 1ULL << 22);
SREGS(rflags_vm_in_real_mode, REAL, VMCS_GUEST_RFLAGS,
      r->rflags |= RFLAGS_VM);
VMCS(interrupt_with_if_clear, LONG, VMCS_GUEST_RFLAGS,
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_EXT_INTR, 0x20));

/* ---- 27.3.1.5: activity, interruptibility, pending debug exceptions ---- */
VMCS(activity_4, LONG, VMCS_GUEST_ACTIVITY_STATE, e->activity = 4);
VMCS(hlt_at_cpl3, LONG, VMCS_GUEST_ACTIVITY_STATE,
     e->activity = VMX_ACTIVITY_HLT;
     e->seg[EC_SS].ar |= 3 << 5; e->seg[EC_CS].ar |= 3 << 5);
VMCS(hlt_in_sti_shadow, LONG, VMCS_GUEST_ACTIVITY_STATE,
     e->activity = VMX_ACTIVITY_HLT; e->rflags |= RFLAGS_IF;
     e->interruptibility = STI);
VMCS(hlt_with_gp, LONG, VMCS_GUEST_ACTIVITY_STATE,
     e->activity = VMX_ACTIVITY_HLT;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_HW_EXCEPTION, 13));
VMCS(hlt_with_int3, LONG, VMCS_GUEST_ACTIVITY_STATE,
     e->activity = VMX_ACTIVITY_HLT;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_SOFT_EXCEPTION, 3));
VMCS(shutdown_with_interrupt, LONG, VMCS_GUEST_ACTIVITY_STATE,
     e->activity = VMX_ACTIVITY_SHUTDOWN; e->rflags |= RFLAGS_IF;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_EXT_INTR, 0x20));
VMCS(wait_sipi_with_nmi, LONG, VMCS_GUEST_ACTIVITY_STATE,
     e->activity = VMX_ACTIVITY_WAIT_SIPI;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_NMI, 2));
VMCS(interruptibility_bit5, LONG, VMCS_GUEST_INTERRUPTIBILITY,
     e->interruptibility = 1 << 5);
VMCS(sti_and_mov_ss, LONG, VMCS_GUEST_INTERRUPTIBILITY,
     e->rflags |= RFLAGS_IF; e->interruptibility = STI | MOV_SS);
VMCS(sti_with_if_clear, LONG, VMCS_GUEST_INTERRUPTIBILITY,
     e->interruptibility = STI);
VMCS(interrupt_in_mov_ss_shadow, LONG, VMCS_GUEST_INTERRUPTIBILITY,
     e->rflags |= RFLAGS_IF; e->interruptibility = MOV_SS;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_EXT_INTR, 0x20));
VMCS(nmi_in_mov_ss_shadow, LONG, VMCS_GUEST_INTERRUPTIBILITY,
     e->interruptibility = MOV_SS;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_NMI, 2));
VMCS(smi_blocking, LONG, VMCS_GUEST_INTERRUPTIBILITY,
     e->interruptibility = VMX_INTERRUPTIBILITY_SMI);
VMCS(virtual_nmi_while_blocked, LONG, VMCS_GUEST_INTERRUPTIBILITY,
     e->interruptibility = VMX_INTERRUPTIBILITY_NMI;
     e->entry_intr_info = INJECT(VMX_INTR_TYPE_NMI, 2));
VMCS(enclave_in_mov_ss_shadow, LONG, VMCS_GUEST_INTERRUPTIBILITY,
     e->interruptibility = VMX_INTERRUPTIBILITY_ENCLAVE | MOV_SS);
VMCS(pending_dbg_bit4, LONG, VMCS_GUEST_PENDING_DBG,
     e->pending_dbg = 1 << 4);
VMCS(pending_dbg_bit63, LONG, VMCS_GUEST_PENDING_DBG,
     e->pending_dbg = 1ULL << 63);
VMCS(single_step_without_bs, LONG, VMCS_GUEST_PENDING_DBG,
     e->rflags |= RFLAGS_IF | RFLAGS_TF; e->interruptibility = STI);
VMCS(bs_without_single_step, LONG, VMCS_GUEST_PENDING_DBG,
     e->activity = VMX_ACTIVITY_HLT; e->pending_dbg = VMX_PENDING_DBG_BS);
VMCS(bs_with_btf, LONG, VMCS_GUEST_PENDING_DBG,
     e->rflags |= RFLAGS_IF | RFLAGS_TF; e->interruptibility = STI;
     e->debugctl = DEBUGCTL_BTF; e->pending_dbg = VMX_PENDING_DBG_BS);
VMCS(pending_rtm_with_b0, LONG, VMCS_GUEST_PENDING_DBG,
     e->pending_dbg = VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP | 1);
VMCS(pending_rtm_in_mov_ss_shadow, LONG, VMCS_GUEST_PENDING_DBG,
     e->interruptibility = MOV_SS;
     e->pending_dbg = VMX_PENDING_DBG_RTM | VMX_PENDING_DBG_ENABLED_BP);

TEST_F(entry, first_field)
{
	const char *rule = "not set";
	uint32_t field;

	if (variant->spoil)
		variant->spoil(&self->r, &self->s);
	to_vmcs(&self->r, &self->s, &self->e);
	if (variant->spoil_vmcs)
		variant->spoil_vmcs(&self->e);

	field = entrycheck_guest_state(&self->e, &rule);
	EXPECT_EQ(variant->field, field)
		TH_LOG("reported %s (%#x): %s, expected %s (%#x)",
		       entrycheck_field_name(field), field, rule,
		       entrycheck_field_name(variant->field), variant->field);
	if (field) {
		ASSERT_NE(NULL, rule);
		EXPECT_NE(NULL, strstr(rule, "27.3.1."));
		EXPECT_STRNE("?", entrycheck_field_name(field));
	} else {
		EXPECT_EQ(NULL, rule);
	}
}

static u64 fake_vmread(u32 field)
{
	return (u64)field * 3 + 1;
}

/* entrycheck_read() puts each VMCS field in its own member */
TEST(read_fills_each_member)
{
	static const struct {
		uint32_t selector, base, limit, ar;
	} enc[EC_NR_SEGS] = {
		[EC_ES] = { 0x0800, 0x6806, 0x4800, 0x4814 },
		[EC_CS] = { 0x0802, 0x6808, 0x4802, 0x4816 },
		[EC_SS] = { 0x0804, 0x680a, 0x4804, 0x4818 },
		[EC_DS] = { 0x0806, 0x680c, 0x4806, 0x481a },
		[EC_FS] = { 0x0808, 0x680e, 0x4808, 0x481c },
		[EC_GS] = { 0x080a, 0x6810, 0x480a, 0x481e },
		[EC_LDTR] = { 0x080c, 0x6812, 0x480c, 0x4820 },
		[EC_TR] = { 0x080e, 0x6814, 0x480e, 0x4822 },
	};
	struct entrycheck_state e;
	int i;

	memset(&e, 0x5a, sizeof(e));
	entrycheck_read(&e, fake_vmread);
	for (i = 0; i < EC_NR_SEGS; i++) {
		EXPECT_EQ(fake_vmread(enc[i].selector), e.seg[i].selector);
		EXPECT_EQ(fake_vmread(enc[i].base), e.seg[i].base);
		EXPECT_EQ(fake_vmread(enc[i].limit), e.seg[i].limit);
		EXPECT_EQ(fake_vmread(enc[i].ar), e.seg[i].ar);
	}
	EXPECT_EQ(fake_vmread(0x6800), e.cr0);
	EXPECT_EQ(fake_vmread(0x6802), e.cr3);
	EXPECT_EQ(fake_vmread(0x6804), e.cr4);
	EXPECT_EQ(fake_vmread(0x681a), e.dr7);
	EXPECT_EQ(fake_vmread(0x681e), e.rip);
	EXPECT_EQ(fake_vmread(0x6820), e.rflags);
	EXPECT_EQ(fake_vmread(0x6816), e.gdtr_base);
	EXPECT_EQ(fake_vmread(0x4810), e.gdtr_limit);
	EXPECT_EQ(fake_vmread(0x6818), e.idtr_base);
	EXPECT_EQ(fake_vmread(0x4812), e.idtr_limit);
	EXPECT_EQ(fake_vmread(0x2802), e.debugctl);
	EXPECT_EQ(fake_vmread(0x2804), e.pat);
	EXPECT_EQ(fake_vmread(0x2806), e.efer);
	EXPECT_EQ(fake_vmread(0x6824), e.sysenter_esp);
	EXPECT_EQ(fake_vmread(0x6826), e.sysenter_eip);
	EXPECT_EQ(fake_vmread(0x4826), e.activity);
	EXPECT_EQ(fake_vmread(0x4824), e.interruptibility);
	EXPECT_EQ(fake_vmread(0x6822), e.pending_dbg);
	EXPECT_EQ(fake_vmread(0x4000), e.pin);
	EXPECT_EQ(fake_vmread(0x4002), e.proc);
	EXPECT_EQ(fake_vmread(0x401e), e.proc2);
	EXPECT_EQ(fake_vmread(0x4012), e.entry);
	EXPECT_EQ(fake_vmread(0x4016), e.entry_intr_info);
	/* The processor's values are the caller's */
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, e.cr0_fixed0);
	EXPECT_EQ(0x5a5a5a5aU, e.linear_bits);
}

TEST(field_names)
{
	EXPECT_STREQ("GUEST_CS_AR", entrycheck_field_name(VMCS_GUEST_CS_AR));
	EXPECT_STREQ("GUEST_TR_SELECTOR",
		     entrycheck_field_name(VMCS_GUEST_TR_SELECTOR));
	EXPECT_STREQ("GUEST_RFLAGS", entrycheck_field_name(VMCS_GUEST_RFLAGS));
	EXPECT_STREQ("GUEST_IA32_EFER",
		     entrycheck_field_name(VMCS_GUEST_IA32_EFER));
	EXPECT_STREQ("?", entrycheck_field_name(VMCS_LINK_POINTER));
	EXPECT_STREQ("?", entrycheck_field_name(0));
}

TEST_HARNESS_MAIN
