// SPDX-License-Identifier: GPL-2.0
/*
 * XVCPU_GET/SET_REGS and XVCPU_GET/SET_SREGS: round trips, what the guest
 * sees, what the host sees of the guest's changes, argument checks.
 */
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"
#include "idt.h"

#define RFLAGS_FIXED	0x2ULL
/* CF PF AF ZF SF OF: harmless to set, easy to see. */
#define RFLAGS_TEST	(RFLAGS_FIXED | 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x800)

/* What the guest saw, filled in by code_dump_regs (guest copy). */
static uint64_t seen_gprs[18];

/*
 * Store every GPR, then RFLAGS, into seen_gprs (in struct xvcpu_regs
 * order: rax rbx rcx rdx rsi rdi rsp rbp r8..r15), then HLT.
 */
GUEST_ASM(
"code_dump_regs:\n"
"	mov %rax, seen_gprs + 0(%rip)\n"
"	mov %rbx, seen_gprs + 8(%rip)\n"
"	mov %rcx, seen_gprs + 16(%rip)\n"
"	mov %rdx, seen_gprs + 24(%rip)\n"
"	mov %rsi, seen_gprs + 32(%rip)\n"
"	mov %rdi, seen_gprs + 40(%rip)\n"
"	mov %rsp, seen_gprs + 48(%rip)\n"
"	mov %rbp, seen_gprs + 56(%rip)\n"
"	mov %r8, seen_gprs + 64(%rip)\n"
"	mov %r9, seen_gprs + 72(%rip)\n"
"	mov %r10, seen_gprs + 80(%rip)\n"
"	mov %r11, seen_gprs + 88(%rip)\n"
"	mov %r12, seen_gprs + 96(%rip)\n"
"	mov %r13, seen_gprs + 104(%rip)\n"
"	mov %r14, seen_gprs + 112(%rip)\n"
"	mov %r15, seen_gprs + 120(%rip)\n"
"	pushfq\n"
"	popq seen_gprs + 136(%rip)\n"
"code_dump_regs_hlt:\n"
"	hlt\n"
"code_dump_regs_end:\n"
"	hlt\n");
extern char code_dump_regs[], code_dump_regs_hlt[], code_dump_regs_end[];

/* The guest sets registers the host then reads. */
GUEST_ASM(
"code_set_regs:\n"
"	movabs $0x0102030405060708, %rax\n"
"	movabs $0x1112131415161718, %rbx\n"
"	movabs $0x2122232425262728, %r9\n"
"	movabs $0x3132333435363738, %r15\n"
"	movabs $0x0000123456789000, %rcx\n"
"	mov %rcx, %cr2\n"
"	stc\n"
"	hlt\n"
"code_set_regs_end:\n");
extern char code_set_regs[], code_set_regs_end[];

/* What the guest saw of the control registers and segment bases. */
static struct {
	uint64_t cr0, cr2, cr3, cr4;
	uint64_t fs0, gs8;
} seen_sregs;

static uint64_t fs_area[2] = { 0xf5f5f5f5f5f5f5f5ULL, 1 };
static uint64_t gs_area[2] = { 2, 0x6565656565656565ULL };

static void __guest guest_read_sregs(void)
{
	uint64_t v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	WRITE_ONCE(seen_sregs.cr0, v);
	asm volatile("mov %%cr2, %0" : "=r"(v));
	WRITE_ONCE(seen_sregs.cr2, v);
	asm volatile("mov %%cr3, %0" : "=r"(v));
	WRITE_ONCE(seen_sregs.cr3, v);
	asm volatile("mov %%cr4, %0" : "=r"(v));
	WRITE_ONCE(seen_sregs.cr4, v);
	asm volatile("mov %%fs:0, %0" : "=r"(v));
	WRITE_ONCE(seen_sregs.fs0, v);
	asm volatile("mov %%gs:8, %0" : "=r"(v));
	WRITE_ONCE(seen_sregs.gs8, v);
	GUEST_DONE();
}

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

static void fill_regs(struct xvcpu_regs *r, uint64_t rip, uint64_t rsp)
{
	uint64_t *p = (uint64_t *)r;
	unsigned int i;

	/* Distinct values in every GPR (rsp and rip set below). */
	for (i = 0; i < offsetof(struct xvcpu_regs, rip) / 8; i++)
		p[i] = 0x0101010101010101ULL * (i + 1) ^ 0x8000000000000000ULL;
	r->rsp = rsp;
	r->rip = rip;
	r->rflags = RFLAGS_TEST;
}

#define EXPECT_REG_EQ(want, got, reg) \
	EXPECT_EQ((want)->reg, (got)->reg) TH_LOG("register " #reg)

static void expect_regs_equal(struct __test_metadata *_metadata,
			      const struct xvcpu_regs *want,
			      const struct xvcpu_regs *got)
{
	EXPECT_REG_EQ(want, got, rax);
	EXPECT_REG_EQ(want, got, rbx);
	EXPECT_REG_EQ(want, got, rcx);
	EXPECT_REG_EQ(want, got, rdx);
	EXPECT_REG_EQ(want, got, rsi);
	EXPECT_REG_EQ(want, got, rdi);
	EXPECT_REG_EQ(want, got, rsp);
	EXPECT_REG_EQ(want, got, rbp);
	EXPECT_REG_EQ(want, got, r8);
	EXPECT_REG_EQ(want, got, r9);
	EXPECT_REG_EQ(want, got, r10);
	EXPECT_REG_EQ(want, got, r11);
	EXPECT_REG_EQ(want, got, r12);
	EXPECT_REG_EQ(want, got, r13);
	EXPECT_REG_EQ(want, got, r14);
	EXPECT_REG_EQ(want, got, r15);
	EXPECT_REG_EQ(want, got, rip);
	EXPECT_REG_EQ(want, got, rflags);
}

TEST_F(vm, regs_round_trip)
{
	struct xvcpu_regs set, got;

	fill_regs(&set, addr(code_dump_regs), XVT_STACK_TOP - 64);
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &set));
	memset(&got, 0, sizeof(got));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &got));
	expect_regs_equal(_metadata, &set, &got);
}

TEST_F(vm, guest_sees_regs)
{
	struct xvcpu_regs set, got;
	uint64_t *seen;
	unsigned int i;

	fill_regs(&set, addr(code_dump_regs), XVT_STACK_TOP - 64);
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &set));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);

	seen = GUEST_VAR(self->t, seen_gprs);
	for (i = 0; i < 16; i++) {
		EXPECT_EQ(((uint64_t *)&set)[i], seen[i]) TH_LOG("GPR %u", i);
	}
	EXPECT_EQ(RFLAGS_TEST, seen[17]);

	/* The registers are as the guest left them. */
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &got));
	set.rip = addr(code_dump_regs_end);
	expect_regs_equal(_metadata, &set, &got);
}

TEST_F(vm, host_sees_guest_changes)
{
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, code_set_regs, 0, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_HLT);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(0x0102030405060708ULL, regs.rax);
	EXPECT_EQ(0x1112131415161718ULL, regs.rbx);
	EXPECT_EQ(0x2122232425262728ULL, regs.r9);
	EXPECT_EQ(0x3132333435363738ULL, regs.r15);
	EXPECT_EQ(addr(code_set_regs_end), regs.rip);
	EXPECT_EQ(1, regs.rflags & 1);	/* CF from STC */

	/* CR2 is not in the VMCS: it must be saved by hand on exit. */
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_EQ(0x0000123456789000ULL, sregs.cr2);
}

TEST_F(vm, sregs_round_trip)
{
	struct xvcpu_sregs first, again;

	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &first));
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &first));
	memset(&again, 0x5a, sizeof(again));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &again));
	EXPECT_EQ(0, memcmp(&first, &again, sizeof(first)));

	/* Changed fields read back changed. */
	first.cr2 = 0x7654321000ULL;
	first.fs.base = 0x123456789000ULL;
	first.gs.base = 0xffff800012345000ULL;
	first.idt.base = 0x3000;
	first.idt.limit = 0xfff;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &first));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &again));
	EXPECT_EQ(first.cr2, again.cr2);
	EXPECT_EQ(first.fs.base, again.fs.base);
	EXPECT_EQ(first.gs.base, again.gs.base);
	EXPECT_EQ(first.idt.base, again.idt.base);
	EXPECT_EQ(first.idt.limit, again.idt.limit);
	EXPECT_EQ(0, memcmp(&first, &again, sizeof(first)));
}

TEST_F(vm, guest_sees_sregs)
{
	struct xvcpu_sregs sregs, after;

	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	sregs.cr2 = 0xabcdef0123ULL;
	sregs.fs.base = addr(fs_area);
	sregs.gs.base = addr(gs_area);
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_read_sregs, 0, 0));
	ASSERT_RUN_UCALL(self->vcpu, NULL, UCALL_DONE);

	EXPECT_EQ(sregs.cr0, GUEST_VAR(self->t, seen_sregs).cr0);
	EXPECT_EQ(sregs.cr2, GUEST_VAR(self->t, seen_sregs).cr2);
	EXPECT_EQ(sregs.cr3, GUEST_VAR(self->t, seen_sregs).cr3);
	EXPECT_EQ(sregs.cr4, GUEST_VAR(self->t, seen_sregs).cr4);
	EXPECT_EQ(fs_area[0], GUEST_VAR(self->t, seen_sregs).fs0);
	EXPECT_EQ(gs_area[1], GUEST_VAR(self->t, seen_sregs).gs8);

	/* Nothing the guest did changed them. */
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &after));
	EXPECT_EQ(sregs.cr0, after.cr0);
	EXPECT_EQ(sregs.cr2, after.cr2);
	EXPECT_EQ(sregs.cr3, after.cr3);
	EXPECT_EQ(sregs.cr4, after.cr4);
	EXPECT_EQ(sregs.efer, after.efer);
	EXPECT_EQ(sregs.fs.base, after.fs.base);
	EXPECT_EQ(sregs.gs.base, after.gs.base);
}

/* Read the byte at @p for the host, again and again. */
void __guest guest_read_byte(uint64_t p)
{
	for (;;)
		GUEST_SYNC(*(volatile uint8_t *)p);
}

/*
 * SET_SREGS gives the guest a fresh TLB: a mapping the VMM changed in
 * the guest's page tables is seen after it, whatever the guest had cached
 * (with VPID, translations outlive VM entries: SDM Vol. 3C 29.4.3.1).
 */
TEST_F(vm, set_sregs_drops_cached_translations)
{
	const uint64_t la = XVT_FREE_GPA, other = XVT_FREE_GPA + 0x200000;
	struct xvcpu_sregs sregs;
	struct ucall uc;
	uint8_t *mem;

	mem = xvcpu_vm_add_memory(self->t->vm, 1, XVT_FREE_GPA, 0x400000, 0);
	ASSERT_NE(NULL, mem);
	mem[0] = 0xaa;
	mem[0x200000] = 0xbb;
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_read_byte, la, 0));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	ASSERT_EQ(0xaa, uc.args[0]);

	/* The guest may still use its cached translation of la ... */
	ASSERT_EQ(0, xvt_map_2m(self->t, la, other));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	TH_LOG("before SET_SREGS the guest read %#llx (%s translation)",
	       (unsigned long long)uc.args[0],
	       uc.args[0] == 0xaa ? "its cached" : "a new");
	/* ... but not after SET_SREGS */
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(0xbb, uc.args[0]);
}

/* Each reserved or pad field of struct xvcpu_sregs, as a byte offset. */
static const struct {
	const char *name;
	size_t offset;
} sregs_reserved[] = {
	{ "reserved[0]", offsetof(struct xvcpu_sregs, reserved[0]) },
	{ "reserved[3]", offsetof(struct xvcpu_sregs, reserved[3]) },
	{ "cs.pad", offsetof(struct xvcpu_sregs, cs.pad) },
	{ "ss.pad", offsetof(struct xvcpu_sregs, ss.pad) },
	{ "ldt.pad", offsetof(struct xvcpu_sregs, ldt.pad) },
	{ "gdt.pad[0]", offsetof(struct xvcpu_sregs, gdt.pad[0]) },
	{ "idt.pad[2]", offsetof(struct xvcpu_sregs, idt.pad[2]) },
};

TEST_F(vm, sregs_reserved_einval)
{
	struct xvcpu_sregs good, bad, after;
	unsigned int i;

	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &good));
	for (i = 0; i < ARRAY_SIZE(sregs_reserved);
	     i++) {
		bad = good;
		/* Also change a real field: a refused call applies nothing. */
		bad.cr2 = good.cr2 + 0x1000;
		((uint8_t *)&bad)[sregs_reserved[i].offset] = 1;
		TH_LOG("%s = 1", sregs_reserved[i].name);
		ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_SET_SREGS,
					   &bad));
		ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &after));
		EXPECT_EQ(0, memcmp(&good, &after, sizeof(good)));
	}
}

TEST_F(vm, bad_pointers_efault)
{
	const unsigned long vcpu_ioctls[] = {
		XVCPU_GET_REGS, XVCPU_SET_REGS, XVCPU_GET_SREGS,
		XVCPU_SET_SREGS, XVCPU_GET_EXIT_INFO,
	};
	void *unmapped, *ro;
	unsigned int i;

	/* A page that was mapped and no longer is. */
	unmapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	ASSERT_EQ(0, munmap(unmapped, 4096));

	for (i = 0; i < ARRAY_SIZE(vcpu_ioctls); i++) {
		TH_LOG("ioctl %#lx", vcpu_ioctls[i]);
		ASSERT_ERRNO(EFAULT, ioctl(self->vcpu->fd, vcpu_ioctls[i],
					   NULL));
		ASSERT_ERRNO(EFAULT, ioctl(self->vcpu->fd, vcpu_ioctls[i],
					   unmapped));
	}
	ASSERT_ERRNO(EFAULT, ioctl(self->t->vm->fd, XVCPU_SET_MEMORY_REGION,
				   NULL));
	ASSERT_ERRNO(EFAULT, ioctl(self->t->vm->fd, XVCPU_SET_MEMORY_REGION,
				   unmapped));

	/* A read-only buffer cannot receive GET_REGS. */
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_ERRNO(EFAULT, ioctl(self->vcpu->fd, XVCPU_GET_REGS, ro));
	ASSERT_ERRNO(EFAULT, ioctl(self->vcpu->fd, XVCPU_GET_SREGS, ro));
	munmap(ro, 4096);
}

/* ---- Who owns CR0 and CR4 bits ---- */

#define CR0_CD		(1ULL << 30)
#define CR4_PCIDE	(1ULL << 17)
#define CR4_PKE		(1ULL << 22)
#define CR4_CET		(1ULL << 23)
#define LEAF1_ECX_PCID	(1U << 17)
#define LEAF7_ECX_PKU	(1U << 3)
#define LEAF7_ECX_OSPKE	(1U << 4)

/*
 * MOV to CR4 setting @bits; a #GP resumes after the MOV (the recording
 * IDT).  Syncs with what CR4 then reads.
 */
static void __guest guest_set_cr4(uint64_t bits)
{
	uint64_t cr4;

	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	asm volatile("lea 1f(%%rip), %%rax\n\t"
		     "mov %%rax, %0\n\t"
		     "mov %1, %%cr4\n"
		     "1:"
		     : "=m"(xvt_idt_resume) : "r"(cr4 | bits) : "rax", "memory");
	WRITE_ONCE(xvt_idt_resume, 0);
	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	GUEST_SYNC(cr4);
}

/*
 * Run guest_set_cr4(@bit): *@took says whether the MOV took effect; if
 * not, the guest must have taken exactly one #GP.
 */
static void try_cr4_in_guest(struct __test_metadata *_metadata,
			  FIXTURE_DATA(vm) *self, uint64_t bit, bool *took)
{
	uint32_t before = xvt_idt_total(self->t);
	struct ucall uc;

	*took = false;
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_set_cr4, bit, 0));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	*took = uc.args[0] & bit;
	if (*took) {
		EXPECT_EQ(before, xvt_idt_total(self->t));
	} else {
		ASSERT_EQ(before + 1, xvt_idt_total(self->t));
		EXPECT_EQ(13, xvt_idt_event(self->t, before)->vector);
	}
}

/* The host kernel has PKU on (it needs XSAVE on too) */
static bool host_has_pku(void)
{
	return xvt_cpuinfo_flag("flags", "pku") == 1 &&
	       xvt_cpuinfo_flag("flags", "ospke") == 1 &&
	       xvt_cpuinfo_flag("flags", "xsave") == 1;
}

/*
 * CR4 bits follow the vCPU's CPUID table: CET never (xvcpu does not switch
 * CET state), PKE only with PKU in the table on a host that switches PKRU
 * (guest_pkru_is_its_own), PCIDE once the table has PCID.  Both for the
 * guest's MOV to CR4 (#GP) and for SET_SREGS (EINVAL).  On a CPU that has
 * PKU and CET (the tigerlake test machine) VMX lets a guest own those
 * bits: only xvcpu's guest/host mask keeps them from it.
 */
TEST_F(vm, cr4_bits_follow_cpuid)
{
	static struct xvcpu_cpuid cpuid;
	struct xvcpu_cpuid_entry *leaf1, *leaf7;
	struct xvcpu_sregs sregs, bad;
	int pcid = xvt_cpuinfo_flag("flags", "pcid");
	int pku = host_has_pku();
	bool took;

	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	TH_LOG("host: pku %d, ospke %d, cet (ibt) %d, pcid %d",
	       xvt_cpuinfo_flag("flags", "pku"),
	       xvt_cpuinfo_flag("flags", "ospke"),
	       xvt_cpuinfo_flag("flags", "ibt"), pcid);
	/* A table without PKU */
	ASSERT_EQ(0, xvcpu_get_cpuid(self->vcpu, &cpuid));
	leaf7 = xvcpu_cpuid_entry(&cpuid, 7, 0);
	ASSERT_NE(NULL, leaf7);
	EXPECT_EQ(pku, !!(leaf7->ecx & LEAF7_ECX_PKU))
		TH_LOG("the supported table has PKU where the host has it on");
	leaf7->ecx &= ~LEAF7_ECX_PKU;
	ASSERT_EQ(0, xvcpu_set_cpuid(self->vcpu, &cpuid));

	try_cr4_in_guest(_metadata, self, CR4_PKE, &took);
	EXPECT_FALSE(took);
	try_cr4_in_guest(_metadata, self, CR4_CET, &took);
	EXPECT_FALSE(took);
	/* The supported table hides PCID */
	try_cr4_in_guest(_metadata, self, CR4_PCIDE, &took);
	EXPECT_FALSE(took);

	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_EQ(0, sregs.cr4 & (CR4_PKE | CR4_CET | CR4_PCIDE));
	bad = sregs;
	bad.cr4 |= CR4_PKE;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_SET_SREGS, &bad));
	bad.cr4 = sregs.cr4 | CR4_CET;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_SET_SREGS, &bad));
	bad.cr4 = sregs.cr4 | CR4_PCIDE;
	ASSERT_ERRNO(EINVAL, ioctl(self->vcpu->fd, XVCPU_SET_SREGS, &bad));

	/* A table with PCID: the bit is the guest's (where the CPU has it) */
	ASSERT_EQ(1, pcid) TH_LOG("every test machine has PCID");
	leaf1 = xvcpu_cpuid_entry(&cpuid, 1, 0);
	ASSERT_NE(NULL, leaf1);
	leaf1->ecx |= LEAF1_ECX_PCID;
	ASSERT_EQ(0, xvcpu_set_cpuid(self->vcpu, &cpuid));
	EXPECT_EQ(0, ioctl(self->vcpu->fd, XVCPU_SET_SREGS, &bad));
	EXPECT_EQ(0, ioctl(self->vcpu->fd, XVCPU_SET_SREGS, &sregs));
	try_cr4_in_guest(_metadata, self, CR4_PCIDE, &took);
	EXPECT_TRUE(took);
	/* PKU in the table: PKE is the guest's only where the host has PKU */
	xvcpu_cpuid_entry(&cpuid, 7, 0)->ecx |= LEAF7_ECX_PKU;
	ASSERT_EQ(0, xvcpu_set_cpuid(self->vcpu, &cpuid));
	try_cr4_in_guest(_metadata, self, CR4_PKE, &took);
	EXPECT_EQ(pku, took);
}

static uint32_t host_rdpkru(void)
{
	uint32_t eax, edx;

	asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

/*
 * CR4.PKE on and WRPKRU(@pkru); after an exit to the VMM, the PKRU the
 * guest reads back and its CPUID.7.0:ECX (OSPKE now set).
 */
static void __guest guest_pkru(uint64_t pkru)
{
	uint32_t back, eax = 7, ebx, ecx = 0, edx;
	uint64_t cr4;

	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	asm volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PKE) : "memory");
	asm volatile(".byte 0x0f, 0x01, 0xef"	/* WRPKRU */
		     : : "a"((uint32_t)pkru), "c"(0), "d"(0) : "memory");
	GUEST_SYNC(0);
	asm volatile(".byte 0x0f, 0x01, 0xee"	/* RDPKRU */
		     : "=a"(back), "=d"(edx) : "c"(0));
	asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	GUEST_SYNC2(back, ecx);
}

/*
 * PKRU is switched around guest execution (issue: a guest's WRPKRU must
 * never change the VMM's protection keys): with PKU in its CPUID table a
 * guest owns CR4.PKE and its own PKRU, which survives exits to the VMM,
 * while the VMM thread reads its own PKRU unchanged after every RUN.
 */
TEST_F(vm, guest_pkru_is_its_own)
{
	uint32_t host, guest;
	struct ucall uc;

	if (!host_has_pku())
		SKIP(return, "host kernel without PKU and XSAVE on (no emulated CPU has both)");
	host = host_rdpkru();
	/* Write-disable key 1 on top of the VMM's value: key 0 stays open */
	guest = host ^ (1U << 3);
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_pkru, guest, 0));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(host, host_rdpkru());
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_EQ(guest, (uint32_t)uc.args[0]);
	EXPECT_EQ(LEAF7_ECX_PKU | LEAF7_ECX_OSPKE,
		  uc.args[1] & (LEAF7_ECX_PKU | LEAF7_ECX_OSPKE));
	EXPECT_EQ(host, host_rdpkru());
}

/* MOV to CR0 setting and clearing CD, CR0 read back each time */
static void __guest guest_toggle_cd(void)
{
	uint64_t cr0;

	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	asm volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_CD) : "memory");
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	GUEST_SYNC(cr0);
	asm volatile("mov %0, %%cr0" : : "r"(cr0 & ~CR0_CD) : "memory");
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	GUEST_SYNC(cr0);
}

/*
 * CR0.CD is host-owned (it never reaches the processor's CR0): the
 * guest and the VMM still see the guest's own value at every step.
 */
TEST_F(vm, cr0_cd_is_the_guests_view)
{
	struct xvcpu_sregs sregs;
	struct ucall uc;

	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_toggle_cd, 0, 0));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_TRUE(uc.args[0] & CR0_CD);
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_TRUE(sregs.cr0 & CR0_CD);
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_FALSE(uc.args[0] & CR0_CD);
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	EXPECT_FALSE(sregs.cr0 & CR0_CD);
	/* And from the VMM's side: SET_SREGS with CD, the guest reads it */
	sregs.cr0 |= CR0_CD;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_toggle_cd, 0, 0));
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_SYNC);
	EXPECT_TRUE(uc.args[0] & CR0_CD);
}

TEST_HARNESS_MAIN
