// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs moved between CPUs on every run: several VMs with several vCPUs
 * each, every vCPU thread switching its CPU affinity before each
 * XVCPU_RUN, so the VMCS is cleared on one CPU and loaded on the other
 * each time.  Guest registers and memory are checked all along.
 *
 * XVCPU_MIGRATIONS sets the total number of runs (default 100000).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "harness.h"

#define NR_VMS		2
#define VCPUS_PER_VM	2
#define NR_THREADS	(NR_VMS * VCPUS_PER_VM)
#define PORT		0x80

/* One counter per vCPU, which its guest increments before each exit */
static uint64_t counters[VCPUS_PER_VM];

/*
 * RDI: the vCPU's counter.  R12 counts in a register and the counter in
 * memory follows it, so both register and memory state are checked.
 */
GUEST_ASM(
"guest_count:\n"
"	xor %r12, %r12\n"
"1:	inc %r12\n"
"	mov %r12, (%rdi)\n"
"	out %al, $0x80\n"
"	jmp 1b\n");
extern char guest_count[];

struct worker {
	struct xvt_vm *t;
	unsigned int id;	/* vCPU index in its VM */
	unsigned long runs;
	unsigned long migrations;
	const char *error;
	uint64_t bad_value;
};

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct xvcpu_vcpu *vcpu = w->t->vcpus[w->id];
	struct xvcpu_regs regs;
	int last_cpu = -1;
	unsigned long i;

	for (i = 1; i <= w->runs; i++) {
		if (pin_to(i & 1)) {
			w->error = "sched_setaffinity failed";
			return NULL;
		}
		if (xvt_run(vcpu, NULL) != UCALL_NONE ||
		    vcpu->run->exit_reason != XVCPU_EXIT_IO ||
		    vcpu->run->io.port != PORT) {
			w->error = "unexpected exit";
			return NULL;
		}
		if (sched_getcpu() != last_cpu)
			w->migrations++;
		last_cpu = sched_getcpu();
		if (GUEST_VAR(w->t, counters[w->id]) != i) {
			w->error = "guest memory lost a write";
			w->bad_value = GUEST_VAR(w->t, counters[w->id]);
			return NULL;
		}
		if (i % 1024 == 0) {
			if (xvcpu_get_regs(vcpu, &regs) || regs.r12 != i) {
				w->error = "guest R12 lost a value";
				w->bad_value = regs.r12;
				return NULL;
			}
		}
	}
	return NULL;
}

TEST(vcpus_migrate_on_every_run)
{
	struct xvt_vm *vms[NR_VMS] = {};
	struct worker w[NR_THREADS] = {};
	pthread_t threads[NR_THREADS];
	unsigned long total = 100000, migrations = 0;
	const char *env = getenv("XVCPU_MIGRATIONS");
	int v, i;

	XVT_REQUIRE_DEV();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two online CPUs");
	if (env)
		total = strtoul(env, NULL, 0);

	for (v = 0; v < NR_VMS; v++) {
		vms[v] = xvt_vm_create(VCPUS_PER_VM);
		ASSERT_NE(NULL, vms[v]);
	}
	for (i = 0; i < NR_THREADS; i++) {
		struct xvt_vm *t = vms[i / VCPUS_PER_VM];

		w[i].t = t;
		w[i].id = i % VCPUS_PER_VM;
		w[i].runs = total / NR_THREADS;
		ASSERT_EQ(0, xvt_vcpu_enter(t->vcpus[w[i].id], guest_count,
					    (uintptr_t)&counters[w[i].id], 0));
	}
	for (i = 0; i < NR_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, work, &w[i]));
	for (i = 0; i < NR_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
		EXPECT_EQ(NULL, w[i].error)
			TH_LOG("VM %d vCPU %u: %s (%#llx)", i / VCPUS_PER_VM,
			       w[i].id, w[i].error,
			       (unsigned long long)w[i].bad_value);
		migrations += w[i].migrations;
	}
	TH_LOG("%lu runs, %lu of them on another CPU than the run before",
	       (w[0].runs * NR_THREADS), migrations);
	/* Every run alternates CPUs: nearly all of them migrate */
	EXPECT_LE(w[0].runs * NR_THREADS * 9 / 10, migrations);
	for (v = 0; v < NR_VMS; v++)
		xvt_vm_destroy(vms[v]);
}

TEST_HARNESS_MAIN
