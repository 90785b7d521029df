// SPDX-License-Identifier: GPL-2.0
/*
 * What each ioctl should answer, from the model (the rules are in
 * model.c), and checks of what the GET ioctls wrote back.
 */
#include "fuzz.h"

/* ---- system and VM fds ---- */

/*
 * The header of struct xvcpu_cpuid, read first by the CPUID ioctls:
 * true if that decides the answer (not readable, or not known).
 */
static bool predict_cpuid_header(struct expect *e, const struct ptr *p)
{
	if (p->rd_len < CPUID_HDR) {
		exp_err(e, EFAULT);
		return true;
	}
	if (!ptr_known(p, CPUID_HDR)) {
		e->ok = 0;
		exp_err(e, EINVAL);
		exp_err(e, EFAULT);
		return true;
	}
	return false;
}

/*
 * GET_SUPPORTED_CPUID and GET_CPUID (kmod/dev.c): nent and pad are read
 * and must be 0; the @nent entries are written, then nent and pad.
 * @nent < 0: not known.
 */
static void predict_cpuid_get(struct expect *e, const struct ptr *p,
			      long nent)
{
	const struct xvcpu_cpuid *c = p->content;

	if (predict_cpuid_header(e, p))
		return;
	if (c->nent || c->pad) {
		exp_err(e, EINVAL);
		return;
	}
	if (nent < 0) {
		/* Room for any table, for none, or it depends */
		if (p->wr_len >= CPUID_HDR)
			e->ok = 0;
		if (p->wr_len < CPUID_BYTES(XVCPU_CPUID_MAX_ENTRIES))
			exp_err(e, EFAULT);
		return;
	}
	if (p->wr_len >= CPUID_BYTES(nent))
		e->ok = 0;
	else
		exp_err(e, EFAULT);
}

void predict_sys(struct expect *e, unsigned int cmd, unsigned long arg,
		 const struct ptr *p)
{
	if (!xvcpu_type(cmd)) {
		e->anything = true;
		return;
	}
	/* The one system ioctl with a pointer, looked at first */
	if (cmd == XVCPU_GET_SUPPORTED_CPUID) {
		predict_cpuid_get(e, p, fz.supported.nent);
		return;
	}
	if (arg && cmd != XVCPU_CHECK_CAP) {
		exp_err(e, EINVAL);
		return;
	}
	switch (cmd) {
	case XVCPU_GET_API_VERSION:
		e->ok = XVCPU_API_VERSION;
		break;
	case XVCPU_CHECK_CAP:
		e->ok = cap_value(arg);
		break;
	case XVCPU_CREATE_VM:
		e->ok = OK_ANY;
		exp_err(e, ENOMEM);
		exp_err(e, EMFILE);
		break;
	case XVCPU_GET_VCPU_MMAP_SIZE:
		e->ok = fz.mmap_size;
		break;
	default:
		exp_err(e, ENOTTY);
		break;
	}
}

/* A new region is kept only once mmap_offset reached the caller. */
#define REGION_OUT_END	(offsetof(struct xvcpu_memory_region, mmap_offset) + \
			 sizeof(__u64))

void predict_vm(struct expect *e, const struct fz_vm *vm,
		unsigned int cmd, unsigned long arg,
		const struct ptr *p)
{
	if (!xvcpu_type(cmd)) {
		e->anything = true;
		return;
	}
	switch (cmd) {
	case XVCPU_SET_MEMORY_REGION:
		if (!p->rd) {
			exp_err(e, EFAULT);
		} else if (!p->det || vm->lost) {
			e->ok = 0;
			exp_err(e, EINVAL);
			exp_err(e, EEXIST);
			exp_err(e, ENOENT);
			exp_err(e, EBUSY);
			exp_err(e, E2BIG);
			exp_err(e, EFAULT);
		} else {
			const struct xvcpu_memory_region *mr = p->content;
			int v = region_verdict(vm, mr);

			/* A delete writes nothing back */
			if (v)
				exp_err(e, v);
			else if (mr->memory_size && p->wr_len < REGION_OUT_END)
				exp_err(e, EFAULT);
			else
				e->ok = 0;
		}
		break;
	case XVCPU_SET_MSR_POLICY:
		if (!p->rd) {
			exp_err(e, EFAULT);
		} else if (!p->det) {
			e->ok = 0;
			exp_err(e, EINVAL);
		} else {
			const struct xvcpu_msr_policy *mp = p->content;

			if (mp->pad || mp->reserved[0] || mp->reserved[1] ||
			    mp->reserved[2] || mp->flags & ~XVCPU_MSR_EXIT_UNKNOWN)
				exp_err(e, EINVAL);
			else
				e->ok = 0;
		}
		break;
	case XVCPU_CREATE_VCPU:
		if (arg >= fz.max_vcpus) {
			exp_err(e, EINVAL);
		} else if (vm->ids & (1U << arg)) {
			exp_err(e, EEXIST);
		} else {
			e->ok = OK_ANY;
			exp_err(e, ENOMEM);
			exp_err(e, EMFILE);
		}
		break;
	default:
		exp_err(e, ENOTTY);
		break;
	}
}

/* ---- vCPU fds ---- */

static void predict_translate(struct expect *e, const struct ptr *p,
			      const struct vcpu_view *view)
{
	const struct xvcpu_translation *t = p->content;
	uint32_t known_access = XVCPU_ACCESS_WRITE | XVCPU_ACCESS_USER |
				XVCPU_ACCESS_FETCH;
	bool unsure = true;

	if (!p->rd) {
		exp_err(e, EFAULT);
		return;
	}
	if (p->det) {
		if (t->pad || t->reserved[0] || t->reserved[1] ||
		    t->access & ~known_access ||
		    (t->access & XVCPU_ACCESS_WRITE &&
		     t->access & XVCPU_ACCESS_FETCH)) {
			exp_err(e, EINVAL);
			return;
		}
		if (view && view->have_sregs) {
			if (translate_noncanonical(&view->sregs,
						   t->linear_address)) {
				exp_err(e, EINVAL);
				return;
			}
			unsure = false;
			/* Paging on: the tables may lie outside the slots */
			if (view->sregs.cr0 & CR0_PG)
				exp_err(e, ENOENT);
		}
	}
	if (unsure) {
		exp_err(e, EINVAL);
		exp_err(e, ENOENT);
	}
	/* Written back only after a walk */
	if (p->wr)
		e->ok = 0;
	else
		exp_err(e, EFAULT);
}

/* SET_CPUID (kmod/dev.c vcpu_set_cpuid): nent and pad, then the entries. */
static void predict_set_cpuid(struct expect *e, const struct ptr *p)
{
	const struct xvcpu_cpuid *c = p->content;
	int r;

	if (predict_cpuid_header(e, p))
		return;
	if (c->pad || c->nent > XVCPU_CPUID_MAX_ENTRIES) {
		exp_err(e, EINVAL);
		return;
	}
	if (p->rd_len < CPUID_BYTES(c->nent)) {
		exp_err(e, EFAULT);
		return;
	}
	if (!ptr_known(p, CPUID_BYTES(c->nent))) {
		e->ok = 0;
		exp_err(e, EINVAL);
		return;
	}
	r = cpuid_verdict(c->entries, c->nent);
	if (r)
		exp_err(e, r);
	else
		e->ok = 0;
}

/*
 * The answer of a vCPU ioctl.  @v: main's model of the vCPU (NULL in a
 * runner), @busy: a runner may be in an ioctl of it, @view: its state
 * read just before, or NULL.
 */
void predict_vcpu(struct expect *e, const struct fz_vcpu *v, bool busy,
		  unsigned int cmd, unsigned long arg,
		  const struct ptr *p, const struct vcpu_view *view)
{
	const struct xvcpu_interrupt *irq;
	enum queued q;
	unsigned int ev;
	int r;

	if (!xvcpu_type(cmd)) {
		e->anything = true;
		return;
	}
	/* Another thread in an ioctl of the vCPU: refused first */
	if (busy)
		exp_err(e, EBUSY);
	switch (cmd) {
	case XVCPU_RUN:
		if (arg) {
			exp_err(e, EINVAL);
			break;
		}
		e->ok = 0;
		exp_err(e, EINTR);
		exp_err(e, ENOMEM);
		/* Completing an INS into memory deleted (or read-only) since */
		exp_err(e, ENOENT);
		exp_err(e, EPERM);
		break;
	case XVCPU_GET_REGS:
	case XVCPU_GET_SREGS:
	case XVCPU_GET_EXIT_INFO:
	case XVCPU_GET_EVENTS:
		if (p->wr)
			e->ok = 0;
		else
			exp_err(e, EFAULT);
		break;
	case XVCPU_SET_REGS:
		if (!p->rd) {
			exp_err(e, EFAULT);
		} else if (!p->det) {
			e->ok = 0;
			exp_err(e, EINVAL);
		} else if (rflags_ok(((const struct xvcpu_regs *)
				      p->content)->rflags)) {
			e->ok = 0;
			/* IF = 0: refused with one interrupt injected and one queued */
			if (!(((const struct xvcpu_regs *)p->content)->rflags &
			      RFLAGS_IF))
				exp_err(e, EINVAL);
		} else {
			exp_err(e, EINVAL);
		}
		break;
	case XVCPU_SET_SREGS:
		if (!p->rd) {
			exp_err(e, EFAULT);
			break;
		}
		ev = p->det ? sregs_state_verdict(p->content, v, NULL, 0) :
		     V_OK | V_EINVAL;
		if (ev & V_OK)
			e->ok = 0;
		if (ev & V_EINVAL)
			exp_err(e, EINVAL);
		break;
	case XVCPU_SET_EVENTS:
		if (!p->rd) {
			exp_err(e, EFAULT);
			break;
		}
		ev = V_OK | V_EINVAL;
		if (p->det)
			ev = events_verdict(p->content,
					    view && view->have_regs ?
					    (int64_t)view->regs.rflags : -1);
		if (ev & V_OK)
			e->ok = 0;
		if (ev & V_EINVAL)
			exp_err(e, EINVAL);
		break;
	case XVCPU_INTERRUPT:
		irq = p->content;
		if (!p->rd) {
			exp_err(e, EFAULT);
			break;
		}
		if (p->det && (irq->pad || irq->vector > 255)) {
			exp_err(e, EINVAL);
			break;
		}
		if (!p->det)
			exp_err(e, EINVAL);
		q = v && !busy ? v->irq : Q_UNKNOWN;
		if (q != Q_YES)
			e->ok = 0;
		if (q != Q_NO)
			exp_err(e, EBUSY);
		break;
	case XVCPU_NMI:
		if (arg) {
			exp_err(e, EINVAL);
			break;
		}
		if (!cap_value(XVCPU_CAP_NMI)) {
			exp_err(e, EOPNOTSUPP);
			break;
		}
		q = v && !busy ? v->nmi : Q_UNKNOWN;
		if (q != Q_YES)
			e->ok = 0;
		if (q != Q_NO)
			exp_err(e, EBUSY);
		break;
	case XVCPU_TRANSLATE:
		predict_translate(e, p, busy ? NULL : view);
		break;
	case XVCPU_SET_GUEST_DEBUG:
		if (!p->rd) {
			exp_err(e, EFAULT);
		} else if (!p->det) {
			e->ok = 0;
			exp_err(e, EINVAL);
			exp_err(e, EOPNOTSUPP);
		} else {
			r = guest_debug_verdict(p->content);
			if (r)
				exp_err(e, r);
			else
				e->ok = 0;
		}
		break;
	case XVCPU_SET_CPUID:
		predict_set_cpuid(e, p);
		break;
	case XVCPU_GET_CPUID:
		predict_cpuid_get(e, p, v && !v->cpuid_lost ?
				  (long)v->cpuid_nent : -1);
		break;
	default:
		exp_err(e, ENOTTY);
		break;
	}
}

/* ---- what the GET ioctls wrote ---- */

/* Learn a vCPU's event queues from what GET_EVENTS gave. */
void learn_queues(struct fz_vcpu *v, const struct xvcpu_events *ev)
{
	v->irq = ev->interrupt_queued ? Q_YES : Q_NO;
	v->nmi = ev->nmi_queued ? Q_YES : Q_NO;
}

void check_events_output(const struct xvcpu_events *ev,
			 const char *what)
{
	const struct xvcpu_event *in = &ev->injected;

	/* What GET_EVENTS gives, SET_EVENTS must take */
	if (!(events_verdict(ev, -1) & V_OK))
		fail("%s gave what SET_EVENTS refuses: injected %u type %u vector %u code %u/%#x len %u, irq %u/%u nmi %u masked %u shadow %#x",
		     what, in->valid, in->type, in->vector, in->has_error_code,
		     in->error_code, in->instruction_len, ev->interrupt_queued,
		     ev->interrupt_vector, ev->nmi_queued, ev->nmi_masked,
		     ev->shadow);
}

/* XVCPU_TRANSLATE's answer @t to the question @in. */
static void check_translation(const struct xvcpu_translation *t,
			      const struct xvcpu_translation *in,
			      const struct vcpu_view *view)
{
	bool paging = !view || !view->have_sregs ||
		      view->sregs.cr0 & CR0_PG;

	if (t->linear_address != in->linear_address ||
	    t->access != in->access || t->pad || t->reserved[0] ||
	    t->reserved[1])
		fail("TRANSLATE changed its input: %#llx access %#x",
		     (unsigned long long)t->linear_address, t->access);
	if (t->valid > 1 || t->writable > 1 || t->user > 1 ||
	    t->executable > 1 ||
	    (t->valid && (t->error_code ||
			  (t->page_size != 1ULL << 12 &&
			   t->page_size != 1ULL << 21 &&
			   t->page_size != 1ULL << 22 &&
			   t->page_size != 1ULL << 30))))
		fail("TRANSLATE of %#llx: valid %u w %u u %u x %u error %#x page size %#llx",
		     (unsigned long long)in->linear_address, t->valid,
		     t->writable, t->user, t->executable, t->error_code,
		     (unsigned long long)t->page_size);
	/* Paging off: linear is physical, everything allowed */
	if (!paging && (!t->valid || t->physical_address != in->linear_address ||
			t->page_size != PG || !t->writable || !t->user ||
			!t->executable))
		fail("TRANSLATE of %#llx with paging off: valid %u to %#llx page size %#llx w %u u %u x %u",
		     (unsigned long long)in->linear_address, t->valid,
		     (unsigned long long)t->physical_address,
		     (unsigned long long)t->page_size, t->writable, t->user,
		     t->executable);
}

/* GET_CPUID or GET_SUPPORTED_CPUID gave @got; @want is what it holds. */
static void check_cpuid_output(const struct xvcpu_cpuid *got,
			       const struct xvcpu_cpuid_entry *want,
			       uint32_t nent, const char *what)
{
	uint32_t i;

	if (got->nent != nent || got->pad) {
		fail("%s: nent %u pad %u, expected %u entries", what,
		     got->nent, got->pad, nent);
		return;
	}
	for (i = 0; i < nent; i++) {
		if (!memcmp(&got->entries[i], &want[i], sizeof(want[i])))
			continue;
		fail("%s: entry %u is %#x/%#x, expected %#x/%#x", what, i,
		     got->entries[i].function, got->entries[i].index,
		     want[i].function, want[i].index);
		return;
	}
}

/*
 * Sanity of what a GET ioctl (or TRANSLATE) wrote at @out, for vCPU @v
 * (NULL for a system fd); @in is what was passed.
 */
void check_get_output(unsigned int cmd, const void *out, const void *in,
		      struct fz_vcpu *v, bool busy,
		      const struct vcpu_view *view)
{
	const struct xvcpu_regs *regs = out;
	const struct xvcpu_sregs *sregs = out;
	const struct xvcpu_exit_info *info = out;
	const struct xvcpu_cpuid *cpuid = out;
	unsigned int i;

	if (!v && cmd != XVCPU_GET_SUPPORTED_CPUID)
		return;
	switch (cmd) {
	case XVCPU_GET_REGS:
		if (!rflags_ok(regs->rflags))
			fail("GET_REGS: rflags %#llx",
			     (unsigned long long)regs->rflags);
		break;
	case XVCPU_GET_SREGS:
		/* What GET_SREGS gives, SET_SREGS must take */
		if (sregs_verdict(sregs))
			fail("GET_SREGS gave what SET_SREGS refuses: cr0 %#llx cr4 %#llx efer %#llx",
			     (unsigned long long)sregs->cr0,
			     (unsigned long long)sregs->cr4,
			     (unsigned long long)sregs->efer);
		break;
	case XVCPU_GET_EXIT_INFO:
		for (i = 0; i < ARRAY_SIZE(info->reserved); i++)
			if (info->reserved[i])
				fail("GET_EXIT_INFO: reserved[%u] = %#llx", i,
				     (unsigned long long)info->reserved[i]);
		break;
	case XVCPU_GET_EVENTS:
		check_events_output(out, "GET_EVENTS");
		if (!busy)
			learn_queues(v, out);
		break;
	case XVCPU_TRANSLATE:
		check_translation(out, in, busy ? NULL : view);
		break;
	case XVCPU_GET_SUPPORTED_CPUID:
		check_cpuid_output(cpuid, fz.supported.entries,
				   fz.supported.nent, "GET_SUPPORTED_CPUID");
		break;
	case XVCPU_GET_CPUID:
		if (!v->cpuid_lost) {
			check_cpuid_output(cpuid, v->cpuid, v->cpuid_nent,
					   "GET_CPUID");
		} else if (cpuid->nent <= XVCPU_CPUID_MAX_ENTRIES) {
			/* Found again */
			v->cpuid_nent = cpuid->nent;
			memcpy(v->cpuid, cpuid->entries,
			       cpuid->nent * sizeof(v->cpuid[0]));
			v->cpuid_lost = false;
		}
		break;
	}
}
