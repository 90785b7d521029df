/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xvcpu-bench: the same guest loops under xvcpu and under KVM, timed with
 * RDTSC in the VMM.  bench.c owns the operations, the timing and the
 * statistics; xvcpu.c and kvm.c are the two backends, each only doing
 * what its ABI forces.  report.c puts the two result files side by side.
 */
#ifndef BENCH_H
#define BENCH_H

/*
 * Guest layout (guest.S runs in real mode with CS = 0): the code is copied
 * to GUEST_LOAD and memory covers [0, BENCH_LOOP_MEM).  BENCH_MMIO_GPA has
 * no memory behind it.
 */
#define GUEST_LOAD		0x1000
#define BENCH_LOOP_MEM		0x80000		/* 512 KiB */
#define BENCH_MMIO_GPA		0xd0000
#define BENCH_PORT		0xe0
/* CPUIDs the guest times per report (one OUT of the tick count) */
#define BENCH_CPUID_BATCH	200
/* VMCALL arguments, as KVM's KVM_HC_MAP_GPA_RANGE takes them */
#define BENCH_HC_NR		12		/* RAX */
#define BENCH_HC_GPA		GUEST_LOAD	/* RBX: a page-aligned GPA */
#define BENCH_HC_NPAGES		1		/* RCX */

#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* guest.S: the flat real-mode image and its entry points */
extern const uint8_t guest_start[], guest_end[];
extern const uint8_t guest_out[], guest_hlt[], guest_mmio[];
extern const uint8_t guest_mmio_insn[], guest_mmio_insn_end[];
extern const uint8_t guest_cpuid[], guest_vmcall[];

/* What a run ended with, in terms both ABIs share. */
enum bench_exit_kind {
	BENCH_EXIT_IO,		/* OUT: port, data */
	BENCH_EXIT_HLT,
	BENCH_EXIT_MMIO,	/* addr */
	BENCH_EXIT_HYPERCALL,	/* VMCALL reached the VMM: nr */
	BENCH_EXIT_UNHANDLED,	/* the module gave up on this exit */
	BENCH_EXIT_OTHER,	/* anything else: a failure */
};

struct bench_exit {
	enum bench_exit_kind kind;
	uint16_t port;
	uint32_t data;
	uint64_t addr;
	uint64_t nr;		/* hypercall number */
	char what[120];		/* for UNHANDLED and OTHER: what happened */
};

/*
 * One backend per ABI.  Each keeps a single VM with one vCPU (vm_*) and,
 * for the memory-mapping operation, a second bare VM (mem_*).  Functions
 * returning int return 0 or -errno; on failure they say why on stderr.
 */
struct bench_backend {
	const char *name;
	int (*open)(void);
	/*
	 * A VM with @mem_size bytes of memory at GPA 0, the guest image at
	 * GUEST_LOAD and one vCPU in real mode with CS = 0.
	 */
	int (*vm_create)(uint64_t mem_size);
	void (*vm_destroy)(void);
	/* General registers zero, RFLAGS 0x2, RIP = @rip */
	int (*set_entry)(uint64_t rip);
	int (*run)(struct bench_exit *exit);
	/* Complete an MMIO exit on an instruction of @len bytes */
	int (*mmio_done)(unsigned int len);
	/* A bare VM (and host memory) ready to map @size bytes */
	int (*mem_prepare)(uint64_t size);
	/* The timed part: one set-memory-region ioctl */
	int (*mem_map)(void);
	/* Delete the region and the bare VM */
	void (*mem_release)(void);
};

extern const struct bench_backend bench_xvcpu;
extern const struct bench_backend bench_kvm;

/* The operations, in table order (bench.c) */
struct bench_op {
	const char *name;	/* one word, in result files */
	const char *label;	/* in the table */
	const char *note;	/* how it is measured, when not obvious */
	/*
	 * One run: ticks per operation into *ticks.  0, or -errno, or
	 * positive when the backend cannot do it; @why tells why not.
	 */
	int (*measure)(const struct bench_backend *b,
		       const struct bench_op *op, double *ticks,
		       char *why, size_t len);
	const uint8_t *entry;	/* guest entry point, for guest loops */
	enum bench_exit_kind expect;
	unsigned int iters;	/* operations per run */
	unsigned int warmup;	/* runs discarded */
	unsigned int runs;	/* runs kept */
};

extern const struct bench_op bench_ops[];
extern const unsigned int bench_nr_ops;

/* report.c */
int bench_report(const char *xvcpu_file, const char *kvm_file,
		 const char *results_file);

#endif /* __ASSEMBLER__ */
#endif /* BENCH_H */
