// SPDX-License-Identifier: GPL-2.0
/*
 * Guests that boot themselves: from the reset state of a new vCPU (real
 * mode at F000:FFF0) through protected mode and paging to 64-bit mode, on
 * one vCPU and on several vCPUs of one VM at once, each on its own thread.
 *
 * The guest is tools/guests/boot64.S, assembled into this binary from the
 * same source as the flat image xvcpu-run runs (see boot64.h for what it
 * reports and its memory layout).  Only its 64 KiB image and guest RAM
 * are given to the VM; the vCPUs start exactly as XVCPU_CREATE_VCPU
 * leaves them.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "harness.h"
#include "../tools/guests/boot64.h"

/*
 * The image.  The assembler finds the source through the -I paths the
 * compiler passes on (selftests/lib comes first: ../../ is the top of the
 * tree).  Editing boot64.S does not rebuild this file by itself.
 */
asm(".pushsection .rodata.boot64, \"a\", @progbits\n"
    ".balign 16\n"
    "boot_test_image:\n"
    ".include \"../../tools/guests/boot64.S\"\n"
    "boot_test_image_end:\n"
    ".code64\n"
    ".popsection\n");
extern const uint8_t boot_test_image[], boot_test_image_end[];

#define RAM_SIZE	(4ULL << 20)
#define NR_SMP		4
#define MAX_EXITS	100000
#define MAX_STAGES	16
#define MAX_DATA	8
#define LINE_SIZE	128

/*
 * The stress loop runs STRESS_NS or until the vCPUs have counted to
 * STRESS_TOTAL together, whichever comes first, and each vCPU at least
 * STRESS_MIN_ITERATIONS times.  In Bochs the second ends it: guest time
 * runs far slower than wall time there, and 4 x 10^7 iterations take
 * some 20 s; on hardware, a few seconds.
 */
#define STRESS_NS		(3ULL * 1000 * 1000 * 1000)
#define STRESS_MAX_NS		(120ULL * 1000 * 1000 * 1000)
#define STRESS_TOTAL		(NR_SMP * 10000000ULL)
#define STRESS_MIN_ITERATIONS	20000

struct boot_vm {
	int sys_fd;
	struct xvcpu_vm *vm;
	uint8_t *ram;
	struct xvcpu_vcpu *vcpus[NR_SMP];
	unsigned int nr_vcpus;
};

/* What one vCPU reported, as seen from the run loop of its thread. */
struct boot_log {
	struct xvcpu_vcpu *vcpu;
	pthread_barrier_t *start;
	unsigned int nr_stages, nr_data, nr_exits;
	uint32_t stage_ids[MAX_STAGES];
	uint8_t stages[MAX_STAGES];
	uint32_t data[MAX_DATA];
	char line[LINE_SIZE];
	size_t line_len;
	bool halted;
	char error[512];	/* set if the run ended on anything but HLT */
};

static const uint8_t boot_stages[] = {
	BOOT64_STAGE_RESET, BOOT64_STAGE_PROTECTED, BOOT64_STAGE_TABLES,
	BOOT64_STAGE_PAE, BOOT64_STAGE_LME, BOOT64_STAGE_PAGING,
	BOOT64_STAGE_LONG, BOOT64_STAGE_SEGMENTS, BOOT64_STAGE_RESULT,
};

static void boot_vm_destroy(struct boot_vm *b)
{
	unsigned int i;

	for (i = 0; i < b->nr_vcpus; i++)
		xvcpu_vcpu_destroy(b->vcpus[i]);
	if (b->vm)
		xvcpu_vm_destroy(b->vm);
	if (b->sys_fd >= 0)
		close(b->sys_fd);
	memset(b, 0, sizeof(*b));
	b->sys_fd = -1;
}

/*
 * RAM at 0, the image at the top of 4 GiB (read-only: XVCPU_CAP_READONLY_MEM
 * is always 1, api_test checks it), and @nr fresh vCPUs.  0 or -errno; a line on stderr says which
 * step failed.
 */
static int boot_vm_create(struct boot_vm *b, unsigned int nr)
{
	uint8_t *rom;
	unsigned int i;
	int ret;

	memset(b, 0, sizeof(*b));
	b->sys_fd = xvcpu_open();
	if (b->sys_fd < 0) {
		ret = b->sys_fd;
		fprintf(stderr, "open %s: %s\n", XVCPU_DEV, strerror(-ret));
		return ret;
	}
	b->vm = xvcpu_vm_create(b->sys_fd);
	if (!b->vm)
		goto err;
	b->ram = xvcpu_vm_add_memory(b->vm, 0, 0, RAM_SIZE, 0);
	if (!b->ram)
		goto err;
	rom = xvcpu_vm_add_memory(b->vm, 1, BOOT64_IMAGE_BASE,
				  BOOT64_IMAGE_SIZE, XVCPU_MEM_READONLY);
	if (!rom)
		goto err;
	memcpy(rom, boot_test_image, BOOT64_IMAGE_SIZE);
	for (i = 0; i < nr; i++) {
		b->vcpus[i] = xvcpu_vcpu_create(b->vm, i);
		if (!b->vcpus[i])
			goto err;
		b->nr_vcpus++;
	}
	return 0;

err:
	ret = -errno;
	fprintf(stderr, "boot VM setup: %s\n", strerror(errno));
	boot_vm_destroy(b);
	return ret;
}

static void *ram_at(struct boot_vm *b, uint64_t gpa)
{
	return b->ram + gpa;
}

static void log_error(struct boot_log *log, const char *what)
{
	struct xvcpu_exit_info ei;
	char buf[256];
	int n;

	n = snprintf(log->error, sizeof(log->error), "%s: %s", what,
		     xvt_exit_str(log->vcpu, buf, sizeof(buf)));
	if (n > 0 && (size_t)n < sizeof(log->error) &&
	    xvcpu_get_exit_info(log->vcpu, &ei) == 0)
		snprintf(log->error + n, sizeof(log->error) - n,
			 " (vmx exit %u qualification %#llx)", ei.basic_reason,
			 (unsigned long long)ei.exit_qualification);
}

/* One port I/O exit of the guest; false when the run must end. */
static bool boot_io(struct boot_log *log)
{
	struct xvcpu_run *run = log->vcpu->run;
	uint32_t v = (uint32_t)run->io.data;

	if (run->io.count != 1) {
		log_error(log, "string I/O");
		return false;
	}
	if (run->io.direction == XVCPU_IO_IN) {
		/* Only the COM1 line status register: always ready */
		run->io.data = run->io.port == 0x3fd ? 0x60 : 0xff;
		return true;
	}
	switch (run->io.port) {
	case BOOT64_REPORT_PORT:
		if (run->io.size != 4 || log->nr_stages == MAX_STAGES) {
			log_error(log, "bad report");
			return false;
		}
		log->stage_ids[log->nr_stages] = v >> 8;
		log->stages[log->nr_stages++] = v & 0xff;
		return true;
	case BOOT64_DATA_PORT:
		if (run->io.size != 4 || log->nr_data == MAX_DATA) {
			log_error(log, "bad data report");
			return false;
		}
		log->data[log->nr_data++] = v;
		return true;
	case 0x3f8:
		if (log->line_len + 1 < sizeof(log->line))
			log->line[log->line_len++] = (char)v;
		return true;
	case BOOT64_EXIT_PORT:
		log_error(log, "the guest gave up");
		return false;
	}
	return true;	/* UART setup and the like */
}

/* Run the vCPU of @log until it halts or something goes wrong. */
static void *boot_run(void *arg)
{
	struct boot_log *log = arg;
	int ret;

	if (log->start)
		pthread_barrier_wait(log->start);
	while (log->nr_exits++ < MAX_EXITS) {
		ret = xvcpu_vcpu_run(log->vcpu);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			snprintf(log->error, sizeof(log->error),
				 "XVCPU_RUN: %s", strerror(-ret));
			return NULL;
		}
		switch (log->vcpu->run->exit_reason) {
		case XVCPU_EXIT_IO:
			if (!boot_io(log))
				return NULL;
			break;
		case XVCPU_EXIT_HLT:
			log->halted = true;
			return NULL;
		default:
			log_error(log, "unexpected exit");
			return NULL;
		}
	}
	snprintf(log->error, sizeof(log->error), "more than %d exits",
		 MAX_EXITS);
	return NULL;
}

/*
 * Everything vCPU @id must have reported for its boot: the stages in order,
 * each with its id, then its id and checksum, and its line on COM1.
 */
static void check_boot(struct __test_metadata *_metadata, struct boot_vm *b,
		       const struct boot_log *log, unsigned int id,
		       bool stress)
{
	uint64_t sum = boot64_checksum(boot_test_image, BOOT64_IMAGE_SIZE, id);
	const struct boot64_slot *slot = ram_at(b, BOOT64_SLOT(id));
	unsigned int i, want = ARRAY_SIZE(boot_stages) + stress;
	char line[LINE_SIZE];

	ASSERT_EQ(0, log->error[0]) TH_LOG("vCPU %u: %s", id, log->error);
	ASSERT_TRUE(log->halted);
	ASSERT_EQ(want, log->nr_stages) TH_LOG("vCPU %u", id);
	for (i = 0; i < want; i++) {
		unsigned int stage = i < ARRAY_SIZE(boot_stages) ?
				     boot_stages[i] : BOOT64_STAGE_STRESS;

		EXPECT_EQ(stage, log->stages[i])
			TH_LOG("vCPU %u: report %u", id, i);
		EXPECT_EQ(id, log->stage_ids[i])
			TH_LOG("vCPU %u: report %u", id, i);
	}
	ASSERT_LE(3, log->nr_data);
	EXPECT_EQ(id, log->data[0]);
	EXPECT_EQ((uint32_t)sum, log->data[1]) TH_LOG("vCPU %u", id);
	EXPECT_EQ((uint32_t)(sum >> 32), log->data[2]) TH_LOG("vCPU %u", id);

	EXPECT_EQ(id, slot->apic_id);
	EXPECT_EQ(sum, slot->checksum);
	EXPECT_EQ(stress ? BOOT64_STAGE_STRESS : BOOT64_STAGE_RESULT,
		  slot->stage);

	snprintf(line, sizeof(line),
		 "xvcpu boot64: vCPU %u: real -> protected -> long mode, checksum 0x%016llx\n",
		 id, (unsigned long long)sum);
	EXPECT_STREQ(line, log->line);
}

/* The state the guest left: 64-bit mode with its own page tables. */
static void check_long_mode(struct __test_metadata *_metadata,
			    struct xvcpu_vcpu *vcpu, unsigned int id)
{
	struct xvcpu_sregs s;

	ASSERT_EQ(0, xvcpu_get_sregs(vcpu, &s));
	/* CR0.PG and PE set, CD and NW clear; CR4.PAE; EFER.LMA and LME */
	EXPECT_EQ(0x80000001, s.cr0 & 0xe0000001)
		TH_LOG("cr0 %#llx", (unsigned long long)s.cr0);
	EXPECT_EQ(0x20, s.cr4 & 0x20);
	EXPECT_EQ(0x500, s.efer & 0x500)
		TH_LOG("efer %#llx", (unsigned long long)s.efer);
	EXPECT_EQ(BOOT64_PERCPU(id), s.cr3);
	EXPECT_EQ(1, s.cs.l);
	EXPECT_EQ(0, s.cs.db);
	EXPECT_EQ(0x18, s.cs.selector);
	EXPECT_EQ(0x10, s.ss.selector);
	EXPECT_EQ(0x10, s.ds.selector);
	EXPECT_EQ(BOOT64_IMAGE_BASE + 0x1f, s.gdt.base + s.gdt.limit);
}

TEST(image)
{
	/* What was assembled here is what the VMs get */
	ASSERT_EQ(BOOT64_IMAGE_SIZE,
		  (uint64_t)(boot_test_image_end - boot_test_image));
	/* The reset vector: a near jump */
	EXPECT_EQ(0xe9, boot_test_image[BOOT64_IMAGE_SIZE - 16]);
	EXPECT_EQ(sizeof(struct boot64_slot), 64);
}

FIXTURE(boot) {
	struct boot_vm b;
};

FIXTURE_SETUP(boot)
{
	memset(&self->b, 0, sizeof(self->b));
	self->b.sys_fd = -1;
	XVT_REQUIRE_DEV();
}

FIXTURE_TEARDOWN(boot)
{
	boot_vm_destroy(&self->b);
}

/* One vCPU from its reset state to 64-bit mode. */
TEST_F(boot, single)
{
	struct boot_vm *b = &self->b;
	struct xvcpu_sregs s;
	struct xvcpu_regs r;
	struct boot_log log;

	ASSERT_EQ(0, boot_vm_create(b, 1));

	/* It starts where the processor does after RESET */
	ASSERT_EQ(0, xvcpu_get_regs(b->vcpus[0], &r));
	ASSERT_EQ(0, xvcpu_get_sregs(b->vcpus[0], &s));
	EXPECT_EQ(0xfff0, r.rip);
	EXPECT_EQ(0xf000, s.cs.selector);
	EXPECT_EQ(BOOT64_IMAGE_BASE, s.cs.base);
	EXPECT_EQ(0, s.cr0 & 0x80000001);
	EXPECT_EQ(0, s.efer);

	memset(&log, 0, sizeof(log));
	log.vcpu = b->vcpus[0];
	boot_run(&log);
	check_boot(_metadata, b, &log, 0, false);
	check_long_mode(_metadata, b->vcpus[0], 0);
	EXPECT_EQ(1, *(uint32_t *)ram_at(b, BOOT64_BOOTED));

	/* Halted for good: another run halts again, in 64-bit mode */
	memset(&log, 0, sizeof(log));
	log.vcpu = b->vcpus[0];
	boot_run(&log);
	EXPECT_TRUE(log.halted) TH_LOG("%s", log.error);
	EXPECT_EQ(0, log.nr_stages);
	check_long_mode(_metadata, b->vcpus[0], 0);
}

/* Own words of vCPU @id after @n iterations: word i % 8192 holds i. */
static unsigned int check_own_memory(struct boot_vm *b, unsigned int id,
				     uint64_t n)
{
	const uint64_t *own = ram_at(b, BOOT64_OWN(id));
	unsigned int j, bad = 0;

	for (j = 0; j < BOOT64_OWN_WORDS; j++) {
		uint64_t want = 0;

		if (j < n)
			want = ((uint64_t)id << BOOT64_ID_SHIFT) |
			       (j + (n - 1 - j) / BOOT64_OWN_WORDS *
				BOOT64_OWN_WORDS);
		bad += own[j] != want;
	}
	return bad;
}

/*
 * Whether every vCPU has got @min far in the stress loop; the iterations
 * of all in @total.
 */
static bool all_iterated(struct boot_vm *b, uint64_t min, uint64_t *total)
{
	bool all = true;
	unsigned int i;

	*total = 0;
	for (i = 0; i < NR_SMP; i++) {
		const struct boot64_slot *slot = ram_at(b, BOOT64_SLOT(i));
		uint64_t n = READ_ONCE(slot->iterations);

		*total += n;
		all &= n >= min;
	}
	return all;
}

/*
 * Four vCPUs of one VM, each on its own thread, boot at the same time
 * from the same image, then count together in shared memory with LOCK
 * XADD for a few seconds while each writes and checks its own memory.
 * The logged "times after another vCPU" shows how finely they interleaved.
 */
TEST_F_TIMEOUT(boot, smp, 900)
{
	struct boot_vm *b = &self->b;
	const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	struct boot_log logs[NR_SMP];
	pthread_t threads[NR_SMP];
	pthread_barrier_t start;
	uint64_t t0, total = 0, xadd_sum = 0, counter;
	unsigned int i, done;
	bool stopped_early = false;

	ASSERT_LE(NR_SMP, xvt_cap(XVCPU_CAP_MAX_VCPUS));
	ASSERT_EQ(0, boot_vm_create(b, NR_SMP));
	*(uint32_t *)ram_at(b, BOOT64_CMD) = BOOT64_CMD_STRESS;

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, NR_SMP));
	memset(logs, 0, sizeof(logs));
	for (i = 0; i < NR_SMP; i++) {
		logs[i].vcpu = b->vcpus[i];
		logs[i].start = &start;
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, boot_run,
					    &logs[i]));
	}

	/* Stop the loop once it ran long and far enough */
	t0 = xvt_now_ns();
	for (;;) {
		uint64_t elapsed = xvt_now_ns() - t0, sofar;

		for (i = 0, done = 0; i < NR_SMP; i++)
			done += READ_ONCE(logs[i].halted) ||
				READ_ONCE(logs[i].error[0]);
		if (done) {
			stopped_early = true;	/* only on a failure */
			break;
		}
		if (elapsed > STRESS_MAX_NS)
			break;
		if (all_iterated(b, STRESS_MIN_ITERATIONS, &sofar) &&
		    (elapsed > STRESS_NS || sofar >= STRESS_TOTAL))
			break;
		nanosleep(&pause, NULL);
	}
	__atomic_store_n((uint32_t *)ram_at(b, BOOT64_STOP), 1,
			 __ATOMIC_SEQ_CST);
	for (i = 0; i < NR_SMP; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&start);
	TH_LOG("stress loop: %.1f s", (xvt_now_ns() - t0) / 1e9);

	for (i = 0; i < NR_SMP; i++) {
		const struct boot64_slot *slot = ram_at(b, BOOT64_SLOT(i));
		uint64_t n = slot->iterations;

		check_boot(_metadata, b, &logs[i], i, true);
		check_long_mode(_metadata, b->vcpus[i], i);
		ASSERT_EQ(6, logs[i].nr_data) TH_LOG("vCPU %u", i);
		EXPECT_EQ((uint32_t)n, logs[i].data[3]);
		EXPECT_EQ((uint32_t)(n >> 32), logs[i].data[4]);
		EXPECT_EQ(0, logs[i].data[5]) TH_LOG("vCPU %u: own memory", i);
		EXPECT_EQ(0, slot->errors);
		EXPECT_LE(STRESS_MIN_ITERATIONS, n) TH_LOG("vCPU %u", i);
		EXPECT_EQ(0, check_own_memory(b, i, n)) TH_LOG("vCPU %u", i);
		TH_LOG("vCPU %u: %llu iterations, %llu times after another vCPU",
		       i, (unsigned long long)n,
		       (unsigned long long)slot->interleaved);
		total += n;
		xadd_sum += slot->xadd_sum;
	}
	EXPECT_FALSE(stopped_early);
	EXPECT_EQ(NR_SMP, *(uint32_t *)ram_at(b, BOOT64_BOOTED));
	/* Every increment counted once, each value returned exactly once */
	counter = *(uint64_t *)ram_at(b, BOOT64_COUNTER);
	EXPECT_EQ(total, counter);
	EXPECT_EQ(total * (total - 1) / 2, xadd_sum);
}

TEST_HARNESS_MAIN
