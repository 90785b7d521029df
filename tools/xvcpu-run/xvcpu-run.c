// SPDX-License-Identifier: GPL-2.0
/*
 * xvcpu-run: the example VMM.
 *
 *   xvcpu-run [--mode real|protected|long] [--load ADDR] [--mem MiB]
 *             [--entry ADDR] IMAGE
 *
 * Creates a VM with --mem MiB of memory at guest-physical 0 (default 16),
 * copies the flat IMAGE to --load (default 0x10000), puts the vCPU in the
 * mode (default long) with RIP = --entry (default: the load address) and
 * the stack just below the image, and runs it.
 *
 * Devices, all port I/O:
 *   0x3f8-0x3ff  COM1, a minimal 16550: bytes written to THR go to stdout;
 *                LSR always reads 0x60 (transmitter empty), so polling
 *                guests work; the other registers read back what was
 *                written or idle values.
 *   0xf4         exit port (like QEMU's isa-debug-exit, but the status is
 *                the byte itself): the guest writes its exit status and
 *                xvcpu-run exits with it.
 *   other ports  writes are ignored, reads return all ones.
 *
 * Exit status: the guest's byte written to port 0xf4; 0 if the guest
 * executes HLT; otherwise one of the RUN_EXIT_* codes below, with a
 * diagnostic (decoded exit, raw XVCPU_GET_EXIT_INFO, registers) on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define MIB			(1024ULL * 1024)
#define DEFAULT_MEM_MIB		16
#define DEFAULT_LOAD		0x10000ULL
#define TABLES_GPA		0x1000ULL
#define MIN_STACK		0x1000ULL
/* Real mode: the stack below the image must stay above the vectors. */
#define REAL_MIN_LOAD		0x1000ULL

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

struct options {
	enum xvcpu_mode mode;
	uint64_t load;
	uint64_t entry;
	int entry_set;
	uint64_t mem_mib;
	const char *image;
};

/* The register file of a 16550 that never receives and sends at once. */
struct uart {
	uint8_t ier, lcr, mcr, scr;
	uint8_t dll, dlm;
};

/* What a handled exit asks the run loop to do. */
enum action {
	ACT_CONTINUE,
	ACT_EXIT,		/* stop, exit with the given status */
};

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
		"usage: xvcpu-run [--mode real|protected|long] [--load ADDR] [--mem MiB]\n"
		"                 [--entry ADDR] IMAGE\n"
		"\n"
		"Run the flat binary IMAGE in an xvcpu VM.\n"
		"  --mode   guest mode at entry (default long)\n"
		"  --load   guest-physical load address (default 0x%llx)\n"
		"  --mem    guest memory in MiB, at guest-physical 0 (default %d)\n"
		"  --entry  entry address (default: the load address)\n"
		"\n"
		"COM1 output (port 0x3f8) goes to stdout.  The guest ends by\n"
		"writing its exit status byte to port 0xf4, or with HLT (status 0).\n"
		"Other exit codes: 1 VMM error, 2 usage, 3 triple fault,\n"
		"4 VM entry failure, 5 internal error, 6 MMIO, 7 other exit.\n",
		DEFAULT_LOAD, DEFAULT_MEM_MIB);
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

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "mode",  required_argument, NULL, 'm' },
		{ "load",  required_argument, NULL, 'l' },
		{ "mem",   required_argument, NULL, 's' },
		{ "entry", required_argument, NULL, 'e' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->mode = XVCPU_MODE_LONG;
	o->load = DEFAULT_LOAD;
	o->entry = 0;
	o->entry_set = 0;
	o->mem_mib = DEFAULT_MEM_MIB;
	o->image = NULL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
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
			break;
		case 'l':
			if (parse_u64(optarg, &o->load) < 0)
				goto bad_number;
			break;
		case 's':
			if (parse_u64(optarg, &o->mem_mib) < 0 ||
			    o->mem_mib == 0 || o->mem_mib > (1ULL << 20))
				goto bad_number;
			break;
		case 'e':
			if (parse_u64(optarg, &o->entry) < 0)
				goto bad_number;
			o->entry_set = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "xvcpu-run: expected exactly one IMAGE\n");
		return -1;
	}
	o->image = argv[optind];
	if (!o->entry_set)
		o->entry = o->load;
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
		"xvcpu-run: VM entry failed: reason 0x%" PRIx64 " (basic %u, %s), qualification 0x%" PRIx64 "\n",
		reason, (unsigned int)(reason & 0xffff),
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

	fprintf(stderr, "xvcpu-run: internal error, suberror %u%s\n",
		run->internal.suberror,
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
		"xvcpu-run: guest access to unbacked or read-only memory: physical 0x%" PRIx64,
		(uint64_t)run->mmio.phys_addr);
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
	fprintf(stderr, "xvcpu-run: %s (exit %u %s)\n", why,
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
 * instruction either way.
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

/* ---- setup and the run loop ---- */

static int run_guest(struct xvcpu_vcpu *vcpu)
{
	struct uart com1;
	int ret, status;

	memset(&com1, 0, sizeof(com1));
	for (;;) {
		ret = xvcpu_vcpu_run(vcpu);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			fprintf(stderr, "xvcpu-run: XVCPU_RUN: %s\n",
				strerror(-ret));
			dump_state(vcpu);
			return RUN_EXIT_VMM_ERROR;
		}

		switch (vcpu->run->exit_reason) {
		case XVCPU_EXIT_IO:
			if (handle_io(vcpu, &com1, &status) == ACT_EXIT)
				return status;
			break;
		case XVCPU_EXIT_HLT:
			return 0;
		case XVCPU_EXIT_INTR:
			break;
		case XVCPU_EXIT_SHUTDOWN:
			fprintf(stderr, "xvcpu-run: guest shutdown (triple fault)\n");
			dump_state(vcpu);
			return RUN_EXIT_SHUTDOWN;
		case XVCPU_EXIT_FAIL_ENTRY:
			return report_fail_entry(vcpu);
		case XVCPU_EXIT_INTERNAL_ERROR:
			return report_internal(vcpu);
		case XVCPU_EXIT_MMIO:
			return report_mmio(vcpu);
		default:
			return report_unexpected(vcpu, "unexpected exit");
		}
	}
}

/* Read the whole of @path into guest memory at @gpa. */
static int load_image(struct xvcpu_vm *vm, const char *path, uint64_t gpa,
		      uint64_t mem_size, uint64_t *image_size)
{
	struct stat st;
	uint64_t done = 0;
	char *dst;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xvcpu-run: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "xvcpu-run: %s: %s\n", path, strerror(errno));
		goto err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "xvcpu-run: %s: not a non-empty file\n", path);
		goto err;
	}
	if (gpa >= mem_size || (uint64_t)st.st_size > mem_size - gpa) {
		fprintf(stderr,
			"xvcpu-run: %s: %lld bytes at 0x%" PRIx64 " do not fit in %" PRIu64 " MiB of guest memory\n",
			path, (long long)st.st_size, gpa,
			(uint64_t)(mem_size / MIB));
		goto err;
	}

	dst = xvcpu_gpa_to_hva(vm, gpa);
	if (!dst) {
		fprintf(stderr, "xvcpu-run: no guest memory at 0x%" PRIx64 "\n",
			gpa);
		goto err;
	}
	while (done < (uint64_t)st.st_size) {
		ssize_t n = read(fd, dst + done, (size_t)st.st_size - done);

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
	*image_size = done;
	return 0;

err:
	close(fd);
	return -1;
}

/* Check the layout: tables, stack and image must not overlap. */
static int check_layout(const struct options *o, uint64_t mem_size)
{
	uint64_t min_load;

	if (o->mode == XVCPU_MODE_REAL) {
		min_load = REAL_MIN_LOAD;
		if (o->load >= 0x100000ULL || o->entry >= 0x100000ULL) {
			fprintf(stderr,
				"xvcpu-run: real mode needs load and entry below 1 MiB\n");
			return -1;
		}
	} else {
		min_load = TABLES_GPA + XVCPU_SETUP_TABLES_SIZE + MIN_STACK;
	}
	if (o->load < min_load) {
		fprintf(stderr,
			"xvcpu-run: --load must be at least 0x%" PRIx64 " in %s mode (tables and stack lie below the image)\n",
			min_load, mode_name(o->mode));
		return -1;
	}
	if (o->entry >= mem_size) {
		fprintf(stderr,
			"xvcpu-run: entry 0x%" PRIx64 " is outside guest memory\n",
			o->entry);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xvcpu_vcpu *vcpu = NULL;
	struct xvcpu_vm *vm = NULL;
	struct options o;
	uint64_t mem_size, image_size, stack;
	int sys_fd, ret, cap;
	int status = RUN_EXIT_VMM_ERROR;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return RUN_EXIT_USAGE;
	}
	mem_size = o.mem_mib * MIB;
	if (check_layout(&o, mem_size) < 0)
		return RUN_EXIT_USAGE;

	sys_fd = xvcpu_open();
	if (sys_fd < 0) {
		fprintf(stderr, "xvcpu-run: /dev/xvcpu: %s\n",
			sys_fd == -EPROTO ? "API version mismatch" :
			strerror(-sys_fd));
		return RUN_EXIT_VMM_ERROR;
	}

	cap = xvcpu_check_cap(sys_fd, XVCPU_CAP_MAX_MEMORY_MB);
	if (cap > 0 && o.mem_mib > (uint64_t)cap) {
		fprintf(stderr,
			"xvcpu-run: --mem %" PRIu64 " exceeds the limit of %d MiB\n",
			o.mem_mib, cap);
		goto out_close;
	}

	vm = xvcpu_vm_create(sys_fd);
	if (!vm) {
		fprintf(stderr, "xvcpu-run: XVCPU_CREATE_VM: %s\n",
			strerror(errno));
		goto out_close;
	}
	if (!xvcpu_vm_add_memory(vm, 0, 0, mem_size, 0)) {
		fprintf(stderr,
			"xvcpu-run: adding %" PRIu64 " MiB of guest memory: %s\n",
			o.mem_mib, strerror(errno));
		goto out_vm;
	}
	if (load_image(vm, o.image, o.load, mem_size, &image_size) < 0)
		goto out_vm;

	if (o.mode == XVCPU_MODE_REAL &&
	    o.load + image_size > (((o.entry >> 4) & 0xf000) << 4) + 0x10000)
		fprintf(stderr,
			"xvcpu-run: warning: image extends past the 64 KiB code segment\n");

	vcpu = xvcpu_vcpu_create(vm, 0);
	if (!vcpu) {
		fprintf(stderr, "xvcpu-run: creating vCPU 0: %s\n",
			strerror(errno));
		goto out_vm;
	}

	stack = o.load & ~0xfULL;
	ret = xvcpu_vcpu_setup_mode(vcpu, o.mode, o.entry, stack, TABLES_GPA);
	if (ret < 0) {
		fprintf(stderr, "xvcpu-run: setting up %s mode: %s\n",
			mode_name(o.mode), strerror(-ret));
		goto out_vcpu;
	}

	status = run_guest(vcpu);

out_vcpu:
	xvcpu_vcpu_destroy(vcpu);
out_vm:
	xvcpu_vm_destroy(vm);
out_close:
	close(sys_fd);
	return status;
}
