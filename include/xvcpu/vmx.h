/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX architectural constants shared by the module and by user code
 * (unit tests, selftests): VMCS field encodings, exit reasons, control
 * bits, EPT entry bits.  Names carry a VMCS_ / VMX_ / EPT_ prefix so they
 * never collide with the kernel's own <asm/vmx.h>.
 *
 * Sources: Intel SDM Vol. 3C chapter 25 (VMCS), chapter 28 (VM exits),
 * chapter 29 (EPT) and Vol. 3D Appendix B (field encodings) and
 * Appendix C (basic exit reasons).
 */
#ifndef XVCPU_VMX_H
#define XVCPU_VMX_H

/* ---- VMCS field encodings (SDM Vol. 3D Appendix B) ---- */

/* 16-bit control, guest and host fields (B.1) */
#define VMCS_VPID			0x0000
#define VMCS_GUEST_ES_SELECTOR		0x0800
#define VMCS_GUEST_CS_SELECTOR		0x0802
#define VMCS_GUEST_SS_SELECTOR		0x0804
#define VMCS_GUEST_DS_SELECTOR		0x0806
#define VMCS_GUEST_FS_SELECTOR		0x0808
#define VMCS_GUEST_GS_SELECTOR		0x080a
#define VMCS_GUEST_LDTR_SELECTOR	0x080c
#define VMCS_GUEST_TR_SELECTOR		0x080e
#define VMCS_HOST_ES_SELECTOR		0x0c00
#define VMCS_HOST_CS_SELECTOR		0x0c02
#define VMCS_HOST_SS_SELECTOR		0x0c04
#define VMCS_HOST_DS_SELECTOR		0x0c06
#define VMCS_HOST_FS_SELECTOR		0x0c08
#define VMCS_HOST_GS_SELECTOR		0x0c0a
#define VMCS_HOST_TR_SELECTOR		0x0c0c

/* 64-bit fields (B.2) */
#define VMCS_IO_BITMAP_A		0x2000
#define VMCS_IO_BITMAP_B		0x2002
#define VMCS_MSR_BITMAP			0x2004
#define VMCS_EXIT_MSR_STORE_ADDR	0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR		0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR	0x200a
#define VMCS_TSC_OFFSET			0x2010
#define VMCS_EPT_POINTER		0x201a
#define VMCS_GUEST_PHYSICAL_ADDRESS	0x2400
#define VMCS_LINK_POINTER		0x2800
#define VMCS_GUEST_IA32_DEBUGCTL	0x2802
#define VMCS_GUEST_IA32_PAT		0x2804
#define VMCS_GUEST_IA32_EFER		0x2806
#define VMCS_GUEST_PDPTE0		0x280a
#define VMCS_GUEST_PDPTE1		0x280c
#define VMCS_GUEST_PDPTE2		0x280e
#define VMCS_GUEST_PDPTE3		0x2810
#define VMCS_HOST_IA32_PAT		0x2c00
#define VMCS_HOST_IA32_EFER		0x2c02

/* 32-bit fields (B.3) */
#define VMCS_PIN_CONTROLS		0x4000
#define VMCS_PROC_CONTROLS		0x4002
#define VMCS_EXCEPTION_BITMAP		0x4004
#define VMCS_PF_ERROR_CODE_MASK		0x4006
#define VMCS_PF_ERROR_CODE_MATCH	0x4008
#define VMCS_CR3_TARGET_COUNT		0x400a
#define VMCS_EXIT_CONTROLS		0x400c
#define VMCS_EXIT_MSR_STORE_COUNT	0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT	0x4010
#define VMCS_ENTRY_CONTROLS		0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT	0x4014
#define VMCS_ENTRY_INTR_INFO		0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR_CODE	0x4018
#define VMCS_ENTRY_INSTRUCTION_LEN	0x401a
#define VMCS_TPR_THRESHOLD		0x401c
#define VMCS_PROC2_CONTROLS		0x401e
#define VMCS_VM_INSTRUCTION_ERROR	0x4400
#define VMCS_EXIT_REASON		0x4402
#define VMCS_EXIT_INTR_INFO		0x4404
#define VMCS_EXIT_INTR_ERROR_CODE	0x4406
#define VMCS_IDT_VECTORING_INFO		0x4408
#define VMCS_IDT_VECTORING_ERROR_CODE	0x440a
#define VMCS_EXIT_INSTRUCTION_LEN	0x440c
#define VMCS_EXIT_INSTRUCTION_INFO	0x440e
#define VMCS_GUEST_ES_LIMIT		0x4800
#define VMCS_GUEST_CS_LIMIT		0x4802
#define VMCS_GUEST_SS_LIMIT		0x4804
#define VMCS_GUEST_DS_LIMIT		0x4806
#define VMCS_GUEST_FS_LIMIT		0x4808
#define VMCS_GUEST_GS_LIMIT		0x480a
#define VMCS_GUEST_LDTR_LIMIT		0x480c
#define VMCS_GUEST_TR_LIMIT		0x480e
#define VMCS_GUEST_GDTR_LIMIT		0x4810
#define VMCS_GUEST_IDTR_LIMIT		0x4812
#define VMCS_GUEST_ES_AR		0x4814
#define VMCS_GUEST_CS_AR		0x4816
#define VMCS_GUEST_SS_AR		0x4818
#define VMCS_GUEST_DS_AR		0x481a
#define VMCS_GUEST_FS_AR		0x481c
#define VMCS_GUEST_GS_AR		0x481e
#define VMCS_GUEST_LDTR_AR		0x4820
#define VMCS_GUEST_TR_AR		0x4822
#define VMCS_GUEST_INTERRUPTIBILITY	0x4824
#define VMCS_GUEST_ACTIVITY_STATE	0x4826
#define VMCS_GUEST_SYSENTER_CS		0x482a
#define VMCS_HOST_IA32_SYSENTER_CS	0x4c00

/* Natural-width fields (B.4) */
#define VMCS_CR0_GUEST_HOST_MASK	0x6000
#define VMCS_CR4_GUEST_HOST_MASK	0x6002
#define VMCS_CR0_READ_SHADOW		0x6004
#define VMCS_CR4_READ_SHADOW		0x6006
#define VMCS_EXIT_QUALIFICATION		0x6400
#define VMCS_GUEST_LINEAR_ADDRESS	0x640a
#define VMCS_GUEST_CR0			0x6800
#define VMCS_GUEST_CR3			0x6802
#define VMCS_GUEST_CR4			0x6804
#define VMCS_GUEST_ES_BASE		0x6806
#define VMCS_GUEST_CS_BASE		0x6808
#define VMCS_GUEST_SS_BASE		0x680a
#define VMCS_GUEST_DS_BASE		0x680c
#define VMCS_GUEST_FS_BASE		0x680e
#define VMCS_GUEST_GS_BASE		0x6810
#define VMCS_GUEST_LDTR_BASE		0x6812
#define VMCS_GUEST_TR_BASE		0x6814
#define VMCS_GUEST_GDTR_BASE		0x6816
#define VMCS_GUEST_IDTR_BASE		0x6818
#define VMCS_GUEST_DR7			0x681a
#define VMCS_GUEST_RSP			0x681c
#define VMCS_GUEST_RIP			0x681e
#define VMCS_GUEST_RFLAGS		0x6820
#define VMCS_GUEST_PENDING_DBG		0x6822
#define VMCS_GUEST_SYSENTER_ESP		0x6824
#define VMCS_GUEST_SYSENTER_EIP		0x6826
#define VMCS_HOST_CR0			0x6c00
#define VMCS_HOST_CR3			0x6c02
#define VMCS_HOST_CR4			0x6c04
#define VMCS_HOST_FS_BASE		0x6c06
#define VMCS_HOST_GS_BASE		0x6c08
#define VMCS_HOST_TR_BASE		0x6c0a
#define VMCS_HOST_GDTR_BASE		0x6c0c
#define VMCS_HOST_IDTR_BASE		0x6c0e
#define VMCS_HOST_SYSENTER_ESP		0x6c10
#define VMCS_HOST_SYSENTER_EIP		0x6c12
#define VMCS_HOST_RSP			0x6c14
#define VMCS_HOST_RIP			0x6c16

/* ---- VM-execution, exit and entry controls (SDM Vol. 3C 25.6-25.8) ---- */

/* Pin-based controls, Table 25-5 */
#define VMX_PIN_EXTINT_EXITING		(1U << 0)
#define VMX_PIN_NMI_EXITING		(1U << 3)
#define VMX_PIN_VIRTUAL_NMIS		(1U << 5)

/* Primary processor-based controls, Table 25-6 */
#define VMX_PROC_INTR_WINDOW_EXITING	(1U << 2)
#define VMX_PROC_TSC_OFFSETTING		(1U << 3)
#define VMX_PROC_HLT_EXITING		(1U << 7)
#define VMX_PROC_INVLPG_EXITING		(1U << 9)
#define VMX_PROC_MWAIT_EXITING		(1U << 10)
#define VMX_PROC_RDPMC_EXITING		(1U << 11)
#define VMX_PROC_RDTSC_EXITING		(1U << 12)
#define VMX_PROC_CR3_LOAD_EXITING	(1U << 15)
#define VMX_PROC_CR3_STORE_EXITING	(1U << 16)
#define VMX_PROC_CR8_LOAD_EXITING	(1U << 19)
#define VMX_PROC_CR8_STORE_EXITING	(1U << 20)
#define VMX_PROC_TPR_SHADOW		(1U << 21)
#define VMX_PROC_NMI_WINDOW_EXITING	(1U << 22)
#define VMX_PROC_MOV_DR_EXITING		(1U << 23)
#define VMX_PROC_UNCOND_IO_EXITING	(1U << 24)
#define VMX_PROC_USE_IO_BITMAPS		(1U << 25)
#define VMX_PROC_MONITOR_TRAP_FLAG	(1U << 27)
#define VMX_PROC_USE_MSR_BITMAPS	(1U << 28)
#define VMX_PROC_MONITOR_EXITING	(1U << 29)
#define VMX_PROC_PAUSE_EXITING		(1U << 30)
#define VMX_PROC_SECONDARY_CONTROLS	(1U << 31)

/* Secondary processor-based controls, Table 25-7 */
#define VMX_PROC2_VIRTUALIZE_APIC	(1U << 0)
#define VMX_PROC2_ENABLE_EPT		(1U << 1)
#define VMX_PROC2_DESC_TABLE_EXITING	(1U << 2)
#define VMX_PROC2_ENABLE_RDTSCP		(1U << 3)
#define VMX_PROC2_ENABLE_VPID		(1U << 5)
#define VMX_PROC2_WBINVD_EXITING	(1U << 6)
#define VMX_PROC2_UNRESTRICTED_GUEST	(1U << 7)
#define VMX_PROC2_RDRAND_EXITING	(1U << 11)
#define VMX_PROC2_ENABLE_INVPCID	(1U << 12)
#define VMX_PROC2_RDSEED_EXITING	(1U << 16)
#define VMX_PROC2_ENABLE_XSAVES		(1U << 20)

/* VM-exit controls, Table 25-13 */
#define VMX_EXIT_SAVE_DEBUG_CONTROLS	(1U << 2)
#define VMX_EXIT_HOST_ADDR_SPACE_SIZE	(1U << 9)
#define VMX_EXIT_LOAD_PERF_GLOBAL_CTRL	(1U << 12)
#define VMX_EXIT_ACK_INTR_ON_EXIT	(1U << 15)
#define VMX_EXIT_SAVE_IA32_PAT		(1U << 18)
#define VMX_EXIT_LOAD_IA32_PAT		(1U << 19)
#define VMX_EXIT_SAVE_IA32_EFER		(1U << 20)
#define VMX_EXIT_LOAD_IA32_EFER		(1U << 21)

/* VM-entry controls, Table 25-15 */
#define VMX_ENTRY_LOAD_DEBUG_CONTROLS	(1U << 2)
#define VMX_ENTRY_IA32E_MODE_GUEST	(1U << 9)
#define VMX_ENTRY_LOAD_IA32_PAT		(1U << 14)
#define VMX_ENTRY_LOAD_IA32_EFER	(1U << 15)

/* ---- IA32_VMX_BASIC and IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D A.1, A.10) ---- */
#define VMX_BASIC_REVISION_MASK		0x7fffffffULL
#define VMX_BASIC_VMCS_SIZE_SHIFT	32
#define VMX_BASIC_VMCS_SIZE_MASK	0x1fffULL
#define VMX_BASIC_MEMTYPE_SHIFT		50
#define VMX_BASIC_MEMTYPE_WB		6ULL
#define VMX_BASIC_TRUE_CTLS		(1ULL << 55)

#define VMX_EPT_CAP_EXECUTE_ONLY	(1ULL << 0)
#define VMX_EPT_CAP_WALK_4		(1ULL << 6)
#define VMX_EPT_CAP_MEMTYPE_WB		(1ULL << 14)
#define VMX_EPT_CAP_2MB_PAGE		(1ULL << 16)
#define VMX_EPT_CAP_1GB_PAGE		(1ULL << 17)
#define VMX_EPT_CAP_INVEPT		(1ULL << 20)
#define VMX_EPT_CAP_AD_BITS		(1ULL << 21)
#define VMX_EPT_CAP_INVEPT_SINGLE	(1ULL << 25)
#define VMX_EPT_CAP_INVEPT_ALL		(1ULL << 26)
#define VMX_VPID_CAP_INVVPID		(1ULL << 32)
#define VMX_VPID_CAP_INVVPID_SINGLE	(1ULL << 41)
#define VMX_VPID_CAP_INVVPID_ALL	(1ULL << 42)

/* INVEPT / INVVPID types (SDM Vol. 3C 31.3 "INVEPT", "INVVPID") */
#define VMX_INVEPT_SINGLE_CONTEXT	1
#define VMX_INVEPT_ALL_CONTEXT		2
#define VMX_INVVPID_SINGLE_CONTEXT	1
#define VMX_INVVPID_ALL_CONTEXT		2

/* ---- EPT (SDM Vol. 3C 29.3.2, Tables 29-1 to 29-6; EPTP Table 25-9) ---- */
#define EPT_READ			(1ULL << 0)
#define EPT_WRITE			(1ULL << 1)
#define EPT_EXEC			(1ULL << 2)
#define EPT_RWX				(EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB			(6ULL << 3)	/* leaf only */
#define EPT_IGNORE_PAT			(1ULL << 6)	/* leaf only */
#define EPT_LARGE_PAGE			(1ULL << 7)	/* PDE/PDPTE leaf */
#define EPT_ADDR_MASK			0x000ffffffffff000ULL
#define EPTP_MEMTYPE_WB			6ULL
#define EPTP_WALK_4			(3ULL << 3)	/* walk length - 1 */

/* ---- Exit reason field (SDM Vol. 3C 25.9.1, Table 25-17) ---- */
#define VMX_EXIT_REASON_BASIC_MASK	0xffffU
#define VMX_EXIT_REASON_ENTRY_FAIL	(1U << 31)

/* Basic exit reasons (SDM Vol. 3D Appendix C, Table C-1) */
#define VMX_EXIT_EXCEPTION_NMI		0
#define VMX_EXIT_EXTERNAL_INTERRUPT	1
#define VMX_EXIT_TRIPLE_FAULT		2
#define VMX_EXIT_INIT			3
#define VMX_EXIT_SIPI			4
#define VMX_EXIT_IO_SMI			5
#define VMX_EXIT_OTHER_SMI		6
#define VMX_EXIT_INTERRUPT_WINDOW	7
#define VMX_EXIT_NMI_WINDOW		8
#define VMX_EXIT_TASK_SWITCH		9
#define VMX_EXIT_CPUID			10
#define VMX_EXIT_GETSEC			11
#define VMX_EXIT_HLT			12
#define VMX_EXIT_INVD			13
#define VMX_EXIT_INVLPG			14
#define VMX_EXIT_RDPMC			15
#define VMX_EXIT_RDTSC			16
#define VMX_EXIT_RSM			17
#define VMX_EXIT_VMCALL			18
#define VMX_EXIT_VMCLEAR		19
#define VMX_EXIT_VMLAUNCH		20
#define VMX_EXIT_VMPTRLD		21
#define VMX_EXIT_VMPTRST		22
#define VMX_EXIT_VMREAD			23
#define VMX_EXIT_VMRESUME		24
#define VMX_EXIT_VMWRITE		25
#define VMX_EXIT_VMXOFF			26
#define VMX_EXIT_VMXON			27
#define VMX_EXIT_CR_ACCESS		28
#define VMX_EXIT_DR_ACCESS		29
#define VMX_EXIT_IO_INSTRUCTION		30
#define VMX_EXIT_RDMSR			31
#define VMX_EXIT_WRMSR			32
#define VMX_EXIT_INVALID_GUEST_STATE	33
#define VMX_EXIT_MSR_LOADING		34
#define VMX_EXIT_MWAIT			36
#define VMX_EXIT_MONITOR_TRAP_FLAG	37
#define VMX_EXIT_MONITOR		39
#define VMX_EXIT_PAUSE			40
#define VMX_EXIT_MACHINE_CHECK		41
#define VMX_EXIT_TPR_BELOW_THRESHOLD	43
#define VMX_EXIT_APIC_ACCESS		44
#define VMX_EXIT_VIRTUALIZED_EOI	45
#define VMX_EXIT_GDTR_IDTR		46
#define VMX_EXIT_LDTR_TR		47
#define VMX_EXIT_EPT_VIOLATION		48
#define VMX_EXIT_EPT_MISCONFIG		49
#define VMX_EXIT_INVEPT			50
#define VMX_EXIT_RDTSCP			51
#define VMX_EXIT_PREEMPTION_TIMER	52
#define VMX_EXIT_INVVPID		53
#define VMX_EXIT_WBINVD			54
#define VMX_EXIT_XSETBV			55
#define VMX_EXIT_APIC_WRITE		56
#define VMX_EXIT_RDRAND			57
#define VMX_EXIT_INVPCID		58
#define VMX_EXIT_VMFUNC			59
#define VMX_EXIT_ENCLS			60
#define VMX_EXIT_RDSEED			61
#define VMX_EXIT_PML_FULL		62
#define VMX_EXIT_XSAVES			63
#define VMX_EXIT_XRSTORS		64
#define VMX_EXIT_SPP			66
#define VMX_EXIT_UMWAIT			67
#define VMX_EXIT_TPAUSE			68
#define VMX_EXIT_LOADIWKEY		69

/* Exit qualification for I/O instructions (SDM Vol. 3C 28.2.1, Table 28-5) */
#define VMX_IO_SIZE_MASK		0x7U	/* size - 1 */
#define VMX_IO_DIRECTION_IN		(1U << 3)
#define VMX_IO_STRING			(1U << 4)
#define VMX_IO_REP			(1U << 5)
#define VMX_IO_PORT_SHIFT		16

/* Exit qualification for control-register accesses (Table 28-3) */
#define VMX_CR_NUMBER(q)		((q) & 0xf)
#define VMX_CR_ACCESS_TYPE(q)		(((q) >> 4) & 0x3)
#define VMX_CR_ACCESS_MOV_TO_CR		0
#define VMX_CR_GPR(q)			(((q) >> 8) & 0xf)

/* Exit qualification for EPT violations (Table 28-7) */
#define VMX_EPT_VIOL_READ		(1ULL << 0)
#define VMX_EPT_VIOL_WRITE		(1ULL << 1)
#define VMX_EPT_VIOL_FETCH		(1ULL << 2)
#define VMX_EPT_VIOL_LINEAR_VALID	(1ULL << 7)

/* Interruption information (SDM Vol. 3C 25.9.2, Table 25-18) */
#define VMX_INTR_INFO_VECTOR_MASK	0xffU
#define VMX_INTR_INFO_TYPE_MASK		(7U << 8)
#define VMX_INTR_TYPE_NMI		(2U << 8)
#define VMX_INTR_INFO_VALID		(1U << 31)

/* Guest interruptibility state (SDM Vol. 3C 25.4.2, Table 25-3) */
#define VMX_INTERRUPTIBILITY_STI	(1U << 0)
#define VMX_INTERRUPTIBILITY_MOV_SS	(1U << 1)

/* Segment access rights as the VMCS holds them (SDM Vol. 3C 25.4.1, Table 25-2) */
#define VMX_AR_TYPE_MASK		0xfU
#define VMX_AR_S			(1U << 4)
#define VMX_AR_DPL_SHIFT		5
#define VMX_AR_P			(1U << 7)
#define VMX_AR_AVL			(1U << 12)
#define VMX_AR_L			(1U << 13)
#define VMX_AR_DB			(1U << 14)
#define VMX_AR_G			(1U << 15)
#define VMX_AR_UNUSABLE			(1U << 16)

#endif /* XVCPU_VMX_H */
