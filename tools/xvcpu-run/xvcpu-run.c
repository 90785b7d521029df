// SPDX-License-Identifier: GPL-2.0
/*
 * xvcpu-run: the example VMM.
 *
 *   xvcpu-run [OPTIONS] IMAGE                    a flat binary
 *   xvcpu-run [OPTIONS] --reset-image FILE       firmware at the reset vector
 *   xvcpu-run [OPTIONS] --multiboot FILE         a multiboot (v1) kernel
 *   xvcpu-run --print-cpuid                      the CPUID table xvcpu offers
 *
 * Creates a VM with --mem of memory at guest-physical 0 (default 16 MiB)
 * and --vcpus vCPUs (default 1), each on its own thread, and runs them:
 *  - a flat IMAGE is copied to --load (default 0x10000); every vCPU starts
 *    in --mode (default long) at --entry (default: the load address) with
 *    its own stack below the image;
 *  - a --reset-image is mapped read-only so that it ends at 4 GiB, and
 *    every vCPU starts as the processor does after RESET, at F000:FFF0
 *    (linear 0xfffffff0), in real mode;
 *  - a --multiboot kernel is loaded as its header or ELF program headers
 *    say and entered in 32-bit protected mode with EAX = 0x2badb002 and
 *    EBX = the multiboot information (one vCPU only).
 *
 * Devices, all port I/O:
 *   0x3f8-0x3ff  COM1, a minimal 16550: bytes written to THR go to stdout;
 *                LSR always reads 0x60 (transmitter empty), so polling
 *                guests work; the other registers read back what was
 *                written or idle values.
 *   0xf4         exit port (like QEMU's isa-debug-exit, but the status is
 *                the byte itself): the guest writes its exit status and
 *                xvcpu-run exits with it, stopping every vCPU.
 *   other ports  writes are ignored, reads return all ones.
 *
 * Exit status: the guest's byte written to port 0xf4; 0 once every vCPU
 * has executed HLT; otherwise one of the RUN_EXIT_* codes below, with a
 * diagnostic (decoded exit, raw XVCPU_GET_EXIT_INFO, registers) on stderr.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/libxvcpu.h"

/* Exit codes of xvcpu-run itself (a guest may use these too, via 0xf4). */
enum {
	RUN_EXIT_VMM_ERROR	= 1,	/* setup or ioctl failure */
	RUN_EXIT_USAGE		= 2,	/* bad command line */
	RUN_EXIT_SHUTDOWN	= 3,	/* triple fault */
	RUN_EXIT_FAIL_ENTRY	= 4,	/* VM entry failed */
	RUN_EXIT_INTERNAL	= 5,	/* the kernel could not handle an exit */
	RUN_EXIT_MMIO		= 6,	/* access to unbacked guest memory */
	RUN_EXIT_UNEXPECTED	= 7,	/* any other exit xvcpu-run cannot do */
};

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define KIB			1024ULL
#define MIB			(1024ULL * 1024)
#define GIB			(1024ULL * MIB)
#define PAGE_SIZE		0x1000ULL
#define DEFAULT_MEM		(16 * MIB)
#define MAX_MEM			(1024 * GIB)
#define DEFAULT_LOAD		0x10000ULL
#define TABLES_GPA		0x1000ULL
#define MIN_STACK		0x1000ULL
/* Real mode: the stack below the image must stay above the vectors. */
#define REAL_MIN_LOAD		0x1000ULL
/* The reset vector is 16 bytes below 4 GiB; its image ends there. */
#define RESET_IMAGE_END		(4 * GIB)
#define MAX_RESET_IMAGE		(16 * MIB)
#define ROM_SLOT		1
#define MAX_VCPUS		64
/* Unknown MSRs (--msr-policy exit): this many are logged, then no more. */
#define MSR_LOG_MAX		16

#define COM1_BASE		0x3f8
#define COM1_END		0x3ff
#define EXIT_PORT		0xf4

/* 16550 register offsets from COM1_BASE and bits. */
#define UART_RBR_THR		0	/* DLAB = 0 */
#define UART_IER		1	/* DLAB = 0 */
#define UART_IIR		2
#define UART_LCR		3
#define UART_MCR		4
#define UART_LSR		5
#define UART_MSR		6
#define UART_SCR		7
#define UART_LCR_DLAB		0x80
#define UART_LSR_THRE		0x20
#define UART_LSR_TEMT		0x40
#define UART_IIR_NONE		0x01
#define UART_MSR_IDLE		0xb0	/* DCD, DSR, CTS */

/* Multiboot v1 (the Multiboot Specification 0.6.96). */
#define MB_HEADER_MAGIC		0x1badb002
#define MB_BOOTLOADER_MAGIC	0x2badb002
#define MB_SEARCH		8192
#define MB_FLAG_PAGE_ALIGN	(1U << 0)	/* modules page aligned */
#define MB_FLAG_MEMORY_INFO	(1U << 1)	/* mem_* and mmap_* */
#define MB_FLAG_AOUT_KLUDGE	(1U << 16)	/* address fields valid */
#define MB_INFO_MEMORY		(1U << 0)
#define MB_INFO_CMDLINE		(1U << 2)
#define MB_INFO_MMAP		(1U << 6)
#define MB_INFO_LOADER_NAME	(1U << 9)
#define MB_MMAP_AVAILABLE	1
/* What xvcpu-run writes below a multiboot kernel. */
#define MB_INFO_GPA		0x8000ULL
#define MB_INFO_SIZE		0x1000ULL
#define MB_STACK		MB_INFO_GPA
#define MB_MIN_LOAD		(MB_INFO_GPA + MB_INFO_SIZE)
#define LOW_MEM_TOP		0xa0000ULL	/* 640 KiB */

enum boot_kind {
	BOOT_FLAT,		/* IMAGE at --load, vCPUs in --mode */
	BOOT_RESET,		/* --reset-image */
	BOOT_MULTIBOOT,		/* --multiboot */
};

struct options {
	enum boot_kind boot;
	enum xvcpu_mode mode;
	uint64_t load;
	uint64_t entry;
	int mode_set, load_set, entry_set;
	uint64_t mem_size;		/* bytes */
	unsigned int nr_vcpus;
	const char *cpuid_file;		/* NULL: the kernel's default table */
	int print_cpuid;
	int msr_exit;			/* --msr-policy exit */
	const char *image;
};

/* The register file of a 16550 that never receives and sends at once. */
struct uart {
	uint8_t ier, lcr, mcr, scr;
	uint8_t dll, dlm;
};

struct vm_ctx;

struct vcpu_ctx {
	struct vm_ctx *vm;
	struct xvcpu_vcpu *vcpu;
	pthread_t thread;
	int started, finished;		/* under the VM lock */
	int status;			/* RUN_EXIT_*, guest status, or 0 */
	int stopped;			/* ended by another vCPU's exit */
};

/* What all vCPUs of the VM share while they run. */
struct vm_ctx {
	pthread_mutex_t lock;		/* com1, stdout, stderr, the fields below */
	struct uart com1;
	unsigned int nr_vcpus;
	struct vcpu_ctx *vcpus;
	int stop;			/* a vCPU ended the run: the others stop */
	int status;			/* the status it ended it with */
	unsigned int msr_logged;
};

/* What a handled exit asks the run loop to do. */
enum action {
	ACT_CONTINUE,
	ACT_EXIT,		/* stop, exit with the given status */
};

static unsigned int nr_vcpus_running = 1;	/* for "vCPU N: " prefixes */

/* "vCPU N: " when there is more than one, else "". */
static const char *who(const struct xvcpu_vcpu *vcpu)
{
	static __thread char buf[32];

	if (nr_vcpus_running <= 1)
		return "";
	snprintf(buf, sizeof(buf), "vCPU %u: ", vcpu->id);
	return buf;
}

static const char *mode_name(enum xvcpu_mode mode)
{
	switch (mode) {
	case XVCPU_MODE_REAL:		return "real";
	case XVCPU_MODE_PROTECTED:	return "protected";
	case XVCPU_MODE_LONG:		return "long";
	}
	return "?";
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xvcpu-run [OPTIONS] IMAGE\n"
		"       xvcpu-run [OPTIONS] --reset-image FILE\n"
		"       xvcpu-run [OPTIONS] --multiboot FILE\n"
		"       xvcpu-run --print-cpuid\n"
		"\n"
		"Run the flat binary IMAGE, firmware FILE from the reset vector, or\n"
		"a multiboot kernel FILE in an xvcpu VM.\n"
		"  --mode MODE        real, protected or long: the mode IMAGE starts in\n"
		"                     (default long)\n"
		"  --load ADDR        guest-physical load address of IMAGE (default 0x%llx)\n"
		"  --entry ADDR       entry address of IMAGE (default: the load address)\n"
		"  --mem SIZE         guest RAM at guest-physical 0, in bytes with a K, M\n"
		"                     or G suffix, or in MiB without (default 16M)\n"
		"  --vcpus N          vCPUs, each on its own thread (default 1)\n"
		"  --cpuid default|FILE\n"
		"                     the CPUID table: xvcpu's default, or FILE with lines\n"
		"                     \"function index eax ebx ecx edx\" (index * for all\n"
		"                     subleaves); --print-cpuid prints the default so\n"
		"  --msr-policy gp|exit\n"
		"                     MSRs xvcpu does not know raise #GP (default), or\n"
		"                     exit to xvcpu-run: reads give 0, writes are ignored\n"
		"  --reset-image FILE map FILE so that it ends at 4 GiB and start every\n"
		"                     vCPU at the reset vector, in real mode\n"
		"  --multiboot FILE   load a multiboot (v1) kernel, 32-bit ELF or with\n"
		"                     the address fields, and enter it (one vCPU)\n"
		"\n"
		"COM1 output (port 0x3f8) goes to stdout.  The guest ends by\n"
		"writing its exit status byte to port 0xf4, or with HLT on every vCPU\n"
		"(status 0).  Other exit codes: 1 VMM error, 2 usage, 3 triple fault,\n"
		"4 VM entry failure, 5 internal error, 6 MMIO, 7 other exit.\n",
		DEFAULT_LOAD);
}

static int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* A size: a number of bytes with a K, M or G suffix, or of MiB without. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 20;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		end++;
		break;
	case 'm': case 'M':
		shift = 20;
		end++;
		break;
	case 'g': case 'G':
		shift = 30;
		end++;
		break;
	default:
		return -1;
	}
	if (*end || v > (MAX_MEM >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int set_boot(struct options *o, enum boot_kind kind, const char *file)
{
	if (o->boot != BOOT_FLAT || o->image) {
		fprintf(stderr,
			"xvcpu-run: give one of IMAGE, --reset-image and --multiboot\n");
		return -1;
	}
	o->boot = kind;
	o->image = file;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_MODE = 256, OPT_LOAD, OPT_MEM, OPT_ENTRY, OPT_VCPUS,
		OPT_CPUID, OPT_PRINT_CPUID, OPT_MSR_POLICY, OPT_RESET_IMAGE,
		OPT_MULTIBOOT,
	};
	static const struct option longopts[] = {
		{ "mode",        required_argument, NULL, OPT_MODE },
		{ "load",        required_argument, NULL, OPT_LOAD },
		{ "mem",         required_argument, NULL, OPT_MEM },
		{ "entry",       required_argument, NULL, OPT_ENTRY },
		{ "vcpus",       required_argument, NULL, OPT_VCPUS },
		{ "cpuid",       required_argument, NULL, OPT_CPUID },
		{ "print-cpuid", no_argument,       NULL, OPT_PRINT_CPUID },
		{ "msr-policy",  required_argument, NULL, OPT_MSR_POLICY },
		{ "reset-image", required_argument, NULL, OPT_RESET_IMAGE },
		{ "multiboot",   required_argument, NULL, OPT_MULTIBOOT },
		{ "help",        no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t n;
	int c;

	memset(o, 0, sizeof(*o));
	o->boot = BOOT_FLAT;
	o->mode = XVCPU_MODE_LONG;
	o->load = DEFAULT_LOAD;
	o->mem_size = DEFAULT_MEM;
	o->nr_vcpus = 1;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MODE:
			if (!strcmp(optarg, "real")) {
				o->mode = XVCPU_MODE_REAL;
			} else if (!strcmp(optarg, "protected")) {
				o->mode = XVCPU_MODE_PROTECTED;
			} else if (!strcmp(optarg, "long")) {
				o->mode = XVCPU_MODE_LONG;
			} else {
				fprintf(stderr, "xvcpu-run: unknown mode '%s'\n",
					optarg);
				return -1;
			}
			o->mode_set = 1;
			break;
		case OPT_LOAD:
			if (parse_u64(optarg, &o->load) < 0)
				goto bad_number;
			o->load_set = 1;
			break;
		case OPT_MEM:
			if (parse_size(optarg, &o->mem_size) < 0 ||
			    o->mem_size == 0 || o->mem_size % PAGE_SIZE) {
				fprintf(stderr,
					"xvcpu-run: bad memory size '%s' (a multiple of 4K, at most 1024G)\n",
					optarg);
				return -1;
			}
			break;
		case OPT_ENTRY:
			if (parse_u64(optarg, &o->entry) < 0)
				goto bad_number;
			o->entry_set = 1;
			break;
		case OPT_VCPUS:
			if (parse_u64(optarg, &n) < 0 || n == 0 || n > MAX_VCPUS) {
				fprintf(stderr,
					"xvcpu-run: bad number of vCPUs '%s' (1-%d)\n",
					optarg, MAX_VCPUS);
				return -1;
			}
			o->nr_vcpus = (unsigned int)n;
			break;
		case OPT_CPUID:
			o->cpuid_file = strcmp(optarg, "default") ? optarg : NULL;
			break;
		case OPT_PRINT_CPUID:
			o->print_cpuid = 1;
			break;
		case OPT_MSR_POLICY:
			if (!strcmp(optarg, "gp")) {
				o->msr_exit = 0;
			} else if (!strcmp(optarg, "exit")) {
				o->msr_exit = 1;
			} else {
				fprintf(stderr,
					"xvcpu-run: unknown MSR policy '%s' (gp or exit)\n",
					optarg);
				return -1;
			}
			break;
		case OPT_RESET_IMAGE:
			if (set_boot(o, BOOT_RESET, optarg) < 0)
				return -1;
			break;
		case OPT_MULTIBOOT:
			if (set_boot(o, BOOT_MULTIBOOT, optarg) < 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}

	if (o->print_cpuid) {
		if (optind != argc || o->image) {
			fprintf(stderr, "xvcpu-run: --print-cpuid runs no guest\n");
			return -1;
		}
		return 0;
	}
	if (o->boot == BOOT_FLAT) {
		if (optind != argc - 1) {
			fprintf(stderr, "xvcpu-run: expected exactly one IMAGE\n");
			return -1;
		}
		o->image = argv[optind];
		if (!o->entry_set)
			o->entry = o->load;
		return 0;
	}
	if (optind != argc) {
		fprintf(stderr, "xvcpu-run: IMAGE and --%s exclude each other\n",
			o->boot == BOOT_RESET ? "reset-image" : "multiboot");
		return -1;
	}
	if (o->mode_set || o->load_set || o->entry_set) {
		fprintf(stderr,
			"xvcpu-run: --mode, --load and --entry are for a flat IMAGE\n");
		return -1;
	}
	if (o->boot == BOOT_MULTIBOOT && o->nr_vcpus != 1) {
		fprintf(stderr,
			"xvcpu-run: a multiboot kernel starts on one vCPU (--vcpus 1)\n");
		return -1;
	}
	return 0;

bad_number:
	fprintf(stderr, "xvcpu-run: bad number '%s'\n", optarg);
	return -1;
}

/* ---- diagnostics ---- */

static const char *vmx_exit_name(uint32_t basic)
{
	static const char *const names[] = {
		[0] = "EXCEPTION_NMI",		[1] = "EXTERNAL_INTERRUPT",
		[2] = "TRIPLE_FAULT",		[3] = "INIT",
		[4] = "SIPI",			[5] = "IO_SMI",
		[6] = "OTHER_SMI",		[7] = "INTERRUPT_WINDOW",
		[8] = "NMI_WINDOW",		[9] = "TASK_SWITCH",
		[10] = "CPUID",			[11] = "GETSEC",
		[12] = "HLT",			[13] = "INVD",
		[14] = "INVLPG",		[15] = "RDPMC",
		[16] = "RDTSC",			[17] = "RSM",
		[18] = "VMCALL",		[19] = "VMCLEAR",
		[20] = "VMLAUNCH",		[21] = "VMPTRLD",
		[22] = "VMPTRST",		[23] = "VMREAD",
		[24] = "VMRESUME",		[25] = "VMWRITE",
		[26] = "VMXOFF",		[27] = "VMXON",
		[28] = "CR_ACCESS",		[29] = "DR_ACCESS",
		[30] = "IO_INSTRUCTION",	[31] = "RDMSR",
		[32] = "WRMSR",			[33] = "INVALID_GUEST_STATE",
		[34] = "MSR_LOADING",		[36] = "MWAIT",
		[37] = "MONITOR_TRAP_FLAG",	[39] = "MONITOR",
		[40] = "PAUSE",			[41] = "MACHINE_CHECK",
		[43] = "TPR_BELOW_THRESHOLD",	[44] = "APIC_ACCESS",
		[45] = "VIRTUALIZED_EOI",	[46] = "GDTR_IDTR",
		[47] = "LDTR_TR",		[48] = "EPT_VIOLATION",
		[49] = "EPT_MISCONFIG",		[50] = "INVEPT",
		[51] = "RDTSCP",		[52] = "PREEMPTION_TIMER",
		[53] = "INVVPID",		[54] = "WBINVD",
		[55] = "XSETBV",		[56] = "APIC_WRITE",
		[57] = "RDRAND",		[58] = "INVPCID",
		[59] = "VMFUNC",		[60] = "ENCLS",
		[61] = "RDSEED",		[62] = "PML_FULL",
		[63] = "XSAVES",		[64] = "XRSTORS",
	};

	if (basic < ARRAY_SIZE(names) && names[basic])
		return names[basic];
	return "?";
}

static const char *vector_name(unsigned int vector)
{
	static const char *const names[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "?", "#TS", "#NP", "#SS", "#GP", "#PF", "?",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};

	if (vector < ARRAY_SIZE(names))
		return names[vector];
	return "?";
}

/* Decode an interruption-information field (intr or IDT-vectoring). */
static void print_intr(FILE *f, const char *what, uint32_t info,
		       uint32_t error)
{
	static const char *const types[] = {
		"external interrupt", "reserved", "NMI", "hardware exception",
		"software interrupt", "privileged software exception",
		"software exception", "other event",
	};

	if (!(info & (1U << 31)))
		return;
	fprintf(f, "  %s: vector %u (%s), %s", what, info & 0xff,
		vector_name(info & 0xff), types[(info >> 8) & 7]);
	if (info & (1U << 11))
		fprintf(f, ", error code 0x%x", error);
	fprintf(f, "\n");
}

static void print_segment(FILE *f, const char *name,
			  const struct xvcpu_segment *s)
{
	fprintf(f,
		"  %-3s sel 0x%04x base 0x%016" PRIx64 " limit 0x%08x type 0x%x p %u dpl %u db %u s %u l %u g %u%s\n",
		name, s->selector, (uint64_t)s->base, s->limit, s->type,
		s->present, s->dpl, s->db, s->s, s->l, s->g,
		s->unusable ? " unusable" : "");
}

static void print_gprs(FILE *f, const struct xvcpu_regs *r)
{
	const struct {
		const char *name;
		uint64_t val;
	} g[] = {
		{ "rax", r->rax }, { "rbx", r->rbx }, { "rcx", r->rcx },
		{ "rdx", r->rdx }, { "rsi", r->rsi }, { "rdi", r->rdi },
		{ "rsp", r->rsp }, { "rbp", r->rbp }, { "r8", r->r8 },
		{ "r9", r->r9 }, { "r10", r->r10 }, { "r11", r->r11 },
		{ "r12", r->r12 }, { "r13", r->r13 }, { "r14", r->r14 },
		{ "r15", r->r15 }, { "rip", r->rip }, { "rflags", r->rflags },
	};
	unsigned int i, n = ARRAY_SIZE(g);

	for (i = 0; i < n; i++)
		fprintf(f, "%s%-3s %016" PRIx64 "%s", i % 4 ? " " : "  ",
			g[i].name, g[i].val, i % 4 == 3 || i == n - 1 ? "\n" : "");
}

static void dump_state(struct xvcpu_vcpu *vcpu)
{
	FILE *f = stderr;
	struct xvcpu_exit_info ei;
	struct xvcpu_regs r;
	struct xvcpu_sregs sr;
	int ret;

	ret = xvcpu_get_exit_info(vcpu, &ei);
	if (ret < 0) {
		fprintf(f, "  XVCPU_GET_EXIT_INFO failed: %s\n",
			strerror(-ret));
	} else {
		fprintf(f,
			"  vmx exit reason 0x%08x (basic %u %s%s)\n"
			"  qualification 0x%016" PRIx64 "\n"
			"  guest linear 0x%016" PRIx64 " guest physical 0x%016" PRIx64 "\n"
			"  intr info 0x%08x error 0x%08x\n"
			"  idt vectoring 0x%08x error 0x%08x\n"
			"  instruction len %u info 0x%08x\n",
			ei.exit_reason, ei.basic_reason,
			vmx_exit_name(ei.basic_reason),
			(ei.exit_reason & (1U << 31)) ? ", entry failure" : "",
			(uint64_t)ei.exit_qualification,
			(uint64_t)ei.guest_linear_address,
			(uint64_t)ei.guest_physical_address,
			ei.intr_info, ei.intr_error_code,
			ei.idt_vectoring_info, ei.idt_vectoring_error_code,
			ei.instruction_len, ei.instruction_info);
		print_intr(f, "exception", ei.intr_info, ei.intr_error_code);
		print_intr(f, "during delivery of", ei.idt_vectoring_info,
			   ei.idt_vectoring_error_code);
	}

	ret = xvcpu_get_regs(vcpu, &r);
	if (ret < 0)
		fprintf(f, "  XVCPU_GET_REGS failed: %s\n", strerror(-ret));
	else
		print_gprs(f, &r);

	ret = xvcpu_get_sregs(vcpu, &sr);
	if (ret < 0) {
		fprintf(f, "  XVCPU_GET_SREGS failed: %s\n", strerror(-ret));
		return;
	}
	print_segment(f, "cs", &sr.cs);
	print_segment(f, "ds", &sr.ds);
	print_segment(f, "es", &sr.es);
	print_segment(f, "fs", &sr.fs);
	print_segment(f, "gs", &sr.gs);
	print_segment(f, "ss", &sr.ss);
	print_segment(f, "tr", &sr.tr);
	print_segment(f, "ldt", &sr.ldt);
	fprintf(f,
		"  gdt base 0x%016" PRIx64 " limit 0x%04x  idt base 0x%016" PRIx64 " limit 0x%04x\n"
		"  cr0 %016" PRIx64 " cr2 %016" PRIx64 " cr3 %016" PRIx64 "\n"
		"  cr4 %016" PRIx64 " efer %016" PRIx64 "\n",
		(uint64_t)sr.gdt.base, sr.gdt.limit, (uint64_t)sr.idt.base,
		sr.idt.limit, (uint64_t)sr.cr0, (uint64_t)sr.cr2,
		(uint64_t)sr.cr3, (uint64_t)sr.cr4, (uint64_t)sr.efer);
}

static const char *entry_failure_name(uint32_t basic)
{
	switch (basic) {
	case 33: return "invalid guest state";
	case 34: return "MSR loading";
	case 41: return "machine-check event";
	}
	return "?";
}

static int report_fail_entry(struct xvcpu_vcpu *vcpu)
{
	const struct xvcpu_run *run = vcpu->run;
	uint64_t reason = run->fail_entry.hardware_entry_failure_reason;

	fprintf(stderr,
		"xvcpu-run: %sVM entry failed: reason 0x%" PRIx64 " (basic %u, %s), qualification 0x%" PRIx64 "\n",
		who(vcpu), reason, (unsigned int)(reason & 0xffff),
		entry_failure_name(reason & 0xffff),
		(uint64_t)run->fail_entry.exit_qualification);
	dump_state(vcpu);
	return RUN_EXIT_FAIL_ENTRY;
}

static int report_internal(struct xvcpu_vcpu *vcpu)
{
	static const char *const labels[8] = {
		"exit reason", "qualification", "guest physical",
		"guest linear", "interruption info", "idt vectoring info",
		"instruction length", "guest rip",
	};
	const struct xvcpu_run *run = vcpu->run;
	uint32_t n = run->internal.ndata;
	uint32_t i;

	fprintf(stderr, "xvcpu-run: %sinternal error, suberror %u%s\n",
		who(vcpu), run->internal.suberror,
		run->internal.suberror == XVCPU_INTERNAL_UNHANDLED_EXIT ?
		" (unhandled exit)" : "");
	if (n > 8)
		n = 8;
	for (i = 0; i < n; i++) {
		uint64_t v = run->internal.data[i];
		int named = run->internal.suberror ==
			    XVCPU_INTERNAL_UNHANDLED_EXIT;

		fprintf(stderr, "  data[%u] %-19s 0x%016" PRIx64, i,
			named ? labels[i] : "", v);
		if (named && i == 0)
			fprintf(stderr, " (%s)", vmx_exit_name(v & 0xffff));
		fprintf(stderr, "\n");
	}
	dump_state(vcpu);
	return RUN_EXIT_INTERNAL;
}

static int report_mmio(struct xvcpu_vcpu *vcpu)
{
	const struct xvcpu_run *run = vcpu->run;
	uint32_t a = run->mmio.access;

	fprintf(stderr,
		"xvcpu-run: %sguest access to unbacked or read-only memory: physical 0x%" PRIx64,
		who(vcpu), (uint64_t)run->mmio.phys_addr);
	if (run->mmio.linear_valid)
		fprintf(stderr, " linear 0x%" PRIx64,
			(uint64_t)run->mmio.linear_addr);
	fprintf(stderr, " access%s%s%s (0x%x)\n",
		(a & XVCPU_MMIO_READ) ? " read" : "",
		(a & XVCPU_MMIO_WRITE) ? " write" : "",
		(a & XVCPU_MMIO_FETCH) ? " fetch" : "", a);
	dump_state(vcpu);
	return RUN_EXIT_MMIO;
}

static int report_unexpected(struct xvcpu_vcpu *vcpu, const char *why)
{
	fprintf(stderr, "xvcpu-run: %s%s (exit %u %s)\n", who(vcpu), why,
		vcpu->run->exit_reason,
		xvcpu_exit_name(vcpu->run->exit_reason));
	dump_state(vcpu);
	return RUN_EXIT_UNEXPECTED;
}

/* ---- devices ---- */

static int write_stdout(uint8_t c)
{
	ssize_t n;

	do {
		n = write(STDOUT_FILENO, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

static int uart_out(struct uart *u, unsigned int reg, uint8_t v)
{
	int dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab) {
			u->dll = v;
			return 0;
		}
		return write_stdout(v);
	case UART_IER:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v & 0x0f;
		return 0;
	case UART_LCR:
		u->lcr = v;
		return 0;
	case UART_MCR:
		u->mcr = v & 0x1f;
		return 0;
	case UART_SCR:
		u->scr = v;
		return 0;
	}
	return 0;	/* FCR, LSR, MSR writes: nothing to do */
}

static uint8_t uart_in(const struct uart *u, unsigned int reg)
{
	int dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : 0;	/* nothing is ever received */
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return UART_IIR_NONE;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		return UART_MSR_IDLE;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

/*
 * Handle XVCPU_EXIT_IO.  For IN, the value goes to run->io.data and the
 * next XVCPU_RUN hands it to the guest; RIP is already past the
 * instruction either way.  Called with the VM lock held.
 */
static enum action handle_io(struct xvcpu_vcpu *vcpu, struct uart *com1,
			     int *status)
{
	struct xvcpu_run *run = vcpu->run;
	uint16_t port = run->io.port;
	uint8_t size = run->io.size;
	uint64_t mask;

	if (run->io.count != 1 || (size != 1 && size != 2 && size != 4)) {
		*status = report_unexpected(vcpu,
					    "unsupported port I/O (string or odd size)");
		return ACT_EXIT;
	}
	mask = (1ULL << (8 * size)) - 1;

	if (run->io.direction == XVCPU_IO_OUT) {
		uint8_t v = (uint8_t)run->io.data;

		if (port == EXIT_PORT) {
			*status = v;
			return ACT_EXIT;
		}
		if (port >= COM1_BASE && port <= COM1_END &&
		    uart_out(com1, port - COM1_BASE, v) < 0) {
			fprintf(stderr, "xvcpu-run: writing stdout: %s\n",
				strerror(errno));
			*status = RUN_EXIT_VMM_ERROR;
			return ACT_EXIT;
		}
		return ACT_CONTINUE;
	}

	if (port >= COM1_BASE && port <= COM1_END)
		run->io.data = uart_in(com1, port - COM1_BASE) |
			       (0xffffffffULL & mask & ~0xffULL);
	else
		run->io.data = mask;
	return ACT_CONTINUE;
}

/*
 * XVCPU_EXIT_MSR (--msr-policy exit): an MSR the kernel does not handle
 * reads as 0 and ignores writes, as on a machine whose firmware does not
 * care.  The first MSR_LOG_MAX are logged.  Called with the VM lock held.
 */
static void handle_msr(struct vm_ctx *ctx, struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;
	int write = run->msr.direction == XVCPU_MSR_WRITE;

	if (ctx->msr_logged < MSR_LOG_MAX) {
		fprintf(stderr, "xvcpu-run: %s%s of unknown MSR 0x%x",
			who(vcpu), write ? "WRMSR" : "RDMSR", run->msr.index);
		if (write)
			fprintf(stderr, " (0x%" PRIx64 ") ignored\n",
				(uint64_t)run->msr.data);
		else
			fprintf(stderr, " reads as 0\n");
		if (++ctx->msr_logged == MSR_LOG_MAX)
			fprintf(stderr, "xvcpu-run: further unknown MSRs are not logged\n");
	}
	if (!write)
		run->msr.data = 0;
	run->msr.error = 0;
}

/* ---- the run loop: one thread per vCPU ---- */

static void on_kick(int sig)
{
	(void)sig;
}

/*
 * End the run with @status (the first vCPU to do so sets it) and make the
 * others leave XVCPU_RUN: immediate_exit for one about to enter, a signal
 * for one in the guest.  Called with the VM lock held.
 */
static void stop_all(struct vm_ctx *ctx, struct vcpu_ctx *self, int status)
{
	unsigned int i;

	if (ctx->stop)
		return;
	ctx->stop = 1;
	ctx->status = status;
	for (i = 0; i < ctx->nr_vcpus; i++) {
		struct vcpu_ctx *v = &ctx->vcpus[i];

		if (v == self || !v->started || v->finished)
			continue;
		__atomic_store_n(&v->vcpu->run->immediate_exit, 1,
				 __ATOMIC_SEQ_CST);
		pthread_kill(v->thread, SIGUSR1);
	}
}

static int stopping(struct vm_ctx *ctx)
{
	int stop;

	pthread_mutex_lock(&ctx->lock);
	stop = ctx->stop;
	pthread_mutex_unlock(&ctx->lock);
	return stop;
}

/* Returns the status this vCPU ends with. */
static int run_vcpu(struct vcpu_ctx *v)
{
	struct vm_ctx *ctx = v->vm;
	struct xvcpu_vcpu *vcpu = v->vcpu;
	enum action act;
	int ret, status;

	for (;;) {
		if (stopping(ctx)) {
			v->stopped = 1;
			return 0;
		}
		ret = xvcpu_vcpu_run(vcpu);
		if (ret == -EINTR)
			continue;

		pthread_mutex_lock(&ctx->lock);
		act = ACT_EXIT;
		if (ret < 0) {
			fprintf(stderr, "xvcpu-run: %sXVCPU_RUN: %s\n",
				who(vcpu), strerror(-ret));
			dump_state(vcpu);
			status = RUN_EXIT_VMM_ERROR;
			goto out;
		}
		switch (vcpu->run->exit_reason) {
		case XVCPU_EXIT_IO:
			act = handle_io(vcpu, &ctx->com1, &status);
			break;
		case XVCPU_EXIT_MSR:
			handle_msr(ctx, vcpu);
			act = ACT_CONTINUE;
			break;
		case XVCPU_EXIT_HLT:
			pthread_mutex_unlock(&ctx->lock);
			return 0;
		case XVCPU_EXIT_INTR:
			act = ACT_CONTINUE;
			break;
		case XVCPU_EXIT_SHUTDOWN:
			fprintf(stderr, "xvcpu-run: %sguest shutdown (triple fault)\n",
				who(vcpu));
			dump_state(vcpu);
			status = RUN_EXIT_SHUTDOWN;
			break;
		case XVCPU_EXIT_FAIL_ENTRY:
			status = report_fail_entry(vcpu);
			break;
		case XVCPU_EXIT_INTERNAL_ERROR:
			status = report_internal(vcpu);
			break;
		case XVCPU_EXIT_MMIO:
			status = report_mmio(vcpu);
			break;
		default:
			status = report_unexpected(vcpu, "unexpected exit");
			break;
		}
out:
		if (act == ACT_EXIT)
			stop_all(ctx, v, status);
		pthread_mutex_unlock(&ctx->lock);
		if (act == ACT_EXIT)
			return status;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_ctx *v = arg;

	v->status = run_vcpu(v);
	/* No more signals for this thread: it may be joined at once */
	pthread_mutex_lock(&v->vm->lock);
	v->finished = 1;
	pthread_mutex_unlock(&v->vm->lock);
	return NULL;
}

/*
 * Run every vCPU, each on its own thread (one alone on this one), until
 * all have halted or one ended the run.
 */
static int run_guest(struct vm_ctx *ctx)
{
	struct sigaction sa;
	unsigned int i;
	int err;

	if (ctx->nr_vcpus == 1) {
		ctx->vcpus[0].thread = pthread_self();
		return run_vcpu(&ctx->vcpus[0]);
	}

	/* SIGUSR1 kicks a vCPU thread out of XVCPU_RUN: no SA_RESTART */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0) {
		fprintf(stderr, "xvcpu-run: sigaction: %s\n", strerror(errno));
		return RUN_EXIT_VMM_ERROR;
	}

	for (i = 0; i < ctx->nr_vcpus; i++) {
		struct vcpu_ctx *v = &ctx->vcpus[i];

		pthread_mutex_lock(&ctx->lock);
		err = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (!err)
			v->started = 1;
		else if (!ctx->stop)
			fprintf(stderr, "xvcpu-run: starting vCPU %u: %s\n",
				i, strerror(err));
		if (err)
			stop_all(ctx, NULL, RUN_EXIT_VMM_ERROR);
		pthread_mutex_unlock(&ctx->lock);
		if (err)
			break;
	}
	for (i = 0; i < ctx->nr_vcpus; i++)
		if (ctx->vcpus[i].started)
			pthread_join(ctx->vcpus[i].thread, NULL);
	return ctx->stop ? ctx->status : 0;
}

/* ---- loading ---- */

/*
 * Read the whole of regular file @path into a new buffer; NULL (with a
 * message) on failure or if it is empty or larger than @max.
 */
static uint8_t *read_file(const char *path, uint64_t max, uint64_t *size)
{
	struct stat st;
	uint64_t done = 0;
	uint8_t *buf = NULL;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xvcpu-run: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "xvcpu-run: %s: %s\n", path, strerror(errno));
		goto err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "xvcpu-run: %s: not a non-empty file\n", path);
		goto err;
	}
	if ((uint64_t)st.st_size > max) {
		fprintf(stderr,
			"xvcpu-run: %s: %lld bytes do not fit in %" PRIu64 " MiB of guest memory\n",
			path, (long long)st.st_size, (uint64_t)(max / MIB));
		goto err;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		fprintf(stderr, "xvcpu-run: %s: %s\n", path, strerror(errno));
		goto err;
	}
	while (done < (uint64_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "xvcpu-run: %s: %s\n", path,
				n < 0 ? strerror(errno) : "short read");
			goto err;
		}
		done += (uint64_t)n;
	}
	close(fd);
	*size = done;
	return buf;

err:
	free(buf);
	close(fd);
	return NULL;
}

/* Copy @len bytes to guest-physical @gpa, all inside RAM of @mem_size. */
static int put_guest(struct xvcpu_vm *vm, uint64_t mem_size, uint64_t gpa,
		     const void *src, uint64_t len, const char *what)
{
	uint8_t *dst;

	if (gpa >= mem_size || len > mem_size - gpa) {
		fprintf(stderr,
			"xvcpu-run: %s: %" PRIu64 " bytes at 0x%" PRIx64 " do not fit in %" PRIu64 " MiB of guest memory\n",
			what, len, gpa, (uint64_t)(mem_size / MIB));
		return -1;
	}
	dst = xvcpu_gpa_to_hva(vm, gpa);
	if (!dst) {
		fprintf(stderr, "xvcpu-run: no guest memory at 0x%" PRIx64 "\n",
			gpa);
		return -1;
	}
	memcpy(dst, src, len);
	return 0;
}

/* Check the layout: tables, stacks and image must not overlap. */
static int check_layout(const struct options *o)
{
	uint64_t stacks = (uint64_t)(o->nr_vcpus - 1) * MIN_STACK;
	uint64_t min_load;

	if (o->boot == BOOT_RESET) {
		if (o->mem_size > RESET_IMAGE_END - PAGE_SIZE) {
			fprintf(stderr,
				"xvcpu-run: with --reset-image, --mem must leave room below 4 GiB\n");
			return -1;
		}
		return 0;
	}
	if (o->boot == BOOT_MULTIBOOT) {
		if (o->mem_size < 2 * MIB) {
			fprintf(stderr,
				"xvcpu-run: a multiboot kernel needs --mem 2M at least\n");
			return -1;
		}
		return 0;
	}

	if (o->mode == XVCPU_MODE_REAL) {
		min_load = REAL_MIN_LOAD + stacks;
		if (o->load >= 0x100000ULL || o->entry >= 0x100000ULL) {
			fprintf(stderr,
				"xvcpu-run: real mode needs load and entry below 1 MiB\n");
			return -1;
		}
	} else {
		min_load = TABLES_GPA + XVCPU_SETUP_TABLES_SIZE + MIN_STACK +
			   stacks;
	}
	if (o->load < min_load) {
		fprintf(stderr,
			"xvcpu-run: --load must be at least 0x%" PRIx64 " in %s mode (tables and stack lie below the image)\n",
			min_load, mode_name(o->mode));
		return -1;
	}
	if (o->entry >= o->mem_size) {
		fprintf(stderr,
			"xvcpu-run: entry 0x%" PRIx64 " is outside guest memory\n",
			o->entry);
		return -1;
	}
	return 0;
}

/* A flat IMAGE at --load; every vCPU in --mode, each with its stack. */
static int load_flat(const struct options *o, struct vm_ctx *ctx,
		     struct xvcpu_vm *vm)
{
	uint64_t size, stack;
	unsigned int i;
	uint8_t *image;
	int ret;

	image = read_file(o->image, o->mem_size, &size);
	if (!image)
		return -1;
	ret = put_guest(vm, o->mem_size, o->load, image, size, o->image);
	free(image);
	if (ret < 0)
		return -1;

	if (o->mode == XVCPU_MODE_REAL &&
	    o->load + size > (((o->entry >> 4) & 0xf000) << 4) + 0x10000)
		fprintf(stderr,
			"xvcpu-run: warning: image extends past the 64 KiB code segment\n");

	for (i = 0; i < ctx->nr_vcpus; i++) {
		stack = (o->load & ~0xfULL) - (uint64_t)i * MIN_STACK;
		ret = xvcpu_vcpu_setup_mode(ctx->vcpus[i].vcpu, o->mode,
					    o->entry, stack, TABLES_GPA);
		if (ret < 0) {
			fprintf(stderr, "xvcpu-run: setting up %s mode: %s\n",
				mode_name(o->mode), strerror(-ret));
			return -1;
		}
	}
	return 0;
}

/*
 * --reset-image: FILE in its own slot, read-only where xvcpu can, ending
 * at 4 GiB.  The vCPUs stay in the state XVCPU_CREATE_VCPU gave them,
 * the processor's after RESET: CS.base 0xffff0000, IP 0xfff0.
 */
static int load_reset(const struct options *o, int sys_fd,
		      struct xvcpu_vm *vm)
{
	uint64_t size, rom_size, rom_gpa;
	uint32_t flags = 0;
	uint8_t *image, *rom;

	image = read_file(o->image, MAX_RESET_IMAGE, &size);
	if (!image)
		return -1;
	rom_size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	rom_gpa = RESET_IMAGE_END - rom_size;
	if (rom_gpa < o->mem_size) {
		fprintf(stderr,
			"xvcpu-run: %s: %" PRIu64 " bytes below 4 GiB overlap --mem\n",
			o->image, size);
		goto err;
	}
	if (xvcpu_check_cap(sys_fd, XVCPU_CAP_READONLY_MEM) > 0)
		flags = XVCPU_MEM_READONLY;
	rom = xvcpu_vm_add_memory(vm, ROM_SLOT, rom_gpa, rom_size, flags);
	if (!rom) {
		fprintf(stderr,
			"xvcpu-run: mapping %s at 0x%" PRIx64 ": %s\n",
			o->image, rom_gpa, strerror(errno));
		goto err;
	}
	memcpy(rom + rom_size - size, image, size);
	free(image);
	return 0;

err:
	free(image);
	return -1;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* One piece of a multiboot kernel: @len bytes, then zeros to @mem_len. */
static int mb_place(const struct options *o, struct xvcpu_vm *vm,
		    uint64_t gpa, const uint8_t *src, uint64_t len,
		    uint64_t mem_len)
{
	uint8_t *dst;

	if (gpa < MB_MIN_LOAD || gpa >= o->mem_size ||
	    mem_len > o->mem_size - gpa) {
		fprintf(stderr,
			"xvcpu-run: %s: %" PRIu64 " bytes at 0x%" PRIx64 " are not inside guest RAM above 0x%llx\n",
			o->image, mem_len, gpa, MB_MIN_LOAD);
		return -1;
	}
	dst = xvcpu_gpa_to_hva(vm, gpa);
	if (!dst)
		return -1;
	memcpy(dst, src, len);
	memset(dst + len, 0, mem_len - len);
	return 0;
}

/* The kernel's PT_LOAD segments (32-bit ELF); the entry in @entry. */
static int mb_load_elf(const struct options *o, struct xvcpu_vm *vm,
		       const uint8_t *f, uint64_t size, uint64_t *entry)
{
	uint32_t phoff, i, nph, phentsize;

	if (size < 52 || memcmp(f, "\177ELF", 4) || f[4] != 1 || f[5] != 1 ||
	    get_le16(f + 18) != 3) {
		fprintf(stderr,
			"xvcpu-run: %s: neither the address fields (flag 16) nor a 32-bit x86 ELF\n",
			o->image);
		return -1;
	}
	*entry = get_le32(f + 24);
	phoff = get_le32(f + 28);
	phentsize = get_le16(f + 42);
	nph = get_le16(f + 44);
	if (phentsize < 32 || phoff > size ||
	    (uint64_t)nph * phentsize > size - phoff) {
		fprintf(stderr, "xvcpu-run: %s: bad program headers\n",
			o->image);
		return -1;
	}
	for (i = 0; i < nph; i++) {
		const uint8_t *ph = f + phoff + (uint64_t)i * phentsize;
		uint32_t off = get_le32(ph + 4), paddr = get_le32(ph + 12);
		uint32_t filesz = get_le32(ph + 16), memsz = get_le32(ph + 20);

		if (get_le32(ph) != 1 || memsz == 0)	/* PT_LOAD */
			continue;
		if (filesz > memsz || off > size || filesz > size - off) {
			fprintf(stderr, "xvcpu-run: %s: bad segment %u\n",
				o->image, i);
			return -1;
		}
		if (mb_place(o, vm, paddr, f + off, filesz, memsz) < 0)
			return -1;
	}
	return 0;
}

/*
 * --multiboot: load the kernel, write the multiboot information (memory
 * sizes and map, command line, loader name) at MB_INFO_GPA, and enter it
 * as the specification says: flat 32-bit protected mode, paging off,
 * EAX = 0x2badb002, EBX = the information.
 */
static int load_multiboot(const struct options *o, struct vm_ctx *ctx,
			  struct xvcpu_vm *vm)
{
	uint64_t size, entry = 0, off, mmap_len;
	uint32_t flags, hdr = 0, i, n;
	uint8_t *f, info[MB_INFO_SIZE], *p;
	struct xvcpu_regs regs;
	struct xvcpu_vcpu *vcpu = ctx->vcpus[0].vcpu;
	int ret = -1;

	f = read_file(o->image, o->mem_size, &size);
	if (!f)
		return -1;
	n = size < MB_SEARCH ? (uint32_t)size : MB_SEARCH;
	for (i = 0; i + 12 <= n; i += 4) {
		if (get_le32(f + i) == MB_HEADER_MAGIC &&
		    (uint32_t)(get_le32(f + i) + get_le32(f + i + 4) +
			       get_le32(f + i + 8)) == 0) {
			hdr = i;
			break;
		}
	}
	if (i + 12 > n) {
		fprintf(stderr,
			"xvcpu-run: %s: no multiboot header in the first 8 KiB\n",
			o->image);
		goto out;
	}
	flags = get_le32(f + hdr + 4);
	/* Bits 0-15 the loader does not know must make it refuse */
	if (flags & 0xffff & ~(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO)) {
		fprintf(stderr,
			"xvcpu-run: %s: multiboot flags 0x%x ask for what xvcpu-run lacks (video mode)\n",
			o->image, flags);
		goto out;
	}

	if (flags & MB_FLAG_AOUT_KLUDGE) {
		uint32_t header_addr, load_addr, load_end, bss_end;
		uint64_t len, mem_len;

		if (hdr + 32 > size) {
			fprintf(stderr, "xvcpu-run: %s: short multiboot header\n",
				o->image);
			goto out;
		}
		header_addr = get_le32(f + hdr + 12);
		load_addr = get_le32(f + hdr + 16);
		load_end = get_le32(f + hdr + 20);
		bss_end = get_le32(f + hdr + 24);
		entry = get_le32(f + hdr + 28);
		if (load_addr > header_addr || header_addr - load_addr > hdr) {
			fprintf(stderr,
				"xvcpu-run: %s: multiboot load address above the header\n",
				o->image);
			goto out;
		}
		off = hdr - (header_addr - load_addr);
		len = load_end ? (uint64_t)load_end - load_addr : size - off;
		if (load_end && (load_end < load_addr || len > size - off)) {
			fprintf(stderr,
				"xvcpu-run: %s: multiboot load end outside the file\n",
				o->image);
			goto out;
		}
		mem_len = bss_end > load_addr + len ? bss_end - load_addr : len;
		if (mb_place(o, vm, load_addr, f + off, len, mem_len) < 0)
			goto out;
	} else if (mb_load_elf(o, vm, f, size, &entry) < 0) {
		goto out;
	}

	/* The multiboot information, its memory map and strings after it */
	memset(info, 0, sizeof(info));
	put_le32(info + 0, MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MMAP |
			   MB_INFO_LOADER_NAME);
	put_le32(info + 4, LOW_MEM_TOP / KIB);
	put_le32(info + 8, (uint32_t)((o->mem_size - MIB) / KIB));
	p = info + 128;
	put_le32(p, 20);			/* entry size, not counted */
	put_le64(p + 4, 0);
	put_le64(p + 12, LOW_MEM_TOP);
	put_le32(p + 20, MB_MMAP_AVAILABLE);
	p += 24;
	put_le32(p, 20);
	put_le64(p + 4, MIB);
	put_le64(p + 12, o->mem_size - MIB);
	put_le32(p + 20, MB_MMAP_AVAILABLE);
	mmap_len = 48;
	put_le32(info + 44, (uint32_t)mmap_len);
	put_le32(info + 48, MB_INFO_GPA + 128);
	off = 128 + mmap_len;
	put_le32(info + 64, (uint32_t)(MB_INFO_GPA + off));	/* loader name */
	memcpy(info + off, "xvcpu-run", 10);
	off += 10;
	put_le32(info + 16, (uint32_t)(MB_INFO_GPA + off));	/* cmdline */
	snprintf((char *)info + off, sizeof(info) - off, "%s", o->image);
	if (put_guest(vm, o->mem_size, MB_INFO_GPA, info, sizeof(info),
		      "multiboot information") < 0)
		goto out;

	ret = xvcpu_vcpu_setup_mode(vcpu, XVCPU_MODE_PROTECTED, entry,
				    MB_STACK, TABLES_GPA);
	if (!ret)
		ret = xvcpu_get_regs(vcpu, &regs);
	if (!ret) {
		regs.rax = MB_BOOTLOADER_MAGIC;
		regs.rbx = MB_INFO_GPA;
		ret = xvcpu_set_regs(vcpu, &regs);
	}
	if (ret < 0) {
		fprintf(stderr, "xvcpu-run: entering the multiboot kernel: %s\n",
			strerror(-ret));
		ret = -1;
	}
out:
	free(f);
	return ret;
}

/* ---- CPUID tables ---- */

/* Until libxvcpu wraps XVCPU_SET_MSR_POLICY.  0 or -errno. */
static int set_msr_policy(struct xvcpu_vm *vm, uint32_t flags)
{
	struct xvcpu_msr_policy p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	return ioctl(vm->fd, XVCPU_SET_MSR_POLICY, &p) < 0 ? -errno : 0;
}

/* The CPUID table in the --cpuid FILE format. */
static int print_cpuid(int sys_fd)
{
	struct xvcpu_cpuid *c = calloc(1, sizeof(*c));
	uint32_t i;
	int ret;

	if (!c)
		return RUN_EXIT_VMM_ERROR;
	ret = xvcpu_get_supported_cpuid(sys_fd, c);
	if (ret < 0) {
		fprintf(stderr, "xvcpu-run: XVCPU_GET_SUPPORTED_CPUID: %s\n",
			strerror(-ret));
		free(c);
		return RUN_EXIT_VMM_ERROR;
	}
	printf("# function index eax ebx ecx edx (index *: every subleaf)\n");
	for (i = 0; i < c->nent && i < XVCPU_CPUID_MAX_ENTRIES; i++) {
		const struct xvcpu_cpuid_entry *e = &c->entries[i];

		char index[16] = "*";

		if (e->flags & XVCPU_CPUID_FLAG_INDEXED)
			snprintf(index, sizeof(index), "0x%x", e->index);
		printf("0x%08x %-6s 0x%08x 0x%08x 0x%08x 0x%08x\n",
		       e->function, index, e->eax, e->ebx, e->ecx, e->edx);
	}
	free(c);
	return fflush(stdout) ? RUN_EXIT_VMM_ERROR : 0;
}

static int parse_u32_field(const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0 || v > 0xffffffffULL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * Read a --cpuid FILE: "function index eax ebx ecx edx" per line, numbers
 * in C notation, index "*" for an entry that answers every subleaf; '#'
 * starts a comment.  0, or -1 with a message naming the line.
 */
static int read_cpuid_file(const char *path, struct xvcpu_cpuid *c)
{
	char line[512];
	unsigned int lineno = 0;
	FILE *f;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "xvcpu-run: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct xvcpu_cpuid_entry e;
		char *field[7], *hash, *save = NULL;
		unsigned int n = 0;
		uint32_t j;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "xvcpu-run: %s:%u: line too long\n",
				path, lineno);
			goto out;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (field[n] = strtok_r(line, " \t\r\n", &save);
		     field[n] && n < 6;
		     field[n] = strtok_r(NULL, " \t\r\n", &save))
			n++;
		if (n == 0)
			continue;
		memset(&e, 0, sizeof(e));
		if (n != 6 || field[6] ||
		    parse_u32_field(field[0], &e.function) < 0 ||
		    parse_u32_field(field[2], &e.eax) < 0 ||
		    parse_u32_field(field[3], &e.ebx) < 0 ||
		    parse_u32_field(field[4], &e.ecx) < 0 ||
		    parse_u32_field(field[5], &e.edx) < 0)
			goto bad;
		if (strcmp(field[1], "*")) {
			if (parse_u32_field(field[1], &e.index) < 0)
				goto bad;
			e.flags = XVCPU_CPUID_FLAG_INDEXED;
		}
		for (j = 0; j < c->nent; j++) {
			if (c->entries[j].function == e.function &&
			    (!(c->entries[j].flags & e.flags) ||
			     c->entries[j].index == e.index)) {
				fprintf(stderr,
					"xvcpu-run: %s:%u: function 0x%x index %s given twice\n",
					path, lineno, e.function, field[1]);
				goto out;
			}
		}
		if (c->nent == XVCPU_CPUID_MAX_ENTRIES) {
			fprintf(stderr, "xvcpu-run: %s:%u: more than %d entries\n",
				path, lineno, XVCPU_CPUID_MAX_ENTRIES);
			goto out;
		}
		c->entries[c->nent++] = e;
	}
	if (ferror(f)) {
		fprintf(stderr, "xvcpu-run: %s: %s\n", path, strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;

bad:
	fprintf(stderr,
		"xvcpu-run: %s:%u: expected \"function index eax ebx ecx edx\" (index * for all subleaves)\n",
		path, lineno);
out:
	fclose(f);
	return ret;
}

/*
 * The table for vCPU @id: its APIC id in CPUID.1:EBX[31:24] and, where
 * the table has them, the x2APIC id in EDX of leaves 0xb and 0x1f, as
 * each processor of a real machine reads its own.
 */
static void cpuid_for_vcpu(struct xvcpu_cpuid *c, unsigned int id)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++) {
		struct xvcpu_cpuid_entry *e = &c->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = id;
	}
}

/* ---- main ---- */

static int setup_vcpus(const struct options *o, struct vm_ctx *ctx,
		       struct xvcpu_vm *vm)
{
	struct xvcpu_cpuid *table = NULL, *mine = NULL;
	unsigned int i;
	int ret = -1;

	if (o->cpuid_file) {
		table = malloc(sizeof(*table));
		mine = malloc(sizeof(*mine));
		if (!table || !mine) {
			fprintf(stderr, "xvcpu-run: %s\n", strerror(errno));
			goto out;
		}
		if (read_cpuid_file(o->cpuid_file, table) < 0) {
			ret = -RUN_EXIT_USAGE;
			goto out;
		}
	}
	for (i = 0; i < ctx->nr_vcpus; i++) {
		struct xvcpu_vcpu *vcpu = xvcpu_vcpu_create(vm, i);
		int err;

		if (!vcpu) {
			fprintf(stderr, "xvcpu-run: creating vCPU %u: %s\n", i,
				strerror(errno));
			goto out;
		}
		ctx->vcpus[i].vm = ctx;
		ctx->vcpus[i].vcpu = vcpu;
		if (!table)
			continue;
		*mine = *table;
		cpuid_for_vcpu(mine, i);
		err = xvcpu_set_cpuid(vcpu, mine);
		if (err < 0) {
			fprintf(stderr,
				"xvcpu-run: XVCPU_SET_CPUID from %s on vCPU %u: %s\n",
				o->cpuid_file, i, strerror(-err));
			goto out;
		}
	}
	ret = 0;
out:
	free(table);
	free(mine);
	return ret;
}

int main(int argc, char **argv)
{
	struct xvcpu_vm *vm = NULL;
	struct vm_ctx ctx;
	struct options o;
	unsigned int i;
	int sys_fd, ret, cap;
	int status = RUN_EXIT_VMM_ERROR;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return RUN_EXIT_USAGE;
	}
	if (!o.print_cpuid && check_layout(&o) < 0)
		return RUN_EXIT_USAGE;

	sys_fd = xvcpu_open();
	if (sys_fd < 0) {
		fprintf(stderr, "xvcpu-run: /dev/xvcpu: %s\n",
			sys_fd == -EPROTO ? "API version mismatch" :
			strerror(-sys_fd));
		return RUN_EXIT_VMM_ERROR;
	}
	if (o.print_cpuid) {
		status = print_cpuid(sys_fd);
		goto out_close;
	}

	cap = xvcpu_check_cap(sys_fd, XVCPU_CAP_MAX_MEMORY_MB);
	if (cap > 0 && o.mem_size > (uint64_t)cap * MIB) {
		fprintf(stderr,
			"xvcpu-run: --mem %" PRIu64 " MiB exceeds the limit of %d MiB\n",
			(uint64_t)(o.mem_size / MIB), cap);
		goto out_close;
	}
	cap = xvcpu_check_cap(sys_fd, XVCPU_CAP_MAX_VCPUS);
	if (cap > 0 && o.nr_vcpus > (unsigned int)cap) {
		fprintf(stderr,
			"xvcpu-run: --vcpus %u exceeds the limit of %d\n",
			o.nr_vcpus, cap);
		goto out_close;
	}

	memset(&ctx, 0, sizeof(ctx));
	pthread_mutex_init(&ctx.lock, NULL);
	ctx.nr_vcpus = o.nr_vcpus;
	nr_vcpus_running = o.nr_vcpus;
	ctx.vcpus = calloc(o.nr_vcpus, sizeof(*ctx.vcpus));
	if (!ctx.vcpus) {
		fprintf(stderr, "xvcpu-run: %s\n", strerror(errno));
		goto out_close;
	}

	vm = xvcpu_vm_create(sys_fd);
	if (!vm) {
		fprintf(stderr, "xvcpu-run: XVCPU_CREATE_VM: %s\n",
			strerror(errno));
		goto out_free;
	}
	if (!xvcpu_vm_add_memory(vm, 0, 0, o.mem_size, 0)) {
		fprintf(stderr,
			"xvcpu-run: adding %" PRIu64 " MiB of guest memory: %s\n",
			(uint64_t)(o.mem_size / MIB), strerror(errno));
		goto out_vm;
	}
	if (o.msr_exit) {
		ret = set_msr_policy(vm, XVCPU_MSR_EXIT_UNKNOWN);
		if (ret < 0) {
			fprintf(stderr, "xvcpu-run: XVCPU_SET_MSR_POLICY: %s\n",
				strerror(-ret));
			goto out_vm;
		}
	}
	ret = setup_vcpus(&o, &ctx, vm);
	if (ret < 0) {
		if (ret == -RUN_EXIT_USAGE)
			status = RUN_EXIT_USAGE;
		goto out_vcpus;
	}

	switch (o.boot) {
	case BOOT_FLAT:
		ret = load_flat(&o, &ctx, vm);
		break;
	case BOOT_RESET:
		ret = load_reset(&o, sys_fd, vm);
		break;
	case BOOT_MULTIBOOT:
		ret = load_multiboot(&o, &ctx, vm);
		break;
	}
	if (ret < 0)
		goto out_vcpus;

	status = run_guest(&ctx);

out_vcpus:
	for (i = 0; i < o.nr_vcpus; i++)
		xvcpu_vcpu_destroy(ctx.vcpus[i].vcpu);
out_vm:
	xvcpu_vm_destroy(vm);
out_free:
	free(ctx.vcpus);
	pthread_mutex_destroy(&ctx.lock);
out_close:
	close(sys_fd);
	return status;
}
