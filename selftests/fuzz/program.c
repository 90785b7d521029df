// SPDX-License-Identifier: GPL-2.0
/*
 * The guests: a program that exits to userspace in every way it can, a
 * program of WRMSR and RDMSR with an IDT, the state templates they start
 * from, and random guest state for SET_REGS and SET_SREGS.
 */
#include "fuzz.h"

/*
 * At PROG_CODE, 64-bit.  Every pass exits to userspace with OUT, IN, an
 * MMIO write, an MMIO read, HLT and VMCALL, and to the kernel with CPUID.
 * RIP stays on an MMIO instruction: the VMM moves it (program_step()).
 */
static const uint8_t prog[] = {
	0xbb, 0x00, 0x00, 0x00, 0xc0,	/* mov ebx, PROG_MMIO */
	0xbe, 0x00, 0xe0, 0x00, 0x00,	/* mov esi, PROG_DATA */
	/* loop: */
	0xe6, 0x80,			/* out 0x80, al */
	0xff, 0xc0,			/* inc eax */
	0xe4, 0x81,			/* in al, 0x81 */
	0x89, 0x06,			/* mov [rsi], eax */
	0x89, 0x03,			/* PROG_MMIO_W: mov [rbx], eax */
	0x8b, 0x0b,			/* PROG_MMIO_R: mov ecx, [rbx] */
	0xf4,				/* hlt */
	0x0f, 0xa2,			/* cpuid */
	0xbb, 0x00, 0x00, 0x00, 0xc0,	/* mov ebx, PROG_MMIO */
	0x0f, 0x01, 0xc1,		/* vmcall */
	0xeb, 0xe7,			/* jmp loop */
};

/*
 * At MSRPROG_CODE, 64-bit: WRMSR then RDMSR of each {index, eax, edx} of
 * the table at MSRPROG_TABLE, then OUT, forever.  The #GP handler moves
 * RIP past the faulting (2-byte) instruction.
 */
static const uint8_t msrprog[] = {
	0xbe, 0x00, 0xb0, 0x00, 0x00,	/* mov esi, MSRPROG_TABLE */
	/* loop: */
	0x8b, 0x0e,			/* mov ecx, [rsi] */
	0x8b, 0x46, 0x04,		/* mov eax, [rsi + 4] */
	0x8b, 0x56, 0x08,		/* mov edx, [rsi + 8] */
	0x0f, 0x30,			/* wrmsr */
	0x0f, 0x32,			/* rdmsr */
	0x83, 0xc6, 0x0c,		/* add esi, 12 */
	0x81, 0xfe, 0x80, 0xb1, 0x00, 0x00, /* cmp esi, table end */
	0x72, 0xe9,			/* jb loop */
	0xe6, 0x80,			/* out 0x80, al */
	0xeb, 0xe0,			/* jmp to the start */
};

static const uint8_t msrprog_gp[] = {
	0x48, 0x83, 0x44, 0x24, 0x08, 0x02,	/* add qword [rsp + 8], 2 */
	0x48, 0x83, 0xc4, 0x08,			/* add rsp, 8: error code */
	0x48, 0xcf,				/* iretq */
};

/* Every other vector: back to where the guest was */
static const uint8_t msrprog_iret[] = {
	0x48, 0xcf,				/* iretq */
};

static const uint8_t msrprog_iret_err[] = {
	0x48, 0x83, 0xc4, 0x08,			/* add rsp, 8: error code */
	0x48, 0xcf,				/* iretq */
};

/* MSRs the kernel handles, some it does not, and VMX capability MSRs */
static const uint32_t msr_indices[] = {
	0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
	0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0x277, 0x174, 0x175,
	0x176, 0x10, 0x1a0, 0x1b, 0x480, 0x48b, 0x491, 0x492, 0x3a, 0x48,
	0x8b, 0xc0010117, 0x40000000, 0xffffffff, 0,
};

/* A table of MSR accesses for the MSR program. */
void msrprog_table(struct rng *r, uint8_t *mem)
{
	uint32_t *t = (uint32_t *)(mem + MSRPROG_TABLE);
	unsigned int i;
	uint64_t v;

	for (i = 0; i < MSRPROG_ENTRIES; i++) {
		t[3 * i] = rng_chance(r, 90) ?
			   msr_indices[rng_below(r, ARRAY_SIZE(msr_indices))] :
			   rng_u64(r);
		v = rng_value(r);
		if (rng_chance(r, 20))
			v = 0x0007040600070406ULL;	/* a valid PAT */
		t[3 * i + 1] = v;
		t[3 * i + 2] = v >> 32;
	}
}

struct xvcpu_sregs sregs_msrprog;

int templates_init(void)
{
	struct xvcpu_regs regs;
	uint8_t scratch[XVCPU_SETUP_TABLES_SIZE];
	int ret;

	ret = xvcpu_mode_build(XVCPU_MODE_LONG, PROG_CODE, PROG_STACK,
			       PROG_TABLES, fz.tables, &fz.prog_regs,
			       &fz.sregs_long);
	sregs_msrprog = fz.sregs_long;
	sregs_msrprog.idt.base = MSRPROG_IDT;
	sregs_msrprog.idt.limit = 0xfff;
	if (!ret)
		ret = xvcpu_mode_build(XVCPU_MODE_REAL, PROG_CODE, PROG_STACK,
				       0, NULL, &regs, &fz.sregs_real);
	if (!ret)
		ret = xvcpu_mode_build(XVCPU_MODE_PROTECTED, PROG_CODE,
				       PROG_STACK, PROG_TABLES, scratch, &regs,
				       &fz.sregs_prot);
	return ret;
}

/* The exceptions that push an error code (SDM Vol. 3A 7.3, Table 7-1) */
bool vector_has_error_code(unsigned int vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

/*
 * Write the page tables and the programs into slot 0 at @mem.  The MSR
 * program's IDT has a 64-bit interrupt gate in the code segment for each
 * vector: #GP to MSRPROG_GP, the other exceptions with an error code to
 * MSRPROG_IRET_ERR, everything else (interrupts, NMI) to MSRPROG_IRET.
 */
void prog_write(uint8_t *mem)
{
	unsigned int v;

	memcpy(mem + PROG_TABLES, fz.tables, sizeof(fz.tables));
	memcpy(mem + PROG_CODE, prog, sizeof(prog));
	memcpy(mem + MSRPROG_CODE, msrprog, sizeof(msrprog));
	memcpy(mem + MSRPROG_GP, msrprog_gp, sizeof(msrprog_gp));
	memcpy(mem + MSRPROG_IRET, msrprog_iret, sizeof(msrprog_iret));
	memcpy(mem + MSRPROG_IRET_ERR, msrprog_iret_err,
	       sizeof(msrprog_iret_err));
	for (v = 0; v < 256; v++) {
		uint8_t *gate = mem + MSRPROG_IDT + v * 16;
		uint64_t to = v == 13 ? MSRPROG_GP :
			      vector_has_error_code(v) ? MSRPROG_IRET_ERR :
			      MSRPROG_IRET;

		memset(gate, 0, 16);
		gate[0] = to & 0xff;
		gate[1] = (to >> 8) & 0xff;
		gate[2] = XVCPU_SETUP_SEL_CODE;
		gate[5] = 0x8e;
	}
}

/* ---- guest state for SET_REGS and SET_SREGS ---- */

void gen_regs(struct rng *r, struct xvcpu_regs *regs)
{
	uint64_t *f = (uint64_t *)regs;
	unsigned int i, n = sizeof(*regs) / 8;

	switch (rng_below(r, 5)) {
	case 0:
		rng_bytes(r, regs, sizeof(*regs));
		return;
	case 1:
		for (i = 0; i < n; i++)
			f[i] = rng_value(r);
		break;
	default:
		*regs = fz.prog_regs;
		for (i = rng_below(r, 4); i > 0; i--)
			f[rng_below(r, n)] = rng_value(r);
		break;
	}
	if (rng_chance(r, 80))
		regs->rflags = RFLAGS_FIXED |
			       (rng_u64(r) & RFLAGS_DEFINED &
				rng_value(r));
}

/* Mutate one field of @s. */
static void mutate_sregs(struct rng *r, struct xvcpu_sregs *s)
{
	struct xvcpu_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	struct xvcpu_segment *g = segs[rng_below(r, ARRAY_SIZE(segs))];
	struct xvcpu_dtable *d = rng_chance(r, 50) ? &s->gdt : &s->idt;
	__u64 *cr[] = { &s->cr0, &s->cr2, &s->cr3, &s->cr4, &s->efer };
	uint64_t v = rng_value(r);

	switch (rng_below(r, 20)) {
	case 0: g->base = v; break;
	case 1: g->limit = v; break;
	case 2: g->selector = v; break;
	case 3: g->type = rng_below(r, 16); break;
	case 4: g->present ^= 1; break;
	case 5: g->dpl = rng_below(r, 4); break;
	case 6: g->db ^= 1; break;
	case 7: g->s ^= 1; break;
	case 8: g->l ^= 1; break;
	case 9: g->g ^= 1; break;
	case 10: g->unusable ^= 1; break;
	case 11: g->avl = v; break;
	case 12: d->base = v; break;
	case 13: d->limit = v; break;
	case 14:
		if (rng_chance(r, 20))
			d->pad[rng_below(r, 3)] = v | 1;
		else
			g->pad = rng_chance(r, 20) ? (v | 1) : 0;
		break;
	case 15:
		if (rng_chance(r, 20))
			s->reserved[rng_below(r, 4)] = v | 1;
		break;
	default:
		/* a control register or EFER: flip a bit, or a boundary */
		if (rng_chance(r, 75))
			*cr[rng_below(r, ARRAY_SIZE(cr))] ^=
				1ULL << rng_below(r, 64);
		else
			*cr[rng_below(r, ARRAY_SIZE(cr))] = v;
		break;
	}
}

void gen_sregs(struct rng *r, struct xvcpu_sregs *s)
{
	const struct xvcpu_sregs *base[] = {
		&fz.sregs_long, &fz.sregs_long, &fz.sregs_real, &fz.sregs_prot,
	};
	unsigned int n;

	switch (rng_below(r, 10)) {
	case 0:
		rng_bytes(r, s, sizeof(*s));
		return;
	case 1:
		memset(s, 0, sizeof(*s));
		break;
	default:
		*s = *base[rng_below(r, ARRAY_SIZE(base))];
		break;
	}
	for (n = rng_below(r, 4); n > 0; n--)
		mutate_sregs(r, s);
}
