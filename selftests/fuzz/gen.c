// SPDX-License-Identifier: GPL-2.0
/*
 * What the fuzzer passes: ioctl numbers (known, near-known, random) and
 * the contents of their structure arguments, mostly valid with one rule
 * broken now and then, sometimes random bytes.
 */
#include "fuzz.h"

/* ---- memory regions ---- */

static const uint64_t big_sizes[] = {
	64ULL << 20, 256ULL << 20, 1ULL << 30, 0, 0, EPT_LIMIT,
	EPT_LIMIT - PG, 1ULL << 40,
};

static void gen_region(struct rng *r, const struct fz_vm *vm,
		       struct xvcpu_memory_region *mr)
{
	int used = vm ? pick_used_slot(r, vm) : -1;
	const struct fz_slot *s = used >= 0 ? &vm->slots[used] : NULL;
	uint64_t size;

	memset(mr, 0, sizeof(*mr));
	switch (rng_below(r, 10)) {
	case 0:
		mr->slot = rng_value(r);
		break;
	case 1:
	case 2:
		if (used >= 0) {
			mr->slot = used;
			break;
		}
		/* fall through */
	default:
		mr->slot = rng_below(r, fz.nr_slots);
		break;
	}
	if (rng_chance(r, 15))
		mr->flags = rng_chance(r, 75) ? XVCPU_MEM_READONLY :
			    rng_u64(r);

	switch (rng_below(r, 12)) {
	case 0:
	case 1:
	case 2:
		size = 0;
		break;
	case 3:
	case 4:
	case 5:
	case 6:
		size = (1 + rng_below(r, 512)) * PG;
		break;
	case 7:
		size = (1 + rng_below(r, 2)) << 21;
		break;
	case 8:
		size = big_sizes[rng_below(r, ARRAY_SIZE(big_sizes))];
		if (!size)
			size = fz.mem_limit + PG - rng_below(r, 3) * PG;
		break;
	case 9:
		size = rng_value(r);
		break;
	case 10:
		size = (1 + rng_below(r, 16)) * PG - 1 - rng_below(r, PG - 1);
		break;
	default:
		size = PG;
		break;
	}
	mr->memory_size = size;

	switch (rng_below(r, 10)) {
	case 0:
		if (s) {
			switch (rng_below(r, 4)) {
			case 0: mr->guest_phys_addr = s->gpa + s->size; break;
			case 1: mr->guest_phys_addr = s->gpa - size; break;
			case 2: mr->guest_phys_addr = s->gpa + s->size - PG; break;
			default: mr->guest_phys_addr = s->gpa; break;
			}
			break;
		}
		/* fall through */
	case 1:
		mr->guest_phys_addr = rng_value(r);
		break;
	case 2:
		mr->guest_phys_addr = EPT_LIMIT - size +
				      (rng_below(r, 3) - 1) * PG;
		break;
	case 3:
		mr->guest_phys_addr = rng_below(r, 1 << 20) * PG +
				      1 + rng_below(r, PG - 1);
		break;
	case 4:
		mr->guest_phys_addr = rng_below(r, 2048) << 21;
		break;
	case 5:
		/* Where the guest program does MMIO: now memory, for a while */
		mr->guest_phys_addr = PROG_MMIO - rng_below(r, 2) * PG;
		break;
	default:
		mr->guest_phys_addr = rng_below(r, 1 << 20) * PG;
		break;
	}
	if (rng_chance(r, 3))
		mr->reserved[rng_below(r, 2)] = rng_value(r) | 1;
	if (rng_chance(r, 10))
		mr->mmap_offset = rng_u64(r);	/* an output: ignored */
}

/* ---- events, translation, guest debug, CPUID tables ---- */

/* An event SET_EVENTS takes (SDM Vol. 3C 27.2.1.3), of a random type. */
static void gen_event(struct rng *r, struct xvcpu_event *ev)
{
	static const uint8_t types[] = {
		XVCPU_EVENT_EXTINT, XVCPU_EVENT_NMI, XVCPU_EVENT_EXCEPTION,
		XVCPU_EVENT_EXCEPTION, XVCPU_EVENT_SOFT_INT,
		XVCPU_EVENT_PRIV_SOFT_EXCEPTION, XVCPU_EVENT_SOFT_EXCEPTION,
	};

	memset(ev, 0, sizeof(*ev));
	ev->valid = 1;
	ev->type = types[rng_below(r, ARRAY_SIZE(types))];
	switch (ev->type) {
	case XVCPU_EVENT_EXTINT:
		ev->vector = 32 + rng_below(r, 224);
		break;
	case XVCPU_EVENT_NMI:
		ev->vector = 2;
		break;
	case XVCPU_EVENT_EXCEPTION:
		ev->vector = rng_chance(r, 50) ? 13 : rng_below(r, 32);
		break;
	case XVCPU_EVENT_SOFT_INT:
		ev->vector = rng_below(r, 256);
		break;
	case XVCPU_EVENT_PRIV_SOFT_EXCEPTION:
		ev->vector = 1;
		break;
	default:
		ev->vector = rng_chance(r, 50) ? 3 : 4;
		break;
	}
	if (ev->type == XVCPU_EVENT_EXCEPTION &&
	    vector_has_error_code(ev->vector)) {
		ev->has_error_code = 1;
		ev->error_code = rng_chance(r, 50) ? 0 : rng_below(r, 0x10000);
	}
	if (event_type_soft(ev->type))
		ev->instruction_len = 1 + rng_below(r, 15);
}

/* Break one rule of struct xvcpu_events (or keep them, by chance). */
static void mutate_events(struct rng *r, struct xvcpu_events *ev)
{
	struct xvcpu_event *e = &ev->injected;
	uint64_t v = rng_value(r) | 1;

	switch (rng_below(r, 16)) {
	case 0:
		e->valid = rng_chance(r, 50) ? 2 : v;
		break;
	case 1:
		/* 1 is reserved, 7 ("other event") is refused */
		e->type = rng_chance(r, 50) ? 1 + 6 * rng_below(r, 2) : v;
		break;
	case 2:
		e->vector = v;
		break;
	case 3:
		e->has_error_code ^= 1;
		break;
	case 4:
		e->error_code = rng_chance(r, 50) ? v << 16 : v;
		break;
	case 5:
		e->instruction_len = rng_chance(r, 50) ?
				     16 * rng_below(r, 2) : v;
		break;
	case 6:
		e->pad = v;
		break;
	case 7:
		if (rng_chance(r, 50))
			ev->reserved[rng_below(r, 3)] = v;
		else
			ev->pending_debug |= v << rng_below(r, 17);
		break;
	case 8:
		ev->pad[rng_below(r, 3)] = v;
		break;
	case 9:
		ev->interrupt_queued = 2 + rng_below(r, 254);
		break;
	case 10:
		ev->nmi_queued = 2 + rng_below(r, 254);
		break;
	case 11:
		ev->nmi_masked = 2 + rng_below(r, 254);
		break;
	case 12:
		ev->interrupt_queued = 0;
		ev->interrupt_vector = v;
		break;
	case 13:
		ev->shadow = 3 + rng_below(r, 253);
		break;
	case 14:
		/* Not valid: the kernel ignores the rest */
		e->valid = 0;
		e->vector = v;
		break;
	default:
		e->valid = 0;
		e->error_code = v;
		break;
	}
}

static const uint64_t pending_debug_values[] = {
	XVCPU_PENDING_DBG_BS, XVCPU_PENDING_DBG_B0_B3,
	XVCPU_PENDING_DBG_ENABLED_BP | 1,
	XVCPU_PENDING_DBG_RTM | XVCPU_PENDING_DBG_ENABLED_BP,
	XVCPU_PENDING_DBG_RTM, 1ULL << 13, 1ULL << 63,
};

/* SET_EVENTS content: mostly valid, sometimes clearing everything. */
void gen_events(struct rng *r, struct xvcpu_events *ev)
{
	unsigned int n;

	memset(ev, 0, sizeof(*ev));
	switch (rng_below(r, 10)) {
	case 0:
		rng_bytes(r, ev, sizeof(*ev));
		return;
	case 1:
	case 2:
		return;
	}
	if (rng_chance(r, 60))
		gen_event(r, &ev->injected);
	if (rng_chance(r, 30)) {
		ev->interrupt_queued = 1;
		ev->interrupt_vector = rng_below(r, 256);
	}
	ev->nmi_queued = rng_chance(r, 20);
	ev->nmi_masked = rng_chance(r, 20);
	if (rng_chance(r, 20))
		ev->shadow = rng_chance(r, 50) ? XVCPU_SHADOW_STI :
			     XVCPU_SHADOW_MOV_SS;
	if (rng_chance(r, 15))
		ev->pending_debug = pending_debug_values[
			rng_below(r, ARRAY_SIZE(pending_debug_values))];
	for (n = rng_chance(r, 25) ? 1 + rng_below(r, 2) : 0; n > 0; n--)
		mutate_events(r, ev);
}

static void gen_interrupt(struct rng *r, struct xvcpu_interrupt *irq)
{
	memset(irq, 0, sizeof(*irq));
	irq->vector = rng_chance(r, 90) ? rng_below(r, 256) : rng_value(r);
	if (rng_chance(r, 5))
		irq->pad = rng_value(r) | 1;
}

static const uint64_t translate_addrs[] = {
	PROG_CODE, PROG_DATA, PROG_STACK - 8, PROG_MMIO, MSRPROG_IDT, 0,
	0xfffff000ULL, 0x100000000ULL, 0x00007ffffffff000ULL,
	0x0000800000000000ULL, 0xffff800000000000ULL, 0x00ff800000000000ULL,
	0xff00000000000000ULL, ~0ULL,
};

static void gen_translation(struct rng *r, struct xvcpu_translation *t)
{
	memset(t, 0, sizeof(*t));
	switch (rng_below(r, 4)) {
	case 0:
	case 1:
		t->linear_address =
			translate_addrs[rng_below(r, ARRAY_SIZE(translate_addrs))] +
			rng_below(r, 3) * PG + rng_below(r, 8);
		break;
	case 2:
		t->linear_address = rng_below(r, 1ULL << 32);
		break;
	default:
		t->linear_address = rng_value(r);
		break;
	}
	t->access = rng_chance(r, 90) ? rng_below(r, 8) : rng_u64(r);
	if (rng_chance(r, 4))
		t->pad = rng_value(r) | 1;
	if (rng_chance(r, 4))
		t->reserved[rng_below(r, 2)] = rng_value(r) | 1;
	if (rng_chance(r, 10)) {
		/* Outputs: overwritten */
		t->physical_address = rng_u64(r);
		t->valid = rng_u64(r);
		t->error_code = rng_u64(r);
		t->page_size = rng_u64(r);
	}
}

void gen_guest_debug(struct rng *r, struct xvcpu_guest_debug *d)
{
	memset(d, 0, sizeof(*d));
	d->flags = rng_chance(r, 90) ? rng_below(r, 8) : rng_u64(r);
	if (rng_chance(r, 4))
		d->pad = rng_value(r) | 1;
	if (rng_chance(r, 4))
		d->reserved[rng_below(r, 3)] = rng_value(r) | 1;
}

/*
 * A CPUID table for SET_CPUID: the supported one, part of it, with new
 * values, or breaking a rule (duplicates, flags, pads, too many).  For
 * the GET ioctls (@get): the input nent and pad, mostly 0.
 */
static void gen_cpuid(struct rng *r, struct xvcpu_cpuid *c, bool get)
{
	struct xvcpu_cpuid_entry *e = c->entries;
	uint32_t i, j, n = fz.supported.nent;

	if (get) {
		memset(c, 0, CPUID_HDR);
		if (rng_chance(r, 10))
			c->nent = rng_chance(r, 50) ? 1 : rng_value(r);
		if (rng_chance(r, 5))
			c->pad = rng_value(r) | 1;
		return;
	}
	*c = fz.supported;
	switch (rng_below(r, 12)) {
	case 0:
		rng_bytes(r, c, sizeof(*c));
		if (rng_chance(r, 50))
			c->nent = rng_below(r, XVCPU_CPUID_MAX_ENTRIES + 1);
		if (rng_chance(r, 50))
			c->pad = 0;
		return;
	case 1:
		c->nent = 0;
		return;
	case 2:
	case 3:
		return;
	case 4:
	case 5:
		c->nent = rng_below(r, n + 1);
		return;
	}
	/* New values, the odd rule broken */
	for (i = rng_below(r, 4); n && i > 0; i--) {
		j = rng_below(r, n);
		switch (rng_below(r, 10)) {
		case 0:
			e[j].flags ^= XVCPU_CPUID_FLAG_INDEXED;
			break;
		case 1:
			e[j].function = rng_chance(r, 50) ? e[rng_below(r, n)].function :
					rng_value(r);
			break;
		case 2:
			e[j].index = rng_value(r);
			break;
		case 3:
			e[j].flags = rng_value(r);
			break;
		case 4:
			e[j].pad = rng_value(r) | 1;
			break;
		case 5:
			e[j].eax = rng_u64(r);
			break;
		case 6:
			e[j].ebx = rng_u64(r);
			break;
		case 7:
			e[j].ecx = rng_u64(r);
			break;
		default:
			e[j].edx = rng_u64(r);
			break;
		}
	}
	if (rng_chance(r, 10) && n < XVCPU_CPUID_MAX_ENTRIES) {
		/* A duplicate, or another subleaf */
		e[n] = e[rng_below(r, n ?: 1)];
		if (rng_chance(r, 50))
			e[n].index++;
		c->nent = n + 1;
	}
	if (rng_chance(r, 5))
		c->nent = XVCPU_CPUID_MAX_ENTRIES + 1 + rng_below(r, 3);
	if (rng_chance(r, 3))
		c->pad = rng_value(r) | 1;
}

/* ---- ioctl numbers ---- */

const struct known_cmd known[] = {
	{ XVCPU_GET_API_VERSION, FD_SYS, 0, "GET_API_VERSION" },
	{ XVCPU_CHECK_CAP, FD_SYS, 0, "CHECK_CAP" },
	{ XVCPU_CREATE_VM, FD_SYS, 0, "CREATE_VM" },
	{ XVCPU_GET_VCPU_MMAP_SIZE, FD_SYS, 0, "GET_VCPU_MMAP_SIZE" },
	{ XVCPU_GET_SUPPORTED_CPUID, FD_SYS, sizeof(struct xvcpu_cpuid),
	  "GET_SUPPORTED_CPUID" },
	{ XVCPU_SET_MEMORY_REGION, FD_VM, sizeof(struct xvcpu_memory_region),
	  "SET_MEMORY_REGION" },
	{ XVCPU_CREATE_VCPU, FD_VM, 0, "CREATE_VCPU" },
	{ XVCPU_RUN, FD_VCPU, 0, "RUN" },
	{ XVCPU_GET_REGS, FD_VCPU, sizeof(struct xvcpu_regs), "GET_REGS" },
	{ XVCPU_SET_REGS, FD_VCPU, sizeof(struct xvcpu_regs), "SET_REGS" },
	{ XVCPU_GET_SREGS, FD_VCPU, sizeof(struct xvcpu_sregs), "GET_SREGS" },
	{ XVCPU_SET_SREGS, FD_VCPU, sizeof(struct xvcpu_sregs), "SET_SREGS" },
	{ XVCPU_GET_EXIT_INFO, FD_VCPU, sizeof(struct xvcpu_exit_info),
	  "GET_EXIT_INFO" },
	{ XVCPU_SET_MSR_POLICY, FD_VM, sizeof(struct xvcpu_msr_policy),
	  "SET_MSR_POLICY" },
	{ XVCPU_GET_EVENTS, FD_VCPU, sizeof(struct xvcpu_events),
	  "GET_EVENTS" },
	{ XVCPU_SET_EVENTS, FD_VCPU, sizeof(struct xvcpu_events),
	  "SET_EVENTS" },
	{ XVCPU_INTERRUPT, FD_VCPU, sizeof(struct xvcpu_interrupt),
	  "INTERRUPT" },
	{ XVCPU_NMI, FD_VCPU, 0, "NMI" },
	{ XVCPU_TRANSLATE, FD_VCPU, sizeof(struct xvcpu_translation),
	  "TRANSLATE" },
	{ XVCPU_SET_GUEST_DEBUG, FD_VCPU, sizeof(struct xvcpu_guest_debug),
	  "SET_GUEST_DEBUG" },
	{ XVCPU_SET_CPUID, FD_VCPU, sizeof(struct xvcpu_cpuid), "SET_CPUID" },
	{ XVCPU_GET_CPUID, FD_VCPU, sizeof(struct xvcpu_cpuid), "GET_CPUID" },
};

const unsigned int nr_known = ARRAY_SIZE(known);

_Static_assert(ARRAY_SIZE(known) <= ARRAY_SIZE(fz.known_ok),
	       "fz.known_ok[] counts every known command");

const struct known_cmd *find_known(unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (known[i].cmd == cmd)
			return &known[i];
	return NULL;
}

bool xvcpu_type(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == XVCPUIO;
}

int known_of_kind(struct rng *r, int kind)
{
	int i, n = 0, c[ARRAY_SIZE(known)];

	for (i = 0; i < (int)ARRAY_SIZE(known); i++)
		if (kind < 0 || known[i].kind == kind)
			c[n++] = i;
	return c[rng_below(r, n)];
}

static const unsigned int ioc_sizes[] = {
	0, 1, 8, 24, 40, 64, 144, 256, 312, 4616, 0x3fff,
};

/* An ioctl number for an fd of @kind; upper bits sometimes set too. */
unsigned long gen_cmd(struct rng *r, int kind)
{
	unsigned int c = rng_below(r, 100), cmd;

	if (c < 55)
		return known[known_of_kind(r, kind)].cmd;
	if (c < 65)
		return known[known_of_kind(r, -1)].cmd;
	if (c < 80)
		return _IOC(rng_below(r, 4), XVCPUIO, rng_below(r, 64),
			    ioc_sizes[rng_below(r, ARRAY_SIZE(ioc_sizes))]);
	if (c < 90) {
		/* a known number with another direction or size */
		cmd = known[known_of_kind(r, kind)].cmd;
		return cmd ^ (1U << (_IOC_SIZESHIFT + rng_below(r, 16)));
	}
	cmd = rng_u64(r);
	if (rng_chance(r, 50))
		return cmd;
	return (rng_u64(r) << 32) | cmd;
}

/* The content of an ioctl's structure argument. */
/* ---- the content of an ioctl's structure argument ---- */

void gen_content(struct rng *r, unsigned int cmd, int kind, int obj,
		 void *content, size_t size)
{
	switch (cmd) {
	case XVCPU_SET_MEMORY_REGION:
		if (rng_chance(r, 90))
			gen_region(r, kind == FD_VM ? &fz.vms[obj] : NULL,
				   content);
		else
			rng_bytes(r, content, size);
		break;
	case XVCPU_SET_REGS:
		gen_regs(r, content);
		break;
	case XVCPU_SET_SREGS:
		gen_sregs(r, content);
		break;
	case XVCPU_SET_MSR_POLICY:
		memset(content, 0, size);
		if (rng_chance(r, 10))
			rng_bytes(r, content, size);
		else if (rng_chance(r, 60))
			((struct xvcpu_msr_policy *)content)->flags =
				XVCPU_MSR_EXIT_UNKNOWN;
		break;
	case XVCPU_SET_EVENTS:
		gen_events(r, content);
		break;
	case XVCPU_INTERRUPT:
		gen_interrupt(r, content);
		break;
	case XVCPU_TRANSLATE:
		gen_translation(r, content);
		break;
	case XVCPU_SET_GUEST_DEBUG:
		gen_guest_debug(r, content);
		break;
	case XVCPU_SET_CPUID:
	case XVCPU_GET_CPUID:
	case XVCPU_GET_SUPPORTED_CPUID:
		gen_cpuid(r, content, cmd != XVCPU_SET_CPUID);
		break;
	default:
		rng_bytes(r, content, size);
		break;
	}
}
