// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile guests: a guest may execute anything, touch any address and
 * leave its state in any shape, and userspace may hand the module guest
 * state that no processor accepts.  Each case checks the outcome the ABI
 * defines for it, and that the host is fine afterwards: the same vCPU,
 * reset, runs an ordinary guest to HLT, and at the end the module's
 * counters are back where they were when the binary started.
 *
 *   insn.*       one instruction each: VMX instructions, MSRs, other
 *                privileged instructions, port I/O to reset ports,
 *                faults.  The table below names the outcome each one must
 *                give: the exception the guest's own handler sees (the
 *                recording IDT of lib/idt.h), or, where it reaches
 *                userspace, the basic exit reason (Intel SDM Vol. 3D,
 *                Appendix C).
 *   bad_state.*  guest state the processor refuses (SDM Vol. 3C 27.3.1):
 *                XVCPU_EXIT_FAIL_ENTRY, reason 33 with bit 31 set.
 *   loop.*       endless loops, with and without exits handled in the
 *                kernel: a signal stops XVCPU_RUN (-EINTR), and the guest
 *                carries on when run again.
 *   vm.*         memory (the whole guest-physical address space, read-only
 *                and high slots, page walks and IDT reads that hit unbacked
 *                memory, an MMIO exit storm), triple fault, HLT with
 *                interrupts off, FPU and SWAPGS state, task switches, and
 *                the refusals of SET_REGS and SET_SREGS.
 *   shadow.*     an exit right after STI or MOV SS, then a vCPU reset.
 *   cr0_write.*  a MOV to CR0 after the guest turned paging on itself.
 *   host.*       the module's counters are back to their starting values.
 *
 * Known gaps are marked XFAIL next to their case, with the reason.
 */
#include <cpuid.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "idt.h"
#include "../include/xvcpu/vmx.h"

/* Basic exit reasons used outside the table (SDM Vol. 3D, Appendix C). */
#define EXIT_REASON_TRIPLE_FAULT	2
#define EXIT_REASON_HLT			12
#define EXIT_REASON_INVALID_STATE	33
#define EXIT_REASON_EPT_VIOLATION	48
#define EXIT_REASON_ENTRY_FAILURE	0x80000000U

/* EPT-violation exit qualification (SDM Vol. 3C, Table 28-7). */
#define EPT_QUAL_LINEAR_VALID	(1ULL << 7)
#define EPT_QUAL_FINAL		(1ULL << 8)	/* not a paging-structure access */

/* IDT-vectoring information: valid, hardware exception (SDM 25.9.3). */
#define VECTORING_HW_EXCEPTION(v)	(0x80000300U | (v))

#define CR0_PE		(1ULL << 0)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_VMXE	(1ULL << 13)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define RFLAGS_IF	(1ULL << 9)
#define RFLAGS_VM	(1ULL << 17)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)

#define SIZE_2M		0x200000ULL
#define NONCANONICAL	(1ULL << 47)

/* Port the guest code here reports through, outside the ucall channel. */
#define REPORT_PORT	0x99

/* Memory operand for the instructions of the table; also a data page. */
uint8_t hostile_scratch[4096] __attribute__((aligned(4096)));

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

enum feature {
	NEEDS_NOTHING,
	NEEDS_FSGSBASE,		/* CPUID.(07H,0):EBX.FSGSBASE[0] */
	NEEDS_RDRAND,		/* CPUID.01H:ECX.RDRAND[30] */
	NEEDS_RDSEED,		/* CPUID.(07H,0):EBX.RDSEED[18] */
	NEEDS_CAP_XSAVE,	/* XVCPU_CAP_XSAVE: guest XSAVE */
};

/* Whether the processor has @f; *@name says what it is. */
static bool have_feature(enum feature f, const char **name)
{
	unsigned int a, b, c, d;

	switch (f) {
	case NEEDS_FSGSBASE:
		*name = "FSGSBASE";
		if (__get_cpuid_max(0, NULL) < 7)
			return false;
		__cpuid_count(7, 0, a, b, c, d);
		return b & 1;
	case NEEDS_RDRAND:
		*name = "RDRAND";
		__cpuid(1, a, b, c, d);
		return c & (1U << 30);
	case NEEDS_RDSEED:
		*name = "RDSEED";
		if (__get_cpuid_max(0, NULL) < 7)
			return false;
		__cpuid_count(7, 0, a, b, c, d);
		return b & (1U << 18);
	case NEEDS_CAP_XSAVE:
		*name = "XVCPU_CAP_XSAVE";
		return xvt_cap(XVCPU_CAP_XSAVE) > 0;
	case NEEDS_NOTHING:
		break;
	}
	*name = "";
	return true;
}

static void get_regs(struct __test_metadata *_metadata,
		     struct xvcpu_vcpu *vcpu, struct xvcpu_regs *regs)
{
	ASSERT_EQ(0, xvcpu_get_regs(vcpu, regs));
}

static void get_info(struct __test_metadata *_metadata,
		     struct xvcpu_vcpu *vcpu, struct xvcpu_exit_info *info)
{
	ASSERT_EQ(0, xvcpu_get_exit_info(vcpu, info));
}

static void set_rip(struct __test_metadata *_metadata,
		    struct xvcpu_vcpu *vcpu, uint64_t rip)
{
	ASSERT_EQ(0, xvt_vcpu_set_rip(vcpu, rip));
}

/* Run @vcpu: it must halt with RIP at @rip (just past the HLT). */
static void expect_hlt(struct __test_metadata *_metadata,
		       struct xvcpu_vcpu *vcpu, uint64_t rip)
{
	struct xvcpu_regs regs;

	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_HLT);
	get_regs(_metadata, vcpu, &regs);
	EXPECT_EQ(rip, regs.rip);
}

GUEST_ASM(
"code_hlt:\n"
"	hlt\n"
"code_hlt_end:\n"
"	hlt\n");
extern char code_hlt[], code_hlt_end[];

/*
 * Whatever the test did to the vCPU: put it back into 64-bit mode and run
 * an ordinary guest in C through to its GUEST_DONE and the HLT after it.
 */
static void __guest guest_fine(uint64_t x, uint64_t b)
{
	int i;

	for (i = 0; i < 64; i++)
		x = x * 6364136223846793005ULL + b;
	GUEST_SYNC(x);
}

static void assert_host_fine(struct __test_metadata *_metadata,
			     struct xvt_vm *t, struct xvcpu_vcpu *vcpu)
{
	uint64_t want = 7;
	struct ucall uc;
	int i;

	for (i = 0; i < 64; i++)
		want = want * 6364136223846793005ULL + 3;
	ASSERT_EQ(0, xvt_vcpu_reset_long(t, vcpu));
	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, guest_fine, 7, 3));
	ASSERT_RUN_UCALL(vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(want, uc.args[0]);
	ASSERT_RUN_UCALL(vcpu, &uc, UCALL_DONE);
	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_HLT);
}

/* A fresh test VM, as the harness's `vm` fixture makes it. */
#define TEST_VM_SETUP() do {						\
	XVT_REQUIRE_DEV();						\
	self->t = xvt_vm_create(1);					\
	ASSERT_NE(NULL, self->t) TH_LOG("test VM: %s", strerror(errno)); \
	self->vcpu = self->t->vcpus[0];					\
	self->run = self->vcpu->run;					\
} while (0)

/* ---- One instruction at a time ---- */

enum want {
	WANT_INTERNAL,	/* XVCPU_EXIT_INTERNAL_ERROR, data[0] = reason */
	WANT_SHUTDOWN,	/* #UD or #GP, and with no IDT a triple fault */
	WANT_EXC,	/* the guest's handler for .vector: RIP at the insn */
	WANT_HLT,	/* no exit, or one the kernel handles: on to the HLT */
	WANT_IO,	/* XVCPU_EXIT_IO: port I/O never reaches the host */
	WANT_HYPERCALL,	/* XVCPU_EXIT_HYPERCALL, nr = RAX */
	WANT_MSR,	/* XVCPU_EXIT_MSR (policy XVCPU_MSR_EXIT_UNKNOWN) */
};

#define NO_QUAL		(~0ULL)

FIXTURE(insn) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct xvcpu_run *run;
};

FIXTURE_VARIANT(insn) {
	const char *entry;	/* set-up code, then the instruction */
	const char *at;		/* the instruction */
	const char *end;	/* just past it: HLT */
	enum want want;
	uint32_t reason;	/* basic exit reason; hypercall number */
	uint64_t qual;		/* exit qualification, unless NO_QUAL */
	enum feature needs;	/* without it the case is skipped */
	uint16_t port;		/* WANT_IO */
	uint8_t io_dir, io_size;
	uint32_t io_data;
	bool check_rax;		/* WANT_HLT: RAX after the instruction */
	uint64_t rax;
	uint32_t msr_index;	/* WANT_MSR */
	uint8_t msr_dir;
	uint8_t msr_error;	/* userspace fails the access: #GP */
	uint8_t vector;		/* WANT_EXC: #UD, or #GP(0) */
	uint64_t msr_data;
};

FIXTURE_SETUP(insn)
{
	TEST_VM_SETUP();
}

FIXTURE_TEARDOWN(insn)
{
	xvt_vm_destroy(self->t);
}

/*
 * INSN(name, set-up, instruction, outcome...): the guest code
 * "insn_<name>: set-up; insn_<name>_at: instruction; insn_<name>_end: hlt"
 * and the variant insn.<name> expecting the outcome.
 */
#define INSN(name, setup, text, ...)					\
	GUEST_ASM("insn_" #name ":\n\t" setup "\n"			\
		  "insn_" #name "_at:\n\t" text "\n"			\
		  "insn_" #name "_end:\n"				\
		  "	hlt\n"						\
		  "	jmp insn_" #name "_end\n");			\
	extern char insn_##name[], insn_##name##_at[],			\
		insn_##name##_end[];					\
	FIXTURE_VARIANT_ADD(insn, name) {				\
		.entry = insn_##name, .at = insn_##name##_at,		\
		.end = insn_##name##_end, __VA_ARGS__			\
	}

#define INTERNAL(r)		.want = WANT_INTERNAL, .reason = (r), .qual = NO_QUAL
#define INTERNAL_Q(r, q)	.want = WANT_INTERNAL, .reason = (r), .qual = (q)
#define SHUTDOWN		.want = WANT_SHUTDOWN
#define NATIVE			.want = WANT_HLT
#define UD			.want = WANT_EXC, .vector = 6
#define GP0			.want = WANT_EXC, .vector = 13
#define OUT(p, s, d)		.want = WANT_IO, .port = (p), .io_dir = XVCPU_IO_OUT, \
				.io_size = (s), .io_data = (d)
#define IN(p, s)		.want = WANT_IO, .port = (p), .io_dir = XVCPU_IO_IN, \
				.io_size = (s)
#define HYPERCALL(nr)		.want = WANT_HYPERCALL, .reason = (nr)
#define NATIVE_RAX(v)		.want = WANT_HLT, .check_rax = true, .rax = (v)
#define MSR_EXIT(i, dir, d)	.want = WANT_MSR, .msr_index = (i), \
				.msr_dir = (dir), .msr_data = (d)

#define SCRATCH	"lea hostile_scratch(%rip), %rax"

/*
 * VMX instructions exit unconditionally (SDM Vol. 3C 26.1.2); xvcpu gives
 * guests no VMX (CPUID.01H:ECX.VMX is clear), so each is a #UD in the
 * guest, as on a processor without VMX.  VMFUNC is #UD as well ("enable
 * VM functions" is never set); VMCALL is the hypercall exit.
 */
INSN(vmxon,	SCRATCH,		"vmxon (%rax)",		UD);
INSN(vmxoff,	"",			"vmxoff",		UD);
INSN(vmclear,	SCRATCH,		"vmclear 0x40(%rax)",	UD);
INSN(vmptrld,	SCRATCH,		"vmptrld 0x80(%rax)",	UD);
INSN(vmptrst,	SCRATCH,		"vmptrst 0x100(%rax)",	UD);
INSN(vmread,	SCRATCH "; xor %ebx, %ebx", "vmread %rbx, 0x10(%rax)", UD);
INSN(vmwrite,	SCRATCH "; xor %ebx, %ebx", "vmwrite 0x18(%rax), %rbx", UD);
INSN(vmlaunch,	"",			"vmlaunch",		UD);
INSN(vmresume,	"",			"vmresume",		UD);
INSN(invept,	SCRATCH "; mov $1, %ebx", "invept (%rax), %rbx", UD);
INSN(invvpid,	SCRATCH "; mov $1, %ebx", "invvpid (%rax), %rbx", UD);
INSN(vmfunc,	"xor %eax, %eax; xor %ecx, %ecx", "vmfunc",	UD);
INSN(vmcall,	"mov $0x4242, %eax",	"vmcall",		HYPERCALL(0x4242));

/*
 * RDMSR and WRMSR (31, 32) always exit (no MSR bitmap); the kernel
 * virtualizes a few MSRs, answers #GP(0) for values the processor would
 * refuse and for the VMX capability MSRs, and for any other MSR does what
 * the VM's policy says: #GP(0) by default, or XVCPU_EXIT_MSR.  A #GP here
 * ends in a triple fault with RIP at the instruction.  No guest value
 * ever reaches a real MSR of the host.
 */
#define MSR(n)			"mov $" #n ", %ecx"
#define WRMSR(n, hi, lo)	MSR(n) "; mov $" #lo ", %eax; mov $" #hi ", %edx"
INSN(rdmsr_efer,	MSR(0xc0000080),	"rdmsr", NATIVE_RAX(0x500));
INSN(rdmsr_apic_base,	MSR(0x1b),		"rdmsr", NATIVE_RAX(0xfee00900));
INSN(rdmsr_tsc,		MSR(0x10),		"rdmsr", NATIVE);
/* the guest's own TSC (its vCPU's offset), never the host's */
INSN(wrmsr_tsc,		WRMSR(0x10, 0, 0),	"wrmsr", NATIVE);
INSN(wrmsr_star,	WRMSR(0xc0000081, 0, 0),	"wrmsr", NATIVE);
INSN(wrmsr_lstar,	WRMSR(0xc0000082, 0, 0),	"wrmsr", NATIVE);
INSN(wrmsr_sysenter_eip, WRMSR(0x176, 0, 0),	"wrmsr", NATIVE);
INSN(wrmsr_pat_all_uc,	WRMSR(0x277, 0, 0),	"wrmsr", NATIVE);
/* values the processor refuses: #GP in the guest, never a host WRMSR */
INSN(wrmsr_efer_lme_off, WRMSR(0xc0000080, 0, 0), "wrmsr", SHUTDOWN);
INSN(wrmsr_efer_reserved, WRMSR(0xc0000080, 0, 0x1500), "wrmsr", SHUTDOWN);
INSN(wrmsr_lstar_noncanonical, WRMSR(0xc0000082, 0x8000, 0), "wrmsr", SHUTDOWN);
INSN(wrmsr_cstar_noncanonical, WRMSR(0xc0000083, 0x8000, 0), "wrmsr", SHUTDOWN);
INSN(wrmsr_kernel_gs_base_noncanonical, WRMSR(0xc0000102, 0x8000, 0),
	"wrmsr", SHUTDOWN);
INSN(wrmsr_fs_base_noncanonical, WRMSR(0xc0000100, 0x8000, 0), "wrmsr", SHUTDOWN);
INSN(wrmsr_gs_base_noncanonical, WRMSR(0xc0000101, 0x8000, 0), "wrmsr", SHUTDOWN);
INSN(wrmsr_sysenter_esp_noncanonical, WRMSR(0x175, 0x8000, 0), "wrmsr", SHUTDOWN);
INSN(wrmsr_sfmask_high,	WRMSR(0xc0000084, 1, 0),	"wrmsr", SHUTDOWN);
INSN(wrmsr_tsc_aux_high, WRMSR(0xc0000103, 1, 0),	"wrmsr", SHUTDOWN);
INSN(wrmsr_pat_reserved_type, WRMSR(0x277, 0, 2),	"wrmsr", SHUTDOWN);
INSN(rdmsr_vmx_basic,	MSR(0x480),		"rdmsr", SHUTDOWN);
INSN(rdmsr_vmx_vmfunc,	MSR(0x491),		"rdmsr", SHUTDOWN);
INSN(wrmsr_vmx_basic,	WRMSR(0x480, 0, 0),	"wrmsr", SHUTDOWN);
/* MSRs the kernel does not know: #GP by default */
INSN(rdmsr_feature_control, MSR(0x3a),		"rdmsr", SHUTDOWN);
INSN(wrmsr_feature_control, WRMSR(0x3a, 0, 0),	"wrmsr", SHUTDOWN);
INSN(wrmsr_debugctl,	WRMSR(0x1d9, 0, 1),	"wrmsr", SHUTDOWN);
INSN(wrmsr_spec_ctrl,	WRMSR(0x48, 0, 1),	"wrmsr", SHUTDOWN);
INSN(wrmsr_apic_base,	WRMSR(0x1b, 0, 0),	"wrmsr", SHUTDOWN);
INSN(wrmsr_x2apic_icr_init, WRMSR(0x830, 0, 0x4500), "wrmsr", SHUTDOWN);
INSN(wrmsr_microcode_trigger, WRMSR(0x79, 0, 0),	"wrmsr", SHUTDOWN);
/* ... or, with XVCPU_MSR_EXIT_UNKNOWN, exits userspace completes */
INSN(rdmsr_feature_control_exit, MSR(0x3a),	"rdmsr",
	MSR_EXIT(0x3a, XVCPU_MSR_READ, 0));
INSN(wrmsr_x2apic_icr_exit, WRMSR(0x830, 0, 0x4500), "wrmsr",
	MSR_EXIT(0x830, XVCPU_MSR_WRITE, 0x4500));
INSN(wrmsr_debugctl_exit_refused, WRMSR(0x1d9, 0, 1), "wrmsr",
	MSR_EXIT(0x1d9, XVCPU_MSR_WRITE, 1), .msr_error = 1);

/*
 * Other privileged instructions.  MOV DR is emulated in the kernel (DR6
 * reads 0xffff0ff0 after reset, SDM Vol. 3A 18.2.3); INVD and WBINVD
 * complete; RDPMC is #GP(0) (no performance counters for guests);
 * MONITOR and MWAIT are #UD (CPUID.01H:ECX.MONITOR is clear); XSETBV of
 * a valid XCR0 completes.  Control register qualification (Table 28-3):
 * CR number, bits 5:4 the access type (0 to CR, 1 from CR), bits 11:8 the
 * register.  CR8 exits both ways (no TPR shadow) and is kept in the vCPU,
 * bits 63:4 reserved; CR4.VMXE and CR4.SMXE are reserved for the guest.
 */
INSN(mov_to_dr7,	"mov $0x403, %eax",	"mov %rax, %dr7", NATIVE);
INSN(mov_to_dr0,	"xor %ecx, %ecx",	"mov %rcx, %dr0", NATIVE);
INSN(mov_from_dr6,	"",			"mov %dr6, %rax",
	NATIVE_RAX(0xffff0ff0));
INSN(invd,		"",			"invd",		NATIVE);
INSN(wbinvd,		"",			"wbinvd",	NATIVE);
INSN(rdpmc,		"xor %ecx, %ecx",	"rdpmc",	GP0);
INSN(monitor,		SCRATCH "; xor %ecx, %ecx; xor %edx, %edx",
	"monitor %rax, %ecx, %edx", UD);
INSN(mwait,		"xor %eax, %eax; xor %ecx, %ecx",
	"mwait %eax, %ecx",	UD);
INSN(xsetbv,		"mov %cr4, %rax; bts $18, %rax; mov %rax, %cr4; "
			"xor %ecx, %ecx; mov $3, %eax; xor %edx, %edx",
	"xsetbv",		NATIVE, .needs = NEEDS_CAP_XSAVE);
INSN(mov_to_cr8,	"mov $15, %eax",	"mov %rax, %cr8", NATIVE);
INSN(mov_cr8_round_trip, "mov $9, %eax; mov %rax, %cr8; xor %eax, %eax",
	"mov %cr8, %rax",	NATIVE_RAX(9));
INSN(mov_to_cr8_reserved, "mov $16, %eax",	"mov %rax, %cr8", GP0);
INSN(mov_to_cr4_vmxe,	"mov %cr4, %rax; bts $13, %rax",
	"mov %rax, %cr4",	GP0);
INSN(mov_to_cr4_smxe,	"mov %cr4, %rax; bts $14, %rax",
	"mov %rax, %cr4",	GP0);
/* String I/O (INS/OUTS) has its own suite: stringio_test */

/*
 * MOV to CR0: CR0.NE is the only bit VMX fixes that the guest may
 * clear, so every MOV to CR0 that changes NE exits, and the kernel
 * emulates it.  A value the processor refuses with #GP (bits 63:32, PG
 * without PE, NW without CD, paging off in 64-bit code) gets #GP, which
 * without an IDT ends in a triple fault.
 */
#define CR0_WITHOUT_NE	"mov %cr0, %rax; btr $5, %rax"
INSN(cr0_clear_ne,	CR0_WITHOUT_NE,		"mov %rax, %cr0", NATIVE);
INSN(cr0_clear_ne_and_pg, CR0_WITHOUT_NE "; btr $31, %rax",
	"mov %rax, %cr0",	SHUTDOWN);
INSN(cr0_clear_ne_set_bit_40, CR0_WITHOUT_NE "; bts $40, %rax",
	"mov %rax, %cr0",	SHUTDOWN);
INSN(cr0_clear_ne_and_pe, CR0_WITHOUT_NE "; btr $0, %rax",
	"mov %rax, %cr0",	SHUTDOWN);
INSN(cr0_clear_ne_nw_without_cd, CR0_WITHOUT_NE "; bts $29, %rax; btr $30, %rax",
	"mov %rax, %cr0",	SHUTDOWN);

/*
 * Faults: the test VM has no IDT, so #UD, #GP or #DE end in a triple
 * fault.  RDTSCP, INVPCID and XSAVES are #UD because xvcpu leaves their
 * secondary controls off; SYSCALL with EFER.SCE = 0; SYSENTER #GP with
 * IA32_SYSENTER_CS = 0.  GETSEC always exits (SDM Vol. 3C 26.1.2): #UD
 * in the guest's handler, as with CR4.SMXE = 0.
 */
INSN(ud2,		"",			"ud2",		SHUTDOWN);
INSN(int3,		"",			"int3",		SHUTDOWN);
INSN(int80,		"",			"int $0x80",	SHUTDOWN);
INSN(divide_by_zero,	"xor %eax, %eax; xor %edx, %edx; xor %ecx, %ecx",
	"div %ecx",		SHUTDOWN);
INSN(rdtscp,		"",			"rdtscp",	SHUTDOWN);
INSN(invpcid,		SCRATCH "; xor %ebx, %ebx", "invpcid (%rax), %rbx", SHUTDOWN);
INSN(xsaves,		SCRATCH "; xor %edx, %edx; mov $3, %eax",
	"xsaves (%rax)",	SHUTDOWN);
INSN(getsec,		"xor %eax, %eax",	"getsec",	UD);
INSN(rsm,		"",			"rsm",		SHUTDOWN);
INSN(syscall,		"",			"syscall",	SHUTDOWN);
INSN(sysenter,		"",			"sysenter",	SHUTDOWN);

/*
 * No exit at all (xvcpu leaves these to the guest), or one the kernel
 * handles (CPUID): the guest reaches the HLT after the instruction.
 */
INSN(cpuid,		"xor %eax, %eax",	"cpuid",	NATIVE);
INSN(rdtsc,		"",			"rdtsc",	NATIVE);
INSN(invlpg,		SCRATCH,		"invlpg (%rax)", NATIVE);
INSN(clts,		"",			"clts",		NATIVE);
INSN(pause,		"",			"pause",	NATIVE);
INSN(rdrand,		"",			"rdrand %rax",	NATIVE,
	.needs = NEEDS_RDRAND);
INSN(rdseed,		"",			"rdseed %rax",	NATIVE,
	.needs = NEEDS_RDSEED);
INSN(lgdt_same,		SCRATCH "; sgdt (%rax)", "lgdt (%rax)",	NATIVE);
INSN(mov_to_cr3_same,	"mov %cr3, %rax",	"mov %rax, %cr3", NATIVE);
INSN(lmsw,		"smsw %ax",		"lmsw %ax",	NATIVE);
INSN(wrfsbase_wrgsbase,	"mov %cr4, %rax; bts $16, %rax; mov %rax, %cr4; "
			"movabs $0x7fffdead0000, %rax",
	"wrfsbase %rax; wrgsbase %rax", NATIVE, .needs = NEEDS_FSGSBASE);

/*
 * Port I/O always exits (no I/O bitmaps), so the ports that reset or
 * power off a PC, Bochs or QEMU reach only userspace.
 */
INSN(out_kbc_reset,	"mov $0xfe, %al",	"outb %al, $0x64", OUT(0x64, 1, 0xfe));
INSN(out_cf9_reset,	"mov $0xcf9, %dx; mov $0x06, %al", "outb %al, %dx",
	OUT(0xcf9, 1, 0x06));
INSN(out_port92_reset,	"mov $0x01, %al",	"outb %al, $0x92", OUT(0x92, 1, 0x01));
INSN(out_acpi_s5,	"mov $0xb004, %dx; mov $0x2000, %ax", "outw %ax, %dx",
	OUT(0xb004, 2, 0x2000));
INSN(out_qemu_s5,	"mov $0x604, %dx; mov $0x2000, %ax", "outw %ax, %dx",
	OUT(0x604, 2, 0x2000));
INSN(out_bochs_shutdown, "mov $0x8900, %dx; mov $0x53, %al", "outb %al, %dx",
	OUT(0x8900, 1, 0x53));
INSN(in_kbc_status,	"",			"inb $0x64, %al", IN(0x64, 1));

TEST_F(insn, run)
{
	uint64_t at = addr(variant->at), end = addr(variant->end);
	struct xvcpu_run *run = self->run;
	struct xvcpu_exit_info info;
	struct xvcpu_regs regs;
	const char *feature;
	uint64_t mask;

	if (!have_feature(variant->needs, &feature))
		SKIP(return, "the processor has no %s", feature);
	if (variant->want == WANT_MSR) {
		struct xvcpu_msr_policy policy = {
			.flags = XVCPU_MSR_EXIT_UNKNOWN,
		};

		ASSERT_EQ(1, xvt_cap(XVCPU_CAP_MSR_POLICY));
		ASSERT_EQ(0, ioctl(self->t->vm->fd, XVCPU_SET_MSR_POLICY,
				   &policy));
	}
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, variant->entry, 0, 0));

	switch (variant->want) {
	case WANT_INTERNAL:
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_INTERNAL_ERROR);
		EXPECT_EQ(XVCPU_INTERNAL_UNHANDLED_EXIT, run->internal.suberror);
		ASSERT_EQ(8, run->internal.ndata);
		EXPECT_EQ(variant->reason, run->internal.data[0]);
		if (variant->qual != NO_QUAL) {
			EXPECT_EQ(variant->qual, run->internal.data[1]);
		}
		EXPECT_EQ(end - at, run->internal.data[6]);
		EXPECT_EQ(at, run->internal.data[7]);
		get_info(_metadata, self->vcpu, &info);
		EXPECT_EQ(variant->reason, info.exit_reason);
		EXPECT_EQ(variant->reason, info.basic_reason);
		EXPECT_EQ(run->internal.data[1], info.exit_qualification);
		EXPECT_EQ(end - at, info.instruction_len);
		/* The VMM skips the instruction and the guest goes on. */
		set_rip(_metadata, self->vcpu, end);
		expect_hlt(_metadata, self->vcpu, end + 1);
		break;
	case WANT_SHUTDOWN:
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_SHUTDOWN);
		get_info(_metadata, self->vcpu, &info);
		EXPECT_EQ(EXIT_REASON_TRIPLE_FAULT, info.exit_reason);
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(at, regs.rip);
		/* Nothing changed: it faults the same way again. */
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_SHUTDOWN);
		break;
	case WANT_EXC:
		ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
		/* The handler goes on past the instruction, to the HLT */
		xvt_idt_set_resume(self->t, end);
		expect_hlt(_metadata, self->vcpu, end + 1);
		ASSERT_EQ(1, xvt_idt_total(self->t));
		EXPECT_EQ(variant->vector, xvt_idt_event(self->t, 0)->vector);
		EXPECT_EQ(at, xvt_idt_event(self->t, 0)->rip);
		EXPECT_EQ(0, xvt_idt_event(self->t, 0)->error_code);
		break;
	case WANT_HLT:
		expect_hlt(_metadata, self->vcpu, end + 1);
		if (variant->check_rax) {
			get_regs(_metadata, self->vcpu, &regs);
			EXPECT_EQ(variant->rax, regs.rax);
		}
		break;
	case WANT_IO:
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IO);
		EXPECT_EQ(variant->io_dir, run->io.direction);
		EXPECT_EQ(variant->port, run->io.port);
		EXPECT_EQ(variant->io_size, run->io.size);
		EXPECT_EQ(1, run->io.count);
		mask = (1ULL << (8 * variant->io_size)) - 1;
		if (variant->io_dir == XVCPU_IO_OUT) {
			EXPECT_EQ(variant->io_data, run->io.data & mask);
		}
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(end, regs.rip);
		run->io.data = 0x5a;
		expect_hlt(_metadata, self->vcpu, end + 1);
		if (variant->io_dir == XVCPU_IO_IN) {
			get_regs(_metadata, self->vcpu, &regs);
			EXPECT_EQ(0x5a, regs.rax & mask);
		}
		break;
	case WANT_HYPERCALL:
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HYPERCALL);
		EXPECT_EQ(variant->reason, run->hypercall.nr);
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(end, regs.rip);
		run->hypercall.ret = 0x600d;
		expect_hlt(_metadata, self->vcpu, end + 1);
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(0x600d, regs.rax);
		break;
	case WANT_MSR:
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_MSR);
		EXPECT_EQ(variant->msr_index, run->msr.index);
		EXPECT_EQ(variant->msr_dir, run->msr.direction);
		if (variant->msr_dir == XVCPU_MSR_WRITE) {
			EXPECT_EQ(variant->msr_data, run->msr.data);
		}
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(at, regs.rip);
		if (variant->msr_error) {
			run->msr.error = 1;
			ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_SHUTDOWN);
			get_regs(_metadata, self->vcpu, &regs);
			EXPECT_EQ(at, regs.rip);
			break;
		}
		run->msr.data = 0x1122334455667788ULL;
		expect_hlt(_metadata, self->vcpu, end + 1);
		if (variant->msr_dir == XVCPU_MSR_READ) {
			get_regs(_metadata, self->vcpu, &regs);
			EXPECT_EQ(0x55667788, regs.rax);
			EXPECT_EQ(0x11223344, regs.rdx);
		}
		break;
	}
	assert_host_fine(_metadata, self->t, self->vcpu);
}


/* ---- Guest state no processor accepts: VM entry fails ---- */

FIXTURE(bad_state) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct xvcpu_run *run;
};

FIXTURE_VARIANT(bad_state) {
	/* Turn the 64-bit state of a test vCPU into the bad one. */
	void (*spoil)(struct xvcpu_regs *regs, struct xvcpu_sregs *sregs);
	/* SET_SREGS refuses it (EINVAL) instead of letting entry fail */
	bool refused;
	/* Else the VMCS field fail_entry.field names (Vol. 3D App. B) */
	uint32_t field;
};

FIXTURE_SETUP(bad_state)
{
	TEST_VM_SETUP();
}

FIXTURE_TEARDOWN(bad_state)
{
	xvt_vm_destroy(self->t);
}

/*
 * BAD_STATE(name, field, statement): the variant bad_state.<name> spoils
 * the state with @statement on `r` (struct xvcpu_regs *) and `s` (struct
 * xvcpu_sregs *); the entry fails and names @field (VMCS_GUEST_@field).
 * References are to SDM Vol. 3C 27.3.1.
 */
#define BAD_STATE_(name, refuse, field_, ...)				\
	static void spoil_##name(struct xvcpu_regs *r,			\
				 struct xvcpu_sregs *s)			\
	{								\
		(void)r;						\
		(void)s;						\
		__VA_ARGS__;						\
	}								\
	FIXTURE_VARIANT_ADD(bad_state, name) {				\
		.spoil = spoil_##name,					\
		.refused = refuse,					\
		.field = field_,					\
	}
#define BAD_STATE(name, field, ...)					\
	BAD_STATE_(name, false, VMCS_GUEST_##field, __VA_ARGS__)
/* Control-register and EFER combinations SET_SREGS itself refuses */
#define BAD_SREGS(name, ...)	BAD_STATE_(name, true, 0, __VA_ARGS__)

/* 27.3.1.2: CS types 9, 11, 13, 15 (and 3 with unrestricted guest) */
BAD_STATE(cs_data_type, CS_AR, s->cs.type = 1);
BAD_STATE(cs_system_segment, CS_AR, s->cs.s = 0);
BAD_STATE(cs_not_present, CS_AR, s->cs.present = 0);
/* 27.3.1.2: in IA-32e mode CS.L = 1 requires CS.D/B = 0 */
BAD_STATE(cs_long_and_32bit, CS_AR, s->cs.db = 1);
/* 27.3.1.2: a non-conforming CS has the DPL of SS */
BAD_STATE(cs_dpl_not_ss_dpl, CS_AR, s->cs.dpl = 3);
/* 27.3.1.2: a usable SS is read/write data (type 3 or 7) */
BAD_STATE(ss_code_type, SS_AR, s->ss.type = 0xb);
/* 27.3.1.2: usable data segments are accessed; code ones readable */
BAD_STATE(ds_not_accessed, DS_AR, s->ds.type = 2);
BAD_STATE(ds_execute_only, DS_AR, s->ds.type = 9);
/* 27.3.1.2: TR usable, a busy 64-bit TSS in IA-32e mode, TI = 0 */
BAD_STATE(tr_unusable, TR_AR, s->tr.unusable = 1);
BAD_STATE(tr_16bit_tss, TR_AR, s->tr.type = 3);
BAD_STATE(tr_selector_ti, TR_SELECTOR, s->tr.selector |= 4);
/* 27.3.1.2: limit bits 31:20 set need G = 1 */
BAD_STATE(tr_limit_needs_g, TR_AR, s->tr.limit = 0x100000; s->tr.g = 0);
/* 27.3.1.2: a usable LDTR is an LDT (type 2) */
BAD_STATE(ldt_wrong_type, LDTR_AR,
	  s->ldt.unusable = 0; s->ldt.present = 1; s->ldt.s = 0;
	  s->ldt.type = 3);
/* 27.3.1.2 and 27.3.1.3: bases and GDTR canonical */
BAD_STATE(fs_base_noncanonical, FS_BASE, s->fs.base = NONCANONICAL);
BAD_STATE(gdt_base_noncanonical, GDTR_BASE, s->gdt.base = NONCANONICAL);
/* 27.3.1.1: CR0.PG needs CR0.PE */
BAD_SREGS(pg_without_pe, s->cr0 &= ~CR0_PE);
/* 27.3.1.1: IA-32e mode (EFER.LMA) needs CR0.PG and CR4.PAE */
BAD_SREGS(lma_without_paging, s->cr0 &= ~CR0_PG);
BAD_SREGS(lma_without_pae, s->cr4 &= ~CR4_PAE);
/* 27.3.1.1: with paging, EFER.LMA equals EFER.LME */
BAD_SREGS(lma_without_lme, s->efer &= ~EFER_LME);
/* SDM Vol. 3A 2.5: CR0.NW needs CR0.CD */
BAD_SREGS(nw_without_cd, s->cr0 |= 1ULL << 29; s->cr0 &= ~(1ULL << 30));
/* 27.3.1.1: CR3 has no bits beyond the physical-address width */
BAD_STATE(cr3_beyond_phys_width, CR3, s->cr3 |= 1ULL << xvt_phys_bits());
/* 27.3.1.4: no virtual-8086 mode in IA-32e mode */
BAD_STATE(rflags_vm, RFLAGS, r->rflags |= RFLAGS_VM);
/*
 * 27.3.1.2: unrestricted real mode still needs SS.DPL = 0 (the CS.DPL =
 * SS.DPL rule fails too; SS is the one named)
 */
BAD_STATE(real_mode_ss_dpl3, SS_AR,
	  xvcpu_mode_build(XVCPU_MODE_REAL, XVT_SCRATCH_GPA,
			   XVT_SCRATCH_GPA + 0x8000, 0, NULL, r, s);
	  s->ss.dpl = 3);

TEST_F(bad_state, fails_entry)
{
	struct xvcpu_regs good_regs, regs;
	struct xvcpu_sregs good_sregs, sregs;
	struct xvcpu_run *run = self->run;
	struct xvcpu_exit_info info;
	uint64_t want = EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_STATE;
	int i;

	set_rip(_metadata, self->vcpu, addr(code_hlt));
	get_regs(_metadata, self->vcpu, &good_regs);
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &good_sregs));
	regs = good_regs;
	sregs = good_sregs;
	variant->spoil(&regs, &sregs);
	if (variant->refused) {
		EXPECT_EQ(-EINVAL, xvcpu_set_sregs(self->vcpu, &sregs));
		expect_hlt(_metadata, self->vcpu, addr(code_hlt_end));
		assert_host_fine(_metadata, self->t, self->vcpu);
		return;
	}
	/* Accepted: only the processor knows the whole rule set. */
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));

	/* Twice: the vCPU stays as it was and fails the same way. */
	for (i = 0; i < 2; i++) {
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_FAIL_ENTRY);
		EXPECT_EQ(want, run->fail_entry.hardware_entry_failure_reason)
			TH_LOG("reason %#llx", (unsigned long long)
			       run->fail_entry.hardware_entry_failure_reason);
		EXPECT_EQ(0, run->fail_entry.exit_qualification);
		EXPECT_EQ(variant->field, run->fail_entry.field)
			TH_LOG("field %#x, expected %#x",
			       run->fail_entry.field, variant->field);
		get_info(_metadata, self->vcpu, &info);
		EXPECT_EQ(want, info.exit_reason);
		EXPECT_EQ(EXIT_REASON_INVALID_STATE, info.basic_reason);
		EXPECT_EQ(0, info.instruction_len);
		EXPECT_EQ(0, info.guest_physical_address);
	}

	/* Good state back: the same vCPU runs. */
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &good_sregs));
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &good_regs));
	expect_hlt(_metadata, self->vcpu, addr(code_hlt_end));
	assert_host_fine(_metadata, self->t, self->vcpu);
}


/* ---- Endless loops and signals ---- */

FIXTURE(loop) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct xvcpu_run *run;
};

FIXTURE_VARIANT(loop) {
	const char *entry;
	const char *start, *end;	/* RIP stays in [start, end) */
	bool counts;			/* R12 counts the rounds */
};

FIXTURE_SETUP(loop)
{
	TEST_VM_SETUP();
}

FIXTURE_TEARDOWN(loop)
{
	xvt_vm_destroy(self->t);
}

/* LOOP(name, set-up, body): "set-up; 1: body; jmp 1b" */
#define LOOP(name, setup, body, count)					\
	GUEST_ASM("loop_" #name ":\n\t" setup "\n"			\
		  "loop_" #name "_start:\n\t" body "\n"			\
		  "	jmp loop_" #name "_start\n"			\
		  "loop_" #name "_end:\n"				\
		  "	hlt\n");					\
	extern char loop_##name[], loop_##name##_start[],		\
		loop_##name##_end[];					\
	FIXTURE_VARIANT_ADD(loop, name) {				\
		.entry = loop_##name, .start = loop_##name##_start,	\
		.end = loop_##name##_end, .counts = (count),		\
	}

/* Interrupts off: only the preemption timer gets the CPU back. */
LOOP(jmp_self,		"cli",		"",			false);
LOOP(count,		"cli; xor %r12d, %r12d", "inc %r12",	true);
LOOP(count_irqs_on,	"sti; xor %r12d, %r12d", "inc %r12",	true);
LOOP(pause,		"cli; xor %r12d, %r12d", "pause; inc %r12", true);
/* Every round exits and the kernel handles it. */
LOOP(cpuid,		"cli; xor %r12d, %r12d",
	"xor %eax, %eax; cpuid; inc %r12",	true);
LOOP(rdmsr_efer,	"cli; xor %r12d, %r12d",
	"mov $0xc0000080, %ecx; rdmsr; inc %r12",	true);
LOOP(cr0_ne_toggle,	"cli; xor %r12d, %r12d; mov %cr0, %rbx; "
			"mov %rbx, %rcx; btr $5, %rbx",
	"mov %rbx, %cr0; mov %rcx, %cr0; inc %r12", true);

/* Timer period while a guest loops. */
#define TICK_US		20000
#define INTERRUPTIONS	4

TEST_F(loop, signal_stops_and_resumes)
{
	uint64_t start = addr(variant->start), end = addr(variant->end);
	uint64_t first = 0, last = 0;
	struct xvcpu_regs regs;
	char buf[512];
	int i, ret;

	ASSERT_EQ(0, xvt_catch_signal(SIGALRM));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, variant->entry, 0, 0));
	ASSERT_EQ(0, xvt_set_itimer(TICK_US, true));
	for (i = 0; i < INTERRUPTIONS; i++) {
		self->run->exit_reason = XVCPU_EXIT_UNKNOWN;
		ret = xvt_run(self->vcpu, NULL);
		ASSERT_EQ(-EINTR, ret) {
			xvt_set_itimer(0, false);
			TH_LOG("%s", ret < 0 ? strerror(-ret) :
			       xvt_exit_str(self->vcpu, buf, sizeof(buf)));
		}
		EXPECT_EQ(XVCPU_EXIT_INTR, self->run->exit_reason);
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_LE(start, regs.rip);
		EXPECT_GT(end, regs.rip);
		if (i == 0)
			first = regs.r12;
		last = regs.r12;
	}
	ASSERT_EQ(0, xvt_set_itimer(0, false));
	/* Resumed each time where it was: the count only grows. */
	if (variant->counts) {
		EXPECT_LT(first, last);
	}
	set_rip(_metadata, self->vcpu, addr(code_hlt));
	expect_hlt(_metadata, self->vcpu, addr(code_hlt_end));
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/* ---- Memory across the guest-physical address space ---- */

/* The address in RDI is read, then written back with what was read. */
GUEST_ASM(
"code_rw:\n"
"	invlpg (%rdi)\n"
"code_rw_read:\n"
"	mov (%rdi), %rax\n"
"code_rw_write:\n"
"	mov %rax, (%rdi)\n"
"code_rw_end:\n"
"	hlt\n"
"code_store:\n"
"	mov %rsi, (%rdi)\n"
"	hlt\n"
"code_jump:\n"
"	jmp *%rdi\n");
extern char code_rw[], code_rw_read[], code_rw_write[], code_rw_end[],
	code_store[], code_jump[];

/* The value userspace "emulates" for an MMIO read of @gpa. */
static uint64_t mmio_value(uint64_t gpa)
{
	return gpa * 0x9e3779b97f4a7c15ULL ^ 0x5555aaaa5555aaaaULL;
}

/*
 * Check an MMIO exit of @vcpu at @gpa (through @linear) with @access and
 * RIP at @rip; false (with the test failed) if it was something else.
 */
static bool check_mmio(struct __test_metadata *_metadata,
		       struct xvcpu_vcpu *vcpu, uint64_t gpa, uint64_t linear,
		       uint32_t access, uint64_t rip)
{
	struct xvcpu_run *run = vcpu->run;
	struct xvcpu_regs regs;
	char buf[512];
	int ret;

	ret = xvt_run(vcpu, NULL);
	if (ret != UCALL_NONE || run->exit_reason != XVCPU_EXIT_MMIO ||
	    run->mmio.phys_addr != gpa || run->mmio.access != access ||
	    !run->mmio.linear_valid || run->mmio.linear_addr != linear) {
		TH_LOG("gpa %#llx linear %#llx access %u: %s",
		       (unsigned long long)gpa, (unsigned long long)linear,
		       access, ret < 0 ? strerror(-ret) :
		       xvt_exit_str(vcpu, buf, sizeof(buf)));
		_metadata->exit_code = KSFT_FAIL;
		return false;
	}
	if (xvcpu_get_regs(vcpu, &regs) || regs.rip != rip) {
		TH_LOG("gpa %#llx: RIP %#llx, expected %#llx",
		       (unsigned long long)gpa, (unsigned long long)regs.rip,
		       (unsigned long long)rip);
		_metadata->exit_code = KSFT_FAIL;
		return false;
	}
	return true;
}

/* Emulate the instruction at RIP: set RAX to @rax (unless ~0), move RIP. */
static void complete_mmio(struct __test_metadata *_metadata,
			  struct xvcpu_vcpu *vcpu, uint64_t rax,
			  uint64_t next_rip)
{
	struct xvcpu_regs regs;

	get_regs(_metadata, vcpu, &regs);
	if (rax != ~0ULL)
		regs.rax = rax;
	regs.rip = next_rip;
	ASSERT_EQ(0, xvcpu_set_regs(vcpu, &regs));
}

/*
 * The guest reads and writes back the quadword at @gpa, reached through
 * the 2 MiB page at linear @window; userspace emulates both accesses.
 */
static bool mmio_read_write(struct __test_metadata *_metadata,
			    struct xvt_vm *t, uint64_t window, uint64_t gpa)
{
	struct xvcpu_vcpu *vcpu = t->vcpus[0];
	uint64_t linear = window + (gpa & (SIZE_2M - 1));
	struct xvcpu_regs regs;

	if (xvt_map_2m(t, window, gpa & ~(SIZE_2M - 1)) ||
	    xvt_vcpu_enter(vcpu, code_rw, linear, 0)) {
		TH_LOG("mapping %#llx", (unsigned long long)gpa);
		_metadata->exit_code = KSFT_FAIL;
		return false;
	}
	if (!check_mmio(_metadata, vcpu, gpa, linear, XVCPU_MMIO_READ,
			addr(code_rw_read)))
		return false;
	complete_mmio(_metadata, vcpu, mmio_value(gpa), addr(code_rw_write));
	if (!check_mmio(_metadata, vcpu, gpa, linear, XVCPU_MMIO_WRITE,
			addr(code_rw_write)))
		return false;
	complete_mmio(_metadata, vcpu, ~0ULL, addr(code_rw_end));
	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_HLT);
	get_regs(_metadata, vcpu, &regs);
	EXPECT_EQ(mmio_value(gpa), regs.rax);
	return true;
}

#define SWEEP_LINEAR	0xc0000000ULL	/* 512 windows of 2 MiB up to 4 GiB */
#define SWEEP_MAX	512

/*
 * Sample guest-physical addresses from 4 KiB to the top of the physical
 * address space (each power of two, a little above it, the last quadword
 * below the next one) and the places of PC devices; each is read and
 * written through its own linear 2 MiB window.  Addresses in slot 0 are
 * memory; every other one must be an MMIO exit with its exact address and
 * access, and complete as userspace says.  One address beyond the
 * physical-address width cannot even be mapped: #PF, so a triple fault.
 */
TEST_F(vm, mmio_sweep_whole_address_space)
{
	static const uint64_t devices[] = {
		0xa0000, 0xb8000, 0xfec00000, 0xfed00000, 0xfee00000,
		0xfee00300, 0xfffffff0, XVT_UNMAPPED_GPA,
	};
	unsigned int bits = xvt_phys_bits(), top_bits, k, n = 0, i;
	unsigned int mmio = 0, memory = 0;
	uint64_t gpas[SWEEP_MAX], window;
	struct xvcpu_regs regs;

	top_bits = bits > 52 ? 52 : bits;
	TH_LOG("physical-address width %u bits", bits);
	for (k = 12; k < top_bits && n + 3 <= SWEEP_MAX; k++) {
		gpas[n++] = 1ULL << k;
		gpas[n++] = (1ULL << k) + 0x1238;
		gpas[n++] = (2ULL << k) - 8;
	}
	for (i = 0; i < ARRAY_SIZE(devices) && n < SWEEP_MAX; i++)
		gpas[n++] = devices[i];

	for (i = 0; i < n; i++) {
		uint64_t gpa = gpas[i];

		window = SWEEP_LINEAR + i * SIZE_2M;
		if (gpa + 8 <= self->t->mem_size) {
			/* Slot 0: plain memory, no exit */
			uint64_t *hva = xvt_hva(self->t, gpa);

			ASSERT_NE(NULL, hva);
			ASSERT_EQ(0, xvt_map_2m(self->t, window,
						gpa & ~(SIZE_2M - 1)));
			ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_rw,
				window + (gpa & (SIZE_2M - 1)), 0));
			expect_hlt(_metadata, self->vcpu, addr(code_rw_end) + 1);
			get_regs(_metadata, self->vcpu, &regs);
			EXPECT_EQ(*hva, regs.rax) TH_LOG("gpa %#llx",
						 (unsigned long long)gpa);
			memory++;
			continue;
		}
		if (mmio_read_write(_metadata, self->t, window, gpa))
			mmio++;
	}
	TH_LOG("%u addresses: %u memory, %u MMIO", n, memory, mmio);
	EXPECT_EQ(n, memory + mmio);

	/* Beyond the width: a reserved bit in the PDE, #PF, triple fault */
	if (bits < 52) {
		window = SWEEP_LINEAR + n * SIZE_2M;
		ASSERT_EQ(0, xvt_map_2m(self->t, window, 1ULL << bits));
		ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_rw, window, 0));
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_SHUTDOWN);
	}
	assert_host_fine(_metadata, self->t, self->vcpu);
}

#define HIGH_LINEAR	0xe0000000ULL
#define RO_PATTERN	0x0123456789abcdefULL

/*
 * A read-only and a read/write slot at the top of the guest-physical
 * address space: reads and fetches of read-only memory work, writes are
 * MMIO exits (on a page userspace filled and on one nobody touched yet)
 * and change nothing; the read/write slot is plain memory.
 */
TEST_F(vm, high_slots_read_only_and_writable)
{
	unsigned int bits = xvt_phys_bits();
	uint64_t top = 1ULL << (bits > 48 ? 48 : bits);
	uint64_t ro_gpa = top - SIZE_2M, rw_gpa = top - 2 * SIZE_2M;
	uint64_t ro_lin = HIGH_LINEAR, rw_lin = HIGH_LINEAR + SIZE_2M;
	uint64_t *ro, *rw;
	struct xvcpu_regs regs;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_READONLY_MEM));
	TH_LOG("read-only slot at %#llx, read/write at %#llx",
	       (unsigned long long)ro_gpa, (unsigned long long)rw_gpa);
	ro = xvcpu_vm_add_memory(self->t->vm, 1, ro_gpa, SIZE_2M,
				 XVCPU_MEM_READONLY);
	ASSERT_NE(NULL, ro) TH_LOG("read-only slot: %s", strerror(errno));
	rw = xvcpu_vm_add_memory(self->t->vm, 2, rw_gpa, SIZE_2M, 0);
	ASSERT_NE(NULL, rw) TH_LOG("read/write slot: %s", strerror(errno));
	ASSERT_EQ(0, xvt_map_2m(self->t, ro_lin, ro_gpa));
	ASSERT_EQ(0, xvt_map_2m(self->t, rw_lin, rw_gpa));
	ro[0x100 / 8] = RO_PATTERN;
	((uint8_t *)ro)[0x800] = 0xf4;		/* hlt */

	/* Read what userspace wrote; the write back is an MMIO exit. */
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_rw, ro_lin + 0x100, 0));
	if (check_mmio(_metadata, self->vcpu, ro_gpa + 0x100, ro_lin + 0x100,
		       XVCPU_MMIO_WRITE, addr(code_rw_write))) {
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(RO_PATTERN, regs.rax);
		complete_mmio(_metadata, self->vcpu, ~0ULL, addr(code_rw_end));
		expect_hlt(_metadata, self->vcpu, addr(code_rw_end) + 1);
	}

	/* A page nobody touched yet: reads zero, the write exits. */
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_store,
				    ro_lin + 0x180040, 0xbad));
	if (check_mmio(_metadata, self->vcpu, ro_gpa + 0x180040,
		       ro_lin + 0x180040, XVCPU_MMIO_WRITE, addr(code_store))) {
		complete_mmio(_metadata, self->vcpu, ~0ULL,
			      addr(code_store) + 3);
		expect_hlt(_metadata, self->vcpu, addr(code_store) + 4);
	}
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_rw, ro_lin + 0x180040, 0));
	if (check_mmio(_metadata, self->vcpu, ro_gpa + 0x180040,
		       ro_lin + 0x180040, XVCPU_MMIO_WRITE,
		       addr(code_rw_write))) {
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(0, regs.rax);
	}
	EXPECT_EQ(RO_PATTERN, ro[0x100 / 8]);
	EXPECT_EQ(0, ro[0x180040 / 8]);

	/* Read-only memory is executable. */
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_jump, ro_lin + 0x800, 0));
	expect_hlt(_metadata, self->vcpu, ro_lin + 0x801);

	/* The writable slot is plain memory at the top as well. */
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_store,
				    rw_lin + SIZE_2M - 8, RO_PATTERN));
	expect_hlt(_metadata, self->vcpu, addr(code_store) + 4);
	EXPECT_EQ(RO_PATTERN, rw[SIZE_2M / 8 - 1]);

	assert_host_fine(_metadata, self->t, self->vcpu);
}

/*
 * A guest page table in unbacked memory: the page walk itself is the MMIO
 * access (qualification bit 8 clear), at the address of the PTE.  It
 * repeats until userspace backs that memory; then the access completes.
 */
#define WALK_LINEAR	0xf0000000ULL
#define WALK_PT_GPA	0x80000000ULL
#define WALK_OFFSET	0x5120ULL

TEST_F(vm, page_walk_into_unbacked_memory)
{
	uint64_t pde = WALK_PT_GPA | PTE_P | PTE_RW;
	uint64_t pte_gpa = WALK_PT_GPA + 8 * (WALK_OFFSET >> 12);
	uint64_t pde_gpa = XVT_TABLES_GPA + XVCPU_SETUP_PD_OFFSET +
			   8 * (WALK_LINEAR / SIZE_2M);
	uint64_t *pt, pte;
	struct xvcpu_exit_info info;
	struct xvcpu_regs regs;
	int i;

	ASSERT_EQ(0, xvcpu_vm_write(self->t->vm, pde_gpa, &pde, sizeof(pde)));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_rw,
				    WALK_LINEAR + WALK_OFFSET, 0));
	for (i = 0; i < 2; i++) {
		if (!check_mmio(_metadata, self->vcpu, pte_gpa,
				WALK_LINEAR + WALK_OFFSET, XVCPU_MMIO_READ,
				addr(code_rw_read)))
			break;
		get_info(_metadata, self->vcpu, &info);
		EXPECT_EQ(EXIT_REASON_EPT_VIOLATION, info.exit_reason);
		EXPECT_TRUE(info.exit_qualification & EPT_QUAL_LINEAR_VALID);
		EXPECT_FALSE(info.exit_qualification & EPT_QUAL_FINAL)
			TH_LOG("qualification %#llx",
			       (unsigned long long)info.exit_qualification);
	}

	/* Back the page table: PTE -> hostile_scratch */
	pt = xvcpu_vm_add_memory(self->t->vm, 1, WALK_PT_GPA, 0x1000, 0);
	ASSERT_NE(NULL, pt);
	pte = addr(hostile_scratch) | PTE_P | PTE_RW;
	pt[WALK_OFFSET >> 12] = pte;
	*(uint64_t *)((char *)xvt_hva(self->t, addr(hostile_scratch)) +
		      (WALK_OFFSET & 0xfff)) = RO_PATTERN;
	expect_hlt(_metadata, self->vcpu, addr(code_rw_end) + 1);
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_EQ(RO_PATTERN, regs.rax);
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/* IDT descriptor for LIDT (10 bytes) */
struct idtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct idtr hostile_idtr;

/* RDI: IDTR to load; RSI: stack for the exception frame */
GUEST_ASM(
"code_exc_ud2:\n"
"	lidt (%rdi)\n"
"	mov %rsi, %rsp\n"
"code_exc_ud2_at:\n"
"	ud2\n"
"	hlt\n"
"code_exc_int3:\n"
"	lidt (%rdi)\n"
"	mov %rsi, %rsp\n"
"code_exc_int3_at:\n"
"	int3\n"
"	hlt\n"
"exc_handler:\n"
"	mov (%rsp), %rax\n"
"	outb %al, $0x99\n"
"	hlt\n");
extern char code_exc_ud2[], code_exc_ud2_at[], code_exc_int3[],
	code_exc_int3_at[], exc_handler[];

/*
 * The IDT in unbacked memory: delivering #UD reads the gate there, an MMIO
 * exit whose IDT-vectoring information names the #UD being delivered.
 */
TEST_F(vm, idt_in_unbacked_memory)
{
	const uint64_t idt = XVT_UNMAPPED_GPA + 0x3000;
	struct xvcpu_exit_info info;
	int i;

	GUEST_VAR(self->t, hostile_idtr).limit = 0xfff;
	GUEST_VAR(self->t, hostile_idtr).base = idt;
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_exc_ud2,
				    addr(&hostile_idtr), XVT_STACK_TOP - 64));
	for (i = 0; i < 2; i++) {
		if (!check_mmio(_metadata, self->vcpu, idt + 6 * 16,
				idt + 6 * 16, XVCPU_MMIO_READ,
				addr(code_exc_ud2_at)))
			break;
		get_info(_metadata, self->vcpu, &info);
		EXPECT_EQ(VECTORING_HW_EXCEPTION(6), info.idt_vectoring_info);
	}
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/* 64-bit interrupt gate to @handler, code selector 0x08 */
static void set_gate(uint8_t *idt, unsigned int vector, uint64_t handler)
{
	uint8_t *g = idt + 16 * vector;

	memset(g, 0, 16);
	g[0] = handler & 0xff;
	g[1] = (handler >> 8) & 0xff;
	g[2] = XVCPU_SETUP_SEL_CODE;
	g[5] = 0x8e;			/* present, DPL 0, interrupt gate */
	g[6] = (handler >> 16) & 0xff;
	g[7] = (handler >> 24) & 0xff;
	memcpy(g + 8, &(uint32_t){ handler >> 32 }, 4);
}

uint8_t hostile_idt[4096] __attribute__((aligned(4096)));

#define EXC_STACK_GPA	XVT_FREE_GPA
#define EXC_STACK_TOP	(EXC_STACK_GPA + 0x100000)

/*
 * An exception whose frame goes to a page nobody touched yet: the VM exit
 * on that page comes in the middle of the delivery, the module backs the
 * page and re-enters, and the handler runs once with the right frame.
 */
static void exception_frame_on_untouched_page(struct __test_metadata *_metadata,
					      struct xvt_vm *t,
					      const char *entry,
					      uint64_t want_rip)
{
	struct xvcpu_vcpu *vcpu = t->vcpus[0];
	struct xvt_stats before, after;
	bool have_stats;
	uint64_t *frame;
	struct xvcpu_regs regs;
	uint8_t *idt = xvt_hva(t, addr(hostile_idt));

	set_gate(idt, 3, addr(exc_handler));
	set_gate(idt, 6, addr(exc_handler));
	GUEST_VAR(t, hostile_idtr).limit = sizeof(hostile_idt) - 1;
	GUEST_VAR(t, hostile_idtr).base = addr(hostile_idt);
	ASSERT_NE(NULL, xvcpu_vm_add_memory(t->vm, 1, EXC_STACK_GPA, SIZE_2M,
					     0));
	have_stats = xvt_stats_read(&before) == 0;

	ASSERT_EQ(0, xvt_vcpu_enter(vcpu, entry, addr(&hostile_idtr),
				    EXC_STACK_TOP));
	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_IO);
	EXPECT_EQ(REPORT_PORT, vcpu->run->io.port);
	get_regs(_metadata, vcpu, &regs);
	EXPECT_EQ(want_rip, regs.rax);
	EXPECT_EQ(EXC_STACK_TOP - 5 * 8, regs.rsp);
	frame = xvt_hva(t, EXC_STACK_TOP - 5 * 8);
	ASSERT_NE(NULL, frame);
	EXPECT_EQ(want_rip, frame[0]);
	EXPECT_EQ(XVCPU_SETUP_SEL_CODE, frame[1]);
	EXPECT_EQ(EXC_STACK_TOP, frame[3]);
	if (have_stats && xvt_stats_read(&after) == 0) {
		TH_LOG("pages: %ld before, %ld after", before.pages,
		       after.pages);
		EXPECT_LT(before.pages, after.pages);
	}
	/* The handler ran once: next comes its HLT. */
	ASSERT_RUN_EXIT(vcpu, XVCPU_EXIT_HLT);
	assert_host_fine(_metadata, t, vcpu);
}

TEST_F(vm, fault_frame_on_untouched_page)
{
	exception_frame_on_untouched_page(_metadata, self->t, code_exc_ud2,
					  addr(code_exc_ud2_at));
}

TEST_F(vm, trap_frame_on_untouched_page)
{
	exception_frame_on_untouched_page(_metadata, self->t, code_exc_int3,
					  addr(code_exc_int3_at) + 1);
}

/*
 * An EPT-violation storm: thousands of MMIO exits in a row, each one
 * completed by userspace moving RIP, spread over the address space and
 * mixed with writes to read-only memory.  Nothing may be allocated for
 * them, and the guest's sum of what it read must come out right.
 */
#define STORM_WINDOWS	16
#define STORM_ROUNDS	8192
#define STORM_LINEAR	0xe0000000ULL

uint64_t storm_table[STORM_WINDOWS];

/* RSI rounds over the windows of storm_table; R8 sums what was read. */
GUEST_ASM(
"code_storm:\n"
"	xor %ecx, %ecx\n"
"	xor %r8d, %r8d\n"
"	lea storm_table(%rip), %r10\n"
"1:	mov %rcx, %rbx\n"
"	and $15, %rbx\n"
"	mov (%r10,%rbx,8), %r9\n"
"code_storm_read:\n"
"	mov (%r9), %rax\n"
"code_storm_read_end:\n"
"	add %rax, %r8\n"
"code_storm_write:\n"
"	mov %rcx, (%r9)\n"
"code_storm_write_end:\n"
"	inc %rcx\n"
"	cmp %rsi, %rcx\n"
"	jb 1b\n"
"	hlt\n");
extern char code_storm[], code_storm_read[], code_storm_read_end[],
	code_storm_write[], code_storm_write_end[];

TEST_F(vm, mmio_exit_storm)
{
	unsigned int bits = xvt_phys_bits();
	uint64_t top = 1ULL << (bits > 48 ? 48 : bits);
	uint64_t ro_gpa = top - SIZE_2M, gpa[STORM_WINDOWS], sum = 0;
	struct xvt_stats before, after;
	struct xvcpu_regs regs;
	bool ro_win, have_stats = false;
	uint64_t t0, r, *ro;
	unsigned int w, exits = 0;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_READONLY_MEM));
	ro = xvcpu_vm_add_memory(self->t->vm, 1, ro_gpa, SIZE_2M,
				 XVCPU_MEM_READONLY);
	ASSERT_NE(NULL, ro);
	for (w = 0; w < STORM_WINDOWS; w++) {
		uint64_t off = w * 0x1008ULL;
		uint64_t lin = STORM_LINEAR + w * SIZE_2M;
		uint64_t phys;

		/* Odd windows: the read-only slot; even: nothing at all */
		if (w & 1) {
			phys = ro_gpa;
			ro[off / 8] = mmio_value(w);
		} else {
			phys = ((uint64_t)(w + 1) << (bits - 5)) &
			       ~(SIZE_2M - 1);
		}
		gpa[w] = phys + off;
		ASSERT_EQ(0, xvt_map_2m(self->t, lin, phys));
		GUEST_VAR(self->t, storm_table)[w] = lin + off;
	}

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_storm, 0, STORM_ROUNDS));
	t0 = xvt_now_ns();
	for (r = 0; r < STORM_ROUNDS; r++) {
		w = r % STORM_WINDOWS;
		ro_win = w & 1;
		/* Once every page the loop uses is backed, count pages */
		if (r == 2 * STORM_WINDOWS)
			have_stats = xvt_stats_read(&before) == 0;
		if (!ro_win) {
			if (!check_mmio(_metadata, self->vcpu, gpa[w],
				GUEST_VAR(self->t, storm_table)[w],
				XVCPU_MMIO_READ, addr(code_storm_read)))
				break;
			complete_mmio(_metadata, self->vcpu, mmio_value(r),
				      addr(code_storm_read_end));
			sum += mmio_value(r);
			exits++;
		} else {
			sum += mmio_value(w);
		}
		if (!check_mmio(_metadata, self->vcpu, gpa[w],
				GUEST_VAR(self->t, storm_table)[w],
				XVCPU_MMIO_WRITE, addr(code_storm_write)))
			break;
		get_regs(_metadata, self->vcpu, &regs);
		EXPECT_EQ(r, regs.rcx);
		complete_mmio(_metadata, self->vcpu, ~0ULL,
			      addr(code_storm_write_end));
		exits++;
	}
	ASSERT_EQ(STORM_ROUNDS, r);
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	TH_LOG("%u MMIO exits in %llu ms", exits,
	       (unsigned long long)((xvt_now_ns() - t0) / 1000000));
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_EQ(sum, regs.r8);
	for (w = 1; w < STORM_WINDOWS; w += 2) {
		EXPECT_EQ(mmio_value(w), ro[w * 0x1008ULL / 8]);
	}
	if (have_stats) {
		ASSERT_EQ(0, xvt_stats_read(&after));
		EXPECT_EQ(before.pages, after.pages);
		EXPECT_EQ(before.vms, after.vms);
	}
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/* ---- CPU state the guest leaves behind ---- */

GUEST_ASM(
"code_triple_fault:\n"
"	ud2\n"
"	hlt\n");
extern char code_triple_fault[];

/*
 * Triple fault: SHUTDOWN, again on the next run; the vCPU is not stuck in
 * a shutdown state, code elsewhere runs without any reset.
 */
TEST_F(vm, triple_fault)
{
	struct xvcpu_exit_info info;
	int i;

	set_rip(_metadata, self->vcpu, addr(code_triple_fault));
	for (i = 0; i < 2; i++) {
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_SHUTDOWN);
		get_info(_metadata, self->vcpu, &info);
		EXPECT_EQ(EXIT_REASON_TRIPLE_FAULT, info.exit_reason);
	}
	set_rip(_metadata, self->vcpu, addr(code_hlt));
	expect_hlt(_metadata, self->vcpu, addr(code_hlt_end));
	assert_host_fine(_metadata, self->t, self->vcpu);
}

GUEST_ASM(
"code_cli_hlt:\n"
"	cli\n"
"	hlt\n"
"code_cli_hlt_1:\n"
"	hlt\n"
"code_cli_hlt_2:\n"
"	sti\n"
"	hlt\n"
"code_cli_hlt_3:\n"
"	cli\n"
"	hlt\n");
extern char code_cli_hlt[], code_cli_hlt_1[], code_cli_hlt_2[],
	code_cli_hlt_3[];

/*
 * HLT with interrupts off would stop a CPU for good; here it is a HLT
 * exit, and the guest carries on after it, also after STI; HLT (in the
 * STI shadow).
 */
TEST_F(vm, hlt_with_interrupts_off)
{
	struct xvcpu_exit_info info;
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_cli_hlt, 0, 0));
	expect_hlt(_metadata, self->vcpu, addr(code_cli_hlt_1));
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_FALSE(regs.rflags & RFLAGS_IF);
	get_info(_metadata, self->vcpu, &info);
	EXPECT_EQ(EXIT_REASON_HLT, info.exit_reason);
	expect_hlt(_metadata, self->vcpu, addr(code_cli_hlt_2));
	expect_hlt(_metadata, self->vcpu, addr(code_cli_hlt_3));
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_TRUE(regs.rflags & RFLAGS_IF);
	expect_hlt(_metadata, self->vcpu, addr(code_cli_hlt_3) + 2);
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/* MOV to CR0 changing NE only: the kernel keeps the guest's view. */
GUEST_ASM(
"code_cr0_ne:\n"
"	mov %cr0, %rax\n"
"	btr $5, %rax\n"
"	mov %rax, %cr0\n"
"	mov %cr0, %rbx\n"
"	bts $5, %rax\n"
"	mov %rax, %cr0\n"
"	mov %cr0, %rcx\n"
"	hlt\n");
extern char code_cr0_ne[];

TEST_F(vm, cr0_ne_change_handled_in_kernel)
{
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_cr0_ne, 0, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	get_regs(_metadata, self->vcpu, &regs);
	EXPECT_EQ(regs.rax & ~(1ULL << 5), regs.rbx);
	EXPECT_EQ(regs.rax, regs.rcx);
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_EQ(regs.rax, sregs.cr0);
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/*
 * The guest trashes its x87 and SSE control state and leaves an x87
 * exception pending; the host thread's own FPU state is untouched, and
 * the guest finds its state again after the exit.
 */
uint32_t fpu_seen[4];	/* MXCSR, FCW at entry; MXCSR, FCW after exit */
uint32_t fpu_bad_mxcsr = 0x603f;	/* flags set, unmasked, round to 0 */
uint16_t fpu_bad_fcw = 0x0c40;		/* unmasked, single precision */

GUEST_ASM(
"code_fpu:\n"
"	stmxcsr fpu_seen(%rip)\n"
"	fnstcw fpu_seen+4(%rip)\n"
"	ldmxcsr fpu_bad_mxcsr(%rip)\n"
"	fldcw fpu_bad_fcw(%rip)\n"
"	fldz\n"
"	fld1\n"
"	fdivp\n"			/* 1 / 0: #MF pending */
"	outb %al, $0x99\n"
"	stmxcsr fpu_seen+8(%rip)\n"
"	fnstcw fpu_seen+12(%rip)\n"
"	fnstsw %ax\n"
"	hlt\n");
extern char code_fpu[];

static uint32_t host_mxcsr(void)
{
	uint32_t v;

	asm volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void host_set_mxcsr(uint32_t v)
{
	asm volatile("ldmxcsr %0" : : "m"(v));
}

static uint16_t host_fcw(void)
{
	uint16_t v;

	asm volatile("fnstcw %0" : "=m"(v));
	return v;
}

static void host_set_fcw(uint16_t v)
{
	asm volatile("fldcw %0" : : "m"(v));
}

static uint16_t host_fsw(void)
{
	uint16_t v;

	asm volatile("fnstsw %0" : "=m"(v));
	return v;
}

TEST_F(vm, fpu_state_stays_with_the_guest)
{
	const uint32_t mxcsr = 0x3f80;		/* masked, round down */
	const uint16_t fcw = 0x027f;		/* double precision */
	uint32_t seen_mxcsr, seen_fsw;
	uint16_t seen_fcw;
	struct xvcpu_regs regs;
	int ret;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_fpu, 0, 0));
	host_set_mxcsr(mxcsr);
	host_set_fcw(fcw);
	ret = xvt_run(self->vcpu, NULL);
	seen_mxcsr = host_mxcsr();
	seen_fcw = host_fcw();
	seen_fsw = host_fsw();
	host_set_mxcsr(0x1f80);
	host_set_fcw(0x037f);

	ASSERT_EQ(UCALL_NONE, ret);
	ASSERT_EQ(XVCPU_EXIT_IO, self->run->exit_reason);
	EXPECT_EQ(REPORT_PORT, self->run->io.port);
	EXPECT_EQ(mxcsr, seen_mxcsr);
	EXPECT_EQ(fcw, seen_fcw);
	EXPECT_EQ(0, seen_fsw & 0x80) TH_LOG("host FSW %#x", seen_fsw);

	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	/* A new vCPU starts as after FNINIT, with the default MXCSR */
	EXPECT_EQ(0x1f80, GUEST_VAR(self->t, fpu_seen)[0]);
	EXPECT_EQ(0x037f, GUEST_VAR(self->t, fpu_seen)[1] & 0xffff);
	EXPECT_EQ(fpu_bad_mxcsr, GUEST_VAR(self->t, fpu_seen)[2]);
	EXPECT_EQ(fpu_bad_fcw, GUEST_VAR(self->t, fpu_seen)[3] & 0xffff);
	get_regs(_metadata, self->vcpu, &regs);
	/* The guest's x87 exception is still its own: FSW.ES */
	EXPECT_TRUE(regs.rax & 0x80) TH_LOG("guest FSW %#llx",
					    (unsigned long long)regs.rax);
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/*
 * SWAPGS puts the guest's GS base into IA32_KERNEL_GS_BASE, the MSR the
 * host uses for the user GS base while in the kernel: it must be the
 * host's again after the exit, and the guest's again on the next entry.
 */
GUEST_ASM(
"code_swapgs:\n"
"	swapgs\n"
"	outb %al, $0x99\n"
"	swapgs\n"
"	hlt\n");
extern char code_swapgs[];

#define GUEST_GS_BASE	0x123456789000ULL

static uint64_t host_gs_base(void)
{
	uint64_t v = 0;

	syscall(SYS_arch_prctl, 0x1004 /* ARCH_GET_GS */, &v);
	return v;
}

TEST_F(vm, swapgs_keeps_host_gs_base)
{
	uint64_t host_gs = host_gs_base();
	struct xvcpu_sregs sregs;

	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	sregs.gs.base = GUEST_GS_BASE;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_swapgs, 0, 0));

	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IO);
	EXPECT_EQ(host_gs, host_gs_base());
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_EQ(0, sregs.gs.base);

	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	EXPECT_EQ(host_gs, host_gs_base());
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_EQ(GUEST_GS_BASE, sregs.gs.base);
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/*
 * Task switches exit unconditionally (SDM Vol. 3C 26.1.2): a far JMP and a
 * far CALL to an available TSS in 32-bit protected mode.  Qualification
 * (Table 28-2): the selector, bits 31:30 the source (0 CALL, 2 JMP).
 */
static const uint8_t task_switch_code[] = {
	0xea, 0, 0, 0, 0, XVCPU_SETUP_SEL_TSS, 0,	/* ljmp $0x18, $0 */
	0xf4,						/* hlt */
	0x9a, 0, 0, 0, 0, XVCPU_SETUP_SEL_TSS, 0,	/* lcall $0x18, $0 */
	0xf4,						/* hlt */
};

TEST_F(vm, task_switch_in_protected_mode)
{
	const uint64_t entry = XVT_SCRATCH_GPA;
	static const struct {
		uint64_t offset;
		uint64_t qual;
	} cases[] = {
		{ 0, XVCPU_SETUP_SEL_TSS | (2ULL << 30) },
		{ 8, XVCPU_SETUP_SEL_TSS },
	};
	struct xvcpu_run *run = self->run;
	uint8_t *tss_access;
	unsigned int i;

	memcpy(xvt_hva(self->t, entry), task_switch_code,
	       sizeof(task_switch_code));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   entry, entry + 0x8000,
					   XVT_TABLES_GPA));
	/* Make the TSS in the GDT available (type 9), so no #GP comes first */
	tss_access = xvt_hva(self->t, XVT_TABLES_GPA +
			     XVCPU_SETUP_GDT_OFFSET + XVCPU_SETUP_SEL_TSS + 5);
	*tss_access = (*tss_access & 0xf0) | 0x9;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		set_rip(_metadata, self->vcpu, entry + cases[i].offset);
		ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_INTERNAL_ERROR);
		EXPECT_EQ(9, run->internal.data[0]);
		EXPECT_EQ(cases[i].qual, run->internal.data[1]);
		EXPECT_EQ(7, run->internal.data[6]);
		EXPECT_EQ(entry + cases[i].offset, run->internal.data[7]);
		set_rip(_metadata, self->vcpu, entry + cases[i].offset + 7);
		expect_hlt(_metadata, self->vcpu, entry + cases[i].offset + 8);
	}
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/*
 * RIP 0x800000000000 passes the entry check (bits 63:48 equal, SDM 27.3.1.4)
 * but cannot be fetched: #GP, and with no IDT a triple fault.
 */
TEST_F(vm, noncanonical_rip_faults)
{
	struct xvcpu_regs regs;

	get_regs(_metadata, self->vcpu, &regs);
	regs.rip = NONCANONICAL;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_SHUTDOWN);
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/*
 * What SET_REGS and SET_SREGS refuse (EINVAL) leaves the vCPU as it was:
 * RFLAGS with bit 1 clear or a reserved bit set; CR4.VMXE, unknown CR0 or
 * EFER bits, non-zero reserved or padding fields.
 */
TEST_F(vm, refused_state_changes_nothing)
{
	static const uint64_t bad_rflags[] = {
		0, 0x2 | (1ULL << 3), 0x2 | (1ULL << 5), 0x2 | (1ULL << 15),
		0x2 | (1ULL << 22), 0x2 | (1ULL << 32), ~0ULL,
	};
	struct xvcpu_regs regs0, regs, now;
	struct xvcpu_sregs sregs0, sregs, snow;
	int fd = self->vcpu->fd;
	unsigned int i;

	set_rip(_metadata, self->vcpu, addr(code_hlt));
	get_regs(_metadata, self->vcpu, &regs0);
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs0));

	for (i = 0; i < ARRAY_SIZE(bad_rflags); i++) {
		regs = regs0;
		regs.rflags = bad_rflags[i];
		regs.rip = 0xdead;
		regs.rax = 0xdead;
		ASSERT_ERRNO(EINVAL, ioctl(fd, XVCPU_SET_REGS, &regs));
	}
	get_regs(_metadata, self->vcpu, &now);
	EXPECT_EQ(0, memcmp(&regs0, &now, sizeof(now)));

	for (i = 0; i < 7; i++) {
		sregs = sregs0;
		switch (i) {
		case 0:
			sregs.cr4 |= CR4_VMXE;
			break;
		case 1:
			sregs.cr0 |= 1ULL << 6;		/* unknown CR0 bit */
			break;
		case 2:
			sregs.cr0 |= 1ULL << 32;
			break;
		case 3:
			sregs.efer |= 1ULL << 12;	/* unknown EFER bit */
			break;
		case 4:
			sregs.reserved[3] = 1;
			break;
		case 5:
			sregs.tr.pad = 1;
			break;
		case 6:
			sregs.idt.pad[2] = 1;
			break;
		}
		sregs.cr3 = 0xdead000;
		TH_LOG("SET_SREGS refusal %u", i);
		ASSERT_ERRNO(EINVAL, ioctl(fd, XVCPU_SET_SREGS, &sregs));
	}
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &snow));
	EXPECT_EQ(0, memcmp(&sregs0, &snow, sizeof(snow)));

	expect_hlt(_metadata, self->vcpu, addr(code_hlt_end));
	assert_host_fine(_metadata, self->t, self->vcpu);
}

/* ---- Hidden state an exit leaves behind ---- */

/*
 * An exit right after STI or MOV SS leaves "blocking by STI" or "by MOV
 * SS" in the guest's interruptibility state, which userspace can neither
 * see nor set.  Completing the access as a VMM does (moving RIP) works;
 * and after userspace resets the vCPU (RFLAGS.IF = 0, RIP elsewhere) it
 * must run too, although VM entry refuses blocking by STI with IF = 0
 * (SDM 27.3.1.5).
 */
FIXTURE(shadow) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct xvcpu_run *run;
};

FIXTURE_VARIANT(shadow) {
	const char *entry, *at;		/* at: MOV from unbacked memory */
};

FIXTURE_SETUP(shadow)
{
	TEST_VM_SETUP();
}

FIXTURE_TEARDOWN(shadow)
{
	xvt_vm_destroy(self->t);
}

GUEST_ASM(
"code_shadow_sti:\n"
"	sti\n"
"code_shadow_sti_at:\n"
"	mov (%rdi), %rax\n"
"	hlt\n"
"code_shadow_mov_ss:\n"
"	mov %ss, %ebx\n"
"	mov %ebx, %ss\n"
"code_shadow_mov_ss_at:\n"
"	mov (%rdi), %rax\n"
"	hlt\n");
extern char code_shadow_sti[], code_shadow_sti_at[], code_shadow_mov_ss[],
	code_shadow_mov_ss_at[];

FIXTURE_VARIANT_ADD(shadow, sti) {
	.entry = code_shadow_sti, .at = code_shadow_sti_at,
};

FIXTURE_VARIANT_ADD(shadow, mov_ss) {
	.entry = code_shadow_mov_ss, .at = code_shadow_mov_ss_at,
};

TEST_F(shadow, reset_after_exit)
{
	const uint64_t gpa = XVT_UNMAPPED_GPA + 0x40;
	uint64_t at = addr(variant->at);

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, variant->entry, gpa, 0));
	if (!check_mmio(_metadata, self->vcpu, gpa, gpa, XVCPU_MMIO_READ, at))
		return;
	complete_mmio(_metadata, self->vcpu, 7, at + 3);
	expect_hlt(_metadata, self->vcpu, at + 4);

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, variant->entry, gpa, 0));
	if (!check_mmio(_metadata, self->vcpu, gpa, gpa, XVCPU_MMIO_READ, at))
		return;
	assert_host_fine(_metadata, self->t, self->vcpu);
}


/*
 * The CR0 the kernel compares a MOV to CR0 with: a 32-bit guest turns
 * paging on by itself (CR0.PG is the guest's: no exit), then clears
 * CR0.NE, which exits.  Paging does not change in that second MOV, so the
 * kernel handles it like any NE change and the guest goes on to HLT.
 */
FIXTURE(cr0_write) {
	struct xvt_vm *t;
	struct xvcpu_vcpu *vcpu;
	struct xvcpu_run *run;
};

FIXTURE_VARIANT(cr0_write) {
	const uint8_t *code;
	size_t size;
};

FIXTURE_SETUP(cr0_write)
{
	TEST_VM_SETUP();
}

FIXTURE_TEARDOWN(cr0_write)
{
	xvt_vm_destroy(self->t);
}

#define PAGING_PD_GPA	(XVT_SCRATCH_GPA + 0x1000)

static const uint8_t paging_on_then_ne[] = {
	0x0f, 0x20, 0xe0,			/* mov eax, cr4 */
	0x83, 0xc8, 0x10,			/* or eax, CR4.PSE */
	0x0f, 0x22, 0xe0,			/* mov cr4, eax */
	0xb8, PAGING_PD_GPA & 0xff, (PAGING_PD_GPA >> 8) & 0xff,
	(PAGING_PD_GPA >> 16) & 0xff, 0,	/* mov eax, PAGING_PD_GPA */
	0x0f, 0x22, 0xd8,			/* mov cr3, eax */
	0x0f, 0x20, 0xc0,			/* mov eax, cr0 */
	0x0d, 0x00, 0x00, 0x00, 0x80,		/* or eax, CR0.PG */
	0x0f, 0x22, 0xc0,			/* mov cr0, eax: no exit */
	0x83, 0xe0, 0xdf,			/* and eax, ~CR0.NE */
	0x0f, 0x22, 0xc0,			/* mov cr0, eax: exits */
	0xf4,					/* hlt */
};

FIXTURE_VARIANT_ADD(cr0_write, ne_after_guest_paging_on) {
	.code = paging_on_then_ne, .size = sizeof(paging_on_then_ne),
};

TEST_F(cr0_write, handled_in_kernel)
{
	const uint64_t entry = XVT_SCRATCH_GPA;
	uint32_t *pd = xvt_hva(self->t, PAGING_PD_GPA);
	struct xvcpu_sregs sregs;
	char buf[512];
	unsigned int i;
	int ret;

	/* 4 MiB pages mapping the first 4 GiB onto themselves */
	for (i = 0; i < 1024; i++)
		pd[i] = (i << 22) | 0x83;
	memcpy(xvt_hva(self->t, entry), variant->code, variant->size);
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   entry, entry + 0x8000,
					   XVT_TABLES_GPA));
	ret = xvt_run(self->vcpu, NULL);
	ASSERT_EQ(UCALL_NONE, ret);
	ASSERT_EQ(XVCPU_EXIT_HLT, self->run->exit_reason)
		TH_LOG("%s", xvt_exit_str(self->vcpu, buf, sizeof(buf)));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_TRUE(sregs.cr0 & CR0_PG);
	EXPECT_FALSE(sregs.cr0 & (1ULL << 5));
	assert_host_fine(_metadata, self->t, self->vcpu);
}


/* ---- Last: the module holds nothing more than when we started ---- */

static struct xvt_stats baseline;
static int baseline_err = -ENOENT;

/*
 * Counters before any test; objects of an earlier program may still be
 * on their way out, so wait until two readings agree.
 */
static void __attribute__((constructor)) read_baseline(void)
{
	const struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };
	struct xvt_stats again;
	int i;

	baseline_err = xvt_stats_read(&baseline);
	for (i = 0; i < 40 && !baseline_err; i++) {
		nanosleep(&pause, NULL);
		if (xvt_stats_read(&again))
			break;
		if (!memcmp(&again, &baseline, sizeof(again)))
			return;
		baseline = again;
	}
}

FIXTURE(host) {
};

FIXTURE_SETUP(host)
{
	XVT_REQUIRE_DEV();
}

FIXTURE_TEARDOWN(host)
{
}

TEST_F(host, back_to_baseline)
{
	struct xvt_stats now;
	struct xvt_vm *t;
	int ret;

	if (baseline_err == -ENOENT)
		SKIP(return, "no " XVT_STATS_PATH);
	ASSERT_EQ(0, baseline_err);
	ret = xvt_stats_wait(&baseline, &now);
	ASSERT_EQ(0, ret) TH_LOG("vms %ld vcpus %ld pages %ld, expected %ld %ld %ld",
		now.vms, now.vcpus, now.pages, baseline.vms,
		baseline.vcpus, baseline.pages);

	/* And a new VM still works */
	t = xvt_vm_create(1);
	ASSERT_NE(NULL, t);
	assert_host_fine(_metadata, t, t->vcpus[0]);
	xvt_vm_destroy(t);
	ASSERT_EQ(0, xvt_stats_wait(&baseline, &now));
}

TEST_HARNESS_MAIN
