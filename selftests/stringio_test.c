// SPDX-License-Identifier: GPL-2.0
/*
 * String port I/O: INS and OUTS, with and without REP, exit to userspace
 * with their elements in the run page (uapi/xvcpu.h, struct xvcpu_run
 * io).  Sizes 1, 2 and 4; counts 0, 1, 7 and thousands (many exits, the
 * buffer crossing pages); RFLAGS.DF = 1; 16-, 32- and 64-bit address
 * sizes; a segment override; elements that straddle a page; a #PF on
 * the guest's buffer.  Each exit's element count is checked against the
 * rule (what fits in the run page and stays in one page of the buffer);
 * the 64-bit guests check their buffer, RSI/RDI and RCX themselves.
 */
#include <sys/ioctl.h>

#include "harness.h"
#include "idt.h"

#define SIO_PORT	0x3f8
#define DONE_PORT	0x80
#define PAGE		4096ULL
#define DATA_MAX	XVCPU_RUN_IO_DATA_SIZE
#define CANARY		0xcc

#define RFLAGS_DF	(1ULL << 10)

/* The guest's buffer: 5 pages, page aligned */
uint8_t sio_buf[5 * PAGE] __attribute__((aligned(4096)));

/* What the guest does; set by the host in the guest's copy */
enum {
	OP_SIZE_MASK	= 7,		/* 1, 2 or 4 */
	OP_IN		= 1 << 3,
	OP_REP		= 1 << 4,
	OP_A32		= 1 << 5,	/* addr32 prefix: ESI/EDI, ECX */
	OP_FS		= 1 << 6,	/* fs segment override (OUTS) */
};

struct sio_args {
	uint64_t op;
	uint64_t count;		/* RCX (for REP) */
	uint64_t down;		/* RFLAGS.DF */
	uint64_t index;		/* RSI/RDI at the start */
	uint64_t buf;		/* where the elements are (checks) */
};

struct sio_args sio_args;

static uint64_t addr(const void *p)
{
	return (uintptr_t)p;
}

/* The value of element @i (the i-th the guest moves) */
static inline __guest uint32_t sio_pattern(uint64_t i, uint64_t size)
{
	uint32_t v = (uint32_t)(i * 0x9e3779b1U) ^ 0x5a17c0deU;

	return size == 4 ? v : v & ((1U << (size * 8)) - 1);
}

static inline __guest uint32_t guest_load(const uint8_t *p, uint64_t size)
{
	if (size == 1)
		return *p;
	if (size == 2)
		return *(const uint16_t *)p;
	return *(const uint32_t *)p;
}

/* One string instruction with DF set as asked, cleared again after */
#define SIO(insn, reg) do {						\
	asm volatile("test %[down], %[down]\n\t"			\
		     "jz 1f\n\t"					\
		     "std\n"						\
		     "1:\n\t"						\
		     insn "\n\t"					\
		     "cld"						\
		     : "+" reg (idx), "+c" (cx)				\
		     : "d" ((uint16_t)SIO_PORT), [down] "r" (down)	\
		     : "memory", "cc");					\
} while (0)

#define CASE(op, insn, reg) case op: SIO(insn, reg); break

static void __guest guest_sio(void)
{
	uint64_t op = READ_ONCE(sio_args.op);
	uint64_t count = READ_ONCE(sio_args.count);
	uint64_t down = READ_ONCE(sio_args.down);
	uint64_t idx = READ_ONCE(sio_args.index);
	uint64_t buf = READ_ONCE(sio_args.buf);
	uint64_t size = op & OP_SIZE_MASK;
	uint64_t cx = count, start = idx, moved, i;
	const uint8_t *p;

	switch (op) {
	CASE(1, "outsb", "S");
	CASE(2, "outsw", "S");
	CASE(4, "outsl", "S");
	CASE(1 | OP_REP, "rep outsb", "S");
	CASE(2 | OP_REP, "rep outsw", "S");
	CASE(4 | OP_REP, "rep outsl", "S");
	CASE(1 | OP_REP | OP_A32, "addr32 rep outsb", "S");
	CASE(4 | OP_REP | OP_A32, "addr32 rep outsl", "S");
	CASE(1 | OP_REP | OP_FS, "rep outsb %%fs:(%%rsi), %%dx", "S");
	CASE(1 | OP_IN, "insb", "D");
	CASE(2 | OP_IN, "insw", "D");
	CASE(4 | OP_IN, "insl", "D");
	CASE(1 | OP_IN | OP_REP, "rep insb", "D");
	CASE(2 | OP_IN | OP_REP, "rep insw", "D");
	CASE(4 | OP_IN | OP_REP, "rep insl", "D");
	CASE(2 | OP_IN | OP_REP | OP_A32, "addr32 rep insw", "D");
	default:
		GUEST_FAIL("unknown op");
	}

	/* RCX counts down to 0; RSI/RDI moved by the bytes moved */
	moved = op & OP_REP ? count : 1;
	if (op & OP_A32) {
		moved = (uint32_t)count;
		GUEST_ASSERT_EQ(cx, 0);
		GUEST_ASSERT_EQ(idx, (uint32_t)(start + (down ? -moved * size :
								moved * size)));
	} else {
		GUEST_ASSERT_EQ(cx, op & OP_REP ? 0 : count);
		GUEST_ASSERT_EQ(idx, start + (down ? -moved * size :
						     moved * size));
	}
	if (!(op & OP_IN))
		return;

	/* INS: element i at buf -/+ i * size, nothing around it touched */
	for (i = 0; i < moved; i++) {
		p = (const uint8_t *)(buf + (down ? -i * size : i * size));
		GUEST_ASSERT_EQ(guest_load(p, size), sio_pattern(i, size));
	}
	/* The bytes just above and just below what was written */
	p = (const uint8_t *)(down ? buf + size : buf + moved * size);
	GUEST_ASSERT_EQ(*p, CANARY);
	p = (const uint8_t *)(down ? buf - moved * size + size - 1 : buf - 1);
	GUEST_ASSERT_EQ(*p, CANARY);
}

/* ---- host side ---- */

/* Elements one exit moves: the rule of uapi/xvcpu.h's io comment */
static uint64_t chunk(uint64_t la, unsigned int size, bool down,
		      uint64_t remaining)
{
	uint64_t off = la % PAGE, n = DATA_MAX / size, page;

	if (!down)
		page = (PAGE - off) / size;
	else
		page = off + size <= PAGE ? off / size + 1 : 0;
	if (n > remaining)
		n = remaining;
	if (n > page)
		n = page;
	return n ? n : 1;
}

struct sio_run {
	unsigned int size;
	bool in, down, rep;
	uint64_t la;		/* linear address of the next element */
	uint64_t remaining;
	uint64_t done;		/* elements so far */
	unsigned int exits;
	const uint8_t *src;	/* OUTS: host view of the first element */
};

/*
 * Run until the guest is done, playing the device: OUTS elements must be
 * the guest's, INS gets sio_pattern().  Returns the last xvt_run() value.
 */
static int play(struct __test_metadata *_metadata, struct xvcpu_vcpu *vcpu,
		struct sio_run *s)
{
	struct xvcpu_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + XVCPU_RUN_IO_DATA_OFFSET;
	struct ucall uc;
	uint64_t want, j;
	char buf[512];
	int ret;

	for (;;) {
		ret = xvt_run(vcpu, &uc);
		if (ret != UCALL_NONE || run->exit_reason != XVCPU_EXIT_IO ||
		    run->io.port != SIO_PORT)
			return ret;
		s->exits++;
		EXPECT_EQ(1, run->io.string)
			TH_LOG("%s", xvt_exit_str(vcpu, buf, sizeof(buf)));
		EXPECT_EQ(s->rep, run->io.rep);
		EXPECT_EQ(s->size, run->io.size);
		EXPECT_EQ(s->in ? XVCPU_IO_IN : XVCPU_IO_OUT,
			  run->io.direction);
		EXPECT_EQ(XVCPU_RUN_IO_DATA_OFFSET, run->io.data_offset);
		want = chunk(s->la, s->size, s->down, s->remaining);
		ASSERT_EQ(want, run->io.count)
			TH_LOG("exit %u: at %#llx, %llu left", s->exits,
			       (unsigned long long)s->la,
			       (unsigned long long)s->remaining);
		for (j = 0; j < want; j++) {
			uint64_t i = s->done + j;
			uint32_t v = sio_pattern(i, s->size);

			if (s->in) {
				memcpy(data + j * s->size, &v, s->size);
			} else {
				const uint8_t *e = s->src +
					(s->down ? -(int64_t)(i * s->size) :
						   (int64_t)(i * s->size));

				ASSERT_EQ(0, memcmp(data + j * s->size, e,
						    s->size))
					TH_LOG("element %llu",
					       (unsigned long long)i);
			}
		}
		s->done += want;
		s->remaining -= want;
		s->la += s->down ? -(want * s->size) : want * s->size;
	}
}

/*
 * The 64-bit guest does @op on sio_buf + @off (the first element's place)
 * with @count; returns the exits it took.
 */
static unsigned int do_sio(struct __test_metadata *_metadata,
			   struct _test_data_vm *self, uint64_t op,
			   uint64_t count, bool down, uint64_t off)
{
	struct sio_args *a = &GUEST_VAR(self->t, sio_args);
	uint8_t *hbuf = GUEST_VAR(self->t, sio_buf);
	unsigned int size = op & OP_SIZE_MASK;
	uint64_t first = addr(sio_buf) + off, i, n;
	struct sio_run s = {
		.size = size, .in = op & OP_IN, .down = down,
		.rep = op & OP_REP, .la = first,
		.src = hbuf + off,
	};
	uint32_t v;
	int ret;

	n = op & OP_REP ? (op & OP_A32 ? (uint32_t)count : count) : 1;
	s.remaining = n;
	/* OUTS reads sio_pattern(); INS must leave the canaries alone */
	memset(hbuf, CANARY, sizeof(sio_buf));
	if (!(op & OP_IN)) {
		for (i = 0; i < n; i++) {
			v = sio_pattern(i, size);
			memcpy(hbuf + off + (down ? -(int64_t)(i * size) :
					     (int64_t)(i * size)), &v, size);
		}
	}
	a->op = op;
	a->count = count;
	a->down = down;
	a->index = first;
	a->buf = first;
	EXPECT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_sio, 0, 0));
	ret = play(_metadata, self->vcpu, &s);
	EXPECT_EQ(UCALL_DONE, ret)
		TH_LOG("op %#llx count %llu down %d off %#llx",
		       (unsigned long long)op, (unsigned long long)count,
		       down, (unsigned long long)off);
	EXPECT_EQ(n, s.done);
	EXPECT_EQ(0, s.remaining);
	return s.exits;
}

static const unsigned int sizes[] = { 1, 2, 4 };

TEST_F(vm, outs_rep_counts)
{
	unsigned int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t op = sizes[i] | OP_REP;

		/* REP with RCX = 0: nothing moves, no exit at all */
		EXPECT_EQ(0, do_sio(_metadata, self, op, 0, false, 0x10));
		EXPECT_EQ(1, do_sio(_metadata, self, op, 1, false, 0x10));
		EXPECT_EQ(1, do_sio(_metadata, self, op, 7, false, 0x10));
		/* Thousands: several pages, several exits */
		EXPECT_LE(4, do_sio(_metadata, self, op, 9000 / sizes[i],
				    false, 0x123));
		if (_metadata->exit_code)
			return;
	}
}

TEST_F(vm, ins_rep_counts)
{
	unsigned int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t op = sizes[i] | OP_REP | OP_IN;

		EXPECT_EQ(0, do_sio(_metadata, self, op, 0, false, 0x10));
		EXPECT_EQ(1, do_sio(_metadata, self, op, 1, false, 0x10));
		EXPECT_EQ(1, do_sio(_metadata, self, op, 7, false, 0x10));
		EXPECT_LE(4, do_sio(_metadata, self, op, 9000 / sizes[i],
				    false, 0x123));
		if (_metadata->exit_code)
			return;
	}
}

/*
 * An INS exit: the registers already show the instruction done (RDI, RCX
 * and RIP moved), its elements reach guest memory only on the next
 * XVCPU_RUN (uapi/xvcpu.h).  With immediate_exit set, that RUN completes
 * it without entering the guest.  A SET_REGS before that RUN drops them.
 */
static void ins_exit(struct __test_metadata *_metadata,
		     struct _test_data_vm *self, uint64_t first, uint64_t n)
{
	struct sio_args *a = &GUEST_VAR(self->t, sio_args);
	uint8_t *data = (uint8_t *)self->run + XVCPU_RUN_IO_DATA_OFFSET;
	struct xvcpu_regs regs;
	uint32_t v;
	uint64_t i;

	memset(GUEST_VAR(self->t, sio_buf), CANARY, sizeof(sio_buf));
	a->op = 4 | OP_REP | OP_IN;
	a->count = n;
	a->down = 0;
	a->index = first;
	a->buf = first;
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_sio, 0, 0));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_IO);
	ASSERT_EQ(XVCPU_IO_IN, self->run->io.direction);
	ASSERT_EQ(n, self->run->io.count);
	for (i = 0; i < n; i++) {
		v = sio_pattern(i, 4);
		memcpy(data + i * 4, &v, 4);
	}
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(first + n * 4, regs.rdi);
	EXPECT_EQ(0, regs.rcx);
}

TEST_F(vm, ins_completes_on_the_next_run)
{
	const uint64_t off = 0x40, n = 5, first = addr(sio_buf) + off;
	uint8_t *hbuf = GUEST_VAR(self->t, sio_buf);
	struct xvcpu_regs regs;
	struct ucall uc;
	uint32_t v;
	uint64_t i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	ins_exit(_metadata, self, first, n);
	/* Not in memory yet */
	EXPECT_EQ(CANARY, hbuf[off]);
	self->run->immediate_exit = 1;
	ASSERT_ERRNO(EINTR, ioctl(self->vcpu->fd, XVCPU_RUN, 0));
	EXPECT_EQ(XVCPU_EXIT_INTR, self->run->exit_reason);
	self->run->immediate_exit = 0;
	for (i = 0; i < n; i++) {
		memcpy(&v, hbuf + off + i * 4, 4);
		EXPECT_EQ(sio_pattern(i, 4), v) TH_LOG("element %llu",
						       (unsigned long long)i);
	}
	EXPECT_EQ(CANARY, hbuf[off + n * 4]);
	/* The guest goes on from there and checks it all itself */
	ASSERT_RUN_UCALL(self->vcpu, &uc, UCALL_DONE);

	/* SET_REGS before the next RUN: the elements are dropped */
	ins_exit(_metadata, self, first, n);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	self->run->immediate_exit = 1;
	ASSERT_ERRNO(EINTR, ioctl(self->vcpu->fd, XVCPU_RUN, 0));
	self->run->immediate_exit = 0;
	EXPECT_EQ(CANARY, hbuf[off]);
	EXPECT_EQ(CANARY, hbuf[off + (n - 1) * 4]);
}

/* RFLAGS.DF = 1: from the top down; elements in the guest's order */
TEST_F(vm, direction_flag_down)
{
	unsigned int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t top = 4 * PAGE + 0x200;

		EXPECT_EQ(1, do_sio(_metadata, self, sizes[i] | OP_REP, 7,
				    true, top));
		EXPECT_LE(3, do_sio(_metadata, self, sizes[i] | OP_REP,
				    8000 / sizes[i], true, top));
		EXPECT_EQ(1, do_sio(_metadata, self,
				    sizes[i] | OP_REP | OP_IN, 7, true, top));
		EXPECT_LE(3, do_sio(_metadata, self,
				    sizes[i] | OP_REP | OP_IN,
				    8000 / sizes[i], true, top));
		if (_metadata->exit_code)
			return;
	}
}

/* Without REP: one element, RCX untouched */
TEST_F(vm, without_rep)
{
	unsigned int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(1, do_sio(_metadata, self, sizes[i], 77, false,
				    0x40));
		EXPECT_EQ(1, do_sio(_metadata, self, sizes[i] | OP_IN, 77,
				    false, 0x40));
		EXPECT_EQ(1, do_sio(_metadata, self, sizes[i] | OP_IN, 77,
				    true, 0x40));
	}
}

/* Elements that straddle a page move one per exit, whole */
TEST_F(vm, elements_straddle_pages)
{
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	/* 0xffd: the second 2-byte element at 0xfff straddles */
	do_sio(_metadata, self, 2 | OP_REP, 600, false, PAGE - 3);
	do_sio(_metadata, self, 4 | OP_REP | OP_IN, 600, false, PAGE - 2);
	do_sio(_metadata, self, 4 | OP_REP, 600, true, 2 * PAGE - 2);
	do_sio(_metadata, self, 4 | OP_REP | OP_IN, 600, true, 2 * PAGE - 1);
}

/* 32-bit address size in 64-bit mode: ESI/EDI and ECX only */
TEST_F(vm, address_size_32_in_long_mode)
{
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	/* RCX's upper half is not part of the count */
	do_sio(_metadata, self, 1 | OP_REP | OP_A32, 0x100000000ULL + 5000,
	       false, 0x300);
	do_sio(_metadata, self, 4 | OP_REP | OP_A32, 0xff00000000000009ULL,
	       true, 3 * PAGE);
	do_sio(_metadata, self, 2 | OP_REP | OP_IN | OP_A32,
	       0x1200000000000000ULL + 3000, false, 0x7);
}

/* An FS override: the elements come from FS.base + RSI */
TEST_F(vm, segment_override)
{
	struct sio_args *a = &GUEST_VAR(self->t, sio_args);
	uint8_t *hbuf = GUEST_VAR(self->t, sio_buf);
	struct xvcpu_sregs sregs;
	struct sio_run s = { .size = 1, .rep = true };
	uint32_t v;
	unsigned int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	memset(hbuf, CANARY, sizeof(sio_buf));
	for (i = 0; i < 3000; i++) {
		v = sio_pattern(i, 1);
		hbuf[PAGE + 0x50 + i] = v;
	}
	a->op = 1 | OP_REP | OP_FS;
	a->count = 3000;
	a->down = 0;
	a->index = 0x50;			/* FS-relative */
	a->buf = addr(sio_buf) + PAGE + 0x50;
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	sregs.fs.base = addr(sio_buf) + PAGE;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));
	ASSERT_EQ(0, xvt_vcpu_enter(self->vcpu, guest_sio, 0, 0));
	s.la = addr(sio_buf) + PAGE + 0x50;
	s.remaining = 3000;
	s.src = hbuf + PAGE + 0x50;
	EXPECT_EQ(UCALL_DONE, play(_metadata, self->vcpu, &s));
	EXPECT_EQ(3000, s.done);
	EXPECT_EQ(2, s.exits);
}

/*
 * A #PF on the guest's buffer: the first exit moves what lies below
 * 4 GiB (mapped), the rest faults at 4 GiB (no PDPTE there) with CR2 and
 * the error code of the access; RSI and RCX say what is left.
 */
GUEST_ASM(
"sio_fault_outs:\n"
"	rep outsb\n"
"	hlt\n"
"sio_fault_ins:\n"
"	rep insl\n"
"	hlt\n"
"sio_fault_resume:\n"
"	outb %al, $0x80\n"
"	hlt\n");
extern char sio_fault_outs[], sio_fault_ins[], sio_fault_resume[];

static void fault_case(struct __test_metadata *_metadata,
		       struct _test_data_vm *self, bool in)
{
	const uint64_t four_g = 0x100000000ULL;
	struct xvt_idt_event *e;
	struct xvcpu_regs regs;
	uint64_t start = four_g - 12;
	struct sio_run s = {
		.size = in ? 4 : 1, .in = in, .rep = true, .la = start,
		.remaining = 40,
	};
	uint8_t src[12];

	ASSERT_EQ(0, xvt_vcpu_reset_long(self->t, self->vcpu));
	ASSERT_EQ(0, xvt_idt_install(self->t, self->vcpu));
	xvt_idt_set_resume(self->t, addr(sio_fault_resume));
	/* The 12 bytes below 4 GiB: nothing backs them, but reads are zero */
	memset(src, 0, sizeof(src));
	s.src = src;
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rip = addr(in ? sio_fault_ins : sio_fault_outs);
	regs.rsi = start;
	regs.rdi = start;
	regs.rcx = 40;
	regs.rdx = SIO_PORT;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	EXPECT_EQ(UCALL_NONE, play(_metadata, self->vcpu, &s));
	ASSERT_EQ(XVCPU_EXIT_IO, self->run->exit_reason);
	ASSERT_EQ(DONE_PORT, self->run->io.port);
	EXPECT_EQ(1, s.exits);
	EXPECT_EQ(12 / s.size, s.done);
	ASSERT_EQ(1, xvt_idt_total(self->t));
	e = xvt_idt_event(self->t, 0);
	EXPECT_EQ(14, e->vector);
	EXPECT_EQ(four_g, e->cr2);
	EXPECT_EQ(in ? 0x2 : 0x0, e->error_code);
	EXPECT_EQ(addr(in ? sio_fault_ins : sio_fault_outs), e->rip);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(40 - 12 / s.size, regs.rcx);
	EXPECT_EQ(four_g, in ? regs.rdi : regs.rsi);
	if (in) {
		uint32_t v;
		unsigned int i;

		for (i = 0; i < 3; i++) {
			memcpy(&v, (uint8_t *)xvt_hva(self->t, start) + 4 * i,
			       4);
			EXPECT_EQ(sio_pattern(i, 4), v);
		}
	}
}

TEST_F(vm, page_fault_on_the_buffer)
{
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	/* 4 GiB - 12 is beyond the slot: make it memory */
	ASSERT_NE(NULL, xvcpu_vm_add_memory(self->t->vm, 1, 0xfffff000ULL,
					    PAGE, 0));
	fault_case(_metadata, self, false);
	fault_case(_metadata, self, true);
}

/* A buffer in MMIO is not emulated: the exit goes to userspace as is */
TEST_F(vm, buffer_in_mmio)
{
	struct xvcpu_regs regs;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rip = addr(sio_fault_outs);
	regs.rsi = XVT_UNMAPPED_GPA;
	regs.rcx = 4;
	regs.rdx = SIO_PORT;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	ASSERT_RUN_EXIT(self->vcpu, XVCPU_EXIT_INTERNAL_ERROR);
	EXPECT_EQ(30, self->run->internal.data[0]);	/* I/O instruction */
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(addr(sio_fault_outs), regs.rip);
	EXPECT_EQ(4, regs.rcx);
}

/*
 * Real mode (16-bit addresses): REP OUTSB from DS:SI with SI wrapping
 * from 0xfff0 to 0x0010 inside the segment, then REP INSW to ES:DI going
 * down, then OUTSD (66 prefix).  The host checks memory and registers.
 */
static const uint8_t real_code[] = {
	0xf3, 0x6e,		/* rep outsb */
	0xe6, DONE_PORT,	/* out 0x80, al */
	0xfd,			/* std */
	0xf3, 0x6d,		/* rep insw */
	0xfc,			/* cld */
	0xe6, DONE_PORT,
	0x66, 0xf3, 0x6f,	/* rep outsd */
	0xe6, DONE_PORT,
	0xf4,			/* hlt */
};

#define REAL_CODE	XVT_SCRATCH_GPA			/* CS base */
#define REAL_DATA	(XVT_SCRATCH_GPA + 0x10000)	/* DS = ES base */

TEST_F(vm, real_mode_16bit_addresses)
{
	uint8_t *code = xvt_hva(self->t, REAL_CODE);
	uint8_t *mem = xvt_hva(self->t, REAL_DATA);
	struct xvcpu_sregs sregs;
	struct xvcpu_regs regs;
	struct sio_run s = { .size = 1, .rep = true };
	uint8_t src[32];
	unsigned int i;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_UNRESTRICTED_GUEST));
	memcpy(code, real_code, sizeof(real_code));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_REAL,
					   REAL_CODE, REAL_CODE + 0xf000,
					   XVT_TABLES_GPA));
	ASSERT_EQ(0, xvcpu_get_sregs(self->vcpu, &sregs));
	sregs.ds.selector = REAL_DATA >> 4;
	sregs.ds.base = REAL_DATA;
	sregs.es = sregs.ds;
	ASSERT_EQ(0, xvcpu_set_sregs(self->vcpu, &sregs));

	/* 32 bytes from DS:0xfff0: 16 at the top, 16 from DS:0 */
	for (i = 0; i < 32; i++) {
		src[i] = sio_pattern(i, 1);
		mem[(0xfff0 + i) & 0xffff] = src[i];
	}
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rsi = 0xabcd0000fff0ULL;	/* only SI counts, only SI moves */
	regs.rcx = 0x77770020ULL;	/* CX = 32 */
	regs.rdx = SIO_PORT;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	s.la = REAL_DATA + 0xfff0;
	s.remaining = 16;
	s.src = src;
	/* The model has no 16-bit wrap: play the two halves */
	ASSERT_EQ(UCALL_NONE, xvt_run(self->vcpu, NULL));
	ASSERT_EQ(SIO_PORT, self->run->io.port);
	EXPECT_EQ(16, self->run->io.count);
	EXPECT_EQ(0, memcmp((uint8_t *)self->run + XVCPU_RUN_IO_DATA_OFFSET,
			    src, 16));
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(0xabcd00000000ULL, regs.rsi);
	EXPECT_EQ(0x77770010ULL, regs.rcx);
	s.la = REAL_DATA;
	s.src = src + 16;
	EXPECT_EQ(UCALL_NONE, play(_metadata, self->vcpu, &s));
	EXPECT_EQ(16, s.done);
	ASSERT_EQ(DONE_PORT, self->run->io.port);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(0xabcd00000010ULL, regs.rsi);
	EXPECT_EQ(0x77770000ULL, regs.rcx);

	/* REP INSW, DF = 1, 5 words down from ES:0x0100 */
	memset(mem, CANARY, 0x200);
	regs.rdi = 0x100;
	regs.rcx = 5;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	memset(&s, 0, sizeof(s));
	s.size = 2;
	s.in = true;
	s.down = true;
	s.rep = true;
	s.la = REAL_DATA + 0x100;
	s.remaining = 5;
	EXPECT_EQ(UCALL_NONE, play(_metadata, self->vcpu, &s));
	ASSERT_EQ(DONE_PORT, self->run->io.port);
	for (i = 0; i < 5; i++) {
		uint16_t w;

		memcpy(&w, mem + 0x100 - 2 * i, 2);
		EXPECT_EQ(sio_pattern(i, 2), w);
	}
	EXPECT_EQ(CANARY, mem[0x102]);
	EXPECT_EQ(CANARY, mem[0x100 - 2 * 5 + 1]);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(0x100 - 10, regs.rdi);
	EXPECT_EQ(0, regs.rcx & 0xffff);

	/* REP OUTSD (66 prefix), DF = 0 again: 3 dwords from DS:0x40 */
	for (i = 0; i < 12; i++)
		src[i] = mem[0x40 + i] = 0x30 + i;
	regs.rsi = 0x40;
	regs.rcx = 3;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	memset(&s, 0, sizeof(s));
	s.size = 4;
	s.rep = true;
	s.la = REAL_DATA + 0x40;
	s.remaining = 3;
	s.src = src;
	EXPECT_EQ(UCALL_NONE, play(_metadata, self->vcpu, &s));
	EXPECT_EQ(3, s.done);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(0x40 + 12, regs.rsi);
}

/* 32-bit protected mode: 32-bit addresses by default */
GUEST_ASM(
"	.code32\n"
"sio_code32:\n"
"	rep outsw\n"
"	outb %al, $0x80\n"
"	std\n"
"	rep insb\n"
"	cld\n"
"	outb %al, $0x80\n"
"	hlt\n"
"	.code64\n");
extern char sio_code32[];

TEST_F(vm, protected_mode_32bit_addresses)
{
	uint8_t *hbuf = GUEST_VAR(self->t, sio_buf);
	uint64_t base = addr(sio_buf);
	struct xvcpu_regs regs;
	struct sio_run s = { .size = 2, .rep = true };
	unsigned int i;
	uint16_t w;

	ASSERT_EQ(1, xvt_cap(XVCPU_CAP_STRING_IO));
	ASSERT_EQ(0, xvcpu_vcpu_setup_mode(self->vcpu, XVCPU_MODE_PROTECTED,
					   addr(sio_code32),
					   XVT_STACK_TOP - 0x100,
					   XVT_TABLES_GPA));
	memset(hbuf, CANARY, sizeof(sio_buf));
	for (i = 0; i < 3000; i++) {
		w = sio_pattern(i, 2);
		memcpy(hbuf + 0x100 + 2 * i, &w, 2);
	}
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	regs.rsi = base + 0x100;
	regs.rcx = 3000;
	regs.rdx = SIO_PORT;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	s.la = base + 0x100;
	s.remaining = 3000;
	s.src = hbuf + 0x100;
	EXPECT_EQ(UCALL_NONE, play(_metadata, self->vcpu, &s));
	ASSERT_EQ(DONE_PORT, self->run->io.port);
	EXPECT_EQ(3000, s.done);
	EXPECT_LE(3, s.exits);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(base + 0x100 + 6000, regs.rsi);
	EXPECT_EQ(0, regs.rcx);

	/* REP INSB down from the last byte of page 3: 5000 bytes */
	regs.rdi = base + 4 * PAGE - 1;
	regs.rcx = 5000;
	ASSERT_EQ(0, xvcpu_set_regs(self->vcpu, &regs));
	memset(&s, 0, sizeof(s));
	s.size = 1;
	s.in = true;
	s.down = true;
	s.rep = true;
	s.la = base + 4 * PAGE - 1;
	s.remaining = 5000;
	EXPECT_EQ(UCALL_NONE, play(_metadata, self->vcpu, &s));
	ASSERT_EQ(DONE_PORT, self->run->io.port);
	for (i = 0; i < 5000; i++)
		ASSERT_EQ((uint8_t)sio_pattern(i, 1),
			  hbuf[4 * PAGE - 1 - i]) TH_LOG("byte %u", i);
	EXPECT_EQ(CANARY, hbuf[4 * PAGE]);
	EXPECT_EQ(CANARY, hbuf[4 * PAGE - 1 - 5000]);
	ASSERT_EQ(0, xvcpu_get_regs(self->vcpu, &regs));
	EXPECT_EQ(base + 4 * PAGE - 1 - 5000, regs.rdi);
}

TEST_HARNESS_MAIN
