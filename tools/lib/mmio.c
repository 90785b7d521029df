// SPDX-License-Identifier: GPL-2.0
/*
 * libxvcpu: a small decoder and emulator for the instructions that touch
 * MMIO (see libxvcpu.h for the forms it knows and the contract).
 *
 * Instruction format and operand rules: Intel SDM Vol. 2, chapter 2
 * (prefixes, REX, ModR/M and SIB, Tables 2-1 to 2-3) and the instruction
 * pages; segment and address-size rules: Vol. 1, 3.3.7 and 3.7.5.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "libxvcpu.h"

#define RFLAGS_CF	(1ULL << 0)
#define RFLAGS_PF	(1ULL << 2)
#define RFLAGS_AF	(1ULL << 4)
#define RFLAGS_ZF	(1ULL << 6)
#define RFLAGS_SF	(1ULL << 7)
#define RFLAGS_DF	(1ULL << 10)
#define RFLAGS_OF	(1ULL << 11)
#define RFLAGS_VM	(1ULL << 17)
#define RFLAGS_STATUS	(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | \
			 RFLAGS_SF | RFLAGS_OF)

#define CR0_PE		(1ULL << 0)
#define EFER_LMA	(1ULL << 10)

#define PAGE_MASK	(~0xfffULL)
#define MAX_INSN_LEN	15

/* EPT violation qualification (SDM Vol. 3C, Table 28-7). */
#define EPT_QUAL_LINEAR_VALID	(1ULL << 7)
#define EPT_QUAL_TRANSLATED	(1ULL << 8)

/* Segment registers in the order of the Sreg encoding. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_DEFAULT };

/* GPR numbers as ModR/M encodes them. */
enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI };

/* ALU operations in the order of the opcode and /digit encodings. */
enum {
	ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP,
	ALU_TEST,		/* not an encoding: AND without the write */
};

enum kind {
	K_STORE,	/* MOV m, r / MOV m, imm */
	K_LOAD,		/* MOV r, m; MOVZX/MOVSX/MOVSXD r, m */
	K_ALU_M,	/* op m, r / op m, imm: memory is the destination */
	K_ALU_R,	/* op r, m: the register is */
	K_STOS,
	K_MOVS,
};

#define REX_B		0x1
#define REX_X		0x2
#define REX_R		0x4
#define REX_W		0x8

struct emu {
	struct xvcpu_mmio_ctx *c;
	unsigned int mode;	/* code size in bytes: 2, 4 or 8 */
	unsigned int pos;	/* bytes decoded so far */
	/* prefixes */
	bool opsize_prefix, adsize_prefix, lock, rep;
	int seg;		/* override, or SEG_DEFAULT */
	uint8_t rex;
	/* the instruction */
	enum kind kind;
	unsigned int alu;
	unsigned int opsize;	/* operand size */
	unsigned int adsize;	/* address size */
	unsigned int msize;	/* memory operand size */
	bool sign_extend;	/* K_LOAD from a smaller memory operand */
	unsigned int reg;	/* ModR/M reg with REX.R */
	bool has_imm;
	uint64_t imm;
	/* the memory operand (not for string instructions) */
	uint64_t ea;
	int ea_seg;		/* the segment the addressing form implies */
	bool rip_relative;
	/* the fault */
	uint64_t fault_la;
};

static uint64_t mask_of(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static uint64_t sign_ext(uint64_t v, unsigned int size)
{
	uint64_t sign = 1ULL << (size * 8 - 1);

	v &= mask_of(size);
	return (v ^ sign) - sign;
}

static __u64 *gpr(struct xvcpu_regs *r, unsigned int n)
{
	static const size_t off[16] = {
		offsetof(struct xvcpu_regs, rax),
		offsetof(struct xvcpu_regs, rcx),
		offsetof(struct xvcpu_regs, rdx),
		offsetof(struct xvcpu_regs, rbx),
		offsetof(struct xvcpu_regs, rsp),
		offsetof(struct xvcpu_regs, rbp),
		offsetof(struct xvcpu_regs, rsi),
		offsetof(struct xvcpu_regs, rdi),
		offsetof(struct xvcpu_regs, r8),
		offsetof(struct xvcpu_regs, r9),
		offsetof(struct xvcpu_regs, r10),
		offsetof(struct xvcpu_regs, r11),
		offsetof(struct xvcpu_regs, r12),
		offsetof(struct xvcpu_regs, r13),
		offsetof(struct xvcpu_regs, r14),
		offsetof(struct xvcpu_regs, r15),
	};

	return (__u64 *)((char *)r + off[n & 15]);
}

/* Byte registers 4-7 are AH, CH, DH, BH unless a REX prefix is present. */
static bool is_high_byte(const struct emu *e, unsigned int n, unsigned int size)
{
	return size == 1 && !e->rex && n >= 4 && n < 8;
}

static uint64_t read_reg(struct emu *e, unsigned int n, unsigned int size)
{
	if (is_high_byte(e, n, size))
		return (*gpr(&e->c->regs, n - 4) >> 8) & 0xff;
	return *gpr(&e->c->regs, n) & mask_of(size);
}

/* A 32-bit write zero-extends; 8- and 16-bit writes keep the rest. */
static void write_reg(struct emu *e, unsigned int n, unsigned int size,
		      uint64_t v)
{
	__u64 *r;

	if (is_high_byte(e, n, size)) {
		r = gpr(&e->c->regs, n - 4);
		*r = (*r & ~0xff00ULL) | ((v & 0xff) << 8);
		return;
	}
	r = gpr(&e->c->regs, n);
	if (size >= 4)
		*r = v & mask_of(size);
	else
		*r = (*r & ~mask_of(size)) | (v & mask_of(size));
}

/* ---- decoding ---- */

static int fetch(struct emu *e, unsigned int n, uint64_t *v)
{
	unsigned int i;

	if (e->pos + n > e->c->insn_len || e->pos + n > MAX_INSN_LEN)
		return -EINVAL;		/* truncated */
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)e->c->insn[e->pos + i] << (8 * i);
	e->pos += n;
	return 0;
}

static unsigned int cpu_mode(const struct xvcpu_mmio_ctx *c)
{
	if (!(c->sregs.cr0 & CR0_PE) || (c->regs.rflags & RFLAGS_VM))
		return 2;
	if ((c->sregs.efer & EFER_LMA) && c->sregs.cs.l)
		return 8;
	return c->sregs.cs.db ? 4 : 2;
}

static int decode_prefixes(struct emu *e)
{
	uint64_t b;
	int ret;

	for (;;) {
		ret = fetch(e, 1, &b);
		if (ret)
			return ret;
		switch (b) {
		case 0x66:
			e->opsize_prefix = true;
			break;
		case 0x67:
			e->adsize_prefix = true;
			break;
		case 0xf0:
			e->lock = true;
			break;
		case 0xf2:
		case 0xf3:
			e->rep = true;
			break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			e->seg = (b >> 3) & 3;	/* ES, CS, SS, DS */
			break;
		case 0x64:
		case 0x65:
			e->seg = SEG_FS + (b & 1);
			break;
		default:
			/* REX counts only right before the opcode. */
			if (e->mode == 8 && (b & 0xf0) == 0x40) {
				e->rex = b;
				break;
			}
			e->pos--;
			return 0;
		}
		if (e->rex && (b & 0xf0) != 0x40)
			e->rex = 0;
	}
}

/* The ModR/M memory operand (Vol. 2, 2.1.5 and 2.2.1). */
static int decode_modrm(struct emu *e)
{
	struct xvcpu_regs *r = &e->c->regs;
	unsigned int mod, rm, base, index;
	uint64_t modrm, sib, disp = 0;
	int ret;

	ret = fetch(e, 1, &modrm);
	if (ret)
		return ret;
	mod = modrm >> 6;
	rm = modrm & 7;
	e->reg = ((modrm >> 3) & 7) | (e->rex & REX_R ? 8 : 0);
	if (mod == 3)
		return -EINVAL;		/* no memory operand: no MMIO */
	e->ea_seg = SEG_DS;

	if (e->adsize == 2) {
		static const uint8_t base16[8] = {
			R_BX, R_BX, R_BP, R_BP, R_SI, R_DI, R_BP, R_BX };
		static const uint8_t index16[8] = {
			R_SI, R_DI, R_SI, R_DI, 0, 0, 0, 0 };

		if (mod == 0 && rm == 6) {
			ret = fetch(e, 2, &disp);
		} else {
			e->ea = *gpr(r, base16[rm]);
			if (rm < 4)
				e->ea += *gpr(r, index16[rm]);
			if (base16[rm] == R_BP)
				e->ea_seg = SEG_SS;
			if (mod)
				ret = fetch(e, mod == 1 ? 1 : 2, &disp);
			disp = sign_ext(disp, mod == 1 ? 1 : 2);
		}
		e->ea += disp;
		return ret;
	}

	if (rm == 4) {
		ret = fetch(e, 1, &sib);
		if (ret)
			return ret;
		index = ((sib >> 3) & 7) | (e->rex & REX_X ? 8 : 0);
		base = sib & 7;
		if (index != R_SP)
			e->ea = *gpr(r, index) << (sib >> 6);
		if (base == R_BP && mod == 0) {
			mod = 2;	/* disp32, no base */
		} else {
			e->ea += *gpr(r, base | (e->rex & REX_B ? 8 : 0));
			if (base == R_SP || base == R_BP)
				e->ea_seg = SEG_SS;
		}
	} else if (rm == R_BP && mod == 0) {
		e->rip_relative = e->mode == 8;
		mod = 2;		/* disp32 */
	} else {
		e->ea = *gpr(r, rm | (e->rex & REX_B ? 8 : 0));
		if (rm == R_BP)
			e->ea_seg = SEG_SS;
	}
	if (mod) {
		ret = fetch(e, mod == 1 ? 1 : 4, &disp);
		e->ea += sign_ext(disp, mod == 1 ? 1 : 4);
	}
	return ret;
}

/* Immediate of @size bytes (4 at most), sign-extended to the operand. */
static int decode_imm(struct emu *e, unsigned int size)
{
	int ret = fetch(e, size, &e->imm);

	e->imm = sign_ext(e->imm, size) & mask_of(e->opsize);
	e->has_imm = true;
	return ret;
}

/* Iz: 16 bits for a 16-bit operand, else 32. */
static unsigned int imm_z(const struct emu *e)
{
	return e->opsize == 2 ? 2 : 4;
}

/*
 * Decode the opcode after the prefixes and its operands.  -ENOTSUP for
 * what this emulator does not know.
 */
static int decode(struct emu *e)
{
	uint64_t op, op2;
	bool byte_op;
	int ret;

	ret = decode_prefixes(e);
	if (!ret)
		ret = fetch(e, 1, &op);
	if (ret)
		return ret;

	if (e->mode == 8)
		e->opsize = e->rex & REX_W ? 8 : e->opsize_prefix ? 2 : 4;
	else
		e->opsize = (e->mode == 4) != e->opsize_prefix ? 4 : 2;
	if (e->mode == 8)
		e->adsize = e->adsize_prefix ? 4 : 8;
	else
		e->adsize = (e->mode == 4) != e->adsize_prefix ? 4 : 2;

	/* REP prefixes only on string instructions. */
	if (e->rep && (op < 0xa4 || op > 0xab || op == 0xa6 || op == 0xa7 ||
		       op == 0xa8 || op == 0xa9))
		return -ENOTSUP;

	byte_op = !(op & 1);
	if (op <= 0x3f && (op & 7) <= 3) {
		/* ALU Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev */
		e->kind = op & 2 ? K_ALU_R : K_ALU_M;
		e->alu = op >> 3;
		if (byte_op)
			e->opsize = 1;
		e->msize = e->opsize;
		return decode_modrm(e);
	}

	switch (op) {
	case 0x80:
	case 0x81:
	case 0x83:
		e->kind = K_ALU_M;
		if (op == 0x80)
			e->opsize = 1;
		e->msize = e->opsize;
		ret = decode_modrm(e);
		e->alu = e->reg & 7;
		return ret ? ret : decode_imm(e, op == 0x81 ? imm_z(e) : 1);
	case 0x84:
	case 0x85:
		e->kind = K_ALU_M;
		e->alu = ALU_TEST;
		if (byte_op)
			e->opsize = 1;
		e->msize = e->opsize;
		return decode_modrm(e);
	case 0xf6:
	case 0xf7:
		e->kind = K_ALU_M;
		e->alu = ALU_TEST;
		if (byte_op)
			e->opsize = 1;
		e->msize = e->opsize;
		ret = decode_modrm(e);
		if (!ret && (e->reg & 7) != 0)
			return -ENOTSUP;	/* NOT, NEG, MUL, DIV... */
		return ret ? ret : decode_imm(e, byte_op ? 1 : imm_z(e));
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		e->kind = op & 2 ? K_LOAD : K_STORE;
		if (byte_op)
			e->opsize = 1;
		e->msize = e->opsize;
		return decode_modrm(e);
	case 0xc6:
	case 0xc7:
		e->kind = K_STORE;
		if (byte_op)
			e->opsize = 1;
		e->msize = e->opsize;
		ret = decode_modrm(e);
		if (!ret && (e->reg & 7) != 0)
			return -ENOTSUP;
		return ret ? ret : decode_imm(e, byte_op ? 1 : imm_z(e));
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		/* moffs: an address of the address size, no ModR/M */
		e->kind = op & 2 ? K_STORE : K_LOAD;
		if (byte_op)
			e->opsize = 1;
		e->msize = e->opsize;
		e->reg = R_AX;
		e->ea_seg = SEG_DS;
		return fetch(e, e->adsize, &e->ea);
	case 0x63:
		/* MOVSXD in 64-bit mode (ARPL elsewhere) */
		if (e->mode != 8)
			return -ENOTSUP;
		e->kind = K_LOAD;
		e->sign_extend = true;
		e->msize = e->opsize == 8 ? 4 : e->opsize;
		return decode_modrm(e);
	case 0xa4:
	case 0xa5:
	case 0xaa:
	case 0xab:
		e->kind = op >= 0xaa ? K_STOS : K_MOVS;
		if (byte_op)
			e->opsize = 1;
		e->msize = e->opsize;
		return 0;
	case 0x0f:
		ret = fetch(e, 1, &op2);
		if (ret)
			return ret;
		if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0xbe && op2 != 0xbf)
			return -ENOTSUP;
		/* MOVZX, MOVSX Gv, Eb/Ew */
		e->kind = K_LOAD;
		e->sign_extend = op2 >= 0xbe;
		e->msize = op2 & 1 ? 2 : 1;
		return decode_modrm(e);
	}
	return -ENOTSUP;
}

/* ---- memory ---- */

static uint64_t seg_base(const struct emu *e, int seg)
{
	const struct xvcpu_sregs *s = &e->c->sregs;

	/* 64-bit mode: only FS and GS have a base (Vol. 1, 3.3.7.1) */
	switch (seg) {
	case SEG_FS:
		return s->fs.base;
	case SEG_GS:
		return s->gs.base;
	}
	if (e->mode == 8)
		return 0;
	switch (seg) {
	case SEG_ES:
		return s->es.base;
	case SEG_CS:
		return s->cs.base;
	case SEG_SS:
		return s->ss.base;
	default:
		return s->ds.base;
	}
}

/* Linear address of @seg:@off, @off already within the address size. */
static uint64_t linear(const struct emu *e, int seg, uint64_t off)
{
	uint64_t la = seg_base(e, seg) + off;

	return e->mode == 8 ? la : la & 0xffffffffULL;
}

/* Whether [@la, @la + @size) contains the faulting address. */
static bool touches_fault(const struct emu *e, uint64_t la, unsigned int size)
{
	return e->fault_la - la < size;
}

/* Whether [@la, @la + @size) lies in the page of the fault. */
static bool in_fault_page(const struct emu *e, uint64_t la, unsigned int size)
{
	return (la & PAGE_MASK) == (e->fault_la & PAGE_MASK) &&
	       ((la + size - 1) & PAGE_MASK) == (e->fault_la & PAGE_MASK);
}

/*
 * Access guest-linear [@la, @la + @size), page by page: the page of the
 * fault is the MMIO page the exit reported; any other goes through
 * linear_access.
 */
static int mem_access(struct emu *e, uint64_t la, void *data,
		      unsigned int size, bool write)
{
	struct xvcpu_mmio_ctx *c = e->c;
	uint8_t *p = data;
	unsigned int n;
	uint64_t gpa;
	int ret;

	while (size) {
		n = 0x1000 - (la & 0xfff);
		if (n > size)
			n = size;
		if (in_fault_page(e, la, n)) {
			gpa = c->phys_addr + (la - e->fault_la);
			ret = write ? c->ops->mmio_write(c->opaque, gpa, p, n) :
				      c->ops->mmio_read(c->opaque, gpa, p, n);
		} else if (c->linear_access) {
			ret = c->linear_access(c->lin_opaque, la, p, n, write);
		} else {
			ret = -ENOTSUP;
		}
		if (ret < 0)
			return ret;
		if (e->mode != 8)
			la = (la + n) & 0xffffffffULL;
		else
			la += n;
		p += n;
		size -= n;
	}
	return 0;
}

static int mem_read(struct emu *e, uint64_t la, unsigned int size,
		    uint64_t *v)
{
	uint8_t buf[8] = { 0 };
	unsigned int i;
	int ret;

	ret = mem_access(e, la, buf, size, false);
	*v = 0;
	for (i = 0; i < size; i++)
		*v |= (uint64_t)buf[i] << (8 * i);
	return ret;
}

static int mem_write(struct emu *e, uint64_t la, unsigned int size,
		     uint64_t v)
{
	uint8_t buf[8];
	unsigned int i;

	for (i = 0; i < size; i++)
		buf[i] = v >> (8 * i);
	return mem_access(e, la, buf, size, true);
}

/*
 * Whether an access of the instruction at [@la, @la + @size), reading
 * and/or writing, can be the one that faulted.
 */
static bool is_fault(const struct emu *e, uint64_t la, unsigned int size,
		     bool reads, bool writes)
{
	uint32_t a = e->c->access;

	return touches_fault(e, la, size) &&
	       (reads || !(a & XVCPU_MMIO_READ)) &&
	       (writes || !(a & XVCPU_MMIO_WRITE));
}

/* ---- execution ---- */

/*
 * @a op @b on @size bytes, with the status flags as the SDM's instruction
 * pages define them.  The carry (borrow) out of every bit is a vector
 * derived from the operands and the result: its top bit is CF, bit 3 AF.
 */
static uint64_t alu(unsigned int op, uint64_t a, uint64_t b,
		    unsigned int size, __u64 *rflags)
{
	uint64_t m = mask_of(size), sign = 1ULL << (size * 8 - 1);
	uint64_t res, carries = 0, overflow = 0, f = 0;
	uint64_t cin = *rflags & RFLAGS_CF ? 1 : 0;

	a &= m;
	b &= m;
	switch (op) {
	case ALU_ADD:
		cin = 0;
		/* fall through */
	case ALU_ADC:
		res = (a + b + cin) & m;
		carries = (a & b) | ((a | b) & ~res);
		overflow = (a ^ res) & (b ^ res);
		break;
	case ALU_SUB:
	case ALU_CMP:
		cin = 0;
		/* fall through */
	case ALU_SBB:
		res = (a - b - cin) & m;
		carries = (~a & b) | ((~a | b) & res);
		overflow = (a ^ b) & (a ^ res);
		break;
	case ALU_OR:
		res = a | b;
		break;
	case ALU_XOR:
		res = a ^ b;
		break;
	default:		/* AND, TEST */
		res = a & b;
		break;
	}
	if (carries & sign)
		f |= RFLAGS_CF;
	if (carries & 8)
		f |= RFLAGS_AF;
	if (overflow & sign)
		f |= RFLAGS_OF;
	if (res & sign)
		f |= RFLAGS_SF;
	if (!res)
		f |= RFLAGS_ZF;
	if (!__builtin_parity(res & 0xff))
		f |= RFLAGS_PF;
	*rflags = (*rflags & ~RFLAGS_STATUS) | f;
	return res;
}

/* Write a string instruction's index or count register (by address size). */
static void write_areg(struct emu *e, unsigned int n, uint64_t v)
{
	write_reg(e, n, e->adsize, v);
}

/* STOS, MOVS: see libxvcpu.h for what a REP does per exit. */
static int exec_string(struct emu *e)
{
	struct xvcpu_regs *r = &e->c->regs;
	uint64_t am = mask_of(e->adsize), count, src, dst, v;
	unsigned int n = e->opsize;
	bool movs = e->kind == K_MOVS, first = true;
	int src_seg = e->seg == SEG_DEFAULT ? SEG_DS : e->seg;
	uint64_t step = r->rflags & RFLAGS_DF ? -(uint64_t)n : n;
	int ret;

	if (!e->c->linear_valid)
		return -ENOTSUP;
	count = e->rep ? r->rcx & am : 1;
	while (count) {
		dst = linear(e, SEG_ES, r->rdi & am);
		src = linear(e, src_seg, r->rsi & am);
		if (first) {
			if (!is_fault(e, dst, n, false, true) &&
			    !(movs && is_fault(e, src, n, true, false)))
				return -EINVAL;
		} else if (!in_fault_page(e, dst, n) &&
			   !(movs && in_fault_page(e, src, n))) {
			break;		/* the guest goes on by itself */
		}
		v = r->rax;
		if (movs) {
			ret = mem_read(e, src, n, &v);
			if (ret)
				return ret;
		}
		ret = mem_write(e, dst, n, v);
		if (ret)
			return ret;
		write_areg(e, R_DI, r->rdi + step);
		if (movs)
			write_areg(e, R_SI, r->rsi + step);
		count--;
		first = false;
	}
	if (e->rep)
		write_areg(e, R_CX, count);
	return count ? 1 : 0;
}

static int exec(struct emu *e)
{
	struct xvcpu_regs *r = &e->c->regs;
	bool reads, writes;
	uint64_t la, v, res;
	int ret;

	if (e->kind == K_STOS || e->kind == K_MOVS)
		return exec_string(e);

	if (e->rip_relative)
		e->ea += r->rip + e->pos;
	la = linear(e, e->seg == SEG_DEFAULT ? e->ea_seg : e->seg,
		    e->ea & mask_of(e->adsize));
	if (!e->c->linear_valid)
		e->fault_la = la;

	reads = e->kind != K_STORE;
	writes = e->kind == K_STORE ||
		 (e->kind == K_ALU_M && e->alu != ALU_CMP &&
		  e->alu != ALU_TEST);
	/* LOCK only on a read-modify-write of memory (else #UD). */
	if (e->lock && !(reads && writes))
		return -EINVAL;
	if (!is_fault(e, la, e->msize, reads, writes))
		return -EINVAL;

	switch (e->kind) {
	case K_STORE:
		v = e->has_imm ? e->imm : read_reg(e, e->reg, e->opsize);
		return mem_write(e, la, e->msize, v);
	case K_LOAD:
		ret = mem_read(e, la, e->msize, &v);
		if (ret)
			return ret;
		if (e->sign_extend)
			v = sign_ext(v, e->msize);
		write_reg(e, e->reg, e->opsize, v);
		return 0;
	case K_ALU_M:
		ret = mem_read(e, la, e->msize, &v);
		if (ret)
			return ret;
		res = alu(e->alu, v, e->has_imm ? e->imm :
			  read_reg(e, e->reg, e->opsize), e->opsize, &r->rflags);
		return writes ? mem_write(e, la, e->msize, res) : 0;
	case K_ALU_R:
		ret = mem_read(e, la, e->msize, &v);
		if (ret)
			return ret;
		res = alu(e->alu, read_reg(e, e->reg, e->opsize), v,
			  e->opsize, &r->rflags);
		if (e->alu != ALU_CMP)
			write_reg(e, e->reg, e->opsize, res);
		return 0;
	default:
		return -ENOTSUP;
	}
}

int xvcpu_mmio_execute(struct xvcpu_mmio_ctx *ctx)
{
	struct xvcpu_regs saved = ctx->regs;
	struct emu e;
	uint64_t rip;
	int ret;

	memset(&e, 0, sizeof(e));
	e.c = ctx;
	e.seg = SEG_DEFAULT;
	e.mode = cpu_mode(ctx);
	e.fault_la = ctx->linear_addr;

	if (!ctx->insn || !ctx->insn_len)
		return -ENOTSUP;
	if (ctx->access & XVCPU_MMIO_FETCH)
		return -ENOTSUP;	/* executing from MMIO */
	if (!ctx->ops || !ctx->ops->mmio_read || !ctx->ops->mmio_write)
		return -EINVAL;

	ret = decode(&e);
	if (!ret)
		ret = exec(&e);
	if (ret < 0) {
		ctx->regs = saved;
		return ret;
	}
	/* ret == 1: a REP with elements left stays at the instruction. */
	if (ret == 0) {
		rip = ctx->regs.rip + e.pos;
		ctx->regs.rip = e.mode == 8 ? rip : rip & mask_of(e.mode);
	}
	return 0;
}

/* ---- the vCPU glue ---- */

int xvcpu_translate(struct xvcpu_vcpu *vcpu, uint64_t linear,
		    uint32_t access, struct xvcpu_translation *tr)
{
	memset(tr, 0, sizeof(*tr));
	tr->linear_address = linear;
	tr->access = access;
	if (ioctl(vcpu->fd, XVCPU_TRANSLATE, tr) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

struct glue {
	struct xvcpu_vcpu *vcpu;
	const struct xvcpu_mmio_ops *ops;
	void *opaque;
	uint32_t user;		/* XVCPU_ACCESS_USER at CPL 3 */
	/* A guest page fault met by linear_access */
	bool pf;
	uint64_t pf_la;
	uint32_t pf_error_code;
};

/* Host address of guest RAM [@gpa, @gpa + @size), or NULL. */
static void *ram(struct xvcpu_vm *vm, uint64_t gpa, unsigned int size,
		 bool write)
{
	unsigned int i;

	for (i = 0; i < XVCPU_LIB_MAX_SLOTS; i++) {
		struct xvcpu_lib_slot *s = &vm->slots[i];

		if (!s->used || !s->hva || gpa < s->gpa ||
		    gpa - s->gpa > s->size - size)
			continue;
		if (write && (s->flags & XVCPU_MEM_READONLY))
			return NULL;
		return (char *)s->hva + (gpa - s->gpa);
	}
	return NULL;
}

static int glue_linear_access(void *p, uint64_t la, void *data,
			      unsigned int size, int write)
{
	struct glue *g = p;
	struct xvcpu_translation tr;
	void *hva;
	int ret;

	ret = xvcpu_translate(g->vcpu, la, g->user |
			      (write ? XVCPU_ACCESS_WRITE : 0), &tr);
	if (ret)
		return ret;
	if (!tr.valid) {
		g->pf = true;
		g->pf_la = la;
		g->pf_error_code = tr.error_code;
		return -EFAULT;
	}
	hva = ram(g->vcpu->vm, tr.physical_address, size, write);
	if (hva) {
		if (write)
			memcpy(hva, data, size);
		else
			memcpy(data, hva, size);
		return 0;
	}
	if (write)
		return g->ops->mmio_write(g->opaque, tr.physical_address,
					  data, size);
	return g->ops->mmio_read(g->opaque, tr.physical_address, data, size);
}

static int fail(int err)
{
	errno = -err;
	return err;
}

/*
 * The other operand of a MOVS faulted: the instruction is not done (the
 * registers stay as the exit left them) and the guest takes #PF with CR2
 * = @la (SDM Vol. 3A 5.7).  The event goes in with the rest of the event
 * state as it is; an event pending already leaves no room for it.
 */
static int inject_page_fault(struct xvcpu_vcpu *vcpu,
			     struct xvcpu_sregs *sregs, uint64_t la,
			     uint32_t error_code)
{
	struct xvcpu_events ev;
	int ret;

	ret = xvcpu_get_events(vcpu, &ev);
	if (ret)
		return ret;
	if (ev.injected.valid)
		return fail(-EFAULT);
	sregs->cr2 = la;
	ret = xvcpu_set_sregs(vcpu, sregs);
	if (ret)
		return ret;
	memset(&ev.injected, 0, sizeof(ev.injected));
	ev.injected.valid = 1;
	ev.injected.type = XVCPU_EVENT_EXCEPTION;
	ev.injected.vector = 14;
	ev.injected.has_error_code = 1;
	ev.injected.error_code = error_code;
	return xvcpu_set_events(vcpu, &ev);
}

int xvcpu_mmio_emulate(struct xvcpu_vcpu *vcpu,
		       const struct xvcpu_mmio_ops *ops, void *opaque)
{
	struct xvcpu_run *run = vcpu->run;
	struct xvcpu_exit_info info;
	struct xvcpu_mmio_ctx c;
	struct glue g;
	int ret;

	if (run->exit_reason != XVCPU_EXIT_MMIO)
		return fail(-EINVAL);

	/*
	 * An access to a paging-structure entry (the guest's page tables in
	 * MMIO) is not the instruction's own access: not emulated.
	 */
	if (!xvcpu_get_exit_info(vcpu, &info) &&
	    (info.exit_qualification & EPT_QUAL_LINEAR_VALID) &&
	    !(info.exit_qualification & EPT_QUAL_TRANSLATED))
		return fail(-ENOTSUP);

	memset(&c, 0, sizeof(c));
	ret = xvcpu_get_regs(vcpu, &c.regs);
	if (!ret)
		ret = xvcpu_get_sregs(vcpu, &c.sregs);
	if (ret)
		return ret;
	c.phys_addr = run->mmio.phys_addr;
	c.linear_addr = run->mmio.linear_addr;
	c.linear_valid = run->mmio.linear_valid;
	c.access = run->mmio.access;
	c.insn = run->mmio.insn;
	c.insn_len = run->mmio.insn_len < sizeof(run->mmio.insn) ?
		     run->mmio.insn_len : sizeof(run->mmio.insn);
	c.ops = ops;
	c.opaque = opaque;

	memset(&g, 0, sizeof(g));
	g.vcpu = vcpu;
	g.ops = ops;
	g.opaque = opaque;
	g.user = c.sregs.ss.dpl == 3 ? XVCPU_ACCESS_USER : 0;
	c.linear_access = glue_linear_access;
	c.lin_opaque = &g;

	ret = xvcpu_mmio_execute(&c);
	if (ret == -EFAULT && g.pf)
		return inject_page_fault(vcpu, &c.sregs, g.pf_la,
					 g.pf_error_code);
	if (ret)
		return fail(ret);
	return xvcpu_set_regs(vcpu, &c.regs);
}
