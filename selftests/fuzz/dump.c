// SPDX-License-Identifier: GPL-2.0
/*
 * Whole arguments in a failure report: every field of the structure a
 * call got, so that a failure explains itself without a replay.  Lines
 * go out through fail_detail(), after the failure line.
 */
#include "fuzz.h"

#define U(x)	((unsigned long long)(x))

static void dump_segment(const char *name, const struct xvcpu_segment *g)
{
	fail_detail("%-3s base %#llx limit %#x sel %#x type %u p %u dpl %u db %u s %u l %u g %u avl %u unusable %u pad %u",
		    name, U(g->base), g->limit, g->selector, g->type,
		    g->present, g->dpl, g->db, g->s, g->l, g->g, g->avl,
		    g->unusable, g->pad);
}

void dump_sregs(const struct xvcpu_sregs *s)
{
	dump_segment("cs", &s->cs);
	dump_segment("ds", &s->ds);
	dump_segment("es", &s->es);
	dump_segment("fs", &s->fs);
	dump_segment("gs", &s->gs);
	dump_segment("ss", &s->ss);
	dump_segment("tr", &s->tr);
	dump_segment("ldt", &s->ldt);
	fail_detail("gdt %#llx/%#x pad %#x %#x %#x, idt %#llx/%#x pad %#x %#x %#x",
		    U(s->gdt.base), s->gdt.limit, s->gdt.pad[0], s->gdt.pad[1],
		    s->gdt.pad[2], U(s->idt.base), s->idt.limit,
		    s->idt.pad[0], s->idt.pad[1], s->idt.pad[2]);
	fail_detail("cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx efer %#llx reserved %#llx %#llx %#llx %#llx",
		    U(s->cr0), U(s->cr2), U(s->cr3), U(s->cr4), U(s->efer),
		    U(s->reserved[0]), U(s->reserved[1]), U(s->reserved[2]),
		    U(s->reserved[3]));
}

void dump_regs(const struct xvcpu_regs *r)
{
	fail_detail("rax %#llx rbx %#llx rcx %#llx rdx %#llx rsi %#llx rdi %#llx rsp %#llx rbp %#llx",
		    U(r->rax), U(r->rbx), U(r->rcx), U(r->rdx), U(r->rsi),
		    U(r->rdi), U(r->rsp), U(r->rbp));
	fail_detail("r8 %#llx r9 %#llx r10 %#llx r11 %#llx r12 %#llx r13 %#llx r14 %#llx r15 %#llx",
		    U(r->r8), U(r->r9), U(r->r10), U(r->r11), U(r->r12),
		    U(r->r13), U(r->r14), U(r->r15));
	fail_detail("rip %#llx rflags %#llx", U(r->rip), U(r->rflags));
}

void dump_events(const struct xvcpu_events *ev)
{
	const struct xvcpu_event *e = &ev->injected;

	fail_detail("injected: valid %u type %u vector %u has_error_code %u error_code %#x instruction_len %u pad %#x",
		    e->valid, e->type, e->vector, e->has_error_code,
		    e->error_code, e->instruction_len, e->pad);
	fail_detail("interrupt_queued %u vector %u, nmi_queued %u nmi_masked %u, shadow %#x, pad %#x %#x %#x",
		    ev->interrupt_queued, ev->interrupt_vector, ev->nmi_queued,
		    ev->nmi_masked, ev->shadow, ev->pad[0], ev->pad[1],
		    ev->pad[2]);
	fail_detail("pending_debug %#llx reserved %#llx %#llx %#llx",
		    U(ev->pending_debug), U(ev->reserved[0]),
		    U(ev->reserved[1]), U(ev->reserved[2]));
}

static void dump_cpuid(const struct xvcpu_cpuid *c)
{
	uint32_t i, n = c->nent < XVCPU_CPUID_MAX_ENTRIES ?
			c->nent : XVCPU_CPUID_MAX_ENTRIES;

	fail_detail("nent %u pad %#x", c->nent, c->pad);
	for (i = 0; i < n; i++)
		fail_detail("[%u] %#x/%#x flags %#x pad %#x: %#x %#x %#x %#x", i,
			    c->entries[i].function, c->entries[i].index,
			    c->entries[i].flags, c->entries[i].pad,
			    c->entries[i].eax, c->entries[i].ebx,
			    c->entries[i].ecx, c->entries[i].edx);
}

/*
 * check() of a call of ioctl @cmd on behalf of @who, with its whole
 * argument @arg (NULL: none) in the report if it failed.
 */
bool check_call(const struct expect *e, long ret, int err, const char *who,
		unsigned int cmd, const void *arg)
{
	const struct known_cmd *k = find_known(cmd);
	char what[128];

	snprintf(what, sizeof(what), "%s: %s", who, k ? k->name : "ioctl");
	if (check(e, ret, err, what))
		return true;
	if (arg)
		dump_arg(cmd, arg);
	return false;
}

/* The structure argument of ioctl @cmd, as it was passed (@arg). */
void dump_arg(unsigned int cmd, const void *arg)
{
	const struct xvcpu_memory_region *mr = arg;
	const struct xvcpu_translation *t = arg;
	const struct xvcpu_guest_debug *d = arg;
	const struct xvcpu_msr_policy *mp = arg;
	const struct xvcpu_interrupt *irq = arg;

	switch (cmd) {
	case XVCPU_SET_SREGS:
		dump_sregs(arg);
		break;
	case XVCPU_SET_REGS:
		dump_regs(arg);
		break;
	case XVCPU_SET_EVENTS:
		dump_events(arg);
		break;
	case XVCPU_SET_MEMORY_REGION:
		fail_detail("slot %u flags %#x gpa %#llx size %#llx mmap_offset %#llx reserved %#llx %#llx",
			    mr->slot, mr->flags, U(mr->guest_phys_addr),
			    U(mr->memory_size), U(mr->mmap_offset),
			    U(mr->reserved[0]), U(mr->reserved[1]));
		break;
	case XVCPU_TRANSLATE:
		fail_detail("linear %#llx access %#x pad %#x reserved %#llx %#llx",
			    U(t->linear_address), t->access, t->pad,
			    U(t->reserved[0]), U(t->reserved[1]));
		break;
	case XVCPU_SET_GUEST_DEBUG:
		fail_detail("flags %#x pad %#x reserved %#llx %#llx %#llx",
			    d->flags, d->pad, U(d->reserved[0]),
			    U(d->reserved[1]), U(d->reserved[2]));
		break;
	case XVCPU_SET_MSR_POLICY:
		fail_detail("flags %#x pad %#x reserved %#llx %#llx %#llx",
			    mp->flags, mp->pad, U(mp->reserved[0]),
			    U(mp->reserved[1]), U(mp->reserved[2]));
		break;
	case XVCPU_INTERRUPT:
		fail_detail("vector %u pad %#x", irq->vector, irq->pad);
		break;
	case XVCPU_SET_CPUID:
	case XVCPU_GET_CPUID:
	case XVCPU_GET_SUPPORTED_CPUID:
		dump_cpuid(arg);
		break;
	default:
		break;
	}
}
