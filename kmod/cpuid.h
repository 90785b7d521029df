/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPUID tables: the supported table built from the host's CPUID, the
 * checks on a table from userspace, and what CPUID returns from a table.
 * Pure logic, shared by cpuid.c and the host-side unit tests.
 */
#ifndef XVCPU_CPUID_H
#define XVCPU_CPUID_H

#include "types.h"
#include "../uapi/xvcpu.h"

#ifndef __KERNEL__
#define BIT(n) (1UL << (n))
#endif

#define CPUID_HYPERVISOR_BASE	0x40000000u
#define CPUID_HYPERVISOR_END	0x4fffffffu
#define CPUID_EXT_BASE		0x80000000u

/* XCR0 bits (SDM Vol. 1 13.1): x87, SSE, AVX, AVX-512 (3 components) */
#define CPUID_XFEATURE_X87	BIT_ULL(0)
#define CPUID_XFEATURE_SSE	BIT_ULL(1)
#define CPUID_XFEATURE_YMM	BIT_ULL(2)
#define CPUID_XFEATURE_AVX512	(BIT_ULL(5) | BIT_ULL(6) | BIT_ULL(7))
#define CPUID_XFEATURE_PKRU	BIT_ULL(9)

/* Legacy region and XSAVE header: where state component 2 may start */
#define CPUID_XSAVE_BASE_SIZE	576

/* The host's XSAVE layout for the state components guests may use. */
struct cpuid_xsave_layout {
	u64 xcr0;		/* components guests may enable */
	u32 size[64];		/* CPUID.(0xD,i).EAX */
	u32 offset[64];		/* CPUID.(0xD,i).EBX: standard format */
	u64 align64;		/* CPUID.(0xD,i).ECX[1]: compacted alignment */
};

/* The vCPU state CPUID reports besides its table (SDM Vol. 2A, CPUID). */
struct cpuid_dynamic {
	u32 apic_id;		/* 1:EBX[31:24], 0xB and 0x1F EDX */
	bool osxsave;		/* CR4.OSXSAVE, 1:ECX[27] */
	bool ospke;		/* CR4.PKE, 7.0:ECX[4] */
	u64 xcr0;		/* 0xD.0 EBX and 0xD.1 EBX: sizes for it */
};

/* A CPUID of the host: @regs = EAX, EBX, ECX, EDX of (@function, @index). */
typedef void (*cpuid_host_fn)(u32 function, u32 index, u32 *regs);

/* Read the layout of the components in @xcr0 (x87 and SSE need none). */
void cpuid_xsave_layout_init(struct cpuid_xsave_layout *xs,
			     cpuid_host_fn host, u64 xcr0);

/*
 * Bytes of an XSAVE area holding the components of @xfeatures that @xs
 * knows, in the standard format or (@compacted) the compacted one (SDM
 * Vol. 1 13.4.3).
 */
u32 cpuid_xsave_size(const struct cpuid_xsave_layout *xs, u64 xfeatures,
		     bool compacted);

/*
 * The table a new vCPU gets: the host's leaves, less what xvcpu does not
 * virtualize.  Fills at most @max entries of @e and returns how many
 * entries the table has (more than @max if they did not all fit).
 */
u32 cpuid_build_supported(cpuid_host_fn host,
			  const struct cpuid_xsave_layout *xs,
			  struct xvcpu_cpuid_entry *e, u32 max);

/* Why a table from userspace is refused (cpuid_check) */
enum cpuid_error {
	CPUID_OK,
	CPUID_TOO_MANY,		/* nent > XVCPU_CPUID_MAX_ENTRIES */
	CPUID_BAD_FLAGS,	/* entry *bad has unknown flags */
	CPUID_BAD_PAD,		/* entry *bad has a nonzero pad */
	CPUID_DUPLICATE,	/* entries *bad and *other answer alike */
};

enum cpuid_error cpuid_check(const struct xvcpu_cpuid_entry *e, u32 nent,
			     u32 *bad, u32 *other);

/* The entry answering (@function, @index), NULL if none. */
const struct xvcpu_cpuid_entry *
cpuid_find(const struct xvcpu_cpuid_entry *e, u32 nent, u32 function,
	   u32 index);

/* What CPUID (EAX = @function, ECX = @index) returns to the guest. */
void cpuid_guest(const struct xvcpu_cpuid_entry *e, u32 nent, u32 function,
		 u32 index, const struct cpuid_dynamic *d,
		 const struct cpuid_xsave_layout *xs, u32 *regs);

/*
 * The XCR0 bits the table lets a guest set: CPUID.(0xD,0) EDX:EAX and
 * x87, within @supported; 0 if CPUID.1:ECX.XSAVE is clear.
 */
u64 cpuid_xcr0_allowed(const struct xvcpu_cpuid_entry *e, u32 nent,
		       u64 supported);

/*
 * CR4 bits (SDM Vol. 3A 2.5 "Control Registers") whose features a vCPU's
 * CPUID decides.  Bits of features every processor with VMX and 64-bit
 * mode has are always allowed: VME, PVI, TSD, DE, PSE, PAE, MCE, PGE, PCE,
 * OSFXSR, OSXMMEXCPT.  Never allowed, whatever the table says, since
 * xvcpu does not switch their state (or the guest has no such feature):
 * VMXE, SMXE, Key Locker (its LOADIWKEY would run on the host's key), PKE,
 * CET, PKS, UINTR, LAM_SUP, FRED.
 */
#define CPUID_CR4_ALWAYS	(BIT_ULL(0) | BIT_ULL(1) | BIT_ULL(2) | \
				 BIT_ULL(3) | BIT_ULL(4) | BIT_ULL(5) | \
				 BIT_ULL(6) | BIT_ULL(7) | BIT_ULL(8) | \
				 BIT_ULL(9) | BIT_ULL(10))
#define CPUID_CR4_UMIP		BIT_ULL(11)
#define CPUID_CR4_LA57		BIT_ULL(12)
#define CPUID_CR4_FSGSBASE	BIT_ULL(16)
#define CPUID_CR4_PCIDE		BIT_ULL(17)
#define CPUID_CR4_OSXSAVE	BIT_ULL(18)
#define CPUID_CR4_SMEP		BIT_ULL(20)
#define CPUID_CR4_SMAP		BIT_ULL(21)
#define CPUID_CR4_PKE		BIT_ULL(22)

/*
 * The CR4 bits a guest with this table may set: the ones above that are
 * always allowed, and UMIP, LA57, FSGSBASE, PCIDE, OSXSAVE (with an XCR0
 * that @xcr0_supported allows), SMEP, SMAP where the table has the
 * feature.  The processor may allow fewer (IA32_VMX_CR4_FIXED1).
 */
u64 cpuid_cr4_allowed(const struct xvcpu_cpuid_entry *e, u32 nent,
		      u64 xcr0_supported);

#endif /* XVCPU_CPUID_H */
