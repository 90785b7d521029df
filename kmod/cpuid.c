// SPDX-License-Identifier: GPL-2.0
/*
 * The CPUID a guest sees: the host's values, less what xvcpu does not
 * virtualize, plus a hypervisor leaf.  Features that would need an exit
 * xvcpu does not handle (XSETBV, MSRs of a feature, INVPCID, ...) are
 * hidden, so a guest that trusts CPUID does not trip over them.
 */
#include <asm/processor.h>

#include "xvcpu.h"

#define HYPERVISOR_LEAF		0x40000000

/* CPUID.1:ECX features given to guests */
/*
 * CPUID.1:ECX features given to guests: SSE3, PCLMULQDQ, SSSE3, CX16,
 * SSE4.1, SSE4.2, MOVBE, POPCNT, AES, RDRAND.  Not VMX, SMX, MONITOR,
 * PCID, x2APIC, TSC deadline, XSAVE/OSXSAVE and what needs them (AVX,
 * FMA, F16C).
 */
#define LEAF1_ECX_KEEP	(BIT(0) | BIT(1) | BIT(9) | BIT(13) | BIT(19) | \
			 BIT(20) | BIT(22) | BIT(23) | BIT(25) | BIT(30))
#define LEAF1_ECX_HYPERVISOR	BIT(31)
/* CPUID.7.0:EBX: FSGSBASE, BMI1, SMEP, BMI2, ERMS, ADX, SMAP, CLFLUSHOPT, SHA */
#define LEAF7_EBX_KEEP	(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | \
			 BIT(19) | BIT(20) | BIT(23) | BIT(29))
/* CPUID.80000001H:EDX: RDTSCP (bit 27) is not enabled for guests */
#define EXT1_EDX_RDTSCP	BIT(27)

void xvcpu_cpuid(struct xvcpu_vcpu *vcpu, u32 leaf, u32 subleaf, u32 *r)
{
	if (leaf >= HYPERVISOR_LEAF && leaf < HYPERVISOR_LEAF + 0x100) {
		/* "xvcpuxvcpu\0\0", and no further hypervisor leaves */
		r[0] = leaf == HYPERVISOR_LEAF ? HYPERVISOR_LEAF : 0;
		r[1] = leaf == HYPERVISOR_LEAF ? 0x70637678 : 0;	/* xvcp */
		r[2] = leaf == HYPERVISOR_LEAF ? 0x63767875 : 0;	/* uxvc */
		r[3] = leaf == HYPERVISOR_LEAF ? 0x00007570 : 0;	/* pu */
		return;
	}
	cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3]);

	switch (leaf) {
	case 1:
		/* EBX[31:24]: the initial APIC ID */
		r[1] = (r[1] & 0x00ffffff) | (vcpu->id << 24);
		r[2] = (r[2] & LEAF1_ECX_KEEP) | LEAF1_ECX_HYPERVISOR;
		break;
	case 7:
		r[1] = subleaf == 0 ? r[1] & LEAF7_EBX_KEEP : 0;
		r[0] = 0;
		r[2] = 0;
		r[3] = 0;
		break;
	case 5:		/* MONITOR/MWAIT: not given to guests */
	case 6:		/* thermal and power management */
	case 0xa:	/* performance monitoring: no PMU */
	case 0xd:	/* XSAVE: XSETBV is not virtualized yet */
	case 0x12:	/* SGX */
	case 0x14:	/* processor trace */
		r[0] = 0;
		r[1] = 0;
		r[2] = 0;
		r[3] = 0;
		break;
	case 0x80000001:
		r[3] &= ~EXT1_EDX_RDTSCP;
		break;
	}
}
