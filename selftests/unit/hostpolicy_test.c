// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmod/hostpolicy.c: what the module does around guest
 * execution on hosts it cannot be tested on (speculation bugs, machine
 * checks, FRED, split-lock detection), from synthetic host descriptions.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "kmod/hostpolicy.h"
#include "include/xvcpu/vmx.h"

/* An L1TF-affected host with every mitigation the kernel has */
static struct host_features l1tf_host(void)
{
	return (struct host_features){
		.bug_l1tf = true, .flush_l1d = true, .ibpb = true,
		.kernel_ibrs = true, .ibpb_exit_to_user = true,
	};
}

TEST(l1d_flush_by_msr_where_the_cpu_has_it)
{
	struct host_features f = l1tf_host();
	struct entry_policy p;

	host_entry_policy(&f, &p);
	EXPECT_EQ(L1D_FLUSH_MSR, p.l1d_flush);
	f.flush_l1d = false;
	host_entry_policy(&f, &p);
	EXPECT_EQ(L1D_FLUSH_SOFTWARE, p.l1d_flush);
}

TEST(no_l1d_flush_when_not_needed_or_turned_off)
{
	struct host_features f = l1tf_host();
	struct entry_policy p;

	f.bug_l1tf = false;
	host_entry_policy(&f, &p);
	EXPECT_EQ(L1D_FLUSH_NONE, p.l1d_flush);

	f = l1tf_host();
	f.skip_l1dflush_vmentry = true;
	host_entry_policy(&f, &p);
	EXPECT_EQ(L1D_FLUSH_NONE, p.l1d_flush);

	f = l1tf_host();
	f.l1tf_off = true;
	host_entry_policy(&f, &p);
	EXPECT_EQ(L1D_FLUSH_NONE, p.l1d_flush);

	f = l1tf_host();
	f.mitigations_off = true;
	host_entry_policy(&f, &p);
	EXPECT_EQ(L1D_FLUSH_NONE, p.l1d_flush);
}

TEST(spec_ctrl_rewritten_after_exit_only_with_legacy_ibrs)
{
	struct host_features f = l1tf_host();
	struct entry_policy p;

	host_entry_policy(&f, &p);
	EXPECT_TRUE(p.spec_ctrl_after_exit);
	f.kernel_ibrs = false;		/* eIBRS, retpolines or nothing */
	host_entry_policy(&f, &p);
	EXPECT_FALSE(p.spec_ctrl_after_exit);
}

TEST(ibpb_follows_the_host)
{
	struct host_features f = l1tf_host();
	struct entry_policy p;

	host_entry_policy(&f, &p);
	EXPECT_TRUE(p.ibpb_vcpu_switch);
	EXPECT_TRUE(p.ibpb_exit_to_user);
	f.ibpb = false;
	f.ibpb_exit_to_user = false;
	host_entry_policy(&f, &p);
	EXPECT_FALSE(p.ibpb_vcpu_switch);
	EXPECT_FALSE(p.ibpb_exit_to_user);
}

TEST(nmi_through_fred_only_under_fred)
{
	struct host_features f = { 0 };
	struct entry_policy p;

	host_entry_policy(&f, &p);
	EXPECT_FALSE(p.nmi_via_fred);
	f.fred = true;
	host_entry_policy(&f, &p);
	EXPECT_TRUE(p.nmi_via_fred);
}

#define INFO(type, vector) (VMX_INTR_INFO_VALID | (type) | (vector))

TEST(host_events_in_exits)
{
	/* NMI exiting */
	EXPECT_EQ(HOST_EVENT_NMI, exit_host_event(VMX_EXIT_EXCEPTION_NMI,
			INFO(VMX_INTR_TYPE_NMI, 2)));
	/* #MC in the exception bitmap */
	EXPECT_EQ(HOST_EVENT_MACHINE_CHECK, exit_host_event(
			VMX_EXIT_EXCEPTION_NMI,
			INFO(VMX_INTR_TYPE_HW_EXCEPTION, 18)));
	/* machine check during VM entry, reported as an entry failure */
	EXPECT_EQ(HOST_EVENT_MACHINE_CHECK, exit_host_event(
			VMX_EXIT_MACHINE_CHECK | VMX_EXIT_REASON_ENTRY_FAIL, 0));
	/* the guest's own exceptions and software interrupts */
	EXPECT_EQ(HOST_EVENT_NONE, exit_host_event(VMX_EXIT_EXCEPTION_NMI,
			INFO(VMX_INTR_TYPE_HW_EXCEPTION, 17)));
	EXPECT_EQ(HOST_EVENT_NONE, exit_host_event(VMX_EXIT_EXCEPTION_NMI,
			INFO(VMX_INTR_TYPE_HW_EXCEPTION, 1)));
	EXPECT_EQ(HOST_EVENT_NONE, exit_host_event(VMX_EXIT_EXCEPTION_NMI,
			INFO(VMX_INTR_TYPE_SOFT_EXCEPTION, 18)));
	EXPECT_EQ(HOST_EVENT_NONE, exit_host_event(VMX_EXIT_EXCEPTION_NMI,
			INFO(VMX_INTR_TYPE_SOFT_INTR, 2)));
	/* no valid information, or a failed entry with basic reason 0 */
	EXPECT_EQ(HOST_EVENT_NONE, exit_host_event(VMX_EXIT_EXCEPTION_NMI,
			VMX_INTR_TYPE_NMI | 2));
	EXPECT_EQ(HOST_EVENT_NONE, exit_host_event(
			VMX_EXIT_EXCEPTION_NMI | VMX_EXIT_REASON_ENTRY_FAIL,
			INFO(VMX_INTR_TYPE_NMI, 2)));
	/* other exits */
	EXPECT_EQ(HOST_EVENT_NONE, exit_host_event(1, 0));
	EXPECT_EQ(HOST_EVENT_NONE, exit_host_event(33 |
			VMX_EXIT_REASON_ENTRY_FAIL, 0));
}

#define AM	(1ULL << 18)
#define AC	(1ULL << 18)

TEST(alignment_check_or_split_lock)
{
	/* no split-lock detection: every #AC is an alignment check */
	EXPECT_TRUE(ac_is_guest_alignment_check(false, 0, 0, 0));
	/* with it, only CPL 3 with CR0.AM and RFLAGS.AC */
	EXPECT_TRUE(ac_is_guest_alignment_check(true, 3, AM, AC));
	EXPECT_FALSE(ac_is_guest_alignment_check(true, 3, AM, 0));
	EXPECT_FALSE(ac_is_guest_alignment_check(true, 3, 0, AC));
	EXPECT_FALSE(ac_is_guest_alignment_check(true, 0, AM, AC));
	EXPECT_FALSE(ac_is_guest_alignment_check(true, 2, AM, AC));
}

TEST(perf_msrs_switched_only_where_they_differ)
{
	const struct msr_switch msrs[] = {
		{ .msr = 0x38f, .host = 0xff, .guest = 0x0f },	/* GLOBAL_CTRL */
		{ .msr = 0x3f1, .host = 0x1, .guest = 0x1 },	/* same: none */
		{ .msr = 0x3f1, .host = 0x3, .guest = 0 },	/* PEBS_ENABLE */
	};
	struct msr_load_entry guest[4], host[4];
	bool overflow;

	ASSERT_EQ(2, msr_switch_lists(msrs, 3, guest, host, 4, &overflow));
	EXPECT_FALSE(overflow);
	EXPECT_EQ(0x38f, guest[0].index);
	EXPECT_EQ(0x0f, guest[0].value);
	EXPECT_EQ(0x38f, host[0].index);
	EXPECT_EQ(0xff, host[0].value);
	EXPECT_EQ(0x3f1, guest[1].index);
	EXPECT_EQ(0, guest[1].value);
	EXPECT_EQ(3, host[1].value);
	EXPECT_EQ(0, guest[1].reserved);

	/* an idle perf (or none: perf_guest_get_msrs gives 0) loads nothing */
	ASSERT_EQ(0, msr_switch_lists(msrs + 1, 1, guest, host, 4, &overflow));
	ASSERT_EQ(0, msr_switch_lists(NULL, 0, guest, host, 4, &overflow));
	EXPECT_FALSE(overflow);

	/* more than the area holds */
	ASSERT_EQ(1, msr_switch_lists(msrs, 3, guest, host, 1, &overflow));
	EXPECT_TRUE(overflow);
	EXPECT_EQ(16, sizeof(guest[0]));
}

TEST_HARNESS_MAIN
