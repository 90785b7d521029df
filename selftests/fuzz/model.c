// SPDX-License-Identifier: GPL-2.0
/*
 * The module's rules, as the fuzzer predicts them: each verdict is 0 or
 * the errno the module must answer (or V_OK/V_EINVAL bits where the
 * answer depends on what the model cannot know).
 *
 * Linked, not restated: where a rule lives in a pure file of the module
 * that its unit tests cover, the fuzzer calls that file, built into this
 * binary: SET_CPUID's table check (cpuid_check()) and the CR4 bits a
 * vCPU's table gives (cpuid_cr4_allowed()), kmod/cpuid_table.c.
 * Independent: every other rule is written here again from the ABI and
 * the SDM, on purpose or because the module's code is not pure (SET_SREGS
 * checks are in kmod/vmcs.c and kmod/vcpu.c, next to VMCS accesses); a
 * mismatch then says that one of the two is wrong, and the log says
 * which rule (see selftests/README.md).
 */
#include "fuzz.h"
#include "../../kmod/cpuid.h"

/* Architectural bits (SDM Vol. 3A 2.5, 4.4.1) */
#define PDPTE_P			(1ULL << 0)

long cap_value(unsigned long cap)
{
	return cap < ARRAY_SIZE(fz.cap) ? fz.cap[cap] : 0;
}

bool event_type_soft(unsigned int type)
{
	return type == XVCPU_EVENT_SOFT_INT ||
	       type == XVCPU_EVENT_PRIV_SOFT_EXCEPTION ||
	       type == XVCPU_EVENT_SOFT_EXCEPTION;
}

/* kmod/event.c event_invalid(): V_OK, V_EINVAL or (unsure) both. */
static unsigned int event_verdict(const struct xvcpu_event *e)
{
	unsigned int ok = V_OK;

	if (e->pad)
		return V_EINVAL;
	/* Not valid: the other fields are ignored */
	if (!e->valid)
		return V_OK;
	if (e->valid != 1)
		return V_EINVAL;
	switch (e->type) {
	case XVCPU_EVENT_EXTINT:
	case XVCPU_EVENT_SOFT_INT:
		break;
	case XVCPU_EVENT_NMI:
		if (e->vector != 2)
			return V_EINVAL;
		/*
		 * Needs virtual NMIs: CAP_NMI says the CPU has them and
		 * NMI-window exiting; without it either may be missing.
		 */
		if (!cap_value(XVCPU_CAP_NMI))
			ok |= V_EINVAL;
		break;
	case XVCPU_EVENT_EXCEPTION:
		if (e->vector > 31)
			return V_EINVAL;
		break;
	case XVCPU_EVENT_PRIV_SOFT_EXCEPTION:
		if (e->vector != 1)
			return V_EINVAL;
		break;
	case XVCPU_EVENT_SOFT_EXCEPTION:
		if (e->vector != 3 && e->vector != 4)
			return V_EINVAL;
		break;
	default:
		return V_EINVAL;
	}
	if (e->has_error_code > 1 ||
	    e->has_error_code != (e->type == XVCPU_EVENT_EXCEPTION &&
				  vector_has_error_code(e->vector)))
		return V_EINVAL;
	if (e->error_code >> 16 || (!e->has_error_code && e->error_code))
		return V_EINVAL;
	if (event_type_soft(e->type) ?
	    e->instruction_len < 1 || e->instruction_len > 15 :
	    e->instruction_len != 0)
		return V_EINVAL;
	return ok;
}

/*
 * kmod/event.c xvcpu_vcpu_set_events(): the fields first, then what VM
 * entry requires of the state with them (SDM Vol. 3C 27.3.1.5): an STI
 * shadow and an injected external interrupt need RFLAGS.IF = 1, the
 * interrupt no shadow, an injected NMI neither NMI blocking nor a MOV SS
 * shadow; pending_debug its known bits, RTM only with ENABLED_BP and no
 * MOV SS shadow, and with a shadow BS exactly when RFLAGS.TF = 1 (the
 * fuzzer never sets DEBUGCTL.BTF).  @rflags: the vCPU's, or -1 if unknown.
 */
unsigned int events_verdict(const struct xvcpu_events *ev,
			    int64_t rflags)
{
	const struct xvcpu_event *e = &ev->injected;
	unsigned int v = event_verdict(e), i;
	int if_flag = rflags < 0 ? -1 : !!(rflags & RFLAGS_IF);
	uint64_t pd = ev->pending_debug;
	bool needs_if;

	for (i = 0; i < ARRAY_SIZE(ev->reserved); i++)
		if (ev->reserved[i])
			return V_EINVAL;
	if (ev->pad[0] | ev->pad[1] | ev->pad[2] || ev->interrupt_queued > 1 ||
	    ev->nmi_queued > 1 || ev->nmi_masked > 1 ||
	    (!ev->interrupt_queued && ev->interrupt_vector) ||
	    (ev->nmi_queued && !cap_value(XVCPU_CAP_NMI)) ||
	    ev->shadow & ~(XVCPU_SHADOW_STI | XVCPU_SHADOW_MOV_SS) ||
	    ev->shadow == (XVCPU_SHADOW_STI | XVCPU_SHADOW_MOV_SS))
		return V_EINVAL;
	if (pd & ~(XVCPU_PENDING_DBG_B0_B3 | XVCPU_PENDING_DBG_ENABLED_BP |
		   XVCPU_PENDING_DBG_BS | XVCPU_PENDING_DBG_RTM))
		return V_EINVAL;
	if ((pd & XVCPU_PENDING_DBG_RTM) &&
	    (pd != (XVCPU_PENDING_DBG_RTM | XVCPU_PENDING_DBG_ENABLED_BP) ||
	     ev->shadow & XVCPU_SHADOW_MOV_SS))
		return V_EINVAL;
	if (!(v & V_OK))
		return v;
	if (ev->shadow) {
		if (rflags < 0)
			v |= V_EINVAL;
		else if (!(pd & XVCPU_PENDING_DBG_BS) != !(rflags & RFLAGS_TF))
			return V_EINVAL;
	}
	if (e->valid && e->type == XVCPU_EVENT_EXTINT && ev->shadow)
		return V_EINVAL;
	if (e->valid && e->type == XVCPU_EVENT_NMI &&
	    (ev->nmi_masked || ev->shadow & XVCPU_SHADOW_MOV_SS))
		return V_EINVAL;
	needs_if = ev->shadow & XVCPU_SHADOW_STI ||
		   (e->valid && e->type == XVCPU_EVENT_EXTINT);
	if (!needs_if)
		return v;
	if (if_flag < 0)
		return v | V_EINVAL;
	return if_flag ? v : V_EINVAL;
}

/* kmod/event.c xvcpu_vcpu_set_guest_debug(): 0 or an errno. */
int guest_debug_verdict(const struct xvcpu_guest_debug *d)
{
	if (d->flags & ~DEBUG_FLAGS || d->pad || d->reserved[0] ||
	    d->reserved[1] || d->reserved[2])
		return EINVAL;
	/* CAP_GUEST_DEBUG: the flags that work (single-step needs MTF) */
	if (d->flags & ~cap_value(XVCPU_CAP_GUEST_DEBUG))
		return EOPNOTSUPP;
	return 0;
}

/*
 * SET_CPUID's check of a table of @nent <= XVCPU_CPUID_MAX_ENTRIES
 * entries: the module's own cpuid_check() (linked).
 */
int cpuid_verdict(const struct xvcpu_cpuid_entry *e, uint32_t nent)
{
	uint32_t bad, other;

	return cpuid_check(e, nent, &bad, &other) == CPUID_OK ? 0 : EINVAL;
}

/* The answer to SET_MEMORY_REGION @mr on @vm: 0 or an errno. */
int region_verdict(const struct fz_vm *vm,
		   const struct xvcpu_memory_region *mr)
{
	const struct fz_slot *s;
	unsigned int i;
	uint64_t end;

	if (mr->reserved[0] || mr->reserved[1])
		return EINVAL;
	if (mr->slot >= fz.nr_slots || mr->flags & ~XVCPU_MEM_READONLY)
		return EINVAL;
	s = &vm->slots[mr->slot];
	if (!mr->memory_size) {
		if (!s->used)
			return ENOENT;
		return slot_mapped(vm - fz.vms, mr->slot) ? EBUSY : 0;
	}
	if ((mr->guest_phys_addr | mr->memory_size) & (PG - 1))
		return EINVAL;
	end = mr->guest_phys_addr + mr->memory_size;
	if (end < mr->guest_phys_addr || end > EPT_LIMIT)
		return EINVAL;
	if (s->used)
		return EEXIST;
	for (i = 0; i < fz.nr_slots; i++) {
		const struct fz_slot *o = &vm->slots[i];

		if (o->used && mr->guest_phys_addr < o->gpa + o->size &&
		    o->gpa < end)
			return EEXIST;
	}
	if (mr->memory_size > fz.mem_limit - vm->mem_bytes)
		return E2BIG;
	return 0;
}

/*
 * SET_SREGS's check of the fields alone (kmod/vmcs.c vmcs_check_sregs,
 * restated): 0 or EINVAL.  What GET_SREGS gives must pass it.
 */
int sregs_verdict(const struct xvcpu_sregs *s)
{
	const struct xvcpu_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(s->reserved); i++)
		if (s->reserved[i])
			return EINVAL;
	for (i = 0; i < ARRAY_SIZE(segs); i++)
		if (segs[i]->pad)
			return EINVAL;
	for (i = 0; i < 3; i++)
		if (s->gdt.pad[i] || s->idt.pad[i])
			return EINVAL;
	if (s->cr0 & ~CR0_KNOWN || s->cr4 & ~fz.cr4_ok ||
	    s->efer & ~EFER_KNOWN)
		return EINVAL;
	/* SDM Vol. 3C 27.3.1.1: LMA needs PG and PAE; with PG, LMA = LME */
	if (s->efer & EFER_LMA && (!(s->cr0 & CR0_PG) || !(s->cr4 & CR4_PAE)))
		return EINVAL;
	if (s->cr0 & CR0_PG && !(s->efer & EFER_LMA) != !(s->efer & EFER_LME))
		return EINVAL;
	/* SDM Vol. 3A 2.5: PG needs PE, NW needs CD */
	if ((s->cr0 & CR0_PG && !(s->cr0 & CR0_PE)) ||
	    (s->cr0 & CR0_NW && !(s->cr0 & CR0_CD)))
		return EINVAL;
	return 0;
}

/* MAXPHYADDR: CPUID.80000008H:EAX[7:0] (SDM Vol. 3A 4.1.4) */
static unsigned int phys_bits(void)
{
	static unsigned int bits;
	uint32_t a, b, c, d;

	if (!bits) {
		asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
		     : "a"(0x80000000));
		bits = 36;
		if (a >= 0x80000008) {
			asm volatile("cpuid"
				     : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
				     : "a"(0x80000008));
			bits = a & 0xff;
		}
	}
	return bits;
}

/*
 * The four PDPTEs of PAE paging at @cr3, read as the module reads them
 * (kmod/vcpu.c vcpu_read_pdptes): from CR3[31:5], all in guest memory,
 * and no present one with a reserved bit (SDM Vol. 3A 4.4.1: bits 2:1,
 * 8:5 and MAXPHYADDR and up).  V_EINVAL where they are not, V_OK where
 * they are, both where the model cannot read them: memory only slot 0
 * of a prepared VM is known of (main's mapping of it), and only while no
 * guest of the VM can be writing it (a runner's job still going on).
 */
static unsigned int pdptes_verdict(const struct fz_vm *vm, uint64_t cr3,
				   char *why, size_t len)
{
	uint64_t gpa = cr3 & 0xffffffe0ULL, reserved, pdpte[4];
	const struct fz_slot *s = NULL;
	unsigned int i, vmi = vm - fz.vms;

	if (vm->lost) {
		snprintf(why, len, "PDPTEs at %#llx: slots not known",
			 (unsigned long long)gpa);
		return V_OK | V_EINVAL;
	}
	for (i = 0; i < fz.nr_slots && !s; i++)
		if (vm->slots[i].used && gpa >= vm->slots[i].gpa &&
		    gpa + 32 <= vm->slots[i].gpa + vm->slots[i].size)
			s = &vm->slots[i];
	if (!s) {
		snprintf(why, len, "PDPTEs at %#llx: not in guest memory",
			 (unsigned long long)gpa);
		return V_EINVAL;
	}
	for (i = 0; i < NR_VCPUS; i++)
		if (opt.concurrent && fz.vcpus[i].used &&
		    fz.vcpus[i].vm == (int)vmi && fz.vcpus[i].runner >= 0)
			s = NULL;
	if (!s || s != &vm->slots[0] || !vm->code) {
		snprintf(why, len, "PDPTEs at %#llx: content not known",
			 (unsigned long long)gpa);
		return V_OK | V_EINVAL;
	}
	memcpy(pdpte, vm->code + gpa, sizeof(pdpte));
	reserved = ~0ULL << phys_bits() | 0x1e0ULL | 0x6ULL;
	for (i = 0; i < 4; i++) {
		if (!(pdpte[i] & PDPTE_P) || !(pdpte[i] & reserved))
			continue;
		snprintf(why, len, "PDPTE %u at %#llx: %#llx, reserved bits set",
			 i, (unsigned long long)gpa,
			 (unsigned long long)pdpte[i]);
		return V_EINVAL;
	}
	snprintf(why, len, "PDPTEs at %#llx valid", (unsigned long long)gpa);
	return V_OK;
}

/*
 * SET_SREGS of @s on vCPU @v (NULL: a runner's, not known): the fields
 * (sregs_verdict), then what the vCPU's state and memory require
 * (kmod/vcpu.c xvcpu_vcpu_set_sregs): CR4 bits only as the vCPU's CPUID
 * table gives them (cpuid_cr4_allowed(), linked), and PAE paging
 * outside IA-32e mode only with PDPTEs to load.  V_OK and/or V_EINVAL;
 * @why (if not NULL) says which rule decided.
 */
unsigned int sregs_state_verdict(const struct xvcpu_sregs *s,
				 const struct fz_vcpu *v, char *why,
				 size_t len)
{
	unsigned int verdict = V_OK;
	char buf[96];
	uint64_t allowed;

	if (!why) {
		why = buf;
		len = sizeof(buf);
	}
	snprintf(why, len, "fields");
	if (sregs_verdict(s))
		return V_EINVAL;
	if (s->cr4 & ~CPUID_CR4_ALWAYS) {
		if (!v || v->cpuid_lost) {
			snprintf(why, len, "CR4 %#llx: CPUID not known",
				 (unsigned long long)s->cr4);
			verdict |= V_EINVAL;
		} else {
			allowed = cpuid_cr4_allowed(v->cpuid, v->cpuid_nent,
						    fz.xcr0_supported);
			snprintf(why, len, "CR4 %#llx: CPUID gives %#llx",
				 (unsigned long long)s->cr4,
				 (unsigned long long)allowed);
			if (s->cr4 & ~allowed)
				return V_EINVAL;
		}
	}
	if (s->cr0 & CR0_PG && s->cr4 & CR4_PAE && !(s->efer & EFER_LMA)) {
		if (!v)
			return verdict | V_EINVAL;
		verdict = (verdict & V_EINVAL) |
			  pdptes_verdict(&fz.vms[v->vm], s->cr3, why, len);
	}
	return verdict;
}

bool rflags_ok(uint64_t rflags)
{
	return (rflags & ~RFLAGS_DEFINED) == RFLAGS_FIXED;
}

/* Whether TRANSLATE of @la is refused as not canonical (kmod/gwalk.c) */
bool translate_noncanonical(const struct xvcpu_sregs *s, uint64_t la)
{
	unsigned int width = s->cr4 & CR4_LA57 ? 57 : 48;
	uint64_t top;

	if (!(s->efer & EFER_LMA))
		return la >> 32;
	top = la >> (width - 1);
	return top && top != ~0ULL >> (width - 1);
}
