// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of xvcpu-run without the kernel module.
 *
 * xvcpu-run.c is compiled with -Dmain=xvcpu_run_main and linked with the
 * fake libxvcpu below, which plays a scripted sequence of exits on the
 * run page.  Each scenario runs xvcpu-run in a child process with stdout
 * and stderr captured; the parent checks exit status and output.
 *
 * Prints one line per failed check and a final "N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/libxvcpu.h"

int xvcpu_run_main(int argc, char **argv);

/* ---- the script ---- */

enum step_kind {
	S_OUT,		/* port, size, data */
	S_IN,		/* port, size; data = value expected back */
	S_HLT,
	S_EXIT,		/* any other exit reason: data */
	S_RUN_ERROR,	/* XVCPU_RUN fails with -data */
	S_STRING_IO,
};

struct step {
	enum step_kind kind;
	uint16_t port;
	uint8_t size;
	uint64_t data;
};

#define OUT(p, s, d)	{ S_OUT, p, s, d }
#define IN(p, s, want)	{ S_IN, p, s, want }
#define HLT		{ S_HLT, 0, 0, 0 }
#define EXIT(r)		{ S_EXIT, 0, 0, r }
#define RUN_ERROR(e)	{ S_RUN_ERROR, 0, 0, e }
#define END		{ S_HLT, 0xffff, 0, 0 }	/* marks the end */

#define FAKE_STATUS	99	/* the fake saw something wrong */

/* The child's state: set before xvcpu_run_main() runs. */
static const struct step *script;
static unsigned int script_pos;
static const struct step *pending_in;
static uint8_t *fake_mem;
static uint64_t fake_mem_size;
static const uint8_t *image_bytes;
static size_t image_len;
static uint64_t image_load;

/* ---- the fake libxvcpu ---- */

int xvcpu_open(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int xvcpu_check_cap(int sys_fd, unsigned long cap)
{
	(void)sys_fd;
	return cap == XVCPU_CAP_MAX_MEMORY_MB ? 64 : 0;
}

struct xvcpu_vm *xvcpu_vm_create(int sys_fd)
{
	struct xvcpu_vm *vm = calloc(1, sizeof(*vm));

	if (vm) {
		vm->sys_fd = sys_fd;
		vm->fd = -1;
	}
	return vm;
}

void xvcpu_vm_destroy(struct xvcpu_vm *vm)
{
	free(vm);
}

void *xvcpu_vm_add_memory(struct xvcpu_vm *vm, uint32_t slot, uint64_t gpa,
			  uint64_t size, uint32_t flags)
{
	(void)vm;
	if (slot != 0 || gpa != 0 || flags != 0 || fake_mem) {
		errno = EINVAL;
		return NULL;
	}
	fake_mem = calloc(1, size);
	fake_mem_size = size;
	return fake_mem;
}

int xvcpu_vm_remove_memory(struct xvcpu_vm *vm, uint32_t slot)
{
	(void)vm;
	(void)slot;
	return -EOPNOTSUPP;
}

void *xvcpu_gpa_to_hva(struct xvcpu_vm *vm, uint64_t gpa)
{
	(void)vm;
	return gpa < fake_mem_size ? fake_mem + gpa : NULL;
}

struct xvcpu_vcpu *xvcpu_vcpu_create(struct xvcpu_vm *vm, unsigned int id)
{
	struct xvcpu_vcpu *vcpu = calloc(1, sizeof(*vcpu));

	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = -1;
	vcpu->run_size = 4096;
	vcpu->run = calloc(1, vcpu->run_size);
	if (!vcpu->run) {
		free(vcpu);
		return NULL;
	}
	return vcpu;
}

void xvcpu_vcpu_destroy(struct xvcpu_vcpu *vcpu)
{
	free(vcpu->run);
	free(vcpu);
}

int xvcpu_vcpu_setup_mode(struct xvcpu_vcpu *vcpu, enum xvcpu_mode mode,
			  uint64_t entry, uint64_t stack, uint64_t tables_gpa)
{
	(void)vcpu;
	fprintf(stderr,
		"fake: setup mode=%d entry=0x%" PRIx64 " stack=0x%" PRIx64 " tables=0x%" PRIx64 "\n",
		mode, entry, stack, tables_gpa);
	if (image_load + image_len > fake_mem_size ||
	    memcmp(fake_mem + image_load, image_bytes, image_len)) {
		fprintf(stderr, "fake: image not at 0x%" PRIx64 "\n",
			image_load);
		return -EIO;
	}
	return 0;
}

static void fake_fail(struct xvcpu_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fake: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	/* Make xvcpu-run exit with FAKE_STATUS. */
	memset(run, 0, sizeof(*run));
	run->exit_reason = XVCPU_EXIT_IO;
	run->io.direction = XVCPU_IO_OUT;
	run->io.size = 1;
	run->io.port = 0xf4;
	run->io.count = 1;
	run->io.data = FAKE_STATUS;
}

int xvcpu_vcpu_run(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;
	const struct step *s;

	if (pending_in) {
		uint64_t mask = (1ULL << (8 * pending_in->size)) - 1;

		if ((run->io.data & mask) != pending_in->data) {
			fake_fail(run, "IN port 0x%x got 0x%" PRIx64 " want 0x%" PRIx64,
				  pending_in->port, (uint64_t)run->io.data,
				  (uint64_t)pending_in->data);
			pending_in = NULL;
			return 0;
		}
		pending_in = NULL;
	}

	s = &script[script_pos];
	if (s->kind == S_HLT && s->port == 0xffff) {
		fake_fail(run, "xvcpu-run ran past the end of the script");
		return 0;
	}
	script_pos++;

	memset(run, 0, sizeof(*run));
	/* Garbage where the VMM must write the IN value. */
	run->io.data = 0x5a5a5a5a5a5a5a5aULL;
	switch (s->kind) {
	case S_OUT:
	case S_IN:
	case S_STRING_IO:
		run->exit_reason = XVCPU_EXIT_IO;
		run->io.direction = s->kind == S_OUT ? XVCPU_IO_OUT :
				    XVCPU_IO_IN;
		run->io.size = s->size;
		run->io.port = s->port;
		run->io.count = s->kind == S_STRING_IO ? 2 : 1;
		if (s->kind == S_OUT)
			run->io.data = s->data;
		if (s->kind == S_IN)
			pending_in = s;
		return 0;
	case S_HLT:
		run->exit_reason = XVCPU_EXIT_HLT;
		return 0;
	case S_EXIT:
		run->exit_reason = (uint32_t)s->data;
		switch (s->data) {
		case XVCPU_EXIT_FAIL_ENTRY:
			run->fail_entry.hardware_entry_failure_reason =
				0x80000021;
			run->fail_entry.exit_qualification = 0;
			break;
		case XVCPU_EXIT_INTERNAL_ERROR:
			run->internal.suberror = XVCPU_INTERNAL_UNHANDLED_EXIT;
			run->internal.ndata = 8;
			run->internal.data[0] = 48;
			run->internal.data[2] = 0xfee00000;
			run->internal.data[7] = 0x10042;
			break;
		case XVCPU_EXIT_MMIO:
			run->mmio.phys_addr = 0xfee00000;
			run->mmio.linear_addr = 0xfee00000;
			run->mmio.linear_valid = 1;
			run->mmio.access = XVCPU_MMIO_WRITE;
			break;
		case XVCPU_EXIT_INTR:
			return -EINTR;
		}
		return 0;
	case S_RUN_ERROR:
		return -(int)s->data;
	}
	return -EINVAL;
}

int xvcpu_get_regs(struct xvcpu_vcpu *vcpu, struct xvcpu_regs *regs)
{
	(void)vcpu;
	memset(regs, 0, sizeof(*regs));
	regs->rip = 0x10042;
	regs->rflags = 0x2;
	return 0;
}

int xvcpu_set_regs(struct xvcpu_vcpu *vcpu, const struct xvcpu_regs *regs)
{
	(void)vcpu;
	(void)regs;
	return -EOPNOTSUPP;
}

int xvcpu_get_sregs(struct xvcpu_vcpu *vcpu, struct xvcpu_sregs *sregs)
{
	(void)vcpu;
	memset(sregs, 0, sizeof(*sregs));
	sregs->cr0 = 0x80010033;
	return 0;
}

int xvcpu_set_sregs(struct xvcpu_vcpu *vcpu, const struct xvcpu_sregs *sregs)
{
	(void)vcpu;
	(void)sregs;
	return -EOPNOTSUPP;
}

int xvcpu_get_exit_info(struct xvcpu_vcpu *vcpu, struct xvcpu_exit_info *info)
{
	(void)vcpu;
	memset(info, 0, sizeof(*info));
	info->exit_reason = 2;
	info->basic_reason = 2;
	info->idt_vectoring_info = 0x80000b0e;	/* #PF, error code */
	info->idt_vectoring_error_code = 2;
	return 0;
}

const char *xvcpu_exit_name(uint32_t exit_reason)
{
	return exit_reason == XVCPU_EXIT_UNKNOWN ? "UNKNOWN" : "X";
}

/* ---- the driver ---- */

static unsigned int passed, failed;
static char image_path[64];
static const uint8_t test_image[] = { 0xf4, 0x90, 0x90, 0xeb, 0xfe, 0x42 };

struct result {
	int status;		/* exit code, or -1 if killed */
	char out[4096];
	char err[8192];
};

static void read_all(int fd, char *buf, size_t size)
{
	ssize_t n;
	size_t len = 0;

	lseek(fd, 0, SEEK_SET);
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
}

/* Run xvcpu-run with @args (NULL-terminated) against @steps. */
static void run_vmm(const char *const *args, const struct step *steps,
		    uint64_t load, struct result *res)
{
	char out_tmp[] = "/tmp/xvcpu-run-test-out.XXXXXX";
	char err_tmp[] = "/tmp/xvcpu-run-test-err.XXXXXX";
	char *argv[16];
	int out_fd, err_fd, argc = 0, wstatus;
	pid_t pid;

	argv[argc++] = "xvcpu-run";
	while (*args && argc < 14)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;

	out_fd = mkstemp(out_tmp);
	err_fd = mkstemp(err_tmp);
	if (out_fd < 0 || err_fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	unlink(out_tmp);
	unlink(err_tmp);

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		script = steps;
		image_bytes = test_image;
		image_len = sizeof(test_image);
		image_load = load;
		if (dup2(out_fd, STDOUT_FILENO) < 0 ||
		    dup2(err_fd, STDERR_FILENO) < 0)
			_exit(2);
		optind = 1;
		exit(xvcpu_run_main(argc, argv));
	}
	if (waitpid(pid, &wstatus, 0) < 0) {
		perror("waitpid");
		exit(2);
	}
	res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	read_all(out_fd, res->out, sizeof(res->out));
	read_all(err_fd, res->err, sizeof(res->err));
	close(out_fd);
	close(err_fd);
}

static void expect(const char *name, const struct result *r, int status,
		   const char *out, const char *const *err_has)
{
	int ok = r->status == status && (!out || !strcmp(r->out, out));

	for (; ok && err_has && *err_has; err_has++)
		ok = strstr(r->err, *err_has) != NULL;
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: status %d (want %d)\n  stdout: \"%s\"\n  stderr:\n%s\n",
	       name, r->status, status, r->out, r->err);
}

#define ARGS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define HAS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define STEPS(...)	((const struct step []){ __VA_ARGS__, END })

int main(void)
{
	struct result r;
	int fd;

	snprintf(image_path, sizeof(image_path), "%s",
		 "/tmp/xvcpu-run-test-img.XXXXXX");
	fd = mkstemp(image_path);
	if (fd < 0 || write(fd, test_image, sizeof(test_image)) !=
		      (ssize_t)sizeof(test_image)) {
		perror("image");
		return 2;
	}
	close(fd);

	/* COM1 output, LSR polling, exit port. */
	run_vmm(ARGS(image_path),
		STEPS(OUT(0x3f8, 1, 'H'), IN(0x3fd, 1, 0x60),
		      OUT(0x3f8, 1, 'i'), OUT(0x3f8, 1, '\n'),
		      OUT(0xf4, 1, 0)),
		0x10000, &r);
	expect("hello", &r, 0, "Hi\n",
	       HAS("fake: setup mode=2 entry=0x10000 stack=0x10000 tables=0x1000"));

	run_vmm(ARGS(image_path), STEPS(OUT(0xf4, 4, 0x12a)), 0x10000, &r);
	expect("exit status is the low byte", &r, 0x2a, "", NULL);

	/* Divisor latch writes are not output; LCR reads back. */
	run_vmm(ARGS(image_path),
		STEPS(OUT(0x3fb, 1, 0x80), OUT(0x3f8, 1, 0x01),
		      OUT(0x3f9, 1, 0x00), IN(0x3f8, 1, 0x01),
		      OUT(0x3fb, 1, 0x03), OUT(0x3f8, 1, 'A'),
		      IN(0x3fb, 1, 0x03), IN(0x3fa, 1, 0x01), HLT),
		0x10000, &r);
	expect("uart dlab", &r, 0, "A", NULL);

	run_vmm(ARGS(image_path),
		STEPS(IN(0x60, 1, 0xff), IN(0x61, 2, 0xffff),
		      IN(0x62, 4, 0xffffffff), OUT(0x80, 1, 0x12),
		      EXIT(XVCPU_EXIT_INTR), HLT),
		0x10000, &r);
	expect("other ports, EINTR, HLT", &r, 0, "", NULL);

	run_vmm(ARGS(image_path), STEPS(EXIT(XVCPU_EXIT_SHUTDOWN)), 0x10000,
		&r);
	expect("shutdown", &r, 3, "",
	       HAS("triple fault", "rip 0000000000010042",
		   "TRIPLE_FAULT", "vector 14 (#PF)", "error code 0x2",
		   "cr0 0000000080010033"));

	run_vmm(ARGS(image_path), STEPS(EXIT(XVCPU_EXIT_FAIL_ENTRY)),
		0x10000, &r);
	expect("fail entry", &r, 4, "", HAS("invalid guest state"));

	run_vmm(ARGS(image_path), STEPS(EXIT(XVCPU_EXIT_INTERNAL_ERROR)),
		0x10000, &r);
	expect("internal error", &r, 5, "",
	       HAS("unhandled exit", "EPT_VIOLATION", "0x00000000fee00000",
		   "guest rip"));

	run_vmm(ARGS(image_path), STEPS(EXIT(XVCPU_EXIT_MMIO)), 0x10000, &r);
	expect("mmio", &r, 6, "",
	       HAS("physical 0xfee00000", "linear 0xfee00000", "write"));

	run_vmm(ARGS(image_path), STEPS(EXIT(XVCPU_EXIT_UNKNOWN)), 0x10000,
		&r);
	expect("unknown exit", &r, 7, "", HAS("unexpected exit"));

	run_vmm(ARGS(image_path), STEPS({ S_STRING_IO, 0x3f8, 1, 0 }),
		0x10000, &r);
	expect("string io", &r, 7, "", HAS("string"));

	run_vmm(ARGS(image_path), STEPS(RUN_ERROR(EFAULT)), 0x10000, &r);
	expect("run error", &r, 1, "", HAS("XVCPU_RUN: Bad address"));

	/* Options. */
	run_vmm(ARGS("--mode", "real", "--load", "0x2000", image_path),
		STEPS(HLT), 0x2000, &r);
	expect("real mode layout", &r, 0, "",
	       HAS("fake: setup mode=0 entry=0x2000 stack=0x2000"));

	run_vmm(ARGS("--mode", "protected", "--load", "0x20008", "--entry",
		     "0x20009", image_path),
		STEPS(HLT), 0x20008, &r);
	expect("protected, entry, stack alignment", &r, 0, "",
	       HAS("fake: setup mode=1 entry=0x20009 stack=0x20000 tables=0x1000"));

	run_vmm(ARGS("--load", "0x8000", image_path), STEPS(HLT), 0x8000, &r);
	expect("image over the tables", &r, 2, "", HAS("--load must be"));

	run_vmm(ARGS("--mem", "1", "--load", "0xffffe", image_path),
		STEPS(HLT), 0xffffe, &r);
	expect("image past memory", &r, 1, "", HAS("do not fit"));

	run_vmm(ARGS("--mem", "65", image_path), STEPS(HLT), 0x10000, &r);
	expect("memory above the cap", &r, 1, "", HAS("exceeds the limit"));

	run_vmm(ARGS("--mode", "virtual", image_path), STEPS(HLT), 0x10000,
		&r);
	expect("bad mode", &r, 2, "", HAS("unknown mode", "usage"));

	run_vmm(ARGS("--load", "12x", image_path), STEPS(HLT), 0x10000, &r);
	expect("bad number", &r, 2, "", HAS("bad number"));

	run_vmm(ARGS("/nonexistent/image"), STEPS(HLT), 0x10000, &r);
	expect("missing image", &r, 1, "", HAS("/nonexistent/image"));

	run_vmm(ARGS("--mode", "real", "--load", "0x100000", image_path),
		STEPS(HLT), 0x10000, &r);
	expect("real mode above 1 MiB", &r, 2, "", HAS("below 1 MiB"));

	unlink(image_path);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
