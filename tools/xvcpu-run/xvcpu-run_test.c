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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
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
	S_MSR,		/* port = write, size unused, data = index */
	S_WAIT,		/* until xvcpu-run sets immediate_exit: -EINTR */
	S_SLEEP,	/* data milliseconds, then -EINTR */
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
#define RDMSR(i)	{ S_MSR, 0, 0, i }
#define WRMSR(i)	{ S_MSR, 1, 0, i }
#define WAIT		{ S_WAIT, 0, 0, 0 }
#define SLEEP(ms)	{ S_SLEEP, 0, 0, ms }
#define END		{ S_HLT, 0xffff, 0, 0 }	/* marks the end */

#define FAKE_STATUS	99	/* the fake saw something wrong */

/* The child's state: set before xvcpu_run_main() runs. */
static const struct step *script;		/* vCPU 0 */
static const struct step *other_script;		/* the others; NULL: HLT */
static int no_image_check;			/* not a flat IMAGE */
static uint64_t fake_entry;			/* of the last setup */
static uint8_t *fake_mem;
static uint64_t fake_mem_size;
static uint8_t *fake_rom;
static uint64_t fake_rom_gpa, fake_rom_size;
static const uint8_t *image_bytes;
static size_t image_len;
static uint64_t image_load;

/* Each vCPU plays its script on its own thread. */
#define FAKE_MAX_VCPUS	8
struct fake_vcpu {
	unsigned int pos;
	const struct step *pending_in, *pending_msr;
};
static struct fake_vcpu fake_vcpus[FAKE_MAX_VCPUS];
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct step halt_script[] = { HLT, END };

/* File descriptor numbers the fake VM and vCPUs pretend to have. */
#define FAKE_VM_FD	1000
#define FAKE_VCPU_FD	1100

/* ---- the fake libxvcpu ---- */

int xvcpu_open(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int xvcpu_check_cap(int sys_fd, unsigned long cap)
{
	(void)sys_fd;
	switch (cap) {
	case XVCPU_CAP_MAX_MEMORY_MB:
		return 64;
	case XVCPU_CAP_MAX_VCPUS:
		return FAKE_MAX_VCPUS;
	case XVCPU_CAP_READONLY_MEM:
		return 1;
	}
	return 0;
}

struct xvcpu_vm *xvcpu_vm_create(int sys_fd)
{
	struct xvcpu_vm *vm = calloc(1, sizeof(*vm));

	if (vm) {
		vm->sys_fd = sys_fd;
		vm->fd = FAKE_VM_FD;
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
	fprintf(stderr, "fake: slot %u gpa=0x%" PRIx64 " size=0x%" PRIx64 " flags=%u\n",
		slot, gpa, size, flags);
	if (slot == 1 && !fake_rom) {
		fake_rom = calloc(1, size);
		fake_rom_gpa = gpa;
		fake_rom_size = size;
		return fake_rom;
	}
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
	if (fake_rom && gpa >= fake_rom_gpa && gpa - fake_rom_gpa < fake_rom_size)
		return fake_rom + (gpa - fake_rom_gpa);
	return gpa < fake_mem_size ? fake_mem + gpa : NULL;
}

struct xvcpu_vcpu *xvcpu_vcpu_create(struct xvcpu_vm *vm, unsigned int id)
{
	struct xvcpu_vcpu *vcpu = calloc(1, sizeof(*vcpu));

	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = FAKE_VCPU_FD + (int)id;
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
	if (!vcpu)
		return;
	free(vcpu->run);
	free(vcpu);
}

int xvcpu_vcpu_setup_mode(struct xvcpu_vcpu *vcpu, enum xvcpu_mode mode,
			  uint64_t entry, uint64_t stack, uint64_t tables_gpa)
{
	fprintf(stderr,
		"fake: setup mode=%d entry=0x%" PRIx64 " stack=0x%" PRIx64 " tables=0x%" PRIx64 " vcpu=%u\n",
		mode, entry, stack, tables_gpa, vcpu->id);
	fake_entry = entry;
	if (no_image_check)
		return 0;
	if (image_load + image_len > fake_mem_size ||
	    memcmp(fake_mem + image_load, image_bytes, image_len)) {
		fprintf(stderr, "fake: image not at 0x%" PRIx64 "\n",
			image_load);
		return -EIO;
	}
	return 0;
}

static void fake_fail(struct xvcpu_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
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

/* Wait (boundedly) until xvcpu-run sets immediate_exit on @run. */
static int fake_wait_kick(struct xvcpu_vcpu *vcpu)
{
	const struct timespec tick = { .tv_nsec = 1000 * 1000 };
	unsigned int i;

	for (i = 0; i < 5000; i++) {
		if (__atomic_load_n(&vcpu->run->immediate_exit,
				    __ATOMIC_SEQ_CST)) {
			fprintf(stderr, "fake: vcpu %u kicked\n", vcpu->id);
			return -EINTR;
		}
		nanosleep(&tick, NULL);
	}
	fake_fail(vcpu->run, "vcpu %u was never kicked", vcpu->id);
	return 0;
}

/* Check what xvcpu-run left in the run page for the previous exit. */
static int fake_check_completion(struct fake_vcpu *f, struct xvcpu_run *run)
{
	if (f->pending_in) {
		const struct step *in = f->pending_in;
		uint64_t mask = (1ULL << (8 * in->size)) - 1;

		f->pending_in = NULL;
		if ((run->io.data & mask) != in->data) {
			fake_fail(run, "IN port 0x%x got 0x%" PRIx64 " want 0x%" PRIx64,
				  in->port, (uint64_t)run->io.data,
				  (uint64_t)in->data);
			return -1;
		}
	}
	if (f->pending_msr) {
		const struct step *msr = f->pending_msr;

		f->pending_msr = NULL;
		if (run->msr.error || (!msr->port && run->msr.data)) {
			fake_fail(run, "MSR 0x%" PRIx64 ": error %u data 0x%" PRIx64,
				  msr->data, run->msr.error,
				  (uint64_t)run->msr.data);
			return -1;
		}
	}
	return 0;
}

int xvcpu_vcpu_run(struct xvcpu_vcpu *vcpu)
{
	struct xvcpu_run *run = vcpu->run;
	struct fake_vcpu *f;
	const struct step *s, *steps;

	if (vcpu->id >= FAKE_MAX_VCPUS)
		return -EINVAL;
	f = &fake_vcpus[vcpu->id];
	steps = vcpu->id == 0 ? script :
		other_script ? other_script : halt_script;
	if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST))
		return -EINTR;
	if (vcpu->id == 0 && f->pos == 0 && fake_rom &&
	    fake_rom_size >= image_len &&
	    !memcmp(fake_rom + fake_rom_size - image_len, image_bytes,
		    image_len) &&
	    fake_rom_gpa + fake_rom_size == 0x100000000ULL)
		fprintf(stderr, "fake: rom ends with the image\n");
	if (fake_check_completion(f, run) < 0)
		return 0;

	s = &steps[f->pos];
	if (s->kind == S_HLT && s->port == 0xffff) {
		fake_fail(run, "xvcpu-run ran past the end of the script");
		return 0;
	}
	f->pos++;

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
			f->pending_in = s;
		return 0;
	case S_MSR:
		run->exit_reason = XVCPU_EXIT_MSR;
		run->msr.index = (uint32_t)s->data;
		run->msr.direction = s->port ? XVCPU_MSR_WRITE : XVCPU_MSR_READ;
		run->msr.data = s->port ? 0x1122334455667788ULL :
			       0x5a5a5a5a5a5a5a5aULL;
		f->pending_msr = s;
		return 0;
	case S_WAIT:
		return fake_wait_kick(vcpu);
	case S_SLEEP: {
		struct timespec ts = { .tv_nsec = (long)s->data * 1000000 };

		nanosleep(&ts, NULL);
		return -EINTR;
	}
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

static uint32_t fake_le32(uint64_t gpa)
{
	uint32_t v = 0;

	if (gpa + 4 <= fake_mem_size)
		memcpy(&v, fake_mem + gpa, 4);
	return v;
}

static const char *fake_str(uint64_t gpa)
{
	if (gpa >= fake_mem_size || !memchr(fake_mem + gpa, 0,
					    fake_mem_size - gpa))
		return "(bad)";
	return (const char *)fake_mem + gpa;
}

static void fake_dump(uint64_t gpa)
{
	fprintf(stderr, "fake: 0x%" PRIx64 ": %08x %08x %08x %08x\n", gpa,
		fake_le32(gpa), fake_le32(gpa + 4), fake_le32(gpa + 8),
		fake_le32(gpa + 12));
}

/* Multiboot entry: shows the registers and the information EBX points at. */
int xvcpu_set_regs(struct xvcpu_vcpu *vcpu, const struct xvcpu_regs *regs)
{
	uint64_t mbi = regs->rbx;

	fprintf(stderr,
		"fake: set_regs vcpu=%u rax=0x%" PRIx64 " rbx=0x%" PRIx64 " rip=0x%" PRIx64 "\n",
		vcpu->id, (uint64_t)regs->rax, mbi, (uint64_t)regs->rip);
	if (mbi + 128 <= fake_mem_size)
		fprintf(stderr,
			"fake: mbi flags=0x%x lower=%u upper=%u mmap=0x%x+%u [0x%x 0x%x 0x%x 0x%x] cmdline=%s loader=%s\n",
			fake_le32(mbi), fake_le32(mbi + 4), fake_le32(mbi + 8),
			fake_le32(mbi + 48), fake_le32(mbi + 44),
			fake_le32(fake_le32(mbi + 48) + 12),
			fake_le32(fake_le32(mbi + 48) + 20),
			fake_le32(fake_le32(mbi + 48) + 24 + 4),
			fake_le32(fake_le32(mbi + 48) + 24 + 12),
			fake_str(fake_le32(mbi + 16)),
			fake_str(fake_le32(mbi + 64)));
	/* The kernel's first bytes, from the page of its entry point */
	fake_dump(fake_entry & ~0xfffULL);
	return 0;
}

int xvcpu_set_cpuid(struct xvcpu_vcpu *vcpu, const struct xvcpu_cpuid *cpuid)
{
	uint32_t i;

	pthread_mutex_lock(&fake_lock);
	fprintf(stderr, "fake: cpuid vcpu=%u nent=%u", vcpu->id, cpuid->nent);
	for (i = 0; i < cpuid->nent; i++)
		fprintf(stderr, " %x:%x:%x=%x,%x,%x,%x",
			cpuid->entries[i].function, cpuid->entries[i].index,
			cpuid->entries[i].flags, cpuid->entries[i].eax,
			cpuid->entries[i].ebx, cpuid->entries[i].ecx,
			cpuid->entries[i].edx);
	fprintf(stderr, "\n");
	pthread_mutex_unlock(&fake_lock);
	return 0;
}

int xvcpu_get_supported_cpuid(int sys_fd, struct xvcpu_cpuid *out)
{
	(void)sys_fd;
	memset(out, 0, sizeof(*out));
	out->nent = 2;
	out->entries[0].function = 0;
	out->entries[0].eax = 0xd;
	out->entries[0].ebx = 0x756e6547;
	out->entries[1].function = 7;
	out->entries[1].index = 0;
	out->entries[1].flags = XVCPU_CPUID_FLAG_INDEXED;
	out->entries[1].ebx = 0x209;
	return 0;
}

/*
 * XVCPU_SET_MSR_POLICY, which xvcpu-run makes itself (libxvcpu has no
 * wrapper for it): recorded on stderr.  Any other ioctl goes to the
 * kernel.
 */
int ioctl(int fd, unsigned long req, ...)
{
	const struct xvcpu_msr_policy *policy;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (req == XVCPU_SET_MSR_POLICY) {
		policy = arg;
		fprintf(stderr, "fake: msr policy fd=%d flags=0x%x\n", fd,
			policy->flags);
		return fd == FAKE_VM_FD ? 0 : -1;
	}
	return (int)syscall(SYS_ioctl, fd, req, arg);
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

/* @r's stderr must not contain @text. */
static void expect_lacks(const char *name, const struct result *r,
			 const char *text)
{
	if (!strstr(r->err, text)) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: stderr has \"%s\":\n%s\n", name, text, r->err);
}

/* A temporary file holding @len bytes of @data; its name in @path. */
static void temp_file(char *path, size_t size, const void *data, size_t len)
{
	int fd;

	snprintf(path, size, "%s", "/tmp/xvcpu-run-test-file.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror("temp file");
		exit(2);
	}
	close(fd);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* A multiboot header at @p: @flags, then the address fields. */
static void mb_header(uint8_t *p, uint32_t flags, const uint32_t addr[5])
{
	put32(p, 0x1badb002);
	put32(p + 4, flags);
	put32(p + 8, -(0x1badb002 + flags));
	if (addr)
		memcpy(p + 12, addr, 20);
}

#define ARGS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define HAS(...)	((const char *const []){ __VA_ARGS__, NULL })
#define STEPS(...)	((const struct step []){ __VA_ARGS__, END })

static const char cpuid_text[] =
	"# a table\n"
	"0x1 *  0x306a9 0xff000800 0x80000001 2\n"
	"\n"
	"  7 0x0 0 9 0 0   # indexed\n"
	"0xb 1 1 2 0x201 0x99\n";

int main(void)
{
	char file_path[64], want[512];
	uint8_t mb[256];
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

	/* --mem sizes */
	run_vmm(ARGS("--mem", "64M", image_path), STEPS(HLT), 0x10000, &r);
	expect("mem 64M", &r, 0, "", HAS("slot 0 gpa=0x0 size=0x4000000"));

	run_vmm(ARGS("--mem", "2048k", image_path), STEPS(HLT), 0x10000, &r);
	expect("mem 2048k", &r, 0, "", HAS("slot 0 gpa=0x0 size=0x200000"));

	run_vmm(ARGS("--mem", "1G", image_path), STEPS(HLT), 0x10000, &r);
	expect("mem 1G above the cap", &r, 1, "",
	       HAS("--mem 1024 MiB exceeds the limit of 64 MiB"));

	run_vmm(ARGS("--mem", "1T", image_path), STEPS(HLT), 0x10000, &r);
	expect("mem bad suffix", &r, 2, "", HAS("bad memory size"));

	run_vmm(ARGS("--mem", "4097K", image_path), STEPS(HLT), 0x10000, &r);
	expect("mem not a multiple of 4K", &r, 2, "", HAS("bad memory size"));

	run_vmm(ARGS("--mem", "2G0", image_path), STEPS(HLT), 0x10000, &r);
	expect("mem trailing junk", &r, 2, "", HAS("bad memory size"));

	/* Several vCPUs: every one set up, each with its own stack */
	run_vmm(ARGS("--vcpus", "3", image_path),
		STEPS(OUT(0x3f8, 1, 'A'), HLT), 0x10000, &r);
	expect("vcpus 3", &r, 0, "A",
	       HAS("stack=0x10000 tables=0x1000 vcpu=0",
		   "stack=0xf000 tables=0x1000 vcpu=1",
		   "stack=0xe000 tables=0x1000 vcpu=2"));

	/* The exit port of one vCPU stops the others */
	other_script = STEPS(SLEEP(50), OUT(0x3f8, 1, 'B'),
			     OUT(0xf4, 1, 0x2a));
	run_vmm(ARGS("--vcpus", "2", image_path), STEPS(WAIT), 0x10000, &r);
	expect("exit port stops every vcpu", &r, 0x2a, "B",
	       HAS("fake: vcpu 0 kicked"));

	other_script = STEPS(SLEEP(50), EXIT(XVCPU_EXIT_SHUTDOWN));
	run_vmm(ARGS("--vcpus", "2", image_path), STEPS(WAIT), 0x10000, &r);
	expect("a vcpu's error ends the run", &r, 3, "",
	       HAS("xvcpu-run: vCPU 1: guest shutdown", "fake: vcpu 0 kicked"));

	other_script = STEPS(OUT(0x3f8, 1, 'C'), HLT);
	run_vmm(ARGS("--vcpus", "2", image_path),
		STEPS(OUT(0x3f8, 1, 'C'), HLT), 0x10000, &r);
	expect("all vcpus halt", &r, 0, "CC", NULL);
	other_script = NULL;

	run_vmm(ARGS("--vcpus", "0", image_path), STEPS(HLT), 0x10000, &r);
	expect("vcpus 0", &r, 2, "", HAS("bad number of vCPUs"));

	run_vmm(ARGS("--vcpus", "9", "--load", "0x20000", image_path),
		STEPS(HLT), 0x20000, &r);
	expect("vcpus above the cap", &r, 1, "",
	       HAS("--vcpus 9 exceeds the limit of 8"));

	run_vmm(ARGS("--vcpus", "8", "--load", "0x9000", image_path),
		STEPS(HLT), 0x9000, &r);
	expect("vcpus stacks over the tables", &r, 2, "",
	       HAS("--load must be at least 0x10000"));

	/* MSR policy */
	run_vmm(ARGS("--msr-policy", "exit", image_path),
		STEPS(RDMSR(0x1234), WRMSR(0x4321), HLT), 0x10000, &r);
	expect("msr policy exit", &r, 0, "",
	       HAS("fake: msr policy fd=1000 flags=0x1",
		   "RDMSR of unknown MSR 0x1234 reads as 0",
		   "WRMSR of unknown MSR 0x4321 (0x1122334455667788) ignored"));

	run_vmm(ARGS("--msr-policy", "gp", image_path), STEPS(HLT), 0x10000,
		&r);
	expect("msr policy gp", &r, 0, "", NULL);
	expect_lacks("msr policy gp leaves the default", &r, "msr policy");

	run_vmm(ARGS("--msr-policy", "ignore", image_path), STEPS(HLT),
		0x10000, &r);
	expect("bad msr policy", &r, 2, "", HAS("unknown MSR policy"));

	/* CPUID tables */
	temp_file(file_path, sizeof(file_path), cpuid_text,
		  strlen(cpuid_text));
	run_vmm(ARGS("--cpuid", file_path, "--vcpus", "2", image_path),
		STEPS(HLT), 0x10000, &r);
	expect("cpuid file", &r, 0, "",
	       HAS("fake: cpuid vcpu=0 nent=3 1:0:0=306a9,800,80000001,2 7:0:1=0,9,0,0 b:1:1=1,2,201,0\n",
		   "fake: cpuid vcpu=1 nent=3 1:0:0=306a9,1000800,80000001,2 7:0:1=0,9,0,0 b:1:1=1,2,201,1\n"));
	unlink(file_path);

	run_vmm(ARGS("--cpuid", "default", image_path), STEPS(HLT), 0x10000,
		&r);
	expect("cpuid default", &r, 0, "", NULL);
	expect_lacks("cpuid default sets no table", &r, "fake: cpuid");

	temp_file(file_path, sizeof(file_path), "1 * 2 3 4\n", 10);
	run_vmm(ARGS("--cpuid", file_path, image_path), STEPS(HLT), 0x10000,
		&r);
	expect("cpuid short line", &r, 2, "", HAS(":1: expected"));
	unlink(file_path);

	temp_file(file_path, sizeof(file_path), "\n7 0 1 2 3 4\n7 * 1 2 3 4\n",
		  26);
	run_vmm(ARGS("--cpuid", file_path, image_path), STEPS(HLT), 0x10000,
		&r);
	expect("cpuid duplicate", &r, 2, "", HAS(":3: function 0x7 index * given twice"));
	unlink(file_path);

	temp_file(file_path, sizeof(file_path), "1 0 0x100000000 0 0 0\n", 22);
	run_vmm(ARGS("--cpuid", file_path, image_path), STEPS(HLT), 0x10000,
		&r);
	expect("cpuid value too big", &r, 2, "", HAS(":1: expected"));
	unlink(file_path);

	run_vmm(ARGS("--print-cpuid"), STEPS(HLT), 0x10000, &r);
	expect("print cpuid", &r, 0,
	       "# function index eax ebx ecx edx (index *: every subleaf)\n"
	       "0x00000000 *      0x0000000d 0x756e6547 0x00000000 0x00000000\n"
	       "0x00000007 0x0    0x00000000 0x00000209 0x00000000 0x00000000\n",
	       NULL);

	run_vmm(ARGS("--print-cpuid", image_path), STEPS(HLT), 0x10000, &r);
	expect("print cpuid runs nothing", &r, 2, "", HAS("runs no guest"));

	/* The reset vector: the image ends at 4 GiB, read-only */
	no_image_check = 1;
	run_vmm(ARGS("--reset-image", image_path, "--vcpus", "2"),
		STEPS(OUT(0x3f8, 1, 'R'), HLT), 0x10000, &r);
	expect("reset image", &r, 0, "R",
	       HAS("fake: slot 1 gpa=0xfffff000 size=0x1000 flags=1",
		   "fake: rom ends with the image"));
	expect_lacks("reset image: vcpus left in reset state", &r,
		     "fake: setup");

	run_vmm(ARGS("--reset-image", image_path, image_path), STEPS(HLT),
		0x10000, &r);
	expect("reset image and IMAGE", &r, 2, "", HAS("exclude each other"));

	run_vmm(ARGS("--reset-image", image_path, "--mode", "real"),
		STEPS(HLT), 0x10000, &r);
	expect("reset image and mode", &r, 2, "", HAS("are for a flat IMAGE"));

	run_vmm(ARGS("--mem", "4G", "--reset-image", image_path), STEPS(HLT),
		0x10000, &r);
	expect("reset image over memory", &r, 2, "", HAS("below 4 GiB"));

	/* Multiboot, with the address fields */
	memset(mb, 0x90, sizeof(mb));
	mb_header(mb + 8, 0x10002,
		  (const uint32_t []){ 0x100008, 0x100000, 0, 0x100400,
				       0x100020 });
	temp_file(file_path, sizeof(file_path), mb, 64);
	snprintf(want, sizeof(want),
		 "fake: mbi flags=0x245 lower=640 upper=15360 mmap=0x8080+48 [0xa0000 0x1 0x100000 0xf00000] cmdline=%s loader=xvcpu-run",
		 file_path);
	run_vmm(ARGS("--multiboot", file_path), STEPS(HLT), 0x10000, &r);
	expect("multiboot address fields", &r, 0, "",
	       HAS("fake: setup mode=1 entry=0x100020 stack=0x8000 tables=0x1000",
		   "fake: set_regs vcpu=0 rax=0x2badb002 rbx=0x8000", want,
		   "fake: 0x100000: 90909090 90909090 1badb002 00010002"));
	unlink(file_path);

	/* Multiboot, a 32-bit ELF */
	memset(mb, 0, sizeof(mb));
	memcpy(mb, "\177ELF\1\1\1", 7);
	put16(mb + 16, 2);		/* ET_EXEC */
	put16(mb + 18, 3);		/* EM_386 */
	put32(mb + 24, 0x200010);	/* entry */
	put32(mb + 28, 52);		/* program headers */
	put16(mb + 42, 32);
	put16(mb + 44, 1);
	put32(mb + 52, 1);		/* PT_LOAD */
	put32(mb + 56, 96);		/* offset */
	put32(mb + 64, 0x200000);	/* paddr */
	put32(mb + 68, 32);		/* filesz */
	put32(mb + 72, 0x1000);		/* memsz */
	mb_header(mb + 96, 0x3, NULL);
	temp_file(file_path, sizeof(file_path), mb, 128);
	run_vmm(ARGS("--multiboot", file_path, "--mem", "4M"), STEPS(HLT),
		0x10000, &r);
	expect("multiboot elf", &r, 0, "",
	       HAS("fake: setup mode=1 entry=0x200010 stack=0x8000",
		   "upper=3072",
		   "fake: 0x200000: 1badb002 00000003 e4524ffb 00000000"));
	unlink(file_path);

	mb_header(mb + 96, 0x4, NULL);
	temp_file(file_path, sizeof(file_path), mb, 128);
	run_vmm(ARGS("--multiboot", file_path), STEPS(HLT), 0x10000, &r);
	expect("multiboot video mode", &r, 1, "", HAS("video mode"));
	unlink(file_path);

	temp_file(file_path, sizeof(file_path), test_image,
		  sizeof(test_image));
	run_vmm(ARGS("--multiboot", file_path), STEPS(HLT), 0x10000, &r);
	expect("multiboot without header", &r, 1, "",
	       HAS("no multiboot header"));
	run_vmm(ARGS("--multiboot", file_path, "--vcpus", "2"), STEPS(HLT),
		0x10000, &r);
	expect("multiboot on two vcpus", &r, 2, "", HAS("one vCPU"));
	unlink(file_path);

	/* A kernel over the multiboot information */
	memset(mb, 0x90, sizeof(mb));
	mb_header(mb, 0x10000,
		  (const uint32_t []){ 0x8000, 0x8000, 0, 0, 0x8000 });
	temp_file(file_path, sizeof(file_path), mb, 64);
	run_vmm(ARGS("--multiboot", file_path), STEPS(HLT), 0x10000, &r);
	expect("multiboot too low", &r, 1, "", HAS("not inside guest RAM above 0x9000"));
	unlink(file_path);
	no_image_check = 0;

	unlink(image_path);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
