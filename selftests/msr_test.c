// SPDX-License-Identifier: GPL-2.0
/*
 * RDMSR and WRMSR: the MSRs the kernel virtualizes, #GP for the VMX
 * capability MSRs and bad values, and the VM's policy for unknown MSRs
 * (#GP by default, or XVCPU_EXIT_MSR completed by userspace).
 *
 * The test guests have no IDT: a #GP they take ends in a triple fault,
 * which is how a test sees that #GP was injected.
 */
#include <sys/ioctl.h>

#include "harness.h"

#define MSR_TSC			0x10
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_PAT			0x277
#define MSR_APIC_BASE		0x1b
#define MSR_VMX_BASIC		0x480
#define MSR_UNKNOWN		0x4b564d99

#define EXIT_REASON_TRIPLE_FAULT	2

static inline __guest uint64_t guest_rdmsr(uint32_t index)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
	return lo | (uint64_t)hi << 32;
}

static inline __guest void guest_wrmsr(uint32_t index, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(index), "a"((uint32_t)v),
		     "d"((uint32_t)(v >> 32)) : "memory");
}

struct msr_value {
	uint32_t index;
	uint64_t value;
};

static const struct msr_value writes[] = {
	{ MSR_STAR, 0x0023001000000000ULL },
	{ MSR_LSTAR, 0xffffffff81000000ULL },
	{ MSR_SFMASK, 0x47700 },
	{ MSR_FS_BASE, 0x7f0000001000ULL },
	{ MSR_KERNEL_GS_BASE, 0xffff888000000000ULL },
	{ MSR_PAT, 0x0007040600070406ULL },
};

static uint64_t read_back[6];
static uint64_t efer_seen, apic_base_seen;

static void __guest guest_msr_round_trip(void)
{
	unsigned int i;

	for (i = 0; i < 6; i++)
		guest_wrmsr(writes[i].index, writes[i].value);
	for (i = 0; i < 6; i++)
		WRITE_ONCE(read_back[i], guest_rdmsr(writes[i].index));
	WRITE_ONCE(efer_seen, guest_rdmsr(MSR_EFER));
	WRITE_ONCE(apic_base_seen, guest_rdmsr(MSR_APIC_BASE));
}

TEST_F(vm, kernel_msrs_round_trip)
{
	struct xvcpu_sregs sregs;
	unsigned int i;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_msr_round_trip, 0, 0));
	ASSERT_RUN_UCALL(self->vcpu, NULL, UCALL_DONE);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(writes[i].value, GUEST_VAR(self->t, read_back[i]))
			TH_LOG("MSR %#x", writes[i].index);
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_EQ(sregs.efer, GUEST_VAR(self->t, efer_seen));
	EXPECT_EQ(0x7f0000001000ULL, sregs.fs.base);
	/* xAPIC enabled at 0xfee00000, vCPU 0 is the BSP */
	EXPECT_EQ(0xfee00900ULL, GUEST_VAR(self->t, apic_base_seen));
}

static void __guest guest_rdmsr_arg(uint64_t index)
{
	WRITE_ONCE(read_back[0], guest_rdmsr(index));
}

static void __guest guest_wrmsr_args(uint64_t index, uint64_t value)
{
	guest_wrmsr(index, value);
}

/* The guest took #GP: with no IDT, a triple fault. */
static void expect_gp(struct __test_metadata *_metadata,
		      struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_exit_info info;

	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_SHUTDOWN);
	ASSERT_EQ(0, xvcpu_get_exit_info(vcpu, &info));
	EXPECT_EQ(EXIT_REASON_TRIPLE_FAULT, info.basic_reason);
}

TEST_F(vm, unknown_msr_raises_gp_by_default)
{
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_rdmsr_arg,
				    MSR_UNKNOWN, 0));
	expect_gp(_metadata, self->vcpu);
}

TEST_F(vm, vmx_capability_msrs_are_absent)
{
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_rdmsr_arg,
				    MSR_VMX_BASIC, 0));
	expect_gp(_metadata, self->vcpu);
}

/* A value the host's WRMSR would fault on is the guest's #GP instead. */
TEST_F(vm, non_canonical_lstar_raises_gp)
{
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_wrmsr_args, MSR_LSTAR,
				    0x8000000000000000ULL));
	expect_gp(_metadata, self->vcpu);
}

TEST_F(vm, bad_pat_raises_gp)
{
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_wrmsr_args, MSR_PAT,
				    0x0200000000000000ULL));
	expect_gp(_metadata, self->vcpu);
}

static int set_policy(struct xvt_vm *t, uint32_t flags)
{
	struct xvcpu_msr_policy p = { .flags = flags };

	return ioctl(t->vm->fd, XVCPU_SET_MSR_POLICY, &p) ? -errno : 0;
}

TEST_F(vm, policy_arguments_checked)
{
	struct xvcpu_msr_policy p = { .flags = XVCPU_MSR_EXIT_UNKNOWN };

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MSR_POLICY));
	EXPECT_EQ(-EINVAL, set_policy(self->t, 2));
	p.reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(self->t->vm->fd, XVCPU_SET_MSR_POLICY, &p));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->t->vm->fd, XVCPU_SET_MSR_POLICY, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, set_policy(self->t, XVCPU_MSR_EXIT_UNKNOWN));
	EXPECT_EQ(0, set_policy(self->t, 0));
}

TEST_F(vm, unknown_msr_read_exits_to_userspace)
{
	struct xvcpu_run *run = self->run;

	ASSERT_EQ(0, set_policy(self->t, XVCPU_MSR_EXIT_UNKNOWN));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_rdmsr_arg,
				    MSR_UNKNOWN, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MSR);
	EXPECT_EQ(MSR_UNKNOWN, run->msr.index);
	EXPECT_EQ(XVCPU_MSR_READ, run->msr.direction);
	run->msr.data = 0x1122334455667788ULL;
	run->msr.error = 0;
	ASSERT_RUN_UCALL(self->vcpu, NULL, UCALL_DONE);
	EXPECT_EQ(0x1122334455667788ULL, GUEST_VAR(self->t, read_back[0]));
}

TEST_F(vm, unknown_msr_write_exits_and_can_fail)
{
	struct xvcpu_run *run = self->run;

	ASSERT_EQ(0, set_policy(self->t, XVCPU_MSR_EXIT_UNKNOWN));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_wrmsr_args,
				    MSR_UNKNOWN, 0xfeedfacecafef00dULL));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MSR);
	EXPECT_EQ(MSR_UNKNOWN, run->msr.index);
	EXPECT_EQ(XVCPU_MSR_WRITE, run->msr.direction);
	EXPECT_EQ(0xfeedfacecafef00dULL, run->msr.data);
	/* userspace refuses it: the WRMSR raises #GP */
	run->msr.error = 1;
	expect_gp(_metadata, self->vcpu);
}

/* ---- The guest's TSC ---- */

static uint64_t tsc_seen[4];

static inline __guest uint64_t guest_rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/* RDTSC and RDMSR of IA32_TSC, then WRMSR @set to it and both again */
static void __guest guest_tsc(uint64_t set)
{
	WRITE_ONCE(tsc_seen[0], guest_rdtsc());
	WRITE_ONCE(tsc_seen[1], guest_rdmsr(MSR_TSC));
	guest_wrmsr(MSR_TSC, set);
	WRITE_ONCE(tsc_seen[2], guest_rdtsc());
	WRITE_ONCE(tsc_seen[3], guest_rdmsr(MSR_TSC));
}

static uint64_t host_rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/*
 * A VM's TSC starts at 0 when its first vCPU is created (not at the
 * host's count since boot), RDTSC and RDMSR agree, and WRMSR to IA32_TSC
 * sets it: every reading lies within the host ticks the test took.
 */
TEST(vm_tsc_starts_at_zero_and_can_be_set)
{
	const uint64_t set = 1ULL << 50;
	uint64_t t0, span;
	struct xvt_vm *t;

	XVT_REQUIRE_DEV();
	t0 = host_rdtsc();
	t = xvt_vm_create(1);
	ASSERT_NE(NULL, t) TH_LOG("test VM: %s", strerror(errno));
	ASSERT_EQ(0, xvt_vcpu_enter(t->vcpus[0], guest_tsc, set, 0));
	ASSERT_RUN_UCALL(t->vcpus[0], NULL, UCALL_DONE);
	span = host_rdtsc() - t0;
	TH_LOG("host ticks %llu, guest TSC %llu then %llu; after WRMSR %#llx: %#llx",
	       (unsigned long long)span,
	       (unsigned long long)GUEST_VAR(t, tsc_seen[0]),
	       (unsigned long long)GUEST_VAR(t, tsc_seen[1]),
	       (unsigned long long)set,
	       (unsigned long long)GUEST_VAR(t, tsc_seen[2]));
	EXPECT_LT(0, GUEST_VAR(t, tsc_seen[0]));
	EXPECT_GE(span, GUEST_VAR(t, tsc_seen[0]));
	EXPECT_LE(GUEST_VAR(t, tsc_seen[0]), GUEST_VAR(t, tsc_seen[1]));
	EXPECT_GE(span, GUEST_VAR(t, tsc_seen[1]));
	EXPECT_LE(set, GUEST_VAR(t, tsc_seen[2]));
	EXPECT_GE(set + span, GUEST_VAR(t, tsc_seen[2]));
	EXPECT_LE(GUEST_VAR(t, tsc_seen[2]), GUEST_VAR(t, tsc_seen[3]));
	EXPECT_GE(set + span, GUEST_VAR(t, tsc_seen[3]));
	xvt_vm_destroy(t);
}

TEST_HARNESS_MAIN
