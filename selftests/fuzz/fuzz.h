/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's shared definitions: limits, guest program layout, the model
 * of what the module holds (struct fuzz), expected outcomes, pointers,
 * runner threads, and the functions each file gives the others.  See
 * main.c for what the fuzzer does and README.md for how to run it.
 */
#ifndef XVCPU_FUZZ_H
#define XVCPU_FUZZ_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "xvtest.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define PG			4096UL

/* Defaults: a run of the suite, and --long. */
#define DEFAULT_CALLS		100000UL
#define DEFAULT_TIME_S		600
#define LONG_CALLS		3000000UL
#define LONG_TIME_S		36000
#define DEFAULT_THREADS		2
#define MAX_RUNNERS		4

/* Objects the fuzzer keeps at once. */
#define NR_SYS			2
#define NR_VMS			3
#define NR_VCPUS		8
#define NR_MAPS			48
#define MAP_PAGES		64	/* longest mapping tracked */
#define NR_CELLS		8	/* MAP_FIXED / mremap targets */
#define VCPU_IDS_USED		4	/* ids 0..3 mostly, and the last one */
#define MAX_SLOTS		64	/* slots the model can follow */

/*
 * Guest memory the fuzzer lets live: a larger slot, or one that would take
 * a VM past VM_KEEP_MAX, is deleted right after its creation succeeded.
 * This bounds what guests and mappings can allocate in the test machine.
 */
#define SLOT_KEEP_MAX		(2UL << 20)
#define VM_KEEP_MAX		(16UL << 20)

/* Guest program layout in slot 0 of a prepared VM (64-bit, paging on). */
#define PROG_SLOT_SIZE		0x10000UL
#define PROG_TABLES		0x1000UL
#define PROG_CODE		0x9000UL
#define PROG_DATA		0xe000UL
#define PROG_STACK		0xf000UL
#define PROG_MMIO		0xc0000000UL
#define PROG_MMIO_W		(PROG_CODE + 18)
#define PROG_MMIO_R		(PROG_CODE + 20)

/*
 * The MSR program, its #GP handler, the handlers of the other vectors
 * (with and without an error code), its IDT (256 gates) and its table of
 * MSR accesses.
 */
#define MSRPROG_CODE		0x9100UL
#define MSRPROG_GP		0x9200UL
#define MSRPROG_IRET		0x9280UL
#define MSRPROG_IRET_ERR	0x9290UL
#define MSRPROG_IDT		0xa000UL
#define MSRPROG_TABLE		0xb000UL
#define MSRPROG_ENTRIES		32

/*
 * How long one XVCPU_RUN may last before a timer signal ends it, how often
 * the signal comes again until the RUN has ended, and how long main waits
 * for a runner before stopping it (ns of the machine's
 * clock, which in the emulator runs some hundred times slower than the
 * wall clock while busy).  A guest spinning with RFLAGS.IF = 0 may only
 * see the signal at the module's VMX-preemption timer exit.
 */
#define RUN_TIMEOUT_NS		(200 * 1000)
#define RUN_REPEAT_NS		(1000 * 1000)
#define JOIN_WAIT_NS		(2ULL * 1000 * 1000)
#define EPT_LIMIT		(1ULL << 48)

/* The highest exit reason of uapi/xvcpu.h */
#define EXIT_LAST		XVCPU_EXIT_DEBUG
#define SLOT_OFF_MASK		(XVCPU_MMAP_SLOT_OFFSET(1) - 1)

/* Architectural bits SET_REGS and SET_SREGS check (kmod/vcpu.c, vmcs.c) */
#define RFLAGS_DEFINED		0x3f7fd5ULL
#define RFLAGS_FIXED		0x2ULL
#define CR0_KNOWN		0xe005003fULL
#define CR0_PE			(1ULL << 0)
#define CR0_NW			(1ULL << 29)
#define CR0_CD			(1ULL << 30)
#define CR0_PG			(1ULL << 31)
#define CR4_PAE			(1ULL << 5)
#define CR4_LA57		(1ULL << 12)
#define CR4_VMXE		(1ULL << 13)
#define EFER_KNOWN		0xd01ULL
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define RFLAGS_IF		(1ULL << 9)
#define RFLAGS_TF		(1ULL << 8)

/* struct xvcpu_cpuid: the header, and the bytes of @n entries after it */
#define CPUID_HDR		offsetof(struct xvcpu_cpuid, entries)
#define CPUID_BYTES(n)		(CPUID_HDR + \
				 (uint64_t)(n) * sizeof(struct xvcpu_cpuid_entry))

/* The largest argument structure, and the largest ptr class covers */
#define MAX_ARG_SIZE		sizeof(struct xvcpu_cpuid)

/* The options of this run (main.c) */
struct fz_options {
	uint64_t seed;
	bool seed_set;
	bool is_long;
	bool concurrent;	/* runner jobs overlap main's operations */
	bool fresh;		/* no replay of the listed seeds */
	unsigned long calls;
	unsigned long max_ops;
	unsigned long time_s;
	int threads;
	bool verbose;
};

extern struct fz_options opt;

/* A stream of random numbers (util.c) */
struct rng {
	uint64_t s;
};

/* Expected outcomes: the success value and the errnos accepted */
#define OK_NONE		(-2L)	/* the call must fail */
#define OK_ANY		(-1L)	/* any value >= 0 */

struct expect {
	bool anything;		/* not predictable; only the kernel must live */
	long ok;		/* exact success value, OK_ANY or OK_NONE */
	unsigned int nerr;
	int err[10];
};

/* The model of what the module holds: fds, VMs, vCPUs, mappings */
enum fd_kind { FD_SYS, FD_VM, FD_VCPU, NR_FD_KINDS };

struct fz_slot {
	bool used;
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
};

struct fz_vm {
	bool used;		/* the VM may still exist in the kernel */
	int fd;			/* -1 once closed */
	bool lost;		/* model out of step: loose checks only */
	struct fz_slot slots[MAX_SLOTS];
	uint64_t mem_bytes;
	uint32_t ids;		/* vCPU ids alive in the kernel */
	int nr_vcpus;		/* vCPU entries of this VM */
	uint8_t *code;		/* slot 0 mapping holding the program */
};

/* Whether an interrupt (or an NMI) is queued on a vCPU, as far as known */
enum queued { Q_NO, Q_YES, Q_UNKNOWN };

struct fz_vcpu {
	bool used;		/* the vCPU exists in the kernel */
	int fd;			/* main's fd, -1 once closed */
	int vm;
	unsigned int id;
	int runner;		/* runner with a job on it, or -1 */
	/*
	 * Event queues: unknown while a runner has the vCPU, and after a
	 * guest ran with something queued (it may have been injected).
	 */
	enum queued irq, nmi;
	/* Its CPUID table (only main sets it), unless cpuid_lost */
	bool cpuid_lost;
	uint32_t cpuid_nent;
	struct xvcpu_cpuid_entry cpuid[XVCPU_CPUID_MAX_ENTRIES];
};

enum map_kind { MAP_RUN, MAP_SLOT };

struct fz_map {
	bool used;
	int kind;
	int obj;		/* vCPU index (MAP_RUN) or VM index */
	uint32_t slot;
	char *addr;
	unsigned int npages;
	uint64_t mask;		/* pages still mapped */
	uint8_t prot[MAP_PAGES];
	int cell;		/* reserved cell it lies in, or -1 */
};

struct runner;

/* Everything the fuzzer holds and knows, main thread only unless said */
struct fuzz {
	struct rng rng;
	/* what the module reports */
	long cap[32];
	struct xvcpu_cpuid supported;	/* XVCPU_GET_SUPPORTED_CPUID */
	unsigned int nr_slots, max_vcpus;
	uint64_t mem_limit;
	uint64_t cr4_ok;	/* CR4 bits SET_SREGS takes (probed) */
	uint64_t xcr0_supported;	/* XCR0 bits guests may have, or 0 */
	long mmap_size;
	/* objects */
	int sys[NR_SYS];
	struct fz_vm vms[NR_VMS];
	struct fz_vcpu vcpus[NR_VCPUS];
	struct fz_map maps[NR_MAPS];
	/* memory for pointers and targets */
	int memfd;
	char *rw, *ro, *mix;	/* arena views, see arena_init() */
	char *cells;		/* NR_CELLS * MAP_PAGES reserved pages */
	unsigned int cell_refs[NR_CELLS];
	char *runner_pages;	/* one reserved page per runner */
	int pipe[2];
	timer_t timer;
	/* guest state templates */
	struct xvcpu_regs prog_regs;
	struct xvcpu_sregs sregs_long, sregs_real, sregs_prot;
	uint8_t tables[XVCPU_SETUP_TABLES_SIZE];
	/* runners */
	struct runner *runners;
	int nr_runners;
	/* statistics */
	unsigned long op_count[32];
	uint64_t op_ns[32];
	unsigned long exits[EXIT_LAST + 1];
	unsigned long run_eintr, run_ebusy, vmfail, fail_entry;
	unsigned long events_set, irqs_queued, nmis_queued, debug_set;
	unsigned long known_ok[32], known_err[32];	/* by op_ioctl() */
};

extern struct fuzz fz;

/* Pointer arguments (objects.c make_ptr()) */
enum ptr_class {
	P_RW, P_RO, P_RW_RO, P_RW_NONE, P_RO_NONE, P_NONE, P_NULL, P_KERNEL,
	P_NONCANON, P_TOP, P_TEXT, P_MAP, NR_PTR,
	P_INT = NR_PTR,		/* not a pointer: an integer argument */
};

struct ptr {
	int cls;
	uint64_t addr;
	/*
	 * The kernel can read the first rd_len bytes and write the first
	 * wr_len, and nothing after them (the rest is another view, a
	 * guard page or unmapped); @known: the first rd_len bytes hold
	 * @content.
	 */
	uint64_t rd_len, wr_len;
	bool known;
	bool rd, wr;		/* the kernel can read / write all of it */
	bool det;		/* it can read it all, and it holds @content */
	const void *content;
};

/* The first unused entry of a table of structs starting with "bool used". */
#define FREE_ENTRY(arr) ({						\
	int __i, __f = -1;						\
	for (__i = 0; __i < (int)ARRAY_SIZE(arr); __i++)		\
		if (!(arr)[__i].used) {					\
			__f = __i;					\
			break;						\
		}							\
	__f;								\
})

/* Outcomes of a rule where the model is not sure: each a bit */
#define V_OK		1U
#define V_EINVAL	2U

/* The flags SET_GUEST_DEBUG knows */
#define DEBUG_FLAGS	(XVCPU_DEBUG_SINGLESTEP | XVCPU_DEBUG_INTERCEPT_BP | \
			 XVCPU_DEBUG_INTERCEPT_DB)

/* The ioctls of uapi/xvcpu.h (gen.c known[]) */
struct known_cmd {
	unsigned int cmd;
	int kind;
	unsigned int size;	/* of the structure argument, or 0 */
	const char *name;
};

enum {
	K_GET_API_VERSION, K_CHECK_CAP, K_CREATE_VM, K_GET_VCPU_MMAP_SIZE,
	K_GET_SUPPORTED_CPUID, K_SET_MEMORY_REGION, K_CREATE_VCPU, K_RUN,
};

/*
 * What main read of a vCPU just before an ioctl that depends on it (no
 * runner has the vCPU, so nothing changes it meanwhile).
 */
struct vcpu_view {
	bool have_regs, have_sregs;
	struct xvcpu_regs regs;
	struct xvcpu_sregs sregs;
};

/* Exits seen by one thread */
struct exit_counts {
	unsigned long exits[EXIT_LAST + 1];
	unsigned long vmfail, fail_entry;
};

/* A runner thread and its job (runner.c) */
enum job_kind { JOB_PROGRAM, JOB_MSR, JOB_RANDOM_STATE, JOB_AS_IS };

struct runner {
	int index;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool has_job, quit, stop;	/* under lock; stop is a hint */
	bool active;			/* main's view: given, not joined */
	timer_t timer;
	/* the job, set by main before has_job */
	int vcpu;			/* main's index, for main only */
	int fd;				/* a dup of the vCPU fd, closed here */
	uint8_t *mem;			/* the VM's slot 0 mapping, or NULL */
	int kind;
	unsigned int runs;
	uint64_t seed;
	/* results, read by main after joining */
	struct exit_counts c;
	unsigned long eintr, ebusy;
	unsigned long events_set, irqs_queued, nmis_queued, debug_set;
};

/* util.c: random numbers, failure reports, expected outcomes */
uint64_t rng_u64(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);
bool rng_chance(struct rng *r, unsigned int percent);
void rng_bytes(struct rng *r, void *buf, size_t len);
uint64_t rng_value(struct rng *r);
extern unsigned long cur_op;		/* main thread's operation number */
extern unsigned long nr_failures;
extern unsigned long first_fail_op;	/* cur_op at the first failure */
extern unsigned long nr_runner_calls;	/* atomic */
extern __thread bool in_runner;
void counters_reset(void);
void count_call(void);
unsigned long calls_made(void);
void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) vlog(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) fail_detail(const char *fmt, ...);
const char *errname(int err);
void exp_init(struct expect *e);
void exp_err(struct expect *e, int err);
void exp_only(struct expect *e, int err);
bool check(const struct expect *e, long ret, int err, const char *what);

/* objects.c: the arena, pointer arguments, object tables, mappings */
int arena_init(void);
void arena_fini(void);
void reserve(void *addr, size_t len);
extern const char *const ptr_names[];
struct ptr make_ptr(struct rng *r, int cls, size_t size, const void *content);
bool ptr_known(const struct ptr *p, uint64_t n);
int pick_ptr_class(struct rng *r, bool good, bool allow_map);
int pick_sys(struct rng *r);
int pick_vm(struct rng *r);
int pick_vcpu(struct rng *r);
int pick_map(struct rng *r, int kind);
int pick_used_slot(struct rng *r, const struct fz_vm *vm);
bool slot_mapped(int vm, uint32_t slot);
bool vcpu_mapped(int v);
bool vm_mapped(int vm);
void map_pages_gone(struct fz_map *m, unsigned int a, unsigned int b,
		    bool rereserve);
void map_resync(struct fz_map *m);
struct fz_map *map_add(int kind, int obj, uint32_t slot, void *addr,
		       unsigned int npages, int prot, int cell);
int free_cell(struct rng *r);
char *cell_addr(int cell);

/* program.c: the guest programs and guest state */
extern struct xvcpu_sregs sregs_msrprog;
int templates_init(void);
bool vector_has_error_code(unsigned int vector);
void prog_write(uint8_t *mem);
void msrprog_table(struct rng *r, uint8_t *mem);
void gen_regs(struct rng *r, struct xvcpu_regs *regs);
void gen_sregs(struct rng *r, struct xvcpu_sregs *s);

/* gen.c: ioctl numbers and argument contents */
extern const struct known_cmd known[];
extern const unsigned int nr_known;
const struct known_cmd *find_known(unsigned int cmd);
bool xvcpu_type(unsigned int cmd);
int known_of_kind(struct rng *r, int kind);
unsigned long gen_cmd(struct rng *r, int kind);
void gen_events(struct rng *r, struct xvcpu_events *ev);
void gen_guest_debug(struct rng *r, struct xvcpu_guest_debug *d);
void gen_content(struct rng *r, unsigned int cmd, int kind, int obj,
		 void *content, size_t size);

/* model.c: the module's rules, each answer 0 or an errno (or V_* bits) */
long cap_value(unsigned long cap);
bool event_type_soft(unsigned int type);
unsigned int events_verdict(const struct xvcpu_events *ev, int64_t rflags);
int guest_debug_verdict(const struct xvcpu_guest_debug *d);
int cpuid_verdict(const struct xvcpu_cpuid_entry *e, uint32_t nent);
int region_verdict(const struct fz_vm *vm,
		   const struct xvcpu_memory_region *mr);
int sregs_verdict(const struct xvcpu_sregs *s);
unsigned int sregs_state_verdict(const struct xvcpu_sregs *s,
				 const struct fz_vcpu *v, char *why,
				 size_t len);
bool rflags_ok(uint64_t rflags);
bool translate_noncanonical(const struct xvcpu_sregs *s, uint64_t la);

/* predict.c: expected answers of ioctls, checks of what they wrote */
void predict_sys(struct expect *e, unsigned int cmd, unsigned long arg,
		 const struct ptr *p);
void predict_vm(struct expect *e, const struct fz_vm *vm, unsigned int cmd,
		unsigned long arg, const struct ptr *p);
void predict_vcpu(struct expect *e, const struct fz_vcpu *v, bool busy,
		  unsigned int cmd, unsigned long arg, const struct ptr *p,
		  const struct vcpu_view *view);
void learn_queues(struct fz_vcpu *v, const struct xvcpu_events *ev);
void check_events_output(const struct xvcpu_events *ev, const char *what);
void check_get_output(unsigned int cmd, const void *out, const void *in,
		      struct fz_vcpu *v, bool busy,
		      const struct vcpu_view *view);

/* run.c: bounded XVCPU_RUN, exit checks, the program's VMM side */
int thread_timer(timer_t *timer);
long run_timed(int fd, unsigned long cmd, unsigned long arg, timer_t timer,
	       long ns, int *err);
long run_bounded(int fd, unsigned long cmd, unsigned long arg, timer_t timer,
		 int *err);
void check_vmfail(const struct xvcpu_run *run, struct exit_counts *c,
		  const char *who);
void check_entry_failure(const struct xvcpu_run *run, const char *who);
void check_run_page(const struct xvcpu_run *run, bool ok,
		    struct exit_counts *c, const char *who);
bool program_step(int fd, struct xvcpu_run *run, uint64_t v, bool queued,
		  const char *who);
bool program_reset(int fd, bool msr, bool irqs_on, bool shared,
		   const char *who);
void program_reset_main(int i, bool msr, bool irqs_on);

/* runner.c: runner threads */
int runners_start(int n);
void runner_join(struct runner *rn);
void runner_give(struct runner *rn, int vcpu, int fd, uint8_t *mem, int kind,
		 unsigned int runs, uint64_t seed);
void runner_wait(struct runner *rn);
void runners_stop(void);

/* lifetime.c: creating, adopting and releasing objects */
void gc(void);
long do_ioctl(int fd, unsigned long cmd, unsigned long arg, int *err);
void do_close(int fd);
void region_apply(int vmi, const struct xvcpu_memory_region *mr);
void adopt_vm(int fd, bool prepare);
void adopt_vcpu(int vmi, unsigned int id, int fd, bool init, bool map_run);
unsigned long gen_vcpu_id(struct rng *r);
void vcpu_id_settle(int vmi, unsigned long id);
void op_open_sys(struct rng *r);
void op_close_sys(struct rng *r);
void op_close_vm(struct rng *r);
void op_close_vcpu(struct rng *r);

/* ioctl.c: ioctl operations */
void vcpu_ran(struct fz_vcpu *v);
void op_ioctl(struct rng *r, int kind, int force);
void op_save_restore(struct rng *r);
void op_create_vm(struct rng *r);
void op_create_vcpu(struct rng *r);
void op_region(struct rng *r);
void op_events(struct rng *r);
void op_cpuid(struct rng *r);
void op_badfd(struct rng *r);

/* mem.c: memory operations */
void on_fault(int sig, siginfo_t *si, void *uc_arg);
long touch_kernel(char *p, size_t n, bool store, int *err);
void op_mmap(struct rng *r, int kind);
void op_munmap(struct rng *r);
void op_mprotect(struct rng *r);
void op_madvise(struct rng *r);
void op_mremap(struct rng *r);
void op_touch(struct rng *r);

/* guests.c: running guests from main, giving vCPUs to runners, fork */
void op_run(struct rng *r);
void op_runner(struct rng *r);
void op_fork(struct rng *r);

/* setup.c: setup, release and the leftovers check */
int fz_init(int threads);
void fz_release(void);
void fz_fini(void);
int count_fds(int *xvcpu);
int count_xvcpu_maps(void);

/* dump.c: whole arguments, for failure reports */
void dump_arg(unsigned int cmd, const void *arg);
bool check_call(const struct expect *e, long ret, int err, const char *who,
		unsigned int cmd, const void *arg);
void dump_sregs(const struct xvcpu_sregs *s);
void dump_regs(const struct xvcpu_regs *r);
void dump_events(const struct xvcpu_events *ev);

#endif /* XVCPU_FUZZ_H */
