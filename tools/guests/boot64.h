/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface of the boot64 guest (boot64.S) for C code on the host:
 * where it belongs, what it reports, and its guest-physical layout.
 * Each value here is an .equ of boot64.S with the same name: change both.
 */
#ifndef XVCPU_GUEST_BOOT64_H
#define XVCPU_GUEST_BOOT64_H

#include <stddef.h>
#include <stdint.h>

#define BOOT64_IMAGE_BASE	0xffff0000ULL
#define BOOT64_IMAGE_SIZE	0x10000ULL
#define BOOT64_MAX_VCPUS	16
/* Guest RAM from 0 up to here holds its tables, stacks and slots. */
#define BOOT64_RAM_NEEDED	0x200000ULL

/* 32-bit OUT: (APIC id << 8) | stage; then data for some stages. */
#define BOOT64_REPORT_PORT	0x510
#define BOOT64_DATA_PORT	0x514
#define BOOT64_EXIT_PORT	0xf4

enum boot64_stage {
	BOOT64_STAGE_RESET = 1,		/* real mode at the reset vector */
	BOOT64_STAGE_PROTECTED,		/* CR0.PE, flat 32-bit segments */
	BOOT64_STAGE_TABLES,		/* page tables written */
	BOOT64_STAGE_PAE,		/* CR3 loaded, CR4.PAE */
	BOOT64_STAGE_LME,		/* EFER.LME */
	BOOT64_STAGE_PAGING,		/* CR0.PG, EFER.LMA checked */
	BOOT64_STAGE_LONG,		/* 64-bit code segment */
	BOOT64_STAGE_SEGMENTS,		/* data segments and stack */
	BOOT64_STAGE_RESULT,		/* data: APIC id, checksum lo, hi */
	BOOT64_STAGE_STRESS,		/* data: iterations lo, hi, errors */
	BOOT64_STAGE_FAIL = 0xee,	/* data: BOOT64_FAIL_* */
};

enum boot64_fail {
	BOOT64_FAIL_ID = 1,		/* APIC id >= BOOT64_MAX_VCPUS */
	BOOT64_FAIL_LMA,		/* EFER.LMA clear after CR0.PG */
	BOOT64_FAIL_MEMORY,		/* own memory changed under it */
};

/* The shared page. */
#define BOOT64_SHARED		0x1000ULL
#define BOOT64_CMD		(BOOT64_SHARED + 0x00)	/* u32, set by the VMM */
#define BOOT64_STOP		(BOOT64_SHARED + 0x04)	/* u32, set by the VMM */
#define BOOT64_LOCK		(BOOT64_SHARED + 0x08)	/* u32, print lock */
#define BOOT64_BOOTED		(BOOT64_SHARED + 0x0c)	/* u32, vCPUs done */
#define BOOT64_COUNTER		(BOOT64_SHARED + 0x10)	/* u64, LOCK XADD */
#define BOOT64_CMD_STRESS	1

/* One report slot per APIC id. */
struct boot64_slot {
	uint32_t stage;
	uint32_t apic_id;
	uint64_t checksum;
	uint64_t iterations;	/* kept current during the stress loop */
	uint64_t xadd_sum;	/* sum of the values LOCK XADD returned */
	uint64_t errors;	/* own words that did not hold what it wrote */
	uint64_t interleaved;	/* times others counted in between */
	uint64_t pad[2];
};

#define BOOT64_SLOTS		0x1100ULL
#define BOOT64_SLOT(id)		(BOOT64_SLOTS + (uint64_t)(id) * 64)

/* Per vCPU: PML4, PDPT, four page directories, stack. */
#define BOOT64_PERCPU(id)	(0x10000ULL + ((uint64_t)(id) << 15))
#define BOOT64_STACK_TOP	0x8000ULL

/* Per vCPU memory of the stress loop: word i % 8192 = id << 48 | i. */
#define BOOT64_OWN(id)		(0x100000ULL + ((uint64_t)(id) << 16))
#define BOOT64_OWN_WORDS	8192
#define BOOT64_ID_SHIFT		48

/* The checksum vCPU @apic_id reports for the image @image. */
static inline uint64_t boot64_checksum(const uint8_t *image, size_t len,
				       uint32_t apic_id)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ apic_id;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= image[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif /* XVCPU_GUEST_BOOT64_H */
