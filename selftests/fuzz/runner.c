// SPDX-License-Identifier: GPL-2.0
/*
 * Runner threads: each runs guests on a vCPU main gives it (a dup of the
 * vCPU fd), with its own seeded random stream: the program, the MSR
 * program or random state, with events, interrupts, NMIs and guest
 * debugging set now and then.  With a fresh seed (or --concurrent) a job
 * overlaps main's next operations; in lockstep (a replay) main waits for
 * the job to end before its next operation, so each runner's calls come
 * at a fixed point of main's sequence.
 */
#include "fuzz.h"

/*
 * A runner's ioctl on its vCPU: main may be in one of the same vCPU, so
 * EBUSY is always an answer too.  @ok: 0 may be the answer; @errs: the
 * other errnos, 0-terminated.  Returns whether it succeeded.
 */
static bool runner_ioctl(struct runner *rn, unsigned long cmd, const void *arg,
			 bool ok, const int *errs)
{
	struct expect e;
	char buf[96];
	long ret;
	int err;

	exp_init(&e);
	if (ok)
		e.ok = 0;
	exp_err(&e, EBUSY);
	while (errs && *errs)
		exp_err(&e, *errs++);
	ret = ioctl(rn->fd, cmd, arg);
	err = errno;
	count_call();
	snprintf(buf, sizeof(buf), "runner %d", rn->index);
	check_call(&e, ret, err, buf, cmd, arg);
	return !ret;
}

/*
 * Events for the guest a runner is about to run: events set, an
 * interrupt or NMI queued, guest debugging, an interrupt window asked
 * for.  What is queued stays when the guest cannot take it.
 */
static void runner_events(struct runner *rn, struct rng *r,
			  struct xvcpu_run *run)
{
	static const int einval[] = { EINVAL, 0 };
	static const int enotsupp[] = { EOPNOTSUPP, 0 };
	struct xvcpu_guest_debug dbg;
	struct xvcpu_interrupt irq;
	struct xvcpu_events ev;
	unsigned int n, v;
	int d;

	for (n = 1 + rng_below(r, 3); n > 0; n--) {
		switch (rng_below(r, 6)) {
		case 0:
			gen_events(r, &ev);
			/* Whether RFLAGS.IF is set: main may have changed it */
			v = events_verdict(&ev, -1);
			if (runner_ioctl(rn, XVCPU_SET_EVENTS, &ev, v & V_OK,
					 v & V_EINVAL ? einval : NULL))
				rn->events_set++;
			break;
		case 1:
		case 2:
			memset(&irq, 0, sizeof(irq));
			irq.vector = rng_below(r, 256);
			/* EBUSY: still queued */
			if (runner_ioctl(rn, XVCPU_INTERRUPT, &irq, true, NULL))
				rn->irqs_queued++;
			break;
		case 3:
			v = cap_value(XVCPU_CAP_NMI);
			if (runner_ioctl(rn, XVCPU_NMI, NULL, v,
					 v ? NULL : enotsupp))
				rn->nmis_queued++;
			break;
		case 4:
			gen_guest_debug(r, &dbg);
			if (rng_chance(r, 80))
				dbg.flags &= DEBUG_FLAGS;
			dbg.pad = 0;
			memset(dbg.reserved, 0, sizeof(dbg.reserved));
			d = guest_debug_verdict(&dbg);
			if (runner_ioctl(rn, XVCPU_SET_GUEST_DEBUG, &dbg, !d,
					 d == EINVAL ? einval :
					 d ? enotsupp : NULL))
				rn->debug_set++;
			break;
		default:
			run->request_interrupt_window = rng_chance(r, 50);
			break;
		}
	}
}

static void runner_job(struct runner *rn)
{
	struct rng rng = { rn->seed };
	char *page = fz.runner_pages + rn->index * PG;
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;
	struct xvcpu_run *run;
	char who[32];
	unsigned int i;
	struct expect e;
	bool irqs_on;
	long ret;
	int err;

	snprintf(who, sizeof(who), "runner %d", rn->index);
	run = mmap(page, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		   rn->fd, 0);
	count_call();
	if (run == MAP_FAILED) {
		fail("%s: mmap of the run page: %s", who, strerror(errno));
		reserve(page, PG);
		goto out;
	}

	if (rn->mem && rn->kind != JOB_AS_IS) {
		prog_write(rn->mem);
		if (rn->kind == JOB_MSR)
			msrprog_table(&rng, rn->mem);
	}
	/* The MSR program has an IDT: interrupts can reach it */
	irqs_on = rn->kind == JOB_MSR && rng_chance(&rng, 50);
	if (rn->kind == JOB_PROGRAM || rn->kind == JOB_MSR) {
		program_reset(rn->fd, rn->kind == JOB_MSR, irqs_on, true, who);
	} else if (rn->kind == JOB_RANDOM_STATE) {
		gen_sregs(&rng, &sregs);
		gen_regs(&rng, &regs);
		ret = ioctl(rn->fd, XVCPU_SET_SREGS, &sregs);
		count_call();
		ret = ioctl(rn->fd, XVCPU_SET_REGS, &regs);
		count_call();
	}
	if (rng_chance(&rng, 40))
		runner_events(rn, &rng, run);

	exp_init(&e);
	predict_vcpu(&e, NULL, true, XVCPU_RUN, 0, NULL, NULL);
	for (i = 0; i < rn->runs; i++) {
		uint64_t v = rng_u64(&rng);

		if (__atomic_load_n(&rn->stop, __ATOMIC_RELAXED))
			break;
		if (rng_chance(&rng, 5))
			runner_events(rn, &rng, run);
		run->immediate_exit = 0;
		ret = run_bounded(rn->fd, XVCPU_RUN, 0, rn->timer, &err);
		if (!check(&e, ret, err, who))
			break;
		if (ret < 0) {
			if (err == EINTR)
				rn->eintr++;
			else if (err == EBUSY)
				rn->ebusy++;
			continue;
		}
		/*
		 * Main may run or change this vCPU too; only what cannot
		 * depend on that is checked.
		 */
		if (run->exit_reason <= EXIT_LAST &&
		    run->exit_reason != XVCPU_EXIT_INTR)
			rn->c.exits[run->exit_reason]++;
		check_vmfail(run, &rn->c, who);
		if (run->exit_reason == XVCPU_EXIT_FAIL_ENTRY)
			check_entry_failure(run, who);
		if (!program_step(rn->fd, run, v, true, who))
			break;
		switch (run->exit_reason) {
		case XVCPU_EXIT_SHUTDOWN:
		case XVCPU_EXIT_FAIL_ENTRY:
		case XVCPU_EXIT_INTERNAL_ERROR:
			if (rn->kind == JOB_PROGRAM || rn->kind == JOB_MSR)
				program_reset(rn->fd, rn->kind == JOB_MSR,
					      irqs_on, true, who);
			break;
		}
	}
	/*
	 * Unmap by mapping the reservation over it: a munmap() would leave
	 * a hole that main's mmap(NULL) could take before it is reserved.
	 */
	reserve(page, PG);
	count_call();
out:
	close(rn->fd);
	count_call();
}

static void *runner_main(void *arg)
{
	struct runner *rn = arg;

	in_runner = true;
	if (thread_timer(&rn->timer)) {
		fail("runner %d: timer_create: %s", rn->index,
		     strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&rn->lock);
	for (;;) {
		while (!rn->has_job && !rn->quit)
			pthread_cond_wait(&rn->cond, &rn->lock);
		if (rn->quit)
			break;
		pthread_mutex_unlock(&rn->lock);
		runner_job(rn);
		pthread_mutex_lock(&rn->lock);
		rn->has_job = false;
		pthread_cond_broadcast(&rn->cond);
	}
	pthread_mutex_unlock(&rn->lock);
	timer_delete(rn->timer);
	return NULL;
}

int runners_start(int n)
{
	pthread_condattr_t ca;
	int i, ret;

	fz.runners = calloc(n, sizeof(*fz.runners));
	if (!fz.runners)
		return -ENOMEM;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		struct runner *rn = &fz.runners[i];

		rn->index = i;
		rn->vcpu = -1;
		pthread_mutex_init(&rn->lock, NULL);
		pthread_cond_init(&rn->cond, &ca);
		ret = pthread_create(&rn->thread, NULL, runner_main, rn);
		if (ret)
			return -ret;
		fz.nr_runners++;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

/*
 * Wait for @rn's job to end (after a while, ask it to stop), and take its
 * results.  The vCPU it held may go away now.
 */
void runner_join(struct runner *rn)
{
	struct timespec ts;
	uint64_t t;

	if (!rn->active)
		return;
	pthread_mutex_lock(&rn->lock);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = ts.tv_sec * 1000000000ULL + ts.tv_nsec + JOIN_WAIT_NS;
	ts.tv_sec = t / 1000000000ULL;
	ts.tv_nsec = t % 1000000000ULL;
	while (rn->has_job) {
		if (pthread_cond_timedwait(&rn->cond, &rn->lock, &ts) ==
		    ETIMEDOUT) {
			__atomic_store_n(&rn->stop, true, __ATOMIC_RELAXED);
			pthread_kill(rn->thread, SIGUSR1);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 10 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		}
	}
	pthread_mutex_unlock(&rn->lock);
	rn->active = false;
	fz.vcpus[rn->vcpu].runner = -1;
	rn->vcpu = -1;
	fz.run_eintr += rn->eintr;
	fz.run_ebusy += rn->ebusy;
	for (t = 0; t < ARRAY_SIZE(fz.exits); t++)
		fz.exits[t] += rn->c.exits[t];
	fz.vmfail += rn->c.vmfail;
	fz.fail_entry += rn->c.exits[XVCPU_EXIT_FAIL_ENTRY];
	fz.events_set += rn->events_set;
	fz.irqs_queued += rn->irqs_queued;
	fz.nmis_queued += rn->nmis_queued;
	fz.debug_set += rn->debug_set;
	memset(&rn->c, 0, sizeof(rn->c));
	rn->eintr = rn->ebusy = 0;
	rn->events_set = rn->irqs_queued = rn->nmis_queued = rn->debug_set = 0;
	gc();
}

/*
 * Lockstep: wait until @rn's job has ended, all its runs done (each is
 * bounded by the timer).  The job is taken back later, by runner_join(),
 * where a concurrent run takes it back too: the model changes at the
 * same points of main's sequence in both.
 */
void runner_wait(struct runner *rn)
{
	pthread_mutex_lock(&rn->lock);
	while (rn->has_job)
		pthread_cond_wait(&rn->cond, &rn->lock);
	pthread_mutex_unlock(&rn->lock);
}

void runner_give(struct runner *rn, int vcpu, int fd, uint8_t *mem,
		 int kind, unsigned int runs, uint64_t seed)
{
	rn->vcpu = vcpu;
	rn->fd = fd;
	rn->mem = mem;
	rn->kind = kind;
	rn->runs = runs;
	rn->seed = seed;
	rn->active = true;
	fz.vcpus[vcpu].runner = rn->index;
	/* What it queues, and what its guests take, is not followed */
	fz.vcpus[vcpu].irq = fz.vcpus[vcpu].nmi = Q_UNKNOWN;
	pthread_mutex_lock(&rn->lock);
	rn->stop = false;
	rn->has_job = true;
	pthread_cond_broadcast(&rn->cond);
	pthread_mutex_unlock(&rn->lock);
}

void runners_stop(void)
{
	int i;

	for (i = 0; i < fz.nr_runners; i++)
		runner_join(&fz.runners[i]);
	for (i = 0; i < fz.nr_runners; i++) {
		struct runner *rn = &fz.runners[i];

		pthread_mutex_lock(&rn->lock);
		rn->quit = true;
		pthread_cond_broadcast(&rn->cond);
		pthread_mutex_unlock(&rn->lock);
		pthread_join(rn->thread, NULL);
	}
	free(fz.runners);
	fz.runners = NULL;
	fz.nr_runners = 0;
}
