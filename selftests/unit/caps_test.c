// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmod/caps.c: from VMX capability MSR values to the
 * controls the module programs, and the name of what a CPU lacks.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <string.h>
#include "kselftest_harness.h"
#include "kmod/caps.h"
#include "include/xvcpu/vmx.h"

/* A control MSR: @must bits must be 1, @may bits may be 1. */
static uint64_t ctl_msr(uint32_t must, uint32_t may)
{
	return (uint64_t)(may | must) << 32 | must;
}

/*
 * A CPU with everything xvcpu uses: IA32_VMX_BASIC of revision 1, a
 * 4 KiB write-back VMCS and TRUE controls, the default1 bits the SDM lists
 * (Vol. 3D A.2) as must-be-one, every control allowed.
 */
static struct vmx_msrs full_cpu(void)
{
	struct vmx_msrs m = {
		.basic = 1 | (4096ULL << 32) | (6ULL << 50) | (1ULL << 55),
		.pin = ctl_msr(0x16, 0xffffffff),
		.proc = ctl_msr(0x0401e172, 0xffffffff),
		.proc2 = ctl_msr(0, 0xffffffff),
		.exit = ctl_msr(0x00036dff, 0xffffffff),
		.entry = ctl_msr(0x000011ff, 0xffffffff),
		.ept_vpid = VMX_EPT_CAP_EXECUTE_ONLY | VMX_EPT_CAP_WALK_4 |
			    VMX_EPT_CAP_MEMTYPE_WB | VMX_EPT_CAP_2MB_PAGE |
			    VMX_EPT_CAP_INVEPT | VMX_EPT_CAP_INVEPT_SINGLE |
			    VMX_EPT_CAP_INVEPT_ALL | VMX_VPID_CAP_INVVPID,
		.misc = 0x5 | (1 << 5),	/* timer at TSC >> 5, LMA saved */
		.cr0_fixed0 = 0x80000021,
		.cr0_fixed1 = 0xffffffff,
		.cr4_fixed0 = 0x2000,
		.cr4_fixed1 = 0x3767ff,
	};
	return m;
}

TEST(adjust_keeps_must_be_one_and_drops_disallowed)
{
	uint32_t ctl;

	/* bit 0 must be 1; bits 0-3 may be 1; want bit 5 (not allowed) */
	ASSERT_TRUE(vmx_ctl_adjust(ctl_msr(0x1, 0xf), 0x2, 0x20, &ctl));
	EXPECT_EQ(0x3, ctl);
	/* a needed bit that may not be 1 is refused */
	ASSERT_FALSE(vmx_ctl_adjust(ctl_msr(0x1, 0xf), 0x10, 0, &ctl));
}

TEST(full_cpu_gives_every_control)
{
	struct vmx_msrs m = full_cpu();
	struct vmx_caps c;
	const char *missing = "unset";

	ASSERT_EQ(0, vmx_caps_compute(&c, &m, &missing));
	EXPECT_EQ(NULL, missing);
	EXPECT_EQ(1, c.revision_id);
	EXPECT_EQ(4096, c.vmcs_size);
	EXPECT_EQ(VMX_PIN_EXTINT_EXITING | VMX_PIN_NMI_EXITING |
		  VMX_PIN_VIRTUAL_NMIS | VMX_PIN_PREEMPTION_TIMER | 0x16, c.pin);
	EXPECT_TRUE(c.preemption_timer);
	EXPECT_EQ(5, c.preemption_timer_shift);
	EXPECT_TRUE(c.proc & VMX_PROC_HLT_EXITING);
	EXPECT_TRUE(c.proc & VMX_PROC_UNCOND_IO_EXITING);
	EXPECT_TRUE(c.proc & VMX_PROC_MOV_DR_EXITING);
	EXPECT_TRUE(c.proc & VMX_PROC_CR8_LOAD_EXITING);
	EXPECT_TRUE(c.proc & VMX_PROC_SECONDARY_CONTROLS);
	/* default1 bits the CPU insists on stay set */
	EXPECT_EQ(0x0401e172, c.proc & 0x0401e172);
	/* each VM's guests read the TSC through its offset */
	EXPECT_TRUE(c.proc & VMX_PROC_TSC_OFFSETTING);
	/* nothing optional that xvcpu did not ask for */
	EXPECT_FALSE(c.proc & VMX_PROC_RDTSC_EXITING);
	/* window exits and MTF are allowed but only set when needed */
	EXPECT_FALSE(c.proc & (VMX_PROC_INTR_WINDOW_EXITING |
			       VMX_PROC_NMI_WINDOW_EXITING |
			       VMX_PROC_MONITOR_TRAP_FLAG));
	EXPECT_TRUE(c.intr_window);
	EXPECT_TRUE(c.nmi_window);
	EXPECT_TRUE(c.mtf);
	EXPECT_TRUE(c.virtual_nmis);
	/* an MSR bitmap lets the segment-base MSRs pass through */
	EXPECT_TRUE(c.proc & VMX_PROC_USE_MSR_BITMAPS);
	EXPECT_TRUE(c.msr_bitmap);
	EXPECT_EQ(VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST |
		  VMX_PROC2_ENABLE_VPID | VMX_PROC2_WBINVD_EXITING, c.proc2);
	EXPECT_TRUE(c.exit & VMX_EXIT_HOST_ADDR_SPACE_SIZE);
	EXPECT_TRUE(c.exit & VMX_EXIT_LOAD_IA32_EFER);
	EXPECT_FALSE(c.exit & VMX_EXIT_ACK_INTR_ON_EXIT);
	/* IA-32e mode guest comes from the guest's EFER, never by default */
	EXPECT_FALSE(c.entry & VMX_ENTRY_IA32E_MODE_GUEST);
	EXPECT_TRUE(c.entry & VMX_ENTRY_LOAD_IA32_EFER);
	EXPECT_TRUE(c.vpid);
	EXPECT_TRUE(c.ept_2mb);
	EXPECT_TRUE(c.invept_single);
}

/* Each required feature, taken away, is named. */
struct missing_case {
	const char *name;
	void (*take)(struct vmx_msrs *m);
};

static void no_ept(struct vmx_msrs *m)
{
	m->proc2 &= ~((uint64_t)VMX_PROC2_ENABLE_EPT << 32);
}

static void no_ug(struct vmx_msrs *m)
{
	m->proc2 &= ~((uint64_t)VMX_PROC2_UNRESTRICTED_GUEST << 32);
}

static void no_invept(struct vmx_msrs *m)
{
	m->ept_vpid &= ~VMX_EPT_CAP_INVEPT;
}

static void no_invept_types(struct vmx_msrs *m)
{
	m->ept_vpid &= ~(VMX_EPT_CAP_INVEPT_SINGLE | VMX_EPT_CAP_INVEPT_ALL);
}

static void no_walk4(struct vmx_msrs *m)
{
	m->ept_vpid &= ~VMX_EPT_CAP_WALK_4;
}

static void no_wb(struct vmx_msrs *m)
{
	m->ept_vpid &= ~VMX_EPT_CAP_MEMTYPE_WB;
}

static void no_secondary(struct vmx_msrs *m)
{
	m->proc &= ~((uint64_t)VMX_PROC_SECONDARY_CONTROLS << 32);
}

static void no_nmi_exiting(struct vmx_msrs *m)
{
	m->pin &= ~((uint64_t)VMX_PIN_NMI_EXITING << 32);
}

static void no_load_efer(struct vmx_msrs *m)
{
	m->exit &= ~((uint64_t)VMX_EXIT_LOAD_IA32_EFER << 32);
}

static void big_vmcs(struct vmx_msrs *m)
{
	m->basic = (m->basic & ~(0x1fffULL << 32)) | (8192ULL << 32);
}

static void uc_vmcs(struct vmx_msrs *m)
{
	m->basic &= ~(0xfULL << 50);
}

FIXTURE(missing) {};
FIXTURE_VARIANT(missing) { struct missing_case c; };
FIXTURE_SETUP(missing) {}
FIXTURE_TEARDOWN(missing) {}

#define MISSING(id, fn, text) \
	FIXTURE_VARIANT_ADD(missing, id) { .c = { text, fn } }
MISSING(ept, no_ept, "EPT");
MISSING(unrestricted_guest, no_ug, "unrestricted guest");
MISSING(invept, no_invept, "INVEPT");
MISSING(invept_types, no_invept_types, "INVEPT");
MISSING(ept_walk4, no_walk4, "4-level EPT");
MISSING(ept_wb, no_wb, "write-back EPT paging structures");
MISSING(secondary, no_secondary, "secondary controls");
MISSING(nmi_exiting, no_nmi_exiting, "NMI exiting");
MISSING(load_efer, no_load_efer, "load IA32_EFER on VM exit");
MISSING(vmcs_size, big_vmcs, "a VMCS that fits in one page");
MISSING(vmcs_memtype, uc_vmcs, "write-back VMCS memory");

TEST_F(missing, is_named)
{
	struct vmx_msrs m = full_cpu();
	struct vmx_caps c;
	const char *missing = NULL;

	variant->c.take(&m);
	ASSERT_EQ(-ENODEV, vmx_caps_compute(&c, &m, &missing));
	ASSERT_NE(NULL, missing);
	EXPECT_STREQ(variant->c.name, missing);
}

TEST(preemption_timer_is_optional)
{
	struct vmx_msrs m = full_cpu();
	struct vmx_caps c;
	const char *missing;

	m.pin &= ~((uint64_t)VMX_PIN_PREEMPTION_TIMER << 32);
	ASSERT_EQ(0, vmx_caps_compute(&c, &m, &missing));
	EXPECT_FALSE(c.preemption_timer);
	EXPECT_FALSE(c.pin & VMX_PIN_PREEMPTION_TIMER);
}

TEST(vpid_is_optional)
{
	struct vmx_msrs m = full_cpu();
	struct vmx_caps c;
	const char *missing;

	m.proc2 &= ~((uint64_t)VMX_PROC2_ENABLE_VPID << 32);
	m.ept_vpid &= ~(VMX_EPT_CAP_2MB_PAGE | VMX_EPT_CAP_INVEPT_SINGLE);
	ASSERT_EQ(0, vmx_caps_compute(&c, &m, &missing));
	EXPECT_FALSE(c.vpid);
	EXPECT_FALSE(c.proc2 & VMX_PROC2_ENABLE_VPID);
	EXPECT_FALSE(c.ept_2mb);
	EXPECT_FALSE(c.invept_single);
}

/*
 * XVCPU_CAP_NMI is the computed nmi_window (kmod/dev.c), and
 * XVCPU_NMI and SET_EVENTS refuse to queue an NMI without it
 * (kmod/event.c): queuing needs virtual NMIs (SDM Vol. 3C 25.6.1
 * "Pin-Based VM-Execution Controls") and NMI-window exiting (25.6.2
 * "Processor-Based VM-Execution Controls"), which may only be 1 with
 * virtual NMIs (27.2.1.1 "VM-Execution Control Fields").
 */
TEST(nmi_needs_virtual_nmis)
{
	struct vmx_msrs m = full_cpu();
	struct vmx_caps c;
	const char *missing;

	m.pin &= ~((uint64_t)VMX_PIN_VIRTUAL_NMIS << 32);
	ASSERT_EQ(0, vmx_caps_compute(&c, &m, &missing));
	EXPECT_FALSE(c.virtual_nmis);
	EXPECT_FALSE(c.pin & VMX_PIN_VIRTUAL_NMIS);
	EXPECT_FALSE(c.nmi_window);
	/* NMIs still exit to the host */
	EXPECT_TRUE(c.pin & VMX_PIN_NMI_EXITING);
}

TEST(nmi_needs_nmi_window_exiting)
{
	struct vmx_msrs m = full_cpu();
	struct vmx_caps c;
	const char *missing;

	m.proc &= ~((uint64_t)VMX_PROC_NMI_WINDOW_EXITING << 32);
	ASSERT_EQ(0, vmx_caps_compute(&c, &m, &missing));
	EXPECT_TRUE(c.virtual_nmis);
	EXPECT_FALSE(c.nmi_window);
	/* the interrupt window does not depend on it */
	EXPECT_TRUE(c.intr_window);
}

TEST_HARNESS_MAIN
