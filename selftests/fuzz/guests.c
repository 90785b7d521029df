// SPDX-License-Identifier: GPL-2.0
/*
 * Guests from main: XVCPU_RUN of a vCPU (from its current state, the
 * program, the MSR program, or a fresh start that must reach the
 * program's first exit), jobs for runner threads, and fork.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "fuzz.h"
#include "../../kmod/entrycheck.h"

static struct fz_map *run_map_of(int v)
{
	int i;

	for (i = 0; i < NR_MAPS; i++) {
		struct fz_map *m = &fz.maps[i];

		if (m->used && m->kind == MAP_RUN && m->obj == v &&
		    (m->mask & 1) && m->prot[0] & PROT_WRITE)
			return m;
	}
	return NULL;
}

static void add_counts(const struct exit_counts *c)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fz.exits); i++)
		fz.exits[i] += c->exits[i];
	fz.vmfail += c->vmfail;
	fz.fail_entry += c->fail_entry;
}

/* After a failure: where the vCPU is, every field, for the log. */
static void log_vcpu_state(int fd)
{
	struct xvcpu_exit_info info;
	struct xvcpu_events ev;
	struct xvcpu_sregs s;
	struct xvcpu_regs r;

	if (ioctl(fd, XVCPU_GET_REGS, &r) || ioctl(fd, XVCPU_GET_SREGS, &s) ||
	    ioctl(fd, XVCPU_GET_EVENTS, &ev) ||
	    ioctl(fd, XVCPU_GET_EXIT_INFO, &info))
		return;
	dump_regs(&r);
	dump_sregs(&s);
	dump_events(&ev);
	fail_detail("exit %#x qualification %#llx intr %#x/%#x idt-vectoring %#x/%#x length %u",
		    info.exit_reason,
		    (unsigned long long)info.exit_qualification,
		    info.intr_info, info.intr_error_code,
		    info.idt_vectoring_info, info.idt_vectoring_error_code,
		    info.instruction_len);
}

/*
 * Set vCPU @i (no runner on it) to the start of the program, rewritten,
 * and run it: the first exit must be the program's OUT.
 */
static void fresh_start(int i, int fd, struct xvcpu_run *run)
{
	static const struct xvcpu_guest_debug no_debug;
	struct fz_vcpu *v = &fz.vcpus[i];
	struct expect e;
	long ret;
	int err;

	prog_write(fz.vms[v->vm].code);
	if (!program_reset(fd, false, false, false, "main (fresh start)"))
		return;
	v->irq = v->nmi = Q_NO;
	/* Not guest state: what the VMM asks for besides */
	exp_init(&e);
	e.ok = 0;
	ret = do_ioctl(fd, XVCPU_SET_GUEST_DEBUG, (uintptr_t)&no_debug, &err);
	if (!check(&e, ret, err, "SET_GUEST_DEBUG (fresh start)"))
		return;
	run->immediate_exit = 0;
	run->request_interrupt_window = 0;
	ret = run_bounded(fd, XVCPU_RUN, 0, fz.timer, &err);
	vcpu_ran(v);
	if (ret || (run->exit_reason == XVCPU_EXIT_IO &&
		    run->io.port == 0x80))
		return;
	if (run->exit_reason == XVCPU_EXIT_FAIL_ENTRY)
		fail("vCPU %d in a fresh state (SET_SREGS, SET_REGS, SET_EVENTS(0)): entry failed, %#llx, field %#x (%s)",
		     i, (unsigned long long)
		     run->fail_entry.hardware_entry_failure_reason,
		     run->fail_entry.field,
		     entrycheck_field_name(run->fail_entry.field));
	else
		fail("vCPU %d in a fresh state (SET_SREGS, SET_REGS, SET_EVENTS(0)): exit %s, not the program's OUT",
		     i, xvcpu_exit_name(run->exit_reason));
	log_vcpu_state(fd);
}

/* XVCPU_RUN from the main thread. */
void op_run(struct rng *r)
{
	int i = pick_vcpu(r), err;
	bool ie = rng_chance(r, 12), reset = rng_chance(r, 30);
	bool msr = rng_chance(r, 30), irqs_on = rng_chance(r, 30);
	bool window = rng_chance(r, 10);
	long ns = msr ? 5000 + rng_below(r, 100000) : RUN_TIMEOUT_NS;
	unsigned long arg = rng_chance(r, 6) ? rng_value(r) : 0;
	uint64_t v = rng_u64(r);
	struct exit_counts c;
	struct xvcpu_run *run = NULL;
	struct fz_map *m;
	struct expect e;
	bool busy, fresh;
	long ret;
	int fd;

	if (i < 0)
		return;
	memset(&c, 0, sizeof(c));
	fd = fz.vcpus[i].fd;
	busy = fz.vcpus[i].runner >= 0;
	m = run_map_of(i);
	if (m)
		run = (void *)m->addr;
	fresh = reset && !busy && !ie && !arg && run &&
		fz.vms[fz.vcpus[i].vm].code;
	if (fresh && !msr) {
		fresh_start(i, fd, run);
		return;
	}
	if (reset && fz.vms[fz.vcpus[i].vm].code) {
		if (msr) {
			prog_write(fz.vms[fz.vcpus[i].vm].code);
			msrprog_table(r, fz.vms[fz.vcpus[i].vm].code);
		}
		program_reset_main(i, msr, irqs_on);
	}
	if (run) {
		run->immediate_exit = ie;
		run->request_interrupt_window = window;
	}
	exp_init(&e);
	predict_vcpu(&e, &fz.vcpus[i], busy, XVCPU_RUN, arg, NULL, NULL);
	if (run && ie && !busy && !arg) {
		/* Before it: completing an INS (see predict_vcpu()) */
		exp_only(&e, EINTR);
		exp_err(&e, ENOENT);
		exp_err(&e, EPERM);
	}
	ret = run_timed(fd, XVCPU_RUN, arg, fz.timer, ns, &err);
	vcpu_ran(&fz.vcpus[i]);
	vlog("RUN vCPU %d%s arg %#lx -> %ld (%s) exit %d", i,
	     reset ? msr ? " (MSR program)" : " (program)" : "", arg, ret,
	     ret ? errname(err) : "ok", run ? (int)run->exit_reason : -1);
	check(&e, ret, err, "RUN (main)");
	if (ret < 0 && err == EBUSY)
		fz.run_ebusy++;
	if (ret < 0 && err == EINTR)
		fz.run_eintr++;
	if (!run)
		return;
	run->immediate_exit = 0;
	if (!busy && !arg && (ret == 0 || err == EINTR)) {
		check_run_page(run, ret == 0, &c, "RUN (main)");
		add_counts(&c);
	}
	/*
	 * The MSR program was stopped between its faulting WRMSRs: what
	 * the kernel had going for it must not reach the next program.
	 */
	if (fresh && msr && ret < 0 && err == EINTR) {
		fresh_start(i, fd, run);
		return;
	}
	if (ret == 0)
		program_step(fd, run, v, busy || fz.vcpus[i].irq != Q_NO,
			     "RUN (main)");
}

/* Give a runner thread a vCPU to run for a while. */
void op_runner(struct rng *r)
{
	int ri = rng_below(r, fz.nr_runners ?: 1), v = pick_vcpu(r), fd;
	unsigned int c = rng_below(r, 100), runs = 1 + rng_below(r, 48);
	uint64_t seed = rng_u64(r);
	int kind = c < 45 ? JOB_PROGRAM : c < 65 ? JOB_MSR :
		   c < 87 ? JOB_RANDOM_STATE : JOB_AS_IS;

	/* Random state may spin until the timer: few runs of it */
	if (kind >= JOB_RANDOM_STATE)
		runs = 1 + runs % 4;

	if (!fz.nr_runners || v < 0)
		return;
	runner_join(&fz.runners[ri]);
	if (fz.vcpus[v].runner >= 0)
		runner_join(&fz.runners[fz.vcpus[v].runner]);
	fd = fcntl(fz.vcpus[v].fd, F_DUPFD_CLOEXEC, 0);
	count_call();
	if (fd < 0) {
		fail("dup of a vCPU fd: %s", strerror(errno));
		return;
	}
	vlog("runner %d: vCPU %d kind %d runs %u", ri, v, kind, runs);
	runner_give(&fz.runners[ri], v, fd, fz.vms[fz.vcpus[v].vm].code, kind,
		    runs, seed);
	if (!opt.concurrent)
		runner_wait(&fz.runners[ri]);
}

/*
 * A child process inherits the fds and mappings, uses some, and exits:
 * the module sees the last references of nothing, but mappings opened
 * and closed by another process.
 */
void op_fork(struct rng *r)
{
	bool unmap = rng_chance(r, 50);
	int i, st, err;
	pid_t pid;

	pid = fork();
	count_call();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		struct xvcpu_regs regs;
		timer_t timer;

		/*
		 * A vCPU runs in whatever process calls RUN: once each, with
		 * a timer of this process to end a spinning guest.
		 */
		if (thread_timer(&timer))
			_exit(3);
		for (i = 0; i < NR_VCPUS; i++) {
			if (!fz.vcpus[i].used || fz.vcpus[i].fd < 0)
				continue;
			ioctl(fz.vcpus[i].fd, XVCPU_GET_REGS, &regs);
			if (run_bounded(fz.vcpus[i].fd, XVCPU_RUN, 0, timer,
					&err) < 0 && err != EINTR &&
			    err != EBUSY && err != ENOMEM && err != ENOENT &&
			    err != EPERM)
				_exit(4);
		}
		for (i = 0; i < NR_MAPS; i++) {
			struct fz_map *m = &fz.maps[i];

			if (!m->used)
				continue;
			touch_kernel(m->addr + __builtin_ctzll(m->mask) * PG,
				     8, true, &err);
			if (unmap)
				munmap(m->addr, m->npages * PG);
		}
		_exit(0);
	}
	vlog("fork: child %d%s", pid, unmap ? " unmaps" : "");
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		fail("forked child: status %#x", st);
	for (i = 0; i < NR_VCPUS; i++)
		if (fz.vcpus[i].used)
			vcpu_ran(&fz.vcpus[i]);
}
