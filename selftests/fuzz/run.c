// SPDX-License-Identifier: GPL-2.0
/*
 * Running guests from any thread: XVCPU_RUN bounded by a timer, checks of
 * the run page after an exit, and the VMM side of the guest program
 * (completing its exits, putting a vCPU back at its start).
 */
#include <sys/syscall.h>

#include "fuzz.h"
#include "../../kmod/entrycheck.h"

/* A timer that sends SIGUSR1 to the calling thread. */
int thread_timer(timer_t *timer)
{
	struct sigevent sev;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev._sigev_un._tid = syscall(SYS_gettid);
	return timer_create(CLOCK_MONOTONIC, &sev, timer) ? -errno : 0;
}

/*
 * Arm @timer to fire after @ns, and then every RUN_REPEAT_NS until it is
 * disarmed (@ns = 0).  A one-shot timer is not enough: if it fires after
 * timer_settime() but before the ioctl starts (the thread was preempted),
 * its signal is taken in userspace and a guest spinning in the kernel's
 * run loop is never stopped.
 */
static void timer_arm(timer_t timer, long ns)
{
	struct itimerspec its = {
		.it_value.tv_nsec = ns,
		.it_interval.tv_nsec = ns ? RUN_REPEAT_NS : 0,
	};

	timer_settime(timer, 0, &its, NULL);
}

/*
 * XVCPU_RUN that a guest spinning without exits cannot hold forever: the
 * timer's signal makes it return -EINTR.  Returns ioctl()'s result, errno
 * in *err.
 */
long run_timed(int fd, unsigned long cmd, unsigned long arg,
	       timer_t timer, long ns, int *err)
{
	long ret;

	timer_arm(timer, ns);
	ret = ioctl(fd, cmd, arg);
	*err = errno;
	timer_arm(timer, 0);
	count_call();
	return ret;
}

long run_bounded(int fd, unsigned long cmd, unsigned long arg,
		 timer_t timer, int *err)
{
	return run_timed(fd, cmd, arg, timer, RUN_TIMEOUT_NS, err);
}

/*
 * VMLAUNCH/VMRESUME itself failed: the controls or host state the kernel
 * wrote are wrong, whatever the guest state userspace gave.
 */
void check_vmfail(const struct xvcpu_run *run, struct exit_counts *c,
		  const char *who)
{
	uint64_t why = run->fail_entry.hardware_entry_failure_reason;

	if (run->exit_reason != XVCPU_EXIT_FAIL_ENTRY || !(why >> 63))
		return;
	c->vmfail++;
	fail("%s: VM entry failed with VM-instruction error %llu",
	     who, (unsigned long long)(why & 0xffffffff));
}

/*
 * A failed VM entry that is not a VMfail: the SDM's basic reasons for it
 * are invalid guest state (33), MSR loading (34) and machine check (41),
 * with bit 31 set (SDM Vol. 3C 27.8).  Anything else (Bochs reports
 * 0xfffffffb for an event injection it refuses) is state the kernel let
 * through that it should have refused or cleared.
 */
void check_entry_failure(const struct xvcpu_run *run, const char *who)
{
	uint64_t why = run->fail_entry.hardware_entry_failure_reason;
	unsigned int basic = why & 0xffff;

	if (why >> 63 || (basic == 33 || basic == 34 || basic == 41))
		return;
	fail("%s: VM entry failed with exit reason %#llx, not one for guest state",
	     who, (unsigned long long)why);
}

/*
 * Check the run page after XVCPU_RUN returned 0 (@ok) or -EINTR, with no
 * other thread running the vCPU meanwhile.
 */
void check_run_page(const struct xvcpu_run *run, bool ok,
		    struct exit_counts *c, const char *who)
{
	uint32_t reason = run->exit_reason;

	if (!ok) {
		if (reason != XVCPU_EXIT_INTR)
			fail("%s: RUN returned EINTR, exit_reason %u", who,
			     reason);
		return;
	}
	if (reason == XVCPU_EXIT_UNKNOWN || reason == XVCPU_EXIT_INTR ||
	    reason > EXIT_LAST) {
		fail("%s: RUN returned 0, exit_reason %u", who, reason);
		return;
	}
	c->exits[reason]++;
	if (run->ready_for_interrupt_injection && !run->if_flag)
		fail("%s: ready_for_interrupt_injection with RFLAGS.IF = 0 (exit %s)",
		     who, xvcpu_exit_name(reason));
	switch (reason) {
	case XVCPU_EXIT_IO:
		if (run->io.direction > XVCPU_IO_OUT ||
		    (run->io.size != 1 && run->io.size != 2 &&
		     run->io.size != 4) || !run->io.count ||
		    run->io.string > 1 ||
		    (run->io.string ?
		     run->io.data_offset != XVCPU_RUN_IO_DATA_OFFSET ||
		     run->io.count * run->io.size > XVCPU_RUN_IO_DATA_SIZE :
		     run->io.count != 1))
			fail("%s: IO exit dir %u size %u port %#x count %u string %u offset %u",
			     who, run->io.direction, run->io.size,
			     run->io.port, run->io.count, run->io.string,
			     run->io.data_offset);
		break;
	case XVCPU_EXIT_MMIO:
		if (!run->mmio.access ||
		    run->mmio.access & ~(XVCPU_MMIO_READ | XVCPU_MMIO_WRITE |
					 XVCPU_MMIO_FETCH) ||
		    run->mmio.insn_len > 15)
			fail("%s: MMIO exit gpa %#llx access %#x insn_len %u",
			     who, (unsigned long long)run->mmio.phys_addr,
			     run->mmio.access, run->mmio.insn_len);
		break;
	case XVCPU_EXIT_INTERNAL_ERROR:
		if (run->internal.suberror != XVCPU_INTERNAL_UNHANDLED_EXIT ||
		    run->internal.ndata != 8)
			fail("%s: internal error suberror %u ndata %u", who,
			     run->internal.suberror, run->internal.ndata);
		break;
	case XVCPU_EXIT_FAIL_ENTRY:
		c->fail_entry++;
		check_entry_failure(run, who);
		/* A guest-state field only for invalid guest state */
		if (run->fail_entry.pad ||
		    (run->fail_entry.field &&
		     (run->fail_entry.hardware_entry_failure_reason &
		      0xffff) != 33))
			fail("%s: entry failure %#llx names field %#x, pad %u",
			     who, (unsigned long long)
			     run->fail_entry.hardware_entry_failure_reason,
			     run->fail_entry.field, run->fail_entry.pad);
		/*
		 * The field named is one the module's guest-state check
		 * knows (entrycheck_field_name(), linked from the module)
		 */
		else if (run->fail_entry.field &&
			 !strcmp(entrycheck_field_name(run->fail_entry.field),
				 "?"))
			fail("%s: invalid guest state names field %#x, not a guest-state field",
			     who, run->fail_entry.field);
		break;
	case XVCPU_EXIT_MSR:
		if (run->msr.direction > XVCPU_MSR_WRITE)
			fail("%s: MSR exit direction %u", who,
			     run->msr.direction);
		break;
	case XVCPU_EXIT_IRQ_WINDOW_OPEN:
		/* Asked for, and the guest can take an interrupt now */
		if (!run->request_interrupt_window ||
		    !run->ready_for_interrupt_injection)
			fail("%s: interrupt window exit, request %u ready %u if %u",
			     who, run->request_interrupt_window,
			     run->ready_for_interrupt_injection,
			     run->if_flag);
		break;
	case XVCPU_EXIT_DEBUG:
		/* #DB or #BP; DR6 and DR7 with their fixed bits set */
		if ((run->debug.exception != 1 && run->debug.exception != 3) ||
		    (run->debug.dr6 & 0xffff0ff0) != 0xffff0ff0 ||
		    !(run->debug.dr7 & 0x400))
			fail("%s: debug exit exception %u dr6 %#llx dr7 %#llx",
			     who, run->debug.exception,
			     (unsigned long long)run->debug.dr6,
			     (unsigned long long)run->debug.dr7);
		break;
	default:
		break;
	}
	check_vmfail(run, c, who);
}

/*
 * After an exit of the guest program: complete IN and VMCALL with @v and
 * move RIP past an MMIO instruction.  Other exits and other code are left
 * alone.  @queued: an interrupt may be queued on the vCPU (this thread
 * does not know, or another thread may queue one), so that SET_REGS with
 * RFLAGS.IF = 0 may be refused.  Returns false if an ioctl that must work
 * failed.
 */
bool program_step(int fd, struct xvcpu_run *run, uint64_t v,
		  bool queued, const char *who)
{
	struct xvcpu_regs regs;
	struct expect e;
	long ret;
	int err;

	switch (run->exit_reason) {
	case XVCPU_EXIT_IO:
		if (run->io.direction == XVCPU_IO_IN)
			run->io.data = v;
		return true;
	case XVCPU_EXIT_HYPERCALL:
		run->hypercall.ret = v;
		return true;
	case XVCPU_EXIT_MSR:
		run->msr.data = v;
		run->msr.error = (v >> 60) == 0xf;
		return true;
	case XVCPU_EXIT_MMIO:
		break;
	default:
		return true;
	}
	exp_init(&e);
	e.ok = 0;
	exp_err(&e, EBUSY);
	ret = ioctl(fd, XVCPU_GET_REGS, &regs);
	err = errno;
	count_call();
	if (!check_call(&e, ret, err, who, XVCPU_GET_REGS, NULL) || ret)
		return false;
	if (regs.rip != PROG_MMIO_W && regs.rip != PROG_MMIO_R)
		return true;
	regs.rip += 2;
	regs.rcx = v;
	/* IF = 0 with an interrupt injected and one queued: refused */
	if (queued && !(regs.rflags & RFLAGS_IF))
		exp_err(&e, EINVAL);
	ret = ioctl(fd, XVCPU_SET_REGS, &regs);
	err = errno;
	count_call();
	return check_call(&e, ret, err, who, XVCPU_SET_REGS, &regs);
}

/*
 * Put a vCPU at the start of the program (or of the MSR program, with
 * RFLAGS.IF = @irqs_on) in a fresh state: SET_EVENTS with nothing
 * pending, SET_SREGS and SET_REGS.  EBUSY tolerated (another thread in
 * an ioctl of the vCPU).  @shared: another thread may queue events on
 * the vCPU between SET_EVENTS and SET_REGS, so SET_REGS with IF = 0 may
 * be refused.  Returns false if a step did not succeed.
 */
bool program_reset(int fd, bool msr, bool irqs_on, bool shared,
		   const char *who)
{
	static const struct xvcpu_events none;
	const struct xvcpu_sregs *sregs = msr ? &sregs_msrprog : &fz.sregs_long;
	struct xvcpu_regs regs = fz.prog_regs;
	bool done = true;
	struct expect e;
	long ret;
	int err;

	exp_init(&e);
	e.ok = 0;
	exp_err(&e, EBUSY);
	/* Events first: RFLAGS.IF = 0 may not meet an injected interrupt */
	ret = ioctl(fd, XVCPU_SET_EVENTS, &none);
	err = errno;
	count_call();
	done &= check_call(&e, ret, err, who, XVCPU_SET_EVENTS, &none) && !ret;
	ret = ioctl(fd, XVCPU_SET_SREGS, sregs);
	err = errno;
	count_call();
	done &= check_call(&e, ret, err, who, XVCPU_SET_SREGS, sregs) && !ret;
	if (msr) {
		regs.rip = MSRPROG_CODE;
		if (irqs_on)
			regs.rflags |= RFLAGS_IF;
	}
	if (shared && !(regs.rflags & RFLAGS_IF))
		exp_err(&e, EINVAL);
	ret = ioctl(fd, XVCPU_SET_REGS, &regs);
	err = errno;
	count_call();
	done &= check_call(&e, ret, err, who, XVCPU_SET_REGS, &regs) && !ret;
	return done;
}

/* Main's program_reset() of vCPU @i: its event queues are empty after. */
void program_reset_main(int i, bool msr, bool irqs_on)
{
	struct fz_vcpu *v = &fz.vcpus[i];
	bool shared = v->runner >= 0;

	if (program_reset(v->fd, msr, irqs_on, shared, "main") && !shared)
		v->irq = v->nmi = Q_NO;
}
