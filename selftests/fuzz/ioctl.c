// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl operations: one ioctl with a generated number and argument,
 * predicted (predict.c), made, checked and folded into the model; the
 * GET/SET round trips; ioctls on fds that are not xvcpu's.
 */
#include "fuzz.h"

/*
 * After SET_MEMORY_REGION that would have created a slot returned EFAULT
 * (mmap_offset could not be written back): whether the slot exists, found
 * with mmap().
 */
static bool region_exists(int vm_fd, uint32_t slot)
{
	void *p;

	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, vm_fd,
		 XVCPU_MMAP_SLOT_OFFSET(slot));
	count_call();
	if (p == MAP_FAILED)
		return false;
	munmap(p, PG);
	count_call();
	return true;
}

/* A guest may have run on vCPU @v: what was queued may be injected now. */
void vcpu_ran(struct fz_vcpu *v)
{
	if (v->irq == Q_YES)
		v->irq = Q_UNKNOWN;
	if (v->nmi == Q_YES)
		v->nmi = Q_UNKNOWN;
}

/* Read what a vCPU ioctl's outcome depends on, when nothing can change it. */
static void vcpu_view_read(int fd, unsigned int cmd, struct vcpu_view *view)
{
	struct expect e;
	long ret;
	int err;

	exp_init(&e);
	e.ok = 0;
	if (cmd == XVCPU_TRANSLATE) {
		ret = do_ioctl(fd, XVCPU_GET_SREGS, (uintptr_t)&view->sregs,
			       &err);
		view->have_sregs = check(&e, ret, err, "GET_SREGS") && !ret;
	} else if (cmd == XVCPU_SET_EVENTS) {
		ret = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&view->regs,
			       &err);
		view->have_regs = check(&e, ret, err, "GET_REGS") && !ret;
	}
}

/* Model updates after vCPU ioctl @cmd on @v returned @ret (errno @err). */
static void vcpu_model_update(struct fz_vcpu *v, bool busy, unsigned int cmd,
			      const struct ptr *p, long ret, int err)
{
	const struct xvcpu_events *ev = p->content;
	const struct xvcpu_cpuid *c = p->content;

	switch (cmd) {
	case XVCPU_RUN:
		vcpu_ran(v);
		break;
	case XVCPU_SET_EVENTS:
		if (ret || busy)
			break;
		if (p->det)
			learn_queues(v, ev);
		else
			v->irq = v->nmi = Q_UNKNOWN;
		fz.events_set++;
		break;
	case XVCPU_INTERRUPT:
	case XVCPU_NMI:
		if (ret && err != EBUSY)
			break;
		if (!ret)
			++*(cmd == XVCPU_NMI ? &fz.nmis_queued :
			    &fz.irqs_queued);
		/* Queued now: by this call, or an earlier one */
		if (!busy)
			*(cmd == XVCPU_NMI ? &v->nmi : &v->irq) = Q_YES;
		break;
	case XVCPU_SET_GUEST_DEBUG:
		if (!ret)
			fz.debug_set++;
		break;
	case XVCPU_SET_CPUID:
		if (ret)
			break;
		/* Only main sets it: known even with a runner on the vCPU */
		if (ptr_known(p, CPUID_HDR) &&
		    c->nent <= XVCPU_CPUID_MAX_ENTRIES &&
		    ptr_known(p, CPUID_BYTES(c->nent))) {
			v->cpuid_nent = c->nent;
			memcpy(v->cpuid, c->entries,
			       c->nent * sizeof(v->cpuid[0]));
		} else {
			v->cpuid_lost = true;
		}
		break;
	}
}

/*
 * After a call of op_ioctl() got an answer the model did not expect:
 * the whole argument (when the kernel could read it), and what the
 * model knew of the object.
 */
static void explain(int kind, int obj, unsigned int cmd, const struct ptr *p)
{
	const struct fz_vm *vm = NULL;
	const struct fz_vcpu *v = NULL;
	char why[96];
	unsigned int i;

	if (p->cls != P_INT && p->known && p->content)
		dump_arg(cmd, p->content);
	else if (p->cls != P_INT)
		fail_detail("argument: %s pointer, %llu bytes readable, content %s",
			    ptr_names[p->cls], (unsigned long long)p->rd_len,
			    p->known ? "known" : "not known");
	if (kind == FD_VCPU) {
		v = &fz.vcpus[obj];
		vm = &fz.vms[v->vm];
		fail_detail("vCPU %d: VM %d id %u fd %d, runner %d, queued irq %d nmi %d, CPUID %u entries%s",
			    obj, v->vm, v->id, v->fd, v->runner, v->irq,
			    v->nmi, v->cpuid_nent,
			    v->cpuid_lost ? " (not known)" : "");
	} else if (kind == FD_VM) {
		vm = &fz.vms[obj];
	}
	if (vm) {
		fail_detail("VM %d: fd %d%s, %llu bytes, vCPU ids %#x, program %s",
			    (int)(vm - fz.vms), vm->fd,
			    vm->lost ? " (slots not known)" : "",
			    (unsigned long long)vm->mem_bytes, vm->ids,
			    vm->code ? "in slot 0" : "none");
		for (i = 0; i < fz.nr_slots; i++)
			if (vm->slots[i].used)
				fail_detail("slot %u: %#llx bytes at %#llx, flags %#x",
					    i,
					    (unsigned long long)vm->slots[i].size,
					    (unsigned long long)vm->slots[i].gpa,
					    vm->slots[i].flags);
	}
	if (cmd == XVCPU_SET_SREGS && p->det) {
		sregs_state_verdict(p->content, v, why, sizeof(why));
		fail_detail("model: %s", why);
	}
}

static const char *const kind_names[] = { "system", "VM", "vCPU" };

/*
 * One ioctl on an fd of @kind: a known or random number (@force: index in
 * known[] or -1), an integer or a pointer of some class, the structure
 * valid, mutated or random.
 */
void op_ioctl(struct rng *r, int kind, int force)
{
	static uint64_t content_buf[(MAX_ARG_SIZE + 7) / 8];
	uint8_t *content = (uint8_t *)content_buf;
	struct vcpu_view view = { 0 };
	const struct known_cmd *k;
	unsigned long cmd, arg;
	bool use_ptr, busy = false, prepare, init, roundtrip, map_run;
	struct fz_vcpu *v = NULL;
	int obj, fd, err, cls;
	unsigned int c32;
	struct expect e;
	struct ptr p;
	size_t size;
	char what[192];
	long ret;

	switch (kind) {
	case FD_SYS:
		obj = pick_sys(r);
		fd = obj >= 0 ? fz.sys[obj] : -1;
		break;
	case FD_VM:
		obj = pick_vm(r);
		fd = obj >= 0 ? fz.vms[obj].fd : -1;
		break;
	default:
		obj = pick_vcpu(r);
		if (obj < 0)
			break;
		v = &fz.vcpus[obj];
		fd = v->fd;
		busy = v->runner >= 0;
		break;
	}
	if (obj < 0)
		return;

	cmd = force >= 0 ? known[force].cmd : gen_cmd(r, kind);
	c32 = cmd;
	k = find_known(c32);
	prepare = rng_chance(r, 70);
	init = rng_chance(r, 50);
	roundtrip = rng_chance(r, 25);
	map_run = rng_chance(r, 70);

	/* The content: a structure for the numbers that take one */
	size = k && k->size ? k->size : 64;
	gen_content(r, c32, kind, obj, content, size);

	/*
	 * Integers only where the kernel takes one or refuses before
	 * looking: a random integer could be the address of our memory.
	 */
	if (!xvcpu_type(c32) || (k && k->size))
		use_ptr = true;
	else if (k)
		use_ptr = rng_chance(r, force >= 0 ? 3 : 10);
	else
		use_ptr = rng_chance(r, 50);
	if (use_ptr) {
		cls = pick_ptr_class(r, force >= 0,
				     c32 != XVCPU_SET_MEMORY_REGION &&
				     c32 != XVCPU_CREATE_VCPU);
		p = make_ptr(r, cls, size, content);
		arg = p.addr;
	} else {
		memset(&p, 0, sizeof(p));
		p.cls = P_INT;
		if (c32 == XVCPU_CREATE_VCPU)
			arg = gen_vcpu_id(r);
		else if (c32 == XVCPU_CHECK_CAP && rng_chance(r, 60))
			arg = rng_below(r, 24);
		else
			arg = rng_chance(r, force >= 0 ? 90 : 60) ? 0 :
			      rng_value(r);
	}

	exp_init(&e);
	switch (kind) {
	case FD_SYS:
		predict_sys(&e, c32, arg, &p);
		break;
	case FD_VM:
		if (c32 == XVCPU_CREATE_VCPU)
			vcpu_id_settle(obj, arg);
		predict_vm(&e, &fz.vms[obj], c32, arg, &p);
		break;
	default:
		if (!busy)
			vcpu_view_read(fd, c32, &view);
		predict_vcpu(&e, v, busy, c32, arg, &p, &view);
		break;
	}

	if (kind == FD_VCPU && c32 == XVCPU_RUN)
		ret = run_bounded(fd, cmd, arg, fz.timer, &err);
	else
		ret = do_ioctl(fd, cmd, arg, &err);
	snprintf(what, sizeof(what), "%s fd: ioctl %#lx (%s) arg %#lx (%s)",
		 kind_names[kind], cmd, k ? k->name : "?", arg,
		 ptr_names[p.cls]);
	vlog("%s -> %ld (%s)", what, ret, ret < 0 ? errname(err) : "ok");
	if (k)
		(ret < 0 ? fz.known_err : fz.known_ok)[k - known]++;
	if (!check(&e, ret, err, what)) {
		explain(kind, obj, c32, &p);
		if (kind == FD_VM && c32 == XVCPU_SET_MEMORY_REGION)
			fz.vms[obj].lost = true;
		/* Out of step: stop predicting what depends on it */
		if (v) {
			v->irq = v->nmi = Q_UNKNOWN;
			v->cpuid_lost = true;
		}
	}
	if (!xvcpu_type(c32))
		return;

	/* New objects and model updates */
	if (kind == FD_SYS && c32 == XVCPU_CREATE_VM && ret >= 0) {
		adopt_vm(ret, prepare);
	} else if (kind == FD_VM && c32 == XVCPU_CREATE_VCPU && ret >= 0) {
		if (arg < fz.max_vcpus && !(fz.vms[obj].ids & (1U << arg)))
			adopt_vcpu(obj, arg, ret, init, map_run);
		else
			do_close(ret);
	} else if (kind == FD_VM && c32 == XVCPU_SET_MEMORY_REGION &&
		   p.det && !fz.vms[obj].lost) {
		const struct xvcpu_memory_region *mr = (const void *)p.content;
		struct xvcpu_memory_region copy = *mr;

		if (ret == 0) {
			region_apply(obj, &copy);
		} else if (err == EFAULT && copy.memory_size &&
			   !region_verdict(&fz.vms[obj], &copy) &&
			   region_exists(fd, copy.slot)) {
			/* The caller was not told: the slot must be gone */
			fail("SET_MEMORY_REGION returned EFAULT but slot %u (%#llx bytes at %#llx) exists",
			     copy.slot, (unsigned long long)copy.memory_size,
			     (unsigned long long)copy.guest_phys_addr);
			fz.vms[obj].lost = true;
		}
	} else if (v) {
		vcpu_model_update(v, busy, c32, &p, ret, err);
	}

	/* What was written, where we can read it back */
	if (ret == 0 && p.cls == P_RW && k && k->size && (v || kind == FD_SYS))
		check_get_output(c32, (void *)(uintptr_t)p.addr, content, v,
				 busy, &view);
	if (ret == 0 && v && c32 == XVCPU_SET_REGS && roundtrip && !busy &&
	    p.cls == P_RW) {
		struct xvcpu_regs got;

		ret = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&got, &err);
		if (ret || memcmp(&got, content, sizeof(got)))
			fail("GET_REGS after SET_REGS: %s, rip %#llx rflags %#llx",
			     ret ? errname(err) : "differs",
			     (unsigned long long)got.rip,
			     (unsigned long long)got.rflags);
	}
}

/*
 * GET_SREGS, SET_SREGS, GET_SREGS, and the same for the registers and
 * the events: what was got must be taken back as is.
 */
void op_save_restore(struct rng *r)
{
	struct xvcpu_sregs a, b;
	struct xvcpu_regs ra, rb;
	struct xvcpu_events ea, eb;
	int i = pick_vcpu(r), fd, err[9];
	struct fz_vcpu *v;
	long ret[9];

	if (i < 0 || fz.vcpus[i].runner >= 0)
		return;
	v = &fz.vcpus[i];
	fd = v->fd;
	memset(&b, 0, sizeof(b));
	memset(&rb, 0, sizeof(rb));
	memset(&eb, 0, sizeof(eb));
	ret[0] = do_ioctl(fd, XVCPU_GET_SREGS, (uintptr_t)&a, &err[0]);
	ret[1] = do_ioctl(fd, XVCPU_SET_SREGS, (uintptr_t)&a, &err[1]);
	ret[2] = do_ioctl(fd, XVCPU_GET_SREGS, (uintptr_t)&b, &err[2]);
	ret[3] = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&ra, &err[3]);
	ret[4] = do_ioctl(fd, XVCPU_SET_REGS, (uintptr_t)&ra, &err[4]);
	ret[5] = do_ioctl(fd, XVCPU_GET_REGS, (uintptr_t)&rb, &err[5]);
	ret[6] = do_ioctl(fd, XVCPU_GET_EVENTS, (uintptr_t)&ea, &err[6]);
	ret[7] = do_ioctl(fd, XVCPU_SET_EVENTS, (uintptr_t)&ea, &err[7]);
	ret[8] = do_ioctl(fd, XVCPU_GET_EVENTS, (uintptr_t)&eb, &err[8]);
	/*
	 * SET_SREGS(GET_SREGS()) is refused where the state needs what is
	 * gone since: XSAVE in CPUID for CR4.OSXSAVE, PDPTEs at CR3.  It
	 * then left the state alone: GET_SREGS gives the same again.
	 */
	if (!ret[0] && ret[1] && err[1] == EINVAL &&
	    sregs_state_verdict(&a, v, NULL, 0) & V_EINVAL)
		ret[1] = 0;
	for (i = 0; i < 9; i++) {
		if (ret[i]) {
			fail("save/restore step %d: %s", i, errname(err[i]));
			if (i <= 2) {
				char why[96];

				dump_sregs(&a);
				sregs_state_verdict(&a, v, why, sizeof(why));
				fail_detail("model: %s", why);
			}
			if (i >= 6)
				check_events_output(&ea, "GET_EVENTS (saved)");
			v->irq = v->nmi = Q_UNKNOWN;
			return;
		}
	}
	learn_queues(v, &eb);
	if (memcmp(&ea, &eb, sizeof(ea)))
		fail("SET_EVENTS(GET_EVENTS()) changed the events: injected %u/%u type %u/%u vector %u/%u, irq %u/%u nmi %u/%u masked %u/%u shadow %#x/%#x",
		     ea.injected.valid, eb.injected.valid, ea.injected.type,
		     eb.injected.type, ea.injected.vector, eb.injected.vector,
		     ea.interrupt_queued, eb.interrupt_queued, ea.nmi_queued,
		     eb.nmi_queued, ea.nmi_masked, eb.nmi_masked, ea.shadow,
		     eb.shadow);
	if (memcmp(&a, &b, sizeof(a)))
		fail("SET_SREGS(GET_SREGS()) changed the state: cr0 %#llx/%#llx cr4 %#llx/%#llx efer %#llx/%#llx cs.ar %u/%u",
		     (unsigned long long)a.cr0, (unsigned long long)b.cr0,
		     (unsigned long long)a.cr4, (unsigned long long)b.cr4,
		     (unsigned long long)a.efer, (unsigned long long)b.efer,
		     a.cs.type, b.cs.type);
	if (memcmp(&ra, &rb, sizeof(ra)))
		fail("SET_REGS(GET_REGS()) changed the registers");
}

void op_create_vm(struct rng *r)
{
	if (pick_sys(r) < 0)
		op_open_sys(r);
	else
		op_ioctl(r, FD_SYS, K_CREATE_VM);
}

void op_create_vcpu(struct rng *r)
{
	if (pick_vm(r) < 0)
		op_create_vm(r);
	else
		op_ioctl(r, FD_VM, K_CREATE_VCPU);
}

void op_region(struct rng *r)
{
	if (pick_vm(r) < 0)
		op_create_vm(r);
	else
		op_ioctl(r, FD_VM, K_SET_MEMORY_REGION);
}

/* Mostly well-formed v1 ioctls of a vCPU: its events and debugging. */
void op_events(struct rng *r)
{
	static const unsigned int cmds[] = {
		XVCPU_GET_EVENTS, XVCPU_SET_EVENTS, XVCPU_SET_EVENTS,
		XVCPU_INTERRUPT, XVCPU_INTERRUPT, XVCPU_NMI, XVCPU_TRANSLATE,
		XVCPU_TRANSLATE, XVCPU_SET_GUEST_DEBUG,
	};

	op_ioctl(r, FD_VCPU,
		 find_known(cmds[rng_below(r, ARRAY_SIZE(cmds))]) - known);
}

/* The CPUID tables: supported, and a vCPU's own. */
void op_cpuid(struct rng *r)
{
	static const unsigned int cmds[] = {
		XVCPU_SET_CPUID, XVCPU_GET_CPUID,
	};

	if (rng_chance(r, 20))
		op_ioctl(r, FD_SYS, K_GET_SUPPORTED_CPUID);
	else
		op_ioctl(r, FD_VCPU,
			 find_known(cmds[rng_below(r, 2)]) - known);
}

void op_badfd(struct rng *r)
{
	static const int bad[] = { -1, 1000000, 0x7fffffff };
	unsigned long cmd = known[known_of_kind(r, -1)].cmd;
	struct expect e;
	long ret;
	int err;

	exp_init(&e);
	if (rng_chance(r, 50)) {
		exp_err(&e, EBADF);
		ret = do_ioctl(bad[rng_below(r, ARRAY_SIZE(bad))], cmd, 0, &err);
	} else {
		/* Not an xvcpu file: shmem has no such ioctls */
		exp_err(&e, ENOTTY);
		ret = do_ioctl(fz.memfd, cmd, 0, &err);
	}
	check(&e, ret, err, "ioctl on a foreign or closed fd");
}
